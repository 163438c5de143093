//! A sweep's metric charts: one line per variant and combination of the other axes,
//! over the first axis, each point inside its 95% confidence band.

use plotters::prelude::SeriesLabelPosition;

use super::stats::PointStats;
use crate::chart::{Figure, Series};
use crate::model::sweep::{SweepSpec, number};

/// The metric's figure: one series per variant and combination of the other axes,
/// each point the mean of its replicates inside a shaded 95% confidence band.
pub fn metric_figure(
    spec: &SweepSpec,
    stats: &[Vec<Vec<Option<PointStats>>>],
    metric: usize,
) -> Figure {
    let x_axis = &spec.axes[0];
    let rest: usize = spec.axes[1..].iter().map(|a| a.values.len()).product();
    let mut series = Vec::new();
    for (v, variant) in spec.variants.iter().enumerate() {
        for other in 0..rest {
            let name = line_name(spec, &variant.name, other);
            let points: Vec<(f64, PointStats)> = (0..x_axis.values.len())
                .filter_map(|i| Some((x_axis.values[i], stats[v][i * rest + other][metric]?)))
                .collect();
            let upper = points.iter().map(|(x, s)| (*x, s.ci_high()));
            let lower = points.iter().rev().map(|(x, s)| (*x, s.ci_low()));
            series.push(Series {
                name,
                band: upper.chain(lower).collect(),
                points: points.iter().map(|(x, s)| (*x, s.mean)).collect(),
                markers: true,
                dots_only: false,
            });
        }
    }
    let metric = &spec.metrics[metric].name;
    Figure {
        title: format!("{metric} vs {}", x_axis.label),
        x_label: x_axis.label.clone(),
        y_label: metric.clone(),
        log_x: x_axis.log,
        legend: SeriesLabelPosition::UpperLeft,
        series,
        shaded: Vec::new(),
        x_span: None,
        headroom: 0.08,
        x_unit_ns: None,
        y_counts: false,
    }
}

/// A line's legend: the variant, then the values of the axes after the first for
/// combination `other` (the last axis varying fastest).
pub fn line_name(spec: &SweepSpec, variant: &str, other: usize) -> String {
    let mut k = other;
    let mut parts = Vec::new();
    for axis in spec.axes[1..].iter().rev() {
        parts.push(format!("{} = {}", axis.label, number(axis.values[k % axis.values.len()])));
        k /= axis.values.len();
    }
    parts.reverse();
    std::iter::once(variant.to_string()).chain(parts).collect::<Vec<_>>().join(", ")
}
