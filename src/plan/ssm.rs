//! SSM parameters: write the ones that are missing or hold another value.
//! Ownership is checked by the caller before an overwrite: a parameter with
//! urlguard's name but without its owner tag is never changed.

use crate::model::ssm::{DesiredParameter, ParameterObserved};

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
