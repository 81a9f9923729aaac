//! What IAM checks for each operation, as data: the action(s), where each
//! check's resource comes from, when a check applies (extra actions some
//! requests need), which condition keys the Service Authorization Reference
//! lists for it, and the page each entry follows.
//!
//! The pages:
//! - CloudFront: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html>
//!   (the dependent actions of `CreateDistribution` and
//!   `UpdateDistribution` are `cloudfront:GetVpcOrigin`, for VPC origins,
//!   and for a create `cloudfront:CreateConnectionGroup`: a config's
//!   policies, CloudFront Functions, geo restriction and custom headers
//!   are checked for nothing more)
//!   and, for Lambda@Edge associations, the developer guide's "Setting IAM
//!   permissions and roles for Lambda@Edge"
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html>),
//!   for logging "Configure standard logging (legacy)", permissions
//!   (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html>);
//! - Lambda: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html>,
//!   and `GetFunction` (<https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html>:
//!   "Tags: ... only returned if you have permission for `ListTags`");
//! - IAM: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>;
//! - SSM: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html>;
//! - S3: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>;
//! - STS: <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html>
//!   (`GetCallerIdentity` needs no permission: "No permissions are required
//!   to perform this operation", STS API reference).
//!
//! An operation missing here is checked as the action of its own name on
//! `*` (so a restricted key gets nothing the table does not know about
//! unless its policy allows it on every resource).

/// Where a check's resource comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Res {
    /// No resource type: `*`.
    Any,
    /// `arn:aws:cloudfront::ACCOUNT:distribution/ID`, id from the path; for
    /// a distribution being created, `distribution/*` (it has no id yet).
    Distribution,
    /// `arn:aws:cloudfront::ACCOUNT:origin-access-control/ID`, id from the path.
    OriginAccessControl,
    /// The `Resource` query parameter (CloudFront tagging) or the ARN in
    /// the path (Lambda `/tags/ARN`).
    TaggedArn,
    /// The Lambda function of the path (or of `FunctionName` in the body),
    /// `function:NAME[:QUALIFIER]` with the `Qualifier` query parameter.
    Function,
    /// The Lambda function of the path, never qualified.
    UnqualifiedFunction,
    /// `arn:aws:iam::ACCOUNT:role<PATH><NAME>`, `RoleName` from the form.
    Role,
    /// The role ARN in the Lambda request body's `Role`.
    PassedRole,
    /// The Lambda@Edge replicator's service-linked role.
    ReplicatorRole,
    /// Each SSM parameter the body names (`Name`, `Names`, `ResourceId`).
    Parameters,
    /// Each Lambda@Edge version the new distribution config associates.
    EdgeVersions,
    /// Each Lambda@Edge version an update or a delete disassociates.
    RemovedEdgeVersions,
    /// `arn:aws:s3:::BUCKET` of the config's `Logging.Bucket`.
    LogBucket,
    /// The `RoleArn` form field (`sts:AssumeRole`).
    AssumedRole,
}

/// When a check applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Always,
    /// The request carries tags.
    Tagged,
    /// The Lambda request body names a `Role`.
    PassesRole,
    /// The new distribution config has Lambda@Edge associations.
    Associates,
    /// ... and the replicator's service-linked role does not exist yet.
    FirstAssociation,
    /// The distribution config has logging enabled.
    Logs,
}

/// A condition key a check's context gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// `aws:RequestTag/${TagKey}` and `aws:TagKeys`.
    RequestTags,
    /// `aws:ResourceTag/${TagKey}` (looked up only when the policy uses it).
    ResourceTags,
    /// `iam:PassedToService` = `lambda.amazonaws.com`.
    PassedToLambda,
    /// `iam:PermissionsBoundary` from the form (the boundary being set).
    PermissionsBoundary,
    /// `iam:PermissionsBoundary` of the existing role (its boundary's ARN;
    /// absent when it has none).
    RoleBoundary,
    /// `iam:AWSServiceName` = `replicator.lambda.amazonaws.com`.
    ReplicatorServiceName,
    /// `lambda:FunctionUrlAuthType` from the body's `AuthType` (or
    /// `FunctionUrlAuthType` of `AddPermission`).
    FunctionUrlAuthType,
    /// `lambda:Principal` from the body's `Principal`.
    LambdaPrincipal,
    /// `ssm:Overwrite` from the body's `Overwrite` (`"true"`/`"false"`).
    Overwrite,
}

/// What a denied check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// The call is refused.
    Required,
    /// The call succeeds without the answer's `Tags` (partial
    /// authorization: `GetFunction` without `ListTags`).
    ForTags,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Check {
    pub action: &'static str,
    pub resource: Res,
    pub when: When,
    pub keys: &'static [Key],
    pub need: Need,
}

/// One operation: its checks in the order IAM reports a denial.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// `service:Operation` as the ledger names it.
    pub call: &'static str,
    pub checks: &'static [Check],
    pub source: &'static str,
}

const fn check(action: &'static str, resource: Res, keys: &'static [Key]) -> Check {
    Check {
        action,
        resource,
        when: When::Always,
        keys,
        need: Need::Required,
    }
}

const fn when(action: &'static str, resource: Res, when: When, keys: &'static [Key]) -> Check {
    Check {
        action,
        resource,
        when,
        keys,
        need: Need::Required,
    }
}

const CF: &str =
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html";
const CF_EDGE: &str = "list_amazoncloudfront.html; CloudFront developer guide, lambda-edge-permissions.html (lambda:GetFunction, lambda:EnableReplication*, lambda:DisableReplication*, iam:CreateServiceLinkedRole once per account); standard-logging-legacy-s3.html (s3:GetBucketAcl, s3:PutBucketAcl on the log bucket)";
const LAMBDA: &str =
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html";
const IAM: &str = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html";
const SSM: &str = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html";
const STS: &str = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html";

const RT: &[Key] = &[Key::ResourceTags];
const REQ: &[Key] = &[Key::RequestTags];
const NONE: &[Key] = &[];

/// What a Create/Update of a distribution config adds: the Lambda@Edge
/// association and logging checks.
macro_rules! distribution_config_checks {
    () => {
        [
            when(
                "lambda:GetFunction",
                Res::EdgeVersions,
                When::Associates,
                RT,
            ),
            when(
                "lambda:EnableReplication",
                Res::EdgeVersions,
                When::Associates,
                RT,
            ),
            when(
                "iam:CreateServiceLinkedRole",
                Res::ReplicatorRole,
                When::FirstAssociation,
                &[Key::ReplicatorServiceName],
            ),
            when(
                "lambda:DisableReplication",
                Res::RemovedEdgeVersions,
                When::Always,
                RT,
            ),
            when("s3:GetBucketAcl", Res::LogBucket, When::Logs, NONE),
            when("s3:PutBucketAcl", Res::LogBucket, When::Logs, NONE),
        ]
    };
}

const CREATE_DISTRIBUTION: [Check; 7] = {
    let [a, b, c, d, e, f] = distribution_config_checks!();
    [
        check("cloudfront:CreateDistribution", Res::Any, NONE),
        a,
        b,
        c,
        d,
        e,
        f,
    ]
};
const CREATE_DISTRIBUTION_WITH_TAGS: [Check; 8] = {
    let [a, b, c, d, e, f] = distribution_config_checks!();
    [
        check("cloudfront:CreateDistribution", Res::Any, NONE),
        when(
            "cloudfront:TagResource",
            Res::Distribution,
            When::Tagged,
            REQ,
        ),
        a,
        b,
        c,
        d,
        e,
        f,
    ]
};
const UPDATE_DISTRIBUTION: [Check; 7] = {
    let [a, b, c, d, e, f] = distribution_config_checks!();
    [
        check("cloudfront:UpdateDistribution", Res::Distribution, RT),
        a,
        b,
        c,
        d,
        e,
        f,
    ]
};

/// The table.
pub(crate) const TABLE: &[Entry] = &[
    // CloudFront
    Entry {
        call: "cloudfront:CreateDistribution",
        checks: &CREATE_DISTRIBUTION,
        source: CF_EDGE,
    },
    Entry {
        call: "cloudfront:CreateDistributionWithTags",
        checks: &CREATE_DISTRIBUTION_WITH_TAGS,
        source: CF_EDGE,
    },
    Entry {
        call: "cloudfront:UpdateDistribution",
        checks: &UPDATE_DISTRIBUTION,
        source: CF_EDGE,
    },
    Entry {
        call: "cloudfront:DeleteDistribution",
        checks: &[
            check("cloudfront:DeleteDistribution", Res::Distribution, RT),
            check("lambda:DisableReplication", Res::RemovedEdgeVersions, RT),
        ],
        source: CF_EDGE,
    },
    Entry {
        call: "cloudfront:ListDistributions",
        checks: &[check("cloudfront:ListDistributions", Res::Any, NONE)],
        source: CF,
    },
    Entry {
        call: "cloudfront:GetDistribution",
        checks: &[check("cloudfront:GetDistribution", Res::Distribution, RT)],
        source: CF,
    },
    Entry {
        call: "cloudfront:GetDistributionConfig",
        checks: &[check(
            "cloudfront:GetDistributionConfig",
            Res::Distribution,
            RT,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:CreateOriginAccessControl",
        checks: &[check(
            "cloudfront:CreateOriginAccessControl",
            Res::Any,
            NONE,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:ListOriginAccessControls",
        checks: &[check("cloudfront:ListOriginAccessControls", Res::Any, NONE)],
        source: CF,
    },
    Entry {
        call: "cloudfront:GetOriginAccessControl",
        checks: &[check(
            "cloudfront:GetOriginAccessControl",
            Res::OriginAccessControl,
            NONE,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:GetOriginAccessControlConfig",
        checks: &[check(
            "cloudfront:GetOriginAccessControlConfig",
            Res::OriginAccessControl,
            NONE,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:UpdateOriginAccessControl",
        checks: &[check(
            "cloudfront:UpdateOriginAccessControl",
            Res::OriginAccessControl,
            NONE,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:DeleteOriginAccessControl",
        checks: &[check(
            "cloudfront:DeleteOriginAccessControl",
            Res::OriginAccessControl,
            NONE,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:ListTagsForResource",
        checks: &[check("cloudfront:ListTagsForResource", Res::TaggedArn, RT)],
        source: CF,
    },
    Entry {
        call: "cloudfront:TagResource",
        checks: &[check(
            "cloudfront:TagResource",
            Res::TaggedArn,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:UntagResource",
        checks: &[check(
            "cloudfront:UntagResource",
            Res::TaggedArn,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: CF,
    },
    // Invalidations: resource type `distribution*` for all three
    // (list_amazoncloudfront.html, "Actions defined by Amazon CloudFront").
    Entry {
        call: "cloudfront:CreateInvalidation",
        checks: &[check(
            "cloudfront:CreateInvalidation",
            Res::Distribution,
            RT,
        )],
        source: CF,
    },
    Entry {
        call: "cloudfront:GetInvalidation",
        checks: &[check("cloudfront:GetInvalidation", Res::Distribution, RT)],
        source: CF,
    },
    Entry {
        call: "cloudfront:ListInvalidations",
        checks: &[check("cloudfront:ListInvalidations", Res::Distribution, RT)],
        source: CF,
    },
    // Lambda
    Entry {
        call: "lambda:CreateFunction",
        checks: &[
            check("lambda:CreateFunction", Res::Function, REQ),
            when("lambda:TagResource", Res::Function, When::Tagged, REQ),
            when(
                "iam:PassRole",
                Res::PassedRole,
                When::PassesRole,
                &[Key::PassedToLambda, Key::ResourceTags],
            ),
        ],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:UpdateFunctionConfiguration",
        checks: &[
            check(
                "lambda:UpdateFunctionConfiguration",
                Res::UnqualifiedFunction,
                RT,
            ),
            when(
                "iam:PassRole",
                Res::PassedRole,
                When::PassesRole,
                &[Key::PassedToLambda, Key::ResourceTags],
            ),
        ],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:GetFunction",
        checks: &[
            check("lambda:GetFunction", Res::Function, RT),
            Check {
                action: "lambda:ListTags",
                resource: Res::UnqualifiedFunction,
                when: When::Always,
                keys: RT,
                need: Need::ForTags,
            },
        ],
        source: "list_awslambda.html; https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html (Tags only with lambda:ListTags)",
    },
    Entry {
        call: "lambda:GetFunctionConfiguration",
        checks: &[check("lambda:GetFunctionConfiguration", Res::Function, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:DeleteFunction",
        checks: &[check("lambda:DeleteFunction", Res::Function, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:UpdateFunctionCode",
        checks: &[check(
            "lambda:UpdateFunctionCode",
            Res::UnqualifiedFunction,
            RT,
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:PublishVersion",
        checks: &[check("lambda:PublishVersion", Res::UnqualifiedFunction, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:ListVersionsByFunction",
        checks: &[check(
            "lambda:ListVersionsByFunction",
            Res::UnqualifiedFunction,
            RT,
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:ListFunctions",
        checks: &[check("lambda:ListFunctions", Res::Any, NONE)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:AddPermission",
        checks: &[check(
            "lambda:AddPermission",
            Res::Function,
            &[
                Key::LambdaPrincipal,
                Key::FunctionUrlAuthType,
                Key::ResourceTags,
            ],
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:RemovePermission",
        checks: &[check("lambda:RemovePermission", Res::Function, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:GetPolicy",
        checks: &[check("lambda:GetPolicy", Res::Function, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:CreateFunctionUrlConfig",
        checks: &[check(
            "lambda:CreateFunctionUrlConfig",
            Res::Function,
            &[Key::FunctionUrlAuthType, Key::ResourceTags],
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:UpdateFunctionUrlConfig",
        checks: &[check(
            "lambda:UpdateFunctionUrlConfig",
            Res::Function,
            &[Key::FunctionUrlAuthType, Key::ResourceTags],
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:GetFunctionUrlConfig",
        checks: &[check("lambda:GetFunctionUrlConfig", Res::Function, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:DeleteFunctionUrlConfig",
        checks: &[check("lambda:DeleteFunctionUrlConfig", Res::Function, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:ListTags",
        checks: &[check("lambda:ListTags", Res::TaggedArn, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:TagResource",
        checks: &[check(
            "lambda:TagResource",
            Res::TaggedArn,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:UntagResource",
        checks: &[check(
            "lambda:UntagResource",
            Res::TaggedArn,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:CreateAlias",
        checks: &[check("lambda:CreateAlias", Res::UnqualifiedFunction, RT)],
        source: LAMBDA,
    },
    Entry {
        call: "lambda:GetAlias",
        checks: &[check("lambda:GetAlias", Res::UnqualifiedFunction, RT)],
        source: LAMBDA,
    },
    // IAM
    Entry {
        call: "iam:CreateRole",
        checks: &[
            check(
                "iam:CreateRole",
                Res::Role,
                &[Key::RequestTags, Key::PermissionsBoundary],
            ),
            when("iam:TagRole", Res::Role, When::Tagged, REQ),
        ],
        source: IAM,
    },
    Entry {
        call: "iam:GetRole",
        checks: &[check("iam:GetRole", Res::Role, RT)],
        source: IAM,
    },
    Entry {
        call: "iam:DeleteRole",
        checks: &[check("iam:DeleteRole", Res::Role, &[Key::ResourceTags])],
        source: IAM,
    },
    Entry {
        call: "iam:UpdateAssumeRolePolicy",
        checks: &[check("iam:UpdateAssumeRolePolicy", Res::Role, RT)],
        source: IAM,
    },
    Entry {
        call: "iam:GetRolePolicy",
        checks: &[check("iam:GetRolePolicy", Res::Role, RT)],
        source: IAM,
    },
    Entry {
        call: "iam:PutRolePolicy",
        checks: &[check(
            "iam:PutRolePolicy",
            Res::Role,
            &[Key::RoleBoundary, Key::ResourceTags],
        )],
        source: IAM,
    },
    Entry {
        call: "iam:DeleteRolePolicy",
        checks: &[check(
            "iam:DeleteRolePolicy",
            Res::Role,
            &[Key::RoleBoundary, Key::ResourceTags],
        )],
        source: IAM,
    },
    Entry {
        call: "iam:PutRolePermissionsBoundary",
        checks: &[check(
            "iam:PutRolePermissionsBoundary",
            Res::Role,
            &[Key::PermissionsBoundary, Key::ResourceTags],
        )],
        source: IAM,
    },
    Entry {
        call: "iam:DeleteRolePermissionsBoundary",
        checks: &[check(
            "iam:DeleteRolePermissionsBoundary",
            Res::Role,
            &[Key::RoleBoundary, Key::ResourceTags],
        )],
        source: IAM,
    },
    Entry {
        call: "iam:ListRolePolicies",
        checks: &[check("iam:ListRolePolicies", Res::Role, RT)],
        source: IAM,
    },
    Entry {
        call: "iam:TagRole",
        checks: &[check(
            "iam:TagRole",
            Res::Role,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: IAM,
    },
    Entry {
        call: "iam:UntagRole",
        checks: &[check(
            "iam:UntagRole",
            Res::Role,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: IAM,
    },
    Entry {
        call: "iam:ListRoleTags",
        checks: &[check("iam:ListRoleTags", Res::Role, RT)],
        source: IAM,
    },
    // SSM
    Entry {
        call: "ssm:GetParameters",
        checks: &[check("ssm:GetParameters", Res::Parameters, RT)],
        source: SSM,
    },
    Entry {
        call: "ssm:GetParameter",
        checks: &[check("ssm:GetParameter", Res::Parameters, RT)],
        source: SSM,
    },
    Entry {
        call: "ssm:PutParameter",
        checks: &[
            check(
                "ssm:PutParameter",
                Res::Parameters,
                &[Key::Overwrite, Key::RequestTags, Key::ResourceTags],
            ),
            when("ssm:AddTagsToResource", Res::Parameters, When::Tagged, REQ),
        ],
        source: SSM,
    },
    Entry {
        call: "ssm:DeleteParameter",
        checks: &[check("ssm:DeleteParameter", Res::Parameters, RT)],
        source: SSM,
    },
    Entry {
        call: "ssm:AddTagsToResource",
        checks: &[check(
            "ssm:AddTagsToResource",
            Res::Parameters,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: SSM,
    },
    Entry {
        call: "ssm:RemoveTagsFromResource",
        checks: &[check(
            "ssm:RemoveTagsFromResource",
            Res::Parameters,
            &[Key::RequestTags, Key::ResourceTags],
        )],
        source: SSM,
    },
    Entry {
        call: "ssm:ListTagsForResource",
        checks: &[check("ssm:ListTagsForResource", Res::Parameters, RT)],
        source: SSM,
    },
    // STS
    Entry {
        call: "sts:GetCallerIdentity",
        checks: &[],
        source: STS,
    },
    Entry {
        call: "sts:AssumeRole",
        checks: &[check("sts:AssumeRole", Res::AssumedRole, RT)],
        source: STS,
    },
];

/// The table's entry for `service:Operation`.
pub(crate) fn entry(call: &str) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.call == call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_unique_and_cites_its_source() {
        for (i, e) in TABLE.iter().enumerate() {
            assert!(!e.source.is_empty(), "{}", e.call);
            assert!(
                TABLE[..i].iter().all(|o| o.call != e.call),
                "{} twice",
                e.call
            );
        }
    }

    #[test]
    fn every_operation_the_product_calls_is_in_the_table() {
        // The ledger operations of src/aws/ (see `permissions::actions_for`).
        let product = [
            "cloudfront:CreateDistributionWithTags",
            "cloudfront:CreateInvalidation",
            "cloudfront:CreateOriginAccessControl",
            "cloudfront:DeleteDistribution",
            "cloudfront:DeleteOriginAccessControl",
            "cloudfront:GetDistribution",
            "cloudfront:GetInvalidation",
            "cloudfront:GetOriginAccessControl",
            "cloudfront:ListDistributions",
            "cloudfront:ListInvalidations",
            "cloudfront:ListOriginAccessControls",
            "cloudfront:ListTagsForResource",
            "cloudfront:TagResource",
            "cloudfront:UpdateDistribution",
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:DeleteRolePolicy",
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:PutRolePolicy",
            "iam:TagRole",
            "iam:UpdateAssumeRolePolicy",
            "lambda:AddPermission",
            "lambda:CreateFunction",
            "lambda:CreateFunctionUrlConfig",
            "lambda:DeleteFunction",
            "lambda:DeleteFunctionUrlConfig",
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:GetFunctionUrlConfig",
            "lambda:GetPolicy",
            "lambda:ListVersionsByFunction",
            "lambda:PublishVersion",
            "lambda:RemovePermission",
            "lambda:TagResource",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:UpdateFunctionUrlConfig",
            "ssm:AddTagsToResource",
            "ssm:DeleteParameter",
            "ssm:GetParameters",
            "ssm:ListTagsForResource",
            "ssm:PutParameter",
            "sts:GetCallerIdentity",
        ];
        for call in product {
            assert!(entry(call).is_some(), "{call} is not in the table");
        }
    }
}
