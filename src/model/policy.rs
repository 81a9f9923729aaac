//! Reading IAM policy documents into the model: a Lambda function's resource
//! policy as [`PolicyStatement`]s, and the function ARNs the signer role's
//! invoke policy names. Both are document parsing, not planning, so they
//! live here, below `plan` and `aws`: the `aws` adapter hands over the
//! document Lambda returned, the teardown plan the one IAM returned.
//! Rewriting the invoke policy without some functions
//! (`plan::teardown::invoke_policy_without`) stays in `plan`: it decides what
//! the policy becomes, renders it as the apply does, and matches ARNs to the
//! functions the resources name.
//!
//! Decisions written down here:
//! - Resource policies are parsed leniently: `Statement` as object or list,
//!   `Principal` as `"*"` or `{Service|AWS|Federated: string|list}` (first
//!   value), `Action` as string or list (joined with `,`), condition keys
//!   case-insensitively under any operator. `Deny` statements are skipped:
//!   Lambda's `AddPermission` never writes them. An account principal
//!   (`arn:aws:iam::<account>:root`, how Lambda stores an account id) reads
//!   back as the bare account id, so what `add_permission` wrote reads back
//!   equal. moto 5.2.5 writes `FunctionUrlAuthType` and
//!   `InvokedViaFunctionUrl` at the statement's top level instead of as
//!   conditions (and keeps an account principal bare); both are read too —
//!   no real policy has such keys, so nothing else can be misread.
//! - For judging who a statement lets in ([`parse_grants`], used by
//!   `plan::exposure`), every statement is kept as written: each
//!   principal (`"*"`, `{"AWS": "*"}` and a `NotPrincipal` read as `*`),
//!   `Action` or `NotAction`, and each condition with its operator. moto's
//!   top-level keys read as the `StringEquals`/`Bool` conditions Lambda
//!   writes for them.
//! - The signer role's invoke policy is urlguard's own document, read as
//!   `plan::signer::invoke_policy` writes it: `Statement` a list, the
//!   [`INVOKE_FUNCTION_URLS_SID`] statement's `Resource` a string or a list
//!   of strings; anything else names no function.

use serde_json::Value;

use crate::model::lambda::{ConditionEntry, GrantStatement, PolicyStatement, StatementActions};

/// The id of the signer role's statement that lists the functions it may
/// invoke through their URLs: written by `plan::signer::invoke_policy`, read
/// by [`invoke_policy_resources`].
pub const INVOKE_FUNCTION_URLS_SID: &str = "InvokeProtectedFunctionUrls";

/// The statements of a Lambda resource policy document.
pub fn parse_resource_policy(document: &str) -> Result<Vec<PolicyStatement>, String> {
    let policy: Value = serde_json::from_str(document)
        .map_err(|e| format!("the resource policy is not JSON: {e}"))?;
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    };
    Ok(statements
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) != Some("Deny"))
        .map(parse_statement)
        .collect())
}

/// Every statement of a Lambda resource policy document, as written.
pub fn parse_grants(document: &str) -> Result<Vec<GrantStatement>, String> {
    let policy: Value = serde_json::from_str(document)
        .map_err(|e| format!("the resource policy is not JSON: {e}"))?;
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    };
    Ok(statements.into_iter().map(parse_grant).collect())
}

fn parse_grant(statement: &Value) -> GrantStatement {
    let principals = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (_, Some(_)) => vec!["*".to_owned()],
        (Some(Value::String(any)), None) => vec![any.clone()],
        (Some(Value::Object(by_kind)), None) => by_kind
            .values()
            .flat_map(|v| strings(Some(v)))
            .map(|p| account_of_root_arn(&p).map_or(p.clone(), str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let actions = match statement.get("NotAction") {
        Some(not) => StatementActions::AllBut(strings(Some(not))),
        None => StatementActions::Listed(strings(statement.get("Action"))),
    };
    let mut conditions: Vec<ConditionEntry> = statement
        .get("Condition")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(operator, keys)| Some((operator, keys.as_object()?)))
        .flat_map(|(operator, keys)| {
            keys.iter().map(|(key, values)| ConditionEntry {
                operator: operator.clone(),
                key: key.clone(),
                values: strings(Some(values)),
            })
        })
        .collect();
    for (operator, key, field) in [
        (
            "StringEquals",
            "lambda:FunctionUrlAuthType",
            "FunctionUrlAuthType",
        ),
        (
            "Bool",
            "lambda:InvokedViaFunctionUrl",
            "InvokedViaFunctionUrl",
        ),
    ] {
        if let Some(value) = statement.get(field) {
            conditions.push(ConditionEntry {
                operator: operator.to_owned(),
                key: key.to_owned(),
                values: strings(Some(value)),
            });
        }
    }
    GrantStatement {
        sid: statement
            .get("Sid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        allow: statement.get("Effect").and_then(Value::as_str) != Some("Deny"),
        principals,
        actions,
        conditions,
    }
}

fn parse_statement(statement: &Value) -> PolicyStatement {
    let mut parsed = PolicyStatement {
        sid: statement
            .get("Sid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        action: strings(statement.get("Action")).join(","),
        principal: principal(statement.get("Principal")),
        source_arn: None,
        function_url_auth_type: None,
        invoked_via_function_url: false,
    };
    // Condition keys under any operator; moto (5.2.5) instead copies
    // `FunctionUrlAuthType` and `InvokedViaFunctionUrl` from the request to
    // the statement's top level, read here as if they were conditions.
    let conditions = statement.get("Condition").and_then(Value::as_object);
    let moto_keys = [
        (
            "lambda:FunctionUrlAuthType",
            statement.get("FunctionUrlAuthType"),
        ),
        (
            "lambda:InvokedViaFunctionUrl",
            statement.get("InvokedViaFunctionUrl"),
        ),
    ];
    let moto_keys = moto_keys
        .iter()
        .filter_map(|(key, value)| Some((*key, (*value)?)));
    let condition_keys = conditions
        .into_iter()
        .flat_map(|operators| operators.values())
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.iter().map(|(key, value)| (key.as_str(), value)));
    for (key, value) in condition_keys.chain(moto_keys) {
        match key.to_ascii_lowercase().as_str() {
            "aws:sourcearn" => parsed.source_arn = strings(Some(value)).into_iter().next(),
            "lambda:functionurlauthtype" => {
                parsed.function_url_auth_type = strings(Some(value)).into_iter().next();
            }
            "lambda:invokedviafunctionurl" => {
                parsed.invoked_via_function_url = strings(Some(value))
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case("true"));
            }
            _ => {}
        }
    }
    parsed
}

/// A policy value that may be a string, a boolean, or a list of them.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Array(items)) => items.iter().flat_map(|v| strings(Some(v))).collect(),
        _ => Vec::new(),
    }
}

/// `"*"`, a service, an account id (from its root ARN) or an ARN.
fn principal(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    if let Value::String(s) = value {
        return s.clone();
    }
    for key in ["Service", "AWS", "Federated", "CanonicalUser"] {
        if let Some(first) = strings(value.get(key)).into_iter().next() {
            return account_of_root_arn(&first).map_or(first.clone(), str::to_owned);
        }
    }
    value.to_string()
}

/// `123456789012` for `arn:aws:iam::123456789012:root`.
fn account_of_root_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(":iam::")?;
    let account = rest.strip_suffix(":root")?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// Whether two IAM policy documents say the same thing, as IAM reads
/// them: the order of a list (statements, actions, resources, principals)
/// does not matter, and neither does a one-item list against its item.
/// IAM returns a trust policy's `Principal.Service` list in varying order;
/// comparing the JSON as written would rewrite an unchanged policy.
pub fn same_policy(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| (key.clone(), canonical(item)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            items.sort_by_key(Value::to_string);
            items.dedup();
            match <[Value; 1]>::try_from(items) {
                Ok([one]) => one,
                Err(items) => Value::Array(items),
            }
        }
        other => other.clone(),
    }
}

/// The function ARNs the signer role's invoke policy names (the resources
/// of its [`INVOKE_FUNCTION_URLS_SID`] statement).
pub fn invoke_policy_resources(policy: &Value) -> Vec<String> {
    policy
        .get("Statement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s.get("Sid").and_then(Value::as_str) == Some(INVOKE_FUNCTION_URLS_SID))
        .flat_map(|s| match s.get("Resource") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn policies_compare_as_iam_reads_them() {
        let written = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole"}]});
        let read_back = json!({"Version": "2012-10-17", "Statement": {
            "Action": ["sts:AssumeRole"],
            "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
            "Effect": "Allow"}});
        assert!(same_policy(&written, &read_back));
        let widened = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com", "ec2.amazonaws.com"]},
            "Action": "sts:AssumeRole"}]});
        assert!(!same_policy(&written, &widened));
    }

    #[test]
    fn resource_policies_parse_in_the_shapes_lambda_and_moto_write() {
        let document = r#"{
          "Version": "2012-10-17",
          "Id": "default",
          "Statement": [
            {
              "Sid": "urlguard-oac-url",
              "Effect": "Allow",
              "Principal": {"Service": "cloudfront.amazonaws.com"},
              "Action": "lambda:InvokeFunctionUrl",
              "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:f",
              "Condition": {
                "ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"},
                "StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}
              }
            },
            {
              "Sid": "urlguard-oac-invoke",
              "Effect": "Allow",
              "Principal": {"Service": ["cloudfront.amazonaws.com"]},
              "Action": ["lambda:InvokeFunction"],
              "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:f",
              "Condition": {
                "ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"},
                "Bool": {"lambda:InvokedViaFunctionUrl": true}
              }
            },
            {"Sid": "account", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "lambda:InvokeFunction"},
            {"Sid": "open", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
             "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}},
            {"Sid": "deny", "Effect": "Deny", "Principal": "*", "Action": "lambda:InvokeFunction"}
          ]
        }"#;
        let statements = parse_resource_policy(document).expect("parses");
        assert_eq!(
            statements,
            vec![
                PolicyStatement {
                    sid: "urlguard-oac-url".into(),
                    action: "lambda:InvokeFunctionUrl".into(),
                    principal: "cloudfront.amazonaws.com".into(),
                    source_arn: Some("arn:aws:cloudfront::123456789012:distribution/E1".into()),
                    function_url_auth_type: Some("AWS_IAM".into()),
                    invoked_via_function_url: false,
                },
                PolicyStatement {
                    sid: "urlguard-oac-invoke".into(),
                    action: "lambda:InvokeFunction".into(),
                    principal: "cloudfront.amazonaws.com".into(),
                    source_arn: Some("arn:aws:cloudfront::123456789012:distribution/E1".into()),
                    function_url_auth_type: None,
                    invoked_via_function_url: true,
                },
                PolicyStatement {
                    sid: "account".into(),
                    action: "lambda:InvokeFunction".into(),
                    principal: "210987654321".into(),
                    source_arn: None,
                    function_url_auth_type: None,
                    invoked_via_function_url: false,
                },
                PolicyStatement {
                    sid: "open".into(),
                    action: "lambda:InvokeFunctionUrl".into(),
                    principal: "*".into(),
                    source_arn: None,
                    function_url_auth_type: Some("NONE".into()),
                    invoked_via_function_url: false,
                },
            ]
        );
        let grants = parse_grants(document).expect("parses");
        assert_eq!(grants.len(), 5, "Deny statements are kept");
        assert!(!grants[4].allow);
        assert_eq!(grants[2].principals, ["210987654321"]);
        assert_eq!(
            grants[1].actions,
            StatementActions::Listed(vec!["lambda:InvokeFunction".into()])
        );
        assert!(grants[1].conditions.contains(&ConditionEntry {
            operator: "Bool".into(),
            key: "lambda:InvokedViaFunctionUrl".into(),
            values: vec!["true".into()],
        }));
        let odd = r#"{"Statement": [
          {"Sid": "not", "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "NotAction": ["lambda:GetFunction"]},
          {"Sid": "many", "Effect": "Allow", "Principal": {"AWS": ["*", "arn:aws:iam::210987654321:role/r"], "Service": "s3.amazonaws.com"}, "Action": "lambda:*"}
        ]}"#;
        let grants = parse_grants(odd).expect("parses");
        assert_eq!(grants[0].principals, ["*"]);
        assert_eq!(
            grants[0].actions,
            StatementActions::AllBut(vec!["lambda:GetFunction".into()])
        );
        assert_eq!(
            grants[1].principals,
            ["*", "arn:aws:iam::210987654321:role/r", "s3.amazonaws.com"]
        );
        let single = r#"{"Statement": {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/x"}, "Action": "lambda:InvokeFunction"}}"#;
        let statements = parse_resource_policy(single).expect("parses");
        assert_eq!(statements[0].principal, "arn:aws:iam::123456789012:role/x");
        assert!(parse_resource_policy("not json").is_err());
    }

    #[test]
    fn moto_style_statements_read_like_lambda_ones() {
        let document = r#"{"Version": "2012-10-17", "Id": "default", "Statement": [
          {"Action": "lambda:InvokeFunctionUrl", "Principal": {"Service": "cloudfront.amazonaws.com"},
           "FunctionUrlAuthType": "AWS_IAM", "Effect": "Allow", "Sid": "a",
           "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}},
          {"Action": "lambda:InvokeFunction", "Principal": {"Service": "cloudfront.amazonaws.com"},
           "InvokedViaFunctionUrl": true, "Effect": "Allow", "Sid": "b"},
          {"Action": "lambda:InvokeFunctionUrl", "Principal": "210987654321",
           "FunctionUrlAuthType": "AWS_IAM", "Effect": "Allow", "Sid": "c"}
        ]}"#;
        let statements = parse_resource_policy(document).expect("parses");
        assert_eq!(
            statements[0].function_url_auth_type.as_deref(),
            Some("AWS_IAM")
        );
        assert_eq!(
            statements[0].source_arn.as_deref(),
            Some("arn:aws:cloudfront::123456789012:distribution/E1")
        );
        assert!(statements[1].invoked_via_function_url);
        assert_eq!(statements[2].principal, "210987654321");
        let grants = parse_grants(document).expect("parses");
        assert!(grants[0].conditions.contains(&ConditionEntry {
            operator: "StringEquals".into(),
            key: "lambda:FunctionUrlAuthType".into(),
            values: vec!["AWS_IAM".into()],
        }));
        assert_eq!(grants[2].principals, ["210987654321"]);
        assert_eq!(
            statements[2].function_url_auth_type.as_deref(),
            Some("AWS_IAM")
        );
    }
}
