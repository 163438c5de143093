//! `archsim shrink`: makes a failing run small enough to read. Starting from a scenario
//! file and a seed on which an invariant is violated, it tries smaller scenarios and
//! keeps each one on which the same invariant is still violated: fewer faults, faults
//! that strike earlier and last less, fewer clients, a shorter duration; passes repeat
//! until none of them finds anything smaller.
//!
//! Candidates are the original file plus overrides of `faults`, `clients.count` and
//! `duration` (the loader's own `--set` machinery), so every candidate is validated
//! like a file a user wrote, and the result is written as that file with the overrides
//! spliced in.

mod edits;

use std::path::Path;

use crate::check::Verdict;
use crate::components::Registry;
use crate::engine::SimDuration;
use crate::model::Scenario;
use crate::run::execute;
use crate::schema::load_scenario;

pub use edits::{exact, fault_texts, shorter_durations, write_scenario};

/// Client counts tried, smallest first.
const CLIENT_STEPS: [u32; 24] = [
    1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 32, 40, 50, 64, 80, 100, 128, 160, 200, 256, 320, 400,
];

/// Passes over every reduction, at most.
const PASSES_MAX: u32 = 4;

/// A smaller scenario: the overrides that make it from the original file.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrunk {
    /// Each fault's RON text, in order.
    pub faults: Vec<String>,
    /// Each fault's index in the original file.
    pub sources: Vec<usize>,
    /// Clients (`None`: the scenario's populations, which the shrink leaves as they are).
    pub clients: Option<u32>,
    /// Simulated time.
    pub duration: SimDuration,
    /// The scenario's swarm was drawn into `faults` (the seed's mix), so it is emptied.
    pub swarm_drawn: bool,
    /// Timing parameters (`set` entries, the clock skew) as (path, value text).
    pub parameters: Vec<(String, String)>,
}

impl Shrunk {
    /// The `--set` arguments that make this scenario from the original file.
    pub fn sets(&self) -> Vec<String> {
        let mut sets = vec![format!("faults=[{}]", self.faults.join(", "))];
        sets.extend(self.clients.map(|n| format!("clients.count={n}")));
        sets.push(format!("duration=\"{}\"", exact(self.duration)));
        if self.swarm_drawn {
            sets.push("swarm=[]".into());
        }
        sets.extend(self.parameters.iter().map(|(k, v)| format!("{k}={v}")));
        sets
    }
}

/// What a shrink found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The smallest failing scenario found.
    pub shrunk: Shrunk,
    /// The original scenario's figures, for the report.
    pub original: Shrunk,
    /// Runs made, the first (checking the original fails) included.
    pub runs: u32,
    /// Violations of the invariant in the smallest run.
    pub violations: u64,
}

/// The search: the original file, the seed, the invariant, and a run counter.
pub struct Shrinker<'a> {
    path: &'a Path,
    /// Called after each run (the command line's progress).
    on_run: &'a dyn Fn(),
    seed: u64,
    check: String,
    registry: Registry,
    /// Runs made so far.
    pub runs: u32,
}

impl<'a> Shrinker<'a> {
    /// A shrinker of `path` on `seed` for `check`.
    pub fn new(path: &'a Path, seed: u64, check: &str, on_run: &'a dyn Fn()) -> Shrinker<'a> {
        let check = check.to_string();
        Shrinker { path, on_run, seed, check, registry: Registry::new(), runs: 0 }
    }

    /// The invariant's violations on `candidate` (0: it holds, or the candidate is not
    /// a valid scenario).
    pub fn violations(&mut self, candidate: &Shrunk) -> u64 {
        self.runs += 1;
        let _ran = OnDrop(self.on_run);
        let Ok(mut scenario) = load_scenario(self.path, &candidate.sets(), &self.registry) else {
            return 0;
        };
        scenario.seed = self.seed;
        violations_of(&scenario, &self.check, &self.registry)
    }

    /// Shrinks `start`, which must fail; returns the smallest failing candidate found
    /// and its violations.
    pub fn shrink(&mut self, start: Shrunk, violations: u64) -> (Shrunk, u64) {
        let mut best = (start, violations);
        for _ in 0..PASSES_MAX {
            let before = best.0.clone();
            self.drop_faults(&mut best);
            self.shorten_faults(&mut best);
            self.fewer_clients(&mut best);
            self.shorter_run(&mut best);
            self.smaller_parameters(&mut best);
            if best.0 == before {
                break;
            }
        }
        best
    }

    /// Keeps `candidate` if it still fails.
    fn keep_if_failing(&mut self, best: &mut (Shrunk, u64), candidate: Shrunk) -> bool {
        let v = self.violations(&candidate);
        if v > 0 {
            *best = (candidate, v);
        }
        v > 0
    }

    fn drop_faults(&mut self, best: &mut (Shrunk, u64)) {
        let mut i = best.0.faults.len();
        while i > 0 {
            i -= 1;
            let mut candidate = best.0.clone();
            candidate.faults.remove(i);
            candidate.sources.remove(i);
            self.keep_if_failing(best, candidate);
        }
    }

    /// Each timing field of each fault (`at`, `restart_after`, `heal_after`, `for`),
    /// set to the smallest of a few shorter values that still fails.
    fn shorten_faults(&mut self, best: &mut (Shrunk, u64)) {
        for i in 0..best.0.faults.len() {
            for field in edits::FAULT_TIMES {
                let Some(values) = edits::fault_time_candidates(&best.0.faults[i], field) else {
                    continue;
                };
                for text in values {
                    let mut candidate = best.0.clone();
                    candidate.faults[i] = text;
                    if self.keep_if_failing(best, candidate) {
                        break;
                    }
                }
            }
        }
    }

    fn fewer_clients(&mut self, best: &mut (Shrunk, u64)) {
        let Some(current) = best.0.clients else { return };
        for &n in CLIENT_STEPS.iter().filter(|&&n| n < current) {
            let candidate = Shrunk { clients: Some(n), ..best.0.clone() };
            if self.keep_if_failing(best, candidate) {
                break;
            }
        }
    }

    /// Each timing parameter scaled down by the smallest factor that still fails.
    fn smaller_parameters(&mut self, best: &mut (Shrunk, u64)) {
        for i in 0..best.0.parameters.len() {
            for (num, den) in [(1, 64), (1, 16), (1, 4), (1, 2), (3, 4)] {
                let value = edits::scaled(&best.0.parameters[i].1, num, den);
                if value.is_empty() {
                    continue;
                }
                let mut candidate = best.0.clone();
                candidate.parameters[i].1 = value;
                if self.keep_if_failing(best, candidate) {
                    break;
                }
            }
        }
    }

    fn shorter_run(&mut self, best: &mut (Shrunk, u64)) {
        for d in shorter_durations(best.0.duration) {
            let candidate = Shrunk { duration: d, ..best.0.clone() };
            if self.keep_if_failing(best, candidate) {
                break;
            }
        }
    }
}

/// The violations of `check` in a run of `scenario`.
pub fn violations_of(scenario: &Scenario, check: &str, registry: &Registry) -> u64 {
    let Ok(outcome) = execute(scenario, registry, false) else { return 0 };
    outcome
        .checks
        .iter()
        .find(|c| c.name == check && c.verdict == Verdict::Violated)
        .map_or(0, |c| c.violations)
}

impl Outcome {
    /// What the shrink changed, one line each: clients, duration, each fault removed or
    /// changed.
    pub fn changes(&self) -> Vec<String> {
        let (from, to) = (&self.original, &self.shrunk);
        let mut lines = Vec::new();
        if let (Some(a), Some(b)) = (from.clients, to.clients)
            && a != b
        {
            lines.push(format!("clients {a} -> {b}"));
        }
        if to.duration != from.duration {
            lines.push(format!("duration {} -> {}", exact(from.duration), exact(to.duration)));
        }
        for ((key, was), (_, now)) in from.parameters.iter().zip(&to.parameters) {
            if was != now {
                lines.push(format!("{key} {was} -> {now}"));
            }
        }
        for (i, fault) in from.faults.iter().enumerate() {
            match to.sources.iter().position(|&s| s == i) {
                None => lines.push(format!("removed fault {fault}")),
                Some(k) if to.faults[k] != *fault => {
                    lines.push(format!("fault {fault} -> {}", to.faults[k]));
                }
                Some(_) => {}
            }
        }
        lines
    }
}

/// Calls its function when dropped: after a run, however it ended.
struct OnDrop<'a>(&'a dyn Fn());

impl Drop for OnDrop<'_> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Shrinks `scenario` (read from `path`) on `seed` for `check`, calling `on_run` after
/// each run.
pub fn shrink(
    path: &Path,
    scenario: &Scenario,
    (seed, check): (u64, &str),
    on_run: &dyn Fn(),
) -> Result<Outcome, String> {
    let mut faults = fault_texts(path)?;
    if faults.len() != scenario.faults.len() {
        return Err("the scenario's faults could not be read from its file".into());
    }
    // The seed's mix becomes fixed faults, which the passes then drop and shorten.
    let mix = crate::model::swarm::draw(&scenario.swarm, seed);
    faults.extend(mix.iter().map(crate::model::swarm::to_ron));
    let sources = (0..faults.len()).collect();
    let original = Shrunk {
        faults,
        sources,
        // Named populations keep their counts: one override cannot scale them all.
        clients: match &scenario.clients.populations[..] {
            [one] if one.name == crate::model::CLIENTS => Some(scenario.clients.count),
            _ => None,
        },
        duration: scenario.duration,
        swarm_drawn: !scenario.swarm.is_empty(),
        parameters: edits::parameters(path)?,
    };
    let mut shrinker = Shrinker::new(path, seed, check, on_run);
    let violations = shrinker.violations(&original);
    if violations == 0 {
        return Err(format!(
            "seed {seed} does not violate `{check}`, so there is nothing to shrink; `archsim hunt` \
             finds a seed that does"
        ));
    }
    let (shrunk, violations) = shrinker.shrink(original.clone(), violations);
    Ok(Outcome { shrunk, original, runs: shrinker.runs, violations })
}
