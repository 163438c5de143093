//! Swarm faults: each seed draws its own mix, printed so that it replays on its own,
//! and `hunt` finds the first seed whose mix breaks the design's claim.

mod common;

use serde_json::Value;

const SWARM: &str = "scenarios/swarm_chat_faults.ron";

/// One seed's run (the file judges 20).
fn run(args: &[&str]) -> Value {
    let out =
        common::archsim(&[&["run", SWARM, "--format", "json", "--seeds", "1"], args].concat());
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_seeds_mix_is_printed_and_replays_alone_as_fixed_faults() {
    let mixes: Vec<Value> =
        (1..=6).map(|s| run(&["--seed", &s.to_string()])["fault_mix"].clone()).collect();
    assert!(mixes.windows(2).any(|w| w[0] != w[1]), "seeds draw different mixes");
    let drawn = run(&["--seed", "6"]);
    let mix: Vec<&str> =
        drawn["fault_mix"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(mix.iter().any(|f| f.starts_with("failover(")), "{mix:?}");
    let faults = format!("faults=[{}]", mix.join(", "));
    let fixed = run(&["--seed", "6", "--set", "swarm=[]", "--set", &faults]);
    assert_eq!(fixed["trace_hash"], drawn["trace_hash"], "the mix replays as fixed faults");
    assert_eq!(fixed["checks"], drawn["checks"]);
}

#[test]
fn hunt_finds_the_first_seed_whose_mix_loses_writes() {
    let out =
        common::archsim(&["hunt", SWARM, "--until", "violated", "--format", "json", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["first_failing"]["seed"], 6);
    assert_eq!(found["first_failing"]["checks"]["lost_acknowledged_write"]["verdict"], "violated");
    // The scenario's own seed holds: one seed would have said the claim is true.
    assert_eq!(run(&[])["checks"]["lost_acknowledged_write"]["verdict"], "holds");
    // Over the file's 20 seeds the claim is broken, as the file expects.
    let out = common::archsim(&["run", SWARM, "--format", "json", "--seeds", "20"]);
    assert_eq!(out.status.code(), Some(0));
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lost = &all["over_seeds"]["checks"]["lost_acknowledged_write"];
    assert_eq!(lost["violated_on"], serde_json::json!([6, 8, 14, 16, 21]));
}
