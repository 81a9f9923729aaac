//! The reconcile core against the AWS test bed (moto behind aws-emulator):
//! books.yaml converges, a second apply writes nothing, changes cost exactly
//! what they must, drift is repaired, bad input writes nothing.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_emulator::{FaultKind, FaultRule};
use serde_json::Value;
use support::aws::{
    PRODUCT_KEY, TestBed, TestBedOptions, as_product, change_distribution, create_functions,
    lambda_client, product_policy_for,
};
use support::books::{BOOK_FUNCTIONS, books, books_bed, resources};
use support::engine::{assert_all_ready, assert_writes, count, mutating};
use urlguard::api::{EdgeDistribution, EdgeDistributionStatus, ProtectedFunctionUrl};
use urlguard::aws::Aws;
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{
    DeployWait, Engine, Mode, Notice, Reason, ResourceReport, RetryPolicy, Status,
};

fn engine(config: SdkConfig, mode: Mode) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), mode, wait)
}

async fn apply(
    bed: &TestBed,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> (Vec<ResourceReport>, Engine) {
    let engine = engine(bed.sdk_config().await, Mode::Apply);
    let model = desired::build("urlguard", distributions, urls);
    let reports = engine.reconcile(&model).await;
    (reports, engine)
}

/// Operations seen on the wire that change AWS state.
fn wire_mutations(bed: &TestBed) -> Vec<String> {
    const VERBS: [&str; 9] = [
        "Create", "Put", "Update", "Delete", "Add", "Remove", "Publish", "Tag", "Untag",
    ];
    bed.calls()
        .calls
        .keys()
        .filter(|key| {
            let operation = key.split(':').nth(1).unwrap_or_default();
            VERBS.iter().any(|verb| operation.starts_with(verb))
        })
        .cloned()
        .collect()
}

async fn distribution_config(config: &SdkConfig) -> aws_sdk_cloudfront::types::DistributionConfig {
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    let list = cloudfront
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    let items = list
        .distribution_list()
        .map(|l| l.items())
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "exactly one distribution");
    cloudfront
        .get_distribution_config()
        .id(items[0].id())
        .send()
        .await
        .expect("GetDistributionConfig")
        .distribution_config()
        .cloned()
        .expect("config")
}

#[tokio::test]
async fn books_converges_from_empty_within_the_call_budget() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    bed.reset_counts();

    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(reports.len(), 6);
    let summary = engine
        .aws()
        .ledger()
        .summary_without(&["cloudfront:GetDistribution"]);
    eprintln!("ledger from empty (without GetDistribution polls): {summary:#?}");
    // 40 before issue 16's last two parts, plus one created marker
    // (TagResource) before each of the five creates and one GetPolicy per
    // URL to check that nobody else is let in.
    assert!(summary.total <= 50, "{} calls: {summary:#?}", summary.total);
    assert_eq!(summary.by_operation["lambda:TagResource"], 5);
    assert_eq!(summary.by_operation["lambda:GetPolicy"], 5);

    // Five URL configs on AWS_IAM.
    let lambda = lambda_client(&config, "eu-west-1");
    for name in BOOK_FUNCTIONS {
        let url = lambda
            .get_function_url_config()
            .function_name(name)
            .send()
            .await
            .expect("URL config");
        assert_eq!(url.auth_type().as_str(), "AWS_IAM", "{name}");
    }
    // Ten SSM parameters in us-east-1, with the function URLs and ARNs.
    let ssm = aws_sdk_ssm::Client::new(&config);
    let names: Vec<String> = [
        "GetBooks",
        "GetBook",
        "CreateBook",
        "UpdateBook",
        "DeleteBook",
    ]
    .iter()
    .flat_map(|n| [format!("/books/{n}Url"), format!("/books/{n}Arn")])
    .collect();
    for chunk in names.chunks(10) {
        let found = ssm
            .get_parameters()
            .set_names(Some(chunk.to_vec()))
            .send()
            .await
            .expect("GetParameters");
        assert_eq!(
            found.parameters().len(),
            chunk.len(),
            "missing: {:?}",
            found.invalid_parameters()
        );
    }
    // One distribution, five behaviors, a numbered signer version on
    // origin-request, the body included on the write paths only.
    let distribution = distribution_config(&config).await;
    let behaviors = distribution
        .cache_behaviors()
        .map(|b| b.items())
        .unwrap_or_default();
    assert_eq!(behaviors.len(), 5);
    for behavior in behaviors {
        let associations = behavior
            .lambda_function_associations()
            .map(|a| a.items())
            .unwrap_or_default();
        assert_eq!(associations.len(), 1, "{}", behavior.path_pattern());
        let association = &associations[0];
        assert_eq!(association.event_type().as_str(), "origin-request");
        let version = association
            .lambda_function_arn()
            .rsplit(':')
            .next()
            .unwrap_or_default();
        assert!(
            version.parse::<u32>().is_ok(),
            "numbered version, got {}",
            association.lambda_function_arn()
        );
        let writes =
            ["/createBook", "/updateBook/*", "/deleteBook/*"].contains(&behavior.path_pattern());
        assert_eq!(
            association.include_body(),
            Some(writes),
            "{}",
            behavior.path_pattern()
        );
    }
    // The signer role trusts Lambda and Lambda@Edge.
    let iam = aws_sdk_iam::Client::new(&config);
    let role = iam
        .get_role()
        .role_name(support::books::books_signer())
        .send()
        .await
        .expect("signer role");
    let trust = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .expect("trust policy");
    let trust = percent_encoding::percent_decode_str(trust).decode_utf8_lossy();
    assert!(
        trust.contains("edgelambda.amazonaws.com") && trust.contains("lambda.amazonaws.com"),
        "{trust}"
    );
}

#[tokio::test]
async fn a_second_apply_writes_nothing_and_reads_each_object_at_most_once() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    let (first, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&first);

    bed.reset_counts();
    let (second, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&second);
    assert_writes(&engine, 0);
    assert_eq!(
        wire_mutations(&bed),
        Vec::<String>::new(),
        "the test bed saw writes"
    );
    let summary = engine.aws().ledger().summary();
    for (operation, calls) in &summary.by_operation {
        let per_object_limit = match operation.as_str() {
            // One read per function: GetFunction, GetFunctionUrlConfig,
            // GetPolicy (whether anyone else is let in).
            "lambda:GetFunction" | "lambda:GetFunctionUrlConfig" => 6,
            "lambda:GetPolicy" => 5,
            _ => 1,
        };
        assert!(*calls <= per_object_limit, "{operation}: {calls} calls");
    }
    for report in &second {
        assert!(
            report.actions.is_empty(),
            "{}: {:?}",
            report.name,
            report.actions
        );
    }
}

/// The distribution id the `EdgeDistribution`'s report gives.
fn reported_distribution_id(reports: &[ResourceReport]) -> String {
    reports
        .iter()
        .find_map(|r| match &r.found {
            Status::Distribution(status) => status.distribution_id.clone(),
            Status::Url(_) => None,
        })
        .expect("an EdgeDistribution report with its distribution id")
}

/// As the controller reads it back: with the id its status reports.
fn last_seen_at(distribution: &mut EdgeDistribution, id: &str) {
    distribution.status = Some(EdgeDistributionStatus {
        distribution_id: Some(id.to_owned()),
        ..EdgeDistributionStatus::default()
    });
}

#[tokio::test]
async fn a_known_distribution_id_replaces_listing_and_a_wrong_one_is_not_trusted() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    let (first, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&first);
    let books_id = reported_distribution_id(&first);
    let mut films = distributions.clone();
    films[0].metadata.name = Some("films".to_owned());
    let (created, _) = apply(&bed, &films, &[]).await;
    assert_all_ready(&created);
    let films_id = reported_distribution_id(&created);

    last_seen_at(&mut distributions[0], &books_id);
    let (known, reader) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&known);
    assert_eq!(count(&reader, "cloudfront:ListDistributions"), 0);
    assert_eq!(count(&reader, "cloudfront:GetDistribution"), 1);
    assert_writes(&reader, 0);

    // A status pointing at another owner's distribution, or at one that is
    // gone, is only a wrong hint: urlguard lists, finds its own, and leaves
    // the other alone.
    for wrong in [films_id.as_str(), "E0000000000000"] {
        last_seen_at(&mut distributions[0], wrong);
        bed.reset_counts();
        let (listed, lister) = apply(&bed, &distributions, &urls).await;
        assert_all_ready(&listed);
        assert_eq!(count(&lister, "cloudfront:ListDistributions"), 1, "{wrong}");
        assert_eq!(
            mutating(&lister),
            0,
            "{wrong}: {:#?}",
            lister.aws().ledger().summary()
        );
        assert_eq!(wire_mutations(&bed), Vec::<String>::new(), "{wrong}");
        assert_eq!(reported_distribution_id(&listed), books_id, "{wrong}");
    }

    last_seen_at(&mut distributions[0], &books_id);
    // The signer's replicas linger a little in the test bed: ask again soon.
    let destroyer = engine(config, Mode::Apply).with_retry_policy(RetryPolicy {
        first: Duration::from_millis(250),
        cap: Duration::from_secs(1),
    });
    let model = teardown::build("urlguard", &distributions, &urls);
    let reports = destroyer.destroy_until_gone(&model).await;
    assert!(reports.iter().all(|r| !r.failed()), "{reports:#?}");
    // Only once the distribution is gone does a pass list, to make sure no
    // other distribution of the owner is left.
    let operations: Vec<String> = destroyer
        .aws()
        .ledger()
        .records()
        .iter()
        .map(|r| r.key())
        .collect();
    let deleted = operations
        .iter()
        .position(|o| o == "cloudfront:DeleteDistribution")
        .expect("the distribution was deleted");
    assert!(
        !operations[..deleted].contains(&"cloudfront:ListDistributions".to_owned()),
        "{operations:#?}"
    );
    let (again, _) = apply(&bed, &films, &[]).await;
    assert_eq!(
        reported_distribution_id(&again),
        films_id,
        "films untouched"
    );
}

#[tokio::test]
async fn changing_a_path_costs_one_update_and_no_signer_version() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books();
    assert_all_ready(&apply(&bed, &distributions, &urls).await.0);

    urls[0].spec.path_pattern = "/listBooks".to_owned();
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&engine, "cloudfront:UpdateDistribution"), 1);
    assert_eq!(count(&engine, "lambda:PublishVersion"), 0);
    assert_writes(&engine, 1);
}

#[tokio::test]
async fn changing_signer_memory_publishes_one_version_and_updates_once() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    assert_all_ready(&apply(&bed, &distributions, &urls).await.0);

    distributions[0].spec.signer.memory_size = 256;
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&engine, "lambda:PublishVersion"), 1);
    assert_eq!(count(&engine, "lambda:UpdateFunctionConfiguration"), 1);
    assert_eq!(count(&engine, "cloudfront:UpdateDistribution"), 1);
    let Status::Distribution(status) = &reports[0].found else {
        panic!("distribution first")
    };
    assert!(
        status
            .signer_version_arn
            .as_deref()
            .is_some_and(|a| a.ends_with(":2")),
        "{status:?}"
    );
}

#[tokio::test]
async fn twenty_urls_write_the_distribution_once() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let names: Vec<String> = (0..20).map(|i| format!("api-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    create_functions(&config, "eu-west-1", &refs).await;
    let mut text = String::from(
        "apiVersion: urlguard.io/v1alpha1\nkind: EdgeDistribution\nmetadata: {name: api, namespace: shop}\nspec: {defaultOrigin: {custom: {domainName: app.example.com}}}\n",
    );
    for name in &names {
        text.push_str(&format!(
            "---\napiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{function: {{name: {name}, region: eu-west-1}}, distributionRef: {{name: api}}, pathPattern: /{name}/*}}\n"
        ));
    }
    let (distributions, urls) = resources("test.yaml", &text);
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(
        count(&engine, "cloudfront:CreateDistribution")
            + count(&engine, "cloudfront:CreateDistributionWithTags"),
        1
    );
    assert_eq!(count(&engine, "cloudfront:UpdateDistribution"), 0);
}

#[tokio::test]
async fn origin_access_control_mode_grants_two_statements_scoped_to_the_distribution() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    distributions[0].spec.protection = urlguard::api::Protection::OriginAccessControl;
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(
        count(&engine, "lambda:CreateFunction"),
        0,
        "no edge function under OAC"
    );
    let Status::Distribution(status) = &reports[0].found else {
        panic!("distribution first")
    };
    let distribution_arn = status.distribution_arn.clone().expect("ARN");

    let lambda = lambda_client(&config, "eu-west-1");
    for name in BOOK_FUNCTIONS {
        let policy = lambda
            .get_policy()
            .function_name(name)
            .send()
            .await
            .expect("GetPolicy");
        let policy: Value = serde_json::from_str(policy.policy().expect("policy")).expect("JSON");
        let statements = policy["Statement"].as_array().expect("statements");
        assert_eq!(statements.len(), 2, "{name}: {policy}");
        let actions: Vec<&str> = statements
            .iter()
            .filter_map(|s| s["Action"].as_str())
            .collect();
        assert!(
            actions.contains(&"lambda:InvokeFunctionUrl")
                && actions.contains(&"lambda:InvokeFunction"),
            "{actions:?}"
        );
        for statement in statements {
            assert_eq!(
                statement["Principal"]["Service"], "cloudfront.amazonaws.com",
                "{statement}"
            );
            assert_eq!(
                statement["Condition"]["ArnLike"]["AWS:SourceArn"],
                distribution_arn.as_str(),
                "{statement}"
            );
        }
    }
    let distribution = distribution_config(&config).await;
    let origins = distribution
        .origins()
        .map(|o| o.items())
        .unwrap_or_default();
    assert!(origins.iter().skip(1).all(|o| {
        o.origin_access_control_id()
            .is_some_and(|id| !id.is_empty())
    }));

    bed.reset_counts();
    let (again, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&again);
    assert_writes(&engine, 0);

    // A grant removed out of band is put back and reported.
    let statement = &support::books::books_owner("get-books").statement_id("invoke");
    lambda
        .remove_permission()
        .function_name("books-get-books")
        .statement_id(statement)
        .send()
        .await
        .expect("remove a grant");
    let (repaired, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&repaired);
    let actions = repaired
        .iter()
        .find(|r| r.name == "get-books")
        .map(|r| r.actions.join("; "))
        .unwrap_or_default();
    assert!(
        actions.contains(&format!(
            "grant lambda:InvokeFunction to cloudfront.amazonaws.com ({statement})"
        )),
        "{actions}"
    );
    assert_eq!(count(&engine, "lambda:AddPermission"), 1);
    assert_writes(&engine, 1);
}

/// The wire log as `(call, path)`, in order.
fn wire_log(bed: &TestBed) -> Vec<(String, String)> {
    bed.log().into_iter().map(|r| (r.call, r.path)).collect()
}

/// Positions in `log` of the CloudFront writes that create or replace a
/// distribution's configuration.
fn distribution_writes(log: &[(String, String)]) -> Vec<usize> {
    (0..log.len())
        .filter(|&i| {
            log[i].0.starts_with("cloudfront:CreateDistribution")
                || log[i].0 == "cloudfront:UpdateDistribution"
        })
        .collect()
}

/// Positions in `log` of `call`s on the Lambda function `function`.
fn calls_on(log: &[(String, String)], call: &str, function: &str) -> Vec<usize> {
    let segment = format!("/functions/{function}/");
    (0..log.len())
        .filter(|&i| log[i].0 == call && log[i].1.contains(&segment))
        .collect()
}

/// The origin ids of the one distribution.
async fn origin_ids(config: &SdkConfig) -> Vec<String> {
    distribution_config(config)
        .await
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .map(|o| o.id().to_owned())
        .collect()
}

/// Under OAC, both of CloudFront's grants on `function` come before the
/// distribution write at `routing` (the first to route to its URL), and
/// so does its URL config's write to `AWS_IAM`.
#[track_caller]
fn granted_before(log: &[(String, String)], function: &str, routing: usize) {
    let grants = calls_on(log, "lambda:AddPermission", function);
    assert_eq!(grants.len(), 2, "{function}: {log:#?}");
    assert!(
        grants.iter().all(|&g| g < routing),
        "{function}: grants at {grants:?}, routing write at {routing}: {log:#?}"
    );
    let configs: Vec<usize> = [
        "lambda:CreateFunctionUrlConfig",
        "lambda:UpdateFunctionUrlConfig",
    ]
    .iter()
    .flat_map(|call| calls_on(log, call, function))
    .collect();
    assert!(
        configs.iter().all(|&c| c < routing),
        "{function}: URL config written at {configs:?}, routing write at {routing}"
    );
}

#[tokio::test]
async fn origin_access_control_grants_come_before_the_write_that_routes_to_the_url() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    distributions[0].spec.protection = urlguard::api::Protection::OriginAccessControl;
    let (reports, _engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let log = wire_log(&bed);
    let writes = distribution_writes(&log);
    // The grants name the distribution's ARN: it is created with its
    // default origin alone, the URLs are granted, one update routes to them.
    assert_eq!(writes.len(), 2, "{log:#?}");
    for function in BOOK_FUNCTIONS {
        granted_before(&log, function, writes[1]);
        assert!(
            calls_on(&log, "lambda:AddPermission", function)
                .iter()
                .all(|&g| g > writes[0])
        );
    }
    assert_eq!(origin_ids(&config).await.len(), 1 + BOOK_FUNCTIONS.len());

    // A URL added to the existing distribution is granted before the
    // update that routes to it.
    let mut more = urls.clone();
    let mut added = urls[0].clone();
    added.metadata.name = Some("get-books-again".into());
    added.spec.path_pattern = "/again/*".into();
    added.spec.function.name = "books-again".into();
    added.spec.ssm_export.url_parameter = Some("/books/AgainUrl".into());
    added.spec.ssm_export.arn_parameter = Some("/books/AgainArn".into());
    create_functions(&config, "eu-west-1", &["books-again"]).await;
    more.push(added);
    bed.reset_counts();
    let (reports, _engine) = apply(&bed, &distributions, &more).await;
    assert_all_ready(&reports);
    let log = wire_log(&bed);
    let writes = distribution_writes(&log);
    assert_eq!(writes.len(), 1, "{log:#?}");
    granted_before(&log, "books-again", writes[0]);
}

#[tokio::test]
async fn a_url_whose_grant_is_refused_is_not_routed_to_under_origin_access_control() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    distributions[0].spec.protection = urlguard::api::Protection::OriginAccessControl;
    bed.set_faults(&[FaultRule::fraction(
        "lambda",
        "AddPermission",
        FaultKind::Http500,
        1.0,
    )]);
    let (reports, _engine) = apply(&bed, &distributions, &urls).await;
    assert_eq!(
        reports[0].verdict.reason,
        Reason::Deployed,
        "{:?}",
        reports[0]
    );
    assert!(
        reports[1..]
            .iter()
            .all(|r| r.verdict.reason == Reason::AwsError),
        "{reports:#?}"
    );
    assert_eq!(
        origin_ids(&config).await.len(),
        1,
        "no origin for a URL CloudFront may not call yet"
    );

    bed.set_faults(&[]);
    bed.reset_counts();
    let (reports, _engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let log = wire_log(&bed);
    let writes = distribution_writes(&log);
    assert_eq!(writes.len(), 1, "{log:#?}");
    for function in BOOK_FUNCTIONS {
        granted_before(&log, function, writes[0]);
    }
}

#[tokio::test]
async fn a_signer_role_policy_changed_out_of_band_is_repaired() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    assert_all_ready(&apply(&bed, &distributions, &urls).await.0);

    // Someone widens the signer's grant to every function in the account.
    let iam = aws_sdk_iam::Client::new(&config);
    let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name(support::books::books_signer())
        .policy_name("invoke-protected-function-urls")
        .policy_document(wide)
        .send()
        .await
        .expect("widen the policy");

    let (repaired, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&repaired);
    assert!(
        repaired[0]
            .actions
            .iter()
            .any(|a| a.contains("to invoke exactly 5 function URL(s)")),
        "{:?}",
        repaired[0].actions
    );
    assert_eq!(count(&engine, "iam:PutRolePolicy"), 1);
    assert_writes(&engine, 1);
    let policy = iam
        .get_role_policy()
        .role_name(support::books::books_signer())
        .policy_name("invoke-protected-function-urls")
        .send()
        .await
        .expect("policy");
    let document = percent_encoding::percent_decode_str(policy.policy_document())
        .decode_utf8_lossy()
        .into_owned();
    assert!(
        !document.contains("lambda:*") && document.contains("books-delete-book"),
        "{document}"
    );
}

#[tokio::test]
async fn drift_made_out_of_band_is_repaired_and_reported() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    let (first, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&first);

    // Someone opens a URL to the internet, edits a parameter, and removes a
    // behavior in the console.
    let lambda = lambda_client(&config, "eu-west-1");
    lambda
        .update_function_url_config()
        .function_name("books-get-books")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("open the URL");
    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.put_parameter()
        .name("/books/GetBookUrl")
        .value("https://evil.example.com/")
        .overwrite(true)
        .send()
        .await
        .expect("edit the parameter");
    change_distribution(config.clone(), |edited| {
        let behaviors = edited
            .cache_behaviors()
            .map(|b| b.items().to_vec())
            .unwrap_or_default();
        edited.cache_behaviors = Some(
            aws_sdk_cloudfront::types::CacheBehaviors::builder()
                .quantity(4)
                .set_items(Some(behaviors[1..].to_vec()))
                .build()
                .expect("behaviors"),
        );
    })
    .await;

    let (repaired, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&repaired);
    let actions = |name: &str| {
        repaired
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.actions.join("; "))
            .unwrap_or_default()
    };
    let switched = repaired
        .iter()
        .find(|r| r.name == "get-books")
        .is_some_and(|r| r.notices.contains(&Notice::SwitchedToIam));
    assert!(switched, "{}", actions("get-books"));
    assert!(
        actions("get-book").contains("repair SSM parameter /books/GetBookUrl"),
        "{}",
        actions("get-book")
    );
    assert!(
        actions("books").contains("update distribution"),
        "{}",
        actions("books")
    );
    assert_eq!(count(&engine, "cloudfront:UpdateDistribution"), 1);
    let url = lambda
        .get_function_url_config()
        .function_name("books-get-books")
        .send()
        .await
        .expect("URL");
    assert_eq!(url.auth_type().as_str(), "AWS_IAM");
    assert_eq!(
        distribution_config(&config)
            .await
            .cache_behaviors()
            .map(|b| b.quantity()),
        Some(5)
    );
}

#[tokio::test]
async fn a_missing_function_is_named_and_the_others_still_converge() {
    let bed = TestBed::start_with(TestBedOptions::default());
    let config = bed.sdk_config().await;
    create_functions(&config, "eu-west-1", &BOOK_FUNCTIONS[1..]).await;
    let (distributions, urls) = books();
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    let missing = reports
        .iter()
        .find(|r| r.name == "get-books")
        .expect("report");
    assert!(!missing.ready());
    let condition = &missing.verdict;
    assert_eq!(condition.reason, Reason::FunctionNotFound);
    assert!(
        condition
            .message
            .starts_with("spec.function.name: function books-get-books does not exist"),
        "{}",
        condition.message
    );
    assert!(
        reports
            .iter()
            .filter(|r| r.name != "get-books")
            .all(ResourceReport::ready)
    );
    assert_eq!(count(&engine, "lambda:CreateFunctionUrlConfig"), 4);
    let distribution = distribution_config(&config).await;
    assert_eq!(
        distribution.cache_behaviors().map(|b| b.quantity()),
        Some(4)
    );
}

#[tokio::test]
async fn plan_reads_but_never_writes() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    bed.reset_counts();
    let engine = engine(config, Mode::Plan);
    let reports = engine
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await;
    assert_writes(&engine, 0);
    assert!(reports.iter().all(|r| !r.failed()), "{reports:#?}");
    let distribution = &reports[0];
    assert!(
        distribution
            .actions
            .iter()
            .any(|a| a.starts_with("create distribution with 5 behavior")),
        "{:?}",
        distribution.actions
    );
    assert_eq!(
        wire_mutations(&bed),
        Vec::<String>::new(),
        "the test bed saw writes"
    );
}

/// A Kubernetes name may hold dots; a Lambda function name may not (the
/// test bed refuses it as Lambda does). A distribution named `books.v1`
/// gets a signer, and its URL statement ids, that Lambda accepts.
#[tokio::test]
async fn a_dotted_distribution_name_gets_a_signer_lambda_accepts() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = resources(
        "dotted.yaml",
        "\
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {name: books.v1, namespace: books}
spec: {defaultOrigin: {s3: {bucketName: books-spa}}}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: get-books.v1, namespace: books}
spec:
  function: {name: books-get-books, region: eu-west-1}
  distributionRef: {name: books.v1}
  pathPattern: /getBooks
",
    );
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let Status::Distribution(status) = &reports[0].found else {
        panic!("the distribution's report first: {reports:#?}");
    };
    let signer = status.signer_function_arn.as_deref().expect("a signer");
    assert!(
        signer.contains(&format!(
            ":function:{}",
            support::books::books_owner("books.v1").signer_function_name()
        )),
        "{signer}"
    );
}

/// A distribution using what CloudFront completes on read-back: logging
/// (without a prefix), aliases with an ACM certificate and a viewer TLS
/// policy, a WAF web ACL, custom error responses without a caching TTL, a
/// custom default origin without a path but with custom headers, a geo
/// restriction, and a default behavior with a response headers policy and
/// CloudFront Functions. The test bed answers with CloudFront's defaults
/// filled in; a second apply must still see nothing to change.
#[tokio::test]
async fn read_back_defaults_cause_no_update_on_the_second_apply() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    create_functions(&config, "eu-west-1", &["shop-orders", "shop-cart"]).await;
    let text = "apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {name: shop, namespace: shop}
spec:
  defaultOrigin:
    custom:
      domainName: app.example.com
      customHeaders: [{name: X-Origin-Verify, value: s3cr3t}, {name: x-shop, value: '1'}]
  defaultBehavior:
    responseHeadersPolicyId: 67f7725c-6f97-4210-82d7-5512b31e9d03
    functionAssociations:
      - {eventType: viewer-response, functionArn: 'arn:aws:cloudfront::123456789012:function/shop-hsts'}
      - {eventType: viewer-request, functionArn: 'arn:aws:cloudfront::123456789012:function/shop-index'}
  geoRestriction: {type: Deny, locations: [RU, KP]}
  aliases: [www.shop.example.com, shop.example.com]
  certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/0d0c0f2a-1111-2222-3333-444455556666
  viewerTls: {minimumProtocolVersion: TLSv1.2_2019}
  webAclArn: arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/0d0c0f2a-1111-2222-3333-444455556666
  logging: {bucketName: shop-logs}
  customErrorResponses:
    - {errorCode: 404, responseCode: 200, responsePagePath: /index.html}
    - {errorCode: 403}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: orders, namespace: shop}
spec: {function: {name: shop-orders, region: eu-west-1}, distributionRef: {name: shop}, pathPattern: /orders/*}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: cart, namespace: shop}
spec: {function: {name: shop-cart, region: eu-west-1}, distributionRef: {name: shop}, pathPattern: /cart/*, allowedMethods: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}
";
    let (distributions, urls) = resources("shop.yaml", text);
    // The distribution logs: CloudFront checks the log bucket's ACL
    // permissions, which `iam-policy -f` grants for this manifest.
    bed.restrict(PRODUCT_KEY, &product_policy_for(&distributions));
    let (first, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&first);
    // The test bed did fill in what CloudFront fills in.
    let stored = distribution_config(&config).await;
    let errors = stored.custom_error_responses().expect("error responses");
    assert!(
        errors
            .items()
            .iter()
            .all(|e| e.error_caching_min_ttl() == Some(10))
    );
    assert_eq!(
        stored.origins().expect("origins").items()[0].connection_attempts(),
        Some(3)
    );
    // And stored what the new settings asked for.
    assert_eq!(
        stored.origins().expect("origins").items()[0]
            .custom_headers()
            .map(|h| h.quantity()),
        Some(2)
    );
    assert_eq!(
        stored
            .restrictions()
            .and_then(|r| r.geo_restriction())
            .map(|g| g.quantity()),
        Some(2)
    );
    assert_eq!(
        stored
            .default_cache_behavior()
            .and_then(|b| b.function_associations())
            .map(|f| f.quantity()),
        Some(2)
    );

    bed.reset_counts();
    let (second, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&second);
    for report in &second {
        assert!(
            report.actions.is_empty(),
            "{}: {:?}",
            report.name,
            report.actions
        );
    }
    assert_eq!(count(&engine, "cloudfront:UpdateDistribution"), 0);
    assert_eq!(bed.count("cloudfront:UpdateDistribution"), 0);
    assert_writes(&engine, 0);
}

/// IAM answers the signer role's trust policy and its inline policy with
/// their lists in another order than written (the test bed reverses them,
/// as IAM may reorder them); a second apply of an EdgeSigner distribution
/// must not rewrite either.
#[tokio::test]
async fn reordered_iam_policies_cause_no_iam_write_on_the_second_apply() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    let (first, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&first);

    bed.reset_counts();
    let (second, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&second);
    assert!(bed.count("iam:GetRole") > 0, "the role was read back");
    for key in [
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:CreateRole",
    ] {
        assert_eq!(count(&engine, key), 0, "{key}");
        assert_eq!(bed.count(key), 0, "{key} on the wire");
    }
    assert_writes(&engine, 0);
}

/// `UpdateDistribution` replaces the whole config: what urlguard does not
/// manage (here an origin's Origin Shield and a behavior's real-time log
/// config, set by someone else) must go back as CloudFront returned it,
/// not be reset by urlguard's next update.
#[tokio::test]
async fn an_update_keeps_what_urlguard_does_not_manage() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    let (first, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&first);
    const LOG_CONFIG: &str = "arn:aws:cloudfront::123456789012:realtime-log-config/books";
    change_distribution(config.clone(), |c| {
        let origins = c.origins.as_mut().expect("origins");
        origins.items[0].origin_shield = Some(
            aws_sdk_cloudfront::types::OriginShield::builder()
                .enabled(true)
                .origin_shield_region("eu-west-1")
                .build()
                .expect("origin shield"),
        );
        let behaviors = c.cache_behaviors.as_mut().expect("behaviors");
        if let Some(items) = behaviors.items.as_mut() {
            items[0].realtime_log_config_arn = Some(LOG_CONFIG.into());
        }
    })
    .await;

    distributions[0].spec.comment = Some("changed".into());
    let (second, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&second);
    assert_eq!(count(&engine, "cloudfront:UpdateDistribution"), 1);
    let stored = distribution_config(&config).await;
    assert_eq!(stored.comment(), "changed");
    let shield = stored.origins().expect("origins").items()[0]
        .origin_shield()
        .expect("origin shield");
    assert!(shield.enabled(), "Origin Shield was reset");
    assert_eq!(shield.origin_shield_region(), Some("eu-west-1"));
    assert_eq!(
        stored.cache_behaviors().expect("behaviors").items()[0].realtime_log_config_arn(),
        Some(LOG_CONFIG)
    );
}

/// A parameter under urlguard's name that another owner tagged (or nobody
/// did): urlguard reads the owner tag and reports `NotOwned`, without
/// trying the overwrite its policy would refuse.
#[tokio::test]
async fn a_parameter_urlguard_does_not_own_is_reported_not_owned_and_never_written() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let ssm = aws_sdk_ssm::Client::new(&config);
    for (name, owner) in [
        (
            "/books/GetBooksUrl",
            Some("other/books/ProtectedFunctionUrl/x"),
        ),
        ("/books/GetBookUrl", None),
    ] {
        let tags = owner.map(|value| {
            vec![
                aws_sdk_ssm::types::Tag::builder()
                    .key("urlguard.io/owner")
                    .value(value)
                    .build()
                    .expect("tag"),
            ]
        });
        ssm.put_parameter()
            .name(name)
            .value("theirs")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .set_tags(tags)
            .send()
            .await
            .expect("set-up: someone else's parameter");
    }
    let (distributions, urls) = books();
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    for (url, parameter, owner) in [
        (
            "get-books",
            "/books/GetBooksUrl",
            "other/books/ProtectedFunctionUrl/x",
        ),
        ("get-book", "/books/GetBookUrl", "(no owner tag)"),
    ] {
        let report = reports.iter().find(|r| r.name == url).expect("report");
        assert!(!report.ready(), "{report:#?}");
        assert_eq!(report.verdict.reason, Reason::NotOwned, "{report:#?}");
        assert!(
            report.verdict.message.contains(parameter) && report.verdict.message.contains(owner),
            "{}",
            report.verdict.message
        );
    }
    let refused: Vec<_> = bed
        .authorizations()
        .into_iter()
        .filter(|c| !c.decision.is_allowed())
        .collect();
    assert!(refused.is_empty(), "urlguard tried: {refused:#?}");
    let found = ssm
        .get_parameters()
        .names("/books/GetBooksUrl")
        .names("/books/GetBookUrl")
        .send()
        .await
        .expect("read");
    assert!(
        found
            .parameters()
            .iter()
            .all(|p| p.value() == Some("theirs")),
        "{found:?}"
    );
}

/// Its owner opts `function` (eu-west-1) in for every namespace of the
/// instance `urlguard`.
async fn opt_in_every_namespace(config: &SdkConfig, function: &str) {
    let lambda = lambda_client(config, "eu-west-1");
    let arn = lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .expect("GetFunction")
        .configuration
        .and_then(|c| c.function_arn)
        .expect("the function's ARN");
    lambda
        .tag_resource()
        .resource(arn)
        .tags("urlguard.io/allow", "urlguard/*")
        .send()
        .await
        .expect("TagResource");
}

/// Two objects whose namespace and name read alike once joined by `-`
/// (`team-a`/`x` and `team`/`a-x`), each with its distribution and a URL on
/// one shared function, under `protection`.
fn look_alikes(protection: &str) -> (Vec<EdgeDistribution>, Vec<ProtectedFunctionUrl>) {
    let object = |namespace: &str, name: &str, path: &str| {
        format!(
            "\
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{protection: {protection}, defaultOrigin: {{s3: {{bucketName: books-spa}}}}}}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  function: {{name: books-get-books, region: eu-west-1}}
  distributionRef: {{name: {name}}}
  pathPattern: {path}
"
        )
    };
    resources(
        "look-alikes.yaml",
        &format!(
            "{}---\n{}",
            object("team-a", "x", "/x"),
            object("team", "a-x", "/ax")
        ),
    )
}

#[tokio::test]
async fn look_alike_namespaces_and_names_get_separate_signers_and_roles() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    opt_in_every_namespace(&config, "books-get-books").await;
    let (distributions, urls) = look_alikes("EdgeSigner");
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let after = support::inventory::inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.distributions.len(), 2, "{after:#?}");
    assert_eq!(after.signer_functions.len(), 2, "{after:#?}");
    assert_eq!(after.roles.len(), 2, "{after:#?}");
    assert_eq!(after.origin_access_controls.len(), 2, "{after:#?}");

    bed.reset_counts();
    let (again, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&again);
    assert_writes(&engine, 0);
}

#[tokio::test]
async fn look_alike_namespaces_and_names_get_separate_grants_and_origin_access_controls() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    opt_in_every_namespace(&config, "books-get-books").await;
    let (distributions, urls) = look_alikes("OriginAccessControl");
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let after = support::inventory::inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.distributions.len(), 2, "{after:#?}");
    assert_eq!(after.origin_access_controls.len(), 4, "{after:#?}");
    let policy = lambda_client(&config, "eu-west-1")
        .get_policy()
        .function_name("books-get-books")
        .send()
        .await
        .expect("GetPolicy");
    let policy: Value = serde_json::from_str(policy.policy().expect("policy")).expect("JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 4, "two grants per URL: {policy}");
    let sources: std::collections::BTreeSet<&str> = statements
        .iter()
        .filter_map(|s| s["Condition"]["ArnLike"]["AWS:SourceArn"].as_str())
        .collect();
    assert_eq!(sources.len(), 2, "one pair per distribution: {policy}");

    bed.reset_counts();
    let (again, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&again);
    assert_writes(&engine, 0);
}

#[tokio::test]
async fn an_origin_access_control_of_urlguards_name_but_another_owner_is_left_alone() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, urls) = books();
    let squatted = support::books::books_owner("books").s3_oac_name();
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let config_of = |description: &str| {
        aws_sdk_cloudfront::types::OriginAccessControlConfig::builder()
            .name(&squatted)
            .description(description)
            .signing_protocol(aws_sdk_cloudfront::types::OriginAccessControlSigningProtocols::Sigv4)
            .signing_behavior(
                aws_sdk_cloudfront::types::OriginAccessControlSigningBehaviors::Always,
            )
            .origin_access_control_origin_type(
                aws_sdk_cloudfront::types::OriginAccessControlOriginTypes::S3,
            )
            .build()
            .expect("OAC config")
    };
    cloudfront
        .create_origin_access_control()
        .origin_access_control_config(config_of("someone else's"))
        .send()
        .await
        .expect("CreateOriginAccessControl");

    let (reports, applier) = apply(&bed, &distributions, &urls).await;
    assert_eq!(reports[0].verdict.reason, Reason::NotOwned, "{reports:#?}");
    assert!(
        reports[0].verdict.message.contains(&squatted),
        "{:?}",
        reports[0].verdict
    );
    assert_eq!(count(&applier, "cloudfront:CreateDistributionWithTags"), 0);

    // Deleting the distribution leaves the look-alike in place.
    let destroyer = engine(config.clone(), Mode::Apply).with_retry_policy(RetryPolicy {
        first: Duration::from_millis(250),
        cap: Duration::from_secs(1),
    });
    let model = teardown::build("urlguard", &distributions, &urls);
    let torn = destroyer.destroy_until_gone(&model).await;
    let books = torn.iter().find(|r| r.name == "books").expect("books");
    assert!(
        books
            .actions
            .iter()
            .any(|a| a.contains(&squatted) && a.starts_with("left alone")),
        "{:?}",
        books.actions
    );
    assert_eq!(count(&destroyer, "cloudfront:DeleteOriginAccessControl"), 0);
    let after = support::inventory::inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.origin_access_controls, [squatted]);
}
