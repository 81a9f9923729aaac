//! Validation of a custom resource against its CRD's `openAPIV3Schema`, the
//! way the Kubernetes API server does it: the object read as the server
//! reads it ([`validated`]: nulls in non-nullable fields dropped, whole
//! numbers in integer fields), structural checks (types, formats, required
//! fields, enums, patterns, bounds, unknown fields), then the CEL
//! `x-kubernetes-validations` rules with schema defaults applied.
//!
//! One idea in one file (about 490 lines of code, the rest its tests): the
//! steps share the schema walk and the error wording.
//!
//! The CLI runs this before it deserializes a manifest, so a file that a
//! cluster would refuse is refused here too, with the same field paths.
//!
//! Why the structural part is hand-written: general JSON Schema crates check
//! draft-2020 semantics, not Kubernetes' structural-schema dialect (`nullable`,
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string`,
//! strict unknown-field errors) and cannot produce the API server's error
//! wording (`spec.protection: Unsupported value: ...`), which users search
//! for. The dialect subset our CRDs use is small. CEL evaluation is not
//! hand-written: it is kube's `cel` feature (kube-cel).

use std::fmt;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::core::cel::Validator;
use serde_json::{Map, Value};

/// One reason an object is invalid, located by its field path
/// (`spec.function.qualifier`, `spec.customErrorResponses[0].errorCode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the problem is.
    pub field: String,
    /// What is wrong, in the API server's words.
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.detail)
        } else {
            write!(f, "{}: {}", self.field, self.detail)
        }
    }
}

/// Why an object could not be checked or was found invalid.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The CRD serves no version with a schema for the object's apiVersion.
    #[error("{kind} has no served version {version}")]
    UnknownVersion {
        /// The CRD's kind.
        kind: String,
        /// The version the object asked for.
        version: String,
    },
    /// The object breaks the schema; every problem found is listed.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks `object` (a whole custom resource: apiVersion, kind, metadata,
/// spec, status) against the schema that `crd` serves for `version`.
/// `old` is the stored object on an update, so that transition rules
/// (`self == oldSelf`) apply; `None` on create.
pub fn validate(
    crd: &CustomResourceDefinition,
    version: &str,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ValidationError> {
    validated(crd, version, object, old).map(drop)
}

/// [`validate`], returning `object` as the API server reads and stores it:
/// a `null` in a field that is not `nullable` is dropped (its default, if
/// any, then applies: "Defaulting and Nullable" in the CRD documentation),
/// and a number with no fraction in an `integer` field is that integer
/// (the API server accepts `256.0` for `type: integer`). Decoding reads
/// this, so what a cluster accepts decodes.
pub fn validated(
    crd: &CustomResourceDefinition,
    version: &str,
    object: &Value,
    old: Option<&Value>,
) -> Result<Value, ValidationError> {
    let schema = with_implicit_root_fields(served_schema(crd, version)?);
    let object = normalized(&schema, object);
    let old = old.map(|old| normalized(&schema, old));
    let mut errors = Vec::new();
    check(&schema, &object, "", &mut errors);
    if errors.is_empty()
        && let Err(failures) = Validator::new().validate(&schema, &object, old.as_ref())
    {
        errors.extend(failures.iter().map(|failure| FieldError {
            field: failure.field_path.clone(),
            detail: format!("Invalid value: {}", failure.message),
        }));
    }
    if errors.is_empty() {
        Ok(object)
    } else {
        Err(ValidationError::Invalid(errors))
    }
}

/// The `openAPIV3Schema` `crd` serves for `version`.
fn served_schema(crd: &CustomResourceDefinition, version: &str) -> Result<Value, ValidationError> {
    crd.spec
        .versions
        .iter()
        .find(|v| v.name == version && v.served)
        .and_then(|v| v.schema.as_ref())
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .ok_or_else(|| ValidationError::UnknownVersion {
            kind: crd.spec.names.kind.clone(),
            version: version.to_owned(),
        })
}

fn normalized(schema: &Value, value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let fields = map
                .iter()
                .filter_map(|(name, field)| {
                    let field_schema = properties.and_then(|p| p.get(name)).or(additional);
                    match field_schema {
                        Some(field_schema) if field.is_null() && !is_nullable(field_schema) => None,
                        Some(field_schema) => Some((name.clone(), normalized(field_schema, field))),
                        None => Some((name.clone(), field.clone())),
                    }
                })
                .collect();
            Value::Object(fields)
        }
        Value::Array(items) => match schema.get("items") {
            Some(item_schema) => Value::Array(
                items
                    .iter()
                    .map(|item| normalized(item_schema, item))
                    .collect(),
            ),
            None => value.clone(),
        },
        Value::Number(number) if schema.get("type").and_then(Value::as_str) == Some("integer") => {
            match number.as_f64() {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "only whole numbers within i64's range are converted"
                )]
                Some(float)
                    if number.is_f64()
                        && float.fract() == 0.0
                        && float.abs() < 9_007_199_254_740_992.0 =>
                {
                    Value::from(float as i64)
                }
                _ => value.clone(),
            }
        }
        _ => value.clone(),
    }
}

fn is_nullable(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true))
}

/// The API server adds `apiVersion`, `kind` and `metadata` to every custom
/// resource's root schema (metadata is validated as `ObjectMeta` elsewhere).
fn with_implicit_root_fields(mut schema: Value) -> Value {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(
            "apiVersion".to_owned(),
            serde_json::json!({"type": "string"}),
        );
        properties.insert("kind".to_owned(), serde_json::json!({"type": "string"}));
        properties.insert(
            "metadata".to_owned(),
            serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    }
    schema
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn push(errors: &mut Vec<FieldError>, path: &str, detail: String) {
    errors.push(FieldError {
        field: path.to_owned(),
        detail,
    });
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if value.is_null() {
        if !is_nullable(schema) && schema.get("type").is_some() {
            push(errors, path, type_mismatch(path, schema, value));
        } else {
            // The API server checks `enum` on a null too.
            check_enum(schema, value, path, errors);
        }
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_string() || is_integer(value)) {
            push(
                errors,
                path,
                format!("Invalid value: {value}: must be an integer or a string"),
            );
        }
        return;
    }
    let type_ok = match schema.get("type").and_then(Value::as_str) {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => is_integer(value),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !type_ok {
        push(errors, path, type_mismatch(path, schema, value));
        return;
    }
    check_enum(schema, value, path, errors);
    match value {
        Value::Object(map) => check_object(schema, map, path, errors),
        Value::Array(items) => check_array(schema, items, path, errors),
        Value::String(text) => check_string(schema, text, path, errors),
        Value::Number(_) => check_number(schema, value, path, errors),
        Value::Bool(_) | Value::Null => {}
    }
}

fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64()
}

fn json_type_name(value: &Value) -> &'static str {
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

fn type_mismatch(path: &str, schema: &Value, value: &Value) -> String {
    let expected = schema.get("type").and_then(Value::as_str).unwrap_or("?");
    let found = json_type_name(value);
    format!("Invalid value: \"{found}\": {path} in body must be of type {expected}: \"{found}\"")
}

fn check_enum(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let listed = allowed
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        push(
            errors,
            path,
            format!("Unsupported value: {value}: supported values: {listed}"),
        );
    }
}

fn check_object(
    schema: &Value,
    map: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                push(errors, &child(path, name), "Required value".to_owned());
            }
        }
    }
    let preserve_unknown =
        schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (name, field) in map {
        let field_path = child(path, name);
        match (properties.and_then(|p| p.get(name)), additional) {
            (Some(field_schema), _) | (None, Some(field_schema)) => {
                check(field_schema, field, &field_path, errors)
            }
            (None, None) if preserve_unknown || properties.is_none() => {}
            (None, None) => push(
                errors,
                &field_path,
                format!("unknown field \"{field_path}\""),
            ),
        }
    }
    let count = map.len() as u64;
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && count > max
    {
        push(
            errors,
            path,
            format!("Too many: {count}: must have at most {max} items"),
        );
    }
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && count < min
    {
        push(
            errors,
            path,
            format!("Invalid value: {count}: must have at least {min} properties"),
        );
    }
}

fn check_array(schema: &Value, items: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    let count = items.len() as u64;
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && count > max
    {
        push(
            errors,
            path,
            format!("Too many: {count}: must have at most {max} items"),
        );
    }
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && count < min
    {
        push(
            errors,
            path,
            format!("Invalid value: {count}: {path} in body should have at least {min} items"),
        );
    }
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{index}]"), errors);
        }
    }
    check_list_uniqueness(schema, items, path, errors);
}

/// `x-kubernetes-list-type: set` forbids duplicates; `map` forbids two items
/// with the same key fields.
fn check_list_uniqueness(
    schema: &Value,
    items: &[Value],
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let key_of = |item: &Value| -> Value {
        match schema
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
        {
            Some(keys) => Value::Array(
                keys.iter()
                    .filter_map(Value::as_str)
                    .map(|k| item.get(k).cloned().unwrap_or(Value::Null))
                    .collect(),
            ),
            None => item.clone(),
        }
    };
    if !matches!(
        schema.get("x-kubernetes-list-type").and_then(Value::as_str),
        Some("set" | "map")
    ) {
        return;
    }
    let mut seen = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let key = key_of(item);
        if seen.contains(&key) {
            push(
                errors,
                &format!("{path}[{index}]"),
                format!("Duplicate value: {item}"),
            );
        } else {
            seen.push(key);
        }
    }
}

fn check_string(schema: &Value, text: &str, path: &str, errors: &mut Vec<FieldError>) {
    // Of the formats a CRD may declare, ours use `date-time` (conditions'
    // `lastTransitionTime`); the API server checks it as RFC 3339.
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && text.parse::<k8s_openapi::jiff::Timestamp>().is_err()
    {
        push(
            errors,
            path,
            format!(
                "Invalid value: \"{text}\": {path} in body must be of type date-time: \"{text}\""
            ),
        );
    }
    let length = text.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        push(
            errors,
            path,
            format!("Too long: may not be more than {max} bytes"),
        );
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        push(
            errors,
            path,
            format!(
                "Invalid value: \"{text}\": {path} in body should be at least {min} chars long"
            ),
        );
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(text) => {}
            Ok(_) => push(
                errors,
                path,
                format!("Invalid value: \"{text}\": {path} in body should match '{pattern}'"),
            ),
            Err(_) => push(
                errors,
                path,
                format!("the schema's pattern '{pattern}' does not compile"),
            ),
        }
    }
}

fn check_number(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let Some(number) = value.as_f64() else { return };
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && number > max
    {
        push(
            errors,
            path,
            format!("Invalid value: {value}: {path} in body should be less than or equal to {max}"),
        );
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && number < min
    {
        push(
            errors,
            path,
            format!(
                "Invalid value: {value}: {path} in body should be greater than or equal to {min}"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::crds;
    use serde_json::json;

    fn pfu(spec: Value) -> Value {
        json!({
            "apiVersion": "urlguard.io/v1alpha1",
            "kind": "ProtectedFunctionUrl",
            "metadata": {"name": "get-books", "namespace": "books"},
            "spec": spec,
        })
    }

    fn pfu_errors(spec: Value) -> Vec<FieldError> {
        let [_, crd] = crds::all();
        match validate(&crd, "v1alpha1", &pfu(spec), None) {
            Ok(()) => Vec::new(),
            Err(ValidationError::Invalid(errors)) => errors,
            Err(other) => panic!("unexpected: {other}"),
        }
    }

    fn valid_spec() -> Value {
        json!({
            "function": {"name": "books-get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        })
    }

    fn with(mut spec: Value, pointer: &str, value: Value) -> Value {
        *spec.pointer_mut(pointer).expect("pointer exists") = value;
        spec
    }

    #[test]
    fn a_minimal_spec_is_valid() {
        assert_eq!(pfu_errors(valid_spec()), Vec::new());
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let mut spec = valid_spec();
        spec.as_object_mut().expect("object").remove("pathPattern");
        let errors = pfu_errors(spec);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "spec.pathPattern: Required value");
    }

    #[test]
    fn a_wrong_enum_lists_the_supported_values() {
        let mut spec = valid_spec();
        spec["invokeMode"] = json!("STREAMING");
        let errors = pfu_errors(spec);
        assert_eq!(
            errors[0].to_string(),
            r#"spec.invokeMode: Unsupported value: "STREAMING": supported values: "BUFFERED", "RESPONSE_STREAM""#
        );
    }

    #[test]
    fn a_management_policy_other_than_manage_or_observe_is_refused_naming_the_field() {
        let mut spec = valid_spec();
        spec["managementPolicy"] = json!("ReadOnly");
        let errors = pfu_errors(spec);
        assert_eq!(
            errors[0].to_string(),
            r#"spec.managementPolicy: Unsupported value: "ReadOnly": supported values: "Manage", "Observe""#
        );
        let mut spec = valid_spec();
        spec["managementPolicy"] = json!("Observe");
        assert_eq!(pfu_errors(spec), Vec::new());
    }

    #[test]
    fn an_unknown_field_is_refused_not_dropped() {
        let errors = pfu_errors(with(
            valid_spec(),
            "/function",
            json!({"name": "f", "region": "eu-west-1", "alias": "live"}),
        ));
        assert_eq!(
            errors[0].to_string(),
            r#"spec.function.alias: unknown field "spec.function.alias""#
        );
    }

    #[test]
    fn a_wrong_type_is_named() {
        let errors = pfu_errors(with(valid_spec(), "/pathPattern", json!(42)));
        assert_eq!(errors[0].field, "spec.pathPattern");
        assert!(
            errors[0].detail.contains("must be of type string"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_pattern_mismatch_is_named() {
        let errors = pfu_errors(with(valid_spec(), "/function/region", json!("Europe")));
        assert_eq!(errors[0].field, "spec.function.region");
        assert!(errors[0].detail.contains("should match"), "{}", errors[0]);
    }

    #[test]
    fn numeric_and_latest_qualifiers_are_refused_by_cel() {
        for qualifier in ["7", "$LATEST"] {
            let spec = with(
                valid_spec(),
                "/function",
                json!({"name": "f", "region": "eu-west-1", "qualifier": qualifier}),
            );
            let errors = pfu_errors(spec);
            assert_eq!(errors.len(), 1, "{qualifier}: {errors:?}");
            assert_eq!(errors[0].field, "spec.function.qualifier", "{qualifier}");
            assert!(
                errors[0].detail.contains("must be an alias name"),
                "{}",
                errors[0]
            );
        }
        let alias = with(
            valid_spec(),
            "/function",
            json!({"name": "f", "region": "eu-west-1", "qualifier": "live"}),
        );
        assert_eq!(pfu_errors(alias), Vec::new());
    }

    #[test]
    fn a_function_arn_must_be_in_the_declared_region() {
        let arn = "arn:aws:lambda:us-west-2:123456789012:function:books-get-books";
        let errors = pfu_errors(with(valid_spec(), "/function/name", json!(arn)));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "spec.function.name");
        assert!(errors[0].detail.contains("another region"), "{}", errors[0]);
        let same_region = "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books";
        assert_eq!(
            pfu_errors(with(valid_spec(), "/function/name", json!(same_region))),
            Vec::new()
        );
    }

    #[test]
    fn the_default_behavior_paths_are_refused() {
        for path in ["/*", "*"] {
            let errors = pfu_errors(with(valid_spec(), "/pathPattern", json!(path)));
            assert!(
                errors.iter().any(|e| e.field == "spec.pathPattern"),
                "{path}: {errors:?}"
            );
        }
    }

    #[test]
    fn only_the_three_cloudfront_method_sets_are_accepted() {
        let accepted = [
            json!(["HEAD", "GET"]),
            json!(["GET", "HEAD", "OPTIONS"]),
            json!(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]),
        ];
        for methods in accepted {
            let mut spec = valid_spec();
            spec["allowedMethods"] = methods.clone();
            assert_eq!(pfu_errors(spec), Vec::new(), "{methods}");
        }
        for methods in [
            json!(["GET", "POST"]),
            json!(["GET", "HEAD", "POST"]),
            json!(["GET", "GET"]),
        ] {
            let mut spec = valid_spec();
            spec["allowedMethods"] = methods.clone();
            let errors = pfu_errors(spec);
            assert!(
                errors
                    .iter()
                    .any(|e| e.field.starts_with("spec.allowedMethods")),
                "{methods}: {errors:?}"
            );
        }
    }

    #[test]
    fn the_distribution_ref_cannot_change() {
        let [_, crd] = crds::all();
        let old = pfu(valid_spec());
        let moved = pfu(with(valid_spec(), "/distributionRef/name", json!("other")));
        let Err(ValidationError::Invalid(errors)) = validate(&crd, "v1alpha1", &moved, Some(&old))
        else {
            panic!("a moved distributionRef must be refused");
        };
        assert_eq!(errors[0].field, "spec.distributionRef");
        assert!(errors[0].detail.contains("immutable"));
        assert!(validate(&crd, "v1alpha1", &old, Some(&old)).is_ok());
    }

    #[test]
    fn the_function_cannot_change_on_update() {
        let [_, crd] = crds::all();
        let old = pfu(valid_spec());
        for (pointer, value) in [
            ("/function/name", json!("books-other")),
            ("/function/region", json!("us-west-2")),
            ("/function/qualifier", json!("live")),
        ] {
            let (parent, leaf) = pointer.rsplit_once('/').expect("a pointer");
            let mut spec = valid_spec();
            spec.pointer_mut(parent).expect("parent exists")[leaf] = value;
            let moved = pfu(spec);
            let Err(ValidationError::Invalid(errors)) =
                validate(&crd, "v1alpha1", &moved, Some(&old))
            else {
                panic!("a changed {pointer} must be refused");
            };
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, "spec.function");
            assert!(
                errors[0].detail.contains("spec.function is immutable"),
                "{errors:?}"
            );
            assert!(
                validate(&crd, "v1alpha1", &moved, None).is_ok(),
                "transition rules do not run on create"
            );
        }
    }

    #[test]
    fn the_adopted_distribution_id_has_cloudfronts_shape_and_cannot_change() {
        let [crd, _] = crds::all();
        let ed = |id: &str| {
            json!({
                "apiVersion": "urlguard.io/v1alpha1",
                "kind": "EdgeDistribution",
                "metadata": {"name": "books", "namespace": "books"},
                "spec": {
                    "defaultOrigin": {"s3": {"bucketName": "books-frontend"}},
                    "adopt": {"distributionId": id, "policy": "AdoptOrCreate"},
                },
            })
        };
        let old = ed("E2QWRUHAPOMQZL");
        assert!(validate(&crd, "v1alpha1", &old, None).is_ok());
        for pasted in ["d111111abcdef8.cloudfront.net", "e2qwruhapomqzl", "E12"] {
            let Err(ValidationError::Invalid(errors)) =
                validate(&crd, "v1alpha1", &ed(pasted), None)
            else {
                panic!("{pasted} must be refused");
            };
            assert!(
                errors
                    .iter()
                    .all(|e| e.field == "spec.adopt.distributionId"),
                "{pasted}: {errors:?}"
            );
        }
        let Err(ValidationError::Invalid(errors)) =
            validate(&crd, "v1alpha1", &ed("EDFDVBD6EXAMPLE"), Some(&old))
        else {
            panic!("a changed distributionId must be refused");
        };
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .detail
                .contains("spec.adopt.distributionId is immutable"),
            "{errors:?}"
        );
    }

    #[test]
    fn forwarding_a_body_needs_methods_that_carry_one() {
        let mut spec = valid_spec();
        spec["forwardBody"] = json!(true);
        let errors = pfu_errors(spec);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "spec.forwardBody");
    }

    #[test]
    fn an_unserved_version_is_an_error_not_a_pass() {
        let [_, crd] = crds::all();
        assert!(matches!(
            validate(&crd, "v9", &pfu(valid_spec()), None),
            Err(ValidationError::UnknownVersion { .. })
        ));
    }
}
