//! Reading one node of a CRD's structural schema: its children (properties,
//! `items`, `additionalProperties`) and its `x-kubernetes-*` flags.
//!
//! A structural schema ("Extend the Kubernetes API with
//! CustomResourceDefinitions" → "Specifying a structural schema",
//! <https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema>)
//! declares a type at every node, and the value validations hang off that
//! spine. The CRD arrives as data (`JSONSchemaProps`), exactly as the API
//! server receives it; nothing here knows any particular kind.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};

/// The schema of an array's items (a single schema; structural schemas do
/// not allow tuple-typed `items`).
pub fn items(schema: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &schema.items {
        Some(JSONSchemaPropsOrArray::Schema(items)) => Some(items),
        Some(JSONSchemaPropsOrArray::Schemas(_)) | None => None,
    }
}

/// The schema of a map's values (`additionalProperties: {schema}`).
/// `additionalProperties: true` declares no schema, so it is `None`.
pub fn additional_properties(schema: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &schema.additional_properties {
        Some(JSONSchemaPropsOrBool::Schema(values)) => Some(values),
        Some(JSONSchemaPropsOrBool::Bool(_)) | None => None,
    }
}

/// The schema of field `name` of an object: a declared property, else the
/// map value schema.
pub fn field<'a>(schema: &'a JSONSchemaProps, name: &str) -> Option<&'a JSONSchemaProps> {
    schema
        .properties
        .as_ref()
        .and_then(|p| p.get(name))
        .or_else(|| additional_properties(schema))
}

/// `nullable: true`.
pub fn nullable(schema: &JSONSchemaProps) -> bool {
    schema.nullable == Some(true)
}

/// `x-kubernetes-preserve-unknown-fields: true`.
pub fn preserves_unknown_fields(schema: &JSONSchemaProps) -> bool {
    schema.x_kubernetes_preserve_unknown_fields == Some(true)
}

/// `x-kubernetes-int-or-string: true`.
pub fn int_or_string(schema: &JSONSchemaProps) -> bool {
    schema.x_kubernetes_int_or_string == Some(true)
}

/// `x-kubernetes-embedded-resource: true`.
pub fn embedded_resource(schema: &JSONSchemaProps) -> bool {
    schema.x_kubernetes_embedded_resource == Some(true)
}

/// The declared type; `x-kubernetes-int-or-string` stands for the pair
/// `integer,string`, as the API server converts it.
pub fn type_name(schema: &JSONSchemaProps) -> Option<&str> {
    if int_or_string(schema) {
        Some("integer,string")
    } else {
        schema.type_.as_deref().filter(|t| !t.is_empty())
    }
}
