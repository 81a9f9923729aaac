//! What `plan`, `apply` and `destroy` share: reading the files into the
//! two kinds, the output format, the JSON shape of a resource (its status
//! as the controller would write it), and the command's error.

use std::path::PathBuf;

use serde::Serialize;

use crate::api::{EdgeDistribution, ProtectedFunctionUrl};
use crate::manifest::{self, Loaded, Rejected, Resource};
use crate::reconcile::{Kind, ResourceReport, Status};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per resource and what was done.
    Text,
    /// `{"resources": [...], "awsCalls": {...}}`.
    Json,
}

/// Why a command failed before (or after) reconciling.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A file could not be read or parsed.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    /// The JSON output could not be rendered.
    #[error("rendering JSON output: {0}")]
    Json(#[from] serde_json::Error),
    /// The data-path client could not be built.
    #[error(transparent)]
    Probe(#[from] crate::probe::ProbeError),
}

/// The resources of the files, by kind, and the documents refused (each
/// already said on standard error, with `refused_note` after it).
pub struct Files {
    /// `EdgeDistribution`s, in file order.
    pub distributions: Vec<EdgeDistribution>,
    /// `ProtectedFunctionUrl`s, in file order.
    pub urls: Vec<ProtectedFunctionUrl>,
    /// Documents refused.
    pub rejected: Vec<Rejected>,
}

/// Reads `files`; every refused document is reported on standard error.
pub fn load(files: &[PathBuf], refused_note: &str) -> Result<Files, CommandError> {
    let Loaded {
        resources,
        rejected,
    } = manifest::load_files(files)?;
    let mut loaded = Files {
        distributions: Vec::new(),
        urls: Vec::new(),
        rejected,
    };
    for resource in resources {
        match resource {
            Resource::EdgeDistribution(d) => loaded.distributions.push(*d),
            Resource::ProtectedFunctionUrl(u) => loaded.urls.push(*u),
        }
    }
    for refused in &loaded.rejected {
        eprintln!("error: {}: {}{refused_note}", refused.origin, refused.error);
    }
    Ok(loaded)
}

/// A resource as `--output json` prints it.
#[derive(Serialize)]
pub struct JsonResource<'a> {
    kind: Kind,
    namespace: &'a str,
    name: &'a str,
    ready: bool,
    /// Observed, not managed (`spec.managementPolicy: Observe`): nothing
    /// was written for it (only when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    observed: bool,
    status: Status,
}

/// The JSON shape of each report.
pub fn json_resources(reports: &[ResourceReport]) -> Vec<JsonResource<'_>> {
    reports
        .iter()
        .map(|report| JsonResource {
            kind: report.kind,
            namespace: &report.namespace,
            name: &report.name,
            ready: report.ready(),
            observed: report.observed,
            status: report.status(),
        })
        .collect()
}
