//! `archsim diff`: the editor seed's design before and after its fixes, run on the same
//! seeds: the verdicts that flip, the figures that move, and runs that are the very runs
//! `archsim run --seed` makes.

mod common;

use serde_json::Value;

fn diff(extra: &[&str]) -> Value {
    let args = ["diff", "scenarios/editor_before.ron", "scenarios/editor_after.ron"];
    let out = common::archsim(&[&args[..], extra, &["--format", "json"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "both designs meet their expectations\n{stderr}");
    serde_json::from_slice(&out.stdout).expect("diff prints JSON")
}

fn invariant<'a>(d: &'a Value, name: &str) -> &'a Value {
    d["invariants"].as_array().unwrap().iter().find(|r| r["check"] == name).unwrap()
}

fn figure(d: &Value, name: &str) -> (f64, f64) {
    let rows = d["figures"].as_array().unwrap();
    let row = rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no `{name}`"));
    (row["a"].as_f64().unwrap_or(f64::NAN), row["b"].as_f64().unwrap_or(f64::NAN))
}

#[test]
fn the_editor_fixes_flip_lost_writes_and_late_pushes_and_cost_log_appends_and_publishes() {
    let d = diff(&["--seeds", "2", "--set", "duration=3m"]);
    for check in ["lost_acknowledged_write", "propagation"] {
        let row = invariant(&d, check);
        assert_eq!(row["flip"], "fixed", "{row}");
        assert_eq!(row["a"]["violated_on"], 2);
        assert_eq!(row["b"]["violations"], 0);
    }
    assert_eq!(invariant(&d, "convergence")["flip"], Value::Null);
    let (poll_a, poll_b) = figure(&d, "poll ok");
    assert!(poll_a > 10.0 && poll_b == 0.0, "polling stops: {poll_a} -> {poll_b}");
    let (p99_a, p99_b) = figure(&d, "propagation p99");
    assert!(p99_a > 1e9 && p99_b < 0.2e9, "propagation p99 {p99_a} -> {p99_b}");
    let (appends_a, appends_b) = figure(&d, "db: log appends");
    let (edits, _) = figure(&d, "edit ok");
    assert_eq!(appends_a, 0.0);
    assert!(appends_b > 100.0 * edits, "one append per edit: {appends_b} for {edits}/s");
    assert!(figure(&d, "bus: published").1 > 0.0);
}

#[test]
fn each_side_is_the_run_archsim_run_makes_on_that_seed() {
    let d = diff(&["--seeds", "2", "--from", "7", "--set", "duration=150s", "--threads", "1"]);
    assert_eq!(d["seeds"], serde_json::json!([7, 8]));
    for (side, file) in [("a", "scenarios/editor_before.ron"), ("b", "scenarios/editor_after.ron")]
    {
        let out = common::archsim(&[
            "run",
            file,
            "--seed",
            "8",
            "--set",
            "duration=150s",
            "--format",
            "json",
        ]);
        let run: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(d[side]["trace_hashes"][1], run["trace_hash"], "{side}");
    }
    let two = diff(&["--seeds", "2", "--from", "7", "--set", "duration=150s", "--threads", "2"]);
    assert_eq!(d, two, "the thread count changes nothing");
}

#[test]
fn the_headline_says_what_b_fixes_and_what_moved_with_its_interval() {
    let d = diff(&["--seeds", "3", "--set", "duration=3m"]);
    let headline: Vec<&str> =
        d["headline"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(
        headline[0].starts_with("B fixes ") && headline[0].contains("propagation"),
        "{headline:?}"
    );
    assert!(headline[1].contains("(95% CI "), "{headline:?}");
    // Each interval holds its figure's change (the paired differences' mean is the
    // difference of the means).
    for row in d["figures"].as_array().unwrap() {
        let (Some(a), Some(b), Some(ci)) =
            (row["a"].as_f64(), row["b"].as_f64(), row["change_ci95"].as_array())
        else {
            continue;
        };
        if a == 0.0 {
            continue;
        }
        let change = (b - a) / a;
        let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
        assert!(lo - 1e-9 <= change && change <= hi + 1e-9, "{row}");
    }
    let text = common::archsim(&[
        "diff",
        "scenarios/editor_before.ron",
        "scenarios/editor_after.ron",
        "--seeds",
        "3",
        "--set",
        "duration=3m",
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    let line = text.lines().find(|l| l.starts_with("headline")).expect("a headline line");
    assert_eq!(line, format!("headline   {}", headline[0]), "{text}");
}

#[test]
fn long_verdict_cells_widen_their_column() {
    // Twenty seeds and six-digit counts: "violated on 20/20 seeds (109,842)" is 33 wide.
    let args = [
        "diff",
        "scenarios/refresh_resubmit_overwrite.ron",
        "scenarios/refresh_resubmit_idempotency_key.ron",
        "--seeds",
        "20",
    ];
    let out = String::from_utf8(common::archsim(&args).stdout).unwrap();
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("invariant"))
        .take_while(|l| !l.is_empty())
        .collect();
    let b_at = table[0].find(" B ").expect("a B column") + 1;
    for row in &table[1..] {
        let (a, b) = row.split_at(b_at);
        assert!(a.ends_with(' ') && !b.starts_with(' '), "B's cell does not start under B:\n{out}");
    }
    assert!(table.iter().any(|r| r.contains("(1") && r.contains("20/20")), "{out}");
}

#[test]
fn an_expectation_a_design_misses_is_named_beside_exit_code_1() {
    // Ten milliseconds are too short for the overwrite design to lose a write.
    let args = [
        "diff",
        "scenarios/refresh_resubmit_overwrite.ron",
        "scenarios/refresh_resubmit_idempotency_key.ron",
        "--seeds",
        "2",
        "--set",
        "duration=10ms",
        "-q",
    ];
    let out = common::archsim(&args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = "scenarios/refresh_resubmit_overwrite.ron expects lost_acknowledged_write violated: \
                holds on 2 of 2 seeds";
    assert!(stderr.lines().any(|l| l == line), "{stderr}");
}
