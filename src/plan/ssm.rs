//! SSM parameters: write the ones that are missing or hold another value,
//! and find the ones written earlier that are no longer declared.
//! Ownership is checked by the caller before an overwrite or a delete: a
//! parameter with urlguard's name but without its owner tag is never
//! changed.

use crate::api::ExportedParameter;
use crate::model::ssm::{DesiredParameter, ParameterObserved};

/// The parameters `before` (what the object's status says urlguard wrote)
/// lists that `declared` no longer does: renamed, moved to another region,
/// or no longer exported. Deleting them (owner-tagged ones only) is what
/// keeps a change from orphaning them.
pub fn stale(
    before: &[ExportedParameter],
    declared: &[ExportedParameter],
) -> Vec<ExportedParameter> {
    let mut stale: Vec<ExportedParameter> = before
        .iter()
        .filter(|old| !declared.contains(old))
        .cloned()
        .collect();
    stale.sort();
    stale.dedup();
    stale
}

/// The record to keep after a pass: what is declared, and the stale
/// parameters `remaining` that could not be deleted yet (so the next pass
/// tries again).
pub fn record(
    declared: &[ExportedParameter],
    remaining: &[ExportedParameter],
) -> Vec<ExportedParameter> {
    let mut record = declared.to_vec();
    record.extend(remaining.iter().filter(|p| !declared.contains(p)).cloned());
    record
}

/// What to do with one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterAction {
    /// It does not exist: create it with the owner tag.
    Create(DesiredParameter),
    /// It holds `before`: overwrite (after checking the owner tag).
    Overwrite {
        /// The desired parameter.
        parameter: DesiredParameter,
        /// The value found.
        before: String,
    },
}

/// Plans parameters of one region.
pub fn plan(desired: &[DesiredParameter], observed: &[ParameterObserved]) -> Vec<ParameterAction> {
    desired
        .iter()
        .filter_map(|want| match observed.iter().find(|o| o.name == want.name) {
            None => Some(ParameterAction::Create(want.clone())),
            Some(found) if found.value != want.value => Some(ParameterAction::Overwrite {
                parameter: want.clone(),
                before: found.value.clone(),
            }),
            Some(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(name: &str, value: &str) -> DesiredParameter {
        DesiredParameter {
            region: "us-east-1".into(),
            name: name.into(),
            value: value.into(),
            owner: "urlguard/books/ProtectedFunctionUrl/get-books".into(),
        }
    }

    fn found(name: &str, value: &str) -> ParameterObserved {
        ParameterObserved {
            name: name.into(),
            value: value.into(),
        }
    }

    fn at(region: &str, name: &str) -> ExportedParameter {
        ExportedParameter {
            region: region.into(),
            name: name.into(),
        }
    }

    #[test]
    fn stale_parameters_are_the_recorded_ones_no_longer_declared() {
        let before = [at("us-east-1", "/books/Url"), at("us-east-1", "/books/Arn")];
        assert_eq!(stale(&before, &before), vec![], "nothing changed");
        let renamed = [
            at("us-east-1", "/books/NewUrl"),
            at("us-east-1", "/books/Arn"),
        ];
        assert_eq!(
            stale(&before, &renamed),
            vec![at("us-east-1", "/books/Url")]
        );
        let moved = [at("eu-west-1", "/books/Url"), at("eu-west-1", "/books/Arn")];
        assert_eq!(
            stale(&before, &moved),
            vec![at("us-east-1", "/books/Arn"), at("us-east-1", "/books/Url")],
            "the same names in another region"
        );
        assert_eq!(stale(&before, &[]).len(), 2, "no longer exported");
        assert_eq!(stale(&[], &moved), vec![], "no record (a file): nothing");
    }

    #[test]
    fn the_record_keeps_what_could_not_be_deleted_yet() {
        let declared = [at("eu-west-1", "/books/Url")];
        let failed = [at("us-east-1", "/books/Url")];
        assert_eq!(
            record(&declared, &failed),
            vec![at("eu-west-1", "/books/Url"), at("us-east-1", "/books/Url")]
        );
        assert_eq!(record(&declared, &declared), declared.to_vec());
        assert_eq!(record(&[], &[]), vec![]);
    }

    #[test]
    fn table() {
        let desired = [want("/a", "1"), want("/b", "2"), want("/c", "3")];
        let observed = [found("/b", "2"), found("/c", "changed out of band")];
        assert_eq!(
            plan(&desired, &observed),
            vec![
                ParameterAction::Create(want("/a", "1")),
                ParameterAction::Overwrite {
                    parameter: want("/c", "3"),
                    before: "changed out of band".into()
                },
            ]
        );
        assert_eq!(plan(&desired[1..2], &observed), vec![]);
    }
}
