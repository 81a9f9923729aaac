//! One AWS account per namespace, end to end: the real controller binary
//! against the kube emulator and the AWS test bed (moto keeps a state per
//! account; the emulator's CloudFront too), with `--aws-namespace-role`
//! allowing namespace `team-a` the role `urlguard-team-a` of account
//! 111111111111 and `team-b` any role of account 222222222222 (annotation
//! `urlguard.io/aws-role-arn` on each Namespace).
//!
//! - a namespace naming a role the admin did not allow (`mallory`) gets
//!   `AccountNotAllowed` on every object, no finalizer, and no AWS call at
//!   all reaches the bed;
//! - `team-a` and `team-b` converge books.yaml each in its own account,
//!   through a session of its role (one STS `AssumeRole` each, the session
//!   then cached; calls counted under the account's metric label), while
//!   `books`, without the annotation, converges in the default account with
//!   the controller's own credentials (label `default`): each account's
//!   CloudFront holds exactly its own namespace's distribution, and each
//!   role's session is held to the role's policy (`urlguard iam-policy`).

mod support;

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use support::aws::{
    TestBed, TestBedOptions, create_functions_opted_in, lambda_client, product_policy,
};
use support::books::{BOOK_FUNCTIONS, books_bed, books_yaml};
use support::controller::{Controller, TEST_LOG, samples};
use support::kube::Cluster;
use urlguard::model::iam::{BOUNDARY_PATH, signer_boundary_name};
use urlguard::plan::boundary::boundary_policy;

const DEFAULT_ACCOUNT: &str = "123456789012";
const TEAM_A_ACCOUNT: &str = "111111111111";
const TEAM_A_ROLE: &str = "arn:aws:iam::111111111111:role/urlguard-team-a";
const TEAM_B_ACCOUNT: &str = "222222222222";
const TEAM_B_ROLE: &str = "arn:aws:iam::222222222222:role/urlguard-team-b";
const MALLORY_ROLE: &str = "arn:aws:iam::222222222222:role/urlguard-mallory";

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
    // assume both teams' roles, which hold the same policy in their
    // accounts.
    let mut policy = product_policy();
    policy["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(serde_json::json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [TEAM_A_ROLE, TEAM_B_ROLE]}));
    let options = TestBedOptions {
        deploy_time: Duration::from_secs(1),
        product_policy: policy,
        ..TestBedOptions::default()
    };
    let (bed, config) = books_bed(options).await;
    let team_a = account_setup(&bed, TEAM_A_ACCOUNT, "team-a", TEAM_A_ROLE).await;
    let team_b = account_setup(&bed, TEAM_B_ACCOUNT, "team-b", TEAM_B_ROLE).await;

    let cluster = Cluster::start("accounts").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    for (namespace, role) in [
        ("team-a", TEAM_A_ROLE),
        ("team-b", TEAM_B_ROLE),
        ("mallory", MALLORY_ROLE),
    ] {
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
    // team-a by its role, team-b by its account (any role of it).
    let allowed = format!("team-a={TEAM_A_ROLE},team-b={TEAM_B_ACCOUNT}");
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

    // books (no annotation) and both teams (their accounts) converge.
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    for namespace in ["team-a", "team-b"] {
        let file = cluster.dir.join(format!("{namespace}.yaml"));
        std::fs::write(&file, books_in(namespace)).expect("manifest");
        cluster.ok("kubectl", &["apply", "-f", file.to_str().expect("path")]);
    }
    for namespace in ["books", "team-a", "team-b"] {
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
        2,
        "each team's role is assumed once, its session cached"
    );
    let metrics = controller.metrics();
    let calls_of = |account: &str| -> f64 {
        samples(&metrics, "urlguard_aws_calls_total")
            .iter()
            .filter(|(labels, _)| labels.contains(&format!(r#"account="{account}""#)))
            .map(|(_, value)| value)
            .sum()
    };
    for label in ["default", TEAM_A_ACCOUNT, TEAM_B_ACCOUNT] {
        assert!(
            calls_of(label) > 0.0,
            "no calls labelled {label}:\n{metrics}"
        );
    }

    // Each account holds exactly its own namespace's distribution, and
    // its functions' URLs are on AWS_IAM.
    for (setup, account, namespace) in [
        (&config, DEFAULT_ACCOUNT, "books"),
        (&team_a, TEAM_A_ACCOUNT, "team-a"),
        (&team_b, TEAM_B_ACCOUNT, "team-b"),
    ] {
        assert_eq!(
            distribution_owners(setup).await,
            [format!("urlguard/{namespace}/EdgeDistribution/books")],
            "the distributions of account {account}"
        );
        let function = if namespace == "books" {
            "books-get-books".to_owned()
        } else {
            format!("{namespace}-get-books")
        };
        let url = lambda_client(setup, "eu-west-1")
            .get_function_url_config()
            .function_name(&function)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{function} in {account}: {e:?}"));
        assert_eq!(
            url.auth_type().as_str(),
            "AWS_IAM",
            "{function} in {account}"
        );
    }
    // A function named by ARN is compared with the namespace's account:
    // team-a's own account is accepted, the default account refused.
    let by_arn = |name: &str, function: &str| {
        format!(
            "apiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {{name: {name}, namespace: team-a}}\nspec:\n  function: {{name: \"{function}\", region: eu-west-1}}\n  distributionRef: {{name: books}}\n  pathPattern: /{name}\n"
        )
    };
    let arns = cluster.dir.join("arns.yaml");
    std::fs::write(
        &arns,
        [
            by_arn(
                "own-account",
                &format!("arn:aws:lambda:eu-west-1:{TEAM_A_ACCOUNT}:function:team-a-get-book"),
            ),
            by_arn(
                "default-account",
                &format!("arn:aws:lambda:eu-west-1:{DEFAULT_ACCOUNT}:function:books-get-book"),
            ),
        ]
        .join("---\n"),
    )
    .expect("arns.yaml");
    cluster.ok("kubectl", &["apply", "-f", arns.to_str().expect("path")]);
    let reason = |name: &str| {
        cluster.ok(
            "kubectl",
            &[
                "get",
                "pfu",
                name,
                "-n",
                "team-a",
                "-o",
                r#"jsonpath={.status.conditions[?(@.type=="Ready")].reason}"#,
            ],
        )
    };
    eventually(
        Duration::from_secs(60),
        "ARNs compared with team-a's account",
        &controller,
        || {
            reason("own-account") == "Protected"
                && reason("default-account") == "FunctionInOtherAccount"
        },
    );

    // A session of a team's role was restricted to the role's policy and
    // never refused.
    let denied: Vec<_> = bed
        .authorizations()
        .into_iter()
        .filter(|record| record.required && record.decision != aws_emulator::Decision::Allow)
        .map(|record| format!("{} {}", record.call, record.access_key))
        .collect();
    assert!(denied.is_empty(), "denied: {denied:?}");
}

/// An SDK config acting in `account` (a session of a set-up role there,
/// unrestricted), where the account's platform team has made the signer
/// roles' permissions boundary and the role urlguard assumes for
/// `namespace` (`role`, with urlguard's policy), and the team's
/// application its functions, opted in for `namespace`.
async fn account_setup(bed: &TestBed, account: &str, namespace: &str, role: &str) -> SdkConfig {
    let base = bed.sdk_config().await;
    let session = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/setup"))
        .role_session_name("setup")
        .send()
        .await
        .expect("a session in the account");
    let credentials = session.credentials().expect("credentials");
    let config = base
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "setup",
        )))
        .build();
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_policy()
        .path(BOUNDARY_PATH)
        .policy_name(signer_boundary_name("urlguard"))
        .policy_document(boundary_policy("urlguard").to_string())
        .send()
        .await
        .expect("the signer boundary");
    let role_name = role.rsplit('/').next().expect("role name");
    iam.create_role()
        .role_name(role_name)
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{DEFAULT_ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
        .send()
        .await
        .expect("the role urlguard assumes");
    iam.put_role_policy()
        .role_name(role_name)
        .policy_name("urlguard")
        .policy_document(product_policy().to_string())
        .send()
        .await
        .expect("urlguard iam-policy on the role");
    let functions = functions_of(namespace);
    let names: Vec<&str> = functions.iter().map(String::as_str).collect();
    let allow = format!("urlguard/{namespace}");
    create_functions_opted_in(&config, "eu-west-1", &names, Some(&allow)).await;
    config
}

/// The owner tags of the distributions `config`'s account holds.
async fn distribution_owners(config: &SdkConfig) -> Vec<String> {
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
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
    owners
}
