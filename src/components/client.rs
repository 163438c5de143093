//! A client: one user running a workflow of writes, reads and sleeps, round after round.
//!
//! The client sends each request over its link to the architecture's entry point and
//! waits for the reply before moving on (one request in flight). Between rounds it thinks
//! for a drawn time. A read is *stale* when it returns a version older than the newest
//! version of the key acknowledged to any client when the read was sent. With a timeout,
//! a request that gets no reply ends `Unknown` and the workflow moves on; a late reply is
//! ignored. Retries, sessions and richer steps come with the consistency core.

use std::sync::Arc;

use super::Component;
use super::env::Env;
use super::message::{Msg, Reply, Request};
use crate::check::{OpKind, OpRecord, Outcome};
use crate::engine::{Dist, LinkId, SimDuration, SimTime};
use crate::model::Step;

/// The request a client is waiting on.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    kind: OpKind,
    invoked: SimTime,
    /// Newest acknowledged version of the key when the request was sent.
    newest_acked: u64,
}

/// What every client of a population does; shared, so a client costs a pointer.
#[derive(Debug)]
pub struct Workload {
    /// Steps of one round.
    pub workflow: Vec<Step>,
    /// Pause between rounds.
    pub think: Dist,
    /// Give up on a request after this long.
    pub timeout: Option<SimDuration>,
}

/// One simulated user.
#[derive(Debug)]
pub struct Client {
    index: u32,
    key: u32,
    entry: LinkId,
    workload: Arc<Workload>,
    step: usize,
    op_seq: u32,
    in_flight: Option<InFlight>,
}

impl Client {
    /// Client number `index`, working on `key`, entering the architecture over `entry`.
    pub fn new(index: u32, key: u32, entry: LinkId, workload: Arc<Workload>) -> Client {
        assert!(!workload.workflow.is_empty(), "a client needs a workflow");
        Client { index, key, entry, workload, step: 0, op_seq: 0, in_flight: None }
    }

    /// Runs steps until the client has to wait for a reply or a timer.
    fn advance(&mut self, env: &mut Env<'_>) {
        assert!(self.in_flight.is_none(), "advance while waiting for a reply");
        if self.step == self.workload.workflow.len() {
            self.step = 0;
            let think = self.workload.think.sample(env.rng);
            env.timer(SimDuration(think), Msg::Wake);
            return;
        }
        match &self.workload.workflow[self.step] {
            Step::Write => self.send(OpKind::Write, env),
            Step::Read => self.send(OpKind::Read, env),
            Step::Sleep(d) => {
                self.step += 1;
                let ns = d.sample(env.rng);
                env.timer(SimDuration(ns), Msg::Wake);
            }
        }
    }

    fn send(&mut self, kind: OpKind, env: &mut Env<'_>) {
        self.op_seq = self.op_seq.wrapping_add(1);
        let request = Request {
            origin: env.id,
            op_seq: self.op_seq,
            kind,
            key: self.key,
            via: self.entry,
            return_ns: 0,
        };
        let newest_acked = env.history.newest_acked(self.key);
        self.in_flight = Some(InFlight { kind, invoked: env.now(), newest_acked });
        // A lost request is noticed only through the timeout, as in a real client.
        env.send(self.entry, Msg::Request(request));
        if let Some(t) = self.workload.timeout {
            env.timer(t, Msg::Timeout { op_seq: self.op_seq });
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let Some(op) = self.in_flight else { return };
        if reply.op_seq != self.op_seq {
            return; // The reply to a request that already timed out.
        }
        assert_eq!(reply.kind, op.kind, "reply kind must match the request");
        assert_eq!(reply.key, self.key, "reply key must match the request");
        let stale = op.kind == OpKind::Read && reply.version < op.newest_acked;
        self.finish(op, reply.version, Outcome::Ok, stale, env);
    }

    fn on_timeout(&mut self, op_seq: u32, env: &mut Env<'_>) {
        match self.in_flight {
            Some(op) if op_seq == self.op_seq => self.finish(op, 0, Outcome::Unknown, false, env),
            _ => {} // The request was answered in time.
        }
    }

    fn finish(&mut self, op: InFlight, version: u64, outcome: Outcome, stale: bool, env: &mut Env) {
        env.history.record(OpRecord {
            client: self.index,
            kind: op.kind,
            key: self.key,
            version,
            invoked: op.invoked,
            completed: env.now(),
            outcome,
            stale,
        });
        self.in_flight = None;
        // A later reply to this operation must not match the next one.
        self.op_seq = self.op_seq.wrapping_add(1);
        self.step += 1;
        self.advance(env);
    }
}

impl Component for Client {
    fn start(&mut self, env: &mut Env<'_>) {
        // Users arrive spread over one think time rather than all at the same instant.
        let first = self.workload.think.sample(env.rng);
        env.timer(SimDuration(first), Msg::Wake);
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Wake => self.advance(env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            Msg::Timeout { op_seq } => self.on_timeout(op_seq, env),
            other => panic!("client got unexpected {}", other.kind_name()),
        }
    }
}
