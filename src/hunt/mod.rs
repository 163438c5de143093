//! `archsim hunt`: one scenario run on many seeds in parallel, looking for the first
//! seed on which an invariant fails.
//!
//! Seeds are tried in parallel but judged in order: a seed above the lowest failing
//! one found so far is skipped, and every seed below it has run, so the first failing
//! seed and the counts over the seeds up to it do not depend on the thread count.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::check::Verdict;
use crate::components::Registry;
use crate::model::Scenario;
use crate::report::Summary;
use crate::report::over_seeds::{OverSeeds, SeedVerdicts};
use crate::run::{RunError, execute};

/// What makes a seed fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A watched invariant is violated, whatever the scenario expects.
    Violated,
    /// A verdict differs from what the scenario expects (`expect`).
    Differs,
}

impl Failure {
    /// Whether `v` is a failure of this kind.
    pub fn fails(self, v: &SeedVerdict) -> bool {
        match self {
            Failure::Violated => v.verdict == Verdict::Violated,
            Failure::Differs => v.as_expected == Some(false),
        }
    }
}

/// What to hunt for.
#[derive(Debug, Clone)]
pub struct HuntSpec {
    /// The seeds to try, in the order they are judged.
    pub seeds: Vec<u64>,
    /// What makes a seed fail.
    pub failure: Failure,
    /// Stop at the first failing seed (else every seed runs).
    pub stop_at_first: bool,
    /// The invariants watched (empty: all of the scenario's).
    pub checks: Vec<String>,
}

/// One invariant's verdict on one seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedVerdict {
    /// The invariant.
    pub check: &'static str,
    /// Holds or violated.
    pub verdict: Verdict,
    /// How many violations.
    pub violations: u64,
    /// Whether the verdict is what the scenario expects (`None`: it expects nothing).
    pub as_expected: Option<bool>,
}

/// What one seed gave.
#[derive(Debug, Clone)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// The trace hash, so the seed's replay can be checked.
    pub trace_hash: String,
    /// The watched invariants' verdicts, by name.
    pub verdicts: Vec<SeedVerdict>,
    /// Whether the seed failed.
    pub failed: bool,
}

/// What a hunt found.
#[derive(Debug, Clone)]
pub struct Hunt {
    /// Every seed judged, in order (up to the first failing one when stopping there).
    pub runs: Vec<SeedRun>,
}

impl Hunt {
    /// The first failing seed's run.
    pub fn first_failing(&self) -> Option<&SeedRun> {
        self.runs.iter().find(|r| r.failed)
    }

    /// Per watched invariant: the seeds that violated it and their violations in all.
    pub fn by_invariant(&self) -> Vec<(&'static str, Vec<u64>, u64)> {
        let Some(first) = self.runs.first() else { return Vec::new() };
        first
            .verdicts
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut seeds = Vec::new();
                let mut violations = 0;
                for run in &self.runs {
                    let verdict = &run.verdicts[i];
                    if verdict.verdict == Verdict::Violated {
                        seeds.push(run.seed);
                    }
                    violations += verdict.violations;
                }
                (v.check, seeds, violations)
            })
            .collect()
    }
}

/// The scenario's invariants `spec` watches, or an error naming an unknown one.
pub fn watched(scenario: &Scenario, spec: &HuntSpec) -> Result<Vec<String>, String> {
    let all: Vec<String> = scenario.checks.iter().map(|c| c.name().to_string()).collect();
    if spec.checks.is_empty() {
        return Ok(all);
    }
    for name in &spec.checks {
        checked_by(scenario, name)?;
    }
    Ok(spec.checks.clone())
}

/// Whether `scenario` runs the checker called `name`; if not, an error that says which
/// it runs and the likeliest one meant.
pub fn checked_by(scenario: &Scenario, name: &str) -> Result<(), String> {
    let all: Vec<&str> = scenario.checks.iter().map(|c| c.name()).collect();
    if all.contains(&name) {
        return Ok(());
    }
    let guess = crate::schema::error::did_you_mean(name, all.iter().copied())
        .map_or(String::new(), |g| format!("; {g}"));
    Err(format!("the scenario does not check `{name}`{guess} (it checks: {})", all.join(", ")))
}

/// Runs `scenario` on the seeds of `spec` on rayon's pool, calling `done` after each.
pub fn hunt(
    scenario: &Scenario,
    spec: &HuntSpec,
    done: &(dyn Fn() + Sync),
) -> Result<Hunt, String> {
    let watched = watched(scenario, spec)?;
    // The index of the lowest failing seed found so far (`usize::MAX`: none yet).
    let lowest = AtomicUsize::new(usize::MAX);
    let runs: Vec<Option<Result<SeedRun, RunError>>> = spec
        .seeds
        .par_iter()
        .enumerate()
        .with_max_len(1)
        .map(|(i, &seed)| {
            if spec.stop_at_first && i > lowest.load(Ordering::Relaxed) {
                return None;
            }
            let run = run_seed(scenario, seed, spec.failure, &watched);
            if spec.stop_at_first && run.as_ref().is_ok_and(|r| r.failed) {
                lowest.fetch_min(i, Ordering::Relaxed);
            }
            done();
            Some(run)
        })
        .collect();
    let cut = lowest.into_inner();
    let mut judged = Vec::new();
    for run in runs.into_iter().take(cut.saturating_add(1)) {
        // Every seed up to the cut ran: only seeds above it are ever skipped.
        let run = run.ok_or("a seed below the first failing one did not run")?;
        judged.push(run.map_err(String::from)?);
    }
    Ok(Hunt { runs: judged })
}

/// `first`, the summary of the scenario's own seed, with its expectations judged over
/// the scenario's `seeds`: the seeds after the first run on rayon's pool. A scenario
/// of one seed gives `first` back.
pub fn judged_over_seeds(scenario: &Scenario, first: Summary) -> Result<Summary, String> {
    if scenario.seeds <= 1 {
        return Ok(first);
    }
    let spec = HuntSpec {
        seeds: (1..scenario.seeds).map(|i| scenario.seed.wrapping_add(i)).collect(),
        failure: Failure::Differs,
        stop_at_first: false,
        checks: Vec::new(),
    };
    let others = hunt(scenario, &spec, &|| {})?;
    let mut seeds = vec![first.seed_verdicts()];
    seeds.extend(others.runs.iter().map(|r| SeedVerdicts {
        seed: r.seed,
        verdicts: r.verdicts.iter().map(|v| (v.check, v.verdict, v.violations)).collect(),
    }));
    Ok(first.judged_over(OverSeeds::judge(&scenario.expect, &seeds), scenario))
}

/// Runs one seed and judges it.
pub fn run_seed(
    scenario: &Scenario,
    seed: u64,
    failure: Failure,
    watched: &[String],
) -> Result<SeedRun, RunError> {
    let mut scenario = scenario.clone();
    scenario.seed = seed;
    let outcome = execute(&scenario, &Registry::new(), false)?;
    let summary = Summary::new(&scenario, &outcome, None);
    let verdicts: Vec<SeedVerdict> = summary
        .checks
        .iter()
        .filter(|(name, _)| watched.iter().any(|w| w == *name))
        .map(|(&check, c)| SeedVerdict {
            check,
            verdict: c.report.verdict,
            violations: c.report.violations,
            as_expected: c.as_expected,
        })
        .collect();
    let failed = verdicts.iter().any(|v| failure.fails(v));
    Ok(SeedRun { seed, trace_hash: summary.trace_hash, verdicts, failed })
}
