//! Whether the distribution `spec.adopt` names may be taken over by an
//! `EdgeDistribution`: the tenancy rules of adoption, decided from what
//! CloudFront says of the distribution (its `CallerReference` and tags).
//!
//! Decisions written down here:
//! - Adoption is a hand-over, like a function's opt-in: the distribution's
//!   owner tags it `urlguard.io/allow=<instance>/<namespace>` (or
//!   `<instance>/*`) where it is managed today (Terraform `tags`,
//!   CloudFormation `Tags`, `aws cloudfront tag-resource`), and only then
//!   may an object of that namespace take it over. Knowing a distribution's
//!   id is not enough: a tenant of namespace `mallory` must not take over
//!   the payments team's distribution. urlguard never writes that tag.
//! - A distribution that carries another owner tag of urlguard (another
//!   instance, namespace or object), or that urlguard created for another
//!   object (its `CallerReference` is urlguard's and not this owner's), is
//!   never adopted, even with the allow tag: it is someone else's object.
//! - One already carrying this object's owner tag, or created for it, is
//!   simply this object's (a pass after the adoption, or after a crash
//!   between the tag and the update).

use std::collections::BTreeMap;

use crate::model::names::{Owner, OwnerKind};
use crate::model::{OPT_IN_TAG_KEY, OWNER_TAG_KEY};
use crate::plan::opt_in;

/// The prefix of every `CallerReference` urlguard creates distributions
/// with (`Owner::caller_reference`).
const URLGUARD_CALLER_REFERENCE: &str = "urlguard/";

/// What CloudFront says of the distribution to adopt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its ARN (what its owner tags).
    pub arn: &'a str,
    /// Its `CallerReference`.
    pub caller_reference: &'a str,
    /// Its tags.
    pub tags: &'a BTreeMap<String, String>,
}

/// The distribution may be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// It is this object's already: nothing to tag.
    Ours,
    /// Its owner handed it over: tag it as this object's, then converge it.
    Adopt,
}

/// Why a distribution is not adopted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `Adopt` names a distribution that does not exist.
    #[error(
        "spec.adopt.distributionId: distribution {id} does not exist; nothing was created (policy AdoptOrCreate creates one instead)"
    )]
    Missing {
        /// The id named.
        id: String,
    },
    /// It carries another urlguard owner tag.
    #[error(
        "spec.adopt.distributionId: distribution {id} belongs to {owner} (its {OWNER_TAG_KEY} tag), not {expected}: urlguard never takes over another object's distribution; nothing was changed"
    )]
    OwnedByAnother {
        /// The id named.
        id: String,
        /// The owner tag it carries.
        owner: String,
        /// This object's owner tag.
        expected: String,
    },
    /// urlguard created it for another object.
    #[error(
        "spec.adopt.distributionId: distribution {id} was created by urlguard for another object (caller reference {caller_reference}): urlguard never takes over another object's distribution; nothing was changed"
    )]
    CreatedForAnother {
        /// The id named.
        id: String,
        /// Its `CallerReference`.
        caller_reference: String,
    },
    /// Its owner has not handed it over to this namespace.
    #[error(
        "spec.adopt.distributionId: distribution {id} is not handed over to {value} (urlguard instance/namespace; its tag {OPT_IN_TAG_KEY} is {found}); nothing was changed until its owner runs: aws cloudfront tag-resource --resource {arn} --tags 'Items=[{{Key={OPT_IN_TAG_KEY},Value={value}}}]'"
    )]
    NotHandedOver {
        /// The id named.
        id: String,
        /// Its ARN.
        arn: String,
        /// What the tag holds, for people (`missing` or its value).
        found: String,
        /// The value that hands it over: `<instance>/<namespace>`.
        value: String,
    },
}

/// Whether `owner` may take over `candidate` (see the module docs).
pub fn judge(candidate: &Candidate<'_>, owner: &Owner) -> Result<Takeover, Refusal> {
    let expected = owner.tag_value(OwnerKind::EdgeDistribution);
    match candidate.tags.get(OWNER_TAG_KEY) {
        Some(found) if *found == expected => return Ok(Takeover::Ours),
        Some(found) => {
            return Err(Refusal::OwnedByAnother {
                id: candidate.id.to_owned(),
                owner: found.clone(),
                expected,
            });
        }
        None => {}
    }
    if candidate.caller_reference == owner.caller_reference() {
        return Ok(Takeover::Ours);
    }
    if candidate
        .caller_reference
        .starts_with(URLGUARD_CALLER_REFERENCE)
    {
        return Err(Refusal::CreatedForAnother {
            id: candidate.id.to_owned(),
            caller_reference: candidate.caller_reference.to_owned(),
        });
    }
    let allow = candidate.tags.get(OPT_IN_TAG_KEY).map(String::as_str);
    if opt_in::admits(allow, &owner.instance, &owner.namespace) {
        return Ok(Takeover::Adopt);
    }
    Err(Refusal::NotHandedOver {
        id: candidate.id.to_owned(),
        arn: candidate.arn.to_owned(),
        found: allow.map_or_else(|| "missing".to_owned(), str::to_owned),
        value: opt_in::tag_value(&owner.instance, &owner.namespace),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn books() -> Owner {
        Owner {
            instance: "urlguard".into(),
            namespace: "books".into(),
            name: "books".into(),
        }
    }

    fn judged(caller_reference: &str, tags: &[(&str, &str)]) -> Result<Takeover, Refusal> {
        let tags: BTreeMap<String, String> = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        judge(
            &Candidate {
                id: "E2QWRUHAPOMQZL",
                arn: "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL",
                caller_reference,
                tags: &tags,
            },
            &books(),
        )
    }

    #[test]
    fn a_distribution_handed_over_to_the_namespace_or_the_instance_is_adopted() {
        assert_eq!(
            judged("terraform-123", &[(OPT_IN_TAG_KEY, "urlguard/books")]),
            Ok(Takeover::Adopt)
        );
        assert_eq!(
            judged("terraform-123", &[(OPT_IN_TAG_KEY, "urlguard/*")]),
            Ok(Takeover::Adopt)
        );
    }

    #[test]
    fn one_already_tagged_or_created_for_the_object_is_its_own() {
        let own = [(OWNER_TAG_KEY, "urlguard/books/EdgeDistribution/books")];
        assert_eq!(judged("terraform-123", &own), Ok(Takeover::Ours));
        assert_eq!(
            judged("urlguard/urlguard/books/books", &[]),
            Ok(Takeover::Ours)
        );
    }

    #[test]
    fn another_objects_distribution_is_refused_even_when_handed_over() {
        let allow = (OPT_IN_TAG_KEY, "urlguard/*");
        for other in [
            "urlguard/payments/EdgeDistribution/shop",
            "urlguard/books/EdgeDistribution/other",
            "staging/books/EdgeDistribution/books",
        ] {
            assert!(
                matches!(
                    judged("terraform-123", &[(OWNER_TAG_KEY, other), allow]),
                    Err(Refusal::OwnedByAnother { .. })
                ),
                "{other}"
            );
        }
        let refused = judged("urlguard/urlguard/payments/shop", &[allow]);
        assert!(matches!(refused, Err(Refusal::CreatedForAnother { .. })));
    }

    #[test]
    fn a_distribution_not_handed_over_to_this_namespace_is_refused_with_the_command() {
        for tags in [
            vec![],
            vec![(OPT_IN_TAG_KEY, "urlguard/payments")],
            vec![(OPT_IN_TAG_KEY, "staging/*")],
        ] {
            let refused = judged("terraform-123", &tags).expect_err("refused");
            assert!(matches!(refused, Refusal::NotHandedOver { .. }));
            assert!(
                refused.to_string().contains(
                    "aws cloudfront tag-resource --resource arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL --tags 'Items=[{Key=urlguard.io/allow,Value=urlguard/books}]'"
                ),
                "{refused}"
            );
        }
    }
}
