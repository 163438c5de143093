//! A violation's story as a sequence diagram: one lane per client and per store (its
//! primary and each replica involved), one row per message, time running down. The
//! messages come from a replay of the run (the same seed dispatches the same events):
//! the requests and replies of the story's clients on the story's keys between its first
//! and last event, and the replication of the versions they wrote or read, which may
//! arrive after the story's end ("replication pending").

use std::collections::{BTreeMap, BTreeSet};

use crate::check::{Sighting, StoryLine, VersionId};
use crate::components::{Msg, Status};
use crate::engine::Dispatch;

/// How long after a story's last event its versions' replication is still shown.
pub const REPLICATION_TAIL_NS: u64 = 60_000_000_000;

/// A message kept from the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A request reaching `target` from client `origin`.
    Request {
        /// Invocation slot.
        slot: u32,
        /// The client.
        origin: u32,
        /// The key.
        key: u32,
        /// `write` or `read`.
        kind: &'static str,
    },
    /// A reply reaching client `target`.
    Reply {
        /// Invocation slot.
        slot: u32,
        /// The serving component.
        server: u32,
        /// 0 the primary, `i + 1` replica `i`.
        source: u8,
        /// Version written or read.
        version: VersionId,
        /// How it ended.
        status: Status,
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
    /// The event of `d`, if it is a request, a reply or a replication.
    pub fn of(d: &Dispatch<Msg>) -> Option<SeenEvent> {
        let what = match d.msg {
            Msg::Request(r) => {
                Seen::Request { slot: r.op, origin: r.origin.0, key: r.key, kind: r.kind.name() }
            }
            Msg::Reply(r) => Seen::Reply {
                slot: r.op,
                server: r.server.0,
                source: r.source,
                version: r.version,
                status: r.status,
            },
            Msg::Replicate { replica, key, version, .. } => {
                Seen::Replicate { replica, key, version }
            }
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
            Seen::Request { origin, key, .. } => {
                clients.insert(origin);
                keys.insert(key);
            }
            Seen::Reply { slot, .. } => {
                clients.insert(e.target);
                if let Some((_, key)) = request_of(events, e.target, slot, e.at) {
                    keys.insert(key);
                }
            }
            Seen::Replicate { key, .. } => {
                keys.insert(key);
            }
        }
    }
    (clients, keys)
}

/// The last request of `client` in `slot` before `at`: its event and its key.
fn request_of(events: &[SeenEvent], client: u32, slot: u32, at: u64) -> Option<(SeenEvent, u32)> {
    events.iter().rev().filter(|e| e.at <= at).find_map(|e| match e.what {
        Seen::Request { slot: s, origin, key, .. } if s == slot && origin == client => {
            Some((*e, key))
        }
        _ => None,
    })
}

/// Builds the diagram of `story` from the replay's `events` (in dispatch order), with
/// component names `names`.
pub fn build(story: &[StoryLine], events: &[SeenEvent], names: &[String]) -> Sequence {
    let (clients, keys) = subjects(story, events);
    let anchors: BTreeSet<u64> = story.iter().filter_map(|l| l.event).collect();
    let Some((first, last)) = story_span(story) else {
        return Sequence { lanes: Vec::new(), rows: Vec::new() };
    };
    let mut raw: Vec<(u64, u64, Lane, Lane, String, Style)> = Vec::new();
    let mut versions = BTreeSet::new();
    // Replies in the span, each with the request that reached its server.
    let servers: BTreeSet<u32> = events
        .iter()
        .filter_map(|e| match e.what {
            Seen::Reply { server, .. } => Some(server),
            _ => None,
        })
        .collect();
    // One pass in dispatch order: the latest request of each (server, slot, client)
    // is the one a reply from that server in that slot answers.
    let mut latest: BTreeMap<(u32, u32, u32), &SeenEvent> = BTreeMap::new();
    let mut answered = BTreeMap::new();
    for e in events {
        match e.what {
            Seen::Request { slot, origin, key, .. } if keys.contains(&key) => {
                latest.insert((e.target, slot, origin), e);
                continue;
            }
            Seen::Reply { .. } if clients.contains(&e.target) => {}
            _ => continue,
        }
        let Seen::Reply { slot, server, source, version, status } = e.what else { continue };
        let Some(&req) = latest.get(&(server, slot, e.target)) else { continue };
        answered.insert(req.seq, (e.at, source));
        if (first..=last).contains(&req.at) && version != VersionId::ROOT {
            versions.insert(version);
        }
        if (first..=last).contains(&e.at) {
            let label = reply_label(status, version);
            raw.push((
                e.at,
                e.seq,
                Lane::Store(server, source),
                Lane::Client(e.target),
                label,
                Style::Call,
            ));
        }
    }
    for e in events.iter().filter(|e| (first..=last).contains(&e.at) && servers.contains(&e.target))
    {
        let Seen::Request { origin, key, kind, .. } = e.what else { continue };
        if !clients.contains(&origin) || !keys.contains(&key) {
            continue;
        }
        // A hop that passed the request on (a cache that missed) is not drawn.
        let Some(&(_, source)) = answered.get(&e.seq) else {
            if anchors.contains(&e.seq) {
                let label = format!("{kind} k{key}");
                raw.push((
                    e.at,
                    e.seq,
                    Lane::Client(origin),
                    Lane::Store(e.target, 0),
                    label,
                    Style::Call,
                ));
            }
            continue;
        };
        let label = format!("{kind} k{key}");
        raw.push((
            e.at,
            e.seq,
            Lane::Client(origin),
            Lane::Store(e.target, source),
            label,
            Style::Call,
        ));
    }
    let mut replicated = BTreeSet::new();
    for e in events.iter().filter(|e| e.at >= first && e.at <= last + REPLICATION_TAIL_NS) {
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
    assemble(story, raw, names)
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
    };
    format!("{status} {version}")
}

/// Lanes in order (clients, then stores by id, primary first), rows sorted by time
/// and event, and the story's sentences attached to their events' rows.
fn assemble(
    story: &[StoryLine],
    raw: Vec<(u64, u64, Lane, Lane, String, Style)>,
    names: &[String],
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
    for line in story {
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
    let name = |c: u32| names.get(c as usize).map_or("?", String::as_str);
    let is_replica = |i: u8| i > 0 && i != Sighting::SERVER;
    let replicated =
        |s: u32| lanes.iter().any(|l| matches!(l, Lane::Store(x, i) if *x == s && is_replica(*i)));
    let title = |l: &Lane| match *l {
        Lane::Client(c) => name(c).to_string(),
        Lane::Store(s, Sighting::SERVER) => name(s).to_string(),
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
