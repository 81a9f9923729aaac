//! The function a URL names, found and checked before anything touches it:
//! in urlguard's own account, existing, and opted in by its owner for this
//! instance and namespace (`plan::opt_in`). Both the apply and the teardown
//! of a URL start here, so neither writes to a function its owner did not
//! hand over. Only reads happen on the way (`sts:GetCallerIdentity` once,
//! for an ARN; `lambda:GetFunction`, unless a check moments before read it
//! for the same URL: `admissions`).

use super::engine::Engine;
use super::problem::Problem;
use crate::model::OPT_IN_TAG_KEY;
use crate::model::lambda::FunctionFound;
use crate::plan::desired::DesiredUrl;
use crate::plan::opt_in;

/// The function `desired` names, when urlguard may manage it; otherwise
/// the problem that says why not (and no write has been made).
pub(super) async fn manageable(
    engine: &Engine,
    desired: &DesiredUrl,
) -> Result<FunctionFound, Problem> {
    let function = &desired.spec.function;
    if let Some(account) = opt_in::account_of(&function.name) {
        let ours = engine.aws.account_id().await?;
        if account != ours {
            return Err(Problem::FunctionInOtherAccount {
                function: function.name.clone(),
                account: account.to_owned(),
                ours,
            });
        }
    }
    let qualifier = function.qualifier.as_deref();
    let now = tokio::time::Instant::now().into_std();
    let found = match engine.admissions.take(desired, now) {
        Some(checked) => Some(checked),
        None => {
            let lambda = engine.aws.lambda(&function.region);
            lambda.get_function(&function.name, qualifier).await?
        }
    };
    let Some(found) = found else {
        let what = match qualifier {
            Some(alias) => format!("function {} (alias {alias})", function.name),
            None => format!("function {}", function.name),
        };
        return Err(Problem::FunctionNotFound {
            what,
            region: function.region.clone(),
        });
    };
    let owner = &desired.owner;
    if !opt_in::admits(found.opt_in.as_deref(), &owner.instance, &owner.namespace) {
        tracing::info!(
            function = %found.function_arn,
            tag = ?found.opt_in,
            "function not opted in; left alone"
        );
        return Err(Problem::FunctionNotOptedIn {
            command: opt_in::command(&found.function_arn, &owner.instance, &owner.namespace),
            arn: found.function_arn,
            instance: owner.instance.clone(),
            namespace: owner.namespace.clone(),
            tag: OPT_IN_TAG_KEY,
            found: found
                .opt_in
                .map_or_else(|| "missing".to_owned(), |value| format!("{value:?}")),
        });
    }
    Ok(found)
}
