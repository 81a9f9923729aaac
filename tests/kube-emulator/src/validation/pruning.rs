//! Unknown fields: the fields of a custom resource that its structural
//! schema does not declare.
//!
//! "Extend the Kubernetes API with CustomResourceDefinitions" → "Field
//! pruning" and "Controlling pruning"
//! (<https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning>):
//! the API server removes every field that is neither a declared property
//! nor covered by `additionalProperties`, except below
//! `x-kubernetes-preserve-unknown-fields: true` (where declared properties
//! are still pruned inside) and except `apiVersion`, `kind` and `metadata`
//! at the root and in embedded resources. With server-side field validation
//! (`fieldValidation=Strict`, kubectl's default) the removed paths are the
//! `unknown field "<path>"` errors. Paths are written as the API server
//! writes them: `spec.items[0].name`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

use super::{path, schema};

/// One removed field: where it was and what it held.
#[derive(Debug, Clone, PartialEq)]
pub struct Pruned {
    /// `spec.function.alias`.
    pub path: String,
    /// The removed value.
    pub value: Value,
}

const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Removes the unknown fields of a whole custom resource, returning them
/// sorted by path.
pub fn prune(object: &mut Value, root: &JSONSchemaProps) -> Vec<Pruned> {
    let mut pruned = Vec::new();
    walk(object, Some(root), true, false, "", &mut pruned);
    pruned.sort_by(|a, b| a.path.cmp(&b.path));
    pruned
}

/// `keep_unknown` is set below `x-kubernetes-preserve-unknown-fields`,
/// which (like the API server's `skipPrune`) reaches through arrays to
/// their items but not into declared properties, which prune again.
fn walk(
    value: &mut Value,
    node: Option<&JSONSchemaProps>,
    resource_root: bool,
    keep_unknown: bool,
    at: &str,
    pruned: &mut Vec<Pruned>,
) {
    let keep_unknown = keep_unknown || node.is_some_and(schema::preserves_unknown_fields);
    let embedded = resource_root || node.is_some_and(schema::embedded_resource);
    match value {
        Value::Object(map) => {
            let mut unknown = Vec::new();
            for (name, field) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&name.as_str()) {
                    continue;
                }
                match node.and_then(|n| schema::field(n, name)) {
                    Some(field_schema) => walk(
                        field,
                        Some(field_schema),
                        false,
                        false,
                        &path::child(at, name),
                        pruned,
                    ),
                    None if keep_unknown => {}
                    None => unknown.push(name.clone()),
                }
            }
            for name in unknown {
                if let Some(removed) = map.remove(&name) {
                    pruned.push(Pruned {
                        path: path::child(at, &name),
                        value: removed,
                    });
                }
            }
        }
        Value::Array(items) => {
            let item_schema = node.and_then(schema::items);
            if keep_unknown && item_schema.is_none() {
                return;
            }
            for (index, item) in items.iter_mut().enumerate() {
                let item_path = path::index(at, index);
                walk(item, item_schema, false, keep_unknown, &item_path, pruned);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undeclared_fields_are_pruned_and_named() {
        let root: JSONSchemaProps = serde_json::from_value(json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "list": {"type": "array", "items": {
                            "type": "object", "properties": {"a": {"type": "string"}},
                        }},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {"inner": {"type": "object", "properties": {}}}},
                        "map": {"type": "object", "additionalProperties": {"type": "string"}},
                        "empty": {"type": "object"},
                    },
                },
            },
        }))
        .expect("schema");
        let mut object = json!({
            "apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "x": 1},
            "top": 1,
            "spec": {
                "list": [{"a": "1", "b": 2}],
                "free": {"anything": {"goes": true}, "inner": {"no": 1}},
                "map": {"k": "v"},
                "empty": {"z": 0},
            },
        });
        let paths: Vec<String> = prune(&mut object, &root)
            .into_iter()
            .map(|p| p.path)
            .collect();
        assert_eq!(
            paths,
            [
                "spec.empty.z",
                "spec.free.inner.no",
                "spec.list[0].b",
                "top"
            ]
        );
        assert_eq!(object["spec"]["free"]["anything"], json!({"goes": true}));
        assert_eq!(object["metadata"]["x"], json!(1));
    }
}
