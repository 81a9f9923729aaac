//! Teardowns that end (issue 16): a teardown that can never succeed (the
//! function's region does not exist, every call denied) is tried a bounded
//! number of times, then given up with what stays in AWS named; a function
//! deleted out of band, or of another account, is a clean delete; a
//! throttled delete is retried, never counted.
//!
//! Here the engine and `urlguard destroy` against the enforcing test bed;
//! the controller's side (the count on the object, the event, the
//! finalizer) is in `tests/controller_finalizers.rs`.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_emulator::{FaultKind, FaultRule};
use serde_json::Value;
use support::aws::{TestBedOptions, as_product};
use support::books::{books, books_bed, books_yaml};
use support::cli::{text, urlguard};
use support::engine::{assert_all_ready, count, mutating};
use urlguard::aws::Aws;
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{DeployWait, Engine, Mode, Reason, ResourceReport, RetryPolicy};

fn engine(config: SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), Mode::Apply, wait).with_retry_policy(
        RetryPolicy {
            first: Duration::from_millis(250),
            cap: Duration::from_secs(1),
        },
    )
}

/// books.yaml applied through the engine.
async fn applied(config: &SdkConfig) {
    let (distributions, urls) = books();
    let reports = engine(config.clone())
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await;
    assert_all_ready(&reports);
}

/// The `ProtectedFunctionUrl` document of books.yaml named `name`, with
/// `edit` applied to its text.
fn url_document(name: &str, edit: impl Fn(String) -> String) -> String {
    let document = books_yaml()
        .split("\n---\n")
        .find(|d| {
            d.contains("kind: ProtectedFunctionUrl") && d.contains(&format!("  name: {name}\n"))
        })
        .expect("the URL is in books.yaml")
        .to_owned();
    edit(document)
}

#[tokio::test]
async fn destroy_of_a_url_in_a_region_aws_does_not_have_gives_up_after_its_attempts_naming_what_stays()
 {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    applied(&config).await;
    let dir = support::kube::scratch("finalizers-bogus-region");
    let file = dir.join("get-books.yaml");
    let manifest = url_document("get-books", |d| {
        d.replace("    region: eu-west-1", "    region: xx-fake-1")
    });
    std::fs::write(&file, &manifest).expect("manifest");

    let started = std::time::Instant::now();
    let run = urlguard(
        &bed,
        &[
            "destroy",
            "-f",
            file.to_str().expect("utf-8 path"),
            "--teardown-attempts",
            "3",
            "-o",
            "json",
        ],
    );
    let took = started.elapsed();
    let (stdout, stderr) = text(&run);
    assert_eq!(run.status.code(), Some(1), "{stdout}\n{stderr}");
    // Three passes, 1 s then 2 s apart.
    assert!(stderr.contains("attempt 1 of 3"), "{stderr}");
    assert!(stderr.contains("attempt 2 of 3"), "{stderr}");
    assert!(!stderr.contains("attempt 3 of 3"), "{stderr}");
    assert!(took >= Duration::from_secs(3), "{took:?}");
    let output: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(output["givenUp"]["attempts"], 3, "{output:#}");
    let left: Vec<&str> = output["givenUp"]["leftInAws"]
        .as_array()
        .expect("leftInAws")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(left.len(), 2, "{output:#}");
    assert!(
        left[0].starts_with("resource-policy statements urlguard")
            && left[0].ends_with(" of books-get-books in xx-fake-1 (if present)"),
        "{output:#}"
    );
    assert_eq!(
        left[1],
        "the function URL config of books-get-books in xx-fake-1 (if urlguard created it)"
    );
    // The URL's report says why, with AWS's words.
    let url = &output["resources"][0];
    assert_eq!(url["name"], "get-books", "{output:#}");
    let deleting = url["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Deleting"))
        .expect("Deleting");
    assert_eq!(deleting["status"], "True");
    assert!(
        deleting["message"]
            .as_str()
            .is_some_and(|m| m.contains("Credential should be scoped to a valid region")),
        "{deleting:#}"
    );
    // What could go went: its behavior and its parameters (us-east-1).
    let by_operation = &output["awsCalls"]["byOperation"];
    assert_eq!(
        by_operation["cloudfront:UpdateDistribution"], 1,
        "{output:#}"
    );
    assert_eq!(by_operation["ssm:DeleteParameter"], 2, "{output:#}");
    for write in ["lambda:RemovePermission", "lambda:DeleteFunctionUrlConfig"] {
        assert!(by_operation[write].is_null(), "{write}: {output:#}");
    }
}

#[tokio::test]
async fn a_function_deleted_out_of_band_or_of_another_account_is_a_clean_delete() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    applied(&config).await;
    // Its owner deleted get-books' function meanwhile.
    aws_sdk_lambda::Client::new(
        &config
            .clone()
            .into_builder()
            .region(aws_config::Region::new("eu-west-1"))
            .build(),
    )
    .delete_function()
    .function_name("books-get-books")
    .send()
    .await
    .expect("DeleteFunction");
    bed.reset_counts();
    let (distributions, urls) = books();
    // get-book names a function of another account instead.
    let mut urls = urls;
    let foreign = "arn:aws:lambda:eu-west-1:999999999999:function:books-get-book";
    urls[1].spec.function.name = foreign.to_owned();
    let destroyer = engine(config.clone());
    let reports = destroyer
        .destroy_until_gone(&teardown::build("urlguard", &distributions, &urls))
        .await;
    let not_deleted: Vec<&ResourceReport> = reports
        .iter()
        .filter(|r| r.verdict.reason != Reason::Deleted)
        .collect();
    assert!(not_deleted.is_empty(), "{not_deleted:#?}");
    assert!(!ResourceReport::stuck_pass(&reports));
    let foreign_report = reports
        .iter()
        .find(|r| r.name == "get-book")
        .expect("get-book");
    assert!(
        foreign_report.verdict.message.contains("left alone")
            && foreign_report.verdict.message.contains(foreign),
        "{}",
        foreign_report.verdict.message
    );
    // Nothing was asked of the other account's function, and nothing was
    // written to the gone one.
    let asked: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|r| {
            let write = !r.call.contains(":Get") && !r.call.contains(":List");
            r.path.contains("999999999999") || (write && r.path.contains("books-get-books"))
        })
        .map(|r| format!("{} {}", r.call, r.path))
        .collect();
    assert!(asked.is_empty(), "{asked:?}");
    // The three others' configs went.
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 3);
}

#[tokio::test]
async fn a_throttled_delete_is_retried_and_never_counted_towards_giving_up() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    applied(&config).await;
    let (distributions, urls) = books();
    let model = teardown::build("urlguard", &distributions, &urls);
    // Every attempt of the first URL-config delete is throttled, past the
    // SDK's own retries (6 attempts): the pass fails.
    bed.set_faults(&[FaultRule::next(
        "lambda",
        "DeleteFunctionUrlConfig",
        FaultKind::Throttle,
        6,
    )]);
    let destroyer = engine(
        config
            .clone()
            .into_builder()
            .retry_config(urlguard::aws::retry_config())
            .build(),
    );
    let first = destroyer.destroy_until_gone(&model).await;
    let throttled: Vec<&ResourceReport> = first.iter().filter(|r| r.failed()).collect();
    assert_eq!(throttled.len(), 1, "{first:#?}");
    assert!(
        throttled[0]
            .verdict
            .message
            .contains("TooManyRequestsException"),
        "{:?}",
        throttled[0].verdict
    );
    assert!(throttled[0].verdict.stuck.is_none(), "throttling passes");
    assert!(!ResourceReport::stuck_pass(&first));
    // The next pass finishes.
    let second = destroyer.destroy_until_gone(&model).await;
    assert!(
        second.iter().all(|r| r.verdict.reason == Reason::Deleted),
        "{second:#?}"
    );
    assert!(mutating(&destroyer) > 0);
}
