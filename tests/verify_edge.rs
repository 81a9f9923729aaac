//! `urlguard verify` against the emulated edge (the aws-emulator's data
//! path, reached with `--connect-to`): books.yaml applied by the real
//! binary passes every check under both protections, and each way of
//! breaking "CloudFront is the only door" fails the run with a line naming
//! the URL and the check that failed.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::aws::{TestBed, TestBedOptions};
use support::books::{books_bed, books_signer, books_yaml};
use support::cli::{text, urlguard};
use support::out_of_band;

/// books.yaml with `edit` applied, written where the tests' scratch files go.
fn manifest(stem: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("verify-edge-{stem}-{}.yaml", std::process::id()));
    std::fs::write(&file, edit(books_yaml())).expect("write");
    file
}

fn origin_access_control(yaml: String) -> String {
    yaml.replace("protection: EdgeSigner", "protection: OriginAccessControl")
}

/// `urlguard apply -f FILE` against a fresh bed; the bed and its set-up
/// config.
async fn applied(file: &Path) -> (TestBed, aws_config::SdkConfig) {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let file = file.to_str().expect("path");
    let output = urlguard(&bed, &["apply", "-f", file, "--poll-interval", "200ms"]);
    assert!(output.status.success(), "apply: {:?}", text(&output));
    (bed, config)
}

/// `urlguard verify -f FILE --connect-to <the bed> EXTRA...`: exit code and
/// stdout.
fn verify(bed: &TestBed, file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let address = bed.addr.to_string();
    let mut args = vec![
        "verify",
        "-f",
        file.to_str().expect("path"),
        "--connect-to",
        &address,
    ];
    args.extend_from_slice(extra);
    let output = urlguard(bed, &args);
    let (stdout, stderr) = text(&output);
    (output.status.code(), format!("{stdout}{stderr}"))
}

/// The distribution's id, from verify's JSON (its protected URL's host).
fn distribution_domain(bed: &TestBed, file: &Path) -> String {
    let (_, out) = verify(bed, file, &["--output", "json"]);
    let json: Value = serde_json::from_str(&out).expect("JSON");
    let protected = json["urls"][0]["protectedUrl"]
        .as_str()
        .expect("protectedUrl");
    protected
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("host")
        .to_owned()
}

/// The id of the bed's only distribution.
async fn only_distribution(config: &aws_config::SdkConfig) -> String {
    let list = aws_sdk_cloudfront::Client::new(config)
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    let items = list
        .distribution_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default();
    assert_eq!(items.len(), 1);
    items[0].id().to_owned()
}

#[tokio::test]
async fn books_passes_every_check_under_both_protections() {
    for (stem, edit) in [
        ("signer", (|y| y) as fn(String) -> String),
        ("oac", origin_access_control),
    ] {
        let file = manifest(stem, edit);
        let (bed, _) = applied(&file).await;
        let (code, out) = verify(&bed, &file, &["--output", "json"]);
        assert_eq!(code, Some(0), "{stem}: {out}");
        let json: Value = serde_json::from_str(&out).expect("JSON");
        let urls = json["urls"].as_array().expect("urls");
        assert_eq!(urls.len(), 5);
        for url in urls {
            assert_eq!(url["ok"], true, "{stem}: {url}");
            let direct = &url["checks"][0];
            assert_eq!(
                (direct["name"].as_str(), direct["status"].as_u64()),
                (Some("direct"), Some(403)),
                "{url}"
            );
        }
        assert_eq!(json["awsCalls"]["mutating"], 0);
    }
}

#[tokio::test]
async fn a_signer_role_without_invoke_function_fails_every_url_through_the_distribution() {
    let file = manifest("no-invoke", |y| y);
    let (bed, config) = applied(&file).await;
    out_of_band::strip_signer_action(&config, &books_signer(), "lambda:InvokeFunction").await;
    let (code, out) = verify(&bed, &file, &[]);
    assert_eq!(code, Some(1), "{out}");
    for name in [
        "get-books",
        "get-book",
        "create-book",
        "update-book",
        "delete-book",
    ] {
        assert!(
            out.contains(&format!("ProtectedFunctionUrl books/{name}: FAILED")),
            "{name}: {out}"
        );
    }
    assert!(
        out.contains("  FAILED through-distribution GET https://")
            && out.contains("answered 403, wanted the function's answer"),
        "{out}"
    );
}

#[tokio::test]
async fn an_oac_grant_for_another_distribution_fails_its_url() {
    let file = manifest("other-arn", origin_access_control);
    let (bed, config) = applied(&file).await;
    let domain = distribution_domain(&bed, &file);
    let other = format!(
        "arn:aws:cloudfront::123456789012:distribution/EOTHER{}",
        only_distribution(&config).await
    );
    out_of_band::regrant_for(&config, "eu-west-1", "books-get-books", &other).await;
    let (code, out) = verify(&bed, &file, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ProtectedFunctionUrl books/get-books: FAILED"),
        "{out}"
    );
    assert!(
        out.contains("ProtectedFunctionUrl books/get-book: ok"),
        "the others pass: {out}"
    );
    assert!(
        out.contains(&format!(
            "  FAILED through-distribution GET https://{domain}/getBooks: answered 403"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_url_made_public_out_of_band_fails_the_direct_check() {
    let file = manifest("public", |y| y);
    let (bed, config) = applied(&file).await;
    out_of_band::switch_to_none(&config, "eu-west-1", "books-get-book").await;
    out_of_band::grant_public(&config, "eu-west-1", "books-get-book").await;
    let (code, out) = verify(&bed, &file, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ProtectedFunctionUrl books/get-book: FAILED"),
        "{out}"
    );
    assert!(
        out.contains("  FAILED direct GET https://") && out.contains("answered 200, wanted 403"),
        "{out}"
    );
    assert_eq!(out.matches(": FAILED").count(), 1, "only that URL: {out}");
}

#[tokio::test]
async fn a_behavior_moved_out_of_band_is_named() {
    let file = manifest("moved", |y| y);
    let (bed, config) = applied(&file).await;
    let id = only_distribution(&config).await;
    out_of_band::move_behavior(&config, &id, "/getBooks", "/getBooksMoved").await;
    let (code, out) = verify(&bed, &file, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ProtectedFunctionUrl books/get-books: FAILED: spec.pathPattern:")
            && out.contains("has no behavior for /getBooks"),
        "{out}"
    );
}

#[tokio::test]
async fn a_body_the_signer_never_sees_fails_the_body_methods() {
    // forwardBody false: the signer signs an empty body while CloudFront
    // forwards the real one, so Lambda refuses the signature.
    let file = manifest("no-body", |y| {
        y.replacen(
            "  pathPattern: /createBook\n",
            "  pathPattern: /createBook\n  forwardBody: false\n",
            1,
        )
    });
    let (bed, _) = applied(&file).await;
    let (code, out) = verify(&bed, &file, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ProtectedFunctionUrl books/create-book: FAILED"),
        "{out}"
    );
    for method in ["PUT", "PATCH", "POST"] {
        assert!(
            out.contains(&format!("  FAILED through-distribution {method} https://")),
            "{method}: {out}"
        );
    }
    assert!(!out.contains("  FAILED through-distribution GET"), "{out}");
}

#[tokio::test]
async fn an_oac_post_without_its_content_hash_fails_the_body_methods() {
    let file = manifest("no-hash", origin_access_control);
    let (bed, _) = applied(&file).await;
    let (code, out) = verify(&bed, &file, &["--without-content-sha256"]);
    assert_eq!(code, Some(1), "{out}");
    for name in ["create-book", "update-book", "delete-book"] {
        assert!(
            out.contains(&format!("ProtectedFunctionUrl books/{name}: FAILED")),
            "{name}: {out}"
        );
    }
    assert!(
        out.contains("ProtectedFunctionUrl books/get-books: ok"),
        "{out}"
    );
    let (code, out) = verify(&bed, &file, &[]);
    assert_eq!(code, Some(0), "with the hash every check passes: {out}");
}
