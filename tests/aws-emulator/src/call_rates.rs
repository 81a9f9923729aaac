//! Calls per second, per quota and region: every API call that reached the
//! emulator (traffic and control endpoints are not calls) counted in the
//! second it arrived, since the emulator started or its counts were last
//! reset, and the calls the quotas throttled counted the same way. Served
//! at `GET /__emulator/rates` whether the quotas are enforced or not, so a
//! benchmark can tell the request rate of each phase of a run against
//! AWS's quotas (see `rate_quotas`).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// `GET /__emulator/rates`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RateReport {
    /// Seconds from the start of the series to this report.
    pub elapsed_seconds: f64,
    /// Calls per second, by `QUOTA@REGION` (`lambda@eu-west-1`); element
    /// `i` counts the calls of second `i`. A series ends at its last call.
    pub calls: BTreeMap<String, Vec<u32>>,
    /// The calls the enforced quotas throttled, the same way.
    pub throttled: BTreeMap<String, Vec<u32>>,
    /// The quotas in force (`QUOTA` → requests per second); empty when
    /// they are not enforced.
    pub enforced: BTreeMap<String, f64>,
}

impl RateReport {
    /// Calls of `series` from second `from` (inclusive) to `to`
    /// (exclusive), throttled ones included.
    pub fn calls_between(&self, series: &str, from: usize, to: usize) -> u64 {
        sum(self.calls.get(series), from, to)
    }

    /// Throttled calls of `series` from second `from` to `to`.
    pub fn throttled_between(&self, series: &str, from: usize, to: usize) -> u64 {
        sum(self.throttled.get(series), from, to)
    }

    /// The most calls of `series` in any `window` consecutive seconds
    /// within `from..to`, divided by the window: the peak rate.
    pub fn peak_rate(&self, series: &str, from: usize, to: usize, window: usize) -> f64 {
        let Some(counts) = self.calls.get(series) else {
            return 0.0;
        };
        let window = window.max(1);
        let end = to.min(counts.len());
        if from >= end {
            return 0.0;
        }
        let slice = &counts[from..end];
        let best = if slice.len() <= window {
            slice.iter().map(|&n| u64::from(n)).sum::<u64>()
        } else {
            slice
                .windows(window)
                .map(|w| w.iter().map(|&n| u64::from(n)).sum::<u64>())
                .max()
                .unwrap_or(0)
        };
        best as f64 / window as f64
    }
}

fn sum(counts: Option<&Vec<u32>>, from: usize, to: usize) -> u64 {
    counts.map_or(0, |counts| {
        counts
            .iter()
            .take(to)
            .skip(from)
            .map(|&n| u64::from(n))
            .sum()
    })
}

/// The series, from `start`.
#[derive(Debug)]
pub(crate) struct CallRates {
    start: Instant,
    calls: BTreeMap<String, Vec<u32>>,
    throttled: BTreeMap<String, Vec<u32>>,
}

impl CallRates {
    pub(crate) fn new(now: Instant) -> CallRates {
        CallRates {
            start: now,
            calls: BTreeMap::new(),
            throttled: BTreeMap::new(),
        }
    }

    /// Counts a call against `quota` in `region` at `now`, and whether it
    /// was throttled.
    pub(crate) fn count(&mut self, quota: &str, region: &str, throttled: bool, now: Instant) {
        let second = now.saturating_duration_since(self.start).as_secs() as usize;
        let series = format!("{quota}@{region}");
        if throttled {
            bump(&mut self.throttled, &series, second);
        }
        bump(&mut self.calls, &series, second);
    }

    pub(crate) fn report(&self, enforced: BTreeMap<String, f64>, now: Instant) -> RateReport {
        RateReport {
            elapsed_seconds: now.saturating_duration_since(self.start).as_secs_f64(),
            calls: self.calls.clone(),
            throttled: self.throttled.clone(),
            enforced,
        }
    }

    /// Starts the series again at `now`.
    pub(crate) fn reset(&mut self, now: Instant) {
        *self = CallRates::new(now);
    }
}

fn bump(series: &mut BTreeMap<String, Vec<u32>>, key: &str, second: usize) {
    let counts = series.entry(key.to_owned()).or_default();
    if counts.len() <= second {
        counts.resize(second + 1, 0);
    }
    counts[second] = counts[second].saturating_add(1);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn calls_land_in_their_second_and_peaks_take_the_busiest_window() {
        let start = Instant::now();
        let mut rates = CallRates::new(start);
        let at = |ms| start + Duration::from_millis(ms);
        for ms in [0, 10, 900, 1_500, 5_200, 5_300, 5_400, 5_999] {
            rates.count("lambda", "eu-west-1", ms == 10, at(ms));
        }
        rates.count("ssm", "us-east-1", false, at(2_000));
        let report = rates.report(BTreeMap::new(), at(7_000));
        assert_eq!(report.calls["lambda@eu-west-1"], [3, 1, 0, 0, 0, 4]);
        assert_eq!(report.throttled["lambda@eu-west-1"], [1]);
        assert_eq!(report.calls_between("lambda@eu-west-1", 1, 6), 5);
        assert_eq!(report.throttled_between("lambda@eu-west-1", 0, 6), 1);
        assert_eq!(report.calls_between("ssm@us-east-1", 0, 2), 0);
        assert_eq!(report.peak_rate("lambda@eu-west-1", 0, 6, 2), 2.0);
        assert_eq!(report.peak_rate("lambda@eu-west-1", 0, 6, 10), 0.8);
        assert_eq!(report.peak_rate("iam@us-east-1", 0, 6, 2), 0.0);
        assert_eq!(report.elapsed_seconds, 7.0);
    }
}
