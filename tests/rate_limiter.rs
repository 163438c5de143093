//! The rate limiter, the first kind added through the kind seam (one file and one table
//! line), run from a file like any other: a token bucket of rate `r` and burst `b`
//! saturated over a duration `T` passes between `r·T` (every token it earns is spent at
//! once, since a request is always waiting) and `r·T + b` (plus the full bucket it
//! starts with): with 200/s, 20 and 60 s, 12,000 to 12,020. Exact bounds, no tolerance:
//! the bucket counts integer nanoseconds. 50 clients offering about 965/s leave the
//! bucket empty almost always; a quiet 100 ms (which would waste a full bucket's credit)
//! has probability about e^-96 per window.
//!
//! Every data checker applies to it unchanged, and holds on 20 seeds: a refused request
//! is no sighting for the client that sent it.

mod common;

use std::path::Path;

use archsim::model::Verdict;

#[test]
fn a_saturated_token_bucket_passes_its_rate_plus_at_most_its_burst_on_20_seeds() {
    for seed in 1..=20 {
        let seed_set = format!("seed={seed}");
        let scenario = common::load(Path::new("scenarios/rate_limited_store.ron"), &[&seed_set]);
        let outcome = common::run(&scenario);
        let (_, counts) = outcome.counts.iter().find(|(name, _)| name == "limiter").unwrap();
        let count = |what: &str| counts.iter().find(|(n, _)| *n == what).unwrap().1;
        let passed = count("passed");
        assert!((12_000..=12_020).contains(&passed), "seed {seed}: passed {passed}");
        // The store sees exactly what the limiter passed on.
        let (_, db) = outcome.counts.iter().find(|(name, _)| name == "db").unwrap();
        let writes = db.iter().find(|(n, _)| *n == "log_appends").unwrap().1;
        assert!(writes <= passed, "seed {seed}: {writes} writes behind {passed} passed");
        assert!(count("limited") > passed, "seed {seed}: offered about 4.8 times the rate");
        for check in &outcome.checks {
            let (name, violations) = (check.name, check.violations);
            assert_ne!(check.verdict, Verdict::Violated, "seed {seed}: {name} ({violations})");
        }
    }
}
