//! **Writes follow reads** (a session guarantee, Terry et al. 1994): a session's write
//! descends from the versions the session read before it. A store that bases writes on
//! what the client saw keeps it; an idempotent retry answered with an older version can
//! break it.

use super::checks::{Check, End, SessionState};
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::CheckReport;
use super::versions::{Sighting, VersionDag, VersionId};

/// The writes-follow-reads checker.
#[derive(Debug, Default)]
pub struct WritesFollowReads {
    checked: u64,
    violations: u64,
    witness: Option<(Sighting, OpRecord)>,
}

impl Check for WritesFollowReads {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        if let Some((seen, op)) = &self.witness {
            op.versions().into_iter().chain([seen.version]).for_each(held);
        }
        true
    }

    fn on_op(&mut self, op: &OpRecord, session: &SessionState<'_>, dag: &mut VersionDag) {
        if op.outcome != Outcome::Ok || op.kind() != OpKind::Write || !session.has_read() {
            return;
        }
        if session.last_read_sighting().at > op.inv.invoked {
            return; // A push that arrived while the write was on its way: not its basis.
        }
        self.checked += 1;
        if !dag.includes(op.version, session.last_read()) {
            self.violations += 1;
            self.witness.get_or_insert_with(|| (session.last_read_sighting(), *op));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new(
            "writes_follow_reads",
            self.violations,
            self.checked,
            "writes after a read",
        );
        if let Some((read, op)) = &self.witness {
            let mut created = story::created(end.dag, op.version, end.names);
            created.text += &format!("; it does not descend from the {} read before", read.version);
            r.story = vec![story::sighting(read, op.client(), op.key(), end.names, ""), created];
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
    fn writes_must_descend_from_the_sessions_last_read() {
        let mut h = Hist::new(vec![Box::<WritesFollowReads>::default()]);
        let v1 = h.write(1, 0, VersionId::ROOT, OK);
        let v2 = h.write(1, 0, v1, OK);
        h.read(0, 0, v2, 0);
        // A write on top of what the session read follows it.
        let v3 = h.write(0, 0, v2, OK);
        let r = h.finish_one(&[v3]);
        assert_eq!((r.verdict, r.checked), (Verdict::Holds, 1));
        let mut h = Hist::new(vec![Box::<WritesFollowReads>::default()]);
        let v1 = h.write(1, 0, VersionId::ROOT, OK);
        let v2 = h.write(1, 0, v1, OK);
        h.read(0, 0, v2, 0);
        // A write answered with a version that does not descend from the read (as an
        // idempotent retry answered with its older first version would be).
        let forked = h.write(0, 0, v1, OK);
        let r = h.finish_one(&[forked]);
        assert_eq!((r.verdict, r.violations), (Verdict::Violated, 1));
        assert!(r.story[1].text.contains("does not descend from the v2 read before"));
    }
}
