//! A load balancer: forwards each request to one of its downstream links.
//!
//! Round-robin only for now; the reply does not pass back through the balancer as an
//! event, but its return hop's latency is drawn here and carried in the request.
//!
//! WebSocket connections are long-lived: a `connect` picks a downstream by the policy
//! and pins the client to it, and the client's edits follow the pin, as they would on
//! one upgraded TCP connection. A reconnect picks again, so round-robin sends it to
//! another server.

use super::Component;
use super::env::Env;
use super::message::Msg;
use crate::check::Purpose;
use crate::engine::LinkId;
use crate::model::LoadBalancerPolicy;

/// A request spreader in front of a tier.
#[derive(Debug)]
pub struct LoadBalancer {
    policy: LoadBalancerPolicy,
    downstream: Vec<LinkId>,
    next: usize,
    /// Per client instance (by component index), its open connection's downstream.
    pins: Vec<Option<LinkId>>,
}

impl LoadBalancer {
    /// A balancer over `downstream` links (at least one).
    pub fn new(policy: LoadBalancerPolicy, downstream: Vec<LinkId>) -> LoadBalancer {
        assert!(!downstream.is_empty(), "a load balancer needs a downstream");
        LoadBalancer { policy, downstream, next: 0, pins: Vec::new() }
    }

    fn pick(&mut self) -> LinkId {
        match self.policy {
            LoadBalancerPolicy::RoundRobin => {
                let link = self.downstream[self.next];
                self.next = (self.next + 1) % self.downstream.len();
                link
            }
        }
    }

    /// The downstream for a request of `purpose` from client instance `client`.
    fn route(&mut self, client: usize, purpose: Purpose) -> LinkId {
        match purpose {
            Purpose::Connect => {
                let link = self.pick();
                if self.pins.len() <= client {
                    self.pins.resize(client + 1, None);
                }
                self.pins[client] = Some(link);
                link
            }
            Purpose::Edit => match self.pins.get(client).copied().flatten() {
                Some(link) => link,
                None => self.pick(),
            },
            _ => self.pick(),
        }
    }
}

impl Component for LoadBalancer {
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        let Msg::Request(mut request) = msg else {
            panic!("load balancer got unexpected {}", msg.kind_name());
        };
        request.return_ns = env.add_return_hop(request.return_ns, request.via);
        let purpose = env.history.invocation(request.op).purpose;
        let link = self.route(request.origin.index(), purpose);
        request.via = link;
        env.send(link, Msg::Request(request));
    }
}
