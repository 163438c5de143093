//! Distributions as figures: a CDF (cumulative share of values up to x, log x when the
//! values span 100×) or a histogram (share of a total in each of 40 equal bins), one
//! line per labelled histogram. A histogram of a handful of values would be a few
//! slivers, invisible as shares of a large total: it is drawn as a dot plot instead,
//! one dot per value.

use plotters::prelude::SeriesLabelPosition;

use super::{Figure, Series};
use crate::check::Histogram;

/// Bins of a histogram chart.
const BINS: u64 = 40;
/// Most values (all lines together) drawn one dot each rather than as a histogram.
pub const DOTS_MAX: u64 = 30;

/// True when `lines` hold so few values that their histogram is a dot plot.
pub fn few(lines: &[Line<'_>]) -> bool {
    lines.iter().map(|l| l.hist.count()).sum::<u64>() <= DOTS_MAX
}

/// One line of a distribution figure.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// Legend text.
    pub name: &'a str,
    /// The values, in nanoseconds.
    pub hist: &'a Histogram,
    /// What a histogram's shares are of (the reads, when the values are stale reads).
    pub total: u64,
}

/// The unit values are shown in: seconds when the largest is 10 s or more.
fn unit(lines: &[Line<'_>]) -> (&'static str, f64) {
    let max = lines.iter().map(|l| l.hist.max()).max().unwrap_or(0);
    if max >= 10_000_000_000 { ("s", 1e9) } else { ("ms", 1e6) }
}

/// Each bucket that holds values: its value (the bucket's top, capped by the exact
/// maximum) and its count.
fn values(h: &Histogram) -> impl Iterator<Item = (u64, u64)> + '_ {
    h.buckets().map(|(i, c)| (Histogram::bucket_high(i).min(h.max()), c))
}

/// A line's legend text (a line without values is neither drawn nor listed).
fn legend(l: &Line<'_>) -> String {
    l.name.to_string()
}

/// The CDF figure of `lines`, titled after `name`.
pub fn cdf(name: &str, lines: &[Line<'_>]) -> Figure {
    let (unit, per) = unit(lines);
    let series: Vec<Series> = lines
        .iter()
        .map(|l| {
            let h = l.hist;
            let n = h.count() as f64;
            let mut seen = 0;
            let steps = values(h).map(|(v, c)| {
                seen += c;
                (v as f64 / per, seen as f64 / n)
            });
            let start = (h.count() > 0).then(|| (h.min() as f64 / per, 0.0));
            Series {
                name: legend(l),
                points: start.into_iter().chain(steps).collect(),
                ..Series::default()
            }
        })
        .collect();
    let xs = || lines.iter().map(|l| l.hist).filter(|h| h.count() > 0);
    let lo = xs().map(|h| h.min().max(1)).min().unwrap_or(1);
    let hi = xs().map(Histogram::max).max().unwrap_or(1);
    Figure {
        title: format!("{name}: cumulative distribution"),
        x_label: format!("{name} ({unit})"),
        y_label: "share at or below".into(),
        log_x: hi / lo >= 100,
        legend: SeriesLabelPosition::LowerRight,
        series,
        shaded: Vec::new(),
        x_span: None,
        headroom: 0.08,
        x_unit_ns: Some(per),
        y_counts: false,
    }
}

/// The histogram figure of `lines`, titled after `name`: each line's share of its
/// total in 40 equal bins from 0 to the largest value; a dot plot when they are `few`.
pub fn histogram(name: &str, lines: &[Line<'_>]) -> Figure {
    if few(lines) {
        return dot_plot(name, lines);
    }
    let (unit, per) = unit(lines);
    let max = lines.iter().map(|l| l.hist.max()).max().unwrap_or(0);
    let width = max / BINS + 1;
    let series = lines
        .iter()
        .map(|l| {
            let mut bins = [0u64; BINS as usize];
            values(l.hist).for_each(|(v, c)| bins[(v / width) as usize] += c);
            let total = l.total.max(1) as f64;
            let at = |b: u64| (b * width) as f64 / per;
            let steps: Vec<(f64, f64)> = (0..BINS)
                .flat_map(|b| {
                    let share = bins[b as usize] as f64 / total * 100.0;
                    [(at(b), share), (at(b + 1), share)]
                })
                .collect();
            let floor = [(at(BINS), 0.0), (0.0, 0.0)];
            let band = steps.iter().copied().chain(floor).collect();
            if l.hist.count() == 0 {
                // Nothing to draw: a line along zero would hide the others' floor.
                return Series { name: legend(l), ..Series::default() };
            }
            Series { name: legend(l), points: steps, band, ..Series::default() }
        })
        .collect();
    Figure {
        title: format!("{name}: histogram"),
        x_label: format!("{name} ({unit})"),
        y_label: "share of the total (%)".into(),
        log_x: false,
        legend: SeriesLabelPosition::UpperRight,
        series,
        shaded: Vec::new(),
        x_span: None,
        headroom: 0.08,
        x_unit_ns: Some(per),
        y_counts: false,
    }
}

/// One dot per value at its x, dots of equal values (of any line) stacked, so that
/// the height at x counts the values there.
fn dot_plot(name: &str, lines: &[Line<'_>]) -> Figure {
    let (unit, per) = unit(lines);
    let mut stacked: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    let mut series = Vec::new();
    for l in lines {
        let mut points = Vec::new();
        for (v, c) in values(l.hist) {
            let height = stacked.entry(v).or_default();
            for _ in 0..c {
                *height += 1;
                points.push((v as f64 / per, *height as f64));
            }
        }
        series.push(Series { name: legend(l), points, dots_only: true, ..Series::default() });
    }
    let max = lines.iter().map(|l| l.hist.max()).max().unwrap_or(0) as f64 / per;
    let top = stacked.values().copied().max().unwrap_or(1) as f64;
    Figure {
        title: format!("{name}: each value"),
        x_label: format!("{name} ({unit})"),
        y_label: "values (one dot each)".into(),
        log_x: false,
        legend: SeriesLabelPosition::UpperRight,
        series,
        shaded: Vec::new(),
        x_span: Some((0.0, if max > 0.0 { max * 1.1 } else { 1.0 })),
        // Room for the legend, and for the top dot below the frame.
        headroom: 0.5 / top,
        x_unit_ns: Some(per),
        y_counts: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist_of(values: &[u64]) -> Histogram {
        let mut hist = Histogram::default();
        values.iter().for_each(|&v| hist.record(v));
        hist
    }

    #[test]
    fn a_cdf_climbs_to_one_at_the_maximum() {
        let h = hist_of(&[1_000_000, 2_000_000, 2_000_000, 9_000_000]);
        let f = cdf("latency", &[Line { name: "x", hist: &h, total: 4 }]);
        let points = &f.series[0].points;
        assert_eq!(points.first(), Some(&(1.0, 0.0)));
        assert_eq!(points.last(), Some(&(9.0, 1.0)));
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 <= w[1].0));
        assert_eq!(f.x_label, "latency (ms)");
    }

    #[test]
    fn a_handful_of_values_is_a_dot_each_stacked_where_equal() {
        let a = hist_of(&[400_000_000, 4_000_000_000, 4_000_000_000]);
        let b = hist_of(&[4_000_000_000]);
        let lines =
            [Line { name: "a", hist: &a, total: 100 }, Line { name: "b", hist: &b, total: 50 }];
        let f = histogram("staleness", &lines);
        assert!(f.series.iter().all(|s| s.dots_only) && f.y_counts, "{f:?}");
        // A value is shown at its histogram bucket, within a percent of it.
        let near = |x: f64| (x / 100.0).round() * 100.0;
        let xs = |i: usize| f.series[i].points.iter().map(|p| (near(p.0), p.1)).collect::<Vec<_>>();
        assert_eq!(xs(0), [(400.0, 1.0), (4000.0, 1.0), (4000.0, 2.0)]);
        assert_eq!(xs(1), [(4000.0, 3.0)], "b's dot stacks on a's two");
        let many: Vec<u64> = (1..=DOTS_MAX + 1).map(|v| v * 1_000_000).collect();
        let h = hist_of(&many);
        let f = histogram("staleness", &[Line { name: "x", hist: &h, total: 100 }]);
        assert!(!f.series[0].dots_only, "{} values are a histogram", DOTS_MAX + 1);
    }

    #[test]
    fn histogram_shares_are_of_the_total() {
        // Forty stale reads out of 100 reads: the bins hold 40% between them.
        let h =
            hist_of(&[400_000_000; 20].into_iter().chain([4_000_000_000; 20]).collect::<Vec<_>>());
        let f = histogram("staleness", &[Line { name: "x", hist: &h, total: 100 }]);
        let shares: f64 = f.series[0].points.iter().step_by(2).map(|p| p.1).sum();
        assert!((shares - 40.0).abs() < 1e-9, "{shares}");
    }

    #[test]
    fn values_of_ten_seconds_or_more_are_shown_in_seconds() {
        let h = hist_of(&[12_000_000_000]);
        let f = cdf("lag", &[Line { name: "x", hist: &h, total: 1 }]);
        assert_eq!(f.x_label, "lag (s)");
        assert_eq!(f.series[0].points.last(), Some(&(12.0, 1.0)));
    }
}
