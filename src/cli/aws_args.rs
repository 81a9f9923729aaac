//! The AWS options every command that reaches AWS takes (`plan`, `apply`,
//! `destroy`, `controller`): they take precedence over the standard
//! configuration chain, which supplies the rest.

use crate::aws::{Overrides, RateSetting};

/// Region, endpoint and role to assume.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// The AWS region for what has no region of its own (overrides AWS_REGION).
    #[arg(long)]
    pub aws_region: Option<String>,
    /// One endpoint for every AWS service, such as a local test bed
    /// (overrides AWS_ENDPOINT_URL).
    #[arg(long)]
    pub aws_endpoint_url: Option<String>,
    /// Assume this IAM role (with the credentials the standard chain finds:
    /// a profile, the pod's IRSA or Pod Identity role) and manage AWS in its
    /// account, with its permissions only. The session is refreshed as it
    /// expires, so a teardown that waits hours keeps working.
    #[arg(long, env = "URLGUARD_AWS_ASSUME_ROLE_ARN")]
    pub aws_assume_role_arn: Option<String>,
    /// Hold a quota to this many requests per second, replacing the
    /// default (half of what AWS documents; 0 lifts the limit):
    /// `SERVICE=RATE` for a service's shared quota, `SERVICE:OPERATION=RATE`
    /// for an operation with its own (lambda:GetFunction, lambda:GetPolicy).
    /// Repeatable. Defaults: lambda:GetFunction=50, lambda:GetPolicy=7.5,
    /// lambda=7.5, ssm=20, cloudfront=5, iam=5, sts=20.
    #[arg(long = "aws-rate-limit", value_name = "SERVICE[:OPERATION]=RATE")]
    pub aws_rate_limits: Vec<RateSetting>,
}

impl AwsArgs {
    /// The options as overrides of the standard chain.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            region: self.aws_region.clone(),
            endpoint_url: self.aws_endpoint_url.clone(),
            assume_role_arn: self.aws_assume_role_arn.clone(),
            rate_limits: self.aws_rate_limits.clone(),
        }
    }
}
