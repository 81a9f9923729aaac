//! The one in-memory store: objects keyed by (group, resource, namespace,
//! name) — one stored version per resource, as etcd keeps one — with a
//! global, monotonically increasing resourceVersion; every write is an event
//! kept in a bounded history (watch resume from a resourceVersion; older
//! than the history → `410 Gone`) and broadcast to open watches.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// API group ("" for core).
    pub group: String,
    /// Plural resource name.
    pub resource: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// `ADDED`, `MODIFIED`, `DELETED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Gone.
    Deleted,
}

impl EventType {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One write.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion the write produced.
    pub rv: u64,
    /// What happened.
    pub type_: EventType,
    /// Which object.
    pub key: Key,
    /// The object after the write (before it, for DELETED, with the new rv).
    pub object: Value,
}

/// Where a watch receives events written after it started.
pub type EventReceiver = broadcast::Receiver<Arc<Event>>;

/// A watch asked for a resourceVersion older than the history.
#[derive(Debug, Clone, Copy)]
pub struct Compacted {
    /// The oldest resourceVersion a watch may resume from.
    pub oldest: u64,
}

/// Objects, the resourceVersion counter, the event history.
pub struct Store {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    compacted: u64,
    sender: broadcast::Sender<Arc<Event>>,
    uids: u64,
}

impl Store {
    /// An empty store keeping `history_limit` events.
    pub fn new(history_limit: usize) -> Store {
        let (sender, _) = broadcast::channel(4096);
        Store {
            objects: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted: 0,
            sender,
            uids: 0,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// A new uid (UUID-shaped, unique per store and process start).
    pub fn uid(&mut self) -> String {
        self.uids += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let seed = (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (seed >> 32) as u32,
            (seed >> 16) as u16,
            (seed & 0xfff) as u16,
            (self.uids >> 48) as u16 & 0xfff,
            self.uids & 0xffff_ffff_ffff
        )
    }

    /// The stored object.
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// The oldest resourceVersion a watch may resume from, or a continued
    /// list continue at.
    pub fn oldest_rv(&self) -> u64 {
        self.compacted
    }

    /// Objects of a resource, in one namespace or all, by namespace then name.
    pub fn list(&self, group: &str, resource: &str, namespace: Option<&str>) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|(k, _)| {
                k.group == group
                    && k.resource == resource
                    && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(_, v)| v)
            .collect()
    }

    /// Every key of a resource (all namespaces).
    pub fn keys(&self, group: &str, resource: &str) -> Vec<Key> {
        self.objects
            .keys()
            .filter(|k| k.group == group && k.resource == resource)
            .cloned()
            .collect()
    }

    /// Every key in a namespace.
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<Key> {
        self.objects
            .keys()
            .filter(|k| k.namespace == namespace)
            .cloned()
            .collect()
    }

    /// Stores `object` under `key` with the next resourceVersion (written
    /// into `metadata.resourceVersion`), records and broadcasts the event,
    /// and returns the stored object.
    pub fn put(&mut self, key: Key, mut object: Value, type_: EventType) -> Value {
        self.rv += 1;
        set_rv(&mut object, self.rv);
        self.objects.insert(key.clone(), object.clone());
        self.record(type_, key, object.clone());
        object
    }

    /// Removes the object, records a DELETED event, returns the object as
    /// last seen (with the deletion's resourceVersion).
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let mut object = self.objects.remove(key)?;
        self.rv += 1;
        set_rv(&mut object, self.rv);
        self.record(EventType::Deleted, key.clone(), object.clone());
        Some(object)
    }

    fn record(&mut self, type_: EventType, key: Key, object: Value) {
        let event = Arc::new(Event {
            rv: self.rv,
            type_,
            key,
            object,
        });
        self.history.push_back(Arc::clone(&event));
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // Nobody watching is not an error.
        let _ = self.sender.send(event);
    }

    /// A receiver for events from now on.
    pub fn subscribe(&self) -> EventReceiver {
        self.sender.subscribe()
    }

    /// Drops the history and compacts past the latest resourceVersion:
    /// every watch resumed from one handed out so far is `Compacted`.
    pub fn expire(&mut self) {
        self.history.clear();
        self.compacted = self.rv + 1;
    }

    /// The events after `rv` plus a receiver for later ones (taken under the
    /// same lock, so nothing is missed or repeated); `Compacted` if events
    /// after `rv` were already dropped from the history.
    pub fn watch_from(&self, rv: u64) -> Result<(Vec<Arc<Event>>, EventReceiver), Compacted> {
        if rv < self.compacted {
            return Err(Compacted {
                oldest: self.compacted,
            });
        }
        let past = self.history.iter().filter(|e| e.rv > rv).cloned().collect();
        Ok((past, self.sender.subscribe()))
    }
}

/// Writes `metadata.resourceVersion`.
pub fn set_rv(object: &mut Value, rv: u64) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".to_owned(), Value::String(rv.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> Key {
        Key {
            group: String::new(),
            resource: "configmaps".into(),
            namespace: "default".into(),
            name: name.into(),
        }
    }

    /// API conventions: resourceVersion is opaque but changes on every
    /// write; here it is one global counter, as etcd's revision is.
    #[test]
    fn every_write_gets_a_new_global_resource_version() {
        let mut store = Store::new(10);
        let a = store.put(key("a"), json!({"metadata": {}}), EventType::Added);
        let b = store.put(key("b"), json!({"metadata": {}}), EventType::Added);
        assert_eq!(a["metadata"]["resourceVersion"], "1");
        assert_eq!(b["metadata"]["resourceVersion"], "2");
        let gone = store.remove(&key("a")).expect("a");
        assert_eq!(gone["metadata"]["resourceVersion"], "3");
        assert_eq!(store.rv(), 3);
    }

    /// API conventions (watch): a resourceVersion older than the retained
    /// history is `410 Gone`; newer ones replay only later events.
    #[test]
    fn watch_history_is_bounded() {
        let mut store = Store::new(2);
        for name in ["a", "b", "c", "d"] {
            store.put(key(name), json!({"metadata": {}}), EventType::Added);
        }
        assert!(store.watch_from(1).is_err());
        let (past, _rx) = store.watch_from(2).expect("in history");
        let rvs: Vec<u64> = past.iter().map(|e| e.rv).collect();
        assert_eq!(rvs, vec![3, 4]);
    }
}
