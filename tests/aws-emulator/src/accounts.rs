//! Which AWS account a call acts in. moto keeps a state per account and
//! derives it from the access key: the session of a role assumed in
//! another account acts in that account (moto's `sts:AssumeRole` makes the
//! session's key in the role's account), every other key in
//! [`ACCOUNT_ID`]. The emulator's own state follows the same rule: it
//! learns each session's account from moto's `AssumeRole` answer
//! (`AssumedRoleUser.Arn`), and handles a call inside [`within`] that
//! account, so what it keeps per account (CloudFront, the ARNs it writes)
//! and the calls it makes to moto on its own (`x-moto-account-id`, which
//! moto honours in server mode) are the caller's account's.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use crate::ACCOUNT_ID;
use crate::ids::lock;
use crate::reply::Reply;

tokio::task_local! {
    static CALLER_ACCOUNT: String;
}

/// The account of the call being handled ([`ACCOUNT_ID`] outside one).
pub(crate) fn current() -> String {
    CALLER_ACCOUNT
        .try_with(Clone::clone)
        .unwrap_or_else(|_| ACCOUNT_ID.to_owned())
}

/// Runs `work` as a call in `account`.
pub(crate) async fn within<F: Future>(account: String, work: F) -> F::Output {
    CALLER_ACCOUNT.scope(account, work).await
}

/// The account of each session key moto handed out for a role in another
/// account.
#[derive(Default)]
pub(crate) struct SessionAccounts {
    keys: Mutex<HashMap<String, String>>,
}

impl SessionAccounts {
    /// The account `access_key` acts in.
    pub(crate) fn of(&self, access_key: Option<&str>) -> String {
        access_key
            .and_then(|key| lock(&self.keys).get(key).cloned())
            .unwrap_or_else(|| ACCOUNT_ID.to_owned())
    }

    /// Learns the session of an `sts:AssumeRole` answer.
    pub(crate) fn learn(&self, reply: &Reply) {
        let Some((key, arn)) = crate::assumed_roles::started_session(reply) else {
            return;
        };
        if let Some(account) = arn_account(&arn) {
            lock(&self.keys).insert(key, account.to_owned());
        }
    }
}

/// The account field of an ARN.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|account| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_acts_in_its_scope_s_account_and_the_default_elsewhere() {
        assert_eq!(current(), ACCOUNT_ID);
        let inside = within("222222222222".into(), async { current() }).await;
        assert_eq!(inside, "222222222222");
    }

    #[test]
    fn sessions_of_roles_in_other_accounts_are_learnt_from_moto_s_answer() {
        let body = r#"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAB</AccessKeyId></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/urlguard/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"#;
        let accounts = SessionAccounts::default();
        accounts.learn(&Reply {
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body),
        });
        assert_eq!(accounts.of(Some("ASIAB")), "222222222222");
        assert_eq!(accounts.of(Some("AKIDTESTING")), ACCOUNT_ID);
        assert_eq!(accounts.of(None), ACCOUNT_ID);
    }
}
