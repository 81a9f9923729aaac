//! The Lambda@Edge signer of a distribution under `EdgeSigner`: its IAM
//! role (trust and the invoke policy naming exactly the attached
//! functions), the function, and a numbered version published only when
//! code or configuration changed; after an apply, the versions no longer
//! associated are deleted once CloudFront lets go of their replicas.

use std::time::SystemTime;

use super::engine::Engine;
use super::problem::Problem;
use super::replica_waits::kube_time;
use crate::api::RetiredSignerVersion;
use crate::edge;
use crate::model::EDGE_REGION;
use crate::model::iam::signer_boundary_arn;
use crate::model::lambda::{FunctionVersion, SignerConfig};
use crate::model::names::{OwnerKind, ROLE_PATH, SIGNER_POLICY_NAME};
use crate::model::policy::invoke_policy_resources;
use crate::plan::desired::DesiredDistribution;
use crate::plan::signer::{RoleAction, SignerAction, invoke_policy, plan_function, plan_role};
use crate::plan::teardown::{ReplicaWait, plan_retirement};

/// What the signer phase found and did, for the distribution's status.
#[derive(Debug, Default)]
pub(super) struct SignerState {
    /// The function, once it exists.
    pub function_arn: Option<String>,
    /// The numbered version the distribution associates.
    pub version_arn: Option<String>,
    /// `version_arn` stands in for the version a publish would make (a
    /// plan): an observed distribution's status never shows it.
    pub stand_in_version: bool,
    /// The signer's versions as found (before any publish).
    pub versions: Vec<FunctionVersion>,
    /// Versions no longer in use, waiting for their replicas to go.
    pub retired: Vec<RetiredSignerVersion>,
    /// The functions the role's invoke policy granted as found (none with
    /// `spec.signer.roleArn`, whose policy is not urlguard's).
    pub granted: Vec<String>,
}

/// Which functions the role keeps as found besides those it must grant.
#[derive(Debug, Clone, Copy)]
pub(super) struct Keep<'a> {
    /// Some attached URL's function could not be read: the role keeps
    /// every function it may invoke now (a grant leaves only with a
    /// reconcile that read every URL).
    pub all: bool,
    /// The functions of URLs observed, not managed: each stays granted if
    /// it is, and is not granted if it is not.
    pub observed: &'a [String],
}

/// The signer role, function and numbered version; returns the version ARN.
pub(super) async fn ensure(
    engine: &Engine,
    desired: &DesiredDistribution,
    function_arns: &[String],
    keep: Keep<'_>,
    state: &mut SignerState,
    actions: &mut Vec<String>,
) -> Result<String, Problem> {
    let owner = &desired.owner;
    let tag = owner.tag_value(OwnerKind::EdgeDistribution);
    let function_name = owner.signer_function_name();
    let role_arn = match &desired.spec.signer.role_arn {
        Some(arn) => arn.clone(),
        None => ensure_role(engine, desired, function_arns, keep, state, actions).await?,
    };

    let package = edge::package().map_err(|e| Problem::SignerPackage(e.to_string()))?;
    let config = SignerConfig {
        code_sha256: package.code_sha256.clone(),
        memory_size: desired.spec.signer.memory_size,
        timeout_seconds: desired.spec.signer.timeout_seconds,
        runtime: desired.spec.signer.runtime.clone(),
        role_arn,
        handler: edge::HANDLER.to_owned(),
    };
    let lambda = engine.aws.lambda(EDGE_REGION);
    let observed = lambda
        .get_signer(&function_name)
        .await
        .map_err(Problem::from)?;
    let plan =
        plan_function(observed.as_ref(), &function_name, &tag, &config).map_err(Problem::from)?;
    state.function_arn = observed.as_ref().map(|o| o.function_arn.clone());
    state.versions = observed
        .as_ref()
        .map(|o| o.versions.clone())
        .unwrap_or_default();
    let mut version_arn = plan.reuse_version_arn.clone();
    for action in &plan.actions {
        let description = match action {
            SignerAction::Create => {
                format!("create signer function {function_name} in {EDGE_REGION}")
            }
            SignerAction::UpdateCode => format!("update signer code ({})", config.code_sha256),
            SignerAction::UpdateConfiguration => {
                "update signer configuration (memory, timeout, runtime, role)".to_owned()
            }
            SignerAction::PublishVersion => "publish a new numbered signer version".to_owned(),
        };
        actions.push(description);
        if !engine.applies() {
            continue;
        }
        match action {
            SignerAction::Create => {
                match lambda
                    .create_signer(&function_name, &config, &package.zip, &tag)
                    .await
                {
                    Ok(arn) => state.function_arn = Some(arn),
                    // An earlier create whose answer was lost (the function
                    // was absent when read): adopt it if it carries our tag.
                    Err(error) if error.is_conflict() => {
                        match lambda.get_signer(&function_name).await? {
                            Some(found) if found.owner.as_deref() == Some(tag.as_str()) => {
                                state.function_arn = Some(found.function_arn);
                            }
                            _ => return Err(error.into()),
                        }
                    }
                    Err(error) => return Err(error.into()),
                }
                lambda.wait_signer_ready(&function_name).await?;
            }
            SignerAction::UpdateCode => {
                lambda
                    .update_signer_code(&function_name, &package.zip)
                    .await?;
                lambda.wait_signer_ready(&function_name).await?;
            }
            SignerAction::UpdateConfiguration => {
                lambda
                    .update_signer_configuration(&function_name, &config)
                    .await?;
                lambda.wait_signer_ready(&function_name).await?;
            }
            SignerAction::PublishVersion => {
                let version = lambda
                    .publish_signer_version(&function_name, &config.code_sha256)
                    .await?;
                // A new version is `Pending`; CloudFront associates only an
                // `Active` one.
                lambda
                    .wait_version_ready(&function_name, &version.version)
                    .await?;
                version_arn = Some(version.arn);
            }
        }
    }
    state.stand_in_version = version_arn.is_none();
    let version_arn = version_arn.unwrap_or_else(|| format!("(new version of {function_name})"));
    state.version_arn = Some(version_arn.clone());
    Ok(version_arn)
}

async fn ensure_role(
    engine: &Engine,
    desired: &DesiredDistribution,
    function_arns: &[String],
    keep: Keep<'_>,
    state: &mut SignerState,
    actions: &mut Vec<String>,
) -> Result<String, Problem> {
    let owner = &desired.owner;
    let tag = owner.tag_value(OwnerKind::EdgeDistribution);
    let role_name = owner.signer_role_name();
    let iam = engine.aws.iam();
    let observed = iam.get_role(&role_name).await.map_err(Problem::from)?;
    let mut function_arns = function_arns.to_vec();
    if let Some(granted) = observed.as_ref().and_then(|r| r.invoke_policy.as_ref()) {
        state.granted = invoke_policy_resources(granted);
        function_arns.extend(
            state
                .granted
                .iter()
                .filter(|arn| keep.all || keep.observed.contains(arn))
                .cloned(),
        );
        function_arns.sort();
        function_arns.dedup();
    }
    let policy = invoke_policy(&owner.signer_function_name(), &function_arns);
    // The account of the credentials: the boundary policy is the platform
    // team's, in the account the role is created in.
    let account = engine.aws.account_id().await.map_err(Problem::from)?;
    let boundary = signer_boundary_arn(&account, &owner.instance);
    let steps = plan_role(observed.as_ref(), &role_name, &tag, &policy, &boundary)
        .map_err(Problem::from)?;
    let mut role_arn = observed
        .map(|r| r.arn)
        .unwrap_or_else(|| format!("(new role {role_name})"));
    for step in steps {
        let result = match &step {
            RoleAction::Create {
                trust_policy,
                boundary,
            } => {
                actions.push(format!(
                    "create signer role {role_name} within the permissions boundary {boundary}"
                ));
                if engine.applies() {
                    match iam
                        .create_role(&role_name, ROLE_PATH, trust_policy, &tag, boundary)
                        .await
                    {
                        Ok(arn) => {
                            role_arn = arn;
                            Ok(())
                        }
                        // An earlier create whose answer was lost (the role
                        // was absent when read): adopt it if it carries our
                        // tag.
                        Err(error) if error.is_conflict() => match iam.get_role(&role_name).await {
                            Ok(Some(found)) if found.owner.as_deref() == Some(tag.as_str()) => {
                                role_arn = found.arn;
                                Ok(())
                            }
                            Ok(_) => Err(error),
                            Err(read) => Err(read),
                        },
                        Err(error) => Err(error),
                    }
                } else {
                    Ok(())
                }
            }
            RoleAction::SetBoundary { boundary } => {
                actions.push(format!(
                    "set the permissions boundary of role {role_name} to {boundary}"
                ));
                if engine.applies() {
                    iam.put_permissions_boundary(&role_name, boundary).await
                } else {
                    Ok(())
                }
            }
            RoleAction::UpdateTrust { trust_policy } => {
                actions.push(format!("repair the trust policy of role {role_name}"));
                if engine.applies() {
                    iam.update_trust_policy(&role_name, trust_policy).await
                } else {
                    Ok(())
                }
            }
            RoleAction::PutPolicy { document } => {
                actions.push(format!(
                    "set role {role_name} to invoke exactly {} function URL(s)",
                    function_arns.len()
                ));
                if engine.applies() {
                    iam.put_role_policy(&role_name, SIGNER_POLICY_NAME, document)
                        .await
                } else {
                    Ok(())
                }
            }
        };
        result.map_err(Problem::from)?;
    }
    Ok(role_arn)
}

// ------------------------------------------- versions retired by an apply

/// After an apply: deletes the signer versions no configuration references
/// any more, and lists those that must wait for their replicas. Never
/// `$LATEST`, never the version in use; a refusal is waiting, and any other
/// error is logged and retried next time: neither makes the resource
/// not ready.
pub(super) async fn retire_versions(
    engine: &Engine,
    function_name: &str,
    versions: &[FunctionVersion],
    in_use: &str,
    referenced_before: &[String],
    actions: &mut Vec<String>,
) -> Vec<RetiredSignerVersion> {
    let plan = plan_retirement(versions, in_use, referenced_before);
    let now = SystemTime::now();
    let listed = |arn: &str, wait: &ReplicaWait| RetiredSignerVersion {
        version_arn: arn.to_owned(),
        retired_at: kube_time(wait.since),
        next_attempt_at: kube_time(wait.next_attempt_at),
    };
    let mut retired = Vec::new();
    for version in &plan.just_retired {
        let wait = engine
            .waits
            .get(&version.arn)
            .unwrap_or_else(|| ReplicaWait::starting(now, &engine.retry));
        engine.waits.set(&version.arn, wait);
        retired.push(listed(&version.arn, &wait));
    }
    let lambda = engine.aws.lambda(EDGE_REGION);
    for version in &plan.delete_now {
        let previous = engine.waits.get(&version.arn);
        if let Some(wait) = previous.filter(|w| !w.due(now)) {
            retired.push(listed(&version.arn, &wait));
            continue;
        }
        let action = format!(
            "delete retired signer version {} (no longer associated)",
            version.version
        );
        if !engine.applies() {
            actions.push(action);
            continue;
        }
        match lambda
            .delete_function(function_name, Some(&version.version))
            .await
        {
            Ok(()) => {
                actions.push(action);
                engine.waits.remove(&version.arn);
            }
            Err(error) => {
                let wait = ReplicaWait::refused(previous.as_ref(), now, &engine.retry);
                if !error.is_replicated_function() {
                    tracing::warn!(version = %version.arn, %error, "deleting a retired signer version failed; it is tried again later");
                }
                engine.waits.set(&version.arn, wait);
                retired.push(listed(&version.arn, &wait));
            }
        }
    }
    retired
}
