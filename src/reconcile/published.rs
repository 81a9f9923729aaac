//! What a pass reads from SSM before it writes anything: every parameter
//! the distribution and its URLs declare, one batched read per region.
//! Phase 6 plans its writes from this read (it costs what phase 6 read
//! itself before), and it tells, first, whether a URL's `spec.function`
//! names another function than the one its ARN parameter publishes
//! (`plan::function_change`). Such a URL is refused before any write and
//! kept as AWS has it: its old function stays routed and granted.
//!
//! The check runs only for URLs without a record of what urlguard
//! exported for them (`status.exportedParameters`): manifest files, and a
//! controller's first pass over an object; in the cluster the CRD already
//! refuses the change, and an object with a record was applied as it
//! reads.

use std::collections::BTreeMap;

use super::engine::Engine;
use super::problem::Problem;
use crate::aws::AwsError;
use crate::model::names::OwnerKind;
use crate::model::ssm::ParameterObserved;
use crate::plan::desired::{DesiredDistribution, DesiredUrl};
use crate::plan::function_change::names_another_function;

/// The parameters found per region, or why a region could not be read.
pub(super) type Published = BTreeMap<String, Result<Vec<ParameterObserved>, AwsError>>;

/// Reads every parameter `desired` and its URLs not held declare, one
/// batch per region.
pub(super) async fn read(engine: &Engine, desired: &DesiredDistribution) -> Published {
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let declared = desired.declared_parameters().into_iter().chain(
        desired
            .urls
            .iter()
            .filter(|url| !url.held)
            .flat_map(DesiredUrl::declared_parameters),
    );
    for parameter in declared {
        let in_region = names.entry(parameter.region).or_default();
        if !in_region.contains(&parameter.name) {
            in_region.push(parameter.name);
        }
    }
    let mut published = Published::new();
    for (region, names) in names {
        let found = engine.aws.ssm(&region).get_parameters(&names).await;
        published.insert(region, found);
    }
    published
}

/// Why `url` may not be applied as it reads, if its ARN parameter (found
/// in `published`, and carrying this URL's owner tag) publishes another
/// function than `spec.function`. One tag read, only when the function
/// differs.
pub(super) async fn function_changed(
    engine: &Engine,
    url: &DesiredUrl,
    published: &Published,
) -> Option<Problem> {
    if !url.exported_before.is_empty() {
        return None;
    }
    let region = &url.spec.ssm_export.region;
    let name = &url.parameter_names.1;
    let found = published
        .get(region)?
        .as_ref()
        .ok()?
        .iter()
        .find(|p| &p.name == name)?;
    if !names_another_function(&found.value, &url.spec.function) {
        return None;
    }
    let owner = match engine.aws.ssm(region).owner_of(name).await {
        Ok(owner) => owner,
        Err(error) => return Some(Problem::from(error)),
    };
    // Someone else's parameter records nothing of this URL (phase 6
    // reports it `NotOwned`).
    if owner.as_deref()
        != Some(
            url.owner
                .tag_value(OwnerKind::ProtectedFunctionUrl)
                .as_str(),
        )
    {
        return None;
    }
    let function = &url.spec.function;
    Some(Problem::FunctionChanged {
        published: found.value.clone(),
        parameter: name.clone(),
        wanted: format!(
            "{} in {}{}",
            function.name,
            function.region,
            function
                .qualifier
                .as_ref()
                .map(|q| format!(", alias {q}"))
                .unwrap_or_default()
        ),
    })
}
