//! Reconciling one `EdgeDistribution` with the `ProtectedFunctionUrl`s
//! attached to it: the engine makes AWS match, then every report becomes a
//! status (the distribution's and each URL's) and the events users must
//! see. Deletion runs the engine's teardown behind the finalizer, which
//! stays until AWS is clean, however long CloudFront keeps the signer's
//! Lambda@Edge replicas.
//!
//! Which pass runs (full, deploy poll, retry of failing URLs) is
//! `passes`'s choice. All AWS work for a distribution, including the
//! teardown of URLs leaving it, runs under the distribution's lock (see
//! `context`).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};

use super::cache::content;
use super::config_map::{self, Learnt};
use super::context::Context;
use super::error::ReconcileError;
use super::objects::{self, FINALIZER, is_deleting, namespace_of};
use super::passes::Next;
use super::{give_up, outcome};
use crate::api::{Confirmation, EdgeDistribution, ManagementPolicy, ProtectedFunctionUrl};
use crate::plan::{desired, teardown};
use crate::reconcile::{
    Class, ConditionType, Engine, EventReason, Kind, Pass, Reason, ResourceReport, Status,
};

/// Reconciles one `EdgeDistribution` (the controller's entry point).
pub async fn reconcile(
    object: Arc<DynamicObject>,
    context: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let work = reconcile_object(object.clone(), &context);
    outcome::measured(Kind::EdgeDistribution, &object, &context, work).await
}

async fn reconcile_object(
    object: Arc<DynamicObject>,
    context: &Context,
) -> Result<Action, ReconcileError> {
    context.filled.wait().await?;
    let namespace = namespace_of(&object);
    let name = object.name_any();
    let distribution = match objects::decode_distribution(&object) {
        Ok(distribution) => distribution,
        Err(invalid) => {
            return outcome::invalid(context, &context.distribution_resource, &object, invalid)
                .await;
        }
    };
    let engine = outcome::engine_for(context, &context.distribution_resource, &object).await?;
    let _lock = context.locks.lock(&namespace, &name).await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        context.client.clone(),
        &namespace,
        &context.distribution_resource,
    );
    // The helper adds the finalizer before the apply, removes it after the
    // cleanup: both writes, after the gate's say.
    context.writable()?;
    finalizer(&api, FINALIZER, object, |event| async {
        match event {
            Finalizer::Apply(object) => apply(context, &engine, &object, distribution).await,
            Finalizer::Cleanup(object) => {
                let action = cleanup(context, &engine, &object, distribution).await?;
                context.writable()?;
                Ok(action)
            }
        }
    })
    .await
    .map_err(ReconcileError::from)
}

/// Runs the pass `passes` says is due: a full one, a deploy poll (one
/// `GetDistribution`, which turns into a full pass once CloudFront is
/// done), a retry of failing URLs with their siblings held, or nothing yet.
async fn apply(
    context: &Context,
    engine: &Engine,
    object: &DynamicObject,
    distribution: EdgeDistribution,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(object);
    let key = (namespace.clone(), object.name_any());
    let (attached, _) = context.urls_of(&namespace, &key.1);
    let fingerprint = fingerprint(object, &attached);
    let now = Instant::now();
    let mut retried = None;
    let next = if context.passes.remembers(&key) {
        context.passes.next(&key, fingerprint, now)
    } else if let Some(wait) = outcome::resumable(context, object, &key, fingerprint) {
        tracing::debug!(
            resync_in_seconds = wait.as_secs(),
            "confirmed in AWS by an earlier process: waiting for the resync slot"
        );
        context.passes.resume(&key, fingerprint, now + wait);
        Next::Wait(wait)
    } else {
        Next::Full
    };
    match next {
        Next::Full => {}
        Next::Wait(wait) => return Ok(Action::requeue(wait)),
        Next::Retry { urls } => retried = Some(urls),
        Next::Poll { id } => match engine.deployed(&id).await {
            Ok(Some(false)) => {
                let wait = context
                    .passes
                    .still_deploying(&key, now, context.timing.schedules());
                tracing::debug!(distribution = %id, next_poll_seconds = wait.as_secs(), "CloudFront is still deploying");
                return Ok(Action::requeue(wait));
            }
            // Deployed, or gone: a full pass says so.
            Ok(_) => {}
            Err(error) => return Err(ReconcileError::Failed(error.to_string())),
        },
    }
    let mut model = desired::build_with(
        &context.instance,
        &context.ssm_prefix,
        &[distribution],
        &attached,
    );
    if let Some(retried) = &retried {
        tracing::debug!(urls = %retried.join(", "), "retrying failed URLs, their siblings held");
        for url in model
            .distributions
            .iter_mut()
            .flat_map(|d| d.urls.iter_mut())
        {
            url.held = !retried.contains(&url.owner.name);
        }
    }
    let reports = engine.reconcile(&model).await;
    let rejected: Vec<String> = model
        .rejected
        .iter()
        .map(|r| r.owner.name.clone())
        .collect();
    let pass = outcome::Finished {
        key: &key,
        fingerprint,
        started: now,
        full: retried.is_none(),
        rejected: &rejected,
    };
    let confirmed =
        outcome::confirms(&pass, &reports).then(|| outcome::confirmation(fingerprint, now));
    let names: Vec<String> = attached.iter().map(ResourceExt::name_any).collect();
    publish(context, object, &reports, &names, confirmed).await?;
    outcome::after_apply(context, &pass, &reports)
}

/// What makes a full pass due when it changes: the distribution's spec
/// and which URLs are attached, with their specs. In name order: the
/// cache's order differs from process to process, and a restarted one
/// compares with the fingerprint an earlier one confirmed.
fn fingerprint(object: &DynamicObject, attached: &[ProtectedFunctionUrl]) -> u64 {
    let mut urls: Vec<(&Option<String>, &Option<i64>)> = attached
        .iter()
        .map(|url| (&url.metadata.name, &url.metadata.generation))
        .collect();
    urls.sort();
    let mut hasher = DefaultHasher::new();
    object.metadata.generation.hash(&mut hasher);
    urls.hash(&mut hasher);
    hasher.finish()
}

/// Tears the distribution down with its URLs. An observed one is released
/// without any AWS call, once the URLs being deleted with it are gone:
/// until then they read from it that they are observed (see `url`), and a
/// URL whose distribution is gone follows its own policy.
async fn cleanup(
    context: &Context,
    engine: &Engine,
    object: &DynamicObject,
    distribution: EdgeDistribution,
) -> Result<Action, ReconcileError> {
    let namespace = namespace_of(object);
    let name = object.name_any();
    context.passes.forget(&(namespace.clone(), name.clone()));
    let (attached, leaving) = context.urls_of(&namespace, &name);
    if distribution.spec.management_policy == ManagementPolicy::Observe && !leaving.is_empty() {
        let urls: Vec<String> = leaving
            .iter()
            .map(|u| format!("{namespace}/{}", u.name_any()))
            .collect();
        return Err(ReconcileError::WaitingForUrls {
            urls: urls.join(", "),
            retry_after: engine.poll_interval(),
        });
    }
    let urls: Vec<_> = attached.into_iter().chain(leaving).collect();
    // The attached URLs that are not being deleted leave the distribution
    // but keep their URL configs: they are among the live URLs.
    let model = teardown::build(&context.instance, &[distribution], &urls)
        .with_staying(&context.instance, &context.live_urls());
    let reports = engine.destroy(&model).await;
    publish(context, object, &reports, &[], None).await?;
    let resource = &context.distribution_resource;
    if let Some(given_up) = give_up::after_stuck_pass(context, resource, object, &reports).await? {
        return Ok(given_up);
    }
    let key = format!("{namespace}/{name}");
    outcome::after_teardown(context, engine, &key, &reports)
}

/// Writes every report's status (the distribution's with the pass's
/// confirmation, if it made one) and the events users must see; after a
/// reconcile pass, exports each object's outputs first (`config_map`: the
/// distribution's lists the URLs `attached` to it, by name).
async fn publish(
    context: &Context,
    distribution: &DynamicObject,
    reports: &[ResourceReport],
    attached: &[String],
    confirmed: Option<Confirmation>,
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
        let mut status = report.status();
        if let Status::Distribution(status) = &mut status {
            status.confirmed.clone_from(&confirmed);
        }
        if report.pass == Pass::Reconcile {
            let learnt = Learnt::of_report(report, reports, attached);
            status = config_map::export(context, resource, &object, &learnt)
                .await?
                .into_status(status);
        }
        match context.write_status(resource, &object, &status).await {
            Ok(_) => {}
            // An object deleted meanwhile has no status to write.
            Err(ReconcileError::Kube(kube::Error::Api(response))) if response.code == 404 => {
                continue;
            }
            Err(error) => return Err(error),
        }
        for (type_, reason, note) in events(report, before) {
            context.event(resource, &object, type_, reason, note).await;
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
        let content = content(object);
        let ready = content
            .pointer("/status/conditions")
            .and_then(|c| c.as_array())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|c| c["type"] == ConditionType::Ready.as_str() && c["status"] == "True")
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
/// `AWS_IAM` (a warning: it was open), an invalidation created, drift repaired (changes made while
/// the spec stayed as last seen), changes made to a distribution for a new
/// spec or deleting it, the distribution deployed, a teardown waiting for
/// replicas or failing. An observed object's actions were not made: it is
/// worth a `Drifted` warning on every pass while AWS differs from its spec
/// (like `ForeignStatements`), and an `Observed` event when a distribution
/// is found matching its spec.
fn events(report: &ResourceReport, before: Before) -> Vec<(EventType, EventReason, String)> {
    let mut events: Vec<(EventType, EventReason, String)> = report
        .notices
        .iter()
        .map(|notice| {
            let kind = if notice.is_warning() {
                EventType::Warning
            } else {
                EventType::Normal
            };
            (kind, notice.event(), notice.to_string())
        })
        .collect();
    // A URL's own changes are in its status; an event for each of
    // thousands of URLs would only crowd the recorder's cache and etcd.
    if !report.observed
        && !report.actions.is_empty()
        && (report.kind == Kind::EdgeDistribution || before.spec_seen)
    {
        let reason = if before.deleting {
            EventReason::Condition(Reason::Deleted)
        } else if before.spec_seen {
            EventReason::DriftRepaired
        } else {
            EventReason::Updated
        };
        events.push((EventType::Normal, reason, report.actions.join("; ")));
    }
    let verdict = &report.verdict;
    match report.pass {
        Pass::Teardown if verdict.reason == Reason::WaitingForEdgeReplicas => {
            events.push((
                EventType::Normal,
                EventReason::Condition(verdict.reason),
                verdict.message.clone(),
            ));
        }
        Pass::Teardown if report.failed() => events.push((
            EventType::Warning,
            EventReason::TeardownFailed,
            verdict.message.clone(),
        )),
        Pass::Reconcile
            if report.ready() && !before.ready && report.kind == Kind::EdgeDistribution =>
        {
            events.push((
                EventType::Normal,
                EventReason::Condition(verdict.reason),
                verdict.message.clone(),
            ));
        }
        Pass::Reconcile if report.failed() || verdict.reason.class() == Class::Drifted => events
            .push((
                EventType::Warning,
                EventReason::Condition(verdict.reason),
                verdict.message.clone(),
            )),
        Pass::Teardown | Pass::Reconcile => {}
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{EdgeDistributionStatus, ProtectedFunctionUrlStatus};
    use crate::reconcile::{Notice, Status, Verdict};

    fn report(kind: Kind, pass: Pass, reason: Reason, actions: &[&str]) -> ResourceReport {
        ResourceReport {
            kind,
            namespace: "books".into(),
            name: "get-books".into(),
            pass,
            verdict: Verdict::new(reason, "the message"),
            found: match kind {
                Kind::EdgeDistribution => Status::Distribution(EdgeDistributionStatus::default()),
                Kind::ProtectedFunctionUrl => Status::Url(ProtectedFunctionUrlStatus::default()),
            },
            notices: Vec::new(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            changes: Vec::new(),
            observed: false,
        }
    }

    fn url_report(reason: Reason, actions: &[&str]) -> ResourceReport {
        report(Kind::ProtectedFunctionUrl, Pass::Reconcile, reason, actions)
    }

    fn reasons(events: &[(EventType, EventReason, String)]) -> Vec<(EventType, EventReason)> {
        events.iter().map(|(t, r, _)| (*t, *r)).collect()
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
        let report = ResourceReport {
            notices: vec![Notice::SwitchedToIam],
            ..url_report(
                Reason::Protected,
                &[
                    "repair drifted grant urlguard-books",
                    "write SSM parameter /books/GetBooksUrl",
                ],
            )
        };
        assert_eq!(
            reasons(&events(&report, NEW_SPEC)),
            [(EventType::Warning, EventReason::AuthSwitchedToIam)],
            "a URL's changes for its new spec are in its status"
        );
        let found = events(&report, SEEN_SPEC);
        assert_eq!(
            reasons(&found),
            [
                (EventType::Warning, EventReason::AuthSwitchedToIam),
                (EventType::Normal, EventReason::DriftRepaired),
            ]
        );
        assert_eq!(
            found[1].2,
            "repair drifted grant urlguard-books; write SSM parameter /books/GetBooksUrl"
        );
        assert!(events(&url_report(Reason::Protected, &[]), SEEN_SPEC).is_empty());
    }

    #[test]
    fn a_distribution_is_announced_deployed_once() {
        let deployed = report(
            Kind::EdgeDistribution,
            Pass::Reconcile,
            Reason::Deployed,
            &[],
        );
        assert_eq!(
            reasons(&events(&deployed, NOT_READY)),
            [(EventType::Normal, EventReason::Condition(Reason::Deployed))]
        );
        assert!(events(&deployed, NEW_SPEC).is_empty(), "already ready");
        let updated = ResourceReport {
            actions: vec!["update distribution E1 (1 field(s) differ)".to_owned()],
            ..deployed
        };
        assert_eq!(
            reasons(&events(&updated, NEW_SPEC)),
            [(EventType::Normal, EventReason::Updated)]
        );
    }

    #[test]
    fn an_adoption_is_announced_with_the_update_it_makes() {
        let adopted = ResourceReport {
            notices: vec![Notice::DistributionAdopted { id: "E1".into() }],
            ..report(
                Kind::EdgeDistribution,
                Pass::Reconcile,
                Reason::Deploying,
                &[
                    "adopt distribution E1: tag it urlguard.io/owner=urlguard/books/EdgeDistribution/books",
                    "update distribution E1 (9 field(s) differ)",
                ],
            )
        };
        let found = events(&adopted, NEW_SPEC);
        assert_eq!(
            reasons(&found),
            [
                (EventType::Normal, EventReason::Adopted),
                (EventType::Normal, EventReason::Updated),
            ]
        );
        assert_eq!(EventReason::Adopted.as_str(), "Adopted");
        assert!(found[0].2.contains("adopted distribution E1"), "{found:?}");
    }

    #[test]
    fn failures_warn_with_their_reason_and_progress_is_quiet() {
        let failed = url_report(Reason::FunctionNotFound, &[]);
        assert_eq!(
            reasons(&events(&failed, NOT_READY)),
            [(
                EventType::Warning,
                EventReason::Condition(Reason::FunctionNotFound)
            )]
        );
        assert!(events(&url_report(Reason::DistributionNotReady, &[]), NOT_READY).is_empty());
    }

    #[test]
    fn an_observed_object_warns_of_drift_and_never_claims_a_write() {
        let drifted = ResourceReport {
            observed: true,
            ..report(
                Kind::EdgeDistribution,
                Pass::Reconcile,
                Reason::Drifted,
                &["update distribution E1 (1 field(s) differ)"],
            )
        };
        for before in [NEW_SPEC, SEEN_SPEC, NOT_READY] {
            assert_eq!(
                reasons(&events(&drifted, before)),
                [(EventType::Warning, EventReason::Condition(Reason::Drifted))],
                "no Updated or DriftRepaired: nothing was written"
            );
        }
        let in_sync = ResourceReport {
            observed: true,
            ..report(
                Kind::EdgeDistribution,
                Pass::Reconcile,
                Reason::Observed,
                &[],
            )
        };
        assert_eq!(
            reasons(&events(&in_sync, NOT_READY)),
            [(EventType::Normal, EventReason::Condition(Reason::Observed))]
        );
        assert!(events(&in_sync, SEEN_SPEC).is_empty(), "already ready");
    }

    #[test]
    fn a_teardown_reports_waiting_for_replicas_or_its_failure() {
        let waiting = report(
            Kind::ProtectedFunctionUrl,
            Pass::Teardown,
            Reason::WaitingForEdgeReplicas,
            &["remove cache behavior /getBooks"],
        );
        assert_eq!(
            reasons(&events(&waiting, DELETING)),
            [
                (EventType::Normal, EventReason::Condition(Reason::Deleted)),
                (
                    EventType::Normal,
                    EventReason::Condition(Reason::WaitingForEdgeReplicas)
                )
            ]
        );
        let failed = report(
            Kind::ProtectedFunctionUrl,
            Pass::Teardown,
            Reason::AwsError,
            &[],
        );
        assert_eq!(
            reasons(&events(&failed, DELETING)),
            [(EventType::Warning, EventReason::TeardownFailed)]
        );
    }

    #[test]
    fn the_fingerprint_is_the_same_in_any_cache_order_and_moves_with_a_spec() {
        let url = |name: &str, generation: i64| -> ProtectedFunctionUrl {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "urlguard.io/v1alpha1",
                "kind": "ProtectedFunctionUrl",
                "metadata": {"name": name, "namespace": "books", "generation": generation},
                "spec": {
                    "function": {"name": "books-get-books", "region": "eu-west-1"},
                    "distributionRef": {"name": "books"},
                    "pathPattern": "/getBooks",
                },
            }))
            .expect("a URL")
        };
        let distribution: DynamicObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "books", "namespace": "books", "generation": 1},
        }))
        .expect("a distribution");
        let (a, b) = (url("a", 1), url("b", 1));
        assert_eq!(
            fingerprint(&distribution, &[a.clone(), b.clone()]),
            fingerprint(&distribution, &[b.clone(), a.clone()])
        );
        assert_ne!(
            fingerprint(&distribution, &[a.clone(), b]),
            fingerprint(&distribution, &[a, url("b", 2)])
        );
    }
}
