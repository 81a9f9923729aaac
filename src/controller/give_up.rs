//! Teardowns that end: after a teardown pass whose every failure is stuck
//! (retrying cannot fix it: `reconcile::Stuck`), the pass is counted on the
//! object's annotation `urlguard.io/teardown-attempts` (a restarted
//! controller keeps counting) and the object is looked at again later, the
//! wait doubling from `--error-retry-interval`; the pass that reaches
//! `--teardown-attempts` publishes a Warning event `TeardownGivenUp` naming
//! what stays in AWS, and the finalizer goes. Passes that fail for a
//! reason that passes, or wait for AWS, count nothing
//! (`plan::teardown::after_stuck`).

use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;

use super::context::Context;
use super::error::ReconcileError;
use super::objects::namespace_of;
use crate::plan::teardown::{ATTEMPTS_ANNOTATION, AfterStuck, after_stuck, counted};
use crate::reconcile::{EventReason, ResourceReport};

/// After a teardown pass of `object`: `Ok(None)` when it is not stuck
/// (carry on as usual), `Err(Stuck)` when it was counted and is tried
/// again, `Ok(Some(action))` when it was given up (the finalizer goes).
pub async fn after_stuck_pass(
    context: &Context,
    resource: &ApiResource,
    object: &DynamicObject,
    reports: &[ResourceReport],
) -> Result<Option<Action>, ReconcileError> {
    if !ResourceReport::stuck_pass(reports) {
        return Ok(None);
    }
    let first = reports
        .iter()
        .find(|r| r.failed())
        .map(|r| format!("{}/{}: {}", r.namespace, r.name, r.verdict.message))
        .unwrap_or_default();
    let before = counted(
        object
            .annotations()
            .get(ATTEMPTS_ANNOTATION)
            .map(String::as_str),
    );
    let limit = context.timing.teardown_attempts;
    match after_stuck(before, limit, context.timing.after_error) {
        AfterStuck::TryAgain { attempt, after } => {
            count(context, resource, object, attempt).await?;
            Err(ReconcileError::Stuck {
                message: first,
                attempt,
                limit,
                retry_after: after,
            })
        }
        AfterStuck::GiveUp { attempts } => {
            let left = ResourceReport::left_in_aws(reports);
            let left = if left.is_empty() {
                "nothing urlguard knows of".to_owned()
            } else {
                left.join("; ")
            };
            // Events hold 1 kB: the failure first, then as much of the
            // list as fits (the log has all of it).
            let note = format!(
                "teardown given up after {attempts} attempts that cannot succeed ({first}); the finalizer is removed; delete by hand what is left in AWS: {left}"
            );
            tracing::warn!(
                namespace = %namespace_of(object),
                name = %object.name_any(),
                attempts,
                left_in_aws = %left,
                "teardown given up"
            );
            context.writable()?;
            context
                .event(
                    resource,
                    object,
                    EventType::Warning,
                    EventReason::TeardownGivenUp,
                    note,
                )
                .await;
            Ok(Some(Action::await_change()))
        }
    }
}

/// Writes the count of stuck passes to the object's annotation (a merge
/// patch of metadata only: it does not trigger a reconcile).
async fn count(
    context: &Context,
    resource: &ApiResource,
    object: &DynamicObject,
    attempt: u32,
) -> Result<(), ReconcileError> {
    context.writable()?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(context.client.clone(), &namespace_of(object), resource);
    let patch = serde_json::json!({
        "metadata": {"annotations": {ATTEMPTS_ANNOTATION: attempt.to_string()}}
    });
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
