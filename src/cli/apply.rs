//! `urlguard plan -f FILE...` and `urlguard apply -f FILE...`: read the
//! resources, reconcile them (read-only for `plan`, and for objects
//! observed, not managed, under `apply` too), print one line per resource
//! (or JSON), and exit 0 only when every resource is fine: for `apply`,
//! ready (an observed object is ready when AWS matches its spec, and
//! `Drifted` otherwise), for `plan`, not failed.

use std::path::PathBuf;
use std::time::Duration;

use kube::ResourceExt;
use serde::Serialize;

use super::aws_args::AwsArgs;
use super::output::{self, CommandError, Files, JsonResource, Output};
use crate::aws::{Aws, Ledger, LedgerSummary};
use crate::plan::desired;
use crate::plan::ssm_prefix::SsmPrefix;
use crate::reconcile::{DeployWait, Engine, Kind, Mode, Notice, ResourceReport, Status};

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
    /// Region, endpoint and role to assume.
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput<'a> {
    resources: Vec<JsonResource<'a>>,
    aws_calls: LedgerSummary,
}

/// Runs `plan` or `apply`; returns whether every resource is fine.
pub async fn run(
    instance: &str,
    ssm_prefix: &SsmPrefix,
    mode: Mode,
    args: &ApplyArgs,
) -> Result<bool, CommandError> {
    let files = output::load(&args.files, "")?;
    for note in cluster_only(&files) {
        eprintln!("note: {note}");
    }
    let model = desired::build_with(instance, ssm_prefix, &files.distributions, &files.urls);
    let aws = Aws::from_env_with(&args.aws.overrides(), Ledger::new(), None).await;
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
                resources: output::json_resources(&reports),
                aws_calls: aws.ledger().summary(),
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Output::Text => print_text(mode, &reports, &aws.ledger().summary()),
    }
    let all_fine = match mode {
        Mode::Apply => reports.iter().all(ResourceReport::ready),
        Mode::Plan => !reports.iter().any(ResourceReport::failed),
    };
    Ok(all_fine && files.rejected.is_empty())
}

/// What the files ask of a cluster that the CLI leaves out:
/// `spec.configMapExport` names a ConfigMap the controller writes, and the
/// CLI has no cluster. It is said, not refused, so that one manifest serves
/// `kubectl apply` and `urlguard apply` alike.
fn cluster_only(files: &Files) -> Vec<String> {
    let distributions = files
        .distributions
        .iter()
        .filter(|d| d.spec.config_map_export.is_some())
        .map(|d| (Kind::EdgeDistribution, d.namespace(), d.name_any()));
    let urls = files
        .urls
        .iter()
        .filter(|u| u.spec.config_map_export.is_some())
        .map(|u| (Kind::ProtectedFunctionUrl, u.namespace(), u.name_any()));
    distributions
        .chain(urls)
        .map(|(kind, namespace, name)| {
            format!(
                "{kind} {}/{name}: spec.configMapExport is ignored: the CLI has no cluster to write a ConfigMap to (the controller writes it)",
                namespace.unwrap_or_default(),
                kind = kind.as_str()
            )
        })
        .collect()
}

fn print_text(mode: Mode, reports: &[ResourceReport], calls: &LedgerSummary) {
    for report in reports {
        let verdict = &report.verdict;
        let state = match (mode, report.ready()) {
            (Mode::Apply, true) if !report.observed => "ready",
            _ => verdict.reason.as_str(),
        };
        let detail = match &report.found {
            Status::Url(s) if report.ready() => s.protected_url.clone().unwrap_or_default(),
            Status::Distribution(s) if report.ready() => s.domain_name.clone().unwrap_or_default(),
            _ => verdict.message.clone(),
        };
        println!(
            "{} {}/{}: {state} {detail}",
            report.kind.as_str(),
            report.namespace,
            report.name
        );
        let verb = if mode == Mode::Plan || report.observed {
            "would"
        } else {
            "did"
        };
        if report.observed {
            println!(
                "  observed, not managed (spec.managementPolicy: Observe): nothing is written to AWS for it"
            );
        }
        if report.notices.is_empty() && report.actions.is_empty() {
            println!("  {verb}: nothing (in sync)");
        }
        for notice in &report.notices {
            // A finding, not something done or to do.
            let prefix = match notice {
                Notice::Exposed { .. } => "warning",
                _ => verb,
            };
            println!("  {prefix}: {notice}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{EdgeDistribution, ProtectedFunctionUrl};

    #[test]
    fn a_config_map_export_is_noted_as_left_to_the_controller() {
        let url = |name: &str, export: Option<serde_json::Value>| -> ProtectedFunctionUrl {
            let mut spec = serde_json::json!({
                "function": {"name": "f", "region": "eu-west-1"},
                "distributionRef": {"name": "books"},
                "pathPattern": format!("/{name}"),
            });
            if let Some(export) = export {
                spec["configMapExport"] = export;
            }
            serde_json::from_value(serde_json::json!({
                "apiVersion": "urlguard.io/v1alpha1", "kind": "ProtectedFunctionUrl",
                "metadata": {"name": name, "namespace": "books"},
                "spec": spec,
            }))
            .expect("a URL")
        };
        let distribution: EdgeDistribution = serde_json::from_value(serde_json::json!({
            "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
            "metadata": {"name": "books", "namespace": "books"},
            "spec": {"defaultOrigin": {"custom": {"domainName": "app.example.com"}}},
        }))
        .expect("a distribution");
        let files = Files {
            distributions: vec![distribution],
            urls: vec![
                url("get-books", Some(serde_json::json!({}))),
                url("get-book", None),
            ],
            rejected: Vec::new(),
        };
        assert_eq!(
            cluster_only(&files),
            [
                "ProtectedFunctionUrl books/get-books: spec.configMapExport is ignored: the CLI has no cluster to write a ConfigMap to (the controller writes it)"
            ]
        );
    }
}
