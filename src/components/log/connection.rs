//! A client's connection to a log: requests reach it in the order they were sent (TCP),
//! each after the link's latency, and a lost one is gone.

use crate::components::env::Env;
use crate::components::message::Msg;
use crate::engine::{LinkId, SimDuration, SimTime};

/// One connection over one link.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    link: LinkId,
    /// When the latest request sent arrives.
    delivered_at: SimTime,
}

impl Connection {
    /// A connection over `link`.
    pub fn new(link: LinkId) -> Connection {
        Connection { link, delivered_at: SimTime::ZERO }
    }

    /// The link it runs over.
    pub fn link(&self) -> LinkId {
        self.link
    }

    /// Sends `msg` behind every request sent before it.
    pub fn send(&mut self, msg: Msg, env: &mut Env<'_>) {
        let Some(ns) = env.cross(self.link) else { return };
        let now = env.now();
        self.delivered_at = self.delivered_at.max(now.after(SimDuration(ns)));
        let far = env.peer(self.link);
        env.deliver(self.delivered_at.since(now), far, msg);
    }
}
