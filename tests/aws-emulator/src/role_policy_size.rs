//! IAM's quota on a role's inline policies. The IAM User Guide ("IAM and
//! AWS STS quotas") limits the total size of all inline policies of a role
//! to 10,240 characters, and IAM does not count white space. moto stores
//! any size, so `PutRolePolicy` is checked here before it is relayed: the
//! role's other inline policies (read from moto with the emulator's own
//! calls, which never reach the ledger) plus the new document, each counted
//! without white space. Over the limit IAM answers `409 LimitExceeded`,
//! "Maximum policy size of 10240 bytes exceeded for role NAME", and stores
//! nothing.

use http::StatusCode;

use crate::faults::error_reply;
use crate::ids::Ids;
use crate::reply::Reply;
use crate::role_policies;
use crate::upstream::Upstream;

/// The characters (white space not counted) all inline policies of one
/// role may hold together.
pub(crate) const ROLE_POLICY_CHARACTERS: usize = 10_240;

/// IAM's refusal of the `PutRolePolicy` whose form body is `body`, when the
/// role's inline policies would exceed the quota; `None` to relay it.
pub(crate) async fn refusal(upstream: &Upstream, body: &[u8], ids: &Ids) -> Option<Reply> {
    let mut role = None;
    let mut name = None;
    let mut document = None;
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "RoleName" => role = Some(value.into_owned()),
            "PolicyName" => name = Some(value.into_owned()),
            "PolicyDocument" => document = Some(value.into_owned()),
            _ => {}
        }
    }
    let (role, name, document) = (role?, name?, document?);
    let mut total = counted(&document);
    for other in role_policies::names(upstream, &role).await {
        if other != name {
            total += counted(&role_policies::document(upstream, &role, &other).await);
        }
    }
    (total > ROLE_POLICY_CHARACTERS).then(|| {
        error_reply(
            "iam",
            StatusCode::CONFLICT,
            "LimitExceeded",
            &format!(
                "Maximum policy size of {ROLE_POLICY_CHARACTERS} bytes exceeded for role {role}"
            ),
            ids,
        )
    })
}

/// The size IAM counts: every character but white space.
fn counted(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_is_not_counted() {
        assert_eq!(counted("{ \"a\" :\n\t\"b c\" }"), 10);
    }
}
