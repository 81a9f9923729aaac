//! One object, checked and decoded: the CRD schema and CEL rules first
//! ([`super::validation`]), then serde into the typed resource. Both
//! drivers read through this — the CLI's manifest files and the
//! controller's objects from the API server — so an object a cluster would
//! refuse, or one stored before a CRD upgrade, is refused with the field
//! named, whichever way it came. `metadata.name` and `metadata.namespace`
//! are checked as the API server checks them ([`super::metadata`]).

use std::sync::LazyLock;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use super::metadata::{MetadataError, check_name, check_namespace};
use super::validation::{self, ValidationError};
use super::{EdgeDistribution, GROUP, ProtectedFunctionUrl, VERSION, crds};

/// Rendered once: every document is checked against them.
static CRDS: LazyLock<[CustomResourceDefinition; 2]> = LazyLock::new(crds::all);

/// A urlguard resource, checked and decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// An `EdgeDistribution` (boxed, as the other: each is about a
    /// kilobyte, and their sizes differ).
    EdgeDistribution(Box<EdgeDistribution>),
    /// A `ProtectedFunctionUrl`.
    ProtectedFunctionUrl(Box<ProtectedFunctionUrl>),
}

/// Why one object was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document is a scalar or a list, not an object.
    #[error("a manifest document must be an object with apiVersion, kind and metadata")]
    NotAnObject,
    /// A field every Kubernetes object needs is missing.
    #[error("{0}: Required value")]
    Missing(&'static str),
    /// Neither a urlguard kind nor one urlguard skips.
    #[error(
        "unknown kind {kind} in {api_version}: urlguard reads {GROUP}/{VERSION} EdgeDistribution and ProtectedFunctionUrl"
    )]
    UnknownKind {
        /// The document's apiVersion.
        api_version: String,
        /// The document's kind.
        kind: String,
    },
    /// `metadata.name` or `metadata.namespace` is one the API server
    /// refuses.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The document breaks the CRD schema.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Valid by the schema, yet not decodable into the Rust type.
    #[error("decoding: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Checks one object with the CRD schema and CEL rules, then decodes it;
/// `Ok(None)` for documents urlguard deliberately skips (namespaces).
pub fn accept(document: &Value) -> Result<Option<Resource>, DocumentError> {
    if !document.is_object() {
        return Err(DocumentError::NotAnObject);
    }
    let field = |name: &'static str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .ok_or(DocumentError::Missing(name))
    };
    let api_version = field("apiVersion")?;
    let kind = field("kind")?;
    let Some(name) = document.pointer("/metadata/name").and_then(Value::as_str) else {
        return Err(DocumentError::Missing("metadata.name"));
    };
    let [distribution_crd, url_crd] = &*CRDS;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    if group == GROUP {
        // As the API server checks them before any schema.
        check_name(name)?;
        if let Some(namespace) = document.pointer("/metadata/namespace") {
            check_namespace(namespace.as_str().unwrap_or_default())?;
        }
    }
    match (group, kind) {
        ("", "Namespace") => Ok(None),
        (GROUP, "EdgeDistribution") => Ok(Some(Resource::EdgeDistribution(Box::new(checked(
            distribution_crd,
            version,
            document,
        )?)))),
        (GROUP, "ProtectedFunctionUrl") => Ok(Some(Resource::ProtectedFunctionUrl(Box::new(
            checked(url_crd, version, document)?,
        )))),
        _ => Err(DocumentError::UnknownKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        }),
    }
}

/// `document` validated against `crd`, then decoded as the API server
/// would store it (nulls in non-nullable fields dropped, whole numbers in
/// integer fields as integers: [`validation::validated`]).
fn checked<T: serde::de::DeserializeOwned>(
    crd: &CustomResourceDefinition,
    version: &str,
    document: &Value,
) -> Result<T, DocumentError> {
    let stored = validation::validated(crd, version, document, None)?;
    Ok(serde_json::from_value(stored)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::Protection;

    #[test]
    fn what_a_cluster_accepts_decodes_as_the_cluster_stores_it() {
        let document = json!({
            "apiVersion": "urlguard.io/v1alpha1",
            "kind": "EdgeDistribution",
            "metadata": {"name": "books", "namespace": "books"},
            "spec": {
                "defaultOrigin": {"s3": {"bucketName": "books-spa"}},
                "protection": null,
                "aliases": null,
                "signer": {"memorySize": 256.0},
            },
        });
        let Ok(Some(Resource::EdgeDistribution(decoded))) = accept(&document) else {
            panic!("a cluster accepts it: {:?}", accept(&document));
        };
        assert_eq!(
            decoded.spec.protection,
            Protection::EdgeSigner,
            "null → default"
        );
        assert!(decoded.spec.aliases.is_empty(), "null → dropped");
        assert_eq!(decoded.spec.signer.memory_size, 256);
        let fraction = json!({
            "apiVersion": "urlguard.io/v1alpha1",
            "kind": "EdgeDistribution",
            "metadata": {"name": "books", "namespace": "books"},
            "spec": {
                "defaultOrigin": {"s3": {"bucketName": "books-spa"}},
                "signer": {"memorySize": 256.5},
            },
        });
        let refused = accept(&fraction).expect_err("a fraction is no integer");
        assert!(
            refused.to_string().contains("spec.signer.memorySize"),
            "{refused}"
        );
    }

    #[test]
    fn names_and_namespaces_a_cluster_refuses_are_refused_naming_the_field() {
        let object = |metadata: serde_json::Value| {
            json!({
                "apiVersion": "urlguard.io/v1alpha1",
                "kind": "EdgeDistribution",
                "metadata": metadata,
                "spec": {"defaultOrigin": {"s3": {"bucketName": "books-spa"}}},
            })
        };
        let refused = accept(&object(json!({"name": "Books_1", "namespace": "books"})))
            .expect_err("uppercase and underscore");
        assert!(
            refused
                .to_string()
                .starts_with("metadata.name: Invalid value: \"Books_1\""),
            "{refused}"
        );
        let refused = accept(&object(json!({"name": "books", "namespace": "team.a"})))
            .expect_err("a dot in a namespace");
        assert!(
            refused
                .to_string()
                .starts_with("metadata.namespace: Invalid value"),
            "{refused}"
        );
        assert!(accept(&object(json!({"name": "books.v1", "namespace": "team-a"}))).is_ok());
        assert!(
            accept(&object(json!({"name": "books"}))).is_ok(),
            "default namespace"
        );
    }
}
