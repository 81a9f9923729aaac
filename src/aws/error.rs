//! [`AwsError`]: what an AWS call's failure means to urlguard, independent of
//! the SDK's per-operation error types.
//!
//! The adapters classify every failure by its AWS error code (and, where AWS
//! gives no distinct code, its message) into the few cases the reconciler
//! acts on: not found, conflict, stale ETag, caller reference taken,
//! replicated Lambda@Edge function, still in use. Everything else keeps its
//! code and message so that a condition can show it verbatim. Throttling and
//! 5xx answers reach this type only after the SDK's retries gave up.

use std::sync::LazyLock;

use regex::Regex;

/// A failed AWS call, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// The resource does not exist (`ResourceNotFoundException`,
    /// `NoSuchEntity`, `ParameterNotFound`, `NoSuchDistribution`, ...).
    #[error("{service}:{operation}: not found: {message}")]
    NotFound {
        /// `lambda`, `cloudfront`, `ssm`, `iam` or `sts`.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// AWS's message.
        message: String,
    },
    /// Something with that name or id exists already, or a concurrent change
    /// is in progress (`ResourceConflictException`, `EntityAlreadyExists`,
    /// `OriginAccessControlAlreadyExists`, `ParameterAlreadyExists`,
    /// `InvalidationBatchAlreadyExists`).
    #[error("{service}:{operation}: conflict: {message}")]
    Conflict {
        /// The service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// AWS's message.
        message: String,
    },
    /// CloudFront refused an update or delete because the `IfMatch` ETag is
    /// stale: the distribution changed since it was read. Re-read, re-plan,
    /// retry.
    #[error(
        "cloudfront: PreconditionFailed: the distribution changed since it was read (stale ETag); it will be re-read: {message}"
    )]
    PreconditionFailed {
        /// AWS's message.
        message: String,
    },
    /// A distribution with this `CallerReference` exists already: an earlier
    /// create succeeded (maybe its answer was lost).
    #[error("cloudfront:CreateDistributionWithTags: DistributionAlreadyExists: {message}")]
    DistributionAlreadyExists {
        /// The existing distribution's id, when AWS's message names it.
        existing_id: Option<String>,
        /// AWS's message.
        message: String,
    },
    /// Lambda refused to delete a function or version that Lambda@Edge still
    /// replicates; CloudFront removes the replicas hours after the last
    /// association left.
    #[error(
        "lambda:DeleteFunction: replicated function, waiting for CloudFront to remove its replicas: {message}"
    )]
    ReplicatedFunction {
        /// AWS's message.
        message: String,
    },
    /// The resource cannot be deleted yet because something uses it
    /// (`OriginAccessControlInUse`, `DistributionNotDisabled`,
    /// `DeleteConflict`, `ResourceInUseException`).
    #[error("{service}:{operation}: in use: {message}")]
    InUse {
        /// The service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// AWS's message.
        message: String,
    },
    /// Any other error AWS answered with (access denied, validation,
    /// throttling after retries, ...).
    #[error("{service}:{operation}: {code}: {message}")]
    Service {
        /// The service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// The AWS error code, such as `AccessDeniedException`.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// The write was not sent: this process may no longer write (it lost
    /// the leader lease; see [`super::WriteGate`]).
    #[error("{service}:{operation}: not sent: {reason}")]
    Refused {
        /// The service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// Why writes are refused.
        reason: String,
    },
    /// No usable answer arrived (timeout, refused or dropped connection,
    /// unreadable response) after the SDK's retries. A write may or may not
    /// have happened: re-observe before acting again.
    #[error("{service}:{operation}: no answer from AWS: {message}")]
    Transport {
        /// The service.
        service: &'static str,
        /// The API operation.
        operation: &'static str,
        /// What went wrong on the way.
        message: String,
    },
}

/// Codes meaning "no such resource".
const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchEntity",
    "ParameterNotFound",
    "InvalidResourceId",
    "NoSuchDistribution",
    "NoSuchOriginAccessControl",
    "NoSuchResource",
    "NoSuchInvalidation",
];

/// Codes meaning "exists already" or "changing concurrently".
const CONFLICT_CODES: &[&str] = &[
    "ResourceConflictException",
    "EntityAlreadyExists",
    "OriginAccessControlAlreadyExists",
    "ParameterAlreadyExists",
    "InvalidationBatchAlreadyExists",
];

/// Codes meaning "cannot delete while something uses it".
const IN_USE_CODES: &[&str] = &[
    "OriginAccessControlInUse",
    "DistributionNotDisabled",
    "DeleteConflict",
    "ResourceInUseException",
];

/// Codes AWS uses for throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// Codes AWS uses for its own failures (HTTP 5xx).
const SERVER_ERROR_CODES: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Codes of requests AWS refuses for good: retrying the same request
/// cannot succeed until someone changes the policy or the input.
const REFUSED_FOR_GOOD_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "ValidationException",
    "ValidationError",
    "InvalidParameterValueException",
    "InvalidArgument",
];

/// Codes AWS answers a request signed for a region it does not have with
/// ("Credential should be scoped to a valid region"), reached through an
/// endpoint that exists (an endpoint override, a proxy).
const BAD_SIGNATURE_CODES: &[&str] = &["InvalidSignatureException", "SignatureDoesNotMatch"];

/// The code given to a request the SDK could not even build (a bug in the
/// adapter: a required field missing).
pub(crate) const CONSTRUCTION_FAILURE: &str = "ConstructionFailure";

/// The code given to an answer the adapter could not make sense of.
pub(crate) const INVALID_RESPONSE: &str = "InvalidResponse";

impl AwsError {
    /// Classifies an AWS error answer by its code and message.
    pub(crate) fn classify(
        service: &'static str,
        operation: &'static str,
        code: &str,
        message: String,
    ) -> AwsError {
        if code == "PreconditionFailed" {
            return AwsError::PreconditionFailed { message };
        }
        if code == "DistributionAlreadyExists" {
            return AwsError::DistributionAlreadyExists {
                existing_id: distribution_id_in(&message),
                message,
            };
        }
        if code == "InvalidParameterValueException" && message.contains("replicated function") {
            return AwsError::ReplicatedFunction { message };
        }
        if NOT_FOUND_CODES.contains(&code) {
            return AwsError::NotFound {
                service,
                operation,
                message,
            };
        }
        if CONFLICT_CODES.contains(&code) {
            return AwsError::Conflict {
                service,
                operation,
                message,
            };
        }
        if IN_USE_CODES.contains(&code) {
            return AwsError::InUse {
                service,
                operation,
                message,
            };
        }
        AwsError::Service {
            service,
            operation,
            code: code.to_owned(),
            message,
        }
    }

    /// An answer that arrived but could not be understood.
    pub(crate) fn invalid_response(
        service: &'static str,
        operation: &'static str,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError::Service {
            service,
            operation,
            code: INVALID_RESPONSE.to_owned(),
            message: message.into(),
        }
    }

    /// A request the adapter could not build.
    pub(crate) fn construction(
        service: &'static str,
        operation: &'static str,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError::Service {
            service,
            operation,
            code: CONSTRUCTION_FAILURE.to_owned(),
            message: message.into(),
        }
    }

    /// The resource does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    /// Exists already, or a concurrent change is in progress.
    pub fn is_conflict(&self) -> bool {
        matches!(self, AwsError::Conflict { .. })
    }

    /// The CloudFront ETag was stale.
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, AwsError::PreconditionFailed { .. })
    }

    /// Lambda@Edge replicas still exist.
    pub fn is_replicated_function(&self) -> bool {
        matches!(self, AwsError::ReplicatedFunction { .. })
    }

    /// Cannot be deleted while in use.
    pub fn is_in_use(&self) -> bool {
        matches!(self, AwsError::InUse { .. })
    }

    /// No answer arrived.
    pub fn is_transport(&self) -> bool {
        matches!(self, AwsError::Transport { .. })
    }

    /// Throttled even after the SDK's retries.
    pub fn is_throttling(&self) -> bool {
        matches!(self, AwsError::Service { code, .. } if THROTTLING_CODES.contains(&code.as_str()))
    }

    /// Transient: no answer, throttling or a server-side error that the
    /// SDK's retries did not outlast. The same call may succeed later.
    /// (Conflicts, stale ETags and "in use" are not transient in this sense:
    /// they resolve by re-observing and re-planning, or by waiting for AWS.)
    pub fn is_retryable(&self) -> bool {
        match self {
            AwsError::Transport { .. } => true,
            AwsError::Service { code, .. } => {
                THROTTLING_CODES.contains(&code.as_str())
                    || code.starts_with("HTTP 5")
                    || code.ends_with("ServiceException")
                    || SERVER_ERROR_CODES.contains(&code.as_str())
            }
            _ => false,
        }
    }

    /// Whether retrying can never make this call succeed: the region does
    /// not exist (its endpoint does not resolve, or AWS says the credential
    /// must be scoped to a valid region), access is denied, or AWS refuses
    /// the request as invalid. Throttling, 5xx, timeouts, conflicts and
    /// "in use" are not: they pass.
    pub fn cannot_succeed(&self) -> bool {
        match self {
            AwsError::Service { code, message, .. } => {
                REFUSED_FOR_GOOD_CODES.contains(&code.as_str())
                    || (BAD_SIGNATURE_CODES.contains(&code.as_str())
                        && message.contains("valid region"))
            }
            // No answer because the endpoint's name does not resolve: an
            // AWS Region that does not exist has no endpoint
            // (https://docs.aws.amazon.com/general/latest/gr/rande.html).
            // A connection refused or timed out is a network problem, and
            // passes.
            AwsError::Transport { message, .. } => {
                let message = message.to_ascii_lowercase();
                message.contains("dns error") || message.contains("failed to lookup address")
            }
            _ => false,
        }
    }

    /// The AWS error code for the cases that keep it verbatim.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            AwsError::PreconditionFailed { .. } => Some("PreconditionFailed"),
            AwsError::DistributionAlreadyExists { .. } => Some("DistributionAlreadyExists"),
            AwsError::ReplicatedFunction { .. } => Some("InvalidParameterValueException"),
            _ => None,
        }
    }

    /// AWS's message (or what went wrong on the way).
    pub fn message(&self) -> &str {
        match self {
            AwsError::NotFound { message, .. }
            | AwsError::Conflict { message, .. }
            | AwsError::PreconditionFailed { message }
            | AwsError::DistributionAlreadyExists { message, .. }
            | AwsError::ReplicatedFunction { message }
            | AwsError::InUse { message, .. }
            | AwsError::Service { message, .. }
            | AwsError::Transport { message, .. } => message,
            AwsError::Refused { reason, .. } => reason,
        }
    }
}

/// The distribution id in a `DistributionAlreadyExists` message, such as
/// `"... associated with another distribution. Already exists: E2QWRUHAPOMQZL"`.
fn distribution_id_in(message: &str) -> Option<String> {
    static ID: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"\b(E[A-Z0-9]{7,20})\b").ok());
    ID.as_ref()?
        .captures_iter(message)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        // AWS ends the message with the id: take the last id-shaped word.
        .last()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_for_good_cannot_succeed() {
        let c = |code: &str, message: &str| AwsError::classify("svc", "Op", code, message.into());
        let transport = |message: &str| AwsError::Transport {
            service: "lambda",
            operation: "GetFunction",
            message: message.into(),
        };
        for never in [
            c(
                "AccessDeniedException",
                "not authorized to perform lambda:GetFunction",
            ),
            c("AccessDenied", "User is not authorized"),
            c("ValidationException", "1 validation error detected"),
            c("InvalidParameterValueException", "Invalid function name"),
            c(
                "InvalidSignatureException",
                "Credential should be scoped to a valid region, not 'xx-fake-1'.",
            ),
            c(
                "SignatureDoesNotMatch",
                "Credential should be scoped to a valid region, not 'xx-fake-1'.",
            ),
            transport(
                "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information: Name or service not known",
            ),
        ] {
            assert!(never.cannot_succeed(), "{never}");
        }
        for passes in [
            c("TooManyRequestsException", "Rate exceeded"),
            c("ServiceException", "internal"),
            c("HTTP 503", "unavailable"),
            c("ResourceConflictException", "Pending"),
            c("InvalidSignatureException", "Signature expired"),
            c("PreconditionFailed", "stale"),
            c("ResourceNotFoundException", "gone"),
            transport("dispatch failure: io error: Connection refused (os error 111)"),
            transport("timeout: operation timed out"),
        ] {
            assert!(!passes.cannot_succeed(), "{passes}");
        }
    }

    #[test]
    fn codes_map_to_the_cases_the_reconciler_acts_on() {
        let c = |code: &str, message: &str| AwsError::classify("svc", "Op", code, message.into());
        assert!(c("ResourceNotFoundException", "Function not found").is_not_found());
        assert!(c("NoSuchEntity", "role").is_not_found());
        assert!(c("ParameterNotFound", "").is_not_found());
        assert!(c("NoSuchDistribution", "").is_not_found());
        assert!(c("NoSuchOriginAccessControl", "").is_not_found());
        assert!(c("ResourceConflictException", "exists").is_conflict());
        assert!(c("EntityAlreadyExists", "").is_conflict());
        assert!(c("OriginAccessControlAlreadyExists", "").is_conflict());
        assert!(c("ParameterAlreadyExists", "").is_conflict());
        assert!(c("PreconditionFailed", "stale").is_precondition_failed());
        assert!(c("OriginAccessControlInUse", "").is_in_use());
        assert!(c("DistributionNotDisabled", "").is_in_use());
        assert!(c("DeleteConflict", "").is_in_use());
        assert!(
            c(
                "InvalidParameterValueException",
                "Lambda was unable to delete arn:aws:lambda:us-east-1:123456789012:function:s:1 because it is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas."
            )
            .is_replicated_function()
        );
        let other = c(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        );
        assert_eq!(other.code(), Some("InvalidParameterValueException"));
        assert!(!other.is_retryable());
        assert!(c("ThrottlingException", "Rate exceeded").is_throttling());
        assert!(c("ThrottlingException", "Rate exceeded").is_retryable());
        assert!(c("ServiceException", "oops").is_retryable());
    }

    #[test]
    fn distribution_already_exists_names_the_existing_id() {
        let e = AwsError::classify(
            "cloudfront",
            "CreateDistributionWithTags",
            "DistributionAlreadyExists",
            "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: E2QWRUHAPOMQZL".into(),
        );
        assert_eq!(
            e,
            AwsError::DistributionAlreadyExists {
                existing_id: Some("E2QWRUHAPOMQZL".into()),
                message: "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: E2QWRUHAPOMQZL".into(),
            }
        );
        let bare = AwsError::classify(
            "cloudfront",
            "CreateDistribution",
            "DistributionAlreadyExists",
            "The caller reference that you are using to create a distribution is associated with another distribution.".into(),
        );
        assert!(matches!(
            bare,
            AwsError::DistributionAlreadyExists {
                existing_id: None,
                ..
            }
        ));
    }

    #[test]
    fn display_names_service_operation_code_and_message() {
        let e = AwsError::classify(
            "lambda",
            "GetPolicy",
            "AccessDeniedException",
            "User is not authorized".into(),
        );
        assert_eq!(
            e.to_string(),
            "lambda:GetPolicy: AccessDeniedException: User is not authorized"
        );
        let e = AwsError::classify(
            "iam",
            "GetRole",
            "NoSuchEntity",
            "The role cannot be found".into(),
        );
        assert_eq!(
            e.to_string(),
            "iam:GetRole: not found: The role cannot be found"
        );
        assert_eq!(e.message(), "The role cannot be found");
        let e = AwsError::Transport {
            service: "ssm",
            operation: "PutParameter",
            message: "timed out".into(),
        };
        assert_eq!(
            e.to_string(),
            "ssm:PutParameter: no answer from AWS: timed out"
        );
        assert!(e.is_retryable());
    }
}
