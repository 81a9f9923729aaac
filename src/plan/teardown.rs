//! Teardown, planned purely: what leaves, which deletion steps run in which
//! order for what was observed, what urlguard must leave alone because it
//! does not own it, and how long to wait before asking Lambda again to
//! delete a signer whose Lambda@Edge replicas CloudFront has not removed yet.
//!
//! The order (DESIGN.md, "Deletion"):
//! - a `ProtectedFunctionUrl` leaving: its behavior and origin leave the
//!   distribution first (one update for all URLs leaving together), then its
//!   grants (resource-policy statements by id; under `EdgeSigner`, its entry
//!   in the signer role's policy), its SSM parameters, and with
//!   `deletionPolicy: Delete` its URL config; with `Retain` the URL config
//!   stays as it is (on `AWS_IAM`, so nothing opens up);
//! - an `EdgeDistribution` leaving (`Delete`): one update that disables it
//!   and takes every URL behavior and origin out (CloudFront's replica clock
//!   starts when the last association leaves, so it starts here, not at the
//!   delete), its URLs' grants, parameters and URL configs, the wait for
//!   `Deployed`, the delete, its origin access controls (by deterministic
//!   name: they carry no tags), its own parameters, then the signer function
//!   with every version, its role's inline policy and the role. With
//!   `Retain`, only its URLs leave; the distribution, signer, role, origin
//!   access controls and its parameters stay.
//!
//! Decisions written down here:
//! - Every resource that carries tags is deleted only when its owner tag is
//!   the expected one; anything else with urlguard's name is left alone and
//!   reported. Function URL configs and `urlguard-...` statements are
//!   managed by name, as DESIGN.md says.
//! - The signer function is deleted as a whole (`DeleteFunction` without a
//!   qualifier takes every version along); while CloudFront still replicates
//!   one of its versions the delete fails with "replicated function", which
//!   is waiting, not failing: the next attempt comes after
//!   [`RetryPolicy::interval`] (doubling from `first` up to `cap`). The role
//!   goes after the function, because replicas run with it.
//! - Signer versions retired by an update (no longer associated) are deleted
//!   one by one after a successful apply, never `$LATEST` and never the one
//!   in use; a version this very run took out of the distribution is not
//!   even tried (its replicas stay for hours), only listed.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::desired::{
    DesiredDistribution, DesiredUrl, distributions_by_key, known_distribution_id, owner_of,
};
use super::signer::invoke_policy;
use crate::api::{DeletionPolicy, EdgeDistribution, FunctionRef, ProtectedFunctionUrl};
use crate::model::cloudfront::{DistributionObserved, DistributionShape};
use crate::model::iam::RoleObserved;
use crate::model::lambda::{FunctionVersion, SignerObserved, UrlConfig};
use crate::model::names::{Owner, url_origin_id};

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
/// [`super::desired::build`] nothing is rejected: a URL that could not attach
/// (a duplicate path, one behavior too many) may still hold grants and
/// parameters from an earlier state, and leaves like the others.
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

/// Something with urlguard's name that urlguard does not own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} is owned by {found}, not {expected}: urlguard leaves it alone; delete it yourself if it is no longer needed"
)]
pub struct NotOwned {
    /// `IAM role X`, `SSM parameter X`, ...
    pub what: String,
    /// The owner tag found (`(no owner tag)` when absent).
    pub found: String,
    /// The owner tag expected.
    pub expected: String,
}

impl NotOwned {
    fn check(what: String, found: Option<&str>, expected: &str) -> Result<(), NotOwned> {
        if found == Some(expected) {
            return Ok(());
        }
        Err(NotOwned {
            what,
            found: found.unwrap_or("(no owner tag)").to_owned(),
            expected: expected.to_owned(),
        })
    }
}

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

/// The name of the `ProtectedFunctionUrl` behind a URL origin id.
fn url_name_of_origin(origin_id: &str) -> Option<&str> {
    origin_id.strip_prefix("pfu-")
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
        | Leaving::Urls(urls) => (false, urls),
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
        let (shape, removed_urls) =
            without_origins(config, |id| origin_ids.iter().any(|o| o == id));
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

/// What to do with the signer function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerTeardown {
    /// It does not exist.
    Absent,
    /// Delete it with every version.
    Delete {
        /// The unqualified function ARN.
        function_arn: String,
        /// The numbered versions going with it (ARNs).
        versions: Vec<String>,
    },
}

/// Plans the signer function's deletion.
pub fn plan_signer(
    observed: Option<&SignerObserved>,
    function_name: &str,
    expected_owner: &str,
) -> Result<SignerTeardown, NotOwned> {
    let Some(function) = observed else {
        return Ok(SignerTeardown::Absent);
    };
    NotOwned::check(
        format!("Lambda function {function_name}"),
        function.owner.as_deref(),
        expected_owner,
    )?;
    Ok(SignerTeardown::Delete {
        function_arn: function.function_arn.clone(),
        versions: function
            .versions
            .iter()
            .filter(|v| v.number().is_some())
            .map(|v| v.arn.clone())
            .collect(),
    })
}

/// One step on the signer role, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleStep {
    /// Delete urlguard's inline policy (IAM refuses to delete a role that
    /// still has one).
    DeleteInlinePolicy,
    /// Delete the role.
    DeleteRole,
}

/// Plans the signer role's deletion.
pub fn plan_role(
    observed: Option<&RoleObserved>,
    role_name: &str,
    expected_owner: &str,
) -> Result<Vec<RoleStep>, NotOwned> {
    let Some(role) = observed else {
        return Ok(Vec::new());
    };
    NotOwned::check(
        format!("IAM role {role_name}"),
        role.owner.as_deref(),
        expected_owner,
    )?;
    let mut steps = Vec::new();
    if role.invoke_policy.is_some() {
        steps.push(RoleStep::DeleteInlinePolicy);
    }
    steps.push(RoleStep::DeleteRole);
    Ok(steps)
}

/// Whether an existing parameter may be deleted.
pub fn plan_parameter(
    name: &str,
    owner_found: Option<&str>,
    expected_owner: &str,
) -> Result<(), NotOwned> {
    NotOwned::check(format!("SSM parameter {name}"), owner_found, expected_owner)
}

/// What to do with a leaving URL's function URL config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlConfigStep {
    /// There is none.
    Absent,
    /// Delete it (`deletionPolicy: Delete`).
    Delete,
    /// Keep it as it is (`deletionPolicy: Retain`).
    Keep,
}

/// Plans a leaving URL's config.
pub fn plan_url_config(observed: Option<&UrlConfig>, policy: DeletionPolicy) -> UrlConfigStep {
    match (observed, policy) {
        (None, _) => UrlConfigStep::Absent,
        (Some(_), DeletionPolicy::Delete) => UrlConfigStep::Delete,
        (Some(_), DeletionPolicy::Retain) => UrlConfigStep::Keep,
    }
}

/// Whether `arn` (a function ARN, maybe qualified with an alias) names the
/// function `function` refers to: same region, name and qualifier.
pub fn names_function(arn: &str, function: &FunctionRef) -> bool {
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    let parts: Vec<&str> = arn.split(':').collect();
    let (Some(region), Some(name)) = (parts.get(3), parts.get(6)) else {
        return false;
    };
    let qualifier = parts.get(7).copied();
    let (want_region, want_name, arn_qualifier) = match function.name.split_once(":function:") {
        Some((prefix, rest)) => {
            let region = prefix.split(':').nth(3).unwrap_or(&function.region);
            let (name, qualifier) = match rest.split_once(':') {
                Some((name, qualifier)) => (name, Some(qualifier)),
                None => (rest, None),
            };
            (region, name, qualifier)
        }
        None => (function.region.as_str(), function.name.as_str(), None),
    };
    let want_qualifier = function.qualifier.as_deref().or(arn_qualifier);
    *region == want_region && *name == want_name && qualifier == want_qualifier
}

/// The function ARNs the signer role's invoke policy names (the resources
/// of its `InvokeProtectedFunctionUrls` statement).
pub fn invoke_policy_resources(policy: &Value) -> Vec<String> {
    policy
        .get("Statement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s.get("Sid").and_then(Value::as_str) == Some("InvokeProtectedFunctionUrls"))
        .flat_map(|s| match s.get("Resource") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The signer role's invoke policy without the functions `leaving` names,
/// or `None` when the policy does not name any of them. `current` is the
/// policy as read; the result is what [`invoke_policy`] renders for the
/// functions that stay, so a later apply finds nothing to change.
pub fn invoke_policy_without(
    current: &Value,
    signer_function_name: &str,
    leaving: &[&FunctionRef],
) -> Option<Value> {
    let mut arns = invoke_policy_resources(current);
    let before = arns.len();
    arns.retain(|arn| !leaving.iter().any(|f| names_function(arn, f)));
    (arns.len() != before).then(|| invoke_policy(signer_function_name, &arns))
}

/// Signer versions no longer associated, after an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retirement {
    /// Versions no configuration references any more: try deleting them.
    pub delete_now: Vec<FunctionVersion>,
    /// Versions this run's update took out of the distribution: CloudFront
    /// keeps their replicas for hours, so they are only listed.
    pub just_retired: Vec<FunctionVersion>,
}

/// Sorts the signer's numbered versions that are no longer in use.
/// `referenced_before` are the version ARNs the distribution associated
/// when this run read it (before its update, if any).
pub fn plan_retirement(
    versions: &[FunctionVersion],
    in_use: &str,
    referenced_before: &[String],
) -> Retirement {
    let mut retirement = Retirement::default();
    for version in versions.iter().filter(|v| v.number().is_some()) {
        if version.arn == in_use {
            continue;
        }
        if referenced_before.contains(&version.arn) {
            retirement.just_retired.push(version.clone());
        } else {
            retirement.delete_now.push(version.clone());
        }
    }
    retirement
}

/// How often to ask Lambda again to delete a replicated function or
/// version: `first` after the first refusal, doubling, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The interval after the first refusal.
    pub first: Duration,
    /// The longest interval.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// Five minutes, doubling to an hour: CloudFront removes replicas within
    /// a few hours of the last association leaving.
    fn default() -> Self {
        RetryPolicy {
            first: Duration::from_secs(5 * 60),
            cap: Duration::from_secs(60 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait after `refusals` refusals in a row (at least one).
    pub fn interval(&self, refusals: u32) -> Duration {
        let doublings = refusals.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// A function or version waiting for its edge replicas to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaWait {
    /// When urlguard first found it waiting (or took its last association
    /// away).
    pub since: SystemTime,
    /// Refusals so far.
    pub refusals: u32,
    /// When to ask again.
    pub next_attempt_at: SystemTime,
}

impl ReplicaWait {
    /// Retired at `now` (its last association just left), not tried yet:
    /// the first attempt comes after the first interval.
    pub fn starting(now: SystemTime, policy: &RetryPolicy) -> ReplicaWait {
        ReplicaWait {
            since: now,
            refusals: 0,
            next_attempt_at: now + policy.first,
        }
    }

    /// Released at `now` by a teardown that deletes right away: the first
    /// attempt is due at once (the replicas may be gone already), and
    /// `since` remembers when the associations left.
    pub fn released(now: SystemTime) -> ReplicaWait {
        ReplicaWait {
            since: now,
            refusals: 0,
            next_attempt_at: now,
        }
    }

    /// After a refusal at `now` (`previous` is the wait so far, if any).
    pub fn refused(
        previous: Option<&ReplicaWait>,
        now: SystemTime,
        policy: &RetryPolicy,
    ) -> ReplicaWait {
        let refusals = previous.map_or(0, |p| p.refusals) + 1;
        ReplicaWait {
            since: previous.map_or(now, |p| p.since),
            refusals,
            next_attempt_at: now + policy.interval(refusals),
        }
    }

    /// Whether an attempt is due at `now`.
    pub fn due(&self, now: SystemTime) -> bool {
        now >= self.next_attempt_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::HttpMethod;
    use crate::model::cloudfront::{BehaviorShape, EdgeAssociation, OriginKind, OriginShape};
    use crate::model::lambda::SignerConfig;
    use serde_json::json;

    const OWNER: &str = "urlguard/books/EdgeDistribution/books";
    const DEFAULT: &str = "default:urlguard/books/books";
    const V1: &str = "arn:aws:lambda:us-east-1:123456789012:function:s:1";
    const V2: &str = "arn:aws:lambda:us-east-1:123456789012:function:s:2";

    fn origin(id: &str) -> OriginShape {
        OriginShape {
            id: id.into(),
            domain_name: format!("{id}.example.com"),
            origin_path: String::new(),
            kind: OriginKind::Https { port: 443 },
            origin_access_control_id: None,
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
                distribution(true, "Deployed", &["a", "b"]),
                whole_delete,
                vec!["update(-a,-b,disable)", "wait", "delete"],
            ),
            (
                "enabled and deploying",
                distribution(true, "InProgress", &["a", "b"]),
                whole_delete,
                vec!["update(-a,-b,disable)", "wait", "delete"],
            ),
            (
                "enabled, no URLs left",
                distribution(true, "Deployed", &[]),
                whole_delete,
                vec!["update(disable)", "wait", "delete"],
            ),
            (
                "disabled with a URL someone put back",
                distribution(false, "Deployed", &["a"]),
                whole_delete,
                vec!["update(-a)", "wait", "delete"],
            ),
            (
                "disabled, still deploying (a crash after the update)",
                distribution(false, "InProgress", &[]),
                whole_delete,
                vec!["wait", "delete"],
            ),
            (
                "disabled and deployed: delete at once",
                distribution(false, "Deployed", &[]),
                whole_delete,
                vec!["delete"],
            ),
            (
                "a URL not in the files goes with the distribution",
                distribution(true, "Deployed", &["a", "b", "other"]),
                whole_delete,
                vec!["update(-a,-b,-other,disable)", "wait", "delete"],
            ),
            (
                "Retain: only the URLs of the files leave, it stays enabled",
                distribution(true, "Deployed", &["a", "b", "other"]),
                whole_retain,
                vec!["update(-a,-b)"],
            ),
            (
                "Retain with the URLs gone already: nothing",
                distribution(true, "Deployed", &["other"]),
                whole_retain,
                vec![],
            ),
            (
                "one URL leaves a distribution that stays",
                distribution(true, "InProgress", &["a", "b"]),
                Leaving::Urls(&a),
                vec!["update(-a)"],
            ),
            (
                "a URL that left already",
                distribution(true, "Deployed", &["b"]),
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
        let observed = distribution(true, "Deployed", &["a", "b"]);
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
        let observed = distribution(true, "Deployed", &["a"]);
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

    fn config() -> SignerConfig {
        SignerConfig {
            code_sha256: "abc=".into(),
            memory_size: 128,
            timeout_seconds: 5,
            runtime: "nodejs24.x".into(),
            role_arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
            handler: "index.handler".into(),
        }
    }

    fn version(number: &str) -> FunctionVersion {
        FunctionVersion {
            version: number.into(),
            arn: format!("arn:aws:lambda:us-east-1:123456789012:function:s:{number}"),
            config: config(),
        }
    }

    #[test]
    fn the_signer_goes_with_every_numbered_version_when_owned() {
        let signer = SignerObserved {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:s".into(),
            versions: vec![version("$LATEST"), version("1"), version("2")],
            owner: Some(OWNER.into()),
        };
        assert_eq!(
            plan_signer(Some(&signer), "s", OWNER),
            Ok(SignerTeardown::Delete {
                function_arn: signer.function_arn.clone(),
                versions: vec![V1.into(), V2.into()],
            })
        );
        assert_eq!(plan_signer(None, "s", OWNER), Ok(SignerTeardown::Absent));
        let foreign = SignerObserved {
            owner: None,
            ..signer
        };
        let error = plan_signer(Some(&foreign), "s", OWNER).expect_err("not owned");
        assert_eq!(error.found, "(no owner tag)");
    }

    #[test]
    fn role_steps() {
        let role = RoleObserved {
            arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
            trust_policy: json!({}),
            owner: Some(OWNER.into()),
            invoke_policy: Some(json!({})),
        };
        assert_eq!(
            plan_role(Some(&role), "r", OWNER),
            Ok(vec![RoleStep::DeleteInlinePolicy, RoleStep::DeleteRole])
        );
        let without_policy = RoleObserved {
            invoke_policy: None,
            ..role.clone()
        };
        assert_eq!(
            plan_role(Some(&without_policy), "r", OWNER),
            Ok(vec![RoleStep::DeleteRole]),
            "a crash between the two"
        );
        assert_eq!(plan_role(None, "r", OWNER), Ok(vec![]));
        let untagged = RoleObserved {
            owner: None,
            ..role
        };
        assert!(plan_role(Some(&untagged), "r", OWNER).is_err());
    }

    #[test]
    fn parameters_and_url_configs() {
        let mine = "urlguard/books/ProtectedFunctionUrl/a";
        assert_eq!(plan_parameter("/p", Some(mine), mine), Ok(()));
        assert!(plan_parameter("/p", None, mine).is_err());
        assert!(plan_parameter("/p", Some("other"), mine).is_err());

        let url = UrlConfig {
            function_url: "https://x.lambda-url.eu-west-1.on.aws/".into(),
            auth_type: crate::model::lambda::AuthType::AwsIam,
            invoke_mode: crate::api::InvokeMode::Buffered,
            cors: None,
        };
        assert_eq!(
            plan_url_config(Some(&url), DeletionPolicy::Delete),
            UrlConfigStep::Delete
        );
        assert_eq!(
            plan_url_config(Some(&url), DeletionPolicy::Retain),
            UrlConfigStep::Keep
        );
        assert_eq!(
            plan_url_config(None, DeletionPolicy::Delete),
            UrlConfigStep::Absent
        );
    }

    fn function(name: &str, qualifier: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.into(),
            region: "eu-west-1".into(),
            qualifier: qualifier.map(str::to_owned),
        }
    }

    #[test]
    fn function_arns_match_by_region_name_and_qualifier() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books";
        assert!(names_function(arn, &function("books-get-books", None)));
        assert!(!names_function(arn, &function("books-get-book", None)));
        assert!(!names_function(
            arn,
            &function("books-get-books", Some("live"))
        ));
        assert!(names_function(
            &format!("{arn}:live"),
            &function("books-get-books", Some("live"))
        ));
        assert!(names_function(arn, &function(arn, None)), "by ARN");
        let mut elsewhere = function("books-get-books", None);
        elsewhere.region = "us-east-1".into();
        assert!(!names_function(arn, &elsewhere));
    }

    #[test]
    fn the_role_policy_loses_exactly_the_leaving_functions() {
        let a = "arn:aws:lambda:eu-west-1:123456789012:function:a".to_owned();
        let b = "arn:aws:lambda:eu-west-1:123456789012:function:b".to_owned();
        let current = invoke_policy("signer", &[a.clone(), b.clone()]);
        let leaving = function("a", None);
        assert_eq!(
            invoke_policy_without(&current, "signer", &[&leaving]),
            Some(invoke_policy("signer", &[b]))
        );
        let gone = invoke_policy("signer", &[]);
        assert_eq!(invoke_policy_without(&gone, "signer", &[&leaving]), None);
        let last = invoke_policy("signer", &[a]);
        assert_eq!(
            invoke_policy_without(&last, "signer", &[&leaving]),
            Some(invoke_policy("signer", &[]))
        );
    }

    #[test]
    fn retired_versions_are_sorted_by_whether_this_run_retired_them() {
        let versions = [version("$LATEST"), version("1"), version("2"), version("3")];
        /// name, version in use, referenced before, delete now, just retired.
        type Case = (
            &'static str,
            &'static str,
            Vec<String>,
            Vec<&'static str>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            ("steady state", V1, vec![V1.into()], vec!["2", "3"], vec![]),
            (
                "this run moved from 1 to 3",
                "arn:aws:lambda:us-east-1:123456789012:function:s:3",
                vec![V1.into()],
                vec!["2"],
                vec!["1"],
            ),
            (
                "nothing associated before (a new distribution)",
                V2,
                vec![],
                vec!["1", "3"],
                vec![],
            ),
        ];
        for (name, in_use, before, delete_now, just_retired) in cases {
            let plan = plan_retirement(&versions, in_use, &before);
            let numbers =
                |v: &[FunctionVersion]| v.iter().map(|v| v.version.clone()).collect::<Vec<_>>();
            assert_eq!(numbers(&plan.delete_now), delete_now, "{name}");
            assert_eq!(numbers(&plan.just_retired), just_retired, "{name}");
        }
        let only = [version("$LATEST"), version("1")];
        assert_eq!(
            plan_retirement(&only, V1, &[V1.into()]),
            Retirement::default()
        );
    }

    #[test]
    fn the_retry_interval_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(5),
        };
        let intervals: Vec<u64> = (1..=6).map(|n| policy.interval(n).as_secs()).collect();
        assert_eq!(intervals, [1, 2, 4, 5, 5, 5]);
        assert_eq!(policy.interval(0), Duration::from_secs(1));
        assert_eq!(policy.interval(u32::MAX), Duration::from_secs(5));
        let defaults = RetryPolicy::default();
        assert_eq!(defaults.interval(1), Duration::from_secs(300));
        assert_eq!(defaults.interval(10), Duration::from_secs(3600));
    }

    #[test]
    fn a_wait_keeps_its_start_and_grows_its_interval() {
        let policy = RetryPolicy {
            first: Duration::from_secs(10),
            cap: Duration::from_secs(60),
        };
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let first = ReplicaWait::refused(None, t0, &policy);
        assert_eq!(first.since, t0);
        assert_eq!(first.next_attempt_at, t0 + Duration::from_secs(10));
        assert!(!first.due(t0 + Duration::from_secs(9)));
        assert!(first.due(t0 + Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(10);
        let second = ReplicaWait::refused(Some(&first), t1, &policy);
        assert_eq!(second.since, t0);
        assert_eq!(second.refusals, 2);
        assert_eq!(second.next_attempt_at, t1 + Duration::from_secs(20));
        let starting = ReplicaWait::starting(t0, &policy);
        assert_eq!(starting.refusals, 0);
        assert!(!starting.due(t0));
        let released = ReplicaWait::released(t0);
        assert!(released.due(t0));
        let after = ReplicaWait::refused(Some(&released), t1, &policy);
        assert_eq!((after.since, after.refusals), (t0, 1));
    }

    #[test]
    fn build_sends_urls_with_their_distribution_or_alone() {
        let distribution: EdgeDistribution = serde_json::from_value(json!({
            "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
            "metadata": {"name": "books", "namespace": "books"},
            "spec": {"defaultOrigin": {"s3": {"bucketName": "books-frontend"}}}
        }))
        .expect("distribution");
        let url = |name: &str, distribution: &str, path: &str| -> ProtectedFunctionUrl {
            serde_json::from_value(json!({
                "apiVersion": "urlguard.io/v1alpha1", "kind": "ProtectedFunctionUrl",
                "metadata": {"name": name, "namespace": "books"},
                "spec": {"function": {"name": name, "region": "eu-west-1"},
                         "distributionRef": {"name": distribution}, "pathPattern": path}
            }))
            .expect("url")
        };
        let model = build(
            "urlguard",
            &[distribution],
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
