//! The transactional outbox against the dual write, over crash times.
//!
//! - **Nothing committed is lost with the outbox, whenever the crashes strike**: a
//!   property test over the times and lengths of a crash of the order service and one
//!   of the relay: every committed order reaches both consumers. The same holds for
//!   change data capture, whose consumers deduplicate, so nothing is processed twice.
//! - **The outbox published to a log loses nothing either**: the relay publishes with
//!   acks=all and marks an order sent only once the log acknowledged it; whenever the
//!   relay, a broker and a consumer group member crash, every committed order reaches
//!   the group once (it skips changes it processed).
//! - **The dual write loses orders for some crash times**: over a grid of times, the
//!   same crashes of the service that writes then publishes leave committed orders
//!   unpublished, so the property above is not vacuous.

mod common;

use std::path::Path;

use archsim::model::Scenario;
use archsim::run::RunOutcome;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `scenario` shortened to 20 s with `faults` instead of its own.
fn with_faults(path: &str, faults: &str) -> Scenario {
    let sets = ["duration=20s", "clients.count=100", faults];
    common::load(Path::new(path), &sets)
}

fn delivery(outcome: &RunOutcome, figure: &str) -> u64 {
    let check = outcome.checks.iter().find(|r| r.name == "delivery").expect("checked");
    check.figures[figure]
}

fn crash(target: &str, at_us: u64, for_us: u64) -> String {
    format!(r#"crash(target: "{target}", at: "{at_us}us", restart_after: "{for_us}us")"#)
}

proptest! {
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn the_outbox_loses_nothing_whenever_the_service_and_the_relay_crash(
        api_at in 500_000u64..19_000_000,
        api_for in 1_000u64..2_000_000,
        relay_at in 500_000u64..19_000_000,
        relay_for in 1_000u64..3_000_000,
    ) {
        let faults = format!(
            "faults=[{}, {}]",
            crash("api", api_at, api_for),
            crash("relay", relay_at, relay_for)
        );
        let outcome = common::run(&with_faults("scenarios/outbox_relay.ron", &faults));
        prop_assert!(delivery(&outcome, "expected") > 500);
        prop_assert_eq!(delivery(&outcome, "lost"), 0);
    }

    #[test]
    fn change_capture_loses_nothing_whenever_the_service_and_the_connector_crash(
        api_at in 500_000u64..19_000_000,
        api_for in 1_000u64..2_000_000,
        cdc_at in 500_000u64..19_000_000,
        cdc_for in 1_000u64..3_000_000,
    ) {
        let faults = format!(
            "faults=[{}, {}]",
            crash("api", api_at, api_for),
            crash("cdc", cdc_at, cdc_for)
        );
        let outcome = common::run(&with_faults("scenarios/cdc_relay.ron", &faults));
        prop_assert!(delivery(&outcome, "expected") > 500);
        prop_assert_eq!(delivery(&outcome, "lost"), 0);
        prop_assert_eq!(delivery(&outcome, "duplicates"), 0);
    }
}

proptest! {
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn the_outbox_to_a_log_loses_nothing_whenever_the_relay_a_broker_and_a_member_crash(
        relay_at in 500_000u64..19_000_000,
        relay_for in 1_000u64..3_000_000,
        broker in 0u32..3,
        broker_at in 500_000u64..19_000_000,
        broker_for in 1_000u64..5_000_000,
        member_at in 500_000u64..19_000_000,
    ) {
        let broker_crash = format!(
            r#"crash(target: "events", replica: {broker}, at: "{broker_at}us", restart_after: "{broker_for}us")"#
        );
        let member_crash =
            format!(r#"crash(target: "search", replica: 0, at: "{member_at}us", restart_after: "1s")"#);
        let faults =
            format!("faults=[{}, {broker_crash}, {member_crash}]", crash("relay", relay_at, relay_for));
        let outcome = common::run(&with_faults("scenarios/outbox_log.ron", &faults));
        prop_assert!(delivery(&outcome, "expected") > 500);
        prop_assert_eq!(delivery(&outcome, "lost"), 0);
        prop_assert_eq!(delivery(&outcome, "duplicates"), 0);
    }
}

#[test]
fn the_dual_write_loses_orders_for_some_crash_times() {
    let mut lost = 0;
    for i in 0..40u64 {
        let at = 500_000 + i * 461_113; // spread over 0.5-19 s, off any grid the run has
        let faults = format!("faults=[{}]", crash("api", at, 1_000_000));
        let outcome = common::run(&with_faults("scenarios/dual_write_crash.ron", &faults));
        lost += delivery(&outcome, "lost");
    }
    assert!(lost > 0, "no crash time lost an order");
}
