//! What urlguard created is what it deletes: the decision on a leaving
//! URL's function URL config.
//!
//! urlguard records on the function, as a marker tag
//! ([`crate::model::lambda::url_config_marker_key`]), which
//! `ProtectedFunctionUrl` it created the URL config for. A leaving URL's
//! config is deleted only when all of these hold:
//! - the marker names this URL (or a URL that does not stay: see below);
//! - its `deletionPolicy` is `Delete`;
//! - no other live `ProtectedFunctionUrl` names the same function (and
//!   qualifier): its origin still uses the config;
//! - the URL itself is being deleted, not only its distribution.
//!
//! Otherwise the config stays as it is, on `AWS_IAM` (urlguard switched it
//! there when it adopted or created it), and the report says why
//! ([`Kept`]). When the config stays because another URL uses it and the
//! marker names the leaving URL, the marker is handed over to that URL, so
//! that the last one to leave deletes it. A marker whose config is gone
//! (a crash between tagging and creating: urlguard tags first) is removed
//! with the URL that it names.

use crate::api::{DeletionPolicy, FunctionRef};
use crate::model::lambda::{UrlConfig, url_config_marker_value};
use crate::model::names::Owner;

/// A `ProtectedFunctionUrl` that is not being deleted, and the function it
/// names: its origin uses that function's URL config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUser {
    /// The URL's owner.
    pub owner: Owner,
    /// The function it names.
    pub function: FunctionRef,
}

/// Why a leaving URL's config stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// `deletionPolicy: Retain`.
    Retained,
    /// The URL is not being deleted (only its distribution is).
    UrlStays,
    /// It existed before urlguard (no marker): urlguard adopted it.
    CreatedBeforeUrlguard,
    /// Another live URL names the function.
    StillUsedBy {
        /// That URL.
        user: Owner,
        /// The marker names the leaving URL: hand it over to `user`.
        hand_over: bool,
    },
    /// urlguard created it for another URL (the marker's value), which is
    /// the one to delete it.
    CreatedFor(String),
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::Retained => f.write_str("deletionPolicy Retain"),
            Kept::UrlStays => f.write_str("its ProtectedFunctionUrl is not being deleted"),
            Kept::CreatedBeforeUrlguard => f.write_str("created before urlguard"),
            Kept::StillUsedBy { user, .. } => {
                write!(f, "still used by {}/{}", user.namespace, user.name)
            }
            Kept::CreatedFor(creator) => write!(f, "created by urlguard for {creator}"),
        }
    }
}

/// What to do with a leaving URL's function URL config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlConfigStep {
    /// There is none; `unmark`: remove the marker naming this URL left by
    /// a create that never happened.
    Absent {
        /// Remove the marker.
        unmark: bool,
    },
    /// Delete it, then its marker.
    Delete,
    /// Leave it in place.
    Keep(Kept),
}

/// The leaving URL a config decision is about.
#[derive(Debug, Clone, Copy)]
pub struct LeavingConfig<'a> {
    /// The URL's owner.
    pub owner: &'a Owner,
    /// Its function.
    pub function: &'a FunctionRef,
    /// Its `deletionPolicy`.
    pub policy: DeletionPolicy,
    /// The config as read (`None`: the function has none).
    pub observed: Option<&'a UrlConfig>,
    /// The marker's value as read.
    pub creator: Option<&'a str>,
}

/// Plans a leaving URL's config, given the URLs that stay (`staying`: every
/// live `ProtectedFunctionUrl` the caller knows, the leaving one included
/// when only its distribution leaves).
pub fn plan_url_config(url: LeavingConfig<'_>, staying: &[FunctionUser]) -> UrlConfigStep {
    let mine = url.creator == Some(url_config_marker_value(url.owner).as_str());
    if url.observed.is_none() {
        return UrlConfigStep::Absent { unmark: mine };
    }
    if staying.iter().any(|s| &s.owner == url.owner) {
        return UrlConfigStep::Keep(Kept::UrlStays);
    }
    if let Some(user) = staying
        .iter()
        .filter(|s| same_function(&s.function, url.function))
        .map(|s| &s.owner)
        .min()
    {
        return UrlConfigStep::Keep(Kept::StillUsedBy {
            user: user.clone(),
            hand_over: mine,
        });
    }
    match url.creator {
        None => UrlConfigStep::Keep(Kept::CreatedBeforeUrlguard),
        Some(creator) if !mine => UrlConfigStep::Keep(Kept::CreatedFor(creator.to_owned())),
        Some(_) if url.policy == DeletionPolicy::Retain => UrlConfigStep::Keep(Kept::Retained),
        Some(_) => UrlConfigStep::Delete,
    }
}

/// Whether two references name the same function URL config: same
/// region, function name (a name or an ARN) and qualifier.
pub fn same_function(a: &FunctionRef, b: &FunctionRef) -> bool {
    identity(a) == identity(b)
}

/// (region, name, qualifier) of a reference, its name read out of an ARN.
fn identity(function: &FunctionRef) -> (&str, &str, Option<&str>) {
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME
    match function.name.split_once(":function:") {
        Some((prefix, name)) => (
            prefix.split(':').nth(3).unwrap_or(&function.region),
            name,
            function.qualifier.as_deref(),
        ),
        None => (
            function.region.as_str(),
            function.name.as_str(),
            function.qualifier.as_deref(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lambda::{AuthType, url_config_marker_value};

    fn owner(name: &str) -> Owner {
        Owner {
            instance: "urlguard".into(),
            namespace: "books".into(),
            name: name.into(),
        }
    }

    fn function(name: &str, qualifier: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.into(),
            region: "eu-west-1".into(),
            qualifier: qualifier.map(str::to_owned),
        }
    }

    fn config() -> UrlConfig {
        UrlConfig {
            function_url: "https://x.lambda-url.eu-west-1.on.aws/".into(),
            auth_type: AuthType::AwsIam,
            invoke_mode: crate::api::InvokeMode::Buffered,
            cors: None,
        }
    }

    fn user(name: &str, function_name: &str) -> FunctionUser {
        FunctionUser {
            owner: owner(name),
            function: function(function_name, None),
        }
    }

    /// Plans `a` leaving (function `f`) with `policy`, a config or none,
    /// and the marker `creator`.
    fn plan(
        policy: DeletionPolicy,
        present: bool,
        creator: Option<&str>,
        staying: &[FunctionUser],
    ) -> UrlConfigStep {
        let (a, f, observed) = (owner("a"), function("f", None), config());
        plan_url_config(
            LeavingConfig {
                owner: &a,
                function: &f,
                policy,
                observed: present.then_some(&observed),
                creator,
            },
            staying,
        )
    }

    #[test]
    fn created_by_urlguard_for_this_url_deleted_with_policy_delete() {
        let mine = url_config_marker_value(&owner("a"));
        assert_eq!(
            plan(DeletionPolicy::Delete, true, Some(&mine), &[]),
            UrlConfigStep::Delete
        );
        assert_eq!(
            plan(DeletionPolicy::Retain, true, Some(&mine), &[]),
            UrlConfigStep::Keep(Kept::Retained)
        );
    }

    #[test]
    fn a_config_that_existed_before_urlguard_stays() {
        for policy in [DeletionPolicy::Delete, DeletionPolicy::Retain] {
            assert_eq!(
                plan(policy, true, None, &[]),
                UrlConfigStep::Keep(Kept::CreatedBeforeUrlguard)
            );
        }
        assert_eq!(
            Kept::CreatedBeforeUrlguard.to_string(),
            "created before urlguard"
        );
    }

    #[test]
    fn a_config_another_live_url_uses_stays_and_the_marker_moves_to_it() {
        let mine = url_config_marker_value(&owner("a"));
        let staying = [user("z", "g"), user("c", "f"), user("b", "f")];
        assert_eq!(
            plan(DeletionPolicy::Delete, true, Some(&mine), &staying),
            UrlConfigStep::Keep(Kept::StillUsedBy {
                user: owner("b"),
                hand_over: true,
            })
        );
        assert_eq!(
            plan(DeletionPolicy::Delete, true, None, &staying),
            UrlConfigStep::Keep(Kept::StillUsedBy {
                user: owner("b"),
                hand_over: false,
            })
        );
        assert_eq!(
            Kept::StillUsedBy {
                user: owner("b"),
                hand_over: true
            }
            .to_string(),
            "still used by books/b"
        );
        // A URL of another function does not count.
        assert_eq!(
            plan(DeletionPolicy::Delete, true, Some(&mine), &[user("z", "g")]),
            UrlConfigStep::Delete
        );
    }

    #[test]
    fn a_url_that_stays_while_its_distribution_leaves_keeps_its_config() {
        let mine = url_config_marker_value(&owner("a"));
        assert_eq!(
            plan(DeletionPolicy::Delete, true, Some(&mine), &[user("a", "f")]),
            UrlConfigStep::Keep(Kept::UrlStays)
        );
    }

    #[test]
    fn a_config_created_for_another_url_is_left_to_it() {
        let other = url_config_marker_value(&owner("b"));
        assert_eq!(
            plan(DeletionPolicy::Delete, true, Some(&other), &[]),
            UrlConfigStep::Keep(Kept::CreatedFor(other.clone()))
        );
    }

    #[test]
    fn a_marker_without_a_config_is_removed_by_the_url_it_names() {
        let mine = url_config_marker_value(&owner("a"));
        assert_eq!(
            plan(DeletionPolicy::Delete, false, Some(&mine), &[]),
            UrlConfigStep::Absent { unmark: true }
        );
        assert_eq!(
            plan(DeletionPolicy::Delete, false, Some("someone"), &[]),
            UrlConfigStep::Absent { unmark: false }
        );
        assert_eq!(
            plan(DeletionPolicy::Retain, false, None, &[]),
            UrlConfigStep::Absent { unmark: false }
        );
    }

    #[test]
    fn functions_are_the_same_by_region_name_or_arn_and_qualifier() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:f";
        assert!(same_function(&function("f", None), &function(arn, None)));
        assert!(!same_function(
            &function("f", None),
            &function("f", Some("live"))
        ));
        assert!(same_function(
            &function("f", Some("live")),
            &function(arn, Some("live"))
        ));
        let mut elsewhere = function("f", None);
        elsewhere.region = "us-east-1".into();
        assert!(!same_function(&function("f", None), &elsewhere));
    }
}
