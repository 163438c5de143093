//! An application cache (Redis, Memcached) that services call from their handlers: get,
//! set with a TTL, set only if newer (a versioned set), delete. It holds up to
//! `max_keys` keys and evicts the least recently used beyond that. Expiry is lazy, as
//! in Redis: an expired entry is found dead by the next get. A crash empties it, and
//! while it is down every call is refused at once (the process is gone, so the
//! connection is refused); after a restart it starts cold.
//!
//! It tells the history every change of an entry (set, delete, eviction, crash), so
//! `cache_coherence` can time how long it held a value older than the store's.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{CacheCall, CacheOutcome, CacheVerb, Fault, Msg};
use crate::check::{CacheChange, CacheEvent, VersionId};
use crate::engine::LinkId;
use crate::engine::{SimDuration, SimTime};
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::Problems;

// The kind: its file shape, validation, contract and build.

/// Most keys a cache may be given room for.
pub const MAX_KEYS_MAX: u32 = 100_000_000;

/// `AppCache(max_keys: 10000)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "AppCache")]
pub struct RawAppCache {
    /// Keys it holds at most; beyond, the least recently used is evicted. Absent: no
    /// limit.
    #[serde(default)]
    pub max_keys: Option<u32>,
}

/// Application cache parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppCacheSpec {
    /// Keys held at most (`None`: no limit).
    pub max_keys: Option<u32>,
}

impl KindFile for RawAppCache {
    type Spec = AppCacheSpec;
    type Actor = AppCache;

    fn validate(&self, problems: &mut Problems) -> AppCacheSpec {
        if let Some(n) = self.max_keys {
            problems.count(&["max_keys"], n, MAX_KEYS_MAX);
        }
        AppCacheSpec { max_keys: self.max_keys.map(|n| n.clamp(1, MAX_KEYS_MAX)) }
    }

    fn build(spec: &AppCacheSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let links = ctx.incoming.iter().map(|&(link, _)| link).collect();
        Ok(AppCache::new(spec, links))
    }
}

impl KindSpec for AppCacheSpec {
    /// A cache answers the services linked to it and calls nothing; it can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("application cache", Serves::Cache);
        c.alone = "answers its services' cache calls itself";
        c.callers = Some(("a service", "api"));
        c.faults.push(FaultKind::Crash);
        c
    }
}

// The component.

#[derive(Debug, Clone, Copy)]
struct Entry {
    version: VersionId,
    expires: SimTime,
    /// Its place in the recency order (higher: used more recently).
    used: u64,
}

/// What an application cache did over a run.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    hits: u64,
    misses: u64,
    expired: u64,
    sets: u64,
    refused_older: u64,
    deletes: u64,
    evictions: u64,
    lost_in_crash: u64,
    unavailable: u64,
}

/// An application cache.
#[derive(Debug)]
pub struct AppCache {
    max_keys: Option<u32>,
    /// The links its callers reach it over (answers go back the same way).
    incoming: Vec<LinkId>,
    entries: BTreeMap<u32, Entry>,
    /// Keys by last use, for eviction (kept only with `max_keys`).
    recency: BTreeMap<u64, u32>,
    uses: u64,
    up: bool,
    counts: Counts,
}

impl AppCache {
    /// An empty cache, called over `incoming`.
    pub fn new(spec: &AppCacheSpec, incoming: Vec<LinkId>) -> AppCache {
        AppCache {
            max_keys: spec.max_keys,
            incoming,
            entries: BTreeMap::new(),
            recency: BTreeMap::new(),
            uses: 0,
            up: true,
            counts: Counts::default(),
        }
    }

    /// Marks `key` (held as `entry`) as just used.
    fn touch(&mut self, key: u32, entry: &mut Entry) {
        self.uses += 1;
        if self.max_keys.is_some() {
            self.recency.remove(&entry.used);
            self.recency.insert(self.uses, key);
        }
        entry.used = self.uses;
    }

    fn remove(&mut self, key: u32) -> Option<Entry> {
        let entry = self.entries.remove(&key)?;
        self.recency.remove(&entry.used);
        Some(entry)
    }

    /// The outcome of `call`, the version a hit found, and how long that has left, ms.
    fn answer(&mut self, call: &CacheCall, env: &mut Env<'_>) -> (CacheOutcome, VersionId, u32) {
        let now = env.now();
        let live = self.entries.get(&call.key).copied().filter(|e| e.expires > now);
        match call.verb {
            CacheVerb::Get => match live {
                Some(mut e) => {
                    self.counts.hits += 1;
                    self.touch(call.key, &mut e);
                    self.entries.insert(call.key, e);
                    (CacheOutcome::Hit, e.version, left_ms(e.expires, now))
                }
                None => {
                    self.counts.misses += 1;
                    if self.entries.contains_key(&call.key) {
                        self.counts.expired += 1;
                        self.remove(call.key);
                    }
                    (CacheOutcome::Miss, VersionId::ROOT, 0)
                }
            },
            CacheVerb::SetIfNewer if live.is_some_and(|e| older(call.version, e.version, env)) => {
                self.counts.refused_older += 1;
                (CacheOutcome::Older, VersionId::ROOT, 0)
            }
            CacheVerb::Set | CacheVerb::SetIfNewer => {
                self.set(call, env);
                (CacheOutcome::Done, VersionId::ROOT, 0)
            }
            CacheVerb::Delete => {
                // Reported even when nothing was held: a delete that finds the key empty
                // is how the cache-aside race begins.
                self.counts.deletes += 1;
                let held = self.remove(call.key).map_or(VersionId::ROOT, |e| e.version);
                self.report(call.key, held, CacheChange::Delete, call.origin.0, env);
                (CacheOutcome::Done, VersionId::ROOT, 0)
            }
        }
    }

    fn set(&mut self, call: &CacheCall, env: &mut Env<'_>) {
        self.counts.sets += 1;
        let ttl = SimDuration::from_millis(u64::from(call.ttl_ms));
        let expires = if call.ttl_ms == 0 { SimTime::MAX } else { env.now().after(ttl) };
        let mut entry = Entry { version: call.version, expires, used: 0 };
        self.remove(call.key);
        self.touch(call.key, &mut entry);
        self.entries.insert(call.key, entry);
        let event = CacheEvent {
            cache: env.id.0,
            key: call.key,
            version: call.version,
            change: CacheChange::Set,
            expires,
            by: call.origin.0,
            client: call.client,
            at: env.now(),
            event: env.event(),
        };
        env.cache_changed(event);
        self.evict(env);
    }

    /// Evicts least recently used keys until the cache is within `max_keys`.
    fn evict(&mut self, env: &mut Env<'_>) {
        let Some(max) = self.max_keys else { return };
        while self.entries.len() > max as usize {
            let Some((_, key)) = self.recency.pop_first() else { break };
            if let Some(e) = self.entries.remove(&key) {
                self.counts.evictions += 1;
                self.report(key, e.version, CacheChange::Evicted, u32::MAX, env);
            }
        }
    }

    fn report(
        &self,
        key: u32,
        version: VersionId,
        change: CacheChange,
        by: u32,
        env: &mut Env<'_>,
    ) {
        let (cache, at, event) = (env.id.0, env.now(), env.event());
        let expires = SimTime::MAX;
        let client = u32::MAX;
        env.cache_changed(CacheEvent {
            cache,
            key,
            version,
            change,
            expires,
            by,
            client,
            at,
            event,
        });
    }

    fn on_call(&mut self, call: CacheCall, env: &mut Env<'_>) {
        let (outcome, version, left_ms) = if self.up {
            self.answer(&call, env)
        } else {
            self.counts.unavailable += 1;
            (CacheOutcome::Unavailable, VersionId::ROOT, 0)
        };
        let (job, wait) = (call.job, call.wait);
        let answer = Msg::CacheAnswer { job, wait, version, outcome, left_ms };
        let back = self.incoming.iter().copied().find(|&l| env.peer(l) == call.origin);
        if let Some(link) = back {
            env.answer_over(link, call.origin, answer);
        }
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash if self.up => {
                self.up = false;
                for (key, e) in std::mem::take(&mut self.entries) {
                    self.counts.lost_in_crash += 1;
                    self.report(key, e.version, CacheChange::Emptied, u32::MAX, env);
                }
                self.recency.clear();
            }
            Fault::Restart => self.up = true,
            _ => {}
        }
    }
}

/// How long a value expiring at `expires` has left at `now`, ms (`u32::MAX`: no TTL).
fn left_ms(expires: SimTime, now: SimTime) -> u32 {
    match expires {
        SimTime::MAX => u32::MAX,
        t => (t.since(now).as_nanos() / 1_000_000).min(u64::from(u32::MAX - 1)) as u32,
    }
}

/// Whether version `a` was committed before `b`: a versioned set compares what a row
/// version or commit timestamp orders, the order the store made them in.
fn older(a: VersionId, b: VersionId, env: &Env<'_>) -> bool {
    let (x, y) = (env.version(a), env.version(b));
    (x.created, x.created_event) < (y.created, y.created_event)
}

impl Component for AppCache {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.entries.iter().for_each(|(&key, e)| held(e.version.of_key(key)));
        true
    }

    /// Gets that hit and missed (of which expired), sets, versioned sets refused as
    /// older, deletes, evictions, entries lost in crashes, calls refused while down.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        vec![
            ("hits", c.hits),
            ("misses", c.misses),
            ("expired", c.expired),
            ("sets", c.sets),
            ("refused_older", c.refused_older),
            ("deletes", c.deletes),
            ("evictions", c.evictions),
            ("lost_in_crash", c.lost_in_crash),
            ("unavailable", c.unavailable),
        ]
    }

    fn is_up(&self) -> bool {
        self.up
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::CacheCall(call) => self.on_call(call, env),
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("application cache got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, bench, deliver, ms, run, write_op};
    use crate::engine::{ComponentId, Sim};

    /// A cache of `max_keys` called by probe 1.
    fn cache(max_keys: Option<u32>) -> Sim<BenchWorld> {
        let spec = AppCacheSpec { max_keys };
        bench(1, 4, |l| BuiltIn::AppCache(AppCache::new(&spec, vec![l.callers[0]]))).0
    }

    /// A version of `key` the store made now (for versioned sets).
    fn version(sim: &mut Sim<BenchWorld>, at: u64, key: u32) -> VersionId {
        let op = write_op(sim, ms(at), 1, key);
        sim.actor.history.create_version(op, 2, 0, &[VersionId::ROOT], ms(at), at)
    }

    fn call(
        sim: &mut Sim<BenchWorld>,
        at: u64,
        verb: CacheVerb,
        key: u32,
        version: VersionId,
        ttl_ms: u32,
    ) {
        let origin = ComponentId(1);
        let c =
            CacheCall { origin, job: 0, wait: at as u16, key, version, client: 0, ttl_ms, verb };
        deliver(sim, ms(at), Msg::CacheCall(c));
    }

    /// The answers probe 1 got, as (ms, outcome, version).
    fn answers(sim: &mut Sim<BenchWorld>) -> Vec<(u64, CacheOutcome, u32)> {
        run(sim, ms(1_000_000));
        let got = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::CacheAnswer { version, outcome, .. } => {
                Some((r.at.as_nanos() / 1_000_000, outcome, version.0))
            }
            _ => None,
        });
        got.collect()
    }

    #[test]
    fn a_set_value_is_served_until_its_ttl_then_missed() {
        let mut sim = cache(None);
        let v = version(&mut sim, 0, 0);
        call(&mut sim, 1, CacheVerb::Get, 0, VersionId::ROOT, 0);
        call(&mut sim, 2, CacheVerb::Set, 0, v, 10);
        call(&mut sim, 5, CacheVerb::Get, 0, VersionId::ROOT, 0);
        call(&mut sim, 12, CacheVerb::Get, 0, VersionId::ROOT, 0);
        use CacheOutcome::*;
        let expected = [(1, Miss, 0), (2, Done, 0), (5, Hit, v.0), (12, Miss, 0)];
        assert_eq!(answers(&mut sim), expected);
        let c = sim.actor.component.counts();
        assert!(c.contains(&("expired", 1)) && c.contains(&("hits", 1)), "{c:?}");
    }

    #[test]
    fn a_versioned_set_never_replaces_a_value_the_store_made_later() {
        let mut sim = cache(None);
        let (old, new) = (version(&mut sim, 0, 0), version(&mut sim, 1, 0));
        call(&mut sim, 2, CacheVerb::SetIfNewer, 0, new, 0);
        call(&mut sim, 3, CacheVerb::SetIfNewer, 0, old, 0);
        call(&mut sim, 4, CacheVerb::Get, 0, VersionId::ROOT, 0);
        use CacheOutcome::*;
        assert_eq!(answers(&mut sim), [(2, Done, 0), (3, Older, 0), (4, Hit, new.0)]);
    }

    #[test]
    fn beyond_max_keys_the_least_recently_used_key_is_evicted() {
        let mut sim = cache(Some(2));
        let v = version(&mut sim, 0, 0);
        call(&mut sim, 1, CacheVerb::Set, 0, v, 0);
        call(&mut sim, 2, CacheVerb::Set, 1, v, 0);
        call(&mut sim, 3, CacheVerb::Get, 0, VersionId::ROOT, 0); // key 0 used: key 1 is LRU
        call(&mut sim, 4, CacheVerb::Set, 2, v, 0);
        call(&mut sim, 5, CacheVerb::Get, 1, VersionId::ROOT, 0);
        call(&mut sim, 6, CacheVerb::Get, 0, VersionId::ROOT, 0);
        let got: Vec<CacheOutcome> = answers(&mut sim).into_iter().map(|a| a.1).collect();
        use CacheOutcome::*;
        assert_eq!(got, [Done, Done, Hit, Done, Miss, Hit]);
        assert!(sim.actor.component.counts().contains(&("evictions", 1)));
    }

    #[test]
    fn a_crash_empties_the_cache_and_refuses_calls_until_the_restart() {
        let mut sim = cache(None);
        let v = version(&mut sim, 0, 0);
        call(&mut sim, 1, CacheVerb::Set, 0, v, 0);
        deliver(&mut sim, ms(2), Msg::Fault(Fault::Crash));
        call(&mut sim, 3, CacheVerb::Get, 0, VersionId::ROOT, 0);
        deliver(&mut sim, ms(4), Msg::Fault(Fault::Restart));
        call(&mut sim, 5, CacheVerb::Get, 0, VersionId::ROOT, 0);
        use CacheOutcome::*;
        assert_eq!(answers(&mut sim), [(1, Done, 0), (3, Unavailable, 0), (5, Miss, 0)]);
        assert!(sim.actor.component.counts().contains(&("lost_in_crash", 1)));
    }
}
