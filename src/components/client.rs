//! A client: one user running a workflow, round after round.
//!
//! The client sends each request over its link to the architecture's entry point and
//! waits for the reply before moving on (one request in flight). Every write carries a
//! new message and names the version the client last observed (its base); a read or
//! refresh updates that observation. Between rounds the client thinks for a drawn time.
//! With a timeout, a request that gets no reply ends `Unknown`; with a retry policy,
//! timed-out and refused operations are sent again after a backoff, a write with the
//! same message (and idempotency key, if enabled). The client's clock (skew, drift,
//! jumps) stamps its writes for client-clock last-write-wins. After the run's duration
//! the client starts nothing new.
//!
//! With a link to a sentinel gate, every action (a write of any kind) is wrapped: a
//! `prepare` before it, which may refuse it, and a `finalize` after it. A completion's
//! acknowledgement starts a stream; the client then takes chunks until `message_stop`,
//! and a disconnect while streaming breaks the stream. `recover` polls
//! `/stream_status` with backoff after a broken stream and then fetches the conversation
//! with the persisted response's version as its token.

use super::circuit_breaker::Breaker;
use super::purposes;
use std::sync::Arc;

use super::Component;
use super::env::Env;
use super::message::{
    FLAG_IDEMPOTENT, FLAG_SESSION, FLAG_TOKEN, Fault, Msg, Reply, Request, Status,
};
use super::workflow::{Instr, is_action};
use crate::check::{Invocation, OpId, OpKind, Outcome, Purpose, Push, Sighting, VersionId};
use crate::engine::{ComponentId, Dist, LinkId, SimDuration, SimTime};
use crate::model::{AuthSpec, BreakerSpec, ClockSpec, Jitter, RetrySpec, TokenStorage};

/// First wait between two `/stream_status` polls; it doubles up to `POLL_BACKOFF_MAX`.
pub const POLL_BACKOFF_FIRST: SimDuration = SimDuration(500_000_000);
/// Longest wait between two polls.
pub const POLL_BACKOFF_MAX: SimDuration = SimDuration(8_000_000_000);
/// Polls before a client gives up recovering a stream.
pub const POLLS_MAX: u32 = 20;
/// How long a client waits for `message_stop` after the last chunk, without a timeout.
pub const STREAM_END_WAIT: SimDuration = SimDuration(30_000_000_000);

/// What every client of a population does; shared, so a client costs a pointer.
#[derive(Debug)]
pub struct Workload {
    /// The compiled steps of one round.
    pub program: Vec<Instr>,
    /// Pause between rounds.
    pub think: Dist,
    /// Give up on a request after this long.
    pub timeout: Option<SimDuration>,
    /// Retry policy.
    pub retry: Option<RetrySpec>,
    /// Circuit breaker.
    pub breaker: Option<BreakerSpec>,
    /// Send a second copy of a read unanswered after this long.
    pub hedge: Option<SimDuration>,
    /// Writes carry an idempotency key.
    pub idempotency_key: bool,
    /// Reads carry the session token.
    pub session_tokens: bool,
    /// Clock error.
    pub clock: ClockSpec,
    /// Access tokens, if modelled.
    pub auth: Option<AuthSpec>,
    /// Where an injected script sends the tokens it reads.
    pub attacker: Option<ComponentId>,
    /// An open population's arrival source and its first client's index: each round
    /// starts at an arrival, and the client tells the source when it is free again.
    pub open: Option<(ComponentId, u32)>,
}

/// What the current instruction asks for, decided before the client acts on it.
enum Step {
    Send(OpKind, Purpose),
    Create,
    Sleep(u64),
    Resubmit,
    OpenTab,
    Recover,
    Skip(usize),
}

/// The request a client is waiting on.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    op: OpId,
    seq: u32,
    kind: OpKind,
    purpose: Purpose,
    attempt: u32,
}

/// An action in progress: a write of any kind, with its gate calls around it.
#[derive(Debug, Clone, Copy)]
struct Action {
    kind: OpKind,
    purpose: Purpose,
    started: SimTime,
    gate_ns: u64,
}

/// A response being streamed to the client.
#[derive(Debug, Clone, Copy)]
struct Streaming {
    /// The message it answers.
    message: u32,
    /// The client's `Stream` operation.
    op: OpId,
    /// Guards the wait for `message_stop`.
    seq: u32,
    /// When the completion was sent.
    requested: SimTime,
    received: u32,
    of: u32,
}

/// Mid-stream disconnects this client suffers (as the fault says them, compactly:
/// there is one per client).
#[derive(Debug, Clone, Copy)]
struct MidStream {
    chance_ppm: u32,
    within_ms: u32,
    lasting_ms: u32,
}

/// A request waiting for the access token's renewal (compact: one per client).
#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: OpKind,
    purpose: Purpose,
    attempt: u16,
}

impl Pending {
    fn in_flight(self) -> InFlight {
        let (kind, purpose, attempt) = (self.kind, self.purpose, u32::from(self.attempt));
        InFlight { op: 0, seq: 0, kind, purpose, attempt }
    }
}

/// A full retry budget (0 without one).
fn workload_tokens(w: &Workload) -> f32 {
    w.retry.as_ref().and_then(|r| r.budget).map_or(0.0, |b| b.tokens as f32)
}

/// Whether an operation may be hedged: a read of the page's key, which a second copy
/// cannot do twice.
fn hedged(kind: OpKind, purpose: Purpose) -> bool {
    kind == OpKind::Read && purpose.one_key() && purpose.info().by == crate::check::Actor::Client
}

/// `Client::token` when the client must get a new token before its next request.
const NO_TOKEN: SimTime = SimTime(u64::MAX);

/// One simulated user.
#[derive(Debug)]
pub struct Client {
    index: u32,
    key: u32,
    entry: LinkId,
    gate: Option<LinkId>,
    workload: Arc<Workload>,
    pc: usize,
    op_seq: u32,
    in_flight: Option<InFlight>,
    seen: Sighting,
    last_write: VersionId,
    message: u32,
    session: u32,
    action: Option<Action>,
    /// When its access token was issued (`None`: it must get a new one first).
    token: SimTime,
    /// Tokens left in its retry budget.
    retry_tokens: f32,
    /// What only some workflows and faults need, made on first use.
    extras: Option<Box<Extras>>,
}

/// What a client keeps only once its workflow or a fault needs it: a retry or poll
/// waiting, a stream and its recovery, an editor's connection, a token renewal, a
/// hedge, its clock error, a disconnection, its breaker. Boxed and made on first use:
/// a run holds one client per user, and a plain workflow's client then costs a third
/// of the bytes.
#[derive(Debug)]
struct Extras {
    /// An operation to send again when the backoff timer fires.
    retry_due: Option<InFlight>,
    clock_offset_ns: i64,
    drift_ppb: i64,
    offline_until: SimTime,
    stream: Option<Streaming>,
    /// The last stream broke: recovery has something to do.
    broken: bool,
    polls: u32,
    /// The version `/stream_status` reported, fetched with it as the token.
    fetch_token: VersionId,
    mid_stream: Option<MidStream>,
    /// The app server holding this editor's open WebSocket connection.
    connected_to: Option<u32>,
    /// Whether the editor has logged in (its browser holds a session cookie).
    logged_in: bool,
    /// The request waiting for a token renewal.
    after_renewal: Option<Pending>,
    /// Its access was revoked and its token could not be renewed: the user is out.
    signed_out: bool,
    /// Its circuit breaker (closed, and never consulted, without one).
    breaker: Breaker,
    /// The second copy of a hedged read, while both are out.
    hedge: Option<InFlight>,
    /// The failure being handled is an open breaker's: no try went out.
    failing_fast: bool,
}

impl Extras {
    /// A client that has needed none of them.
    const NONE: Extras = Extras {
        retry_due: None,
        clock_offset_ns: 0,
        drift_ppb: 0,
        offline_until: SimTime::ZERO,
        stream: None,
        broken: false,
        polls: 0,
        fetch_token: VersionId::ROOT,
        mid_stream: None,
        connected_to: None,
        logged_in: false,
        after_renewal: None,
        signed_out: false,
        breaker: Breaker::CLOSED,
        hedge: None,
        failing_fast: false,
    };
}

/// What a client without extras reads.
static NO_EXTRAS: Extras = Extras::NONE;

impl Client {
    /// Client number `index`, working on `key`, entering the architecture over `entry`.
    pub fn new(index: u32, key: u32, entry: LinkId, workload: Arc<Workload>) -> Client {
        assert!(!workload.program.is_empty(), "a client needs a workflow");
        let retry_tokens = workload_tokens(&workload);
        Client {
            index,
            key,
            entry,
            gate: None,
            workload,
            pc: 0,
            op_seq: 0,
            in_flight: None,
            seen: Sighting::NOTHING,
            last_write: VersionId::ROOT,
            message: 0,
            session: 0,
            action: None,
            // Logged in when the page loads, at the start of the run.
            token: SimTime::ZERO,
            retry_tokens,
            extras: None,
        }
    }

    /// Its extras as they stand (none made: as a client that needed none has them).
    #[inline]
    fn extras(&self) -> &Extras {
        self.extras.as_deref().unwrap_or(&NO_EXTRAS)
    }

    /// Its extras, to change: made now if they were not.
    fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(|| Box::new(Extras::NONE))
    }

    /// Its extras if they were made, to clear a field without making them.
    #[inline]
    fn made_extras(&mut self) -> Option<&mut Extras> {
        self.extras.as_deref_mut()
    }

    /// Wraps every action of this client in `prepare`/`finalize` calls over `gate`.
    pub fn with_gate(mut self, gate: Option<LinkId>) -> Client {
        self.gate = gate;
        self
    }

    /// Sets this client's clock error: a fixed offset and a drift in parts per billion
    /// (for experiments that need exact clocks; scenarios draw them from `clock`).
    pub fn set_clock(&mut self, offset_ns: i64, drift_ppb: i64) {
        let extras = self.extras_mut();
        extras.clock_offset_ns = offset_ns;
        extras.drift_ppb = drift_ppb;
    }

    /// This client's clock reading at true time `t` (ns, may be negative).
    pub fn clock(&self, t: SimTime) -> i64 {
        let t = i128::from(t.0);
        let extras = self.extras();
        let drift = t * i128::from(extras.drift_ppb) / 1_000_000_000;
        (t + drift + i128::from(extras.clock_offset_ns)) as i64
    }

    fn draw_clock(&mut self, env: &mut Env<'_>) {
        let c = self.workload.clock;
        if c.skew.as_nanos() > 0 {
            let skew = c.skew.as_nanos() as f64;
            self.extras_mut().clock_offset_ns = ((env.rng().unit() * 2.0 - 1.0) * skew) as i64;
        }
        if c.drift_ppm > 0.0 {
            self.extras_mut().drift_ppb =
                ((env.rng().unit() * 2.0 - 1.0) * c.drift_ppm * 1000.0) as i64;
        }
    }

    fn online(&self, env: &Env<'_>) -> bool {
        env.now() >= self.extras().offline_until
    }

    /// Runs instructions until the client has to wait for a reply or a timer.
    fn advance(&mut self, env: &mut Env<'_>) {
        assert!(self.in_flight.is_none(), "advance while waiting for a reply");
        if self.extras().signed_out {
            return;
        }
        loop {
            // After the duration a client starts nothing new, but still recovers a
            // stream that broke just before: that is work in flight.
            let recovering = self.extras().broken
                && matches!(self.workload.program.get(self.pc), Some(Instr::Recover));
            if env.stopping() && !recovering {
                return;
            }
            if self.pc == self.workload.program.len() {
                self.pc = 0;
                if let Some((source, first)) = self.workload.open {
                    let client = self.index - first;
                    return env.deliver(SimDuration::ZERO, source, Msg::Idle { client });
                }
                let think = self.workload.think.sample(env.rng());
                env.timer(SimDuration(think), Msg::Wake);
                return;
            }
            // Decide from the shared program first, then act on the client's own state.
            let step = match &self.workload.program[self.pc] {
                Instr::Op(kind, purpose) => Step::Send(*kind, *purpose),
                Instr::Submit => Step::Send(OpKind::Write, purposes::COMPLETION),
                Instr::Create => Step::Create,
                Instr::Sleep(d) => Step::Sleep(d.sample(env.rng())),
                Instr::ResubmitIfMissing => Step::Resubmit,
                Instr::OpenTab => Step::OpenTab,
                Instr::Recover => Step::Recover,
                Instr::Maybe { p, skip } => {
                    Step::Skip(if env.rng().chance(*p) { 0 } else { *skip })
                }
            };
            match step {
                // An edit needs an open connection: open it (loading the document) first.
                Step::Send(_, p) if p == purposes::EDIT && self.extras().connected_to.is_none() => {
                    return self.send(OpKind::Read, purposes::CONNECT, 1, env);
                }
                Step::Send(kind, purpose) if is_action(purpose) => {
                    self.message += 1;
                    return self.begin_action(kind, purpose, env);
                }
                Step::Send(kind, purpose) => return self.send(kind, purpose, 1, env),
                // A conversation is created once; later rounds continue it.
                Step::Create if self.last_write == VersionId::ROOT => {
                    self.message += 1;
                    return self.begin_action(OpKind::Write, purposes::CREATE, env);
                }
                Step::Create => self.pc += 1,
                Step::Sleep(ns) => {
                    self.pc += 1;
                    env.timer(SimDuration(ns), Msg::Wake);
                    return;
                }
                Step::Resubmit if self.last_write_missing(env) => {
                    return self.begin_action(OpKind::Write, purposes::RESUBMIT, env);
                }
                Step::Resubmit => self.pc += 1,
                Step::OpenTab => {
                    self.session += 1;
                    self.seen = Sighting::NOTHING;
                    self.pc += 1;
                }
                Step::Recover if !self.extras().broken => self.pc += 1,
                Step::Recover => return self.recover(env),
                Step::Skip(n) => self.pc += 1 + n,
            }
        }
    }

    /// Starts an action: through the gate's `prepare` if there is a gate.
    fn begin_action(&mut self, kind: OpKind, purpose: Purpose, env: &mut Env<'_>) {
        self.action = Some(Action { kind, purpose, started: env.now(), gate_ns: 0 });
        match self.gate {
            Some(_) => self.send(OpKind::Control, purposes::PREPARE, 1, env),
            None => self.send(kind, purpose, 1, env),
        }
    }

    /// The action is over (done or failed): `finalize` it, or record it and move on.
    fn end_action(&mut self, env: &mut Env<'_>) {
        if self.gate.is_some() && self.action.is_some() {
            return self.send_when_online(OpKind::Control, purposes::FINALIZE, env);
        }
        self.record_action(env);
        self.next_step(env);
    }

    fn record_action(&mut self, env: &mut Env<'_>) {
        let Some(a) = self.action.take() else { return };
        let took = env.now().since(a.started).as_nanos();
        let figures = env.figures();
        figures.action.record(took);
        if self.gate.is_some() {
            figures.gate.record(a.gate_ns);
        }
    }

    fn next_step(&mut self, env: &mut Env<'_>) {
        self.pc += 1;
        self.advance(env);
    }

    /// Whether the last observation lacks the client's last acknowledged write.
    fn last_write_missing(&self, env: &mut Env<'_>) -> bool {
        self.last_write != VersionId::ROOT && !env.includes(self.seen.version, self.last_write)
    }

    /// Polls `/stream_status` (once the network is back).
    fn recover(&mut self, env: &mut Env<'_>) {
        self.extras_mut().polls = 0;
        self.send_when_online(OpKind::Control, purposes::STREAM_STATUS, env);
    }

    /// Sends a call the client makes on its own (a gate's `finalize`, a status poll)
    /// now, or, while the browser knows it is offline, as soon as the network is back.
    fn send_when_online(&mut self, kind: OpKind, purpose: Purpose, env: &mut Env<'_>) {
        if self.online(env) {
            return self.send(kind, purpose, 1, env);
        }
        let extras = self.extras_mut();
        extras.retry_due = Some(InFlight { op: 0, seq: 0, kind, purpose, attempt: 1 });
        env.timer(extras.offline_until.since(env.now()), Msg::Wake);
    }

    /// Waits before the next poll, or gives up after `POLLS_MAX`.
    fn poll_later(&mut self, op: InFlight, env: &mut Env<'_>) {
        let extras = self.extras_mut();
        extras.polls += 1;
        if extras.polls >= POLLS_MAX {
            return self.next_step(env);
        }
        let doubled = POLL_BACKOFF_FIRST.as_nanos().saturating_mul(1u64 << extras.polls.min(20));
        let wait = doubled.min(POLL_BACKOFF_MAX.as_nanos());
        extras.retry_due = Some(InFlight { attempt: op.attempt + 1, ..op });
        env.timer(SimDuration(wait), Msg::Wake);
    }

    /// Records an operation of this client's current message in the history.
    fn invoke(&self, kind: OpKind, purpose: Purpose, attempt: u32, env: &mut Env<'_>) -> OpId {
        env.invoke(self.invocation(kind, purpose, attempt, env))
    }

    /// What the client is about to send, as the history records it.
    fn invocation(
        &self,
        kind: OpKind,
        purpose: Purpose,
        attempt: u32,
        env: &Env<'_>,
    ) -> Invocation {
        Invocation {
            client: self.index,
            session: self.session,
            kind,
            purpose,
            key: self.key,
            message: self.message,
            attempt,
            seen: self.seen,
            stamp: self.clock(env.now()),
            invoked: env.now(),
            invoke_event: env.event(),
            newest: VersionId::ROOT,
            token: if self.token == NO_TOKEN { SimTime::ZERO } else { self.token },
        }
    }

    /// Whether the access token must be renewed before the next request: it has
    /// expired or is within a tenth of its lifetime of expiring (or was refused).
    fn token_due(&self, purpose: Purpose, env: &Env<'_>) -> bool {
        let Some(auth) = self.workload.auth else { return false };
        let renew_at = |t: SimTime| t.after(SimDuration(auth.token_ttl.as_nanos() / 10 * 9));
        purpose != purposes::TOKEN_REFRESH
            && (self.token == NO_TOKEN || env.now() >= renew_at(self.token))
    }

    fn send(&mut self, kind: OpKind, purpose: Purpose, attempt: u32, env: &mut Env<'_>) {
        if self.token_due(purpose, env) {
            let attempt = attempt.min(u32::from(u16::MAX)) as u16;
            self.extras_mut().after_renewal = Some(Pending { kind, purpose, attempt });
            return self.send(OpKind::Control, purposes::TOKEN_REFRESH, 1, env);
        }
        self.op_seq = self.op_seq.wrapping_add(1);
        let op = self.invoke(kind, purpose, attempt, env);
        if let Some(spec) = self.workload.breaker {
            if !self.extras_mut().breaker.allows(&spec, env.now()) {
                return self
                    .fail_fast(InFlight { op, seq: self.op_seq, kind, purpose, attempt }, env);
            }
        }
        self.in_flight = Some(InFlight { op, seq: self.op_seq, kind, purpose, attempt });
        self.dispatch(op, kind, purpose, env);
        if let Some(t) = self.workload.timeout {
            env.timer(t, Msg::Timeout { op_seq: self.op_seq });
        }
        if let Some(after) = self.workload.hedge.filter(|_| hedged(kind, purpose)) {
            env.timer(after, Msg::Hedge { op_seq: self.op_seq });
        }
    }

    /// Builds operation `op`'s request and sends it (or loses it, offline).
    fn dispatch(&mut self, op: OpId, kind: OpKind, purpose: Purpose, env: &mut Env<'_>) {
        let w = &self.workload;
        let (flags, seen) = match kind {
            OpKind::Write if w.idempotency_key => (FLAG_IDEMPOTENT, self.seen.version),
            // A fetch after `/stream_status` must include the response it reported.
            OpKind::Read if purpose == purposes::FETCH => (FLAG_TOKEN, self.extras().fetch_token),
            OpKind::Read if w.session_tokens => (FLAG_TOKEN, self.seen.version),
            _ => (0, self.seen.version),
        };
        // A reconnect presents the session cookie of an earlier login.
        let session = purpose == purposes::CONNECT && self.extras().logged_in;
        let flags = if session { flags | FLAG_SESSION } else { flags };
        let link = match purpose {
            p if p == purposes::PREPARE || p == purposes::FINALIZE => {
                self.gate.unwrap_or(self.entry)
            }
            _ => self.entry,
        };
        let request = Request {
            origin: env.id,
            op,
            key: self.key,
            via: link,
            seen,
            return_ns: 0,
            kind,
            flags,
        };
        if self.online(env) {
            env.send(link, Msg::Request(request));
        } else {
            env.drop_request(&request); // No network: noticed only through the timeout.
        }
    }

    /// The read `op_seq` is still unanswered after the hedging delay: a second copy goes
    /// out, and whichever is answered first wins.
    fn on_hedge(&mut self, op_seq: u32, env: &mut Env<'_>) {
        let Some(first) = self.in_flight.filter(|f| f.seq == op_seq) else { return };
        if self.extras().hedge.is_some() || env.stopping() {
            return;
        }
        // A hedge is one more try of the same read, and what the user waits for runs
        // from the first copy's send: its latency counts from there.
        let attempt = first.attempt + 1;
        let mut inv = self.invocation(first.kind, first.purpose, attempt, env);
        inv.invoked = env.invocation(first.op).invoked;
        let op = env.invoke(inv);
        self.extras_mut().hedge = Some(InFlight { op, attempt, ..first });
        env.figures().hedges += 1;
        self.dispatch(op, first.kind, first.purpose, env);
    }

    /// The other copy of a hedged read lost the race (or both timed out): the client
    /// stops waiting for it.
    fn drop_hedge(&mut self, env: &mut Env<'_>) {
        if let Some(h) = self.made_extras().and_then(|e| e.hedge.take()) {
            env.give_up(h.op);
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        if self.extras().hedge.is_some_and(|h| h.op == reply.op) && self.online(env) {
            // The hedge answered first: it is the operation now, the first copy lost.
            let hedge = self.made_extras().and_then(|e| e.hedge.take());
            let first = std::mem::replace(&mut self.in_flight, hedge);
            if let Some(first) = first {
                env.give_up(first.op);
            }
            env.figures().hedges_won += 1;
        } else if self.in_flight.is_some_and(|f| f.op == reply.op) && self.online(env) {
            self.drop_hedge(env);
        }
        let current = self.in_flight.filter(|f| f.op == reply.op);
        let Some(op) = current.filter(|_| self.online(env)) else {
            // A late reply (the client gave up), or one that reaches a disconnected
            // client: either way it is gone, and a waiting client times out.
            env.release(reply.op);
            return;
        };
        let outcome = match reply.status {
            Status::Ok | Status::InProgress => Outcome::Ok,
            Status::Rejected => Outcome::Rejected,
            Status::Accepted => Outcome::Accepted,
            Status::Refused | Status::Limited | Status::Unauthorized => Outcome::Refused,
            Status::Unavailable => Outcome::Unknown,
        };
        let at = env.now();
        let server = (reply.server.0, reply.source);
        let record = env.complete(op.op, (outcome, reply.version), server, true);
        self.in_flight = None;
        if outcome == Outcome::Ok {
            self.earn_retry_token();
            self.judge_try(false, env);
        }
        // A refusal (429, 401, a gate's no) or a 503 (a service whose call failed)
        // carries no version: the client saw nothing. A write's answer does not take the page back: a push that arrived before it
        // may already show a version built on the write.
        let shown = op.kind == OpKind::Write
            && self.seen.version != record.version
            && env.includes(self.seen.version, record.version);
        // A document list is not the page's document: the page keeps what it showed.
        let page = matches!(op.kind, OpKind::Read | OpKind::Write) && op.purpose.one_key();
        if page && !matches!(outcome, Outcome::Refused | Outcome::Unknown) && !shown {
            self.seen = record.sighting();
        }
        if let (Some(a), OpKind::Control) = (&mut self.action, op.kind) {
            a.gate_ns += at.since(record.inv.invoked).as_nanos();
        }
        match (op.purpose, reply.status) {
            (p, Status::Ok) if p == purposes::TOKEN_REFRESH => {
                // Issued after the renewal was sent: counting from then errs early.
                self.token = record.inv.invoked;
                match self.made_extras().and_then(|e| e.after_renewal.take()) {
                    Some(next) => self.send(next.kind, next.purpose, u32::from(next.attempt), env),
                    None => self.next_step(env),
                }
            }
            (p, Status::Unauthorized) if p == purposes::TOKEN_REFRESH => self.sign_out(),
            (_, Status::Unauthorized) => {
                self.token = NO_TOKEN; // Renew before the retry.
                self.after_failure(op, env);
            }
            (p, Status::Ok) if p == purposes::PREPARE => match self.action {
                Some(a) => self.send(a.kind, a.purpose, 1, env),
                None => self.next_step(env),
            },
            (p, Status::Refused | Status::Limited) if p == purposes::PREPARE => {
                if reply.status == Status::Limited {
                    env.figures().message_limits += 1;
                }
                self.action = None; // Never sent: nothing to finalize.
                self.next_step(env);
            }
            (p, _) if p == purposes::FINALIZE => {
                self.record_action(env);
                self.next_step(env);
            }
            (p, Status::Ok) if p == purposes::COMPLETION => {
                self.last_write = reply.version;
                self.start_stream(record.inv.invoked, env);
                if self.leaves_stream() {
                    self.break_stream(env); // The user reloads the page: the stream is cut.
                }
            }
            (p, Status::InProgress) if p == purposes::STREAM_STATUS => self.poll_later(op, env),
            (p, Status::Ok) if p == purposes::STREAM_STATUS => {
                self.extras_mut().fetch_token = reply.version;
                self.send(OpKind::Read, purposes::FETCH, 1, env);
            }
            (p, Status::Ok) if p == purposes::CONNECT => {
                let extras = self.extras_mut();
                extras.connected_to = Some(reply.front.0);
                extras.logged_in = true;
                self.advance(env); // Now the edit that needed the connection.
            }
            (p, Status::Ok) if p == purposes::FETCH => {
                self.extras_mut().broken = false;
                self.next_step(env);
            }
            (_, Status::Ok) if op.kind == OpKind::Write => {
                self.last_write = reply.version;
                self.end_action(env);
            }
            (_, Status::Ok | Status::Accepted) => self.next_step(env),
            _ => self.after_failure(op, env),
        }
    }

    fn on_timeout(&mut self, op_seq: u32, env: &mut Env<'_>) {
        if self.extras().stream.is_some_and(|s| s.seq == op_seq) {
            return self.break_stream(env); // No `message_stop` after the last chunk.
        }
        let Some(op) = self.in_flight.filter(|f| f.seq == op_seq) else {
            return; // The request was answered in time.
        };
        env.give_up(op.op);
        self.in_flight = None;
        self.drop_hedge(env);
        if op.purpose == purposes::CONNECT || op.purpose == purposes::EDIT {
            // Unanswered on the WebSocket: the client takes the connection for dead.
            if let Some(extras) = self.made_extras() {
                extras.connected_to = None;
            }
        }
        self.after_failure(op, env);
    }

    /// The user's access is gone: the page shows a login screen and the user does
    /// nothing more.
    fn sign_out(&mut self) {
        self.action = None;
        let extras = self.extras_mut();
        extras.signed_out = true;
        extras.after_renewal = None;
        extras.connected_to = None;
    }

    /// An open breaker fails the try at once: no request goes out, the client sees a
    /// refusal, and its retry policy takes it from there.
    fn fail_fast(&mut self, op: InFlight, env: &mut Env<'_>) {
        env.complete(op.op, (Outcome::Refused, VersionId::ROOT), (0, 0), true);
        env.figures().failed_fast += 1;
        self.extras_mut().failing_fast = true;
        self.after_failure(op, env);
    }

    /// Tells the breaker how a try that went out ended.
    fn judge_try(&mut self, failed: bool, env: &mut Env<'_>) {
        let Some(spec) = self.workload.breaker else { return };
        if self.extras_mut().breaker.record(&spec, failed, env.now()) {
            env.figures().breaker_opens += 1;
        }
    }

    /// A refused or timed-out operation: retry it after a backoff, or move on.
    fn after_failure(&mut self, op: InFlight, env: &mut Env<'_>) {
        let failing_fast = self.made_extras().is_some_and(|e| std::mem::take(&mut e.failing_fast));
        if !failing_fast {
            self.judge_try(true, env);
        }
        if op.purpose == purposes::STREAM_STATUS {
            return self.poll_later(op, env);
        }
        if op.purpose == purposes::TOKEN_REFRESH {
            // The renewal failed: the request that waited for it failed with it.
            let renewal = self.made_extras().and_then(|e| e.after_renewal.take());
            let Some(next) = renewal else { return self.next_step(env) };
            return self.after_failure(next.in_flight(), env);
        }
        let allowed = self.spend_retry_token();
        let retry = self.workload.retry.as_ref().filter(|r| op.attempt < r.attempts);
        // A refused write whose message the store already holds needs no retry: the
        // client has just seen it there.
        let settled = op.kind == OpKind::Write
            && op.purpose == purposes::RESUBMIT
            && !self.last_write_missing(env);
        match retry {
            Some(_) if !allowed && !settled => {
                env.figures().retries_withheld += 1;
                self.give_up(op, env)
            }
            Some(r) if !settled && !env.stopping() => {
                let base = r.backoff.sample(env.rng());
                let unit = if r.jitter == Jitter::None { 0.0 } else { env.rng().unit() };
                let wait = r.wait(op.attempt + 1, base, unit);
                self.extras_mut().retry_due = Some(InFlight { attempt: op.attempt + 1, ..op });
                env.timer(SimDuration(wait), Msg::Wake);
            }
            _ => self.give_up(op, env),
        }
    }

    /// A failed attempt takes a token from the retry budget; whether enough are left
    /// to retry (always, without a budget).
    fn spend_retry_token(&mut self) -> bool {
        let Some(b) = self.workload.retry.as_ref().and_then(|r| r.budget) else { return true };
        self.retry_tokens = (self.retry_tokens - 1.0).max(0.0);
        f64::from(self.retry_tokens) > b.tokens / 2.0
    }

    /// A success gives `per_success` back to the retry budget.
    fn earn_retry_token(&mut self) {
        let Some(b) = self.workload.retry.as_ref().and_then(|r| r.budget) else { return };
        self.retry_tokens = (f64::from(self.retry_tokens) + b.per_success).min(b.tokens) as f32;
    }

    /// No more tries: an action that never passed its gate is dropped; one that was
    /// sent is finalized; anything else just moves on.
    fn give_up(&mut self, op: InFlight, env: &mut Env<'_>) {
        match op.purpose {
            p if p == purposes::PREPARE => {
                self.action = None;
                self.next_step(env);
            }
            p if p == purposes::FINALIZE => {
                self.record_action(env);
                self.next_step(env);
            }
            p if is_action(p) => self.end_action(env),
            _ => self.next_step(env),
        }
    }

    /// Whether the current step sends a message and leaves before its response streams.
    fn leaves_stream(&self) -> bool {
        matches!(self.workload.program.get(self.pc), Some(Instr::Submit))
    }

    /// The user's message is acknowledged: its response starts streaming.
    fn start_stream(&mut self, requested: SimTime, env: &mut Env<'_>) {
        self.op_seq = self.op_seq.wrapping_add(1);
        let op = self.invoke(OpKind::Stream, purposes::STREAM, 1, env);
        let (message, seq) = (self.message, self.op_seq);
        let extras = self.extras_mut();
        extras.stream = Some(Streaming { message, op, seq, requested, received: 0, of: 0 });
        let mid_stream = extras.mid_stream;
        env.figures().streams += 1;
        if let Some(m) = mid_stream {
            if env.rng().chance(f64::from(m.chance_ppm) / 1e6) {
                let within_ns = u64::from(m.within_ms) * 1_000_000;
                let at = (env.rng().unit() * within_ns as f64) as u64;
                let lasting_ns = u64::from(m.lasting_ms) * 1_000_000;
                env.timer(SimDuration(at), Msg::Fault(Fault::Disconnect(lasting_ns)));
            }
        }
    }

    fn on_chunk(&mut self, message: u32, index: u32, of: u32, env: &mut Env<'_>) {
        let stream = self.extras.as_deref_mut().and_then(|e| e.stream.as_mut());
        let Some(s) = stream.filter(|s| s.message == message) else {
            return; // A chunk of a stream this client already lost.
        };
        if s.received == 0 {
            let waited = env.now().since(s.requested).as_nanos();
            env.figures().first_byte.record(waited);
        }
        s.received += 1;
        s.of = of;
        if index + 1 == of {
            let wait = self.workload.timeout.unwrap_or(STREAM_END_WAIT);
            env.timer(wait, Msg::Timeout { op_seq: s.seq });
        }
    }

    fn on_stream_end(&mut self, message: u32, version: VersionId, env: &mut Env<'_>) {
        let Some(s) = self.extras().stream.filter(|s| s.message == message) else { return };
        if version == VersionId::ROOT || s.received < s.of || s.of == 0 {
            return self.break_stream(env); // The server could not persist it.
        }
        self.extras_mut().stream = None;
        let at = env.now();
        let record = env.complete(s.op, (Outcome::Ok, version), (0, 0), true);
        self.seen = record.sighting();
        env.figures().whole_stream.record(at.since(s.requested).as_nanos());
        self.end_action(env);
    }

    /// The stream is lost (network gone, or no end): the response may still be
    /// persisted, which only recovery can show the user.
    fn break_stream(&mut self, env: &mut Env<'_>) {
        let Some(extras) = self.made_extras() else { return };
        let Some(s) = extras.stream.take() else { return };
        extras.broken = true;
        env.complete(s.op, (Outcome::Unknown, VersionId::ROOT), (0, 0), true);
        env.figures().broken_streams += 1;
        self.end_action(env);
    }

    /// A server pushed a version of a document: the editor shows it if it comes over
    /// the open connection and is news.
    fn on_push(&mut self, key: u32, version: VersionId, server: u32, env: &mut Env<'_>) {
        let current =
            self.extras().connected_to == Some(server) && key == self.key && self.online(env);
        if !current || env.includes(self.seen.version, version) {
            return;
        }
        let (at, event) = (env.now(), env.event());
        let store = env.version(version).store;
        self.seen = Sighting { version, at, event, store, source: 0, purpose: purposes::PUSH };
        let client = self.index;
        env.pushed(Push { client, key, version, server, at, event });
    }

    fn on_wake(&mut self, env: &mut Env<'_>) {
        // Retries stop with the run; a gate's finalize and status polls finish the
        // work in flight.
        let finishing = |op: &InFlight| {
            op.purpose == purposes::FINALIZE || op.purpose == purposes::STREAM_STATUS
        };
        match self.made_extras().and_then(|e| e.retry_due.take()) {
            Some(op) if !env.stopping() || finishing(&op) => {
                self.send(op.kind, op.purpose, op.attempt, env)
            }
            Some(op) => self.give_up(op, env),
            None => self.advance(env),
        }
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::ClockJump(ns) => {
                let extras = self.extras_mut();
                extras.clock_offset_ns = extras.clock_offset_ns.saturating_add(ns);
            }
            Fault::ClockDrift(ppb) => {
                // The clock reads the same at this instant and runs at the new rate after.
                let t = i128::from(env.now().as_nanos());
                let extras = self.extras_mut();
                let shift = t * i128::from(extras.drift_ppb - ppb) / 1_000_000_000;
                extras.clock_offset_ns = extras.clock_offset_ns.saturating_add(shift as i64);
                extras.drift_ppb = ppb;
            }
            Fault::Disconnect(ns) => {
                let back = env.now().after(SimDuration(ns));
                let extras = self.extras_mut();
                extras.offline_until = extras.offline_until.max(back);
                extras.connected_to = None; // The WebSocket is gone; the next edit reopens it.
                self.break_stream(env);
            }
            Fault::Revoke => env.revoke(self.index),
            Fault::StealToken => self.leak_token(env),
            Fault::MidStream { chance_ppm, within_ms, lasting_ms } => {
                self.extras_mut().mid_stream =
                    Some(MidStream { chance_ppm, within_ms, lasting_ms });
            }
            _ => {}
        }
    }
}

impl Client {
    /// An injected script looks for the access token: in `localStorage` it finds it
    /// and sends it to the attacker; an HttpOnly cookie is out of its reach.
    fn leak_token(&mut self, env: &mut Env<'_>) {
        let (Some(auth), Some(attacker)) = (self.workload.auth, self.workload.attacker) else {
            return;
        };
        if self.extras().signed_out || self.token == NO_TOKEN {
            return;
        }
        let issued = self.token;
        let readable = auth.storage == TokenStorage::LocalStorage;
        let stolen = Msg::Stolen { victim: self.index, key: self.key, issued, readable };
        env.deliver(SimDuration::ZERO, attacker, stolen);
    }
}

impl Component for Client {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        // Its operations in flight are the history's to report. What it saw is the base
        // of its next write, the empty value too; the root as a token or a last write
        // stands for none.
        held(self.seen.version.of_key(self.key));
        [self.extras().fetch_token, self.last_write]
            .into_iter()
            .filter(|&v| v != VersionId::ROOT)
            .for_each(held);
        true
    }

    fn start(&mut self, env: &mut Env<'_>) {
        self.draw_clock(env);
        if self.workload.open.is_some() {
            return; // Its rounds start at arrivals.
        }
        // Users arrive spread over one think time rather than all at the same instant.
        let first = self.workload.think.sample(env.rng());
        env.timer(SimDuration(first), Msg::Wake);
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Wake => self.on_wake(env),
            Msg::Arrival => self.advance(env),
            Msg::Hedge { op_seq } => self.on_hedge(op_seq, env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            Msg::Timeout { op_seq } => self.on_timeout(op_seq, env),
            Msg::Fault(f) => self.on_fault(f, env),
            Msg::Chunk { message, index, of } => self.on_chunk(message, index, of, env),
            Msg::StreamEnd { message, version } => self.on_stream_end(message, version, env),
            Msg::Push { key, version, server } => self.on_push(key, version, server, env),
            other => panic!("client got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, answer, bench, last_request, ms, ops, run};
    use crate::engine::Sim;

    const ENTRY: ComponentId = ComponentId(1);

    /// A client that writes then reads its key 0 each round, a round every second, and
    /// gives a request 100 ms; with `retry`, a second try 10 ms after a timeout.
    fn client(retry: bool) -> Sim<BenchWorld> {
        let workload = Workload {
            program: vec![
                Instr::Op(OpKind::Write, purposes::WRITE),
                Instr::Op(OpKind::Read, purposes::READ),
            ],
            think: Dist::constant(1_000_000_000),
            timeout: Some(SimDuration::from_millis(100)),
            retry: retry.then(|| RetrySpec::plain(2, Dist::constant(10_000_000))),
            idempotency_key: false,
            session_tokens: false,
            clock: ClockSpec::default(),
            auth: None,
            attacker: None,
            open: None,
            breaker: None,
            hedge: None,
        };
        let workload = Arc::new(workload);
        let (sim, _) = bench(1, 1, |l| BuiltIn::Client(Client::new(0, 0, l.callees[0], workload)));
        sim
    }

    /// The requests the entry probe received, each as `(ms, kind)`.
    fn sent(sim: &Sim<BenchWorld>) -> Vec<(u64, OpKind)> {
        let requests = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::Request(q) => Some((r.at.as_nanos() / 1_000_000, q.kind)),
            _ => None,
        });
        requests.collect()
    }

    /// The entry probe answers the last request it received, `Ok`, at `at`: a write
    /// creates a version, a read returns `version`.
    fn entry_answers(sim: &mut Sim<BenchWorld>, at: u64, version: VersionId) -> VersionId {
        let q = last_request(sim, None);
        answer(sim, ms(at), (ENTRY, Status::Ok), q, version)
    }

    #[test]
    fn a_plain_workflow_makes_no_extras_and_a_retry_makes_them() {
        let extras_made = |sim: &Sim<BenchWorld>| match &sim.actor.component {
            BuiltIn::Client(c) => c.extras.is_some(),
            _ => unreachable!("the bench holds a client"),
        };
        let mut sim = client(true);
        run(&mut sim, ms(1_000));
        entry_answers(&mut sim, 1_005, VersionId::ROOT);
        run(&mut sim, ms(1_050));
        assert!(!extras_made(&sim), "a write and its reply need none");
        run(&mut sim, ms(1_200)); // The read times out and is retried.
        assert!(extras_made(&sim), "a retry waiting is kept in them");
        assert_eq!(
            sent(&sim),
            [(1_000, OpKind::Write), (1_005, OpKind::Read), (1_115, OpKind::Read)]
        );
    }

    #[test]
    fn a_read_after_an_acknowledged_write_that_misses_it_is_stale() {
        let mut sim = client(false);
        run(&mut sim, ms(1_000));
        let v = entry_answers(&mut sim, 1_005, VersionId::ROOT);
        run(&mut sim, ms(1_005));
        entry_answers(&mut sim, 1_006, VersionId::ROOT); // A replica that lags.
        run(&mut sim, ms(1_500));
        assert_eq!(sent(&sim), [(1_000, OpKind::Write), (1_005, OpKind::Read)]);
        let ops = ops(&sim);
        let got: Vec<_> = ops.iter().map(|o| (o.kind(), o.outcome, o.version, o.stale)).collect();
        let want = [
            (OpKind::Write, Outcome::Ok, v, false),
            (OpKind::Read, Outcome::Ok, VersionId::ROOT, true),
        ];
        assert_eq!(got, want);
        assert_eq!(ops[1].inv.newest, v, "the read was sent after the write was acknowledged");
    }

    #[test]
    fn an_unanswered_write_times_out_and_its_retry_repeats_the_message() {
        let mut sim = client(true);
        run(&mut sim, ms(1_110));
        entry_answers(&mut sim, 1_115, VersionId::ROOT);
        run(&mut sim, ms(1_115));
        let got = sent(&sim);
        assert_eq!(got, [(1_000, OpKind::Write), (1_110, OpKind::Write), (1_115, OpKind::Read)]);
        let ops = ops(&sim);
        assert_eq!((ops[0].outcome, ops[0].completed), (Outcome::Unknown, ms(1_100)));
        assert_eq!((ops[1].outcome, ops[1].inv.attempt), (Outcome::Ok, 2));
        assert_eq!(ops[0].inv.message, ops[1].inv.message, "a retry is the same message");
    }

    #[test]
    fn a_503_is_no_sighting_and_the_next_write_builds_on_what_the_client_saw() {
        // A service whose call to the store timed out answers 503 with no version; the
        // next write must still build on the client's acknowledged write, not on the
        // empty document (which would orphan the write under overwrite).
        let mut sim = client(false);
        run(&mut sim, ms(1_000));
        let v = entry_answers(&mut sim, 1_005, VersionId::ROOT);
        run(&mut sim, ms(1_005));
        let read = last_request(&sim, None);
        answer(&mut sim, ms(1_006), (ENTRY, Status::Unavailable), read, VersionId::ROOT);
        run(&mut sim, ms(2_006));
        assert_eq!(sent(&sim).last(), Some(&(2_006, OpKind::Write)));
        assert_eq!(ops(&sim)[1].outcome, Outcome::Unknown);
        assert_eq!(last_request(&sim, None).seen, v, "the 503 reset what the client saw");
    }

    #[test]
    fn without_retries_a_timed_out_write_is_given_up_and_the_round_goes_on() {
        let mut sim = client(false);
        run(&mut sim, ms(1_100));
        let got = sent(&sim);
        assert_eq!(got, [(1_000, OpKind::Write), (1_100, OpKind::Read)]);
        assert_eq!(ops(&sim)[0].outcome, Outcome::Unknown);
    }
}
