//! Fault rules: which calls fail, and how each failure looks on the wire.
//!
//! A rule matches by service and operation (`*` matches any) and injects one
//! kind of fault: throttling in the service's own error shape, an HTTP 500 or
//! 503, or `drop_after_write` — the real operation runs, then the connection
//! closes without an answer (the write happened, the client never learns),
//! or `slow_answer` — the real operation runs, and its answer comes
//! [`SLOW_ANSWER`] later (AWS busy: the caller waits in the middle of its
//! work).
//! A rule fires on the next `count` matching calls, or on a `fraction` of
//! them (optionally capped by `count`). Fractions are deterministic: without
//! a `seed`, exactly ⌊n·fraction⌋ of the first n matching calls fail, evenly
//! spaced (fraction 0.5 fails the 2nd, 4th, 6th...); with a `seed`, a
//! SplitMix64 draw per call decides, the same sequence for the same seed.
//! Rules are tried in order and the first that fires wins; a call that one
//! rule fails is not seen by the rules after it.

use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::ids::{Ids, SplitMix64};
use crate::reply::Reply;

/// What a firing rule does to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The service's throttling error: CloudFront and IAM/STS `Throttling`
    /// (400, XML), Lambda `TooManyRequestsException` (429), SSM and other
    /// JSON services `ThrottlingException` (400). The SDKs retry these.
    Throttle,
    /// HTTP 500 with the service's internal-error code. Retried by the SDKs.
    Http500,
    /// HTTP 503 `ServiceUnavailable`. Retried by the SDKs.
    Http503,
    /// Do the real work, then close the connection without answering.
    DropAfterWrite,
    /// Do the real work, then answer after [`SLOW_ANSWER`].
    SlowAnswer,
}

/// How long a `slow_answer` call's answer is held back (well inside the
/// SDK's 60 s attempt timeout, so the answer arrives).
pub const SLOW_ANSWER: Duration = Duration::from_secs(4);

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::Http500 => "http500",
            FaultKind::Http503 => "http503",
            FaultKind::DropAfterWrite => "drop_after_write",
            FaultKind::SlowAnswer => "slow_answer",
        }
    }
}

impl FromStr for FaultKind {
    type Err = FaultRuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "throttle" => Ok(FaultKind::Throttle),
            "http500" => Ok(FaultKind::Http500),
            "http503" => Ok(FaultKind::Http503),
            "drop_after_write" => Ok(FaultKind::DropAfterWrite),
            "slow_answer" => Ok(FaultKind::SlowAnswer),
            other => Err(FaultRuleError::Kind(other.to_owned())),
        }
    }
}

/// One fault rule (also its JSON form for `PUT /__emulator/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Signing name of the service (`cloudfront`, `lambda`, `ssm`, `iam`,
    /// `sts`), or `*`.
    pub service: String,
    /// Operation name as in the counts (`UpdateDistribution`), or `*`.
    #[serde(default = "any")]
    pub operation: String,
    pub kind: FaultKind,
    /// Fail at most this many calls (alone: the next `count` matching calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Fail this fraction of the matching calls, `0.0..=1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// With `fraction`: draw from a PRNG with this seed instead of spacing
    /// the failures evenly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn any() -> String {
    "*".to_owned()
}

/// A rule that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FaultRuleError {
    #[error("unknown fault kind `{0}` (throttle, http500, http503, drop_after_write, slow_answer)")]
    Kind(String),
    #[error("a fault rule needs `count`, `fraction` or both")]
    NoLimit,
    #[error("fraction {0} is outside 0.0..=1.0")]
    Fraction(f64),
    #[error("a fault rule needs a service (or `*`)")]
    NoService,
    #[error("cannot read fault spec `{spec}`: {reason}")]
    Spec { spec: String, reason: String },
    #[error("cannot read fault rules as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl FaultRule {
    /// Fails the next `count` calls of `service:operation`.
    pub fn next(service: &str, operation: &str, kind: FaultKind, count: u64) -> FaultRule {
        FaultRule {
            service: service.to_owned(),
            operation: operation.to_owned(),
            kind,
            count: Some(count),
            fraction: None,
            seed: None,
        }
    }

    /// Fails `fraction` of the calls of `service:operation`, evenly spaced.
    pub fn fraction(service: &str, operation: &str, kind: FaultKind, fraction: f64) -> FaultRule {
        FaultRule {
            service: service.to_owned(),
            operation: operation.to_owned(),
            kind,
            count: None,
            fraction: Some(fraction),
            seed: None,
        }
    }

    /// The same rule drawing from a seeded PRNG.
    pub fn with_seed(mut self, seed: u64) -> FaultRule {
        self.seed = Some(seed);
        self
    }

    pub fn validate(&self) -> Result<(), FaultRuleError> {
        if self.service.is_empty() {
            return Err(FaultRuleError::NoService);
        }
        if self.count.is_none() && self.fraction.is_none() {
            return Err(FaultRuleError::NoLimit);
        }
        if let Some(f) = self.fraction
            && !(0.0..=1.0).contains(&f)
        {
            return Err(FaultRuleError::Fraction(f));
        }
        Ok(())
    }

    /// Rules as JSON: an array of rules, or `{"rules": [...]}`.
    pub fn list_from_json(text: &str) -> Result<Vec<FaultRule>, FaultRuleError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Doc {
            List(Vec<FaultRule>),
            Wrapped { rules: Vec<FaultRule> },
        }
        let rules = match serde_json::from_str::<Doc>(text)? {
            Doc::List(rules) | Doc::Wrapped { rules } => rules,
        };
        for rule in &rules {
            rule.validate()?;
        }
        Ok(rules)
    }

    fn matches(&self, service: &str, operation: &str) -> bool {
        (self.service == "*" || self.service == service)
            && (self.operation == "*" || self.operation == operation)
    }
}

/// `SERVICE:OPERATION:KIND:count=N`, `...:fraction=F`, `...:fraction=F:seed=S`
/// (several `key=value` parts may follow the kind), as the CLI's `--fault`.
impl FromStr for FaultRule {
    type Err = FaultRuleError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| FaultRuleError::Spec {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = spec.split(':');
        let (Some(service), Some(operation), Some(kind)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected SERVICE:OPERATION:KIND:count=N|fraction=F"));
        };
        let mut rule = FaultRule {
            service: service.to_owned(),
            operation: operation.to_owned(),
            kind: kind.parse()?,
            count: None,
            fraction: None,
            seed: None,
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad("expected key=value"))?;
            match key {
                "count" => {
                    rule.count = Some(value.parse().map_err(|_| bad("count is not a number"))?)
                }
                "fraction" => {
                    rule.fraction =
                        Some(value.parse().map_err(|_| bad("fraction is not a number"))?)
                }
                "seed" => rule.seed = Some(value.parse().map_err(|_| bad("seed is not a number"))?),
                _ => return Err(bad("unknown key (count, fraction, seed)")),
            }
        }
        rule.validate()?;
        Ok(rule)
    }
}

/// A rule with what it has seen and done so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleReport {
    pub rule: FaultRule,
    /// Calls the rule matched (that reached it).
    pub matched: u64,
    /// Faults it injected.
    pub injected: u64,
}

#[derive(Debug)]
struct ActiveRule {
    rule: FaultRule,
    matched: u64,
    injected: u64,
    rng: Option<SplitMix64>,
}

/// The rules in force.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<ActiveRule>,
}

impl FaultBook {
    pub(crate) fn new(rules: Vec<FaultRule>) -> FaultBook {
        let mut book = FaultBook::default();
        book.append(rules);
        book
    }

    pub(crate) fn replace(&mut self, rules: Vec<FaultRule>) {
        self.rules.clear();
        self.append(rules);
    }

    pub(crate) fn append(&mut self, rules: Vec<FaultRule>) {
        self.rules.extend(rules.into_iter().map(|rule| ActiveRule {
            rng: rule.seed.map(SplitMix64::new),
            rule,
            matched: 0,
            injected: 0,
        }));
    }

    /// Whether a fault hits this call: the index of the rule and its kind.
    pub(crate) fn decide(&mut self, service: &str, operation: &str) -> Option<(usize, FaultKind)> {
        for (index, active) in self.rules.iter_mut().enumerate() {
            if !active.rule.matches(service, operation) {
                continue;
            }
            active.matched += 1;
            if active
                .rule
                .count
                .is_some_and(|limit| active.injected >= limit)
            {
                continue;
            }
            let fires = match (active.rule.fraction, active.rng.as_mut()) {
                (None, _) => true,
                (Some(f), Some(rng)) => rng.next_f64() < f,
                (Some(f), None) => {
                    let n = active.matched as f64;
                    ((n * f) + 1e-9).floor() > (((n - 1.0) * f) + 1e-9).floor()
                }
            };
            if fires {
                active.injected += 1;
                return Some((index, active.rule.kind));
            }
        }
        None
    }

    pub(crate) fn report(&self) -> Vec<RuleReport> {
        self.rules
            .iter()
            .map(|a| RuleReport {
                rule: a.rule.clone(),
                matched: a.matched,
                injected: a.injected,
            })
            .collect()
    }
}

/// The answer an injected throttle or 5xx gets, in the service's protocol.
pub(crate) fn fault_reply(service: &str, kind: FaultKind, ids: &Ids) -> Reply {
    let (status, code, message) = match (service, kind) {
        ("lambda", FaultKind::Throttle) => (
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Rate exceeded",
        ),
        ("cloudfront" | "iam" | "sts", FaultKind::Throttle) => {
            (StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
        }
        (_, FaultKind::Throttle) => (
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        ),
        ("lambda", FaultKind::Http500) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "Internal failure (injected by aws-emulator)",
        ),
        ("cloudfront", FaultKind::Http500) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Internal failure (injected by aws-emulator)",
        ),
        ("iam", FaultKind::Http500) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceFailure",
            "Internal failure (injected by aws-emulator)",
        ),
        ("ssm", FaultKind::Http500) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal failure (injected by aws-emulator)",
        ),
        (_, FaultKind::Http500 | FaultKind::DropAfterWrite | FaultKind::SlowAnswer) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "Internal failure (injected by aws-emulator)",
        ),
        (_, FaultKind::Http503) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service unavailable (injected by aws-emulator)",
        ),
    };
    error_reply(service, status, code, message, ids)
}

/// An AWS error in the protocol of `service`: restXml (CloudFront) and
/// query (IAM, STS) as `<ErrorResponse>`, restJson (Lambda) with
/// `x-amzn-ErrorType`, JSON 1.1 (SSM and the rest) with `__type`.
pub(crate) fn error_reply(
    service: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    ids: &Ids,
) -> Reply {
    let request_id = ids.request_id();
    let xml_namespace = match service {
        "cloudfront" => Some(crate::cloudfront::NAMESPACE),
        "iam" => Some("https://iam.amazonaws.com/doc/2010-05-08/"),
        "sts" => Some("https://sts.amazonaws.com/doc/2011-06-15/"),
        _ => None,
    };
    let reply = if let Some(ns) = xml_namespace {
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        Reply::xml(
            status,
            format!(
                "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                crate::cloudfront::xml::escape(message)
            ),
        )
    } else if service == "lambda" {
        let body = serde_json::json!({"Type": if status.is_server_error() {"Service"} else {"User"}, "message": message});
        Reply::new(status, "application/json", Bytes::from(body.to_string()))
    } else {
        let body = serde_json::json!({"__type": code, "message": message});
        Reply::new(
            status,
            "application/x-amz-json-1.1",
            Bytes::from(body.to_string()),
        )
    };
    reply
        .with_header("x-amzn-errortype", code)
        .with_header("x-amzn-requestid", &request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_rules_fail_the_next_n_matching_calls() {
        let mut book = FaultBook::new(vec![FaultRule::next(
            "lambda",
            "CreateFunction",
            FaultKind::Throttle,
            2,
        )]);
        assert!(book.decide("lambda", "GetFunction").is_none());
        assert!(book.decide("lambda", "CreateFunction").is_some());
        assert!(book.decide("lambda", "CreateFunction").is_some());
        assert!(book.decide("lambda", "CreateFunction").is_none());
        assert_eq!(book.report()[0].injected, 2);
        assert_eq!(book.report()[0].matched, 3);
    }

    #[test]
    fn unseeded_fractions_are_evenly_spaced() {
        let mut book = FaultBook::new(vec![FaultRule::fraction("*", "*", FaultKind::Http503, 0.5)]);
        let hits: Vec<bool> = (0..6)
            .map(|_| book.decide("ssm", "GetParameter").is_some())
            .collect();
        assert_eq!(hits, [false, true, false, true, false, true]);

        let mut book = FaultBook::new(vec![FaultRule::fraction("*", "*", FaultKind::Http503, 0.1)]);
        let hits = (0..100)
            .filter(|_| book.decide("ssm", "GetParameter").is_some())
            .count();
        assert_eq!(hits, 10);
    }

    #[test]
    fn seeded_fractions_repeat_for_the_same_seed() {
        let draw = |seed| {
            let mut book = FaultBook::new(vec![
                FaultRule::fraction("*", "*", FaultKind::Throttle, 0.3).with_seed(seed),
            ]);
            (0..50)
                .map(|_| book.decide("iam", "GetRole").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn count_caps_a_fraction() {
        let mut rule = FaultRule::fraction("*", "*", FaultKind::Throttle, 1.0);
        rule.count = Some(1);
        let mut book = FaultBook::new(vec![rule]);
        assert!(book.decide("sts", "GetCallerIdentity").is_some());
        assert!(book.decide("sts", "GetCallerIdentity").is_none());
    }

    #[test]
    fn specs_and_json_read_the_same_rule() {
        let from_spec: FaultRule = "lambda:DeleteFunction:drop_after_write:count=1"
            .parse()
            .expect("spec");
        let from_json = FaultRule::list_from_json(
            r#"[{"service":"lambda","operation":"DeleteFunction","kind":"drop_after_write","count":1}]"#,
        )
        .expect("json");
        assert_eq!(vec![from_spec], from_json);
        assert!("lambda:X:throttle".parse::<FaultRule>().is_err());
        assert!("lambda:X:explode:count=1".parse::<FaultRule>().is_err());
        assert!(
            FaultRule::list_from_json(
                r#"{"rules":[{"service":"*","kind":"http500","fraction":2.0}]}"#
            )
            .is_err()
        );
    }
}
