//! An architecture: named components and the links between them.

use std::collections::BTreeMap;

use crate::engine::Dist;

/// The name links use for the client population.
pub const CLIENTS: &str = "client";

/// A validated architecture.
#[derive(Debug, Clone)]
pub struct Model {
    /// Human name of the architecture.
    pub name: String,
    /// Components in name order.
    pub components: Vec<ComponentSpec>,
    /// Links in file order.
    pub links: Vec<LinkSpec>,
}

/// One named component of the architecture.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// The name links and override paths use.
    pub name: String,
    /// What it is and its parameters.
    pub kind: ComponentKind,
}

/// The kinds of component a model may declare.
#[derive(Debug, Clone)]
pub enum ComponentKind {
    /// Spreads requests over its downstream links.
    LoadBalancer(LoadBalancerSpec),
    /// A primary with asynchronous replicas.
    Store(StoreSpec),
    /// A gate every client action passes before (`prepare`) and after (`finalize`).
    Sentinel(SentinelSpec),
    /// An app server that answers completions with a streamed response (SSE), keeps
    /// `/stream_status`, and passes other requests to the store behind it.
    StreamServer(StreamServerSpec),
    /// A job queue that answers `202 Accepted` and does the work later.
    AsyncJobs(AsyncJobsSpec),
    /// App servers holding their editors' WebSocket connections: edits go to the store
    /// and are pushed to the server's other connections on the document; edits made
    /// through other servers arrive by polling or through a pub/sub broker.
    AppServer(AppServerSpec),
    /// A pub/sub broker: what one app server publishes goes out to all the others.
    PubSub(PubSubSpec),
    /// A Redis-like session cache the app servers share, with optional replicas.
    SessionCache(SessionCacheSpec),
    /// A CDN caching the answers to `GET`s in front of the API.
    Cdn(CdnSpec),
    /// A component provided by a library user through the registry.
    Custom(CustomSpec),
}

/// Sentinel gate parameters.
#[derive(Debug, Clone)]
pub struct SentinelSpec {
    /// Time the gate takes to answer a `prepare`.
    pub prepare: Dist,
    /// Time the gate takes to answer a `finalize`.
    pub finalize: Dist,
    /// Probability that a `prepare` is refused by policy.
    pub reject: f64,
    /// Usage windows: at most `messages` actions per client in any `window`.
    pub limits: Vec<UsageLimit>,
}

/// One usage window of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageLimit {
    /// The sliding window.
    pub window: crate::engine::SimDuration,
    /// Actions allowed within it.
    pub messages: u32,
}

/// Streaming app server parameters.
#[derive(Debug, Clone)]
pub struct StreamServerSpec {
    /// Time to handle a conversation create before it is written.
    pub create: Dist,
    /// Time from a completion request to its first chunk.
    pub first_byte: Dist,
    /// Chunks in one streamed response.
    pub chunks: u32,
    /// Time between two chunks.
    pub spacing: Dist,
}

/// WebSocket app server parameters.
#[derive(Debug, Clone)]
pub struct AppServerSpec {
    /// Instances (`api/0`, `api/1`, ...), each with its own connections.
    pub count: u32,
    /// How a server learns of edits made through the others.
    pub propagation: Propagation,
    /// Where a server keeps its editors' login sessions.
    pub sessions: SessionStore,
    /// Each server's workers and service time for the requests it takes (`None`:
    /// unlimited and instant).
    pub capacity: Option<CapacitySpec>,
    /// Each server's database connections (`None`: unlimited).
    pub pool: Option<u32>,
}

/// Where app servers keep login sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStore {
    /// Not modelled: every connection is accepted.
    Unmodelled,
    /// In the server's own memory: a reconnect that lands on another server, or on the
    /// same one after a restart, finds no session and the editor must log in again.
    Local,
    /// In a session cache all servers share; a server looks a session it does not hold
    /// up there, and cannot accept the connection while the cache does not answer.
    Shared,
}

/// CDN parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdnSpec {
    /// How long a stored answer is served.
    pub ttl: crate::engine::SimDuration,
    /// Whether and how answers are stored.
    pub mode: CdnMode,
    /// What answers are filed under.
    pub key: CdnKey,
}

/// Whether and how a CDN stores answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdnMode {
    /// Serve until `ttl` old, then fetch anew.
    Cache,
    /// Serve until `ttl` old, then ask the origin whether it changed (ETag).
    Revalidate,
    /// Store nothing (`Cache-Control: no-store`).
    NoStore,
}

/// What a CDN files an answer under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdnKey {
    /// The URL alone.
    Url,
    /// The URL and the caller's organisation.
    Tenant,
}

/// Session cache parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCacheSpec {
    /// Replicas kept in step with the cache (replication is taken as immediate:
    /// sessions change rarely).
    pub replicas: u32,
    /// Time for a replica to take over once the cache crashes.
    pub failover: crate::engine::SimDuration,
}

/// How app servers learn of each other's edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Each server reads every document its editors have open from the store this often.
    Poll {
        /// The polling interval.
        every: crate::engine::SimDuration,
    },
    /// Each server publishes its edits to its broker, which sends them to the others.
    PubSub,
    /// The store tells every server of each commit, as PostgreSQL's LISTEN/NOTIFY or a
    /// change-data-capture stream does: no broker, but one notification per commit
    /// for every listening server, whether its editors have the document open or not.
    Notify,
}

/// Pub/sub broker parameters.
#[derive(Debug, Clone)]
pub struct PubSubSpec {
    /// Time inside the broker before a message goes out.
    pub fanout: Dist,
}

/// Async job queue parameters.
#[derive(Debug, Clone)]
pub struct AsyncJobsSpec {
    /// Jobs run at once.
    pub workers: u32,
    /// Time one job takes.
    pub duration: Dist,
}

/// Load balancer parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadBalancerSpec {
    /// How the next downstream is chosen.
    pub policy: LoadBalancerPolicy,
    /// Probe each downstream this often and send nothing new to one that missed its
    /// last probe; `None`: no health checks.
    pub health_check: Option<crate::engine::SimDuration>,
}

/// How a load balancer picks a downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadBalancerPolicy {
    /// Each downstream in turn.
    RoundRobin,
    /// Session affinity: a client goes back to the downstream it last used.
    Sticky,
    /// A new connection goes to the downstream with the fewest open connections.
    LeastConnections,
}

/// Store parameters: one primary, `replicas` asynchronous replicas.
#[derive(Debug, Clone)]
pub struct StoreSpec {
    /// Number of read replicas.
    pub replicas: u32,
    /// Delay between a write on the primary and its arrival at each replica.
    pub replication_lag: Dist,
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
}

/// How a sharded store maps documents to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// By the document's organisation: an organisation lives on one shard.
    ByOrg,
    /// By the document itself.
    ByDocument,
}

/// How much work a server does at once, and how long each piece takes.
#[derive(Debug, Clone)]
pub struct CapacitySpec {
    /// Requests served at once.
    pub workers: u32,
    /// Time to serve one request.
    pub service: Dist,
    /// Most requests waiting; more are turned away. `None`: no limit.
    pub queue: Option<u32>,
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

/// A user-provided component: its registered kind and free-form parameters.
#[derive(Debug, Clone)]
pub struct CustomSpec {
    /// The kind name it was registered under.
    pub kind: String,
    /// Parameters, as written.
    pub params: BTreeMap<String, String>,
}

/// Where a link starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Every client instance (one link per client).
    Clients,
    /// A named component.
    Component(String),
}

/// A link between two components, used for requests from `from` to `to` and replies back.
#[derive(Debug, Clone)]
pub struct LinkSpec {
    /// The initiator.
    pub from: Endpoint,
    /// The acceptor: a component name.
    pub to: String,
    /// One-way latency.
    pub latency: Dist,
    /// Probability that one message is lost.
    pub loss: f64,
}

impl Model {
    /// The component with this name.
    pub fn component(&self, name: &str) -> Option<&ComponentSpec> {
        self.components.iter().find(|c| c.name == name)
    }
}
