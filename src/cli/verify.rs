//! `urlguard verify -f FILE...`: proves, with real requests, that each
//! `ProtectedFunctionUrl` of the files is reachable through its
//! distribution and nowhere else (the checks: [`crate::plan::verify`]).
//! Prints one line per URL (or JSON) and exits 0 only when every check of
//! every URL passed. It reads what it needs to find the URLs and writes
//! nothing.

use std::path::PathBuf;

use serde::Serialize;

use super::aws_args::AwsArgs;
use super::output::{self, CommandError, Output};
use crate::aws::{Aws, Ledger, LedgerSummary};
use crate::plan::desired;
use crate::plan::ssm_prefix::SsmPrefix;
use crate::plan::verify::CheckName;
use crate::probe::Prober;
use crate::reconcile::{CheckResult, DeployWait, Engine, Mode, UrlVerification};

/// `verify`'s options.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Manifest files (multi-document YAML), as given to `apply`.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Send every request to HOST:PORT over plain HTTP, keeping the real
    /// host in `Host` (as curl's --connect-to): for a local test bed that
    /// serves the distribution and function URL hosts on one port.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect_to: Option<String>,
    /// Send bodies without `x-amz-content-sha256`, as a client that does
    /// not compute it: behind an origin access control such requests fail
    /// (AWS asks callers to send it), behind the edge signer they pass.
    #[arg(long)]
    pub without_content_sha256: bool,
    /// Region, endpoint and role to assume.
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput<'a> {
    urls: &'a [UrlVerification],
    aws_calls: LedgerSummary,
}

/// Runs `verify`; returns whether every check of every URL passed.
pub async fn run(
    instance: &str,
    ssm_prefix: &SsmPrefix,
    args: &VerifyArgs,
) -> Result<bool, CommandError> {
    let files = output::load(&args.files, "")?;
    let model = desired::build_with(instance, ssm_prefix, &files.distributions, &files.urls);
    let prober = Prober::new(args.connect_to.clone())?;
    let aws = Aws::from_env_with(&args.aws.overrides(), Ledger::new(), None).await;
    let engine = Engine::new(aws.clone(), Mode::Plan, DeployWait::default());
    let results = engine
        .verify(&model, &prober, !args.without_content_sha256)
        .await;
    match args.output {
        Output::Json => {
            let output = JsonOutput {
                urls: &results,
                aws_calls: aws.ledger().summary(),
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Output::Text => print_text(&results),
    }
    Ok(!results.is_empty() && results.iter().all(|r| r.ok) && files.rejected.is_empty())
}

fn print_text(results: &[UrlVerification]) {
    if results.is_empty() {
        println!("no ProtectedFunctionUrl in the files: nothing verified");
    }
    for result in results {
        let verdict = if result.ok { "ok" } else { "FAILED" };
        let detail = result
            .problem
            .clone()
            .unwrap_or_else(|| summary(&result.checks));
        println!(
            "ProtectedFunctionUrl {}/{}: {verdict}: {detail}",
            result.namespace, result.name
        );
        for check in result.checks.iter().filter(|c| !c.ok) {
            let answered = match (check.status, &check.error) {
                (Some(status), _) => format!("answered {status}"),
                (None, Some(error)) => format!("no answer: {error}"),
                (None, None) => "no answer".to_owned(),
            };
            println!(
                "  FAILED {} {} {}: {answered}, wanted {}",
                check.name.as_str(),
                check.method,
                check.url,
                check.name.wanted()
            );
        }
    }
}

/// The three results in a line: `direct 403; through the distribution GET
/// 200, HEAD 200; outside the allowed methods POST 403`, a failed answer
/// marked `(FAILED)`.
fn summary(checks: &[CheckResult]) -> String {
    let part = |name: CheckName, label: &str, with_method: bool| {
        let answers: Vec<String> = checks
            .iter()
            .filter(|c| c.name == name)
            .map(|c| {
                let status = c
                    .status
                    .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
                let mark = if c.ok { "" } else { " (FAILED)" };
                if with_method {
                    format!("{} {status}{mark}", c.method)
                } else {
                    format!("{status}{mark}")
                }
            })
            .collect();
        (!answers.is_empty()).then(|| format!("{label} {}", answers.join(", ")))
    };
    [
        part(CheckName::Direct, "direct", false),
        part(
            CheckName::ThroughDistribution,
            "through the distribution",
            true,
        ),
        part(
            CheckName::MethodRefused,
            "outside the allowed methods",
            true,
        ),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ")
}
