//! The desired model: which `ProtectedFunctionUrl`s attach to which
//! `EdgeDistribution`, checked for what the schema cannot express (a
//! reference to a distribution that does not exist, two URLs on one path,
//! more behaviors than CloudFront allows, an SSM parameter outside the
//! namespace's prefix). A URL that fails a check is rejected with the field
//! named; its distribution and the other URLs go on. A distribution whose
//! own parameters are outside the prefix is rejected with its URLs: nothing
//! of it is written.

use std::collections::BTreeMap;

use crate::api::{
    EdgeDistribution, EdgeDistributionSpec, ExportedParameter, HttpMethod, InvalidationStatus,
    ManagementPolicy, ProtectedFunctionUrl, ProtectedFunctionUrlSpec,
};
use crate::model::names::Owner;
use crate::plan::ssm_prefix::SsmPrefix;

/// CloudFront's quota of cache behaviors per distribution (besides the
/// default behavior).
pub const MAX_CACHE_BEHAVIORS: usize = 75;

/// One distribution and the URLs attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredDistribution {
    /// Who owns what is created for it.
    pub owner: Owner,
    /// Its spec.
    pub spec: EdgeDistributionSpec,
    /// Attached URLs, ordered by name (the behavior order in CloudFront).
    pub urls: Vec<DesiredUrl>,
    /// Where the distribution was last seen: [`known_distribution_id`].
    pub known_id: Option<String>,
    /// The SSM parameters its status says urlguard wrote
    /// (`status.exportedParameters`; none for a manifest file).
    pub exported_before: Vec<ExportedParameter>,
    /// The invalidation its status reports (`status.invalidation`; none for
    /// a manifest file): where a pass looks first.
    pub invalidation_before: Option<InvalidationStatus>,
    /// `spec.managementPolicy: Observe`: a pass reads and plans it and its
    /// URLs as it would to manage them, and writes nothing to AWS.
    pub observed: bool,
}

impl DesiredDistribution {
    /// Whether `url` is observed, not managed: by its own policy, or
    /// because this distribution is observed.
    pub fn observes(&self, url: &DesiredUrl) -> bool {
        self.observed || url.observed
    }

    /// The SSM parameters its spec declares, where.
    pub fn declared_parameters(&self) -> Vec<ExportedParameter> {
        let Some(export) = &self.spec.ssm_export else {
            return Vec::new();
        };
        [
            &export.distribution_id_parameter,
            &export.domain_name_parameter,
        ]
        .into_iter()
        .flatten()
        .map(|name| ExportedParameter {
            region: export.region.clone(),
            name: name.clone(),
        })
        .collect()
    }
}

/// One URL attached to a distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredUrl {
    /// Who owns what is created for it.
    pub owner: Owner,
    /// Its spec.
    pub spec: ProtectedFunctionUrlSpec,
    /// The URL and ARN parameter names in force.
    pub parameter_names: (String, String),
    /// The SSM parameters its status says urlguard wrote
    /// (`status.exportedParameters`; none for a manifest file).
    pub exported_before: Vec<ExportedParameter>,
    /// Held as found: the pass neither reads nor writes anything of it,
    /// the distribution keeps its origin and behavior as AWS has them, and
    /// it gets no report. The controller holds the siblings of a failing
    /// URL while it retries that URL alone, so a retry costs that URL's
    /// reads, not every sibling's.
    pub held: bool,
    /// Its own `spec.managementPolicy` is `Observe`: a pass reads and plans
    /// it as for a managed URL but writes nothing for it, and a managed
    /// distribution keeps its origin and behavior exactly as AWS has them
    /// (`plan::distribution::kept_as_found`). Under an observed
    /// distribution every URL is observed
    /// ([`DesiredDistribution::observes`]).
    pub observed: bool,
}

impl DesiredUrl {
    /// The SSM parameters its spec declares (function URL, then ARN), where.
    pub fn declared_parameters(&self) -> Vec<ExportedParameter> {
        let region = &self.spec.ssm_export.region;
        [&self.parameter_names.0, &self.parameter_names.1]
            .into_iter()
            .map(|name| ExportedParameter {
                region: region.clone(),
                name: name.clone(),
            })
            .collect()
    }

    /// Allowed methods, sorted as CloudFront's shape keeps them.
    pub fn sorted_methods(&self) -> Vec<HttpMethod> {
        let mut methods = self.spec.allowed_methods.clone();
        methods.sort();
        methods.dedup();
        methods
    }
}

/// Why a resource cannot be reconciled as declared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// `spec.distributionRef` names no `EdgeDistribution` in the namespace.
    #[error("spec.distributionRef: EdgeDistribution {namespace}/{name} does not exist")]
    MissingDistribution {
        /// The namespace searched.
        namespace: String,
        /// The name referenced.
        name: String,
    },
    /// Another URL of the same distribution claims the path pattern.
    #[error("spec.pathPattern: {path} is already routed to ProtectedFunctionUrl {taken_by}")]
    DuplicatePath {
        /// The path pattern.
        path: String,
        /// The URL that keeps it (first by name).
        taken_by: String,
    },
    /// The distribution has no room for another cache behavior.
    #[error(
        "spec.distributionRef: EdgeDistribution {distribution} already has {MAX_CACHE_BEHAVIORS} cache behaviors, CloudFront's limit"
    )]
    TooManyBehaviors {
        /// The distribution.
        distribution: String,
    },
    /// An SSM parameter name outside the namespace's prefix.
    #[error(
        "{field}: {parameter} is outside {prefix}, where SSM parameters of this namespace must be (the cluster's SSM prefix rule {rule}); nothing was written"
    )]
    ParameterOutsidePrefix {
        /// The field naming it (`spec.ssmExport.urlParameter`).
        field: &'static str,
        /// The parameter name.
        parameter: String,
        /// The namespace's prefix.
        prefix: String,
        /// The rule's template.
        rule: String,
    },
    /// The URL's distribution is itself rejected.
    #[error("spec.distributionRef: EdgeDistribution {distribution} is rejected: {why}")]
    DistributionRejected {
        /// The distribution (`<namespace>/<name>`).
        distribution: String,
        /// Why it is.
        why: String,
    },
}

/// A rejected URL and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedUrl {
    /// The URL's namespace and name.
    pub owner: Owner,
    /// Why.
    pub rejection: Rejection,
}

/// A rejected distribution and why: no AWS call is made for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedDistribution {
    /// The distribution's namespace and name.
    pub owner: Owner,
    /// Why.
    pub rejection: Rejection,
}

/// The outcome of building the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredModel {
    /// Distributions with their attached URLs, by namespace and name.
    pub distributions: Vec<DesiredDistribution>,
    /// URLs that cannot attach.
    pub rejected: Vec<RejectedUrl>,
    /// Distributions that cannot be reconciled as declared.
    pub rejected_distributions: Vec<RejectedDistribution>,
}

/// The first parameter of `named` (field, name) outside `namespace`'s
/// prefix under `rule`.
fn outside_prefix<'a>(
    rule: &SsmPrefix,
    namespace: &str,
    named: impl IntoIterator<Item = (&'static str, &'a String)>,
) -> Option<Rejection> {
    named
        .into_iter()
        .find(|(_, parameter)| !rule.admits(namespace, parameter))
        .map(|(field, parameter)| Rejection::ParameterOutsidePrefix {
            field,
            parameter: parameter.clone(),
            prefix: rule.for_namespace(namespace),
            rule: rule.to_string(),
        })
}

/// The id a resource's status reports for its CloudFront distribution
/// (`status.distributionId`, as the controller reads objects back; a
/// manifest has none). It is only a hint: the reconcile reads that
/// distribution and uses it when its `CallerReference` proves it is the
/// owner's, and otherwise lists the account's distributions, which with
/// many large distributions is the costliest read there is.
pub fn known_distribution_id(status: Option<&String>) -> Option<String> {
    status.filter(|id| !id.is_empty()).cloned()
}

pub(super) fn owner_of(instance: &str, namespace: Option<&String>, name: Option<&String>) -> Owner {
    Owner {
        instance: instance.to_owned(),
        namespace: namespace.cloned().unwrap_or_else(|| "default".to_owned()),
        name: name.cloned().unwrap_or_default(),
    }
}

/// The distributions, without URLs yet, by (namespace, name).
pub(super) fn distributions_by_key(
    instance: &str,
    distributions: &[EdgeDistribution],
) -> BTreeMap<(String, String), DesiredDistribution> {
    distributions
        .iter()
        .map(|d| {
            let owner = owner_of(
                instance,
                d.metadata.namespace.as_ref(),
                d.metadata.name.as_ref(),
            );
            let key = (owner.namespace.clone(), owner.name.clone());
            let desired = DesiredDistribution {
                owner,
                spec: d.spec.clone(),
                urls: Vec::new(),
                // A manifest has no status: an adopted distribution is
                // looked for where `spec.adopt` says.
                known_id: known_distribution_id(
                    d.status.as_ref().and_then(|s| s.distribution_id.as_ref()),
                )
                .or_else(|| d.spec.adopt.as_ref().map(|a| a.distribution_id.clone())),
                exported_before: d
                    .status
                    .as_ref()
                    .and_then(|s| s.exported_parameters.clone())
                    .unwrap_or_default(),
                invalidation_before: d.status.as_ref().and_then(|s| s.invalidation.clone()),
                observed: d.spec.management_policy == ManagementPolicy::Observe,
            };
            (key, desired)
        })
        .collect()
}

/// One URL on its own, as it would attach (to check its function before
/// it attaches).
pub fn url(instance: &str, url: &ProtectedFunctionUrl) -> DesiredUrl {
    let owner = owner_of(
        instance,
        url.metadata.namespace.as_ref(),
        url.metadata.name.as_ref(),
    );
    desired_url(owner, url)
}

pub(super) fn desired_url(owner: Owner, url: &ProtectedFunctionUrl) -> DesiredUrl {
    let parameter_names = url
        .spec
        .ssm_export
        .parameter_names(&owner.namespace, &owner.name);
    DesiredUrl {
        owner,
        spec: url.spec.clone(),
        parameter_names,
        exported_before: url
            .status
            .as_ref()
            .and_then(|s| s.exported_parameters.clone())
            .unwrap_or_default(),
        held: false,
        observed: url.spec.management_policy == ManagementPolicy::Observe,
    }
}

/// Attaches every URL to the distribution it references, under the
/// default SSM prefix rule (`/<namespace>/`).
pub fn build(
    instance: &str,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> DesiredModel {
    build_with(instance, &SsmPrefix::default(), distributions, urls)
}

/// Attaches every URL to the distribution it references; every SSM
/// parameter must be inside its namespace's prefix under `ssm_prefix`.
pub fn build_with(
    instance: &str,
    ssm_prefix: &SsmPrefix,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> DesiredModel {
    let mut by_key = distributions_by_key(instance, distributions);
    let mut rejected_distributions = Vec::new();
    by_key.retain(|_, distribution| {
        let Some(export) = &distribution.spec.ssm_export else {
            return true;
        };
        let named = [
            (
                "spec.ssmExport.distributionIdParameter",
                export.distribution_id_parameter.as_ref(),
            ),
            (
                "spec.ssmExport.domainNameParameter",
                export.domain_name_parameter.as_ref(),
            ),
        ];
        let named = named
            .into_iter()
            .filter_map(|(field, name)| name.map(|n| (field, n)));
        match outside_prefix(ssm_prefix, &distribution.owner.namespace, named) {
            None => true,
            Some(rejection) => {
                rejected_distributions.push(RejectedDistribution {
                    owner: distribution.owner.clone(),
                    rejection,
                });
                false
            }
        }
    });

    let mut sorted: Vec<&ProtectedFunctionUrl> = urls.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });

    let mut rejected = Vec::new();
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
        if let Some(refused) = rejected_distributions
            .iter()
            .find(|r| (&r.owner.namespace, &r.owner.name) == (&key.0, &key.1))
        {
            rejected.push(RejectedUrl {
                rejection: Rejection::DistributionRejected {
                    distribution: format!("{}/{}", key.0, key.1),
                    why: refused.rejection.to_string(),
                },
                owner,
            });
            continue;
        }
        let parameter_names = url
            .spec
            .ssm_export
            .parameter_names(&owner.namespace, &owner.name);
        let named = [
            ("spec.ssmExport.urlParameter", &parameter_names.0),
            ("spec.ssmExport.arnParameter", &parameter_names.1),
        ];
        if let Some(rejection) = outside_prefix(ssm_prefix, &owner.namespace, named) {
            rejected.push(RejectedUrl { rejection, owner });
            continue;
        }
        let Some(distribution) = by_key.get_mut(&key) else {
            rejected.push(RejectedUrl {
                rejection: Rejection::MissingDistribution {
                    namespace: key.0,
                    name: key.1,
                },
                owner,
            });
            continue;
        };
        if let Some(taken) = distribution
            .urls
            .iter()
            .find(|u| u.spec.path_pattern == url.spec.path_pattern)
        {
            rejected.push(RejectedUrl {
                rejection: Rejection::DuplicatePath {
                    path: url.spec.path_pattern.clone(),
                    taken_by: taken.owner.name.clone(),
                },
                owner,
            });
            continue;
        }
        if distribution.urls.len() >= MAX_CACHE_BEHAVIORS {
            rejected.push(RejectedUrl {
                rejection: Rejection::TooManyBehaviors {
                    distribution: distribution.owner.name.clone(),
                },
                owner,
            });
            continue;
        }
        distribution.urls.push(desired_url(owner, url));
    }
    DesiredModel {
        distributions: by_key.into_values().collect(),
        rejected,
        rejected_distributions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{distribution, url};

    #[test]
    fn urls_attach_to_their_distribution_in_name_order() {
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("b", "books", "/b"), url("a", "books", "/a")],
        );
        assert!(model.rejected.is_empty());
        let names: Vec<_> = model.distributions[0]
            .urls
            .iter()
            .map(|u| u.owner.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            model.distributions[0].urls[0].parameter_names.0,
            "/books/AUrl"
        );
    }

    #[test]
    fn a_reference_to_a_missing_distribution_is_rejected_with_the_field() {
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("a", "nope", "/a")],
        );
        assert_eq!(model.rejected.len(), 1);
        assert_eq!(
            model.rejected[0].rejection.to_string(),
            "spec.distributionRef: EdgeDistribution books/nope does not exist"
        );
        assert!(model.distributions[0].urls.is_empty());
    }

    #[test]
    fn the_second_url_on_a_path_is_rejected_and_the_first_keeps_it() {
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("b", "books", "/same"), url("a", "books", "/same")],
        );
        assert_eq!(model.distributions[0].urls.len(), 1);
        assert_eq!(model.distributions[0].urls[0].owner.name, "a");
        assert_eq!(model.rejected[0].owner.name, "b");
        assert!(matches!(
            &model.rejected[0].rejection,
            Rejection::DuplicatePath { path, taken_by } if path == "/same" && taken_by == "a"
        ));
    }

    #[test]
    fn the_76th_url_is_rejected_and_75_stay_attached() {
        let urls: Vec<_> = (0..76)
            .map(|i| url(&format!("u{i:03}"), "books", &format!("/p{i}")))
            .collect();
        let model = build("urlguard", &[distribution("books")], &urls);
        assert_eq!(model.distributions[0].urls.len(), MAX_CACHE_BEHAVIORS);
        assert_eq!(model.rejected.len(), 1);
        assert_eq!(model.rejected[0].owner.name, "u075");
        assert!(matches!(
            model.rejected[0].rejection,
            Rejection::TooManyBehaviors { .. }
        ));
    }

    #[test]
    fn parameters_outside_the_namespace_prefix_are_refused_naming_the_field() {
        let mut squatting = url("b", "books", "/b");
        squatting.spec.ssm_export.arn_parameter = Some("/payments/GetPaymentsArn".into());
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("a", "books", "/a"), squatting],
        );
        assert_eq!(
            model.distributions[0].urls.len(),
            1,
            "the other URL goes on"
        );
        assert_eq!(model.rejected.len(), 1);
        let message = model.rejected[0].rejection.to_string();
        assert!(
            message.starts_with(
                "spec.ssmExport.arnParameter: /payments/GetPaymentsArn is outside /books/"
            ),
            "{message}"
        );

        // A configured rule: the defaults (`/books/…`) are outside it too.
        let rule = SsmPrefix::new("/apps/{namespace}/").expect("rule");
        let model = build_with(
            "urlguard",
            &rule,
            &[distribution("books")],
            &[url("a", "books", "/a")],
        );
        assert!(matches!(
            &model.rejected[0].rejection,
            Rejection::ParameterOutsidePrefix { field: "spec.ssmExport.urlParameter", prefix, .. }
                if prefix == "/apps/books/"
        ));
    }

    #[test]
    fn an_observed_distribution_observes_every_url_and_an_observed_url_only_itself() {
        let mut observing = url("b", "books", "/b");
        observing.spec.management_policy = ManagementPolicy::Observe;
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("a", "books", "/a"), observing.clone()],
        );
        let books = &model.distributions[0];
        assert!(!books.observed);
        assert_eq!(
            books
                .urls
                .iter()
                .map(|u| (u.owner.name.as_str(), books.observes(u)))
                .collect::<Vec<_>>(),
            [("a", false), ("b", true)]
        );

        let mut observed = distribution("books");
        observed.spec.management_policy = ManagementPolicy::Observe;
        let model = build(
            "urlguard",
            &[observed],
            &[url("a", "books", "/a"), observing],
        );
        let books = &model.distributions[0];
        assert!(books.observed);
        assert!(books.urls.iter().all(|u| books.observes(u)));
        assert!(!books.urls[0].observed, "its own policy stays Manage");
    }

    #[test]
    fn a_distribution_with_a_parameter_outside_the_prefix_is_rejected_with_its_urls() {
        let mut outside = distribution("books");
        outside.spec.ssm_export = Some(crate::api::DistributionSsmExport {
            region: "us-east-1".into(),
            distribution_id_parameter: Some("/books/Id".into()),
            domain_name_parameter: Some("/shared/Domain".into()),
        });
        let model = build("urlguard", &[outside], &[url("a", "books", "/a")]);
        assert!(model.distributions.is_empty());
        assert_eq!(model.rejected_distributions.len(), 1);
        assert!(
            model.rejected_distributions[0]
                .rejection
                .to_string()
                .starts_with(
                    "spec.ssmExport.domainNameParameter: /shared/Domain is outside /books/"
                )
        );
        assert!(matches!(
            model.rejected[0].rejection,
            Rejection::DistributionRejected { .. }
        ));
    }
}
