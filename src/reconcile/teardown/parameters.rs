//! SSM parameters leaving with their resource: deleted only when they
//! exist and carry the expected owner tag (anything else is left alone and
//! said), one batched read per region.

use super::progress::Progress;
use crate::model::names::OwnerKind;
use crate::plan::desired::DesiredDistribution;
use crate::plan::ssm::record;
use crate::plan::teardown::{NotOwned, plan_parameter};
use crate::reconcile::engine::Engine;
use crate::reconcile::problem::Problem;

/// A parameter that leaves, and whose it is.
#[derive(Debug, Clone)]
pub(crate) struct ParameterRef {
    /// The resource it belongs to (an index the caller understands).
    pub(crate) index: usize,
    pub(crate) region: String,
    pub(crate) name: String,
    /// The owner tag it must carry.
    pub(crate) owner: String,
}

impl ParameterRef {
    /// `name in region`, for what a teardown left behind.
    fn located(&self) -> String {
        format!("{} in {}", self.name, self.region)
    }
}

/// What happened to one parameter.
#[derive(Debug)]
pub(crate) enum ParameterOutcome {
    Deleted(String),
    LeftAlone(NotOwned),
    /// The problem, and the parameter it leaves in AWS (`name in region`).
    Failed(Problem, String),
}

impl ParameterOutcome {
    pub(super) fn record(self, progress: &mut Progress) {
        match self {
            ParameterOutcome::Deleted(action) => progress.actions.push(action),
            ParameterOutcome::LeftAlone(note) => progress.leave(&note),
            ParameterOutcome::Failed(problem, left) => {
                progress.left_in_aws.push(format!("SSM parameter {left}"));
                progress.fail(problem);
            }
        }
    }
}

/// Deletes the parameters that exist and carry the expected owner tag:
/// one batched read per region, one tag read per parameter found.
pub(crate) async fn delete_parameters(
    engine: &Engine,
    parameters: &[ParameterRef],
) -> Vec<(usize, ParameterOutcome)> {
    let mut outcomes = Vec::new();
    let mut regions: Vec<&str> = parameters.iter().map(|p| p.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        let in_region: Vec<&ParameterRef> =
            parameters.iter().filter(|p| p.region == region).collect();
        let ssm = engine.aws.ssm(region);
        let names: Vec<String> = in_region.iter().map(|p| p.name.clone()).collect();
        let existing = match ssm.get_parameters(&names).await {
            Ok(existing) => existing,
            Err(error) => {
                outcomes.extend(in_region.iter().map(|p| {
                    (
                        p.index,
                        ParameterOutcome::Failed(Problem::from(error.clone()), p.located()),
                    )
                }));
                continue;
            }
        };
        for parameter in in_region {
            if !existing.iter().any(|e| e.name == parameter.name) {
                continue;
            }
            let found = match ssm.owner_of(&parameter.name).await {
                Ok(found) => found,
                Err(error) => {
                    outcomes.push((
                        parameter.index,
                        ParameterOutcome::Failed(Problem::from(error), parameter.located()),
                    ));
                    continue;
                }
            };
            if let Err(note) = plan_parameter(&parameter.name, found.as_deref(), &parameter.owner) {
                outcomes.push((parameter.index, ParameterOutcome::LeftAlone(note)));
                continue;
            }
            let action = format!("delete SSM parameter {} in {region}", parameter.name);
            let outcome = if !engine.applies() {
                ParameterOutcome::Deleted(action)
            } else {
                match ssm.delete_parameter(&parameter.name).await {
                    Ok(()) => ParameterOutcome::Deleted(action),
                    Err(error) => {
                        ParameterOutcome::Failed(Problem::from(error), parameter.located())
                    }
                }
            };
            outcomes.push((parameter.index, outcome));
        }
    }
    outcomes
}

/// The distribution's own parameters: those `spec.ssmExport` names, and
/// those an earlier change could not delete yet (`status.exportedParameters`).
pub(super) fn distribution_parameters(desired: &DesiredDistribution) -> Vec<ParameterRef> {
    let owner = desired.owner.tag_value(OwnerKind::EdgeDistribution);
    record(&desired.declared_parameters(), &desired.exported_before)
        .into_iter()
        .map(|parameter| ParameterRef {
            index: 0,
            region: parameter.region,
            name: parameter.name,
            owner: owner.clone(),
        })
        .collect()
}
