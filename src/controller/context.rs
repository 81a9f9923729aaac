//! What every reconcile shares: the Kubernetes client, the reconcile
//! engine, the caches of both kinds, one lock per distribution, metrics,
//! the event recorder and the requeue intervals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::Client;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use tokio::sync::OwnedMutexGuard;

use super::accounts::Accounts;
use super::backoff::{Backoff, Failures};
use super::error::ReconcileError;
use super::filled::Filled;
use super::metrics::Metrics;
use super::objects::{self, FINALIZER, distribution_ref, has_finalizer, is_deleting, namespace_of};
use super::passes::{Passes, Schedules};
use super::status;
use crate::api::{EdgeDistribution, ProtectedFunctionUrl};
use crate::aws::WriteGate;
use crate::reconcile::{EventReason, Status};

/// When objects are looked at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// While CloudFront deploys: the first poll, doubling.
    pub deploying: Duration,
    /// The longest interval between two polls.
    pub deploying_max: Duration,
    /// After a failed reconcile (AWS error, missing function): the first
    /// retry, doubling with jitter per object.
    pub after_error: Duration,
    /// The longest interval between two retries.
    pub after_error_max: Duration,
    /// After success, to find and repair drift: the shortest interval
    /// (the resync budget lengthens it with the object count).
    pub resync: Duration,
    /// Stuck teardown passes before the teardown is given up (`give_up`).
    pub teardown_attempts: u32,
}

impl Timing {
    /// The retries of a failed object.
    pub fn retries(&self) -> Backoff {
        Backoff {
            first: self.after_error,
            cap: self.after_error_max.max(self.after_error),
        }
    }

    /// The polls and URL retries of a distribution's passes.
    pub fn schedules(&self) -> Schedules {
        Schedules {
            poll: Backoff {
                first: self.deploying,
                cap: self.deploying_max.max(self.deploying),
            },
            retry: self.retries(),
        }
    }
}

/// The shared state of both controllers.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// Asked before every Kubernetes write (status, finalizer, event);
    /// the engine's AWS writes ask the same gate.
    pub gate: WriteGate,
    /// The reconcile engine of each AWS account (their replica-wait
    /// memories are shared by every reconcile of the account).
    pub accounts: Accounts,
    /// The urlguard instance.
    pub instance: String,
    /// Where each namespace's SSM parameters must be (`--ssm-prefix`).
    pub ssm_prefix: crate::plan::ssm_prefix::SsmPrefix,
    /// `EdgeDistribution`s, as the watch last saw them.
    pub distributions: Store<DynamicObject>,
    /// `ProtectedFunctionUrl`s, as the watch last saw them.
    pub urls: Store<DynamicObject>,
    /// The `EdgeDistribution` resource.
    pub distribution_resource: ApiResource,
    /// The `ProtectedFunctionUrl` resource.
    pub url_resource: ApiResource,
    /// Serializes AWS work per distribution.
    pub locks: DistributionLocks,
    /// Metrics.
    pub metrics: Metrics,
    /// Publishes events.
    pub recorder: Recorder,
    /// Requeue intervals.
    pub timing: Timing,
    /// Consecutive failed reconciles per object (by uid).
    pub failures: Failures<String>,
    /// What each distribution's last pass found (`passes`).
    pub passes: Passes,
    /// Whether both caches hold a complete list.
    pub filled: Filled,
}

impl Context {
    /// The valid `ProtectedFunctionUrl`s naming distribution `name` in
    /// `namespace`: `(attached, leaving)`. Attached ones carry the finalizer
    /// (so nothing is made in AWS for an object whose deletion urlguard
    /// would not see) and are not being deleted; leaving ones are being
    /// deleted with the finalizer still on.
    pub fn urls_of(
        &self,
        namespace: &str,
        name: &str,
    ) -> (Vec<ProtectedFunctionUrl>, Vec<ProtectedFunctionUrl>) {
        let mut attached = Vec::new();
        let mut leaving = Vec::new();
        for object in self.urls.state() {
            if namespace_of(&object) != namespace
                || distribution_ref(&object).as_deref() != Some(name)
                || !has_finalizer(&object, FINALIZER)
            {
                continue;
            }
            let Ok(url) = objects::decode_url(&object) else {
                continue;
            };
            if is_deleting(&object) {
                leaving.push(url);
            } else {
                attached.push(url);
            }
        }
        (attached, leaving)
    }

    /// Every valid `ProtectedFunctionUrl` of the cache that is not being
    /// deleted, in any namespace: a teardown leaves the URL configs of the
    /// functions they name.
    pub fn live_urls(&self) -> Vec<ProtectedFunctionUrl> {
        self.urls
            .state()
            .iter()
            .filter(|object| !is_deleting(object))
            .filter_map(|object| objects::decode_url(object).ok())
            .collect()
    }

    /// The distribution `name` in `namespace`, if it exists, is valid and is
    /// not being deleted.
    pub fn live_distribution(&self, namespace: &str, name: &str) -> Option<EdgeDistribution> {
        let key = ObjectRef::new_with(name, self.distribution_resource.clone()).within(namespace);
        let object = self.distributions.get(&key)?;
        if is_deleting(&object) {
            return None;
        }
        objects::decode_distribution(&object).ok()
    }

    /// The distribution `name` in `namespace`, if it exists and is valid,
    /// being deleted or not: whether it is observed decides a URL's
    /// teardown until it is gone.
    pub fn distribution(&self, namespace: &str, name: &str) -> Option<EdgeDistribution> {
        let key = ObjectRef::new_with(name, self.distribution_resource.clone()).within(namespace);
        let object = self.distributions.get(&key)?;
        objects::decode_distribution(&object).ok()
    }

    /// The cached `ProtectedFunctionUrl` object `name` in `namespace`.
    pub fn url_object(&self, namespace: &str, name: &str) -> Option<Arc<DynamicObject>> {
        let key = ObjectRef::new_with(name, self.url_resource.clone()).within(namespace);
        self.urls.get(&key)
    }

    /// Writes `status` to `object` (of `resource`), if it changes anything.
    pub async fn write_status(
        &self,
        resource: &ApiResource,
        object: &DynamicObject,
        status: &Status,
    ) -> Result<bool, ReconcileError> {
        self.writable()?;
        Ok(status::write(&self.client, resource, object, status).await?)
    }

    /// `Ok` while this process may write (it holds the leader lease).
    pub fn writable(&self) -> Result<(), ReconcileError> {
        self.gate.check().map_err(ReconcileError::from)
    }

    /// Publishes an event about `object`. An event that cannot be written
    /// is logged, never fails the reconcile.
    pub async fn event(
        &self,
        resource: &ApiResource,
        object: &DynamicObject,
        type_: EventType,
        reason: EventReason,
        note: String,
    ) {
        if let Err(closed) = self.gate.check() {
            tracing::warn!(object = %object.name_any(), %reason, %closed, "event not published");
            return;
        }
        let reference = object.object_ref(resource);
        let event = Event {
            type_,
            reason: reason.as_str().to_owned(),
            note: Some(truncate(note, 1024)),
            action: "Reconcile".to_owned(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, &reference).await {
            tracing::warn!(object = %object.name_any(), %reason, %error, "could not publish an event");
        }
    }
}

/// Event notes are bounded (the API server refuses more than 1 kB).
fn truncate(mut note: String, limit: usize) -> String {
    if note.len() > limit {
        let mut end = limit.saturating_sub(3);
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
        note.push_str("...");
    }
    note
}

/// One async lock per distribution: the distribution's reconcile and the
/// teardown of a URL leaving it never run at the same time, so neither
/// recreates what the other just removed.
#[derive(Debug, Default)]
pub struct DistributionLocks {
    locks: Mutex<HashMap<DistributionKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// Namespace and name of a distribution.
type DistributionKey = (String, String);

impl DistributionLocks {
    /// Waits for the lock of distribution `name` in `namespace`.
    pub async fn lock(&self, namespace: &str, name: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self
                .locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Locks nobody holds or waits for are dropped, so the map stays
            // as small as the work in flight.
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks
                .entry((namespace.to_owned(), name.to_owned()))
                .or_default()
                .clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let note = "é".repeat(600);
        let cut = truncate(note, 1024);
        assert!(cut.len() <= 1024);
        assert!(cut.ends_with("..."));
        assert_eq!(truncate("short".into(), 1024), "short");
    }

    #[tokio::test]
    async fn one_distribution_is_locked_at_a_time_and_others_are_free() {
        let locks = DistributionLocks::default();
        let held = locks.lock("books", "books").await;
        let other =
            tokio::time::timeout(Duration::from_millis(50), locks.lock("books", "films")).await;
        assert!(other.is_ok(), "another distribution is not blocked");
        let same =
            tokio::time::timeout(Duration::from_millis(50), locks.lock("books", "books")).await;
        assert!(same.is_err(), "the same distribution waits");
        drop(held);
        let after =
            tokio::time::timeout(Duration::from_millis(50), locks.lock("books", "books")).await;
        assert!(after.is_ok(), "free again once released");
    }
}
