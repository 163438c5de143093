//! Stale reads on a leaderless quorum store, against the formula of the quorum
//! literature.
//!
//! A write is sent to all n replicas and answered once w have acknowledged it. With
//! acknowledgements that take no time and writes that take a continuous random time,
//! the moment the w-th replica has the write is the moment the writer hears back, and
//! the w replicas holding it then are a uniformly random w-subset (the delays are
//! independent and alike). The writer reads straight back (no time passes on its link or
//! on the way to the replicas), from r replicas drawn at random: the read misses its own
//! write exactly when all r lie outside the w, which has probability
//! C(n-w, r) / C(n, r), and 0 when r + w > n.
//!
//! Each run makes about 60 000 reads, so the measured share has a standard error of at
//! most 0.002; the tolerance is four of them.

mod common;

use std::path::Path;

/// C(n, k).
fn choose(n: u32, k: u32) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// The chance a read of r replicas misses a write held by w of n.
fn miss(n: u32, w: u32, r: u32) -> f64 {
    choose(n - w, r) / choose(n, r)
}

/// One run of `quorum_one_one.ron` with `n`, `w`, `r`, acknowledgements and read
/// requests that take no time, and `more` overrides.
fn run(n: u32, w: u32, r: u32, more: &[&str]) -> archsim::run::RunOutcome {
    let mut sets = vec![
        format!("db.n={n}"),
        format!("db.w={w}"),
        format!("db.r={r}"),
        "db.ack=const(\"0ms\")".to_string(),
        "db.read=const(\"0ms\")".to_string(),
    ];
    sets.extend(more.iter().map(|s| s.to_string()));
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    common::run(&common::load(Path::new("scenarios/quorum_one_one.ron"), &sets))
}

/// The share of reads that missed the reader's own write, with `n`, `w`, `r`.
fn stale_share(n: u32, w: u32, r: u32) -> (f64, u64) {
    let outcome = run(n, w, r, &[]);
    let reads = outcome.history.stats("read").expect("a read row").latency.count();
    assert!(reads > 50_000, "enough reads: {reads}");
    (outcome.history.stale_reads() as f64 / reads as f64, reads)
}

#[test]
fn the_formula_has_the_values_the_docs_quote() {
    assert_eq!(miss(3, 1, 1), 2.0 / 3.0);
    assert_eq!(miss(3, 2, 1), 1.0 / 3.0);
    assert_eq!(miss(5, 2, 2), 0.3);
    assert_eq!(miss(3, 2, 2), 0.0, "r + w > n never misses");
}

#[test]
fn reads_miss_the_write_as_often_as_the_formula_says() {
    for (n, w, r) in [(3, 1, 1), (3, 2, 1), (3, 1, 2), (5, 2, 2), (5, 1, 3), (5, 3, 3)] {
        let expected = miss(n, w, r);
        let (got, reads) = stale_share(n, w, r);
        let error = (expected * (1.0 - expected) / reads as f64).sqrt().max(1e-9);
        eprintln!("n={n} w={w} r={r}: stale {got:.4}, formula {expected:.4}");
        if expected == 0.0 {
            assert_eq!(got, 0.0, "n={n} w={w} r={r}: a quorum overlap never misses");
        } else {
            assert!(
                (got - expected).abs() <= 4.0 * error,
                "n={n} w={w} r={r}: stale {got:.4}, formula {expected:.4} ± {:.4}",
                4.0 * error
            );
        }
    }
}

/// t-visibility. After the write's commit the n - w replicas that lack it each get it
/// after a further exp(m) (the delays are memoryless), so a read of r replicas made t
/// after the commit misses it with probability C(n-w, r)/C(n, r) · e^{-r t / m}. The
/// writer sleeps t ~ uniform(0, 50 ms) before reading; within a bin [a, b) of the
/// curve t is uniform, so the bin's expected fresh share is one minus that probability
/// averaged over [a, b).
#[test]
fn the_visibility_curve_follows_the_exponential_catch_up() {
    const MEAN_WRITE_S: f64 = 0.010;
    for (n, w, r) in [(3, 1, 1), (5, 2, 2)] {
        let sleep = "clients.workflow=[write, sleep(uniform(\"0ms\", \"50ms\")), read]";
        let outcome = run(n, w, r, &[sleep]);
        let k = f64::from(r) / MEAN_WRITE_S;
        let mut bins_checked = 0;
        for p in outcome.history.visibility().points() {
            let (a, b) = (p.from_ns as f64 / 1e9, (p.to_ns as f64 / 1e9).min(0.050));
            if p.reads < 1_000 || b <= a {
                continue;
            }
            let mean_decay = ((-k * a).exp() - (-k * b).exp()) / (k * (b - a));
            let expected = 1.0 - miss(n, w, r) * mean_decay;
            let got = p.fresh as f64 / p.reads as f64;
            let error = (expected * (1.0 - expected) / p.reads as f64).sqrt();
            eprintln!("n={n} w={w} r={r} t in [{a}, {b}) s: fresh {got:.4}, formula {expected:.4}");
            assert!(
                (got - expected).abs() <= 4.0 * error,
                "n={n} w={w} r={r}, t in [{a}, {b}): fresh {got:.4}, formula {expected:.4}"
            );
            bins_checked += 1;
        }
        assert!(bins_checked >= 4, "the curve has enough points: {bins_checked}");
    }
}
