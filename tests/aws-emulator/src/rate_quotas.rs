//! AWS's request-rate quotas, per account, region and quota: which quota an
//! API call counts against, the rates AWS documents, and the token buckets
//! that enforce them when asked (`EmulatorConfig::rate_quotas`,
//! `--enforce-rate-quotas`, `PUT /__emulator/rate-quotas`; off by default).
//! A call over its quota is answered with the service's own throttle
//! (`faults::fault_reply`: Lambda `429 TooManyRequestsException`, SSM `400
//! ThrottlingException`, CloudFront, IAM and STS `400 Throttling`, each
//! "Rate exceeded") and never reaches the service.
//!
//! The quotas ([`QuotaRates::aws`]):
//! - Lambda ("Lambda quotas", API requests,
//!   <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>):
//!   `GetFunction` 100 requests/s (`lambda:GetFunction`), `GetPolicy` 15/s
//!   (`lambda:GetPolicy`), and 15/s for the rest of the control plane
//!   together (`lambda`: every operation but invocations, which are not
//!   control plane);
//! - SSM Parameter Store ("AWS Systems Manager endpoints and quotas",
//!   <https://docs.aws.amazon.com/general/latest/gr/ssm.html>): default
//!   throughput 40 transactions/s shared by `GetParameter`,
//!   `GetParameters` and `GetParametersByPath`; the API reference's
//!   `GetParameter` and `PutParameter` pages
//!   (<https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html>)
//!   count `PutParameter` in the same throughput. No rate is documented for
//!   the rest of SSM (`AddTagsToResource`, `DeleteParameter`,
//!   `DescribeParameters`, ...); the emulator counts every SSM call in the
//!   one 40/s bucket (`ssm`), stricter than AWS may be;
//! - CloudFront documents no control-plane request rate (its "Quotas" page,
//!   <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html>,
//!   lists sizes and counts only) and throttles with `Throttling: Rate
//!   exceeded`; IAM and STS throttle with token buckets whose rates are
//!   not published ("How to monitor and query IAM resources at scale –
//!   Part 2", AWS Security Blog, and the Knowledge Center's "resolve API
//!   throttling or Rate exceeded errors for IAM and AWS STS"). Chosen here,
//!   conservatively: CloudFront 10/s and IAM 10/s for all their calls,
//!   STS 40/s — twice what urlguard's own client-side limits assume
//!   (`src/aws/rate_limit.rs`), as for the documented quotas.
//!
//! Buckets are keyed by (account, region, quota): the account the call acts
//! in (`accounts`: [`crate::ACCOUNT_ID`] but for sessions of roles in other
//! accounts); CloudFront and IAM
//! sign for `us-east-1`, so their buckets are global as on AWS. A bucket
//! holds one second's worth of tokens (at least one) and refills
//! continuously: AWS documents rates, not bursts. A throttled call takes
//! no token.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The quota an API call counts against, by its service's signing name
/// and operation; `None` for calls no rate quota covers (invocations,
/// unknown services).
pub fn quota_of(service: &str, operation: &str) -> Option<&'static str> {
    match (service, operation) {
        ("lambda", "Invoke" | "InvokeAsync" | "InvokeWithResponseStream") => None,
        ("lambda", "GetFunction") => Some("lambda:GetFunction"),
        ("lambda", "GetPolicy") => Some("lambda:GetPolicy"),
        ("lambda", _) => Some("lambda"),
        ("ssm", _) => Some("ssm"),
        ("cloudfront", _) => Some("cloudfront"),
        ("iam", _) => Some("iam"),
        ("sts", _) => Some("sts"),
        _ => None,
    }
}

/// Requests per second per quota (the names [`quota_of`] answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct QuotaRates {
    rates: BTreeMap<String, f64>,
}

/// A quota setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum QuotaRateError {
    #[error("`{0}` is not QUOTA=RATE")]
    Spec(String),
    #[error(
        "unknown quota `{0}` (lambda, lambda:GetFunction, lambda:GetPolicy, ssm, cloudfront, iam, sts)"
    )]
    Quota(String),
    #[error("quota {quota}: {rate} is not a positive rate")]
    Rate { quota: String, rate: f64 },
    #[error("cannot read quota rates as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl QuotaRates {
    /// The rates AWS documents, and the emulator's choice where it
    /// documents none (see the module docs).
    pub fn aws() -> QuotaRates {
        let rates = [
            ("lambda:GetFunction", 100.0),
            ("lambda:GetPolicy", 15.0),
            ("lambda", 15.0),
            ("ssm", 40.0),
            ("cloudfront", 10.0),
            ("iam", 10.0),
            ("sts", 40.0),
        ];
        QuotaRates {
            rates: rates.iter().map(|(q, r)| ((*q).to_owned(), *r)).collect(),
        }
    }

    /// The same rates with `quota` at `rate` requests per second.
    pub fn with(mut self, quota: &str, rate: f64) -> Result<QuotaRates, QuotaRateError> {
        if !self.rates.contains_key(quota) {
            return Err(QuotaRateError::Quota(quota.to_owned()));
        }
        if !(rate.is_finite() && rate > 0.0) {
            return Err(QuotaRateError::Rate {
                quota: quota.to_owned(),
                rate,
            });
        }
        self.rates.insert(quota.to_owned(), rate);
        Ok(self)
    }

    /// The same rates with a `QUOTA=RATE` setting (the CLI's `--rate-quota`).
    pub fn with_spec(self, spec: &str) -> Result<QuotaRates, QuotaRateError> {
        let (quota, rate) = spec
            .split_once('=')
            .ok_or_else(|| QuotaRateError::Spec(spec.to_owned()))?;
        let rate = rate
            .parse::<f64>()
            .map_err(|_| QuotaRateError::Spec(spec.to_owned()))?;
        self.with(quota, rate)
    }

    /// AWS's rates with the settings of a JSON object `{"QUOTA": RATE}`
    /// (`PUT /__emulator/rate-quotas`).
    pub fn aws_with_json(text: &str) -> Result<QuotaRates, QuotaRateError> {
        let settings: BTreeMap<String, f64> = serde_json::from_str(text)?;
        settings
            .into_iter()
            .try_fold(QuotaRates::aws(), |rates, (quota, rate)| {
                rates.with(&quota, rate)
            })
    }

    /// Every quota and its rate.
    pub fn as_map(&self) -> &BTreeMap<String, f64> {
        &self.rates
    }

    /// The rate of `quota`, if it is one.
    pub fn rate(&self, quota: &str) -> Option<f64> {
        self.rates.get(quota).copied()
    }
}

impl fmt::Display for QuotaRates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings: Vec<String> = self.rates.iter().map(|(q, r)| format!("{q}={r}")).collect();
        f.write_str(&settings.join(","))
    }
}

/// One token bucket: `rate` tokens a second, at most `capacity`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    refilled: Instant,
}

impl Bucket {
    fn full(rate: f64, now: Instant) -> Bucket {
        let capacity = rate.max(1.0);
        Bucket {
            tokens: capacity,
            capacity,
            rate,
            refilled: now,
        }
    }

    /// Takes a token if there is one at `now`.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled = self.refilled.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The quotas in force (none: not enforced) and their buckets.
#[derive(Debug, Default)]
pub(crate) struct QuotaBook {
    rates: Option<QuotaRates>,
    buckets: HashMap<(String, String, &'static str), Bucket>,
}

impl QuotaBook {
    pub(crate) fn new(rates: Option<QuotaRates>) -> QuotaBook {
        QuotaBook {
            rates,
            buckets: HashMap::new(),
        }
    }

    /// Enforces `rates` from now on (`None`: stops), with full buckets.
    pub(crate) fn replace(&mut self, rates: Option<QuotaRates>) {
        self.rates = rates;
        self.buckets.clear();
    }

    pub(crate) fn rates(&self) -> Option<&QuotaRates> {
        self.rates.as_ref()
    }

    /// Whether a call against `quota` in `region` may go ahead at `now`
    /// (always, when the quotas are not enforced).
    pub(crate) fn admit(&mut self, region: &str, quota: &'static str, now: Instant) -> bool {
        let Some(rate) = self.rates.as_ref().and_then(|rates| rates.rate(quota)) else {
            return true;
        };
        self.buckets
            .entry((crate::accounts::current(), region.to_owned(), quota))
            .or_insert_with(|| Bucket::full(rate, now))
            .take(now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn calls_count_against_the_quotas_aws_documents() {
        let rates = QuotaRates::aws();
        let rate_of = |service, operation| quota_of(service, operation).and_then(|q| rates.rate(q));
        assert_eq!(rate_of("lambda", "GetFunction"), Some(100.0));
        assert_eq!(rate_of("lambda", "GetPolicy"), Some(15.0));
        assert_eq!(quota_of("lambda", "GetFunctionUrlConfig"), Some("lambda"));
        assert_eq!(quota_of("lambda", "AddPermission"), Some("lambda"));
        assert_eq!(rate_of("lambda", "PublishVersion"), Some(15.0));
        assert_eq!(quota_of("lambda", "Invoke"), None);
        assert_eq!(rate_of("ssm", "GetParameter"), Some(40.0));
        assert_eq!(quota_of("ssm", "PutParameter"), Some("ssm"));
        assert_eq!(
            quota_of("cloudfront", "GetDistribution"),
            Some("cloudfront")
        );
        assert_eq!(quota_of("unknown", "Unknown"), None);
    }

    #[test]
    fn a_bucket_admits_a_seconds_worth_then_its_rate() {
        let start = Instant::now();
        let mut book = QuotaBook::new(Some(QuotaRates::aws()));
        let admitted = (0..20)
            .filter(|_| book.admit("eu-west-1", "lambda", start))
            .count();
        assert_eq!(admitted, 15);
        // Other regions and quotas have buckets of their own.
        assert!(book.admit("us-east-1", "lambda", start));
        assert!(book.admit("eu-west-1", "lambda:GetFunction", start));
        // 15/s: one token every 1/15 s.
        assert!(!book.admit("eu-west-1", "lambda", start + Duration::from_millis(60)));
        assert!(book.admit("eu-west-1", "lambda", start + Duration::from_millis(70)));
        assert!(!book.admit("eu-west-1", "lambda", start + Duration::from_millis(75)));
        // Idle buckets fill up to one second's worth, no more.
        let later = start + Duration::from_secs(60);
        let admitted = (0..20)
            .filter(|_| book.admit("eu-west-1", "lambda", later))
            .count();
        assert_eq!(admitted, 15);
    }

    #[test]
    fn unenforced_quotas_admit_everything_and_settings_are_checked() {
        let start = Instant::now();
        let mut book = QuotaBook::default();
        assert!((0..1000).all(|_| book.admit("eu-west-1", "lambda", start)));

        let rates = QuotaRates::aws()
            .with_spec("lambda=0.5")
            .expect("a setting");
        book.replace(Some(rates));
        assert!(book.admit("eu-west-1", "lambda", start));
        assert!(!book.admit("eu-west-1", "lambda", start + Duration::from_secs(1)));
        assert!(book.admit("eu-west-1", "lambda", start + Duration::from_secs(2)));

        assert!(
            QuotaRates::aws()
                .with_spec("lambda:ListFunctions=1")
                .is_err()
        );
        assert!(QuotaRates::aws().with_spec("lambda=0").is_err());
        assert!(QuotaRates::aws().with_spec("lambda").is_err());
        let json = QuotaRates::aws_with_json(r#"{"ssm": 2}"#).expect("json");
        assert_eq!(
            (json.rate("ssm"), json.rate("lambda")),
            (Some(2.0), Some(15.0))
        );
    }
}
