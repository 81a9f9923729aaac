//! `urlguard controller`: the flags and environment of the Kubernetes
//! controller (see `crate::controller`), turned into its configuration.

use std::net::SocketAddr;
use std::time::Duration;

use super::aws_args::AwsArgs;
use crate::controller::{self, ControllerError, LeaseSettings, Timing};
use crate::plan::accounts::AllowedRoles;
use crate::plan::ssm_prefix::SsmPrefix;
use crate::reconcile::RetryPolicy;

/// Options of `controller`.
#[derive(Debug, clap::Args)]
pub struct ControllerArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "URLGUARD_WATCH_NAMESPACE")]
    pub namespace: Option<String>,
    /// Where to serve /metrics, /healthz and /readyz.
    #[arg(long, env = "URLGUARD_METRICS_ADDRESS", default_value = "0.0.0.0:8080")]
    pub metrics_address: SocketAddr,
    /// Elect a leader among replicas with a coordination.k8s.io Lease.
    #[arg(long, env = "URLGUARD_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    /// The Lease's name (default: `<instance>-controller`).
    #[arg(long)]
    pub lease_name: Option<String>,
    /// The Lease's namespace (in a pod: its own namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// This replica's identity, in the Lease and in events.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// How long a leader keeps the Lease without renewing it; another
    /// replica takes over within this time when the leader dies.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,
    /// How long before the Lease expires the leader renews it.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub lease_grace: Duration,
    /// Region, endpoint and role to assume.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How soon to look again at a distribution CloudFront is deploying
    /// (one `GetDistribution`); the interval doubles.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// The longest interval between two polls of a deploying distribution.
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub poll_max_interval: Duration,
    /// How long to wait before retrying a failed object; it doubles, with
    /// jitter, per object, until the object succeeds.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub error_retry_interval: Duration,
    /// The longest interval between two retries of a failed object.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub error_retry_max_interval: Duration,
    /// How often at least to compare AWS with every resource and repair
    /// drift; with many objects the resync budget makes it longer
    /// (`urlguard_resync_interval_seconds` says how long).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub resync_interval: Duration,
    /// The first interval between attempts to delete a signer whose
    /// Lambda@Edge replicas CloudFront has not removed yet; it doubles.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub retry_interval: Duration,
    /// The longest interval between such attempts.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub retry_max_interval: Duration,
    /// A teardown that cannot succeed (the function's region does not
    /// exist, access is denied, AWS refuses the request as invalid) is
    /// given up after this many attempts, spread from
    /// --error-retry-interval doubling; a Warning event says what stays in
    /// AWS. Throttling, 5xx and waits for AWS never count.
    #[arg(long, default_value_t = crate::plan::teardown::DEFAULT_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..))]
    pub teardown_attempts: u32,
    /// Allows a namespace to name the IAM role its objects are reconciled
    /// with (annotation `urlguard.io/aws-role-arn`): `NAMESPACE=ROLE_ARN`,
    /// or `NAMESPACE=ACCOUNT_ID` for any role of that account; NAMESPACE
    /// may be `*`. Repeat the flag, or separate entries with commas. A
    /// namespace naming a role no entry allows is refused
    /// (`AccountNotAllowed`).
    #[arg(
        long = "aws-namespace-role",
        env = "URLGUARD_AWS_NAMESPACE_ROLES",
        value_delimiter = ','
    )]
    pub aws_namespace_roles: Vec<String>,
    /// Changes arriving within this window are reconciled together.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub debounce: Duration,
    /// At most this many reconciles of one kind at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: u16,
}

/// Runs the controller until it is stopped.
pub async fn run(
    instance: &str,
    ssm_prefix: &SsmPrefix,
    args: &ControllerArgs,
) -> Result<(), ControllerError> {
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| format!("{instance}-{}", std::process::id()));
    let lease = args.leader_election.then(|| LeaseSettings {
        name: args
            .lease_name
            .clone()
            .unwrap_or_else(|| format!("{instance}-controller")),
        namespace: args.lease_namespace.clone(),
        identity: identity.clone(),
        duration: args.lease_duration,
        grace: args.lease_grace,
    });
    let config = controller::Config {
        instance: instance.to_owned(),
        ssm_prefix: ssm_prefix.clone(),
        namespace: args.namespace.clone(),
        metrics_address: args.metrics_address,
        lease,
        identity,
        aws: args.aws.overrides(),
        allowed_roles: AllowedRoles::parse(&args.aws_namespace_roles)
            .map_err(|error| ControllerError::Config(error.to_string()))?,
        timing: Timing {
            deploying: args.poll_interval,
            deploying_max: args.poll_max_interval,
            after_error: args.error_retry_interval,
            after_error_max: args.error_retry_max_interval,
            resync: args.resync_interval,
            teardown_attempts: args.teardown_attempts,
        },
        replica_retry: RetryPolicy {
            first: args.retry_interval,
            cap: args.retry_max_interval.max(args.retry_interval),
        },
        debounce: args.debounce,
        concurrency: args.concurrency,
    };
    controller::run(config).await
}
