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
//!   object, then removes the fields the manager's earlier apply sent and
//!   this one does not, unless another manager holds them
//!   ([`remove_unsent`]: a key left out of a ConfigMap's `data` goes, as it
//!   does on the API server). Conflicts between managers are never
//!   reported (`force` is accepted and has nothing to do). `managedFields`
//!   records one entry per (manager, operation, subresource) with the
//!   FieldsV1 set of what it sent, in place, so re-applying the same
//!   configuration changes nothing;
//! - an update (any write but an apply: create, replace, the other
//!   patches) holds the fields it added or changed, and the other managers
//!   lose them ([`record_update`]): a key changed by `kubectl edit` is no
//!   longer the applier's. Simplified: lists are atomic (no `k:`/`v:`
//!   keys), and conflicts are never reported.

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
    match list
        .iter_mut()
        .find(|e| is_entry(e, manager, operation, subresource))
    {
        Some(existing) => *existing = entry,
        None => list.push(entry),
    }
}

fn is_entry(entry: &Value, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
    entry.get("manager").and_then(Value::as_str) == Some(manager)
        && entry.get("operation").and_then(Value::as_str) == Some(operation)
        && entry.get("subresource").and_then(Value::as_str) == subresource
}

/// The paths of the fields a FieldsV1 set holds (`{"f:data": {"f:k": {}}}`
/// holds `data.k`).
fn held(fields: &Value) -> Vec<Vec<String>> {
    fn walk(fields: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let Value::Object(map) = fields else {
            return;
        };
        for (key, inner) in map {
            let Some(name) = key.strip_prefix("f:") else {
                continue;
            };
            prefix.push(name.to_owned());
            match inner {
                Value::Object(children) if !children.is_empty() => walk(inner, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(fields, &mut Vec::new(), &mut out);
    out
}

/// The paths of the fields `object` holds, by its FieldsV1 set.
fn paths_of(object: &Value) -> Vec<Vec<String>> {
    held(&fields_v1(object))
}

/// The JSON pointer of a field path.
fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|name| format!("/{}", name.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// A FieldsV1 set of `paths`.
fn fields_of(paths: &[Vec<String>]) -> Value {
    let mut set = Map::new();
    for path in paths {
        let mut node = &mut set;
        for (depth, name) in path.iter().enumerate() {
            let entry = node.entry(format!("f:{name}")).or_insert_with(|| json!({}));
            if depth + 1 == path.len() {
                break;
            }
            if !entry.is_object() {
                *entry = json!({});
            }
            match entry {
                Value::Object(inner) => node = inner,
                _ => unreachable!("just made an object"),
            }
        }
    }
    Value::Object(set)
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Records an update by `manager` from `old` to `object` (whose
/// `managedFields` are still `old`'s): its entry gains the fields it added
/// or changed and loses those it removed; every other entry loses both.
/// An entry left holding nothing goes, as on the API server.
pub fn record_update(
    object: &mut Value,
    old: &Value,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
) {
    let before = paths_of(old);
    let after = paths_of(object);
    let changed: Vec<Vec<String>> = after
        .iter()
        .filter(|path| old.pointer(&pointer(path)) != object.pointer(&pointer(path)))
        .cloned()
        .collect();
    let removed: Vec<Vec<String>> = before
        .into_iter()
        .filter(|path| !after.contains(path))
        .collect();
    let touched: Vec<&Vec<String>> = changed.iter().chain(&removed).collect();
    let mut own: Vec<Vec<String>> = Vec::new();
    if let Some(Value::Array(entries)) = object.pointer_mut("/metadata/managedFields") {
        for entry in entries.iter_mut() {
            let mine = is_entry(entry, manager, "Update", subresource);
            let kept: Vec<Vec<String>> = held(entry.get("fieldsV1").unwrap_or(&Value::Null))
                .into_iter()
                .filter(|path| !touched.iter().any(|t| overlaps(path, t)))
                .collect();
            if mine {
                own = kept;
            } else {
                entry["fieldsV1"] = fields_of(&kept);
            }
        }
        entries.retain(|entry| {
            !is_entry(entry, manager, "Update", subresource)
                && entry
                    .get("fieldsV1")
                    .and_then(Value::as_object)
                    .is_some_and(|set| !set.is_empty())
        });
    }
    own.extend(changed);
    if !own.is_empty() {
        record_manager(
            object,
            manager,
            "Update",
            api_version,
            subresource,
            fields_of(&own),
        );
    }
}

/// Server-side apply's removal: `object` (the live object with the applied
/// configuration merged in, its `managedFields` as before this apply)
/// loses each field `manager`'s earlier apply on `subresource` held and
/// `applied` (this apply's FieldsV1) does not, unless another entry holds
/// it, or something under or above it.
pub fn remove_unsent(
    object: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    applied: &Value,
) {
    let entries: Vec<Value> = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(earlier) = entries
        .iter()
        .find(|e| is_entry(e, manager, "Apply", subresource))
    else {
        return;
    };
    let sent = held(applied);
    let others: Vec<Vec<String>> = entries
        .iter()
        .filter(|e| !is_entry(e, manager, "Apply", subresource))
        .flat_map(|e| held(e.get("fieldsV1").unwrap_or(&Value::Null)))
        .collect();
    let kept = |path: &[String]| {
        sent.iter().any(|s| s.starts_with(path)) || others.iter().any(|o| overlaps(o, path))
    };
    for path in held(earlier.get("fieldsV1").unwrap_or(&Value::Null)) {
        if kept(&path) {
            continue;
        }
        // The manager also owned the maps above the field: one that no
        // apply sends any more and nobody else holds goes with its last
        // field (`{"confirmed": {"at": …}}` applied, then omitted, leaves
        // no `confirmed: {}` behind).
        for depth in (1..=path.len()).rev() {
            let (node, parents) = (&path[..depth], &path[..depth - 1]);
            if depth < path.len()
                && (kept(node)
                    || object
                        .pointer(&pointer(node))
                        .is_some_and(|v| v.as_object().is_none_or(|m| !m.is_empty())))
            {
                break;
            }
            if let Some(Value::Object(parent)) = object.pointer_mut(&pointer(parents)) {
                parent.remove(node[depth - 1].as_str());
            }
        }
    }
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

    /// Server-side apply: a key the manager applied before and leaves out
    /// now goes; one another manager holds, or one it never applied, stays.
    #[test]
    fn an_apply_removes_what_its_manager_no_longer_sends() {
        let first = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "v", "gone": "v"}});
        let mut object = first.clone();
        record_manager(&mut object, "m", "Apply", "v1", None, fields_v1(&first));
        let before = object.clone();
        object["data"]["mine"] = json!("added by hand, with an update");
        record_update(&mut object, &before, "kubectl-edit", "v1", None);
        let second = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "w"}});
        merge(&mut object, &second);
        remove_unsent(&mut object, "m", None, &fields_v1(&second));
        assert_eq!(
            object["data"],
            json!({"k": "w", "mine": "added by hand, with an update"})
        );
        assert!(object["metadata"]["labels"].get("a").is_none(), "{object}");
        let mut other_manager = first.clone();
        record_manager(
            &mut other_manager,
            "m",
            "Apply",
            "v1",
            None,
            fields_v1(&first),
        );
        remove_unsent(&mut other_manager, "n", None, &fields_v1(&second));
        assert_eq!(other_manager["data"], first["data"], "n never applied");
    }

    /// An update holds what it added or changed, and takes it from the
    /// other managers; a manager left with nothing goes.
    #[test]
    fn a_map_no_apply_sends_any_more_goes_with_its_fields() {
        let first = json!({"metadata": {"name": "books"}, "status": {"id": "E1", "confirmed": {"at": "t", "fingerprint": "f"}}});
        let mut object = first.clone();
        record_manager(
            &mut object,
            "m",
            "Apply",
            "v1",
            Some("status"),
            fields_v1(&first),
        );
        let second = json!({"metadata": {"name": "books"}, "status": {"id": "E1"}});
        merge(&mut object, &second);
        remove_unsent(&mut object, "m", Some("status"), &fields_v1(&second));
        assert_eq!(
            object["status"],
            json!({"id": "E1"}),
            "no confirmed: {{}} left"
        );
    }

    #[test]
    fn an_update_takes_the_fields_it_changes() {
        let applied = json!({"metadata": {"name": "x"}, "data": {"k": "v", "l": "v"}});
        let mut object = applied.clone();
        record_manager(&mut object, "m", "Apply", "v1", None, fields_v1(&applied));
        let before = object.clone();
        object["data"]["k"] = json!("edited");
        object["data"]["n"] = json!("new");
        record_update(&mut object, &before, "kubectl-edit", "v1", None);
        let entries = object["metadata"]["managedFields"]
            .as_array()
            .expect("list");
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {"f:l": {}}}));
        assert_eq!(entries[1]["manager"], "kubectl-edit");
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:data": {"f:k": {}, "f:n": {}}})
        );
        let before = object.clone();
        object["data"]["l"] = json!("edited too");
        record_update(&mut object, &before, "kubectl-edit", "v1", None);
        let entries = object["metadata"]["managedFields"]
            .as_array()
            .expect("list");
        assert_eq!(entries.len(), 1, "m holds nothing: {entries:?}");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {"f:k": {}, "f:l": {}, "f:n": {}}})
        );
    }

    /// Server-side apply: managedFields has one FieldsV1 entry per manager,
    /// kept in its place.
    #[test]
    fn managed_fields_are_per_manager() {
        let mut obj = json!({"metadata": {"name": "x"}});
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "b"}}, "data": {"k": "v"}});
        record_manager(&mut obj, "m", "Apply", "v1", None, fields_v1(&config));
        record_manager(&mut obj, "m", "Apply", "v1", None, fields_v1(&config));
        record_manager(&mut obj, "n", "Update", "v1", None, json!({}));
        record_manager(&mut obj, "m", "Apply", "v1", None, fields_v1(&config));
        let entries = obj["metadata"]["managedFields"].as_array().expect("list");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["manager"], "m", "re-applying keeps the order");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:data": {"f:k": {}}})
        );
    }
}
