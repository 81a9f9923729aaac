//! Lambda shapes: the user's function and its URL config and resource
//! policy, and the signer function's versions; and the marker tags that
//! record, on the function, that urlguard created a URL config (written
//! before the create) or adopted one that existed before it.

use sha2::{Digest, Sha256};

use crate::api::{Cors, InvokeMode};
use crate::model::names::{Owner, OwnerKind};

/// A function URL's auth type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// Callers must sign with SigV4: the protection.
    AwsIam,
    /// Anyone on the internet may call.
    None,
}

/// The function a `ProtectedFunctionUrl` names, as found in Lambda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionFound {
    /// The unqualified function ARN.
    pub function_arn: String,
    /// The ARN the URL belongs to: qualified with the alias when one is used.
    pub target_arn: String,
    /// The value of its opt-in tag ([`crate::model::OPT_IN_TAG_KEY`]), set
    /// by the function's owner; `None` when it has none.
    pub opt_in: Option<String>,
    /// The value of the function's adopted marker for this qualifier
    /// ([`adopted_marker_key`]): the owner of the `ProtectedFunctionUrl`
    /// that adopted a URL config which existed before urlguard. `None`:
    /// no marker.
    pub adopted_url_config: Option<String>,
    /// The value of the function's created marker for this qualifier
    /// ([`created_marker_key`]): the owner of the `ProtectedFunctionUrl`
    /// that created the URL config (written before the create). `None`:
    /// urlguard did not create it (or a version before the marker did).
    pub created_url_config: Option<String>,
}

impl FunctionFound {
    /// Whether a `ProtectedFunctionUrl` of `instance` created the URL
    /// config: any URL of the instance, since URLs sharing a function share
    /// its config and the one that created it may have left first.
    pub fn created_by_instance(&self, instance: &str) -> bool {
        self.created_url_config
            .as_deref()
            .is_some_and(|owner| owner.starts_with(&format!("{instance}/")))
    }
}

/// The tag key prefix of adopted markers.
pub const ADOPTED_MARKER_KEY: &str = "urlguard.io/adopted-url-config";

/// The tag key prefix of created markers.
pub const CREATED_MARKER_KEY: &str = "urlguard.io/created-url-config";

/// Lambda's limit on a tag key.
const TAG_KEY_MAX: usize = 128;

/// Lambda's limit on a tag value.
const TAG_VALUE_MAX: usize = 256;

/// The key of the tag that marks, on a function, that urlguard adopted the
/// URL config of `qualifier` (tags belong to the function, URL configs to
/// the function or one of its aliases): `urlguard.io/adopted-url-config`,
/// or `urlguard.io/adopted-url-config:<alias>` (a long alias ends in a hash
/// to stay within the 128 characters of a key).
pub fn adopted_marker_key(qualifier: Option<&str>) -> String {
    marker_key(ADOPTED_MARKER_KEY, qualifier)
}

/// The key of the tag that marks, on a function, that urlguard created the
/// URL config of `qualifier`: `urlguard.io/created-url-config[:<alias>]`,
/// bounded like [`adopted_marker_key`].
pub fn created_marker_key(qualifier: Option<&str>) -> String {
    marker_key(CREATED_MARKER_KEY, qualifier)
}

fn marker_key(prefix: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        None => prefix.to_owned(),
        Some(alias) => bounded(&format!("{prefix}:{alias}"), TAG_KEY_MAX),
    }
}

/// A marker's value for the `ProtectedFunctionUrl` `owner` that adopted or
/// created the config: its owner tag value, bounded to a tag value's 256
/// characters (the instance at its start stays).
pub fn marker_value(owner: &Owner) -> String {
    bounded(
        &owner.tag_value(OwnerKind::ProtectedFunctionUrl),
        TAG_VALUE_MAX,
    )
}

/// `text`, or a prefix of it and 12 hex digits of its SHA-256 in `max`
/// characters.
fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let hash: String = Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut keep = max - hash.len() - 1;
    while !text.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}-{hash}", &text[..keep])
}

/// A function URL config as Lambda reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlConfig {
    /// `https://<id>.lambda-url.<region>.on.aws/`.
    pub function_url: String,
    /// The auth type.
    pub auth_type: AuthType,
    /// Buffered or streamed.
    pub invoke_mode: InvokeMode,
    /// CORS, `None` when not configured.
    pub cors: Option<Cors>,
}

impl UrlConfig {
    /// The URL's host, the origin domain CloudFront connects to.
    pub fn host(&self) -> &str {
        self.function_url
            .trim_start_matches("https://")
            .trim_end_matches('/')
    }
}

/// The URL config urlguard wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredUrlConfig {
    /// Buffered or streamed.
    pub invoke_mode: InvokeMode,
    /// CORS, `None` for none.
    pub cors: Option<Cors>,
}

/// One statement of a function's resource policy, reduced to what urlguard
/// writes and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyStatement {
    /// The statement id.
    pub sid: String,
    /// `lambda:InvokeFunctionUrl` or `lambda:InvokeFunction`.
    pub action: String,
    /// The service or account principal.
    pub principal: String,
    /// The `AWS:SourceArn` condition, when present.
    pub source_arn: Option<String>,
    /// The `lambda:FunctionUrlAuthType` condition, when present.
    pub function_url_auth_type: Option<String>,
    /// Whether the statement requires `lambda:InvokedViaFunctionUrl`.
    pub invoked_via_function_url: bool,
}

/// A function's resource policy as read: the statements urlguard manages
/// (by id) and every statement as written, to judge who it lets in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcePolicy {
    /// `Allow` statements reduced to what urlguard writes and checks.
    pub statements: Vec<PolicyStatement>,
    /// Every statement, `Deny` included, with its principals, actions and
    /// conditions as written.
    pub grants: Vec<GrantStatement>,
}

/// One resource-policy statement as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantStatement {
    /// The statement id (Lambda always writes one).
    pub sid: String,
    /// `Effect` is `Allow`.
    pub allow: bool,
    /// Every principal: `*` (also for `{"AWS": "*"}` and a `NotPrincipal`),
    /// a service, an account id, or an ARN.
    pub principals: Vec<String>,
    /// The actions it covers.
    pub actions: StatementActions,
    /// Every condition, one entry per operator and key.
    pub conditions: Vec<ConditionEntry>,
}

/// The actions of a statement: `Action` lists those it covers, `NotAction`
/// those it does not (it covers every other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementActions {
    /// `Action`: these patterns (`*` and `?` wildcards).
    Listed(Vec<String>),
    /// `NotAction`: everything but these patterns.
    AllBut(Vec<String>),
}

impl Default for StatementActions {
    fn default() -> StatementActions {
        StatementActions::Listed(Vec::new())
    }
}

/// One condition: `{operator: {key: values}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionEntry {
    /// `StringEquals`, `ArnLike`, `Bool`, ...
    pub operator: String,
    /// The condition key as written (`AWS:SourceArn`).
    pub key: String,
    /// Its values (booleans as `true`/`false`).
    pub values: Vec<String>,
}

/// The settings that make a signer version what it is: a new numbered
/// version is published exactly when these differ from the newest one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerConfig {
    /// Base64 SHA-256 of the deployment zip (Lambda's `CodeSha256`).
    pub code_sha256: String,
    /// Memory in MB.
    pub memory_size: i32,
    /// Timeout in seconds.
    pub timeout_seconds: i32,
    /// Node.js runtime identifier.
    pub runtime: String,
    /// The execution role's ARN.
    pub role_arn: String,
    /// The handler, `index.handler`.
    pub handler: String,
}

/// One version of the signer function (`$LATEST` or a number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionVersion {
    /// `$LATEST` or `1`, `2`, ...
    pub version: String,
    /// The qualified ARN of this version.
    pub arn: String,
    /// Its settings.
    pub config: SignerConfig,
}

impl FunctionVersion {
    /// The version number, `None` for `$LATEST`.
    pub fn number(&self) -> Option<u64> {
        self.version.parse().ok()
    }
}

/// The signer function as observed: its unqualified ARN and all versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerObserved {
    /// The unqualified ARN.
    pub function_arn: String,
    /// `$LATEST` and every numbered version.
    pub versions: Vec<FunctionVersion>,
    /// The owner tag's value, if any.
    pub owner: Option<String>,
}

impl SignerObserved {
    /// `$LATEST`.
    pub fn latest(&self) -> Option<&FunctionVersion> {
        self.versions.iter().find(|v| v.version == "$LATEST")
    }

    /// The highest numbered version.
    pub fn newest_published(&self) -> Option<&FunctionVersion> {
        self.versions
            .iter()
            .filter(|v| v.number().is_some())
            .max_by_key(|v| v.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_the_qualifier_and_fit_lambda_tag_limits() {
        assert_eq!(adopted_marker_key(None), "urlguard.io/adopted-url-config");
        assert_eq!(
            adopted_marker_key(Some("live")),
            "urlguard.io/adopted-url-config:live"
        );
        let long = "a".repeat(128);
        let key = adopted_marker_key(Some(&long));
        assert_eq!(key.len(), 128);
        assert_ne!(key, adopted_marker_key(Some(&"a".repeat(127))));
        assert_eq!(
            created_marker_key(Some("live")),
            "urlguard.io/created-url-config:live"
        );
        assert_eq!(created_marker_key(Some(&long)).len(), 128);
        let owner = Owner {
            instance: "urlguard".into(),
            namespace: "books".into(),
            name: "get-books".into(),
        };
        assert_eq!(
            marker_value(&owner),
            "urlguard/books/ProtectedFunctionUrl/get-books"
        );
        let found = |created: Option<&str>| FunctionFound {
            function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:f".into(),
            target_arn: "arn:aws:lambda:eu-west-1:123456789012:function:f".into(),
            opt_in: None,
            adopted_url_config: None,
            created_url_config: created.map(str::to_owned),
        };
        assert!(
            found(Some("urlguard/books/ProtectedFunctionUrl/other"))
                .created_by_instance("urlguard")
        );
        assert!(
            !found(Some("urlguard-staging/books/ProtectedFunctionUrl/x"))
                .created_by_instance("urlguard")
        );
        assert!(!found(None).created_by_instance("urlguard"));
        let long_owner = Owner {
            name: "n".repeat(253),
            ..owner
        };
        assert_eq!(marker_value(&long_owner).len(), 256);
    }
}
