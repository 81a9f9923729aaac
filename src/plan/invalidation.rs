//! A distribution's invalidation (`spec.invalidation`): which one the spec
//! asks for, where a pass looks for it, and the status it reports.
//!
//! One invalidation per revision, never two: its `CallerReference` derives
//! from the owner and the revision
//! ([`Owner::invalidation_caller_reference`]), and a pass creates it only
//! after looking for it. The look starts from the status (the id recorded
//! for this revision: nothing to call once `Completed`, one
//! `GetInvalidation` before), otherwise (a manifest, a new revision, a
//! status lost in a crash) reads the distribution's newest invalidations,
//! at most [`LOOKUP_DEPTH`], each by `GetInvalidation`, since
//! `ListInvalidations` does not report the `CallerReference`. What the
//! look misses (more than [`LOOKUP_DEPTH`] invalidations made since, or a
//! second writer between the look and the create) CloudFront still
//! catches: a `CreateInvalidation` with a known `CallerReference` and the
//! same paths answers the existing invalidation.
//!
//! The revision is the trigger: paths changed under the same revision make
//! no new invalidation (the one of the revision exists); a create that
//! meets the revision's reference with other paths is refused by
//! CloudFront (`InvalidationBatchAlreadyExists`) and reported against
//! `spec.invalidation.revision`.

use crate::api::{Invalidation, InvalidationStatus};
use crate::model::cloudfront::{INVALIDATION_COMPLETED, InvalidationObserved};
use crate::model::names::Owner;

/// How many of a distribution's newest invalidations a pass reads when the
/// status does not name the revision's.
pub const LOOKUP_DEPTH: i32 = 10;

/// The invalidation the spec asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredInvalidation {
    /// `spec.invalidation.revision`.
    pub revision: String,
    /// `spec.invalidation.paths`.
    pub paths: Vec<String>,
    /// The `CallerReference` derived from the owner and the revision.
    pub caller_reference: String,
}

impl DesiredInvalidation {
    /// The invalidation of `spec` for `owner`.
    pub fn of(owner: &Owner, spec: &Invalidation) -> DesiredInvalidation {
        DesiredInvalidation {
            revision: spec.revision.clone(),
            paths: spec.paths.clone(),
            caller_reference: owner.invalidation_caller_reference(&spec.revision),
        }
    }

    /// Whether `observed` is this invalidation (by its `CallerReference`).
    pub fn is(&self, observed: &InvalidationObserved) -> bool {
        observed.caller_reference == self.caller_reference
    }

    /// The status to report for `observed`.
    pub fn status(&self, observed: &InvalidationObserved) -> InvalidationStatus {
        InvalidationStatus {
            revision: self.revision.clone(),
            id: Some(observed.id.clone()),
            status: Some(observed.status.clone()),
        }
    }
}

/// Where a pass finds the revision's invalidation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The status says it is completed: nothing to call, nothing to do.
    Completed(InvalidationStatus),
    /// The status names it, not completed yet: read it by id.
    Recorded(String),
    /// Not recorded: read the newest invalidations.
    Search,
}

/// Where to look for `desired`, given what the status recorded.
pub fn lookup(desired: &DesiredInvalidation, recorded: Option<&InvalidationStatus>) -> Lookup {
    match recorded {
        Some(r) if r.revision == desired.revision => match (&r.id, r.status.as_deref()) {
            (Some(_), Some(INVALIDATION_COMPLETED)) => Lookup::Completed(r.clone()),
            (Some(id), _) => Lookup::Recorded(id.clone()),
            (None, _) => Lookup::Search,
        },
        _ => Lookup::Search,
    }
}

/// The most paths one invalidation may list (CloudFront's quota of paths
/// in progress per distribution).
pub const MAX_PATHS: usize = 3000;
/// The longest revision.
pub const MAX_REVISION: usize = 128;

/// An invalidation given on the command line that CloudFront (and the
/// schema of `spec.invalidation`) would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidationInputError {
    /// No path, or more than [`MAX_PATHS`].
    #[error("--paths: give 1 to {MAX_PATHS} paths, not {0}")]
    PathCount(usize),
    /// A path that does not start with `/` or has `*` before its end.
    #[error(
        "--paths[{index}]: {path:?}: a path starts with / and may hold * only as its last character"
    )]
    Path {
        /// Its position among the `--paths`.
        index: usize,
        /// The path.
        path: String,
    },
    /// An empty or over-long revision.
    #[error("--revision: give 1 to {MAX_REVISION} characters")]
    Revision,
}

/// Checks an invalidation given on the command line by the rules the
/// schema applies to `spec.invalidation`.
pub fn check_input(paths: &[String], revision: &str) -> Result<(), InvalidationInputError> {
    if paths.is_empty() || paths.len() > MAX_PATHS {
        return Err(InvalidationInputError::PathCount(paths.len()));
    }
    if let Some((index, path)) = paths.iter().enumerate().find(|(_, p)| {
        !p.starts_with('/') || p.trim_end_matches('*').contains('*') || p.ends_with("**")
    }) {
        return Err(InvalidationInputError::Path {
            index,
            path: path.clone(),
        });
    }
    if revision.is_empty() || revision.chars().count() > MAX_REVISION {
        return Err(InvalidationInputError::Revision);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(revision: &str) -> DesiredInvalidation {
        let owner = Owner {
            instance: "urlguard".into(),
            namespace: "books".into(),
            name: "books".into(),
        };
        DesiredInvalidation::of(
            &owner,
            &Invalidation {
                paths: vec!["/index.html".into()],
                revision: revision.into(),
            },
        )
    }

    fn recorded(revision: &str, id: Option<&str>, status: Option<&str>) -> InvalidationStatus {
        InvalidationStatus {
            revision: revision.into(),
            id: id.map(str::to_owned),
            status: status.map(str::to_owned),
        }
    }

    #[test]
    fn command_line_input_follows_the_schemas_rules() {
        let paths = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(check_input(&paths(&["/a", "/b/*", "/*"]), "r"), Ok(()));
        assert_eq!(
            check_input(&paths(&["/a", "b"]), "r"),
            Err(InvalidationInputError::Path {
                index: 1,
                path: "b".into()
            })
        );
        for bad in ["/a*/b", "/**", "/*.js"] {
            assert!(check_input(&paths(&[bad]), "r").is_err(), "{bad}");
        }
        assert_eq!(
            check_input(&[], "r"),
            Err(InvalidationInputError::PathCount(0))
        );
        assert_eq!(
            check_input(&paths(&["/a"]), ""),
            Err(InvalidationInputError::Revision)
        );
        assert_eq!(
            check_input(&paths(&["/a"]), &"r".repeat(129)),
            Err(InvalidationInputError::Revision)
        );
    }

    #[test]
    fn a_completed_invalidation_of_the_revision_costs_no_call() {
        let done = recorded("r1", Some("I1"), Some("Completed"));
        assert_eq!(
            lookup(&desired("r1"), Some(&done)),
            Lookup::Completed(done.clone())
        );
    }

    #[test]
    fn one_in_progress_is_read_by_id() {
        let running = recorded("r1", Some("I1"), Some("InProgress"));
        assert_eq!(
            lookup(&desired("r1"), Some(&running)),
            Lookup::Recorded("I1".into())
        );
    }

    #[test]
    fn a_new_revision_or_no_record_searches() {
        let done = recorded("r1", Some("I1"), Some("Completed"));
        assert_eq!(lookup(&desired("r2"), Some(&done)), Lookup::Search);
        assert_eq!(lookup(&desired("r1"), None), Lookup::Search);
        assert_eq!(
            lookup(&desired("r1"), Some(&recorded("r1", None, None))),
            Lookup::Search
        );
    }

    #[test]
    fn the_invalidation_is_recognized_by_its_caller_reference() {
        let wanted = desired("r1");
        let observed = InvalidationObserved {
            id: "I1".into(),
            status: "InProgress".into(),
            caller_reference: wanted.caller_reference.clone(),
            paths: vec!["/other".into()],
        };
        assert!(wanted.is(&observed));
        assert!(!desired("r2").is(&observed));
        assert_eq!(
            wanted.status(&observed),
            recorded("r1", Some("I1"), Some("InProgress"))
        );
    }
}
