//! [`DistributionShape`] ↔ the SDK's `DistributionConfig`: [`render`] writes
//! the managed part plus the settings every urlguard distribution has;
//! [`parse`] reads the managed part back. `parse(render(shape)) == shape`
//! for every shape with its methods sorted (the unit tests hold that).
//!
//! One idea, so one file (about 460 lines of code, the rest tests): render
//! and parse are the two directions of one mapping, kept side by side part
//! by part (origins, behaviors, everything else) so that a field written
//! one way and not read the other stands out, and the round-trip tests
//! check both directions together. Split by direction, each pair would sit
//! in two files and the round-trip tests would belong to neither.
//!
//! Fixed settings (not in the shape, always written):
//! - viewers: `redirect-to-https`, `http2and3`, IPv6, compression on,
//!   `GET`/`HEAD` cached, no trusted signers or key groups, no field-level
//!   encryption, no smooth streaming;
//! - origins: S3 through its REST endpoint with an empty origin access
//!   identity (the origin access control, when set, signs instead); custom
//!   origins HTTPS only (TLSv1.2, read timeout 30 s, keep-alive 5 s); three
//!   connection attempts of 10 s;
//! - certificate: the CloudFront default one without `certificate_arn`,
//!   else the ACM certificate, SNI only, with the shape's security policy;
//! - logging off (empty bucket and prefix) without `logging`; geo
//!   restriction `none` without one.
//!
//! Reading back is lenient with what urlguard does not manage: other
//! Lambda@Edge event types are ignored, an unknown price class reads as
//! `PriceClass_All`, an unknown security policy or geo restriction type as
//! none (so the next update writes urlguard's), empty strings read as
//! `None` where the shape has an `Option`; the security policy is read only
//! with an ACM certificate (CloudFront reports `TLSv1` for its default
//! one, whatever was sent). Lists CloudFront treats as sets read in the
//! plan's order: aliases, custom error responses and countries sorted,
//! custom headers by lower-case name, CloudFront Functions by event type.
//! CloudFront completes a config it
//! reads back (connection attempts and timeouts, origin shield, the
//! certificate's `Certificate`/`CertificateSource`, an error response's
//! `ErrorCachingMinTTL` of 10, ...): none of that is in the shape except the
//! TTL, which the plan renders with CloudFront's default. A drift in a fixed setting is not visible in the shape; the
//! next update rewrites it anyway, since every update sends the whole config.

use aws_sdk_cloudfront::error::BuildError;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomHeaders, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, EventType, FunctionAssociation, FunctionAssociations, GeoRestriction,
    GeoRestrictionType, HttpVersion, LambdaFunctionAssociation, LambdaFunctionAssociations,
    LoggingConfig, Method, MinimumProtocolVersion as SdkMinimumProtocolVersion, Origin,
    OriginCustomHeader, OriginProtocolPolicy, OriginSslProtocols, Origins,
    PriceClass as SdkPriceClass, Restrictions, S3OriginConfig, SslProtocol, SslSupportMethod,
    TrustedKeyGroups, TrustedSigners, ViewerCertificate, ViewerProtocolPolicy,
};

use crate::api::{FunctionEventType, HttpMethod, MinimumProtocolVersion, PriceClass};
use crate::model::cloudfront::{
    BehaviorShape, CustomHeaderShape, DistributionShape, EdgeAssociation, ErrorResponseShape,
    FunctionAssociationShape, GeoRestrictionKind, GeoRestrictionShape, LoggingShape, OriginKind,
    OriginShape,
};

/// Custom origins: connection attempts.
const CONNECTION_ATTEMPTS: i32 = 3;
/// Custom origins: seconds to connect.
const CONNECTION_TIMEOUT: i32 = 10;
/// Custom origins: seconds to wait for a response.
const ORIGIN_READ_TIMEOUT: i32 = 30;
/// Custom origins: seconds a connection stays open.
const ORIGIN_KEEPALIVE_TIMEOUT: i32 = 5;

/// The full `DistributionConfig` for a shape.
pub(crate) fn render(shape: &DistributionShape) -> Result<DistributionConfig, BuildError> {
    let origins = shape
        .origins
        .iter()
        .map(render_origin)
        .collect::<Result<Vec<_>, _>>()?;
    let behaviors = shape
        .behaviors
        .iter()
        .map(render_behavior)
        .collect::<Result<Vec<_>, _>>()?;
    let error_responses = shape
        .custom_error_responses
        .iter()
        .map(render_error_response)
        .collect::<Result<Vec<_>, _>>()?;

    DistributionConfig::builder()
        .caller_reference(&shape.caller_reference)
        .comment(&shape.comment)
        .enabled(shape.enabled)
        .price_class(price_class_to_sdk(shape.price_class))
        .default_root_object(&shape.default_root_object)
        .aliases(
            Aliases::builder()
                .quantity(quantity(&shape.aliases))
                .set_items(non_empty(shape.aliases.clone()))
                .build()?,
        )
        .viewer_certificate(render_certificate(
            shape.certificate_arn.as_deref(),
            shape.minimum_protocol_version,
        ))
        .web_acl_id(&shape.web_acl_id)
        .logging(render_logging(shape.logging.as_ref()))
        .origins(
            Origins::builder()
                .quantity(quantity(&origins))
                .set_items(Some(origins))
                .build()?,
        )
        .default_cache_behavior(render_default_behavior(&shape.default_behavior)?)
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(quantity(&behaviors))
                .set_items(non_empty(behaviors))
                .build()?,
        )
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(quantity(&error_responses))
                .set_items(non_empty(error_responses))
                .build()?,
        )
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .restrictions(
            Restrictions::builder()
                .geo_restriction(render_geo_restriction(shape.geo_restriction.as_ref())?)
                .build(),
        )
        .build()
}

/// The managed part of a `DistributionConfig`.
pub(crate) fn parse(config: &DistributionConfig) -> DistributionShape {
    DistributionShape {
        caller_reference: config.caller_reference().to_owned(),
        comment: config.comment().to_owned(),
        enabled: config.enabled(),
        price_class: price_class_from_sdk(config.price_class()),
        default_root_object: config.default_root_object().unwrap_or_default().to_owned(),
        aliases: sorted(
            config
                .aliases()
                .map(|a| a.items().to_vec())
                .unwrap_or_default(),
        ),
        certificate_arn: config
            .viewer_certificate()
            .and_then(|c| c.acm_certificate_arn())
            .and_then(some_if_not_empty),
        minimum_protocol_version: config
            .viewer_certificate()
            .filter(|c| c.acm_certificate_arn().is_some_and(|arn| !arn.is_empty()))
            .and_then(|c| c.minimum_protocol_version())
            .and_then(minimum_protocol_version_from_sdk),
        geo_restriction: config
            .restrictions()
            .and_then(|r| r.geo_restriction())
            .and_then(parse_geo_restriction),
        web_acl_id: config.web_acl_id().unwrap_or_default().to_owned(),
        logging: config.logging().and_then(parse_logging),
        origins: config
            .origins()
            .map(|o| o.items().iter().map(parse_origin).collect())
            .unwrap_or_default(),
        default_behavior: config
            .default_cache_behavior()
            .map(parse_default_behavior)
            .unwrap_or_default(),
        behaviors: config
            .cache_behaviors()
            .map(|b| b.items().iter().map(parse_behavior).collect())
            .unwrap_or_default(),
        custom_error_responses: {
            let mut responses: Vec<ErrorResponseShape> = config
                .custom_error_responses()
                .map(|r| r.items().iter().map(parse_error_response).collect())
                .unwrap_or_default();
            responses.sort_by_key(|r| r.error_code);
            responses
        },
    }
}

/// A list CloudFront treats as a set, in urlguard's order.
fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

/// The origin ids of a config (for listings).
pub(crate) fn origin_ids(origins: Option<&Origins>) -> Vec<String> {
    origins
        .map(|o| {
            o.items()
                .iter()
                .map(|origin| origin.id().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

// ----------------------------------------------------------------- origins

fn render_origin(origin: &OriginShape) -> Result<Origin, BuildError> {
    let builder = Origin::builder()
        .id(&origin.id)
        .domain_name(&origin.domain_name)
        .origin_path(&origin.origin_path)
        .custom_headers(render_custom_headers(&origin.custom_headers)?)
        .connection_attempts(CONNECTION_ATTEMPTS)
        .connection_timeout(CONNECTION_TIMEOUT)
        .set_origin_access_control_id(origin.origin_access_control_id.clone());
    let builder = match origin.kind {
        OriginKind::S3 => {
            builder.s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        }
        OriginKind::Https { port } => builder.custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(port)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .origin_ssl_protocols(
                    OriginSslProtocols::builder()
                        .quantity(1)
                        .items(SslProtocol::TlSv12)
                        .build()?,
                )
                .origin_read_timeout(ORIGIN_READ_TIMEOUT)
                .origin_keepalive_timeout(ORIGIN_KEEPALIVE_TIMEOUT)
                .build()?,
        ),
    };
    builder.build()
}

fn parse_origin(origin: &Origin) -> OriginShape {
    let kind = match (origin.s3_origin_config(), origin.custom_origin_config()) {
        (Some(_), _) => OriginKind::S3,
        (None, Some(custom)) => OriginKind::Https {
            port: custom.https_port(),
        },
        (None, None) => OriginKind::Https { port: 443 },
    };
    OriginShape {
        id: origin.id().to_owned(),
        domain_name: origin.domain_name().to_owned(),
        origin_path: origin.origin_path().unwrap_or_default().to_owned(),
        kind,
        origin_access_control_id: origin
            .origin_access_control_id()
            .and_then(some_if_not_empty),
        custom_headers: parse_custom_headers(origin.custom_headers()),
    }
}

fn render_custom_headers(headers: &[CustomHeaderShape]) -> Result<CustomHeaders, BuildError> {
    let items = headers
        .iter()
        .map(|h| {
            OriginCustomHeader::builder()
                .header_name(&h.name)
                .header_value(&h.value)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    CustomHeaders::builder()
        .quantity(quantity(&items))
        .set_items(non_empty(items))
        .build()
}

fn parse_custom_headers(headers: Option<&CustomHeaders>) -> Vec<CustomHeaderShape> {
    let mut parsed: Vec<CustomHeaderShape> = headers
        .map(|h| h.items())
        .unwrap_or_default()
        .iter()
        .map(|h| CustomHeaderShape {
            name: h.header_name().to_owned(),
            value: h.header_value().to_owned(),
        })
        .collect();
    parsed.sort_by_key(|h| h.name.to_ascii_lowercase());
    parsed
}

// --------------------------------------------------------------- behaviors

/// The settings both behavior builders share (same method names, no shared
/// type).
macro_rules! behavior_settings {
    ($builder:expr, $shape:expr) => {{
        let shape: &BehaviorShape = $shape;
        $builder
            .target_origin_id(&shape.target_origin_id)
            .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
            .allowed_methods(render_methods(&shape.allowed_methods)?)
            .smooth_streaming(false)
            .compress(true)
            .lambda_function_associations(render_associations(shape.edge_signer.as_ref())?)
            .function_associations(render_function_associations(&shape.function_associations)?)
            .field_level_encryption_id("")
            .trusted_signers(
                TrustedSigners::builder()
                    .enabled(false)
                    .quantity(0)
                    .build()?,
            )
            .trusted_key_groups(
                TrustedKeyGroups::builder()
                    .enabled(false)
                    .quantity(0)
                    .build()?,
            )
            .cache_policy_id(&shape.cache_policy_id)
            .set_origin_request_policy_id(shape.origin_request_policy_id.clone())
            .set_response_headers_policy_id(shape.response_headers_policy_id.clone())
    }};
}

/// The managed part of either behavior type.
macro_rules! parse_behavior_settings {
    ($behavior:expr, $path_pattern:expr) => {{
        let behavior = $behavior;
        BehaviorShape {
            path_pattern: $path_pattern,
            target_origin_id: behavior.target_origin_id().to_owned(),
            allowed_methods: parse_methods(behavior.allowed_methods()),
            cache_policy_id: behavior.cache_policy_id().unwrap_or_default().to_owned(),
            origin_request_policy_id: behavior
                .origin_request_policy_id()
                .and_then(some_if_not_empty),
            response_headers_policy_id: behavior
                .response_headers_policy_id()
                .and_then(some_if_not_empty),
            edge_signer: parse_associations(behavior.lambda_function_associations()),
            function_associations: parse_function_associations(behavior.function_associations()),
        }
    }};
}

fn render_default_behavior(shape: &BehaviorShape) -> Result<DefaultCacheBehavior, BuildError> {
    behavior_settings!(DefaultCacheBehavior::builder(), shape).build()
}

fn render_behavior(shape: &BehaviorShape) -> Result<CacheBehavior, BuildError> {
    behavior_settings!(CacheBehavior::builder(), shape)
        .path_pattern(shape.path_pattern.as_deref().unwrap_or_default())
        .build()
}

fn parse_default_behavior(behavior: &DefaultCacheBehavior) -> BehaviorShape {
    parse_behavior_settings!(behavior, None)
}

fn parse_behavior(behavior: &CacheBehavior) -> BehaviorShape {
    parse_behavior_settings!(behavior, Some(behavior.path_pattern().to_owned()))
}

fn render_methods(methods: &[HttpMethod]) -> Result<AllowedMethods, BuildError> {
    let mut sorted = methods.to_vec();
    sorted.sort();
    sorted.dedup();
    let items: Vec<Method> = sorted.into_iter().map(method_to_sdk).collect();
    AllowedMethods::builder()
        .quantity(quantity(&items))
        .set_items(Some(items))
        .cached_methods(
            CachedMethods::builder()
                .quantity(2)
                .items(Method::Get)
                .items(Method::Head)
                .build()?,
        )
        .build()
}

fn parse_methods(methods: Option<&AllowedMethods>) -> Vec<HttpMethod> {
    let mut parsed: Vec<HttpMethod> = methods
        .map(|m| m.items().iter().filter_map(method_from_sdk).collect())
        .unwrap_or_default();
    parsed.sort();
    parsed.dedup();
    parsed
}

fn method_to_sdk(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::Get,
        HttpMethod::Head => Method::Head,
        HttpMethod::Options => Method::Options,
        HttpMethod::Put => Method::Put,
        HttpMethod::Patch => Method::Patch,
        HttpMethod::Post => Method::Post,
        HttpMethod::Delete => Method::Delete,
    }
}

fn method_from_sdk(method: &Method) -> Option<HttpMethod> {
    Some(match method {
        Method::Get => HttpMethod::Get,
        Method::Head => HttpMethod::Head,
        Method::Options => HttpMethod::Options,
        Method::Put => HttpMethod::Put,
        Method::Patch => HttpMethod::Patch,
        Method::Post => HttpMethod::Post,
        Method::Delete => HttpMethod::Delete,
        _ => return None,
    })
}

fn render_associations(
    signer: Option<&EdgeAssociation>,
) -> Result<LambdaFunctionAssociations, BuildError> {
    let items = signer
        .map(|signer| {
            LambdaFunctionAssociation::builder()
                .lambda_function_arn(&signer.version_arn)
                .event_type(EventType::OriginRequest)
                .include_body(signer.include_body)
                .build()
        })
        .transpose()?;
    LambdaFunctionAssociations::builder()
        .quantity(i32::from(items.is_some()))
        .set_items(items.map(|item| vec![item]))
        .build()
}

fn parse_associations(
    associations: Option<&LambdaFunctionAssociations>,
) -> Option<EdgeAssociation> {
    associations?
        .items()
        .iter()
        .find(|a| a.event_type() == &EventType::OriginRequest)
        .map(|a| EdgeAssociation {
            version_arn: a.lambda_function_arn().to_owned(),
            include_body: a.include_body().unwrap_or(false),
        })
}

fn render_function_associations(
    associations: &[FunctionAssociationShape],
) -> Result<FunctionAssociations, BuildError> {
    let items = associations
        .iter()
        .map(|a| {
            FunctionAssociation::builder()
                .function_arn(&a.function_arn)
                .event_type(match a.event_type {
                    FunctionEventType::ViewerRequest => EventType::ViewerRequest,
                    FunctionEventType::ViewerResponse => EventType::ViewerResponse,
                })
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    FunctionAssociations::builder()
        .quantity(quantity(&items))
        .set_items(non_empty(items))
        .build()
}

/// CloudFront Functions on viewer events, by event type (CloudFront takes
/// no other events for them).
fn parse_function_associations(
    associations: Option<&FunctionAssociations>,
) -> Vec<FunctionAssociationShape> {
    let mut parsed: Vec<FunctionAssociationShape> = associations
        .map(|a| a.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            let event_type = match a.event_type() {
                EventType::ViewerRequest => FunctionEventType::ViewerRequest,
                EventType::ViewerResponse => FunctionEventType::ViewerResponse,
                _ => return None,
            };
            Some(FunctionAssociationShape {
                event_type,
                function_arn: a.function_arn().to_owned(),
            })
        })
        .collect();
    parsed.sort_by_key(|a| a.event_type);
    parsed
}

// ------------------------------------------------- everything else managed

fn render_error_response(response: &ErrorResponseShape) -> Result<CustomErrorResponse, BuildError> {
    CustomErrorResponse::builder()
        .error_code(response.error_code)
        .set_response_code(response.response_code.map(|code| code.to_string()))
        .set_response_page_path(response.response_page_path.clone())
        .set_error_caching_min_ttl(response.error_caching_min_ttl)
        .build()
}

fn parse_error_response(response: &CustomErrorResponse) -> ErrorResponseShape {
    ErrorResponseShape {
        error_code: response.error_code(),
        response_code: response
            .response_code()
            .and_then(|code| code.trim().parse().ok()),
        response_page_path: response.response_page_path().and_then(some_if_not_empty),
        error_caching_min_ttl: response.error_caching_min_ttl(),
    }
}

fn render_certificate(
    certificate_arn: Option<&str>,
    minimum_protocol_version: Option<MinimumProtocolVersion>,
) -> ViewerCertificate {
    match certificate_arn {
        None => ViewerCertificate::builder()
            .cloud_front_default_certificate(true)
            .build(),
        Some(arn) => ViewerCertificate::builder()
            .cloud_front_default_certificate(false)
            .acm_certificate_arn(arn)
            .ssl_support_method(SslSupportMethod::SniOnly)
            .set_minimum_protocol_version(
                minimum_protocol_version.map(minimum_protocol_version_to_sdk),
            )
            .build(),
    }
}

fn minimum_protocol_version_to_sdk(version: MinimumProtocolVersion) -> SdkMinimumProtocolVersion {
    match version {
        MinimumProtocolVersion::TlsV1 => SdkMinimumProtocolVersion::TlSv1,
        MinimumProtocolVersion::TlsV1_2016 => SdkMinimumProtocolVersion::TlSv12016,
        MinimumProtocolVersion::TlsV1_1_2016 => SdkMinimumProtocolVersion::TlSv112016,
        MinimumProtocolVersion::TlsV1_2_2018 => SdkMinimumProtocolVersion::TlSv122018,
        MinimumProtocolVersion::TlsV1_2_2019 => SdkMinimumProtocolVersion::TlSv122019,
        MinimumProtocolVersion::TlsV1_2_2021 => SdkMinimumProtocolVersion::TlSv122021,
        MinimumProtocolVersion::TlsV1_2_2025 => SdkMinimumProtocolVersion::TlSv122025,
        MinimumProtocolVersion::TlsV1_3_2025 => SdkMinimumProtocolVersion::TlSv132025,
    }
}

fn minimum_protocol_version_from_sdk(
    version: &SdkMinimumProtocolVersion,
) -> Option<MinimumProtocolVersion> {
    Some(match version {
        SdkMinimumProtocolVersion::TlSv1 => MinimumProtocolVersion::TlsV1,
        SdkMinimumProtocolVersion::TlSv12016 => MinimumProtocolVersion::TlsV1_2016,
        SdkMinimumProtocolVersion::TlSv112016 => MinimumProtocolVersion::TlsV1_1_2016,
        SdkMinimumProtocolVersion::TlSv122018 => MinimumProtocolVersion::TlsV1_2_2018,
        SdkMinimumProtocolVersion::TlSv122019 => MinimumProtocolVersion::TlsV1_2_2019,
        SdkMinimumProtocolVersion::TlSv122021 => MinimumProtocolVersion::TlsV1_2_2021,
        SdkMinimumProtocolVersion::TlSv122025 => MinimumProtocolVersion::TlsV1_2_2025,
        SdkMinimumProtocolVersion::TlSv132025 => MinimumProtocolVersion::TlsV1_3_2025,
        _ => return None,
    })
}

fn render_geo_restriction(geo: Option<&GeoRestrictionShape>) -> Result<GeoRestriction, BuildError> {
    let (restriction_type, locations) = match geo {
        None => (GeoRestrictionType::None, Vec::new()),
        Some(geo) => (
            match geo.kind {
                GeoRestrictionKind::Allow => GeoRestrictionType::Whitelist,
                GeoRestrictionKind::Deny => GeoRestrictionType::Blacklist,
            },
            geo.locations.clone(),
        ),
    };
    GeoRestriction::builder()
        .restriction_type(restriction_type)
        .quantity(quantity(&locations))
        .set_items(non_empty(locations))
        .build()
}

fn parse_geo_restriction(geo: &GeoRestriction) -> Option<GeoRestrictionShape> {
    let kind = match geo.restriction_type() {
        GeoRestrictionType::Whitelist => GeoRestrictionKind::Allow,
        GeoRestrictionType::Blacklist => GeoRestrictionKind::Deny,
        _ => return None,
    };
    Some(GeoRestrictionShape {
        kind,
        locations: sorted(geo.items().to_vec()),
    })
}

fn render_logging(logging: Option<&LoggingShape>) -> LoggingConfig {
    match logging {
        None => LoggingConfig::builder()
            .enabled(false)
            .include_cookies(false)
            .bucket("")
            .prefix("")
            .build(),
        Some(logging) => LoggingConfig::builder()
            .enabled(true)
            .include_cookies(logging.include_cookies)
            .bucket(&logging.bucket_domain)
            .prefix(&logging.prefix)
            .build(),
    }
}

fn parse_logging(logging: &LoggingConfig) -> Option<LoggingShape> {
    logging.enabled().then(|| LoggingShape {
        bucket_domain: logging.bucket().to_owned(),
        prefix: logging.prefix().to_owned(),
        include_cookies: logging.include_cookies(),
    })
}

fn price_class_to_sdk(price_class: PriceClass) -> SdkPriceClass {
    match price_class {
        PriceClass::All => SdkPriceClass::PriceClassAll,
        PriceClass::Class200 => SdkPriceClass::PriceClass200,
        PriceClass::Class100 => SdkPriceClass::PriceClass100,
    }
}

fn price_class_from_sdk(price_class: Option<&SdkPriceClass>) -> PriceClass {
    match price_class {
        Some(SdkPriceClass::PriceClass100) => PriceClass::Class100,
        Some(SdkPriceClass::PriceClass200) => PriceClass::Class200,
        _ => PriceClass::All,
    }
}

fn quantity<T>(items: &[T]) -> i32 {
    i32::try_from(items.len()).unwrap_or(i32::MAX)
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn some_if_not_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
    const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
    const SIGNER_V3: &str =
        "arn:aws:lambda:us-east-1:123456789012:function:urlguard-books-books-signer:3";

    fn url_origin(name: &str, oac: &str) -> OriginShape {
        OriginShape {
            id: format!("pfu-{name}"),
            domain_name: format!("{name}abcdefghijklmnop.lambda-url.eu-west-1.on.aws"),
            origin_path: String::new(),
            kind: OriginKind::Https { port: 443 },
            origin_access_control_id: Some(oac.to_owned()),
            custom_headers: Vec::new(),
        }
    }

    fn url_behavior(
        name: &str,
        methods: &[HttpMethod],
        signer: Option<EdgeAssociation>,
    ) -> BehaviorShape {
        BehaviorShape {
            path_pattern: Some(format!("/{name}*")),
            target_origin_id: format!("pfu-{name}"),
            allowed_methods: methods.to_vec(),
            cache_policy_id: CACHING_DISABLED.to_owned(),
            origin_request_policy_id: Some(ALL_VIEWER_EXCEPT_HOST_HEADER.to_owned()),
            response_headers_policy_id: None,
            edge_signer: signer,
            function_associations: Vec::new(),
        }
    }

    fn rich_shape() -> DistributionShape {
        use HttpMethod::*;
        DistributionShape {
            caller_reference: "urlguard/urlguard/books/books".into(),
            comment: "books SPA and API".into(),
            enabled: true,
            price_class: PriceClass::Class100,
            default_root_object: "index.html".into(),
            aliases: vec!["books.example.com".into(), "www.books.example.com".into()],
            certificate_arn: Some(
                "arn:aws:acm:us-east-1:123456789012:certificate/0d0c0f2a-1111-2222-3333-444455556666".into(),
            ),
            minimum_protocol_version: Some(MinimumProtocolVersion::TlsV1_2_2019),
            geo_restriction: Some(GeoRestrictionShape {
                kind: GeoRestrictionKind::Deny,
                locations: vec!["KP".into(), "RU".into()],
            }),
            web_acl_id: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/books/0d0c0f2a-1111-2222-3333-444455556666"
                .into(),
            logging: Some(LoggingShape {
                bucket_domain: "books-logs.s3.amazonaws.com".into(),
                prefix: "cloudfront/".into(),
                include_cookies: true,
            }),
            origins: vec![
                OriginShape {
                    id: "default".into(),
                    domain_name: "books-spa.s3.eu-west-1.amazonaws.com".into(),
                    origin_path: "/site".into(),
                    kind: OriginKind::S3,
                    origin_access_control_id: Some("E1S3OACEXAMPLE".into()),
                    custom_headers: vec![
                        CustomHeaderShape {
                            name: "x-books-edge".into(),
                            value: "1".into(),
                        },
                        CustomHeaderShape {
                            name: "X-Origin-Verify".into(),
                            value: "s3cr3t".into(),
                        },
                    ],
                },
                url_origin("get-books", "E2LAMBDAOACEXAMPLE"),
                url_origin("get-book", "E2LAMBDAOACEXAMPLE"),
                url_origin("create-book", "E2LAMBDAOACEXAMPLE"),
            ],
            default_behavior: BehaviorShape {
                path_pattern: None,
                target_origin_id: "default".into(),
                allowed_methods: vec![Get, Head],
                cache_policy_id: CACHING_OPTIMIZED.into(),
                origin_request_policy_id: None,
                response_headers_policy_id: Some("67f7725c-6f97-4210-82d7-5512b31e9d03".into()),
                edge_signer: None,
                function_associations: vec![
                    FunctionAssociationShape {
                        event_type: FunctionEventType::ViewerRequest,
                        function_arn: "arn:aws:cloudfront::123456789012:function/index-html".into(),
                    },
                    FunctionAssociationShape {
                        event_type: FunctionEventType::ViewerResponse,
                        function_arn: "arn:aws:cloudfront::123456789012:function/hsts".into(),
                    },
                ],
            },
            behaviors: vec![
                url_behavior(
                    "get-books",
                    &[Get, Head, Options],
                    Some(EdgeAssociation {
                        version_arn: SIGNER_V3.into(),
                        include_body: false,
                    }),
                ),
                url_behavior(
                    "get-book",
                    &[Get, Head],
                    Some(EdgeAssociation {
                        version_arn: SIGNER_V3.into(),
                        include_body: true,
                    }),
                ),
                url_behavior("create-book", &[Get, Head, Options, Put, Patch, Post, Delete], None),
            ],
            custom_error_responses: vec![
                ErrorResponseShape {
                    error_code: 403,
                    response_code: Some(200),
                    response_page_path: Some("/index.html".into()),
                    error_caching_min_ttl: Some(10),
                },
                ErrorResponseShape {
                    error_code: 404,
                    response_code: None,
                    response_page_path: None,
                    error_caching_min_ttl: None,
                },
            ],
        }
    }

    #[test]
    fn a_rich_shape_round_trips() {
        let shape = rich_shape();
        let config = render(&shape).expect("renders");
        assert_eq!(parse(&config), shape);
    }

    #[test]
    fn a_minimal_shape_round_trips() {
        let shape = DistributionShape {
            caller_reference: "urlguard/urlguard/books/minimal".into(),
            origins: vec![OriginShape {
                id: "default".into(),
                domain_name: "example.com".into(),
                origin_path: String::new(),
                kind: OriginKind::Https { port: 8443 },
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
        };
        let config = render(&shape).expect("renders");
        assert_eq!(parse(&config), shape);
        assert_eq!(config.cache_behaviors().map(|b| b.quantity()), Some(0));
        assert!(
            config
                .cache_behaviors()
                .is_some_and(|b| b.items().is_empty())
        );
        assert_eq!(
            config
                .viewer_certificate()
                .and_then(|c| c.cloud_front_default_certificate()),
            Some(true)
        );
        let logging = config.logging().expect("logging is always written");
        assert!(!logging.enabled());
        assert_eq!((logging.bucket(), logging.prefix()), ("", ""));
    }

    #[test]
    fn fixed_settings_are_always_written() {
        let config = render(&rich_shape()).expect("renders");
        assert_eq!(config.http_version(), Some(&HttpVersion::Http2and3));
        assert_eq!(config.is_ipv6_enabled(), Some(true));
        assert_eq!(config.price_class(), Some(&SdkPriceClass::PriceClass100));

        let certificate = config.viewer_certificate().expect("certificate");
        assert_eq!(
            certificate.ssl_support_method(),
            Some(&SslSupportMethod::SniOnly)
        );
        assert_eq!(
            certificate.minimum_protocol_version(),
            Some(&SdkMinimumProtocolVersion::TlSv122019)
        );

        let origins = config.origins().expect("origins");
        assert_eq!(origins.quantity(), 4);
        let s3 = &origins.items()[0];
        assert_eq!(
            s3.s3_origin_config().map(|c| c.origin_access_identity()),
            Some("")
        );
        assert_eq!(s3.origin_access_control_id(), Some("E1S3OACEXAMPLE"));
        let url = &origins.items()[1];
        let custom = url.custom_origin_config().expect("custom origin");
        assert_eq!((custom.http_port(), custom.https_port()), (80, 443));
        assert_eq!(
            custom.origin_protocol_policy(),
            &OriginProtocolPolicy::HttpsOnly
        );
        assert_eq!(
            custom.origin_ssl_protocols().map(|p| p.items().to_vec()),
            Some(vec![SslProtocol::TlSv12])
        );
        assert_eq!(custom.origin_read_timeout(), Some(30));
        assert_eq!(custom.origin_keepalive_timeout(), Some(5));
        assert_eq!(url.connection_attempts(), Some(3));
        assert_eq!(url.connection_timeout(), Some(10));
        assert_eq!(url.custom_headers().map(|h| h.quantity()), Some(0));
        let headers = s3.custom_headers().expect("custom headers");
        assert_eq!(headers.quantity(), 2);
        assert_eq!(headers.items()[1].header_value(), "s3cr3t");

        let behaviors = config.cache_behaviors().expect("behaviors");
        let all = &behaviors.items()[2];
        assert_eq!(
            all.viewer_protocol_policy(),
            &ViewerProtocolPolicy::RedirectToHttps
        );
        assert_eq!(all.compress(), Some(true));
        assert_eq!(all.smooth_streaming(), Some(false));
        assert_eq!(all.field_level_encryption_id(), Some(""));
        assert_eq!(all.function_associations().map(|f| f.quantity()), Some(0));
        assert_eq!(
            all.trusted_signers().map(|t| (t.enabled(), t.quantity())),
            Some((false, 0))
        );
        assert_eq!(
            all.trusted_key_groups()
                .map(|t| (t.enabled(), t.quantity())),
            Some((false, 0))
        );
        let methods = all.allowed_methods().expect("methods");
        assert_eq!(methods.quantity(), 7);
        assert_eq!(
            methods.cached_methods().map(|c| c.items().to_vec()),
            Some(vec![Method::Get, Method::Head])
        );
        assert_eq!(
            all.lambda_function_associations().map(|a| a.quantity()),
            Some(0)
        );

        let signed = &behaviors.items()[1];
        let association = &signed
            .lambda_function_associations()
            .expect("associations")
            .items()[0];
        assert_eq!(association.event_type(), &EventType::OriginRequest);
        assert_eq!(association.include_body(), Some(true));
        assert_eq!(association.lambda_function_arn(), SIGNER_V3);
    }

    #[test]
    fn the_default_behavior_geo_restriction_and_security_policy_are_written_as_cloudfront_spells_them()
     {
        let config = render(&rich_shape()).expect("renders");
        let geo = config
            .restrictions()
            .and_then(|r| r.geo_restriction())
            .expect("geo restriction");
        assert_eq!(geo.restriction_type(), &GeoRestrictionType::Blacklist);
        assert_eq!(
            (geo.quantity(), geo.items()),
            (2, &["KP".to_owned(), "RU".to_owned()][..])
        );
        let functions = config
            .default_cache_behavior()
            .and_then(|b| b.function_associations())
            .expect("function associations");
        assert_eq!(functions.quantity(), 2);
        assert_eq!(functions.items()[0].event_type(), &EventType::ViewerRequest);
        assert_eq!(
            functions.items()[1].function_arn(),
            "arn:aws:cloudfront::123456789012:function/hsts"
        );

        let mut allow = rich_shape();
        allow.geo_restriction = Some(GeoRestrictionShape {
            kind: GeoRestrictionKind::Allow,
            locations: vec!["DE".into()],
        });
        allow.certificate_arn = None;
        allow.minimum_protocol_version = None;
        let config = render(&allow).expect("renders");
        assert_eq!(
            config
                .restrictions()
                .and_then(|r| r.geo_restriction())
                .map(|g| g.restriction_type()),
            Some(&GeoRestrictionType::Whitelist)
        );
        assert_eq!(
            config
                .viewer_certificate()
                .and_then(|c| c.minimum_protocol_version()),
            None,
            "the default certificate takes no security policy"
        );
        assert_eq!(parse(&config), allow);

        let mut none = rich_shape();
        none.geo_restriction = None;
        let config = render(&none).expect("renders");
        let geo = config
            .restrictions()
            .and_then(|r| r.geo_restriction())
            .expect("geo restriction");
        assert_eq!(
            (geo.restriction_type(), geo.quantity()),
            (&GeoRestrictionType::None, 0)
        );
    }

    #[test]
    fn sets_read_back_in_the_plans_order_whatever_cloudfronts() {
        let shape = rich_shape();
        let mut config = render(&shape).expect("renders");
        if let Some(geo) = config
            .restrictions
            .as_mut()
            .and_then(|r| r.geo_restriction.as_mut())
        {
            geo.items.as_mut().expect("countries").reverse();
        }
        if let Some(origins) = config.origins.as_mut() {
            origins.items[0]
                .custom_headers
                .as_mut()
                .and_then(|h| h.items.as_mut())
                .expect("headers")
                .reverse();
        }
        if let Some(functions) = config
            .default_cache_behavior
            .as_mut()
            .and_then(|b| b.function_associations.as_mut())
        {
            functions.items.as_mut().expect("functions").reverse();
        }
        assert_eq!(parse(&config), shape);
    }

    #[test]
    fn a_security_policy_reported_for_the_default_certificate_is_not_read() {
        let mut shape = rich_shape();
        shape.certificate_arn = None;
        shape.minimum_protocol_version = None;
        let mut config = render(&shape).expect("renders");
        // CloudFront reports TLSv1 for its default certificate.
        config.viewer_certificate = Some(
            ViewerCertificate::builder()
                .cloud_front_default_certificate(true)
                .minimum_protocol_version(SdkMinimumProtocolVersion::TlSv1)
                .build(),
        );
        assert_eq!(parse(&config).minimum_protocol_version, None);
    }

    #[test]
    fn methods_are_written_and_read_sorted() {
        use HttpMethod::*;
        let mut shape = rich_shape();
        shape.behaviors[0].allowed_methods = vec![Options, Head, Get];
        let config = render(&shape).expect("renders");
        let written = config.cache_behaviors().expect("behaviors").items()[0]
            .allowed_methods()
            .expect("methods")
            .items()
            .to_vec();
        assert_eq!(written, vec![Method::Get, Method::Head, Method::Options]);
        assert_eq!(
            parse(&config).behaviors[0].allowed_methods,
            vec![Get, Head, Options]
        );
    }

    #[test]
    fn empty_strings_read_as_none_and_foreign_associations_are_ignored() {
        let behavior = CacheBehavior::builder()
            .path_pattern("/x")
            .target_origin_id("o")
            .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
            .origin_request_policy_id("")
            .response_headers_policy_id("")
            .lambda_function_associations(
                LambdaFunctionAssociations::builder()
                    .quantity(1)
                    .items(
                        LambdaFunctionAssociation::builder()
                            .lambda_function_arn(
                                "arn:aws:lambda:us-east-1:123456789012:function:other:1",
                            )
                            .event_type(EventType::ViewerRequest)
                            .build()
                            .expect("association"),
                    )
                    .build()
                    .expect("associations"),
            )
            .build()
            .expect("behavior");
        let parsed = parse_behavior(&behavior);
        assert_eq!(parsed.origin_request_policy_id, None);
        assert_eq!(parsed.response_headers_policy_id, None);
        assert_eq!(parsed.edge_signer, None);
        assert!(parsed.allowed_methods.is_empty());
    }
}
