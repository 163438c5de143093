//! **Monotonic writes** (a session guarantee, Terry et al. 1994): a session's write
//! descends from the session's previous write on the key. Observable here because a
//! write's parent is what its client last saw: a stale read between two writes makes
//! the second one fork away from the first.

use super::checks::{Check, End, SessionState};
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::CheckReport;
use super::versions::{VersionDag, VersionId};

/// The monotonic-writes checker.
#[derive(Debug, Default)]
pub struct MonotonicWrites {
    checked: u64,
    violations: u64,
    witness: Option<(VersionId, OpRecord)>,
}

impl Check for MonotonicWrites {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        if let Some((v, op)) = &self.witness {
            op.versions().into_iter().chain([*v]).for_each(held);
        }
        true
    }

    fn on_op(&mut self, op: &OpRecord, session: &SessionState<'_>, dag: &mut VersionDag) {
        let w = session.last_write();
        if op.outcome != Outcome::Ok || op.kind() != OpKind::Write || w == VersionId::ROOT {
            return;
        }
        self.checked += 1;
        if !dag.includes(op.version, w) {
            self.violations += 1;
            self.witness.get_or_insert((w, *op));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new(
            "monotonic_writes",
            self.violations,
            self.checked,
            "writes after an own write",
        );
        if let Some((prev, op)) = &self.witness {
            let seen = end.dag.get(op.version).seen;
            // A store that writes on top of its own copy (a leader of several) may fork
            // away from a read that had the previous write: only a read that lacked it
            // is part of the story.
            let read_lacked = seen.by_read() && !end.dag.includes(seen.version, *prev);
            let (dag, names) = (&*end.dag, end.names);
            let mut lines = vec![story::acknowledged(dag, *prev, names)];
            if read_lacked {
                let note = format!(", which lacks {prev}");
                lines.push(story::sighting(&seen, op.client(), op.key(), names, &note));
            }
            let mut created = story::created(dag, op.version, names);
            created.text += &format!("; it does not descend from the session's {prev}");
            lines.push(created);
            r.story = lines;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::verdict::Verdict;

    #[test]
    fn a_write_based_on_a_stale_read_forks_away_from_the_previous_write() {
        let mut h = Hist::new(vec![Box::<MonotonicWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let stale = h.read(0, 0, VersionId::ROOT, 1);
        let v2 = h.write_seen(0, 0, stale, OK);
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.violations), (Verdict::Violated, 1));
        assert_eq!(r.story.len(), 3, "{:?}", r.story);
        assert!(r.story[2].text.contains(&format!("descend from the session's {v1}")));
    }

    #[test]
    fn chained_writes_hold() {
        let mut h = Hist::new(vec![Box::<MonotonicWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let v2 = h.write(0, 0, v1, OK);
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.checked), (Verdict::Holds, 1));
    }
}
