//! A leaving URL's own resources, once its behavior is out of the
//! distribution: its function's entry in the signer role's policy (when
//! the distribution stays), its `urlguard-...` resource-policy statements,
//! its SSM parameters, and its URL config unless it was adopted (it
//! existed before urlguard), `deletionPolicy` says `Retain`, or a live URL
//! still names the function ([`plan_url_config`]). A config left in place
//! is said in a notice (an event in the controller, a line of `urlguard destroy`).
//! A function its owner did not opt in (or of another account) is read,
//! never written: urlguard never touched it, and its policy forbids it.

use super::parameters::{ParameterRef, delete_parameters};
use super::progress::Progress;
use crate::api::FunctionRef;
use crate::model::lambda::{FunctionFound, UrlConfig};
use crate::model::names::{Owner, OwnerKind, SIGNER_POLICY_NAME};
use crate::plan::desired::DesiredUrl;
use crate::plan::permissions::{self, StatementAction};
use crate::plan::ssm::record;
use crate::plan::teardown::{
    FunctionUser, Kept, LeavingConfig, UrlConfigStep, invoke_policy_resources,
    invoke_policy_without, names_function, plan_url_config,
};
use crate::reconcile::engine::Engine;
use crate::reconcile::function::manageable;
use crate::reconcile::outcome::Notice;
use crate::reconcile::problem::Problem;

/// A URL leaving, and what its pass did.
#[derive(Debug)]
pub(super) struct LeavingUrl<'a> {
    pub(super) desired: &'a DesiredUrl,
    pub(super) progress: Progress,
    /// Its URL config as read by this pass.
    pub(super) config: Option<UrlConfig>,
    /// Whether the URL config was read (a failed read leaves it alone).
    config_read: bool,
    /// Its function as read by this pass (with the adopted marker).
    found: Option<FunctionFound>,
    /// Why its URL config stays, when it does.
    pub(super) kept: Option<Kept>,
    /// What the report must say out loud.
    pub(super) notices: Vec<Notice>,
    /// Whether urlguard may write to the function (its owner opted in,
    /// and it is in urlguard's account). One that may not was never
    /// touched by urlguard, so nothing of it is cleaned.
    manageable: bool,
}

impl<'a> LeavingUrl<'a> {
    pub(super) fn new(desired: &'a DesiredUrl) -> LeavingUrl<'a> {
        LeavingUrl {
            desired,
            progress: Progress::default(),
            config: None,
            config_read: false,
            found: None,
            kept: None,
            notices: Vec::new(),
            manageable: false,
        }
    }

    fn function(&self) -> &FunctionRef {
        &self.desired.spec.function
    }

    fn host(&self) -> Option<&str> {
        self.config.as_ref().map(UrlConfig::host)
    }

    /// The function, with its alias, and its region, as people say it.
    fn located(&self) -> String {
        let function = self.function();
        match &function.qualifier {
            Some(alias) => format!("{} (alias {alias}) in {}", function.name, function.region),
            None => format!("{} in {}", function.name, function.region),
        }
    }

    /// What stays of the URL config when a step before its deletion fails.
    fn config_left(&self) -> String {
        format!(
            "the function URL config of {} (if urlguard created it)",
            self.located()
        )
    }

    /// What stays of the grants when they could not be read or removed.
    fn grants_left(&self) -> String {
        let owner = &self.desired.owner;
        format!(
            "resource-policy statements {} and {} of {} (if present)",
            owner.statement_id("url"),
            owner.statement_id("invoke"),
            self.located()
        )
    }

    /// Its behavior could not leave the distribution: everything of it
    /// stays for now.
    pub(super) fn block(&mut self, problem: &Problem) {
        let left = [self.grants_left(), self.config_left()];
        self.progress.left_in_aws.extend(left);
        let desired = self.desired;
        let region = &desired.spec.ssm_export.region;
        for name in [&desired.parameter_names.0, &desired.parameter_names.1] {
            self.progress
                .left_in_aws
                .push(format!("SSM parameter {name} in {region} (if it exists)"));
        }
        self.progress
            .fail(Problem::Blocked(Box::new(problem.clone())));
    }
}

/// The URLs' own resources, after their behaviors left: the signer role's
/// policy (`remaining_hosts` is `Some` when the distribution stays), grants,
/// parameters, then URL configs (`staying`: the live URLs, whose
/// functions keep their configs).
pub(super) async fn clean_urls(
    engine: &Engine,
    distribution: &Owner,
    urls: &mut [LeavingUrl<'_>],
    remaining_hosts: Option<&[String]>,
    staying: &[FunctionUser],
) {
    for url in urls.iter_mut() {
        // The function (with its opt-in tag and adopted marker) first: no
        // function, no config.
        match manageable(engine, url.desired).await {
            Ok(found) => {
                url.manageable = true;
                url.found = Some(found);
            }
            // A function that is gone has no URL config, and urlguard's
            // own leftovers still go.
            Err(Problem::FunctionNotFound { .. }) => {
                url.manageable = true;
                url.config_read = true;
                continue;
            }
            Err(
                problem @ (Problem::FunctionNotOptedIn { .. }
                | Problem::FunctionInOtherAccount { .. }),
            ) => {
                let function = url.function().name.clone();
                url.progress
                    .note_left_alone(format!("function {function}"), &problem.to_string());
                continue;
            }
            Err(problem) => {
                let left = [url.grants_left(), url.config_left()];
                url.progress.left_in_aws.extend(left);
                url.progress.fail(problem);
                continue;
            }
        }
        let function = url.function().clone();
        let qualifier = function.qualifier.as_deref();
        let lambda = engine.aws.lambda(&function.region);
        match lambda.get_url_config(&function.name, qualifier).await {
            Ok(config) => {
                url.config = config;
                url.config_read = true;
            }
            Err(error) => {
                let left = [url.grants_left(), url.config_left()];
                url.progress.left_in_aws.extend(left);
                url.progress.fail(Problem::from(error));
            }
        }
    }
    if let Some(remaining) = remaining_hosts {
        shrink_role_policy(engine, distribution, urls, remaining).await;
    }
    for url in urls.iter_mut() {
        remove_grants(engine, url).await;
    }
    let parameters: Vec<ParameterRef> = urls
        .iter()
        .enumerate()
        .flat_map(|(index, url)| {
            let desired = url.desired;
            let tag = desired.owner.tag_value(OwnerKind::ProtectedFunctionUrl);
            // The declared ones, and those an earlier rename could not
            // delete yet (`status.exportedParameters`).
            let declared = desired.declared_parameters();
            let all = record(&declared, &desired.exported_before);
            all.into_iter().map(move |parameter| ParameterRef {
                index,
                region: parameter.region,
                name: parameter.name,
                owner: tag.clone(),
            })
        })
        .collect();
    for (index, outcome) in delete_parameters(engine, &parameters).await {
        if let Some(url) = urls.get_mut(index) {
            outcome.record(&mut url.progress);
        }
    }
    for url in urls.iter_mut() {
        settle_url_config(engine, url, staying).await;
    }
}

/// Under a distribution that stays, the leaving functions leave the signer
/// role's policy too (one write for all of them).
async fn shrink_role_policy(
    engine: &Engine,
    distribution: &Owner,
    urls: &mut [LeavingUrl<'_>],
    remaining_hosts: &[String],
) {
    let role_name = distribution.signer_role_name();
    let iam = engine.aws.iam();
    let role = match iam.get_role(&role_name).await {
        Ok(Some(role)) => role,
        Ok(None) => return,
        Err(error) => {
            for url in urls.iter_mut() {
                let left = format!(
                    "function {} in signer role {role_name}'s policy (if listed)",
                    url.function().name
                );
                url.progress
                    .fail_leaving(Problem::from(error.clone()), left);
            }
            return;
        }
    };
    let tag = distribution.tag_value(OwnerKind::EdgeDistribution);
    let Some(policy) = role
        .invoke_policy
        .as_ref()
        .filter(|_| role.owner.as_deref() == Some(tag.as_str()))
    else {
        return;
    };
    let named = invoke_policy_resources(policy);
    let leaving: Vec<usize> = urls
        .iter()
        .enumerate()
        .filter(|(_, url)| {
            url.host()
                .is_none_or(|h| !remaining_hosts.iter().any(|r| r == h))
        })
        .filter(|(_, url)| named.iter().any(|arn| names_function(arn, url.function())))
        .map(|(index, _)| index)
        .collect();
    let functions: Vec<&FunctionRef> = leaving.iter().map(|&i| urls[i].function()).collect();
    let Some(document) =
        invoke_policy_without(policy, &distribution.signer_function_name(), &functions)
    else {
        return;
    };
    let result = if engine.applies() {
        iam.put_role_policy(&role_name, SIGNER_POLICY_NAME, &document)
            .await
    } else {
        Ok(())
    };
    for &index in &leaving {
        let url = &mut urls[index];
        match &result {
            Ok(()) => url.progress.actions.push(format!(
                "remove function {} from signer role {role_name}'s policy",
                url.function().name
            )),
            Err(error) => url.progress.fail_leaving(
                Problem::from(error.clone()),
                format!(
                    "function {} in signer role {role_name}'s policy",
                    url.function().name
                ),
            ),
        }
    }
}

/// Removes the URL's `urlguard-...` resource-policy statements.
async fn remove_grants(engine: &Engine, url: &mut LeavingUrl<'_>) {
    if !url.manageable {
        return;
    }
    let function = url.function().clone();
    let qualifier = function.qualifier.as_deref();
    let lambda = engine.aws.lambda(&function.region);
    let observed = match lambda.get_policy(&function.name, qualifier).await {
        Ok(observed) => observed.statements,
        Err(error) => {
            let left = url.grants_left();
            url.progress.fail_leaving(Problem::from(error), left);
            return;
        }
    };
    let owner = &url.desired.owner;
    let managed = [owner.statement_id("url"), owner.statement_id("invoke")];
    for action in permissions::plan(&[], &observed, &managed) {
        let StatementAction::Remove(sid) = action else {
            continue;
        };
        url.progress.actions.push(format!("remove grant {sid}"));
        if engine.applies()
            && let Err(error) = lambda
                .remove_permission(&function.name, qualifier, &sid)
                .await
        {
            let left = format!("resource-policy statement {sid} of {}", url.located());
            url.progress.fail_leaving(Problem::from(error), left);
        }
    }
}

/// Deletes the URL config or leaves it in place, as [`plan_url_config`]
/// says. An adopted config keeps its marker (see there why).
async fn settle_url_config(engine: &Engine, url: &mut LeavingUrl<'_>, staying: &[FunctionUser]) {
    if !url.config_read {
        return;
    }
    let Some(found) = url.found.as_ref() else {
        return;
    };
    let function = url.function().clone();
    let step = plan_url_config(
        LeavingConfig {
            owner: &url.desired.owner,
            function: &function,
            policy: url.desired.spec.deletion_policy,
            observed: url.config.as_ref(),
            adopted: found.adopted_url_config.is_some(),
            created: found.created_by_instance(&url.desired.owner.instance),
        },
        staying,
    );
    let lambda = engine.aws.lambda(&function.region);
    let qualifier = function.qualifier.as_deref();
    match step {
        UrlConfigStep::Absent => {}
        UrlConfigStep::Unmark => {
            url.progress.actions.push(format!(
                "remove the created marker of {}'s deleted URL config",
                function.name
            ));
            if engine.applies()
                && let Err(error) = lambda.unmark_created(&found.function_arn, qualifier).await
            {
                url.progress.fail(Problem::from(error));
            }
        }
        UrlConfigStep::Delete => {
            url.progress.actions.push(format!(
                "delete the function URL config of {}",
                function.name
            ));
            if engine.applies() {
                match lambda.delete_url_config(&function.name, qualifier).await {
                    Ok(()) => {
                        url.config = None;
                        if let Err(error) =
                            lambda.unmark_created(&found.function_arn, qualifier).await
                        {
                            let left =
                                format!("urlguard's created-config tag on {}", found.function_arn);
                            url.progress.fail_leaving(Problem::from(error), left);
                        }
                    }
                    Err(error) => {
                        let left = format!("the function URL config of {}", url.located());
                        url.progress.fail_leaving(Problem::from(error), left);
                    }
                }
            }
        }
        UrlConfigStep::Keep(why) => {
            if matches!(
                why,
                Kept::CreatedBeforeUrlguard | Kept::NotCreatedByUrlguard | Kept::StillUsedBy(_)
            ) {
                url.notices.push(Notice::UrlConfigLeftInPlace {
                    function: function.name.clone(),
                    why: why.to_string(),
                });
            }
            url.kept = Some(why);
        }
    }
}
