//! Same scenario and seed, same trace hash: twice in this process (once keeping every
//! operation, whose `--history` must keep Jepsen's one-operation-per-process rule) and
//! once in a child process; a different seed gives a different hash; adding a client
//! does not change a replica's random stream.

mod common;

use std::path::Path;

use archsim::components::{BuiltIn, Registry, World};

#[test]
fn every_scenario_replays_exactly_in_process_and_in_a_child() {
    for path in common::scenario_files() {
        let scenario = common::load(&path, &[]);
        let first = common::run(&scenario).stats;
        // Keeping every operation (`--history`) changes nothing in the run.
        let kept = common::run_keeping_ops(&scenario);
        assert_eq!(first, kept.stats, "{} does not replay in process", path.display());
        // And the history it exports gives each process one operation at a time.
        let lines = archsim::report::history_export::lines(&kept.history).expect("ops kept");
        if let Some(breach) = common::process_rule_breach(&lines) {
            panic!("{}: --history breaks Jepsen's process rule: {breach}", path.display());
        }
        // Nothing crosses documents: no version is built on another key's, and no read
        // of one key returns another's.
        if let Some(crossing) = common::cross_key(&kept.history) {
            panic!("{}: {crossing}", path.display());
        }

        // One seed's run: verdicts judged over the file's seeds may differ from it (0 or
        // 1), the run itself may not fail (2).
        let out = common::archsim(&["run", path.to_str().unwrap(), "--format", "json"]);
        let code = out.status.code();
        assert!(matches!(code, Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json["trace_hash"],
            first.trace_hash.hex(),
            "{} differs in a child",
            path.display()
        );
        assert_eq!(json["events"], first.events);
    }
}

#[test]
fn another_seed_gives_another_trace() {
    let mut scenario = common::load(Path::new("scenarios/stale_read_refresh.ron"), &[]);
    let a = common::run(&scenario).stats.trace_hash;
    scenario.seed = 7;
    let b = common::run(&scenario).stats.trace_hash;
    assert_ne!(a, b);
}

/// The first `n` lag draws of replica 0 of the store `db`, in a world of `clients` clients.
fn replica_draws(clients: u32, n: usize) -> (usize, Vec<u64>) {
    let count = format!("clients.count={clients}");
    let scenario = common::load(Path::new("scenarios/stale_read_refresh.ron"), &[&count]);
    let mut sim = World::build(&scenario, &Registry::new(), false).unwrap();
    let world = &mut sim.actor;
    let (index, store) = world
        .components
        .iter_mut()
        .enumerate()
        .find_map(|(i, c)| match c {
            BuiltIn::Store(s) => Some((i, s)),
            _ => None,
        })
        .expect("the model has a store");
    (index, (0..n).map(|_| store.draw_lag(0)).collect())
}

#[test]
fn adding_a_client_does_not_change_a_replica_stream() {
    let (id_a, a) = replica_draws(200, 50);
    let (id_b, b) = replica_draws(201, 50);
    assert_eq!(id_a, id_b, "components keep their ids when clients are added");
    assert_eq!(a, b);
    // The draws are real lags, not a constant.
    assert!(a.iter().any(|&x| x != a[0]));
}
