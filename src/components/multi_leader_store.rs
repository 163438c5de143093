//! A multi-leader store (active-active regions: MySQL or Postgres multi-primary setups,
//! DynamoDB global tables, Cassandra across datacenters with local writes): a leader in
//! each of several regions, each holding every key and taking writes.
//!
//! A request is served by the leader of the region it comes from (the nearest leader
//! by mean latency when its region has none). A leader applies each write it takes on
//! top of what it holds, so the writes one leader takes never conflict; it acknowledges
//! at once and ships the write to every other leader, where it arrives after the
//! regions' latency plus the replication lag. Two leaders that take writes to one key
//! before hearing of each other's hold concurrent versions: with `last_write_wins` the
//! newer stamp (the taking leader's clock) replaces the other wherever they meet, and
//! the other write is lost; with `merge` the leader keeps both in a merge version, the
//! same one at every leader that holds the same writes.
//!
//! `routing: home` is the fix that keeps leaders: every key has a home region (key `k`'s
//! is leader `k mod leaders`), and a request for a key from another region is sent on to
//! its home leader and answered back, each way over the regions' latency. Writes to a
//! key then meet at one leader and never conflict; reads see them at once.
//!
//! A read carrying a session token the serving leader lacks is sent on to the nearest
//! leader that holds it, as a write is to its home.
//!
//! For the checkers each leader's table is a copy: the head moves they follow are every
//! leader's, and at the end the first leader's table is the store's, the others' its
//! replicas, which must have converged.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{FLAG_IDEMPOTENT, FLAG_TOKEN, Msg, Request, Status};
use crate::check::purpose::{Actor, PurposeInfo, WRITE_ROW};
use crate::check::{HeadCause, HeadMove, OpKind, Purpose, StoreEnd, VersionId};
use crate::engine::{Dist, SimDuration};
use crate::model::Regions;
use crate::model::contract::{Contract, KindSpec, Serves};
use crate::model::shape::{Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// `MultiLeaderStore(leaders: ["us", "eu"], replication: exp("100ms"))`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "MultiLeaderStore")]
pub struct RawMultiLeaderStore {
    /// The regions with a leader, at least two.
    pub leaders: Vec<String>,
    /// Lag of a write from one leader to another, on top of the regions' latency
    /// (default `const("0ms")`).
    #[serde(default)]
    pub replication: Option<RawDist>,
    /// `last_write_wins` (the default) or `merge`.
    #[serde(default)]
    pub conflict: RawLeaderConflict,
    /// `local` (the default: each region's leader serves its region) or `home` (each key
    /// is served by the leader of its home region).
    #[serde(default)]
    pub routing: RawRouting,
}

/// How leaders settle concurrent writes to one key.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "conflict")]
#[schemars(rename = "leader_conflict")]
pub enum RawLeaderConflict {
    /// The newer stamp wins; the other write is lost.
    #[default]
    LastWriteWins,
    /// Both are kept, in a merge version.
    Merge,
}

/// Which leader serves a request.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "routing")]
pub enum RawRouting {
    /// The leader of the region the request comes from.
    #[default]
    Local,
    /// The leader of the key's home region.
    Home,
}

/// Multi-leader store parameters.
#[derive(Debug, Clone)]
pub struct MultiLeaderStoreSpec {
    /// The regions with a leader, in file order.
    pub leaders: Vec<String>,
    /// Lag of a write between leaders, on top of the regions' latency.
    pub replication: Dist,
    /// How concurrent writes are settled.
    pub conflict: RawLeaderConflict,
    /// Which leader serves a request.
    pub routing: RawRouting,
}

/// Most leaders a multi-leader store may have.
pub const LEADERS_MAX: usize = 16;

impl KindFile for RawMultiLeaderStore {
    type Spec = MultiLeaderStoreSpec;
    type Actor = Box<MultiLeaderStore>;

    fn validate(&self, c: &mut Problems) -> MultiLeaderStoreSpec {
        if self.leaders.len() < 2 || self.leaders.len() > LEADERS_MAX {
            let msg = format!(
                "`leaders` must name between 2 and {LEADERS_MAX} regions, found {}",
                self.leaders.len()
            );
            let hint = "with one leader, use a `Store` placed in its region";
            c.error(&["leaders"], msg, Some(hint.into()));
        }
        for (i, name) in self.leaders.iter().enumerate() {
            if self.leaders[..i].contains(name) {
                let msg = format!("region `{name}` has a leader already");
                c.error(&["leaders", &i.to_string()], msg, Some("name each region once".into()));
            }
        }
        if self.routing == RawRouting::Home && self.conflict == RawLeaderConflict::Merge {
            let msg = "`conflict: merge` has no effect with `routing: home`: every write to a key \
                       meets the others at its home leader, so leaders never conflict"
                .to_string();
            c.error(&["conflict"], msg, Some("remove `conflict`, or route `local`".into()));
        }
        let replication = match &self.replication {
            Some(d) => c.dist(&["replication"], d),
            None => Dist::constant(0),
        };
        MultiLeaderStoreSpec {
            leaders: self.leaders.clone(),
            replication,
            conflict: self.conflict,
            routing: self.routing,
        }
    }

    fn build(spec: &MultiLeaderStoreSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        if spec.leaders.len() < 2 {
            return Err(format!("`{}` needs leaders in two regions or more", ctx.name));
        }
        let regions = &ctx.scenario.model.regions;
        let leader_regions = (spec.leaders.iter())
            .map(|name| regions.index(name).ok_or(format!("region `{name}` is not defined")))
            .collect::<Result<Vec<usize>, String>>()?;
        let keys = ctx.scenario.clients.key_count();
        let store = MultiLeaderStore::new(spec, (regions, &leader_regions), keys)
            .with_senders(ctx.instance_regions);
        Ok(Box::new(store))
    }
}

impl KindSpec for MultiLeaderStoreSpec {
    /// A multi-leader store answers requests itself and sits in its leaders' regions.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("multi-leader store", Serves::Data);
        c.regions = self.leaders.clone();
        c.regions_field = "leaders";
        c
    }
}

/// A version leaders made joining concurrent writes: no one's message, counted by no
/// report row of its own (no operation makes it).
pub const MERGE: Purpose = Purpose(&MERGE_INFO);
static MERGE_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Server,
    checked: false,
    ..Purpose::client("merge", "merges", &WRITE_ROW)
};

// The component.

/// A request on its way between two leaders (to the key's home, or to a leader that
/// holds a read's token), or its answer on the way back.
#[derive(Debug, Clone, Copy)]
struct Trip {
    request: Request,
    /// The leader that took the request from its sender.
    taken_by: usize,
    /// The leader that serves it.
    served_by: usize,
    /// The sender's region, when it has no leader and the request crosses from it to
    /// the taking leader's.
    approach: Option<usize>,
}

/// What the leaders did, for the summary.
#[derive(Debug, Default)]
struct LeaderCounts {
    /// Writes shipped from one leader to another.
    shipped: u64,
    /// Shipped writes that met a concurrent version at their destination.
    conflicts: u64,
    /// Merge versions made.
    merges: u64,
    /// Requests sent on to another leader (to a key's home, for a read's token).
    forwarded: u64,
}

/// A leader in each of several regions.
#[derive(Debug)]
pub struct MultiLeaderStore {
    spec: MultiLeaderStoreSpec,
    /// Each leader's region (an index into the model's regions).
    regions: Vec<usize>,
    /// Latency between leaders `a` and `b` at `a * n + b` (`None` for `a == b`).
    between: Vec<Option<Dist>>,
    /// The leader serving each region.
    serving: Vec<usize>,
    /// Per region, the latency to the leader serving it (`None` for a leader's own).
    approach: Vec<Option<Dist>>,
    /// The region of each component instance, by id (a request's sender).
    senders: Arc<[Option<usize>]>,
    /// Per leader, its version of every key.
    tables: Vec<Vec<VersionId>>,
    /// Requests between leaders, by job number; freed slots are reused.
    trips: Vec<Option<Trip>>,
    free_trips: Vec<u32>,
    /// Per leader, the messages it knows applied by idempotency key, (client, message)
    /// to the version made: its own writes at once, another leader's when they arrive.
    applied: Vec<BTreeMap<(u32, u32), VersionId>>,
    /// Merge versions by the writes they join (sorted), so every leader joining the
    /// same writes holds the same version.
    merges: BTreeMap<Vec<VersionId>, VersionId>,
    /// The newest writes each merge version joins.
    joined: BTreeMap<VersionId, Vec<VersionId>>,
    counts: LeaderCounts,
}

impl MultiLeaderStore {
    /// A store with a leader in each of `leader_regions` (indices into `regions`), for
    /// `keys` keys.
    pub fn new(
        spec: &MultiLeaderStoreSpec,
        (regions, leader_regions): (&Regions, &[usize]),
        keys: u32,
    ) -> MultiLeaderStore {
        let n = leader_regions.len();
        let mut between = Vec::with_capacity(n * n);
        for &a in leader_regions {
            for &b in leader_regions {
                between.push(regions.between(a, b).cloned());
            }
        }
        let serving: Vec<usize> = (0..regions.names.len())
            .map(|r| {
                let near = regions.nearest(r, leader_regions);
                leader_regions.iter().position(|&l| Some(l) == near).unwrap_or(0)
            })
            .collect();
        let approach = (serving.iter().enumerate())
            .map(|(r, &l)| regions.extra(Some(r), leader_regions.get(l).copied()).cloned())
            .collect();
        MultiLeaderStore {
            spec: spec.clone(),
            regions: leader_regions.to_vec(),
            between,
            serving,
            approach,
            senders: Arc::from([]),
            tables: vec![vec![VersionId::ROOT; keys as usize]; n],
            trips: Vec::new(),
            free_trips: Vec::new(),
            applied: vec![BTreeMap::new(); n],
            merges: BTreeMap::new(),
            joined: BTreeMap::new(),
            counts: LeaderCounts::default(),
        }
    }

    /// With the region of every component instance, by id.
    pub fn with_senders(mut self, senders: &Arc<[Option<usize>]>) -> MultiLeaderStore {
        self.senders = Arc::clone(senders);
        self
    }

    /// Leader `leader`'s version of `key`.
    pub fn leader_version(&self, leader: usize, key: u32) -> VersionId {
        self.tables[leader][key as usize]
    }

    /// A draw of the latency from leader `a` to leader `b` (zero within one region).
    fn trip(&self, a: usize, b: usize, env: &mut Env<'_>) -> SimDuration {
        let n = self.regions.len();
        SimDuration(self.between[a * n + b].as_ref().map_or(0, |d| d.sample(env.rng())))
    }

    /// The leader that takes a request from its sender, and the sender's region when
    /// the request must cross from it to that leader.
    fn taker(&self, request: &Request, env: &Env<'_>) -> (usize, Option<usize>) {
        let sender = env.topology.ends(request.via).0;
        let region = self.senders.get(sender.index()).copied().flatten();
        let taker = region.and_then(|r| self.serving.get(r).copied()).unwrap_or(0);
        let crosses = region.filter(|&r| self.approach.get(r).is_some_and(Option::is_some));
        (taker, crosses)
    }

    /// A draw of the latency between region `region` and the leader serving it.
    fn approach(&self, region: Option<usize>, env: &mut Env<'_>) -> u64 {
        let dist = region.and_then(|r| self.approach.get(r)).and_then(Option::as_ref);
        dist.map_or(0, |d| d.sample(env.rng()))
    }

    /// The leader that serves a request `taker` took: itself, or the key's home.
    fn server(&self, request: &Request, taker: usize, env: &mut Env<'_>) -> usize {
        if self.spec.routing == RawRouting::Home {
            return request.key as usize % self.regions.len();
        }
        let token_unmet = |l: usize, env: &mut Env<'_>| {
            request.flags & FLAG_TOKEN != 0
                && !env.includes(self.tables[l][request.key as usize], request.seen)
        };
        if request.kind != OpKind::Read || !token_unmet(taker, env) {
            return taker;
        }
        // The nearest leader that holds the session's token; the taker when none does
        // (the write is still on its way to every leader).
        let n = self.regions.len();
        let mut holders: Vec<usize> = (0..n).filter(|&l| !token_unmet(l, env)).collect();
        let mean = |l: usize| self.between[taker * n + l].as_ref().map_or(0.0, Dist::mean_ns);
        holders.sort_by(|&a, &b| mean(a).total_cmp(&mean(b)).then(a.cmp(&b)));
        holders.first().copied().unwrap_or(taker)
    }

    /// A request reaches the store: served at once by the leader of its sender's
    /// region, or after the trips to the leader that serves it.
    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let (taker, approach) = self.taker(&request, env);
        let server = self.server(&request, taker, env);
        if server == taker && approach.is_none() {
            return self.serve(request, server, SimDuration::ZERO, env);
        }
        self.counts.forwarded += u64::from(server != taker);
        let there = self.approach(approach, env).saturating_add(self.trip(taker, server, env).0);
        let trip = Trip { request, taken_by: taker, served_by: server, approach };
        let job = match self.free_trips.pop() {
            Some(job) => {
                self.trips[job as usize] = Some(trip);
                job
            }
            None => {
                self.trips.push(Some(trip));
                self.trips.len() as u32 - 1
            }
        };
        env.timer(SimDuration(there), Msg::Done { job });
    }

    /// A request reaches the leader that serves it; its answer goes back by the way it
    /// came (to the leader that took it, and on to the sender's region).
    fn on_arrival(&mut self, job: u32, env: &mut Env<'_>) {
        let Some(trip) = self.trips.get_mut(job as usize).and_then(Option::take) else { return };
        self.free_trips.push(job);
        let back = self.trip(trip.served_by, trip.taken_by, env).0;
        let back = back.saturating_add(self.approach(trip.approach, env));
        self.serve(trip.request, trip.served_by, SimDuration(back), env);
    }

    /// Leader `leader` serves `request`; the answer leaves `delay` later.
    fn serve(&mut self, request: Request, leader: usize, delay: SimDuration, env: &mut Env<'_>) {
        let key = request.key as usize;
        match request.kind {
            OpKind::Write => {
                let v = self.write(&request, leader, env);
                env.reply_after(delay, &request, Status::Ok, v, 0);
            }
            OpKind::Read => {
                let v = self.tables[leader][key];
                env.reply_after(delay, &request, Status::Ok, v, 0);
            }
            // Validation routes these to the components that serve them, never here.
            OpKind::Control | OpKind::Stream => env.drop_request(&request),
        }
    }

    /// Leader `leader` applies a write on top of what it holds and ships it to the
    /// other leaders; an idempotent retry of a message it knows applied gets the same
    /// version (one that reaches another leader first is applied again there).
    fn write(&mut self, request: &Request, leader: usize, env: &mut Env<'_>) -> VersionId {
        let inv = env.invocation(request.op);
        let message = (inv.client, inv.message);
        let idempotent = request.flags & FLAG_IDEMPOTENT != 0;
        if let Some(&v) = self.applied[leader].get(&message).filter(|_| idempotent) {
            return v;
        }
        let key = request.key;
        let head = self.tables[leader][key as usize];
        let stamp = env.now().as_nanos() as i64;
        let v = env.create_version(request.op, env.id.0, stamp, &[head]);
        if idempotent {
            self.applied[leader].insert(message, v);
        }
        self.move_head(leader, key, v, HeadCause::Write, env);
        for to in (0..self.regions.len()).filter(|&l| l != leader) {
            let lag = self.spec.replication.sample(env.rng());
            let delay = SimDuration(self.trip(leader, to, env).0.saturating_add(lag));
            self.counts.shipped += 1;
            env.timer(
                delay,
                Msg::Replicate { replica: to as u32, key, version: v, epoch: leader as u32 },
            );
        }
        v
    }

    fn move_head(
        &mut self,
        leader: usize,
        key: u32,
        to: VersionId,
        cause: HeadCause,
        env: &mut Env<'_>,
    ) {
        let from = std::mem::replace(&mut self.tables[leader][key as usize], to);
        let (store, at, event) = (env.id.0, env.now(), env.event());
        env.head_moved(HeadMove { store, key, from, to, cause, at, event });
    }

    /// A write from leader `origin` reaches leader `leader`: applied when it descends
    /// from what the leader holds, ignored when the leader has it already, settled by
    /// the conflict policy when the two are concurrent.
    fn on_replicate(
        &mut self,
        leader: usize,
        key: u32,
        v: VersionId,
        origin: u32,
        env: &mut Env<'_>,
    ) {
        let message = (env.version(v).client, env.version(v).message);
        if self.applied[origin as usize].get(&message) == Some(&v) {
            self.applied[leader].insert(message, v);
        }
        let held = self.tables[leader][key as usize];
        if env.includes(held, v) {
            return;
        }
        if env.includes(v, held) {
            return self.move_head(leader, key, v, HeadCause::Write, env);
        }
        self.counts.conflicts += 1;
        match self.spec.conflict {
            RawLeaderConflict::LastWriteWins => {
                let newer = (env.version(v).stamp, v) > (env.version(held).stamp, held);
                if newer {
                    let cause =
                        HeadCause::LastWriteWins { from_leader: origin, at_leader: leader as u32 };
                    self.move_head(leader, key, v, cause, env);
                }
            }
            RawLeaderConflict::Merge => {
                let m = self.join(held, v, env);
                self.move_head(leader, key, m, HeadCause::Write, env);
            }
        }
    }

    /// The version joining the writes of `a` and `b`: the newest writes of both (none
    /// included in another) as its parents, made once and shared by every leader.
    fn join(&mut self, a: VersionId, b: VersionId, env: &mut Env<'_>) -> VersionId {
        let mut tips: Vec<VersionId> = Vec::new();
        for v in [a, b] {
            tips.extend(self.joined.get(&v).cloned().unwrap_or_else(|| vec![v]));
        }
        tips.sort_unstable();
        tips.dedup();
        let all = tips.clone();
        tips.retain(|&t| !all.iter().any(|&o| o != t && env.includes(o, t)));
        if let [only] = tips[..] {
            return only;
        }
        // A version has at most two parents: more tips join one at a time, in order,
        // each step made once.
        let mut m = tips[0];
        for i in 1..tips.len() {
            let prefix = tips[..=i].to_vec();
            m = match self.merges.get(&prefix) {
                Some(&made) => made,
                None => self.merge(m, tips[i], prefix, env),
            };
        }
        m
    }

    /// Makes the version joining `a` and `b`, whose newest writes are `tips`.
    fn merge(
        &mut self,
        a: VersionId,
        b: VersionId,
        tips: Vec<VersionId>,
        env: &mut Env<'_>,
    ) -> VersionId {
        let newest = |v: VersionId| (env.version(v).stamp, v);
        let like = if newest(a) > newest(b) { a } else { b };
        let m = env.create_join(like, MERGE, env.version(like).stamp, &[a, b]);
        self.counts.merges += 1;
        self.merges.insert(tips.clone(), m);
        self.joined.insert(m, tips);
        m
    }
}

impl Component for MultiLeaderStore {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        for table in &self.tables {
            table.iter().enumerate().for_each(|(key, v)| held(v.of_key(key as u32)));
        }
        self.trips.iter().flatten().for_each(|t| held(t.request.seen.of_key(t.request.key)));
        self.applied.iter().flat_map(|a| a.values()).copied().for_each(&mut *held);
        // Merge versions are looked up by the writes they join, so both sides count.
        for (tips, &m) in &self.merges {
            held(m);
            tips.iter().copied().for_each(&mut *held);
        }
        for (&m, tips) in &self.joined {
            held(m);
            tips.iter().copied().for_each(&mut *held);
        }
        true
    }

    /// Writes shipped between leaders, conflicts met, merges made, requests forwarded.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = &self.counts;
        let mut out = vec![("shipped", c.shipped), ("conflicts", c.conflicts)];
        if self.spec.conflict == RawLeaderConflict::Merge {
            out.push(("merges", c.merges));
        }
        out.push(("forwarded", c.forwarded));
        out
    }

    /// The first leader's table as the store's, the others' as its replicas.
    fn end_state(&self, id: u32) -> Option<StoreEnd> {
        let (first, others) = self.tables.split_first()?;
        Some(StoreEnd { id, primary: first.clone(), replicas: others.to_vec() })
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Done { job } => self.on_arrival(job, env),
            Msg::Replicate { replica, key, version, epoch } => {
                self.on_replicate(replica as usize, key, version, epoch, env)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, bench, ms, replies, request, run};
    use crate::engine::Sim;

    /// Leaders in `us` and `eu`, 40 ms apart, with 100 ms of replication lag.
    fn spec(conflict: RawLeaderConflict, routing: RawRouting) -> MultiLeaderStoreSpec {
        MultiLeaderStoreSpec {
            leaders: vec!["us".into(), "eu".into()],
            replication: Dist::constant(100_000_000),
            conflict,
            routing,
        }
    }

    /// A bench whose probe 1 sits in `us` and probe 2 in `eu`.
    fn two_regions(spec: &MultiLeaderStoreSpec) -> (Sim<BenchWorld>, Vec<crate::engine::LinkId>) {
        let mut regions = Regions::new(vec!["us".into(), "eu".into()]);
        regions.set_latency(0, 1, Dist::constant(40_000_000));
        let (sim, links) = bench(2, 1, |_| {
            let store = MultiLeaderStore::new(spec, (&regions, &[0, 1]), 1);
            let senders: Arc<[Option<usize>]> = Arc::from([None, Some(0), Some(1)]);
            BuiltIn::MultiLeaderStore(Box::new(store.with_senders(&senders)))
        });
        (sim, links.callers)
    }

    /// The replies as (ms, version).
    fn replies_ms(sim: &Sim<BenchWorld>) -> Vec<(u64, u32)> {
        replies(sim).iter().map(|r| (r.0.as_nanos() / 1_000_000, r.3.0)).collect()
    }

    fn end(sim: &Sim<BenchWorld>) -> (VersionId, VersionId) {
        let end = sim.actor.component.end_state(0).expect("a store has an end state");
        (end.primary[0], end.replicas[0][0])
    }

    #[test]
    fn a_write_reaches_the_other_leader_after_the_regions_latency_and_the_lag() {
        let (mut sim, via) =
            two_regions(&spec(RawLeaderConflict::LastWriteWins, RawRouting::Local));
        request(&mut sim, ms(1), via[0], OpKind::Write, 0);
        request(&mut sim, ms(100), via[1], OpKind::Read, 0);
        request(&mut sim, ms(200), via[1], OpKind::Read, 0);
        run(&mut sim, ms(1_000));
        let got = replies_ms(&sim);
        assert_eq!(got, [(1, 1), (100, 0), (200, 1)], "acknowledged at once, at eu from 141 ms");
    }

    #[test]
    fn concurrent_writes_under_last_write_wins_end_at_the_newer_on_both_leaders() {
        let (mut sim, via) =
            two_regions(&spec(RawLeaderConflict::LastWriteWins, RawRouting::Local));
        request(&mut sim, ms(1), via[0], OpKind::Write, 0);
        request(&mut sim, ms(2), via[1], OpKind::Write, 0);
        run(&mut sim, ms(1_000));
        assert_eq!(end(&sim), (VersionId(2), VersionId(2)), "v1 is discarded at us");
    }

    #[test]
    fn concurrent_writes_under_merge_end_at_one_join_of_both_on_both_leaders() {
        let (mut sim, via) = two_regions(&spec(RawLeaderConflict::Merge, RawRouting::Local));
        request(&mut sim, ms(1), via[0], OpKind::Write, 0);
        request(&mut sim, ms(2), via[1], OpKind::Write, 0);
        run(&mut sim, ms(1_000));
        let (us, eu) = end(&sim);
        assert_eq!(us, eu, "both leaders hold the same join");
        let dag = sim.actor.history.dag_mut();
        assert!(dag.includes(us, VersionId(1)) && dag.includes(us, VersionId(2)));
    }

    #[test]
    fn a_region_without_a_leader_crosses_to_the_nearest_and_back() {
        // ap is 100 ms from us and 60 ms from eu: its probe (3) is served by eu.
        let mut regions = Regions::new(vec!["us".into(), "eu".into(), "ap".into()]);
        regions.set_latency(0, 1, Dist::constant(40_000_000));
        regions.set_latency(0, 2, Dist::constant(100_000_000));
        regions.set_latency(1, 2, Dist::constant(60_000_000));
        let spec = spec(RawLeaderConflict::LastWriteWins, RawRouting::Local);
        let (mut sim, links) = bench(3, 1, |_| {
            let store = MultiLeaderStore::new(&spec, (&regions, &[0, 1]), 1);
            let senders: Arc<[Option<usize>]> = Arc::from([None, Some(0), Some(1), Some(2)]);
            BuiltIn::MultiLeaderStore(Box::new(store.with_senders(&senders)))
        });
        request(&mut sim, ms(1), links.callers[2], OpKind::Write, 0);
        request(&mut sim, ms(300), links.callers[1], OpKind::Read, 0);
        run(&mut sim, ms(1_000));
        let got = replies_ms(&sim);
        assert_eq!(got, [(121, 1), (300, 1)], "written at eu at 61 ms, answered at 121 ms");
    }

    #[test]
    fn home_routing_sends_a_request_to_its_keys_home_and_back() {
        // Key 0's home is the first leader, `us`: a write from `eu` crosses twice.
        let (mut sim, via) = two_regions(&spec(RawLeaderConflict::LastWriteWins, RawRouting::Home));
        request(&mut sim, ms(1), via[1], OpKind::Write, 0);
        request(&mut sim, ms(2), via[0], OpKind::Write, 0);
        run(&mut sim, ms(1_000));
        let got: Vec<u64> = replies(&sim).iter().map(|r| r.0.as_nanos() / 1_000_000).collect();
        assert_eq!(got, [2, 81]);
        assert_eq!(
            end(&sim),
            (VersionId(2), VersionId(2)),
            "the later write descends from the first"
        );
    }
}
