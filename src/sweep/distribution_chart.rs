//! A sweep's distributions: each run's histogram pooled over the replicates of its
//! variant and point, then drawn as a CDF (cumulative share of values up to x) or a
//! histogram (share of the total in each of 40 equal bins), one line per variant and
//! value of the first axis.

use plotters::prelude::SeriesLabelPosition;

use super::chart::{Figure, Series, line_name};
use super::plan::{DistributionChart, SweepSpec, number};
use super::runner::RunResult;
use super::sample::Sample;
use crate::check::Histogram;

/// Bins of a histogram chart.
const BINS: u64 = 40;

/// A distribution pooled over the replicates of one variant and point.
#[derive(Debug, Clone)]
pub struct Pooled {
    /// Legend text.
    pub name: String,
    /// Variant index.
    pub variant: usize,
    /// Grid point index.
    pub point: usize,
    /// The pooled values.
    pub sample: Sample,
}

/// Distribution `d` pooled per variant, kept value of the first axis and combination
/// of the other axes, in that order; points where no run kept it are left out.
pub fn pooled(spec: &SweepSpec, results: &[RunResult], d: usize) -> Vec<Pooled> {
    let dist = &spec.distributions[d];
    let x = &spec.axes[0];
    let rest: usize = spec.axes[1..].iter().map(|a| a.values.len()).product();
    let mut out = Vec::new();
    for (v, variant) in spec.variants.iter().enumerate() {
        for &at in &dist.at {
            for other in 0..rest {
                let point = at * rest + other;
                let mut runs =
                    results.iter().filter(|r| r.plan.variant == v && r.plan.point == point);
                let Some(mut sample) = runs.find_map(|r| r.samples[d].clone()) else { continue };
                for r in runs {
                    r.samples[d].iter().for_each(|s| sample.merge(s));
                }
                let variant = format!("{}, {} = {}", variant.name, x.label, number(x.values[at]));
                out.push(Pooled {
                    name: line_name(spec, &variant, other),
                    variant: v,
                    point,
                    sample,
                });
            }
        }
    }
    out
}

/// The unit values are shown in: seconds when the largest is 10 s or more.
fn unit(pooled: &[Pooled]) -> (&'static str, f64) {
    let max = pooled.iter().map(|p| p.sample.hist.max()).max().unwrap_or(0);
    if max >= 10_000_000_000 { ("s", 1e9) } else { ("ms", 1e6) }
}

/// Each bucket that holds values: its value (the bucket's top, capped by the exact
/// maximum) and its count.
fn values(h: &Histogram) -> impl Iterator<Item = (u64, u64)> + '_ {
    h.buckets().map(|(i, c)| (Histogram::bucket_high(i).min(h.max()), c))
}

/// The figure of distribution `d`.
pub fn figure(spec: &SweepSpec, d: usize, pooled: &[Pooled]) -> Figure {
    let dist = &spec.distributions[d];
    let (unit, per) = unit(pooled);
    let x_label = format!("{} ({unit})", dist.name);
    match dist.chart {
        DistributionChart::Cdf => cdf(&dist.name, x_label, pooled, per),
        DistributionChart::Histogram => histogram(&dist.name, x_label, pooled, per),
    }
}

fn legend(p: &Pooled) -> String {
    if p.sample.hist.count() == 0 { format!("{} (no values)", p.name) } else { p.name.clone() }
}

fn cdf(name: &str, x_label: String, pooled: &[Pooled], per: f64) -> Figure {
    let series: Vec<Series> = pooled
        .iter()
        .map(|p| {
            let h = &p.sample.hist;
            let n = h.count() as f64;
            let mut seen = 0;
            let steps = values(h).map(|(v, c)| {
                seen += c;
                (v as f64 / per, seen as f64 / n)
            });
            let start = (h.count() > 0).then(|| (h.min() as f64 / per, 0.0));
            Series {
                name: legend(p),
                points: start.into_iter().chain(steps).collect(),
                ..Series::default()
            }
        })
        .collect();
    let xs = || pooled.iter().map(|p| &p.sample.hist).filter(|h| h.count() > 0);
    let lo = xs().map(|h| h.min().max(1)).min().unwrap_or(1);
    let hi = xs().map(Histogram::max).max().unwrap_or(1);
    Figure {
        title: format!("{name}: cumulative distribution"),
        x_label,
        y_label: "share of values at or below".into(),
        log_x: hi / lo >= 100,
        legend: SeriesLabelPosition::LowerRight,
        series,
    }
}

fn histogram(name: &str, x_label: String, pooled: &[Pooled], per: f64) -> Figure {
    let max = pooled.iter().map(|p| p.sample.hist.max()).max().unwrap_or(0);
    let width = max / BINS + 1;
    let series = pooled
        .iter()
        .map(|p| {
            let mut bins = [0u64; BINS as usize];
            values(&p.sample.hist).for_each(|(v, c)| bins[(v / width) as usize] += c);
            let total = p.sample.total.max(1) as f64;
            let at = |b: u64| (b * width) as f64 / per;
            let steps: Vec<(f64, f64)> = (0..BINS)
                .flat_map(|b| {
                    let share = bins[b as usize] as f64 / total * 100.0;
                    [(at(b), share), (at(b + 1), share)]
                })
                .collect();
            let floor = [(at(BINS), 0.0), (0.0, 0.0)];
            let band = steps.iter().copied().chain(floor).collect();
            Series { name: legend(p), points: steps, band, markers: false }
        })
        .collect();
    Figure {
        title: format!("{name}: histogram"),
        x_label,
        y_label: "share of the total (%)".into(),
        log_x: false,
        legend: SeriesLabelPosition::UpperRight,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled_of(values: &[u64], total: u64) -> Pooled {
        let mut hist = Histogram::default();
        values.iter().for_each(|&v| hist.record(v));
        Pooled { name: "x".into(), variant: 0, point: 0, sample: Sample { hist, total } }
    }

    #[test]
    fn a_cdf_climbs_to_one_at_the_maximum() {
        let p = pooled_of(&[1_000_000, 2_000_000, 2_000_000, 9_000_000], 4);
        let f = cdf("latency", "ms".into(), &[p], 1e6);
        let points = &f.series[0].points;
        assert_eq!(points.first(), Some(&(1.0, 0.0)));
        assert_eq!(points.last(), Some(&(9.0, 1.0)));
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 <= w[1].0));
    }

    #[test]
    fn histogram_shares_are_of_the_total() {
        // Two stale reads out of 10 reads: the bins hold 20% between them.
        let p = pooled_of(&[400_000_000, 4_000_000_000], 10);
        let f = histogram("staleness", "ms".into(), &[p], 1e6);
        let shares: f64 = f.series[0].points.iter().step_by(2).map(|p| p.1).sum();
        assert!((shares - 20.0).abs() < 1e-9, "{shares}");
    }
}
