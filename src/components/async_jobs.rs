//! An async job queue: a request is answered `202 Accepted` at once and done later.
//!
//! Jobs wait in arrival order for one of `workers`; each runs for a drawn `duration`.
//! A job's result (a conversation's title) is metadata beside the conversation, not a
//! version of it: writing it into the conversation's version history would let the
//! next message, based on a view without it, orphan it, which no chat back end does
//! with a title. The `title_job` row of the report times a job from request to result,
//! queueing included.

use super::purposes;
use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Msg, Request, Status};
use crate::check::{Invocation, OpKind, Outcome, Sighting, VersionId};
use crate::engine::{Dist, SimDuration, SimTime};
use crate::model::contract::{Contract, KindSpec, Serves};
use crate::model::shape::{Problems, RawDist, WORKERS_MAX};

// The kind: its file shape, validation, contract and build.

/// Async job queue parameters.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "AsyncJobs")]
pub struct RawAsyncJobs {
    /// Jobs run at once.
    #[serde(default = "crate::model::shape::one")]
    pub workers: u32,
    /// Time one job takes.
    pub duration: RawDist,
}

/// Async job queue parameters.
#[derive(Debug, Clone)]
pub struct AsyncJobsSpec {
    /// Jobs run at once.
    pub workers: u32,
    /// Time one job takes.
    pub duration: Dist,
}

impl KindFile for RawAsyncJobs {
    type Spec = AsyncJobsSpec;
    type Actor = AsyncJobs;

    fn validate(&self, c: &mut Problems) -> AsyncJobsSpec {
        let j = self;
        let at = |field: &'static str| [field];
        c.count(&at("workers"), j.workers, WORKERS_MAX);
        AsyncJobsSpec { workers: j.workers, duration: c.dist(&at("duration"), &j.duration) }
    }

    /// Builds the queue.
    fn build(spec: &AsyncJobsSpec, _ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(AsyncJobs::new(spec))
    }
}

impl KindSpec for AsyncJobsSpec {
    /// A job queue runs its jobs itself.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("job queue", Serves::JobQueue);
        c.alone = "runs its jobs itself";
        c
    }
}

// The component.

/// A job queue in front of a store.
#[derive(Debug)]
pub struct AsyncJobs {
    duration: Dist,
    workers: u32,
    busy: u32,
    queue: VecDeque<Invocation>,
    /// Jobs running, by the number their `Done` timer carries.
    running: BTreeMap<u32, Invocation>,
    next_job: u32,
}

impl AsyncJobs {
    /// A queue as `spec` describes.
    pub fn new(spec: &AsyncJobsSpec) -> AsyncJobs {
        AsyncJobs {
            duration: spec.duration.clone(),
            workers: spec.workers,
            busy: 0,
            queue: VecDeque::new(),
            running: BTreeMap::new(),
            next_job: 0,
        }
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let mut job = env.invocation(request.op);
        job.invoked = env.now();
        job.invoke_event = env.event();
        env.reply(&request, Status::Accepted, VersionId::ROOT, 0);
        self.queue.push_back(job);
        self.start_next(env);
    }

    fn start_next(&mut self, env: &mut Env<'_>) {
        while self.busy < self.workers {
            let Some(job) = self.queue.pop_front() else { return };
            self.busy += 1;
            let id = self.next_job;
            self.next_job = self.next_job.wrapping_add(1);
            self.running.insert(id, job);
            let run = self.duration.sample(env.rng());
            env.timer(SimDuration(run), Msg::Done { job: id });
        }
    }

    /// A job ran: record its result, and give the worker the next job.
    fn on_done(&mut self, id: u32, env: &mut Env<'_>) {
        let Some(job) = self.running.remove(&id) else { return };
        self.busy -= 1;
        let op = env.invoke(Invocation {
            kind: OpKind::Control,
            purpose: purposes::TITLE_JOB,
            seen: Sighting::NOTHING,
            stamp: env.now().as_nanos() as i64,
            newest: VersionId::ROOT,
            token: SimTime::ZERO,
            ..job
        });
        let me = env.id.0;
        env.complete(op, (Outcome::Ok, VersionId::ROOT), (me, 0), true);
        self.start_next(env);
    }
}

impl Component for AsyncJobs {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        let jobs = self.queue.iter().chain(self.running.values());
        jobs.flat_map(|i| [i.seen.version.of_key(i.key), i.newest]).for_each(held);
        true
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Done { job } => self.on_done(job, env),
            other => panic!("job queue got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::BuiltIn;
    use crate::components::testing::{bench, ms, replies, request, run};

    /// `requests` at the given ms to a queue of `workers` with jobs of 10 ms: every
    /// request is accepted at once; the jobs finish at `done` (ms, in order).
    fn check(workers: u32, requests: &[u64], done: &[u64]) {
        let spec = AsyncJobsSpec { workers, duration: Dist::constant(10_000_000) };
        let (mut sim, links) = bench(1, 1, |_| BuiltIn::AsyncJobs(AsyncJobs::new(&spec)));
        for &t in requests {
            request(&mut sim, ms(t), links.callers[0], OpKind::Control, 0);
        }
        run(&mut sim, ms(1_000));
        let accepted: Vec<(u64, Status)> =
            replies(&sim).into_iter().map(|(at, _, s, _)| (at.as_nanos() / 1_000_000, s)).collect();
        let want: Vec<(u64, Status)> = requests.iter().map(|&t| (t, Status::Accepted)).collect();
        assert_eq!(accepted, want);
        let ops = sim.actor.history.ops().expect("the bench keeps operations");
        let jobs = ops.iter().filter(|o| o.inv.purpose == purposes::TITLE_JOB);
        let finished: Vec<u64> = jobs.map(|o| o.completed.as_nanos() / 1_000_000).collect();
        assert_eq!(finished, done);
    }

    #[test]
    fn requests_are_accepted_at_once_and_jobs_wait_for_a_worker() {
        // Two workers, four jobs at 1 ms: two finish at 11 ms, two at 21 ms.
        check(2, &[1, 1, 1, 1], &[11, 11, 21, 21]);
    }

    #[test]
    fn an_idle_worker_starts_a_job_the_moment_it_arrives() {
        check(1, &[1, 30], &[11, 40]);
    }
}
