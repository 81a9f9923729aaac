//! The Lambda@Edge signer as urlguard deploys it: `signer.mjs` (a
//! zero-dependency ES module, see its header for why it is JavaScript and
//! hand-written) embedded in the binary at build time, and zipped
//! deterministically as `index.mjs`.
//!
//! Determinism is what makes "a new numbered version only when code or
//! configuration changed" work: Lambda reports the package's SHA-256 as
//! `CodeSha256`, and urlguard compares it with [`SignerPackage::code_sha256`].
//! The zip therefore has one stored (uncompressed, so no compressor version
//! can change a byte) entry with a fixed timestamp and fixed permissions, and
//! is identical on every build and machine.

use std::io::Write;

use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The signer's source, exactly as committed.
pub const SIGNER_MODULE: &str = include_str!("signer.mjs");

/// The file name inside the zip; with [`HANDLER`] it is Lambda's entry point.
pub const ENTRY_FILE: &str = "index.mjs";

/// The Lambda `Handler` setting for the package.
pub const HANDLER: &str = "index.handler";

/// The deployable package of the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerPackage {
    /// The zip file's bytes, as uploaded to Lambda.
    pub zip: Vec<u8>,
    /// Base64 of the zip's SHA-256: what Lambda reports as `CodeSha256`.
    pub code_sha256: String,
}

/// Why the package could not be built (only a bug or an allocation failure
/// can cause this: the input is a compile-time constant).
#[derive(Debug, thiserror::Error)]
#[error("zipping the edge signer: {0}")]
pub struct PackageError(#[from] zip::result::ZipError);

/// Builds the signer's zip.
pub fn package() -> Result<SignerPackage, PackageError> {
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    writer.start_file(ENTRY_FILE, options)?;
    writer
        .write_all(SIGNER_MODULE.as_bytes())
        .map_err(zip::result::ZipError::Io)?;
    let zip = writer.finish()?.into_inner();
    let code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    Ok(SignerPackage { zip, code_sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_holds_exactly_the_module_as_index_mjs() {
        let package = package().expect("package builds");
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(package.zip)).expect("valid zip");
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).expect("one entry");
        assert_eq!(entry.name().expect("UTF-8 name"), ENTRY_FILE);
        assert_eq!(entry.unix_mode(), Some(0o100644));
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).expect("UTF-8");
        assert_eq!(text, SIGNER_MODULE);
    }

    #[test]
    fn two_builds_are_byte_identical() {
        let first = package().expect("package builds");
        let second = package().expect("package builds");
        assert_eq!(first, second);
        assert_eq!(first.code_sha256.len(), 44, "base64 of 32 bytes");
    }
}
