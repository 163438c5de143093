//! Application caches against theory.
//!
//! - **TTL hit ratio.** Reads of one key arrive as a Poisson process of rate λ; a miss
//!   sets the key with a TTL of T, and hits do not refresh it. Each miss opens a window
//!   of length T in which every read hits (Poisson(λT) of them, λT on average), and
//!   the first read after the window misses again. So the hit ratio is λT/(1 + λT).
//!   Ten readers thinking exp(1 s) make λ = 10/s (a request's own 4-8 µs is negligible);
//!   T = 200 ms gives 2/3. Over n windows the hits per window have variance λT, so the
//!   ratio's standard error is √(λT/n)/(1 + λT)²: 0.0014 for the 4 000 s run's
//!   13 000 windows. The tolerance is four standard errors.
//! - **A versioned set never leaves the cache older than the store once the writes
//!   stop**: write-through with `only_if_newer` ends every seed of the race with no
//!   stale entry, while the plain race ends some seeds with one.

mod common;

use std::path::Path;

use archsim::run::RunOutcome;

fn count(outcome: &RunOutcome, component: &str, name: &str) -> u64 {
    let (_, counts) = outcome.counts.iter().find(|(c, _)| c == component).expect("component");
    counts.iter().find(|(n, _)| *n == name).expect("count").1
}

fn stale_at_end(outcome: &RunOutcome) -> u64 {
    let check = outcome.checks.iter().find(|r| r.name == "cache_coherence").expect("checked");
    check.figures["stale_at_end"]
}

/// The hit ratio of a TTL cache under Poisson reads.
fn hit_ratio_formula(rate: f64, ttl_s: f64) -> f64 {
    rate * ttl_s / (1.0 + rate * ttl_s)
}

#[test]
fn a_ttl_cache_under_poisson_reads_hits_lambda_t_over_one_plus_lambda_t() {
    let scenario = common::load(Path::new("tests/cache_input/ttl_hit_ratio.ron"), &[]);
    let outcome = common::run(&scenario);
    let (hits, misses) = (count(&outcome, "redis", "hits"), count(&outcome, "redis", "misses"));
    let ratio = hits as f64 / (hits + misses) as f64;
    let (rate, ttl) = (10.0, 0.2);
    let expected = hit_ratio_formula(rate, ttl);
    let windows = misses as f64;
    let error = (rate * ttl / windows).sqrt() / (1.0 + rate * ttl).powi(2);
    assert!(windows > 12_000.0, "{windows} windows");
    assert!(
        (ratio - expected).abs() < 4.0 * error,
        "hit ratio {ratio:.4} vs λT/(1+λT) = {expected:.4} ± {:.4}",
        4.0 * error
    );
}

#[test]
fn the_formula_has_the_value_the_docs_quote() {
    assert!((hit_ratio_formula(10.0, 0.2) - 2.0 / 3.0).abs() < 1e-12);
}

#[test]
fn a_versioned_set_leaves_no_stale_entry_once_the_writes_stop_and_the_race_does() {
    let fixed = common::load(Path::new("scenarios/cache_aside_versioned_set.ron"), &[]);
    let race = common::load(Path::new("scenarios/cache_aside_race.ron"), &[]);
    let mut race_left_stale = 0;
    for seed in 1..=20 {
        let mut s = fixed.clone();
        s.seed = seed;
        assert_eq!(stale_at_end(&common::run(&s)), 0, "seed {seed}");
        let mut s = race.clone();
        s.seed = seed;
        race_left_stale += u64::from(stale_at_end(&common::run(&s)) > 0);
    }
    assert!(race_left_stale > 0, "the race leaves a stale entry on some seed");
}
