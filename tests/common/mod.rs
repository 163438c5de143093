//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use archsim::check::VersionId;
use archsim::components::Registry;
use archsim::model::Scenario;
use archsim::report::history_export;
use archsim::run::{RunOutcome, execute};
use archsim::schema::load_scenario;

/// The repository root (tests run from there).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario file, as paths relative to the repository root, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .map(|p| Path::new("scenarios").join(p.file_name().expect("file name")))
        .collect();
    files.sort();
    files
}

/// Loads a scenario (relative to the repository root) with `--set` overrides.
pub fn load(path: &Path, sets: &[&str]) -> Scenario {
    std::env::set_current_dir(root()).expect("repository root");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load_scenario(path, &sets, &Registry::new())
        .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()))
}

/// Runs a loaded scenario once.
pub fn run(scenario: &Scenario) -> RunOutcome {
    execute(scenario, &Registry::new(), false).expect("scenario builds")
}

/// Runs a loaded scenario once, keeping every operation (as `--history` does).
pub fn run_keeping_ops(scenario: &Scenario) -> RunOutcome {
    execute(scenario, &Registry::new(), true).expect("scenario builds")
}

/// Jepsen's rule for `--history`: a process has one operation open at a time, and a
/// process whose operation ended `info` never invokes again. The first breach, if any.
pub fn process_rule_breach(lines: &[history_export::Line]) -> Option<String> {
    let mut open = std::collections::BTreeMap::new();
    let mut retired = std::collections::BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        if l.kind == "invoke" {
            if retired.contains(&l.process) {
                return Some(format!("line {i}: process {} invokes after an info", l.process));
            }
            if let Some(prev) = open.insert(l.process, i) {
                let p = l.process;
                return Some(format!("line {i}: process {p} invokes with line {prev} still open"));
            }
        } else {
            if open.remove(&l.process).is_none() {
                return Some(format!("line {i}: process {} completes nothing", l.process));
            }
            if l.kind == "info" {
                retired.insert(l.process);
            }
        }
    }
    open.first_key_value().map(|(p, i)| format!("line {i}: process {p} never completes"))
}

/// Runs the `archsim` binary with `args` from the repository root. `run` and `diff`
/// judge one seed unless the test gives `--seeds` (most shipped scenarios judge 20,
/// which `tests/over_seeds.rs` and `tests/scenarios.rs` cover).
pub fn archsim(args: &[&str]) -> Output {
    let one_seed = matches!(args.first(), Some(&"run" | &"diff")) && !args.contains(&"--seeds");
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .args(if one_seed { &["--seeds", "1"][..] } else { &[] })
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("archsim binary runs")
}

/// The first version built on another key's version, or read of one key (that names
/// one key) answered with another key's version, if any.
pub fn cross_key(history: &archsim::check::History) -> Option<String> {
    let dag = history.dag();
    for id in dag.ids() {
        let key = dag.get(id).key;
        if let Some(p) = dag.parents(id).find(|&p| p != VersionId::ROOT && dag.get(p).key != key) {
            return Some(format!("{id} of key {key} is built on {p} of key {}", dag.get(p).key));
        }
    }
    let ops = history.ops()?;
    let crossing = ops.iter().find(|o| {
        o.inv.purpose.one_key() && o.version != VersionId::ROOT && dag.get(o.version).key != o.key()
    })?;
    Some(format!("a read of key {} returned {}", crossing.key(), crossing.version))
}

/// Mean and standard error of the mean of `xs`.
pub fn mean_and_error(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}
