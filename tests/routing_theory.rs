//! Routing against queueing theory, on `models/routing.ron` with exponential service
//! (10 ms, four single-worker instances) at λ = 300/s, utilisation 0.75:
//!
//! - random routing splits a Poisson stream into four independent Poisson streams of
//!   λ/4, so each instance is M/M/1: E[T] = 1/(μ - λ/4) = 40 ms;
//! - join-the-shortest-queue (`least_outstanding`) can do no better than one shared
//!   queue, M/M/4 (Erlang C: 15.1 ms), and does far better than random;
//! - power of two choices lies between the two, close to the shortest queue.
//!
//! The clients are a closed population, which holds the means a few percent under the
//! open-system formulas (`tests/queueing_theory.rs`); each run serves about 300 000
//! requests.

mod common;

use std::path::Path;

use archsim::components::Load;

const DURATION_S: f64 = 1000.0;
const SERVICE_S: f64 = 0.010;

/// Mean time at the instances and the arrival rate, under `policy`.
fn measure(policy: &str) -> (f64, f64) {
    let sets = [
        format!("duration=\"{DURATION_S}s\""),
        format!("lb.policy={policy}"),
        "api.capacity.service=exp(\"10ms\")".to_string(),
    ];
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let scenario = common::load(Path::new("scenarios/routing_random.ron"), &sets);
    let outcome = common::run(&scenario);
    let mut all = Load::default();
    for (_, load) in outcome.loads.iter().filter(|(n, _)| n.starts_with("api/")) {
        all.merge(load);
    }
    let lambda = all.served as f64 / DURATION_S;
    (all.sojourn.mean() as f64 / 1e9, lambda)
}

/// Erlang C: the chance an arrival waits, `c` servers, offered load `a` erlangs.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c) / (1.0 - a / f64::from(c));
    last / (sum + last)
}

#[test]
fn random_routing_is_independent_m_m_1_queues() {
    let (got, lambda) = measure("random");
    let mu = 1.0 / SERVICE_S;
    let theory = 1.0 / (mu - lambda / 4.0);
    eprintln!("random: {:.2} ms, M/M/1 at λ/4 {:.2} ms (λ {lambda:.1})", got * 1e3, theory * 1e3);
    assert!((got - theory).abs() / theory < 0.06, "{got} s against {theory} s");
}

#[test]
fn the_shortest_queue_sits_between_one_shared_queue_and_random_and_two_choices_near_it() {
    let (jsq, lambda) = measure("least_outstanding");
    let (two, _) = measure("power_of_two");
    let mu = 1.0 / SERVICE_S;
    let shared = SERVICE_S + erlang_c(4, lambda / mu) / (4.0 * mu - lambda);
    let random = 1.0 / (mu - lambda / 4.0);
    eprintln!(
        "M/M/4 {:.2} ms ≤ shortest queue {:.2} ms ≤ two choices {:.2} ms ≤ random {:.2} ms",
        shared * 1e3,
        jsq * 1e3,
        two * 1e3,
        random * 1e3
    );
    // A little under M/M/4 is the closed population's doing.
    assert!(jsq > shared * 0.97, "the shortest queue beats one shared queue: {jsq} < {shared}");
    assert!(jsq < two, "two choices beat the shortest queue: {two} < {jsq}");
    assert!(two < random * 0.6, "two choices {two} s not far below random {random} s");
    // Two choices take most of the gain: within 40% of the shortest queue's mean.
    assert!(two < jsq * 1.4, "two choices {two} s, shortest queue {jsq} s");
}
