//! The Lambda@Edge signer of a distribution: its execution role (trusting
//! Lambda and Lambda@Edge, allowed to invoke exactly the attached function
//! URLs) and its function, with a new numbered version exactly when the code
//! or the configuration changed.
//!
//! Decisions written down here:
//! - The invoke policy names each function ARN once. IAM caps a role's
//!   inline policies at 10,240 characters together, whitespace not counted
//!   (IAM and AWS STS quotas), and a distribution may front 75 URLs
//!   (CloudFront's cache behaviors). One statement per action listed every
//!   ARN twice and passed the cap at 41 URLs of 64-character names in
//!   `ap-southeast-2`; one statement granting both `lambda:InvokeFunctionUrl`
//!   and `lambda:InvokeFunction` on the list holds 75 such ARNs in 9,635
//!   characters (a unit test measures it).
//!   Each condition key is present on one action's requests only
//!   (`lambda:FunctionUrlAuthType` on `InvokeFunctionUrl`,
//!   `lambda:InvokedViaFunctionUrl` on `InvokeFunction`), so the merged
//!   statement uses the `…IfExists` operators: each key still binds the
//!   action that carries it, and the other action is not refused for lacking
//!   it. `BoolIfExists` alone would also let a direct `InvokeFunction`
//!   through if Lambda leaves the key out of such a request, so a `Deny`
//!   statement refuses `lambda:InvokeFunction` unless it came through a
//!   function URL: the role can still do exactly what the two statements
//!   allowed. Rejected: wildcards grouping ARNs by region or account
//!   (grants functions nobody attached); several inline policies (the cap is
//!   their sum); customer managed policies (6,144 characters each, so a set
//!   of them to create, version and delete); statements on each function's
//!   resource policy (one write per function and per teardown, on
//!   functions urlguard does not own).
//! - Every role urlguard creates carries the instance's permissions
//!   boundary (`model::iam::signer_boundary_arn`): the controller's policy
//!   allows `CreateRole` and `PutRolePolicy` only with it, so a role found
//!   without it (created before boundaries, or stripped by hand) gets it
//!   back first (`PutRolePermissionsBoundary`), before any other write to
//!   the role — `PutRolePolicy` on a role without the boundary is refused.
//!   A role with another boundary gets ours: only ours is known to allow
//!   what the signer needs.
//! - A policy over the cap is refused by the plan ([`SignerPlanError::PolicyTooLarge`],
//!   naming the number of functions) rather than sent: `PutRolePolicy`
//!   would refuse it with a less useful message. With qualifiers (aliases)
//!   each ARN is longer by the alias, so fewer than 75 may fit.

use serde_json::{Value, json};

use crate::model::iam::RoleObserved;
use crate::model::lambda::{SignerConfig, SignerObserved};
use crate::model::policy::{INVOKE_FUNCTION_URLS_SID, invoke_policy_resources, same_policy};

/// IAM's limit on the inline policies of one role, all of them together,
/// whitespace not counted (IAM and AWS STS quotas: "Role policy size cannot
/// exceed 10,240 characters").
pub const ROLE_POLICY_SIZE_LIMIT: usize = 10_240;

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
    /// The invoke policy is longer than IAM takes for a role.
    #[error(
        "the signer role's policy for {functions} functions is {size} characters, over IAM's limit of {ROLE_POLICY_SIZE_LIMIT} for a role's inline policies: attach fewer URLs (or shorter function names) to this distribution"
    )]
    PolicyTooLarge {
        /// How many functions it names.
        functions: usize,
        /// Its size as IAM counts it.
        size: usize,
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
/// their URLs (both actions a function URL call needs since October 2025,
/// each ARN listed once: see the module docs), and write the logs
/// Lambda@Edge writes in every edge region.
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
            "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
            "Resource": arns,
            "Condition": {
                "StringEqualsIfExists": {"lambda:FunctionUrlAuthType": "AWS_IAM"},
                "BoolIfExists": {"lambda:InvokedViaFunctionUrl": "true"}
            }
        }));
        statements.push(json!({
            "Sid": "OnlyThroughFunctionUrls",
            "Effect": "Deny",
            "Action": "lambda:InvokeFunction",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"lambda:InvokedViaFunctionUrl": "false"}}
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A policy's size as IAM counts it against [`ROLE_POLICY_SIZE_LIMIT`]:
/// its JSON without whitespace.
pub fn policy_size(policy: &Value) -> usize {
    policy
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// What to do with the role.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleAction {
    /// Create it with the trust policy, the owner tag and the boundary.
    Create {
        /// The trust policy.
        trust_policy: Value,
        /// The permissions boundary's ARN.
        boundary: String,
    },
    /// Its permissions boundary is missing or another one.
    SetBoundary {
        /// The permissions boundary's ARN.
        boundary: String,
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

/// Plans the role: `observed` is `None` when it does not exist; `boundary`
/// is the permissions boundary's ARN.
pub fn plan_role(
    observed: Option<&RoleObserved>,
    role_name: &str,
    owner_tag: &str,
    policy: &Value,
    boundary: &str,
) -> Result<Vec<RoleAction>, SignerPlanError> {
    let size = policy_size(policy);
    if size > ROLE_POLICY_SIZE_LIMIT {
        return Err(SignerPlanError::PolicyTooLarge {
            functions: invoke_policy_resources(policy).len(),
            size,
        });
    }
    let trust = trust_policy();
    let Some(role) = observed else {
        return Ok(vec![
            RoleAction::Create {
                trust_policy: trust,
                boundary: boundary.to_owned(),
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
    // First: the policy refuses every other write to a role without it.
    if role.permissions_boundary.as_deref() != Some(boundary) {
        actions.push(RoleAction::SetBoundary {
            boundary: boundary.to_owned(),
        });
    }
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
    const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/urlguard/urlguard-signer-boundary";

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
            plan_role(None, "r", OWNER, &policy, BOUNDARY)
                .expect("plan")
                .len(),
            2,
            "create, then put the policy"
        );
        let in_sync = RoleObserved {
            arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
            trust_policy: trust_policy(),
            owner: Some(OWNER.into()),
            invoke_policy: Some(policy.clone()),
            permissions_boundary: Some(BOUNDARY.into()),
        };
        assert_eq!(
            plan_role(Some(&in_sync), "r", OWNER, &policy, BOUNDARY).expect("plan"),
            vec![]
        );
        let mut reordered = in_sync.clone();
        reordered.trust_policy["Statement"][0]["Principal"]["Service"] =
            json!(["lambda.amazonaws.com", "edgelambda.amazonaws.com"]);
        assert_eq!(
            plan_role(Some(&reordered), "r", OWNER, &policy, BOUNDARY).expect("plan"),
            vec![],
            "IAM lists principals in any order"
        );
        let fewer = invoke_policy("s", &["arn:a".into()]);
        assert_eq!(
            plan_role(Some(&in_sync), "r", OWNER, &fewer, BOUNDARY).expect("plan"),
            vec![RoleAction::PutPolicy {
                document: fewer.clone()
            }]
        );
        for found in [None, Some("arn:aws:iam::123456789012:policy/other")] {
            let unbounded = RoleObserved {
                permissions_boundary: found.map(str::to_owned),
                ..in_sync.clone()
            };
            assert_eq!(
                plan_role(Some(&unbounded), "r", OWNER, &fewer, BOUNDARY).expect("plan"),
                vec![
                    RoleAction::SetBoundary {
                        boundary: BOUNDARY.into()
                    },
                    RoleAction::PutPolicy {
                        document: fewer.clone()
                    }
                ],
                "the boundary first: the policy refuses PutRolePolicy without it"
            );
        }
        let mut stranger = in_sync.clone();
        stranger.owner = Some("other/ns/EdgeDistribution/x".into());
        assert!(plan_role(Some(&stranger), "r", OWNER, &policy, BOUNDARY).is_err());
    }

    /// 75 URLs (CloudFront's cache behaviors) of 64-character function
    /// names in a long region name fit IAM's role policy limit.
    #[test]
    fn the_invoke_policy_fits_75_functions_with_the_longest_names() {
        let arns: Vec<String> = (0..75)
            .map(|i| {
                format!(
                    "arn:aws:lambda:ap-southeast-2:123456789012:function:{:0>64}",
                    i
                )
            })
            .collect();
        let signer = format!("{:x>64}", "signer");
        let policy = invoke_policy(&signer, &arns);
        let size = policy_size(&policy);
        println!("invoke policy for 75 functions: {size} characters");
        assert!(size <= ROLE_POLICY_SIZE_LIMIT, "{size} characters");
        assert_eq!(invoke_policy_resources(&policy).len(), 75);
        assert!(plan_role(None, "r", OWNER, &policy, BOUNDARY).is_ok());
    }

    #[test]
    fn a_policy_over_the_limit_is_refused_naming_the_count() {
        let arns: Vec<String> = (0..100)
            .map(|i| format!("arn:aws:lambda:ap-southeast-2:123456789012:function:{i:0>64}"))
            .collect();
        let policy = invoke_policy("s", &arns);
        let error = plan_role(None, "r", OWNER, &policy, BOUNDARY).expect_err("too large");
        assert!(
            matches!(
                error,
                SignerPlanError::PolicyTooLarge { functions: 100, .. }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("100 functions"), "{error}");
    }

    /// The merged statement keeps each action's condition: the URL's auth
    /// type binds `InvokeFunctionUrl`, the via-URL flag `InvokeFunction`,
    /// and a direct `InvokeFunction` is denied.
    #[test]
    fn each_arn_is_listed_once_with_both_actions_and_their_conditions() {
        let policy = invoke_policy("s", &["arn:a".into()]);
        let statements = policy["Statement"].as_array().expect("statements");
        let allow = &statements[1];
        assert_eq!(
            allow["Action"],
            json!(["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"])
        );
        assert_eq!(
            allow["Condition"]["StringEqualsIfExists"]["lambda:FunctionUrlAuthType"],
            "AWS_IAM"
        );
        assert_eq!(
            allow["Condition"]["BoolIfExists"]["lambda:InvokedViaFunctionUrl"],
            "true"
        );
        let deny = &statements[2];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Action"], "lambda:InvokeFunction");
        assert_eq!(
            deny["Condition"]["BoolIfExists"]["lambda:InvokedViaFunctionUrl"],
            "false"
        );
    }

    #[test]
    fn without_urls_the_policy_grants_no_invoke() {
        let policy = invoke_policy("s", &[]);
        assert_eq!(policy["Statement"].as_array().map(Vec::len), Some(1));
    }
}
