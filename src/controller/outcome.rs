//! What a reconcile's result means: the label it is counted under, when
//! the object is looked at again (after an apply, after a teardown pass,
//! after an error, each object backing off on its own), and how an object whose spec the schema refuses is
//! reported without touching AWS.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use tracing::Instrument;

use super::accounts::AccountError;
use super::cache::content;
use super::context::Context;
use super::error::ReconcileError;
use super::metrics::Label;
use super::objects::{FINALIZER, InvalidObject, has_finalizer, is_deleting, namespace_of};
use super::passes::{Key, PassOutcome};
use super::resync;
use super::status;
use crate::api::Confirmation;
use crate::model::cloudfront::INVALIDATION_COMPLETED;
use crate::reconcile::{Engine, EventReason, Kind, Reason, ResourceReport, Status};

/// Runs one reconcile of `object` in its span, counts it by kind and
/// result, and logs the result: a distribution's at info, a URL's at debug
/// (thousands of URLs would flood the log).
pub async fn measured(
    kind: Kind,
    object: &DynamicObject,
    context: &Context,
    reconcile: impl Future<Output = Result<Action, ReconcileError>>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let span = span(kind, object);
    let result = reconcile.instrument(span.clone()).await;
    let label = of(&result);
    if result.is_ok() {
        context.failures.succeeded(&failure_key(object));
    }
    let took = started.elapsed();
    context.metrics.reconciled(kind, label, took);
    let (outcome, seconds) = (label.as_str(), took.as_secs_f64());
    span.in_scope(|| match kind {
        Kind::EdgeDistribution => tracing::info!(outcome, seconds, "reconciled"),
        Kind::ProtectedFunctionUrl => tracing::debug!(outcome, seconds, "reconciled"),
    });
    result
}

/// The span of one reconcile of `object`: its log lines, and those of the
/// engine and the AWS calls beneath it, name the object (as `object`: see
/// `reconcile::span`).
fn span(kind: crate::reconcile::Kind, object: &DynamicObject) -> tracing::Span {
    tracing::info_span!(
        "reconcile",
        kind = kind.as_str(),
        namespace = %namespace_of(object),
        object = %object.name_any(),
    )
}

/// The metrics label of a result.
fn of(result: &Result<Action, ReconcileError>) -> Label {
    match result {
        Ok(_) => Label::Ok,
        Err(ReconcileError::Waiting { .. } | ReconcileError::WaitingForUrls { .. }) => {
            Label::Waiting
        }
        Err(_) => Label::Error,
    }
}

/// A distribution's pass that ran: which, for what, since when.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    /// The distribution's namespace and name.
    pub key: &'a Key,
    /// Its spec and attached URLs (`passes`).
    pub fingerprint: u64,
    /// When the pass began.
    pub started: Instant,
    /// A full pass (else a retry of failing URLs).
    pub full: bool,
    /// The URLs (by name) the model refused without an AWS call: only a
    /// change to their spec, which makes a full pass, changes them, so
    /// they are not retried.
    pub rejected: &'a [String],
}

/// After an apply: an error naming the distribution when it failed (it
/// backs off in [`error_policy`]); otherwise a look again when `passes`
/// says something is due: a deploy poll, a failing URL's retry, the
/// resync to find and repair drift.
pub fn after_apply(
    context: &Context,
    pass: &Finished<'_>,
    reports: &[ResourceReport],
) -> Result<Action, ReconcileError> {
    let distribution = reports.iter().find(|r| r.kind == Kind::EdgeDistribution);
    if let Some(failed) = distribution.filter(|r| r.failed()) {
        context.passes.forget(pass.key);
        return Err(ReconcileError::Failed(format!(
            "{}/{}: {}: {}",
            failed.namespace, failed.name, failed.verdict.reason, failed.verdict.message
        )));
    }
    // An invalidation in progress is waited for like a deployment: polls,
    // then the full pass that reads its status.
    let deploying = distribution
        .filter(|r| {
            matches!(r.verdict.reason, Reason::Deploying | Reason::Pending)
                || invalidating(&r.found)
        })
        .and_then(|r| match &r.found {
            Status::Distribution(status) => status.distribution_id.clone(),
            Status::Url(_) => None,
        });
    let urls = reports
        .iter()
        .filter(|r| r.kind == Kind::ProtectedFunctionUrl);
    let (failed, passed): (Vec<&ResourceReport>, Vec<&ResourceReport>) = urls
        .filter(|r| !pass.rejected.contains(&r.name))
        .partition(|r| r.failed());
    let names = |reports: Vec<&ResourceReport>| reports.iter().map(|r| r.name.clone()).collect();
    let outcome = PassOutcome {
        deploying,
        failed: names(failed),
        passed: names(passed),
    };
    let resync_in = pass
        .full
        .then(|| resync_in(context, pass.key, pass.started));
    let wait = context.passes.passed(
        pass.key,
        pass.fingerprint,
        pass.started,
        resync_in,
        &outcome,
        context.timing.schedules(),
    );
    Ok(Action::requeue(wait.max(Duration::from_secs(1))))
}

/// How long after `started` the distribution `key`'s next resync is due:
/// its slot in an interval the resync budget sets from the object counts
/// (`resync`). Counted from the pass's start, like the rest of `passes`,
/// so a slow pass does not push its slot along.
fn resync_in(context: &Context, key: &Key, started: Instant) -> Duration {
    let began = since_epoch().saturating_sub(started.elapsed());
    resync::until_next(
        began,
        resync_interval(context),
        resync::phase(&key.0, &key.1),
    )
}

/// The resync interval the budget sets for the objects in the caches.
fn resync_interval(context: &Context) -> Duration {
    let interval = resync::interval(
        context.timing.resync,
        context.urls.state().len(),
        context.distributions.state().len(),
    );
    context.metrics.set_resync_interval(interval);
    interval
}

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Whether a finished pass confirms the distribution and its URLs in AWS
/// (`status.confirmed`): a full pass after which the distribution is
/// Ready (deployed, no invalidation running) and so is every URL the model
/// did not refuse.
pub fn confirms(pass: &Finished<'_>, reports: &[ResourceReport]) -> bool {
    pass.full
        && reports.iter().any(|r| r.kind == Kind::EdgeDistribution)
        && reports.iter().all(|r| match r.kind {
            Kind::EdgeDistribution => r.ready() && !invalidating(&r.found),
            Kind::ProtectedFunctionUrl => r.ready() || pass.rejected.contains(&r.name),
        })
}

/// The confirmation a pass that began at `started` writes.
pub fn confirmation(fingerprint: u64, started: Instant) -> Confirmation {
    let at = since_epoch().saturating_sub(started.elapsed());
    let second = i64::try_from(at.as_secs()).unwrap_or(i64::MAX);
    Confirmation {
        at: Time(Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)),
        fingerprint: fingerprint_text(fingerprint),
    }
}

fn fingerprint_text(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

/// For a distribution this process has not passed over yet: how long its
/// full pass may wait, because its status confirms these specs in AWS
/// within the resync interval (`resync::resume_in`); `None` when it is
/// due now.
pub fn resumable(
    context: &Context,
    object: &DynamicObject,
    key: &Key,
    fingerprint: u64,
) -> Option<Duration> {
    let confirmed: Confirmation = content(object)
        .pointer("/status/confirmed")
        .and_then(|c| serde_json::from_value(c.clone()).ok())?;
    if confirmed.fingerprint != fingerprint_text(fingerprint) {
        return None;
    }
    let at = Duration::from_secs(u64::try_from(confirmed.at.0.as_second()).ok()?);
    resync::resume_in(
        at,
        since_epoch(),
        resync_interval(context),
        resync::phase(&key.0, &key.1),
    )
}

/// Whether a distribution's invalidation is still in progress.
fn invalidating(found: &Status) -> bool {
    matches!(found, Status::Distribution(status)
    if status.invalidation.as_ref().is_some_and(|i| {
        i.status.as_deref().is_some_and(|s| s != INVALIDATION_COMPLETED)
    }))
}

/// What a teardown's reports mean for the finalizer: `Ok` removes it,
/// `Waiting` keeps it and comes back when AWS may be done, a failure keeps
/// it and retries.
pub fn after_teardown(
    context: &Context,
    engine: &Engine,
    key: &str,
    reports: &[ResourceReport],
) -> Result<Action, ReconcileError> {
    if let Some(failed) = reports.iter().find(|r| r.failed()) {
        context.metrics.set_waiting(key, false);
        return Err(ReconcileError::Teardown(format!(
            "{}/{}: {}",
            failed.namespace, failed.name, failed.verdict.message
        )));
    }
    let waiting: Vec<Reason> = reports
        .iter()
        .filter(|r| r.waiting())
        .map(|r| r.verdict.reason)
        .collect();
    let replicas = waiting.contains(&Reason::WaitingForEdgeReplicas);
    context.metrics.set_waiting(key, replicas);
    if waiting.is_empty() {
        return Ok(Action::await_change());
    }
    let poll = engine.poll_interval();
    let retry_after = if replicas && !waiting.contains(&Reason::WaitingForDeployment) {
        engine
            .next_teardown_attempt()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .unwrap_or(poll)
    } else {
        poll
    };
    let reasons: Vec<&str> = waiting.iter().map(|r| r.as_str()).collect();
    Err(ReconcileError::Waiting {
        reason: reasons.join(", "),
        retry_after: retry_after.max(Duration::from_secs(1)),
    })
}

/// The error policy of both controllers: a waiting teardown comes back
/// when AWS may be done; anything else is retried after a backoff of its
/// own, doubling with jitter from the error interval (reset by a success,
/// see [`measured`]).
pub fn error_policy(
    object: Arc<DynamicObject>,
    error: &ReconcileError,
    context: Arc<Context>,
) -> Action {
    match error {
        ReconcileError::Waiting { retry_after, .. }
        | ReconcileError::WaitingForUrls { retry_after, .. } => Action::requeue(*retry_after),
        ReconcileError::Stuck { retry_after, .. } => {
            tracing::warn!(
                namespace = %namespace_of(&object),
                name = %object.name_any(),
                %error,
                "teardown cannot succeed; counted"
            );
            Action::requeue(*retry_after)
        }
        _ => {
            let failures = context.failures.failed(failure_key(&object));
            let retry_in = context.timing.retries().jittered(failures);
            tracing::warn!(
                namespace = %namespace_of(&object),
                name = %object.name_any(),
                %error,
                failures,
                retry_in_seconds = retry_in.as_secs_f64(),
                "reconcile failed; retrying"
            );
            Action::requeue(retry_in)
        }
    }
}

/// Whose failures are counted: the object's uid (both kinds share the
/// count, and uids do not collide).
fn failure_key(object: &DynamicObject) -> String {
    object
        .uid()
        .unwrap_or_else(|| format!("{}/{}", namespace_of(object), object.name_any()))
}

/// The engine of the object's namespace's account. When the namespace
/// names a role the cluster admin did not allow, the object gets
/// `Ready=False`, reason `AccountNotAllowed`, a warning event when the
/// status changes, no AWS call. An object being deleted keeps its
/// finalizer (its AWS resources are in an account urlguard may not work
/// in) and is looked at again with the error backoff.
pub async fn engine_for(
    context: &Context,
    resource: &ApiResource,
    object: &DynamicObject,
) -> Result<Engine, ReconcileError> {
    let namespace = namespace_of(object);
    let refused = match context
        .accounts
        .engine_for(&context.client, &namespace)
        .await
    {
        Ok(engine) => return Ok(engine),
        Err(AccountError::Kube(error)) => return Err(ReconcileError::Kube(error)),
        Err(AccountError::Refused(refused)) => refused,
    };
    let message = if is_deleting(object) && has_finalizer(object, FINALIZER) {
        format!(
            "{refused}; cannot tear down until the namespace's role is allowed (or remove the finalizer {FINALIZER} by hand after cleaning up AWS)"
        )
    } else {
        refused.0
    };
    let status = status::refused(resource, Reason::AccountNotAllowed, &message);
    if context.write_status(resource, object, &status).await? {
        context
            .event(
                resource,
                object,
                EventType::Warning,
                EventReason::Condition(Reason::AccountNotAllowed),
                message.clone(),
            )
            .await;
    }
    Err(ReconcileError::AccountNotAllowed(message))
}

/// Reports an object the schema refuses: `Ready=False`, reason
/// `InvalidSpec`, the field named, a warning event, no AWS call. It is
/// looked at again when it changes. One being deleted keeps urlguard's
/// finalizer (what it made in AWS cannot be found without a valid spec)
/// and the error says so.
pub async fn invalid(
    context: &Context,
    resource: &ApiResource,
    object: &DynamicObject,
    invalid: InvalidObject,
) -> Result<Action, ReconcileError> {
    let deleting = is_deleting(object) && has_finalizer(object, FINALIZER);
    let message = if deleting {
        format!(
            "{invalid}; cannot tear down until the spec is fixed (or remove the finalizer {FINALIZER} by hand after cleaning up AWS)"
        )
    } else {
        invalid.0.clone()
    };
    let wrote = context
        .write_status(resource, object, &status::invalid(resource, &message))
        .await?;
    if wrote {
        context
            .event(
                resource,
                object,
                EventType::Warning,
                EventReason::Condition(Reason::InvalidSpec),
                message.clone(),
            )
            .await;
    }
    if deleting {
        return Err(ReconcileError::InvalidSpec(message));
    }
    Ok(Action::await_change())
}
