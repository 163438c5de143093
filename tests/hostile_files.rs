//! Files that are not what a scenario or an output should be: a device that never ends,
//! a FIFO nobody writes, an output path that is the input itself. Each is refused with
//! exit code 2 and leaves the input as it was. And a standard output whose reader went
//! away (`| head`), which ends every command quietly with 0.

mod common;

use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archsim-hostile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_device_is_refused_rather_than_read_forever() {
    let out = common::archsim(&["run", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/zero: error: `/dev/zero` is not a regular file"), "{err}");
}

#[test]
fn every_command_refuses_a_device_as_its_input() {
    let good = "scenarios/stale_read_refresh.ron";
    let out_dir = scratch("device-merge");
    let out = out_dir.to_str().unwrap();
    let commands: [&[&str]; 7] = [
        &["sweep", "/dev/zero", "--quiet"],
        &["hunt", "/dev/zero", "--quiet"],
        &["diff", "/dev/zero", good],
        &["diff", good, "/dev/zero"],
        &["shrink", "/dev/zero"],
        &["merge", "/dev/zero", "--out", out],
        &["run", good, "--set", "duration=1s", "--seeds", "1", "--history", "/dev/zero"],
    ];
    for args in &commands[..6] {
        let run = common::archsim(args);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("/dev/zero") && err.contains("not a regular file"), "{args:?}: {err}");
    }
    // As an output a device is written through, not refused.
    assert_eq!(common::archsim(commands[6]).status.code(), Some(0));
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_fifo_without_a_writer_is_refused_rather_than_waited_on() {
    let dir = scratch("fifo");
    let fifo = dir.join("scenario.ron");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = common::archsim(&["run", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a regular file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_output_onto_the_scenario_is_refused_and_the_scenario_kept() {
    let dir = scratch("overwrite");
    let scenario = dir.join("s.ron");
    let model = common::root().join("models/queue_single_server.ron");
    let text = format!(
        "Scenario(model: {:?}, duration: \"2s\", clients: (count: 2, workflow: [write, sleep(exp(\"100ms\"))]))",
        model.display().to_string()
    );
    std::fs::write(&scenario, &text).unwrap();
    let path = scenario.to_str().unwrap();
    for flag in ["--trace", "--html", "--history"] {
        let out = common::archsim(&["run", path, flag, path]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is an input of this command"), "{flag}: {err}");
        assert_eq!(std::fs::read_to_string(&scenario).unwrap(), text, "{flag} replaced the input");
    }
    let model_path = model.to_str().unwrap();
    let out = common::archsim(&["run", path, "--trace", model_path]);
    assert_eq!(out.status.code(), Some(2), "the model is an input too");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs archsim with its standard output a pipe whose reader is already gone.
fn with_closed_stdout(args: &[&str]) -> Option<i32> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("archsim runs");
    drop(child.stdout.take());
    child.wait().expect("archsim ends").code()
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_0() {
    let scenario = "scenarios/stale_read_refresh.ron";
    let short = ["--set", "duration=20s"];
    assert_eq!(
        with_closed_stdout(&[&["run", scenario, "--seeds", "1"], &short[..]].concat()),
        Some(0)
    );
    // Even when a verdict differs (exit code 1 with an open stdout).
    let differs =
        [&["run", scenario, "--seeds", "1", "--set", "expect={convergence: violated}"], &short[..]]
            .concat();
    assert_eq!(common::archsim(&differs).status.code(), Some(1));
    assert_eq!(with_closed_stdout(&differs), Some(0));
    let hunt = [&["hunt", scenario, "--seeds", "2", "--quiet"], &short[..]].concat();
    assert_eq!(with_closed_stdout(&hunt), Some(0));
}
