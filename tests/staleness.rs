//! Stale-read fractions against the closed form.
//!
//! A replica receives a write after a lag X ~ exp(mean L). A client refreshes a delay
//! t ~ uniform(0, T) after the acknowledgement, so the read is stale when X > t, which
//! happens with probability E[exp(-t/L)] = (L/T)(1 - exp(-T/L)). For L = 2 s, T = 5 s
//! that is 0.4 * (1 - exp(-2.5)) = 0.36717. The network hops (a few ms) lower it by
//! well under a point.

mod common;

use std::path::Path;

fn stale_fraction(path: &str, sets: &[&str]) -> (f64, u64) {
    let scenario = common::load(Path::new(path), sets);
    let outcome = common::run(&scenario);
    let reads = outcome.history.stats("read").expect("a read row").latency.count();
    assert!(reads > 10_000, "enough reads for a tight estimate: {reads}");
    (outcome.history.stale_reads() as f64 / reads as f64, reads)
}

fn analytic(lag_mean_s: f64, refresh_max_s: f64) -> f64 {
    lag_mean_s / refresh_max_s * (1.0 - (-refresh_max_s / lag_mean_s).exp())
}

#[test]
fn replica_reads_match_the_formula() {
    let expected = analytic(2.0, 5.0);
    assert!((expected - 0.36717).abs() < 1e-4);
    let (got, _) = stale_fraction("scenarios/stale_read_refresh.ron", &[]);
    assert!((got - expected).abs() < 0.02, "stale fraction {got:.4} vs analytic {expected:.4}");
}

#[test]
fn formula_holds_at_another_lag() {
    let expected = analytic(1.0, 5.0);
    let (got, _) =
        stale_fraction("scenarios/stale_read_refresh.ron", &["db.replication.lag=exp(1s)"]);
    assert!((got - expected).abs() < 0.02, "stale fraction {got:.4} vs analytic {expected:.4}");
}

#[test]
fn primary_reads_are_never_stale() {
    let (got, _) = stale_fraction("scenarios/stale_read_primary.ron", &[]);
    assert_eq!(got, 0.0);
}
