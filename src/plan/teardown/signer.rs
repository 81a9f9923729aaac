//! The signer function and its role, deleted when their distribution leaves
//! with `deletionPolicy: Delete`.
//!
//! The signer function is deleted as a whole (`DeleteFunction` without a
//! qualifier takes every version along); while CloudFront still replicates
//! one of its versions the delete fails with "replicated function", which is
//! waiting, not failing (see `replica_wait`). The role goes after the
//! function, because replicas run with it.

use super::ownership::NotOwned;
use crate::model::iam::RoleObserved;
use crate::model::lambda::SignerObserved;

/// What to do with the signer function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerTeardown {
    /// It does not exist.
    Absent,
    /// Delete it with every version.
    Delete {
        /// The unqualified function ARN.
        function_arn: String,
        /// The numbered versions going with it (ARNs).
        versions: Vec<String>,
    },
}

/// Plans the signer function's deletion.
pub fn plan_signer(
    observed: Option<&SignerObserved>,
    function_name: &str,
    expected_owner: &str,
) -> Result<SignerTeardown, NotOwned> {
    let Some(function) = observed else {
        return Ok(SignerTeardown::Absent);
    };
    NotOwned::check(
        format!("Lambda function {function_name}"),
        function.owner.as_deref(),
        expected_owner,
    )?;
    Ok(SignerTeardown::Delete {
        function_arn: function.function_arn.clone(),
        versions: function
            .versions
            .iter()
            .filter(|v| v.number().is_some())
            .map(|v| v.arn.clone())
            .collect(),
    })
}

/// One step on the signer role, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleStep {
    /// Delete urlguard's inline policy (IAM refuses to delete a role that
    /// still has one).
    DeleteInlinePolicy,
    /// Delete the role.
    DeleteRole,
}

/// Plans the signer role's deletion.
pub fn plan_role(
    observed: Option<&RoleObserved>,
    role_name: &str,
    expected_owner: &str,
) -> Result<Vec<RoleStep>, NotOwned> {
    let Some(role) = observed else {
        return Ok(Vec::new());
    };
    NotOwned::check(
        format!("IAM role {role_name}"),
        role.owner.as_deref(),
        expected_owner,
    )?;
    let mut steps = Vec::new();
    if role.invoke_policy.is_some() {
        steps.push(RoleStep::DeleteInlinePolicy);
    }
    steps.push(RoleStep::DeleteRole);
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::teardown::fixtures::{OWNER, V1, V2, version};
    use serde_json::json;

    #[test]
    fn the_signer_goes_with_every_numbered_version_when_owned() {
        let signer = SignerObserved {
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:s".into(),
            versions: vec![version("$LATEST"), version("1"), version("2")],
            owner: Some(OWNER.into()),
        };
        assert_eq!(
            plan_signer(Some(&signer), "s", OWNER),
            Ok(SignerTeardown::Delete {
                function_arn: signer.function_arn.clone(),
                versions: vec![V1.into(), V2.into()],
            })
        );
        assert_eq!(plan_signer(None, "s", OWNER), Ok(SignerTeardown::Absent));
        let foreign = SignerObserved {
            owner: None,
            ..signer
        };
        let error = plan_signer(Some(&foreign), "s", OWNER).expect_err("not owned");
        assert_eq!(error.found, "(no owner tag)");
    }

    #[test]
    fn role_steps() {
        let role = RoleObserved {
            arn: "arn:aws:iam::123456789012:role/urlguard/r".into(),
            trust_policy: json!({}),
            owner: Some(OWNER.into()),
            invoke_policy: Some(json!({})),
            permissions_boundary: None,
        };
        assert_eq!(
            plan_role(Some(&role), "r", OWNER),
            Ok(vec![RoleStep::DeleteInlinePolicy, RoleStep::DeleteRole])
        );
        let without_policy = RoleObserved {
            invoke_policy: None,
            ..role.clone()
        };
        assert_eq!(
            plan_role(Some(&without_policy), "r", OWNER),
            Ok(vec![RoleStep::DeleteRole]),
            "a crash between the two"
        );
        assert_eq!(plan_role(None, "r", OWNER), Ok(vec![]));
        let untagged = RoleObserved {
            owner: None,
            ..role
        };
        assert!(plan_role(Some(&untagged), "r", OWNER).is_err());
    }
}
