//! A load balancer: forwards each request to one of its downstream links.
//!
//! The reply does not pass back through the balancer as an event, but its return hop's
//! latency is drawn here and carried in the request.
//!
//! WebSocket connections are long-lived: a `connect` picks a downstream by the policy
//! and pins the client to it, and the client's edits follow the pin, as they would on
//! one upgraded TCP connection. A reconnect picks again: round-robin sends it to the
//! next server in turn, least-connections to the server with the fewest open
//! connections, and sticky back to the server the client used last (session affinity),
//! unless that server is marked down.
//!
//! With health checks, every `every` the balancer probes each downstream; one that did
//! not answer the previous round's probe is marked down and gets no new connection or
//! request until it answers again. Connections already open stay where they are: the
//! editor notices a dead server only when its own requests go unanswered.

use super::purposes;
use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::Msg;
use crate::check::Purpose;
use crate::engine::{LinkId, SimDuration};
use crate::model::contract::{Contract, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// Load balancer parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct RawLoadBalancer {
    /// How to pick a downstream.
    #[serde(default)]
    pub policy: RawPolicy,
    /// Probe interval: `health_check: "5s"`.
    #[serde(default)]
    pub health_check: Option<Dur>,
}

/// Load balancer policies.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "policy")]
pub enum RawPolicy {
    /// Each downstream in turn.
    #[default]
    RoundRobin,
    /// Back to the downstream the client last used.
    Sticky,
    /// The downstream with the fewest open connections.
    LeastConnections,
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

/// How a load balancer picks a downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadBalancerPolicy {
    /// Each downstream in turn.
    RoundRobin,
    /// Session affinity: a client goes back to the downstream it last used.
    Sticky,
    /// A new connection goes to the downstream with the fewest open connections.
    LeastConnections,
}

impl KindFile for RawLoadBalancer {
    type Spec = LoadBalancerSpec;
    type Actor = LoadBalancer;

    fn validate(&self, c: &mut Problems) -> LoadBalancerSpec {
        let lb = self;
        if lb.health_check.is_some_and(|d| d.0 == SimDuration::ZERO) {
            let msg = "`health_check` must be above 0".to_string();
            c.error(&["health_check"], msg, Some(r#"e.g. "5s""#.into()));
        }
        LoadBalancerSpec {
            policy: match lb.policy {
                RawPolicy::RoundRobin => LoadBalancerPolicy::RoundRobin,
                RawPolicy::Sticky => LoadBalancerPolicy::Sticky,
                RawPolicy::LeastConnections => LoadBalancerPolicy::LeastConnections,
            },
            health_check: lb.health_check.map(|d| d.0),
        }
    }

    /// Builds the balancer over its downstream links.
    fn build(spec: &LoadBalancerSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(LoadBalancer::new(spec, ctx.links("downstream").to_vec()))
    }
}

impl KindSpec for LoadBalancerSpec {
    /// A load balancer forwards to one or more downstreams that answer requests.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("load balancer", Serves::Forwards);
        let downstream = Role::new("downstream", Target::Requests, 1, u32::MAX);
        c.roles.push(downstream.wanting("a link to send requests on", "api"));
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

/// A request spreader in front of a tier.
#[derive(Debug)]
pub struct LoadBalancer {
    policy: LoadBalancerPolicy,
    downstream: Vec<LinkId>,
    next: usize,
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
        let n = self.downstream.len();
        let start = self.next;
        let live = (0..n).map(|k| (start + k) % n).filter(|&i| self.downstream_up(i));
        let best = live.min_by_key(|&i| self.open[i]);
        let i = best.unwrap_or(start);
        self.next = (i + 1) % n;
        i
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

    /// The downstream for a request of `purpose` from client instance `client`.
    fn route(&mut self, client: usize, purpose: Purpose) -> usize {
        let pin = self.pins.get(client).copied().flatten().map(|i| i as usize);
        match (purpose, pin) {
            (p, _) if p == purposes::CONNECT => self.connect(client),
            // An edit travels on the open connection, whether its server is live or not.
            (p, Some(i)) if p == purposes::EDIT => i,
            (_, Some(i)) if self.policy == LoadBalancerPolicy::Sticky && self.downstream_up(i) => i,
            _ => self.round_robin(),
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
            Msg::Wake => return self.probe(env),
            Msg::ProbeAck { round, link } => return self.on_probe_ack(round, link),
            other => panic!("load balancer got unexpected {}", other.kind_name()),
        };
        request.return_ns = env.add_return_hop(request.return_ns, request.via);
        let purpose = env.invocation(request.op).purpose;
        let i = self.route(request.origin.index(), purpose);
        let link = self.downstream[i];
        request.via = link;
        env.send(link, Msg::Request(request));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
