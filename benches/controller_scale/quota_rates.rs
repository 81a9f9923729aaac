//! The bench's report of AWS request rates per quota class: from the
//! aws-emulator's calls per second (`GET /__emulator/rates`, series
//! `QUOTA@REGION`), a phase's peak (the busiest 10 s window) and average
//! rate per class, the calls the emulator throttled, and, for the steady
//! state, each class against issue 18's targets.

use std::time::{Duration, Instant};

use aws_emulator::RateReport;

/// The window of the peak rate.
pub const PEAK_WINDOW: usize = 10;

/// Issue 18's steady-state targets at 5,000 URLs / 100 distributions:
/// (quota, requests per second), per account and region.
pub const STEADY_TARGETS: [(&str, f64); 3] = [
    ("lambda", 3.0),
    ("lambda:GetFunction", 20.0),
    ("cloudfront", 1.0),
];

/// A stretch of the run, in whole seconds of the emulator's series.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub from: usize,
    pub to: usize,
}

impl Phase {
    /// The seconds from `start` to `end`, where `series_start` is when the
    /// emulator's series began (its counts were reset).
    pub fn between(series_start: Instant, start: Instant, end: Instant) -> Phase {
        let second = |at: Instant| at.saturating_duration_since(series_start).as_secs() as usize;
        let to = second(end) + 1;
        Phase {
            from: second(start).min(to.saturating_sub(1)),
            to,
        }
    }

    fn length(&self) -> Duration {
        Duration::from_secs((self.to - self.from).max(1) as u64)
    }
}

/// The quota of a `QUOTA@REGION` series.
fn quota(series: &str) -> &str {
    series.split_once('@').map_or(series, |(quota, _)| quota)
}

/// Prints, per series with calls in `phase`: calls, average rate, peak
/// rate (busiest 10 s) and throttles; returns the throttles.
pub fn print_phase(report: &RateReport, phase: Phase, title: &str) -> u64 {
    let seconds = phase.length().as_secs_f64();
    println!(
        "{title}: AWS calls per quota class ({:.0} s; peak = busiest {PEAK_WINDOW} s window):",
        seconds
    );
    let mut throttled_total = 0;
    for series in report.calls.keys() {
        let calls = report.calls_between(series, phase.from, phase.to);
        if calls == 0 {
            continue;
        }
        let throttled = report.throttled_between(series, phase.from, phase.to);
        throttled_total += throttled;
        let quota_rate = report
            .enforced
            .get(quota(series))
            .map_or("not enforced".to_owned(), |rate| format!("quota {rate}/s"));
        println!(
            "  {series:<32} {calls:>8} calls  avg {:>7.2}/s  peak {:>7.2}/s  ({quota_rate})  throttled {throttled}",
            calls as f64 / seconds,
            report.peak_rate(series, phase.from, phase.to, PEAK_WINDOW),
        );
    }
    throttled_total
}

/// Prints the steady-state rate of each target quota class (every region
/// it was called in, 0 when none) against its target; whether all met it.
pub fn print_targets(report: &RateReport, phase: Phase, label: &str) -> bool {
    let seconds = phase.length().as_secs_f64();
    let mut all_met = true;
    for (target_quota, target) in STEADY_TARGETS {
        let series: Vec<&String> = report
            .calls
            .keys()
            .filter(|series| quota(series) == target_quota)
            .collect();
        let rates: Vec<(String, f64)> = if series.is_empty() {
            vec![(format!("{target_quota} (no calls)"), 0.0)]
        } else {
            series
                .iter()
                .map(|s| {
                    let calls = report.calls_between(s, phase.from, phase.to);
                    ((*s).clone(), calls as f64 / seconds)
                })
                .collect()
        };
        for (name, rate) in rates {
            let met = rate <= target;
            all_met &= met;
            println!(
                "  {label} {name:<32} {rate:>7.3}/s  target <= {target}/s: {}",
                if met { "met" } else { "NOT met" }
            );
        }
    }
    all_met
}
