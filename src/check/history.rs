//! The history: what every client asked for, when, and what it got back.
//!
//! Components report each completed operation here. The history keeps streaming figures
//! (latency histograms, stale-read counts) for any run size and, when asked, the full
//! list of operations for checkers and tests. It is also the oracle for staleness: it
//! knows the newest version of each key acknowledged to any client so far.

use super::histogram::Histogram;
use crate::engine::SimTime;

/// The kinds of operation a client performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    /// A write of a new version.
    Write,
    /// A read of the current version.
    Read,
}

impl OpKind {
    /// Every kind, in report order.
    pub const ALL: [OpKind; 2] = [OpKind::Write, OpKind::Read];

    /// The lower-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Write => "write",
            OpKind::Read => "read",
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened and the client was told so.
    Ok,
    /// The client gave up waiting: it may or may not have happened.
    Unknown,
}

/// One completed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpRecord {
    /// Client index.
    pub client: u32,
    /// Write or read.
    pub kind: OpKind,
    /// Key index.
    pub key: u32,
    /// Version written, or version read (0 = nothing written yet).
    pub version: u64,
    /// When the client sent it.
    pub invoked: SimTime,
    /// When the client learned the result.
    pub completed: SimTime,
    /// How it ended.
    pub outcome: Outcome,
    /// For reads: the version was older than the newest one acknowledged at invocation.
    pub stale: bool,
}

/// Streaming figures for one kind of operation.
#[derive(Debug, Clone, Default)]
pub struct OpStats {
    /// Latency of operations that completed with `Ok`.
    pub latency: Histogram,
    /// Operations that ended `Unknown` (timed out).
    pub unknown: u64,
}

/// The record of a run's operations.
#[derive(Debug, Clone)]
pub struct History {
    stats: [OpStats; 2],
    acked_version: Vec<u64>,
    stale_reads: u64,
    ops: Option<Vec<OpRecord>>,
}

impl History {
    /// An empty history over `key_count` keys; `keep_ops` also keeps every record.
    pub fn new(key_count: u32, keep_ops: bool) -> History {
        History {
            stats: Default::default(),
            acked_version: vec![0; key_count as usize],
            stale_reads: 0,
            ops: keep_ops.then(Vec::new),
        }
    }

    /// The newest version of `key` acknowledged to any client so far.
    #[inline]
    pub fn newest_acked(&self, key: u32) -> u64 {
        self.acked_version[key as usize]
    }

    /// Records a completed operation.
    #[inline]
    pub fn record(&mut self, op: OpRecord) {
        assert!(op.completed >= op.invoked, "operation completed before it began");
        let stats = &mut self.stats[op.kind as usize];
        match op.outcome {
            Outcome::Ok => stats.latency.record(op.completed.since(op.invoked).as_nanos()),
            Outcome::Unknown => stats.unknown += 1,
        }
        if op.outcome == Outcome::Ok && op.kind == OpKind::Write {
            let acked = &mut self.acked_version[op.key as usize];
            *acked = (*acked).max(op.version);
        }
        if op.stale {
            assert_eq!(op.kind, OpKind::Read, "only reads are stale");
            self.stale_reads += 1;
        }
        if let Some(ops) = &mut self.ops {
            ops.push(op);
        }
    }

    /// Figures for one kind of operation.
    pub fn stats(&self, kind: OpKind) -> &OpStats {
        &self.stats[kind as usize]
    }

    /// Reads that returned a version older than the newest acknowledged one.
    pub fn stale_reads(&self) -> u64 {
        self.stale_reads
    }

    /// Every operation, in completion order, if the history was asked to keep them.
    pub fn ops(&self) -> Option<&[OpRecord]> {
        self.ops.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: OpKind, version: u64, at: u64, stale: bool) -> OpRecord {
        OpRecord {
            client: 0,
            kind,
            key: 0,
            version,
            invoked: SimTime(at),
            completed: SimTime(at + 10),
            outcome: Outcome::Ok,
            stale,
        }
    }

    #[test]
    fn acknowledged_versions_only_grow() {
        let mut h = History::new(1, true);
        h.record(op(OpKind::Write, 2, 0, false));
        h.record(op(OpKind::Write, 1, 5, false));
        assert_eq!(h.newest_acked(0), 2);
        h.record(op(OpKind::Read, 1, 20, true));
        assert_eq!(h.stale_reads(), 1);
        assert_eq!(h.stats(OpKind::Read).latency.count(), 1);
        assert_eq!(h.ops().unwrap().len(), 3);
    }
}
