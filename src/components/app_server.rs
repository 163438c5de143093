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
//!
//! Login sessions (`sessions: local` or `shared`): a first connect logs the editor in
//! on the server it reaches. A reconnect presents the session; the server holds it,
//! or (shared) looks it up in the session cache. A session nobody holds logs the
//! editor out (it logs in again on this server); a cache that does not answer within
//! `CACHE_TIMEOUT` makes the server refuse the connection. Each outcome is reported
//! to the checkers as a session event.
//!
//! With `capacity`, every request an editor sends waits for one of the server's
//! workers (a Node.js server has one) and takes a drawn service time before the server
//! acts on it; the server's own work (polls, pushes) is not charged. With `pool`, every
//! query to the store takes one of the server's database connections until its answer
//! arrives (a poll also gives its connection back when it is abandoned; no statement
//! timeout is modelled, so a query the store never answers keeps its connection), and
//! queries wait for a free one; reads then go through the server instead of past it.
//!
//! A crash loses everything the server holds in memory: connections, sessions, what
//! it had pushed, queued requests; requests reaching it are dropped until it restarts,
//! empty.

use super::purposes;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Component;
use super::capacity::{Capacity, Load};
use super::env::{Env, OwnOp};
use super::kind::{BuildContext, Handling, KindFile};
use super::message::{FLAG_SESSION, Fault, Msg, RETURN_LOST, Reply, Request, Status};
use super::pool::Pool;
use crate::check::{
    Invocation, OpId, OpKind, Outcome, Purpose, SessionEvent, SessionFate, VersionId,
};
use crate::engine::{ComponentId, LinkId, SimDuration, SimTime};
use crate::model::CapacitySpec;
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems, RawCapacity, WORKERS_MAX};

// The kind: its file shape, validation, contract and build.

/// The role of an app server's store link when it listens for the store's commits; the
/// store notifies the links that fill it.
pub const LISTENING: &str = "store, listening for commits";

/// Most instances an app server may have.
pub const INSTANCES_MAX: u32 = 1000;

/// WebSocket app server parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "AppServer")]
pub struct RawAppServer {
    /// Instances, each with its own connections.
    #[serde(default = "crate::model::shape::one")]
    pub count: u32,
    /// `poll(every: "2s")`, `pubsub` or `notify`.
    pub propagation: RawPropagation,
    /// `local` or `shared`; absent: sessions are not modelled.
    #[serde(default)]
    pub sessions: Option<RawSessions>,
    /// `(workers: 1, service: exp("2ms"))`: each server's workers.
    #[serde(default)]
    pub capacity: Option<RawCapacity>,
    /// Each server's database connections.
    #[serde(default)]
    pub pool: Option<u32>,
}

/// Where app servers keep login sessions.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "sessions")]
pub enum RawSessions {
    /// In each server's memory.
    Local,
    /// In a shared session cache.
    Shared,
}

/// How app servers learn of each other's edits.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[serde(rename = "propagation")]
pub enum RawPropagation {
    /// Each server reads every open document from the store this often.
    Poll {
        /// The polling interval.
        every: Dur,
    },
    /// Each server publishes its edits to a broker that fans them out.
    Pubsub,
    /// The store notifies every server of each commit (LISTEN/NOTIFY, change data capture).
    Notify,
}

/// WebSocket app server parameters.
#[derive(Debug, Clone)]
pub struct AppServerSpec {
    /// Instances (`api/0`, `api/1`, ...), each with its own connections.
    pub count: u32,
    /// How a server learns of edits made through the others.
    pub propagation: Propagation,
    /// Where a server keeps its editors' login sessions.
    pub sessions: SessionStore,
    /// Each server's workers and service time for the requests it takes (`None`:
    /// unlimited and instant).
    pub capacity: Option<CapacitySpec>,
    /// Each server's database connections (`None`: unlimited).
    pub pool: Option<u32>,
}

/// Where app servers keep login sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStore {
    /// Not modelled: every connection is accepted.
    Unmodelled,
    /// In the server's own memory: a reconnect that lands on another server, or on the
    /// same one after a restart, finds no session and the editor must log in again.
    Local,
    /// In a session cache all servers share; a server looks a session it does not hold
    /// up there, and cannot accept the connection while the cache does not answer.
    Shared,
}

/// How app servers learn of each other's edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Each server reads every document its editors have open from the store this often.
    Poll {
        /// The polling interval.
        every: crate::engine::SimDuration,
    },
    /// Each server publishes its edits to its broker, which sends them to the others.
    PubSub,
    /// The store tells every server of each commit, as PostgreSQL's LISTEN/NOTIFY or a
    /// change-data-capture stream does: no broker, but one notification per commit
    /// for every listening server, whether its editors have the document open or not.
    Notify,
}

impl KindFile for RawAppServer {
    /// Connections and edits: the server holds each editor's WebSocket. Token renewals
    /// too, when tokens are modelled.
    const HANDLES: Handling = Handling {
        purposes: &[purposes::CONNECT, purposes::EDIT, purposes::TOKEN_REFRESH],
        why: "it holds the WebSocket",
        example: r#""api": AppServer(count: 2, propagation: pubsub)"#,
    };

    type Spec = AppServerSpec;
    type Actor = Box<AppServer>;

    fn validate(&self, c: &mut Problems) -> AppServerSpec {
        let a = self;
        c.count(&["count"], a.count, INSTANCES_MAX);
        let propagation = match a.propagation {
            RawPropagation::Poll { every } => {
                if every.0 == SimDuration::ZERO {
                    let msg = "polling `every` must be above 0".to_string();
                    c.error(&["propagation"], msg, None);
                }
                Propagation::Poll { every: every.0 }
            }
            RawPropagation::Pubsub => Propagation::PubSub,
            RawPropagation::Notify => Propagation::Notify,
        };
        let sessions = match a.sessions {
            None => SessionStore::Unmodelled,
            Some(RawSessions::Local) => SessionStore::Local,
            Some(RawSessions::Shared) => SessionStore::Shared,
        };
        let path = ["capacity"];
        let capacity = a.capacity.as_ref().map(|x| c.capacity(&path, x));
        if a.pool.is_some_and(|p| p == 0 || p > WORKERS_MAX) {
            let msg = format!("`pool` must be between 1 and {WORKERS_MAX} connections");
            c.error(&["pool"], msg, None);
        }
        AppServerSpec { count: a.count, propagation, sessions, capacity, pool: a.pool }
    }

    /// Builds one app server instance over its links.
    fn build(spec: &AppServerSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let data = ctx.link("store").or(ctx.link(LISTENING));
        let data = data.ok_or("an app server needs a store link")?;
        let links = AppLinks { data, bus: ctx.link("broker"), cache: ctx.link("sessions") };
        let token_ttl = ctx.scenario.clients.auth.map(|auth| auth.token_ttl);
        Ok(Box::new(AppServer::new(spec, links).with_token_ttl(token_ttl)))
    }
}

impl KindSpec for AppServerSpec {
    /// App servers: `count` instances, each with one store link, a broker link (needed to
    /// propagate by pub/sub) and a session cache link (needed with `sessions: shared`; other
    /// session settings leave it unused, so `--set` can switch). They can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("app server", Serves::Server);
        c.instances = self.count;
        let pubsub = u32::from(self.propagation == Propagation::PubSub);
        let broker = Role::new("broker", Target::Only(Serves::Broker), pubsub, 1);
        let wants = if pubsub == 1 {
            "one link to a pub/sub broker, as it propagates by pub/sub"
        } else {
            "at most one link to a pub/sub broker"
        };
        c.roles.push(broker.wanting(wants, "bus"));
        let shared = u32::from(self.sessions == SessionStore::Shared);
        let cache = Role::new("sessions", Target::Only(Serves::SessionCache), shared, 1);
        let wants = "one session cache link with `sessions: shared` (at most one otherwise)";
        c.roles.push(cache.wanting(wants, "sessions"));
        let store = if self.propagation == Propagation::Notify { LISTENING } else { "store" };
        c.roles
            .push(Role::new(store, Target::Requests, 1, 1).wanting("one link to its store", "db"));
        c.faults.push(FaultKind::Crash);
        c.slows(self.capacity.is_some());
        c
    }
}

// The component.

/// How long a server waits for the session cache before refusing a connection.
pub const CACHE_TIMEOUT: SimDuration = SimDuration::from_millis(500);

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

/// A request to the session cache, waiting for its answer.
#[derive(Debug, Clone, Copy)]
enum CacheCall {
    /// A reconnect waiting for its session.
    Lookup { request: Request, conn: Conn, editor: u32 },
    /// A new session being stored.
    Save,
}

/// The links an app server talks over.
#[derive(Debug, Clone, Copy)]
pub struct AppLinks {
    /// To its store.
    pub data: LinkId,
    /// To its pub/sub broker.
    pub bus: Option<LinkId>,
    /// To the session cache.
    pub cache: Option<LinkId>,
}

/// A WebSocket app server.
#[derive(Debug)]
pub struct AppServer {
    propagation: Propagation,
    sessions: SessionStore,
    data: LinkId,
    bus: Option<LinkId>,
    cache: Option<LinkId>,
    up: bool,
    /// Editors whose login session this server holds.
    local: BTreeSet<u32>,
    /// Requests to the session cache in flight, by operation slot, with the number
    /// their timer carries (a slot is reused once answered; a number never is).
    calls: BTreeMap<OpId, (u32, CacheCall)>,
    /// The slot of each call whose timer is still set, by the timer's number.
    timers: BTreeMap<u32, OpId>,
    next_timer: u32,
    /// Open connections per document.
    docs: BTreeMap<u32, Vec<Conn>>,
    /// Per document, the last version this server pushed or wrote.
    known: BTreeMap<u32, VersionId>,
    relays: BTreeMap<OpId, Relay>,
    /// This server's polls in flight, by operation slot: the document.
    polls: BTreeMap<OpId, u32>,
    /// How long an access token is valid (`None`: tokens are not modelled).
    token_ttl: Option<SimDuration>,
    tokens: TokenCounts,
    /// Documents to poll this tick (kept to spare an allocation per tick).
    scratch: Vec<u32>,
    /// The workers editors' requests wait for (`None`: unlimited). Boxed, like the
    /// pool: most servers have neither, and every instance takes the largest size.
    cpu: Option<Box<Capacity<Request>>>,
    /// Database connections (`None`: unlimited).
    pool: Option<Box<Pool>>,
}

/// What the server did with access tokens.
#[derive(Debug, Clone, Copy, Default)]
struct TokenCounts {
    issued: u64,
    renewals_refused: u64,
    expired: u64,
}

impl AppServer {
    /// A server that reads and writes over `links.data`, publishes over `links.bus` and
    /// keeps shared sessions over `links.cache`.
    pub fn new(spec: &AppServerSpec, links: AppLinks) -> AppServer {
        AppServer {
            propagation: spec.propagation,
            sessions: spec.sessions,
            data: links.data,
            bus: links.bus,
            cache: links.cache,
            up: true,
            local: BTreeSet::new(),
            calls: BTreeMap::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
            docs: BTreeMap::new(),
            known: BTreeMap::new(),
            relays: BTreeMap::new(),
            polls: BTreeMap::new(),
            token_ttl: None,
            tokens: TokenCounts::default(),
            scratch: Vec::new(),
            cpu: spec.capacity.as_ref().map(|c| Box::new(Capacity::new(c, 0))),
            pool: spec.pool.map(|size| Box::new(Pool::new(size))),
        }
    }

    /// Checks the access token of every request: valid for `ttl` after it was issued.
    pub fn with_token_ttl(mut self, ttl: Option<SimDuration>) -> AppServer {
        self.token_ttl = ttl;
        self
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        if !self.up {
            return env.drop_request(&request);
        }
        let Some(cpu) = &mut self.cpu else { return self.handle(request, env) };
        if let Err(turned) = cpu.arrive(request, env) {
            env.drop_request(&turned); // Queue full: the editor times out.
        }
    }

    /// A worker finished a request's service: the server acts on it.
    fn on_done(&mut self, job: u32, env: &mut Env<'_>) {
        let (_, worker) = Capacity::<Request>::split(job);
        let Some(cpu) = &mut self.cpu else { return };
        if let Some(request) = cpu.done(worker, env) {
            self.handle(request, env);
        }
    }

    fn handle(&mut self, request: Request, env: &mut Env<'_>) {
        let inv = env.invocation(request.op);
        let (purpose, editor) = (inv.purpose, inv.client);
        let back_ns = env.add_return_hop(request.return_ns, request.via);
        let conn = Conn { client: request.origin, back_ns };
        if let Some(status) = self.token_check(&inv, env) {
            return self.answer(request.op, conn, status, env);
        }
        match purpose {
            p if p == purposes::CONNECT => self.on_connect(request, conn, editor, env),
            p if p == purposes::EDIT => self.relay(request, conn, purpose, env),
            // A query needs a connection, so the answer comes back through the server.
            _ if self.pool.is_some() => self.relay(request, conn, purpose, env),
            _ => {
                let onward = Request { return_ns: back_ns, via: self.data, ..request };
                env.send(self.data, Msg::Request(onward));
            }
        }
    }

    /// What the request's access token decides, if it decides anything: a renewal is
    /// answered here (refused once the user's access is revoked), and any other request
    /// on an expired token is refused. The token itself is all the server checks, so a
    /// revoked user's unexpired token still works.
    fn token_check(&mut self, inv: &Invocation, env: &Env<'_>) -> Option<Status> {
        let ttl = self.token_ttl?;
        let now = env.now();
        if inv.purpose == purposes::TOKEN_REFRESH {
            if env.revoked_at(inv.client).is_some_and(|at| at <= now) {
                self.tokens.renewals_refused += 1;
                return Some(Status::Unauthorized);
            }
            self.tokens.issued += 1;
            return Some(Status::Ok);
        }
        if now >= inv.token.after(ttl) {
            self.tokens.expired += 1;
            return Some(Status::Unauthorized);
        }
        None
    }

    /// Finds the editor's login session, then accepts the connection (or refuses it).
    fn on_connect(&mut self, request: Request, conn: Conn, editor: u32, env: &mut Env<'_>) {
        let presented = request.flags & FLAG_SESSION != 0;
        match self.sessions {
            SessionStore::Unmodelled => {}
            _ if self.local.contains(&editor) => self.session(editor, SessionFate::Kept, env),
            _ if !presented => self.log_in(editor, SessionFate::LoggedIn, env),
            SessionStore::Local => self.log_in(editor, SessionFate::Lost, env),
            SessionStore::Shared => return self.look_up(request, conn, editor, env),
        }
        self.accept(request, conn, env);
    }

    fn accept(&mut self, request: Request, conn: Conn, env: &mut Env<'_>) {
        self.open(request.key, conn);
        self.relay(request, conn, purposes::CONNECT, env);
    }

    fn session(&self, client: u32, fate: SessionFate, env: &mut Env<'_>) {
        let (server, at, event) = (env.id.0, env.now(), env.event());
        env.session(SessionEvent { client, server, fate, at, event });
    }

    /// Starts a session for `editor` here (and in the shared cache).
    fn log_in(&mut self, editor: u32, fate: SessionFate, env: &mut Env<'_>) {
        self.session(editor, fate, env);
        self.local.insert(editor);
        if let (SessionStore::Shared, Some(cache)) = (self.sessions, self.cache) {
            self.call(cache, purposes::SESSION_SAVE, editor, CacheCall::Save, env);
        }
    }

    /// Asks the session cache for `editor`'s session, holding the connect meanwhile.
    fn look_up(&mut self, request: Request, conn: Conn, editor: u32, env: &mut Env<'_>) {
        let Some(cache) = self.cache else { return self.accept(request, conn, env) };
        let call = CacheCall::Lookup { request, conn, editor };
        self.call(cache, purposes::SESSION_LOOKUP, editor, call, env);
    }

    fn call(
        &mut self,
        cache: LinkId,
        purpose: Purpose,
        editor: u32,
        call: CacheCall,
        env: &mut Env<'_>,
    ) {
        let request = Self::server_op(cache, OpKind::Control, purpose, 0, editor, env);
        let op = request.op;
        env.send(cache, Msg::Request(request));
        let seq = self.next_timer;
        self.next_timer = self.next_timer.wrapping_add(1);
        self.calls.insert(op, (seq, call));
        self.timers.insert(seq, op);
        env.timer(CACHE_TIMEOUT, Msg::Timeout { op_seq: seq });
    }

    fn on_cache_reply(&mut self, (seq, call): (u32, CacheCall), reply: Reply, env: &mut Env<'_>) {
        self.timers.remove(&seq);
        let outcome = if reply.status == Status::Ok { Outcome::Ok } else { Outcome::Rejected };
        let server = (reply.server.0, reply.source);
        env.complete(reply.op, (outcome, VersionId::ROOT), server, true);
        let CacheCall::Lookup { request, conn, editor } = call else { return };
        if outcome == Outcome::Ok {
            self.session(editor, SessionFate::Restored, env);
            self.local.insert(editor);
        } else {
            self.log_in(editor, SessionFate::Lost, env);
        }
        self.accept(request, conn, env);
    }

    /// The cache did not answer in time: a waiting connect is refused.
    fn on_cache_timeout(&mut self, seq: u32, env: &mut Env<'_>) {
        let Some(op) = self.timers.remove(&seq) else { return }; // Answered in time.
        let Some((_, call)) = self.calls.remove(&op) else { return };
        env.give_up(op);
        if let CacheCall::Lookup { request, conn, editor } = call {
            self.session(editor, SessionFate::Unavailable, env);
            self.answer(request.op, conn, Status::Refused, env);
        }
    }

    /// Tells the editor on `conn` how its request `op` ended, without the store.
    fn answer(&self, op: OpId, conn: Conn, status: Status, env: &mut Env<'_>) {
        if conn.back_ns == RETURN_LOST {
            return env.release(op);
        }
        let (version, server, front) = (VersionId::ROOT, env.id, env.id);
        let reply = Reply { op, version, server, source: 0, front, status };
        env.deliver(SimDuration(conn.back_ns), conn.client, Msg::Reply(reply));
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
        self.relays.insert(request.op, Relay { conn, key: request.key, purpose });
        self.query_store(own, env);
    }

    /// Sends a query to the store, once the pool (if any) gives it a connection.
    fn query_store(&mut self, query: Request, env: &mut Env<'_>) {
        let granted = match &mut self.pool {
            Some(pool) => {
                pool.set_interval(env.timeline_interval());
                pool.acquire(query, env.now())
            }
            None => Some(query),
        };
        self.send_granted(granted, env);
    }

    /// Sends queries that hold a connection; one lost on the way frees its connection
    /// at once, for the next in line.
    fn send_granted(&mut self, mut granted: Option<Request>, env: &mut Env<'_>) {
        while let Some(query) = granted.take() {
            if env.send(self.data, Msg::Request(query)) {
                return;
            }
            self.relays.remove(&query.op); // The editor times out.
            granted = self.release(query.op, env);
        }
    }

    /// Query `op` holds no connection any more: the next waiting query, if any, gets it.
    fn release(&mut self, op: OpId, env: &mut Env<'_>) -> Option<Request> {
        self.pool.as_mut().and_then(|p| p.release(op, env.now()))
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let next = self.release(reply.op, env);
        self.send_granted(next, env);
        if let Some(key) = self.polls.remove(&reply.op) {
            return self.on_poll(key, reply, env);
        }
        if let Some(call) = self.calls.remove(&reply.op) {
            return self.on_cache_reply(call, reply, env);
        }
        let Some(relay) = self.relays.remove(&reply.op) else {
            env.release(reply.op);
            return;
        };
        let mut answer = reply;
        if relay.purpose == purposes::CONNECT {
            // The editor learns which server holds its connection.
            answer.front = env.id;
        }
        if relay.conn.back_ns == RETURN_LOST {
            env.release(reply.op);
        } else {
            env.deliver(SimDuration(relay.conn.back_ns), relay.conn.client, Msg::Reply(answer));
        }
        if relay.purpose == purposes::EDIT && reply.status == Status::Ok {
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
        if env.includes(*known, version) {
            return;
        }
        *known = version;
        self.push(key, version, None, env);
    }

    fn on_poll(&mut self, key: u32, reply: Reply, env: &mut Env<'_>) {
        let server = (reply.server.0, reply.source);
        env.complete(reply.op, (Outcome::Ok, reply.version), server, true);
        self.learn(key, reply.version, env);
    }

    /// A polling tick: abandon the last tick's unanswered polls, then read every
    /// document that has a connection.
    fn on_tick(&mut self, every: SimDuration, env: &mut Env<'_>) {
        for (op, _) in std::mem::take(&mut self.polls) {
            // A late answer finds no poll waiting and is released.
            env.give_up(op);
            let next = self.release(op, env);
            self.send_granted(next, env);
        }
        if env.stopping() {
            return;
        }
        let mut open = std::mem::take(&mut self.scratch);
        open.clear();
        open.extend(self.docs.iter().filter(|(_, c)| !c.is_empty()).map(|(&key, _)| key));
        for &key in &open {
            // A lost poll is abandoned like an unanswered one, at the next tick.
            let poll = Self::server_op(self.data, OpKind::Read, purposes::POLL, key, u32::MAX, env);
            self.polls.insert(poll.op, key);
            self.query_store(poll, env);
        }
        self.scratch = open;
        env.timer(every, Msg::Wake);
    }

    /// A request of this server's own, to send over `link`: a poll of `key`, or a
    /// session call on behalf of editor `client`.
    fn server_op(
        link: LinkId,
        kind: OpKind,
        purpose: Purpose,
        key: u32,
        client: u32,
        env: &mut Env<'_>,
    ) -> Request {
        env.own_request(link, OwnOp { client, kind, purpose, key, token: SimTime::ZERO })
    }

    /// Loses everything held in memory; in-flight work is abandoned.
    fn crash(&mut self, env: &mut Env<'_>) {
        let at = env.now();
        let abandoned = std::mem::take(&mut self.polls).into_keys();
        self.timers.clear();
        for op in abandoned.chain(std::mem::take(&mut self.calls).into_keys()) {
            // A late answer finds nothing waiting and is released.
            env.give_up(op);
        }
        // Requests waiting for a worker or a connection are gone; their editors time out.
        if let Some(cpu) = &mut self.cpu {
            cpu.drop_all(at, |r| env.drop_request(&r));
        }
        if let Some(pool) = &mut self.pool {
            pool.clear(at, |q| env.drop_request(&q));
        }
        self.up = false;
        self.docs.clear();
        self.known.clear();
        self.local.clear();
        self.relays.clear();
    }
}

impl Component for AppServer {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.known.iter().for_each(|(&key, v)| held(v.of_key(key)));
        let lookups = self.calls.values().filter_map(|(_, call)| match call {
            CacheCall::Lookup { request, .. } => Some(request),
            CacheCall::Save => None,
        });
        let cpu = self.cpu.iter().flat_map(|c| c.held());
        let pool = self.pool.iter().flat_map(|p| p.held());
        lookups.chain(cpu).chain(pool).for_each(|r| held(r.seen.of_key(r.key)));
        true
    }

    /// What the workers and the connection pool did up to `now`: `""` for the workers,
    /// `" pool"` for the connections (empty when the server has neither).
    fn loads(&self, now: SimTime) -> Vec<(String, Load)> {
        let cpu = self.cpu.as_ref().map(|c| (String::new(), c.load(now)));
        let pool = self.pool.as_ref().map(|p| (" pool".to_string(), p.load(now)));
        cpu.into_iter().chain(pool).collect()
    }

    /// Tokens issued, renewals refused (access revoked), requests refused on an
    /// expired token; empty without tokens.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        if self.token_ttl.is_none() {
            return Vec::new();
        }
        let t = self.tokens;
        vec![
            ("tokens_issued", t.issued),
            ("renewals_refused", t.renewals_refused),
            ("expired_tokens_refused", t.expired),
        ]
    }

    /// Whether it serves (a crashed server answers nothing, not even probes).
    fn is_up(&self) -> bool {
        self.up
    }

    fn start(&mut self, env: &mut Env<'_>) {
        if let Propagation::Poll { every } = self.propagation {
            // Servers started at different times poll out of phase.
            let phase = (env.rng().unit() * every.as_nanos() as f64) as u64;
            env.timer(SimDuration(phase), Msg::Wake);
        }
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Reply(reply) if !self.up => env.release(reply.op),
            Msg::Reply(reply) => self.on_reply(reply, env),
            Msg::Publish { .. } if !self.up => {}
            Msg::Publish { key, version, .. } => self.learn(key, version, env),
            Msg::Wake => match self.propagation {
                Propagation::Poll { every } => self.on_tick(every, env),
                Propagation::PubSub | Propagation::Notify => {}
            },
            Msg::Timeout { op_seq } => self.on_cache_timeout(op_seq, env),
            Msg::Done { job } => self.on_done(job, env),
            Msg::Fault(Fault::Crash) if self.up => self.crash(env),
            Msg::Fault(Fault::SlowFactor(milli)) => {
                self.cpu.iter_mut().for_each(|c| c.slow_down(milli));
            }
            Msg::Fault(Fault::Restart) => self.up = true,
            Msg::Fault(_) => {}
            other => panic!("app server got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{
        BenchWorld, answer, bench, deliver, last_request, ms, request_for, run,
    };
    use crate::engine::Sim;

    const STORE: ComponentId = ComponentId(3);

    /// A server (tokens valid for `ttl`, if any) in front of the store probe; probes 1
    /// and 2 are editors of document 0.
    fn server(ttl: Option<SimDuration>) -> (Sim<BenchWorld>, [LinkId; 2]) {
        let spec = AppServerSpec {
            count: 1,
            propagation: Propagation::Notify,
            sessions: SessionStore::Unmodelled,
            capacity: None,
            pool: None,
        };
        let (sim, links) = bench(3, 1, |l| {
            let links = AppLinks { data: l.callees[2], bus: None, cache: None };
            BuiltIn::AppServer(Box::new(AppServer::new(&spec, links).with_token_ttl(ttl)))
        });
        (sim, [links.callers[0], links.callers[1]])
    }

    /// The store probe answers the last request it received, `Ok`, at `at`.
    fn store_answers(sim: &mut Sim<BenchWorld>, at: u64) -> VersionId {
        let q = last_request(sim, Some(STORE));
        answer(sim, ms(at), (STORE, Status::Ok), q, VersionId::ROOT)
    }

    /// What the editors received, each as `ms probe what`.
    fn editors_got(sim: &Sim<BenchWorld>) -> Vec<String> {
        let to_editors = sim.actor.received.iter().filter(|r| r.probe != STORE);
        let line = |msg: Msg| match msg {
            Msg::Reply(r) => format!("{:?} reply from {}", r.status, r.front.0),
            Msg::Push { version, .. } => format!("push {version}"),
            other => other.kind_name().to_string(),
        };
        let ms = |t: SimTime| t.as_nanos() / 1_000_000;
        to_editors.map(|r| format!("{} {} {}", ms(r.at), r.probe.0, line(r.msg))).collect()
    }

    fn connect_both(sim: &mut Sim<BenchWorld>, editors: [LinkId; 2]) {
        for (i, via) in editors.into_iter().enumerate() {
            let t = 2 * i as u64;
            request_for(sim, ms(t), via, (OpKind::Read, purposes::CONNECT), 0);
            run(sim, ms(t));
            store_answers(sim, t + 1);
        }
    }

    #[test]
    fn an_edit_is_acknowledged_to_its_editor_and_pushed_to_the_others() {
        let (mut sim, editors) = server(None);
        connect_both(&mut sim, editors);
        request_for(&mut sim, ms(5), editors[0], (OpKind::Write, purposes::EDIT), 0);
        run(&mut sim, ms(5));
        let v = store_answers(&mut sim, 6);
        run(&mut sim, ms(100));
        let want = ["1 1 Ok reply from 0", "3 2 Ok reply from 0", "6 1 Ok reply from 3"];
        let mut want: Vec<String> = want.map(String::from).to_vec();
        want.push(format!("6 2 push {v}"));
        assert_eq!(editors_got(&sim), want, "the editor that wrote gets no push of its edit");
    }

    #[test]
    fn a_crash_forgets_the_connections_and_drops_requests_until_the_restart() {
        let (mut sim, editors) = server(None);
        connect_both(&mut sim, editors);
        deliver(&mut sim, ms(4), Msg::Fault(Fault::Crash));
        request_for(&mut sim, ms(5), editors[0], (OpKind::Write, purposes::EDIT), 0);
        deliver(&mut sim, ms(6), Msg::Fault(Fault::Restart));
        request_for(&mut sim, ms(7), editors[0], (OpKind::Write, purposes::EDIT), 0);
        run(&mut sim, ms(7));
        store_answers(&mut sim, 8);
        run(&mut sim, ms(100));
        let store_got = sim.actor.received.iter().filter(|r| r.probe == STORE).count();
        assert_eq!(store_got, 3, "two connects and the edit after the restart");
        let got = editors_got(&sim);
        assert_eq!(got[2..], ["8 1 Ok reply from 3"], "no connection left to push to");
    }

    #[test]
    fn an_expired_token_is_refused_and_a_revoked_user_gets_no_new_one() {
        let (mut sim, editors) = server(Some(SimDuration::from_secs(10)));
        let read = (OpKind::Read, purposes::CONNECT);
        request_for(&mut sim, ms(11_000), editors[0], read, 0);
        let renew = (OpKind::Control, purposes::TOKEN_REFRESH);
        request_for(&mut sim, ms(12_000), editors[0], renew, 0);
        run(&mut sim, ms(12_500));
        sim.actor.history.revoke(1, ms(12_500), 0);
        request_for(&mut sim, ms(13_000), editors[0], renew, 0);
        run(&mut sim, ms(20_000));
        let want = [
            "11000 1 Unauthorized reply from 0",
            "12000 1 Ok reply from 0",
            "13000 1 Unauthorized reply from 0",
        ];
        assert_eq!(editors_got(&sim), want);
        let counts = sim.actor.component.counts();
        assert_eq!(
            counts,
            [("tokens_issued", 1), ("renewals_refused", 1), ("expired_tokens_refused", 1)]
        );
    }
}
