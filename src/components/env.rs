//! What a component sees while it handles a message: the clock, its own random stream,
//! the topology (read-only), the history, and ways to send and to set timers.

use super::message::{Msg, RETURN_LOST};
use crate::check::History;
use crate::engine::{ComponentId, LinkId, Scheduler, SimDuration, SimTime, Stream, Topology};

/// A component's view of the world for one event.
pub struct Env<'a> {
    /// The component handling the event.
    pub id: ComponentId,
    /// Its own random stream.
    pub rng: &'a mut Stream,
    /// The links of the architecture.
    pub topology: &'a Topology,
    /// Where completed operations are recorded.
    pub history: &'a mut History,
    pub(crate) sched: &'a mut Scheduler<Msg>,
}

impl Env<'_> {
    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.sched.now()
    }

    /// The component at the other end of `link`.
    #[inline]
    pub fn peer(&self, link: LinkId) -> ComponentId {
        let (a, b) = self.topology.ends(link);
        assert!(a == self.id || b == self.id, "link does not touch this component");
        if a == self.id { b } else { a }
    }

    /// Draws one crossing of `link`: its latency, or `None` when the message is lost or
    /// the link is partitioned.
    #[inline]
    pub fn cross(&mut self, link: LinkId) -> Option<u64> {
        let l = self.topology.link(link);
        if l.partitioned || self.rng.chance(l.loss) {
            return None;
        }
        Some(l.latency.sample(self.rng))
    }

    /// Sends `msg` over `link` to its other end; returns false if it was lost.
    #[inline]
    pub fn send(&mut self, link: LinkId, msg: Msg) -> bool {
        let peer = self.peer(link);
        match self.cross(link) {
            Some(ns) => {
                self.sched.after(SimDuration(ns), peer, msg);
                true
            }
            None => false,
        }
    }

    /// Adds the reply's crossing of `link` (in the reverse direction) to `return_ns`.
    #[inline]
    pub fn add_return_hop(&mut self, return_ns: u64, link: LinkId) -> u64 {
        if return_ns == RETURN_LOST {
            return RETURN_LOST;
        }
        match self.cross(link) {
            Some(ns) => return_ns.saturating_add(ns).min(RETURN_LOST - 1),
            None => RETURN_LOST,
        }
    }

    /// Delivers `msg` to `target` after `delay`, outside any link (replies, internal work).
    #[inline]
    pub fn deliver(&mut self, delay: SimDuration, target: ComponentId, msg: Msg) {
        self.sched.after(delay, target, msg);
    }

    /// Sets a timer: `msg` comes back to this component after `delay`.
    #[inline]
    pub fn timer(&mut self, delay: SimDuration, msg: Msg) {
        self.sched.after(delay, self.id, msg);
    }
}
