//! The AWS test bed's front door, `aws-emulator`, through the AWS SDK for
//! Rust: each test names the AWS behaviour it reproduces. CloudFront is the
//! emulator's own; Lambda, SSM, IAM and STS are moto behind it, with moto's
//! Lambda gaps corrected and Lambda@Edge replicas emulated; fault rules and
//! wire counts go through the control endpoints.

mod support;

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_emulator::{FaultKind, FaultRule, QuotaRates};
use aws_sdk_cloudfront::error::ProvideErrorMetadata;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, EventType,
    GeoRestriction, GeoRestrictionType, HttpVersion, LambdaFunctionAssociation,
    LambdaFunctionAssociations, LoggingConfig, Method, MinimumProtocolVersion, Origin,
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, OriginProtocolPolicy, OriginSslProtocols, Origins,
    PriceClass, Restrictions, S3OriginConfig, SslProtocol, SslSupportMethod, ViewerCertificate,
    ViewerProtocolPolicy,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, FunctionUrlAuthType, InvokeMode, Runtime};
use support::aws::{TestBed, TestBedOptions, tiny_zip};

const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

// ---------------------------------------------------------------- helpers

fn cloudfront(config: &SdkConfig) -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(config)
}

fn lambda(config: &SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(config)
}

/// Same SDK config in another region.
fn in_region(config: &SdkConfig, region: &'static str) -> SdkConfig {
    config
        .clone()
        .into_builder()
        .region(aws_config::Region::new(region))
        .build()
}

/// An IAM role that these services may assume.
async fn role_trusting(config: &SdkConfig, name: &str, services: &[&str]) -> String {
    let principals = services
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(",");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":[{principals}]}},"Action":"sts:AssumeRole"}}]}}"#
    );
    aws_sdk_iam::Client::new(config)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole")
        .role()
        .map(|r| r.arn().to_owned())
        .expect("the role's ARN")
}

/// An IAM role Lambda and Lambda@Edge may assume.
async fn edge_role(config: &SdkConfig, name: &str) -> String {
    role_trusting(
        config,
        name,
        &["lambda.amazonaws.com", "edgelambda.amazonaws.com"],
    )
    .await
}

type CreateFunction =
    aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;

/// A function in the config's region with this role, shaped by `customize`;
/// returns its unqualified ARN.
async fn function_with(
    config: &SdkConfig,
    name: &str,
    role: &str,
    customize: impl FnOnce(CreateFunction) -> CreateFunction,
) -> String {
    let request = lambda(config)
        .create_function()
        .function_name(name)
        .runtime(Runtime::Nodejs24x)
        .role(role)
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(tiny_zip(
                    "index.mjs",
                    b"export const handler = async () => ({});\n",
                )))
                .build(),
        );
    customize(request)
        .send()
        .await
        .expect("CreateFunction")
        .function_arn()
        .expect("the function's ARN")
        .to_owned()
}

/// A function in the config's region (its edge-capable role created on the
/// fly); returns its unqualified ARN.
async fn function(config: &SdkConfig, name: &str) -> String {
    let role = edge_role(config, &format!("{name}-role")).await;
    function_with(config, name, &role, |f| f).await
}

/// Publishes a version and waits until Lambda has it `Active`, as every
/// caller must before CloudFront associates it: its qualified ARN.
async fn publish(config: &SdkConfig, name: &str) -> String {
    let published = lambda(config)
        .publish_version()
        .function_name(name)
        .send()
        .await
        .expect("PublishVersion");
    let version = published.version().expect("a version").to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while lambda(config)
        .get_function_configuration()
        .function_name(name)
        .qualifier(&version)
        .send()
        .await
        .expect("GetFunctionConfiguration")
        .state()
        != Some(&aws_sdk_lambda::types::State::Active)
    {
        assert!(
            Instant::now() < deadline,
            "{name}:{version} never became Active"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    published
        .function_arn()
        .expect("the version's ARN")
        .to_owned()
}

/// A published version of a new function in the config's region: the
/// version's qualified ARN.
async fn function_version(config: &SdkConfig, name: &str) -> String {
    function(config, name).await;
    publish(config, name).await
}

async fn origin_access_control(config: &SdkConfig, name: &str) -> String {
    cloudfront(config)
        .create_origin_access_control()
        .origin_access_control_config(oac_config(name))
        .send()
        .await
        .expect("CreateOriginAccessControl")
        .origin_access_control()
        .map(|o| o.id().to_owned())
        .expect("the OAC id")
}

fn oac_config(name: &str) -> OriginAccessControlConfig {
    OriginAccessControlConfig::builder()
        .name(name)
        .description("lets the distribution in")
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::Lambda)
        .build()
        .expect("OAC config")
}

fn function_url_origin(id: &str, oac: Option<&str>) -> Origin {
    let mut origin = Origin::builder()
        .id(id)
        .domain_name(format!("{id}.lambda-url.eu-west-1.on.aws"))
        .origin_path("")
        .connection_attempts(3)
        .connection_timeout(10)
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                .origin_ssl_protocols(
                    OriginSslProtocols::builder()
                        .quantity(1)
                        .items(SslProtocol::TlSv12)
                        .build()
                        .expect("ssl protocols"),
                )
                .origin_read_timeout(30)
                .origin_keepalive_timeout(5)
                .build()
                .expect("custom origin"),
        );
    if let Some(oac) = oac {
        origin = origin.origin_access_control_id(oac);
    }
    origin.build().expect("origin")
}

fn s3_origin(id: &str, oac: &str) -> Origin {
    Origin::builder()
        .id(id)
        .domain_name("books-spa.s3.us-east-1.amazonaws.com")
        .origin_path("")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .origin_access_control_id(oac)
        .build()
        .expect("s3 origin")
}

fn lambda_associations(associations: &[(&str, EventType, bool)]) -> LambdaFunctionAssociations {
    let items: Vec<LambdaFunctionAssociation> = associations
        .iter()
        .map(|(arn, event, include_body)| {
            LambdaFunctionAssociation::builder()
                .lambda_function_arn(*arn)
                .event_type(event.clone())
                .include_body(*include_body)
                .build()
                .expect("association")
        })
        .collect();
    LambdaFunctionAssociations::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .build()
        .expect("associations")
}

fn behavior(path: &str, target: &str, signer: Option<&str>) -> CacheBehavior {
    let all = [
        Method::Get,
        Method::Head,
        Method::Options,
        Method::Put,
        Method::Post,
        Method::Patch,
        Method::Delete,
    ];
    CacheBehavior::builder()
        .path_pattern(path)
        .target_origin_id(target)
        .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
        .allowed_methods(
            AllowedMethods::builder()
                .quantity(7)
                .set_items(Some(all.to_vec()))
                .cached_methods(
                    CachedMethods::builder()
                        .quantity(2)
                        .items(Method::Get)
                        .items(Method::Head)
                        .build()
                        .expect("cached methods"),
                )
                .build()
                .expect("allowed methods"),
        )
        .cache_policy_id(CACHING_DISABLED)
        .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST_HEADER)
        .compress(false)
        .lambda_function_associations(match signer {
            Some(arn) => lambda_associations(&[(arn, EventType::OriginRequest, true)]),
            None => lambda_associations(&[]),
        })
        .build()
        .expect("cache behavior")
}

fn default_behavior(target: &str) -> DefaultCacheBehavior {
    DefaultCacheBehavior::builder()
        .target_origin_id(target)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .cache_policy_id(CACHING_OPTIMIZED)
        .compress(true)
        .build()
        .expect("default behavior")
}

/// A minimal valid config: one function URL origin, default behavior to it,
/// optionally the signer on a `/api/*` behavior.
fn simple_config(
    caller_reference: &str,
    enabled: bool,
    signer: Option<&str>,
) -> DistributionConfig {
    let mut config = DistributionConfig::builder()
        .caller_reference(caller_reference)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(function_url_origin("books", None))
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(default_behavior("books"))
        .comment("urlguard test")
        .enabled(enabled);
    if let Some(signer) = signer {
        config = config.cache_behaviors(
            CacheBehaviors::builder()
                .quantity(1)
                .items(behavior("/api/*", "books", Some(signer)))
                .build()
                .expect("behaviors"),
        );
    }
    config.build().expect("distribution config")
}

/// Creates a distribution: `(id, etag)`.
async fn create(config: &SdkConfig, distribution: DistributionConfig) -> (String, String) {
    let out = cloudfront(config)
        .create_distribution()
        .distribution_config(distribution)
        .send()
        .await
        .expect("CreateDistribution");
    (
        out.distribution().map(|d| d.id().to_owned()).expect("id"),
        out.e_tag().expect("ETag").to_owned(),
    )
}

async fn wait_until_deployed(config: &SdkConfig, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = cloudfront(config)
            .get_distribution()
            .id(id)
            .send()
            .await
            .expect("GetDistribution")
            .distribution()
            .map(|d| d.status().to_owned())
            .expect("status");
        if status == "Deployed" {
            return;
        }
        assert!(Instant::now() < deadline, "{id} still {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ------------------------------------------------------------- CloudFront

#[tokio::test]
async fn distribution_config_round_trips_exactly_with_associations_oac_ids_and_error_responses() {
    // Exactly as sent: without CloudFront's read-back defaults.
    let bed = TestBed::start_with(TestBedOptions {
        readback_defaults: false,
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config().await;
    let signer = function_version(&config, "urlguard-signer").await;
    let s3_oac = origin_access_control(&config, "spa-oac").await;
    let fn_oac = origin_access_control(&config, "books-oac").await;

    let error_page = |code: i32| {
        CustomErrorResponse::builder()
            .error_code(code)
            .response_page_path("/index.html")
            .response_code("200")
            .error_caching_min_ttl(10)
            .build()
            .expect("error response")
    };
    let sent = DistributionConfig::builder()
        .caller_reference("urlguard/books/1")
        .aliases(
            Aliases::builder()
                .quantity(1)
                .items("books.example.com")
                .build()
                .expect("aliases"),
        )
        .default_root_object("index.html")
        .origins(
            Origins::builder()
                .quantity(3)
                .items(s3_origin("spa", &s3_oac))
                .items(function_url_origin("get-books", None))
                .items(function_url_origin("put-book", Some(&fn_oac)))
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(default_behavior("spa"))
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(2)
                .items(behavior("/api/books", "get-books", Some(&signer)))
                .items(behavior("/api/book/*", "put-book", None))
                .build()
                .expect("behaviors"),
        )
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(2)
                .items(error_page(403))
                .items(error_page(404))
                .build()
                .expect("error responses"),
        )
        .comment("books & more <urlguard>")
        .logging(
            LoggingConfig::builder()
                .enabled(true)
                .include_cookies(false)
                .bucket("books-logs.s3.amazonaws.com")
                .prefix("cloudfront/")
                .build(),
        )
        .price_class(PriceClass::PriceClass100)
        .enabled(true)
        .viewer_certificate(
            ViewerCertificate::builder()
                .acm_certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/abc")
                .ssl_support_method(SslSupportMethod::SniOnly)
                .minimum_protocol_version(MinimumProtocolVersion::TlSv122021)
                .build(),
        )
        .restrictions(
            Restrictions::builder()
                .geo_restriction(
                    GeoRestriction::builder()
                        .restriction_type(GeoRestrictionType::None)
                        .quantity(0)
                        .build()
                        .expect("geo"),
                )
                .build(),
        )
        .web_acl_id("")
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .build()
        .expect("distribution config");

    let created = cloudfront(&config)
        .create_distribution()
        .distribution_config(sent.clone())
        .send()
        .await
        .expect("CreateDistribution");
    let distribution = created.distribution().expect("distribution");
    let id = distribution.id().to_owned();
    assert_eq!(distribution.distribution_config(), Some(&sent));
    assert_eq!(distribution.status(), "InProgress");
    assert_eq!(
        distribution.domain_name(),
        format!("{}.cloudfront.net", id.to_lowercase())
    );
    assert_eq!(
        distribution.arn(),
        format!("arn:aws:cloudfront::123456789012:distribution/{id}")
    );
    assert_eq!(
        created.location(),
        Some(format!("https://cloudfront.amazonaws.com/2020-05-31/distribution/{id}").as_str())
    );
    assert!(id.len() == 14 && id.starts_with('E'), "id {id}");

    let read = cloudfront(&config)
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("GetDistributionConfig");
    assert_eq!(
        read.distribution_config(),
        Some(&sent),
        "GetDistributionConfig reads back what was sent"
    );
    assert_eq!(read.e_tag(), created.e_tag());

    let got = cloudfront(&config)
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect("GetDistribution");
    assert_eq!(
        got.distribution().and_then(|d| d.distribution_config()),
        Some(&sent)
    );

    let list = cloudfront(&config)
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    let summaries = list
        .distribution_list()
        .map(|l| l.items())
        .unwrap_or_default();
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    assert_eq!(summary.id(), id);
    assert_eq!(summary.origins(), sent.origins());
    assert_eq!(summary.cache_behaviors(), sent.cache_behaviors());
    assert_eq!(
        summary.custom_error_responses(),
        sent.custom_error_responses()
    );
    assert_eq!(summary.aliases(), sent.aliases());
    assert_eq!(summary.comment(), sent.comment());
    assert!(summary.enabled());
    assert_eq!(summary.http_version(), &HttpVersion::Http2and3);
}

#[tokio::test]
async fn every_change_gets_a_new_etag_and_a_stale_if_match_is_precondition_failed() {
    let bed = TestBed::start_with(TestBedOptions {
        readback_defaults: false,
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config().await;
    let (id, first_etag) = create(&config, simple_config("etag-test", true, None)).await;

    let mut changed = simple_config("etag-test", true, None);
    changed.comment = "changed".into();
    let updated = cloudfront(&config)
        .update_distribution()
        .id(&id)
        .if_match(&first_etag)
        .distribution_config(changed.clone())
        .send()
        .await
        .expect("UpdateDistribution with the current ETag");
    let second_etag = updated.e_tag().expect("new ETag").to_owned();
    assert_ne!(second_etag, first_etag, "an update gets a new ETag");
    assert_eq!(
        updated.distribution().and_then(|d| d.distribution_config()),
        Some(&changed)
    );

    let stale = cloudfront(&config)
        .update_distribution()
        .id(&id)
        .if_match(&first_etag)
        .distribution_config(simple_config("etag-test", true, None))
        .send()
        .await
        .expect_err("a stale If-Match");
    assert_eq!(stale.raw_response().map(|r| r.status().as_u16()), Some(412));
    assert!(stale.into_service_error().is_precondition_failed());

    let stale_delete = cloudfront(&config)
        .delete_distribution()
        .id(&id)
        .if_match(&first_etag)
        .send()
        .await
        .expect_err("a stale If-Match on delete");
    assert!(stale_delete.into_service_error().is_precondition_failed());

    let current = cloudfront(&config)
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("GetDistributionConfig");
    assert_eq!(current.e_tag(), Some(second_etag.as_str()));
    assert_eq!(
        current.distribution_config(),
        Some(&changed),
        "the refused update changed nothing"
    );
}

#[tokio::test]
async fn update_and_delete_without_if_match_are_invalid_if_match_version() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let (id, _) = create(&config, simple_config("no-if-match", true, None)).await;

    let update = cloudfront(&config)
        .update_distribution()
        .id(&id)
        .distribution_config(simple_config("no-if-match", false, None))
        .send()
        .await
        .expect_err("no If-Match");
    assert_eq!(
        update.raw_response().map(|r| r.status().as_u16()),
        Some(400)
    );
    assert!(update.into_service_error().is_invalid_if_match_version());

    let delete = cloudfront(&config)
        .delete_distribution()
        .id(&id)
        .send()
        .await
        .expect_err("no If-Match");
    assert!(delete.into_service_error().is_invalid_if_match_version());
}

#[tokio::test]
async fn a_reused_caller_reference_is_distribution_already_exists_naming_the_existing_id() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let (id, _) = create(&config, simple_config("urlguard/default/books", true, None)).await;

    // Even an identical config: CloudFront refuses any reuse.
    let again = cloudfront(&config)
        .create_distribution()
        .distribution_config(simple_config("urlguard/default/books", true, None))
        .send()
        .await
        .expect_err("the same CallerReference");
    assert_eq!(again.raw_response().map(|r| r.status().as_u16()), Some(409));
    let err = again.into_service_error();
    assert!(err.is_distribution_already_exists());
    let message = err.message().expect("a message");
    assert!(
        message.ends_with(&format!("Already exists: {id}")),
        "the message names the existing distribution: {message}"
    );
}

#[tokio::test]
async fn changing_the_caller_reference_in_an_update_is_illegal_update() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let (id, etag) = create(&config, simple_config("original-ref", true, None)).await;

    let err = cloudfront(&config)
        .update_distribution()
        .id(&id)
        .if_match(&etag)
        .distribution_config(simple_config("another-ref", true, None))
        .send()
        .await
        .expect_err("CallerReference is immutable");
    assert!(err.into_service_error().is_illegal_update());
}

#[tokio::test]
async fn a_distribution_is_in_progress_after_each_change_then_deployed() {
    let bed = TestBed::start_with(TestBedOptions {
        deploy_time: Duration::from_secs(1),
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config().await;
    let (id, _) = create(&config, simple_config("deploy-test", true, None)).await;
    let status = |out: &aws_sdk_cloudfront::operation::get_distribution::GetDistributionOutput| {
        out.distribution()
            .map(|d| d.status().to_owned())
            .unwrap_or_default()
    };
    let now = cloudfront(&config)
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect("Get");
    assert_eq!(status(&now), "InProgress");
    wait_until_deployed(&config, &id).await;

    let etag = cloudfront(&config)
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect("Get")
        .e_tag()
        .expect("ETag")
        .to_owned();
    let updated = cloudfront(&config)
        .update_distribution()
        .id(&id)
        .if_match(etag)
        .distribution_config(simple_config("deploy-test", false, None))
        .send()
        .await
        .expect("Update");
    assert_eq!(
        updated.distribution().map(|d| d.status()),
        Some("InProgress"),
        "an update deploys again"
    );
    let summary_status = cloudfront(&config)
        .list_distributions()
        .send()
        .await
        .expect("List")
        .distribution_list()
        .map(|l| l.items()[0].status().to_owned());
    assert_eq!(summary_status.as_deref(), Some("InProgress"));
    wait_until_deployed(&config, &id).await;
}

#[tokio::test]
async fn delete_is_refused_while_enabled_or_deploying_and_allowed_once_disabled_and_deployed() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let (id, etag) = create(&config, simple_config("delete-test", true, None)).await;
    wait_until_deployed(&config, &id).await;

    let enabled = cloudfront(&config)
        .delete_distribution()
        .id(&id)
        .if_match(&etag)
        .send()
        .await
        .expect_err("delete while enabled");
    assert_eq!(
        enabled.raw_response().map(|r| r.status().as_u16()),
        Some(409)
    );
    assert!(enabled.into_service_error().is_distribution_not_disabled());

    let disabled = cloudfront(&config)
        .update_distribution()
        .id(&id)
        .if_match(&etag)
        .distribution_config(simple_config("delete-test", false, None))
        .send()
        .await
        .expect("disable");
    let etag = disabled.e_tag().expect("ETag").to_owned();
    let deploying = cloudfront(&config)
        .delete_distribution()
        .id(&id)
        .if_match(&etag)
        .send()
        .await
        .expect_err("delete while the disable deploys");
    assert!(
        deploying
            .into_service_error()
            .is_distribution_not_disabled()
    );

    wait_until_deployed(&config, &id).await;
    cloudfront(&config)
        .delete_distribution()
        .id(&id)
        .if_match(&etag)
        .send()
        .await
        .expect("delete when disabled and deployed");

    let gone = cloudfront(&config)
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(gone.into_service_error().is_no_such_distribution());
}

#[tokio::test]
async fn origin_access_controls_have_etags_unique_names_and_cannot_be_deleted_while_in_use() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let cf = cloudfront(&config);

    let created = cf
        .create_origin_access_control()
        .origin_access_control_config(oac_config("books-oac"))
        .send()
        .await
        .expect("CreateOriginAccessControl");
    let oac_id = created
        .origin_access_control()
        .map(|o| o.id().to_owned())
        .expect("id");
    let etag = created.e_tag().expect("ETag").to_owned();
    assert_eq!(
        created
            .origin_access_control()
            .and_then(|o| o.origin_access_control_config()),
        Some(&oac_config("books-oac"))
    );

    let duplicate = cf
        .create_origin_access_control()
        .origin_access_control_config(oac_config("books-oac"))
        .send()
        .await
        .expect_err("same name");
    assert!(
        duplicate
            .into_service_error()
            .is_origin_access_control_already_exists()
    );

    let read = cf
        .get_origin_access_control_config()
        .id(&oac_id)
        .send()
        .await
        .expect("GetConfig");
    assert_eq!(
        read.origin_access_control_config(),
        Some(&oac_config("books-oac"))
    );
    assert_eq!(read.e_tag(), Some(etag.as_str()));

    let mut renamed = oac_config("books-oac-2");
    renamed.signing_behavior = OriginAccessControlSigningBehaviors::NoOverride;
    let stale = cf
        .update_origin_access_control()
        .id(&oac_id)
        .if_match("ESTALEETAG0000")
        .origin_access_control_config(renamed.clone())
        .send()
        .await
        .expect_err("stale");
    assert!(stale.into_service_error().is_precondition_failed());
    let updated = cf
        .update_origin_access_control()
        .id(&oac_id)
        .if_match(&etag)
        .origin_access_control_config(renamed.clone())
        .send()
        .await
        .expect("UpdateOriginAccessControl");
    let etag = updated.e_tag().expect("ETag").to_owned();
    let list = cf.list_origin_access_controls().send().await.expect("List");
    let items = list
        .origin_access_control_list()
        .map(|l| l.items())
        .unwrap_or_default();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].name(), "books-oac-2");
    assert_eq!(
        items[0].signing_behavior(),
        &OriginAccessControlSigningBehaviors::NoOverride
    );

    // An origin naming an OAC that does not exist is refused.
    let mut unknown = simple_config("unknown-oac", true, None);
    unknown.origins = Some(
        Origins::builder()
            .quantity(1)
            .items(function_url_origin("books", Some("ENOSUCHOAC0000")))
            .build()
            .expect("origins"),
    );
    let err = cf
        .create_distribution()
        .distribution_config(unknown)
        .send()
        .await
        .expect_err("unknown OAC");
    assert!(err.into_service_error().is_invalid_origin_access_control());

    // In use by a distribution: cannot be deleted.
    let mut with_oac = simple_config("uses-oac", false, None);
    with_oac.origins = Some(
        Origins::builder()
            .quantity(1)
            .items(function_url_origin("books", Some(&oac_id)))
            .build()
            .expect("origins"),
    );
    let (dist_id, dist_etag) = create(&config, with_oac).await;
    let in_use = cf
        .delete_origin_access_control()
        .id(&oac_id)
        .if_match(&etag)
        .send()
        .await
        .expect_err("in use");
    assert_eq!(
        in_use.raw_response().map(|r| r.status().as_u16()),
        Some(409)
    );
    assert!(
        in_use
            .into_service_error()
            .is_origin_access_control_in_use()
    );

    // Once the distribution no longer names it, it can go.
    let updated = cf
        .update_distribution()
        .id(&dist_id)
        .if_match(&dist_etag)
        .distribution_config(simple_config("uses-oac", false, None))
        .send()
        .await
        .expect("drop the OAC from the origin");
    assert!(updated.e_tag().is_some());
    cf.delete_origin_access_control()
        .id(&oac_id)
        .if_match(&etag)
        .send()
        .await
        .expect("DeleteOriginAccessControl");
    let gone = cf
        .get_origin_access_control()
        .id(&oac_id)
        .send()
        .await
        .expect_err("gone");
    assert!(gone.into_service_error().is_no_such_origin_access_control());
}

#[tokio::test]
async fn deleting_a_missing_origin_access_control_is_no_such_origin_access_control_not_a_500() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let err = cloudfront(&config)
        .delete_origin_access_control()
        .id("ENOSUCHOAC0000")
        .if_match("E0000000000000")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(err.into_service_error().is_no_such_origin_access_control());
}

/// A published version is `Pending` until Lambda has prepared it, and
/// CloudFront associates only an `Active` one ("Lambda function states";
/// `InvalidLambdaFunctionAssociation`).
#[tokio::test]
async fn a_freshly_published_version_is_pending_and_cannot_be_associated_yet() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "edge-signer").await;
    let published = lambda(&config)
        .publish_version()
        .function_name("edge-signer")
        .send()
        .await
        .expect("PublishVersion");
    assert_eq!(
        published.state(),
        Some(&aws_sdk_lambda::types::State::Pending)
    );
    let version = published
        .function_arn()
        .expect("the version's ARN")
        .to_owned();
    let state = || async {
        lambda(&config)
            .get_function_configuration()
            .function_name("edge-signer")
            .qualifier("1")
            .send()
            .await
            .expect("GetFunctionConfiguration")
            .state()
            .cloned()
    };
    assert_eq!(state().await, Some(aws_sdk_lambda::types::State::Pending));
    let err = cloudfront(&config)
        .create_distribution()
        .distribution_config(simple_config("pending", true, Some(&version)))
        .send()
        .await
        .expect_err("a Pending version")
        .into_service_error();
    assert!(err.is_invalid_lambda_function_association(), "{err:?}");
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("must be in an Active state"),
        "{err:?}"
    );
    tokio::time::sleep(aws_emulator::DEFAULT_VERSION_PENDING).await;
    assert_eq!(state().await, Some(aws_sdk_lambda::types::State::Active));
    create(&config, simple_config("active", true, Some(&version))).await;
}

#[tokio::test]
async fn lambda_associations_must_name_an_existing_numbered_version_in_us_east_1() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let version = function_version(&config, "edge-signer").await;
    let unqualified = version
        .rsplit_once(':')
        .map(|(f, _)| f.to_owned())
        .expect("qualified");
    lambda(&config)
        .create_alias()
        .function_name("edge-signer")
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("CreateAlias");
    let other_region = function_version(&in_region(&config, "eu-west-1"), "regional-signer").await;
    assert!(other_region.contains(":eu-west-1:"), "{other_region}");

    let refused = [
        (
            format!("{unqualified}:$LATEST"),
            "specific function version",
        ),
        (format!("{unqualified}:live"), "specific function version"),
        (unqualified.clone(), "specific function version"),
        (other_region, "region 'us-east-1'"),
        (format!("{unqualified}:7"), "cannot retrieve"),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:no-such-function:1".to_owned(),
            "cannot retrieve",
        ),
    ];
    for (i, (arn, wording)) in refused.iter().enumerate() {
        let err = cloudfront(&config)
            .create_distribution()
            .distribution_config(simple_config(&format!("assoc-{i}"), true, Some(arn)))
            .send()
            .await
            .expect_err(arn);
        assert_eq!(
            err.raw_response().map(|r| r.status().as_u16()),
            Some(400),
            "{arn}"
        );
        let err = err.into_service_error();
        assert!(
            err.is_invalid_lambda_function_association(),
            "{arn}: {err:?}"
        );
        let message = err.message().unwrap_or_default();
        assert!(
            message.contains(wording) && message.contains(arn.as_str()),
            "{arn}: {message}"
        );
    }

    let (id, _) = create(&config, simple_config("assoc-ok", true, Some(&version))).await;
    let read = cloudfront(&config)
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("Get");
    let behaviors = read
        .distribution_config()
        .and_then(|c| c.cache_behaviors())
        .map(|b| b.items().to_vec())
        .unwrap_or_default();
    let associations = behaviors[0]
        .lambda_function_associations()
        .map(|a| a.items().to_vec())
        .unwrap_or_default();
    assert_eq!(associations.len(), 1);
    assert_eq!(associations[0].lambda_function_arn(), version);
    assert_eq!(associations[0].include_body(), Some(true));
}

#[tokio::test]
async fn associated_functions_must_fit_lambda_at_edge_restrictions() {
    use aws_sdk_lambda::types::{Architecture, Environment};
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let role = edge_role(&config, "edge-role").await;
    let lambda_only = role_trusting(&config, "lambda-only-role", &["lambda.amazonaws.com"]).await;

    function_with(&config, "with-env", &role, |f| {
        f.environment(Environment::builder().variables("SECRET", "x").build())
    })
    .await;
    function_with(&config, "slow", &role, |f| f.timeout(31)).await;
    function_with(&config, "viewer-slow", &role, |f| f.timeout(6)).await;
    function_with(&config, "arm", &role, |f| {
        f.architectures(Architecture::Arm64)
    })
    .await;
    function_with(&config, "lambda-only", &lambda_only, |f| f).await;
    function_with(&config, "fits", &role, |f| f.timeout(30).memory_size(1024)).await;

    let refused = |name: &'static str, event: EventType, wording: &'static str| {
        let config = config.clone();
        async move {
            let version = publish(&config, name).await;
            let mut distribution = simple_config(&format!("edge-{name}"), true, None);
            distribution.default_cache_behavior = Some(
                DefaultCacheBehavior::builder()
                    .target_origin_id("books")
                    .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
                    .cache_policy_id(CACHING_DISABLED)
                    .lambda_function_associations(lambda_associations(&[(
                        version.as_str(),
                        event,
                        false,
                    )]))
                    .build()
                    .expect("behavior"),
            );
            let result = cloudfront(&config)
                .create_distribution()
                .distribution_config(distribution)
                .send()
                .await;
            match (wording, result) {
                ("", Ok(_)) => {}
                ("", Err(e)) => panic!("{name}: refused: {:?}", e.into_service_error()),
                (_, Ok(_)) => panic!("{name}: accepted"),
                (_, Err(e)) => {
                    let e = e.into_service_error();
                    assert!(e.is_invalid_lambda_function_association(), "{name}: {e:?}");
                    let message = e.message().unwrap_or_default();
                    assert!(message.contains(wording), "{name}: {message}");
                }
            }
        }
    };
    refused(
        "with-env",
        EventType::OriginRequest,
        "environment variables",
    )
    .await;
    refused("slow", EventType::OriginRequest, "30 seconds").await;
    refused("viewer-slow", EventType::ViewerRequest, "5 seconds").await;
    refused("arm", EventType::OriginRequest, "x86_64").await;
    refused(
        "lambda-only",
        EventType::OriginRequest,
        "edgelambda.amazonaws.com",
    )
    .await;
    refused("fits", EventType::OriginRequest, "").await;
}

#[tokio::test]
async fn more_than_75_cache_behaviors_or_100_origins_exceed_the_quotas() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;

    let with_behaviors = |n: usize| {
        let mut c = simple_config(&format!("behaviors-{n}"), true, None);
        c.cache_behaviors = Some(
            CacheBehaviors::builder()
                .quantity(n as i32)
                .set_items(Some(
                    (0..n)
                        .map(|i| behavior(&format!("/api/{i}/*"), "books", None))
                        .collect(),
                ))
                .build()
                .expect("behaviors"),
        );
        c
    };
    create(&config, with_behaviors(75)).await;
    let err = cloudfront(&config)
        .create_distribution()
        .distribution_config(with_behaviors(76))
        .send()
        .await
        .expect_err("76 behaviors");
    assert!(err.into_service_error().is_too_many_cache_behaviors());

    let with_origins = |n: usize| {
        let mut c = simple_config(&format!("origins-{n}"), true, None);
        c.origins = Some(
            Origins::builder()
                .quantity(n as i32)
                .items(function_url_origin("books", None))
                .set_items(Some(
                    std::iter::once(function_url_origin("books", None))
                        .chain((1..n).map(|i| function_url_origin(&format!("fn-{i}"), None)))
                        .collect(),
                ))
                .build()
                .expect("origins"),
        );
        c
    };
    create(&config, with_origins(100)).await;
    let err = cloudfront(&config)
        .create_distribution()
        .distribution_config(with_origins(101))
        .send()
        .await
        .expect_err("101 origins");
    assert!(err.into_service_error().is_too_many_origins());
}

#[tokio::test]
async fn tags_are_set_at_creation_listed_added_and_removed() {
    use aws_sdk_cloudfront::types::{DistributionConfigWithTags, Tag, TagKeys, Tags};
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let cf = cloudfront(&config);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    let created = cf
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            DistributionConfigWithTags::builder()
                .distribution_config(simple_config("tagged", true, None))
                .tags(
                    Tags::builder()
                        .items(tag(
                            "urlguard.io/owner",
                            "urlguard/default/EdgeDistribution/books",
                        ))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateDistributionWithTags");
    let arn = created
        .distribution()
        .map(|d| d.arn().to_owned())
        .expect("ARN");
    let tags_of = |arn: String| {
        let cf = cf.clone();
        async move {
            cf.list_tags_for_resource()
                .resource(arn)
                .send()
                .await
                .expect("ListTagsForResource")
                .tags()
                .map(|t| t.items().to_vec())
                .unwrap_or_default()
        }
    };
    assert_eq!(
        tags_of(arn.clone()).await,
        [tag(
            "urlguard.io/owner",
            "urlguard/default/EdgeDistribution/books"
        )]
    );

    cf.tag_resource()
        .resource(&arn)
        .tags(Tags::builder().items(tag("team", "books & co")).build())
        .send()
        .await
        .expect("TagResource");
    assert_eq!(tags_of(arn.clone()).await.len(), 2);
    cf.untag_resource()
        .resource(&arn)
        .tag_keys(TagKeys::builder().items("urlguard.io/owner").build())
        .send()
        .await
        .expect("UntagResource");
    assert_eq!(tags_of(arn.clone()).await, [tag("team", "books & co")]);

    let missing = cf
        .list_tags_for_resource()
        .resource("arn:aws:cloudfront::123456789012:distribution/ENOSUCH0000000")
        .send()
        .await
        .expect_err("no such resource");
    assert!(missing.into_service_error().is_no_such_resource());
}

// ----------------------------------------------------- CloudFront invalidations

/// An `InvalidationBatch` of these paths under `reference`.
fn batch(reference: &str, paths: &[&str]) -> aws_sdk_cloudfront::types::InvalidationBatch {
    use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
    InvalidationBatch::builder()
        .caller_reference(reference)
        .paths(
            Paths::builder()
                .quantity(paths.len() as i32)
                .set_items(Some(paths.iter().map(|p| (*p).to_owned()).collect()))
                .build()
                .expect("paths"),
        )
        .build()
        .expect("batch")
}

/// `CreateInvalidation`: the invalidation's id and status, or the error
/// code.
async fn invalidate(
    config: &SdkConfig,
    distribution: &str,
    reference: &str,
    paths: &[&str],
) -> Result<(String, String), String> {
    cloudfront(config)
        .create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch(reference, paths))
        .send()
        .await
        .map(|out| {
            let i = out.invalidation().expect("invalidation");
            (i.id().to_owned(), i.status().to_owned())
        })
        .map_err(|e| e.code().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_invalidation_is_in_progress_then_completed_and_its_caller_reference_is_idempotent() {
    let bed = TestBed::start_with(TestBedOptions {
        invalidation_time: Duration::from_millis(400),
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config().await;
    let (id, _) = create(&config, simple_config("invalidations", true, None)).await;
    let (first, status) = invalidate(&config, &id, "r1", &["/index.html", "/assets/*"])
        .await
        .expect("CreateInvalidation");
    assert_eq!(status, "InProgress");
    assert!(first.starts_with('I') && first.len() == 14, "{first}");
    let in_progress = cloudfront(&config)
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect("GetDistribution");
    assert_eq!(
        in_progress
            .distribution()
            .map(|d| d.in_progress_invalidation_batches()),
        Some(1)
    );

    // The same reference and paths: the same invalidation, no new one.
    let (again, _) = invalidate(&config, &id, "r1", &["/index.html", "/assets/*"])
        .await
        .expect("same batch");
    assert_eq!(again, first);
    // The same reference with other paths is refused.
    assert_eq!(
        invalidate(&config, &id, "r1", &["/other"]).await,
        Err("InvalidationBatchAlreadyExists".to_owned())
    );
    let (second, _) = invalidate(&config, &id, "r2", &["/index.html"])
        .await
        .expect("another reference");

    let listed = cloudfront(&config)
        .list_invalidations()
        .distribution_id(&id)
        .send()
        .await
        .expect("ListInvalidations");
    let ids: Vec<&str> = listed
        .invalidation_list()
        .map(|l| l.items().iter().map(|s| s.id()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");

    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = cloudfront(&config)
        .get_invalidation()
        .distribution_id(&id)
        .id(&first)
        .send()
        .await
        .expect("GetInvalidation");
    let invalidation = got.invalidation().expect("invalidation");
    assert_eq!(invalidation.status(), "Completed");
    let batch = invalidation.invalidation_batch().expect("batch");
    assert_eq!(batch.caller_reference(), "r1");
    assert_eq!(
        batch.paths().map(|p| p.items().to_vec()),
        Some(vec!["/index.html".to_owned(), "/assets/*".to_owned()])
    );
    let missing = cloudfront(&config)
        .get_invalidation()
        .distribution_id(&id)
        .id("INOSUCHTHING00")
        .send()
        .await
        .expect_err("no such invalidation");
    assert_eq!(missing.code(), Some("NoSuchInvalidation"));
}

#[tokio::test]
async fn invalidation_paths_must_be_valid_and_the_distribution_must_exist() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let (id, _) = create(&config, simple_config("invalidation-paths", true, None)).await;
    for bad in ["index.html", "/a*/b", "/*.js"] {
        assert_eq!(
            invalidate(&config, &id, bad, &[bad]).await,
            Err("InvalidArgument".to_owned()),
            "{bad}"
        );
    }
    assert_eq!(
        invalidate(&config, "ENOSUCHDIST000", "r", &["/"]).await,
        Err("NoSuchDistribution".to_owned())
    );
}

#[tokio::test]
async fn paths_in_progress_are_limited_to_3000_files_and_15_wildcards() {
    let bed = TestBed::start_with(TestBedOptions {
        invalidation_time: Duration::from_secs(60),
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config().await;
    let (id, _) = create(&config, simple_config("invalidation-quota", true, None)).await;
    let wildcards: Vec<String> = (0..15).map(|i| format!("/w{i}/*")).collect();
    let wildcards: Vec<&str> = wildcards.iter().map(String::as_str).collect();
    invalidate(&config, &id, "w", &wildcards)
        .await
        .expect("15 wildcards");
    assert_eq!(
        invalidate(&config, &id, "w16", &["/w16/*"]).await,
        Err("TooManyInvalidationsInProgress".to_owned())
    );
    // Files are counted apart from wildcards.
    let files: Vec<String> = (0..3000).map(|i| format!("/f{i}")).collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    invalidate(&config, &id, "f", &files)
        .await
        .expect("3000 files beside 15 wildcards");
    assert_eq!(
        invalidate(&config, &id, "f3001", &["/f3001"]).await,
        Err("TooManyInvalidationsInProgress".to_owned())
    );
}

#[tokio::test]
async fn invalidations_are_authorized_on_the_distribution() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let (id, _) = create(&setup, simple_config("invalidation-iam", true, None)).await;
    bed.restrict(
        "AKIDREADINVALIDATIONS",
        &policy(serde_json::json!([{
            "Effect": "Allow",
            "Action": ["cloudfront:GetInvalidation", "cloudfront:ListInvalidations"],
            "Resource": format!("arn:aws:cloudfront::123456789012:distribution/{id}")
        }])),
    );
    let reader = bed.sdk_config_as("AKIDREADINVALIDATIONS").await;
    cloudfront(&reader)
        .list_invalidations()
        .distribution_id(&id)
        .send()
        .await
        .expect("ListInvalidations on the distribution");
    assert_eq!(
        invalidate(&reader, &id, "r", &["/"]).await,
        Err("AccessDenied".to_owned())
    );
    let checks = bed.authorizations();
    let denied = checks.last().expect("the denied check");
    assert_eq!(
        (denied.action.as_str(), denied.resource.as_str()),
        (
            "cloudfront:CreateInvalidation",
            format!("arn:aws:cloudfront::123456789012:distribution/{id}").as_str()
        )
    );
}

// ------------------------------------------------------- Lambda@Edge replicas

#[tokio::test]
async fn a_replicated_edge_version_cannot_be_deleted_until_the_linger_after_its_last_association_left()
 {
    let linger = Duration::from_secs(2);
    let bed = TestBed::start_with(TestBedOptions {
        replica_linger: linger,
        deploy_time: Duration::from_millis(200),
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config().await;
    let version = function_version(&config, "urlguard-edge-signer").await;
    let (first, first_etag) =
        create(&config, simple_config("replicas-1", true, Some(&version))).await;
    let (second, second_etag) =
        create(&config, simple_config("replicas-2", true, Some(&version))).await;

    let delete_version = || {
        lambda(&config)
            .delete_function()
            .function_name("urlguard-edge-signer")
            .qualifier("1")
            .send()
    };
    let expected = format!(
        "Lambda was unable to delete {version} because it is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas."
    );
    let err = delete_version().await.expect_err("associated");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    let err = err.into_service_error();
    assert!(err.is_invalid_parameter_value_exception(), "{err:?}");
    assert_eq!(err.message(), Some(expected.as_str()));
    let whole = lambda(&config)
        .delete_function()
        .function_name(version.rsplit_once(':').map(|(f, _)| f).expect("qualified"))
        .send()
        .await
        .expect_err("the whole function while a version is replicated");
    assert!(
        whole
            .into_service_error()
            .is_invalid_parameter_value_exception()
    );

    // Leaving one distribution is not enough: the other still associates it.
    cloudfront(&config)
        .update_distribution()
        .id(&first)
        .if_match(&first_etag)
        .distribution_config(simple_config("replicas-1", true, None))
        .send()
        .await
        .expect("drop the association from the first");
    tokio::time::sleep(linger + Duration::from_millis(200)).await;
    assert!(
        delete_version().await.is_err(),
        "still associated with the second"
    );

    // The last association leaves: replicas linger, then go.
    cloudfront(&config)
        .update_distribution()
        .id(&second)
        .if_match(&second_etag)
        .distribution_config(simple_config("replicas-2", true, None))
        .send()
        .await
        .expect("drop the association from the second");
    let left = Instant::now();
    let err = delete_version().await.expect_err("replicas linger");
    assert_eq!(err.into_service_error().message(), Some(expected.as_str()));
    while delete_version().await.is_err() {
        assert!(
            left.elapsed() < linger + Duration::from_secs(5),
            "replicas never went"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.elapsed() >= linger, "deleted before the linger passed");
    let versions = lambda(&config)
        .list_versions_by_function()
        .function_name("urlguard-edge-signer")
        .send()
        .await
        .expect("ListVersionsByFunction");
    assert!(versions.versions().iter().all(|v| v.version() != Some("1")));
    lambda(&config)
        .delete_function()
        .function_name("urlguard-edge-signer")
        .send()
        .await
        .expect("the function goes too");
}

// ------------------------------------------------------ Lambda gaps of moto

#[tokio::test]
async fn moto_alone_shows_the_lambda_gaps_the_emulator_corrects() {
    // Against plain moto, to keep the corrections honest: if a moto upgrade
    // closes a gap, this test says so.
    let bed = TestBed::start();
    let config = support::moto::sdk_config_for(&bed.moto.endpoint).await;
    function(&config, "plain").await;
    let l = lambda(&config);
    l.create_function_url_config()
        .function_name("plain")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("create");
    let read = l
        .get_function_url_config()
        .function_name("plain")
        .send()
        .await
        .expect("get");
    assert!(
        !read.function_url().ends_with('/'),
        "moto leaves out the URL's slash"
    );
    assert_ne!(
        read.invoke_mode(),
        Some(&InvokeMode::Buffered),
        "moto reads back \"Buffered\""
    );
    l.create_function_url_config()
        .function_name("plain")
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect("moto accepts a second CreateFunctionUrlConfig");
    l.update_function_url_config()
        .function_name("plain")
        .invoke_mode(InvokeMode::ResponseStream)
        .send()
        .await
        .expect("update");
    let read = l
        .get_function_url_config()
        .function_name("plain")
        .send()
        .await
        .expect("get");
    assert_ne!(
        read.invoke_mode(),
        Some(&InvokeMode::ResponseStream),
        "moto ignores InvokeMode on update"
    );
    for _ in 0..2 {
        l.add_permission()
            .function_name("plain")
            .statement_id("same-sid")
            .action("lambda:InvokeFunctionUrl")
            .principal("cloudfront.amazonaws.com")
            .send()
            .await
            .expect("moto accepts a duplicate statement id");
    }

    l.add_permission()
        .function_name("plain")
        .statement_id("with-condition")
        .action("lambda:InvokeFunctionUrl")
        .principal("cloudfront.amazonaws.com")
        .function_url_auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("AddPermission");
    let policy = l
        .get_policy()
        .function_name("plain")
        .send()
        .await
        .expect("GetPolicy");
    assert!(
        !policy
            .policy()
            .unwrap_or_default()
            .contains("lambda:FunctionUrlAuthType"),
        "moto drops the FunctionUrlAuthType condition"
    );
    use aws_sdk_lambda::types::Cors;
    l.update_function_url_config()
        .function_name("plain")
        .cors(Cors::builder().allow_origins("https://a.example").build())
        .send()
        .await
        .expect("set CORS");
    let cleared = l
        .update_function_url_config()
        .function_name("plain")
        .cors(Cors::builder().build())
        .send()
        .await
        .expect("clear CORS");
    assert!(cleared.cors().is_some(), "moto ignores an empty Cors");
}

#[tokio::test]
async fn a_second_function_url_config_is_resource_conflict() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "books-get").await;
    let l = lambda(&config);
    l.create_function_url_config()
        .function_name("books-get")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("first");
    let err = l
        .create_function_url_config()
        .function_name("books-get")
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect_err("second");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(409));
    assert!(err.into_service_error().is_resource_conflict_exception());
    let read = l
        .get_function_url_config()
        .function_name("books-get")
        .send()
        .await
        .expect("get");
    assert_eq!(
        read.auth_type(),
        &FunctionUrlAuthType::AwsIam,
        "the first config stands"
    );
}

#[tokio::test]
async fn invoke_mode_reads_back_as_declared_and_update_changes_it() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "books-stream").await;
    let l = lambda(&config);
    let created = l
        .create_function_url_config()
        .function_name("books-stream")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("create without InvokeMode");
    assert_eq!(created.invoke_mode(), Some(&InvokeMode::Buffered));
    let read = l
        .get_function_url_config()
        .function_name("books-stream")
        .send()
        .await
        .expect("get");
    assert_eq!(
        read.invoke_mode(),
        Some(&InvokeMode::Buffered),
        "the default is BUFFERED"
    );

    let updated = l
        .update_function_url_config()
        .function_name("books-stream")
        .invoke_mode(InvokeMode::ResponseStream)
        .send()
        .await
        .expect("update");
    assert_eq!(updated.invoke_mode(), Some(&InvokeMode::ResponseStream));
    let read = l
        .get_function_url_config()
        .function_name("books-stream")
        .send()
        .await
        .expect("get");
    assert_eq!(read.invoke_mode(), Some(&InvokeMode::ResponseStream));
    assert_eq!(read.auth_type(), &FunctionUrlAuthType::AwsIam);

    // An update that does not name the mode keeps it.
    l.update_function_url_config()
        .function_name("books-stream")
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect("update auth only");
    let read = l
        .get_function_url_config()
        .function_name("books-stream")
        .send()
        .await
        .expect("get");
    assert_eq!(read.invoke_mode(), Some(&InvokeMode::ResponseStream));

    // Deleted and created again with a declared mode.
    l.delete_function_url_config()
        .function_name("books-stream")
        .send()
        .await
        .expect("delete");
    let created = l
        .create_function_url_config()
        .function_name("books-stream")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .invoke_mode(InvokeMode::ResponseStream)
        .send()
        .await
        .expect("create with a mode");
    assert_eq!(created.invoke_mode(), Some(&InvokeMode::ResponseStream));
}

#[tokio::test]
async fn add_permission_with_an_existing_statement_id_is_resource_conflict() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "books-put").await;
    let add = |sid: &'static str| {
        lambda(&config)
            .add_permission()
            .function_name("books-put")
            .statement_id(sid)
            .action("lambda:InvokeFunctionUrl")
            .principal("cloudfront.amazonaws.com")
            .send()
    };
    add("urlguard-oac-url").await.expect("first statement");
    add("urlguard-oac-invoke")
        .await
        .expect("another statement id");
    let err = add("urlguard-oac-url")
        .await
        .expect_err("duplicate statement id");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(409));
    let err = err.into_service_error();
    assert!(err.is_resource_conflict_exception());
    assert!(
        err.message()
            .is_some_and(|m| m.contains("(urlguard-oac-url) provided already exists"))
    );
    let policy = lambda(&config)
        .get_policy()
        .function_name("books-put")
        .send()
        .await
        .expect("policy");
    assert_eq!(
        policy
            .policy()
            .map(|p| p.matches("urlguard-oac-url").count()),
        Some(1)
    );
}

#[tokio::test]
async fn function_urls_end_with_a_slash_and_an_empty_cors_clears_it() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "books-list").await;
    let l = lambda(&config);
    let created = l
        .create_function_url_config()
        .function_name("books-list")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("create");
    let url = created.function_url();
    assert!(
        url.starts_with("https://") && url.ends_with(".lambda-url.us-east-1.on.aws/"),
        "{url}"
    );
    let read = l
        .get_function_url_config()
        .function_name("books-list")
        .send()
        .await
        .expect("get");
    assert_eq!(read.function_url(), url);

    use aws_sdk_lambda::types::Cors;
    let cors = Cors::builder()
        .allow_origins("https://books.example.com")
        .allow_methods("GET")
        .max_age(300)
        .build();
    let with_cors = l
        .update_function_url_config()
        .function_name("books-list")
        .cors(cors.clone())
        .send()
        .await
        .expect("set CORS");
    assert_eq!(with_cors.cors(), Some(&cors));
    assert!(with_cors.function_url().ends_with('/'));
    let cleared = l
        .update_function_url_config()
        .function_name("books-list")
        .cors(Cors::builder().build())
        .send()
        .await
        .expect("clear CORS");
    assert_eq!(cleared.cors(), None);
    let read = l
        .get_function_url_config()
        .function_name("books-list")
        .send()
        .await
        .expect("get");
    assert_eq!(read.cors(), None, "an empty Cors clears it");
    l.update_function_url_config()
        .function_name("books-list")
        .cors(cors.clone())
        .send()
        .await
        .expect("set CORS again");
    let read = l
        .get_function_url_config()
        .function_name("books-list")
        .send()
        .await
        .expect("get");
    assert_eq!(read.cors(), Some(&cors));
}

#[tokio::test]
async fn permissions_read_back_with_their_function_url_conditions() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "books-list").await;
    let l = lambda(&config);
    let distribution = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE";
    l.add_permission()
        .function_name("books-list")
        .statement_id("urlguard-url")
        .action("lambda:InvokeFunctionUrl")
        .principal("cloudfront.amazonaws.com")
        .source_arn(distribution)
        .function_url_auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("AddPermission InvokeFunctionUrl");
    let added = l
        .add_permission()
        .function_name("books-list")
        .statement_id("urlguard-invoke")
        .action("lambda:InvokeFunction")
        .principal("210987654321")
        .invoked_via_function_url(true)
        .send()
        .await
        .expect("AddPermission InvokeFunction");
    let statement: serde_json::Value =
        serde_json::from_str(added.statement().expect("statement")).expect("JSON");
    assert_eq!(
        statement["Condition"],
        serde_json::json!({"Bool": {"lambda:InvokedViaFunctionUrl": "true"}})
    );

    let policy = l
        .get_policy()
        .function_name("books-list")
        .send()
        .await
        .expect("GetPolicy");
    let policy: serde_json::Value =
        serde_json::from_str(policy.policy().expect("policy")).expect("JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(
        statements[0]["Condition"],
        serde_json::json!({
            "ArnLike": {"AWS:SourceArn": distribution},
            "StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}
        })
    );
    assert_eq!(
        statements[1]["Principal"],
        serde_json::json!({"AWS": "arn:aws:iam::210987654321:root"})
    );
    assert!(statements.iter().all(
        |s| s.get("FunctionUrlAuthType").is_none() && s.get("InvokedViaFunctionUrl").is_none()
    ));
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn throttling_uses_each_services_own_error_code_and_shape() {
    use aws_sdk_sts::error::ProvideErrorMetadata as _;
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    bed.set_faults(&[
        FaultRule::next("cloudfront", "ListDistributions", FaultKind::Throttle, 1),
        FaultRule::next("lambda", "ListFunctions", FaultKind::Throttle, 1),
        FaultRule::next("ssm", "DescribeParameters", FaultKind::Throttle, 1),
        FaultRule::next("iam", "ListRoles", FaultKind::Throttle, 1),
        FaultRule::next("sts", "GetCallerIdentity", FaultKind::Throttle, 1),
    ]);
    let status_and_code =
        |status: Option<u16>, code: Option<&str>| (status, code.map(str::to_owned));

    let e = cloudfront(&config)
        .list_distributions()
        .send()
        .await
        .expect_err("throttled");
    let got = status_and_code(e.raw_response().map(|r| r.status().as_u16()), e.code());
    assert_eq!(got, (Some(400), Some("Throttling".into())));

    let e = lambda(&config)
        .list_functions()
        .send()
        .await
        .expect_err("throttled");
    let got = status_and_code(e.raw_response().map(|r| r.status().as_u16()), e.code());
    assert_eq!(got, (Some(429), Some("TooManyRequestsException".into())));
    assert!(e.into_service_error().is_too_many_requests_exception());

    let ssm = aws_sdk_ssm::Client::new(&config);
    let e = ssm
        .describe_parameters()
        .send()
        .await
        .expect_err("throttled");
    let got = status_and_code(e.raw_response().map(|r| r.status().as_u16()), e.code());
    assert_eq!(got, (Some(400), Some("ThrottlingException".into())));

    let iam = aws_sdk_iam::Client::new(&config);
    let e = iam.list_roles().send().await.expect_err("throttled");
    let got = status_and_code(e.raw_response().map(|r| r.status().as_u16()), e.code());
    assert_eq!(got, (Some(400), Some("Throttling".into())));

    let sts = aws_sdk_sts::Client::new(&config);
    let e = sts
        .get_caller_identity()
        .send()
        .await
        .expect_err("throttled");
    let got = status_and_code(e.raw_response().map(|r| r.status().as_u16()), e.code());
    assert_eq!(got, (Some(400), Some("Throttling".into())));

    // Each rule is spent: the next calls pass.
    cloudfront(&config)
        .list_distributions()
        .send()
        .await
        .expect("after the fault");
    lambda(&config)
        .list_functions()
        .send()
        .await
        .expect("after the fault");
    ssm.describe_parameters()
        .send()
        .await
        .expect("after the fault");
    iam.list_roles().send().await.expect("after the fault");
    sts.get_caller_identity()
        .send()
        .await
        .expect("after the fault");

    let calls = bed.calls();
    for key in [
        "cloudfront:ListDistributions",
        "lambda:ListFunctions",
        "ssm:DescribeParameters",
        "iam:ListRoles",
        "sts:GetCallerIdentity",
    ] {
        assert_eq!((calls.count(key), calls.faults_of(key)), (2, 1), "{key}");
    }
    assert!(
        calls
            .rules
            .iter()
            .all(|r| r.injected == 1 && r.matched == 2)
    );
}

#[tokio::test]
async fn the_sdk_retries_throttling_and_each_attempt_shows_on_the_wire() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    bed.set_faults(&[FaultRule::next(
        "sts",
        "GetCallerIdentity",
        FaultKind::Throttle,
        2,
    )]);
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("the third attempt passes");
    assert_eq!(identity.account(), Some("123456789012"));
    let calls = bed.calls();
    assert_eq!(calls.count("sts:GetCallerIdentity"), 3);
    assert_eq!(calls.faults_of("sts:GetCallerIdentity"), 2);
    let log = bed.log();
    let faults: Vec<Option<&str>> = log.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(faults, [Some("throttle"), Some("throttle"), None]);
}

#[tokio::test]
async fn a_fraction_fails_a_deterministic_share_of_the_calls() {
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    let sts = aws_sdk_sts::Client::new(&config);
    let outcomes = |n: usize| {
        let sts = sts.clone();
        async move {
            let mut failed = Vec::new();
            for _ in 0..n {
                failed.push(sts.get_caller_identity().send().await.is_err());
            }
            failed
        }
    };

    bed.set_faults(&[FaultRule::fraction("sts", "*", FaultKind::Http503, 0.5)]);
    assert_eq!(outcomes(6).await, [false, true, false, true, false, true]);

    let seeded =
        FaultRule::fraction("sts", "GetCallerIdentity", FaultKind::Throttle, 0.3).with_seed(7);
    bed.set_faults(std::slice::from_ref(&seeded));
    let first = outcomes(20).await;
    bed.set_faults(std::slice::from_ref(&seeded));
    let second = outcomes(20).await;
    assert_eq!(first, second, "the same seed fails the same calls");
    assert!(
        first.iter().any(|f| *f) && first.iter().any(|f| !*f),
        "{first:?}"
    );

    bed.clear_faults();
    assert_eq!(outcomes(3).await, [false, false, false]);
}

#[tokio::test]
async fn http_500_and_503_faults_reach_the_caller_with_their_status() {
    use aws_sdk_lambda::error::ProvideErrorMetadata as _;
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    bed.set_faults(&[
        FaultRule::next("lambda", "ListFunctions", FaultKind::Http500, 1),
        FaultRule::next("cloudfront", "ListDistributions", FaultKind::Http503, 1),
    ]);
    let e = lambda(&config)
        .list_functions()
        .send()
        .await
        .expect_err("500");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(e.code(), Some("ServiceException"));
    let e = cloudfront(&config)
        .list_distributions()
        .send()
        .await
        .expect_err("503");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(e.code(), Some("ServiceUnavailable"));

    // With the SDK's standard retries a single 5xx is invisible.
    bed.set_faults(&[FaultRule::next(
        "lambda",
        "ListFunctions",
        FaultKind::Http500,
        1,
    )]);
    lambda(&bed.sdk_config().await)
        .list_functions()
        .send()
        .await
        .expect("retried");
    assert_eq!(bed.calls().count("lambda:ListFunctions"), 3);
}

#[tokio::test]
async fn drop_after_write_does_the_write_but_the_answer_is_lost() {
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    bed.set_faults(&[
        FaultRule::next(
            "cloudfront",
            "CreateDistribution",
            FaultKind::DropAfterWrite,
            1,
        ),
        FaultRule::next("ssm", "PutParameter", FaultKind::DropAfterWrite, 1),
    ]);

    let lost = cloudfront(&config)
        .create_distribution()
        .distribution_config(simple_config("lost-answer", true, None))
        .send()
        .await
        .expect_err("the answer is dropped");
    assert!(
        lost.raw_response().is_none(),
        "no response at all: {lost:?}"
    );
    let list = cloudfront(&config)
        .list_distributions()
        .send()
        .await
        .expect("List");
    let items = list
        .distribution_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "the distribution was created all the same");

    // A retry with the same CallerReference finds it.
    let again = cloudfront(&config)
        .create_distribution()
        .distribution_config(simple_config("lost-answer", true, None))
        .send()
        .await
        .expect_err("already exists");
    let again = again.into_service_error();
    assert!(again.is_distribution_already_exists());
    assert!(again.message().is_some_and(|m| m.ends_with(items[0].id())));

    // Through moto too: the parameter is written though the caller saw an error.
    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.put_parameter()
        .name("/books/url")
        .value("https://example.lambda-url.eu-west-1.on.aws/")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect_err("the answer is dropped");
    let read = ssm
        .get_parameter()
        .name("/books/url")
        .send()
        .await
        .expect("written");
    assert_eq!(
        read.parameter().and_then(|p| p.value()),
        Some("https://example.lambda-url.eu-west-1.on.aws/")
    );

    // With the SDK's standard retries, a lost answer is a transient error:
    // the SDK sends the create again, and the retry meets the first write.
    bed.set_faults(&[FaultRule::next(
        "cloudfront",
        "CreateDistribution",
        FaultKind::DropAfterWrite,
        1,
    )]);
    let retried = cloudfront(&bed.sdk_config().await)
        .create_distribution()
        .distribution_config(simple_config("lost-then-retried", true, None))
        .send()
        .await
        .expect_err("the retry finds the first write");
    assert!(
        retried
            .into_service_error()
            .is_distribution_already_exists()
    );

    let log = bed.log();
    let dropped: Vec<&str> = log
        .iter()
        .filter(|r| r.fault.as_deref() == Some("drop_after_write"))
        .map(|r| {
            assert_eq!(r.status, None);
            r.call.as_str()
        })
        .collect();
    assert_eq!(
        dropped,
        [
            "cloudfront:CreateDistribution",
            "ssm:PutParameter",
            "cloudfront:CreateDistribution",
        ]
    );
}

#[tokio::test]
async fn faults_set_at_start_apply_from_the_first_call() {
    let bed = TestBed::start_with(TestBedOptions {
        faults: vec![
            "sts:GetCallerIdentity:throttle:count=1"
                .parse()
                .expect("rule"),
        ],
        ..TestBedOptions::default()
    });
    let config = bed.sdk_config_without_retries().await;
    let sts = aws_sdk_sts::Client::new(&config);
    assert!(sts.get_caller_identity().send().await.is_err());
    sts.get_caller_identity().send().await.expect("second call");
}

#[tokio::test]
async fn wire_counts_name_every_call_by_service_and_operation() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    function(&config, "counted").await; // iam:CreateRole + lambda:CreateFunction
    create(&config, simple_config("counted", true, None)).await;
    aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("sts");
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name("/counted")
        .value("1")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("ssm");
    lambda(&config)
        .create_function_url_config()
        .function_name("counted")
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("url");

    let calls = bed.calls();
    let expected = [
        ("cloudfront:CreateDistribution", 1),
        ("iam:CreateRole", 1),
        ("lambda:CreateFunction", 1),
        ("lambda:CreateFunctionUrlConfig", 1),
        ("ssm:PutParameter", 1),
        ("sts:GetCallerIdentity", 1),
    ];
    let got: Vec<(&str, u64)> = calls.calls.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(got, expected);
    assert!(calls.faults.is_empty());
    let log: Vec<String> = bed.log().into_iter().map(|r| r.call).collect();
    assert_eq!(
        log,
        [
            "iam:CreateRole",
            "lambda:CreateFunction",
            "cloudfront:CreateDistribution",
            "sts:GetCallerIdentity",
            "ssm:PutParameter",
            "lambda:CreateFunctionUrlConfig",
        ]
    );
    bed.reset_counts();
    assert!(bed.calls().calls.is_empty());
}

// ------------------------------------------------------ API rate quotas

/// A bed enforcing AWS's rate quotas (`rates`) from the first call.
fn bed_with_quotas(rates: QuotaRates) -> TestBed {
    TestBed::start_with(TestBedOptions {
        rate_quotas: Some(rates),
        ..TestBedOptions::default()
    })
}

/// Runs `calls` at once; how many succeeded, the (status, code, message)
/// of each failure, and how long they all took.
async fn burst<T, E, F>(calls: Vec<F>) -> (usize, Vec<(u16, String, String)>, Duration)
where
    F: std::future::Future<Output = Result<T, aws_sdk_lambda::error::SdkError<E>>>,
    E: ProvideErrorMetadata,
{
    let started = Instant::now();
    let results = futures::future::join_all(calls).await;
    let elapsed = started.elapsed();
    let mut ok = 0;
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(_) => ok += 1,
            Err(e) => failures.push((
                e.raw_response().map_or(0, |r| r.status().as_u16()),
                e.code().unwrap_or("?").to_owned(),
                e.message().unwrap_or("").to_owned(),
            )),
        }
    }
    (ok, failures, elapsed)
}

/// At most this many of a burst pass a bucket of `rate` per second that
/// was full when the burst began `elapsed` ago (plus one for rounding).
fn admissible(rate: f64, elapsed: Duration) -> usize {
    (rate.max(1.0) + rate * elapsed.as_secs_f64()).floor() as usize + 1
}

#[tokio::test]
async fn a_burst_over_lambdas_control_plane_quota_is_throttled_and_a_rate_under_it_is_not() {
    let bed = bed_with_quotas(QuotaRates::aws());
    let config = in_region(&bed.sdk_config_without_retries().await, "eu-west-1");
    let client = lambda(&config);

    // 45 control-plane calls at once against 15 requests/s.
    let calls = (0..45).map(|_| client.list_functions().send()).collect();
    let (ok, throttled, elapsed) = burst(calls).await;
    assert!(
        admissible(15.0, elapsed) < 45,
        "the burst took {elapsed:?}: too slow to go over 15/s"
    );
    assert!(
        ok >= 15,
        "a full bucket admits a second's worth: {ok} passed"
    );
    assert!(
        ok <= admissible(15.0, elapsed),
        "{ok} passed in {elapsed:?} at 15/s"
    );
    assert_eq!(throttled.len(), 45 - ok);
    for failure in &throttled {
        assert_eq!(
            failure,
            &(
                429,
                "TooManyRequestsException".to_owned(),
                "Rate exceeded".to_owned()
            )
        );
    }

    // The quota is per region: us-east-1 has its own.
    lambda(&in_region(&config, "us-east-1"))
        .list_functions()
        .send()
        .await
        .expect("another region's quota is untouched");

    // Counted on the wire, per operation and per second.
    let calls = bed.calls();
    assert_eq!(
        calls.throttled_of("lambda:ListFunctions"),
        throttled.len() as u64
    );
    assert_eq!(calls.count("lambda:ListFunctions"), 46);
    let rates = bed.rates();
    let seconds = rates.elapsed_seconds.ceil() as usize + 1;
    assert_eq!(
        rates.throttled_between("lambda@eu-west-1", 0, seconds),
        throttled.len() as u64
    );
    assert_eq!(rates.calls_between("lambda@eu-west-1", 0, seconds), 45);
    assert_eq!(rates.calls_between("lambda@us-east-1", 0, seconds), 1);
    assert_eq!(rates.enforced.get("lambda"), Some(&15.0));

    // After a second's rest, 10 calls a second for two seconds all pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..20 {
        client
            .list_functions()
            .send()
            .await
            .expect("under the quota, nothing is throttled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        bed.calls().throttled_of("lambda:ListFunctions"),
        throttled.len() as u64
    );
}

#[tokio::test]
async fn get_function_and_get_policy_have_buckets_of_their_own() {
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    function(&config, "quota-fn").await;
    bed.set_rate_quotas(Some(&QuotaRates::aws()));
    let client = lambda(&config);

    // The rest of the control plane is spent...
    let calls = (0..40).map(|_| client.list_functions().send()).collect();
    let (ok, throttled, elapsed) = burst(calls).await;
    assert!(admissible(15.0, elapsed) < 40, "the burst took {elapsed:?}");
    assert!(!throttled.is_empty() && ok <= admissible(15.0, elapsed));

    // ... and yet 60 GetFunction calls at once pass (100 requests/s),
    let get_started = Instant::now();
    let calls = (0..60)
        .map(|_| client.get_function().function_name("quota-fn").send())
        .collect();
    let (ok, failures, _) = burst(calls).await;
    assert_eq!((ok, failures), (60, Vec::new()));
    // until they too go over their own quota.
    let calls = (0..150)
        .map(|_| client.get_function().function_name("quota-fn").send())
        .collect();
    let (ok, failures, _) = burst(calls).await;
    let elapsed = get_started.elapsed();
    assert!(
        admissible(100.0, elapsed) < 210,
        "210 GetFunction calls took {elapsed:?}: too slow to go over 100/s"
    );
    assert!(
        ok + 60 <= admissible(100.0, elapsed),
        "{} passed in {elapsed:?}",
        ok + 60
    );
    assert!(
        failures
            .iter()
            .all(|(status, code, _)| *status == 429 && code == "TooManyRequestsException")
    );

    // GetPolicy counts against its own 15/s (the function has no policy:
    // Lambda answers ResourceNotFoundException, not a throttle).
    let calls = (0..10)
        .map(|_| client.get_policy().function_name("quota-fn").send())
        .collect();
    let (_, failures, _) = burst(calls).await;
    assert_eq!(failures.len(), 10);
    assert!(
        failures
            .iter()
            .all(|(_, code, _)| code == "ResourceNotFoundException"),
        "{failures:?}"
    );
    assert_eq!(bed.calls().throttled_of("lambda:GetPolicy"), 0);
}

#[tokio::test]
async fn ssm_throttles_as_ssm_does_and_the_quotas_can_be_lifted() {
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    let ssm = aws_sdk_ssm::Client::new(&config);
    ssm.put_parameter()
        .name("/quota/p")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    // Parameter Store at 2 transactions/s instead of 40, for a short test.
    let rates = QuotaRates::aws().with("ssm", 2.0).expect("a quota");
    bed.set_rate_quotas(Some(&rates));

    let started = Instant::now();
    let results =
        futures::future::join_all((0..10).map(|_| ssm.get_parameter().name("/quota/p").send()))
            .await;
    let elapsed = started.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(
        ok >= 2 && ok <= admissible(2.0, elapsed),
        "{ok} passed in {elapsed:?}"
    );
    for e in results.into_iter().filter_map(Result::err) {
        let status = e.raw_response().map(|r| r.status().as_u16());
        assert_eq!(
            (status, e.code(), e.message()),
            (
                Some(400),
                Some("ThrottlingException"),
                Some("Rate exceeded")
            )
        );
    }
    assert_eq!(bed.calls().throttled_of("ssm:GetParameter"), 10 - ok as u64);

    // Lifted: nothing is throttled any more.
    bed.set_rate_quotas(None);
    let results =
        futures::future::join_all((0..10).map(|_| ssm.get_parameter().name("/quota/p").send()))
            .await;
    assert!(results.iter().all(Result::is_ok));
    assert!(bed.rates().enforced.is_empty());
}

// -------------------------------------------------------------------- IAM

/// An identity policy of these statements.
fn policy(statements: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

/// HTTP status, error code and message of a refused SDK call.
fn refusal<E: ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> (u16, String, String) {
    (
        e.raw_response().map_or(0, |r| r.status().as_u16()),
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

/// `config` signs as a key allowed `cloudfront:List*` only: it lists origin
/// access controls, and creating one is refused as CloudFront refuses it;
/// the refusal's message.
async fn lists_but_cannot_create(config: &SdkConfig, name: &str) -> String {
    cloudfront(config)
        .list_origin_access_controls()
        .send()
        .await
        .expect("allowed by cloudfront:List*");
    let e = cloudfront(config)
        .create_origin_access_control()
        .origin_access_control_config(oac_config(name))
        .send()
        .await
        .expect_err("only cloudfront:List* is allowed");
    let (status, code, message) = refusal(&e);
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    message
}

/// `CreateDistributionWithTags` with one `urlguard.io/owner` tag.
async fn create_tagged(
    config: &SdkConfig,
    distribution: DistributionConfig,
    owner: &str,
) -> Result<String, (u16, String, String)> {
    use aws_sdk_cloudfront::types::{DistributionConfigWithTags, Tag, Tags};
    let tag = Tag::builder()
        .key("urlguard.io/owner")
        .value(owner)
        .build()
        .expect("tag");
    cloudfront(config)
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            DistributionConfigWithTags::builder()
                .distribution_config(distribution)
                .tags(Tags::builder().items(tag).build())
                .build(),
        )
        .send()
        .await
        .map(|out| out.distribution().map(|d| d.id().to_owned()).expect("id"))
        .map_err(|e| refusal(&e))
}

/// Reads a distribution's config (as the unrestricted key), lets `change`
/// edit it, and writes it back as `writer`.
async fn update_as(
    reader: &SdkConfig,
    writer: &SdkConfig,
    id: &str,
    change: impl FnOnce(&mut DistributionConfig),
) -> Result<(), (u16, String, String)> {
    let current = cloudfront(reader)
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .expect("GetDistributionConfig");
    let mut edited = current.distribution_config().cloned().expect("config");
    change(&mut edited);
    cloudfront(writer)
        .update_distribution()
        .id(id)
        .if_match(current.e_tag().expect("ETag"))
        .distribution_config(edited)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| refusal(&e))
}

#[tokio::test]
async fn an_unknown_access_key_is_unrestricted_and_a_restricted_one_is_refused_as_aws_refuses() {
    let bed = TestBed::start();
    bed.restrict(
        "AKIDLISTONLY",
        &policy(
            serde_json::json!([{"Effect": "Allow", "Action": "cloudfront:List*", "Resource": "*"}]),
        ),
    );
    let setup = bed.sdk_config().await;
    origin_access_control(&setup, "setup-is-unrestricted").await;
    let other = bed.sdk_config_as("AKIDNOPOLICY").await;
    origin_access_control(&other, "unknown-keys-too").await;

    let restricted = bed.sdk_config_as("AKIDLISTONLY").await;
    let message = lists_but_cannot_create(&restricted, "refused").await;
    assert_eq!(
        message,
        "User: arn:aws:iam::123456789012:user/AKIDLISTONLY is not authorized to perform: cloudfront:CreateOriginAccessControl on resource: * because no identity-based policy allows the cloudfront:CreateOriginAccessControl action"
    );
    let last = bed.log().pop().expect("the denied call is in the ledger");
    assert_eq!(
        (last.call.as_str(), last.status),
        ("cloudfront:CreateOriginAccessControl", Some(403))
    );
    let checks = bed.authorizations();
    assert_eq!(
        checks.len(),
        2,
        "only the restricted key's calls: {checks:#?}"
    );
    assert!(checks.iter().all(|c| c.access_key == "AKIDLISTONLY"));
}

#[tokio::test]
async fn create_distribution_and_create_origin_access_control_need_resource_star() {
    let bed = TestBed::start();
    let key = "AKIDNAMESARNS";
    // As a policy naming ARNs would have it: no match for actions that have
    // no resource type.
    bed.restrict(
        key,
        &policy(serde_json::json!([{
            "Effect": "Allow",
            "Action": ["cloudfront:CreateDistribution", "cloudfront:CreateOriginAccessControl"],
            "Resource": ["arn:aws:cloudfront::*:distribution/*", "arn:aws:cloudfront::*:origin-access-control/*"]
        }])),
    );
    let as_key = bed.sdk_config_as(key).await;
    let e = cloudfront(&as_key)
        .create_origin_access_control()
        .origin_access_control_config(oac_config("named"))
        .send()
        .await
        .expect_err("ARNs do not match CreateOriginAccessControl");
    let (status, code, message) = refusal(&e);
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains("cloudfront:CreateOriginAccessControl on resource: *"),
        "{message}"
    );
    let e = cloudfront(&as_key)
        .create_distribution()
        .distribution_config(simple_config("named", true, None))
        .send()
        .await
        .expect_err("ARNs do not match CreateDistribution");
    let (status, code, message) = refusal(&e);
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains("cloudfront:CreateDistribution on resource: *"),
        "{message}"
    );

    bed.restrict(
        key,
        &policy(serde_json::json!([{
            "Effect": "Allow",
            "Action": ["cloudfront:CreateDistribution", "cloudfront:CreateOriginAccessControl"],
            "Resource": "*"
        }])),
    );
    origin_access_control(&as_key, "star").await;
    create(&as_key, simple_config("star", true, None)).await;
}

#[tokio::test]
async fn get_function_answers_without_tags_unless_list_tags_is_allowed() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let role = edge_role(&setup, "tagged-role").await;
    function_with(&setup, "tagged", &role, |f| {
        f.tags("urlguard.io/owner", "urlguard/x")
    })
    .await;
    let key = "AKIDREADER";
    let as_key = bed.sdk_config_as(key).await;
    let get = || async {
        lambda(&as_key)
            .get_function()
            .function_name("tagged")
            .send()
            .await
            .expect("GetFunction is allowed")
            .tags()
            .cloned()
            .unwrap_or_default()
    };

    bed.restrict(
        key,
        &policy(serde_json::json!([{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "arn:aws:lambda:*:*:function:*"}])),
    );
    assert!(get().await.is_empty(), "Tags only with lambda:ListTags");
    let list_tags = bed
        .authorizations()
        .into_iter()
        .find(|c| c.action == "lambda:ListTags")
        .expect("ListTags was checked");
    assert!(!list_tags.required);
    assert_eq!(list_tags.decision, aws_emulator::Decision::ImplicitDeny);

    bed.restrict(
        key,
        &policy(serde_json::json!([{"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListTags"], "Resource": "arn:aws:lambda:*:*:function:*"}])),
    );
    assert_eq!(
        get().await.get("urlguard.io/owner").map(String::as_str),
        Some("urlguard/x")
    );
}

#[tokio::test]
async fn an_edge_association_needs_get_function_enable_replication_and_once_the_replicator_role() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let version = function_version(&setup, "edge-signer").await;
    let key = "AKIDEDGE";
    let as_key = bed.sdk_config_as(key).await;
    let create_and_update = serde_json::json!({"Effect": "Allow", "Action": ["cloudfront:CreateDistribution", "cloudfront:UpdateDistribution"], "Resource": "*"});
    let get_function = serde_json::json!({"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "arn:aws:lambda:us-east-1:*:function:edge-*:*"});
    let enable = serde_json::json!({"Effect": "Allow", "Action": "lambda:EnableReplication*", "Resource": "arn:aws:lambda:us-east-1:*:function:edge-*:*"});
    let replicator = serde_json::json!({
        "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
        "Resource": "arn:aws:iam::*:role/aws-service-role/replicator.lambda.amazonaws.com/AWSServiceRoleForLambdaReplicator",
        "Condition": {"StringLike": {"iam:AWSServiceName": "replicator.lambda.amazonaws.com"}}
    });
    let refused = |statements: serde_json::Value, reference: &'static str| {
        bed.restrict(key, &policy(statements));
        let as_key = as_key.clone();
        let version = version.clone();
        async move {
            let e = cloudfront(&as_key)
                .create_distribution()
                .distribution_config(simple_config(reference, true, Some(&version)))
                .send()
                .await
                .expect_err("refused");
            let (status, code, message) = refusal(&e);
            assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
            message
        }
    };
    let refused = &refused;
    let message = refused(serde_json::json!([create_and_update]), "edge-1").await;
    assert!(
        message.contains(&format!("lambda:GetFunction on resource: {version}")),
        "{message}"
    );
    let message = refused(
        serde_json::json!([create_and_update, get_function]),
        "edge-2",
    )
    .await;
    assert!(
        message.contains(&format!("lambda:EnableReplication on resource: {version}")),
        "{message}"
    );
    let message = refused(
        serde_json::json!([create_and_update, get_function, enable]),
        "edge-3",
    )
    .await;
    assert!(
        message.contains("iam:CreateServiceLinkedRole on resource: arn:aws:iam::123456789012:role/aws-service-role/replicator.lambda.amazonaws.com/AWSServiceRoleForLambdaReplicator"),
        "{message}"
    );

    bed.restrict(
        key,
        &policy(serde_json::json!([
            create_and_update,
            get_function,
            enable,
            replicator
        ])),
    );
    let (first, _) = create(&as_key, simple_config("edge-4", true, Some(&version))).await;
    // The replicator's role exists now: not asked for again.
    bed.restrict(
        key,
        &policy(serde_json::json!([create_and_update, get_function, enable])),
    );
    create(&as_key, simple_config("edge-5", true, Some(&version))).await;

    // Removing the association needs DisableReplication on the version.
    let e = update_as(&setup, &as_key, &first, |c| c.cache_behaviors = None).await;
    let (status, _, message) = e.expect_err("DisableReplication is not allowed");
    assert_eq!(status, 403);
    assert!(
        message.contains(&format!("lambda:DisableReplication on resource: {version}")),
        "{message}"
    );
    let disable = serde_json::json!({"Effect": "Allow", "Action": "lambda:DisableReplication*", "Resource": "arn:aws:lambda:us-east-1:*:function:edge-*:*"});
    bed.restrict(
        key,
        &policy(serde_json::json!([
            create_and_update,
            get_function,
            enable,
            disable
        ])),
    );
    update_as(&setup, &as_key, &first, |c| c.cache_behaviors = None)
        .await
        .expect("allowed with lambda:DisableReplication*");
}

#[tokio::test]
async fn a_logging_distribution_needs_the_s3_acl_permissions_on_its_log_bucket() {
    let bed = TestBed::start();
    let key = "AKIDLOGGING";
    let as_key = bed.sdk_config_as(key).await;
    let logging = || {
        let mut config = simple_config("logs", true, None);
        config.logging = Some(
            LoggingConfig::builder()
                .enabled(true)
                .include_cookies(false)
                .bucket("books-logs.s3.amazonaws.com")
                .prefix("cloudfront/")
                .build(),
        );
        config
    };
    let create_only = serde_json::json!({"Effect": "Allow", "Action": "cloudfront:CreateDistribution", "Resource": "*"});
    bed.restrict(key, &policy(serde_json::json!([create_only])));
    let e = cloudfront(&as_key)
        .create_distribution()
        .distribution_config(logging())
        .send()
        .await
        .expect_err("no s3 ACL permissions");
    let (status, code, message) = refusal(&e);
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains("s3:GetBucketAcl on resource: arn:aws:s3:::books-logs"),
        "{message}"
    );

    let acl = serde_json::json!({"Effect": "Allow", "Action": ["s3:GetBucketAcl", "s3:PutBucketAcl"], "Resource": "arn:aws:s3:::books-logs"});
    bed.restrict(key, &policy(serde_json::json!([create_only, acl])));
    create(&as_key, logging()).await;
    // Without logging, no S3 permission is asked for.
    bed.restrict(key, &policy(serde_json::json!([create_only])));
    create(&as_key, simple_config("no-logs", true, None)).await;
}

#[tokio::test]
async fn pass_role_is_allowed_only_when_iam_passed_to_service_matches() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let role = edge_role(&setup, "app-role").await;
    let key = "AKIDDEPLOYER";
    let as_key = bed.sdk_config_as(key).await;
    let pass_to = |service: &str| {
        policy(serde_json::json!([
            {"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "arn:aws:lambda:*:*:function:*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app-*",
             "Condition": {"StringEquals": {"iam:PassedToService": service}}}
        ]))
    };
    bed.restrict(key, &pass_to("ec2.amazonaws.com"));
    let e = lambda(&as_key)
        .create_function()
        .function_name("passes-role")
        .runtime(Runtime::Nodejs24x)
        .role(&role)
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(tiny_zip(
                    "index.mjs",
                    b"export const handler = async () => ({});\n",
                )))
                .build(),
        )
        .send()
        .await
        .expect_err("PassRole to Lambda is not allowed");
    let (status, code, message) = refusal(&e);
    assert_eq!(
        (status, code.as_str()),
        (403, "AccessDeniedException"),
        "{message}"
    );
    assert!(
        message.contains(&format!("iam:PassRole on resource: {role}")),
        "{message}"
    );

    bed.restrict(key, &pass_to("lambda.amazonaws.com"));
    function_with(&as_key, "passes-role", &role, |f| f).await;
}

#[tokio::test]
async fn request_tag_and_resource_tag_conditions_are_evaluated() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let key = "AKIDTEAMA";
    let as_key = bed.sdk_config_as(key).await;
    bed.restrict(
        key,
        &policy(serde_json::json!([
            {"Effect": "Allow", "Action": "cloudfront:CreateDistribution", "Resource": "*"},
            {"Effect": "Allow", "Action": "cloudfront:TagResource", "Resource": "arn:aws:cloudfront::*:distribution/*",
             "Condition": {"StringLike": {"aws:RequestTag/urlguard.io/owner": "team-a/*"},
                           "ForAllValues:StringEquals": {"aws:TagKeys": ["urlguard.io/owner"]}}},
            {"Effect": "Allow", "Action": "cloudfront:UpdateDistribution", "Resource": "arn:aws:cloudfront::*:distribution/*",
             "Condition": {"StringLike": {"aws:ResourceTag/urlguard.io/owner": "team-a/*"}}}
        ])),
    );
    let (status, code, message) =
        create_tagged(&as_key, simple_config("b", true, None), "team-b/x")
            .await
            .expect_err("tagging for team-b is not allowed");
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains(
            "cloudfront:TagResource on resource: arn:aws:cloudfront::123456789012:distribution/*"
        ),
        "{message}"
    );
    let own = create_tagged(&as_key, simple_config("a", true, None), "team-a/x")
        .await
        .expect("tagging for team-a is allowed");
    let theirs = create_tagged(&setup, simple_config("theirs", true, None), "team-b/y")
        .await
        .expect("set-up is unrestricted");

    update_as(&setup, &as_key, &own, |c| c.comment = "mine".to_owned())
        .await
        .expect("its own distribution");
    let (status, code, message) = update_as(&setup, &as_key, &theirs, |c| {
        c.comment = "theirs".to_owned()
    })
    .await
    .expect_err("another team's distribution");
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains(&format!("cloudfront:UpdateDistribution on resource: arn:aws:cloudfront::123456789012:distribution/{theirs}")),
        "{message}"
    );
}

#[tokio::test]
async fn iam_ssm_and_lambda_condition_keys_and_denial_shapes() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let key = "AKIDCONDITIONS";
    let as_key = bed.sdk_config_as(key).await;
    let boundary = "arn:aws:iam::123456789012:policy/boundary";
    // IAM refuses a boundary that does not exist: create it first.
    aws_sdk_iam::Client::new(&setup)
        .create_policy()
        .policy_name("boundary")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("CreatePolicy");
    bed.restrict(
        key,
        &policy(serde_json::json!([
            {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "arn:aws:iam::*:role/urlguard/*",
             "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
            {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/urlguard/*"},
            {"Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "arn:aws:ssm:*:*:parameter/books/*",
             "Condition": {"StringEquals": {"ssm:Overwrite": "false"}}},
            {"Effect": "Allow", "Action": "lambda:CreateFunctionUrlConfig", "Resource": "arn:aws:lambda:*:*:function:*",
             "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}},
            {"Effect": "Allow", "Action": "lambda:AddPermission", "Resource": "arn:aws:lambda:*:*:function:*",
             "Condition": {"StringEquals": {"lambda:Principal": "cloudfront.amazonaws.com"}}}
        ])),
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let iam = aws_sdk_iam::Client::new(&as_key);
    let e = iam
        .create_role()
        .role_name("no-boundary")
        .path("/urlguard/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect_err("no permissions boundary");
    let (status, code, message) = refusal(&e);
    assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{message}");
    assert!(
        message.contains(
            "iam:CreateRole on resource: arn:aws:iam::123456789012:role/urlguard/no-boundary"
        ),
        "{message}"
    );
    iam.create_role()
        .role_name("bounded")
        .path("/urlguard/")
        .permissions_boundary(boundary)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("with the permissions boundary");
    // An existing role's ARN carries its path, looked up behind the scenes.
    iam.get_role()
        .role_name("bounded")
        .send()
        .await
        .expect("role/urlguard/bounded");
    role_trusting(&setup, "elsewhere", &["lambda.amazonaws.com"]).await;
    let e = iam
        .get_role()
        .role_name("elsewhere")
        .send()
        .await
        .expect_err("role/elsewhere");
    assert_eq!(refusal(&e).0, 403);

    let ssm = aws_sdk_ssm::Client::new(&as_key);
    let put = |overwrite: bool| {
        ssm.put_parameter()
            .name("/books/GetBooksUrl")
            .value("https://example.com/")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(overwrite)
            .send()
    };
    put(false).await.expect("ssm:Overwrite false");
    let e = put(true).await.expect_err("ssm:Overwrite true");
    let (status, code, message) = refusal(&e);
    assert_eq!(
        (status, code.as_str()),
        (400, "AccessDeniedException"),
        "{message}"
    );
    assert!(message.contains("ssm:PutParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/books/GetBooksUrl"), "{message}");

    function(&setup, "books-api").await;
    let url = |auth: FunctionUrlAuthType| {
        lambda(&as_key)
            .create_function_url_config()
            .function_name("books-api")
            .auth_type(auth)
            .send()
    };
    let e = url(FunctionUrlAuthType::None)
        .await
        .expect_err("AuthType NONE");
    let (status, code, message) = refusal(&e);
    assert_eq!(
        (status, code.as_str()),
        (403, "AccessDeniedException"),
        "{message}"
    );
    url(FunctionUrlAuthType::AwsIam)
        .await
        .expect("AuthType AWS_IAM");
    let grant = |principal: &'static str, sid: &'static str| {
        lambda(&as_key)
            .add_permission()
            .function_name("books-api")
            .statement_id(sid)
            .action("lambda:InvokeFunctionUrl")
            .principal(principal)
            .function_url_auth_type(FunctionUrlAuthType::AwsIam)
            .send()
    };
    let e = grant("*", "anyone").await.expect_err("lambda:Principal *");
    assert_eq!(refusal(&e).0, 403);
    grant("cloudfront.amazonaws.com", "cloudfront")
        .await
        .expect("lambda:Principal cloudfront");
}

#[tokio::test]
async fn each_action_of_a_policy_is_needed_by_some_logged_check() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let role = edge_role(&setup, "logged-role").await;
    function_with(&setup, "logged", &role, |f| f.tags("k", "v")).await;
    let key = "AKIDLOGGED";
    let granted = policy(serde_json::json!([
        {"Effect": "Allow", "Action": ["cloudfront:ListDistributions", "cloudfront:CreateOriginAccessControl"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["cloudfront:GetOriginAccessControl"], "Resource": "arn:aws:cloudfront::*:origin-access-control/*"},
        {"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListTags"], "Resource": "arn:aws:lambda:*:*:function:*"}
    ]));
    bed.restrict(key, &granted);
    let as_key = bed.sdk_config_as(key).await;
    cloudfront(&as_key)
        .list_distributions()
        .send()
        .await
        .expect("ListDistributions");
    let oac = origin_access_control(&as_key, "logged").await;
    cloudfront(&as_key)
        .get_origin_access_control()
        .id(&oac)
        .send()
        .await
        .expect("GetOriginAccessControl");
    lambda(&as_key)
        .get_function()
        .function_name("logged")
        .send()
        .await
        .expect("GetFunction");

    let log = bed.authorizations();
    assert!(
        log.iter()
            .all(|c| aws_emulator::evaluate(&granted, c) == c.decision)
    );
    let statements = granted["Statement"].as_array().expect("statements");
    for (i, statement) in statements.iter().enumerate() {
        for action in statement["Action"].as_array().expect("actions") {
            let mut reduced = granted.clone();
            let actions = reduced["Statement"][i]["Action"]
                .as_array_mut()
                .expect("actions");
            actions.retain(|a| a != action);
            assert!(
                log.iter().any(|c| c.decision.is_allowed()
                    && !aws_emulator::evaluate(&reduced, c).is_allowed()),
                "without {action}, nothing logged is denied"
            );
        }
    }
}

#[tokio::test]
async fn resource_tags_of_functions_roles_and_parameters_and_tags_given_at_creation_are_checked() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let role = edge_role(&setup, "tagged-app").await;
    function_with(&setup, "ours", &role, |f| f.tags("owner", "team-a")).await;
    function_with(&setup, "theirs", &role, |f| f.tags("owner", "team-b")).await;
    let key = "AKIDOWNER";
    let as_key = bed.sdk_config_as(key).await;
    let owned = serde_json::json!({"StringEquals": {"aws:ResourceTag/owner": "team-a"}});
    bed.restrict(
        key,
        &policy(serde_json::json!([
            {"Effect": "Allow", "Action": "lambda:GetFunctionConfiguration", "Resource": "*", "Condition": owned},
            {"Effect": "Allow", "Action": ["iam:GetRole", "iam:CreateRole"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "*", "Condition": owned},
            {"Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "*"},
            {"Effect": "Allow", "Action": "ssm:DeleteParameter", "Resource": "*", "Condition": owned}
        ])),
    );
    let lambda_as_key = lambda(&as_key);
    lambda_as_key
        .get_function_configuration()
        .function_name("ours")
        .send()
        .await
        .expect("tagged team-a");
    let e = lambda_as_key
        .get_function_configuration()
        .function_name("theirs")
        .send()
        .await
        .expect_err("tagged team-b");
    assert_eq!(refusal(&e).0, 403);

    let iam = aws_sdk_iam::Client::new(&as_key);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let owner = |value: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key("owner")
            .value(value)
            .build()
            .expect("tag")
    };
    let e = iam
        .create_role()
        .role_name("tagged-at-creation")
        .assume_role_policy_document(trust)
        .tags(owner("team-a"))
        .send()
        .await
        .expect_err("tags at creation need iam:TagRole");
    let (status, _, message) = refusal(&e);
    assert_eq!(status, 403);
    assert!(message.contains("iam:TagRole"), "{message}");
    iam.create_role()
        .role_name("untagged")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("no tags, no iam:TagRole");
    aws_sdk_iam::Client::new(&setup)
        .tag_role()
        .role_name("untagged")
        .tags(owner("team-a"))
        .send()
        .await
        .expect("TagRole");
    let inline = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("untagged")
        .policy_name("p")
        .policy_document(inline)
        .send()
        .await
        .expect("the role is tagged team-a now");
    let e = iam
        .put_role_policy()
        .role_name("tagged-app")
        .policy_name("p")
        .policy_document(inline)
        .send()
        .await
        .expect_err("untagged role");
    assert_eq!(refusal(&e).0, 403);

    let ssm = aws_sdk_ssm::Client::new(&as_key);
    let e = ssm
        .put_parameter()
        .name("/books/tagged")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .tags(
            aws_sdk_ssm::types::Tag::builder()
                .key("owner")
                .value("team-a")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect_err("tags need ssm:AddTagsToResource");
    let (status, code, message) = refusal(&e);
    assert_eq!(
        (status, code.as_str()),
        (400, "AccessDeniedException"),
        "{message}"
    );
    assert!(message.contains("ssm:AddTagsToResource"), "{message}");
    for (name, team) in [("/books/ours", "team-a"), ("/books/theirs", "team-b")] {
        let setup_ssm = aws_sdk_ssm::Client::new(&setup);
        setup_ssm
            .put_parameter()
            .name(name)
            .value("v")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .tags(
                aws_sdk_ssm::types::Tag::builder()
                    .key("owner")
                    .value(team)
                    .build()
                    .expect("tag"),
            )
            .send()
            .await
            .expect("PutParameter");
    }
    ssm.delete_parameter()
        .name("/books/ours")
        .send()
        .await
        .expect("tagged team-a");
    let e = ssm
        .delete_parameter()
        .name("/books/theirs")
        .send()
        .await
        .expect_err("tagged team-b");
    assert_eq!(refusal(&e).1, "AccessDeniedException");
}

// ------------------------------------------------- AWS's read-back quirks

#[tokio::test]
async fn cloudfront_reads_back_a_config_completed_with_its_defaults() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let mut sent = simple_config("defaults-test", true, None);
    sent.custom_error_responses = Some(
        CustomErrorResponses::builder()
            .quantity(1)
            .items(
                CustomErrorResponse::builder()
                    .error_code(404)
                    .build()
                    .expect("error response"),
            )
            .build()
            .expect("error responses"),
    );
    let (id, _) = create(&config, sent).await;
    let read = cloudfront(&config)
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("GetDistributionConfig");
    let got = read.distribution_config().expect("config");
    let origin = &got.origins().expect("origins").items()[0];
    assert_eq!(origin.connection_attempts(), Some(3));
    assert_eq!(origin.connection_timeout(), Some(10));
    assert_eq!(origin.origin_path(), Some(""));
    assert_eq!(
        origin.origin_shield().map(|s| s.enabled()),
        Some(false),
        "OriginShield"
    );
    let custom = origin.custom_origin_config().expect("custom origin");
    assert_eq!(custom.origin_read_timeout(), Some(30));
    assert_eq!(custom.origin_keepalive_timeout(), Some(5));
    let error = &got.custom_error_responses().expect("errors").items()[0];
    assert_eq!(error.error_caching_min_ttl(), Some(10));
    assert_eq!(got.aliases().map(|a| a.quantity()), Some(0));
    assert_eq!(got.web_acl_id(), Some(""));
    assert_eq!(got.http_version(), Some(&HttpVersion::Http2));
    assert_eq!(got.price_class(), Some(&PriceClass::PriceClassAll));
    let logging = got.logging().expect("logging");
    assert_eq!(
        (logging.enabled(), logging.bucket(), logging.prefix()),
        (false, "", "")
    );
    let certificate = got.viewer_certificate().expect("certificate");
    assert_eq!(certificate.cloud_front_default_certificate(), Some(true));
    assert_eq!(
        certificate.minimum_protocol_version(),
        Some(&MinimumProtocolVersion::TlSv1)
    );
    let behavior = got.default_cache_behavior().expect("default behavior");
    assert_eq!(behavior.compress(), Some(true), "sent, kept");
    assert_eq!(behavior.smooth_streaming(), Some(false));
    assert_eq!(behavior.field_level_encryption_id(), Some(""));
    assert_eq!(
        behavior.function_associations().map(|f| f.quantity()),
        Some(0)
    );
    assert_eq!(got.staging(), Some(false));
}

#[tokio::test]
async fn iam_answers_trust_principals_and_policy_lists_in_another_order() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
        "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("order-test")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    let role = iam
        .get_role()
        .role_name("order-test")
        .send()
        .await
        .expect("GetRole");
    let document = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .expect("trust policy");
    let decoded = percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .expect("utf-8");
    let read: serde_json::Value = serde_json::from_str(&decoded).expect("JSON");
    assert_eq!(
        read["Statement"][0]["Principal"]["Service"],
        serde_json::json!(["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
    );

    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Logs", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"},
        {"Sid": "Invoke", "Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
         "Resource": ["arn:aws:lambda:eu-west-1:123456789012:function:a", "arn:aws:lambda:eu-west-1:123456789012:function:b"]}]});
    iam.put_role_policy()
        .role_name("order-test")
        .policy_name("p")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("PutRolePolicy");
    let answer = iam
        .get_role_policy()
        .role_name("order-test")
        .policy_name("p")
        .send()
        .await
        .expect("GetRolePolicy");
    let decoded = percent_encoding::percent_decode_str(answer.policy_document())
        .decode_utf8()
        .expect("utf-8");
    let read: serde_json::Value = serde_json::from_str(&decoded).expect("JSON");
    assert_eq!(read["Statement"][0]["Sid"], "Invoke");
    assert_eq!(
        read["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:lambda:eu-west-1:123456789012:function:b",
            "arn:aws:lambda:eu-west-1:123456789012:function:a"
        ])
    );
}

/// IAM refuses a permissions boundary that does not exist, on create and
/// on change (CreateRole, PutRolePermissionsBoundary: NoSuchEntity); one
/// that exists is taken.
#[tokio::test]
async fn a_permissions_boundary_must_exist() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let missing = "arn:aws:iam::123456789012:policy/urlguard/nobody-signer-boundary";
    let e = iam
        .create_role()
        .role_name("bounded")
        .assume_role_policy_document(trust)
        .permissions_boundary(missing)
        .send()
        .await
        .expect_err("no such boundary");
    assert_eq!(
        (
            e.raw_response().map(|r| r.status().as_u16()),
            e.code(),
            e.message()
        ),
        (
            Some(404),
            Some("NoSuchEntity"),
            Some(format!("Scope ARN: {missing} does not exist or is not attachable.").as_str())
        )
    );
    let get = iam.get_role().role_name("bounded").send().await;
    assert!(get.is_err(), "nothing was created");

    let boundary = iam
        .create_policy()
        .policy_name("real-boundary")
        .path("/urlguard/")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("CreatePolicy")
        .policy()
        .and_then(|p| p.arn().map(str::to_owned))
        .expect("ARN");
    iam.create_role()
        .role_name("bounded")
        .assume_role_policy_document(trust)
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("an existing boundary");
    let e = iam
        .put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary(missing)
        .send()
        .await
        .expect_err("no such boundary");
    assert_eq!(e.code(), Some("NoSuchEntity"));
}

/// IAM's quota: all inline policies of one role together hold at most
/// 10,240 characters, white space not counted (IAM and AWS STS quotas). The
/// signer's invoke policy for CloudFront's 75 behaviors, each a function
/// with a 64-character name, fits it.
#[tokio::test]
async fn a_roles_inline_policies_are_refused_past_10240_characters_and_the_signers_fits() {
    let bed = TestBed::start();
    let config = bed.sdk_config().await;
    role_trusting(&config, "quota", &["lambda.amazonaws.com"]).await;
    let iam = aws_sdk_iam::Client::new(&config);
    // A document of exactly `size` characters IAM counts, padded with white
    // space it does not.
    let document = |size: usize| {
        let skeleton = r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let sid = "A".repeat(size - skeleton.len());
        let padded = skeleton.replace(r#""Sid":"""#, &format!("\"Sid\" : \"{sid}\"  "));
        format!("{padded}\n\n")
    };
    let put = |name: &'static str, doc: String| {
        iam.put_role_policy()
            .role_name("quota")
            .policy_name(name)
            .policy_document(doc)
            .send()
    };
    let e = put("whole", document(10_241))
        .await
        .expect_err("one character over");
    assert_eq!(
        (
            e.raw_response().map(|r| r.status().as_u16()),
            e.code(),
            e.message()
        ),
        (
            Some(409),
            Some("LimitExceeded"),
            Some("Maximum policy size of 10240 bytes exceeded for role quota")
        )
    );
    put("whole", document(10_240))
        .await
        .expect("exactly the quota");
    // Together with the role's other inline policies; replacing one counts
    // only the new document.
    put("whole", document(6_000)).await.expect("a replacement");
    let e = put("second", document(4_300))
        .await
        .expect_err("6,000 + 4,300 is over");
    assert_eq!(e.code(), Some("LimitExceeded"));
    put("second", document(4_240)).await.expect("6,000 + 4,240");
    iam.delete_role_policy()
        .role_name("quota")
        .policy_name("whole")
        .send()
        .await
        .expect("DeleteRolePolicy");
    iam.delete_role_policy()
        .role_name("quota")
        .policy_name("second")
        .send()
        .await
        .expect("DeleteRolePolicy");

    let longest_names: Vec<String> = (0..75)
        .map(|i| {
            format!(
                "arn:aws:lambda:ap-southeast-2:123456789012:function:{}",
                format!("{i:02}-{}", "f".repeat(64)).get(..64).expect("64")
            )
        })
        .collect();
    let signer = urlguard::plan::signer::invoke_policy(
        "urlguard-a-namespace-of-some-length-a-distribution-signer",
        &longest_names,
    );
    put(
        "urlguard-signer",
        serde_json::to_string_pretty(&signer).expect("JSON"),
    )
    .await
    .expect("the signer's policy for 75 URLs fits");
}

/// A restricted key's session of an assumed role acts with the role's
/// inline policies, and nothing more; a role without one can do nothing;
/// an unrestricted key's sessions stay unrestricted.
#[tokio::test]
async fn an_assumed_roles_session_holds_the_roles_inline_policies() {
    let bed = TestBed::start();
    let setup = bed.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&setup);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    for role in ["lister", "empty"] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("CreateRole");
    }
    iam.put_role_policy()
        .role_name("lister")
        .policy_name("list")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"cloudfront:List*","Resource":"*"}}"#,
        )
        .send()
        .await
        .expect("PutRolePolicy");
    bed.restrict(
        "AKIDASSUMER",
        &policy(serde_json::json!([{
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::123456789012:role/*"
        }])),
    );
    let assumer = bed.sdk_config_as("AKIDASSUMER").await;
    let session = |creds: aws_sdk_sts::types::Credentials| {
        assumer
            .clone()
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_sdk_sts::config::Credentials::new(
                        creds.access_key_id(),
                        creds.secret_access_key(),
                        Some(creds.session_token().to_owned()),
                        None,
                        "session",
                    ),
                ),
            )
            .build()
    };
    let assume = |config: SdkConfig, role: &'static str| async move {
        aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn(format!("arn:aws:iam::123456789012:role/{role}"))
            .role_session_name("test")
            .send()
            .await
            .expect("AssumeRole")
            .credentials
            .expect("credentials")
    };

    let lister = session(assume(assumer.clone(), "lister").await);
    lists_but_cannot_create(&lister, "beyond-the-role").await;

    let empty = session(assume(assumer.clone(), "empty").await);
    let e = cloudfront(&empty)
        .list_origin_access_controls()
        .send()
        .await
        .expect_err("a role without a policy can do nothing");
    assert_eq!(refusal(&e).1, "AccessDenied");

    let unrestricted = session(assume(setup.clone(), "empty").await);
    origin_access_control(&unrestricted, "set-up-sessions-are-unrestricted").await;
}

/// A region AWS does not have has no endpoint: through an endpoint that
/// exists, AWS answers that the credential must be scoped to a valid
/// region, and nothing happens
/// (<https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html>).
#[tokio::test]
async fn a_request_signed_for_a_region_aws_does_not_have_is_refused_and_does_nothing() {
    let bed = TestBed::start();
    let config = bed.sdk_config_without_retries().await;
    let fake = in_region(&config, "xx-fake-1");
    let refused = lambda(&fake)
        .get_function()
        .function_name("anything")
        .send()
        .await
        .expect_err("no such region");
    let refused = refused.into_service_error();
    assert_eq!(refused.code(), Some("InvalidSignatureException"));
    assert_eq!(
        refused.message(),
        Some("Credential should be scoped to a valid region, not 'xx-fake-1'.")
    );
    let ssm = aws_sdk_ssm::Client::new(&fake);
    let put = ssm
        .put_parameter()
        .name("/fake/region")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect_err("no such region")
        .into_service_error();
    assert_eq!(put.code(), Some("InvalidSignatureException"));
    // Nothing was written anywhere: the same name in a real region is free.
    let real = aws_sdk_ssm::Client::new(&in_region(&config, "eu-west-1"));
    let read = real.get_parameter().name("/fake/region").send().await;
    assert!(read.is_err_and(|e| e.into_service_error().is_parameter_not_found()));
    // A real region answers as before.
    let listed = lambda(&in_region(&config, "eu-west-1"))
        .list_functions()
        .send()
        .await;
    assert!(listed.is_ok(), "{listed:?}");
}
