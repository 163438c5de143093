//! A multi-leader store against the formulas for lost writes and routing latency.
//!
//! The scenario (`scenarios/multi_leader_lww.ron`, scaled up): N = 1 000 writers in
//! each of two regions, writer i of each on key i, each writing every exp(Z = 20 s)
//! plus a round trip of two exp(5 ms) link hops, so each writer's writes form a renewal
//! process of rate λ = 1/(Z + 10 ms). A write reaches the other leader D = c + Exp(L)
//! later, c = 40 ms between the regions and L = 100 ms of replication lag.
//!
//! - **Lost writes under last-write-wins.** A write w made at time t is lost when the
//!   other region's writer of its key writes in (t, t + D_w), before w reaches its
//!   leader: that write knows nothing of w and has the newer stamp, so it replaces w
//!   wherever the two meet. An earlier write of the other region that w did not know of
//!   is older, and loses to w instead. To first order in λD the share lost is
//!   P = 1 − E[e^{−λD}] = 1 − e^{−λc}/(1 + λL) = 0.696 %. The second-order terms (a
//!   later write of w's own writer that outruns the newer one and carries w to the end)
//!   shrink it by a share of order λD ≈ 0.7 %, inside the tolerance.
//! - **Merge and home routing lose nothing**, on every seed.
//! - **Home routing's cost.** A request for a key homed in the other region crosses
//!   twice, 2c = 80 ms, on top of the round trip of 10 ms on average; writer i's key is
//!   homed in region i mod 2, so half of each region's writers cross. They write a
//!   little less often (a cycle of Z + 10 ms + 2c against Z + 10 ms), so the share of
//!   writes that cross is s = (Z + 10 ms)/(2Z + 20 ms + 2c) = 0.4990 and the mean write
//!   latency 10 ms + 2c·s = 49.92 ms.
//!
//! The tolerance is four standard errors of the mean over the seeds, estimated from the
//! seeds themselves.

mod common;

use std::path::Path;

use archsim::check::OpKind;
use archsim::model::Scenario;
use archsim::run::RunOutcome;

const THINK_S: f64 = 20.0;
const ROUND_TRIP_S: f64 = 0.010;
const BETWEEN_S: f64 = 0.040;
const LAG_S: f64 = 0.100;
const SEEDS: u64 = 100;

/// The scenario scaled up to the figures above, with `more` overrides.
fn load(more: &[&str]) -> Scenario {
    let mut sets = vec![
        "clients.populations.eu.count=1000",
        "clients.populations.us.count=1000",
        r#"clients.think=exp("20s")"#,
        "clients.workflow=[write]",
        "duration=5m",
    ];
    sets.extend_from_slice(more);
    common::load(Path::new("scenarios/multi_leader_lww.ron"), &sets)
}

fn run_on(scenario: &Scenario, seed: u64) -> RunOutcome {
    let mut s = scenario.clone();
    s.seed = seed;
    common::run(&s)
}

fn lost_share(outcome: &RunOutcome) -> f64 {
    let lost =
        outcome.checks.iter().find(|r| r.name == "lost_acknowledged_write").expect("checked");
    lost.violations as f64 / lost.checked as f64
}

/// The first-order share of writes lost under last-write-wins.
fn lost_share_formula() -> f64 {
    let rate = 1.0 / (THINK_S + ROUND_TRIP_S);
    1.0 - (-rate * BETWEEN_S).exp() / (1.0 + rate * LAG_S)
}

#[test]
fn the_formula_has_the_value_the_docs_quote() {
    assert!((lost_share_formula() - 0.006960).abs() < 1e-6, "{}", lost_share_formula());
}

#[test]
fn last_write_wins_loses_the_writes_a_concurrent_newer_write_replaces() {
    let scenario = load(&[]);
    let shares: Vec<f64> = (1..=SEEDS).map(|seed| lost_share(&run_on(&scenario, seed))).collect();
    let (mean, error) = common::mean_and_error(&shares);
    let expected = lost_share_formula();
    eprintln!("lost share: {mean:.5} ± {error:.5} over {SEEDS} seeds, formula {expected:.5}");
    assert!(
        (mean - expected).abs() <= 4.0 * error,
        "lost share {mean:.5}, formula {expected:.5}, four standard errors {:.5}",
        4.0 * error
    );
}

#[test]
fn merge_and_home_routing_lose_nothing_on_any_seed() {
    for set in ["db.conflict=merge", "db.routing=home"] {
        let scenario = load(&[set]);
        for seed in 1..=20 {
            let outcome = run_on(&scenario, seed);
            assert_eq!(lost_share(&outcome), 0.0, "{set}, seed {seed}");
        }
    }
}

#[test]
fn home_routing_costs_half_the_writers_a_round_trip_between_the_regions() {
    let scenario = load(&["db.routing=home"]);
    let means: Vec<f64> = (1..=20)
        .map(|seed| {
            let mut s = scenario.clone();
            s.seed = seed;
            let outcome = common::run_keeping_ops(&s);
            let ops = outcome.history.ops().expect("kept");
            let writes = ops.iter().filter(|op| op.kind() == OpKind::Write);
            let ms: Vec<f64> = writes
                .map(|op| op.completed.since(op.inv.invoked).as_nanos() as f64 / 1e6)
                .collect();
            ms.iter().sum::<f64>() / ms.len() as f64
        })
        .collect();
    let (mean, error) = common::mean_and_error(&means);
    let cycle = THINK_S + ROUND_TRIP_S;
    let crossing = cycle / (2.0 * cycle + 2.0 * BETWEEN_S);
    let expected = (ROUND_TRIP_S + 2.0 * BETWEEN_S * crossing) * 1e3;
    eprintln!("home-routed write latency: {mean:.2} ± {error:.2} ms, formula {expected:.2} ms");
    assert!((mean - expected).abs() <= 4.0 * error, "{mean:.2} ms against {expected:.2} ms");
}
