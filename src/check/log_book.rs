//! The record of a run's replicated logs: every message a producer sent, when it was
//! acknowledged, each partition's log as its leader holds it (what a consumer can read,
//! and what survives), the truncations an election made, and what each consumer group
//! processed. Logs report here through the component environment; the log checkers
//! (`lost_acknowledged_message`, `partition_order`, `processing`) judge it at the end.
//!
//! A message is its own identity: it is never "kept" because a later one exists, unlike
//! a store's versions, whose ancestry makes a later write carry earlier ones.

use std::collections::{BTreeMap, BTreeSet};

use super::versions::VersionId;
use crate::engine::SimTime;

/// A moment of the run: when, and the event that did it (for story lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    /// When.
    pub at: SimTime,
    /// The event.
    pub event: u64,
}

/// What the book knows of one message.
#[derive(Debug, Clone, Copy)]
pub struct MessageRecord {
    /// The producer (component id).
    pub producer: u32,
    /// The log it was sent to (component id).
    pub log: u32,
    /// Its key.
    pub key: u32,
    /// Its partition.
    pub partition: u16,
    /// The producer's number for it within the partition: the order it was sent in.
    pub seq: u32,
    /// The producer's first attempt.
    pub sent: Stamp,
    /// When the producer learnt it was written (acks=0: when it was sent).
    pub acked: Option<Stamp>,
    /// Its first append to its partition's log, by which broker, at which offset.
    pub appended: Option<(Stamp, u16, u32)>,
    /// The store version it carries when a relay published a change (`ROOT`: none).
    pub version: VersionId,
}

/// An election that cut a partition's log back.
#[derive(Debug, Clone)]
pub struct Truncation {
    /// The log (component id).
    pub log: u32,
    /// The partition.
    pub partition: u16,
    /// The new leader (broker).
    pub leader: u16,
    /// Whether the new leader was out of sync (an unclean election).
    pub unclean: bool,
    /// The offset the log was cut back to.
    pub keep: u32,
    /// The messages it removed.
    pub removed: Vec<u32>,
    /// When.
    pub when: Stamp,
}

/// A consumer group processing a message.
#[derive(Debug, Clone, Copy)]
pub struct Processing {
    /// The group member.
    pub member: u16,
    /// The partition it read it from.
    pub partition: u16,
    /// The offset it read it at (from a queue: how many times it had been received).
    pub offset: u32,
    /// When it finished processing.
    pub when: Stamp,
}

/// Times one group processed one message, and the first two.
#[derive(Debug, Clone, Copy)]
pub struct ProcessedTimes {
    /// How many times.
    pub times: u32,
    /// The first two.
    pub first: [Processing; 2],
}

/// The record of every log in the run.
#[derive(Debug, Default)]
pub struct LogBook {
    messages: Vec<MessageRecord>,
    /// Each partition's log as its leader holds it: (log, partition) → message ids.
    logs: BTreeMap<(u32, u16), Vec<u32>>,
    truncations: Vec<Truncation>,
    /// Each consumer group (component id) and the log it reads.
    groups: BTreeMap<u32, u32>,
    /// (group, message) → how often processed.
    processed: BTreeMap<(u32, u32), ProcessedTimes>,
    /// (group, message) → when the group skipped it as one it had processed (an
    /// idempotent group's redelivery, or a change relayed twice).
    skipped: BTreeMap<(u32, u32), Stamp>,
    /// (group, partition) → the highest offset the group processed or skipped.
    reached: BTreeMap<(u32, u16), u32>,
    /// The logs that are queues (component ids): their workers take messages in any
    /// order, so a message not processed is lost only if it was dead-lettered.
    queues: BTreeSet<u32>,
    /// Messages a queue moved to its dead-letter queue.
    dead: BTreeSet<u32>,
    /// Each consumer group's lag (messages below the high watermark it has not
    /// processed), sampled every second of the run.
    lag: BTreeMap<u32, Vec<(SimTime, u64)>>,
    /// Each partition's high watermark now, as its log announces it: (log, partition) →
    /// offset. A group's lag is measured against it, not against the watermark its
    /// last fetch of the partition saw (stale while no member fetches it).
    high_watermarks: BTreeMap<(u32, u16), u32>,
}

impl LogBook {
    /// A producer sends a new message; returns its id.
    pub fn sent(&mut self, mut record: MessageRecord) -> u32 {
        record.acked = None;
        record.appended = None;
        self.messages.push(record);
        (self.messages.len() - 1) as u32
    }

    /// The producer learnt `message` was written (the first time counts).
    pub fn acked(&mut self, message: u32, when: Stamp) {
        let m = &mut self.messages[message as usize];
        m.acked.get_or_insert(when);
    }

    /// Partition `partition` of `log` gained `message` at its end, on leader `broker`.
    pub fn appended(&mut self, log: u32, partition: u16, message: u32, broker: u16, when: Stamp) {
        let entries = self.logs.entry((log, partition)).or_default();
        let offset = entries.len() as u32;
        entries.push(message);
        let m = &mut self.messages[message as usize];
        m.appended.get_or_insert((when, broker, offset));
    }

    /// An election made `leader` the partition's leader, cutting its log back to `keep`
    /// entries (entries the new leader holds beyond that follow as appends).
    pub fn truncated(
        &mut self,
        log: u32,
        partition: u16,
        keep: u32,
        leader: u16,
        unclean: bool,
        when: Stamp,
    ) {
        let entries = self.logs.entry((log, partition)).or_default();
        let removed = entries.split_off((keep as usize).min(entries.len()));
        if removed.is_empty() && !unclean {
            return;
        }
        self.truncations.push(Truncation { log, partition, leader, unclean, keep, removed, when });
    }

    /// Consumer group `group` reads `log`.
    pub fn subscribed(&mut self, group: u32, log: u32) {
        self.groups.insert(group, log);
    }

    /// Group `group` finished processing `message`.
    pub fn processed(&mut self, group: u32, message: u32, p: Processing) {
        self.reach(group, &p);
        let e = self.processed.entry((group, message));
        let t = e.or_insert(ProcessedTimes { times: 0, first: [p; 2] });
        if t.times < 2 {
            t.first[t.times as usize] = p;
        }
        t.times += 1;
    }

    /// Group `group` skipped `message` as one it had processed.
    pub fn skipped(&mut self, group: u32, message: u32, p: Processing) {
        self.reach(group, &p);
        self.skipped.entry((group, message)).or_insert(p.when);
    }

    fn reach(&mut self, group: u32, p: &Processing) {
        let top = self.reached.entry((group, p.partition)).or_insert(p.offset);
        *top = (*top).max(p.offset);
    }

    /// When group `group` first skipped `message`, if it did.
    pub fn skipped_at(&self, group: u32, message: u32) -> Option<Stamp> {
        self.skipped.get(&(group, message)).copied()
    }

    /// Partition `partition` of `log`, as its leader holds it now.
    pub fn log(&self, log: u32, partition: u16) -> &[u32] {
        self.logs.get(&(log, partition)).map_or(&[], Vec::as_slice)
    }

    /// Every partition's log: ((log, partition), message ids).
    pub fn logs(&self) -> impl Iterator<Item = (&(u32, u16), &Vec<u32>)> {
        self.logs.iter()
    }

    /// A message's record.
    pub fn message(&self, id: u32) -> &MessageRecord {
        &self.messages[id as usize]
    }

    /// Every message, by id.
    pub fn messages(&self) -> &[MessageRecord] {
        &self.messages
    }

    /// The truncations, in the order they happened.
    pub fn truncations(&self) -> &[Truncation] {
        &self.truncations
    }

    /// The consumer groups and the log each reads.
    pub fn groups(&self) -> &BTreeMap<u32, u32> {
        &self.groups
    }

    /// What each group processed: (group, message) → times.
    pub fn processed_times(&self) -> &BTreeMap<(u32, u32), ProcessedTimes> {
        &self.processed
    }

    /// The highest offset group `group` processed in `partition`.
    pub fn reached(&self, group: u32, partition: u16) -> Option<u32> {
        self.reached.get(&(group, partition)).copied()
    }

    /// Component `queue` is a queue, not a log.
    pub fn mark_queue(&mut self, queue: u32) {
        self.queues.insert(queue);
    }

    /// Whether component `log` is a queue.
    pub fn is_queue(&self, log: u32) -> bool {
        self.queues.contains(&log)
    }

    /// A queue moved `message` to its dead-letter queue.
    pub fn dead_lettered(&mut self, message: u32) {
        self.dead.insert(message);
    }

    /// Whether `message` went to a dead-letter queue.
    pub fn is_dead(&self, message: u32) -> bool {
        self.dead.contains(&message)
    }

    /// Group `group` lagged `lag` messages at `at`.
    pub fn lag_sample(&mut self, group: u32, at: SimTime, lag: u64) {
        self.lag.entry(group).or_default().push((at, lag));
    }

    /// Log `log`'s partition `partition` now has high watermark `offset`.
    pub fn set_high_watermark(&mut self, log: u32, partition: u16, offset: u32) {
        self.high_watermarks.insert((log, partition), offset);
    }

    /// The high watermark log `log` last announced for `partition` (0 before any).
    pub fn high_watermark(&self, log: u32, partition: u16) -> u32 {
        self.high_watermarks.get(&(log, partition)).copied().unwrap_or(0)
    }

    /// Each group's lag over time.
    pub fn lag_series(&self) -> &BTreeMap<u32, Vec<(SimTime, u64)>> {
        &self.lag
    }

    /// Whether the run had a log at all.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: u16, seq: u32) -> MessageRecord {
        let sent = Stamp { at: SimTime::ZERO, event: 1 };
        MessageRecord {
            producer: 1,
            log: 2,
            key: 0,
            partition,
            seq,
            sent,
            acked: None,
            appended: None,
            version: crate::check::VersionId::ROOT,
        }
    }

    #[test]
    fn a_truncation_removes_the_tail_and_keeps_the_first_append() {
        let mut book = LogBook::default();
        let ids: Vec<u32> = (0..3).map(|s| book.sent(record(0, s))).collect();
        let when = Stamp::default();
        ids.iter().for_each(|&m| book.appended(2, 0, m, 0, when));
        book.truncated(2, 0, 1, 1, false, when);
        assert_eq!(book.log(2, 0), &[ids[0]]);
        assert_eq!(book.truncations()[0].removed, vec![ids[1], ids[2]]);
        book.appended(2, 0, ids[2], 1, when);
        assert_eq!(book.log(2, 0), &[ids[0], ids[2]]);
        assert_eq!(book.message(ids[2]).appended.unwrap().2, 2, "first append kept");
    }
}
