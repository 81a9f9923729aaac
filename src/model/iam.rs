//! IAM shapes: the signer's execution role.

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
}
