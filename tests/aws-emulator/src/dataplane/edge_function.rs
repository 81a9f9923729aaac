//! Running a Lambda@Edge association: the published version's
//! configuration is read from Lambda (`GetFunctionConfiguration` with the
//! version as qualifier: its `CodeSha256`, `Handler`, `Role`, `Timeout`),
//! its code unpacked (`edge_code`) and its handler called by Node
//! (`node_runner`) with the credentials of a session of its execution role,
//! as Lambda gives a function (Lambda developer guide, "Lambda execution
//! role", https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
//! The session is started through the emulator's own STS (moto) and kept
//! per role; its key is known to `credentials`, so a function URL verifies
//! what the function signs and evaluates the role's policies.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::credentials::Credential;
use crate::ids::lock;
use crate::server::Shared;

/// Why an association could not run (CloudFront answers 503 for these).
#[derive(Debug, thiserror::Error)]
pub(crate) enum EdgeError {
    #[error("{0} is not a Lambda function version ARN")]
    NotAVersion(String),
    #[error("reading {arn}'s configuration: {detail}")]
    Configuration { arn: String, detail: String },
    #[error("assuming the execution role {role}: {detail}")]
    Role { role: String, detail: String },
    #[error(transparent)]
    Code(#[from] super::edge_code::CodeError),
    #[error("no module for handler {handler} in the code of {arn}")]
    NoModule { arn: String, handler: String },
    #[error(transparent)]
    Run(#[from] super::node_runner::RunError),
}

/// Sessions of execution roles, by role ARN.
#[derive(Debug, Default)]
pub(crate) struct RoleSessions {
    sessions: Mutex<HashMap<String, Credential>>,
}

async fn session(shared: &Shared, role_arn: &str) -> Result<Credential, EdgeError> {
    if let Some(found) = lock(&shared.dataplane.role_sessions.sessions).get(role_arn) {
        return Ok(found.clone());
    }
    let failed = |detail: String| EdgeError::Role {
        role: role_arn.to_owned(),
        detail,
    };
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRole")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", role_arn)
        .append_pair("RoleSessionName", "lambda-edge")
        .finish();
    let reply = shared
        .upstream
        .call_with(
            "sts",
            "us-east-1",
            Method::POST,
            "/",
            &[("content-type", "application/x-www-form-urlencoded")],
            Bytes::from(body),
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !reply.is_success() {
        return Err(failed(String::from_utf8_lossy(&reply.body).into_owned()));
    }
    let credential = shared
        .dataplane
        .credentials
        .learn_session(&String::from_utf8_lossy(&reply.body))
        .ok_or_else(|| failed("an answer without credentials".to_owned()))?;
    lock(&shared.dataplane.role_sessions.sessions).insert(role_arn.to_owned(), credential.clone());
    Ok(credential)
}

/// The module file of `handler` (`FILE.EXPORT`) in `dir`, as Node.js
/// Lambda runtimes resolve it.
fn module_file(dir: &std::path::Path, handler: &str) -> Option<(PathBuf, String)> {
    let (file, export) = handler.rsplit_once('.')?;
    ["mjs", "js", "cjs"]
        .iter()
        .map(|ext| dir.join(format!("{file}.{ext}")))
        .find(|path| path.is_file())
        .map(|path| (path, export.to_owned()))
}

/// Runs the version `version_arn` on `event`; the function's result.
pub(crate) async fn run(
    shared: &Shared,
    version_arn: &str,
    event: &Value,
) -> Result<Value, EdgeError> {
    let parts: Vec<&str> = version_arn.split(':').collect();
    let [_, _, "lambda", region, _, "function", name, version] = parts.as_slice() else {
        return Err(EdgeError::NotAVersion(version_arn.to_owned()));
    };
    let configuration_error = |detail: String| EdgeError::Configuration {
        arn: version_arn.to_owned(),
        detail,
    };
    let reply = shared
        .upstream
        .call(
            "lambda",
            region,
            Method::GET,
            &format!("/2015-03-31/functions/{name}/configuration?Qualifier={version}"),
        )
        .await
        .map_err(|e| configuration_error(e.to_string()))?;
    if !reply.is_success() {
        return Err(configuration_error(
            String::from_utf8_lossy(&reply.body).into_owned(),
        ));
    }
    let config: Value =
        serde_json::from_slice(&reply.body).map_err(|e| configuration_error(e.to_string()))?;
    let field = |name: &str| config[name].as_str().unwrap_or_default().to_owned();
    let dir = shared.dataplane.code.unpacked(&field("CodeSha256"))?;
    let handler = field("Handler");
    let (module, export) = module_file(&dir, &handler).ok_or_else(|| EdgeError::NoModule {
        arn: version_arn.to_owned(),
        handler: handler.clone(),
    })?;
    let credential = session(shared, &field("Role")).await?;
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", credential.access_key),
        ("AWS_SECRET_ACCESS_KEY", credential.secret),
        ("AWS_REGION", (*region).to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", format!("{region}.{name}")),
        ("AWS_LAMBDA_FUNCTION_VERSION", (*version).to_owned()),
    ];
    if let Some(token) = credential.session_token {
        env.push(("AWS_SESSION_TOKEN", token));
    }
    let timeout = Duration::from_secs(config["Timeout"].as_u64().unwrap_or(3));
    Ok(shared
        .dataplane
        .node
        .invoke(&module, &export, &env, event, timeout)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_resolve_to_module_files_as_node_runtimes_do() {
        let dir = std::env::temp_dir().join(format!("edge-function-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).expect("dir");
        std::fs::write(dir.join("index.mjs"), "").expect("file");
        std::fs::write(dir.join("lib/sign.js"), "").expect("file");
        assert_eq!(
            module_file(&dir, "index.handler"),
            Some((dir.join("index.mjs"), "handler".to_owned()))
        );
        assert_eq!(
            module_file(&dir, "lib/sign.run"),
            Some((dir.join("lib/sign.js"), "run".to_owned()))
        );
        assert_eq!(module_file(&dir, "missing.handler"), None);
        assert_eq!(module_file(&dir, "nodot"), None);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
