//! Observe → plan → apply, for every `EdgeDistribution` with its attached
//! `ProtectedFunctionUrl`s. The same engine serves the CLI (`plan`, `apply`)
//! and the Kubernetes controller.
//!
//! State is read back from AWS on every run, never remembered: names are
//! deterministic, the distribution is found by the id its status last
//! reported or else by the owner marker in its default origin's id (either
//! way proven by its `CallerReference`), the signer
//! version by comparing published versions with the desired configuration.
//! A second run over an unchanged file therefore makes no mutating call, and
//! a run after a crash carries on where the last one stopped.
//!
//! In [`Mode::Plan`] the engine reads but never writes: each phase reports
//! what it would do and hands later phases a stand-in for what the write
//! would have produced.
//!
//! [`Engine::destroy`] tears down what a [`TeardownModel`] says leaves
//! (see `teardown`); the engine remembers, in memory, which signer
//! functions and versions wait for CloudFront to remove their edge
//! replicas, so repeated calls honour the growing retry interval.
//!
//! What a pass says is typed ([`outcome`], [`report`]); the drivers turn it
//! into conditions, events, metric labels and text. Every pass runs in a
//! `tracing` span naming the resource, so the AWS calls' log lines beneath
//! it say which object they were for. The design, in order, is in
//! `docs/design.md`.

mod admissions;
mod adoption;
mod distribution;
mod engine;
mod exports;
mod function;
mod invalidation;
mod observe;
mod observed;
pub mod outcome;
mod problem;
mod published;
mod replica_waits;
pub mod report;
mod signer;
mod span;
mod teardown;
mod url;
mod verify;

use std::time::{Duration, SystemTime};

use tracing::Instrument;

use crate::plan::desired::{DesiredModel, DesiredUrl};
pub use crate::plan::teardown::{RetryPolicy, TeardownModel};
pub use engine::{DeployWait, Engine, Mode};
pub use invalidation::{InvalidateError, Invalidated};
pub use outcome::{Class, ConditionType, EventReason, Notice, Reason, Stuck, Verdict};
pub use report::{Kind, Pass, ResourceReport, Status};
pub use verify::{CheckResult, UrlVerification};

impl Engine {
    /// Reconciles every distribution of the model; one report per resource,
    /// rejected distributions and URLs included (they cause no AWS call).
    pub async fn reconcile(&self, model: &DesiredModel) -> Vec<ResourceReport> {
        let distributions = model.rejected_distributions.iter().map(|rejected| {
            url::rejected_report(Kind::EdgeDistribution, &rejected.owner, &rejected.rejection)
        });
        let urls = model.rejected.iter().map(|rejected| {
            url::rejected_report(
                Kind::ProtectedFunctionUrl,
                &rejected.owner,
                &rejected.rejection,
            )
        });
        let mut reports: Vec<ResourceReport> = distributions.chain(urls).collect();
        for desired in &model.distributions {
            let span = span::pass("reconcile", Kind::EdgeDistribution, &desired.owner);
            // Boxed: the phases' state machine is large, and a deep caller
            // (a controller task, a test) should not carry it on its stack.
            reports.extend(
                Box::pin(distribution::reconcile(self, desired))
                    .instrument(span)
                    .await,
            );
        }
        reports
    }

    /// Whether urlguard may manage the function `url` names (in its
    /// account, opted in by its owner for this instance and namespace),
    /// by reads only: `None` when it may, otherwise the URL's report
    /// saying why (`FunctionNotOptedIn`, `FunctionInOtherAccount`,
    /// `FunctionNotFound`, an AWS error). The controller asks before it
    /// puts its finalizer on a URL that never attached.
    pub async fn refusal(&self, url: &DesiredUrl) -> Option<ResourceReport> {
        let span = span::pass("check", Kind::ProtectedFunctionUrl, &url.owner);
        match function::manageable(self, url).instrument(span).await {
            Ok(found) => {
                // The pass the finalizer triggers may use this answer.
                self.admissions
                    .admitted(url, found, tokio::time::Instant::now().into_std());
                None
            }
            Err(problem) => Some(url::refused_report(&url.owner, &problem)),
        }
    }

    /// One teardown pass over what leaves: deletes what can go now, in
    /// order, and reports per resource where its teardown stands (finished,
    /// waiting for AWS, or failed). Idempotent: run it again until nothing waits.
    pub async fn destroy(&self, model: &TeardownModel) -> Vec<ResourceReport> {
        Box::pin(teardown::destroy(self, model)).await
    }

    /// When a teardown that waits for Lambda@Edge replicas should next ask
    /// Lambda again (the earliest due attempt after now), if any waits.
    pub fn next_teardown_attempt(&self) -> Option<SystemTime> {
        self.waits.next_attempt_after(SystemTime::now())
    }

    /// Whether CloudFront has finished deploying distribution `id`, by
    /// one `GetDistribution` and nothing else (`None`: it is gone).
    pub async fn deployed(&self, id: &str) -> Result<Option<bool>, crate::aws::AwsError> {
        observe::deployed(self, id).await
    }

    /// The interval between two polls of a deploying distribution.
    pub fn poll_interval(&self) -> Duration {
        self.wait.poll_interval
    }

    /// Runs [`Engine::destroy`] until nothing waits for AWS any more (or
    /// something failed), sleeping until the next attempt is due; progress
    /// goes to the log.
    pub async fn destroy_until_gone(&self, model: &TeardownModel) -> Vec<ResourceReport> {
        loop {
            let reports = self.destroy(model).await;
            let waiting: Vec<String> = reports
                .iter()
                .filter(|r| r.waiting())
                .map(|r| format!("{}/{}", r.namespace, r.name))
                .collect();
            if waiting.is_empty() || !self.applies() || reports.iter().any(ResourceReport::failed) {
                return reports;
            }
            let now = SystemTime::now();
            let poll = now + self.wait.poll_interval;
            let deploying = reports
                .iter()
                .any(|r| r.verdict.reason == Reason::WaitingForDeployment);
            let next = match self.waits.next_attempt_after(now) {
                Some(at) if !deploying => at,
                Some(at) => at.min(poll),
                None => poll,
            };
            let delay = next
                .duration_since(now)
                .unwrap_or_default()
                .max(Duration::from_millis(50));
            tracing::info!(
                waiting = %waiting.join(", "),
                next_attempt_in_seconds = delay.as_secs_f64().round(),
                "waiting for CloudFront to remove Lambda@Edge replicas"
            );
            tokio::time::sleep(delay).await;
        }
    }
}
