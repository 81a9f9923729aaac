//! The engine's vocabulary: what a reconcile or teardown pass says about a
//! resource, as types. Each condition type, condition reason and event
//! reason has its wire string here and nowhere else; consumers (the
//! controller's status, events and metrics, the CLI's output and exit code)
//! match on these types and never compare strings.
//!
//! A reason is part of the custom resources' API: users `kubectl wait` on
//! them, the Argo CD health checks read them (`argocd/health/`), and
//! `docs/design.md` lists them. Renaming one is a breaking change.

use std::fmt;

use serde::{Serialize, Serializer};

/// The condition types urlguard writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionType {
    /// Whether AWS matches the spec (the URL is reachable only through the
    /// distribution, the distribution is deployed).
    Ready,
    /// A teardown: `True` while it is not finished.
    Deleting,
    /// Whether CloudFront is deploying the distribution's last change.
    Deploying,
    /// Whether the function's resource policy lets someone other than the
    /// distribution invoke it (a `ProtectedFunctionUrl`, once checked).
    Exposed,
    /// Whether the ConfigMap of `spec.configMapExport` holds the object's
    /// outputs (the controller, when the spec asks for one).
    ConfigMapExported,
}

impl ConditionType {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Deleting => "Deleting",
            ConditionType::Deploying => "Deploying",
            ConditionType::Exposed => "Exposed",
            ConditionType::ConfigMapExported => "ConfigMapExported",
        }
    }
}

/// What a reason means for whoever reads it: done, on its way, waiting
/// for AWS, or something to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `Ready=True`.
    Ready,
    /// Not there yet, nothing to do but wait for the next reconcile.
    Progress,
    /// A teardown that finished (everything gone, or kept on purpose).
    Finished,
    /// A teardown waiting for AWS (run it again later).
    Waiting,
    /// Bad input, a missing function, a foreign owner, an AWS error.
    Failure,
    /// Observed, not managed (`spec.managementPolicy: Observe`): AWS
    /// differs from the spec and urlguard will not change it. Neither a
    /// failure to retry nor progress to wait for: only a change in AWS or
    /// in the spec changes it.
    Drifted,
}

/// Every condition reason urlguard reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The distribution is deployed (`Ready=True`; also the `Deploying`
    /// condition's reason once CloudFront is done).
    Deployed,
    /// The URL is reachable only through its distribution (`Ready=True`).
    Protected,
    /// Observed, not managed (`spec.managementPolicy: Observe`), and AWS
    /// matches the spec (`Ready=True`).
    Observed,
    /// Observed, not managed, and AWS differs from the spec: the message
    /// names what a managed pass would change (`Ready=False`).
    Drifted,
    /// The URL is served through its distribution, but statements of the
    /// function's resource policy let others invoke it too (`Ready=True`:
    /// the spec is applied; the `Exposed` condition names them).
    ReachableOutsideDistribution,
    /// `Exposed=True`: statements let someone other than the distribution
    /// invoke the function.
    ForeignStatements,
    /// `Exposed=False`: no statement lets anyone but the distribution in.
    NoForeignStatements,
    /// The distribution does not exist yet (a plan, or a first apply that
    /// did not get that far).
    Pending,
    /// CloudFront is deploying the distribution's last change.
    Deploying,
    /// The `Deploying` condition while CloudFront's status is `InProgress`.
    InProgress,
    /// The URL waits for its distribution, which is not ready.
    DistributionNotReady,
    /// The spec breaks the CRD schema (say, stored before a CRD upgrade).
    InvalidSpec,
    /// `spec.distributionRef` names no `EdgeDistribution`.
    DistributionNotFound,
    /// Another URL of the distribution has the path pattern.
    DuplicatePathPattern,
    /// The distribution has CloudFront's maximum of cache behaviors.
    TooManyCacheBehaviors,
    /// An SSM parameter named in `spec.ssmExport` is outside the
    /// namespace's prefix (the cluster's `--ssm-prefix` rule).
    ParameterOutsidePrefix,
    /// `spec.function` names no function (or alias).
    FunctionNotFound,
    /// The function's owner has not opted in for this instance and
    /// namespace (the `urlguard.io/allow` tag): urlguard leaves it alone.
    FunctionNotOptedIn,
    /// `spec.function` is an ARN in another account than urlguard's.
    FunctionInOtherAccount,
    /// The namespace names an IAM role (`urlguard.io/aws-role-arn`) the
    /// cluster admin did not allow: nothing is done in AWS.
    AccountNotAllowed,
    /// `spec.function` names another function than the one urlguard
    /// protected for the URL (a manifest edited between two applies).
    FunctionChanged,
    /// Something with urlguard's name is not urlguard's: left alone.
    NotOwned,
    /// The distribution `spec.adopt` names is missing, another object's,
    /// or not handed over to the namespace: nothing was changed.
    AdoptionRefused,
    /// An AWS call failed.
    AwsError,
    /// Another writer kept changing the distribution.
    ConcurrentUpdates,
    /// The embedded signer could not be packaged.
    SignerPackage,
    /// The signer role's policy for all the URLs is over IAM's size limit.
    SignerPolicyTooLarge,
    /// `spec.invalidation.revision` was used before on the distribution
    /// with other paths.
    InvalidationRevisionReused,
    /// `ConfigMapExported=True`: the ConfigMap holds the object's outputs.
    Exported,
    /// A ConfigMap of the name `spec.configMapExport` gives exists and is
    /// not this object's: urlguard leaves it alone.
    ConfigMapNotOwned,
    /// The ConfigMap could not be written or an old one deleted (the
    /// Kubernetes API refused, or the default name is too long).
    ConfigMapExportFailed,
    /// A teardown finished: everything urlguard made is gone.
    Deleted,
    /// A teardown finished, `deletionPolicy: Retain` kept what it says.
    Retained,
    /// An observed object was deleted without any AWS call: what exists in
    /// AWS stays.
    Released,
    /// A teardown waits for CloudFront to remove Lambda@Edge replicas.
    WaitingForEdgeReplicas,
    /// A teardown waits for CloudFront to deploy the disabled distribution.
    WaitingForDeployment,
}

impl Reason {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Deployed => "Deployed",
            Reason::Protected => "Protected",
            Reason::Observed => "Observed",
            Reason::Drifted => "Drifted",
            Reason::ReachableOutsideDistribution => "ReachableOutsideDistribution",
            Reason::ForeignStatements => "ForeignStatements",
            Reason::NoForeignStatements => "NoForeignStatements",
            Reason::Pending => "Pending",
            Reason::Deploying => "Deploying",
            Reason::InProgress => "InProgress",
            Reason::DistributionNotReady => "DistributionNotReady",
            Reason::InvalidSpec => "InvalidSpec",
            Reason::DistributionNotFound => "DistributionNotFound",
            Reason::DuplicatePathPattern => "DuplicatePathPattern",
            Reason::TooManyCacheBehaviors => "TooManyCacheBehaviors",
            Reason::ParameterOutsidePrefix => "ParameterOutsidePrefix",
            Reason::FunctionNotFound => "FunctionNotFound",
            Reason::FunctionNotOptedIn => "FunctionNotOptedIn",
            Reason::FunctionInOtherAccount => "FunctionInOtherAccount",
            Reason::AccountNotAllowed => "AccountNotAllowed",
            Reason::FunctionChanged => "FunctionChanged",
            Reason::NotOwned => "NotOwned",
            Reason::AdoptionRefused => "AdoptionRefused",
            Reason::AwsError => "AwsError",
            Reason::ConcurrentUpdates => "ConcurrentUpdates",
            Reason::SignerPackage => "SignerPackage",
            Reason::SignerPolicyTooLarge => "SignerPolicyTooLarge",
            Reason::InvalidationRevisionReused => "InvalidationRevisionReused",
            Reason::Exported => "Exported",
            Reason::ConfigMapNotOwned => "ConfigMapNotOwned",
            Reason::ConfigMapExportFailed => "ConfigMapExportFailed",
            Reason::Deleted => "Deleted",
            Reason::Retained => "Retained",
            Reason::Released => "Released",
            Reason::WaitingForEdgeReplicas => "WaitingForEdgeReplicas",
            Reason::WaitingForDeployment => "WaitingForDeployment",
        }
    }

    /// What the reason means.
    pub const fn class(self) -> Class {
        match self {
            Reason::Deployed
            | Reason::Protected
            | Reason::Observed
            | Reason::ReachableOutsideDistribution
            | Reason::NoForeignStatements
            | Reason::Exported => Class::Ready,
            Reason::Drifted => Class::Drifted,
            Reason::Pending
            | Reason::Deploying
            | Reason::InProgress
            | Reason::DistributionNotReady => Class::Progress,
            Reason::Deleted | Reason::Retained | Reason::Released => Class::Finished,
            Reason::WaitingForEdgeReplicas | Reason::WaitingForDeployment => Class::Waiting,
            Reason::InvalidSpec
            | Reason::DistributionNotFound
            | Reason::DuplicatePathPattern
            | Reason::TooManyCacheBehaviors
            | Reason::ParameterOutsidePrefix
            | Reason::FunctionNotFound
            | Reason::FunctionNotOptedIn
            | Reason::FunctionInOtherAccount
            | Reason::AccountNotAllowed
            | Reason::FunctionChanged
            | Reason::NotOwned
            | Reason::AdoptionRefused
            | Reason::AwsError
            | Reason::ConcurrentUpdates
            | Reason::SignerPackage
            | Reason::SignerPolicyTooLarge
            | Reason::InvalidationRevisionReused
            | Reason::ConfigMapNotOwned
            | Reason::ConfigMapExportFailed
            | Reason::ForeignStatements => Class::Failure,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Where a resource stands after a pass: a reason and a message that
/// names the field or the AWS call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Why.
    pub reason: Reason,
    /// For people.
    pub message: String,
    /// A teardown failure no retry can fix, with what it leaves in AWS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stuck: Option<Stuck>,
}

/// A teardown step failed in a way retrying cannot fix: the region does not
/// exist, access is denied, AWS refuses the request as invalid
/// (`AwsError::cannot_succeed`). Drivers try a bounded number of times,
/// then give up and say what stays.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stuck {
    /// What stays in AWS, one resource (with its region) per line.
    pub left_in_aws: Vec<String>,
}

impl Verdict {
    /// A verdict of `reason`.
    pub fn new(reason: Reason, message: impl Into<String>) -> Verdict {
        Verdict {
            reason,
            message: message.into(),
            stuck: None,
        }
    }

    /// The same verdict, stuck, leaving `left_in_aws`.
    pub fn stuck(mut self, left_in_aws: Vec<String>) -> Verdict {
        self.stuck = Some(Stuck { left_in_aws });
        self
    }
}

/// Something a pass did that deserves more than an action line: the
/// controller turns each into a warning event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The function URL was on auth `NONE`, open to the internet, and is
    /// now on `AWS_IAM`.
    SwitchedToIam,
    /// The function's URL config existed before urlguard: urlguard manages
    /// it (on `AWS_IAM`) but never deletes it.
    UrlConfigAdopted {
        /// The function's name.
        function: String,
    },
    /// Statements of the function's resource policy let someone other than
    /// the distribution invoke it.
    Exposed {
        /// Each statement: `<sid>: <whom it lets in>`.
        statements: Vec<String>,
    },
    /// `spec.removeForeignStatements` removed a statement that let someone
    /// other than the distribution in.
    ForeignStatementRemoved {
        /// The statement: `<sid>: <whom it let in>`.
        statement: String,
    },
    /// A teardown left the function's URL config in place, on `AWS_IAM`.
    UrlConfigLeftInPlace {
        /// The function's name.
        function: String,
        /// Why (`created before urlguard`, `still used by <ns>/<name>`).
        why: String,
    },
    /// The distribution `spec.adopt` names was taken over: tagged with
    /// the object's owner tag, then converged to its spec.
    DistributionAdopted {
        /// CloudFront's distribution id.
        id: String,
    },
    /// An invalidation was created for `spec.invalidation.revision` (or
    /// by `urlguard invalidate`).
    InvalidationCreated {
        /// CloudFront's invalidation id.
        id: String,
        /// The revision.
        revision: String,
        /// How many paths.
        paths: usize,
    },
}

impl Notice {
    /// Whether it is worth a warning (otherwise a normal event).
    pub const fn is_warning(&self) -> bool {
        !matches!(
            self,
            Notice::InvalidationCreated { .. } | Notice::DistributionAdopted { .. }
        )
    }

    /// The event reason.
    pub const fn event(&self) -> EventReason {
        match self {
            Notice::SwitchedToIam => EventReason::AuthSwitchedToIam,
            Notice::UrlConfigAdopted { .. } => EventReason::UrlConfigAdopted,
            Notice::Exposed { .. } => EventReason::Condition(Reason::ForeignStatements),
            Notice::ForeignStatementRemoved { .. } => EventReason::ForeignStatementRemoved,
            Notice::UrlConfigLeftInPlace { .. } => EventReason::UrlConfigLeftInPlace,
            Notice::InvalidationCreated { .. } => EventReason::InvalidationCreated,
            Notice::DistributionAdopted { .. } => EventReason::Adopted,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::SwitchedToIam => f.write_str(
                "switch function URL auth from NONE to AWS_IAM: it was open to the internet",
            ),
            Notice::UrlConfigAdopted { function } => write!(
                f,
                "adopted the function URL config of {function}: it existed before urlguard, which keeps it on AWS_IAM and never deletes it"
            ),
            Notice::Exposed { statements } => write!(
                f,
                "the function's resource policy lets others invoke it besides the distribution: {} (remove them, or set spec.removeForeignStatements: true)",
                statements.join("; ")
            ),
            Notice::ForeignStatementRemoved { statement } => write!(
                f,
                "removed resource-policy statement {statement} (spec.removeForeignStatements)"
            ),
            Notice::UrlConfigLeftInPlace { function, why } => write!(
                f,
                "function URL config of {function} left in place on AWS_IAM: {why}"
            ),
            Notice::InvalidationCreated {
                id,
                revision,
                paths,
            } => write!(
                f,
                "create invalidation {id} of {paths} path(s) for revision {revision}"
            ),
            Notice::DistributionAdopted { id } => write!(
                f,
                "adopted distribution {id}: tagged with this object's owner tag and converged to its spec"
            ),
        }
    }
}

/// The reasons of the events the controller records. Where an event
/// repeats a condition's reason, it is that [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventReason {
    /// A function URL open to the internet was switched to `AWS_IAM`.
    AuthSwitchedToIam,
    /// A URL config that existed before urlguard was adopted.
    UrlConfigAdopted,
    /// A teardown left a URL config in place.
    UrlConfigLeftInPlace,
    /// A statement that let others invoke the function was removed.
    ForeignStatementRemoved,
    /// An invalidation was created for a new revision.
    InvalidationCreated,
    /// The distribution `spec.adopt` names was taken over.
    Adopted,
    /// AWS drifted from a spec already applied, and was put back.
    DriftRepaired,
    /// AWS was changed for a new spec.
    Updated,
    /// A teardown failed; the message says which call.
    TeardownFailed,
    /// A teardown that could never succeed was given up after its
    /// attempts; the message says what stays in AWS.
    TeardownGivenUp,
    /// The event repeats a condition reason (`Deployed`, `Deleted`,
    /// `WaitingForEdgeReplicas`, a failure).
    Condition(Reason),
}

impl EventReason {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventReason::AuthSwitchedToIam => "AuthSwitchedToIam",
            EventReason::UrlConfigAdopted => "UrlConfigAdopted",
            EventReason::UrlConfigLeftInPlace => "UrlConfigLeftInPlace",
            EventReason::ForeignStatementRemoved => "ForeignStatementRemoved",
            EventReason::InvalidationCreated => "InvalidationCreated",
            EventReason::Adopted => "Adopted",
            EventReason::DriftRepaired => "DriftRepaired",
            EventReason::Updated => "Updated",
            EventReason::TeardownFailed => "TeardownFailed",
            EventReason::TeardownGivenUp => "TeardownGivenUp",
            EventReason::Condition(reason) => reason.as_str(),
        }
    }
}

impl fmt::Display for EventReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Reason; 36] = [
        Reason::Deployed,
        Reason::Protected,
        Reason::Observed,
        Reason::Drifted,
        Reason::ReachableOutsideDistribution,
        Reason::ForeignStatements,
        Reason::NoForeignStatements,
        Reason::Pending,
        Reason::Deploying,
        Reason::InProgress,
        Reason::DistributionNotReady,
        Reason::InvalidSpec,
        Reason::DistributionNotFound,
        Reason::DuplicatePathPattern,
        Reason::TooManyCacheBehaviors,
        Reason::ParameterOutsidePrefix,
        Reason::FunctionNotFound,
        Reason::FunctionNotOptedIn,
        Reason::FunctionInOtherAccount,
        Reason::AccountNotAllowed,
        Reason::FunctionChanged,
        Reason::NotOwned,
        Reason::AdoptionRefused,
        Reason::AwsError,
        Reason::ConcurrentUpdates,
        Reason::SignerPackage,
        Reason::SignerPolicyTooLarge,
        Reason::InvalidationRevisionReused,
        Reason::Exported,
        Reason::ConfigMapNotOwned,
        Reason::ConfigMapExportFailed,
        Reason::Deleted,
        Reason::Retained,
        Reason::Released,
        Reason::WaitingForEdgeReplicas,
        Reason::WaitingForDeployment,
    ];

    #[test]
    fn every_reason_has_its_own_upper_camel_case_wire_string() {
        let mut seen = std::collections::BTreeSet::new();
        for reason in ALL {
            let wire = reason.as_str();
            assert!(seen.insert(wire), "{wire} twice");
            assert!(
                wire.chars().next().is_some_and(char::is_uppercase)
                    && wire.chars().all(char::is_alphanumeric),
                "{wire}: Kubernetes wants CamelCase reasons"
            );
            assert_eq!(serde_json::to_value(reason).expect("json"), wire);
        }
    }

    #[test]
    fn the_argocd_health_checks_know_every_progress_and_waiting_reason() {
        let lua = |kind: &str| {
            std::fs::read_to_string(format!(
                "{}/argocd/health/urlguard.io/{kind}/health.lua",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("health check")
        };
        let checks = [lua("EdgeDistribution"), lua("ProtectedFunctionUrl")];
        // `InProgress` is the `Deploying` condition's, which the checks
        // do not read.
        for reason in ALL.into_iter().filter(|r| {
            matches!(r.class(), Class::Waiting | Class::Progress) && *r != Reason::InProgress
        }) {
            assert!(
                checks.iter().any(|check| check.contains(reason.as_str())),
                "Argo CD would call {reason} Degraded"
            );
        }
    }

    #[test]
    fn event_reasons_reuse_condition_reasons() {
        assert_eq!(
            EventReason::Condition(Reason::WaitingForEdgeReplicas).as_str(),
            Reason::WaitingForEdgeReplicas.as_str()
        );
        assert_eq!(
            Notice::SwitchedToIam.event(),
            EventReason::AuthSwitchedToIam
        );
    }
}
