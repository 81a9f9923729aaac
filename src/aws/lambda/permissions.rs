//! A function's resource-policy statements, read as a whole and written one
//! statement (by id) at a time. The document Lambda returns is parsed by
//! [`crate::model::policy::parse_resource_policy`], leniently (its module
//! doc says how), and kept as written ([`crate::model::policy::parse_grants`])
//! for judging who it lets in.

use aws_sdk_lambda::types::FunctionUrlAuthType;

use super::{Lambda, SERVICE, ok_if_absent};
use crate::aws::call::call;
use crate::aws::error::AwsError;
use crate::model::lambda::{PolicyStatement, ResourcePolicy};
use crate::model::policy::{parse_grants, parse_resource_policy};

impl Lambda {
    /// The resource policy's statements; no policy is no statements.
    pub async fn get_policy(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<ResourcePolicy, AwsError> {
        let request = self
            .client
            .get_policy()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send();
        let output = match call(&self.door, SERVICE, "GetPolicy", request).await {
            Ok(output) => output,
            Err(e) if e.is_not_found() => return Ok(ResourcePolicy::default()),
            Err(e) => return Err(e),
        };
        match output.policy() {
            Some(policy) if !policy.trim().is_empty() => {
                let invalid = |e| AwsError::invalid_response(SERVICE, "GetPolicy", e);
                Ok(ResourcePolicy {
                    statements: parse_resource_policy(policy).map_err(invalid)?,
                    grants: parse_grants(policy).map_err(invalid)?,
                })
            }
            _ => Ok(ResourcePolicy::default()),
        }
    }

    /// Adds one resource-policy statement. A statement id in use is
    /// [`AwsError::Conflict`].
    pub async fn add_permission(
        &self,
        name: &str,
        qualifier: Option<&str>,
        statement: &PolicyStatement,
    ) -> Result<(), AwsError> {
        let mut request = self
            .client
            .add_permission()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .statement_id(&statement.sid)
            .action(&statement.action)
            .principal(&statement.principal)
            .set_source_arn(statement.source_arn.clone())
            .set_function_url_auth_type(
                statement
                    .function_url_auth_type
                    .as_deref()
                    .map(FunctionUrlAuthType::from),
            );
        if statement.invoked_via_function_url {
            request = request.invoked_via_function_url(true);
        }
        call(&self.door, SERVICE, "AddPermission", request.send()).await?;
        Ok(())
    }

    /// Removes one statement by id; an absent one is fine.
    pub async fn remove_permission(
        &self,
        name: &str,
        qualifier: Option<&str>,
        sid: &str,
    ) -> Result<(), AwsError> {
        let request = self
            .client
            .remove_permission()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .statement_id(sid)
            .send();
        ok_if_absent(call(&self.door, SERVICE, "RemovePermission", request).await)
    }
}
