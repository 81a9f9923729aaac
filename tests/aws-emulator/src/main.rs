//! The `aws-emulator` binary (test-only, never shipped): a thin CLI over the
//! library. Prints `listening on http://ADDR` as its first stdout line, then
//! serves until SIGTERM or SIGINT. Logs every call and injected fault to
//! stderr (`RUST_LOG`-style levels are not parsed; use `--quiet` to log
//! warnings only).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use aws_emulator::{Emulator, EmulatorConfig, FaultRule, QuotaRates};
use clap::Parser;

/// CloudFront emulated in-process; Lambda, SSM, IAM and STS forwarded to
/// moto with its gaps corrected; fault injection; wire counts at
/// GET /__emulator/calls.
#[derive(Debug, Parser)]
#[command(name = "aws-emulator", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// moto's base URL, e.g. http://127.0.0.1:5000.
    #[arg(long)]
    moto: String,
    /// Seconds a distribution stays InProgress after a create or update.
    #[arg(long, default_value_t = aws_emulator::DEFAULT_DEPLOY_TIME.as_secs_f64())]
    deploy_seconds: f64,
    /// Seconds an invalidation stays InProgress before it is Completed.
    #[arg(long, default_value_t = aws_emulator::DEFAULT_INVALIDATION_TIME.as_secs_f64())]
    invalidation_seconds: f64,
    /// Seconds a Lambda@Edge version stays undeletable after its last
    /// association left.
    #[arg(long, default_value_t = aws_emulator::DEFAULT_REPLICA_LINGER.as_secs_f64())]
    replica_linger_seconds: f64,
    /// Seconds a published Lambda version stays Pending.
    #[arg(long, default_value_t = aws_emulator::DEFAULT_VERSION_PENDING.as_secs_f64())]
    version_pending_seconds: f64,
    /// A fault rule, SERVICE:OPERATION:KIND:count=N or
    /// SERVICE:OPERATION:KIND:fraction=F[:seed=S][:count=N]; KIND is
    /// throttle, http500, http503, drop_after_write or slow_answer. Repeatable.
    #[arg(long = "fault", value_name = "RULE")]
    faults: Vec<String>,
    /// A JSON file of fault rules (an array, or {"rules": [...]}).
    #[arg(long, value_name = "PATH")]
    faults_file: Option<PathBuf>,
    /// Restrict the access key KEY to the identity policy in FILE (a JSON
    /// IAM policy document); its calls are then evaluated as IAM would.
    /// Repeatable; other keys stay unrestricted.
    #[arg(long = "iam-policy", value_name = "KEY=FILE")]
    iam_policies: Vec<String>,
    /// Complete stored CloudFront configs with CloudFront's read-back
    /// defaults (true, as AWS does) or return them exactly as sent (false).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    readback_defaults: bool,
    /// Answer IAM policies with their lists (statements, actions,
    /// resources, principals) reordered, as IAM may (true), or in the order
    /// written (false).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    reorder_policy_lists: bool,
    /// Enforce AWS's per-account, per-region request-rate quotas: a call
    /// over its quota is throttled as its service throttles.
    #[arg(long)]
    enforce_rate_quotas: bool,
    /// With --enforce-rate-quotas, QUOTA=RATE (requests per second) instead
    /// of AWS's rate; QUOTA is lambda, lambda:GetFunction, lambda:GetPolicy,
    /// ssm, cloudfront, iam or sts. Repeatable.
    #[arg(
        long = "rate-quota",
        value_name = "QUOTA=RATE",
        requires = "enforce_rate_quotas"
    )]
    rate_quotas: Vec<String>,
    /// Log warnings (injected faults, throttles) only, not every call.
    #[arg(long)]
    quiet: bool,
}

fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|e| format!("--{flag} {value}: {e}"))
}

fn config(cli: &Cli) -> Result<EmulatorConfig, String> {
    let mut faults = Vec::new();
    if let Some(path) = &cli.faults_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        faults.extend(
            FaultRule::list_from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?,
        );
    }
    for spec in &cli.faults {
        faults.push(spec.parse::<FaultRule>().map_err(|e| e.to_string())?);
    }
    let mut identities = Vec::new();
    for spec in &cli.iam_policies {
        let (key, path) = spec
            .split_once('=')
            .filter(|(k, p)| !k.is_empty() && !p.is_empty())
            .ok_or_else(|| format!("--iam-policy {spec}: expected KEY=FILE"))?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
        let policy: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        aws_emulator::validate_policy(&policy).map_err(|e| format!("{path}: {e}"))?;
        identities.push((key.to_owned(), policy));
    }
    let rate_quotas = if cli.enforce_rate_quotas {
        let rates = cli
            .rate_quotas
            .iter()
            .try_fold(QuotaRates::aws(), |rates, spec| rates.with_spec(spec))
            .map_err(|e| format!("--rate-quota: {e}"))?;
        Some(rates)
    } else {
        None
    };
    Ok(EmulatorConfig {
        listen: cli.listen,
        moto_endpoint: cli.moto.clone(),
        deploy_time: seconds(cli.deploy_seconds, "deploy-seconds")?,
        invalidation_time: seconds(cli.invalidation_seconds, "invalidation-seconds")?,
        replica_linger: seconds(cli.replica_linger_seconds, "replica-linger-seconds")?,
        version_pending: seconds(cli.version_pending_seconds, "version-pending-seconds")?,
        faults,
        identities,
        readback_defaults: cli.readback_defaults,
        reorder_policy_lists: cli.reorder_policy_lists,
        rate_quotas,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(if cli.quiet {
            tracing::Level::WARN
        } else {
            tracing::Level::INFO
        })
        .with_target(false)
        .init();
    let config = match config(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("aws-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let handle = match Emulator::start(config).await {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("aws-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if emulator_http::announce(&handle.endpoint()).is_err() {
        return ExitCode::FAILURE;
    }
    emulator_http::stop_signal().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
