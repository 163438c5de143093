//! **Bounded staleness** (Δ-atomicity, Golab et al. 2011; probabilistically bounded
//! staleness, Bailis et al. 2012): per read, how far behind it was — the time between
//! the read's invocation and the acknowledgement of the oldest write it missed (0 when
//! it missed nothing). Missed writes are counted back from the newest acknowledged one
//! until a write the read includes. Reports the distribution over stale reads; with a
//! bound, every read behind by more than the bound is a violation.

use super::checks::{Check, End, SessionState, Writing};
use super::histogram::Histogram;
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::{CheckReport, duration};
use super::versions::{Settled, VersionDag, VersionId};
use crate::engine::{SimDuration, SimTime};

/// The bounded-staleness checker.
#[derive(Debug)]
pub struct BoundedStaleness {
    bound: Option<SimDuration>,
    acks: AckLog,
    staleness: Histogram,
    reads: u64,
    violations: u64,
    /// The read furthest behind, the oldest write it missed, and by how much.
    worst: Option<(OpRecord, VersionId, u64)>,
}

impl BoundedStaleness {
    /// A checker with an optional bound.
    pub fn new(bound: Option<SimDuration>) -> Self {
        BoundedStaleness {
            bound,
            acks: AckLog::default(),
            staleness: Histogram::default(),
            reads: 0,
            violations: 0,
            worst: None,
        }
    }
}

impl Check for BoundedStaleness {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        if let Some((op, missed, _)) = &self.worst {
            op.versions().into_iter().chain([*missed]).for_each(&mut *held);
        }
        self.acks.versions().for_each(held);
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_settled(&mut self, _settled: &Settled, writing: &Writing, dag: &mut VersionDag) {
        self.acks.prune(dag, writing.since);
    }

    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, dag: &mut VersionDag) {
        if op.outcome != Outcome::Ok {
            return;
        }
        if op.kind() == OpKind::Write {
            self.acks.push(op.key(), op.completed, op.version);
            return;
        }
        self.reads += 1;
        if !op.stale {
            return;
        }
        let Some((missed, acked)) = self.acks.oldest_missed(op, dag) else { return };
        let behind = op.inv.invoked.since(acked).as_nanos();
        self.staleness.record(behind);
        if self.bound.is_some_and(|b| behind > b.as_nanos()) {
            self.violations += 1;
        }
        if self.worst.is_none_or(|(_, _, w)| behind > w) {
            self.worst = Some((*op, missed, behind));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new("bounded_staleness", self.violations, self.reads, "reads")
            .bounded_by(self.bound);
        let h = &self.staleness;
        r.figures.insert("stale_reads", h.count());
        r.figures.insert("p50_ns", h.quantile(0.50));
        r.figures.insert("p99_ns", h.quantile(0.99));
        r.figures.insert("max_ns", h.max());
        r.distribution = Some(h.clone());
        if let Some(b) = self.bound {
            r.figures.insert("bound_ns", b.as_nanos());
        }
        if let (Some((op, missed, behind)), true) = (&self.worst, self.violations > 0) {
            let note = format!(
                ", which lacks {missed}, acknowledged {} before the read was sent",
                duration(*behind)
            );
            r.story = vec![
                story::acknowledged(end.dag, *missed, end.names),
                story::read(op, end.names, &note),
            ];
        }
        r
    }
}

/// Acknowledged writes per key, newest first. The newest few sit inline in the key's
/// row (one cache line), since a stale read usually missed only one or two; older ones
/// spill to one flat table with a newest-first chain per key (no allocation per key).
#[derive(Debug, Default)]
struct AckLog {
    keys: Vec<RecentAcks>,
    spilled: Vec<Spilled>,
    /// The table `prune` rebuilds into, then swaps with `spilled`: both buffers stay
    /// allocated, so the pushes after a prune reuse memory already faulted in.
    spare: Vec<Spilled>,
}

/// Acknowledgements kept inline per key.
const RECENT: usize = 3;

#[derive(Debug, Clone, Copy, Default)]
struct RecentAcks {
    /// Newest first.
    recent: [Ack; RECENT],
    len: u8,
    /// 1 + the index of the key's newest spilled entry (0: none).
    spilled: u32,
}

/// When a write was acknowledged, and its version: 12 bytes, aligned to 4 so that
/// a key's row is 44 bytes and a spilled entry 16 (a tuple would pad to 16 and 24;
/// the log holds every acknowledgement not yet pruned).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, packed(4))]
struct Ack {
    at: SimTime,
    version: VersionId,
}

impl Ack {
    /// The pair, read out of the packed fields.
    #[inline]
    fn get(self) -> (SimTime, VersionId) {
        (self.at, self.version)
    }
}

#[derive(Debug, Clone, Copy)]
struct Spilled {
    ack: Ack,
    /// 1 + the index of the key's next older spilled entry (0: none).
    prev: u32,
}

/// Most missed writes a read is traced back through; a read further behind is
/// measured from the oldest of these (a lower bound), so a long-cut replica read by
/// every client cannot make checking quadratic.
const MISSED_SCAN_MAX: usize = 4096;

impl AckLog {
    /// Every acknowledged write it keeps.
    fn versions(&self) -> impl Iterator<Item = VersionId> + '_ {
        let recent = self.keys.iter().flat_map(|k| k.recent[..k.len as usize].iter());
        recent.chain(self.spilled.iter().map(|s| &s.ack)).map(|a| a.get().1)
    }

    fn push(&mut self, key: u32, at: SimTime, version: VersionId) {
        let row = super::checks::slot(&mut self.keys, key);
        if row.len as usize == RECENT {
            self.spilled.push(Spilled { ack: row.recent[RECENT - 1], prev: row.spilled });
            row.spilled = self.spilled.len() as u32;
        } else {
            row.len += 1;
        }
        row.recent.copy_within(0..RECENT - 1, 1);
        row.recent[0] = Ack { at, version };
    }

    /// Forgets, per key, the acknowledgements older than the newest one that every
    /// read still to come includes: settled safe, and acknowledged by `since`, before
    /// any read in flight was sent (the scan of such a read stops there).
    fn prune(&mut self, dag: &VersionDag, since: SimTime) {
        let mut spilled = std::mem::take(&mut self.spare);
        spilled.clear();
        let mut acks: Vec<Ack> = Vec::new();
        for key in 0..self.keys.len() as u32 {
            acks.clear();
            // Newest first, up to and including the bar; what lies past it is dropped
            // unread.
            for (at, v) in self.newest_first(key) {
                acks.push(Ack { at, version: v });
                if at <= since && dag.is_settled_safe(v) {
                    break;
                }
            }
            let row = &mut self.keys[key as usize];
            row.len = acks.len().min(RECENT) as u8;
            row.recent[..row.len as usize].copy_from_slice(&acks[..row.len as usize]);
            row.spilled = 0;
            for &ack in acks.iter().skip(RECENT).rev() {
                spilled.push(Spilled { ack, prev: row.spilled });
                row.spilled = spilled.len() as u32;
            }
        }
        self.spare = std::mem::replace(&mut self.spilled, spilled);
    }

    /// The newest-first acknowledgements of `key`.
    fn newest_first(&self, key: u32) -> impl Iterator<Item = (SimTime, VersionId)> + '_ {
        let row = self.keys.get(key as usize).copied().unwrap_or_default();
        let mut next = row.spilled;
        let spilled = std::iter::from_fn(move || {
            let s = self.spilled.get((next as usize).checked_sub(1)?)?;
            next = s.prev;
            Some(s.ack)
        });
        row.recent.into_iter().take(row.len as usize).chain(spilled).map(Ack::get)
    }

    /// The oldest write acknowledged before `read` was sent that it misses, counting
    /// back from the newest until a write it includes, and when that was acknowledged.
    fn oldest_missed(&self, read: &OpRecord, dag: &mut VersionDag) -> Option<(VersionId, SimTime)> {
        let mut oldest = None;
        // Acknowledged after the read was sent: not missed.
        let acked_before = self.newest_first(read.key()).filter(|&(at, _)| at <= read.inv.invoked);
        for (at, version) in acked_before.take(MISSED_SCAN_MAX) {
            if dag.includes(read.version, version) {
                break;
            }
            oldest = Some((version, at));
        }
        oldest
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::verdict::Verdict;

    #[test]
    fn staleness_counts_from_the_oldest_missed_write() {
        // Each step takes 1 ms: a write is sent, created and acknowledged in three.
        let bound = SimDuration::from_millis(5);
        let mut h = Hist::new(vec![Box::new(BoundedStaleness::new(Some(bound)))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK); // acknowledged at 3 ms
        let v2 = h.write(0, 0, v1, OK); // at 6 ms
        let v3 = h.write(0, 0, v2, OK); // at 9 ms
        h.read(1, 0, v1, 1); // sent at 10 ms, misses v3 and v2: 4 ms behind
        h.read(1, 0, VersionId::ROOT, 1); // sent at 12 ms, misses all: 9 ms behind
        h.read(1, 0, v3, 0); // up to date
        let r = h.finish_one(&[v3]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Violated, 1, 3));
        assert_eq!(r.figures["stale_reads"], 2);
        assert_eq!(r.figures["max_ns"], 9_000_000);
        assert!(r.story[1].text.contains("lacks v1, acknowledged 9"), "{:?}", r.story);
    }

    #[test]
    fn reads_within_the_bound_hold() {
        let bound = SimDuration::from_millis(5);
        let mut h = Hist::new(vec![Box::new(BoundedStaleness::new(Some(bound)))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.read(1, 0, VersionId::ROOT, 1);
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.violations, r.figures["stale_reads"]), (Verdict::Holds, 0, 1));
    }

    #[test]
    fn without_a_bound_it_measures_but_judges_nothing() {
        let mut h = Hist::new(vec![Box::new(BoundedStaleness::new(None))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.read(1, 0, VersionId::ROOT, 1); // Behind, with no bound to be behind of.
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.figures["stale_reads"]), (Verdict::NotConfigured, 1));
        assert!(!r.figures.contains_key("bound_ns"));
    }

    #[test]
    fn the_log_stays_packed() {
        assert_eq!(std::mem::size_of::<RecentAcks>(), 44);
        assert_eq!(std::mem::size_of::<Spilled>(), 16);
    }

    #[test]
    fn the_log_lists_a_keys_acknowledgements_newest_first_across_the_spill() {
        let mut log = AckLog::default();
        for i in 1..=5u32 {
            log.push(0, SimTime(u64::from(i)), VersionId(i));
            log.push(1, SimTime(u64::from(i)), VersionId(100 + i));
        }
        let key0: Vec<u32> = log.newest_first(0).map(|(_, v)| v.0).collect();
        assert_eq!(key0, vec![5, 4, 3, 2, 1]);
        assert_eq!(log.newest_first(1).count(), 5);
        assert_eq!(log.newest_first(7).count(), 0);
    }
}
