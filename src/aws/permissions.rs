//! The IAM permissions the adapters need, derived from the operations they
//! call: [`actions_for`] maps each ledger operation to the IAM actions AWS
//! checks for it, and [`controller_policy`] renders the least-privilege
//! policy of `urlguard iam-policy`, scoped by name prefix and owner tag where
//! the service supports it. A test drives a full apply and destroy through
//! the AWS test bed and checks that the ledger needs exactly the actions the
//! policy grants: nothing missing, nothing unused.
//!
//! Some permissions are checked by AWS on urlguard's behalf and never show
//! up as a call: associating a Lambda@Edge version with a distribution needs
//! `lambda:EnableReplication*` and `lambda:DisableReplication*` on the
//! version (spelled with the asterisk, as the CloudFront developer guide's
//! Lambda@Edge permissions give them) and, once per account,
//! `iam:CreateServiceLinkedRole` for the replicator ([`IMPLIED_BY_EDGE_ASSOCIATION`]).
//!
//! As the Service Authorization Reference lists them: actions without a
//! resource type (`cloudfront:CreateDistribution`,
//! `cloudfront:CreateOriginAccessControl`, the `List*` calls) match only
//! `"Resource": "*"`, so they get statements of their own
//! (`cloudfront:ListInvalidations` is not one: it names its distribution,
//! and is granted with `CreateInvalidation` and `GetInvalidation` on the
//! instance's distributions only); creation stays
//! scoped to the instance through `cloudfront:TagResource`, which
//! `CreateDistributionWithTags` also needs and which is conditioned on the
//! owner tag in the request. `lambda:GetFunction` returns a function's
//! `Tags` only to a caller also allowed `lambda:ListTags` (GetFunction API
//! reference): without it the signer's owner tag would read as missing.
//!
//! A teardown looks for what the other protection would have left (the
//! distribution may have switched): under `EdgeSigner` it reads each
//! function's resource policy for `urlguard-` grants, under
//! `OriginAccessControl` it looks for a signer role. So each protection's
//! policy may read those (`lambda:GetPolicy`, `iam:GetRole` on the signer
//! roles only). Removing such leftovers needs the other protection's write
//! actions: a distribution that switches protection needs the policy of
//! both (`urlguard iam-policy` without `--protection`).
//!
//! Application functions are read anywhere (urlguard must read a function's
//! opt-in tag before it knows whether it may manage it), but written only
//! where their owner opted in for the instance (`aws:ResourceTag/urlguard.io/allow`
//! like `<instance>/*`), URL configs only on `AWS_IAM`
//! (`lambda:FunctionUrlAuthType`, which `CreateFunctionUrlConfig` and
//! `UpdateFunctionUrlConfig` carry), and grants only to CloudFront
//! (`lambda:Principal`): stolen credentials cannot open a function to the
//! internet or reach one nobody handed over. `lambda:TagResource` on
//! application functions only for the created and adopted markers, and
//! `lambda:UntagResource` only for the created marker (`aws:TagKeys`):
//! urlguard cannot opt a function in itself. `lambda:RemovePermission`
//! there under both protections: under `OriginAccessControl` for its own
//! grants, under both for `spec.removeForeignStatements`.
//!
//! CloudFront's standard logging (`spec.logging`) makes CloudFront check
//! that the caller creating or updating the distribution may read and
//! change the log bucket's ACL (`s3:GetBucketAcl`, `s3:PutBucketAcl`:
//! CloudFront developer guide, "Permissions required to configure standard
//! logging"); CloudFront then adds itself to the ACL. No urlguard call shows
//! it, and a policy cannot know the buckets, so they are named by the
//! caller ([`PolicyOptions::log_buckets`], `iam-policy --log-bucket`, or
//! collected from manifests by [`log_buckets_of`]); without any, the policy
//! grants no S3 action at all.
//!
//! A distribution's other settings need nothing beyond
//! `cloudfront:CreateDistribution` and `cloudfront:UpdateDistribution`:
//! the Service Authorization Reference lists as their dependent actions
//! only `cloudfront:GetVpcOrigin` (VPC origins) and, for a create,
//! `cloudfront:CreateConnectionGroup` (connection groups), neither of
//! which urlguard configures. So a geo restriction, origin custom headers,
//! cache, origin request and response headers policies, CloudFront
//! Functions associations (creating and publishing the function is its
//! owner's) and the viewer TLS policy add no action.
//!
//! The policy holds even if the controller's credentials are stolen
//! (issue 16):
//! - Signer roles: `CreateRole`, `PutRolePolicy` and
//!   `PutRolePermissionsBoundary` only with `iam:PermissionsBoundary` =
//!   `arn:aws:iam::*:policy/urlguard/<instance>-signer-boundary` (the key
//!   is the boundary being set for the first and last, the role's boundary
//!   for `PutRolePolicy`: Service Authorization Reference, IAM). A role
//!   created or written through this policy can do no more than the
//!   boundary (`urlguard iam-policy --boundary`, `plan::boundary`). The
//!   account is `*`: the policy is printed without one, and the controller
//!   holds no `iam:CreatePolicy`, so the name under the `/urlguard/` path
//!   is the platform team's. `UpdateAssumeRolePolicy` takes no boundary
//!   key and stays scoped by name; `DeleteRolePermissionsBoundary` is not
//!   granted.
//! - SSM parameters: a create (`PutParameter` with `ssm:Overwrite` =
//!   `false`) must carry the owner tag of the instance
//!   (`aws:RequestTag/urlguard.io/owner` like `<instance>/*`); an overwrite
//!   (`ssm:Overwrite` = `true`) and a delete need the parameter to carry it
//!   (`aws:ResourceTag`). Reads stay open: urlguard reads the owner tag
//!   itself and reports `NotOwned` rather than trying. The tagging a
//!   create needs (`AddTagsToResource`) is refused on a parameter another
//!   owner tagged; on an untagged parameter it cannot be refused, since a
//!   parameter being created has no tags either — IAM cannot tell the two
//!   apart — so a stolen credential could claim an untagged parameter, not
//!   anyone else's.
//! - Distributions: the same for their owner tag. `UpdateDistribution` and
//!   `DeleteDistribution` need the instance's owner tag on the
//!   distribution; `TagResource` (which `CreateDistributionWithTags` needs)
//!   needs it in the request and, if the distribution already carries one,
//!   there too, so another owner's distribution cannot be re-tagged and
//!   then changed; an untagged one could be claimed. That is also what
//!   adopting a distribution (`spec.adopt`) needs, and no more: IAM cannot
//!   see which distribution a manifest names, so the rule that only a
//!   distribution its owner handed over (`urlguard.io/allow`) is adopted
//!   is urlguard's own check, not the policy's; the policy still refuses
//!   another owner's distribution. `UntagResource` (an adopted
//!   distribution handed back) only removes the owner tag, only from the
//!   instance's distributions.

use serde_json::{Value, json};

use crate::api::{EdgeDistribution, Protection};
use crate::model::iam::signer_boundary_arn;
use crate::model::lambda::{ADOPTED_MARKER_KEY, CREATED_MARKER_KEY};
use crate::model::names::{INSTANCE_DELIMITER, ROLE_PATH};
use crate::model::{EDGE_REGION, OPT_IN_TAG_KEY, OWNER_TAG_KEY};

/// Actions CloudFront checks on the log bucket when a distribution is
/// created or updated with standard logging on; no ledger entry of their
/// own.
pub const IMPLIED_BY_LOGGING: [&str; 2] = ["s3:GetBucketAcl", "s3:PutBucketAcl"];

/// Actions AWS checks when a distribution is given a Lambda@Edge
/// association; they appear in no ledger entry of their own.
pub const IMPLIED_BY_EDGE_ASSOCIATION: [&str; 3] = [
    "iam:CreateServiceLinkedRole",
    "lambda:EnableReplication*",
    "lambda:DisableReplication*",
];

/// The IAM actions one ledger operation (`service:Operation`) needs. Calls
/// that need no permission (`sts:GetCallerIdentity`) map to nothing.
pub fn actions_for(operation: &str) -> Vec<String> {
    let extra: &[&str] = match operation {
        // The tags given at creation need the tagging permission too.
        "cloudfront:CreateDistributionWithTags" => {
            &["cloudfront:CreateDistribution", "cloudfront:TagResource"]
        }
        "lambda:CreateFunction" => &[
            "lambda:CreateFunction",
            "lambda:TagResource",
            "iam:PassRole",
        ],
        "lambda:UpdateFunctionConfiguration" => {
            &["lambda:UpdateFunctionConfiguration", "iam:PassRole"]
        }
        "iam:CreateRole" => &["iam:CreateRole", "iam:TagRole"],
        // Without `ListTags`, the answer leaves the function's tags out.
        "lambda:GetFunction" => &["lambda:GetFunction", "lambda:ListTags"],
        "ssm:PutParameter" => &["ssm:PutParameter", "ssm:AddTagsToResource"],
        "iam:UpdateAssumeRolePolicy" => &["iam:UpdateAssumeRolePolicy"],
        "sts:GetCallerIdentity" => &[],
        other => return vec![other.to_owned()],
    };
    extra.iter().map(|a| (*a).to_owned()).collect()
}

/// What [`controller_policy`] covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyOptions {
    /// Only what this protection needs (`None`: both).
    pub protection: Option<Protection>,
    /// The S3 buckets distributions log to (`spec.logging.bucketName`):
    /// CloudFront checks `s3:GetBucketAcl` and `s3:PutBucketAcl` on them.
    pub log_buckets: Vec<String>,
}

/// The log buckets of `distributions` (`spec.logging`), sorted, each once.
pub fn log_buckets_of(distributions: &[EdgeDistribution]) -> Vec<String> {
    let mut buckets: Vec<String> = distributions
        .iter()
        .filter_map(|d| d.spec.logging.as_ref())
        .map(|logging| logging.bucket_name.clone())
        .collect();
    buckets.sort();
    buckets.dedup();
    buckets
}

/// Why a name is not an S3 bucket name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name:?} is not an S3 bucket name: {why} (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)"
)]
pub struct BucketNameError {
    /// The name given.
    pub name: String,
    /// The rule it breaks.
    pub why: &'static str,
}

/// Checks `name` against S3's general purpose bucket naming rules (the
/// ones a `Resource` ARN depends on), as `spec.logging.bucketName` is
/// checked by the schema, plus the rules a pattern cannot say.
pub fn bucket_name(name: &str) -> Result<String, BucketNameError> {
    let error = |why| BucketNameError {
        name: name.to_owned(),
        why,
    };
    if !(3..=63).contains(&name.len()) {
        return Err(error("it must be 3 to 63 characters long"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err(error(
            "only lowercase letters, digits, dots and hyphens are allowed",
        ));
    }
    let alphanumeric =
        |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alphanumeric(name.bytes().next()) || !alphanumeric(name.bytes().last()) {
        return Err(error("it must start and end with a letter or a digit"));
    }
    if name.contains("..") {
        return Err(error("two dots may not be adjacent"));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(error("it may not look like an IP address"));
    }
    Ok(name.to_owned())
}

fn statement(sid: &str, actions: &[&str], resources: Value, condition: Option<Value>) -> Value {
    let mut statement =
        json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources});
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    statement
}

/// The controller's least-privilege policy for the urlguard instance
/// `instance`: for `options.protection` (both when `None`), and allowed to
/// give CloudFront the ACLs of `options.log_buckets`.
pub fn controller_policy(instance: &str, options: &PolicyOptions) -> Value {
    let protection = options.protection;
    let edge = protection != Some(Protection::OriginAccessControl);
    let oac = protection != Some(Protection::EdgeSigner);
    let owned_by_instance = json!({"StringLike": {format!("aws:ResourceTag/{OWNER_TAG_KEY}"): format!("{instance}/*")}});
    // Names start `<instance>_` (model::names): the delimiter keeps an
    // instance `<instance>-staging` out of these patterns.
    let signer_functions =
        format!("arn:aws:lambda:{EDGE_REGION}:*:function:{instance}{INSTANCE_DELIMITER}*");
    let signer_roles = format!("arn:aws:iam::*:role{ROLE_PATH}{instance}{INSTANCE_DELIMITER}*");
    let unpathed_signer_roles = format!("arn:aws:iam::*:role/{instance}{INSTANCE_DELIMITER}*");
    // Any account: the policy is printed without one. `StringLike` for the
    // wildcard; the policy path and name pin the rest.
    let boundary = signer_boundary_arn("*", instance);
    let parameters = "arn:aws:ssm:*:*:parameter/*";

    // Reads, on any function: urlguard must see a function (and its
    // opt-in tag) before it can tell whether it may manage it. GetPolicy in
    // both protections: a teardown checks for grants of either. ListTags:
    // GetFunction answers with the function's tags only with it (the
    // signer's owner tag; the opt-in tag a function's owner sets).
    let application_functions = json!("arn:aws:lambda:*:*:function:*");
    // Writes to application functions only where the owner opted in for
    // this instance (`<instance>/<namespace>` or `<instance>/*`): a stolen
    // credential cannot reach a function nobody handed over. The slash
    // keeps `<instance>-staging/...` out.
    let opted_in = format!("{instance}/*");
    let opted_in_key = format!("aws:ResourceTag/{OPT_IN_TAG_KEY}");
    let mut statements = vec![
        statement(
            "ReadFunctions",
            &[
                "lambda:GetFunction",
                "lambda:ListTags",
                "lambda:GetFunctionUrlConfig",
                "lambda:GetPolicy",
            ],
            application_functions.clone(),
            None,
        ),
        // Only `AWS_IAM`: the credential cannot open a URL to the internet.
        // `lambda:FunctionUrlAuthType` comes from the request's `AuthType`,
        // which only these two calls carry (Service Authorization Reference,
        // AWS Lambda; the deletion has none, so it has its own statement).
        statement(
            "ConfigureOptedInFunctionUrls",
            &[
                "lambda:CreateFunctionUrlConfig",
                "lambda:UpdateFunctionUrlConfig",
            ],
            application_functions.clone(),
            Some(json!({
                "StringLike": {opted_in_key.clone(): opted_in.clone()},
                "StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"},
            })),
        ),
        statement(
            "DeleteOptedInFunctionUrls",
            &["lambda:DeleteFunctionUrlConfig"],
            application_functions.clone(),
            Some(json!({"StringLike": {opted_in_key.clone(): opted_in.clone()}})),
        ),
        // The created marker (tagged before a create) and the adopted
        // marker (a config that existed before urlguard, tagged before it
        // is switched to `AWS_IAM`), only where opted in: never the opt-in
        // tag itself.
        statement(
            "MarkFunctionUrlConfigs",
            &["lambda:TagResource"],
            application_functions.clone(),
            Some(json!({
                "StringLike": {opted_in_key.clone(): opted_in.clone()},
                "ForAllValues:StringLike": {"aws:TagKeys": [
                    CREATED_MARKER_KEY,
                    format!("{CREATED_MARKER_KEY}:*"),
                    ADOPTED_MARKER_KEY,
                    format!("{ADOPTED_MARKER_KEY}:*"),
                ]},
            })),
        ),
        // The created marker goes with the config urlguard deleted.
        statement(
            "UnmarkDeletedFunctionUrlConfigs",
            &["lambda:UntagResource"],
            application_functions.clone(),
            Some(json!({
                "StringLike": {opted_in_key.clone(): opted_in.clone()},
                "ForAllValues:StringLike": {"aws:TagKeys": [
                    CREATED_MARKER_KEY,
                    format!("{CREATED_MARKER_KEY}:*"),
                ]},
            })),
        ),
        // Its own grants (`OriginAccessControl`, or left from it), and
        // statements `spec.removeForeignStatements` removes.
        statement(
            "RemoveStatementsOnOptedInFunctions",
            &["lambda:RemovePermission"],
            application_functions.clone(),
            Some(json!({"StringLike": {opted_in_key.clone(): opted_in.clone()}})),
        ),
        statement(
            "ReadParameters",
            &["ssm:GetParameters", "ssm:ListTagsForResource"],
            json!(parameters),
            None,
        ),
        // A create carries the owner tag and says `Overwrite=false`; the
        // tag it carries needs `AddTagsToResource` with the same tag.
        statement(
            "CreateOwnedParameters",
            &["ssm:PutParameter"],
            json!(parameters),
            Some(json!({
                "StringLike": {format!("aws:RequestTag/{OWNER_TAG_KEY}"): format!("{instance}/*")},
                "StringEquals": {"ssm:Overwrite": "false"}
            })),
        ),
        // Tagging a parameter that carries another owner's tag is refused;
        // an untagged one cannot be told from one being created (its tags
        // are checked the same way), see the module docs.
        statement(
            "TagOwnedParameters",
            &["ssm:AddTagsToResource"],
            json!(parameters),
            Some(json!({
                "StringLike": {format!("aws:RequestTag/{OWNER_TAG_KEY}"): format!("{instance}/*")},
                "StringLikeIfExists": {format!("aws:ResourceTag/{OWNER_TAG_KEY}"): format!("{instance}/*")}
            })),
        ),
        statement(
            "OverwriteOwnedParameters",
            &["ssm:PutParameter"],
            json!(parameters),
            Some(json!({
                "StringLike": {format!("aws:ResourceTag/{OWNER_TAG_KEY}"): format!("{instance}/*")},
                "StringEquals": {"ssm:Overwrite": "true"}
            })),
        ),
        statement(
            "DeleteOwnedParameters",
            &["ssm:DeleteParameter"],
            json!(parameters),
            Some(owned_by_instance.clone()),
        ),
        statement(
            "FindDistributions",
            &[
                "cloudfront:ListDistributions",
                "cloudfront:ListOriginAccessControls",
            ],
            json!("*"),
            None,
        ),
        // No resource type: `*` only. `TagResource` below scopes what a
        // `CreateDistributionWithTags` may create to the instance's tag.
        statement(
            "CreateDistributionsAndOriginAccessControls",
            &[
                "cloudfront:CreateDistribution",
                "cloudfront:CreateOriginAccessControl",
            ],
            json!("*"),
            None,
        ),
        // The owner tag goes on at creation (`CreateDistributionWithTags`,
        // when the distribution has no tags yet). A distribution that
        // carries another owner's tag cannot be claimed by re-tagging it
        // (then changed or deleted): `IfExists` because at creation there
        // is no tag to compare. An untagged distribution cannot be told
        // from one being created: see the module docs.
        statement(
            "TagOwnedDistributions",
            &["cloudfront:TagResource"],
            json!("arn:aws:cloudfront::*:distribution/*"),
            Some(json!({
                "StringLike": {format!("aws:RequestTag/{OWNER_TAG_KEY}"): format!("{instance}/*")},
                "StringLikeIfExists": {format!("aws:ResourceTag/{OWNER_TAG_KEY}"): format!("{instance}/*")}
            })),
        ),
        // An adopted distribution handed back (`deletionPolicy: Retain`)
        // loses the owner tag and nothing else: only the instance's
        // distributions, only that key.
        statement(
            "HandBackAdoptedDistributions",
            &["cloudfront:UntagResource"],
            json!("arn:aws:cloudfront::*:distribution/*"),
            Some(json!({
                "StringLike": {format!("aws:ResourceTag/{OWNER_TAG_KEY}"): format!("{instance}/*")},
                "ForAllValues:StringEquals": {"aws:TagKeys": [OWNER_TAG_KEY]},
            })),
        ),
        statement(
            "ReadDistributions",
            &[
                "cloudfront:GetDistribution",
                "cloudfront:ListTagsForResource",
            ],
            json!("arn:aws:cloudfront::*:distribution/*"),
            None,
        ),
        statement(
            "ChangeOwnedDistributions",
            &[
                "cloudfront:UpdateDistribution",
                "cloudfront:DeleteDistribution",
            ],
            json!("arn:aws:cloudfront::*:distribution/*"),
            Some(owned_by_instance.clone()),
        ),
        // `spec.invalidation` and `urlguard invalidate`: on the instance's
        // distributions only, reads included (nothing else's are looked
        // up).
        statement(
            "InvalidateOwnedDistributions",
            &[
                "cloudfront:CreateInvalidation",
                "cloudfront:GetInvalidation",
                "cloudfront:ListInvalidations",
            ],
            json!("arn:aws:cloudfront::*:distribution/*"),
            Some(owned_by_instance.clone()),
        ),
        statement(
            "ManageOriginAccessControls",
            &[
                "cloudfront:GetOriginAccessControl",
                "cloudfront:DeleteOriginAccessControl",
            ],
            json!("arn:aws:cloudfront::*:origin-access-control/*"),
            None,
        ),
        // In both: a teardown looks for a signer role of either protection.
        // A role that does not exist yet has no path for IAM to put in the
        // ARN it authorizes, so looking for it is checked against
        // `role/<name>`: without the second resource the first look is
        // `AccessDenied`, not `NoSuchEntity`.
        statement(
            "FindSignerRoles",
            &["iam:GetRole"],
            json!([signer_roles.clone(), unpathed_signer_roles]),
            None,
        ),
    ];
    if oac {
        statements.extend([
            // CloudFront's grants, to CloudFront only (`lambda:Principal`
            // is the request's `Principal`): never `*` or another account.
            statement(
                "GrantCloudFrontOnOptedInFunctions",
                &["lambda:AddPermission"],
                application_functions.clone(),
                Some(json!({
                    "StringLike": {opted_in_key.clone(): opted_in.clone()},
                    "StringEquals": {"lambda:Principal": "cloudfront.amazonaws.com"},
                })),
            ),
        ]);
    }
    if edge {
        statements.extend([
            statement(
                "ManageSigners",
                &[
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:ListVersionsByFunction",
                    "lambda:CreateFunction",
                    "lambda:TagResource",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:PublishVersion",
                    "lambda:DeleteFunction",
                    "lambda:EnableReplication*",
                    "lambda:DisableReplication*",
                ],
                json!([signer_functions.clone(), format!("{signer_functions}:*")]),
                None,
            ),
            // Only with the instance's boundary: whatever the inline policy
            // says, the role can do no more than the boundary allows.
            statement(
                "BoundSignerRoles",
                &[
                    "iam:CreateRole",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                ],
                json!(signer_roles.clone()),
                Some(json!({"StringLike": {"iam:PermissionsBoundary": boundary}})),
            ),
            // `UpdateAssumeRolePolicy` has no `iam:PermissionsBoundary` key
            // (Service Authorization Reference): scoped by name only. A
            // role it can reach is bounded (above), so a changed trust
            // lends nothing beyond the boundary.
            statement(
                "ManageSignerRoles",
                &[
                    "iam:TagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:DeleteRole",
                ],
                json!(signer_roles.clone()),
                None,
            ),
            statement(
                "PassSignerRoles",
                &["iam:PassRole"],
                json!(signer_roles),
                Some(json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})),
            ),
            statement(
                "EdgeReplicator",
                &["iam:CreateServiceLinkedRole"],
                json!("arn:aws:iam::*:role/aws-service-role/replicator.lambda.amazonaws.com/AWSServiceRoleForLambdaReplicator"),
                Some(json!({"StringLike": {"iam:AWSServiceName": "replicator.lambda.amazonaws.com"}})),
            ),
        ]);
    }
    if !options.log_buckets.is_empty() {
        let mut buckets = options.log_buckets.clone();
        buckets.sort();
        buckets.dedup();
        let arns: Vec<String> = buckets
            .iter()
            .map(|bucket| format!("arn:aws:s3:::{bucket}"))
            .collect();
        statements.push(statement(
            "ConfigureStandardLogging",
            &IMPLIED_BY_LOGGING,
            json!(arns),
            None,
        ));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Every action the policy grants, sorted and deduplicated.
pub fn granted_actions(policy: &Value) -> Vec<String> {
    let mut actions: Vec<String> = policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_creations_need_the_tagging_permission() {
        assert_eq!(
            actions_for("cloudfront:CreateDistributionWithTags"),
            ["cloudfront:CreateDistribution", "cloudfront:TagResource"]
        );
        assert_eq!(
            actions_for("lambda:GetFunction"),
            ["lambda:GetFunction", "lambda:ListTags"],
            "GetFunction answers without Tags otherwise"
        );
        assert!(actions_for("sts:GetCallerIdentity").is_empty());
    }

    fn protection(protection: Protection) -> PolicyOptions {
        PolicyOptions {
            protection: Some(protection),
            ..PolicyOptions::default()
        }
    }

    #[test]
    fn bucket_acls_are_granted_only_for_the_log_buckets_named() {
        let plain = granted_actions(&controller_policy("urlguard", &PolicyOptions::default()));
        assert!(!plain.iter().any(|a| a.starts_with("s3:")), "{plain:?}");
        let options = PolicyOptions {
            protection: Some(Protection::EdgeSigner),
            log_buckets: vec!["logs-b".into(), "logs-a".into(), "logs-b".into()],
        };
        let policy = controller_policy("urlguard", &options);
        let acl = statements_granting(&policy, "s3:PutBucketAcl");
        assert_eq!(acl.len(), 1);
        assert_eq!(
            acl[0]["Action"],
            json!(["s3:GetBucketAcl", "s3:PutBucketAcl"])
        );
        assert_eq!(
            acl[0]["Resource"],
            json!(["arn:aws:s3:::logs-a", "arn:aws:s3:::logs-b"])
        );
    }

    #[test]
    fn log_buckets_come_from_the_distributions_that_log() {
        let distribution = |name: &str, bucket: Option<&str>| {
            let mut spec: crate::api::EdgeDistributionSpec = serde_json::from_value(
                json!({"defaultOrigin": {"custom": {"domainName": "example.com"}}}),
            )
            .expect("spec");
            spec.logging = bucket.map(|b| crate::api::Logging {
                bucket_name: b.into(),
                prefix: None,
                include_cookies: false,
            });
            EdgeDistribution::new(name, spec)
        };
        let distributions = [
            distribution("a", Some("logs")),
            distribution("b", None),
            distribution("c", Some("logs")),
            distribution("d", Some("audit")),
        ];
        assert_eq!(log_buckets_of(&distributions), ["audit", "logs"]);
    }

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for good in ["abc", "my-logs.example", "logs-123"] {
            assert_eq!(bucket_name(good).as_deref(), Ok(good));
        }
        for bad in [
            "ab",
            "Logs",
            "logs_1",
            "-logs",
            "logs.",
            "my..logs",
            "192.168.1.1",
            "arn:aws:s3:::logs",
        ] {
            let error = bucket_name(bad).expect_err(bad);
            assert!(error.to_string().contains(bad), "{error}");
        }
    }

    fn statements_granting<'a>(policy: &'a Value, action: &str) -> Vec<&'a Value> {
        policy["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .filter(|s| {
                s["Action"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == action))
            })
            .collect()
    }

    #[test]
    fn actions_without_a_resource_type_are_granted_on_every_resource() {
        // The Service Authorization Reference lists no resource type for
        // these: a statement naming ARNs does not match them.
        let no_resource_type = [
            "cloudfront:CreateDistribution",
            "cloudfront:CreateOriginAccessControl",
            "cloudfront:ListDistributions",
            "cloudfront:ListOriginAccessControls",
        ];
        let policy = controller_policy("urlguard", &PolicyOptions::default());
        for action in no_resource_type {
            let granting = statements_granting(&policy, action);
            assert!(!granting.is_empty(), "{action} is not granted");
            assert!(
                granting.iter().all(|s| s["Resource"] == "*"),
                "{action}: {granting:#?}"
            );
        }
    }

    #[test]
    fn pass_role_is_granted_only_for_the_signer_roles_and_only_to_lambda() {
        let policy = controller_policy("urlguard", &PolicyOptions::default());
        let passing = statements_granting(&policy, "iam:PassRole");
        assert_eq!(passing.len(), 1);
        assert_eq!(
            passing[0]["Resource"],
            "arn:aws:iam::*:role/urlguard/urlguard_*"
        );
        assert_eq!(
            passing[0]["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
    }

    #[test]
    fn origin_access_control_needs_no_edge_function_and_edge_signer_no_grants() {
        let oac = granted_actions(&controller_policy(
            "urlguard",
            &protection(Protection::OriginAccessControl),
        ));
        assert!(!oac.iter().any(|a| a == "lambda:PublishVersion"));
        let oac_iam: Vec<&String> = oac.iter().filter(|a| a.starts_with("iam:")).collect();
        assert_eq!(oac_iam, ["iam:GetRole"]);
        assert!(oac.iter().any(|a| a == "lambda:AddPermission"));
        let edge = granted_actions(&controller_policy(
            "urlguard",
            &protection(Protection::EdgeSigner),
        ));
        assert!(!edge.iter().any(|a| a == "lambda:AddPermission"));
        assert!(edge.iter().any(|a| a == "lambda:PublishVersion"));
    }

    #[test]
    fn writes_to_application_functions_need_the_opt_in_aws_iam_and_cloudfront() {
        let policy = controller_policy("team-a", &PolicyOptions::default());
        let writes = [
            "lambda:CreateFunctionUrlConfig",
            "lambda:UpdateFunctionUrlConfig",
            "lambda:DeleteFunctionUrlConfig",
            "lambda:AddPermission",
            "lambda:RemovePermission",
        ];
        for action in writes {
            let granting = statements_granting(&policy, action);
            assert_eq!(granting.len(), 1, "{action}");
            assert_eq!(
                granting[0]["Condition"]["StringLike"]["aws:ResourceTag/urlguard.io/allow"],
                "team-a/*",
                "{action}"
            );
        }
        for action in [
            "lambda:CreateFunctionUrlConfig",
            "lambda:UpdateFunctionUrlConfig",
        ] {
            assert_eq!(
                statements_granting(&policy, action)[0]["Condition"]["StringEquals"]["lambda:FunctionUrlAuthType"],
                "AWS_IAM"
            );
        }
        assert_eq!(
            statements_granting(&policy, "lambda:AddPermission")[0]["Condition"]["StringEquals"]["lambda:Principal"],
            "cloudfront.amazonaws.com"
        );
        // Tagging: on the signer functions, or on opted-in functions
        // without ever the opt-in key itself (urlguard cannot opt a
        // function in, nor widen an opt-in): only the markers.
        for statement in ["lambda:TagResource", "lambda:UntagResource"]
            .into_iter()
            .flat_map(|action| statements_granting(&policy, action))
        {
            let signers_only = statement["Resource"].as_array().is_some_and(|r| {
                r.iter().all(|arn| {
                    arn.as_str()
                        .is_some_and(|a| a.contains(":function:team-a_"))
                })
            });
            let condition = &statement["Condition"];
            let opted_in_only = condition["StringLike"]["aws:ResourceTag/urlguard.io/allow"]
                == "team-a/*"
                && condition["ForAllValues:StringLike"]["aws:TagKeys"]
                    .as_array()
                    .is_some_and(|keys| {
                        keys.iter().all(|k| {
                            k.as_str().is_some_and(|k| {
                                k.starts_with("urlguard.io/adopted-url-config")
                                    || k.starts_with("urlguard.io/created-url-config")
                            })
                        })
                    });
            assert!(signers_only || opted_in_only, "{statement:#}");
        }
    }

    #[test]
    fn invalidations_are_granted_on_the_instances_distributions_only() {
        let policy = controller_policy("team-a", &PolicyOptions::default());
        for action in [
            "cloudfront:CreateInvalidation",
            "cloudfront:GetInvalidation",
            "cloudfront:ListInvalidations",
        ] {
            let statements = statements_granting(&policy, action);
            assert_eq!(statements.len(), 1, "{action}");
            assert_eq!(
                statements[0]["Condition"]["StringLike"]["aws:ResourceTag/urlguard.io/owner"],
                "team-a/*",
                "{action}"
            );
        }
    }

    #[test]
    fn changes_to_distributions_are_scoped_by_the_owner_tag_of_the_instance() {
        let policy = controller_policy("team-a", &PolicyOptions::default());
        let change = policy["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| s["Sid"] == "ChangeOwnedDistributions")
            .expect("statement");
        assert_eq!(
            change["Condition"]["StringLike"]["aws:ResourceTag/urlguard.io/owner"],
            "team-a/*"
        );
    }

    /// IAM's wildcard match of a `Resource` pattern: `*` any run, `?` one
    /// character.
    fn iam_match(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                iam_match(&pattern[1..], text)
                    || (!text.is_empty() && iam_match(pattern, &text[1..]))
            }
            (Some(b'?'), Some(_)) => iam_match(&pattern[1..], &text[1..]),
            (Some(p), Some(t)) if p == t => iam_match(&pattern[1..], &text[1..]),
            _ => false,
        }
    }

    /// Every statement of `policy` whose resources match `arn`.
    fn sids_matching(policy: &Value, arn: &str) -> Vec<String> {
        policy["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .filter(|s| {
                let resources = match &s["Resource"] {
                    Value::Array(list) => list.clone(),
                    one => vec![one.clone()],
                };
                resources.iter().any(|r| {
                    r.as_str()
                        .is_some_and(|r| r != "*" && iam_match(r.as_bytes(), arn.as_bytes()))
                })
            })
            .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn name_patterns_of_an_instance_never_match_another_instance_with_its_prefix() {
        use crate::model::names::Owner;
        let policy = controller_policy("urlguard", &PolicyOptions::default());
        let of = |instance: &str| Owner {
            instance: instance.into(),
            namespace: "books".into(),
            name: "books".into(),
        };
        let arns = |owner: &Owner| {
            [
                format!(
                    "arn:aws:lambda:us-east-1:123456789012:function:{}",
                    owner.signer_function_name()
                ),
                format!(
                    "arn:aws:lambda:us-east-1:123456789012:function:{}:3",
                    owner.signer_function_name()
                ),
                format!(
                    "arn:aws:iam::123456789012:role/urlguard/{}",
                    owner.signer_role_name()
                ),
                format!(
                    "arn:aws:iam::123456789012:role/{}",
                    owner.signer_role_name()
                ),
            ]
        };
        for arn in arns(&of("urlguard")) {
            assert!(!sids_matching(&policy, &arn).is_empty(), "{arn}");
        }
        // Another instance's resources get only what any function or role
        // of the account gets (the statements not scoped by name).
        let anyone = |arn: &str| {
            let stranger = arn
                .replace("urlguard-staging_", "someone-else")
                .replace("urlguardx_", "someone-else");
            sids_matching(&policy, &stranger)
        };
        for arn in arns(&of("urlguard-staging"))
            .iter()
            .chain(&arns(&of("urlguardx")))
        {
            assert_eq!(sids_matching(&policy, arn), anyone(arn), "{arn}");
        }
    }
}
