//! Changes made behind urlguard's back, as another tool or a hurried human
//! would make them (with the bed's unrestricted set-up key): each breaks
//! "CloudFront is the only door" in one way, so that tests can show the
//! data path and `urlguard verify` notice.

use aws_config::SdkConfig;
use aws_sdk_lambda::types::FunctionUrlAuthType;
use serde_json::Value;

use super::aws::lambda_client;

/// Removes `action` from every statement of the signer role's inline
/// policies (the role of the Lambda@Edge function `signer`); returns the
/// policy names, for [`drop_signer_policies`].
pub async fn strip_signer_action(config: &SdkConfig, signer: &str, action: &str) -> Vec<String> {
    let iam = aws_sdk_iam::Client::new(config);
    let role_name = signer_role(config, signer).await;
    let policies = iam
        .list_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .expect("ListRolePolicies");
    assert!(
        !policies.policy_names().is_empty(),
        "the signer role has its invoke policy"
    );
    for name in policies.policy_names() {
        let document = iam
            .get_role_policy()
            .role_name(&role_name)
            .policy_name(name)
            .send()
            .await
            .expect("GetRolePolicy");
        let document = percent_encoding::percent_decode_str(document.policy_document())
            .decode_utf8_lossy()
            .into_owned();
        let mut document: Value = serde_json::from_str(&document).expect("JSON");
        for statement in document["Statement"].as_array_mut().expect("statements") {
            if let Some(actions) = statement["Action"].as_array_mut() {
                actions.retain(|a| a != action);
            }
        }
        iam.put_role_policy()
            .role_name(&role_name)
            .policy_name(name)
            .policy_document(document.to_string())
            .send()
            .await
            .expect("PutRolePolicy");
    }
    policies.policy_names().to_vec()
}

/// Deletes the signer role's inline policies `names`.
pub async fn drop_signer_policies(config: &SdkConfig, signer: &str, names: &[String]) {
    let iam = aws_sdk_iam::Client::new(config);
    let role_name = signer_role(config, signer).await;
    for name in names {
        iam.delete_role_policy()
            .role_name(&role_name)
            .policy_name(name)
            .send()
            .await
            .expect("DeleteRolePolicy");
    }
}

/// The name of the execution role of the Lambda@Edge function `signer`.
async fn signer_role(config: &SdkConfig, signer: &str) -> String {
    let function = lambda_client(config, "us-east-1")
        .get_function()
        .function_name(signer)
        .send()
        .await
        .expect("GetFunction of the signer");
    let role_arn = function
        .configuration()
        .and_then(|c| c.role())
        .expect("the signer's role")
        .to_owned();
    role_arn.rsplit('/').next().expect("role name").to_owned()
}

/// Replaces each statement of `function`'s resource policy (urlguard's
/// origin access control grants) with the same grant for the distribution
/// `other_arn`.
pub async fn regrant_for(config: &SdkConfig, region: &str, function: &str, other_arn: &str) {
    let lambda = lambda_client(config, region);
    let policy = lambda
        .get_policy()
        .function_name(function)
        .send()
        .await
        .expect("GetPolicy");
    let policy: Value = serde_json::from_str(policy.policy().expect("policy")).expect("JSON");
    for statement in policy["Statement"].as_array().expect("statements") {
        let sid = statement["Sid"].as_str().expect("Sid");
        let action = statement["Action"].as_str().expect("Action");
        lambda
            .remove_permission()
            .function_name(function)
            .statement_id(sid)
            .send()
            .await
            .expect("RemovePermission");
        let add = lambda
            .add_permission()
            .function_name(function)
            .statement_id(sid)
            .action(action)
            .principal("cloudfront.amazonaws.com")
            .source_arn(other_arn);
        let add = if action == "lambda:InvokeFunction" {
            add.invoked_via_function_url(true)
        } else {
            add.function_url_auth_type(FunctionUrlAuthType::AwsIam)
        };
        add.send().await.expect("AddPermission");
    }
}

/// Switches `function`'s URL to `NONE` (refused while its resource policy
/// is not public, as AWS documents).
pub async fn switch_to_none(config: &SdkConfig, region: &str, function: &str) {
    lambda_client(config, region)
        .update_function_url_config()
        .function_name(function)
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect("UpdateFunctionUrlConfig");
}

/// Grants everyone both actions a `NONE` URL needs, as the console does
/// when a URL is made public.
pub async fn grant_public(config: &SdkConfig, region: &str, function: &str) {
    let lambda = lambda_client(config, region);
    for (sid, action) in [
        ("public-url", "lambda:InvokeFunctionUrl"),
        ("public-invoke", "lambda:InvokeFunction"),
    ] {
        let add = lambda
            .add_permission()
            .function_name(function)
            .statement_id(sid)
            .action(action)
            .principal("*");
        let add = if action == "lambda:InvokeFunction" {
            add.invoked_via_function_url(true)
        } else {
            add.function_url_auth_type(FunctionUrlAuthType::None)
        };
        add.send().await.expect("AddPermission");
    }
}

/// Changes the path pattern of the distribution's cache behavior `from` to
/// `to`.
pub async fn move_behavior(config: &SdkConfig, distribution_id: &str, from: &str, to: &str) {
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    let current = cloudfront
        .get_distribution_config()
        .id(distribution_id)
        .send()
        .await
        .expect("GetDistributionConfig");
    let etag = current.e_tag().expect("ETag").to_owned();
    let mut distribution = current.distribution_config().expect("config").clone();
    let mut behaviors = distribution
        .cache_behaviors()
        .expect("cache behaviors")
        .clone();
    let items: Vec<_> = behaviors
        .items()
        .iter()
        .map(|behavior| {
            if behavior.path_pattern() == from {
                let mut moved = behavior.clone();
                moved.path_pattern = to.to_owned();
                moved
            } else {
                behavior.clone()
            }
        })
        .collect();
    behaviors.items = Some(items);
    distribution.cache_behaviors = Some(behaviors);
    cloudfront
        .update_distribution()
        .id(distribution_id)
        .if_match(etag)
        .distribution_config(distribution)
        .send()
        .await
        .expect("UpdateDistribution");
}
