//! Judging a scenario's objectives against the figures of its run: the timeline's
//! goodput, the operation table's latency, the queues' utilisation and the share of
//! stale reads. One report, `objectives`, with one story line per objective.

use crate::check::verdict::StoryLine;
use crate::check::{CheckReport, History};
use crate::components::Load;
use crate::engine::SimDuration;
use crate::engine::time::format_nanos;
use crate::model::Objective;

/// What one objective measured, and whether it was met.
struct Measured {
    met: bool,
    text: String,
    /// The figures behind it, by name, for the summary.
    figures: Vec<(&'static str, u64)>,
}

impl Measured {
    fn new(met: bool, text: String) -> Measured {
        Measured { met, text, figures: Vec::new() }
    }

    fn with(mut self, figures: &[(&'static str, u64)]) -> Measured {
        self.figures = figures.to_vec();
        self
    }
}

/// The `objectives` report of a run that lasted `duration`.
pub fn judge(
    objectives: &[Objective],
    history: &History,
    loads: &[(String, Load)],
    duration: SimDuration,
) -> CheckReport {
    let measured: Vec<Measured> =
        objectives.iter().map(|o| measure(o, history, loads, duration)).collect();
    let missed = measured.iter().filter(|m| !m.met).count() as u64;
    let mut report = CheckReport::new("objectives", missed, objectives.len() as u64, "objectives");
    // Each kind's first objective names the figures.
    for (name, value) in measured.iter().flat_map(|m| &m.figures) {
        report.figures.entry(name).or_insert(*value);
    }
    if missed > 0 {
        // Every objective, met or not: what the run achieved is the point.
        let line = |(o, m): (&Objective, &Measured)| {
            let mark = if m.met { "met" } else { "MISSED" };
            StoryLine::end(format!("{mark}: {}: {}", o.describe(), m.text))
        };
        report.story = objectives.iter().zip(&measured).map(line).collect();
    }
    report
}

fn pct(x: f64) -> String {
    format!("{}%", libm::round(x * 1000.0) / 10.0)
}

fn measure(
    o: &Objective,
    history: &History,
    loads: &[(String, Load)],
    duration: SimDuration,
) -> Measured {
    match o {
        Objective::Goodput { after, at_least } => {
            let intervals = history.timeline.until(duration.as_nanos());
            let first = after.as_nanos().div_ceil(history.timeline.interval_ns()) as usize;
            let window = intervals.get(first..).unwrap_or(&[]);
            let offered: u64 = window.iter().map(|i| i.offered).sum();
            let ok: u64 = window.iter().map(|i| i.ok).sum();
            if offered == 0 {
                return Measured::new(false, "no operation was offered".into());
            }
            let share = ok as f64 / offered as f64;
            let text = format!("{ok} succeeded of {offered} offered, {}", pct(share));
            let figures = [("goodput_ok", ok), ("goodput_offered", offered)];
            Measured::new(share >= *at_least, text).with(&figures)
        }
        Objective::P99 { operation, below } => match history.stats(operation) {
            Some(s) if s.latency.count() > 0 => {
                let p99 = s.latency.quantile(0.99);
                let text =
                    format!("p99 {} over {} operations", format_nanos(p99), s.latency.count());
                Measured::new(p99 < below.as_nanos(), text).with(&[("p99_ns", p99)])
            }
            _ => Measured::new(false, format!("no `{operation}` succeeded")),
        },
        Objective::Utilisation { component, below } => {
            let mut merged = Load::default();
            let own = |n: &str| {
                n == component
                    || n.strip_prefix(component.as_str()).is_some_and(|r| r.starts_with('/'))
            };
            loads.iter().filter(|(n, _)| own(n)).for_each(|(_, l)| merged.merge(l));
            let u = merged.utilisation();
            let permille = libm::round(u * 1000.0) as u64;
            Measured::new(u < *below, format!("{} busy", pct(u)))
                .with(&[("utilisation_permille", permille)])
        }
        Objective::StaleShare { below } => {
            let reads: u64 =
                (history.rows()).filter(|(r, _)| r.reads).map(|(_, s)| s.latency.count()).sum();
            let stale = history.stale_reads();
            let share = if reads == 0 { 0.0 } else { stale as f64 / reads as f64 };
            let text = format!("{stale} stale of {reads} reads, {}", pct(share));
            let met = share < *below || (stale == 0 && *below == 0.0);
            Measured::new(met, text).with(&[("stale_reads", stale), ("reads", reads)])
        }
    }
}
