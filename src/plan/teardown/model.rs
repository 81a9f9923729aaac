//! What leaves AWS when resources are deleted: the [`TeardownModel`] built
//! from the deleted `EdgeDistribution`s and `ProtectedFunctionUrl`s, each URL
//! sent with its distribution when that leaves too, or on its own when the
//! distribution stays.

use std::collections::BTreeMap;

use crate::api::{EdgeDistribution, ProtectedFunctionUrl};
use crate::model::names::Owner;
use crate::plan::desired::{
    DesiredDistribution, DesiredUrl, distributions_by_key, known_distribution_id, owner_of,
};

/// What leaves AWS: distributions with every URL attached to them in the
/// files, and URLs that leave while their distribution stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeardownModel {
    /// Distributions leaving, each with the URLs of the files that name it.
    pub distributions: Vec<DesiredDistribution>,
    /// URLs leaving while their distribution stays, by distribution.
    pub detached: Vec<DetachedUrls>,
}

/// URLs leaving a distribution that stays.
#[derive(Debug, Clone, PartialEq)]
pub struct DetachedUrls {
    /// The distribution's owner (namespace and name).
    pub distribution: Owner,
    /// The URLs leaving it, by name.
    pub urls: Vec<DesiredUrl>,
    /// Where the distribution was last seen, as the leaving URLs' statuses
    /// report it: [`known_distribution_id`].
    pub known_id: Option<String>,
}

impl TeardownModel {
    /// Whether nothing leaves.
    pub fn is_empty(&self) -> bool {
        self.distributions.is_empty() && self.detached.is_empty()
    }
}

/// What leaves when these resources are deleted. Unlike
/// [`crate::plan::desired::build`] nothing is rejected: a URL that could not
/// attach (a duplicate path, one behavior too many) may still hold grants
/// and parameters from an earlier state, and leaves like the others.
pub fn build(
    instance: &str,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> TeardownModel {
    let mut leaving = distributions_by_key(instance, distributions);
    let mut detached: BTreeMap<(String, String), (Vec<DesiredUrl>, Option<String>)> =
        BTreeMap::new();
    let mut sorted: Vec<&ProtectedFunctionUrl> = urls.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    for url in sorted {
        let owner = owner_of(
            instance,
            url.metadata.namespace.as_ref(),
            url.metadata.name.as_ref(),
        );
        let parameter_names = url
            .spec
            .ssm_export
            .parameter_names(&owner.namespace, &owner.name);
        let key = (
            owner.namespace.clone(),
            url.spec.distribution_ref.name.clone(),
        );
        let desired = DesiredUrl {
            owner,
            spec: url.spec.clone(),
            parameter_names,
        };
        match leaving.get_mut(&key) {
            Some(distribution) => distribution.urls.push(desired),
            None => {
                let (urls, known_id) = detached.entry(key).or_default();
                urls.push(desired);
                if known_id.is_none() {
                    *known_id = known_distribution_id(
                        url.status.as_ref().and_then(|s| s.distribution_id.as_ref()),
                    );
                }
            }
        }
    }
    TeardownModel {
        distributions: leaving.into_values().collect(),
        detached: detached
            .into_iter()
            .map(|((namespace, name), (urls, known_id))| DetachedUrls {
                distribution: Owner {
                    instance: instance.to_owned(),
                    namespace,
                    name,
                },
                urls,
                known_id,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{distribution, url};

    #[test]
    fn build_sends_urls_with_their_distribution_or_alone() {
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[
                url("b", "books", "/same"),
                url("a", "books", "/same"),
                url("c", "elsewhere", "/c"),
            ],
        );
        let names: Vec<&str> = model.distributions[0]
            .urls
            .iter()
            .map(|u| u.owner.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"], "a duplicate path leaves too");
        assert_eq!(model.detached.len(), 1);
        assert_eq!(model.detached[0].distribution.name, "elsewhere");
        assert_eq!(model.detached[0].urls[0].parameter_names.0, "/books/CUrl");
        assert!(!model.is_empty());
        assert!(build("urlguard", &[], &[]).is_empty());
    }
}
