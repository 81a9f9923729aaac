//! `EdgeDistribution`: one CloudFront distribution, its default origin, and
//! the Lambda@Edge signer that is the only way into the function URLs
//! attached to it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::adopt::Adopt;
use super::common::{
    DeletionPolicy, ExportedParameter, ManagementPolicy, REGION_PATTERN, SSM_PARAMETER_MAX,
    SSM_PARAMETER_PATTERN, SSM_RESERVED_RULE, default_ssm_region,
};
use super::config_map_export::ConfigMapExport;
use super::default_behavior::DefaultBehavior;
use super::geo_restriction::GeoRestriction;
use super::origin_headers::{
    DISTINCT_HEADERS_RULE, HEADERS_SIZE_RULE, MAX_ORIGIN_CUSTOM_HEADERS, OriginCustomHeader,
};
use super::viewer_tls::ViewerTls;

/// A CloudFront distribution that fronts static assets and the
/// `ProtectedFunctionUrl`s that reference it.
#[allow(
    clippy::duplicated_attributes,
    reason = "every printcolumn(...) repeats `type_ = \"string\"`; the lint reads kube's nested lists as duplicates"
)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "urlguard.io",
    version = "v1alpha1",
    kind = "EdgeDistribution",
    namespaced,
    status = "EdgeDistributionStatus",
    derive = "PartialEq",
    shortname = "ed",
    category = "urlguard",
    doc = "A CloudFront distribution that is the only way into the Lambda function URLs attached to it.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#
    ),
    printcolumn(name = "Protection", type_ = "string", json_path = ".spec.protection"),
    printcolumn(
        name = "Distribution",
        type_ = "string",
        json_path = ".status.distributionId"
    ),
    printcolumn(name = "Domain", type_ = "string", json_path = ".status.domainName"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.aliases) || size(self.aliases) == 0 || has(self.certificateArn)")
    .message("spec.certificateArn is required when spec.aliases is set: CloudFront serves an alias only with an ACM certificate that covers it")
    .field_path(".certificateArn")
    .reason(Reason::FieldValueRequired))]
#[x_kube(validation = Rule::new("!has(self.viewerTls) || has(self.certificateArn)")
    .message("spec.viewerTls needs spec.certificateArn: with CloudFront's default *.cloudfront.net certificate CloudFront always uses its own TLSv1 policy")
    .field_path(".viewerTls"))]
pub struct EdgeDistributionSpec {
    /// How CloudFront proves itself to the function URLs. `EdgeSigner`
    /// (default): a Lambda@Edge function signs every origin request with
    /// SigV4, request bodies included, for every method. `OriginAccessControl`:
    /// CloudFront's native origin access control signs instead; no edge
    /// function, but PUT and POST callers must send `x-amz-content-sha256`
    /// themselves.
    #[serde(default)]
    pub protection: Protection,

    /// Where requests that match no `ProtectedFunctionUrl` path go: usually the
    /// static assets of a single-page app.
    pub default_origin: DefaultOrigin,

    /// The cache behavior of requests no `ProtectedFunctionUrl` path
    /// matches (they go to the default origin): its cache, origin request
    /// and response headers policies, and its CloudFront Functions.
    #[serde(default)]
    pub default_behavior: DefaultBehavior,

    /// The object CloudFront returns for a request to the root URL, such as
    /// `index.html`. No leading slash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^/].*$"))]
    pub default_root_object: Option<String>,

    /// Responses CloudFront sends instead of an origin error, for example
    /// 404 → `/` with status 200 so a single-page app handles its own routes.
    /// At most one entry per error code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 11), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["errorCode"]))]
    pub custom_error_responses: Vec<CustomErrorResponse>,

    /// Standard access logs written to an S3 bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,

    /// Alternate domain names (CNAMEs) the distribution answers for. Needs
    /// `certificateArn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 100),
        inner(length(min = 1, max = 253), regex(pattern = r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")),
        extend("x-kubernetes-list-type" = "set")
    )]
    pub aliases: Vec<String>,

    /// ARN of the ACM certificate (in `us-east-1`, as CloudFront requires)
    /// that covers `aliases`. Without it the distribution uses the
    /// `*.cloudfront.net` certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]{1,64}$")
    )]
    pub certificate_arn: Option<String>,

    /// The viewer security policy (oldest TLS version and ciphers) for the
    /// aliases. Needs `certificateArn`; without it `TLSv1.2_2021`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_tls: Option<ViewerTls>,

    /// Which edge locations serve the distribution; fewer locations cost
    /// less.
    #[serde(default)]
    pub price_class: PriceClass,

    /// ARN of an AWS WAF (v2, scope CLOUDFRONT) web ACL to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(
            pattern = r"^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/[a-zA-Z0-9_-]{1,128}/[0-9a-f-]{36}$"
        )
    )]
    pub web_acl_arn: Option<String>,

    /// Countries whose viewers are served (`Allow`) or refused with 403
    /// (`Deny`). Without it, every country is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_restriction: Option<GeoRestriction>,

    /// Whether the distribution accepts viewer requests. Defaults to true.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,

    /// Free text shown in the CloudFront console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub comment: Option<String>,

    /// Tags for the distribution (the other AWS resources urlguard creates
    /// carry only its owner tag). The `urlguard.io/` prefix is reserved for
    /// the owner tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 40))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('urlguard.io/') && size(k) <= 128 && size(self[k]) <= 256)")
        .message("spec.tags: keys may not start with 'urlguard.io/' (reserved for the owner tag); keys are at most 128 and values at most 256 characters"))]
    pub tags: BTreeMap<String, String>,

    /// The Lambda@Edge signer (used when `protection` is `EdgeSigner`).
    #[serde(default)]
    pub signer: SignerSettings,

    /// Optional SSM parameters that publish the distribution's id and domain
    /// name for other stacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssm_export: Option<DistributionSsmExport>,

    /// A ConfigMap in this namespace where the controller publishes the
    /// distribution's id, ARN and domain and the protected URL of each
    /// attached `ProtectedFunctionUrl`, for workloads to read
    /// (`configMapKeyRef`, `envFrom`). Owned by this object, so it goes with
    /// it; removed from the spec, the ConfigMap goes too. `{}` takes the
    /// default name. The CLI has no cluster and ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_export: Option<ConfigMapExport>,

    /// Paths to remove from CloudFront's caches after a deployment of the
    /// default origin's content: one invalidation each time `revision`
    /// changes, made once the distribution is deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation: Option<Invalidation>,

    /// Take over an existing distribution (made by another tool) instead
    /// of creating one: urlguard tags it with its owner tag and converges
    /// it to this spec, removing behaviors and origins the spec does not
    /// declare (`urlguard plan` shows them first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.distributionId == oldSelf.distributionId")
        .message("spec.adopt.distributionId is immutable: delete this EdgeDistribution (deletionPolicy Retain hands the distribution back) and create another"))]
    pub adopt: Option<Adopt>,

    /// `Delete` removes the distribution, its origin access controls and
    /// the signer when this resource is deleted; `Retain` leaves the
    /// distribution and signer in AWS (an adopted one without urlguard's
    /// behaviors and owner tag). Defaults to `Delete`, and to `Retain` with
    /// `adopt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "optional_deletion_policy")]
    pub deletion_policy: Option<DeletionPolicy>,

    /// `Manage` (default): urlguard makes AWS match this spec. `Observe`:
    /// urlguard reads AWS and reports how it differs from the spec (`Ready`
    /// with reason `Observed` when it matches, `Drifted` naming what a
    /// managed pass would change), but writes nothing to AWS for this
    /// distribution, its signer or the URLs attached to it, and deleting
    /// it leaves AWS as it is. Switching back to `Manage` converges.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

impl EdgeDistributionSpec {
    /// The deletion policy in force: as set, otherwise `Retain` for an
    /// adopted distribution (it existed before urlguard, which hands it
    /// back) and `Delete` for one urlguard created.
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.deletion_policy.unwrap_or(if self.adopt.is_some() {
            DeletionPolicy::Retain
        } else {
            DeletionPolicy::Delete
        })
    }
}

/// The schema of `deletionPolicy`: the enum, unset allowed. Inlined,
/// because an optional enum's own description would replace the field's.
fn optional_deletion_policy(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["Delete", "Retain"],
        "nullable": true,
    })
}

fn enabled_by_default() -> bool {
    true
}

/// How CloudFront authenticates to function URL origins.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum Protection {
    /// A Lambda@Edge origin-request function signs each request with SigV4.
    #[default]
    EdgeSigner,
    /// CloudFront's origin access control for Lambda function URL origins.
    OriginAccessControl,
}

/// The origin of the default cache behavior: exactly one of `s3` or `custom`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.s3) != has(self.custom)")
    .message("spec.defaultOrigin must set exactly one of s3 or custom"))]
pub struct DefaultOrigin {
    /// An S3 bucket, read through an S3 origin access control that urlguard
    /// manages (the bucket policy must allow `cloudfront.amazonaws.com` for
    /// this distribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Origin>,
    /// Any HTTPS origin, such as a load balancer or another CDN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomOrigin>,
}

/// An S3 bucket origin.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3Origin {
    /// The bucket name (not its domain).
    #[schemars(
        length(min = 3, max = 63),
        regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    )]
    pub bucket_name: String,
    /// The bucket's region; when set, CloudFront uses the regional endpoint
    /// `<bucket>.s3.<region>.amazonaws.com`, which avoids redirects for new
    /// buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = REGION_PATTERN))]
    pub region: Option<String>,
    /// A folder in the bucket to serve from, such as `/site`. No trailing
    /// slash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255), regex(pattern = r"^/.*[^/]$"))]
    pub origin_path: Option<String>,
    /// Headers CloudFront adds to every request to this origin, such as a
    /// secret it checks (at most 10; names CloudFront refuses to add, such
    /// as `Host` or `X-Amz-*`, are refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = MAX_ORIGIN_CUSTOM_HEADERS),
        extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"])
    )]
    #[x_kube(validation = Rule::new(DISTINCT_HEADERS_RULE)
        .message("spec.defaultOrigin.s3.customHeaders: each header name at most once, in any case (HTTP header names are case-insensitive)"))]
    #[x_kube(validation = Rule::new(HEADERS_SIZE_RULE)
        .message("spec.defaultOrigin.s3.customHeaders: CloudFront takes at most 10,240 characters of header names and values together"))]
    pub custom_headers: Vec<OriginCustomHeader>,
}

/// A custom HTTPS origin.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CustomOrigin {
    /// The origin's DNS name, such as `app.example.com`.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    )]
    pub domain_name: String,
    /// A path prefix CloudFront adds to every request, such as `/prod`. No
    /// trailing slash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255), regex(pattern = r"^/.*[^/]$"))]
    pub origin_path: Option<String>,
    /// The HTTPS port. CloudFront always connects over HTTPS.
    #[serde(default = "https_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub https_port: i32,
    /// Headers CloudFront adds to every request to this origin, such as a
    /// secret it checks (at most 10; names CloudFront refuses to add, such
    /// as `Host` or `X-Amz-*`, are refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = MAX_ORIGIN_CUSTOM_HEADERS),
        extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"])
    )]
    #[x_kube(validation = Rule::new(DISTINCT_HEADERS_RULE)
        .message("spec.defaultOrigin.custom.customHeaders: each header name at most once, in any case (HTTP header names are case-insensitive)"))]
    #[x_kube(validation = Rule::new(HEADERS_SIZE_RULE)
        .message("spec.defaultOrigin.custom.customHeaders: CloudFront takes at most 10,240 characters of header names and values together"))]
    pub custom_headers: Vec<OriginCustomHeader>,
}

fn https_port() -> i32 {
    443
}

/// A custom error response of the distribution.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.responseCode) == has(self.responsePagePath)")
    .message("spec.customErrorResponses[]: responseCode and responsePagePath must be set together"))]
pub struct CustomErrorResponse {
    /// The origin's HTTP status code this entry replaces.
    #[schemars(extend("enum" = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]))]
    pub error_code: i32,
    /// The status code the viewer gets instead, such as 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]))]
    pub response_code: Option<i32>,
    /// The object the viewer gets instead, such as `/` or `/index.html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4000), regex(pattern = r"^/"))]
    pub response_page_path: Option<String>,
    /// How long, in seconds, CloudFront caches the error. Defaults to
    /// CloudFront's 10 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 31536000))]
    pub error_caching_min_ttl: Option<i64>,
}

/// Standard access logging.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Logging {
    /// The bucket name that receives the logs (ACLs must be enabled on it).
    #[schemars(
        length(min = 3, max = 63),
        regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    )]
    pub bucket_name: String,
    /// A key prefix for the log files, such as `cloudfront/books/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub prefix: Option<String>,
    /// Whether cookies are logged.
    #[serde(default)]
    pub include_cookies: bool,
}

/// The edge locations a distribution uses.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum PriceClass {
    /// All edge locations: the best latency.
    #[default]
    #[serde(rename = "PriceClass_All")]
    All,
    /// Most regions, without the most expensive ones.
    #[serde(rename = "PriceClass_200")]
    Class200,
    /// North America, Europe and Israel only: the lowest price.
    #[serde(rename = "PriceClass_100")]
    Class100,
}

/// Settings of the Lambda@Edge signer function urlguard runs in `us-east-1`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerSettings {
    /// Memory in MB. Lambda@Edge origin-request functions allow 128 to
    /// 10240. Changing it publishes a new numbered version.
    #[serde(default = "signer_memory")]
    #[schemars(range(min = 128, max = 10240))]
    pub memory_size: i32,
    /// Timeout in seconds; Lambda@Edge allows at most 30 for origin requests.
    #[serde(default = "signer_timeout")]
    #[schemars(range(min = 1, max = 30))]
    pub timeout_seconds: i32,
    /// The Node.js runtime of the signer, such as `nodejs24.x`.
    #[serde(default = "signer_runtime")]
    #[schemars(length(max = 16), regex(pattern = r"^nodejs[0-9]{2}\.x$"))]
    pub runtime: String,
    /// Bring your own execution role instead of the one urlguard manages. It
    /// must trust `lambda.amazonaws.com` and `edgelambda.amazonaws.com` and
    /// may invoke the attached function URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}$")
    )]
    pub role_arn: Option<String>,
}

impl Default for SignerSettings {
    fn default() -> Self {
        Self {
            memory_size: signer_memory(),
            timeout_seconds: signer_timeout(),
            runtime: signer_runtime(),
            role_arn: None,
        }
    }
}

fn signer_memory() -> i32 {
    128
}

fn signer_timeout() -> i32 {
    5
}

fn signer_runtime() -> String {
    "nodejs24.x".to_owned()
}

/// SSM parameters that publish the distribution for other stacks.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.distributionIdParameter) || has(self.domainNameParameter)")
    .message("spec.ssmExport must name distributionIdParameter, domainNameParameter or both"))]
pub struct DistributionSsmExport {
    /// The region the parameters are written to. Defaults to `us-east-1`.
    #[serde(default = "default_ssm_region")]
    #[schemars(length(max = 32), regex(pattern = REGION_PATTERN))]
    pub region: String,
    /// Name of the parameter that holds the distribution id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = SSM_PARAMETER_MAX), regex(pattern = SSM_PARAMETER_PATTERN))]
    #[x_kube(validation = Rule::new(SSM_RESERVED_RULE)
        .message("spec.ssmExport.distributionIdParameter may not begin with /aws or /ssm (any case): SSM reserves those names"))]
    pub distribution_id_parameter: Option<String>,
    /// Name of the parameter that holds the distribution's domain name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = SSM_PARAMETER_MAX), regex(pattern = SSM_PARAMETER_PATTERN))]
    #[x_kube(validation = Rule::new(SSM_RESERVED_RULE)
        .message("spec.ssmExport.domainNameParameter may not begin with /aws or /ssm (any case): SSM reserves those names"))]
    pub domain_name_parameter: Option<String>,
}

/// Paths to invalidate, once per revision.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invalidation {
    /// The paths CloudFront removes from its edge caches, such as
    /// `/index.html` or `/assets/*`: each starts with `/`, and `*` may only
    /// be its last character. At most 3,000 (CloudFront's quota of paths in
    /// progress per distribution; 15 for paths ending in `*`).
    #[schemars(
        length(min = 1, max = 3000),
        inner(length(min = 1, max = 4096), regex(pattern = r"^/[^*]*\*?$"))
    )]
    pub paths: Vec<String>,
    /// Any string that changes when the content changes, such as a build
    /// number or a commit. Each new value makes one invalidation; the same
    /// value never makes a second one (its `CallerReference` derives from
    /// this object and the revision). Changing only `paths` makes none.
    #[schemars(length(min = 1, max = 128))]
    pub revision: String,
}

/// The invalidation of the current revision, as CloudFront reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvalidationStatus {
    /// The `spec.invalidation.revision` it was made for.
    pub revision: String,
    /// CloudFront's invalidation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `InProgress` or `Completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// What urlguard observed and did, as of `observedGeneration`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EdgeDistributionStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Deploying` and `Deleting`, in the standard Kubernetes shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The CloudFront distribution id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
    /// The CloudFront distribution ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_arn: Option<String>,
    /// The distribution's domain name, such as `d111111abcdef8.cloudfront.net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// CloudFront's deployment status: `InProgress` or `Deployed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status: Option<String>,
    /// The signer function's ARN (unqualified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_function_arn: Option<String>,
    /// The numbered signer version on the origin-request trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_version_arn: Option<String>,
    /// Signer versions no longer in use, waiting for CloudFront to remove
    /// their edge replicas before they can be deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_signer_versions: Vec<RetiredSignerVersion>,
    /// The path patterns in force, one per attached `ProtectedFunctionUrl`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviors: Vec<String>,
    /// The SSM parameters urlguard last wrote for this object, by region
    /// and name. One that is no longer declared (renamed, moved to another
    /// region, no longer exported) is deleted if it carries this object's
    /// owner tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_parameters: Option<Vec<ExportedParameter>>,
    /// The ConfigMaps urlguard wrote for this object (`spec.configMapExport`).
    /// One no longer declared is deleted if this object owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_config_maps: Option<Vec<String>>,
    /// The invalidation of `spec.invalidation.revision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation: Option<InvalidationStatus>,
    /// The last pass that read this distribution and every attached URL
    /// back from AWS and found them (or made them) match their specs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Confirmation>,
}

/// A pass that confirmed a distribution and its URLs in AWS. A restarted
/// controller trusts it until the distribution's next resync slot instead
/// of reading everything again at once; a spec change, a URL attached or
/// changed (another `fingerprint`), or a confirmation older than the
/// resync interval makes a full pass at once.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// When the pass began.
    pub at: Time,
    /// The distribution's generation and its attached URLs' names and
    /// generations, hashed.
    pub fingerprint: String,
}

/// A signer version waiting for its edge replicas to go.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetiredSignerVersion {
    /// The version's ARN.
    pub version_arn: String,
    /// When the last association left it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<Time>,
    /// When urlguard tries to delete it next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Time>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_spec_body_takes_the_documented_defaults() {
        let spec: EdgeDistributionSpec = serde_json::from_value(serde_json::json!({
            "defaultOrigin": {"s3": {"bucketName": "books-frontend"}}
        }))
        .expect("minimal spec parses");
        assert_eq!(spec.protection, Protection::EdgeSigner);
        assert_eq!(spec.price_class, PriceClass::All);
        assert!(spec.enabled);
        assert_eq!(spec.signer, SignerSettings::default());
        assert_eq!(spec.signer.runtime, "nodejs24.x");
        assert_eq!(spec.deletion_policy(), DeletionPolicy::Delete);
        assert_eq!(spec.adopt, None);
        // The CloudFront settings default to what a distribution always had.
        assert_eq!(spec.default_behavior, DefaultBehavior::default());
        assert_eq!(spec.geo_restriction, None);
        assert_eq!(spec.viewer_tls, None);
        assert!(
            spec.default_origin
                .s3
                .is_some_and(|s3| s3.custom_headers.is_empty())
        );
    }

    #[test]
    fn an_adopted_distribution_is_retained_unless_delete_is_explicit() {
        let spec = |extra: serde_json::Value| -> EdgeDistributionSpec {
            let mut body = serde_json::json!({
                "defaultOrigin": {"s3": {"bucketName": "books-frontend"}},
                "adopt": {"distributionId": "E2QWRUHAPOMQZL"}
            });
            if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
                body.extend(extra.clone());
            }
            serde_json::from_value(body).expect("spec parses")
        };
        assert_eq!(
            spec(serde_json::json!({})).deletion_policy(),
            DeletionPolicy::Retain
        );
        assert_eq!(
            spec(serde_json::json!({"deletionPolicy": "Delete"})).deletion_policy(),
            DeletionPolicy::Delete
        );
    }
}
