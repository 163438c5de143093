//! Hedged reads: what they buy and what they cost.
//!
//! - Under a tail of one slow request in fifty (500 ms) at half load, a second copy
//!   after 50 ms takes the p99 from the slow request to about the delay plus a fast
//!   read, and no read that a hedge answered is timed from the hedge's own send.
//! - Under three quarters load with a heavy-tailed service, the same hedging feeds on
//!   itself: second copies, which the servers serve in full, lengthen the queues, so
//!   more reads pass the delay and are copied, until every instance is 100% busy and
//!   reads take seconds. Hedging is for spare capacity.

mod common;

use std::path::Path;

use archsim::report::Summary;

#[test]
fn hedging_cuts_a_tail_of_rare_slow_requests_and_counts_from_the_first_send() {
    let scenario = common::load(Path::new("scenarios/tail_hedged.ron"), &["seeds=1"]);
    let outcome = common::run_keeping_ops(&scenario);
    let summary = Summary::new(&scenario, &outcome, None);
    let p99 = summary.operations["read"].latency_ns.p99;
    assert!(p99 < 100_000_000, "hedged p99 {p99} ns");
    assert!(summary.hedges_won > 0 && summary.hedges_won <= summary.hedges);
    // A read a hedge answered waited at least the hedging delay.
    let ops = outcome.history.ops().unwrap();
    let won = ops.iter().filter(|o| o.inv.attempt == 2 && o.outcome == archsim::check::Outcome::Ok);
    let mut n = 0;
    for op in won {
        n += 1;
        assert!(op.completed.since(op.inv.invoked).as_nanos() >= 50_000_000, "{op:?}");
    }
    assert_eq!(n, summary.hedges_won);
}

#[test]
fn hedging_a_busy_server_tips_it_over() {
    let plain = ["seeds=1", "lb.policy=round_robin"];
    let hedged = ["seeds=1", "lb.policy=round_robin", "clients.hedge=\"50ms\""];
    // Each instance's utilisation under `sets`.
    let busy = |sets: &[&str]| -> Vec<f64> {
        let scenario = common::load(Path::new("scenarios/routing_random.ron"), sets);
        let outcome = common::run(&scenario);
        let api = outcome.loads.iter().filter(|(n, _)| n.starts_with("api/"));
        api.map(|(_, l)| l.utilisation()).collect()
    };
    let highest_plain = busy(&plain).into_iter().fold(0.0, f64::max);
    assert!(highest_plain < 0.8, "unhedged, the busiest instance is {highest_plain} busy");
    let least_hedged = busy(&hedged).into_iter().fold(1.0, f64::min);
    assert!(least_hedged > 0.99, "hedged, the least busy instance is {least_hedged} busy");
}
