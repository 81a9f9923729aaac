//! The distribution's invalidation, after it is deployed: find the one of
//! the revision (see `plan::invalidation`), create it when missing, and,
//! when the engine waits (the CLI), poll until CloudFront completes it.
//! Also the CLI's ad-hoc `urlguard invalidate`, which is the same steps
//! for a revision the command line gives, and refuses an observed
//! distribution before any call.
//!
//! The controller never waits: a pass reports the invalidation
//! `InProgress` in `status.invalidation` and the controller looks again
//! after its deploy poll interval, reading it by the id it recorded.

use std::time::Instant;

use super::engine::Engine;
use super::observe::find_distribution;
use super::outcome::Notice;
use super::problem::Problem;
use crate::api::{Invalidation, InvalidationStatus};
use crate::aws::AwsError;
use crate::model::cloudfront::{DistributionObserved, InvalidationObserved};
use crate::plan::desired::DesiredDistribution;
use crate::plan::invalidation::{DesiredInvalidation, LOOKUP_DEPTH, Lookup, lookup};

/// What a pass found or did about the spec's invalidation.
#[derive(Debug, Default)]
pub(super) struct InvalidationState {
    /// `status.invalidation`.
    pub status: Option<InvalidationStatus>,
    /// What a plan would do.
    pub actions: Vec<String>,
    /// What an apply did.
    pub notices: Vec<Notice>,
}

/// The spec's invalidation on the deployed distribution `observed`. A
/// distribution still deploying keeps the recorded status and is
/// invalidated by a later pass.
pub(super) async fn ensure(
    engine: &Engine,
    desired: &DesiredDistribution,
    observed: &DistributionObserved,
) -> Result<InvalidationState, Problem> {
    let Some(spec) = &desired.spec.invalidation else {
        return Ok(InvalidationState::default());
    };
    let wanted = DesiredInvalidation::of(&desired.owner, spec);
    let recorded = desired.invalidation_before.as_ref();
    if !observed.is_deployed() {
        return Ok(InvalidationState {
            status: recorded.cloned(),
            ..InvalidationState::default()
        });
    }
    if let Lookup::Completed(done) = lookup(&wanted, recorded) {
        return Ok(InvalidationState {
            status: Some(done),
            ..InvalidationState::default()
        });
    }
    let mut state = InvalidationState::default();
    let found = match find(engine, &observed.id, &wanted, recorded).await? {
        Some(found) => found,
        None if !engine.applies() => {
            state.actions.push(create_action(&wanted));
            return Ok(state);
        }
        None => {
            let created = create(engine, &observed.id, &wanted).await?;
            state.notices.push(Notice::InvalidationCreated {
                id: created.id.clone(),
                revision: wanted.revision.clone(),
                paths: wanted.paths.len(),
            });
            created
        }
    };
    let finished = wait_completed(engine, &observed.id, found).await;
    state.status = Some(wanted.status(&finished));
    Ok(state)
}

/// What `urlguard invalidate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidated {
    /// The distribution.
    pub distribution_id: String,
    /// The invalidation, as last read.
    pub status: InvalidationStatus,
    /// Whether this call created it (otherwise it existed already).
    pub created: bool,
}

/// Why `urlguard invalidate` could not invalidate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidateError {
    /// The distribution does not exist (not applied yet).
    #[error("{0}: the distribution does not exist yet: apply it first")]
    NoDistribution(String),
    /// The `EdgeDistribution` is observed, not managed: urlguard writes
    /// nothing for it, invalidations included.
    #[error(
        "{0}: spec.managementPolicy is Observe: urlguard writes nothing to AWS for it, invalidations included; set it to Manage first"
    )]
    Observed(String),
    /// A lookup or the create failed.
    #[error("{0}")]
    Failed(String),
}

impl Engine {
    /// Invalidates `invalidation` on `desired`'s distribution (`urlguard
    /// invalidate`): its revision's invalidation is created unless it
    /// exists, then waited for when the engine waits.
    pub async fn invalidate(
        &self,
        desired: &DesiredDistribution,
        invalidation: &Invalidation,
    ) -> Result<Invalidated, InvalidateError> {
        let failed = |problem: Problem| InvalidateError::Failed(problem.to_string());
        if desired.observed {
            return Err(InvalidateError::Observed(format!(
                "{}/{}",
                desired.owner.namespace, desired.owner.name
            )));
        }
        let Some(observed) = find_distribution(self, &desired.owner, desired.known_id.as_deref())
            .await
            .map_err(failed)?
        else {
            return Err(InvalidateError::NoDistribution(format!(
                "{}/{}",
                desired.owner.namespace, desired.owner.name
            )));
        };
        let wanted = DesiredInvalidation::of(&desired.owner, invalidation);
        let (found, created) = match find(self, &observed.id, &wanted, None)
            .await
            .map_err(failed)?
        {
            Some(found) => (found, false),
            None => (
                create(self, &observed.id, &wanted).await.map_err(failed)?,
                true,
            ),
        };
        let finished = wait_completed(self, &observed.id, found).await;
        Ok(Invalidated {
            distribution_id: observed.id,
            status: wanted.status(&finished),
            created,
        })
    }
}

fn create_action(wanted: &DesiredInvalidation) -> String {
    format!(
        "create invalidation of {} path(s) for revision {}",
        wanted.paths.len(),
        wanted.revision
    )
}

/// The revision's invalidation: by the recorded id, else among the
/// distribution's newest.
async fn find(
    engine: &Engine,
    distribution_id: &str,
    wanted: &DesiredInvalidation,
    recorded: Option<&InvalidationStatus>,
) -> Result<Option<InvalidationObserved>, Problem> {
    let cloudfront = engine.aws.cloudfront();
    if let Lookup::Recorded(id) = lookup(wanted, recorded)
        && let Some(found) = cloudfront.get_invalidation(distribution_id, &id).await?
        && wanted.is(&found)
    {
        return Ok(Some(found));
    }
    for id in cloudfront
        .recent_invalidation_ids(distribution_id, LOOKUP_DEPTH)
        .await?
    {
        if let Some(found) = cloudfront.get_invalidation(distribution_id, &id).await?
            && wanted.is(&found)
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn create(
    engine: &Engine,
    distribution_id: &str,
    wanted: &DesiredInvalidation,
) -> Result<InvalidationObserved, Problem> {
    match engine
        .aws
        .cloudfront()
        .create_invalidation(distribution_id, &wanted.caller_reference, &wanted.paths)
        .await
    {
        Ok(created) => {
            tracing::info!(distribution = distribution_id, invalidation = %created.id, revision = %wanted.revision, "invalidation created");
            Ok(created)
        }
        Err(AwsError::Conflict { message, .. }) => Err(Problem::InvalidationRevisionReused {
            revision: wanted.revision.clone(),
            distribution: distribution_id.to_owned(),
            message,
        }),
        Err(error) => Err(Problem::from(error)),
    }
}

/// Polls until CloudFront completes the invalidation, unless the engine
/// does not wait or the wait timed out (then it is returned as last read).
async fn wait_completed(
    engine: &Engine,
    distribution_id: &str,
    mut invalidation: InvalidationObserved,
) -> InvalidationObserved {
    let wait = engine.wait;
    if !wait.enabled || !engine.applies() {
        return invalidation;
    }
    let started = Instant::now();
    while !invalidation.is_completed() && started.elapsed() < wait.timeout {
        tracing::info!(distribution = distribution_id, invalidation = %invalidation.id, elapsed_seconds = started.elapsed().as_secs(), "waiting for CloudFront to complete the invalidation");
        tokio::time::sleep(wait.poll_interval).await;
        match engine
            .aws
            .cloudfront()
            .get_invalidation(distribution_id, &invalidation.id)
            .await
        {
            Ok(Some(fresh)) => invalidation = fresh,
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(distribution = distribution_id, invalidation = %invalidation.id, %error, "polling the invalidation failed; retrying")
            }
        }
    }
    invalidation
}
