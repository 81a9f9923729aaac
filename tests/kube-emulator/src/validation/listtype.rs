//! The uniqueness invariants of `x-kubernetes-list-type: set` (no two equal
//! items) and `x-kubernetes-list-type: map` (no two items with the same
//! `x-kubernetes-list-map-keys` values).
//!
//! "Extend the Kubernetes API with CustomResourceDefinitions" → "Validation"
//! and the `x-kubernetes-list-type` field of `JSONSchemaProps`
//! (<https://kubernetes.io/docs/reference/kubernetes-api/extend-resources/custom-resource-definition-v1/#JSONSchemaProps>).
//! As in the API server, only the second occurrence of a value is reported
//! (`Duplicate value: "GET"`, or the key fields as JSON for a map list),
//! map values are addressed `field[key]`, and on update the check is
//! skipped entirely when the stored object already broke it (the API
//! server ratchets this check for the whole object at once).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::{Map, Value};

use super::field::{BadValue, ErrorType, FieldError};
use super::{path, schema};

/// The duplicates in `object`; none on update when `old` had some.
pub fn check(root: &JSONSchemaProps, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    if let Some(old) = old
        && !duplicates(root, old).is_empty()
    {
        return Vec::new();
    }
    duplicates(root, object)
}

fn duplicates(root: &JSONSchemaProps, object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Value::Object(map) = object {
        in_object(root, map, "", &mut errors);
    }
    errors
}

fn in_object(
    node: &JSONSchemaProps,
    map: &Map<String, Value>,
    at: &str,
    errors: &mut Vec<FieldError>,
) {
    for (name, value) in map {
        if let Some(values) = schema::additional_properties(node) {
            in_value(values, value, &path::key(at, name), errors);
        }
        if let Some(property) = node.properties.as_ref().and_then(|p| p.get(name)) {
            in_value(property, value, &path::child(at, name), errors);
        }
    }
}

fn in_value(node: &JSONSchemaProps, value: &Value, at: &str, errors: &mut Vec<FieldError>) {
    match value {
        Value::Array(items) => in_array(node, items, at, errors),
        Value::Object(map) => in_object(node, map, at, errors),
        _ => {}
    }
}

fn in_array(node: &JSONSchemaProps, items: &[Value], at: &str, errors: &mut Vec<FieldError>) {
    match node.x_kubernetes_list_type.as_deref() {
        Some("set") => {
            for index in second_occurrences(items) {
                errors.push(FieldError::new(
                    path::index(at, index),
                    ErrorType::Duplicate,
                    BadValue::Json(items[index].clone()),
                    "",
                ));
            }
        }
        Some("map") => map_duplicates(node, items, at, errors),
        _ => {}
    }
    if let Some(item_schema) = schema::items(node) {
        for (index, item) in items.iter().enumerate() {
            in_value(item_schema, item, &path::index(at, index), errors);
        }
    }
}

fn map_duplicates(node: &JSONSchemaProps, items: &[Value], at: &str, errors: &mut Vec<FieldError>) {
    if let Some(index) = items.iter().position(|i| !i.is_object() && !i.is_null()) {
        errors.push(FieldError::new(
            path::index(at, index),
            ErrorType::Invalid,
            BadValue::Json(items[index].clone()),
            "must be an object for an array of list-type map",
        ));
        return;
    }
    let key_fields = node
        .x_kubernetes_list_map_keys
        .as_deref()
        .unwrap_or_default();
    // An item without a key field has the "unspecified" key, which is only
    // equal to another unspecified key (JSON null is a value of its own).
    let keys: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut key = Map::new();
            for field in key_fields {
                if let Some(value) = item.get(field) {
                    key.insert(field.clone(), value.clone());
                }
            }
            Value::Object(key)
        })
        .collect();
    for index in second_occurrences(&keys) {
        errors.push(FieldError::new(
            path::index(at, index),
            ErrorType::Duplicate,
            BadValue::Json(keys[index].clone()),
            "",
        ));
    }
}

/// Indices of the second occurrence of each repeated value.
fn second_occurrences(values: &[Value]) -> Vec<usize> {
    let mut found = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let earlier = values[..index].iter().filter(|v| *v == value).count();
        if earlier == 1 {
            found.push(index);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root() -> JSONSchemaProps {
        serde_json::from_value(json!({
            "type": "object",
            "properties": {
                "methods": {"type": "array", "x-kubernetes-list-type": "set",
                    "items": {"type": "string"}},
                "errors": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["code"],
                    "items": {"type": "object", "properties": {"code": {"type": "integer"}}}},
                "byName": {"type": "object", "additionalProperties": {
                    "type": "array", "x-kubernetes-list-type": "set", "items": {"type": "integer"}}},
            },
        }))
        .expect("schema")
    }

    #[test]
    fn duplicates_are_named_once() {
        let cases = [
            (json!({"methods": ["GET", "HEAD"]}), vec![]),
            (
                json!({"methods": ["GET", "GET", "GET", "HEAD", "HEAD"]}),
                vec![
                    r#"methods[1]: Duplicate value: "GET""#,
                    r#"methods[4]: Duplicate value: "HEAD""#,
                ],
            ),
            (
                json!({"errors": [{"code": 404}, {"code": 403}, {"code": 404}]}),
                vec![r#"errors[2]: Duplicate value: {"code":404}"#],
            ),
            (
                json!({"errors": [{}, {}]}),
                vec!["errors[1]: Duplicate value: {}"],
            ),
            (
                json!({"errors": ["x"]}),
                vec![
                    r#"errors[0]: Invalid value: "x": must be an object for an array of list-type map"#,
                ],
            ),
            (
                json!({"byName": {"a": [1, 1]}}),
                vec!["byName[a][1]: Duplicate value: 1"],
            ),
        ];
        for (object, expected) in cases {
            let found: Vec<String> = check(&root(), &object, None)
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(found, expected, "{object}");
        }
    }

    #[test]
    fn a_stored_duplicate_ratchets_the_whole_check() {
        let old = json!({"methods": ["GET", "GET"]});
        let new = json!({"methods": ["GET", "GET"], "errors": [{"code": 1}, {"code": 1}]});
        assert!(check(&root(), &new, Some(&old)).is_empty());
        assert_eq!(check(&root(), &new, Some(&json!({}))).len(), 2);
    }
}
