//! A Redis-like session cache the app servers share: login sessions by editor.
//!
//! A save stores an editor's session; a lookup answers `Ok` when the session is there
//! and `Rejected` when it is not. While crashed the cache answers nothing (servers time
//! out). A cache with replicas has one take over `failover` after a crash, with every
//! session (replication is taken as immediate: a session is written once at login and
//! read at every reconnect). A cache without replicas comes back only when the fault
//! restarts it, and comes back empty, as Redis without persistence does: every session
//! is gone and each editor must log in again.

use super::purposes;
use std::collections::BTreeSet;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Fault, Msg, Request, Status};
use crate::check::VersionId;
use crate::engine::SimDuration;
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// Session cache parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "SessionCache")]
pub struct RawSessionCache {
    /// Replicas that take over when the cache crashes.
    #[serde(default)]
    pub replicas: u32,
    /// Time for a replica to take over.
    #[serde(default)]
    pub failover: Option<Dur>,
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

impl KindFile for RawSessionCache {
    type Spec = SessionCacheSpec;
    type Actor = SessionCache;

    fn validate(&self, _: &mut Problems) -> SessionCacheSpec {
        let failover = self.failover.map_or(SimDuration::ZERO, |d| d.0);
        SessionCacheSpec { replicas: self.replicas, failover }
    }

    /// Builds the cache.
    fn build(spec: &SessionCacheSpec, _ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(SessionCache::new(spec))
    }
}

impl KindSpec for SessionCacheSpec {
    /// A session cache answers its app servers, and can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("session cache", Serves::SessionCache);
        c.alone = "answers its app servers";
        c.faults.push(FaultKind::Crash);
        c
    }
}

// The component.

/// A shared session cache.
#[derive(Debug)]
pub struct SessionCache {
    sessions: BTreeSet<u32>,
    up: bool,
    /// Replicas left to promote.
    replicas: u32,
    failover: SimDuration,
    lookups: u64,
    found: u64,
    saves: u64,
    failovers: u64,
    /// Sessions gone with a restart from nothing.
    wiped: u64,
}

impl SessionCache {
    /// An empty cache.
    pub fn new(spec: &SessionCacheSpec) -> SessionCache {
        SessionCache {
            sessions: BTreeSet::new(),
            up: true,
            replicas: spec.replicas,
            failover: spec.failover,
            lookups: 0,
            found: 0,
            saves: 0,
            failovers: 0,
            wiped: 0,
        }
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        if !self.up {
            return env.drop_request(&request);
        }
        let inv = env.invocation(request.op);
        let (purpose, editor) = (inv.purpose, inv.client);
        let status = if purpose == purposes::SESSION_SAVE {
            self.saves += 1;
            self.sessions.insert(editor);
            Status::Ok
        } else {
            self.lookups += 1;
            let found = self.sessions.contains(&editor);
            self.found += u64::from(found);
            if found { Status::Ok } else { Status::Rejected }
        };
        env.reply(&request, status, VersionId::ROOT, 0);
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash if self.up => {
                self.up = false;
                if self.replicas > 0 {
                    env.timer(self.failover, Msg::Wake);
                }
            }
            Fault::Restart if !self.up && self.replicas == 0 => {
                self.up = true;
                self.wiped += self.sessions.len() as u64;
                self.sessions.clear();
            }
            _ => {}
        }
    }

    /// A replica takes over with every session.
    fn promote(&mut self) {
        if !self.up && self.replicas > 0 {
            self.replicas -= 1;
            self.failovers += 1;
            self.up = true;
        }
    }
}

impl Component for SessionCache {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // It keeps only which editors have a session.
    }

    /// Whether it answers.
    fn is_up(&self) -> bool {
        self.up
    }

    /// What the cache did, by name.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("lookups", self.lookups),
            ("found", self.found),
            ("saves", self.saves),
            ("failovers", self.failovers),
            ("sessions_wiped", self.wiped),
        ]
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Fault(f) => self.on_fault(f, env),
            Msg::Wake => self.promote(),
            other => panic!("session cache got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::OpKind;
    use crate::components::BuiltIn;
    use crate::components::testing::{bench, deliver, ms, replies, request_for, run};

    enum Step {
        Save(u64),
        Lookup(u64),
        Fault(u64, Fault),
    }

    /// Runs `script` for one editor (the probe) against a cache with `replicas` that
    /// take over after 10 ms; the replies must be `expected` (ms, status), and the
    /// counts `counts` (lookups, found, saves, failovers, sessions wiped).
    fn check(replicas: u32, script: &[Step], expected: &[(u64, Status)], counts: [u64; 5]) {
        let spec = SessionCacheSpec { replicas, failover: SimDuration::from_millis(10) };
        let (mut sim, links) = bench(1, 1, |_| BuiltIn::SessionCache(SessionCache::new(&spec)));
        let via = links.callers[0];
        for step in script {
            match *step {
                Step::Save(t) => {
                    request_for(&mut sim, ms(t), via, (OpKind::Control, purposes::SESSION_SAVE), 0);
                }
                Step::Lookup(t) => {
                    let lookup = (OpKind::Control, purposes::SESSION_LOOKUP);
                    request_for(&mut sim, ms(t), via, lookup, 0);
                }
                Step::Fault(t, f) => deliver(&mut sim, ms(t), Msg::Fault(f)),
            }
        }
        run(&mut sim, ms(100));
        let got: Vec<(u64, Status)> =
            replies(&sim).into_iter().map(|(at, _, s, _)| (at.as_nanos() / 1_000_000, s)).collect();
        assert_eq!(got, expected);
        let names = ["lookups", "found", "saves", "failovers", "sessions_wiped"];
        let want: Vec<(&str, u64)> = names.into_iter().zip(counts).collect();
        assert_eq!(sim.actor.component.counts(), want);
    }

    #[test]
    fn a_saved_session_is_found_and_an_unknown_one_is_not() {
        let script = [Step::Lookup(1), Step::Save(2), Step::Lookup(3)];
        check(
            0,
            &script,
            &[(1, Status::Rejected), (2, Status::Ok), (3, Status::Ok)],
            [2, 1, 1, 0, 0],
        );
    }

    #[test]
    fn a_restart_without_replicas_wipes_every_session() {
        let script = [
            Step::Save(1),
            Step::Fault(2, Fault::Crash),
            Step::Lookup(3),
            Step::Fault(4, Fault::Restart),
            Step::Lookup(5),
        ];
        // Down at 3 ms: no answer; back empty at 4 ms: the session is gone.
        check(0, &script, &[(1, Status::Ok), (5, Status::Rejected)], [1, 0, 1, 0, 1]);
    }

    #[test]
    fn a_replica_takes_over_after_the_failover_time_with_every_session() {
        let script =
            [Step::Save(1), Step::Fault(2, Fault::Crash), Step::Lookup(5), Step::Lookup(13)];
        // The replica is promoted at 12 ms: the lookup at 5 ms gets nothing.
        check(1, &script, &[(1, Status::Ok), (13, Status::Ok)], [1, 1, 1, 1, 0]);
    }
}
