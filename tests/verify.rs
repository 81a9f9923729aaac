//! `urlguard verify` as a user runs it: the real binary finds the URLs of
//! books.yaml on the AWS test bed (after `apply`) and sends its checks to a
//! stand-in data path (`--connect-to`) whose answers each test chooses, so
//! that each judgement — a function URL that answers directly, a refused
//! method that gets through, a URL not applied yet — is shown to fail the
//! run. (tests/data_path.rs runs it against the emulated edge instead.)

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::aws::{TestBed, TestBedOptions};
use support::books::books_bed;
use support::cli::{text, urlguard};

/// A request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    host: String,
    path: String,
    content_sha256: Option<String>,
    body: Vec<u8>,
}

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    /// Function URLs refuse; CloudFront answers what books.yaml allows.
    Shut,
    /// Function URLs answer anyone, as on `AuthType NONE`.
    FunctionUrlsOpen,
    /// CloudFront lets every method through to every path.
    EveryMethodAllowed,
}

#[derive(Clone)]
struct StandIn {
    door: Door,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn answer(
    State(stand_in): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    stand_in.seen.lock().expect("seen").push(Seen {
        method: method.to_string(),
        host: host.clone(),
        path: uri.path().to_owned(),
        content_sha256: headers
            .get("x-amz-content-sha256")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
        body: body.to_vec(),
    });
    if host.ends_with(".on.aws") {
        return match stand_in.door {
            Door::FunctionUrlsOpen => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        };
    }
    let read_only = uri.path().starts_with("/getBook");
    let reading = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if read_only && !reading && stand_in.door != Door::EveryMethodAllowed {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    }
}

/// Starts the stand-in on a free port of this test's runtime.
async fn stand_in(door: Door) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(answer).with_state(StandIn {
        door,
        seen: seen.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, seen)
}

/// Runs `urlguard ARGS` off the runtime, so the stand-in keeps answering.
async fn urlguard_async(bed: &Arc<TestBed>, args: Vec<String>) -> std::process::Output {
    let bed = bed.clone();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        urlguard(&bed, &args)
    })
    .await
    .expect("urlguard")
}

async fn applied_books() -> Arc<TestBed> {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let bed = Arc::new(bed);
    let apply = [
        "apply",
        "-f",
        "examples/books.yaml",
        "--poll-interval",
        "200ms",
    ];
    let output = urlguard_async(&bed, apply.map(str::to_owned).to_vec()).await;
    assert!(output.status.success(), "apply: {:?}", text(&output));
    bed
}

/// The calls the bed received since `before`, by `service:Operation`.
fn asked_since(bed: &TestBed, before: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    bed.calls()
        .calls
        .into_iter()
        .map(|(key, n)| {
            let earlier = before.get(&key).copied().unwrap_or(0);
            (key, n - earlier)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn verify_args(address: SocketAddr, output: &str) -> Vec<String> {
    [
        "verify",
        "-f",
        "examples/books.yaml",
        "--connect-to",
        &address.to_string(),
        "--output",
        output,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shut_door_passes_every_check_and_verify_writes_nothing() {
    let bed = applied_books().await;
    let (address, seen) = stand_in(Door::Shut).await;
    let before = bed.calls().calls;

    let output = urlguard_async(&bed, verify_args(address, "json")).await;
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    // What verify asked of AWS: the distribution, found and proven, and
    // each function's URL config; nothing else, and no write.
    assert_eq!(
        asked_since(&bed, &before),
        [
            ("cloudfront:GetDistribution".to_owned(), 1),
            ("cloudfront:ListDistributions".to_owned(), 1),
            ("lambda:GetFunctionUrlConfig".to_owned(), 5),
        ]
    );

    let json: Value = serde_json::from_str(&stdout).expect("JSON");
    let urls = json["urls"].as_array().expect("urls");
    assert_eq!(urls.len(), 5);
    for url in urls {
        for key in [
            "namespace",
            "name",
            "protectedUrl",
            "functionUrl",
            "checks",
            "ok",
        ] {
            assert!(url.get(key).is_some(), "{key} missing in {url}");
        }
        assert_eq!(url["ok"], true, "{url}");
    }
    let get_books = urls
        .iter()
        .find(|u| u["name"] == "get-books")
        .expect("get-books");
    let checks: Vec<(String, String, u64)> = get_books["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["method"].as_str().expect("method").to_owned(),
                c["status"].as_u64().expect("status"),
            )
        })
        .collect();
    let expected = [
        ("direct", "GET", 403),
        ("through-distribution", "GET", 200),
        ("through-distribution", "HEAD", 200),
        ("through-distribution", "OPTIONS", 200),
        ("method-refused", "POST", 403),
    ]
    .map(|(n, m, s)| (n.to_owned(), m.to_owned(), s));
    assert_eq!(checks, expected);
    assert_eq!(json["awsCalls"]["mutating"], 0);

    // Every request kept its real host; every body came with its hash.
    let seen = seen.lock().expect("seen").clone();
    let protected = get_books["protectedUrl"].as_str().expect("protectedUrl");
    let distribution_host = protected
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("host");
    assert!(
        seen.iter()
            .any(|s| s.host == distribution_host && s.path == "/getBooks")
    );
    assert!(
        seen.iter()
            .any(|s| s.host.ends_with(".lambda-url.eu-west-1.on.aws"))
    );
    let with_body: Vec<&Seen> = seen.iter().filter(|s| !s.body.is_empty()).collect();
    assert!(!with_body.is_empty());
    for request in with_body {
        let digest: String = Sha256::digest(&request.body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            request.content_sha256.as_deref(),
            Some(digest.as_str()),
            "{request:?}"
        );
        assert!(["POST", "PUT", "PATCH"].contains(&request.method.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_url_that_answers_directly_fails_the_run() {
    let bed = applied_books().await;
    let (address, _) = stand_in(Door::FunctionUrlsOpen).await;
    let output = urlguard_async(&bed, verify_args(address, "text")).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        stdout
            .matches(": FAILED: direct 200 (FAILED); through the distribution")
            .count(),
        5,
        "{stdout}"
    );
    assert!(
        stdout.contains("  FAILED direct GET https://")
            && stdout.contains(": answered 200, wanted 403"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_method_that_gets_through_fails_only_that_url() {
    let bed = applied_books().await;
    let (address, _) = stand_in(Door::EveryMethodAllowed).await;
    let output = urlguard_async(&bed, verify_args(address, "json")).await;
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut failed: Vec<&str> = json["urls"]
        .as_array()
        .expect("urls")
        .iter()
        .filter(|u| u["ok"] == false)
        .map(|u| u["name"].as_str().expect("name"))
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, ["get-book", "get-books"], "the read-only URLs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_not_applied_yet_are_reported_and_not_probed() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let bed = Arc::new(bed);
    let (address, seen) = stand_in(Door::Shut).await;
    let before = bed.calls().calls;
    let output = urlguard_async(&bed, verify_args(address, "text")).await;
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout
            .matches("has no distribution in AWS: apply it first")
            .count(),
        5,
        "{stdout}"
    );
    assert!(seen.lock().expect("seen").is_empty(), "nothing to probe");
    assert_eq!(
        asked_since(&bed, &before),
        [("cloudfront:ListDistributions".to_owned(), 1)],
        "verify looked, found nothing, wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_can_go_without_their_hash_as_some_clients_send_them() {
    let bed = applied_books().await;
    let (address, seen) = stand_in(Door::Shut).await;
    let mut args = verify_args(address, "json");
    args.push("--without-content-sha256".to_owned());
    let output = urlguard_async(&bed, args).await;
    assert!(output.status.success(), "{:?}", text(&output));
    let seen = seen.lock().expect("seen").clone();
    let with_body: Vec<&Seen> = seen.iter().filter(|s| !s.body.is_empty()).collect();
    assert!(!with_body.is_empty());
    assert!(
        with_body.iter().all(|s| s.content_sha256.is_none()),
        "{with_body:?}"
    );
}
