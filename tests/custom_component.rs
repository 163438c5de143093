//! A library user adds a component by implementing `Component` and registering it.

use std::path::Path;

use archsim::check::{OpKind, VersionId};
use archsim::components::registry::CustomSpec;
use archsim::components::{Component, Env, Msg, Registry, Reply, Status, Wiring};
use archsim::engine::SimDuration;
use archsim::run::execute;
use archsim::schema::load_scenario;

/// A store that answers every request after a fixed delay; it keeps every write as a
/// new version on top of what the writer saw, and reads always return the empty root.
struct FixedDelayStore {
    delay: SimDuration,
}

impl Component for FixedDelayStore {
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        let Msg::Request(r) = msg else { return };
        let back = env.add_return_hop(r.return_ns, r.via);
        let version = match r.kind {
            OpKind::Read | OpKind::Control | OpKind::Stream => VersionId::ROOT,
            OpKind::Write => env.create_version(r.op, env.id.0, 0, &[r.seen]),
        };
        let (server, front) = (env.id, env.id);
        let reply = Reply { op: r.op, version, server, source: 0, front, status: Status::Ok };
        env.deliver(SimDuration(self.delay.as_nanos() + back), r.origin, Msg::Reply(reply));
    }
}

fn fixed_delay(spec: &CustomSpec, _: &Wiring) -> Result<Box<dyn Component>, String> {
    let text = spec.params.get("delay").ok_or("`delay` is required")?;
    let delay = SimDuration::parse(text)?;
    Ok(Box::new(FixedDelayStore { delay }))
}

#[test]
fn a_registered_component_serves_requests() {
    let dir = std::env::temp_dir().join(format!("archsim-custom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("model.ron"),
        r#"Model(components: {"svc": Custom(kind: "fixed_delay", params: {"delay": "7ms"})},
                 links: [(from: "client", to: "svc", latency: const("1ms"))])"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("scenario.ron"),
        r#"Scenario(model: "model.ron", duration: "10s", clients: (count: 3, workflow: [write, read]))"#,
    )
    .unwrap();
    let mut registry = Registry::new();
    let path = dir.join("scenario.ron");
    let err = load_scenario(Path::new(&path), &[], &registry).unwrap_err();
    assert!(err.to_string().contains("no custom component kind `fixed_delay`"), "{err}");

    registry.register("fixed_delay", fixed_delay);
    let scenario = load_scenario(Path::new(&path), &[], &registry).unwrap();
    let outcome = execute(&scenario, &registry, true).unwrap();
    let reads = &outcome.history.stats("read").expect("a read row").latency;
    assert!(reads.count() > 100);
    // 1 ms there, 7 ms service, 1 ms back: exactly 9 ms every time.
    assert_eq!((reads.min(), reads.max()), (9_000_000, 9_000_000));
    // Reads return the empty root after the client's own write: all stale.
    assert_eq!(outcome.history.stale_reads(), reads.count());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A component that wakes itself again at the same instant, forever.
struct Spinner;

impl Component for Spinner {
    fn start(&mut self, env: &mut Env<'_>) {
        env.timer(SimDuration::ZERO, Msg::Wake);
    }

    fn on_message(&mut self, _: Msg, env: &mut Env<'_>) {
        env.timer(SimDuration::ZERO, Msg::Wake);
    }
}

fn spinner(_: &CustomSpec, _: &Wiring) -> Result<Box<dyn Component>, String> {
    Ok(Box::new(Spinner))
}

#[test]
fn a_zero_delay_loop_is_stopped_and_named() {
    let dir = std::env::temp_dir().join(format!("archsim-spinner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("model.ron"),
        r#"Model(components: {"spin": Custom(kind: "spinner", params: {}),
                              "svc": Custom(kind: "spinner", params: {})},
                 links: [(from: "client", to: "svc", latency: const("1ms"))])"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("scenario.ron"),
        r#"Scenario(model: "model.ron", duration: "10s", clients: (count: 1, workflow: [read]))"#,
    )
    .unwrap();
    let mut registry = Registry::new();
    registry.register("spinner", spinner);
    let mut scenario = load_scenario(&dir.join("scenario.ron"), &[], &registry).unwrap();
    scenario.limits.same_instant = 100_000;
    let err = execute(&scenario, &registry, false).unwrap_err().to_string();
    assert!(err.contains("100000 events in a row fired at that instant"), "{err}");
    assert!(err.contains("zero-delay loop") && err.contains("0.000 s"), "{err}");
    assert!(err.contains("`spin`") || err.contains("`svc`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A store-like component that answers at once while up, counts what it answered, and
/// stops answering (and answering probes) between a crash and its restart.
struct Crashable {
    up: bool,
    answered: u64,
}

impl Component for Crashable {
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Fault(archsim::components::Fault::Crash) => self.up = false,
            Msg::Fault(archsim::components::Fault::Restart) => self.up = true,
            Msg::Request(r) if self.up => {
                self.answered += 1;
                let back = env.add_return_hop(r.return_ns, r.via);
                let (server, front) = (env.id, env.id);
                let status = Status::Ok;
                let reply =
                    Reply { op: r.op, version: VersionId::ROOT, server, source: 0, front, status };
                env.deliver(SimDuration(back), r.origin, Msg::Reply(reply));
            }
            Msg::Request(r) => env.drop_request(&r),
            _ => {}
        }
    }

    fn is_up(&self) -> bool {
        self.up
    }

    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("answered", self.answered)]
    }
}

fn crashable(_: &CustomSpec, _: &Wiring) -> Result<Box<dyn Component>, String> {
    Ok(Box::new(Crashable { up: true, answered: 0 }))
}

#[test]
fn a_registered_component_is_crashed_and_counted_like_a_built_in() {
    let dir = std::env::temp_dir().join(format!("archsim-crashable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("model.ron"),
        r#"Model(components: {"svc": Custom(kind: "crashable", params: {})},
                 links: [(from: "client", to: "svc", latency: const("1ms"))])"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("scenario.ron"),
        r#"Scenario(model: "model.ron", duration: "10s",
                    clients: (count: 1, think: const("100ms"), timeout: "50ms", workflow: [read]),
                    faults: [crash(target: "svc", at: "2s", restart_after: "3s")])"#,
    )
    .unwrap();
    let mut registry = Registry::new();
    registry.register("crashable", crashable);
    let scenario = load_scenario(&dir.join("scenario.ron"), &[], &registry).unwrap();
    let outcome = execute(&scenario, &registry, true).unwrap();
    let reads = outcome.history.stats("read").expect("a read row");
    // A read every 102 ms while up; the ~3 s down each read times out after 50 ms.
    assert!(reads.unknown > 15, "{} timed out", reads.unknown);
    let counts = &outcome.counts;
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(counts[0].0, "svc");
    assert_eq!(counts[0].1, vec![("answered", reads.latency.count())]);
    std::fs::remove_dir_all(&dir).unwrap();
}
