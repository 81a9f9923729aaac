//! What a teardown pass says per resource: finished (`Deleted`,
//! `Retained`, or `Released` for an object observed, not managed), waiting
//! for AWS, or failed, with what was left alone because urlguard does not
//! own it.

use super::edge::DistributionTeardown;
use super::progress::{Progress, Standing};
use super::urls::LeavingUrl;
use crate::api::{DeletionPolicy, EdgeDistributionStatus, ProtectedFunctionUrlStatus};
use crate::model::lambda::{AuthType, UrlConfig};
use crate::plan::desired::DesiredDistribution;
use crate::plan::teardown::{Kept, Released};
use crate::reconcile::outcome::{Reason, Verdict};
use crate::reconcile::problem::Problem;
use crate::reconcile::report::{Kind, Pass, ResourceReport, Status};

/// The reports of a distribution's teardown: its own, then its URLs'.
pub(super) fn distribution_reports(
    desired: &DesiredDistribution,
    progress: Progress,
    standing: Standing,
    teardown: DistributionTeardown,
    urls: Vec<LeavingUrl<'_>>,
) -> Vec<ResourceReport> {
    let seen = teardown.last_seen.as_ref();
    let suffix = progress.left_alone_suffix();
    let verdict = distribution_verdict(standing, &suffix, progress.left_in_aws);
    let mut out = vec![ResourceReport {
        kind: Kind::EdgeDistribution,
        namespace: desired.owner.namespace.clone(),
        name: desired.owner.name.clone(),
        pass: Pass::Teardown,
        verdict,
        found: Status::Distribution(EdgeDistributionStatus {
            distribution_id: seen.map(|o| o.id.clone()),
            distribution_arn: seen.map(|o| o.arn.clone()),
            domain_name: seen.map(|o| o.domain_name.clone()),
            deployment_status: seen.map(|o| o.status.clone()),
            signer_function_arn: teardown.signer_function_arn,
            retired_signer_versions: teardown.retired,
            ..EdgeDistributionStatus::default()
        }),
        notices: Vec::new(),
        actions: progress.actions,
        changes: Vec::new(),
        observed: false,
    }];
    out.extend(urls.into_iter().map(url_report));
    out
}

/// Where a leaving distribution stands, `suffix` naming what was left alone;
/// a failure that cannot succeed is stuck, leaving `left_in_aws`.
fn distribution_verdict(standing: Standing, suffix: &str, left_in_aws: Vec<String>) -> Verdict {
    match standing {
        Standing::Gone => Verdict::new(
            Reason::Deleted,
            format!("everything urlguard created for it is gone{suffix}"),
        ),
        Standing::Retained => Verdict::new(
            Reason::Retained,
            format!(
                "deletionPolicy Retain: the distribution, its signer, origin access controls and parameters stay; its URLs left it{suffix}"
            ),
        ),
        Standing::WaitingForDeployment(message) => {
            Verdict::new(Reason::WaitingForDeployment, format!("{message}{suffix}"))
        }
        Standing::WaitingForReplicas(message) => {
            Verdict::new(Reason::WaitingForEdgeReplicas, format!("{message}{suffix}"))
        }
        Standing::Failed(problem) => stuck_if_hopeless(&problem, suffix, left_in_aws),
    }
}

/// The verdict of a failed teardown; stuck when retrying cannot fix it.
fn stuck_if_hopeless(problem: &Problem, suffix: &str, left_in_aws: Vec<String>) -> Verdict {
    let verdict = problem.verdict(suffix);
    if problem.cannot_succeed() {
        verdict.stuck(left_in_aws)
    } else {
        verdict
    }
}

/// The report of an object observed, not managed, whose deletion made no
/// AWS call.
pub(super) fn released_report(released: &Released) -> ResourceReport {
    let policy = "spec.managementPolicy: Observe";
    let whose = match &released.observed_by {
        None => format!("observed, not managed ({policy})"),
        Some(distribution) => {
            format!("its EdgeDistribution {distribution} is observed, not managed ({policy})")
        }
    };
    let found = match released.kind {
        Kind::EdgeDistribution => Status::Distribution(EdgeDistributionStatus::default()),
        Kind::ProtectedFunctionUrl => Status::Url(ProtectedFunctionUrlStatus::default()),
    };
    ResourceReport {
        kind: released.kind,
        namespace: released.owner.namespace.clone(),
        name: released.owner.name.clone(),
        pass: Pass::Teardown,
        verdict: Verdict::new(
            Reason::Released,
            format!(
                "{whose}: deleted without any AWS call; what exists in AWS for it stays as it is"
            ),
        ),
        found,
        notices: Vec::new(),
        actions: Vec::new(),
        changes: Vec::new(),
        observed: true,
    }
}

/// The report of a leaving URL.
pub(super) fn url_report(url: LeavingUrl<'_>) -> ResourceReport {
    let desired = url.desired;
    let suffix = url.progress.left_alone_suffix();
    let verdict = match &url.progress.problem {
        Some(problem) => stuck_if_hopeless(problem, &suffix, url.progress.left_in_aws.clone()),
        None => url_verdict(
            desired.spec.deletion_policy,
            url.config.as_ref(),
            url.kept.as_ref(),
            &suffix,
        ),
    };
    ResourceReport {
        kind: Kind::ProtectedFunctionUrl,
        namespace: desired.owner.namespace.clone(),
        name: desired.owner.name.clone(),
        pass: Pass::Teardown,
        verdict,
        found: Status::Url(ProtectedFunctionUrlStatus {
            function_url: url.config.as_ref().map(|c| c.function_url.clone()),
            url_parameter: Some(desired.parameter_names.0.clone()),
            arn_parameter: Some(desired.parameter_names.1.clone()),
            ..ProtectedFunctionUrlStatus::default()
        }),
        notices: url.notices,
        actions: url.progress.actions,
        changes: Vec::new(),
        observed: false,
    }
}

/// A URL whose teardown finished: what stayed of its URL config (and why:
/// `kept`), and whether that is still closed to the internet.
fn url_verdict(
    policy: DeletionPolicy,
    config: Option<&UrlConfig>,
    kept: Option<&Kept>,
    suffix: &str,
) -> Verdict {
    let auth = match config {
        Some(config) if config.auth_type == AuthType::AwsIam => "on AWS_IAM",
        Some(_) => "but is NOT on AWS_IAM: it is open to the internet",
        None => "",
    };
    match (policy, kept) {
        (DeletionPolicy::Retain, _) | (_, Some(Kept::Retained)) => {
            let kept = match config {
                Some(_) => format!("the function URL config stays (deletionPolicy Retain), {auth}"),
                None => "the function has no URL config".to_owned(),
            };
            Verdict::new(
                Reason::Retained,
                format!("its behavior, grants and parameters are gone; {kept}{suffix}"),
            )
        }
        (DeletionPolicy::Delete, Some(why)) => Verdict::new(
            Reason::Deleted,
            format!(
                "its behavior, grants and parameters are gone; the function URL config is left in place ({why}), {auth}{suffix}"
            ),
        ),
        (DeletionPolicy::Delete, None) => Verdict::new(
            Reason::Deleted,
            format!("its behavior, grants, parameters and function URL config are gone{suffix}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::InvokeMode;

    fn config(auth_type: AuthType) -> UrlConfig {
        UrlConfig {
            function_url: "https://abc.lambda-url.eu-west-1.on.aws/".into(),
            auth_type,
            invoke_mode: InvokeMode::Buffered,
            cors: None,
        }
    }

    #[test]
    fn a_retained_url_says_whether_it_is_still_closed() {
        let closed = url_verdict(
            DeletionPolicy::Retain,
            Some(&config(AuthType::AwsIam)),
            None,
            "",
        );
        assert_eq!(closed.reason, Reason::Retained);
        assert!(
            closed
                .message
                .ends_with("stays (deletionPolicy Retain), on AWS_IAM")
        );
        let open = url_verdict(
            DeletionPolicy::Retain,
            Some(&config(AuthType::None)),
            None,
            "",
        );
        assert!(open.message.contains("NOT on AWS_IAM"), "{}", open.message);
        let none = url_verdict(
            DeletionPolicy::Retain,
            None,
            None,
            "; left alone (not owned by urlguard): x",
        );
        assert!(
            none.message
                .ends_with("no URL config; left alone (not owned by urlguard): x")
        );
        assert_eq!(
            url_verdict(DeletionPolicy::Delete, None, None, "").reason,
            Reason::Deleted
        );
        let adopted = url_verdict(
            DeletionPolicy::Delete,
            Some(&config(AuthType::AwsIam)),
            Some(&Kept::CreatedBeforeUrlguard),
            "",
        );
        assert_eq!(adopted.reason, Reason::Deleted);
        assert!(
            adopted
                .message
                .ends_with("config is left in place (created before urlguard), on AWS_IAM"),
            "{}",
            adopted.message
        );
    }

    #[test]
    fn a_distribution_verdict_follows_where_it_stands() {
        let suffix = "; left alone (not owned by urlguard): role r";
        let cases = [
            (Standing::Gone, Reason::Deleted),
            (Standing::Retained, Reason::Retained),
            (
                Standing::WaitingForDeployment("deploying".into()),
                Reason::WaitingForDeployment,
            ),
            (
                Standing::WaitingForReplicas("replicas".into()),
                Reason::WaitingForEdgeReplicas,
            ),
            (
                Standing::Failed(Problem::NotOwned("signer s".into())),
                Reason::NotOwned,
            ),
        ];
        for (standing, reason) in cases {
            let verdict = distribution_verdict(standing, suffix, Vec::new());
            assert_eq!(verdict.reason, reason);
            assert!(verdict.message.ends_with(suffix), "{}", verdict.message);
        }
    }
}
