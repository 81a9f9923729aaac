//! Test helpers of the api layer: an `EdgeDistribution` built from a spec
//! and checked against the rendered CRD, as the CLI and the API server
//! check it.

use serde_json::{Value, json};

use super::crds;
use super::validation::{self, ValidationError};

/// The field paths the CRD names for an `EdgeDistribution` with `spec`
/// (empty when it is accepted).
pub(crate) fn edge_distribution_errors(spec: Value) -> Vec<String> {
    let object = json!({
        "apiVersion": "urlguard.io/v1alpha1", "kind": "EdgeDistribution",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": spec,
    });
    match validation::validate(&crds::all()[0], super::VERSION, &object, None) {
        Ok(()) => Vec::new(),
        Err(ValidationError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
        Err(other) => panic!("cannot validate: {other}"),
    }
}
