//! Reconciling one `EdgeDistribution` with the `ProtectedFunctionUrl`s
//! attached to it: the engine makes AWS match, then every report becomes a
//! status (the distribution's and each URL's) and the events users must
//! see. Deletion runs the engine's teardown behind the finalizer, which
//! stays until AWS is clean, however long CloudFront keeps the signer's
//! Lambda@Edge replicas.
//!
//! All AWS work for a distribution, including the teardown of URLs leaving
//! it, runs under the distribution's lock (see `context`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};

use super::context::Context;
use super::error::ReconcileError;
use super::objects::{self, is_deleting, namespace_of};
use super::{FINALIZER, outcome};
use crate::api::EdgeDistribution;
use crate::plan::{desired, teardown};
use crate::reconcile::report::SWITCHED_TO_IAM;
use crate::reconcile::{Kind, ResourceReport};

const KIND: &str = "EdgeDistribution";

/// Reconciles one `EdgeDistribution` (the controller's entry point).
pub async fn reconcile(
    object: Arc<DynamicObject>,
    context: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let result = reconcile_object(object.clone(), &context).await;
    let label = outcome::of(&result);
    context.metrics.reconciled(KIND, label, started.elapsed());
    tracing::info!(
        kind = KIND,
        namespace = %namespace_of(&object),
        name = %object.name_any(),
        outcome = label,
        seconds = started.elapsed().as_secs_f64(),
        "reconciled"
    );
    result
}

async fn reconcile_object(
    object: Arc<DynamicObject>,
    context: &Context,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(&object);
    let name = object.name_any();
    let distribution = match objects::decode_distribution(&object) {
        Ok(distribution) => distribution,
        Err(invalid) => {
            return outcome::invalid(context, &context.distribution_resource, &object, invalid)
                .await;
        }
    };
    let _lock = context.locks.lock(&namespace, &name).await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        context.client.clone(),
        &namespace,
        &context.distribution_resource,
    );
    finalizer(&api, FINALIZER, object, |event| async {
        match event {
            Finalizer::Apply(object) => apply(context, &object, distribution).await,
            Finalizer::Cleanup(object) => cleanup(context, &object, distribution).await,
        }
    })
    .await
    .map_err(ReconcileError::from)
}

async fn apply(
    context: &Context,
    object: &DynamicObject,
    distribution: EdgeDistribution,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(object);
    let (attached, _) = context.urls_of(&namespace, &object.name_any());
    let model = desired::build(&context.instance, &[distribution], &attached);
    let reports = context.engine.reconcile(&model).await;
    publish(context, object, &reports).await?;
    if let Some(failed) = reports.iter().find(|r| r.failed()) {
        let message = failed
            .status
            .ready_condition()
            .map(|c| format!("{}: {}", c.reason, c.message))
            .unwrap_or_default();
        return Err(ReconcileError::Failed(format!(
            "{}/{}: {message}",
            failed.namespace, failed.name
        )));
    }
    Ok(next_action(context, &reports))
}

/// After an apply: poll while CloudFront deploys, otherwise look again
/// after the resync interval to find and repair drift.
fn next_action(context: &Context, reports: &[ResourceReport]) -> Action {
    let deploying = reports.iter().any(|r| {
        r.kind == Kind::EdgeDistribution
            && r.status
                .ready_condition()
                .is_some_and(|c| c.reason == "Deploying" || c.reason == "Pending")
    });
    if deploying {
        Action::requeue(context.timing.deploying)
    } else {
        Action::requeue(context.timing.resync)
    }
}

async fn cleanup(
    context: &Context,
    object: &DynamicObject,
    distribution: EdgeDistribution,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(object);
    let name = object.name_any();
    let (attached, leaving) = context.urls_of(&namespace, &name);
    let urls: Vec<_> = attached.into_iter().chain(leaving).collect();
    let model = teardown::build(&context.instance, &[distribution], &urls);
    let reports = context.engine.destroy(&model).await;
    publish(context, object, &reports).await?;
    let key = format!("{namespace}/{name}");
    teardown_result(context, &key, &reports)
}

/// What a teardown's reports mean for the finalizer: `Ok` removes it,
/// `Waiting` keeps it and comes back when AWS may be done, a failure keeps
/// it and retries.
pub(super) fn teardown_result(
    context: &Context,
    key: &str,
    reports: &[ResourceReport],
) -> Result<Action, ReconcileError> {
    if let Some(failed) = reports.iter().find(|r| r.failed()) {
        context.metrics.set_waiting(key, false);
        let message = failed
            .status
            .deleting_condition()
            .or_else(|| failed.status.ready_condition())
            .map(|c| c.message.clone())
            .unwrap_or_default();
        return Err(ReconcileError::Teardown(format!(
            "{}/{}: {message}",
            failed.namespace, failed.name
        )));
    }
    let waiting: Vec<&str> = reports
        .iter()
        .filter(|r| r.waiting())
        .filter_map(|r| r.status.deleting_condition().map(|c| c.reason.as_str()))
        .collect();
    let replicas = waiting.contains(&"WaitingForEdgeReplicas");
    context.metrics.set_waiting(key, replicas);
    if waiting.is_empty() {
        return Ok(Action::await_change());
    }
    let poll = context.engine.poll_interval();
    let retry_after = if replicas && !waiting.contains(&"WaitingForDeployment") {
        context
            .engine
            .next_teardown_attempt()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .unwrap_or(poll)
    } else {
        poll
    };
    Err(ReconcileError::Waiting {
        reason: waiting.join(", "),
        retry_after: retry_after.max(Duration::from_secs(1)),
    })
}

/// Writes every report's status and the events users must see.
async fn publish(
    context: &Context,
    distribution: &DynamicObject,
    reports: &[ResourceReport],
) -> Result<(), ReconcileError> {
    for report in reports {
        let (resource, object) = match report.kind {
            Kind::EdgeDistribution => (
                &context.distribution_resource,
                Arc::new(distribution.clone()),
            ),
            Kind::ProtectedFunctionUrl => {
                let Some(url) = context.url_object(&report.namespace, &report.name) else {
                    continue;
                };
                // A URL gone from the cache has nothing left to show.
                (&context.url_resource, url)
            }
        };
        let before = Before::of(&object);
        match context
            .write_status(resource, &object, &report.status)
            .await
        {
            Ok(_) => {}
            // An object deleted meanwhile has no status to write.
            Err(kube::Error::Api(response)) if response.code == 404 => continue,
            Err(error) => return Err(error.into()),
        }
        for (type_, reason, note) in events(report, before) {
            context.event(resource, &object, type_, &reason, note).await;
        }
    }
    Ok(())
}

/// What an object showed before this reconcile wrote its status.
#[derive(Debug, Clone, Copy)]
struct Before {
    /// `Ready=True`.
    ready: bool,
    /// The status was written for the current spec (`observedGeneration`
    /// = `generation`): whatever this reconcile changes in AWS is drift.
    spec_seen: bool,
    /// Being deleted.
    deleting: bool,
}

impl Before {
    fn of(object: &DynamicObject) -> Before {
        let content = objects::content(object);
        let ready = content
            .pointer("/status/conditions")
            .and_then(|c| c.as_array())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
        let observed = content
            .pointer("/status/observedGeneration")
            .and_then(serde_json::Value::as_i64);
        Before {
            ready,
            spec_seen: observed.is_some() && observed == object.metadata.generation,
            deleting: is_deleting(object),
        }
    }
}

/// The events a report is worth: the URL switched from `NONE` to
/// `AWS_IAM` (a warning: it was open), drift repaired (changes made while
/// the spec stayed as last seen), changes made to a distribution for a new
/// spec or deleting it, the distribution deployed, a teardown waiting for
/// replicas or failing.
fn events(report: &ResourceReport, before: Before) -> Vec<(EventType, String, String)> {
    let mut events = Vec::new();
    let mut changes = Vec::new();
    for action in &report.actions {
        if action == SWITCHED_TO_IAM {
            events.push((
                EventType::Warning,
                "AuthSwitchedToIam".to_owned(),
                action.clone(),
            ));
        } else {
            changes.push(action.as_str());
        }
    }
    // A URL's own changes are in its status; an event for each of
    // thousands of URLs would only crowd the recorder's cache and etcd.
    if !changes.is_empty() && (report.kind == Kind::EdgeDistribution || before.spec_seen) {
        let reason = if before.deleting {
            "Deleted"
        } else if before.spec_seen {
            "DriftRepaired"
        } else {
            "Updated"
        };
        events.push((EventType::Normal, reason.to_owned(), changes.join("; ")));
    }
    if let Some(deleting) = report.status.deleting_condition() {
        if deleting.reason == "WaitingForEdgeReplicas" {
            events.push((
                EventType::Normal,
                "WaitingForEdgeReplicas".to_owned(),
                deleting.message.clone(),
            ));
        } else if report.failed() {
            events.push((
                EventType::Warning,
                "TeardownFailed".to_owned(),
                deleting.message.clone(),
            ));
        }
        return events;
    }
    if let Some(ready) = report.status.ready_condition() {
        if report.ready && !before.ready && report.kind == Kind::EdgeDistribution {
            events.push((
                EventType::Normal,
                "Deployed".to_owned(),
                ready.message.clone(),
            ));
        } else if report.failed() {
            events.push((
                EventType::Warning,
                ready.reason.clone(),
                ready.message.clone(),
            ));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{EdgeDistributionStatus, ProtectedFunctionUrlStatus};
    use crate::reconcile::Status;
    use crate::reconcile::report::condition;

    fn url_report(ready: bool, reason: &str, actions: &[&str]) -> ResourceReport {
        ResourceReport {
            kind: Kind::ProtectedFunctionUrl,
            namespace: "books".into(),
            name: "get-books".into(),
            ready,
            status: Status::Url(ProtectedFunctionUrlStatus {
                conditions: vec![condition("Ready", ready, reason, "the message")],
                ..ProtectedFunctionUrlStatus::default()
            }),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            changes: Vec::new(),
        }
    }

    fn reasons(events: &[(EventType, String, String)]) -> Vec<(EventType, &str)> {
        events.iter().map(|(t, r, _)| (*t, r.as_str())).collect()
    }

    const NEW_SPEC: Before = Before {
        ready: true,
        spec_seen: false,
        deleting: false,
    };
    const SEEN_SPEC: Before = Before {
        spec_seen: true,
        ..NEW_SPEC
    };
    const NOT_READY: Before = Before {
        ready: false,
        ..NEW_SPEC
    };
    const DELETING: Before = Before {
        deleting: true,
        ..SEEN_SPEC
    };

    #[test]
    fn an_opened_url_warns_and_changes_are_updates_or_drift_by_the_spec() {
        let report = url_report(
            true,
            "Attached",
            &[
                SWITCHED_TO_IAM,
                "repair drifted grant urlguard-books",
                "write SSM parameter /books/GetBooksUrl",
            ],
        );
        assert_eq!(
            reasons(&events(&report, NEW_SPEC)),
            [(EventType::Warning, "AuthSwitchedToIam")],
            "a URL's changes for its new spec are in its status"
        );
        let found = events(&report, SEEN_SPEC);
        assert_eq!(
            reasons(&found),
            [
                (EventType::Warning, "AuthSwitchedToIam"),
                (EventType::Normal, "DriftRepaired"),
            ]
        );
        assert_eq!(
            found[1].2,
            "repair drifted grant urlguard-books; write SSM parameter /books/GetBooksUrl"
        );
        assert!(events(&url_report(true, "Attached", &[]), SEEN_SPEC).is_empty());
    }

    #[test]
    fn a_distribution_is_announced_deployed_once() {
        let deployed = ResourceReport {
            kind: Kind::EdgeDistribution,
            namespace: "books".into(),
            name: "books".into(),
            ready: true,
            status: Status::Distribution(EdgeDistributionStatus {
                conditions: vec![condition(
                    "Ready",
                    true,
                    "Deployed",
                    "distribution E1 is deployed",
                )],
                ..EdgeDistributionStatus::default()
            }),
            actions: Vec::new(),
            changes: Vec::new(),
        };
        assert_eq!(
            reasons(&events(&deployed, NOT_READY)),
            [(EventType::Normal, "Deployed")]
        );
        assert!(events(&deployed, NEW_SPEC).is_empty(), "already ready");
        let updated = ResourceReport {
            actions: vec!["update distribution E1 (1 field(s) differ)".to_owned()],
            ..deployed
        };
        assert_eq!(
            reasons(&events(&updated, NEW_SPEC)),
            [(EventType::Normal, "Updated")]
        );
    }

    #[test]
    fn failures_warn_with_their_reason_and_progress_is_quiet() {
        let failed = url_report(false, "FunctionNotFound", &[]);
        assert_eq!(
            reasons(&events(&failed, NOT_READY)),
            [(EventType::Warning, "FunctionNotFound")]
        );
        assert!(events(&url_report(false, "DistributionNotReady", &[]), NOT_READY).is_empty());
    }

    #[test]
    fn a_teardown_reports_waiting_for_replicas_or_its_failure() {
        let mut waiting = url_report(
            false,
            "WaitingForEdgeReplicas",
            &["remove cache behavior /getBooks"],
        );
        if let Status::Url(status) = &mut waiting.status {
            status.conditions.push(condition(
                "Deleting",
                true,
                "WaitingForEdgeReplicas",
                "since 10:00",
            ));
        }
        assert_eq!(
            reasons(&events(&waiting, DELETING)),
            [
                (EventType::Normal, "Deleted"),
                (EventType::Normal, "WaitingForEdgeReplicas")
            ]
        );
        let mut failed = url_report(false, "AwsError", &[]);
        if let Status::Url(status) = &mut failed.status {
            status
                .conditions
                .push(condition("Deleting", true, "AwsError", "AccessDenied"));
        }
        assert_eq!(
            reasons(&events(&failed, DELETING)),
            [(EventType::Warning, "TeardownFailed")]
        );
    }
}
