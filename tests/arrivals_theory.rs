//! Open arrivals against the formulas they must follow.
//!
//! - Poisson arrivals at λ = 800/s into one server of exp(1 ms) are the M/M/1 queue
//!   itself, not the finite-population approximation a closed population gives: mean
//!   time in the system 1/(μ - λ) = 5 ms. Ten seeds of 200 s (about 160 000 requests
//!   each); the tolerance is four standard errors of the ten means, measured.
//! - A token bucket of rate r admits min(λ, r) in the long run: at λ = 100/s every
//!   request passes (Poisson count over 100 s: 10 000 ± 4·100), at λ = 300/s it passes
//!   r·T plus at most its burst of 20 (20 000 to 20 020: the bucket never idles long
//!   enough to fill, as in `tests/rate_limiter.rs`).
//! - A schedule's arrivals follow its rate: a burst schedule's count over a run is its
//!   integral, within four Poisson standard deviations.

mod common;

use std::path::Path;

use archsim::model::arrivals::RateSchedule;

fn count(outcome: &archsim::run::RunOutcome, component: &str, what: &str) -> u64 {
    let (_, counts) = outcome.counts.iter().find(|(n, _)| n == component).expect("component");
    counts.iter().find(|(n, _)| *n == what).expect("count").1
}

#[test]
fn open_poisson_arrivals_into_one_server_are_m_m_1_exactly() {
    let means: Vec<f64> = (1..=10)
        .map(|seed| {
            let seed = format!("seed={seed}");
            let scenario = common::load(Path::new("tests/resilience_input/open_mm1.ron"), &[&seed]);
            let outcome = common::run(&scenario);
            assert_eq!(count(&outcome, "arrivals/client", "no_free_client"), 0);
            let (_, load) = outcome.loads.iter().find(|(n, _)| n == "db").expect("db queue");
            load.sojourn.mean() as f64 / 1e9
        })
        .collect();
    let (mean, error) = common::mean_and_error(&means);
    let theory = 1.0 / (1000.0 - 800.0);
    eprintln!(
        "open M/M/1: {:.4} ms ± {:.4}, theory {:.4} ms",
        mean * 1e3,
        error * 1e3,
        theory * 1e3
    );
    assert!((mean - theory).abs() < 4.0 * error, "{mean} s against {theory} s ± {error}");
}

#[test]
fn a_token_bucket_admits_the_lesser_of_the_arrival_rate_and_its_own() {
    let path = Path::new("tests/resilience_input/open_token_bucket.ron");
    let below = common::run(&common::load(path, &[]));
    let passed = count(&below, "limiter", "passed");
    assert_eq!(count(&below, "limiter", "limited"), 0, "100/s never empties a bucket of 200/s");
    assert!((passed as f64 - 10_000.0).abs() < 400.0, "{passed} passed at 100/s");
    let above = common::run(&common::load(path, &["clients.arrivals=poisson(\"300/s\")"]));
    let passed = count(&above, "limiter", "passed");
    assert!((20_000..=20_020).contains(&passed), "{passed} passed at 300/s");
}

#[test]
fn a_burst_schedule_brings_its_integral() {
    let sets =
        ["clients.arrivals=bursts(base: \"100/s\", peak: \"1000/s\", every: \"20s\", for: \"2s\")"];
    let scenario = common::load(Path::new("tests/resilience_input/open_token_bucket.ron"), &sets);
    let outcome = common::run(&scenario);
    let arrived = count(&outcome, "arrivals/client", "arrived") as f64;
    let schedule = RateSchedule::Bursts {
        base: 100.0,
        peak: 1000.0,
        every: archsim::engine::SimDuration::from_millis(20_000),
        lasting: archsim::engine::SimDuration::from_millis(2_000),
    };
    let expected = schedule.expected(100_000_000_000);
    eprintln!("arrived {arrived}, expected {expected}");
    assert!((arrived - expected).abs() < 4.0 * expected.sqrt(), "{arrived} against {expected}");
}
