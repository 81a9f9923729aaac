//! The wire ledger: every call that reached the emulator, counted per
//! `service:Operation`, every injected fault and every call an enforced
//! rate quota throttled counted the same way, and a
//! bounded log of recent calls in order. Tests assert on it through
//! `GET /__emulator/calls` and `GET /__emulator/log`.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::faults::RuleReport;

/// How many calls the in-memory log keeps (the counts keep everything).
const LOG_CAPACITY: usize = 10_000;

/// One call as it went over the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    /// 1, 2, 3... in arrival order of completion.
    pub seq: u64,
    /// `service:Operation`.
    pub call: String,
    pub method: String,
    pub path: String,
    /// The HTTP status sent, or `None` when the answer was dropped.
    pub status: Option<u16>,
    /// The fault injected into this call, if any (`throttle`, ...).
    pub fault: Option<String>,
    /// The rate quota that throttled this call, if one did (`lambda`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled: Option<String>,
}

/// `GET /__emulator/calls`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CallReport {
    /// Calls per `service:Operation`, faulted ones included.
    pub calls: BTreeMap<String, u64>,
    /// Injected faults per `service:Operation`.
    pub faults: BTreeMap<String, u64>,
    /// The rules in force, with what each matched and injected.
    pub rules: Vec<RuleReport>,
    /// Calls an enforced rate quota throttled, per `service:Operation`.
    #[serde(default)]
    pub throttled: BTreeMap<String, u64>,
}

impl CallReport {
    /// Calls of `service:Operation` (0 when none).
    pub fn count(&self, key: &str) -> u64 {
        self.calls.get(key).copied().unwrap_or(0)
    }

    /// Faults injected into `service:Operation` (0 when none).
    pub fn faults_of(&self, key: &str) -> u64 {
        self.faults.get(key).copied().unwrap_or(0)
    }

    /// Calls of `service:Operation` a rate quota throttled (0 when none).
    pub fn throttled_of(&self, key: &str) -> u64 {
        self.throttled.get(key).copied().unwrap_or(0)
    }

    /// Every call a rate quota throttled.
    pub fn throttled_total(&self) -> u64 {
        self.throttled.values().sum()
    }

    /// All calls to one service.
    pub fn total_for(&self, service: &str) -> u64 {
        let prefix = format!("{service}:");
        self.calls
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Ledger {
    calls: BTreeMap<String, u64>,
    faults: BTreeMap<String, u64>,
    throttled: BTreeMap<String, u64>,
    log: VecDeque<CallRecord>,
    seq: u64,
}

impl Ledger {
    pub(crate) fn record(&mut self, mut record: CallRecord) {
        *self.calls.entry(record.call.clone()).or_default() += 1;
        if record.fault.is_some() {
            *self.faults.entry(record.call.clone()).or_default() += 1;
        }
        if record.throttled.is_some() {
            *self.throttled.entry(record.call.clone()).or_default() += 1;
        }
        self.seq += 1;
        record.seq = self.seq;
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(record);
    }

    pub(crate) fn report(&self, rules: Vec<RuleReport>) -> CallReport {
        CallReport {
            calls: self.calls.clone(),
            faults: self.faults.clone(),
            rules,
            throttled: self.throttled.clone(),
        }
    }

    pub(crate) fn log(&self) -> Vec<CallRecord> {
        self.log.iter().cloned().collect()
    }

    pub(crate) fn reset(&mut self) {
        self.calls.clear();
        self.faults.clear();
        self.throttled.clear();
        self.log.clear();
    }
}
