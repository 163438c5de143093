//! The history: every invocation and completion of a client operation, the version DAG,
//! and the checkers that watch them as they happen.
//!
//! An operation is *invoked* when a client sends it (it gets a slot in the invocation
//! table, which its request carries) and *completed* when the client learns the result
//! or gives up. A slot is reused once both the client is done with it and no copy of the
//! request is still travelling, so the table holds only operations in flight. Completed
//! operations go to the checkers and the streaming figures; with `keep_ops` the history
//! also keeps every completed record (for tests and small runs).

use std::collections::BTreeMap;

use super::checks::{Checks, HeadCause, HeadMove, Push, SessionEvent};
use super::client_figures::ClientFigures;
use super::fault_coverage::Reached;
use super::histogram::Histogram;
use super::propagation::{Arrival, EditArrivals};
use super::purpose::{Actor, Purpose, READ_ROW, Row, WRITE_ROW};
use super::verdict::CheckReport;
use super::versions::{Sighting, Version, VersionDag, VersionId};
use crate::engine::{NO_EVENT, SimTime};

/// Most acknowledged versions a stale read is counted behind (the walk stops there).
const VERSIONS_BEHIND_CAP: u64 = 1_000;

/// The kinds of operation in a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    /// A write of a new version.
    Write,
    /// A read of the current version.
    Read,
    /// A request that moves no data: a gate's prepare or finalize, a stream-status poll,
    /// a job handed to a queue.
    Control,
    /// A client receiving a streamed response: `Ok` with the response's version when
    /// the whole stream arrived, `Unknown` when it broke.
    Stream,
}

impl OpKind {
    /// The lower-case name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Write => "write",
            OpKind::Read => "read",
            OpKind::Control => "control",
            OpKind::Stream => "stream",
        }
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened and the client was told so.
    Ok,
    /// The store refused it (a version check failed); the reply names the current head.
    Rejected,
    /// The client gave up waiting: it may or may not have happened.
    Unknown,
    /// A gate refused it (a policy or a usage limit): nothing was done.
    Refused,
    /// Taken for later (`202 Accepted`): a job will do it.
    Accepted,
}

/// Slot of an operation in the invocation table; requests and replies carry it.
pub type OpId = u32;

/// An operation as its client sent it.
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    /// Client index.
    pub client: u32,
    /// The client's session (a new tab starts a new one).
    pub session: u32,
    /// What it does to the data.
    pub kind: OpKind,
    /// Why.
    pub purpose: Purpose,
    /// Key index.
    pub key: u32,
    /// The message a write carries; retries and resubmissions repeat it.
    pub message: u32,
    /// 1 for the first try, 2 for the first retry, ...
    pub attempt: u32,
    /// What the client had last observed of the key (a write's base, a read's token).
    pub seen: Sighting,
    /// The client's clock when it sent the operation (ns, may be negative).
    pub stamp: i64,
    /// When the client sent it.
    pub invoked: SimTime,
    /// The event that sent it.
    pub invoke_event: u64,
    /// The newest write of the key acknowledged to anyone when this was sent.
    pub newest: VersionId,
    /// When the access token the request carries was issued (`ZERO` without tokens).
    pub token: SimTime,
}

/// One completed operation.
#[derive(Debug, Clone, Copy)]
pub struct OpRecord {
    /// The invocation.
    pub inv: Invocation,
    /// Version written, read, or (rejected) the store's current head.
    pub version: VersionId,
    /// The store that served it.
    pub store: u32,
    /// Who served it: 0 the primary, `i + 1` replica `i`.
    pub source: u8,
    /// When the client learned the result.
    pub completed: SimTime,
    /// The event that completed it.
    pub complete_event: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// A read that missed the newest write acknowledged before it was sent.
    pub stale: bool,
}

impl Invocation {
    /// The versions it names: what its client had seen, and the newest acknowledged.
    pub fn versions(&self) -> [VersionId; 2] {
        [self.seen.version, self.newest]
    }
}

impl OpRecord {
    /// The versions it names: its invocation's and the one it wrote or read.
    pub fn versions(&self) -> [VersionId; 3] {
        let [seen, newest] = self.inv.versions();
        [seen, newest, self.version]
    }

    /// Client index.
    pub fn client(&self) -> u32 {
        self.inv.client
    }

    /// Write or read.
    pub fn kind(&self) -> OpKind {
        self.inv.kind
    }

    /// Key index.
    pub fn key(&self) -> u32 {
        self.inv.key
    }

    /// What this operation observed, as the client remembers it.
    pub fn sighting(&self) -> Sighting {
        Sighting {
            version: self.version,
            at: self.completed,
            event: self.complete_event,
            store: self.store,
            source: self.source,
            purpose: self.inv.purpose,
        }
    }
}

/// Streaming figures for one row of the operation table.
#[derive(Debug, Clone, Default)]
pub struct OpStats {
    /// Latency of operations that completed `Ok`.
    pub latency: Histogram,
    /// Operations that ended `Unknown` (timed out).
    pub unknown: u64,
    /// Operations the store refused.
    pub rejected: u64,
    /// Operations a gate refused.
    pub refused: u64,
    /// Operations that were retries (attempt 2 and later).
    pub retries: u64,
    /// Operations completed `Ok` that a primary served.
    pub from_primary: u64,
    /// Operations completed `Ok` that a server answered from what it held (a CDN's
    /// cache); the rest a replica served.
    pub from_cache: u64,
}

impl OpStats {
    /// Counts one completed operation.
    fn tally(&mut self, op: &OpRecord) {
        if op.inv.attempt > 1 {
            self.retries += 1;
        }
        match op.outcome {
            Outcome::Ok | Outcome::Accepted => {
                self.latency.record(op.completed.since(op.inv.invoked).as_nanos());
                self.from_primary += u64::from(op.source == 0);
                self.from_cache += u64::from(op.source == Sighting::SERVER);
            }
            Outcome::Rejected => self.rejected += 1,
            Outcome::Unknown => self.unknown += 1,
            Outcome::Refused => self.refused += 1,
        }
    }
}

/// Rows the history remembers the place of; a power of two above the rows a run has.
const ROW_CACHE: usize = 32;

/// A slot of the invocation table.
#[derive(Debug, Clone, Copy)]
struct Slot {
    inv: Invocation,
    /// When `inv.newest` was first acknowledged: the completion times the read from
    /// it without looking the version up.
    newest_acked: SimTime,
    client_done: bool,
    /// Copies of its request or reply travelling, or held by a server that will answer
    /// (a service holds the client's request while its calls carry copies).
    copies: u16,
    /// What its writes commit besides data: `PUBLISHED`, `OUTBOX` bits.
    events: u8,
}

/// A slot's `events` bit: its write is to be published.
const PUBLISHED: u8 = 1;
/// A slot's `events` bit: its write's event is committed with it, in the outbox.
const OUTBOX: u8 = 2;

/// The record of a run.
#[derive(Debug)]
pub struct History {
    /// What clients measured beyond single operations.
    pub figures: ClientFigures,
    /// The operation table, in report order: the rows it was given, then any row an
    /// operation brought later.
    rows: Vec<(&'static Row, OpStats)>,
    /// Recently counted rows: (address, index in `rows`).
    row_cache: [(usize, usize); ROW_CACHE],
    /// Per key: the newest acknowledged write, and when it was first acknowledged.
    newest: Vec<(VersionId, SimTime)>,
    stale_reads: u64,
    /// Reads by the time since their key's newest acknowledged write, fresh or not.
    visibility: super::visibility::Visibility,
    /// Of each stale read, the acknowledged versions it missed (k-staleness).
    versions_behind: Histogram,
    slots: Vec<Slot>,
    /// Per slot, the components its operation reached, for fault coverage: kept only
    /// when the run has faults, so a slot without them is 32 bytes smaller.
    reached: Vec<Reached>,
    free: Vec<OpId>,
    dag: VersionDag,
    checks: Checks,
    ops: Option<Vec<OpRecord>>,
    /// When each revoked client's access was revoked: the auth service's table.
    revoked: BTreeMap<u32, SimTime>,
    /// The run's replicated logs: messages, partitions' logs, truncations, processing.
    pub logs: super::log_book::LogBook,
    /// Which faults touched which operations.
    pub coverage: super::fault_coverage::FaultCoverage,
    /// Each store's outbox: the versions committed with an event, in commit order (for
    /// a captured store, every version it commits: its log).
    outboxes: BTreeMap<u32, Vec<VersionId>>,
    /// Stores whose every change is captured from their log and published.
    captured: Vec<u32>,
    /// What each editor's page shows, to time edits reaching it.
    arrivals: EditArrivals,
    /// Whether any client edits a live document: only then can a server push to a
    /// page, and only a page pushed to is timed, so without editors no page is kept.
    editors: bool,
    /// Arrivals not yet reported (reused).
    arrived: Vec<Arrival>,
    /// The first client of each population, when there are several.
    population_starts: Vec<u32>,
    /// Clients' operations per (population, row name), when there are several.
    population_rows: BTreeMap<(u32, &'static str), OpStats>,
    /// Clients' operations per interval of the run.
    pub timeline: super::timeline::Timeline,
}

impl History {
    /// An empty history over `key_count` keys, watched by `checks`; `keep_ops` also
    /// keeps every completed record.
    pub fn new(key_count: u32, checks: Checks, keep_ops: bool) -> History {
        History {
            figures: ClientFigures::default(),
            rows: vec![(&WRITE_ROW, OpStats::default()), (&READ_ROW, OpStats::default())],
            row_cache: [(0, 0); ROW_CACHE],
            newest: vec![(VersionId::ROOT, SimTime::ZERO); key_count as usize],
            stale_reads: 0,
            visibility: Default::default(),
            versions_behind: Histogram::default(),
            slots: Vec::new(),
            reached: Vec::new(),
            free: Vec::new(),
            dag: VersionDag::default(),
            checks,
            ops: keep_ops.then(Vec::new),
            revoked: BTreeMap::new(),
            logs: Default::default(),
            coverage: Default::default(),
            outboxes: BTreeMap::new(),
            captured: Vec::new(),
            arrivals: EditArrivals::default(),
            editors: true,
            arrived: Vec::new(),
            population_starts: Vec::new(),
            population_rows: BTreeMap::new(),
            timeline: Default::default(),
        }
    }

    /// Says whether any client edits a live document (opens a connection a server
    /// pushes over); without editors, no page is kept.
    pub fn with_editors(mut self, editors: bool) -> History {
        self.editors = editors;
        self
    }

    /// Also counts clients' operations per population, given the first client of each
    /// (nothing when there is one).
    pub fn with_populations(mut self, starts: Vec<u32>) -> History {
        self.population_starts = if starts.len() > 1 { starts } else { Vec::new() };
        self
    }

    /// Clients' operations per population (by index) and row name, when there are
    /// several populations.
    pub fn population_rows(&self) -> &BTreeMap<(u32, &'static str), OpStats> {
        &self.population_rows
    }

    /// The newest write of `key` acknowledged to any client so far.
    #[inline]
    pub fn newest_acked(&self, key: u32) -> VersionId {
        self.newest[key as usize].0
    }

    /// Reports every version the history and its checkers hold: each key's newest
    /// acknowledged write, the operations in flight, the outboxes, the editors' pages
    /// and what the checkers keep. False when some checker cannot say.
    pub fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.newest.iter().for_each(|&(v, _)| held(v));
        self.slots.iter().flat_map(|s| s.inv.versions()).for_each(&mut *held);
        self.outboxes.values().flatten().copied().for_each(&mut *held);
        self.arrivals.versions_held(held);
        self.ops.iter().flatten().flat_map(OpRecord::versions).for_each(&mut *held);
        self.checks.versions_held(held)
    }

    /// Forgets every version no one can ask about again, given `sources`: every version
    /// a component holds or a message carries. First the DAG settles what it can
    /// (`VersionDag::settle`) and the checkers decide those versions; then all but the
    /// open versions and those `sources`, the history or its checkers hold go. `None`
    /// when this history cannot forget: some checker cannot say what it holds, editors'
    /// pages are timed (their checker reads every version at the end), or every
    /// operation is kept for export (which reads every version). Otherwise the number
    /// of versions kept.
    pub fn collect(&mut self, sources: &[VersionId], now: SimTime) -> Option<usize> {
        if self.editors || self.ops.is_some() || !self.versions_held(&mut |_| {}) {
            return None;
        }
        self.dag.end_census();
        let settled = self.dag.settle(sources);
        let writing = self.writing(now);
        self.checks.settle(&settled, &writing, &mut self.dag);
        let mut held = sources.to_vec();
        self.versions_held(&mut |v| held.push(v));
        held.sort_unstable();
        held.dedup();
        self.dag.forget(&held);
        if cfg!(debug_assertions) {
            self.dag.take_census(held);
        }
        Some(self.dag.kept_ids().count())
    }

    /// The operations in flight: what they may still write, and since when.
    fn writing(&self, now: SimTime) -> super::checks::Writing {
        let busy = self.slots.iter().filter(|s| !(s.copies == 0 && s.client_done));
        let pairs = busy.clone().map(|s| (s.inv.client, s.inv.message)).collect();
        let since = busy.map(|s| s.inv.invoked).min().unwrap_or(now).min(now);
        super::checks::Writing::new(pairs, since)
    }

    /// Records an invocation (filling in the newest acknowledged write) and returns
    /// the slot its request carries.
    pub fn invoke(&mut self, mut inv: Invocation) -> OpId {
        let newest_acked;
        (inv.newest, newest_acked) = self.newest[inv.key as usize];
        if inv.purpose.info().by == Actor::Client {
            self.timeline.invoked(inv.invoked.as_nanos(), inv.attempt <= 1);
        }
        let slot = Slot { inv, newest_acked, client_done: false, copies: 1, events: 0 };
        let op = match self.free.pop() {
            Some(op) => {
                self.slots[op as usize] = slot;
                op
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as OpId
            }
        };
        if self.coverage.is_on() {
            *super::checks::slot(&mut self.reached, op) = Reached::default();
        }
        op
    }

    /// Operation `op` reached component `id` (its client invoking it, or a request of
    /// it delivered there): what a fault on that component could touch.
    #[inline]
    pub fn reached(&mut self, op: OpId, id: u32) {
        if self.coverage.is_on() {
            if let Some(reached) = self.reached.get_mut(op as usize) {
                reached.add(id);
            }
        }
    }

    /// The invocation in slot `op`.
    #[inline]
    pub fn invocation(&self, op: OpId) -> &Invocation {
        &self.slots[op as usize].inv
    }

    /// The invocation in slot `op`, to amend before it completes (tests).
    #[cfg(test)]
    pub(crate) fn invocation_mut(&mut self, op: OpId) -> &mut Invocation {
        &mut self.slots[op as usize].inv
    }

    /// Says no copy of `op`'s request or reply is travelling any more (it was lost,
    /// dropped, or its reply arrived).
    pub fn release_request(&mut self, op: OpId) {
        let slot = &mut self.slots[op as usize];
        assert!(slot.copies > 0, "request of op {op} released twice");
        slot.copies -= 1;
        if slot.copies == 0 && slot.client_done {
            self.free.push(op);
        }
    }

    /// One more copy of `op`'s request travels: a server holding it sends another (a
    /// service's call carries the client's operation while the service still holds it).
    /// Each copy is released on its own.
    pub fn copy_request(&mut self, op: OpId) {
        let slot = &mut self.slots[op as usize];
        assert!(slot.copies > 0, "a released request of op {op} cannot be copied");
        slot.copies = slot.copies.checked_add(1).expect("at most 65 535 copies of a request");
    }

    /// Creates a version written by operation `op` with `parents`.
    pub fn create_version(
        &mut self,
        op: OpId,
        store: u32,
        stamp: i64,
        parents: &[VersionId],
        at: SimTime,
        event: u64,
    ) -> VersionId {
        let inv = self.slots[op as usize].inv;
        let version = Version {
            key: inv.key,
            client: inv.client,
            message: inv.message,
            purpose: inv.purpose,
            store,
            stamp,
            created: at,
            created_event: event,
            seen: inv.seen,
            acked: SimTime::ZERO,
            acked_event: NO_EVENT,
        };
        let v = self.dag.create(version, parents);
        let mut events = self.slots[op as usize].events;
        if self.captured.contains(&store) {
            events |= OUTBOX | PUBLISHED;
        }
        if events & OUTBOX != 0 {
            self.outboxes.entry(store).or_default().push(v);
        }
        if events & PUBLISHED != 0 {
            self.checks.on_publishable(v, at);
        }
        v
    }

    /// A version a store made joining `parents` with no operation of its own (leaders
    /// merging concurrent writes): it names the key, client and message of `like`, and
    /// `purpose`, which no checker sees as anyone's message.
    #[allow(clippy::too_many_arguments)]
    pub fn create_join(
        &mut self,
        like: VersionId,
        purpose: Purpose,
        store: u32,
        stamp: i64,
        parents: &[VersionId],
        at: SimTime,
        event: u64,
    ) -> VersionId {
        let version = Version {
            purpose,
            store,
            stamp,
            created: at,
            created_event: event,
            acked: SimTime::ZERO,
            acked_event: NO_EVENT,
            ..*self.dag.get(like)
        };
        self.dag.create_join(version, parents)
    }

    /// Operation `op`'s write is to be published (`outbox`: its event is committed with
    /// it, in its store's outbox).
    pub fn publish_on_commit(&mut self, op: OpId, outbox: bool) {
        self.slots[op as usize].events = PUBLISHED | if outbox { OUTBOX } else { 0 };
    }

    /// Every change `store` commits from now on is captured from its log and published.
    pub fn capture(&mut self, store: u32) {
        if !self.captured.contains(&store) {
            self.captured.push(store);
        }
    }

    /// Operation `op`'s later writes are not to be published (its service moved past the
    /// call that was).
    pub fn stop_publishing(&mut self, op: OpId) {
        self.slots[op as usize].events = 0;
    }

    /// Store `store`'s outbox: the versions committed with an event, in commit order.
    pub fn outbox(&self, store: u32) -> &[VersionId] {
        self.outboxes.get(&store).map_or(&[], Vec::as_slice)
    }

    /// A consumer subscribed to a topic.
    pub fn subscribe(&mut self, consumer: u32) {
        self.checks.on_subscriber(consumer);
    }

    /// A store committed `version`, which is to be published (tests).
    #[cfg(test)]
    pub(crate) fn publishable(&mut self, version: VersionId, at: SimTime) {
        self.checks.on_publishable(version, at);
    }

    /// A consumer processed an event.
    pub fn processed(&mut self, p: super::delivery::Processed) {
        self.checks.on_processed(&p);
    }

    /// Tells the checkers that an application cache's entry changed.
    pub fn cache_changed(&mut self, event: super::cache_coherence::CacheEvent) {
        self.checks.on_cache(&event, &mut self.dag);
    }

    /// Tells the checkers that a store moved a key's head (or refused to).
    pub fn head_moved(&mut self, mv: HeadMove) {
        if matches!(mv.cause, HeadCause::Crash { .. } | HeadCause::Failover { .. })
            && mv.from != mv.to
        {
            self.coverage.rolled_back(mv.at);
        }
        self.checks.on_head(&mv, &mut self.dag);
    }

    /// Completes operation `op`: the client is done with it. `reply_arrived` says the
    /// request is done too (its reply was delivered).
    #[allow(clippy::too_many_arguments)]
    pub fn complete(
        &mut self,
        op: OpId,
        outcome: Outcome,
        version: VersionId,
        (store, source): (u32, u8),
        at: SimTime,
        event: u64,
        reply_arrived: bool,
    ) -> OpRecord {
        let slot = &mut self.slots[op as usize];
        assert!(!slot.client_done, "op {op} completed twice");
        slot.client_done = true;
        let (inv, newest_acked) = (slot.inv, slot.newest_acked);
        let reached = self.reached.get(op as usize).copied().unwrap_or_default();
        if reply_arrived {
            self.release_request(op);
        } else if slot.copies == 0 {
            self.free.push(op);
        }
        assert!(at >= inv.invoked, "operation completed before it began");
        let judged = outcome == Outcome::Ok
            && inv.kind == OpKind::Read
            && inv.purpose.checked()
            && inv.purpose.one_key();
        let stale = judged && !self.dag.includes(version, inv.newest);
        if stale {
            let behind = self.dag.acked_behind(version, inv.newest, VERSIONS_BEHIND_CAP);
            self.versions_behind.record(behind);
        }
        if judged && inv.newest != VersionId::ROOT {
            let since = inv.invoked.since(newest_acked).as_nanos();
            self.visibility.record(since, !stale);
        }
        let record = OpRecord {
            inv,
            version,
            store,
            source,
            completed: at,
            complete_event: event,
            outcome,
            stale,
        };
        if inv.purpose.info().by == Actor::Client {
            self.timeline.ended(&record, inv.purpose.row().name, reply_arrived);
        }
        self.record(&record, &reached);
        record
    }

    /// Adds `rows` to the operation table, in this order, after those it has.
    pub fn with_rows(mut self, rows: &[&'static Row]) -> History {
        for &row in rows {
            self.row_stats(row);
        }
        self
    }

    fn row_stats(&mut self, row: &'static Row) -> &mut OpStats {
        // A row is known by its address; a small cache on the address spares every
        // operation a scan of the table. Which slot an address takes changes only the
        // speed, never a figure.
        let addr = row as *const Row as usize;
        let slot = (addr >> 3) % ROW_CACHE;
        let (cached, i) = self.row_cache[slot];
        if cached == addr {
            return &mut self.rows[i].1;
        }
        let i = match self.rows.iter().position(|(r, _)| r.is(row)) {
            Some(i) => i,
            None => {
                self.rows.push((row, OpStats::default()));
                self.rows.len() - 1
            }
        };
        self.row_cache[slot] = (addr, i);
        &mut self.rows[i].1
    }

    fn record(&mut self, op: &OpRecord, reached: &Reached) {
        self.row_stats(op.inv.purpose.row()).tally(op);
        if !self.population_starts.is_empty() && op.inv.purpose.info().by == Actor::Client {
            let p = self.population_starts.partition_point(|&s| s <= op.inv.client);
            let key = (p.saturating_sub(1) as u32, op.inv.purpose.row().name);
            self.population_rows.entry(key).or_default().tally(op);
        }
        if op.outcome == Outcome::Ok && op.inv.kind == OpKind::Write {
            self.dag.acknowledge(op.version, op.completed, op.complete_event);
            // The first acknowledgement counts, as the version records it.
            self.newest[op.inv.key as usize] = (op.version, self.dag.get(op.version).acked);
        }
        self.stale_reads += u64::from(op.stale);
        self.coverage.observe(op, reached);
        if self.editors {
            self.arrivals.observe(op, &mut self.dag, &mut self.arrived);
            self.report_arrivals();
        }
        if op.inv.purpose.checked() {
            self.checks.on_op(op, &mut self.dag);
        }
        if let Some(ops) = &mut self.ops {
            ops.push(*op);
        }
    }

    /// A server pushed `push.version` to an editor that had not seen it: each other
    /// editor's edit it shows for the first time has arrived.
    pub fn pushed(&mut self, push: Push) {
        let mut arrivals = std::mem::take(&mut self.arrived);
        self.arrivals.push(&push, &mut self.dag, &mut arrivals);
        self.arrived = arrivals;
        self.report_arrivals();
        self.checks.on_push(&push, &mut self.dag);
    }

    /// Edits that reached a page: into the propagation figures and the checkers.
    fn report_arrivals(&mut self) {
        if self.arrived.is_empty() {
            return;
        }
        for a in &self.arrived {
            self.figures.propagation.record(a.delay);
        }
        self.checks.on_arrivals(&self.arrived);
        self.arrived.clear();
    }

    /// Client `client`'s access is revoked at `at`: tokens it holds are no longer
    /// renewed (those already issued stay valid until they expire).
    pub fn revoke(&mut self, client: u32, at: SimTime, event: u64) {
        if let std::collections::btree_map::Entry::Vacant(e) = self.revoked.entry(client) {
            e.insert(at);
            self.checks.on_revoke(client, at, event);
        }
    }

    /// When `client`'s access was revoked, if it was.
    pub fn revoked_at(&self, client: u32) -> Option<SimTime> {
        self.revoked.get(&client).copied()
    }

    /// An app server decided what became of an editor's login session.
    pub fn session(&mut self, event: SessionEvent) {
        self.checks.on_session(&event);
    }

    /// The operation table's rows and their figures, in report order.
    pub fn rows(&self) -> impl Iterator<Item = (&'static Row, &OpStats)> {
        self.rows.iter().map(|(row, stats)| (*row, stats))
    }

    /// Figures for the row named `name`, if the table has it.
    pub fn stats(&self, name: &str) -> Option<&OpStats> {
        self.rows.iter().find(|(row, _)| row.name == name).map(|(_, stats)| stats)
    }

    /// Reads by the time since their key's newest acknowledged write was acknowledged,
    /// and how many of them returned it.
    pub fn visibility(&self) -> &super::visibility::Visibility {
        &self.visibility
    }

    /// k-staleness: of each stale read, how many acknowledged versions of its key it
    /// missed (counted back along first parents from the newest, up to 1 000).
    pub fn versions_behind(&self) -> &Histogram {
        &self.versions_behind
    }

    /// Reads that missed the newest write acknowledged before they were sent.
    pub fn stale_reads(&self) -> u64 {
        self.stale_reads
    }

    /// Every completed operation, in completion order, if the history keeps them.
    pub fn ops(&self) -> Option<&[OpRecord]> {
        self.ops.as_deref()
    }

    /// The version DAG.
    pub fn dag(&self) -> &VersionDag {
        &self.dag
    }

    /// The version DAG, for walks (they reuse scratch space).
    pub fn dag_mut(&mut self) -> &mut VersionDag {
        &mut self.dag
    }

    /// Operations still in flight (slots in use).
    pub fn in_flight(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Runs the end-of-run checks over the stores' final state, the run having ended
    /// at `ended`.
    pub fn finish(
        &mut self,
        end: &super::checks::StoresEnd,
        names: &super::verdict::Names,
        ended: SimTime,
    ) -> Vec<CheckReport> {
        self.checks.finish(&mut self.dag, end, names, &self.arrivals, ended, &self.logs)
    }
}
