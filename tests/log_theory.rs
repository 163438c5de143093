//! The replicated log against theory.
//!
//! - **acks=1 loses what the new leader had not copied.** The leader answers once it has
//!   appended; a follower copies each message a fixed fetch lag D after the append. When
//!   the leader crashes at T, the follower that wins the election holds everything
//!   appended before T − D and nothing after, so the acknowledged messages lost are
//!   those appended in (T − D, T]. Messages reach the leader as a Poisson process of
//!   rate λ_b (the producer's rate times the share of keys whose partitions that broker
//!   leads), so the count lost is Poisson with mean λ_b·D. With 500 messages a second
//!   over 1 000 keys and 6 partitions, broker 0 leads partitions 0 and 3, which hold
//!   167 + 167 keys: λ_b = 167/s, and D = 30 ms gives 5.01. Over n runs the mean's
//!   standard error is √(5.01/n); the tolerance is four of them.
//! - **acks=all with min ISR 2 and clean elections loses nothing, whenever a broker
//!   crashes and for however long**: a property test over the broker, the time and the
//!   length of the crash.
//! - **A visibility timeout shorter than the work duplicates the jobs that outlast it**:
//!   the share processed twice is P(T > V) (below).

mod common;

use std::path::Path;

use archsim::model::Scenario;
use archsim::run::RunOutcome;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn figure(outcome: &RunOutcome, check: &str, name: &str) -> u64 {
    let report = outcome.checks.iter().find(|r| r.name == check).expect("checked");
    report.figures[name]
}

fn crash(broker: u32, at_us: u64, for_us: u64) -> String {
    format!(
        r#"faults=[crash(target: "events", replica: {broker}, at: "{at_us}us", restart_after: "{for_us}us")]"#
    )
}

/// The expected loss: the rate into the crashed leader times the fetch lag.
fn expected_loss(rate: f64, keys: u32, partitions: u32, led: &[u32], lag_s: f64) -> f64 {
    let of = |p: u32| (0..keys).filter(|k| k % partitions == p).count() as f64;
    let share: f64 = led.iter().map(|&p| of(p)).sum::<f64>() / f64::from(keys);
    rate * share * lag_s
}

#[test]
fn acks_1_loses_the_messages_appended_within_the_fetch_lag_before_the_crash() {
    let runs = 40u64;
    let mut lost = 0u64;
    for i in 0..runs {
        // Crash times spread over 10-18 s, off any grid the run has.
        let at = 10_000_000 + i * 200_003;
        let sets = ["duration=20s", r#"events.fetch_lag=const("30ms")"#, &crash(0, at, 5_000_000)];
        let scenario: Scenario = common::load(Path::new("scenarios/log_acks_leader.ron"), &sets);
        lost += figure(&common::run(&scenario), "lost_acknowledged_message", "lost");
    }
    let expected = expected_loss(500.0, 1000, 6, &[0, 3], 0.030);
    let mean = lost as f64 / runs as f64;
    let tolerance = 4.0 * (expected / runs as f64).sqrt();
    assert!(
        (mean - expected).abs() < tolerance,
        "{mean:.2} lost per crash vs λ_b·D = {expected:.2} ± {tolerance:.2}"
    );
}

#[test]
fn the_formula_has_the_value_the_docs_quote() {
    assert!((expected_loss(500.0, 1000, 6, &[0, 3], 0.030) - 5.01).abs() < 1e-9);
}

proptest! {
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn acks_all_with_two_in_sync_replicas_loses_nothing_whenever_a_broker_crashes(
        broker in 0u32..3,
        at in 1_000_000u64..19_000_000,
        lasting in 1_000u64..15_000_000,
    ) {
        let sets = ["duration=20s", &crash(broker, at, lasting)];
        let scenario = common::load(Path::new("scenarios/log_acks_all.ron"), &sets);
        let outcome = common::run(&scenario);
        prop_assert!(figure(&outcome, "lost_acknowledged_message", "acknowledged") > 5_000);
        prop_assert_eq!(figure(&outcome, "lost_acknowledged_message", "lost"), 0);
    }
}

/// A job queue whose jobs take uniform(a, b) against a visibility timeout V, with
/// b < 2V and workers to spare: a job shows again, and a second worker takes it, exactly
/// when it takes longer than V (its first worker deletes it before a third receive), so
/// the share processed twice is P(T > V) = (b − V)/(b − a): 1/3 for 10-40 s against
/// 30 s. Over n jobs the share's standard error is √(p(1 − p)/n); the tolerance is four.
#[test]
fn jobs_longer_than_the_visibility_timeout_are_processed_twice() {
    let sets = ["duration=60m", "faults=[]"];
    let scenario = common::load(Path::new("scenarios/queue_visibility_short.ron"), &sets);
    let outcome = common::run(&scenario);
    let jobs = figure(&outcome, "processing", "expected") as f64;
    let share = figure(&outcome, "processing", "duplicates") as f64 / jobs;
    let p = (40.0 - 30.0) / (40.0 - 10.0);
    let tolerance = 4.0 * (p * (1.0 - p) / jobs).sqrt();
    assert!(jobs > 3_000.0, "{jobs} jobs");
    assert!((share - p).abs() < tolerance, "{share:.4} processed twice vs {p:.4} ± {tolerance:.4}");
}
