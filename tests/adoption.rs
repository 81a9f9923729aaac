//! Adopting a distribution another tool made (`spec.adopt`), as a user
//! runs it: the distribution is created with the raw AWS SDK the way
//! Terraform or CloudFormation would (its own default origin, a behavior of
//! its own, its own settings and tags), then `urlguard plan`, `apply` and
//! `destroy` run against it, and the wire says what was written.

mod support;

use std::path::PathBuf;

use aws_config::SdkConfig;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CustomOriginConfig,
    DefaultCacheBehavior, DistributionConfig, DistributionConfigWithTags, Method, Origin,
    OriginProtocolPolicy, Origins, PriceClass, Tag, Tags, ViewerProtocolPolicy,
};
use serde_json::Value;
use support::aws::TestBed;
use support::books::books_bed;
use support::cli::{text, urlguard};
use support::shapes::CACHING_OPTIMIZED;

/// A manifest of the books distribution adopting `id` under `policy`, with
/// one URL, `get-books`; `extra` is added to the distribution's spec.
fn manifest(id: &str, policy: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata:
  name: books
  namespace: books
spec:
  adopt:
    distributionId: {id}
    policy: {policy}
  comment: Books single-page app and API
  defaultOrigin:
    s3:
      bucketName: books-frontend
  defaultRootObject: index.html
{extra}---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata:
  name: get-books
  namespace: books
spec:
  function:
    name: books-get-books
    region: eu-west-1
  distributionRef:
    name: books
  pathPattern: /getBooks
  allowedMethods: [GET, HEAD, OPTIONS]
"#
    )
}

/// Writes `contents` to a manifest named after `stem` in cargo's scratch
/// dir for tests.
fn manifest_file(stem: &str, contents: &str) -> PathBuf {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("adoption-{stem}-{}.yaml", std::process::id()));
    std::fs::write(&file, contents).expect("write");
    file
}

/// Creates, as another tool would, a distribution with a custom default
/// origin `legacy-site`, a behavior `/legacy/*` of its own, price class
/// 100, and `tags`: its id and ARN.
async fn made_by_another_tool(
    config: &SdkConfig,
    reference: &str,
    tags: &[(&str, &str)],
) -> (String, String) {
    let client = aws_sdk_cloudfront::Client::new(config);
    let methods = |items: Vec<Method>| {
        AllowedMethods::builder()
            .quantity(i32::try_from(items.len()).expect("few"))
            .set_items(Some(items))
            .build()
            .expect("methods")
    };
    let origin = Origin::builder()
        .id("legacy-site")
        .domain_name("legacy.example.com")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .build()
                .expect("custom origin"),
        )
        .build()
        .expect("origin");
    let default = DefaultCacheBehavior::builder()
        .target_origin_id("legacy-site")
        .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
        .cache_policy_id(CACHING_OPTIMIZED)
        .allowed_methods(methods(vec![Method::Get, Method::Head]))
        .build()
        .expect("default behavior");
    let legacy = CacheBehavior::builder()
        .path_pattern("/legacy/*")
        .target_origin_id("legacy-site")
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .cache_policy_id(CACHING_OPTIMIZED)
        .allowed_methods(methods(vec![Method::Get, Method::Head]))
        .build()
        .expect("behavior");
    let distribution_config = DistributionConfig::builder()
        .caller_reference(reference)
        .comment("made by terraform")
        .enabled(true)
        .price_class(PriceClass::PriceClass100)
        .aliases(Aliases::builder().quantity(0).build().expect("aliases"))
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(default)
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(1)
                .items(legacy)
                .build()
                .expect("behaviors"),
        )
        .build()
        .expect("config");
    let tags = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().expect("tag"))
        .collect();
    let created = client
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            DistributionConfigWithTags::builder()
                .distribution_config(distribution_config)
                .tags(Tags::builder().set_items(Some(tags)).build())
                .build(),
        )
        .send()
        .await
        .expect("set-up: another tool's distribution");
    let distribution = created.distribution().expect("distribution");
    (distribution.id().to_owned(), distribution.arn().to_owned())
}

/// The distribution's tags, by key.
async fn tags_of(config: &SdkConfig, arn: &str) -> Vec<(String, String)> {
    let client = aws_sdk_cloudfront::Client::new(config);
    let listed = client
        .list_tags_for_resource()
        .resource(arn)
        .send()
        .await
        .expect("tags");
    let mut tags: Vec<(String, String)> = listed
        .tags()
        .map(Tags::items)
        .unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
        .collect();
    tags.sort();
    tags
}

/// The path patterns of the distribution's cache behaviors, its default
/// origin id and whether any behavior has a Lambda@Edge association.
async fn routes_of(config: &SdkConfig, id: &str) -> (Vec<String>, String, bool) {
    let client = aws_sdk_cloudfront::Client::new(config);
    let got = client
        .get_distribution()
        .id(id)
        .send()
        .await
        .expect("the distribution is there");
    let config = got
        .distribution()
        .and_then(|d| d.distribution_config())
        .expect("config");
    let behaviors = config
        .cache_behaviors()
        .map(|b| b.items())
        .unwrap_or_default();
    let patterns = behaviors
        .iter()
        .map(|b| b.path_pattern().to_owned())
        .collect();
    let associated = behaviors.iter().any(|b| {
        b.lambda_function_associations()
            .is_some_and(|a| a.quantity() > 0)
    });
    let default_origin = config
        .default_cache_behavior()
        .map(|d| d.target_origin_id().to_owned())
        .unwrap_or_default();
    (patterns, default_origin, associated)
}

/// `urlguard ARGS -f file --poll-interval 200ms -o json`: the exit status
/// and the JSON document.
fn run_json(bed: &TestBed, command: &str, file: &str) -> (bool, Value, String) {
    let output = urlguard(
        bed,
        &[
            command,
            "-f",
            file,
            "--poll-interval",
            "200ms",
            "-o",
            "json",
        ],
    );
    let (stdout, stderr) = text(&output);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{command}: JSON on stdout ({e}): {stdout}\n{stderr}"));
    (output.status.success(), json, stderr)
}

fn mutating(json: &Value) -> u64 {
    json["awsCalls"]["mutating"]
        .as_u64()
        .expect("awsCalls.mutating")
}

fn operation(json: &Value, key: &str) -> u64 {
    json["awsCalls"]["byOperation"][key].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_distribution_handed_over_is_planned_adopted_in_one_update_and_handed_back() {
    let (bed, config) = books_bed(support::aws::TestBedOptions::default()).await;
    let (id, arn) = made_by_another_tool(
        &config,
        "terraform-books",
        &[("urlguard.io/allow", "urlguard/books"), ("team", "web")],
    )
    .await;
    let file = manifest_file("adopt", &manifest(&id, "Adopt", ""));
    let file_arg = file.display().to_string();

    // plan: the adoption and the whole difference, nothing written.
    bed.reset_counts();
    let output = urlguard(&bed, &["plan", "-f", &file_arg]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for expected in [
        format!(
            "would: adopt distribution {id}: tag it urlguard.io/owner=urlguard/books/EdgeDistribution/books"
        ),
        format!("would: update distribution {id}"),
        "behaviors[/legacy/*]: ".to_owned(),
        "behaviors[/getBooks]: (none) → ".to_owned(),
        "comment: \"made by terraform\" → \"Books single-page app and API\"".to_owned(),
    ] {
        assert!(
            stdout.contains(&expected),
            "plan shows {expected:?}:\n{stdout}"
        );
    }
    let writes: Vec<String> = bed
        .calls()
        .calls
        .into_keys()
        .filter(|k| {
            ["Create", "Update", "Put", "Delete", "Add", "Publish", "Tag"]
                .iter()
                .any(|v| k.contains(&format!(":{v}")))
        })
        .collect();
    assert!(writes.is_empty(), "plan wrote: {writes:?}");

    // apply: tagged, then converged with one UpdateDistribution.
    bed.reset_counts();
    let (ok, json, stderr) = run_json(&bed, "apply", &file_arg);
    assert!(ok, "apply: {json}\n{stderr}");
    assert_eq!(bed.count("cloudfront:UpdateDistribution"), 1, "{json}");
    assert_eq!(bed.count("cloudfront:TagResource"), 1, "{json}");
    assert_eq!(bed.count("cloudfront:CreateDistributionWithTags"), 0);
    let distribution = &json["resources"][0];
    assert_eq!(
        distribution["status"]["distributionId"],
        id.as_str(),
        "{json}"
    );
    assert!(
        tags_of(&config, &arn).await.contains(&(
            "urlguard.io/owner".to_owned(),
            "urlguard/books/EdgeDistribution/books".to_owned()
        )),
        "the adoption is recorded on AWS"
    );
    let (patterns, default_origin, associated) = routes_of(&config, &id).await;
    assert_eq!(patterns, ["/getBooks"], "another tool's behavior removed");
    assert_eq!(default_origin, "default:urlguard/books/books");
    assert!(associated, "the signer on urlguard's behavior");

    // A second apply writes nothing.
    let (ok, json, stderr) = run_json(&bed, "apply", &file_arg);
    assert!(ok, "second apply: {json}\n{stderr}");
    assert_eq!(mutating(&json), 0, "{}", json["awsCalls"]);

    // destroy (Retain by default): the distribution stays, without
    // urlguard's behavior, association and owner tag.
    let (ok, json, stderr) = run_json(&bed, "destroy", &file_arg);
    assert!(ok, "destroy: {json}\n{stderr}");
    assert_eq!(
        operation(&json, "cloudfront:DeleteDistribution"),
        0,
        "{json}"
    );
    assert_eq!(operation(&json, "cloudfront:UntagResource"), 1, "{json}");
    let (patterns, _, associated) = routes_of(&config, &id).await;
    assert!(
        patterns.is_empty(),
        "urlguard's behavior left: {patterns:?}"
    );
    assert!(!associated);
    assert_eq!(
        tags_of(&config, &arn).await,
        [
            ("team".to_owned(), "web".to_owned()),
            ("urlguard.io/allow".to_owned(), "urlguard/books".to_owned())
        ],
        "the owner tag went, the owner's own tags stay"
    );
    std::fs::remove_file(&file).expect("cleanup");
}

#[tokio::test]
async fn another_objects_or_a_distribution_not_handed_over_is_refused_without_a_write() {
    let (bed, config) = books_bed(support::aws::TestBedOptions::default()).await;
    let (owned, _) = made_by_another_tool(
        &config,
        "terraform-shop",
        &[
            (
                "urlguard.io/owner",
                "urlguard/payments/EdgeDistribution/shop",
            ),
            ("urlguard.io/allow", "urlguard/*"),
        ],
    )
    .await;
    let (not_handed_over, _) =
        made_by_another_tool(&config, "terraform-web", &[("team", "web")]).await;
    for (id, says) in [
        (&owned, "belongs to urlguard/payments/EdgeDistribution/shop"),
        (&not_handed_over, "is not handed over to urlguard/books"),
    ] {
        let file = manifest_file("refused", &manifest(id, "Adopt", ""));
        bed.reset_counts();
        let (ok, json, stderr) = run_json(&bed, "apply", &file.display().to_string());
        std::fs::remove_file(&file).expect("cleanup");
        assert!(!ok, "refused: {json}\n{stderr}");
        let distribution = &json["resources"][0];
        let ready = distribution["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .cloned()
            .expect("Ready");
        assert_eq!(ready["reason"], "AdoptionRefused", "{ready}");
        let message = ready["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
        assert!(message.contains(id.as_str()), "{message}");
        let written: Vec<(String, u64)> = bed
            .calls()
            .calls
            .into_iter()
            .filter(|(k, _)| {
                k.starts_with("cloudfront:") && !k.contains(":Get") && !k.contains(":List")
            })
            .collect();
        assert!(written.is_empty(), "no CloudFront write: {written:?}");
    }
}

#[tokio::test]
async fn adopt_or_create_creates_when_the_id_names_no_distribution() {
    let (bed, _) = books_bed(support::aws::TestBedOptions::default()).await;
    let missing = "E0000000MISSING";
    let refused = manifest_file("missing", &manifest(missing, "Adopt", ""));
    let (ok, json, _) = run_json(&bed, "apply", &refused.display().to_string());
    std::fs::remove_file(&refused).expect("cleanup");
    assert!(!ok);
    assert_eq!(
        mutating(&json),
        0,
        "Adopt of nothing writes nothing: {}",
        json["awsCalls"]
    );

    let file = manifest_file(
        "adopt-or-create",
        &manifest(missing, "AdoptOrCreate", "  deletionPolicy: Delete\n"),
    );
    let file_arg = file.display().to_string();
    let (ok, json, stderr) = run_json(&bed, "apply", &file_arg);
    assert!(ok, "{json}\n{stderr}");
    assert_eq!(
        operation(&json, "cloudfront:CreateDistributionWithTags"),
        1,
        "{json}"
    );
    let created = json["resources"][0]["status"]["distributionId"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert_ne!(created, missing);
    let (ok, json, stderr) = run_json(&bed, "apply", &file_arg);
    assert!(ok, "{json}\n{stderr}");
    assert_eq!(mutating(&json), 0, "{}", json["awsCalls"]);
    assert_eq!(
        json["resources"][0]["status"]["distributionId"],
        created.as_str()
    );
    std::fs::remove_file(&file).expect("cleanup");
}

/// The owner tag goes on before the update that converges: an update that
/// fails leaves the distribution tagged and unchanged, and the next apply
/// converges it with one update and no second tag.
#[tokio::test]
async fn an_adoption_whose_update_failed_is_finished_by_the_next_apply() {
    use aws_emulator::{FaultKind, FaultRule};

    let (bed, config) = books_bed(support::aws::TestBedOptions::default()).await;
    let (id, arn) = made_by_another_tool(
        &config,
        "terraform-retry",
        &[("urlguard.io/allow", "urlguard/*")],
    )
    .await;
    let file = manifest_file("retry", &manifest(&id, "Adopt", ""));
    let file_arg = file.display().to_string();
    bed.set_faults(&[FaultRule::next(
        "cloudfront",
        "UpdateDistribution",
        FaultKind::Http500,
        10,
    )]);
    let (ok, json, _) = run_json(&bed, "apply", &file_arg);
    assert!(!ok, "the update failed: {json}");
    assert!(
        tags_of(&config, &arn).await.contains(&(
            "urlguard.io/owner".to_owned(),
            "urlguard/books/EdgeDistribution/books".to_owned()
        )),
        "tagged before the update"
    );
    let (patterns, default_origin, _) = routes_of(&config, &id).await;
    assert_eq!(patterns, ["/legacy/*"], "unchanged");
    assert_eq!(default_origin, "legacy-site");

    bed.clear_faults();
    bed.reset_counts();
    let (ok, json, stderr) = run_json(&bed, "apply", &file_arg);
    assert!(ok, "{json}\n{stderr}");
    assert_eq!(bed.count("cloudfront:UpdateDistribution"), 1, "{json}");
    assert_eq!(bed.count("cloudfront:TagResource"), 0, "{json}");
    let (patterns, _, _) = routes_of(&config, &id).await;
    assert_eq!(patterns, ["/getBooks"]);
    std::fs::remove_file(&file).expect("cleanup");
}

/// `deletionPolicy: Delete` set explicitly deletes an adopted
/// distribution like one urlguard created.
#[tokio::test]
async fn an_adopted_distribution_with_delete_is_deleted() {
    let (bed, config) = books_bed(support::aws::TestBedOptions::default()).await;
    let (id, _) = made_by_another_tool(
        &config,
        "terraform-delete",
        &[("urlguard.io/allow", "urlguard/books")],
    )
    .await;
    let file = manifest_file(
        "delete",
        &manifest(&id, "Adopt", "  deletionPolicy: Delete\n"),
    );
    let file_arg = file.display().to_string();
    let (ok, json, stderr) = run_json(&bed, "apply", &file_arg);
    assert!(ok, "{json}\n{stderr}");
    // The distribution goes in the first pass; the signer then waits for
    // its edge replicas (exit 3), which this test does not wait for.
    let output = urlguard(
        &bed,
        &["destroy", "-f", &file_arg, "--poll-interval", "200ms"],
    );
    let (stdout, stderr) = text(&output);
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("delete distribution {id}")),
        "{stdout}"
    );
    let gone = aws_sdk_cloudfront::Client::new(&config)
        .get_distribution()
        .id(&id)
        .send()
        .await;
    assert!(gone.is_err(), "the distribution is deleted");
    std::fs::remove_file(&file).expect("cleanup");
}
