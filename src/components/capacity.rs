//! Capacity: how much work a server does at once and how long each piece takes.
//!
//! A component with capacity has `workers` and a service-time distribution. Work that
//! arrives while every worker is busy waits in arrival order (FIFO), up to an optional
//! queue limit beyond which it is turned away. This is what makes a bottleneck visible:
//! as the arrival rate nears `workers / mean service`, waiting time grows without bound,
//! exactly as queueing theory says (M/M/1, M/M/c), and the tests hold it to that.
//!
//! The figures kept are time integrals, not samples: busy workers and queue length are
//! integrated over simulated time, so utilisation and mean queue length are exact for
//! the run. Each piece of work's wait and sojourn (wait plus service) are counted in
//! histograms.

use std::collections::VecDeque;

use super::env::Env;
use super::message::Msg;
use crate::check::Histogram;
use crate::check::timeline::INTERVAL;
use crate::engine::{Dist, SimDuration, SimTime};
use crate::model::CapacitySpec;

/// Bits of a `Done` job number that hold the worker; the rest name the queue (a store's
/// node), so one component can run several queues on one timer message.
pub const WORKER_BITS: u32 = 20;

/// A piece of work and when it arrived.
#[derive(Debug, Clone, Copy)]
struct Waiting<T> {
    item: T,
    arrived: SimTime,
}

/// What one worker is doing.
#[derive(Debug, Clone, Copy)]
enum Worker<T> {
    Idle,
    Serving(Waiting<T>),
    /// Its work was dropped by a crash, but its `Done` timer is still pending: it stays
    /// unavailable until the timer fires, so the timer cannot end later work early.
    Dropped,
}

impl<T> Worker<T> {
    fn is_busy(&self) -> bool {
        matches!(self, Worker::Serving(_))
    }
}

/// Workers, a FIFO queue in front of them, and the figures of both.
#[derive(Debug)]
pub struct Capacity<T> {
    service: Dist,
    queue_limit: Option<u32>,
    queue: VecDeque<Waiting<T>>,
    workers: Vec<Worker<T>>,
    idle: Vec<u32>,
    /// Which queue of the component this is: the high bits of its `Done` job numbers.
    lane: u32,
    load: Load,
    /// Service times are multiplied by this many thousandths (a `slowdown`).
    slow_milli: u32,
}

/// What a queue did over a run.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// Workers.
    pub workers: u32,
    /// Work served to the end.
    pub served: u64,
    /// Work turned away because the queue was full.
    pub turned_away: u64,
    /// Work dropped unserved (the server crashed).
    pub dropped: u64,
    /// Longest queue seen.
    pub max_queue: u64,
    /// Busy workers integrated over time, ns.
    pub busy_ns: u128,
    /// Queue length integrated over time, ns.
    pub queued_ns: u128,
    /// The time the integrals run to.
    pub until: SimTime,
    /// Time from arrival to the start of service.
    pub wait: Histogram,
    /// Time from arrival to the end of service.
    pub sojourn: Histogram,
    /// Per timeline interval: busy workers and queue length integrated over it, ns.
    pub per_interval: Vec<[u64; 2]>,
    /// The timeline's interval, ns (0 until the queue first sees work: then 1 s).
    pub interval_ns: u64,
}

impl Load {
    /// Mean share of workers busy over `[0, until]`.
    pub fn utilisation(&self) -> f64 {
        let span = self.until.as_nanos() as f64 * f64::from(self.workers.max(1));
        if span == 0.0 { 0.0 } else { self.busy_ns as f64 / span }
    }

    /// Mean queue length over `[0, until]` (work waiting, not in service).
    pub fn mean_queue(&self) -> f64 {
        let span = self.until.as_nanos() as f64;
        if span == 0.0 { 0.0 } else { self.queued_ns as f64 / span }
    }

    /// The timeline interval its per-interval figures use.
    pub fn interval(&self) -> SimDuration {
        if self.interval_ns == 0 { INTERVAL } else { SimDuration(self.interval_ns) }
    }

    /// Adds `other`'s figures to these (for a store's replicas, reported together).
    pub fn merge(&mut self, other: &Load) {
        self.workers += other.workers;
        self.served += other.served;
        self.turned_away += other.turned_away;
        self.dropped += other.dropped;
        self.max_queue = self.max_queue.max(other.max_queue);
        self.busy_ns += other.busy_ns;
        self.queued_ns += other.queued_ns;
        self.until = self.until.max(other.until);
        self.interval_ns = self.interval_ns.max(other.interval_ns);
        self.wait.merge(&other.wait);
        self.sojourn.merge(&other.sojourn);
        if self.per_interval.len() < other.per_interval.len() {
            self.per_interval.resize(other.per_interval.len(), [0, 0]);
        }
        for (a, b) in self.per_interval.iter_mut().zip(&other.per_interval) {
            *a = [a[0] + b[0], a[1] + b[1]];
        }
    }

    /// Mean share of workers busy and mean queue length in each timeline interval.
    pub fn over_time(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let span = self.interval().as_nanos() as f64;
        let workers = f64::from(self.workers.max(1));
        (self.per_interval.iter())
            .map(move |&[busy, queued]| (busy as f64 / (span * workers), queued as f64 / span))
    }
}

impl<T: Copy> Capacity<T> {
    /// Every piece of work waiting or being served, in no particular order.
    pub fn held(&self) -> impl Iterator<Item = &T> {
        let serving = self.workers.iter().filter_map(|w| match w {
            Worker::Serving(waiting) => Some(&waiting.item),
            _ => None,
        });
        self.queue.iter().map(|w| &w.item).chain(serving)
    }

    /// A queue as `spec` says; its `Done` job numbers carry `lane` in their high bits.
    pub fn new(spec: &CapacitySpec, lane: u32) -> Capacity<T> {
        assert!(spec.workers > 0 && spec.workers < 1 << WORKER_BITS, "workers out of range");
        Capacity {
            service: spec.service.clone(),
            queue_limit: spec.queue,
            queue: VecDeque::new(),
            workers: vec![Worker::Idle; spec.workers as usize],
            // Popped from the back: worker 0 is taken first.
            idle: (0..spec.workers).rev().collect(),
            lane,
            load: Load { workers: spec.workers, ..Load::default() },
            slow_milli: 1000,
        }
    }

    /// Service times started from now on are multiplied by `milli` thousandths (1000:
    /// back to normal); work already in service keeps its time.
    pub fn slow_down(&mut self, milli: u32) {
        self.slow_milli = milli;
    }

    /// The lane and worker a `Done` job number names.
    pub fn split(job: u32) -> (u32, u32) {
        (job >> WORKER_BITS, job & ((1 << WORKER_BITS) - 1))
    }

    /// Integrates busy workers and queue length up to now.
    fn advance(&mut self, now: SimTime) {
        let (busy, queued) = (self.workers.len() - self.idle.len(), self.queue.len());
        accrue(&mut self.load, now, busy, queued);
    }

    /// Work arrives: it starts at once on an idle worker, waits, or (queue full) is
    /// handed back to the caller to refuse.
    pub fn arrive(&mut self, item: T, env: &mut Env<'_>) -> Result<(), T> {
        self.load.interval_ns = env.timeline_interval();
        self.advance(env.now());
        let waiting = Waiting { item, arrived: env.now() };
        if let Some(worker) = self.idle.pop() {
            self.start(worker, waiting, env);
            return Ok(());
        }
        if self.queue_limit.is_some_and(|limit| self.queue.len() >= limit as usize) {
            self.load.turned_away += 1;
            return Err(item);
        }
        self.queue.push_back(waiting);
        let limit = self.queue_limit.map_or(usize::MAX, |l| l as usize);
        assert!(self.queue.len() <= limit, "a queue never exceeds its bound");
        self.load.max_queue = self.load.max_queue.max(self.queue.len() as u64);
        Ok(())
    }

    fn start(&mut self, worker: u32, waiting: Waiting<T>, env: &mut Env<'_>) {
        self.load.wait.record(env.now().since(waiting.arrived).as_nanos());
        self.workers[worker as usize] = Worker::Serving(waiting);
        let mut service = self.service.sample(env.rng());
        if self.slow_milli != 1000 {
            service = (u128::from(service) * u128::from(self.slow_milli) / 1000) as u64;
        }
        env.timer(SimDuration(service), Msg::Done { job: self.lane << WORKER_BITS | worker });
    }

    /// Worker `worker`'s timer fired: the work it finished (none if a crash dropped it),
    /// and the next in line starts.
    pub fn done(&mut self, worker: u32, env: &mut Env<'_>) -> Option<T> {
        self.done_skipping(worker, env, |_| false, &mut Vec::new())
    }

    /// `done`, but work waiting in the queue that `stale` says nobody waits for any more
    /// is taken out unserved, into `skipped`, instead of starting (a deadline passed).
    pub fn done_skipping(
        &mut self,
        worker: u32,
        env: &mut Env<'_>,
        mut stale: impl FnMut(&T) -> bool,
        skipped: &mut Vec<T>,
    ) -> Option<T> {
        let slot = self.workers.get_mut(worker as usize)?;
        let finished = match std::mem::replace(slot, Worker::Idle) {
            Worker::Serving(w) => Some(w),
            Worker::Dropped => None,
            Worker::Idle => return None,
        };
        self.advance(env.now());
        if let Some(f) = &finished {
            self.load.served += 1;
            self.load.sojourn.record(env.now().since(f.arrived).as_nanos());
        }
        loop {
            match self.queue.pop_front() {
                Some(next) if stale(&next.item) => skipped.push(next.item),
                Some(next) => self.start(worker, next, env),
                None => self.idle.push(worker),
            }
            if self.workers[worker as usize].is_busy() || self.idle.last() == Some(&worker) {
                break;
            }
        }
        finished.map(|f| f.item)
    }

    /// The server crashed: everything queued or in service is dropped and handed back,
    /// the work in service first, then the queue in arrival order.
    pub fn drop_all(&mut self, now: SimTime, mut dropped: impl FnMut(T)) {
        self.advance(now);
        for w in &mut self.workers {
            if let Worker::Serving(waiting) = *w {
                *w = Worker::Dropped;
                self.load.dropped += 1;
                dropped(waiting.item);
            }
        }
        while let Some(waiting) = self.queue.pop_front() {
            self.load.dropped += 1;
            dropped(waiting.item);
        }
    }

    /// The figures so far, with the integrals run up to `now`.
    pub fn load(&self, now: SimTime) -> Load {
        let mut load = self.load.clone();
        accrue(&mut load, now, self.workers.len() - self.idle.len(), self.queue.len());
        load
    }
}

/// Adds `busy` workers and `queued` requests held from `load.until` to `now`, in all
/// and into each timeline interval the span covers.
pub(super) fn accrue(load: &mut Load, now: SimTime, busy: usize, queued: usize) {
    let dt = u128::from(now.since(load.until).as_nanos());
    load.busy_ns += dt * busy as u128;
    load.queued_ns += dt * queued as u128;
    let (mut from, to, width) = (load.until.as_nanos(), now.as_nanos(), load.interval().as_nanos());
    while from < to && (busy > 0 || queued > 0) {
        let i = (from / width) as usize;
        let end = to.min((from / width + 1) * width);
        if load.per_interval.len() <= i {
            load.per_interval.resize(i + 1, [0, 0]);
        }
        let slot = &mut load.per_interval[i];
        slot[0] += (end - from) * busy as u64;
        slot[1] += (end - from) * queued as u64;
        from = end;
    }
    load.until = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Checks, History};
    use crate::engine::{Actor, ComponentId, Scheduler, Sim, Streams, Topology};

    /// One queue of numbered items; `Custom { a }` is an arrival of item `a`.
    struct Server {
        queue: Capacity<u64>,
        rngs: Streams,
        topology: Topology,
        history: History,
        finished: Vec<(u64, SimTime)>,
        turned: Vec<u64>,
    }

    impl Actor for Server {
        type Msg = Msg;
        fn on_event(&mut self, id: ComponentId, msg: Msg, sched: &mut Scheduler<Msg>) {
            let mut env = Env::new(
                id,
                &mut self.rngs,
                &self.topology,
                &mut self.history,
                SimTime(u64::MAX),
                sched,
            );
            match msg {
                Msg::Custom { a, .. } => {
                    if let Err(item) = self.queue.arrive(a, &mut env) {
                        self.turned.push(item);
                    }
                }
                Msg::Done { job } => {
                    let (_, worker) = Capacity::<u64>::split(job);
                    if let Some(item) = self.queue.done(worker, &mut env) {
                        self.finished.push((item, env.now()));
                    }
                }
                _ => unreachable!(),
            }
        }
    }

    fn server(workers: u32, queue: Option<u32>) -> Sim<Server> {
        let spec = CapacitySpec { workers, service: Dist::constant(10_000_000), queue };
        let mut topology = Topology::default();
        topology.add_node("server");
        Sim::new(Server {
            queue: Capacity::new(&spec, 0),
            rngs: Streams::new(1, ["server"].into_iter(), 1),
            topology,
            history: History::new(1, Checks::new(&[]), false),
            finished: Vec::new(),
            turned: Vec::new(),
        })
    }

    fn arrive(sim: &mut Sim<Server>, at_ms: u64, item: u64) {
        let msg = Msg::Custom { tag: 0, a: item, b: 0 };
        sim.scheduler().at(SimTime(at_ms * 1_000_000), ComponentId(0), msg);
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn work_waits_in_arrival_order_and_the_integrals_are_exact() {
        let mut sim = server(1, None);
        for item in 0..3 {
            arrive(&mut sim, 0, item);
        }
        sim.run_until(SimTime(100 * MS));
        let s = &sim.actor;
        let done: Vec<(u64, u64)> = s.finished.iter().map(|&(i, t)| (i, t.0 / MS)).collect();
        assert_eq!(done, vec![(0, 10), (1, 20), (2, 30)]);
        let load = s.queue.load(SimTime(100 * MS));
        // Busy 30 of 100 ms; two waiting for 10 ms, then one for 10 ms: 30 ms / 100 ms.
        assert!((load.utilisation() - 0.3).abs() < 1e-12);
        assert!((load.mean_queue() - 0.3).abs() < 1e-12);
        assert_eq!((load.served, load.max_queue), (3, 2));
        assert_eq!((load.wait.mean(), load.sojourn.mean()), (10 * MS, 20 * MS));
    }

    #[test]
    fn each_interval_integrates_its_own_share_of_busy_time() {
        let mut sim = server(2, None);
        // Three items of 10 ms each, on two workers, at 995 ms: busy 2 workers from 995
        // to 1005 ms, one from 1005 to 1015; one waits from 995 to 1005.
        for item in 0..3 {
            arrive(&mut sim, 995, item);
        }
        sim.run_until(SimTime(2000 * MS));
        let load = sim.actor.queue.load(SimTime(2000 * MS));
        let got: Vec<(f64, f64)> = load.over_time().collect();
        assert_eq!(got.len(), 2);
        assert!((got[0].0 - 10.0 * MS as f64 / 2e9).abs() < 1e-12, "{got:?}");
        assert!((got[0].1 - 5.0 * MS as f64 / 1e9).abs() < 1e-12);
        assert!((got[1].0 - 20.0 * MS as f64 / 2e9).abs() < 1e-12);
        assert!((got[1].1 - 5.0 * MS as f64 / 1e9).abs() < 1e-12);
    }

    #[test]
    fn two_workers_share_the_work_and_a_full_queue_turns_work_away() {
        let mut sim = server(2, Some(1));
        for item in 0..4 {
            arrive(&mut sim, 0, item);
        }
        sim.run_until(SimTime(100 * MS));
        let s = &sim.actor;
        let done: Vec<(u64, u64)> = s.finished.iter().map(|&(i, t)| (i, t.0 / MS)).collect();
        assert_eq!(done, vec![(0, 10), (1, 10), (2, 20)]);
        assert_eq!(s.turned, vec![3]);
        let load = s.queue.load(SimTime(100 * MS));
        assert!((load.utilisation() - 0.15).abs() < 1e-12, "30 worker-ms of 200");
        assert_eq!(load.turned_away, 1);
    }

    #[test]
    fn stale_work_is_taken_out_of_the_queue_unserved() {
        let mut sim = server(1, None);
        for item in 0..4 {
            arrive(&mut sim, 0, item);
        }
        sim.run_until(SimTime(5 * MS));
        // Item 0 is in service; items 1 and 2 are stale by the time it ends.
        let mut skipped = Vec::new();
        let mut env_done = |sim: &mut Sim<Server>| {
            let (world, sched) = sim.parts();
            let mut env = Env::new(
                ComponentId(0),
                &mut world.rngs,
                &world.topology,
                &mut world.history,
                SimTime(u64::MAX),
                sched,
            );
            world.queue.done_skipping(0, &mut env, |&i| i == 1 || i == 2, &mut skipped)
        };
        assert_eq!(env_done(&mut sim), Some(0));
        assert_eq!(skipped, vec![1, 2], "taken out unserved, in order");
        let load = sim.actor.queue.load(SimTime(5 * MS));
        assert_eq!((load.served, load.max_queue), (1, 3), "item 3 is in service now");
    }

    #[test]
    fn a_crash_drops_work_in_service_and_waiting() {
        let mut sim = server(1, None);
        for item in 0..3 {
            arrive(&mut sim, 0, item);
        }
        sim.run_until(SimTime(5 * MS));
        let mut dropped = Vec::new();
        sim.actor.queue.drop_all(SimTime(5 * MS), |i| dropped.push(i));
        assert_eq!(dropped, vec![0, 1, 2]);
        // Work arriving after the restart waits for the dropped work's timer (10 ms), so
        // that timer cannot end it early.
        arrive(&mut sim, 6, 7);
        sim.run_until(SimTime(100 * MS));
        let done: Vec<(u64, u64)> =
            sim.actor.finished.iter().map(|&(i, t)| (i, t.0 / MS)).collect();
        assert_eq!(done, vec![(7, 20)]);
        let load = sim.actor.queue.load(SimTime(100 * MS));
        assert_eq!((load.dropped, load.served), (3, 1));
        assert!((load.utilisation() - 0.2).abs() < 1e-12, "busy 0-20 ms of 100");
    }
}
