//! The run over time as charts: the load offered, the attempts sent and the goodput per
//! second, each operation's p99 per second and each queue's length, with the faults'
//! windows shaded behind them — the picture of a run around a fault.

use crate::chart::{Figure, Series};
use crate::report::timeline::TimelineSummary;

/// A chart of `series` over the whole run, `faults` shaded, with its caption.
type Chart = (Figure, &'static str);

/// The rate, latency and queue charts of `t`, shading `faults` (start s, end s, label).
pub fn figures(t: &TimelineSummary, faults: &[(f64, f64, String)]) -> Vec<Chart> {
    if t.attempts.iter().all(|&a| a == 0) {
        return Vec::new(); // No client sent anything: nothing to draw.
    }
    let secs = t.interval_ns as f64 / 1e9;
    // One point per interval, at its middle; `None` values are left out.
    let series = |name: String, values: &mut dyn Iterator<Item = Option<f64>>| Series {
        name,
        points: (values.enumerate())
            .filter_map(|(i, v)| v.map(|v| ((i as f64 + 0.5) * secs, v)))
            .collect(),
        ..Series::default()
    };
    let chart = |title: &str, y: &str, lines: Vec<Series>, caption: &'static str| {
        let mut fig = Figure::over_time(title, y, lines);
        fig.shaded = faults.to_vec();
        fig.x_span = Some((0.0, t.len() as f64 * secs));
        (fig, caption)
    };
    let rate =
        |name: &str, v: &[u64]| series(name.into(), &mut v.iter().map(|&n| Some(n as f64 / secs)));
    let mut figures = vec![chart(
        "load and goodput",
        "per second",
        vec![
            rate("offered (first tries)", &t.offered),
            rate("attempts (with retries)", &t.attempts),
            rate("goodput (succeeded)", &t.ok),
        ],
        "Per second: the operations users started, every attempt sent (retries \
         included), and the attempts that succeeded. Shaded: the faults' windows.",
    )];
    let latency: Vec<Series> = (t.latency.iter())
        .map(|(name, p)| {
            let ms = &mut p.p99_ns.iter().map(|&ns| (ns > 0).then(|| ns as f64 / 1e6));
            series(format!("{name} p99"), ms)
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !latency.is_empty() {
        figures.push(chart(
            "p99 latency",
            "ms",
            latency,
            "Each operation's 99th percentile per second, of the attempts that succeeded in \
             that second; where none did, the line bridges the gap.",
        ));
    }
    let queues: Vec<Series> = (t.queue_mean.iter())
        .filter(|(_, q)| q.iter().any(|&x| x > 0.0))
        .map(|(name, q)| series(format!("{name} queue"), &mut q.iter().map(|&x| Some(x))))
        .collect();
    if !queues.is_empty() {
        figures.push(chart(
            "queues",
            "requests waiting (mean)",
            queues,
            "Each server queue's mean length per second: requests waiting for a worker.",
        ));
    }
    figures
}
