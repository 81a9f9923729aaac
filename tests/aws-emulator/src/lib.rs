//! `aws-emulator`: the test-only AWS front door of urlguard's test bed (never
//! shipped). The AWS SDK reaches every service through it with
//! `AWS_ENDPOINT_URL`; it routes by the SigV4 credential scope's service:
//!
//! - CloudFront is emulated in-process, faithfully for what urlguard uses
//!   (see [`cloudfront`](crate::cloudfront) — module docs list what is
//!   emulated and what knowingly is not);
//! - Lambda, SSM, IAM and STS go to moto (pinned 5.2.5), with moto's Lambda
//!   gaps corrected in front of it and Lambda@Edge replica semantics added
//!   (deleting a version CloudFront replicates is refused until a linger
//!   after its last association left), and IAM's quota on a role's inline
//!   policies enforced ([`role_policy_size`](crate::role_policy_size)), and
//!   a role's permissions boundary required to exist
//!   ([`boundary_exists`](crate::boundary_exists));
//! - fault rules fail chosen calls with throttling, 500/503, or a lost
//!   answer after the write; every call is counted per `service:Operation`
//!   and the counts are served at `GET /__emulator/calls`;
//! - AWS's per-account, per-region request-rate quotas (Lambda's
//!   `GetFunction`, `GetPolicy` and the rest of its control plane, SSM
//!   Parameter Store's throughput, and chosen rates for CloudFront, IAM and
//!   STS) are enforced on request, each call over its quota throttled as
//!   its service throttles (see [`rate_quotas`](crate::rate_quotas)); calls
//!   per second per quota are served at `GET /__emulator/rates`;
//! - IAM is enforced for the access keys given an identity policy (see
//!   [`authorize`](crate::authorize)): each of their calls is evaluated
//!   before it reaches CloudFront or moto and refused as AWS refuses it;
//!   other keys are unrestricted;
//! - traffic, routed by `Host` (see [`dataplane`](crate::dataplane)): a
//!   distribution's viewers go through its cache behaviors, the uploaded
//!   origin-request Lambda@Edge code (run by Node) or origin access
//!   control, to function URLs that verify SigV4 and evaluate IAM before a
//!   stand-in function echoes the request. The crate README states the
//!   contract clients rely on.
//!
//! Run in-process with [`Emulator::start`], or as the `aws-emulator` binary.

mod accounts;
mod assumed_roles;
mod authorize;
mod boundary_exists;
mod call_rates;
mod cloudfront;
mod control;
mod dataplane;
mod faults;
mod ids;
mod lambda;
mod ledger;
mod rate_quotas;
mod regions;
mod replicas;
mod reply;
mod role_policies;
mod role_policy_size;
mod route;
mod server;
mod trust_order;
mod upstream;
mod versions;

use std::net::SocketAddr;
use std::time::Duration;

pub use authorize::{
    ANY_RESOURCE, AuthorizationRecord, Decision, PolicyError, evaluate, principal_arn,
    validate_policy,
};
pub use call_rates::RateReport;
pub use control::{CONTROL_PREFIX, ControlClient, ControlError};
pub use faults::{FaultKind, FaultRule, FaultRuleError, RuleReport};
pub use ledger::{CallRecord, CallReport};
pub use rate_quotas::{QuotaRateError, QuotaRates, quota_of};
pub use server::{Emulator, EmulatorHandle};

/// The account moto answers for, and the one CloudFront ARNs carry.
pub const ACCOUNT_ID: &str = "123456789012";

/// How long a new or updated distribution stays `InProgress` by default.
pub const DEFAULT_DEPLOY_TIME: Duration = Duration::from_secs(1);
/// How long an invalidation stays `InProgress` by default.
pub const DEFAULT_INVALIDATION_TIME: Duration = Duration::from_secs(1);
/// How long Lambda@Edge replicas outlive their last association by default.
pub const DEFAULT_REPLICA_LINGER: Duration = Duration::from_secs(5);
/// How long a published Lambda version stays `Pending` by default.
pub const DEFAULT_VERSION_PENDING: Duration = Duration::from_millis(300);

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// moto's base URL, `http://127.0.0.1:PORT`.
    pub moto_endpoint: String,
    /// A distribution is `InProgress` for this long after each create or
    /// update, then `Deployed`.
    pub deploy_time: Duration,
    /// An invalidation is `InProgress` for this long, then `Completed`.
    pub invalidation_time: Duration,
    /// A Lambda@Edge version (and its function) cannot be deleted until this
    /// long after its last association left every distribution.
    pub replica_linger: Duration,
    /// A published Lambda version is `Pending` (and CloudFront refuses to
    /// associate it) for this long, then `Active`.
    pub version_pending: Duration,
    /// Fault rules in force from the first call.
    pub faults: Vec<FaultRule>,
    /// Restricted callers: access key id → identity policy (a JSON IAM
    /// policy document). Every other key is unrestricted.
    pub identities: Vec<(String, serde_json::Value)>,
    /// CloudFront completes a stored config with its defaults, as it reads
    /// back on AWS (see the `cloudfront` module docs); off, a config reads
    /// back exactly as sent.
    pub readback_defaults: bool,
    /// IAM answers list a policy's statements, actions, resources and
    /// principals in another order than written, as IAM may (see
    /// `trust_order`); off, moto's order is relayed.
    pub reorder_policy_lists: bool,
    /// AWS's request-rate quotas enforced from the first call (see
    /// `rate_quotas`; [`QuotaRates::aws`] for AWS's own), or `None`: no
    /// call is throttled for its rate (calls per second are counted
    /// either way).
    pub rate_quotas: Option<QuotaRates>,
}

impl EmulatorConfig {
    /// Loopback on a free port, the default deploy time and replica linger,
    /// no faults, every key unrestricted, AWS's read-back quirks on, rate
    /// quotas not enforced.
    pub fn new(moto_endpoint: &str) -> EmulatorConfig {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            moto_endpoint: moto_endpoint.to_owned(),
            deploy_time: DEFAULT_DEPLOY_TIME,
            invalidation_time: DEFAULT_INVALIDATION_TIME,
            replica_linger: DEFAULT_REPLICA_LINGER,
            version_pending: DEFAULT_VERSION_PENDING,
            faults: Vec::new(),
            identities: Vec::new(),
            readback_defaults: true,
            reorder_policy_lists: true,
            rate_quotas: None,
        }
    }
}

/// The emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Fault(#[from] FaultRuleError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}
