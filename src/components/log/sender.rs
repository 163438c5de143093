//! Publishing an outbox to a log, as a relay or a change-capture connector does (Kafka
//! Connect): each outbox entry becomes a message with acks=all from an idempotent
//! producer (so resends are written once, in order), and the relay may mark an entry
//! sent only once the log has acknowledged it and every entry before it. A message
//! unanswered for a second, or refused, is sent again. After a crash the relay sends
//! again from its mark, as new messages: the consumers see those changes twice.

use std::collections::BTreeMap;

use super::connection::Connection;
use super::message::{Acks, LogMsg, Produced, Sequence};
use crate::check::{MessageRecord, VersionId};
use crate::components::env::Env;
use crate::components::message::Msg;
use crate::engine::{LinkId, SimDuration, SimTime};

/// How long an unanswered message waits before it is sent again.
const RESEND_AFTER: SimDuration = SimDuration::from_secs(1);

/// A message sent and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
struct Unacked {
    message: u32,
    seq: u32,
    partition: u16,
    attempt: u16,
    /// When the latest attempt went (`ZERO`: refused, send again at once).
    sent_at: SimTime,
}

/// A relay's messages to a log, by outbox entry.
#[derive(Debug, Clone)]
pub struct LogSender {
    connection: Connection,
    next_seq: Vec<u32>,
    unacked: BTreeMap<usize, Unacked>,
    /// Message → outbox entry, for answers.
    entries: BTreeMap<u32, usize>,
}

impl LogSender {
    /// Sends over `link` to a log of `partitions`.
    pub fn new(link: LinkId, partitions: u16) -> LogSender {
        let next_seq = vec![0; usize::from(partitions.max(1))];
        let connection = Connection::new(link);
        LogSender { connection, next_seq, unacked: BTreeMap::new(), entries: BTreeMap::new() }
    }

    /// Sends outbox entry `index`, `version` of `key`, as a new message.
    pub fn send(&mut self, index: usize, key: u32, version: VersionId, env: &mut Env<'_>) {
        let partition = (key % self.next_seq.len() as u32) as u16;
        let seq = self.next_seq[usize::from(partition)];
        self.next_seq[usize::from(partition)] += 1;
        let (producer, log) = (env.id.0, env.peer(self.connection.link()).0);
        let record =
            MessageRecord { version, ..super::record(producer, log, key, partition, seq, env) };
        let message = env.log_book().sent(record);
        let u = Unacked { message, seq, partition, attempt: 0, sent_at: SimTime::ZERO };
        self.unacked.insert(index, u);
        self.entries.insert(message, index);
        self.attempt(index, env);
    }

    fn attempt(&mut self, index: usize, env: &mut Env<'_>) {
        let Some(&Unacked { partition, seq, .. }) = self.unacked.get(&index) else { return };
        let lower = self.unacked.values().any(|o| o.partition == partition && o.seq < seq);
        let sequence = if lower { Sequence::InOrder } else { Sequence::Lowest };
        let Some(u) = self.unacked.get_mut(&index) else { return };
        u.attempt += 1;
        u.sent_at = env.now();
        let msg = LogMsg::Produce {
            origin: env.id,
            message: u.message,
            seq: u.seq,
            partition: u.partition,
            attempt: u.attempt,
            acks: Acks::All,
            sequence,
        };
        self.connection.send(Msg::Log(msg), env);
    }

    /// The log answered attempt `attempt` of `message`.
    pub fn answered(&mut self, message: u32, attempt: u16, outcome: Produced, env: &mut Env<'_>) {
        let Some(&index) = self.entries.get(&message) else { return };
        let Some(u) = self.unacked.get_mut(&index).filter(|u| u.attempt == attempt) else { return };
        if outcome == Produced::Ok {
            self.unacked.remove(&index);
            self.entries.remove(&message);
            let stamp = env.stamp();
            env.log_book().acked(message, stamp);
        } else {
            u.sent_at = SimTime::ZERO;
        }
    }

    /// Sends again what was refused or has waited too long for an answer.
    pub fn resend_due(&mut self, env: &mut Env<'_>) {
        let now = env.now();
        let due: Vec<usize> = self
            .unacked
            .iter()
            .filter(|(_, u)| u.sent_at == SimTime::ZERO || now.since(u.sent_at) >= RESEND_AFTER)
            .map(|(&i, _)| i)
            .collect();
        due.into_iter().for_each(|i| self.attempt(i, env));
    }

    /// How far the relay may mark sent: below the first unacknowledged entry.
    pub fn markable(&self, sent: usize) -> usize {
        self.unacked.keys().next().map_or(sent, |&i| i.min(sent))
    }

    /// Whether something waits for an answer.
    pub fn waiting(&self) -> bool {
        !self.unacked.is_empty()
    }

    /// The relay crashed: what it sent is forgotten (it sends again from its mark).
    pub fn forget(&mut self) {
        self.unacked.clear();
        self.entries.clear();
    }
}
