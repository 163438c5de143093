//! A violation's story as a sequence diagram: one lane per client, per server that
//! relayed one of its requests and per store (its primary, or a leaderless store's
//! coordinator, and each replica involved), one row per message, time running down.
//! The messages come from a replay of the run (the same seed dispatches the same
//! events): the requests, replies and pushes of the story's clients on the story's keys
//! between its first and last event, and the replication of the versions they wrote or
//! read, which may arrive after the story's end ("replication pending").

use std::collections::{BTreeMap, BTreeSet};

use crate::check::verdict::{duration, seconds};
use crate::check::{OpKind, Purpose, Sighting, StoryLine, VersionId};
use crate::components::message::Fault;
use crate::components::{Msg, Status, World};
use crate::engine::Dispatch;

/// How long after a story's last event its versions' replication is still shown.
pub const REPLICATION_TAIL_NS: u64 = 60_000_000_000;

/// How long before a story's first event a request it answers may have been sent.
pub const REQUEST_LEAD_NS: u64 = 60_000_000_000;

/// A message kept from the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A request reaching `target` from `origin` (a client, or a server relaying it).
    Request {
        /// Invocation slot.
        slot: u32,
        /// The sender.
        origin: u32,
        /// The client (component id) the operation is for.
        client: u32,
        /// The key.
        key: u32,
        /// Why it was sent: `write`, `refresh`, `resubmit`, `edit`...
        purpose: Purpose,
        /// Whether it writes a new version.
        write: bool,
    },
    /// A reply reaching `target` (a client, or a server that relayed the request).
    Reply {
        /// Invocation slot.
        slot: u32,
        /// The component that served it.
        server: u32,
        /// 0 the primary, `i + 1` replica `i`.
        source: u8,
        /// Version written or read.
        version: VersionId,
        /// How it ended.
        status: Status,
        /// The client (component id) the operation is for.
        client: u32,
    },
    /// A version reaching replica `replica` of store `target`.
    Replicate {
        /// Replica index.
        replica: u32,
        /// The key.
        key: u32,
        /// The version.
        version: VersionId,
    },
    /// An app server pushing a version to an editor.
    Push {
        /// The document.
        key: u32,
        /// The version.
        version: VersionId,
        /// The app server.
        server: u32,
    },
    /// A fault striking `target` (a crash, a restart, a failover...).
    Fault(Fault),
}

/// A message kept from the replay, with when, which event and its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenEvent {
    /// Arrival time.
    pub at: u64,
    /// Event id (the `#` of story lines).
    pub seq: u64,
    /// Receiving component.
    pub target: u32,
    /// What arrived.
    pub what: Seen,
}

impl SeenEvent {
    /// The event of `d`, if it is a request, a reply, a replication or a push; `world`
    /// is as it was before `d` (a travelling request's invocation is still in its slot).
    pub fn of(d: &Dispatch<Msg>, world: &World) -> Option<SeenEvent> {
        let inv = |op| world.history.invocation(op);
        let what = match d.msg {
            Msg::Request(r) => Seen::Request {
                slot: r.op,
                origin: r.origin.0,
                client: world.client_id(inv(r.op).client),
                key: r.key,
                purpose: inv(r.op).purpose,
                write: r.kind == OpKind::Write,
            },
            Msg::Reply(r) => Seen::Reply {
                slot: r.op,
                server: r.server.0,
                source: r.source,
                version: r.version,
                status: r.status,
                client: world.client_id(inv(r.op).client),
            },
            // A void replication (its epoch ended in a crash or failover, its replica was
            // down or cut off) reached nothing.
            Msg::Replicate { .. } if !world.takes_effect(d.target, &d.msg) => return None,
            Msg::Replicate { replica, key, version, .. } => {
                Seen::Replicate { replica, key, version }
            }
            Msg::Push { key, version, server } => Seen::Push { key, version, server },
            Msg::Fault(f) => Seen::Fault(f),
            _ => return None,
        };
        Some(SeenEvent { at: d.at.as_nanos(), seq: d.seq, target: d.target.0, what })
    }
}

/// A lane: a client, or a store's primary or replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// A client (component id).
    Client(u32),
    /// A store (component id) and who in it: 0 the primary, `i + 1` replica `i`.
    Store(u32, u8),
}

/// How an arrow is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A request or a reply.
    Call,
    /// Replication, which nobody waits for.
    Async,
}

/// An arrow between two lanes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    /// Sender's lane index.
    pub from: usize,
    /// Receiver's lane index.
    pub to: usize,
    /// Text on the arrow.
    pub label: String,
    /// How it is drawn.
    pub style: Style,
}

/// One row: a time, maybe an arrow, maybe a line of the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Simulated time in ns (`None`: after the run).
    pub at: Option<u64>,
    /// Event id, for ordering.
    pub seq: u64,
    /// The message, if the row shows one.
    pub arrow: Option<Arrow>,
    /// The story's sentence for this event, if any.
    pub note: Option<String>,
    /// The story's last event: the one that makes the violation.
    pub decisive: bool,
    /// How many rows this one stands for, when rows were folded (0: a real row).
    pub folded: usize,
}

/// A sequence diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Lane titles, left to right.
    pub lanes: Vec<String>,
    /// Rows, top to bottom.
    pub rows: Vec<Row>,
}

/// Which events a story names, and the time span they cover.
pub fn story_span(story: &[StoryLine]) -> Option<(u64, u64)> {
    let times = story.iter().filter_map(|l| l.at_ns);
    Some((times.clone().min()?, times.max()?))
}

/// What the story's own events are about: its clients and keys.
fn subjects(story: &[StoryLine], events: &[SeenEvent]) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let anchors: BTreeSet<u64> = story.iter().filter_map(|l| l.event).collect();
    let (mut clients, mut keys) = (BTreeSet::new(), BTreeSet::new());
    for e in events.iter().filter(|e| anchors.contains(&e.seq)) {
        match e.what {
            Seen::Request { client, key, .. } => {
                clients.insert(client);
                keys.insert(key);
            }
            Seen::Reply { slot, client, .. } => {
                clients.insert(client);
                if let Some(key) = key_of(events, slot, client, e.at) {
                    keys.insert(key);
                }
            }
            Seen::Replicate { key, .. } => {
                keys.insert(key);
            }
            Seen::Push { key, .. } => {
                clients.insert(e.target);
                keys.insert(key);
            }
            Seen::Fault(_) => {}
        }
    }
    (clients, keys)
}

/// The key of the last request for `client` in `slot` before `at`.
fn key_of(events: &[SeenEvent], slot: u32, client: u32, at: u64) -> Option<u32> {
    events.iter().rev().filter(|e| e.at <= at).find_map(|e| match e.what {
        Seen::Request { slot: s, client: c, key, .. } if s == slot && c == client => Some(key),
        _ => None,
    })
}

/// A row before lanes are numbered: time, event, sender, receiver, label, style.
type RawRow = (u64, u64, Lane, Lane, String, Style);

/// Builds the diagram of `story` from the replay's `events` (in dispatch order), with
/// component names `names`. A request relayed by a server (an editor's WebSocket
/// message, a query through a connection pool) is drawn hop by hop: client to server,
/// server to store and back; hops that only pass a request on (a load balancer, a
/// cache that missed) are left out.
///
/// `coordinators` are the stores without a primary (a leaderless store's lane 0 is the
/// node that coordinates its requests).
pub fn build(
    story: &[StoryLine],
    events: &[SeenEvent],
    names: &[String],
    coordinators: &BTreeSet<u32>,
) -> Sequence {
    let (clients, keys) = subjects(story, events);
    let anchors: BTreeSet<u64> = story.iter().filter_map(|l| l.event).collect();
    let Some((first, last)) = story_span(story) else {
        return Sequence { lanes: Vec::new(), rows: Vec::new() };
    };
    let lane = |c: u32| if clients.contains(&c) { Lane::Client(c) } else { Lane::Store(c, 0) };
    // One pass in dispatch order: a reply to a sender in a slot answers the latest
    // request that sender sent in that slot (the last hop it took).
    let mut latest: BTreeMap<(u32, u32), &SeenEvent> = BTreeMap::new();
    let mut answered: BTreeMap<u64, Lane> = BTreeMap::new();
    let mut replies: Vec<(&SeenEvent, &SeenEvent, Lane)> = Vec::new();
    for e in events {
        match e.what {
            Seen::Request { slot, origin, client, key, .. }
                if keys.contains(&key) && clients.contains(&client) =>
            {
                latest.insert((slot, origin), e);
            }
            Seen::Reply { slot, server, source, client, .. } if clients.contains(&client) => {
                let Some(&req) = latest.get(&(slot, e.target)) else { continue };
                // The store's reply keeps its source when a server relays it on; a
                // leaderless store's coordinator answers for the replica it heard from.
                // A server's own answer (`SERVER`) comes from the one lane it has.
                let from = if req.target == server && !coordinators.contains(&server) {
                    Lane::Store(server, if source == Sighting::SERVER { 0 } else { source })
                } else {
                    Lane::Store(req.target, 0)
                };
                answered.insert(req.seq, from);
                replies.push((e, req, from));
            }
            _ => {}
        }
    }
    // The diagram starts with the first request answered within the story, which may
    // have been sent before its first event (a write waiting in a store's queue).
    let start = replies
        .iter()
        .filter(|(reply, ..)| (first..=last).contains(&reply.at))
        .map(|(_, req, _)| req.at)
        .fold(first, u64::min);
    let span = start..=last;
    let mut raw: Vec<RawRow> = Vec::new();
    let mut versions = BTreeSet::new();
    for &(reply, req, from) in &replies {
        let Seen::Reply { version, status, .. } = reply.what else { continue };
        if span.contains(&req.at) && version != VersionId::ROOT {
            versions.insert(version);
        }
        if span.contains(&reply.at) {
            let label = reply_label(status, version);
            raw.push((reply.at, reply.seq, from, lane(reply.target), label, Style::Call));
        }
    }
    for e in events.iter().filter(|e| span.contains(&e.at)) {
        let (origin, key, label) = match e.what {
            Seen::Request { origin, client, key, purpose, .. } if clients.contains(&client) => {
                (origin, key, format!("{} k{key}", purpose.name()))
            }
            Seen::Push { key, version, server } if clients.contains(&e.target) => {
                if keys.contains(&key) {
                    let label = format!("push {version}");
                    let to = lane(e.target);
                    raw.push((e.at, e.seq, Lane::Store(server, 0), to, label, Style::Async));
                }
                continue;
            }
            _ => continue,
        };
        if !keys.contains(&key) {
            continue;
        }
        let to = match answered.get(&e.seq) {
            Some(&to) => to,
            // A request nobody answered is drawn when the story names it.
            None if anchors.contains(&e.seq) => Lane::Store(e.target, 0),
            None => continue,
        };
        raw.push((e.at, e.seq, lane(origin), to, label, Style::Call));
    }
    let mut replicated = BTreeSet::new();
    for e in events.iter().filter(|e| e.at >= start && e.at <= last + REPLICATION_TAIL_NS) {
        let Seen::Replicate { replica, key, version } = e.what else { continue };
        if keys.contains(&key)
            && versions.contains(&version)
            && replicated.insert((version, replica))
        {
            let label = format!("{version} replicated");
            // Reply sources are bytes, so stores have fewer than 255 replicas.
            let to = Lane::Store(e.target, u8::try_from(replica + 1).unwrap_or(u8::MAX - 1));
            raw.push((e.at, e.seq, Lane::Store(e.target, 0), to, label, Style::Async));
        }
    }
    let pending = pending(&replies, events, (span, last + REPLICATION_TAIL_NS), &clients, names);
    let faults = fault_notes(events, (start, last + REPLICATION_TAIL_NS), &raw, &clients, names);
    assemble(story, raw, &pending, &faults, (names, coordinators))
}

/// The faults that struck a lane of the diagram while it ran, as note rows: a crash,
/// restart or failover drawn where it happened, so no story has to imply it.
fn fault_notes(
    events: &[SeenEvent],
    (from, until): (u64, u64),
    raw: &[RawRow],
    clients: &BTreeSet<u32>,
    names: &[String],
) -> Vec<StoryLine> {
    let drawn: BTreeSet<u32> = raw
        .iter()
        .flat_map(|r| [r.2, r.3])
        .map(|l| match l {
            Lane::Client(c) | Lane::Store(c, _) => c,
        })
        .collect();
    let name = |c: u32| names.get(c as usize).map_or("?", String::as_str);
    events
        .iter()
        .filter(|e| (from..=until).contains(&e.at) && drawn.contains(&e.target))
        .filter_map(|e| {
            let Seen::Fault(f) = e.what else { return None };
            let who = name(e.target);
            let text = fault_text(f, who, clients.contains(&e.target))?;
            Some(StoryLine::at(e.at, e.seq, format!("⚡ {text}")))
        })
        .collect()
}

/// What a fault does to `who`, in words (`None`: nothing a diagram shows).
fn fault_text(f: Fault, who: &str, client: bool) -> Option<String> {
    Some(match f {
        Fault::Crash if client => format!("{who} crashes"),
        Fault::Crash => {
            format!("{who} crashes: what was not durable is gone, replication in flight is void")
        }
        Fault::Restart => format!("{who} restarts"),
        Fault::CrashReplica(r) => {
            format!(
                "{who} replica {r} crashes: it applies and acknowledges nothing until it restarts"
            )
        }
        Fault::RestartReplica(r) => format!("{who} replica {r} restarts and catches up"),
        Fault::Failover(_) => format!(
            "{who} fails over: a replica becomes the primary, replication in flight is void"
        ),
        Fault::Isolate { cut: true, .. } => format!(
            "{who}'s primary is cut off from its replicas and its failure detector; its \
             clients still reach it"
        ),
        Fault::Isolate { cut: false, .. } => format!("{who}'s primary reaches its replicas again"),
        Fault::LagFactor(1000) => format!("{who}'s replication lag is back to normal"),
        Fault::LagFactor(milli) => {
            format!("{who}'s replication lag is multiplied by {:.1}", f64::from(milli) / 1000.0)
        }
        Fault::Pause(ns) => format!(
            "{who} pauses for {}: it handles nothing meanwhile",
            crate::engine::time::format_nanos(ns)
        ),
        Fault::LinkLoss { .. } => return None,
        Fault::ClockDrift(ppb) => format!("{who}'s clock drifts {} ppm", ppb as f64 / 1000.0),
        Fault::SlowFactor(1000) => format!("{who}'s service times are back to normal"),
        Fault::SlowFactor(milli) => {
            format!("{who}'s service times are multiplied by {:.1}", f64::from(milli) / 1000.0)
        }
        Fault::ClockJump(ns) => {
            let way = if ns < 0 { "back" } else { "forward" };
            format!("{who}'s clock jumps {way} {}", duration(ns.unsigned_abs()))
        }
        Fault::Disconnect(_) => format!("{who} loses its network"),
        Fault::Revoke => format!("{who}'s access is revoked"),
        Fault::StealToken => format!("a script in {who}'s page reads its token"),
        Fault::MidStream { .. } | Fault::Partition { .. } => return None,
    })
}

/// For each acknowledgement of a write to a story's client, by its event: which
/// replicas the version had not reached yet, and when it reached them.
fn pending(
    replies: &[(&SeenEvent, &SeenEvent, Lane)],
    events: &[SeenEvent],
    (span, until): (std::ops::RangeInclusive<u64>, u64),
    clients: &BTreeSet<u32>,
    names: &[String],
) -> BTreeMap<u64, String> {
    let acks: Vec<(&SeenEvent, VersionId)> = replies
        .iter()
        .filter_map(|&(reply, req, _)| match (reply.what, req.what) {
            (
                Seen::Reply { version, status: Status::Ok, .. },
                Seen::Request { write: true, .. },
            ) if span.contains(&reply.at) && clients.contains(&reply.target) => {
                Some((reply, version))
            }
            _ => None,
        })
        .collect();
    let wanted: BTreeSet<VersionId> = acks.iter().map(|a| a.1).collect();
    // Every arrival of those versions at a replica, in time order, in one pass.
    let mut arrivals: BTreeMap<VersionId, Vec<(u64, u32, u32)>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.at <= until) {
        if let Seen::Replicate { replica, version, .. } = e.what
            && wanted.contains(&version)
        {
            arrivals.entry(version).or_default().push((e.at, replica, e.target));
        }
    }
    let name = |c: u32| names.get(c as usize).map_or("?", String::as_str);
    let mut notes = BTreeMap::new();
    for (reply, version) in acks {
        let mut reached: BTreeMap<u32, (u64, u32)> = BTreeMap::new();
        for &(at, replica, store) in arrivals.get(&version).into_iter().flatten() {
            if at > reply.at {
                reached.entry(replica).or_insert((at, store));
            }
        }
        if reached.is_empty() {
            continue;
        }
        let arrivals: Vec<String> = reached
            .iter()
            .map(|(replica, (at, store))| {
                format!("{} replica {replica} at {}", name(*store), seconds(*at))
            })
            .collect();
        let text = format!("replication pending: {version} reaches {}", arrivals.join(", "));
        notes.insert(reply.seq, text);
    }
    notes
}

fn reply_label(status: Status, version: VersionId) -> String {
    let status = match status {
        Status::Ok => "ok",
        Status::Rejected => "rejected",
        Status::Accepted => "202",
        Status::InProgress => "in progress",
        Status::Refused => "refused",
        Status::Limited => "message_limit",
        Status::Unauthorized => "401",
        Status::Unavailable => "503",
    };
    format!("{status} {version}")
}

/// Lanes in order (clients, then stores by id, primary first), rows sorted by time
/// and event, and the story's sentences attached to their events' rows.
fn assemble(
    story: &[StoryLine],
    raw: Vec<RawRow>,
    pending: &BTreeMap<u64, String>,
    faults: &[StoryLine],
    (names, coordinators): (&[String], &BTreeSet<u32>),
) -> Sequence {
    let lanes: BTreeSet<Lane> = raw.iter().flat_map(|r| [r.2, r.3]).collect();
    let lanes: Vec<Lane> = lanes.into_iter().collect();
    let index = |l: &Lane| lanes.iter().position(|x| x == l).unwrap_or(0);
    let mut rows: Vec<Row> = raw
        .into_iter()
        .map(|(at, seq, from, to, label, style)| Row {
            at: Some(at),
            seq,
            arrow: Some(Arrow { from: index(&from), to: index(&to), label, style }),
            note: None,
            decisive: false,
            folded: 0,
        })
        .collect();
    rows.sort_by_key(|r| (r.at, r.seq));
    let decisive = story.iter().rev().find_map(|l| l.event);
    // A fault the story tells already (a failover that lost the write) is not told twice.
    let untold = faults.iter().filter(|f| !story.iter().any(|l| l.event == f.event));
    for line in story.iter().chain(untold) {
        let row = line.event.and_then(|e| rows.iter_mut().find(|r| r.seq == e && r.note.is_none()));
        match row {
            Some(r) => {
                r.note = Some(line.text.clone());
                r.decisive = line.event == decisive;
            }
            None => {
                let decisive = line.event.is_some() && line.event == decisive;
                let row = Row {
                    at: line.at_ns,
                    seq: line.event.unwrap_or(u64::MAX),
                    arrow: None,
                    note: Some(line.text.clone()),
                    decisive,
                    folded: 0,
                };
                let key = |r: &Row| (r.at.is_none(), r.at.unwrap_or(0), r.seq);
                let at = rows.partition_point(|r| key(r) <= key(&row));
                rows.insert(at, row);
            }
        }
    }
    for row in rows.iter_mut().filter(|r| r.arrow.is_some()) {
        if let Some(text) = pending.get(&row.seq) {
            row.note = Some(match row.note.take() {
                Some(note) => format!("{note}; {text}"),
                None => text.clone(),
            });
        }
    }
    let name = |c: u32| names.get(c as usize).map_or("?", String::as_str);
    let is_replica = |i: u8| i > 0 && i != Sighting::SERVER;
    let replicated =
        |s: u32| lanes.iter().any(|l| matches!(l, Lane::Store(x, i) if *x == s && is_replica(*i)));
    let title = |l: &Lane| match *l {
        Lane::Client(c) => name(c).to_string(),
        Lane::Store(s, 0) if coordinators.contains(&s) => format!("{} coordinator", name(s)),
        Lane::Store(s, 0) if replicated(s) => format!("{} primary", name(s)),
        Lane::Store(s, 0) => name(s).to_string(),
        Lane::Store(s, i) => format!("{} replica {}", name(s), i - 1),
    };
    Sequence { lanes: lanes.iter().map(title).collect(), rows: elide(rows) }
}

/// Most rows a diagram shows; beyond, runs of rows far from the story's sentences
/// are folded into one.
const ROWS_MAX: usize = 40;

/// Folds every run of rows more than one row away from a sentence into a single row
/// that says how many messages it stands for.
fn elide(rows: Vec<Row>) -> Vec<Row> {
    if rows.len() <= ROWS_MAX {
        return rows;
    }
    let near = |i: usize| {
        let lo = i.saturating_sub(1);
        rows[lo..(i + 2).min(rows.len())].iter().any(|r| r.note.is_some())
    };
    let keep: Vec<bool> = (0..rows.len()).map(near).collect();
    let mut out: Vec<Row> = Vec::new();
    for (row, keep) in rows.into_iter().zip(keep) {
        match out.last_mut() {
            _ if keep => out.push(row),
            Some(gap) if gap.folded > 0 => {
                gap.folded += 1;
                gap.note = Some(format!("{} more messages between these lanes", gap.folded));
            }
            _ => out.push(Row {
                note: Some("1 more message between these lanes".into()),
                arrow: None,
                decisive: false,
                folded: 1,
                ..row
            }),
        }
    }
    out
}
