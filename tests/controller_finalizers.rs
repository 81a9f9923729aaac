//! Finalizers that end, in the controller (issue 16): a deleted
//! `ProtectedFunctionUrl` whose function the controller may no longer
//! touch (its permissions were taken away: AWS denies every call on it) is
//! tried `--teardown-attempts` times (counted on the object's annotation
//! `urlguard.io/teardown-attempts`), then a Warning event `TeardownGivenUp`
//! names what stays in AWS and the finalizer goes. (A function moved to a
//! region AWS does not have cannot happen here: `spec.function` is
//! immutable; `tests/finalizers.rs` shows that case through the CLI.)

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::aws::TestBedOptions;
use support::books::books_bed;
use support::controller::Controller;
use support::kube::Cluster;

// kubectl blocks a worker while the kube emulator serves on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_url_whose_function_is_denied_loses_its_finalizer_after_its_attempts_naming_what_stays() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let cluster = Cluster::start("controller-finalizers").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-a",
        &["--teardown-attempts", "3"],
        support::controller::TEST_LOG,
    );
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);

    // The controller's permissions on the function are taken away, then
    // the URL is deleted: its teardown cannot touch the function, ever.
    bed.restrict(
        support::aws::PRODUCT_KEY,
        &serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "lambda:*",
                 "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:books-get-books*"}
            ]
        }),
    );
    let deleted = Instant::now();
    cluster.ok(
        "kubectl",
        &["delete", "pfu", "get-books", "-n", "books", "--wait=false"],
    );
    let mut counts = Vec::new();
    controller.wait_until(
        Duration::from_secs(60),
        "the finalizer was not removed",
        || {
            let count = cluster.run(
                "kubectl",
                &[
                    "get",
                    "pfu",
                    "get-books",
                    "-n",
                    "books",
                    "-o",
                    r"jsonpath={.metadata.annotations.urlguard\.io/teardown-attempts}",
                ],
            );
            if !count.ok {
                return true;
            }
            if !count.stdout.is_empty() && counts.last() != Some(&count.stdout) {
                counts.push(count.stdout.clone());
            }
            false
        },
    );
    let took = deleted.elapsed();
    // Counted on the object (1, then 2), spread 1 s then 2 s apart.
    assert_eq!(counts, ["1", "2"], "{}", controller.log());
    assert!(took >= Duration::from_secs(3), "{took:?}");

    let events: Value = serde_json::from_str(&cluster.ok(
        "kubectl",
        &["get", "events.events.k8s.io", "-n", "books", "-o", "json"],
    ))
    .expect("events JSON");
    let given_up: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["reason"] == "TeardownGivenUp")
        .map(|e| {
            assert_eq!(e["type"], "Warning");
            assert_eq!(e["regarding"]["name"], "get-books");
            e["note"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(given_up.len(), 1, "{events:#}");
    let note = given_up[0];
    assert!(note.contains("after 3 attempts"), "{note}");
    assert!(
        note.contains(
            "the function URL config of books-get-books in eu-west-1 (if urlguard created it)"
        ),
        "{note}"
    );
    assert!(note.contains("AccessDenied"), "{note}");
    // The other URLs and the distribution are untouched by this.
    let others = cluster.ok("kubectl", &["get", "pfu", "-n", "books", "-o", "name"]);
    assert_eq!(others.lines().count(), 4, "{others}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_distribution_whose_every_call_is_denied_loses_its_finalizer_after_its_attempts_and_nothing_is_deleted()
 {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let cluster = Cluster::start("controller-finalizers-denied").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-a",
        &["--teardown-attempts", "3"],
        support::controller::TEST_LOG,
    );
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["ed", "books"]);
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

    // From now on AWS denies the controller everything.
    bed.restrict(
        support::aws::PRODUCT_KEY,
        &serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]
        }),
    );
    cluster.ok(
        "kubectl",
        &["delete", "ed", "books", "-n", "books", "--wait=false"],
    );
    controller.wait_until(
        Duration::from_secs(60),
        "the distribution's finalizer was not removed",
        || !cluster.exists(&["ed", "books", "-n", "books"]),
    );
    let events: Value = serde_json::from_str(&cluster.ok(
        "kubectl",
        &["get", "events.events.k8s.io", "-n", "books", "-o", "json"],
    ))
    .expect("events JSON");
    let note = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["reason"] == "TeardownGivenUp" && e["regarding"]["kind"] == "EdgeDistribution")
        .and_then(|e| e["note"].as_str())
        .unwrap_or_else(|| panic!("no TeardownGivenUp event: {events:#}"));
    assert!(note.contains("after 3 attempts"), "{note}");
    assert!(
        note.contains(&format!("CloudFront distribution {id}")),
        "{note}"
    );
    assert!(note.contains("IAM role"), "{note}");
    assert!(note.contains("AccessDenied"), "{note}");
    // Denied means nothing was deleted: the distribution is still there.
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let found = cloudfront.get_distribution().id(&id).send().await;
    assert!(found.is_ok(), "{found:?}");
}
