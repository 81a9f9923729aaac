//! Reading the owner's distribution back from AWS, and waiting for
//! CloudFront to deploy it: what every reconcile and teardown pass starts
//! from and ends with, and the one read a controller's deploy poll makes.
//! Nothing here writes.

use std::time::Instant;

use super::engine::Engine;
use super::problem::Problem;
use super::span;
use crate::aws::AwsError;
use crate::model::cloudfront::DistributionObserved;
use crate::model::names::{Owner, OwnerKind};

/// Finds the owner's distribution. A `known_id` (where it was last seen, or
/// the distribution `spec.adopt` names) is read first and taken when its
/// `CallerReference` proves it the owner's, or, for an adopted one, its
/// owner tag (one `ListTagsForResource` more); otherwise, or when it is gone, the account's distributions are listed
/// for the one whose default origin id carries the owner marker, proven by
/// its `CallerReference` as well. Listing returns every distribution with
/// all its cache behaviors, so with many large distributions it costs
/// megabytes per call: the lookup by id keeps it to the first reconcile.
pub(super) async fn find_distribution(
    engine: &Engine,
    owner: &Owner,
    known_id: Option<&str>,
) -> Result<Option<DistributionObserved>, Problem> {
    let cloudfront = engine.aws.cloudfront();
    if let Some(id) = known_id {
        let known = cloudfront
            .get_distribution(id)
            .await
            .map_err(Problem::from)?;
        let adopted = match &known {
            Some(found) if found.config.caller_reference != owner.caller_reference() => {
                cloudfront
                    .owner_of(&found.arn)
                    .await
                    .map_err(Problem::from)?
                    == Some(owner.tag_value(OwnerKind::EdgeDistribution))
            }
            _ => false,
        };
        match known {
            Some(found) if adopted || found.config.caller_reference == owner.caller_reference() => {
                span::found_distribution(&found.id);
                return Ok(Some(found));
            }
            Some(_) => tracing::debug!(
                distribution = id,
                "the distribution last seen belongs to someone else: listing"
            ),
            None => tracing::debug!(
                distribution = id,
                "the distribution last seen is gone: listing"
            ),
        }
    }
    let marker = owner.default_origin_id();
    let summaries = cloudfront
        .list_distributions()
        .await
        .map_err(Problem::from)?;
    let Some(summary) = summaries.iter().find(|s| s.origin_ids.contains(&marker)) else {
        return Ok(None);
    };
    let observed = cloudfront
        .get_distribution(&summary.id)
        .await
        .map_err(Problem::from)?;
    match observed {
        Some(found) if found.config.caller_reference != owner.caller_reference() => {
            Err(Problem::NotOwned(format!(
                "distribution {} carries urlguard's origin id {marker} but caller reference {}: urlguard leaves it alone",
                found.id, found.config.caller_reference
            )))
        }
        Some(found) => {
            span::found_distribution(&found.id);
            Ok(Some(found))
        }
        None => Ok(None),
    }
}

/// Polls until CloudFront reports the distribution deployed, unless the
/// engine does not wait or the wait timed out (then it is returned as
/// last read).
pub(super) async fn wait_deployed(
    engine: &Engine,
    mut observed: DistributionObserved,
) -> DistributionObserved {
    let wait = engine.wait;
    if !wait.enabled {
        return observed;
    }
    let started = Instant::now();
    while !observed.is_deployed() && started.elapsed() < wait.timeout {
        tracing::info!(
            distribution = %observed.id,
            status = %observed.status,
            elapsed_seconds = started.elapsed().as_secs(),
            "waiting for CloudFront to deploy"
        );
        tokio::time::sleep(wait.poll_interval).await;
        match engine.aws.cloudfront().get_distribution(&observed.id).await {
            Ok(Some(fresh)) => observed = fresh,
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(distribution = %observed.id, %error, "polling the distribution failed; retrying")
            }
        }
    }
    if observed.is_deployed() {
        tracing::info!(distribution = %observed.id, elapsed_seconds = started.elapsed().as_secs(), "deployed");
    }
    observed
}

/// Whether CloudFront has finished deploying distribution `id`, by one
/// `GetDistribution` (`None`: it is gone). A controller polls with this
/// alone while nothing else changed: a whole pass would re-read every
/// attached URL on each poll.
pub(super) async fn deployed(engine: &Engine, id: &str) -> Result<Option<bool>, AwsError> {
    let found = engine.aws.cloudfront().get_distribution(id).await?;
    Ok(found.map(|observed| observed.is_deployed()))
}
