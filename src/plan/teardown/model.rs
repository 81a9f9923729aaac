//! What leaves AWS when resources are deleted: the [`TeardownModel`] built
//! from the deleted `EdgeDistribution`s and `ProtectedFunctionUrl`s, each URL
//! sent with its distribution when that leaves too, or on its own when the
//! distribution stays; and the URLs that stay, whose functions' URL configs
//! a teardown must not delete.
//!
//! An object observed, not managed (`spec.managementPolicy: Observe`, its
//! own or its distribution's) does not leave through AWS: it is
//! [`TeardownModel::released`], and its deletion makes no AWS call. What
//! exists in AWS for it stays as it is, even what urlguard made while it
//! was managed: observing is a promise not to write.

use std::collections::BTreeMap;

use super::url_config::FunctionUser;
use crate::api::{EdgeDistribution, ManagementPolicy, ProtectedFunctionUrl};
use crate::model::names::{Owner, OwnerKind};
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
    /// Objects observed, not managed, that leave without any AWS call:
    /// observed distributions with their URLs, observed URLs, and URLs of an
    /// observed distribution outside the model
    /// ([`TeardownModel::with_distributions`]).
    pub released: Vec<Released>,
}

/// An object observed, not managed, whose deletion leaves AWS as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// Its kind.
    pub kind: OwnerKind,
    /// Its namespace and name.
    pub owner: Owner,
    /// Whose policy observes it: `None` its own, otherwise its
    /// distribution's name.
    pub observed_by: Option<String>,
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
        self.distributions.is_empty() && self.detached.is_empty() && self.released.is_empty()
    }

    /// The model, knowing the `distributions` its detached URLs name (they
    /// are not in the model: they stay, or leave on their own): URLs of one
    /// that is observed are released instead of detached, since detaching
    /// would write to it. The controller passes the distribution of a URL
    /// it tears down, as long as the cluster holds it.
    #[must_use]
    pub fn with_distributions(mut self, distributions: &[EdgeDistribution]) -> TeardownModel {
        let observed: Vec<(Option<&String>, Option<&String>)> = distributions
            .iter()
            .filter(|d| d.spec.management_policy == ManagementPolicy::Observe)
            .map(|d| (d.metadata.namespace.as_ref(), d.metadata.name.as_ref()))
            .collect();
        let mut detached = Vec::with_capacity(self.detached.len());
        for group in self.detached {
            let by = &group.distribution;
            let is_observed = observed.iter().any(|(namespace, name)| {
                namespace.is_some_and(|n| n == &by.namespace) && name.is_some_and(|n| n == &by.name)
            });
            if !is_observed {
                detached.push(group);
                continue;
            }
            self.released
                .extend(group.urls.into_iter().map(|url| Released {
                    kind: OwnerKind::ProtectedFunctionUrl,
                    owner: url.owner,
                    observed_by: Some(by.name.clone()),
                }));
        }
        self.detached = detached;
        self
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
    let mut released: Vec<Released> = Vec::new();
    let observed: BTreeMap<(String, String), DesiredDistribution> = leaving
        .extract_if(.., |_, distribution| distribution.observed)
        .collect();
    released.extend(observed.values().map(|d| Released {
        kind: OwnerKind::EdgeDistribution,
        owner: d.owner.clone(),
        observed_by: None,
    }));
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
        if observed.contains_key(&key) {
            released.push(Released {
                kind: OwnerKind::ProtectedFunctionUrl,
                owner,
                observed_by: Some(key.1),
            });
            continue;
        }
        let desired = desired_url(owner, url);
        if desired.observed {
            released.push(Released {
                kind: OwnerKind::ProtectedFunctionUrl,
                owner: desired.owner,
                observed_by: None,
            });
            continue;
        }
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
        released,
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
    fn observed_objects_are_released_and_nothing_of_them_leaves_through_aws() {
        let mut observed_books = distribution("books");
        observed_books.spec.management_policy = ManagementPolicy::Observe;
        let mut observed_url = url("d", "films", "/d");
        observed_url.spec.management_policy = ManagementPolicy::Observe;
        let model = build(
            "urlguard",
            &[observed_books, distribution("films")],
            &[
                url("a", "books", "/a"),
                observed_url,
                url("e", "films", "/e"),
                url("c", "shows", "/c"),
            ],
        );
        let released: Vec<(OwnerKind, &str, Option<&str>)> = model
            .released
            .iter()
            .map(|r| (r.kind, r.owner.name.as_str(), r.observed_by.as_deref()))
            .collect();
        assert_eq!(
            released,
            [
                (OwnerKind::EdgeDistribution, "books", None),
                (OwnerKind::ProtectedFunctionUrl, "a", Some("books")),
                (OwnerKind::ProtectedFunctionUrl, "d", None),
            ]
        );
        assert_eq!(model.distributions.len(), 1, "films leaves");
        assert_eq!(model.distributions[0].urls.len(), 1, "with e alone");
        assert_eq!(model.detached[0].distribution.name, "shows");

        // A URL leaving a distribution that stays and is observed.
        let mut observed_shows = distribution("shows");
        observed_shows.spec.management_policy = ManagementPolicy::Observe;
        let model = build(
            "urlguard",
            &[],
            &[url("c", "shows", "/c"), url("f", "films", "/f")],
        )
        .with_distributions(&[observed_shows, distribution("films")]);
        assert_eq!(model.detached.len(), 1);
        assert_eq!(model.detached[0].distribution.name, "films");
        assert_eq!(model.released.len(), 1);
        assert_eq!(model.released[0].owner.name, "c");
        assert_eq!(model.released[0].observed_by.as_deref(), Some("shows"));
        assert!(!model.is_empty());
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
