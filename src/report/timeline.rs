//! The run per interval in the summary and as CSV: what the users offered, what the
//! servers got (retries included), what succeeded, failed or timed out, each
//! operation's p50 and p99, and each queue's utilisation and length.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::SimDuration;
use crate::run::RunOutcome;

/// The run per interval, one array per figure (index `i` is `[i, i+1)` intervals).
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct TimelineSummary {
    /// Length of an interval, ns.
    pub interval_ns: u64,
    /// First attempts invoked: the load the users offered.
    pub offered: Vec<u64>,
    /// Every attempt sent, retries included.
    pub attempts: Vec<u64>,
    /// Attempts that succeeded: goodput.
    pub ok: Vec<u64>,
    /// Attempts answered with a failure.
    pub errors: Vec<u64>,
    /// Attempts given up on without an answer.
    pub timeouts: Vec<u64>,
    /// Per operation, the p50 and p99 of successful attempts ending in each interval
    /// (0 where none did), ns.
    pub latency: BTreeMap<&'static str, Percentiles>,
    /// Per queue, the mean share of its workers busy in each interval.
    pub utilisation: BTreeMap<String, Vec<f64>>,
    /// Per queue, the mean number of requests waiting in each interval.
    pub queue_mean: BTreeMap<String, Vec<f64>>,
}

/// An operation's latency percentiles per interval, ns.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct Percentiles {
    /// Medians.
    pub p50_ns: Vec<u64>,
    /// 99th percentiles.
    pub p99_ns: Vec<u64>,
}

/// Rounded so a JSON snapshot does not hang on the last digit.
fn round(x: f64, places: i32) -> f64 {
    let scale = libm::pow(10.0, f64::from(places));
    libm::round(x * scale) / scale
}

impl TimelineSummary {
    /// The timeline of `outcome`'s first `duration`.
    pub fn of(outcome: &RunOutcome, duration: SimDuration) -> TimelineSummary {
        let t = &outcome.history.timeline;
        let intervals = t.until(duration.as_nanos());
        let n = duration.as_nanos().div_ceil(t.interval_ns()) as usize;
        let column = |f: fn(&crate::check::timeline::Interval) -> u64| {
            let mut v: Vec<u64> = intervals.iter().map(f).collect();
            v.resize(n, 0);
            v
        };
        let mut latency = BTreeMap::new();
        for (r, &name) in t.rows().iter().enumerate() {
            let p: &mut Percentiles = latency.entry(name).or_default();
            for i in 0..n {
                let (_, p50, p99) =
                    intervals.get(i).and_then(|iv| iv.latency.get(r).copied()).unwrap_or_default();
                p.p50_ns.push(p50);
                p.p99_ns.push(p99);
            }
        }
        let (mut utilisation, mut queue_mean) = (BTreeMap::new(), BTreeMap::new());
        for (name, load) in &outcome.loads {
            let mut per: Vec<(f64, f64)> = load.over_time().collect();
            per.resize(n, (0.0, 0.0));
            utilisation.insert(name.clone(), per.iter().map(|p| round(p.0, 4)).collect());
            queue_mean.insert(name.clone(), per.iter().map(|p| round(p.1, 3)).collect());
        }
        TimelineSummary {
            interval_ns: t.interval_ns(),
            offered: column(|i| i.offered),
            attempts: column(|i| i.attempts),
            ok: column(|i| i.ok),
            errors: column(|i| i.errors),
            timeouts: column(|i| i.timeouts),
            latency,
            utilisation,
            queue_mean,
        }
    }

    /// Intervals in the timeline.
    pub fn len(&self) -> usize {
        self.offered.len()
    }

    /// Whether it has no interval.
    pub fn is_empty(&self) -> bool {
        self.offered.is_empty()
    }

    /// Offered load, attempts and goodput as bars of one scale, at most 60 columns
    /// (each the mean of the intervals it covers), for the text summary.
    pub fn write_text(&self, t: &mut String) {
        const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let width = self.len().clamp(1, 60);
        let per = self.len().div_ceil(width).max(1);
        // Counts are per interval; the bars say per second whatever the interval.
        let interval_s = self.interval_ns as f64 / 1e9;
        let means = |v: &[u64]| -> Vec<f64> {
            let rate = |c: &[u64]| c.iter().sum::<u64>() as f64 / c.len() as f64 / interval_s;
            v.chunks(per).map(rate).collect()
        };
        let series = [
            ("offered", means(&self.offered)),
            ("attempts", means(&self.attempts)),
            ("goodput", means(&self.ok)),
        ];
        let top = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
        let secs = (per as u64 * self.interval_ns) as f64 / 1e9;
        let _ = writeln!(
            t,
            "over time    per second, one column per {secs} s, of one scale (top {top:.0}/s):"
        );
        for (name, v) in &series {
            let bar = |x: &f64| {
                if top == 0.0 || *x == 0.0 {
                    ' '
                } else {
                    BARS[((x / top * 7.0).round() as usize).min(7)]
                }
            };
            let peak = v.iter().copied().fold(0.0, f64::max);
            let bars: String = v.iter().map(bar).collect();
            let _ = writeln!(t, "  {name:<9} {bars} peak {peak:.0}/s");
        }
    }

    /// One CSV row per interval: its start in seconds, then every figure.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("start_s,offered,attempts,ok,errors,timeouts");
        for name in self.latency.keys() {
            let _ = write!(out, ",{name}_p50_ms,{name}_p99_ms");
        }
        for name in self.utilisation.keys() {
            let name = name.replace(' ', "_");
            let _ = write!(out, ",{name}_utilisation,{name}_queue_mean");
        }
        out.push('\n');
        for i in 0..self.len() {
            // From whole nanoseconds: 197 intervals of 100 ms start at 19.7, not at
            // 19.700000000000003.
            let start_s = (i as u64 * self.interval_ns) as f64 / 1e9;
            let _ = write!(
                out,
                "{},{},{},{},{},{}",
                start_s,
                self.offered[i],
                self.attempts[i],
                self.ok[i],
                self.errors[i],
                self.timeouts[i]
            );
            for p in self.latency.values() {
                let ms = |ns: u64| round(ns as f64 / 1e6, 3);
                let _ = write!(out, ",{},{}", ms(p.p50_ns[i]), ms(p.p99_ns[i]));
            }
            for (name, u) in &self.utilisation {
                let _ = write!(out, ",{},{}", u[i], self.queue_mean[name][i]);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::timeline::INTERVAL;

    #[test]
    fn the_csv_has_a_header_and_a_row_per_interval() {
        let mut latency = BTreeMap::new();
        latency
            .insert("read", Percentiles { p50_ns: vec![1_500_000, 0], p99_ns: vec![9_000_000, 0] });
        let t = TimelineSummary {
            interval_ns: INTERVAL.as_nanos(),
            offered: vec![10, 0],
            attempts: vec![12, 3],
            ok: vec![9, 0],
            errors: vec![1, 0],
            timeouts: vec![2, 3],
            latency,
            utilisation: BTreeMap::from([("api".to_string(), vec![0.5, 1.0])]),
            queue_mean: BTreeMap::from([("api".to_string(), vec![0.25, 40.0])]),
        };
        let csv = t.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "start_s,offered,attempts,ok,errors,timeouts,read_p50_ms,read_p99_ms,api_utilisation,api_queue_mean",
                "0,10,12,9,1,2,1.5,9,0.5,0.25",
                "1,0,3,0,0,3,0,0,1,40",
            ]
        );
    }

    #[test]
    fn interval_starts_are_exact_decimals() {
        let n = 300;
        let t = TimelineSummary {
            interval_ns: 100_000_000,
            offered: vec![0; n],
            attempts: vec![0; n],
            ok: vec![0; n],
            errors: vec![0; n],
            timeouts: vec![0; n],
            latency: BTreeMap::new(),
            utilisation: BTreeMap::new(),
            queue_mean: BTreeMap::new(),
        };
        let csv = t.to_csv();
        let starts: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
        assert_eq!(starts[197], "19.7");
        assert!(starts.iter().all(|s| s.len() <= 4), "{starts:?}");
    }

    #[test]
    fn the_text_bars_say_per_second_whatever_the_interval() {
        let t = TimelineSummary {
            interval_ns: 5_000_000_000,
            offered: vec![2500, 2000],
            attempts: vec![2500, 2000],
            ok: vec![1000, 500],
            errors: vec![0, 0],
            timeouts: vec![0, 0],
            latency: BTreeMap::new(),
            utilisation: BTreeMap::new(),
            queue_mean: BTreeMap::new(),
        };
        let mut text = String::new();
        t.write_text(&mut text);
        assert!(text.contains("one column per 5 s"), "{text}");
        assert!(text.contains("(top 500/s)"), "{text}");
        assert!(text.contains("goodput   ▄▂ peak 200/s"), "{text}");
    }
}
