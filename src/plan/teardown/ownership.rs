//! Ownership: every resource that carries tags is deleted only when its
//! owner tag is the expected one; anything else with urlguard's name is left
//! alone and reported as [`NotOwned`]. Function URL configs and `urlguard-...`
//! resource-policy statements carry no tags and are managed by name, as
//! `docs/design.md` ("Names and ownership") says.

/// Something with urlguard's name that urlguard does not own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} is owned by {found}, not {expected}: urlguard leaves it alone; delete it yourself if it is no longer needed"
)]
pub struct NotOwned {
    /// `IAM role X`, `SSM parameter X`, ...
    pub what: String,
    /// The owner tag found (`(no owner tag)` when absent).
    pub found: String,
    /// The owner tag expected.
    pub expected: String,
}

impl NotOwned {
    pub(super) fn check(what: String, found: Option<&str>, expected: &str) -> Result<(), NotOwned> {
        if found == Some(expected) {
            return Ok(());
        }
        Err(NotOwned {
            what,
            found: found.unwrap_or("(no owner tag)").to_owned(),
            expected: expected.to_owned(),
        })
    }
}
