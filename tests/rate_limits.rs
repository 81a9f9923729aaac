//! The client-side rate limits through the real AWS SDK against the test
//! bed: calls wait for their quota's tokens (and only their quota's), and
//! every throttled attempt — also the ones the SDK retries by itself, which
//! the adapters never see — slows its quota down and is reported.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_emulator::{FaultKind, FaultRule};
use support::aws::{TestBed, TestBedOptions};
use support::books::books_bed;
use urlguard::aws::{Aws, RateEvent, RateLimiter, RateLimits, RateSetting};

fn setting(text: &str) -> RateSetting {
    text.parse().expect("a rate setting")
}

/// Adapters over the bed (with the SDK's standard retries), held to
/// `settings`, and what their limiter reported.
async fn limited(
    bed: &TestBed,
    settings: &[&str],
) -> (Aws, RateLimiter, Arc<Mutex<Vec<RateEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let settings: Vec<RateSetting> = settings.iter().map(|s| setting(s)).collect();
    let limiter = RateLimiter::new(
        RateLimits::with(&settings),
        Some(Arc::new(move |event: &RateEvent| {
            seen.lock().expect("events").push(event.clone());
        })),
    );
    let aws = Aws::from_sdk_config_limited(bed.sdk_config().await, limiter.clone());
    (aws, limiter, events)
}

#[tokio::test]
async fn concurrent_calls_keep_to_their_quota_and_other_quotas_do_not_wait() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (aws, _, events) = limited(&bed, &["lambda=10", "lambda:GetFunction=1000"]).await;
    let lambda = aws.lambda("eu-west-1");

    let started = Instant::now();
    let reads = (0..20).map(|_| lambda.get_url_config("books-get-books", None));
    for read in futures::future::join_all(reads).await {
        read.expect("read");
    }
    let took = started.elapsed();
    // Ten at once (one second's worth), then one every 100 ms.
    assert!(
        took >= Duration::from_millis(950),
        "20 calls at 10/s took {took:?}"
    );
    assert_eq!(bed.calls().count("lambda:GetFunctionUrlConfig"), 20);
    let waited = events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, RateEvent::Waited { operation, .. } if operation == "GetFunctionUrlConfig"))
        .count();
    assert_eq!(waited, 10, "the second ten waited");

    // GetFunction has a quota of its own: the control plane's queue does
    // not hold it up.
    let reads = (0..20).map(|_| lambda.get_function("books-get-books", None));
    for read in futures::future::join_all(reads).await {
        read.expect("read");
    }
    let held_up = events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, RateEvent::Waited { operation, .. } if operation == "GetFunction"))
        .count();
    assert_eq!(held_up, 0);
}

#[tokio::test]
async fn throttled_attempts_the_sdk_retried_slow_the_quota_down_and_are_reported() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let (aws, limiter, events) = limited(&bed, &[]).await;
    bed.add_faults(&[
        FaultRule::next("lambda", "GetFunctionUrlConfig", FaultKind::Throttle, 2),
        FaultRule::next("ssm", "GetParameters", FaultKind::Throttle, 1),
        FaultRule::next("cloudfront", "ListDistributions", FaultKind::Throttle, 1),
    ]);

    // Each call succeeds: the SDK retried the throttled attempts.
    aws.lambda("eu-west-1")
        .get_url_config("books-get-books", None)
        .await
        .expect("answered after retries");
    aws.ssm("eu-west-1")
        .get_parameters(&["/books/GetBooksUrl".to_owned()])
        .await
        .expect("answered after a retry");
    aws.cloudfront()
        .list_distributions()
        .await
        .expect("answered after a retry");
    assert_eq!(aws.ledger().summary().total, 3, "one logical call each");

    let throttled: Vec<(&str, String)> = events
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            RateEvent::Throttled { service, operation } => Some((*service, operation.clone())),
            RateEvent::Waited { .. } => None,
        })
        .collect();
    assert_eq!(
        throttled,
        [
            ("lambda", "GetFunctionUrlConfig".to_owned()),
            ("lambda", "GetFunctionUrlConfig".to_owned()),
            ("ssm", "GetParameters".to_owned()),
            ("cloudfront", "ListDistributions".to_owned()),
        ],
        "every throttled attempt, in each protocol (Lambda 429, SSM JSON, CloudFront XML)"
    );
    let lambda_rate = limiter
        .current_rate("lambda", "eu-west-1", "AddPermission")
        .expect("limited");
    assert!(
        lambda_rate < 7.5 / 2.0,
        "halved twice, a little recovered: {lambda_rate}"
    );
    let get_function = limiter
        .current_rate("lambda", "eu-west-1", "GetFunction")
        .expect("limited");
    assert_eq!(
        get_function, 50.0,
        "GetFunction's own quota was not throttled"
    );
}
