//! `ProtectedFunctionUrl`: one Lambda function URL that answers only through
//! the `EdgeDistribution` it references, at one path pattern.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{
    DeletionPolicy, ExportedParameter, ManagementPolicy, POLICY_ID_PATTERN, REGION_PATTERN,
    SSM_PARAMETER_MAX, SSM_PARAMETER_PATTERN, SSM_RESERVED_RULE, default_ssm_region,
};
use super::config_map_export::ConfigMapExport;

/// CloudFront's managed cache policy `CachingDisabled`.
pub const CACHING_DISABLED_POLICY_ID: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// CloudFront's managed origin request policy `AllViewerExceptHostHeader`: a
/// function URL must see its own host, never the viewer's.
pub const ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// A Lambda function URL reachable only through an `EdgeDistribution`.
#[allow(
    clippy::duplicated_attributes,
    reason = "every printcolumn(...) repeats `type_ = \"string\"`; the lint reads kube's nested lists as duplicates"
)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "urlguard.io",
    version = "v1alpha1",
    kind = "ProtectedFunctionUrl",
    namespaced,
    status = "ProtectedFunctionUrlStatus",
    derive = "PartialEq",
    shortname = "pfu",
    category = "urlguard",
    doc = "A Lambda function URL on AWS_IAM auth that is reachable only through the EdgeDistribution it references.",
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
    printcolumn(
        name = "Distribution",
        type_ = "string",
        json_path = ".spec.distributionRef.name"
    ),
    printcolumn(
        name = "Path",
        type_ = "string",
        json_path = ".spec.pathPattern",
        priority = 1
    ),
    printcolumn(
        name = "Protected URL",
        type_ = "string",
        json_path = ".status.protectedUrl"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.forwardBody) || !self.forwardBody || self.allowedMethods.exists(m, m == 'POST')")
    .message("spec.forwardBody can be true only when spec.allowedMethods includes the methods that carry a body (POST, PUT, PATCH, DELETE)")
    .field_path(".forwardBody"))]
pub struct ProtectedFunctionUrlSpec {
    /// The Lambda function whose URL is protected. urlguard owns the URL
    /// config, the permissions it grants and the parameters it writes; the
    /// function itself belongs to whoever deploys it. Immutable: what
    /// urlguard made on the old function (its URL config, its grants)
    /// would be left behind, so a URL moves to another function (name,
    /// region or alias) as a new resource.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.function is immutable: create a new ProtectedFunctionUrl for the other function and delete this one"))]
    pub function: FunctionRef,

    /// The `EdgeDistribution`, in this namespace, that fronts the URL.
    /// Immutable: attach a new resource to move a URL.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.distributionRef is immutable: create a new ProtectedFunctionUrl to move a URL to another distribution"))]
    pub distribution_ref: DistributionRef,

    /// The CloudFront path pattern routed to the function, such as
    /// `/getBooks` or `/getBook/*`. `*` and `/*` belong to the default
    /// behavior and cannot be used.
    #[schemars(
        length(min = 1, max = 255),
        regex(pattern = r#"^/[A-Za-z0-9_.$/~"'@:+*?&-]*$"#)
    )]
    #[x_kube(validation = Rule::new("self != '*' && self != '/*'").message("spec.pathPattern may not be '*' or '/*': those paths belong to the distribution's default behavior"))]
    pub path_pattern: String,

    /// The HTTP methods CloudFront forwards, as one of the three sets it
    /// accepts: `[GET, HEAD]`, `[GET, HEAD, OPTIONS]` (the default), or all
    /// seven methods.
    #[serde(default = "read_only_methods")]
    #[schemars(length(min = 2, max = 7), extend("x-kubernetes-list-type" = "set"))]
    #[x_kube(validation = Rule::new("(size(self) == 2 && 'GET' in self && 'HEAD' in self) || (size(self) == 3 && 'GET' in self && 'HEAD' in self && 'OPTIONS' in self) || size(self) == 7")
        .message("spec.allowedMethods must be one of the sets CloudFront accepts: [GET, HEAD], [GET, HEAD, OPTIONS], or all of GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE"))]
    pub allowed_methods: Vec<HttpMethod>,

    /// Whether the request body reaches the signer so it can be signed
    /// (Lambda@Edge passes at most 1 MB; larger requests get 413). Defaults
    /// to true when `allowedMethods` includes methods that carry a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_body: Option<bool>,

    /// The cache policy of the behavior. Defaults to the managed
    /// `CachingDisabled` policy.
    #[serde(default = "caching_disabled")]
    #[schemars(regex(pattern = POLICY_ID_PATTERN), length(max = 36))]
    pub cache_policy_id: String,

    /// The origin request policy of the behavior. Defaults to the managed
    /// `AllViewerExceptHostHeader` policy; a policy that forwards the
    /// viewer's `Host` breaks function URLs.
    #[serde(default = "all_viewer_except_host_header")]
    #[schemars(regex(pattern = POLICY_ID_PATTERN), length(max = 36))]
    pub origin_request_policy_id: String,

    /// An optional response headers policy for the behavior.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = POLICY_ID_PATTERN), length(max = 36))]
    pub response_headers_policy_id: Option<String>,

    /// `BUFFERED` (default) or `RESPONSE_STREAM`.
    #[serde(default)]
    pub invoke_mode: InvokeMode,

    /// CORS settings of the function URL, answered by Lambda itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,

    /// The SSM parameters that publish the function URL and ARN.
    #[serde(default)]
    pub ssm_export: UrlSsmExport,

    /// A ConfigMap in this namespace where the controller publishes the
    /// protected URL, the function URL and ARN, and the distribution's id
    /// and domain, for workloads to read (`configMapKeyRef`, `envFrom`).
    /// Owned by this object, so it goes with it; removed from the spec, the
    /// ConfigMap goes too. `{}` takes the default name. The CLI has no
    /// cluster and ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_export: Option<ConfigMapExport>,

    /// `Delete` (default) removes the function URL config when this resource
    /// is deleted, if urlguard created it (one that existed before urlguard
    /// always stays); `Retain` keeps it, still on `AWS_IAM` auth.
    /// Permissions and parameters urlguard wrote always go.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Remove the function's resource-policy statements that let anyone
    /// other than the distribution invoke it (the `Exposed` condition lists
    /// them): a public or cross-account grant, CloudFront for another
    /// distribution, `lambda:InvokeFunction` for another principal. Default
    /// false: urlguard only reports them, and writes nothing to them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove_foreign_statements: bool,

    /// `Manage` (default): urlguard makes AWS match this spec. `Observe`:
    /// urlguard reads the function, its URL config, its resource policy,
    /// its SSM parameters and its behavior in the distribution, and reports
    /// how they differ from the spec (`Ready` with reason `Observed` when
    /// they match, `Drifted` naming what a managed pass would change), but
    /// writes nothing to AWS for this URL: the distribution keeps its
    /// origin and behavior as they are, and deleting the resource leaves
    /// AWS as it is. Under an observed `EdgeDistribution` a URL is observed
    /// whatever it says. Switching back to `Manage` converges.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

fn read_only_methods() -> Vec<HttpMethod> {
    vec![HttpMethod::Get, HttpMethod::Head, HttpMethod::Options]
}

fn caching_disabled() -> String {
    CACHING_DISABLED_POLICY_ID.to_owned()
}

fn all_viewer_except_host_header() -> String {
    ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID.to_owned()
}

/// The function whose URL is protected.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.name.startsWith('arn:') || self.name.split(':')[3] == self.region")
    .message("spec.function.name is an ARN in another region than spec.function.region")
    .field_path(".name"))]
pub struct FunctionRef {
    /// The function name, such as `books-get-books`, or its unqualified ARN.
    #[schemars(
        length(min = 1, max = 140),
        regex(
            pattern = r"^(arn:aws[a-z-]*:lambda:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}:[0-9]{12}:function:)?[a-zA-Z0-9_-]{1,64}$"
        )
    )]
    pub name: String,
    /// The function's region, such as `eu-west-1`.
    #[schemars(length(max = 32), regex(pattern = REGION_PATTERN))]
    pub region: String,
    /// An alias to attach the URL to. Without it the URL belongs to the
    /// unqualified function. Never a version number or `$LATEST`: Lambda
    /// gives those no URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9_-]+$') && !self.matches('^[0-9]+$')")
        .message("spec.function.qualifier must be an alias name: a function URL belongs to an alias or the unqualified function, never to a version number or $LATEST"))]
    pub qualifier: Option<String>,
}

/// A reference to an `EdgeDistribution` in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DistributionRef {
    /// The `EdgeDistribution`'s name.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub name: String,
}

/// An HTTP method CloudFront can forward.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The method as HTTP (and the manifest) spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// How Lambda returns the function's response.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvokeMode {
    /// The whole response at once (at most 6 MB).
    #[default]
    Buffered,
    /// Streamed as the function writes it.
    ResponseStream,
}

/// CORS settings of a function URL.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    /// Origins allowed to call, such as `https://books.example.com`, or `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 253)))]
    pub allow_origins: Vec<String>,
    /// Methods allowed, such as `GET`, or `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 6),
        inner(regex(pattern = r"^(GET|PUT|HEAD|POST|PATCH|DELETE|OPTIONS|\*)$"))
    )]
    pub allow_methods: Vec<String>,
    /// Request headers allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 1024)))]
    pub allow_headers: Vec<String>,
    /// Response headers exposed to the browser.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 1024)))]
    pub expose_headers: Vec<String>,
    /// Whether cookies and credentials are allowed.
    #[serde(default)]
    pub allow_credentials: bool,
    /// How long, in seconds, browsers may cache the preflight answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub max_age: Option<i32>,
}

/// Where the function URL and ARN are published.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct UrlSsmExport {
    /// The region the parameters are written to. Defaults to `us-east-1`.
    #[serde(default = "default_ssm_region")]
    #[schemars(length(max = 32), regex(pattern = REGION_PATTERN))]
    pub region: String,
    /// Name of the parameter holding the function URL. Defaults to
    /// `/<namespace>/<Name>Url`, with the resource name in PascalCase
    /// (`get-books` in `books` → `/books/GetBooksUrl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = SSM_PARAMETER_MAX), regex(pattern = SSM_PARAMETER_PATTERN))]
    #[x_kube(validation = Rule::new(SSM_RESERVED_RULE)
        .message("spec.ssmExport.urlParameter may not begin with /aws or /ssm (any case): SSM reserves those names"))]
    pub url_parameter: Option<String>,
    /// Name of the parameter holding the function ARN. Defaults to
    /// `/<namespace>/<Name>Arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = SSM_PARAMETER_MAX), regex(pattern = SSM_PARAMETER_PATTERN))]
    #[x_kube(validation = Rule::new(SSM_RESERVED_RULE)
        .message("spec.ssmExport.arnParameter may not begin with /aws or /ssm (any case): SSM reserves those names"))]
    pub arn_parameter: Option<String>,
}

impl Default for UrlSsmExport {
    fn default() -> Self {
        Self {
            region: default_ssm_region(),
            url_parameter: None,
            arn_parameter: None,
        }
    }
}

impl UrlSsmExport {
    /// The URL and ARN parameter names in force for a resource `name` in
    /// `namespace`: the declared ones, or the documented defaults.
    pub fn parameter_names(&self, namespace: &str, name: &str) -> (String, String) {
        let stem = format!("/{namespace}/{}", pascal_case(name));
        (
            self.url_parameter
                .clone()
                .unwrap_or_else(|| format!("{stem}Url")),
            self.arn_parameter
                .clone()
                .unwrap_or_else(|| format!("{stem}Arn")),
        )
    }
}

/// `get-books` → `GetBooks`; dots separate words too (`v1.list` → `V1List`).
fn pascal_case(name: &str) -> String {
    name.split(['-', '.'])
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

impl ProtectedFunctionUrlSpec {
    /// Whether the signer sees the request body: as declared, or by default
    /// when the behavior accepts methods that carry one.
    pub fn forwards_body(&self) -> bool {
        self.forward_body
            .unwrap_or_else(|| self.allowed_methods.contains(&HttpMethod::Post))
    }
}

/// What urlguard observed and did, as of `observedGeneration`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProtectedFunctionUrlStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Deleting`, in the standard Kubernetes shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The URL to call: `https://<distribution domain><path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_url: Option<String>,
    /// The function URL itself (answers only signed requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_url: Option<String>,
    /// The function's ARN, qualified when an alias is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// The id of the distribution that fronts the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
    /// The SSM parameter holding the function URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_parameter: Option<String>,
    /// The SSM parameter holding the function ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn_parameter: Option<String>,
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
    /// The statements of the function's resource policy that let someone
    /// other than the distribution invoke it, as of the last reconcile
    /// (empty: none; absent: not checked, the URL is not attached yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_statements: Option<Vec<ExposedStatement>>,
}

/// A resource-policy statement that lets someone other than the
/// distribution invoke the function.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExposedStatement {
    /// The statement id (`Sid`).
    pub statement_id: String,
    /// Whom it lets in, and which action: `anyone (*) may call
    /// lambda:InvokeFunctionUrl`.
    pub grants: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(methods: serde_json::Value) -> ProtectedFunctionUrlSpec {
        serde_json::from_value(serde_json::json!({
            "function": {"name": "books-get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
            "allowedMethods": methods,
        }))
        .expect("spec parses")
    }

    #[test]
    fn default_parameter_names_follow_the_seed_application() {
        let names = UrlSsmExport::default().parameter_names("books", "get-books");
        assert_eq!(
            names,
            (
                "/books/GetBooksUrl".to_owned(),
                "/books/GetBooksArn".to_owned()
            )
        );
        let dotted = UrlSsmExport::default().parameter_names("shop", "v1.list-items");
        assert_eq!(dotted.0, "/shop/V1ListItemsUrl");
    }

    #[test]
    fn declared_parameter_names_win_over_the_defaults() {
        let export = UrlSsmExport {
            url_parameter: Some("/custom/url".to_owned()),
            ..UrlSsmExport::default()
        };
        let (url, arn) = export.parameter_names("books", "get-books");
        assert_eq!(url, "/custom/url");
        assert_eq!(arn, "/books/GetBooksArn");
    }

    #[test]
    fn the_body_is_forwarded_by_default_only_for_methods_that_carry_one() {
        assert!(!spec(serde_json::json!(["GET", "HEAD", "OPTIONS"])).forwards_body());
        let all = serde_json::json!(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]);
        assert!(spec(all.clone()).forwards_body());
        let mut declared = spec(all);
        declared.forward_body = Some(false);
        assert!(!declared.forwards_body());
    }

    #[test]
    fn omitted_fields_take_the_managed_policies_and_buffered_mode() {
        let parsed: ProtectedFunctionUrlSpec = serde_json::from_value(serde_json::json!({
            "function": {"name": "f", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/f",
        }))
        .expect("spec parses");
        assert_eq!(parsed.cache_policy_id, CACHING_DISABLED_POLICY_ID);
        assert_eq!(
            parsed.origin_request_policy_id,
            ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID
        );
        assert_eq!(parsed.invoke_mode, InvokeMode::Buffered);
        assert_eq!(parsed.allowed_methods, read_only_methods());
        assert_eq!(parsed.ssm_export.region, "us-east-1");
    }
}
