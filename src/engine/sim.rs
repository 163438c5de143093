//! The discrete-event loop, generic over one `Actor` (the world of components).
//!
//! The engine pops the earliest event, advances the clock to it, folds it into the trace
//! hash and hands it to the actor, which schedules follow-up events through the
//! `Scheduler`. The engine knows nothing about components: the actor decides what an
//! event means. Events are small `Copy` values stored inline in the queue, so the loop
//! allocates nothing per event once the queue's buckets have grown.

use super::queue::{Entry, EventQueue, RadixQueue};
use super::time::{SimDuration, SimTime};
use super::trace::{TraceHash, Traceable};

/// Index of a component instance; also its node index in the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(pub u32);

impl ComponentId {
    /// The id as a vector index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The event id used before the first event and for "no event".
pub const NO_EVENT: u64 = u64::MAX;

/// Whatever handles events: receives one at a time and schedules more.
pub trait Actor {
    /// The message type carried by events; small and `Copy`.
    type Msg: Copy + Traceable;
    /// Handles `msg` delivered to `target` at `sched.now()`.
    fn on_event(&mut self, target: ComponentId, msg: Self::Msg, sched: &mut Scheduler<Self::Msg>);
}

/// The clock and the queue, as seen by event handlers.
#[derive(Debug)]
pub struct Scheduler<M: Copy> {
    now: SimTime,
    /// Sequence number of the event being handled (its id in traces and stories).
    current: u64,
    queue: RadixQueue<(ComponentId, M)>,
}

impl<M: Copy> Scheduler<M> {
    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The id of the event being handled: its sequence number, as traces show it.
    #[inline]
    pub fn event(&self) -> u64 {
        self.current
    }

    /// Schedules `msg` for `target` at `at`, which must not be in the past.
    #[inline]
    pub fn at(&mut self, at: SimTime, target: ComponentId, msg: M) {
        assert!(at >= self.now, "event scheduled in the past: {at:?} < {:?}", self.now);
        self.queue.push(at.0, (target, msg));
    }

    /// Schedules `msg` for `target` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: SimDuration, target: ComponentId, msg: M) {
        self.at(self.now.after(delay), target, msg);
    }

    /// Events waiting to fire.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Every event still queued: its target and message, in no particular order.
    pub fn queued(&self) -> impl Iterator<Item = &(ComponentId, M)> {
        self.queue.pending()
    }
}

/// One event as handed to a trace observer before dispatch.
#[derive(Debug, Clone, Copy)]
pub struct Dispatch<M> {
    /// When it fires.
    pub at: SimTime,
    /// Its insertion number.
    pub seq: u64,
    /// Who receives it.
    pub target: ComponentId,
    /// What it carries.
    pub msg: M,
}

/// Bounds on a run, so a model that never settles is stopped with a reason instead of
/// running forever or filling the machine's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most events a run may dispatch.
    pub events: u64,
    /// Most events pending at once: the queue is what grows with a run's memory.
    pub pending: usize,
    /// Most events in a row at one instant before the run counts as a zero-delay loop
    /// (something rescheduling itself without time advancing).
    pub same_instant: u64,
    /// After this many events (and each doubling after, until the run has covered
    /// `FORECAST_SPAN` or a hundredth of its deadline, or dispatched `FORECAST_WAIT`
    /// times this many) the run forecasts its total from the share of its deadline
    /// covered, and stops at once if the forecast breaks `events`, so a run that could
    /// never finish is refused in seconds instead of hours (0: never). Waiting for a
    /// span keeps a start-up burst (every client's first request at once) from being
    /// taken for the run's pace.
    pub forecast_after: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // Far above any shipped scenario (the largest dispatches ~10^7 events with
        // ~10^5 pending), low enough to stop within minutes and a few GiB.
        Limits {
            events: 5_000_000_000,
            pending: 50_000_000,
            same_instant: 10_000_000,
            forecast_after: 1_000_000,
        }
    }
}

impl Limits {
    /// No bounds at all but the zero-delay guard (`--force`).
    pub fn unbounded() -> Limits {
        Limits { events: u64::MAX, forecast_after: 0, ..Limits::default() }
    }
}

/// Simulated time a run covers before its pace is trusted for a forecast (or a
/// hundredth of its deadline, when that is shorter): long enough for clients that all
/// started at once to spread out.
const FORECAST_SPAN: SimDuration = SimDuration(1_000_000_000);

/// How many times `Limits::forecast_after` events a run dispatches before it forecasts
/// from whatever span it has covered, so a run of tiny steps is still refused early.
const FORECAST_WAIT: u64 = 64;

/// The first event count at which a run with `limits` forecasts or stops.
fn checkpoint(limits: &Limits) -> u64 {
    match limits.forecast_after {
        0 => limits.events,
        n => n.min(limits.events),
    }
}

/// What a forecast found.
enum Forecast {
    /// The run would break its event limit.
    Over(Halt),
    /// It would not: no more forecasts.
    Within,
    /// It has not covered enough to tell: ask again at twice the events.
    Later,
}

/// Why a run stopped before its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// It dispatched `Limits::events` events.
    Events {
        /// The limit.
        limit: u64,
        /// Simulated time reached.
        at: SimTime,
    },
    /// It had `Limits::pending` events pending.
    Pending {
        /// The limit.
        limit: usize,
        /// Simulated time reached.
        at: SimTime,
    },
    /// `Limits::same_instant` events in a row fired at one instant.
    SameInstant {
        /// The limit.
        limit: u64,
        /// The instant.
        at: SimTime,
        /// The receiver of the last of them.
        target: ComponentId,
    },
    /// `Limits::forecast_after` events covered so little of the deadline that the whole
    /// run would break `Limits::events`.
    Forecast {
        /// The limit.
        limit: u64,
        /// The events the whole run would take, at the rate seen so far.
        estimate: u64,
        /// Events dispatched when the forecast was made.
        events: u64,
        /// Simulated time they covered.
        at: SimTime,
        /// The deadline forecast for.
        deadline: SimTime,
    },
}

/// What a finished (or paused) run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunStats {
    /// Events dispatched.
    pub events: u64,
    /// Simulated time reached.
    pub end: SimTime,
    /// When the last event fired.
    pub last_event: SimTime,
    /// Events still pending when the run stopped.
    pub pending: usize,
    /// Most events pending at once.
    pub pending_max: usize,
    /// The trace hash over every dispatched event.
    pub trace_hash: TraceHash,
    /// Why the run stopped early, if a limit stopped it.
    pub halted: Option<Halt>,
}

/// A simulation: an actor, its clock and its queue.
#[derive(Debug)]
pub struct Sim<A: Actor> {
    /// The world being simulated.
    pub actor: A,
    sched: Scheduler<A::Msg>,
    hash: TraceHash,
    events: u64,
    pending_max: usize,
    last_event: SimTime,
    limits: Limits,
    /// The event count at which `exceeded` next looks at the forecast or the event
    /// limit.
    checkpoint: u64,
    /// Events in a row at the current instant.
    same_instant: u64,
    halted: Option<Halt>,
}

impl<A: Actor> Sim<A> {
    /// A simulation at time zero with nothing scheduled.
    pub fn new(actor: A) -> Self {
        Sim {
            actor,
            sched: Scheduler { now: SimTime::ZERO, current: NO_EVENT, queue: RadixQueue::new() },
            hash: TraceHash::default(),
            events: 0,
            pending_max: 0,
            last_event: SimTime::ZERO,
            limits: Limits::default(),
            checkpoint: checkpoint(&Limits::default()),
            same_instant: 0,
            halted: None,
        }
    }

    /// Sets the bounds the run stops at.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.checkpoint = checkpoint(&limits);
    }

    /// The scheduler, to seed initial events before running.
    pub fn scheduler(&mut self) -> &mut Scheduler<A::Msg> {
        &mut self.sched
    }

    /// The actor and the scheduler together, to start components before running.
    pub fn parts(&mut self) -> (&mut A, &mut Scheduler<A::Msg>) {
        (&mut self.actor, &mut self.sched)
    }

    /// Runs every event up to and including `deadline`.
    pub fn run_until(&mut self, deadline: SimTime) -> RunStats {
        self.run_observed(deadline, |_, _| {})
    }

    /// Runs up to `deadline`, showing each event and the actor's state to `observe`
    /// before it is dispatched.
    ///
    /// Generic over the observer so the untraced loop compiles to no extra work.
    pub fn run_observed<F: FnMut(&Dispatch<A::Msg>, &A)>(
        &mut self,
        deadline: SimTime,
        mut observe: F,
    ) -> RunStats {
        if self.halted.is_some() {
            return self.stats();
        }
        while let Some(Entry { at, seq, item: (target, msg) }) =
            self.sched.queue.pop_until(deadline.0)
        {
            assert!(self.sched.now.0 <= at, "time ran backwards");
            let pending = self.sched.queue.len() + 1;
            self.pending_max = self.pending_max.max(pending);
            self.same_instant = if at == self.sched.now.0 { self.same_instant + 1 } else { 0 };
            if let Some(halt) = self.exceeded(pending, SimTime(at), target, deadline) {
                // The event is put back, so the queue is as the limit found it.
                self.sched.queue.push(at, (target, msg));
                self.halted = Some(halt);
                break;
            }
            self.sched.now = SimTime(at);
            self.sched.current = seq;
            self.hash.add(at, target.0, msg.trace_kind(), msg.trace_ids());
            self.events += 1;
            observe(&Dispatch { at: SimTime(at), seq, target, msg }, &self.actor);
            self.actor.on_event(target, msg, &mut self.sched);
        }
        self.last_event =
            self.last_event.max(if self.events > 0 { self.sched.now } else { SimTime::ZERO });
        // A run that ends early still reports the full span it simulated.
        if self.sched.now < deadline && deadline != SimTime(u64::MAX) && self.halted.is_none() {
            self.sched.now = deadline;
        }
        self.stats()
    }

    /// The limit this event would break, if any.
    #[inline]
    fn exceeded(
        &mut self,
        pending: usize,
        at: SimTime,
        target: ComponentId,
        deadline: SimTime,
    ) -> Option<Halt> {
        // One comparison per event covers both the forecast and the event limit.
        if self.events >= self.checkpoint {
            let l = self.limits;
            if self.events >= l.events {
                return Some(Halt::Events { limit: l.events, at });
            }
            match self.forecast(at, deadline) {
                Forecast::Over(halt) => return Some(halt),
                Forecast::Within => self.checkpoint = l.events,
                Forecast::Later => self.checkpoint = self.events.saturating_mul(2).min(l.events),
            }
        }
        let l = &self.limits;
        if pending > l.pending {
            Some(Halt::Pending { limit: l.pending, at })
        } else if self.same_instant >= l.same_instant {
            Some(Halt::SameInstant { limit: l.same_instant, at, target })
        } else {
            None
        }
    }

    /// The run's total events at the rate seen up to `at`, once that rate can be
    /// trusted (see `Limits::forecast_after`). Nothing is forecast for an open-ended
    /// deadline.
    #[cold]
    fn forecast(&self, at: SimTime, deadline: SimTime) -> Forecast {
        if deadline.0 == u64::MAX || at >= deadline {
            return Forecast::Within;
        }
        let span = FORECAST_SPAN.0.min(deadline.0 / 100);
        let waited = self.events >= self.limits.forecast_after.saturating_mul(FORECAST_WAIT);
        if at.0 == 0 || (at.0 < span && !waited) {
            return Forecast::Later;
        }
        let estimate = u128::from(self.events) * u128::from(deadline.0) / u128::from(at.0);
        let estimate = u64::try_from(estimate).unwrap_or(u64::MAX);
        let limit = self.limits.events;
        if estimate <= limit {
            return Forecast::Within;
        }
        Forecast::Over(Halt::Forecast { limit, estimate, events: self.events, at, deadline })
    }

    /// Figures for the run so far.
    pub fn stats(&self) -> RunStats {
        RunStats {
            events: self.events,
            end: self.sched.now,
            last_event: self.last_event,
            pending: self.sched.queue.len(),
            pending_max: self.pending_max,
            trace_hash: self.hash,
            halted: self.halted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct Ping(u64);
    impl Traceable for Ping {
        fn trace_kind(&self) -> u8 {
            1
        }
        fn trace_ids(&self) -> [u64; 3] {
            [self.0, 0, 0]
        }
    }

    /// Two actors bounce a counter with a fixed delay and record when they saw it.
    struct PingPong {
        seen: Vec<(u64, u32, u64)>,
    }
    impl Actor for PingPong {
        type Msg = Ping;
        fn on_event(&mut self, target: ComponentId, msg: Ping, sched: &mut Scheduler<Ping>) {
            self.seen.push((sched.now().0, target.0, msg.0));
            if msg.0 < 5 {
                let other = ComponentId(1 - target.0);
                sched.after(SimDuration(10), other, Ping(msg.0 + 1));
            }
        }
    }

    fn check(deadline: u64, expected_events: u64) -> Sim<PingPong> {
        let mut sim = Sim::new(PingPong { seen: Vec::new() });
        sim.scheduler().at(SimTime(0), ComponentId(0), Ping(0));
        let stats = sim.run_until(SimTime(deadline));
        assert_eq!(stats.events, expected_events);
        sim
    }

    #[test]
    fn events_alternate_in_time_order() {
        let sim = check(1_000, 6);
        let times: Vec<u64> = sim.actor.seen.iter().map(|s| s.0).collect();
        assert_eq!(times, vec![0, 10, 20, 30, 40, 50]);
        assert_eq!(sim.actor.seen[1].1, 1);
    }

    #[test]
    fn deadline_stops_the_run_and_hash_replays() {
        let a = check(25, 3);
        assert_eq!(a.stats().pending, 1);
        assert_eq!(a.stats().end, SimTime(25));
        let b = check(25, 3);
        assert_eq!(a.stats().trace_hash, b.stats().trace_hash);
        assert_ne!(a.stats().trace_hash, check(1_000, 6).stats().trace_hash);
    }

    #[test]
    fn limits_stop_a_run_with_the_reason_and_resume_nothing() {
        let mut sim = Sim::new(PingPong { seen: Vec::new() });
        sim.set_limits(Limits { events: 4, ..Limits::default() });
        sim.scheduler().at(SimTime(0), ComponentId(0), Ping(0));
        let stats = sim.run_until(SimTime(1_000));
        assert_eq!(stats.events, 4);
        assert_eq!(stats.halted, Some(Halt::Events { limit: 4, at: SimTime(40) }));
        // The clock stays where the limit stopped it, and a halted run stays halted.
        assert_eq!(stats.end, SimTime(30));
        assert_eq!(sim.run_until(SimTime(2_000)).events, 4);
    }

    /// One component that wakes itself every 10 ns forever.
    struct Clock;
    impl Actor for Clock {
        type Msg = Ping;
        fn on_event(&mut self, target: ComponentId, msg: Ping, sched: &mut Scheduler<Ping>) {
            sched.after(SimDuration(10), target, msg);
        }
    }

    #[test]
    fn a_run_that_would_break_its_event_limit_is_stopped_at_the_forecast() {
        let limits = Limits { events: 1_000, forecast_after: 50, ..Limits::default() };
        let run = |deadline: u64| {
            let mut sim = Sim::new(Clock);
            sim.set_limits(limits);
            sim.scheduler().at(SimTime(0), ComponentId(0), Ping(0));
            sim.run_until(SimTime(deadline))
        };
        // 50 events cover 500 ns, under a hundredth of 100,000 ns; 100 cover 1,000 ns,
        // enough: 100,000 ns would take 10,000.
        let stats = run(100_000);
        let forecast = Halt::Forecast {
            limit: 1_000,
            estimate: 10_000,
            events: 100,
            at: SimTime(1_000),
            deadline: SimTime(100_000),
        };
        assert_eq!((stats.events, stats.halted), (100, Some(forecast)));
        // A run of tiny steps towards a far deadline is forecast once it has waited
        // 64 times 50 events, whatever span they covered.
        let mut sim = Sim::new(Clock);
        sim.set_limits(Limits { events: 1_000_000, ..limits });
        sim.scheduler().at(SimTime(0), ComponentId(0), Ping(0));
        let stats = sim.run_until(SimTime(1_000_000_000_000));
        let at = SimTime(32_000);
        assert!(
            matches!(stats.halted, Some(Halt::Forecast { events: 3_200, at: a, .. }) if a == at)
        );
        // Within the limit the forecast lets the run finish.
        assert_eq!(run(9_000).halted, None);
        // Unbounded (`--force`) forecasts nothing.
        let mut sim = Sim::new(Clock);
        sim.set_limits(Limits::unbounded());
        sim.scheduler().at(SimTime(0), ComponentId(0), Ping(0));
        assert_eq!(sim.run_until(SimTime(100_000)).events, 10_001);
    }

    /// A burst of 400 events 1 ns apart, then one every 100 µs.
    struct Burst;
    impl Actor for Burst {
        type Msg = Ping;
        fn on_event(&mut self, target: ComponentId, Ping(n): Ping, sched: &mut Scheduler<Ping>) {
            match n {
                0 => sched.after(SimDuration(100_000), target, Ping(0)),
                n => sched.after(SimDuration(1), target, Ping(n - 1)),
            }
        }
    }

    #[test]
    fn a_start_up_burst_is_not_taken_for_the_pace() {
        // 10 ms take about 500 events, within 1,000; the burst's pace would forecast
        // 2.5 * 10^6 from the first 50.
        let mut sim = Sim::new(Burst);
        sim.set_limits(Limits { events: 1_000, forecast_after: 50, ..Limits::default() });
        sim.scheduler().at(SimTime(0), ComponentId(0), Ping(400));
        let stats = sim.run_until(SimTime(10_000_000));
        assert_eq!((stats.events, stats.halted), (401 + 99, None));
    }

    /// One component that wakes itself at the same instant forever.
    struct Spin;
    impl Actor for Spin {
        type Msg = Ping;
        fn on_event(&mut self, target: ComponentId, msg: Ping, sched: &mut Scheduler<Ping>) {
            sched.after(SimDuration(0), target, msg);
        }
    }

    #[test]
    fn a_zero_delay_loop_is_caught_at_its_instant() {
        let mut sim = Sim::new(Spin);
        sim.set_limits(Limits { same_instant: 1_000, ..Limits::default() });
        sim.scheduler().at(SimTime(7), ComponentId(3), Ping(0));
        let stats = sim.run_until(SimTime(u64::MAX));
        let halt = Halt::SameInstant { limit: 1_000, at: SimTime(7), target: ComponentId(3) };
        assert_eq!(stats.halted, Some(halt));
        assert_eq!(stats.events, 1_000);
    }
}
