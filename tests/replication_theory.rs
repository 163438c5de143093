//! Acknowledged writes a failover loses, against the formulas for each replication mode.
//!
//! The scenarios: N = 1 000 clients each write their own key every exp(Z = 10 s) over a
//! link that takes no time, so writes reach the primary as a Poisson stream at
//! λ = N/Z = 100/s and are acknowledged at once. Each write reaches a replica after a lag
//! X ~ exp(L = 500 ms). With one replica, a failover at time T (in the steady state, the
//! run ending right after it) loses every acknowledged write the replica lacks.
//!
//! - **Independent lag.** A key's write is kept when it, or a later write of the same
//!   key (which names it as its parent), has arrived. Looking back from T, a client's
//!   writes are a Poisson process at ν = 1/Z at ages s₁ < s₂ < ...; the write at age s is
//!   lost when it and every more recent write are still in flight, so per key
//!   E[lost] = ∫₀^∞ ν e^{-s/L} exp(-ν ∫₀^s (1 - e^{-u/L}) du) ds, a little under νL
//!   (λL = 50 in all, the Little's-law count of writes in flight; 48.8 with the chains).
//! - **Ordered stream.** Write n applies at max(tₙ + Xₙ, the arrival of write n-1), so
//!   its delay W is at most x when every write at age a ≥ 0 before it has X ≤ x + a.
//!   The earlier writes are a Poisson process, so
//!   P(W ≤ x) = (1 - e^{-x/L}) exp(-λL e^{-x/L}), and by Little's law the writes not
//!   yet applied at T number λ E[W] = λL ∫₀¹ (1 - (1-y) e^{-λL y}) / y dy: 225 here,
//!   4.6 times the independent figure, because one slow write holds back all behind it.
//! - **Semi-synchronous and synchronous.** A write is answered only once a replica (every
//!   replica) has applied it, and the failover promotes the highest replication position,
//!   which on an ordered stream holds every write any replica applied: exactly 0.
//!
//! The tolerance is what the sample allows: four standard errors of the mean over the
//! seeds, estimated from the seeds themselves (the stream's count is overdispersed).

mod common;

use std::path::Path;

use archsim::model::Scenario;

const CLIENTS: f64 = 1000.0;
const THINK_S: f64 = 10.0;
const LAG_S: f64 = 0.5;
/// Seeds behind each mean: enough that four standard errors are within 12% for the
/// stream and 5% for independent lag.
const SEEDS: u64 = 100;

/// Simpson's rule over `[a, b]` with `n` (even) intervals.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: u32) -> f64 {
    let h = (b - a) / f64::from(n);
    let inner: f64 =
        (1..n).map(|i| if i % 2 == 1 { 4.0 } else { 2.0 } * f(a + f64::from(i) * h)).sum();
    (f(a) + f(b) + inner) * h / 3.0
}

/// Expected writes lost with independent lag: N times the per-key integral.
fn independent_lost(clients: f64, think_s: f64, lag_s: f64) -> f64 {
    let nu = 1.0 / think_s;
    let per_key = |s: f64| {
        let in_flight_since = s - lag_s * (1.0 - (-s / lag_s).exp());
        nu * (-s / lag_s).exp() * (-nu * in_flight_since).exp()
    };
    clients * simpson(per_key, 0.0, 60.0 * lag_s, 60_000)
}

/// The mean delay E[W] of a write on an ordered stream at write rate `rate`.
fn stream_delay_s(rate: f64, lag_s: f64) -> f64 {
    let c = rate * lag_s;
    // The integrand tends to c + 1 as y tends to 0.
    let f = |y: f64| if y == 0.0 { c + 1.0 } else { (1.0 - (1.0 - y) * (-c * y).exp()) / y };
    lag_s * simpson(f, 0.0, 1.0, 20_000)
}

fn load(path: &str, sets: &[&str]) -> Scenario {
    common::load(Path::new(path), sets)
}

/// Acknowledged writes lost on `seed`.
fn lost_on(scenario: &Scenario, seed: u64) -> u64 {
    let mut s = scenario.clone();
    s.seed = seed;
    let outcome = common::run(&s);
    let lost = outcome.checks.iter().find(|r| r.name == "lost_acknowledged_write");
    lost.expect("the lost-write checker").violations
}

/// Mean lost writes over `SEEDS` seeds of `scenario` with one replica, checked against
/// `expected` within four standard errors.
fn assert_mean_lost(path: &str, sets: &[&str], expected: f64) {
    let mut all = vec!["db.replicas=1"];
    all.extend_from_slice(sets);
    let scenario = load(path, &all);
    let lost: Vec<f64> = (1..=SEEDS).map(|seed| lost_on(&scenario, seed) as f64).collect();
    let (mean, error) = common::mean_and_error(&lost);
    eprintln!("{path}: {mean:.1} ± {error:.1} lost over {SEEDS} seeds, formula {expected:.1}");
    assert!(
        (mean - expected).abs() <= 4.0 * error,
        "{path}: mean {mean:.1} lost, formula {expected:.1}, four standard errors {:.1}",
        4.0 * error
    );
}

#[test]
fn the_formulas_have_the_values_the_docs_quote() {
    let independent = independent_lost(CLIENTS, THINK_S, LAG_S);
    assert!((independent - 48.80).abs() < 0.01, "{independent}");
    let rate = CLIENTS / THINK_S;
    let stream = rate * stream_delay_s(rate, LAG_S);
    assert!((stream - 225.46).abs() < 0.01, "{stream}");
    // With little traffic the stream rarely queues: E[W] tends to the mean lag.
    assert!((stream_delay_s(1e-6, LAG_S) - LAG_S).abs() < 1e-6);
}

#[test]
fn independent_lag_loses_the_writes_in_flight_to_the_promoted_replica() {
    let expected = independent_lost(CLIENTS, THINK_S, LAG_S);
    assert_mean_lost("scenarios/failover_async_independent.ron", &[], expected);
}

#[test]
fn an_ordered_stream_loses_every_write_queued_behind_a_slow_one() {
    let rate = CLIENTS / THINK_S;
    let expected = rate * stream_delay_s(rate, LAG_S);
    assert_mean_lost("scenarios/failover_async_stream.ron", &[], expected);
}

#[test]
fn waiting_for_a_replica_loses_nothing_on_any_seed_where_not_waiting_loses_some() {
    let stream = load("scenarios/failover_async_stream.ron", &[]);
    let semi = load("scenarios/failover_semi_sync.ron", &[]);
    let sync = load("scenarios/failover_async_stream.ron", &["db.replication.mode=sync"]);
    for seed in 1..=20 {
        assert!(lost_on(&stream, seed) > 0, "seed {seed}: the unfixed design loses writes");
        assert_eq!(lost_on(&semi, seed), 0, "seed {seed}: semi-synchronous");
        assert_eq!(lost_on(&sync, seed), 0, "seed {seed}: synchronous");
    }
}

/// With synchronous replication to one replica, a write's commit latency is its delay
/// W on the stream, so its mean is E[W] at the write rate the run measured (the clients
/// wait for their writes, which keeps the rate below N/Z; each client is one of 1 000,
/// so the writes still arrive nearly as a Poisson stream).
#[test]
fn a_synchronous_commit_waits_the_stream_delay() {
    let sets = ["db.replicas=1", "db.replication.mode=sync"];
    let scenario = load("scenarios/failover_async_stream.ron", &sets);
    let (mut latency, mut writes) = (Vec::new(), 0.0);
    for seed in 1..=SEEDS / 5 {
        let mut s = scenario.clone();
        s.seed = seed;
        let outcome = common::run(&s);
        let stats = outcome.history.stats("write").expect("a write row");
        latency.push(stats.latency.mean() as f64 / 1e9);
        writes += stats.latency.count() as f64;
    }
    let rate = writes / (SEEDS / 5) as f64 / scenario.duration.as_secs_f64();
    let expected = stream_delay_s(rate, LAG_S);
    let (mean, error) = common::mean_and_error(&latency);
    eprintln!("sync commit {mean:.3} ± {error:.3} s at {rate:.1} writes/s, E[W] {expected:.3} s");
    assert!((mean - expected).abs() <= 4.0 * error, "{mean} vs {expected}");
}
