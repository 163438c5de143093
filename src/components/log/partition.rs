//! One partition of a replicated log: a replica on each of its brokers, the leader's
//! log, the in-sync replica set (ISR), the high watermark, the producers' sequence
//! numbers the leader has seen, and elections. Pure state: the log kind's actor sends
//! and schedules what these methods decide.
//!
//! A follower's log is always a prefix of some leader's log: it only copies, and an
//! election cuts every live follower back to what it shares with the new leader (a
//! broker that was down is cut back when it restarts).

use std::collections::{BTreeMap, VecDeque};

use super::message::Sequence;

use crate::engine::{ComponentId, SimDuration, SimTime};

/// One message in a replica's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The message (its id in the history's log book).
    pub message: u32,
    /// Its producer (component id).
    pub producer: u32,
    /// The producer's sequence number for it in this partition.
    pub seq: u32,
}

/// One broker's copy of the partition.
#[derive(Debug, Clone)]
pub struct Replica {
    /// The broker holding it.
    pub broker: u16,
    /// Its log.
    pub log: Vec<Entry>,
    /// Whether it is in the in-sync replica set.
    pub in_sync: bool,
    /// When it last held everything the leader held.
    pub caught_up_at: SimTime,
    /// When its latest fetch arrives: fetches arrive in order.
    pub next_arrival: SimTime,
}

/// A producer waiting for its acks=all write to reach every in-sync replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The producer.
    pub origin: ComponentId,
    /// The message.
    pub message: u32,
    /// The attempt it answers.
    pub attempt: u16,
}

/// What the leader did with a produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Append {
    /// Written at this offset.
    Written(u32),
    /// An idempotent producer's retry of a message the log holds (at this offset).
    Duplicate(u32),
    /// An idempotent producer's message ahead of one the log lacks: retry later.
    OutOfOrder,
    /// acks=all with fewer in-sync replicas than the minimum.
    NotEnoughReplicas,
}

/// A new leader, and what the election cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elected {
    /// The replica (index) now leading.
    pub replica: usize,
    /// Whether it was out of sync.
    pub unclean: bool,
    /// How much of the previous leader's log it shares (the log is cut back to this).
    pub common: u32,
}

/// A partition.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Its replicas; the first is the preferred leader.
    pub replicas: Vec<Replica>,
    /// The leading replica (index), `None` while no replica may lead (offline).
    pub leader: Option<usize>,
    /// The leader epoch: replication sent under an earlier one is void.
    pub epoch: u32,
    /// The replica that led before the current election, whose log the book shows.
    shown: usize,
    /// acks=all writes waiting for the high watermark, by offset.
    waiting: VecDeque<(u32, Ack)>,
    /// The last sequence number of each producer in the leader's log.
    last_seq: BTreeMap<u32, u32>,
}

impl Partition {
    /// A partition on `brokers`, led by the first.
    pub fn new(brokers: &[u16]) -> Partition {
        let replica = |&broker| Replica {
            broker,
            log: Vec::new(),
            in_sync: true,
            caught_up_at: SimTime::ZERO,
            next_arrival: SimTime::ZERO,
        };
        Partition {
            replicas: brokers.iter().map(replica).collect(),
            leader: Some(0),
            epoch: 0,
            shown: 0,
            waiting: VecDeque::new(),
            last_seq: BTreeMap::new(),
        }
    }

    /// The leader's broker.
    pub fn leader_broker(&self) -> Option<u16> {
        self.leader.map(|r| self.replicas[r].broker)
    }

    /// The leader's log end.
    pub fn end(&self) -> u32 {
        self.leader.map_or(0, |r| self.replicas[r].log.len() as u32)
    }

    /// The leader's log.
    pub fn leader_log(&self) -> &[Entry] {
        self.leader.map_or(&[], |r| &self.replicas[r].log)
    }

    /// In-sync replicas.
    pub fn isr(&self) -> usize {
        self.replicas.iter().filter(|r| r.in_sync).count()
    }

    /// The high watermark: what every in-sync replica holds (consumers read below it).
    pub fn high_watermark(&self) -> u32 {
        let isr = self.replicas.iter().filter(|r| r.in_sync);
        isr.map(|r| r.log.len() as u32).min().unwrap_or(0).min(self.end())
    }

    /// The leader takes `entry`. `min_isr` is set for acks=all. An idempotent
    /// producer's message is written only in sequence: after the producer's last one in
    /// the log, or after a gap the producer vouches for (`Sequence::Lowest`).
    pub fn append(
        &mut self,
        entry: Entry,
        sequence: Sequence,
        min_isr: Option<u16>,
        now: SimTime,
    ) -> Append {
        let leader = self.leader.expect("only a leader appends");
        if min_isr.is_some_and(|m| self.isr() < usize::from(m)) {
            return Append::NotEnoughReplicas;
        }
        if sequence != Sequence::Ignored {
            let gap_ok = sequence == Sequence::Lowest;
            match self.last_seq.get(&entry.producer) {
                Some(&last) if entry.seq <= last => {
                    let held = self.offset_of(entry.message);
                    return held.map_or(Append::OutOfOrder, Append::Duplicate);
                }
                Some(&last) if entry.seq > last + 1 && !gap_ok => return Append::OutOfOrder,
                None if entry.seq > 0 && !gap_ok => return Append::OutOfOrder,
                _ => {}
            }
        }
        let end = self.replicas[leader].log.len();
        for r in self.replicas.iter_mut().filter(|r| r.log.len() == end) {
            r.caught_up_at = now; // caught up until this moment
        }
        self.replicas[leader].log.push(entry);
        self.last_seq.insert(entry.producer, entry.seq);
        Append::Written(end as u32)
    }

    fn offset_of(&self, message: u32) -> Option<u32> {
        let log = self.leader_log();
        log.iter().rposition(|e| e.message == message).map(|o| o as u32)
    }

    /// acks=all writes waiting.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// An acks=all write at `offset` waits for the high watermark.
    pub fn wait(&mut self, offset: u32, ack: Ack) {
        self.waiting.push_back((offset, ack));
    }

    /// The acks=all writes the high watermark has now passed.
    pub fn acked(&mut self) -> Vec<(u32, Ack)> {
        let hw = self.high_watermark();
        let mut done = Vec::new();
        while self.waiting.front().is_some_and(|&(o, _)| o < hw) {
            done.extend(self.waiting.pop_front());
        }
        done
    }

    /// Replica `replica`'s fetch up to `upto` arrived: it copies what the leader holds.
    pub fn fetched(&mut self, replica: usize, upto: u32, now: SimTime) {
        let Some(leader) = self.leader else { return };
        let have = self.replicas[replica].log.len();
        let upto = (upto as usize).min(self.replicas[leader].log.len());
        if upto > have {
            let copy: Vec<Entry> = self.replicas[leader].log[have..upto].to_vec();
            self.replicas[replica].log.extend(copy);
        }
        if self.replicas[replica].log.len() == self.replicas[leader].log.len() {
            let r = &mut self.replicas[replica];
            r.caught_up_at = now;
            r.in_sync = true;
        }
    }

    /// Followers that have not caught up within `max_lag` leave the ISR.
    pub fn shrink(&mut self, now: SimTime, max_lag: SimDuration) {
        let end = self.end() as usize;
        let leader = self.leader;
        for (i, r) in self.replicas.iter_mut().enumerate() {
            let behind = r.log.len() < end && now.since(r.caught_up_at) > max_lag;
            if Some(i) != leader && r.in_sync && behind {
                r.in_sync = false;
            }
        }
    }

    /// The controller noticed `broker` is down: it leaves the ISR, unless it is the last
    /// member (the ISR never empties: its last member is who may lead again).
    pub fn broker_down(&mut self, broker: u16) {
        let last = self.isr() == 1;
        for r in self.replicas.iter_mut().filter(|r| r.broker == broker) {
            if !last {
                r.in_sync = false;
            }
        }
    }

    /// Elects a leader among the replicas on live brokers: the first in-sync one, or
    /// with `unclean`, the first live one. The new leader's log is what the partition
    /// holds; every live replica is cut back to what it shares with it. `None`: no
    /// replica may lead, and the partition is offline.
    pub fn elect(&mut self, up: &dyn Fn(u16) -> bool, unclean: bool) -> Option<Elected> {
        let live = |r: &Replica| up(r.broker);
        let clean = self.replicas.iter().position(|r| live(r) && r.in_sync);
        let chosen =
            clean.or_else(|| unclean.then(|| self.replicas.iter().position(live)).flatten());
        let Some(new) = chosen else {
            self.leader = None;
            self.waiting.clear();
            return None;
        };
        let was_unclean = clean.is_none();
        let common = common_prefix(&self.replicas[self.shown].log, &self.replicas[new].log);
        self.leader = Some(new);
        self.shown = new;
        self.epoch += 1;
        self.waiting.clear();
        for i in 0..self.replicas.len() {
            if i != new && live(&self.replicas[i]) {
                self.cut_back(i);
            }
            if was_unclean {
                self.replicas[i].in_sync = i == new;
            }
        }
        self.last_seq.clear();
        for e in &self.replicas[new].log {
            self.last_seq.insert(e.producer, e.seq);
        }
        Some(Elected { replica: new, unclean: was_unclean, common: common as u32 })
    }

    /// Cuts replica `i` back to what it shares with the leader.
    pub fn cut_back(&mut self, i: usize) {
        let Some(leader) = self.leader else { return };
        let keep = common_prefix(&self.replicas[leader].log, &self.replicas[i].log);
        self.replicas[i].log.truncate(keep);
    }
}

/// How many entries two logs share from the start.
fn common_prefix(a: &[Entry], b: &[Entry]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(message: u32, seq: u32) -> Entry {
        Entry { message, producer: 7, seq }
    }

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO.after(SimDuration::from_millis(ms))
    }

    #[test]
    fn the_high_watermark_waits_for_every_in_sync_replica() {
        let mut p = Partition::new(&[0, 1, 2]);
        assert_eq!(p.append(entry(0, 0), Sequence::Ignored, Some(2), t(0)), Append::Written(0));
        assert_eq!(p.high_watermark(), 0);
        p.fetched(1, 1, t(5));
        assert_eq!(p.high_watermark(), 0, "replica 2 is in sync and lacks it");
        p.shrink(t(20), SimDuration::from_millis(10));
        assert_eq!((p.isr(), p.high_watermark()), (2, 1), "replica 2 dropped out");
        p.fetched(2, 1, t(30));
        assert_eq!(p.isr(), 3, "caught up: back in sync");
    }

    #[test]
    fn acks_all_is_refused_below_the_minimum_in_sync_replicas() {
        let mut p = Partition::new(&[0, 1]);
        p.append(entry(0, 0), Sequence::Ignored, None, t(0));
        p.shrink(t(100), SimDuration::from_millis(10));
        assert_eq!(
            p.append(entry(1, 1), Sequence::Ignored, Some(2), t(100)),
            Append::NotEnoughReplicas
        );
        assert_eq!(p.append(entry(1, 1), Sequence::Ignored, Some(1), t(100)), Append::Written(1));
    }

    #[test]
    fn a_clean_election_keeps_what_the_in_sync_follower_holds() {
        let mut p = Partition::new(&[0, 1, 2]);
        (0..3).for_each(|i| _ = p.append(entry(i, i), Sequence::Ignored, None, t(0)));
        p.fetched(1, 2, t(1));
        p.fetched(2, 1, t(1));
        let up = |b: u16| b != 0;
        let e = p.elect(&up, false).unwrap();
        assert_eq!(e, Elected { replica: 1, unclean: false, common: 2 });
        assert_eq!(p.replicas[2].log.len(), 1, "a shorter follower keeps its prefix");
        assert_eq!(p.epoch, 1);
    }

    #[test]
    fn with_no_live_in_sync_replica_the_partition_waits_or_elects_uncleanly() {
        let mut p = Partition::new(&[0, 1]);
        (0..3).for_each(|i| _ = p.append(entry(i, i), Sequence::Ignored, None, t(0)));
        p.shrink(t(100), SimDuration::from_millis(10));
        p.broker_down(0);
        assert_eq!(p.isr(), 1, "the last member stays");
        let up = |b: u16| b != 0;
        assert_eq!(p.clone().elect(&up, false), None);
        let e = p.elect(&up, true).unwrap();
        assert_eq!((e.replica, e.unclean, e.common), (1, true, 0));
        assert!(!p.replicas[0].in_sync, "the old leader must catch up again");
    }

    #[test]
    fn an_idempotent_producer_writes_in_sequence_and_once() {
        let mut p = Partition::new(&[0]);
        assert_eq!(p.append(entry(5, 1), Sequence::InOrder, None, t(0)), Append::OutOfOrder);
        assert_eq!(p.append(entry(4, 0), Sequence::InOrder, None, t(0)), Append::Written(0));
        assert_eq!(p.append(entry(4, 0), Sequence::InOrder, None, t(0)), Append::Duplicate(0));
        assert_eq!(p.append(entry(6, 2), Sequence::InOrder, None, t(0)), Append::OutOfOrder);
        assert_eq!(p.append(entry(5, 1), Sequence::InOrder, None, t(0)), Append::Written(1));
        assert_eq!(
            p.append(entry(8, 4), Sequence::Lowest, None, t(0)),
            Append::Written(2),
            "a gap vouched for"
        );
        assert_eq!(
            p.append(entry(5, 1), Sequence::Ignored, None, t(0)),
            Append::Written(3),
            "not idempotent"
        );
    }
}
