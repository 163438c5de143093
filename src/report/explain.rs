//! `--explain` and the HTML report: each violation's story as a sequence diagram, and
//! when each fault struck. The run is replayed with the same seed, keeping the
//! requests, replies and replications around the stories' times and the faults'
//! firings; the replay must dispatch the same events (same trace hash) as the run.

use super::sequence::{
    REPLICATION_TAIL_NS, REQUEST_LEAD_NS, SeenEvent, Sequence, build, story_span,
};
use crate::components::{Msg, Registry};
use crate::model::Scenario;
use crate::run::{RunOutcome, execute_traced};

/// A fault of the scenario striking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strike {
    /// When, in ns.
    pub at: u64,
    /// Which fault: its index in the scenario's `faults_of_run()`.
    pub fault: usize,
}

/// What a replay found.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The diagram of every checker's story, by checker name, in report order.
    pub diagrams: Vec<(&'static str, Sequence)>,
    /// Every fault's firings within the duration, in time order (only when asked for).
    pub strikes: Vec<Strike>,
}

/// Replays the run for its stories' diagrams and, with `strikes`, its faults' firings.
/// Nothing is replayed when there is nothing to find.
pub fn replay(
    scenario: &Scenario,
    registry: &Registry,
    outcome: &RunOutcome,
    strikes: bool,
) -> Result<Replay, String> {
    let stories: Vec<_> = outcome.checks.iter().filter(|c| !c.story.is_empty()).collect();
    let spans: Vec<(u64, u64)> = stories.iter().filter_map(|c| story_span(&c.story)).collect();
    let strikes = strikes && !(scenario.faults.is_empty() && scenario.swarm.is_empty());
    if spans.is_empty() && !strikes {
        return Ok(Replay::default());
    }
    let from = spans.iter().map(|s| s.0).min().unwrap_or(u64::MAX).saturating_sub(REQUEST_LEAD_NS);
    let to = spans.iter().map(|s| s.1).max().unwrap_or(0).saturating_add(REPLICATION_TAIL_NS);
    let duration = scenario.duration.as_nanos();
    let mut events = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut coordinators = std::collections::BTreeSet::new();
    let mut found = Replay::default();
    let run = execute_traced(scenario, registry, false, |d, n, world| {
        if names.is_empty() {
            names = n.to_vec();
            coordinators = world.leaderless_stores();
        }
        let at = d.at.as_nanos();
        if (from..=to).contains(&at) {
            events.extend(SeenEvent::of(d, world));
        }
        // The driver fires only within the duration; later firings are dropped.
        if let Msg::FaultDue { index } = d.msg
            && strikes
            && at < duration
        {
            found.strikes.push(Strike { at, fault: index as usize });
        }
    })?;
    if run.stats.trace_hash != outcome.stats.trace_hash {
        return Err("the replay dispatched other events than the run".into());
    }
    found.diagrams =
        stories.iter().map(|c| (c.name, build(&c.story, &events, &names, &coordinators))).collect();
    Ok(found)
}
