//! Files that are not what a scenario or an output should be: a device that never ends,
//! a FIFO nobody writes, an output path that is the input itself. Each is refused with
//! exit code 2 and leaves the input as it was.

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
    assert!(err.contains("/dev/zero:1:1: error: `/dev/zero` is not a regular file"), "{err}");
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
