//! What the controller exposes over HTTP: Prometheus metrics at `/metrics`
//! (reconciles, errors and durations per kind; AWS calls per service,
//! operation and outcome; waits for the client-side rate limits and
//! throttled attempts per operation; objects waiting for Lambda@Edge replicas;
//! leadership), `/healthz` (the process serves) and `/readyz` (it reached
//! the Kubernetes API and found both CRDs; it does not wait for the lease,
//! so a follower is ready too and a rollout can proceed).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::aws::{CallObserver, CallRecord, Outcome, RateEvent, RateObserver};
use crate::reconcile::Kind;

/// The metrics label of a reconcile's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Done, or on its way (requeued to look again).
    Ok,
    /// A teardown waits for AWS.
    Waiting,
    /// Failed; retried after the error interval.
    Error,
}

impl Label {
    /// The label's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::Ok => "ok",
            Label::Waiting => "waiting",
            Label::Error => "error",
        }
    }
}

/// Labels of per-kind metrics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct KindLabels {
    /// `EdgeDistribution` or `ProtectedFunctionUrl`.
    pub kind: &'static str,
}

/// Labels of a reconcile's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The kind.
    pub kind: &'static str,
    /// `ok`, `waiting` (a teardown waits for AWS) or `error`
    /// ([`Label`]).
    pub outcome: &'static str,
}

/// Labels of an AWS call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct AwsCallLabels {
    /// The account id of a namespace's role, or `default` (the
    /// controller's own credentials).
    pub account: String,
    /// `lambda`, `cloudfront`, ...
    pub service: &'static str,
    /// The API operation.
    pub operation: &'static str,
    /// `ok` or the error code.
    pub outcome: String,
}

/// Labels of an AWS operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct AwsOperationLabels {
    /// The account id of a namespace's role, or `default`.
    pub account: String,
    /// `lambda`, `cloudfront`, ...
    pub service: &'static str,
    /// The API operation.
    pub operation: String,
}

/// The controller's metrics. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    reconciles: Family<OutcomeLabels, Counter>,
    errors: Family<KindLabels, Counter>,
    durations: Family<KindLabels, Histogram>,
    aws_calls: Family<AwsCallLabels, Counter>,
    rate_waits: Family<AwsOperationLabels, Counter>,
    rate_wait_seconds: Family<AwsOperationLabels, Counter<f64, AtomicU64>>,
    throttled: Family<AwsOperationLabels, Counter>,
    waiting: Gauge,
    waiting_objects: Arc<Mutex<BTreeSet<String>>>,
    leader: Gauge,
    resync_interval: Gauge<f64, AtomicU64>,
    ready: Arc<AtomicBool>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("urlguard");
        let reconciles = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and outcome",
            reconciles.clone(),
        );
        let errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "reconcile_errors",
            "Reconciles that failed (Kubernetes or AWS errors, failed teardowns)",
            errors.clone(),
        );
        let durations = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 14))
        });
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconcile",
            durations.clone(),
        );
        let aws_calls = Family::<AwsCallLabels, Counter>::default();
        registry.register(
            "aws_calls",
            "AWS API calls by service, operation and outcome (SDK retries inside one call are not counted)",
            aws_calls.clone(),
        );
        let rate_waits = Family::<AwsOperationLabels, Counter>::default();
        registry.register(
            "aws_rate_limit_waits",
            "AWS calls that waited for a client-side rate limit, by service and operation",
            rate_waits.clone(),
        );
        let rate_wait_seconds = Family::<AwsOperationLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "aws_rate_limit_wait_seconds",
            "Time AWS calls spent waiting for a client-side rate limit",
            rate_wait_seconds.clone(),
        );
        let throttled = Family::<AwsOperationLabels, Counter>::default();
        registry.register(
            "aws_throttled",
            "AWS attempts answered with throttling (SDK retries included); each slows the rate limit down",
            throttled.clone(),
        );
        let waiting = Gauge::default();
        registry.register(
            "objects_waiting_for_edge_replicas",
            "Objects being deleted that wait for CloudFront to remove Lambda@Edge replicas",
            waiting.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the lease and reconciles",
            leader.clone(),
        );
        let resync_interval = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "resync_interval_seconds",
            "How long drift can go unseen: the interval between two resyncs of an object, grown with the object count to stay within the resync budget",
            resync_interval.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            reconciles,
            errors,
            durations,
            aws_calls,
            rate_waits,
            rate_wait_seconds,
            throttled,
            waiting,
            waiting_objects: Arc::default(),
            leader,
            resync_interval,
            ready: Arc::default(),
        }
    }

    /// The observer that counts every AWS call of the ledger of `account`'s
    /// adapters.
    pub fn aws_observer(&self, account: &str) -> CallObserver {
        let calls = self.aws_calls.clone();
        let account = account.to_owned();
        Arc::new(move |record: &CallRecord| {
            let outcome = match &record.outcome {
                Outcome::Ok => "ok".to_owned(),
                Outcome::Error(code) => code.clone(),
            };
            calls
                .get_or_create(&AwsCallLabels {
                    account: account.clone(),
                    service: record.service,
                    operation: record.operation,
                    outcome,
                })
                .inc();
        })
    }

    /// The observer of `account`'s AWS rate limiter: waits and throttled
    /// attempts.
    pub fn rate_observer(&self, account: &str) -> RateObserver {
        let account = account.to_owned();
        let (waits, seconds, throttled) = (
            self.rate_waits.clone(),
            self.rate_wait_seconds.clone(),
            self.throttled.clone(),
        );
        Arc::new(move |event: &RateEvent| match event {
            RateEvent::Waited {
                service,
                operation,
                waited,
            } => {
                let labels = AwsOperationLabels {
                    account: account.clone(),
                    service,
                    operation: operation.clone(),
                };
                waits.get_or_create(&labels).inc();
                seconds.get_or_create(&labels).inc_by(waited.as_secs_f64());
            }
            RateEvent::Throttled { service, operation } => {
                throttled
                    .get_or_create(&AwsOperationLabels {
                        account: account.clone(),
                        service,
                        operation: operation.clone(),
                    })
                    .inc();
            }
        })
    }

    /// Counts one reconcile.
    pub fn reconciled(&self, kind: Kind, outcome: Label, took: Duration) {
        let kind = kind.as_str();
        self.reconciles
            .get_or_create(&OutcomeLabels {
                kind,
                outcome: outcome.as_str(),
            })
            .inc();
        if outcome == Label::Error {
            self.errors.get_or_create(&KindLabels { kind }).inc();
        }
        self.durations
            .get_or_create(&KindLabels { kind })
            .observe(took.as_secs_f64());
    }

    /// Marks an object as waiting (or no longer waiting) for replicas.
    pub fn set_waiting(&self, object: &str, waiting: bool) {
        let mut objects = self
            .waiting_objects
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if waiting {
            objects.insert(object.to_owned());
        } else {
            objects.remove(object);
        }
        self.waiting
            .set(i64::try_from(objects.len()).unwrap_or(i64::MAX));
    }

    /// Records whether this replica leads.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Records the resync interval in force.
    pub fn set_resync_interval(&self, interval: Duration) {
        self.resync_interval.set(interval.as_secs_f64());
    }

    /// Marks the process ready (`/readyz` answers 200).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Why the HTTP endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("serving metrics on {address}: {source}")]
pub struct ServeError {
    /// The address asked for.
    pub address: SocketAddr,
    /// Why.
    pub source: std::io::Error,
}

/// Binds `address` and serves `/metrics`, `/healthz` and `/readyz` until
/// `shutdown` completes. Returns the bound address (port 0 picks one).
pub async fn serve(
    metrics: Metrics,
    address: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| ServeError { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError { address, source })?;
    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness))
        .with_state(metrics);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(%error, "metrics endpoint stopped");
        }
    });
    Ok((bound, task))
}

async fn render_metrics(State(metrics): State<Metrics>) -> impl IntoResponse {
    match metrics.render() {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn readiness(State(metrics): State<Metrics>) -> impl IntoResponse {
    if metrics.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{CallRecord, Outcome};

    #[test]
    fn calls_reconciles_and_waits_show_in_the_text_format() {
        let metrics = Metrics::new();
        let observe = metrics.aws_observer("default");
        observe(&CallRecord {
            service: "cloudfront",
            operation: "UpdateDistribution",
            mutating: true,
            outcome: Outcome::Error("PreconditionFailed".into()),
        });
        metrics.reconciled(Kind::EdgeDistribution, Label::Ok, Duration::from_millis(20));
        metrics.reconciled(
            Kind::EdgeDistribution,
            Label::Error,
            Duration::from_millis(20),
        );
        metrics.reconciled(
            Kind::EdgeDistribution,
            Label::Waiting,
            Duration::from_millis(20),
        );
        metrics.set_waiting("books/books", true);
        metrics.set_waiting("books/other", true);
        metrics.set_waiting("books/other", false);
        let text = metrics.render().expect("renders");
        assert!(
            text.contains(r#"urlguard_aws_calls_total{account="default",service="cloudfront",operation="UpdateDistribution",outcome="PreconditionFailed"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"urlguard_reconciles_total{kind="EdgeDistribution",outcome="ok"} 1"#)
        );
        assert!(
            text.contains(
                r#"urlguard_reconciles_total{kind="EdgeDistribution",outcome="waiting"} 1"#
            )
        );
        assert!(
            text.contains(r#"urlguard_reconcile_errors_total{kind="EdgeDistribution"} 1"#),
            "a waiting teardown is no error"
        );
        assert!(text.contains("urlguard_objects_waiting_for_edge_replicas 1"));
    }

    #[test]
    fn rate_limit_waits_and_throttles_show_per_operation() {
        let metrics = Metrics::new();
        let observe = metrics.rate_observer("111111111111");
        for _ in 0..2 {
            observe(&RateEvent::Waited {
                service: "lambda",
                operation: "GetFunctionUrlConfig".into(),
                waited: Duration::from_millis(250),
            });
        }
        observe(&RateEvent::Throttled {
            service: "cloudfront",
            operation: "UpdateDistribution".into(),
        });
        let text = metrics.render().expect("renders");
        for line in [
            r#"urlguard_aws_rate_limit_waits_total{account="111111111111",service="lambda",operation="GetFunctionUrlConfig"} 2"#,
            r#"urlguard_aws_rate_limit_wait_seconds_total{account="111111111111",service="lambda",operation="GetFunctionUrlConfig"} 0.5"#,
            r#"urlguard_aws_throttled_total{account="111111111111",service="cloudfront",operation="UpdateDistribution"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }
}
