//! `urlguard invalidate -f FILE --paths /a --paths /b`: one ad-hoc
//! invalidation of an applied distribution, waited for unless `--no-wait`;
//! prints the invalidation's id (JSON with `-o json`).
//!
//! The revision is `--revision` when given: the same `CallerReference` a
//! `spec.invalidation` of that revision uses, so running the command again
//! (or applying that revision) never invalidates twice. Without it, the
//! revision is `cli-<unix seconds>-<hash of the paths>`: a new
//! invalidation per run, and a retry within the same second finds it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::aws_args::AwsArgs;
use super::output::{self, CommandError, Output};
use crate::api::{Invalidation, InvalidationStatus};
use crate::aws::{Aws, Ledger, LedgerSummary};
use crate::plan::desired;
use crate::plan::invalidation::{InvalidationInputError, check_input};
use crate::plan::ssm_prefix::SsmPrefix;
use crate::reconcile::{DeployWait, Engine, InvalidateError, Mode};

/// Options of `invalidate`.
#[derive(Debug, clap::Args)]
pub struct InvalidateArgs {
    /// Manifest files holding the EdgeDistribution (applied before).
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The EdgeDistribution's name, when the files hold more than one.
    #[arg(long)]
    pub name: Option<String>,
    /// A path to invalidate, such as `/index.html` or `/assets/*`.
    /// Repeatable.
    #[arg(long = "paths", value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Names the invalidation: the same revision never invalidates twice.
    /// Default: `cli-<unix seconds>-<hash of the paths>`.
    #[arg(long)]
    pub revision: Option<String>,
    /// Print the id as soon as CloudFront accepted the invalidation.
    #[arg(long)]
    pub no_wait: bool,
    /// How often to poll CloudFront while waiting.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Give up waiting after this long (the id is printed, status
    /// `InProgress`).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Region, endpoint and role to assume.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Why `invalidate` could not run.
#[derive(Debug, thiserror::Error)]
pub enum InvalidateCommandError {
    /// The files could not be read.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// Bad `--paths` or `--revision`.
    #[error(transparent)]
    Input(#[from] InvalidationInputError),
    /// No EdgeDistribution, or more than one without `--name`.
    #[error("{0}")]
    Which(String),
    /// CloudFront did not invalidate.
    #[error(transparent)]
    Invalidate(#[from] InvalidateError),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput {
    namespace: String,
    name: String,
    distribution_id: String,
    invalidation: InvalidationStatus,
    created: bool,
    aws_calls: LedgerSummary,
}

/// Runs `invalidate`; returns whether the invalidation completed (or, with
/// `--no-wait`, was accepted).
pub async fn run(
    instance: &str,
    ssm_prefix: &SsmPrefix,
    args: &InvalidateArgs,
) -> Result<bool, InvalidateCommandError> {
    let revision = args
        .revision
        .clone()
        .unwrap_or_else(|| default_revision(&args.paths, SystemTime::now()));
    check_input(&args.paths, &revision)?;
    let files = output::load(&args.files, "")?;
    let model = desired::build_with(instance, ssm_prefix, &files.distributions, &[]);
    let mut candidates = model
        .distributions
        .iter()
        .filter(|d| args.name.as_ref().is_none_or(|name| *name == d.owner.name));
    let target = match (candidates.next(), candidates.next()) {
        (Some(one), None) => one,
        (None, _) => {
            return Err(InvalidateCommandError::Which(match &args.name {
                Some(name) => format!("--name: the files hold no EdgeDistribution {name}"),
                None => "the files hold no EdgeDistribution".to_owned(),
            }));
        }
        (Some(_), Some(_)) => {
            return Err(InvalidateCommandError::Which(
                "the files hold several EdgeDistributions: choose one with --name".to_owned(),
            ));
        }
    };
    let aws = Aws::from_env_with(&args.aws.overrides(), Ledger::new(), None).await;
    let wait = DeployWait {
        enabled: !args.no_wait,
        poll_interval: args.poll_interval,
        timeout: args.timeout,
    };
    let engine = Engine::new(aws.clone(), Mode::Apply, wait);
    let invalidation = Invalidation {
        paths: args.paths.clone(),
        revision,
    };
    let done = engine.invalidate(target, &invalidation).await?;
    let status = done.status.status.clone().unwrap_or_default();
    let finished = args.no_wait || done.status.status.as_deref() == Some("Completed");
    match args.output {
        Output::Json => {
            let output = JsonOutput {
                namespace: target.owner.namespace.clone(),
                name: target.owner.name.clone(),
                distribution_id: done.distribution_id,
                invalidation: done.status,
                created: done.created,
                aws_calls: aws.ledger().summary(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&output).map_err(CommandError::from)?
            );
        }
        Output::Text => {
            let id = done.status.id.unwrap_or_default();
            let how = if done.created { "created" } else { "found" };
            eprintln!(
                "EdgeDistribution {}/{}: invalidation {id} on {} {how} for revision {}: {status}",
                target.owner.namespace,
                target.owner.name,
                done.distribution_id,
                done.status.revision
            );
            println!("{id}");
        }
    }
    Ok(finished)
}

/// `cli-<unix seconds>-<12 hex digits of the SHA-256 of the paths>`.
fn default_revision(paths: &[String], now: SystemTime) -> String {
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let digest = Sha256::digest(paths.join("\n").as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("cli-{seconds}-{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_revision_is_per_second_and_paths() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = default_revision(&["/a".to_owned()], at);
        assert_eq!(a, default_revision(&["/a".to_owned()], at));
        assert!(a.starts_with("cli-1700000000-") && a.len() == 27, "{a}");
        assert_ne!(a, default_revision(&["/b".to_owned()], at));
        assert_ne!(
            a,
            default_revision(&["/a".to_owned()], at + Duration::from_secs(1))
        );
    }
}
