//! Whether a caller may invoke a function through its URL, as Lambda
//! decides it since October 2025: the caller needs BOTH
//! `lambda:InvokeFunctionUrl` (with the condition key
//! `lambda:FunctionUrlAuthType`) and `lambda:InvokeFunction` (with
//! `lambda:InvokedViaFunctionUrl` = true) on the function (Lambda developer
//! guide, "Control access to Lambda function URLs",
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html).
//!
//! Each action is decided from the caller's identity policy and the
//! function's resource-based policy, by the same `iam-rs` evaluator the
//! control plane is enforced with, following IAM's evaluation logic for a
//! principal in the function's own account (IAM User Guide, "Policy
//! evaluation logic",
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//! an explicit deny in either policy refuses, otherwise an allow in either
//! permits. A role session's identity policy is its role's inline policies,
//! read when the request arrives (so removing one takes effect at once); a
//! service principal (CloudFront's origin access control) has none, only
//! the resource policy can let it in, with `aws:SourceArn` and
//! `aws:SourceAccount` in the request context (IAM User Guide, "AWS global
//! condition context keys"). `AuthType NONE` makes the caller anonymous:
//! only a resource-policy statement for `"Principal": "*"` lets it in.
//!
//! Not evaluated (knowingly): managed policies attached to the role,
//! permissions boundaries, session policies, SCPs; cross-account callers.

use std::collections::BTreeMap;

use http::Method;
use iam_rs::{Principal as IamPrincipal, PrincipalId};
use serde_json::{Value, json};

use super::credentials::Principal;
use crate::ACCOUNT_ID;
use crate::authorize::Decision;
use crate::authorize::evaluate::CompiledPolicy;
use crate::authorize::lookup;
use crate::lambda::corrected_policy;
use crate::role_policies;
use crate::server::Shared;

/// The function a URL invokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub region: String,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME` (no qualifier).
    pub function_arn: String,
    /// The alias the URL belongs to, if any.
    pub qualifier: Option<String>,
}

impl Target {
    pub(crate) fn name(&self) -> &str {
        self.function_arn.rsplit(':').next().unwrap_or_default()
    }

    /// The ARN the invoke actions are checked on.
    pub(crate) fn resource(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.function_arn),
            None => self.function_arn.clone(),
        }
    }
}

/// Who is calling: a verified key's principal, or nobody (`AuthType NONE`).
pub(crate) enum Caller<'a> {
    Signed(&'a Principal),
    Anonymous,
}

/// Why a call is refused (for the log; the caller only sees `Forbidden`).
#[derive(Debug, thiserror::Error)]
#[error("{action} on {resource} is not allowed ({decision:?}): {detail}")]
pub(crate) struct Refused {
    pub action: &'static str,
    pub resource: String,
    pub decision: Decision,
    pub detail: String,
}

/// Allows or refuses `caller` invoking `target` through its URL of
/// `auth_type`.
pub(crate) async fn authorize(
    shared: &Shared,
    caller: Caller<'_>,
    target: &Target,
    auth_type: &str,
) -> Result<(), Refused> {
    let resource = target.resource();
    let mut boundary = None;
    let (principal, identity, mut context) = match caller {
        Caller::Anonymous => (anonymous(), None, BTreeMap::new()),
        Caller::Signed(Principal::RoleSession { role, .. }) => {
            let facts = lookup::role(&shared.upstream, role).await;
            let role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role{}{role}", facts.path);
            if let Some(arn) = &facts.boundary {
                boundary = Some(boundary_policy(shared, arn).await);
            }
            let policy = role_identity_policy(shared, role).await;
            let mut context = BTreeMap::new();
            context.insert("aws:PrincipalArn".to_owned(), Value::from(role_arn.clone()));
            (
                IamPrincipal::Aws(PrincipalId::String(role_arn)),
                policy,
                context,
            )
        }
        Caller::Signed(Principal::Service {
            service,
            source_arn,
        }) => {
            let mut context = BTreeMap::new();
            context.insert("aws:SourceArn".to_owned(), Value::from(source_arn.clone()));
            context.insert("aws:SourceAccount".to_owned(), Value::from(ACCOUNT_ID));
            (
                IamPrincipal::Service(PrincipalId::String(service.clone())),
                None,
                context,
            )
        }
    };
    let resource_policy = resource_policy(shared, target).await;
    for (key, value) in
        lookup::function_tags(&shared.upstream, &target.region, &target.function_arn).await
    {
        context.insert(format!("aws:ResourceTag/{key}"), Value::from(value));
    }
    let checks: [(&'static str, &str, Value); 2] = [
        (
            "lambda:InvokeFunctionUrl",
            "lambda:FunctionUrlAuthType",
            Value::from(auth_type),
        ),
        (
            "lambda:InvokeFunction",
            "lambda:InvokedViaFunctionUrl",
            Value::Bool(true),
        ),
    ];
    for (action, key, value) in checks {
        context.insert(key.to_owned(), value);
        let by_identity = identity.as_ref().map_or(Decision::ImplicitDeny, |p| {
            p.decide(action, &resource, &context)
        });
        let by_resource = resource_policy
            .as_ref()
            .map_or(Decision::ImplicitDeny, |p| {
                p.decide_as(principal.clone(), action, &resource, &context)
            });
        // A boundary that does not compile allows nothing.
        let by_boundary = boundary.as_ref().map(|b| {
            b.as_ref().map_or(Decision::ImplicitDeny, |p| {
                p.decide(action, &resource, &context)
            })
        });
        context.remove(key);
        let decision = combine(by_identity, by_resource, by_boundary);
        if !decision.is_allowed() {
            return Err(Refused {
                action,
                resource,
                decision,
                detail: format!(
                    "identity policy: {by_identity:?}, resource policy: {by_resource:?}, permissions boundary: {by_boundary:?}"
                ),
            });
        }
    }
    Ok(())
}

/// The principal of an unsigned request: iam-rs wants an ARN, and this one
/// is named by no statement, so only `"Principal": "*"` matches it.
fn anonymous() -> IamPrincipal {
    IamPrincipal::Aws(PrincipalId::String(
        "arn:aws:sts::000000000000:assumed-role/anonymous/anonymous".to_owned(),
    ))
}

/// Same-account evaluation: an explicit deny anywhere wins; a boundary
/// that does not allow refuses; then an allow by either policy permits.
fn combine(identity: Decision, resource: Decision, boundary: Option<Decision>) -> Decision {
    match (identity, resource, boundary) {
        (Decision::ExplicitDeny, _, _)
        | (_, Decision::ExplicitDeny, _)
        | (_, _, Some(Decision::ExplicitDeny)) => Decision::ExplicitDeny,
        (_, _, Some(Decision::ImplicitDeny)) => Decision::ImplicitDeny,
        (Decision::Allow, _, _) | (_, Decision::Allow, _) => Decision::Allow,
        _ => Decision::ImplicitDeny,
    }
}

/// A role's permissions boundary (none when it cannot be read or
/// compiled: nothing is allowed then).
async fn boundary_policy(shared: &Shared, arn: &str) -> Option<CompiledPolicy> {
    let document = lookup::managed_policy_document(&shared.upstream, arn).await?;
    let policy: Value = serde_json::from_str(&document).ok()?;
    CompiledPolicy::new(&policy)
        .inspect_err(|e| tracing::warn!(boundary = arn, error = %e, "the boundary does not compile: nothing allowed"))
        .ok()
}

/// The role's inline policies as one policy (none when they do not
/// compile: nothing is allowed then).
async fn role_identity_policy(shared: &Shared, role: &str) -> Option<CompiledPolicy> {
    let mut statements = Vec::new();
    for name in role_policies::names(&shared.upstream, role).await {
        let document = role_policies::document(&shared.upstream, role, &name).await;
        if let Ok(policy) = serde_json::from_str::<Value>(&document) {
            match &policy["Statement"] {
                Value::Array(items) => statements.extend(items.iter().cloned()),
                single @ Value::Object(_) => statements.push(single.clone()),
                _ => {}
            }
        }
    }
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    CompiledPolicy::new(&policy)
        .inspect_err(|e| {
            tracing::warn!(role, error = %e, "the role's policies do not compile: nothing allowed");
        })
        .ok()
}

/// The function's resource-based policy as Lambda writes it (moto's answer
/// corrected by `lambda`), or none.
async fn resource_policy(shared: &Shared, target: &Target) -> Option<CompiledPolicy> {
    let mut path = format!("/2015-03-31/functions/{}/policy", target.name());
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
    let reply = corrected_policy(reply, "Policy");
    let outer: Value = serde_json::from_slice(&reply.body).ok()?;
    let policy: Value = serde_json::from_str(outer.get("Policy")?.as_str()?).ok()?;
    CompiledPolicy::new(&policy).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deny_anywhere_wins_and_an_allow_anywhere_permits() {
        use Decision::*;
        assert_eq!(combine(Allow, ImplicitDeny, None), Allow);
        assert_eq!(combine(ImplicitDeny, Allow, None), Allow);
        assert_eq!(combine(Allow, ExplicitDeny, None), ExplicitDeny);
        assert_eq!(combine(ExplicitDeny, Allow, None), ExplicitDeny);
        assert_eq!(combine(ImplicitDeny, ImplicitDeny, None), ImplicitDeny);
        assert_eq!(combine(Allow, ImplicitDeny, Some(Allow)), Allow);
        assert_eq!(
            combine(Allow, ImplicitDeny, Some(ImplicitDeny)),
            ImplicitDeny,
            "the boundary limits the identity policy"
        );
        assert_eq!(
            combine(ImplicitDeny, Allow, Some(ImplicitDeny)),
            ImplicitDeny,
            "and a grant naming the role"
        );
        assert_eq!(combine(Allow, Allow, Some(ExplicitDeny)), ExplicitDeny);
        assert_eq!(
            combine(ImplicitDeny, ImplicitDeny, Some(Allow)),
            ImplicitDeny,
            "a boundary grants nothing by itself"
        );
    }

    fn decide_resource(
        policy: Value,
        principal: IamPrincipal,
        action: &str,
        context: Value,
    ) -> Decision {
        let context: BTreeMap<String, Value> = serde_json::from_value(context).expect("context");
        CompiledPolicy::new(&policy).expect("policy").decide_as(
            principal,
            action,
            "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books",
            &context,
        )
    }

    #[test]
    fn an_oac_grant_lets_in_only_its_distribution_and_only_cloudfront() {
        // As Lambda writes urlguard's two grants (see `lambda`'s corrections).
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "url", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
             "Action": "lambda:InvokeFunctionUrl", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books",
             "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EGOOD"},
                           "StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}},
            {"Sid": "invoke", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
             "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books",
             "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EGOOD"},
                           "Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}
        ]});
        let cloudfront =
            || IamPrincipal::Service(PrincipalId::String("cloudfront.amazonaws.com".into()));
        let good = json!({"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EGOOD",
                          "lambda:FunctionUrlAuthType": "AWS_IAM", "lambda:InvokedViaFunctionUrl": true});
        let other = json!({"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EOTHER",
                           "lambda:FunctionUrlAuthType": "AWS_IAM", "lambda:InvokedViaFunctionUrl": true});
        assert_eq!(
            decide_resource(
                policy.clone(),
                cloudfront(),
                "lambda:InvokeFunctionUrl",
                good.clone()
            ),
            Decision::Allow
        );
        assert_eq!(
            decide_resource(
                policy.clone(),
                cloudfront(),
                "lambda:InvokeFunction",
                good.clone()
            ),
            Decision::Allow
        );
        assert_eq!(
            decide_resource(
                policy.clone(),
                cloudfront(),
                "lambda:InvokeFunctionUrl",
                other
            ),
            Decision::ImplicitDeny
        );
        let role = IamPrincipal::Aws(PrincipalId::String(
            "arn:aws:iam::123456789012:role/someone".into(),
        ));
        assert_eq!(
            decide_resource(
                policy.clone(),
                role,
                "lambda:InvokeFunctionUrl",
                good.clone()
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide_resource(policy, anonymous(), "lambda:InvokeFunctionUrl", good),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn a_public_grant_lets_anonymous_callers_in() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
             "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books"}
        ]});
        assert_eq!(
            decide_resource(
                policy.clone(),
                anonymous(),
                "lambda:InvokeFunction",
                json!({})
            ),
            Decision::Allow
        );
        let role_only = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/r"}, "Action": "lambda:*", "Resource": "*"}
        ]});
        assert_eq!(
            decide_resource(role_only, anonymous(), "lambda:InvokeFunction", json!({})),
            Decision::ImplicitDeny
        );
    }
}
