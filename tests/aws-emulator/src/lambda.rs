//! Lambda in front of moto: the operation names of Lambda's REST paths, and
//! the few places where moto 5.2.5 answers unlike Lambda, corrected here,
//! each with the AWS behaviour it reproduces:
//!
//! - `DeleteFunction` of a Lambda@Edge version (or its whole function) that
//!   CloudFront still replicates — associated now, or released less than the
//!   replica linger ago — is refused with `InvalidParameterValueException`
//!   ("... because it is a replicated function ..."); moto would delete it.
//! - `CreateFunctionUrlConfig` when the function already has a URL config is
//!   `ResourceConflictException` (409); moto silently replaces the config.
//! - `InvokeMode`: Lambda keeps the declared mode (`BUFFERED` when none was
//!   given) and `UpdateFunctionUrlConfig` changes it; moto ignores it on
//!   update and reads back `"Buffered"` (not a value of the enum) when none
//!   was given. The emulator remembers the declared mode per function and
//!   writes it into the Create/Get/Update answers. `GetFunctionUrlConfig`
//!   answers 200, not moto's 201.
//! - `AddPermission` with a statement id the policy already has is
//!   `ResourceConflictException` (409); moto appends a duplicate.
//! - `UpdateFunctionUrlConfig` with an empty `Cors` (`{}`) clears CORS; moto
//!   ignores it (the emulator remembers the clearing and leaves `Cors` out
//!   of the answers until CORS is set again).
//! - A function URL ends with `/` (`https://ID.lambda-url.REGION.on.aws/`);
//!   moto leaves the slash out.
//! - A policy statement reads back as Lambda writes it: `FunctionUrlAuthType`
//!   as the condition `StringEquals` `lambda:FunctionUrlAuthType`,
//!   `InvokedViaFunctionUrl` as `Bool` `lambda:InvokedViaFunctionUrl`
//!   `"true"`, an account-id principal as `{"AWS": "arn:aws:iam::ID:root"}`;
//!   moto keeps the two request fields as stray top-level keys (so the
//!   conditions are lost) and the bare account id (`AddPermission`'s and
//!   `GetPolicy`'s answers are rewritten).
//!
//! - `CreateFunction` with a name Lambda refuses (anything but
//!   `[a-zA-Z0-9-_]`, or longer than 64 characters; an ARN is not checked
//!   here) is `ValidationException` (400), as the `FunctionName` constraint of
//!   the CreateFunction API reference says; moto creates it.
//!
//! - A published version is `Pending` for a while, then `Active` (see
//!   `versions`): `PublishVersion`, `GetFunction` and
//!   `GetFunctionConfiguration` of that version say so; moto says `Active`.
//!
//! Known and kept: moto keeps one URL config per function and ignores the
//! `Qualifier` of the URL-config operations, so these corrections key on the
//! function alone; `ListFunctionUrlConfigs` is not implemented by moto.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, StatusCode, request::Parts};
use serde_json::Value;

use crate::faults::error_reply;
use crate::ids::lock;
use crate::reply::Reply;
use crate::route::{Call, query_param, segments};
use crate::server::Shared;
use crate::upstream::UpstreamError;

/// The Lambda operation of a REST request (the API-version segment of the
/// path is ignored, as moto does).
pub(crate) fn operation(method: &Method, path: &str) -> &'static str {
    let segs = segments(path);
    let s: Vec<&str> = segs.iter().skip(1).map(String::as_str).collect();
    let m = method.as_str();
    match (m, s.as_slice()) {
        ("POST", ["functions"]) => "CreateFunction",
        ("GET", ["functions"]) => "ListFunctions",
        ("GET", ["functions", _]) => "GetFunction",
        ("DELETE", ["functions", _]) => "DeleteFunction",
        ("GET", ["functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("PUT", ["functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("PUT", ["functions", _, "code"]) => "UpdateFunctionCode",
        ("POST", ["functions", _, "versions"]) => "PublishVersion",
        ("GET", ["functions", _, "versions"]) => "ListVersionsByFunction",
        ("POST", ["functions", _, "policy"]) => "AddPermission",
        ("GET", ["functions", _, "policy"]) => "GetPolicy",
        ("DELETE", ["functions", _, "policy", _]) => "RemovePermission",
        ("POST", ["functions", _, "aliases"]) => "CreateAlias",
        ("GET", ["functions", _, "aliases"]) => "ListAliases",
        ("GET", ["functions", _, "aliases", _]) => "GetAlias",
        ("PUT", ["functions", _, "aliases", _]) => "UpdateAlias",
        ("DELETE", ["functions", _, "aliases", _]) => "DeleteAlias",
        ("POST", ["functions", _, "url"]) => "CreateFunctionUrlConfig",
        ("GET", ["functions", _, "url"]) => "GetFunctionUrlConfig",
        ("PUT", ["functions", _, "url"]) => "UpdateFunctionUrlConfig",
        ("DELETE", ["functions", _, "url"]) => "DeleteFunctionUrlConfig",
        ("GET", ["functions", _, "urls"]) => "ListFunctionUrlConfigs",
        ("POST", ["functions", _, "invocations"]) => "Invoke",
        ("PUT", ["functions", _, "concurrency"]) => "PutFunctionConcurrency",
        ("GET", ["functions", _, "concurrency"]) => "GetFunctionConcurrency",
        ("DELETE", ["functions", _, "concurrency"]) => "DeleteFunctionConcurrency",
        ("GET", ["functions", _, "code-signing-config"]) => "GetFunctionCodeSigningConfig",
        ("GET", ["tags", _]) => "ListTags",
        ("POST", ["tags", _]) => "TagResource",
        ("DELETE", ["tags", _]) => "UntagResource",
        ("GET", ["account-settings"]) => "GetAccountSettings",
        _ => "Unknown",
    }
}

/// A function named by name, `name:qualifier`, partial ARN
/// (`ACCOUNT:function:NAME[:Q]`) or full ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    pub region: Option<String>,
    pub account: Option<String>,
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    pub(crate) fn parse(identifier: &str) -> Option<FunctionRef> {
        let parts: Vec<&str> = identifier.split(':').collect();
        let (region, account, name, qualifier) = match parts.as_slice() {
            [
                "arn",
                _partition,
                "lambda",
                region,
                account,
                "function",
                name,
            ] => (Some(*region), Some(*account), *name, None),
            [
                "arn",
                _partition,
                "lambda",
                region,
                account,
                "function",
                name,
                q,
            ] => (Some(*region), Some(*account), *name, Some(*q)),
            [account, "function", name] => (None, Some(*account), *name, None),
            [account, "function", name, q] => (None, Some(*account), *name, Some(*q)),
            [name] => (None, None, *name, None),
            [name, q] => (None, None, *name, Some(*q)),
            _ => return None,
        };
        if name.is_empty() || qualifier.is_some_and(str::is_empty) {
            return None;
        }
        Some(FunctionRef {
            region: region.map(str::to_owned),
            account: account.map(str::to_owned),
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
        })
    }

    /// The unqualified ARN, filling region and account from the call.
    pub(crate) fn unqualified_arn(&self, default_region: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region.as_deref().unwrap_or(default_region),
            self.account
                .clone()
                .unwrap_or_else(crate::accounts::current),
            self.name
        )
    }
}

/// What the emulator remembers on Lambda's behalf.
#[derive(Debug, Default)]
pub(crate) struct LambdaFixes {
    /// Declared `InvokeMode` per unqualified function ARN.
    invoke_modes: Mutex<HashMap<String, String>>,
    /// Functions whose CORS an update cleared (moto still holds the old).
    cors_cleared: Mutex<HashSet<String>>,
}

impl LambdaFixes {
    /// Whether an update cleared the CORS of the function (unqualified
    /// ARN) while moto still holds the old one.
    pub(crate) fn cors_cleared(&self, function_arn: &str) -> bool {
        lock(&self.cors_cleared).contains(function_arn)
    }
}

/// Handles one Lambda call: a correction where moto falls short, otherwise
/// moto's answer as it is.
pub(crate) async fn handle(
    shared: &Shared,
    call: &Call,
    parts: &Parts,
    body: Bytes,
) -> Result<Reply, UpstreamError> {
    if call.operation == "CreateFunction"
        && let Some(name) = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
            v.get("FunctionName")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        && !name.starts_with("arn:")
        && !is_valid_function_name(&name)
    {
        return Ok(error_reply(
            "lambda",
            StatusCode::BAD_REQUEST,
            "ValidationException",
            &format!(
                "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
            ),
            &shared.ids,
        ));
    }
    let segs = segments(parts.uri.path());
    let function = segs.get(2).and_then(|s| FunctionRef::parse(s));
    let (Some(function), true) = (function, segs.get(1).is_some_and(|s| s == "functions")) else {
        return shared.upstream.forward(parts, body).await;
    };
    let query = parts.uri.query().unwrap_or("");
    let function_arn = function.unqualified_arn(&call.region);
    match call.operation.as_str() {
        "DeleteFunction" => {
            let qualifier = query_param(query, "Qualifier").or_else(|| function.qualifier.clone());
            let version = qualifier
                .as_deref()
                .filter(|q| q.chars().all(|c| c.is_ascii_digit()));
            if qualifier.is_some() && version.is_none() {
                return shared.upstream.forward(parts, body).await;
            }
            if let Some(arn) =
                shared
                    .cloudfront()
                    .replica_blocking(&function_arn, version, Instant::now())
            {
                return Ok(error_reply(
                    "lambda",
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValueException",
                    &format!(
                        "Lambda was unable to delete {arn} because it is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas."
                    ),
                    &shared.ids,
                ));
            }
            let reply = shared.upstream.forward(parts, body).await?;
            if reply.is_success() && qualifier.is_none() {
                lock(&shared.lambda.invoke_modes).remove(&function_arn);
            }
            Ok(reply)
        }
        "CreateFunctionUrlConfig" => {
            let existing = shared
                .upstream
                .send(
                    Method::GET,
                    path_and_query(parts),
                    &parts.headers,
                    Bytes::new(),
                )
                .await?;
            if existing.is_success() {
                let arn = serde_json::from_slice::<Value>(&existing.body)
                    .ok()
                    .and_then(|v| {
                        v.get("FunctionArn")
                            .and_then(|a| a.as_str())
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| function_arn.clone());
                return Ok(error_reply(
                    "lambda",
                    StatusCode::CONFLICT,
                    "ResourceConflictException",
                    &format!(
                        "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
                    ),
                    &shared.ids,
                ));
            }
            let declared = declared_invoke_mode(&body).unwrap_or_else(|| "BUFFERED".to_owned());
            let reply = shared.upstream.forward(parts, body).await?;
            if !reply.is_success() {
                return Ok(reply);
            }
            lock(&shared.lambda.cors_cleared).remove(&function_arn);
            lock(&shared.lambda.invoke_modes).insert(function_arn, declared.clone());
            Ok(corrected_url_config(reply, &declared, false))
        }
        "GetFunctionUrlConfig" | "UpdateFunctionUrlConfig" => {
            let declared = declared_invoke_mode(&body);
            let cors = declared_cors(&body);
            let mut reply = shared.upstream.forward(parts, body).await?;
            if !reply.is_success() {
                return Ok(reply);
            }
            let mode = {
                let mut modes = lock(&shared.lambda.invoke_modes);
                if let Some(mode) = declared {
                    modes.insert(function_arn.clone(), mode);
                }
                modes
                    .get(&function_arn)
                    .cloned()
                    .unwrap_or_else(|| "BUFFERED".to_owned())
            };
            let cors_cleared = {
                let mut cleared = lock(&shared.lambda.cors_cleared);
                match cors {
                    Some(true) => {
                        cleared.insert(function_arn.clone());
                    }
                    Some(false) => {
                        cleared.remove(&function_arn);
                    }
                    None => {}
                }
                cleared.contains(&function_arn)
            };
            reply.status = StatusCode::OK;
            Ok(corrected_url_config(reply, &mode, cors_cleared))
        }
        "DeleteFunctionUrlConfig" => {
            let reply = shared.upstream.forward(parts, body).await?;
            if reply.is_success() {
                lock(&shared.lambda.invoke_modes).remove(&function_arn);
                lock(&shared.lambda.cors_cleared).remove(&function_arn);
            }
            Ok(reply)
        }
        "AddPermission" => {
            let statement_id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                v.get("StatementId")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            });
            if let Some(sid) = statement_id {
                let policy = shared
                    .upstream
                    .send(
                        Method::GET,
                        path_and_query(parts),
                        &parts.headers,
                        Bytes::new(),
                    )
                    .await?;
                if policy.is_success() && policy_has_statement(&policy.body, &sid) {
                    return Ok(error_reply(
                        "lambda",
                        StatusCode::CONFLICT,
                        "ResourceConflictException",
                        &format!(
                            "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
                        ),
                        &shared.ids,
                    ));
                }
            }
            let reply = shared.upstream.forward(parts, body).await?;
            Ok(corrected_policy(reply, "Statement"))
        }
        "GetPolicy" => {
            let reply = shared.upstream.forward(parts, body).await?;
            Ok(corrected_policy(reply, "Policy"))
        }
        "PublishVersion" => {
            let reply = shared.upstream.forward(parts, body).await?;
            let version = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("Version").and_then(Value::as_str).map(str::to_owned));
            match version.filter(|_| reply.is_success()) {
                Some(version) => {
                    let version_arn = format!("{function_arn}:{version}");
                    let now = Instant::now();
                    shared.versions.published(&version_arn, now);
                    Ok(with_state(
                        reply,
                        shared.versions.is_pending(&version_arn, now),
                        None,
                    ))
                }
                None => Ok(reply),
            }
        }
        operation @ ("GetFunction" | "GetFunctionConfiguration") => {
            let qualifier = query_param(query, "Qualifier").or_else(|| function.qualifier.clone());
            let reply = shared.upstream.forward(parts, body).await?;
            match qualifier {
                Some(version) if reply.is_success() => {
                    let pending = shared
                        .versions
                        .is_pending(&format!("{function_arn}:{version}"), Instant::now());
                    let nested = (operation == "GetFunction").then_some("Configuration");
                    Ok(with_state(reply, pending, nested))
                }
                _ => Ok(reply),
            }
        }
        _ => shared.upstream.forward(parts, body).await,
    }
}

/// A function configuration answer (under `nested`, if given) that says
/// `Pending` while the version is, as Lambda does; moto says `Active`.
fn with_state(mut reply: Reply, pending: bool, nested: Option<&str>) -> Reply {
    if !pending {
        return reply;
    }
    let Ok(mut answer) = serde_json::from_slice::<Value>(&reply.body) else {
        return reply;
    };
    let configuration = match nested {
        Some(field) => answer.get_mut(field),
        None => Some(&mut answer),
    };
    if let Some(Value::Object(fields)) = configuration {
        fields.insert("State".to_owned(), Value::from("Pending"));
        fields.insert(
            "StateReason".to_owned(),
            Value::from("The function is being created."),
        );
        fields.insert("StateReasonCode".to_owned(), Value::from("Creating"));
        reply.body = Bytes::from(answer.to_string());
    }
    reply
}

fn path_and_query(parts: &Parts) -> &str {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
}

fn declared_invoke_mode(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("InvokeMode")?
        .as_str()
        .map(str::to_owned)
}

/// Whether the request sets CORS (`Some(false)`), clears it with an empty
/// `Cors` (`Some(true)`), or leaves it alone (`None`).
fn declared_cors(body: &[u8]) -> Option<bool> {
    let cors = serde_json::from_slice::<Value>(body)
        .ok()?
        .get("Cors")?
        .clone();
    let meaningful = |v: &Value| match v {
        Value::Null | Value::Bool(false) => false,
        Value::Array(items) => !items.is_empty(),
        _ => true,
    };
    match cors {
        Value::Object(fields) => Some(!fields.values().any(meaningful)),
        Value::Null => None,
        _ => Some(false),
    }
}

/// A URL config answer with the declared invoke mode, the URL's slash, and
/// without a CORS an update cleared.
fn corrected_url_config(mut reply: Reply, mode: &str, cors_cleared: bool) -> Reply {
    if let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&reply.body) {
        map.insert("InvokeMode".to_owned(), Value::String(mode.to_owned()));
        if cors_cleared {
            map.remove("Cors");
        }
        if let Some(Value::String(url)) = map.get_mut("FunctionUrl")
            && !url.ends_with('/')
        {
            url.push('/');
        }
        reply.body = Bytes::from(Value::Object(map).to_string());
    }
    reply
}

/// An `AddPermission` (`{"Statement": "<json>"}`) or `GetPolicy`
/// (`{"Policy": "<json>", ...}`) answer with its statements as Lambda writes
/// them.
pub(crate) fn corrected_policy(mut reply: Reply, field: &str) -> Reply {
    if !reply.is_success() {
        return reply;
    }
    let Ok(Value::Object(mut outer)) = serde_json::from_slice::<Value>(&reply.body) else {
        return reply;
    };
    let Some(Ok(mut inner)) = outer
        .get(field)
        .and_then(Value::as_str)
        .map(serde_json::from_str::<Value>)
    else {
        return reply;
    };
    match inner.get_mut("Statement") {
        Some(Value::Array(statements)) => statements.iter_mut().for_each(correct_statement),
        Some(statement @ Value::Object(_)) => correct_statement(statement),
        _ if field == "Statement" => correct_statement(&mut inner),
        _ => {}
    }
    outer.insert(field.to_owned(), Value::String(inner.to_string()));
    reply.body = Bytes::from(Value::Object(outer).to_string());
    reply
}

fn correct_statement(statement: &mut Value) {
    let Value::Object(map) = statement else {
        return;
    };
    let mut conditions: Vec<(&str, &str, Value)> = Vec::new();
    if let Some(auth_type) = map.remove("FunctionUrlAuthType") {
        conditions.push(("StringEquals", "lambda:FunctionUrlAuthType", auth_type));
    }
    if let Some(via_url) = map.remove("InvokedViaFunctionUrl") {
        let truthy = via_url.as_bool() == Some(true) || via_url.as_str() == Some("true");
        if truthy {
            conditions.push((
                "Bool",
                "lambda:InvokedViaFunctionUrl",
                Value::String("true".to_owned()),
            ));
        }
    }
    if !conditions.is_empty() {
        let condition = map
            .entry("Condition")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(condition) = condition {
            for (operator, key, value) in conditions {
                let keys = condition
                    .entry(operator)
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
                if let Value::Object(keys) = keys {
                    keys.insert(key.to_owned(), value);
                }
            }
        }
    }
    if let Some(Value::String(principal)) = map.get("Principal")
        && principal.len() == 12
        && principal.chars().all(|c| c.is_ascii_digit())
    {
        let root = format!("arn:aws:iam::{principal}:root");
        map.insert("Principal".to_owned(), serde_json::json!({ "AWS": root }));
    }
}

/// Whether moto's `GetPolicy` answer (`{"Policy": "<json>", ...}`) has a
/// statement with this `Sid`.
fn policy_has_statement(body: &[u8], sid: &str) -> bool {
    let Ok(outer) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let Some(policy) = outer
        .get("Policy")
        .and_then(|p| p.as_str())
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return false;
    };
    policy
        .get("Statement")
        .and_then(|s| s.as_array())
        .is_some_and(|statements| {
            statements
                .iter()
                .any(|s| s.get("Sid").and_then(|v| v.as_str()) == Some(sid))
        })
}

/// A function name (not an ARN) Lambda accepts: 1 to 64 of
/// `[a-zA-Z0-9-_]`.
fn is_valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_checked_as_lambda_does() {
        assert!(is_valid_function_name("urlguard-books-books-signer"));
        assert!(!is_valid_function_name("urlguard-books-books.v1-signer"));
        assert!(!is_valid_function_name(&"a".repeat(65)));
        assert!(!is_valid_function_name(""));
    }

    #[test]
    fn lambda_paths_name_their_operations() {
        let get = Method::GET;
        assert_eq!(
            operation(&Method::POST, "/2015-03-31/functions"),
            "CreateFunction"
        );
        assert_eq!(operation(&get, "/2015-03-31/functions/"), "ListFunctions");
        assert_eq!(
            operation(
                &Method::DELETE,
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af"
            ),
            "DeleteFunction"
        );
        assert_eq!(
            operation(&Method::POST, "/2021-10-31/functions/f/url"),
            "CreateFunctionUrlConfig"
        );
        assert_eq!(
            operation(&Method::POST, "/2015-03-31/functions/f/policy"),
            "AddPermission"
        );
        assert_eq!(
            operation(&Method::DELETE, "/2015-03-31/functions/f/policy/sid"),
            "RemovePermission"
        );
        assert_eq!(
            operation(&Method::POST, "/2015-03-31/functions/f/versions"),
            "PublishVersion"
        );
        assert_eq!(
            operation(
                &get,
                "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af"
            ),
            "ListTags"
        );
        assert_eq!(
            operation(&get, "/2015-03-31/event-source-mappings/"),
            "Unknown"
        );
    }

    #[test]
    fn function_identifiers_of_every_form_parse() {
        let full = FunctionRef::parse("arn:aws:lambda:us-east-1:123456789012:function:signer:3")
            .expect("arn");
        assert_eq!(full.region.as_deref(), Some("us-east-1"));
        assert_eq!(full.qualifier.as_deref(), Some("3"));
        assert_eq!(
            full.unqualified_arn("eu-west-1"),
            "arn:aws:lambda:us-east-1:123456789012:function:signer"
        );
        let short = FunctionRef::parse("signer:live").expect("name");
        assert_eq!(
            (short.name.as_str(), short.qualifier.as_deref()),
            ("signer", Some("live"))
        );
        assert_eq!(
            short.unqualified_arn("eu-west-1"),
            "arn:aws:lambda:eu-west-1:123456789012:function:signer"
        );
        assert!(FunctionRef::parse("123456789012:function:signer").is_some());
        assert!(FunctionRef::parse("a:b:c:d:e").is_none());
    }

    #[test]
    fn policy_statements_read_back_as_lambda_writes_them() {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "url", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "AWS_IAM",
                "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}
            }, {
                "Sid": "invoke", "Effect": "Allow", "Principal": "210987654321",
                "Action": "lambda:InvokeFunction", "InvokedViaFunctionUrl": true
            }]
        });
        let body = serde_json::json!({"Policy": policy.to_string(), "RevisionId": "r"}).to_string();
        let reply = corrected_policy(
            Reply::json(StatusCode::OK, &serde_json::from_str(&body).expect("json")),
            "Policy",
        );
        let outer: Value = serde_json::from_slice(&reply.body).expect("json");
        let fixed: Value =
            serde_json::from_str(outer["Policy"].as_str().expect("policy")).expect("json");
        assert_eq!(
            fixed["Statement"][0]["Condition"],
            serde_json::json!({
                "ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"},
                "StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}
            })
        );
        assert!(fixed["Statement"][0].get("FunctionUrlAuthType").is_none());
        assert_eq!(
            fixed["Statement"][1]["Condition"],
            serde_json::json!({"Bool": {"lambda:InvokedViaFunctionUrl": "true"}})
        );
        assert_eq!(
            fixed["Statement"][1]["Principal"],
            serde_json::json!({"AWS": "arn:aws:iam::210987654321:root"})
        );
        assert_eq!(outer["RevisionId"], "r");
    }

    #[test]
    fn function_urls_end_with_a_slash() {
        let body = serde_json::json!({"FunctionUrl": "https://abc.lambda-url.us-east-1.on.aws", "InvokeMode": "Buffered"});
        let reply = corrected_url_config(Reply::json(StatusCode::OK, &body), "BUFFERED", false);
        let fixed: Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(
            fixed["FunctionUrl"],
            "https://abc.lambda-url.us-east-1.on.aws/"
        );
        assert_eq!(fixed["InvokeMode"], "BUFFERED");
    }

    #[test]
    fn an_empty_cors_clears_it() {
        assert_eq!(declared_cors(br#"{"Cors":{}}"#), Some(true));
        assert_eq!(
            declared_cors(br#"{"Cors":{"AllowOrigins":[],"AllowCredentials":false}}"#),
            Some(true)
        );
        assert_eq!(
            declared_cors(br#"{"Cors":{"AllowOrigins":["https://a"]}}"#),
            Some(false)
        );
        assert_eq!(declared_cors(br#"{"AuthType":"AWS_IAM"}"#), None);
    }

    #[test]
    fn duplicate_statement_ids_are_found_in_the_policy_document() {
        let body = serde_json::json!({
            "Policy": serde_json::json!({"Statement": [{"Sid": "urlguard-a"}]}).to_string(),
            "RevisionId": "x"
        })
        .to_string();
        assert!(policy_has_statement(body.as_bytes(), "urlguard-a"));
        assert!(!policy_has_statement(body.as_bytes(), "urlguard-b"));
    }
}
