//! A load balancer: forwards each request to one of its downstream links.
//!
//! Round-robin only for now; the reply does not pass back through the balancer as an
//! event, but its return hop's latency is drawn here and carried in the request. Health
//! checks, stickiness and least-connections come with the editor scenarios.

use super::Component;
use super::env::Env;
use super::message::Msg;
use crate::engine::LinkId;
use crate::model::LoadBalancerPolicy;

/// A request spreader in front of a tier.
#[derive(Debug)]
pub struct LoadBalancer {
    policy: LoadBalancerPolicy,
    downstream: Vec<LinkId>,
    next: usize,
}

impl LoadBalancer {
    /// A balancer over `downstream` links (at least one).
    pub fn new(policy: LoadBalancerPolicy, downstream: Vec<LinkId>) -> LoadBalancer {
        assert!(!downstream.is_empty(), "a load balancer needs a downstream");
        LoadBalancer { policy, downstream, next: 0 }
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
}

impl Component for LoadBalancer {
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        let Msg::Request(mut request) = msg else {
            panic!("load balancer got unexpected {}", msg.kind_name());
        };
        request.return_ns = env.add_return_hop(request.return_ns, request.via);
        let link = self.pick();
        request.via = link;
        env.send(link, Msg::Request(request));
    }
}
