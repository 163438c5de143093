//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use archsim::components::Registry;
use archsim::model::Scenario;
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

/// Runs the `archsim` binary with `args` from the repository root.
pub fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("archsim binary runs")
}
