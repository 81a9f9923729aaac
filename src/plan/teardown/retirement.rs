//! Signer versions retired by an update (no longer associated): they are
//! deleted one by one after a successful apply, never `$LATEST` and never the
//! one in use; a version this very run took out of the distribution is not
//! even tried (its replicas stay for hours), only listed.

use crate::model::lambda::FunctionVersion;

/// Signer versions no longer associated, after an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retirement {
    /// Versions no configuration references any more: try deleting them.
    pub delete_now: Vec<FunctionVersion>,
    /// Versions this run's update took out of the distribution: CloudFront
    /// keeps their replicas for hours, so they are only listed.
    pub just_retired: Vec<FunctionVersion>,
}

/// Sorts the signer's numbered versions that are no longer in use.
/// `referenced_before` are the version ARNs the distribution associated
/// when this run read it (before its update, if any).
pub fn plan_retirement(
    versions: &[FunctionVersion],
    in_use: &str,
    referenced_before: &[String],
) -> Retirement {
    let mut retirement = Retirement::default();
    for version in versions.iter().filter(|v| v.number().is_some()) {
        if version.arn == in_use {
            continue;
        }
        if referenced_before.contains(&version.arn) {
            retirement.just_retired.push(version.clone());
        } else {
            retirement.delete_now.push(version.clone());
        }
    }
    retirement
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::teardown::fixtures::{V1, V2, version};

    #[test]
    fn retired_versions_are_sorted_by_whether_this_run_retired_them() {
        let versions = [version("$LATEST"), version("1"), version("2"), version("3")];
        /// name, version in use, referenced before, delete now, just retired.
        type Case = (
            &'static str,
            &'static str,
            Vec<String>,
            Vec<&'static str>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            ("steady state", V1, vec![V1.into()], vec!["2", "3"], vec![]),
            (
                "this run moved from 1 to 3",
                "arn:aws:lambda:us-east-1:123456789012:function:s:3",
                vec![V1.into()],
                vec!["2"],
                vec!["1"],
            ),
            (
                "nothing associated before (a new distribution)",
                V2,
                vec![],
                vec!["1", "3"],
                vec![],
            ),
        ];
        for (name, in_use, before, delete_now, just_retired) in cases {
            let plan = plan_retirement(&versions, in_use, &before);
            let numbers =
                |v: &[FunctionVersion]| v.iter().map(|v| v.version.clone()).collect::<Vec<_>>();
            assert_eq!(numbers(&plan.delete_now), delete_now, "{name}");
            assert_eq!(numbers(&plan.just_retired), just_retired, "{name}");
        }
        let only = [version("$LATEST"), version("1")];
        assert_eq!(
            plan_retirement(&only, V1, &[V1.into()]),
            Retirement::default()
        );
    }
}
