//! `urlguard plan -f FILE...` and `urlguard apply -f FILE...`: read the
//! resources, reconcile them (read-only for `plan`), print one line per
//! resource (or JSON), and exit 0 only when every resource is fine.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::api::{EdgeDistribution, ProtectedFunctionUrl};
use crate::aws::{Aws, LedgerSummary};
use crate::manifest::{self, Loaded, Resource};
use crate::plan::desired;
use crate::reconcile::{DeployWait, Engine, Kind, Mode, ResourceReport};

/// Options shared by `plan` and `apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// Manifest files (multi-document YAML). Namespaces in them are skipped.
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Do not wait for CloudFront to deploy (resources report `Deploying`).
    #[arg(long)]
    pub no_wait: bool,
    /// How often to poll CloudFront while waiting for a deployment.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// Give up waiting for a deployment after this long.
    #[arg(long, value_name = "DURATION", default_value = "45m", value_parser = humantime::parse_duration)]
    pub deploy_timeout: Duration,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per resource and what was done.
    Text,
    /// `{"resources": [...], "awsCalls": {...}}`.
    Json,
}

/// Why the command failed before reconciling.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A file could not be read or parsed.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    /// The JSON output could not be rendered.
    #[error("rendering JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput<'a> {
    resources: &'a [ResourceReport],
    aws_calls: LedgerSummary,
}

/// Runs `plan` or `apply`; returns whether every resource is fine.
pub async fn run(instance: &str, mode: Mode, args: &ApplyArgs) -> Result<bool, ApplyError> {
    let Loaded {
        resources,
        rejected,
    } = manifest::load_files(&args.files)?;
    let mut distributions: Vec<EdgeDistribution> = Vec::new();
    let mut urls: Vec<ProtectedFunctionUrl> = Vec::new();
    for resource in resources {
        match resource {
            Resource::EdgeDistribution(d) => distributions.push(d),
            Resource::ProtectedFunctionUrl(u) => urls.push(u),
        }
    }
    for refused in &rejected {
        eprintln!("error: {}: {}", refused.origin, refused.error);
    }

    let model = desired::build(instance, &distributions, &urls);
    let aws = Aws::from_env().await;
    let wait = DeployWait {
        enabled: !args.no_wait,
        poll_interval: args.poll_interval,
        timeout: args.deploy_timeout,
    };
    let engine = Engine::new(aws.clone(), mode, wait);
    let reports = engine.reconcile(&model).await;

    match args.output {
        Output::Json => {
            let output = JsonOutput {
                resources: &reports,
                aws_calls: aws.ledger().summary(),
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Output::Text => print_text(mode, &reports, &aws.ledger().summary()),
    }
    let all_fine = match mode {
        Mode::Apply => reports.iter().all(|r| r.ready),
        Mode::Plan => !reports.iter().any(ResourceReport::failed),
    };
    Ok(all_fine && rejected.is_empty())
}

fn print_text(mode: Mode, reports: &[ResourceReport], calls: &LedgerSummary) {
    for report in reports {
        let kind = match report.kind {
            Kind::EdgeDistribution => "EdgeDistribution",
            Kind::ProtectedFunctionUrl => "ProtectedFunctionUrl",
        };
        let condition = report.status.ready_condition();
        let state = match (mode, report.ready) {
            (Mode::Apply, true) => "ready".to_owned(),
            _ => condition.map(|c| c.reason.clone()).unwrap_or_default(),
        };
        let detail = match &report.status {
            crate::reconcile::Status::Url(s) if report.ready => {
                s.protected_url.clone().unwrap_or_default()
            }
            crate::reconcile::Status::Distribution(s) if report.ready => {
                s.domain_name.clone().unwrap_or_default()
            }
            _ => condition.map(|c| c.message.clone()).unwrap_or_default(),
        };
        println!(
            "{kind} {}/{}: {state} {detail}",
            report.namespace, report.name
        );
        let verb = if mode == Mode::Plan { "would" } else { "did" };
        if report.actions.is_empty() {
            println!("  {verb}: nothing (in sync)");
        }
        for action in &report.actions {
            println!("  {verb}: {action}");
        }
        for change in &report.changes {
            println!("    {change}");
        }
    }
    println!("AWS calls: {} ({} mutating)", calls.total, calls.mutating);
}
