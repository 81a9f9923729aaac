//! IAM shapes: the signer's execution role, and the name of the permissions
//! boundary every signer role urlguard creates carries.
//!
//! The boundary is a customer managed policy the platform team creates once
//! per instance (`urlguard iam-policy --boundary` prints it) under the path
//! [`BOUNDARY_PATH`]. The controller's own policy lets it create roles and
//! write their inline policies only with that boundary attached, so even a
//! stolen controller credential cannot make a role that does more than a
//! signer needs.

/// The path of the boundary policy (and part of its ARN).
pub const BOUNDARY_PATH: &str = "/urlguard/";

/// The boundary policy's name for `instance`: `<instance>-signer-boundary`.
pub fn signer_boundary_name(instance: &str) -> String {
    format!("{instance}-signer-boundary")
}

/// The boundary policy's ARN in `account`:
/// `arn:aws:iam::<account>:policy/urlguard/<instance>-signer-boundary`.
pub fn signer_boundary_arn(account: &str, instance: &str) -> String {
    format!(
        "arn:aws:iam::{account}:policy{BOUNDARY_PATH}{}",
        signer_boundary_name(instance)
    )
}

/// The signer role as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleObserved {
    /// The role ARN.
    pub arn: String,
    /// The trust policy, parsed.
    pub trust_policy: serde_json::Value,
    /// The owner tag's value, if any.
    pub owner: Option<String>,
    /// urlguard's inline policy, parsed, if present.
    pub invoke_policy: Option<serde_json::Value>,
    /// The ARN of the role's permissions boundary, if it has one.
    pub permissions_boundary: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_lives_under_the_urlguard_path() {
        assert_eq!(
            signer_boundary_arn("123456789012", "urlguard"),
            "arn:aws:iam::123456789012:policy/urlguard/urlguard-signer-boundary"
        );
    }
}
