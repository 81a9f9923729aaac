//! Evaluating one request against one identity policy, with `iam-rs`
//! (pinned `=0.8.0` as its README asks): a maintained evaluator of the IAM
//! policy language (actions and resources with `*`/`?`, `NotAction`,
//! `NotResource`, the condition operators with `IfExists`,
//! `ForAllValues:`/`ForAnyValue:`, `Null`, case-insensitive keys, policy
//! variables) rather than one of our own.
//!
//! One gap is worked around here: an action with no resource type in the
//! Service Authorization Reference (`cloudfront:CreateDistribution`, the
//! `List*` calls) is requested on the resource `*`, and "you must specify
//! all resources (`*`)" for it (IAM user guide, "Policy evaluation logic";
//! Service Authorization Reference, "Resource types" column). iam-rs wants
//! an ARN as the request's resource, so such a request is evaluated against
//! a view of the policy in which a statement applies only when its
//! `Resource` includes `*` itself (or its `NotResource` does not): a
//! statement naming `arn:aws:cloudfront::*:distribution/*` matches no
//! `CreateDistribution`.
//!
//! Decisions follow the identity-policy part of the IAM evaluation logic:
//! an explicit `Deny` wins, else an `Allow` allows, else the request is
//! implicitly denied.

use std::collections::BTreeMap;

use iam_rs::{
    Arn, Context, ContextValue, EvaluationOptions, IAMPolicy, IAMRequest, PolicyEvaluator,
    Principal, PrincipalId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The resource of an action with no resource type.
pub const ANY_RESOURCE: &str = "*";

/// What IAM decided for one action on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// A statement allows it and none denies it.
    Allow,
    /// A `Deny` statement matches.
    ExplicitDeny,
    /// No statement allows it.
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// A policy the emulator cannot evaluate.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the identity policy is not an IAM policy document: {0}")]
    Parse(#[from] serde_json::Error),
}

/// A policy parsed once, in both views (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct CompiledPolicy {
    /// As written.
    document: Value,
    arns: IAMPolicy,
    /// Only the statements that apply to the resource `*`.
    any_resource: IAMPolicy,
}

impl CompiledPolicy {
    pub(crate) fn new(document: &Value) -> Result<CompiledPolicy, PolicyError> {
        Ok(CompiledPolicy {
            document: document.clone(),
            arns: serde_json::from_value(document.clone())?,
            any_resource: serde_json::from_value(any_resource_view(document))?,
        })
    }

    pub(crate) fn document(&self) -> &Value {
        &self.document
    }

    /// Whether a statement's condition names `key` (e.g. `aws:ResourceTag/`):
    /// the emulator looks up what only such conditions need.
    pub(crate) fn mentions(&self, key: &str) -> bool {
        let needle = key.to_ascii_lowercase();
        self.document["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(std::iter::once(&self.document["Statement"]).filter(|s| s.is_object()))
            .filter_map(|s| s.get("Condition"))
            .any(|c| c.to_string().to_ascii_lowercase().contains(&needle))
    }

    /// The decision for `action` on `resource` (an ARN, or `*`) with these
    /// condition keys, as an identity policy decides (its statements name
    /// no principal).
    pub(crate) fn decide(
        &self,
        action: &str,
        resource: &str,
        context: &BTreeMap<String, Value>,
    ) -> Decision {
        let account_root = Principal::Aws(PrincipalId::String(format!(
            "arn:aws:iam::{}:root",
            crate::ACCOUNT_ID
        )));
        self.decide_as(account_root, action, resource, context)
    }

    /// The decision for `principal` as a resource-based policy decides:
    /// a statement applies only when its `Principal` names the caller.
    pub(crate) fn decide_as(
        &self,
        principal: Principal,
        action: &str,
        resource: &str,
        context: &BTreeMap<String, Value>,
    ) -> Decision {
        let (policy, arn) = if resource == ANY_RESOURCE {
            let service = action.split(':').next().unwrap_or("aws");
            (&self.any_resource, format!("arn:aws:{service}:::*"))
        } else {
            (&self.arns, resource.to_owned())
        };
        let Ok(arn) = Arn::parse(&arn) else {
            tracing::warn!(resource, "not an ARN: nothing allows it");
            return Decision::ImplicitDeny;
        };
        let request = IAMRequest::new_with_context(principal, action, arn, to_context(context));
        let evaluator =
            PolicyEvaluator::with_policies(vec![policy.clone()]).with_options(EvaluationOptions {
                stop_on_explicit_deny: true,
                ..EvaluationOptions::default()
            });
        match evaluator.evaluate(&request) {
            Ok(result) => match result.decision {
                iam_rs::Decision::Allow => Decision::Allow,
                iam_rs::Decision::Deny => Decision::ExplicitDeny,
                iam_rs::Decision::NotApplicable => Decision::ImplicitDeny,
            },
            Err(e) => {
                tracing::warn!(action, resource, error = %e, "policy evaluation failed: denied");
                Decision::ImplicitDeny
            }
        }
    }
}

/// The policy as it applies to the resource `*`: a `Resource` list without
/// `*` drops its statement, one with it becomes `"*"`; a `NotResource` list
/// with `*` drops its statement, one without it becomes `"Resource": "*"`.
fn any_resource_view(document: &Value) -> Value {
    let names_any = |v: &Value| match v {
        Value::String(s) => s == ANY_RESOURCE,
        Value::Array(items) => items.iter().any(|i| i == ANY_RESOURCE),
        _ => false,
    };
    let rewrite = |statement: &Value| -> Option<Value> {
        let mut statement = statement.clone();
        let object = statement.as_object_mut()?;
        if let Some(resource) = object.get("Resource") {
            if !names_any(resource) {
                return None;
            }
        } else if let Some(not_resource) = object.remove("NotResource")
            && names_any(&not_resource)
        {
            return None;
        }
        object.insert("Resource".to_owned(), Value::from(ANY_RESOURCE));
        Some(statement)
    };
    let mut view = document.clone();
    let statements: Vec<Value> = match &document["Statement"] {
        Value::Array(items) => items.iter().filter_map(rewrite).collect(),
        single @ Value::Object(_) => rewrite(single).into_iter().collect(),
        _ => Vec::new(),
    };
    view["Statement"] = Value::Array(statements);
    view
}

/// Condition keys as iam-rs takes them: strings, booleans, string lists.
fn to_context(context: &BTreeMap<String, Value>) -> Context {
    let mut out = Context::new();
    for (key, value) in context {
        let value = match value {
            Value::Bool(b) => ContextValue::Boolean(*b),
            Value::Number(n) => ContextValue::Number(n.as_f64().unwrap_or_default()),
            Value::Array(items) => ContextValue::StringList(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect(),
            ),
            Value::String(s) => ContextValue::String(s.clone()),
            other => ContextValue::String(other.to_string()),
        };
        out.insert(key.clone(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decide(policy: Value, action: &str, resource: &str, context: Value) -> Decision {
        let context: BTreeMap<String, Value> =
            serde_json::from_value(context).expect("context object");
        CompiledPolicy::new(&policy)
            .expect("policy")
            .decide(action, resource, &context)
    }

    fn allow(action: Value, resource: Value, condition: Option<Value>) -> Value {
        let mut statement = json!({"Effect": "Allow", "Action": action, "Resource": resource});
        if let Some(c) = condition {
            statement["Condition"] = c;
        }
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    #[test]
    fn actions_without_a_resource_type_match_only_a_star_resource() {
        let named = allow(
            json!("cloudfront:CreateDistribution"),
            json!("arn:aws:cloudfront::*:distribution/*"),
            None,
        );
        assert_eq!(
            decide(named, "cloudfront:CreateDistribution", "*", json!({})),
            Decision::ImplicitDeny
        );
        let star = allow(
            json!("cloudfront:CreateDistribution"),
            json!(["arn:aws:cloudfront::*:distribution/*", "*"]),
            None,
        );
        assert_eq!(
            decide(star, "cloudfront:CreateDistribution", "*", json!({})),
            Decision::Allow
        );
        let not_resource = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudfront:*", "NotResource": "arn:aws:cloudfront::*:distribution/X"}]});
        assert_eq!(
            decide(not_resource, "cloudfront:ListDistributions", "*", json!({})),
            Decision::Allow
        );
    }

    #[test]
    fn wildcard_actions_and_qualified_function_arns_match() {
        let policy = allow(
            json!(["lambda:EnableReplication*", "lambda:GetFunction"]),
            json!("arn:aws:lambda:us-east-1:*:function:urlguard-*:*"),
            None,
        );
        let version = "arn:aws:lambda:us-east-1:123456789012:function:urlguard-x-signer:3";
        assert_eq!(
            decide(
                policy.clone(),
                "lambda:EnableReplication",
                version,
                json!({})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                policy.clone(),
                "lambda:DisableReplication",
                version,
                json!({})
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                policy,
                "lambda:GetFunction",
                "arn:aws:lambda:us-east-1:123456789012:function:urlguard-x-signer",
                json!({})
            ),
            Decision::ImplicitDeny,
            "function:urlguard-*:* names versions only"
        );
    }

    #[test]
    fn tag_conditions_follow_the_request_and_resource_tags() {
        let policy = allow(
            json!("cloudfront:TagResource"),
            json!("arn:aws:cloudfront::*:distribution/*"),
            Some(json!({"StringLike": {"aws:RequestTag/urlguard.io/owner": "team-a/*"}})),
        );
        let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
        assert_eq!(
            decide(
                policy.clone(),
                "cloudfront:TagResource",
                arn,
                json!({"aws:RequestTag/urlguard.io/owner": "team-a/ns/EdgeDistribution/x"})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                policy.clone(),
                "cloudfront:TagResource",
                arn,
                json!({"aws:RequestTag/urlguard.io/owner": "team-b/ns/x"})
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(policy, "cloudfront:TagResource", arn, json!({})),
            Decision::ImplicitDeny,
            "a missing key fails StringLike"
        );
    }

    #[test]
    fn for_all_values_bool_and_explicit_deny() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ssm:*", "Resource": "*",
             "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}},
            {"Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*",
             "Condition": {"StringEquals": {"ssm:Overwrite": "true"}}},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        ]});
        let p = "arn:aws:ssm:us-east-1:123456789012:parameter/x";
        assert_eq!(
            decide(
                policy.clone(),
                "ssm:AddTagsToResource",
                p,
                json!({"aws:TagKeys": ["a"]})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                policy.clone(),
                "ssm:AddTagsToResource",
                p,
                json!({"aws:TagKeys": ["a", "c"]})
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(
                policy.clone(),
                "ssm:PutParameter",
                p,
                json!({"ssm:Overwrite": "true"})
            ),
            Decision::ExplicitDeny
        );
        assert_eq!(
            decide(
                policy.clone(),
                "ssm:PutParameter",
                p,
                json!({"ssm:Overwrite": "false"})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                policy.clone(),
                "iam:PassRole",
                "arn:aws:iam::123456789012:role/r",
                json!({"aws:SecureTransport": true})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                policy,
                "iam:PassRole",
                "arn:aws:iam::123456789012:role/r",
                json!({"aws:SecureTransport": false})
            ),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn pass_role_needs_the_passed_to_service_to_match() {
        let policy = allow(
            json!("iam:PassRole"),
            json!("arn:aws:iam::*:role/urlguard/urlguard-*"),
            Some(json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})),
        );
        let role = "arn:aws:iam::123456789012:role/urlguard/urlguard-ns-x-signer";
        assert_eq!(
            decide(
                policy.clone(),
                "iam:PassRole",
                role,
                json!({"iam:PassedToService": "lambda.amazonaws.com"})
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                policy,
                "iam:PassRole",
                role,
                json!({"iam:PassedToService": "ec2.amazonaws.com"})
            ),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn mentions_finds_condition_keys() {
        let policy = CompiledPolicy::new(&allow(
            json!("cloudfront:UpdateDistribution"),
            json!("*"),
            Some(json!({"StringLike": {"aws:ResourceTag/urlguard.io/owner": "a/*"}})),
        ))
        .expect("policy");
        assert!(policy.mentions("aws:resourcetag/"));
        assert!(!policy.mentions("aws:RequestTag/"));
    }
}
