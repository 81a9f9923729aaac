//! The control endpoints, plain HTTP + JSON under `/__emulator/` so that a
//! test, a CLI subprocess test or `curl` can drive the emulator:
//!
//! | request | effect |
//! | --- | --- |
//! | `GET /__emulator/health` | `ok` |
//! | `GET /__emulator/calls` | counts per `service:Operation`, injected faults per `service:Operation`, the rules with what each matched and injected |
//! | `GET /__emulator/log` | the recent calls in order (`seq`, `call`, `method`, `path`, `status`, `fault`) |
//! | `POST /__emulator/reset-counts` | zero the counts, the log, the call rates and the authorization log |
//! | `GET /__emulator/rates` | calls per second per `QUOTA@REGION`, and the throttled ones, since the start or the last reset |
//! | `GET /__emulator/rate-quotas` | the rate quotas enforced (`{}` when none) |
//! | `PUT /__emulator/rate-quotas` | enforce AWS's rate quotas from now on, with the `{"QUOTA": RATE}` of the body instead of AWS's (an empty body: AWS's) |
//! | `DELETE /__emulator/rate-quotas` | stop enforcing rate quotas |
//! | `GET /__emulator/faults` | the rules in force |
//! | `PUT /__emulator/faults` | replace the rules (a JSON array of rules, or `{"rules": [...]}`) |
//! | `POST /__emulator/faults` | add rules after the ones in force |
//! | `DELETE /__emulator/faults` | remove every rule |
//! | `GET /__emulator/identities` | the restricted access keys and their identity policies |
//! | `PUT /__emulator/identities/KEY` | restrict access key `KEY` to the identity policy in the body |
//! | `DELETE /__emulator/identities/KEY` | make `KEY` unrestricted again |
//! | `GET /__emulator/authorizations` | every check of a restricted call (key, call, action, resource, context, decision); `reset-counts` empties it |
//!
//! And `ControlClient`, a small blocking client for these endpoints (plain
//! `std::net`, usable from sync and async tests alike).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http::{Method, StatusCode, request::Parts};

use crate::authorize::{AuthorizationRecord, validate_policy};
use crate::call_rates::RateReport;
use crate::faults::{FaultRule, FaultRuleError, RuleReport};
use crate::ids::lock;
use crate::ledger::{CallRecord, CallReport};
use crate::rate_quotas::{QuotaRateError, QuotaRates};
use crate::reply::Reply;
use crate::server::Shared;

/// The reserved path prefix of the control endpoints.
pub const CONTROL_PREFIX: &str = "/__emulator/";

fn json_reply<T: serde::Serialize>(value: &T) -> Reply {
    match serde_json::to_value(value) {
        Ok(v) => Reply::json(StatusCode::OK, &v),
        Err(e) => Reply::text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn read_rules(body: &[u8]) -> Result<Vec<FaultRule>, FaultRuleError> {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    FaultRule::list_from_json(&text)
}

fn read_quota_rates(body: &[u8]) -> Result<QuotaRates, QuotaRateError> {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return Ok(QuotaRates::aws());
    }
    QuotaRates::aws_with_json(&text)
}

/// The access key of `/identities/KEY`, percent-decoded.
fn identity_key(route: &str) -> String {
    let raw = route.trim_start_matches("/identities/");
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) fn handle(shared: &Shared, parts: &Parts, body: &[u8]) -> Reply {
    let path = parts.uri.path().trim_end_matches('/');
    let route = path
        .strip_prefix(CONTROL_PREFIX.trim_end_matches('/'))
        .unwrap_or("");
    match (&parts.method, route) {
        (&Method::GET, "/health") => Reply::text(StatusCode::OK, "ok"),
        (&Method::GET, "/calls") => json_reply(&shared.report()),
        (&Method::GET, "/log") => json_reply(&lock(&shared.ledger).log()),
        (&Method::POST, "/reset-counts") => {
            shared.reset_counts();
            Reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "/rates") => json_reply(&shared.rate_report()),
        (&Method::GET, "/rate-quotas") => json_reply(
            &lock(&shared.quotas)
                .rates()
                .map(|rates| rates.as_map().clone())
                .unwrap_or_default(),
        ),
        (&Method::PUT, "/rate-quotas") => match read_quota_rates(body) {
            Ok(rates) => {
                tracing::info!(%rates, "rate quotas enforced");
                let reply = json_reply(rates.as_map());
                lock(&shared.quotas).replace(Some(rates));
                reply
            }
            Err(e) => Reply::text(StatusCode::BAD_REQUEST, e.to_string()),
        },
        (&Method::DELETE, "/rate-quotas") => {
            tracing::info!("rate quotas no longer enforced");
            lock(&shared.quotas).replace(None);
            Reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "/faults") => json_reply(&lock(&shared.faults).report()),
        (&Method::PUT | &Method::POST, "/faults") => match read_rules(body) {
            Ok(rules) => {
                tracing::info!(rules = ?rules, replace = parts.method == Method::PUT, "fault rules set");
                let mut book = lock(&shared.faults);
                if parts.method == Method::PUT {
                    book.replace(rules);
                } else {
                    book.append(rules);
                }
                json_reply(&book.report())
            }
            Err(e) => Reply::text(StatusCode::BAD_REQUEST, e.to_string()),
        },
        (&Method::DELETE, "/faults") => {
            tracing::info!("fault rules cleared");
            lock(&shared.faults).replace(Vec::new());
            Reply::empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "/authorizations") => json_reply(&shared.authorizer.log()),
        (&Method::GET, "/identities") => json_reply(&shared.authorizer.identities()),
        (&Method::PUT, r) if r.starts_with("/identities/") => {
            let key = identity_key(r);
            let policy = serde_json::from_slice::<serde_json::Value>(body)
                .map_err(|e| e.to_string())
                .and_then(|p| shared.authorizer.set(&key, &p).map_err(|e| e.to_string()));
            match policy {
                Ok(()) => Reply::empty(StatusCode::NO_CONTENT),
                Err(e) => Reply::text(StatusCode::BAD_REQUEST, e),
            }
        }
        (&Method::DELETE, r) if r.starts_with("/identities/") => {
            shared.authorizer.remove(&identity_key(r));
            Reply::empty(StatusCode::NO_CONTENT)
        }
        _ => Reply::text(
            StatusCode::NOT_FOUND,
            format!("no control endpoint {} {}", parts.method, parts.uri.path()),
        ),
    }
}

/// A control endpoint call that failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("talking to the emulator at {addr}: {source}")]
    Io {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the emulator answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the emulator's answer is not what was expected: {0}")]
    Answer(String),
    #[error(transparent)]
    Rule(#[from] FaultRuleError),
    #[error(transparent)]
    Policy(#[from] crate::authorize::PolicyError),
    #[error(transparent)]
    QuotaRate(#[from] QuotaRateError),
}

/// A blocking client for the control endpoints.
#[derive(Debug, Clone)]
pub struct ControlClient {
    addr: SocketAddr,
}

impl ControlClient {
    pub fn new(addr: SocketAddr) -> ControlClient {
        ControlClient { addr }
    }

    /// One HTTP/1.1 exchange (`Connection: close`): status and body.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<(u16, String), ControlError> {
        let io = |source| ControlError::Io {
            addr: self.addr,
            source,
        };
        let mut stream =
            TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)).map_err(io)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(io)?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(io)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| ControlError::Answer(format!("no header end in {text:?}")))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| ControlError::Answer(format!("no status in {head:?}")))?;
        if !(200..300).contains(&status) {
            return Err(ControlError::Status {
                status,
                body: body.to_owned(),
            });
        }
        Ok((status, body.to_owned()))
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<T, ControlError> {
        let (_, text) = self.exchange(method, path, body)?;
        serde_json::from_str(&text).map_err(|e| ControlError::Answer(format!("{e}: {text}")))
    }

    /// `GET /__emulator/calls`.
    pub fn calls(&self) -> Result<CallReport, ControlError> {
        self.json("GET", "/__emulator/calls", "")
    }

    /// `GET /__emulator/log`.
    pub fn log(&self) -> Result<Vec<CallRecord>, ControlError> {
        self.json("GET", "/__emulator/log", "")
    }

    /// `GET /__emulator/rates`.
    pub fn rates(&self) -> Result<RateReport, ControlError> {
        self.json("GET", "/__emulator/rates", "")
    }

    /// `PUT /__emulator/rate-quotas` with `rates`, or `DELETE` for `None`.
    pub fn set_rate_quotas(&self, rates: Option<&QuotaRates>) -> Result<(), ControlError> {
        match rates {
            Some(rates) => {
                let body = serde_json::to_string(rates).map_err(QuotaRateError::from)?;
                self.exchange("PUT", "/__emulator/rate-quotas", &body)
            }
            None => self.exchange("DELETE", "/__emulator/rate-quotas", ""),
        }
        .map(|_| ())
    }

    /// `POST /__emulator/reset-counts`.
    pub fn reset_counts(&self) -> Result<(), ControlError> {
        self.exchange("POST", "/__emulator/reset-counts", "")
            .map(|_| ())
    }

    /// `GET /__emulator/faults`.
    pub fn faults(&self) -> Result<Vec<RuleReport>, ControlError> {
        self.json("GET", "/__emulator/faults", "")
    }

    /// `PUT /__emulator/faults`: these rules replace the ones in force.
    pub fn set_faults(&self, rules: &[FaultRule]) -> Result<Vec<RuleReport>, ControlError> {
        let body = serde_json::to_string(rules).map_err(FaultRuleError::from)?;
        self.json("PUT", "/__emulator/faults", &body)
    }

    /// `POST /__emulator/faults`: these rules go after the ones in force.
    pub fn add_faults(&self, rules: &[FaultRule]) -> Result<Vec<RuleReport>, ControlError> {
        let body = serde_json::to_string(rules).map_err(FaultRuleError::from)?;
        self.json("POST", "/__emulator/faults", &body)
    }

    /// `PUT /__emulator/identities/KEY`: restricts access key `key` to
    /// `policy` (an IAM policy document).
    pub fn set_identity(&self, key: &str, policy: &serde_json::Value) -> Result<(), ControlError> {
        validate_policy(policy)?;
        let path = format!("/__emulator/identities/{}", encode(key));
        self.exchange("PUT", &path, &policy.to_string()).map(|_| ())
    }

    /// `DELETE /__emulator/identities/KEY`: `key` is unrestricted again.
    pub fn remove_identity(&self, key: &str) -> Result<(), ControlError> {
        let path = format!("/__emulator/identities/{}", encode(key));
        self.exchange("DELETE", &path, "").map(|_| ())
    }

    /// `GET /__emulator/authorizations`.
    pub fn authorizations(&self) -> Result<Vec<AuthorizationRecord>, ControlError> {
        self.json("GET", "/__emulator/authorizations", "")
    }

    /// `DELETE /__emulator/faults`.
    pub fn clear_faults(&self) -> Result<(), ControlError> {
        self.exchange("DELETE", "/__emulator/faults", "")
            .map(|_| ())
    }
}

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}
