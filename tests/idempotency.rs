//! An idempotency key makes the store apply each message once, however late a first
//! attempt arrives and however many messages its client sent since. Here requests cross
//! a link of exp(40 ms) and clients give up after 50 ms and retry at once, so a first
//! attempt often lands after its retry, and sometimes after the client's next message.

mod common;

use std::collections::BTreeMap;

const MODEL: &str = r#"Model(
    name: "a store behind a slow, variable link",
    components: { "db": Store() },
    links: [(from: "client", to: "db", latency: exp("40ms"))],
)"#;

const SCENARIO: &str = r#"Scenario(
    model: "model.ron",
    duration: "1m",
    clients: (
        count: 50,
        think: exp("20ms"),
        timeout: "50ms",
        retry: (attempts: 3, backoff: const("5ms")),
        idempotency_key: true,
        workflow: [write],
    ),
)"#;

/// A scratch folder holding `MODEL` and `SCENARIO` (as `s.ron`).
fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("archsim-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.ron"), MODEL).unwrap();
    std::fs::write(dir.join("s.ron"), SCENARIO).unwrap();
    dir
}

/// How many versions each client message made over the whole run, live or not.
fn applications(scenario: &std::path::Path, seed: u64) -> BTreeMap<(u32, u32), u32> {
    applications_with(scenario, &[&format!("seed={seed}")])
}

/// `applications` with `--set` overrides.
fn applications_with(scenario: &std::path::Path, sets: &[&str]) -> BTreeMap<(u32, u32), u32> {
    let outcome = common::run(&common::load(scenario, sets));
    let dag = outcome.history.dag();
    let mut made = BTreeMap::new();
    for v in dag.ids().filter(|&v| dag.get(v).client != u32::MAX) {
        let x = dag.get(v);
        *made.entry((x.client, x.message)).or_insert(0) += 1;
    }
    made
}

#[test]
fn no_message_is_applied_twice_on_20_seeds() {
    let dir = scratch("idempotency");
    let mut messages = 0;
    for seed in 1..=20 {
        let made = applications(&dir.join("s.ron"), seed);
        let twice: Vec<_> = made.iter().filter(|(_, n)| **n > 1).take(3).collect();
        assert!(
            twice.is_empty(),
            "seed {seed}: (client, message) applied more than once: {twice:?}"
        );
        messages += made.len();
    }
    assert!(messages > 100_000, "only {messages} messages over 20 seeds");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_store_forgets_a_message_after_its_retention_and_applies_a_late_retry_again() {
    let dir = scratch("retention");
    let twice = |retention: &str| {
        let set = format!("db.idempotency_retention={retention}");
        let made = applications_with(&dir.join("s.ron"), &[&set]);
        made.values().filter(|&&n| n > 1).count()
    };
    // Retries come 50 ms or more after the first attempt: a store that remembers 1 ms
    // applies them again; one that remembers a minute (the whole run) never does.
    assert!(twice("\"1ms\"") > 100, "a 1 ms retention forgets nothing");
    assert_eq!(twice("\"1m\""), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
