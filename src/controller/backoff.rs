//! Exponential backoff with jitter: the delay before the next attempt
//! after a run of failures (a failed reconcile, a failing URL) or of polls
//! that found CloudFront still deploying, and the count of consecutive
//! failures per object, reset on success.
//!
//! The delay doubles from `first` to `cap`; jitter draws it from the upper
//! half of that (`[d/2, d]`), so objects that failed together (an outage,
//! throttling) do not retry together, and none retries sooner than half
//! its step.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;
use std::time::Duration;

/// A doubling schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The step after the first failure.
    pub first: Duration,
    /// The longest step.
    pub cap: Duration,
}

impl Backoff {
    /// The step after `failures` consecutive failures (1: the first),
    /// before jitter.
    pub fn step(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first
            .saturating_mul(1u32 << doublings)
            .min(self.cap)
            .max(self.first.min(self.cap))
    }

    /// The step after `failures`, with jitter: `draw` in `[0, 1)` picks a
    /// point in the upper half of the step.
    pub fn delay(&self, failures: u32, draw: f64) -> Duration {
        let step = self.step(failures);
        step.mul_f64(0.5 + 0.5 * draw.clamp(0.0, 1.0))
    }

    /// [`Backoff::delay`] with a fresh random draw.
    pub fn jittered(&self, failures: u32) -> Duration {
        self.delay(failures, draw())
    }
}

/// A uniform draw in `[0, 1)`: std's randomly keyed hasher is random
/// enough for jitter, without a dependency for it.
pub fn draw() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    // The top 53 bits make an f64 in [0, 1).
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Consecutive failures per object.
#[derive(Debug, Default)]
pub struct Failures<K> {
    counts: Mutex<HashMap<K, u32>>,
}

impl<K: Hash + Eq> Failures<K> {
    /// Counts one more failure of `key`; returns how many in a row.
    pub fn failed(&self, key: K) -> u32 {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(key).or_default();
        *count = count.saturating_add(1);
        *count
    }

    /// Forgets the failures of `key`: it succeeded.
    pub fn succeeded(&self, key: &K) {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: Backoff = Backoff {
        first: Duration::from_secs(30),
        cap: Duration::from_secs(600),
    };

    #[test]
    fn the_step_doubles_up_to_the_cap() {
        let steps: Vec<u64> = (1..=7).map(|n| SCHEDULE.step(n).as_secs()).collect();
        assert_eq!(steps, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(
            SCHEDULE.step(0).as_secs(),
            30,
            "no failure yet: the first step"
        );
        assert_eq!(SCHEDULE.step(u32::MAX), SCHEDULE.cap, "no overflow");
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_the_step() {
        assert_eq!(SCHEDULE.delay(2, 0.0), Duration::from_secs(30));
        assert_eq!(SCHEDULE.delay(2, 0.5), Duration::from_secs(45));
        assert!(SCHEDULE.delay(2, 0.999_999) < Duration::from_secs(60));
        for _ in 0..100 {
            let delay = SCHEDULE.jittered(3);
            assert!(
                delay >= Duration::from_secs(60) && delay <= Duration::from_secs(120),
                "{delay:?}"
            );
        }
        let draws: Vec<f64> = (0..50).map(|_| draw()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        assert!(
            draws.iter().any(|d| (d - draws[0]).abs() > 1e-9),
            "the draws vary"
        );
    }

    #[test]
    fn failures_count_in_a_row_and_reset_on_success() {
        let failures = Failures::default();
        assert_eq!(failures.failed("a"), 1);
        assert_eq!(failures.failed("a"), 2);
        assert_eq!(failures.failed("b"), 1);
        failures.succeeded(&"a");
        assert_eq!(failures.failed("a"), 1, "reset by the success");
    }
}
