//! Fault coverage: each fault says what it touched, and a green run whose faults
//! touched nothing says it tested nothing.

mod common;

use serde_json::Value;

fn coverage(scenario: &str, sets: &[&str]) -> Value {
    let mut args = vec!["run", scenario, "--format", "json", "--seeds", "1"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = common::archsim(&args);
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["fault_coverage"].clone()
}

#[test]
fn faults_report_the_operations_they_touched_and_the_keys_they_rolled_back() {
    let c = coverage("scenarios/failover_under_load.ron", &[]);
    let faults = c["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 3);
    // The lag spike and the partition had requests in flight; the failover rolled keys
    // back (the writes it lost) though no request was in flight at its instant.
    assert!(faults[0]["operations"].as_u64().unwrap() > 1_000);
    assert!(faults[1]["writes"].as_u64().unwrap() > 100);
    assert!(faults[2]["rolled_back"].as_u64().unwrap() > 0);
    let under = &c["under_fault"];
    assert_eq!(c["exposed"]["lost_acknowledged_write"], under["writes"]);
    assert_eq!(c["exposed"]["read_your_writes"], under["reads"]);
    assert_eq!(c["warning"], Value::Null, "a violated run needs no warning");
}

#[test]
fn a_green_run_whose_fault_touched_nothing_says_so() {
    let blink = r#"faults=[partition(from: "api", to: "db", at: "1m", heal_after: "1ms")]"#;
    let c = coverage("scenarios/partition_heal.ron", &[blink, "clients.count=1"]);
    assert_eq!(c["faults"][0]["operations"], 0);
    assert!(c["warning"].as_str().unwrap().contains("says nothing about the faults"));
    // A scenario without faults reports no coverage at all.
    assert_eq!(coverage("scenarios/stale_read_refresh.ron", &[]), Value::Null);
}

#[test]
fn a_crash_never_restarted_counts_only_what_reached_the_crashed_component() {
    let scenario = "scenarios/editor_session_cache_failover.ron";
    let c = coverage(scenario, &[]);
    let crash = &c["faults"][1];
    assert!(crash["fault"].as_str().unwrap().starts_with("crash(target: \"sessions\""));
    // Only reconnects look up a session after the crash; the 55,000 edits never reach
    // the cache (they once all counted, 34,476 of them, for lasting to the end).
    let touched = crash["operations"].as_u64().unwrap();
    assert!((1..1_000).contains(&touched), "{crash}");
    assert_eq!((crash["writes"].as_u64(), crash["reads"].as_u64()), (Some(0), Some(0)));
    // Without the disconnects nobody reconnects: the crash touches nothing, and says so.
    let alone = coverage(scenario, &[r#"faults=[crash(target: "sessions", at: "2m")]"#]);
    assert_eq!(alone["faults"][0]["operations"], 0, "{alone}");
    assert!(alone["warning"].as_str().unwrap().contains("says nothing about the faults"));
}

#[test]
fn a_fault_on_an_application_cache_touches_the_operations_that_called_it() {
    // The service's calls to the cache carry no request of their own; an operation that
    // made one depends on the cache, and a crash or pause of it touches the operation.
    let faults = r#"faults=[crash(target: "redis", at: "30s", restart_after: "10s"),
                            pause(target: "redis", at: "1m", for: "5s")]"#;
    let c = coverage("scenarios/cache_aside_race.ron", &[faults, r#"clients.timeout="2s""#]);
    let touched = |i: usize| c["faults"][i]["operations"].as_u64().unwrap();
    // Every read asks the cache first. 20 clients reading every ~50 ms make about 4,000
    // reads in the crash's 10 s; the pause holds each client's call until it ends, so
    // it touches a few dozen.
    assert!(touched(0) > 1_000, "{c}");
    assert!(touched(1) > 10, "{c}");
}
