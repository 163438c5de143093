//! A load balancer: forwards each request to one of its downstream links, chosen by its
//! policy for every request:
//!
//! - `round_robin`: each downstream in turn;
//! - `random`: one drawn uniformly;
//! - `least_outstanding`: the one with the fewest requests forwarded and not yet
//!   answered (join the shortest queue), ties in turn;
//! - `power_of_two`: two drawn at random, the one of them with fewer outstanding;
//! - `least_connections`: like `least_outstanding` for plain requests (an HTTP request
//!   holds its connection), and the fewest open WebSockets for a `connect`;
//! - `sticky`: the downstream the client used last (session affinity), chosen in turn
//!   the first time or when it is marked down;
//! - `hash_key`: consistent hashing on the request's key (`ring.rs`), so each key has
//!   one home downstream.
//!
//! Under the policies that count outstanding requests the balancer is a proxy: the
//! reply comes back through it, one event more per request, so it knows when a
//! downstream is done. A request with no reply within `FORGET` stops counting, as a
//! proxy's upstream timeout would end it. Under the other policies the reply does not
//! pass back through the balancer as an event, but its return hop's latency is drawn
//! here and carried in the request.
//!
//! WebSocket connections are long-lived: a `connect` picks a downstream by the policy
//! and pins the client to it, and the client's edits follow the pin, as they would on
//! one upgraded TCP connection. A reconnect picks again: round-robin sends it to the
//! next server in turn, least-connections to the server with the fewest open
//! connections, and sticky back to the server the client used last, unless that server
//! is marked down.
//!
//! With health checks, every `every` the balancer probes each downstream; one that did
//! not answer the previous round's probe is marked down and gets no new connection or
//! request until it answers again. Connections already open stay where they are: the
//! editor notices a dead server only when its own requests go unanswered.

mod ring;

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Msg, RETURN_LOST, Reply, Request};
use super::purposes;
use crate::check::{OpId, Purpose};
use crate::engine::{ComponentId, LinkId, SimDuration, SimTime};
use crate::model::contract::{Choice, Contract, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// Load balancer parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct RawLoadBalancer {
    /// How to pick a downstream.
    #[serde(default)]
    pub policy: LoadBalancerPolicy,
    /// Probe interval: `health_check: "5s"`.
    #[serde(default)]
    pub health_check: Option<Dur>,
}

/// Load balancer parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadBalancerSpec {
    /// How the next downstream is chosen.
    pub policy: LoadBalancerPolicy,
    /// Probe each downstream this often and send nothing new to one that missed its
    /// last probe; `None`: no health checks.
    pub health_check: Option<crate::engine::SimDuration>,
}

/// How a load balancer picks a downstream (its file shape too).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "policy")]
pub enum LoadBalancerPolicy {
    /// Each downstream in turn.
    #[default]
    RoundRobin,
    /// One drawn uniformly.
    Random,
    /// The fewest requests forwarded and not yet answered (join the shortest queue).
    LeastOutstanding,
    /// Two drawn at random, the one with fewer outstanding.
    PowerOfTwo,
    /// Session affinity: a client goes back to the downstream it last used.
    Sticky,
    /// Plain requests as `LeastOutstanding`; a new WebSocket to the downstream with the
    /// fewest open connections.
    LeastConnections,
    /// Consistent hashing on the request's key.
    HashKey,
}

impl LoadBalancerPolicy {
    /// Whether it counts the requests each downstream has in flight, so replies come
    /// back through the balancer.
    pub fn counts_outstanding(self) -> bool {
        matches!(
            self,
            LoadBalancerPolicy::LeastOutstanding
                | LoadBalancerPolicy::PowerOfTwo
                | LoadBalancerPolicy::LeastConnections
        )
    }

    /// Its name in files.
    pub fn name(self) -> &'static str {
        match self {
            LoadBalancerPolicy::RoundRobin => "round_robin",
            LoadBalancerPolicy::Random => "random",
            LoadBalancerPolicy::LeastOutstanding => "least_outstanding",
            LoadBalancerPolicy::PowerOfTwo => "power_of_two",
            LoadBalancerPolicy::Sticky => "sticky",
            LoadBalancerPolicy::LeastConnections => "least_connections",
            LoadBalancerPolicy::HashKey => "hash_key",
        }
    }
}

/// How long a request forwarded with no reply counts as outstanding (Envoy's default
/// route timeout).
pub const FORGET: SimDuration = SimDuration(15_000_000_000);

impl KindFile for RawLoadBalancer {
    type Spec = LoadBalancerSpec;
    type Actor = Box<LoadBalancer>;

    fn validate(&self, c: &mut Problems) -> LoadBalancerSpec {
        let lb = self;
        if lb.health_check.is_some_and(|d| d.0 == SimDuration::ZERO) {
            let msg = "`health_check` must be above 0".to_string();
            c.error(&["health_check"], msg, Some(r#"e.g. "5s""#.into()));
        }
        LoadBalancerSpec { policy: lb.policy, health_check: lb.health_check.map(|d| d.0) }
    }

    /// Builds the balancer over its downstream links.
    fn build(spec: &LoadBalancerSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(Box::new(LoadBalancer::new(spec, ctx.links("downstream").to_vec())))
    }
}

impl KindSpec for LoadBalancerSpec {
    /// A load balancer forwards to one or more downstreams that answer requests.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("load balancer", Serves::Forwards);
        let downstream = Role::new("downstream", Target::Requests, 1, u32::MAX);
        c.roles.push(downstream.wanting("a link to send requests on", "api"));
        if self.policy != LoadBalancerPolicy::RoundRobin {
            let why = format!("`policy: {}` chooses among its downstreams", self.policy.name());
            c.choice = Some(Choice { role: "downstream", field: "policy", why });
        }
        c
    }
}

// The component.

/// Probing state of the downstreams.
#[derive(Debug)]
struct Health {
    every: SimDuration,
    round: u32,
    /// Per downstream, the last round it answered.
    answered: Vec<u32>,
    up: Vec<bool>,
}

/// A request forwarded under a policy that counts outstanding requests, until its
/// reply comes back through the balancer.
#[derive(Debug, Clone, Copy)]
struct Proxied {
    /// Where the reply goes.
    client: ComponentId,
    /// The downstream it went to.
    downstream: u32,
    /// The reply's way back from the balancer to the client (`RETURN_LOST`: lost).
    back_ns: u64,
    /// Whether it still counts as outstanding (not yet forgotten).
    counted: bool,
}

/// A request spreader in front of a tier.
#[derive(Debug)]
pub struct LoadBalancer {
    policy: LoadBalancerPolicy,
    downstream: Vec<LinkId>,
    next: usize,
    /// Requests in flight per downstream (under policies that count them).
    outstanding: Vec<u32>,
    /// The requests whose replies come back through the balancer, by operation.
    proxied: BTreeMap<OpId, Proxied>,
    /// When each proxied request was sent, oldest first, to forget the unanswered.
    sent: VecDeque<(SimTime, OpId)>,
    /// The hash ring, under `hash_key`.
    ring: Option<ring::Ring>,
    /// Per client instance (by component index), the downstream (index) of its open
    /// connection, or of its last one: a sticky balancer's affinity.
    pins: Vec<Option<u32>>,
    /// Open connections per downstream.
    open: Vec<u32>,
    health: Option<Health>,
    connects: u64,
    /// Reconnects that landed on another downstream than the client's last one.
    moved: u64,
    /// Times a downstream was marked down.
    marked_down: u64,
}

impl LoadBalancer {
    /// A balancer over `downstream` links (at least one).
    pub fn new(spec: &LoadBalancerSpec, downstream: Vec<LinkId>) -> LoadBalancer {
        assert!(!downstream.is_empty(), "a load balancer needs a downstream");
        let n = downstream.len();
        let health = spec.health_check.map(|every| Health {
            every,
            round: 0,
            answered: vec![0; n],
            up: vec![true; n],
        });
        LoadBalancer {
            policy: spec.policy,
            downstream,
            next: 0,
            outstanding: vec![0; n],
            proxied: BTreeMap::new(),
            sent: VecDeque::new(),
            ring: (spec.policy == LoadBalancerPolicy::HashKey).then(|| ring::Ring::new(n as u32)),
            pins: Vec::new(),
            open: vec![0; n],
            health,
            connects: 0,
            moved: 0,
            marked_down: 0,
        }
    }

    fn downstream_up(&self, i: usize) -> bool {
        self.health.as_ref().is_none_or(|h| h.up[i])
    }

    /// The next live downstream in turn (any, when none is live).
    fn round_robin(&mut self) -> usize {
        let n = self.downstream.len();
        let start = self.next;
        let i = (0..n).map(|k| (start + k) % n).find(|&i| self.downstream_up(i)).unwrap_or(start);
        self.next = (i + 1) % n;
        i
    }

    /// The live downstream with the fewest open connections; ties go in turn.
    fn least_connections(&mut self) -> usize {
        let open = std::mem::take(&mut self.open);
        let i = self.fewest(&open);
        self.open = open;
        i
    }

    /// The live downstream with the least of `count`; ties go in turn.
    fn fewest(&mut self, count: &[u32]) -> usize {
        let n = self.downstream.len();
        let start = self.next;
        let live = (0..n).map(|k| (start + k) % n).filter(|&i| self.downstream_up(i));
        let best = live.min_by_key(|&i| count[i]);
        let i = best.unwrap_or(start);
        self.next = (i + 1) % n;
        i
    }

    /// A live downstream drawn uniformly (any, when none is live).
    fn random(&mut self, env: &mut Env<'_>) -> usize {
        let live: Vec<usize> =
            (0..self.downstream.len()).filter(|&i| self.downstream_up(i)).collect();
        match live.len() {
            0 => env.rng().below(self.downstream.len() as u64) as usize,
            n => live[env.rng().below(n as u64) as usize],
        }
    }

    /// Two distinct live downstreams drawn at random; the one with fewer outstanding,
    /// the first drawn on a tie.
    fn power_of_two(&mut self, env: &mut Env<'_>) -> usize {
        let live: Vec<usize> =
            (0..self.downstream.len()).filter(|&i| self.downstream_up(i)).collect();
        if live.len() < 2 {
            return self.random(env);
        }
        let a = env.rng().below(live.len() as u64) as usize;
        let b = (a + 1 + env.rng().below(live.len() as u64 - 1) as usize) % live.len();
        let (a, b) = (live[a], live[b]);
        if self.outstanding[b] < self.outstanding[a] { b } else { a }
    }

    /// The downstream client `client` used last, while it is up; else one in turn,
    /// which becomes its pin.
    fn sticky(&mut self, client: usize) -> usize {
        match self.pins.get(client).copied().flatten().map(|i| i as usize) {
            Some(i) if self.downstream_up(i) => i,
            last => {
                let i = self.round_robin();
                if self.pins.len() <= client {
                    self.pins.resize(client + 1, None);
                }
                self.pins[client] = Some(i as u32);
                self.moved += u64::from(last.is_some_and(|l| l != i));
                i
            }
        }
    }

    /// Where a new connection of `client` goes.
    fn pick_for_connect(&mut self, client: usize) -> usize {
        let last = self.pins.get(client).copied().flatten().map(|i| i as usize);
        match (self.policy, last) {
            (LoadBalancerPolicy::Sticky, Some(i)) if self.downstream_up(i) => i,
            (LoadBalancerPolicy::LeastConnections, _) => self.least_connections(),
            _ => self.round_robin(),
        }
    }

    fn connect(&mut self, client: usize) -> usize {
        let i = self.pick_for_connect(client);
        if self.pins.len() <= client {
            self.pins.resize(client + 1, None);
        }
        let last = self.pins[client].replace(i as u32);
        if let Some(last) = last {
            self.open[last as usize] = self.open[last as usize].saturating_sub(1);
            self.moved += u64::from(last as usize != i);
        }
        self.open[i] += 1;
        self.connects += 1;
        i
    }

    /// The downstream for `request`, of `purpose`, from instance `client`.
    fn route(&mut self, client: usize, purpose: Purpose, key: u32, env: &mut Env<'_>) -> usize {
        let pin = self.pins.get(client).copied().flatten().map(|i| i as usize);
        match (purpose, pin) {
            (p, _) if p == purposes::CONNECT => return self.connect(client),
            // An edit travels on the open connection, whether its server is live or not.
            (p, Some(i)) if p == purposes::EDIT => return i,
            _ => {}
        }
        match self.policy {
            LoadBalancerPolicy::RoundRobin => self.round_robin(),
            LoadBalancerPolicy::Random => self.random(env),
            LoadBalancerPolicy::LeastOutstanding | LoadBalancerPolicy::LeastConnections => {
                let outstanding = std::mem::take(&mut self.outstanding);
                let i = self.fewest(&outstanding);
                self.outstanding = outstanding;
                i
            }
            LoadBalancerPolicy::PowerOfTwo => self.power_of_two(env),
            LoadBalancerPolicy::Sticky => self.sticky(client),
            LoadBalancerPolicy::HashKey => {
                let ring = self.ring.as_ref().expect("hash_key builds its ring");
                ring.owner(key, |i| self.health.as_ref().is_none_or(|h| h.up[i]))
            }
        }
    }

    /// Requests unanswered for `FORGET` stop counting as outstanding.
    fn forget_old(&mut self, now: SimTime) {
        while let Some(&(at, op)) = self.sent.front() {
            if now.since(at) < FORGET {
                break;
            }
            self.sent.pop_front();
            if let Some(p) = self.proxied.get_mut(&op).filter(|p| p.counted) {
                p.counted = false;
                self.outstanding[p.downstream as usize] -= 1;
            }
        }
    }

    /// A reply to a proxied request: the downstream is done with it, and the reply
    /// goes on to its client over the way back drawn when the request came in.
    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let Some(p) = self.proxied.remove(&reply.op) else {
            return env.release(reply.op); // Not one of its own: nowhere to send it.
        };
        if p.counted {
            self.outstanding[p.downstream as usize] -= 1;
        }
        if p.back_ns == RETURN_LOST {
            return env.release(reply.op);
        }
        env.deliver(SimDuration(p.back_ns), p.client, Msg::Reply(reply));
    }

    /// Sends `request` to downstream `i`, as a proxy when the policy counts
    /// outstanding requests (a WebSocket's connect and edits pass straight through:
    /// the server answers and pushes over the connection).
    fn forward(&mut self, mut request: Request, i: usize, purpose: Purpose, env: &mut Env<'_>) {
        let link = self.downstream[i];
        let websocket = purpose == purposes::CONNECT || purpose == purposes::EDIT;
        if !self.policy.counts_outstanding() || websocket {
            request.via = link;
            env.send(link, Msg::Request(request));
            return;
        }
        let proxied = Proxied {
            client: request.origin,
            downstream: i as u32,
            back_ns: request.return_ns,
            counted: true,
        };
        let own = Request { origin: env.id, via: link, return_ns: 0, ..request };
        if env.send(link, Msg::Request(own)) {
            self.proxied.insert(request.op, proxied);
            self.sent.push_back((env.now(), request.op));
            self.outstanding[i] += 1;
        }
    }

    /// A probe round: downstreams that missed the last one are marked down, then
    /// every downstream is probed again.
    fn probe(&mut self, env: &mut Env<'_>) {
        let Some(h) = &mut self.health else { return };
        for i in 0..self.downstream.len() {
            let up = h.answered[i] == h.round;
            self.marked_down += u64::from(h.up[i] && !up);
            h.up[i] = up;
        }
        if env.stopping() {
            return;
        }
        h.round += 1;
        for &link in &self.downstream {
            env.send(link, Msg::Probe { round: h.round, link });
        }
        env.timer(h.every, Msg::Wake);
    }

    fn on_probe_ack(&mut self, round: u32, link: LinkId) {
        let Some(h) = &mut self.health else { return };
        if let Some(i) = self.downstream.iter().position(|&l| l == link) {
            h.answered[i] = h.answered[i].max(round);
        }
    }
}

impl Component for LoadBalancer {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It forwards requests and keeps only counts and slots.
    }

    /// What the balancer did, by name (nothing when it carried no connection and
    /// probed nothing).
    fn counts(&self) -> Vec<(&'static str, u64)> {
        if self.connects == 0 && self.health.is_none() {
            return Vec::new();
        }
        let mut counts = vec![("connects", self.connects), ("reconnects_moved", self.moved)];
        if self.health.is_some() {
            counts.push(("marked_down", self.marked_down));
        }
        counts
    }

    fn start(&mut self, env: &mut Env<'_>) {
        if let Some(h) = &self.health {
            env.timer(h.every, Msg::Wake);
        }
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        let mut request = match msg {
            Msg::Request(request) => request,
            Msg::Reply(reply) => return self.on_reply(reply, env),
            Msg::Wake => return self.probe(env),
            Msg::ProbeAck { round, link } => return self.on_probe_ack(round, link),
            other => panic!("load balancer got unexpected {}", other.kind_name()),
        };
        request.return_ns = env.add_return_hop(request.return_ns, request.via);
        let purpose = env.invocation(request.op).purpose;
        if self.policy.counts_outstanding() {
            self.forget_old(env.now());
        }
        let i = self.route(request.origin.index(), purpose, request.key, env);
        self.forward(request, i, purpose, env);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::VersionId;

    fn balancer(policy: LoadBalancerPolicy, health: bool) -> LoadBalancer {
        let spec = LoadBalancerSpec {
            policy,
            health_check: health.then_some(SimDuration::from_millis(5000)),
        };
        LoadBalancer::new(&spec, vec![LinkId(10), LinkId(11), LinkId(12)])
    }

    #[test]
    fn round_robin_moves_a_reconnect_and_sticky_brings_it_back() {
        let mut rr = balancer(LoadBalancerPolicy::RoundRobin, false);
        assert_eq!(rr.connect(0), 0);
        assert_eq!(rr.connect(0), 1, "the next server in turn");
        assert_eq!(rr.counts()[1], ("reconnects_moved", 1));
        let mut sticky = balancer(LoadBalancerPolicy::Sticky, true);
        assert_eq!(sticky.connect(0), 0);
        assert_eq!(sticky.connect(1), 1);
        assert_eq!(sticky.connect(0), 0, "affinity");
        // Server 0 missed its probe: the sticky client goes elsewhere.
        sticky.health.as_mut().unwrap().up[0] = false;
        assert_ne!(sticky.connect(0), 0);
    }

    use crate::check::OpKind;
    use crate::components::BuiltIn;
    use crate::components::message::Status;
    use crate::components::testing::{self, BenchWorld, bench, ms, run};
    use crate::engine::{ComponentId, Sim};

    /// A balancer of `policy` over the bench's three probes.
    fn routed(policy: LoadBalancerPolicy) -> (Sim<BenchWorld>, testing::BenchLinks) {
        let spec = LoadBalancerSpec { policy, health_check: None };
        bench(3, 100, |l| {
            BuiltIn::LoadBalancer(Box::new(LoadBalancer::new(&spec, l.callees.clone())))
        })
    }

    /// Which probe each request reached, in order.
    fn reached(sim: &Sim<BenchWorld>) -> Vec<u32> {
        let requests = sim.actor.received.iter().filter(|r| matches!(r.msg, Msg::Request(_)));
        requests.map(|r| r.probe.0).collect()
    }

    #[test]
    fn least_outstanding_sends_each_request_to_the_downstream_with_fewest_in_flight() {
        let (mut sim, links) = routed(LoadBalancerPolicy::LeastOutstanding);
        for t in 0..3 {
            testing::request(&mut sim, ms(t), links.callers[0], OpKind::Read, 0);
        }
        run(&mut sim, ms(3));
        assert_eq!(reached(&sim), [1, 2, 3], "one each, ties in turn");
        // Probe 2 answers: it is the only one with nothing in flight.
        let r = testing::last_request(&sim, Some(ComponentId(2)));
        assert_eq!(r.origin, ComponentId(0), "the balancer proxies the request");
        testing::answer(&mut sim, ms(4), (ComponentId(2), Status::Ok), r, VersionId::ROOT);
        testing::request(&mut sim, ms(5), links.callers[0], OpKind::Read, 0);
        run(&mut sim, ms(6));
        assert_eq!(reached(&sim), [1, 2, 3, 2]);
        // The reply went on to its client, probe 1.
        let replies = testing::replies(&sim);
        assert_eq!(replies.iter().map(|r| r.1).collect::<Vec<_>>(), [ComponentId(1)]);
    }

    #[test]
    fn hash_key_gives_each_key_one_home_and_sticky_each_client_one_server() {
        let (mut sim, links) = routed(LoadBalancerPolicy::HashKey);
        for (t, key) in [7, 7, 8, 7, 9, 8].into_iter().enumerate() {
            testing::request(&mut sim, ms(t as u64), links.callers[t % 3], OpKind::Read, key);
        }
        run(&mut sim, ms(10));
        let r = reached(&sim);
        assert!(r[0] == r[1] && r[1] == r[3] && r[2] == r[5], "{r:?}");
        let (mut sim, links) = routed(LoadBalancerPolicy::Sticky);
        for t in 0..6 {
            testing::request(&mut sim, ms(t), links.callers[(t % 2) as usize], OpKind::Read, 0);
        }
        run(&mut sim, ms(10));
        assert_eq!(reached(&sim), [1, 2, 1, 2, 1, 2], "each client keeps its first server");
    }

    #[test]
    fn least_connections_fills_the_emptiest_live_server() {
        let mut lc = balancer(LoadBalancerPolicy::LeastConnections, true);
        for client in 0..6 {
            lc.connect(client);
        }
        assert_eq!(lc.open, vec![2, 2, 2]);
        lc.health.as_mut().unwrap().up[1] = false;
        // A reconnect leaves its old server and goes to a live one with the fewest.
        for client in 0..3 {
            assert_ne!(lc.connect(client), 1);
        }
        assert_eq!(lc.open.iter().sum::<u32>(), 6);
    }
}
