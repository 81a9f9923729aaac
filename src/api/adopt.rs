//! `spec.adopt`: an `EdgeDistribution` that takes over a CloudFront
//! distribution made by another tool (Terraform, CloudFormation, the
//! console) instead of creating its own.
//!
//! Decisions written down here:
//! - The distribution is named by its id, the one thing every tool shows.
//!   CloudFront ids are `E` and upper-case letters and digits
//!   (`E2QWRUHAPOMQZL`, `EDFDVBD6EXAMPLE`); AWS publishes no pattern, so the
//!   schema takes `E` and 6 to 20 more, enough to refuse a domain name or
//!   an ARN pasted by mistake.
//! - The id is immutable once set: moving an object to another
//!   distribution would leave the first one half converged and tagged.
//! - `Adopt` (default) requires the distribution to exist; `AdoptOrCreate`
//!   creates one, as without `adopt`, when the id names none (the spelling
//!   of ACK's `adopt` and `adopt-or-create`, in the PascalCase of the other
//!   enums of this API).
//! - Adoption converges the whole configuration to the spec, as for a
//!   distribution urlguard created: behaviors and origins the spec does not
//!   declare are removed, and `urlguard plan` lists them first.

use serde::{Deserialize, Serialize};

/// The distribution to take over, and what to do when it does not exist.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Adopt {
    /// The CloudFront id of the distribution to take over, such as
    /// `E2QWRUHAPOMQZL`. Its owner must have tagged it
    /// `urlguard.io/allow=<instance>/<namespace>` (or `<instance>/*`), and
    /// it must not belong to another urlguard object. Immutable.
    #[schemars(length(min = 7, max = 21), regex(pattern = r"^E[A-Z0-9]{6,20}$"))]
    pub distribution_id: String,
    /// `Adopt` (default): take over the distribution; one that does not
    /// exist is an error. `AdoptOrCreate`: take it over when it exists,
    /// create a new distribution otherwise.
    #[serde(default)]
    pub policy: AdoptionPolicy,
}

/// What to do when the distribution to adopt does not exist.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum AdoptionPolicy {
    /// Take over the distribution; refuse when it does not exist.
    #[default]
    Adopt,
    /// Take over the distribution when it exists, create one otherwise.
    AdoptOrCreate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_defaults_to_adopt() {
        let adopt: Adopt =
            serde_json::from_value(serde_json::json!({"distributionId": "E2QWRUHAPOMQZL"}))
                .expect("parses");
        assert_eq!(adopt.policy, AdoptionPolicy::Adopt);
    }
}
