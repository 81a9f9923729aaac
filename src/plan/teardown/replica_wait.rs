//! Waiting for Lambda@Edge replicas: CloudFront removes a signer version's
//! replicas hours after its last association leaves, and until then Lambda
//! refuses to delete the version (or the function) with "replicated
//! function". A [`ReplicaWait`] remembers when the wait began and when to ask
//! again; [`RetryPolicy::interval`] spaces the attempts (doubling from
//! `first` up to `cap`).

use std::time::{Duration, SystemTime};

/// How often to ask Lambda again to delete a replicated function or
/// version: `first` after the first refusal, doubling, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The interval after the first refusal.
    pub first: Duration,
    /// The longest interval.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// Five minutes, doubling to an hour: CloudFront removes replicas within
    /// a few hours of the last association leaving.
    fn default() -> Self {
        RetryPolicy {
            first: Duration::from_secs(5 * 60),
            cap: Duration::from_secs(60 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait after `refusals` refusals in a row (at least one).
    pub fn interval(&self, refusals: u32) -> Duration {
        let doublings = refusals.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// A function or version waiting for its edge replicas to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaWait {
    /// When urlguard first found it waiting (or took its last association
    /// away).
    pub since: SystemTime,
    /// Refusals so far.
    pub refusals: u32,
    /// When to ask again.
    pub next_attempt_at: SystemTime,
}

impl ReplicaWait {
    /// Retired at `now` (its last association just left), not tried yet:
    /// the first attempt comes after the first interval.
    pub fn starting(now: SystemTime, policy: &RetryPolicy) -> ReplicaWait {
        ReplicaWait {
            since: now,
            refusals: 0,
            next_attempt_at: now + policy.first,
        }
    }

    /// Released at `now` by a teardown that deletes right away: the first
    /// attempt is due at once (the replicas may be gone already), and
    /// `since` remembers when the associations left.
    pub fn released(now: SystemTime) -> ReplicaWait {
        ReplicaWait {
            since: now,
            refusals: 0,
            next_attempt_at: now,
        }
    }

    /// After a refusal at `now` (`previous` is the wait so far, if any).
    pub fn refused(
        previous: Option<&ReplicaWait>,
        now: SystemTime,
        policy: &RetryPolicy,
    ) -> ReplicaWait {
        let refusals = previous.map_or(0, |p| p.refusals) + 1;
        ReplicaWait {
            since: previous.map_or(now, |p| p.since),
            refusals,
            next_attempt_at: now + policy.interval(refusals),
        }
    }

    /// Whether an attempt is due at `now`.
    pub fn due(&self, now: SystemTime) -> bool {
        now >= self.next_attempt_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_interval_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(5),
        };
        let intervals: Vec<u64> = (1..=6).map(|n| policy.interval(n).as_secs()).collect();
        assert_eq!(intervals, [1, 2, 4, 5, 5, 5]);
        assert_eq!(policy.interval(0), Duration::from_secs(1));
        assert_eq!(policy.interval(u32::MAX), Duration::from_secs(5));
        let defaults = RetryPolicy::default();
        assert_eq!(defaults.interval(1), Duration::from_secs(300));
        assert_eq!(defaults.interval(10), Duration::from_secs(3600));
    }

    #[test]
    fn a_wait_keeps_its_start_and_grows_its_interval() {
        let policy = RetryPolicy {
            first: Duration::from_secs(10),
            cap: Duration::from_secs(60),
        };
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let first = ReplicaWait::refused(None, t0, &policy);
        assert_eq!(first.since, t0);
        assert_eq!(first.next_attempt_at, t0 + Duration::from_secs(10));
        assert!(!first.due(t0 + Duration::from_secs(9)));
        assert!(first.due(t0 + Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(10);
        let second = ReplicaWait::refused(Some(&first), t1, &policy);
        assert_eq!(second.since, t0);
        assert_eq!(second.refusals, 2);
        assert_eq!(second.next_attempt_at, t1 + Duration::from_secs(20));
        let starting = ReplicaWait::starting(t0, &policy);
        assert_eq!(starting.refusals, 0);
        assert!(!starting.due(t0));
        let released = ReplicaWait::released(t0);
        assert!(released.due(t0));
        let after = ReplicaWait::refused(Some(&released), t1, &policy);
        assert_eq!((after.since, after.refusals), (t0, 1));
    }
}
