//! `urlguard crds`: prints both CRDs ([`crate::api::crds`]), the text
//! committed under `crds/` (and copied to `charts/urlguard/crds/` by
//! `make crds`).

use std::io::Write;

use crate::api::crds;

/// Why the CRDs could not be printed.
#[derive(Debug, thiserror::Error)]
pub enum CrdsError {
    /// The CRD types did not render as YAML.
    #[error("rendering the CRDs as YAML: {0}")]
    Render(#[from] yaml_serde::Error),
    /// Standard output is closed or full.
    #[error("writing the CRDs to standard output: {0}")]
    Write(#[from] std::io::Error),
}

pub(super) fn print() -> Result<(), CrdsError> {
    let yaml = crds::to_yaml()?;
    std::io::stdout().lock().write_all(yaml.as_bytes())?;
    Ok(())
}
