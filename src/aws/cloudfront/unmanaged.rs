//! What a distribution's config holds that urlguard does not manage, kept
//! from the last read so that an update writes it back as CloudFront
//! returned it. `UpdateDistribution` replaces the whole config, and an
//! element left out goes back to CloudFront's default (the API reference:
//! "When you update a distribution ... include all the elements ... that you
//! want to keep"), so a config rendered from urlguard's shape alone would
//! silently reset what someone else set: an origin's Origin Shield, a
//! behavior's real-time log config, a continuous deployment policy.
//!
//! Kept: the top-level `OriginGroups`, `ContinuousDeploymentPolicyId`,
//! `Staging`, `AnycastIpListId`, `TenantConfig`, `ConnectionMode`,
//! `ViewerMtlsConfig`, `ConnectionFunctionAssociation`, `CacheTagConfig`;
//! per origin (by id) `OriginShield`, `ResponseCompletionTimeout`; per
//! behavior (by path pattern, the default one by none)
//! `RealtimeLogConfigArn`, `GrpcConfig`. Everything else in a config is
//! urlguard's: the shape, and the fixed settings `config` writes on every
//! update. Origins and behaviors urlguard adds have nothing kept.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{
    CacheTagConfig, ConnectionFunctionAssociation, ConnectionMode, DistributionConfig, GrpcConfig,
    OriginGroups, OriginShield, TenantConfig, ViewerMtlsConfig,
};

/// An origin's unmanaged settings.
#[derive(Debug, Clone, Default, PartialEq)]
struct OriginKept {
    origin_shield: Option<OriginShield>,
    response_completion_timeout: Option<i32>,
}

/// A behavior's unmanaged settings.
#[derive(Debug, Clone, Default, PartialEq)]
struct BehaviorKept {
    realtime_log_config_arn: Option<String>,
    grpc_config: Option<GrpcConfig>,
}

/// The unmanaged part of one read config (small: no origins' or
/// behaviors' managed settings).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Unmanaged {
    origin_groups: Option<OriginGroups>,
    continuous_deployment_policy_id: Option<String>,
    staging: Option<bool>,
    anycast_ip_list_id: Option<String>,
    tenant_config: Option<TenantConfig>,
    connection_mode: Option<ConnectionMode>,
    viewer_mtls_config: Option<ViewerMtlsConfig>,
    connection_function_association: Option<ConnectionFunctionAssociation>,
    cache_tag_config: Option<CacheTagConfig>,
    origins: BTreeMap<String, OriginKept>,
    /// By path pattern; `None` is the default behavior.
    behaviors: BTreeMap<Option<String>, BehaviorKept>,
}

/// The unmanaged part of `config`.
pub(crate) fn unmanaged(config: &DistributionConfig) -> Unmanaged {
    let origins = config
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .map(|origin| {
            (
                origin.id().to_owned(),
                OriginKept {
                    origin_shield: origin.origin_shield().cloned(),
                    response_completion_timeout: origin.response_completion_timeout(),
                },
            )
        })
        .collect();
    let mut behaviors: BTreeMap<Option<String>, BehaviorKept> = config
        .cache_behaviors()
        .map(|b| b.items())
        .unwrap_or_default()
        .iter()
        .map(|behavior| {
            (
                Some(behavior.path_pattern().to_owned()),
                BehaviorKept {
                    realtime_log_config_arn: behavior.realtime_log_config_arn().map(str::to_owned),
                    grpc_config: behavior.grpc_config().cloned(),
                },
            )
        })
        .collect();
    if let Some(default) = config.default_cache_behavior() {
        behaviors.insert(
            None,
            BehaviorKept {
                realtime_log_config_arn: default.realtime_log_config_arn().map(str::to_owned),
                grpc_config: default.grpc_config().cloned(),
            },
        );
    }
    Unmanaged {
        origin_groups: config.origin_groups().cloned(),
        continuous_deployment_policy_id: config
            .continuous_deployment_policy_id()
            .map(str::to_owned),
        staging: config.staging(),
        anycast_ip_list_id: config.anycast_ip_list_id().map(str::to_owned),
        tenant_config: config.tenant_config().cloned(),
        connection_mode: config.connection_mode().cloned(),
        viewer_mtls_config: config.viewer_mtls_config().cloned(),
        connection_function_association: config.connection_function_association().cloned(),
        cache_tag_config: config.cache_tag_config().cloned(),
        origins,
        behaviors,
    }
}

/// `rendered` (urlguard's whole config) with `kept` put back.
pub(crate) fn with_unmanaged(
    mut rendered: DistributionConfig,
    kept: &Unmanaged,
) -> DistributionConfig {
    rendered.origin_groups = kept.origin_groups.clone();
    rendered.continuous_deployment_policy_id = kept.continuous_deployment_policy_id.clone();
    rendered.staging = kept.staging;
    rendered.anycast_ip_list_id = kept.anycast_ip_list_id.clone();
    rendered.tenant_config = kept.tenant_config.clone();
    rendered.connection_mode = kept.connection_mode.clone();
    rendered.viewer_mtls_config = kept.viewer_mtls_config.clone();
    rendered.connection_function_association = kept.connection_function_association.clone();
    rendered.cache_tag_config = kept.cache_tag_config.clone();
    if let Some(origins) = rendered.origins.as_mut() {
        for origin in &mut origins.items {
            if let Some(found) = kept.origins.get(&origin.id) {
                origin.origin_shield = found.origin_shield.clone();
                origin.response_completion_timeout = found.response_completion_timeout;
            }
        }
    }
    if let Some(items) = rendered
        .cache_behaviors
        .as_mut()
        .and_then(|b| b.items.as_mut())
    {
        for behavior in items {
            if let Some(found) = kept.behaviors.get(&Some(behavior.path_pattern.clone())) {
                behavior.realtime_log_config_arn = found.realtime_log_config_arn.clone();
                behavior.grpc_config = found.grpc_config.clone();
            }
        }
    }
    if let (Some(default), Some(found)) = (
        rendered.default_cache_behavior.as_mut(),
        kept.behaviors.get(&None),
    ) {
        default.realtime_log_config_arn = found.realtime_log_config_arn.clone();
        default.grpc_config = found.grpc_config.clone();
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudfront::types::{
        CacheBehavior, CacheBehaviors, DefaultCacheBehavior, Origin, Origins, ViewerProtocolPolicy,
    };

    fn config(shield: bool, log: Option<&str>) -> DistributionConfig {
        let mut origin = Origin::builder().id("o").domain_name("example.com");
        if shield {
            origin = origin.origin_shield(
                OriginShield::builder()
                    .enabled(true)
                    .origin_shield_region("eu-west-1")
                    .build()
                    .expect("shield"),
            );
        }
        DistributionConfig::builder()
            .caller_reference("r")
            .comment("")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(1)
                    .items(origin.build().expect("origin"))
                    .build()
                    .expect("origins"),
            )
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("o")
                    .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
                    .build()
                    .expect("default"),
            )
            .cache_behaviors(
                CacheBehaviors::builder()
                    .quantity(1)
                    .items(
                        CacheBehavior::builder()
                            .path_pattern("/api/*")
                            .target_origin_id("o")
                            .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
                            .set_realtime_log_config_arn(log.map(str::to_owned))
                            .build()
                            .expect("behavior"),
                    )
                    .build()
                    .expect("behaviors"),
            )
            .set_continuous_deployment_policy_id(log.map(|_| "policy".to_owned()))
            .build()
            .expect("config")
    }

    #[test]
    fn what_was_read_goes_back_into_the_rendered_config() {
        let read = config(true, Some("arn:log"));
        let written = with_unmanaged(config(false, None), &unmanaged(&read));
        assert_eq!(written, read);
    }

    #[test]
    fn nothing_kept_changes_nothing() {
        let rendered = config(false, None);
        assert_eq!(
            with_unmanaged(rendered.clone(), &Unmanaged::default()),
            rendered
        );
    }
}
