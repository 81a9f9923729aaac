//! Test fixtures shared by the planning tests: an `EdgeDistribution` and
//! `ProtectedFunctionUrl`s in namespace `books`, as a manifest would hold
//! them.

use serde_json::json;

use crate::api::{EdgeDistribution, ProtectedFunctionUrl};

/// An `EdgeDistribution` `name` with an S3 default origin.
pub(crate) fn distribution(name: &str) -> EdgeDistribution {
    serde_json::from_value(json!({
        "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
        "metadata": {"name": name, "namespace": "books"},
        "spec": {"defaultOrigin": {"s3": {"bucketName": "books-frontend"}}}
    }))
    .expect("distribution")
}

/// A `ProtectedFunctionUrl` `name` for function `name`, attached to
/// `distribution` on `path`.
pub(crate) fn url(name: &str, distribution: &str, path: &str) -> ProtectedFunctionUrl {
    serde_json::from_value(json!({
        "apiVersion": "urlguard.io/v1alpha1", "kind": "ProtectedFunctionUrl",
        "metadata": {"name": name, "namespace": "books"},
        "spec": {"function": {"name": name, "region": "eu-west-1"},
                 "distributionRef": {"name": distribution}, "pathPattern": path}
    }))
    .expect("url")
}
