//! A leaderless quorum store (Dynamo, Cassandra, Riak): `n` replicas of every key and
//! no primary. The node a request reaches coordinates it.
//!
//! A write gets a version stamped by the coordinator's clock, on top of what the writer
//! saw, and is sent to every replica; each keeps the newer of what it holds and what
//! arrives (last-write-wins on the stamp) and acknowledges. The client hears back once
//! `w` replicas have acknowledged. A read asks `r` replicas chosen at random among the
//! running ones and answers the newest of their answers; with `read_repair`, replicas
//! that answered something older are sent the newest. Each of the four trips (a write to
//! a replica, its acknowledgement, a read request, its answer) takes a delay of its own,
//! drawn from the replica's own stream.
//!
//! For the checkers the key's head is the newest version any write made (the one every
//! replica ends with once the writes have arrived); a write whose stamp is not newer
//! lost the race at birth, as on a last-write-wins store.
//!
//! Faults: a crash takes the coordinator down (requests are dropped, answers in progress
//! never come); `replica: i` crashes one replica, which then applies, answers and
//! acknowledges nothing, and after its restart holds what it had. Read repair and later
//! writes bring it up to date, and with `hinted_handoff` so do hints: a write sent while
//! the replica was down, or that found it down on arrival, is handed to it once it has
//! been back for the handoff delay (there is no anti-entropy). Requests that cannot
//! reach `w` or `r` running replicas are dropped (the client times out), unless a
//! sloppy quorum's spares stand in: then the nodes a request goes to are the running
//! replicas plus a running spare for each replica that is down, and a spare keeps what
//! it takes as a hint for that replica, dropping its copy once the hint is handed over.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{FLAG_IDEMPOTENT, FLAG_TOKEN, Fault, Msg, Request, Status};
use super::store::REPLICAS_MAX;
use crate::check::{HeadCause, HeadMove, OpKind, StoreEnd, VersionId};
use crate::engine::{Dist, SimDuration, SimTime, Stream};
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::{Dur, Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// `QuorumStore(n: 3, w: 2, r: 2, write: exp("2ms"), read_repair: true)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "QuorumStore")]
pub struct RawQuorumStore {
    /// Replicas of every key.
    pub n: u32,
    /// Acknowledgements a write waits for.
    pub w: u32,
    /// Answers a read waits for.
    pub r: u32,
    /// Delay of a write from the coordinator to a replica (default `exp("1ms")`).
    #[serde(default = "one_ms")]
    pub write: RawDist,
    /// Delay of a replica's acknowledgement back to the coordinator.
    #[serde(default = "one_ms")]
    pub ack: RawDist,
    /// Delay of a read request from the coordinator to a replica.
    #[serde(default = "one_ms")]
    pub read: RawDist,
    /// Delay of a replica's answer back to the coordinator.
    #[serde(default = "one_ms")]
    pub response: RawDist,
    /// Send the newest version to replicas that answered a read with an older one.
    #[serde(default)]
    pub read_repair: bool,
    /// Trips of particular replicas that differ from the four above:
    /// `[(replica: 2, write: exp("50ms"))]` (a replica in another zone, a slow disk).
    #[serde(default)]
    pub replica_trips: Vec<RawReplicaTrips>,
    /// Hints for a replica that was down when a write was sent, handed to it once it has
    /// been back this long: `hinted_handoff: "10s"`.
    #[serde(default)]
    pub hinted_handoff: Option<Dur>,
    /// A sloppy quorum: `(spares: 2)` nodes past the key's `n` replicas stand in for
    /// replicas that are down, count towards `w` and `r`, and keep what they take as
    /// hints for the replica they stand in for.
    #[serde(default)]
    pub sloppy_quorum: Option<RawSloppyQuorum>,
}

/// `sloppy_quorum: (spares: 2)`.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "sloppy_quorum")]
pub struct RawSloppyQuorum {
    /// Nodes that may stand in for a key's replicas.
    pub spares: u32,
}

/// One replica's own trips; a trip left out is the store's.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "replica_trips")]
pub struct RawReplicaTrips {
    /// The replica, from 0.
    pub replica: u32,
    /// Its write delay.
    #[serde(default)]
    pub write: Option<RawDist>,
    /// Its acknowledgement delay.
    #[serde(default)]
    pub ack: Option<RawDist>,
    /// Its read request delay.
    #[serde(default)]
    pub read: Option<RawDist>,
    /// Its answer delay.
    #[serde(default)]
    pub response: Option<RawDist>,
}

fn one_ms() -> RawDist {
    RawDist::Exp(Dur(SimDuration::from_millis(1)))
}

/// Quorum store parameters.
#[derive(Debug, Clone)]
pub struct QuorumStoreSpec {
    /// Replicas of every key.
    pub n: u32,
    /// Acknowledgements a write waits for.
    pub w: u32,
    /// Answers a read waits for.
    pub r: u32,
    /// Each replica's four trips: a write to it, its acknowledgement, a read request,
    /// its answer.
    pub trips: Vec<Trips>,
    /// Whether reads repair the replicas that answered an older version.
    pub read_repair: bool,
    /// How long after a replica's restart the hints for it are handed over (`None`: no
    /// hinted handoff).
    pub hinted_handoff: Option<SimDuration>,
    /// Nodes past the `n` replicas that stand in for replicas that are down (0: a strict
    /// quorum). `trips` holds theirs after the replicas'.
    pub spares: u32,
}

/// The delay of each trip between the coordinator and a replica.
#[derive(Debug, Clone)]
pub struct Trips {
    /// A write reaching a replica.
    pub write: Dist,
    /// Its acknowledgement reaching the coordinator.
    pub ack: Dist,
    /// A read request reaching a replica.
    pub read: Dist,
    /// Its answer reaching the coordinator.
    pub response: Dist,
}

impl KindFile for RawQuorumStore {
    type Spec = QuorumStoreSpec;
    type Actor = Box<QuorumStore>;

    fn validate(&self, c: &mut Problems) -> QuorumStoreSpec {
        c.count(&["n"], self.n, REPLICAS_MAX);
        for (field, value) in [("w", self.w), ("r", self.r)] {
            if value == 0 || value > self.n {
                let msg = format!("`{field}` must be between 1 and n = {}, found {value}", self.n);
                let hint = "a quorum counts replicas of the key: at most `n`";
                c.error(&[field], msg, Some(hint.into()));
            }
        }
        let store = Trips {
            write: c.dist(&["write"], &self.write),
            ack: c.dist(&["ack"], &self.ack),
            read: c.dist(&["read"], &self.read),
            response: c.dist(&["response"], &self.response),
        };
        let n = self.n.clamp(1, REPLICAS_MAX);
        let spares = self.spares(c);
        if self.read_repair && self.r == 1 {
            let msg = "`read_repair` has no effect with `r: 1`: a read of one replica has \
                       nothing to compare"
                .to_string();
            let hint = "read from two replicas or more (`r: 2`), or remove `read_repair`";
            c.error(&["read_repair"], msg, Some(hint.into()));
        }
        let mut trips = vec![store; (n + spares) as usize];
        let mut given = 0u64;
        for (i, own) in self.replica_trips.iter().enumerate() {
            let path =
                |field: &'static str| ["replica_trips".to_string(), i.to_string(), field.into()];
            let at = |field| path(field);
            if own.replica >= self.n {
                let msg = format!("`replica` must be below n = {}, found {}", self.n, own.replica);
                let at = at("replica");
                let at: Vec<&str> = at.iter().map(String::as_str).collect();
                c.error(&at, msg, Some("replicas are numbered from 0".into()));
                continue;
            }
            if given & 1 << own.replica != 0 {
                let msg = format!("replica {} already has its trips", own.replica);
                let at = at("replica");
                let at: Vec<&str> = at.iter().map(String::as_str).collect();
                c.error(&at, msg, Some("give each replica one entry".into()));
            }
            given |= 1 << own.replica;
            let t = &mut trips[own.replica as usize];
            for (field, raw, slot) in [
                ("write", &own.write, &mut t.write),
                ("ack", &own.ack, &mut t.ack),
                ("read", &own.read, &mut t.read),
                ("response", &own.response, &mut t.response),
            ] {
                if let Some(raw) = raw {
                    let at = at(field);
                    let at: Vec<&str> = at.iter().map(String::as_str).collect();
                    *slot = c.dist(&at, raw);
                }
            }
        }
        QuorumStoreSpec {
            n,
            w: self.w.clamp(1, n),
            r: self.r.clamp(1, n),
            trips,
            read_repair: self.read_repair,
            hinted_handoff: self.hinted_handoff.map(|d| d.0),
            spares,
        }
    }

    fn build(spec: &QuorumStoreSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let keys = ctx.scenario.clients.key_count();
        Ok(Box::new(QuorumStore::new(ctx.name, spec, keys, ctx.scenario.seed)))
    }
}

impl RawQuorumStore {
    /// The sloppy quorum's spares, refusing none and more nodes than a store may have.
    fn spares(&self, c: &mut Problems) -> u32 {
        let Some(sloppy) = self.sloppy_quorum else { return 0 };
        let most = REPLICAS_MAX.saturating_sub(self.n.min(REPLICAS_MAX));
        if sloppy.spares == 0 || sloppy.spares > most {
            let msg = format!(
                "`spares` must be between 1 and {most} (a store has at most {REPLICAS_MAX} \
                 nodes), found {}",
                sloppy.spares
            );
            let hint = "a sloppy quorum needs a node to stand in for a replica that is down";
            c.error(&["sloppy_quorum", "spares"], msg, Some(hint.into()));
        }
        sloppy.spares.clamp(1, most.max(1))
    }
}

impl KindSpec for QuorumStoreSpec {
    /// A quorum store answers requests itself; its coordinator or one of its replicas
    /// can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("quorum store", Serves::Data);
        c.faults.push(FaultKind::Crash);
        c.replicas = self.n;
        c
    }
}

// The component.

/// One replica: its copy of every key and its stream of delays.
#[derive(Debug)]
struct Replica {
    versions: Vec<VersionId>,
    rng: Stream,
    up: bool,
    /// When it last restarted: its hints are due the handoff delay after.
    back_since: SimTime,
}

/// A write waiting for acknowledgements.
#[derive(Debug, Default)]
struct PendingWrite {
    /// The request that made it and any retry that found it already applied.
    waiting: Vec<Request>,
    /// Replicas whose acknowledgement is back, one bit each.
    acked: u64,
}

/// A read waiting for answers.
#[derive(Debug)]
struct PendingRead {
    request: Request,
    /// Replicas asked, one bit each.
    asked: u64,
    /// Each answer: the replica and the version it held.
    answers: Vec<(u32, VersionId)>,
    /// Whether it already asked every running replica (a session token unmet by `r`).
    widened: bool,
}

/// A write a replica missed, to hand over once it is back.
#[derive(Debug, Clone, Copy)]
struct Hint {
    /// The replica it is for.
    home: usize,
    key: u32,
    version: VersionId,
    /// The spare that took the write in the replica's place (`None`: the coordinator
    /// keeps the hint).
    spare: Option<usize>,
}

/// What hinted handoff and the sloppy quorum did, for the summary.
#[derive(Debug, Default)]
struct HandoffCounts {
    /// Hints kept for replicas that were down.
    hints: u64,
    /// Hints handed over.
    handed_off: u64,
    /// Writes a spare took in a replica's place.
    spare_writes: u64,
}

/// A leaderless store with `n` replicas and read and write quorums.
#[derive(Debug)]
pub struct QuorumStore {
    spec: QuorumStoreSpec,
    replicas: Vec<Replica>,
    /// Per key, the newest version any write made: the head the checkers follow.
    newest: Vec<VersionId>,
    writes: BTreeMap<VersionId, PendingWrite>,
    reads: BTreeMap<u32, PendingRead>,
    next_read: u32,
    /// Messages applied by idempotency key: (client, message) to the version made.
    applied: BTreeMap<(u32, u32), VersionId>,
    up: bool,
    read_repairs: u64,
    widened_reads: u64,
    /// Writes waiting for their replica to come back, in the order they were made.
    hints: Vec<Hint>,
    handoff: HandoffCounts,
}

impl QuorumStore {
    /// A store named `name` holding `key_count` keys, all at the root on every replica.
    pub fn new(name: &str, spec: &QuorumStoreSpec, key_count: u32, seed: u64) -> QuorumStore {
        let replicas = (0..spec.n + spec.spares)
            .map(|i| Replica {
                versions: vec![VersionId::ROOT; key_count as usize],
                rng: Stream::new(seed, &format!("{name}/replica/{i}")),
                up: true,
                back_since: SimTime::ZERO,
            })
            .collect();
        QuorumStore {
            spec: spec.clone(),
            replicas,
            newest: vec![VersionId::ROOT; key_count as usize],
            writes: BTreeMap::new(),
            reads: BTreeMap::new(),
            next_read: 0,
            applied: BTreeMap::new(),
            up: true,
            read_repairs: 0,
            widened_reads: 0,
            hints: Vec::new(),
            handoff: HandoffCounts::default(),
        }
    }

    /// Whether `a` wins over `b` under last-write-wins: the newer stamp, then the later
    /// version.
    fn newer(env: &Env<'_>, a: VersionId, b: VersionId) -> bool {
        (env.version(a).stamp, a) > (env.version(b).stamp, b)
    }

    /// The nodes a request goes to, in index order: the running replicas and, with a
    /// sloppy quorum, a running spare for each replica that is down, as far as spares
    /// go. Each with the replica it stands in for.
    fn preference(&self) -> Vec<(usize, Option<usize>)> {
        let n = self.spec.n as usize;
        let mut spares = (n..self.replicas.len()).filter(|&i| self.replicas[i].up);
        let mut nodes = Vec::with_capacity(n);
        for home in 0..n {
            if self.replicas[home].up {
                nodes.push((home, None));
            } else if let Some(spare) = spares.next() {
                nodes.push((spare, Some(home)));
            }
        }
        nodes.sort_unstable();
        nodes
    }

    /// The nodes a request goes to (see `preference`).
    fn running(&self) -> impl Iterator<Item = usize> {
        self.preference().into_iter().map(|(node, _)| node)
    }

    /// `count` nodes of the preference list drawn uniformly without replacement
    /// (`None`: too few run).
    fn draw_replicas(&self, count: u32, env: &mut Env<'_>) -> Option<Vec<usize>> {
        let mut up: Vec<usize> = self.running().collect();
        if up.len() < count as usize {
            return None;
        }
        for i in 0..count as usize {
            let j = i + env.rng().below((up.len() - i) as u64) as usize;
            up.swap(i, j);
        }
        up.truncate(count as usize);
        Some(up)
    }

    fn on_write(&mut self, request: Request, env: &mut Env<'_>) {
        let inv = env.invocation(request.op);
        let key = (inv.client, inv.message);
        let idempotent = request.flags & FLAG_IDEMPOTENT != 0 && inv.client != u32::MAX;
        if let Some(&v) = self.applied.get(&key).filter(|_| idempotent) {
            return match self.writes.get_mut(&v) {
                Some(w) => w.waiting.push(request),
                None => env.reply(&request, Status::Ok, v, 0),
            };
        }
        let nodes = self.preference();
        if nodes.len() < self.spec.w as usize {
            return env.drop_request(&request); // No write quorum: the client times out.
        }
        let stamp = env.now().as_nanos() as i64;
        let v = env.create_version(request.op, env.id.0, stamp, &[request.seen]);
        self.follow_head(request.key, v, env);
        if idempotent {
            self.applied.insert(key, v);
        }
        self.writes.insert(v, PendingWrite { waiting: vec![request], acked: 0 });
        for &(node, _) in &nodes {
            self.send_write(node, request.key, v, env);
        }
        self.keep_hints(&nodes, request.key, v);
    }

    /// Remembers `version` of `key` for every replica that is down: held by the spare
    /// standing in for it, or with hinted handoff by the coordinator.
    fn keep_hints(&mut self, nodes: &[(usize, Option<usize>)], key: u32, version: VersionId) {
        let handoff = self.spec.hinted_handoff.is_some();
        for home in (0..self.spec.n as usize).filter(|&h| !self.replicas[h].up) {
            let spare = nodes.iter().find(|&&(_, of)| of == Some(home)).map(|&(node, _)| node);
            self.handoff.spare_writes += u64::from(spare.is_some());
            if handoff {
                self.hints.push(Hint { home, key, version, spare });
                self.handoff.hints += 1;
            }
        }
    }

    /// Replica `home` has been back for the handoff delay: every hint for it is sent
    /// (after its write trip), and the spares that held them drop their copies. A
    /// replica down again, or back more recently, keeps its hints for the timer of its
    /// latest restart; while the coordinator is down they wait for its restart.
    fn hand_off(&mut self, home: usize, env: &mut Env<'_>) {
        let Some(after) = self.spec.hinted_handoff else { return };
        let replica = &self.replicas[home];
        if !self.up || !replica.up || env.now().since(replica.back_since) < after {
            return;
        }
        let (due, kept): (Vec<Hint>, Vec<Hint>) =
            std::mem::take(&mut self.hints).into_iter().partition(|h| h.home == home);
        self.hints = kept;
        for hint in due {
            self.send_write(home, hint.key, hint.version, env);
            self.handoff.handed_off += 1;
            if let Some(spare) = hint.spare {
                let held = &mut self.replicas[spare].versions[hint.key as usize];
                if *held == hint.version {
                    *held = VersionId::ROOT; // The spare no longer holds the key.
                }
            }
        }
    }

    /// Tells the checkers where the key's head is after a write made `v`.
    fn follow_head(&mut self, key: u32, v: VersionId, env: &mut Env<'_>) {
        let head = self.newest[key as usize];
        let wins = Self::newer(env, v, head);
        if wins {
            self.newest[key as usize] = v;
        }
        let (to, cause) = if wins { (v, HeadCause::Write) } else { (v, HeadCause::LostRace) };
        let (store, at, event) = (env.id.0, env.now(), env.event());
        env.head_moved(HeadMove { store, key, from: head, to, cause, at, event });
    }

    /// Sends `v` of `key` to replica `i` after its write delay.
    fn send_write(&mut self, i: usize, key: u32, version: VersionId, env: &mut Env<'_>) {
        let r = &mut self.replicas[i];
        let delay = SimDuration(self.spec.trips[i].write.sample(&mut r.rng));
        env.timer(delay, Msg::Replicate { replica: i as u32, key, version, epoch: 0 });
    }

    /// A write reaches replica `i`: it keeps the newer version and acknowledges. One
    /// that finds it down never gets an acknowledgement, and with hinted handoff the
    /// coordinator keeps a hint for it.
    fn on_replicate(&mut self, i: u32, key: u32, version: VersionId, env: &mut Env<'_>) {
        let r = &mut self.replicas[i as usize];
        if !r.up {
            if self.spec.hinted_handoff.is_some() && i < self.spec.n {
                self.hints.push(Hint { home: i as usize, key, version, spare: None });
                self.handoff.hints += 1;
            }
            return;
        }
        let held = r.versions[key as usize];
        if Self::newer(env, version, held) {
            r.versions[key as usize] = version;
        }
        if self.writes.contains_key(&version) {
            let delay = SimDuration(self.spec.trips[i as usize].ack.sample(&mut r.rng));
            env.timer(delay, Msg::ReplicaAck { replica: i, version, epoch: 0 });
        }
    }

    fn on_ack(&mut self, replica: u32, version: VersionId, env: &mut Env<'_>) {
        let Some(w) = self.writes.get_mut(&version) else { return };
        w.acked |= 1 << replica;
        if w.acked.count_ones() >= self.spec.w {
            let w = self.writes.remove(&version).expect("just found");
            for request in &w.waiting {
                env.reply(request, Status::Ok, version, 0);
            }
        }
    }

    fn on_read(&mut self, request: Request, env: &mut Env<'_>) {
        let Some(chosen) = self.draw_replicas(self.spec.r, env) else {
            return env.drop_request(&request); // No read quorum: the client times out.
        };
        let id = self.next_read;
        self.next_read = self.next_read.wrapping_add(1);
        let read = PendingRead { request, asked: 0, answers: Vec::new(), widened: false };
        self.reads.insert(id, read);
        for i in chosen {
            self.ask(id, i, env);
        }
    }

    /// Sends read `id` to replica `i` after its read delay.
    fn ask(&mut self, id: u32, i: usize, env: &mut Env<'_>) {
        let Some(read) = self.reads.get_mut(&id) else { return };
        read.asked |= 1 << i;
        let r = &mut self.replicas[i];
        let delay = SimDuration(self.spec.trips[i].read.sample(&mut r.rng));
        env.timer(delay, Msg::ReplicaRead { replica: i as u32, read: id });
    }

    /// Read `id` reaches replica `i`: it answers what it holds now.
    fn on_replica_read(&mut self, i: u32, id: u32, env: &mut Env<'_>) {
        let Some(read) = self.reads.get(&id) else { return };
        let r = &mut self.replicas[i as usize];
        if !r.up {
            return;
        }
        let version = r.versions[read.request.key as usize];
        let delay = SimDuration(self.spec.trips[i as usize].response.sample(&mut r.rng));
        env.timer(delay, Msg::ReplicaAnswer { replica: i, read: id, version });
    }

    fn on_answer(&mut self, replica: u32, id: u32, version: VersionId, env: &mut Env<'_>) {
        let Some(read) = self.reads.get_mut(&id) else { return };
        read.answers.push((replica, version));
        if read.answers.len() < read.asked.count_ones() as usize {
            return;
        }
        let (from, best) = Self::newest_answer(&read.answers, env);
        let request = read.request;
        let token_unmet = request.flags & FLAG_TOKEN != 0 && !env.includes(best, request.seen);
        if token_unmet && !read.widened {
            // The session saw something these replicas lack: ask every running replica.
            read.widened = true;
            self.widened_reads += 1;
            let asked = read.asked;
            let others: Vec<usize> = self.running().filter(|i| asked & 1 << i == 0).collect();
            if !others.is_empty() {
                return others.into_iter().for_each(|i| self.ask(id, i, env));
            }
        }
        let read = self.reads.remove(&id).expect("just found");
        env.reply(&request, Status::Ok, best, from as u8 + 1);
        if self.spec.read_repair {
            self.repair(&read, best, env);
        }
    }

    /// The replica whose answer wins under last-write-wins, and that answer.
    fn newest_answer(answers: &[(u32, VersionId)], env: &Env<'_>) -> (u32, VersionId) {
        let mut best = answers[0];
        for &a in &answers[1..] {
            if Self::newer(env, a.1, best.1) {
                best = a;
            }
        }
        best
    }

    /// Sends `best` to every replica that answered `read` with something older.
    fn repair(&mut self, read: &PendingRead, best: VersionId, env: &mut Env<'_>) {
        let key = read.request.key;
        for &(i, held) in &read.answers {
            if held != best && Self::newer(env, best, held) {
                self.read_repairs += 1;
                self.send_write(i as usize, key, best, env);
            }
        }
    }

    /// The coordinator crashes: writes and reads in progress are never answered.
    fn crash(&mut self, env: &mut Env<'_>) {
        self.up = false;
        for (_, w) in std::mem::take(&mut self.writes) {
            w.waiting.iter().for_each(|r| env.release(r.op));
        }
        for (_, r) in std::mem::take(&mut self.reads) {
            env.release(r.request.op);
        }
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash if self.up => self.crash(env),
            Fault::Restart if !self.up => {
                self.up = true;
                // Hints that came due while the coordinator was down are handed over now.
                let homes: std::collections::BTreeSet<usize> =
                    self.hints.iter().map(|h| h.home).collect();
                for home in homes {
                    env.timer(SimDuration::ZERO, Msg::Done { job: home as u32 });
                }
            }
            Fault::CrashReplica(i) => self.replicas[i as usize].up = false,
            Fault::RestartReplica(i) => {
                let replica = &mut self.replicas[i as usize];
                if !replica.up {
                    (replica.up, replica.back_since) = (true, env.now());
                    if let Some(after) = self.spec.hinted_handoff {
                        env.timer(after, Msg::Done { job: i });
                    }
                }
            }
            _ => {}
        }
    }
}

impl Component for QuorumStore {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        // An empty value is reported as its key's: a new first version can come of it.
        let tables = self.replicas.iter().map(|r| &r.versions).chain([&self.newest]);
        for table in tables {
            table.iter().enumerate().for_each(|(key, v)| held(v.of_key(key as u32)));
        }
        for (&v, w) in &self.writes {
            held(v);
            w.waiting.iter().for_each(|r| held(r.seen.of_key(r.key)));
        }
        for read in self.reads.values() {
            let key = read.request.key;
            held(read.request.seen.of_key(key));
            read.answers.iter().for_each(|&(_, v)| held(v.of_key(key)));
        }
        self.applied.values().copied().for_each(&mut *held);
        self.hints.iter().for_each(|h| held(h.version.of_key(h.key)));
        true
    }

    fn is_up(&self) -> bool {
        self.up
    }

    /// Read repairs sent, and reads that asked every replica to meet a session token.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let mut counts = Vec::new();
        if self.spec.read_repair {
            counts.push(("read_repairs", self.read_repairs));
        }
        counts.push(("widened_reads", self.widened_reads));
        if self.spec.hinted_handoff.is_some() {
            counts.push(("hints", self.handoff.hints));
            counts.push(("handed_off", self.handoff.handed_off));
        }
        if self.spec.spares > 0 {
            counts.push(("spare_writes", self.handoff.spare_writes));
        }
        counts
    }

    /// The newest version of each key, and each replica's table.
    fn end_state(&self, id: u32) -> Option<StoreEnd> {
        Some(StoreEnd {
            id,
            primary: self.newest.clone(),
            // The spares hold no key of their own: only the replicas must converge.
            replicas: self.replicas[..self.spec.n as usize]
                .iter()
                .map(|r| r.versions.clone())
                .collect(),
        })
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) if !self.up => env.drop_request(&request),
            Msg::Request(request) => match request.kind {
                OpKind::Write => self.on_write(request, env),
                OpKind::Read => self.on_read(request, env),
                // Validation routes these to the components that serve them, never here.
                OpKind::Control | OpKind::Stream => env.drop_request(&request),
            },
            Msg::Replicate { replica, key, version, .. } => {
                self.on_replicate(replica, key, version, env)
            }
            Msg::ReplicaAck { replica, version, .. } => self.on_ack(replica, version, env),
            Msg::ReplicaRead { replica, read } => self.on_replica_read(replica, read, env),
            Msg::ReplicaAnswer { replica, read, version } => {
                self.on_answer(replica, read, version, env)
            }
            Msg::Fault(f) => self.on_fault(f, env),
            Msg::Done { job: replica } => self.hand_off(replica as usize, env),
            other => panic!("quorum store got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, bench, deliver, ms, replies, request, run};
    use crate::engine::Sim;

    /// n = 3; writes take 10 ms to a replica, every other trip none.
    fn spec(w: u32, r: u32, read_repair: bool) -> QuorumStoreSpec {
        let zero = Dist::constant(0);
        let trips = Trips {
            write: Dist::constant(10_000_000),
            ack: zero.clone(),
            read: zero.clone(),
            response: zero,
        };
        QuorumStoreSpec {
            n: 3,
            w,
            r,
            trips: vec![trips; 3],
            read_repair,
            hinted_handoff: None,
            spares: 0,
        }
    }

    /// What happens at a time in ms.
    enum Step {
        Write(u64),
        Read(u64),
        Fault(u64, Fault),
    }

    /// Runs `script` on key 0; returns the replies (ms, version) and the store's end.
    fn script(spec: &QuorumStoreSpec, steps: &[Step]) -> (Vec<(u64, u32)>, StoreEnd) {
        let (mut sim, links) =
            bench(1, 1, |_| BuiltIn::QuorumStore(Box::new(QuorumStore::new("db", spec, 1, 7))));
        let via = links.callers[0];
        for step in steps {
            match *step {
                Step::Write(t) => _ = request(&mut sim, ms(t), via, OpKind::Write, 0),
                Step::Read(t) => _ = request(&mut sim, ms(t), via, OpKind::Read, 0),
                Step::Fault(t, f) => deliver(&mut sim, ms(t), Msg::Fault(f)),
            }
        }
        run(&mut sim, ms(1_000));
        let got = replies(&sim).into_iter().map(|(at, _, _, v)| (at.as_nanos() / 1_000_000, v.0));
        let end = sim.actor.component.end_state(0).expect("a store has an end state");
        (got.collect(), end)
    }

    #[test]
    fn a_write_is_answered_once_w_replicas_have_it_and_a_read_answers_the_newest() {
        // The write made at 1 ms reaches every replica at 11 ms: reading all three at
        // 5 ms finds only the root, at 20 ms the write.
        let steps = [Step::Write(1), Step::Read(5), Step::Read(20)];
        let (replies, end) = script(&spec(1, 3, false), &steps);
        assert_eq!(replies, [(5, 0), (11, 1), (20, 1)]);
        assert_eq!(end.replicas, [[VersionId(1)], [VersionId(1)], [VersionId(1)]]);
    }

    #[test]
    fn a_write_waits_for_a_quorum_of_running_replicas_and_read_repair_heals_the_one_behind() {
        // Replica 2 is down when the write arrives, so it never gets it; w = 2 is still
        // met by the other two. After its restart a read of all three finds it behind
        // and sends it the newest version.
        let steps = [
            Step::Fault(0, Fault::CrashReplica(2)),
            Step::Write(1),
            Step::Fault(20, Fault::RestartReplica(2)),
            Step::Read(30),
        ];
        let (replies, end) = script(&spec(2, 3, true), &steps);
        assert_eq!(replies, [(11, 1), (30, 1)]);
        assert_eq!(end.replicas[2], [VersionId(1)], "repaired by the read");
        let (_, unrepaired) = script(&spec(2, 3, false), &steps);
        assert_eq!(
            unrepaired.replicas[2],
            [VersionId::ROOT],
            "without read repair it stays behind"
        );
    }

    #[test]
    fn a_replica_with_its_own_trips_holds_back_a_write_that_waits_for_it() {
        // Replica 2's writes take 50 ms: with w = 3 the write made at 1 ms is answered
        // at 51 ms, with w = 2 at 11 ms.
        let mut s = spec(3, 1, false);
        s.trips[2].write = Dist::constant(50_000_000);
        assert_eq!(script(&s, &[Step::Write(1)]).0, [(51, 1)]);
        s.w = 2;
        assert_eq!(script(&s, &[Step::Write(1)]).0, [(11, 1)]);
    }

    #[test]
    fn without_a_quorum_of_running_replicas_a_request_is_dropped() {
        let steps = [
            Step::Fault(0, Fault::CrashReplica(1)),
            Step::Fault(0, Fault::CrashReplica(2)),
            Step::Write(1),
            Step::Read(2),
        ];
        let (replies, _) = script(&spec(2, 2, false), &steps);
        assert!(replies.is_empty(), "{replies:?}");
    }

    /// Replicas 1 and 2 down from 0 to 20 ms, back with hints handed over 30 ms later.
    fn outage() -> Vec<Step> {
        vec![
            Step::Fault(0, Fault::CrashReplica(1)),
            Step::Fault(0, Fault::CrashReplica(2)),
            Step::Write(1),
            Step::Fault(20, Fault::RestartReplica(1)),
            Step::Fault(20, Fault::RestartReplica(2)),
        ]
    }

    #[test]
    fn a_sloppy_quorum_writes_through_spares_and_hands_the_write_over_later() {
        // w = 2 with two replicas down: two spares stand in, so the write made at 1 ms
        // is answered at 11 ms. The replicas are back at 20 ms without it; the hints
        // are sent at 50 ms (the spares dropping their copies) and arrive at 60 ms.
        let mut s = spec(2, 2, false);
        (s.hinted_handoff, s.spares) = (Some(SimDuration::from_millis(30)), 2);
        s.trips = vec![s.trips[0].clone(); 5];
        let (mut sim, links) =
            bench(1, 1, |_| BuiltIn::QuorumStore(Box::new(QuorumStore::new("db", &s, 1, 7))));
        for step in outage() {
            match step {
                Step::Write(t) => _ = request(&mut sim, ms(t), links.callers[0], OpKind::Write, 0),
                Step::Fault(t, f) => deliver(&mut sim, ms(t), Msg::Fault(f)),
                Step::Read(_) => unreachable!(),
            }
        }
        run(&mut sim, ms(45));
        let BuiltIn::QuorumStore(store) = &sim.actor.component else { unreachable!() };
        let held = |i: usize| store.replicas[i].versions[0].0;
        assert_eq!([held(0), held(1), held(2), held(3), held(4)], [1, 0, 0, 1, 1]);
        run(&mut sim, ms(100));
        let BuiltIn::QuorumStore(store) = &sim.actor.component else { unreachable!() };
        let held = |i: usize| store.replicas[i].versions[0].0;
        assert_eq!([held(0), held(1), held(2), held(3), held(4)], [1, 1, 1, 0, 0]);
        assert_eq!(
            replies(&sim).iter().map(|r| r.0.as_nanos() / 1_000_000).collect::<Vec<_>>(),
            [11]
        );
        let counts = store.counts();
        assert!(counts.contains(&("handed_off", 2)) && counts.contains(&("spare_writes", 2)));
    }

    #[test]
    fn a_strict_quorum_with_hinted_handoff_still_needs_w_replicas_running() {
        // Two of three replicas down and w = 2: no write is possible, hints or not.
        let mut s = spec(2, 2, false);
        s.hinted_handoff = Some(SimDuration::from_millis(30));
        let (replies, end) = script(&s, &outage());
        assert!(replies.is_empty(), "{replies:?}");
        assert_eq!(end.replicas, [[VersionId::ROOT]; 3]);
    }

    #[test]
    fn hinted_handoff_brings_a_replica_back_up_to_date_without_a_read() {
        // w = 2 with replica 2 down: the coordinator keeps a hint, handed over 30 ms
        // after the restart at 20 ms; the write reaches replica 2 at 60 ms.
        let mut s = spec(2, 2, false);
        s.hinted_handoff = Some(SimDuration::from_millis(30));
        let steps = [
            Step::Fault(0, Fault::CrashReplica(2)),
            Step::Write(1),
            Step::Fault(20, Fault::RestartReplica(2)),
        ];
        let (replies, end) = script(&s, &steps);
        assert_eq!(replies, [(11, 1)]);
        assert_eq!(end.replicas[2], [VersionId(1)]);
    }

    #[test]
    fn hints_wait_the_handoff_delay_after_the_latest_restart() {
        // Replica 2 misses the write, is back at 20 ms, down again at 30 and back at 45:
        // the timer of the first restart (50 ms) hands nothing over; the hint goes at 75
        // ms and arrives at 85.
        let mut s = spec(2, 2, false);
        s.hinted_handoff = Some(SimDuration::from_millis(30));
        let (mut sim, links) =
            bench(1, 1, |_| BuiltIn::QuorumStore(Box::new(QuorumStore::new("db", &s, 1, 7))));
        deliver(&mut sim, ms(0), Msg::Fault(Fault::CrashReplica(2)));
        request(&mut sim, ms(1), links.callers[0], OpKind::Write, 0);
        for (at, f) in [
            (20, Fault::RestartReplica(2)),
            (30, Fault::CrashReplica(2)),
            (45, Fault::RestartReplica(2)),
        ] {
            deliver(&mut sim, ms(at), Msg::Fault(f));
        }
        let held = |sim: &Sim<BenchWorld>| match &sim.actor.component {
            BuiltIn::QuorumStore(store) => store.replicas[2].versions[0].0,
            _ => unreachable!(),
        };
        run(&mut sim, ms(80));
        assert_eq!(held(&sim), 0, "handed over too early");
        run(&mut sim, ms(90));
        assert_eq!(held(&sim), 1);
    }
}
