//! What a reconcile reports per resource: readiness, the status in the
//! custom resource's own shape (so the CLI's JSON and the controller's
//! status subresource agree), and what was done or would be done.
//!
//! A teardown adds a `Deleting` condition: `False`/`Deleted` (or `Retained`)
//! when it is done, `True` with `WaitingForEdgeReplicas` or
//! `WaitingForDeployment` while AWS needs time, `True` with an error reason
//! when a call failed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::Serialize;

use crate::api::{EdgeDistributionStatus, ProtectedFunctionUrlStatus};
use crate::plan::FieldChange;

/// The two kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// `EdgeDistribution`.
    EdgeDistribution,
    /// `ProtectedFunctionUrl`.
    ProtectedFunctionUrl,
}

/// A resource's status, in its CRD's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Status {
    /// An `EdgeDistribution`'s status.
    Distribution(EdgeDistributionStatus),
    /// A `ProtectedFunctionUrl`'s status.
    Url(ProtectedFunctionUrlStatus),
}

impl Status {
    /// The conditions, whichever the kind.
    pub fn conditions(&self) -> &[Condition] {
        match self {
            Status::Distribution(s) => &s.conditions,
            Status::Url(s) => &s.conditions,
        }
    }

    /// The `Ready` condition, if set.
    pub fn ready_condition(&self) -> Option<&Condition> {
        self.conditions().iter().find(|c| c.type_ == "Ready")
    }

    /// The `Deleting` condition, set by a teardown.
    pub fn deleting_condition(&self) -> Option<&Condition> {
        self.conditions().iter().find(|c| c.type_ == "Deleting")
    }
}

/// The outcome for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceReport {
    /// Its kind.
    pub kind: Kind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Whether `Ready` is true.
    pub ready: bool,
    /// Its status.
    pub status: Status,
    /// What was done (apply) or would be done (plan), one line each.
    #[serde(skip)]
    pub actions: Vec<String>,
    /// Field-level differences found (plan).
    #[serde(skip)]
    pub changes: Vec<FieldChange>,
}

/// The action of a reconcile that closed a function URL someone had opened
/// to the internet (auth `NONE`): the controller warns about it.
pub const SWITCHED_TO_IAM: &str =
    "switch function URL auth from NONE to AWS_IAM: it was open to the internet";

/// `Ready=False` reasons that only mean "not there yet": waiting for
/// CloudFront or for a first apply, as opposed to an error to act on.
const PROGRESS_REASONS: [&str; 3] = ["Pending", "Deploying", "DistributionNotReady"];

/// `Deleting` reasons of a teardown that did what it could: everything
/// gone, kept on purpose (`deletionPolicy: Retain`), or waiting for AWS.
pub const TEARDOWN_REASONS: [&str; 4] = [
    "Deleted",
    "Retained",
    "WaitingForEdgeReplicas",
    "WaitingForDeployment",
];

/// `Deleting` reasons that mean "AWS needs time; try again later":
/// CloudFront removing Lambda@Edge replicas, or deploying a disabled
/// distribution before it can be deleted.
pub const WAITING_REASONS: [&str; 2] = ["WaitingForEdgeReplicas", "WaitingForDeployment"];

impl ResourceReport {
    /// Whether the resource failed (bad input, missing function, foreign
    /// owner, AWS error), as opposed to being ready or on its way.
    pub fn failed(&self) -> bool {
        if let Some(deleting) = self.status.deleting_condition() {
            return !TEARDOWN_REASONS.contains(&deleting.reason.as_str());
        }
        !self.ready
            && self
                .status
                .ready_condition()
                .is_some_and(|c| !PROGRESS_REASONS.contains(&c.reason.as_str()))
    }

    /// Whether a teardown of the resource waits for AWS (run it again
    /// later, or keep waiting).
    pub fn waiting(&self) -> bool {
        self.status
            .deleting_condition()
            .is_some_and(|c| WAITING_REASONS.contains(&c.reason.as_str()))
    }
}

/// A condition of `type_`, as of now.
pub fn condition(type_: &str, status: bool, reason: &str, message: impl Into<String>) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status: if status { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message: message.into(),
        last_transition_time: Time(k8s_openapi::jiff::Timestamp::now()),
        observed_generation: None,
    }
}
