//! The Lambda@Edge signer of a distribution: its execution role (trusting
//! Lambda and Lambda@Edge, allowed to invoke exactly the attached function
//! URLs) and its function, with a new numbered version exactly when the code
//! or the configuration changed.

use serde_json::{Value, json};

use crate::model::iam::RoleObserved;
use crate::model::lambda::{SignerConfig, SignerObserved};
use crate::model::policy::{INVOKE_FUNCTION_URLS_SID, same_policy};

/// Why the signer cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerPlanError {
    /// A role or function with urlguard's name exists but is not tagged as
    /// this owner's: urlguard never modifies what it does not own.
    #[error(
        "{what} exists but is owned by {found}, not {expected}: urlguard leaves it alone; rename or delete it"
    )]
    NotOwned {
        /// `IAM role X` or `Lambda function X`.
        what: String,
        /// The owner tag found (`(no owner tag)` when absent).
        found: String,
        /// The owner tag expected.
        expected: String,
    },
}

/// The trust policy of the signer role: Lambda and Lambda@Edge replicas.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// The signer role's inline policy: invoke exactly `function_arns` through
/// their URLs (both actions a function URL call needs since October 2025),
/// and write the logs Lambda@Edge writes in every edge region.
pub fn invoke_policy(signer_function_name: &str, function_arns: &[String]) -> Value {
    let mut arns: Vec<&String> = function_arns.iter().collect();
    arns.sort();
    arns.dedup();
    let mut statements = vec![json!({
        "Sid": "EdgeLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": format!("arn:aws:logs:*:*:log-group:/aws/lambda/us-east-1.{signer_function_name}:*")
    })];
    if !arns.is_empty() {
        statements.push(json!({
            "Sid": INVOKE_FUNCTION_URLS_SID,
            "Effect": "Allow",
            "Action": "lambda:InvokeFunctionUrl",
            "Resource": arns,
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}
        }));
        statements.push(json!({
            "Sid": "InvokeThroughFunctionUrls",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": arns,
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// What to do with the role.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleAction {
    /// Create it with the trust policy and the owner tag.
    Create {
        /// The trust policy.
        trust_policy: Value,
    },
    /// Its trust policy drifted.
    UpdateTrust {
        /// The trust policy.
        trust_policy: Value,
    },
    /// Its inline policy is missing or names other functions.
    PutPolicy {
        /// The policy document.
        document: Value,
    },
}

/// Plans the role: `observed` is `None` when it does not exist.
pub fn plan_role(
    observed: Option<&RoleObserved>,
    role_name: &str,
    owner_tag: &str,
    policy: &Value,
) -> Result<Vec<RoleAction>, SignerPlanError> {
    let trust = trust_policy();
    let Some(role) = observed else {
        return Ok(vec![
            RoleAction::Create {
                trust_policy: trust,
            },
            RoleAction::PutPolicy {
                document: policy.clone(),
            },
        ]);
    };
    if role.owner.as_deref() != Some(owner_tag) {
        return Err(SignerPlanError::NotOwned {
            what: format!("IAM role {role_name}"),
            found: role
                .owner
                .clone()
                .unwrap_or_else(|| "(no owner tag)".to_owned()),
            expected: owner_tag.to_owned(),
        });
    }
    let mut actions = Vec::new();
    if !same_policy(&role.trust_policy, &trust) {
        actions.push(RoleAction::UpdateTrust {
            trust_policy: trust,
        });
    }
    if !role
        .invoke_policy
        .as_ref()
        .is_some_and(|found| same_policy(found, policy))
    {
        actions.push(RoleAction::PutPolicy {
            document: policy.clone(),
        });
    }
    Ok(actions)
}

/// One step on the signer function, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerAction {
    /// Create the function (unpublished).
    Create,
    /// Upload the embedded package.
    UpdateCode,
    /// Apply memory, timeout, runtime, role, handler.
    UpdateConfiguration,
    /// Publish a numbered version of `$LATEST`.
    PublishVersion,
}

/// The signer function's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerPlan {
    /// Steps, in order.
    pub actions: Vec<SignerAction>,
    /// The version ARN to associate when no version is published.
    pub reuse_version_arn: Option<String>,
}

/// Plans the signer function against the newest published version.
pub fn plan_function(
    observed: Option<&SignerObserved>,
    function_name: &str,
    owner_tag: &str,
    desired: &SignerConfig,
) -> Result<SignerPlan, SignerPlanError> {
    let Some(function) = observed else {
        return Ok(SignerPlan {
            actions: vec![SignerAction::Create, SignerAction::PublishVersion],
            reuse_version_arn: None,
        });
    };
    if function.owner.as_deref() != Some(owner_tag) {
        return Err(SignerPlanError::NotOwned {
            what: format!("Lambda function {function_name}"),
            found: function
                .owner
                .clone()
                .unwrap_or_else(|| "(no owner tag)".to_owned()),
            expected: owner_tag.to_owned(),
        });
    }
    let mut actions = Vec::new();
    if let Some(latest) = function.latest() {
        if latest.config.code_sha256 != desired.code_sha256 {
            actions.push(SignerAction::UpdateCode);
        }
        let mut unpublished_config = latest.config.clone();
        unpublished_config
            .code_sha256
            .clone_from(&desired.code_sha256);
        if &unpublished_config != desired {
            actions.push(SignerAction::UpdateConfiguration);
        }
    }
    match function.newest_published() {
        Some(version) if actions.is_empty() && &version.config == desired => Ok(SignerPlan {
            actions,
            reuse_version_arn: Some(version.arn.clone()),
        }),
        _ => {
            actions.push(SignerAction::PublishVersion);
            Ok(SignerPlan {
                actions,
                reuse_version_arn: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lambda::FunctionVersion;

    const OWNER: &str = "urlguard/books/EdgeDistribution/books";

    fn config(memory: i32) -> SignerConfig {
        SignerConfig {
            code_sha256: "abc=".into(),
            memory_size: memory,
            timeout_seconds: 5,
            runtime: "nodejs24.x".into(),
            role_arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
            handler: "index.handler".into(),
        }
    }

    fn version(version: &str, config: SignerConfig) -> FunctionVersion {
        FunctionVersion {
            version: version.into(),
            arn: format!("arn:aws:lambda:us-east-1:123456789012:function:s:{version}"),
            config,
        }
    }

    fn observed(versions: Vec<FunctionVersion>) -> SignerObserved {
        SignerObserved {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:s".into(),
            versions,
            owner: Some(OWNER.into()),
        }
    }

    /// name, observed, desired, expected actions, expected reused version.
    type Case = (
        &'static str,
        Option<SignerObserved>,
        SignerConfig,
        Vec<SignerAction>,
        Option<&'static str>,
    );

    #[test]
    fn function_table() {
        use SignerAction::*;
        let mut new_code = config(128);
        new_code.code_sha256 = "new=".into();
        let cases: Vec<Case> = vec![
            (
                "missing",
                None,
                config(128),
                vec![Create, PublishVersion],
                None,
            ),
            (
                "unchanged reuses the newest version",
                Some(observed(vec![
                    version("$LATEST", config(128)),
                    version("1", config(128)),
                ])),
                config(128),
                vec![],
                Some("arn:aws:lambda:us-east-1:123456789012:function:s:1"),
            ),
            (
                "memory changed",
                Some(observed(vec![
                    version("$LATEST", config(128)),
                    version("1", config(128)),
                ])),
                config(256),
                vec![UpdateConfiguration, PublishVersion],
                None,
            ),
            (
                "code changed",
                Some(observed(vec![
                    version("$LATEST", config(128)),
                    version("1", config(128)),
                ])),
                new_code,
                vec![UpdateCode, PublishVersion],
                None,
            ),
            (
                "created but never published (a crash between the two)",
                Some(observed(vec![version("$LATEST", config(128))])),
                config(128),
                vec![PublishVersion],
                None,
            ),
            (
                "updated but not yet published (a crash between the two)",
                Some(observed(vec![
                    version("$LATEST", config(256)),
                    version("1", config(128)),
                ])),
                config(256),
                vec![PublishVersion],
                None,
            ),
        ];
        for (name, observed, desired, actions, reuse) in cases {
            let plan = plan_function(observed.as_ref(), "s", OWNER, &desired).expect(name);
            assert_eq!(plan.actions, actions, "{name}");
            assert_eq!(plan.reuse_version_arn.as_deref(), reuse, "{name}");
        }
    }

    #[test]
    fn a_function_owned_by_someone_else_is_not_touched() {
        let mut foreign = observed(vec![version("$LATEST", config(128))]);
        foreign.owner = None;
        let error = plan_function(Some(&foreign), "s", OWNER, &config(128)).expect_err("not owned");
        assert!(error.to_string().contains("(no owner tag)"), "{error}");
    }

    #[test]
    fn role_table() {
        let policy = invoke_policy("s", &["arn:b".into(), "arn:a".into(), "arn:a".into()]);
        let resources = &policy["Statement"][1]["Resource"];
        assert_eq!(
            resources,
            &json!(["arn:a", "arn:b"]),
            "sorted and deduplicated"
        );
        assert_eq!(
            plan_role(None, "r", OWNER, &policy).expect("plan").len(),
            2,
            "create, then put the policy"
        );
        let in_sync = RoleObserved {
            arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
            trust_policy: trust_policy(),
            owner: Some(OWNER.into()),
            invoke_policy: Some(policy.clone()),
        };
        assert_eq!(
            plan_role(Some(&in_sync), "r", OWNER, &policy).expect("plan"),
            vec![]
        );
        let mut reordered = in_sync.clone();
        reordered.trust_policy["Statement"][0]["Principal"]["Service"] =
            json!(["lambda.amazonaws.com", "edgelambda.amazonaws.com"]);
        assert_eq!(
            plan_role(Some(&reordered), "r", OWNER, &policy).expect("plan"),
            vec![],
            "IAM lists principals in any order"
        );
        let fewer = invoke_policy("s", &["arn:a".into()]);
        assert_eq!(
            plan_role(Some(&in_sync), "r", OWNER, &fewer).expect("plan"),
            vec![RoleAction::PutPolicy {
                document: fewer.clone()
            }]
        );
        let mut stranger = in_sync.clone();
        stranger.owner = Some("other/ns/EdgeDistribution/x".into());
        assert!(plan_role(Some(&stranger), "r", OWNER, &policy).is_err());
    }

    #[test]
    fn without_urls_the_policy_grants_no_invoke() {
        let policy = invoke_policy("s", &[]);
        assert_eq!(policy["Statement"].as_array().map(Vec::len), Some(1));
    }
}
