//! An app server of the collaborative editor: it holds its own editors' WebSocket
//! connections and learns of edits made through other servers by polling the store or
//! through a pub/sub broker.
//!
//! A `connect` registers the editor's connection on its document (with the latency of
//! the path back, drawn once, so pushes on one connection stay in order) and loads the
//! document from the store; the answer tells the editor which server it is connected
//! to. An `edit` is written to the store; once written it is acknowledged to its editor
//! and pushed to the server's other connections on the document, and, with pub/sub,
//! published to the broker. Anything else passes through to the store.
//!
//! With polling, every `every` (from a random phase per server) the server reads each
//! document its editors have open and pushes a version it had not seen; a poll still
//! unanswered at the next tick is abandoned. With pub/sub, a version the broker delivers
//! is pushed the same way, and so is one the store notifies it of (`notify`). A server
//! remembers per document the last version it pushed or wrote, and pushes only versions
//! that do not already include it, so an edit two servers both learn of is not pushed
//! twice by one of them.

use std::collections::BTreeMap;

use super::Component;
use super::env::Env;
use super::message::{Msg, RETURN_LOST, Reply, Request, Status};
use crate::check::{Invocation, OpId, OpKind, Outcome, Purpose, Sighting, VersionId};
use crate::engine::{ComponentId, LinkId, SimDuration};
use crate::model::{AppServerSpec, Propagation};

/// One editor's open connection.
#[derive(Debug, Clone, Copy)]
struct Conn {
    client: ComponentId,
    /// Latency of the path back to the editor, or `RETURN_LOST`.
    back_ns: u64,
}

/// A request this server sent to the store on an editor's behalf.
#[derive(Debug, Clone, Copy)]
struct Relay {
    conn: Conn,
    key: u32,
    purpose: Purpose,
}

/// A WebSocket app server.
#[derive(Debug)]
pub struct AppServer {
    propagation: Propagation,
    data: LinkId,
    bus: Option<LinkId>,
    /// Open connections per document.
    docs: BTreeMap<u32, Vec<Conn>>,
    /// Per document, the last version this server pushed or wrote.
    known: BTreeMap<u32, VersionId>,
    relays: BTreeMap<OpId, Relay>,
    /// This server's polls in flight, by operation slot: the document.
    polls: BTreeMap<OpId, u32>,
}

impl AppServer {
    /// A server that reads and writes over `data` and publishes over `bus`.
    pub fn new(spec: &AppServerSpec, data: LinkId, bus: Option<LinkId>) -> AppServer {
        AppServer {
            propagation: spec.propagation,
            data,
            bus,
            docs: BTreeMap::new(),
            known: BTreeMap::new(),
            relays: BTreeMap::new(),
            polls: BTreeMap::new(),
        }
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let purpose = env.history.invocation(request.op).purpose;
        let back_ns = env.add_return_hop(request.return_ns, request.via);
        let conn = Conn { client: request.origin, back_ns };
        match purpose {
            Purpose::Connect => {
                self.open(request.key, conn);
                self.relay(request, conn, purpose, env);
            }
            Purpose::Edit => self.relay(request, conn, purpose, env),
            _ => {
                let onward = Request { return_ns: back_ns, via: self.data, ..request };
                env.send(self.data, Msg::Request(onward));
            }
        }
    }

    /// Registers `conn` on `key`, replacing an earlier connection of the same editor.
    fn open(&mut self, key: u32, conn: Conn) {
        let conns = self.docs.entry(key).or_default();
        match conns.iter_mut().find(|c| c.client == conn.client) {
            Some(c) => *c = conn,
            None => conns.push(conn),
        }
    }

    /// Sends the editor's request to the store as this server's own, to act on the answer.
    fn relay(&mut self, request: Request, conn: Conn, purpose: Purpose, env: &mut Env<'_>) {
        let own = Request { origin: env.id, via: self.data, return_ns: 0, ..request };
        if env.send(self.data, Msg::Request(own)) {
            self.relays.insert(request.op, Relay { conn, key: request.key, purpose });
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        if let Some(key) = self.polls.remove(&reply.op) {
            return self.on_poll(key, reply, env);
        }
        let Some(relay) = self.relays.remove(&reply.op) else {
            env.history.release_request(reply.op);
            return;
        };
        let mut answer = reply;
        if relay.purpose == Purpose::Connect {
            // The editor learns which server holds its connection.
            answer.front = env.id;
        }
        if relay.conn.back_ns == RETURN_LOST {
            env.history.release_request(reply.op);
        } else {
            env.deliver(SimDuration(relay.conn.back_ns), relay.conn.client, Msg::Reply(answer));
        }
        if relay.purpose == Purpose::Edit && reply.status == Status::Ok {
            self.known.insert(relay.key, reply.version);
            self.push(relay.key, reply.version, Some(relay.conn.client), env);
            if let (Propagation::PubSub, Some(bus)) = (self.propagation, self.bus) {
                let from = env.id.0;
                env.send(bus, Msg::Publish { key: relay.key, version: reply.version, from });
            }
        }
    }

    /// Pushes `version` of `key` to every connection on it but `except`'s.
    fn push(&self, key: u32, version: VersionId, except: Option<ComponentId>, env: &mut Env<'_>) {
        let Some(conns) = self.docs.get(&key) else { return };
        let server = env.id.0;
        for c in conns.iter().filter(|c| Some(c.client) != except && c.back_ns != RETURN_LOST) {
            env.deliver(SimDuration(c.back_ns), c.client, Msg::Push { key, version, server });
        }
    }

    /// Learns of `version` of `key` from elsewhere: pushes it unless already known.
    fn learn(&mut self, key: u32, version: VersionId, env: &mut Env<'_>) {
        let known = self.known.entry(key).or_insert(VersionId::ROOT);
        if env.history.dag_mut().includes(*known, version) {
            return;
        }
        *known = version;
        self.push(key, version, None, env);
    }

    fn on_poll(&mut self, key: u32, reply: Reply, env: &mut Env<'_>) {
        let (at, event) = (env.now(), env.event());
        let server = (reply.server.0, reply.source);
        env.history.complete(reply.op, Outcome::Ok, reply.version, server, at, event, true);
        self.learn(key, reply.version, env);
    }

    /// A polling tick: abandon the last tick's unanswered polls, then read every
    /// document that has a connection.
    fn on_tick(&mut self, every: SimDuration, env: &mut Env<'_>) {
        let (at, event) = (env.now(), env.event());
        for (op, _) in std::mem::take(&mut self.polls) {
            // A late answer finds no poll waiting and is released.
            env.history.complete(op, Outcome::Unknown, VersionId::ROOT, (0, 0), at, event, false);
        }
        if env.stopping() {
            return;
        }
        for (&key, _) in self.docs.iter().filter(|(_, c)| !c.is_empty()) {
            // A lost poll is abandoned like an unanswered one, at the next tick.
            let op = Self::poll(self.data, key, env);
            self.polls.insert(op, key);
        }
        env.timer(every, Msg::Wake);
    }

    /// Sends a read of `key` over `data` as this server's own operation.
    fn poll(data: LinkId, key: u32, env: &mut Env<'_>) -> OpId {
        let op = env.history.invoke(Invocation {
            client: u32::MAX,
            session: 0,
            kind: OpKind::Read,
            purpose: Purpose::Poll,
            key,
            message: 0,
            attempt: 1,
            seen: Sighting::NOTHING,
            stamp: env.now().as_nanos() as i64,
            invoked: env.now(),
            invoke_event: env.event(),
            newest: VersionId::ROOT,
        });
        let request = Request {
            origin: env.id,
            op,
            key,
            via: data,
            seen: VersionId::ROOT,
            return_ns: 0,
            kind: OpKind::Read,
            flags: 0,
        };
        env.send(data, Msg::Request(request));
        op
    }
}

impl Component for AppServer {
    fn start(&mut self, env: &mut Env<'_>) {
        if let Propagation::Poll { every } = self.propagation {
            // Servers started at different times poll out of phase.
            let phase = (env.rng.unit() * every.as_nanos() as f64) as u64;
            env.timer(SimDuration(phase), Msg::Wake);
        }
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            Msg::Publish { key, version, .. } => self.learn(key, version, env),
            Msg::Wake => match self.propagation {
                Propagation::Poll { every } => self.on_tick(every, env),
                Propagation::PubSub | Propagation::Notify => {}
            },
            Msg::Fault(_) => {}
            other => panic!("app server got unexpected {}", other.kind_name()),
        }
    }
}
