//! The garbage collector: objects whose owners are gone are deleted, as
//! the API server's garbage collector does
//! (<https://kubernetes.io/docs/concepts/architecture/garbage-collection/>,
//! "Owners and dependents" and "Cascading deletion"):
//!
//! - an owner reference names its owner by kind, name and uid; the owner
//!   is there when an object of that group, kind and name with that uid
//!   exists in the dependent's namespace (or, for a cluster-scoped owner,
//!   anywhere). An object of the name with another uid (deleted and made
//!   again) is not the owner;
//! - a namespaced owner in another namespace counts as absent
//!   (cross-namespace owner references are disallowed by design); a
//!   cluster-scoped dependent naming a namespaced owner is unresolvable
//!   and left alone;
//! - a dependent all of whose owners are absent is deleted in the
//!   background, as a `DELETE` without options deletes it (its finalizers
//!   honoured); one with only some owners absent loses the references to
//!   those and stays.
//!
//! It runs apart from the requests, after each write that may matter (a
//! deletion, an object written with owner references), so a dependent goes
//! an instant after its owner, as on a real cluster, where the collector
//! works from its informers. Cascades follow: a deleted dependent's own
//! dependents go on the next run.
//!
//! Simplified: every deletion propagates in the background.
//! `propagationPolicy` (`Foreground`, `Orphan`) and `blockOwnerDeletion`
//! are accepted and not acted on (urlguard's tests delete in the
//! background, as `kubectl delete` does by default), and the references
//! it removes are not recorded in `managedFields`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinHandle;

use crate::api::delete_in_background;
use crate::server::Shared;
use crate::store::{Event, EventType, Key, Store};

/// Runs the collector until the store's events end (or the task is
/// aborted).
pub fn spawn(shared: Arc<Shared>) -> JoinHandle<()> {
    let mut events = shared.store().subscribe();
    tokio::spawn(async move {
        loop {
            let mut due = match events.recv().await {
                Ok(event) => matters(&event),
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            };
            // Writes that came together make one run.
            loop {
                match events.try_recv() {
                    Ok(event) => due |= matters(&event),
                    Err(TryRecvError::Lagged(_)) => due = true,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
            if due {
                collect(&mut shared.store());
            }
        }
    })
}

/// Whether an event may leave a dependent without its owners.
fn matters(event: &Event) -> bool {
    event.type_ == EventType::Deleted || !references(&event.object).is_empty()
}

fn references(object: &Value) -> &[Value] {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// What an existing object is, to tell whether it is a reference's owner.
struct Identity {
    group: String,
    kind: String,
    name: String,
    namespace: String,
}

/// One run: deletes the dependents whose owners are all gone, and drops
/// the references to gone owners of those that keep one.
pub fn collect(store: &mut Store) {
    let dependents: Vec<(Key, Value)> = store
        .entries()
        .filter(|(_, object)| !references(object).is_empty())
        .map(|(key, object)| (key.clone(), object.clone()))
        .collect();
    if dependents.is_empty() {
        return;
    }
    let by_uid: HashMap<String, Identity> = store
        .entries()
        .filter_map(|(key, object)| {
            let uid = object.pointer("/metadata/uid")?.as_str()?.to_owned();
            let identity = Identity {
                group: key.group.clone(),
                kind: text(object, "/kind"),
                name: key.name.clone(),
                namespace: key.namespace.clone(),
            };
            Some((uid, identity))
        })
        .collect();
    for (key, object) in dependents {
        let mut absent = Vec::new();
        for (index, reference) in references(&object).iter().enumerate() {
            match resolve(reference, &key, &by_uid) {
                Owner::Present => {}
                Owner::Absent => absent.push(index),
                Owner::Unresolvable => {
                    absent.clear();
                    break;
                }
            }
        }
        if absent.is_empty() {
            continue;
        }
        if absent.len() == references(&object).len() {
            delete_in_background(store, &key);
        } else {
            let mut kept = object;
            if let Some(Value::Array(list)) = kept.pointer_mut("/metadata/ownerReferences") {
                let mut index = 0;
                list.retain(|_| {
                    let keep = !absent.contains(&index);
                    index += 1;
                    keep
                });
            }
            store.put(key, kept, EventType::Modified);
        }
    }
}

/// Where a reference's owner stands.
enum Owner {
    Present,
    Absent,
    /// A cluster-scoped dependent names a namespaced owner.
    Unresolvable,
}

fn resolve(reference: &Value, dependent: &Key, by_uid: &HashMap<String, Identity>) -> Owner {
    let uid = text(reference, "/uid");
    let Some(owner) = by_uid.get(&uid) else {
        return Owner::Absent;
    };
    let api_version = text(reference, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    let same = owner.group == group
        && owner.kind == text(reference, "/kind")
        && owner.name == text(reference, "/name");
    if !same {
        return Owner::Absent;
    }
    match (dependent.namespace.is_empty(), owner.namespace.is_empty()) {
        // Cluster-scoped owner: fine for any dependent.
        (_, true) => Owner::Present,
        (true, false) => Owner::Unresolvable,
        (false, false) if owner.namespace == dependent.namespace => Owner::Present,
        (false, false) => Owner::Absent,
    }
}

fn text(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(resource: &str, namespace: &str, name: &str) -> Key {
        Key {
            group: if resource == "edgedistributions" {
                "urlguard.io".into()
            } else {
                String::new()
            },
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn owner_ref(uid: &str) -> Value {
        json!({"apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution", "name": "books", "uid": uid, "controller": true, "blockOwnerDeletion": true})
    }

    fn distribution(store: &mut Store, namespace: &str, uid: &str) {
        store.put(
            key("edgedistributions", namespace, "books"),
            json!({"apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution", "metadata": {"name": "books", "namespace": namespace, "uid": uid}}),
            EventType::Added,
        );
    }

    fn config_map(store: &mut Store, name: &str, references: Value, finalizers: Value) {
        store.put(
            key("configmaps", "books", name),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "books", "uid": format!("cm-{name}"), "ownerReferences": references, "finalizers": finalizers}}),
            EventType::Added,
        );
    }

    #[test]
    fn a_dependent_goes_with_its_owner_and_only_then() {
        let mut store = Store::new(100);
        distribution(&mut store, "books", "u1");
        config_map(
            &mut store,
            "books-distribution",
            json!([owner_ref("u1")]),
            json!([]),
        );
        collect(&mut store);
        assert!(
            store
                .get(&key("configmaps", "books", "books-distribution"))
                .is_some()
        );
        store.remove(&key("edgedistributions", "books", "books"));
        collect(&mut store);
        assert!(
            store
                .get(&key("configmaps", "books", "books-distribution"))
                .is_none()
        );
    }

    #[test]
    fn another_uid_or_namespace_is_not_the_owner() {
        let mut store = Store::new(100);
        // Deleted and made again: same name, new uid.
        distribution(&mut store, "books", "u2");
        config_map(&mut store, "old", json!([owner_ref("u1")]), json!([]));
        distribution(&mut store, "films", "u3");
        config_map(&mut store, "elsewhere", json!([owner_ref("u3")]), json!([]));
        collect(&mut store);
        assert!(store.get(&key("configmaps", "books", "old")).is_none());
        assert!(
            store
                .get(&key("configmaps", "books", "elsewhere"))
                .is_none()
        );
    }

    #[test]
    fn a_dependent_with_an_owner_left_keeps_it_and_finalizers_hold_deletion() {
        let mut store = Store::new(100);
        distribution(&mut store, "books", "u1");
        config_map(
            &mut store,
            "shared",
            json!([owner_ref("u1"), owner_ref("gone")]),
            json!([]),
        );
        config_map(
            &mut store,
            "held",
            json!([owner_ref("gone")]),
            json!(["example.com/hold"]),
        );
        collect(&mut store);
        let shared = store
            .get(&key("configmaps", "books", "shared"))
            .expect("kept");
        assert_eq!(
            shared["metadata"]["ownerReferences"],
            json!([owner_ref("u1")])
        );
        let held = store
            .get(&key("configmaps", "books", "held"))
            .expect("held by its finalizer");
        assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    }
}
