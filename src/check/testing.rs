//! Hand-built histories for checker unit tests: one store, writes that overwrite
//! (their parent is what the writer saw), reads that return a chosen version.

use super::checks::{Check, CheckSpec, Checks, HeadCause, HeadMove, StoreEnd};
use super::history::{History, Invocation, OpKind, Outcome};
use super::purpose::{self, Actor, Purpose, PurposeInfo, Row};
use super::verdict::{CheckReport, Names};
use super::versions::{Sighting, VersionId};
use crate::engine::SimTime;

/// A test's server persisting a streamed response (the checkers know it by what it
/// says, not by its name).
pub const PERSIST: Purpose = Purpose(&PERSIST_INFO);
static PERSIST_INFO: PurposeInfo = PurposeInfo {
    by: Actor::Server,
    persists_stream: true,
    ..Purpose::client("test persist", "persists", &PERSIST_ROW)
};
static PERSIST_ROW: Row = Row { name: "test persist", always_shown: false, reads: false };
/// A test's client receiving a streamed response.
pub const STREAM: Purpose = Purpose(&STREAM_INFO);
static STREAM_INFO: PurposeInfo = Purpose::client("test stream", "receives", &purpose::READ_ROW);
/// A test's thief reading with a stolen token.
pub const THEFT: Purpose = Purpose(&THEFT_INFO);
static THEFT_INFO: PurposeInfo =
    PurposeInfo { by: Actor::Thief, ..Purpose::client("test theft", "steals", &purpose::READ_ROW) };

/// Shorthand for a write that is acknowledged.
pub const OK: Outcome = Outcome::Ok;

/// A history under construction; each operation takes 1 ms and three events.
pub struct Hist {
    /// The history.
    pub h: History,
    now: u64,
    event: u64,
    /// Head per key.
    pub heads: Vec<VersionId>,
}

impl Hist {
    /// A history over 4 keys watched by `checks`.
    pub fn new(checks: Vec<Box<dyn Check>>) -> Hist {
        let mut c = Checks::new(&[]);
        checks.into_iter().for_each(|x| c.push(x));
        Hist { h: History::new(4, c, true), now: 0, event: 0, heads: vec![VersionId::ROOT; 4] }
    }

    /// A history over 4 keys watched by the checkers of `specs`.
    pub fn with(specs: &[CheckSpec]) -> Hist {
        Hist { h: History::new(4, Checks::new(specs), true), ..Hist::new(Vec::new()) }
    }

    /// One step on: the time and event number of the next thing that happens.
    pub fn tick(&mut self) -> (SimTime, u64) {
        self.now += 1_000_000;
        self.event += 1;
        (SimTime(self.now), self.event)
    }

    /// Client `client` invokes an operation on `key` (complete it with `h.complete`).
    pub fn invoke(&mut self, client: u32, key: u32, kind: OpKind, seen: Sighting) -> u32 {
        let (at, event) = self.tick();
        let purpose = if kind == OpKind::Write { purpose::WRITE } else { purpose::READ };
        self.h.invoke(Invocation {
            client,
            session: 0,
            kind,
            purpose,
            key,
            message: self.event as u32,
            attempt: 1,
            seen,
            stamp: at.0 as i64,
            invoked: at,
            invoke_event: event,
            newest: VersionId::ROOT,
            token: SimTime::ZERO,
        })
    }

    /// Client `client` writes `key` based on `based_on` (seen through its own write).
    pub fn write(&mut self, client: u32, key: u32, based_on: VersionId, o: Outcome) -> VersionId {
        let seen = Sighting { version: based_on, ..Sighting::NOTHING };
        self.write_seen(client, key, seen, o)
    }

    /// A write based on what `seen` says; it becomes the head (overwrite).
    pub fn write_seen(&mut self, client: u32, key: u32, seen: Sighting, o: Outcome) -> VersionId {
        let op = self.invoke(client, key, OpKind::Write, seen);
        let (at, event) = self.tick();
        let v = self.h.create_version(op, 0, at.0 as i64, &[seen.version], at, event);
        let from = std::mem::replace(&mut self.heads[key as usize], v);
        let cause = HeadCause::Write;
        self.h.head_moved(HeadMove { store: 0, key, from, to: v, cause, at, event });
        let (at, event) = self.tick();
        self.h.complete(op, o, v, (0, 0), at, event, true);
        v
    }

    /// A write that the store creates but does not make the head.
    pub fn write_losing_race(&mut self, client: u32, key: u32, based_on: VersionId) -> VersionId {
        let seen = Sighting { version: based_on, ..Sighting::NOTHING };
        let op = self.invoke(client, key, OpKind::Write, seen);
        let (at, event) = self.tick();
        let v = self.h.create_version(op, 0, 0, &[based_on], at, event);
        let from = self.heads[key as usize];
        let cause = HeadCause::LostRace;
        self.h.head_moved(HeadMove { store: 0, key, from, to: v, cause, at, event });
        let (at, event) = self.tick();
        self.h.complete(op, OK, v, (0, 0), at, event, true);
        v
    }

    /// An acknowledged write a deposed primary of term 1 made on its own copy, based on
    /// `based_on` (split brain): the head stays where it is.
    pub fn write_deposed(&mut self, client: u32, key: u32, based_on: VersionId) -> VersionId {
        let seen = Sighting { version: based_on, ..Sighting::NOTHING };
        let op = self.invoke(client, key, OpKind::Write, seen);
        let (at, event) = self.tick();
        let v = self.h.create_version(op, 0, at.0 as i64, &[based_on], at, event);
        let from = self.heads[key as usize];
        let cause = HeadCause::SplitBrain { term: 1, deposed_at: SimTime(0), deposed_event: 0 };
        self.h.head_moved(HeadMove { store: 0, key, from, to: v, cause, at, event });
        let (at, event) = self.tick();
        self.h.complete(op, OK, v, (0, 0), at, event, true);
        v
    }

    /// The response to `client`'s message `message`, persisted on top of `on`.
    pub fn response(&mut self, client: u32, key: u32, message: u32, on: VersionId) -> VersionId {
        let op = self.invoke(client, key, OpKind::Write, Sighting::NOTHING);
        self.h.invocation_mut(op).purpose = PERSIST;
        self.h.invocation_mut(op).message = message;
        let (at, event) = self.tick();
        let v = self.h.create_version(op, 0, at.0 as i64, &[on], at, event);
        let from = std::mem::replace(&mut self.heads[key as usize], v);
        let cause = HeadCause::Write;
        self.h.head_moved(HeadMove { store: 0, key, from, to: v, cause, at, event });
        let (at, event) = self.tick();
        self.h.complete(op, OK, v, (0, 0), at, event, true);
        v
    }

    /// `client`'s stream of the response to its message `message` ends: whole with
    /// `version`, or broken (`Unknown`).
    pub fn stream(&mut self, client: u32, key: u32, message: u32, o: Outcome, version: VersionId) {
        let op = self.invoke(client, key, OpKind::Stream, Sighting::NOTHING);
        self.h.invocation_mut(op).purpose = STREAM;
        self.h.invocation_mut(op).message = message;
        let (at, event) = self.tick();
        self.h.complete(op, o, version, (0, 0), at, event, true);
    }

    /// Client `client` reads `version` of `key` from `source`.
    pub fn read(&mut self, client: u32, key: u32, version: VersionId, source: u8) -> Sighting {
        self.read_for(purpose::READ, client, key, version, source)
    }

    /// A read made for `purpose` (an attacker's, a list).
    pub fn read_for(
        &mut self,
        purpose: Purpose,
        client: u32,
        key: u32,
        version: VersionId,
        source: u8,
    ) -> Sighting {
        let op = self.invoke(client, key, OpKind::Read, Sighting::NOTHING);
        self.h.invocation_mut(op).purpose = purpose;
        let (at, event) = self.tick();
        self.h.complete(op, OK, version, (0, source), at, event, true).sighting()
    }

    /// The simulated time of the last step.
    pub fn now(&self) -> SimTime {
        SimTime(self.now)
    }

    /// Ends the run with the store's heads at `heads` (keys in order) and replicas equal.
    pub fn finish(&mut self, heads: &[VersionId]) -> Vec<CheckReport> {
        let mut primary = self.heads.clone();
        primary[..heads.len()].copy_from_slice(heads);
        let store = StoreEnd { id: 0, primary: primary.clone(), replicas: vec![primary] };
        let names = Names { components: vec!["db".into(), "redis".into(), "api".into()] };
        // The run ends a step after the last operation.
        self.h.finish(&[store], &names, SimTime(self.now + 1_000_000))
    }

    /// `finish` for a history with one checker.
    pub fn finish_one(&mut self, heads: &[VersionId]) -> CheckReport {
        self.finish(heads).remove(0)
    }
}

/// A client's write invoked at `invoked` ns that ended `outcome` at `completed` ns.
pub fn op_at(invoked: u64, completed: u64, outcome: Outcome) -> super::history::OpRecord {
    super::history::OpRecord {
        inv: Invocation {
            client: 0,
            session: 0,
            kind: OpKind::Write,
            purpose: purpose::WRITE,
            key: 0,
            message: 0,
            attempt: 1,
            seen: Sighting::NOTHING,
            stamp: 0,
            invoked: SimTime(invoked),
            invoke_event: 0,
            newest: VersionId::ROOT,
            token: SimTime::ZERO,
        },
        version: VersionId::ROOT,
        store: 0,
        source: 0,
        completed: SimTime(completed),
        complete_event: 0,
        outcome,
        stale: false,
    }
}
