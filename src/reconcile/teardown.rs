//! Teardown: observe → plan ([`crate::plan::teardown`]) → apply, for what a
//! [`TeardownModel`] says leaves, in the order DESIGN.md gives ("Deletion"),
//! and the deletion of signer versions an apply retired.
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
//!   ([`ReplicaWait`], growing interval from the engine's [`RetryPolicy`]);
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
//! - Something urlguard does not own is skipped and listed (an action line
//!   `left alone: ...` and the `Deleting` condition's message); it does not
//!   fail the teardown. An origin access control another distribution still
//!   uses is left the same way.
//! - In [`super::Mode::Plan`] nothing is written: the pass reports what it
//!   would do, as far as the first write it depends on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::Engine;
use super::distribution::{UPDATE_ATTEMPTS, find_distribution, wait_deployed};
use super::report::{Kind, ResourceReport, Status, condition};
use super::url::Problem;
use crate::api::{
    DeletionPolicy, EdgeDistributionStatus, FunctionRef, ProtectedFunctionUrlStatus,
    RetiredSignerVersion,
};
use crate::model::EDGE_REGION;
use crate::model::cloudfront::DistributionObserved;
use crate::model::lambda::{AuthType, FunctionVersion, UrlConfig};
use crate::model::names::{Owner, OwnerKind, SIGNER_POLICY_NAME};
use crate::plan::desired::{DesiredDistribution, DesiredUrl};
use crate::plan::permissions::{self, StatementAction};
use crate::plan::teardown::{
    DetachedUrls, DistributionStep, Leaving, NotOwned, ReplicaWait, RoleStep, SignerTeardown,
    TeardownModel, UrlConfigStep, invoke_policy_resources, invoke_policy_without, names_function,
    plan_distribution, plan_parameter, plan_retirement, plan_role, plan_signer, plan_url_config,
};

/// The functions and versions this engine knows to wait for their edge
/// replicas, by key (`lambda:<function name>` or a version ARN). Cloning
/// shares it.
#[derive(Debug, Clone, Default)]
pub(super) struct ReplicaWaits(Arc<Mutex<BTreeMap<String, ReplicaWait>>>);

impl ReplicaWaits {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ReplicaWait>> {
        // A panic while holding the lock leaves a consistent map.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str) -> Option<ReplicaWait> {
        self.lock().get(key).copied()
    }

    fn set(&self, key: &str, wait: ReplicaWait) {
        self.lock().insert(key.to_owned(), wait);
    }

    fn set_if_absent(&self, key: &str, wait: ReplicaWait) {
        self.lock().entry(key.to_owned()).or_insert(wait);
    }

    fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The earliest attempt due after `now`, if any.
    pub(super) fn next_attempt_after(&self, now: SystemTime) -> Option<SystemTime> {
        self.lock()
            .values()
            .map(|w| w.next_attempt_at)
            .filter(|at| *at > now)
            .min()
    }
}

/// The key of a whole signer function in [`ReplicaWaits`].
fn function_key(function_name: &str) -> String {
    format!("lambda:{function_name}")
}

/// `at` as a Kubernetes time, to the second.
fn kube_time(at: SystemTime) -> Option<Time> {
    let seconds = at.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Timestamp::from_second(i64::try_from(seconds).ok()?)
        .ok()
        .map(Time)
}

/// `at` as RFC 3339, to the second.
fn rfc3339(at: SystemTime) -> String {
    kube_time(at).map_or_else(|| "(unknown time)".to_owned(), |t| t.0.to_string())
}

/// What a pass did for one resource, and what stopped it.
#[derive(Debug, Default)]
struct Progress {
    actions: Vec<String>,
    left_alone: Vec<String>,
    problem: Option<Problem>,
}

impl Progress {
    fn fail(&mut self, problem: Problem) {
        self.problem.get_or_insert(problem);
    }

    fn leave(&mut self, note: &NotOwned) {
        if self.left_alone.contains(&note.what) {
            return;
        }
        self.actions.push(format!("left alone: {note}"));
        self.left_alone.push(note.what.clone());
    }

    /// The condition message suffix naming what was left alone.
    fn left_alone_suffix(&self) -> String {
        if self.left_alone.is_empty() {
            String::new()
        } else {
            format!(
                "; left alone (not owned by urlguard): {}",
                self.left_alone.join(", ")
            )
        }
    }
}

/// Where a leaving distribution stands after a pass.
#[derive(Debug)]
enum Standing {
    Gone,
    Retained,
    WaitingForDeployment(String),
    WaitingForReplicas(String),
    Failed(Problem),
}

pub(super) async fn destroy(engine: &Engine, model: &TeardownModel) -> Vec<ResourceReport> {
    let mut reports = Vec::new();
    for desired in &model.distributions {
        reports.extend(destroy_distribution(engine, desired).await);
    }
    for group in &model.detached {
        reports.extend(detach_urls(engine, group).await);
    }
    reports
}

// ------------------------------------------------------- the distribution

/// What the distribution phase found.
#[derive(Debug)]
enum Found {
    /// There is none (any more).
    Absent,
    /// It is not urlguard's: left alone.
    NotOwned,
    /// It is there, with the leaving URLs out (and, in the delete phase,
    /// disabled but not deployed yet).
    Present(DistributionObserved),
    /// This pass deleted it.
    Deleted(DistributionObserved),
}

/// How far a distribution phase goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Only the update that takes the leaving URLs out (and disables it).
    Detach,
    /// Every step, to the delete.
    Delete,
}

/// Drives one distribution through its planned steps, re-reading and
/// re-planning when CloudFront says it changed meanwhile.
struct Tracker<'a> {
    engine: &'a Engine,
    owner: &'a Owner,
    /// Where the distribution was last seen (see [`find_distribution`]).
    known_id: Option<&'a str>,
    tag: String,
    leaving: Leaving<'a>,
    /// The distribution as last read or written, for the next phase.
    latest: Option<DistributionObserved>,
    /// Owner tags read, by distribution id.
    tags: BTreeMap<String, Option<String>>,
}

impl<'a> Tracker<'a> {
    fn new(
        engine: &'a Engine,
        owner: &'a Owner,
        known_id: Option<&'a str>,
        leaving: Leaving<'a>,
    ) -> Tracker<'a> {
        Tracker {
            engine,
            owner,
            known_id,
            tag: owner.tag_value(OwnerKind::EdgeDistribution),
            leaving,
            latest: None,
            tags: BTreeMap::new(),
        }
    }

    async fn observe(&mut self) -> Result<Option<DistributionObserved>, Problem> {
        if let Some(latest) = self.latest.take() {
            return Ok(Some(latest));
        }
        find_distribution(self.engine, self.owner, self.known_id).await
    }

    async fn owner_tag(
        &mut self,
        observed: &DistributionObserved,
    ) -> Result<Option<String>, Problem> {
        if let Some(tag) = self.tags.get(&observed.id) {
            return Ok(tag.clone());
        }
        let tag = self
            .engine
            .aws
            .cloudfront()
            .owner_of(&observed.arn)
            .await
            .map_err(|e| Problem::aws(&e))?;
        self.tags.insert(observed.id.clone(), tag.clone());
        Ok(tag)
    }

    async fn run(&mut self, phase: Phase, progress: &mut Progress) -> Result<Found, Problem> {
        let cloudfront = self.engine.aws.cloudfront();
        let default_origin_id = self.owner.default_origin_id();
        for _ in 0..UPDATE_ATTEMPTS {
            let mut observed = match self.observe().await {
                Ok(Some(observed)) => observed,
                Ok(None) => return Ok(Found::Absent),
                // urlguard's origin id, another caller reference: not ours.
                Err(problem) if problem.reason == "NotOwned" => {
                    if !progress.left_alone.contains(&problem.message) {
                        progress
                            .actions
                            .push(format!("left alone: {}", problem.message));
                        progress.left_alone.push(problem.message);
                    }
                    return Ok(Found::NotOwned);
                }
                Err(problem) => return Err(problem),
            };
            let owner_found = self.owner_tag(&observed).await?;
            let steps = match plan_distribution(
                &observed,
                owner_found.as_deref(),
                &self.tag,
                &default_origin_id,
                self.leaving,
            ) {
                Ok(steps) => steps,
                Err(not_owned) => {
                    progress.leave(&not_owned);
                    return Ok(Found::NotOwned);
                }
            };
            let mut changed_meanwhile = false;
            for step in steps {
                match step {
                    DistributionStep::Update {
                        shape,
                        removed_urls,
                        disables,
                    } => {
                        let description = describe_update(&observed.id, &removed_urls, disables);
                        if !self.engine.applies() {
                            // Said once: the delete phase plans the same
                            // update again.
                            if phase == Phase::Detach {
                                progress.actions.push(description);
                                self.note_foreign_urls(&removed_urls, progress);
                            }
                            continue;
                        }
                        match cloudfront
                            .update_distribution(&observed.id, &observed.etag, &shape)
                            .await
                        {
                            Ok(updated) => {
                                progress.actions.push(description);
                                self.note_foreign_urls(&removed_urls, progress);
                                if let Leaving::Whole {
                                    policy: DeletionPolicy::Delete,
                                    ..
                                } = self.leaving
                                {
                                    // The signer's associations left: its
                                    // replicas' clock starts now.
                                    self.engine.waits.set_if_absent(
                                        &function_key(&self.owner.signer_function_name()),
                                        ReplicaWait::released(SystemTime::now()),
                                    );
                                }
                                observed = updated;
                            }
                            Err(error) if error.is_precondition_failed() => {
                                changed_meanwhile = true;
                                break;
                            }
                            Err(error) => return Err(Problem::aws(&error)),
                        }
                    }
                    DistributionStep::WaitDeployed if phase == Phase::Delete => {
                        if self.engine.applies() {
                            observed = wait_deployed(self.engine, observed).await;
                            if !observed.is_deployed() {
                                self.latest = Some(observed.clone());
                                return Ok(Found::Present(observed));
                            }
                        }
                    }
                    DistributionStep::Delete if phase == Phase::Delete => {
                        let description = format!("delete distribution {}", observed.id);
                        if !self.engine.applies() {
                            progress.actions.push(description);
                            return Ok(Found::Deleted(observed));
                        }
                        match cloudfront
                            .delete_distribution(&observed.id, &observed.etag)
                            .await
                        {
                            Ok(()) => {
                                progress.actions.push(description);
                                return Ok(Found::Deleted(observed));
                            }
                            Err(error) if error.is_precondition_failed() || error.is_in_use() => {
                                changed_meanwhile = true;
                                break;
                            }
                            Err(error) => return Err(Problem::aws(&error)),
                        }
                    }
                    DistributionStep::WaitDeployed | DistributionStep::Delete => break,
                }
            }
            if !changed_meanwhile {
                self.latest = Some(observed.clone());
                return Ok(Found::Present(observed));
            }
            tracing::info!(distribution = %observed.id, "the distribution changed since it was read; re-reading");
        }
        Err(Problem {
            reason: "ConcurrentUpdates",
            message: format!(
                "the distribution kept changing between read and write ({UPDATE_ATTEMPTS} attempts); another writer is active"
            ),
        })
    }

    /// URL origins that leave with the distribution but belong to no URL of
    /// the files: their URLs' own resources stay, which is said.
    fn note_foreign_urls(&self, removed_urls: &[String], progress: &mut Progress) {
        let Leaving::Whole { urls, .. } = self.leaving else {
            return;
        };
        for name in removed_urls.iter().filter(|n| !urls.contains(n)) {
            progress.actions.push(format!(
                "ProtectedFunctionUrl {}/{name} is not in the files: its behavior leaves with the distribution, its URL config, grants and parameters stay",
                self.owner.namespace
            ));
        }
    }
}

fn describe_update(id: &str, removed_urls: &[String], disables: bool) -> String {
    let urls = if removed_urls.is_empty() {
        String::new()
    } else {
        format!(
            "take {} URL behavior(s) out ({})",
            removed_urls.len(),
            removed_urls.join(", ")
        )
    };
    match (disables, urls.is_empty()) {
        (true, true) => format!("disable distribution {id}"),
        (true, false) => format!("disable distribution {id} and {urls}"),
        (false, _) => format!("update distribution {id}: {urls}"),
    }
}

/// A distribution and every URL of the files attached to it leave.
async fn destroy_distribution(
    engine: &Engine,
    desired: &DesiredDistribution,
) -> Vec<ResourceReport> {
    let owner = &desired.owner;
    let policy = desired.spec.deletion_policy;
    let names: Vec<String> = desired.urls.iter().map(|u| u.owner.name.clone()).collect();
    let mut tracker = Tracker::new(
        engine,
        owner,
        desired.known_id.as_deref(),
        Leaving::Whole {
            policy,
            urls: &names,
        },
    );
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
                url.progress.fail(blocked_by(problem));
            }
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
    clean_urls(engine, owner, &mut urls, remaining.as_deref()).await;
    if policy == DeletionPolicy::Retain {
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
    }
    let standing = match (signer, progress.problem.clone()) {
        (_, Some(problem)) | (SignerStanding::Failed(problem), None) => Standing::Failed(problem),
        (SignerStanding::Waiting(message), None) => Standing::WaitingForReplicas(message),
        (SignerStanding::Gone, None) => Standing::Gone,
    };
    distribution_reports(desired, progress, standing, teardown, urls)
}

/// The problem of a URL whose behavior could not leave its distribution.
fn blocked_by(problem: &Problem) -> Problem {
    Problem {
        reason: problem.reason,
        message: format!(
            "its behavior could not leave the distribution, so its grants, parameters and URL config stay for now: {}",
            problem.message
        ),
    }
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
async fn detach_urls(engine: &Engine, group: &DetachedUrls) -> Vec<ResourceReport> {
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
            clean_urls(engine, distribution, &mut urls, Some(&remaining)).await;
        }
        Err(problem) => {
            for url in &mut urls {
                url.progress.fail(blocked_by(&problem));
            }
        }
    }
    urls.into_iter().map(url_report).collect()
}

// -------------------------------------------------------------- the URLs

/// A URL leaving, and what its pass did.
#[derive(Debug)]
struct LeavingUrl<'a> {
    desired: &'a DesiredUrl,
    progress: Progress,
    /// Its URL config as read by this pass.
    config: Option<UrlConfig>,
    /// Whether the URL config was read (a failed read leaves it alone).
    config_read: bool,
}

impl<'a> LeavingUrl<'a> {
    fn new(desired: &'a DesiredUrl) -> LeavingUrl<'a> {
        LeavingUrl {
            desired,
            progress: Progress::default(),
            config: None,
            config_read: false,
        }
    }

    fn function(&self) -> &FunctionRef {
        &self.desired.spec.function
    }

    fn host(&self) -> Option<&str> {
        self.config.as_ref().map(UrlConfig::host)
    }
}

/// The URLs' own resources, after their behaviors left: the signer role's
/// policy (`remaining_hosts` is `Some` when the distribution stays), grants,
/// parameters, then URL configs.
async fn clean_urls(
    engine: &Engine,
    distribution: &Owner,
    urls: &mut [LeavingUrl<'_>],
    remaining_hosts: Option<&[String]>,
) {
    for url in urls.iter_mut() {
        let function = url.function().clone();
        let lambda = engine.aws.lambda(&function.region);
        match lambda
            .get_url_config(&function.name, function.qualifier.as_deref())
            .await
        {
            Ok(config) => {
                url.config = config;
                url.config_read = true;
            }
            Err(error) => url.progress.fail(Problem::aws(&error)),
        }
    }
    if let Some(remaining) = remaining_hosts {
        shrink_role_policy(engine, distribution, urls, remaining).await;
    }
    for url in urls.iter_mut() {
        remove_grants(engine, url).await;
    }
    let parameters: Vec<ParameterRef> = urls
        .iter()
        .enumerate()
        .flat_map(|(index, url)| {
            let desired = url.desired;
            let tag = desired.owner.tag_value(OwnerKind::ProtectedFunctionUrl);
            let region = desired.spec.ssm_export.region.clone();
            [&desired.parameter_names.0, &desired.parameter_names.1]
                .into_iter()
                .map(move |name| ParameterRef {
                    index,
                    region: region.clone(),
                    name: name.clone(),
                    owner: tag.clone(),
                })
        })
        .collect();
    for (index, outcome) in delete_parameters(engine, &parameters).await {
        if let Some(url) = urls.get_mut(index) {
            outcome.record(&mut url.progress);
        }
    }
    for url in urls.iter_mut() {
        delete_url_config(engine, url).await;
    }
}

/// Under a distribution that stays, the leaving functions leave the signer
/// role's policy too (one write for all of them).
async fn shrink_role_policy(
    engine: &Engine,
    distribution: &Owner,
    urls: &mut [LeavingUrl<'_>],
    remaining_hosts: &[String],
) {
    let role_name = distribution.signer_role_name();
    let iam = engine.aws.iam();
    let role = match iam.get_role(&role_name).await {
        Ok(Some(role)) => role,
        Ok(None) => return,
        Err(error) => {
            for url in urls.iter_mut() {
                url.progress.fail(Problem::aws(&error));
            }
            return;
        }
    };
    let tag = distribution.tag_value(OwnerKind::EdgeDistribution);
    let Some(policy) = role
        .invoke_policy
        .as_ref()
        .filter(|_| role.owner.as_deref() == Some(tag.as_str()))
    else {
        return;
    };
    let named = invoke_policy_resources(policy);
    let leaving: Vec<usize> = urls
        .iter()
        .enumerate()
        .filter(|(_, url)| {
            url.host()
                .is_none_or(|h| !remaining_hosts.iter().any(|r| r == h))
        })
        .filter(|(_, url)| named.iter().any(|arn| names_function(arn, url.function())))
        .map(|(index, _)| index)
        .collect();
    let functions: Vec<&FunctionRef> = leaving.iter().map(|&i| urls[i].function()).collect();
    let Some(document) =
        invoke_policy_without(policy, &distribution.signer_function_name(), &functions)
    else {
        return;
    };
    let result = if engine.applies() {
        iam.put_role_policy(&role_name, SIGNER_POLICY_NAME, &document)
            .await
    } else {
        Ok(())
    };
    for &index in &leaving {
        let url = &mut urls[index];
        match &result {
            Ok(()) => url.progress.actions.push(format!(
                "remove function {} from signer role {role_name}'s policy",
                url.function().name
            )),
            Err(error) => url.progress.fail(Problem::aws(error)),
        }
    }
}

/// Removes the URL's `urlguard-...` resource-policy statements.
async fn remove_grants(engine: &Engine, url: &mut LeavingUrl<'_>) {
    let function = url.function().clone();
    let qualifier = function.qualifier.as_deref();
    let lambda = engine.aws.lambda(&function.region);
    let observed = match lambda.get_policy(&function.name, qualifier).await {
        Ok(observed) => observed,
        Err(error) => {
            url.progress.fail(Problem::aws(&error));
            return;
        }
    };
    let owner = &url.desired.owner;
    let managed = [owner.statement_id("url"), owner.statement_id("invoke")];
    for action in permissions::plan(&[], &observed, &managed) {
        let StatementAction::Remove(sid) = action else {
            continue;
        };
        url.progress.actions.push(format!("remove grant {sid}"));
        if engine.applies()
            && let Err(error) = lambda
                .remove_permission(&function.name, qualifier, &sid)
                .await
        {
            url.progress.fail(Problem::aws(&error));
        }
    }
}

/// Deletes the URL config (`deletionPolicy: Delete`) or keeps it.
async fn delete_url_config(engine: &Engine, url: &mut LeavingUrl<'_>) {
    if !url.config_read {
        return;
    }
    let function = url.function().clone();
    match plan_url_config(url.config.as_ref(), url.desired.spec.deletion_policy) {
        UrlConfigStep::Absent | UrlConfigStep::Keep => {}
        UrlConfigStep::Delete => {
            url.progress.actions.push(format!(
                "delete the function URL config of {}",
                function.name
            ));
            if !engine.applies() {
                return;
            }
            let lambda = engine.aws.lambda(&function.region);
            match lambda
                .delete_url_config(&function.name, function.qualifier.as_deref())
                .await
            {
                Ok(()) => url.config = None,
                Err(error) => url.progress.fail(Problem::aws(&error)),
            }
        }
    }
}

// ---------------------------------------------------------- parameters

/// A parameter that leaves, and whose it is.
#[derive(Debug, Clone)]
struct ParameterRef {
    /// The resource it belongs to (an index the caller understands).
    index: usize,
    region: String,
    name: String,
    /// The owner tag it must carry.
    owner: String,
}

/// What happened to one parameter.
#[derive(Debug)]
enum ParameterOutcome {
    Deleted(String),
    LeftAlone(NotOwned),
    Failed(Problem),
}

impl ParameterOutcome {
    fn record(self, progress: &mut Progress) {
        match self {
            ParameterOutcome::Deleted(action) => progress.actions.push(action),
            ParameterOutcome::LeftAlone(note) => progress.leave(&note),
            ParameterOutcome::Failed(problem) => progress.fail(problem),
        }
    }
}

/// Deletes the parameters that exist and carry the expected owner tag:
/// one batched read per region, one tag read per parameter found.
async fn delete_parameters(
    engine: &Engine,
    parameters: &[ParameterRef],
) -> Vec<(usize, ParameterOutcome)> {
    let mut outcomes = Vec::new();
    let mut regions: Vec<&str> = parameters.iter().map(|p| p.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        let in_region: Vec<&ParameterRef> =
            parameters.iter().filter(|p| p.region == region).collect();
        let ssm = engine.aws.ssm(region);
        let names: Vec<String> = in_region.iter().map(|p| p.name.clone()).collect();
        let existing = match ssm.get_parameters(&names).await {
            Ok(existing) => existing,
            Err(error) => {
                outcomes.extend(
                    in_region
                        .iter()
                        .map(|p| (p.index, ParameterOutcome::Failed(Problem::aws(&error)))),
                );
                continue;
            }
        };
        for parameter in in_region {
            if !existing.iter().any(|e| e.name == parameter.name) {
                continue;
            }
            let found = match ssm.owner_of(&parameter.name).await {
                Ok(found) => found,
                Err(error) => {
                    outcomes.push((
                        parameter.index,
                        ParameterOutcome::Failed(Problem::aws(&error)),
                    ));
                    continue;
                }
            };
            if let Err(note) = plan_parameter(&parameter.name, found.as_deref(), &parameter.owner) {
                outcomes.push((parameter.index, ParameterOutcome::LeftAlone(note)));
                continue;
            }
            let action = format!("delete SSM parameter {} in {region}", parameter.name);
            let outcome = if !engine.applies() {
                ParameterOutcome::Deleted(action)
            } else {
                match ssm.delete_parameter(&parameter.name).await {
                    Ok(()) => ParameterOutcome::Deleted(action),
                    Err(error) => ParameterOutcome::Failed(Problem::aws(&error)),
                }
            };
            outcomes.push((parameter.index, outcome));
        }
    }
    outcomes
}

/// The distribution's own parameters, when `spec.ssmExport` names them.
fn distribution_parameters(desired: &DesiredDistribution) -> Vec<ParameterRef> {
    let Some(export) = &desired.spec.ssm_export else {
        return Vec::new();
    };
    let owner = desired.owner.tag_value(OwnerKind::EdgeDistribution);
    [
        &export.distribution_id_parameter,
        &export.domain_name_parameter,
    ]
    .into_iter()
    .flatten()
    .map(|name| ParameterRef {
        index: 0,
        region: export.region.clone(),
        name: name.clone(),
        owner: owner.clone(),
    })
    .collect()
}

// ------------------------------------------ origin access controls, signer

/// Deletes the owner's origin access controls, found by their names.
async fn delete_origin_access_controls(engine: &Engine, owner: &Owner, progress: &mut Progress) {
    let cloudfront = engine.aws.cloudfront();
    let names = [owner.lambda_oac_name(), owner.s3_oac_name()];
    let controls = match cloudfront.list_origin_access_controls().await {
        Ok(controls) => controls,
        Err(error) => {
            progress.fail(Problem::aws(&error));
            return;
        }
    };
    for control in controls.iter().filter(|c| names.contains(&c.name)) {
        progress
            .actions
            .push(format!("delete origin access control {}", control.name));
        if !engine.applies() {
            continue;
        }
        match cloudfront.delete_origin_access_control(&control.id).await {
            Ok(()) => {}
            Err(error) if error.is_in_use() => {
                progress.actions.pop();
                progress.left_alone.push(format!(
                    "origin access control {} (another distribution uses it)",
                    control.name
                ));
                progress.actions.push(format!(
                    "left alone: origin access control {}: another distribution uses it",
                    control.name
                ));
            }
            Err(error) => progress.fail(Problem::aws(&error)),
        }
    }
}

/// What the teardown of one distribution observed, for its status.
#[derive(Debug, Default)]
struct DistributionTeardown {
    last_seen: Option<DistributionObserved>,
    signer_function_arn: Option<String>,
    retired: Vec<RetiredSignerVersion>,
}

/// Where the signer stands.
#[derive(Debug)]
enum SignerStanding {
    /// Gone (or never there, or not urlguard's and left alone).
    Gone,
    /// Lambda@Edge replicas remain; the message says since when and when
    /// the next attempt comes.
    Waiting(String),
    Failed(Problem),
}

/// Deletes the signer function with every version, unless its replicas
/// remain (then it waits, on the engine's retry schedule).
async fn delete_signer(
    engine: &Engine,
    owner: &Owner,
    progress: &mut Progress,
    teardown: &mut DistributionTeardown,
) -> SignerStanding {
    let lambda = engine.aws.lambda(EDGE_REGION);
    let name = owner.signer_function_name();
    let key = function_key(&name);
    let observed = match lambda.get_signer(&name).await {
        Ok(observed) => observed,
        Err(error) => return SignerStanding::Failed(Problem::aws(&error)),
    };
    let (function_arn, versions) = match plan_signer(
        observed.as_ref(),
        &name,
        &owner.tag_value(OwnerKind::EdgeDistribution),
    ) {
        Err(not_owned) => {
            progress.leave(&not_owned);
            engine.waits.remove(&key);
            return SignerStanding::Gone;
        }
        Ok(SignerTeardown::Absent) => {
            engine.waits.remove(&key);
            return SignerStanding::Gone;
        }
        Ok(SignerTeardown::Delete {
            function_arn,
            versions,
        }) => (function_arn, versions),
    };
    teardown.signer_function_arn = Some(function_arn);
    let now = SystemTime::now();
    let previous = engine.waits.get(&key);
    let wait = match previous {
        Some(wait) if !wait.due(now) => wait,
        _ => {
            let action = format!(
                "delete signer function {name} with {} numbered version(s)",
                versions.len()
            );
            if !engine.applies() {
                progress.actions.push(action);
                return SignerStanding::Gone;
            }
            match lambda.delete_function(&name, None).await {
                Ok(()) => {
                    progress.actions.push(action);
                    engine.waits.remove(&key);
                    return SignerStanding::Gone;
                }
                Err(error) if error.is_replicated_function() => {
                    let wait = ReplicaWait::refused(previous.as_ref(), now, &engine.retry);
                    engine.waits.set(&key, wait);
                    tracing::info!(
                        function = %name,
                        since = %rfc3339(wait.since),
                        next_attempt_at = %rfc3339(wait.next_attempt_at),
                        "the signer is still replicated at CloudFront's edge; waiting"
                    );
                    wait
                }
                Err(error) => return SignerStanding::Failed(Problem::aws(&error)),
            }
        }
    };
    teardown.retired = versions
        .iter()
        .map(|arn| RetiredSignerVersion {
            version_arn: arn.clone(),
            retired_at: kube_time(wait.since),
            next_attempt_at: kube_time(wait.next_attempt_at),
        })
        .collect();
    let numbers: Vec<&str> = versions
        .iter()
        .filter_map(|arn| arn.rsplit(':').next())
        .collect();
    SignerStanding::Waiting(format!(
        "signer function {name} (version(s) {}) waits for CloudFront to remove its Lambda@Edge replicas, since {}; next attempt at {} (attempt {} so far)",
        numbers.join(", "),
        rfc3339(wait.since),
        rfc3339(wait.next_attempt_at),
        wait.refusals
    ))
}

/// Deletes the signer role (its inline policy first).
async fn delete_role(engine: &Engine, owner: &Owner, progress: &mut Progress) {
    let iam = engine.aws.iam();
    let role_name = owner.signer_role_name();
    let observed = match iam.get_role(&role_name).await {
        Ok(observed) => observed,
        Err(error) => {
            progress.fail(Problem::aws(&error));
            return;
        }
    };
    let steps = match plan_role(
        observed.as_ref(),
        &role_name,
        &owner.tag_value(OwnerKind::EdgeDistribution),
    ) {
        Ok(steps) => steps,
        Err(not_owned) => {
            progress.leave(&not_owned);
            return;
        }
    };
    for step in steps {
        let (action, result) = match step {
            RoleStep::DeleteInlinePolicy => (
                format!("delete the inline policy of signer role {role_name}"),
                if engine.applies() {
                    iam.delete_role_policy(&role_name, SIGNER_POLICY_NAME).await
                } else {
                    Ok(())
                },
            ),
            RoleStep::DeleteRole => (
                format!("delete signer role {role_name}"),
                if engine.applies() {
                    iam.delete_role(&role_name).await
                } else {
                    Ok(())
                },
            ),
        };
        progress.actions.push(action);
        if let Err(error) = result {
            progress.fail(Problem::aws(&error));
            return;
        }
    }
}

// ------------------------------------------- versions retired by an apply

/// After an apply: deletes the signer versions no configuration references
/// any more, and lists those that must wait for their replicas. Never
/// `$LATEST`, never the version in use; a refusal is waiting, and any other
/// error is logged and retried next time: neither makes the resource
/// not ready.
pub(super) async fn retire_versions(
    engine: &Engine,
    function_name: &str,
    versions: &[FunctionVersion],
    in_use: &str,
    referenced_before: &[String],
    actions: &mut Vec<String>,
) -> Vec<RetiredSignerVersion> {
    let plan = plan_retirement(versions, in_use, referenced_before);
    let now = SystemTime::now();
    let listed = |arn: &str, wait: &ReplicaWait| RetiredSignerVersion {
        version_arn: arn.to_owned(),
        retired_at: kube_time(wait.since),
        next_attempt_at: kube_time(wait.next_attempt_at),
    };
    let mut retired = Vec::new();
    for version in &plan.just_retired {
        let wait = engine
            .waits
            .get(&version.arn)
            .unwrap_or_else(|| ReplicaWait::starting(now, &engine.retry));
        engine.waits.set(&version.arn, wait);
        retired.push(listed(&version.arn, &wait));
    }
    let lambda = engine.aws.lambda(EDGE_REGION);
    for version in &plan.delete_now {
        let previous = engine.waits.get(&version.arn);
        if let Some(wait) = previous.filter(|w| !w.due(now)) {
            retired.push(listed(&version.arn, &wait));
            continue;
        }
        let action = format!(
            "delete retired signer version {} (no longer associated)",
            version.version
        );
        if !engine.applies() {
            actions.push(action);
            continue;
        }
        match lambda
            .delete_function(function_name, Some(&version.version))
            .await
        {
            Ok(()) => {
                actions.push(action);
                engine.waits.remove(&version.arn);
            }
            Err(error) => {
                let wait = ReplicaWait::refused(previous.as_ref(), now, &engine.retry);
                if !error.is_replicated_function() {
                    tracing::warn!(version = %version.arn, %error, "deleting a retired signer version failed; it is tried again later");
                }
                engine.waits.set(&version.arn, wait);
                retired.push(listed(&version.arn, &wait));
            }
        }
    }
    retired
}

// -------------------------------------------------------------- reports

fn deleting_conditions(
    deleting: bool,
    reason: &str,
    message: &str,
) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    vec![
        condition("Ready", false, reason, message),
        condition("Deleting", deleting, reason, message),
    ]
}

fn distribution_reports(
    desired: &DesiredDistribution,
    progress: Progress,
    standing: Standing,
    teardown: DistributionTeardown,
    urls: Vec<LeavingUrl<'_>>,
) -> Vec<ResourceReport> {
    let suffix = progress.left_alone_suffix();
    let (deleting, reason, message) = match standing {
        Standing::Gone => (
            false,
            "Deleted",
            format!("everything urlguard created for it is gone{suffix}"),
        ),
        Standing::Retained => (
            false,
            "Retained",
            format!(
                "deletionPolicy Retain: the distribution, its signer, origin access controls and parameters stay; its URLs left it{suffix}"
            ),
        ),
        Standing::WaitingForDeployment(message) => {
            (true, "WaitingForDeployment", format!("{message}{suffix}"))
        }
        Standing::WaitingForReplicas(message) => {
            (true, "WaitingForEdgeReplicas", format!("{message}{suffix}"))
        }
        Standing::Failed(problem) => (true, problem.reason, format!("{}{suffix}", problem.message)),
    };
    let seen = teardown.last_seen.as_ref();
    let mut out = vec![ResourceReport {
        kind: Kind::EdgeDistribution,
        namespace: desired.owner.namespace.clone(),
        name: desired.owner.name.clone(),
        ready: false,
        status: Status::Distribution(EdgeDistributionStatus {
            conditions: deleting_conditions(deleting, reason, &message),
            distribution_id: seen.map(|o| o.id.clone()),
            distribution_arn: seen.map(|o| o.arn.clone()),
            domain_name: seen.map(|o| o.domain_name.clone()),
            deployment_status: seen.map(|o| o.status.clone()),
            signer_function_arn: teardown.signer_function_arn,
            retired_signer_versions: teardown.retired,
            ..EdgeDistributionStatus::default()
        }),
        actions: progress.actions,
        changes: Vec::new(),
    }];
    out.extend(urls.into_iter().map(url_report));
    out
}

fn url_report(url: LeavingUrl<'_>) -> ResourceReport {
    let desired = url.desired;
    let suffix = url.progress.left_alone_suffix();
    let (deleting, reason, message) = match (&url.progress.problem, desired.spec.deletion_policy) {
        (Some(problem), _) => (true, problem.reason, format!("{}{suffix}", problem.message)),
        (None, DeletionPolicy::Delete) => (
            false,
            "Deleted",
            format!("its behavior, grants, parameters and function URL config are gone{suffix}"),
        ),
        (None, DeletionPolicy::Retain) => {
            let kept = match &url.config {
                Some(config) if config.auth_type == AuthType::AwsIam => {
                    "the function URL config stays (deletionPolicy Retain), on AWS_IAM".to_owned()
                }
                Some(_) => "the function URL config stays (deletionPolicy Retain) but is NOT on AWS_IAM: it is open to the internet".to_owned(),
                None => "the function has no URL config".to_owned(),
            };
            (
                false,
                "Retained",
                format!("its behavior, grants and parameters are gone; {kept}{suffix}"),
            )
        }
    };
    ResourceReport {
        kind: Kind::ProtectedFunctionUrl,
        namespace: desired.owner.namespace.clone(),
        name: desired.owner.name.clone(),
        ready: false,
        status: Status::Url(ProtectedFunctionUrlStatus {
            conditions: deleting_conditions(deleting, reason, &message),
            function_url: url.config.as_ref().map(|c| c.function_url.clone()),
            url_parameter: Some(desired.parameter_names.0.clone()),
            arn_parameter: Some(desired.parameter_names.1.clone()),
            ..ProtectedFunctionUrlStatus::default()
        }),
        actions: url.progress.actions,
        changes: Vec::new(),
    }
}
