//! What a leaving URL leaves behind besides its behavior and grants: its SSM
//! parameters (deleted when owned; the distribution's own parameters follow
//! the same rule). Its function URL config is `url_config`'s.

use super::ownership::NotOwned;

/// Whether an existing parameter may be deleted.
pub fn plan_parameter(
    name: &str,
    owner_found: Option<&str>,
    expected_owner: &str,
) -> Result<(), NotOwned> {
    NotOwned::check(format!("SSM parameter {name}"), owner_found, expected_owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_go_only_when_owned() {
        let mine = "urlguard/books/ProtectedFunctionUrl/a";
        assert_eq!(plan_parameter("/p", Some(mine), mine), Ok(()));
        assert!(plan_parameter("/p", None, mine).is_err());
        assert!(plan_parameter("/p", Some("other"), mine).is_err());
    }
}
