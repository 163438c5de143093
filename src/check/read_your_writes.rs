//! **Read-your-writes** (a session guarantee, Terry et al. 1994): a read returns a
//! version that includes the reader's own last acknowledged write on that key, within
//! the same session (a new tab starts a new session).

use super::checks::{Check, End, SessionState};
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::CheckReport;
use super::versions::{VersionDag, VersionId};

/// The read-your-writes checker.
#[derive(Debug, Default)]
pub struct ReadYourWrites {
    checked: u64,
    violations: u64,
    witness: Option<(OpRecord, VersionId)>,
}

impl Check for ReadYourWrites {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        if let Some((op, v)) = &self.witness {
            op.versions().into_iter().chain([*v]).for_each(held);
        }
        true
    }

    fn on_op(&mut self, op: &OpRecord, session: &SessionState<'_>, dag: &mut VersionDag) {
        let w = session.last_write();
        if op.outcome != Outcome::Ok || op.kind() != OpKind::Read || w == VersionId::ROOT {
            return;
        }
        self.checked += 1;
        if !dag.includes(op.version, w) {
            self.violations += 1;
            self.witness.get_or_insert((*op, w));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new(
            "read_your_writes",
            self.violations,
            self.checked,
            "reads after an own write",
        );
        if let Some((op, w)) = &self.witness {
            let note = format!(", which lacks its own {w}");
            r.story = vec![
                story::created(end.dag, *w, end.names),
                story::acknowledged(end.dag, *w, end.names),
                story::read(op, end.names, &note),
            ];
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
    fn a_stale_read_after_an_own_write_violates() {
        let mut h = Hist::new(vec![Box::<ReadYourWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.read(0, 0, VersionId::ROOT, 1);
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Violated, 1, 1));
        assert_eq!(r.story.len(), 3);
        assert!(
            r.story[2].text.contains("replica 0: gets ∅, which lacks its own v1"),
            "{:?}",
            r.story
        );
    }

    #[test]
    fn reads_of_the_own_write_or_newer_hold_and_others_reads_are_not_checked() {
        let mut h = Hist::new(vec![Box::<ReadYourWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.read(0, 0, v1, 1);
        let v2 = h.write(1, 0, v1, OK);
        h.read(0, 0, v2, 0);
        h.read(2, 0, VersionId::ROOT, 1); // client 2 never wrote
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.checked), (Verdict::Holds, 2));
    }
}
