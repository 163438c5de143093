//! The chat models reproduce the durability seed's measured figures within ±20%:
//! conversation create about 200 ms, first byte about 1 s, a whole completion in 4-5 s,
//! replication lag about 2 s, and a sentinel overhead of 100-200 ms per action.

mod common;

use std::path::Path;

use archsim::report::Summary;

const MS: f64 = 1e6;

fn within(what: &str, got_ns: u64, low_ms: f64, high_ms: f64) {
    let got = got_ns as f64 / MS;
    assert!(
        (low_ms * 0.8..=high_ms * 1.2).contains(&got),
        "{what}: {got:.1} ms, the seed says {low_ms}-{high_ms} ms (±20%)"
    );
}

fn summary(path: &str) -> Summary {
    let scenario = common::load(Path::new(path), &[]);
    let outcome = common::run(&scenario);
    Summary::new(&scenario, &outcome, None)
}

#[test]
fn the_gated_chat_back_end_matches_the_seed() {
    let s = summary("scenarios/chat_gate_overhead.ron");
    within("create p50", s.operations["create"].latency_ns.p50, 200.0, 200.0);
    let streams = s.streams.as_ref().expect("the workload streams");
    within("first byte p50", streams.first_byte_ns.p50, 1000.0, 1000.0);
    within("whole response p50", streams.whole_ns.p50, 4000.0, 5000.0);
    within("replication lag mean", s.replication_lag_ns.as_ref().unwrap().mean, 2000.0, 2000.0);
    let actions = s.actions.as_ref().expect("actions are timed");
    within("gate overhead p50", actions.gate_overhead_ns.as_ref().unwrap().p50, 100.0, 200.0);
    assert!(s.operations["title"].latency_ns.p50 < 50_000_000, "a title is answered 202 at once");
}

#[test]
fn the_gate_costs_its_overhead_end_to_end() {
    let gated = summary("scenarios/chat_gate_overhead.ron");
    let open = summary("scenarios/chat_gate_off.ron");
    let p50 = |s: &Summary| s.actions.as_ref().unwrap().end_to_end_ns.p50 as f64 / MS;
    let overhead = gated.actions.as_ref().unwrap().gate_overhead_ns.as_ref().unwrap().p50;
    let difference = p50(&gated) - p50(&open);
    // The median action is slower by about the median gate overhead.
    within(
        "end-to-end difference",
        (difference * MS) as u64,
        overhead as f64 / MS,
        overhead as f64 / MS,
    );
}
