//! What leaves AWS when resources are deleted: the [`TeardownModel`] built
//! from the deleted `EdgeDistribution`s and `ProtectedFunctionUrl`s, each URL
//! sent with its distribution when that leaves too, or on its own when the
//! distribution stays; and the URLs that stay, whose functions' URL configs
//! a teardown must not delete.

use std::collections::BTreeMap;

use super::url_config::FunctionUser;
use crate::api::{EdgeDistribution, ProtectedFunctionUrl};
use crate::model::names::Owner;
use crate::plan::desired::{
    DesiredDistribution, DesiredUrl, desired_url, distributions_by_key, known_distribution_id,
    owner_of,
};

/// What leaves AWS: distributions with every URL attached to them in the
/// files, and URLs that leave while their distribution stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeardownModel {
    /// Distributions leaving, each with the URLs of the files that name it.
    pub distributions: Vec<DesiredDistribution>,
    /// URLs leaving while their distribution stays, by distribution.
    pub detached: Vec<DetachedUrls>,
    /// The live `ProtectedFunctionUrl`s the caller knows (not being
    /// deleted), by owner: a function one of them names keeps its URL
    /// config. A URL of a leaving distribution that is listed here is not
    /// being deleted itself: it leaves the distribution and keeps its config.
    pub staying: Vec<FunctionUser>,
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

    /// The model, knowing that `urls` stay (are not being deleted). The
    /// controller passes every live URL of its cache; the CLI, which knows
    /// only its files, none.
    #[must_use]
    pub fn with_staying(mut self, instance: &str, urls: &[ProtectedFunctionUrl]) -> TeardownModel {
        self.staying = urls
            .iter()
            .map(|url| FunctionUser {
                owner: owner_of(
                    instance,
                    url.metadata.namespace.as_ref(),
                    url.metadata.name.as_ref(),
                ),
                function: url.spec.function.clone(),
            })
            .collect();
        self.staying.sort_by(|a, b| a.owner.cmp(&b.owner));
        self
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
        let key = (
            owner.namespace.clone(),
            url.spec.distribution_ref.name.clone(),
        );
        let desired = desired_url(owner, url);
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
        staying: Vec::new(),
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

    #[test]
    fn staying_urls_are_known_by_owner_and_function() {
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("a", "books", "/a")],
        )
        .with_staying(
            "urlguard",
            &[url("b", "books", "/b"), url("a", "books", "/a")],
        );
        let names: Vec<&str> = model
            .staying
            .iter()
            .map(|s| s.owner.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            model.staying[0].function,
            model.distributions[0].urls[0].spec.function
        );
    }
}
