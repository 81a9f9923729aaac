//! What a leaving URL leaves behind besides its behavior and grants: its SSM
//! parameters (deleted when owned; the distribution's own parameters follow
//! the same rule) and its function URL config (deleted or kept, as its
//! `deletionPolicy` says; a kept one stays on `AWS_IAM`, so nothing opens
//! up).

use super::ownership::NotOwned;
use crate::api::DeletionPolicy;
use crate::model::lambda::UrlConfig;

/// Whether an existing parameter may be deleted.
pub fn plan_parameter(
    name: &str,
    owner_found: Option<&str>,
    expected_owner: &str,
) -> Result<(), NotOwned> {
    NotOwned::check(format!("SSM parameter {name}"), owner_found, expected_owner)
}

/// What to do with a leaving URL's function URL config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlConfigStep {
    /// There is none.
    Absent,
    /// Delete it (`deletionPolicy: Delete`).
    Delete,
    /// Keep it as it is (`deletionPolicy: Retain`).
    Keep,
}

/// Plans a leaving URL's config.
pub fn plan_url_config(observed: Option<&UrlConfig>, policy: DeletionPolicy) -> UrlConfigStep {
    match (observed, policy) {
        (None, _) => UrlConfigStep::Absent,
        (Some(_), DeletionPolicy::Delete) => UrlConfigStep::Delete,
        (Some(_), DeletionPolicy::Retain) => UrlConfigStep::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_url_configs() {
        let mine = "urlguard/books/ProtectedFunctionUrl/a";
        assert_eq!(plan_parameter("/p", Some(mine), mine), Ok(()));
        assert!(plan_parameter("/p", None, mine).is_err());
        assert!(plan_parameter("/p", Some("other"), mine).is_err());

        let url = UrlConfig {
            function_url: "https://x.lambda-url.eu-west-1.on.aws/".into(),
            auth_type: crate::model::lambda::AuthType::AwsIam,
            invoke_mode: crate::api::InvokeMode::Buffered,
            cors: None,
        };
        assert_eq!(
            plan_url_config(Some(&url), DeletionPolicy::Delete),
            UrlConfigStep::Delete
        );
        assert_eq!(
            plan_url_config(Some(&url), DeletionPolicy::Retain),
            UrlConfigStep::Keep
        );
        assert_eq!(
            plan_url_config(None, DeletionPolicy::Delete),
            UrlConfigStep::Absent
        );
    }
}
