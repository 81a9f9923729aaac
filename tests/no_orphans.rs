//! No orphans on change (issue 16): what an old value made does not stay
//! behind when a spec changes.
//!
//! - `spec.function` is immutable in the cluster: the API server (the kube
//!   emulator, evaluating the CRD's transition rule) refuses a change with
//!   a message naming the field. The CLI, which has no old object, reads
//!   the URL's ARN parameter: a manifest naming another function than the
//!   one it publishes is refused (`FunctionChanged`, `spec.function`
//!   named) before anything is written, and the old function stays routed.
//! - SSM parameters: the status records what urlguard wrote
//!   (`status.exportedParameters`, as the controller passes it back); a
//!   parameter renamed, moved to another region or no longer exported is
//!   deleted once the new one is written, only when it carries the
//!   object's owner tag; when nothing changed the record costs no call.
//!   End to end: the controller keeps the record through its cache, and a
//!   `kubectl patch` renaming a parameter leaves no old one behind.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use support::aws::{TestBed, TestBedOptions, as_product, create_functions_opted_in};
use support::books::{books, books_bed, books_yaml};
use support::cli::{text, urlguard};
use support::controller::Controller;
use support::engine::{assert_all_ready, assert_writes, count};
use support::kube::Cluster;
use urlguard::api::{
    EdgeDistribution, EdgeDistributionStatus, ExportedParameter, ProtectedFunctionUrl,
    ProtectedFunctionUrlStatus,
};
use urlguard::aws::Aws;
use urlguard::plan::desired;
use urlguard::reconcile::{DeployWait, Engine, Mode, ResourceReport, Status};

const GET_BOOKS: &str = "apiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {name: get-books, namespace: books}\nspec:\n  function: {name: books-get-books, region: eu-west-1}\n  distributionRef: {name: books}\n  pathPattern: /getBooks\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_refuses_a_changed_function_naming_the_field() {
    let cluster = Cluster::start("no-orphans-function").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    cluster.ok("kubectl", &["create", "namespace", "books"]);
    let path = cluster.dir.join("get-books.yaml");
    std::fs::write(&path, GET_BOOKS).expect("manifest");
    cluster.ok("kubectl", &["apply", "-f", &path.to_string_lossy()]);

    for (what, changed) in [
        (
            "name",
            GET_BOOKS.replace("books-get-books", "books-get-book"),
        ),
        ("region", GET_BOOKS.replace("eu-west-1", "us-west-2")),
        (
            "alias",
            GET_BOOKS.replace("region: eu-west-1}", "region: eu-west-1, qualifier: live}"),
        ),
    ] {
        std::fs::write(&path, &changed).expect("manifest");
        let refused = cluster.run("kubectl", &["apply", "-f", &path.to_string_lossy()]);
        assert!(!refused.ok, "a changed function {what} was accepted");
        assert!(
            refused.stderr.contains("spec.function is immutable")
                && refused.stderr.contains("create a new ProtectedFunctionUrl"),
            "the refusal of a changed {what} does not say what to do:\n{}",
            refused.stderr
        );
    }
    let stored = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "get-books",
            "-n",
            "books",
            "-o",
            "jsonpath={.spec.function}",
        ],
    );
    assert!(
        stored.contains("books-get-books")
            && stored.contains("eu-west-1")
            && !stored.contains("live"),
        "the stored function changed: {stored}"
    );
    // Anything else may still change.
    std::fs::write(&path, GET_BOOKS.replace("/getBooks", "/books")).expect("manifest");
    cluster.ok("kubectl", &["apply", "-f", &path.to_string_lossy()]);
}

fn engine(config: SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(200),
        timeout: Duration::from_secs(30),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), Mode::Apply, wait)
}

/// One apply pass as the product (restricted to `urlguard iam-policy`).
async fn apply(
    bed: &TestBed,
    distributions: &[EdgeDistribution],
    urls: &[ProtectedFunctionUrl],
) -> (Vec<ResourceReport>, Engine) {
    let engine = engine(bed.sdk_config().await);
    let model = desired::build("urlguard", distributions, urls);
    let reports = engine.reconcile(&model).await;
    (reports, engine)
}

fn report<'a>(reports: &'a [ResourceReport], name: &str) -> &'a ResourceReport {
    reports
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no report for {name}"))
}

/// What a report says was exported: the record the controller keeps.
fn exported(report: &ResourceReport) -> Vec<ExportedParameter> {
    match &report.found {
        Status::Url(status) => status.exported_parameters.clone(),
        Status::Distribution(status) => status.exported_parameters.clone(),
    }
    .unwrap_or_else(|| panic!("{} reports no record", report.name))
}

fn at(region: &str, name: &str) -> ExportedParameter {
    ExportedParameter {
        region: region.into(),
        name: name.into(),
    }
}

/// The URL `name` as the controller reads it back: its status holding the
/// record the last pass reported.
fn with_record(urls: &mut [ProtectedFunctionUrl], name: &str, record: Vec<ExportedParameter>) {
    let url = urls
        .iter_mut()
        .find(|u| u.metadata.name.as_deref() == Some(name))
        .expect("url");
    url.status = Some(ProtectedFunctionUrlStatus {
        exported_parameters: Some(record),
        ..ProtectedFunctionUrlStatus::default()
    });
}

fn url_mut<'a>(urls: &'a mut [ProtectedFunctionUrl], name: &str) -> &'a mut ProtectedFunctionUrl {
    urls.iter_mut()
        .find(|u| u.metadata.name.as_deref() == Some(name))
        .expect("url")
}

/// The value of parameter `name` in `region`, if it exists.
async fn parameter(config: &SdkConfig, region: &str, name: &str) -> Option<String> {
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(config)
            .region(aws_sdk_ssm::config::Region::new(region.to_owned()))
            .build(),
    );
    let found = ssm
        .get_parameters()
        .names(name)
        .send()
        .await
        .expect("GetParameters");
    found
        .parameters()
        .first()
        .and_then(|p| p.value().map(str::to_owned))
}

/// Creates parameter `name` in us-east-1, tagged for `owner` (or not).
async fn put_foreign(config: &SdkConfig, name: &str, owner: Option<&str>) {
    let tags = owner.map(|value| {
        vec![
            aws_sdk_ssm::types::Tag::builder()
                .key("urlguard.io/owner")
                .value(value)
                .build()
                .expect("tag"),
        ]
    });
    aws_sdk_ssm::Client::new(config)
        .put_parameter()
        .name(name)
        .value("theirs")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .set_tags(tags)
        .send()
        .await
        .expect("set-up: someone else's parameter");
}

#[tokio::test]
async fn a_renamed_url_parameter_replaces_the_old_one_and_an_unchanged_record_costs_nothing() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books();
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let record = exported(report(&reports, "get-books"));
    assert_eq!(
        record,
        vec![
            at("us-east-1", "/books/GetBooksUrl"),
            at("us-east-1", "/books/GetBooksArn")
        ]
    );
    let function_url = parameter(&config, "us-east-1", "/books/GetBooksUrl")
        .await
        .expect("written");

    // Nothing changed: the record makes no call of its own.
    let (_, without_record) = apply(&bed, &distributions, &urls).await;
    with_record(&mut urls, "get-books", record.clone());
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_writes(&engine, 0);
    let calls = engine.aws().ledger().summary().total;
    eprintln!("a steady pass: {calls} calls with a record");
    assert_eq!(calls, without_record.aws().ledger().summary().total);
    assert_eq!(
        count(&engine, "ssm:GetParameters"),
        1,
        "one batch, as before"
    );
    assert_eq!(count(&engine, "ssm:ListTagsForResource"), 0);

    url_mut(&mut urls, "get-books")
        .spec
        .ssm_export
        .url_parameter = Some("/books/catalog/GetBooksUrl".into());
    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let renamed = report(&reports, "get-books");
    assert!(
        renamed
            .actions
            .iter()
            .any(|a| a.contains("delete SSM parameter /books/GetBooksUrl")),
        "{:#?}",
        renamed.actions
    );
    assert_eq!(count(&engine, "ssm:DeleteParameter"), 1);
    assert_eq!(
        parameter(&config, "us-east-1", "/books/GetBooksUrl").await,
        None
    );
    assert_eq!(
        parameter(&config, "us-east-1", "/books/catalog/GetBooksUrl").await,
        Some(function_url)
    );
    assert!(
        parameter(&config, "us-east-1", "/books/GetBooksArn")
            .await
            .is_some()
    );
    assert_eq!(
        exported(renamed),
        vec![
            at("us-east-1", "/books/catalog/GetBooksUrl"),
            at("us-east-1", "/books/GetBooksArn")
        ]
    );
}

#[tokio::test]
async fn parameters_moved_to_another_region_leave_the_old_region() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (distributions, mut urls) = books();
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    with_record(
        &mut urls,
        "get-books",
        exported(report(&reports, "get-books")),
    );
    url_mut(&mut urls, "get-books").spec.ssm_export.region = "eu-west-1".into();

    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&engine, "ssm:DeleteParameter"), 2);
    for name in ["/books/GetBooksUrl", "/books/GetBooksArn"] {
        assert_eq!(parameter(&config, "us-east-1", name).await, None, "{name}");
        assert!(
            parameter(&config, "eu-west-1", name).await.is_some(),
            "{name}"
        );
    }
    // Another URL's parameters stay where they are.
    assert!(
        parameter(&config, "us-east-1", "/books/GetBookUrl")
            .await
            .is_some()
    );
    assert_eq!(
        exported(report(&reports, "get-books")),
        vec![
            at("eu-west-1", "/books/GetBooksUrl"),
            at("eu-west-1", "/books/GetBooksArn")
        ]
    );
}

#[tokio::test]
async fn a_distribution_parameter_no_longer_exported_is_deleted() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let (mut distributions, urls) = books();
    distributions[0].spec.ssm_export = Some(
        serde_json::from_value(serde_json::json!({
            "distributionIdParameter": "/books/DistributionId",
            "domainNameParameter": "/books/DomainName",
        }))
        .expect("export"),
    );
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    let record = exported(report(&reports, "books"));
    assert_eq!(record.len(), 2, "{record:?}");
    let keep_record = |distributions: &mut [EdgeDistribution], record| {
        distributions[0].status = Some(EdgeDistributionStatus {
            exported_parameters: Some(record),
            ..EdgeDistributionStatus::default()
        });
    };

    // One parameter removed from ssmExport.
    keep_record(&mut distributions, record);
    if let Some(export) = distributions[0].spec.ssm_export.as_mut() {
        export.domain_name_parameter = None;
    }
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(
        parameter(&config, "us-east-1", "/books/DomainName").await,
        None
    );
    assert!(
        parameter(&config, "us-east-1", "/books/DistributionId")
            .await
            .is_some()
    );
    let record = exported(report(&reports, "books"));
    assert_eq!(record, vec![at("us-east-1", "/books/DistributionId")]);

    // ssmExport removed altogether.
    keep_record(&mut distributions, record);
    distributions[0].spec.ssm_export = None;
    let (reports, _) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(
        parameter(&config, "us-east-1", "/books/DistributionId").await,
        None
    );
    assert_eq!(exported(report(&reports, "books")), vec![]);
}

#[tokio::test]
async fn a_recorded_parameter_without_the_owner_tag_is_never_deleted() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    put_foreign(&config, "/books/Untagged", None).await;
    put_foreign(
        &config,
        "/books/Theirs",
        Some("urlguard/books/ProtectedFunctionUrl/get-book"),
    )
    .await;
    let (distributions, mut urls) = books();
    // A record naming them: a status edited by hand, or restored from
    // another object's backup.
    let mut record = vec![
        at("us-east-1", "/books/GetBooksUrl"),
        at("us-east-1", "/books/GetBooksArn"),
    ];
    record.extend([
        at("us-east-1", "/books/Untagged"),
        at("us-east-1", "/books/Theirs"),
    ]);
    with_record(&mut urls, "get-books", record);

    let (reports, engine) = apply(&bed, &distributions, &urls).await;
    assert_all_ready(&reports);
    assert_eq!(count(&engine, "ssm:DeleteParameter"), 0);
    for name in ["/books/Untagged", "/books/Theirs"] {
        assert_eq!(
            parameter(&config, "us-east-1", name).await.as_deref(),
            Some("theirs"),
            "{name}"
        );
    }
    let said = &report(&reports, "get-books").actions;
    assert_eq!(
        said.iter().filter(|a| a.starts_with("left alone")).count(),
        2,
        "{said:#?}"
    );
    let refused: Vec<_> = bed
        .authorizations()
        .into_iter()
        .filter(|c| !c.decision.is_allowed())
        .collect();
    assert!(refused.is_empty(), "urlguard tried: {refused:#?}");
    // Not ours: forgotten, so the next pass does not read them again.
    assert_eq!(exported(report(&reports, "get-books")).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_controller_deletes_a_parameter_renamed_with_kubectl() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    let cluster = Cluster::start("no-orphans-controller").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    let controller = Controller::start(&bed, &cluster, "urlguard-0");
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    controller.wait_ready(&cluster, &["pfu", "--all"]);
    let function_url = parameter(&config, "us-east-1", "/books/GetBooksUrl")
        .await
        .expect("written");

    cluster.ok(
        "kubectl",
        &[
            "patch",
            "pfu",
            "get-books",
            "-n",
            "books",
            "--type=merge",
            "-p",
            r#"{"spec":{"ssmExport":{"urlParameter":"/books/catalog/GetBooksUrl"}}}"#,
        ],
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let old = parameter(&config, "us-east-1", "/books/GetBooksUrl").await;
        let new = parameter(&config, "us-east-1", "/books/catalog/GetBooksUrl").await;
        if old.is_none() && new.as_ref() == Some(&function_url) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "old {old:?}, new {new:?} after 60 s; status {}; controller log:\n{}",
            cluster.ok(
                "kubectl",
                &[
                    "get",
                    "pfu",
                    "get-books",
                    "-n",
                    "books",
                    "-o",
                    "jsonpath={.status}"
                ]
            ),
            controller.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let record = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "get-books",
            "-n",
            "books",
            "-o",
            "jsonpath={.status.exportedParameters[*].name}",
        ],
    );
    assert_eq!(
        record.trim(),
        "/books/catalog/GetBooksUrl /books/GetBooksArn"
    );
    // The other URLs' parameters are untouched.
    assert!(
        parameter(&config, "us-east-1", "/books/GetBookUrl")
            .await
            .is_some()
    );
}

/// The calls that reached the bed and change AWS state.
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

#[tokio::test]
async fn the_cli_refuses_a_manifest_whose_function_changed_and_writes_nothing() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    create_functions_opted_in(
        &config,
        "eu-west-1",
        &["books-get-books-v2"],
        Some("urlguard/books"),
    )
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
    let old_arn = parameter(&config, "us-east-1", "/books/GetBooksArn")
        .await
        .expect("published");
    let old_url = parameter(&config, "us-east-1", "/books/GetBooksUrl")
        .await
        .expect("published");

    let changed = books_yaml().replace(
        "    name: books-get-books\n",
        "    name: books-get-books-v2\n",
    );
    assert_ne!(changed, books_yaml());
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("moved-function-{}.yaml", std::process::id()));
    std::fs::write(&file, changed).expect("manifest");
    bed.reset_counts();
    let refused = urlguard(
        &bed,
        &[
            "apply",
            "-f",
            &file.to_string_lossy(),
            "--poll-interval",
            "200ms",
            "--output",
            "json",
        ],
    );
    let (stdout, stderr) = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{stdout}\n{stderr}");
    let output: serde_json::Value = serde_json::from_str(&stdout).expect("JSON output");
    let get_books = output["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "get-books")
        .expect("get-books");
    let ready = &get_books["status"]["conditions"][0];
    assert_eq!(ready["reason"], "FunctionChanged", "{get_books:#}");
    let message = ready["message"].as_str().expect("message");
    assert!(
        message.starts_with("spec.function:")
            && message.contains(&old_arn)
            && message.contains("books-get-books-v2")
            && message.contains("urlguard destroy"),
        "{message}"
    );
    assert_eq!(
        wire_mutations(&bed),
        Vec::<String>::new(),
        "nothing is written"
    );
    // The new function got no URL config; the old one is still published
    // and routed.
    let lambda = support::aws::lambda_client(&config, "eu-west-1");
    assert!(
        lambda
            .get_function_url_config()
            .function_name("books-get-books-v2")
            .send()
            .await
            .is_err(),
        "a URL config was created on the new function"
    );
    assert_eq!(
        parameter(&config, "us-east-1", "/books/GetBooksArn").await,
        Some(old_arn)
    );
    assert_eq!(
        parameter(&config, "us-east-1", "/books/GetBooksUrl").await,
        Some(old_url.clone())
    );
    let host = old_url.trim_start_matches("https://").trim_end_matches('/');
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let listed = cloudfront.list_distributions().send().await.expect("list");
    let summary = &listed.distribution_list().expect("list").items()[0];
    assert!(
        summary
            .origins()
            .expect("origins")
            .items()
            .iter()
            .any(|o| o.id() == "pfu-get-books" && o.domain_name() == host),
        "the old function is no longer routed: {summary:#?}"
    );
}
