//! The two kinds as the controller reads them from the API server: untyped
//! objects (so that one that no longer fits the Rust types, say stored
//! before a CRD upgrade, is reported on instead of stopping the watch),
//! read from the caches' slim form ([`super::cache`]), and decoded through
//! the same schema and CEL checks the CLI applies to manifests
//! ([`crate::api::decode`]).

use kube::ResourceExt;
use kube::api::{ApiResource, DynamicObject, TypeMeta};
use serde_json::Value;

use super::cache::content;
use crate::api::decode::{self, Resource};
use crate::api::{EdgeDistribution, ExportedParameter, InvalidationStatus, ProtectedFunctionUrl};

/// The finalizer on both kinds.
pub const FINALIZER: &str = "urlguard.io/cleanup";

/// The `EdgeDistribution` resource.
pub fn distribution_resource() -> ApiResource {
    ApiResource::erase::<EdgeDistribution>(&())
}

/// The `ProtectedFunctionUrl` resource.
pub fn url_resource() -> ApiResource {
    ApiResource::erase::<ProtectedFunctionUrl>(&())
}

/// The object's namespace (`default` if the server left it out).
pub fn namespace_of(object: &DynamicObject) -> String {
    object.namespace().unwrap_or_else(|| "default".to_owned())
}

/// The `EdgeDistribution` a `ProtectedFunctionUrl` names, read without
/// decoding the rest (the watch mapper runs on every event).
pub fn distribution_ref(url: &DynamicObject) -> Option<String> {
    content(url)
        .pointer("/spec/distributionRef/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Whether the object is being deleted.
pub fn is_deleting(object: &DynamicObject) -> bool {
    object.metadata.deletion_timestamp.is_some()
}

/// Whether the object carries `finalizer`.
pub fn has_finalizer(object: &DynamicObject, finalizer: &str) -> bool {
    object.finalizers().iter().any(|f| f == finalizer)
}

/// Why an object cannot be reconciled: the schema or CEL refuses it, or it
/// does not decode; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidObject(pub String);

/// Checks and decodes an `EdgeDistribution`.
pub fn decode_distribution(object: &DynamicObject) -> Result<EdgeDistribution, InvalidObject> {
    match decode(object, &distribution_resource())? {
        Resource::EdgeDistribution(distribution) => Ok(*distribution),
        Resource::ProtectedFunctionUrl(_) => Err(wrong_kind(object)),
    }
}

/// Checks and decodes a `ProtectedFunctionUrl`.
pub fn decode_url(object: &DynamicObject) -> Result<ProtectedFunctionUrl, InvalidObject> {
    match decode(object, &url_resource())? {
        Resource::ProtectedFunctionUrl(url) => Ok(*url),
        Resource::EdgeDistribution(_) => Err(wrong_kind(object)),
    }
}

fn decode(object: &DynamicObject, resource: &ApiResource) -> Result<Resource, InvalidObject> {
    // List items of some servers leave out apiVersion and kind; the
    // resource the object was read from says what it is.
    let mut typed = DynamicObject {
        types: Some(TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        }),
        metadata: object.metadata.clone(),
        data: content(object).into_owned(),
    };
    // The status is the controller's output, not the user's input: one
    // written by another version must not make the spec look invalid. Only
    // the distribution id it reports is kept, as a hint of where to look
    // (`plan::desired::known_distribution_id`), and the parameters urlguard
    // wrote, so that those no longer declared are deleted
    // (`plan::ssm::stale`), and the invalidation of the revision, so that
    // it is read by id or not at all (`plan::invalidation::lookup`); a
    // record that does not decode is dropped.
    if let Some(fields) = typed.data.as_object_mut()
        && let Some(status) = fields.remove("status")
    {
        let mut kept = serde_json::Map::new();
        if let Some(id) = status.get("distributionId").filter(|id| id.is_string()) {
            kept.insert("distributionId".to_owned(), id.clone());
        }
        if let Some(exported) = status.get("exportedParameters").filter(|exported| {
            serde_json::from_value::<Vec<ExportedParameter>>((*exported).clone()).is_ok()
        }) {
            kept.insert("exportedParameters".to_owned(), exported.clone());
        }
        if let Some(invalidation) = status.get("invalidation").filter(|invalidation| {
            serde_json::from_value::<InvalidationStatus>((*invalidation).clone()).is_ok()
        }) {
            kept.insert("invalidation".to_owned(), invalidation.clone());
        }
        if !kept.is_empty() {
            fields.insert("status".to_owned(), serde_json::Value::Object(kept));
        }
    }
    let value = serde_json::to_value(&typed).map_err(|e| InvalidObject(e.to_string()))?;
    match decode::accept(&value) {
        Ok(Some(decoded)) => Ok(decoded),
        Ok(None) => Err(wrong_kind(object)),
        Err(error) => Err(InvalidObject(error.to_string())),
    }
}

fn wrong_kind(object: &DynamicObject) -> InvalidObject {
    InvalidObject(format!(
        "object {} is not a urlguard resource",
        object.name_any()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cache::{LAST_APPLIED, slim};
    use serde_json::json;

    fn url(spec: serde_json::Value) -> DynamicObject {
        serde_json::from_value(json!({
            "metadata": {
                "name": "get-books", "namespace": "books",
                "annotations": {LAST_APPLIED: "{...}", "team": "books"},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}],
            },
            "spec": spec,
        }))
        .expect("a DynamicObject")
    }

    #[test]
    fn a_valid_url_decodes_even_without_type_meta() {
        let object = url(json!({
            "function": {"name": "get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        }));
        let decoded = decode_url(&object).expect("valid");
        assert_eq!(decoded.spec.distribution_ref.name, "books");
        assert_eq!(distribution_ref(&object).as_deref(), Some("books"));
        assert!(decode_distribution(&object).is_err());
    }

    #[test]
    fn an_invalid_url_is_refused_with_the_field_named() {
        let object = url(json!({
            "function": {"name": "get-books", "region": "eu-west-1", "qualifier": "3"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        }));
        let error = decode_url(&object).expect_err("numeric qualifier");
        assert!(error.0.contains("spec.function.qualifier"), "{error}");
        let missing = url(json!({"function": {"name": "f", "region": "eu-west-1"}}));
        let error = decode_url(&missing).expect_err("no distributionRef");
        assert!(error.0.contains("spec.distributionRef"), "{error}");
    }

    #[test]
    fn slimming_drops_managed_fields_the_last_applied_copy_and_most_status() {
        let mut slimmed = url(json!({}));
        slimmed.data["status"] = json!({"observedGeneration": 1, "protectedUrl": "https://d/x"});
        slim(&mut slimmed, &url_resource());
        assert!(slimmed.metadata.managed_fields.is_none());
        let annotations = slimmed.metadata.annotations.clone().expect("kept");
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations["team"], "books");
        let kept = content(&slimmed);
        assert_eq!(kept["status"]["observedGeneration"], 1);
        assert!(kept["status"].get("protectedUrl").is_none());
        assert_eq!(kept["spec"], json!({}));
        decode_url(&slimmed).expect_err("still decoded (and refused: empty spec)");
    }

    #[test]
    fn the_status_never_makes_a_spec_invalid() {
        let mut object = url(json!({
            "function": {"name": "get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        }));
        object.data["status"] = json!({"writtenBy": "a future version", "conditions": "odd"});
        let decoded = decode_url(&object).expect("the spec is valid");
        assert_eq!(decoded.status, None, "no distribution id reported");
    }

    #[test]
    fn the_reported_distribution_id_survives_slimming_and_decoding() {
        let mut object = url(json!({
            "function": {"name": "get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        }));
        object.data["status"] = json!({
            "distributionId": "E2QWRUHEXAMPLE",
            "protectedUrl": "https://d.cloudfront.net/getBooks",
        });
        slim(&mut object, &url_resource());
        let status = decode_url(&object)
            .expect("valid")
            .status
            .expect("a status");
        assert_eq!(status.distribution_id.as_deref(), Some("E2QWRUHEXAMPLE"));
        assert_eq!(status.protected_url, None, "only the id is kept");
    }

    #[test]
    fn the_invalidation_survives_slimming_and_decoding() {
        let mut object: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "books", "namespace": "books"},
            "spec": {"defaultOrigin": {"custom": {"domainName": "app.example.com"}}},
            "status": {
                "distributionId": "E2QWRUHEXAMPLE",
                "domainName": "d.cloudfront.net",
                "invalidation": {"revision": "r1", "id": "I1", "status": "Completed"},
            },
        }))
        .expect("a DynamicObject");
        slim(&mut object, &distribution_resource());
        let status = decode_distribution(&object)
            .expect("valid")
            .status
            .expect("a status");
        assert_eq!(
            status.invalidation.and_then(|i| i.id),
            Some("I1".to_owned())
        );
        assert_eq!(status.domain_name, None, "not read back, not kept");
    }

    #[test]
    fn the_exported_parameters_survive_slimming_and_decoding() {
        let mut object = url(json!({
            "function": {"name": "get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        }));
        let record = json!([{"region": "us-east-1", "name": "/books/GetBooksUrl"}]);
        object.data["status"] = json!({"exportedParameters": record.clone()});
        slim(&mut object, &url_resource());
        let status = decode_url(&object)
            .expect("valid")
            .status
            .expect("a status");
        assert_eq!(
            serde_json::to_value(status.exported_parameters).expect("json"),
            record
        );

        let mut garbled = url(json!({
            "function": {"name": "get-books", "region": "eu-west-1"},
            "distributionRef": {"name": "books"},
            "pathPattern": "/getBooks",
        }));
        garbled.data["status"] = json!({"exportedParameters": "garbled"});
        let decoded = decode_url(&garbled).expect("a bad record never makes a spec invalid");
        assert_eq!(decoded.status, None, "and it is dropped");
    }
}
