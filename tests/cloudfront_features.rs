//! The CloudFront settings of issue 19 as a user applies them with the CLI
//! against the AWS test bed: a geo restriction, custom headers on the
//! default origin, the default behavior's cache, origin request and
//! response headers policies and CloudFront Functions, and the viewer TLS
//! policy. Each is read back from the test bed as CloudFront stores it; a
//! second apply writes nothing; `plan` shows a changed header by name,
//! never its value; and input CloudFront would refuse is named by field
//! before any AWS call.

mod support;

use std::path::{Path, PathBuf};

use aws_sdk_cloudfront::types::{
    DistributionConfig, EventType, GeoRestrictionType, MinimumProtocolVersion,
};
use serde_json::Value;
use support::aws::{TestBed, create_functions};
use support::cli::{text, urlguard};

const CERTIFICATE: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0d0c0f2a-1111-2222-3333-444455556666";
const INDEX_HTML: &str = "arn:aws:cloudfront::123456789012:function/shop-index-html";
const HSTS: &str = "arn:aws:cloudfront::123456789012:function/shop-hsts";
/// Managed policies: `CORS-S3Origin` and `SecurityHeadersPolicy`.
const CORS_S3_ORIGIN: &str = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf";
const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";
/// A custom cache policy's id (CloudFront generates UUIDs for them too).
const CUSTOM_CACHE_POLICY: &str = "2e54312d-136d-493c-8eb9-b001f22f67d2";

/// The shop: an S3 single-page app behind every feature, and one URL.
fn shop_yaml(secret: &str, geo: &str) -> String {
    format!(
        "\
apiVersion: urlguard.io/v1alpha1
kind: EdgeDistribution
metadata: {{name: shop, namespace: shop}}
spec:
  defaultOrigin:
    s3:
      bucketName: shop-spa
      customHeaders:
        - {{name: X-Origin-Verify, value: {secret}}}
        - {{name: x-shop-edge, value: cloudfront}}
  defaultBehavior:
    cachePolicyId: {CUSTOM_CACHE_POLICY}
    originRequestPolicyId: {CORS_S3_ORIGIN}
    responseHeadersPolicyId: {SECURITY_HEADERS}
    functionAssociations:
      - {{eventType: viewer-response, functionArn: {HSTS}}}
      - {{eventType: viewer-request, functionArn: {INDEX_HTML}}}
  aliases: [shop.example.com]
  certificateArn: {CERTIFICATE}
  viewerTls: {{minimumProtocolVersion: TLSv1.2_2019}}
  geoRestriction: {geo}
---
apiVersion: urlguard.io/v1alpha1
kind: ProtectedFunctionUrl
metadata: {{name: orders, namespace: shop}}
spec: {{function: {{name: shop-orders, region: eu-west-1}}, distributionRef: {{name: shop}}, pathPattern: /orders/*}}
"
    )
}

/// Writes `contents` to a manifest named after `stem` and this process in
/// cargo's scratch dir for tests: its path.
fn manifest_file(stem: &str, contents: &str) -> PathBuf {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{stem}-{}.yaml", std::process::id()));
    std::fs::write(&file, contents).expect("write");
    file
}

/// `urlguard apply -f FILE -o json`: the JSON it printed, after checking
/// that it succeeded.
fn apply(bed: &TestBed, file: &Path) -> Value {
    let file_arg = file.display().to_string();
    let output = urlguard(
        bed,
        &[
            "apply",
            "-f",
            &file_arg,
            "--poll-interval",
            "200ms",
            "--output",
            "json",
        ],
    );
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    serde_json::from_str(&stdout).expect("JSON on stdout")
}

/// The one distribution's config, as the test bed stores it.
async fn stored_config(bed: &TestBed) -> DistributionConfig {
    let cloudfront = aws_sdk_cloudfront::Client::new(&bed.sdk_config().await);
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

/// The default origin's custom headers, as `(name, value)` in CloudFront's
/// order.
fn default_origin_headers(config: &DistributionConfig) -> Vec<(String, String)> {
    let origins = config.origins().expect("origins").items();
    let default_id = config
        .default_cache_behavior()
        .expect("default behavior")
        .target_origin_id();
    let origin = origins
        .iter()
        .find(|o| o.id() == default_id)
        .expect("the default origin");
    origin
        .custom_headers()
        .map(|h| h.items())
        .unwrap_or_default()
        .iter()
        .map(|h| (h.header_name().to_owned(), h.header_value().to_owned()))
        .collect()
}

#[tokio::test]
async fn every_feature_is_stored_as_declared_and_a_second_apply_writes_nothing() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    create_functions(&config, "eu-west-1", &["shop-orders"]).await;
    let file = manifest_file(
        "shop",
        &shop_yaml("s3cr3t", "{type: Allow, locations: [US, DE, FR]}"),
    );

    let first = apply(&bed, &file);
    assert!(
        first["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .all(|r| r["ready"] == true),
        "{first}"
    );
    let stored = stored_config(&bed).await;

    // Geo restriction: Allow is CloudFront's whitelist.
    let geo = stored
        .restrictions()
        .and_then(|r| r.geo_restriction())
        .expect("geo restriction");
    assert_eq!(geo.restriction_type(), &GeoRestrictionType::Whitelist);
    let mut countries = geo.items().to_vec();
    countries.sort();
    assert_eq!(countries, ["DE", "FR", "US"]);

    // Custom headers on the default origin, and on no URL origin.
    let mut headers = default_origin_headers(&stored);
    headers.sort();
    assert_eq!(
        headers,
        [
            ("X-Origin-Verify".to_owned(), "s3cr3t".to_owned()),
            ("x-shop-edge".to_owned(), "cloudfront".to_owned())
        ]
    );
    let origins = stored.origins().expect("origins").items();
    assert_eq!(origins.len(), 2);
    assert!(
        origins
            .iter()
            .filter(|o| o.id().starts_with("pfu-"))
            .all(|o| o.custom_headers().map(|h| h.quantity()) == Some(0))
    );

    // The default behavior's policies and functions; none on the URL's.
    let default = stored.default_cache_behavior().expect("default behavior");
    assert_eq!(default.cache_policy_id(), Some(CUSTOM_CACHE_POLICY));
    assert_eq!(default.origin_request_policy_id(), Some(CORS_S3_ORIGIN));
    assert_eq!(default.response_headers_policy_id(), Some(SECURITY_HEADERS));
    let functions: Vec<(EventType, String)> = default
        .function_associations()
        .map(|f| f.items())
        .unwrap_or_default()
        .iter()
        .map(|f| (f.event_type().clone(), f.function_arn().to_owned()))
        .collect();
    assert_eq!(
        functions,
        [
            (EventType::ViewerRequest, INDEX_HTML.to_owned()),
            (EventType::ViewerResponse, HSTS.to_owned())
        ]
    );
    let orders = &stored.cache_behaviors().expect("behaviors").items()[0];
    assert_eq!(orders.path_pattern(), "/orders/*");
    assert_eq!(
        orders.function_associations().map(|f| f.quantity()),
        Some(0)
    );

    // The viewer TLS policy on the alias certificate.
    let certificate = stored.viewer_certificate().expect("certificate");
    assert_eq!(certificate.acm_certificate_arn(), Some(CERTIFICATE));
    assert_eq!(
        certificate.minimum_protocol_version(),
        Some(&MinimumProtocolVersion::TlSv122019)
    );

    // Unchanged: nothing to write, whatever order CloudFront keeps.
    bed.reset_counts();
    let second = apply(&bed, &file);
    assert_eq!(second["awsCalls"]["mutating"], 0, "{}", second["awsCalls"]);
    assert_eq!(bed.count("cloudfront:UpdateDistribution"), 0);

    // A new secret and no restriction: `plan` names the header and the
    // geo restriction, never a value, and writes nothing.
    std::fs::write(&file, shop_yaml("n3w-s3cr3t", "{type: None}")).expect("write");
    let file_arg = file.display().to_string();
    bed.reset_counts();
    let output = urlguard(&bed, &["plan", "-f", &file_arg]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("geoRestriction: "), "{stdout}");
    assert!(
        stdout.contains(
            ".customHeaders[X-Origin-Verify]: X-Origin-Verify: <hidden> → X-Origin-Verify: <hidden> (another value)"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("s3cr3t") && !stderr.contains("s3cr3t"),
        "a header value was printed:\n{stdout}\n{stderr}"
    );
    assert_eq!(bed.count("cloudfront:UpdateDistribution"), 0);

    // Applied: one update, stored as declared.
    let third = apply(&bed, &file);
    assert_eq!(
        third["awsCalls"]["byOperation"]["cloudfront:UpdateDistribution"], 1,
        "{}",
        third["awsCalls"]
    );
    let stored = stored_config(&bed).await;
    let geo = stored
        .restrictions()
        .and_then(|r| r.geo_restriction())
        .expect("geo restriction");
    assert_eq!(
        (geo.restriction_type(), geo.quantity()),
        (&GeoRestrictionType::None, 0)
    );
    assert!(
        default_origin_headers(&stored)
            .contains(&("X-Origin-Verify".to_owned(), "n3w-s3cr3t".to_owned()))
    );
    std::fs::remove_file(&file).expect("cleanup");
}

#[tokio::test]
async fn settings_cloudfront_would_refuse_are_named_and_reach_no_aws_api() {
    let bed = TestBed::start();
    const ORIGIN: &str = "  defaultOrigin: {custom: {domainName: app.example.com}}\n";
    let distribution = |name: &str, spec: &str| {
        format!(
            "---\napiVersion: urlguard.io/v1alpha1\nkind: EdgeDistribution\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{spec}"
        )
    };
    let manifest = [
        distribution(
            "host-header",
            "  defaultOrigin: {custom: {domainName: app.example.com, customHeaders: [{name: Host, value: evil.example.com}]}}\n",
        ),
        distribution(
            "no-countries",
            &format!("{ORIGIN}  geoRestriction: {{type: Deny, locations: []}}\n"),
        ),
        distribution(
            "tls-without-certificate",
            &format!("{ORIGIN}  viewerTls: {{minimumProtocolVersion: TLSv1.2_2021}}\n"),
        ),
        distribution(
            "two-viewer-requests",
            &format!(
                "{ORIGIN}  defaultBehavior:\n    functionAssociations:\n      - {{eventType: viewer-request, functionArn: {INDEX_HTML}}}\n      - {{eventType: viewer-request, functionArn: {HSTS}}}\n"
            ),
        ),
    ]
    .concat();
    let file = manifest_file("refused", &manifest);
    let file_arg = file.display().to_string();
    let output = urlguard(&bed, &["apply", "-f", &file_arg]);
    std::fs::remove_file(&file).expect("cleanup");
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    let all = format!("{stdout}{stderr}");
    for named in [
        "EdgeDistribution shop/host-header: spec.defaultOrigin.custom.customHeaders[0].name: ",
        "EdgeDistribution shop/no-countries: spec.geoRestriction.locations: ",
        "EdgeDistribution shop/tls-without-certificate: spec.viewerTls: ",
        "EdgeDistribution shop/two-viewer-requests: spec.defaultBehavior.functionAssociations: ",
    ] {
        assert!(all.contains(named), "{named} in:\n{all}");
    }
    assert!(
        all.contains("CloudFront cannot add this header"),
        "the refused header's reason: {all}"
    );
    assert!(
        bed.calls().calls.is_empty(),
        "no AWS call at all: {:?}",
        bed.calls().calls
    );
}
