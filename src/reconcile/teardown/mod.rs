//! Teardown: observe → plan ([`crate::plan::teardown`]) → apply, for what a
//! [`TeardownModel`] says leaves, in the order `docs/design.md` gives
//! ("Deletion"). This file runs the passes in that order; the steps are
//! [`tracker`] (the distribution: detach, disable, wait, delete), [`urls`]
//! (a leaving URL's role-policy entry, grants and URL config),
//! [`parameters`], [`edge`] (origin access controls, the signer and its
//! role) and [`report`] (what a pass says per resource).
//!
//! Every pass reads AWS afresh and deletes only what is still there, so a
//! pass is idempotent and resumes after a crash at any point: the
//! distribution is found by the owner marker in its default origin id (and
//! its `CallerReference`), everything else by deterministic name. What a
//! pass cannot finish yet is reported, never retried in a busy loop:
//! - CloudFront deploying the disabled distribution (`WaitingForDeployment`,
//!   when the engine does not wait or the wait timed out);
//! - Lambda refusing to delete the signer while CloudFront still replicates
//!   it (`WaitingForEdgeReplicas`): the engine remembers, per function and
//!   per version, since when it waits and when the next attempt is due
//!   (`ReplicaWait`, growing interval from the engine's `RetryPolicy`);
//!   a pass before that time only reads.
//!
//! Decisions written down here:
//! - A stale ETag (`PreconditionFailed`) or a distribution that is not
//!   disabled and deployed after all (`DistributionNotDisabled`: someone
//!   changed it meanwhile) re-reads and re-plans, up to
//!   `UPDATE_ATTEMPTS` times, like an apply.
//! - A URL's own resources go only once its behavior is out of the
//!   distribution (or the distribution is gone, or is not urlguard's); a
//!   failed update leaves them for the next pass.
//! - Under a distribution that stays, a leaving URL's function also leaves
//!   the signer role's inline policy, unless another URL origin of the
//!   distribution still reaches the same function URL.
//! - A URL config goes only when urlguard created it for a URL that is
//!   being deleted, with `deletionPolicy: Delete`, and no live URL names
//!   the function ([`crate::plan::teardown::plan_url_config`]): deleting a
//!   distribution takes its URLs' behaviors and grants, never the configs
//!   of URLs that stay ([`TeardownModel::staying`]).
//! - Something urlguard does not own is skipped and listed (an action line
//!   `left alone: ...` and the `Deleting` condition's message); it does not
//!   fail the teardown. An origin access control another distribution still
//!   uses is left the same way.
//! - In [`super::Mode::Plan`] nothing is written: the pass reports what it
//!   would do, as far as the first write it depends on.
//! - An object observed, not managed ([`TeardownModel::released`]) makes no
//!   AWS call at all, not even a read: it is reported `Released` (a URL
//!   that stays, being torn down only because its distribution leaves, is
//!   not reported).

mod edge;
mod hand_back;
pub(super) mod parameters;
mod progress;
mod report;
mod tracker;
mod urls;

use tracing::Instrument;

use super::engine::Engine;
use super::report::{Kind, ResourceReport};
use super::span;
use crate::api::DeletionPolicy;
use crate::model::EDGE_REGION;
use crate::model::cloudfront::DistributionObserved;
use crate::model::names::Owner;
use crate::plan::desired::DesiredDistribution;
use crate::plan::teardown::{DetachedUrls, FunctionUser, Leaving, TeardownModel};
use edge::{
    DistributionTeardown, SignerStanding, delete_origin_access_controls, delete_role, delete_signer,
};
use hand_back::hand_back;
use parameters::{delete_parameters, distribution_parameters};
use progress::{Progress, Standing};
use report::{distribution_reports, released_report, url_report};
use tracker::{Found, Phase, Tracker};
use urls::{LeavingUrl, clean_urls};

pub(super) async fn destroy(engine: &Engine, model: &TeardownModel) -> Vec<ResourceReport> {
    let mut reports = Vec::new();
    for desired in &model.distributions {
        let span = span::pass("teardown", Kind::EdgeDistribution, &desired.owner);
        reports.extend(
            destroy_distribution(engine, desired, &model.staying)
                .instrument(span)
                .await,
        );
    }
    for group in &model.detached {
        let span = span::pass("teardown", Kind::EdgeDistribution, &group.distribution);
        reports.extend(
            detach_urls(engine, group, &model.staying)
                .instrument(span)
                .await,
        );
    }
    reports.extend(
        model
            .released
            .iter()
            .filter(|r| {
                r.kind == Kind::EdgeDistribution
                    || !model.staying.iter().any(|s| s.owner == r.owner)
            })
            .map(|released| {
                tracing::info!(
                    kind = released.kind.as_str(),
                    namespace = %released.owner.namespace,
                    object = %released.owner.name,
                    "observed, not managed: released without any AWS call"
                );
                released_report(released)
            }),
    );
    reports
}

/// A distribution and every URL of the files attached to it leave.
async fn destroy_distribution(
    engine: &Engine,
    desired: &DesiredDistribution,
    staying: &[FunctionUser],
) -> Vec<ResourceReport> {
    let owner = &desired.owner;
    let policy = desired.spec.deletion_policy();
    let names: Vec<String> = desired.urls.iter().map(|u| u.owner.name.clone()).collect();
    let adopted = desired.spec.adopt.is_some();
    let leaving = if adopted && policy == DeletionPolicy::Retain {
        Leaving::HandBack(&names)
    } else {
        Leaving::Whole {
            policy,
            urls: &names,
        }
    };
    let mut tracker = Tracker::new(engine, owner, desired.known_id.as_deref(), leaving);
    let mut progress = Progress::default();
    let mut urls: Vec<LeavingUrl<'_>> = desired.urls.iter().map(LeavingUrl::new).collect();
    let mut teardown = DistributionTeardown::default();

    // 1. The URLs' behaviors and origins leave; a leaving distribution is
    //    disabled in the same update.
    let detached = tracker.run(Phase::Detach, &mut progress).await;
    let stays = match &detached {
        Ok(Found::Present(observed)) => {
            teardown.last_seen = Some(observed.clone());
            policy == DeletionPolicy::Retain
        }
        Ok(_) => false,
        Err(problem) => {
            for url in &mut urls {
                url.block(problem);
            }
            progress
                .left_in_aws
                .extend(whole_distribution_left(desired, tracker.latest.as_ref()));
            return distribution_reports(
                desired,
                progress,
                Standing::Failed(problem.clone()),
                teardown,
                urls,
            );
        }
    };

    // 2. The URLs' grants, parameters and URL configs.
    let remaining = if stays {
        Some(remaining_hosts(tracker.latest.as_ref(), owner))
    } else {
        None
    };
    clean_urls(engine, owner, &mut urls, remaining.as_deref(), staying).await;
    if policy == DeletionPolicy::Retain {
        // The owner tag goes last: until then a pass that must finish the
        // URLs' cleanup still finds the distribution by it.
        if adopted
            && stays
            && progress.problem.is_none()
            && urls.iter().all(|url| url.progress.problem.is_none())
            && let Some(observed) = &teardown.last_seen
        {
            hand_back(engine, observed, &mut progress).await;
        }
        return distribution_reports(desired, progress, Standing::Retained, teardown, urls);
    }

    // 3. The distribution: deployed, then deleted.
    match tracker.run(Phase::Delete, &mut progress).await {
        Ok(Found::Absent | Found::NotOwned) => {}
        Ok(Found::Deleted(observed)) => teardown.last_seen = Some(observed),
        Ok(Found::Present(observed)) => {
            let message = format!(
                "distribution {} is disabled; CloudFront is deploying it ({}), then it is deleted",
                observed.id, observed.status
            );
            teardown.last_seen = Some(observed);
            return distribution_reports(
                desired,
                progress,
                Standing::WaitingForDeployment(message),
                teardown,
                urls,
            );
        }
        Err(problem) => {
            progress
                .left_in_aws
                .extend(whole_distribution_left(desired, tracker.latest.as_ref()));
            return distribution_reports(
                desired,
                progress,
                Standing::Failed(problem),
                teardown,
                urls,
            );
        }
    }

    // 4. Its origin access controls and parameters, the signer, its role.
    delete_origin_access_controls(engine, owner, &mut progress).await;
    let parameters = distribution_parameters(desired);
    for (_, outcome) in delete_parameters(engine, &parameters).await {
        outcome.record(&mut progress);
    }
    let signer = delete_signer(engine, owner, &mut progress, &mut teardown).await;
    if matches!(signer, SignerStanding::Gone) {
        // The role goes after the function: the replicas run with it.
        delete_role(engine, owner, &mut progress).await;
    } else {
        progress.left_in_aws.extend(signer_left(owner));
    }
    let standing = match (signer, progress.problem.clone()) {
        (_, Some(problem)) | (SignerStanding::Failed(problem), None) => Standing::Failed(problem),
        (SignerStanding::Waiting(message), None) => Standing::WaitingForReplicas(message),
        (SignerStanding::Gone, None) => Standing::Gone,
    };
    distribution_reports(desired, progress, standing, teardown, urls)
}

/// What stays in AWS of a distribution whose own teardown could not
/// start or finish: the distribution and everything that goes after it.
fn whole_distribution_left(
    desired: &DesiredDistribution,
    seen: Option<&DistributionObserved>,
) -> Vec<String> {
    let owner = &desired.owner;
    let id = seen
        .map(|observed| observed.id.as_str())
        .or(desired.known_id.as_deref());
    let distribution = match id {
        Some(id) => format!("CloudFront distribution {id}"),
        None => format!(
            "CloudFront distribution of {}/{} (if it exists)",
            owner.namespace, owner.name
        ),
    };
    let mut left = vec![distribution];
    left.extend(
        [owner.lambda_oac_name(), owner.s3_oac_name()]
            .into_iter()
            .map(|name| format!("origin access control {name} (if it exists)")),
    );
    left.extend(
        distribution_parameters(desired)
            .iter()
            .map(|p| format!("SSM parameter {} in {} (if it exists)", p.name, p.region)),
    );
    left.extend(signer_left(owner));
    left
}

/// The signer and its role, when the signer could not be deleted.
fn signer_left(owner: &Owner) -> Vec<String> {
    vec![
        format!(
            "Lambda@Edge function {} in {EDGE_REGION} (if it exists)",
            owner.signer_function_name()
        ),
        format!("IAM role {} (if it exists)", owner.signer_role_name()),
    ]
}

/// The hosts of the URL origins that stay in the distribution.
fn remaining_hosts(observed: Option<&DistributionObserved>, owner: &Owner) -> Vec<String> {
    let default_origin_id = owner.default_origin_id();
    observed
        .map(|o| {
            o.config
                .origins
                .iter()
                .filter(|origin| origin.id != default_origin_id)
                .map(|origin| origin.domain_name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// URLs leave a distribution that stays.
async fn detach_urls(
    engine: &Engine,
    group: &DetachedUrls,
    staying: &[FunctionUser],
) -> Vec<ResourceReport> {
    let (distribution, desired) = (&group.distribution, &group.urls);
    let names: Vec<String> = desired.iter().map(|u| u.owner.name.clone()).collect();
    let mut tracker = Tracker::new(
        engine,
        distribution,
        group.known_id.as_deref(),
        Leaving::Urls(&names),
    );
    let mut urls: Vec<LeavingUrl<'_>> = desired.iter().map(LeavingUrl::new).collect();
    let mut progress = Progress::default();
    match tracker.run(Phase::Detach, &mut progress).await {
        Ok(found) => {
            // The one update (or the note that the distribution is not
            // urlguard's) concerns every URL of the group.
            for url in &mut urls {
                url.progress
                    .actions
                    .extend(progress.actions.iter().cloned());
                url.progress
                    .left_alone
                    .extend(progress.left_alone.iter().cloned());
            }
            let remaining = match found {
                Found::Present(_) => remaining_hosts(tracker.latest.as_ref(), distribution),
                _ => Vec::new(),
            };
            clean_urls(engine, distribution, &mut urls, Some(&remaining), staying).await;
        }
        Err(problem) => {
            for url in &mut urls {
                url.block(&problem);
            }
        }
    }
    urls.into_iter().map(url_report).collect()
}
