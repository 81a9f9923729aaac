//! The Kubernetes controller (`urlguard controller`): kube-rs runtime
//! controllers for both kinds on the shared reconcile engine, with no AWS
//! logic of their own.
//!
//! - `EdgeDistribution`s are reconciled with the `ProtectedFunctionUrl`s
//!   attached to them (`distribution`); a URL's change triggers its
//!   distribution through a watch mapper on `distributionRef`, and changes
//!   arriving together are debounced into one reconcile.
//! - `ProtectedFunctionUrl`s on their own (`url`) only get their finalizer,
//!   their teardown, and a status when their distribution is missing.
//! - Both kinds carry the finalizer `urlguard.io/cleanup` (kube-runtime's
//!   `finalizer()` helper); it is removed only when AWS is clean, or when a
//!   teardown that cannot succeed is given up after its attempts
//!   (`give_up`).
//! - Status goes to the status subresource by server-side apply
//!   (`status`); objects are read untyped and decoded through the CRD
//!   schema, so one the Rust types refuse is reported, not fatal
//!   (`objects`).
//! - `spec.configMapExport`: before its status is written, an object's
//!   outputs go to a ConfigMap it owns, by server-side apply and only when
//!   they changed; one it does not own is refused (`config_map`).
//! - Caches keep slimmed objects and triggers ignore status-only changes:
//!   the controller's own status writes do not make it reconcile again.
//! - Waiting for CloudFront never blocks a worker: the engine does not wait
//!   and the object is requeued; while it deploys (or an invalidation
//!   runs), a distribution is polled with one `GetDistribution` (`passes`).
//! - Failures back off per object, exponentially with jitter (`backoff`); a
//!   failing URL is retried alone, its siblings held as found (`passes`).
//! - Resyncs are spread over an interval that grows with the object count
//!   to stay within a budget of API calls (`resync`).
//! - Each namespace is reconciled in its AWS account: the role its
//!   annotation names, if the admin allowed it, else the controller's own
//!   credentials; a refused one gets `AccountNotAllowed` and no AWS call
//!   (`accounts`, one engine and one rate limiter per account).
//! - Leader election by Lease (`leader`), whose loss closes the write gate
//!   every AWS and Kubernetes write asks; `/metrics`, `/healthz`, `/readyz`
//!   (`metrics`), graceful shutdown on SIGTERM.

mod accounts;
mod backoff;
mod cache;
mod config_map;
mod context;
mod distribution;
mod error;
mod filled;
mod give_up;
mod leader;
mod metrics;
mod objects;
mod outcome;
mod passes;
pub mod resync;
mod status;
mod url;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use tokio::sync::watch;

pub use context::Timing;
pub use error::{ControllerError, ReconcileError};
pub use leader::LeaseSettings;
pub use metrics::Metrics;
pub use objects::FINALIZER;

use crate::aws::{Overrides, WriteGate};
use crate::plan::accounts::AllowedRoles;
use crate::plan::ssm_prefix::SsmPrefix;
use crate::reconcile::{DeployWait, RetryPolicy};
use accounts::{Accounts, EngineSettings};
use context::{Context, DistributionLocks};
use filled::Cache;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The urlguard instance (names and owner tags derive from it).
    pub instance: String,
    /// Where each namespace's SSM parameters must be (`--ssm-prefix`).
    pub ssm_prefix: SsmPrefix,
    /// Watch only this namespace (`None`: all).
    pub namespace: Option<String>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_address: SocketAddr,
    /// Leader election (`None`: this replica reconciles at once).
    pub lease: Option<LeaseSettings>,
    /// This replica's identity in events.
    pub identity: String,
    /// AWS region and endpoint taking precedence over the environment.
    pub aws: Overrides,
    /// The roles namespaces may name for their objects
    /// (`--aws-namespace-role`).
    pub allowed_roles: AllowedRoles,
    /// Requeue intervals.
    pub timing: Timing,
    /// When to ask Lambda again to delete a signer with edge replicas.
    pub replica_retry: RetryPolicy,
    /// Triggers arriving within this window make one reconcile.
    pub debounce: Duration,
    /// At most this many reconciles of one kind run at once.
    pub concurrency: u16,
}

/// Runs the controller until SIGTERM or SIGINT (`Ok`), or until the lease
/// is lost or it cannot start (`Err`).
pub async fn run(config: Config) -> Result<(), ControllerError> {
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(stop_on_signal(stop));
    run_until(config, stopping).await
}

/// [`run`], stopping when `stopping` turns true.
pub async fn run_until(
    config: Config,
    stopping: watch::Receiver<bool>,
) -> Result<(), ControllerError> {
    if let Some(lease) = &config.lease {
        lease.check()?;
    }
    let metrics = Metrics::new();
    let (address, server) = metrics::serve(
        metrics.clone(),
        config.metrics_address,
        until_stopped(stopping.clone()),
    )
    .await?;
    tracing::info!(%address, "serving /metrics, /healthz and /readyz");

    let kube_config = kube::Config::infer().await?;
    let client = Client::try_from(kube_config.clone())?;
    check_crds(&client, config.namespace.as_deref()).await?;
    metrics.set_ready();

    // Without leader election the gate stays open; with it, it is open
    // only while the lease is held.
    let gate = WriteGate::open();
    let mut leadership = None;
    if let Some(settings) = &config.lease {
        let mut waiting = stopping.clone();
        tokio::select! {
            acquired = leader::acquire(kube_config, settings, gate.clone()) => leadership = Some(acquired?),
            _ = waiting.wait_for(|stop| *stop) => {
                tracing::info!("stopping before becoming leader");
                let _ = server.await;
                return Ok(());
            }
        }
    }
    metrics.set_leader(true);

    let (lost_tx, lost_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = watch::channel(false);
    let lease_watch = leadership.map(|mut leadership| {
        tokio::spawn(async move {
            let lost = tokio::select! {
                name = leadership.lost() => {
                    let _ = lost_tx.send(true);
                    Some(name)
                }
                _ = done_rx.wait_for(|done| *done) => None,
            };
            (leadership, lost)
        })
    });

    let distribution_writer = Writer::new(objects::distribution_resource());
    let url_writer = Writer::new(objects::url_resource());
    let context = Arc::new(
        build_context(
            &config,
            client,
            gate,
            metrics.clone(),
            distribution_writer.as_reader(),
            url_writer.as_reader(),
        )
        .await,
    );
    let shutdown = || shutdown_signal(stopping.clone(), lost_rx.clone());
    run_controllers(
        &config,
        context,
        (distribution_writer, url_writer),
        shutdown,
    )
    .await;
    metrics.set_leader(false);

    let _ = done_tx.send(true);
    if let Some(task) = lease_watch
        && let Ok((leadership, lost)) = task.await
    {
        leadership.release().await;
        if let Some(name) = lost {
            return Err(ControllerError::LostLease(name));
        }
    }
    let _ = server.await;
    tracing::info!("stopped");
    Ok(())
}

async fn build_context(
    config: &Config,
    client: Client,
    gate: WriteGate,
    metrics: Metrics,
    distributions: Store<DynamicObject>,
    urls: Store<DynamicObject>,
) -> Context {
    let wait = DeployWait {
        enabled: false,
        poll_interval: config.timing.deploying,
        timeout: DeployWait::default().timeout,
    };
    let settings = EngineSettings {
        overrides: config.aws.clone(),
        metrics: metrics.clone(),
        gate: gate.clone(),
        wait,
        replica_retry: config.replica_retry,
    };
    let accounts = Accounts::new(config.allowed_roles.clone(), settings).await;
    let reporter = Reporter {
        controller: "urlguard".to_owned(),
        instance: Some(config.identity.clone()),
    };
    Context {
        recorder: Recorder::new(client.clone(), reporter),
        client,
        gate,
        accounts,
        instance: config.instance.clone(),
        ssm_prefix: config.ssm_prefix.clone(),
        distributions,
        urls,
        distribution_resource: objects::distribution_resource(),
        url_resource: objects::url_resource(),
        locks: DistributionLocks::default(),
        metrics,
        timing: config.timing,
        failures: backoff::Failures::default(),
        passes: passes::Passes::default(),
        filled: filled::Filled::default(),
    }
}

/// Completes when the process is asked to stop or the lease is lost.
async fn shutdown_signal(mut stopping: watch::Receiver<bool>, mut lost: watch::Receiver<bool>) {
    tokio::select! {
        _ = stopping.wait_for(|stop| *stop) => {}
        _ = lost.wait_for(|lost| *lost) => {}
    }
}

/// Builds both controllers over shared caches and runs them until
/// `shutdown`; in-flight reconciles finish first.
async fn run_controllers<F>(
    config: &Config,
    context: Arc<Context>,
    writers: (Writer<DynamicObject>, Writer<DynamicObject>),
    shutdown: impl Fn() -> F,
) where
    F: std::future::Future<Output = ()> + Send + Sync + 'static,
{
    let client = context.client.clone();
    let distribution_resource = context.distribution_resource.clone();
    let url_resource = context.url_resource.clone();
    let distributions = scoped(&client, config.namespace.as_deref(), &distribution_resource);
    let urls = scoped(&client, config.namespace.as_deref(), &url_resource);
    let (distribution_writer, url_writer) = writers;
    let (slim_distribution, slim_url) = (distribution_resource.clone(), url_resource.clone());

    let distribution_stream = watcher(distributions, watch_config())
        .default_backoff()
        .modify(move |object| cache::slim(object, &slim_distribution))
        .reflect(distribution_writer)
        .inspect({
            let context = context.clone();
            move |event| context.filled.observe(Cache::Distributions, event)
        })
        .applied_objects()
        .predicate_filter(worth_reconciling, Default::default());
    // One watch of the URLs feeds both their controller and the
    // distributions' triggers: a second watch would hold every URL twice
    // in flight. (kube-runtime's shared streams need a typed resource.)
    let (trigger_url, url_triggers) = mpsc::unbounded();
    let url_stream = watcher(urls, watch_config())
        .default_backoff()
        .modify(move |object| cache::slim(object, &slim_url))
        .reflect(url_writer)
        .inspect({
            let context = context.clone();
            move |event| context.filled.observe(Cache::Urls, event)
        })
        .applied_objects()
        .predicate_filter(worth_reconciling, Default::default())
        .inspect(move |url| {
            if let Ok(url) = url {
                // Only fails once the distribution controller has stopped.
                let _ = trigger_url.unbounded_send(Ok::<_, watcher::Error>(url.clone()));
            }
        });

    let controller_config = controller::Config::default()
        .debounce(config.debounce)
        .concurrency(config.concurrency);

    let mapper_resource = distribution_resource.clone();
    let distribution_controller = Controller::for_stream_with(
        distribution_stream,
        context.distributions.clone(),
        distribution_resource,
    )
    .with_config(controller_config.clone())
    .watches_stream_with(
        url_triggers,
        move |url: DynamicObject| {
            let namespace = objects::namespace_of(&url);
            objects::distribution_ref(&url)
                .map(|name| ObjectRef::new_with(&name, mapper_resource.clone()).within(&namespace))
        },
        url_resource.clone(),
    )
    .graceful_shutdown_on(shutdown())
    .run(
        distribution::reconcile,
        outcome::error_policy,
        context.clone(),
    )
    .for_each(|result| async move {
        if let Err(error) = result {
            tracing::debug!(%error, "EdgeDistribution controller");
        }
    });
    let url_controller =
        Controller::for_stream_with(url_stream, context.urls.clone(), url_resource)
            .with_config(controller_config)
            .graceful_shutdown_on(shutdown())
            .run(url::reconcile, outcome::error_policy, context)
            .for_each(|result| async move {
                if let Err(error) = result {
                    tracing::debug!(%error, "ProtectedFunctionUrl controller");
                }
            });
    tokio::join!(distribution_controller, url_controller);
}

/// Objects per page of a watch's list (kube-runtime asks 500, as
/// client-go does). A page is held whole, as the API server sent it
/// (managed fields, the last-applied copy), until its last object is
/// slimmed into the cache: at 500 URLs that was 7.5 MiB of a restart's
/// peak at 5,000 URLs (heap profile, issue 18); 100 costs 51 list calls
/// instead of 11 for 5,100 objects, once per (re)list.
const LIST_PAGE_SIZE: u32 = 100;

/// How both watches list and watch.
fn watch_config() -> watcher::Config {
    watcher::Config::default().page_size(LIST_PAGE_SIZE)
}

/// The API of `resource` in `namespace`, or in all namespaces.
fn scoped(client: &Client, namespace: Option<&str>, resource: &ApiResource) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// What makes an object worth reconciling: its spec (generation), its
/// finalizers and whether it is being deleted. Status-only changes, the
/// controller's own writes among them, pass unnoticed.
fn worth_reconciling(object: &DynamicObject) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    object.metadata.generation.hash(&mut hasher);
    object.finalizers().hash(&mut hasher);
    object
        .metadata
        .deletion_timestamp
        .is_some()
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// Refuses to start when the CRDs are not installed, with a message that
/// says so, rather than retrying watches forever.
async fn check_crds(client: &Client, namespace: Option<&str>) -> Result<(), ControllerError> {
    for resource in [objects::distribution_resource(), objects::url_resource()] {
        let api = scoped(client, namespace, &resource);
        match api.list_metadata(&ListParams::default().limit(1)).await {
            Ok(_) => {}
            Err(kube::Error::Api(response)) if response.code == 404 => {
                return Err(ControllerError::MissingCrd(format!(
                    "{}/{} {}",
                    resource.group, resource.version, resource.kind
                )));
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

async fn until_stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Turns SIGTERM (what Kubernetes sends) or SIGINT into a stop.
async fn stop_on_signal(stop: watch::Sender<bool>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = terminate => tracing::info!("SIGTERM: finishing in-flight reconciles"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing in-flight reconciles"),
    }
    let _ = stop.send(true);
}
