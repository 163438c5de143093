//! The version DAG: every version of every key a store created, with edges to its
//! parents. One table holds all keys; each key's versions form their own DAG.
//!
//! Version ids are creation order, and a version is always created after its parents,
//! so ids are a topological order. Two walks use that: `includes` (is `w` an ancestor of
//! `r`?) and `displaced` (what stopped being an ancestor when a head moved). Both pop the
//! largest id first and never look below the id they are looking for, so the common
//! cases (a read of the head, a write on top of the head) cost a step or two, and
//! `includes` jumps along single-parent chains with the skip pointers of `ancestry.rs`.

use std::collections::BinaryHeap;

use super::ancestry::Ancestry;
use super::purpose::{self, Purpose};
use super::window::{Window, permute};
use crate::engine::{NO_EVENT, SimTime};

/// A version of a key. `ROOT` is "nothing written yet", shared by every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VersionId(pub u32);

impl VersionId {
    /// The empty value every key starts from; an ancestor of every version.
    pub const ROOT: VersionId = VersionId(0);

    /// What a holder reports for `self` held as a value of key `key`: the version, or,
    /// for the root, the key's empty value. A new first version of the key can come
    /// from an empty value, so a source holding one keeps every version of the key open.
    pub fn of_key(self, key: u32) -> VersionId {
        if self == VersionId::ROOT { VersionId(EMPTY_OF | key) } else { self }
    }

    /// The id as a vector index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The bit of a reported id that says it stands for the empty value of the key in the
/// other bits (see `VersionId::of_key`).
const EMPTY_OF: u32 = 1 << 31;

impl std::fmt::Display for VersionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == VersionId::ROOT { write!(f, "∅") } else { write!(f, "v{}", self.0) }
    }
}

/// Where a client observed the version it based a write on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    /// The version observed.
    pub version: VersionId,
    /// When the observing operation completed.
    pub at: SimTime,
    /// Its completion event (`NO_EVENT`: never observed anything).
    pub event: u64,
    /// The store that served it, or the app server that pushed it.
    pub store: u32,
    /// Who in the store served it: 0 the primary, `i + 1` replica `i`;
    /// `Sighting::SERVER` for a server's push or cached answer.
    pub source: u8,
    /// The operation that observed it: a read or refresh, the client's own write, or a
    /// push.
    pub purpose: Purpose,
}

impl Default for Sighting {
    fn default() -> Self {
        Sighting::NOTHING
    }
}

impl Sighting {
    /// The `source` of a version a server handed out from what it held, not a store
    /// node: a push, a CDN's cached answer.
    pub const SERVER: u8 = u8::MAX;

    /// A client that has observed nothing yet.
    pub const NOTHING: Sighting = Sighting {
        version: VersionId::ROOT,
        at: SimTime::ZERO,
        event: NO_EVENT,
        store: u32::MAX,
        source: 0,
        purpose: purpose::WRITE,
    };

    /// Whether the client saw the version by reading (not through its own write).
    pub fn by_read(&self) -> bool {
        self.event != NO_EVENT && self.purpose.info().shows_data
    }
}

/// What is known about one version.
#[derive(Debug, Clone, Copy)]
pub struct Version {
    /// The key.
    pub key: u32,
    /// The client that wrote it.
    pub client: u32,
    /// The writer's message number: retries and resubmissions of one message share it.
    pub message: u32,
    /// What wrote it: a client's message, or a server's response or title to one.
    pub purpose: Purpose,
    /// The store component that created it.
    pub store: u32,
    /// Timestamp on the clock the conflict policy compares (ns, may be negative).
    pub stamp: i64,
    /// When the store created it.
    pub created: SimTime,
    /// The event that created it.
    pub created_event: u64,
    /// What the writer had last observed.
    pub seen: Sighting,
    /// When the writer learned it was acknowledged (`acked_event == NO_EVENT`: never).
    pub acked: SimTime,
    /// The event that delivered the acknowledgement.
    pub acked_event: u64,
}

impl Version {
    /// Whether a client was told this version was written.
    pub fn is_acked(&self) -> bool {
        self.acked_event != NO_EVENT
    }
}

/// Versions of every key and their parent edges (child → parent).
///
/// Per-version data sits in columns by slot, which `window` maps ids to: once a run
/// forgets versions no one can ask about (`settle`, `forget`), only the kept ones have
/// slots. A walk that reaches a forgotten version has reached one every holder's
/// versions descend from (see `forget`), and stops there.
#[derive(Debug, Clone)]
pub struct VersionDag {
    /// The id the next version gets.
    next: u32,
    window: Window,
    /// The version records, apart from the parent table so a step down a chain
    /// touches four bytes, not a record.
    records: Vec<Version>,
    /// Per version: its first parent (the root for a first write), with `MERGED` set
    /// when it has a second one and `ACKED` once its writer was told it is written.
    links: Vec<u32>,
    /// The second parent of each merge, as `(merge, parent)` in id order: merges are
    /// rare, so a version costs four bytes of parents, not a graph node and an edge.
    second_parents: Vec<(u32, u32)>,
    /// Versions that only join their parents (made by a store, with no write of their
    /// own), in id order: a reader sees one when it sees both its parents.
    joins: Vec<u32>,
    /// Skip pointers over the single-parent chains, for `includes`.
    ancestry: Ancestry,
    walk: Walk,
    /// The last census of held versions, while one is being audited.
    census: Option<Census>,
    /// Per slot: `OPEN`, `SAFE` or `LOST`, as the last `settle` found it.
    fate: Vec<u8>,
    /// Versions below this id were looked at by the last `settle`; newer ones are open.
    settled_below: u32,
    /// Acknowledged versions, forgotten or not.
    acked: u64,
}

/// What every holder reported at a census (`World` takes them in debug builds): the
/// versions held, sorted, and how many versions existed. A version asked about later
/// must be one of them or newer; anything else is a holder that did not report it,
/// and a run that forgot unreported versions would have answered wrongly.
#[derive(Debug, Clone, Default)]
struct Census {
    held: Vec<u32>,
    len: u32,
}

/// Steps `includes` walks down a chain before it jumps with skip pointers.
const CHAIN_STEPS: u32 = 8;

/// The bit of a `links` entry that says the version has more than one parent.
const MERGED: u32 = 1 << 31;
/// The bit of a `links` entry that says the version was acknowledged.
const ACKED: u32 = 1 << 30;
/// The bits of a `links` entry that hold the first parent.
const PARENT: u32 = ACKED - 1;

/// A version's fate, as `settle` found it: some holder's versions descend from it and
/// some do not (or `settle` has not looked at it yet).
const OPEN: u8 = 0;
/// Every held version of its key descends from it: it is in the key's final value.
const SAFE: u8 = 1;
/// No held version descends from it, and so no later one will.
const LOST: u8 = 2;

/// Versions `settle` found settled for the first time: each one's fate is final.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Every held version of its key descends from these.
    pub safe: Vec<VersionId>,
    /// No held version descends from these.
    pub lost: Vec<VersionId>,
}

/// Scratch space of the walks, reused so a walk allocates nothing once warm.
#[derive(Debug, Clone, Default)]
struct Walk {
    heap: BinaryHeap<(u32, u8)>,
    /// Per version: the walk generation that last marked it, times 4, plus side bits.
    marks: Vec<u32>,
    generation: u32,
}

const SIDE_FROM: u32 = 1;
const SIDE_TO: u32 = 2;

impl Walk {
    /// Starts a new walk over `len` slots.
    fn begin(&mut self, len: usize) {
        self.heap.clear();
        self.marks.resize(len, 0);
        self.generation += 1;
        if self.generation >= u32::MAX / 4 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
    }

    /// Marks the version in `slot` with `side`; false if it already had that mark in
    /// this walk.
    fn mark(&mut self, slot: usize, side: u32) -> bool {
        let m = &mut self.marks[slot];
        if *m >> 2 != self.generation {
            *m = self.generation << 2;
        }
        let fresh = *m & side == 0;
        *m |= side;
        fresh
    }

    fn has(&self, slot: usize, side: u32) -> bool {
        let m = self.marks[slot];
        m >> 2 == self.generation && m & side != 0
    }
}

impl Default for VersionDag {
    fn default() -> Self {
        let root = Version {
            key: u32::MAX,
            client: u32::MAX,
            message: 0,
            purpose: purpose::WRITE,
            store: u32::MAX,
            stamp: i64::MIN,
            created: SimTime::ZERO,
            created_event: NO_EVENT,
            seen: Sighting::NOTHING,
            acked: SimTime::ZERO,
            acked_event: NO_EVENT,
        };
        VersionDag {
            next: 1,
            window: Window::default(),
            records: vec![root],
            links: vec![0],
            second_parents: Vec::new(),
            joins: Vec::new(),
            ancestry: Ancestry::default(),
            walk: Walk::default(),
            census: None,
            fate: vec![SAFE],
            settled_below: 0,
            acked: 0,
        }
    }
}

impl VersionDag {
    /// Number of versions, the root included.
    pub fn len(&self) -> usize {
        self.next as usize
    }

    /// The slot of `v`'s data, which the caller knows is kept.
    #[inline]
    fn at(&self, v: VersionId) -> usize {
        self.window.kept(v.0)
    }

    /// Whether `v`'s data is kept (a forgotten version is one every holder's versions
    /// descend from, or one none does).
    #[inline]
    pub fn is_kept(&self, v: VersionId) -> bool {
        self.window.slot(v.0).is_some()
    }

    /// Whether only the root exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 1
    }

    /// From now on, until the next census or `end_census`, every version asked about
    /// must be in `held` or newer than every version that exists now (panics if not).
    pub fn take_census(&mut self, held: impl IntoIterator<Item = VersionId>) {
        let mut held: Vec<u32> = held.into_iter().map(|v| v.0).collect();
        held.sort_unstable();
        held.dedup();
        self.census = Some(Census { held, len: self.len() as u32 });
    }

    /// Stops auditing: the run is over, and the end-of-run checks read everything.
    pub fn end_census(&mut self) {
        self.census = None;
    }

    /// Decides the fate of every version still open, from `sources`: every version a
    /// component holds or a message carries (what later versions and reads can come
    /// from). A version every source of its key descends from is safe; one no source
    /// descends from is lost; both are final, because every later source descends from
    /// a source of now. Returns the versions settled for the first time.
    pub fn settle(&mut self, sources: &[VersionId]) -> Settled {
        // Sources by key: a version is safe when every one of its key's reaches it.
        let key_of = |v: VersionId| match v.0 & EMPTY_OF {
            0 => self.records[self.at(v)].key,
            _ => v.0 & !EMPTY_OF,
        };
        let mut by_key: Vec<(u32, VersionId)> =
            sources.iter().filter(|&&v| v != VersionId::ROOT).map(|&v| (key_of(v), v)).collect();
        by_key.sort_unstable();
        by_key.dedup();
        let slots = self.records.len();
        let (mut reached, mut last_walk) = (vec![0u32; slots], vec![u32::MAX; slots]);
        let mut stack = Vec::new();
        for (walk, &(_, source)) in by_key.iter().enumerate() {
            stack.push(source);
            while let Some(v) = stack.pop() {
                // An empty value reaches nothing; a forgotten version, nothing open.
                let Some(slot) = self.slot_of(v) else { continue };
                if self.fate[slot] != OPEN || last_walk[slot] == walk as u32 {
                    continue; // Settled before: so is everything below it.
                }
                last_walk[slot] = walk as u32;
                reached[slot] += 1;
                stack.extend(self.parents_of(v));
            }
        }
        let sources_of = |key: u32| {
            let first = by_key.partition_point(|&(k, _)| k < key);
            by_key[first..].iter().take_while(|&&(k, _)| k == key).count() as u32
        };
        // With two parents about, safe versions need not form a chain (`above_safe`);
        // a root of no key said is an empty value any key may be built on.
        let chains = self.second_parents.is_empty()
            && self.joins.is_empty()
            && !sources.contains(&VersionId::ROOT);
        let mut settled = Settled::default();
        let ids: Vec<VersionId> = self.kept_ids().collect();
        for (slot, v) in ids.into_iter().enumerate() {
            if self.fate[slot] != OPEN {
                continue;
            }
            let fate = match reached[slot] {
                0 => LOST,
                n if chains && n == sources_of(self.records[slot].key) => SAFE,
                _ => OPEN,
            };
            self.fate[slot] = fate;
            match fate {
                SAFE => settled.safe.push(v),
                LOST => settled.lost.push(v),
                _ => {}
            }
        }
        self.settled_below = self.next;
        settled
    }

    /// Whether `settle` has decided `v`'s fate (safe or lost).
    pub fn is_settled(&self, v: VersionId) -> bool {
        self.window.slot(v.0).is_none_or(|slot| self.fate[slot] != OPEN)
    }

    /// The record of `v` as settling reads it: not a question a holder asks, so not
    /// audited (`v` is kept until `forget`).
    pub fn record(&self, v: VersionId) -> &Version {
        &self.records[self.at(v)]
    }

    /// Whether `settle` found `v` safe (every held version of its key descends from it).
    pub fn is_settled_safe(&self, v: VersionId) -> bool {
        self.window.slot(v.0).is_none_or(|slot| self.fate[slot] == SAFE)
    }

    /// Forgets every version no one can ask about again, after a `settle`: all but the
    /// open ones, the `held` ones (sources, and what checkers test against or cite),
    /// and the lost versions below a held lost one (a walk from it passes them). So a
    /// walk from a kept version reaches only kept or settled-safe versions, and treats
    /// a forgotten one as below everything it looks for. Returns how many it forgot.
    pub fn forget(&mut self, held: &[VersionId]) -> usize {
        let mut keep = vec![false; self.records.len()];
        keep[0] = true;
        for (slot, k) in keep.iter_mut().enumerate() {
            *k |= self.fate[slot] == OPEN;
        }
        let mut lost_held = Vec::new();
        for slot in held.iter().filter_map(|&v| self.slot_of(v)) {
            keep[slot] = true;
            if self.fate[slot] == LOST {
                lost_held.push(slot);
            }
        }
        // Below a held lost version, the lost ones its walks pass.
        let ids: Vec<u32> = self.kept_ids().map(|v| v.0).collect();
        let mut walked = vec![false; keep.len()];
        while let Some(slot) = lost_held.pop() {
            if std::mem::replace(&mut walked[slot], true) {
                continue;
            }
            keep[slot] = true;
            for p in self.parents_of(VersionId(ids[slot])) {
                let parent = self.window.slot(p.0).filter(|&ps| self.fate[ps] == LOST);
                lost_held.extend(parent);
            }
        }
        let kept: Vec<u32> = ids.iter().zip(&keep).filter(|(_, k)| **k).map(|(&v, _)| v).collect();
        let forgotten = ids.len() - kept.len();
        let record = std::mem::size_of::<Version>() as u64;
        // A dense slot costs its columns; a side one those and a search entry.
        let (dense, side) = (record + 22, record + 26);
        let (window, order) = self.window.relaid(&kept, self.next, dense, side);
        permute(&mut self.records, &order);
        permute(&mut self.links, &order);
        permute(&mut self.fate, &order);
        self.ancestry.permute(&order);
        self.window = window;
        self.second_parents.retain(|&(m, _)| self.window.slot(m).is_some());
        self.joins.retain(|&j| self.window.slot(j).is_some());
        self.walk = Walk::default();
        forgotten
    }

    /// Whether `settle` found `v` lost.
    #[inline]
    fn is_lost(&self, v: VersionId) -> bool {
        v.0 < self.settled_below
            && self.window.slot(v.0).is_some_and(|slot| self.fate[slot] == LOST)
    }

    /// Whether `r` descends from `w`, settled safe in `r`'s key. Safe versions are
    /// settled only while no version has two parents, so a key's safe versions form
    /// one chain, below every version that is not lost: `r` sees `w` unless `r` is lost
    /// and branched off that chain below `w`. A lost version keeps its lost ancestors
    /// (`forget`), so the way down to the branch point is kept.
    fn above_safe(&self, r: VersionId, w: VersionId) -> bool {
        let mut v = r;
        loop {
            match self.window.slot(v.0).map(|slot| self.fate[slot]) {
                Some(OPEN) => return true,
                Some(LOST) => match self.single_parent(v) {
                    Some(p) if p != VersionId::ROOT => v = p,
                    _ => return false,
                },
                // Settled safe, or forgotten below what is held: on the safe chain.
                _ => return w <= v,
            }
        }
    }

    /// Whether `r` and `w` are versions of one key (the root is of none).
    #[inline]
    fn same_key(&self, r: VersionId, w: VersionId) -> bool {
        self.records[self.at(r)].key == self.records[self.at(w)].key
    }

    /// Panics if `v` is asked about but was not reported held at the last census
    /// (debug builds only: a release run never takes one, and pays no branch for it).
    #[inline]
    fn audit(&self, v: VersionId) {
        if !cfg!(debug_assertions) {
            return;
        }
        if let Some(c) = &self.census {
            let held = v.0 >= c.len || v == VersionId::ROOT || c.held.binary_search(&v.0).is_ok();
            assert!(held, "{v} was asked about, but no holder reported it at the last census");
        }
    }

    /// Adds a version with `parents` (the root is implied and not stored as an edge).
    pub fn create(&mut self, version: Version, parents: &[VersionId]) -> VersionId {
        assert!(self.len() < PARENT as usize, "more than a billion versions");
        let next = self.next;
        self.next += 1;
        let mut kept = [VersionId::ROOT; 2];
        let mut count = 0;
        for &p in parents {
            assert!(p.0 < next, "a parent must exist before its child");
            self.audit(p);
            if p != VersionId::ROOT && !kept[..count].contains(&p) {
                assert!(count < 2, "a version has at most two parents");
                kept[count] = p;
                count += 1;
            }
        }
        self.links.push(kept[0].0 | if count > 1 { MERGED } else { 0 });
        self.fate.push(OPEN);
        self.ancestry.push((count < 2).then_some(kept[0]), &self.window);
        self.records.push(version);
        if count > 1 {
            self.second_parents.push((next, kept[1].0));
        }
        VersionId(next)
    }

    /// Adds a version that only joins `parents` (no write of its own): whoever sees
    /// both parents sees it, whichever way they came to.
    pub fn create_join(&mut self, version: Version, parents: &[VersionId]) -> VersionId {
        let v = self.create(version, parents);
        self.joins.push(v.0);
        v
    }

    /// Whether `v` only joins its parents.
    #[inline]
    fn is_join(&self, v: VersionId) -> bool {
        !self.joins.is_empty() && self.joins.binary_search(&v.0).is_ok()
    }

    /// The parent of `v` from the dense table (the root for a first write), or `None`
    /// when `v` is a merge and the caller must look at the graph.
    #[inline]
    fn single_parent(&self, v: VersionId) -> Option<VersionId> {
        let link = self.links[self.at(v)];
        (link & MERGED == 0).then_some(VersionId(link & PARENT))
    }

    /// Whether `p` is a parent of `v`.
    pub fn has_parent(&self, v: VersionId, p: VersionId) -> bool {
        self.audit(v);
        self.audit(p);
        match self.single_parent(v) {
            Some(parent) => parent == p,
            None => self.parents_of(v).any(|x| x == p),
        }
    }

    /// The version record.
    #[inline]
    pub fn get(&self, v: VersionId) -> &Version {
        self.audit(v);
        &self.records[self.at(v)]
    }

    /// Records that `v` was acknowledged to its writer (the first acknowledgement counts).
    pub fn acknowledge(&mut self, v: VersionId, at: SimTime, event: u64) {
        self.audit(v);
        let slot = self.at(v);
        let version = &mut self.records[slot];
        if version.acked_event == NO_EVENT {
            version.acked = at;
            version.acked_event = event;
            self.links[slot] |= ACKED;
            self.acked += 1;
        }
    }

    /// Whether the writer of `v` was told it is written (reads the dense table only).
    #[inline]
    pub fn is_acked(&self, v: VersionId) -> bool {
        self.audit(v);
        self.acked_bit(v)
    }

    #[inline]
    fn acked_bit(&self, v: VersionId) -> bool {
        self.links[self.at(v)] & ACKED != 0
    }

    /// How many versions were acknowledged, forgotten ones included.
    pub fn acked_count(&self) -> u64 {
        self.acked
    }

    /// k-staleness: how many acknowledged versions on `w`'s line of first parents, from
    /// `w` back, a reader of `r` does not see (at most `cap`; 0 when `r` includes `w`).
    pub fn acked_behind(&mut self, r: VersionId, w: VersionId, cap: u64) -> u64 {
        self.audit(r);
        self.audit(w);
        let (mut behind, mut x) = (0, w);
        while behind < cap && x != VersionId::ROOT && self.is_kept(x) && !self.reaches(r, x) {
            behind += u64::from(self.acked_bit(x));
            x = match self.single_parent(x) {
                Some(parent) => parent,
                None => self.parents_of(x).next().unwrap_or(VersionId::ROOT),
            };
        }
        behind
    }

    /// The parents of `v` (none for a first write on top of the root): a merge's
    /// second parent first, as stories have always listed them.
    pub fn parents(&self, v: VersionId) -> impl Iterator<Item = VersionId> + use<> {
        self.audit(v);
        self.parents_of(v)
    }

    /// `parents`, for walks that reached `v` from a version asked about.
    fn parents_of(&self, v: VersionId) -> impl Iterator<Item = VersionId> + use<> {
        let (parents, count) = self.parent_pair(v);
        parents.into_iter().take(count)
    }

    /// The parents of `v` and how many there are (second parent first).
    #[inline]
    fn parent_pair(&self, v: VersionId) -> ([VersionId; 2], usize) {
        let link = self.links[self.at(v)];
        let first = VersionId(link & PARENT);
        if link & MERGED != 0 {
            let i = self.second_parents.partition_point(|&(m, _)| m < v.0);
            ([VersionId(self.second_parents[i].1), first], 2)
        } else {
            ([first, first], usize::from(first != VersionId::ROOT))
        }
    }

    /// Whether `w` is `r` or one of its ancestors: does a reader of `r` see `w`?
    pub fn includes(&mut self, r: VersionId, w: VersionId) -> bool {
        self.audit(r);
        self.audit(w);
        self.reaches(r, w)
    }

    /// `includes`, for walks that reached `w` from a version asked about.
    fn reaches(&mut self, r: VersionId, w: VersionId) -> bool {
        if w == r || w == VersionId::ROOT {
            return true;
        }
        if self.is_join(w) {
            // A join holds nothing but its parents: seeing them is seeing it.
            let mut parents = [VersionId::ROOT; 2];
            for (slot, p) in parents.iter_mut().zip(self.parents_of(w)) {
                *slot = p;
            }
            return parents.into_iter().all(|p| self.reaches(r, p));
        }
        if r < w {
            return false; // Ancestors are always older.
        }
        if w.0 < self.settled_below {
            match self.window.slot(w.0).map(|slot| self.fate[slot]) {
                // Reached by a walk and forgotten: everything held descends from it.
                None => return true,
                Some(SAFE) => return self.same_key(r, w) && self.above_safe(r, w),
                // Nothing lost is below a version that is not: the way down from a lost
                // one is kept (`forget`).
                Some(LOST) if !self.is_lost(r) => return false,
                Some(_) => {}
            }
        }
        // Most checks are against a version a step or two below `r`: walk those.
        let mut v = r;
        for _ in 0..CHAIN_STEPS {
            if v <= w {
                return v == w;
            }
            if !self.is_kept(v) {
                return false; // Forgotten: `w`, still open, is not below it.
            }
            match self.single_parent(v) {
                Some(p) => v = p,
                None => break,
            }
        }
        if let Some(found) = self.ancestry.within_segment(r, w, &self.window) {
            return found;
        }
        if !self.same_key(r, w) {
            return false; // Each key's versions form their own DAG: no walk needed.
        }
        // Below a merge: walk the merges, largest id first, jumping each segment.
        self.walk.begin(self.records.len());
        self.walk.heap.push((self.ancestry.segment(r, &self.window).0, 0));
        while let Some((v, _)) = self.walk.heap.pop() {
            let Some(slot) = self.window.slot(v) else { continue };
            if v < w.0 || !self.walk.mark(slot, SIDE_FROM) {
                continue;
            }
            let at = VersionId(v);
            match self.ancestry.within_segment(at, w, &self.window) {
                Some(true) => return true,
                Some(false) => continue,
                None => {}
            }
            let start = self.ancestry.segment(at, &self.window);
            if start != at {
                self.walk.heap.push((start.0, 0));
                continue;
            }
            for p in self.parents_of(VersionId(v)) {
                if p >= w {
                    self.walk.heap.push((p.0, 0));
                }
            }
        }
        false
    }

    /// `includes(r, w)`, given versions `known` whose answers are known: each
    /// `(k, includes(k, w))`. When `r` is one of them or a few single-parent steps
    /// above one, those steps answer without a jump. A session asks of each read
    /// whether it includes its newest read, and most reads return a version one of its
    /// last two reads did, or one a step or two above it.
    pub fn includes_after(
        &mut self,
        r: VersionId,
        w: VersionId,
        known: &[(VersionId, bool)],
    ) -> bool {
        [r, w].iter().chain(known.iter().map(|k| &k.0)).for_each(|&v| self.audit(v));
        let answer = |v: VersionId| known.iter().find(|k| k.0 == v).map(|k| k.1);
        if let Some(found) = answer(r) {
            return found;
        }
        let floor = known.iter().map(|k| k.0).min().unwrap_or(r);
        // A join is seen through its parents, which the steps need not pass.
        if floor < r && !self.is_join(w) {
            let mut v = r;
            for _ in 0..CHAIN_STEPS {
                if v == w {
                    return true;
                }
                if let Some(found) = answer(v) {
                    // `r` sees what `v` sees and the steps above it, none of them `w`.
                    return found;
                }
                let parent = self.is_kept(v).then(|| self.single_parent(v)).flatten();
                match parent {
                    Some(p) if p >= floor => v = p,
                    _ => break, // A merge, the floor, or forgotten (settled safe).
                }
            }
        }
        self.reaches(r, w)
    }

    /// Versions that were ancestors of (or equal to) `from` but are not of `to`, newest
    /// first, appended to `out`: what a head moving from `from` to `to` orphans.
    pub fn displaced(&mut self, from: VersionId, to: VersionId, out: &mut Vec<VersionId>) {
        self.audit(from);
        self.audit(to);
        if from == to || from == VersionId::ROOT {
            return;
        }
        if self.displaced_along_chains(from, to, out) {
            return;
        }
        self.walk.begin(self.records.len());
        let heap_push = |walk: &mut Walk, v: u32, side: u32| walk.heap.push((v, side as u8));
        heap_push(&mut self.walk, from.0, SIDE_FROM);
        heap_push(&mut self.walk, to.0, SIDE_TO);
        let mut from_side = 1usize;
        // Equal ids pop the `to` side first (larger tuple), so a common ancestor is known
        // as such before the `from` side reaches it.
        while from_side > 0 {
            let Some((v, side)) = self.walk.heap.pop() else { break };
            let side = u32::from(side);
            if side == SIDE_FROM {
                from_side -= 1;
            }
            // Forgotten or settled safe: below both sides.
            let Some(slot) = self.window.slot(v) else { continue };
            if v == 0 || self.fate[slot] == SAFE || !self.walk.mark(slot, side) {
                continue;
            }
            if side == SIDE_FROM {
                if self.walk.has(slot, SIDE_TO) {
                    continue; // Still an ancestor of `to`, and so is everything below it.
                }
                out.push(VersionId(v));
            }
            for p in self.parents_of(VersionId(v)) {
                heap_push(&mut self.walk, p.0, side);
                if side == SIDE_FROM {
                    from_side += 1;
                }
            }
        }
    }

    /// The usual case of `displaced`, where no merge lies above the common ancestor of
    /// `from` and `to`: step the newer of the two down to its parent until they meet
    /// (the versions form a tree there, and this finds the lowest common ancestor).
    /// False, with `out` unchanged, on reaching a merge.
    fn displaced_along_chains(
        &self,
        mut from: VersionId,
        mut to: VersionId,
        out: &mut Vec<VersionId>,
    ) -> bool {
        let start = out.len();
        while from != to {
            let newer = from.max(to);
            let parent = self.is_kept(newer).then(|| self.single_parent(newer)).flatten();
            let Some(parent) = parent else {
                out.truncate(start);
                return false;
            };
            if newer == from {
                out.push(from);
                from = parent;
            } else {
                to = parent;
            }
        }
        true
    }

    /// Marks, by slot (`slot_of`), every kept version that is an ancestor of (or equal
    /// to) one of `heads`: one sweep from the newest version down, since a parent is
    /// always older than its child.
    pub fn ancestors_of(&self, heads: impl IntoIterator<Item = VersionId>) -> Vec<bool> {
        // Settled safe: below every head, whether or not the way there is kept.
        let mut live: Vec<bool> = self.fate.iter().map(|&f| f == SAFE).collect();
        live[0] = true;
        for h in heads {
            live[self.at(h)] = true;
        }
        let ids: Vec<VersionId> = self.kept_ids().collect();
        for (slot, &v) in ids.iter().enumerate().rev() {
            if !live[slot] {
                continue;
            }
            for p in self.parents_of(v) {
                if let Some(parent) = self.window.slot(p.0) {
                    live[parent] = true;
                }
            }
        }
        live
    }

    /// Where `v`'s data sits, if it is kept: the index `ancestors_of` marks by (`None`
    /// also for a key's empty value, `VersionId::of_key`).
    pub fn slot_of(&self, v: VersionId) -> Option<usize> {
        if v.0 >= self.next { None } else { self.window.slot(v.0) }
    }

    /// Every kept version, the root first, in creation order (and so in slot order).
    pub fn kept_ids(&self) -> impl Iterator<Item = VersionId> + '_ {
        let side = self.window.side().iter().copied();
        side.chain(self.window.base()..self.next).map(VersionId)
    }

    /// Every kept version id but the root, in creation order.
    pub fn ids(&self) -> impl Iterator<Item = VersionId> + '_ {
        self.kept_ids().filter(|&v| v != VersionId::ROOT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(key: u32) -> Version {
        Version { key, ..*VersionDag::default().get(VersionId::ROOT) }
    }

    /// v1 ← v2 ← v3, and v4 on top of v1 (a write based on a stale read), then a merge v5
    /// of v3 and v4.
    fn sample() -> VersionDag {
        let mut d = VersionDag::default();
        let v1 = d.create(version(0), &[VersionId::ROOT]);
        let v2 = d.create(version(0), &[v1]);
        let v3 = d.create(version(0), &[v2]);
        let v4 = d.create(version(0), &[v1]);
        d.create(version(0), &[v3, v4]);
        d
    }

    #[test]
    fn a_reader_is_behind_by_the_acknowledged_versions_it_does_not_see() {
        let mut d = sample();
        let v = VersionId;
        for acked in [1, 2, 3] {
            d.acknowledge(v(acked), SimTime::ZERO, 1);
        }
        assert_eq!(d.acked_behind(v(1), v(3), 1_000), 2, "v2 and v3");
        assert_eq!(d.acked_behind(v(4), v(3), 1_000), 2, "v4 sees v1 only");
        assert_eq!(d.acked_behind(v(3), v(3), 1_000), 0);
        assert_eq!(d.acked_behind(VersionId::ROOT, v(3), 2), 2, "capped");
    }

    #[test]
    fn includes_follows_parents_only() {
        let mut d = sample();
        let v = VersionId;
        assert!(d.includes(v(3), v(1)));
        assert!(d.includes(v(3), v(3)));
        assert!(d.includes(v(3), VersionId::ROOT));
        assert!(!d.includes(v(4), v(2)), "v4 was based on v1: it orphans v2");
        assert!(!d.includes(v(2), v(3)), "a parent does not include its child");
        assert!(d.includes(v(5), v(2)) && d.includes(v(5), v(4)), "a merge keeps both");
    }

    #[test]
    fn a_join_is_seen_by_whoever_sees_both_its_parents() {
        let mut d = sample();
        let v = VersionId;
        let j = d.create_join(version(0), &[v(2), v(4)]);
        // v5 joins v3 and v4 by a write of its own; it includes v2 and v4 but not j.
        assert!(d.includes(v(5), j), "v5 sees v2 (through v3) and v4");
        assert!(!d.includes(v(3), j), "v3 lacks v4");
        assert!(d.includes(j, v(1)) && !d.includes(j, v(3)));
    }

    #[test]
    fn displaced_lists_what_a_head_move_orphans() {
        let mut d = sample();
        let v = VersionId;
        let mut out = Vec::new();
        d.displaced(v(3), v(4), &mut out);
        assert_eq!(out, vec![v(3), v(2)]);
        out.clear();
        d.displaced(v(3), v(5), &mut out);
        assert!(out.is_empty(), "a merge orphans nothing");
        d.displaced(v(4), v(2), &mut out);
        assert_eq!(out, vec![v(4)]);
    }

    #[test]
    fn ancestors_of_the_final_heads_are_live() {
        let d = sample();
        let live = d.ancestors_of([VersionId(4)]);
        assert_eq!(live, vec![true, true, false, false, true, false]);
    }

    #[test]
    fn walks_agree_with_a_brute_force_closure_on_random_dags() {
        let mut rng = crate::engine::Stream::new(5, "dag");
        for round in 0..60 {
            // Trees (no merges) take the chain walks; merges send some walks to the heap.
            let merge_chance = [0.0, 0.1, 0.3][round % 3];
            let mut d = VersionDag::default();
            let n = 2 + rng.below(30) as u32;
            for i in 1..n {
                let a = VersionId(rng.below(u64::from(i)) as u32);
                let b = VersionId(rng.below(u64::from(i)) as u32);
                let merge = rng.chance(merge_chance);
                let v = match (merge, round % 2) {
                    (false, _) => d.create(version(0), &[a]),
                    (true, 0) => d.create(version(0), &[a, b]),
                    (true, _) => d.create_join(version(0), &[a, b]),
                };
                if rng.chance(0.5) {
                    d.acknowledge(v, SimTime::ZERO, 1); // Sets a flag beside the parent.
                    assert!(d.is_acked(v));
                }
            }
            let v = VersionId;
            for r in 0..n {
                for w in 0..n {
                    for k in 0..n {
                        let j = (k * 7 + 3) % n;
                        let known =
                            [(v(k), d.includes(v(k), v(w))), (v(j), d.includes(v(j), v(w)))];
                        let after = d.includes_after(v(r), v(w), &known);
                        assert_eq!(after, d.includes(v(r), v(w)), "v{r} v{w} after v{k}, v{j}");
                    }
                }
            }
            if round % 2 == 1 {
                continue; // Joins: `includes` is not the parent closure.
            }
            let closure: Vec<Vec<bool>> = (0..n).map(|r| d.ancestors_of([VersionId(r)])).collect();
            for r in 0..n {
                for w in 0..n {
                    assert_eq!(
                        d.includes(VersionId(r), VersionId(w)),
                        closure[r as usize][w as usize]
                    );
                }
            }
            for f in 1..n {
                for t in 0..n {
                    let mut out = Vec::new();
                    d.displaced(VersionId(f), VersionId(t), &mut out);
                    let mut expect: Vec<VersionId> = (1..n)
                        .filter(|&x| {
                            closure[f as usize][x as usize] && !closure[t as usize][x as usize]
                        })
                        .map(VersionId)
                        .collect();
                    expect.reverse();
                    assert_eq!(out, expect, "from v{f} to v{t}");
                }
            }
        }
    }

    /// A run in miniature: holders (`sources`) hold versions of three keys (the empty
    /// value too), new versions are made on what some holder has, holders pass values
    /// on, checkers keep some versions a while (`targets`), and every few steps the DAG
    /// settles and forgets. Every question a holder may ask must get the answer a DAG
    /// that forgets nothing gives.
    #[test]
    fn forgetting_changes_no_answer_a_holder_can_ask() {
        let mut rng = crate::engine::Stream::new(11, "forget");
        for round in 0..40 {
            let merge_chance = [0.0, 0.0, 0.05][round % 3];
            let (mut d, mut full) = (VersionDag::default(), VersionDag::default());
            let keys = 3u32;
            // (key, version) per holder; the root is each key's empty value.
            let mut sources: Vec<(u32, VersionId)> =
                (0..12).map(|i| (i % keys, VersionId::ROOT)).collect();
            let mut targets: Vec<VersionId> = Vec::new();
            let mut forgot = 0;
            for step in 0..400 {
                let h = rng.below(sources.len() as u64) as usize;
                let (key, base) = sources[h];
                if rng.chance(0.4) {
                    // A write on what this holder has (two holders' with a merge).
                    let same: Vec<VersionId> =
                        sources.iter().filter(|s| s.0 == key).map(|s| s.1).collect();
                    let other = same[rng.below(same.len() as u64) as usize];
                    let parents =
                        if rng.chance(merge_chance) { vec![base, other] } else { vec![base] };
                    let v = d.create(version(key), &parents);
                    assert_eq!(full.create(version(key), &parents), v);
                    if rng.chance(0.7) {
                        d.acknowledge(v, SimTime::ZERO, 1);
                        full.acknowledge(v, SimTime::ZERO, 1);
                    }
                    sources[h].1 = v;
                } else {
                    // A holder takes what another of the key holds (a read, replication).
                    let same: Vec<usize> =
                        (0..sources.len()).filter(|&i| sources[i].0 == key).collect();
                    let from = same[rng.below(same.len() as u64) as usize];
                    sources[h].1 = sources[from].1;
                }
                // Checkers keep what they saw a while, and let go of it.
                targets.push(sources[h].1);
                if targets.len() > 10 {
                    let i = rng.below(targets.len() as u64) as usize;
                    targets.swap_remove(i);
                }
                if step % 23 == 22 {
                    let reported: Vec<VersionId> =
                        sources.iter().map(|&(k, v)| v.of_key(k)).collect();
                    d.settle(&reported);
                    let mut held: Vec<VersionId> = reported.clone();
                    held.extend(&targets);
                    let before = d.records.len();
                    d.forget(&held);
                    forgot += before - d.records.len();
                }
                let held: Vec<VersionId> =
                    sources.iter().map(|s| s.1).chain(targets.iter().copied()).collect();
                for &r in sources.iter().map(|s| &s.1).chain(&targets) {
                    for &w in &held {
                        let what = format!("round {round} step {step}: v{} sees v{}", r.0, w.0);
                        assert_eq!(d.includes(r, w), full.includes(r, w), "{what}");
                    }
                }
                for &(key, r) in &sources {
                    // A read is measured against the newest write of its own key.
                    let own: Vec<VersionId> = held
                        .iter()
                        .copied()
                        .filter(|w| full.records[w.index()].key == key)
                        .collect();
                    for &w in &own {
                        assert_eq!(d.acked_behind(r, w, 50), full.acked_behind(r, w, 50));
                    }
                    // A head moves within its key.
                    for &(_, t) in sources.iter().filter(|s| s.0 == key) {
                        let (mut a, mut b) = (Vec::new(), Vec::new());
                        d.displaced(r, t, &mut a);
                        full.displaced(r, t, &mut b);
                        assert_eq!(a, b, "round {round} step {step}: from v{} to v{}", r.0, t.0);
                    }
                }
            }
            // Without merges, most of what was made is settled and forgotten.
            let made = d.len() - 1;
            if merge_chance == 0.0 {
                assert!(forgot * 2 > made, "round {round} forgot {forgot} of {made}");
            }
        }
    }
}
