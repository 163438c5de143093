//! What a component sees while it handles a message: the clock, its own random stream,
//! the topology (read-only), ways to send and to set timers, and the one narrow way
//! into the history. A component never holds the history: it invokes and completes
//! operations, and tells what only it knows (a version created, a head moved, a push
//! delivered, a session's fate) through the methods below, which stamp each record
//! with the current time and event.

use super::message::{Msg, RETURN_LOST, Reply, Request, Status};
use crate::check::{
    ClientFigures, HeadMove, History, Invocation, OpId, OpKind, OpRecord, Outcome, Purpose, Push,
    SessionEvent, Sighting, Version, VersionId,
};
use crate::engine::{
    ComponentId, LinkId, Scheduler, SimDuration, SimTime, Stream, Streams, Topology,
};

/// A component's view of the world for one event.
pub struct Env<'a> {
    /// The component handling the event.
    pub id: ComponentId,
    /// Every instance's random stream; `rng` lends this one's.
    streams: &'a mut Streams,
    /// The links of the architecture.
    pub topology: &'a Topology,
    /// When clients stop starting work and periodic timers stop re-arming.
    pub stop_at: SimTime,
    history: &'a mut History,
    sched: &'a mut Scheduler<Msg>,
}

/// An operation a component makes on its own rather than for a client's request: a
/// server's poll or session call, an attacker's read.
#[derive(Debug, Clone, Copy)]
pub struct OwnOp {
    /// The client it is made for or as (`u32::MAX` for none).
    pub client: u32,
    /// Read, write or control.
    pub kind: OpKind,
    /// Why.
    pub purpose: Purpose,
    /// The key.
    pub key: u32,
    /// When the access token it carries was issued (`ZERO` for none).
    pub token: SimTime,
}

impl<'a> Env<'a> {
    /// The view of component `id` for the event `sched` is handling.
    #[inline]
    pub fn new(
        id: ComponentId,
        streams: &'a mut Streams,
        topology: &'a Topology,
        history: &'a mut History,
        stop_at: SimTime,
        sched: &'a mut Scheduler<Msg>,
    ) -> Env<'a> {
        Env { id, streams, topology, stop_at, history, sched }
    }
}

impl Env<'_> {
    /// The component's own random stream. Lent on first use in an event, so an event
    /// that draws nothing costs no stream (see `Streams`).
    #[inline]
    pub fn rng(&mut self) -> &mut Stream {
        self.streams.of(self.id.index())
    }
}

/// The history, as components reach it.
impl Env<'_> {
    /// Records an operation as invoked and returns the slot its request carries.
    #[inline]
    pub fn invoke(&mut self, inv: Invocation) -> OpId {
        let op = self.history.invoke(inv);
        self.history.reached(op, self.id.0);
        op
    }

    /// The operation a request or reply carries.
    #[inline]
    pub fn invocation(&self, op: OpId) -> Invocation {
        *self.history.invocation(op)
    }

    /// Completes `op` now: its caller learned `outcome` from `server` (store, source),
    /// which answered `version`. `reply_arrived` says a reply brought it, so no copy of
    /// the request is travelling any more.
    #[inline]
    pub fn complete(
        &mut self,
        op: OpId,
        (outcome, version): (Outcome, VersionId),
        server: (u32, u8),
        reply_arrived: bool,
    ) -> OpRecord {
        let (at, event) = (self.now(), self.event());
        self.history.complete(op, outcome, version, server, at, event, reply_arrived)
    }

    /// Completes `op` now as `Unknown`: its caller stopped waiting for a reply.
    #[inline]
    pub fn give_up(&mut self, op: OpId) -> OpRecord {
        self.complete(op, (Outcome::Unknown, VersionId::ROOT), (0, 0), false)
    }

    /// One more copy of `op`'s request travels (see `History::copy_request`).
    #[inline]
    pub fn copy_request(&mut self, op: OpId) {
        self.history.copy_request(op);
    }

    /// `op` depends on the component at the far end of `link` (a call to an application
    /// cache, which carries no request of its own): a fault there touches it.
    #[inline]
    pub fn reaches_over(&mut self, op: OpId, link: LinkId) {
        let peer = self.peer(link);
        self.history.reached(op, peer.0);
    }

    /// Says no copy of `op`'s request or reply is travelling any more.
    #[inline]
    pub fn release(&mut self, op: OpId) {
        self.history.release_request(op);
    }

    /// Creates, now, the version `op` writes on store `store` on top of `parents`.
    #[inline]
    pub fn create_version(
        &mut self,
        op: OpId,
        store: u32,
        stamp: i64,
        parents: &[VersionId],
    ) -> VersionId {
        let (at, event) = (self.now(), self.event());
        self.history.create_version(op, store, stamp, parents, at, event)
    }

    /// A version joining `parents`, made by this component with no operation of its own
    /// (see `History::create_join`).
    pub fn create_join(
        &mut self,
        like: VersionId,
        purpose: Purpose,
        stamp: i64,
        parents: &[VersionId],
    ) -> VersionId {
        let (at, event, store) = (self.now(), self.event(), self.id.0);
        self.history.create_join(like, purpose, store, stamp, parents, at, event)
    }

    /// A store moved a key's head (or refused to).
    #[inline]
    pub fn head_moved(&mut self, mv: HeadMove) {
        self.history.head_moved(mv);
    }

    /// `op`'s write is to be published once committed (`outbox`: its event is committed
    /// with it, in the store's outbox).
    pub fn publish_on_commit(&mut self, op: OpId, outbox: bool) {
        self.history.publish_on_commit(op, outbox);
    }

    /// `op`'s later writes are not to be published.
    pub fn stop_publishing(&mut self, op: OpId) {
        self.history.stop_publishing(op);
    }

    /// Store `store`'s outbox so far: the versions committed with an event.
    pub fn outbox(&self, store: ComponentId) -> &[VersionId] {
        self.history.outbox(store.0)
    }

    /// Every change `store` commits from now on goes to its log for a connector to
    /// publish (change data capture).
    pub fn capture(&mut self, store: ComponentId) {
        self.history.capture(store.0);
    }

    /// This component subscribes to a topic: every change to be published must reach it.
    pub fn subscribe(&mut self) {
        self.history.subscribe(self.id.0);
    }

    /// The record of the run's logs, which logs, producers and consumer groups write
    /// to (stamping with `stamp`) and consumers read the messages at offsets from.
    pub fn log_book(&mut self) -> &mut crate::check::LogBook {
        &mut self.history.logs
    }

    /// Now, and this event: the moment a log book entry records.
    pub fn stamp(&self) -> crate::check::Stamp {
        crate::check::Stamp { at: self.now(), event: self.event() }
    }

    /// This consumer processed an event.
    pub fn processed(&mut self, p: crate::check::Processed) {
        self.history.processed(p);
    }

    /// An application cache's entry changed.
    pub fn cache_changed(&mut self, event: crate::check::CacheEvent) {
        self.history.cache_changed(event);
    }

    /// A server's push of a version reached a client that had not seen it.
    #[inline]
    pub fn pushed(&mut self, push: Push) {
        self.history.pushed(push);
    }

    /// Client `client`'s access is revoked now.
    pub fn revoke(&mut self, client: u32) {
        let (at, event) = (self.now(), self.event());
        self.history.revoke(client, at, event);
    }

    /// When `client`'s access was revoked, if it was.
    pub fn revoked_at(&self, client: u32) -> Option<SimTime> {
        self.history.revoked_at(client)
    }

    /// A server decided what became of a client's login session.
    pub fn session(&mut self, event: SessionEvent) {
        self.history.session(event);
    }

    /// Whether version `a` includes `b` (is `b` or descends from it).
    #[inline]
    pub fn includes(&mut self, a: VersionId, b: VersionId) -> bool {
        self.history.dag_mut().includes(a, b)
    }

    /// What is known about version `v`.
    #[inline]
    pub fn version(&self, v: VersionId) -> &Version {
        self.history.dag().get(v)
    }

    /// What clients measure beyond single operations.
    #[inline]
    pub fn figures(&mut self) -> &mut ClientFigures {
        &mut self.history.figures
    }

    /// Fault `index` struck now, active for `lasting` (`None`: an instant, or for good
    /// when `forever`).
    pub fn struck(&mut self, index: usize, lasting: Option<SimDuration>, forever: bool) {
        let now = self.now();
        self.history.coverage.struck(index, now, lasting, forever);
    }
}

impl Env<'_> {
    /// Records `op` in the history as invoked now and returns its request over `link`,
    /// ready to send.
    pub fn own_request(&mut self, link: LinkId, op: OwnOp) -> Request {
        let slot = self.history.invoke(Invocation {
            client: op.client,
            session: 0,
            kind: op.kind,
            purpose: op.purpose,
            key: op.key,
            message: 0,
            attempt: 1,
            seen: Sighting::NOTHING,
            stamp: self.now().as_nanos() as i64,
            invoked: self.now(),
            invoke_event: self.event(),
            newest: VersionId::ROOT,
            token: op.token,
        });
        self.history.reached(slot, self.id.0);
        Request {
            origin: self.id,
            op: slot,
            key: op.key,
            via: link,
            seen: VersionId::ROOT,
            return_ns: 0,
            kind: op.kind,
            flags: 0,
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.sched.now()
    }

    /// The id of the event being handled (its `seq` in the trace).
    #[inline]
    pub fn event(&self) -> u64 {
        self.sched.event()
    }

    /// Whether the run's duration is over: only in-flight work finishes now.
    #[inline]
    pub fn stopping(&self) -> bool {
        self.now() >= self.stop_at
    }

    /// The component at the other end of `link`.
    #[inline]
    pub fn peer(&self, link: LinkId) -> ComponentId {
        let (a, b) = self.topology.ends(link);
        assert!(a == self.id || b == self.id, "link does not touch this component");
        if a == self.id { b } else { a }
    }

    /// The length of the run's timeline intervals, ns (queues integrate per interval).
    #[inline]
    pub fn timeline_interval(&self) -> u64 {
        self.history.timeline.interval_ns()
    }

    /// Draws one crossing of `link`: its latency, or `None` when the message is lost or
    /// the link is partitioned.
    #[inline]
    pub fn cross(&mut self, link: LinkId) -> Option<u64> {
        let l = self.topology.link(link);
        if l.partitioned || self.rng().chance(l.loss) {
            return None;
        }
        Some(l.latency.sample(self.rng()))
    }

    /// Sends `msg` over `link` to its other end; returns false if it was lost (a lost
    /// request is released in the history, so its slot can be reused).
    #[inline]
    pub fn send(&mut self, link: LinkId, msg: Msg) -> bool {
        self.send_after(SimDuration::ZERO, link, msg)
    }

    /// Sends `msg` over `link` once `delay` of local work is done; returns false if it
    /// was lost (a lost request is released in the history).
    #[inline]
    pub fn send_after(&mut self, delay: SimDuration, link: LinkId, msg: Msg) -> bool {
        let peer = self.peer(link);
        match self.cross(link) {
            Some(ns) => {
                self.sched.after(SimDuration(delay.0.saturating_add(ns)), peer, msg);
                true
            }
            None => {
                if let Msg::Request(r) = msg {
                    self.history.release_request(r.op);
                }
                false
            }
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

    /// Answers `request` from this component: the reply travels back over the request's
    /// hops, or is lost (and the request released).
    pub fn reply(&mut self, request: &Request, status: Status, version: VersionId, source: u8) {
        self.reply_after(SimDuration::ZERO, request, status, version, source);
    }

    /// Answers `request` with what `server` (its node `source`) gave: a service relaying
    /// a store's answer, or serving a cached one. The reply travels back over the
    /// request's hops, or is lost (and the request released).
    pub fn reply_for(
        &mut self,
        request: &Request,
        status: Status,
        version: VersionId,
        served: (ComponentId, u8),
    ) {
        let back = self.add_return_hop(request.return_ns, request.via);
        if back == RETURN_LOST {
            self.history.release_request(request.op);
            return;
        }
        let (server, source) = served;
        let reply = Reply { op: request.op, version, server, source, front: self.id, status };
        self.sched.after(SimDuration(back), request.origin, Msg::Reply(reply));
    }

    /// Sends `msg` back to `to` over `link`, the link its call came in on: it crosses
    /// the link in reverse, or is lost.
    pub fn answer_over(&mut self, link: LinkId, to: ComponentId, msg: Msg) {
        if let Some(ns) = self.cross(link) {
            self.sched.after(SimDuration(ns), to, msg);
        }
    }

    /// `reply` once `delay` of local work is done.
    pub fn reply_after(
        &mut self,
        delay: SimDuration,
        request: &Request,
        status: Status,
        version: VersionId,
        source: u8,
    ) {
        let back = self.add_return_hop(request.return_ns, request.via);
        if back == RETURN_LOST {
            self.history.release_request(request.op);
            return;
        }
        let (server, front) = (self.id, self.id);
        let reply = Reply { op: request.op, version, server, source, front, status };
        let at = SimDuration(delay.0.saturating_add(back));
        self.sched.after(at, request.origin, Msg::Reply(reply));
    }

    /// Drops `request` unanswered (the component is down).
    pub fn drop_request(&mut self, request: &Request) {
        self.history.release_request(request.op);
    }

    /// Delivers `msg` to `target` after `delay`, outside any link (internal work).
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
