//! Tenancy (issue 16): a function's owner opts in with the tag
//! `urlguard.io/allow`, and urlguard (and its policy) leave every other
//! function alone. Under the enforcing test bed: urlguard signs as
//! `PRODUCT_KEY`, restricted to what `urlguard iam-policy` prints.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use support::aws::{
    OPT_IN_TAG, PRODUCT_KEY, TestBed, TestBedOptions, as_product, create_functions_opted_in,
    lambda_client,
};
use support::books::{books, books_bed, resources};
use support::engine::assert_all_ready;
use urlguard::aws::Aws;
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{DeployWait, Engine, Mode, Reason, ResourceReport};

const REGION: &str = "eu-west-1";
/// Another team's function, never opted in, public on `NONE`.
const PAYMENTS: &str = "payments-internal";
/// A function opted in for namespace `team-b` only.
const TEAM_B: &str = "team-b-api";

fn engine(config: SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), Mode::Apply, wait)
}

/// A tenant in namespace `mallory` naming the two functions it was not
/// given, behind its own distribution under `OriginAccessControl` (the
/// protection that would grant CloudFront on them).
const MALLORY: &str = r"
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {name: edge, namespace: mallory}
spec:
  protection: OriginAccessControl
  defaultOrigin: {custom: {domainName: example.com}}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: payments, namespace: mallory}
spec:
  function: {name: payments-internal, region: eu-west-1}
  distributionRef: {name: edge}
  pathPattern: /payments/*
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: team-b, namespace: mallory}
spec:
  function: {name: team-b-api, region: eu-west-1}
  distributionRef: {name: edge}
  pathPattern: /team-b/*
";

/// The other teams' functions: `payments-internal` with a public URL
/// config, `team-b-api` opted in for `team-b`.
async fn other_teams(config: &SdkConfig) {
    create_functions_opted_in(config, REGION, &[PAYMENTS], None).await;
    create_functions_opted_in(config, REGION, &[TEAM_B], Some("urlguard/team-b")).await;
    lambda_client(config, REGION)
        .create_function_url_config()
        .function_name(PAYMENTS)
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("public URL config");
}

/// Writes seen on the wire whose path names `function`.
fn writes_touching(bed: &TestBed, function: &str) -> Vec<String> {
    bed.log()
        .into_iter()
        .filter(|r| is_write(&r.call) && r.path.contains(function))
        .map(|r| format!("{} {} {}", r.call, r.method, r.path))
        .collect()
}

/// Whether `service:Operation` changes AWS state.
fn is_write(call: &str) -> bool {
    const VERBS: [&str; 9] = [
        "Create", "Put", "Update", "Delete", "Add", "Remove", "Publish", "Tag", "Untag",
    ];
    let operation = call.split(':').nth(1).unwrap_or_default();
    VERBS.iter().any(|verb| operation.starts_with(verb))
}

fn report<'a>(reports: &'a [ResourceReport], name: &str) -> &'a ResourceReport {
    reports
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no report for {name}: {reports:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_take_over_functions_that_were_not_opted_in_for_its_namespace() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    other_teams(&config).await;
    let (mut distributions, mut urls) = books();
    let (mallory_distributions, mallory_urls) = resources("mallory.yaml", MALLORY);
    distributions.extend(mallory_distributions.clone());
    urls.extend(mallory_urls.clone());
    bed.reset_counts();

    let reports = engine(config.clone())
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await;

    // books converges beside the tenant.
    let books_reports: Vec<ResourceReport> = reports
        .iter()
        .filter(|r| r.namespace == "books")
        .cloned()
        .collect();
    assert_eq!(books_reports.len(), 6);
    assert_all_ready(&books_reports);

    for (name, function, found) in [
        ("payments", PAYMENTS, "missing"),
        ("team-b", TEAM_B, "\"urlguard/team-b\""),
    ] {
        let report = report(&reports, name);
        assert_eq!(report.namespace, "mallory");
        assert_eq!(
            report.verdict.reason,
            Reason::FunctionNotOptedIn,
            "{report:#?}"
        );
        let message = &report.verdict.message;
        assert!(message.starts_with("spec.function.name: "), "{message}");
        assert!(message.contains(found), "{message}");
        assert!(
            message.ends_with(&format!(
                "aws lambda tag-resource --resource arn:aws:lambda:{REGION}:123456789012:function:{function} --tags urlguard.io/allow=urlguard/mallory"
            )),
            "{message}"
        );
        assert!(report.actions.is_empty(), "{:?}", report.actions);
        assert_eq!(writes_touching(&bed, function), Vec::<String>::new());
    }
    // Left out of the distribution: it routes to neither.
    let tenant = report(&reports, "edge");
    let urlguard::reconcile::Status::Distribution(status) = &tenant.found else {
        panic!("{tenant:#?}");
    };
    assert!(status.behaviors.is_empty(), "{:?}", status.behaviors);
    // payments-internal is as its owner left it.
    let lambda = lambda_client(&config, REGION);
    let config_found = lambda
        .get_function_url_config()
        .function_name(PAYMENTS)
        .send()
        .await
        .expect("its URL config");
    assert_eq!(
        config_found.auth_type(),
        &aws_sdk_lambda::types::FunctionUrlAuthType::None
    );
    assert!(
        lambda
            .get_function_url_config()
            .function_name(TEAM_B)
            .send()
            .await
            .is_err(),
        "urlguard created a URL config on {TEAM_B}"
    );

    // Deleting the tenant's URLs (its distribution stays) writes nothing.
    bed.reset_counts();
    let gone = engine(config.clone())
        .destroy(&teardown::build("urlguard", &[], &mallory_urls))
        .await;
    for name in ["payments", "team-b"] {
        assert_eq!(
            report(&gone, name).verdict.reason,
            Reason::Deleted,
            "{gone:#?}"
        );
    }
    let writes: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|r| is_write(&r.call))
        .map(|r| format!("{} {}", r.call, r.path))
        .collect();
    assert_eq!(writes, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_arn_of_another_account_is_refused_before_any_call_to_it() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books();
    urls[0].spec.function.name =
        "arn:aws:lambda:eu-west-1:210987654321:function:books-get-books".into();
    let reports = engine(config)
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await;
    let refused = report(&reports, "get-books");
    assert_eq!(refused.verdict.reason, Reason::FunctionInOtherAccount);
    assert!(
        refused
            .verdict
            .message
            .starts_with("spec.function.name: function arn:aws:lambda:eu-west-1:210987654321:function:books-get-books is in account 210987654321"),
        "{}",
        refused.verdict.message
    );
    assert!(bed.log().iter().all(|r| !r.path.contains("210987654321")));
}

/// The error code of a failed call.
fn code(error: &impl aws_sdk_lambda::error::ProvideErrorMetadata) -> String {
    error.code().unwrap_or("?").to_owned()
}

/// What `PRODUCT_KEY` may do to application functions, asked directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_denies_writes_nobody_opted_in_to() {
    let bed = TestBed::start_with(TestBedOptions::default());
    let config = bed.sdk_config().await;
    create_functions_opted_in(&config, REGION, &[PAYMENTS], None).await;
    create_functions_opted_in(
        &config,
        REGION,
        &["books-get-books"],
        Some("urlguard/books"),
    )
    .await;
    let product = lambda_client(&bed.sdk_config_as(PRODUCT_KEY).await, REGION);
    let denied = |what: &str, result: Result<(), String>| match result {
        Err(code) if code == "AccessDeniedException" => {}
        other => panic!("{what}: expected AccessDenied, got {other:?}"),
    };

    denied(
        "a URL config on a function without the opt-in tag",
        product
            .create_function_url_config()
            .function_name(PAYMENTS)
            .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
    );
    // On the opted-in function: AWS_IAM is allowed, NONE is not.
    product
        .create_function_url_config()
        .function_name("books-get-books")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("AWS_IAM on an opted-in function");
    denied(
        "AuthType NONE on an opted-in function",
        product
            .update_function_url_config()
            .function_name("books-get-books")
            .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
    );
    for principal in ["*", "210987654321", "lambda.amazonaws.com"] {
        denied(
            &format!("AddPermission for {principal}"),
            product
                .add_permission()
                .function_name("books-get-books")
                .statement_id("open")
                .action("lambda:InvokeFunctionUrl")
                .principal(principal)
                .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
                .send()
                .await
                .map(drop)
                .map_err(|e| code(&e)),
        );
    }
    denied(
        "AddPermission for CloudFront on a function without the opt-in tag",
        product
            .add_permission()
            .function_name(PAYMENTS)
            .statement_id("cloudfront")
            .action("lambda:InvokeFunctionUrl")
            .principal("cloudfront.amazonaws.com")
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
    );
    denied(
        "tagging a function (urlguard never writes the opt-in)",
        product
            .tag_resource()
            .resource(format!(
                "arn:aws:lambda:{REGION}:123456789012:function:{PAYMENTS}"
            ))
            .tags(OPT_IN_TAG, "urlguard/mallory")
            .send()
            .await
            .map(drop)
            .map_err(|e| code(&e)),
    );
    product
        .add_permission()
        .function_name("books-get-books")
        .statement_id("cloudfront")
        .action("lambda:InvokeFunctionUrl")
        .principal("cloudfront.amazonaws.com")
        .send()
        .await
        .expect("CloudFront's grant on an opted-in function");
}
