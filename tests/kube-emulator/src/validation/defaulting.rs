//! Defaulting: what the API server does to a custom resource between
//! decoding it and validating it.
//!
//! "Extend the Kubernetes API with CustomResourceDefinitions" →
//! "Defaulting" and "Defaulting and Nullable"
//! (<https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting>):
//! a `null` in a field that is not `nullable` is dropped (or, when the
//! field has a `default`, replaced by it); a missing field with a `default`
//! gets it, at every level, including inside values that were themselves
//! just defaulted. The API server applies defaults when it reads a request
//! and when it reads storage, so validation — CEL rules included — sees the
//! defaulted object, old and new.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

use super::schema;

/// Drops non-nullable nulls that have no default, then applies defaults.
pub fn apply(value: &mut Value, root: &JSONSchemaProps) {
    drop_nulls(value, Some(root));
    default(value, root);
}

/// Removes map entries whose value is `null` where the schema neither
/// allows null nor has a default (a default replaces the null later).
fn drop_nulls(value: &mut Value, node: Option<&JSONSchemaProps>) {
    match value {
        Value::Object(map) => {
            map.retain(|name, field| {
                let field_schema = node.and_then(|n| schema::field(n, name));
                !(field.is_null()
                    && field_schema.is_some_and(|s| !schema::nullable(s) && s.default.is_none()))
            });
            for (name, field) in map.iter_mut() {
                drop_nulls(field, node.and_then(|n| schema::field(n, name)));
            }
        }
        Value::Array(items) => {
            let item_schema = node.and_then(schema::items);
            for item in items {
                drop_nulls(item, item_schema);
            }
        }
        _ => {}
    }
}

fn is_non_nullable_null(value: &Value, node: &JSONSchemaProps) -> bool {
    value.is_null() && !schema::nullable(node)
}

fn default(value: &mut Value, node: &JSONSchemaProps) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = &node.properties {
                for (name, property) in properties {
                    let Some(default) = &property.default else {
                        continue;
                    };
                    let missing = map
                        .get(name)
                        .is_none_or(|v| is_non_nullable_null(v, property));
                    if missing {
                        map.insert(name.clone(), default.0.clone());
                    }
                }
            }
            for (name, field) in map.iter_mut() {
                if let Some(property) = node.properties.as_ref().and_then(|p| p.get(name)) {
                    default(field, property);
                } else if let Some(values) = schema::additional_properties(node) {
                    replace_null_with_default(field, values);
                    default(field, values);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema::items(node) {
                for item in items {
                    replace_null_with_default(item, item_schema);
                    default(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

fn replace_null_with_default(value: &mut Value, node: &JSONSchemaProps) {
    if is_non_nullable_null(value, node)
        && let Some(default) = &node.default
    {
        *value = default.0.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(value: Value) -> JSONSchemaProps {
        serde_json::from_value(value).expect("schema")
    }

    #[test]
    fn defaults_nulls_and_nesting() {
        let root = schema(json!({
            "type": "object",
            "properties": {
                "mode": {"type": "string", "default": "A"},
                "plain": {"type": "string"},
                "maybe": {"type": "string", "nullable": true},
                "nested": {
                    "type": "object",
                    "default": {},
                    "properties": {"size": {"type": "integer", "default": 3}},
                },
                "list": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"on": {"type": "boolean", "default": true}},
                    },
                },
                "labels": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "default": "x"},
                },
            },
        }));
        let cases = [
            (json!({}), json!({"mode": "A", "nested": {"size": 3}})),
            (
                json!({"mode": null, "plain": null, "maybe": null}),
                json!({"mode": "A", "maybe": null, "nested": {"size": 3}}),
            ),
            (
                json!({"mode": "B", "nested": {"size": 1}, "list": [{}, {"on": false}]}),
                json!({"mode": "B", "nested": {"size": 1}, "list": [{"on": true}, {"on": false}]}),
            ),
            (
                json!({"labels": {"a": null, "b": "y"}}),
                json!({"mode": "A", "nested": {"size": 3}, "labels": {"a": "x", "b": "y"}}),
            ),
        ];
        for (mut input, expected) in cases {
            let original = input.clone();
            apply(&mut input, &root);
            assert_eq!(input, expected, "{original}");
        }
    }
}
