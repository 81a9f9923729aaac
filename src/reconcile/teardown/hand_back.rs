//! The last step of an adopted distribution's `Retain` teardown: its owner
//! tag goes, so the distribution is its previous owner's again (its
//! `urlguard.io/allow` tag, which urlguard never writes, stays with it).
//! urlguard's routes left in the detach update before, and the URLs'
//! grants with them; what stays is the distribution as the spec last made
//! it, without a trace of urlguard but its default origin's id.

use super::progress::Progress;
use crate::model::OWNER_TAG_KEY;
use crate::model::cloudfront::DistributionObserved;
use crate::reconcile::engine::Engine;
use crate::reconcile::problem::Problem;

/// Removes the owner tag from `observed`, saying so.
pub(super) async fn hand_back(
    engine: &Engine,
    observed: &DistributionObserved,
    progress: &mut Progress,
) {
    let action = format!(
        "hand distribution {} back: remove its {OWNER_TAG_KEY} tag",
        observed.id
    );
    if !engine.applies() {
        progress.actions.push(action);
        return;
    }
    match engine.aws.cloudfront().untag_owner(&observed.arn).await {
        Ok(()) => progress.actions.push(action),
        Err(error) => progress.fail_leaving(
            Problem::from(error),
            format!(
                "the {OWNER_TAG_KEY} tag of CloudFront distribution {}",
                observed.id
            ),
        ),
    }
}
