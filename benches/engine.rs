//! Engine throughput.
//!
//! * `replica_reads/N`: events per second on the stale-read workload
//!   (`scenarios/replica_reads_loop.ron`: write, read back from a random replica, think
//!   exp(500 ms); replicas lag exp(2 s)) at N = 1 000, 10 000 and 100 000 clients, with
//!   the trace hash on, as `archsim run` does. World construction is outside the timing.
//! * `checking/100000/{all_checkers,no_checkers}`: the 100 000-client workload run to
//!   its end (duration, drain, end-of-run checks) with every checker and with none.
//! * `whole_run/N`: what a user runs, on the peers' workload
//!   (`scenarios/bench_stale_read.ron`): load the files, build the world, run, drain,
//!   every checker's end-of-run work, at N = 1 000 clients × 600 s and 100 000 × 6 s
//!   (the sizes `../shared/peers/side_by_side.py` compares).
//! * `queue/KIND/P`: push+pop pairs per second on the bare queue holding P events
//!   (the classic hold model: pop the earliest, push it back a random exp(1 ms) later),
//!   for the radix heap the engine uses and a binary heap on `(time, seq)`.

use std::hint::black_box;
use std::path::Path;

use archsim::check::{CheckSpec, Checks};
use archsim::components::{Registry, World};
use archsim::engine::{Dist, EventQueue, HeapQueue, RadixQueue, SimTime, Stream};
use archsim::model::Scenario;
use archsim::run::{execute, run_world};
use archsim::schema::load_scenario;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn scenario(clients: u32, duration: &str) -> Scenario {
    scenario_file("scenarios/replica_reads_loop.ron", clients, duration)
}

fn scenario_file(file: &str, clients: u32, duration: &str) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets = vec![format!("clients.count={clients}"), format!("duration={duration}")];
    load_scenario(&root.join(file), &sets, &Registry::new()).expect("benchmark scenario loads")
}

/// The whole of `archsim run` but the printing: load, build, run, drain, check.
fn bench_whole_run(c: &mut Criterion) {
    let mut group = c.benchmark_group("whole_run");
    group.sample_size(10);
    for (clients, duration) in [(1_000, "600s"), (100_000, "6s")] {
        let file = "scenarios/bench_stale_read.ron";
        let events = execute(&scenario_file(file, clients, duration), &Registry::new(), false)
            .expect("runs")
            .stats
            .events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(format!("{clients}"), |b| {
            b.iter(|| {
                let s = scenario_file(file, clients, duration);
                black_box(execute(&s, &Registry::new(), false).expect("runs").stats.trace_hash)
            })
        });
    }
    group.finish();
}

fn run_once(s: &Scenario) -> u64 {
    let mut sim = World::build(s, &Registry::new(), false).expect("world builds");
    sim.run_until(SimTime::ZERO.after(s.duration)).events
}

fn bench_workload(c: &mut Criterion) {
    let mut group = c.benchmark_group("replica_reads");
    group.sample_size(10);
    // Shorter simulated spans at larger sizes keep one iteration near 1-3 s.
    for (clients, duration) in [(1_000, "600s"), (10_000, "60s"), (100_000, "10s")] {
        let s = scenario(clients, duration);
        let events = run_once(&s);
        group.throughput(Throughput::Elements(events));
        group.bench_function(format!("{clients}"), |b| {
            b.iter_batched(
                || World::build(&s, &Registry::new(), false).expect("world builds"),
                |mut sim| black_box(sim.run_until(SimTime::ZERO.after(s.duration)).trace_hash),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// The 100 000-client workload with every checker and with none: what checking costs.
fn bench_checking(c: &mut Criterion) {
    let mut group = c.benchmark_group("checking");
    group.sample_size(10);
    let s = scenario(100_000, "10s");
    let events = run_once(&s);
    group.throughput(Throughput::Elements(events));
    for (name, specs) in [("all_checkers", CheckSpec::ALL.as_slice()), ("no_checkers", &[])] {
        group.bench_function(format!("100000/{name}"), |b| {
            b.iter_batched(
                || {
                    World::build_with(&s, &Registry::new(), Checks::new(specs), false)
                        .expect("world builds")
                },
                |sim| {
                    black_box(
                        run_world(sim, &s, |_, _| {}).expect("within limits").stats.trace_hash,
                    )
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn hold<Q: EventQueue<u32>>(queue: &mut Q, rng: &mut Stream, delay: &Dist, ops: u64) -> u64 {
    let mut last = 0;
    for _ in 0..ops {
        let e = queue.pop().expect("hold model keeps the queue full");
        last = e.at;
        queue.push(e.at + delay.sample(rng), e.item);
    }
    last
}

fn filled<Q: EventQueue<u32> + Default>(pending: u32, rng: &mut Stream, delay: &Dist) -> Q {
    let mut q = Q::default();
    for i in 0..pending {
        q.push(delay.sample(rng), i);
    }
    q
}

fn bench_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue");
    let delay = Dist::Exp { mean_ns: 1e6 };
    const OPS: u64 = 1_000_000;
    group.throughput(Throughput::Elements(OPS));
    group.sample_size(10);
    for pending in [1_000u32, 1_000_000] {
        group.bench_function(format!("radix/{pending}"), |b| {
            let mut rng = Stream::new(1, "bench");
            let mut q: RadixQueue<u32> = filled(pending, &mut rng, &delay);
            b.iter(|| black_box(hold(&mut q, &mut rng, &delay, OPS)))
        });
        group.bench_function(format!("binary_heap/{pending}"), |b| {
            let mut rng = Stream::new(1, "bench");
            let mut q: HeapQueue<u32> = filled(pending, &mut rng, &delay);
            b.iter(|| black_box(hold(&mut q, &mut rng, &delay, OPS)))
        });
    }
    group.finish();
}

/// The logarithm behind every exponential draw, beside `libm`'s, and a whole draw.
fn bench_sampling(c: &mut Criterion) {
    const DRAWS: usize = 1 << 16;
    let mut group = c.benchmark_group("sampling");
    group.throughput(Throughput::Elements(DRAWS as u64));
    let mut rng = Stream::new(1, "bench-sampling");
    let inputs: Vec<f64> = (0..DRAWS).map(|_| 1.0 - rng.unit()).collect();
    group.bench_function("ln", |b| {
        b.iter(|| inputs.iter().map(|&x| archsim::engine::ln::ln(x)).sum::<f64>())
    });
    group.bench_function("libm_log", |b| {
        b.iter(|| inputs.iter().map(|&x| libm::log(x)).sum::<f64>())
    });
    group.bench_function("libm_log1p", |b| {
        b.iter(|| inputs.iter().map(|&x| libm::log1p(x - 1.0)).sum::<f64>())
    });
    group.bench_function("unit", |b| b.iter(|| (0..DRAWS).map(|_| rng.unit()).sum::<f64>()));
    let exp = Dist::Exp { mean_ns: 5e8 };
    group.bench_function("exp_draw", |b| {
        b.iter(|| (0..DRAWS).map(|_| exp.sample(&mut rng)).fold(0u64, u64::wrapping_add))
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_workload,
    bench_checking,
    bench_whole_run,
    bench_queue,
    bench_sampling
);
criterion_main!(benches);
