//! Taking over the distribution `spec.adopt` names: read it and its tags,
//! judge it (`plan::adoption`), and record the adoption on AWS by tagging
//! it with the object's owner tag, before the update that converges it.
//!
//! The tag goes first: from then on the distribution is proven the
//! object's by its tag (`observe::find_distribution`), so a crash between
//! the tag and the update leaves a distribution the next pass finds and
//! converges, and a failed update never leaves it changed but untagged.
//! Nothing is written in plan mode or for an observed object: `plan`
//! shows the adoption and the whole difference first.

use super::engine::Engine;
use super::outcome::Notice;
use super::problem::Problem;
use super::span;
use crate::api::{Adopt, AdoptionPolicy};
use crate::model::OWNER_TAG_KEY;
use crate::model::cloudfront::DistributionObserved;
use crate::model::names::{Owner, OwnerKind};
use crate::plan::adoption::{Candidate, Refusal, Takeover, judge};

/// The distribution `adopt` names, taken over for `owner`; `None` when it
/// does not exist and the policy is `AdoptOrCreate` (the pass then finds or
/// creates the object's own distribution, as without `adopt`).
pub(super) async fn take_over(
    engine: &Engine,
    owner: &Owner,
    adopt: &Adopt,
    actions: &mut Vec<String>,
    notices: &mut Vec<Notice>,
) -> Result<Option<DistributionObserved>, Problem> {
    let cloudfront = engine.aws.cloudfront();
    let id = adopt.distribution_id.as_str();
    let Some(found) = cloudfront.get_distribution(id).await? else {
        return match adopt.policy {
            AdoptionPolicy::AdoptOrCreate => Ok(None),
            AdoptionPolicy::Adopt => Err(Refusal::Missing { id: id.to_owned() }.into()),
        };
    };
    let tags = cloudfront.tags_of(&found.arn).await?;
    let candidate = Candidate {
        id,
        arn: &found.arn,
        caller_reference: &found.config.caller_reference,
        tags: &tags,
    };
    if judge(&candidate, owner)? == Takeover::Adopt {
        let tag = owner.tag_value(OwnerKind::EdgeDistribution);
        actions.push(format!(
            "adopt distribution {id}: tag it {OWNER_TAG_KEY}={tag}"
        ));
        if engine.applies() {
            cloudfront.tag_owner(&found.arn, &tag).await?;
            notices.push(Notice::DistributionAdopted { id: id.to_owned() });
        }
    }
    span::found_distribution(&found.id);
    Ok(Some(found))
}
