//! The committed CRDs and the example manifests agree with the Rust types.

use std::path::Path;

use serde_json::Value;
use urlguard::api::crds;
use urlguard::manifest::{self, DocumentError, Resource};

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

fn committed_documents(path: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(&repo_file(path))
        .map(|document| serde::Deserialize::deserialize(document).expect("CRD YAML"))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

#[test]
fn committed_crds_match_the_rust_types() {
    let committed = committed_documents("crds/urlguard.io_crds.yaml");
    let generated: Vec<Value> = crds::all()
        .iter()
        .map(|crd| serde_json::to_value(crd).expect("CRD JSON"))
        .collect();
    assert!(
        generated == committed,
        "crds/urlguard.io_crds.yaml is stale: run `make crds` and commit the result"
    );
}

#[test]
fn both_committed_crds_survive_an_argo_cd_prune_and_helm_uninstall() {
    for path in [
        "crds/urlguard.io_crds.yaml",
        "charts/urlguard/crds/urlguard.io_crds.yaml",
    ] {
        let committed = committed_documents(path);
        assert_eq!(committed.len(), 2, "{path}");
        for crd in &committed {
            let name = &crd["metadata"]["name"];
            for (key, value) in crds::ANNOTATIONS {
                assert_eq!(
                    crd["metadata"]["annotations"][key], value,
                    "{path}: {name} lacks {key}: {value}"
                );
            }
        }
    }
}

#[test]
fn the_binary_prints_the_committed_crds() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_urlguard"))
        .arg("crds")
        .output()
        .expect("urlguard runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).expect("UTF-8"),
        repo_file("crds/urlguard.io_crds.yaml")
    );
}

#[test]
fn books_example_is_valid_and_complete() {
    let loaded = manifest::parse("books.yaml", &repo_file("examples/books.yaml")).expect("YAML");
    let rejected: Vec<String> = loaded
        .rejected
        .iter()
        .map(|r| format!("{}: {}", r.origin, r.error))
        .collect();
    assert!(rejected.is_empty(), "{rejected:#?}");
    let mut urls = Vec::new();
    for resource in &loaded.resources {
        match resource {
            Resource::EdgeDistribution(d) => {
                assert_eq!(d.metadata.name.as_deref(), Some("books"));
                let s3 = d
                    .spec
                    .default_origin
                    .s3
                    .as_ref()
                    .expect("S3 default origin");
                assert_eq!(s3.bucket_name, "books-frontend");
            }
            Resource::ProtectedFunctionUrl(u) => {
                assert_eq!(u.metadata.namespace.as_deref(), Some("books"));
                assert_eq!(u.spec.function.region, "eu-west-1");
                let name = u.metadata.name.clone().expect("name");
                let (url_param, arn_param) = u.spec.ssm_export.parameter_names("books", &name);
                // The explicit names in the example equal the documented defaults.
                assert_eq!(
                    (
                        u.spec.ssm_export.url_parameter.clone(),
                        u.spec.ssm_export.arn_parameter.clone()
                    ),
                    (Some(url_param), Some(arn_param))
                );
                urls.push((
                    name,
                    u.spec.function.name.clone(),
                    u.spec.path_pattern.clone(),
                    u.spec.forwards_body(),
                ));
            }
        }
    }
    let expected = [
        ("get-books", "books-get-books", "/getBooks", false),
        ("get-book", "books-get-book", "/getBook/*", false),
        ("create-book", "books-create-book", "/createBook", true),
        ("update-book", "books-update-book", "/updateBook/*", true),
        ("delete-book", "books-delete-book", "/deleteBook/*", true),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, f, p, b)| (n.to_string(), f.to_string(), p.to_string(), *b))
        .collect();
    assert_eq!(urls, expected);
}

/// books.yaml with one document's value changed at a JSON pointer, as YAML.
fn broken_books(kind: &str, name: &str, pointer: &str, value: Option<Value>) -> String {
    let docs: Vec<Value> = yaml_serde::Deserializer::from_str(&repo_file("examples/books.yaml"))
        .map(|d| serde::Deserialize::deserialize(d).expect("document"))
        .collect();
    let mut out = String::new();
    for mut doc in docs {
        if doc["kind"] == kind && doc["metadata"]["name"] == name {
            let (parent, leaf) = pointer.rsplit_once('/').expect("pointer");
            let target = doc
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .expect("parent exists");
            match &value {
                Some(v) => target.insert(leaf.to_owned(), v.clone()),
                None => target.remove(leaf),
            };
        }
        out.push_str("---\n");
        out.push_str(&yaml_serde::to_string(&doc).expect("YAML"));
    }
    out
}

fn only_rejection(text: &str) -> (String, DocumentError) {
    let mut loaded = manifest::parse("broken.yaml", text).expect("YAML");
    assert_eq!(loaded.rejected.len(), 1, "{:?}", loaded.rejected);
    assert_eq!(loaded.resources.len(), 5, "the other resources still load");
    let rejected = loaded.rejected.remove(0);
    (rejected.origin.to_string(), rejected.error)
}

#[test]
fn a_wrong_enum_in_books_is_rejected_with_the_field_named() {
    let text = broken_books(
        "EdgeDistribution",
        "books",
        "/spec/protection",
        Some("Signer".into()),
    );
    let (origin, error) = only_rejection(&text);
    assert!(origin.ends_with("EdgeDistribution books/books"), "{origin}");
    assert_eq!(
        error.to_string(),
        r#"spec.protection: Unsupported value: "Signer": supported values: "EdgeSigner", "OriginAccessControl""#
    );
}

#[test]
fn a_missing_required_field_in_books_is_rejected_with_the_field_named() {
    let text = broken_books(
        "ProtectedFunctionUrl",
        "get-book",
        "/spec/distributionRef",
        None,
    );
    let (origin, error) = only_rejection(&text);
    assert!(
        origin.ends_with("ProtectedFunctionUrl books/get-book"),
        "{origin}"
    );
    assert_eq!(error.to_string(), "spec.distributionRef: Required value");
}

#[test]
fn a_numeric_qualifier_in_books_is_rejected_by_cel_with_the_field_named() {
    let text = broken_books(
        "ProtectedFunctionUrl",
        "create-book",
        "/spec/function/qualifier",
        Some("12".into()),
    );
    let (_, error) = only_rejection(&text);
    let message = error.to_string();
    assert!(
        message.starts_with("spec.function.qualifier: "),
        "{message}"
    );
    assert!(
        message.contains("never to a version number or $LATEST"),
        "{message}"
    );
}

#[test]
fn aliases_without_a_certificate_are_rejected_by_cel() {
    let text = broken_books(
        "EdgeDistribution",
        "books",
        "/spec/aliases",
        Some(serde_json::json!(["books.example.com"])),
    );
    let (_, error) = only_rejection(&text);
    assert!(
        error.to_string().starts_with("spec.certificateArn: "),
        "{error}"
    );
}

#[test]
fn every_cel_rule_compiles() {
    for crd in crds::all() {
        let version = &crd.spec.versions[0];
        let schema = serde_json::to_value(
            version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref()),
        )
        .expect("schema");
        let compiled = kube::core::cel::compile_schema(&schema);
        let errors: Vec<String> = compiled
            .compilation_errors()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", crd.spec.names.kind);
    }
}
