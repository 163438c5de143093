//! The checker interface and the set of checkers a run uses.
//!
//! A checker watches the run as it happens: every completed client operation
//! (`on_op`) and every move of a key's head on a store (`on_head`). At the end it gets
//! the stores' final tables and the versions live in them, and returns a `CheckReport`
//! with its verdict and the story of its shortest violation. Checkers keep only what
//! their stories need, so checking costs memory per client or per version, not per
//! event. Later checkers (stream completeness, authorization) watch their own events
//! through the same trait.

use super::history::OpRecord;
use super::verdict::{CheckReport, Names};
use super::versions::{VersionDag, VersionId};
use super::{
    BoundedStaleness, Convergence, Duplicates, LostWrites, MonotonicReads, MonotonicWrites,
    ReadYourWrites, WritesFollowReads,
};
use crate::engine::{SimDuration, SimTime};

/// Why a key's head moved on a store's primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadCause {
    /// A write made `to` the head.
    Write,
    /// A write created `to`, but the conflict policy kept `from` (its timestamp was
    /// not newer): `to` is orphaned at birth.
    LostRace,
    /// The primary crashed and restarted from the snapshot taken at this time.
    Crash {
        /// When the snapshot it restarted from was taken.
        snapshot_at: SimTime,
    },
    /// Replica `replica` was promoted to primary.
    Failover {
        /// The promoted replica.
        replica: u32,
    },
}

/// A key's head on a store moving from one version to another.
#[derive(Debug, Clone, Copy)]
pub struct HeadMove {
    /// The store (component id).
    pub store: u32,
    /// The key.
    pub key: u32,
    /// The head before.
    pub from: VersionId,
    /// The head after (for `LostRace`, the version that lost).
    pub to: VersionId,
    /// Why.
    pub cause: HeadCause,
    /// When.
    pub at: SimTime,
    /// The event that moved it.
    pub event: u64,
}

/// One store's tables when the run ended.
#[derive(Debug, Clone)]
pub struct StoreEnd {
    /// Component id.
    pub id: u32,
    /// The primary's head per key.
    pub primary: Vec<VersionId>,
    /// Each replica's version per key.
    pub replicas: Vec<Vec<VersionId>>,
}

/// Every store's final tables.
pub type StoresEnd = [StoreEnd];

/// What checkers get at the end of a run.
pub struct End<'a> {
    /// The version DAG.
    pub dag: &'a mut VersionDag,
    /// Per version: an ancestor of (or equal to) some key's final head on its store.
    pub live: &'a [bool],
    /// The stores' final tables.
    pub stores: &'a StoresEnd,
    /// Names for story text.
    pub names: &'a Names,
}

/// An invariant checker.
pub trait Check {
    /// A client operation completed.
    fn on_op(&mut self, _op: &OpRecord, _dag: &mut VersionDag) {}
    /// A store moved a key's head.
    fn on_head(&mut self, _mv: &HeadMove, _dag: &mut VersionDag) {}
    /// The run is over: the verdict and the story of the shortest violation.
    fn finish(&mut self, end: &mut End<'_>) -> CheckReport;
}

/// The checkers a scenario can ask for, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckSpec {
    /// `lost_acknowledged_write`.
    LostAcknowledgedWrite,
    /// `read_your_writes`.
    ReadYourWrites,
    /// `monotonic_reads`.
    MonotonicReads,
    /// `monotonic_writes`.
    MonotonicWrites,
    /// `writes_follow_reads`.
    WritesFollowReads,
    /// `convergence`.
    Convergence,
    /// `duplicates`.
    Duplicates,
    /// `bounded_staleness`, with an optional bound.
    BoundedStaleness(Option<SimDuration>),
}

impl CheckSpec {
    /// Every checker with default settings, in report order.
    pub const ALL: [CheckSpec; 8] = [
        CheckSpec::LostAcknowledgedWrite,
        CheckSpec::ReadYourWrites,
        CheckSpec::MonotonicReads,
        CheckSpec::MonotonicWrites,
        CheckSpec::WritesFollowReads,
        CheckSpec::Convergence,
        CheckSpec::Duplicates,
        CheckSpec::BoundedStaleness(None),
    ];

    /// The name scenarios use.
    pub fn name(self) -> &'static str {
        match self {
            CheckSpec::LostAcknowledgedWrite => "lost_acknowledged_write",
            CheckSpec::ReadYourWrites => "read_your_writes",
            CheckSpec::MonotonicReads => "monotonic_reads",
            CheckSpec::MonotonicWrites => "monotonic_writes",
            CheckSpec::WritesFollowReads => "writes_follow_reads",
            CheckSpec::Convergence => "convergence",
            CheckSpec::Duplicates => "duplicates",
            CheckSpec::BoundedStaleness(_) => "bounded_staleness",
        }
    }

    fn build(self) -> Box<dyn Check> {
        match self {
            CheckSpec::LostAcknowledgedWrite => Box::<LostWrites>::default(),
            CheckSpec::ReadYourWrites => Box::<ReadYourWrites>::default(),
            CheckSpec::MonotonicReads => Box::<MonotonicReads>::default(),
            CheckSpec::MonotonicWrites => Box::<MonotonicWrites>::default(),
            CheckSpec::WritesFollowReads => Box::<WritesFollowReads>::default(),
            CheckSpec::Convergence => Box::<Convergence>::default(),
            CheckSpec::Duplicates => Box::<Duplicates>::default(),
            CheckSpec::BoundedStaleness(bound) => Box::new(BoundedStaleness::new(bound)),
        }
    }
}

/// The checkers of one run. A fixed list built once, so dispatch allocates nothing.
#[derive(Default)]
pub struct Checks {
    list: Vec<Box<dyn Check>>,
}

impl std::fmt::Debug for Checks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Checks({} checkers)", self.list.len())
    }
}

impl Checks {
    /// The checkers named by `specs`.
    pub fn new(specs: &[CheckSpec]) -> Checks {
        Checks { list: specs.iter().map(|s| s.build()).collect() }
    }

    /// Adds a checker of a library user's own.
    pub fn push(&mut self, check: Box<dyn Check>) {
        self.list.push(check);
    }

    pub(crate) fn on_op(&mut self, op: &OpRecord, dag: &mut VersionDag) {
        for c in &mut self.list {
            c.on_op(op, dag);
        }
    }

    pub(crate) fn on_head(&mut self, mv: &HeadMove, dag: &mut VersionDag) {
        for c in &mut self.list {
            c.on_head(mv, dag);
        }
    }

    pub(crate) fn finish(
        &mut self,
        dag: &mut VersionDag,
        stores: &StoresEnd,
        names: &Names,
    ) -> Vec<CheckReport> {
        if self.list.is_empty() {
            return Vec::new();
        }
        let heads = stores.iter().flat_map(|s| s.primary.iter().copied());
        let live = dag.ancestors_of(heads);
        let mut end = End { dag, live: &live, stores, names };
        self.list.iter_mut().map(|c| c.finish(&mut end)).collect()
    }
}

/// Per-client state of the client's current session; a new session (a new tab) starts
/// again from `T::default()`. Session guarantees hold per session.
#[derive(Debug, Default)]
pub(crate) struct Sessions<T> {
    table: Vec<(u32, T)>,
}

impl<T: Default + Clone> Sessions<T> {
    /// The state of the session `op` belongs to.
    pub(crate) fn of(&mut self, op: &OpRecord) -> &mut T {
        let (session, state) = slot(&mut self.table, op.client());
        if *session != op.inv.session {
            *session = op.inv.session;
            *state = T::default();
        }
        state
    }
}

/// Grows a per-client table so `client` indexes it.
pub(crate) fn slot<T: Default + Clone>(table: &mut Vec<T>, client: u32) -> &mut T {
    let i = client as usize;
    if table.len() <= i {
        table.resize(i + 1, T::default());
    }
    &mut table[i]
}
