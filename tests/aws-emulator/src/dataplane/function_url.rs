//! A function URL answering its callers as Lambda does (Lambda developer
//! guide, "Control access to Lambda function URLs",
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html): the URL
//! config is read from Lambda on each request (it may have changed out of
//! band); a CORS preflight is answered from its `Cors`; under `AWS_IAM`
//! the SigV4 signature is verified (`sigv4_verify`) and the signer's
//! principal authorized (`invoke_auth`); under `NONE` the caller is
//! anonymous and only a public grant lets it in. Every refusal is
//! `403 {"Message":"Forbidden"}`, the answer Lambda gives whatever the
//! reason (the reason is logged). An admitted request reaches the stand-in
//! function (`echo`).

use std::time::SystemTime;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tracing::info;

use super::credentials::Principal;
use super::invoke_auth::{self, Caller, Target};
use super::sigv4_verify::{self, Received};
use super::url_hosts::host_of;
use super::{Inbound, cors, echo};
use crate::reply::Reply;
use crate::server::Shared;

/// Lambda's refusal of a function URL call.
pub(crate) fn forbidden() -> Reply {
    Reply::json(StatusCode::FORBIDDEN, &json!({"Message": "Forbidden"}))
        .with_header("x-amzn-errortype", "AccessDeniedException")
}

/// The URL config Lambda holds now for `target`, if its URL is `host`.
async fn current_config(shared: &Shared, target: &Target, host: &str) -> Option<Value> {
    let mut path = format!("/2021-10-31/functions/{}/url", target.name());
    if let Some(q) = &target.qualifier {
        path.push_str(&format!("?Qualifier={q}"));
    }
    let reply = shared
        .upstream
        .call("lambda", &target.region, Method::GET, &path)
        .await
        .ok()?;
    if !reply.is_success() {
        return None;
    }
    let mut config: Value = serde_json::from_slice(&reply.body).ok()?;
    let url_host = config
        .get("FunctionUrl")
        .and_then(Value::as_str)
        .and_then(host_of);
    if url_host.as_deref() != Some(host) {
        return None;
    }
    if shared.lambda.cors_cleared(&target.function_arn)
        && let Some(map) = config.as_object_mut()
    {
        map.remove("Cors");
    }
    Some(config)
}

/// Answers one request to the function URL `host`.
pub(crate) async fn handle(shared: &Shared, host: &str, request: &Inbound) -> Reply {
    let not_found = || {
        Reply::json(
            StatusCode::NOT_FOUND,
            &json!({"Message": format!("no function URL {host} (aws-emulator knows the URLs Lambda answered about)")}),
        )
    };
    let Some(target) = shared.dataplane.url_hosts.target(host) else {
        return not_found();
    };
    let Some(config) = current_config(shared, &target, host).await else {
        return not_found();
    };
    let cors_config = config.get("Cors").filter(|c| c.is_object());
    if let Some(cors_config) = cors_config
        && cors::is_preflight(request)
    {
        return cors::preflight(request, cors_config);
    }
    let auth_type = config
        .get("AuthType")
        .and_then(Value::as_str)
        .unwrap_or("AWS_IAM");
    let verified = if auth_type == "NONE" {
        None
    } else {
        let received = Received {
            method: &request.method,
            path_and_query: &request.path_and_query,
            headers: &request.headers,
            body: &request.body,
        };
        match sigv4_verify::verify(
            &received,
            "lambda",
            &target.region,
            &shared.dataplane.credentials,
            SystemTime::now(),
        ) {
            Ok(credential) => Some(credential),
            Err(e) => {
                info!(host, function = %target.resource(), reason = %e, "function URL: signature refused");
                return forbidden();
            }
        }
    };
    let (caller, caller_name) = match &verified {
        None => (Caller::Anonymous, "anonymous".to_owned()),
        Some(credential) => (
            Caller::Signed(&credential.principal),
            match &credential.principal {
                Principal::RoleSession { session_arn, .. } => session_arn.clone(),
                Principal::Service { service, .. } => service.clone(),
            },
        ),
    };
    if let Err(refused) = invoke_auth::authorize(shared, caller, &target, auth_type).await {
        info!(host, caller = %caller_name, reason = %refused, "function URL: not authorized");
        return forbidden();
    }
    info!(host, caller = %caller_name, method = %request.method, path = request.path(), "function URL: invoked");
    let mut reply = Reply::json(StatusCode::OK, &echo::echo(request, &caller_name));
    if let Some(origin) = request.headers.get("origin").and_then(|v| v.to_str().ok())
        && let Some(cors_config) = cors_config
        && cors_config["AllowOrigins"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o == "*" || o == origin))
    {
        reply = reply.with_header("access-control-allow-origin", origin);
    }
    if request.method == Method::HEAD {
        reply.body = bytes::Bytes::new();
    }
    reply
}
