//! A store: one primary and `replicas` asynchronous replicas of a key-value table whose
//! values are versions in the history's version DAG.
//!
//! Every write goes to the primary. Its conflict policy decides the new version's
//! parents and whether it becomes the head (see `ConflictPolicy`); an idempotent write
//! whose message the primary already applied gets the earlier version back. A new head
//! is shipped to each replica after a lag drawn from that replica's own stream; a
//! replica applies only versions newer than what it holds, so reordered replication
//! never moves it backwards. With an ordered stream (`ReplicationMode`) a write arrives
//! no earlier than the one before it; with semi-synchronous or synchronous replication
//! the write's answer waits for replicas' acknowledgements. Each replica counts what it
//! applied (its replication position), and a failover to the freshest promotes the
//! highest. Reads are served by the primary or by a random replica; a read with a
//! session token that the replica cannot honour goes to the primary.
//!
//! Faults: a crash takes the primary down (requests to it are dropped) and, with
//! snapshot durability, rolls its table back to the last snapshot; a restart or a
//! failover starts a new epoch: replication messages of the old one are ignored and the
//! replicas are re-cloned from the (new) primary. Lag spikes scale replication lag;
//! clock jumps move the primary's clock.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::capacity::{Capacity, Load};
use super::env::Env;
use super::failure_detector::{FailoverSpec, FailureDetector, RawFailover};
use super::kind::{BuildContext, KindFile};
use super::message::{FLAG_IDEMPOTENT, FLAG_ON_HEAD, FLAG_TOKEN, Fault, Msg, Request, Status};
use crate::check::{HeadCause, HeadMove, Histogram, OpKind, StoreEnd, VersionId};
use crate::engine::{Dist, LinkId, SimDuration, SimTime, Stream};
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::{Dur, Problems, RawCapacity, RawDist};
use crate::model::{CapacitySpec, Promote};

// The kind: its file shape, validation, contract and build.

/// Most replicas a store may declare.
pub const REPLICAS_MAX: u32 = 64;

/// Most shards a store may have.
pub const SHARDS_MAX: u32 = 256;

/// Store parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Store")]
pub struct RawStore {
    /// Number of read replicas.
    #[serde(default)]
    pub replicas: u32,
    /// Replication settings (only with replicas).
    #[serde(default)]
    pub replication: Option<RawReplication>,
    /// Where reads are served: `primary` or `any_replica`.
    #[serde(default)]
    pub reads: RawReads,
    /// `overwrite(clock: server)` (the default), `overwrite(clock: client)`,
    /// `version_check` or `merge`.
    #[serde(default)]
    pub conflict: RawConflict,
    /// `wal` (the default) or `snapshot(every: "30s")`.
    #[serde(default)]
    pub durability: RawDurability,
    /// `(workers: 8, service: exp("2ms"), queue: 1000)`: without it, requests are served
    /// the moment they arrive.
    #[serde(default)]
    pub capacity: Option<RawCapacity>,
    /// Primaries the keys are split over, each with its own capacity.
    #[serde(default = "crate::model::shape::one")]
    pub shards: u32,
    /// `by_org` (the default) or `by_document`.
    #[serde(default)]
    pub partition: RawPartition,
    /// How long the store remembers a message it applied by its idempotency key, e.g.
    /// `"24h"` (default: the whole run). A retry after that is applied again.
    #[serde(default)]
    pub idempotency_retention: Option<Dur>,
    /// Automatic failover (only with replicas): `(heartbeat: "1s", timeout: "3s",
    /// fencing: term, reroute: "5s")`.
    #[serde(default)]
    pub failover: Option<RawFailover>,
}

/// How a sharded store maps keys to shards.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "partition")]
pub enum RawPartition {
    /// All of an organisation's documents on one shard.
    #[default]
    ByOrg,
    /// Each document on its own shard.
    ByDocument,
}

/// Conflict policies.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[serde(rename = "conflict")]
pub enum RawConflict {
    /// Last-write-wins on a clock.
    Overwrite {
        /// `server` or `client`.
        #[serde(default)]
        clock: RawClockSource,
    },
    /// Optimistic concurrency.
    VersionCheck,
    /// Keep both parents.
    Merge,
}

impl Default for RawConflict {
    fn default() -> Self {
        RawConflict::Overwrite { clock: RawClockSource::Server }
    }
}

/// Whose clock stamps last-write-wins versions.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "clock")]
pub enum RawClockSource {
    /// The store's.
    #[default]
    Server,
    /// The writer's.
    Client,
}

/// What survives a crash.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[serde(rename = "durability")]
pub enum RawDurability {
    /// A write-ahead log: everything acknowledged.
    #[default]
    Wal,
    /// Periodic snapshots.
    Snapshot {
        /// Time between snapshots.
        every: Dur,
    },
}

/// Replication settings.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "replication")]
pub struct RawReplication {
    /// Delay from the primary's write to its arrival at a replica.
    pub lag: RawDist,
    /// `independent` (the default), `stream`, `semi_sync(acks: 1)` or `sync`.
    #[serde(default)]
    pub mode: RawReplicationMode,
    /// Delay of a replica's acknowledgement back to the primary (only with `semi_sync`
    /// or `sync`; default 0).
    #[serde(default)]
    pub ack: Option<RawDist>,
}

impl Default for RawReplication {
    fn default() -> Self {
        RawReplication {
            lag: RawDist::Const(Dur(SimDuration::ZERO)),
            mode: RawReplicationMode::default(),
            ack: None,
        }
    }
}

/// How writes travel to the replicas and when the primary acknowledges them.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[serde(rename = "mode")]
#[schemars(rename = "replication_mode")]
pub enum RawReplicationMode {
    /// Each write reaches each replica after its own lag, in any order.
    #[default]
    Independent,
    /// One ordered stream per replica: a write applies no earlier than the one before.
    Stream,
    /// A stream, and the primary acknowledges once `acks` replicas have the write.
    SemiSync {
        /// Replicas that must have the write before the client hears back.
        acks: u32,
    },
    /// A stream, and the primary acknowledges once every replica has the write.
    Sync,
}

/// Read consistency settings.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "reads")]
pub enum RawReads {
    /// Read from the primary.
    #[default]
    Primary,
    /// Read from a random replica.
    AnyReplica,
}

/// Store parameters: one primary, `replicas` replicas.
#[derive(Debug, Clone)]
pub struct StoreSpec {
    /// Number of read replicas.
    pub replicas: u32,
    /// Delay between a write on the primary and its arrival at each replica.
    pub replication_lag: Dist,
    /// How writes reach the replicas and when the primary acknowledges them.
    pub replication_mode: ReplicationMode,
    /// Delay of a replica's acknowledgement back to the primary.
    pub replica_ack: Dist,
    /// Where reads are served.
    pub reads: ReadConsistency,
    /// How a write's parents are chosen, and whether it may be refused.
    pub conflict: ConflictPolicy,
    /// What survives a crash of the primary.
    pub durability: Durability,
    /// Workers and service time of the primary and of each replica; `None`: requests
    /// are served the moment they arrive.
    pub capacity: Option<CapacitySpec>,
    /// Primaries the keys are split over (each with its own capacity).
    pub shards: u32,
    /// How keys map to shards.
    pub partition: Partition,
    /// How long an applied message is remembered by its idempotency key (`None`: the
    /// whole run).
    pub idempotency_retention: Option<SimDuration>,
    /// A failure detector that promotes a replica, fencing, and the clients' delay in
    /// following (`None`: failovers happen only as faults).
    pub failover: Option<FailoverSpec>,
}

/// How writes reach a store's replicas and when the primary acknowledges them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicationMode {
    /// Each write ships to each replica with its own lag; they may arrive out of order.
    /// The primary acknowledges at once.
    Independent,
    /// One ordered log per replica (per shard): a write applies no earlier than the
    /// write before it, as with Postgres or MySQL. The primary acknowledges at once.
    Stream,
    /// A stream, and the primary acknowledges a write once `acks` replicas have applied
    /// it and their acknowledgements are back.
    SemiSync {
        /// Replicas that must have the write.
        acks: u32,
    },
    /// A stream, and the primary acknowledges once every replica has the write.
    Sync,
}

impl ReplicationMode {
    /// Whether each replica applies writes in the order the primary made them.
    pub fn ordered(self) -> bool {
        self != ReplicationMode::Independent
    }

    /// Replicas (of `replicas`) that must have a write before its client hears back.
    pub fn acks_needed(self, replicas: u32) -> u32 {
        match self {
            ReplicationMode::Independent | ReplicationMode::Stream => 0,
            ReplicationMode::SemiSync { acks } => acks,
            ReplicationMode::Sync => replicas,
        }
    }
}

/// How a sharded store maps documents to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// By the document's organisation: an organisation lives on one shard.
    ByOrg,
    /// By the document itself.
    ByDocument,
}

/// How a store decides a new version's parents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// Last-write-wins: the parent is what the writer saw (anything it did not see is
    /// orphaned), and the newer timestamp on this clock becomes the head.
    Overwrite(ClockSource),
    /// Optimistic concurrency: a write based on anything but the head is refused.
    VersionCheck,
    /// CRDT-like: the new version's parents are the head and what the writer saw.
    Merge,
}

/// Whose clock stamps a last-write-wins version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSource {
    /// The writer's clock (with its skew and drift).
    Client,
    /// The store primary's clock.
    Server,
}

/// What a store's primary keeps through a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every acknowledged write is in a write-ahead log: nothing is lost.
    Wal,
    /// The table is saved every so often; a crash rolls back to the last save.
    Snapshot {
        /// Time between snapshots.
        every: crate::engine::SimDuration,
    },
}

/// Where a store serves reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConsistency {
    /// Always from the primary: never stale.
    Primary,
    /// From a replica chosen uniformly at random: may be stale.
    AnyReplica,
}

impl KindFile for RawStore {
    type Spec = StoreSpec;
    type Actor = Box<Store>;

    fn validate(&self, c: &mut Problems) -> StoreSpec {
        let s = self;
        if s.replicas > REPLICAS_MAX {
            let msg = format!("a store has at most {REPLICAS_MAX} replicas, found {}", s.replicas);
            c.error(&["replicas"], msg, None);
        }
        let reads = match s.reads {
            RawReads::Primary => ReadConsistency::Primary,
            RawReads::AnyReplica => ReadConsistency::AnyReplica,
        };
        if reads == ReadConsistency::AnyReplica && s.replicas == 0 {
            let msg = "`reads: any_replica` needs at least one replica, found `replicas: 0`".into();
            let hint = Some("set `replicas` above 0, or use `reads: primary`".into());
            c.error(&["reads"], msg, hint);
        }
        if s.replication.is_some() && s.replicas == 0 {
            let msg = "`replication` has no effect on a store without replicas".into();
            let hint = Some("set `replicas` above 0, or remove `replication`".into());
            c.error(&["replication"], msg, hint);
        }
        let replication = s.replication.clone().unwrap_or_default();
        let lag = c.dist(&["replication", "lag"], &replication.lag);
        let mode = replication_mode(&replication, s.replicas, c);
        let replica_ack = match &replication.ack {
            Some(ack) => c.dist(&["replication", "ack"], ack),
            None => Dist::constant(0),
        };
        let conflict = match s.conflict {
            RawConflict::Overwrite { clock: RawClockSource::Server } => {
                ConflictPolicy::Overwrite(ClockSource::Server)
            }
            RawConflict::Overwrite { clock: RawClockSource::Client } => {
                ConflictPolicy::Overwrite(ClockSource::Client)
            }
            RawConflict::VersionCheck => ConflictPolicy::VersionCheck,
            RawConflict::Merge => ConflictPolicy::Merge,
        };
        let durability = match s.durability {
            RawDurability::Wal => Durability::Wal,
            RawDurability::Snapshot { every } => {
                if every.0 == SimDuration::ZERO {
                    let msg = "snapshot `every` must be above 0".to_string();
                    c.error(&["durability"], msg, None);
                }
                Durability::Snapshot { every: every.0 }
            }
        };
        let capacity = s.capacity.as_ref().map(|x| c.capacity(&["capacity"], x));
        c.count(&["shards"], s.shards, SHARDS_MAX);
        let partition = match s.partition {
            RawPartition::ByOrg => Partition::ByOrg,
            RawPartition::ByDocument => Partition::ByDocument,
        };
        let retention = s.idempotency_retention.map(|d| d.0);
        if retention == Some(SimDuration::ZERO) {
            let msg = "`idempotency_retention` must be above 0".to_string();
            c.error(&["idempotency_retention"], msg, Some("e.g. \"24h\"".into()));
        }
        StoreSpec {
            replicas: s.replicas,
            replication_lag: lag,
            replication_mode: mode,
            replica_ack,
            reads,
            conflict,
            durability,
            capacity,
            shards: s.shards,
            partition,
            idempotency_retention: retention,
            failover: s.failover.as_ref().map(|f| f.validate(s.replicas, c)),
        }
    }

    /// Builds the store; app servers that listen for commits are notified of each.
    fn build(spec: &StoreSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        if spec.reads == ReadConsistency::AnyReplica && spec.replicas == 0 {
            return Err(format!("store `{}` reads from replicas but has none", ctx.name));
        }
        let keys = ctx.scenario.clients.key_count();
        let store = Store::new(ctx.name, spec, keys, ctx.scenario.seed)
            .with_orgs(&ctx.scenario.clients.key_orgs());
        let listening =
            ctx.incoming.iter().filter(|(_, role)| *role == Some(super::app_server::LISTENING));
        let listeners = listening.map(|&(link, _)| link).collect();
        Ok(Box::new(store.with_listeners(listeners)))
    }
}

/// The replication mode, refusing acknowledgements that cannot be had or would change
/// nothing.
fn replication_mode(r: &RawReplication, replicas: u32, c: &mut Problems) -> ReplicationMode {
    let mode = match r.mode {
        RawReplicationMode::Independent => ReplicationMode::Independent,
        RawReplicationMode::Stream => ReplicationMode::Stream,
        RawReplicationMode::SemiSync { acks } => ReplicationMode::SemiSync { acks },
        RawReplicationMode::Sync => ReplicationMode::Sync,
    };
    if let ReplicationMode::SemiSync { acks } = mode
        && replicas > 0
        && !(1..=replicas).contains(&acks)
    {
        let msg = format!(
            "`semi_sync` needs `acks` between 1 and {replicas} (the replicas), found {acks}"
        );
        let hint = Some("`acks: 1` waits for the first replica; `sync` waits for all".into());
        c.error(&["replication", "mode"], msg, hint);
    }
    if r.ack.is_some() && mode.acks_needed(replicas) == 0 {
        let msg = "`ack` has no effect: the primary does not wait for replicas in this mode".into();
        let hint = Some("use `mode: semi_sync(acks: 1)` or `mode: sync`, or remove `ack`".into());
        c.error(&["replication", "ack"], msg, hint);
    }
    mode
}

impl KindSpec for StoreSpec {
    /// A store answers requests itself. It can crash and have its clock jump; with replicas
    /// it can also fail over and take lag spikes.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("store", Serves::Data);
        c.replicas = self.replicas;
        c.faults.extend([FaultKind::Crash, FaultKind::ClockJump]);
        c.slows(self.capacity.is_some());
        if self.replicas > 0 {
            c.faults.extend([FaultKind::Failover, FaultKind::LagSpike, FaultKind::Isolate]);
        } else {
            c.refusals.push((FaultKind::Failover, "it has no replica to promote".into()));
            let why = "it has no replicas, so a lag spike would change nothing";
            c.refusals.push((FaultKind::LagSpike, why.into()));
            let why = "it has no replicas to be cut off from";
            c.refusals.push((FaultKind::Isolate, why.into()));
        }
        c
    }
}

// The component.

/// One replica's copy of the table and its replication stream.
#[derive(Debug)]
struct Replica {
    versions: Vec<VersionId>,
    /// Draws this replica's lag; named after the replica so other components never shift it.
    rng: Stream,
    /// Draws the delay of its acknowledgements, apart so acknowledging shifts no lag.
    ack_rng: Stream,
    /// Its replication position: the writes of this epoch it has applied. With an
    /// ordered stream that is exactly the last write of the stream it applied.
    position: u64,
    /// Whether it runs: a crashed replica applies, serves and acknowledges nothing.
    up: bool,
    /// Writes shipped up to this version reached it in the clone it restarted from;
    /// their replication still in flight changes nothing.
    cloned_through: VersionId,
}

/// A write the primary made that waits for replicas' acknowledgements before its
/// requests are answered.
#[derive(Debug, Default)]
struct Unacknowledged {
    /// The request that made it, and any retry of it that found it already applied.
    waiting: Vec<Request>,
    /// Replicas whose acknowledgement is back, one bit each (at most `REPLICAS_MAX`).
    acked: u64,
}

/// Every message each client had applied, for idempotency keys: per client, by message
/// number, the version it made and the event that applied it. A late first attempt of
/// an old message still finds it, however many messages came since.
#[derive(Debug, Clone, Default)]
struct Applied {
    /// By client index (dense, so a lookup is two indexings).
    clients: Vec<Vec<(VersionId, u64)>>,
}

impl Applied {
    /// The version `client`'s message `message` made, if it was applied.
    #[inline]
    fn get(&self, client: u32, message: u32) -> Option<VersionId> {
        let row = self.clients.get(client as usize)?;
        let &(v, _) = row.get(message as usize)?;
        (v != VersionId::ROOT).then_some(v)
    }

    /// Remembers that `event` applied `client`'s message `message` as `v`.
    fn insert(&mut self, client: u32, message: u32, v: VersionId, event: u64) {
        if client == u32::MAX {
            return; // A server's own write: no client, no key to remember.
        }
        let (c, i) = (client as usize, message as usize);
        if self.clients.len() <= c {
            self.clients.resize_with(c + 1, Vec::new);
        }
        let row = &mut self.clients[c];
        if row.len() <= i {
            row.resize(i + 1, (VersionId::ROOT, 0));
        }
        row[i] = (v, event);
    }

    /// Forgets what was applied after `event`: a restart from a snapshot taken then.
    fn forget_after(&mut self, event: u64) {
        for row in &mut self.clients {
            for entry in row.iter_mut().filter(|(_, at)| *at > event) {
                *entry = (VersionId::ROOT, 0);
            }
        }
    }
}

/// What the primary saved last, with snapshot durability.
#[derive(Debug, Clone)]
struct Snapshot {
    every: SimDuration,
    taken: SimTime,
    /// The event that took it: what was applied after it is not in it.
    taken_event: u64,
    table: Vec<VersionId>,
}

/// What a store wrote to durable storage.
#[derive(Debug, Default)]
struct Durable {
    snapshots: u64,
    documents_saved: u64,
    log_appends: u64,
    notifications: u64,
}

/// A primary/replica key-value store.
#[derive(Debug)]
pub struct Store {
    primary: Vec<VersionId>,
    replicas: Vec<Replica>,
    lag: Dist,
    lag_milli: u32,
    mode: ReplicationMode,
    ack_delay: Dist,
    /// Writes this epoch shipped to every replica.
    shipped: u64,
    /// With an ordered stream, per shard and replica (`shard * replicas + replica`), when
    /// the last write shipped arrives: the next arrives no earlier.
    tails: Vec<SimTime>,
    /// Writes waiting for replicas' acknowledgements, by version.
    unacknowledged: BTreeMap<VersionId, Unacknowledged>,
    reads: ReadConsistency,
    conflict: ConflictPolicy,
    snapshot: Option<Snapshot>,
    applied: Applied,
    up: bool,
    epoch: u32,
    clock_offset_ns: i64,
    token_fallbacks: u64,
    /// Durable writes: full documents saved by snapshots, records appended to the log.
    durable: Durable,
    lags: Histogram,
    /// Primaries the keys are split over: nodes `0..shards` are the shards' primaries,
    /// node `shards + i` is replica `i`.
    shards: usize,
    /// Per key, its shard (empty with one shard).
    shard_of: Vec<u16>,
    partition: Partition,
    /// Shards the biggest organisation's documents are spread over.
    biggest_org_shards: u64,
    /// Queues of each node; empty without capacity.
    capacity: Vec<Capacity<Request>>,
    /// Links from the servers told of every commit (LISTEN/NOTIFY).
    listeners: Vec<LinkId>,
    /// How long an applied message is remembered by its key (`None`: the whole run).
    idempotency_retention: Option<SimDuration>,
    /// Automatic failover: its settings and what the detector knows.
    auto: Option<(FailoverSpec, FailureDetector)>,
    /// The primary's term: each promotion begins a new one.
    term: u32,
    /// Isolations in force: each strike's number and the term of the primary it cut off.
    cuts: Vec<(u32, u32)>,
    /// Whether the current primary is cut off from its replicas and failure detector.
    isolated: bool,
    /// The primary a promotion deposed while it was cut off but running.
    deposed: Option<Deposed>,
    /// Until when clients still send to the primary of the term before.
    reroute_until: SimTime,
    /// What automatic failover did.
    terms: TermCounts,
}

/// A primary deposed while cut off but running: it keeps its own copy of the table and,
/// without fencing, takes the writes of the clients that still reach it.
#[derive(Debug)]
struct Deposed {
    table: Vec<VersionId>,
    term: u32,
    /// When, and by which event, the term after it began.
    since: (SimTime, u64),
    applied: Applied,
}

/// What automatic failover did, for the summary.
#[derive(Debug, Default)]
struct TermCounts {
    promotions: u64,
    /// Over the detector's promotions, the time from the primary's silence to each.
    detection_ns: u64,
    split_brain_writes: u64,
    fenced_writes: u64,
}

impl Store {
    /// Whether `version`, shipped to `replica` in `epoch`, would be applied now: one
    /// shipped by a primary that has since crashed or been replaced is void, and one
    /// reaching a replica that is down, cut off from the primary or already cloned past
    /// it changes nothing.
    pub fn applies_replication(&self, replica: u32, version: VersionId, epoch: u32) -> bool {
        let r = &self.replicas[replica as usize];
        epoch == self.epoch && !self.isolated && r.up && version > r.cloned_through
    }

    /// A store named `name` holding `key_count` keys, all at the root version.
    pub fn new(name: &str, spec: &StoreSpec, key_count: u32, seed: u64) -> Store {
        let replicas = (0..spec.replicas)
            .map(|i| Replica {
                versions: vec![VersionId::ROOT; key_count as usize],
                rng: Stream::new(seed, &format!("{name}/replica/{i}")),
                ack_rng: Stream::new(seed, &format!("{name}/replica/{i}/ack")),
                position: 0,
                up: true,
                cloned_through: VersionId::ROOT,
            })
            .collect();
        if spec.reads == ReadConsistency::AnyReplica {
            assert!(spec.replicas > 0, "replica reads need a replica");
        }
        let snapshot = match spec.durability {
            Durability::Wal => None,
            Durability::Snapshot { every } => Some(Snapshot {
                every,
                taken: SimTime::ZERO,
                taken_event: 0,
                table: vec![VersionId::ROOT; key_count as usize],
            }),
        };
        Store {
            primary: vec![VersionId::ROOT; key_count as usize],
            replicas,
            lag: spec.replication_lag.clone(),
            lag_milli: 1000,
            mode: spec.replication_mode,
            ack_delay: spec.replica_ack.clone(),
            shipped: 0,
            tails: match spec.replication_mode.ordered() {
                true => vec![SimTime::ZERO; (spec.shards.max(1) * spec.replicas) as usize],
                false => Vec::new(),
            },
            unacknowledged: BTreeMap::new(),
            reads: spec.reads,
            conflict: spec.conflict,
            snapshot,
            applied: Applied::default(),
            up: true,
            epoch: 0,
            clock_offset_ns: 0,
            token_fallbacks: 0,
            durable: Durable::default(),
            lags: Histogram::default(),
            shards: spec.shards.max(1) as usize,
            shard_of: Vec::new(),
            partition: spec.partition,
            idempotency_retention: spec.idempotency_retention,
            biggest_org_shards: 1,
            capacity: match &spec.capacity {
                Some(c) => {
                    let nodes = spec.shards.max(1) + spec.replicas;
                    (0..nodes).map(|node| Capacity::new(c, node)).collect()
                }
                None => Vec::new(),
            },
            listeners: Vec::new(),
            auto: spec.failover.map(|f| {
                let mut rng = Stream::new(seed, &format!("{name}/failure_detector"));
                (f, FailureDetector::new(f.detector, &mut rng))
            }),
            term: 1,
            cuts: Vec::new(),
            isolated: false,
            deposed: None,
            reroute_until: SimTime::ZERO,
            terms: TermCounts::default(),
        }
    }

    /// The store with its keys dealt to shards: by organisation (`key_orgs` is each
    /// key's) or by key.
    pub fn with_orgs(mut self, key_orgs: &[u32]) -> Store {
        if self.shards > 1 {
            let n = self.shards as u32;
            let shard = |(key, &org): (usize, &u32)| match self.partition {
                Partition::ByOrg => (org % n) as u16,
                Partition::ByDocument => (key as u32 % n) as u16,
            };
            self.shard_of = key_orgs.iter().enumerate().map(shard).collect();
            let biggest = self.shard_of.iter().zip(key_orgs).filter(|&(_, &org)| org == 0);
            let spanned: std::collections::BTreeSet<u16> = biggest.map(|(&s, _)| s).collect();
            self.biggest_org_shards = spanned.len() as u64;
        }
        self
    }

    /// The shard whose primary holds `key`.
    fn shard(&self, key: u32) -> usize {
        self.shard_of.get(key as usize).map_or(0, |&s| usize::from(s))
    }

    /// The store with servers to notify of each commit, over their links to it.
    pub fn with_listeners(mut self, listeners: Vec<LinkId>) -> Store {
        self.listeners = listeners;
        self
    }

    /// Every replication lag this store drew.
    pub fn lags(&self) -> &Histogram {
        &self.lags
    }

    /// The version of `key` held by replica `replica` (for tests and reports).
    pub fn replica_version(&self, replica: usize, key: u32) -> VersionId {
        self.replicas[replica].versions[key as usize]
    }

    /// The version of `key` on the primary.
    pub fn primary_version(&self, key: u32) -> VersionId {
        self.primary[key as usize]
    }

    /// Reads with a session token that a replica could not honour.
    pub fn token_fallbacks(&self) -> u64 {
        self.token_fallbacks
    }

    /// Draws the next lag of replica `replica` (exposed so tests can pin its stream).
    pub fn draw_lag(&mut self, replica: usize) -> u64 {
        let lag = self.lag.sample(&mut self.replicas[replica].rng);
        if self.lag_milli == 1000 {
            lag
        } else {
            lag.saturating_mul(u64::from(self.lag_milli)) / 1000
        }
    }

    fn move_head(&mut self, key: u32, to: VersionId, cause: HeadCause, env: &mut Env<'_>) {
        let from = std::mem::replace(&mut self.primary[key as usize], to);
        let mv =
            HeadMove { store: env.id.0, key, from, to, cause, at: env.now(), event: env.event() };
        env.head_moved(mv);
        self.replicate(key, to, env);
        self.notify(key, to, env);
    }

    /// Tells every listening server of a commit, over its own link back.
    fn notify(&mut self, key: u32, version: VersionId, env: &mut Env<'_>) {
        let from = env.id.0;
        for &link in &self.listeners {
            self.durable.notifications += 1;
            env.send(link, Msg::Publish { key, version, from });
        }
    }

    /// Ships `version` to every replica; with an ordered stream it arrives no earlier
    /// than the write shipped before it on the same stream. A write that waits for
    /// acknowledgements is remembered until they are back.
    fn replicate(&mut self, key: u32, version: VersionId, env: &mut Env<'_>) {
        if self.replicas.is_empty() {
            return;
        }
        let stream = self.shard(key) * self.replicas.len();
        for i in 0..self.replicas.len() {
            let mut delay = SimDuration(self.draw_lag(i));
            if let Some(tail) = self.tails.get_mut(stream + i) {
                let arrival = env.now().after(delay).max(*tail);
                *tail = arrival;
                delay = arrival.since(env.now());
            }
            self.lags.record(delay.as_nanos());
            let msg = Msg::Replicate { replica: i as u32, key, version, epoch: self.epoch };
            env.timer(delay, msg);
        }
        self.shipped += 1;
        if self.mode.acks_needed(self.replicas.len() as u32) > 0 {
            self.unacknowledged.insert(version, Unacknowledged::default());
        }
    }

    fn write(&mut self, r: &Request, env: &mut Env<'_>) -> (Status, VersionId) {
        if let Some(v) = self.already_applied(&self.applied, r, env) {
            return (Status::Ok, v); // Already applied: the same answer again.
        }
        let key = r.key;
        let head = self.primary[key as usize];
        let Some((v, wins)) = self.make_version(head, r, env) else {
            return (Status::Rejected, head);
        };
        if wins {
            self.move_head(key, v, HeadCause::Write, env);
        } else {
            let (store, at, event) = (env.id.0, env.now(), env.event());
            let cause = HeadCause::LostRace;
            env.head_moved(HeadMove { store, key, from: head, to: v, cause, at, event });
        }
        self.remember(r, v, env);
        self.durable.log_appends += u64::from(self.snapshot.is_none());
        (Status::Ok, v)
    }

    /// The version an idempotent write's message already made, if `applied` holds it
    /// and still remembers it.
    fn already_applied(&self, applied: &Applied, r: &Request, env: &Env<'_>) -> Option<VersionId> {
        if r.flags & FLAG_IDEMPOTENT == 0 {
            return None;
        }
        let inv = env.invocation(r.op);
        let remembered = |v: &VersionId| {
            let retention = self.idempotency_retention;
            retention.is_none_or(|r| env.now().since(env.version(*v).created) <= r)
        };
        applied.get(inv.client, inv.message).filter(remembered)
    }

    /// Remembers an idempotent write's message as applied by the primary.
    fn remember(&mut self, r: &Request, v: VersionId, env: &Env<'_>) {
        if r.flags & FLAG_IDEMPOTENT != 0 {
            let inv = env.invocation(r.op);
            self.applied.insert(inv.client, inv.message, v, env.event());
        }
    }

    /// The version a write makes on top of `head` under the conflict policy, and whether
    /// it becomes the head; `None` when a version check refuses it.
    fn make_version(
        &self,
        head: VersionId,
        r: &Request,
        env: &mut Env<'_>,
    ) -> Option<(VersionId, bool)> {
        // A server's append applies on top of whatever the head is.
        let seen = if r.flags & FLAG_ON_HEAD != 0 { head } else { r.seen };
        let server_clock = env.now().0 as i64 + self.clock_offset_ns;
        let store = env.id.0;
        Some(match self.conflict {
            ConflictPolicy::VersionCheck if seen != head => return None,
            ConflictPolicy::VersionCheck => {
                (env.create_version(r.op, store, server_clock, &[head]), true)
            }
            ConflictPolicy::Merge => {
                (env.create_version(r.op, store, server_clock, &[head, seen]), true)
            }
            ConflictPolicy::Overwrite(clock) => {
                let stamp = match clock {
                    ClockSource::Client => env.invocation(r.op).stamp,
                    ClockSource::Server => server_clock,
                };
                let v = env.create_version(r.op, store, stamp, &[seen]);
                let head_stamp = env.version(head).stamp;
                (v, (stamp, v) > (head_stamp, head))
            }
        })
    }

    /// The node that serves `r`: its shard's primary, or a random replica.
    fn route(&self, r: &Request, env: &mut Env<'_>) -> usize {
        if r.kind == OpKind::Read && self.reads == ReadConsistency::AnyReplica {
            self.shards + env.rng().below(self.replicas.len() as u64) as usize
        } else {
            self.shard(r.key)
        }
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let for_primary = request.kind == OpKind::Write || self.reads == ReadConsistency::Primary;
        if for_primary && env.now() < self.reroute_until {
            return self.serve_deposed(request, env); // The client has not followed yet.
        }
        let node = self.route(&request, env);
        self.admit(node, request, env);
    }

    /// Serves `request` on `node` now, or queues it there when the store has capacity.
    fn admit(&mut self, node: usize, request: Request, env: &mut Env<'_>) {
        if node < self.shards && !self.up {
            return env.drop_request(&request); // The primary is down.
        }
        match self.capacity.get_mut(node) {
            Some(queue) => {
                if let Err(turned) = queue.arrive(request, env) {
                    env.drop_request(&turned); // Queue full: the client times out.
                }
            }
            None => self.serve(node, request, env),
        }
    }

    /// A worker of some node finished its request.
    fn on_done(&mut self, job: u32, env: &mut Env<'_>) {
        let (node, worker) = Capacity::<Request>::split(job);
        let Some(queue) = self.capacity.get_mut(node as usize) else { return };
        if let Some(request) = queue.done(worker, env) {
            self.serve(node as usize, request, env);
        }
    }

    /// Answers `request` on `node`. A replica that cannot honour a read's session token
    /// sends the read on to the primary.
    fn serve(&mut self, node: usize, request: Request, env: &mut Env<'_>) {
        let replica = node.checked_sub(self.shards);
        let answer = match (request.kind, replica) {
            (OpKind::Write, _) if self.up => Some(self.write(&request, env)),
            (OpKind::Write, _) => None,
            (OpKind::Read, Some(r)) if !self.replicas[r].up => None,
            (OpKind::Read, Some(r)) => {
                let v = self.replicas[r].versions[request.key as usize];
                let honours = request.flags & FLAG_TOKEN == 0 || env.includes(v, request.seen);
                if !honours {
                    self.token_fallbacks += 1;
                    return self.admit(self.shard(request.key), request, env);
                }
                Some((Status::Ok, v))
            }
            (OpKind::Read, None) => {
                self.up.then(|| (Status::Ok, self.primary[request.key as usize]))
            }
            // Validation routes these to the components that serve them, never here.
            (OpKind::Control | OpKind::Stream, _) => None,
        };
        // A write is answered once replicas have it; reads see it on the primary at once.
        if let (OpKind::Write, Some((Status::Ok, v))) = (request.kind, answer)
            && let Some(w) = self.unacknowledged.get_mut(&v)
        {
            return w.waiting.push(request); // Answered when the replicas have it.
        }
        // Replies name a primary 0 and replica `i` as `i + 1`.
        let source = replica.map_or(0, |r| r as u8 + 1);
        match answer {
            Some((status, version)) => env.reply(&request, status, version, source),
            None => env.drop_request(&request), // The node is down.
        }
    }

    /// Answers `request` as the primary of the term before would: gone (crashed), it
    /// answers nothing; deposed but running, it serves its own copy, and takes writes
    /// unless fencing refuses them.
    fn serve_deposed(&mut self, request: Request, env: &mut Env<'_>) {
        let fencing = self.auto.as_ref().is_some_and(|(spec, _)| spec.fencing);
        // The clients' old primary is the previous term's; an older one is long gone.
        let previous = self.deposed.as_ref().filter(|d| d.term + 1 == self.term);
        let Some(d) = previous else { return env.drop_request(&request) };
        let held = d.table[request.key as usize];
        if request.kind == OpKind::Write
            && let Some(v) = self.already_applied(&d.applied, &request, env)
        {
            // A retry of a message it applied gets the same answer; nothing is written.
            // With replicas to wait for, that answer never comes.
            return match self.mode.acks_needed(self.replicas.len() as u32) {
                0 => env.reply(&request, Status::Ok, v, 0),
                _ => env.drop_request(&request),
            };
        }
        match request.kind {
            OpKind::Read => env.reply(&request, Status::Ok, held, 0),
            OpKind::Write if fencing => {
                // Its term is over: where writes are made durable, they are refused.
                self.terms.fenced_writes += 1;
                env.reply(&request, Status::Rejected, held, 0);
            }
            OpKind::Write => self.write_deposed(request, env),
            OpKind::Control | OpKind::Stream => env.drop_request(&request),
        }
    }

    /// A write taken by the deposed primary: on its own copy, never replicated, and
    /// orphaned from birth (no head of the current term descends from it). With
    /// replicas to wait for it is never answered: none of them is reachable.
    fn write_deposed(&mut self, request: Request, env: &mut Env<'_>) {
        let Some(mut d) = self.deposed.take() else { return env.drop_request(&request) };
        let key = request.key;
        match self.make_version(d.table[key as usize], &request, env) {
            None => env.reply(&request, Status::Rejected, d.table[key as usize], 0),
            Some((v, wins)) => {
                if wins {
                    d.table[key as usize] = v;
                }
                let (term, (deposed_at, deposed_event)) = (d.term, d.since);
                let cause = HeadCause::SplitBrain { term, deposed_at, deposed_event };
                let (store, at, event) = (env.id.0, env.now(), env.event());
                let from = self.primary[key as usize];
                env.head_moved(HeadMove { store, key, from, to: v, cause, at, event });
                if request.flags & FLAG_IDEMPOTENT != 0 {
                    let inv = env.invocation(request.op);
                    d.applied.insert(inv.client, inv.message, v, env.event());
                }
                if self.mode.acks_needed(self.replicas.len() as u32) > 0 {
                    env.drop_request(&request);
                } else {
                    self.terms.split_brain_writes += 1;
                    env.reply(&request, Status::Ok, v, 0);
                }
            }
        }
        self.deposed = Some(d);
    }

    fn on_replicate(
        &mut self,
        replica: u32,
        key: u32,
        version: VersionId,
        epoch: u32,
        env: &mut Env<'_>,
    ) {
        assert!(epoch <= self.epoch, "replication from an epoch that has not begun");
        if !self.applies_replication(replica, version, epoch) {
            return; // Void, or the replica is down, cut off or already has it.
        }
        let r = &mut self.replicas[replica as usize];
        r.position += 1;
        let held = &mut r.versions[key as usize];
        let before = *held;
        // Independent replication may arrive out of order; a replica never moves backwards.
        *held = before.max(version);
        assert!(*held >= before, "a replica's version of a key only moves forward");
        if self.unacknowledged.contains_key(&version) {
            let delay = self.ack_delay.sample(&mut r.ack_rng);
            env.timer(SimDuration(delay), Msg::ReplicaAck { replica, version, epoch });
        }
    }

    /// A replica's acknowledgement of `version` is back: with enough of them, the write's
    /// requests are answered.
    fn on_replica_ack(&mut self, replica: u32, version: VersionId, epoch: u32, env: &mut Env<'_>) {
        if epoch != self.epoch || self.isolated {
            return; // Acknowledges a primary since crashed or replaced, or cut off from it.
        }
        let needed = self.mode.acks_needed(self.replicas.len() as u32);
        let Some(w) = self.unacknowledged.get_mut(&version) else { return };
        w.acked |= 1 << replica;
        if w.acked.count_ones() >= needed {
            let w = self.unacknowledged.remove(&version).expect("just found");
            for request in &w.waiting {
                env.reply(request, Status::Ok, version, 0);
            }
        }
    }

    /// Forgets every write waiting for acknowledgements: their primary is gone, so their
    /// clients never hear back.
    fn abandon_unacknowledged(&mut self, env: &mut Env<'_>) {
        for (_, w) in std::mem::take(&mut self.unacknowledged) {
            w.waiting.iter().for_each(|r| env.release(r.op));
        }
    }

    fn on_snapshot_due(&mut self, env: &mut Env<'_>) {
        let Some(s) = &mut self.snapshot else { return };
        if self.up {
            // Each document changed since the last save is written again in full.
            let changed = s.table.iter().zip(&self.primary).filter(|(a, b)| a != b).count();
            self.durable.snapshots += 1;
            self.durable.documents_saved += changed as u64;
            s.table.copy_from_slice(&self.primary);
            s.taken = env.now();
            s.taken_event = env.event();
        }
        if !env.stopping() {
            env.timer(s.every, Msg::Wake);
        }
    }

    /// Sets the primary's table to `table`, telling the checkers of every key that moved.
    fn roll_to(&mut self, table: &[VersionId], cause: HeadCause, env: &mut Env<'_>) {
        let (store, at, event) = (env.id.0, env.now(), env.event());
        for (key, (held, &to)) in self.primary.iter_mut().zip(table).enumerate() {
            if *held != to {
                let from = std::mem::replace(held, to);
                let key = key as u32;
                env.head_moved(HeadMove { store, key, from, to, cause, at, event });
            }
        }
    }

    /// A new epoch: replicas are re-cloned from the primary and their streams start
    /// afresh.
    fn resync(&mut self) {
        self.next_epoch();
        for r in &mut self.replicas {
            r.versions.copy_from_slice(&self.primary);
            (r.position, r.cloned_through) = (0, VersionId::ROOT);
        }
        self.shipped = 0;
        self.tails.fill(SimTime::ZERO);
    }

    fn crash(&mut self, env: &mut Env<'_>) {
        if !self.up {
            return;
        }
        self.up = false;
        let shards = self.shards.min(self.capacity.len());
        for queue in &mut self.capacity[..shards] {
            queue.drop_all(env.now(), |request| env.release(request.op));
        }
        if let Some(s) = self.snapshot.take() {
            self.roll_to(&s.table, HeadCause::Crash { snapshot_at: s.taken }, env);
            self.applied.forget_after(s.taken_event);
            self.snapshot = Some(s);
        }
        self.abandon_unacknowledged(env);
        self.next_epoch(); // Replication in flight from before the crash is void.
        self.silence(env);
    }

    /// The primary's heartbeats stop reaching the failure detector.
    fn silence(&mut self, env: &mut Env<'_>) {
        let Some((_, detector)) = &mut self.auto else { return };
        if let Some((deadline, generation)) = detector.silenced(env.now()) {
            env.timer(deadline.since(env.now()), Msg::Suspect { generation });
        }
    }

    /// The primary's heartbeats reach the failure detector again.
    fn heard(&mut self, env: &mut Env<'_>) {
        if let Some((_, detector)) = &mut self.auto {
            detector.heard(env.now());
        }
    }

    /// The detector's deadline is due: a primary declared dead is replaced by the most
    /// caught-up running replica (or, with none running, at the next heartbeat it tries
    /// again).
    fn on_suspect(&mut self, generation: u32, env: &mut Env<'_>) {
        let Some((spec, detector)) = &self.auto else { return };
        if !detector.declares_dead(generation, env.now()) {
            return;
        }
        if self.replicas.iter().any(|r| r.up) {
            let silence = env.now().since(detector.silence_began());
            self.terms.detection_ns += silence.as_nanos();
            self.failover(Promote::Freshest, env);
        } else if !env.stopping() {
            env.timer(spec.detector.heartbeat, Msg::Suspect { generation });
        }
    }

    /// Isolation `strike` cuts the primary off from its replicas and its failure
    /// detector; its clients still reach it, so it keeps taking writes it cannot
    /// replicate.
    fn isolate(&mut self, strike: u32, env: &mut Env<'_>) {
        self.cuts.push((strike, self.term));
        if !self.isolated {
            self.isolated = true;
            self.silence(env);
        }
    }

    /// Isolation `strike` heals (the primary it cut off may have been deposed since).
    /// A deposed primary with no cut left hears of the new term and steps down: what it
    /// took alone is discarded and its clients are sent to the new primary. The primary
    /// in office with no cut left reaches its replicas again, and they catch up.
    fn reconnect(&mut self, strike: u32, env: &mut Env<'_>) {
        let Some(i) = self.cuts.iter().position(|&(s, _)| s == strike) else { return };
        let (_, term) = self.cuts.remove(i);
        if self.cuts.iter().any(|&(_, t)| t == term) {
            return; // Another cut still holds that primary.
        }
        if term != self.term {
            if self.deposed.as_ref().is_some_and(|d| d.term == term) {
                self.deposed = None;
                if term + 1 == self.term {
                    self.reroute_until = self.reroute_until.min(env.now());
                }
            }
            return;
        }
        self.isolated = false;
        if self.up {
            self.heard(env);
        }
        let running = (0..self.replicas.len() as u32).filter(|&i| self.replicas[i as usize].up);
        for replica in running.collect::<Vec<_>>() {
            self.catch_up(replica, env);
        }
    }

    /// Replica `replica` starts again and catches up with the primary, at once or when
    /// the primary's isolation heals.
    fn restart_replica(&mut self, replica: u32, env: &mut Env<'_>) {
        let r = &mut self.replicas[replica as usize];
        if r.up {
            return;
        }
        r.up = true;
        if !self.isolated {
            self.catch_up(replica, env); // Cut off, it catches up once the primary is back.
        }
    }

    /// Replica `replica` catches up at once: it clones the primary's table, takes the
    /// primary's position, and acknowledges every write still waiting for it (each after
    /// its acknowledgement delay).
    fn catch_up(&mut self, replica: u32, env: &mut Env<'_>) {
        let epoch = self.epoch;
        let r = &mut self.replicas[replica as usize];
        r.versions.copy_from_slice(&self.primary);
        r.position = self.shipped;
        r.cloned_through = self.primary.iter().copied().max().unwrap_or(VersionId::ROOT);
        let waiting = self.unacknowledged.iter().filter(|(_, w)| w.acked & 1 << replica == 0);
        for (&version, _) in waiting {
            let delay = SimDuration(self.ack_delay.sample(&mut r.ack_rng));
            env.timer(delay, Msg::ReplicaAck { replica, version, epoch });
        }
    }

    /// Starts a new epoch; epochs only grow.
    fn next_epoch(&mut self) {
        self.epoch = self.epoch.checked_add(1).expect("epochs only grow");
    }

    fn failover(&mut self, promote: Promote, env: &mut Env<'_>) {
        if self.replicas.is_empty() {
            return;
        }
        let n = self.replicas.len();
        let chosen = match promote {
            Promote::Chosen(i) => (i as usize).min(n - 1),
            Promote::Random => env.rng().below(n as u64) as usize,
            // The most caught-up running replica: the highest replication position, the
            // first on a tie.
            Promote::Freshest => (0..n)
                .max_by_key(|&i| {
                    let r = &self.replicas[i];
                    (r.up, r.position, std::cmp::Reverse(i))
                })
                .unwrap_or(0),
        };
        let behind = self.shipped.saturating_sub(self.replicas[chosen].position);
        let table = self.replicas[chosen].versions.clone();
        // A primary that failed (crashed, or cut off while running) is followed by its
        // clients only `reroute` later; one cut off but running goes on as a deposed
        // primary with its own copy of the table.
        let failed = !self.up || self.isolated;
        let old = (self.up && self.isolated).then(|| self.primary.clone());
        let cause = HeadCause::Failover { replica: chosen as u32, behind };
        self.roll_to(&table, cause, env);
        self.abandon_unacknowledged(env); // The deposed primary never answers them.
        // The idempotency table lived on the old primary.
        let applied = std::mem::take(&mut self.applied);
        let since = (env.now(), env.event());
        if let Some(table) = old {
            self.deposed = Some(Deposed { table, term: self.term, since, applied });
        }
        self.term += 1;
        self.terms.promotions += 1;
        if let Some((spec, detector)) = &mut self.auto {
            detector.promoted(env.now());
            if failed {
                self.reroute_until = env.now().after(spec.reroute);
            }
        }
        (self.up, self.isolated) = (true, false); // No cut holds the new term.
        self.resync();
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash => self.crash(env),
            // Cut off, it clones nothing across the cut: the crash voided replication
            // in flight, and the replicas catch up when the cut heals.
            Fault::Restart if !self.up && self.isolated => self.up = true,
            Fault::Restart if !self.up => {
                self.up = true;
                self.resync();
                self.heard(env);
            }
            Fault::Isolate { cut: true, strike } => self.isolate(strike, env),
            Fault::Isolate { cut: false, strike } => self.reconnect(strike, env),
            Fault::Failover(promote) => self.failover(promote, env),
            Fault::CrashReplica(r) => self.replicas[r as usize].up = false,
            Fault::RestartReplica(r) => self.restart_replica(r, env),
            Fault::LagFactor(milli) => self.lag_milli = milli,
            Fault::SlowFactor(milli) => self.capacity.iter_mut().for_each(|c| c.slow_down(milli)),
            Fault::ClockJump(ns) => self.clock_offset_ns = self.clock_offset_ns.saturating_add(ns),
            _ => {}
        }
    }
}

impl Component for Store {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        let tables = self.replicas.iter().map(|r| r.versions.as_slice());
        let snapshot = self.snapshot.iter().map(|s| s.table.as_slice());
        let deposed = self.deposed.iter().map(|d| d.table.as_slice());
        for table in
            [self.primary.as_slice()].into_iter().chain(tables).chain(snapshot).chain(deposed)
        {
            let by_key = table.iter().enumerate();
            by_key.for_each(|(key, v)| held(v.of_key(key as u32)));
        }
        // Only compared by id; the root there stands for no clone.
        let clones = self.replicas.iter().map(|r| r.cloned_through);
        clones.filter(|&v| v != VersionId::ROOT).for_each(&mut *held);
        let waiting = self.unacknowledged.values().flat_map(|u| u.waiting.iter());
        let queued = self.capacity.iter().flat_map(Capacity::held);
        waiting.chain(queued).for_each(|r| held(r.seen.of_key(r.key)));
        self.unacknowledged.keys().copied().for_each(&mut *held);
        // A retry of an applied message is answered with the version it made.
        for applied in std::iter::once(&self.applied).chain(self.deposed.iter().map(|d| &d.applied))
        {
            applied.clients.iter().flatten().for_each(|&(v, _)| held(v));
        }
        true
    }

    /// What each queue did, with time integrated up to `now`, named by the suffix that
    /// follows the store's name: the primary's (`""`) or each shard's (`" shard 3"`),
    /// and the replicas' together (`" replicas"`). Empty without capacity.
    fn loads(&self, now: SimTime) -> Vec<(String, Load)> {
        if self.capacity.is_empty() {
            return Vec::new();
        }
        let (primaries, replicas) = self.capacity.split_at(self.shards);
        let mut all: Vec<(String, Load)> = match primaries {
            [one] => vec![(String::new(), one.load(now))],
            _ => primaries
                .iter()
                .enumerate()
                .map(|(i, q)| (format!(" shard {i}"), q.load(now)))
                .collect(),
        };
        let replicas = replicas.iter().map(|q| q.load(now)).reduce(|mut all, l| {
            all.merge(&l);
            all
        });
        all.extend(replicas.map(|r| (" replicas".to_string(), r)));
        all
    }

    /// Whether the primary serves.
    fn is_up(&self) -> bool {
        self.up
    }

    /// What the store wrote durably, by name: snapshots and the documents they saved
    /// in full, or the write-ahead log's appends; and the notifications it sent.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let d = &self.durable;
        let mut counts = match self.snapshot {
            Some(_) => vec![("snapshots", d.snapshots), ("documents_saved", d.documents_saved)],
            None => vec![("log_appends", d.log_appends)],
        };
        if !self.listeners.is_empty() {
            counts.push(("notifications", d.notifications));
        }
        if self.auto.is_some() {
            let t = &self.terms;
            counts.push(("promotions", t.promotions));
            counts.push(("detection_ms", t.detection_ns / 1_000_000));
            counts.push(("split_brain_writes", t.split_brain_writes));
            counts.push(("fenced_writes", t.fenced_writes));
        }
        if self.shards > 1 {
            // What an organisation-wide query (list the org's documents) must touch.
            counts.push(("shards_of_biggest_org", self.biggest_org_shards));
        }
        counts
    }

    /// The tables at the end of the run, for the checkers.
    fn end_state(&self, id: u32) -> Option<StoreEnd> {
        Some(StoreEnd {
            id,
            primary: self.primary.clone(),
            replicas: self.replicas.iter().map(|r| r.versions.clone()).collect(),
        })
    }

    fn start(&mut self, env: &mut Env<'_>) {
        if let Some(s) = &self.snapshot {
            env.timer(s.every, Msg::Wake);
        }
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Replicate { replica, key, version, epoch } => {
                self.on_replicate(replica, key, version, epoch, env)
            }
            Msg::ReplicaAck { replica, version, epoch } => {
                self.on_replica_ack(replica, version, epoch, env)
            }
            Msg::Wake => self.on_snapshot_due(env),
            Msg::Suspect { generation } => self.on_suspect(generation, env),
            Msg::Done { job } => self.on_done(job, env),
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("store got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::failure_detector::DetectorSpec;
    use crate::components::testing::{bench, deliver, ms, replies, request, request_flagged, run};

    /// What the script does at a time in ms.
    enum Step {
        Write(u64),
        Read(u64),
        Fault(u64, Fault),
    }

    fn spec(replicas: u32, reads: ReadConsistency, conflict: ConflictPolicy) -> StoreSpec {
        StoreSpec {
            replicas,
            replication_lag: Dist::constant(10_000_000),
            replication_mode: ReplicationMode::Independent,
            replica_ack: Dist::constant(0),
            reads,
            conflict,
            durability: Durability::Wal,
            capacity: None,
            shards: 1,
            partition: Partition::ByDocument,
            idempotency_retention: None,
            failover: None,
        }
    }

    /// Runs `script` on key 0 against a store of `spec`; the replies must be `expected`:
    /// (ms, status, version id).
    fn check(spec: StoreSpec, script: &[Step], expected: &[(u64, Status, u32)]) {
        check_counting(spec, script, expected);
    }

    /// `check`, returning what the store counted.
    fn check_counting(
        spec: StoreSpec,
        script: &[Step],
        expected: &[(u64, Status, u32)],
    ) -> Vec<(&'static str, u64)> {
        let (mut sim, links) =
            bench(1, 1, |_| BuiltIn::Store(Box::new(Store::new("db", &spec, 1, 7))));
        let via = links.callers[0];
        for step in script {
            match *step {
                Step::Write(t) => _ = request(&mut sim, ms(t), via, OpKind::Write, 0),
                Step::Read(t) => _ = request(&mut sim, ms(t), via, OpKind::Read, 0),
                Step::Fault(t, f) => deliver(&mut sim, ms(t), Msg::Fault(f)),
            }
        }
        run(&mut sim, ms(1_000));
        let got: Vec<(u64, Status, u32)> = replies(&sim)
            .into_iter()
            .map(|(at, _, status, v)| (at.as_nanos() / 1_000_000, status, v.0))
            .collect();
        assert_eq!(got, expected);
        match &sim.actor.component {
            BuiltIn::Store(store) => store.counts(),
            _ => unreachable!("the bench holds a store"),
        }
    }

    #[test]
    fn a_write_is_acknowledged_and_read_back_from_the_primary() {
        let s = spec(0, ReadConsistency::Primary, ConflictPolicy::Overwrite(ClockSource::Server));
        let script = [Step::Write(1), Step::Read(2)];
        check(s, &script, &[(1, Status::Ok, 1), (2, Status::Ok, 1)]);
    }

    #[test]
    fn a_replica_serves_the_root_until_replication_lag_has_passed() {
        let s =
            spec(1, ReadConsistency::AnyReplica, ConflictPolicy::Overwrite(ClockSource::Server));
        // The lag is 10 ms: a read at 5 ms is stale, one at 20 ms is not.
        let script = [Step::Write(1), Step::Read(5), Step::Read(20)];
        check(s, &script, &[(1, Status::Ok, 1), (5, Status::Ok, 0), (20, Status::Ok, 1)]);
    }

    #[test]
    fn a_version_check_refuses_a_write_based_on_an_old_head() {
        let s = spec(0, ReadConsistency::Primary, ConflictPolicy::VersionCheck);
        // Every request names the root: the second write is based on an old head.
        let script = [Step::Write(1), Step::Write(2)];
        check(s, &script, &[(1, Status::Ok, 1), (2, Status::Rejected, 1)]);
    }

    #[test]
    fn a_crashed_primary_answers_nothing_until_it_restarts() {
        let s = spec(0, ReadConsistency::Primary, ConflictPolicy::Overwrite(ClockSource::Server));
        let script = [
            Step::Write(1),
            Step::Fault(2, Fault::Crash),
            Step::Read(3),
            Step::Fault(4, Fault::Restart),
            Step::Read(5),
        ];
        // The write-ahead log keeps the acknowledged write through the crash.
        check(s, &script, &[(1, Status::Ok, 1), (5, Status::Ok, 1)]);
    }

    #[test]
    fn replication_from_before_a_crash_is_void_and_the_replica_is_re_cloned() {
        let s =
            spec(1, ReadConsistency::AnyReplica, ConflictPolicy::Overwrite(ClockSource::Server));
        // The write's replication (due at 11 ms) belongs to the epoch the crash ends;
        // the restart at 3 ms re-clones the replica from the primary, so it holds v1.
        let script = [
            Step::Write(1),
            Step::Fault(2, Fault::Crash),
            Step::Fault(3, Fault::Restart),
            Step::Read(4),
        ];
        check(s, &script, &[(1, Status::Ok, 1), (4, Status::Ok, 1)]);
    }

    fn semi_sync(lag: Dist) -> StoreSpec {
        let mut s =
            spec(2, ReadConsistency::Primary, ConflictPolicy::Overwrite(ClockSource::Server));
        s.replication_lag = lag;
        s.replication_mode = ReplicationMode::SemiSync { acks: 1 };
        s.replica_ack = Dist::constant(5_000_000);
        s
    }

    #[test]
    fn semi_sync_answers_a_write_once_a_replica_has_it_and_its_ack_is_back() {
        // Lag 10 ms, acknowledgement 5 ms: the write made at 1 ms is answered at 16 ms.
        let s = semi_sync(Dist::constant(10_000_000));
        check(s, &[Step::Write(1), Step::Read(2)], &[(2, Status::Ok, 1), (16, Status::Ok, 1)]);
    }

    #[test]
    fn a_failover_abandons_the_writes_no_replica_had_acknowledged() {
        // The write waits for its replicas; the failover at 5 ms promotes one that lacks
        // it, so the write is never answered and the new primary holds the root.
        let s = semi_sync(Dist::constant(10_000_000));
        let script =
            [Step::Write(1), Step::Fault(5, Fault::Failover(Promote::Freshest)), Step::Read(6)];
        check(s, &script, &[(6, Status::Ok, 0)]);
    }

    #[test]
    fn a_synchronous_write_waits_for_a_crashed_replica_to_restart_and_catch_up() {
        // One replica, synchronous: it is down from 0 ms to 50 ms, so the write made at
        // 1 ms is answered only once it restarts, catches up and acknowledges (5 ms).
        let mut s = semi_sync(Dist::constant(10_000_000));
        (s.replicas, s.replication_mode) = (1, ReplicationMode::Sync);
        let script = [
            Step::Fault(0, Fault::CrashReplica(0)),
            Step::Write(1),
            Step::Fault(50, Fault::RestartReplica(0)),
            Step::Write(60),
        ];
        // The second write finds the replica up: lag 10 ms, ack 5 ms.
        check(s, &script, &[(55, Status::Ok, 1), (75, Status::Ok, 2)]);
    }

    #[test]
    fn an_ordered_stream_answers_synchronous_writes_in_the_order_they_were_made() {
        // Lags up to 100 ms, writes 1 ms apart: on an ordered stream no write overtakes
        // the one before it, so the answers (each once its write reached the replica)
        // come in order.
        let mut s = semi_sync(Dist::Uniform { low_ns: 0.0, high_ns: 100e6 });
        (s.replicas, s.replication_mode, s.replica_ack) =
            (1, ReplicationMode::Sync, Dist::constant(0));
        let (mut sim, links) =
            bench(1, 1, |_| BuiltIn::Store(Box::new(Store::new("db", &s, 1, 7))));
        for t in 1..=20 {
            request(&mut sim, ms(t), links.callers[0], OpKind::Write, 0);
        }
        run(&mut sim, ms(1_000));
        let answers: Vec<(SimTime, u32)> =
            replies(&sim).into_iter().map(|(at, _, _, v)| (at, v.0)).collect();
        assert_eq!(answers.len(), 20);
        assert!(answers.windows(2).all(|w| w[0] <= w[1]), "in order: {answers:?}");
        // A write that reached the replica before a slower one ahead of it waits for it:
        // both are answered at the same instant (independent lags would never tie).
        assert!(answers.windows(2).any(|w| w[0].0 == w[1].0), "held back: {answers:?}");
    }

    /// One replica a write reaches 10 ms after it is made; heartbeats every 1 ms, dead
    /// after 3 ms of silence, clients following a promotion 5 ms late.
    fn detected(fencing: bool) -> StoreSpec {
        let mut s =
            spec(1, ReadConsistency::Primary, ConflictPolicy::Overwrite(ClockSource::Server));
        let detector = DetectorSpec {
            heartbeat: SimDuration::from_millis(1),
            timeout: SimDuration::from_millis(3),
        };
        s.failover = Some(FailoverSpec { detector, fencing, reroute: SimDuration::from_millis(5) });
        s
    }

    #[test]
    fn a_crashed_primary_is_replaced_once_the_detector_gives_up_and_clients_follow_late() {
        // Crash at 12 ms; the last heartbeat fell in (11, 12] ms, so the replica (holding
        // v1 since 11 ms) is promoted in (14, 15] ms. The write at 16 ms still goes to
        // the dead primary; the read at 21 ms reaches the new one.
        let script =
            [Step::Write(1), Step::Fault(12, Fault::Crash), Step::Write(16), Step::Read(21)];
        let counts =
            check_counting(detected(false), &script, &[(1, Status::Ok, 1), (21, Status::Ok, 1)]);
        assert!(counts.contains(&("promotions", 1)), "{counts:?}");
        let detection = counts.iter().find(|(name, _)| *name == "detection_ms").unwrap().1;
        assert!((2..=3).contains(&detection), "{counts:?}");
    }

    #[test]
    fn a_cut_off_primary_deposed_unfenced_acknowledges_writes_that_diverge() {
        // Cut off at 12 ms (after v1 reached the replica at 11 ms), deposed in (14, 15]
        // ms: the write at 16 ms is taken by the old primary (v2, which its read at 17 ms
        // returns); clients follow at 20 ms and read term 2's head, v1.
        let script = [
            Step::Write(1),
            Step::Fault(12, Fault::Isolate { cut: true, strike: 1 }),
            Step::Write(16),
            Step::Read(17),
            Step::Read(21),
            Step::Fault(30, Fault::Isolate { cut: false, strike: 1 }),
        ];
        let expected =
            [(1, Status::Ok, 1), (16, Status::Ok, 2), (17, Status::Ok, 2), (21, Status::Ok, 1)];
        let counts = check_counting(detected(false), &script, &expected);
        assert!(counts.contains(&("split_brain_writes", 1)), "{counts:?}");
    }

    #[test]
    fn fencing_refuses_the_deposed_primarys_writes() {
        let script = [
            Step::Write(1),
            Step::Fault(12, Fault::Isolate { cut: true, strike: 1 }),
            Step::Write(16),
            Step::Read(21),
        ];
        let expected = [(1, Status::Ok, 1), (16, Status::Rejected, 1), (21, Status::Ok, 1)];
        let counts = check_counting(detected(true), &script, &expected);
        assert!(counts.contains(&("fenced_writes", 1)), "{counts:?}");
        assert!(counts.contains(&("split_brain_writes", 0)), "{counts:?}");
    }

    #[test]
    fn a_cut_shorter_than_the_detectors_patience_promotes_nobody_and_replicas_catch_up() {
        // Cut off from 5 to 6 ms: a heartbeat in (6, 7] ms reaches the detector before
        // its deadline in (7, 8] ms. The write at 5 ms (v2) is not replicated while cut
        // off; the replica catches up when the cut heals, so its read at 7 ms has v2.
        let mut s = detected(false);
        s.reads = ReadConsistency::AnyReplica;
        let script = [
            Step::Write(1),
            Step::Fault(4, Fault::Isolate { cut: true, strike: 1 }),
            Step::Write(5),
            Step::Fault(6, Fault::Isolate { cut: false, strike: 1 }),
            Step::Read(7),
        ];
        let counts = check_counting(
            s,
            &script,
            &[(1, Status::Ok, 1), (5, Status::Ok, 2), (7, Status::Ok, 2)],
        );
        assert!(counts.contains(&("promotions", 0)), "{counts:?}");
    }

    fn cut(at: u64, strike: u32) -> Step {
        Step::Fault(at, Fault::Isolate { cut: true, strike })
    }

    fn heal(at: u64, strike: u32) -> Step {
        Step::Fault(at, Fault::Isolate { cut: false, strike })
    }

    #[test]
    fn a_heal_ends_its_own_isolation_not_one_that_deposed_an_earlier_primary() {
        // Cut 1 deposes the first primary at (14, 15] ms and lasts to 60 ms; cut 2 of the
        // new primary, 20 to 22 ms, heals before its detector's deadline, so nobody else
        // is promoted and the write at 30 ms is the new primary's.
        let script =
            [Step::Write(1), cut(12, 1), cut(20, 2), heal(22, 2), Step::Write(30), heal(60, 1)];
        let counts =
            check_counting(detected(false), &script, &[(1, Status::Ok, 1), (30, Status::Ok, 2)]);
        assert!(counts.contains(&("promotions", 1)), "{counts:?}");
    }

    #[test]
    fn an_idempotent_retry_reaching_the_deposed_primary_is_answered_not_written_again() {
        // The write at 1 ms is replicated at 11 ms; after the promotion a retry of it (the
        // same message) reaches the old primary in the reroute window: the same answer,
        // fenced or not, and nothing diverges.
        for fencing in [false, true] {
            let s = detected(fencing);
            let (mut sim, links) =
                bench(1, 1, |_| BuiltIn::Store(Box::new(Store::new("db", &s, 1, 7))));
            let write = (OpKind::Write, crate::components::purposes::WRITE);
            let via = links.callers[0];
            request_flagged(&mut sim, ms(1), via, write, 0, FLAG_IDEMPOTENT);
            deliver(&mut sim, ms(12), Msg::Fault(Fault::Isolate { cut: true, strike: 1 }));
            request_flagged(&mut sim, ms(16), via, write, 0, FLAG_IDEMPOTENT);
            run(&mut sim, ms(100));
            let got: Vec<(u64, Status, u32)> = replies(&sim)
                .into_iter()
                .map(|(at, _, status, v)| (at.as_nanos() / 1_000_000, status, v.0))
                .collect();
            assert_eq!(got, [(1, Status::Ok, 1), (16, Status::Ok, 1)], "fencing {fencing}");
            let BuiltIn::Store(store) = &sim.actor.component else { unreachable!() };
            let counts = store.counts();
            assert!(counts.contains(&("split_brain_writes", 0)), "{counts:?}");
            assert!(counts.contains(&("fenced_writes", 0)), "{counts:?}");
        }
    }

    #[test]
    fn a_primary_restarted_while_cut_off_clones_nothing_across_the_cut() {
        // v1 reaches the replica at 11 ms; cut off at 12 ms, the primary takes v2 at 13
        // ms, crashes at 14 and restarts at 15, before the detector's deadline in (16, 17]
        // ms. The promoted replica must not hold v2: it never crossed the cut.
        let mut s = detected(false);
        s.failover.as_mut().unwrap().detector.timeout = SimDuration::from_millis(5);
        let script = [
            Step::Write(1),
            cut(12, 1),
            Step::Write(13),
            Step::Fault(14, Fault::Crash),
            Step::Fault(15, Fault::Restart),
            Step::Read(30),
        ];
        let expected = [(1, Status::Ok, 1), (13, Status::Ok, 2), (30, Status::Ok, 1)];
        let counts = check_counting(s, &script, &expected);
        assert!(counts.contains(&("promotions", 1)), "{counts:?}");
    }
}
