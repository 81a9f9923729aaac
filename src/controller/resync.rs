//! The resync budget: how often every distribution is passed over again,
//! with its URLs, to find and repair drift, so that steady state stays
//! within a fixed share of the account's API quotas however many objects
//! there are; and when each distribution's turn comes, so that the passes
//! are spread over the interval instead of arriving together.
//!
//! The interval is the configured one (`--resync-interval`) or, when a
//! full round over every object would read faster than the budget allows,
//! the time that round takes at the budget:
//!
//! ```text
//! interval = max(resync, max over quota classes c of
//!                (urls × per_url[c] + distributions × per_distribution[c]) / budget[c])
//! ```
//!
//! `per_url` and `per_distribution` are what one steady-state pass costs
//! (measured on the test bed: `tests/controller.rs`, the resync test,
//! fails if a pass costs more). The budget is a fifth of the account's
//! Lambda control-plane quota and of `GetPolicy`'s (3/s of 15/s), a fifth
//! of `GetFunction`'s (20/s of 100/s), and 1 CloudFront call/s: at 5,000
//! URLs over 100 distributions the interval is about 28 minutes, the time
//! drift can go unseen (`urlguard_resync_interval_seconds`). A spec change
//! is not subject to it: watch events reconcile at once.
//!
//! Each distribution gets a fixed phase in the interval from a hash of
//! its namespace and name (a stable jitter), and its next resync is its
//! next slot at least half an interval away: a controller that created
//! everything at once, or restarted, settles into an even spread after one
//! round.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

/// Calls one pass makes, per quota class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    /// Lambda control plane (`GetFunctionUrlConfig`, `ListVersionsByFunction`, ...).
    pub lambda: f64,
    /// `lambda:GetFunction`.
    pub get_function: f64,
    /// `lambda:GetPolicy`.
    pub get_policy: f64,
    /// CloudFront.
    pub cloudfront: f64,
}

/// What one steady-state pass reads per attached URL: its function
/// (`GetFunction`), its URL config, its resource policy.
pub const PER_URL: Cost = Cost {
    lambda: 1.0,
    get_function: 1.0,
    get_policy: 1.0,
    cloudfront: 0.0,
};

/// What one steady-state pass reads per distribution, besides its URLs:
/// the signer function (`GetFunction`) and its versions
/// (`ListVersionsByFunction`), the distribution and its origin access
/// controls (IAM and SSM reads are outside these quotas).
pub const PER_DISTRIBUTION: Cost = Cost {
    lambda: 1.0,
    get_function: 1.0,
    get_policy: 0.0,
    cloudfront: 2.0,
};

/// The steady-state rates, in calls per second, urlguard allows itself.
pub const BUDGET: Cost = Cost {
    lambda: 3.0,
    get_function: 20.0,
    get_policy: 3.0,
    cloudfront: 1.0,
};

/// The resync interval for `urls` URLs over `distributions`
/// distributions: `configured`, or longer when the budget needs it.
pub fn interval(configured: Duration, urls: usize, distributions: usize) -> Duration {
    let (urls, distributions) = (urls as f64, distributions as f64);
    let round = |per_url: f64, per_distribution: f64, budget: f64| {
        (urls * per_url + distributions * per_distribution) / budget
    };
    let seconds = [
        round(PER_URL.lambda, PER_DISTRIBUTION.lambda, BUDGET.lambda),
        round(
            PER_URL.get_function,
            PER_DISTRIBUTION.get_function,
            BUDGET.get_function,
        ),
        round(
            PER_URL.get_policy,
            PER_DISTRIBUTION.get_policy,
            BUDGET.get_policy,
        ),
        round(
            PER_URL.cloudfront,
            PER_DISTRIBUTION.cloudfront,
            BUDGET.cloudfront,
        ),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    configured.max(Duration::from_secs_f64(seconds.ceil()))
}

/// The phase in `[0, 1)` of the object `namespace/name` in every
/// interval: the same in every process, so a restart keeps the spread.
pub fn phase(namespace: &str, name: &str) -> f64 {
    let mut hasher = DefaultHasher::new();
    (namespace, name).hash(&mut hasher);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// How long from `now` (time since the epoch) until the next resync slot
/// of an object with `phase`, at least half an `interval` away.
pub fn until_next(now: Duration, interval: Duration, phase: f64) -> Duration {
    let length = interval.as_secs_f64().max(1.0);
    let mut wait = slot_in(now, length, phase);
    if wait < length / 2.0 {
        wait += length;
    }
    Duration::from_secs_f64(wait)
}

/// After a restart: how long from `now` a distribution last confirmed in
/// AWS at `confirmed` (both times since the epoch) may wait for its next
/// resync slot, or `None` when it needs a full pass at once because the
/// confirmation is older than an `interval` (or lies in the future: a
/// clock that jumped, or a status someone else wrote). Waiting for the
/// slot, not for `confirmed + interval`, keeps the spread a controller
/// that created everything at once would otherwise lose on restart; drift
/// then goes unseen for at most two intervals, once.
pub fn resume_in(
    confirmed: Duration,
    now: Duration,
    interval: Duration,
    phase: f64,
) -> Option<Duration> {
    let age = now.checked_sub(confirmed)?;
    (age < interval)
        .then(|| Duration::from_secs_f64(slot_in(now, interval.as_secs_f64().max(1.0), phase)))
}

/// Seconds from `now` to the next slot of `phase` in intervals of `length`
/// seconds.
fn slot_in(now: Duration, length: f64, phase: f64) -> f64 {
    let into = now.as_secs_f64().rem_euclid(length) / length;
    (phase - into).rem_euclid(1.0) * length
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_MINUTES: Duration = Duration::from_secs(600);

    #[test]
    fn the_interval_is_the_configured_one_until_the_budget_needs_more() {
        assert_eq!(interval(TEN_MINUTES, 5, 1), TEN_MINUTES);
        assert_eq!(interval(TEN_MINUTES, 0, 0), TEN_MINUTES);
        // 5,000 URLs over 100 distributions: the Lambda control plane
        // sets it, (5,000 + 100) / 3 s.
        let at_scale = interval(TEN_MINUTES, 5_000, 100);
        assert_eq!(at_scale, Duration::from_secs(1700));
        assert!(
            at_scale <= Duration::from_secs(35 * 60),
            "about half an hour"
        );
    }

    #[test]
    fn a_round_at_the_interval_stays_within_the_budget() {
        for (urls, distributions) in [(5, 1), (500, 10), (5_000, 100), (20_000, 100)] {
            let seconds = interval(TEN_MINUTES, urls, distributions).as_secs_f64();
            let rate = |per_url: f64, per_distribution: f64| {
                (urls as f64 * per_url + distributions as f64 * per_distribution) / seconds
            };
            assert!(rate(PER_URL.lambda, PER_DISTRIBUTION.lambda) <= BUDGET.lambda);
            assert!(
                rate(PER_URL.get_function, PER_DISTRIBUTION.get_function) <= BUDGET.get_function
            );
            assert!(rate(PER_URL.get_policy, PER_DISTRIBUTION.get_policy) <= BUDGET.get_policy);
            assert!(rate(PER_URL.cloudfront, PER_DISTRIBUTION.cloudfront) <= BUDGET.cloudfront);
        }
    }

    #[test]
    fn the_next_slot_is_the_phase_at_least_half_an_interval_away() {
        let interval = Duration::from_secs(100);
        let at = |now: u64, phase: f64| until_next(Duration::from_secs(now), interval, phase);
        assert_eq!(at(1_000, 0.7), Duration::from_secs(70));
        assert_eq!(
            at(1_060, 0.7),
            Duration::from_secs(110),
            "10 s away is too soon"
        );
        assert_eq!(
            at(1_070, 0.7),
            Duration::from_secs(100),
            "just passed: next round"
        );
        assert_eq!(at(1_000, 0.0), Duration::from_secs(100));
    }

    #[test]
    fn objects_passed_over_together_spread_over_the_interval() {
        let interval = Duration::from_secs(1_000);
        let now = Duration::from_secs(123_456);
        let mut tenths = [0usize; 10];
        for i in 0..1_000 {
            let wait = until_next(now, interval, phase("books", &format!("d{i}")));
            assert!(wait >= interval / 2 && wait < interval * 3 / 2, "{wait:?}");
            let slot = (now + wait).as_secs() % 1_000;
            tenths[usize::try_from(slot / 100).expect("small")] += 1;
        }
        assert!(
            tenths.iter().all(|n| (60..=140).contains(n)),
            "each tenth of the interval holds about a tenth: {tenths:?}"
        );
        assert_eq!(phase("books", "books"), phase("books", "books"), "stable");
    }

    #[test]
    fn a_restart_waits_for_the_slot_of_a_recent_confirmation_only() {
        let interval = Duration::from_secs(100);
        let secs = Duration::from_secs;
        assert_eq!(
            resume_in(secs(990), secs(1_000), interval, 0.7),
            Some(secs(70)),
            "confirmed 10 s ago: the slot, however near"
        );
        assert_eq!(
            resume_in(secs(990), secs(1_065), interval, 0.7),
            Some(secs(5))
        );
        assert_eq!(
            resume_in(secs(900), secs(1_000), interval, 0.7),
            None,
            "an interval old: now"
        );
        assert_eq!(
            resume_in(secs(1_010), secs(1_000), interval, 0.7),
            None,
            "from the future: now"
        );
    }
}
