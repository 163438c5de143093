//! A message queue (SQS-like): producers send messages to it; a worker's receive takes
//! the first visible message and hides it from other workers for the visibility
//! timeout; a worker deletes a message once it is done. A message not deleted in time
//! becomes visible again and is delivered again (to any worker), so a worker slower
//! than the timeout, or one that crashed, makes it processed twice unless the worker
//! extends the timeout while it works (a heartbeat). With `max_receives`, a message
//! received that many times without being deleted goes to the dead-letter queue
//! instead of being delivered again. The queue keeps what it accepted (it does not
//! crash). What it accepts and dead-letters goes to the history's log book, as a log of
//! one partition.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::log::{Acks, LogMsg, Produced, Sequence};
use super::message::Msg;
use crate::engine::{ComponentId, LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, KindSpec, Serves};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// `Queue(visibility_timeout: "30s", max_receives: 5)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Queue")]
pub struct RawQueue {
    /// How long a received message stays hidden from other workers (30 s when absent).
    #[serde(default)]
    pub visibility_timeout: Option<Dur>,
    /// Receives after which a message goes to the dead-letter queue (none when absent).
    #[serde(default)]
    pub max_receives: Option<u32>,
}

/// Queue parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSpec {
    /// How long a received message stays hidden.
    pub visibility_timeout: SimDuration,
    /// Receives before the dead-letter queue.
    pub max_receives: Option<u32>,
}

impl KindFile for RawQueue {
    type Spec = QueueSpec;
    type Actor = Box<Queue>;

    fn validate(&self, problems: &mut Problems) -> QueueSpec {
        let timeout =
            self.visibility_timeout.as_ref().map_or(SimDuration::from_millis(30_000), |d| d.0);
        if timeout == SimDuration::ZERO {
            let hint = Some(r#"e.g. visibility_timeout: "30s""#.into());
            problems.error(
                &["visibility_timeout"],
                "`visibility_timeout` must be above 0".into(),
                hint,
            );
        }
        if let Some(m) = self.max_receives {
            problems.count(&["max_receives"], m, 1_000);
        }
        QueueSpec {
            visibility_timeout: timeout.max(SimDuration(1)),
            max_receives: self.max_receives,
        }
    }

    fn build(spec: &QueueSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(Box::new(Queue::new(spec, ctx.incoming.iter().map(|&(link, _)| link).collect())))
    }
}

impl KindSpec for QueueSpec {
    /// A queue answers producers and workers.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("queue", Serves::Queue);
        c.alone = "answers producers and workers itself";
        c.callers = Some(("a producer or queue workers", "jobs"));
        c
    }
}

// The component.

/// A message the queue holds.
#[derive(Debug, Clone, Copy)]
struct Held {
    receives: u32,
    /// Hidden until then (`ZERO`: visible).
    hidden_until: SimTime,
}

/// What a queue counted.
#[derive(Debug, Default, Clone, Copy)]
struct QueueCounts {
    accepted: u64,
    duplicates_refused: u64,
    received: u64,
    redelivered: u64,
    deleted: u64,
    dead_lettered: u64,
    empty_receives: u64,
}

/// A message queue.
#[derive(Debug)]
pub struct Queue {
    spec: QueueSpec,
    /// Visible messages, in the order they became visible.
    visible: VecDeque<u32>,
    /// Hidden messages by when they show again.
    hidden: BTreeSet<(SimTime, u32)>,
    held: BTreeMap<u32, Held>,
    /// Every message accepted, for producers that deduplicate.
    accepted: BTreeSet<u32>,
    callers: Vec<LinkId>,
    counts: QueueCounts,
}

impl Queue {
    /// An empty queue its callers reach over `callers`.
    pub fn new(spec: &QueueSpec, callers: Vec<LinkId>) -> Queue {
        Queue {
            spec: *spec,
            visible: VecDeque::new(),
            hidden: BTreeSet::new(),
            held: BTreeMap::new(),
            accepted: BTreeSet::new(),
            callers,
            counts: QueueCounts::default(),
        }
    }

    fn answer(&self, to: ComponentId, msg: LogMsg, env: &mut Env<'_>) {
        if let Some(link) = self.callers.iter().copied().find(|&l| env.peer(l) == to) {
            env.answer_over(link, to, Msg::Log(msg));
        }
    }

    fn accept(
        &mut self,
        origin: ComponentId,
        message: u32,
        (attempt, acks, sequence): (u16, Acks, Sequence),
        env: &mut Env<'_>,
    ) {
        if sequence != Sequence::Ignored && self.accepted.contains(&message) {
            self.counts.duplicates_refused += 1;
        } else {
            self.counts.accepted += 1;
            self.accepted.insert(message);
            self.visible.push_back(message);
            self.held.insert(message, Held { receives: 0, hidden_until: SimTime::ZERO });
            let (queue, stamp) = (env.id.0, env.stamp());
            env.log_book().appended(queue, 0, message, 0, stamp);
        }
        if acks != Acks::None {
            self.answer(
                origin,
                LogMsg::ProduceAnswer { message, attempt, outcome: Produced::Ok },
                env,
            );
        }
    }

    /// Messages whose visibility timeout ran out show again.
    fn reveal(&mut self, now: SimTime) {
        while let Some(&(until, message)) = self.hidden.first().filter(|(until, _)| *until <= now) {
            self.hidden.remove(&(until, message));
            if let Some(h) = self.held.get_mut(&message) {
                h.hidden_until = SimTime::ZERO;
                self.visible.push_back(message);
                self.counts.redelivered += 1;
            }
        }
    }

    /// The next message to deliver, dead-lettering those received too often.
    fn next_visible(&mut self, env: &mut Env<'_>) -> Option<(u32, u32)> {
        while let Some(message) = self.visible.pop_front() {
            let Some(h) = self.held.get_mut(&message) else { continue }; // deleted
            if self.spec.max_receives.is_some_and(|m| h.receives >= m) {
                self.held.remove(&message);
                self.counts.dead_lettered += 1;
                env.log_book().dead_lettered(message);
                continue;
            }
            h.receives += 1;
            h.hidden_until = env.now().after(self.spec.visibility_timeout);
            self.hidden.insert((h.hidden_until, message));
            return Some((message, h.receives));
        }
        None
    }

    fn receive(&mut self, origin: ComponentId, member: u16, generation: u32, env: &mut Env<'_>) {
        self.reveal(env.now());
        let (message, receives) = match self.next_visible(env) {
            Some(m) => {
                self.counts.received += 1;
                m
            }
            None => {
                self.counts.empty_receives += 1;
                (u32::MAX, 0)
            }
        };
        self.answer(origin, LogMsg::Received { member, message, receives, generation }, env);
    }

    fn delete(&mut self, message: u32) {
        if let Some(h) = self.held.remove(&message) {
            self.hidden.remove(&(h.hidden_until, message));
            self.counts.deleted += 1;
        }
    }

    fn extend(&mut self, message: u32, receives: u32, now: SimTime) {
        let Some(h) = self.held.get_mut(&message) else { return };
        if h.receives != receives || h.hidden_until == SimTime::ZERO {
            return; // Shown again, or received by another worker since.
        }
        self.hidden.remove(&(h.hidden_until, message));
        h.hidden_until = now.after(self.spec.visibility_timeout);
        self.hidden.insert((h.hidden_until, message));
    }
}

impl Component for Queue {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It keeps producers' message ids, which carry no store version.
    }

    /// What it accepted, delivered, deleted and dead-lettered.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        vec![
            ("accepted", c.accepted),
            ("duplicates_refused", c.duplicates_refused),
            ("received", c.received),
            ("redelivered", c.redelivered),
            ("deleted", c.deleted),
            ("dead_lettered", c.dead_lettered),
            ("empty_receives", c.empty_receives),
            ("left_at_end", self.held.len() as u64),
        ]
    }

    fn start(&mut self, env: &mut Env<'_>) {
        let queue = env.id.0;
        env.log_book().mark_queue(queue);
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Log(LogMsg::Produce { origin, message, attempt, acks, sequence, .. }) => {
                self.accept(origin, message, (attempt, acks, sequence), env);
            }
            Msg::Log(LogMsg::Receive { origin, member, generation }) => {
                self.receive(origin, member, generation, env);
            }
            Msg::Log(LogMsg::Delete { message }) => self.delete(message),
            Msg::Log(LogMsg::Extend { message, receives }) => {
                self.extend(message, receives, env.now())
            }
            other => panic!("queue got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{MessageRecord, Stamp};
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, bench, deliver, ms, run};
    use crate::engine::Sim;

    fn queue(max_receives: Option<u32>) -> Sim<BenchWorld> {
        let spec = QueueSpec { visibility_timeout: SimDuration::from_millis(100), max_receives };
        let (mut sim, _) =
            bench(1, 1, |l| BuiltIn::Queue(Box::new(Queue::new(&spec, vec![l.callers[0]]))));
        let sent = Stamp::default();
        let record = MessageRecord {
            producer: 1,
            log: 0,
            key: 0,
            partition: 0,
            seq: 0,
            sent,
            acked: None,
            appended: None,
            version: crate::check::VersionId::ROOT,
        };
        let message = sim.actor.history.logs.sent(record);
        let produce = LogMsg::Produce {
            origin: ComponentId(1),
            message,
            seq: 0,
            partition: 0,
            attempt: 1,
            acks: Acks::All,
            sequence: Sequence::Ignored,
        };
        deliver(&mut sim, ms(1), Msg::Log(produce));
        sim
    }

    fn receive(sim: &mut Sim<BenchWorld>, at: u64) {
        let msg = LogMsg::Receive { origin: ComponentId(1), member: 0, generation: 0 };
        deliver(sim, ms(at), Msg::Log(msg));
    }

    /// The messages the worker probe received: (message, receives).
    fn received(sim: &Sim<BenchWorld>) -> Vec<(u32, u32)> {
        let got = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::Log(LogMsg::Received { message, receives, .. }) => Some((message, receives)),
            _ => None,
        });
        got.collect()
    }

    #[test]
    fn a_message_not_deleted_within_its_visibility_timeout_is_delivered_again() {
        let mut sim = queue(None);
        receive(&mut sim, 2);
        receive(&mut sim, 50);
        receive(&mut sim, 110);
        run(&mut sim, ms(120));
        assert_eq!(received(&sim), vec![(0, 1), (u32::MAX, 0), (0, 2)]);
    }

    #[test]
    fn a_heartbeat_keeps_it_hidden_and_a_delete_removes_it() {
        let mut sim = queue(None);
        receive(&mut sim, 2);
        deliver(&mut sim, ms(90), Msg::Log(LogMsg::Extend { message: 0, receives: 1 }));
        receive(&mut sim, 110);
        deliver(&mut sim, ms(150), Msg::Log(LogMsg::Delete { message: 0 }));
        receive(&mut sim, 300);
        run(&mut sim, ms(310));
        assert_eq!(received(&sim), vec![(0, 1), (u32::MAX, 0), (u32::MAX, 0)]);
    }

    #[test]
    fn a_message_received_max_receives_times_goes_to_the_dead_letter_queue() {
        let mut sim = queue(Some(2));
        for at in [2, 110, 220] {
            receive(&mut sim, at);
        }
        run(&mut sim, ms(230));
        assert_eq!(received(&sim), vec![(0, 1), (0, 2), (u32::MAX, 0)]);
        assert!(sim.actor.history.logs.is_dead(0));
    }
}
