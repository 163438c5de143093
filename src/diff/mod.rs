//! `archsim diff`: two designs run on the same seeds and workload, compared side by
//! side: each invariant's verdict and count (and which flipped), latency percentiles,
//! staleness, throughput, utilisation and the work the engine did.

use rayon::prelude::*;

use crate::check::Verdict;
use crate::components::Registry;
use crate::model::Scenario;
use crate::report::Summary;
use crate::run::execute;

/// One design and its runs, one summary per seed.
#[derive(Debug)]
pub struct Side {
    /// The scenario as loaded.
    pub scenario: Scenario,
    /// One summary per seed, in seed order.
    pub runs: Vec<Summary>,
}

/// Runs `scenario` on every seed, in parallel, in seed order.
pub fn run_side(
    scenario: Scenario,
    seeds: &[u64],
    on_run: &(dyn Fn() + Sync),
) -> Result<Side, String> {
    let runs = seeds
        .par_iter()
        .with_max_len(1)
        .map(|&seed| {
            let mut s = scenario.clone();
            s.seed = seed;
            let outcome = execute(&s, &Registry::new(), false)?;
            on_run();
            Ok(Summary::new(&s, &outcome, None))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Side { scenario, runs })
}

/// How an invariant fared on one side over all seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Seeds on which it was violated.
    pub violated_on: usize,
    /// Seeds run.
    pub seeds: usize,
    /// Violations over all seeds.
    pub violations: u64,
    /// Seeds on which it had no bound to judge against.
    pub not_configured_on: usize,
}

impl Tally {
    fn of(side: &Side, check: &str) -> Option<Tally> {
        let reports: Vec<_> = side.runs.iter().filter_map(|s| s.checks.get(check)).collect();
        (!reports.is_empty()).then(|| Tally {
            violated_on: reports.iter().filter(|c| c.report.verdict == Verdict::Violated).count(),
            seeds: reports.len(),
            violations: reports.iter().map(|c| c.report.violations).sum(),
            not_configured_on: reports
                .iter()
                .filter(|c| c.report.verdict == Verdict::NotConfigured)
                .count(),
        })
    }

    fn violated(&self) -> bool {
        self.violated_on > 0
    }

    /// Whether it was judged on every seed (it had its bound).
    fn judged(&self) -> bool {
        self.not_configured_on == 0
    }
}

/// How a verdict changed from A to B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flip {
    /// Violated in A, holds in B.
    Fixed,
    /// Holds in A, violated in B.
    Broken,
}

/// One invariant on both sides (`None`: that side does not check it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvariantRow {
    /// The invariant.
    pub check: String,
    /// Design A.
    pub a: Option<Tally>,
    /// Design B.
    pub b: Option<Tally>,
    /// How the verdict flipped, if it did.
    pub flip: Option<Flip>,
}

/// What a figure counts, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Nanoseconds.
    Nanos,
    /// A share between 0 and 1.
    Share,
    /// Per simulated second.
    PerSecond,
    /// A plain count.
    Count,
}

/// One figure on both sides, the mean over seeds (`None`: that side has no such figure).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FigureRow {
    /// What it is (`write p99`, `db utilisation`).
    pub name: String,
    /// Its unit.
    pub unit: Unit,
    /// Design A.
    pub a: Option<f64>,
    /// Design B.
    pub b: Option<f64>,
}

impl FigureRow {
    /// B's change relative to A, when both exist and A is not zero.
    pub fn change(&self) -> Option<f64> {
        match (self.a, self.b) {
            (Some(a), Some(b)) if a != 0.0 => Some((b - a) / a),
            _ => None,
        }
    }
}

/// The comparison of two sides.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Diff {
    /// Every invariant either side checks, in A's order then B's.
    pub invariants: Vec<InvariantRow>,
    /// Latency, staleness, throughput, utilisation and engine figures.
    pub figures: Vec<FigureRow>,
}

/// Compares two sides run on the same seeds.
pub fn compare(a: &Side, b: &Side) -> Diff {
    Diff { invariants: invariants(a, b), figures: figures(a, b) }
}

fn invariants(a: &Side, b: &Side) -> Vec<InvariantRow> {
    let mut names: Vec<&str> = Vec::new();
    for side in [a, b] {
        for check in &side.scenario.checks {
            if !names.contains(&check.name()) {
                names.push(check.name());
            }
        }
    }
    names
        .into_iter()
        .map(|check| {
            let (ta, tb) = (Tally::of(a, check), Tally::of(b, check));
            let flip = match (ta, tb) {
                (Some(x), Some(y)) if !(x.judged() && y.judged()) => None,
                (Some(x), Some(y)) if x.violated() && !y.violated() => Some(Flip::Fixed),
                (Some(x), Some(y)) if !x.violated() && y.violated() => Some(Flip::Broken),
                _ => None,
            };
            InvariantRow { check: check.to_string(), a: ta, b: tb, flip }
        })
        .collect()
}

/// The mean of `f` over a side's runs, if every run has the figure.
fn mean(side: &Side, f: &dyn Fn(&Summary) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = side.runs.iter().map(f).collect();
    let values = values.filter(|v| !v.is_empty())?;
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

fn figures(a: &Side, b: &Side) -> Vec<FigureRow> {
    let mut rows = Vec::new();
    let mut row = |name: String, unit: Unit, f: &dyn Fn(&Summary) -> Option<f64>| {
        let (x, y) = (mean(a, f), mean(b, f));
        if x.is_some() || y.is_some() {
            rows.push(FigureRow { name, unit, a: x, b: y });
        }
    };
    let mut ops: Vec<&'static str> = Vec::new();
    for s in a.runs.iter().chain(&b.runs) {
        ops.extend(s.operations.iter().filter(|(_, o)| o.count > 0).map(|(n, _)| *n));
    }
    ops.sort_unstable();
    ops.dedup();
    for &op in &ops {
        let op_of = move |s: &Summary| s.operations.get(op).filter(|o| o.count > 0).cloned();
        row(format!("{op} p50"), Unit::Nanos, &|s| op_of(s).map(|o| o.latency_ns.p50 as f64));
        row(format!("{op} p99"), Unit::Nanos, &|s| op_of(s).map(|o| o.latency_ns.p99 as f64));
    }
    row("stale reads".into(), Unit::Share, &|s| {
        (s.reads.count > 0).then_some(s.reads.stale_fraction)
    });
    row("replication lag p99".into(), Unit::Nanos, &|s| {
        s.replication_lag_ns.as_ref().map(|l| l.p99 as f64)
    });
    row("propagation p99".into(), Unit::Nanos, &|s| {
        s.propagation_ns.as_ref().map(|l| l.p99 as f64)
    });
    for op in &ops {
        row(format!("{op} ok"), Unit::PerSecond, &|s| {
            let ok = s.operations.get(op).map_or(0, |o| o.count);
            Some(ok as f64 / (s.simulated_ns as f64 / 1e9).max(1e-9))
        });
    }
    let mut servers: Vec<String> = Vec::new();
    for s in a.runs.iter().chain(&b.runs) {
        servers.extend(s.load.keys().cloned());
    }
    servers.sort_unstable();
    servers.dedup();
    for name in servers {
        let load = |s: &Summary| s.load.get(&name).map(|l| l.utilisation);
        row(format!("{name} utilisation"), Unit::Share, &load);
    }
    // What the designs do to get there: log appends, publishes, snapshots...
    let mut counted: Vec<(String, &'static str)> = Vec::new();
    for s in a.runs.iter().chain(&b.runs) {
        for (instance, counts) in &s.counts {
            counted.extend(counts.keys().map(|k| (instance.clone(), *k)));
        }
    }
    counted.sort_unstable();
    counted.dedup();
    for (instance, count) in counted {
        let of = |s: &Summary| s.counts.get(&instance).and_then(|c| c.get(count)).copied();
        let any = |side: &Side| side.runs.iter().any(|s| of(s).unwrap_or(0) > 0);
        if any(a) || any(b) {
            let name = format!("{instance}: {}", count.replace('_', " "));
            row(name, Unit::Count, &|s| Some(of(s).unwrap_or(0) as f64));
        }
    }
    row("events".into(), Unit::Count, &|s| Some(s.events as f64));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_relative_to_a_and_absent_without_both() {
        let r = |a, b| FigureRow { name: String::new(), unit: Unit::Count, a, b };
        assert_eq!(r(Some(200.0), Some(150.0)).change(), Some(-0.25));
        assert_eq!(r(Some(0.0), Some(1.0)).change(), None);
        assert_eq!(r(None, Some(1.0)).change(), None);
    }
}
