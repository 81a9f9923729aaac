//! `urlguard iam-policy [--protection EdgeSigner|OriginAccessControl]`:
//! prints the least-privilege IAM policy the controller (or the CLI) needs,
//! for the instance given by `--instance`.

use crate::api::Protection;
use crate::aws::permissions::controller_policy;

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

pub(super) fn print(
    instance: &str,
    protection: Option<ProtectionArg>,
) -> Result<(), serde_json::Error> {
    let protection = protection.map(|p| match p {
        ProtectionArg::EdgeSigner => Protection::EdgeSigner,
        ProtectionArg::OriginAccessControl => Protection::OriginAccessControl,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&controller_policy(instance, protection))?
    );
    Ok(())
}
