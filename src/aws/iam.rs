//! IAM: the signer's execution role (trust policy, owner tag, permissions
//! boundary) and its one inline policy, [`names::SIGNER_POLICY_NAME`], naming the function URLs
//! the signer may invoke.
//!
//! IAM returns policy documents URL-encoded (RFC 3986); they are decoded and
//! parsed here, so callers compare `serde_json::Value`s.
//!
//! [`names::SIGNER_POLICY_NAME`]: crate::model::names::SIGNER_POLICY_NAME

use aws_sdk_iam::types::Tag;
use percent_encoding::percent_decode_str;

use super::call::Door;
use super::call::call;
use super::error::AwsError;
use crate::model::OWNER_TAG_KEY;
use crate::model::iam::RoleObserved;
use crate::model::names::SIGNER_POLICY_NAME;

pub(super) const SERVICE: &str = "iam";

/// IAM (global).
#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
    door: Door,
}

impl Iam {
    pub(super) fn new(client: aws_sdk_iam::Client, door: Door) -> Iam {
        Iam { client, door }
    }

    /// The role, its trust policy, owner tag and urlguard's inline policy
    /// (`GetRole`, then `GetRolePolicy`); `None` when the role does not exist.
    pub async fn get_role(&self, name: &str) -> Result<Option<RoleObserved>, AwsError> {
        let request = self.client.get_role().role_name(name).send();
        let output = match call(&self.door, SERVICE, "GetRole", request).await {
            Ok(output) => output,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(role) = output.role() else {
            return Err(AwsError::invalid_response(
                SERVICE,
                "GetRole",
                "the answer holds no role",
            ));
        };
        let trust_policy = match role.assume_role_policy_document() {
            Some(document) => parse_policy_document(document)
                .map_err(|e| AwsError::invalid_response(SERVICE, "GetRole", e))?,
            None => serde_json::Value::Null,
        };
        let owner = role
            .tags()
            .iter()
            .find(|tag| tag.key() == OWNER_TAG_KEY)
            .map(|tag| tag.value().to_owned());
        let permissions_boundary = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_owned);

        let request = self
            .client
            .get_role_policy()
            .role_name(name)
            .policy_name(SIGNER_POLICY_NAME)
            .send();
        let invoke_policy = match call(&self.door, SERVICE, "GetRolePolicy", request).await {
            Ok(output) => Some(
                parse_policy_document(output.policy_document())
                    .map_err(|e| AwsError::invalid_response(SERVICE, "GetRolePolicy", e))?,
            ),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        Ok(Some(RoleObserved {
            arn: role.arn().to_owned(),
            trust_policy,
            owner,
            invoke_policy,
            permissions_boundary,
        }))
    }

    /// Creates a role under `path` with a trust policy, the owner tag and
    /// the permissions boundary `boundary` (a policy ARN); returns its ARN.
    /// One that exists is [`AwsError::Conflict`].
    pub async fn create_role(
        &self,
        name: &str,
        path: &str,
        trust_policy: &serde_json::Value,
        owner_tag: &str,
        boundary: &str,
    ) -> Result<String, AwsError> {
        let tag = Tag::builder()
            .key(OWNER_TAG_KEY)
            .value(owner_tag)
            .build()
            .map_err(|e| AwsError::construction(SERVICE, "CreateRole", e.to_string()))?;
        let request = self
            .client
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(trust_policy.to_string())
            .permissions_boundary(boundary)
            .tags(tag)
            .send();
        let output = call(&self.door, SERVICE, "CreateRole", request).await?;
        output
            .role()
            .map(|role| role.arn().to_owned())
            .ok_or_else(|| {
                AwsError::invalid_response(SERVICE, "CreateRole", "the answer holds no role")
            })
    }

    /// Sets (or replaces) the role's permissions boundary.
    pub async fn put_permissions_boundary(
        &self,
        name: &str,
        boundary: &str,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(boundary)
            .send();
        call(&self.door, SERVICE, "PutRolePermissionsBoundary", request).await?;
        Ok(())
    }

    /// Replaces the role's trust policy.
    pub async fn update_trust_policy(
        &self,
        name: &str,
        trust_policy: &serde_json::Value,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy.to_string())
            .send();
        call(&self.door, SERVICE, "UpdateAssumeRolePolicy", request).await?;
        Ok(())
    }

    /// Creates or replaces an inline policy of the role.
    pub async fn put_role_policy(
        &self,
        name: &str,
        policy_name: &str,
        document: &serde_json::Value,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .put_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .policy_document(document.to_string())
            .send();
        call(&self.door, SERVICE, "PutRolePolicy", request).await?;
        Ok(())
    }

    /// Deletes an inline policy; one that does not exist is fine.
    pub async fn delete_role_policy(&self, name: &str, policy_name: &str) -> Result<(), AwsError> {
        let request = self
            .client
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .send();
        match call(&self.door, SERVICE, "DeleteRolePolicy", request).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes the role; one that does not exist is fine. A role that still
    /// has policies is [`AwsError::InUse`] (`DeleteConflict`).
    pub async fn delete_role(&self, name: &str) -> Result<(), AwsError> {
        let request = self.client.delete_role().role_name(name).send();
        match call(&self.door, SERVICE, "DeleteRole", request).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A policy document as IAM returns it: URL-encoded JSON (or, from some
/// endpoints and emulators, plain JSON).
fn parse_policy_document(document: &str) -> Result<serde_json::Value, String> {
    if let Ok(value) = serde_json::from_str(document) {
        return Ok(value);
    }
    let decoded = percent_decode_str(document)
        .decode_utf8()
        .map_err(|e| format!("policy document is not UTF-8 once URL-decoded: {e}"))?;
    serde_json::from_str(&decoded).map_err(|e| format!("policy document is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_url_decoded_or_taken_as_they_are() {
        let expected = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        });
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(parse_policy_document(encoded), Ok(expected.clone()));
        assert_eq!(parse_policy_document(&expected.to_string()), Ok(expected));
        assert!(parse_policy_document("%7Bnot json").is_err());
    }
}
