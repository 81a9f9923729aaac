//! No orphans on change: the SSM parameters an object's status says
//! urlguard wrote (`status.exportedParameters`) but its spec no longer
//! declares — renamed, moved to another region, no longer exported — are
//! deleted after the declared ones are written, and only when they carry
//! the object's owner tag (the policy allows no other delete). A parameter
//! of that name without the tag is left alone and said.
//!
//! The record comes from the status, so it costs no AWS call: when nothing
//! changed there is nothing stale and this step makes no call. A manifest
//! file has no status, so the CLI has no record (see `docs/design.md`).
//! An object whose pass failed keeps its old record with the new names
//! added, and the next pass tries again.

use super::engine::Engine;
use super::problem::Problem;
use super::teardown::parameters::{ParameterOutcome, ParameterRef, delete_parameters};
use crate::api::ExportedParameter;
use crate::model::names::{Owner, OwnerKind};
use crate::plan::desired::DesiredDistribution;
use crate::plan::ssm::{record, stale};

/// One object's side of the step: what it declares, what its status
/// recorded, and whether its pass got as far as writing its parameters.
pub(super) struct Exporter<'a> {
    pub owner: &'a Owner,
    pub kind: OwnerKind,
    pub declared: Vec<ExportedParameter>,
    pub before: &'a [ExportedParameter],
    pub written: bool,
}

/// What the step did for one object.
#[derive(Debug, Default)]
pub(super) struct Retired {
    /// The record to report (`status.exportedParameters`).
    pub record: Vec<ExportedParameter>,
    pub actions: Vec<String>,
    pub problem: Option<Problem>,
}

/// The record of an object whose pass did not get as far as its
/// parameters: the old one with the declared names added, so nothing is
/// forgotten.
pub(super) fn unchanged(
    declared: &[ExportedParameter],
    before: &[ExportedParameter],
) -> Vec<ExportedParameter> {
    record(declared, before)
}

/// Deletes the stale parameters of every exporter whose pass wrote its
/// own; returns, per exporter in order, its record and what was done.
pub(super) async fn retire(engine: &Engine, exporters: &[Exporter<'_>]) -> Vec<Retired> {
    let mut stale_of: Vec<Vec<ExportedParameter>> = Vec::with_capacity(exporters.len());
    let mut refs = Vec::new();
    for exporter in exporters {
        let stale = if exporter.written {
            stale(exporter.before, &exporter.declared)
        } else {
            Vec::new()
        };
        for parameter in &stale {
            refs.push(ParameterRef {
                index: refs.len(),
                region: parameter.region.clone(),
                name: parameter.name.clone(),
                owner: exporter.owner.tag_value(exporter.kind),
            });
        }
        stale_of.push(stale);
    }
    let mut outcomes: Vec<Option<ParameterOutcome>> = (0..refs.len()).map(|_| None).collect();
    for (index, outcome) in delete_parameters(engine, &refs).await {
        outcomes[index] = Some(outcome);
    }
    let mut outcomes = outcomes.into_iter();
    exporters
        .iter()
        .zip(stale_of)
        .map(|(exporter, stale)| {
            if !exporter.written {
                return Retired {
                    record: unchanged(&exporter.declared, exporter.before),
                    ..Retired::default()
                };
            }
            let mut retired = Retired::default();
            let mut remaining = Vec::new();
            for (parameter, outcome) in stale.into_iter().zip(outcomes.by_ref()) {
                match outcome {
                    // Gone already.
                    None => {}
                    Some(ParameterOutcome::Deleted(action)) => {
                        retired
                            .actions
                            .push(format!("{action}, no longer exported"));
                    }
                    Some(ParameterOutcome::LeftAlone(note)) => {
                        retired.actions.push(format!("left alone: {note}"));
                    }
                    Some(ParameterOutcome::Failed(problem, _)) => {
                        retired.problem.get_or_insert(problem);
                        remaining.push(parameter);
                    }
                }
            }
            retired.record = record(&exporter.declared, &remaining);
            retired
        })
        .collect()
}

/// The distribution as an exporter.
pub(super) fn of_distribution(desired: &DesiredDistribution, written: bool) -> Exporter<'_> {
    Exporter {
        owner: &desired.owner,
        kind: OwnerKind::EdgeDistribution,
        declared: desired.declared_parameters(),
        before: &desired.exported_before,
        written,
    }
}
