//! Workers receiving from a message queue: each takes one message at a time, processes
//! it for `processing`, then deletes it. With `heartbeat`, a worker extends the
//! message's visibility timeout that often while it works, so a slow job is not
//! delivered to another worker; without, a job that takes longer than the timeout is
//! processed twice. `idempotent: true` remembers, with the output, the messages
//! processed and skips one that comes again. A crashed worker's message shows again
//! when its timeout runs out. What the workers process goes to the log book.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::log::LogMsg;
use super::message::{Fault, Msg};
use crate::check::Processing;
use crate::engine::{Dist, LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// Most workers one entry may have.
pub const WORKERS_MAX: u32 = 10_000;

/// `QueueWorkers(workers: 10, processing: uniform("20s", "40s"), heartbeat: "10s")`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "QueueWorkers")]
pub struct RawQueueWorkers {
    /// Workers receiving at once.
    #[serde(default = "crate::model::shape::one")]
    pub workers: u32,
    /// Time to process one message.
    pub processing: RawDist,
    /// How often a worker extends its message's visibility while it works (never when
    /// absent).
    #[serde(default)]
    pub heartbeat: Option<Dur>,
    /// Wait after a receive that found nothing (1 s when absent).
    #[serde(default)]
    pub poll: Option<Dur>,
    /// Remember what was processed and skip it when it comes again.
    #[serde(default)]
    pub idempotent: bool,
}

/// Queue worker parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueWorkersSpec {
    /// Workers.
    pub workers: u16,
    /// Processing time.
    pub processing: Dist,
    /// Visibility extension interval.
    pub heartbeat: Option<SimDuration>,
    /// Wait after an empty receive.
    pub poll: SimDuration,
    /// Whether a message processed before is skipped.
    pub idempotent: bool,
}

impl KindFile for RawQueueWorkers {
    type Spec = QueueWorkersSpec;
    type Actor = Box<QueueWorkers>;

    fn validate(&self, problems: &mut Problems) -> QueueWorkersSpec {
        problems.count(&["workers"], self.workers, WORKERS_MAX);
        let positive = |problems: &mut Problems, field: &str, d: SimDuration| {
            if d == SimDuration::ZERO {
                problems.error(&[field], format!("`{field}` must be above 0"), None);
            }
            d.max(SimDuration(1))
        };
        let heartbeat = self.heartbeat.as_ref().map(|d| positive(problems, "heartbeat", d.0));
        let poll = self.poll.as_ref().map_or(SimDuration::from_millis(1_000), |d| d.0);
        QueueWorkersSpec {
            workers: self.workers.clamp(1, WORKERS_MAX) as u16,
            processing: problems.dist(&["processing"], &self.processing),
            heartbeat,
            poll: positive(problems, "poll", poll),
            idempotent: self.idempotent,
        }
    }

    fn build(spec: &QueueWorkersSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let queue = ctx.link("queue").ok_or("queue workers need a link to their queue")?;
        Ok(Box::new(QueueWorkers::new(spec, queue)))
    }
}

impl KindSpec for QueueWorkersSpec {
    /// Workers receive from exactly one queue; a crash names a worker.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("queue workers", Serves::Worker);
        let queue = Role::new("queue", Target::Only(Serves::Queue), 1, 1);
        c.roles.push(queue.wanting("exactly one link to the queue they receive from", "jobs"));
        c.faults.push(FaultKind::Crash);
        c.replicas = u32::from(self.workers);
        c
    }
}

// The component.

/// One worker.
#[derive(Debug, Clone, Copy, Default)]
struct Worker {
    up: bool,
    /// Bumped by a crash and a restart: answers and timers of before are void.
    generation: u32,
    /// The message it processes and its receive count.
    current: Option<(u32, u32)>,
}

/// What the workers counted.
#[derive(Debug, Default, Clone, Copy)]
struct WorkerCounts {
    processed: u64,
    skipped: u64,
    heartbeats: u64,
}

/// Queue workers.
#[derive(Debug)]
pub struct QueueWorkers {
    spec: QueueWorkersSpec,
    queue: LinkId,
    workers: Vec<Worker>,
    seen: BTreeSet<u32>,
    /// When a receive last returned a message.
    last_data: SimTime,
    counts: WorkerCounts,
}

impl QueueWorkers {
    /// Workers receiving over `queue`.
    pub fn new(spec: &QueueWorkersSpec, queue: LinkId) -> QueueWorkers {
        let worker = Worker { up: true, ..Worker::default() };
        QueueWorkers {
            spec: spec.clone(),
            queue,
            workers: vec![worker; usize::from(spec.workers)],
            seen: BTreeSet::new(),
            last_data: SimTime::ZERO,
            counts: WorkerCounts::default(),
        }
    }

    fn receive(&mut self, member: u16, env: &mut Env<'_>) {
        let w = self.workers[usize::from(member)];
        if w.up {
            let msg = LogMsg::Receive { origin: env.id, member, generation: w.generation };
            env.send(self.queue, Msg::Log(msg));
        }
    }

    fn received(
        &mut self,
        member: u16,
        message: u32,
        receives: u32,
        generation: u32,
        env: &mut Env<'_>,
    ) {
        let w = &mut self.workers[usize::from(member)];
        if !w.up || w.generation != generation {
            return; // Its visibility timeout will show it again.
        }
        if message == u32::MAX {
            if super::consumer_group::polling(self.last_data, env) {
                env.timer(
                    self.spec.poll,
                    Msg::Log(LogMsg::Poll { member, partition: 0, generation }),
                );
            }
            return;
        }
        w.current = Some((message, receives));
        self.last_data = env.now();
        let took = SimDuration(self.spec.processing.sample(env.rng()));
        env.timer(took, Msg::Log(LogMsg::ProcessingDone { member, generation }));
        if let Some(every) = self.spec.heartbeat {
            env.timer(every, Msg::Log(LogMsg::Heartbeat { member, generation }));
        }
    }

    fn heartbeat(&mut self, member: u16, generation: u32, env: &mut Env<'_>) {
        let w = self.workers[usize::from(member)];
        let (Some((message, receives)), Some(every)) = (w.current, self.spec.heartbeat) else {
            return;
        };
        if w.generation == generation {
            self.counts.heartbeats += 1;
            env.send(self.queue, Msg::Log(LogMsg::Extend { message, receives }));
            env.timer(every, Msg::Log(LogMsg::Heartbeat { member, generation }));
        }
    }

    fn done(&mut self, member: u16, generation: u32, env: &mut Env<'_>) {
        let w = &mut self.workers[usize::from(member)];
        let Some((message, receives)) = w.current.filter(|_| w.generation == generation) else {
            return;
        };
        w.current = None;
        if self.spec.idempotent && !self.seen.insert(message) {
            self.counts.skipped += 1;
            let done = Processing { member, partition: 0, offset: receives, when: env.stamp() };
            let group = env.id.0;
            env.log_book().skipped(group, message, done);
        } else {
            self.counts.processed += 1;
            let (group, when) = (env.id.0, env.stamp());
            env.log_book().processed(
                group,
                message,
                Processing { member, partition: 0, offset: receives, when },
            );
        }
        env.send(self.queue, Msg::Log(LogMsg::Delete { message }));
        self.receive(member, env);
    }

    fn set_up(&mut self, member: usize, up: bool, env: &mut Env<'_>) {
        let w = &mut self.workers[member];
        if w.up == up {
            return;
        }
        (w.up, w.current) = (up, None);
        w.generation += 1;
        if up {
            self.receive(member as u16, env);
        }
    }
}

impl Component for QueueWorkers {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // It keeps producers' message ids, which carry no store version.
    }

    fn start(&mut self, env: &mut Env<'_>) {
        let (group, queue) = (env.id.0, env.peer(self.queue).0);
        env.log_book().subscribed(group, queue);
        (0..self.workers.len() as u16).for_each(|m| self.receive(m, env));
    }

    /// Messages processed and skipped, and heartbeats sent.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        vec![
            ("processed", c.processed),
            ("skipped_as_seen", c.skipped),
            ("heartbeats", c.heartbeats),
        ]
    }

    fn is_up(&self) -> bool {
        self.workers.iter().any(|w| w.up)
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Log(LogMsg::Received { member, message, receives, generation }) => {
                self.received(member, message, receives, generation, env);
            }
            Msg::Log(LogMsg::ProcessingDone { member, generation }) => {
                self.done(member, generation, env)
            }
            Msg::Log(LogMsg::Heartbeat { member, generation }) => {
                self.heartbeat(member, generation, env)
            }
            Msg::Log(LogMsg::Poll { member, generation, .. }) => {
                if self.workers[usize::from(member)].generation == generation {
                    self.receive(member, env);
                }
            }
            Msg::Fault(Fault::Crash) => {
                (0..self.workers.len()).for_each(|m| self.set_up(m, false, env))
            }
            Msg::Fault(Fault::Restart) => {
                (0..self.workers.len()).for_each(|m| self.set_up(m, true, env))
            }
            Msg::Fault(Fault::CrashReplica(m)) => self.set_up(m as usize, false, env),
            Msg::Fault(Fault::RestartReplica(m)) => self.set_up(m as usize, true, env),
            Msg::Fault(_) => {}
            other => panic!("queue workers got unexpected {}", other.kind_name()),
        }
    }
}
