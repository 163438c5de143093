//! A server with capacity is the queue of the textbooks: with Poisson arrivals (many
//! clients, each thinking an exponential time) and exponential service, the mean time a
//! request spends at the server matches M/M/1, and with `c` workers M/M/c via Erlang C,
//! within 5% at utilisation 0.5 and 0.8.
//!
//! The arrival rate the formulas get is the one the run measured (requests served over
//! the duration): clients waiting at the server do not think, so it sits a fraction of a
//! percent below clients / think. Each run serves 500 000 requests or more, enough that
//! the sample mean at utilisation 0.8 is within about 1% of its expectation.
//!
//! The clients are a closed population, so the exact model is the finite-source queue
//! (the machine-repairman model), solved here by mean value analysis: a client in the
//! queue is one fewer thinking, which makes the mean about 1% lower than M/M/1's at
//! utilisation 0.8. The runs match that model more closely still.

mod common;

use std::path::Path;

use archsim::components::Load;

const DURATION_S: f64 = 1000.0;

/// Runs `scenario` for `DURATION_S` with `think` and returns the store's queue figures.
fn measure(scenario: &str, think: &str) -> Load {
    let duration = format!("duration=\"{DURATION_S}s\"");
    let think = format!("clients.think=exp(\"{think}\")");
    let scenario = common::load(Path::new(scenario), &[&duration, &think]);
    let outcome = common::run(&scenario);
    let (_, load) = outcome.loads.into_iter().find(|(name, _)| name == "db").expect("db queue");
    load
}

/// Erlang C: the probability that an arrival waits, with `c` servers and offered load
/// `a = lambda / mu` (in erlangs).
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c) / (1.0 - rho);
    last / (sum + last)
}

/// Mean time in an M/M/c system: service plus the Erlang C wait.
fn mmc_response_s(c: u32, lambda: f64, service_s: f64) -> f64 {
    let mu = 1.0 / service_s;
    let waits = erlang_c(c, lambda / mu);
    service_s + waits / (f64::from(c) * mu - lambda)
}

fn assert_matches(what: &str, load: &Load, c: u32, service_s: f64, rho: f64) {
    let lambda = load.served as f64 / DURATION_S;
    let measured_rho = lambda * service_s / f64::from(c);
    assert!((measured_rho - rho).abs() < 0.02, "{what}: utilisation {measured_rho}, meant {rho}");
    let theory = mmc_response_s(c, lambda, service_s);
    let got = load.sojourn.mean() as f64 / 1e9;
    let error = (got - theory).abs() / theory;
    eprintln!(
        "{what}: {:.4} ms, theory {:.4} ms, {:+.2}%",
        got * 1e3,
        theory * 1e3,
        100.0 * (got - theory) / theory
    );
    assert!(
        error < 0.05,
        "{what}: mean time in system {:.3} ms, theory {:.3} ms ({:.1}% off)",
        got * 1e3,
        theory * 1e3,
        error * 100.0
    );
    // The busy-time integral agrees with the operational law U = X S / c.
    let utilisation_error = (load.utilisation() - measured_rho).abs() / measured_rho;
    assert!(utilisation_error < 0.02, "{what}: utilisation {}", load.utilisation());
}

/// Mean response time of one exponential server facing `clients` that think `think_s`
/// between requests, by exact mean value analysis of the closed network.
fn finite_source_response_s(clients: u32, think_s: f64, service_s: f64) -> f64 {
    let (mut queue, mut response) = (0.0, service_s);
    for n in 1..=clients {
        response = service_s * (1.0 + queue);
        queue = f64::from(n) / (response + think_s) * response;
    }
    response
}

#[test]
fn erlang_c_is_the_textbook_value() {
    // One server: the waiting probability is the utilisation.
    assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
    // Four servers at 3.2 erlangs (a standard table entry).
    assert!((erlang_c(4, 3.2) - 0.5964).abs() < 1e-3, "{}", erlang_c(4, 3.2));
}

#[test]
fn one_worker_is_m_m_1() {
    // 2 000 clients thinking exp(2.5 s) offer 800/s; exp(4 s), 500/s; service exp(1 ms).
    let high = measure("scenarios/queue_mm1.ron", "2.5s");
    assert_matches("M/M/1 at 0.8", &high, 1, 0.001, 0.8);
    let low = measure("scenarios/queue_mm1.ron", "4s");
    assert_matches("M/M/1 at 0.5", &low, 1, 0.001, 0.5);
    // The exact closed-population model, within 2%.
    let exact = finite_source_response_s(2000, 2.5, 0.001);
    let got = high.sojourn.mean() as f64 / 1e9;
    assert!((got - exact).abs() / exact < 0.02, "finite source: {got} s, exact {exact} s");
    // Mean queue length, from the queue-length integral: rho^2 / (1 - rho) = 3.2.
    let lq = high.mean_queue();
    assert!((lq - 3.2).abs() / 3.2 < 0.08, "M/M/1 at 0.8: mean queue {lq}, theory 3.2");
}

#[test]
fn four_workers_are_m_m_c_by_erlang_c() {
    // The same arrivals at four workers of exp(4 ms) each.
    let high = measure("scenarios/queue_mmc.ron", "2.5s");
    assert_matches("M/M/4 at 0.8", &high, 4, 0.004, 0.8);
    let low = measure("scenarios/queue_mmc.ron", "4s");
    assert_matches("M/M/4 at 0.5", &low, 4, 0.004, 0.5);
}
