//! One `EdgeDistribution` with its URLs, phase by phase: URL configs, the
//! signer (role, function, numbered version) or the origin access control,
//! the distribution itself in one create or update, then grants and SSM
//! parameters, then the wait for `Deployed`, then the invalidation of
//! `spec.invalidation` (see `invalidation`).
//!
//! Under `OriginAccessControl` CloudFront's grants come before the write
//! that routes to a URL, as CloudFront's guide orders it ("after you create
//! a CloudFront distribution, but before you add the OAC"): a URL on
//! `AWS_IAM` refuses CloudFront until its grant exists, so routing to it
//! first opens a window of 403s. The grant's `AWS:SourceArn` is the
//! distribution's ARN, which exists only once the distribution does, so a
//! new distribution is created with the default origin alone, the URLs are
//! granted, and one update adds their origins and behaviors (one write
//! more than creating it whole). An existing distribution's URLs are
//! granted before its update. A URL whose grant fails is not routed to (or,
//! if the distribution already routes to it, kept as AWS has it).
//!
//! A URL the pass holds (`DesiredUrl::held`) is kept as AWS has it too,
//! with nothing of it read or written and no report: a controller
//! retrying one failing URL does not re-read its siblings.
//!
//! Objects observed, not managed (`spec.managementPolicy: Observe`) are
//! read and planned like the others, through the observing engine
//! (`Engine::observing`: plan mode, adapters that refuse writes). An
//! observed distribution is observed as a whole, with every URL. An
//! observed URL of a managed distribution gets nothing written for it (URL
//! config, grants, parameters, the signer role's entry for its function)
//! and its route stays exactly as CloudFront has it
//! (`plan::distribution::kept_as_found`), while the distribution goes on
//! for the others. Each observed object's drift is what a managed pass
//! would change for it (`observed`).

use std::collections::BTreeMap;

use super::adoption;
use super::engine::Engine;
use super::exports;
use super::invalidation;
use super::observe::{find_distribution, wait_deployed};
use super::observed::observed as observed_report;
use super::outcome::{Notice, Reason, Verdict};
use super::problem::{Problem, UPDATE_ATTEMPTS};
use super::published;
use super::report::{Kind, Pass, ResourceReport, Status};
use super::signer::{self, Keep, SignerState};
use super::span;
use super::url::{self, UrlState};
use crate::api::{
    EdgeDistributionStatus, ExportedParameter, ExposedStatement, InvalidationStatus,
    ProtectedFunctionUrlStatus, Protection,
};
use crate::aws::AwsError;
use crate::model::OWNER_TAG_KEY;
use crate::model::cloudfront::{DistributionObserved, OacObserved, OacOriginType};
use crate::model::names::{OwnerKind, url_origin_id};
use crate::model::ssm::DesiredParameter;
use crate::plan::FieldChange;
use crate::plan::desired::{DesiredDistribution, DesiredUrl};
use crate::plan::distribution::{RenderInputs, creation, diff, kept_as_found, render};
use crate::plan::exposure::Exposure;
use crate::plan::observe::{route_changes, stale_parameters};

/// What the distribution phases found and did.
#[derive(Debug, Default)]
struct DistributionState {
    observed: Option<DistributionObserved>,
    signer: SignerState,
    actions: Vec<String>,
    changes: Vec<FieldChange>,
    problem: Option<Problem>,
    /// The signer versions the distribution associated as found.
    associated_before: Vec<String>,
    /// `status.invalidation`.
    invalidation: Option<InvalidationStatus>,
    /// Why the invalidation failed: the distribution's alone, its URLs
    /// are served all the same.
    invalidation_problem: Option<Problem>,
    notices: Vec<Notice>,
    /// What the distribution's configuration was last rendered from:
    /// observed URLs' drift is worked out against it.
    rendered: Option<RenderInputs>,
    /// The distribution `spec.adopt` names, taken over before any other
    /// phase (`adoption`).
    adopted: Option<DistributionObserved>,
}

pub(super) async fn reconcile(
    engine: &Engine,
    desired: &DesiredDistribution,
) -> Vec<ResourceReport> {
    let observer = engine.observing();
    // An observed distribution is read and planned as a whole, its URLs
    // with it: nothing of it is written.
    let engine = if desired.observed { &observer } else { engine };
    let engine_of = |url: &DesiredUrl| {
        if desired.observes(url) {
            &observer
        } else {
            engine
        }
    };
    let mut state = DistributionState::default();
    // An adoption is judged before anything is written: a refused one
    // writes nothing, for the distribution or its URLs.
    if let Some(adopt) = &desired.spec.adopt {
        match adoption::take_over(
            engine,
            &desired.owner,
            adopt,
            &mut state.actions,
            &mut state.notices,
        )
        .await
        {
            Ok(found) => state.adopted = found,
            Err(problem) => {
                state.problem = Some(problem);
                let urls: Vec<UrlState<'_>> = desired.urls.iter().map(UrlState::waiting).collect();
                let records = unchanged_records(desired, &urls);
                return reports(desired, state, urls, records);
            }
        }
    }
    let published = published::read(engine, desired).await;
    let mut urls = Vec::with_capacity(desired.urls.len());
    for url in &desired.urls {
        if url.held {
            urls.push(UrlState::held(url));
            continue;
        }
        let state = match published::function_changed(engine_of(url), url, &published).await {
            Some(problem) => UrlState::refused(url, problem),
            None => url::ensure_config(engine_of(url), url).await,
        };
        urls.push(state);
    }
    if let Err(problem) = edge_phases(engine, desired, &mut urls, &mut state).await {
        state.problem = Some(problem);
    }
    // What each object has exported to SSM, as far as this pass knows:
    // unchanged (plus the newly declared names) unless the parameters
    // were written and the stale ones retired below.
    let mut records = unchanged_records(desired, &urls);

    if let Some(observed) = state.observed.clone() {
        let attached: Vec<String> = observed
            .config
            .origins
            .iter()
            .map(|o| o.id.clone())
            .collect();
        let mut parameters = Vec::new();
        let mut observed_parameters = Vec::new();
        for url in urls.iter_mut().filter(|u| u.problem.is_none() && !u.held) {
            if attached.contains(&url_origin_id(&url.desired.owner.name)) {
                if !url.granted {
                    let protection = desired.spec.protection;
                    url::ensure_grants(engine_of(url.desired), url, protection, &observed.arn)
                        .await;
                }
                if desired.observes(url.desired) {
                    observed_parameters.extend(url::parameters(url));
                } else {
                    parameters.extend(url::parameters(url));
                }
            }
        }
        parameters.extend(distribution_parameters(desired, &observed));
        let mut outcome = url::ensure_parameters(engine, &parameters, &published).await;
        if !observed_parameters.is_empty() {
            let planned = url::ensure_parameters(&observer, &observed_parameters, &published).await;
            outcome.actions.extend(planned.actions);
            outcome.problems.extend(planned.problems);
        }
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
        records = retire_stale_parameters(engine, desired, &mut urls, &mut state).await;
        if engine.applies() && state.problem.is_none() {
            state.observed = Some(wait_deployed(engine, observed).await);
        }
    }
    state.invalidation = desired.invalidation_before.clone();
    if state.problem.is_none()
        && let Some(observed) = &state.observed
    {
        match invalidation::ensure(engine, desired, observed).await {
            Ok(found) => {
                state.invalidation = found.status;
                state.actions.extend(found.actions);
                state.notices.extend(found.notices);
            }
            Err(problem) => state.invalidation_problem = Some(problem),
        }
    }
    if state.problem.is_none()
        && desired.spec.protection == Protection::EdgeSigner
        && state.observed.is_some()
        && let Some(in_use) = state.signer.version_arn.clone()
    {
        state.signer.retired = signer::retire_versions(
            engine,
            &desired.owner.signer_function_name(),
            &state.signer.versions,
            &in_use,
            &state.associated_before,
            &mut state.actions,
        )
        .await;
    }
    reports(desired, state, urls, records)
}

/// The SSM parameters each object has exported (`status.exportedParameters`):
/// the distribution's, and its URLs' in the order of the pass.
struct Records {
    distribution: Vec<ExportedParameter>,
    urls: Vec<Vec<ExportedParameter>>,
}

/// The records of a pass that wrote no parameter: as they were, plus the
/// newly declared names.
fn unchanged_records(desired: &DesiredDistribution, urls: &[UrlState<'_>]) -> Records {
    Records {
        distribution: exports::unchanged(&desired.declared_parameters(), &desired.exported_before),
        urls: urls
            .iter()
            .map(|u| {
                exports::unchanged(&u.desired.declared_parameters(), &u.desired.exported_before)
            })
            .collect(),
    }
}

/// After the declared parameters are written: deletes those the objects'
/// records hold but their specs no longer declare (`exports`), and says
/// so on each object.
async fn retire_stale_parameters(
    engine: &Engine,
    desired: &DesiredDistribution,
    urls: &mut [UrlState<'_>],
    state: &mut DistributionState,
) -> Records {
    // An observed object's record stays as it is (switched to `Manage`,
    // its pass deletes what it lists); what it would delete is its drift.
    if desired.observed {
        state.actions.extend(stale_parameters(
            &desired.exported_before,
            &desired.declared_parameters(),
        ));
    }
    for url in urls
        .iter_mut()
        .filter(|u| desired.observes(u.desired) && u.problem.is_none() && !u.held)
    {
        let stale = stale_parameters(
            &url.desired.exported_before,
            &url.desired.declared_parameters(),
        );
        url.actions.extend(stale);
    }
    let mut exporters = vec![exports::of_distribution(
        desired,
        state.problem.is_none() && !desired.observed,
    )];
    exporters.extend(urls.iter().map(|url| exports::Exporter {
        owner: &url.desired.owner,
        kind: OwnerKind::ProtectedFunctionUrl,
        declared: url.desired.declared_parameters(),
        before: &url.desired.exported_before,
        written: url.problem.is_none() && !url.held && !desired.observes(url.desired),
    }));
    let mut retired = exports::retire(engine, &exporters).await.into_iter();
    let Some(own) = retired.next() else {
        return Records {
            distribution: Vec::new(),
            urls: Vec::new(),
        };
    };
    state.actions.extend(own.actions);
    if let Some(problem) = own.problem {
        state.problem.get_or_insert(problem);
    }
    let mut records = Records {
        distribution: own.record,
        urls: Vec::with_capacity(urls.len()),
    };
    for (url, retired) in urls.iter_mut().zip(retired) {
        url.actions.extend(retired.actions);
        if let Some(problem) = retired.problem {
            url.problem.get_or_insert(problem);
        }
        records.urls.push(retired.record);
    }
    records
}

async fn edge_phases(
    engine: &Engine,
    desired: &DesiredDistribution,
    urls: &mut [UrlState<'_>],
    state: &mut DistributionState,
) -> Result<(), Problem> {
    let mut inputs = RenderInputs::default();
    // URLs whose state Lambda did not answer for (throttling, an outage)
    // keep what AWS has for them, rather than leave the distribution.
    let any_unread = urls.iter().any(held_as_found);
    // A URL observed by its own policy keeps its route as found (see
    // `keeping`); under an observed distribution the others are planned
    // as if managed.
    for url in urls
        .iter()
        .filter(|u| u.problem.is_none() && !u.desired.observed)
    {
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
            .map_err(Problem::from)?
    } else {
        Vec::new()
    };
    let description = desired.owner.oac_description();
    if needs_lambda_oac {
        let wanted = WantedOac {
            name: desired.owner.lambda_oac_name(),
            description: &description,
            origin_type: OacOriginType::Lambda,
        };
        inputs.lambda_oac_id = Some(ensure_oac(engine, &wanted, &mut oacs, state).await?);
    }
    if needs_s3_oac {
        let wanted = WantedOac {
            name: desired.owner.s3_oac_name(),
            description: &description,
            origin_type: OacOriginType::S3,
        };
        inputs.s3_oac_id = Some(ensure_oac(engine, &wanted, &mut oacs, state).await?);
    }
    if desired.spec.protection == Protection::EdgeSigner {
        let function_of = |u: &UrlState<'_>| u.function.as_ref().map(|f| f.target_arn.clone());
        let function_arns: Vec<String> = urls
            .iter()
            .filter(|u| u.problem.is_none() && !u.desired.observed)
            .filter_map(function_of)
            .collect();
        let observed_arns: Vec<String> = urls
            .iter()
            .filter(|u| u.desired.observed)
            .filter_map(function_of)
            .collect();
        let keep = Keep {
            all: any_unread,
            observed: &observed_arns,
        };
        inputs.signer_version_arn = Some(
            signer::ensure(
                engine,
                desired,
                &function_arns,
                keep,
                &mut state.signer,
                &mut state.actions,
            )
            .await?,
        );
    }
    ensure_distribution(engine, desired, &inputs, urls, state).await
}

/// Whether AWS did not answer for the URL (reading its config, or writing
/// its grant), its function changed and it was refused, or the pass holds
/// it: the distribution keeps its origin and behavior as found.
fn held_as_found(url: &UrlState<'_>) -> bool {
    url.held
        || matches!(
            url.problem,
            Some(Problem::Aws(_) | Problem::FunctionChanged { .. })
        )
}

/// `inputs` with the hosts the distribution already routes to for the
/// URLs [`held_as_found`], so their origins and behaviors are rendered as
/// before, and the routes of URLs observed by their own policy exactly as
/// `current` has them (none if it has none).
fn keeping(
    inputs: &RenderInputs,
    current: &DistributionObserved,
    urls: &[UrlState<'_>],
) -> RenderInputs {
    let mut kept = inputs.clone();
    for url in urls {
        let name = &url.desired.owner.name;
        if url.desired.observed {
            if let Some(route) = kept_as_found(&current.config, name) {
                kept.kept.insert(name.clone(), route);
            }
            continue;
        }
        if !held_as_found(url) {
            continue;
        }
        let origin_id = url_origin_id(name);
        if let Some(origin) = current.config.origins.iter().find(|o| o.id == origin_id) {
            kept.url_hosts
                .insert(name.clone(), origin.domain_name.clone());
        }
    }
    kept
}

/// Under `OriginAccessControl`: CloudFront's grants on every URL of
/// `inputs`, before the write that routes to them (see the module docs).
/// Returns `inputs` without the URLs whose grant could not be written.
async fn grant_before_routing(
    engine: &Engine,
    urls: &mut [UrlState<'_>],
    distribution_arn: &str,
    inputs: &RenderInputs,
) -> RenderInputs {
    let mut granted = inputs.clone();
    for url in urls.iter_mut().filter(|u| u.problem.is_none()) {
        let name = url.desired.owner.name.clone();
        if url.granted || !granted.url_hosts.contains_key(&name) {
            continue;
        }
        url::ensure_grants(
            engine,
            url,
            Protection::OriginAccessControl,
            distribution_arn,
        )
        .await;
        if url.problem.is_some() {
            granted.url_hosts.remove(&name);
        } else {
            url.granted = true;
        }
    }
    granted
}

/// An origin access control the distribution needs: its name, the
/// description that records its owner, and what it signs for.
struct WantedOac<'a> {
    name: String,
    description: &'a str,
    origin_type: OacOriginType,
}

/// The id of the origin access control `wanted`, created when missing.
/// OACs take no tags: one of the right name is adopted only when its
/// description names this owner (the names carry the owner's hash, the
/// description says it outright, so a look-alike someone else made is
/// refused, not signed with).
async fn ensure_oac(
    engine: &Engine,
    wanted: &WantedOac<'_>,
    known: &mut Vec<OacObserved>,
    state: &mut DistributionState,
) -> Result<String, Problem> {
    let WantedOac {
        name,
        description,
        origin_type,
    } = wanted;
    let (name, description, origin_type) = (name.as_str(), *description, *origin_type);
    if let Some(found) = known.iter().find(|o| o.name == name) {
        if found.description != description {
            return Err(Problem::NotOwned(format!(
                "origin access control {name} exists with description {:?}, not {description:?}: it is not this object's, urlguard leaves it alone",
                found.description
            )));
        }
        if found.origin_type != origin_type {
            return Err(Problem::NotOwned(format!(
                "origin access control {name} exists for another origin type: urlguard leaves it alone"
            )));
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
        .create_origin_access_control(name, description, origin_type)
        .await
    {
        Ok(created) => created,
        // An earlier create whose answer was lost: find it.
        Err(error) if error.is_conflict() => cloudfront
            .list_origin_access_controls()
            .await
            .map_err(Problem::from)?
            .into_iter()
            .find(|o| o.name == name && o.description == description)
            .ok_or_else(|| Problem::from(error))?,
        Err(error) => return Err(Problem::from(error)),
    };
    known.push(created.clone());
    Ok(created.id)
}

async fn ensure_distribution(
    engine: &Engine,
    desired: &DesiredDistribution,
    inputs: &RenderInputs,
    urls: &mut [UrlState<'_>],
    state: &mut DistributionState,
) -> Result<(), Problem> {
    let cloudfront = engine.aws.cloudfront();
    let grants_first = desired.spec.protection == Protection::OriginAccessControl;
    // What a create in this pass changed, reported with a later update.
    let mut created_changes = Vec::new();
    let mut observed = match state.adopted.take() {
        Some(adopted) => Some(adopted),
        None => find_distribution(engine, &desired.owner, desired.known_id.as_deref()).await?,
    };
    state.associated_before = observed.as_ref().map_or_else(Vec::new, |o| {
        o.config
            .associated_versions()
            .into_iter()
            .map(str::to_owned)
            .collect()
    });
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(current) = observed.take() else {
            // Under OAC, the URLs wait for their grants, which wait for the
            // distribution's ARN; a plan shows the whole result.
            let routes_later = grants_first && engine.applies() && !inputs.url_hosts.is_empty();
            let first = if routes_later {
                RenderInputs {
                    url_hosts: BTreeMap::new(),
                    ..inputs.clone()
                }
            } else {
                inputs.clone()
            };
            let shape = render(desired, &first);
            state.rendered = Some(first.clone());
            state.actions.push(format!(
                "create distribution with {} behavior(s) for {} URL(s)",
                shape.behaviors.len(),
                first.url_hosts.len()
            ));
            state.changes = creation(&shape);
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
                    span::found_distribution(&created.id);
                    if routes_later {
                        created_changes = state.changes.clone();
                        observed = Some(created);
                        continue;
                    }
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
                        .map_err(Problem::from)?;
                    continue;
                }
                Err(error) => return Err(Problem::from(error)),
            }
        };
        let routed = if grants_first {
            grant_before_routing(engine, urls, &current.arn, inputs).await
        } else {
            inputs.clone()
        };
        let mut rendered = keeping(&routed, &current, urls);
        // CloudFront never changes a `CallerReference`: an adopted
        // distribution keeps the one its creator gave it.
        rendered.caller_reference = Some(current.config.caller_reference.clone());
        let shape = render(desired, &rendered);
        state.rendered = Some(rendered);
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
        state.changes = created_changes.iter().cloned().chain(changes).collect();
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
                    .map_err(Problem::from)?;
            }
            Err(error) => return Err(Problem::from(error)),
        }
    }
    Err(Problem::ConcurrentUpdates { write: "update" })
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

fn protected_url(domain: &str, path_pattern: &str) -> String {
    format!("https://{domain}{}", path_pattern.trim_end_matches('*'))
}

fn reports(
    desired: &DesiredDistribution,
    state: DistributionState,
    urls: Vec<UrlState<'_>>,
    records: Records,
) -> Vec<ResourceReport> {
    let verdict = distribution_verdict(state.problem.as_ref(), state.observed.as_ref());
    let own_verdict = match &state.invalidation_problem {
        Some(problem) => problem.verdict(""),
        None => verdict.clone(),
    };
    let observed = state.observed.as_ref();
    let behaviors = observed
        .map(|o| {
            o.config
                .behaviors
                .iter()
                .filter_map(|b| b.path_pattern.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::with_capacity(urls.len() + 1);
    for (url, exported) in urls.into_iter().zip(records.urls) {
        if url.held {
            continue;
        }
        let url_verdict = match &url.problem {
            Some(problem) => problem.verdict(""),
            None => exposed_verdict(url_verdict(&verdict), url.exposed.as_deref()),
        };
        let domain = observed.map(|o| o.domain_name.as_str());
        let observes = desired.observes(url.desired);
        let (changes, grant) = if observes {
            url_drift(desired, &state, &url)
        } else {
            (Vec::new(), None)
        };
        let mut actions = url.actions;
        if observes {
            if !changes.is_empty() {
                actions.push(format!(
                    "change its route in the distribution ({} field(s) differ)",
                    changes.len()
                ));
            }
            actions.extend(grant);
        }
        let report = ResourceReport {
            kind: Kind::ProtectedFunctionUrl,
            namespace: url.desired.owner.namespace.clone(),
            name: url.desired.owner.name.clone(),
            pass: Pass::Reconcile,
            verdict: url_verdict,
            found: Status::Url(ProtectedFunctionUrlStatus {
                // An observed URL shows what AWS has, not what a managed
                // pass would make.
                protected_url: domain
                    .filter(|_| url.problem.is_none())
                    .filter(|_| !observes || (changes.is_empty() && !url.stand_in_url))
                    .map(|d| protected_url(d, &url.desired.spec.path_pattern)),
                function_url: url
                    .function_url
                    .clone()
                    .filter(|_| !(observes && url.stand_in_url)),
                function_arn: url.function.as_ref().map(|f| f.target_arn.clone()),
                distribution_id: observed.map(|o| o.id.clone()),
                url_parameter: Some(url.desired.parameter_names.0.clone()),
                arn_parameter: Some(url.desired.parameter_names.1.clone()),
                exposed_statements: url.exposed.as_ref().map(|exposed| {
                    exposed
                        .iter()
                        .map(|e| ExposedStatement {
                            statement_id: e.sid.clone(),
                            grants: e.grants.clone(),
                        })
                        .collect()
                }),
                exported_parameters: Some(exported),
                ..ProtectedFunctionUrlStatus::default()
            }),
            notices: url.notices,
            actions,
            changes,
            observed: false,
        };
        out.push(if observes {
            observed_report(report)
        } else {
            report
        });
    }
    let distribution_report = ResourceReport {
        kind: Kind::EdgeDistribution,
        namespace: desired.owner.namespace.clone(),
        name: desired.owner.name.clone(),
        pass: Pass::Reconcile,
        verdict: own_verdict,
        found: Status::Distribution(EdgeDistributionStatus {
            distribution_id: observed.map(|o| o.id.clone()),
            distribution_arn: observed.map(|o| o.arn.clone()),
            domain_name: observed.map(|o| o.domain_name.clone()),
            deployment_status: observed.map(|o| o.status.clone()),
            signer_function_arn: state.signer.function_arn,
            signer_version_arn: state
                .signer
                .version_arn
                .filter(|_| !(desired.observed && state.signer.stand_in_version)),
            retired_signer_versions: state.signer.retired,
            behaviors,
            exported_parameters: Some(records.distribution),
            invalidation: state.invalidation,
            ..EdgeDistributionStatus::default()
        }),
        notices: state.notices,
        actions: state.actions,
        changes: state.changes,
        observed: false,
    };
    let distribution_report = if desired.observed {
        observed_report(distribution_report)
    } else {
        distribution_report
    };
    out.insert(0, distribution_report);
    out
}

/// What a managed pass would change of an observed URL's route and of the
/// signer role's grant on its function, beside the URL's own actions: its
/// part of the difference between the distribution as it is and as it
/// would be rendered with the URL managed, and the grant to add, if any.
fn url_drift(
    desired: &DesiredDistribution,
    state: &DistributionState,
    url: &UrlState<'_>,
) -> (Vec<FieldChange>, Option<String>) {
    let Some(rendered) = state.rendered.as_ref().filter(|_| url.problem.is_none()) else {
        return (Vec::new(), None);
    };
    let name = &url.desired.owner.name;
    let mut managed = rendered.clone();
    managed.kept.remove(name);
    match url.host() {
        Some(host) => _ = managed.url_hosts.insert(name.clone(), host),
        None => _ = managed.url_hosts.remove(name),
    }
    let shape = render(desired, &managed);
    let current = state.observed.as_ref().map(|o| &o.config);
    let changes = match current {
        Some(current) => diff(current, &shape),
        None => creation(&shape),
    };
    let route = route_changes(&changes, current, url.desired);
    let grant = url
        .function
        .as_ref()
        .filter(|function| {
            desired.spec.protection == Protection::EdgeSigner
                && desired.spec.signer.role_arn.is_none()
                && !state.signer.granted.contains(&function.target_arn)
        })
        .map(|function| {
            format!(
                "grant the signer role lambda:InvokeFunctionUrl and lambda:InvokeFunction on {}",
                function.target_arn
            )
        });
    (route, grant)
}

/// The distribution's verdict: its problem, or how far CloudFront is.
fn distribution_verdict(
    problem: Option<&Problem>,
    observed: Option<&DistributionObserved>,
) -> Verdict {
    match (problem, observed) {
        (Some(problem), _) => problem.verdict(""),
        (None, None) => Verdict::new(Reason::Pending, "the distribution does not exist yet"),
        (None, Some(observed)) if !observed.is_deployed() => Verdict::new(
            Reason::Deploying,
            format!("CloudFront is deploying distribution {}", observed.id),
        ),
        (None, Some(observed)) => Verdict::new(
            Reason::Deployed,
            format!("distribution {} is deployed", observed.id),
        ),
    }
}

/// The verdict of a URL without a problem of its own: protected once its
/// distribution is ready, otherwise waiting for it (with its message).
fn url_verdict(distribution: &Verdict) -> Verdict {
    match distribution.reason {
        Reason::Deployed => {
            Verdict::new(Reason::Protected, "reachable only through the distribution")
        }
        Reason::Deploying => Verdict::new(Reason::Deploying, distribution.message.clone()),
        _ => Verdict::new(Reason::DistributionNotReady, distribution.message.clone()),
    }
}

/// A protected URL whose function's policy lets others in is not claimed
/// reachable only through the distribution: `Ready` stays `True` (the spec
/// is applied, the distribution serves it) with its own reason, and the
/// message names the statements.
fn exposed_verdict(verdict: Verdict, exposed: Option<&[Exposure]>) -> Verdict {
    match exposed {
        Some(exposed) if verdict.reason == Reason::Protected && !exposed.is_empty() => {
            let sids: Vec<&str> = exposed.iter().map(|e| e.sid.as_str()).collect();
            Verdict::new(
                Reason::ReachableOutsideDistribution,
                format!(
                    "served through the distribution, but the function's resource policy also lets others invoke it (statements {}; see the Exposed condition)",
                    sids.join(", ")
                ),
            )
        }
        _ => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;

    #[test]
    fn an_exposed_url_is_not_claimed_reachable_only_through_the_distribution() {
        let protected = url_verdict(&Verdict::new(Reason::Deployed, "deployed"));
        let exposure = Exposure {
            sid: "public".into(),
            grants: "anyone (*) may call lambda:InvokeFunctionUrl".into(),
        };
        let exposed = exposed_verdict(protected.clone(), Some(std::slice::from_ref(&exposure)));
        assert_eq!(exposed.reason, Reason::ReachableOutsideDistribution);
        assert!(
            exposed.message.contains("statements public;"),
            "{exposed:?}"
        );
        assert!(!exposed.message.contains("only through"));
        assert_eq!(exposed_verdict(protected.clone(), Some(&[])), protected);
        assert_eq!(exposed_verdict(protected.clone(), None), protected);
        let deploying = Verdict::new(Reason::Deploying, "CloudFront is deploying E1");
        assert_eq!(
            exposed_verdict(deploying.clone(), Some(std::slice::from_ref(&exposure))),
            deploying,
            "only a protected verdict changes"
        );
    }

    #[test]
    fn urls_follow_their_distribution_unless_they_have_a_problem_of_their_own() {
        let deployed = Verdict::new(Reason::Deployed, "distribution E1 is deployed");
        assert_eq!(url_verdict(&deployed).reason, Reason::Protected);
        let deploying = Verdict::new(Reason::Deploying, "CloudFront is deploying E1");
        assert_eq!(
            url_verdict(&deploying),
            deploying,
            "same reason, same message"
        );
        let failed = Problem::from(AwsError::Service {
            service: "cloudfront",
            operation: "UpdateDistribution",
            code: "AccessDenied".into(),
            message: "no".into(),
        })
        .verdict("");
        assert_eq!(failed.reason, Reason::AwsError);
        let waiting = url_verdict(&failed);
        assert_eq!(waiting.reason, Reason::DistributionNotReady);
        assert_eq!(waiting.message, failed.message);
        assert_eq!(
            url_verdict(&distribution_verdict(None, None)).reason,
            Reason::DistributionNotReady
        );
    }

    #[test]
    fn the_protected_url_is_the_path_pattern_on_the_distribution_domain() {
        assert_eq!(
            protected_url("d1.cloudfront.net", "/api/*"),
            "https://d1.cloudfront.net/api/"
        );
        assert_eq!(
            protected_url("d1.cloudfront.net", "/getBooks"),
            "https://d1.cloudfront.net/getBooks"
        );
    }
}
