//! `--explain`: each violation's story as a sequence diagram. The run is replayed with
//! the same seed, keeping the requests, replies and replications around the stories'
//! times; the replay must dispatch the same events (same trace hash) as the run.

use super::sequence::{REPLICATION_TAIL_NS, SeenEvent, Sequence, build, story_span};
use crate::components::Registry;
use crate::model::Scenario;
use crate::run::{RunOutcome, execute_traced};

/// The diagram of every checker's story, by checker name, in report order.
pub fn explain(
    scenario: &Scenario,
    registry: &Registry,
    outcome: &RunOutcome,
) -> Result<Vec<(&'static str, Sequence)>, String> {
    let stories: Vec<_> = outcome.checks.iter().filter(|c| !c.story.is_empty()).collect();
    let spans: Vec<(u64, u64)> = stories.iter().filter_map(|c| story_span(&c.story)).collect();
    let Some(from) = spans.iter().map(|s| s.0).min() else { return Ok(Vec::new()) };
    let to = spans.iter().map(|s| s.1).max().unwrap_or(from).saturating_add(REPLICATION_TAIL_NS);
    let mut events = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let replay = execute_traced(scenario, registry, |d, n| {
        if names.is_empty() {
            names = n.to_vec();
        }
        if (from..=to).contains(&d.at.as_nanos()) {
            events.extend(SeenEvent::of(d));
        }
    })?;
    if replay.stats.trace_hash != outcome.stats.trace_hash {
        return Err("the replay dispatched other events than the run".into());
    }
    Ok(stories.iter().map(|c| (c.name, build(&c.story, &events, &names))).collect())
}
