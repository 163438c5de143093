//! **Split brain** (one primary at a time): an acknowledged write made by a primary
//! after a newer term had begun. A failure detector that declares a primary dead while
//! it is only cut off promotes a replica; clients that still reach the old primary keep
//! writing there, and without fencing it acknowledges those writes on its own copy of
//! the table. They diverge from the new term's history and are discarded when the old
//! primary learns of it. Stores report each such write as a head move with cause
//! `SplitBrain`; the checker counts the acknowledged ones.

use super::checks::{Check, End, HeadCause, HeadMove};
use super::story;
use super::verdict::{CheckReport, StoryLine};
use super::versions::{VersionDag, VersionId};

/// The split-brain checker.
#[derive(Debug, Default)]
pub struct SplitBrain {
    /// Every write a deposed primary made, with the move that reported it.
    diverged: Vec<HeadMove>,
}

impl Check for SplitBrain {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.diverged.iter().flat_map(|mv| [mv.from, mv.to]).for_each(held);
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_head(&mut self, mv: &HeadMove, _dag: &mut VersionDag) {
        if matches!(mv.cause, HeadCause::SplitBrain { .. }) {
            self.diverged.push(*mv);
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let dag = &*end.dag;
        let acked = dag.acked_count();
        let diverged: Vec<&HeadMove> =
            self.diverged.iter().filter(|mv| dag.is_acked(mv.to)).collect();
        let mut report =
            CheckReport::new("split_brain", diverged.len() as u64, acked, "acknowledged writes");
        let terms: std::collections::BTreeSet<u32> =
            diverged.iter().filter_map(|mv| term(mv)).collect();
        if !diverged.is_empty() {
            report.figures.insert("deposed_terms", terms.len() as u64);
        }
        if let Some(first) = diverged.first() {
            report.story = story_of(first, end);
        }
        report
    }
}

/// The deposed primary's term, for a split-brain move (the only ones kept).
fn term(mv: &HeadMove) -> Option<u32> {
    match mv.cause {
        HeadCause::SplitBrain { term, .. } => Some(term),
        _ => None,
    }
}

/// How `mv.to` came to be acknowledged beside the current term's primary.
fn story_of(mv: &HeadMove, end: &End<'_>) -> Vec<StoryLine> {
    let (dag, names) = (&*end.dag, end.names);
    let HeadCause::SplitBrain { term, deposed_at, deposed_event } = mv.cause else {
        return Vec::new(); // Only split-brain moves are kept.
    };
    let v: VersionId = mv.to;
    let store = names.component(mv.store);
    let mut lines = story::split_brain(store, term, (deposed_at, deposed_event));
    let mut created = story::created(dag, v, names);
    created.text = format!("{} (the deposed primary of term {term})", created.text);
    lines.push(created);
    lines.push(story::acknowledged(dag, v, names));
    lines.sort_by_key(|l| (l.at_ns, l.event));
    let head = end.stores.iter().find(|s| s.id == mv.store).map(|s| s.primary[mv.key as usize]);
    let head = head.map_or_else(|| "?".to_string(), |h| h.to_string());
    let (key, next) = (mv.key, term + 1);
    let fate = if end.is_live(v) {
        // The writer kept what it was told was written and wrote on top of it again.
        format!(
            "; term {next}'s primary never had it, and it is in the final value only because \
             {} wrote on top of it again",
            names.client(dag.get(v).client)
        )
    } else {
        format!(": no head of term {next} descends from it")
    };
    lines.push(StoryLine::end(format!(
        "key {key} ends at {head}; {v} was acknowledged by a primary whose term was over and \
         diverged{fate}"
    )));
    lines
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::checks::CheckSpec;
    use crate::check::verdict::Verdict;

    #[test]
    fn a_write_acknowledged_by_a_deposed_primary_diverged() {
        let mut h = Hist::with(&[CheckSpec::SplitBrain]);
        let kept = h.write(0, 0, VersionId::ROOT, OK);
        let diverged = h.write_deposed(1, 0, VersionId::ROOT);
        let r = h.finish_one(&[kept]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Violated, 1, 2));
        let text: Vec<&str> = r.story.iter().map(|l| l.text.as_str()).collect();
        assert!(text[0].contains("term 2 begins"), "{text:#?}");
        assert!(text.last().unwrap().contains(&format!("{diverged} was acknowledged")));
    }

    #[test]
    fn writes_of_the_current_term_alone_hold() {
        let mut h = Hist::with(&[CheckSpec::SplitBrain]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let v2 = h.write(0, 0, v1, OK);
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Holds, 0, 2));
    }

    #[test]
    fn a_diverged_write_its_client_wrote_on_top_of_again_is_still_counted_and_says_so() {
        let mut h = Hist::with(&[CheckSpec::SplitBrain]);
        let diverged = h.write_deposed(1, 0, VersionId::ROOT);
        let later = h.write(1, 0, diverged, OK);
        let r = h.finish_one(&[later]);
        assert_eq!((r.verdict, r.violations), (Verdict::Violated, 1));
        let end = &r.story.last().unwrap().text;
        assert!(end.contains("only because") && end.contains("wrote on top of it again"), "{end}");
    }
}
