//! `spec.defaultBehavior`: the cache behavior of every request that no
//! `ProtectedFunctionUrl` path matches, the one that serves the default
//! origin. Its policies (by id) and the CloudFront Functions it runs (by
//! ARN); its methods stay `GET` and `HEAD`, and it never runs the signer.
//!
//! CloudFront Functions run on viewer events only, one function per event
//! (the API reference, `FunctionAssociation`); they must be published to
//! the `LIVE` stage before CloudFront accepts the association. urlguard
//! neither creates nor publishes them: they are the user's.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::common::POLICY_ID_PATTERN;

/// CloudFront's managed cache policy `CachingOptimized`, for the static
/// assets of the default behavior.
pub const CACHING_OPTIMIZED_POLICY_ID: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// The default cache behavior's settings.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DefaultBehavior {
    /// The cache policy id (a UUID, of a managed or a custom policy).
    /// Defaults to the managed `CachingOptimized` policy.
    #[serde(default = "caching_optimized")]
    #[schemars(regex(pattern = POLICY_ID_PATTERN), length(max = 36))]
    pub cache_policy_id: String,

    /// An optional origin request policy id: which viewer headers, cookies
    /// and query strings reach the default origin beyond the cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = POLICY_ID_PATTERN), length(max = 36))]
    pub origin_request_policy_id: Option<String>,

    /// An optional response headers policy id, such as the managed
    /// `SecurityHeadersPolicy` (`67f7725c-6f97-4210-82d7-5512b31e9d03`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = POLICY_ID_PATTERN), length(max = 36))]
    pub response_headers_policy_id: Option<String>,

    /// CloudFront Functions to run, at most one per event type
    /// (`viewer-request`, `viewer-response`). Each must be published to
    /// `LIVE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    #[x_kube(validation = Rule::new("self.all(a, self.exists_one(b, b.eventType == a.eventType))")
        .message("spec.defaultBehavior.functionAssociations: at most one function per event type (viewer-request, viewer-response)"))]
    pub function_associations: Vec<FunctionAssociation>,
}

impl Default for DefaultBehavior {
    fn default() -> Self {
        Self {
            cache_policy_id: caching_optimized(),
            origin_request_policy_id: None,
            response_headers_policy_id: None,
            function_associations: Vec::new(),
        }
    }
}

fn caching_optimized() -> String {
    CACHING_OPTIMIZED_POLICY_ID.to_owned()
}

/// A CloudFront Function on one viewer event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionAssociation {
    /// `viewer-request` (before CloudFront looks in its cache) or
    /// `viewer-response` (before it answers the viewer).
    pub event_type: FunctionEventType,
    /// The function's ARN, such as
    /// `arn:aws:cloudfront::123456789012:function/add-index-html`.
    #[schemars(
        length(max = 256),
        regex(pattern = r"^arn:aws[a-z-]*:cloudfront::[0-9]{12}:function/[a-zA-Z0-9_-]{1,64}$")
    )]
    pub function_arn: String,
}

/// The viewer events a CloudFront Function can run on.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, schemars::JsonSchema,
)]
pub enum FunctionEventType {
    /// When CloudFront receives the viewer's request.
    #[serde(rename = "viewer-request")]
    ViewerRequest,
    /// Before CloudFront returns the response to the viewer.
    #[serde(rename = "viewer-response")]
    ViewerResponse,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fixtures::edge_distribution_errors;
    use serde_json::{Value, json};

    const FUNCTION: &str = "arn:aws:cloudfront::123456789012:function/add-index-html";

    fn errors(behavior: Value) -> Vec<String> {
        edge_distribution_errors(json!({
            "defaultOrigin": {"s3": {"bucketName": "shop-spa"}},
            "defaultBehavior": behavior,
        }))
    }

    #[test]
    fn policies_and_functions_are_accepted_by_id_and_arn() {
        assert!(
            errors(json!({
                "cachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                "originRequestPolicyId": "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
                "responseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
                "functionAssociations": [
                    {"eventType": "viewer-request", "functionArn": FUNCTION},
                    {"eventType": "viewer-response", "functionArn": FUNCTION},
                ],
            }))
            .is_empty()
        );
    }

    #[test]
    fn one_function_per_event_type() {
        assert_eq!(
            errors(json!({"functionAssociations": [
                {"eventType": "viewer-request", "functionArn": FUNCTION},
                {"eventType": "viewer-request", "functionArn": FUNCTION},
            ]})),
            ["spec.defaultBehavior.functionAssociations"]
        );
    }

    #[test]
    fn bad_ids_arns_and_events_are_named() {
        for (behavior, field) in [
            (
                json!({"cachePolicyId": "CachingOptimized"}),
                "spec.defaultBehavior.cachePolicyId",
            ),
            (
                json!({"responseHeadersPolicyId": "67F7725C-6F97-4210-82D7-5512B31E9D03"}),
                "spec.defaultBehavior.responseHeadersPolicyId",
            ),
            (
                json!({"functionAssociations": [{"eventType": "origin-request", "functionArn": FUNCTION}]}),
                "spec.defaultBehavior.functionAssociations[0].eventType",
            ),
            (
                json!({"functionAssociations": [{"eventType": "viewer-request",
                    "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:edge:1"}]}),
                "spec.defaultBehavior.functionAssociations[0].functionArn",
            ),
        ] {
            assert_eq!(errors(behavior.clone()), [field], "{behavior}");
        }
    }

    #[test]
    fn an_empty_default_behavior_caches_optimized_and_runs_nothing() {
        let behavior: DefaultBehavior =
            serde_json::from_value(serde_json::json!({})).expect("parses");
        assert_eq!(behavior, DefaultBehavior::default());
        assert_eq!(behavior.cache_policy_id, CACHING_OPTIMIZED_POLICY_ID);
    }
}
