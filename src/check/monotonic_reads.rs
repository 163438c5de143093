//! **Monotonic reads** (a session guarantee, Terry et al. 1994): once a session has read
//! a version of a key, its later reads of that key return that version or a descendant.

use super::checks::{Check, End, SessionState};
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::CheckReport;
use super::versions::{Sighting, VersionDag, VersionId};

/// The monotonic-reads checker.
#[derive(Debug, Default)]
pub struct MonotonicReads {
    checked: u64,
    violations: u64,
    witness: Option<(Sighting, OpRecord)>,
}

impl Check for MonotonicReads {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        if let Some((seen, op)) = &self.witness {
            op.versions().into_iter().chain([seen.version]).for_each(held);
        }
        true
    }

    fn on_op(&mut self, op: &OpRecord, session: &SessionState<'_>, _dag: &mut VersionDag) {
        if op.outcome != Outcome::Ok || op.kind() != OpKind::Read || !session.has_read() {
            return;
        }
        if session.newest_read_sighting().at > op.inv.invoked {
            return; // A push that arrived while the read was on its way: not a bar for it.
        }
        self.checked += 1;
        // The bar is the newest version read so far, not the last read: after a
        // violation, the earlier, newer read stays the bar for later reads.
        if !session.read_includes_newest() {
            self.violations += 1;
            self.witness.get_or_insert_with(|| (session.newest_read_sighting(), *op));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new(
            "monotonic_reads",
            self.violations,
            self.checked,
            "reads after an earlier read",
        );
        if let Some((first, op)) = &self.witness {
            // Older when it is an ancestor; otherwise a version on another branch (a
            // write lost to a concurrent one, a rollback) that lacks what was read.
            let note = if end.dag.includes(first.version, op.version) {
                format!(", older than the {} it read before", first.version)
            } else {
                format!(", which lacks the {} it read before", first.version)
            };
            r.story = vec![
                story::sighting(first, op.client(), op.key(), end.names, ""),
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
    use crate::check::versions::VersionId;

    #[test]
    fn reading_an_older_version_after_a_newer_one_violates() {
        let mut h = Hist::new(vec![Box::<MonotonicReads>::default()]);
        let v1 = h.write(1, 0, VersionId::ROOT, OK);
        h.read(0, 0, v1, 1);
        h.read(0, 0, VersionId::ROOT, 2);
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Violated, 1, 1));
        assert!(r.story[1].text.contains("older than the v1"), "{:?}", r.story);
    }

    #[test]
    fn the_newest_read_stays_the_bar_after_a_violation() {
        let mut h = Hist::new(vec![Box::<MonotonicReads>::default()]);
        let v1 = h.write(1, 0, VersionId::ROOT, OK);
        let v2 = h.write(1, 0, v1, OK);
        h.read(0, 0, v2, 1);
        h.read(0, 0, v1, 2); // Older than v2: a violation.
        h.read(0, 0, v1, 2); // Still older than v2, though not than the last read.
        let r = h.finish_one(&[v2]);
        assert_eq!((r.violations, r.checked), (2, 2));
        assert!(r.story[0].text.contains("gets v2"), "{:?}", r.story);
    }

    #[test]
    fn reads_that_only_move_forward_hold() {
        let mut h = Hist::new(vec![Box::<MonotonicReads>::default()]);
        let v1 = h.write(1, 0, VersionId::ROOT, OK);
        h.read(0, 0, VersionId::ROOT, 1);
        h.read(0, 0, v1, 2);
        h.read(0, 0, v1, 1);
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.checked), (Verdict::Holds, 2));
    }
}
