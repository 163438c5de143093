//! `archsim shrink`: a 500-client, 10-minute run with three faults that loses
//! acknowledged writes becomes a file of a client or two and one fault that loses them
//! too, from that file alone. The shrunk file is pinned in `snapshots/shrink/`.

mod common;

#[test]
fn a_failing_run_shrinks_to_a_file_that_fails_alone() {
    let dir = std::env::temp_dir().join(format!("archsim-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("shrunk.ron");
    let o = out.to_str().unwrap();
    let args = ["shrink", "scenarios/failover_under_load.ron", "--seed", "1", "--out", o];
    let run = common::archsim(&args);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let runs: u32 =
        stdout.lines().find_map(|l| l.strip_prefix("runs")).unwrap().trim().parse().unwrap();
    assert!(runs < 200, "{runs} runs");

    // The file alone fails the same way: `archsim run` on it says violated, as expected.
    let replay = common::archsim(&["run", o, "--format", "json"]);
    assert_eq!(replay.status.code(), Some(0), "{}", String::from_utf8_lossy(&replay.stderr));
    let json: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(json["checks"]["lost_acknowledged_write"]["verdict"], "violated");
    assert!(json["clients"].as_u64().unwrap() <= 5, "at most a handful of clients");
    let text = std::fs::read_to_string(&out).unwrap();
    let faults = text.lines().filter(|l| l.contains("faults: [")).collect::<Vec<_>>();
    assert_eq!(faults.len(), 1);
    assert!(faults[0].matches("(target").count() + faults[0].matches("(from").count() <= 2);

    // Pinned, with the machine's temporary folder and model path taken out.
    let model = text.lines().find(|l| l.trim_start().starts_with("model:")).unwrap();
    let pinned = text.replace(o, "OUT").replace(model, "    model: \"MODEL\",");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots/shrink"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("failover_under_load", pinned));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timing_parameters_shrink_too_and_land_in_the_file() {
    let dir = std::env::temp_dir().join(format!("archsim-shrink-params-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (scenario, key, was) in [
        ("scenarios/lww_client_clock_skew.ron", "clients.clock.skew", r#""2s""#),
        ("scenarios/staleness_bound_lag_spike.ron", "db.replication.lag", r#"uniform("1s", "3s")"#),
    ] {
        let out = dir.join("shrunk.ron");
        let o = out.to_str().unwrap();
        let run = common::archsim(&["shrink", scenario, "--out", o]);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let line =
            stdout.lines().find(|l| l.trim_start().starts_with(key)).expect("the parameter shrank");
        assert!(line.contains(&format!("{was} -> ")), "{line}");
        let now = line.rsplit(" -> ").next().unwrap();
        assert!(std::fs::read_to_string(&out).unwrap().contains(now), "{now} is in the file");
        let replay = common::archsim(&["run", o]);
        assert_eq!(replay.status.code(), Some(0), "the file alone fails as it expects");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
