//! `urlguard controller` end to end, as a platform team runs it: the real
//! binary against the kube emulator and the AWS test bed, driven with the
//! real kubectl v1.35. `kubectl apply -f examples/books.yaml` ends with every
//! URL Ready and AWS holding one of everything; `kubectl delete` returns only
//! when AWS is clean, showing `WaitingForEdgeReplicas` while the Lambda@Edge
//! replicas linger; a bad manifest is refused and reaches nothing; of two
//! replicas only the leader calls AWS, and when it dies in the middle of a
//! deployment the other takes over and converges without duplicates.

#[path = "support/inventory.rs"]
mod inventory;
mod support;

use std::time::{Duration, Instant};

use inventory::{BOOK_FUNCTIONS, inventory};
use support::aws::{TestBed, TestBedOptions};
use support::controller::Controller;
use support::kube::{Cluster, Run};

/// How long a deployment may take to become Ready before the test fails.
const CONVERGE: &str = "--timeout=90s";

/// The bed with the book functions, a cluster with the CRDs.
async fn start(options: TestBedOptions, test: &str) -> (TestBed, Cluster) {
    let bed = TestBed::start_with(options);
    support::aws::create_functions(&bed.sdk_config().await, "eu-west-1", &BOOK_FUNCTIONS).await;
    let cluster = Cluster::start(test).await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    (bed, cluster)
}

/// Waits until `done` holds, polling every 200 ms, or fails after `within`
/// with `what` and the controllers' logs.
fn eventually(within: Duration, what: &str, logs: &[&Controller], mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() > deadline {
            let logs: Vec<String> = logs.iter().map(|c| c.log()).collect();
            panic!(
                "{what} within {within:?}; controller logs:\n{}",
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn assert_ok(run: &Run, what: &str, controller: &Controller) {
    assert!(
        run.ok,
        "{what} failed:\n{}\n{}\ncontroller log:\n{}",
        run.stdout,
        run.stderr,
        controller.log()
    );
}

// The tools block a worker while the kube emulator serves on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn books_apply_becomes_ready_and_delete_waits_for_a_clean_aws() {
    let options = TestBedOptions {
        deploy_time: Duration::from_secs(2),
        replica_linger: Duration::from_secs(8),
        ..TestBedOptions::default()
    };
    let (bed, cluster) = start(options, "controller-books").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    let (status, _) = controller.get("/healthz");
    assert!(status.contains("200"), "/healthz: {status}");

    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    let waited = cluster.run(
        "kubectl",
        &[
            "wait",
            "--for=condition=Ready",
            "pfu",
            "--all",
            "-n",
            "books",
            CONVERGE,
        ],
    );
    assert_ok(&waited, "kubectl wait", &controller);
    let (status, _) = controller.get("/readyz");
    assert!(status.contains("200"), "/readyz: {status}");

    let config = bed.sdk_config().await;
    let applied = inventory(&config, &BOOK_FUNCTIONS).await;
    applied.assert_books_applied(1, "after kubectl apply");
    let domain = cluster.ok(
        "kubectl",
        &[
            "get",
            "ed",
            "books",
            "-n",
            "books",
            "-o",
            "jsonpath={.status.domainName}",
        ],
    );
    assert!(domain.ends_with(".cloudfront.net"), "domain {domain:?}");
    let listed = cluster.ok("kubectl", &["get", "pfu", "-n", "books"]);
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert_eq!(rows.len(), 5, "{listed}");
    for row in rows {
        assert!(row.contains("True"), "not Ready: {listed}");
        assert!(
            row.contains(&format!("https://{domain}/")),
            "no protected URL: {listed}"
        );
    }
    // The emulator keeps events.k8s.io and core events apart (one store on a
    // real server), so ask for the group the controller's Recorder writes.
    let events = cluster.ok(
        "kubectl",
        &[
            "get",
            "events.events.k8s.io",
            "-n",
            "books",
            "-o",
            "jsonpath={.items[*].reason}",
        ],
    );
    for reason in ["Deployed", "Updated"] {
        assert!(events.contains(reason), "no {reason} event: {events}");
    }
    assert!(controller.sum("urlguard_aws_calls_total") > 0.0);
    assert!(controller.sum("urlguard_reconciles_total") > 0.0);

    // `kubectl delete` waits for the objects; they stay while AWS is not
    // clean, and the distribution says why.
    let (dir, kubeconfig) = (cluster.dir.clone(), cluster.kubeconfig.clone());
    let deleting = std::thread::spawn(move || {
        support::kube::run(
            "kubectl",
            &dir,
            Some(&kubeconfig),
            &["delete", "-f", "examples/books.yaml", "--timeout=100s"],
        )
    });
    eventually(
        Duration::from_secs(60),
        "the distribution did not show WaitingForEdgeReplicas",
        &[&controller],
        || {
            let shown = cluster.run("kubectl", &["get", "ed", "-n", "books"]);
            shown.stdout.contains("WaitingForEdgeReplicas")
        },
    );
    assert_eq!(
        controller.sum("urlguard_objects_waiting_for_edge_replicas"),
        1.0
    );
    let during = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(
        during.signer_functions.len(),
        1,
        "the signer went early: {during:#?}"
    );

    let deleted = deleting.join().expect("kubectl delete thread");
    assert_ok(&deleted, "kubectl delete", &controller);
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard("after kubectl delete returned");
    for function in BOOK_FUNCTIONS {
        assert_eq!(
            after.url_configs.get(function),
            Some(&None),
            "{function}: {after:#?}"
        );
    }
    assert!(!cluster.exists(&["ed", "books", "-n", "books"]));
    assert_eq!(
        controller.sum("urlguard_objects_waiting_for_edge_replicas"),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_manifest_is_refused_with_the_field_named_and_reaches_nothing() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-bad").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    bed.reset_counts();
    cluster.ok("kubectl", &["create", "namespace", "books"]);
    let bad = [
        // The schema: an unknown protection.
        (
            "apiVersion: urlguard.io/v1alpha1\nkind: EdgeDistribution\nmetadata: {name: books, namespace: books}\nspec:\n  protection: Open\n  defaultOrigin: {s3: {bucketName: books-frontend}}\n",
            "spec.protection",
        ),
        // CEL: CloudFront allows only three sets of methods.
        (
            "apiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {name: get-books, namespace: books}\nspec:\n  function: {name: books-get-books, region: eu-west-1}\n  distributionRef: {name: books}\n  pathPattern: /getBooks\n  allowedMethods: [GET]\n",
            "spec.allowedMethods",
        ),
    ];
    for (index, (manifest, field)) in bad.iter().enumerate() {
        let path = cluster.dir.join(format!("bad-{index}.yaml"));
        std::fs::write(&path, manifest).expect("manifest");
        let refused = cluster.run("kubectl", &["apply", "-f", &path.to_string_lossy()]);
        assert!(!refused.ok, "accepted:\n{manifest}");
        assert!(
            refused.stderr.contains(field),
            "{field} not named:\n{}",
            refused.stderr
        );
    }
    let listed = cluster.ok("kubectl", &["get", "ed,pfu", "-n", "books", "-o", "name"]);
    assert_eq!(listed.trim(), "", "a refused object was stored");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        bed.calls().calls.is_empty(),
        "AWS was called: {:?}",
        bed.calls().calls
    );
    assert_eq!(controller.sum("urlguard_aws_calls_total"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_leader_calls_aws_and_a_successor_finishes_its_deployment() {
    let options = TestBedOptions {
        deploy_time: Duration::from_secs(6),
        ..TestBedOptions::default()
    };
    let (bed, cluster) = start(options, "controller-leader").await;
    let first = Controller::start(&bed, &cluster, "urlguard-a");
    eventually(
        Duration::from_secs(30),
        "no replica became leader",
        &[&first],
        || first.is_leader(),
    );
    let second = Controller::start(&bed, &cluster, "urlguard-b");
    let holder = cluster.ok(
        "kubectl",
        &[
            "get",
            "lease",
            "urlguard-controller",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
    );
    assert_eq!(holder, "urlguard-a");

    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    // The distribution exists and CloudFront is deploying it.
    eventually(
        Duration::from_secs(60),
        "the leader did not create the distribution",
        &[&first],
        || {
            let id = cluster.run(
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
            id.ok && !id.stdout.is_empty()
        },
    );
    let ready = cluster.ok(
        "kubectl",
        &[
            "get",
            "ed",
            "books",
            "-n",
            "books",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
    );
    assert_eq!(
        ready, "False",
        "the deployment finished before the leader died"
    );
    assert!(first.sum("urlguard_aws_calls_total") > 0.0);
    assert_eq!(
        second.sum("urlguard_aws_calls_total"),
        0.0,
        "the follower called AWS"
    );
    assert!(!second.is_leader());

    let killed = Instant::now();
    drop(first);
    eventually(
        Duration::from_secs(10),
        "the follower did not take over",
        &[&second],
        || second.is_leader(),
    );
    let takeover = killed.elapsed();
    assert!(
        takeover <= Duration::from_secs(6),
        "takeover took {takeover:?}"
    );

    let waited = cluster.run(
        "kubectl",
        &[
            "wait",
            "--for=condition=Ready",
            "pfu",
            "--all",
            "-n",
            "books",
            CONVERGE,
        ],
    );
    assert_ok(&waited, "kubectl wait after the takeover", &second);
    let converged = inventory(&bed.sdk_config().await, &BOOK_FUNCTIONS).await;
    converged.assert_books_applied(1, "after the takeover");
    assert_eq!(
        bed.calls().count("cloudfront:CreateDistributionWithTags"),
        1
    );
    assert!(second.sum("urlguard_aws_calls_total") > 0.0);
}
