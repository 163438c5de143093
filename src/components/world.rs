//! The world: every component instance, its random stream, the topology and the history,
//! built from a validated scenario. It is the engine's `Actor`.
//!
//! Instances are numbered model components first (in name order), then clients, so
//! adding a client never renumbers a component; every random stream is named after its
//! instance, so adding a client never shifts another instance's draws either.

use std::sync::Arc;

use super::client::Workload;
use super::env::Env;
use super::message::Msg;
use super::registry::{Registry, Wiring};
use super::{Client, Component, LoadBalancer, Store};
use crate::check::History;
use crate::engine::{Actor, ComponentId, Link, LinkId, Scheduler, Sim, Stream, Topology};
use crate::model::{ComponentKind, Endpoint, KeyChoice, ReadConsistency, Scenario};

/// A component instance: a built-in, or a user component behind the trait.
pub enum BuiltIn {
    /// A simulated user.
    Client(Client),
    /// A request spreader.
    LoadBalancer(LoadBalancer),
    /// A primary/replica store.
    Store(Store),
    /// A component from the registry.
    Custom(Box<dyn Component>),
}

impl Component for BuiltIn {
    fn start(&mut self, env: &mut Env<'_>) {
        match self {
            BuiltIn::Client(c) => c.start(env),
            BuiltIn::LoadBalancer(c) => c.start(env),
            BuiltIn::Store(c) => c.start(env),
            BuiltIn::Custom(c) => c.start(env),
        }
    }

    #[inline]
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match self {
            BuiltIn::Client(c) => c.on_message(msg, env),
            BuiltIn::LoadBalancer(c) => c.on_message(msg, env),
            BuiltIn::Store(c) => c.on_message(msg, env),
            BuiltIn::Custom(c) => c.on_message(msg, env),
        }
    }
}

/// Every instance of a scenario, ready to run.
pub struct World {
    /// Instances by component id.
    pub components: Vec<BuiltIn>,
    rngs: Vec<Stream>,
    /// The instance graph.
    pub topology: Topology,
    /// Completed operations.
    pub history: History,
}

impl Actor for World {
    type Msg = Msg;

    #[inline]
    fn on_event(&mut self, target: ComponentId, msg: Msg, sched: &mut Scheduler<Msg>) {
        let i = target.index();
        let mut env = Env {
            id: target,
            rng: &mut self.rngs[i],
            topology: &self.topology,
            history: &mut self.history,
            sched,
        };
        self.components[i].on_message(msg, &mut env);
    }
}

/// Instance names and the links each component initiates, before components exist.
struct Plan {
    topology: Topology,
    names: Vec<String>,
    outgoing: Vec<Vec<LinkId>>,
    client_entry: Vec<LinkId>,
}

/// Refuses a hand-built scenario that the loader would have refused, so a library user
/// gets an error instead of a component's assertion.
fn check_buildable(scenario: &Scenario) -> Result<(), String> {
    let model = &scenario.model;
    let known = |name: &str| model.component(name).is_some();
    for l in &model.links {
        if let Endpoint::Component(from) = &l.from {
            if !known(from) {
                return Err(format!("link from unknown component `{from}`"));
            }
        }
        if !known(&l.to) {
            return Err(format!("link to unknown component `{}`", l.to));
        }
    }
    if model.links.iter().filter(|l| l.from == Endpoint::Clients).count() != 1 {
        return Err("exactly one link must start at the clients".into());
    }
    if !scenario.clients.workflow.iter().any(|s| !matches!(s, crate::model::Step::Sleep(_))) {
        return Err("the workflow needs at least one write or read".into());
    }
    for spec in &model.components {
        let has_downstream =
            model.links.iter().any(|l| l.from == Endpoint::Component(spec.name.clone()));
        match &spec.kind {
            ComponentKind::LoadBalancer(_) if !has_downstream => {
                return Err(format!("load balancer `{}` has no downstream link", spec.name));
            }
            ComponentKind::Store(s)
                if s.reads == ReadConsistency::AnyReplica && s.replicas == 0 =>
            {
                return Err(format!("store `{}` reads from replicas but has none", spec.name));
            }
            _ => {}
        }
    }
    Ok(())
}

fn plan(scenario: &Scenario) -> Plan {
    let model = &scenario.model;
    let mut topology = Topology::default();
    let mut names: Vec<String> = model.components.iter().map(|c| c.name.clone()).collect();
    names.extend((0..scenario.clients.count).map(|i| format!("client/{i}")));
    for name in &names {
        topology.add_node(name);
    }
    let index_of = |name: &str| {
        let i = model.components.iter().position(|c| c.name == name);
        ComponentId(i.expect("check_buildable resolved every link") as u32)
    };
    let mut outgoing = vec![Vec::new(); names.len()];
    let mut client_entry = Vec::new();
    for spec in &model.links {
        let to = index_of(&spec.to);
        let link = Link { latency: spec.latency.clone(), loss: spec.loss, partitioned: false };
        match &spec.from {
            Endpoint::Component(from) => {
                let from = index_of(from);
                outgoing[from.index()].push(topology.connect(from, to, link));
            }
            Endpoint::Clients => {
                for i in 0..scenario.clients.count {
                    let from = ComponentId((model.components.len() as u32) + i);
                    client_entry.push(topology.connect(from, to, link.clone()));
                }
            }
        }
    }
    assert_eq!(client_entry.len(), scenario.clients.count as usize, "one entry link per client");
    Plan { topology, names, outgoing, client_entry }
}

impl World {
    /// Builds the world of `scenario` and schedules each component's first events.
    ///
    /// `keep_ops` keeps every operation in the history (for checkers and tests).
    pub fn build(
        scenario: &Scenario,
        registry: &Registry,
        keep_ops: bool,
    ) -> Result<Sim<World>, String> {
        check_buildable(scenario)?;
        let Plan { topology, names, outgoing, client_entry } = plan(scenario);
        let key_count = scenario.clients.key_count();
        let mut components = Vec::with_capacity(names.len());
        for (i, spec) in scenario.model.components.iter().enumerate() {
            let built = match &spec.kind {
                ComponentKind::LoadBalancer(lb) => {
                    BuiltIn::LoadBalancer(LoadBalancer::new(lb.policy, outgoing[i].clone()))
                }
                ComponentKind::Store(s) => {
                    BuiltIn::Store(Store::new(&spec.name, s, key_count, scenario.seed))
                }
                ComponentKind::Custom(c) => {
                    let factory = registry
                        .get(&c.kind)
                        .ok_or_else(|| format!("no custom component kind `{}`", c.kind))?;
                    let wiring = Wiring {
                        name: spec.name.clone(),
                        outgoing: outgoing[i].clone(),
                        seed: scenario.seed,
                    };
                    BuiltIn::Custom(factory(c, &wiring)?)
                }
            };
            components.push(built);
        }
        let clients = &scenario.clients;
        let workload = Arc::new(Workload {
            workflow: clients.workflow.clone(),
            think: clients.think.clone(),
            timeout: clients.timeout,
        });
        for (i, &entry) in client_entry.iter().enumerate() {
            let key = match clients.key {
                KeyChoice::Own => i as u32,
                KeyChoice::Shared => 0,
            };
            let client = Client::new(i as u32, key, entry, workload.clone());
            components.push(BuiltIn::Client(client));
        }
        let rngs = names.iter().map(|n| Stream::new(scenario.seed, n)).collect();
        let history = History::new(key_count, keep_ops);
        let mut sim = Sim::new(World { components, rngs, topology, history });
        start_all(&mut sim);
        Ok(sim)
    }

    /// The name of an instance.
    pub fn name(&self, id: ComponentId) -> &str {
        self.topology.name(id)
    }
}

fn start_all(sim: &mut Sim<World>) {
    // Start in id order so the initial events get the same sequence numbers every run.
    let count = sim.actor.components.len();
    for i in 0..count {
        let id = ComponentId(i as u32);
        let (world, sched) = sim.parts();
        let mut env = Env {
            id,
            rng: &mut world.rngs[i],
            topology: &world.topology,
            history: &mut world.history,
            sched,
        };
        world.components[i].start(&mut env);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{OpKind, OpRecord};
    use crate::engine::{Dist, SimDuration, SimTime};
    use crate::model::{
        ClientsSpec, ComponentSpec, LinkSpec, LoadBalancerPolicy, LoadBalancerSpec, Model,
        ReadConsistency, Step, StoreSpec,
    };

    fn store(name: &str, reads: ReadConsistency) -> ComponentSpec {
        let spec =
            StoreSpec { replicas: 1, replication_lag: Dist::constant(10_000_000_000), reads };
        ComponentSpec { name: name.into(), kind: ComponentKind::Store(spec) }
    }

    fn link(from: Endpoint, to: &str) -> LinkSpec {
        LinkSpec { from, to: to.into(), latency: Dist::constant(1_000_000), loss: 0.0 }
    }

    /// Runs one client with `workflow` for 5 s against `components` wired by `links`.
    fn check(
        components: Vec<ComponentSpec>,
        links: Vec<LinkSpec>,
        workflow: Vec<Step>,
    ) -> Vec<OpRecord> {
        let model = Model { name: "t".into(), components, links };
        let clients = ClientsSpec {
            count: 1,
            key: KeyChoice::Own,
            think: Dist::constant(1_000_000_000),
            timeout: None,
            workflow,
        };
        let scenario = Scenario {
            name: "t".into(),
            path: "t.ron".into(),
            model,
            seed: 3,
            duration: SimDuration::from_secs(5),
            clients,
            cli_overrides: Vec::new(),
        };
        let mut sim = World::build(&scenario, &Registry::new(), true).unwrap();
        sim.run_until(SimTime::ZERO.after(scenario.duration));
        sim.actor.history.ops().unwrap().to_vec()
    }

    #[test]
    fn primary_reads_see_the_write_and_lagging_replicas_do_not() {
        let direct = |reads| {
            let links = vec![link(Endpoint::Clients, "db")];
            check(vec![store("db", reads)], links, vec![Step::Write, Step::Read])
        };
        let ops = direct(ReadConsistency::Primary);
        assert_eq!((ops[0].kind, ops[0].version), (OpKind::Write, 1));
        assert_eq!((ops[1].kind, ops[1].version, ops[1].stale), (OpKind::Read, 1, false));
        // 1 ms there, 1 ms back, exactly.
        assert_eq!(ops[0].completed.since(ops[0].invoked), SimDuration::from_millis(2));
        let ops = direct(ReadConsistency::AnyReplica);
        // The replica lags 10 s, longer than the run: every read is stale.
        assert_eq!((ops[1].version, ops[1].stale), (0, true));
        assert!(ops.iter().filter(|o| o.kind == OpKind::Read).all(|o| o.stale));
    }

    #[test]
    fn hand_built_scenarios_are_refused_not_panicked_on() {
        let links = vec![link(Endpoint::Clients, "nowhere")];
        let model = Model { name: "t".into(), components: vec![], links };
        let clients = ClientsSpec {
            count: 1,
            key: KeyChoice::Own,
            think: Dist::constant(1),
            timeout: None,
            workflow: vec![Step::Write],
        };
        let scenario = Scenario {
            name: "t".into(),
            path: "t.ron".into(),
            model,
            seed: 1,
            duration: SimDuration::from_secs(1),
            clients,
            cli_overrides: Vec::new(),
        };
        let err = World::build(&scenario, &Registry::new(), false).err().unwrap();
        assert!(err.contains("unknown component `nowhere`"), "{err}");
    }

    #[test]
    fn round_robin_alternates_between_downstreams() {
        let lb = LoadBalancerSpec { policy: LoadBalancerPolicy::RoundRobin };
        let components = vec![
            store("a", ReadConsistency::Primary),
            store("b", ReadConsistency::Primary),
            ComponentSpec { name: "lb".into(), kind: ComponentKind::LoadBalancer(lb) },
        ];
        let lb_name = || Endpoint::Component("lb".into());
        let links = vec![link(Endpoint::Clients, "lb"), link(lb_name(), "a"), link(lb_name(), "b")];
        let ops = check(components, links, vec![Step::Write]);
        // Writes alternate between two independent stores, so versions go 1, 1, 2, 2, ...
        let versions: Vec<u64> = ops.iter().map(|o| o.version).collect();
        assert_eq!(&versions[..4], &[1, 1, 2, 2]);
    }
}
