//! Thin adapters over the AWS SDK for Rust, one per service. This is the only
//! module that imports SDK types: callers speak the shapes of
//! [`crate::model`].
//!
//! [`Aws`] builds one SDK config from the environment (so `AWS_ENDPOINT_URL`,
//! profiles, IRSA and Pod Identity work as in every AWS tool), one client per
//! service and region on first use, reused afterwards, with retries and
//! backoff on throttling and 5xx. Every call is recorded in the [`Ledger`]:
//! service, operation, mutating or read, outcome.
//!
//! Decisions written down here:
//! - Retries are the SDK's standard mode (6 attempts, exponential backoff
//!   with jitter from 200 ms up to 20 s); the ledger counts one logical call
//!   per request however many attempts it took. [`Aws::from_env`] sets them
//!   (overriding `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE`); [`Aws::from_sdk_config`]
//!   keeps whatever the given config says, so tests can turn retries off.
//! - IAM, CloudFront and STS are called in the configured region, or
//!   `us-east-1` when none is configured; the SDK resolves the global
//!   endpoints from it.
//! - Adapters map "absent" answers to `None` / `Ok(())` where the signature
//!   says so; the ledger still records them with their error code.

mod call;
mod cloudfront;
mod error;
mod gate;
mod iam;
mod lambda;
mod ledger;
pub mod permissions;
pub mod rate_limit;
mod ssm;
mod sts;
mod throttle_observer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use call::Door;
pub use cloudfront::{CloudFront, DistributionSummary};
pub use error::AwsError;
pub use gate::{GateClosed, WriteGate};
pub use iam::Iam;
pub use lambda::Lambda;
pub use ledger::{CallHook, CallObserver, CallRecord, Ledger, LedgerSummary, Outcome, PendingCall};
pub use rate_limit::{RateEvent, RateLimiter, RateLimits, RateObserver, RateSetting};
pub use ssm::Ssm;
use throttle_observer::ThrottleObserver;

use crate::model::EDGE_REGION;

/// The SDK's retry policy for every client urlguard builds from the
/// environment: standard mode, 6 attempts, backoff from 200 ms to 20 s.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

/// Timeouts: a connection within 5 s, an attempt within 60 s (the signer's
/// `CreateFunction` uploads its zip), so a hung connection is retried
/// instead of stalling a reconcile.
fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build()
}

/// Settings that take precedence over the environment's AWS configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The default region (functions name their own; CloudFront, IAM and
    /// the signer live in `us-east-1` whatever this says).
    pub region: Option<String>,
    /// One endpoint for every service, such as a local test bed.
    pub endpoint_url: Option<String>,
    /// A role to assume with the credentials the standard chain finds (the
    /// pod's IRSA or Pod Identity role, say): urlguard then works in the
    /// role's account. The SDK's credentials provider calls STS for it and
    /// refreshes the session; those calls are credential plumbing, not
    /// urlguard's, so they are not in the ledger.
    pub assume_role_arn: Option<String>,
    /// Rates that replace the defaults of [`RateLimits`] (half of AWS's
    /// documented quotas).
    pub rate_limits: Vec<RateSetting>,
}

async fn load_config(overrides: &Overrides) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Ok(name) = AppName::new("urlguard") {
        loader = loader.app_name(name);
    }
    if let Some(region) = &overrides.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &overrides.endpoint_url {
        loader = loader.endpoint_url(endpoint.clone());
    }
    let base = loader.load().await;
    let Some(role_arn) = &overrides.assume_role_arn else {
        return base;
    };
    let assumed = AssumeRoleProvider::builder(role_arn.clone())
        .session_name("urlguard")
        .configure(&base)
        .build()
        .await;
    base.into_builder()
        .credentials_provider(SharedCredentialsProvider::new(assumed))
        .build()
}

/// The entry point to AWS: a base SDK config, clients built once per service
/// and region, the call ledger. Cloning shares all of it.
#[derive(Clone)]
pub struct Aws {
    inner: Arc<Inner>,
    /// Why these adapters send no write, when they are read-only.
    read_only: Option<Arc<str>>,
}

struct Inner {
    config: SdkConfig,
    ledger: Ledger,
    limiter: RateLimiter,
    lambda: ClientCache<aws_sdk_lambda::Client>,
    ssm: ClientCache<aws_sdk_ssm::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
    cloudfront: OnceLock<aws_sdk_cloudfront::Client>,
    distribution_listing: Arc<tokio::sync::Mutex<()>>,
    distribution_unmanaged: cloudfront::UnmanagedById,
    sts: OnceLock<aws_sdk_sts::Client>,
    account_id: tokio::sync::OnceCell<String>,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aws")
            .field("region", &self.inner.config.region())
            .field("endpoint_url", &self.inner.config.endpoint_url())
            .field("account_id", &self.inner.account_id.get())
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl Aws {
    /// The standard AWS configuration chain (`AWS_REGION`, `AWS_PROFILE`,
    /// `AWS_ENDPOINT_URL`, web identity / IRSA, Pod Identity, IMDS), with
    /// urlguard's retries and timeouts.
    pub async fn from_env() -> Aws {
        Aws::from_sdk_config(load_config(&Overrides::default()).await)
    }

    /// The standard chain with a region and endpoint given on the command
    /// line taking precedence, recording into `ledger`, held to the rate
    /// limits (waits and throttles reported to `rate_observer`).
    pub async fn from_env_with(
        overrides: &Overrides,
        ledger: Ledger,
        rate_observer: Option<RateObserver>,
    ) -> Aws {
        let limiter = RateLimiter::new(RateLimits::with(&overrides.rate_limits), rate_observer);
        Aws::with(load_config(overrides).await, ledger, limiter)
    }

    /// [`Aws::from_env_with`] held to `limiter`, which other adapters may
    /// share: AWS's quotas are per account, so the controller gives the
    /// adapters of each account one limiter.
    pub async fn from_env_limited(
        overrides: &Overrides,
        ledger: Ledger,
        limiter: RateLimiter,
    ) -> Aws {
        Aws::with(load_config(overrides).await, ledger, limiter)
    }

    /// Adapters over exactly this SDK config (tests point it at a local
    /// endpoint), without rate limits.
    pub fn from_sdk_config(config: SdkConfig) -> Aws {
        Aws::with(
            config,
            Ledger::new(),
            RateLimiter::new(RateLimits::unlimited(), None),
        )
    }

    /// Adapters over this SDK config, held to `limiter`.
    pub fn from_sdk_config_limited(config: SdkConfig, limiter: RateLimiter) -> Aws {
        Aws::with(config, Ledger::new(), limiter)
    }

    fn with(config: SdkConfig, ledger: Ledger, limiter: RateLimiter) -> Aws {
        Aws {
            inner: Arc::new(Inner {
                config,
                ledger,
                limiter,
                lambda: ClientCache::default(),
                ssm: ClientCache::default(),
                iam: OnceLock::new(),
                cloudfront: OnceLock::new(),
                distribution_listing: Arc::default(),
                distribution_unmanaged: cloudfront::UnmanagedById::default(),
                sts: OnceLock::new(),
                account_id: tokio::sync::OnceCell::new(),
            }),
            read_only: None,
        }
    }

    /// The same adapters (clients, ledger, rate limits), refusing every
    /// write before it is sent ([`AwsError::Refused`] with `why`); reads go
    /// through as before. The engine observes objects of
    /// `spec.managementPolicy: Observe` through these.
    #[must_use]
    pub fn read_only(&self, why: &str) -> Aws {
        Aws {
            inner: Arc::clone(&self.inner),
            read_only: Some(Arc::from(why)),
        }
    }

    /// Every call made through these adapters.
    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Lambda in one region.
    pub fn lambda(&self, region: &str) -> Lambda {
        let client = self.inner.lambda.get_or_insert(region, || {
            let config = aws_sdk_lambda::config::Builder::from(&self.inner.config)
                .region(Region::new(region.to_owned()))
                .interceptor(self.throttle_observer(lambda::SERVICE, region))
                .build();
            aws_sdk_lambda::Client::from_conf(config)
        });
        Lambda::new(client, self.door(region))
    }

    /// SSM Parameter Store in one region.
    pub fn ssm(&self, region: &str) -> Ssm {
        let client = self.inner.ssm.get_or_insert(region, || {
            let config = aws_sdk_ssm::config::Builder::from(&self.inner.config)
                .region(Region::new(region.to_owned()))
                .interceptor(self.throttle_observer(ssm::SERVICE, region))
                .build();
            aws_sdk_ssm::Client::from_conf(config)
        });
        Ssm::new(client, self.door(region))
    }

    /// IAM (global).
    pub fn iam(&self) -> Iam {
        let client = self.inner.iam.get_or_init(|| {
            let config = aws_sdk_iam::config::Builder::from(&self.inner.config)
                .region(self.global_region())
                .interceptor(self.throttle_observer(iam::SERVICE, self.global_region().as_ref()))
                .build();
            aws_sdk_iam::Client::from_conf(config)
        });
        Iam::new(client.clone(), self.door(self.global_region().as_ref()))
    }

    /// CloudFront (global).
    pub fn cloudfront(&self) -> CloudFront {
        let client = self.inner.cloudfront.get_or_init(|| {
            let config = aws_sdk_cloudfront::config::Builder::from(&self.inner.config)
                .region(self.global_region())
                .interceptor(
                    self.throttle_observer(cloudfront::SERVICE, self.global_region().as_ref()),
                )
                .build();
            aws_sdk_cloudfront::Client::from_conf(config)
        });
        CloudFront::new(
            client.clone(),
            self.door(self.global_region().as_ref()),
            self.inner.distribution_listing.clone(),
            self.inner.distribution_unmanaged.clone(),
        )
    }

    /// The account the credentials belong to (STS `GetCallerIdentity`, asked
    /// once and remembered; a failure is not remembered).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let client = self.inner.sts.get_or_init(|| {
            let config = aws_sdk_sts::config::Builder::from(&self.inner.config)
                .region(self.global_region())
                .interceptor(self.throttle_observer(sts::SERVICE, self.global_region().as_ref()))
                .build();
            aws_sdk_sts::Client::from_conf(config)
        });
        let door = self.door(self.global_region().as_ref());
        self.inner
            .account_id
            .get_or_try_init(|| sts::caller_account(client, &door))
            .await
            .cloned()
    }

    /// The door of an adapter in `region`.
    fn door(&self, region: &str) -> Door {
        Door::new(
            self.inner.ledger.clone(),
            self.inner.limiter.clone(),
            region,
        )
        .read_only(self.read_only.clone())
    }

    /// The interceptor that reports a client's throttled attempts.
    fn throttle_observer(&self, service: &'static str, region: &str) -> ThrottleObserver {
        ThrottleObserver::new(self.inner.limiter.clone(), service, region)
    }

    /// The region for global services: the configured one, else `us-east-1`.
    fn global_region(&self) -> Region {
        self.inner
            .config
            .region()
            .cloned()
            .unwrap_or_else(|| Region::from_static(EDGE_REGION))
    }
}

/// Clients of one service by region, built on first use.
struct ClientCache<C> {
    clients: Mutex<HashMap<String, C>>,
}

impl<C> Default for ClientCache<C> {
    fn default() -> Self {
        ClientCache {
            clients: Mutex::new(HashMap::new()),
        }
    }
}

impl<C: Clone> ClientCache<C> {
    fn get_or_insert(&self, region: &str, build: impl FnOnce() -> C) -> C {
        // A panic while building a client cannot leave a half-inserted map.
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(region) {
            return client.clone();
        }
        let client = build();
        clients.insert(region.to_owned(), client.clone());
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> Aws {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        Aws::from_sdk_config(config)
    }

    #[test]
    fn clients_are_built_once_per_region_and_shared_by_clones() {
        let aws = offline();
        let _ = aws.lambda("eu-west-1");
        let _ = aws.lambda("eu-west-1");
        let _ = aws.clone().lambda("us-east-1");
        let _ = aws.ssm("us-east-1");
        let count = |cache: &ClientCache<aws_sdk_lambda::Client>| {
            cache.clients.lock().map(|c| c.len()).unwrap_or_default()
        };
        assert_eq!(count(&aws.inner.lambda), 2);
        assert_eq!(aws.lambda("eu-west-1").region(), "eu-west-1");
        assert_eq!(aws.global_region().as_ref(), "eu-west-1");
    }

    #[test]
    fn global_services_default_to_us_east_1() {
        let aws = Aws::from_sdk_config(SdkConfig::builder().build());
        assert_eq!(aws.global_region().as_ref(), "us-east-1");
    }

    #[test]
    fn the_retry_policy_is_standard_with_six_attempts() {
        let retry = retry_config();
        assert_eq!(retry.max_attempts(), 6);
        assert_eq!(retry.initial_backoff(), Duration::from_millis(200));
        assert_eq!(retry.max_backoff(), Duration::from_secs(20));
    }
}
