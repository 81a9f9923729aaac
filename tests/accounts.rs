//! One AWS role per namespace, end to end: the real controller binary
//! against the kube emulator and the AWS test bed, with
//! `--aws-namespace-role` allowing namespace `team-a` the role
//! `urlguard-team-a` (annotation `urlguard.io/aws-role-arn` on the
//! Namespace).
//!
//! - a namespace naming a role the admin did not allow (`mallory`) gets
//!   `AccountNotAllowed` on every object, no finalizer, and no AWS call at
//!   all reaches the bed;
//! - `team-a` converges books.yaml through a session of its role (an STS
//!   `AssumeRole`, calls counted under the account's metric label), while
//!   `books`, without the annotation, converges with the controller's own
//!   credentials (label `default`); each distribution carries its own
//!   namespace's owner tag.
//!
//! The test bed holds one account (its CloudFront is one store): both roles
//! here are in it, so this shows the routing by namespace, the refusal and
//! the per-account labels, not two accounts' separate states.

mod support;

use std::time::{Duration, Instant};

use support::aws::{TestBedOptions, create_functions_opted_in, product_policy};
use support::books::{BOOK_FUNCTIONS, books_bed, books_yaml};
use support::controller::{Controller, TEST_LOG, samples};
use support::kube::Cluster;

const ACCOUNT: &str = "123456789012";
const TEAM_A_ROLE: &str = "arn:aws:iam::123456789012:role/urlguard-team-a";
const MALLORY_ROLE: &str = "arn:aws:iam::123456789012:role/urlguard-mallory";

/// books.yaml moved to `namespace`: its functions `<namespace>-…`, its
/// parameters under `/<namespace>/`.
fn books_in(namespace: &str) -> String {
    books_yaml()
        .replace("namespace: books", &format!("namespace: {namespace}"))
        .replace(
            "kind: Namespace\nmetadata:\n  name: books",
            &format!("kind: Namespace\nmetadata:\n  name: {namespace}"),
        )
        .replace("    name: books-", &format!("    name: {namespace}-"))
        .replace("/books/", &format!("/{namespace}/"))
}

fn functions_of(namespace: &str) -> Vec<String> {
    BOOK_FUNCTIONS
        .iter()
        .map(|f| f.replacen("books-", &format!("{namespace}-"), 1))
        .collect()
}

fn eventually(
    within: Duration,
    what: &str,
    controller: &Controller,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} within {within:?}; controller log:\n{}",
            controller.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ready_reasons(cluster: &Cluster, kind: &str, namespace: &str) -> String {
    cluster.ok(
        "kubectl",
        &[
            "get",
            kind,
            "-n",
            namespace,
            "-o",
            r#"jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].reason}{" "}{end}"#,
        ],
    )
}

// The tools block a worker while the kube emulator serves on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_namespace_is_reconciled_with_its_allowed_role_and_others_are_refused() {
    // The controller's own credentials hold urlguard's policy and may
    // assume team-a's role, which holds the same policy.
    let mut policy = product_policy();
    policy["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(serde_json::json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": TEAM_A_ROLE}));
    let options = TestBedOptions {
        deploy_time: Duration::from_secs(1),
        product_policy: policy,
        ..TestBedOptions::default()
    };
    let (bed, config) = books_bed(options).await;
    let team_a_functions = functions_of("team-a");
    let names: Vec<&str> = team_a_functions.iter().map(String::as_str).collect();
    create_functions_opted_in(&config, "eu-west-1", &names, Some("urlguard/team-a")).await;
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_role()
        .role_name("urlguard-team-a")
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
        .send()
        .await
        .expect("team-a's role");
    iam.put_role_policy()
        .role_name("urlguard-team-a")
        .policy_name("urlguard")
        .policy_document(product_policy().to_string())
        .send()
        .await
        .expect("urlguard iam-policy on team-a's role");

    let cluster = Cluster::start("accounts").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    for (namespace, role) in [("team-a", TEAM_A_ROLE), ("mallory", MALLORY_ROLE)] {
        cluster.ok("kubectl", &["create", "namespace", namespace]);
        cluster.ok(
            "kubectl",
            &[
                "annotate",
                "namespace",
                namespace,
                &format!("urlguard.io/aws-role-arn={role}"),
            ],
        );
    }
    let allowed = format!("team-a={TEAM_A_ROLE}");
    let controller = Controller::start_with(
        &bed,
        &cluster,
        "urlguard-0",
        &["--aws-namespace-role", &allowed],
        TEST_LOG,
    );

    // mallory: refused on every object, nothing reaches AWS.
    bed.reset_counts();
    let mallory = cluster.dir.join("mallory.yaml");
    std::fs::write(&mallory, books_in("mallory")).expect("mallory.yaml");
    cluster.ok("kubectl", &["apply", "-f", mallory.to_str().expect("path")]);
    eventually(
        Duration::from_secs(30),
        "mallory refused",
        &controller,
        || {
            ready_reasons(&cluster, "ed", "mallory").trim() == "AccountNotAllowed"
                && ready_reasons(&cluster, "pfu", "mallory")
                    .split_whitespace()
                    .count()
                    == 5
                && ready_reasons(&cluster, "pfu", "mallory")
                    .split_whitespace()
                    .all(|r| r == "AccountNotAllowed")
        },
    );
    let message = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "get-books",
            "-n",
            "mallory",
            "-o",
            r#"jsonpath={.status.conditions[?(@.type=="Ready")].message}"#,
        ],
    );
    assert!(
        message.contains("not allowed by the cluster admin")
            && message.contains(MALLORY_ROLE)
            && message.contains("nothing was changed in AWS"),
        "{message}"
    );
    let finalizers = cluster.ok(
        "kubectl",
        &[
            "get",
            "ed,pfu",
            "-n",
            "mallory",
            "-o",
            "jsonpath={.items[*].metadata.finalizers}",
        ],
    );
    assert_eq!(finalizers.trim(), "", "refused objects get no finalizer");
    let calls = bed.calls().calls;
    assert!(
        calls.values().all(|count| *count == 0),
        "no AWS call for a refused namespace: {calls:?}"
    );

    // books (no annotation) and team-a (its allowed role) converge.
    let team_a = cluster.dir.join("team-a.yaml");
    std::fs::write(&team_a, books_in("team-a")).expect("team-a.yaml");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    cluster.ok("kubectl", &["apply", "-f", team_a.to_str().expect("path")]);
    for namespace in ["books", "team-a"] {
        let waited = cluster.run(
            "kubectl",
            &[
                "wait",
                "--for=condition=Ready",
                "pfu",
                "--all",
                "-n",
                namespace,
                "--timeout=90s",
            ],
        );
        assert!(
            waited.ok,
            "{namespace}: {}{}\n{}",
            waited.stdout,
            waited.stderr,
            controller.log()
        );
    }
    assert_eq!(
        bed.calls().count("sts:AssumeRole"),
        1,
        "team-a's role is assumed once, its session cached"
    );
    let metrics = controller.metrics();
    let calls_of = |account: &str| -> f64 {
        samples(&metrics, "urlguard_aws_calls_total")
            .iter()
            .filter(|(labels, _)| labels.contains(&format!(r#"account="{account}""#)))
            .map(|(_, value)| value)
            .sum()
    };
    assert!(
        calls_of("default") > 0.0,
        "books with the default credentials:\n{metrics}"
    );
    assert!(
        calls_of(ACCOUNT) > 0.0,
        "team-a under its account's label:\n{metrics}"
    );

    // Each distribution is its own namespace's, by its owner tag.
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let listed = cloudfront
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    let mut owners = Vec::new();
    for summary in listed
        .distribution_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        let tags = cloudfront
            .list_tags_for_resource()
            .resource(summary.arn())
            .send()
            .await
            .expect("ListTagsForResource");
        for tag in tags.tags().map(|t| t.items()).unwrap_or_default() {
            if tag.key() == "urlguard.io/owner" {
                owners.push(tag.value().unwrap_or_default().to_owned());
            }
        }
    }
    owners.sort();
    assert_eq!(
        owners,
        [
            "urlguard/books/EdgeDistribution/books",
            "urlguard/team-a/EdgeDistribution/books"
        ]
    );
}
