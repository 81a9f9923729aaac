//! Teardown against the AWS test bed (moto behind aws-emulator, with
//! Lambda@Edge replicas that outlive their last association): books.yaml
//! applied then destroyed leaves nothing urlguard made; `urlguard destroy`
//! exits 3 and names what waits for edge replicas, and `--wait` finishes by
//! itself; a URL leaving alone takes only its own parts; signer versions
//! retired by an update go once their replicas do, without blocking the
//! apply; nothing urlguard does not own is ever deleted.

mod support;

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_emulator::{FaultKind, FaultRule};
use serde_json::Value;
use support::aws::{TestBedOptions, as_product, lambda_client};
use support::books::{BOOK_FUNCTIONS, books, books_bed};
use support::cli::{text, urlguard};
use support::engine::{assert_all_ready, assert_writes, count, mutating, outcomes};
use support::inventory::inventory;
use urlguard::api::{DeletionPolicy, EdgeDistribution, ProtectedFunctionUrl};
use urlguard::aws::{Aws, Outcome};
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{DeployWait, Engine, Mode, ResourceReport, RetryPolicy, Status};

fn engine(config: SdkConfig, mode: Mode) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), mode, wait).with_retry_policy(
        RetryPolicy {
            first: Duration::from_millis(250),
            cap: Duration::from_secs(1),
        },
    )
}

async fn apply(
    config: &SdkConfig,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> (Vec<ResourceReport>, Engine) {
    let engine = engine(config.clone(), Mode::Apply);
    let reports = engine
        .reconcile(&desired::build("urlguard", distributions, urls))
        .await;
    (reports, engine)
}

fn deleting_reason(report: &ResourceReport) -> String {
    report.verdict.reason.as_str().to_owned()
}

#[tokio::test]
async fn destroy_exits_3_naming_what_waits_for_edge_replicas_and_wait_finishes_by_itself() {
    // Replicas linger 4 s after the last association left: the first
    // attempt to delete the signer (right after the distribution's delete,
    // about one deploy time later) is refused.
    let (bed, config) = books_bed(TestBedOptions {
        replica_linger: Duration::from_secs(4),
        ..TestBedOptions::default()
    })
    .await;
    let applied = urlguard(
        &bed,
        &[
            "apply",
            "-f",
            "examples/books.yaml",
            "--poll-interval",
            "200ms",
        ],
    );
    assert!(applied.status.success(), "{:?}", text(&applied));

    let once = urlguard(
        &bed,
        &[
            "destroy",
            "-f",
            "examples/books.yaml",
            "--poll-interval",
            "200ms",
            "-o",
            "json",
        ],
    );
    let (stdout, stderr) = text(&once);
    assert_eq!(once.status.code(), Some(3), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("JSON");
    let waiting = json["waiting"].as_array().expect("waiting");
    assert_eq!(waiting.len(), 1, "{json:#}");
    assert_eq!(waiting[0]["kind"], "EdgeDistribution");
    assert_eq!(waiting[0]["name"], "books");
    assert_eq!(waiting[0]["reason"], "WaitingForEdgeReplicas");
    let message = waiting[0]["message"].as_str().expect("message");
    assert!(
        message.contains(&format!(
            "signer function {}",
            support::books::books_signer()
        )) && message.contains("since ")
            && message.contains("next attempt at "),
        "{message}"
    );
    let resources = json["resources"].as_array().expect("resources");
    let books = &resources[0];
    let retired = books["status"]["retiredSignerVersions"]
        .as_array()
        .expect("retired versions listed");
    assert_eq!(retired.len(), 1, "{books:#}");
    assert!(
        retired[0]["versionArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":1"))
    );
    assert!(retired[0]["retiredAt"].is_string() && retired[0]["nextAttemptAt"].is_string());
    let deleting = books["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == "Deleting")
        .expect("Deleting condition");
    assert_eq!(deleting["status"], "True");
    assert_eq!(deleting["reason"], "WaitingForEdgeReplicas");
    for url in &resources[1..] {
        let reason = url["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Deleting"))
            .map(|c| c["reason"].clone());
        assert_eq!(reason, Some(Value::from("Deleted")), "{url:#}");
    }
    let between = inventory(&config, &BOOK_FUNCTIONS).await;
    assert!(between.distributions.is_empty(), "{between:#?}");
    assert_eq!(between.signer_functions.len(), 1, "the signer waits");
    assert_eq!(between.roles.len(), 1, "its role waits with it");
    assert!(between.parameters.is_empty(), "{between:#?}");

    let started = Instant::now();
    let waited = urlguard(
        &bed,
        &[
            "destroy",
            "-f",
            "examples/books.yaml",
            "--wait",
            "--retry-interval",
            "1s",
            "--poll-interval",
            "200ms",
        ],
    );
    let (stdout, stderr) = text(&waited);
    assert!(waited.status.success(), "{stdout}\n{stderr}");
    eprintln!(
        "destroy --wait finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        stderr.contains("waiting for CloudFront to remove Lambda@Edge replicas"),
        "progress on stderr: {stderr}"
    );
    assert!(
        stdout.contains("EdgeDistribution books/books: deleted")
            && stdout.contains(&format!(
                "did: delete signer function {}",
                support::books::books_signer()
            ))
            && stdout.contains(&format!(
                "did: delete signer role {}",
                support::books::books_signer()
            )),
        "{stdout}"
    );
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard("after destroy --wait");
    assert!(
        after.url_configs.values().all(Option::is_none),
        "{after:#?}"
    );

    // Nothing left: a third destroy writes nothing and exits 0.
    let again = urlguard(
        &bed,
        &["destroy", "-f", "examples/books.yaml", "-o", "json"],
    );
    let (stdout, stderr) = text(&again);
    assert!(again.status.success(), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["awsCalls"]["mutating"], 0, "{json:#}");
}

#[tokio::test]
async fn apply_then_destroy_leaves_nothing_and_retain_keeps_the_url_config_on_aws_iam() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books();
    let get_books = urls
        .iter_mut()
        .find(|u| u.metadata.name.as_deref() == Some("get-books"))
        .expect("get-books");
    get_books.spec.deletion_policy = DeletionPolicy::Retain;
    let (reports, _) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    let model = teardown::build("urlguard", &distributions, &urls);

    // A plan-mode teardown reads and says, and writes nothing.
    bed.reset_counts();
    let planner = engine(config.clone(), Mode::Plan);
    let planned = planner.destroy(&model).await;
    assert_writes(&planner, 0);
    assert!(
        planned[0]
            .actions
            .iter()
            .any(|a| a.starts_with("disable distribution")),
        "{:?}",
        planned[0].actions
    );
    assert!(
        bed.calls()
            .calls
            .keys()
            .all(|k| !k.contains(":Delete") && !k.contains(":Update")),
        "{:?}",
        bed.calls().calls
    );

    let destroyer = engine(config.clone(), Mode::Apply);
    let reports = destroyer.destroy_until_gone(&model).await;
    let reasons: Vec<(String, String)> = reports
        .iter()
        .map(|r| (r.name.clone(), deleting_reason(r)))
        .collect();
    assert_eq!(
        reasons,
        [
            ("books", "Deleted"),
            ("create-book", "Deleted"),
            ("delete-book", "Deleted"),
            ("get-book", "Deleted"),
            ("get-books", "Retained"),
            ("update-book", "Deleted"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert!(reports.iter().all(|r| !r.failed()));
    let retained = reports
        .iter()
        .find(|r| r.name == "get-books")
        .expect("get-books");
    assert!(
        retained
            .verdict
            .message
            .contains("stays (deletionPolicy Retain), on AWS_IAM"),
        "{retained:#?}"
    );
    let summary = destroyer.aws().ledger().summary();
    eprintln!("ledger of the destroy: {summary:#?}");
    for (operation, expected) in [
        ("cloudfront:UpdateDistribution", 1),
        ("cloudfront:DeleteDistribution", 1),
        ("cloudfront:DeleteOriginAccessControl", 1),
        ("lambda:DeleteFunctionUrlConfig", 4),
        ("ssm:DeleteParameter", 10),
        ("iam:DeleteRolePolicy", 1),
        ("iam:DeleteRole", 1),
    ] {
        assert_eq!(count(&destroyer, operation), expected, "{operation}");
    }
    let signer_deletes = outcomes(&destroyer, "lambda:DeleteFunction");
    assert_eq!(
        signer_deletes.last(),
        Some(&Outcome::Ok),
        "{signer_deletes:?}"
    );
    assert!(
        signer_deletes[..signer_deletes.len() - 1]
            .iter()
            .all(|o| *o == Outcome::Error("InvalidParameterValueException".into())),
        "only replica refusals before the delete: {signer_deletes:?}"
    );

    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard("after destroy");
    for function in BOOK_FUNCTIONS {
        let expected = (function == "books-get-books").then(|| "AWS_IAM".to_owned());
        assert_eq!(after.url_configs[function], expected, "{function}");
    }

    // Resumable and idempotent: another pass finds nothing to delete.
    let again = engine(config.clone(), Mode::Apply);
    let reports = again.destroy(&model).await;
    assert_writes(&again, 0);
    assert!(reports.iter().all(|r| !r.failed() && !r.waiting()));
}

#[tokio::test]
async fn a_url_leaving_alone_takes_its_behavior_grant_and_parameters_and_the_rest_stays() {
    let (_bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    assert_all_ready(&apply(&config, &distributions, &urls).await.0);

    let (leaving, staying): (Vec<ProtectedFunctionUrl>, Vec<ProtectedFunctionUrl>) = urls
        .into_iter()
        .partition(|u| u.metadata.name.as_deref() == Some("get-books"));
    let model = teardown::build("urlguard", &[], &leaving);
    assert_eq!(model.detached.len(), 1);
    let destroyer = engine(config.clone(), Mode::Apply);
    let reports = destroyer.destroy(&model).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(deleting_reason(&reports[0]), "Deleted", "{reports:#?}");
    let actions = reports[0].actions.join("\n");
    assert!(
        actions.contains("take 1 URL behavior(s) out (get-books)")
            && actions.contains("remove function books-get-books from signer role")
            && actions.contains("delete SSM parameter /books/GetBooksUrl")
            && actions.contains("delete the function URL config of books-get-books"),
        "{actions}"
    );
    assert_eq!(count(&destroyer, "cloudfront:UpdateDistribution"), 1);
    assert_eq!(count(&destroyer, "ssm:DeleteParameter"), 2);
    assert_eq!(count(&destroyer, "iam:PutRolePolicy"), 1);
    assert_eq!(
        mutating(&destroyer),
        6,
        "update, role policy, 2 parameters, URL config and its created marker"
    );

    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.distributions.len(), 1);
    assert!(after.distributions[0].enabled);
    assert_eq!(after.distributions[0].path_patterns.len(), 4);
    assert!(
        !after.distributions[0]
            .path_patterns
            .contains(&"/getBooks".to_owned())
    );
    assert_eq!(after.parameters.len(), 8);
    assert!(
        !after
            .parameters
            .iter()
            .any(|p| p.starts_with("/books/GetBooks"))
    );
    assert_eq!(after.url_configs["books-get-books"], None);
    assert_eq!(
        after.signer_functions.len(),
        1,
        "the distribution keeps its signer"
    );

    // The four that stay are exactly what an apply of them wants: the
    // distribution and the role policy need no write.
    let (reports, engine) = apply(&config, &distributions, &staying).await;
    assert_all_ready(&reports);
    assert_writes(&engine, 0);
}

#[tokio::test]
async fn signer_versions_retired_by_an_update_go_once_their_replicas_do_without_blocking() {
    let linger = Duration::from_secs(2);
    let (_bed, config) = books_bed(TestBedOptions {
        replica_linger: linger,
        ..TestBedOptions::default()
    })
    .await;
    let (mut distributions, urls) = books();
    assert_all_ready(&apply(&config, &distributions, &urls).await.0);

    let retired_of = |reports: &[ResourceReport]| -> Vec<String> {
        let Status::Distribution(status) = &reports[0].found else {
            panic!("distribution first")
        };
        status
            .retired_signer_versions
            .iter()
            .map(|r| {
                assert!(
                    r.retired_at.is_some() && r.next_attempt_at.is_some(),
                    "{r:?}"
                );
                r.version_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };

    // The update retires version 1: listed, not even tried (this very
    // update released it), and the resource is ready.
    distributions[0].spec.signer.memory_size = 256;
    let (reports, engine) = apply(&config, &distributions, &urls).await;
    let retired_at = Instant::now();
    assert_all_ready(&reports);
    assert_eq!(retired_of(&reports), ["1"]);
    assert_eq!(count(&engine, "lambda:DeleteFunction"), 0);

    // A later run tries it: refused while the replicas linger, still ready.
    let (reports, engine) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(retired_of(&reports), ["1"]);
    assert_eq!(count(&engine, "lambda:DeleteFunction"), 1);
    assert_eq!(mutating(&engine), 1, "only the refused delete");

    // Once the replicas are gone the next run deletes it.
    tokio::time::sleep((linger + Duration::from_millis(300)).saturating_sub(retired_at.elapsed()))
        .await;
    let (reports, engine) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert!(retired_of(&reports).is_empty());
    assert_eq!(count(&engine, "lambda:DeleteFunction"), 1);
    assert!(
        reports[0]
            .actions
            .iter()
            .any(|a| a == "delete retired signer version 1 (no longer associated)"),
        "{:?}",
        reports[0].actions
    );
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(
        after.signer_functions[&support::books::books_signer()],
        ["2"]
    );

    // Steady state again.
    let (reports, engine) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_writes(&engine, 0);
}

#[tokio::test]
async fn resources_urlguard_does_not_own_are_left_alone_and_reported() {
    let (_bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    assert_all_ready(&apply(&config, &distributions, &urls).await.0);

    // Someone takes urlguard's tag off the signer role and off a parameter:
    // from now on they are not urlguard's.
    let iam = aws_sdk_iam::Client::new(&config);
    iam.untag_role()
        .role_name(support::books::books_signer())
        .tag_keys("urlguard.io/owner")
        .send()
        .await
        .expect("UntagRole");
    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.remove_tags_from_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id("/books/GetBooksUrl")
        .tag_keys("urlguard.io/owner")
        .send()
        .await
        .expect("RemoveTagsFromResource");

    let destroyer = engine(config.clone(), Mode::Apply);
    let model = teardown::build("urlguard", &distributions, &urls);
    let reports = destroyer.destroy_until_gone(&model).await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    let books = &reports[0];
    assert!(
        books.actions.iter().any(|a| a.starts_with(&format!(
            "left alone: IAM role {} is owned by (no owner tag)",
            support::books::books_signer()
        ))),
        "{:?}",
        books.actions
    );
    assert!(
        books.verdict.message.contains(&format!(
            "left alone (not owned by urlguard): IAM role {}",
            support::books::books_signer()
        )),
        "{books:#?}"
    );
    let get_books = reports
        .iter()
        .find(|r| r.name == "get-books")
        .expect("get-books");
    assert!(
        get_books
            .actions
            .iter()
            .any(|a| a.starts_with("left alone: SSM parameter /books/GetBooksUrl")),
        "{:?}",
        get_books.actions
    );
    assert_eq!(count(&destroyer, "iam:DeleteRole"), 0);
    assert_eq!(count(&destroyer, "iam:DeleteRolePolicy"), 0);
    assert_eq!(count(&destroyer, "ssm:DeleteParameter"), 9);

    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.roles, [support::books::books_signer()], "left alone");
    assert_eq!(after.parameters, ["/books/GetBooksUrl"], "left alone");
    assert!(after.distributions.is_empty() && after.signer_functions.is_empty());
}

#[tokio::test]
async fn a_distribution_without_the_owner_tag_is_never_disabled_or_deleted() {
    let (_bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    let (reports, _) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    let Status::Distribution(status) = &reports[0].found else {
        panic!("distribution first")
    };
    let arn = status.distribution_arn.clone().expect("ARN");
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    cloudfront
        .untag_resource()
        .resource(&arn)
        .tag_keys(
            aws_sdk_cloudfront::types::TagKeys::builder()
                .items("urlguard.io/owner")
                .build(),
        )
        .send()
        .await
        .expect("UntagResource");

    let destroyer = engine(config.clone(), Mode::Apply);
    let reports = destroyer
        .destroy(&teardown::build("urlguard", &distributions, &urls))
        .await;
    assert!(
        reports[0]
            .actions
            .iter()
            .any(|a| a.starts_with("left alone: CloudFront distribution")),
        "{:?}",
        reports[0].actions
    );
    assert_eq!(count(&destroyer, "cloudfront:UpdateDistribution"), 0);
    assert_eq!(count(&destroyer, "cloudfront:DeleteDistribution"), 0);
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.distributions.len(), 1);
    assert!(after.distributions[0].enabled);
    assert_eq!(after.distributions[0].path_patterns.len(), 5);
    // The distribution still associates the signer: it waits, as it must.
    assert_eq!(deleting_reason(&reports[0]), "WaitingForEdgeReplicas");
    assert_eq!(after.signer_functions.len(), 1);
    // The URLs' own parts are urlguard's (managed by name): they went.
    let lambda = lambda_client(&config, "eu-west-1");
    assert!(
        lambda
            .get_function_url_config()
            .function_name("books-get-books")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_pass_that_does_not_wait_for_cloudfront_reports_the_deploying_distribution() {
    let (_bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    assert_all_ready(&apply(&config, &distributions, &urls).await.0);

    // As a controller would run it: one pass, no waiting, requeue.
    let no_wait = DeployWait {
        enabled: false,
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(30),
    };
    let destroyer = Engine::new(
        Aws::from_sdk_config(as_product(config.clone())),
        Mode::Apply,
        no_wait,
    )
    .with_retry_policy(RetryPolicy {
        first: Duration::from_millis(250),
        cap: Duration::from_secs(1),
    });
    let model = teardown::build("urlguard", &distributions, &urls);
    let first = destroyer.destroy(&model).await;
    assert_eq!(
        deleting_reason(&first[0]),
        "WaitingForDeployment",
        "{first:#?}"
    );
    assert!(first[0].waiting() && !first[0].failed());
    assert!(
        first[1..].iter().all(|r| deleting_reason(r) == "Deleted"),
        "{first:#?}"
    );
    let between = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(between.distributions.len(), 1);
    assert!(!between.distributions[0].enabled, "disabled");
    assert!(
        between.distributions[0].path_patterns.is_empty(),
        "URL behaviors out"
    );
    assert!(between.parameters.is_empty());

    // Later passes finish it: deployed, deleted, then the signer once its
    // replicas are gone.
    let mut passes = 1;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let reports = destroyer.destroy(&model).await;
        passes += 1;
        assert!(reports.iter().all(|r| !r.failed()), "{reports:#?}");
        if reports.iter().all(|r| !r.waiting()) {
            break;
        }
        assert!(
            passes < 40,
            "not finished after {passes} passes: {reports:#?}"
        );
    }
    assert_eq!(count(&destroyer, "cloudfront:UpdateDistribution"), 1);
    assert_eq!(count(&destroyer, "cloudfront:DeleteDistribution"), 1);
    inventory(&config, &BOOK_FUNCTIONS)
        .await
        .assert_nothing_from_urlguard("after passes without waiting");
}

/// The adopted marker urlguard left on `function` (eu-west-1), if any.
async fn adopted_marker(config: &SdkConfig, function: &str) -> Option<String> {
    let lambda = lambda_client(config, "eu-west-1");
    let found = lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .expect("GetFunction");
    found
        .tags()
        .and_then(|tags| tags.get("urlguard.io/adopted-url-config"))
        .cloned()
}

/// `url` as another `ProtectedFunctionUrl` `name` at `path`, naming the
/// same function.
fn sharing(url: &ProtectedFunctionUrl, name: &str, path: &str) -> ProtectedFunctionUrl {
    let mut other = url.clone();
    other.metadata.name = Some(name.to_owned());
    other.spec.path_pattern = path.to_owned();
    other.spec.ssm_export.url_parameter = None;
    other.spec.ssm_export.arn_parameter = None;
    other
}

#[tokio::test]
async fn a_url_config_that_existed_before_urlguard_is_adopted_and_left_in_place() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    // The application's deployment made books-get-books' URL itself, open.
    lambda_client(&config, "eu-west-1")
        .create_function_url_config()
        .function_name("books-get-books")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("CreateFunctionUrlConfig");
    let (distributions, urls) = books();
    let (reports, applier) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    let get_books = reports
        .iter()
        .find(|r| r.name == "get-books")
        .expect("get-books");
    let notices: Vec<String> = get_books.notices.iter().map(ToString::to_string).collect();
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("adopted the function URL config of books-get-books")),
        "{notices:?}"
    );
    // Adopted: marked (before the switch to AWS_IAM); the four urlguard
    // created carry its created marker instead.
    assert_eq!(count(&applier, "lambda:TagResource"), 5);
    let calls: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|r| r.path.contains("books-get-books"))
        .map(|r| r.call)
        .collect();
    assert_eq!(
        calls.iter().filter(|c| *c == "lambda:TagResource").count(),
        1,
        "the adopted marker only: {calls:?}"
    );
    let tagged = calls.iter().rposition(|c| c == "lambda:TagResource");
    let switched = calls
        .iter()
        .position(|c| c == "lambda:UpdateFunctionUrlConfig");
    assert!(
        tagged.is_some() && tagged < switched,
        "tag first, then switch: {calls:?}"
    );
    assert_eq!(
        adopted_marker(&config, "books-get-books").await.as_deref(),
        Some("urlguard/books/ProtectedFunctionUrl/get-books")
    );
    assert_eq!(adopted_marker(&config, "books-get-book").await, None);

    let destroyer = engine(config.clone(), Mode::Apply);
    let model = teardown::build("urlguard", &distributions, &urls);
    let reports = destroyer.destroy_until_gone(&model).await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    let get_books = reports
        .iter()
        .find(|r| r.name == "get-books")
        .expect("get-books");
    assert_eq!(deleting_reason(get_books), "Deleted");
    assert!(
        get_books.verdict.message.contains(
            "the function URL config is left in place (created before urlguard), on AWS_IAM"
        ),
        "{get_books:#?}"
    );
    let notices: Vec<String> = get_books.notices.iter().map(ToString::to_string).collect();
    assert_eq!(
        notices,
        [
            "function URL config of books-get-books left in place on AWS_IAM: created before urlguard"
        ]
    );
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 4);
    // The adopted marker stays, so that a later pass (or a second destroy)
    // still knows the config is not urlguard's; the four deleted configs'
    // created markers go with them.
    assert_eq!(count(&destroyer, "lambda:UntagResource"), 4);

    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    for function in BOOK_FUNCTIONS {
        let expected = (function == "books-get-books").then(|| "AWS_IAM".to_owned());
        assert_eq!(after.url_configs[function], expected, "{function}");
        let marker = (function == "books-get-books")
            .then(|| "urlguard/books/ProtectedFunctionUrl/get-books".to_owned());
        assert_eq!(
            adopted_marker(&config, function).await,
            marker,
            "{function}"
        );
    }

    // A second destroy (as a rerun of `urlguard destroy`) still leaves it.
    let again = engine(config.clone(), Mode::Apply);
    let reports = again.destroy_until_gone(&model).await;
    assert!(reports.iter().all(|r| !r.failed()), "{reports:#?}");
    assert_eq!(count(&again, "lambda:DeleteFunctionUrlConfig"), 0);
    assert_eq!(
        inventory(&config, &BOOK_FUNCTIONS).await.url_configs["books-get-books"].as_deref(),
        Some("AWS_IAM")
    );
}

#[tokio::test]
async fn a_function_shared_by_two_urls_keeps_its_config_until_the_last_one_leaves() {
    let (_bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books();
    let get_books = urls
        .iter()
        .find(|u| u.metadata.name.as_deref() == Some("get-books"))
        .expect("get-books")
        .clone();
    let v2 = sharing(&get_books, "get-books-v2", "/v2/getBooks");
    urls.push(v2.clone());
    assert_all_ready(&apply(&config, &distributions, &urls).await.0);
    let host = inventory(&config, &BOOK_FUNCTIONS).await.url_configs["books-get-books"].clone();
    assert_eq!(host.as_deref(), Some("AWS_IAM"));

    // get-books leaves; get-books-v2's origin still uses the config.
    let others: Vec<ProtectedFunctionUrl> = urls
        .iter()
        .filter(|u| u.metadata.name != get_books.metadata.name)
        .cloned()
        .collect();
    let model = teardown::build("urlguard", &[], std::slice::from_ref(&get_books))
        .with_staying("urlguard", &others);
    let destroyer = engine(config.clone(), Mode::Apply);
    let reports = destroyer.destroy(&model).await;
    assert_eq!(reports.len(), 1);
    assert!(!reports[0].failed(), "{reports:#?}");
    let notices: Vec<String> = reports[0].notices.iter().map(ToString::to_string).collect();
    assert_eq!(
        notices,
        [
            "function URL config of books-get-books left in place on AWS_IAM: still used by books/get-books-v2"
        ]
    );
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 0);
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(
        after.url_configs["books-get-books"].as_deref(),
        Some("AWS_IAM")
    );
    // urlguard created it: its created marker (written by get-books, the
    // first), no adopted marker, nothing to hand over.
    assert_eq!(adopted_marker(&config, "books-get-books").await, None);
    assert!(after.created_markers["books-get-books"].is_some());
    assert_eq!(count(&destroyer, "lambda:TagResource"), 0);
    // The distribution still routes /v2/getBooks to it.
    assert!(
        after.distributions[0]
            .path_patterns
            .contains(&"/v2/getBooks".to_owned())
    );

    // get-books-v2 leaves too: the last user deletes it.
    let rest: Vec<ProtectedFunctionUrl> = others
        .iter()
        .filter(|u| u.metadata.name != v2.metadata.name)
        .cloned()
        .collect();
    let model = teardown::build("urlguard", &[], &[v2]).with_staying("urlguard", &rest);
    let destroyer = engine(config.clone(), Mode::Apply);
    let reports = destroyer.destroy(&model).await;
    assert!(!reports[0].failed(), "{reports:#?}");
    assert!(reports[0].notices.is_empty(), "{reports:#?}");
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 1);
    assert_eq!(
        count(&destroyer, "lambda:UntagResource"),
        1,
        "its created marker"
    );
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.url_configs["books-get-books"], None);
    assert_eq!(after.created_markers["books-get-books"], None);
    assert_eq!(adopted_marker(&config, "books-get-books").await, None);
}

#[tokio::test]
async fn deleting_a_distribution_leaves_the_configs_of_urls_that_stay() {
    let (_bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    assert_all_ready(&apply(&config, &distributions, &urls).await.0);

    // Only the distribution is being deleted: every URL stays (as the
    // controller's cache says).
    let model = teardown::build("urlguard", &distributions, &urls).with_staying("urlguard", &urls);
    let destroyer = engine(config.clone(), Mode::Apply);
    let reports = destroyer.destroy_until_gone(&model).await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 0);
    assert_eq!(count(&destroyer, "lambda:UntagResource"), 0);
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert!(after.distributions.is_empty(), "{after:#?}");
    for function in BOOK_FUNCTIONS {
        assert_eq!(
            after.url_configs[function].as_deref(),
            Some("AWS_IAM"),
            "{function}"
        );
        assert_eq!(
            adopted_marker(&config, function).await,
            None,
            "{function}: urlguard's, deleted when its URL leaves"
        );
    }
}

#[tokio::test]
async fn a_url_config_already_on_aws_iam_before_urlguard_is_left_in_place() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    // The application's deployment made books-get-books' URL itself,
    // already on AWS_IAM: nothing tells it from urlguard's but the marker.
    lambda_client(&config, "eu-west-1")
        .create_function_url_config()
        .function_name("books-get-books")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("CreateFunctionUrlConfig");
    let (distributions, urls) = books();
    let (reports, applier) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    // A created marker before each of the four creates, none on the
    // config found (nothing to switch, nothing to adopt).
    assert_eq!(count(&applier, "lambda:TagResource"), 4);
    let calls: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|r| r.path.contains("books-get-book") && !r.path.contains("books-get-books"))
        .map(|r| r.call)
        .collect();
    let tagged = calls.iter().position(|c| c == "lambda:TagResource");
    let created = calls
        .iter()
        .position(|c| c == "lambda:CreateFunctionUrlConfig");
    assert!(
        tagged.is_some() && created.is_some() && tagged < created,
        "the marker first, then the create: {calls:?}"
    );
    let before = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(before.created_markers["books-get-books"], None);
    assert_eq!(
        before.created_markers["books-get-book"].as_deref(),
        Some("urlguard/books/ProtectedFunctionUrl/get-book")
    );

    let destroyer = engine(config.clone(), Mode::Apply);
    let model = teardown::build("urlguard", &distributions, &urls);
    let reports = destroyer.destroy_until_gone(&model).await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    let get_books = reports
        .iter()
        .find(|r| r.name == "get-books")
        .expect("get-books");
    assert_eq!(deleting_reason(get_books), "Deleted");
    let left = "not created by urlguard (the function has no urlguard.io/created-url-config tag)";
    assert!(
        get_books.verdict.message.contains(&format!(
            "the function URL config is left in place ({left}), on AWS_IAM"
        )),
        "{get_books:#?}"
    );
    let notices: Vec<String> = get_books.notices.iter().map(ToString::to_string).collect();
    assert_eq!(
        notices,
        [format!(
            "function URL config of books-get-books left in place on AWS_IAM: {left}"
        )]
    );
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 4);
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard("after the destroy");
    for function in BOOK_FUNCTIONS {
        let expected = (function == "books-get-books").then(|| "AWS_IAM".to_owned());
        assert_eq!(after.url_configs[function], expected, "{function}");
        assert_eq!(after.created_markers[function], None, "{function}");
    }
}

#[tokio::test]
async fn a_crash_between_the_created_marker_and_the_create_leaves_the_config_urlguards() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    // Every create fails for good after its marker went on: as if the
    // process died between the two.
    bed.set_faults(&[FaultRule::next(
        "lambda",
        "CreateFunctionUrlConfig",
        FaultKind::Http500,
        1_000,
    )]);
    let (distributions, urls) = books();
    let (reports, crashed) = apply(&config, &distributions, &urls).await;
    assert!(
        reports
            .iter()
            .filter(|r| r.kind == urlguard::reconcile::Kind::ProtectedFunctionUrl)
            .all(ResourceReport::failed),
        "{reports:#?}"
    );
    assert_eq!(count(&crashed, "lambda:TagResource"), 5);
    let between = inventory(&config, &BOOK_FUNCTIONS).await;
    for function in BOOK_FUNCTIONS {
        assert_eq!(between.url_configs[function], None, "{function}");
        assert!(between.created_markers[function].is_some(), "{function}");
    }

    // The next run creates the configs under the markers already there.
    bed.clear_faults();
    let (reports, resumed) = apply(&config, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&resumed, "lambda:TagResource"), 0);
    assert_eq!(count(&resumed, "lambda:CreateFunctionUrlConfig"), 5);

    // urlguard's: deleted with Delete, markers with them.
    let destroyer = engine(config.clone(), Mode::Apply);
    let model = teardown::build("urlguard", &distributions, &urls);
    let reports = destroyer.destroy_until_gone(&model).await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    assert!(reports.iter().all(|r| r.notices.is_empty()), "{reports:#?}");
    assert_eq!(count(&destroyer, "lambda:DeleteFunctionUrlConfig"), 5);
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard("after the destroy");
    for function in BOOK_FUNCTIONS {
        assert_eq!(after.url_configs[function], None, "{function}");
        assert_eq!(after.created_markers[function], None, "{function}");
    }
}
