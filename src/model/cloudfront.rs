//! CloudFront shapes: the part of a `DistributionConfig` urlguard manages,
//! origin access controls, and invalidations.
//!
//! urlguard renders a [`DistributionShape`] from the resources and compares
//! it with the shape read back from CloudFront; the adapter fills in the
//! fixed settings every urlguard distribution has (HTTPS only to viewers and
//! origins, HTTP/2 and HTTP/3, IPv6).
//!
//! Lists CloudFront treats as sets are kept in one order, the plan's and
//! the parser's alike, so that the same settings compare equal however
//! CloudFront orders them: aliases and countries sorted, custom headers by
//! lower-case name, CloudFront Functions by event type.

use crate::api::{FunctionEventType, HttpMethod, MinimumProtocolVersion, PriceClass};

/// How long CloudFront caches an error response when a custom error
/// response sets no `ErrorCachingMinTTL`: it reads back with this value
/// (CloudFront Developer Guide, "Control how long CloudFront caches
/// errors": "a default duration of 10 seconds").
pub const DEFAULT_ERROR_CACHING_MIN_TTL: i64 = 10;

/// The managed part of a distribution's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistributionShape {
    /// The deterministic `CallerReference`.
    pub caller_reference: String,
    /// Free text.
    pub comment: String,
    /// Whether viewers are served.
    pub enabled: bool,
    /// Edge locations.
    pub price_class: PriceClass,
    /// Root object, empty for none.
    pub default_root_object: String,
    /// Alternate domain names.
    pub aliases: Vec<String>,
    /// ACM certificate; `None` uses the CloudFront default certificate.
    pub certificate_arn: Option<String>,
    /// The viewer security policy, with `certificate_arn` only (CloudFront
    /// ignores it on the default certificate).
    pub minimum_protocol_version: Option<MinimumProtocolVersion>,
    /// Countries served or refused; `None` restricts nothing.
    pub geo_restriction: Option<GeoRestrictionShape>,
    /// WAF web ACL ARN, empty for none.
    pub web_acl_id: String,
    /// Access logging, `None` when off.
    pub logging: Option<LoggingShape>,
    /// Every origin: the default origin first, then one per URL by id.
    pub origins: Vec<OriginShape>,
    /// The default cache behavior.
    pub default_behavior: BehaviorShape,
    /// One cache behavior per URL, in precedence order.
    pub behaviors: Vec<BehaviorShape>,
    /// Custom error responses, by error code.
    pub custom_error_responses: Vec<ErrorResponseShape>,
}

impl DistributionShape {
    /// Every Lambda@Edge version ARN the configuration references.
    pub fn associated_versions(&self) -> Vec<&str> {
        std::iter::once(&self.default_behavior)
            .chain(&self.behaviors)
            .filter_map(|b| b.edge_signer.as_ref().map(|e| e.version_arn.as_str()))
            .collect()
    }

    /// Every origin access control id the configuration references.
    pub fn origin_access_control_ids(&self) -> Vec<&str> {
        self.origins
            .iter()
            .filter_map(|o| o.origin_access_control_id.as_deref())
            .collect()
    }
}

/// A geo restriction that restricts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoRestrictionShape {
    /// Allow or deny the listed countries.
    pub kind: GeoRestrictionKind,
    /// ISO 3166-1 alpha-2 codes, sorted, at least one.
    pub locations: Vec<String>,
}

/// What a geo restriction does with its countries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoRestrictionKind {
    /// Only they are served (CloudFront's `whitelist`).
    Allow,
    /// They are refused (CloudFront's `blacklist`).
    Deny,
}

/// Access logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingShape {
    /// `<bucket>.s3.amazonaws.com`.
    pub bucket_domain: String,
    /// Key prefix.
    pub prefix: String,
    /// Whether cookies are logged.
    pub include_cookies: bool,
}

/// How CloudFront talks to an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginKind {
    /// An S3 bucket's REST endpoint.
    S3,
    /// A custom HTTPS origin (also a function URL).
    Https {
        /// The HTTPS port.
        port: i32,
    },
}

/// One origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginShape {
    /// Unique within the distribution.
    pub id: String,
    /// The origin's host.
    pub domain_name: String,
    /// Path prefix, empty for none.
    pub origin_path: String,
    /// S3 or HTTPS.
    pub kind: OriginKind,
    /// The origin access control that signs requests to it.
    pub origin_access_control_id: Option<String>,
    /// Headers CloudFront adds to requests to it, by lower-case name.
    pub custom_headers: Vec<CustomHeaderShape>,
}

/// An origin custom header.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomHeaderShape {
    /// The name, as written.
    pub name: String,
    /// The value.
    pub value: String,
}

/// Without the value, which is often a secret the origin checks: a diff
/// that `plan` prints or an event that names it shows the name alone.
impl std::fmt::Debug for CustomHeaderShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: <hidden>", self.name)
    }
}

/// A cache behavior (the default one has no path pattern).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BehaviorShape {
    /// `None` for the default behavior.
    pub path_pattern: Option<String>,
    /// The origin it routes to.
    pub target_origin_id: String,
    /// Allowed methods, sorted.
    pub allowed_methods: Vec<HttpMethod>,
    /// Cache policy id.
    pub cache_policy_id: String,
    /// Origin request policy id, if any.
    pub origin_request_policy_id: Option<String>,
    /// Response headers policy id, if any.
    pub response_headers_policy_id: Option<String>,
    /// The signer on origin-request, if any.
    pub edge_signer: Option<EdgeAssociation>,
    /// CloudFront Functions, by event type.
    pub function_associations: Vec<FunctionAssociationShape>,
}

/// A CloudFront Function on a viewer event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionAssociationShape {
    /// The event it runs on.
    pub event_type: FunctionEventType,
    /// The function's ARN.
    pub function_arn: String,
}

/// A Lambda@Edge origin-request association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeAssociation {
    /// A numbered version's ARN.
    pub version_arn: String,
    /// Whether the body reaches the function.
    pub include_body: bool,
}

/// A custom error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponseShape {
    /// The origin status replaced.
    pub error_code: i32,
    /// The status sent instead, if any.
    pub response_code: Option<i32>,
    /// The page sent instead, if any.
    pub response_page_path: Option<String>,
    /// Error caching TTL; the desired shape always has one (CloudFront's
    /// [`DEFAULT_ERROR_CACHING_MIN_TTL`] when the spec sets none), since
    /// that is what CloudFront reads back.
    pub error_caching_min_ttl: Option<i64>,
}

/// A distribution as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionObserved {
    /// The distribution id.
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// `d111111abcdef8.cloudfront.net`.
    pub domain_name: String,
    /// `InProgress` or `Deployed`.
    pub status: String,
    /// The ETag for `IfMatch`.
    pub etag: String,
    /// The managed part of the configuration.
    pub config: DistributionShape,
}

/// CloudFront's status of a distribution whose last change is live. An
/// AWS value, not one of urlguard's reasons.
pub const DEPLOYED: &str = "Deployed";

/// CloudFront's status of a distribution while a change deploys.
pub const IN_PROGRESS: &str = "InProgress";

impl DistributionObserved {
    /// Whether CloudFront finished deploying the last change.
    pub fn is_deployed(&self) -> bool {
        is_deployed(&self.status)
    }
}

/// Whether a distribution with CloudFront status `status` is deployed.
pub fn is_deployed(status: &str) -> bool {
    status == DEPLOYED
}

/// What an origin access control signs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OacOriginType {
    /// S3 bucket origins.
    S3,
    /// Lambda function URL origins.
    Lambda,
}

/// An origin access control as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OacObserved {
    /// Its id.
    pub id: String,
    /// Its name (unique per account).
    pub name: String,
    /// Its description: where urlguard records the owner, OACs taking no
    /// tags (`Owner::oac_description`).
    pub description: String,
    /// What it signs for.
    pub origin_type: OacOriginType,
    /// Whether it signs always (what urlguard sets).
    pub signs_always: bool,
}

/// An invalidation as CloudFront reports it (`GetInvalidation`,
/// `CreateInvalidation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationObserved {
    /// CloudFront's id, such as `I2J0I21PCUYOIK`.
    pub id: String,
    /// `InProgress` or `Completed`.
    pub status: String,
    /// The `CallerReference` it was created with.
    pub caller_reference: String,
    /// Its paths.
    pub paths: Vec<String>,
}

impl InvalidationObserved {
    /// Whether CloudFront has finished it.
    pub fn is_completed(&self) -> bool {
        self.status == INVALIDATION_COMPLETED
    }
}

/// CloudFront's status of a finished invalidation.
pub const INVALIDATION_COMPLETED: &str = "Completed";
