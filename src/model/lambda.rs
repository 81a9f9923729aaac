//! Lambda shapes: the user's function and its URL config and resource
//! policy, and the signer function's versions.

use crate::api::{Cors, InvokeMode};

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
