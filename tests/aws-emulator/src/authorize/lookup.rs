//! What IAM knows about existing resources and the request does not say:
//! a role's path (it is part of the role's ARN), its permissions boundary
//! (`iam:PermissionsBoundary` of `PutRolePolicy`, `DeleteRolePolicy`,
//! `AttachRolePolicy`, `DetachRolePolicy`, `DeleteRolePermissionsBoundary`:
//! the Service Authorization Reference for IAM, "Checks that the specified
//! policy is attached as a permissions boundary on the IAM role resource",
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>)
//! and the tags of a Lambda
//! function, an IAM role or an SSM parameter (`aws:ResourceTag/*`). They are
//! read from moto with the emulator's own calls (`Upstream::call`), which
//! never reach the ledger. CloudFront's tags come from the in-process store.
//! Something not found reads as no path (`/`) and no tags, as AWS checks
//! permissions before it looks for the resource. So a role that does not
//! exist yet is checked as `role/NAME` (except by `CreateRole`, which gives
//! its `Path`): a policy that names roles by path (`role/urlguard/*`)
//! refuses `GetRole` of a missing role with `AccessDenied` instead of
//! letting `NoSuchEntity` through — the ARN of a role has its path, and a
//! missing role has none.

use bytes::Bytes;
use http::Method;
use roxmltree::Document;
use serde_json::Value;

use crate::cloudfront::xml::child_text;
use crate::upstream::Upstream;

/// What `GetRole` says of a role that matters to authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleFacts {
    /// `/` when the role does not exist.
    pub path: String,
    pub tags: Vec<(String, String)>,
    /// The ARN of its permissions boundary (moto's `GetRole` answers
    /// `PermissionsBoundary.PermissionsBoundaryArn`, as IAM does).
    pub boundary: Option<String>,
}

impl RoleFacts {
    fn missing() -> RoleFacts {
        RoleFacts {
            path: "/".to_owned(),
            tags: Vec::new(),
            boundary: None,
        }
    }
}

/// A role's path, tags and boundary (`GetRole`, query protocol).
pub(crate) async fn role(upstream: &Upstream, name: &str) -> RoleFacts {
    let Some(text) = upstream.iam_query("GetRole", &[("RoleName", name)]).await else {
        return RoleFacts::missing();
    };
    let Ok(doc) = Document::parse(&text) else {
        return RoleFacts::missing();
    };
    let Some(role) = doc.descendants().find(|n| n.tag_name().name() == "Role") else {
        return RoleFacts::missing();
    };
    let role_path = child_text(role, "Path").unwrap_or("/").to_owned();
    let tags = role
        .children()
        .find(|n| n.tag_name().name() == "Tags")
        .into_iter()
        .flat_map(|t| t.children().filter(|n| n.tag_name().name() == "member"))
        .filter_map(|m| {
            Some((
                child_text(m, "Key")?.to_owned(),
                child_text(m, "Value").unwrap_or("").to_owned(),
            ))
        })
        .collect();
    let boundary = role
        .children()
        .find(|n| n.tag_name().name() == "PermissionsBoundary")
        .and_then(|b| child_text(b, "PermissionsBoundaryArn"))
        .map(str::to_owned);
    RoleFacts {
        path: role_path,
        tags,
        boundary,
    }
}

/// A function's tags (`ListTags`, by its unqualified ARN).
pub(crate) async fn function_tags(
    upstream: &Upstream,
    region: &str,
    arn: &str,
) -> Vec<(String, String)> {
    let path = format!(
        "/2017-03-31/tags/{}",
        percent_encoding::utf8_percent_encode(arn, percent_encoding::NON_ALPHANUMERIC)
    );
    let Ok(reply) = upstream.call("lambda", region, Method::GET, &path).await else {
        return Vec::new();
    };
    if !reply.is_success() {
        return Vec::new();
    }
    let json: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    json["Tags"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// A parameter's tags (`ListTagsForResource`, JSON 1.1).
pub(crate) async fn parameter_tags(
    upstream: &Upstream,
    region: &str,
    name: &str,
) -> Vec<(String, String)> {
    let body = serde_json::json!({"ResourceType": "Parameter", "ResourceId": name});
    let Ok(reply) = upstream
        .call_with(
            "ssm",
            region,
            Method::POST,
            "/",
            &[
                ("x-amz-target", "AmazonSSM.ListTagsForResource"),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            Bytes::from(body.to_string()),
        )
        .await
    else {
        return Vec::new();
    };
    if !reply.is_success() {
        return Vec::new();
    }
    let json: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    json["TagList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t["Key"].as_str()?.to_owned(),
                t["Value"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// The default version's document of a managed policy (`GetPolicy`, then
/// `GetPolicyVersion`), decoded from the URL encoding IAM answers it in;
/// `None` when the policy does not exist.
pub(crate) async fn managed_policy_document(upstream: &Upstream, arn: &str) -> Option<String> {
    let text = upstream
        .iam_query("GetPolicy", &[("PolicyArn", arn)])
        .await?;
    let doc = Document::parse(&text).ok()?;
    let version = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Policy")
        .and_then(|p| child_text(p, "DefaultVersionId"))?
        .to_owned();
    let text = upstream
        .iam_query(
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", &version)],
        )
        .await?;
    let doc = Document::parse(&text).ok()?;
    let document = doc
        .descendants()
        .find(|n| n.tag_name().name() == "PolicyVersion")
        .and_then(|v| child_text(v, "Document"))?;
    Some(if document.trim_start().starts_with('{') {
        document.to_owned()
    } else {
        percent_encoding::percent_decode_str(document)
            .decode_utf8_lossy()
            .into_owned()
    })
}
