//! `urlguard destroy -f FILE...`: tear down what urlguard made for the
//! resources in the files, in order (`docs/design.md`, "Deletion"), and say what
//! is left waiting.
//!
//! Without `--wait` one pass deletes what can go now and lists what waits
//! for AWS: a signer whose Lambda@Edge replicas CloudFront has not removed
//! yet (that takes hours after the last association left), or a disabled
//! distribution still deploying. With `--wait` the command keeps going,
//! progress on standard error, retrying the signer on a growing interval
//! (`--retry-interval`, doubling up to `--retry-max-interval`) until all is
//! gone.
//!
//! A teardown that cannot succeed (a function in a region AWS does not
//! have, access denied, a request AWS refuses as invalid) is tried
//! `--teardown-attempts` times in the run, 1 s apart doubling, then given
//! up: the output says what stays in AWS (`given up:` lines, `givenUp` in
//! JSON) and the exit code is 1. Throttling and 5xx are the SDK's to
//! retry; they never count.
//!
//! Exit codes: 0 when everything urlguard owns for these resources is gone
//! (or kept on purpose, `deletionPolicy: Retain`; what it does not own is
//! listed and left alone); 1 when a resource could not be read or a call
//! failed; 3 when something waits for AWS (run `destroy` again later, or
//! with `--wait`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::aws_args::AwsArgs;
use super::output::{self, CommandError, JsonResource, Output};
use crate::aws::{Aws, Ledger, LedgerSummary};
use crate::plan::teardown;
use crate::reconcile::{DeployWait, Engine, Kind, Mode, Reason, ResourceReport, RetryPolicy};

/// The exit code of a teardown that waits for AWS.
pub const EXIT_WAITING: u8 = 3;

/// Options of `destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    /// Manifest files (multi-document YAML). Namespaces in them are skipped.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Keep going until everything is gone, however long CloudFront takes
    /// to remove the signer's Lambda@Edge replicas (hours).
    #[arg(long)]
    pub wait: bool,
    /// The first interval between attempts to delete a signer that is still
    /// replicated; it doubles after each refusal.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub retry_interval: Duration,
    /// The longest interval between attempts.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub retry_max_interval: Duration,
    /// How often to poll CloudFront while the disabled distribution deploys.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Stop waiting for the disabled distribution to deploy after this long
    /// (it then counts as waiting).
    #[arg(long, value_name = "DURATION", default_value = "45m", value_parser = humantime::parse_duration)]
    pub deploy_timeout: Duration,
    /// Passes tried, within this run, while the teardown cannot succeed
    /// (unknown region, access denied, invalid request) before it is given
    /// up and what stays in AWS is listed.
    #[arg(long, value_name = "N", default_value_t = teardown::DEFAULT_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..))]
    pub teardown_attempts: u32,
    /// Region, endpoint and role to assume.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The wait before the second pass of a stuck teardown; it doubles.
const STUCK_FIRST_WAIT: Duration = Duration::from_secs(1);

/// How a `destroy` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestroyOutcome {
    /// Everything urlguard owns for the resources is gone (or retained).
    Done,
    /// Something waits for AWS: run again later.
    Waiting,
    /// A resource could not be read, or a call failed.
    Failed,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Waiting<'a> {
    kind: Kind,
    namespace: &'a str,
    name: &'a str,
    reason: Reason,
    message: &'a str,
}

/// A teardown given up after its attempts, and what it leaves.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GivenUp {
    attempts: u32,
    left_in_aws: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput<'a> {
    resources: Vec<JsonResource<'a>>,
    waiting: Vec<Waiting<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_up: Option<GivenUp>,
    aws_calls: LedgerSummary,
}

/// Runs `destroy`.
pub async fn run(instance: &str, args: &DestroyArgs) -> Result<DestroyOutcome, CommandError> {
    let files = output::load(&args.files, " (not destroyed)")?;
    let model = teardown::build(instance, &files.distributions, &files.urls);
    let aws = Aws::from_env_with(&args.aws.overrides(), Ledger::new(), None).await;
    let wait = DeployWait {
        enabled: true,
        poll_interval: args.poll_interval,
        timeout: args.deploy_timeout,
    };
    let retry = RetryPolicy {
        first: args.retry_interval,
        cap: args.retry_max_interval.max(args.retry_interval),
    };
    let engine = Engine::new(aws.clone(), Mode::Apply, wait).with_retry_policy(retry);
    let mut attempts = 0;
    let (reports, given_up) = loop {
        let reports = if args.wait {
            engine.destroy_until_gone(&model).await
        } else {
            engine.destroy(&model).await
        };
        if !ResourceReport::stuck_pass(&reports) {
            break (reports, None);
        }
        match teardown::after_stuck(attempts, args.teardown_attempts, STUCK_FIRST_WAIT) {
            teardown::AfterStuck::TryAgain { attempt, after } => {
                attempts = attempt;
                eprintln!(
                    "teardown cannot succeed (attempt {attempt} of {}); trying again in {}s",
                    args.teardown_attempts,
                    after.as_secs()
                );
                tokio::time::sleep(after).await;
            }
            teardown::AfterStuck::GiveUp { attempts } => {
                let left_in_aws = ResourceReport::left_in_aws(&reports);
                break (
                    reports,
                    Some(GivenUp {
                        attempts,
                        left_in_aws,
                    }),
                );
            }
        }
    };

    let waiting: Vec<Waiting<'_>> = reports
        .iter()
        .filter(|r| r.waiting())
        .map(|r| Waiting {
            kind: r.kind,
            namespace: &r.namespace,
            name: &r.name,
            reason: r.verdict.reason,
            message: &r.verdict.message,
        })
        .collect();
    let summary = aws.ledger().summary();
    match args.output {
        Output::Json => {
            let output = JsonOutput {
                resources: output::json_resources(&reports),
                waiting,
                given_up,
                aws_calls: summary,
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Output::Text => print_text(&reports, &waiting, given_up.as_ref(), &summary),
    }
    Ok(outcome(&reports, !files.rejected.is_empty()))
}

/// The outcome of a teardown's reports.
fn outcome(reports: &[ResourceReport], had_rejected: bool) -> DestroyOutcome {
    if had_rejected || reports.iter().any(ResourceReport::failed) {
        DestroyOutcome::Failed
    } else if reports.iter().any(ResourceReport::waiting) {
        DestroyOutcome::Waiting
    } else {
        DestroyOutcome::Done
    }
}

fn print_text(
    reports: &[ResourceReport],
    waiting: &[Waiting<'_>],
    given_up: Option<&GivenUp>,
    calls: &LedgerSummary,
) {
    for report in reports {
        let verdict = &report.verdict;
        let state = match verdict.reason {
            Reason::Deleted => "deleted",
            Reason::Retained => "retained",
            Reason::Released => "released",
            other => other.as_str(),
        };
        println!(
            "{} {}/{}: {state}: {}",
            report.kind.as_str(),
            report.namespace,
            report.name,
            verdict.message
        );
        for notice in &report.notices {
            println!("  note: {notice}");
        }
        if report.observed {
            println!("  did: nothing (observed, not managed: no AWS call)");
        } else if report.actions.is_empty() {
            println!("  did: nothing (nothing left to delete)");
        }
        for action in &report.actions {
            println!("  did: {action}");
        }
    }
    for item in waiting {
        println!(
            "waiting: {} {}/{} ({}): {}",
            item.kind.as_str(),
            item.namespace,
            item.name,
            item.reason,
            item.message
        );
    }
    if !waiting.is_empty() {
        println!(
            "not finished: run `urlguard destroy` again later, or with --wait to keep going until all is gone"
        );
    }
    if let Some(given_up) = given_up {
        println!(
            "given up after {} attempts that cannot succeed; left in AWS (delete by hand if they exist):",
            given_up.attempts
        );
        for what in &given_up.left_in_aws {
            println!("  left: {what}");
        }
    }
    println!("AWS calls: {} ({} mutating)", calls.total, calls.mutating);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::EdgeDistributionStatus;
    use crate::reconcile::{Pass, Status, Verdict};

    fn report(reason: Reason) -> ResourceReport {
        ResourceReport {
            kind: Kind::EdgeDistribution,
            namespace: "books".into(),
            name: "books".into(),
            pass: Pass::Teardown,
            verdict: Verdict::new(reason, "m"),
            found: Status::Distribution(EdgeDistributionStatus::default()),
            notices: Vec::new(),
            actions: Vec::new(),
            changes: Vec::new(),
            observed: reason == Reason::Released,
        }
    }

    #[test]
    fn outcomes_map_to_the_documented_exit_codes() {
        let done = [
            report(Reason::Deleted),
            report(Reason::Retained),
            report(Reason::Released),
        ];
        assert_eq!(outcome(&done, false), DestroyOutcome::Done);
        assert_eq!(outcome(&done, true), DestroyOutcome::Failed);
        let waiting = [
            report(Reason::Deleted),
            report(Reason::WaitingForEdgeReplicas),
        ];
        assert_eq!(outcome(&waiting, false), DestroyOutcome::Waiting);
        let deploying = [report(Reason::WaitingForDeployment)];
        assert_eq!(outcome(&deploying, false), DestroyOutcome::Waiting);
        let failed = [
            report(Reason::WaitingForEdgeReplicas),
            report(Reason::AwsError),
        ];
        assert_eq!(outcome(&failed, false), DestroyOutcome::Failed);
    }
}
