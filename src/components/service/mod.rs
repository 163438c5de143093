//! A service whose logic is written in the model file: for each operation it receives,
//! a handler, a pipeline of steps over its links that reads like a sequence diagram.
//!
//! ```ron
//! "api": Service(
//!     handlers: {
//!         "read": [
//!             cache_get(cache: "redis", on_miss: [
//!                 call(to: "db"),
//!                 cache_set(cache: "redis", ttl: "30s"),
//!             ]),
//!             respond,
//!         ],
//!         "write": [call(to: "db"), cache_delete(cache: "redis"), respond],
//!     },
//! )
//! ```
//!
//! A handler carries one value, the version it last obtained: `call` passes the client's
//! operation to a component that answers requests (a store, a balancer, another
//! service) and takes the version it answers; `cache_get` takes the cached version or,
//! on a miss, runs its `on_miss` steps (with `coalesce`, a miss waits for a fetch of the
//! key already in flight on the instance; with `refresh_ahead`, a hit close to its
//! expiry answers, then runs `on_miss` to refresh the key); `cache_set` stores the value, `cache_delete`
//! removes the key; `respond` answers the client with the value; `sleep` waits. Steps
//! after `respond` still run (work done after answering). Every call has a timeout
//! (1 s unless set) and a call to a component may be retried; a call that fails for
//! good, or that a store refuses, answers the client with the failure at once and ends
//! the handler; a job queue's `202 Accepted` is no failure, and `respond` passes it on. A cache that fails (down, or silent past the timeout) counts as a miss
//! for a get and is skipped for a set or delete, as application code does.
//!
//! A crash loses every handler in progress wherever it stands, between any two steps:
//! a write already made stays made, the steps after it never run.

mod handlers;

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Component;
use super::capacity::{Capacity, Load};
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{CacheCall, CacheOutcome, CacheVerb, Fault, Msg, Reply, Request, Status};
use crate::check::{OpId, OpKind, Sighting, VersionId};
use crate::engine::{ComponentId, LinkId, SimDuration, SimTime};
use crate::model::CapacitySpec;
use crate::model::contract::{Callee, Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Problems, RawCapacity};

pub use handlers::{Handler, Instr, OPERATIONS, RawHandlerStep};

// The kind: its file shape, validation, contract and build.

/// Most instances of a service.
pub const COUNT_MAX: u32 = 1000;

/// `Service(count: 2, capacity: (...), handlers: {"read": [...], "write": [...]})`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Service")]
pub struct RawService {
    /// Instances. With more than one, whatever calls it needs a `LoadBalancer` in front
    /// (a link straight to a multi-instance service is refused).
    #[serde(default = "crate::model::shape::one")]
    pub count: u32,
    /// Workers and the time each request takes of one before its handler runs (the
    /// service's own work); absent: no queueing.
    #[serde(default)]
    pub capacity: Option<RawCapacity>,
    /// A handler per operation it receives: `"read": [steps]`.
    pub handlers: BTreeMap<String, Vec<RawHandlerStep>>,
}

/// Service parameters.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Instances.
    pub count: u32,
    /// Workers and service time, if it queues.
    pub capacity: Option<CapacitySpec>,
    /// Its handlers, by operation name.
    pub handlers: Vec<Handler>,
    /// The components its steps name, in order of first mention, with what each must
    /// serve and where it is first named.
    pub callees: Vec<Callee>,
}

impl KindFile for RawService {
    type Spec = ServiceSpec;
    /// Boxed, like a store: every instance takes the largest variant's size.
    type Actor = Box<Service>;

    fn validate(&self, problems: &mut Problems) -> ServiceSpec {
        problems.count(&["count"], self.count, COUNT_MAX);
        let capacity = self.capacity.as_ref().map(|c| problems.capacity(&["capacity"], c));
        if self.handlers.is_empty() {
            let hint = r#"e.g. handlers: {"read": [call(to: "db"), respond]}"#;
            problems.error(
                &["handlers"],
                "a service needs at least one handler".into(),
                Some(hint.into()),
            );
        }
        let (handlers, callees) = handlers::compile(&self.handlers, problems);
        ServiceSpec { count: self.count.clamp(1, COUNT_MAX), capacity, handlers, callees }
    }

    fn build(spec: &ServiceSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        // The links of role `calls` are in model order: pair each with its far end's name.
        let names = ctx.scenario.model.links.iter().filter_map(|l| match &l.from {
            crate::model::Endpoint::Component(from) if from == ctx.name => Some(l.to.as_str()),
            _ => None,
        });
        let by_name: BTreeMap<&str, LinkId> =
            names.zip(ctx.links("calls").iter().copied()).collect();
        let links = spec
            .callees
            .iter()
            .map(|c| {
                by_name.get(c.name.as_str()).copied().ok_or(format!("no link to `{}`", c.name))
            })
            .collect::<Result<Vec<LinkId>, String>>()?;
        let mut service = Service::new(spec, links);
        // Clients that pass their timeout on as a deadline: the service honours it.
        let clients = &ctx.scenario.clients;
        service.deadline = clients.timeout.filter(|_| clients.deadlines);
        Ok(Box::new(service))
    }
}

impl KindSpec for ServiceSpec {
    /// A service answers requests with logic of its own, calls what its steps name, and
    /// can crash.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("service", Serves::Server);
        c.instances = self.count;
        let calls = Role::new("calls", Target::Any, 0, u32::MAX);
        c.roles.push(calls.wanting("links to what its handlers call", "db"));
        c.faults.push(FaultKind::Crash);
        c.slows(self.capacity.is_some());
        c.callees = self.callees.clone();
        c.answers = Some(self.handlers.iter().map(|h| h.operation.clone()).collect());
        c
    }
}

// The component.

/// What a handler in progress waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// A worker (the service's own work before the handler runs).
    Worker,
    /// The answer to a call, with the sends it has left.
    Call { retries_left: u32 },
    /// A cache's answer.
    Cache,
    /// A sleep's end.
    Sleep,
    /// Another job's fetch of the same key (a coalesced miss).
    Coalesced,
    /// Its branches, this many still running.
    Branches(u32),
    /// Nothing: it is running.
    Nothing,
}

/// A request being handled.
#[derive(Debug, Clone, Copy)]
struct Job {
    request: Request,
    handler: usize,
    pc: usize,
    /// The version the handler holds, and who gave it.
    value: VersionId,
    served: (ComponentId, u8),
    /// `Ok`, or `Accepted` once a job queue took the work for later.
    status: Status,
    responded: bool,
    waiting: Waiting,
    /// Numbers each wait, so a late answer or a stale deadline is told apart.
    wait: u16,
    /// The job it is a branch of, and which branch (its parent holds the request).
    parent: Option<(u32, usize)>,
    /// When its client stops waiting (`NO_DEADLINE` unless its request carries one).
    deadline: SimTime,
}

/// A fetch of one key by one job, as coalescing misses find it: (handler, the
/// `cache_get`'s instruction, key).
type FetchKey = (usize, usize, u32);

/// A job waiting for the answer to an operation it passed on: which job, at which
/// `call` (an answer meant for an earlier call is no answer to a later one), and the
/// component it called.
#[derive(Debug, Clone, Copy)]
struct Calling {
    job: u32,
    pc: usize,
    peer: ComponentId,
}

/// What a service did over a run.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    handled: u64,
    /// Requests dropped unserved from the queue: their deadline had passed.
    expired: u64,
    calls: u64,
    retries: u64,
    call_failures: u64,
    cache_failures: u64,
    coalesced: u64,
    refreshed_ahead: u64,
    published: u64,
    lost_in_crash: u64,
}

/// The deadline of a request that carries none.
const NO_DEADLINE: SimTime = SimTime(u64::MAX);

/// A service instance.
#[derive(Debug)]
pub struct Service {
    handlers: Vec<Handler>,
    /// The link to each callee, in the spec's order.
    links: Vec<LinkId>,
    capacity: Option<Capacity<u32>>,
    jobs: BTreeMap<u32, Job>,
    /// The jobs waiting for answers to each operation passed on, with the component
    /// each called (parallel branches pass the same operation to different ones).
    calls: BTreeMap<OpId, Vec<Calling>>,
    /// Fetches in flight that misses coalesce on (or refreshes ahead): the job leading
    /// each, and the jobs waiting for it.
    fetching: BTreeMap<FetchKey, (u32, Vec<u32>)>,
    next_job: u32,
    up: bool,
    counts: Counts,
    /// The clients' timeout, when they pass it on as a deadline.
    deadline: Option<SimDuration>,
}

impl Service {
    /// A service running `spec`'s handlers, reaching each callee over `links`.
    pub fn new(spec: &ServiceSpec, links: Vec<LinkId>) -> Service {
        Service {
            handlers: spec.handlers.clone(),
            links,
            capacity: spec.capacity.as_ref().map(|c| Capacity::new(c, 0)),
            jobs: BTreeMap::new(),
            calls: BTreeMap::new(),
            fetching: BTreeMap::new(),
            next_job: 0,
            up: true,
            counts: Counts::default(),
            deadline: None,
        }
    }

    /// When the client of `op` stops waiting, if it passes its timeout on: the
    /// client's timeout after it sent the request (the first copy, for a hedge).
    fn deadline_of(&self, op: crate::check::OpId, env: &Env<'_>) -> SimTime {
        let Some(timeout) = self.deadline else { return NO_DEADLINE };
        let inv = env.invocation(op);
        match inv.purpose.info().by {
            crate::check::Actor::Client => inv.invoked.after(timeout),
            _ => NO_DEADLINE,
        }
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        if !self.up {
            return env.drop_request(&request);
        }
        let operation = env.invocation(request.op).purpose.name();
        let Some(handler) = self.handlers.iter().position(|h| h.operation == operation) else {
            // Load time refuses a workflow that sends what no handler takes.
            return env.reply(&request, Status::Refused, VersionId::ROOT, 0);
        };
        self.counts.handled += 1;
        let id = self.next_job;
        self.next_job = self.next_job.wrapping_add(1);
        let served = (env.id, Sighting::SERVER);
        let job = Job {
            request,
            handler,
            pc: 0,
            value: VersionId::ROOT,
            served,
            status: Status::Ok,
            responded: false,
            waiting: Waiting::Worker,
            wait: 0,
            parent: None,
            deadline: self.deadline_of(request.op, env),
        };
        self.jobs.insert(id, job);
        match &mut self.capacity {
            None => self.run(id, env),
            Some(cap) => {
                if cap.arrive(id, env).is_err() {
                    self.fail(id, Status::Unavailable, env); // Queue full: 503.
                }
            }
        }
    }

    /// Runs job `id` from its current step until it waits or ends.
    fn run(&mut self, id: u32, env: &mut Env<'_>) {
        loop {
            self.end_fetch(id, env);
            let Some(job) = self.jobs.get_mut(&id) else { return };
            job.waiting = Waiting::Nothing;
            let Some(instr) = self.handlers[job.handler].program.get(job.pc).cloned() else {
                let job = self.jobs.remove(&id).expect("the job exists");
                if job.parent.is_none() {
                    env.release(job.request.op); // The job's own copy.
                }
                return;
            };
            if !self.step(id, &instr, env) {
                return;
            }
        }
    }

    /// Starts `instr` for job `id`; true when it is done at once and the next step runs.
    fn step(&mut self, id: u32, instr: &Instr, env: &mut Env<'_>) -> bool {
        let job = self.jobs.get_mut(&id).expect("a running job exists");
        match *instr {
            // Answered already by a refresh ahead: the refresh goes on.
            Instr::Respond if job.responded => {
                job.pc += 1;
                true
            }
            Instr::Respond => {
                job.responded = true;
                job.pc += 1;
                let (request, value, served) = (job.request, job.value, job.served);
                // The reply is a copy of its own: the job keeps its copy until it ends,
                // so steps after `respond` may still pass the operation on.
                env.copy_request(request.op);
                env.reply_for(&request, job.status, value, served);
                true
            }
            Instr::Parallel { ref starts, .. } => {
                let (parent, n) = (*job, starts.len() as u32);
                job.waiting = Waiting::Branches(n);
                for (branch, &start) in starts.iter().enumerate() {
                    let child = self.next_job;
                    self.next_job = self.next_job.wrapping_add(1);
                    let job = Job { pc: start, wait: 0, parent: Some((id, branch)), ..parent };
                    self.jobs.insert(child, job);
                    self.run(child, env);
                }
                false
            }
            Instr::EndBranch => {
                self.end_branch(id, env);
                false
            }
            Instr::Sleep(ref d) => {
                let delay = SimDuration(d.sample(env.rng()));
                self.wait(id, Waiting::Sleep, delay, env);
                false
            }
            Instr::Publish { callee } => {
                let (key, version) = (job.request.key, job.value);
                job.pc += 1;
                self.counts.published += 1;
                env.send(self.links[callee], Msg::Publish { key, version, from: env.id.0 });
                true
            }
            Instr::Call { callee, timeout, retries, outbox, publishes } => {
                // A call waits no longer than the client does (its deadline, passed on).
                let deadline = job.deadline;
                if deadline <= env.now() {
                    self.fail(id, Status::Unavailable, env);
                    return false;
                }
                let timeout = timeout.min(deadline.since(env.now()));
                if (outbox || publishes) && job.request.kind == OpKind::Write {
                    env.publish_on_commit(job.request.op, outbox);
                }
                self.call(id, callee, env);
                self.wait(id, Waiting::Call { retries_left: retries }, timeout, env);
                false
            }
            Instr::CacheGet { callee, timeout, .. } => {
                self.cache_call(id, callee, CacheVerb::Get, 0, env);
                self.wait(id, Waiting::Cache, timeout, env);
                false
            }
            Instr::CacheSet { callee, timeout, ttl_ms, only_if_newer } => {
                let verb = if only_if_newer { CacheVerb::SetIfNewer } else { CacheVerb::Set };
                self.cache_call(id, callee, verb, ttl_ms, env);
                self.wait(id, Waiting::Cache, timeout, env);
                false
            }
            Instr::CacheDelete { callee, timeout } => {
                self.cache_call(id, callee, CacheVerb::Delete, 0, env);
                self.wait(id, Waiting::Cache, timeout, env);
                false
            }
        }
    }

    /// Job `id` now waits for `what`, until a deadline `after` from now.
    fn wait(&mut self, id: u32, what: Waiting, after: SimDuration, env: &mut Env<'_>) {
        let job = self.jobs.get_mut(&id).expect("a waiting job exists");
        job.waiting = what;
        env.timer(after, Msg::Deadline { job: id, wait: job.wait });
    }

    /// Passes job `id`'s operation to `callee`: one more copy of the request travels.
    fn call(&mut self, id: u32, callee: usize, env: &mut Env<'_>) {
        let job = self.jobs[&id];
        let link = self.links[callee];
        let r = job.request;
        let own = Request { origin: env.id, via: link, return_ns: 0, ..r };
        self.counts.calls += 1;
        let peer = env.peer(link);
        self.calls.entry(r.op).or_default().push(Calling { job: id, pc: job.pc, peer });
        env.copy_request(r.op);
        env.send(link, Msg::Request(own));
    }

    fn cache_call(
        &mut self,
        id: u32,
        callee: usize,
        verb: CacheVerb,
        ttl_ms: u32,
        env: &mut Env<'_>,
    ) {
        let job = self.jobs[&id];
        let r = job.request;
        let client = env.invocation(r.op).client;
        let call = CacheCall {
            origin: env.id,
            job: id,
            wait: job.wait,
            key: r.key,
            version: job.value,
            client,
            ttl_ms,
            verb,
        };
        env.reaches_over(r.op, self.links[callee]);
        env.send(self.links[callee], Msg::CacheCall(call));
    }

    /// Branch job `id` ended: its parent takes the first branch's value, and goes on
    /// when it was the last.
    fn end_branch(&mut self, id: u32, env: &mut Env<'_>) {
        let child = self.jobs.remove(&id).expect("an ending branch exists");
        let Some((parent, branch)) = child.parent else { return };
        let Some(job) = self.jobs.get_mut(&parent) else { return }; // It failed meanwhile.
        let Waiting::Branches(left) = job.waiting else { return };
        if branch == 0 {
            (job.value, job.served, job.status) = (child.value, child.served, child.status);
        }
        job.waiting = Waiting::Branches(left - 1);
        if left > 1 {
            return;
        }
        let Instr::Parallel { after, .. } = self.handlers[job.handler].program[job.pc] else {
            unreachable!("a parent waits at its parallel step");
        };
        job.pc = after;
        self.run(parent, env);
    }

    /// Job `id`, which is in progress.
    fn job(&mut self, id: u32) -> &mut Job {
        self.jobs.get_mut(&id).expect("a job in progress exists")
    }

    /// Job `id`'s wait is over: later answers and deadlines of it are stale.
    fn next_wait(&mut self, id: u32) -> Option<&mut Job> {
        let job = self.jobs.get_mut(&id)?;
        job.wait = job.wait.wrapping_add(1);
        job.waiting = Waiting::Nothing;
        Some(job)
    }

    /// The job an answer to `op` from `server` is for: the one that called `server`, or
    /// else the first waiting (a balancer answers with the store behind it). It waits
    /// for no other answer to `op`.
    fn waiter(&mut self, op: OpId, server: ComponentId) -> Option<u32> {
        let waiting = self.calls.get(&op)?;
        let i = waiting.iter().position(|c| c.peer == server).unwrap_or(0);
        let Calling { job: id, pc, .. } = waiting[i];
        self.forget_calls(op, id);
        let job = self.jobs.get(&id)?;
        (job.pc == pc && matches!(job.waiting, Waiting::Call { .. })).then_some(id)
    }

    /// Job `id`'s call is answered or given up: a write the store makes for its
    /// operation after this (a late retry, the next call) is not the one to publish.
    fn call_over(&mut self, id: u32, env: &mut Env<'_>) {
        let job = self.jobs[&id];
        if let Instr::Call { outbox, publishes, .. } = self.handlers[job.handler].program[job.pc] {
            if outbox || publishes {
                env.stop_publishing(job.request.op);
            }
        }
    }

    /// Job `id` waits for no more answers to `op`.
    fn forget_calls(&mut self, op: OpId, id: u32) {
        let Some(waiting) = self.calls.get_mut(&op) else { return };
        waiting.retain(|c| c.job != id);
        if waiting.is_empty() {
            self.calls.remove(&op);
        }
    }

    fn on_reply(&mut self, reply: Reply, env: &mut Env<'_>) {
        env.release(reply.op); // This copy's journey ends here.
        let Some(id) = self.waiter(reply.op, reply.server) else { return };
        self.call_over(id, env);
        let job = self.next_wait(id).expect("the job exists");
        if !matches!(reply.status, Status::Ok | Status::Accepted) {
            job.value = reply.version;
            return self.fail(id, reply.status, env);
        }
        job.status = reply.status;
        job.value = reply.version;
        job.served = (reply.server, reply.source);
        job.pc += 1;
        self.run(id, env);
    }

    fn on_cache_answer(
        &mut self,
        id: u32,
        wait: u16,
        (version, outcome, left_ms): (VersionId, CacheOutcome, u32),
        env: &mut Env<'_>,
    ) {
        let Some(job) = self.jobs.get(&id) else { return };
        if job.wait != wait || job.waiting != Waiting::Cache {
            return;
        }
        let instr = self.handlers[job.handler].program[job.pc].clone();
        if outcome == CacheOutcome::Unavailable {
            self.counts.cache_failures += 1;
        }
        self.next_wait(id);
        match instr {
            Instr::CacheGet { callee, hit, refresh_ahead_ms, .. }
                if outcome == CacheOutcome::Hit =>
            {
                let cache = env.peer(self.links[callee]);
                let job = self.job(id);
                job.value = version;
                job.served = (cache, Sighting::SERVER);
                let key = (job.handler, job.pc, job.request.key);
                if left_ms < refresh_ahead_ms && !self.fetching.contains_key(&key) {
                    self.refresh_ahead(id, key, env);
                } else {
                    self.job(id).pc = hit;
                }
            }
            Instr::CacheGet { .. } => return self.missed(id, env),
            _ => self.job(id).pc += 1,
        }
        self.run(id, env);
    }

    /// Job `id`'s `cache_get` missed: it fetches, or waits for a fetch in flight.
    fn missed(&mut self, id: u32, env: &mut Env<'_>) {
        let job = self.jobs.get_mut(&id).expect("a job in progress exists");
        let Instr::CacheGet { coalesce, .. } = self.handlers[job.handler].program[job.pc] else {
            unreachable!("a miss is at a cache_get");
        };
        let key = (job.handler, job.pc, job.request.key);
        if coalesce {
            if let Some((_, waiters)) = self.fetching.get_mut(&key) {
                self.counts.coalesced += 1;
                waiters.push(id);
                job.waiting = Waiting::Coalesced;
                return;
            }
            self.fetching.insert(key, (id, Vec::new()));
        }
        job.pc += 1;
        self.run(id, env);
    }

    /// Answers job `id` from the cache now, then runs the `on_miss` steps to refresh
    /// the key, leading the fetch of `key` so no other refresh starts.
    fn refresh_ahead(&mut self, id: u32, key: FetchKey, env: &mut Env<'_>) {
        self.counts.refreshed_ahead += 1;
        self.fetching.insert(key, (id, Vec::new()));
        let job = self.job(id);
        job.pc += 1;
        if !job.responded {
            job.responded = true;
            let (request, value, served) = (job.request, job.value, job.served);
            env.copy_request(request.op); // The job keeps its own copy while it refreshes.
            env.reply_for(&request, Status::Ok, value, served);
        }
    }

    /// When job `id` has run the `on_miss` steps of the fetch it leads, the jobs waiting
    /// for it take its value and go on after the `cache_get`.
    fn end_fetch(&mut self, id: u32, env: &mut Env<'_>) {
        if self.fetching.is_empty() {
            return;
        }
        let Some(job) = self.jobs.get(&id).copied() else { return };
        let program = &self.handlers[job.handler].program;
        let done = |&(handler, get, key): &FetchKey| {
            let hit = match program.get(get) {
                Some(Instr::CacheGet { hit, .. }) => *hit,
                _ => usize::MAX,
            };
            handler == job.handler && key == job.request.key && hit == job.pc
        };
        let ended: Vec<FetchKey> = self
            .fetching
            .iter()
            .filter(|(k, (lead, _))| *lead == id && done(k))
            .map(|(k, _)| *k)
            .collect();
        for k in ended {
            let (_, waiters) = self.fetching.remove(&k).expect("a fetch in flight");
            for w in waiters {
                let Some(waiter) = self.jobs.get_mut(&w) else { continue };
                (waiter.value, waiter.served, waiter.pc) = (job.value, job.served, job.pc);
                self.run(w, env);
            }
        }
    }

    /// Job `id`, which leads a fetch, failed: the jobs waiting for it fetch for
    /// themselves.
    fn abandon_fetch(&mut self, id: u32, env: &mut Env<'_>) {
        let led: Vec<FetchKey> =
            self.fetching.iter().filter(|(_, (lead, _))| *lead == id).map(|(k, _)| *k).collect();
        for k in led {
            let (_, waiters) = self.fetching.remove(&k).expect("a fetch in flight");
            for w in waiters {
                let Some(waiter) = self.jobs.get_mut(&w) else { continue };
                waiter.pc = k.1 + 1;
                self.run(w, env);
            }
        }
    }

    fn on_deadline(&mut self, id: u32, wait: u16, env: &mut Env<'_>) {
        let Some(job) = self.jobs.get(&id) else { return };
        if job.wait != wait {
            return;
        }
        match job.waiting {
            Waiting::Sleep => {
                self.next_wait(id).expect("the job exists").pc += 1;
                self.run(id, env);
            }
            Waiting::Cache => {
                // Silent past the timeout: a get is a miss, a set or delete is skipped.
                self.counts.cache_failures += 1;
                let get =
                    matches!(self.handlers[job.handler].program[job.pc], Instr::CacheGet { .. });
                let job = self.next_wait(id).expect("the job exists");
                if get {
                    return self.missed(id, env);
                }
                job.pc += 1;
                self.run(id, env);
            }
            Waiting::Call { retries_left } if retries_left > 0 => {
                self.counts.retries += 1;
                let Instr::Call { callee, timeout, .. } =
                    self.handlers[job.handler].program[job.pc]
                else {
                    unreachable!("a job waiting for a call is at a call step");
                };
                self.next_wait(id);
                self.call(id, callee, env);
                self.wait(id, Waiting::Call { retries_left: retries_left - 1 }, timeout, env);
            }
            Waiting::Call { .. } => {
                self.counts.call_failures += 1;
                self.forget_calls(job.request.op, id);
                self.call_over(id, env);
                self.next_wait(id);
                self.fail(id, Status::Unavailable, env);
            }
            Waiting::Worker | Waiting::Coalesced | Waiting::Branches(_) | Waiting::Nothing => {}
        }
    }

    /// Ends job `id` with `status`: the client is told, unless it already was.
    fn fail(&mut self, id: u32, status: Status, env: &mut Env<'_>) {
        let Some(job) = self.jobs.remove(&id) else { return };
        self.abandon_fetch(id, env);
        if let Some((parent, _)) = job.parent {
            // A branch's failure is its request's: the parent answers it.
            return self.fail(parent, status, env);
        }
        if job.responded {
            return env.release(job.request.op); // The job's own copy.
        }
        // A refusal names what refused it (a version check's head); a 503 nothing.
        let version = if status == Status::Unavailable { VersionId::ROOT } else { job.value };
        env.reply_for(&job.request, status, version, (env.id, Sighting::SERVER));
    }

    fn on_done(&mut self, job: u32, env: &mut Env<'_>) {
        let (_, worker) = Capacity::<u32>::split(job);
        let Some(cap) = &mut self.capacity else { return };
        let (jobs, now) = (&self.jobs, env.now());
        let stale = |id: &u32| jobs.get(id).is_some_and(|j| j.deadline <= now);
        let mut expired = Vec::new();
        let finished = cap.done_skipping(worker, env, stale, &mut expired);
        for id in expired {
            // Its client has stopped waiting: no worker spends time on it.
            let job = self.jobs.remove(&id).expect("a queued job exists");
            env.drop_request(&job.request);
            self.counts.expired += 1;
        }
        if let Some(id) = finished {
            self.run(id, env);
        }
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash if self.up => {
                self.up = false;
                if let Some(cap) = &mut self.capacity {
                    cap.drop_all(env.now(), |_| {});
                }
                // Every handler in progress stops where it stands; the clients not yet
                // answered never will be. Answers to its calls find nobody waiting.
                // Branches hold no copy of the request: their parent does.
                for (_, job) in std::mem::take(&mut self.jobs) {
                    self.counts.lost_in_crash += u64::from(job.parent.is_none());
                    if job.parent.is_none() {
                        env.drop_request(&job.request);
                    }
                }
                self.calls.clear();
                self.fetching.clear();
            }
            Fault::Restart => self.up = true,
            Fault::SlowFactor(milli) => {
                self.capacity.iter_mut().for_each(|c| c.slow_down(milli));
            }
            _ => {}
        }
    }
}

impl Component for Service {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        // Its queue holds job numbers: the jobs themselves are all in `jobs`.
        let of_key = |j: &Job| [j.request.seen, j.value].map(|v| v.of_key(j.request.key));
        self.jobs.values().flat_map(of_key).for_each(held);
        true
    }

    /// Requests handled, calls made (and retried, and failed for good), cache calls
    /// that failed, handlers a crash cut short.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        let mut counts = vec![
            ("handled", c.handled),
            ("calls", c.calls),
            ("retries", c.retries),
            ("call_failures", c.call_failures),
            ("cache_failures", c.cache_failures),
            ("coalesced", c.coalesced),
            ("refreshed_ahead", c.refreshed_ahead),
            ("published", c.published),
            ("lost_in_crash", c.lost_in_crash),
        ];
        // Only requests that carry deadlines expire: the count is there when they do.
        if c.expired > 0 {
            counts.push(("expired_unserved", c.expired));
        }
        counts
    }

    fn loads(&self, now: SimTime) -> Vec<(String, Load)> {
        self.capacity.iter().map(|c| (String::new(), c.load(now))).collect()
    }

    fn is_up(&self) -> bool {
        self.up
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(r) => self.on_request(r, env),
            Msg::Reply(r) => self.on_reply(r, env),
            Msg::CacheAnswer { job, wait, version, outcome, left_ms } => {
                self.on_cache_answer(job, wait, (version, outcome, left_ms), env)
            }
            Msg::Deadline { job, wait } => self.on_deadline(job, wait, env),
            Msg::Done { job } => self.on_done(job, env),
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("service got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::handlers::{NONE, responds};
    use super::*;
    use crate::check::OpKind;
    use crate::components::BuiltIn;
    use crate::components::purposes;
    use crate::components::testing::{answer, bench, deliver, ms, replies, request_for, run};

    fn compile(handlers: &str) -> (ServiceSpec, Problems) {
        use ron::extensions::Extensions;
        let options = ron::Options::default().with_default_extension(
            Extensions::UNWRAP_VARIANT_NEWTYPES | Extensions::IMPLICIT_SOME,
        );
        let raw: RawService = options.from_str(&format!("Service(handlers: {handlers})")).unwrap();
        let mut problems = Problems::default();
        let spec = raw.validate(&mut problems);
        (spec, problems)
    }

    /// The link to each of `spec`'s callees, from the links to each name.
    fn by_name(spec: &ServiceSpec, links: &[(&str, LinkId)]) -> Vec<LinkId> {
        let link = |name: &str| links.iter().find(|(n, _)| *n == name).expect("a link").1;
        spec.callees.iter().map(|c| link(&c.name)).collect()
    }

    const CACHE_ASIDE: &str = r#"{
        "read": [
            cache_get(cache: "redis", on_miss: [call(to: "db", timeout: "10ms", retries: 1), cache_set(cache: "redis", ttl: "1s")]),
            respond,
        ],
        "write": [call(to: "db"), cache_delete(cache: "redis"), respond],
    }"#;

    /// A service running `CACHE_ASIDE`: probe 1 is the client, probe 2 the database,
    /// probe 3 the cache.
    fn cache_aside() -> (crate::engine::Sim<crate::components::testing::BenchWorld>, LinkId) {
        let (spec, problems) = compile(CACHE_ASIDE);
        assert!(problems.list.is_empty(), "{:?}", problems.list);
        let (sim, links) = bench(3, 1, |l| {
            BuiltIn::Service(Box::new(Service::new(
                &spec,
                by_name(&spec, &[("db", l.callees[1]), ("redis", l.callees[2])]),
            )))
        });
        (sim, links.callers[0])
    }

    fn cache_calls(
        sim: &crate::engine::Sim<crate::components::testing::BenchWorld>,
    ) -> Vec<(u64, CacheCall)> {
        let calls = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::CacheCall(c) => Some((r.at.as_nanos() / 1_000_000, c)),
            _ => None,
        });
        calls.collect()
    }

    fn db_requests(
        sim: &crate::engine::Sim<crate::components::testing::BenchWorld>,
    ) -> Vec<Request> {
        let requests = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::Request(q) => Some(q),
            _ => None,
        });
        requests.collect()
    }

    fn cache_answer(
        sim: &mut crate::engine::Sim<crate::components::testing::BenchWorld>,
        at: u64,
        version: VersionId,
        outcome: CacheOutcome,
    ) {
        let (_, call) = *cache_calls(sim).last().expect("the cache was called");
        let (job, wait, left_ms) = (call.job, call.wait, u32::MAX);
        deliver(sim, ms(at), Msg::CacheAnswer { job, wait, version, outcome, left_ms });
    }

    #[test]
    fn handlers_compile_to_steps_with_a_jump_past_on_miss() {
        let (spec, _) = compile(CACHE_ASIDE);
        let read = &spec.handlers[0].program;
        assert!(matches!(read[0], Instr::CacheGet { callee: 0, hit: 3, .. }), "{read:?}");
        assert!(matches!(read[1], Instr::Call { callee: 1, retries: 1, .. }));
        assert_eq!(read[3], Instr::Respond);
        let names: Vec<&str> = spec.callees.iter().map(|c| c.name.as_str()).collect();
        // Each handler's callees on their own: the link check judges each use.
        assert_eq!(names, ["redis", "db", "db", "redis"]);
        assert_eq!(spec.callees[0].path, ["handlers", "read", "0"]);
        assert_eq!(spec.callees[2].path, ["handlers", "write", "0"]);
    }

    #[test]
    fn a_handler_must_respond_once_on_every_path() {
        let (_, p) =
            compile(r#"{"read": [cache_get(cache: "c", on_miss: [call(to: "db"), respond])]}"#);
        assert!(p.list[0].message.contains("can end without `respond`"), "{:?}", p.list);
        let (_, p) = compile(r#"{"read": [respond, cache_get(cache: "c", on_miss: [respond])]}"#);
        assert!(p.list[0].message.contains("can `respond` twice"), "{:?}", p.list);
        let (_, p) = compile(r#"{"reed": [respond]}"#);
        assert!(p.list[0].message.contains("not `reed`"), "{:?}", p.list);
        assert_eq!(responds(&[]), NONE);
    }

    #[test]
    fn a_miss_reads_the_store_sets_the_cache_then_answers_the_stores_version() {
        let (mut sim, client) = cache_aside();
        request_for(&mut sim, ms(1), client, (OpKind::Read, purposes::READ), 0);
        run(&mut sim, ms(1));
        cache_answer(&mut sim, 2, VersionId::ROOT, CacheOutcome::Miss);
        run(&mut sim, ms(2));
        let read = db_requests(&sim)[0];
        let v = VersionId(7);
        answer(&mut sim, ms(3), (ComponentId(2), Status::Ok), read, v);
        run(&mut sim, ms(3));
        let (at, set) = *cache_calls(&sim).last().unwrap();
        assert_eq!((at, set.verb, set.version, set.ttl_ms), (3, CacheVerb::Set, v, 1000));
        cache_answer(&mut sim, 4, VersionId::ROOT, CacheOutcome::Done);
        run(&mut sim, ms(10));
        assert_eq!(replies(&sim), [(ms(4), ComponentId(1), Status::Ok, v)]);
    }

    #[test]
    fn a_hit_answers_the_cached_version_without_the_store() {
        let (mut sim, client) = cache_aside();
        request_for(&mut sim, ms(1), client, (OpKind::Read, purposes::READ), 0);
        run(&mut sim, ms(1));
        cache_answer(&mut sim, 2, VersionId(5), CacheOutcome::Hit);
        run(&mut sim, ms(10));
        assert_eq!(replies(&sim), [(ms(2), ComponentId(1), Status::Ok, VersionId(5))]);
        assert!(db_requests(&sim).is_empty());
    }

    #[test]
    fn a_silent_store_is_called_again_then_the_client_is_told_it_failed() {
        let (mut sim, client) = cache_aside();
        request_for(&mut sim, ms(1), client, (OpKind::Read, purposes::READ), 0);
        run(&mut sim, ms(1));
        cache_answer(&mut sim, 2, VersionId::ROOT, CacheOutcome::Miss);
        run(&mut sim, ms(100));
        // Sent at 2 ms, again at 12 ms; given up at 22 ms.
        assert_eq!(db_requests(&sim).len(), 2);
        assert_eq!(replies(&sim), [(ms(22), ComponentId(1), Status::Unavailable, VersionId::ROOT)]);
    }

    #[test]
    fn coalesced_misses_wait_for_the_one_fetch_in_flight() {
        let handlers = CACHE_ASIDE.replace(
            r#"cache_get(cache: "redis","#,
            r#"cache_get(cache: "redis", coalesce: true,"#,
        );
        let (spec, problems) = compile(&handlers);
        assert!(problems.list.is_empty(), "{:?}", problems.list);
        let (mut sim, links) = bench(4, 1, |l| {
            BuiltIn::Service(Box::new(Service::new(
                &spec,
                by_name(&spec, &[("db", l.callees[1]), ("redis", l.callees[2])]),
            )))
        });
        let (a, b) = (links.callers[0], links.callers[3]);
        request_for(&mut sim, ms(1), a, (OpKind::Read, purposes::READ), 0);
        request_for(&mut sim, ms(1), b, (OpKind::Read, purposes::READ), 0);
        run(&mut sim, ms(1));
        for (_, call) in cache_calls(&sim) {
            let (job, wait, left_ms) = (call.job, call.wait, 0);
            let (version, outcome) = (VersionId::ROOT, CacheOutcome::Miss);
            deliver(&mut sim, ms(2), Msg::CacheAnswer { job, wait, version, outcome, left_ms });
        }
        run(&mut sim, ms(2));
        let reads = db_requests(&sim);
        assert_eq!(reads.len(), 1, "one fetch for both misses");
        answer(&mut sim, ms(3), (ComponentId(2), Status::Ok), reads[0], VersionId(9));
        run(&mut sim, ms(3));
        cache_answer(&mut sim, 4, VersionId::ROOT, CacheOutcome::Done);
        run(&mut sim, ms(10));
        let got: Vec<(SimTime, VersionId)> = replies(&sim).iter().map(|r| (r.0, r.3)).collect();
        assert_eq!(got, [(ms(4), VersionId(9)), (ms(4), VersionId(9))]);
    }

    #[test]
    fn parallel_branches_run_at_once_and_the_handler_goes_on_after_the_last() {
        let handlers = r#"{"write": [
            parallel([[call(to: "db")], [call(to: "search", timeout: "50ms")]]),
            respond,
        ]}"#;
        let (spec, problems) = compile(handlers);
        assert!(problems.list.is_empty(), "{:?}", problems.list);
        let names: Vec<&str> = spec.callees.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["db", "search"]);
        let make = |spec: &ServiceSpec| {
            let spec = spec.clone();
            bench(3, 1, move |l| {
                BuiltIn::Service(Box::new(Service::new(
                    &spec,
                    by_name(&spec, &[("db", l.callees[1]), ("search", l.callees[2])]),
                )))
            })
        };
        // Both answer: the client hears once the slower has, with the first's version.
        let (mut sim, links) = make(&spec);
        request_for(&mut sim, ms(1), links.callers[0], (OpKind::Write, purposes::WRITE), 0);
        run(&mut sim, ms(1));
        let asked = db_requests(&sim);
        assert_eq!(asked.len(), 2, "both branches call at once");
        let v = answer(&mut sim, ms(2), (ComponentId(2), Status::Ok), asked[0], VersionId::ROOT);
        answer(&mut sim, ms(5), (ComponentId(3), Status::Ok), asked[1], VersionId::ROOT);
        run(&mut sim, ms(100));
        assert_eq!(replies(&sim), [(ms(5), ComponentId(1), Status::Ok, v)]);
        // The second never answers: the request fails when its branch gives up.
        let (mut sim, links) = make(&spec);
        request_for(&mut sim, ms(1), links.callers[0], (OpKind::Write, purposes::WRITE), 0);
        run(&mut sim, ms(1));
        let asked = db_requests(&sim);
        answer(&mut sim, ms(2), (ComponentId(2), Status::Ok), asked[0], VersionId::ROOT);
        run(&mut sim, ms(100));
        assert_eq!(replies(&sim), [(ms(51), ComponentId(1), Status::Unavailable, VersionId::ROOT)]);
        let (_, p) =
            compile(r#"{"write": [parallel([[call(to: "db"), respond], [call(to: "x")]])]}"#);
        assert!(p.list.iter().any(|x| x.message.contains("cannot `respond`")), "{:?}", p.list);
    }

    #[test]
    fn a_crash_between_the_write_and_the_delete_loses_the_delete() {
        let (mut sim, client) = cache_aside();
        request_for(&mut sim, ms(1), client, (OpKind::Write, purposes::WRITE), 0);
        run(&mut sim, ms(1));
        let write = db_requests(&sim)[0];
        deliver(&mut sim, ms(2), Msg::Fault(Fault::Crash));
        answer(&mut sim, ms(3), (ComponentId(2), Status::Ok), write, VersionId::ROOT);
        run(&mut sim, ms(100));
        assert!(cache_calls(&sim).is_empty(), "the delete never runs");
        assert!(replies(&sim).is_empty(), "the client is never answered");
    }
}
