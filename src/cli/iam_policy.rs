//! `urlguard iam-policy [--protection P] [--log-bucket NAME]… [-f FILE]…`:
//! prints the least-privilege IAM policy the controller (or the CLI) needs,
//! for the instance given by `--instance`. Log buckets (standard logging
//! needs the bucket's ACL permissions) are named with `--log-bucket` or
//! read from the `EdgeDistribution`s of manifest files with `-f`.
//!
//! `urlguard iam-policy --boundary` prints instead the permissions boundary
//! every signer role carries (`plan::boundary`), which the platform team
//! creates once as `/urlguard/<instance>-signer-boundary`.

use std::path::PathBuf;

use crate::api::Protection;
use crate::aws::permissions::{PolicyOptions, bucket_name, controller_policy, log_buckets_of};
use crate::plan::boundary::boundary_policy;

use super::output::{self, CommandError};

/// `--protection` values, spelled as in the CRD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtectionArg {
    /// Lambda@Edge signer.
    #[value(name = "EdgeSigner")]
    EdgeSigner,
    /// CloudFront origin access control.
    #[value(name = "OriginAccessControl")]
    OriginAccessControl,
}

/// `urlguard iam-policy`'s arguments.
#[derive(Debug, clap::Args)]
pub struct IamPolicyArgs {
    /// Print the permissions boundary of the signer roles instead: create
    /// it as the policy `<instance>-signer-boundary` under the path
    /// `/urlguard/` before the controller creates its first signer.
    #[arg(long, conflicts_with_all = ["protection", "log_buckets", "files"])]
    boundary: bool,
    /// Only what this protection needs (default: both).
    #[arg(long, value_enum)]
    protection: Option<ProtectionArg>,
    /// An S3 bucket distributions log to (`spec.logging.bucketName`):
    /// grants `s3:GetBucketAcl` and `s3:PutBucketAcl` on it, which
    /// CloudFront checks when a distribution enables standard logging.
    /// Repeatable.
    #[arg(long = "log-bucket", value_name = "NAME", value_parser = bucket_name)]
    log_buckets: Vec<String>,
    /// Manifest files whose `EdgeDistribution`s' log buckets are added, as
    /// if each were given with `--log-bucket`. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Prints the policy; `false` (and no policy) when a manifest document was
/// refused, since its log bucket could be missing from the policy.
pub(super) fn print(instance: &str, args: &IamPolicyArgs) -> Result<bool, CommandError> {
    if args.boundary {
        println!(
            "{}",
            serde_json::to_string_pretty(&boundary_policy(instance))?
        );
        return Ok(true);
    }
    let mut log_buckets = args.log_buckets.clone();
    if !args.files.is_empty() {
        let files = output::load(
            &args.files,
            " (no policy printed: its log bucket would be missing)",
        )?;
        if !files.rejected.is_empty() {
            return Ok(false);
        }
        log_buckets.extend(log_buckets_of(&files.distributions));
    }
    let options = PolicyOptions {
        protection: args.protection.map(|p| match p {
            ProtectionArg::EdgeSigner => Protection::EdgeSigner,
            ProtectionArg::OriginAccessControl => Protection::OriginAccessControl,
        }),
        log_buckets,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&controller_policy(instance, &options))?
    );
    Ok(true)
}
