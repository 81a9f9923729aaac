//! Patches and field ownership:
//!
//! - JSON merge patch (RFC 7386) and JSON patch (RFC 6902) by the
//!   `json-patch` crate, with the API server's one departure from RFC 6902:
//!   a `test` for `null` passes on a missing path (the server's
//!   evanphx/json-patch treats missing as null; kube-runtime's `finalizer()`
//!   relies on it to add the first finalizer);
//! - strategic merge patch is applied as a merge patch after dropping the
//!   `$patch`, `$retainKeys`, `$setElementOrder/...` and `$deleteFromPrimitiveList/...`
//!   directives: lists are replaced whole rather than merged by key. That is
//!   what custom resources get from a real server too; for the built-ins it
//!   is a simplification (kubectl sends whole lists on client-side apply);
//! - server-side apply merges the applied configuration into the live
//!   object (merge-patch semantics: fields the manager no longer sends are
//!   kept, not removed, and conflicts between managers are never reported —
//!   `force` is accepted and has nothing to do). `managedFields` records
//!   one entry per (manager, operation, subresource) with the FieldsV1 set
//!   of what it sent.

use serde_json::{Map, Value, json};

/// A patch could not be applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// RFC 7386 merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch, all operations or none, as the API server applies it.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError(format!("invalid JSON patch: {e}")))?;
    let mut patched = target.clone();
    for (index, op) in ops.0.into_iter().enumerate() {
        if let json_patch::PatchOperation::Test(test) = &op
            && test.value.is_null()
            && patched
                .pointer(test.path.as_str())
                .is_none_or(Value::is_null)
        {
            continue;
        }
        json_patch::patch(&mut patched, &[op])
            .map_err(|e| PatchError(format!("operation {index}: {e}")))?;
    }
    *target = patched;
    Ok(())
}

fn strip_directives(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Strategic merge patch, simplified (see the module docs).
pub fn strategic(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = strip_directives(patch);
        return Ok(());
    }
    merge(target, &strip_directives(patch));
    Ok(())
}

/// The FieldsV1 set of a configuration (`{"f:spec": {"f:x": {}}}`), leaving
/// out what identifies the object rather than configures it.
pub fn fields_v1(config: &Value) -> Value {
    fn walk(value: &Value) -> Value {
        match value {
            Value::Object(map) if !map.is_empty() => Value::Object(
                map.iter()
                    .map(|(k, v)| (format!("f:{k}"), walk(v)))
                    .collect(),
            ),
            _ => json!({}),
        }
    }
    let mut fields = Map::new();
    if let Value::Object(map) = config {
        for (k, v) in map {
            match k.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    let mut meta = Map::new();
                    for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
                        if let Some(v) = v.get(field) {
                            meta.insert(format!("f:{field}"), walk(v));
                        }
                    }
                    if !meta.is_empty() {
                        fields.insert("f:metadata".into(), Value::Object(meta));
                    }
                }
                _ => {
                    fields.insert(format!("f:{k}"), walk(v));
                }
            }
        }
    }
    Value::Object(fields)
}

/// Records (or replaces) the `managedFields` entry of `manager`.
pub fn record_manager(
    object: &mut Value,
    manager: &str,
    operation: &str,
    api_version: &str,
    subresource: Option<&str>,
    fields: Value,
) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let entries = meta
        .entry("managedFields")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entries.is_array() {
        *entries = Value::Array(Vec::new());
    }
    let Some(list) = entries.as_array_mut() else {
        return;
    };
    list.retain(|e| {
        !(e.get("manager").and_then(Value::as_str) == Some(manager)
            && e.get("operation").and_then(Value::as_str) == Some(operation)
            && e.get("subresource").and_then(Value::as_str) == subresource)
    });
    let mut entry = json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": crate::time_fmt::now(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    });
    if let Some(sub) = subresource {
        entry["subresource"] = Value::String(sub.to_owned());
    }
    list.push(entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7386 (merge patch): null deletes, objects merge, lists replace.
    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge(&mut doc, &json!({"a": {"c": null, "d": 3}, "l": [3]}));
        assert_eq!(doc, json!({"a": {"b": 1, "d": 3}, "l": [3]}));
    }

    /// RFC 6902 (JSON patch): test failures refuse the whole patch.
    #[test]
    fn json_patch_follows_rfc6902() {
        let mut doc = json!({"a": [1]});
        json_patch(
            &mut doc,
            &json!([{"op": "add", "path": "/a/-", "value": 2}]),
        )
        .expect("add");
        assert_eq!(doc, json!({"a": [1, 2]}));
        assert!(
            json_patch(
                &mut doc,
                &json!([{"op": "test", "path": "/a/0", "value": 9}])
            )
            .is_err()
        );
        assert_eq!(doc, json!({"a": [1, 2]}), "a refused patch changed nothing");
    }

    /// Like the API server, a test for null passes on a missing path, and
    /// a failing operation undoes the ones before it.
    #[test]
    fn a_missing_path_tests_as_null_and_patches_are_atomic() {
        let mut doc = json!({"metadata": {"name": "x"}});
        let first_finalizer = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["f"]},
        ]);
        json_patch(&mut doc, &first_finalizer).expect("first finalizer");
        assert_eq!(doc["metadata"]["finalizers"], json!(["f"]));
        let error = json_patch(&mut doc, &first_finalizer).expect_err("finalizers are set");
        assert!(error.0.contains("operation 0"), "{error}");
        let half = json!([
            {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}},
            {"op": "test", "path": "/metadata/name", "value": "y"},
        ]);
        assert!(json_patch(&mut doc, &half).is_err());
        assert!(doc["metadata"].get("labels").is_none(), "{doc}");
    }

    /// Strategic merge patch directives are not stored in objects.
    #[test]
    fn strategic_directives_are_dropped() {
        let mut doc = json!({"metadata": {"labels": {"a": "1"}}});
        strategic(
            &mut doc,
            &json!({"metadata": {"labels": {"b": "2"}}, "$setElementOrder/x": []}),
        )
        .expect("patch");
        assert_eq!(doc, json!({"metadata": {"labels": {"a": "1", "b": "2"}}}));
    }

    /// Server-side apply: managedFields has one FieldsV1 entry per manager.
    #[test]
    fn managed_fields_are_per_manager() {
        let mut obj = json!({"metadata": {"name": "x"}});
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "b"}}, "data": {"k": "v"}});
        record_manager(&mut obj, "m", "Apply", "v1", None, fields_v1(&config));
        record_manager(&mut obj, "m", "Apply", "v1", None, fields_v1(&config));
        let entries = obj["metadata"]["managedFields"].as_array().expect("list");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:data": {"f:k": {}}})
        );
    }
}
