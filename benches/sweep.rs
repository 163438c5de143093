//! Sweep throughput: runs per second of `scenarios/sweep_lag_vs_loss.ron` (110 runs:
//! 11 lags × 2 variants × 5 seeds of 5 simulated minutes, as shipped) on rayon
//! pools of 1 and 2 threads, journal writes included, as `archsim sweep` runs them.
//! The ratio of `sweep/threads/2` to `sweep/threads/1` is how well a sweep keeps both
//! cores busy.

use std::hint::black_box;
use std::path::Path;

use archsim::schema::load_sweep;
use archsim::sweep::Shard;
use archsim::sweep::journal::{Header, Journal};
use archsim::sweep::runner::{fingerprint, load_points, run_all};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench_sweep(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("scenarios/sweep_lag_vs_loss.ron");
    let spec = load_sweep(&path, &[], archsim::schema::sweep::RUNS_MAX).expect("sweep loads");
    let sets: Vec<String> = Vec::new();
    let scenarios = load_points(&path, &spec, &sets).expect("points load");
    let seed = scenarios[0].seed;
    let plans = spec.runs(seed);
    let header =
        Header::new(&spec, fingerprint(&scenarios), (&scenarios[0].name, seed), Shard::WHOLE);
    let dir = std::env::temp_dir().join(format!("archsim-bench-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(plans.len() as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        group.bench_function(format!("threads/{threads}"), |b| {
            b.iter(|| {
                let (journal, _) =
                    Journal::open(&dir.join("runs.jsonl"), &header, false).expect("journal");
                let runs =
                    pool.install(|| run_all(&spec, &scenarios, &plans, None, &journal, &|| {}));
                black_box(runs.expect("runs").len())
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_sweep);
criterion_main!(benches);
