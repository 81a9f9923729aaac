//! The call ledger: every AWS API call urlguard makes, in order, with its
//! service, operation, whether it writes, and its outcome.
//!
//! One record is one logical call as the adapter sees it: the SDK's own
//! retry attempts (throttling, 5xx, dropped connections) happen inside it and
//! are not counted separately. Paginated listings record one call per page,
//! and adapter-level loops (waiting for a function to become ready, retrying
//! a role IAM has not propagated yet) record every request they send.
//!
//! The CLI prints [`Ledger::summary`] as the `awsCalls` object of its JSON
//! output; tests use it to count what a reconcile cost.
//!
//! The ledger also carries an optional [`CallHook`], a test device: every
//! call awaits it before it is sent, and a call it refuses fails without
//! reaching AWS. Tests use it to stop an engine after its k-th write (a
//! crash, deterministically) or to let a concurrent writer act between a
//! read and the write that depends on it. Nothing in urlguard sets one.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use super::gate::WriteGate;

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered with success.
    Ok,
    /// The call failed; the AWS error code (`ResourceNotFoundException`,
    /// `PreconditionFailed`, ...) or, without an answer, the kind of failure
    /// (`TimeoutError`, `DispatchFailure`, ...).
    Error(String),
}

impl Outcome {
    /// Whether the call succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// `lambda`, `cloudfront`, `ssm`, `iam` or `sts`.
    pub service: &'static str,
    /// The API operation, such as `UpdateDistribution`.
    pub operation: &'static str,
    /// Whether the operation changes AWS state (everything but reads).
    pub mutating: bool,
    /// How it ended.
    pub outcome: Outcome,
}

impl CallRecord {
    /// `service:Operation`, the key of [`LedgerSummary::by_operation`].
    pub fn key(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// Call counts, as printed in the CLI's `awsCalls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerSummary {
    /// Every call.
    pub total: u64,
    /// Calls that change AWS state.
    pub mutating: u64,
    /// Calls per `service:Operation`, such as
    /// `cloudfront:UpdateDistribution`.
    pub by_operation: BTreeMap<String, u64>,
}

/// A call about to be sent, as a [`CallHook`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingCall {
    /// The service.
    pub service: &'static str,
    /// The API operation.
    pub operation: &'static str,
    /// Whether it changes AWS state.
    pub mutating: bool,
}

/// A test hook awaited before every call is sent: `Ok(())` lets the call
/// go, `Err(message)` fails it without reaching AWS (as
/// [`super::AwsError::Transport`], like a process that stopped).
pub type CallHook = Arc<
    dyn Fn(PendingCall) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync,
>;

/// Sees every call as it is recorded (the controller counts them in its
/// metrics).
pub type CallObserver = Arc<dyn Fn(&CallRecord) + Send + Sync>;

/// The shared, append-only record of calls. Cloning shares it.
#[derive(Clone, Default)]
pub struct Ledger {
    records: Arc<Mutex<Vec<CallRecord>>>,
    hook: Arc<Mutex<Option<CallHook>>>,
    observer: Option<CallObserver>,
    gate: WriteGate,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("records", &self.lock().len())
            .field("hook", &self.hook().is_some())
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// A ledger that hands every call to `observer` and keeps no records:
    /// a process that runs for months would otherwise grow its ledger
    /// without bound. [`Ledger::records`] and [`Ledger::summary`] stay
    /// empty.
    pub fn observed(observer: CallObserver) -> Ledger {
        Ledger {
            observer: Some(observer),
            ..Ledger::default()
        }
    }

    /// The same ledger, its writes asking `gate` first (the controller's
    /// leader lease; see [`WriteGate`]).
    pub fn with_gate(mut self, gate: WriteGate) -> Ledger {
        self.gate = gate;
        self
    }

    /// The gate every write asks before it is sent.
    pub(crate) fn gate(&self) -> &WriteGate {
        &self.gate
    }

    /// Appends one call (or, for an observed ledger, hands it on).
    pub fn record(&self, record: CallRecord) {
        match &self.observer {
            Some(observer) => observer(&record),
            None => self.lock().push(record),
        }
    }

    /// Every call so far, in order.
    pub fn records(&self) -> Vec<CallRecord> {
        self.lock().clone()
    }

    /// The counts of every call so far.
    pub fn summary(&self) -> LedgerSummary {
        self.summary_without(&[])
    }

    /// The counts without the calls of some `service:Operation` keys, such
    /// as `["cloudfront:GetDistribution"]` to leave out deployment polling.
    pub fn summary_without(&self, excluded: &[&str]) -> LedgerSummary {
        let mut summary = LedgerSummary::default();
        for record in self.lock().iter() {
            let key = record.key();
            if excluded.contains(&key.as_str()) {
                continue;
            }
            summary.total += 1;
            if record.mutating {
                summary.mutating += 1;
            }
            *summary.by_operation.entry(key).or_default() += 1;
        }
        summary
    }

    /// Forgets every call (between phases of a measurement).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Installs (or, with `None`, removes) the test hook every call awaits
    /// before it is sent; see [`CallHook`].
    pub fn set_hook(&self, hook: Option<CallHook>) {
        *self
            .hook
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = hook;
    }

    /// The test hook, if one is installed.
    pub(crate) fn hook(&self) -> Option<CallHook> {
        self.hook
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<CallRecord>> {
        // A panic while holding the lock cannot leave a half-written Vec
        // push behind that matters here: keep counting.
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether an operation changes AWS state: everything except the read-only
/// families `Get*`, `List*` and `Describe*`.
pub(crate) fn is_mutating(operation: &str) -> bool {
    !["Get", "List", "Describe"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(service: &'static str, operation: &'static str, outcome: Outcome) -> CallRecord {
        CallRecord {
            service,
            operation,
            mutating: is_mutating(operation),
            outcome,
        }
    }

    #[test]
    fn reads_and_writes_are_told_apart_by_operation_family() {
        for read in [
            "GetFunction",
            "ListVersionsByFunction",
            "GetParameters",
            "ListTagsForResource",
            "GetCallerIdentity",
            "DescribeParameters",
        ] {
            assert!(!is_mutating(read), "{read}");
        }
        for write in [
            "CreateFunction",
            "PublishVersion",
            "AddPermission",
            "RemovePermission",
            "PutParameter",
            "UpdateDistribution",
            "DeleteOriginAccessControl",
            "CreateDistributionWithTags",
            "UpdateAssumeRolePolicy",
        ] {
            assert!(is_mutating(write), "{write}");
        }
    }

    #[test]
    fn summary_counts_per_operation_and_can_leave_polls_out() {
        let ledger = Ledger::new();
        let shared = ledger.clone();
        shared.record(record("cloudfront", "GetDistribution", Outcome::Ok));
        shared.record(record("cloudfront", "GetDistribution", Outcome::Ok));
        shared.record(record("cloudfront", "UpdateDistribution", Outcome::Ok));
        shared.record(record(
            "lambda",
            "GetFunction",
            Outcome::Error("ResourceNotFoundException".into()),
        ));

        let summary = ledger.summary();
        assert_eq!(summary.total, 4);
        assert_eq!(summary.mutating, 1);
        assert_eq!(summary.by_operation["cloudfront:GetDistribution"], 2);
        assert_eq!(summary.by_operation["lambda:GetFunction"], 1);

        let without = ledger.summary_without(&["cloudfront:GetDistribution"]);
        assert_eq!(without.total, 2);
        assert_eq!(without.mutating, 1);
        assert!(
            !without
                .by_operation
                .contains_key("cloudfront:GetDistribution")
        );

        assert_eq!(ledger.records().len(), 4);
        assert!(!ledger.records()[3].outcome.is_ok());
        ledger.clear();
        assert_eq!(shared.summary(), LedgerSummary::default());
    }

    #[test]
    fn summary_serializes_as_the_cli_prints_it() {
        let ledger = Ledger::new();
        ledger.record(record("cloudfront", "UpdateDistribution", Outcome::Ok));
        let json = serde_json::to_value(ledger.summary()).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "total": 1,
                "mutating": 1,
                "byOperation": {"cloudfront:UpdateDistribution": 1}
            })
        );
    }
}
