//! The attacker behind a cross-site-scripting hole: a script injected into editors'
//! pages reads the access token each keeps in `localStorage` and sends it here, and the
//! attacker reads the victim's document with it every `ATTACK_EVERY` from then on.
//!
//! A token kept in an HttpOnly cookie cannot be read by a script: the theft finds
//! nothing. The attacker holds only the access token, never a way to renew it, so a
//! token stops working when it expires; the first refusal ends its use. An attack read
//! still unanswered at the next round is abandoned.

use super::purposes;
use std::collections::BTreeMap;

use super::Component;
use super::env::{Env, OwnOp};
use super::message::{Msg, Reply, Status};
use crate::check::{OpId, OpKind, Outcome, VersionId};
use crate::engine::{LinkId, SimDuration, SimTime};

/// How often the attacker uses each stolen token.
pub const ATTACK_EVERY: SimDuration = SimDuration::from_secs(10);

/// A token the attacker holds.
#[derive(Debug, Clone, Copy)]
struct StolenToken {
    victim: u32,
    key: u32,
    issued: SimTime,
    /// Refused once: expired.
    dead: bool,
}

/// The holder of stolen tokens.
#[derive(Debug)]
pub struct Attacker {
    entry: LinkId,
    tokens: Vec<StolenToken>,
    /// Attack reads in flight, by operation slot: the token's index.
    reads: BTreeMap<OpId, usize>,
    armed: bool,
    attempts: u64,
    answered: u64,
    refused: u64,
}

impl Attacker {
    /// An attacker that enters the architecture over `entry`, as clients do.
    pub fn new(entry: LinkId) -> Attacker {
        Attacker {
            entry,
            tokens: Vec::new(),
            reads: BTreeMap::new(),
            armed: false,
            attempts: 0,
            answered: 0,
            refused: 0,
        }
    }

    fn on_stolen(&mut self, token: StolenToken, readable: bool, env: &mut Env<'_>) {
        self.attempts += 1;
        if !readable {
            return; // An HttpOnly cookie: the script sees nothing.
        }
        self.tokens.push(token);
        if !self.armed {
            self.armed = true;
            env.timer(SimDuration::ZERO, Msg::Wake);
        }
    }

    /// One round: abandon the last round's unanswered reads, then use every live token.
    fn on_round(&mut self, env: &mut Env<'_>) {
        let (at, event) = (env.now(), env.event());
        for (op, _) in std::mem::take(&mut self.reads) {
            // A late answer finds no read waiting and is released.
            env.history.complete(op, Outcome::Unknown, VersionId::ROOT, (0, 0), at, event, false);
        }
        if env.stopping() || self.tokens.iter().all(|t| t.dead) {
            self.armed = false;
            return;
        }
        for i in 0..self.tokens.len() {
            if !self.tokens[i].dead {
                let op = self.read(self.tokens[i], env);
                self.reads.insert(op, i);
            }
        }
        env.timer(ATTACK_EVERY, Msg::Wake);
    }

    fn read(&self, token: StolenToken, env: &mut Env<'_>) -> OpId {
        let (kind, purpose, token_issued) = (OpKind::Read, purposes::ATTACK, token.issued);
        let op = OwnOp { client: token.victim, kind, purpose, key: token.key, token: token_issued };
        let request = env.own_request(self.entry, op);
        env.send(self.entry, Msg::Request(request));
        request.op
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let Some(i) = self.reads.remove(&reply.op) else {
            return env.history.release_request(reply.op); // Abandoned already.
        };
        let outcome = match reply.status {
            Status::Ok => Outcome::Ok,
            _ => Outcome::Refused,
        };
        let (at, event) = (env.now(), env.event());
        let server = (reply.server.0, reply.source);
        env.history.complete(reply.op, outcome, reply.version, server, at, event, true);
        match reply.status {
            Status::Ok => self.answered += 1,
            Status::Unauthorized => {
                self.refused += 1;
                self.tokens[i].dead = true;
            }
            _ => self.refused += 1,
        }
    }
}

impl Component for Attacker {
    /// Thefts tried, tokens stolen, reads answered and refused.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("thefts_tried", self.attempts),
            ("tokens_stolen", self.tokens.len() as u64),
            ("reads_answered", self.answered),
            ("reads_refused", self.refused),
        ]
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Stolen { victim, key, issued, readable } => {
                let token = StolenToken { victim, key, issued, dead: false };
                self.on_stolen(token, readable, env);
            }
            Msg::Wake => self.on_round(env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            other => panic!("attacker got unexpected {}", other.kind_name()),
        }
    }
}
