//! The run over time: for each interval (1 s), what the clients asked for, what they got,
//! and how long it took — the picture of a run around a fault.
//!
//! The history feeds it every client operation twice, when it is invoked and when it
//! ends, and both come in time order, so an interval is settled once an event falls in a
//! later one: its latency percentiles are computed then and its histograms reused. Memory
//! is a few counters per interval, whatever the number of operations.

use super::histogram::Histogram;
use super::history::{OpRecord, Outcome};
use crate::engine::SimDuration;

/// The length of one interval unless the scenario sets `timeline_interval`.
pub const INTERVAL: SimDuration = crate::model::scenario::TIMELINE_INTERVAL;

/// What clients did and saw in one interval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interval {
    /// Operations invoked for the first time: the load the users offered.
    pub offered: u64,
    /// Every attempt sent, retries included: the load the servers got.
    pub attempts: u64,
    /// Attempts that ended `Ok` (or `202 Accepted`): goodput.
    pub ok: u64,
    /// Attempts answered with a failure (refused, rejected, unavailable).
    pub errors: u64,
    /// Attempts the client gave up on without an answer.
    pub timeouts: u64,
    /// Latency of the attempts that ended `Ok`, by row: (count, p50 ns, p99 ns).
    pub latency: Vec<(u64, u64, u64)>,
}

/// Per-interval figures of the clients' operations.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The length of an interval, ns.
    interval_ns: u64,
    /// The report rows the latency columns follow, in first-seen order.
    rows: Vec<&'static str>,
    intervals: Vec<Interval>,
    /// The interval whose latencies are being counted.
    open: usize,
    /// Its latencies, by row (reused from one interval to the next).
    working: Vec<Histogram>,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline::every(INTERVAL)
    }
}

impl Timeline {
    /// An empty timeline of intervals `interval` long.
    pub fn every(interval: SimDuration) -> Timeline {
        Timeline {
            interval_ns: interval.as_nanos().max(1),
            rows: Vec::new(),
            intervals: Vec::new(),
            open: 0,
            working: Vec::new(),
        }
    }

    /// The length of an interval, ns.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// The interval a time (ns) falls in, grown into existence.
    fn at(&mut self, ns: u64) -> usize {
        let i = (ns / self.interval_ns) as usize;
        if self.intervals.len() <= i {
            self.intervals.resize(i + 1, Interval::default());
        }
        i
    }

    /// A client operation was invoked at `ns`; `first` when it is not a retry.
    pub fn invoked(&mut self, ns: u64, first: bool) {
        let i = self.at(ns);
        let slot = &mut self.intervals[i];
        slot.attempts += 1;
        slot.offered += u64::from(first);
    }

    /// A client operation ended (`answered`: with a reply, not given up).
    pub fn ended(&mut self, op: &OpRecord, row: &'static str, answered: bool) {
        let ns = op.completed.as_nanos();
        let i = self.at(ns);
        if i > self.open {
            self.settle();
            self.open = i;
        }
        let slot = &mut self.intervals[i];
        match op.outcome {
            Outcome::Ok | Outcome::Accepted => slot.ok += 1,
            Outcome::Unknown if !answered => slot.timeouts += 1,
            _ => slot.errors += 1,
        }
        if matches!(op.outcome, Outcome::Ok | Outcome::Accepted) && i == self.open {
            let r = self.row(row);
            self.working[r].record(ns - op.inv.invoked.as_nanos());
        }
    }

    fn row(&mut self, name: &'static str) -> usize {
        // Rows are statics: the same row is the same address, found without comparing text.
        match self.rows.iter().position(|&r| std::ptr::eq(r, name) || r == name) {
            Some(r) => r,
            None => {
                self.rows.push(name);
                self.working.push(Histogram::default());
                self.rows.len() - 1
            }
        }
    }

    /// The open interval is over: its percentiles are kept, its histograms emptied.
    fn settle(&mut self) {
        let Some(slot) = self.intervals.get_mut(self.open) else { return };
        slot.latency = (self.working.iter_mut())
            .map(|h| {
                let figures = (h.count(), h.quantile(0.5), h.quantile(0.99));
                if h.count() > 0 {
                    *h = Histogram::default();
                }
                figures
            })
            .collect();
    }

    /// The run is over: the open interval is settled, and nothing more is timed.
    pub fn close(&mut self) {
        self.settle();
        self.open = usize::MAX;
    }

    /// The operations the latency columns follow, in order.
    pub fn rows(&self) -> &[&'static str] {
        &self.rows
    }

    /// The intervals before `end` (ns), once closed.
    pub fn until(&self, end: u64) -> &[Interval] {
        let n = (end.div_ceil(self.interval_ns) as usize).min(self.intervals.len());
        &self.intervals[..n]
    }

    /// A closed timeline.
    #[cfg(test)]
    fn closed(mut self) -> Timeline {
        self.close();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::op_at;

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;

    #[test]
    fn intervals_count_offered_load_retries_goodput_errors_and_timeouts() {
        let mut t = Timeline::default();
        t.invoked(100 * MS, true);
        t.invoked(200 * MS, false);
        t.invoked(S + 5 * MS, true);
        t.ended(&op_at(100 * MS, 150 * MS, Outcome::Ok), "write", true);
        t.ended(&op_at(200 * MS, 900 * MS, Outcome::Refused), "write", true);
        t.ended(&op_at(S + 5 * MS, S + 600 * MS, Outcome::Unknown), "write", false);
        t.ended(&op_at(2 * S, 2 * S + 10 * MS, Outcome::Unknown), "read", true);
        let t = t.closed();
        let (rows, iv) = (t.rows(), t.until(3 * S));
        assert_eq!(rows, ["write"], "a row appears with its first success");
        assert_eq!(iv.len(), 3);
        assert_eq!((iv[0].offered, iv[0].attempts, iv[0].ok, iv[0].errors), (1, 2, 1, 1));
        assert_eq!((iv[1].offered, iv[1].timeouts, iv[1].ok), (1, 1, 0));
        assert_eq!((iv[2].errors, iv[2].timeouts), (1, 0), "a 503 is an answer");
        assert_eq!(iv[0].latency, vec![(1, 50 * MS, 50 * MS)]);
        assert_eq!(iv[1].latency, vec![(0, 0, 0)]);
    }

    #[test]
    fn percentiles_are_of_each_interval_alone() {
        let mut t = Timeline::default();
        for i in 1..=100 {
            t.ended(&op_at(0, i * MS, Outcome::Ok), "read", true);
        }
        t.ended(&op_at(S, S + 7 * MS, Outcome::Ok), "read", true);
        let t = t.closed();
        let iv = t.until(2 * S);
        let (n, p50, p99) = iv[0].latency[0];
        assert_eq!(n, 100);
        assert!(p50.abs_diff(50 * MS) <= 50 * MS / 128 + 1, "p50 {p50}");
        assert!(p99.abs_diff(99 * MS) <= 99 * MS / 128 + 1, "p99 {p99}");
        let (n, p50, _) = iv[1].latency[0];
        assert_eq!(n, 1);
        assert!(p50.abs_diff(7 * MS) <= 7 * MS / 128 + 1, "the first interval's values are gone");
    }

    #[test]
    fn the_timeline_stops_at_the_end_of_the_duration() {
        let mut t = Timeline::default();
        t.invoked(5 * S + 1, true);
        assert_eq!(t.closed().until(2 * S).len(), 2);
    }
}
