//! Runs a sweep: loads the scenario once per variant and grid point (so a bad value is
//! refused before anything runs), then runs every replicate in parallel on rayon's
//! pool. Each run is single-threaded and seeded from its plan, and results are put
//! back in plan order, so the output does not depend on the thread count.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde_json::Value;

use super::journal::{self, Journal};
use super::sample::{Sample, missing_reason, sample};
use crate::components::Registry;
use crate::engine::Limits;
use crate::model::Scenario;
use crate::model::sweep::{Metric, RunPlan, SweepSpec};
use crate::report::Summary;
use crate::run::execute;
use crate::schema::{LoadError, load_scenario};

/// What one run gave.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The plan it ran.
    pub plan: RunPlan,
    /// One value per metric (`NaN` where the summary had no such figure).
    pub metrics: Vec<f64>,
    /// The run's trace hash, so any row can be replayed and checked.
    pub trace_hash: String,
    /// One per distribution of the sweep: kept at this run's point, or `None`.
    pub samples: Vec<Option<Sample>>,
}

/// The scenario of every (variant, point), in that order.
pub fn load_points(
    path: &Path,
    spec: &SweepSpec,
    extra: &[String],
) -> Result<Vec<Scenario>, LoadError> {
    let registry = Registry::new();
    let mut scenarios = Vec::with_capacity(spec.variants.len() * spec.points());
    for run in spec.runs(0).iter().filter(|r| r.replicate == 0) {
        let mut sets = extra.to_vec();
        let own = spec.sets(run);
        sets.extend(own.iter().cloned());
        let scenario = load_scenario(path, &sets, &registry).map_err(|mut e| {
            for d in e.diagnostics.iter_mut().filter(|d| d.file == "--set" && d.hint.is_none()) {
                if own.contains(&d.line_text) {
                    let variant = &spec.variants[run.variant].name;
                    d.hint = Some(Box::from(format!(
                        "the sweep made this override (variant `{variant}`): check the grid's \
                         `format` and the variants' `set` in {}",
                        path.display()
                    )));
                }
            }
            e
        })?;
        scenarios.push(scenario);
    }
    Ok(scenarios)
}

/// A fingerprint of the scenarios of every point (their file paths left out, so the
/// same sweep run from another directory or machine matches, and their limits, which
/// stop a run but never change its result).
pub fn fingerprint(scenarios: &[Scenario]) -> u64 {
    let texts: Vec<String> = scenarios
        .iter()
        .map(|s| {
            let s = Scenario { path: String::new(), limits: Limits::default(), ..s.clone() };
            format!("{s:?}")
        })
        .collect();
    journal::fingerprint(texts.iter().map(String::as_bytes))
}

/// Runs `plans` (a slice of `spec.runs(..)`) on the scenarios `load_points` made, one
/// run at a time per thread, appending each result to `journal` and calling `done`.
/// The run `check` names (if any) has its summary checked for every metric and
/// distribution first: when one is missing, the runs not yet started are skipped.
pub fn run_all(
    spec: &SweepSpec,
    scenarios: &[Scenario],
    plans: &[RunPlan],
    check: Option<usize>,
    journal: &Journal,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<RunResult>, String> {
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<(usize, String)>> = Mutex::new(None);
    let fail = |index: usize, msg: String| {
        stop.store(true, Ordering::Relaxed);
        let mut slot = first_error.lock().unwrap_or_else(|e| e.into_inner());
        // The lowest run's error, so the message does not depend on thread timing.
        if slot.as_ref().is_none_or(|(i, _)| index < *i) {
            *slot = Some((index, msg));
        }
    };
    let results: Vec<Option<RunResult>> = plans
        .par_iter()
        .with_max_len(1)
        .map(|plan| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let outcome = run_one(spec, scenarios, plan, check == Some(plan.index)).and_then(|r| {
                journal.append(&r)?;
                Ok(r)
            });
            done();
            outcome.map_err(|msg| fail(plan.index, msg)).ok()
        })
        .collect();
    if let Some((_, msg)) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(msg);
    }
    Ok(results.into_iter().flatten().collect())
}

/// Runs one plan. With `check`, a metric or distribution the run lacks is an error.
pub fn run_one(
    spec: &SweepSpec,
    scenarios: &[Scenario],
    plan: &RunPlan,
    check: bool,
) -> Result<RunResult, String> {
    let mut scenario = scenarios[plan.variant * spec.points() + plan.point].clone();
    scenario.seed = plan.seed;
    let outcome = execute(&scenario, &Registry::new(), false)?;
    let summary = Summary::new(&scenario, &outcome, None);
    let json = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
    if check {
        let mut missing = missing_metrics(&json, &spec.metrics);
        for d in spec.distributions.iter().filter(|d| sample(&outcome, &d.of).is_none()) {
            missing.push(format!("distribution `{}`: {}", d.name, missing_reason(&d.of)));
        }
        if !missing.is_empty() {
            return Err(missing.join("; "));
        }
    }
    let metrics = spec
        .metrics
        .iter()
        .map(|m| metric(&json, m).filter(|x| x.is_finite()).unwrap_or(f64::NAN))
        .collect();
    let samples = spec
        .distributions
        .iter()
        .map(|d| if d.kept_by(plan) { sample(&outcome, &d.of) } else { None })
        .collect();
    Ok(RunResult { plan: plan.clone(), metrics, trace_hash: summary.trace_hash, samples })
}

/// The figure at a dotted `path` of a summary, if it is a number.
pub fn figure(json: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(json, |v, key| v.get(key))?.as_f64()
}

/// A metric's value in a summary: its figure, divided and scaled; `None` when the
/// figure is missing or its divisor is 0.
pub fn metric(json: &Value, m: &Metric) -> Option<f64> {
    let Some(of) = figure(json, &m.of) else { return m.absent };
    let value = match &m.per {
        Some(per) => {
            // Nothing to divide by (no reads, no writes): the ratio does not exist, and
            // a 0 would pull the point's mean down.
            let per = figure(json, per).filter(|&p| p != 0.0)?;
            of / per
        }
        None => of,
    };
    Some(value * m.scale)
}

/// Names the metrics whose figures a summary lacks.
pub fn missing_metrics(json: &Value, metrics: &[Metric]) -> Vec<String> {
    let mut missing = Vec::new();
    for m in metrics {
        let of = m.absent.is_none().then_some(&m.of);
        for path in of.into_iter().chain(&m.per) {
            if figure(json, path).is_none() {
                let hint = match nearest_key(json, path) {
                    Some(near) => format!(" ({near})"),
                    None => String::new(),
                };
                missing.push(format!(
                    "metric `{}`: the summary has no number at `{path}`{hint}",
                    m.name
                ));
            }
        }
    }
    missing
}

/// Where a dotted path leaves the summary, the key there nearest the one asked for:
/// `did you mean `counts.db.detection_ms`?`.
fn nearest_key(json: &Value, path: &str) -> Option<String> {
    let keys: Vec<&str> = path.split('.').collect();
    let mut at = json;
    for (i, key) in keys.iter().enumerate() {
        match at.get(key) {
            Some(next) => at = next,
            None => {
                let names = at.as_object()?.keys().map(String::as_str);
                let near = crate::schema::error::nearest(key, names)?;
                let whole = [&keys[..i], &[near][..]].concat().join(".");
                return Some(format!("did you mean `{whole}`?"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_metric_path_is_told_the_nearest_key() {
        let json = serde_json::json!({"counts": {"db": {"detection_ms": 1780}}});
        let m = Metric {
            name: "detection".into(),
            of: "counts.db.detecton_ms".into(),
            per: None,
            scale: 1.0,
            absent: None,
        };
        let missing = missing_metrics(&json, &[m]);
        assert_eq!(
            missing,
            ["metric `detection`: the summary has no number at `counts.db.detecton_ms` (did you \
              mean `counts.db.detection_ms`?)"]
        );
    }

    #[test]
    fn figures_are_found_by_dotted_path_and_divided() {
        let json = serde_json::json!({"checks": {"lost": {"violations": 5, "checked": 200}}});
        assert_eq!(figure(&json, "checks.lost.violations"), Some(5.0));
        assert_eq!(figure(&json, "checks.nope"), None);
        let m = Metric {
            name: "lost per 1000".into(),
            of: "checks.lost.violations".into(),
            per: Some("checks.lost.checked".into()),
            scale: 1000.0,
            absent: None,
        };
        assert_eq!(metric(&json, &m), Some(25.0));
        assert!(missing_metrics(&json, std::slice::from_ref(&m)).is_empty());
        // Nothing checked: no ratio (it used to be 0, pulling a point's mean down).
        let none = serde_json::json!({"checks": {"lost": {"violations": 0, "checked": 0}}});
        assert_eq!(metric(&none, &m), None);
    }
}
