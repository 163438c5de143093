//! The world: every component instance, its random stream, the topology and the history,
//! built from a validated scenario. It is the engine's `Actor`.
//!
//! Instances are numbered model components first (in name order), then clients, so
//! adding a client never renumbers a component; every random stream is named after its
//! instance, so adding a client never shifts another instance's draws either.

use std::sync::Arc;

use super::arrival_source::ArrivalSource;
use super::client::Workload;
use super::env::Env;
use super::fault_driver::{FaultDriver, PlannedFault};
use super::kind::BuildContext;
use super::kinds::{self, BuiltIn};
use super::message::{Fault, Msg};
use super::purposes;
use super::registry::Registry;
use super::workflow::{Instr, compile};
use super::{Attacker, Client, Component, GateCounts, Load};
use crate::check::fault_coverage::FaultCoverage;
use crate::check::{CheckReport, Checks, Histogram, History, Names};
use crate::engine::{
    Actor, ComponentId, Link, LinkId, Scheduler, Sim, SimDuration, SimTime, Streams, Topology,
};
use crate::model::contract::Contract;
use crate::model::{Endpoint, FaultAction, Population, Scenario, Step};

/// Versions made between two collections at least (fewer in debug builds, so that
/// every test run forgets often and the audit sees it).
const COLLECT_EVERY: usize = if cfg!(debug_assertions) { 256 } else { 1 << 18 };

/// Every instance of a scenario, ready to run.
pub struct World {
    /// Instances by component id.
    pub components: Vec<BuiltIn>,
    rngs: Streams,
    /// The instance graph.
    pub topology: Topology,
    /// Operations, versions and the checkers watching them.
    pub history: History,
    /// When the scenario's duration ends (clients stop starting work).
    pub stop_at: SimTime,
    partition_groups: Vec<Vec<LinkId>>,
    model_components: usize,
    /// Per instance, until when a `pause` stops it (empty when no fault pauses anything,
    /// so the hot loop looks nothing up).
    paused_until: Vec<SimTime>,
    /// The loss each link had before a `packet_loss` changed it.
    own_loss: std::collections::BTreeMap<LinkId, f64>,
    /// The version count at which the run next forgets what no one holds
    /// (`usize::MAX`: never, since some component or checker cannot say what it holds).
    next_collect: usize,
}

impl Actor for World {
    type Msg = Msg;

    #[inline]
    fn on_event(&mut self, target: ComponentId, msg: Msg, sched: &mut Scheduler<Msg>) {
        self.dispatch(target, msg, sched);
        if self.history.dag().len() >= self.next_collect {
            self.collect(sched);
        }
    }
}

impl World {
    #[inline]
    fn dispatch(&mut self, target: ComponentId, msg: Msg, sched: &mut Scheduler<Msg>) {
        match msg {
            Msg::Fault(Fault::Partition { group, cut }) => {
                for &link in &self.partition_groups[group as usize] {
                    self.topology.link_mut(link).partitioned = cut;
                }
                return;
            }
            Msg::Fault(Fault::LinkLoss { group, ppm }) => return self.set_loss(group, ppm),
            Msg::Fault(Fault::Pause(ns)) => {
                let until = sched.now().after(SimDuration(ns));
                let paused = &mut self.paused_until[target.index()];
                *paused = (*paused).max(until);
                return;
            }
            _ => {}
        }
        let paused = self.paused_until.get(target.index()).copied().unwrap_or(SimTime::ZERO);
        if sched.now() < paused {
            // Stopped: the message waits, in order, for the pause to end.
            return sched.at(paused, target, msg);
        }
        if let Msg::Request(r) = msg {
            self.history.reached(r.op, target.0);
        }
        let (component, mut env) = self.parts(target, sched);
        if let Msg::Probe { round, link } = msg {
            // Any component can stand behind a load balancer; the engine answers for it.
            if component.is_up() {
                env.send(link, Msg::ProbeAck { round, link });
            }
            return;
        }
        component.on_message(msg, &mut env);
    }

    /// Forgets the versions no one can ask about again: asks every component and every
    /// message in flight which versions they hold, and has the history settle and
    /// forget the rest (`History::collect`). The next collection comes once as many
    /// versions again as it kept have been made, so the work is a constant per version.
    /// In debug builds, every later question is audited against what was reported
    /// (`VersionDag::take_census`), so every test run checks that holders report all.
    fn collect(&mut self, sched: &Scheduler<Msg>) {
        let mut sources = Vec::new();
        let mut report = |v| sources.push(v);
        if !self.components.iter().all(|c| c.versions_held(&mut report)) {
            self.next_collect = usize::MAX;
            return;
        }
        let key_of = |op| self.history.invocation(op).key;
        sources.extend(sched.queued().filter_map(|(_, msg)| msg.version(key_of)));
        sources.sort_unstable();
        sources.dedup();
        match self.history.collect(&sources, sched.now()) {
            Some(kept) => self.next_collect = self.history.dag().len() + kept.max(COLLECT_EVERY),
            None => self.next_collect = usize::MAX,
        }
    }

    /// Links of group `group` lose `ppm` millionths of their messages, or (`u32::MAX`)
    /// go back to their own loss.
    fn set_loss(&mut self, group: u32, ppm: u32) {
        for &link in &self.partition_groups[group as usize] {
            let l = self.topology.link_mut(link);
            let own = *self.own_loss.entry(link).or_insert(l.loss);
            l.loss = if ppm == u32::MAX { own } else { f64::from(ppm) / 1e6 };
        }
    }

    /// Component `id` and the `Env` it handles an event in.
    #[inline]
    fn parts<'a>(
        &'a mut self,
        id: ComponentId,
        sched: &'a mut Scheduler<Msg>,
    ) -> (&'a mut BuiltIn, Env<'a>) {
        let i = id.index();
        let env =
            Env::new(id, &mut self.rngs, &self.topology, &mut self.history, self.stop_at, sched);
        (&mut self.components[i], env)
    }
}

/// Instance names and the links each component initiates, before components exist.
struct Plan {
    /// The instances (named) and their links.
    topology: Topology,
    /// Per model component, the id of its first instance.
    first: Vec<u32>,
    /// The links each instance initiates, by role of its contract.
    roles: Vec<Vec<Vec<LinkId>>>,
    /// The links each instance accepts, with the role each fills at its sender.
    incoming: Vec<Vec<(LinkId, Option<&'static str>)>>,
    client_entry: Vec<LinkId>,
    /// The attacker's link to the entry point, when a fault steals tokens.
    attacker_entry: Option<LinkId>,
    /// Per client, its link to a sentinel gate (empty without one).
    client_gate: Vec<LinkId>,
    /// The instance links made for each model link, in model order.
    per_model_link: Vec<Vec<LinkId>>,
    /// Instances of model components (they come before the clients).
    model_instances: usize,
    /// The region of every instance, by id (shared with the kinds that route by it).
    regions: Arc<[Option<usize>]>,
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
    if let Some(problem) = kinds::link_problems(model).into_iter().next() {
        return Err(problem.message);
    }
    let clients = &scenario.clients;
    let entries = model.links.iter().filter(|l| l.from == Endpoint::Clients);
    let entries: Vec<&str> =
        entries.filter(|l| !kinds::is_gate(model, &l.to)).map(|l| l.to.as_str()).collect();
    let mut next = 0u32;
    for p in &clients.populations {
        let workflow = clients.workflow_of(p);
        if compile(workflow).is_empty() {
            return Err(format!("the workflow of `{}` has no step", p.name));
        }
        if !workflow.iter().any(|s| !matches!(s, Step::Sleep(_))) {
            return Err(format!("the workflow of `{}` needs at least one write or read", p.name));
        }
        if p.first != next {
            let name = &p.name;
            return Err(format!("population `{name}` does not start where the one before ends"));
        }
        next = next.saturating_add(p.count);
        let found = entries.iter().filter(|&&e| p.entry.as_deref().is_none_or(|x| x == e));
        if found.count() != 1 {
            return Err(format!("population `{}` needs exactly one entry link", p.name));
        }
    }
    if (clients.populations.is_empty() && clients.count > 0) || next != clients.count {
        return Err("the populations do not add up to the client count".into());
    }
    Ok(())
}

/// The region of each instance: a model component's placement (none for one that
/// spans regions itself), a client's population's.
fn instance_regions(scenario: &Scenario, contracts: &[Contract]) -> Vec<Option<usize>> {
    let model = &scenario.model;
    let mut out = Vec::new();
    for (c, contract) in model.components.iter().zip(contracts) {
        let region = model.regions.of(&c.name);
        out.extend((0..contract.instances).map(|_| region));
    }
    for p in &scenario.clients.populations {
        out.extend((0..p.count).map(|_| p.region));
    }
    out
}

fn plan(scenario: &Scenario, contracts: &[Contract]) -> Plan {
    let model = &scenario.model;
    let mut topology = Topology::default();
    // Model components in name order, an app server as `api/0`, `api/1`, ...
    let mut first = Vec::with_capacity(model.components.len());
    let mut name = String::new();
    let mut add = |topology: &mut Topology, args: std::fmt::Arguments| {
        use std::fmt::Write;
        name.clear();
        write!(name, "{args}").expect("writing to a String cannot fail");
        topology.add_node(&name);
    };
    for (c, contract) in model.components.iter().zip(contracts) {
        first.push(topology.node_count() as u32);
        match contract.instances {
            1 => add(&mut topology, format_args!("{}", c.name)),
            n => (0..n).for_each(|i| add(&mut topology, format_args!("{}/{i}", c.name))),
        }
    }
    let model_instances = topology.node_count();
    for i in 0..scenario.clients.count {
        add(&mut topology, format_args!("client/{i}"));
    }
    let attacker = scenario.steals_tokens().then(|| topology.add_node("attacker"));
    topology.add_node("faults");
    // After every other instance, so a closed population's ids stay as they were.
    for p in scenario.clients.populations.iter().filter(|p| p.arrivals.is_some()) {
        add(&mut topology, format_args!("arrivals/{}", p.name));
    }
    let instance_count = topology.node_count();
    let instances_of = |name: &str| {
        let i = model.components.iter().position(|c| c.name == name);
        let i = i.expect("check_buildable resolved every link");
        (first[i]..first[i] + contracts[i].instances).map(ComponentId)
    };
    let link_roles = kinds::link_roles(model, contracts);
    let mut roles: Vec<Vec<Vec<LinkId>>> = vec![Vec::new(); instance_count];
    for (spec, contract) in model.components.iter().zip(contracts) {
        for f in instances_of(&spec.name) {
            roles[f.index()] = vec![Vec::new(); contract.roles.len()];
        }
    }
    let mut incoming = vec![Vec::new(); instance_count];
    let mut client_entry = vec![None; scenario.clients.count as usize];
    let regions = instance_regions(scenario, contracts);
    let region_of = |id: ComponentId| regions.get(id.index()).copied().flatten();
    let mut attacker_entry = None;
    let mut client_gate = Vec::new();
    let mut per_model_link = Vec::new();
    for (spec, &role) in model.links.iter().zip(&link_roles) {
        let link = Link { latency: spec.latency.clone(), loss: spec.loss, partitioned: false };
        let mut made = Vec::new();
        let gate = kinds::is_gate(model, &spec.to);
        let role_name = match &spec.from {
            Endpoint::Component(from) => {
                let i = model.components.iter().position(|c| &c.name == from);
                let contract = &contracts[i.expect("check_buildable resolved every link")];
                role.map(|r| contract.roles[r].name)
            }
            Endpoint::Clients => None,
        };
        let enters = |p: &Population| gate || p.entry.as_ref().is_none_or(|e| e == &spec.to);
        let from: Vec<ComponentId> = match &spec.from {
            Endpoint::Component(from) => instances_of(from).collect(),
            Endpoint::Clients => (scenario.clients.populations.iter().filter(|p| enters(p)))
                .flat_map(|p| p.first..p.first + p.count)
                .map(|i| ComponentId(model_instances as u32 + i))
                .collect(),
        };
        let first_entry = attacker_entry.is_none();
        if let (Some(a), Endpoint::Clients, false, true) = (attacker, &spec.from, gate, first_entry)
        {
            // The attacker comes in where the users do, over a link like theirs (the
            // entry has one instance: `check_buildable` refuses more).
            for to in instances_of(&spec.to).take(1) {
                let id = topology.connect(a, to, link.clone());
                incoming[to.index()].push((id, None));
                attacker_entry = Some(id);
            }
        }
        for &f in &from {
            for to in instances_of(&spec.to) {
                let link = match model.regions.extra(region_of(f), region_of(to)) {
                    Some(extra) => {
                        Link { latency: link.latency.clone().then(extra.clone()), ..link }
                    }
                    None => link.clone(),
                };
                let id = topology.connect(f, to, link);
                match &spec.from {
                    Endpoint::Component(_) => {
                        let r = role.expect("check_buildable gave every link a role");
                        roles[f.index()][r].push(id);
                    }
                    Endpoint::Clients if gate => client_gate.push(id),
                    Endpoint::Clients => {
                        client_entry[f.index() - model_instances] = Some(id);
                    }
                }
                incoming[to.index()].push((id, role_name));
                made.push(id);
            }
        }
        per_model_link.push(made);
    }
    let client_entry: Vec<LinkId> = client_entry
        .into_iter()
        .map(|l| l.expect("check_buildable gave every client one entry"))
        .collect();
    Plan {
        topology,
        first,
        roles,
        incoming,
        client_entry,
        attacker_entry,
        client_gate,
        per_model_link,
        model_instances,
        regions: regions.into(),
    }
}

/// Resolves the scenario's faults to instances; partitions become groups of links.
fn plan_faults(
    scenario: &Scenario,
    plan: &Plan,
    contracts: &[Contract],
) -> Result<(Vec<PlannedFault>, Vec<Vec<LinkId>>), String> {
    let model = &scenario.model;
    // Every instance of the component: a fault on an app server hits all of them.
    // `api` is every instance of `api`; `api/1` is one.
    let component = |target: &str| {
        let (spec, instance) = kinds::fault_target(model, target)
            .ok_or_else(|| format!("fault target `{target}` is not a component"))?;
        let i = model.components.iter().position(|c| c.name == spec.name);
        let i = i.ok_or_else(|| format!("fault target `{target}` is not a component"))?;
        let first = plan.first[i];
        let all = first..first + contracts[i].instances;
        Ok::<Vec<ComponentId>, String>(match instance {
            Some(k) => vec![ComponentId(first + k)],
            None => all.map(ComponentId).collect(),
        })
    };
    let first_client = plan.model_instances as u32;
    let clients: Vec<ComponentId> =
        (0..scenario.clients.count).map(|i| ComponentId(first_client + i)).collect();
    // The last instance: the fault driver, or the last arrival source when a population
    // is open (kept so, as trace hashes record the target).
    let driver = ComponentId(plan.topology.node_count() as u32 - 1);
    let mut groups = Vec::new();
    let mut planned = Vec::new();
    for f in &scenario.faults {
        let p =
            |targets, start, end| PlannedFault { when: f.when, targets, share: 1.0, start, end };
        planned.push(match &f.action {
            FaultAction::Crash { target, replica: None, restart_after } => {
                p(component(target)?, Fault::Crash, restart_after.map(|d| (d, Fault::Restart)))
            }
            FaultAction::Crash { target, replica: Some(r), restart_after } => p(
                component(target)?,
                Fault::CrashReplica(*r),
                restart_after.map(|d| (d, Fault::RestartReplica(*r))),
            ),
            FaultAction::Failover { target, promote } => {
                p(component(target)?, Fault::Failover(*promote), None)
            }
            FaultAction::Isolate { target, heal_after } => p(
                component(target)?,
                Fault::Isolate { cut: true, strike: 0 },
                heal_after.map(|d| (d, Fault::Isolate { cut: false, strike: 0 })),
            ),
            FaultAction::LagSpike { target, factor, lasting } => {
                let milli = (factor * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32;
                p(
                    component(target)?,
                    Fault::LagFactor(milli),
                    Some((*lasting, Fault::LagFactor(1000))),
                )
            }
            FaultAction::Slowdown { target, factor, lasting } => {
                let milli = (factor * 1000.0).round().clamp(1.0, f64::from(u32::MAX)) as u32;
                p(
                    component(target)?,
                    Fault::SlowFactor(milli),
                    Some((*lasting, Fault::SlowFactor(1000))),
                )
            }
            FaultAction::Pause { target, lasting } => {
                p(component(target)?, Fault::Pause(lasting.as_nanos()), None)
            }
            FaultAction::PacketLoss { from, to, share, lasting } => {
                let links = links_between(model, plan, from, to)?;
                let group = groups.len() as u32;
                groups.push(links);
                let ppm = (share * 1e6).round().clamp(1.0, 1e6) as u32;
                let restore = Fault::LinkLoss { group, ppm: u32::MAX };
                p(vec![driver], Fault::LinkLoss { group, ppm }, Some((*lasting, restore)))
            }
            FaultAction::ClockDrift { target, ppm } => {
                let one = target.strip_prefix("client/").and_then(|n| n.parse::<usize>().ok());
                let targets = one.map_or_else(|| clients.clone(), |n| vec![clients[n]]);
                p(targets, Fault::ClockDrift((ppm * 1000.0).round() as i64), None)
            }
            FaultAction::ClockJump { target, by_ns } => {
                let one = target.strip_prefix("client/").and_then(|n| n.parse::<usize>().ok());
                let targets = if target == crate::model::architecture::CLIENTS {
                    clients.clone()
                } else if let Some(n) = one {
                    vec![clients[n]]
                } else {
                    component(target)?
                };
                p(targets, Fault::ClockJump(*by_ns), None)
            }
            FaultAction::Revoke { share } => {
                PlannedFault { share: *share, ..p(clients.clone(), Fault::Revoke, None) }
            }
            FaultAction::StealTokens { share } => {
                PlannedFault { share: *share, ..p(clients.clone(), Fault::StealToken, None) }
            }
            FaultAction::Disconnect { share, lasting } => PlannedFault {
                share: *share,
                ..p(clients.clone(), Fault::Disconnect(lasting.as_nanos()), None)
            },
            FaultAction::DisconnectMidStream { chance, within, lasting } => {
                let ms =
                    |d: &SimDuration| (d.as_nanos() / 1_000_000).min(u64::from(u32::MAX)) as u32;
                let chance_ppm = (chance * 1e6).round().clamp(0.0, 1e6) as u32;
                let start =
                    Fault::MidStream { chance_ppm, within_ms: ms(within), lasting_ms: ms(lasting) };
                p(clients.clone(), start, None)
            }
            FaultAction::Partition { from, to, heal_after } => {
                let links = links_between(model, plan, from, to)?;
                let group = groups.len() as u32;
                groups.push(links);
                let heal = heal_after.map(|d| (d, Fault::Partition { group, cut: false }));
                p(vec![driver], Fault::Partition { group, cut: true }, heal)
            }
        });
    }
    Ok((planned, groups))
}

/// The instance links a model link from `from` to `to` was made into.
fn links_between(
    model: &crate::model::Model,
    plan: &Plan,
    from: &str,
    to: &str,
) -> Result<Vec<LinkId>, String> {
    let links: Vec<LinkId> = (model.links.iter().zip(&plan.per_model_link))
        .filter(|(l, _)| l.to == to && endpoint_name(&l.from) == from)
        .flat_map(|(_, made)| made.iter().copied())
        .collect();
    if links.is_empty() {
        return Err(format!("no link from `{from}` to `{to}`"));
    }
    Ok(links)
}

/// Per fault, the components it can reach: its targets, or for a partition the ends
/// of the links it cuts.
fn fault_reach(
    faults: &[PlannedFault],
    partition_groups: &[Vec<LinkId>],
    topology: &Topology,
) -> Vec<Vec<u32>> {
    faults
        .iter()
        .map(|f| match f.start {
            Fault::Partition { group, .. } | Fault::LinkLoss { group, .. } => partition_groups
                [group as usize]
                .iter()
                .flat_map(|&l| {
                    let (from, to) = topology.ends(l);
                    [from.0, to.0]
                })
                .collect(),
            _ => f.targets.iter().map(|t| t.0).collect(),
        })
        .collect()
}

fn endpoint_name(e: &Endpoint) -> &str {
    match e {
        Endpoint::Clients => crate::model::architecture::CLIENTS,
        Endpoint::Component(name) => name,
    }
}

impl World {
    /// Builds the world of `scenario` and schedules each component's first events.
    ///
    /// `keep_ops` keeps every completed operation in the history (for tests).
    pub fn build(
        scenario: &Scenario,
        registry: &Registry,
        keep_ops: bool,
    ) -> Result<Sim<World>, String> {
        World::build_with(scenario, registry, Checks::new(&scenario.checks), keep_ops)
    }

    /// `build` with the given checkers (a library user may add their own).
    pub fn build_with(
        scenario: &Scenario,
        registry: &Registry,
        checks: Checks,
        keep_ops: bool,
    ) -> Result<Sim<World>, String> {
        // The seed's draw from the swarm joins the fixed faults.
        let drawn;
        let scenario = if scenario.swarm.is_empty() {
            scenario
        } else {
            let faults = scenario.faults_of_run();
            drawn = Scenario { faults, swarm: Vec::new(), ..scenario.clone() };
            &drawn
        };
        check_buildable(scenario)?;
        let contracts = kinds::contracts(&scenario.model);
        let mut plan = plan(scenario, &contracts);
        let (faults, partition_groups) = plan_faults(scenario, &plan, &contracts)?;
        let reach = fault_reach(&faults, &partition_groups, &plan.topology);
        let pauses = faults.iter().any(|f| matches!(f.start, Fault::Pause(_)));
        let key_count = scenario.clients.key_count();
        let mut components = Vec::with_capacity(plan.topology.node_count());
        for (i, (spec, contract)) in scenario.model.components.iter().zip(&contracts).enumerate() {
            let first = plan.first[i] as usize;
            for id in first..first + contract.instances as usize {
                let ctx = BuildContext {
                    scenario,
                    registry,
                    name: &spec.name,
                    contract,
                    roles: std::mem::take(&mut plan.roles[id]),
                    incoming: std::mem::take(&mut plan.incoming[id]),
                    instance_regions: &plan.regions,
                };
                components.push(kinds::build(spec, &ctx)?);
            }
        }
        let Plan { topology, client_entry, attacker_entry, client_gate, model_instances, .. } =
            plan;
        let clients = &scenario.clients;
        let mut sources = topology.node_count()
            - clients.populations.iter().filter(|p| p.arrivals.is_some()).count();
        let workloads: Vec<Arc<Workload>> = (clients.populations.iter())
            .map(|p| {
                let open = p.arrivals.as_ref().map(|_| {
                    sources += 1;
                    (ComponentId(sources as u32 - 1), p.first)
                });
                Arc::new(Workload {
                    open,
                    program: compile(clients.workflow_of(p)),
                    think: clients.think.clone(),
                    timeout: clients.timeout,
                    retry: clients.retry.clone(),
                    breaker: clients.breaker,
                    hedge: clients.hedge,
                    idempotency_key: clients.idempotency_key,
                    session_tokens: clients.session_tokens,
                    clock: clients.clock,
                    auth: clients.auth,
                    attacker: attacker_entry.map(|l| topology.ends(l).0),
                })
            })
            .collect();
        for (p, workload) in clients.populations.iter().zip(&workloads) {
            for i in p.first..p.first + p.count {
                let (key, entry) = (clients.key_of(i), client_entry[i as usize]);
                let client = Client::new(i, key, entry, workload.clone())
                    .with_gate(client_gate.get(i as usize).copied());
                components.push(BuiltIn::Client(client));
            }
        }
        if let Some(entry) = attacker_entry {
            components.push(BuiltIn::Attacker(Attacker::new(entry)));
        }
        components.push(BuiltIn::Faults(FaultDriver::new(faults)));
        for p in clients.populations.iter() {
            if let Some(schedule) = &p.arrivals {
                let first = model_instances as u32 + p.first;
                let ids = (first..first + p.count).map(ComponentId).collect();
                components.push(BuiltIn::Arrivals(ArrivalSource::new(schedule.clone(), ids)));
            }
        }
        let instance_count = topology.node_count();
        let names = (0..instance_count).map(|i| topology.name(ComponentId(i as u32)));
        let rngs = Streams::new(scenario.seed, names, model_instances);
        let mut checks = checks;
        checks.set_key_orgs(&scenario.clients.key_orgs());
        let starts = scenario.clients.populations.iter().map(|p| p.first).collect();
        // Only an edit opens the connection a server pushes over.
        let edits = |w: &Arc<Workload>| {
            w.program.iter().any(|i| matches!(i, Instr::Op(_, p) if *p == purposes::EDIT))
        };
        let mut history = History::new(key_count, checks, keep_ops)
            .with_rows(&super::purposes::ROWS)
            .with_populations(starts)
            .with_editors(workloads.iter().any(edits));
        history.coverage = FaultCoverage::new(reach);
        history.timeline = crate::check::timeline::Timeline::every(scenario.timeline_interval);
        let stop_at = SimTime::ZERO.after(scenario.duration);
        let world = World {
            components,
            rngs,
            topology,
            history,
            stop_at,
            partition_groups,
            model_components: model_instances,
            paused_until: match pauses {
                true => vec![SimTime::ZERO; instance_count],
                false => Vec::new(),
            },
            own_loss: std::collections::BTreeMap::new(),
            next_collect: COLLECT_EVERY,
        };
        let mut sim = Sim::new(world);
        start_all(&mut sim);
        Ok(sim)
    }

    /// The component ids of the stores with no primary (quorum stores), whose requests
    /// the node they reach coordinates.
    pub fn leaderless_stores(&self) -> std::collections::BTreeSet<u32> {
        let leaderless =
            |(i, c): (usize, &BuiltIn)| matches!(c, BuiltIn::QuorumStore(_)).then_some(i as u32);
        self.components.iter().enumerate().filter_map(leaderless).collect()
    }

    /// Whether `msg`, arriving at `target` now, takes effect: a replication of an epoch
    /// a crash or failover ended is ignored by its store (diagrams must not draw it as
    /// delivered).
    pub fn takes_effect(&self, target: ComponentId, msg: &Msg) -> bool {
        match (self.components.get(target.index()), msg) {
            (Some(BuiltIn::Store(store)), Msg::Replicate { replica, version, epoch, .. }) => {
                store.applies_replication(*replica, *version, *epoch)
            }
            _ => true,
        }
    }

    /// The component id of client number `index` (clients follow the model's instances).
    pub fn client_id(&self, index: u32) -> u32 {
        u32::try_from(self.model_components).unwrap_or(u32::MAX).saturating_add(index)
    }

    /// The name of an instance.
    pub fn name(&self, id: ComponentId) -> &str {
        self.topology.name(id)
    }

    /// Reads with a session token that a replica could not honour, over all stores.
    pub fn token_fallbacks(&self) -> u64 {
        let stores = self.components.iter().filter_map(|c| match c {
            BuiltIn::Store(s) => Some(s.token_fallbacks()),
            _ => None,
        });
        stores.sum()
    }

    /// Counts components keep of what they did, by instance name (only instances
    /// that keep some): a store's durable writes, a broker's deliveries, a balancer's
    /// connections, a session cache's lookups.
    pub fn counts(&self) -> Vec<(String, Vec<(&'static str, u64)>)> {
        let mut all = Vec::new();
        for (i, c) in self.components.iter().enumerate() {
            let counts = c.counts();
            if !counts.is_empty() {
                all.push((self.name(ComponentId(i as u32)).to_string(), counts));
            }
        }
        all
    }

    /// Replication lags drawn by every store.
    pub fn replication_lag(&self) -> Histogram {
        let mut all = Histogram::default();
        for c in &self.components {
            if let BuiltIn::Store(s) = c {
                all.merge(s.lags());
            }
        }
        all
    }

    /// What each queue did up to `now`, by name: a store's primary under its own name,
    /// its replicas together as `name replicas`.
    pub fn loads(&self, now: SimTime) -> Vec<(String, Load)> {
        let mut all = Vec::new();
        for (i, c) in self.components.iter().enumerate() {
            let name = self.name(ComponentId(i as u32));
            let loads = c.loads(now).into_iter();
            all.extend(loads.map(|(suffix, l)| (format!("{name}{suffix}"), l)));
        }
        all
    }

    /// What each sentinel gate did, by name, with its usage windows.
    pub fn gates(&self) -> Vec<(String, GateCounts)> {
        let gates = self.components.iter().enumerate().filter_map(|(i, c)| match c {
            BuiltIn::Sentinel(g) => {
                Some((self.name(ComponentId(i as u32)).to_string(), g.gate_counts().clone()))
            }
            _ => None,
        });
        gates.collect()
    }

    /// Runs the end-of-run checks over the stores' final tables, the run having ended
    /// at `ended`.
    pub fn finish_checks(&mut self, ended: SimTime) -> Vec<CheckReport> {
        self.history.dag_mut().end_census();
        let stores: Vec<_> =
            self.components.iter().enumerate().filter_map(|(i, c)| c.end_state(i as u32)).collect();
        let names = Names {
            components: (0..self.model_components)
                .map(|i| self.name(ComponentId(i as u32)).to_string())
                .collect(),
        };
        self.history.finish(&stores, &names, ended)
    }
}

fn start_all(sim: &mut Sim<World>) {
    // Start in id order so the initial events get the same sequence numbers every run.
    let count = sim.actor.components.len();
    for i in 0..count {
        let id = ComponentId(i as u32);
        let (world, sched) = sim.parts();
        let (component, mut env) = world.parts(id, sched);
        component.start(&mut env);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{OpKind, OpRecord, VersionId};
    use crate::components::load_balancer::{LoadBalancerPolicy, LoadBalancerSpec};
    use crate::components::store::{
        ClockSource, ConflictPolicy, Durability, Partition, ReadConsistency, ReplicationMode,
        StoreSpec,
    };
    use crate::engine::{Dist, SimDuration, SimTime};
    use crate::model::{ClientsSpec, ComponentSpec, LinkSpec, Model, Step};

    fn store(name: &str, reads: ReadConsistency) -> ComponentSpec {
        let spec = StoreSpec {
            replicas: 1,
            replication_lag: Dist::constant(10_000_000_000),
            replication_mode: ReplicationMode::Independent,
            replica_ack: Dist::constant(0),
            reads,
            conflict: ConflictPolicy::Overwrite(ClockSource::Server),
            durability: Durability::Wal,
            capacity: None,
            shards: 1,
            partition: Partition::ByOrg,
            idempotency_retention: None,
            failover: None,
        };
        ComponentSpec::new(name, spec)
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
        let model = Model { name: "t".into(), components, links, regions: Default::default() };
        let clients = ClientsSpec::new(1, Dist::constant(1_000_000_000), workflow);
        let scenario = Scenario::new("t", model, clients, 3, SimDuration::from_secs(5));
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
        let v1 = VersionId(1);
        assert_eq!((ops[0].kind(), ops[0].version), (OpKind::Write, v1));
        assert_eq!((ops[1].kind(), ops[1].version, ops[1].stale), (OpKind::Read, v1, false));
        // 1 ms there, 1 ms back, exactly.
        assert_eq!(ops[0].completed.since(ops[0].inv.invoked), SimDuration::from_millis(2));
        let ops = direct(ReadConsistency::AnyReplica);
        // The replica lags 10 s, longer than the run: every read is stale.
        assert_eq!((ops[1].version, ops[1].stale), (VersionId::ROOT, true));
        assert!(ops.iter().filter(|o| o.kind() == OpKind::Read).all(|o| o.stale));
    }

    #[test]
    fn hand_built_scenarios_are_refused_not_panicked_on() {
        let links = vec![link(Endpoint::Clients, "nowhere")];
        let model =
            Model { name: "t".into(), components: vec![], links, regions: Default::default() };
        let clients = ClientsSpec::new(1, Dist::constant(1), vec![Step::Write]);
        let scenario = Scenario::new("t", model, clients, 1, SimDuration::from_secs(1));
        let err = World::build(&scenario, &Registry::new(), false).err().unwrap();
        assert!(err.contains("unknown component `nowhere`"), "{err}");
    }

    #[test]
    fn round_robin_alternates_between_downstreams() {
        let lb = LoadBalancerSpec { policy: LoadBalancerPolicy::RoundRobin, health_check: None };
        let components = vec![
            store("a", ReadConsistency::Primary),
            store("b", ReadConsistency::Primary),
            ComponentSpec::new("lb", lb),
        ];
        let lb_name = || Endpoint::Component("lb".into());
        let links = vec![link(Endpoint::Clients, "lb"), link(lb_name(), "a"), link(lb_name(), "b")];
        let ops = check(components, links, vec![Step::Write]);
        // Writes alternate between two independent stores; each write is based on the
        // client's previous write, which the other store does not hold.
        let stores: Vec<u32> = ops.iter().map(|o| o.store).collect();
        assert_eq!(&stores[..4], &[0, 1, 0, 1]);
    }
}
