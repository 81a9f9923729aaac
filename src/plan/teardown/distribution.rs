//! The distribution's part of a teardown: the one update that takes the
//! leaving URLs' origins and behaviors out (and, when the distribution
//! leaves, disables it), the wait for `Deployed`, and the delete.

use super::ownership::NotOwned;
use crate::api::DeletionPolicy;
use crate::model::cloudfront::{DistributionObserved, DistributionShape};
use crate::model::names::url_origin_id;

/// Which URLs leave a distribution, and whether it leaves itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving<'a> {
    /// The distribution leaves with every URL; `Retain` keeps it (only the
    /// URLs named leave it).
    Whole {
        /// The distribution's deletion policy.
        policy: DeletionPolicy,
        /// The URLs of the files that leave with it (by name).
        urls: &'a [String],
    },
    /// These URLs (by name) leave; the distribution stays.
    Urls(&'a [String]),
    /// An adopted distribution handed back (`deletionPolicy: Retain`):
    /// every URL origin leaves with its behaviors (once adopted, every
    /// `pfu-` origin is urlguard's: adoption removed the others), the
    /// distribution stays; its owner tag goes last (the teardown pass).
    HandBack(&'a [String]),
}

/// One step on the distribution, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistributionStep {
    /// Write this configuration (with the observed ETag): the leaving URLs'
    /// origins and behaviors out and, when it leaves, disabled.
    Update {
        /// The configuration to write.
        shape: Box<DistributionShape>,
        /// Names of the URLs whose origin leaves.
        removed_urls: Vec<String>,
        /// Whether this update disables the distribution.
        disables: bool,
    },
    /// Wait until CloudFront reports `Deployed`.
    WaitDeployed,
    /// Delete it (disabled and deployed, with the latest ETag).
    Delete,
}

/// Plans the distribution's part of a teardown. `owner_found` is the owner
/// tag the distribution carries; `default_origin_id` the owner's default
/// origin id (the one origin a leaving distribution keeps until it is
/// deleted).
pub fn plan_distribution(
    observed: &DistributionObserved,
    owner_found: Option<&str>,
    expected_owner: &str,
    default_origin_id: &str,
    leaving: Leaving<'_>,
) -> Result<Vec<DistributionStep>, NotOwned> {
    NotOwned::check(
        format!("CloudFront distribution {}", observed.id),
        owner_found,
        expected_owner,
    )?;
    let config = &observed.config;
    let (delete, urls) = match leaving {
        Leaving::Whole {
            policy: DeletionPolicy::Delete,
            urls,
        } => (true, urls),
        Leaving::Whole {
            policy: DeletionPolicy::Retain,
            urls,
        }
        | Leaving::Urls(urls)
        | Leaving::HandBack(urls) => (false, urls),
    };
    let mut steps = Vec::new();
    if delete {
        let (mut shape, removed_urls) = without_origins(config, |id| id != default_origin_id);
        shape.enabled = false;
        if &shape != config {
            steps.push(DistributionStep::Update {
                shape: Box::new(shape),
                removed_urls,
                disables: config.enabled,
            });
        }
        if !steps.is_empty() || !observed.is_deployed() {
            steps.push(DistributionStep::WaitDeployed);
        }
        steps.push(DistributionStep::Delete);
    } else {
        let origin_ids: Vec<String> = urls.iter().map(|u| url_origin_id(u)).collect();
        let every_url = matches!(leaving, Leaving::HandBack(_));
        let (shape, removed_urls) = without_origins(config, |id| {
            origin_ids.iter().any(|o| o == id) || (every_url && url_name_of_origin(id).is_some())
        });
        if !removed_urls.is_empty() {
            steps.push(DistributionStep::Update {
                shape: Box::new(shape),
                removed_urls,
                disables: false,
            });
        }
    }
    Ok(steps)
}

/// `observed` without the origins whose id `leaves` (and every behavior
/// that targets a removed origin).
fn without_origins(
    observed: &DistributionShape,
    leaves: impl Fn(&str) -> bool,
) -> (DistributionShape, Vec<String>) {
    let mut shape = observed.clone();
    let removed: Vec<String> = shape
        .origins
        .iter()
        .filter(|o| leaves(&o.id))
        .map(|o| o.id.clone())
        .collect();
    shape.origins.retain(|o| !removed.contains(&o.id));
    shape
        .behaviors
        .retain(|b| !removed.contains(&b.target_origin_id));
    let names = removed
        .iter()
        .map(|id| url_name_of_origin(id).unwrap_or(id).to_owned())
        .collect();
    (shape, names)
}

/// The name of the `ProtectedFunctionUrl` behind a URL origin id.
fn url_name_of_origin(origin_id: &str) -> Option<&str> {
    origin_id.strip_prefix("pfu-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::HttpMethod;
    use crate::model::cloudfront::{BehaviorShape, EdgeAssociation, OriginKind, OriginShape};
    use crate::model::cloudfront::{DEPLOYED, IN_PROGRESS};
    use crate::plan::teardown::fixtures::{OWNER, V1};

    const DEFAULT: &str = "default:urlguard/books/books";

    fn origin(id: &str) -> OriginShape {
        OriginShape {
            id: id.into(),
            domain_name: format!("{id}.example.com"),
            origin_path: String::new(),
            kind: OriginKind::Https { port: 443 },
            origin_access_control_id: None,
            custom_headers: Vec::new(),
        }
    }

    fn behavior(path: &str, target: &str) -> BehaviorShape {
        BehaviorShape {
            path_pattern: Some(path.into()),
            target_origin_id: target.into(),
            allowed_methods: vec![HttpMethod::Get],
            cache_policy_id: "c".into(),
            origin_request_policy_id: None,
            response_headers_policy_id: None,
            edge_signer: Some(EdgeAssociation {
                version_arn: V1.into(),
                include_body: false,
            }),
            function_associations: Vec::new(),
        }
    }

    fn distribution(enabled: bool, status: &str, urls: &[&str]) -> DistributionObserved {
        let mut origins = vec![origin(DEFAULT)];
        let mut behaviors = Vec::new();
        for url in urls {
            origins.push(origin(&url_origin_id(url)));
            behaviors.push(behavior(&format!("/{url}"), &url_origin_id(url)));
        }
        DistributionObserved {
            id: "E1".into(),
            arn: "arn:aws:cloudfront::123456789012:distribution/E1".into(),
            domain_name: "d1.cloudfront.net".into(),
            status: status.into(),
            etag: "ETAG".into(),
            config: DistributionShape {
                enabled,
                origins,
                default_behavior: BehaviorShape {
                    target_origin_id: DEFAULT.into(),
                    ..BehaviorShape::default()
                },
                behaviors,
                ..DistributionShape::default()
            },
        }
    }

    /// A compact view of steps: `update(-a,-b,disable)`, `wait`, `delete`.
    fn describe(steps: &[DistributionStep]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                DistributionStep::Update {
                    shape,
                    removed_urls,
                    disables,
                } => {
                    let mut parts: Vec<String> =
                        removed_urls.iter().map(|u| format!("-{u}")).collect();
                    if *disables {
                        parts.push("disable".into());
                    }
                    assert!(
                        shape
                            .origins
                            .iter()
                            .all(|o| !removed_urls.iter().any(|u| url_origin_id(u) == o.id)),
                        "removed origins are gone"
                    );
                    assert!(
                        shape
                            .behaviors
                            .iter()
                            .all(|b| shape.origins.iter().any(|o| o.id == b.target_origin_id)),
                        "no behavior targets a removed origin"
                    );
                    format!("update({})", parts.join(","))
                }
                DistributionStep::WaitDeployed => "wait".into(),
                DistributionStep::Delete => "delete".into(),
            })
            .collect()
    }

    #[test]
    fn distribution_steps_for_every_observed_state() {
        let ab = ["a".to_owned(), "b".to_owned()];
        let a = ["a".to_owned()];
        let whole_delete = Leaving::Whole {
            policy: DeletionPolicy::Delete,
            urls: &ab,
        };
        let whole_retain = Leaving::Whole {
            policy: DeletionPolicy::Retain,
            urls: &ab,
        };
        // name, observed, leaving, expected steps
        let cases: Vec<(&str, DistributionObserved, Leaving<'_>, Vec<&str>)> = vec![
            (
                "enabled and deployed: one update, wait, delete",
                distribution(true, DEPLOYED, &["a", "b"]),
                whole_delete,
                vec!["update(-a,-b,disable)", "wait", "delete"],
            ),
            (
                "enabled and deploying",
                distribution(true, IN_PROGRESS, &["a", "b"]),
                whole_delete,
                vec!["update(-a,-b,disable)", "wait", "delete"],
            ),
            (
                "enabled, no URLs left",
                distribution(true, DEPLOYED, &[]),
                whole_delete,
                vec!["update(disable)", "wait", "delete"],
            ),
            (
                "disabled with a URL someone put back",
                distribution(false, DEPLOYED, &["a"]),
                whole_delete,
                vec!["update(-a)", "wait", "delete"],
            ),
            (
                "disabled, still deploying (a crash after the update)",
                distribution(false, IN_PROGRESS, &[]),
                whole_delete,
                vec!["wait", "delete"],
            ),
            (
                "disabled and deployed: delete at once",
                distribution(false, DEPLOYED, &[]),
                whole_delete,
                vec!["delete"],
            ),
            (
                "a URL not in the files goes with the distribution",
                distribution(true, DEPLOYED, &["a", "b", "other"]),
                whole_delete,
                vec!["update(-a,-b,-other,disable)", "wait", "delete"],
            ),
            (
                "Retain: only the URLs of the files leave, it stays enabled",
                distribution(true, DEPLOYED, &["a", "b", "other"]),
                whole_retain,
                vec!["update(-a,-b)"],
            ),
            (
                "Retain with the URLs gone already: nothing",
                distribution(true, DEPLOYED, &["other"]),
                whole_retain,
                vec![],
            ),
            (
                "an adopted distribution handed back: every URL leaves, it stays enabled",
                distribution(true, DEPLOYED, &["a", "other"]),
                Leaving::HandBack(&a),
                vec!["update(-a,-other)"],
            ),
            (
                "handed back with no URL left: nothing",
                distribution(true, DEPLOYED, &[]),
                Leaving::HandBack(&a),
                vec![],
            ),
            (
                "one URL leaves a distribution that stays",
                distribution(true, IN_PROGRESS, &["a", "b"]),
                Leaving::Urls(&a),
                vec!["update(-a)"],
            ),
            (
                "a URL that left already",
                distribution(true, DEPLOYED, &["b"]),
                Leaving::Urls(&a),
                vec![],
            ),
        ];
        for (name, observed, leaving, expected) in cases {
            let steps = plan_distribution(&observed, Some(OWNER), OWNER, DEFAULT, leaving)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(describe(&steps), expected, "{name}");
        }
    }

    #[test]
    fn the_update_keeps_the_default_origin_and_everything_else() {
        let observed = distribution(true, DEPLOYED, &["a", "b"]);
        let steps = plan_distribution(
            &observed,
            Some(OWNER),
            OWNER,
            DEFAULT,
            Leaving::Urls(&["a".to_owned()]),
        )
        .expect("owned");
        let DistributionStep::Update { shape, .. } = &steps[0] else {
            panic!("an update first")
        };
        let ids: Vec<&str> = shape.origins.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, [DEFAULT, "pfu-b"]);
        assert_eq!(shape.behaviors.len(), 1);
        assert_eq!(shape.default_behavior, observed.config.default_behavior);
        assert!(shape.enabled);
    }

    #[test]
    fn a_distribution_without_the_owner_tag_is_left_alone() {
        let observed = distribution(true, DEPLOYED, &["a"]);
        for found in [None, Some("someone/else")] {
            let error = plan_distribution(
                &observed,
                found,
                OWNER,
                DEFAULT,
                Leaving::Whole {
                    policy: DeletionPolicy::Delete,
                    urls: &[],
                },
            )
            .expect_err("not owned");
            assert_eq!(error.what, "CloudFront distribution E1");
            assert!(error.to_string().contains("leaves it alone"), "{error}");
        }
    }
}
