//! Client-side rate limits: token buckets shared by every adapter of a
//! process, one per service, region and quota, so that urlguard stays
//! within a share of the account's API quotas instead of finding them by
//! being throttled (which throttles every other tool in the account too).
//!
//! Default rates are half of what AWS documents for the account and region:
//! - Lambda ("Lambda quotas", API requests,
//!   <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>):
//!   `GetFunction` 100 requests/s, `GetPolicy` 15/s, and 15/s for the rest
//!   of the control plane together (`GetFunctionUrlConfig`,
//!   `CreateFunctionUrlConfig`, `AddPermission`, `PublishVersion`, ...);
//! - SSM Parameter Store's default throughput, 40 transactions/s
//!   ("AWS Systems Manager endpoints and quotas",
//!   <https://docs.aws.amazon.com/general/latest/gr/ssm.html>);
//! - CloudFront, IAM and STS publish no request rate for their control
//!   planes; CloudFront is known to throttle at tens of parallel calls, IAM
//!   is a global service of every account: 5/s each, STS 20/s.
//!
//! A bucket holds one second's worth (at least one token) and callers wait
//! in turn (a reservation makes the wait first come, first served).
//! Adaptive: a throttled answer (any attempt, also one the SDK retries)
//! halves the bucket's rate, down to a tenth of its setting; each second
//! without one gives back a twentieth of the setting.
//!
//! The buckets take time as an argument ([`Bucket::reserve`]), so their
//! arithmetic is tested without a clock.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a bucket covers: a service, or one operation's own quota.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quota {
    /// `lambda`, `cloudfront`, `iam`, `ssm` or `sts`.
    pub service: String,
    /// The operation with a quota of its own (`GetFunction`), or `None` for
    /// the rest of the service.
    pub operation: Option<String>,
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operation {
            Some(operation) => write!(f, "{}:{operation}", self.service),
            None => f.write_str(&self.service),
        }
    }
}

/// A rate a quota is held to, in requests per second (`0` for none).
#[derive(Debug, Clone, PartialEq)]
pub struct RateSetting {
    /// The quota.
    pub quota: Quota,
    /// Requests per second; 0 lifts the limit.
    pub per_second: f64,
}

/// Why a `--aws-rate-limit` setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--aws-rate-limit {text}: {reason} (expected SERVICE[:OPERATION]=REQUESTS_PER_SECOND, such as lambda=7.5 or lambda:GetFunction=50)"
)]
pub struct RateSettingError {
    text: String,
    reason: String,
}

const SERVICES: [&str; 5] = ["cloudfront", "iam", "lambda", "ssm", "sts"];

impl FromStr for RateSetting {
    type Err = RateSettingError;

    fn from_str(text: &str) -> Result<RateSetting, RateSettingError> {
        let refuse = |reason: &str| RateSettingError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (scope, rate) = text.split_once('=').ok_or_else(|| refuse("no '='"))?;
        let (service, operation) = match scope.split_once(':') {
            Some((service, operation)) => (service, Some(operation)),
            None => (scope, None),
        };
        if !SERVICES.contains(&service) {
            return Err(refuse(&format!(
                "unknown service {service:?}; one of {}",
                SERVICES.join(", ")
            )));
        }
        if operation.is_some_and(|o| o.is_empty() || !o.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(refuse(
                "the operation must be an API name such as GetFunction",
            ));
        }
        let per_second: f64 = rate
            .parse()
            .map_err(|_| refuse("the rate is not a number"))?;
        if !per_second.is_finite() || per_second < 0.0 {
            return Err(refuse("the rate must be 0 (no limit) or more"));
        }
        Ok(RateSetting {
            quota: Quota {
                service: service.to_owned(),
                operation: operation.map(str::to_owned),
            },
            per_second,
        })
    }
}

/// The rates every quota is held to.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    rates: BTreeMap<Quota, f64>,
}

impl Default for RateLimits {
    /// Half of each documented quota (see the module documentation).
    fn default() -> RateLimits {
        let quota = |service: &str, operation: Option<&str>| Quota {
            service: service.to_owned(),
            operation: operation.map(str::to_owned),
        };
        RateLimits {
            rates: BTreeMap::from([
                (quota("lambda", Some("GetFunction")), 50.0),
                (quota("lambda", Some("GetPolicy")), 7.5),
                (quota("lambda", None), 7.5),
                (quota("ssm", None), 20.0),
                (quota("cloudfront", None), 5.0),
                (quota("iam", None), 5.0),
                (quota("sts", None), 20.0),
            ]),
        }
    }
}

impl RateLimits {
    /// No limit at all (tests that measure something else).
    pub fn unlimited() -> RateLimits {
        RateLimits {
            rates: BTreeMap::new(),
        }
    }

    /// The defaults with `settings` applied over them.
    pub fn with(settings: &[RateSetting]) -> RateLimits {
        let mut limits = RateLimits::default();
        for setting in settings {
            limits
                .rates
                .insert(setting.quota.clone(), setting.per_second);
        }
        limits
    }

    /// The quota a call counts against and its rate: the operation's own
    /// quota when it has one, else the service's; `None` when unlimited.
    fn quota_of(&self, service: &str, operation: &str) -> Option<(Quota, f64)> {
        let own = Quota {
            service: service.to_owned(),
            operation: Some(operation.to_owned()),
        };
        let shared = Quota {
            service: service.to_owned(),
            operation: None,
        };
        [own, shared]
            .into_iter()
            .find_map(|quota| self.rates.get(&quota).map(|&rate| (quota, rate)))
            .filter(|(_, rate)| *rate > 0.0)
    }
}

/// One token bucket (virtual scheduling: the time the next token is free).
#[derive(Debug, Clone)]
pub struct Bucket {
    configured: f64,
    rate: f64,
    /// When the bucket would be full again; a wait is how far in the future
    /// this lies beyond one second's burst.
    next_free: Instant,
    last_adjusted: Instant,
}

impl Bucket {
    /// A full bucket at `rate` requests per second.
    pub fn new(rate: f64, now: Instant) -> Bucket {
        Bucket {
            configured: rate,
            rate,
            next_free: now,
            last_adjusted: now,
        }
    }

    /// Takes one token at `now`: how long the caller must wait for it.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        self.recover(now);
        let burst = Duration::from_secs_f64(self.rate.max(1.0) / self.rate);
        let interval = Duration::from_secs_f64(1.0 / self.rate);
        let start = self.next_free.max(now.checked_sub(burst).unwrap_or(now));
        self.next_free = start + interval;
        self.next_free.saturating_duration_since(now + burst)
    }

    /// A throttled answer at `now`: halve the rate, down to a tenth of the
    /// setting.
    pub fn throttled(&mut self, now: Instant) {
        self.recover(now);
        self.rate = (self.rate / 2.0).max(self.configured / 10.0);
        self.last_adjusted = now;
    }

    /// The rate now, in requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Each second without a throttled answer gives back a twentieth of
    /// the setting.
    fn recover(&mut self, now: Instant) {
        let quiet = now
            .saturating_duration_since(self.last_adjusted)
            .as_secs_f64();
        if quiet > 0.0 && self.rate < self.configured {
            self.rate = (self.rate + self.configured / 20.0 * quiet).min(self.configured);
        }
        self.last_adjusted = now;
    }
}

/// What the limiter saw: a wait for a token, or a throttled answer.
#[derive(Debug, Clone, PartialEq)]
pub enum RateEvent {
    /// A call waited this long for its token.
    Waited {
        /// The service.
        service: &'static str,
        /// The operation.
        operation: String,
        /// How long.
        waited: Duration,
    },
    /// AWS throttled an attempt.
    Throttled {
        /// The service.
        service: &'static str,
        /// The operation.
        operation: String,
    },
}

/// Where the limiter reports waits and throttles (the controller's
/// metrics).
pub type RateObserver = Arc<dyn Fn(&RateEvent) + Send + Sync>;

/// The buckets of a process, by region and quota. Cloning shares them.
#[derive(Clone)]
pub struct RateLimiter {
    limits: Arc<RateLimits>,
    buckets: Arc<Mutex<HashMap<(String, Quota), Bucket>>>,
    observer: Option<RateObserver>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Buckets at `limits`, reporting to `observer`.
    pub fn new(limits: RateLimits, observer: Option<RateObserver>) -> RateLimiter {
        RateLimiter {
            limits: Arc::new(limits),
            buckets: Arc::default(),
            observer,
        }
    }

    /// Waits for a token of the quota `operation` counts against in
    /// `region`.
    pub async fn acquire(&self, service: &'static str, region: &str, operation: &str) {
        let Some(wait) = self.with_bucket(service, region, operation, |bucket, now| {
            bucket.reserve(now)
        }) else {
            return;
        };
        if wait.is_zero() {
            return;
        }
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(
            service,
            region,
            operation,
            wait_ms,
            "waiting for the rate limit"
        );
        if let Some(observer) = &self.observer {
            observer(&RateEvent::Waited {
                service,
                operation: operation.to_owned(),
                waited: wait,
            });
        }
        tokio::time::sleep(wait).await;
    }

    /// AWS throttled an attempt of `operation` in `region`: slow down.
    pub fn throttled(&self, service: &'static str, region: &str, operation: &str) {
        let rate = self.with_bucket(service, region, operation, |bucket, now| {
            bucket.throttled(now);
            bucket.rate()
        });
        tracing::info!(
            service,
            region,
            operation,
            rate_per_second = rate,
            "throttled by AWS: slowing down"
        );
        if let Some(observer) = &self.observer {
            observer(&RateEvent::Throttled {
                service,
                operation: operation.to_owned(),
            });
        }
    }

    /// The rate `operation` is held to in `region` now (`None`: no limit).
    pub fn current_rate(
        &self,
        service: &'static str,
        region: &str,
        operation: &str,
    ) -> Option<f64> {
        self.with_bucket(service, region, operation, |bucket, _| bucket.rate())
    }

    fn with_bucket<T>(
        &self,
        service: &str,
        region: &str,
        operation: &str,
        act: impl FnOnce(&mut Bucket, Instant) -> T,
    ) -> Option<T> {
        let (quota, rate) = self.limits.quota_of(service, operation)?;
        // tokio's clock, so that tests with paused time see waits add up.
        let now = tokio::time::Instant::now().into_std();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets
            .entry((region.to_owned(), quota))
            .or_insert_with(|| Bucket::new(rate, now));
        Some(act(bucket, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_full_bucket_lets_one_seconds_worth_through_then_spaces_calls() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(5.0, t0);
        let waits: Vec<Duration> = (0..7).map(|_| bucket.reserve(t0)).collect();
        assert_eq!(&waits[..5], &[Duration::ZERO; 5], "a burst of 5");
        assert_eq!(waits[5], ms(200));
        assert_eq!(waits[6], ms(400), "callers queue in turn");
        // A second later five more tokens came, two of them already
        // promised to the calls that waited.
        let later = t0 + ms(1000);
        let waits: Vec<Duration> = (0..4).map(|_| bucket.reserve(later)).collect();
        assert_eq!(
            waits,
            [Duration::ZERO, Duration::ZERO, Duration::ZERO, ms(200)]
        );
    }

    #[test]
    fn a_rate_below_one_still_lets_one_call_through() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(0.5, t0);
        assert_eq!(bucket.reserve(t0), Duration::ZERO);
        assert_eq!(bucket.reserve(t0), Duration::from_secs(2));
    }

    #[test]
    fn throttling_halves_the_rate_to_a_floor_and_quiet_seconds_give_it_back() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(10.0, t0);
        bucket.throttled(t0);
        assert_eq!(bucket.rate(), 5.0);
        for _ in 0..10 {
            bucket.throttled(t0);
        }
        assert_eq!(bucket.rate(), 1.0, "a tenth of the setting at least");
        bucket.reserve(t0 + Duration::from_secs(4));
        assert_eq!(
            bucket.rate(),
            3.0,
            "half a request per second back per quiet second"
        );
        bucket.reserve(t0 + Duration::from_secs(60));
        assert_eq!(bucket.rate(), 10.0, "never above the setting");
    }

    #[test]
    fn operations_with_their_own_quota_use_it_and_the_rest_share_the_service() {
        let limits = RateLimits::default();
        let (quota, rate) = limits.quota_of("lambda", "GetFunction").expect("limited");
        assert_eq!(
            (quota.to_string(), rate),
            ("lambda:GetFunction".to_owned(), 50.0)
        );
        let (quota, rate) = limits
            .quota_of("lambda", "GetFunctionUrlConfig")
            .expect("limited");
        assert_eq!((quota.to_string(), rate), ("lambda".to_owned(), 7.5));
        let (quota, _) = limits.quota_of("lambda", "AddPermission").expect("limited");
        assert_eq!(
            quota.to_string(),
            "lambda",
            "one shared bucket for the control plane"
        );
        assert_eq!(
            RateLimits::unlimited().quota_of("lambda", "GetFunction"),
            None
        );
        let lifted = RateLimits::with(&["cloudfront=0".parse().expect("setting")]);
        assert_eq!(lifted.quota_of("cloudfront", "GetDistribution"), None);
    }

    #[test]
    fn settings_name_what_is_wrong() {
        let setting: RateSetting = "lambda:GetPolicy=3".parse().expect("valid");
        assert_eq!(setting.quota.to_string(), "lambda:GetPolicy");
        assert_eq!(setting.per_second, 3.0);
        for (text, reason) in [
            ("lambda", "no '='"),
            ("s3=1", "unknown service \"s3\""),
            ("lambda=fast", "not a number"),
            ("lambda=-1", "0 (no limit) or more"),
            ("lambda:=1", "an API name"),
        ] {
            let error = text.parse::<RateSetting>().expect_err(text).to_string();
            assert!(error.contains(reason), "{text}: {error}");
            assert!(
                error.starts_with(&format!("--aws-rate-limit {text}:")),
                "{error}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_spaces_calls_per_region_and_reports_waits() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let limiter = RateLimiter::new(
            RateLimits::with(&["lambda=2".parse().expect("setting")]),
            Some(Arc::new(move |e: &RateEvent| {
                seen.lock().expect("events").push(e.clone())
            })),
        );
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            limiter
                .acquire("lambda", "eu-west-1", "GetFunctionUrlConfig")
                .await;
        }
        assert_eq!(start.elapsed(), ms(1000), "2 at once, then 2 per second");
        let other_region = tokio::time::Instant::now();
        limiter
            .acquire("lambda", "us-east-1", "GetFunctionUrlConfig")
            .await;
        assert_eq!(
            other_region.elapsed(),
            Duration::ZERO,
            "each region has its own quota"
        );
        limiter.throttled("lambda", "eu-west-1", "AddPermission");
        assert_eq!(
            limiter.current_rate("lambda", "eu-west-1", "GetFunctionUrlConfig"),
            Some(1.0)
        );
        let events = events.lock().expect("events");
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, RateEvent::Waited { .. }))
                .count(),
            2
        );
        assert!(events.contains(&RateEvent::Throttled {
            service: "lambda",
            operation: "AddPermission".to_owned()
        }));
    }
}
