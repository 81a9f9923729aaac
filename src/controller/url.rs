//! Reconciling one `ProtectedFunctionUrl` on its own: its finalizer (put on
//! only once it may attach: its distribution exists and its function's
//! owner opted in), its
//! teardown when it is deleted (under its distribution's lock), and its
//! status when it cannot attach because the distribution it names does not
//! exist. While the distribution exists, the distribution's reconcile makes
//! AWS match and writes this URL's status: a change here triggers it.

use std::sync::Arc;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};

use super::config_map::{self, Learnt};
use super::context::Context;
use super::error::ReconcileError;
use super::objects::{self, FINALIZER, has_finalizer, is_deleting, namespace_of};
use super::{give_up, outcome};
use crate::api::ProtectedFunctionUrl;
use crate::plan::{desired, teardown};
use crate::reconcile::{Engine, Kind, ResourceReport, Status};

/// Reconciles one `ProtectedFunctionUrl` (the controller's entry point).
pub async fn reconcile(
    object: Arc<DynamicObject>,
    context: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let work = reconcile_object(object.clone(), &context);
    outcome::measured(Kind::ProtectedFunctionUrl, &object, &context, work).await
}

async fn reconcile_object(
    object: Arc<DynamicObject>,
    context: &Context,
) -> Result<Action, ReconcileError> {
    context.filled.wait().await?;
    let namespace = namespace_of(&object);
    let url = match objects::decode_url(&object) {
        Ok(url) => url,
        Err(invalid) => {
            return outcome::invalid(context, &context.url_resource, &object, invalid).await;
        }
    };
    let engine = outcome::engine_for(context, &context.url_resource, &object).await?;
    if !has_finalizer(&object, FINALIZER)
        && !is_deleting(&object)
        && let Some(action) = before_attaching(context, &engine, &object, &url).await?
    {
        return Ok(action);
    }
    let api: Api<DynamicObject> =
        Api::namespaced_with(context.client.clone(), &namespace, &context.url_resource);
    // The helper adds the finalizer before the apply, removes it after the
    // cleanup: both writes, after the gate's say.
    context.writable()?;
    finalizer(&api, FINALIZER, object, |event| async {
        match event {
            Finalizer::Apply(object) => apply(context, &engine, &object, url).await,
            Finalizer::Cleanup(object) => {
                let action = cleanup(context, &engine, &object, url).await?;
                context.writable()?;
                Ok(action)
            }
        }
    })
    .await
    .map_err(ReconcileError::from)
}

/// A URL without the finalizer has not attached: urlguard has not touched
/// AWS for it. It gets the finalizer (and attaches, through its
/// distribution's reconcile) only once its distribution exists and its
/// function may be managed; until then `Some` says when to look again,
/// after writing the status that says why (`DistributionNotFound`,
/// `FunctionNotOptedIn`, ...). So a URL that never attached has no
/// finalizer, and deleting it makes no AWS call. A refusal is an error of
/// the reconcile, so that its rechecks back off.
async fn before_attaching(
    context: &Context,
    engine: &Engine,
    object: &DynamicObject,
    url: &ProtectedFunctionUrl,
) -> Result<Option<Action>, ReconcileError> {
    let namespace = namespace_of(object);
    if context
        .live_distribution(&namespace, &url.spec.distribution_ref.name)
        .is_none()
    {
        return apply(context, engine, object, url.clone()).await.map(Some);
    }
    let desired = desired::url(&context.instance, url);
    let Some(report) = engine.refusal(&desired).await else {
        return Ok(None);
    };
    let status = exported(context, object, &report).await?;
    context
        .write_status(&context.url_resource, object, &status)
        .await?;
    // The function's owner may add the tag at any time: looked at again,
    // backing off like any failure (`outcome::error_policy`), so a URL
    // left refused for days costs a check every 10 minutes, not every 30 s.
    Err(ReconcileError::NotAttachable(format!(
        "{}: {}",
        report.verdict.reason, report.verdict.message
    )))
}

/// Attached URLs are the distribution's business; one naming a
/// distribution that is missing, invalid or being deleted gets
/// `Ready=False` (`DistributionNotFound`) without any AWS call.
async fn apply(
    context: &Context,
    engine: &Engine,
    object: &DynamicObject,
    url: ProtectedFunctionUrl,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(object);
    if context
        .live_distribution(&namespace, &url.spec.distribution_ref.name)
        .is_some()
    {
        return Ok(Action::await_change());
    }
    let model = desired::build_with(&context.instance, &context.ssm_prefix, &[], &[url]);
    for report in engine.reconcile(&model).await {
        let status = exported(context, object, &report).await?;
        context
            .write_status(&context.url_resource, object, &status)
            .await?;
    }
    Ok(Action::await_change())
}

/// The status of a URL that has not attached, with its ConfigMap export:
/// created or kept with what it holds (the pass learnt no output), or
/// removed when the spec no longer declares it.
async fn exported(
    context: &Context,
    object: &DynamicObject,
    report: &ResourceReport,
) -> Result<Status, ReconcileError> {
    let learnt = Learnt::of_report(report, std::slice::from_ref(report), &[]);
    Ok(
        config_map::export(context, &context.url_resource, object, &learnt)
            .await?
            .into_status(report.status()),
    )
}

/// Tears the URL down (its behavior, grants, parameters and, when urlguard
/// created it, `deletionPolicy` is `Delete` and no live URL names the
/// function, its URL config) while its distribution stays;
/// when the distribution leaves too, its own teardown already did this and
/// the pass finds nothing left. A URL observed, not managed (its own
/// policy, or that of its distribution, live or being deleted) is released
/// without any AWS call.
async fn cleanup(
    context: &Context,
    engine: &Engine,
    object: &DynamicObject,
    url: ProtectedFunctionUrl,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(object);
    let name = object.name_any();
    let _lock = context
        .locks
        .lock(&namespace, &url.spec.distribution_ref.name)
        .await;
    let distribution = context.distribution(&namespace, &url.spec.distribution_ref.name);
    let model = teardown::build(&context.instance, &[], &[url])
        .with_staying(&context.instance, &context.live_urls())
        .with_distributions(distribution.as_slice());
    let reports = engine.destroy(&model).await;
    // A URL config left in place is said before the object goes.
    for notice in reports.iter().flat_map(|r| &r.notices) {
        context
            .event(
                &context.url_resource,
                object,
                EventType::Warning,
                notice.event(),
                notice.to_string(),
            )
            .await;
    }
    let done = reports.iter().all(|r| !r.failed() && !r.waiting());
    if !done {
        for report in &reports {
            context
                .write_status(&context.url_resource, object, &report.status())
                .await?;
        }
    }
    if let Some(given_up) =
        give_up::after_stuck_pass(context, &context.url_resource, object, &reports).await?
    {
        return Ok(given_up);
    }
    outcome::after_teardown(context, engine, &format!("{namespace}/{name}"), &reports)
}
