//! Every file in `scenarios/` runs and its JSON summary matches the snapshot in
//! `snapshots/`, and every verdict it expects holds (on its one seed; a scenario of many
//! seeds is judged over them in `tests/over_seeds.rs`). Kept in its own test binary: insta's glob state is process-global.

mod common;

use archsim::report::Summary;

#[test]
fn every_scenario_matches_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let files = common::scenario_files();
    assert!(files.len() >= 2, "scenarios/ holds the shipped scenarios");
    settings.bind(|| {
        for path in &files {
            let scenario = common::load(path, &[]);
            let outcome = common::run(&scenario);
            let summary = Summary::new(&scenario, &outcome, None);
            assert!(!scenario.expect.is_empty(), "{} states no expected verdict", path.display());
            // A scenario of many seeds is judged over them in tests/over_seeds.rs: one
            // seed may rightly differ (`violated` needs only some seed to violate).
            let judged_here = scenario.seeds == 1;
            for (name, c) in summary.checks.iter().filter(|_| judged_here) {
                assert_ne!(
                    c.as_expected,
                    Some(false),
                    "{}: {name} is {:?}",
                    path.display(),
                    c.report.verdict
                );
            }
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            insta::assert_snapshot!(name, summary.to_json());
        }
    });
}

#[test]
fn every_snapshot_has_a_scenario() {
    let stems: Vec<String> = common::scenario_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for entry in std::fs::read_dir(common::root().join("snapshots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".snap") else { continue };
        assert!(stems.iter().any(|s| s == stem), "stale snapshot {name}: no scenarios/{stem}.ron");
    }
}
