//! `archsim sweep`: the same files for any thread count, and bad sweeps refused.

mod common;

use std::path::{Path, PathBuf};

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archsim-sweep-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the shipped lag sweep, shortened, on `threads` threads into a fresh directory.
fn sweep(threads: &str) -> PathBuf {
    let out = out_dir(threads);
    let args = [
        "sweep",
        "scenarios/sweep_lag_vs_loss.ron",
        "--threads",
        threads,
        "--set",
        "duration=\"1m\"",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    let run = common::archsim(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    out
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn one_thread_and_two_write_the_same_files() {
    let (one, two) = (sweep("1"), sweep("2"));
    for name in ["results.csv", "summary.csv", "lost_writes_per_1000_acknowledged.svg"] {
        assert!(read(&one, name) == read(&two, name), "{name} differs between 1 and 2 threads");
    }
    let results = String::from_utf8(read(&one, "results.csv")).unwrap();
    // 2 variants × 11 lags × 5 seeds, plus the header.
    assert_eq!(results.lines().count(), 1 + 2 * 11 * 5);
    // The fix loses nothing at any lag; without it, 5 s of lag loses writes.
    let summary = String::from_utf8(read(&one, "summary.csv")).unwrap();
    let mean = |variant: &str, lag: &str| -> f64 {
        let prefix = format!("{variant},{lag},lost writes per 1000 acknowledged,");
        let row = summary.lines().find(|l| l.starts_with(&prefix)).expect("row");
        row[prefix.len()..].split(',').nth(1).unwrap().parse().unwrap()
    };
    assert!(mean("no fix", "5") > 100.0 && mean("no fix", "0") == 0.0);
    assert_eq!(mean("read-your-writes (session tokens)", "5"), 0.0);
    assert!(dir_has_png(&one));
}

fn dir_has_png(dir: &Path) -> bool {
    let png = read(dir, "lost_writes_per_1000_acknowledged.png");
    png.starts_with(b"\x89PNG")
}

#[test]
fn a_scenario_without_a_sweep_or_with_a_bad_metric_is_refused() {
    let out = out_dir("bad");
    let o = out.to_str().unwrap();
    let run = common::archsim(&["sweep", "scenarios/crash_wal.ron", "--out", o, "--quiet"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("scenarios/crash_wal.ron:"), "{stderr}");
    assert!(stderr.contains("no `sweep` block"), "{stderr}");
    let args = ["sweep", "tests/sweep_input/bad_metric.ron", "--out", o, "--quiet"];
    let run = common::archsim(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the summary has no number at `checks.nope.violations`"), "{stderr}");
    assert!(!out.join("results.csv").exists(), "a refused sweep wrote results");
}
