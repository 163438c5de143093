//! Runs a validated scenario once.

use crate::check::History;
use crate::components::{Msg, Registry, World};
use crate::engine::{Dispatch, RunStats, Sim, SimTime};
use crate::model::Scenario;

/// What one run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The seed the run used.
    pub seed: u64,
    /// Engine figures: events, simulated time, trace hash.
    pub stats: RunStats,
    /// Completed operations.
    pub history: History,
}

fn build(scenario: &Scenario, registry: &Registry, keep_ops: bool) -> Result<Sim<World>, String> {
    World::build(scenario, registry, keep_ops)
}

/// Runs `scenario` to its duration. `keep_ops` keeps every operation in the history.
pub fn execute(
    scenario: &Scenario,
    registry: &Registry,
    keep_ops: bool,
) -> Result<RunOutcome, String> {
    let mut sim = build(scenario, registry, keep_ops)?;
    let stats = sim.run_until(SimTime::ZERO.after(scenario.duration));
    Ok(RunOutcome { seed: scenario.seed, stats, history: sim.actor.history })
}

/// Runs `scenario`, showing every event (and the instance names) to `observe` first.
pub fn execute_traced<F>(
    scenario: &Scenario,
    registry: &Registry,
    mut observe: F,
) -> Result<RunOutcome, String>
where
    F: FnMut(&Dispatch<Msg>, &[String]),
{
    let mut sim = build(scenario, registry, false)?;
    let names: Vec<String> = (0..sim.actor.topology.node_count())
        .map(|i| sim.actor.name(crate::engine::ComponentId(i as u32)).to_string())
        .collect();
    let deadline = SimTime::ZERO.after(scenario.duration);
    let stats = sim.run_observed(deadline, |d| observe(d, &names));
    Ok(RunOutcome { seed: scenario.seed, stats, history: sim.actor.history })
}
