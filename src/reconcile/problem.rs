//! The reconcile layer's error: why a resource is not ready or its teardown
//! did not finish, one variant per way a step fails, each with the
//! [`Reason`] it is reported under and a message that names the field or
//! the AWS call. Phases record a problem on the resource it concerns and
//! carry on with the others; nothing here is a panic or an early exit of
//! the whole pass.

use super::outcome::{Reason, Verdict};
use crate::aws::AwsError;
use crate::plan::adoption::Refusal;
use crate::plan::signer::SignerPlanError;

/// How often a stale ETag is re-read and the write re-planned before a
/// pass gives up (another writer keeps changing the distribution).
pub(super) const UPDATE_ATTEMPTS: usize = 5;

/// Why a resource is not ready, or its teardown not finished.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Problem {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// `spec.function` names no function (or alias) in its region.
    #[error("spec.function.name: {what} does not exist in {region}")]
    FunctionNotFound {
        /// The function, with its alias.
        what: String,
        /// Where it was looked for.
        region: String,
    },
    /// The function's owner has not opted in (see `plan::opt_in`).
    #[error(
        "spec.function.name: function {arn} is not opted in for urlguard instance {instance} in namespace {namespace} (its tag {tag} is {found}); urlguard leaves it alone until its owner runs: {command}"
    )]
    FunctionNotOptedIn {
        /// The function's unqualified ARN.
        arn: String,
        /// The urlguard instance.
        instance: String,
        /// The URL's namespace.
        namespace: String,
        /// The tag's key.
        tag: &'static str,
        /// What the tag holds, for people (`missing` or its value).
        found: String,
        /// The command that opts it in.
        command: String,
    },
    /// `spec.function.name` is an ARN in another account.
    #[error(
        "spec.function.name: function {function} is in account {account}, urlguard runs in {ours}; functions of other accounts are not supported"
    )]
    FunctionInOtherAccount {
        /// The ARN given.
        function: String,
        /// Its account.
        account: String,
        /// urlguard's account.
        ours: String,
    },
    /// `spec.function` names another function than the one urlguard
    /// protected for this URL (see `plan::function_change`).
    #[error(
        "spec.function: this ProtectedFunctionUrl was applied for {published} (its SSM parameter {parameter} says so) and now names {wanted}; urlguard does not move a URL to another function, which would leave the old function's URL config and grants behind: run `urlguard destroy` with the manifest as it was applied, then apply this one (or give the URL a new name); nothing was changed"
    )]
    FunctionChanged {
        /// The function ARN the parameter publishes.
        published: String,
        /// The parameter.
        parameter: String,
        /// What `spec.function` names now (name, region, alias).
        wanted: String,
    },
    /// Something with urlguard's name belongs to someone else.
    #[error("{0}")]
    NotOwned(String),
    /// The distribution `spec.adopt` names may not be taken over.
    #[error(transparent)]
    AdoptionRefused(#[from] Refusal),
    /// The distribution kept changing between read and write.
    #[error(
        "the distribution kept changing between read and {write} ({UPDATE_ATTEMPTS} attempts); another writer is active"
    )]
    ConcurrentUpdates {
        /// `update` (apply) or `write` (teardown).
        write: &'static str,
    },
    /// The embedded signer could not be packaged.
    #[error("{0}")]
    SignerPackage(String),
    /// The signer role's policy would be longer than IAM takes.
    #[error("{0}")]
    SignerPolicyTooLarge(String),
    /// The revision's `CallerReference` is taken on the distribution by an
    /// invalidation of other paths.
    #[error(
        "spec.invalidation.revision: revision {revision} was already invalidated on distribution {distribution} with other paths; change the revision to invalidate these paths ({message})"
    )]
    InvalidationRevisionReused {
        /// The revision.
        revision: String,
        /// The distribution.
        distribution: String,
        /// CloudFront's message.
        message: String,
    },
    /// A URL's own resources wait because its behavior could not leave
    /// the distribution.
    #[error(
        "its behavior could not leave the distribution, so its grants, parameters and URL config stay for now: {0}"
    )]
    Blocked(Box<Problem>),
}

impl From<SignerPlanError> for Problem {
    fn from(error: SignerPlanError) -> Self {
        match error {
            SignerPlanError::NotOwned { .. } => Problem::NotOwned(error.to_string()),
            SignerPlanError::PolicyTooLarge { .. } => {
                Problem::SignerPolicyTooLarge(error.to_string())
            }
        }
    }
}

impl Problem {
    /// The condition reason it is reported under.
    pub(super) fn reason(&self) -> Reason {
        match self {
            Problem::Aws(_) => Reason::AwsError,
            Problem::FunctionNotFound { .. } => Reason::FunctionNotFound,
            Problem::FunctionNotOptedIn { .. } => Reason::FunctionNotOptedIn,
            Problem::FunctionInOtherAccount { .. } => Reason::FunctionInOtherAccount,
            Problem::FunctionChanged { .. } => Reason::FunctionChanged,
            Problem::NotOwned(_) => Reason::NotOwned,
            Problem::AdoptionRefused(_) => Reason::AdoptionRefused,
            Problem::ConcurrentUpdates { .. } => Reason::ConcurrentUpdates,
            Problem::SignerPackage(_) => Reason::SignerPackage,
            Problem::SignerPolicyTooLarge(_) => Reason::SignerPolicyTooLarge,
            Problem::InvalidationRevisionReused { .. } => Reason::InvalidationRevisionReused,
            Problem::Blocked(cause) => cause.reason(),
        }
    }

    /// The verdict, its message followed by `suffix`.
    /// Whether retrying can never fix it (see `AwsError::cannot_succeed`).
    pub(super) fn cannot_succeed(&self) -> bool {
        match self {
            Problem::Aws(error) => error.cannot_succeed(),
            Problem::Blocked(cause) => cause.cannot_succeed(),
            _ => false,
        }
    }

    pub(super) fn verdict(&self, suffix: &str) -> Verdict {
        Verdict::new(self.reason(), format!("{self}{suffix}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_url_keeps_the_reason_of_what_blocked_it() {
        let cause = Problem::ConcurrentUpdates { write: "write" };
        let blocked = Problem::Blocked(Box::new(cause.clone()));
        assert_eq!(blocked.reason(), Reason::ConcurrentUpdates);
        assert!(
            blocked
                .to_string()
                .ends_with("stay for now: the distribution kept changing between read and write (5 attempts); another writer is active"),
            "{blocked}"
        );
        assert_eq!(
            Problem::NotOwned("role r".into()).verdict("; left alone: x"),
            Verdict::new(Reason::NotOwned, "role r; left alone: x")
        );
    }
}
