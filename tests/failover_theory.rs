//! Automatic failover against the formulas for detection, rerouting and split brain.
//!
//! The scenarios: N = 1 000 clients each write their own key every exp(Z = 10 s) over a
//! link that takes no time; a write is answered at once or, sent to a dead primary, times
//! out after 10 s. The primary sends a heartbeat every h = 1 s on a grid whose phase is
//! uniform, and the detector promotes a replica after T = 3 s of silence; clients follow
//! the promotion R = 5 s later.
//!
//! - **Detection after a crash.** The crash falls uniformly between two heartbeats, so the
//!   detector decides D = T − U later, U ~ U[0, h): D ~ U(T − h, T], mean T − h/2 (the
//!   store's `detection_ms`). Every write sent in
//!   the D + R after the crash goes to the dead primary and times out. That is shorter
//!   than the timeout, so a client sends at most one, and by memorylessness its next
//!   write falls in the window with chance 1 − e^{−(D+R)/Z}. Averaged over D:
//!   E[timed out] = N (1 − e^{−R/Z} (Z/h)(e^{−(T−h)/Z} − e^{−T/Z})) = 527.4, where the
//!   naive λ(T − h/2 + R) = 750 forgets that a client waiting out its timeout sends
//!   nothing more.
//! - **Split brain.** Cut off but running, the old primary answers at once, so each
//!   client's writes stay a Poisson process at 1/Z; those in the R after the promotion
//!   reach the deposed primary: E[diverged] = N R / Z = 500, Poisson. With fencing by
//!   term, the same writes are refused instead and none diverges.
//!
//! The tolerance is four standard errors of the mean over the seeds, estimated from the
//! seeds themselves.

mod common;

use std::path::Path;

use archsim::model::Scenario;
use archsim::run::RunOutcome;

const CLIENTS: f64 = 1000.0;
const THINK_S: f64 = 10.0;
const HEARTBEAT_S: f64 = 1.0;
const TIMEOUT_S: f64 = 3.0;
const REROUTE_S: f64 = 5.0;
const SEEDS: u64 = 100;

fn load(path: &str, sets: &[&str]) -> Scenario {
    common::load(Path::new(path), sets)
}

/// One run of `scenario` on `seed`.
fn run_on(scenario: &Scenario, seed: u64) -> RunOutcome {
    let mut s = scenario.clone();
    s.seed = seed;
    common::run(&s)
}

/// What `db` counted as `name` in `outcome`.
fn count(outcome: &RunOutcome, name: &str) -> u64 {
    let db = outcome.counts.iter().find(|(n, _)| n == "db").expect("db's counts");
    db.1.iter().find(|(n, _)| *n == name).map(|&(_, v)| v).expect("the count")
}

fn assert_mean(what: &str, xs: &[f64], expected: f64) {
    let (mean, error) = common::mean_and_error(xs);
    eprintln!("{what}: {mean:.1} ± {error:.1} over {} seeds, formula {expected:.1}", xs.len());
    assert!(
        (mean - expected).abs() <= 4.0 * error,
        "{what}: mean {mean:.1}, formula {expected:.1}, four standard errors {:.1}",
        4.0 * error
    );
}

/// Expected writes that time out between a crash and the clients' following the
/// promotion.
fn timed_out_after_crash() -> f64 {
    let (z, h, t, r) = (THINK_S, HEARTBEAT_S, TIMEOUT_S, REROUTE_S);
    let survives = (-r / z).exp() * (z / h) * ((-(t - h) / z).exp() - (-t / z).exp());
    CLIENTS * (1.0 - survives)
}

#[test]
fn the_formulas_have_the_values_the_docs_quote() {
    assert!((timed_out_after_crash() - 527.43).abs() < 0.01, "{}", timed_out_after_crash());
    assert_eq!(CLIENTS * REROUTE_S / THINK_S, 500.0);
}

#[test]
fn writes_time_out_for_the_detection_delay_and_the_reroute() {
    let scenario = load("scenarios/failover_detected_crash.ron", &[]);
    let (mut timed_out, mut detection_ms) = (Vec::new(), Vec::new());
    for seed in 1..=SEEDS {
        let outcome = run_on(&scenario, seed);
        assert_eq!(count(&outcome, "promotions"), 1, "seed {seed}: one promotion");
        timed_out.push(outcome.history.stats("write").expect("a write row").unknown as f64);
        detection_ms.push(count(&outcome, "detection_ms") as f64);
    }
    assert_mean("writes timed out after a crash", &timed_out, timed_out_after_crash());
    // D ~ U(T - h, T]: its mean is T - h/2 (whole milliseconds, the figure truncated).
    assert_mean("detection (ms)", &detection_ms, 1000.0 * (TIMEOUT_S - HEARTBEAT_S / 2.0) - 0.5);
    assert!(detection_ms.iter().all(|&d| d > 1000.0 * (TIMEOUT_S - HEARTBEAT_S) - 1.0));
    assert!(detection_ms.iter().all(|&d| d <= 1000.0 * TIMEOUT_S));
}

#[test]
fn a_deposed_primary_takes_the_writes_of_the_reroute_unless_fenced() {
    let unfenced = load("scenarios/split_brain_unfenced.ron", &[]);
    let fenced = load("scenarios/split_brain_fenced.ron", &[]);
    let expected = CLIENTS * REROUTE_S / THINK_S;
    let (mut diverged, mut refused) = (Vec::new(), Vec::new());
    for seed in 1..=SEEDS {
        let outcome = run_on(&unfenced, seed);
        let checker = outcome.checks.iter().find(|r| r.name == "split_brain").expect("checker");
        assert_eq!(checker.violations, count(&outcome, "split_brain_writes"), "seed {seed}");
        diverged.push(checker.violations as f64);
        let outcome = run_on(&fenced, seed);
        let checker = outcome.checks.iter().find(|r| r.name == "split_brain").expect("checker");
        assert_eq!(checker.violations, 0, "seed {seed}: fencing lets nothing diverge");
        refused.push(count(&outcome, "fenced_writes") as f64);
    }
    assert_mean("writes diverged without fencing", &diverged, expected);
    assert_mean("writes refused by fencing", &refused, expected);
}
