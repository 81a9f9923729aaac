//! Reading urlguard resources out of manifest files, the way `kubectl apply -f`
//! reads them: multi-document YAML, each document checked against the CRD
//! schema (structure and CEL) before it is decoded into a typed resource.
//!
//! One bad document never hides the good ones: every document is either a
//! [`Resource`] or a [`Rejected`] entry that names the document, the resource
//! and the field. `Namespace` documents (kept beside the resources so the same
//! file works with `kubectl`) and empty documents are skipped.

use serde::Deserialize;
use serde_json::Value;

pub use crate::api::decode::{DocumentError, Resource, accept};

/// Where a document came from and what it claims to be, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, as given on the command line.
    pub file: String,
    /// The document's position in the file, from 1.
    pub document: usize,
    /// `kind`, when the document has one.
    pub kind: Option<String>,
    /// `metadata.namespace`, or `default` as kubectl assumes.
    pub namespace: String,
    /// `metadata.name`, when the document has one.
    pub name: Option<String>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (document {})", self.file, self.document)?;
        if let Some(kind) = &self.kind {
            write!(f, " {kind}")?;
        }
        if let Some(name) = &self.name {
            write!(f, " {}/{name}", self.namespace)?;
        }
        Ok(())
    }
}

/// A document that was not accepted, and why.
#[derive(Debug)]
pub struct Rejected {
    /// Which document.
    pub origin: Origin,
    /// Why.
    pub error: DocumentError,
}

/// Everything read from one or more files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Documents accepted as urlguard resources, in file order.
    pub resources: Vec<Resource>,
    /// Documents refused, in file order.
    pub rejected: Vec<Rejected>,
}

/// Why a whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be opened or read.
    #[error("reading {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not YAML; no document of it is used.
    #[error("{file} is not valid YAML: {source}")]
    Yaml {
        /// The file.
        file: String,
        /// The parser's error, with line and column.
        source: yaml_serde::Error,
    },
}

/// Reads and checks every document of the given files.
pub fn load_files<P: AsRef<std::path::Path>>(files: &[P]) -> Result<Loaded, ManifestError> {
    let mut loaded = Loaded::default();
    for path in files {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            file: file.clone(),
            source,
        })?;
        let more = parse(&file, &text)?;
        loaded.resources.extend(more.resources);
        loaded.rejected.extend(more.rejected);
    }
    Ok(loaded)
}

/// Checks every document of one file's text; `file` only labels errors.
pub fn parse(file: &str, text: &str) -> Result<Loaded, ManifestError> {
    let yaml_error = |source| ManifestError::Yaml {
        file: file.to_owned(),
        source,
    };
    let documents = yaml_serde::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect::<Result<Vec<_>, _>>()
        .map_err(yaml_error)?;

    let mut loaded = Loaded::default();
    for (index, document) in documents.into_iter().enumerate() {
        if document.is_null() {
            continue;
        }
        let origin = origin_of(file, index + 1, &document);
        match accept(&document) {
            Ok(Some(resource)) => loaded.resources.push(resource),
            Ok(None) => {}
            Err(error) => loaded.rejected.push(Rejected { origin, error }),
        }
    }
    Ok(loaded)
}

fn origin_of(file: &str, document: usize, value: &Value) -> Origin {
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Origin {
        file: file.to_owned(),
        document,
        kind: text("/kind"),
        namespace: text("/metadata/namespace").unwrap_or_else(|| "default".to_owned()),
        name: text("/metadata/name"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_document_is_rejected_and_the_good_ones_still_load() {
        let text = "\
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: good, namespace: books}
spec: {function: {name: f, region: eu-west-1}, distributionRef: {name: books}, pathPattern: /f}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: bad}
spec: {function: {name: f, region: eu-west-1, qualifier: '3'}, distributionRef: {name: books}, pathPattern: /g}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
";
        let loaded = parse("mixed.yaml", text).expect("valid YAML");
        assert_eq!(loaded.resources.len(), 1);
        assert_eq!(loaded.rejected.len(), 2);
        let bad = &loaded.rejected[0];
        assert_eq!(
            bad.origin.to_string(),
            "mixed.yaml (document 2) ProtectedFunctionUrl default/bad"
        );
        assert!(
            bad.error
                .to_string()
                .starts_with("spec.function.qualifier: "),
            "{}",
            bad.error
        );
        assert!(matches!(
            loaded.rejected[1].error,
            DocumentError::UnknownKind { .. }
        ));
    }

    #[test]
    fn namespaces_and_empty_documents_are_skipped() {
        let loaded = parse(
            "ns.yaml",
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: books}\n---\n",
        )
        .expect("valid YAML");
        assert!(loaded.resources.is_empty());
        assert!(loaded.rejected.is_empty());
    }

    #[test]
    fn a_document_without_a_name_is_rejected() {
        let loaded = parse(
            "x.yaml",
            "apiVersion: urlguard.io/v1alpha1\nkind: EdgeDistribution\nmetadata: {}\n",
        )
        .expect("valid YAML");
        assert_eq!(
            loaded.rejected[0].error.to_string(),
            "metadata.name: Required value"
        );
    }

    #[test]
    fn broken_yaml_fails_the_whole_file() {
        let error = parse("broken.yaml", "kind: [unclosed\n").expect_err("not YAML");
        assert!(
            error
                .to_string()
                .starts_with("broken.yaml is not valid YAML"),
            "{error}"
        );
    }
}
