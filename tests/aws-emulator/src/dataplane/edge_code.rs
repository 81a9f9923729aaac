//! The code of Lambda@Edge versions, as uploaded. moto answers
//! `GetFunction` with a code location nobody can download, so the emulator
//! keeps every zip that passes through it (`CreateFunction`'s
//! `Code.ZipFile`, `UpdateFunctionCode`'s `ZipFile`) under its SHA-256 —
//! the `CodeSha256` Lambda reports for every version made from it — and
//! unpacks one on first use into a directory of its own, removed when the
//! emulator stops. Only stored (uncompressed) entries are unpacked, which is
//! how urlguard zips its signer; anything else is refused with a message.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ids::lock;

/// Why a version's code cannot be run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CodeError {
    #[error("no uploaded code has CodeSha256 {0} (the emulator keeps zips that pass through it)")]
    Unknown(String),
    #[error("the code zip cannot be read: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("unpacking the code into {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the zip entry {0} would leave the code directory")]
    UnsafeEntry(String),
}

/// Uploaded zips by code hash, and where each was unpacked.
#[derive(Debug)]
pub(crate) struct CodeStore {
    root: PathBuf,
    zips: Mutex<HashMap<String, Vec<u8>>>,
    unpacked: Mutex<HashMap<String, PathBuf>>,
}

impl Default for CodeStore {
    fn default() -> CodeStore {
        static STORES: AtomicU64 = AtomicU64::new(0);
        let n = STORES.fetch_add(1, Ordering::Relaxed);
        CodeStore {
            root: std::env::temp_dir()
                .join(format!("aws-emulator-code-{}-{n}", std::process::id())),
            zips: Mutex::new(HashMap::new()),
            unpacked: Mutex::new(HashMap::new()),
        }
    }
}

impl Drop for CodeStore {
    fn drop(&mut self) {
        if self.root.exists()
            && let Err(e) = std::fs::remove_dir_all(&self.root)
        {
            tracing::warn!(path = %self.root.display(), error = %e, "unpacked Lambda code left behind");
        }
    }
}

/// Lambda's `CodeSha256`: the base64 SHA-256 of the zip.
pub(crate) fn code_sha256(zip: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(zip))
}

impl CodeStore {
    /// Keeps the zip of a `CreateFunction` or `UpdateFunctionCode` request
    /// body (JSON), if it carries one.
    pub(crate) fn learn(&self, request_body: &[u8]) {
        let Ok(body) = serde_json::from_slice::<Value>(request_body) else {
            return;
        };
        let encoded = body
            .pointer("/Code/ZipFile")
            .or_else(|| body.get("ZipFile"))
            .and_then(Value::as_str);
        if let Some(zip) = encoded.and_then(|z| STANDARD.decode(z).ok()) {
            lock(&self.zips).insert(code_sha256(&zip), zip);
        }
    }

    /// The directory holding the code with this `CodeSha256`, unpacked.
    pub(crate) fn unpacked(&self, code_sha256: &str) -> Result<PathBuf, CodeError> {
        if let Some(dir) = lock(&self.unpacked).get(code_sha256) {
            return Ok(dir.clone());
        }
        let zip = lock(&self.zips)
            .get(code_sha256)
            .cloned()
            .ok_or_else(|| CodeError::Unknown(code_sha256.to_owned()))?;
        let n = lock(&self.unpacked).len();
        let dir = self.root.join(format!("code-{n}"));
        unpack(&zip, &dir)?;
        lock(&self.unpacked).insert(code_sha256.to_owned(), dir.clone());
        Ok(dir)
    }
}

fn unpack(zip: &[u8], dir: &Path) -> Result<(), CodeError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CodeError::Io { path, source }
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let relative = entry.enclosed_name().ok_or_else(|| {
            CodeError::UnsafeEntry(entry.name().map(|n| n.into_owned()).unwrap_or_default())
        })?;
        let path = dir.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io(&path))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).map_err(io(&path))?;
        std::fs::write(&path, contents).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(name: &str, contents: &[u8]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        writer.start_file(name, options).expect("entry");
        writer.write_all(contents).expect("write");
        writer.finish().expect("finish");
        out.into_inner()
    }

    #[test]
    fn uploaded_code_is_found_by_its_hash_unpacked_once_and_removed_on_drop() {
        let zip = zip_of("index.mjs", b"export const handler = async () => 1;");
        let store = CodeStore::default();
        let body =
            serde_json::json!({"FunctionName": "f", "Code": {"ZipFile": STANDARD.encode(&zip)}});
        store.learn(body.to_string().as_bytes());
        let dir = store.unpacked(&code_sha256(&zip)).expect("unpacked");
        assert_eq!(
            std::fs::read_to_string(dir.join("index.mjs")).expect("file"),
            "export const handler = async () => 1;"
        );
        assert_eq!(store.unpacked(&code_sha256(&zip)).expect("again"), dir);
        assert!(matches!(store.unpacked("nope"), Err(CodeError::Unknown(_))));
        let root = store.root.clone();
        drop(store);
        assert!(!root.exists());
    }
}
