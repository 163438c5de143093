//! A property test of the loader: shipped scenarios and their models, mutated the way
//! hand edits and bad pastes mutate files (a slice deleted, duplicated or moved, RON
//! punctuation, digits, units and names typed in), never make the loader panic. Each
//! one loads (and then builds a world) or is refused with every diagnostic inside the
//! file it names.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use archsim::components::{Registry, World};
use archsim::schema::load_scenario;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// What a mutation may type in.
const TYPED: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "'",
    "-",
    ".",
    "0",
    "1",
    "9",
    "1e309",
    "-1",
    "NaN",
    "inf",
    "\n",
    " ",
    "\t",
    "ms",
    "s",
    "h",
    "exp(",
    "const(",
    "uniform(",
    "Some(",
    "None",
    "true",
    "count",
    "replicas",
    "lag",
    "seed",
    "//",
    "/*",
    "é",
    "∅",
    "18446744073709551616",
];

/// One edit, at a position given as a fraction of the text's length.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: f64, len: usize },
    Insert { at: f64, typed: usize },
    Duplicate { at: f64, len: usize },
    Swap { at: f64, to: f64, len: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (at.clone(), 0..TYPED.len()).prop_map(|(at, typed)| Edit::Insert { at, typed }),
        (at.clone(), 1..80usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        (at.clone(), at, 1..30usize).prop_map(|(at, to, len)| Edit::Swap { at, to, len }),
    ]
}

/// The char index at fraction `at` of `chars`.
fn index(chars: &[char], at: f64) -> usize {
    ((chars.len() as f64 * at) as usize).min(chars.len())
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        match *e {
            Edit::Delete { at, len } => {
                let i = index(&chars, at);
                chars.drain(i..(i + len).min(chars.len()));
            }
            Edit::Insert { at, typed } => {
                let i = index(&chars, at);
                chars.splice(i..i, TYPED[typed].chars());
            }
            Edit::Duplicate { at, len } => {
                let i = index(&chars, at);
                let slice: Vec<char> = chars[i..(i + len).min(chars.len())].to_vec();
                chars.splice(i..i, slice);
            }
            Edit::Swap { at, to, len } => {
                let i = index(&chars, at);
                let moved: Vec<char> = chars.drain(i..(i + len).min(chars.len())).collect();
                let j = index(&chars, to);
                chars.splice(j..j, moved);
            }
        }
    }
    chars.into_iter().collect()
}

/// Every scenario but the sweeps, with its model's path (read once for all cases).
fn cases() -> &'static [(PathBuf, PathBuf)] {
    static CASES: OnceLock<Vec<(PathBuf, PathBuf)>> = OnceLock::new();
    CASES.get_or_init(|| {
        common::scenario_files()
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains("sweep_"))
            .filter_map(|p| {
                let text = std::fs::read_to_string(common::root().join(&p)).ok()?;
                let model = text.split("model: \"").nth(1)?.split('"').next()?.to_string();
                Some((p.clone(), common::root().join("scenarios").join(model)))
            })
            .collect()
    })
}

/// Checks that every diagnostic lies inside the file it names.
fn check_positions(err: &archsim::schema::LoadError, files: &[(&Path, &str)]) {
    assert!(!err.diagnostics.is_empty(), "an error without a diagnostic");
    for d in &err.diagnostics {
        let Some((_, text)) = files.iter().find(|(p, _)| p.display().to_string() == d.file) else {
            panic!("a diagnostic names `{}`, no file of this case: {d}", d.file);
        };
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(d.line >= 1 && d.line <= lines.len(), "line {} of {}: {d}", d.line, lines.len());
        let width = lines[d.line - 1].chars().count();
        assert!(d.col >= 1 && d.col <= width + 2, "column {} of {width}: {d}", d.col);
    }
}

proptest! {
    // PROPTEST_CASES=100000 for a longer hunt.
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(384),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn mutated_files_load_or_are_refused_inside_the_file(
        case in any::<prop::sample::Index>(),
        in_model in any::<bool>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let cases = cases();
        let (scenario, model) = &cases[case.index(cases.len())];
        let dir = std::env::temp_dir().join(format!("archsim-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (scenario_path, model_path) = (dir.join("scenario.ron"), dir.join("model.ron"));
        let scenario_text = std::fs::read_to_string(common::root().join(scenario)).unwrap();
        let scenario_text = scenario_text.replace(
            &scenario_text.split("model: \"").nth(1).unwrap().split('"').next().unwrap().to_string(),
            "model.ron",
        );
        let model_text = std::fs::read_to_string(model).unwrap();
        let (scenario_text, model_text) = if in_model {
            (scenario_text, apply(&model_text, &edits))
        } else {
            (apply(&scenario_text, &edits), model_text)
        };
        std::fs::write(&scenario_path, &scenario_text).unwrap();
        std::fs::write(&model_path, &model_text).unwrap();
        let registry = Registry::new();
        match load_scenario(&scenario_path, &[], &registry) {
            Ok(s) => {
                // A file that loads builds a world, or is refused with a message.
                let _ = World::build(&s, &registry, false);
            }
            Err(err) => check_positions(
                &err,
                &[(&scenario_path, &scenario_text), (&model_path, &model_text)],
            ),
        }
    }
}
