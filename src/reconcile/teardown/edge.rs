//! What goes once the distribution is deleted: its origin access controls
//! (by deterministic name, and only when their description names the owner:
//! they carry no tags), the signer function with
//! every version — unless CloudFront still replicates it, then it waits on
//! the engine's retry schedule — and after the function, its role.

use std::time::SystemTime;

use super::progress::Progress;
use crate::api::RetiredSignerVersion;
use crate::model::EDGE_REGION;
use crate::model::cloudfront::DistributionObserved;
use crate::model::names::{Owner, OwnerKind, SIGNER_POLICY_NAME};
use crate::plan::teardown::{ReplicaWait, RoleStep, SignerTeardown, plan_role, plan_signer};
use crate::reconcile::engine::Engine;
use crate::reconcile::problem::Problem;
use crate::reconcile::replica_waits::{function_key, kube_time, rfc3339};

/// Deletes the owner's origin access controls, found by their names; one
/// whose description names another owner is left alone, and said so.
pub(super) async fn delete_origin_access_controls(
    engine: &Engine,
    owner: &Owner,
    progress: &mut Progress,
) {
    let cloudfront = engine.aws.cloudfront();
    let names = [owner.lambda_oac_name(), owner.s3_oac_name()];
    let description = owner.oac_description();
    let controls = match cloudfront.list_origin_access_controls().await {
        Ok(controls) => controls,
        Err(error) => {
            for name in names {
                progress
                    .left_in_aws
                    .push(format!("origin access control {name} (if it exists)"));
            }
            progress.fail(Problem::from(error));
            return;
        }
    };
    for control in controls.iter().filter(|c| names.contains(&c.name)) {
        if control.description != description {
            progress.note_left_alone(
                format!("origin access control {} (not this object's)", control.name),
                &format!(
                    "origin access control {}: its description {:?} names another owner",
                    control.name, control.description
                ),
            );
            continue;
        }
        progress
            .actions
            .push(format!("delete origin access control {}", control.name));
        if !engine.applies() {
            continue;
        }
        match cloudfront.delete_origin_access_control(&control.id).await {
            Ok(()) => {}
            Err(error) if error.is_in_use() => {
                progress.actions.pop();
                progress.note_left_alone(
                    format!(
                        "origin access control {} (another distribution uses it)",
                        control.name
                    ),
                    &format!(
                        "origin access control {}: another distribution uses it",
                        control.name
                    ),
                );
            }
            Err(error) => progress.fail_leaving(
                Problem::from(error),
                format!("origin access control {} ({})", control.name, control.id),
            ),
        }
    }
}

/// What the teardown of one distribution observed, for its status.
#[derive(Debug, Default)]
pub(super) struct DistributionTeardown {
    pub(super) last_seen: Option<DistributionObserved>,
    pub(super) signer_function_arn: Option<String>,
    pub(super) retired: Vec<RetiredSignerVersion>,
}

/// Where the signer stands.
#[derive(Debug)]
pub(super) enum SignerStanding {
    /// Gone (or never there, or not urlguard's and left alone).
    Gone,
    /// Lambda@Edge replicas remain; the message says since when and when
    /// the next attempt comes.
    Waiting(String),
    Failed(Problem),
}

/// Deletes the signer function with every version, unless its replicas
/// remain (then it waits, on the engine's retry schedule).
pub(super) async fn delete_signer(
    engine: &Engine,
    owner: &Owner,
    progress: &mut Progress,
    teardown: &mut DistributionTeardown,
) -> SignerStanding {
    let lambda = engine.aws.lambda(EDGE_REGION);
    let name = owner.signer_function_name();
    let key = function_key(&name);
    let observed = match lambda.get_signer(&name).await {
        Ok(observed) => observed,
        Err(error) => return SignerStanding::Failed(Problem::from(error)),
    };
    let (function_arn, versions) = match plan_signer(
        observed.as_ref(),
        &name,
        &owner.tag_value(OwnerKind::EdgeDistribution),
    ) {
        Err(not_owned) => {
            progress.leave(&not_owned);
            engine.waits.remove(&key);
            return SignerStanding::Gone;
        }
        Ok(SignerTeardown::Absent) => {
            engine.waits.remove(&key);
            return SignerStanding::Gone;
        }
        Ok(SignerTeardown::Delete {
            function_arn,
            versions,
        }) => (function_arn, versions),
    };
    teardown.signer_function_arn = Some(function_arn);
    let now = SystemTime::now();
    let previous = engine.waits.get(&key);
    let wait = match previous {
        Some(wait) if !wait.due(now) => wait,
        _ => {
            let action = format!(
                "delete signer function {name} with {} numbered version(s)",
                versions.len()
            );
            if !engine.applies() {
                progress.actions.push(action);
                return SignerStanding::Gone;
            }
            match lambda.delete_function(&name, None).await {
                Ok(()) => {
                    progress.actions.push(action);
                    engine.waits.remove(&key);
                    return SignerStanding::Gone;
                }
                Err(error) if error.is_replicated_function() => {
                    let wait = ReplicaWait::refused(previous.as_ref(), now, &engine.retry);
                    engine.waits.set(&key, wait);
                    tracing::info!(
                        function = %name,
                        since = %rfc3339(wait.since),
                        next_attempt_at = %rfc3339(wait.next_attempt_at),
                        "the signer is still replicated at CloudFront's edge; waiting"
                    );
                    wait
                }
                Err(error) => return SignerStanding::Failed(Problem::from(error)),
            }
        }
    };
    teardown.retired = versions
        .iter()
        .map(|arn| RetiredSignerVersion {
            version_arn: arn.clone(),
            retired_at: kube_time(wait.since),
            next_attempt_at: kube_time(wait.next_attempt_at),
        })
        .collect();
    let numbers: Vec<&str> = versions
        .iter()
        .filter_map(|arn| arn.rsplit(':').next())
        .collect();
    SignerStanding::Waiting(format!(
        "signer function {name} (version(s) {}) waits for CloudFront to remove its Lambda@Edge replicas, since {}; next attempt at {} (attempt {} so far)",
        numbers.join(", "),
        rfc3339(wait.since),
        rfc3339(wait.next_attempt_at),
        wait.refusals
    ))
}

/// Deletes the signer role (its inline policy first).
pub(super) async fn delete_role(engine: &Engine, owner: &Owner, progress: &mut Progress) {
    let iam = engine.aws.iam();
    let role_name = owner.signer_role_name();
    let left = format!("IAM role {role_name} (if it exists)");
    let observed = match iam.get_role(&role_name).await {
        Ok(observed) => observed,
        Err(error) => {
            progress.fail_leaving(Problem::from(error), left);
            return;
        }
    };
    let steps = match plan_role(
        observed.as_ref(),
        &role_name,
        &owner.tag_value(OwnerKind::EdgeDistribution),
    ) {
        Ok(steps) => steps,
        Err(not_owned) => {
            progress.leave(&not_owned);
            return;
        }
    };
    for step in steps {
        let (action, result) = match step {
            RoleStep::DeleteInlinePolicy => (
                format!("delete the inline policy of signer role {role_name}"),
                if engine.applies() {
                    iam.delete_role_policy(&role_name, SIGNER_POLICY_NAME).await
                } else {
                    Ok(())
                },
            ),
            RoleStep::DeleteRole => (
                format!("delete signer role {role_name}"),
                if engine.applies() {
                    iam.delete_role(&role_name).await
                } else {
                    Ok(())
                },
            ),
        };
        progress.actions.push(action);
        if let Err(error) = result {
            progress.fail_leaving(Problem::from(error), format!("IAM role {role_name}"));
            return;
        }
    }
}
