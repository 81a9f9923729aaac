//! `urlguard controller` end to end, as a platform team runs it: the real
//! binary against the kube emulator and the AWS test bed, driven with the
//! real kubectl v1.35.
//!
//! - `kubectl apply -f examples/books.yaml` ends with every URL Ready and AWS
//!   holding one of everything (through an assumed role); `kubectl delete`
//!   returns only when AWS is clean, showing `WaitingForEdgeReplicas` while
//!   the Lambda@Edge replicas linger;
//! - a bad manifest is refused and reaches nothing; an object stored before a
//!   CRD upgrade that the new schema refuses is reported on its own status
//!   and never reaches AWS, while the rest converges;
//! - of two replicas only the leader calls AWS; when it dies in the middle of
//!   a deployment the other takes over and converges without duplicates; one
//!   stopped by SIGTERM exits 0 and releases the lease;
//! - a controller scoped to one namespace leaves the others alone;
//! - twenty URLs applied at once cost one distribution update;
//! - `spec.invalidation`: a bad path refused naming
//!   `spec.invalidation.paths[i]`; each revision one `CreateInvalidation`,
//!   an `InvalidationCreated` event, polled until `status.invalidation`
//!   says `Completed`, never made again.

mod support;

use std::time::{Duration, Instant};

use support::aws::{PRODUCT_KEY, TestBed, TestBedOptions, product_policy};
use support::books::{BOOK_FUNCTIONS, books_bed, books_yaml};
use support::controller::{Controller, TEST_LOG};
use support::inventory::inventory;
use support::kube::{Cluster, Run};

/// How long a deployment may take to become Ready before the test fails.
const CONVERGE: &str = "--timeout=90s";

/// The bed with the book functions, a cluster with the CRDs.
async fn start(options: TestBedOptions, test: &str) -> (TestBed, Cluster) {
    let (bed, _) = books_bed(options).await;
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

/// Waits until `replica` holds the lease, or fails after `within` with
/// `what` and its log.
fn becomes_leader(replica: &Controller, within: Duration, what: &str) {
    eventually(within, what, &[replica], || replica.is_leader());
}

/// Who holds the controllers' lease, as kubectl shows it.
fn lease_holder(cluster: &Cluster) -> String {
    cluster.ok(
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
    )
}

/// Waits until no AWS call has arrived for 500 ms (at most 10 s): the
/// controller is between two passes.
fn between_passes(bed: &TestBed) {
    let total = || bed.calls().calls.values().sum::<u64>();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = total();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = total();
        if now == seen || Instant::now() > deadline {
            return;
        }
        seen = now;
    }
}

/// Changes the books distribution's spec (its comment), as a user would.
fn comment_books(cluster: &Cluster, comment: &str) {
    let patch = serde_json::json!({"spec": {"comment": comment}}).to_string();
    cluster.ok(
        "kubectl",
        &[
            "patch",
            "ed",
            "books",
            "-n",
            "books",
            "--type=merge",
            "-p",
            &patch,
        ],
    );
}

/// Fails with `what`, the command's output and the controller's log unless
/// `run` succeeded.
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
    // As a platform team runs it: the controller's own credentials may only
    // assume the role of the account it manages, and that role holds the
    // policy `urlguard iam-policy` prints; the test bed holds the role's
    // session to it.
    let role = "arn:aws:iam::123456789012:role/urlguard-books";
    let options = TestBedOptions {
        deploy_time: Duration::from_secs(2),
        replica_linger: Duration::from_secs(8),
        product_policy: serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}]
        }),
        ..TestBedOptions::default()
    };
    let (bed, cluster) = start(options, "controller-books").await;
    let iam = aws_sdk_iam::Client::new(&bed.sdk_config().await);
    iam.create_role()
        .role_name("urlguard-books")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("the role urlguard assumes");
    iam.put_role_policy()
        .role_name("urlguard-books")
        .policy_name("urlguard")
        .policy_document(product_policy().to_string())
        .send()
        .await
        .expect("urlguard iam-policy on the role");
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-0",
        &["--aws-assume-role-arn", role, "--resync-interval", "2s"],
        TEST_LOG,
    );
    let (status, _) = controller.get("/healthz");
    assert!(status.contains("200"), "/healthz: {status}");
    // One function was published open to the internet before urlguard.
    support::aws::lambda_client(&bed.sdk_config().await, "eu-west-1")
        .create_function_url_config()
        .function_name("books-get-books")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("an open function URL");
    // And one lets another account invoke it, past any distribution.
    support::aws::lambda_client(&bed.sdk_config().await, "eu-west-1")
        .add_permission()
        .function_name("books-create-book")
        .statement_id("partner")
        .action("lambda:InvokeFunction")
        .principal("210987654321")
        .send()
        .await
        .expect("a cross-account grant");

    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
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
    for reason in [
        "Deployed",
        "Updated",
        "AuthSwitchedToIam",
        "UrlConfigAdopted",
        "ForeignStatements",
    ] {
        assert!(events.contains(reason), "no {reason} event: {events}");
    }
    // The exposed URL says so in its status; the others do not.
    let exposed = |name: &str| {
        cluster.ok(
            "kubectl",
            &[
                "get",
                "pfu",
                name,
                "-n",
                "books",
                "-o",
                r#"jsonpath={.status.conditions[?(@.type=="Exposed")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.exposedStatements[*].statementId}"#,
            ],
        )
    };
    assert_eq!(
        exposed("create-book"),
        "True ReachableOutsideDistribution partner"
    );
    assert_eq!(exposed("get-book"), "False Protected ");
    assert!(controller.sum("urlguard_aws_calls_total") > 0.0);
    assert!(controller.sum("urlguard_reconciles_total") > 0.0);
    assert!(
        bed.calls().count("sts:AssumeRole") >= 1,
        "the role was not assumed"
    );
    assert!(
        bed.authorizations()
            .iter()
            .any(|check| check.access_key != PRODUCT_KEY
                && check.call == "cloudfront:CreateDistributionWithTags"
                && check.decision.is_allowed()),
        "the role's session was not held to the role's policy"
    );

    // Drift made by hand is found by the periodic resync and repaired.
    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.delete_parameter()
        .name("/books/GetBooksUrl")
        .send()
        .await
        .expect("DeleteParameter");
    eventually(
        Duration::from_secs(30),
        "the deleted parameter was not repaired",
        &[&controller],
        || {
            let reasons = cluster.ok(
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
            reasons.contains("DriftRepaired")
        },
    );
    let repaired = ssm
        .get_parameter()
        .name("/books/GetBooksUrl")
        .send()
        .await
        .expect("the parameter is back");
    assert!(
        repaired
            .parameter()
            .and_then(|p| p.value())
            .is_some_and(|v| v.starts_with("https://"))
    );

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
    // What urlguard created is what it deletes: the open URL published
    // before urlguard stays, on AWS_IAM.
    for function in BOOK_FUNCTIONS {
        let expected = (function == "books-get-books").then(|| "AWS_IAM".to_owned());
        assert_eq!(
            after.url_configs.get(function),
            Some(&expected),
            "{function}: {after:#?}"
        );
        // Adopted, it keeps its marker; urlguard's own carry none.
        assert_eq!(
            after.adopted_markers[function].is_some(),
            function == "books-get-books",
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
        // CEL: a header CloudFront cannot add to origin requests.
        (
            "apiVersion: urlguard.io/v1alpha1\nkind: EdgeDistribution\nmetadata: {name: books, namespace: books}\nspec:\n  defaultOrigin: {s3: {bucketName: books-frontend, customHeaders: [{name: Host, value: evil.example.com}]}}\n",
            "spec.defaultOrigin.s3.customHeaders[0].name",
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
    becomes_leader(&first, Duration::from_secs(30), "no replica became leader");
    let second = Controller::start(&bed, &cluster, "urlguard-b");
    assert_eq!(lease_holder(&cluster), "urlguard-a");

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
    becomes_leader(
        &second,
        Duration::from_secs(10),
        "the follower did not take over",
    );
    let takeover = killed.elapsed();
    assert!(
        takeover <= Duration::from_secs(6),
        "takeover took {takeover:?}"
    );

    second.wait_ready(&cluster, &["pfu", "--all"]);
    let converged = inventory(&bed.sdk_config().await, &BOOK_FUNCTIONS).await;
    converged.assert_books_applied(1, "after the takeover");
    assert_eq!(
        bed.calls().count("cloudfront:CreateDistributionWithTags"),
        1
    );
    assert!(second.sum("urlguard_aws_calls_total") > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_urls_applied_together_cost_one_distribution_update() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-twenty").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);

    let names: Vec<String> = (0..20).map(|i| format!("books-extra-{i}")).collect();
    let functions: Vec<&str> = names.iter().map(String::as_str).collect();
    support::aws::create_functions(&bed.sdk_config().await, "eu-west-1", &functions).await;
    let manifest: String = (0..20)
        .map(|i| {
            format!(
                "---\napiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {{name: extra-{i}, namespace: books}}\nspec:\n  function: {{name: books-extra-{i}, region: eu-west-1}}\n  distributionRef: {{name: books}}\n  pathPattern: /extra{i}\n"
            )
        })
        .collect();
    let path = cluster.dir.join("twenty.yaml");
    std::fs::write(&path, manifest).expect("manifest");
    let updates_before = bed.calls().count("cloudfront:UpdateDistribution");
    cluster.ok("kubectl", &["apply", "-f", &path.to_string_lossy()]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    let updates = bed.calls().count("cloudfront:UpdateDistribution") - updates_before;
    assert_eq!(
        updates, 1,
        "twenty URLs cost {updates} distribution updates"
    );
    let behaviors = cluster.ok("kubectl", &["get", "pfu", "-n", "books", "-o", "name"]);
    assert_eq!(behaviors.lines().count(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_object_from_before_a_crd_upgrade_is_reported_and_the_rest_converges() {
    let bed = TestBed::start();
    let functions: Vec<&str> = BOOK_FUNCTIONS
        .iter()
        .copied()
        .chain(["books-legacy"])
        .collect();
    support::aws::create_functions(&bed.sdk_config().await, "eu-west-1", &functions).await;
    let cluster = Cluster::start("controller-upgrade").await;

    // An older release's CRDs, whose schema took anything.
    let current = std::fs::read_to_string(support::repo_root().join("crds/urlguard.io_crds.yaml"))
        .expect("crds/");
    let older: Vec<serde_json::Value> = current
        .split("\n---")
        .filter_map(|doc| yaml_serde::from_str::<serde_json::Value>(doc).ok())
        .filter(serde_json::Value::is_object)
        .map(|mut crd| {
            crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] =
                serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
            crd
        })
        .collect();
    let older_path = cluster.dir.join("older-crds.yaml");
    let documents: Vec<String> = older
        .iter()
        .map(|crd| yaml_serde::to_string(crd).expect("YAML"))
        .collect();
    std::fs::write(&older_path, documents.join("---\n")).expect("older CRDs");
    cluster.ok("kubectl", &["apply", "-f", &older_path.to_string_lossy()]);
    cluster.ok("kubectl", &["create", "namespace", "books"]);
    let legacy = cluster.dir.join("legacy.yaml");
    std::fs::write(
        &legacy,
        "apiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {name: legacy, namespace: books}\nspec:\n  function: {name: books-legacy, region: eu-west-1}\n  distributionRef: {name: books}\n  pathPattern: /legacy\n  allowedMethods: [GET]\n",
    )
    .expect("legacy object");
    cluster.ok("kubectl", &["apply", "-f", &legacy.to_string_lossy()]);
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);

    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    let mut wait = vec!["wait", "--for=condition=Ready", "-n", "books", CONVERGE];
    let names: Vec<String> = [
        "get-books",
        "get-book",
        "create-book",
        "update-book",
        "delete-book",
    ]
    .iter()
    .map(|name| format!("pfu/{name}"))
    .collect();
    wait.extend(names.iter().map(String::as_str));
    assert_ok(
        &cluster.run("kubectl", &wait),
        "kubectl wait for books",
        &controller,
    );
    let reported = cluster.run(
        "kubectl",
        &[
            "wait",
            "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}=InvalidSpec",
            "pfu/legacy",
            "-n",
            "books",
            CONVERGE,
        ],
    );
    assert_ok(
        &reported,
        "kubectl wait for the legacy object's status",
        &controller,
    );
    let message = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "legacy",
            "-n",
            "books",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}",
        ],
    );
    assert!(
        message.contains("spec.allowedMethods"),
        "the field is not named: {message}"
    );
    let finalizers = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "legacy",
            "-n",
            "books",
            "-o",
            "jsonpath={.metadata.finalizers}",
        ],
    );
    assert_eq!(finalizers, "", "an invalid object got the finalizer");
    let touched: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|record| record.path.contains("books-legacy"))
        .map(|record| format!("{} {}", record.call, record.path))
        .collect();
    assert!(
        touched.is_empty(),
        "AWS calls for the invalid object: {touched:?}"
    );
    inventory(&bed.sdk_config().await, &BOOK_FUNCTIONS)
        .await
        .assert_books_applied(1, "books beside an invalid object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_stops_the_leader_gracefully_and_releases_the_lease() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-sigterm").await;
    let mut first = Controller::start(&bed, &cluster, "urlguard-a");
    becomes_leader(&first, Duration::from_secs(30), "no replica became leader");
    let second = Controller::start(&bed, &cluster, "urlguard-b");
    assert_eq!(lease_holder(&cluster), "urlguard-a");

    let stopped = Instant::now();
    let status = first.terminate(Duration::from_secs(10));
    let log = first.log();
    let status = status.unwrap_or_else(|| panic!("SIGTERM did not stop the controller:\n{log}"));
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(log.contains("released the leader lease"), "{log}");
    // The follower (kube-lease-manager) looks again when the lease would
    // have expired: within the 3 s lease duration.
    becomes_leader(
        &second,
        Duration::from_secs(10),
        "the follower did not take the released lease",
    );
    let handover = stopped.elapsed();
    assert!(
        handover <= Duration::from_secs(5),
        "handover took {handover:?}"
    );
    assert_eq!(lease_holder(&cluster), "urlguard-b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_namespaced_controller_leaves_other_namespaces_alone() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-namespaced").await;
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-0",
        &["--namespace", "books"],
        TEST_LOG,
    );
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    // The same application in a namespace this controller does not watch.
    let films = books_yaml()
        .replace("namespace: books", "namespace: films")
        .replace("name: books\n---", "name: films\n---");
    let films_path = cluster.dir.join("films.yaml");
    std::fs::write(&films_path, films).expect("films.yaml");
    cluster.ok("kubectl", &["apply", "-f", &films_path.to_string_lossy()]);

    controller.wait_ready(&cluster, &["pfu", "--all"]);
    let untouched = cluster.ok(
        "kubectl",
        &["get", "ed,pfu", "-n", "films", "-o", "jsonpath={range .items[*]}{.metadata.name}:{.metadata.finalizers}{.status}{\"\\n\"}{end}"],
    );
    let lines: Vec<&str> = untouched.lines().collect();
    assert_eq!(lines.len(), 6, "{untouched}");
    for line in lines {
        assert!(line.ends_with(':'), "a films object was touched: {line}");
    }
    assert_eq!(
        bed.calls().count("cloudfront:CreateDistributionWithTags"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_url_whose_function_is_not_opted_in_gets_no_finalizer_and_goes_without_a_write() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-opt-in").await;
    // Another team's function, whose owner never opted in.
    support::aws::create_functions_opted_in(
        &bed.sdk_config().await,
        "eu-west-1",
        &["payments-internal"],
        None,
    )
    .await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    let manifest = format!(
        "{}\n---\napiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {{name: payments, namespace: books}}\nspec:\n  function: {{name: payments-internal, region: eu-west-1}}\n  distributionRef: {{name: books}}\n  pathPattern: /payments/*\n",
        books_yaml()
    );
    let path = cluster.dir.join("with-payments.yaml");
    std::fs::write(&path, manifest).expect("manifest");
    cluster.ok("kubectl", &["apply", "-f", &path.to_string_lossy()]);
    let waited = cluster.run(
        "kubectl",
        &[
            "wait",
            "--for=condition=Ready",
            "pfu",
            "get-books",
            "get-book",
            "create-book",
            "update-book",
            "delete-book",
            "-n",
            "books",
            CONVERGE,
        ],
    );
    assert_ok(&waited, "books beside the refused URL", &controller);
    let field = |jsonpath: &str| {
        cluster.ok(
            "kubectl",
            &[
                "get",
                "pfu",
                "payments",
                "-n",
                "books",
                "-o",
                &format!("jsonpath={jsonpath}"),
            ],
        )
    };
    eventually(
        Duration::from_secs(30),
        "payments reports FunctionNotOptedIn",
        &[&controller],
        || field(r#"{.status.conditions[?(@.type=="Ready")].reason}"#) == "FunctionNotOptedIn",
    );
    let message = field(r#"{.status.conditions[?(@.type=="Ready")].message}"#);
    assert!(
        message.contains("aws lambda tag-resource --resource arn:aws:lambda:eu-west-1:123456789012:function:payments-internal --tags urlguard.io/allow=urlguard/books"),
        "{message}"
    );
    assert_eq!(
        field("{.metadata.finalizers}"),
        "",
        "a finalizer on a URL that never attached"
    );
    let touching = |bed: &TestBed| -> Vec<String> {
        bed.log()
            .into_iter()
            .filter(|r| is_write(&r.call) && r.path.contains("payments-internal"))
            .map(|r| format!("{} {}", r.call, r.path))
            .collect()
    };
    assert_eq!(touching(&bed), Vec::<String>::new());

    // Rechecked (the owner may opt in at any time) with a backoff: 1 s
    // doubling, jittered into the upper half of each step, allows at most
    // 5 checks in 12 s (fewer the longer it has failed); a fixed 1 s
    // interval made 12.
    bed.reset_counts();
    std::thread::sleep(Duration::from_secs(12));
    let checks = bed
        .log()
        .into_iter()
        .filter(|r| r.call == "lambda:GetFunction" && r.path.contains("payments-internal"))
        .count();
    assert!(
        checks <= 5,
        "{checks} checks of the refused URL's function in 12 s\n{}",
        controller.log()
    );

    bed.reset_counts();
    let deleted = cluster.run(
        "kubectl",
        &["delete", "pfu", "payments", "-n", "books", "--timeout=20s"],
    );
    assert_ok(&deleted, "kubectl delete of the refused URL", &controller);
    // Give the controller the time it would take to react.
    std::thread::sleep(Duration::from_secs(2));
    let writes: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|r| is_write(&r.call))
        .map(|r| format!("{} {}", r.call, r.path))
        .collect();
    assert_eq!(writes, Vec::<String>::new());
}

/// Whether `service:Operation` changes AWS state.
fn is_write(call: &str) -> bool {
    const VERBS: [&str; 9] = [
        "Create", "Put", "Update", "Delete", "Add", "Remove", "Publish", "Tag", "Untag",
    ];
    let operation = call.split(':').nth(1).unwrap_or_default();
    VERBS.iter().any(|verb| operation.starts_with(verb))
}

/// A distribution with nothing attached and `spec.invalidation` of
/// `revision` (paths `paths`).
fn invalidated_site(revision: &str, paths: &str) -> String {
    format!(
        "apiVersion: urlguard.io/v1alpha1\nkind: EdgeDistribution\nmetadata: {{name: site, namespace: web}}\nspec:\n  protection: OriginAccessControl\n  defaultOrigin: {{custom: {{domainName: app.example.com}}}}\n  invalidation: {{revision: \"{revision}\", paths: {paths}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invalidation_is_made_once_per_revision_and_polled_until_completed() {
    let options = TestBedOptions {
        invalidation_time: Duration::from_secs(2),
        ..TestBedOptions::default()
    };
    let (bed, cluster) = start(options, "controller-invalidation").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["create", "namespace", "web"]);
    let apply = |revision: &str, paths: &str| -> Run {
        let path = cluster.dir.join(format!("site-{revision}.yaml"));
        std::fs::write(&path, invalidated_site(revision, paths)).expect("manifest");
        cluster.run("kubectl", &["apply", "-f", &path.to_string_lossy()])
    };
    let invalidation = || {
        cluster.ok(
            "kubectl",
            &[
                "get",
                "ed",
                "site",
                "-n",
                "web",
                "-o",
                "jsonpath={.status.invalidation.revision} {.status.invalidation.status}",
            ],
        )
    };
    const CREATE: &str = "cloudfront:CreateInvalidation";

    // The schema names a bad path; nothing is stored.
    let refused = apply("bad", "[/ok, index.html]");
    assert!(!refused.ok, "accepted a path without /");
    assert!(
        refused.stderr.contains("spec.invalidation.paths[1]"),
        "{}",
        refused.stderr
    );

    assert_ok(
        &apply("build-1", "[/index.html, /assets/*]"),
        "apply build-1",
        &controller,
    );
    eventually(
        Duration::from_secs(60),
        "build-1 invalidated and completed",
        &[&controller],
        || invalidation() == "build-1 Completed",
    );
    assert_eq!(bed.count(CREATE), 1);
    let events = cluster.ok(
        "kubectl",
        &[
            "get",
            "events.events.k8s.io",
            "-n",
            "web",
            "-o",
            "jsonpath={.items[*].reason}",
        ],
    );
    assert!(events.contains("InvalidationCreated"), "{events}");

    assert_ok(
        &apply("build-2", "[/index.html]"),
        "apply build-2",
        &controller,
    );
    eventually(
        Duration::from_secs(60),
        "build-2 invalidated and completed",
        &[&controller],
        || invalidation() == "build-2 Completed",
    );
    // Polled while in progress, made once; later passes make none.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(bed.count(CREATE), 2, "{}", controller.log());
}

/// The `Ready` reasons of every `ProtectedFunctionUrl` in `books`, by name.
fn url_reasons(cluster: &Cluster) -> Vec<(String, String)> {
    let listed = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "-n",
            "books",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].reason}{"\n"}{end}"#,
        ],
    );
    listed
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, reason)| (name.to_owned(), reason.to_owned()))
        .collect()
}

/// The function a Lambda call's path names (by name or ARN), if any.
fn function_of(path: &str) -> Option<String> {
    let rest = path.split_once("/functions/")?.1;
    let segment = rest.split(['/', '?']).next()?;
    let name = segment.rsplit("%3A").next()?.rsplit(':').next()?;
    Some(name.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deploying_distribution_is_polled_with_get_distribution_only() {
    // A real deployment takes minutes: while it runs and nothing else
    // changes, each poll must cost one GetDistribution, not a pass over
    // every URL.
    let options = TestBedOptions {
        deploy_time: Duration::from_secs(25),
        ..TestBedOptions::default()
    };
    let (bed, cluster) = start(options, "controller-polls").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    eventually(
        Duration::from_secs(60),
        "every URL attached and deploying",
        &[&controller],
        || {
            let reasons = url_reasons(&cluster);
            reasons.len() == 5 && reasons.iter().all(|(_, reason)| reason == "Deploying")
        },
    );
    // The passes the attaching URLs triggered settle (debounce: 1 s).
    std::thread::sleep(Duration::from_secs(2));
    bed.reset_counts();
    std::thread::sleep(Duration::from_secs(8));
    let calls = bed.calls();
    let polls = calls.count("cloudfront:GetDistribution");
    let others: Vec<_> = calls
        .calls
        .iter()
        .filter(|(call, _)| call.as_str() != "cloudfront:GetDistribution")
        .collect();
    assert!(
        others.is_empty(),
        "while CloudFront deploys, only GetDistribution: {others:?}\n{}",
        controller.log()
    );
    // --poll-interval 500ms doubling: 0.5, 1, 2, 4 s... at most 6 polls in
    // 8 s (a fixed interval would make 16), and at least 2.
    assert!(
        (2..=6).contains(&polls),
        "{polls} polls in 8 s\n{}",
        controller.log()
    );
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    assert!(
        bed.count("lambda:GetFunctionUrlConfig") >= 5,
        "once deployed, a full pass reads every URL again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_url_backs_off_alone_and_its_siblings_are_not_read_again() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-backoff").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);

    // Its owner deletes one function; a spec change makes the next pass.
    support::aws::lambda_client(&bed.sdk_config().await, "eu-west-1")
        .delete_function()
        .function_name("books-create-book")
        .send()
        .await
        .expect("DeleteFunction");
    comment_books(&cluster, "changed");
    eventually(
        Duration::from_secs(60),
        "create-book fails on its own, the others stay Ready",
        &[&controller],
        || {
            let reasons = url_reasons(&cluster);
            reasons.len() == 5
                && reasons.iter().all(|(name, reason)| {
                    (name == "create-book") == (reason == "FunctionNotFound")
                        && (name == "create-book" || reason == "Protected")
                })
        },
    );
    // The removal of its behavior deploys, and a full pass follows; then
    // create-book is retried alone.
    eventually(
        Duration::from_secs(30),
        "create-book retried alone",
        &[&controller],
        || controller.log().contains("retrying failed URLs"),
    );
    bed.reset_counts();
    std::thread::sleep(Duration::from_secs(10));
    let mut reads: std::collections::BTreeMap<String, u64> = Default::default();
    for record in bed.log() {
        if record.call.starts_with("lambda:")
            && let Some(function) = function_of(&record.path)
        {
            *reads.entry(function).or_default() += 1;
        }
    }
    let siblings: Vec<_> = reads
        .iter()
        .filter(|(function, _)| function.starts_with("books-") && *function != "books-create-book")
        .collect();
    assert!(
        siblings.is_empty(),
        "retrying create-book read its siblings: {reads:?}\n{}",
        controller.log()
    );
    // --error-retry-interval 1s, doubling with jitter from the failures
    // before (two full passes, then the first retry): 4 and 8 s steps,
    // each in its upper half, make 1 to 4 retries in 10 s; a fixed
    // interval would make 10.
    let retries = bed
        .log()
        .iter()
        .filter(|r| {
            r.call == "lambda:GetFunction"
                && function_of(&r.path).as_deref() == Some("books-create-book")
        })
        .count();
    assert!(
        (1..=4).contains(&retries),
        "{retries} retries in 10 s: {reads:?}\n{}",
        controller.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn steady_state_resyncs_cost_what_the_budget_assumes() {
    use urlguard::controller::resync::{self, BUDGET, PER_DISTRIBUTION, PER_URL};

    let (bed, cluster) = start(TestBedOptions::default(), "controller-resync").await;
    // A 1 s floor: the budget sets the interval (5 URLs, 1 distribution).
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-0",
        &["--resync-interval", "1s"],
        TEST_LOG,
    );
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    let interval = resync::interval(Duration::from_secs(1), 5, 1);
    assert!(interval > Duration::from_secs(1), "{interval:?}");
    eventually(
        Duration::from_secs(10),
        "the resync interval published",
        &[&controller],
        || controller.sum("urlguard_resync_interval_seconds") == interval.as_secs_f64(),
    );

    // Steady state: nothing changes, every pass is a resync. The window
    // opens and closes between passes, so it holds whole passes only (a
    // pass straddling its start counted reads without its GetDistribution).
    std::thread::sleep(Duration::from_secs(2));
    between_passes(&bed);
    bed.reset_counts();
    let opened = Instant::now();
    std::thread::sleep(Duration::from_secs(12));
    between_passes(&bed);
    let window = opened.elapsed();
    let calls = bed.calls().calls;
    let writes: Vec<&String> = calls.keys().filter(|call| is_write(call)).collect();
    assert!(writes.is_empty(), "a resync wrote: {writes:?}");
    let passes = calls
        .get("cloudfront:GetDistribution")
        .copied()
        .unwrap_or(0) as f64;
    // Slots at least half an interval apart, one per interval after that.
    let most = window.as_secs_f64() / interval.as_secs_f64() + 1.0;
    assert!(
        passes >= 2.0 && passes <= most,
        "{passes} resyncs in {window:?} at {interval:?}: {calls:?}"
    );
    let class = |wanted: &dyn Fn(&str) -> bool| -> f64 {
        calls
            .iter()
            .filter(|(call, _)| wanted(call))
            .map(|(_, n)| *n as f64)
            .sum::<f64>()
            / passes
    };
    let per_pass = |per_url: f64, per_distribution: f64| 5.0 * per_url + per_distribution;
    let lambda = class(&|call| {
        call.starts_with("lambda:") && call != "lambda:GetFunction" && call != "lambda:GetPolicy"
    });
    let get_function = class(&|call| call == "lambda:GetFunction");
    let get_policy = class(&|call| call == "lambda:GetPolicy");
    let cloudfront = class(&|call| call.starts_with("cloudfront:"));
    let measured = format!(
        "per pass: lambda {lambda}, GetFunction {get_function}, GetPolicy {get_policy}, CloudFront {cloudfront}: {calls:?}"
    );
    assert!(
        lambda <= per_pass(PER_URL.lambda, PER_DISTRIBUTION.lambda),
        "{measured}"
    );
    assert!(
        get_function <= per_pass(PER_URL.get_function, PER_DISTRIBUTION.get_function),
        "{measured}"
    );
    assert!(
        get_policy <= per_pass(PER_URL.get_policy, PER_DISTRIBUTION.get_policy),
        "{measured}"
    );
    assert!(
        cloudfront <= per_pass(PER_URL.cloudfront, PER_DISTRIBUTION.cloudfront),
        "{measured}"
    );
    // And so the rates stay within the budget, one resync per interval.
    let seconds = interval.as_secs_f64();
    assert!(lambda / seconds <= BUDGET.lambda, "{measured}");
    assert!(get_policy / seconds <= BUDGET.get_policy, "{measured}");
    assert!(cloudfront / seconds <= BUDGET.cloudfront, "{measured}");
    eprintln!("{measured}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_controller_waits_for_every_cache_and_trusts_recent_confirmations() {
    // Lists of URLs take 3 s, as a list of thousands in pages does on a
    // real API server: the distributions' cache fills first.
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    // And lists come in pages of 2: the caches fill from 3 pages of URLs.
    let slow_urls = kube_emulator::Config {
        slow_lists: vec![("protectedfunctionurls".into(), Duration::from_secs(3))],
        page_cap: Some(2),
        ..kube_emulator::Config::default()
    };
    let cluster = Cluster::start_with("controller-restart", slow_urls).await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    let mut first = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    first.wait_ready(&cluster, &["pfu", "--all"]);
    let confirmed = || {
        cluster
            .run(
                "kubectl",
                &[
                    "get",
                    "ed",
                    "books",
                    "-n",
                    "books",
                    "-o",
                    "jsonpath={.status.confirmed.fingerprint}",
                ],
            )
            .stdout
    };
    eventually(
        Duration::from_secs(30),
        "the distribution's status records a confirmation",
        &[&first],
        || !confirmed().is_empty(),
    );
    assert!(first.terminate(Duration::from_secs(10)).is_some());

    bed.reset_counts();
    let pages_before = cluster.emulator().continued_lists();
    let second = Controller::start(&bed, &cluster, "urlguard-1");
    let reconciled = |kind: &str| -> f64 {
        support::controller::samples(&second.metrics(), "urlguard_reconciles_total")
            .iter()
            .filter(|(labels, _)| labels.contains(&format!("kind=\"{kind}\"")))
            .map(|(_, n)| n)
            .sum()
    };
    eventually(
        Duration::from_secs(30),
        "the new controller reconciled the distribution and every URL",
        &[&second],
        || reconciled("EdgeDistribution") >= 1.0 && reconciled("ProtectedFunctionUrl") >= 5.0,
    );
    assert!(
        cluster.emulator().continued_lists() - pages_before >= 2,
        "the new controller listed the URLs in pages (2, 2, 1)"
    );
    std::thread::sleep(Duration::from_secs(2));
    let calls = bed.calls().calls;
    let writes: Vec<&String> = calls.keys().filter(|call| is_write(call)).collect();
    assert!(
        writes.is_empty(),
        "a restart wrote (a distribution reconciled before the URLs' cache was filled loses their behaviors): {writes:?}\n{}",
        second.log()
    );
    let reads: Vec<&String> = calls
        .keys()
        .filter(|call| call.starts_with("lambda:") || call.starts_with("cloudfront:"))
        .collect();
    assert!(
        reads.is_empty(),
        "confirmed a moment ago: nothing read again before the resync slot: {reads:?}\n{}",
        second.log()
    );

    // A spec change is still acted on at once.
    comment_books(&cluster, "books, restarted");
    eventually(
        Duration::from_secs(30),
        "the changed distribution updated",
        &[&second],
        || bed.count("cloudfront:UpdateDistribution") == 1,
    );
    let before = confirmed();
    eventually(
        Duration::from_secs(60),
        "the changed distribution confirmed again",
        &[&second],
        || {
            let now = confirmed();
            !now.is_empty() && now != before
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watches_expired_by_compaction_are_listed_again_and_no_change_is_lost() {
    let (bed, cluster) = start(TestBedOptions::default(), "controller-relist").await;
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    std::thread::sleep(Duration::from_secs(2));
    bed.reset_counts();

    // The API server drops every watch and compacts past the controller's
    // resourceVersions; a change lands while the watches are down.
    cluster.emulator().expire_watches();
    comment_books(&cluster, "books, after a relist");
    eventually(
        Duration::from_secs(30),
        "both watches resumed, answered 410 Gone",
        &[&controller],
        || cluster.emulator().gone_watches() >= 2,
    );
    eventually(
        Duration::from_secs(30),
        "the change seen through the relist and applied",
        &[&controller],
        || bed.count("cloudfront:UpdateDistribution") == 1,
    );
    std::thread::sleep(Duration::from_secs(2));
    let calls = bed.calls().calls;
    let writes: Vec<&String> = calls
        .keys()
        .filter(|call| is_write(call) && call.as_str() != "cloudfront:UpdateDistribution")
        .collect();
    assert!(
        writes.is_empty(),
        "a relist made writes besides the change: {writes:?}\n{}",
        controller.log()
    );
    assert_eq!(bed.count("cloudfront:UpdateDistribution"), 1, "{calls:?}");
}
