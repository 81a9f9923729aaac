//! Distribution shapes tests build directly through the adapters, without
//! the engine: the smallest one CloudFront accepts.

use urlguard::api::HttpMethod;
use urlguard::model::cloudfront::{BehaviorShape, DistributionShape, OriginKind, OriginShape};

/// CloudFront's managed `CachingOptimized` cache policy.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// An enabled distribution with one HTTPS default origin
/// (`example.com`), GET and HEAD, and `caller_reference`.
pub fn https_distribution(caller_reference: &str, comment: &str) -> DistributionShape {
    DistributionShape {
        caller_reference: caller_reference.to_owned(),
        comment: comment.to_owned(),
        enabled: true,
        origins: vec![OriginShape {
            id: "default".into(),
            domain_name: "example.com".into(),
            origin_path: String::new(),
            kind: OriginKind::Https { port: 443 },
            origin_access_control_id: None,
            custom_headers: Vec::new(),
        }],
        default_behavior: BehaviorShape {
            target_origin_id: "default".into(),
            allowed_methods: vec![HttpMethod::Get, HttpMethod::Head],
            cache_policy_id: CACHING_OPTIMIZED.into(),
            ..BehaviorShape::default()
        },
        ..DistributionShape::default()
    }
}
