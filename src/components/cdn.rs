//! A CDN in front of the API (CloudFront-like): it caches the answers to `GET`s and
//! passes everything else (writes, WebSocket connects and edits) through to its origin.
//!
//! Two kinds of `GET` are cached: a document (`read`, cached per document) and the
//! caller's document list (`list`, one URL for everyone: what it returns depends on who
//! asks). The cache key is the URL alone, or the URL and the caller's organisation
//! (`key: tenant`): keyed by URL alone, a list cached for one organisation is served to
//! the next caller from another.
//!
//! Modes: `cache` serves a stored answer until it is `ttl` old, then fetches anew;
//! `revalidate` does the same but, once stale, asks the origin whether it changed (an
//! ETag's `If-None-Match`), counting the answers that had not (a `304 Not Modified`
//! costs the origin a lookup but no body); `no_store` never stores (`Cache-Control:
//! no-store`) and sends every request to the origin.

use super::purposes;
use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Msg, RETURN_LOST, Reply, Request, Status};
use crate::check::{OpId, Purpose, Sighting, VersionId};
use crate::engine::{ComponentId, LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems};

// The kind: its file shape, validation, contract and build.

/// CDN parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Cdn")]
pub struct RawCdn {
    /// How long a stored answer is served.
    pub ttl: Dur,
    /// `cache` (the default), `revalidate` or `no_store`.
    #[serde(default)]
    pub mode: RawCdnMode,
    /// `url` (the default) or `tenant`.
    #[serde(default)]
    pub key: RawCdnKey,
}

/// Whether and how a CDN stores answers.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "mode")]
#[schemars(rename = "cdn_mode")]
pub enum RawCdnMode {
    /// Serve until the TTL, then fetch.
    #[default]
    Cache,
    /// Serve until the TTL, then revalidate with an ETag.
    Revalidate,
    /// Store nothing.
    NoStore,
}

/// What a CDN files an answer under.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "key")]
pub enum RawCdnKey {
    /// The URL alone.
    #[default]
    Url,
    /// The URL and the caller's organisation.
    Tenant,
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

impl KindFile for RawCdn {
    type Spec = CdnSpec;
    type Actor = Cdn;

    fn validate(&self, _: &mut Problems) -> CdnSpec {
        let mode = match self.mode {
            RawCdnMode::Cache => CdnMode::Cache,
            RawCdnMode::Revalidate => CdnMode::Revalidate,
            RawCdnMode::NoStore => CdnMode::NoStore,
        };
        let key = match self.key {
            RawCdnKey::Url => CdnKey::Url,
            RawCdnKey::Tenant => CdnKey::Tenant,
        };
        CdnSpec { ttl: self.ttl.0, mode, key }
    }

    /// Builds the CDN in front of its origin.
    fn build(spec: &CdnSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let origin = ctx.link("origin").ok_or("a CDN needs a link to its origin")?;
        Ok(Cdn::new(spec, origin, ctx.scenario.clients.key_orgs()))
    }
}

impl KindSpec for CdnSpec {
    /// A CDN forwards what it does not hold to exactly one origin.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("CDN", Serves::Forwards);
        let origin = Role::new("origin", Target::Requests, 1, 1);
        c.roles.push(origin.wanting("exactly one link to its origin", "lb"));
        c
    }
}

// The component.

/// What a cached answer is filed under: the URL (a document's, or the list's) and,
/// with `key: tenant`, the caller's organisation.
type CacheKey = (Purpose, u32, u32);

#[derive(Debug, Clone, Copy)]
struct Entry {
    version: VersionId,
    stored: SimTime,
}

/// A `GET` fetched from the origin on a client's behalf.
#[derive(Debug, Clone, Copy)]
struct Fetch {
    client: ComponentId,
    back_ns: u64,
    key: CacheKey,
    /// The version held when revalidating a stale entry.
    held: Option<VersionId>,
}

/// A caching proxy.
#[derive(Debug)]
pub struct Cdn {
    spec: CdnSpec,
    origin: LinkId,
    /// Each key's organisation.
    key_orgs: Vec<u32>,
    entries: BTreeMap<CacheKey, Entry>,
    fetches: BTreeMap<OpId, Fetch>,
    hits: u64,
    misses: u64,
    not_modified: u64,
    passed: u64,
}

impl Cdn {
    /// A CDN in front of `origin`; `key_orgs` gives each document's organisation.
    pub fn new(spec: &CdnSpec, origin: LinkId, key_orgs: Vec<u32>) -> Cdn {
        Cdn {
            spec: *spec,
            origin,
            key_orgs,
            entries: BTreeMap::new(),
            fetches: BTreeMap::new(),
            hits: 0,
            misses: 0,
            not_modified: 0,
            passed: 0,
        }
    }

    fn cache_key(&self, purpose: Purpose, doc: u32) -> CacheKey {
        let tenant = match self.spec.key {
            CdnKey::Url => u32::MAX,
            CdnKey::Tenant => self.key_orgs.get(doc as usize).copied().unwrap_or(0),
        };
        // The list has one URL; each document its own.
        let url = if purpose == purposes::LIST { 0 } else { doc };
        (purpose, tenant, url)
    }

    fn on_request(&mut self, mut request: Request, env: &mut Env<'_>) {
        let back_ns = env.add_return_hop(request.return_ns, request.via);
        let purpose = env.invocation(request.op).purpose;
        let cacheable = purpose == purposes::READ || purpose == purposes::LIST;
        if !cacheable || self.spec.mode == CdnMode::NoStore {
            self.passed += 1;
            request.return_ns = back_ns;
            request.via = self.origin;
            env.send(self.origin, Msg::Request(request));
            return;
        }
        let key = self.cache_key(purpose, request.key);
        let entry = self.entries.get(&key).copied();
        let fresh = entry.filter(|e| env.now().since(e.stored) < self.spec.ttl);
        if let Some(e) = fresh {
            self.hits += 1;
            return self.answer(request.op, request.origin, back_ns, e.version, env);
        }
        self.misses += 1;
        let held = entry.filter(|_| self.spec.mode == CdnMode::Revalidate).map(|e| e.version);
        let own = Request { origin: env.id, via: self.origin, return_ns: 0, ..request };
        if env.send(self.origin, Msg::Request(own)) {
            let fetch = Fetch { client: request.origin, back_ns, key, held };
            self.fetches.insert(request.op, fetch);
        }
    }

    /// Serves `version` from the cache.
    fn answer(
        &self,
        op: OpId,
        client: ComponentId,
        back_ns: u64,
        version: VersionId,
        env: &mut Env<'_>,
    ) {
        if back_ns == RETURN_LOST {
            return env.release(op);
        }
        let (server, front, source) = (env.id, env.id, Sighting::SERVER);
        let reply = Reply { op, version, server, source, front, status: Status::Ok };
        env.deliver(SimDuration(back_ns), client, Msg::Reply(reply));
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        let Some(fetch) = self.fetches.remove(&reply.op) else {
            return env.release(reply.op);
        };
        if reply.status == Status::Ok {
            self.not_modified += u64::from(fetch.held == Some(reply.version));
            let entry = Entry { version: reply.version, stored: env.now() };
            self.entries.insert(fetch.key, entry);
        }
        if fetch.back_ns == RETURN_LOST {
            return env.release(reply.op);
        }
        env.deliver(SimDuration(fetch.back_ns), fetch.client, Msg::Reply(reply));
    }
}

impl Component for Cdn {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        // An empty answer is reported as its document's (a list's as document 0's).
        self.entries.iter().for_each(|(&(_, _, url), e)| held(e.version.of_key(url)));
        let fetched = self.fetches.values().filter_map(|f| Some(f.held?.of_key(f.key.2)));
        fetched.for_each(&mut *held);
        true
    }

    /// What the CDN did, by name: cache hits, misses (fetched from the origin),
    /// revalidations the origin answered `not modified`, requests passed through.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("hits", self.hits),
            ("misses", self.misses),
            ("not_modified", self.not_modified),
            ("passed_through", self.passed),
        ]
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Reply(reply) => self.on_reply(reply, env),
            other => panic!("cdn got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::OpKind;
    use crate::components::BuiltIn;
    use crate::components::testing::{UNDER_TEST, bench, deliver, ms, replies, request_for, run};

    enum Step {
        /// A client reads document 0 (cacheable).
        Read(u64),
        /// A client writes document 0 (never cached).
        Write(u64),
        /// The origin answers the last request it received with this version (to the
        /// CDN when the CDN fetched, straight to the client when it passed the request on).
        Answer(u64, u32),
    }

    /// Runs `script` through a CDN of `mode` with a TTL of 10 ms; the client must get
    /// `expected` (ms, version) and the origin see `fetched` requests.
    fn check(mode: CdnMode, script: &[Step], expected: &[(u64, u32)], fetched: usize) {
        let spec = CdnSpec { ttl: SimDuration::from_millis(10), mode, key: CdnKey::Url };
        let (mut sim, links) =
            bench(2, 1, |links| BuiltIn::Cdn(Cdn::new(&spec, links.callees[1], vec![0])));
        let client = links.callers[0];
        for step in script {
            match *step {
                Step::Read(t) => {
                    _ = request_for(&mut sim, ms(t), client, (OpKind::Read, purposes::READ), 0)
                }
                Step::Write(t) => {
                    _ = request_for(&mut sim, ms(t), client, (OpKind::Write, purposes::WRITE), 0)
                }
                Step::Answer(t, v) => {
                    run(&mut sim, ms(t));
                    let asked = sim.actor.received.iter().rev().find_map(|r| match r.msg {
                        Msg::Request(req) => Some(req),
                        _ => None,
                    });
                    let req = asked.expect("the origin was asked");
                    let (server, front) = (ComponentId(2), ComponentId(2));
                    let reply = Reply {
                        op: req.op,
                        version: VersionId(v),
                        server,
                        source: 0,
                        front,
                        status: Status::Ok,
                    };
                    if req.origin == UNDER_TEST {
                        deliver(&mut sim, ms(t), Msg::Reply(reply));
                    } else {
                        sim.scheduler().at(ms(t), req.origin, Msg::Reply(reply));
                    }
                }
            }
        }
        run(&mut sim, ms(1_000));
        let got: Vec<(u64, u32)> = replies(&sim)
            .into_iter()
            .filter(|r| r.1 == ComponentId(1))
            .map(|(at, _, _, v)| (at.as_nanos() / 1_000_000, v.0))
            .collect();
        assert_eq!(got, expected);
        let asked = sim.actor.received.iter().filter(|r| matches!(r.msg, Msg::Request(_)));
        assert_eq!(asked.count(), fetched);
    }

    #[test]
    fn a_read_is_fetched_once_then_served_from_the_cache_until_its_ttl() {
        let script =
            [Step::Read(1), Step::Answer(2, 1), Step::Read(5), Step::Read(13), Step::Answer(14, 2)];
        // Stored at 2 ms: the read at 5 ms is a hit, the one at 13 ms (11 ms old) is not.
        check(CdnMode::Cache, &script, &[(2, 1), (5, 1), (14, 2)], 2);
    }

    #[test]
    fn writes_and_no_store_reads_always_go_to_the_origin() {
        let script = [Step::Read(1), Step::Answer(2, 1), Step::Read(3), Step::Answer(4, 1)];
        check(CdnMode::NoStore, &script, &[(2, 1), (4, 1)], 2);
        check(CdnMode::Cache, &[Step::Write(1), Step::Write(2)], &[], 2);
    }
}
