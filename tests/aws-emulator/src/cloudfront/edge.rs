//! What CloudFront checks about a Lambda@Edge function when a distribution
//! associates one of its versions (beyond the ARN's shape, checked when the
//! config is read): the version exists (asked of moto's Lambda,
//! `GetFunction`), and the function fits Lambda@Edge — no environment
//! variables, no layers, no VPC, `x86_64`, a timeout of at most 30 s for
//! origin events and 5 s (and 128 MB) for viewer events, and an execution
//! role that both `lambda.amazonaws.com` and `edgelambda.amazonaws.com` may
//! assume (asked of moto's IAM, `GetRole`), and the version is `Active`
//! (see `versions`). Each refusal is `InvalidLambdaFunctionAssociation`.

use std::collections::BTreeMap;
use std::time::Instant;

use http::{Method, StatusCode};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

use super::config::{Association, DistributionConfig, EDGE_REGION};
use super::xml::{CfError, child, child_text};
use crate::upstream::Upstream;
use crate::versions::PendingVersions;

fn invalid(message: String) -> CfError {
    CfError::bad_request("InvalidLambdaFunctionAssociation", message)
}

fn internal(message: String) -> CfError {
    CfError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
}

/// Checks every associated function version of `config`.
pub(crate) async fn check_associations(
    config: &DistributionConfig,
    upstream: &Upstream,
    versions: &PendingVersions,
) -> Result<(), CfError> {
    let mut by_arn: BTreeMap<&str, Vec<&Association>> = BTreeMap::new();
    for association in &config.associations {
        by_arn
            .entry(association.arn.as_str())
            .or_default()
            .push(association);
    }
    let mut checked_roles: Vec<String> = Vec::new();
    for (arn, associations) in by_arn {
        let first = associations[0];
        let configuration = function_configuration(first, upstream).await?;
        if versions.is_pending(arn, Instant::now()) {
            return Err(invalid(format!(
                "The function must be in an Active state. The current state for function {arn} is Pending"
            )));
        }
        check_function(arn, &configuration, &associations)?;
        if let Some(role) = configuration.get("Role").and_then(Value::as_str)
            && !checked_roles.iter().any(|r| r == role)
        {
            check_role(role, upstream).await?;
            checked_roles.push(role.to_owned());
        }
    }
    Ok(())
}

/// moto's `GetFunction` `Configuration` of the associated version.
async fn function_configuration(
    association: &Association,
    upstream: &Upstream,
) -> Result<Value, CfError> {
    let cannot_retrieve = || {
        invalid(format!(
            "Lambda@Edge cannot retrieve the specified Lambda function. Update the IAM policy to add permission: lambda:GetFunction for resource: {} and try again.",
            association.arn
        ))
    };
    let here = crate::accounts::current();
    if association.function.account.as_deref().unwrap_or(&here) != here {
        return Err(cannot_retrieve());
    }
    let path = format!(
        "/2015-03-31/functions/{}?Qualifier={}",
        utf8_percent_encode(&association.function.name, NON_ALPHANUMERIC),
        association.version
    );
    let reply = upstream
        .call("lambda", EDGE_REGION, Method::GET, &path)
        .await
        .map_err(|e| {
            internal(format!(
                "aws-emulator could not check {}: {e}",
                association.arn
            ))
        })?;
    if reply.status == StatusCode::NOT_FOUND {
        return Err(cannot_retrieve());
    }
    if !reply.is_success() {
        return Err(internal(format!(
            "aws-emulator could not check {}: Lambda answered {}",
            association.arn, reply.status
        )));
    }
    serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("Configuration").cloned())
        .ok_or_else(|| {
            internal(format!(
                "aws-emulator could not read the configuration of {}",
                association.arn
            ))
        })
}

fn non_empty(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        _ => false,
    }
}

/// The Lambda@Edge restrictions a function's configuration must meet.
fn check_function(
    arn: &str,
    configuration: &Value,
    associations: &[&Association],
) -> Result<(), CfError> {
    if non_empty(
        configuration
            .get("Environment")
            .and_then(|e| e.get("Variables")),
    ) {
        return Err(invalid(format!(
            "The function cannot have environment variables. Function: {arn}"
        )));
    }
    if non_empty(configuration.get("Layers")) {
        return Err(invalid(format!(
            "The function cannot have layers. Function: {arn}"
        )));
    }
    if non_empty(
        configuration
            .get("VpcConfig")
            .and_then(|v| v.get("SubnetIds")),
    ) {
        return Err(invalid(format!(
            "The function cannot be configured to access resources in a VPC. Function: {arn}"
        )));
    }
    let arm = configuration
        .get("Architectures")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() != Some("x86_64")));
    if arm {
        return Err(invalid(format!(
            "The function must use the x86_64 architecture. Function: {arn}"
        )));
    }
    let timeout = configuration
        .get("Timeout")
        .and_then(Value::as_u64)
        .unwrap_or(3);
    let memory = configuration
        .get("MemorySize")
        .and_then(Value::as_u64)
        .unwrap_or(128);
    for association in associations {
        let viewer = association.event_type.starts_with("viewer-");
        let max_timeout = if viewer { 5 } else { 30 };
        if timeout > max_timeout {
            return Err(invalid(format!(
                "The function execution time must not exceed {max_timeout} seconds for {} events (it is {timeout}). Function: {arn}",
                association.event_type
            )));
        }
        if viewer && memory > 128 {
            return Err(invalid(format!(
                "The function memory size must not exceed 128 MB for {} events (it is {memory}). Function: {arn}",
                association.event_type
            )));
        }
    }
    Ok(())
}

/// The execution role must trust both Lambda and Lambda@Edge.
async fn check_role(role_arn: &str, upstream: &Upstream) -> Result<(), CfError> {
    let refused = || {
        invalid(format!(
            "The function execution role must be assumable with edgelambda.amazonaws.com as well as lambda.amazonaws.com principals. Update the IAM role and try again. Role: {role_arn}"
        ))
    };
    let Some(name) = role_arn
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && role_arn.contains(":role/"))
    else {
        return Err(refused());
    };
    let path = format!(
        "/?Action=GetRole&RoleName={}&Version=2010-05-08",
        utf8_percent_encode(name, NON_ALPHANUMERIC)
    );
    let reply = upstream
        .call("iam", "us-east-1", Method::GET, &path)
        .await
        .map_err(|e| internal(format!("aws-emulator could not read role {role_arn}: {e}")))?;
    if !reply.is_success() {
        return Err(refused());
    }
    let text = String::from_utf8_lossy(&reply.body);
    let document = roxmltree::Document::parse(&text)
        .ok()
        .and_then(|doc| {
            let result = child(doc.root_element(), "GetRoleResult")?;
            let role = child(result, "Role")?;
            child_text(role, "AssumeRolePolicyDocument").map(str::to_owned)
        })
        .ok_or_else(refused)?;
    let decoded = percent_decode_str(&document)
        .decode_utf8_lossy()
        .into_owned();
    let trusted = serde_json::from_str::<Value>(&decoded)
        .map(|policy| trusted_services(&policy))
        .unwrap_or_default();
    if ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
        .iter()
        .all(|s| trusted.iter().any(|t| t == s))
    {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The services an `Allow` + `sts:AssumeRole` statement of a trust policy
/// names as principals.
fn trusted_services(policy: &Value) -> Vec<String> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    let as_list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    statements
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|s| {
            as_list(s.get("Action"))
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
        })
        .flat_map(|s| as_list(s.get("Principal").and_then(|p| p.get("Service"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_name_their_services() {
        let policy = serde_json::json!({
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
                {"Effect": "Deny", "Principal": {"Service": "evil.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ]
        });
        assert_eq!(
            trusted_services(&policy),
            ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]
        );
        let single = serde_json::json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole"]}});
        assert_eq!(trusted_services(&single), ["lambda.amazonaws.com"]);
    }

    #[test]
    fn edge_functions_have_no_environment_and_short_timeouts() {
        let association = |event: &str| Association {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f:1".into(),
            function: crate::lambda::FunctionRef::parse(
                "arn:aws:lambda:us-east-1:123456789012:function:f:1",
            )
            .expect("arn"),
            version: "1".into(),
            event_type: event.into(),
        };
        let origin = association("origin-request");
        let viewer = association("viewer-request");
        let ok =
            serde_json::json!({"Timeout": 30, "MemorySize": 1024, "Architectures": ["x86_64"]});
        assert!(check_function("f", &ok, &[&origin]).is_ok());
        assert!(check_function("f", &ok, &[&viewer]).is_err());
        let env = serde_json::json!({"Environment": {"Variables": {"A": "1"}}});
        assert!(
            check_function("f", &env, &[&origin]).is_err_and(|e| e.message.contains("environment"))
        );
        let arm = serde_json::json!({"Architectures": ["arm64"]});
        assert!(check_function("f", &arm, &[&origin]).is_err());
    }
}
