//! Crash tolerance: the engine is stopped right after its k-th write, for
//! every k of a full apply and of a full destroy of books.yaml, and a fresh
//! engine then runs from scratch. After every resume AWS holds exactly what
//! it must: no duplicate distribution, origin access control, signer
//! version, role or parameter, and nothing orphaned.
//!
//! The stop is the ledger's test hook (`Ledger::set_hook`): once k writes
//! went out, every further write fails before it reaches AWS, exactly as if
//! the process had died after the k-th (reads may go on; they change
//! nothing). The counts N (apply) and M (destroy) are measured on an
//! uninterrupted run first, so the loop covers every write point.
//!
//! One test bed serves every k: each round applies (crashing at k, then
//! resuming) and destroys (crashing at k, then resuming), and the resumed
//! destroy's empty result is the next round's fresh start. Replicas linger
//! 0 s here so that a destroy makes the same writes every time (the
//! replica wait is covered in `tests/teardown.rs`).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use support::aws::{TestBedOptions, as_product};
use support::books::{BOOK_FUNCTIONS, books, books_bed};
use support::engine::{mutating, not_deleted, not_ready};
use support::inventory::inventory;
use urlguard::aws::{Aws, PendingCall};
use urlguard::plan::desired::{self, DesiredModel};
use urlguard::plan::teardown::{self, TeardownModel};
use urlguard::reconcile::{DeployWait, Engine, Mode, RetryPolicy};

fn engine(config: &SdkConfig) -> Engine {
    let wait = DeployWait {
        enabled: true,
        poll_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
    };
    Engine::new(
        Aws::from_sdk_config(as_product(config.clone())),
        Mode::Apply,
        wait,
    )
    .with_retry_policy(RetryPolicy {
        first: Duration::from_millis(100),
        cap: Duration::from_millis(500),
    })
}

/// An engine that dies after its `k`-th write: every later write fails
/// before it is sent.
fn crashing_engine(config: &SdkConfig, k: u64) -> Engine {
    let engine = engine(config);
    let writes = Arc::new(AtomicU64::new(0));
    engine
        .aws()
        .ledger()
        .set_hook(Some(Arc::new(move |call: PendingCall| {
            let stopped = call.mutating && writes.fetch_add(1, Ordering::SeqCst) >= k;
            Box::pin(async move {
                if stopped {
                    Err(format!("the process stopped after write {k} (test)"))
                } else {
                    Ok(())
                }
            })
        })));
    engine
}

struct Books {
    apply: DesiredModel,
    destroy: TeardownModel,
}

/// A full apply by a fresh engine, checked; returns its writes.
async fn apply_fully(config: &SdkConfig, books: &Books, context: &str) -> u64 {
    let engine = engine(config);
    let not_ready = not_ready(&engine.reconcile(&books.apply).await);
    assert!(not_ready.is_empty(), "{context}: {not_ready:#?}");
    let after = inventory(config, &BOOK_FUNCTIONS).await;
    after.assert_books_applied(1, context);
    // Every config here is urlguard's creation: none is marked adopted,
    // whatever write the crash interrupted.
    assert!(
        after.adopted_markers.values().all(Option::is_none),
        "{context}: {after:#?}"
    );
    // ... and each carries urlguard's created marker, whichever write the
    // crash interrupted (the tag goes on before the create).
    assert!(
        after.created_markers.values().all(Option::is_some),
        "{context}: {after:#?}"
    );
    mutating(&engine)
}

/// A full destroy by a fresh engine, checked; returns its writes.
async fn destroy_fully(config: &SdkConfig, books: &Books, context: &str) -> u64 {
    let engine = engine(config);
    let left = not_deleted(&engine.destroy_until_gone(&books.destroy).await);
    assert!(left.is_empty(), "{context}: {left:#?}");
    let after = inventory(config, &BOOK_FUNCTIONS).await;
    after.assert_nothing_from_urlguard(context);
    assert!(
        after.url_configs.values().all(Option::is_none),
        "{context}: {after:#?}"
    );
    // No adopted marker is left behind.
    assert!(
        after.adopted_markers.values().all(Option::is_none),
        "{context}: {after:#?}"
    );
    mutating(&engine)
}

#[tokio::test]
async fn a_crash_after_any_write_of_apply_or_destroy_resumes_without_duplicates_or_orphans() {
    let started = Instant::now();
    let (_bed, config) = books_bed(TestBedOptions {
        deploy_time: Duration::from_millis(200),
        replica_linger: Duration::ZERO,
        ..TestBedOptions::default()
    })
    .await;
    let (distributions, urls) = books();
    let books = Books {
        apply: desired::build("urlguard", &distributions, &urls),
        destroy: teardown::build("urlguard", &distributions, &urls),
    };

    // The write points of an uninterrupted apply and destroy.
    let apply_writes = apply_fully(&config, &books, "uninterrupted apply").await;
    let destroy_writes = destroy_fully(&config, &books, "uninterrupted destroy").await;
    eprintln!(
        "write points: apply {apply_writes}, destroy {destroy_writes} (measured in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    // Each URL config: its created marker before the create, and removed
    // after the delete.
    assert_eq!(apply_writes, 26, "books.yaml's apply");
    assert_eq!(destroy_writes, 26, "books.yaml's destroy");

    for k in 1..=apply_writes.max(destroy_writes) {
        // Apply, stopped after write k (when k is within the apply), then
        // resumed by a fresh engine.
        if k <= apply_writes {
            let crashed = crashing_engine(&config, k);
            let _ = crashed.reconcile(&books.apply).await;
            assert_eq!(mutating(&crashed), k, "apply stopped after write {k}");
        }
        let resumed = apply_fully(&config, &books, &format!("apply resumed after write {k}")).await;
        if k <= apply_writes {
            assert_eq!(
                resumed,
                apply_writes - k,
                "the resumed apply makes exactly the writes the crashed one did not (k = {k})"
            );
        }

        // Destroy, stopped after write k, then resumed.
        if k <= destroy_writes {
            let crashed = crashing_engine(&config, k);
            let _ = crashed.destroy(&books.destroy).await;
            assert_eq!(mutating(&crashed), k, "destroy stopped after write {k}");
        }
        let resumed =
            destroy_fully(&config, &books, &format!("destroy resumed after write {k}")).await;
        if k <= destroy_writes {
            assert_eq!(
                resumed,
                destroy_writes - k,
                "the resumed destroy makes exactly the writes the crashed one did not (k = {k})"
            );
        }
    }
    eprintln!(
        "crash test: {apply_writes} apply and {destroy_writes} destroy write points in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
