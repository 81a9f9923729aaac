//! Fault tolerance against the AWS test bed's fault rules: throttling on
//! 30% of all calls (and 5xx answers on a tenth of the rest), a concurrent writer changing the distribution between
//! urlguard's read and its write (a stale ETag), and answers lost after the
//! write happened. In every case the apply (and the destroy) converges, and
//! nothing exists twice.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_emulator::{FaultKind, FaultRule};
use support::aws::{TestBed, TestBedOptions, as_product, change_distribution};
use support::books::{BOOK_FUNCTIONS, books, books_bed};
use support::engine::{assert_all_ready, assert_writes, outcomes};
use support::inventory::inventory;
use urlguard::aws::{Aws, CallHook, Outcome, PendingCall};
use urlguard::plan::{desired, teardown};
use urlguard::reconcile::{DeployWait, Engine, Kind, Mode, ResourceReport, RetryPolicy};

/// The SDK config urlguard itself uses: its own retry policy (standard
/// mode, 6 attempts, backoff from 200 ms).
async fn urlguard_config(bed: &TestBed) -> SdkConfig {
    bed.sdk_config()
        .await
        .into_builder()
        .retry_config(urlguard::aws::retry_config())
        .build()
}

fn engine(config: SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(60),
    };
    Engine::new(Aws::from_sdk_config(as_product(config)), Mode::Apply, wait).with_retry_policy(
        RetryPolicy {
            first: Duration::from_millis(250),
            cap: Duration::from_secs(1),
        },
    )
}

async fn apply(engine: &Engine) -> Vec<ResourceReport> {
    let (distributions, urls) = books();
    engine
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await
}

/// Clears the faults, then checks that AWS (read with `plain`) holds
/// books.yaml applied once and that an engine on `config` finds nothing
/// left to write.
async fn converged_without_faults(
    bed: &TestBed,
    plain: &SdkConfig,
    config: SdkConfig,
    context: &str,
) {
    bed.clear_faults();
    inventory(plain, &BOOK_FUNCTIONS)
        .await
        .assert_books_applied(1, context);
    let again = engine(config);
    assert_all_ready(&apply(&again).await);
    assert_writes(&again, 0);
}

/// Throttling on 30% of the calls; of the calls not throttled, every tenth
/// answers 503 and every tenth of the rest 500.
fn busy_aws() -> [FaultRule; 3] {
    [
        FaultRule::fraction("*", "*", FaultKind::Throttle, 0.3),
        FaultRule::fraction("*", "*", FaultKind::Http503, 0.1),
        FaultRule::fraction("*", "*", FaultKind::Http500, 0.1),
    ]
}

#[tokio::test]
async fn throttling_on_30_percent_of_all_calls_still_converges_without_duplicates() {
    let (bed, plain) = books_bed(TestBedOptions::default()).await;
    let config = urlguard_config(&bed).await;
    bed.set_faults(&busy_aws());

    let reports = apply(&engine(config.clone())).await;
    assert_all_ready(&reports);
    let rules = bed.calls().rules;
    let (matched, injected) = (rules[0].matched, rules[0].injected);
    eprintln!(
        "throttled {injected} of {matched} calls during the apply, then {} answers 503 and {} answers 500",
        rules[1].injected, rules[2].injected
    );
    assert!(injected >= 10, "{rules:#?}");
    assert_eq!(injected, matched * 3 / 10, "30% of the calls: {rules:#?}");
    assert!(
        rules[1].injected >= 3 && rules[2].injected >= 3,
        "{rules:#?}"
    );
    converged_without_faults(&bed, &plain, config.clone(), "after a throttled apply").await;

    // The teardown too.
    bed.set_faults(&busy_aws());
    let (distributions, urls) = books();
    let reports = engine(config)
        .destroy_until_gone(&teardown::build("urlguard", &distributions, &urls))
        .await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    bed.clear_faults();
    let after = inventory(&plain, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard("after a throttled destroy");
    assert!(after.url_configs.values().all(Option::is_none));
}

/// A hook that, the first time the engine is about to send `operation`,
/// lets `writer` change the distribution first (its read is now stale).
fn concurrent_writer<F, Fut>(operation: &'static str, writer: F) -> CallHook
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let fired = Arc::new(AtomicBool::new(false));
    let writer = Arc::new(writer);
    Arc::new(move |call: PendingCall| {
        let go = call.operation == operation && !fired.swap(true, Ordering::SeqCst);
        let writer = Arc::clone(&writer);
        Box::pin(async move {
            if go {
                writer().await;
            }
            Ok(())
        })
    })
}

#[tokio::test]
async fn a_concurrent_writer_between_read_and_update_costs_a_reread_not_a_failure() {
    let (bed, config) = books_bed(TestBedOptions::default()).await;
    assert_all_ready(&apply(&engine(config.clone())).await);

    // The apply changes a path; between its read and its update someone
    // edits the comment in the console.
    let (distributions, mut urls) = books();
    urls[0].spec.path_pattern = "/listBooks".to_owned();
    let applier = engine(config.clone());
    let writer_config = config.clone();
    applier
        .aws()
        .ledger()
        .set_hook(Some(concurrent_writer("UpdateDistribution", move || {
            change_distribution(writer_config.clone(), |c| {
                c.comment = "edited in the console".to_owned();
            })
        })));
    let reports = applier
        .reconcile(&desired::build("urlguard", &distributions, &urls))
        .await;
    assert_all_ready(&reports);
    assert_eq!(
        outcomes(&applier, "cloudfront:UpdateDistribution"),
        [Outcome::Error("PreconditionFailed".into()), Outcome::Ok],
        "the stale ETag was refused, then the re-planned update went through"
    );
    assert_eq!(
        bed.count("cloudfront:UpdateDistribution"),
        3,
        "writer + engine twice"
    );
    let after = inventory(&config, &BOOK_FUNCTIONS).await;
    assert_eq!(after.distributions.len(), 1);
    assert_eq!(
        after.distributions[0].comment,
        "Books single-page app and API"
    );
    assert!(
        after.distributions[0]
            .path_patterns
            .contains(&"/listBooks".to_owned())
    );

    // The teardown: between the disabling update and the delete, someone
    // enables the distribution again. The delete is refused (stale ETag);
    // the teardown re-reads, disables again, waits, deletes.
    let destroyer = engine(config.clone());
    let writer_config = config.clone();
    destroyer
        .aws()
        .ledger()
        .set_hook(Some(concurrent_writer("DeleteDistribution", move || {
            change_distribution(writer_config.clone(), |c| c.enabled = true)
        })));
    let reports = destroyer
        .destroy_until_gone(&teardown::build("urlguard", &distributions, &urls))
        .await;
    assert!(
        reports.iter().all(|r| !r.failed() && !r.waiting()),
        "{reports:#?}"
    );
    assert_eq!(
        outcomes(&destroyer, "cloudfront:DeleteDistribution"),
        [Outcome::Error("PreconditionFailed".into()), Outcome::Ok]
    );
    assert_eq!(
        outcomes(&destroyer, "cloudfront:UpdateDistribution"),
        [Outcome::Ok, Outcome::Ok],
        "disabled twice"
    );
    inventory(&config, &BOOK_FUNCTIONS)
        .await
        .assert_nothing_from_urlguard("after a contested destroy");
}

/// The writes whose answers get lost, once each.
fn lost_answers() -> Vec<FaultRule> {
    [
        ("cloudfront", "CreateDistributionWithTags"),
        ("lambda", "CreateFunctionUrlConfig"),
        ("ssm", "PutParameter"),
        ("iam", "CreateRole"),
        ("lambda", "CreateFunction"),
        ("lambda", "PublishVersion"),
    ]
    .into_iter()
    .map(|(service, operation)| FaultRule::next(service, operation, FaultKind::DropAfterWrite, 1))
    .collect()
}

#[tokio::test]
async fn answers_lost_after_the_write_are_adopted_in_the_same_run() {
    let (bed, plain) = books_bed(TestBedOptions::default()).await;
    bed.set_faults(&lost_answers());

    // The SDK sends the write again; the retry meets the first write
    // (exists already) and the engine adopts what it finds.
    let applier = engine(urlguard_config(&bed).await);
    let reports = apply(&applier).await;
    assert_all_ready(&reports);
    let rules = bed.calls().rules;
    assert!(
        rules.iter().all(|r| r.injected == 1),
        "every answer was lost once: {rules:#?}"
    );
    converged_without_faults(&bed, &plain, plain.clone(), "after lost answers").await;
}

#[tokio::test]
async fn answers_lost_without_sdk_retries_converge_over_the_next_runs_without_duplicates() {
    let (bed, plain) = books_bed(TestBedOptions::default()).await;
    bed.set_faults(&lost_answers());

    // Without retries the engine sees "no answer" and reports it; the next
    // run reads what the lost writes made and carries on.
    let first = engine(bed.sdk_config_without_retries().await);
    let reports = apply(&first).await;
    assert!(reports.iter().any(|r| !r.ready()), "the lost answers show");
    let mut runs = 1;
    loop {
        let next = engine(bed.sdk_config_without_retries().await);
        let reports = apply(&next).await;
        runs += 1;
        if reports.iter().all(ResourceReport::ready) {
            break;
        }
        assert!(runs < 8, "no convergence after {runs} runs: {reports:#?}");
    }
    eprintln!("converged after {runs} runs");
    converged_without_faults(
        &bed,
        &plain,
        plain.clone(),
        "after lost answers without retries",
    )
    .await;
}

/// Lambda failing every read of the URLs' state (their functions, their
/// URL configs) while the distribution is fine: the URLs report the error,
/// and nothing is written. A URL that could not be read keeps its origin,
/// behavior and signer-role grant as AWS has them; only a URL that leaves
/// (or whose function is gone) loses them.
#[tokio::test]
async fn a_lambda_read_outage_keeps_every_url_in_the_distribution() {
    let (bed, plain) = books_bed(TestBedOptions::default()).await;
    assert_all_ready(&apply(&engine(plain.clone())).await);
    for operation in ["GetFunctionUrlConfig", "GetFunction"] {
        bed.set_faults(&[FaultRule::fraction(
            "lambda",
            operation,
            FaultKind::Http500,
            1.0,
        )]);
        let during = engine(plain.clone());
        let reports = apply(&during).await;
        // (Without `GetFunction` the signer cannot be read either: the
        // distribution reports that too.)
        let urls_failed = reports
            .iter()
            .filter(|r| r.kind == Kind::ProtectedFunctionUrl && r.failed())
            .count();
        assert_eq!(
            urls_failed,
            BOOK_FUNCTIONS.len(),
            "{operation}: {reports:#?}"
        );
        assert_writes(&during, 0);
        bed.clear_faults();
        inventory(&plain, &BOOK_FUNCTIONS)
            .await
            .assert_books_applied(1, &format!("after a {operation} outage"));
        let after = engine(plain.clone());
        assert_all_ready(&apply(&after).await);
        assert_writes(&after, 0);
    }
}
