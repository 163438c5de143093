//! The bad-input battery: every file in `tests/bad_input/` is refused with exit code 2,
//! a `file:line:column: error:` first line, the expected message, the same position in
//! `--format json`, and no output file left behind. Plus command-line mistakes.

mod common;

use std::path::Path;

/// (file, line, column, message fragment) from a bad input's `// expect:` header.
fn expectation(path: &Path) -> (String, usize, usize, String) {
    let text = std::fs::read_to_string(path).unwrap();
    if text.is_empty() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        return (name, 1, 1, "Expected opening `(`".into());
    }
    let header = text.lines().next().unwrap();
    let rest = header.strip_prefix("// expect: ").expect("bad input starts with `// expect:`");
    let mut parts = rest.splitn(4, ':');
    let mut next = || parts.next().unwrap().trim().to_string();
    let (file, line, col, fragment) = (next(), next(), next(), next());
    (file, line.parse().unwrap(), col.parse().unwrap(), fragment)
}

fn check_refused(path: &Path) {
    let (file, line, col, fragment) = expectation(path);
    let trace = std::env::temp_dir().join(format!(
        "archsim-bad-{}-{}.jsonl",
        std::process::id(),
        path.file_stem().unwrap().to_string_lossy()
    ));
    let arg = path.to_str().unwrap();
    let out = common::archsim(&["run", arg, "--trace", trace.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{arg}: exit code\n{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    let place = format!("tests/bad_input/{file}:{line}:{col}: error: ");
    assert!(first.starts_with(&place), "{arg}: want `{place}...`, got `{first}`");
    assert!(first.contains(&fragment), "{arg}: `{first}` lacks `{fragment}`");
    let underlined = stderr.lines().any(|l| l.trim_start().starts_with("| ") && l.ends_with('^'));
    let empty = std::fs::metadata(path).unwrap().len() == 0;
    assert!(underlined || empty, "{arg}: no underlined token\n{stderr}");
    assert!(!trace.exists(), "{arg}: a trace file was written");
    assert!(!stderr.contains("panicked"), "{arg}: panicked");

    let out = common::archsim(&["run", arg, "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &json["errors"][0];
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(line as u64), Some(col as u64)),
        "{arg}"
    );
}

#[test]
fn every_bad_input_is_refused_with_its_position() {
    let dir = common::root().join("tests/bad_input");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .map(|p| Path::new("tests/bad_input").join(p.file_name().unwrap()))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the battery has {} files", files.len());
    for path in &files {
        check_refused(path);
    }
}

fn check_cli(args: &[&str], first_line_start: &str, fragment: &str) {
    let out = common::archsim(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}\n{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with(first_line_start), "{args:?}: got `{first}`");
    assert!(stderr.contains(fragment), "{args:?}: `{stderr}` lacks `{fragment}`");
}

#[test]
fn command_line_overrides_are_checked_like_files() {
    let s = "scenarios/stale_read_refresh.ron";
    check_cli(&["run", s, "--set", "dbx.replicas=1"], "--set:1:1: error:", "did you mean `db`?");
    check_cli(
        &["run", s, "--set", "db.replication.lag=exp(5ooms)"],
        "--set:1:",
        "invalid duration",
    );
    check_cli(&["run", s, "--set", "db.replicas"], "--set:1:1: error:", "expected PATH=VALUE");
    check_cli(&["run", s, "--set", "db.replicas=-1"], "--set:1:13: error:", "non-negative integer");
    check_cli(&["run", s, "--set", "clients.count=0"], "--set:1:15: error:", "`count`");
    let absent = ["run", s, "--set", "clients.timeout=absent"];
    check_cli(&absent, "--set:1:17: error:", "to leave an optional field out, write `None`");
}

#[test]
fn unwritable_trace_is_refused_cleanly() {
    let args = ["run", "scenarios/stale_read_refresh.ron", "--trace", "no/such/dir/t.jsonl"];
    check_cli(&args, "no/such/dir/t.jsonl: error:", "cannot write output");
}

#[test]
fn usage_mistakes_exit_2() {
    check_cli(&["run", "scenarios/nope.ron"], "scenarios/nope.ron: error:", "cannot read");
    check_cli(
        &["run", "scenarios/stale_read_refresh.ron", "--seed", "x"],
        "error:",
        "invalid value",
    );
    check_cli(&["frobnicate"], "error:", "unrecognized subcommand");
}

#[test]
fn command_line_overrides_change_the_run() {
    let out = common::archsim(&[
        "run",
        "scenarios/stale_read_refresh.ron",
        "--set",
        "db.reads=primary",
        "--format",
        "json",
    ]);
    // The scenario expects lost writes under replica reads; with primary reads there are
    // none, so the verdict differs from the expectation and the exit code says so.
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["reads"]["stale"], 0);
    let lost = &json["checks"]["lost_acknowledged_write"];
    assert_eq!(
        (lost["verdict"].as_str(), lost["as_expected"].as_bool()),
        (Some("holds"), Some(false))
    );
    assert!(json["replay"].as_str().unwrap().ends_with("--set 'db.reads=primary'"));
}

#[test]
fn runs_that_break_a_limit_stop_with_the_limit_named() {
    let s = "scenarios/stale_read_refresh.ron";
    let trace = std::env::temp_dir().join(format!("archsim-limit-{}.jsonl", std::process::id()));
    let trace_arg = trace.to_str().unwrap();
    let out = common::archsim(&["run", s, "--max-events", "1000", "--trace", trace_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("after 1000 events, its limit of 1000"), "{stderr}");
    assert!(stderr.contains("--max-events") && !stderr.contains("panicked"), "{stderr}");
    assert!(!trace.exists(), "a stopped run left a trace file");
    let out = common::archsim(&["run", s, "--max-pending", "50"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("more than 50 events pending"), "{stderr}");
    assert!(stderr.contains("--max-pending"), "{stderr}");
}

#[test]
fn a_run_forecast_never_to_finish_is_refused_at_its_duration_unless_forced() {
    let s = "scenarios/refresh_resubmit_overwrite.ron";
    let long = ["run", s, "--set", "duration=10h", "--max-events", "3000000"];
    let out = common::archsim(&long);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("--set:1:1: error: the run would take about 9.43e6 events"),
        "{first}"
    );
    assert!(first.contains("over the limit of 3000000") && first.ends_with("of the 10h simulated"));
    assert!(stderr.contains("--force runs it anyway"), "{stderr}");
    // Forced, the run goes on until the event limit itself stops it.
    let out = common::archsim(&[&long[..], &["--force"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("after 3000000 events, its limit of 3000000"), "{stderr}");
}

#[test]
fn a_drain_is_not_forecast_over_its_hour_cap() {
    // Nearly every event falls in the drain. Were the drain's pace stretched over its
    // one-hour cap, this run of a few simulated seconds would be refused.
    let path = std::path::Path::new("scenarios/bench_stale_read.ron");
    let mut scenario = common::load(path, &["clients.count=2000", "duration=1ns"]);
    // 64 times 100 events forecast whatever span they covered, inside the drain.
    (scenario.limits.forecast_after, scenario.limits.events) = (100, 1_000_000);
    let outcome = common::run(&scenario);
    assert!(outcome.stats.events > 8_000, "{} events", outcome.stats.events);
    // The event limit still stops a drain.
    scenario.limits.events = 5_000;
    let registry = archsim::components::Registry::new();
    let Err(err) = archsim::run::execute(&scenario, &registry, false) else {
        panic!("the event limit did not stop the drain");
    };
    assert!(err.to_string().contains("after 5000 events, its limit of 5000"), "{err}");
}

/// A scenario like `scenarios/stale_read_refresh.ron` whose `count: 200` line reads
/// `count: "lots"`, with its model path made absolute so it loads from anywhere.
fn wrong_count() -> String {
    let text = std::fs::read_to_string(common::root().join("scenarios/stale_read_refresh.ron"));
    let models = common::root().join("models");
    let text = text.unwrap().replace("\"../models", &format!("\"{}", models.display()));
    text.replace("count: 200,", "count: \"lots\",")
}

/// Runs `archsim run` on `bytes` written to a scratch file; returns stderr after
/// checking exit code 2, no panic, and a bounded message.
fn refuse_bytes(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("archsim-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = common::archsim(&["run", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(stderr.len() < 2_000, "{name}: a {} byte message", stderr.len());
    std::fs::remove_file(&path).unwrap();
    stderr.lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_duplicate_points_at_both_places() {
    let arg = "tests/bad_input/duplicate_link.ron";
    let stderr = String::from_utf8_lossy(&common::archsim(&["run", arg]).stderr).into_owned();
    // The whole link is underlined: `^` where it is, `-` where it was first given.
    let link = r#"(from: "lb", to: "db", latency: exp("1ms"))"#;
    let shown = [
        format!("9 |         {}", link.replace("1ms", "2ms")),
        format!("  |         {}", "^".repeat(link.len())),
        " ::: tests/bad_input/models/duplicate_link.ron:8:9".into(),
        format!("8 |         {link}"),
        format!("  |         {} first given here", "-".repeat(link.len())),
        "  = help: keep one of them".into(),
    ];
    for line in &shown {
        assert!(stderr.contains(line), "`{line}` missing from\n{stderr}");
    }
    let out = common::archsim(&["run", arg, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let related = &json["errors"][0]["related"][0];
    assert_eq!((related["line"].as_u64(), related["column"].as_u64()), (Some(8), Some(9)));
    assert_eq!(related["message"], "first given here");
}

#[test]
fn a_conflict_an_override_made_shows_the_override_too() {
    // The model says `commit: after, commit_every: "1s"`; the override changes `commit`,
    // so the error in the model's line shows the `--set` that made it one.
    let args = ["run", "scenarios/outbox_log.ron", "--set", "search.commit=transactional"];
    let stderr = String::from_utf8_lossy(&common::archsim(&args).stderr).into_owned();
    assert!(
        stderr.starts_with("models/orders_outbox_log.ron:18:98: error: `commit_every`"),
        "{stderr}"
    );
    let shown = [
        " ::: --set:1:15",
        "search.commit=transactional",
        "------------- the group commits this way",
    ];
    for line in shown {
        assert!(stderr.contains(line), "`{line}` missing from\n{stderr}");
    }
}

#[test]
fn hostile_bytes_are_refused_with_a_position_and_a_short_message() {
    // Line 13 holds `count:` (8 spaces, then `count: `), so the value is at column 16.
    let plain = wrong_count();
    let first = refuse_bytes("plain.ron", plain.as_bytes());
    assert!(first.contains("/plain.ron:13:16: error: "), "{first}");
    // A byte-order mark, Windows line ends and tabs do not move the reported place.
    let bom = [b"\xef\xbb\xbf".as_slice(), plain.as_bytes()].concat();
    let first = refuse_bytes("bom.ron", &bom);
    assert!(first.contains("/bom.ron:13:16: error: "), "{first}");
    let crlf = plain.replace('\n', "\r\n");
    let first = refuse_bytes("crlf.ron", crlf.as_bytes());
    assert!(first.contains("/crlf.ron:13:16: error: "), "{first}");
    let tabs = plain.replace("        count:", "\t\tcount:");
    let first = refuse_bytes("tabs.ron", tabs.as_bytes());
    assert!(first.contains("/tabs.ron:13:10: error: "), "{first}");
    // Binary garbage (a fixed pseudo-random stream), deep nesting and a huge file.
    let mut x: u32 = 2_463_534_242;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let first = refuse_bytes("garbage.ron", &garbage);
    assert!(first.contains("/garbage.ron:1:"), "{first}");
    let deep = format!("{}{}", "(".repeat(100_000), ")".repeat(100_000));
    let first = refuse_bytes("deep.ron", deep.as_bytes());
    assert!(first.contains("/deep.ron:1:"), "{first}");
    let big = format!("{plain}\n// {}\n", "x".repeat(50 << 20));
    let first = refuse_bytes("big.ron", big.as_bytes());
    assert!(first.contains("/big.ron: error: ") && first.contains("limited to"), "{first}");
}

#[test]
fn a_closed_stderr_does_not_turn_a_refusal_into_a_panic() {
    // `archsim run bad.ron 2>&1 | true`: the reader is gone before the error is written.
    let bin = env!("CARGO_BIN_EXE_archsim");
    let script = format!(
        "cd {root} && {bin} run tests/bad_input/nan_loss.ron 2>&1 | true; echo ${{PIPESTATUS[0]}}",
        root = common::root().display()
    );
    for _ in 0..5 {
        let out = std::process::Command::new("bash").args(["-c", &script]).output().unwrap();
        let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(code, "2", "exit code with stderr closed");
    }
}

#[test]
fn a_set_value_must_be_exactly_one_value_and_its_errors_point_at_the_argument() {
    let run = |value: &str| {
        let out = common::archsim(&["run", "scenarios/stale_read_refresh.ron", "--set", value]);
        assert_eq!(out.status.code(), Some(2), "{value}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // A second field pasted after the value is refused, not spliced into the file.
    let two = run(r#"db.replicas=2, capacity: (workers: 1, service: exp("1s"))"#);
    assert!(
        two.starts_with("--set:1:14: error: the value of `db.replicas` must be exactly one value"),
        "{two}"
    );
    // An unfinished value is blamed on the argument, not on a line of the model.
    let open = run(r#"db.replication.lag=exp("1s""#);
    assert!(open.starts_with("--set:1:28: error: the value of `db.replication.lag`"), "{open}");
}

#[test]
fn an_idempotency_retention_no_client_uses_is_refused() {
    let args = [
        "run",
        "scenarios/disconnect_retry_duplicates.ron",
        "--set",
        "db.idempotency_retention=1s",
    ];
    let out = common::archsim(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("clients send no idempotency key: it would have no effect"), "{err}");
}

#[test]
fn an_unknown_checker_in_a_flag_gets_did_you_mean() {
    let (hunt, shrink) =
        ("scenarios/stale_read_refresh.ron", "scenarios/refresh_resubmit_overwrite.ron");
    for args in [
        &["hunt", hunt, "--check", "lost_acknowledged_writ", "--seeds", "2"][..],
        &["shrink", shrink, "--check", "lost_acknowledged_writ"][..],
    ] {
        let (start, hint) =
            ("error: the scenario does not check", "did you mean `lost_acknowledged_write`?");
        check_cli(args, start, hint);
    }
}

#[test]
fn the_hint_for_a_file_without_a_sweep_is_a_sweep_that_loads() {
    let s = "scenarios/stale_read_refresh.ron";
    let out = common::archsim(&["sweep", s]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let hint = stderr.lines().find_map(|l| l.strip_prefix("  = help: add e.g. `")).expect("a hint");
    let block = hint.strip_suffix('`').expect("the hint ends with a backquote");
    let text = std::fs::read_to_string(common::root().join(s)).unwrap();
    let end = text.rfind(')').unwrap();
    let with_sweep = format!("{}    {block},\n{}", &text[..end], &text[end..]);
    let dir = std::env::temp_dir().join(format!("archsim-sweep-hint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("with_sweep.ron");
    std::fs::write(
        &path,
        with_sweep.replace("../models/", &format!("{}/models/", common::root().display())),
    )
    .unwrap();
    let loaded = archsim::schema::load_sweep(&path, &[], 10_000);
    assert!(loaded.is_ok(), "the hinted block does not load: {}", loaded.err().unwrap());
}
