//! Runs a sweep: loads the scenario once per variant and grid point (so a bad value is
//! refused before anything runs), then runs every replicate in parallel on rayon's
//! pool. Each run is single-threaded and seeded from its plan, and results are put
//! back in plan order, so the output does not depend on the thread count.

use std::path::Path;

use rayon::prelude::*;
use serde_json::Value;

use super::plan::{Metric, RunPlan, SweepSpec};
use crate::components::Registry;
use crate::model::Scenario;
use crate::report::Summary;
use crate::run::execute;
use crate::schema::{LoadError, load_scenario};

/// What one run gave.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The plan it ran.
    pub plan: RunPlan,
    /// One value per metric (`NaN` where the summary had no such figure).
    pub metrics: Vec<f64>,
    /// The run's trace hash, so any row can be replayed and checked.
    pub trace_hash: String,
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
        sets.extend(spec.sets(run));
        scenarios.push(load_scenario(path, &sets, &registry)?);
    }
    Ok(scenarios)
}

/// Runs `plans` (a slice of `spec.runs(..)`) on the scenarios `load_points` made,
/// calling `done` after each run (from any thread).
pub fn run_all(
    spec: &SweepSpec,
    scenarios: &[Scenario],
    plans: &[RunPlan],
    done: &(dyn Fn() + Sync),
) -> Result<Vec<RunResult>, String> {
    plans
        .par_iter()
        .map(|plan| {
            let result = run_one(spec, scenarios, plan).map(|(r, _)| r);
            done();
            result
        })
        .collect()
}

/// Runs one plan; returns its result and its summary as JSON.
pub fn run_one(
    spec: &SweepSpec,
    scenarios: &[Scenario],
    plan: &RunPlan,
) -> Result<(RunResult, Value), String> {
    let mut scenario = scenarios[plan.variant * spec.points() + plan.point].clone();
    scenario.seed = plan.seed;
    let outcome = execute(&scenario, &Registry::new(), false)?;
    let summary = Summary::new(&scenario, &outcome, None);
    let json = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
    let metrics = spec.metrics.iter().map(|m| metric(&json, m).unwrap_or(f64::NAN)).collect();
    Ok((RunResult { plan: plan.clone(), metrics, trace_hash: summary.trace_hash }, json))
}

/// The figure at a dotted `path` of a summary, if it is a number.
pub fn figure(json: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(json, |v, key| v.get(key))?.as_f64()
}

/// A metric's value in a summary: its figure, divided and scaled.
pub fn metric(json: &Value, m: &Metric) -> Option<f64> {
    let Some(of) = figure(json, &m.of) else { return m.absent };
    let value = match &m.per {
        Some(per) => {
            let per = figure(json, per)?;
            if per == 0.0 { 0.0 } else { of / per }
        }
        None => of,
    };
    Some(value * m.scale)
}

/// Names the metrics whose figures a summary lacks (checked on one run up front).
pub fn missing_metrics(json: &Value, metrics: &[Metric]) -> Vec<String> {
    let mut missing = Vec::new();
    for m in metrics {
        let of = m.absent.is_none().then_some(&m.of);
        for path in of.into_iter().chain(&m.per) {
            if figure(json, path).is_none() {
                missing.push(format!("metric `{}`: the summary has no number at `{path}`", m.name));
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(missing_metrics(&json, &[m]).is_empty());
    }
}
