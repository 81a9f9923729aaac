//! What a reconcile's result means: the label it is counted under, when
//! the object is looked at again, and how an object whose spec the schema
//! refuses is reported without touching AWS.

use std::sync::Arc;

use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;

use super::context::Context;
use super::error::ReconcileError;
use super::objects::{InvalidObject, has_finalizer, is_deleting, namespace_of};
use super::{FINALIZER, status};

/// The metrics label of a result: `ok`, `waiting` (for AWS, during a
/// teardown) or `error`.
pub fn of(result: &Result<Action, ReconcileError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(ReconcileError::Waiting { .. }) => "waiting",
        Err(_) => "error",
    }
}

/// The error policy of both controllers: a waiting teardown comes back
/// when AWS may be done; anything else is retried after the error interval.
pub fn error_policy(
    object: Arc<DynamicObject>,
    error: &ReconcileError,
    context: Arc<Context>,
) -> Action {
    match error {
        ReconcileError::Waiting { retry_after, .. } => Action::requeue(*retry_after),
        _ => {
            tracing::warn!(
                namespace = %namespace_of(&object),
                name = %object.name_any(),
                %error,
                "reconcile failed; retrying"
            );
            Action::requeue(context.timing.after_error)
        }
    }
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
                "InvalidSpec",
                message.clone(),
            )
            .await;
    }
    if deleting {
        return Err(ReconcileError::InvalidSpec(message));
    }
    Ok(Action::await_change())
}
