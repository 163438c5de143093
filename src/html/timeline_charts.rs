//! The run over time as charts: the load offered, the attempts sent and the goodput per
//! second, each operation's p99 per second and each queue's length, with the faults'
//! windows shaded behind them — the picture of a run around a fault.

use crate::chart::{Figure, Series};
use crate::report::timeline::TimelineSummary;

/// The rate and latency charts of `t`, shading `faults` (start s, end s, label).
pub fn figures(t: &TimelineSummary, faults: &[(f64, f64, String)]) -> Vec<(Figure, &'static str)> {
    if t.attempts.iter().all(|&a| a == 0) {
        return Vec::new(); // No client sent anything: nothing to draw.
    }
    let secs = t.interval_ns as f64 / 1e9;
    let per_second = |v: &[u64]| -> Vec<(f64, f64)> {
        v.iter().enumerate().map(|(i, &n)| ((i as f64 + 0.5) * secs, n as f64 / secs)).collect()
    };
    let line = |name: &str, points| Series { name: name.into(), points, ..Series::default() };
    let mut rates = Figure::over_time(
        "load and goodput",
        "per second",
        vec![
            line("offered (first tries)", per_second(&t.offered)),
            line("attempts (with retries)", per_second(&t.attempts)),
            line("goodput (succeeded)", per_second(&t.ok)),
        ],
    );
    let whole = Some((0.0, t.len() as f64 * secs));
    rates.shaded = faults.to_vec();
    rates.x_span = whole;
    let mut figures = vec![(
        rates,
        "Per second: the operations users started, every attempt sent (retries \
         included), and the attempts that succeeded. Shaded: the faults' windows.",
    )];
    let latency: Vec<Series> = (t.latency.iter())
        .map(|(name, p)| {
            let points = (p.p99_ns.iter().enumerate())
                .filter(|(_, ns)| **ns > 0)
                .map(|(i, &ns)| ((i as f64 + 0.5) * secs, ns as f64 / 1e6))
                .collect();
            line(&format!("{name} p99"), points)
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !latency.is_empty() {
        let mut fig = Figure::over_time("p99 latency", "ms", latency);
        fig.shaded = faults.to_vec();
        fig.x_span = whole;
        figures.push((
            fig,
            "Each operation's 99th percentile per second, of the attempts that succeeded in \
             that second; where none did, the line bridges the gap.",
        ));
    }
    let queues: Vec<Series> = (t.queue_mean.iter())
        .filter(|(_, q)| q.iter().any(|&x| x > 0.0))
        .map(|(name, q)| {
            let points = q.iter().enumerate().map(|(i, &x)| ((i as f64 + 0.5) * secs, x)).collect();
            line(&format!("{name} queue"), points)
        })
        .collect();
    if !queues.is_empty() {
        let mut fig = Figure::over_time("queues", "requests waiting (mean)", queues);
        fig.shaded = faults.to_vec();
        fig.x_span = whole;
        figures.push((
            fig,
            "Each server queue's mean length per second: requests waiting for a worker.",
        ));
    }
    figures
}
