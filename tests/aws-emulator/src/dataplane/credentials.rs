//! Who holds which secret: the access keys the data plane can verify a
//! signature for, each with the principal it acts as. A function URL on
//! `AWS_IAM` authenticates the caller from the signature alone (Lambda
//! developer guide, "Control access to Lambda function URLs",
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html), so the
//! emulator must know the secret behind every key it accepts:
//!
//! - sessions of assumed roles, learned from every `sts:AssumeRole` answer
//!   that passes through the emulator (any caller's) and from the sessions
//!   the edge starts itself for Lambda@Edge functions' roles;
//! - CloudFront's own key per distribution, which origin access control
//!   signs with as the service principal `cloudfront.amazonaws.com` on
//!   behalf of that distribution (`AWS:SourceArn`).
//!
//! A key not held here is unknown to the data plane: its signature cannot
//! be checked, and the request is refused.

use std::collections::HashMap;
use std::sync::Mutex;

use roxmltree::Document;

use crate::cloudfront::xml::child_text;
use crate::ids::lock;

/// Who a key acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// A session of the IAM role named `role` (its identity policy is the
    /// role's, read when a request is authorized).
    RoleSession { role: String, session_arn: String },
    /// An AWS service acting for one of the account's resources.
    Service { service: String, source_arn: String },
}

/// A secret and what it signs as.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub access_key: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub principal: Principal,
}

/// The keys the data plane can verify.
#[derive(Debug, Default)]
pub(crate) struct Credentials {
    keys: Mutex<HashMap<String, Credential>>,
}

impl Credentials {
    pub(crate) fn insert(&self, credential: Credential) {
        lock(&self.keys).insert(credential.access_key.clone(), credential);
    }

    pub(crate) fn get(&self, access_key: &str) -> Option<Credential> {
        lock(&self.keys).get(access_key).cloned()
    }

    /// Keeps the session an `sts:AssumeRole` answer (STS query-protocol
    /// XML) started; returns it.
    pub(crate) fn learn_session(&self, answer: &str) -> Option<Credential> {
        let credential = parse_assume_role(answer)?;
        self.insert(credential.clone());
        Some(credential)
    }
}

/// The credentials and role of an `AssumeRoleResponse`.
pub(crate) fn parse_assume_role(answer: &str) -> Option<Credential> {
    let doc = Document::parse(answer).ok()?;
    let node = |name: &str| doc.descendants().find(|n| n.tag_name().name() == name);
    let credentials = node("Credentials")?;
    let session_arn = child_text(node("AssumedRoleUser")?, "Arn")?.to_owned();
    let role = session_arn
        .split_once(":assumed-role/")?
        .1
        .split_once('/')?
        .0
        .to_owned();
    Some(Credential {
        access_key: child_text(credentials, "AccessKeyId")?.to_owned(),
        secret: child_text(credentials, "SecretAccessKey")?.to_owned(),
        session_token: child_text(credentials, "SessionToken").map(str::to_owned),
        principal: Principal::RoleSession { role, session_arn },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assume_role_answer_gives_the_session_and_its_role() {
        let answer = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>s3cr3t</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA:edge</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/signer-role/edge</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"#;
        let store = Credentials::default();
        let learned = store.learn_session(answer).expect("a session");
        assert_eq!(learned.secret, "s3cr3t");
        let held = store.get("ASIAX").expect("held");
        assert_eq!(held.session_token.as_deref(), Some("tok"));
        assert_eq!(
            held.principal,
            Principal::RoleSession {
                role: "signer-role".into(),
                session_arn: "arn:aws:sts::123456789012:assumed-role/signer-role/edge".into()
            }
        );
        assert!(store.learn_session("<Error/>").is_none());
    }
}
