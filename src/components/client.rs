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

use std::sync::Arc;

use super::Component;
use super::env::Env;
use super::message::{FLAG_IDEMPOTENT, FLAG_TOKEN, Fault, Msg, Reply, Request, Status};
use crate::check::{Invocation, OpId, OpKind, Outcome, Purpose, Sighting, VersionId};
use crate::engine::{Dist, LinkId, SimDuration, SimTime};
use crate::model::{ClockSpec, RetrySpec, Step as WorkflowStep};

/// One instruction of a compiled workflow.
#[derive(Debug, Clone)]
pub enum Instr {
    /// Send an operation.
    Op(OpKind, Purpose),
    /// Wait.
    Sleep(Dist),
    /// Resend the last message if the last observation lacks it.
    ResubmitIfMissing,
    /// Start a new session.
    OpenTab,
    /// With probability `1 - p`, skip the next `skip` instructions.
    Maybe {
        /// Probability of running them.
        p: f64,
        /// How many instructions the block holds.
        skip: usize,
    },
}

/// Flattens workflow steps into instructions (repeats are unrolled).
pub fn compile(steps: &[WorkflowStep]) -> Vec<Instr> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            WorkflowStep::Write => out.push(Instr::Op(OpKind::Write, Purpose::Write)),
            WorkflowStep::Read => out.push(Instr::Op(OpKind::Read, Purpose::Read)),
            WorkflowStep::Refresh => out.push(Instr::Op(OpKind::Read, Purpose::Refresh)),
            WorkflowStep::Sleep(d) => out.push(Instr::Sleep(d.clone())),
            WorkflowStep::ResubmitIfMissing => out.push(Instr::ResubmitIfMissing),
            WorkflowStep::OpenTab => out.push(Instr::OpenTab),
            WorkflowStep::Repeat(n, body) => {
                let body = compile(body);
                (0..*n).for_each(|_| out.extend(body.iter().cloned()));
            }
            WorkflowStep::Maybe(p, body) => {
                let body = compile(body);
                out.push(Instr::Maybe { p: *p, skip: body.len() });
                out.extend(body);
            }
        }
    }
    out
}

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
    /// Writes carry an idempotency key.
    pub idempotency_key: bool,
    /// Reads carry the session token.
    pub session_tokens: bool,
    /// Clock error.
    pub clock: ClockSpec,
}

/// What the current instruction asks for, decided before the client acts on it.
enum Step {
    Send(OpKind, Purpose),
    Sleep(u64),
    Resubmit,
    OpenTab,
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

/// One simulated user.
#[derive(Debug)]
pub struct Client {
    index: u32,
    key: u32,
    entry: LinkId,
    workload: Arc<Workload>,
    pc: usize,
    op_seq: u32,
    in_flight: Option<InFlight>,
    /// An operation to send again when the backoff timer fires.
    retry_due: Option<InFlight>,
    seen: Sighting,
    last_write: VersionId,
    message: u32,
    session: u32,
    clock_offset_ns: i64,
    drift_ppb: i64,
    offline_until: SimTime,
}

impl Client {
    /// Client number `index`, working on `key`, entering the architecture over `entry`.
    pub fn new(index: u32, key: u32, entry: LinkId, workload: Arc<Workload>) -> Client {
        assert!(!workload.program.is_empty(), "a client needs a workflow");
        Client {
            index,
            key,
            entry,
            workload,
            pc: 0,
            op_seq: 0,
            in_flight: None,
            retry_due: None,
            seen: Sighting::NOTHING,
            last_write: VersionId::ROOT,
            message: 0,
            session: 0,
            clock_offset_ns: 0,
            drift_ppb: 0,
            offline_until: SimTime::ZERO,
        }
    }

    /// Sets this client's clock error: a fixed offset and a drift in parts per billion
    /// (for experiments that need exact clocks; scenarios draw them from `clock`).
    pub fn set_clock(&mut self, offset_ns: i64, drift_ppb: i64) {
        self.clock_offset_ns = offset_ns;
        self.drift_ppb = drift_ppb;
    }

    /// This client's clock reading at true time `t` (ns, may be negative).
    pub fn clock(&self, t: SimTime) -> i64 {
        let t = i128::from(t.0);
        let drift = t * i128::from(self.drift_ppb) / 1_000_000_000;
        (t + drift + i128::from(self.clock_offset_ns)) as i64
    }

    fn draw_clock(&mut self, env: &mut Env<'_>) {
        let c = self.workload.clock;
        if c.skew.as_nanos() > 0 {
            let skew = c.skew.as_nanos() as f64;
            self.clock_offset_ns = ((env.rng.unit() * 2.0 - 1.0) * skew) as i64;
        }
        if c.drift_ppm > 0.0 {
            self.drift_ppb = ((env.rng.unit() * 2.0 - 1.0) * c.drift_ppm * 1000.0) as i64;
        }
    }

    /// Runs instructions until the client has to wait for a reply or a timer.
    fn advance(&mut self, env: &mut Env<'_>) {
        assert!(self.in_flight.is_none(), "advance while waiting for a reply");
        loop {
            if env.stopping() {
                return;
            }
            if self.pc == self.workload.program.len() {
                self.pc = 0;
                let think = self.workload.think.sample(env.rng);
                env.timer(SimDuration(think), Msg::Wake);
                return;
            }
            // Decide from the shared program first, then act on the client's own state.
            let step = match &self.workload.program[self.pc] {
                Instr::Op(kind, purpose) => Step::Send(*kind, *purpose),
                Instr::Sleep(d) => Step::Sleep(d.sample(env.rng)),
                Instr::ResubmitIfMissing => Step::Resubmit,
                Instr::OpenTab => Step::OpenTab,
                Instr::Maybe { p, skip } => Step::Skip(if env.rng.chance(*p) { 0 } else { *skip }),
            };
            match step {
                Step::Send(kind, purpose) => {
                    if kind == OpKind::Write {
                        self.message += 1;
                    }
                    return self.send(kind, purpose, 1, env);
                }
                Step::Sleep(ns) => {
                    self.pc += 1;
                    env.timer(SimDuration(ns), Msg::Wake);
                    return;
                }
                Step::Resubmit if self.last_write_missing(env) => {
                    return self.send(OpKind::Write, Purpose::Resubmit, 1, env);
                }
                Step::Resubmit => self.pc += 1,
                Step::OpenTab => {
                    self.session += 1;
                    self.seen = Sighting::NOTHING;
                    self.pc += 1;
                }
                Step::Skip(n) => self.pc += 1 + n,
            }
        }
    }

    /// Whether the last observation lacks the client's last acknowledged write.
    fn last_write_missing(&self, env: &mut Env<'_>) -> bool {
        self.last_write != VersionId::ROOT
            && !env.history.dag_mut().includes(self.seen.version, self.last_write)
    }

    fn send(&mut self, kind: OpKind, purpose: Purpose, attempt: u32, env: &mut Env<'_>) {
        self.op_seq = self.op_seq.wrapping_add(1);
        let op = env.history.invoke(Invocation {
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
        });
        let w = &self.workload;
        let flags = match kind {
            OpKind::Write if w.idempotency_key => FLAG_IDEMPOTENT,
            OpKind::Read if w.session_tokens => FLAG_TOKEN,
            _ => 0,
        };
        let request = Request {
            origin: env.id,
            op,
            key: self.key,
            via: self.entry,
            seen: self.seen.version,
            return_ns: 0,
            kind,
            flags,
        };
        self.in_flight = Some(InFlight { op, seq: self.op_seq, kind, purpose, attempt });
        if env.now() < self.offline_until {
            env.drop_request(&request); // No network: noticed only through the timeout.
        } else {
            env.send(self.entry, Msg::Request(request));
        }
        if let Some(t) = self.workload.timeout {
            env.timer(t, Msg::Timeout { op_seq: self.op_seq });
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let current = self.in_flight.filter(|f| f.op == reply.op);
        let Some(op) = current.filter(|_| env.now() >= self.offline_until) else {
            // A late reply (the client gave up), or one that reaches a disconnected
            // client: either way it is gone, and a waiting client times out.
            env.history.release_request(reply.op);
            return;
        };
        let outcome = match reply.status {
            Status::Ok => Outcome::Ok,
            Status::Rejected => Outcome::Rejected,
        };
        let (at, event) = (env.now(), env.event());
        let server = (reply.server.0, reply.source);
        let record = env.history.complete(op.op, outcome, reply.version, server, at, event, true);
        self.in_flight = None;
        self.seen = record.sighting();
        match outcome {
            Outcome::Ok => {
                if op.kind == OpKind::Write {
                    self.last_write = reply.version;
                }
                self.pc += 1;
                self.advance(env);
            }
            _ => self.after_failure(op, env),
        }
    }

    fn on_timeout(&mut self, op_seq: u32, env: &mut Env<'_>) {
        let Some(op) = self.in_flight.filter(|f| f.seq == op_seq) else {
            return; // The request was answered in time.
        };
        let (at, event) = (env.now(), env.event());
        env.history.complete(op.op, Outcome::Unknown, VersionId::ROOT, (0, 0), at, event, false);
        self.in_flight = None;
        self.after_failure(op, env);
    }

    /// A refused or timed-out operation: retry it after a backoff, or move on.
    fn after_failure(&mut self, op: InFlight, env: &mut Env<'_>) {
        let retry = self.workload.retry.as_ref().filter(|r| op.attempt < r.attempts);
        // A refused write whose message the store already holds needs no retry: the
        // client has just seen it there.
        let settled = op.kind == OpKind::Write
            && op.purpose == Purpose::Resubmit
            && !self.last_write_missing(env);
        match retry {
            Some(r) if !settled && !env.stopping() => {
                let backoff = r.backoff.sample(env.rng);
                self.retry_due = Some(InFlight { attempt: op.attempt + 1, ..op });
                env.timer(SimDuration(backoff), Msg::Wake);
            }
            _ => {
                self.pc += 1;
                self.advance(env);
            }
        }
    }

    fn on_wake(&mut self, env: &mut Env<'_>) {
        match self.retry_due.take() {
            Some(op) if !env.stopping() => self.send(op.kind, op.purpose, op.attempt, env),
            Some(_) => {}
            None => self.advance(env),
        }
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::ClockJump(ns) => self.clock_offset_ns = self.clock_offset_ns.saturating_add(ns),
            Fault::Disconnect(ns) => {
                self.offline_until = self.offline_until.max(env.now().after(SimDuration(ns)));
            }
            _ => {}
        }
    }
}

impl Component for Client {
    fn start(&mut self, env: &mut Env<'_>) {
        self.draw_clock(env);
        // Users arrive spread over one think time rather than all at the same instant.
        let first = self.workload.think.sample(env.rng);
        env.timer(SimDuration(first), Msg::Wake);
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Wake => self.on_wake(env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            Msg::Timeout { op_seq } => self.on_timeout(op_seq, env),
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("client got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_unroll_and_maybe_blocks_know_their_length() {
        use WorkflowStep as W;
        let steps = vec![
            W::Repeat(2, vec![W::Write]),
            W::Maybe(0.5, vec![W::Refresh, W::ResubmitIfMissing]),
        ];
        let p = compile(&steps);
        assert_eq!(p.len(), 5);
        assert!(matches!(p[2], Instr::Maybe { skip: 2, .. }));
        assert!(matches!(p[3], Instr::Op(OpKind::Read, Purpose::Refresh)));
    }
}
