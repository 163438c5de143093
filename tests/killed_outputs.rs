//! A run killed while it writes its trace leaves the previous trace as it was: the
//! trace goes to a temporary file beside it (`.NAME.tmp-PID`) and is renamed into place
//! only once whole. Interrupted (SIGINT, SIGTERM), it also removes that file.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Half an hour of the stale-read scenario, one seed, traced to `trace`: over a million
/// events, a trace of well over 100 MB, so its write can be caught in the middle.
fn long_traced_run(trace: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(["run", "scenarios/stale_read_refresh.ron", "--seeds", "1"])
        .args(["--set", "duration=30m", "--trace"])
        .arg(trace)
        .current_dir(common::root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_run_killed_mid_write_leaves_the_previous_trace_intact() {
    let dir = std::env::temp_dir().join(format!("archsim-killed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.jsonl");
    let previous = "{\"previous\":\"trace\"}\n";
    std::fs::write(&trace, previous).unwrap();
    let mut child = long_traced_run(&trace);
    let temp = dir.join(format!(".trace.jsonl.tmp-{}", child.id()));
    let started = Instant::now();
    let mut seen = 0;
    while started.elapsed() < Duration::from_secs(60) {
        seen = std::fs::metadata(&temp).map_or(0, |m| m.len());
        if seen > 1 << 20 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run finished before it could be killed");
    assert!(seen > 1 << 20, "the temporary trace never grew past 1 MiB ({seen} bytes)");
    assert_eq!(std::fs::read_to_string(&trace).unwrap(), previous, "the trace was touched");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_run_removes_its_temporary_trace_and_exits_130() {
    let dir = std::env::temp_dir().join(format!("archsim-interrupted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("trace.jsonl");
    let mut child = long_traced_run(&trace);
    let temp = dir.join(format!(".trace.jsonl.tmp-{}", child.id()));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) && !temp.exists() {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(temp.exists(), "the temporary trace never appeared");
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(!temp.exists(), "the temporary trace was left behind");
    assert!(!trace.exists(), "a trace was written");
    std::fs::remove_dir_all(&dir).unwrap();
}
