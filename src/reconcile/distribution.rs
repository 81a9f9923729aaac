//! One `EdgeDistribution` with its URLs, phase by phase: URL configs, the
//! signer (role, function, numbered version) or the origin access control,
//! the distribution itself in one create or update, then grants and SSM
//! parameters, then the wait for `Deployed`.

use std::collections::BTreeMap;
use std::time::Instant;

use super::Engine;
use super::report::{Kind, ResourceReport, Status, condition};
use super::url::{self, Problem, UrlState};
use crate::api::{
    EdgeDistributionStatus, ProtectedFunctionUrlStatus, Protection, RetiredSignerVersion,
};
use crate::aws::AwsError;
use crate::edge;
use crate::model::cloudfront::{DistributionObserved, OacObserved, OacOriginType};
use crate::model::lambda::{FunctionVersion, SignerConfig};
use crate::model::names::{Owner, OwnerKind, ROLE_PATH, SIGNER_POLICY_NAME, url_origin_id};
use crate::model::ssm::DesiredParameter;
use crate::model::{EDGE_REGION, OWNER_TAG_KEY};
use crate::plan::FieldChange;
use crate::plan::desired::DesiredDistribution;
use crate::plan::distribution::{RenderInputs, diff, render};
use crate::plan::signer::{RoleAction, SignerAction, invoke_policy, plan_function, plan_role};

/// How often a stale ETag is re-read and the update re-planned before the
/// reconcile gives up (another writer keeps changing the distribution).
pub(super) const UPDATE_ATTEMPTS: usize = 5;

/// What the distribution phases found and did.
#[derive(Debug, Default)]
struct DistributionState {
    observed: Option<DistributionObserved>,
    signer_function_arn: Option<String>,
    signer_version_arn: Option<String>,
    actions: Vec<String>,
    changes: Vec<FieldChange>,
    problem: Option<Problem>,
    /// The distribution as found had an origin access control on a URL
    /// origin: grants from that configuration may need removing.
    had_origin_access: bool,
    /// The signer's versions as found (before any publish).
    signer_versions: Vec<FunctionVersion>,
    /// The signer versions the distribution associated as found.
    associated_before: Vec<String>,
    /// Signer versions no longer in use, waiting for their replicas to go.
    retired: Vec<RetiredSignerVersion>,
}

pub(super) async fn reconcile(
    engine: &Engine,
    desired: &DesiredDistribution,
) -> Vec<ResourceReport> {
    let mut urls = Vec::with_capacity(desired.urls.len());
    for url in &desired.urls {
        urls.push(url::ensure_config(engine, url).await);
    }
    let mut state = DistributionState::default();
    if let Err(problem) = edge_phases(engine, desired, &urls, &mut state).await {
        state.problem = Some(problem);
    }

    if let Some(observed) = state.observed.clone() {
        let attached: Vec<String> = observed
            .config
            .origins
            .iter()
            .map(|o| o.id.clone())
            .collect();
        let mut parameters = Vec::new();
        for url in urls.iter_mut().filter(|u| u.problem.is_none()) {
            if attached.contains(&url_origin_id(&url.desired.owner.name)) {
                let protection = desired.spec.protection;
                url::ensure_grants(
                    engine,
                    url,
                    protection,
                    &observed.arn,
                    state.had_origin_access,
                )
                .await;
                parameters.extend(url::parameters(url));
            }
        }
        parameters.extend(distribution_parameters(desired, &observed));
        let outcome = url::ensure_parameters(engine, &parameters).await;
        let distribution_tag = desired.owner.tag_value(OwnerKind::EdgeDistribution);
        let url_of = |urls: &[UrlState<'_>], owner: &str| -> Option<usize> {
            urls.iter()
                .position(|u| u.desired.owner.tag_value(OwnerKind::ProtectedFunctionUrl) == owner)
        };
        for (owner, action) in outcome.actions {
            match url_of(&urls, &owner) {
                Some(index) => urls[index].actions.push(action),
                None if owner == distribution_tag => state.actions.push(action),
                None => {}
            }
        }
        for (owner, problem) in outcome.problems {
            match url_of(&urls, &owner) {
                Some(index) => _ = urls[index].problem.get_or_insert(problem),
                None if owner == distribution_tag => _ = state.problem.get_or_insert(problem),
                None => {}
            }
        }
        if engine.applies() && state.problem.is_none() {
            state.observed = Some(wait_deployed(engine, observed).await);
        }
    }
    if state.problem.is_none()
        && desired.spec.protection == Protection::EdgeSigner
        && state.observed.is_some()
        && let Some(in_use) = state.signer_version_arn.clone()
    {
        state.retired = super::teardown::retire_versions(
            engine,
            &desired.owner.signer_function_name(),
            &state.signer_versions,
            &in_use,
            &state.associated_before,
            &mut state.actions,
        )
        .await;
    }
    reports(desired, state, urls)
}

async fn edge_phases(
    engine: &Engine,
    desired: &DesiredDistribution,
    urls: &[UrlState<'_>],
    state: &mut DistributionState,
) -> Result<(), Problem> {
    let mut inputs = RenderInputs::default();
    for url in urls.iter().filter(|u| u.problem.is_none()) {
        if let Some(host) = url.host() {
            inputs
                .url_hosts
                .insert(url.desired.owner.name.clone(), host);
        }
    }
    let needs_lambda_oac = desired.spec.protection == Protection::OriginAccessControl;
    let needs_s3_oac = desired.spec.default_origin.s3.is_some();
    let mut oacs = if needs_lambda_oac || needs_s3_oac {
        engine
            .aws
            .cloudfront()
            .list_origin_access_controls()
            .await
            .map_err(|e| Problem::aws(&e))?
    } else {
        Vec::new()
    };
    if needs_lambda_oac {
        let name = desired.owner.lambda_oac_name();
        inputs.lambda_oac_id =
            Some(ensure_oac(engine, &name, OacOriginType::Lambda, &mut oacs, state).await?);
    }
    if needs_s3_oac {
        let name = desired.owner.s3_oac_name();
        inputs.s3_oac_id =
            Some(ensure_oac(engine, &name, OacOriginType::S3, &mut oacs, state).await?);
    }
    if desired.spec.protection == Protection::EdgeSigner {
        let function_arns: Vec<String> = urls
            .iter()
            .filter(|u| u.problem.is_none())
            .filter_map(|u| u.function.as_ref().map(|f| f.target_arn.clone()))
            .collect();
        inputs.signer_version_arn =
            Some(ensure_signer(engine, desired, &function_arns, state).await?);
    }
    ensure_distribution(engine, desired, &inputs, state).await
}

async fn ensure_oac(
    engine: &Engine,
    name: &str,
    origin_type: OacOriginType,
    known: &mut Vec<OacObserved>,
    state: &mut DistributionState,
) -> Result<String, Problem> {
    if let Some(found) = known.iter().find(|o| o.name == name) {
        if found.origin_type != origin_type {
            return Err(Problem {
                reason: "NotOwned",
                message: format!(
                    "origin access control {name} exists for another origin type: urlguard leaves it alone"
                ),
            });
        }
        return Ok(found.id.clone());
    }
    state
        .actions
        .push(format!("create origin access control {name}"));
    if !engine.applies() {
        return Ok(format!("(new origin access control {name})"));
    }
    let cloudfront = engine.aws.cloudfront();
    let created = match cloudfront
        .create_origin_access_control(name, origin_type)
        .await
    {
        Ok(created) => created,
        // An earlier create whose answer was lost: find it.
        Err(error) if error.is_conflict() => cloudfront
            .list_origin_access_controls()
            .await
            .map_err(|e| Problem::aws(&e))?
            .into_iter()
            .find(|o| o.name == name)
            .ok_or_else(|| Problem::aws(&error))?,
        Err(error) => return Err(Problem::aws(&error)),
    };
    known.push(created.clone());
    Ok(created.id)
}

/// The signer role, function and numbered version; returns the version ARN.
async fn ensure_signer(
    engine: &Engine,
    desired: &DesiredDistribution,
    function_arns: &[String],
    state: &mut DistributionState,
) -> Result<String, Problem> {
    let owner = &desired.owner;
    let tag = owner.tag_value(OwnerKind::EdgeDistribution);
    let function_name = owner.signer_function_name();
    let role_arn = match &desired.spec.signer.role_arn {
        Some(arn) => arn.clone(),
        None => ensure_role(engine, desired, function_arns, state).await?,
    };

    let package = edge::package().map_err(|e| Problem {
        reason: "SignerPackage",
        message: e.to_string(),
    })?;
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
        .map_err(|e| Problem::aws(&e))?;
    let plan =
        plan_function(observed.as_ref(), &function_name, &tag, &config).map_err(|e| Problem {
            reason: "NotOwned",
            message: e.to_string(),
        })?;
    state.signer_function_arn = observed.as_ref().map(|o| o.function_arn.clone());
    state.signer_versions = observed
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
        state.actions.push(description);
        if !engine.applies() {
            continue;
        }
        let result: Result<(), AwsError> = match action {
            SignerAction::Create => match lambda
                .create_signer(&function_name, &config, &package.zip, &tag)
                .await
            {
                Ok(arn) => {
                    state.signer_function_arn = Some(arn);
                    lambda.wait_signer_ready(&function_name).await
                }
                // An earlier create whose answer was lost (the function was
                // absent when read): adopt it if it carries our tag.
                Err(error) if error.is_conflict() => {
                    match lambda.get_signer(&function_name).await {
                        Ok(Some(found)) if found.owner.as_deref() == Some(tag.as_str()) => {
                            state.signer_function_arn = Some(found.function_arn);
                            lambda.wait_signer_ready(&function_name).await
                        }
                        Ok(_) => Err(error),
                        Err(read) => Err(read),
                    }
                }
                Err(error) => Err(error),
            },
            SignerAction::UpdateCode => match lambda
                .update_signer_code(&function_name, &package.zip)
                .await
            {
                Ok(()) => lambda.wait_signer_ready(&function_name).await,
                Err(error) => Err(error),
            },
            SignerAction::UpdateConfiguration => match lambda
                .update_signer_configuration(&function_name, &config)
                .await
            {
                Ok(()) => lambda.wait_signer_ready(&function_name).await,
                Err(error) => Err(error),
            },
            SignerAction::PublishVersion => match lambda
                .publish_signer_version(&function_name, &config.code_sha256)
                .await
            {
                Ok(version) => {
                    version_arn = Some(version.arn);
                    Ok(())
                }
                Err(error) => Err(error),
            },
        };
        result.map_err(|e| Problem::aws(&e))?;
    }
    let version_arn = version_arn.unwrap_or_else(|| format!("(new version of {function_name})"));
    state.signer_version_arn = Some(version_arn.clone());
    Ok(version_arn)
}

async fn ensure_role(
    engine: &Engine,
    desired: &DesiredDistribution,
    function_arns: &[String],
    state: &mut DistributionState,
) -> Result<String, Problem> {
    let owner = &desired.owner;
    let tag = owner.tag_value(OwnerKind::EdgeDistribution);
    let role_name = owner.signer_role_name();
    let policy = invoke_policy(&owner.signer_function_name(), function_arns);
    let iam = engine.aws.iam();
    let observed = iam
        .get_role(&role_name)
        .await
        .map_err(|e| Problem::aws(&e))?;
    let actions = plan_role(observed.as_ref(), &role_name, &tag, &policy).map_err(|e| Problem {
        reason: "NotOwned",
        message: e.to_string(),
    })?;
    let mut role_arn = observed
        .map(|r| r.arn)
        .unwrap_or_else(|| format!("(new role {role_name})"));
    for action in actions {
        let result = match &action {
            RoleAction::Create { trust_policy } => {
                state
                    .actions
                    .push(format!("create signer role {role_name}"));
                if engine.applies() {
                    match iam
                        .create_role(&role_name, ROLE_PATH, trust_policy, &tag)
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
            RoleAction::UpdateTrust { trust_policy } => {
                state
                    .actions
                    .push(format!("repair the trust policy of role {role_name}"));
                if engine.applies() {
                    iam.update_trust_policy(&role_name, trust_policy).await
                } else {
                    Ok(())
                }
            }
            RoleAction::PutPolicy { document } => {
                state.actions.push(format!(
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
        result.map_err(|e| Problem::aws(&e))?;
    }
    Ok(role_arn)
}

/// Finds the owner's distribution. A `known_id` (where it was last seen) is
/// read first and taken when its `CallerReference` proves it the owner's;
/// otherwise, or when it is gone, the account's distributions are listed
/// for the one whose default origin id carries the owner marker, proven by
/// its `CallerReference` as well. Listing returns every distribution with
/// all its cache behaviors, so with many large distributions it costs
/// megabytes per call: the lookup by id keeps it to the first reconcile.
pub(super) async fn find_distribution(
    engine: &Engine,
    owner: &Owner,
    known_id: Option<&str>,
) -> Result<Option<DistributionObserved>, Problem> {
    let cloudfront = engine.aws.cloudfront();
    if let Some(id) = known_id {
        let known = cloudfront
            .get_distribution(id)
            .await
            .map_err(|e| Problem::aws(&e))?;
        match known {
            Some(found) if found.config.caller_reference == owner.caller_reference() => {
                return Ok(Some(found));
            }
            Some(_) => tracing::debug!(
                distribution = id,
                "the distribution last seen belongs to someone else: listing"
            ),
            None => tracing::debug!(
                distribution = id,
                "the distribution last seen is gone: listing"
            ),
        }
    }
    let marker = owner.default_origin_id();
    let summaries = cloudfront
        .list_distributions()
        .await
        .map_err(|e| Problem::aws(&e))?;
    let Some(summary) = summaries.iter().find(|s| s.origin_ids.contains(&marker)) else {
        return Ok(None);
    };
    let observed = cloudfront
        .get_distribution(&summary.id)
        .await
        .map_err(|e| Problem::aws(&e))?;
    match observed {
        Some(found) if found.config.caller_reference != owner.caller_reference() => Err(Problem {
            reason: "NotOwned",
            message: format!(
                "distribution {} carries urlguard's origin id {marker} but caller reference {}: urlguard leaves it alone",
                found.id, found.config.caller_reference
            ),
        }),
        other => Ok(other),
    }
}

async fn ensure_distribution(
    engine: &Engine,
    desired: &DesiredDistribution,
    inputs: &RenderInputs,
    state: &mut DistributionState,
) -> Result<(), Problem> {
    let cloudfront = engine.aws.cloudfront();
    let mut observed =
        find_distribution(engine, &desired.owner, desired.known_id.as_deref()).await?;
    state.associated_before = observed.as_ref().map_or_else(Vec::new, |o| {
        o.config
            .associated_versions()
            .into_iter()
            .map(str::to_owned)
            .collect()
    });
    let default_origin_id = desired.owner.default_origin_id();
    state.had_origin_access = observed.as_ref().is_some_and(|o| {
        o.config.origins.iter().any(|origin| {
            origin.id != default_origin_id && origin.origin_access_control_id.is_some()
        })
    });
    let shape = render(desired, inputs);
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(current) = observed.take() else {
            state.actions.push(format!(
                "create distribution with {} behavior(s) for {} URL(s)",
                shape.behaviors.len(),
                inputs.url_hosts.len()
            ));
            state.changes.push(FieldChange::new(
                "distribution",
                "(none)",
                shape.caller_reference.clone(),
            ));
            if !engine.applies() {
                return Ok(());
            }
            let mut tags: BTreeMap<String, String> = desired.spec.tags.clone();
            tags.insert(
                OWNER_TAG_KEY.to_owned(),
                desired.owner.tag_value(OwnerKind::EdgeDistribution),
            );
            match cloudfront.create_distribution(&shape, &tags).await {
                Ok(created) => {
                    state.observed = Some(created);
                    return Ok(());
                }
                Err(AwsError::DistributionAlreadyExists {
                    existing_id: Some(id),
                    ..
                }) => {
                    state
                        .actions
                        .push(format!("found distribution {id} from an earlier create"));
                    observed = cloudfront
                        .get_distribution(&id)
                        .await
                        .map_err(|e| Problem::aws(&e))?;
                    continue;
                }
                Err(error) => return Err(Problem::aws(&error)),
            }
        };
        let changes = diff(&current.config, &shape);
        if changes.is_empty() {
            state.observed = Some(current);
            return Ok(());
        }
        state.actions.push(format!(
            "update distribution {} ({} field(s) differ)",
            current.id,
            changes.len()
        ));
        state.changes = changes;
        if !engine.applies() {
            state.observed = Some(current);
            return Ok(());
        }
        match cloudfront
            .update_distribution(&current.id, &current.etag, &shape)
            .await
        {
            Ok(updated) => {
                state.observed = Some(updated);
                return Ok(());
            }
            Err(error) if error.is_precondition_failed() => {
                tracing::info!(distribution = %current.id, "the distribution changed since it was read; re-reading");
                observed = cloudfront
                    .get_distribution(&current.id)
                    .await
                    .map_err(|e| Problem::aws(&e))?;
            }
            Err(error) => return Err(Problem::aws(&error)),
        }
    }
    Err(Problem {
        reason: "ConcurrentUpdates",
        message: format!(
            "the distribution kept changing between read and update ({UPDATE_ATTEMPTS} attempts); another writer is active"
        ),
    })
}

/// The distribution's own SSM parameters, when `spec.ssmExport` asks.
fn distribution_parameters(
    desired: &DesiredDistribution,
    observed: &DistributionObserved,
) -> Vec<DesiredParameter> {
    let Some(export) = &desired.spec.ssm_export else {
        return Vec::new();
    };
    let tag = desired.owner.tag_value(OwnerKind::EdgeDistribution);
    let parameter = |name: &String, value: &String| DesiredParameter {
        region: export.region.clone(),
        name: name.clone(),
        value: value.clone(),
        owner: tag.clone(),
    };
    let mut parameters = Vec::new();
    if let Some(name) = &export.distribution_id_parameter {
        parameters.push(parameter(name, &observed.id));
    }
    if let Some(name) = &export.domain_name_parameter {
        parameters.push(parameter(name, &observed.domain_name));
    }
    parameters
}

pub(super) async fn wait_deployed(
    engine: &Engine,
    mut observed: DistributionObserved,
) -> DistributionObserved {
    let wait = engine.wait;
    if !wait.enabled {
        return observed;
    }
    let started = Instant::now();
    while !observed.is_deployed() && started.elapsed() < wait.timeout {
        tracing::info!(
            distribution = %observed.id,
            status = %observed.status,
            elapsed_seconds = started.elapsed().as_secs(),
            "waiting for CloudFront to deploy"
        );
        tokio::time::sleep(wait.poll_interval).await;
        match engine.aws.cloudfront().get_distribution(&observed.id).await {
            Ok(Some(fresh)) => observed = fresh,
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(distribution = %observed.id, %error, "polling the distribution failed; retrying")
            }
        }
    }
    if observed.is_deployed() {
        tracing::info!(distribution = %observed.id, elapsed_seconds = started.elapsed().as_secs(), "deployed");
    }
    observed
}

fn protected_url(domain: &str, path_pattern: &str) -> String {
    format!("https://{domain}{}", path_pattern.trim_end_matches('*'))
}

fn reports(
    desired: &DesiredDistribution,
    state: DistributionState,
    urls: Vec<UrlState<'_>>,
) -> Vec<ResourceReport> {
    let deployed = state
        .observed
        .as_ref()
        .is_some_and(DistributionObserved::is_deployed);
    let (ready, reason, message) = match (&state.problem, &state.observed) {
        (Some(problem), _) => (false, problem.reason, problem.message.clone()),
        (None, None) => (
            false,
            "Pending",
            "the distribution does not exist yet".to_owned(),
        ),
        (None, Some(observed)) if !observed.is_deployed() => (
            false,
            "Deploying",
            format!("CloudFront is deploying distribution {}", observed.id),
        ),
        (None, Some(observed)) => (
            true,
            "Deployed",
            format!("distribution {} is deployed", observed.id),
        ),
    };
    let mut conditions = vec![condition("Ready", ready, reason, message.clone())];
    if let Some(observed) = &state.observed {
        conditions.push(condition(
            "Deploying",
            !deployed,
            if deployed { "Deployed" } else { "InProgress" },
            format!("CloudFront status {}", observed.status),
        ));
    }
    let behaviors = state
        .observed
        .as_ref()
        .map(|o| {
            o.config
                .behaviors
                .iter()
                .filter_map(|b| b.path_pattern.clone())
                .collect()
        })
        .unwrap_or_default();
    let distribution_report = ResourceReport {
        kind: Kind::EdgeDistribution,
        namespace: desired.owner.namespace.clone(),
        name: desired.owner.name.clone(),
        ready,
        status: Status::Distribution(EdgeDistributionStatus {
            conditions,
            distribution_id: state.observed.as_ref().map(|o| o.id.clone()),
            distribution_arn: state.observed.as_ref().map(|o| o.arn.clone()),
            domain_name: state.observed.as_ref().map(|o| o.domain_name.clone()),
            deployment_status: state.observed.as_ref().map(|o| o.status.clone()),
            signer_function_arn: state.signer_function_arn.clone(),
            signer_version_arn: state.signer_version_arn.clone(),
            retired_signer_versions: state.retired,
            behaviors,
            ..EdgeDistributionStatus::default()
        }),
        actions: state.actions,
        changes: state.changes,
    };

    let mut out = vec![distribution_report];
    for url in urls {
        let (url_ready, url_reason, url_message) = match (&url.problem, ready) {
            (Some(problem), _) => (false, problem.reason, problem.message.clone()),
            (None, false) => (
                false,
                if reason == "Deploying" {
                    "Deploying"
                } else {
                    "DistributionNotReady"
                },
                message.clone(),
            ),
            (None, true) => (
                true,
                "Protected",
                "reachable only through the distribution".to_owned(),
            ),
        };
        let domain = state.observed.as_ref().map(|o| o.domain_name.as_str());
        out.push(ResourceReport {
            kind: Kind::ProtectedFunctionUrl,
            namespace: url.desired.owner.namespace.clone(),
            name: url.desired.owner.name.clone(),
            ready: url_ready,
            status: Status::Url(ProtectedFunctionUrlStatus {
                conditions: vec![condition("Ready", url_ready, url_reason, url_message)],
                protected_url: domain
                    .filter(|_| url.problem.is_none())
                    .map(|d| protected_url(d, &url.desired.spec.path_pattern)),
                function_url: url.function_url.clone(),
                function_arn: url.function.as_ref().map(|f| f.target_arn.clone()),
                distribution_id: state.observed.as_ref().map(|o| o.id.clone()),
                url_parameter: Some(url.desired.parameter_names.0.clone()),
                arn_parameter: Some(url.desired.parameter_names.1.clone()),
                ..ProtectedFunctionUrlStatus::default()
            }),
            actions: url.actions,
            changes: Vec::new(),
        });
    }
    out
}
