//! What the controller's caches keep of an object: with thousands of
//! objects, managed fields, kubectl's last-applied copy and most of the
//! status would be most of the memory. An object entering a cache is
//! slimmed ([`slim`]): spec and a slim status (what reconciles read, plus a
//! digest of the whole status, which is all a status write needs to tell
//! whether it changes anything), packed as JSON text; [`content`] reads
//! them back.

use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};

use kube::api::{ApiResource, DynamicObject};
use serde_json::{Value, json};

use crate::reconcile::{Kind, Status};

/// The annotation `kubectl apply` leaves behind: a full copy of the last
/// applied manifest, which the controller never reads.
pub(super) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what the controller never reads (managed fields, the last applied
/// configuration, most of the status: see [`slim_status`]) before an
/// object of `resource` enters a cache: with thousands of objects they
/// would be most of the memory.
pub fn slim(object: &mut DynamicObject, resource: &ApiResource) {
    object.metadata.managed_fields = None;
    if let Some(annotations) = object.metadata.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
    if let Some(current) = object.data.get_mut("status") {
        *current = slim_status(current, &resource.kind);
    }
    // As a tree of small JSON maps, spec and status took four times the
    // memory of their text; [`content`] reads them back.
    object.data = Value::String(object.data.to_string());
}

/// The object's spec and status as JSON, whether slimmed (kept as text) or
/// not.
pub fn content(object: &DynamicObject) -> Cow<'_, Value> {
    match &object.data {
        Value::String(packed) => Cow::Owned(serde_json::from_str(packed).unwrap_or(Value::Null)),
        data => Cow::Borrowed(data),
    }
}

/// Where an object in the cache keeps the digest of its whole status.
pub const DIGEST: &str = "urlguard.io/digest";

/// The status as the caches keep it: what reconciles read (conditions
/// without their messages, `observedGeneration`, the distribution id, the
/// exported parameters, the invalidation, the confirmation) and a
/// digest of the whole status, which is all [`changes`] needs. The rest
/// (URLs, ARNs, behaviors) is written, never read back.
pub fn slim_status(status: &serde_json::Value, kind: &str) -> serde_json::Value {
    let whole = if kind == Kind::EdgeDistribution.as_str() {
        serde_json::from_value(status.clone())
            .ok()
            .map(Status::Distribution)
    } else {
        serde_json::from_value(status.clone()).ok().map(Status::Url)
    };
    let conditions: Vec<serde_json::Value> = status
        .get("conditions")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "type": c.get("type"),
                "status": c.get("status"),
                "reason": c.get("reason"),
                "message": "",
                "lastTransitionTime": c.get("lastTransitionTime"),
                "observedGeneration": c.get("observedGeneration"),
            })
        })
        .collect();
    let mut slimmed = json!({"conditions": conditions});
    if let Some(generation) = status.get("observedGeneration") {
        slimmed["observedGeneration"] = generation.clone();
    }
    // Where the distribution is: reconciles read it by id instead of
    // listing every distribution (`plan::desired::known_distribution_id`).
    if let Some(id) = status.get("distributionId") {
        slimmed["distributionId"] = id.clone();
    }
    // What urlguard wrote to SSM: the next reconcile deletes what is no
    // longer declared (`plan::ssm::stale`).
    if let Some(exported) = status.get("exportedParameters") {
        slimmed["exportedParameters"] = exported.clone();
    }
    // The invalidation of the revision: the next reconcile reads it by id,
    // or not at all once completed (`plan::invalidation::lookup`).
    if let Some(invalidation) = status.get("invalidation") {
        slimmed["invalidation"] = invalidation.clone();
    }
    // What a restarted controller trusts until the resync slot
    // (`outcome::resumable`).
    if let Some(confirmed) = status.get("confirmed") {
        slimmed["confirmed"] = confirmed.clone();
    }
    if let Some(whole) = whole {
        slimmed[DIGEST] = json!(digest(&whole));
    }
    slimmed
}

pub fn digest(status: &Status) -> String {
    let mut hasher = DefaultHasher::new();
    serde_json::to_string(status)
        .unwrap_or_default()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
