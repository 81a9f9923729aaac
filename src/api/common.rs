//! Schema pieces both kinds share: the deletion policy, AWS region and SSM
//! parameter-name constraints, and the status condition list.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An AWS region name such as `eu-west-1`, `us-gov-west-1` or `cn-north-1`.
pub(crate) const REGION_PATTERN: &str = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$";

/// An SSM parameter name: a path from the root, at most 15 levels
/// (the level count is checked by AWS; the schema bounds length and alphabet).
pub(crate) const SSM_PARAMETER_PATTERN: &str = r"^/[a-zA-Z0-9_.\-/]+$";

/// What happens to what urlguard made in AWS when the resource is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Remove everything urlguard created or changed for this resource.
    #[default]
    Delete,
    /// Keep the function URL config (still on `AWS_IAM`, so nothing opens up)
    /// and the distribution; remove only grants and parameters that would
    /// point at a door that no longer exists.
    Retain,
}

/// The region SSM parameters are written to when none is given: where
/// CloudFront and Lambda@Edge stacks usually look them up.
pub(crate) fn default_ssm_region() -> String {
    "us-east-1".to_owned()
}
