//! What an assumed role's session may do. A session's credentials act with
//! the permissions of the role (IAM User Guide, "Methods to assume a
//! role"): when a restricted key assumes a role, the emulator reads the
//! role's inline policies from moto and restricts the session's access key
//! to them, so a urlguard that assumes the role it is given (`--aws-assume-
//! role-arn`) is held to that role's policy, and a role without one can do
//! nothing. Managed policies attached to the role and session policies are
//! not read (urlguard's documented set-up puts its policy inline), and
//! neither is the role's trust policy (moto does not check it either).
//! Sessions started by an unrestricted key stay unrestricted, as every
//! unknown key does, so set-up code keeps working.

use roxmltree::Document;
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::cloudfront::xml::child_text;
use crate::reply::Reply;
use crate::role_policies;
use crate::server::Shared;

/// Restricts the session `reply` (moto's answer to `sts:AssumeRole`)
/// started to the inline policies of the role it assumed.
pub(crate) async fn restrict_session(shared: &Shared, reply: &Reply) {
    // A refused AssumeRole started no session: nothing to say.
    if !reply.is_success() {
        return;
    }
    let session = started_session(reply);
    let Some((session_key, role, arn)) = session
        .as_ref()
        .and_then(|(key, arn)| Some((key.as_str(), role_name(arn)?, arn)))
    else {
        warn!("an AssumeRole answer without credentials or role: the session stays unrestricted");
        return;
    };
    // The role is read in its own account, which may not be the caller's.
    let account =
        crate::accounts::arn_account(arn).map_or_else(crate::accounts::current, str::to_owned);
    let statements = crate::accounts::within(account, async {
        let mut statements = Vec::new();
        for name in role_policies::names(&shared.upstream, role).await {
            let document = role_policies::document(&shared.upstream, role, &name).await;
            match serde_json::from_str::<Value>(&document) {
                Ok(policy) => statements.extend(statements_of(&policy)),
                Err(e) => {
                    warn!(role, policy = %name, error = %e, "an inline policy that is not JSON");
                }
            }
        }
        statements
    })
    .await;
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    match shared.authorizer.set(session_key, &policy) {
        Ok(()) => info!(
            role,
            access_key = session_key,
            statements = policy["Statement"].as_array().map_or(0, Vec::len),
            "an assumed role's session holds the role's inline policies"
        ),
        Err(e) => warn!(role, error = %e, "the role's policies could not be compiled"),
    }
}

/// The access key and the assumed-role ARN
/// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`) of the session a
/// successful `sts:AssumeRole` answer started.
pub(crate) fn started_session(reply: &Reply) -> Option<(String, String)> {
    if !reply.is_success() {
        return None;
    }
    let text = String::from_utf8_lossy(&reply.body);
    let doc = Document::parse(&text).ok()?;
    let node = |name: &str| doc.descendants().find(|n| n.tag_name().name() == name);
    let key = node("Credentials").and_then(|c| child_text(c, "AccessKeyId"))?;
    let arn = node("AssumedRoleUser").and_then(|u| child_text(u, "Arn"))?;
    Some((key.to_owned(), arn.to_owned()))
}

/// `NAME` of `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
fn role_name(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":assumed-role/")?.1;
    rest.split_once('/').map(|(name, _)| name)
}

/// A policy's statements, one or many.
fn statements_of(policy: &Value) -> Vec<Value> {
    match &policy["Statement"] {
        Value::Array(statements) => statements.clone(),
        Value::Object(_) => vec![policy["Statement"].clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_is_named_by_the_assumed_role_arn() {
        assert_eq!(
            role_name("arn:aws:sts::123456789012:assumed-role/urlguard-books/urlguard"),
            Some("urlguard-books")
        );
        assert_eq!(role_name("arn:aws:iam::123456789012:user/x"), None);
    }

    #[test]
    fn a_single_statement_counts_as_one() {
        let single = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        assert_eq!(statements_of(&single).len(), 1);
        let many = json!({"Statement": [{"Effect": "Deny"}, {"Effect": "Allow"}]});
        assert_eq!(statements_of(&many).len(), 2);
    }
}
