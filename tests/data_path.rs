//! The data path, end to end: books.yaml applied by urlguard (under its
//! own IAM policy) to the test bed, then real requests over plain HTTP to
//! the emulator with the real `Host` — viewer → CloudFront behavior →
//! Lambda@Edge signer (the uploaded code, run by Node) or origin access
//! control → function URL (SigV4 verified, IAM evaluated) → a stand-in
//! function that echoes what it received. The function URL called
//! directly is refused; through the distribution every allowed method gets
//! through with method, path, query and body unchanged; what should be
//! refused is.

mod support;

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use serde_json::Value;
use support::aws::{TestBed, TestBedOptions, as_product};
use support::books::{BOOK_FUNCTIONS, books, books_bed, books_signer};
use support::engine::assert_all_ready;
use support::out_of_band;
use support::traffic::{Answer, host_of, send, sha256_hex, signed_headers};
use urlguard::api::Protection;
use urlguard::aws::Aws;
use urlguard::plan::desired;
use urlguard::reconcile::{DeployWait, Engine, Mode, Status};

/// What the tests need of an applied books.yaml.
struct Applied {
    bed: TestBed,
    config: SdkConfig,
    /// The distribution's `<id>.cloudfront.net`.
    domain: String,
    distribution_arn: String,
    /// Function name → its URL host.
    url_hosts: Vec<(String, String)>,
}

impl Applied {
    fn url_host(&self, function: &str) -> &str {
        self.url_hosts
            .iter()
            .find(|(name, _)| name == function)
            .map(|(_, host)| host.as_str())
            .unwrap_or_else(|| panic!("no URL for {function}"))
    }

    fn viewer(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        send(self.bed.addr, method, &self.domain, path, headers, body)
    }
}

async fn apply_books(protection: Protection) -> Applied {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    distributions[0].spec.protection = protection;
    let engine = Engine::new(
        Aws::from_sdk_config(as_product(config.clone())),
        Mode::Apply,
        DeployWait {
            enabled: true,
            poll_interval: Duration::from_millis(200),
            timeout: Duration::from_secs(30),
        },
    );
    let reports = engine
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await;
    assert_all_ready(&reports);
    let mut domain = None;
    let mut distribution_arn = None;
    let mut url_hosts = Vec::new();
    for report in &reports {
        match &report.found {
            Status::Distribution(status) => {
                domain = status.domain_name.clone();
                distribution_arn = status.distribution_arn.clone();
            }
            Status::Url(status) => {
                let arn = status.function_arn.clone().expect("function ARN");
                let name = arn.rsplit(':').next().unwrap_or_default().to_owned();
                url_hosts.push((name, host_of(status.function_url.as_deref().expect("URL"))));
            }
        }
    }
    Applied {
        bed,
        config,
        domain: domain.expect("the distribution's domain"),
        distribution_arn: distribution_arn.expect("the distribution's ARN"),
        url_hosts,
    }
}

#[track_caller]
fn assert_forbidden_by_lambda(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 403, "{what}: {}", answer.text());
    assert_eq!(
        answer.json(),
        serde_json::json!({"Message": "Forbidden"}),
        "{what}"
    );
}

#[track_caller]
fn assert_refused_by_cloudfront(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 403, "{what}: {}", answer.text());
    assert_eq!(
        answer.header("x-cache"),
        Some("Error from cloudfront"),
        "{what}"
    );
    assert!(
        answer
            .text()
            .contains("not configured to allow the HTTP request method"),
        "{what}"
    );
}

/// The echo shows the request arrived as sent, at `host`, let in as `caller`.
#[track_caller]
fn assert_echoed(
    answer: &Answer,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    host: &str,
    caller: &str,
) {
    assert_eq!(answer.status, 200, "{method} {path}: {}", answer.text());
    if method == "HEAD" {
        return;
    }
    let echo: Value = answer.json();
    assert_eq!(echo["method"], method, "{echo}");
    assert_eq!(echo["path"], path, "{echo}");
    assert_eq!(echo["query"], query, "{echo}");
    assert_eq!(
        echo["bodySha256"],
        sha256_hex(body),
        "{method} {path}: the body changed on the way"
    );
    assert_eq!(echo["bodyLength"], body.len(), "{echo}");
    assert_eq!(
        echo["headers"]["host"], host,
        "the origin's own host, not the viewer's: {echo}"
    );
    assert!(
        echo["caller"].as_str().is_some_and(|c| c.contains(caller)),
        "caller {caller}: {echo}"
    );
}

/// Traffic is not an API call: the bed's call ledger has none of it.
#[track_caller]
fn assert_traffic_not_counted(applied: &Applied) {
    let counted: Vec<String> = applied
        .bed
        .calls()
        .calls
        .keys()
        .filter(|key| key.starts_with("unknown:"))
        .cloned()
        .collect();
    assert!(counted.is_empty(), "traffic counted as calls: {counted:?}");
}

/// A direct, unsigned call to each URL is refused as Lambda refuses it.
fn assert_every_url_refuses_direct_calls(applied: &Applied) {
    for function in BOOK_FUNCTIONS {
        let host = applied.url_host(function);
        let answer = send(applied.bed.addr, "GET", host, "/", &[], b"");
        assert_forbidden_by_lambda(&answer, &format!("{function} called directly"));
    }
}

const BINARY: [u8; 6] = [0, 159, 146, 150, 255, 10];

#[tokio::test]
async fn edge_signer_is_the_only_door() {
    let started = Instant::now();
    let applied = apply_books(Protection::EdgeSigner).await;
    let applied_in = started.elapsed();
    let signer = books_signer();
    assert_every_url_refuses_direct_calls(&applied);

    let through = Instant::now();
    let get_books = applied.url_host("books-get-books");
    let answer = applied.viewer("GET", "/getBooks?b=2&a=1&a=3", &[("x-test", "kept")], b"");
    assert_echoed(
        &answer,
        "GET",
        "/getBooks",
        "b=2&a=1&a=3",
        b"",
        get_books,
        &signer,
    );
    assert_eq!(answer.json()["headers"]["x-test"], "kept");
    assert!(
        answer.json()["headers"]["x-amz-security-token"].is_string(),
        "signed by a role session"
    );
    let per_request = through.elapsed();

    let get_book = applied.url_host("books-get-book");
    let answer = applied.viewer("GET", "/getBook/42?q=a%20b", &[], b"");
    assert_echoed(
        &answer,
        "GET",
        "/getBook/42",
        "q=a%20b",
        b"",
        get_book,
        &signer,
    );
    assert_echoed(
        &applied.viewer("HEAD", "/getBook/42", &[], b""),
        "HEAD",
        "/getBook/42",
        "",
        b"",
        get_book,
        &signer,
    );

    let create = applied.url_host("books-create-book");
    let json = br#"{"title":"Dune","author":"Frank Herbert"}"#;
    let answer = applied.viewer(
        "POST",
        "/createBook",
        &[("content-type", "application/json")],
        json,
    );
    assert_echoed(&answer, "POST", "/createBook", "", json, create, &signer);
    assert_eq!(answer.json()["headers"]["content-type"], "application/json");
    let update = applied.url_host("books-update-book");
    let answer = applied.viewer(
        "PUT",
        "/updateBook/7",
        &[("content-type", "application/octet-stream")],
        &BINARY,
    );
    assert_echoed(
        &answer,
        "PUT",
        "/updateBook/7",
        "",
        &BINARY,
        update,
        &signer,
    );
    let delete = applied.url_host("books-delete-book");
    let answer = applied.viewer("DELETE", "/deleteBook/7", &[], b"");
    assert_echoed(&answer, "DELETE", "/deleteBook/7", "", b"", delete, &signer);

    // A viewer's own Authorization travels on, beside the signer's.
    let answer = applied.viewer(
        "GET",
        "/getBooks",
        &[("authorization", "Bearer viewer-token")],
        b"",
    );
    assert_eq!(
        answer.json()["headers"]["x-forwarded-authorization"],
        "Bearer viewer-token"
    );

    for (method, path) in [
        ("POST", "/getBooks"),
        ("DELETE", "/getBook/1"),
        ("PUT", "/getBooks"),
    ] {
        assert_refused_by_cloudfront(
            &applied.viewer(method, path, &[], b"x"),
            &format!("{method} {path}"),
        );
    }
    let s3 = applied.viewer("GET", "/index.html", &[], b"");
    assert_eq!(s3.status, 200, "{}", s3.text());
    assert!(
        s3.text().contains("bucket books-frontend, key index.html"),
        "{}",
        s3.text()
    );

    // More than Lambda@Edge passes: the signer refuses to sign half a body.
    let big = vec![b'b'; 1024 * 1024 + 1];
    let answer = applied.viewer("POST", "/createBook", &[], &big);
    assert_eq!(answer.status, 413, "{}", answer.text());

    // Signed, but not by anyone the function lets in.
    let unknown =
        aws_credential_types::Credentials::new("AKIDUNRELATED", "secret", None, None, "t");
    let path = "/";
    let headers = signed_headers(unknown, "eu-west-1", "GET", get_books, path, b"");
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_forbidden_by_lambda(
        &send(applied.bed.addr, "GET", get_books, path, &headers, b""),
        "an unknown key",
    );

    let iam = aws_sdk_iam::Client::new(&applied.config);
    iam.create_role()
        .role_name("unrelated")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("CreateRole");
    let session = aws_sdk_sts::Client::new(&applied.config)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/unrelated")
        .role_session_name("intruder")
        .send()
        .await
        .expect("AssumeRole");
    let c = session.credentials().expect("credentials");
    let intruder = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "t",
    );
    let headers = signed_headers(intruder, "eu-west-1", "GET", get_books, path, b"");
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_forbidden_by_lambda(
        &send(applied.bed.addr, "GET", get_books, path, &headers, b""),
        "a valid session of a role without the grant",
    );

    // The function's owner withdraws the opt-in: the signer role's
    // permissions boundary no longer lets it invoke that function, though
    // its own policy still names it.
    let lambda = support::aws::lambda_client(&applied.config, "eu-west-1");
    let delete_arn = lambda
        .get_function()
        .function_name("books-delete-book")
        .send()
        .await
        .expect("GetFunction")
        .configuration()
        .and_then(|c| c.function_arn())
        .expect("ARN")
        .to_owned();
    lambda
        .untag_resource()
        .resource(&delete_arn)
        .tag_keys(support::aws::OPT_IN_TAG)
        .send()
        .await
        .expect("UntagResource");
    assert_forbidden_by_lambda(
        &applied.viewer("DELETE", "/deleteBook/7", &[], b""),
        "a function no longer opted in",
    );
    assert_eq!(applied.viewer("GET", "/getBooks", &[], b"").status, 200);

    // Warm: what a request through the signer costs.
    const WARM_REQUESTS: u32 = 20;
    let warm = Instant::now();
    for _ in 0..WARM_REQUESTS {
        assert_eq!(applied.viewer("GET", "/getBooks", &[], b"").status, 200);
    }
    let warm_request = warm.elapsed() / WARM_REQUESTS;

    // The signer's role loses lambda:InvokeFunction (only the URL action
    // left, as sufficed before October 2025), then its whole policy.
    let policies =
        out_of_band::strip_signer_action(&applied.config, &signer, "lambda:InvokeFunction").await;
    assert_forbidden_by_lambda(
        &applied.viewer("GET", "/getBooks", &[], b""),
        "a signer role without lambda:InvokeFunction",
    );
    out_of_band::drop_signer_policies(&applied.config, &signer, &policies).await;
    assert_forbidden_by_lambda(
        &applied.viewer("GET", "/getBooks", &[], b""),
        "through the signer without its policy",
    );
    assert_traffic_not_counted(&applied);
    eprintln!(
        "data path (EdgeSigner): apply {applied_in:?}, first request through the signer (node cold start) {per_request:?}, warm request {warm_request:?}, whole test {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn origin_access_control_lets_in_only_its_distribution() {
    let started = Instant::now();
    let applied = apply_books(Protection::OriginAccessControl).await;
    assert_every_url_refuses_direct_calls(&applied);
    let cloudfront = "cloudfront.amazonaws.com";

    let get_books = applied.url_host("books-get-books");
    let answer = applied.viewer("GET", "/getBooks?a=1&a=2", &[], b"");
    assert_echoed(
        &answer,
        "GET",
        "/getBooks",
        "a=1&a=2",
        b"",
        get_books,
        cloudfront,
    );
    let get_book = applied.url_host("books-get-book");
    assert_echoed(
        &applied.viewer("GET", "/getBook/42", &[], b""),
        "GET",
        "/getBook/42",
        "",
        b"",
        get_book,
        cloudfront,
    );

    // PUT/POST callers must send the body's hash themselves.
    let create = applied.url_host("books-create-book");
    let json = br#"{"title":"Dune"}"#;
    assert_forbidden_by_lambda(
        &applied.viewer(
            "POST",
            "/createBook",
            &[("content-type", "application/json")],
            json,
        ),
        "POST without x-amz-content-sha256",
    );
    let hash = sha256_hex(json);
    let answer = applied.viewer(
        "POST",
        "/createBook",
        &[("x-amz-content-sha256", &hash)],
        json,
    );
    assert_echoed(&answer, "POST", "/createBook", "", json, create, cloudfront);
    let update = applied.url_host("books-update-book");
    let hash = sha256_hex(&BINARY);
    let answer = applied.viewer(
        "PUT",
        "/updateBook/7",
        &[("x-amz-content-sha256", &hash)],
        &BINARY,
    );
    assert_echoed(
        &answer,
        "PUT",
        "/updateBook/7",
        "",
        &BINARY,
        update,
        cloudfront,
    );
    assert_forbidden_by_lambda(
        &applied.viewer(
            "PUT",
            "/updateBook/7",
            &[("x-amz-content-sha256", &sha256_hex(b"other"))],
            &BINARY,
        ),
        "PUT with the hash of another body",
    );
    assert_refused_by_cloudfront(
        &applied.viewer("POST", "/getBooks", &[], b""),
        "POST /getBooks",
    );

    // The grant names another distribution: CloudFront is refused.
    let other = applied
        .distribution_arn
        .replace("distribution/", "distribution/EOTHER");
    out_of_band::regrant_for(&applied.config, "eu-west-1", "books-get-books", &other).await;
    assert_forbidden_by_lambda(
        &applied.viewer("GET", "/getBooks", &[], b""),
        "an OAC grant for another distribution",
    );
    assert_echoed(
        &applied.viewer("GET", "/getBook/1", &[], b""),
        "GET",
        "/getBook/1",
        "",
        b"",
        get_book,
        cloudfront,
    );

    // Switched to NONE out of band: refused while the resource policy is
    // not public (it always applies), then the door is open.
    out_of_band::switch_to_none(&applied.config, "eu-west-1", "books-get-book").await;
    assert_forbidden_by_lambda(
        &send(applied.bed.addr, "GET", get_book, "/", &[], b""),
        "NONE without a public grant",
    );
    out_of_band::grant_public(&applied.config, "eu-west-1", "books-get-book").await;
    let open = send(
        applied.bed.addr,
        "GET",
        get_book,
        "/getBook/9?x=1",
        &[],
        b"",
    );
    assert_echoed(
        &open,
        "GET",
        "/getBook/9",
        "x=1",
        b"",
        get_book,
        "anonymous",
    );
    assert_traffic_not_counted(&applied);
    eprintln!(
        "data path (OriginAccessControl): whole test {:?}",
        started.elapsed()
    );
}
