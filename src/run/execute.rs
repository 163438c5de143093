//! Runs a validated scenario once: the duration, then a drain in which clients start
//! nothing new and in-flight work (replies, replication, restarts) finishes, then the
//! end-of-run checks.

use crate::check::{CheckReport, Histogram, History};
use crate::components::world::DRAIN_MAX;
use crate::components::{GateCounts, Load, Msg, Registry, World};
use crate::engine::{Dispatch, RunStats, Sim, SimTime};
use crate::model::Scenario;

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
}

/// Runs `scenario` to its duration and drains it. `keep_ops` keeps every operation.
pub fn execute(
    scenario: &Scenario,
    registry: &Registry,
    keep_ops: bool,
) -> Result<RunOutcome, String> {
    let sim = World::build(scenario, registry, keep_ops)?;
    Ok(run_world(sim, scenario, |_, _| {}))
}

/// Runs `scenario`, showing every event (with the instance names and the world as it
/// is before the event) to `observe` first.
pub fn execute_traced<F>(
    scenario: &Scenario,
    registry: &Registry,
    mut observe: F,
) -> Result<RunOutcome, String>
where
    F: FnMut(&Dispatch<Msg>, &[String], &World),
{
    let sim = World::build(scenario, registry, false)?;
    let names: Vec<String> = (0..sim.actor.topology.node_count())
        .map(|i| sim.actor.name(crate::engine::ComponentId(i as u32)).to_string())
        .collect();
    Ok(run_world(sim, scenario, |d, world| observe(d, &names, world)))
}

/// Runs a built world through its duration and drain, then checks it.
pub fn run_world<F: FnMut(&Dispatch<Msg>, &World)>(
    mut sim: Sim<World>,
    scenario: &Scenario,
    mut observe: F,
) -> RunOutcome {
    let stop = SimTime::ZERO.after(scenario.duration);
    sim.run_observed(stop, &mut observe);
    // Utilisation is over the duration: the drain would dilute it.
    let loads = sim.actor.loads(stop);
    let stats = sim.run_observed(stop.after(DRAIN_MAX), &mut observe);
    let drain_ns = stats.last_event.as_nanos().saturating_sub(stop.as_nanos());
    let checks = sim.actor.finish_checks();
    let token_fallbacks = sim.actor.token_fallbacks();
    let replication_lag = sim.actor.replication_lag();
    let gates = sim.actor.gates();
    let counts = sim.actor.counts();
    let history = sim.actor.history;
    RunOutcome {
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
    }
}
