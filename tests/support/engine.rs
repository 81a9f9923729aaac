//! What urlguard's reconcile [`Engine`] reported and what its ledger
//! recorded, as the tests that drive the engine directly check it.

use urlguard::aws::Outcome;
use urlguard::reconcile::{Engine, Reason, ResourceReport};

/// The reports that are not Ready: `namespace/name: verdict`.
pub fn not_ready(reports: &[ResourceReport]) -> Vec<String> {
    reports
        .iter()
        .filter(|r| !r.ready())
        .map(|r| format!("{}/{}: {:?}", r.namespace, r.name, r.verdict))
        .collect()
}

/// Every report is Ready.
#[track_caller]
pub fn assert_all_ready(reports: &[ResourceReport]) {
    let not_ready = not_ready(reports);
    assert!(not_ready.is_empty(), "{not_ready:#?}");
}

/// The reports whose teardown did not end `Deleted`: `name: verdict`.
pub fn not_deleted(reports: &[ResourceReport]) -> Vec<String> {
    reports
        .iter()
        .filter(|r| r.verdict.reason != Reason::Deleted)
        .map(|r| format!("{}: {:?}", r.name, r.verdict))
        .collect()
}

/// The writes the engine made.
pub fn mutating(engine: &Engine) -> u64 {
    engine.aws().ledger().summary().mutating
}

/// The engine made exactly `expected` writes (its ledger's summary shows
/// which otherwise).
#[track_caller]
pub fn assert_writes(engine: &Engine, expected: u64) {
    assert_eq!(
        mutating(engine),
        expected,
        "{:#?}",
        engine.aws().ledger().summary()
    );
}

/// Calls of one `service:Operation` the engine made.
pub fn count(engine: &Engine, key: &str) -> u64 {
    engine
        .aws()
        .ledger()
        .summary()
        .by_operation
        .get(key)
        .copied()
        .unwrap_or(0)
}

/// The outcomes of one `service:Operation` in the engine's ledger, in
/// order.
pub fn outcomes(engine: &Engine, key: &str) -> Vec<Outcome> {
    engine
        .aws()
        .ledger()
        .records()
        .into_iter()
        .filter(|r| r.key() == key)
        .map(|r| r.outcome)
        .collect()
}
