//! `spec.invalidation` and `urlguard invalidate` under the enforcing test
//! bed (urlguard signs as `PRODUCT_KEY`, restricted to `urlguard
//! iam-policy`'s output): one `CreateInvalidation` per revision, none for
//! an applied revision, none twice across a lost answer, invalid paths
//! refused naming the field, and the CLI's ad-hoc invalidation.

mod support;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_emulator::{FaultKind, FaultRule};
use support::aws::{TestBed, TestBedOptions, as_product};
use support::books::resources;
use support::cli::{text, urlguard};
use support::engine::{assert_all_ready, assert_writes, count};
use urlguard::api::{EdgeDistribution, InvalidationStatus, ProtectedFunctionUrl};
use urlguard::aws::Aws;
use urlguard::plan::desired;
use urlguard::reconcile::{DeployWait, Engine, Kind, Mode, Notice, ResourceReport, Status};

const CREATE: &str = "cloudfront:CreateInvalidation";

/// A distribution with nothing attached (no signer, no URL to set up):
/// the cheapest thing to invalidate.
fn site(revision: &str, paths: &[&str]) -> String {
    let paths: Vec<String> = paths.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata:
  name: site
  namespace: web
spec:
  protection: OriginAccessControl
  defaultOrigin:
    custom:
      domainName: app.example.com
  invalidation:
    revision: "{revision}"
    paths: [{}]
"#,
        paths.join(", ")
    )
}

fn bed() -> TestBed {
    TestBed::start_with(TestBedOptions {
        deploy_time: Duration::from_millis(300),
        invalidation_time: Duration::from_millis(300),
        ..TestBedOptions::default()
    })
}

fn engine(config: &SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(30),
    };
    Engine::new(
        Aws::from_sdk_config(as_product(config.clone())),
        Mode::Apply,
        wait,
    )
}

async fn apply(engine: &Engine, distributions: &[EdgeDistribution]) -> Vec<ResourceReport> {
    let urls: [ProtectedFunctionUrl; 0] = [];
    engine
        .reconcile(&desired::build("urlguard", distributions, &urls))
        .await
}

fn manifest(revision: &str) -> Vec<EdgeDistribution> {
    resources("site.yaml", &site(revision, &["/index.html", "/assets/*"])).0
}

/// The distribution's `status.invalidation`.
fn invalidation(reports: &[ResourceReport]) -> InvalidationStatus {
    reports
        .iter()
        .find_map(|r| match &r.found {
            Status::Distribution(s) if r.kind == Kind::EdgeDistribution => s.invalidation.clone(),
            _ => None,
        })
        .expect("status.invalidation")
}

/// Every invalidation CloudFront holds for the distribution: (id,
/// CallerReference), newest first; read with the unrestricted key.
async fn invalidations_in_aws(config: &SdkConfig, distribution: &str) -> Vec<(String, String)> {
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    let listed = cloudfront
        .list_invalidations()
        .distribution_id(distribution)
        .send()
        .await
        .expect("ListInvalidations");
    let mut out = Vec::new();
    for summary in listed
        .invalidation_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        let got = cloudfront
            .get_invalidation()
            .distribution_id(distribution)
            .id(summary.id())
            .send()
            .await
            .expect("GetInvalidation");
        let reference = got
            .invalidation()
            .and_then(|i| i.invalidation_batch())
            .map(|b| b.caller_reference().to_owned())
            .unwrap_or_default();
        out.push((summary.id().to_owned(), reference));
    }
    out
}

fn distribution_id(reports: &[ResourceReport]) -> String {
    reports
        .iter()
        .find_map(|r| match &r.found {
            Status::Distribution(s) => s.distribution_id.clone(),
            _ => None,
        })
        .expect("distribution id")
}

#[tokio::test]
async fn one_invalidation_per_revision_and_none_for_an_applied_one() {
    let bed = bed();
    let plain = bed.sdk_config().await;

    let first = engine(&plain);
    let reports = apply(&first, &manifest("build-1")).await;
    assert_all_ready(&reports);
    assert_eq!(count(&first, CREATE), 1);
    let status = invalidation(&reports);
    assert_eq!(
        (status.revision.as_str(), status.status.as_deref()),
        ("build-1", Some("Completed")),
        "the CLI waits until CloudFront completes it"
    );
    let created: Vec<&Notice> = reports.iter().flat_map(|r| &r.notices).collect();
    assert!(
        matches!(created.as_slice(), [Notice::InvalidationCreated { revision, paths: 2, .. }] if revision == "build-1"),
        "{created:?}"
    );
    let id = distribution_id(&reports);

    // The same revision again, from a file (no status): found, not made.
    let again = engine(&plain);
    assert_all_ready(&apply(&again, &manifest("build-1")).await);
    assert_writes(&again, 0);
    assert_eq!(
        invalidation(&apply(&again, &manifest("build-1")).await),
        status
    );

    // As the controller runs it, with the status it wrote: not even a read.
    let mut recorded = manifest("build-1");
    recorded[0].status = Some(urlguard::api::EdgeDistributionStatus {
        distribution_id: Some(id.clone()),
        invalidation: Some(status.clone()),
        ..Default::default()
    });
    let controller_like = engine(&plain);
    assert_all_ready(&apply(&controller_like, &recorded).await);
    assert_writes(&controller_like, 0);
    for read in ["cloudfront:ListInvalidations", "cloudfront:GetInvalidation"] {
        assert_eq!(count(&controller_like, read), 0, "{read}");
    }

    // A new revision: one more.
    let next = engine(&plain);
    let reports = apply(&next, &manifest("build-2")).await;
    assert_all_ready(&reports);
    assert_eq!(count(&next, CREATE), 1);
    assert_writes(&next, 1);
    assert_eq!(invalidation(&reports).revision, "build-2");
    assert_eq!(invalidations_in_aws(&plain, &id).await.len(), 2);
}

#[tokio::test]
async fn an_answer_lost_after_create_invalidation_never_invalidates_twice() {
    let bed = bed();
    let plain = bed.sdk_config().await;
    let reports = apply(&engine(&plain), &manifest("build-1")).await;
    assert_all_ready(&reports);
    let id = distribution_id(&reports);

    // CloudFront makes the invalidation; its answer never arrives (the
    // SDK's own retries resend the same CallerReference, and urlguard's
    // next pass looks before it creates).
    bed.set_faults(&[FaultRule::next(
        "cloudfront",
        "CreateInvalidation",
        FaultKind::DropAfterWrite,
        1,
    )]);
    let crashed = engine(&bed.sdk_config_without_retries().await);
    let reports = apply(&crashed, &manifest("build-2")).await;
    assert_eq!(count(&crashed, CREATE), 1);
    assert!(
        reports.iter().any(|r| r.failed()),
        "the lost answer fails the pass: {reports:#?}"
    );
    bed.clear_faults();

    let retry = engine(&plain);
    let reports = apply(&retry, &manifest("build-2")).await;
    assert_all_ready(&reports);
    assert_eq!(count(&retry, CREATE), 0, "found, not made again");
    assert_writes(&retry, 0);
    let in_aws = invalidations_in_aws(&plain, &id).await;
    assert_eq!(in_aws.len(), 2, "build-1 and build-2 once each: {in_aws:?}");
    assert_eq!(
        Some(in_aws[0].0.clone()),
        invalidation(&reports).id,
        "the status names the invalidation the lost answer made"
    );
}

#[test]
fn invalid_paths_are_refused_naming_the_field() {
    for (paths, field) in [
        (vec!["/ok", "index.html"], "spec.invalidation.paths[1]"),
        (vec!["/a*/b"], "spec.invalidation.paths[0]"),
    ] {
        let loaded = urlguard::manifest::parse("bad.yaml", &site("r", &paths)).expect("YAML");
        let refused = format!("{:?}", loaded.rejected);
        assert!(loaded.resources.is_empty(), "{paths:?}");
        assert!(refused.contains(field), "{paths:?}: {refused}");
    }
    let loaded = urlguard::manifest::parse("bad.yaml", &site("", &["/"])).expect("YAML");
    assert!(
        format!("{:?}", loaded.rejected).contains("spec.invalidation.revision"),
        "{:?}",
        loaded.rejected
    );
    let none = urlguard::manifest::parse("bad.yaml", &site("r", &[])).expect("YAML");
    assert!(
        format!("{:?}", none.rejected).contains("spec.invalidation.paths"),
        "{:?}",
        none.rejected
    );
}

#[tokio::test]
async fn urlguard_invalidate_creates_once_per_revision_and_prints_the_id() {
    let bed = bed();
    let plain = bed.sdk_config().await;
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("invalidate-site-{}.yaml", std::process::id()));
    std::fs::write(&file, site("build-1", &["/index.html"])).expect("write");
    let file = file.to_str().expect("utf-8 path");
    let reports = apply(&engine(&plain), &manifest("build-1")).await;
    assert_all_ready(&reports);
    let id = distribution_id(&reports);

    let args = [
        "invalidate",
        "-f",
        file,
        "--paths",
        "/a",
        "--paths",
        "/b/*",
        "--revision",
        "adhoc-1",
        "--poll-interval",
        "100ms",
    ];
    let run = urlguard(&bed, &args);
    let (stdout, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    let invalidation_id = stdout.trim().to_owned();
    assert!(invalidation_id.starts_with('I'), "{stdout}");
    assert!(
        stderr.contains("created") && stderr.contains("Completed"),
        "{stderr}"
    );

    // The same revision: the same invalidation, found.
    let run = urlguard(&bed, &args);
    let (stdout, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), invalidation_id);
    assert!(stderr.contains("found"), "{stderr}");

    // Without --revision, --no-wait, JSON: a new one, accepted.
    let run = urlguard(
        &bed,
        &[
            "invalidate",
            "-f",
            file,
            "--paths",
            "/c",
            "--no-wait",
            "-o",
            "json",
        ],
    );
    let (stdout, stderr) = text(&run);
    assert!(run.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["created"], true);
    assert_eq!(json["awsCalls"]["byOperation"][CREATE], 1);
    assert!(
        json["invalidation"]["revision"]
            .as_str()
            .is_some_and(|r| r.starts_with("cli-")),
        "{json}"
    );
    assert_eq!(invalidations_in_aws(&plain, &id).await.len(), 3);

    // A path CloudFront would refuse never reaches it.
    let run = urlguard(
        &bed,
        &["invalidate", "-f", file, "--paths", "/a", "--paths", "b"],
    );
    let (_, stderr) = text(&run);
    assert!(!run.status.success());
    assert!(stderr.contains("--paths[1]"), "{stderr}");
    assert_eq!(invalidations_in_aws(&plain, &id).await.len(), 3);
}

#[tokio::test]
async fn what_the_look_misses_cloudfront_catches_by_the_caller_reference() {
    let bed = bed();
    let plain = bed.sdk_config().await;
    let reports = apply(&engine(&plain), &manifest("build-1")).await;
    assert_all_ready(&reports);
    let id = distribution_id(&reports);
    // Others invalidate more than urlguard reads back (10): build-1's
    // invalidation is no longer among the newest.
    let cloudfront = aws_sdk_cloudfront::Client::new(&plain);
    for n in 0..10 {
        let batch = aws_sdk_cloudfront::types::InvalidationBatch::builder()
            .caller_reference(format!("someone-else-{n}"))
            .paths(
                aws_sdk_cloudfront::types::Paths::builder()
                    .quantity(1)
                    .items("/other")
                    .build()
                    .expect("paths"),
            )
            .build()
            .expect("batch");
        cloudfront
            .create_invalidation()
            .distribution_id(&id)
            .invalidation_batch(batch)
            .send()
            .await
            .expect("another tool's invalidation");
    }

    // The same revision and paths: the create answers the existing one.
    let again = engine(&plain);
    let reports = apply(&again, &manifest("build-1")).await;
    assert_all_ready(&reports);
    assert_eq!(count(&again, CREATE), 1, "not found by the look");
    assert_eq!(invalidations_in_aws(&plain, &id).await.len(), 11);

    // The same revision with other paths: refused, naming the revision;
    // the distribution alone reports it.
    let other_paths = resources("site.yaml", &site("build-1", &["/changed"])).0;
    let reports = apply(&engine(&plain), &other_paths).await;
    let distribution = reports
        .iter()
        .find(|r| r.kind == Kind::EdgeDistribution)
        .expect("the distribution's report");
    assert_eq!(
        distribution.verdict.reason,
        urlguard::reconcile::Reason::InvalidationRevisionReused
    );
    assert!(
        distribution
            .verdict
            .message
            .starts_with("spec.invalidation.revision: revision build-1"),
        "{}",
        distribution.verdict.message
    );
    assert_eq!(invalidations_in_aws(&plain, &id).await.len(), 11);
}
