//! Retry policies and slowdowns against the formulas they follow.
//!
//! Immediate retries: a try over a link that loses each message with chance q fails
//! when its request or its answer is lost, p = 1 - (1 - q)², independently of every
//! other try. With at most `a` tries an operation makes A = min(G, a) tries, G
//! geometric, so E[A] = (1 - p^a) / (1 - p) and E[A²] = Σ_{k=1..a} (2k - 1) p^(k-1):
//! the servers get E[A] times the load the users offer. With q = 0.2 and a = 4,
//! E[A] = 1.536; the run's 300 000 operations put the mean within about 0.002.
//!
//! A slowdown by f multiplies every service time, so an M/M/1 server of rate μ under
//! load λ holds a request 1 / (μ/f - λ) on average: at f = 2, μ = 1000/s and λ = 400/s,
//! 10 ms, where the unslowed server takes 1.67 ms.

mod common;

use std::path::Path;

use archsim::report::Summary;

#[test]
fn immediate_retries_multiply_the_offered_load_by_the_expected_tries() {
    let scenario = common::load(Path::new("tests/resilience_input/immediate_retries.ron"), &[]);
    let outcome = common::run(&scenario);
    let summary = Summary::new(&scenario, &outcome, None);
    let t = summary.timeline.expect("the scenario asks for its timeline");
    let offered: u64 = t.offered.iter().sum();
    let attempts: u64 = t.attempts.iter().sum();
    let (q, a) = (0.2_f64, 4);
    let p = 1.0 - (1.0 - q) * (1.0 - q);
    let mean = (1.0 - p.powi(a)) / (1.0 - p);
    let square: f64 = (1..=a).map(|k| f64::from(2 * k - 1) * p.powi(k - 1)).sum();
    let sd = ((square - mean * mean) / offered as f64).sqrt();
    let got = attempts as f64 / offered as f64;
    eprintln!("tries per operation {got:.5}, theory {mean:.5} ± {sd:.5} ({offered} operations)");
    // Operations cut off by the end of the run (at most one per client) bias the mean
    // by at most 200 tries in all.
    let slack = 4.0 * sd + 200.0 / offered as f64;
    assert!((got - mean).abs() < slack, "{got} tries per operation, theory {mean} ± {slack}");
    assert!(offered > 250_000, "{offered} operations");
}

#[test]
fn a_slowdown_multiplies_service_times_as_m_m_1_says() {
    let scenario = common::load(Path::new("tests/resilience_input/slowed_mm1.ron"), &[]);
    let outcome = common::run(&scenario);
    let (_, load) = outcome.loads.iter().find(|(name, _)| name == "db").expect("db queue");
    let lambda = load.served as f64 / 1000.0;
    let service_s = 2e-3;
    let utilisation = lambda * service_s;
    assert!((load.utilisation() - utilisation).abs() < 0.02, "utilisation {}", load.utilisation());
    let theory = 1.0 / (1.0 / service_s - lambda);
    let got = load.sojourn.mean() as f64 / 1e9;
    eprintln!("time in system {:.3} ms, M/M/1 {:.3} ms", got * 1e3, theory * 1e3);
    // The closed population sits a few percent under M/M/1 (`tests/queueing_theory.rs`).
    assert!((got - theory).abs() / theory < 0.05, "{got} s against {theory} s");
}

#[test]
fn a_coarser_timeline_interval_sums_the_same_run() {
    let path = Path::new("scenarios/retry_storm.ron");
    let fine = common::load(path, &["seeds=1"]);
    let coarse = common::load(path, &["seeds=1", "timeline_interval=\"10s\""]);
    let (a, b) = (common::run(&fine), common::run(&coarse));
    assert_eq!(a.stats.trace_hash, b.stats.trace_hash, "the interval changes no event");
    let (a, b) = (Summary::new(&fine, &a, None), Summary::new(&coarse, &b, None));
    let (a, b) = (a.timeline.unwrap(), b.timeline.unwrap());
    assert_eq!((a.len(), b.len(), b.interval_ns), (90, 9, 10_000_000_000));
    for (fine, coarse) in [(&a.offered, &b.offered), (&a.attempts, &b.attempts), (&a.ok, &b.ok)] {
        let tens: Vec<u64> = fine.chunks(10).map(|c| c.iter().sum()).collect();
        assert_eq!(&tens, coarse);
    }
    let busy: Vec<f64> =
        a.utilisation["api"].chunks(10).map(|c| c.iter().sum::<f64>() / 10.0).collect();
    for (x, y) in busy.iter().zip(&b.utilisation["api"]) {
        assert!((x - y).abs() < 1e-3, "ten seconds' utilisation {y} against the mean of ten {x}");
    }
}
