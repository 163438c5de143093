//! A producer appending to a replicated log, as a Kafka client library does: messages
//! arrive at `rate` (Poisson), each with a key drawn among `keys` that picks its
//! partition; up to `in_flight` requests per partition wait for their answer at once,
//! and requests reach the log in the order they were sent (one connection); a request
//! unanswered within `timeout`, or refused, is retried after `backoff`, `retries` times,
//! then counted failed. `acks` says what the log waits for before it answers (`none`:
//! the producer counts a message written once it is sent; `leader`; `all`). Without `idempotent`, a retry of
//! a message the log already holds writes it again, and with several requests in flight
//! a retry can land behind later messages; with it, the log writes each message once,
//! in the order sent.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::log::connection::Connection;
use super::log::{self, Acks, LogMsg, LogSpec, Produced, Sequence};
use super::message::Msg;
use crate::engine::{Dist, LinkId, SimDuration};
use crate::model::contract::{Contract, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems, parse_rate};

// The kind: its file shape, validation, contract and build.

/// `Producer(rate: "200/s", acks: all, idempotent: true)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Producer")]
pub struct RawProducer {
    /// Messages per unit of time, Poisson: `"200/s"`.
    pub rate: String,
    /// Keys messages are spread over, uniformly (100 when absent).
    #[serde(default)]
    pub keys: Option<u32>,
    /// What the log waits for: `none` (Kafka's acks=0), `leader` (acks=1) or `all`
    /// (every in-sync replica; when absent).
    #[serde(default)]
    pub acks: Option<RawAcks>,
    /// Retries of a message before it counts failed (10 when absent).
    #[serde(default)]
    pub retries: Option<u32>,
    /// Wait before a retry (100 ms when absent).
    #[serde(default)]
    pub backoff: Option<Dur>,
    /// How long a request waits for its answer (1 s when absent).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Requests per partition waiting for their answer at once (5 when absent).
    #[serde(default)]
    pub in_flight: Option<u32>,
    /// Sequence numbers per partition: the log writes each message once, in order.
    #[serde(default)]
    pub idempotent: bool,
}

/// `acks` as written: `none` (Kafka's acks=0), `leader` (acks=1) or `all`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RawAcks {
    /// The producer counts a message written once it is sent.
    None,
    /// The leader's append.
    Leader,
    /// Every in-sync replica's.
    All,
}

/// Producer parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerSpec {
    /// Time between two messages.
    pub gap: Dist,
    /// Keys.
    pub keys: u32,
    /// What the log waits for.
    pub acks: Acks,
    /// Retries per message.
    pub retries: u32,
    /// Wait before a retry.
    pub backoff: SimDuration,
    /// Wait for an answer.
    pub timeout: SimDuration,
    /// Requests in flight at once, per partition.
    pub in_flight: u32,
    /// Whether the log writes each message once, in order.
    pub idempotent: bool,
}

impl KindFile for RawProducer {
    type Spec = ProducerSpec;
    type Actor = Box<Producer>;

    fn validate(&self, problems: &mut Problems) -> ProducerSpec {
        let gap = parse_rate(&self.rate).unwrap_or_else(|msg| {
            problems.error(&["rate"], msg, Some(r#"e.g. rate: "200/s""#.into()));
            SimDuration(1)
        });
        let keys = self.keys.unwrap_or(100);
        problems.count(&["keys"], keys, u32::MAX);
        let acks = match self.acks.unwrap_or(RawAcks::All) {
            RawAcks::None => Acks::None,
            RawAcks::Leader => Acks::Leader,
            RawAcks::All => Acks::All,
        };
        if self.idempotent && acks != Acks::All {
            let text = "an idempotent producer needs acks: all (the log's sequence numbers \
                        only hold for writes every in-sync replica has)"
                .to_string();
            problems.error(&["idempotent"], text, Some("acks: all, idempotent: true".into()));
        }
        let in_flight = self.in_flight.unwrap_or(5);
        problems.count(&["in_flight"], in_flight, 1_000);
        let ms = SimDuration::from_millis;
        let timeout = self.timeout.as_ref().map_or(ms(1_000), |d| d.0);
        if timeout == SimDuration::ZERO {
            problems.error(
                &["timeout"],
                "`timeout` must be above 0".into(),
                Some(r#"e.g. timeout: "1s""#.into()),
            );
        }
        ProducerSpec {
            gap: Dist::Exp { mean_ns: gap.0 as f64 },
            keys: keys.max(1),
            acks,
            retries: self.retries.unwrap_or(10),
            backoff: self.backoff.as_ref().map_or(ms(100), |d| d.0),
            timeout: timeout.max(SimDuration(1)),
            in_flight: in_flight.clamp(1, 1_000),
            idempotent: self.idempotent,
        }
    }

    fn build(spec: &ProducerSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let link = ctx.link("log").ok_or("a producer needs a link to its log or queue")?;
        // A queue is one partition.
        let partitions = ctx.linked_spec::<LogSpec>().map_or(1, |log| log.partitions);
        Ok(Box::new(Producer::new(spec, link, partitions)))
    }
}

impl KindSpec for ProducerSpec {
    /// A producer appends to exactly one log.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("producer", Serves::Worker);
        let log = Role::new("log", Target::Messages, 1, 1);
        c.roles.push(log.wanting("exactly one link to the log or queue it sends to", "events"));
        c.makes_load = true;
        c
    }
}

// The component.

/// A message not yet answered for good.
#[derive(Debug, Clone, Copy)]
struct Pending {
    partition: u16,
    seq: u32,
    attempt: u16,
    retries_left: u32,
    /// Whether an attempt is waiting for its answer.
    in_flight: bool,
}

/// What a producer counted.
#[derive(Debug, Default, Clone, Copy)]
struct ProducerCounts {
    sent: u64,
    attempts: u64,
    acked: u64,
    retried: u64,
    failed: u64,
}

/// A producer.
#[derive(Debug)]
pub struct Producer {
    spec: ProducerSpec,
    log: LinkId,
    /// The next sequence number of each partition.
    next_seq: Vec<u32>,
    /// Messages ready to be sent, in order, per partition.
    ready: Vec<VecDeque<u32>>,
    pending: BTreeMap<u32, Pending>,
    /// Requests waiting for an answer, per partition.
    in_flight: Vec<u32>,
    /// The sequence numbers not yet answered for good, per partition.
    unsettled: Vec<BTreeSet<u32>>,
    /// Requests arrive at the log in the order sent.
    connection: Connection,
    counts: ProducerCounts,
}

impl Producer {
    /// A producer appending over `log` to a log of `partitions`.
    pub fn new(spec: &ProducerSpec, log: LinkId, partitions: u16) -> Producer {
        Producer {
            spec: spec.clone(),
            log,
            next_seq: vec![0; usize::from(partitions.max(1))],
            ready: vec![VecDeque::new(); usize::from(partitions.max(1))],
            pending: BTreeMap::new(),
            in_flight: vec![0; usize::from(partitions.max(1))],
            unsettled: vec![BTreeSet::new(); usize::from(partitions.max(1))],
            connection: Connection::new(log),
            counts: ProducerCounts::default(),
        }
    }

    fn next_message(&mut self, env: &mut Env<'_>) {
        if env.stopping() {
            return;
        }
        let gap = SimDuration(self.spec.gap.sample(env.rng()));
        env.timer(gap, Msg::Log(LogMsg::NextMessage));
        let key = env.rng().below(u64::from(self.spec.keys)) as u32;
        let partition = (key % self.next_seq.len() as u32) as u16;
        let seq = self.next_seq[usize::from(partition)];
        self.next_seq[usize::from(partition)] += 1;
        let record = log::record(env.id.0, env.peer(self.log).0, key, partition, seq, env);
        let message = env.log_book().sent(record);
        self.counts.sent += 1;
        let retries_left = self.spec.retries;
        self.pending.insert(
            message,
            Pending { partition, seq, attempt: 0, retries_left, in_flight: false },
        );
        self.ready[usize::from(partition)].push_back(message);
        self.unsettled[usize::from(partition)].insert(seq);
        self.pump(partition, env);
    }

    /// Sends `partition`'s ready messages while fewer than `in_flight` wait for an
    /// answer.
    fn pump(&mut self, partition: u16, env: &mut Env<'_>) {
        let p = usize::from(partition);
        while self.in_flight[p] < self.spec.in_flight {
            let Some(message) = self.ready[p].pop_front() else { return };
            self.attempt(message, env);
        }
    }

    fn attempt(&mut self, message: u32, env: &mut Env<'_>) {
        let Some(p) = self.pending.get_mut(&message) else { return };
        p.attempt += 1;
        self.counts.attempts += 1;
        let lowest = self.unsettled[usize::from(p.partition)].first() == Some(&p.seq);
        let sequence = match (self.spec.idempotent, lowest) {
            (false, _) => Sequence::Ignored,
            (true, false) => Sequence::InOrder,
            (true, true) => Sequence::Lowest,
        };
        let msg = LogMsg::Produce {
            origin: env.id,
            message,
            seq: p.seq,
            partition: p.partition,
            attempt: p.attempt,
            acks: self.spec.acks,
            sequence,
        };
        let (attempt, partition) = (p.attempt, usize::from(p.partition));
        p.in_flight = self.spec.acks != Acks::None;
        self.connection.send(Msg::Log(msg), env);
        if self.spec.acks == Acks::None {
            // Fire and forget: written, as far as the producer knows.
            return self.done(message, env);
        }
        self.in_flight[partition] += 1;
        env.timer(self.spec.timeout, Msg::Log(LogMsg::AttemptTimeout { message, attempt }));
    }

    /// The message is answered for good.
    fn settle(&mut self, message: u32) {
        if let Some(p) = self.pending.remove(&message) {
            self.unsettled[usize::from(p.partition)].remove(&p.seq);
        }
    }

    fn done(&mut self, message: u32, env: &mut Env<'_>) {
        self.settle(message);
        self.counts.acked += 1;
        let stamp = env.stamp();
        env.log_book().acked(message, stamp);
    }

    /// Takes attempt `attempt` of `message` out of flight; its partition if it was in it.
    fn land(&mut self, message: u32, attempt: u16) -> Option<u16> {
        match self.pending.get_mut(&message) {
            Some(p) if p.in_flight && p.attempt == attempt => {
                p.in_flight = false;
                self.in_flight[usize::from(p.partition)] -= 1;
                Some(p.partition)
            }
            _ => None,
        }
    }

    fn answered(&mut self, message: u32, attempt: u16, outcome: Produced, env: &mut Env<'_>) {
        let Some(partition) = self.land(message, attempt) else {
            return; // An answer to an attempt already given up on.
        };
        match outcome {
            Produced::Ok => self.done(message, env),
            // Sent ahead of a message the log lacks: resent in order, no retry spent.
            Produced::OutOfOrder => {
                env.timer(self.spec.backoff, Msg::Log(LogMsg::Retry { message }));
            }
            _ => self.failed_attempt(message, env),
        }
        self.pump(partition, env);
    }

    fn timed_out(&mut self, message: u32, attempt: u16, env: &mut Env<'_>) {
        if let Some(partition) = self.land(message, attempt) {
            self.failed_attempt(message, env);
            self.pump(partition, env);
        }
    }

    fn failed_attempt(&mut self, message: u32, env: &mut Env<'_>) {
        let Some(p) = self.pending.get_mut(&message) else { return };
        if p.retries_left == 0 {
            self.settle(message);
            self.counts.failed += 1;
            return;
        }
        p.retries_left -= 1;
        self.counts.retried += 1;
        env.timer(self.spec.backoff, Msg::Log(LogMsg::Retry { message }));
    }

    fn retry(&mut self, message: u32, env: &mut Env<'_>) {
        let Some(&Pending { partition, seq, .. }) = self.pending.get(&message) else { return };
        // A retry goes ahead of what has not been sent yet, as a client library's
        // partition queue does; an idempotent producer's in sequence order.
        let ready = &mut self.ready[usize::from(partition)];
        let pending = &self.pending;
        let at = match self.spec.idempotent {
            true => ready.iter().position(|m| pending.get(m).is_some_and(|q| q.seq > seq)),
            false => Some(0),
        };
        ready.insert(at.unwrap_or(ready.len()), message);
        self.pump(partition, env);
    }
}

impl Component for Producer {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // Its messages carry no store version (`ROOT`).
    }

    fn start(&mut self, env: &mut Env<'_>) {
        let gap = SimDuration(self.spec.gap.sample(env.rng()));
        env.timer(gap, Msg::Log(LogMsg::NextMessage));
    }

    /// Messages sent, attempts, acknowledged, retried and failed for good.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        vec![
            ("sent", c.sent),
            ("attempts", c.attempts),
            ("acked", c.acked),
            ("retried", c.retried),
            ("failed", c.failed),
        ]
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Log(LogMsg::NextMessage) => self.next_message(env),
            Msg::Log(LogMsg::ProduceAnswer { message, attempt, outcome }) => {
                self.answered(message, attempt, outcome, env);
            }
            Msg::Log(LogMsg::AttemptTimeout { message, attempt }) => {
                self.timed_out(message, attempt, env);
            }
            Msg::Log(LogMsg::Retry { message }) => self.retry(message, env),
            Msg::Fault(_) => {}
            other => panic!("producer got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, bench, deliver, ms, run};
    use crate::engine::Sim;

    /// A producer of one partition whose messages come an hour apart (tests send
    /// `NextMessage` themselves), answered by probe 1.
    fn producer(in_flight: u32, retries: u32, idempotent: bool) -> Sim<BenchWorld> {
        let spec = ProducerSpec {
            gap: Dist::constant(3_600_000_000_000),
            keys: 1,
            acks: Acks::All,
            retries,
            backoff: SimDuration::from_millis(10),
            timeout: SimDuration::from_millis(100),
            in_flight,
            idempotent,
        };
        bench(1, 1, |l| BuiltIn::Producer(Box::new(Producer::new(&spec, l.callees[0], 1)))).0
    }

    /// The produce requests the log received: (message, attempt, sequencing).
    fn produced(sim: &Sim<BenchWorld>) -> Vec<(u32, u16, Sequence)> {
        let requests = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::Log(LogMsg::Produce { message, attempt, sequence, .. }) => {
                Some((message, attempt, sequence))
            }
            _ => None,
        });
        requests.collect()
    }

    fn answer(sim: &mut Sim<BenchWorld>, at: u64, message: u32, attempt: u16, outcome: Produced) {
        let msg = LogMsg::ProduceAnswer { message, attempt, outcome };
        deliver(sim, ms(at), Msg::Log(msg));
    }

    #[test]
    fn at_most_in_flight_requests_wait_per_partition() {
        let mut sim = producer(2, 3, false);
        (1..=3).for_each(|t| deliver(&mut sim, ms(t), Msg::Log(LogMsg::NextMessage)));
        run(&mut sim, ms(5));
        assert_eq!(produced(&sim).len(), 2, "the third waits");
        answer(&mut sim, 6, 0, 1, Produced::Ok);
        run(&mut sim, ms(7));
        assert_eq!(produced(&sim).last().unwrap().0, 2, "sent once a slot is free");
    }

    #[test]
    fn out_of_order_is_resent_without_spending_a_retry_and_other_refusals_spend_one() {
        let mut sim = producer(5, 0, true);
        (1..=2).for_each(|t| deliver(&mut sim, ms(t), Msg::Log(LogMsg::NextMessage)));
        run(&mut sim, ms(3));
        let sent = produced(&sim);
        assert_eq!((sent[0].2, sent[1].2), (Sequence::Lowest, Sequence::InOrder));
        answer(&mut sim, 4, 1, 1, Produced::OutOfOrder);
        run(&mut sim, ms(20));
        assert_eq!(produced(&sim).last().unwrap().0, 1, "message 1 resent");
        answer(&mut sim, 21, 0, 1, Produced::NotEnoughReplicas);
        answer(&mut sim, 25, 1, 2, Produced::OutOfOrder);
        run(&mut sim, ms(40));
        let BuiltIn::Producer(p) = &sim.actor.component else { unreachable!() };
        assert_eq!(p.counts.failed, 1, "no retries left for message 0");
        let again = produced(&sim).into_iter().rfind(|&(m, ..)| m == 1).unwrap();
        assert_eq!(again.2, Sequence::Lowest, "message 1 now vouches for the gap");
    }
}
