//! `urlguard signer`: prints the `CodeSha256` of the embedded edge signer
//! package and optionally writes the zip, so a platform team can audit what
//! runs at the edge against what Lambda reports.

use std::path::PathBuf;

use crate::edge;

/// Why the package could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// Zipping failed.
    #[error(transparent)]
    Package(#[from] edge::PackageError),
    /// The zip could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The requested output file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

pub(super) fn print(zip_path: Option<PathBuf>) -> Result<(), SignerError> {
    let package = edge::package()?;
    if let Some(path) = zip_path {
        std::fs::write(&path, &package.zip)
            .map_err(|source| SignerError::Write { path, source })?;
    }
    println!("{}", package.code_sha256);
    Ok(())
}
