//! Sentences shared by the checkers' stories: a version created, acknowledged, read.

use super::history::OpRecord;
use super::verdict::{Names, StoryLine};
use super::versions::{Sighting, Version, VersionDag, VersionId};

/// What a version holds: `client/3's message 1`, `the response to client/3's message 1`.
pub fn content(x: &Version, names: &Names) -> String {
    let message = format!("{}'s message {}", names.client(x.client), x.message);
    if x.purpose.info().persists_stream { format!("the response to {message}") } else { message }
}

/// `db creates v17 for key 3: client/3's message 1, based on ∅`.
pub fn created(dag: &VersionDag, v: VersionId, names: &Names) -> StoryLine {
    let x = dag.get(v);
    let parents: Vec<String> = dag.parents(v).map(|p| p.to_string()).collect();
    let on = if parents.is_empty() { "∅".to_string() } else { parents.join(" + ") };
    let text = format!(
        "{} creates {v} of key {} on top of {on}: {}",
        names.component(x.store),
        x.key,
        content(x, names)
    );
    StoryLine::at(x.created.as_nanos(), x.created_event, text)
}

/// `client/3 is told v17 is written`, or for a server's write, that it was persisted.
pub fn acknowledged(dag: &VersionDag, v: VersionId, names: &Names) -> StoryLine {
    let x = dag.get(v);
    let text = if x.purpose.by_server() {
        format!("the server is told {v} is persisted and reports it complete (acknowledged)")
    } else {
        format!("{} is told {v} is written (acknowledged)", names.client(x.client))
    };
    StoryLine::at(x.acked.as_nanos(), x.acked_event, text)
}

/// `client/3 refreshes key 3 from db replica 1: gets ∅`, plus `note`.
pub fn sighting(s: &Sighting, client: u32, key: u32, names: &Names, note: &str) -> StoryLine {
    let text = format!(
        "{} {} key {key} from {}: gets {}{note}",
        names.client(client),
        s.purpose.verb(),
        names.source(s.store, s.source),
        s.version
    );
    StoryLine::at(s.at.as_nanos(), s.event, text)
}

/// The line of a completed read, with `note` appended.
pub fn read(op: &OpRecord, names: &Names, note: &str) -> StoryLine {
    sighting(&op.sighting(), op.client(), op.key(), names, note)
}

/// The lines telling that a deposed primary of `term`, replaced at `deposed_at`, still
/// took writes.
pub fn split_brain(
    store: &str,
    term: u32,
    (deposed_at, event): (crate::engine::SimTime, u64),
) -> Vec<StoryLine> {
    let text = format!(
        "{store} promotes a replica: term {} begins, but the primary of term {term} is cut \
         off and never hears of it; clients that still reach it keep writing there (split \
         brain)",
        term + 1
    );
    vec![StoryLine::at(deposed_at.as_nanos(), event, text)]
}
