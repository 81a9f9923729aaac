//! Deciding, without I/O, what to do with an object's ConfigMap: whether
//! the ConfigMap found under the declared name is the object's (it carries
//! an `ownerReference` to the object's uid with `controller: true`), the
//! ConfigMap urlguard applies, whether the one found already holds it (so
//! a resync writes nothing), and which recorded ConfigMaps the spec no
//! longer declares.
//!
//! Ownership is by uid, never by name: a tenant may point
//! `spec.configMapExport.name` at any ConfigMap of the namespace, and one
//! this object does not own is refused, not overwritten. One left by a
//! deleted object of the same name carries the old uid: the garbage
//! collector takes it, and a later pass writes the new one.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::Value;

use super::outputs::Learnt;

/// The label on every ConfigMap urlguard writes, to find them:
/// `kubectl get configmap -l app.kubernetes.io/managed-by=urlguard`.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "urlguard");

/// The object a ConfigMap is exported for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// `urlguard.io/v1alpha1`.
    pub api_version: String,
    /// `EdgeDistribution` or `ProtectedFunctionUrl`.
    pub kind: String,
    /// The object's namespace (the ConfigMap's too).
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// The object's uid.
    pub uid: String,
}

impl Owner {
    /// The reference the ConfigMap carries: the object is its controller,
    /// so the garbage collector deletes the ConfigMap with it, and a
    /// foreground deletion of the object waits for it.
    pub fn reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// Whether the object is `config_map`'s controller.
    pub fn owns(&self, config_map: &ConfigMap) -> bool {
        references(config_map).any(|r| r.uid == self.uid && r.controller == Some(true))
    }
}

fn references(config_map: &ConfigMap) -> impl Iterator<Item = &OwnerReference> {
    config_map.metadata.owner_references.iter().flatten()
}

/// What to do with the declared ConfigMap.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// It already holds what urlguard would apply: no write.
    UpToDate,
    /// Apply `config_map` by server-side apply. `force` only when the
    /// ConfigMap found is the object's: then a key someone else changed
    /// is taken back; a new one is applied without it, so an apply that
    /// meets a ConfigMap created meanwhile fails on any key it shares.
    Apply {
        /// The applied configuration (boxed: a ConfigMap is large beside
        /// the other steps).
        config_map: Box<ConfigMap>,
        /// Take fields other managers hold.
        force: bool,
    },
    /// A ConfigMap of that name exists and is not the object's: left
    /// alone, and said (`ConfigMapNotOwned`).
    Refuse {
        /// Why, naming `spec.configMapExport.name`.
        message: String,
    },
}

/// What to do with ConfigMap `name` for `owner`, holding what the pass
/// `learnt`, given the ConfigMap `found` under that name (if any) and the
/// field manager urlguard applies with.
pub fn step(
    owner: &Owner,
    name: &str,
    learnt: &Learnt,
    found: Option<&ConfigMap>,
    manager: &str,
) -> Step {
    let Some(found) = found else {
        return Step::Apply {
            config_map: Box::new(applied(owner, name, learnt.data(&BTreeMap::new()))),
            force: false,
        };
    };
    if !owner.owns(found) {
        return Step::Refuse {
            message: refusal(owner, name, found),
        };
    }
    let current = found.data.clone().unwrap_or_default();
    let config_map = applied(owner, name, learnt.data(&current));
    if holds(found, &config_map, manager) {
        Step::UpToDate
    } else {
        Step::Apply {
            config_map: Box::new(config_map),
            force: true,
        }
    }
}

/// The configuration urlguard applies: the name, its label, the owner
/// reference and `data`. Nothing else, so that server-side apply leaves
/// what others add (an annotation, a key) alone.
fn applied(owner: &Owner, name: &str, data: BTreeMap<String, String>) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(owner.namespace.clone()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_owned(),
                MANAGED_BY.1.to_owned(),
            )])),
            owner_references: Some(vec![owner.reference()]),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// Whether `found` already holds `applied`: the label, the owner
/// reference, every key with its value, and no key urlguard applied
/// before and would now remove (from `manager`'s apply in
/// `managedFields`).
fn holds(found: &ConfigMap, applied: &ConfigMap, manager: &str) -> bool {
    let labelled = found
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(MANAGED_BY.0))
        .is_some_and(|value| value == MANAGED_BY.1);
    let referenced = applied
        .metadata
        .owner_references
        .iter()
        .flatten()
        .all(|wanted| references(found).any(|r| r == wanted));
    let data = applied.data.clone().unwrap_or_default();
    let current = found.data.clone().unwrap_or_default();
    let applied_before = applied_keys(found, manager);
    let values = data
        .iter()
        .all(|(key, value)| current.get(key) == Some(value) && applied_before.contains(key));
    let no_leftovers = applied_before.iter().all(|key| data.contains_key(key));
    labelled && referenced && values && no_leftovers
}

/// The `data` keys `manager`'s server-side apply holds (its `Apply`
/// entry's `f:data` in `managedFields`).
fn applied_keys(found: &ConfigMap, manager: &str) -> BTreeSet<String> {
    found
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|entry| {
            entry.manager.as_deref() == Some(manager)
                && entry.operation.as_deref() == Some("Apply")
                && entry.subresource.as_deref().unwrap_or_default().is_empty()
        })
        .filter_map(|entry| entry.fields_v1.as_ref())
        .filter_map(|fields| fields.0.get("f:data").and_then(Value::as_object))
        .flat_map(|data| data.keys())
        .filter_map(|key| key.strip_prefix("f:"))
        .map(str::to_owned)
        .collect()
}

/// Why `found` is not overwritten.
fn refusal(owner: &Owner, name: &str, found: &ConfigMap) -> String {
    let controller = references(found)
        .find(|r| r.controller == Some(true))
        .map_or_else(
            || "it has no controller".to_owned(),
            |r| format!("its controller is {} {}", r.kind, r.name),
        );
    format!(
        "spec.configMapExport.name: ConfigMap {}/{name} exists and is not this {}'s ({controller}); urlguard leaves it alone: name another ConfigMap, or delete that one",
        owner.namespace, owner.kind
    )
}

/// The recorded ConfigMaps the spec no longer declares (`declared`, if
/// any): deleted when the object owns them.
pub fn stale(record: &[String], declared: Option<&str>) -> Vec<String> {
    record
        .iter()
        .filter(|name| Some(name.as_str()) != declared)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProtectedFunctionUrlStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
    use serde_json::json;

    fn owner() -> Owner {
        Owner {
            api_version: "urlguard.io/v1alpha1".into(),
            kind: "ProtectedFunctionUrl".into(),
            namespace: "books".into(),
            name: "get-books".into(),
            uid: "uid-1".into(),
        }
    }

    fn learnt(protected_url: &str) -> Learnt {
        Learnt::of_url(
            &ProtectedFunctionUrlStatus {
                protected_url: Some(protected_url.into()),
                ..ProtectedFunctionUrlStatus::default()
            },
            None,
        )
    }

    /// The ConfigMap as the API server returns it after urlguard applied
    /// `applied`.
    fn stored(applied: &ConfigMap) -> ConfigMap {
        let keys: serde_json::Map<String, Value> = applied
            .data
            .iter()
            .flatten()
            .map(|(k, _)| (format!("f:{k}"), json!({})))
            .collect();
        let mut stored = applied.clone();
        stored.metadata.uid = Some("cm-uid".into());
        stored.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("urlguard".into()),
            operation: Some("Apply".into()),
            fields_v1: Some(FieldsV1(json!({"f:data": keys}))),
            ..ManagedFieldsEntry::default()
        }]);
        stored
    }

    fn applied_by(step: Step) -> (ConfigMap, bool) {
        match step {
            Step::Apply { config_map, force } => (*config_map, force),
            other => panic!("expected an apply, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_config_map_is_applied_owned_labelled_and_unforced() {
        let (config_map, force) = applied_by(step(
            &owner(),
            "get-books-url",
            &learnt("https://d1/getBooks"),
            None,
            "urlguard",
        ));
        assert!(!force);
        assert_eq!(config_map.metadata.name.as_deref(), Some("get-books-url"));
        assert_eq!(config_map.metadata.namespace.as_deref(), Some("books"));
        let reference = &config_map.metadata.owner_references.as_ref().expect("refs")[0];
        assert_eq!(
            (
                reference.kind.as_str(),
                reference.uid.as_str(),
                reference.controller,
                reference.block_owner_deletion
            ),
            ("ProtectedFunctionUrl", "uid-1", Some(true), Some(true))
        );
        assert_eq!(
            config_map.metadata.labels.expect("labels")[MANAGED_BY.0],
            "urlguard"
        );
        assert_eq!(
            config_map.data.expect("data")["protectedUrl"],
            "https://d1/getBooks"
        );
    }

    #[test]
    fn an_unchanged_config_map_is_not_written_and_a_change_is_forced() {
        let (first, _) = applied_by(step(
            &owner(),
            "cm",
            &learnt("https://d1/getBooks"),
            None,
            "urlguard",
        ));
        let found = stored(&first);
        let again = step(
            &owner(),
            "cm",
            &learnt("https://d1/getBooks"),
            Some(&found),
            "urlguard",
        );
        assert_eq!(again, Step::UpToDate, "a resync writes nothing");
        let (changed, force) = applied_by(step(
            &owner(),
            "cm",
            &learnt("https://d1/books"),
            Some(&found),
            "urlguard",
        ));
        assert!(
            force,
            "it is the object's: a key changed by hand comes back"
        );
        assert_eq!(
            changed.data.expect("data")["protectedUrl"],
            "https://d1/books"
        );
    }

    #[test]
    fn drift_is_repaired_and_others_keys_are_left_alone() {
        let (first, _) = applied_by(step(
            &owner(),
            "cm",
            &learnt("https://d1/getBooks"),
            None,
            "urlguard",
        ));
        let mut edited = stored(&first);
        edited
            .data
            .get_or_insert_default()
            .insert("addedByHand".into(), "x".into());
        assert_eq!(
            step(
                &owner(),
                "cm",
                &learnt("https://d1/getBooks"),
                Some(&edited),
                "urlguard"
            ),
            Step::UpToDate,
            "a key urlguard never applied is not urlguard's to remove"
        );
        let mut changed = stored(&first);
        changed
            .data
            .get_or_insert_default()
            .insert("protectedUrl".into(), "https://elsewhere/".into());
        assert!(matches!(
            step(
                &owner(),
                "cm",
                &learnt("https://d1/getBooks"),
                Some(&changed),
                "urlguard"
            ),
            Step::Apply { force: true, .. }
        ));
        let mut unlabelled = stored(&first);
        unlabelled.metadata.labels = None;
        assert!(matches!(
            step(
                &owner(),
                "cm",
                &learnt("https://d1/getBooks"),
                Some(&unlabelled),
                "urlguard"
            ),
            Step::Apply { .. }
        ));
    }

    #[test]
    fn a_key_applied_before_and_no_longer_learnt_from_a_source_is_removed() {
        let distribution = Owner {
            kind: "EdgeDistribution".into(),
            name: "books".into(),
            ..owner()
        };
        let with_urls = |urls: &[&str]| {
            let urls: Vec<(String, Option<String>)> = urls
                .iter()
                .map(|u| ((*u).to_owned(), Some(format!("https://d1/{u}"))))
                .collect();
            Learnt::of_distribution(&crate::api::EdgeDistributionStatus::default(), &urls)
        };
        let (two, _) = applied_by(step(
            &distribution,
            "cm",
            &with_urls(&["a", "b"]),
            None,
            "urlguard",
        ));
        let found = stored(&two);
        let (one, _) = applied_by(step(
            &distribution,
            "cm",
            &with_urls(&["a"]),
            Some(&found),
            "urlguard",
        ));
        assert_eq!(
            one.data.expect("data").keys().collect::<Vec<_>>(),
            ["protectedUrl.a"],
            "the apply leaves the key out, and server-side apply removes it"
        );
    }

    #[test]
    fn someone_elses_config_map_is_refused_naming_the_field() {
        let foreign = ConfigMap {
            metadata: ObjectMeta {
                name: Some("web-config".into()),
                owner_references: Some(vec![OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: "web".into(),
                    uid: "uid-web".into(),
                    controller: Some(true),
                    block_owner_deletion: None,
                }]),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([("k".into(), "v".into())])),
            ..ConfigMap::default()
        };
        let Step::Refuse { message } = step(
            &owner(),
            "web-config",
            &learnt("https://d1/getBooks"),
            Some(&foreign),
            "urlguard",
        ) else {
            panic!("overwritten");
        };
        assert!(
            message.starts_with("spec.configMapExport.name:"),
            "{message}"
        );
        assert!(message.contains("books/web-config"), "{message}");
        assert!(
            message.contains("its controller is Deployment web"),
            "{message}"
        );

        // A reference to the object without `controller: true`, or to an
        // earlier object of the same name (another uid), is not ownership.
        let mut borrowed = foreign.clone();
        borrowed.metadata.owner_references = Some(vec![OwnerReference {
            controller: None,
            ..owner().reference()
        }]);
        assert!(!owner().owns(&borrowed));
        let mut earlier = foreign;
        earlier.metadata.owner_references = Some(vec![OwnerReference {
            uid: "uid-0".into(),
            ..owner().reference()
        }]);
        let Step::Refuse { message } =
            step(&owner(), "cm", &learnt("x"), Some(&earlier), "urlguard")
        else {
            panic!("overwritten");
        };
        assert!(
            message.contains("its controller is ProtectedFunctionUrl get-books"),
            "{message}"
        );
    }

    #[test]
    fn recorded_config_maps_no_longer_declared_are_stale() {
        let record = ["old".to_owned(), "new".to_owned()];
        assert_eq!(stale(&record, Some("new")), ["old"]);
        assert_eq!(stale(&record, None), ["old", "new"]);
        assert!(stale(&[], Some("new")).is_empty());
    }
}
