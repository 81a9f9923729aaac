//! Which pass a distribution's reconcile runs, from what the controller
//! remembers of its last one, so that waiting costs what it must and no
//! more:
//!
//! - a **full** pass (the distribution and every attached URL read, and
//!   AWS made to match) when its spec or the set of attached URLs (or one's
//!   spec) changed since the last full pass, when CloudFront finished
//!   deploying, and when its resync is due;
//! - a **poll** (one `GetDistribution`) while CloudFront deploys and
//!   nothing else changed; the interval doubles from `--poll-interval` to
//!   `--poll-max-interval`;
//! - a **retry** of the URLs whose own problem failed them in the last
//!   pass, once their backoff ends, with every sibling held as found (not
//!   read; see `DesiredUrl::held`); each failing URL backs off on its own
//!   (doubling from `--error-retry-interval` to
//!   `--error-retry-max-interval`, with jitter) and a success forgets it;
//! - nothing, when a trigger comes before any of these is due.
//!
//! The memory is in-process. After a restart, a distribution whose status
//! records a recent confirmation of the same specs (`status.confirmed`,
//! see `resync::resume_in`) is [`Passes::resume`]d at its next resync
//! slot; any other starts with a full pass. Times are arguments, so the
//! choice is tested without a clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::backoff::Backoff;

/// Namespace and name of a distribution.
pub type Key = (String, String);

/// The pass to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Read everything and make AWS match.
    Full,
    /// Ask CloudFront whether distribution `id` is deployed, and nothing
    /// else.
    Poll {
        /// The distribution's id.
        id: String,
    },
    /// Retry these URLs (by name), holding the others as found.
    Retry {
        /// The URLs whose retry is due.
        urls: Vec<String>,
    },
    /// Nothing is due yet: look again after this long.
    Wait(Duration),
}

/// What a full or retry pass ended with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassOutcome {
    /// The distribution's id while CloudFront deploys it.
    pub deploying: Option<String>,
    /// URLs (by name) that failed on a problem of their own.
    pub failed: Vec<String>,
    /// URLs (by name) that did not.
    pub passed: Vec<String>,
}

/// The schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedules {
    /// Deploy polls.
    pub poll: Backoff,
    /// A failing URL's retries.
    pub retry: Backoff,
}

/// What is remembered of one distribution.
#[derive(Debug, Clone)]
struct Memory {
    /// Its spec and attached URLs at the last full pass.
    fingerprint: u64,
    /// When its next full pass is due.
    resync_at: Instant,
    /// CloudFront is deploying it.
    deploying: Option<Deploying>,
    /// Its URLs that failed, by name.
    failing: BTreeMap<String, Failing>,
}

#[derive(Debug, Clone)]
struct Deploying {
    id: String,
    polls: u32,
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Failing {
    failures: u32,
    at: Instant,
}

impl Memory {
    /// When something is next due.
    fn next_due(&self) -> Instant {
        let polls = self.deploying.as_ref().map(|d| d.at);
        let retries = self.failing.values().map(|f| f.at);
        polls
            .into_iter()
            .chain(retries)
            .fold(self.resync_at, Instant::min)
    }
}

/// The memory of every distribution.
#[derive(Debug, Default)]
pub struct Passes {
    memory: Mutex<HashMap<Key, Memory>>,
}

impl Passes {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Key, Memory>) -> T) -> T {
        f(&mut self.memory.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The pass to run for `key`, whose spec and URLs hash to `fingerprint`.
    pub fn next(&self, key: &Key, fingerprint: u64, now: Instant) -> Next {
        self.with(|memory| {
            let Some(memory) = memory.get(key) else {
                return Next::Full;
            };
            if memory.fingerprint != fingerprint {
                return Next::Full;
            }
            if let Some(deploying) = &memory.deploying {
                return if deploying.at <= now {
                    Next::Poll {
                        id: deploying.id.clone(),
                    }
                } else {
                    Next::Wait(deploying.at - now)
                };
            }
            let due: Vec<String> = memory
                .failing
                .iter()
                .filter(|(_, failing)| failing.at <= now)
                .map(|(name, _)| name.clone())
                .collect();
            if !due.is_empty() {
                return Next::Retry { urls: due };
            }
            if memory.resync_at <= now {
                return Next::Full;
            }
            Next::Wait(memory.next_due() - now)
        })
    }

    /// Records a full pass (`resync_in`: when the next is due) or, with
    /// `resync_in` `None`, a retry; returns when to look again.
    pub fn passed(
        &self,
        key: &Key,
        fingerprint: u64,
        now: Instant,
        resync_in: Option<Duration>,
        outcome: &PassOutcome,
        schedules: Schedules,
    ) -> Duration {
        self.with(|memory| {
            let entry = memory.entry(key.clone()).or_insert_with(|| Memory {
                fingerprint,
                resync_at: now,
                deploying: None,
                failing: BTreeMap::new(),
            });
            if let Some(resync_in) = resync_in {
                entry.fingerprint = fingerprint;
                entry.resync_at = now + resync_in;
                // A full pass saw every URL attached: one that left is
                // not retried.
                entry
                    .failing
                    .retain(|name, _| outcome.failed.contains(name));
            }
            entry.deploying = outcome.deploying.as_ref().map(|id| Deploying {
                id: id.clone(),
                polls: 1,
                at: now + schedules.poll.step(1),
            });
            for name in &outcome.passed {
                entry.failing.remove(name);
            }
            for name in &outcome.failed {
                let failures = entry.failing.get(name).map_or(0, |f| f.failures) + 1;
                let at = now + schedules.retry.jittered(failures);
                entry.failing.insert(name.clone(), Failing { failures, at });
            }
            entry.next_due().saturating_duration_since(now)
        })
    }

    /// Records a poll that found CloudFront still deploying; returns when
    /// to poll again.
    pub fn still_deploying(&self, key: &Key, now: Instant, schedules: Schedules) -> Duration {
        self.with(|memory| {
            let Some(deploying) = memory.get_mut(key).and_then(|m| m.deploying.as_mut()) else {
                return schedules.poll.first;
            };
            deploying.polls = deploying.polls.saturating_add(1);
            let step = schedules.poll.step(deploying.polls);
            deploying.at = now + step;
            step
        })
    }

    /// Whether anything is remembered of `key` (nothing after a restart).
    pub fn remembers(&self, key: &Key) -> bool {
        self.with(|memory| memory.contains_key(key))
    }

    /// Takes up `key`, unknown to this process, as confirmed in AWS for
    /// `fingerprint` by an earlier one: its next full pass is due at
    /// `resync_at`, and nothing else is.
    pub fn resume(&self, key: &Key, fingerprint: u64, resync_at: Instant) {
        self.with(|memory| {
            memory.entry(key.clone()).or_insert_with(|| Memory {
                fingerprint,
                resync_at,
                deploying: None,
                failing: BTreeMap::new(),
            });
        });
    }

    /// Forgets `key`: its next reconcile is a full pass.
    pub fn forget(&self, key: &Key) {
        self.with(|memory| memory.remove(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULES: Schedules = Schedules {
        poll: Backoff {
            first: Duration::from_secs(15),
            cap: Duration::from_secs(300),
        },
        retry: Backoff {
            first: Duration::from_secs(30),
            cap: Duration::from_secs(600),
        },
    };
    const RESYNC: Option<Duration> = Some(Duration::from_secs(1_800));

    fn key() -> Key {
        ("books".into(), "books".into())
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_deployment_is_polled_with_a_growing_interval_until_something_changes() {
        let (passes, start) = (Passes::default(), Instant::now());
        assert_eq!(passes.next(&key(), 1, start), Next::Full, "nothing known");
        let deploying = PassOutcome {
            deploying: Some("E1".into()),
            ..PassOutcome::default()
        };
        let first = passes.passed(&key(), 1, start, RESYNC, &deploying, SCHEDULES);
        assert_eq!(first, secs(15));
        assert_eq!(
            passes.next(&key(), 1, start + secs(5)),
            Next::Wait(secs(10))
        );
        let poll = Next::Poll { id: "E1".into() };
        let mut now = start + secs(15);
        let mut steps = Vec::new();
        for _ in 0..6 {
            assert_eq!(passes.next(&key(), 1, now), poll);
            let step = passes.still_deploying(&key(), now, SCHEDULES);
            steps.push(step.as_secs());
            now += step;
        }
        assert_eq!(steps, [30, 60, 120, 240, 300, 300]);
        assert_eq!(passes.next(&key(), 2, now), Next::Full, "the spec changed");
        passes.forget(&key());
        assert_eq!(passes.next(&key(), 1, now), Next::Full, "forgotten");
    }

    #[test]
    fn a_failing_url_is_retried_alone_with_backoff_and_forgotten_once_it_passes() {
        let (passes, start) = (Passes::default(), Instant::now());
        let failed = PassOutcome {
            failed: vec!["get-book".into()],
            passed: vec!["get-books".into()],
            ..PassOutcome::default()
        };
        let mut now = start;
        let mut waits = Vec::new();
        let mut resync = RESYNC;
        for _ in 0..5 {
            let wait = passes.passed(&key(), 1, now, resync, &failed, SCHEDULES);
            resync = None;
            waits.push(wait);
            assert!(matches!(passes.next(&key(), 1, now), Next::Wait(_)));
            now += wait;
            assert_eq!(
                passes.next(&key(), 1, now),
                Next::Retry {
                    urls: vec!["get-book".into()]
                }
            );
        }
        for (n, wait) in waits.iter().enumerate() {
            let step = SCHEDULES.retry.step(u32::try_from(n + 1).expect("small"));
            assert!(*wait >= step / 2 && *wait <= step, "{n}: {wait:?}");
        }
        let passed = PassOutcome {
            passed: vec!["get-book".into()],
            ..PassOutcome::default()
        };
        let wait = passes.passed(&key(), 1, now, None, &passed, SCHEDULES);
        assert_eq!(
            now + wait,
            start + secs(1_800),
            "the resync, kept by retries"
        );
        assert!(matches!(passes.next(&key(), 1, now), Next::Wait(_)));
        assert_eq!(passes.next(&key(), 1, start + secs(1_800)), Next::Full);
    }

    #[test]
    fn a_url_that_left_is_not_retried() {
        let (passes, now) = (Passes::default(), Instant::now());
        let failed = PassOutcome {
            failed: vec!["get-book".into()],
            ..PassOutcome::default()
        };
        passes.passed(&key(), 1, now, RESYNC, &failed, SCHEDULES);
        let without = PassOutcome::default();
        passes.passed(&key(), 2, now, RESYNC, &without, SCHEDULES);
        assert_eq!(
            passes.next(&key(), 2, now + secs(900)),
            Next::Wait(secs(900)),
            "nothing to retry; the resync comes next"
        );
    }

    #[test]
    fn a_deployment_comes_before_retries() {
        let (passes, now) = (Passes::default(), Instant::now());
        let both = PassOutcome {
            deploying: Some("E1".into()),
            failed: vec!["get-book".into()],
            passed: Vec::new(),
        };
        passes.passed(&key(), 1, now, RESYNC, &both, SCHEDULES);
        assert_eq!(
            passes.next(&key(), 1, now + secs(600)),
            Next::Poll { id: "E1".into() }
        );
    }

    #[test]
    fn a_resumed_distribution_waits_for_its_slot_unless_its_specs_changed() {
        let (passes, now) = (Passes::default(), Instant::now());
        assert!(!passes.remembers(&key()));
        passes.resume(&key(), 1, now + secs(600));
        assert!(passes.remembers(&key()));
        assert_eq!(passes.next(&key(), 1, now), Next::Wait(secs(600)));
        assert_eq!(passes.next(&key(), 1, now + secs(600)), Next::Full);
        assert_eq!(passes.next(&key(), 2, now), Next::Full, "a URL changed");
    }
}
