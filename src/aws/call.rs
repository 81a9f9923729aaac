//! The one door every SDK call goes through: [`call`] waits for the rate
//! limit of its quota ([`super::rate_limit`]), sends the request,
//! records it in the [`Ledger`] (service, operation, read or write, outcome),
//! logs it with `tracing`, and turns an SDK error into an [`AwsError`].
//!
//! A write is not sent at all once the process's [`super::WriteGate`]
//! closed (the controller lost its leader lease), nor through a read-only
//! door ([`super::Aws::read_only`]: the adapters of an object under
//! `spec.managementPolicy: Observe`); reads still are.
//!
//! Retry attempts are the SDK's (standard mode, exponential backoff with
//! jitter; see [`super::retry_config`]): one `call` is one logical call
//! however many attempts it took.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

// The SDK crates share these types (from `aws-smithy-runtime-api` and
// `aws-smithy-types`); any one of them re-exports them.
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::error::{AwsError, CONSTRUCTION_FAILURE};
use super::ledger::{CallRecord, Ledger, Outcome, PendingCall, is_mutating};
use super::rate_limit::RateLimiter;

/// What an adapter calls through: the ledger that counts its calls, the
/// rate limiter they wait for, the region its client is in, and, for a
/// read-only door, why it sends no write.
#[derive(Debug, Clone)]
pub(crate) struct Door {
    pub(crate) ledger: Ledger,
    limiter: RateLimiter,
    region: String,
    read_only: Option<Arc<str>>,
}

impl Door {
    pub(crate) fn new(ledger: Ledger, limiter: RateLimiter, region: &str) -> Door {
        Door {
            ledger,
            limiter,
            region: region.to_owned(),
            read_only: None,
        }
    }

    /// The same door, refusing every write with `why`.
    pub(crate) fn read_only(mut self, why: Option<Arc<str>>) -> Door {
        self.read_only = why;
        self
    }
}

/// Waits for the rate limit, sends one request, recorded and logged; maps
/// its error.
pub(crate) async fn call<T, E>(
    door: &Door,
    service: &'static str,
    operation: &'static str,
    request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Result<T, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let ledger = &door.ledger;
    let mutating = is_mutating(operation);
    // Not a planner's promise: whatever a pass over an observed object
    // attempts, its writes stop here.
    if mutating && let Some(why) = &door.read_only {
        tracing::error!(service, operation, reason = %why, "aws write refused: read-only adapters");
        return Err(AwsError::Refused {
            service,
            operation,
            reason: why.to_string(),
        });
    }
    if mutating && let Err(closed) = ledger.gate().check() {
        tracing::warn!(service, operation, reason = %closed.0, "aws write refused: this process may no longer write");
        return Err(AwsError::Refused {
            service,
            operation,
            reason: closed.0,
        });
    }
    // A test hook may hold the call back or refuse it; the request future is
    // lazy, so a refused call never reaches AWS.
    if let Some(hook) = ledger.hook() {
        let pending = PendingCall {
            service,
            operation,
            mutating,
        };
        if let Err(message) = hook(pending).await {
            tracing::debug!(service, operation, mutating, %message, "aws call refused by the test hook");
            return Err(AwsError::Transport {
                service,
                operation,
                message,
            });
        }
    }
    door.limiter.acquire(service, &door.region, operation).await;
    let started = Instant::now();
    let result = request.await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(output) => {
            ledger.record(CallRecord {
                service,
                operation,
                mutating,
                outcome: Outcome::Ok,
            });
            tracing::debug!(
                service,
                operation,
                mutating,
                elapsed_ms,
                outcome = "ok",
                "aws call"
            );
            Ok(output)
        }
        Err(sdk_error) => {
            let (error, code) = classify_sdk_error(service, operation, sdk_error);
            if error.is_not_found() {
                // Expected while observing: absent is a normal answer.
                tracing::debug!(service, operation, mutating, elapsed_ms, outcome = %code, "aws call");
            } else {
                tracing::warn!(
                    service,
                    operation,
                    mutating,
                    elapsed_ms,
                    outcome = %code,
                    error = %error,
                    "aws call failed"
                );
            }
            ledger.record(CallRecord {
                service,
                operation,
                mutating,
                outcome: Outcome::Error(code),
            });
            Err(error)
        }
    }
}

/// The [`AwsError`] and the ledger's outcome code of an SDK error.
fn classify_sdk_error<E>(
    service: &'static str,
    operation: &'static str,
    sdk_error: SdkError<E, HttpResponse>,
) -> (AwsError, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transport = |kind: &str, sdk_error: &SdkError<E, HttpResponse>| {
        (
            AwsError::Transport {
                service,
                operation,
                message: DisplayErrorContext(sdk_error).to_string(),
            },
            kind.to_owned(),
        )
    };
    match &sdk_error {
        SdkError::ServiceError(context) => {
            let err = context.err();
            let status = context.raw().status().as_u16();
            let code = match err.code() {
                Some(code) if !code.is_empty() => code.to_owned(),
                // An answer without a code: name it by its status, and
                // treat a bare 404 as "not found".
                _ if status == 404 => "ResourceNotFoundException".to_owned(),
                _ => format!("HTTP {status}"),
            };
            let message = match err.message() {
                Some(message) if !message.is_empty() => message.to_owned(),
                _ => DisplayErrorContext(err).to_string(),
            };
            (AwsError::classify(service, operation, &code, message), code)
        }
        SdkError::TimeoutError(_) => transport("TimeoutError", &sdk_error),
        SdkError::DispatchFailure(_) => transport("DispatchFailure", &sdk_error),
        SdkError::ResponseError(_) => transport("ResponseError", &sdk_error),
        // ConstructionFailure, and any kind a later SDK adds.
        _ => (
            AwsError::construction(
                service,
                operation,
                DisplayErrorContext(&sdk_error).to_string(),
            ),
            CONSTRUCTION_FAILURE.to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::primitives::SdkBody;
    use aws_sdk_ssm::error::ErrorMetadata;
    use aws_sdk_ssm::operation::get_parameters::GetParametersError;

    fn service_error(
        status: u16,
        code: Option<&str>,
        message: &str,
    ) -> SdkError<GetParametersError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message(message);
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = HttpResponse::new(status.try_into().expect("a valid status"), SdkBody::empty());
        SdkError::service_error(GetParametersError::generic(meta.build()), raw)
    }

    fn unlimited(ledger: &Ledger) -> Door {
        let limiter = RateLimiter::new(super::super::RateLimits::unlimited(), None);
        Door::new(ledger.clone(), limiter, "eu-west-1")
    }

    #[tokio::test(start_paused = true)]
    async fn calls_wait_for_their_quotas_token() {
        let limits = super::super::RateLimits::with(&["ssm=1".parse().expect("setting")]);
        let door = Door::new(Ledger::new(), RateLimiter::new(limits, None), "eu-west-1");
        let start = tokio::time::Instant::now();
        for expected in [0, 1, 2] {
            call(&door, "ssm", "GetParameters", async {
                Ok::<u8, SdkError<GetParametersError, HttpResponse>>(1)
            })
            .await
            .expect("answered");
            assert_eq!(start.elapsed().as_secs(), expected);
        }
        assert_eq!(door.ledger.summary().total, 3);
    }

    #[tokio::test]
    async fn every_call_is_recorded_with_its_outcome() {
        let ledger = Ledger::new();
        let door = unlimited(&ledger);
        let ok: Result<u8, AwsError> = call(&door, "ssm", "GetParameters", async {
            Ok::<_, SdkError<GetParametersError, HttpResponse>>(7)
        })
        .await;
        assert_eq!(ok, Ok(7));
        let err = call(&door, "ssm", "PutParameter", async {
            Err::<u8, _>(service_error(
                400,
                Some("ParameterAlreadyExists"),
                "The parameter already exists.",
            ))
        })
        .await;
        assert!(err.is_err_and(|e| e.is_conflict()));
        let records = ledger.records();
        assert_eq!(
            records,
            vec![
                CallRecord {
                    service: "ssm",
                    operation: "GetParameters",
                    mutating: false,
                    outcome: Outcome::Ok
                },
                CallRecord {
                    service: "ssm",
                    operation: "PutParameter",
                    mutating: true,
                    outcome: Outcome::Error("ParameterAlreadyExists".into())
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_hook_refuses_a_call_before_it_is_sent() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let ledger = Ledger::new();
        let door = unlimited(&ledger);
        ledger.set_hook(Some(Arc::new(|call: PendingCall| {
            Box::pin(async move {
                if call.mutating {
                    Err("stopped (test)".to_owned())
                } else {
                    Ok(())
                }
            })
        })));
        let sent = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&sent);
        let refused = call(&door, "ssm", "PutParameter", async move {
            flag.store(true, Ordering::SeqCst);
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(1)
        })
        .await;
        assert!(refused.is_err_and(|e| e.is_transport() && e.message() == "stopped (test)"));
        assert!(!sent.load(Ordering::SeqCst), "the request never ran");
        assert!(ledger.records().is_empty(), "nothing reached AWS");
        let read = call(&door, "ssm", "GetParameters", async {
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(2)
        })
        .await;
        assert_eq!(read, Ok(2));
        ledger.set_hook(None);
        let write = call(&door, "ssm", "PutParameter", async {
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(3)
        })
        .await;
        assert_eq!(write, Ok(3));
        assert_eq!(ledger.summary().mutating, 1);
    }

    #[tokio::test]
    async fn a_closed_gate_refuses_writes_before_they_are_sent_and_lets_reads_through() {
        use super::super::WriteGate;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let gate = WriteGate::open();
        let ledger = Ledger::new().with_gate(gate.clone());
        let door = unlimited(&ledger);
        gate.close("lost the leader lease");
        let sent = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&sent);
        let refused = call(&door, "ssm", "PutParameter", async move {
            flag.store(true, Ordering::SeqCst);
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(1)
        })
        .await;
        assert!(
            matches!(&refused, Err(AwsError::Refused { operation: "PutParameter", reason, .. }) if reason == "lost the leader lease"),
            "{refused:?}"
        );
        assert!(!sent.load(Ordering::SeqCst), "the write never ran");
        let read = call(&door, "ssm", "GetParameters", async {
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(2)
        })
        .await;
        assert_eq!(read, Ok(2));
        assert_eq!(ledger.summary().mutating, 0);
    }

    #[tokio::test]
    async fn a_read_only_door_refuses_writes_before_they_are_sent_and_lets_reads_through() {
        use std::sync::atomic::{AtomicBool, Ordering};

        let ledger = Ledger::new();
        let door = unlimited(&ledger).read_only(Some("observed (test)".into()));
        let sent = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&sent);
        let refused = call(&door, "lambda", "AddPermission", async move {
            flag.store(true, Ordering::SeqCst);
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(1)
        })
        .await;
        assert!(
            matches!(&refused, Err(AwsError::Refused { operation: "AddPermission", reason, .. }) if reason == "observed (test)"),
            "{refused:?}"
        );
        assert!(!sent.load(Ordering::SeqCst), "the write never ran");
        let read = call(&door, "lambda", "GetPolicy", async {
            Ok::<u8, SdkError<GetParametersError, HttpResponse>>(2)
        })
        .await;
        assert_eq!(read, Ok(2));
        assert_eq!(ledger.summary().total, 1, "only the read was recorded");
        assert_eq!(ledger.summary().mutating, 0);
    }

    #[test]
    fn errors_without_code_are_named_by_status_and_timeouts_are_transport() {
        let (e, code) = classify_sdk_error(
            "cloudfront",
            "GetDistribution",
            service_error(404, None, ""),
        );
        assert!(e.is_not_found());
        assert_eq!(code, "ResourceNotFoundException");
        let (e, code) = classify_sdk_error(
            "cloudfront",
            "GetDistribution",
            service_error(502, None, "bad gateway"),
        );
        assert_eq!(code, "HTTP 502");
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "cloudfront:GetDistribution: HTTP 502: bad gateway"
        );
        let timeout: SdkError<GetParametersError, HttpResponse> =
            SdkError::timeout_error("operation timed out");
        let (e, code) = classify_sdk_error("ssm", "GetParameters", timeout);
        assert_eq!(code, "TimeoutError");
        assert!(e.is_transport());
        let failed: SdkError<GetParametersError, HttpResponse> =
            SdkError::construction_failure("missing Name");
        let (e, code) = classify_sdk_error("ssm", "GetParameters", failed);
        assert_eq!(code, CONSTRUCTION_FAILURE);
        assert_eq!(e.code(), Some(CONSTRUCTION_FAILURE));
    }
}
