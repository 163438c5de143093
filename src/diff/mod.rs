//! `archsim diff`: two designs run on the same seeds and workload, compared side by
//! side: each invariant's verdict and count (and which flipped), latency percentiles,
//! staleness, throughput, utilisation and the work the engine did.

use rayon::prelude::*;

use crate::check::Verdict;
use crate::components::Registry;
use crate::model::Scenario;
use crate::report::Summary;
use crate::run::execute;
use crate::sweep::stats::PointStats;

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
    /// The 95% interval of B's change relative to A's mean, from the seeds' paired
    /// differences (Student's t; `None` without the figure on both sides on every seed).
    pub change_ci95: Option<[f64; 2]>,
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

/// Smallest change the headline names.
const HEADLINE_CHANGE_MIN: f64 = 0.05;
/// Most figures the headline names.
const HEADLINE_FIGURES: usize = 3;

/// What changed from A to B, in two lines: the verdicts B fixes and breaks, and the
/// figures that moved most (at least 5%, and beyond their 95% interval when there are
/// several seeds), each with its change and interval.
pub fn headline(diff: &Diff, seeds: usize) -> [String; 2] {
    let named = |f: Flip| -> Vec<&str> {
        diff.invariants.iter().filter(|r| r.flip == Some(f)).map(|r| r.check.as_str()).collect()
    };
    let (fixed, broken) = (named(Flip::Fixed), named(Flip::Broken));
    let verdicts = match (fixed.is_empty(), broken.is_empty()) {
        (true, true) => "no verdict changes".to_string(),
        (false, true) => format!("B fixes {}", fixed.join(", ")),
        (true, false) => format!("B BREAKS {}", broken.join(", ")),
        (false, false) => format!("B fixes {} and BREAKS {}", fixed.join(", "), broken.join(", ")),
    };
    let mut moved: Vec<(&FigureRow, f64)> = diff
        .figures
        .iter()
        .filter(|f| f.name != "events")
        .filter_map(|f| Some((f, f.change()?)))
        .filter(|(f, c)| c.abs() >= HEADLINE_CHANGE_MIN && excludes_zero(f.change_ci95))
        .collect();
    moved.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then_with(|| x.0.name.cmp(&y.0.name)));
    let figures: Vec<String> = moved
        .iter()
        .take(HEADLINE_FIGURES)
        .map(|(f, c)| match f.change_ci95 {
            _ if seeds < 2 => format!("{} {} (one seed: no interval)", f.name, percent(*c)),
            Some([lo, hi]) if lo == hi => {
                format!("{} {} (the same on every seed)", f.name, percent(*c))
            }
            Some([lo, hi]) => {
                format!("{} {} (95% CI {} to {})", f.name, percent(*c), percent(lo), percent(hi))
            }
            None => format!("{} {}", f.name, percent(*c)),
        })
        .collect();
    let figures = if figures.is_empty() {
        "no figure moved by 5% or more beyond its 95% interval".to_string()
    } else {
        figures.join("; ")
    };
    [verdicts, figures]
}

/// Whether an interval lies wholly on one side of zero (a single seed's point counts).
fn excludes_zero(interval: Option<[f64; 2]>) -> bool {
    interval.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0)
}

/// `+12%`, `-0.4%`: one decimal below 10%.
fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if p.abs() < 10.0 { format!("{p:+.1}%") } else { format!("{p:+.0}%") }
}

/// The mean of `f` over a side's runs, if every run has the figure.
fn mean(side: &Side, f: &dyn Fn(&Summary) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = side.runs.iter().map(f).collect();
    let values = values.filter(|v| !v.is_empty())?;
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// The 95% interval of the mean of B's value minus A's, seed by seed, relative to A's
/// mean; `None` unless both sides have the figure on every seed and A's mean is not 0.
fn paired_change(a: &Side, b: &Side, f: &dyn Fn(&Summary) -> Option<f64>) -> Option<[f64; 2]> {
    let differences: Option<Vec<f64>> =
        a.runs.iter().zip(&b.runs).map(|(x, y)| Some(f(y)? - f(x)?)).collect();
    let differences = differences.filter(|d| !d.is_empty() && a.runs.len() == b.runs.len())?;
    let base = mean(a, f).filter(|m| *m != 0.0)?;
    let stats = PointStats::of(&differences);
    // Every figure is a count, share, rate or duration: none falls below zero, so no
    // change is below -100% whatever the t interval's arithmetic says.
    Some([((stats.mean - stats.ci95) / base).max(-1.0), (stats.mean + stats.ci95) / base])
}

fn figures(a: &Side, b: &Side) -> Vec<FigureRow> {
    let mut rows = Vec::new();
    let mut row = |name: String, unit: Unit, f: &dyn Fn(&Summary) -> Option<f64>| {
        let (x, y) = (mean(a, f), mean(b, f));
        if x.is_some() || y.is_some() {
            let change_ci95 = paired_change(a, b, f);
            rows.push(FigureRow { name, unit, a: x, b: y, change_ci95 });
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

    fn figure(name: &str, a: f64, b: f64, ci: Option<[f64; 2]>) -> FigureRow {
        FigureRow { name: name.into(), unit: Unit::Nanos, a: Some(a), b: Some(b), change_ci95: ci }
    }

    #[test]
    fn the_headline_names_flips_and_the_figures_that_moved_beyond_their_interval() {
        let diff = Diff {
            invariants: vec![InvariantRow {
                check: "lost_acknowledged_write".into(),
                a: None,
                b: None,
                flip: Some(Flip::Fixed),
            }],
            figures: vec![
                figure("write p50", 100.0, 300.0, Some([1.9, 2.1])),
                figure("read p50", 100.0, 130.0, Some([-0.1, 0.7])),
                figure("read p99", 100.0, 102.0, Some([0.01, 0.03])),
                figure("events", 100.0, 900.0, Some([7.9, 8.1])),
                figure("write p99", 100.0, 50.0, Some([-0.6, -0.4])),
            ],
        };
        let [verdicts, figures] = headline(&diff, 20);
        assert_eq!(verdicts, "B fixes lost_acknowledged_write");
        assert_eq!(
            figures,
            "write p50 +200% (95% CI +190% to +210%); write p99 -50% (95% CI -60% to -40%)"
        );
        let quiet = Diff { invariants: vec![], figures: vec![figure("x", 1.0, 1.01, None)] };
        assert_eq!(headline(&quiet, 20)[0], "no verdict changes");
        assert!(headline(&quiet, 20)[1].starts_with("no figure moved"));
        let one =
            Diff { invariants: vec![], figures: vec![figure("x", 1.0, 2.0, Some([1.0, 1.0]))] };
        assert_eq!(headline(&one, 1)[1], "x +100% (one seed: no interval)");
        assert_eq!(headline(&one, 5)[1], "x +100% (the same on every seed)");
    }

    #[test]
    fn change_is_relative_to_a_and_absent_without_both() {
        let r =
            |a, b| FigureRow { name: String::new(), unit: Unit::Count, a, b, change_ci95: None };
        assert_eq!(r(Some(200.0), Some(150.0)).change(), Some(-0.25));
        assert_eq!(r(Some(0.0), Some(1.0)).change(), None);
        assert_eq!(r(None, Some(1.0)).change(), None);
    }
}
