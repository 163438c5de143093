//! The sweep's CSV files: `results.csv`, one row per run, and `summary.csv`, one row
//! per variant, grid point and metric. Numbers are written in Rust's shortest
//! round-trip form, so the files are byte-identical wherever the runs were made.

use std::fmt::Write as _;

use super::distribution_chart::Pooled;
use super::runner::RunResult;
use super::stats::PointStats;
use crate::check::Histogram;
use crate::model::sweep::{SweepSpec, number};

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A value: empty when missing.
fn value(x: f64) -> String {
    if x.is_nan() { String::new() } else { format!("{x}") }
}

fn line(t: &mut String, fields: impl IntoIterator<Item = String>) {
    let fields: Vec<String> = fields.into_iter().map(|f| field(&f)).collect();
    let _ = writeln!(t, "{}", fields.join(","));
}

/// The header's grid columns: each axis's parameter path.
fn axis_columns(spec: &SweepSpec) -> impl Iterator<Item = String> + '_ {
    spec.axes.iter().map(|a| a.param.clone())
}

/// The grid values of a run, as written.
fn axis_values<'a>(spec: &'a SweepSpec, values: &'a [usize]) -> impl Iterator<Item = String> + 'a {
    spec.axes.iter().zip(values).map(|(a, &i)| number(a.values[i]))
}

/// `results.csv`: every run, in plan order.
pub fn results_csv(spec: &SweepSpec, results: &[RunResult]) -> String {
    let mut t = String::new();
    let head = ["variant".to_string()].into_iter().chain(axis_columns(spec));
    let tail = ["replicate", "seed"].map(String::from);
    let metrics = spec.metrics.iter().map(|m| m.name.clone());
    line(&mut t, head.chain(tail).chain(metrics).chain(["trace_hash".to_string()]));
    for r in results {
        let p = &r.plan;
        let cells = [spec.variants[p.variant].name.clone()]
            .into_iter()
            .chain(axis_values(spec, &p.values))
            .chain([p.replicate.to_string(), p.seed.to_string()])
            .chain(r.metrics.iter().map(|&x| value(x)))
            .chain([r.trace_hash.clone()]);
        line(&mut t, cells);
    }
    t
}

/// Statistics per (variant, point, metric), in that order, over the replicates.
pub fn point_stats(spec: &SweepSpec, results: &[RunResult]) -> Vec<Vec<Vec<Option<PointStats>>>> {
    let mut out = vec![vec![vec![None; spec.metrics.len()]; spec.points()]; spec.variants.len()];
    for (v, by_point) in out.iter_mut().enumerate() {
        for (p, by_metric) in by_point.iter_mut().enumerate() {
            let runs: Vec<&RunResult> =
                results.iter().filter(|r| r.plan.variant == v && r.plan.point == p).collect();
            for (m, slot) in by_metric.iter_mut().enumerate() {
                let values: Vec<f64> =
                    runs.iter().map(|r| r.metrics[m]).filter(|x| !x.is_nan()).collect();
                *slot = (!values.is_empty()).then(|| PointStats::of(&values));
            }
        }
    }
    out
}

/// `summary.csv`: mean, 95% confidence interval, min and max per point and metric.
pub fn summary_csv(spec: &SweepSpec, stats: &[Vec<Vec<Option<PointStats>>>]) -> String {
    let mut t = String::new();
    let head = ["variant".to_string()].into_iter().chain(axis_columns(spec));
    let tail = ["metric", "n", "mean", "ci95_low", "ci95_high", "min", "max"].map(String::from);
    line(&mut t, head.chain(tail));
    let plans = spec.runs(0);
    for r in plans.iter().filter(|r| r.replicate == 0) {
        for (m, metric) in spec.metrics.iter().enumerate() {
            let Some(s) = stats[r.variant][r.point][m] else { continue };
            let cells = [spec.variants[r.variant].name.clone()]
                .into_iter()
                .chain(axis_values(spec, &r.values))
                .chain([metric.name.clone(), s.n.to_string()])
                .chain([s.mean, s.ci_low(), s.ci_high(), s.min, s.max].map(value));
            line(&mut t, cells);
        }
    }
    t
}

/// `distributions.csv`: per distribution, variant and point, each histogram bucket
/// that holds values: its upper bound in ns, its count, the cumulative share of the
/// values and the bucket's share of the total.
pub fn distributions_csv(spec: &SweepSpec, pooled: &[Vec<Pooled>]) -> String {
    let mut t = String::new();
    let head = ["distribution".to_string(), "variant".to_string()].into_iter();
    let tail = ["upper_ns", "count", "cumulative_share", "share_of_total"].map(String::from);
    line(&mut t, head.chain(axis_columns(spec)).chain(tail));
    for (d, lines) in pooled.iter().enumerate() {
        for p in lines {
            let values = &spec.value_indices(p.point);
            let h = &p.sample.hist;
            let mut seen = 0;
            for (i, c) in h.buckets() {
                seen += c;
                let cells =
                    [spec.distributions[d].name.clone(), spec.variants[p.variant].name.clone()]
                        .into_iter()
                        .chain(axis_values(spec, values))
                        .chain([Histogram::bucket_high(i).min(h.max()).to_string(), c.to_string()])
                        .chain([value(seen as f64 / h.count() as f64)])
                        .chain([value(c as f64 / p.sample.total.max(1) as f64)]);
                line(&mut t, cells);
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(value(f64::NAN), "");
        assert_eq!(value(0.25), "0.25");
    }
}
