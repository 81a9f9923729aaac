//! The engine's memory of Lambda@Edge replica waits: per signer function
//! and per retired version, since when Lambda refuses to delete it
//! ("replicated function") and when to ask again. It is the one thing the
//! engine remembers between passes rather than reads back from AWS,
//! because AWS says nothing about when CloudFront will let go; a restarted
//! process starts the schedule over, which costs one early attempt.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::plan::teardown::ReplicaWait;

/// The functions and versions this engine knows to wait for their edge
/// replicas, by key (`lambda:<function name>` or a version ARN). Cloning
/// shares it.
#[derive(Debug, Clone, Default)]
pub(super) struct ReplicaWaits(Arc<Mutex<BTreeMap<String, ReplicaWait>>>);

impl ReplicaWaits {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ReplicaWait>> {
        // A panic while holding the lock leaves a consistent map.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn get(&self, key: &str) -> Option<ReplicaWait> {
        self.lock().get(key).copied()
    }

    pub(super) fn set(&self, key: &str, wait: ReplicaWait) {
        self.lock().insert(key.to_owned(), wait);
    }

    pub(super) fn set_if_absent(&self, key: &str, wait: ReplicaWait) {
        self.lock().entry(key.to_owned()).or_insert(wait);
    }

    pub(super) fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The earliest attempt due after `now`, if any.
    pub(super) fn next_attempt_after(&self, now: SystemTime) -> Option<SystemTime> {
        self.lock()
            .values()
            .map(|w| w.next_attempt_at)
            .filter(|at| *at > now)
            .min()
    }
}

/// The key of a whole signer function in [`ReplicaWaits`].
pub(super) fn function_key(function_name: &str) -> String {
    format!("lambda:{function_name}")
}

/// `at` as a Kubernetes time, to the second.
pub(super) fn kube_time(at: SystemTime) -> Option<Time> {
    let seconds = at.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Timestamp::from_second(i64::try_from(seconds).ok()?)
        .ok()
        .map(Time)
}

/// `at` as RFC 3339, to the second.
pub(super) fn rfc3339(at: SystemTime) -> String {
    kube_time(at).map_or_else(|| "(unknown time)".to_owned(), |t| t.0.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_shown_to_the_second() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_583_200_900);
        assert_eq!(rfc3339(at), "2025-12-01T10:00:00Z");
        assert_eq!(
            kube_time(at).map(|t| t.0.to_string()).as_deref(),
            Some("2025-12-01T10:00:00Z")
        );
    }

    #[test]
    fn the_next_attempt_is_the_earliest_one_still_to_come() {
        let waits = ReplicaWaits::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let at = |seconds| ReplicaWait {
            since: UNIX_EPOCH,
            next_attempt_at: UNIX_EPOCH + Duration::from_secs(seconds),
            refusals: 1,
        };
        assert_eq!(waits.next_attempt_after(now), None);
        waits.set(&function_key("signer"), at(900));
        assert_eq!(
            waits.next_attempt_after(now),
            None,
            "a due attempt is not a future one"
        );
        waits.set("arn:aws:lambda:us-east-1:1:function:signer:2", at(1_600));
        waits.set("arn:aws:lambda:us-east-1:1:function:signer:3", at(1_300));
        assert_eq!(
            waits.next_attempt_after(now),
            Some(UNIX_EPOCH + Duration::from_secs(1_300))
        );
        waits.set_if_absent("arn:aws:lambda:us-east-1:1:function:signer:3", at(5_000));
        assert_eq!(
            waits.next_attempt_after(now),
            Some(UNIX_EPOCH + Duration::from_secs(1_300)),
            "an existing wait is kept"
        );
        waits.remove("arn:aws:lambda:us-east-1:1:function:signer:3");
        assert_eq!(
            waits.next_attempt_after(now),
            Some(UNIX_EPOCH + Duration::from_secs(1_600))
        );
        let shared = waits.clone();
        shared.remove("arn:aws:lambda:us-east-1:1:function:signer:2");
        assert_eq!(
            waits.next_attempt_after(now),
            None,
            "clones share the memory"
        );
    }
}
