//! A sweep's distributions: each run's histogram pooled over the replicates of its
//! variant and point, then drawn as a CDF or a histogram (`chart::distribution`), one
//! line per variant and value of the first axis.

use super::chart::line_name;
use super::runner::RunResult;
use super::sample::Sample;
use crate::chart::Figure;
use crate::chart::distribution::{self, Line};
use crate::model::sweep::{DistributionChart, SweepSpec, number};

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

/// The figure of distribution `d`.
pub fn figure(spec: &SweepSpec, d: usize, pooled: &[Pooled]) -> Figure {
    let dist = &spec.distributions[d];
    let lines: Vec<Line<'_>> = pooled
        .iter()
        .map(|p| Line { name: &p.name, hist: &p.sample.hist, total: p.sample.total })
        .collect();
    match dist.chart {
        DistributionChart::Cdf => distribution::cdf(&dist.name, &lines),
        DistributionChart::Histogram => distribution::histogram(&dist.name, &lines),
    }
}
