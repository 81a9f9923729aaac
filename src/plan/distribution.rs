//! The distribution: its configuration rendered from the `EdgeDistribution`
//! and every attached `ProtectedFunctionUrl`, and the field-level difference
//! from what CloudFront has. The whole configuration is written in one
//! update, so twenty URLs applied together cost one deployment.
//!
//! Behaviors are ordered most specific first (longer patterns before shorter
//! ones, then by pattern), because CloudFront takes the first behavior whose
//! pattern matches: `/api/admin/*` must come before `/api/*`.
//!
//! A URL observed, not managed (its own `spec.managementPolicy: Observe`),
//! keeps its route (origin and behaviors) exactly as CloudFront has it,
//! whatever its spec says: absent stays absent ([`kept_as_found`]). Only
//! the distribution's own parts follow the distribution: a signer
//! association names the version in force, an origin access control is
//! the one in force, so retiring an old signer version never strands it.
//!
//! The distribution-wide settings map one to one: `geoRestriction`
//! (`None` restricts nothing, as no geo restriction does), the default
//! origin's `customHeaders`, `defaultBehavior` (policies and CloudFront
//! Functions of the default behavior; URL behaviors run none), and
//! `viewerTls` (with `certificateArn` only; `TLSv1.2_2021` when unset, as
//! before the field existed). Each is rendered in the order the parser
//! reads it back in, so an unchanged distribution compares equal.

use std::collections::BTreeMap;

use super::change::{FieldChange, compare};
use super::desired::{DesiredDistribution, DesiredUrl};
use crate::api::{
    DefaultBehavior, GeoRestriction, GeoRestrictionType, HttpMethod, OriginCustomHeader, Protection,
};
use crate::model::cloudfront::{
    BehaviorShape, CustomHeaderShape, DEFAULT_ERROR_CACHING_MIN_TTL, DistributionShape,
    EdgeAssociation, ErrorResponseShape, FunctionAssociationShape, GeoRestrictionKind,
    GeoRestrictionShape, LoggingShape, OriginKind, OriginShape,
};
use crate::model::names::url_origin_id;

/// What earlier phases produced that the configuration refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderInputs {
    /// Function URL hosts by `ProtectedFunctionUrl` name; a URL without a
    /// host (its function is missing) is left out of the distribution.
    pub url_hosts: BTreeMap<String, String>,
    /// The numbered signer version (`EdgeSigner`).
    pub signer_version_arn: Option<String>,
    /// The origin access control for function URLs (`OriginAccessControl`).
    pub lambda_oac_id: Option<String>,
    /// The origin access control for an S3 default origin.
    pub s3_oac_id: Option<String>,
    /// Routes of URLs observed, not managed, by `ProtectedFunctionUrl`
    /// name, as CloudFront has them ([`kept_as_found`]); such a URL is
    /// never rendered from its spec.
    pub kept: BTreeMap<String, KeptRoute>,
    /// The `CallerReference` of the distribution as it exists, which
    /// CloudFront never changes (an adopted distribution keeps its
    /// creator's); `None` renders the owner's, for a create.
    pub caller_reference: Option<String>,
}

/// A URL's route as CloudFront has it: its origin and the behaviors that
/// route to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRoute {
    /// The origin `pfu-<name>`.
    pub origin: OriginShape,
    /// The behaviors whose target is that origin.
    pub behaviors: Vec<BehaviorShape>,
}

/// The route `current` holds for the URL `name`, if it holds its origin.
pub fn kept_as_found(current: &DistributionShape, name: &str) -> Option<KeptRoute> {
    let origin_id = url_origin_id(name);
    let origin = current.origins.iter().find(|o| o.id == origin_id)?;
    Some(KeptRoute {
        origin: origin.clone(),
        behaviors: current
            .behaviors
            .iter()
            .filter(|b| b.target_origin_id == origin_id)
            .cloned()
            .collect(),
    })
}

/// A kept route with the distribution's own parts in force (see the
/// module docs).
fn kept_route(route: &KeptRoute, inputs: &RenderInputs) -> (OriginShape, Vec<BehaviorShape>) {
    let mut origin = route.origin.clone();
    if origin.origin_access_control_id.is_some()
        && let Some(id) = &inputs.lambda_oac_id
    {
        origin.origin_access_control_id = Some(id.clone());
    }
    let behaviors = route
        .behaviors
        .iter()
        .map(|behavior| {
            let mut behavior = behavior.clone();
            if let (Some(association), Some(version_arn)) =
                (behavior.edge_signer.as_mut(), &inputs.signer_version_arn)
            {
                association.version_arn = version_arn.clone();
            }
            behavior
        })
        .collect();
    (origin, behaviors)
}

/// Renders the desired configuration.
pub fn render(distribution: &DesiredDistribution, inputs: &RenderInputs) -> DistributionShape {
    let spec = &distribution.spec;
    let default_origin_id = distribution.owner.default_origin_id();
    let default_origin = match (&spec.default_origin.s3, &spec.default_origin.custom) {
        (Some(s3), _) => OriginShape {
            id: default_origin_id.clone(),
            domain_name: match &s3.region {
                Some(region) => format!("{}.s3.{region}.amazonaws.com", s3.bucket_name),
                None => format!("{}.s3.amazonaws.com", s3.bucket_name),
            },
            origin_path: s3.origin_path.clone().unwrap_or_default(),
            kind: OriginKind::S3,
            origin_access_control_id: inputs.s3_oac_id.clone(),
            custom_headers: custom_headers(&s3.custom_headers),
        },
        (None, custom) => {
            let custom = custom.clone().unwrap_or_else(|| crate::api::CustomOrigin {
                domain_name: String::new(),
                origin_path: None,
                https_port: 443,
                custom_headers: Vec::new(),
            });
            OriginShape {
                id: default_origin_id.clone(),
                domain_name: custom.domain_name,
                origin_path: custom.origin_path.unwrap_or_default(),
                kind: OriginKind::Https {
                    port: custom.https_port,
                },
                origin_access_control_id: None,
                custom_headers: custom_headers(&custom.custom_headers),
            }
        }
    };

    let mut origins = vec![default_origin];
    let mut behaviors = Vec::new();
    let mut attached: Vec<(&DesiredUrl, &String)> = Vec::new();
    for url in &distribution.urls {
        if let Some(route) = inputs.kept.get(&url.owner.name) {
            let (origin, kept) = kept_route(route, inputs);
            origins.push(origin);
            behaviors.extend(kept);
        } else if let Some(host) = inputs.url_hosts.get(&url.owner.name) {
            attached.push((url, host));
        }
    }
    for (url, host) in attached {
        let origin_id = url_origin_id(&url.owner.name);
        let (oac, signer) = match spec.protection {
            Protection::OriginAccessControl => (inputs.lambda_oac_id.clone(), None),
            Protection::EdgeSigner => (
                None,
                inputs
                    .signer_version_arn
                    .clone()
                    .map(|version_arn| EdgeAssociation {
                        version_arn,
                        include_body: url.spec.forwards_body(),
                    }),
            ),
        };
        origins.push(OriginShape {
            id: origin_id.clone(),
            domain_name: host.clone(),
            origin_path: String::new(),
            kind: OriginKind::Https { port: 443 },
            origin_access_control_id: oac,
            custom_headers: Vec::new(),
        });
        behaviors.push(BehaviorShape {
            path_pattern: Some(url.spec.path_pattern.clone()),
            target_origin_id: origin_id,
            allowed_methods: url.sorted_methods(),
            cache_policy_id: url.spec.cache_policy_id.clone(),
            origin_request_policy_id: Some(url.spec.origin_request_policy_id.clone()),
            response_headers_policy_id: url.spec.response_headers_policy_id.clone(),
            edge_signer: signer,
            function_associations: Vec::new(),
        });
    }
    behaviors.sort_by(|a, b| {
        let (a, b) = (
            a.path_pattern.as_deref().unwrap_or(""),
            b.path_pattern.as_deref().unwrap_or(""),
        );
        b.len().cmp(&a.len()).then_with(|| a.cmp(b))
    });

    let mut custom_error_responses: Vec<ErrorResponseShape> = spec
        .custom_error_responses
        .iter()
        .map(|e| ErrorResponseShape {
            error_code: e.error_code,
            response_code: e.response_code,
            response_page_path: e.response_page_path.clone(),
            // CloudFront fills in its default; wanting it is wanting what
            // reads back, so an unset TTL is never a difference.
            error_caching_min_ttl: Some(
                e.error_caching_min_ttl
                    .unwrap_or(DEFAULT_ERROR_CACHING_MIN_TTL),
            ),
        })
        .collect();
    custom_error_responses.sort_by_key(|e| e.error_code);
    let mut aliases = spec.aliases.clone();
    aliases.sort();

    DistributionShape {
        caller_reference: inputs
            .caller_reference
            .clone()
            .unwrap_or_else(|| distribution.owner.caller_reference()),
        comment: spec.comment.clone().unwrap_or_default(),
        enabled: spec.enabled,
        price_class: spec.price_class,
        default_root_object: spec.default_root_object.clone().unwrap_or_default(),
        aliases,
        certificate_arn: spec.certificate_arn.clone(),
        minimum_protocol_version: spec.certificate_arn.as_ref().map(|_| {
            spec.viewer_tls
                .as_ref()
                .map(|tls| tls.minimum_protocol_version)
                .unwrap_or_default()
        }),
        geo_restriction: spec.geo_restriction.as_ref().and_then(geo_restriction),
        web_acl_id: spec.web_acl_arn.clone().unwrap_or_default(),
        logging: spec.logging.as_ref().map(|l| LoggingShape {
            bucket_domain: format!("{}.s3.amazonaws.com", l.bucket_name),
            prefix: l.prefix.clone().unwrap_or_default(),
            include_cookies: l.include_cookies,
        }),
        origins,
        default_behavior: default_behavior(default_origin_id, &spec.default_behavior),
        behaviors,
        custom_error_responses,
    }
}

/// The default behavior: the default origin's, `GET` and `HEAD`, never
/// the signer.
fn default_behavior(target_origin_id: String, spec: &DefaultBehavior) -> BehaviorShape {
    let mut function_associations: Vec<FunctionAssociationShape> = spec
        .function_associations
        .iter()
        .map(|a| FunctionAssociationShape {
            event_type: a.event_type,
            function_arn: a.function_arn.clone(),
        })
        .collect();
    function_associations.sort_by_key(|a| a.event_type);
    BehaviorShape {
        path_pattern: None,
        target_origin_id,
        allowed_methods: vec![HttpMethod::Get, HttpMethod::Head],
        cache_policy_id: spec.cache_policy_id.clone(),
        origin_request_policy_id: spec.origin_request_policy_id.clone(),
        response_headers_policy_id: spec.response_headers_policy_id.clone(),
        edge_signer: None,
        function_associations,
    }
}

/// A restricting geo restriction; `None` for type `None`.
fn geo_restriction(spec: &GeoRestriction) -> Option<GeoRestrictionShape> {
    let kind = match spec.restriction_type {
        GeoRestrictionType::Allow => GeoRestrictionKind::Allow,
        GeoRestrictionType::Deny => GeoRestrictionKind::Deny,
        GeoRestrictionType::None => return None,
    };
    let mut locations = spec.locations.clone();
    locations.sort();
    Some(GeoRestrictionShape { kind, locations })
}

/// Custom headers in the parser's order: by lower-case name.
fn custom_headers(spec: &[OriginCustomHeader]) -> Vec<CustomHeaderShape> {
    let mut headers: Vec<CustomHeaderShape> = spec
        .iter()
        .map(|h| CustomHeaderShape {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect();
    headers.sort_by_key(|h| h.name.to_ascii_lowercase());
    headers
}

/// The field-level differences from `observed` to `desired`.
pub fn diff(observed: &DistributionShape, desired: &DistributionShape) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    compare(&mut changes, "comment", &observed.comment, &desired.comment);
    compare(&mut changes, "enabled", &observed.enabled, &desired.enabled);
    compare(
        &mut changes,
        "priceClass",
        &observed.price_class,
        &desired.price_class,
    );
    compare(
        &mut changes,
        "defaultRootObject",
        &observed.default_root_object,
        &desired.default_root_object,
    );
    compare(&mut changes, "aliases", &observed.aliases, &desired.aliases);
    compare(
        &mut changes,
        "certificateArn",
        &observed.certificate_arn,
        &desired.certificate_arn,
    );
    compare(
        &mut changes,
        "viewerTls.minimumProtocolVersion",
        &observed.minimum_protocol_version,
        &desired.minimum_protocol_version,
    );
    compare(
        &mut changes,
        "geoRestriction",
        &observed.geo_restriction,
        &desired.geo_restriction,
    );
    compare(
        &mut changes,
        "webAclId",
        &observed.web_acl_id,
        &desired.web_acl_id,
    );
    compare(&mut changes, "logging", &observed.logging, &desired.logging);
    compare(
        &mut changes,
        "customErrorResponses",
        &observed.custom_error_responses,
        &desired.custom_error_responses,
    );
    compare(
        &mut changes,
        "defaultBehavior",
        &observed.default_behavior,
        &desired.default_behavior,
    );

    let by_id = |origins: &[OriginShape]| -> BTreeMap<String, OriginShape> {
        origins.iter().map(|o| (o.id.clone(), o.clone())).collect()
    };
    let (observed_origins, desired_origins) = (by_id(&observed.origins), by_id(&desired.origins));
    keyed_changes(
        &mut changes,
        "origins",
        &without_shared_headers(&observed_origins, &desired_origins),
        &without_shared_headers(&desired_origins, &observed_origins),
    );
    for (id, want) in &desired_origins {
        if let Some(found) = observed_origins.get(id) {
            header_changes(
                &mut changes,
                id,
                &found.custom_headers,
                &want.custom_headers,
            );
        }
    }
    let by_path = |behaviors: &[BehaviorShape]| -> BTreeMap<String, BehaviorShape> {
        behaviors
            .iter()
            .map(|b| (b.path_pattern.clone().unwrap_or_default(), b.clone()))
            .collect()
    };
    keyed_changes(
        &mut changes,
        "behaviors",
        &by_path(&observed.behaviors),
        &by_path(&desired.behaviors),
    );
    let order = |behaviors: &[BehaviorShape]| -> Vec<String> {
        behaviors
            .iter()
            .filter_map(|b| b.path_pattern.clone())
            .collect()
    };
    if changes.is_empty() {
        compare(
            &mut changes,
            "behaviors.order",
            &order(&observed.behaviors),
            &order(&desired.behaviors),
        );
        compare(
            &mut changes,
            "callerReference",
            &observed.caller_reference,
            &desired.caller_reference,
        );
    }
    changes
}

/// What creating the distribution adds, as `plan` shows it: one line per
/// cache behavior, naming the origin it routes to.
pub fn creation(desired: &DistributionShape) -> Vec<FieldChange> {
    desired
        .behaviors
        .iter()
        .map(|b| {
            FieldChange::new(
                format!(
                    "behaviors[{}]",
                    b.path_pattern.as_deref().unwrap_or_default()
                ),
                "(none)",
                format!(
                    "origin {}, methods {}",
                    b.target_origin_id,
                    b.allowed_methods
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
        .collect()
}

/// `origins` with no custom headers on the origins `other` has too: those
/// are compared one by one ([`header_changes`]), so that a changed value
/// shows as a change without being shown.
fn without_shared_headers(
    origins: &BTreeMap<String, OriginShape>,
    other: &BTreeMap<String, OriginShape>,
) -> BTreeMap<String, OriginShape> {
    origins
        .iter()
        .map(|(id, origin)| {
            let mut origin = origin.clone();
            if other.contains_key(id) {
                origin.custom_headers.clear();
            }
            (id.clone(), origin)
        })
        .collect()
}

/// The differences in one origin's custom headers, by lower-case name:
/// `origins[ID].customHeaders[NAME]`, values hidden.
fn header_changes(
    changes: &mut Vec<FieldChange>,
    origin_id: &str,
    observed: &[CustomHeaderShape],
    desired: &[CustomHeaderShape],
) {
    let named = |headers: &[CustomHeaderShape], name: &str| {
        headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .cloned()
    };
    let field = |name: &str| format!("origins[{origin_id}].customHeaders[{name}]");
    for want in desired {
        match named(observed, &want.name) {
            None => changes.push(FieldChange::new(
                field(&want.name),
                "(none)",
                format!("{want:?}"),
            )),
            Some(found) if found.value != want.value => changes.push(FieldChange::new(
                field(&want.name),
                format!("{found:?}"),
                format!("{want:?} (another value)"),
            )),
            Some(found) => compare(changes, &field(&want.name), &found, want),
        }
    }
    for found in observed {
        if named(desired, &found.name).is_none() {
            changes.push(FieldChange::new(
                field(&found.name),
                format!("{found:?}"),
                "(none)",
            ));
        }
    }
}

fn keyed_changes<T: PartialEq + std::fmt::Debug>(
    changes: &mut Vec<FieldChange>,
    field: &str,
    observed: &BTreeMap<String, T>,
    desired: &BTreeMap<String, T>,
) {
    for (key, want) in desired {
        match observed.get(key) {
            None => changes.push(FieldChange::new(
                format!("{field}[{key}]"),
                "(none)",
                format!("{want:?}"),
            )),
            Some(found) => compare(changes, &format!("{field}[{key}]"), found, want),
        }
    }
    for (key, found) in observed {
        if !desired.contains_key(key) {
            changes.push(FieldChange::new(
                format!("{field}[{key}]"),
                format!("{found:?}"),
                "(none)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{
        CACHING_OPTIMIZED_POLICY_ID, EdgeDistribution, FunctionEventType, MinimumProtocolVersion,
        ProtectedFunctionUrl,
    };
    use crate::plan::desired::build;
    use serde_json::json;

    const VERSION: &str =
        "arn:aws:lambda:us-east-1:123456789012:function:urlguard-books-books-signer:1";

    fn model(protection: &str, urls: &[(&str, &str, bool)]) -> DesiredDistribution {
        let distribution: EdgeDistribution = serde_json::from_value(json!({
            "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
            "metadata": {"name": "books", "namespace": "books"},
            "spec": {"protection": protection, "defaultOrigin": {"s3": {"bucketName": "books-frontend"}},
                     "defaultRootObject": "index.html",
                     "customErrorResponses": [{"errorCode": 404, "responseCode": 200, "responsePagePath": "/"}]}
        }))
        .expect("distribution");
        let urls: Vec<ProtectedFunctionUrl> = urls
            .iter()
            .map(|(name, path, writes)| {
                let methods = if *writes {
                    json!(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
                } else {
                    json!(["GET", "HEAD", "OPTIONS"])
                };
                serde_json::from_value(json!({
                    "apiVersion": "urlguard.io/v1alpha1", "kind": "ProtectedFunctionUrl",
                    "metadata": {"name": name, "namespace": "books"},
                    "spec": {"function": {"name": name, "region": "eu-west-1"}, "distributionRef": {"name": "books"},
                             "pathPattern": path, "allowedMethods": methods}
                }))
                .expect("url")
            })
            .collect();
        build("urlguard", &[distribution], &urls)
            .distributions
            .remove(0)
    }

    fn inputs(names: &[&str]) -> RenderInputs {
        RenderInputs {
            url_hosts: names
                .iter()
                .map(|n| (n.to_string(), format!("{n}.lambda-url.eu-west-1.on.aws")))
                .collect(),
            signer_version_arn: Some(VERSION.into()),
            lambda_oac_id: Some("EOACLAMBDA".into()),
            s3_oac_id: Some("EOACS3".into()),
            kept: BTreeMap::new(),
            caller_reference: None,
        }
    }

    #[test]
    fn an_adopted_distribution_keeps_its_caller_reference_and_loses_what_the_spec_does_not_declare()
    {
        let desired = model("EdgeSigner", &[("get-books", "/getBooks", false)]);
        let mut theirs = render(&desired, &inputs(&[]));
        theirs.caller_reference = "terraform-123".into();
        theirs.comment = "made by terraform".into();
        theirs.origins.push(OriginShape {
            id: "legacy-site".into(),
            domain_name: "legacy.example.com".into(),
            origin_path: String::new(),
            kind: OriginKind::Https { port: 443 },
            origin_access_control_id: None,
            custom_headers: Vec::new(),
        });
        theirs.behaviors.push(BehaviorShape {
            path_pattern: Some("/legacy/*".into()),
            target_origin_id: "legacy-site".into(),
            ..BehaviorShape::default()
        });
        let adopted = RenderInputs {
            caller_reference: Some(theirs.caller_reference.clone()),
            ..inputs(&["get-books"])
        };
        let shape = render(&desired, &adopted);
        assert_eq!(shape.caller_reference, "terraform-123");
        let fields: Vec<String> = diff(&theirs, &shape)
            .iter()
            .map(|c| c.field.clone())
            .collect();
        assert_eq!(
            fields,
            [
                "comment",
                "origins[pfu-get-books]",
                "origins[legacy-site]",
                "behaviors[/getBooks]",
                "behaviors[/legacy/*]"
            ]
        );
    }

    #[test]
    fn edge_signer_behaviors_carry_the_numbered_version_and_body_on_write_paths() {
        let desired = model(
            "EdgeSigner",
            &[
                ("get-books", "/getBooks", false),
                ("create-book", "/createBook", true),
            ],
        );
        let shape = render(&desired, &inputs(&["get-books", "create-book"]));
        assert_eq!(shape.caller_reference, "urlguard/urlguard/books/books");
        assert_eq!(shape.origins.len(), 3);
        assert_eq!(
            shape.origins[0].domain_name,
            "books-frontend.s3.amazonaws.com"
        );
        assert_eq!(
            shape.origins[0].origin_access_control_id.as_deref(),
            Some("EOACS3")
        );
        let signer_of = |path: &str| {
            shape
                .behaviors
                .iter()
                .find(|b| b.path_pattern.as_deref() == Some(path))
                .and_then(|b| b.edge_signer.clone())
                .expect("associated")
        };
        assert_eq!(
            signer_of("/getBooks"),
            EdgeAssociation {
                version_arn: VERSION.into(),
                include_body: false
            }
        );
        assert_eq!(
            signer_of("/createBook"),
            EdgeAssociation {
                version_arn: VERSION.into(),
                include_body: true
            }
        );
        assert!(
            shape.origins[1..]
                .iter()
                .all(|o| o.origin_access_control_id.is_none())
        );
        assert_eq!(shape.associated_versions().len(), 2);
    }

    #[test]
    fn an_error_response_without_a_ttl_wants_the_ttl_cloudfront_reads_back() {
        let desired = render(&model("EdgeSigner", &[]), &inputs(&[]));
        assert_eq!(
            desired.custom_error_responses[0].error_caching_min_ttl,
            Some(DEFAULT_ERROR_CACHING_MIN_TTL)
        );
        // CloudFront answers with its default filled in: nothing differs.
        let mut observed = desired.clone();
        observed.custom_error_responses[0].error_caching_min_ttl = Some(10);
        assert_eq!(diff(&observed, &desired), Vec::new());
        // A TTL someone else changed is a difference.
        observed.custom_error_responses[0].error_caching_min_ttl = Some(300);
        assert_eq!(diff(&observed, &desired).len(), 1);
    }

    #[test]
    fn origin_access_control_puts_the_oac_on_url_origins_and_no_edge_function() {
        let desired = model("OriginAccessControl", &[("get-books", "/getBooks", false)]);
        let shape = render(&desired, &inputs(&["get-books"]));
        assert_eq!(
            shape.origins[1].origin_access_control_id.as_deref(),
            Some("EOACLAMBDA")
        );
        assert!(shape.associated_versions().is_empty());
    }

    #[test]
    fn a_url_without_a_function_url_host_is_left_out() {
        let desired = model("EdgeSigner", &[("a", "/a", false), ("b", "/b", false)]);
        let shape = render(&desired, &inputs(&["a"]));
        assert_eq!(shape.behaviors.len(), 1);
        assert_eq!(shape.origins.len(), 2);
    }

    #[test]
    fn more_specific_patterns_come_first() {
        let desired = model(
            "EdgeSigner",
            &[
                ("a", "/api/*", false),
                ("b", "/api/admin/*", false),
                ("c", "/b", false),
            ],
        );
        let shape = render(&desired, &inputs(&["a", "b", "c"]));
        let order: Vec<_> = shape
            .behaviors
            .iter()
            .filter_map(|b| b.path_pattern.as_deref())
            .collect();
        assert_eq!(order, ["/api/admin/*", "/api/*", "/b"]);
    }

    #[test]
    fn a_new_distribution_shows_each_behavior_it_gets() {
        let desired = model("EdgeSigner", &[("get-books", "/getBooks", false)]);
        let lines: Vec<String> = creation(&render(&desired, &inputs(&["get-books"])))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            ["behaviors[/getBooks]: (none) → origin pfu-get-books, methods GET, HEAD, OPTIONS"]
        );
    }

    /// A custom-origin distribution with `extra` merged into its spec.
    fn featured(extra: serde_json::Value) -> DesiredDistribution {
        let mut spec = json!({"defaultOrigin": {"custom": {"domainName": "app.example.com",
            "customHeaders": [{"name": "X-Origin-Verify", "value": "s3cr3t"},
                              {"name": "x-app-edge", "value": "cloudfront"}]}}});
        if let (Some(spec), serde_json::Value::Object(extra)) = (spec.as_object_mut(), extra) {
            spec.extend(extra);
        }
        let distribution: EdgeDistribution = serde_json::from_value(json!({
            "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
            "metadata": {"name": "shop", "namespace": "shop"}, "spec": spec
        }))
        .expect("distribution");
        build("urlguard", &[distribution], &[])
            .distributions
            .remove(0)
    }

    const CERTIFICATE: &str =
        "arn:aws:acm:us-east-1:123456789012:certificate/0d0c0f2a-1111-2222-3333-444455556666";
    const FUNCTION: &str = "arn:aws:cloudfront::123456789012:function/index-html";

    #[test]
    fn geo_restriction_maps_allow_and_deny_and_none_restricts_nothing() {
        let shape = render(
            &featured(json!({"geoRestriction": {"type": "Allow", "locations": ["US", "DE"]}})),
            &inputs(&[]),
        );
        assert_eq!(
            shape.geo_restriction,
            Some(GeoRestrictionShape {
                kind: GeoRestrictionKind::Allow,
                locations: vec!["DE".into(), "US".into()],
            })
        );
        let deny = render(
            &featured(json!({"geoRestriction": {"type": "Deny", "locations": ["RU"]}})),
            &inputs(&[]),
        );
        assert_eq!(
            deny.geo_restriction.map(|g| g.kind),
            Some(GeoRestrictionKind::Deny)
        );
        for spec in [json!({"geoRestriction": {"type": "None"}}), json!({})] {
            assert_eq!(render(&featured(spec), &inputs(&[])).geo_restriction, None);
        }
        assert_eq!(
            diff(&deny_shape(), &render(&featured(json!({})), &inputs(&[])))
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>(),
            ["geoRestriction"]
        );
    }

    fn deny_shape() -> DistributionShape {
        render(
            &featured(json!({"geoRestriction": {"type": "Deny", "locations": ["RU"]}})),
            &inputs(&[]),
        )
    }

    #[test]
    fn default_origin_headers_go_on_the_default_origin_alone_and_never_print_their_values() {
        let desired = featured(json!({}));
        let shape = render(&desired, &inputs(&[]));
        let names: Vec<&str> = shape.origins[0]
            .custom_headers
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["x-app-edge", "X-Origin-Verify"],
            "by lower-case name"
        );
        assert_eq!(shape.origins[0].custom_headers[1].value, "s3cr3t");

        let mut observed = shape.clone();
        observed.origins[0].custom_headers[1].value = "old".into();
        observed.origins[0].custom_headers[0].name = "X-App-Edge".into();
        observed.origins[0].custom_headers.push(CustomHeaderShape {
            name: "X-Gone".into(),
            value: "gone".into(),
        });
        let lines: Vec<String> = diff(&observed, &shape)
            .iter()
            .map(ToString::to_string)
            .collect();
        let id = &shape.origins[0].id;
        assert_eq!(
            lines,
            [
                format!(
                    "origins[{id}].customHeaders[x-app-edge]: X-App-Edge: <hidden> → x-app-edge: <hidden>"
                ),
                format!(
                    "origins[{id}].customHeaders[X-Origin-Verify]: X-Origin-Verify: <hidden> → X-Origin-Verify: <hidden> (another value)"
                ),
                format!("origins[{id}].customHeaders[X-Gone]: X-Gone: <hidden> → (none)"),
            ]
        );

        let s3 = model("EdgeSigner", &[("a", "/a", false)]);
        let shape = render(&s3, &inputs(&["a"]));
        assert!(shape.origins.iter().all(|o| o.custom_headers.is_empty()));
    }

    #[test]
    fn the_default_behavior_takes_its_policies_and_functions_and_url_behaviors_none() {
        let desired = featured(json!({"defaultBehavior": {
        "cachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        "originRequestPolicyId": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
        "responseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "functionAssociations": [
            {"eventType": "viewer-response", "functionArn": FUNCTION},
            {"eventType": "viewer-request", "functionArn": FUNCTION},
        ]}}));
        let behavior = render(&desired, &inputs(&[])).default_behavior;
        assert_eq!(
            behavior.cache_policy_id,
            "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
        );
        assert_eq!(
            behavior.origin_request_policy_id.as_deref(),
            Some("88a5eaf4-2fd4-4709-b370-b4c650ea3fcf")
        );
        assert_eq!(
            behavior.response_headers_policy_id.as_deref(),
            Some("67f7725c-6f97-4210-82d7-5512b31e9d03")
        );
        let events: Vec<FunctionEventType> = behavior
            .function_associations
            .iter()
            .map(|a| a.event_type)
            .collect();
        assert_eq!(
            events,
            [
                FunctionEventType::ViewerRequest,
                FunctionEventType::ViewerResponse
            ]
        );
        assert_eq!(behavior.edge_signer, None);
        assert_eq!(
            behavior.allowed_methods,
            [HttpMethod::Get, HttpMethod::Head]
        );

        // Unset: what the default behavior always had.
        let plain = render(&model("EdgeSigner", &[("a", "/a", false)]), &inputs(&["a"]));
        assert_eq!(
            plain.default_behavior.cache_policy_id,
            CACHING_OPTIMIZED_POLICY_ID
        );
        assert_eq!(plain.default_behavior.origin_request_policy_id, None);
        assert_eq!(plain.default_behavior.response_headers_policy_id, None);
        assert!(plain.default_behavior.function_associations.is_empty());
        assert!(
            plain
                .behaviors
                .iter()
                .all(|b| b.function_associations.is_empty())
        );
    }

    #[test]
    fn the_security_policy_goes_with_the_certificate_and_defaults_to_tls_1_2_2021() {
        let without = render(&featured(json!({})), &inputs(&[]));
        assert_eq!(without.minimum_protocol_version, None);
        let defaulted = render(
            &featured(json!({"certificateArn": CERTIFICATE})),
            &inputs(&[]),
        );
        assert_eq!(
            defaulted.minimum_protocol_version,
            Some(MinimumProtocolVersion::TlsV1_2_2021)
        );
        let chosen = render(
            &featured(json!({"certificateArn": CERTIFICATE,
                "viewerTls": {"minimumProtocolVersion": "TLSv1.3_2025"}})),
            &inputs(&[]),
        );
        assert_eq!(
            chosen.minimum_protocol_version,
            Some(MinimumProtocolVersion::TlsV1_3_2025)
        );
        let fields: Vec<String> = diff(&defaulted, &chosen)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(fields, ["viewerTls.minimumProtocolVersion"]);
    }

    #[test]
    fn diff_names_the_changed_behavior_field() {
        let before = render(&model("EdgeSigner", &[("a", "/a", false)]), &inputs(&["a"]));
        let after = render(
            &model("EdgeSigner", &[("a", "/a2", false)]),
            &inputs(&["a"]),
        );
        let changes = diff(&before, &after);
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["behaviors[/a2]", "behaviors[/a]"]);
        assert_eq!(changes[0].before, "(none)");
        assert_eq!(changes[1].after, "(none)");
        assert!(diff(&before, &before).is_empty());
    }

    #[test]
    fn an_observed_url_keeps_its_route_as_found_but_the_signer_version_in_force() {
        // As applied: both URLs routed, signer version 1.
        let applied = render(
            &model("EdgeSigner", &[("a", "/a", false), ("b", "/b", false)]),
            &inputs(&["a", "b"]),
        );
        // Now `b` is observed and its spec says otherwise (another path,
        // every method); a new signer version is in force.
        let mut desired = model("EdgeSigner", &[("a", "/a", false), ("b", "/b2", true)]);
        desired.urls[1].observed = true;
        let version_2 = VERSION.replace(":1", ":2");
        let mut with_b_kept = RenderInputs {
            signer_version_arn: Some(version_2.clone()),
            ..inputs(&["a"])
        };
        let found = kept_as_found(&applied, "b").expect("b is routed");
        assert_eq!(found.behaviors.len(), 1);
        with_b_kept.kept.insert("b".into(), found);
        let shape = render(&desired, &with_b_kept);
        let b = shape
            .behaviors
            .iter()
            .find(|x| x.target_origin_id == "pfu-b")
            .expect("b keeps its behavior");
        assert_eq!(b.path_pattern.as_deref(), Some("/b"), "not its spec's /b2");
        assert_eq!(b.allowed_methods.len(), 3, "not its spec's seven");
        assert_eq!(
            b.edge_signer.as_ref().map(|a| a.version_arn.as_str()),
            Some(version_2.as_str()),
            "the distribution's signer version in force"
        );
        let fields: Vec<String> = diff(&applied, &shape)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            ["behaviors[/a]", "behaviors[/b]"],
            "only the signer version moved"
        );

        // An observed URL that is not routed stays out.
        assert_eq!(kept_as_found(&applied, "c"), None);
        let mut absent = model("EdgeSigner", &[("a", "/a", false), ("c", "/c", false)]);
        absent.urls[1].observed = true;
        let shape = render(&absent, &inputs(&["a"]));
        assert!(shape.origins.iter().all(|o| o.id != "pfu-c"));
    }
}
