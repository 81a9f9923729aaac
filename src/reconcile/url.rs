//! The per-URL phases: find the function and make its URL config right
//! (before the distribution is written, which needs the URL's host), then
//! the grants and SSM parameters once the distribution's ARN and domain are
//! known: under `OriginAccessControl` the grants come before the write that
//! routes to the URL (`distribution` decides when), otherwise after it.
//!
//! What urlguard created is what it deletes. Before it creates a URL
//! config, urlguard tags the function with the created marker
//! ([`crate::model::lambda::created_marker_key`]): a crash between the tag
//! and the create leaves a marker without a config, and the next pass
//! creates the config under it. A config without the marker (one that
//! existed before urlguard, on `AWS_IAM` or `NONE`) is never deleted
//! ([`crate::plan::teardown::plan_url_config`]). A config urlguard did not
//! create and found on `NONE`, or created by someone between urlguard's
//! read and its create (`Conflict`, after urlguard's created marker went
//! on), is also adopted: the function is tagged with the adopted marker
//! ([`crate::model::lambda::adopted_marker_key`]) BEFORE the config is
//! switched to `AWS_IAM`, which a teardown honours over the created marker,
//! and the adoption is said ([`Notice::UrlConfigAdopted`]). A crash between
//! that tag and the switch leaves the marker on a config still open: the
//! next pass switches it.

use super::engine::Engine;
use super::outcome::{Notice, Reason, Verdict};
use super::problem::Problem;
use super::published::Published;
use super::report::{Kind, Pass, ResourceReport, Status};
use crate::api::{Cors, ProtectedFunctionUrlStatus, Protection};
use crate::model::lambda::{
    AuthType, DesiredUrlConfig, FunctionFound, PolicyStatement, marker_value,
};
use crate::model::names::{Owner, OwnerKind, statement_id_prefix};
use crate::model::ssm::DesiredParameter;
use crate::plan::desired::{DesiredUrl, Rejection};
use crate::plan::exposure::{self, Exposure};
use crate::plan::permissions::{self, StatementAction};
use crate::plan::ssm::ParameterAction;
use crate::plan::url::{UrlConfigAction, plan};

/// A URL after its first phase.
#[derive(Debug, Clone)]
pub(super) struct UrlState<'a> {
    pub desired: &'a DesiredUrl,
    pub function: Option<FunctionFound>,
    pub function_url: Option<String>,
    pub notices: Vec<Notice>,
    pub actions: Vec<String>,
    pub problem: Option<Problem>,
    /// Its grants were made right in this pass, before the distribution
    /// write that routes to it (`OriginAccessControl`).
    pub granted: bool,
    /// The statements of the function's resource policy that still let
    /// someone other than the distribution in; `None` until the policy was
    /// read (the URL is not attached, or the read failed).
    pub exposed: Option<Vec<Exposure>>,
    /// Held as found ([`DesiredUrl::held`]): nothing is read or written
    /// for it and it gets no report.
    pub held: bool,
    /// `function_url` stands in for the URL a create would make (a plan):
    /// later phases route to it, an observed URL's status never shows it.
    pub stand_in_url: bool,
}

impl<'a> UrlState<'a> {
    /// A URL refused before its first phase: nothing is read or written
    /// for it.
    pub fn refused(desired: &'a DesiredUrl, problem: Problem) -> UrlState<'a> {
        UrlState {
            problem: Some(problem),
            ..UrlState::new(desired)
        }
    }

    /// A URL whose distribution stopped the pass before any phase: it
    /// reports the distribution's verdict.
    pub fn waiting(desired: &'a DesiredUrl) -> UrlState<'a> {
        UrlState::new(desired)
    }

    /// A URL held as found ([`DesiredUrl::held`]).
    pub fn held(desired: &'a DesiredUrl) -> UrlState<'a> {
        UrlState {
            held: true,
            ..UrlState::new(desired)
        }
    }

    /// A URL before its first phase.
    fn new(desired: &'a DesiredUrl) -> UrlState<'a> {
        UrlState {
            desired,
            function: None,
            function_url: None,
            notices: Vec::new(),
            actions: Vec::new(),
            problem: None,
            granted: false,
            exposed: None,
            held: false,
            stand_in_url: false,
        }
    }

    /// The host CloudFront connects to, once the URL config exists.
    pub fn host(&self) -> Option<String> {
        self.function_url.as_ref().map(|u| {
            u.trim_start_matches("https://")
                .trim_end_matches('/')
                .to_owned()
        })
    }
}

/// Finds the function, checks that its owner opted in (`function`), and
/// makes its URL config match (on `AWS_IAM`). A function urlguard may not
/// manage gets a problem and no write: it stays out of the distribution,
/// the signer's policy and SSM.
pub(super) async fn ensure_config<'a>(engine: &Engine, desired: &'a DesiredUrl) -> UrlState<'a> {
    let mut state = UrlState::new(desired);
    let found = match super::function::manageable(engine, desired).await {
        Ok(found) => found,
        Err(problem) => {
            state.problem = Some(problem);
            return state;
        }
    };
    let function = &desired.spec.function;
    let lambda = engine.aws.lambda(&function.region);
    let qualifier = function.qualifier.as_deref();
    let function_arn = found.function_arn.clone();
    let adopted = found.adopted_url_config.is_some();
    let created = found.created_by_instance(&desired.owner.instance);
    state.function = Some(found);
    // A config urlguard did not create is marked before it is switched, so
    // that a teardown leaves it in place even after a crash in between.
    let marker = marker_value(&desired.owner);
    let mark_adopted = || lambda.mark_adopted(&function_arn, qualifier, &marker);

    // `cors: {}` configures nothing, and Lambda reads it back as no CORS.
    let wanted = DesiredUrlConfig {
        invoke_mode: desired.spec.invoke_mode,
        cors: desired.spec.cors.clone().filter(|c| c != &Cors::default()),
    };
    let observed = match lambda.get_url_config(&function.name, qualifier).await {
        Ok(observed) => observed,
        Err(error) => {
            state.problem = Some(Problem::from(error));
            return state;
        }
    };
    let result = match plan(observed.as_ref(), &wanted) {
        UrlConfigAction::Keep => {
            state.function_url = observed.map(|o| o.function_url);
            return state;
        }
        UrlConfigAction::Create => {
            state
                .actions
                .push("create function URL config (AWS_IAM)".to_owned());
            if !engine.applies() {
                state.function_url = Some(format!(
                    "https://(new URL of {}).lambda-url.{}.on.aws/",
                    function.name, function.region
                ));
                state.stand_in_url = true;
                return state;
            }
            // The created marker first: a crash before the create leaves
            // it for the config the next pass creates.
            if !created
                && let Err(error) = lambda.mark_created(&function_arn, qualifier, &marker).await
            {
                state.problem = Some(Problem::from(error));
                return state;
            }
            match lambda
                .create_url_config(&function.name, qualifier, &wanted)
                .await
            {
                // Someone created it between the read and the create: it
                // is not urlguard's. Adopt it: the marker, then the switch.
                Err(error) if error.is_conflict() => {
                    if !adopted && let Err(error) = mark_adopted().await {
                        state.problem = Some(Problem::from(error));
                        return state;
                    }
                    state.notices.push(Notice::UrlConfigAdopted {
                        function: function.name.clone(),
                    });
                    lambda
                        .update_url_config(&function.name, qualifier, &wanted)
                        .await
                }
                other => other,
            }
        }
        UrlConfigAction::Update {
            switches_from_none,
            changes,
        } => {
            if switches_from_none {
                state.notices.push(Notice::SwitchedToIam);
            }
            // Open and unmarked: urlguard never wrote it (it writes only
            // `AWS_IAM`). Adopt it: the marker first, below.
            let adopting =
                !adopted && observed.as_ref().map(|o| o.auth_type) == Some(AuthType::None);
            if adopting {
                state.notices.push(Notice::UrlConfigAdopted {
                    function: function.name.clone(),
                });
            }
            let details: Vec<String> = changes.iter().map(ToString::to_string).collect();
            state.actions.push(format!(
                "update function URL config ({})",
                details.join(", ")
            ));
            if !engine.applies() {
                state.function_url = observed.map(|o| o.function_url);
                return state;
            }
            if adopting && let Err(error) = mark_adopted().await {
                state.problem = Some(Problem::from(error));
                return state;
            }
            lambda
                .update_url_config(&function.name, qualifier, &wanted)
                .await
        }
    };
    match result {
        Ok(config) => state.function_url = Some(config.function_url),
        Err(error) => state.problem = Some(Problem::from(error)),
    }
    state
}

/// The resource-policy grants, once the distribution's ARN is known, and
/// the check that nobody else is let in ([`crate::plan::exposure`]). The
/// function's policy is read under both protections, once: under
/// `OriginAccessControl` it holds CloudFront's grants; under `EdgeSigner`
/// the signer role's identity policy is the grant, and the read finds
/// grants left from an earlier `OriginAccessControl` configuration (which
/// go) and statements that let others in. Those are reported, and removed
/// only under `spec.removeForeignStatements`.
pub(super) async fn ensure_grants(
    engine: &Engine,
    state: &mut UrlState<'_>,
    protection: Protection,
    distribution_arn: &str,
) {
    let desired = state.desired;
    let spec_function = &desired.spec.function;
    let owner = &desired.owner;
    let lambda = engine.aws.lambda(&spec_function.region);
    let qualifier = spec_function.qualifier.as_deref();

    let managed = [owner.statement_id("url"), owner.statement_id("invoke")];
    let wanted: Vec<PolicyStatement> = match protection {
        Protection::OriginAccessControl => permissions::origin_access_statements(
            managed[0].clone(),
            managed[1].clone(),
            distribution_arn,
        )
        .into(),
        Protection::EdgeSigner => Vec::new(),
    };
    let observed = match lambda.get_policy(&spec_function.name, qualifier).await {
        Ok(observed) => observed,
        Err(error) => {
            state.problem = Some(Problem::from(error));
            return;
        }
    };
    for action in permissions::plan(&wanted, &observed.statements, &managed) {
        let result = match &action {
            StatementAction::Add(statement) => {
                state.actions.push(format!(
                    "grant {} to {} ({})",
                    statement.action, statement.principal, statement.sid
                ));
                if engine.applies() {
                    lambda
                        .add_permission(&spec_function.name, qualifier, statement)
                        .await
                } else {
                    Ok(())
                }
            }
            StatementAction::Replace(statement) => {
                state
                    .actions
                    .push(format!("repair drifted grant {}", statement.sid));
                if engine.applies() {
                    match lambda
                        .remove_permission(&spec_function.name, qualifier, &statement.sid)
                        .await
                    {
                        Ok(()) => {
                            lambda
                                .add_permission(&spec_function.name, qualifier, statement)
                                .await
                        }
                        Err(error) => Err(error),
                    }
                } else {
                    Ok(())
                }
            }
            StatementAction::Remove(sid) => {
                state
                    .actions
                    .push(format!("remove grant {sid}, no longer needed"));
                if engine.applies() {
                    lambda
                        .remove_permission(&spec_function.name, qualifier, sid)
                        .await
                } else {
                    Ok(())
                }
            }
        };
        if let Err(error) = result {
            state.problem = Some(Problem::from(error));
            return;
        }
    }
    let account = state
        .function
        .as_ref()
        .and_then(|f| f.function_arn.split(':').nth(4))
        .unwrap_or_default();
    let foreign = exposure::foreign_statements(
        &observed.grants,
        exposure::Scope {
            account,
            distribution_arn,
            own_sids: &managed,
            instance_sid_prefix: &statement_id_prefix(&owner.instance),
        },
    );
    remove_foreign(engine, state, foreign).await;
}

/// Reports the foreign statements, or (`spec.removeForeignStatements`)
/// removes them; what stays is the URL's exposure.
async fn remove_foreign(engine: &Engine, state: &mut UrlState<'_>, foreign: Vec<Exposure>) {
    let spec = &state.desired.spec;
    let described = |e: &Exposure| format!("{}: {}", e.sid, e.grants);
    if !spec.remove_foreign_statements {
        if !foreign.is_empty() {
            tracing::warn!(
                namespace = %state.desired.owner.namespace,
                name = %state.desired.owner.name,
                statements = ?foreign.iter().map(|e| e.sid.as_str()).collect::<Vec<_>>(),
                "function URL exposed besides the distribution"
            );
            state.notices.push(Notice::Exposed {
                statements: foreign.iter().map(described).collect(),
            });
        }
        state.exposed = Some(foreign);
        return;
    }
    let lambda = engine.aws.lambda(&spec.function.region);
    let qualifier = spec.function.qualifier.as_deref();
    let mut left = Vec::new();
    for statement in foreign {
        state.actions.push(format!(
            "remove foreign statement {} (spec.removeForeignStatements)",
            described(&statement)
        ));
        if !engine.applies() {
            left.push(statement);
            continue;
        }
        match lambda
            .remove_permission(&spec.function.name, qualifier, &statement.sid)
            .await
        {
            Ok(()) => state.notices.push(Notice::ForeignStatementRemoved {
                statement: described(&statement),
            }),
            Err(error) => {
                state.problem.get_or_insert(Problem::from(error));
                left.push(statement);
            }
        }
    }
    if !left.is_empty() {
        state.notices.push(Notice::Exposed {
            statements: left.iter().map(described).collect(),
        });
    }
    state.exposed = Some(left);
}

/// The URL's two SSM parameters (function URL and ARN), once it has both.
pub(super) fn parameters(state: &UrlState<'_>) -> Vec<DesiredParameter> {
    let (Some(function), Some(function_url)) = (&state.function, &state.function_url) else {
        return Vec::new();
    };
    let desired = state.desired;
    let tag = desired.owner.tag_value(OwnerKind::ProtectedFunctionUrl);
    let region = &desired.spec.ssm_export.region;
    let (url_name, arn_name) = &desired.parameter_names;
    vec![
        DesiredParameter {
            region: region.clone(),
            name: url_name.clone(),
            value: function_url.clone(),
            owner: tag.clone(),
        },
        DesiredParameter {
            region: region.clone(),
            name: arn_name.clone(),
            value: function.target_arn.clone(),
            owner: tag,
        },
    ]
}

/// What writing parameters did, attributed to each parameter's owner tag.
#[derive(Debug, Default)]
pub(super) struct ParameterOutcome {
    pub actions: Vec<(String, String)>,
    pub problems: Vec<(String, Problem)>,
}

/// Writes the parameters that are missing or hold another value, planned
/// from the pass's read (`published`; a region it lacks is read here); a
/// parameter with another owner is never overwritten.
pub(super) async fn ensure_parameters(
    engine: &Engine,
    parameters: &[DesiredParameter],
    published: &Published,
) -> ParameterOutcome {
    let mut outcome = ParameterOutcome::default();
    let mut regions: Vec<&str> = parameters.iter().map(|p| p.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        let in_region: Vec<DesiredParameter> = parameters
            .iter()
            .filter(|p| p.region == region)
            .cloned()
            .collect();
        let ssm = engine.aws.ssm(region);
        let names: Vec<String> = in_region.iter().map(|p| p.name.clone()).collect();
        let read = match published.get(region) {
            Some(read) => read.clone(),
            None => ssm.get_parameters(&names).await,
        };
        let observed = match read {
            Ok(observed) => observed,
            Err(error) => {
                outcome.problems.extend(
                    in_region
                        .iter()
                        .map(|p| (p.owner.clone(), Problem::from(error.clone()))),
                );
                continue;
            }
        };
        for action in crate::plan::ssm::plan(&in_region, &observed) {
            let (parameter, description, overwrite) = match action {
                ParameterAction::Create(parameter) => {
                    let description = format!("write SSM parameter {} in {region}", parameter.name);
                    (parameter, description, false)
                }
                ParameterAction::Overwrite { parameter, before } => {
                    let description =
                        format!("repair SSM parameter {} (was {before:?})", parameter.name);
                    (parameter, description, true)
                }
            };
            outcome.actions.push((parameter.owner.clone(), description));
            if !engine.applies() {
                continue;
            }
            let result = if overwrite {
                overwrite_owned(engine, &parameter).await
            } else {
                match ssm.create_parameter(&parameter).await {
                    Err(error) if error.is_conflict() => overwrite_owned(engine, &parameter).await,
                    other => other.map_err(Problem::from),
                }
            };
            if let Err(problem) = result {
                outcome.problems.push((parameter.owner.clone(), problem));
            }
        }
    }
    outcome
}

async fn overwrite_owned(engine: &Engine, parameter: &DesiredParameter) -> Result<(), Problem> {
    let ssm = engine.aws.ssm(&parameter.region);
    let owner = ssm.owner_of(&parameter.name).await.map_err(Problem::from)?;
    if owner.as_deref() != Some(parameter.owner.as_str()) {
        return Err(Problem::NotOwned(format!(
            "SSM parameter {} exists and is owned by {}: urlguard leaves it alone; choose another name in ssmExport",
            parameter.name,
            owner.unwrap_or_else(|| "(no owner tag)".to_owned())
        )));
    }
    ssm.overwrite_parameter(parameter)
        .await
        .map_err(Problem::from)
}

/// The report of a URL whose function urlguard may not manage (or could
/// not check), before any write.
pub(super) fn refused_report(owner: &Owner, problem: &Problem) -> ResourceReport {
    ResourceReport {
        kind: Kind::ProtectedFunctionUrl,
        namespace: owner.namespace.clone(),
        name: owner.name.clone(),
        pass: Pass::Reconcile,
        verdict: problem.verdict(""),
        found: Status::Url(ProtectedFunctionUrlStatus::default()),
        notices: Vec::new(),
        actions: Vec::new(),
        changes: Vec::new(),
        observed: false,
    }
}

/// The report of a URL, or (`kind`) a distribution, rejected before any
/// AWS call.
pub(super) fn rejected_report(kind: Kind, owner: &Owner, rejection: &Rejection) -> ResourceReport {
    let reason = match rejection {
        Rejection::MissingDistribution { .. } => Reason::DistributionNotFound,
        Rejection::DuplicatePath { .. } => Reason::DuplicatePathPattern,
        Rejection::TooManyBehaviors { .. } => Reason::TooManyCacheBehaviors,
        Rejection::ParameterOutsidePrefix { .. } => Reason::ParameterOutsidePrefix,
        Rejection::DistributionRejected { .. } => Reason::DistributionNotReady,
    };
    let found = match kind {
        Kind::ProtectedFunctionUrl => Status::Url(ProtectedFunctionUrlStatus::default()),
        Kind::EdgeDistribution => {
            Status::Distribution(crate::api::EdgeDistributionStatus::default())
        }
    };
    ResourceReport {
        kind,
        namespace: owner.namespace.clone(),
        name: owner.name.clone(),
        pass: Pass::Reconcile,
        verdict: Verdict::new(reason, rejection.to_string()),
        found,
        notices: Vec::new(),
        actions: Vec::new(),
        changes: Vec::new(),
        observed: false,
    }
}
