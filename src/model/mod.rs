//! The domain model shared by `plan`, `aws` and `reconcile`: small, plain
//! shapes of the AWS state urlguard manages (what it wants and what it
//! observed), free of AWS SDK types so that planning stays pure and testable.
//!
//! The `aws` adapters translate between these shapes and the SDK; `plan`
//! compares them; [`policy`] reads the policy documents both meet into
//! them; nothing here performs I/O.

pub mod cloudfront;
pub mod iam;
pub mod lambda;
pub mod names;
pub mod policy;
pub mod ssm;

/// The tag key every AWS resource urlguard creates carries.
pub const OWNER_TAG_KEY: &str = "urlguard.io/owner";

/// The tag a function's owner sets to let a urlguard instance manage the
/// function's URL config and grants: `<instance>/<namespace>` or
/// `<instance>/*`. urlguard reads it and never writes it.
pub const OPT_IN_TAG_KEY: &str = "urlguard.io/allow";

/// The region of CloudFront's control plane, Lambda@Edge functions, their
/// roles' management, and ACM certificates for CloudFront.
pub const EDGE_REGION: &str = "us-east-1";
