//! Protected means verified: under both protections urlguard reads each
//! function's resource policy and reports (`Exposed`, a warning, a `Ready`
//! that no longer claims "only through the distribution") the statements
//! that let someone else invoke it; `spec.removeForeignStatements: true`
//! removes them. On the enforcing test bed: the product signs with a key
//! restricted to `urlguard iam-policy`'s output.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use support::aws::{TestBed, TestBedOptions, as_product, lambda_client};
use support::books::{books, books_bed};
use support::engine::{assert_all_ready, count};
use urlguard::api::{EdgeDistribution, ProtectedFunctionUrl, Protection};
use urlguard::aws::Aws;
use urlguard::plan::desired;
use urlguard::reconcile::{DeployWait, Engine, Mode, Notice, Reason, ResourceReport, Status};

const OTHER_DISTRIBUTION: &str = "arn:aws:cloudfront::123456789012:distribution/EOTHER";

fn engine(config: SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), Mode::Apply, wait)
}

async fn apply(
    bed: &TestBed,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> (Vec<ResourceReport>, Engine) {
    let engine = engine(bed.sdk_config().await);
    let reports = engine
        .reconcile(&desired::build("urlguard", distributions, urls))
        .await;
    (reports, engine)
}

fn books_with(protection: Protection) -> (Vec<EdgeDistribution>, Vec<ProtectedFunctionUrl>) {
    let (mut distributions, urls) = books();
    distributions[0].spec.protection = protection;
    (distributions, urls)
}

fn report<'a>(reports: &'a [ResourceReport], name: &str) -> &'a ResourceReport {
    reports
        .iter()
        .find(|r| r.name == name && r.kind == urlguard::reconcile::Kind::ProtectedFunctionUrl)
        .expect(name)
}

/// The `Exposed` condition's status and message.
fn exposed(report: &ResourceReport) -> (String, String) {
    let status = report.status();
    let condition = status
        .conditions()
        .iter()
        .find(|c| c.type_ == "Exposed")
        .unwrap_or_else(|| panic!("no Exposed condition: {report:#?}"));
    (condition.status.clone(), condition.message.clone())
}

fn exposed_sids(report: &ResourceReport) -> Vec<String> {
    match &report.found {
        Status::Url(found) => found
            .exposed_statements
            .iter()
            .flatten()
            .map(|e| e.statement_id.clone())
            .collect(),
        Status::Distribution(_) => Vec::new(),
    }
}

/// Statement ids of `function`'s resource policy (eu-west-1).
async fn statements(config: &SdkConfig, function: &str) -> Vec<String> {
    match lambda_client(config, "eu-west-1")
        .get_policy()
        .function_name(function)
        .send()
        .await
    {
        Ok(policy) => {
            let document: serde_json::Value =
                serde_json::from_str(policy.policy().unwrap_or("{}")).expect("policy JSON");
            document["Statement"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
                .collect()
        }
        Err(_) => Vec::new(),
    }
}

/// The function owner's own statements, made with the admin key: a public
/// grant on books-get-books, CloudFront for another distribution on
/// books-get-book, and an S3 trigger on books-create-book.
async fn add_foreign_statements(config: &SdkConfig) {
    let lambda = lambda_client(config, "eu-west-1");
    lambda
        .add_permission()
        .function_name("books-get-books")
        .statement_id("public")
        .action("lambda:InvokeFunctionUrl")
        .principal("*")
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("a public grant");
    lambda
        .add_permission()
        .function_name("books-get-book")
        .statement_id("other-distribution")
        .action("lambda:InvokeFunctionUrl")
        .principal("cloudfront.amazonaws.com")
        .source_arn(OTHER_DISTRIBUTION)
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("a grant to another distribution");
    lambda
        .add_permission()
        .function_name("books-create-book")
        .statement_id("s3-trigger")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::books-uploads")
        .send()
        .await
        .expect("a trigger");
}

#[tokio::test]
async fn foreign_statements_are_reported_untouched_then_removed_on_request_under_edge_signer() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    add_foreign_statements(&config).await;
    let (distributions, mut urls) = books_with(Protection::EdgeSigner);
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);

    let get_books = report(&reports, "get-books");
    assert_eq!(exposed_sids(get_books), ["public"]);
    let (status, message) = exposed(get_books);
    assert_eq!(status, "True");
    assert!(
        message.contains("public: anyone (*) may call lambda:InvokeFunctionUrl"),
        "{message}"
    );
    assert_eq!(
        get_books.verdict.reason,
        Reason::ReachableOutsideDistribution
    );
    assert!(
        !get_books.verdict.message.contains("only through"),
        "{:?}",
        get_books.verdict
    );
    assert!(
        get_books.notices.iter().any(
            |n| matches!(n, Notice::Exposed { statements } if statements[0].starts_with("public: "))
        ),
        "{:?}",
        get_books.notices
    );
    let get_book = report(&reports, "get-book");
    assert_eq!(exposed_sids(get_book), ["other-distribution"]);
    assert!(
        exposed(get_book)
            .1
            .contains(&format!("CloudFront for {OTHER_DISTRIBUTION}")),
        "{get_book:#?}"
    );
    // A trigger, and functions with nothing foreign: not exposed.
    for name in ["create-book", "update-book", "delete-book"] {
        let url = report(&reports, name);
        assert_eq!(exposed(url).0, "False", "{name}");
        assert_eq!(url.verdict.reason, Reason::Protected, "{name}");
    }
    // One GetPolicy per URL; nothing foreign touched without the opt-in.
    assert_eq!(count(&engine, "lambda:GetPolicy"), 5);
    assert_eq!(count(&engine, "lambda:RemovePermission"), 0);
    assert_eq!(bed.count("lambda:RemovePermission"), 0);
    assert_eq!(statements(&config, "books-get-books").await, ["public"]);

    // The opt-in removes them, and only them.
    for url in urls.iter_mut() {
        url.spec.remove_foreign_statements = true;
    }
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&engine, "lambda:RemovePermission"), 2);
    for name in ["get-books", "get-book", "create-book"] {
        let url = report(&reports, name);
        assert_eq!(exposed(url).0, "False", "{name}: {url:#?}");
        assert_eq!(url.verdict.reason, Reason::Protected, "{name}");
    }
    assert!(
        report(&reports, "get-books")
            .notices
            .iter()
            .any(|n| matches!(n, Notice::ForeignStatementRemoved { statement } if statement.starts_with("public: "))),
        "{reports:#?}"
    );
    assert!(statements(&config, "books-get-books").await.is_empty());
    assert!(statements(&config, "books-get-book").await.is_empty());
    assert_eq!(
        statements(&config, "books-create-book").await,
        ["s3-trigger"]
    );

    // Converged: a third pass writes nothing.
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(engine.aws().ledger().summary().mutating, 0);
}

#[tokio::test]
async fn under_origin_access_control_urlguards_own_grants_are_never_foreign_and_cost_no_extra_read()
{
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books_with(Protection::OriginAccessControl);
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    for url in reports
        .iter()
        .filter(|r| r.kind == urlguard::reconcile::Kind::ProtectedFunctionUrl)
    {
        assert_eq!(exposed(url).0, "False", "{url:#?}");
        assert_eq!(url.verdict.reason, Reason::Protected);
    }
    // The read that plans CloudFront's grants is the one that checks.
    assert_eq!(count(&engine, "lambda:GetPolicy"), 5);

    // A grant for another distribution beside urlguard's own: foreign.
    add_foreign_statements(&config).await;
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_eq!(
        exposed_sids(report(&reports, "get-book")),
        ["other-distribution"]
    );
    assert_eq!(exposed_sids(report(&reports, "get-books")), ["public"]);

    // Removed on request; urlguard's own two grants stay.
    for url in urls.iter_mut() {
        url.spec.remove_foreign_statements = true;
    }
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&engine, "lambda:RemovePermission"), 2);
    assert_eq!(count(&engine, "lambda:AddPermission"), 0);
    let owner = support::books::books_owner("get-book");
    let mut left = statements(&config, "books-get-book").await;
    left.sort();
    let mut own = vec![owner.statement_id("invoke"), owner.statement_id("url")];
    own.sort();
    assert_eq!(left, own);
    assert_eq!(exposed(report(&reports, "get-book")).0, "False");
}
