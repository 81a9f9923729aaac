//! What a pass says about an object it observed, not managed
//! (`spec.managementPolicy: Observe`, its own or its distribution's). The
//! pass read and planned it as it would to manage it, through an observing
//! engine whose adapters refuse writes (`Engine::observing`); this turns
//! the managed verdict and the plan into what users see:
//!
//! - AWS matches the spec: `Ready=True`, reason `Observed`, the managed
//!   verdict's message after "AWS matches the spec" (so `kubectl wait
//!   --for=condition=Ready` and Argo CD's health say the declared state is
//!   there, while the reason says nobody keeps it so);
//! - AWS differs: `Ready=False`, reason `Drifted`, naming what a managed
//!   pass would change (its actions and field changes: for a URL, its
//!   route in the distribution and the signer role's grant too);
//! - a problem of its own (a read that failed, a function not opted in,
//!   something not urlguard's) stands as for a managed object; so does
//!   progress without drift (CloudFront deploying someone's change).
//!
//! Notices that announce a write (a URL switched from `NONE`, a config
//! adopted) become what a managed pass would do: no event may claim a
//! write that was not made. Findings (`Exposed`) stay notices.

use super::outcome::{Class, Notice, Reason, Verdict};
use super::report::ResourceReport;
use crate::plan::observe::{describe, difference};

/// How every observed object's message begins.
pub(super) const OBSERVED: &str = "observed, not managed (spec.managementPolicy: Observe)";

/// The report of an observed object, from the report a managed pass would
/// make: its actions and field changes are the drift.
pub(super) fn observed(mut report: ResourceReport) -> ResourceReport {
    let (findings, writes): (Vec<Notice>, Vec<Notice>) = report
        .notices
        .into_iter()
        .partition(|notice| matches!(notice, Notice::Exposed { .. }));
    report.notices = findings;
    let mut actions: Vec<String> = writes.iter().map(ToString::to_string).collect();
    actions.append(&mut report.actions);
    report.actions = actions;
    let mut differences = report.actions.clone();
    differences.extend(report.changes.iter().map(difference));
    report.verdict = verdict(report.verdict, describe(&differences));
    report.observed = true;
    report
}

/// An observed object's verdict from its managed one and its drift.
fn verdict(managed: Verdict, drift: Option<String>) -> Verdict {
    if managed.reason.class() == Class::Failure {
        return managed;
    }
    match drift {
        Some(drift) => {
            let missing = if managed.reason == Reason::Pending {
                "the distribution does not exist in AWS; "
            } else {
                ""
            };
            Verdict::new(
                Reason::Drifted,
                format!(
                    "{OBSERVED}: {missing}AWS differs from the spec; a managed pass would: {drift}"
                ),
            )
        }
        None if managed.reason.class() == Class::Ready => Verdict::new(
            Reason::Observed,
            format!("{OBSERVED}: AWS matches the spec; {}", managed.message),
        ),
        None => managed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProtectedFunctionUrlStatus;
    use crate::plan::FieldChange;
    use crate::reconcile::report::{Kind, Pass, Status};

    fn report(reason: Reason, message: &str) -> ResourceReport {
        ResourceReport {
            kind: Kind::ProtectedFunctionUrl,
            namespace: "books".into(),
            name: "get-books".into(),
            pass: Pass::Reconcile,
            verdict: Verdict::new(reason, message),
            found: Status::Url(ProtectedFunctionUrlStatus::default()),
            notices: Vec::new(),
            actions: Vec::new(),
            changes: Vec::new(),
            observed: false,
        }
    }

    #[test]
    fn in_sync_is_ready_and_says_it_is_observed() {
        let seen = observed(report(
            Reason::Protected,
            "reachable only through the distribution",
        ));
        assert!(seen.observed && seen.ready());
        assert_eq!(seen.verdict.reason, Reason::Observed);
        assert_eq!(
            seen.verdict.message,
            "observed, not managed (spec.managementPolicy: Observe): AWS matches the spec; reachable only through the distribution"
        );
    }

    #[test]
    fn drift_names_what_a_managed_pass_would_change_and_writes_are_not_notices() {
        let mut managed = report(Reason::Protected, "reachable only through the distribution");
        managed.notices = vec![
            Notice::SwitchedToIam,
            Notice::Exposed {
                statements: vec!["public: anyone".into()],
            },
        ];
        managed.actions = vec!["update function URL config (auth NONE → AWS_IAM)".into()];
        managed.changes = vec![
            FieldChange::new("comment", "\"a\"", "\"b\""),
            FieldChange::new("behaviors[/getBooks]", "(none)", "x"),
        ];
        let seen = observed(managed);
        assert!(!seen.ready() && !seen.failed());
        assert_eq!(seen.verdict.reason, Reason::Drifted);
        assert_eq!(seen.verdict.reason.class(), Class::Drifted);
        assert_eq!(
            seen.verdict.message,
            "observed, not managed (spec.managementPolicy: Observe): AWS differs from the spec; a managed pass would: switch function URL auth from NONE to AWS_IAM: it was open to the internet; update function URL config (auth NONE → AWS_IAM); comment: \"a\" → \"b\"; behaviors[/getBooks]: missing"
        );
        assert_eq!(
            seen.notices.len(),
            1,
            "only the finding stays a notice: {:?}",
            seen.notices
        );
        assert_eq!(seen.actions.len(), 2);
    }

    #[test]
    fn a_missing_distribution_is_said_and_problems_stand() {
        let mut pending = report(Reason::Pending, "the distribution does not exist yet");
        pending.actions = vec!["create distribution with 5 behavior(s) for 5 URL(s)".into()];
        let seen = observed(pending);
        assert!(
            seen.verdict
                .message
                .contains("the distribution does not exist in AWS; AWS differs"),
            "{}",
            seen.verdict.message
        );
        let mut failed = report(Reason::FunctionNotOptedIn, "not opted in");
        failed.actions = vec!["x".into()];
        let seen = observed(failed);
        assert_eq!(seen.verdict.reason, Reason::FunctionNotOptedIn);
        let deploying = observed(report(Reason::Deploying, "CloudFront is deploying"));
        assert_eq!(deploying.verdict.reason, Reason::Deploying);
    }
}
