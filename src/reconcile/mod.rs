//! Observe → plan → apply, for every `EdgeDistribution` with its attached
//! `ProtectedFunctionUrl`s. The same engine serves the CLI (`plan`, `apply`)
//! and the Kubernetes controller.
//!
//! State is read back from AWS on every run, never remembered: names are
//! deterministic, the distribution is found by the owner marker in its
//! default origin's id (and proven by its `CallerReference`), the signer
//! version by comparing published versions with the desired configuration.
//! A second run over an unchanged file therefore makes no mutating call, and
//! a run after a crash carries on where the last one stopped.
//!
//! In [`Mode::Plan`] the engine reads but never writes: each phase reports
//! what it would do and hands later phases a stand-in for what the write
//! would have produced.

mod distribution;
pub mod report;
mod url;

use std::time::Duration;

use crate::aws::Aws;
use crate::plan::desired::DesiredModel;
pub use report::{Kind, ResourceReport, Status};

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
    /// Give up (reason `DeployTimeout`) after this long.
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

/// The reconcile engine.
#[derive(Debug, Clone)]
pub struct Engine {
    aws: Aws,
    mode: Mode,
    wait: DeployWait,
}

impl Engine {
    /// An engine over `aws`.
    pub fn new(aws: Aws, mode: Mode, wait: DeployWait) -> Engine {
        Engine { aws, mode, wait }
    }

    /// The adapters, with their call ledger.
    pub fn aws(&self) -> &Aws {
        &self.aws
    }

    fn applies(&self) -> bool {
        self.mode == Mode::Apply
    }

    /// Reconciles every distribution of the model; one report per resource,
    /// rejected URLs included (they cause no AWS call).
    pub async fn reconcile(&self, model: &DesiredModel) -> Vec<ResourceReport> {
        let mut reports: Vec<ResourceReport> = model
            .rejected
            .iter()
            .map(|rejected| {
                url::rejected_report(
                    &rejected.owner,
                    rejected.rejection.reason(),
                    &rejected.rejection.to_string(),
                )
            })
            .collect();
        for desired in &model.distributions {
            reports.extend(distribution::reconcile(self, desired).await);
        }
        reports
    }
}
