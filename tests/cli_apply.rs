//! `urlguard plan` and `urlguard apply` as a user runs them: the real binary
//! against the AWS test bed through `AWS_ENDPOINT_URL`, checking the output,
//! the exit code, and what reached AWS.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::aws::{TestBed, TestBedOptions};
use support::books::{books_bed, books_yaml};
use support::cli::{text, urlguard};

/// Writes `contents` to a manifest named after `stem` and this process in
/// cargo's scratch dir for tests: its path.
fn manifest_file(stem: &str, contents: &str) -> PathBuf {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{stem}-{}.yaml", std::process::id()));
    std::fs::write(&file, contents).expect("write");
    file
}

/// `urlguard apply -f examples/books.yaml`, polling CloudFront briskly,
/// with `extra` arguments.
fn apply_books(bed: &TestBed, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "apply",
        "-f",
        "examples/books.yaml",
        "--poll-interval",
        "200ms",
    ];
    args.extend_from_slice(extra);
    urlguard(bed, &args)
}

#[tokio::test]
async fn apply_with_json_output_reports_every_resource_and_the_ledger() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let output = apply_books(&bed, &["--output", "json"]);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("waiting for CloudFront to deploy"),
        "progress on stderr: {stderr}"
    );

    let json: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let resources = json["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 6);
    for resource in resources {
        for key in ["kind", "namespace", "name", "ready", "status"] {
            assert!(resource.get(key).is_some(), "{key} missing in {resource}");
        }
        assert_eq!(resource["ready"], true, "{resource}");
        let conditions = resource["status"]["conditions"]
            .as_array()
            .expect("conditions");
        assert!(
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True"),
            "{resource}"
        );
    }
    let get_books = resources
        .iter()
        .find(|r| r["name"] == "get-books")
        .expect("get-books");
    let protected = get_books["status"]["protectedUrl"]
        .as_str()
        .expect("protectedUrl");
    assert!(
        protected.starts_with("https://") && protected.ends_with(".cloudfront.net/getBooks"),
        "{protected}"
    );
    assert!(
        get_books["status"]["functionUrl"]
            .as_str()
            .is_some_and(|u| u.contains(".lambda-url.eu-west-1.on.aws"))
    );
    let books = resources
        .iter()
        .find(|r| r["kind"] == "EdgeDistribution")
        .expect("distribution");
    assert!(
        books["status"]["signerVersionArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":1")),
        "{books}"
    );

    let calls = &json["awsCalls"];
    let by_operation = calls["byOperation"].as_object().expect("byOperation");
    let sum: u64 = by_operation.values().filter_map(Value::as_u64).sum();
    assert_eq!(calls["total"].as_u64(), Some(sum));
    assert_eq!(by_operation["cloudfront:CreateDistributionWithTags"], 1);
    assert_eq!(calls["mutating"], 26, "{calls}");
    // The ledger counts what reached the wire.
    assert_eq!(bed.count("cloudfront:CreateDistributionWithTags"), 1);
    assert_eq!(bed.count("lambda:CreateFunctionUrlConfig"), 5);
    // Each config urlguard creates: its created marker first.
    assert_eq!(bed.count("lambda:TagResource"), 5);
}

#[tokio::test]
async fn an_invalid_resource_is_named_and_written_nowhere_while_the_rest_converges() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let books = books_yaml();
    let broken = books.replace("  pathPattern: /deleteBook/*\n", "  pathPattern: /*\n");
    assert_ne!(broken, books);
    let file = manifest_file("broken", &broken);
    let file_arg = file.display().to_string();

    let output = urlguard(
        &bed,
        &["apply", "-f", &file_arg, "--poll-interval", "200ms"],
    );
    std::fs::remove_file(&file).expect("cleanup");
    let (stdout, stderr) = text(&output);
    assert!(
        !output.status.success(),
        "an invalid resource fails the run"
    );
    assert!(
        stderr.contains("ProtectedFunctionUrl books/delete-book: spec.pathPattern: "),
        "the resource and field are named: {stderr}"
    );
    assert!(
        stdout.contains("ProtectedFunctionUrl books/get-books: ready"),
        "{stdout}"
    );
    assert_eq!(
        bed.count("lambda:CreateFunctionUrlConfig"),
        4,
        "nothing written for delete-book"
    );
    assert_eq!(
        bed.count("lambda:GetFunction"),
        5,
        "delete-book's function is not even read (4 URLs + signer)"
    );
}

#[tokio::test]
async fn unknown_kinds_and_dangling_references_are_refused_without_aws_writes() {
    let bed = TestBed::start();
    let manifest = "\
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: orphan, namespace: books}
spec: {function: {name: books-get-books, region: eu-west-1}, distributionRef: {name: nowhere}, pathPattern: /x}
---
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistributions
metadata: {name: typo, namespace: books}
spec: {}
";
    let file = manifest_file("bad", manifest);
    let file_arg = file.display().to_string();
    let output = urlguard(&bed, &["apply", "-f", &file_arg]);
    std::fs::remove_file(&file).expect("cleanup");
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("unknown kind EdgeDistributions"),
        "{stderr}"
    );
    assert!(
        stdout.contains("ProtectedFunctionUrl books/orphan: DistributionNotFound spec.distributionRef: EdgeDistribution books/nowhere does not exist"),
        "{stdout}"
    );
    assert!(
        bed.calls().calls.is_empty(),
        "no AWS call at all: {:?}",
        bed.calls().calls
    );
}

#[tokio::test]
async fn ssm_parameters_outside_the_namespace_prefix_are_refused_and_never_written() {
    let bed = TestBed::start();
    let manifest = "\
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {name: shop, namespace: mallory}
spec: {defaultOrigin: {s3: {bucketName: shop-spa}}}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {name: get-books, namespace: mallory}
spec:
  function: {name: books-get-books, region: eu-west-1}
  distributionRef: {name: shop}
  pathPattern: /getBooks
  ssmExport: {urlParameter: /books/GetBooksUrl}
";
    let file = manifest_file("squat", manifest);
    let file_arg = file.display().to_string();
    let output = urlguard(&bed, &["plan", "-f", &file_arg]);
    let (stdout, _) = text(&output);
    assert!(!output.status.success());
    assert!(
        stdout.contains("ProtectedFunctionUrl mallory/get-books: ParameterOutsidePrefix spec.ssmExport.urlParameter: /books/GetBooksUrl is outside /mallory/"),
        "{stdout}"
    );
    let touched: Vec<String> = bed
        .calls()
        .calls
        .into_keys()
        .filter(|k| k.starts_with("ssm:") || k.contains("FunctionUrl"))
        .collect();
    assert!(
        touched.is_empty(),
        "neither SSM nor the URL's function: {touched:?}"
    );

    // The cluster's rule is configurable; an invalid template is refused.
    let output = urlguard(&bed, &["--ssm-prefix", "/", "plan", "-f", &file_arg]);
    let (stdout, _) = text(&output);
    assert!(!stdout.contains("ParameterOutsidePrefix"), "{stdout}");
    let output = urlguard(
        &bed,
        &["--ssm-prefix", "/{namespace}", "plan", "-f", &file_arg],
    );
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("SSM prefix template"), "{stderr}");
    std::fs::remove_file(&file).expect("cleanup");
}

#[tokio::test]
async fn names_and_namespaces_a_cluster_refuses_are_named_without_aws_calls() {
    let bed = TestBed::start();
    let manifest = "\
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {name: Books_1, namespace: books}
spec: {defaultOrigin: {s3: {bucketName: books-spa}}}
---
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {name: books, namespace: team.a}
spec: {defaultOrigin: {s3: {bucketName: books-spa}}}
";
    let file = manifest_file("bad-metadata", manifest);
    let file_arg = file.display().to_string();
    let output = urlguard(&bed, &["apply", "-f", &file_arg]);
    std::fs::remove_file(&file).expect("cleanup");
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success());
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("metadata.name: Invalid value: \"Books_1\""),
        "{all}"
    );
    assert!(
        all.contains("metadata.namespace: Invalid value: \"team.a\""),
        "{all}"
    );
    assert!(bed.calls().calls.is_empty(), "{:?}", bed.calls().calls);

    // An instance name that could not end at its delimiter is refused too.
    let output = urlguard(&bed, &["--instance", "team_a", "iam-policy"]);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("instance name \"team_a\" is invalid"),
        "{stderr}"
    );
}

#[tokio::test]
async fn plan_shows_field_level_changes_and_writes_nothing() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    assert!(
        urlguard(
            &bed,
            &[
                "apply",
                "-f",
                "examples/books.yaml",
                "--poll-interval",
                "200ms"
            ]
        )
        .status
        .success()
    );

    let books = books_yaml();
    let changed = books.replace("pathPattern: /getBooks\n", "pathPattern: /listBooks\n");
    let file = manifest_file("changed", &changed);
    let file_arg = file.display().to_string();
    bed.reset_counts();
    let output = urlguard(&bed, &["plan", "-f", &file_arg]);
    std::fs::remove_file(&file).expect("cleanup");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("would: update distribution"), "{stdout}");
    assert!(
        stdout.contains("behaviors[/listBooks]: (none) → "),
        "{stdout}"
    );
    assert!(
        stdout.contains("behaviors[/getBooks]: ") && stdout.contains(" → (none)"),
        "{stdout}"
    );
    let writes: Vec<String> = bed
        .calls()
        .calls
        .into_keys()
        .filter(|k| {
            ["Create", "Update", "Put", "Delete", "Add", "Publish"]
                .iter()
                .any(|v| k.contains(&format!(":{v}")))
        })
        .collect();
    assert!(writes.is_empty(), "plan wrote: {writes:?}");
}

/// Every log line of a pass names the resource it works on, through the
/// pass' span (JSON: `span` and `spans`), and text logs piped to a file
/// carry no colour codes.
#[tokio::test]
async fn log_lines_of_a_pass_name_their_resource_and_pipes_get_no_colour() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let output = apply_books(&bed, &["--log-format", "json"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let deployed = lines
        .iter()
        .find(|line| line["fields"]["message"] == "deployed")
        .unwrap_or_else(|| panic!("no 'deployed' line in {stderr}"));
    let span = &deployed["span"];
    assert_eq!(span["name"], "pass", "{deployed}");
    assert_eq!(span["pass"], "reconcile");
    assert_eq!(span["kind"], "EdgeDistribution");
    assert_eq!(span["namespace"], "books");
    assert_eq!(span["object"], "books");
    let id = span["distribution"].as_str().expect("the distribution id");
    assert_eq!(deployed["fields"]["distribution"], id);

    let text_logs = urlguard(&bed, &["plan", "-f", "examples/books.yaml"]);
    let (stdout, stderr) = text(&text_logs);
    assert!(text_logs.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );
}

#[tokio::test]
async fn plan_and_apply_show_statements_that_let_others_in() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    support::aws::lambda_client(&config, "eu-west-1")
        .add_permission()
        .function_name("books-get-books")
        .statement_id("public")
        .action("lambda:InvokeFunctionUrl")
        .principal("*")
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("a public grant");
    let output = apply_books(&bed, &["--output", "json"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let get_books = json["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "get-books")
        .expect("get-books")
        .clone();
    assert_eq!(
        get_books["status"]["exposedStatements"],
        serde_json::json!([{
            "statementId": "public",
            "grants": "anyone (*) may call lambda:InvokeFunctionUrl"
        }]),
        "{get_books}"
    );
    let conditions = get_books["status"]["conditions"]
        .as_array()
        .expect("conditions");
    assert!(
        conditions.iter().any(|c| c["type"] == "Exposed"
            && c["status"] == "True"
            && c["reason"] == "ForeignStatements"),
        "{get_books}"
    );
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Ready" && c["reason"] == "ReachableOutsideDistribution"),
        "{get_books}"
    );
    assert_eq!(bed.count("lambda:RemovePermission"), 0);

    // `plan` says the same, as a warning line.
    let output = urlguard(&bed, &["plan", "-f", "examples/books.yaml"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("  warning: the function's resource policy lets others invoke it besides the distribution: public: anyone (*) may call lambda:InvokeFunctionUrl"),
        "{stdout}"
    );
}
