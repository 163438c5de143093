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
use crate::check::{OpId, OpKind, Outcome};
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
        for (op, _) in std::mem::take(&mut self.reads) {
            // A late answer finds no read waiting and is released.
            env.give_up(op);
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
            return env.release(reply.op); // Abandoned already.
        };
        let outcome = match reply.status {
            Status::Ok => Outcome::Ok,
            _ => Outcome::Refused,
        };
        let server = (reply.server.0, reply.source);
        env.complete(reply.op, (outcome, reply.version), server, true);
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
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // Its requests are in flight or in the history; it keeps none.
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{
        BenchWorld, answer, bench, deliver, last_request, ms, ops, run,
    };
    use crate::engine::{ComponentId, Sim};

    const APP: ComponentId = ComponentId(1);

    /// An attacker in front of the app probe; at 0 ms it gets victim 7's token for
    /// document 3, issued at 0 ms (`readable`: kept where a script can read it).
    fn attacker(readable: bool) -> Sim<BenchWorld> {
        let (mut sim, _) = bench(1, 4, |l| BuiltIn::Attacker(Attacker::new(l.callees[0])));
        let stolen = Msg::Stolen { victim: 7, key: 3, issued: SimTime::ZERO, readable };
        deliver(&mut sim, ms(0), stolen);
        sim
    }

    /// The app probe answers the attack read it received last with `status` at `at`.
    fn app_answers(sim: &mut Sim<BenchWorld>, at: u64, status: Status) {
        let q = last_request(sim, None);
        answer(sim, ms(at), (APP, status), q, crate::check::VersionId::ROOT);
    }

    /// When the app probe received the attacker's reads (ms).
    fn reads(sim: &Sim<BenchWorld>) -> Vec<u64> {
        let requests = sim.actor.received.iter().filter(|r| matches!(r.msg, Msg::Request(_)));
        requests.map(|r| r.at.as_nanos() / 1_000_000).collect()
    }

    #[test]
    fn a_stolen_token_is_used_every_round_until_it_is_refused() {
        let mut sim = attacker(true);
        run(&mut sim, ms(0));
        app_answers(&mut sim, 1, Status::Ok);
        run(&mut sim, ms(10_000));
        app_answers(&mut sim, 10_001, Status::Unauthorized);
        run(&mut sim, ms(60_000));
        assert_eq!(reads(&sim), [0, 10_000], "a refused token is not used again");
        let ops = ops(&sim);
        let outcomes: Vec<_> = ops.iter().map(|o| o.outcome).collect();
        assert_eq!(outcomes, [Outcome::Ok, Outcome::Refused]);
        for op in &ops {
            assert_eq!((op.inv.client, op.inv.key, op.inv.token), (7, 3, SimTime::ZERO));
            assert!(!op.inv.purpose.in_session(), "not a step of the victim's session");
        }
        let counts = sim.actor.component.counts();
        let want = [("thefts_tried", 1), ("tokens_stolen", 1), ("reads_answered", 1)];
        assert_eq!(counts[..3], want);
        assert_eq!(counts[3], ("reads_refused", 1));
    }

    #[test]
    fn a_token_in_an_http_only_cookie_cannot_be_stolen() {
        let mut sim = attacker(false);
        run(&mut sim, ms(60_000));
        assert!(reads(&sim).is_empty());
        assert_eq!(sim.actor.component.counts()[..2], [("thefts_tried", 1), ("tokens_stolen", 0)]);
    }

    #[test]
    fn a_read_unanswered_by_the_next_round_is_abandoned_and_its_late_answer_released() {
        let mut sim = attacker(true);
        run(&mut sim, ms(10_000));
        app_answers(&mut sim, 10_500, Status::Ok); // Answers the second read.
        run(&mut sim, ms(10_000));
        // The first read's answer arrives after its round ended.
        let first = sim.actor.received[0].msg;
        let Msg::Request(q) = first else { panic!("the first message is a read") };
        let late = Reply {
            op: q.op,
            version: q.seen,
            server: APP,
            source: 0,
            front: APP,
            status: Status::Ok,
        };
        deliver(&mut sim, ms(10_200), Msg::Reply(late));
        run(&mut sim, ms(15_000));
        let outcomes: Vec<_> = ops(&sim).iter().map(|o| o.outcome).collect();
        assert_eq!(outcomes, [Outcome::Unknown, Outcome::Ok]);
        assert_eq!(sim.actor.history.in_flight(), 0, "the late answer freed its slot");
    }
}
