//! Schema pieces both kinds share: the deletion and management policies,
//! AWS region, SSM parameter-name and CloudFront policy-id constraints,
//! the status condition list, and the record of the SSM parameters
//! urlguard wrote.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An AWS region name such as `eu-west-1`, `us-gov-west-1` or `cn-north-1`.
pub(crate) const REGION_PATTERN: &str = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$";

/// A CloudFront cache, origin request or response headers policy id: a
/// lower-case UUID, for AWS's managed policies and for custom ones alike
/// (CloudFront generates both).
pub(crate) const POLICY_ID_PATTERN: &str =
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/// An SSM parameter name: a path from the root of 1 to 15 levels (SSM's
/// hierarchy limit), each a non-empty run of SSM's alphabet.
pub(crate) const SSM_PARAMETER_PATTERN: &str = r"^(/[a-zA-Z0-9_.\-]+){1,15}$";

/// The longest SSM parameter name the schema accepts: SSM limits the
/// parameter's whole ARN to 1,011 characters, and the longest ARN prefix
/// is `arn:aws-us-gov:ssm:` (19), a region of the schema's 32 characters,
/// `:<12-digit account>:parameter` (23).
pub(crate) const SSM_PARAMETER_MAX: u32 = 1011 - 19 - 32 - 23;

/// The CEL rule refusing the names SSM reserves: a name may not begin with
/// `aws` or `ssm`, in any case (`/aws/service/...` holds AWS's public
/// parameters).
pub(crate) const SSM_RESERVED_RULE: &str =
    "!self.lowerAscii().startsWith('/aws') && !self.lowerAscii().startsWith('/ssm')";

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

/// Whether urlguard changes AWS for a resource or only watches it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ManagementPolicy {
    /// Make AWS match the spec, and keep it matching.
    #[default]
    Manage,
    /// Read AWS as a reconcile would and report how it differs from the
    /// spec, but never write to AWS; deleting the resource leaves AWS as
    /// it is.
    Observe,
}

/// The region SSM parameters are written to when none is given: where
/// CloudFront and Lambda@Edge stacks usually look them up.
pub(crate) fn default_ssm_region() -> String {
    "us-east-1".to_owned()
}

/// An SSM parameter urlguard wrote for an object, and where. The status
/// keeps them so that a parameter renamed, moved to another region or no
/// longer exported is deleted (when it carries the object's owner tag)
/// instead of left behind.
#[derive(
    Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub struct ExportedParameter {
    /// The parameter's region.
    pub region: String,
    /// The parameter's name.
    pub name: String,
}
