//! Teardowns that end: how often a teardown whose failure no retry can fix
//! (a region that does not exist, access denied, a request AWS refuses as
//! invalid) is tried before it is given up, and how far apart.
//!
//! Only such passes count. A pass that fails for a reason that passes
//! (throttling, 5xx, no answer, a conflict) or waits for AWS (deployment,
//! edge replicas) counts nothing and is retried as before, however long it
//! takes: giving up there would orphan what a later pass could still
//! delete. The count lives where a restart finds it (the controller: the
//! object's annotation [`ATTEMPTS_ANNOTATION`]; the CLI: one run), and a
//! pass that is not stuck leaves it as it is.

use std::time::Duration;

/// The annotation on a deleted object counting its stuck teardown passes.
pub const ATTEMPTS_ANNOTATION: &str = "urlguard.io/teardown-attempts";

/// Stuck passes before the teardown is given up, by default.
pub const DEFAULT_ATTEMPTS: u32 = 5;

/// The longest wait between two stuck passes.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// What follows a stuck pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterStuck {
    /// Try again after `after`; this pass was attempt `attempt`.
    TryAgain {
        /// This pass's number, 1-based.
        attempt: u32,
        /// When to try again.
        after: Duration,
    },
    /// This pass was the last one allowed: say what stays and let go.
    GiveUp {
        /// Passes made, this one included.
        attempts: u32,
    },
}

/// The stuck passes counted so far, from the annotation's value. A value
/// that is not a count (edited by hand) counts as none: the teardown then
/// tries more, never less.
pub fn counted(annotation: Option<&str>) -> u32 {
    annotation
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

/// After a stuck pass, with `before` stuck passes counted earlier, at most
/// `limit` allowed, and `first_wait` between the first two: the wait
/// doubles each time, up to an hour.
pub fn after_stuck(before: u32, limit: u32, first_wait: Duration) -> AfterStuck {
    let attempt = before.saturating_add(1);
    if attempt >= limit.max(1) {
        return AfterStuck::GiveUp { attempts: attempt };
    }
    let doubling = 2u32.saturating_pow(attempt - 1);
    let after = first_wait.saturating_mul(doubling).min(LONGEST_WAIT);
    AfterStuck::TryAgain { attempt, after }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuck_passes_are_spread_doubling_then_given_up_at_the_limit() {
        let first = Duration::from_secs(30);
        let waits: Vec<AfterStuck> = (0..5).map(|before| after_stuck(before, 5, first)).collect();
        assert_eq!(
            waits,
            vec![
                AfterStuck::TryAgain {
                    attempt: 1,
                    after: Duration::from_secs(30)
                },
                AfterStuck::TryAgain {
                    attempt: 2,
                    after: Duration::from_secs(60)
                },
                AfterStuck::TryAgain {
                    attempt: 3,
                    after: Duration::from_secs(120)
                },
                AfterStuck::TryAgain {
                    attempt: 4,
                    after: Duration::from_secs(240)
                },
                AfterStuck::GiveUp { attempts: 5 },
            ]
        );
        // Counted beyond the limit (the limit was lowered): give up now.
        assert_eq!(
            after_stuck(9, 5, first),
            AfterStuck::GiveUp { attempts: 10 }
        );
        // A limit of 0 or 1 gives up after the first stuck pass.
        assert_eq!(after_stuck(0, 0, first), AfterStuck::GiveUp { attempts: 1 });
        // The wait never passes an hour.
        assert_eq!(
            after_stuck(20, 100, first),
            AfterStuck::TryAgain {
                attempt: 21,
                after: LONGEST_WAIT
            }
        );
    }

    #[test]
    fn the_count_is_read_from_the_annotation_and_garbage_counts_as_none() {
        assert_eq!(counted(None), 0);
        assert_eq!(counted(Some("3")), 3);
        assert_eq!(counted(Some(" 2 ")), 2);
        assert_eq!(counted(Some("many")), 0);
        assert_eq!(counted(Some("-1")), 0);
    }
}
