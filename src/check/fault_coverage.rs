//! Fault coverage: which injected faults touched any operation. An operation is touched
//! by a fault when it was in flight (sent, not yet answered) at some moment the fault
//! was active (from its strike to its end: restart, heal, lag back to normal, or the
//! run's end for a crash never restarted; at the strike alone for an instant fault such
//! as a failover or a clock jump) and the fault could reach it: the operation's client
//! is a target, or one of its requests was delivered to a target (a partition's targets
//! are the ends of the links it cuts). A crash or failover also touches every key whose
//! head it moved back. A partition no request was in flight across, a crash of a
//! component nothing was sent to, a lag spike no operation saw, all touch nothing, and a
//! green run whose faults touched nothing tested nothing.

use super::history::{OpKind, OpRecord};
use crate::engine::{SimDuration, SimTime};

/// One strike of a fault, while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    fault: u32,
    start: u64,
    end: u64,
}

/// The components an operation reached: its client, and every component one of its
/// requests was delivered to. Past `REACHED_MAX` of them it counts as reaching all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reached {
    ids: [u32; REACHED_MAX],
    len: u8,
}

/// Components an operation's path is followed through; longer paths are taken as
/// reaching every component.
const REACHED_MAX: usize = 7;

impl Reached {
    /// Adds component `id`.
    #[inline]
    pub fn add(&mut self, id: u32) {
        let len = usize::from(self.len);
        if len > REACHED_MAX || self.ids[..len].contains(&id) {
            return;
        }
        if len == REACHED_MAX {
            self.len = u8::MAX; // Too long a path to follow: it may have reached anything.
            return;
        }
        self.ids[len] = id;
        self.len += 1;
    }

    /// Whether it reached any of `targets`.
    pub fn any_of(&self, targets: &[u32]) -> bool {
        match self.ids.get(..usize::from(self.len)) {
            Some(ids) => ids.iter().any(|id| targets.contains(id)),
            None => true,
        }
    }
}

/// What one fault touched over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Touched {
    /// Times it struck.
    pub strikes: u64,
    /// Operations in flight while it was active.
    pub operations: u64,
    /// Of them, writes.
    pub writes: u64,
    /// Of them, reads.
    pub reads: u64,
    /// Keys whose head it moved back (a crash restarting from a snapshot, a failover
    /// promoting a replica that lacked versions), whether or not an operation was in
    /// flight.
    pub rolled_back: u64,
}

/// Fault strikes and the operations they touched.
#[derive(Debug, Clone, Default)]
pub struct FaultCoverage {
    windows: Vec<Window>,
    /// Per fault, the components it can reach.
    targets: Vec<Vec<u32>>,
    /// Whether the run has faults, so operations' paths are followed.
    on: bool,
    touched: Vec<Touched>,
    /// Operations in flight while at least one fault was active: all, writes, reads.
    pub under_fault: Touched,
}

/// Strikes looked at per operation, newest first: an operation lasts seconds, and
/// faults strike at most every few seconds (`RATE_GAP_MIN`), so older ones ended.
const RECENT_STRIKES: usize = 64;

impl FaultCoverage {
    /// Coverage of a run whose faults reach `targets` (component ids, by fault).
    pub fn new(targets: Vec<Vec<u32>>) -> FaultCoverage {
        FaultCoverage {
            on: !targets.is_empty(),
            touched: vec![Touched::default(); targets.len()],
            targets,
            ..FaultCoverage::default()
        }
    }

    /// Whether operations' paths are followed (the run has faults).
    #[inline]
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Records that fault `index` struck at `at`, active for `lasting` (`None`: an
    /// instant, or for good when `forever`).
    pub fn struck(
        &mut self,
        index: usize,
        at: SimTime,
        lasting: Option<SimDuration>,
        forever: bool,
    ) {
        if self.touched.len() <= index {
            self.touched.resize(index + 1, Touched::default());
        }
        self.touched[index].strikes += 1;
        let end = match lasting {
            Some(d) => at.0.saturating_add(d.as_nanos()),
            None if forever => u64::MAX,
            None => at.0,
        };
        self.windows.push(Window { fault: index as u32, start: at.0, end });
    }

    /// Counts `op`, which reached `reached`, against every recent strike it overlapped
    /// and could be reached by.
    #[inline]
    pub fn observe(&mut self, op: &OpRecord, reached: &Reached) {
        if self.windows.is_empty() {
            return;
        }
        let (from, to) = (op.inv.invoked.0, op.completed.0);
        let mut any = false;
        for w in self.windows.iter().rev().take(RECENT_STRIKES) {
            let reachable = || self.targets.get(w.fault as usize).is_none_or(|t| reached.any_of(t));
            if w.start <= to && w.end >= from && reachable() {
                let t = &mut self.touched[w.fault as usize];
                t.operations += 1;
                t.writes += u64::from(op.kind() == OpKind::Write);
                t.reads += u64::from(op.kind() == OpKind::Read);
                any = true;
            }
        }
        if any {
            self.under_fault.operations += 1;
            self.under_fault.writes += u64::from(op.kind() == OpKind::Write);
            self.under_fault.reads += u64::from(op.kind() == OpKind::Read);
        }
    }

    /// Counts a key's head moved back at `at` by a crash or failover against the
    /// strikes active then.
    pub fn rolled_back(&mut self, at: SimTime) {
        for w in self.windows.iter().rev().take(RECENT_STRIKES) {
            if w.start <= at.0 && at.0 <= w.end {
                self.touched[w.fault as usize].rolled_back += 1;
            }
        }
    }

    /// What each of `faults` faults touched, by index.
    pub fn touched(&self, faults: usize) -> Vec<Touched> {
        let mut all = self.touched.clone();
        all.resize(faults.max(all.len()), Touched::default());
        all
    }
}
