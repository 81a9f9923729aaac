//! One reconcile engine per AWS account: a namespace whose annotation
//! `urlguard.io/aws-role-arn` the cluster admin allowed
//! (`plan::accounts`) is reconciled with adapters that assume that role;
//! every other namespace with the controller's own credentials. Engines
//! are built on first use and kept, one per role: the SDK's assume-role
//! provider caches the role's session and renews it before it expires
//! (the same plumbing as `--aws-assume-role-arn`). AWS's request quotas
//! are per account, so the adapters of one account share one rate limiter;
//! their calls and waits are counted under the metric label `account`.
//!
//! The annotation is read from the Namespace at every reconcile (one GET):
//! a changed annotation takes effect at the object's next reconcile, and
//! no watch of every Namespace is held.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, Client};
use tokio::sync::Mutex;

use super::metrics::Metrics;
use crate::aws::{Aws, Ledger, Overrides, RateLimiter, RateLimits, WriteGate};
use crate::plan::accounts::{Account, AllowedRoles, ROLE_ANNOTATION, Refused};
use crate::reconcile::{DeployWait, Engine, Mode, RetryPolicy};

/// How an engine is built, whatever its account.
pub struct EngineSettings {
    /// Region, endpoint, `--aws-assume-role-arn`, rate limits.
    pub overrides: Overrides,
    /// Counts every call, per account.
    pub metrics: Metrics,
    /// Asked by every AWS write.
    pub gate: WriteGate,
    /// How a reconcile waits for CloudFront (it does not: it requeues).
    pub wait: DeployWait,
    /// When to ask Lambda again to delete a signer with edge replicas.
    pub replica_retry: RetryPolicy,
}

/// Why no engine was chosen for a namespace.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The namespace names a role the admin did not allow.
    #[error("{0}")]
    Refused(Refused),
    /// The Namespace could not be read.
    #[error("reading the namespace's {ROLE_ANNOTATION} annotation: {0}")]
    Kube(#[from] kube::Error),
}

/// The engines of every account in use.
pub struct Accounts {
    allowed: AllowedRoles,
    settings: EngineSettings,
    default: Engine,
    built: Mutex<Built>,
}

/// Engines by role ARN, and the rate limiter of each account.
#[derive(Default)]
struct Built {
    engines: HashMap<String, Engine>,
    limiters: HashMap<String, RateLimiter>,
}

impl Accounts {
    /// The default engine now; the others on first use.
    pub async fn new(allowed: AllowedRoles, settings: EngineSettings) -> Accounts {
        let default = build(&settings, &Account::Default, limiter(&settings, "default")).await;
        Accounts {
            allowed,
            settings,
            default,
            built: Mutex::default(),
        }
    }

    /// The engine of `namespace`'s account, after reading its annotation.
    pub async fn engine_for(
        &self,
        client: &Client,
        namespace: &str,
    ) -> Result<Engine, AccountError> {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let metadata = namespaces.get_metadata(namespace).await?.metadata;
        let annotation = metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(ROLE_ANNOTATION))
            .map(String::as_str);
        let account = self
            .allowed
            .resolve(namespace, annotation)
            .map_err(AccountError::Refused)?;
        Ok(self.engine(&account).await)
    }

    /// The engine of `account`, built on first use.
    async fn engine(&self, account: &Account) -> Engine {
        let Account::Role { arn, account: id } = account else {
            return self.default.clone();
        };
        // Held while building, so two reconciles of a new account build
        // it once.
        let mut built = self.built.lock().await;
        if let Some(engine) = built.engines.get(arn) {
            return engine.clone();
        }
        let limiter = built
            .limiters
            .entry(id.clone())
            .or_insert_with(|| limiter(&self.settings, id))
            .clone();
        let engine = build(&self.settings, account, limiter).await;
        tracing::info!(role = %arn, account = %id, "built the AWS adapters of a namespace's role");
        built.engines.insert(arn.clone(), engine.clone());
        engine
    }
}

/// A rate limiter for one account, its waits counted under its label.
fn limiter(settings: &EngineSettings, label: &str) -> RateLimiter {
    RateLimiter::new(
        RateLimits::with(&settings.overrides.rate_limits),
        Some(settings.metrics.rate_observer(label)),
    )
}

/// An engine working in `account`: the namespace's role replaces
/// `--aws-assume-role-arn`, assumed with the standard chain's credentials.
async fn build(settings: &EngineSettings, account: &Account, limiter: RateLimiter) -> Engine {
    let mut overrides = settings.overrides.clone();
    if let Account::Role { arn, .. } = account {
        overrides.assume_role_arn = Some(arn.clone());
    }
    let ledger = Ledger::observed(settings.metrics.aws_observer(account.label()))
        .with_gate(settings.gate.clone());
    let aws = Aws::from_env_limited(&overrides, ledger, limiter).await;
    Engine::new(aws, Mode::Apply, settings.wait).with_retry_policy(settings.replica_retry)
}
