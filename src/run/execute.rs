//! Runs a validated scenario once: the duration, then a drain in which clients start
//! nothing new and in-flight work (replies, replication, restarts) finishes, then the
//! end-of-run checks.

use crate::check::verdict::seconds;
use crate::check::{CheckReport, Histogram, History};
use crate::components::{GateCounts, Load, Msg, Registry, World};
use crate::engine::{Dispatch, Halt, Limits, RunStats, Sim, SimDuration, SimTime};
use crate::model::Scenario;

/// Longest a run keeps going after its duration so in-flight work can finish.
pub const DRAIN_MAX: SimDuration = SimDuration(3_600_000_000_000);

/// What one run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The seed the run used.
    pub seed: u64,
    /// Engine figures over the duration and the drain: events, trace hash.
    pub stats: RunStats,
    /// Simulated time the drain took after the duration.
    pub drain_ns: u64,
    /// Operations, versions and figures.
    pub history: History,
    /// One report per checker.
    pub checks: Vec<CheckReport>,
    /// Reads with a session token that a replica could not honour, over all stores.
    pub token_fallbacks: u64,
    /// Replication lags drawn by every store.
    pub replication_lag: Histogram,
    /// What each sentinel gate did, by name.
    pub gates: Vec<(String, GateCounts)>,
    /// What each server queue did over the duration, by name.
    pub loads: Vec<(String, Load)>,
    /// What components counted, by instance name.
    pub counts: Vec<(String, Vec<(&'static str, u64)>)>,
    /// Each consumer group's lag sampled every second, by name: (ns, messages).
    pub consumer_lag: Vec<(String, Vec<(u64, u64)>)>,
}

/// Why a run gave no outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The world could not be built from the scenario.
    Build(String),
    /// A limit stopped the run.
    Halted {
        /// Which limit, and where.
        halt: Halt,
        /// For people: which limit, where, and what to do.
        message: String,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Build(message) | RunError::Halted { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for RunError {}

impl From<RunError> for String {
    fn from(e: RunError) -> String {
        e.to_string()
    }
}

/// Runs `scenario` to its duration and drains it. `keep_ops` keeps every operation.
pub fn execute(
    scenario: &Scenario,
    registry: &Registry,
    keep_ops: bool,
) -> Result<RunOutcome, RunError> {
    let sim = World::build(scenario, registry, keep_ops).map_err(RunError::Build)?;
    run_world(sim, scenario, |_, _| {})
}

/// Runs `scenario`, showing every event (with the instance names and the world as it
/// is before the event) to `observe` first.
pub fn execute_traced<F>(
    scenario: &Scenario,
    registry: &Registry,
    keep_ops: bool,
    mut observe: F,
) -> Result<RunOutcome, RunError>
where
    F: FnMut(&Dispatch<Msg>, &[String], &World),
{
    let sim = World::build(scenario, registry, keep_ops).map_err(RunError::Build)?;
    let names: Vec<String> = (0..sim.actor.topology.node_count())
        .map(|i| sim.actor.name(crate::engine::ComponentId(i as u32)).to_string())
        .collect();
    run_world(sim, scenario, |d, world| observe(d, &names, world))
}

/// Runs a built world through its duration and drain, then checks it. A run stopped by
/// one of the scenario's limits is an error that says which, where and what to do.
pub fn run_world<F: FnMut(&Dispatch<Msg>, &World)>(
    mut sim: Sim<World>,
    scenario: &Scenario,
    mut observe: F,
) -> Result<RunOutcome, RunError> {
    let stop = SimTime::ZERO.after(scenario.duration);
    sim.set_limits(scenario.limits);
    sim.run_observed(stop, &mut observe);
    // Utilisation is over the duration: the drain would dilute it.
    let loads = sim.actor.loads(stop);
    // A drain ends when what is in flight lands, not at its hour's cap, so its pace
    // forecasts nothing; the event limit still stops one that never ends.
    sim.set_limits(Limits { forecast_after: 0, ..scenario.limits });
    let stats = sim.run_observed(stop.after(DRAIN_MAX), &mut observe);
    if let Some(halt) = stats.halted {
        let message = halted(halt, &sim.actor, &stats);
        return Err(RunError::Halted { halt, message });
    }
    let drain_ns = stats.last_event.as_nanos().saturating_sub(stop.as_nanos());
    // Checkers that time what is still open at the end measure to the run's duration:
    // how long the drain runs is no figure of the design.
    let mut checks = sim.actor.finish_checks(stop);
    sim.actor.history.timeline.close();
    if !scenario.objectives.is_empty() {
        let history = &sim.actor.history;
        checks.push(super::objectives::judge(
            &scenario.objectives,
            history,
            &loads,
            scenario.duration,
        ));
    }
    let token_fallbacks = sim.actor.token_fallbacks();
    let replication_lag = sim.actor.replication_lag();
    let gates = sim.actor.gates();
    let counts = sim.actor.counts();
    let consumer_lag = sim
        .actor
        .history
        .logs
        .lag_series()
        .iter()
        .map(|(&g, s)| {
            let name = sim.actor.name(crate::engine::ComponentId(g)).to_string();
            (name, s.iter().map(|&(at, lag)| (at.as_nanos(), lag)).collect())
        })
        .collect();
    let history = sim.actor.history;
    Ok(RunOutcome {
        seed: scenario.seed,
        stats,
        drain_ns,
        history,
        checks,
        token_fallbacks,
        replication_lag,
        gates,
        loads,
        counts,
        consumer_lag,
    })
}

/// `n` to three significant figures, as `1.23e12` once it has more than six digits.
fn scientific(n: u64) -> String {
    if n < 1_000_000 {
        return n.to_string();
    }
    format!("{:.2e}", n as f64)
}

/// A simulated span in whole seconds, as `1h 3m 36s`; under a minute, as `1.12ms` or
/// `1.05s`.
fn span(ns: u64) -> String {
    if ns < 60_000_000_000 {
        return crate::engine::time::format_nanos(ns);
    }
    let secs = std::time::Duration::from_secs(ns.div_ceil(1_000_000_000));
    humantime::format_duration(secs).to_string()
}

/// What stopped a run, for people.
fn halted(halt: Halt, world: &World, stats: &RunStats) -> String {
    let events = stats.events;
    match halt {
        Halt::Events { limit, at } => format!(
            "the run stopped at {} of simulated time after {events} events, its limit of \
             {limit}; shorten the duration or raise the limit with --max-events",
            seconds(at.as_nanos())
        ),
        Halt::Pending { limit, at } => format!(
            "the run stopped at {} of simulated time with more than {limit} events pending \
             (they hold the run's memory); fewer clients or a shorter think time keep fewer \
             in flight, or raise the limit with --max-pending",
            seconds(at.as_nanos())
        ),
        Halt::SameInstant { limit, at, target } => format!(
            "the run stopped at {}: {limit} events in a row fired at that instant without \
             time advancing, the last of them to `{}`: something reschedules itself with no \
             delay (a zero-delay loop)",
            seconds(at.as_nanos()),
            world.name(target)
        ),
        Halt::Forecast { limit, estimate, events, at, deadline } => format!(
            "the run would take about {} events, over the limit of {limit}: its first \
             {events} covered {} of the {} simulated",
            scientific(estimate),
            span(at.as_nanos()),
            crate::engine::time::format_span(deadline.as_nanos())
        ),
    }
}
