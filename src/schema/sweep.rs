//! The `sweep` block of a scenario, validated into a `SweepSpec`.

use super::error::Diagnostic;
use super::overrides::Override;
use super::raw::{RawDistribution, RawSweep, RawValues};
use super::validate::Locator;
use crate::check::distribution_names;
use crate::components::purposes;
use crate::model::sweep::{Axis, Distribution, Metric, SweepSpec, Variant};
use crate::model::sweep::{number, slug};

/// Most values one axis may take.
pub const AXIS_VALUES_MAX: u32 = 10_000;
/// Most runs a sweep may make unless `--max-runs` says otherwise.
pub const RUNS_MAX: usize = 1_000_000;
/// Most runs `--max-runs` may allow, and a journal may hold: each planned run takes
/// memory before any of them runs.
pub const RUNS_CEILING: usize = 100_000_000;

/// Validates `raw` for a sweep of at most `runs_max` runs; errors are located in the
/// scenario file through `at`.
pub fn sweep(
    raw: &RawSweep,
    at: &Locator<'_>,
    runs_max: usize,
) -> Result<SweepSpec, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut error = |path: &[&str], msg: String| {
        errors.push(Diagnostic::at(at.place(&[&["sweep"], path].concat()), msg));
    };
    if raw.grid.is_empty() {
        error(&["grid"], "the grid needs at least one axis".into());
    }
    let mut axes = Vec::new();
    for (i, a) in raw.grid.iter().enumerate() {
        let i = i.to_string();
        let values = match values(&a.values) {
            Ok(v) => v,
            Err(msg) => {
                error(&["grid", &i, "values"], msg);
                Vec::new()
            }
        };
        let format = a.format.clone().unwrap_or_else(|| "{}".into());
        if !format.contains("{}") {
            error(&["grid", &i, "format"], "`format` needs a `{}` where the value goes".into());
        }
        let label = a.label.clone().unwrap_or_else(|| a.param.clone());
        let log = matches!(a.values, RawValues::Log { .. });
        axes.push(Axis { param: a.param.clone(), label, values, format, log });
    }
    let mut variants = Vec::new();
    for (i, v) in raw.variants.iter().enumerate() {
        for (k, set) in v.set.iter().enumerate() {
            if let Err(d) = Override::from_cli(set) {
                error(&["variants", &i.to_string(), "set", &k.to_string()], d.message);
            }
        }
        variants.push(Variant { name: v.name.clone(), set: v.set.clone() });
    }
    if variants.is_empty() {
        variants.push(Variant { name: "scenario".into(), set: Vec::new() });
    }
    if raw.seeds == 0 || raw.seeds > AXIS_VALUES_MAX {
        error(&["seeds"], format!("`seeds` must be between 1 and {AXIS_VALUES_MAX}"));
    }
    if raw.metrics.is_empty() {
        error(&["metrics"], "name at least one metric to collect".into());
    }
    for (i, m) in raw.metrics.iter().enumerate() {
        if !m.scale.is_finite() {
            error(&["metrics", &i.to_string(), "scale"], "`scale` must be a finite number".into());
        }
    }
    let metrics = raw
        .metrics
        .iter()
        .map(|m| Metric {
            name: m.name.clone(),
            of: m.of.clone(),
            per: m.per.clone(),
            scale: m.scale,
            absent: m.absent,
        })
        .collect();
    let mut distributions = Vec::new();
    for (i, d) in raw.distributions.iter().enumerate() {
        let mut error =
            |field: &str, msg: String| error(&["distributions", &i.to_string(), field], msg);
        if let Err(msg) = distribution_names::known(&d.of, &purposes::ROWS) {
            error("of", msg);
        }
        match kept_at(d, axes.first()) {
            Ok(at) => distributions.push(Distribution {
                name: d.name.clone(),
                of: d.of.clone(),
                chart: d.chart,
                at,
            }),
            Err(msg) => error("at", msg),
        }
    }
    // Each metric and distribution gets a chart file named after it.
    let mut files = std::collections::BTreeMap::new();
    let names = raw.metrics.iter().map(|m| ("metrics", &m.name));
    for (i, (list, name)) in
        names.chain(raw.distributions.iter().map(|d| ("distributions", &d.name))).enumerate()
    {
        let i = if list == "metrics" { i } else { i - raw.metrics.len() };
        let place = |list: &str, i: usize| at.place(&["sweep", list, &i.to_string(), "name"]);
        if slug(name).is_empty() {
            let msg = "a name needs a letter or a digit (it names the chart file)";
            errors.push(Diagnostic::at(place(list, i), msg));
        } else if let Some(&(other, other_list, j)) = files.get(&slug(name)) {
            let msg = format!("`{name}` and `{other}` would write the same chart file");
            let d = Diagnostic::at(place(list, i), msg);
            errors.push(d.also(place(other_list, j), "the same file's other name"));
        } else {
            files.insert(slug(name), (name, list, i));
        }
    }
    let spec = SweepSpec { axes, variants, seeds: raw.seeds, metrics, distributions };
    let runs = spec.points().saturating_mul(spec.variants.len()).saturating_mul(raw.seeds as usize);
    if errors.is_empty() && runs > runs_max {
        let msg = format!("{runs} runs: at most {runs_max}");
        let hint = format!("fewer seeds or values, or --max-runs (up to {RUNS_CEILING})");
        errors.push(Diagnostic::at(at.place(&["sweep"]), msg).with_hint(Some(hint)));
    }
    if errors.is_empty() { Ok(spec) } else { Err(errors) }
}

/// The first axis's value indices a distribution is kept at: those `at` names, or the
/// first, middle and last.
fn kept_at(d: &RawDistribution, x: Option<&Axis>) -> Result<Vec<usize>, String> {
    let Some(x) = x.filter(|x| !x.values.is_empty()) else { return Ok(Vec::new()) };
    let Some(at) = &d.at else {
        let mut at = vec![0, (x.values.len() - 1) / 2, x.values.len() - 1];
        at.dedup();
        return Ok(at);
    };
    let mut out = Vec::new();
    for &v in at {
        let close = |w: f64| (w - v).abs() <= 1e-9 * w.abs().max(v.abs()).max(1e-300);
        match x.values.iter().position(|&w| close(w)) {
            Some(i) if !out.contains(&i) => out.push(i),
            Some(_) => {}
            None => {
                let values: Vec<String> = x.values.iter().map(|&w| number(w)).collect();
                return Err(format!(
                    "{} is not a value of the first axis ({})",
                    number(v),
                    values.join(", ")
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("`at` names no value".into());
    }
    Ok(out)
}

/// The values an axis takes.
fn values(raw: &RawValues) -> Result<Vec<f64>, String> {
    let steps_ok = |steps: u32| (1..=AXIS_VALUES_MAX).contains(&steps);
    let values = match *raw {
        RawValues::List(ref v) if v.is_empty() => return Err("the list is empty".into()),
        RawValues::List(ref v) => v.clone(),
        RawValues::Linear { steps, .. } | RawValues::Log { steps, .. } if !steps_ok(steps) => {
            return Err(format!("`steps` must be between 1 and {AXIS_VALUES_MAX}"));
        }
        RawValues::Linear { from, to, steps } => spaced(from, to, steps, |x| x, |x| x),
        RawValues::Log { from, to, .. } if !(from > 0.0 && to > 0.0) => {
            return Err("a log range needs `from` and `to` above 0".into());
        }
        RawValues::Log { from, to, steps } => spaced(from, to, steps, libm::log, libm::exp),
    };
    if values.iter().any(|x| !x.is_finite()) {
        return Err("every value must be a finite number".into());
    }
    Ok(values)
}

/// `steps` values from `from` to `to`, evenly spaced after `to_scale`.
fn spaced(
    from: f64,
    to: f64,
    steps: u32,
    to_scale: fn(f64) -> f64,
    back: fn(f64) -> f64,
) -> Vec<f64> {
    let (a, b) = (to_scale(from), to_scale(to));
    if steps == 1 {
        return vec![from];
    }
    (0..steps)
        .map(|i| match i {
            0 => from,
            i if i == steps - 1 => to,
            i => back(a + (b - a) * f64::from(i) / f64::from(steps - 1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_evenly_spaced_and_end_exactly() {
        let lin = values(&RawValues::Linear { from: 0.0, to: 5.0, steps: 11 }).unwrap();
        assert_eq!(lin.len(), 11);
        assert_eq!((lin[0], lin[1], lin[10]), (0.0, 0.5, 5.0));
        let log = values(&RawValues::Log { from: 0.01, to: 10.0, steps: 4 }).unwrap();
        let want = [0.01, 0.1, 1.0, 10.0];
        assert!(log.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12 * b), "{log:?}");
        assert!(values(&RawValues::Log { from: 0.0, to: 1.0, steps: 3 }).is_err());
        assert!(values(&RawValues::Linear { from: 0.0, to: 1.0, steps: 0 }).is_err());
        assert!(values(&RawValues::List(vec![])).is_err());
    }
}
