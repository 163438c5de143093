//! The messages components exchange. Small and `Copy`, so events live inline in the
//! queue and the hot loop allocates nothing. What does not fit (a write's timestamp,
//! its message number) stays in the history's invocation table, which the request's
//! `op` slot points at.

use crate::check::{OpId, OpKind, VersionId};
use crate::engine::{ComponentId, LinkId, SimTime, Traceable};
use crate::model::Promote;

/// Marks a request whose reply will be lost on the way back.
pub const RETURN_LOST: u64 = u64::MAX;

/// Request flag: a read carries the session's token (`seen`) and must not return
/// anything older.
pub const FLAG_TOKEN: u8 = 1;
/// Request flag: a write carries an idempotency key (its client and message number).
pub const FLAG_IDEMPOTENT: u8 = 2;
/// Request flag: a server's write that applies on top of the current head, whatever it
/// is (an atomic append: a response, a title), so no conflict policy refuses it.
pub const FLAG_ON_HEAD: u8 = 4;
/// Request flag: an editor's connect presents a login session (a cookie) from an
/// earlier connection.
pub const FLAG_SESSION: u8 = 8;

/// A client request travelling towards the component that serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The client that sent it and receives the reply.
    pub origin: ComponentId,
    /// The operation's slot in the history's invocation table.
    pub op: OpId,
    /// The key.
    pub key: u32,
    /// The link the request arrived on (its return path starts here).
    pub via: LinkId,
    /// What the client last observed of the key: a write's base, a read's token.
    pub seen: VersionId,
    /// Latency the reply will need to travel back over the hops so far, or `RETURN_LOST`.
    pub return_ns: u64,
    /// Write or read.
    pub kind: OpKind,
    /// `FLAG_*` bits.
    pub flags: u8,
}

/// How a store answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done: `version` was written or read.
    Ok,
    /// Refused by a version check: `version` is the current head.
    Rejected,
    /// Taken for later (`202 Accepted`).
    Accepted,
    /// `/stream_status`: a response is still being generated.
    InProgress,
    /// Refused by a gate's policy.
    Refused,
    /// Refused by a gate's usage window: the client sees `message_limit`.
    Limited,
    /// Refused by an app server: the access token has expired, or (for a refresh) the
    /// user's access was revoked (`401 Unauthorized`).
    Unauthorized,
    /// A service could not do it: a call it made failed for good, or its queue was
    /// full (`503 Service Unavailable`). Whether a write happened is unknown.
    Unavailable,
}

/// The answer to a request, delivered straight to its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The operation's slot.
    pub op: OpId,
    /// Version written or read, or the current head of a rejected write.
    pub version: VersionId,
    /// The component that served it.
    pub server: ComponentId,
    /// Who in the server: 0 the primary, `i + 1` replica `i`.
    pub source: u8,
    /// The server that answered the client: `server` itself, or the app server that
    /// relayed the answer and holds the editor's WebSocket.
    pub front: ComponentId,
    /// Done or refused.
    pub status: Status,
}

/// What a service asks of an application cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheVerb {
    /// Read the key.
    Get,
    /// Store `version` under the key.
    Set,
    /// Store `version` unless the cache holds one the store made later (a versioned
    /// set: `SET ... IF version > held`).
    SetIfNewer,
    /// Remove the key.
    Delete,
}

/// A service's call to an application cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheCall {
    /// The service instance calling, which the answer goes back to over the same link.
    pub origin: ComponentId,
    /// The service's number for the request it is handling; the answer carries it back.
    pub job: u32,
    /// The job's wait it answers: a late answer to an earlier wait is ignored.
    pub wait: u16,
    /// The key.
    pub key: u32,
    /// The version to set.
    pub version: VersionId,
    /// The client whose request the service is handling (`u32::MAX`: none).
    pub client: u32,
    /// How long a set value lives, ms (0: until deleted or evicted).
    pub ttl_ms: u32,
    /// What to do.
    pub verb: CacheVerb,
}

/// How an application cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A get found `version`.
    Hit,
    /// A get found nothing live.
    Miss,
    /// A set or delete was done.
    Done,
    /// A versioned set was refused: the cache holds a version the set does not include.
    Older,
    /// The cache is down (its process refuses the connection).
    Unavailable,
}

/// A fault acting on its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The target stops serving (a store's primary loses what is not durable).
    Crash,
    /// The target serves again.
    Restart,
    /// A store's replica stops: it applies and serves nothing until it restarts.
    CrashReplica(u32),
    /// A store's replica starts again and catches up with its primary.
    RestartReplica(u32),
    /// A store promotes a replica to primary.
    Failover(Promote),
    /// Replication lag is multiplied by this many thousandths.
    LagFactor(u32),
    /// Service times are multiplied by this many thousandths.
    SlowFactor(u32),
    /// The target stops for this many ns: what reaches it meanwhile waits.
    Pause(u64),
    /// Links of group `group` lose this many millionths of their messages (`u32::MAX`:
    /// back to their own loss).
    LinkLoss {
        /// Index of the group of links.
        group: u32,
        /// Millionths lost.
        ppm: u32,
    },
    /// The target's clock jumps by this many ns.
    ClockJump(i64),
    /// A client's clock drifts by this many parts per billion from now on.
    ClockDrift(i64),
    /// A client loses its network for this many ns.
    Disconnect(u64),
    /// From now on, each of a client's streams loses the network with this chance (in
    /// millionths), within `within_ms` of its start, for `lasting_ms`.
    MidStream {
        /// Chance per stream, in millionths.
        chance_ppm: u32,
        /// Latest strike after the stream starts, ms.
        within_ms: u32,
        /// Downtime, ms.
        lasting_ms: u32,
    },
    /// The client's access is revoked (the user is removed from the organisation).
    Revoke,
    /// A script injected into the client's page reads its stored token, if it can.
    StealToken,
    /// A store's primary is cut off from its replicas and its failure detector (`cut`)
    /// or reaches them again; its clients still reach it. `strike` numbers the fault's
    /// strikes, so a heal ends the isolation it belongs to.
    Isolate {
        /// Cut or heal.
        cut: bool,
        /// The strike, the same in a cut and its heal.
        strike: u32,
    },
    /// Links of partition group `group` are cut (`true`) or healed.
    Partition {
        /// Index of the group of links.
        group: u32,
        /// Cut or heal.
        cut: bool,
    },
}

impl Fault {
    /// The fault as strike number `strike` of the schedule delivers it: an isolation and
    /// its heal carry the number; other faults need none.
    pub fn numbered(self, strike: u32) -> Fault {
        match self {
            Fault::Isolate { cut, .. } => Fault::Isolate { cut, strike },
            other => other,
        }
    }
}

/// Every message in a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// A component's own timer: a client's sleep, think time or backoff ended, a store's
    /// snapshot is due.
    Wake,
    /// A user of an open population arrives: the idle client it is given runs a round.
    Arrival,
    /// A client's hedging delay for request `op_seq` passed.
    Hedge {
        /// The request's sequence number at its client.
        op_seq: u32,
    },
    /// Client `client` of an open population finished its round and is free again.
    Idle {
        /// Its index within its population.
        client: u32,
    },
    /// A request on its way to be served.
    Request(Request),
    /// A reply on its way to the client.
    Reply(Reply),
    /// A version reaching replica `replica` of a store.
    Replicate {
        /// Replica index within the store.
        replica: u32,
        /// The key.
        key: u32,
        /// The version.
        version: VersionId,
        /// The primary's epoch when it was sent; a later epoch ignores it.
        epoch: u32,
    },
    /// Replica `replica`'s acknowledgement of `version` reaching its primary (with
    /// semi-synchronous or synchronous replication).
    ReplicaAck {
        /// Replica index within the store.
        replica: u32,
        /// The version it applied.
        version: VersionId,
        /// The epoch the version was shipped in; a later epoch ignores it.
        epoch: u32,
    },
    /// A quorum store's read `read` reaching replica `replica`.
    ReplicaRead {
        /// Replica index within the store.
        replica: u32,
        /// The coordinator's number for the read.
        read: u32,
    },
    /// Replica `replica`'s answer to read `read` reaching the coordinator: what it held.
    ReplicaAnswer {
        /// Replica index within the store.
        replica: u32,
        /// The coordinator's number for the read.
        read: u32,
        /// The version it held.
        version: VersionId,
    },
    /// A store's failure detector has heard no heartbeat for its timeout since the
    /// primary's silence number `generation` began.
    Suspect {
        /// The silence it is about; a later one voids it.
        generation: u32,
    },
    /// A client's request timer for its operation `op_seq` expired.
    Timeout {
        /// The client's own number of the operation it guards.
        op_seq: u32,
    },
    /// The fault schedule's timer for fault `index`.
    FaultDue {
        /// Index in the scenario's fault list.
        index: u32,
    },
    /// A fault hitting its target.
    Fault(Fault),
    /// Chunk `index` of `of` of the streamed response to the client's message `message`.
    Chunk {
        /// The client's message the response answers.
        message: u32,
        /// 0 for the first chunk.
        index: u32,
        /// Chunks in the response.
        of: u32,
    },
    /// The end of a streamed response (`message_stop`): the persisted response's version,
    /// or `ROOT` when the server could not persist it.
    StreamEnd {
        /// The client's message the response answers.
        message: u32,
        /// The response's version.
        version: VersionId,
    },
    /// A component's own piece of work `job` is done (a response generated, a job run).
    Done {
        /// The component's number for the work.
        job: u32,
    },
    /// An app server pushing a version of a document to an editor's WebSocket.
    Push {
        /// The document.
        key: u32,
        /// The version.
        version: VersionId,
        /// The app server (component id): an editor takes pushes only from the server
        /// its connection is open to.
        server: u32,
    },
    /// A version of a document published to a pub/sub broker, or delivered by it.
    Publish {
        /// The document.
        key: u32,
        /// The version.
        version: VersionId,
        /// The publishing app server (component id): the broker does not echo it back.
        from: u32,
    },
    /// A load balancer's health probe of the downstream at the far end of `link`; a
    /// live component answers with `ProbeAck` over the same link.
    Probe {
        /// The balancer's probe round.
        round: u32,
        /// The link it was sent over.
        link: LinkId,
    },
    /// A live component's answer to a `Probe`.
    ProbeAck {
        /// The round answered.
        round: u32,
        /// The link the probe came over.
        link: LinkId,
    },
    /// A client's access token, read by an injected script and sent to the attacker.
    Stolen {
        /// The client it belongs to.
        victim: u32,
        /// The document the client works on.
        key: u32,
        /// When the token was issued.
        issued: SimTime,
        /// Whether the script could read it (`false`: an HttpOnly cookie).
        readable: bool,
    },
    /// A service's call to an application cache.
    CacheCall(CacheCall),
    /// An application cache's answer to the call of `job`'s wait `wait`.
    CacheAnswer {
        /// The service's job.
        job: u32,
        /// The wait it answers.
        wait: u16,
        /// The version a hit found (`ROOT` otherwise).
        version: VersionId,
        /// Hit, miss, done, refused or down.
        outcome: CacheOutcome,
        /// How long a hit's value has left before it expires, ms (`u32::MAX`: no TTL).
        left_ms: u32,
    },
    /// A service's deadline for `job`'s wait `wait` (a call's timeout, a sleep's end).
    Deadline {
        /// The service's job.
        job: u32,
        /// The wait it ends; a later wait voids it.
        wait: u16,
    },
    /// A message of the log protocol (producers, logs, consumer groups).
    Log(super::log::LogMsg),
    /// A message of a user-defined component.
    Custom {
        /// What the message means to the component.
        tag: u32,
        /// Payload.
        a: u64,
        /// Payload.
        b: u64,
    },
}

impl Msg {
    /// The version the message carries, if any, as a holder reports it (see
    /// `VersionId::of_key`): a request's base or token, a reply's answer (the key of
    /// operation `op` is `key_of(op)`), a version replicated, pushed, published or
    /// cached. A version in flight is held by whoever will receive it.
    pub fn version(&self, key_of: impl Fn(OpId) -> u32) -> Option<VersionId> {
        match *self {
            Msg::Request(r) => Some(r.seen.of_key(r.key)),
            Msg::Reply(r) => Some(r.version.of_key(key_of(r.op))),
            Msg::CacheCall(c) => Some(c.version.of_key(c.key)),
            Msg::Replicate { key, version, .. }
            | Msg::Push { key, version, .. }
            | Msg::Publish { key, version, .. } => Some(version.of_key(key)),
            // A replica that held nothing answers with the root, of a key the message
            // does not say: reported as such, it keeps every key open.
            Msg::ReplicaAck { version, .. } | Msg::ReplicaAnswer { version, .. } => Some(version),
            // The root here says there is no version (nothing persisted, a miss).
            Msg::StreamEnd { version, .. } | Msg::CacheAnswer { version, .. } => {
                (version != VersionId::ROOT).then_some(version)
            }
            _ => None,
        }
    }

    /// The kind name used in traces.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Msg::Wake => "wake",
            Msg::Arrival => "arrival",
            Msg::Idle { .. } => "idle",
            Msg::Hedge { .. } => "hedge",
            Msg::Request(_) => "request",
            Msg::Reply(_) => "reply",
            Msg::Replicate { .. } => "replicate",
            Msg::ReplicaAck { .. } => "replica_ack",
            Msg::ReplicaRead { .. } => "replica_read",
            Msg::ReplicaAnswer { .. } => "replica_answer",
            Msg::Suspect { .. } => "suspect",
            Msg::Timeout { .. } => "timeout",
            Msg::FaultDue { .. } => "fault_due",
            Msg::Fault(_) => "fault",
            Msg::Custom { .. } => "custom",
            Msg::Chunk { .. } => "chunk",
            Msg::StreamEnd { .. } => "stream_end",
            Msg::Done { .. } => "done",
            Msg::Push { .. } => "push",
            Msg::Publish { .. } => "publish",
            Msg::Probe { .. } => "probe",
            Msg::ProbeAck { .. } => "probe_ack",
            Msg::Stolen { .. } => "stolen",
            Msg::CacheCall(_) => "cache_call",
            Msg::CacheAnswer { .. } => "cache_answer",
            Msg::Deadline { .. } => "deadline",
            Msg::Log(m) => m.kind_name(),
        }
    }
}

fn fault_ids(f: Fault) -> [u64; 3] {
    match f {
        Fault::Crash => [1, 0, 0],
        Fault::Restart => [2, 0, 0],
        Fault::CrashReplica(r) => [11, u64::from(r), 0],
        Fault::RestartReplica(r) => [12, u64::from(r), 0],
        Fault::Failover(Promote::Chosen(i)) => [3, u64::from(i), 0],
        Fault::Failover(Promote::Freshest) => [3, u64::MAX, 1],
        Fault::Failover(Promote::Random) => [3, u64::MAX, 2],
        Fault::LagFactor(m) => [4, u64::from(m), 0],
        Fault::SlowFactor(m) => [14, u64::from(m), 0],
        Fault::Pause(ns) => [15, ns, 0],
        Fault::LinkLoss { group, ppm } => [16, u64::from(group), u64::from(ppm)],
        Fault::ClockJump(ns) => [5, ns as u64, 0],
        Fault::ClockDrift(ppb) => [17, ppb as u64, 0],
        Fault::Disconnect(ns) => [6, ns, 0],
        Fault::Partition { group, cut } => [7, u64::from(group), u64::from(cut)],
        Fault::Revoke => [9, 0, 0],
        Fault::StealToken => [10, 0, 0],
        Fault::Isolate { cut, strike } => [13, u64::from(cut), u64::from(strike)],
        Fault::MidStream { chance_ppm, within_ms, lasting_ms } => {
            [8, u64::from(chance_ppm), u64::from(within_ms) << 32 | u64::from(lasting_ms)]
        }
    }
}

impl Traceable for Msg {
    #[inline]
    fn trace_kind(&self) -> u8 {
        match self {
            Msg::Wake => 0,
            Msg::Request(_) => 1,
            Msg::Reply(_) => 2,
            Msg::Replicate { .. } => 3,
            Msg::Timeout { .. } => 4,
            Msg::Custom { .. } => 5,
            Msg::FaultDue { .. } => 6,
            Msg::Fault(_) => 7,
            Msg::Chunk { .. } => 8,
            Msg::StreamEnd { .. } => 9,
            Msg::Done { .. } => 10,
            Msg::Push { .. } => 11,
            Msg::Publish { .. } => 12,
            Msg::Probe { .. } => 13,
            Msg::ProbeAck { .. } => 14,
            Msg::Stolen { .. } => 15,
            Msg::ReplicaAck { .. } => 16,
            Msg::ReplicaRead { .. } => 17,
            Msg::ReplicaAnswer { .. } => 18,
            Msg::Suspect { .. } => 19,
            Msg::CacheCall(_) => 20,
            Msg::CacheAnswer { .. } => 21,
            Msg::Deadline { .. } => 22,
            Msg::Log(_) => 23,
            Msg::Arrival => 24,
            Msg::Idle { .. } => 25,
            Msg::Hedge { .. } => 26,
        }
    }

    #[inline]
    fn trace_ids(&self) -> [u64; 3] {
        match *self {
            Msg::Wake | Msg::Arrival => [0; 3],
            Msg::Idle { client } => [u64::from(client), 0, 0],
            Msg::Hedge { op_seq } => [u64::from(op_seq), 0, 0],
            Msg::Request(r) => [
                u64::from(r.origin.0) << 32 | u64::from(r.op),
                u64::from(r.key) << 8 | r.kind as u64,
                u64::from(r.seen.0) << 8 | u64::from(r.flags),
            ],
            Msg::Reply(r) => [
                u64::from(r.op),
                u64::from(r.server.0) << 16 | u64::from(r.source) << 8 | r.status as u64,
                u64::from(r.version.0),
            ],
            Msg::Replicate { replica, key, version, epoch } => {
                [u64::from(replica) << 32 | u64::from(epoch), u64::from(key), u64::from(version.0)]
            }
            Msg::ReplicaAck { replica, version, epoch } => {
                [u64::from(replica) << 32 | u64::from(epoch), u64::from(version.0), 0]
            }
            Msg::ReplicaRead { replica, read } => [u64::from(replica), u64::from(read), 0],
            Msg::ReplicaAnswer { replica, read, version } => {
                [u64::from(replica), u64::from(read), u64::from(version.0)]
            }
            Msg::Timeout { op_seq } => [u64::from(op_seq), 0, 0],
            Msg::Suspect { generation } => [u64::from(generation), 0, 0],
            Msg::FaultDue { index } => [u64::from(index), 0, 0],
            Msg::Fault(f) => fault_ids(f),
            Msg::Custom { tag, a, b } => [u64::from(tag), a, b],
            Msg::Chunk { message, index, of } => {
                [u64::from(message), u64::from(index), u64::from(of)]
            }
            Msg::StreamEnd { message, version } => [u64::from(message), u64::from(version.0), 0],
            Msg::Done { job } => [u64::from(job), 0, 0],
            Msg::Push { key, version, server } => {
                [u64::from(key), u64::from(version.0), u64::from(server)]
            }
            Msg::Publish { key, version, from } => {
                [u64::from(key), u64::from(version.0), u64::from(from)]
            }
            Msg::Probe { round, link } | Msg::ProbeAck { round, link } => {
                [u64::from(round), u64::from(link.0), 0]
            }
            Msg::Stolen { victim, key, issued, readable } => {
                [u64::from(victim) << 1 | u64::from(readable), u64::from(key), issued.as_nanos()]
            }
            Msg::CacheCall(c) => [
                u64::from(c.job) << 32 | u64::from(c.wait) << 16 | u64::from(c.origin.0 & 0xffff),
                u64::from(c.key) << 32 | u64::from(c.version.0),
                u64::from(c.ttl_ms) << 8 | c.verb as u64,
            ],
            Msg::CacheAnswer { job, wait, version, outcome, left_ms } => [
                u64::from(job) << 32 | u64::from(wait),
                u64::from(version.0),
                u64::from(left_ms) << 8 | outcome as u64,
            ],
            Msg::Deadline { job, wait } => [u64::from(job) << 32 | u64::from(wait), 0, 0],
            Msg::Log(m) => m.trace_ids(),
        }
    }
}

// Events are stored inline in the queue; a bigger message slows every run.
const _: () = assert!(std::mem::size_of::<Msg>() <= 32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_small() {
        // Events are stored inline in the queue; a bigger message slows every run.
        assert!(std::mem::size_of::<Msg>() <= 32, "{}", std::mem::size_of::<Msg>());
    }

    #[test]
    fn trace_ids_distinguish_payloads() {
        let v = VersionId(2);
        let a = Msg::Replicate { replica: 0, key: 1, version: v, epoch: 0 };
        let b = Msg::Replicate { replica: 1, key: 1, version: v, epoch: 0 };
        assert_ne!(a.trace_ids(), b.trace_ids());
        assert_eq!(a.kind_name(), "replicate");
        let c = Msg::Fault(Fault::Partition { group: 0, cut: true });
        assert_ne!(
            c.trace_ids(),
            Msg::Fault(Fault::Partition { group: 0, cut: false }).trace_ids()
        );
    }
}
