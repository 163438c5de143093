//! **Cache coherence**: an application cache (Redis, Memcached) must not hold a value
//! older than its store's for longer than a bound. A cached entry is *stale* from the
//! moment the store's head of its key is another version (the store moved on after the
//! set, or had already moved on when an old value was set) until the entry is replaced,
//! deleted, evicted, emptied or expires, or the head comes back to it. Every stale
//! interval is measured; with a bound, each one longer than the bound is a violation,
//! and the story of the longest tells how the old value got there: the version cached,
//! the write that made it old, the delete before the set, the set, and how long it
//! stayed. `stale_at_end` counts the entries still older than the store when the run
//! ends, after the last write.
//!
//! The classic cache-aside race is the case it exists for: a reader misses, reads the
//! old value, a writer updates the store and deletes the key, and the reader then sets
//! the old value, which stays until its TTL.

use std::collections::BTreeMap;

use super::checks::{Check, End, HeadCause, HeadMove, SessionState};
use super::histogram::Histogram;
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::{CheckReport, Names, StoryLine, duration, seconds};
use super::versions::{VersionDag, VersionId};
use crate::engine::{SimDuration, SimTime};

/// What happened to a cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheChange {
    /// A value was set.
    Set,
    /// The entry was deleted on request.
    Delete,
    /// The entry was evicted to make room (least recently used).
    Evicted,
    /// The cache crashed and lost everything it held.
    Emptied,
}

impl CacheChange {
    /// The verb for stories: "deletes", "evicts".
    fn verb(self) -> &'static str {
        match self {
            CacheChange::Set => "sets",
            CacheChange::Delete => "deletes",
            CacheChange::Evicted => "evicts",
            CacheChange::Emptied => "loses (crash)",
        }
    }
}

/// A cache entry changing, as the cache reports it.
#[derive(Debug, Clone, Copy)]
pub struct CacheEvent {
    /// The cache (component id).
    pub cache: u32,
    /// The key.
    pub key: u32,
    /// The value set (`ROOT` for a value of nothing: the key had never been written),
    /// or what was held before a delete (`ROOT`: nothing), eviction or crash.
    pub version: VersionId,
    /// What happened.
    pub change: CacheChange,
    /// When a set value expires (`SimTime::MAX`: never).
    pub expires: SimTime,
    /// The component that asked (component id; `u32::MAX`: the cache itself).
    pub by: u32,
    /// The client whose request it was serving (`u32::MAX`: none).
    pub client: u32,
    /// When.
    pub at: SimTime,
    /// The event.
    pub event: u64,
}

/// A value a cache holds, and since when it is stale.
#[derive(Debug, Clone, Copy)]
struct Held {
    set: CacheEvent,
    /// The store whose version it is (`None`: a value of nothing, old once any store
    /// has the key).
    store: Option<u32>,
    /// Since when, by which event, and the head it lags.
    stale: Option<(SimTime, u64, VersionId)>,
    /// The delete, eviction or crash before the set, if any.
    cleared: Option<CacheEvent>,
    /// Who served the read whose answer was set (store, source), once the client's
    /// read that the set served completes: a replica's old copy is often the cause.
    read_from: Option<(u32, u8)>,
}

/// Each store's head per key, as head moves report them: a flat row per store (stores
/// are few), so the head move of every write costs an index, not a tree insert.
#[derive(Debug, Default)]
struct Heads {
    stores: Vec<(u32, Vec<VersionId>)>,
}

impl Heads {
    fn set(&mut self, store: u32, key: u32, head: VersionId) {
        let i = match self.stores.iter().position(|(s, _)| *s == store) {
            Some(i) => i,
            None => {
                self.stores.push((store, Vec::new()));
                self.stores.len() - 1
            }
        };
        *super::checks::slot(&mut self.stores[i].1, key) = head;
    }

    fn get(&self, store: u32, key: u32) -> VersionId {
        let row = self.stores.iter().find(|(s, _)| *s == store);
        row.and_then(|(_, heads)| heads.get(key as usize).copied()).unwrap_or(VersionId::ROOT)
    }

    /// The head of `key` on the first store that has written it.
    fn any_written(&self, key: u32) -> Option<VersionId> {
        let heads = self.stores.iter().filter_map(|(_, h)| h.get(key as usize).copied());
        heads.into_iter().find(|&h| h != VersionId::ROOT)
    }
}

/// A stale interval longer than any before it: what the story tells.
#[derive(Debug, Clone, Copy)]
struct Witness {
    held: Held,
    until: SimTime,
    /// What ended it: `None` when the run did.
    ended_by: Option<&'static str>,
}

/// The cache-coherence checker.
#[derive(Debug)]
pub struct CacheCoherence {
    bound: Option<SimDuration>,
    /// Entries by (key, cache).
    held: BTreeMap<(u32, u32), Held>,
    /// The last delete, eviction or crash of each (key, cache).
    cleared: BTreeMap<(u32, u32), CacheEvent>,
    /// Each (store, key)'s head.
    heads: Heads,
    stale: Histogram,
    sets: u64,
    violations: u64,
    worst: Option<(u64, Witness)>,
}

impl CacheCoherence {
    /// A checker with an optional bound.
    pub fn new(bound: Option<SimDuration>) -> Self {
        CacheCoherence {
            bound,
            held: BTreeMap::new(),
            cleared: BTreeMap::new(),
            heads: Heads::default(),
            stale: Histogram::default(),
            sets: 0,
            violations: 0,
            worst: None,
        }
    }

    /// Whether `held` differs from the head of its store (of any store, for a value of
    /// nothing), and the head it lags.
    fn lagging_head(&self, held: &Held) -> Option<VersionId> {
        let (key, version) = (held.set.key, held.set.version);
        match held.store {
            Some(store) => {
                let head = self.heads.get(store, key);
                (head != version).then_some(head)
            }
            None => self.heads.any_written(key),
        }
    }

    /// Ends `held`'s stale interval, if it has one, at `at` (or its expiry, if sooner).
    fn close(&mut self, held: &Held, at: SimTime, ended_by: Option<&'static str>) {
        let Some((since, _, _)) = held.stale else { return };
        let (until, ended_by) = if held.set.expires < at {
            (held.set.expires, Some("it expires"))
        } else {
            (at, ended_by)
        };
        if until <= since {
            return;
        }
        let stale_ns = until.since(since).as_nanos();
        self.stale.record(stale_ns);
        if self.bound.is_some_and(|b| stale_ns > b.as_nanos()) {
            self.violations += 1;
        }
        if self.worst.is_none_or(|(w, _)| stale_ns > w) {
            self.worst = Some((stale_ns, Witness { held: *held, until, ended_by }));
        }
    }
}

impl Check for CacheCoherence {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        let entries = self.held.values().chain(self.worst.iter().map(|(_, w)| &w.held));
        for h in entries {
            held(h.set.version);
            h.stale.iter().for_each(|s| held(s.2));
            h.cleared.iter().for_each(|c| held(c.version));
        }
        self.cleared.values().for_each(|c| held(c.version));
        self.heads.stores.iter().flat_map(|(_, heads)| heads).copied().for_each(held);
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    /// It watches reads only to learn where a cached value was read (`read_from`);
    /// with no entry held, an operation costs it one comparison.
    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, _dag: &mut VersionDag) {
        if self.held.is_empty() || op.outcome != Outcome::Ok || op.kind() != OpKind::Read {
            return;
        }
        let (key, client) = (op.inv.key, op.inv.client);
        let during = op.inv.invoked..=op.completed;
        let served = |h: &Held| {
            h.read_from.is_none()
                && h.set.client == client
                && h.set.version == op.version
                && during.contains(&h.set.at)
        };
        for held in self.held.range_mut((key, 0)..=(key, u32::MAX)).map(|(_, h)| h) {
            if served(held) {
                held.read_from = Some((op.store, op.source));
            }
        }
    }

    fn on_head(&mut self, mv: &HeadMove, _dag: &mut VersionDag) {
        // A version that lost its race, or a deposed primary's, never became the head.
        if matches!(mv.cause, HeadCause::LostRace | HeadCause::SplitBrain { .. }) {
            return;
        }
        self.heads.set(mv.store, mv.key, mv.to);
        if self.held.is_empty() {
            return;
        }
        let keys: Vec<(u32, u32)> =
            self.held.range((mv.key, 0)..=(mv.key, u32::MAX)).map(|(k, _)| *k).collect();
        for k in keys {
            let mut held = self.held[&k];
            if held.store.is_some_and(|s| s != mv.store) {
                continue;
            }
            match (held.stale, self.lagging_head(&held)) {
                (None, Some(head)) => held.stale = Some((mv.at, mv.event, head)),
                (Some(_), None) => {
                    self.close(&held, mv.at, Some("the store's head comes back to it"));
                    held.stale = None;
                }
                _ => {}
            }
            self.held.insert(k, held);
        }
    }

    fn on_cache(&mut self, ev: &CacheEvent, dag: &mut VersionDag) {
        let k = (ev.key, ev.cache);
        if let Some(old) = self.held.remove(&k) {
            let why = match ev.change {
                CacheChange::Set => "a newer set replaces it",
                CacheChange::Delete => "it is deleted",
                CacheChange::Evicted => "it is evicted",
                CacheChange::Emptied => "the cache crashes",
            };
            self.close(&old, ev.at, Some(why));
        }
        if ev.change != CacheChange::Set {
            self.cleared.insert(k, *ev);
            return;
        }
        self.sets += 1;
        let store = (ev.version != VersionId::ROOT).then(|| dag.get(ev.version).store);
        let mut held = Held {
            set: *ev,
            store,
            stale: None,
            cleared: self.cleared.get(&k).copied(),
            read_from: None,
        };
        held.stale = self.lagging_head(&held).map(|head| (ev.at, ev.event, head));
        self.held.insert(k, held);
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let open: Vec<Held> = self.held.values().copied().collect();
        let stale_at_end =
            open.iter().filter(|h| h.stale.is_some() && h.set.expires > end.ended).count();
        for held in open {
            self.close(&held, end.ended, None);
        }
        let mut r = CheckReport::new("cache_coherence", self.violations, self.sets, "cache sets")
            .bounded_by(self.bound);
        let h = &self.stale;
        r.figures.insert("stale_entries", h.count());
        r.figures.insert("stale_at_end", stale_at_end as u64);
        r.figures.insert("p50_ns", h.quantile(0.50));
        r.figures.insert("p99_ns", h.quantile(0.99));
        r.figures.insert("max_ns", h.max());
        r.distribution = Some(h.clone());
        if let Some(b) = self.bound {
            r.figures.insert("bound_ns", b.as_nanos());
        }
        if let (Some((stale_ns, w)), true) = (self.worst, self.violations > 0) {
            r.story = tell(&w, stale_ns, self.bound, end.dag, end.names);
        }
        r
    }
}

/// The story of the longest stale interval, in time order.
fn tell(
    w: &Witness,
    stale_ns: u64,
    bound: Option<SimDuration>,
    dag: &VersionDag,
    names: &Names,
) -> Vec<StoryLine> {
    let (set, cache) = (w.held.set, names.component(w.held.set.cache));
    let (key, v) = (set.key, set.version);
    let mut lines = Vec::new();
    if v != VersionId::ROOT {
        lines.push(story::created(dag, v, names));
    }
    let Some((_, _, head)) = w.held.stale else { return lines };
    if head != VersionId::ROOT && dag.get(head).created <= w.until {
        lines.push(story::created(dag, head, names));
    }
    if let Some(c) = w.held.cleared {
        let held = match c.version {
            VersionId::ROOT => " (it holds nothing)".to_string(),
            v => format!(" ({v})"),
        };
        let text = format!("{} {} key {key} from {cache}{held}", who(c.by, names), c.change.verb());
        lines.push(StoryLine::at(c.at.as_nanos(), c.event, text));
    }
    let serving = match set.client {
        u32::MAX => String::new(),
        c => format!(" for {}'s request", names.client(c)),
    };
    let expiry = match set.expires {
        SimTime::MAX => "no TTL".to_string(),
        e => format!("TTL until {}", seconds(e.as_nanos())),
    };
    let read = match w.held.read_from {
        Some((store, source)) => format!(", read from {},", names.source(store, source)),
        None => String::new(),
    };
    let text = format!(
        "{} sets key {key} = {v}{read} in {cache}{serving} ({expiry}); the store's head is \
         {head} from then on",
        who(set.by, names)
    );
    lines.push(StoryLine::at(set.at.as_nanos(), set.event, text));
    lines.sort_by_key(|l| (l.at_ns, l.event));
    let over = bound.map_or(String::new(), |b| format!(", over the bound of {b}"));
    let text = match w.ended_by {
        Some(why) => format!(
            "{cache} holds {v} for key {key} until {why} at {}: stale for {}{over}",
            seconds(w.until.as_nanos()),
            duration(stale_ns)
        ),
        None => {
            format!("{cache} still holds {v} for key {key}: stale for {}{over}", duration(stale_ns))
        }
    };
    lines.push(StoryLine::end(text));
    lines
}

fn who(id: u32, names: &Names) -> String {
    if id == u32::MAX { "the cache".to_string() } else { names.component(id).to_string() }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::Sighting;
    use crate::check::verdict::Verdict;

    fn event(h: &Hist, version: VersionId, change: CacheChange, ttl_ms: u64) -> CacheEvent {
        let at = h.now();
        let expires =
            if ttl_ms == 0 { SimTime::MAX } else { at.after(SimDuration::from_millis(ttl_ms)) };
        CacheEvent { cache: 1, key: 0, version, change, expires, by: 2, client: 3, at, event: 0 }
    }

    #[test]
    fn an_old_value_set_after_the_delete_is_stale_until_its_ttl() {
        let bound = SimDuration::from_millis(5);
        let mut h = Hist::new(vec![Box::new(CacheCoherence::new(Some(bound)))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK); // head v1 at 2 ms
        let v2 = h.write(0, 0, v1, OK); // head v2 at 5 ms
        let del = event(&h, v1, CacheChange::Delete, 0);
        h.h.cache_changed(del);
        let set = event(&h, v1, CacheChange::Set, 30); // 6 ms, expires at 36 ms
        h.h.cache_changed(set);
        for _ in 0..20 {
            h.read(1, 1, VersionId::ROOT, 0); // 40 ms go by
        }
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Violated, 1, 1));
        assert_eq!(r.figures["max_ns"], 30_000_000);
        let last = &r.story.last().unwrap().text;
        assert!(last.contains("until it expires at 0.036 s: stale for 30"), "{last}");
    }

    #[test]
    fn the_story_names_the_copy_a_cached_value_was_read_from() {
        let bound = SimDuration::from_millis(5);
        let mut h = Hist::new(vec![Box::new(CacheCoherence::new(Some(bound)))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK); // head v1 at 2 ms
        // Client 3's read misses the cache; the service reads ∅ from replica 0 and
        // caches it before answering.
        let op = h.invoke(3, 0, OpKind::Read, Sighting::NOTHING);
        h.h.cache_changed(event(&h, VersionId::ROOT, CacheChange::Set, 30));
        let (at, ev) = h.tick();
        h.h.complete(op, OK, VersionId::ROOT, (0, 1), at, ev, true);
        for _ in 0..20 {
            h.read(1, 1, VersionId::ROOT, 0);
        }
        let r = h.finish_one(&[v1]);
        let set = r.story.iter().find(|l| l.text.contains(" sets key 0")).expect("a set line");
        assert!(set.text.contains("= ∅, read from db replica 0, in redis"), "{}", set.text);
    }

    #[test]
    fn a_value_deleted_soon_after_the_write_holds_the_bound() {
        let bound = SimDuration::from_millis(5);
        let mut h = Hist::new(vec![Box::new(CacheCoherence::new(Some(bound)))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.h.cache_changed(event(&h, v1, CacheChange::Set, 0));
        let v2 = h.write(0, 0, v1, OK); // stale from 5 ms (head moves at 5 ms)
        h.h.cache_changed(event(&h, v1, CacheChange::Delete, 0)); // deleted at 6 ms
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.checked, r.figures["stale_entries"]), (Verdict::Holds, 1, 1));
        assert_eq!(r.figures["max_ns"], 1_000_000);
    }

    #[test]
    fn without_a_bound_it_measures_but_judges_nothing() {
        let mut h = Hist::new(vec![Box::new(CacheCoherence::new(None))]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.h.cache_changed(event(&h, VersionId::ROOT, CacheChange::Set, 0)); // nothing, cached
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.figures["stale_entries"]), (Verdict::NotConfigured, 1));
    }
}
