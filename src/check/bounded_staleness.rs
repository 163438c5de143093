//! **Bounded staleness** (Δ-atomicity; probabilistically bounded staleness, Bailis et
//! al. 2012): per read, how far behind the newest acknowledged write it was — the time
//! between that write's acknowledgement and the read's invocation, when the read
//! missed it (0 otherwise). Reports the distribution over stale reads; with a bound,
//! every read behind by more than the bound is a violation.

use super::checks::{Check, End, SessionState};
use super::histogram::Histogram;
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::{CheckReport, duration};
use super::versions::VersionDag;
use crate::engine::SimDuration;

/// The bounded-staleness checker.
#[derive(Debug)]
pub struct BoundedStaleness {
    bound: Option<SimDuration>,
    staleness: Histogram,
    reads: u64,
    violations: u64,
    worst: Option<OpRecord>,
}

impl BoundedStaleness {
    /// A checker with an optional bound.
    pub fn new(bound: Option<SimDuration>) -> Self {
        BoundedStaleness {
            bound,
            staleness: Histogram::default(),
            reads: 0,
            violations: 0,
            worst: None,
        }
    }
}

impl Check for BoundedStaleness {
    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, _dag: &mut VersionDag) {
        if op.outcome != Outcome::Ok || op.kind() != OpKind::Read {
            return;
        }
        self.reads += 1;
        if !op.stale {
            return;
        }
        let behind = op.staleness_ns();
        self.staleness.record(behind);
        if self.bound.is_some_and(|b| behind > b.as_nanos()) {
            self.violations += 1;
        }
        if self.worst.is_none_or(|w| behind > w.staleness_ns()) {
            self.worst = Some(*op);
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new("bounded_staleness", self.violations, self.reads, "reads");
        let h = &self.staleness;
        r.figures.insert("stale_reads", h.count());
        r.figures.insert("p50_ns", h.quantile(0.50));
        r.figures.insert("p99_ns", h.quantile(0.99));
        r.figures.insert("max_ns", h.max());
        if let Some(b) = self.bound {
            r.figures.insert("bound_ns", b.as_nanos());
        }
        if let (Some(op), true) = (&self.worst, self.violations > 0) {
            let newest = op.inv.newest;
            let note = format!(
                ", which lacks {newest}, acknowledged {} before the read was sent",
                duration(op.staleness_ns())
            );
            r.story = vec![
                story::acknowledged(end.dag, newest, end.names),
                story::read(op, end.names, &note),
            ];
        }
        r
    }
}
