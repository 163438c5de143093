//! A bench for one component's unit tests: the component under test, probes standing
//! for its callers and callees, a script of messages, and what reached the probes.
//!
//! The component is instance 0; probes are instances 1, 2, ... A link from probe `p`
//! to the component (or from the component to a probe) has zero latency, so a test's
//! expected times are the component's own. Probes record what they receive and answer
//! nothing unless the script says so.

use super::Component;
use super::env::Env;
use super::kinds::BuiltIn;
use super::message::{Msg, Reply, Request, Status};
use super::purposes;
use crate::check::{
    Checks, History, Invocation, OpId, OpKind, OpRecord, Purpose, Sighting, VersionId,
};
use crate::engine::{
    Actor, ComponentId, Dist, Link, LinkId, Scheduler, Sim, SimDuration, SimTime, Streams, Topology,
};

/// The component under test.
pub const UNDER_TEST: ComponentId = ComponentId(0);

/// One message a probe received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// When.
    pub at: SimTime,
    /// Which probe.
    pub probe: ComponentId,
    /// What.
    pub msg: Msg,
}

/// The world of a bench: the component, its probes, and what reached them.
pub struct BenchWorld {
    /// The component under test.
    pub component: BuiltIn,
    rngs: Streams,
    topology: Topology,
    /// Operations and versions, as in a run.
    pub history: History,
    /// What the probes received, in order.
    pub received: Vec<Received>,
}

impl Actor for BenchWorld {
    type Msg = Msg;

    fn on_event(&mut self, target: ComponentId, msg: Msg, sched: &mut Scheduler<Msg>) {
        if target != UNDER_TEST {
            self.received.push(Received { at: sched.now(), probe: target, msg });
            return;
        }
        let (component, mut env) = self.parts(sched);
        component.on_message(msg, &mut env);
    }
}

impl BenchWorld {
    /// The component under test and the `Env` it handles an event in.
    fn parts<'a>(&'a mut self, sched: &'a mut Scheduler<Msg>) -> (&'a mut BuiltIn, Env<'a>) {
        let env = Env::new(
            UNDER_TEST,
            &mut self.rngs,
            &self.topology,
            &mut self.history,
            SimTime(u64::MAX),
            sched,
        );
        (&mut self.component, env)
    }
}

/// Links of a bench, by what they join.
pub struct BenchLinks {
    /// From each probe to the component, in probe order (the callers' links).
    pub callers: Vec<LinkId>,
    /// From the component to each probe, in probe order (its own links).
    pub callees: Vec<LinkId>,
}

/// Builds a bench of `probes` probes over `keys` keys; `make` builds the component
/// from the links (callers' and its own), which exist before it does.
pub fn bench(
    probes: u32,
    keys: u32,
    make: impl FnOnce(&BenchLinks) -> BuiltIn,
) -> (Sim<BenchWorld>, BenchLinks) {
    let mut topology = Topology::default();
    topology.add_node("under_test");
    let zero = Link { latency: Dist::constant(0), loss: 0.0, partitioned: false };
    let mut links = BenchLinks { callers: Vec::new(), callees: Vec::new() };
    for p in 1..=probes {
        let probe = topology.add_node(&format!("probe/{p}"));
        links.callers.push(topology.connect(probe, UNDER_TEST, zero.clone()));
    }
    for p in 1..=probes {
        links.callees.push(topology.connect(UNDER_TEST, ComponentId(p), zero.clone()));
    }
    let component = make(&links);
    let history = History::new(keys, Checks::default(), true);
    let rngs = Streams::new(1, ["under_test"].into_iter(), 1);
    let world = BenchWorld { component, rngs, topology, history, received: Vec::new() };
    let mut sim = Sim::new(world);
    start(&mut sim);
    (sim, links)
}

fn start(sim: &mut Sim<BenchWorld>) {
    let (world, sched) = sim.parts();
    let (component, mut env) = world.parts(sched);
    component.start(&mut env);
}

/// Sends a request of `kind` on `key` from the probe at the far end of `via` at `at`,
/// recorded in the history as a client's write or read; returns its operation.
pub fn request(
    sim: &mut Sim<BenchWorld>,
    at: SimTime,
    via: LinkId,
    kind: OpKind,
    key: u32,
) -> OpId {
    request_for(sim, at, via, (kind, purposes::WRITE), key)
}

/// `request` with the purpose the history records (a session lookup, a save...); the
/// probe's id is the client's.
pub fn request_for(
    sim: &mut Sim<BenchWorld>,
    at: SimTime,
    via: LinkId,
    (kind, purpose): (OpKind, Purpose),
    key: u32,
) -> OpId {
    request_flagged(sim, at, via, (kind, purpose), key, 0)
}

/// `request_for` with the request's flags (an idempotency key, a session token); every
/// request of a probe is its message 0, so two idempotent writes are one and its retry.
pub fn request_flagged(
    sim: &mut Sim<BenchWorld>,
    at: SimTime,
    via: LinkId,
    (kind, purpose): (OpKind, Purpose),
    key: u32,
    flags: u8,
) -> OpId {
    let (world, sched) = sim.parts();
    let origin = world.topology.ends(via).0;
    let op = world.history.invoke(Invocation {
        client: origin.0,
        session: 0,
        kind,
        purpose,
        key,
        message: 0,
        attempt: 1,
        seen: Sighting::NOTHING,
        stamp: at.as_nanos() as i64,
        invoked: at,
        invoke_event: 0,
        newest: VersionId::ROOT,
        token: SimTime::ZERO,
    });
    let r = Request { origin, op, key, via, seen: VersionId::ROOT, return_ns: 0, kind, flags };
    sched.at(at, UNDER_TEST, Msg::Request(r));
    op
}

/// A client's write of `key` invoked at `at`, recorded in the history with nothing
/// sent: a test then makes a store version of it as the store would.
pub fn write_op(sim: &mut Sim<BenchWorld>, at: SimTime, client: u32, key: u32) -> OpId {
    sim.actor.history.invoke(Invocation {
        client,
        session: 0,
        kind: OpKind::Write,
        purpose: purposes::WRITE,
        key,
        message: 0,
        attempt: 1,
        seen: Sighting::NOTHING,
        stamp: 0,
        invoked: at,
        invoke_event: 0,
        newest: VersionId::ROOT,
        token: SimTime::ZERO,
    })
}

/// Schedules `msg` to the component at `at`.
pub fn deliver(sim: &mut Sim<BenchWorld>, at: SimTime, msg: Msg) {
    sim.scheduler().at(at, UNDER_TEST, msg);
}

/// Runs the script up to `until`.
pub fn run(sim: &mut Sim<BenchWorld>, until: SimTime) {
    sim.run_until(until);
}

/// The replies probes received: (when, which probe, status, version).
pub fn replies(sim: &Sim<BenchWorld>) -> Vec<(SimTime, ComponentId, Status, VersionId)> {
    let replies = sim.actor.received.iter().filter_map(|r| match r.msg {
        Msg::Reply(Reply { status, version, .. }) => Some((r.at, r.probe, status, version)),
        _ => None,
    });
    replies.collect()
}

/// The last request `probe` received (any probe's, with `None`).
pub fn last_request(sim: &Sim<BenchWorld>, probe: Option<ComponentId>) -> Request {
    let requests = sim.actor.received.iter().rev().filter(|r| probe.is_none_or(|p| p == r.probe));
    let mut last = requests.filter_map(|r| match r.msg {
        Msg::Request(q) => Some(q),
        _ => None,
    });
    last.next().expect("a probe received a request")
}

/// The probe `server` answers `request` with `status` at `at`, as a store would: an
/// `Ok` write creates a version on top of what the request saw; anything else answers
/// `version`. Returns the version answered.
pub fn answer(
    sim: &mut Sim<BenchWorld>,
    at: SimTime,
    (server, status): (ComponentId, Status),
    request: Request,
    version: VersionId,
) -> VersionId {
    let writes = status == Status::Ok && request.kind == OpKind::Write;
    let version = match writes {
        true => sim.actor.history.create_version(request.op, server.0, 0, &[request.seen], at, 0),
        false => version,
    };
    let reply = Reply { op: request.op, version, server, source: 0, front: server, status };
    deliver(sim, at, Msg::Reply(reply));
    version
}

/// Every operation completed so far, in completion order.
pub fn ops(sim: &Sim<BenchWorld>) -> Vec<OpRecord> {
    sim.actor.history.ops().expect("the bench keeps operations").to_vec()
}

/// Milliseconds as simulated time.
pub fn ms(n: u64) -> SimTime {
    SimTime::ZERO.after(SimDuration::from_millis(n))
}
