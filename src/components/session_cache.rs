//! A Redis-like session cache the app servers share: login sessions by editor.
//!
//! A save stores an editor's session; a lookup answers `Ok` when the session is there
//! and `Rejected` when it is not. While crashed the cache answers nothing (servers time
//! out). A cache with replicas has one take over `failover` after a crash, with every
//! session (replication is taken as immediate: a session is written once at login and
//! read at every reconnect). A cache without replicas comes back only when the fault
//! restarts it, and comes back empty, as Redis without persistence does: every session
//! is gone and each editor must log in again.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kinds::BuiltIn;
use super::kinds::{BuildContext, KindFile};
use super::message::{Fault, Msg, Request, Status};
use crate::check::{Purpose, VersionId};
use crate::engine::SimDuration;
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// Session cache parameters.
#[derive(Debug, Clone, Deserialize)]
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

    fn validate(&self, _: &mut Problems) -> SessionCacheSpec {
        let failover = self.failover.map_or(SimDuration::ZERO, |d| d.0);
        SessionCacheSpec { replicas: self.replicas, failover }
    }

    /// Builds the cache.
    fn build(spec: &SessionCacheSpec, _ctx: &BuildContext<'_>) -> Result<BuiltIn, String> {
        Ok(BuiltIn::SessionCache(SessionCache::new(spec)))
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
        let inv = env.history.invocation(request.op);
        let (purpose, editor) = (inv.purpose, inv.client);
        let status = if purpose == Purpose::SessionSave {
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
