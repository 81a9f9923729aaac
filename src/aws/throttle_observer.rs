//! Tells the [`RateLimiter`] about every throttled attempt, also the ones
//! the SDK retries by itself (which [`super::call`] never sees: it gets the
//! last attempt's answer): an SDK interceptor on every client, reading each
//! attempt's raw answer.
//!
//! Throttling is recognised by its error code, wherever the service's
//! protocol puts it — the `x-amzn-ErrorType` header (REST-JSON: Lambda),
//! `__type` (JSON 1.1: SSM) or `<Code>` (query and REST-XML: IAM, STS,
//! CloudFront) — or by HTTP 429. The codes are the ones the SDK's own
//! retry classifier treats as throttling (`aws-runtime`'s
//! `THROTTLING_ERRORS`), less those no urlguard service sends.

use aws_sdk_sts::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::rate_limit::RateLimiter;

/// Error codes that mean "slow down".
const THROTTLING_CODES: [&str; 6] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

/// The interceptor of one client: its service and region.
#[derive(Debug, Clone)]
pub(super) struct ThrottleObserver {
    limiter: RateLimiter,
    service: &'static str,
    region: String,
}

impl ThrottleObserver {
    pub(super) fn new(limiter: RateLimiter, service: &'static str, region: &str) -> Self {
        ThrottleObserver {
            limiter,
            service,
            region: region.to_owned(),
        }
    }
}

impl Intercept for ThrottleObserver {
    fn name(&self) -> &'static str {
        "urlguard::ThrottleObserver"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(response) = context.response() else {
            return Ok(());
        };
        let error_type = response.headers().get("x-amzn-errortype");
        if is_throttled(
            response.status().as_u16(),
            error_type,
            response.body().bytes(),
        ) {
            let operation = cfg.load::<Metadata>().map_or("Unknown", Metadata::name);
            self.limiter
                .throttled(self.service, &self.region, operation);
        }
        Ok(())
    }
}

/// Whether an answer says "slow down".
fn is_throttled(status: u16, error_type: Option<&str>, body: Option<&[u8]>) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let code_of_header = error_type.map(|t| t.split(':').next().unwrap_or(t));
    if code_of_header.is_some_and(|code| THROTTLING_CODES.contains(&code)) {
        return true;
    }
    let Some(body) = body.and_then(|b| std::str::from_utf8(b).ok()) else {
        return false;
    };
    THROTTLING_CODES.iter().any(|code| {
        body.contains(&format!("<Code>{code}</Code>"))
            || body.contains(&format!("\"__type\":\"{code}\""))
            || body.contains(&format!("#{code}\""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocols_throttling_answer_is_recognised() {
        // Lambda (REST-JSON): 429 and the header.
        assert!(is_throttled(
            429,
            Some("TooManyRequestsException:http://internal.amazon.com/"),
            None
        ));
        // SSM (JSON 1.1).
        let ssm = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        assert!(is_throttled(400, None, Some(ssm)));
        let qualified =
            br#"{"__type":"com.amazonaws.ssm#ThrottlingException","message":"Rate exceeded"}"#;
        assert!(is_throttled(400, None, Some(qualified)));
        // CloudFront, IAM, STS (XML).
        let xml = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert!(is_throttled(400, None, Some(xml)));
    }

    #[test]
    fn other_refusals_and_successes_are_not_throttling() {
        let limit = b"<ErrorResponse><Error><Code>LimitExceeded</Code></Error></ErrorResponse>";
        assert!(
            !is_throttled(409, None, Some(limit)),
            "a quota of things, not of rate"
        );
        let denied =
            br#"{"__type":"AccessDeniedException","message":"Throttling is not the issue"}"#;
        assert!(!is_throttled(400, None, Some(denied)));
        assert!(!is_throttled(200, None, Some(b"<Code>Throttling</Code>")));
        assert!(!is_throttled(404, Some("ResourceNotFoundException"), None));
    }
}
