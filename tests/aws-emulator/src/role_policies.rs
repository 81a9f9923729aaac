//! A role's inline policies as IAM holds them, read from moto with the
//! emulator's own calls (`ListRolePolicies`, `GetRolePolicy`), which never
//! reach the ledger: for IAM's quota on their size (`role_policy_size`) and
//! for what an assumed role's session may do (`assumed_roles`).

use percent_encoding::percent_decode_str;
use roxmltree::Document;

use crate::cloudfront::xml::child_text;
use crate::upstream::Upstream;

/// The names of `role`'s inline policies (`ListRolePolicies`); none when
/// the role does not exist.
pub(crate) async fn names(upstream: &Upstream, role: &str) -> Vec<String> {
    let Some(text) = upstream
        .iam_query("ListRolePolicies", &[("RoleName", role)])
        .await
    else {
        return Vec::new();
    };
    let Ok(doc) = Document::parse(&text) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.tag_name().name() == "PolicyNames")
        .flat_map(|list| list.children().filter(|n| n.tag_name().name() == "member"))
        .filter_map(|member| member.text().map(str::to_owned))
        .collect()
}

/// The document of one inline policy (`GetRolePolicy`), decoded from the
/// URL encoding IAM answers it in.
pub(crate) async fn document(upstream: &Upstream, role: &str, name: &str) -> String {
    let Some(text) = upstream
        .iam_query("GetRolePolicy", &[("RoleName", role), ("PolicyName", name)])
        .await
    else {
        return String::new();
    };
    let Ok(doc) = Document::parse(&text) else {
        return String::new();
    };
    let document = doc
        .descendants()
        .find(|n| n.tag_name().name() == "GetRolePolicyResult")
        .and_then(|result| child_text(result, "PolicyDocument"))
        .unwrap_or_default();
    if document.trim_start().starts_with('{') {
        document.to_owned()
    } else {
        percent_decode_str(document)
            .decode_utf8_lossy()
            .into_owned()
    }
}
