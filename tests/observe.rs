//! `spec.managementPolicy: Observe` (issue 19): urlguard reads AWS as it
//! would to reconcile, reports how AWS differs from the spec, and writes
//! nothing to AWS, counted on the test bed's wire, not on urlguard's own
//! ledger alone.
//!
//! - books.yaml applied, then changed behind urlguard's back (a behavior
//!   moved, the signer role's policy stripped, a parameter deleted): with
//!   the distribution observed, each difference is reported on the object
//!   it concerns (`Drifted`), the others read `Observed`, `urlguard plan`
//!   and `apply` say the same and write nothing, `destroy` releases without
//!   a call; managed again, one pass repairs all of it;
//! - an observed URL of a managed distribution keeps its route exactly as
//!   found while the distribution is updated for the others, and gets its
//!   new route once managed;
//! - observed from empty: everything reported missing (and no stand-in of
//!   a plan in the status), nothing written, `urlguard invalidate` refused,
//!   deletion released without a single call;
//! - the controller: drift in the `Ready` condition and a `Drifted` warning
//!   event, 0 writes; back to `Manage` it converges; deleting observed
//!   objects makes no AWS call and removes their finalizers.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use support::aws::{TestBed, TestBedOptions, as_product};
use support::books::{BOOK_FUNCTIONS, books, books_bed, books_signer, books_yaml};
use support::cli::{text, urlguard};
use support::controller::Controller;
use support::engine::{assert_all_ready, assert_writes};
use support::inventory::inventory;
use support::kube::Cluster;
use support::out_of_band::{move_behavior, strip_signer_action};
use urlguard::api::{EdgeDistribution, Invalidation, ManagementPolicy, ProtectedFunctionUrl};
use urlguard::aws::Aws;
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{
    DeployWait, Engine, InvalidateError, Kind, Mode, Reason, ResourceReport, Status,
};

/// The `ProtectedFunctionUrl`s of examples/books.yaml.
const BOOK_URLS: [&str; 5] = [
    "get-books",
    "get-book",
    "create-book",
    "update-book",
    "delete-book",
];

fn engine(config: SdkConfig, mode: Mode) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), mode, wait)
}

/// One pass of a fresh engine in `mode` over the resources.
async fn reconcile(
    bed: &TestBed,
    mode: Mode,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> (Vec<ResourceReport>, Engine) {
    let engine = engine(bed.sdk_config().await, mode);
    let model = desired::build("urlguard", distributions, urls);
    let reports = engine.reconcile(&model).await;
    (reports, engine)
}

/// The report of `kind` `name`.
fn report<'a>(reports: &'a [ResourceReport], kind: Kind, name: &str) -> &'a ResourceReport {
    reports
        .iter()
        .find(|r| r.kind == kind && r.name == name)
        .unwrap_or_else(|| panic!("no report for {name}: {reports:#?}"))
}

fn url<'a>(reports: &'a [ResourceReport], name: &str) -> &'a ResourceReport {
    report(reports, Kind::ProtectedFunctionUrl, name)
}

fn distribution(reports: &[ResourceReport]) -> &ResourceReport {
    report(reports, Kind::EdgeDistribution, "books")
}

/// The calls that reached the bed (every key, urlguard's or not) since its
/// counts were last reset and change AWS state: what is not a `Get`,
/// `List` or `Describe`.
fn writes_on_the_wire(bed: &TestBed) -> Vec<String> {
    bed.calls()
        .calls
        .into_iter()
        .filter(|(key, count)| {
            let operation = key.split(':').nth(1).unwrap_or_default();
            *count > 0
                && !["Get", "List", "Describe"]
                    .iter()
                    .any(|read| operation.starts_with(read))
        })
        .map(|(key, count)| format!("{key} x{count}"))
        .collect()
}

#[track_caller]
fn assert_no_write_on_the_wire(bed: &TestBed, context: &str) {
    let writes = writes_on_the_wire(bed);
    assert!(
        writes.is_empty(),
        "{context}: writes reached AWS: {writes:?}"
    );
}

/// An observed object's verdict: `reason`, and a message that says it is
/// observed and holds each of `naming`.
#[track_caller]
fn assert_observed(report: &ResourceReport, reason: Reason, naming: &[&str]) {
    assert!(report.observed, "{report:#?}");
    assert_eq!(report.verdict.reason, reason, "{:#?}", report.verdict);
    let message = &report.verdict.message;
    assert!(
        message.starts_with("observed, not managed (spec.managementPolicy: Observe)"),
        "{message}"
    );
    for what in naming {
        assert!(message.contains(what), "{what:?} not in {message}");
    }
    let ready = report
        .status()
        .conditions()
        .iter()
        .find(|c| c.type_ == "Ready")
        .cloned()
        .expect("Ready");
    assert_eq!(ready.reason, reason.as_str());
    assert_eq!(ready.status == "True", reason == Reason::Observed);
}

/// The distribution's id, from a report of it.
fn distribution_id(reports: &[ResourceReport]) -> String {
    match &distribution(reports).found {
        Status::Distribution(status) => status.distribution_id.clone().expect("id"),
        Status::Url(_) => unreachable!("a distribution's report"),
    }
}

/// Polls CloudFront until distribution `id` is deployed.
async fn wait_deployed(config: &SdkConfig, id: &str) {
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    for _ in 0..150 {
        let found = cloudfront
            .get_distribution()
            .id(id)
            .send()
            .await
            .expect("GetDistribution");
        if found.distribution().map(|d| d.status()) == Some("Deployed") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("distribution {id} did not deploy");
}

/// The path patterns of the bed's distribution and their methods.
async fn behaviors(config: &SdkConfig, id: &str) -> Vec<(String, usize)> {
    let found = aws_sdk_cloudfront::Client::new(config)
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .expect("GetDistributionConfig");
    let mut behaviors: Vec<(String, usize)> = found
        .distribution_config()
        .and_then(|c| c.cache_behaviors())
        .map(|b| b.items())
        .unwrap_or_default()
        .iter()
        .map(|b| {
            let methods = b.allowed_methods().map_or(0, |m| m.items().len());
            (b.path_pattern().to_owned(), methods)
        })
        .collect();
    behaviors.sort();
    behaviors
}

fn observing(distributions: &mut [EdgeDistribution], policy: ManagementPolicy) {
    for distribution in distributions {
        distribution.spec.management_policy = policy;
    }
}

/// examples/books.yaml with its distribution observed.
fn observed_books_file() -> std::path::PathBuf {
    let text = books_yaml().replacen(
        "spec:\n  protection: EdgeSigner\n",
        "spec:\n  managementPolicy: Observe\n  protection: EdgeSigner\n",
        1,
    );
    assert!(
        text.contains("managementPolicy: Observe"),
        "books.yaml changed shape"
    );
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("books-observed-{}.yaml", std::process::id()));
    std::fs::write(&file, text).expect("manifest");
    file
}

#[tokio::test]
async fn drift_of_an_observed_distribution_is_reported_without_a_write_and_repaired_once_managed() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    let (applied, _) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_all_ready(&applied);
    let id = distribution_id(&applied);

    // Behind urlguard's back: a behavior moved, the signer role may no
    // longer invoke the functions, a parameter deleted.
    move_behavior(&config, &id, "/getBooks", "/getBooksMoved").await;
    strip_signer_action(&config, &books_signer(), "lambda:InvokeFunction").await;
    aws_sdk_ssm::Client::new(&config)
        .delete_parameter()
        .name("/books/GetBookUrl")
        .send()
        .await
        .expect("DeleteParameter");
    wait_deployed(&config, &id).await;
    let drifted = inventory(&config, &BOOK_FUNCTIONS).await;

    observing(&mut distributions, ManagementPolicy::Observe);
    bed.reset_counts();
    let (seen, engine) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_no_write_on_the_wire(&bed, "observing");
    assert_writes(&engine, 0);
    assert_observed(
        distribution(&seen),
        Reason::Drifted,
        &[
            "behaviors[/getBooks]: missing",
            "behaviors[/getBooksMoved]: not in the spec",
            "to invoke exactly 5 function URL(s)",
        ],
    );
    assert_observed(
        url(&seen, "get-books"),
        Reason::Drifted,
        &[
            "change its route in the distribution (2 field(s) differ)",
            "behaviors[/getBooks]: missing",
            "behaviors[/getBooksMoved]: not in the spec",
        ],
    );
    assert_observed(
        url(&seen, "get-book"),
        Reason::Drifted,
        &["write SSM parameter /books/GetBookUrl"],
    );
    for name in ["create-book", "update-book", "delete-book"] {
        assert_observed(
            url(&seen, name),
            Reason::Observed,
            &["AWS matches the spec; reachable only through the distribution"],
        );
    }
    assert_eq!(inventory(&config, &BOOK_FUNCTIONS).await, drifted);

    // The CLI says the same, and writes nothing either.
    let file = observed_books_file();
    let file = file.to_str().expect("path");
    let plan = urlguard(&bed, &["plan", "-f", file]);
    let (stdout, stderr) = text(&plan);
    assert!(plan.status.success(), "plan: {stdout}\n{stderr}");
    assert!(
        stdout.contains("EdgeDistribution books/books: Drifted observed, not managed")
            && stdout.contains("ProtectedFunctionUrl books/get-books: Drifted")
            && stdout.contains("ProtectedFunctionUrl books/create-book: Observed")
            && stdout.contains("would: set role"),
        "{stdout}"
    );
    let apply = urlguard(&bed, &["apply", "-f", file, "--poll-interval", "200ms"]);
    let (stdout, stderr) = text(&apply);
    assert_eq!(
        apply.status.code(),
        Some(1),
        "drift is not ready: {stdout}\n{stderr}"
    );
    assert_eq!(
        stdout
            .matches("observed, not managed (spec.managementPolicy: Observe): nothing is written to AWS for it")
            .count(),
        6,
        "{stdout}"
    );
    assert!(!stdout.contains("did:"), "{stdout}");
    assert!(
        stdout.contains("AWS calls: ") && stdout.contains(" (0 mutating)"),
        "{stdout}"
    );
    let destroy = urlguard(&bed, &["destroy", "-f", file]);
    let (stdout, stderr) = text(&destroy);
    assert!(destroy.status.success(), "destroy: {stdout}\n{stderr}");
    assert_eq!(stdout.matches(": released: ").count(), 6, "{stdout}");
    assert!(stdout.contains("AWS calls: 0 (0 mutating)"), "{stdout}");
    assert_no_write_on_the_wire(&bed, "plan, apply and destroy of observed objects");
    assert_eq!(inventory(&config, &BOOK_FUNCTIONS).await, drifted);

    // Managed again: one pass repairs every difference.
    observing(&mut distributions, ManagementPolicy::Manage);
    let (managed, engine) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_all_ready(&managed);
    assert!(managed.iter().all(|r| !r.observed));
    assert_eq!(
        behaviors(&config, &id)
            .await
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        [
            "/createBook",
            "/deleteBook/*",
            "/getBook/*",
            "/getBooks",
            "/updateBook/*"
        ]
    );
    inventory(&config, &BOOK_FUNCTIONS)
        .await
        .assert_books_applied(1, "repaired");
    assert!(engine.aws().ledger().summary().mutating > 0);
    let (again, engine) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_all_ready(&again);
    assert_writes(&engine, 0);
}

#[tokio::test]
async fn an_observed_url_keeps_its_route_while_its_managed_distribution_changes() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, mut urls) = books();
    let (applied, _) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_all_ready(&applied);
    let id = distribution_id(&applied);
    let routes = behaviors(&config, &id).await;

    // The distribution changes for everyone; get-books, observed, asks for
    // another path and every method.
    distributions[0].spec.comment = Some("changed".into());
    let get_books = urls
        .iter_mut()
        .find(|u| u.metadata.name.as_deref() == Some("get-books"))
        .expect("get-books");
    get_books.spec.management_policy = ManagementPolicy::Observe;
    get_books.spec.path_pattern = "/allBooks".into();
    get_books.spec.allowed_methods = serde_json::from_value(serde_json::json!([
        "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"
    ]))
    .expect("methods");
    bed.reset_counts();
    let (seen, _) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_eq!(
        writes_on_the_wire(&bed),
        ["cloudfront:UpdateDistribution x1"],
        "the comment, and nothing for get-books"
    );
    assert_eq!(
        behaviors(&config, &id).await,
        routes,
        "get-books keeps /getBooks, 3 methods"
    );
    assert!(distribution(&seen).ready() && !distribution(&seen).observed);
    assert_observed(
        url(&seen, "get-books"),
        Reason::Drifted,
        &[
            "behaviors[/allBooks]: missing",
            "behaviors[/getBooks]: not in the spec",
        ],
    );
    assert!(url(&seen, "get-book").ready() && !url(&seen, "get-book").observed);

    // Managed: its new route.
    let get_books = urls
        .iter_mut()
        .find(|u| u.metadata.name.as_deref() == Some("get-books"))
        .expect("get-books");
    get_books.spec.management_policy = ManagementPolicy::Manage;
    let (managed, _) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_all_ready(&managed);
    let now = behaviors(&config, &id).await;
    assert!(now.contains(&("/allBooks".to_owned(), 7)), "{now:?}");
    assert!(!now.iter().any(|(path, _)| path == "/getBooks"), "{now:?}");
}

#[tokio::test]
async fn observing_from_empty_reports_everything_missing_and_writes_nothing() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    observing(&mut distributions, ManagementPolicy::Observe);
    let before = inventory(&config, &BOOK_FUNCTIONS).await;
    bed.reset_counts();
    let (seen, observer) = reconcile(&bed, Mode::Apply, &distributions, &urls).await;
    assert_no_write_on_the_wire(&bed, "observing from empty");
    assert_writes(&observer, 0);
    assert_observed(
        distribution(&seen),
        Reason::Drifted,
        &[
            "the distribution does not exist in AWS",
            "create distribution with 5 behavior(s) for 5 URL(s)",
            "create signer function",
        ],
    );
    // Its status holds what AWS has, not a plan's stand-ins.
    match &distribution(&seen).found {
        Status::Distribution(status) => {
            assert_eq!(status.distribution_id, None);
            assert_eq!(status.signer_version_arn, None);
        }
        Status::Url(_) => unreachable!("a distribution's report"),
    }
    for name in BOOK_URLS {
        let report = url(&seen, name);
        assert_observed(
            report,
            Reason::Drifted,
            &[
                "create function URL config (AWS_IAM)",
                "change its route in the distribution (1 field(s) differ)",
                "grant the signer role lambda:InvokeFunctionUrl and lambda:InvokeFunction",
            ],
        );
        match &report.found {
            Status::Url(status) => {
                assert_eq!(status.function_url, None, "{name}");
                assert_eq!(status.protected_url, None, "{name}");
                assert!(status.function_arn.is_some(), "{name}: the function exists");
            }
            Status::Distribution(_) => unreachable!("a URL's report"),
        }
    }

    // `urlguard invalidate` refuses it before any call.
    let model = desired::build("urlguard", &distributions, &urls);
    let refused = observer
        .invalidate(
            &model.distributions[0],
            &Invalidation {
                paths: vec!["/index.html".into()],
                revision: "r1".into(),
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(InvalidateError::Observed(name)) if name == "books/books"),
        "{refused:?}"
    );
    assert_writes(&observer, 0);

    // Deleting them: released, not even a read.
    let destroyer = engine(bed.sdk_config().await, Mode::Apply);
    let gone = destroyer
        .destroy(&teardown::build("urlguard", &distributions, &urls))
        .await;
    assert_eq!(gone.len(), 6);
    assert!(
        gone.iter()
            .all(|r| r.verdict.reason == Reason::Released && r.observed)
    );
    assert_eq!(destroyer.aws().ledger().summary().total, 0);
    assert_no_write_on_the_wire(&bed, "releasing");
    assert_eq!(inventory(&config, &BOOK_FUNCTIONS).await, before);
}

/// `kubectl wait` until the `Ready` condition of `target` has `reason`.
fn wait_reason(cluster: &Cluster, controller: &Controller, target: &str, reason: &str) {
    let condition =
        format!("--for=jsonpath={{.status.conditions[?(@.type==\"Ready\")].reason}}={reason}");
    let waited = cluster.run(
        "kubectl",
        &["wait", &condition, target, "-n", "books", "--timeout=90s"],
    );
    assert!(
        waited.ok,
        "{target} never {reason}: {}\n{}\ncontroller log:\n{}",
        waited.stdout,
        waited.stderr,
        controller.log()
    );
}

fn set_policy(cluster: &Cluster, target: &str, policy: &str) {
    let patch = format!(r#"{{"spec":{{"managementPolicy":"{policy}"}}}}"#);
    cluster.ok(
        "kubectl",
        &[
            "patch", target, "-n", "books", "--type", "merge", "-p", &patch,
        ],
    );
}

// The tools block a worker while the kube emulator serves on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_controller_reports_drift_writes_nothing_and_releases_observed_objects() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let cluster = Cluster::start("observe").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    let id = cluster.ok(
        "kubectl",
        &[
            "get",
            "ed",
            "books",
            "-n",
            "books",
            "-o",
            "jsonpath={.status.distributionId}",
        ],
    );
    move_behavior(&config, &id, "/getBooks", "/getBooksMoved").await;
    wait_deployed(&config, &id).await;

    // Observed: the drift in conditions and a warning event, no write.
    bed.reset_counts();
    set_policy(&cluster, "ed/books", "Observe");
    wait_reason(&cluster, &controller, "ed/books", "Drifted");
    wait_reason(&cluster, &controller, "pfu/get-books", "Drifted");
    wait_reason(&cluster, &controller, "pfu/get-book", "Observed");
    let message = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "get-books",
            "-n",
            "books",
            "-o",
            r#"jsonpath={.status.conditions[?(@.type=="Ready")].message}"#,
        ],
    );
    assert!(
        message.contains("behaviors[/getBooks]: missing"),
        "{message}"
    );
    let events = cluster.ok(
        "kubectl",
        &["get", "events.events.k8s.io", "-n", "books", "-o", "json"],
    );
    let events: serde_json::Value = serde_json::from_str(&events).expect("events JSON");
    let drifted: Vec<&serde_json::Value> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["reason"] == "Drifted")
        .collect();
    assert!(
        drifted.iter().any(|e| e["type"] == "Warning"
            && e["regarding"]["name"] == "books"
            && e["note"]
                .as_str()
                .is_some_and(|n| n.contains("behaviors[/getBooks]"))),
        "{events:#}"
    );
    assert_no_write_on_the_wire(&bed, "the controller observing");

    // Managed again: converged, the behavior back where the spec says.
    set_policy(&cluster, "ed/books", "Manage");
    wait_reason(&cluster, &controller, "ed/books", "Deployed");
    wait_reason(&cluster, &controller, "pfu/get-books", "Protected");
    let paths: Vec<String> = behaviors(&config, &id)
        .await
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert!(paths.contains(&"/getBooks".to_owned()), "{paths:?}");
    assert!(!paths.contains(&"/getBooksMoved".to_owned()), "{paths:?}");

    // Observed and deleted: released, no AWS call, finalizers gone.
    set_policy(&cluster, "ed/books", "Observe");
    wait_reason(&cluster, &controller, "ed/books", "Observed");
    let kept = inventory(&config, &BOOK_FUNCTIONS).await;
    kept.assert_books_applied(1, "before deleting observed objects");
    bed.reset_counts();
    let deleted = cluster.run(
        "kubectl",
        &["delete", "pfu,ed", "--all", "-n", "books", "--timeout=90s"],
    );
    assert!(
        deleted.ok,
        "{}\n{}\ncontroller log:\n{}",
        deleted.stdout,
        deleted.stderr,
        controller.log()
    );
    let left = cluster.ok("kubectl", &["get", "pfu,ed", "-n", "books", "-o", "name"]);
    assert!(left.trim().is_empty(), "still there: {left}");
    assert_no_write_on_the_wire(&bed, "deleting observed objects");
    assert_eq!(inventory(&config, &BOOK_FUNCTIONS).await, kept);
}
