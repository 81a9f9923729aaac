//! What a pass reports per resource: a typed [`Verdict`] (reason and
//! message), the status fields it found in AWS in the custom resource's
//! own shape, what was done or would be done, and [`Notice`]s.
//!
//! The engine never builds a Kubernetes `Condition`: [`ResourceReport::status`]
//! renders the verdict into conditions for the drivers (the controller's
//! status subresource and the CLI's JSON, which therefore agree). After a
//! reconcile the verdict is the `Ready` condition (plus `Deploying` for a
//! distribution CloudFront reported on); after a teardown it is both
//! `Ready=False` and `Deleting`, `False` once the teardown finished
//! (`Deleted`, `Retained`), `True` while it waits for AWS or failed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde::Serialize;

use super::outcome::{Class, ConditionType, Notice, Reason, Verdict};
use crate::api::{EdgeDistributionStatus, ExposedStatement, ProtectedFunctionUrlStatus};
use crate::model::cloudfront::is_deployed;
use crate::plan::FieldChange;

/// The two kinds a report is about: the enum that also names owners.
pub use crate::model::names::OwnerKind as Kind;

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

    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        match self {
            Status::Distribution(s) => &mut s.conditions,
            Status::Url(s) => &mut s.conditions,
        }
    }
}

/// Which pass made a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Observe → plan → apply (or plan only).
    Reconcile,
    /// A teardown pass.
    Teardown,
}

/// The outcome for one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceReport {
    /// Its kind.
    pub kind: Kind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Which pass.
    pub pass: Pass,
    /// Where it stands.
    pub verdict: Verdict,
    /// What the pass found, in the status' shape, without conditions
    /// ([`ResourceReport::status`] adds them).
    pub found: Status,
    /// Changes worth a warning (a URL that was open to the internet).
    pub notices: Vec<Notice>,
    /// What was done (apply) or would be done (plan), one line each.
    pub actions: Vec<String>,
    /// Field-level differences found (plan).
    pub changes: Vec<FieldChange>,
    /// The object is observed, not managed (`spec.managementPolicy:
    /// Observe`, its own or its distribution's): nothing was written for
    /// it, and `actions` and `changes` are what a managed pass would do.
    pub observed: bool,
}

impl ResourceReport {
    /// Whether `Ready` is true.
    pub fn ready(&self) -> bool {
        self.pass == Pass::Reconcile && self.verdict.reason.class() == Class::Ready
    }

    /// Whether the resource failed (bad input, missing function, foreign
    /// owner, AWS error), as opposed to being ready, on its way, or a
    /// teardown that finished or waits for AWS.
    pub fn failed(&self) -> bool {
        self.verdict.reason.class() == Class::Failure
    }

    /// Whether a teardown of the resource failed in a way retrying cannot
    /// fix ([`super::Stuck`]).
    pub fn stuck(&self) -> bool {
        self.failed() && self.verdict.stuck.is_some()
    }

    /// Whether a teardown pass is stuck as a whole: something failed, every
    /// failure is stuck, and nothing waits for AWS. Only such passes count
    /// towards giving a teardown up (`plan::teardown::after_stuck`).
    pub fn stuck_pass(reports: &[ResourceReport]) -> bool {
        reports.iter().any(ResourceReport::failed)
            && reports.iter().all(|r| !r.failed() || r.stuck())
            && !reports.iter().any(ResourceReport::waiting)
    }

    /// What the stuck reports leave in AWS, each once, in order.
    pub fn left_in_aws(reports: &[ResourceReport]) -> Vec<String> {
        let mut left: Vec<String> = Vec::new();
        for stuck in reports.iter().filter_map(|r| r.verdict.stuck.as_ref()) {
            for what in &stuck.left_in_aws {
                if !left.contains(what) {
                    left.push(what.clone());
                }
            }
        }
        left
    }

    /// Whether a teardown of the resource waits for AWS (run it again
    /// later, or keep waiting).
    pub fn waiting(&self) -> bool {
        self.pass == Pass::Teardown && self.verdict.reason.class() == Class::Waiting
    }

    /// The status to write or print: what was found, with the conditions
    /// the verdict stands for, as of now.
    pub fn status(&self) -> Status {
        let mut status = self.found.clone();
        let verdict = &self.verdict;
        let mut conditions = match self.pass {
            Pass::Reconcile => vec![condition(
                ConditionType::Ready,
                self.ready(),
                verdict.reason,
                &verdict.message,
            )],
            Pass::Teardown => vec![
                condition(
                    ConditionType::Ready,
                    false,
                    verdict.reason,
                    &verdict.message,
                ),
                condition(
                    ConditionType::Deleting,
                    verdict.reason.class() != Class::Finished,
                    verdict.reason,
                    &verdict.message,
                ),
            ],
        };
        if let (Pass::Reconcile, Status::Distribution(found)) = (self.pass, &self.found)
            && let Some(deployment) = &found.deployment_status
        {
            let deploying = !is_deployed(deployment);
            conditions.push(condition(
                ConditionType::Deploying,
                deploying,
                if deploying {
                    Reason::InProgress
                } else {
                    Reason::Deployed
                },
                &format!("CloudFront status {deployment}"),
            ));
        }
        if let (Pass::Reconcile, Status::Url(found)) = (self.pass, &self.found)
            && let Some(exposed) = &found.exposed_statements
        {
            conditions.push(exposed_condition(exposed));
        }
        *status.conditions_mut() = conditions;
        status
    }
}

/// `Exposed`: `True` naming each statement that lets someone other than
/// the distribution in, `False` when none does.
fn exposed_condition(exposed: &[ExposedStatement]) -> Condition {
    if exposed.is_empty() {
        return condition(
            ConditionType::Exposed,
            false,
            Reason::NoForeignStatements,
            "no resource-policy statement lets anyone but the distribution invoke the function",
        );
    }
    let statements: Vec<String> = exposed
        .iter()
        .map(|e| format!("{}: {}", e.statement_id, e.grants))
        .collect();
    condition(
        ConditionType::Exposed,
        true,
        Reason::ForeignStatements,
        &format!(
            "resource-policy statements let others invoke the function besides the distribution: {} (remove them, or set spec.removeForeignStatements: true)",
            statements.join("; ")
        ),
    )
}

/// A condition of `type_`, as of now.
pub fn condition(type_: ConditionType, status: bool, reason: Reason, message: &str) -> Condition {
    Condition {
        type_: type_.as_str().to_owned(),
        status: if status { "True" } else { "False" }.to_owned(),
        reason: reason.as_str().to_owned(),
        message: message.to_owned(),
        last_transition_time: Time(k8s_openapi::jiff::Timestamp::now()),
        observed_generation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(kind: Kind, pass: Pass, reason: Reason) -> ResourceReport {
        ResourceReport {
            kind,
            namespace: "books".into(),
            name: "books".into(),
            pass,
            verdict: Verdict::new(reason, "the message"),
            found: match kind {
                Kind::EdgeDistribution => Status::Distribution(EdgeDistributionStatus {
                    deployment_status: Some(crate::model::cloudfront::IN_PROGRESS.into()),
                    ..EdgeDistributionStatus::default()
                }),
                Kind::ProtectedFunctionUrl => Status::Url(ProtectedFunctionUrlStatus::default()),
            },
            notices: Vec::new(),
            actions: Vec::new(),
            changes: Vec::new(),
            observed: false,
        }
    }

    fn shown(status: &Status) -> Vec<(String, String, String)> {
        status
            .conditions()
            .iter()
            .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone()))
            .collect()
    }

    fn row(type_: ConditionType, status: bool, reason: Reason) -> (String, String, String) {
        let status = if status { "True" } else { "False" };
        (type_.as_str().into(), status.into(), reason.as_str().into())
    }

    #[test]
    fn a_reconcile_shows_ready_and_for_a_distribution_deploying() {
        let deploying = report(Kind::EdgeDistribution, Pass::Reconcile, Reason::Deploying);
        assert!(!deploying.ready() && !deploying.failed() && !deploying.waiting());
        assert_eq!(
            shown(&deploying.status()),
            [
                row(ConditionType::Ready, false, Reason::Deploying),
                row(ConditionType::Deploying, true, Reason::InProgress)
            ]
        );
        let url = report(
            Kind::ProtectedFunctionUrl,
            Pass::Reconcile,
            Reason::Protected,
        );
        assert!(url.ready());
        assert_eq!(
            shown(&url.status()),
            [row(ConditionType::Ready, true, Reason::Protected)]
        );
        let failed = report(
            Kind::ProtectedFunctionUrl,
            Pass::Reconcile,
            Reason::AwsError,
        );
        assert!(failed.failed() && !failed.ready());
    }

    #[test]
    fn a_checked_url_shows_exposed_naming_the_statements() {
        let with = |exposed: Option<Vec<ExposedStatement>>| {
            let mut url = report(
                Kind::ProtectedFunctionUrl,
                Pass::Reconcile,
                Reason::ReachableOutsideDistribution,
            );
            url.found = Status::Url(ProtectedFunctionUrlStatus {
                exposed_statements: exposed,
                ..ProtectedFunctionUrlStatus::default()
            });
            url
        };
        let unchecked = with(None);
        assert!(unchecked.ready());
        assert_eq!(
            shown(&unchecked.status()),
            [row(
                ConditionType::Ready,
                true,
                Reason::ReachableOutsideDistribution
            )]
        );
        let exposed = with(Some(vec![ExposedStatement {
            statement_id: "public".into(),
            grants: "anyone (*) may call lambda:InvokeFunctionUrl".into(),
        }]))
        .status();
        assert_eq!(
            shown(&exposed)[1],
            row(ConditionType::Exposed, true, Reason::ForeignStatements)
        );
        assert!(
            exposed.conditions()[1]
                .message
                .contains("public: anyone (*) may call lambda:InvokeFunctionUrl"),
            "{exposed:?}"
        );
        assert_eq!(
            shown(&with(Some(Vec::new())).status())[1],
            row(ConditionType::Exposed, false, Reason::NoForeignStatements)
        );
    }

    #[test]
    fn a_teardown_shows_deleting_until_it_finished() {
        let waiting = report(
            Kind::EdgeDistribution,
            Pass::Teardown,
            Reason::WaitingForEdgeReplicas,
        );
        assert!(waiting.waiting() && !waiting.failed() && !waiting.ready());
        assert_eq!(
            shown(&waiting.status()),
            [
                row(ConditionType::Ready, false, Reason::WaitingForEdgeReplicas),
                row(
                    ConditionType::Deleting,
                    true,
                    Reason::WaitingForEdgeReplicas
                )
            ],
            "no Deploying condition during a teardown"
        );
        let deleted = report(Kind::ProtectedFunctionUrl, Pass::Teardown, Reason::Deleted);
        assert!(!deleted.waiting() && !deleted.failed() && !deleted.ready());
        assert_eq!(
            shown(&deleted.status()),
            [
                row(ConditionType::Ready, false, Reason::Deleted),
                row(ConditionType::Deleting, false, Reason::Deleted)
            ]
        );
        let failed = report(Kind::ProtectedFunctionUrl, Pass::Teardown, Reason::NotOwned);
        assert!(failed.failed() && !failed.waiting());
        assert_eq!(
            shown(&failed.status()),
            [
                row(ConditionType::Ready, false, Reason::NotOwned),
                row(ConditionType::Deleting, true, Reason::NotOwned)
            ]
        );
    }
}
