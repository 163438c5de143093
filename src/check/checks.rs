//! The checker interface and the set of checkers a run uses.
//!
//! A checker watches the run as it happens: every completed client operation
//! (`on_op`) and every move of a key's head on a store (`on_head`). At the end it gets
//! the stores' final tables and the versions live in them, and returns a `CheckReport`
//! with its verdict and the story of its shortest violation. Checkers keep only what
//! their stories need, so checking costs memory per client or per version, not per
//! event. Later checkers (stream completeness, authorization) watch their own events
//! through the same trait.

use super::cache_coherence::CacheEvent;
use super::delivery::Processed;
use super::history::{OpKind, OpRecord, Outcome};
use super::propagation::{Arrival, EditArrivals};
use super::verdict::{CheckReport, Names};
use super::versions::{Settled, Sighting, VersionDag, VersionId};
use super::{
    Authorization, BoundedStaleness, CacheCoherence, Convergence, Delivery, Duplicates,
    GroupProcessing, LostMessages, LostWrites, MonotonicReads, MonotonicWrites, PartitionOrder,
    Propagation, ReadYourWrites, SessionContinuity, SplitBrain, StreamCompleteness,
    WritesFollowReads,
};
use crate::engine::SimTime;
pub use crate::model::CheckSpec;

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
        /// Writes the old primary had shipped in its epoch that the replica had not
        /// applied (its replication position short of the primary's).
        behind: u64,
    },
    /// A multi-leader store's leader `at_leader` took `to`, shipped by leader
    /// `from_leader`, over the concurrent `from` it held: last-write-wins between
    /// leaders preferred the newer stamp.
    LastWriteWins {
        /// The leader that shipped `to`.
        from_leader: u32,
        /// The leader whose head moved.
        at_leader: u32,
    },
    /// A deposed primary, still reached by clients after a newer term began, made `to`
    /// on its own copy of the table: no head of the current term descends from it
    /// (split brain). `from` is the current term's head of the key.
    SplitBrain {
        /// The deposed primary's term.
        term: u32,
        /// When the term after it began.
        deposed_at: SimTime,
        /// The event that began it.
        deposed_event: u64,
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

/// A server pushing a version of a document to an editor's WebSocket, as it arrives.
#[derive(Debug, Clone, Copy)]
pub struct Push {
    /// The editor (client index).
    pub client: u32,
    /// The document.
    pub key: u32,
    /// The version pushed.
    pub version: VersionId,
    /// The app server that pushed it (component id).
    pub server: u32,
    /// When it arrived.
    pub at: SimTime,
    /// The event that delivered it.
    pub event: u64,
}

/// What an app server made of an editor's login session when the editor connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFate {
    /// A first login: the editor had no session yet.
    LoggedIn,
    /// The server held the session.
    Kept,
    /// The server found it in the shared session cache.
    Restored,
    /// Nobody had it: the editor is logged out and must log in again.
    Lost,
    /// The session cache did not answer: the server refused the connection.
    Unavailable,
}

/// An editor's connection meeting its login session on an app server.
#[derive(Debug, Clone, Copy)]
pub struct SessionEvent {
    /// The editor (client index).
    pub client: u32,
    /// The app server (component id).
    pub server: u32,
    /// What became of the session.
    pub fate: SessionFate,
    /// When.
    pub at: SimTime,
    /// The event.
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
    /// Per kept version, by slot: an ancestor of (or equal to) some key's final head
    /// on its store (see `is_live`).
    pub live: &'a [bool],
    /// The stores' final tables.
    pub stores: &'a StoresEnd,
    /// Names for story text.
    pub names: &'a Names,
    /// What each editor's page showed.
    pub arrivals: &'a EditArrivals,
    /// When the run's duration ended (what is still open is measured to here).
    pub ended: SimTime,
    /// The run's replicated logs.
    pub logs: &'a super::log_book::LogBook,
}

/// The operations in flight, as settling needs them: the (client, message) pairs they
/// may still write (no other message can make a version any more), and when the
/// earliest was sent.
#[derive(Debug, Clone, Default)]
pub struct Writing {
    pairs: Vec<(u32, u32)>,
    /// When the earliest operation in flight was sent (the current time if none is).
    pub since: SimTime,
}

impl Writing {
    /// The pairs, in any order, and when the earliest operation in flight was sent.
    pub fn new(mut pairs: Vec<(u32, u32)>, since: SimTime) -> Writing {
        pairs.sort_unstable();
        pairs.dedup();
        Writing { pairs, since }
    }

    /// Whether `client`'s message `message` may still be written.
    pub fn contains(&self, client: u32, message: u32) -> bool {
        self.pairs.binary_search(&(client, message)).is_ok()
    }
}

impl End<'_> {
    /// Whether `v` is in its key's final value: an ancestor of (or equal to) its final
    /// head. A forgotten version is asked about only if it was settled safe.
    pub fn is_live(&self, v: VersionId) -> bool {
        self.dag.slot_of(v).is_none_or(|slot| self.live[slot])
    }
}

/// An invariant checker.
pub trait Check {
    /// A client operation completed; `session` is what its session had done before it.
    fn on_op(&mut self, _op: &OpRecord, _session: &SessionState<'_>, _dag: &mut VersionDag) {}
    /// Whether `on_op` reads its `session` argument. Checkers that do not say so spare
    /// every operation a lookup in the per-client session table.
    fn uses_sessions(&self) -> bool {
        true
    }
    /// Whether it watches operations (`on_op`). One that does not (it judges caches or
    /// events) is not called for each.
    fn sees_ops(&self) -> bool {
        true
    }
    /// Whether it watches head moves (`on_head`).
    fn sees_heads(&self) -> bool {
        true
    }
    /// Whether `on_op` also sees operations that answer about many keys (a document
    /// list), which no other checker reads as a read of the key they name.
    fn sees_lists(&self) -> bool {
        false
    }
    /// A store moved a key's head.
    fn on_head(&mut self, _mv: &HeadMove, _dag: &mut VersionDag) {}
    /// An editor's page showed another editor's edit for the first time.
    fn on_arrival(&mut self, _arrival: &Arrival) {}
    /// An app server decided what became of an editor's login session.
    fn on_session(&mut self, _event: &SessionEvent) {}
    /// An application cache's entry changed.
    fn on_cache(&mut self, _event: &CacheEvent, _dag: &mut VersionDag) {}
    /// A consumer subscribed to a topic (before the run starts).
    fn on_subscriber(&mut self, _consumer: u32) {}
    /// A store committed `version` at `at`, which the design says is published.
    fn on_publishable(&mut self, _version: VersionId, _at: SimTime) {}
    /// A consumer processed an event.
    fn on_processed(&mut self, _processed: &Processed) {}
    /// Client `client`'s access was revoked at `at` by event `event`.
    fn on_revoke(&mut self, _client: u32, _at: SimTime, _event: u64) {}
    /// Each key's organisation (tenant), before the run starts.
    fn set_key_orgs(&mut self, _orgs: &[u32]) {}
    /// Some versions' fates are now final (`settled`), and the run is about to forget
    /// every version no one reports holding: a checker that keeps something per version
    /// decides those versions now. `writing` is every (client, message) an operation in
    /// flight may still write.
    fn on_settled(&mut self, _settled: &Settled, _writing: &Writing, _dag: &mut VersionDag) {}
    /// Reports every version it holds (what it will test reads against, the
    /// witnesses its story will cite) to `held`, and returns true; a checker that
    /// cannot say returns false. As `Component::versions_held`: what no one reports can
    /// never be asked about again.
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        false
    }
    /// The run is over: the verdict and the story of the shortest violation.
    fn finish(&mut self, end: &mut End<'_>) -> CheckReport;
}

/// A checker that judges only at the end, from what the history recorded (the log
/// book): it watches no operation, head move or session as the run goes.
pub trait EndCheck {
    /// The run is over: the verdict and the story of the first violation.
    fn finish(&mut self, end: &mut End<'_>) -> CheckReport;
}

/// An end-only checker as a `Check`.
#[derive(Debug, Default)]
pub struct AtEnd<T>(pub T);

impl<T: EndCheck> Check for AtEnd<T> {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // It reads the log book at the end, which names no version.
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn sees_ops(&self) -> bool {
        false
    }

    fn sees_heads(&self) -> bool {
        false
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        self.0.finish(end)
    }
}

/// The checker a scenario names, built with its settings (`None` for `objectives`,
/// which judges the run's figures outside the history).
fn build(spec: CheckSpec) -> Option<Box<dyn Check>> {
    Some(match spec {
        CheckSpec::LostAcknowledgedWrite => Box::<LostWrites>::default(),
        CheckSpec::ReadYourWrites => Box::<ReadYourWrites>::default(),
        CheckSpec::MonotonicReads => Box::<MonotonicReads>::default(),
        CheckSpec::MonotonicWrites => Box::<MonotonicWrites>::default(),
        CheckSpec::WritesFollowReads => Box::<WritesFollowReads>::default(),
        CheckSpec::Convergence => Box::<Convergence>::default(),
        CheckSpec::Duplicates => Box::<Duplicates>::default(),
        CheckSpec::BoundedStaleness(bound) => Box::new(BoundedStaleness::new(bound)),
        CheckSpec::StreamCompleteness => Box::<StreamCompleteness>::default(),
        CheckSpec::Propagation(bound) => Box::new(Propagation::new(bound)),
        CheckSpec::SessionContinuity => Box::<SessionContinuity>::default(),
        CheckSpec::Authorization(bound) => Box::new(Authorization::new(bound)),
        CheckSpec::SplitBrain => Box::<SplitBrain>::default(),
        CheckSpec::CacheCoherence(bound) => Box::new(CacheCoherence::new(bound)),
        CheckSpec::Delivery { at_least_once } => Box::new(Delivery::new(at_least_once)),
        CheckSpec::LostAcknowledgedMessage => Box::new(AtEnd(LostMessages)),
        CheckSpec::PartitionOrder => Box::new(AtEnd(PartitionOrder)),
        CheckSpec::Processing { at_least_once, bound } => {
            Box::new(AtEnd(GroupProcessing::new(at_least_once, bound)))
        }
        CheckSpec::Objectives => return None,
    })
}

/// The checkers of one run. A fixed list built once, so dispatch allocates nothing.
#[derive(Default)]
pub struct Checks {
    list: Vec<Box<dyn Check>>,
    sessions: Sessions,
    /// Whether some checker reads session state.
    use_sessions: bool,
    /// The checkers that watch operations, and those that watch head moves, by index.
    watching_ops: Vec<usize>,
    watching_heads: Vec<usize>,
}

impl std::fmt::Debug for Checks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Checks({} checkers)", self.list.len())
    }
}

impl Checks {
    /// Reports the versions the session table and every checker hold (see
    /// `Check::versions_held`); false when some checker cannot say.
    pub fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        for row in &self.sessions.rows {
            [row.last_write, row.last_read, row.newest_read, row.earlier_read.0]
                .into_iter()
                .for_each(&mut *held);
        }
        self.sessions.reads.iter().flatten().for_each(|s| held(s.version));
        self.list.iter().all(|c| c.versions_held(held))
    }

    /// Has every checker decide what it keeps of versions whose fate just settled.
    pub fn settle(&mut self, settled: &Settled, writing: &Writing, dag: &mut VersionDag) {
        self.list.iter_mut().for_each(|c| c.on_settled(settled, writing, dag));
    }

    /// The checkers named by `specs`.
    pub fn new(specs: &[CheckSpec]) -> Checks {
        let mut checks = Checks::default();
        specs.iter().filter_map(|s| build(*s)).for_each(|c| checks.push(c));
        checks
    }

    /// Adds a checker of a library user's own.
    pub fn push(&mut self, check: Box<dyn Check>) {
        self.use_sessions |= check.uses_sessions();
        if check.sees_ops() {
            self.watching_ops.push(self.list.len());
        }
        if check.sees_heads() {
            self.watching_heads.push(self.list.len());
        }
        self.list.push(check);
    }

    pub(crate) fn on_op(&mut self, op: &OpRecord, dag: &mut VersionDag) {
        if self.list.is_empty() {
            return;
        }
        if !op.inv.purpose.one_key() {
            // A list of many keys is no read of the one it names: only checkers of
            // answers look at it.
            for c in self.list.iter_mut().filter(|c| c.sees_lists()) {
                c.on_op(op, &SessionState::NONE, dag);
            }
            return;
        }
        // A server's write on a client's behalf is no step of the client's session,
        // and neither is an attacker's read with its token.
        let sessions = self.use_sessions && op.inv.purpose.in_session();
        let session = if sessions { self.sessions.of(op, dag) } else { SessionState::NONE };
        let newest = session.includes_newest;
        for &i in &self.watching_ops {
            self.list[i].on_op(op, &session, dag);
        }
        if sessions {
            self.sessions.record(op, newest);
        }
    }

    pub(crate) fn on_head(&mut self, mv: &HeadMove, dag: &mut VersionDag) {
        for &i in &self.watching_heads {
            self.list[i].on_head(mv, dag);
        }
    }

    /// Tells every checker each key's organisation.
    pub fn set_key_orgs(&mut self, orgs: &[u32]) {
        for c in &mut self.list {
            c.set_key_orgs(orgs);
        }
    }

    pub(crate) fn on_revoke(&mut self, client: u32, at: SimTime, event: u64) {
        for c in &mut self.list {
            c.on_revoke(client, at, event);
        }
    }

    pub(crate) fn on_cache(&mut self, event: &CacheEvent, dag: &mut VersionDag) {
        for c in &mut self.list {
            c.on_cache(event, dag);
        }
    }

    pub(crate) fn on_subscriber(&mut self, consumer: u32) {
        self.list.iter_mut().for_each(|c| c.on_subscriber(consumer));
    }

    pub(crate) fn on_publishable(&mut self, version: VersionId, at: SimTime) {
        self.list.iter_mut().for_each(|c| c.on_publishable(version, at));
    }

    pub(crate) fn on_processed(&mut self, processed: &Processed) {
        self.list.iter_mut().for_each(|c| c.on_processed(processed));
    }

    pub(crate) fn on_session(&mut self, event: &SessionEvent) {
        for c in &mut self.list {
            c.on_session(event);
        }
    }

    pub(crate) fn on_arrivals(&mut self, arrivals: &[Arrival]) {
        for c in &mut self.list {
            for arrival in arrivals {
                c.on_arrival(arrival);
            }
        }
    }

    pub(crate) fn on_push(&mut self, push: &Push, dag: &mut VersionDag) {
        if self.use_sessions {
            self.sessions.record_push(push, dag);
        }
    }

    pub(crate) fn finish(
        &mut self,
        dag: &mut VersionDag,
        stores: &StoresEnd,
        names: &Names,
        arrivals: &EditArrivals,
        ended: SimTime,
        logs: &super::log_book::LogBook,
    ) -> Vec<CheckReport> {
        if self.list.is_empty() {
            return Vec::new();
        }
        let heads = stores.iter().flat_map(|s| s.primary.iter().copied());
        let live = dag.ancestors_of(heads);
        let mut end = End { dag, live: &live, stores, names, arrivals, ended, logs };
        self.list.iter_mut().map(|c| c.finish(&mut end)).collect()
    }
}

/// What a client's current session had observed before an operation: the bars the
/// session guarantees hold later operations to. A new session (a new tab) starts again
/// from nothing.
#[derive(Debug, Clone, Copy)]
pub struct SessionState<'a> {
    row: &'a SessionRow,
    reads: &'a [Sighting; 2],
    /// For a successful read, whether it includes the newest read before it (true
    /// when the session had read nothing).
    includes_newest: bool,
}

impl SessionState<'_> {
    /// What checkers get when none of them reads session state.
    const NONE: SessionState<'static> = SessionState {
        row: &SessionRow::EMPTY,
        reads: &[Sighting::NOTHING; 2],
        includes_newest: true,
    };

    /// The session's last acknowledged write (`ROOT`: none yet).
    pub fn last_write(&self) -> VersionId {
        self.row.last_write
    }

    /// Whether the session has read anything yet.
    pub fn has_read(&self) -> bool {
        self.row.has_read
    }

    /// The version the session's last successful read returned.
    pub fn last_read(&self) -> VersionId {
        self.row.last_read
    }

    /// The newest version the session has read: a read that includes the previous
    /// newest replaces it; one that does not (a monotonic-reads violation) leaves it.
    pub fn newest_read(&self) -> VersionId {
        self.row.newest_read
    }

    /// For a successful read: whether the version it returned includes the session's
    /// newest read before it (true when the session had read nothing).
    pub fn read_includes_newest(&self) -> bool {
        self.includes_newest
    }

    /// Where and when the last read happened (for a story).
    pub fn last_read_sighting(&self) -> Sighting {
        self.reads[LAST_READ]
    }

    /// Where and when the newest read happened (for a story).
    pub fn newest_read_sighting(&self) -> Sighting {
        self.reads[NEWEST_READ]
    }
}

/// One client's session, as every operation needs it: 28 bytes, so the table of
/// 100 000 clients stays small and an operation costs one cache line for all checkers.
#[derive(Debug, Clone, Copy)]
struct SessionRow {
    session: u32,
    last_write: VersionId,
    last_read: VersionId,
    newest_read: VersionId,
    has_read: bool,
    /// A read before the last one, and whether it includes the newest read.
    earlier_read: (VersionId, bool),
}

impl SessionRow {
    /// Whether `r` includes the newest read, from what the row knows of two earlier
    /// reads. The last read is the newest read when it included the one before, and
    /// else it did not include the newest (which it left in place).
    #[inline]
    fn includes_newest(&self, r: VersionId, dag: &mut VersionDag) -> bool {
        let last = (self.last_read, self.last_read == self.newest_read);
        dag.includes_after(r, self.newest_read, &[last, self.earlier_read])
    }

    /// Takes a read of `r` (or a push) into account; `newest`: it included the newest.
    #[inline]
    fn read(&mut self, r: VersionId, newest: bool) {
        // What the last read knew of the newest still holds while the newest stays;
        // a new newest is known only to include itself.
        self.earlier_read =
            if newest { (r, true) } else { (self.last_read, self.last_read == self.newest_read) };
        self.has_read = true;
        self.last_read = r;
        if newest {
            self.newest_read = r;
        }
    }

    const EMPTY: SessionRow = SessionRow {
        session: 0,
        last_write: VersionId::ROOT,
        last_read: VersionId::ROOT,
        newest_read: VersionId::ROOT,
        has_read: false,
        earlier_read: (VersionId::ROOT, true),
    };
}

const LAST_READ: usize = 0;
const NEWEST_READ: usize = 1;

/// The per-client session tables: the small rows, and beside them the sightings that
/// only stories need (written on each read, read only when a checker keeps a witness).
#[derive(Debug, Default)]
struct Sessions {
    rows: Vec<SessionRow>,
    reads: Vec<[Sighting; 2]>,
}

impl Sessions {
    /// The state of the session `op` belongs to, before `op`, with a successful read's
    /// answer to whether it includes the newest read (asked once, for every checker
    /// and for `record`).
    #[inline]
    fn of(&mut self, op: &OpRecord, dag: &mut VersionDag) -> SessionState<'_> {
        let i = op.client() as usize;
        if self.rows.len() <= i {
            self.rows.resize(i + 1, SessionRow::EMPTY);
            self.reads.resize(i + 1, [Sighting::NOTHING; 2]);
        }
        let row = &mut self.rows[i];
        if row.session != op.inv.session {
            *row = SessionRow { session: op.inv.session, ..SessionRow::EMPTY };
        }
        let read = op.outcome == Outcome::Ok && op.kind() == OpKind::Read;
        let includes_newest = !(read && row.has_read) || row.includes_newest(op.version, dag);
        SessionState { row: &self.rows[i], reads: &self.reads[i], includes_newest }
    }

    /// Takes `op` into account once every checker has seen it; `newest`: as `of` found.
    fn record(&mut self, op: &OpRecord, newest: bool) {
        if op.outcome != Outcome::Ok {
            return;
        }
        let i = op.client() as usize;
        let row = &mut self.rows[i];
        match op.kind() {
            OpKind::Write => row.last_write = op.version,
            OpKind::Read => {
                row.read(op.version, newest);
                self.reads[i][LAST_READ] = op.sighting();
                if newest {
                    self.reads[i][NEWEST_READ] = op.sighting();
                }
            }
            OpKind::Control | OpKind::Stream => {}
        }
    }
}

impl Sessions {
    /// A push is what the editor's page shows, as a read is: later reads of the
    /// session must not go back behind it. Pushes arrive only over the open connection
    /// of the editor's current session.
    fn record_push(&mut self, push: &Push, dag: &mut VersionDag) {
        let i = push.client as usize;
        let Some(row) = self.rows.get_mut(i) else { return };
        let sighting = Sighting {
            version: push.version,
            at: push.at,
            event: push.event,
            store: push.server,
            source: Sighting::SERVER,
            purpose: super::purpose::PUSH,
        };
        let newest = !row.has_read || row.includes_newest(push.version, dag);
        row.read(push.version, newest);
        self.reads[i][LAST_READ] = sighting;
        if newest {
            self.reads[i][NEWEST_READ] = sighting;
        }
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

#[cfg(test)]
mod tests {
    use super::super::versions::Version;
    use super::*;

    #[test]
    fn a_session_row_answers_as_a_full_ancestry_test_does() {
        let mut rng = crate::engine::Stream::new(9, "sessions");
        for round in 0..40 {
            let mut dag = VersionDag::default();
            let record = Version { key: 0, ..*dag.get(VersionId::ROOT) };
            let n = 2 + rng.below(60) as u32;
            for i in 1..n {
                // Mostly a step above a recent version, as a store's writes are.
                let back = 1 + rng.below(u64::from(i.min(4))) as u32;
                let a = VersionId(i - back);
                let b = VersionId(rng.below(u64::from(i)) as u32);
                match (rng.chance(0.1), round % 2) {
                    (false, _) => dag.create(record, &[a]),
                    (true, 0) => dag.create(record, &[a, b]),
                    (true, _) => dag.create_join(record, &[a, b]),
                };
            }
            let mut row = SessionRow::EMPTY;
            for _ in 0..200 {
                // Reads of recent versions, now and then an old one (a lagging replica).
                let recent = rng.chance(0.8);
                let low = if recent { n.saturating_sub(6) } else { 0 };
                let r = VersionId(low + rng.below(u64::from(n - low)) as u32);
                let newest = !row.has_read || {
                    let expected = dag.includes(r, row.newest_read);
                    assert_eq!(row.includes_newest(r, &mut dag), expected, "read {r} {row:?}");
                    expected
                };
                row.read(r, newest);
            }
        }
    }
}
