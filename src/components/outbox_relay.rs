//! The relay of a transactional outbox: a write and its event are committed together in
//! the store (`call(to: "db", outbox: true)`), and the relay polls the store's outbox
//! every `every`, publishes what it has not sent yet to its topic, and every
//! `mark_every` marks what it published as sent in the store (a connector's offset
//! flush). Nothing committed is lost: a relay that crashes starts again from the last
//! mark the store acknowledged. But what it published after that mark is published
//! again, so delivery is at least once; consumers that deduplicate process each change
//! once. The polling interval is the cost: an event waits up to `every` for its relay.
//!
//! The poll and the mark are reads of the store, answered only while it is up: what
//! the poll finds is what was committed before it was sent (the outbox rows a `SELECT`
//! sent then sees at least).

use serde::Deserialize;

use super::Component;
use super::env::{Env, OwnOp};
use super::kind::{BuildContext, KindFile};
use super::log::sender::LogSender;
use super::log::{LogMsg, LogSpec};
use super::message::{Fault, Msg, Reply, Status};
use crate::check::{Actor, OpId, OpKind, Outcome, Purpose, PurposeInfo, Row};
use crate::engine::{LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// `OutboxRelay(every: "100ms")`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "OutboxRelay")]
pub struct RawOutboxRelay {
    /// How often it polls the outbox.
    pub every: Dur,
    /// How often it marks what it published as sent (`every` when absent).
    #[serde(default)]
    pub mark_every: Option<Dur>,
}

/// Outbox relay parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxRelaySpec {
    /// The polling interval.
    pub every: SimDuration,
    /// The marking interval.
    pub mark_every: SimDuration,
}

impl KindFile for RawOutboxRelay {
    type Spec = OutboxRelaySpec;
    type Actor = Box<OutboxRelay>;

    fn validate(&self, problems: &mut Problems) -> OutboxRelaySpec {
        if self.every.0 == SimDuration::ZERO {
            let hint = Some(r#"e.g. every: "100ms""#.into());
            problems.error(&["every"], "`every` must be above 0".into(), hint);
        }
        let every = self.every.0.max(SimDuration(1));
        let mark_every = self.mark_every.as_ref().map_or(every, |d| d.0);
        if mark_every == SimDuration::ZERO {
            let hint = Some(r#"e.g. mark_every: "1s""#.into());
            problems.error(&["mark_every"], "`mark_every` must be above 0".into(), hint);
        }
        OutboxRelaySpec { every, mark_every }
    }

    fn build(spec: &OutboxRelaySpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let store = ctx.link("store").ok_or("an outbox relay needs a link to its store")?;
        let topic = ctx.link("topic").ok_or("an outbox relay needs a link to its topic")?;
        Ok(Box::new(OutboxRelay::new(spec, store, topic).to_log(ctx)))
    }
}

impl KindSpec for OutboxRelaySpec {
    /// A relay reads one store's outbox and publishes to one topic; it can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("outbox relay", Serves::Worker);
        let store = Role::new("store", Target::Only(Serves::Data), 1, 1);
        c.roles.push(store.wanting("exactly one link to the store whose outbox it relays", "db"));
        let topic = Role::new("topic", Target::Events, 1, 1);
        c.roles
            .push(topic.wanting("exactly one link to the topic or log it publishes to", "events"));
        c.faults.push(FaultKind::Crash);
        c
    }
}

static POLL_ROW: Row = Row { name: "outbox_poll", always_shown: false, reads: false };
static MARK_ROW: Row = Row { name: "outbox_mark", always_shown: false, reads: false };

/// The relay reading what the outbox holds.
pub const OUTBOX_POLL: Purpose = Purpose(&POLL_INFO);
static POLL_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Server,
    checked: false,
    ..Purpose::client("outbox poll", "polls the outbox of", &POLL_ROW)
};
/// The relay marking what it published as sent.
pub const OUTBOX_MARK: Purpose = Purpose(&MARK_INFO);
static MARK_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Server,
    checked: false,
    ..Purpose::client("outbox mark", "marks sent in the outbox of", &MARK_ROW)
};

// The component.

/// How long a poll or mark may go unanswered before the relay tries again.
const ANSWER_WITHIN: SimDuration = SimDuration::from_secs(1);

/// A request to the store in flight: which, when sent, and the outbox length it covers.
#[derive(Debug, Clone, Copy)]
struct Asking {
    op: OpId,
    mark: bool,
    sent_at: SimTime,
    upto: usize,
}

/// An outbox relay.
#[derive(Debug)]
pub struct OutboxRelay {
    /// Reads the store's whole log (change data capture) rather than its outbox, and
    /// the purposes of its poll and mark.
    captures: bool,
    purposes: [Purpose; 2],
    every: SimDuration,
    mark_every: SimDuration,
    /// When the next mark is due.
    next_mark: SimTime,
    store: LinkId,
    topic: LinkId,
    /// Entries published so far (in memory).
    sent: usize,
    /// Entries marked sent in the store (what a restart starts from).
    marked: usize,
    asking: Option<Asking>,
    /// Its messages to a log, when it publishes to one rather than to a topic.
    log: Option<LogSender>,
    up: bool,
    published: u64,
    republished: u64,
}

impl OutboxRelay {
    /// A relay from the outbox behind `store` to `topic`.
    pub fn new(spec: &OutboxRelaySpec, store: LinkId, topic: LinkId) -> OutboxRelay {
        OutboxRelay {
            captures: false,
            purposes: [OUTBOX_POLL, OUTBOX_MARK],
            every: spec.every,
            mark_every: spec.mark_every,
            next_mark: SimTime::ZERO.after(spec.mark_every),
            store,
            topic,
            sent: 0,
            marked: 0,
            asking: None,
            log: None,
            up: true,
            published: 0,
            republished: 0,
        }
    }

    /// A connector reading every change `store` commits from its log (change data
    /// capture), polling with `poll` and recording its offset with `mark`.
    pub fn capturing(
        spec: &OutboxRelaySpec,
        (store, topic): (LinkId, LinkId),
        [poll, mark]: [Purpose; 2],
    ) -> OutboxRelay {
        OutboxRelay {
            captures: true,
            purposes: [poll, mark],
            ..OutboxRelay::new(spec, store, topic)
        }
    }

    /// The same relay publishing to a log, when its topic link goes to one: each entry
    /// a message with acks=all, marked sent only once acknowledged.
    pub fn to_log(mut self, ctx: &BuildContext<'_>) -> OutboxRelay {
        if let Some(log) = ctx.linked_spec::<LogSpec>() {
            self.log = Some(LogSender::new(self.topic, log.partitions));
        }
        self
    }

    fn ask(&mut self, mark: bool, upto: usize, env: &mut Env<'_>) {
        let purpose = self.purposes[usize::from(mark)];
        let own =
            OwnOp { client: u32::MAX, kind: OpKind::Read, purpose, key: 0, token: SimTime::ZERO };
        let request = env.own_request(self.store, own);
        self.asking = Some(Asking { op: request.op, mark, sent_at: env.now(), upto });
        env.send(self.store, Msg::Request(request));
    }

    fn on_wake(&mut self, env: &mut Env<'_>) {
        let backlog = env.outbox(env.peer(self.store)).len();
        if !self.up {
            return; // A restart wakes it again.
        }
        // Keeps polling after the run's duration until everything is marked sent.
        if !env.stopping() || self.marked < backlog {
            env.timer(self.every, Msg::Wake);
        }
        match self.asking {
            Some(a) if env.now().since(a.sent_at) < ANSWER_WITHIN => return,
            Some(a) => {
                env.give_up(a.op);
                self.asking = None;
            }
            None => {}
        }
        if let Some(log) = &mut self.log {
            log.resend_due(env);
        }
        let markable = self.log.as_ref().map_or(self.sent, |l| l.markable(self.sent));
        if markable > self.marked && env.now() >= self.next_mark {
            self.next_mark = env.now().after(self.mark_every);
            self.ask(true, markable, env);
        } else {
            self.ask(false, backlog, env);
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let Some(a) = self.asking.filter(|a| a.op == reply.op) else {
            return env.release(reply.op);
        };
        let outcome = if reply.status == Status::Ok { Outcome::Ok } else { Outcome::Refused };
        env.complete(reply.op, (outcome, reply.version), (reply.server.0, reply.source), true);
        self.asking = None;
        if outcome != Outcome::Ok || !self.up {
            return;
        }
        if a.mark {
            self.marked = self.marked.max(a.upto);
            return;
        }
        let store = env.peer(self.store);
        let from = self.sent.min(a.upto);
        let entries: Vec<_> = env.outbox(store)[from..a.upto].to_vec();
        for (i, version) in entries.into_iter().enumerate() {
            let key = env.version(version).key;
            match &mut self.log {
                Some(log) => log.send(from + i, key, version, env),
                None => _ = env.send(self.topic, Msg::Publish { key, version, from: env.id.0 }),
            }
        }
        self.published += (a.upto.saturating_sub(self.sent)) as u64;
        self.sent = self.sent.max(a.upto);
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash if self.up => {
                self.up = false;
                // What was published but not marked goes out again after the restart.
                self.republished += (self.sent - self.marked) as u64;
                self.sent = self.marked;
                if let Some(log) = &mut self.log {
                    log.forget();
                }
            }
            Fault::Restart if !self.up => {
                self.up = true;
                env.timer(self.every, Msg::Wake);
            }
            _ => {}
        }
    }
}

impl Component for OutboxRelay {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // Its offsets and log messages point into the outbox, which the history reports.
    }

    /// Entries published, and entries published again after a crash lost their mark.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![("published", self.published), ("to_publish_again", self.republished)]
    }

    fn is_up(&self) -> bool {
        self.up
    }

    fn start(&mut self, env: &mut Env<'_>) {
        if self.captures {
            let store = env.peer(self.store);
            env.capture(store);
        }
        env.timer(self.every, Msg::Wake);
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Wake => self.on_wake(env),
            Msg::Reply(r) => self.on_reply(r, env),
            Msg::Log(LogMsg::ProduceAnswer { message, attempt, outcome }) => {
                if let Some(log) = self.log.as_mut().filter(|_| self.up) {
                    log.answered(message, attempt, outcome, env);
                }
            }
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("outbox relay got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::VersionId;
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, answer, bench, deliver, ms, run, write_op};
    use crate::engine::{ComponentId, Sim};

    /// A relay polling every 10 ms and marking every 50 ms; probe 1 is its store,
    /// probe 2 its topic.
    fn relay() -> Sim<BenchWorld> {
        let spec = OutboxRelaySpec {
            every: SimDuration::from_millis(10),
            mark_every: SimDuration::from_millis(50),
        };
        let (sim, _) = bench(2, 1, |l| {
            BuiltIn::OutboxRelay(Box::new(OutboxRelay::new(&spec, l.callees[0], l.callees[1])))
        });
        sim
    }

    /// A write committed now on the store (probe 1) with its event in the outbox.
    fn commit(sim: &mut Sim<BenchWorld>, at: u64) -> VersionId {
        let op = write_op(sim, ms(at), 0, 0);
        let h = &mut sim.actor.history;
        h.publish_on_commit(op, true);
        h.create_version(op, 1, 0, &[VersionId::ROOT], ms(at), at)
    }

    /// The store answers every poll and mark it received up to now, at `at`.
    fn answer_all(sim: &mut Sim<BenchWorld>, at: u64, answered: &mut usize) {
        let asked: Vec<_> = sim
            .actor
            .received
            .iter()
            .filter_map(|r| match r.msg {
                Msg::Request(q) => Some(q),
                _ => None,
            })
            .collect();
        for q in asked.into_iter().skip(*answered) {
            answer(sim, ms(at), (ComponentId(1), Status::Ok), q, VersionId::ROOT);
            *answered += 1;
        }
    }

    fn published(sim: &Sim<BenchWorld>) -> Vec<u32> {
        let events = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::Publish { version, .. } => Some(version.0),
            _ => None,
        });
        events.collect()
    }

    #[test]
    fn a_crash_before_the_mark_publishes_again_and_nothing_is_lost() {
        let mut sim = relay();
        let mut answered = 0;
        let v1 = commit(&mut sim, 1);
        // The poll at 10 ms finds v1; answered at 11 ms, it is published.
        run(&mut sim, ms(10));
        answer_all(&mut sim, 11, &mut answered);
        run(&mut sim, ms(12));
        assert_eq!(published(&sim), [v1.0]);
        // Before the mark at 50 ms, the relay crashes; after its restart it polls from
        // the last mark (none) and publishes v1 again, with v2.
        deliver(&mut sim, ms(15), Msg::Fault(Fault::Crash));
        deliver(&mut sim, ms(25), Msg::Fault(Fault::Restart));
        let v2 = commit(&mut sim, 26);
        for t in (30..=70).step_by(10) {
            run(&mut sim, ms(t));
            answer_all(&mut sim, t + 1, &mut answered);
        }
        run(&mut sim, ms(200));
        let got = published(&sim);
        assert_eq!(got[..3], [v1.0, v1.0, v2.0], "{got:?}");
        let c = sim.actor.component.counts();
        assert!(c.contains(&("to_publish_again", 1)), "{c:?}");
    }
}
