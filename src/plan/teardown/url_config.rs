//! What urlguard created is what it deletes: the decision on a leaving
//! URL's function URL config.
//!
//! Before urlguard creates a URL config it tags the function with the
//! created marker ([`crate::model::lambda::created_marker_key`]); when it
//! adopts a config that existed before it and was open (`NONE`), or that
//! appeared between its read and its create, it tags the adopted marker
//! ([`crate::model::lambda::adopted_marker_key`]) before switching it to
//! `AWS_IAM`. A leaving URL's config is deleted only when all of these
//! hold:
//! - it carries a created marker of the instance (any URL of the instance:
//!   URLs naming one function share its config, and the one that created
//!   it may have left first) and no adopted marker;
//! - its `deletionPolicy` is `Delete`;
//! - no other live `ProtectedFunctionUrl` names the same function (region,
//!   name and qualifier): its origin still uses the config;
//! - the URL itself is being deleted, not only its distribution.
//!
//! Otherwise the config stays as it is, on `AWS_IAM`, and the report says
//! why ([`Kept`]). A config urlguard deleted loses its created marker with
//! it (one `UntagResource`): a config someone creates by hand later is not
//! urlguard's. A crash between the delete and the untag leaves a marker
//! without a config: the next pass removes it ([`UrlConfigStep::Unmark`]).
//! An adopted config keeps its marker when its last urlguard URL leaves:
//! without it, any later teardown pass of the same URL (the next pass
//! while CloudFront deploys or edge replicas go, a crash before the
//! finalizer is removed, a second `urlguard destroy`) would find an
//! unmarked config and, were the created marker there, delete what it has
//! just left in place. Configs created by urlguard versions before the
//! created marker carry none: they are left in place, the safe side.
use crate::api::{DeletionPolicy, FunctionRef};
use crate::model::lambda::UrlConfig;
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
    /// It existed before urlguard (the adopted marker is on the function).
    CreatedBeforeUrlguard,
    /// urlguard did not create it: the function carries no created marker
    /// of the instance (the config existed before urlguard, already on
    /// `AWS_IAM`, or a urlguard version before the marker created it).
    NotCreatedByUrlguard,
    /// Another live URL names the function.
    StillUsedBy(Owner),
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::Retained => f.write_str("deletionPolicy Retain"),
            Kept::UrlStays => f.write_str("its ProtectedFunctionUrl is not being deleted"),
            Kept::CreatedBeforeUrlguard => f.write_str("created before urlguard"),
            Kept::NotCreatedByUrlguard => f.write_str(
                "not created by urlguard (the function has no urlguard.io/created-url-config tag)",
            ),
            Kept::StillUsedBy(user) => {
                write!(f, "still used by {}/{}", user.namespace, user.name)
            }
        }
    }
}

/// What to do with a leaving URL's function URL config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlConfigStep {
    /// There is none.
    Absent,
    /// There is none, but the created marker still says urlguard's: remove
    /// the marker (a crash after the delete, before the untag).
    Unmark,
    /// Delete it, then remove the created marker.
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
    /// Whether the function carries the adopted marker for its qualifier.
    pub adopted: bool,
    /// Whether the function carries a created marker of the instance for
    /// its qualifier.
    pub created: bool,
}

/// Plans a leaving URL's config, given the URLs that stay (`staying`: every
/// live `ProtectedFunctionUrl` the caller knows, the leaving one included
/// when only its distribution leaves).
pub fn plan_url_config(url: LeavingConfig<'_>, staying: &[FunctionUser]) -> UrlConfigStep {
    let url_stays = staying.iter().any(|s| &s.owner == url.owner);
    let user = staying
        .iter()
        .filter(|s| &s.owner != url.owner && same_function(&s.function, url.function))
        .map(|s| &s.owner)
        .min();
    if url.observed.is_none() {
        return if url.created && !url_stays && user.is_none() {
            UrlConfigStep::Unmark
        } else {
            UrlConfigStep::Absent
        };
    }
    let why = if url_stays {
        Kept::UrlStays
    } else if let Some(user) = user {
        Kept::StillUsedBy(user.clone())
    } else if url.adopted {
        Kept::CreatedBeforeUrlguard
    } else if !url.created {
        Kept::NotCreatedByUrlguard
    } else if url.policy == DeletionPolicy::Retain {
        Kept::Retained
    } else {
        return UrlConfigStep::Delete;
    };
    UrlConfigStep::Keep(why)
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
    use crate::model::lambda::AuthType;

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
    /// the adopted marker or not, and the created marker.
    fn plan(
        policy: DeletionPolicy,
        present: bool,
        adopted: bool,
        staying: &[FunctionUser],
    ) -> UrlConfigStep {
        plan_marked(policy, present, adopted, true, staying)
    }

    fn plan_marked(
        policy: DeletionPolicy,
        present: bool,
        adopted: bool,
        created: bool,
        staying: &[FunctionUser],
    ) -> UrlConfigStep {
        let (a, f, observed) = (owner("a"), function("f", None), config());
        plan_url_config(
            LeavingConfig {
                owner: &a,
                function: &f,
                policy,
                observed: present.then_some(&observed),
                adopted,
                created,
            },
            staying,
        )
    }

    fn keep(why: Kept) -> UrlConfigStep {
        UrlConfigStep::Keep(why)
    }

    #[test]
    fn a_config_without_the_created_marker_stays_whatever_the_policy() {
        for policy in [DeletionPolicy::Delete, DeletionPolicy::Retain] {
            assert_eq!(
                plan_marked(policy, true, false, false, &[]),
                keep(Kept::NotCreatedByUrlguard)
            );
        }
        // Adopted (the conflict on create, after the created marker went
        // on): the adopted marker wins.
        assert_eq!(
            plan_marked(DeletionPolicy::Delete, true, true, true, &[]),
            keep(Kept::CreatedBeforeUrlguard)
        );
    }

    #[test]
    fn a_created_marker_without_a_config_is_removed_unless_the_function_is_still_used() {
        assert_eq!(
            plan_marked(DeletionPolicy::Delete, false, false, true, &[]),
            UrlConfigStep::Unmark
        );
        assert_eq!(
            plan_marked(DeletionPolicy::Delete, false, false, false, &[]),
            UrlConfigStep::Absent
        );
        assert_eq!(
            plan_marked(
                DeletionPolicy::Delete,
                false,
                false,
                true,
                &[user("b", "f")]
            ),
            UrlConfigStep::Absent,
            "b may create the config under that marker"
        );
        assert_eq!(
            plan_marked(
                DeletionPolicy::Delete,
                false,
                false,
                true,
                &[user("a", "f")]
            ),
            UrlConfigStep::Absent
        );
    }

    #[test]
    fn a_created_config_is_deleted_with_policy_delete() {
        assert_eq!(
            plan(DeletionPolicy::Delete, true, false, &[]),
            UrlConfigStep::Delete
        );
        assert_eq!(
            plan(DeletionPolicy::Retain, true, false, &[]),
            keep(Kept::Retained)
        );
    }

    #[test]
    fn an_adopted_config_stays_whatever_the_policy() {
        for policy in [DeletionPolicy::Delete, DeletionPolicy::Retain] {
            assert_eq!(
                plan(policy, true, true, &[]),
                keep(Kept::CreatedBeforeUrlguard)
            );
        }
        assert_eq!(
            Kept::CreatedBeforeUrlguard.to_string(),
            "created before urlguard"
        );
        // Another URL still uses it.
        assert_eq!(
            plan(DeletionPolicy::Delete, true, true, &[user("b", "f")]),
            keep(Kept::StillUsedBy(owner("b")))
        );
    }

    #[test]
    fn a_config_another_live_url_uses_stays() {
        let staying = [user("z", "g"), user("c", "f"), user("b", "f")];
        assert_eq!(
            plan(DeletionPolicy::Delete, true, false, &staying),
            keep(Kept::StillUsedBy(owner("b")))
        );
        assert_eq!(
            Kept::StillUsedBy(owner("b")).to_string(),
            "still used by books/b"
        );
        // A URL of another function does not count.
        assert_eq!(
            plan(DeletionPolicy::Delete, true, false, &[user("z", "g")]),
            UrlConfigStep::Delete
        );
    }

    #[test]
    fn a_url_that_stays_while_its_distribution_leaves_keeps_its_config() {
        assert_eq!(
            plan(DeletionPolicy::Delete, true, false, &[user("a", "f")]),
            keep(Kept::UrlStays)
        );
        assert_eq!(
            plan(DeletionPolicy::Delete, true, true, &[user("a", "f")]),
            keep(Kept::UrlStays)
        );
    }

    #[test]
    fn without_a_config_or_marker_there_is_nothing_to_do() {
        for adopted in [false, true] {
            assert_eq!(
                plan_marked(DeletionPolicy::Delete, false, adopted, false, &[]),
                UrlConfigStep::Absent
            );
        }
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
