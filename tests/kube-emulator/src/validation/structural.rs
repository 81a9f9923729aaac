//! The OpenAPI v3 value validations of a structural schema: `type`,
//! `nullable`, `enum`, `maxLength`/`minLength`/`pattern`, `format`,
//! `multipleOf`/`maximum`/`minimum` (and their `exclusive*` flags),
//! `maxItems`/`minItems`, `maxProperties`/`minProperties`, `required`, with
//! validation ratcheting on update.
//!
//! Follows "Extend the Kubernetes API with CustomResourceDefinitions" →
//! "Validation"
//! (<https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation>)
//! and, for what the API server prints, kube-openapi's validator as the API
//! server converts its results to field errors: which checks run for which
//! JSON kind, the `<path> in body ...` messages, which error types they
//! become. Every check of a node runs even after its type check failed, as
//! in the API server (so a wrong-typed enum field reports both).
//!
//! Ratcheting ("Validation ratcheting",
//! <https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-ratcheting>,
//! KEP-4008): on update, an error raised at a node is dropped when that
//! node — or, for a node that cannot be correlated with the old object, its
//! nearest correlatable ancestor — equals its old value. Object fields
//! correlate by name; array items only in `x-kubernetes-list-type: map`
//! lists, by their keys.

use std::collections::HashMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use regex::Regex;
use serde_json::{Map, Number, Value};

use super::field::{BadValue, ErrorType, FieldError, go_float, go_quote};
use super::{formats, path, schema};

/// Checks `object` against `root`; `old` (the stored object, on update)
/// turns on ratcheting.
pub fn check(root: &JSONSchemaProps, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut walker = Walker::default();
    walker.node(root, object, old, "", false);
    walker.errors
}

#[derive(Default)]
struct Walker {
    errors: Vec<FieldError>,
    /// Compiled `pattern`s (the same schema node is visited once per item).
    patterns: HashMap<String, Result<Regex, String>>,
}

/// Where an error is raised and whether it is ratcheted away.
struct Site<'a> {
    path: &'a str,
    ratcheted: bool,
}

/// The JSON type name kube-openapi reports for a value.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The formats a CRD may declare (Kubernetes 1.35), normalized without
/// dashes; others are stripped from the schema by the API server.
const SUPPORTED_FORMATS: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
    "k8sshortname",
    "k8slongname",
];

fn supported_format(node: &JSONSchemaProps) -> Option<&str> {
    node.format
        .as_deref()
        .filter(|f| SUPPORTED_FORMATS.contains(&f.replace('-', "").as_str()))
}

fn is_integral(number: &Number) -> bool {
    number.is_i64() || number.is_u64() || number.as_f64().is_some_and(|f| f.fract() == 0.0)
}

impl Walker {
    fn push(&mut self, site: &Site<'_>, kind: ErrorType, value: BadValue, detail: String) {
        if !site.ratcheted {
            self.errors
                .push(FieldError::new(site.path, kind, value, detail));
        }
    }

    /// `old` is this node's correlated old value; `inherited` whether the
    /// nearest correlatable ancestor is unchanged.
    fn node(
        &mut self,
        node: &JSONSchemaProps,
        value: &Value,
        old: Option<&Value>,
        path: &str,
        inherited: bool,
    ) {
        let site = Site {
            path,
            ratcheted: old.map_or(inherited, |old| old == value),
        };
        if value.is_null() {
            self.check_type(node, value, &site);
            self.check_enum(node, value, &site);
            return;
        }
        self.check_type(node, value, &site);
        match value {
            Value::String(text) => {
                self.check_string(node, text, &site);
                self.check_format(node, text, &site);
            }
            Value::Number(number) => self.check_number(node, number, &site),
            Value::Array(items) => self.check_array(node, items, old, &site),
            _ => {}
        }
        self.check_enum(node, value, &site);
        if let Value::Object(map) = value {
            self.check_object(node, map, old, &site);
        }
    }

    fn check_type(&mut self, node: &JSONSchemaProps, value: &Value, site: &Site<'_>) {
        let Some(declared) = schema::type_name(node) else {
            return;
        };
        let path = site.path;
        let types: Vec<&str> = declared.split(',').collect();
        let found = json_type(value);
        if value.is_null() {
            if !schema::nullable(node) {
                self.type_error(site, declared, found, path);
            }
            return;
        }
        let numeric = |t: &&str| *t == "number" || *t == "integer";
        let format = supported_format(node);
        let matches = types.contains(&found)
            || (found == "integer" && types.contains(&"number"))
            || (matches!(value, Value::Number(n) if is_integral(n)) && types.contains(&"integer"));
        // A string schema with a format takes strings and arrays as far as
        // the type check goes (kube-openapi checks the format instead), and
        // names the format when anything else arrives.
        if let Some(format) = format
            && !types.iter().any(numeric)
        {
            match value {
                Value::String(_) | Value::Array(_) => return,
                _ if !matches => {
                    let go_format = match value {
                        Value::Number(n) if n.is_f64() => "float64",
                        Value::Number(_) => "int64",
                        _ => "",
                    };
                    let detail = format!(
                        "{path} in body must be of type {format}: {}",
                        go_quote(go_format)
                    );
                    self.push(
                        site,
                        ErrorType::TypeInvalid,
                        BadValue::text(go_format),
                        detail,
                    );
                    return;
                }
                _ => return,
            }
        }
        if !matches {
            self.type_error(site, declared, found, path);
        }
    }

    fn type_error(&mut self, site: &Site<'_>, declared: &str, found: &str, path: &str) {
        let detail = format!(
            "{path} in body must be of type {declared}: {}",
            go_quote(found)
        );
        self.push(site, ErrorType::TypeInvalid, BadValue::text(found), detail);
    }

    fn check_enum(&mut self, node: &JSONSchemaProps, value: &Value, site: &Site<'_>) {
        let Some(allowed) = &node.enum_ else {
            return;
        };
        if allowed.is_empty() || allowed.iter().any(|a| same_value(&a.0, value)) {
            return;
        }
        let listed: Vec<String> = allowed
            .iter()
            .map(|a| match &a.0 {
                Value::String(text) => go_quote(text),
                other => go_quote(&other.to_string()),
            })
            .collect();
        self.push(
            site,
            ErrorType::NotSupported,
            BadValue::Json(value.clone()),
            format!("supported values: {}", listed.join(", ")),
        );
    }

    fn check_string(&mut self, node: &JSONSchemaProps, text: &str, site: &Site<'_>) {
        let path = site.path;
        let length = text.chars().count() as i64;
        if let Some(max) = node.max_length
            && length > max
        {
            let unit = if max == 1 { "byte" } else { "bytes" };
            let detail = format!("may not be more than {max} {unit}");
            self.push(site, ErrorType::TooLong, BadValue::Omitted, detail);
            return;
        }
        if let Some(min) = node.min_length
            && length < min
        {
            let detail = format!("{path} in body should be at least {min} chars long");
            self.push(site, ErrorType::Invalid, BadValue::text(text), detail);
            return;
        }
        if let Some(pattern) = node.pattern.as_deref() {
            let compiled = self
                .patterns
                .entry(pattern.to_owned())
                .or_insert_with(|| Regex::new(pattern).map_err(|e| e.to_string()));
            let detail = match compiled {
                Ok(re) if re.is_match(text) => return,
                Ok(_) => format!("{path} in body should match '{pattern}'"),
                Err(e) => {
                    format!("{path} in body should match '{pattern}, but pattern is invalid: {e}'")
                }
            };
            self.push(site, ErrorType::Invalid, BadValue::text(text), detail);
        }
    }

    fn check_format(&mut self, node: &JSONSchemaProps, text: &str, site: &Site<'_>) {
        let Some(format) = supported_format(node) else {
            return;
        };
        if formats::check(format, text) == Some(false) {
            let detail = format!(
                "{} in body must be of type {format}: {}",
                site.path,
                go_quote(text)
            );
            self.push(site, ErrorType::TypeInvalid, BadValue::text(text), detail);
        }
    }

    fn check_number(&mut self, node: &JSONSchemaProps, number: &Number, site: &Site<'_>) {
        let path = site.path;
        let value = BadValue::Json(Value::Number(number.clone()));
        let Some(data) = number.as_f64() else {
            return;
        };
        // Bounds print as integers against an integer value, as kube-openapi
        // compares natively typed values.
        let bound = |b: f64| {
            if number.is_f64() {
                go_float(b)
            } else {
                format!("{}", b.trunc() as i64)
            }
        };
        if let Some(factor) = node.multiple_of
            && factor > 0.0
            && (data / factor).fract() != 0.0
        {
            let detail = format!("{path} in body should be a multiple of {}", bound(factor));
            self.push(site, ErrorType::Invalid, value.clone(), detail);
        }
        // An integer value is compared with the bound converted to an
        // integer (truncated), as kube-openapi's native-type comparison does.
        let native = |b: f64| if number.is_f64() { b } else { b.trunc() };
        if let Some(max) = node.maximum.map(native) {
            let exclusive = node.exclusive_maximum == Some(true);
            let over = data > max || (exclusive && data >= max);
            if over {
                let relation = if exclusive {
                    "less than"
                } else {
                    "less than or equal to"
                };
                let detail = format!("{path} in body should be {relation} {}", bound(max));
                self.push(site, ErrorType::Invalid, value.clone(), detail);
            }
        }
        if let Some(min) = node.minimum.map(native) {
            let exclusive = node.exclusive_minimum == Some(true);
            let under = data < min || (exclusive && data <= min);
            if under {
                let relation = if exclusive {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                let detail = format!("{path} in body should be {relation} {}", bound(min));
                self.push(site, ErrorType::Invalid, value, detail);
            }
        }
    }

    fn check_array(
        &mut self,
        node: &JSONSchemaProps,
        items: &[Value],
        old: Option<&Value>,
        site: &Site<'_>,
    ) {
        if let Some(item_schema) = schema::items(node) {
            let old_items = old.and_then(Value::as_array);
            for (index, item) in items.iter().enumerate() {
                let old_item = old_items.and_then(|olds| correlated_item(node, olds, item));
                let item_path = path::index(site.path, index);
                self.node(item_schema, item, old_item, &item_path, site.ratcheted);
            }
        }
        let count = items.len() as i64;
        if let Some(min) = node.min_items
            && count < min
        {
            let detail = format!("{} in body should have at least {min} items", site.path);
            self.push(
                site,
                ErrorType::Invalid,
                BadValue::Json(count.into()),
                detail,
            );
        }
        if let Some(max) = node.max_items
            && count > max
        {
            self.too_many(site, count, max);
        }
    }

    fn too_many(&mut self, site: &Site<'_>, count: i64, max: i64) {
        let unit = if max == 1 { "item" } else { "items" };
        let detail = format!("must have at most {max} {unit}");
        self.push(
            site,
            ErrorType::TooMany,
            BadValue::Json(count.into()),
            detail,
        );
    }

    fn check_object(
        &mut self,
        node: &JSONSchemaProps,
        map: &Map<String, Value>,
        old: Option<&Value>,
        site: &Site<'_>,
    ) {
        let count = map.len() as i64;
        if let Some(min) = node.min_properties
            && count < min
        {
            let detail = format!(
                "{} in body should have at least {min} properties",
                site.path
            );
            self.push(
                site,
                ErrorType::Invalid,
                BadValue::Json(count.into()),
                detail,
            );
        }
        if let Some(max) = node.max_properties
            && count > max
        {
            self.too_many(site, count, max);
        }
        let old_map = old.and_then(Value::as_object);
        for (name, field) in map {
            let Some(field_schema) = schema::field(node, name) else {
                continue;
            };
            let old_field = old_map.and_then(|m| m.get(name));
            let field_path = path::child(site.path, name);
            self.node(field_schema, field, old_field, &field_path, site.ratcheted);
        }
        for name in node.required.iter().flatten() {
            if !map.contains_key(name) {
                let required = Site {
                    path: &path::child(site.path, name),
                    ratcheted: site.ratcheted,
                };
                self.push(
                    &required,
                    ErrorType::Required,
                    BadValue::Omitted,
                    String::new(),
                );
            }
        }
    }
}

/// Equality as the API server's enum check sees it: numbers compare by
/// value whatever their JSON spelling (`404` and `404.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// The old item that a new item of a `map` list corresponds to (same key
/// field values); items of other lists do not correlate.
pub fn correlated_item<'a>(
    node: &JSONSchemaProps,
    old_items: &'a [Value],
    item: &Value,
) -> Option<&'a Value> {
    if node.x_kubernetes_list_type.as_deref() != Some("map") {
        return None;
    }
    let keys = node
        .x_kubernetes_list_map_keys
        .as_deref()
        .unwrap_or_default();
    old_items
        .iter()
        .find(|old| keys.iter().all(|k| old.get(k) == item.get(k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(value: Value) -> JSONSchemaProps {
        serde_json::from_value(value).expect("schema")
    }

    fn errors(node: Value, value: Value) -> Vec<String> {
        let root = schema(json!({"type": "object", "properties": {"f": node}}));
        check(&root, &json!({"f": value}), None)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn each_keyword_is_worded_as_the_api_server_words_it() {
        let cases: Vec<(Value, Value, Vec<&str>)> = vec![
            (json!({"type": "string"}), json!("ok"), vec![]),
            (
                json!({"type": "string"}),
                json!(42),
                vec![r#"f: Invalid value: "integer": f in body must be of type string: "integer""#],
            ),
            (
                json!({"type": "integer"}),
                json!(1.5),
                vec![r#"f: Invalid value: "number": f in body must be of type integer: "number""#],
            ),
            (json!({"type": "integer"}), json!(2.0), vec![]),
            (json!({"type": "number"}), json!(2), vec![]),
            (
                json!({"type": "boolean"}),
                json!("true"),
                vec![r#"f: Invalid value: "string": f in body must be of type boolean: "string""#],
            ),
            (
                json!({"type": "object"}),
                json!([]),
                vec![r#"f: Invalid value: "array": f in body must be of type object: "array""#],
            ),
            (
                json!({"type": "string"}),
                Value::Null,
                vec![r#"f: Invalid value: "null": f in body must be of type string: "null""#],
            ),
            (
                json!({"type": "string", "nullable": true}),
                Value::Null,
                vec![],
            ),
            (
                json!({"type": "string", "nullable": true, "enum": ["A"]}),
                Value::Null,
                vec![r#"f: Unsupported value: null: supported values: "A""#],
            ),
            (
                json!({"type": "string", "enum": ["EdgeSigner", "OriginAccessControl"]}),
                json!("Foo"),
                vec![
                    r#"f: Unsupported value: "Foo": supported values: "EdgeSigner", "OriginAccessControl""#,
                ],
            ),
            (
                json!({"type": "integer", "enum": [400, 404]}),
                json!(401),
                vec![r#"f: Unsupported value: 401: supported values: "400", "404""#],
            ),
            (
                json!({"type": "integer", "enum": [400, 404]}),
                json!(404),
                vec![],
            ),
            (
                json!({"type": "string", "maxLength": 3}),
                json!("four"),
                vec!["f: Too long: may not be more than 3 bytes"],
            ),
            (
                json!({"type": "string", "maxLength": 3}),
                json!("äöü"),
                vec![],
            ),
            (
                json!({"type": "string", "minLength": 1}),
                json!(""),
                vec![r#"f: Invalid value: "": f in body should be at least 1 chars long"#],
            ),
            (
                json!({"type": "string", "pattern": "^[a-z]+$"}),
                json!("A1"),
                vec![r#"f: Invalid value: "A1": f in body should match '^[a-z]+$'"#],
            ),
            (
                json!({"type": "string", "format": "date-time"}),
                json!("yesterday"),
                vec![
                    r#"f: Invalid value: "yesterday": f in body must be of type date-time: "yesterday""#,
                ],
            ),
            (
                json!({"type": "integer", "format": "int32"}),
                json!(5_000_000_000_i64),
                vec![],
            ),
            (
                json!({"type": "integer", "maximum": 65535.0}),
                json!(70000),
                vec!["f: Invalid value: 70000: f in body should be less than or equal to 65535"],
            ),
            (
                json!({"type": "integer", "maximum": 31536000.0}),
                json!(31536001),
                vec![
                    "f: Invalid value: 31536001: f in body should be less than or equal to 31536000",
                ],
            ),
            (
                json!({"type": "number", "maximum": 31536000.0}),
                json!(31536000.5),
                vec![
                    "f: Invalid value: 3.15360005e+07: f in body should be less than or equal to 3.1536e+07",
                ],
            ),
            (
                json!({"type": "integer", "minimum": 1.0}),
                json!(0),
                vec!["f: Invalid value: 0: f in body should be greater than or equal to 1"],
            ),
            (
                json!({"type": "integer", "minimum": 1.0, "exclusiveMinimum": true}),
                json!(1),
                vec!["f: Invalid value: 1: f in body should be greater than 1"],
            ),
            (
                json!({"type": "integer", "multipleOf": 5.0}),
                json!(7),
                vec!["f: Invalid value: 7: f in body should be a multiple of 5"],
            ),
            (
                json!({"type": "array", "maxItems": 1, "items": {"type": "string"}}),
                json!(["a", "b"]),
                vec!["f: Too many: 2: must have at most 1 item"],
            ),
            (
                json!({"type": "array", "minItems": 2, "items": {"type": "string"}}),
                json!(["a"]),
                vec!["f: Invalid value: 1: f in body should have at least 2 items"],
            ),
            (
                json!({"type": "array", "items": {"type": "string", "maxLength": 1}}),
                json!(["a", "bb"]),
                vec!["f[1]: Too long: may not be more than 1 byte"],
            ),
            (
                json!({"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}}),
                json!({"a": "1", "b": "2"}),
                vec!["f: Too many: 2: must have at most 1 item"],
            ),
            (
                json!({"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}),
                json!({}),
                vec!["f: Invalid value: 0: f in body should have at least 1 properties"],
            ),
            (
                json!({"type": "object", "additionalProperties": {"type": "integer"}}),
                json!({"a.b": "x"}),
                vec![
                    r#"f.a.b: Invalid value: "string": f.a.b in body must be of type integer: "string""#,
                ],
            ),
            (
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}),
                json!({}),
                vec!["f.a: Required value"],
            ),
            (
                json!({"x-kubernetes-int-or-string": true}),
                json!(3),
                vec![],
            ),
            (
                json!({"x-kubernetes-int-or-string": true}),
                json!("3"),
                vec![],
            ),
            (
                json!({"x-kubernetes-int-or-string": true}),
                json!(true),
                vec![
                    r#"f: Invalid value: "boolean": f in body must be of type integer,string: "boolean""#,
                ],
            ),
            (
                json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
                json!({"any": {"thing": 1}}),
                vec![],
            ),
            (
                json!({"type": "string", "enum": ["A"]}),
                json!(1),
                vec![
                    r#"f: Invalid value: "integer": f in body must be of type string: "integer""#,
                    r#"f: Unsupported value: 1: supported values: "A""#,
                ],
            ),
        ];
        for (node, value, expected) in cases {
            assert_eq!(
                errors(node.clone(), value.clone()),
                expected,
                "{node} {value}"
            );
        }
    }

    #[test]
    fn unchanged_nodes_ratchet() {
        let root = schema(json!({
            "type": "object",
            "required": ["need"],
            "properties": {
                "need": {"type": "string"},
                "mode": {"type": "string", "enum": ["A"]},
                "other": {"type": "string"},
                "set": {"type": "array", "x-kubernetes-list-type": "set",
                    "items": {"type": "string", "maxLength": 1}},
                "map": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["k"],
                    "items": {"type": "object", "properties": {
                        "k": {"type": "string"}, "v": {"type": "string", "maxLength": 1}}}},
            },
        }));
        let old = json!({"mode": "B", "other": "x", "set": ["aa"],
            "map": [{"k": "1", "v": "long"}, {"k": "2", "v": "s"}]});
        let fields = |new: Value| -> Vec<String> {
            check(&root, &new, Some(&old))
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        // The invalid enum and the long items stay; only "other" changed, so
        // the missing required field (an error of the root) is reported.
        let mut changed_other = old.clone();
        changed_other["other"] = json!("y");
        assert_eq!(fields(changed_other), ["need"]);
        // Nothing changed: nothing is reported.
        assert_eq!(fields(old.clone()), Vec::<String>::new());
        // A changed invalid enum is reported.
        let mut changed_mode = old.clone();
        changed_mode["mode"] = json!("C");
        assert_eq!(fields(changed_mode), ["mode", "need"]);
        // Set items do not correlate: a new item makes the old one count.
        let mut grown_set = old.clone();
        grown_set["set"] = json!(["aa", "b"]);
        assert_eq!(fields(grown_set), ["set[0]", "need"]);
        // Map items correlate by key, whatever their position.
        let mut reordered = old.clone();
        reordered["map"] = json!([{"k": "2", "v": "s"}, {"k": "1", "v": "long"}, {"k": "3"}]);
        assert_eq!(fields(reordered), ["need"]);
    }
}
