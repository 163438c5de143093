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
//! - **A crashed consumer's partitions pile up until the rebalance**: nobody fetches
//!   them, so the group's lag grows by what is appended to them, a Poisson count of
//!   mean λ_m·t (λ_m the producer's rate times the share of keys in the member's
//!   partitions). With 500 messages a second over 1 000 keys and 6 partitions, member
//!   1 of 3 owns partitions 1 and 4 (167 + 166 keys): λ_m = 166.5/s, so 16 s add 2 664.
//! - **A consumer slower than its producer falls behind at the difference of their
//!   rates**: one member processing exp(3 ms) a message, always busy once behind,
//!   finishes a Poisson stream of μ = 333.3/s against λ = 500/s arriving, so over t
//!   seconds its lag grows by (λ − μ)·t, with variance (λ + μ)·t.
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
fn a_crashed_consumers_partitions_add_their_appends_to_the_lag_until_the_rebalance() {
    let runs = 20u64;
    let (mut grown, mut live_lag) = (0u64, 0u64);
    for seed in 1..=runs {
        let sets = [
            "duration=40s",
            "indexer.session_timeout=20s",
            r#"faults=[crash(target: "indexer", replica: 1, at: "10s")]"#,
        ];
        let scenario: Scenario = common::load(Path::new("scenarios/log_acks_leader.ron"), &sets);
        let scenario = Scenario { seed, ..scenario };
        let outcome = common::run(&scenario);
        grown += lag_at(&outcome, 28).saturating_sub(lag_at(&outcome, 12));
        let (_, lag) = outcome.consumer_lag.iter().find(|(g, _)| g == "indexer").expect("group");
        // The live members' partitions lag by what is in flight to them: before the
        // crash, that is the whole group's lag.
        live_lag = live_lag.max(
            lag.iter().filter(|&&(ns, _)| ns < 10_000_000_000).map(|s| s.1).max().unwrap_or(0),
        );
    }
    let expected = expected_loss(500.0, 1000, 6, &[1, 4], 16.0);
    let mean = grown as f64 / runs as f64;
    // Four standard errors of the Poisson count, and what the live partitions' lag
    // can add or take away at either end of the window.
    let tolerance = 4.0 * (expected / runs as f64).sqrt() + 2.0 * live_lag as f64;
    assert!(
        (mean - expected).abs() < tolerance,
        "the lag grew {mean:.0} from 12 s to 28 s vs λ_m·16 s = {expected:.0} ± {tolerance:.0}"
    );
}

/// The group's lag sample at `second`s of `outcome`.
fn lag_at(outcome: &RunOutcome, second: u64) -> u64 {
    let (_, lag) = outcome.consumer_lag.iter().find(|(g, _)| g == "indexer").expect("group");
    lag.iter().find(|&&(ns, _)| ns == second * 1_000_000_000).expect("a sample that second").1
}

#[test]
fn a_consumer_slower_than_its_producer_falls_behind_at_the_difference_of_the_rates() {
    let runs = 20u64;
    let mut grown = 0u64;
    for seed in 1..=runs {
        let scenario: Scenario = common::load(Path::new("scenarios/log_slow_consumer.ron"), &[]);
        let outcome = common::run(&Scenario { seed, ..scenario });
        grown += lag_at(&outcome, 55).saturating_sub(lag_at(&outcome, 10));
    }
    let (arrive, finish, secs) = (500.0, 1000.0 / 3.0, 45.0);
    let expected = (arrive - finish) * secs;
    let mean = grown as f64 / runs as f64;
    let tolerance = 4.0 * ((arrive + finish) * secs / runs as f64).sqrt();
    assert!(
        (mean - expected).abs() < tolerance,
        "the lag grew {mean:.0} from 10 s to 55 s vs (λ − μ)·45 s = {expected:.0} ± {tolerance:.0}"
    );
}

#[test]
fn the_formula_has_the_value_the_docs_quote() {
    assert!((expected_loss(500.0, 1000, 6, &[1, 4], 16.0) - 2664.0).abs() < 1e-9);
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
