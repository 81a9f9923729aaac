//! The engine's state: the adapters, whether it writes, how long it waits
//! for CloudFront, and its memory of Lambda@Edge replica waits; and the
//! observing engine a pass uses for objects it must not write for. The passes
//! themselves (`Engine::reconcile`, `Engine::destroy`) are implemented in
//! the module root, which runs the phases; every phase takes the engine
//! from here, so no phase depends on the root.

use std::time::Duration;

use super::admissions::Admissions;
use super::replica_waits::ReplicaWaits;
use crate::aws::Aws;
use crate::plan::teardown::RetryPolicy;

/// Whether the engine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read, then write what differs.
    Apply,
    /// Read only; report what `Apply` would do.
    Plan,
}

/// How long to wait for CloudFront to deploy a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployWait {
    /// Wait at all; without waiting, a deploying distribution reports
    /// `Ready=False`, reason `Deploying`.
    pub enabled: bool,
    /// Time between two `GetDistribution` polls.
    pub poll_interval: Duration,
    /// Stop waiting after this long (the resource then reports
    /// `Deploying`, and the next pass looks again).
    pub timeout: Duration,
}

impl Default for DeployWait {
    fn default() -> Self {
        DeployWait {
            enabled: true,
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(45 * 60),
        }
    }
}

/// The reconcile engine. Cloning shares the adapters, the memory of
/// replica waits and the answers of function checks not yet used.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(super) aws: Aws,
    mode: Mode,
    pub(super) wait: DeployWait,
    pub(super) retry: RetryPolicy,
    pub(super) waits: ReplicaWaits,
    pub(super) admissions: Admissions,
}

impl Engine {
    /// An engine over `aws`.
    pub fn new(aws: Aws, mode: Mode, wait: DeployWait) -> Engine {
        Engine {
            aws,
            mode,
            wait,
            retry: RetryPolicy::default(),
            waits: ReplicaWaits::default(),
            admissions: Admissions::default(),
        }
    }

    /// The same engine asking Lambda again, after a "replicated function"
    /// refusal, on this schedule (default: 5 minutes doubling to an hour).
    #[must_use]
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Engine {
        self.retry = retry;
        self
    }

    /// The adapters, with their call ledger.
    pub fn aws(&self) -> &Aws {
        &self.aws
    }

    /// Whether the engine writes (`Mode::Apply`).
    pub(super) fn applies(&self) -> bool {
        self.mode == Mode::Apply
    }

    /// The same engine for objects observed, not managed
    /// (`spec.managementPolicy: Observe`): it plans ([`Mode::Plan`]) and
    /// its adapters refuse every write ([`Aws::read_only`]), so nothing a
    /// pass over such an object attempts reaches AWS, whatever the plan
    /// says. It shares the ledger, the replica-wait memory and the
    /// function checks.
    pub(super) fn observing(&self) -> Engine {
        Engine {
            aws: self.aws.read_only(OBSERVING),
            mode: Mode::Plan,
            ..self.clone()
        }
    }
}

/// Why an observing engine's adapters send no write.
const OBSERVING: &str = "the object is observed (spec.managementPolicy: Observe): urlguard writes nothing to AWS for it";
