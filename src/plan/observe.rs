//! What a managed pass would change for an object that is observed, not
//! managed (`spec.managementPolicy: Observe`): its drift, found purely
//! from what the pass planned.
//!
//! An observed object's pass plans exactly as a managed one and writes
//! nothing; what it would have written is the drift. Most of it is the
//! object's own actions (its URL config, grants, parameters). Two parts
//! need working out here: a URL's route is part of its distribution's
//! configuration, so its drift is the part of the distribution's
//! difference that is its origin and behaviors ([`route_changes`]); and
//! the parameters an observed object no longer declares would be deleted
//! by a managed pass, while its record keeps them ([`stale_parameters`]).

use super::change::FieldChange;
use super::desired::DesiredUrl;
use super::ssm::stale;
use crate::api::ExportedParameter;
use crate::model::cloudfront::DistributionShape;
use crate::model::names::url_origin_id;

/// How many differences a drift message names before it counts the rest.
pub const NAMED_DIFFERENCES: usize = 12;

/// How long a value may be to be quoted in a drift message; a longer one
/// (a whole behavior) is only said to differ (`urlguard plan` prints it).
const QUOTED_VALUE: usize = 64;

/// The changes of `changes` (a distribution's difference, or what its
/// creation adds) that are `url`'s route: its origin, the behavior at its
/// path pattern, and any behavior `current` routes to its origin.
pub fn route_changes(
    changes: &[FieldChange],
    current: Option<&DistributionShape>,
    url: &DesiredUrl,
) -> Vec<FieldChange> {
    let origin_id = url_origin_id(&url.owner.name);
    let mut keys = vec![
        format!("origins[{origin_id}]"),
        format!("behaviors[{}]", url.spec.path_pattern),
    ];
    if let Some(current) = current {
        keys.extend(
            current
                .behaviors
                .iter()
                .filter(|b| b.target_origin_id == origin_id)
                .filter_map(|b| b.path_pattern.as_ref())
                .map(|path| format!("behaviors[{path}]")),
        );
    }
    changes
        .iter()
        .filter(|change| {
            keys.iter().any(|key| {
                change
                    .field
                    .strip_prefix(key.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
        })
        .cloned()
        .collect()
}

/// What a managed pass would delete of an object's record of exported
/// parameters (`status.exportedParameters`): those its spec no longer
/// declares, one line each.
pub fn stale_parameters(
    before: &[ExportedParameter],
    declared: &[ExportedParameter],
) -> Vec<String> {
    stale(before, declared)
        .into_iter()
        .map(|p| {
            format!(
                "delete SSM parameter {} in {}, no longer exported",
                p.name, p.region
            )
        })
        .collect()
}

/// One field change as a drift message names it: missing in AWS, not in
/// the spec, or both values when they are short.
pub fn difference(change: &FieldChange) -> String {
    let field = &change.field;
    let (before, after) = (change.before.as_str(), change.after.as_str());
    if before == NONE {
        format!("{field}: missing")
    } else if after == NONE {
        format!("{field}: not in the spec")
    } else if before.len() <= QUOTED_VALUE && after.len() <= QUOTED_VALUE {
        format!("{field}: {before} → {after}")
    } else {
        format!("{field}: differs")
    }
}

/// How a [`FieldChange`] shows an absent value.
const NONE: &str = "(none)";

/// The drift, for people: each difference, the first
/// [`NAMED_DIFFERENCES`] named and the rest counted; `None` when there is
/// none.
pub fn describe(differences: &[String]) -> Option<String> {
    if differences.is_empty() {
        return None;
    }
    let named = differences.len().min(NAMED_DIFFERENCES);
    let mut text = differences[..named].join("; ");
    if differences.len() > named {
        text.push_str(&format!("; and {} more", differences.len() - named));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::desired::build;
    use crate::plan::distribution::{RenderInputs, creation, diff, render};
    use crate::plan::fixtures::{distribution, url};

    fn inputs(names: &[&str]) -> RenderInputs {
        RenderInputs {
            url_hosts: names
                .iter()
                .map(|n| (n.to_string(), format!("{n}.lambda-url.eu-west-1.on.aws")))
                .collect(),
            s3_oac_id: Some("EOACS3".into()),
            signer_version_arn: Some("arn:aws:lambda:us-east-1:1:function:s:1".into()),
            ..RenderInputs::default()
        }
    }

    #[test]
    fn a_urls_route_changes_are_its_origin_and_its_behaviors_old_and_new() {
        let applied = build(
            "urlguard",
            &[distribution("books")],
            &[url("a", "books", "/a"), url("b", "books", "/b")],
        );
        let current = render(&applied.distributions[0], &inputs(&["a", "b"]));
        // `b` moved to /b2 in its spec, `a` lost a method: each URL sees
        // its own differences only.
        let mut moved = url("b", "books", "/b2");
        moved.spec.allowed_methods.pop();
        let mut fewer = url("a", "books", "/a");
        fewer.spec.allowed_methods.pop();
        let wanted = build("urlguard", &[distribution("books")], &[fewer, moved]);
        let desired = &wanted.distributions[0];
        let changes = diff(&current, &render(desired, &inputs(&["a", "b"])));
        let fields = |url: &DesiredUrl| -> Vec<String> {
            route_changes(&changes, Some(&current), url)
                .into_iter()
                .map(|c| c.field)
                .collect()
        };
        assert_eq!(fields(&desired.urls[0]), ["behaviors[/a]"]);
        assert_eq!(
            fields(&desired.urls[1]),
            ["behaviors[/b2]", "behaviors[/b]"],
            "the new path added, the old one removed"
        );

        // A distribution to create: each URL's behavior to add.
        let created = creation(&render(desired, &inputs(&["a", "b"])));
        let first = route_changes(&created, None, &desired.urls[0]);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].field, "behaviors[/a]");
        assert_eq!(first[0].before, "(none)");
    }

    #[test]
    fn a_longer_path_is_not_taken_for_the_urls_own() {
        let change = FieldChange::new("behaviors[/ab]", "(none)", "x");
        let model = build(
            "urlguard",
            &[distribution("books")],
            &[url("a", "books", "/a")],
        );
        assert!(route_changes(&[change], None, &model.distributions[0].urls[0]).is_empty());
    }

    #[test]
    fn stale_parameters_are_what_a_managed_pass_would_delete() {
        let parameter = |name: &str| ExportedParameter {
            region: "us-east-1".into(),
            name: name.into(),
        };
        assert_eq!(
            stale_parameters(
                &[parameter("/books/Old"), parameter("/books/Kept")],
                &[parameter("/books/Kept")]
            ),
            ["delete SSM parameter /books/Old in us-east-1, no longer exported"]
        );
        assert!(stale_parameters(&[], &[parameter("/books/New")]).is_empty());
    }

    #[test]
    fn a_difference_says_what_is_missing_extra_or_changed() {
        let said = |before: &str, after: &str| difference(&FieldChange::new("f", before, after));
        assert_eq!(said("(none)", "BehaviorShape { .. }"), "f: missing");
        assert_eq!(said("BehaviorShape { .. }", "(none)"), "f: not in the spec");
        assert_eq!(said("\"a\"", "\"b\""), "f: \"a\" → \"b\"");
        assert_eq!(said(&"x".repeat(65), "y"), "f: differs");
    }

    #[test]
    fn a_long_drift_names_the_first_differences_and_counts_the_rest() {
        assert_eq!(describe(&[]), None);
        let two = [
            "create function URL config (AWS_IAM)".to_owned(),
            "x".to_owned(),
        ];
        assert_eq!(
            describe(&two).as_deref(),
            Some("create function URL config (AWS_IAM); x")
        );
        let many: Vec<String> = (0..15).map(|i| format!("d{i}")).collect();
        let text = describe(&many).expect("drift");
        assert!(text.ends_with("d11; and 3 more"), "{text}");
    }
}
