//! A sweep's headline: at the far end of the grid (every axis at its last value, where
//! the swept parameter matters most), each metric's mean per variant with its 95%
//! interval, and each variant's change against the first. Printed after the sweep and
//! at the top of its HTML report.

use super::stats::PointStats;
use crate::model::sweep::{SweepSpec, number};

/// The headline's lines: where, then one line per metric.
pub fn headline(spec: &SweepSpec, stats: &[Vec<Vec<Option<PointStats>>>]) -> Vec<String> {
    let Some(last) = spec.runs(0).into_iter().rev().find(|r| r.variant == 0) else {
        return Vec::new();
    };
    let at: Vec<String> = spec
        .axes
        .iter()
        .zip(&last.values)
        .map(|(axis, &i)| format!("{} = {}", axis.label, number(axis.values[i])))
        .collect();
    let mut lines = vec![format!("at {}:", at.join(", "))];
    for (m, metric) in spec.metrics.iter().enumerate() {
        let by_variant: Vec<(&str, Option<PointStats>)> = spec
            .variants
            .iter()
            .enumerate()
            .map(|(v, variant)| (variant.name.as_str(), stats[v][last.point][m]))
            .collect();
        lines.push(format!("{}: {}", metric.name, metric_line(&by_variant)));
    }
    lines
}

/// `asynchronous 2.93 (95% CI 2.67 to 3.18); semi-synchronous 0 (the same on every
/// seed), -100% against asynchronous`.
fn metric_line(by_variant: &[(&str, Option<PointStats>)]) -> String {
    let first = by_variant.first().and_then(|(_, s)| *s);
    let parts: Vec<String> = by_variant
        .iter()
        .enumerate()
        .map(|(v, (name, stats))| {
            let Some(s) = stats else { return format!("{name}: no value") };
            let interval = match s.n {
                1 => "one seed".to_string(),
                _ if s.ci95 == 0.0 => "the same on every seed".to_string(),
                _ => format!("95% CI {} to {}", short(s.ci_low()), short(s.ci_high())),
            };
            let name = if by_variant.len() > 1 { format!("{name} ") } else { String::new() };
            let change = match first {
                Some(f) if v > 0 && f.mean != 0.0 => {
                    format!(
                        ", {:+.0}% against {}",
                        100.0 * (s.mean - f.mean) / f.mean,
                        by_variant[0].0
                    )
                }
                _ => String::new(),
            };
            format!("{name}{} ({interval}){change}", short(s.mean))
        })
        .collect();
    parts.join("; ")
}

/// Three significant digits, no exponent for everyday magnitudes.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return number(x);
    }
    let digits = (2 - libm::floor(libm::log10(x.abs())) as i32).max(0) as usize;
    format!("{x:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mean: f64, ci95: f64, n: usize) -> Option<PointStats> {
        Some(PointStats { n, mean, ci95, min: mean - ci95, max: mean + ci95 })
    }

    #[test]
    fn each_variant_with_its_interval_and_its_change_against_the_first() {
        let line =
            metric_line(&[("asynchronous", stats(2.93, 0.26, 5)), ("semi", stats(0.0, 0.0, 5))]);
        assert_eq!(
            line,
            "asynchronous 2.93 (95% CI 2.67 to 3.19); semi 0 (the same on every seed), -100% against \
             asynchronous"
        );
        assert_eq!(metric_line(&[("only", stats(1317.0, 60.2, 1))]), "1317 (one seed)");
    }

    #[test]
    fn short_keeps_three_significant_digits() {
        assert_eq!(short(1317.04), "1317");
        assert_eq!(short(14.2999), "14.3");
        assert_eq!(short(0.46920891), "0.469");
        assert_eq!(short(0.0), "0");
    }
}
