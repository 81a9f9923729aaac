//! The wire ledger: every call that reached the emulator, counted per
//! `service:Operation`, every injected fault counted the same way, and a
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
    log: VecDeque<CallRecord>,
    seq: u64,
}

impl Ledger {
    pub(crate) fn record(&mut self, mut record: CallRecord) {
        *self.calls.entry(record.call.clone()).or_default() += 1;
        if record.fault.is_some() {
            *self.faults.entry(record.call.clone()).or_default() += 1;
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
        }
    }

    pub(crate) fn log(&self) -> Vec<CallRecord> {
        self.log.iter().cloned().collect()
    }

    pub(crate) fn reset(&mut self) {
        self.calls.clear();
        self.faults.clear();
        self.log.clear();
    }
}
