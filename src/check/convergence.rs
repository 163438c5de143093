//! **Convergence** (the liveness half of eventual consistency): once the run has
//! quiesced, every replica of every store holds the same version of each key as the
//! primary.

use super::checks::{Check, End};
use super::story;
use super::verdict::{CheckReport, StoryLine};
use super::versions::VersionId;

/// The convergence checker.
#[derive(Debug, Default)]
pub struct Convergence;

impl Check for Convergence {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // It judges the stores' final tables and the whole DAG at the end.
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut checked = 0u64;
        let mut diverged = 0u64;
        let mut first: Option<(u32, usize, u32, VersionId, VersionId)> = None;
        for store in end.stores {
            for (i, replica) in store.replicas.iter().enumerate() {
                for (key, (&p, &r)) in store.primary.iter().zip(replica).enumerate() {
                    checked += 1;
                    if p != r {
                        diverged += 1;
                        first.get_or_insert((store.id, i, key as u32, p, r));
                    }
                }
            }
        }
        let mut report = CheckReport::new("convergence", diverged, checked, "replica keys");
        if let Some((store, replica, key, p, r)) = first {
            let name = end.names.component(store);
            let mut lines = Vec::new();
            if p != VersionId::ROOT {
                lines.push(story::created(end.dag, p, end.names));
            }
            lines.push(StoryLine::end(format!(
                "after quiescence {name} primary holds {p} of key {key} but replica {replica} \
                 holds {r}: the copies never converged"
            )));
            report.story = lines;
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::super::checks::StoreEnd;
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::verdict::{Names, Verdict};

    #[test]
    fn a_replica_left_behind_does_not_converge() {
        let mut h = Hist::new(vec![Box::<Convergence>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.checked), (Verdict::Holds, 4));
        let mut h = Hist::new(vec![Box::<Convergence>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let store = StoreEnd { id: 0, primary: vec![v1], replicas: vec![vec![VersionId::ROOT]] };
        let names = Names { components: vec!["db".into()] };
        let r = h.h.finish(&[store], &names, h.now()).remove(0);
        assert_eq!((r.verdict, r.violations), (Verdict::Violated, 1));
        assert!(r.story.last().unwrap().text.contains("replica 0 holds ∅"));
    }
}
