//! Fuzzes the model + scenario loader, and runs briefly what it accepts.
//!
//! An input is a scenario file and a model file separated by the first NUL byte; the
//! scenario names its model `model.ron` (the seed corpus, made by `fuzz/seed_corpus.sh`,
//! rewrites the shipped scenarios so). Both are written to a folder of this process
//! and loaded as `archsim run` loads them. The loader must not panic, and every
//! diagnostic of a refused input must lie inside the file it names. An accepted input
//! with a small population is built into a world and run for at most 2 simulated
//! seconds under tight event limits, so faults in the engine's handling of odd but
//! valid values are found too.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use archsim::components::{Registry, World};
use archsim::engine::Limits;
use archsim::run::run_world;
use archsim::schema::{LoadError, load_scenario};
use archsim::engine::SimDuration;
use libfuzzer_sys::fuzz_target;

/// Populations above this are loaded but not built: a big world is slow, not wrong.
const CLIENTS_RUN_MAX: u32 = 500;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("archsim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

fn check_positions(err: &LoadError, files: &[(&str, &str)]) {
    assert!(!err.diagnostics.is_empty(), "an error without a diagnostic");
    for d in &err.diagnostics {
        let Some((_, text)) = files.iter().find(|(name, _)| *name == d.file) else {
            panic!("a diagnostic names `{}`, no file of this input: {d}", d.file);
        };
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(d.line >= 1 && d.line <= lines.len(), "line {} of {}: {d}", d.line, lines.len());
        let width = lines[d.line - 1].chars().count();
        assert!(d.col >= 1 && d.col <= width + 2, "column {} of {width}: {d}", d.col);
    }
}

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (scenario, model) = (&data[..cut], data.get(cut + 1..).unwrap_or(&[]));
    let dir = folder();
    let (scenario_path, model_path) = (dir.join("scenario.ron"), dir.join("model.ron"));
    std::fs::write(&scenario_path, scenario).expect("write the scenario");
    std::fs::write(&model_path, model).expect("write the model");
    let registry = Registry::new();
    let loaded = load_scenario(&scenario_path, &[], &registry);
    let mut scenario = match loaded {
        Ok(s) => s,
        Err(err) => {
            let (s_name, m_name) =
                (scenario_path.display().to_string(), model_path.display().to_string());
            let (s_text, m_text) =
                (String::from_utf8_lossy(scenario), String::from_utf8_lossy(model));
            check_positions(&err, &[(&s_name, &s_text), (&m_name, &m_text)]);
            return;
        }
    };
    if scenario.clients.count > CLIENTS_RUN_MAX {
        return;
    }
    scenario.duration = scenario.duration.min(SimDuration::from_secs(2));
    scenario.limits = Limits { events: 200_000, pending: 200_000, same_instant: 50_000, forecast_after: 0 };
    if let Ok(sim) = World::build(&scenario, &registry, false) {
        let _ = run_world(sim, &scenario, |_, _| {});
    }
});
