//! Validation of custom resources from their CRD, as the Kubernetes API
//! server does it — an implementation of its own, independent of the
//! validator that urlguard's CLI runs, so that a test can see the two
//! disagree.
//!
//! The CRD is data: the `openAPIV3Schema` of the version the object is
//! written in. Per "Extend the Kubernetes API with
//! CustomResourceDefinitions"
//! (<https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/>)
//! and the API server's custom resource strategy, a write goes through:
//!
//! 1. pruning of unknown fields ([`pruning`]) — refused here as with
//!    `fieldValidation=Strict` (what kubectl sends), whatever the request
//!    said, except fields the stored object already had with the same value
//!    (the API server prunes those from storage on read, so a client never
//!    sends them back);
//! 2. dropping non-nullable nulls and defaulting ([`defaulting`]), of the
//!    new and the old object;
//! 3. the OpenAPI value validations ([`structural`]) and the list-type
//!    invariants ([`listtype`]), ratcheted on update;
//! 4. the CEL rules ([`cel`]), unless step 3 found a missing required
//!    field, an unsupported enum value, a too long string, too many items
//!    or a wrong type — then the API server adds one error, at the nil path,
//!    saying the rules were not checked.
//!
//! Not covered: `allOf`/`anyOf`/`oneOf`/`not` value validations, embedded
//! resources' metadata, the CEL cost budget, and metadata (the emulator
//! checks names itself).

mod cel;
mod defaulting;
mod field;
mod formats;
mod listtype;
mod path;
mod pruning;
mod schema;
mod structural;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use serde_json::Value;

pub use field::{BadValue, ErrorType, FieldError};

/// Why a custom resource was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The CRD does not serve the object's version.
    #[error("{kind} has no served version {version}")]
    UnknownVersion {
        /// The CRD's kind.
        kind: String,
        /// The version asked for.
        version: String,
    },
    /// Fields the schema does not declare (strict field validation), by
    /// path.
    #[error("strict decoding error: {}", unknown_fields(.0))]
    UnknownFields(Vec<String>),
    /// The object breaks its schema or rules; every problem is listed.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
}

fn unknown_fields(paths: &[String]) -> String {
    paths
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn join(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if parts.len() == 1 {
        parts.join("")
    } else {
        format!("[{}]", parts.join(", "))
    }
}

/// The detail the API server gives when schema errors kept the CEL rules
/// from running.
pub const RULES_NOT_CHECKED: &str = "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

/// Validates `object` (a whole custom resource) against the schema `crd`
/// serves for `version`. `old` is the stored object on update: it turns on
/// transition rules and ratcheting.
pub fn validate(
    crd: &CustomResourceDefinition,
    version: &str,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ValidationError> {
    let served = crd
        .spec
        .versions
        .iter()
        .find(|v| v.name == version && v.served)
        .ok_or_else(|| ValidationError::UnknownVersion {
            kind: crd.spec.names.kind.clone(),
            version: version.to_owned(),
        })?;
    let Some(root) = served
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
    else {
        return Ok(());
    };
    validate_with_schema(root, object, old)
}

/// [`validate`] against a schema already picked out of its CRD.
pub fn validate_with_schema(
    root: &JSONSchemaProps,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ValidationError> {
    let mut new = object.clone();
    let unknown = pruning::prune(&mut new, root);
    let mut old = old.cloned();
    let stored_unknown = old
        .as_mut()
        .map(|o| pruning::prune(o, root))
        .unwrap_or_default();
    let unknown: Vec<String> = unknown
        .into_iter()
        .filter(|field| !stored_unknown.contains(field))
        .map(|field| field.path)
        .collect();
    if !unknown.is_empty() {
        return Err(ValidationError::UnknownFields(unknown));
    }
    defaulting::apply(&mut new, root);
    if let Some(old) = old.as_mut() {
        defaulting::apply(old, root);
    }
    let mut errors = structural::check(root, &new, old.as_ref());
    errors.extend(listtype::check(root, &new, old.as_ref()));
    if errors.iter().any(|e| e.kind.blocks_rules()) {
        errors.push(FieldError::new(
            "<nil>",
            ErrorType::Invalid,
            BadValue::Json(Value::Null),
            RULES_NOT_CHECKED,
        ));
    } else {
        errors.extend(cel::check(root, &new, old.as_ref()));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> CustomResourceDefinition {
        serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"kind": "Widget", "plural": "widgets"},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {
                            "type": "object",
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "integer", "maximum": 10.0},
                                "mode": {"type": "string", "enum": ["Fast", "Slow"], "default": "Fast"},
                                "methods": {"type": "array", "items": {"type": "string"},
                                    "default": ["GET"]},
                                "body": {"type": "boolean"},
                                "ref": {"type": "string",
                                    "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "immutable"}]},
                            },
                            "x-kubernetes-validations": [
                                {"rule": "self.mode == 'Fast' || self.size < 5", "message": "slow widgets are small"},
                                {"rule": "!has(self.body) || !self.body || 'POST' in self.methods",
                                 "fieldPath": ".body", "message": "a body needs POST"},
                            ],
                        }},
                    }},
                }],
            },
        }))
        .expect("CRD")
    }

    fn widget(spec: Value) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"}, "spec": spec})
    }

    fn outcome(spec: Value, old: Option<Value>) -> Result<(), String> {
        validate(&crd(), "v1", &widget(spec), old.map(widget).as_ref()).map_err(|e| e.to_string())
    }

    #[test]
    fn the_pipeline_orders_pruning_defaults_schema_and_rules() {
        let cases: Vec<(Value, Option<Value>, Result<(), &str>)> = vec![
            (json!({"size": 3}), None, Ok(())),
            // Defaults are applied before the rules: `mode` and `methods`
            // exist for them although the object leaves them out.
            (
                json!({"size": 3, "body": true}),
                None,
                Err("spec.body: Invalid value: a body needs POST"),
            ),
            (
                json!({"size": 3, "body": true, "methods": ["POST"]}),
                None,
                Ok(()),
            ),
            (
                json!({"size": 7, "mode": "Slow"}),
                None,
                Err("spec: Invalid value: slow widgets are small"),
            ),
            // Unknown fields are refused before anything else is checked.
            (
                json!({"size": 99, "colour": "red"}),
                None,
                Err(r#"strict decoding error: unknown field "spec.colour""#),
            ),
            // A blocking schema error keeps the rules from running.
            (
                json!({"mode": "Slow", "size": null}),
                None,
                Err(
                    "[spec.size: Required value, <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]",
                ),
            ),
            // A non-blocking one (a bound) does not.
            (
                json!({"size": 11, "mode": "Slow"}),
                None,
                Err(
                    "[spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10, spec: Invalid value: slow widgets are small]",
                ),
            ),
            // Transition rules run on update only.
            (json!({"size": 1, "ref": "a"}), None, Ok(())),
            (
                json!({"size": 1, "ref": "b"}),
                Some(json!({"size": 1, "ref": "a"})),
                Err(r#"spec.ref: Invalid value: "b": immutable"#),
            ),
            // Ratcheting: what was invalid and is unchanged passes, whether
            // the schema or a rule objects; a changed field must be valid.
            (
                json!({"size": 20, "mode": "Slow", "ref": "a"}),
                Some(json!({"size": 20, "mode": "Slow", "ref": "a"})),
                Ok(()),
            ),
            (
                json!({"size": 21, "mode": "Slow"}),
                Some(json!({"size": 20, "mode": "Slow"})),
                Err(
                    "[spec.size: Invalid value: 21: spec.size in body should be less than or equal to 10, spec: Invalid value: slow widgets are small]",
                ),
            ),
            // An unknown field the stored object already had is let through.
            (
                json!({"size": 1, "colour": "red"}),
                Some(json!({"size": 1, "colour": "red"})),
                Ok(()),
            ),
            (
                json!({"size": 1, "colour": "blue"}),
                Some(json!({"size": 1, "colour": "red"})),
                Err(r#"strict decoding error: unknown field "spec.colour""#),
            ),
        ];
        for (spec, old, expected) in cases {
            assert_eq!(
                outcome(spec.clone(), old.clone()),
                expected.map_err(str::to_owned),
                "{spec} (old {old:?})"
            );
        }
    }

    #[test]
    fn an_unserved_version_is_an_error() {
        assert!(matches!(
            validate(&crd(), "v2", &widget(json!({"size": 1})), None),
            Err(ValidationError::UnknownVersion { .. })
        ));
    }
}
