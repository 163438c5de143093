//! **Duplicate application** (exactly-once / idempotence): one message of one client
//! applied as two versions that both survive in its key's final value — a retried or
//! resubmitted write the store did not recognise as the same write.

use super::checks::{Check, End};
use super::purpose::{self, Purpose};
use super::story;
use super::verdict::{CheckReport, StoryLine};
use super::versions::VersionId;

/// The duplicates checker.
#[derive(Debug, Default)]
pub struct Duplicates;

/// Who wrote a version: its key, client, message, and whether a server wrote it (and
/// for which purpose) or the client did.
type Author = (u32, u32, u32, bool, Purpose);

impl Check for Duplicates {
    fn versions_held(&self, _held: &mut dyn FnMut(VersionId)) -> bool {
        true // It judges the stores' final tables and the whole DAG at the end.
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let dag = &*end.dag;
        // A message, its response and its title are three different writes.
        // The client's own writes of a message sort before the server's, so the first
        // duplicate found is the user's when both are duplicated.
        let mut live: Vec<(Author, VersionId)> = dag
            .ids()
            // A version a store made joining others (a merge between leaders) is no
            // one's message.
            .filter(|v| end.live[v.index()] && dag.get(*v).purpose.checked())
            .map(|v| {
                let x = dag.get(v);
                let server = x.purpose.by_server();
                let author = if server { x.purpose } else { purpose::WRITE };
                ((x.key, x.client, x.message, server, author), v)
            })
            .collect();
        live.sort_unstable();
        let mut extra = 0u64;
        let mut first = None;
        for pair in live.windows(2) {
            if pair[0].0 == pair[1].0 {
                extra += 1;
                first.get_or_insert((pair[0].1, pair[1].1));
            }
        }
        let mut report = CheckReport::new("duplicates", extra, live.len() as u64, "live versions");
        if let Some((a, b)) = first {
            let x = dag.get(a);
            let mut again = story::created(dag, b, end.names);
            again.text += " (the same message again)";
            report.story = vec![
                story::created(dag, a, end.names),
                again,
                StoryLine::end(format!(
                    "key {}'s final value holds both {a} and {b}: {} is applied twice",
                    x.key,
                    story::content(x, end.names)
                )),
            ];
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Hist;
    use super::*;
    use crate::check::checks::CheckSpec;
    use crate::check::verdict::Verdict;

    #[test]
    fn one_message_in_two_live_versions_is_a_duplicate() {
        let mut h = Hist::with(&[CheckSpec::Duplicates]);
        let v1 = h.write(0, 0, VersionId::ROOT, super::super::testing::OK);
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.checked), (Verdict::Holds, 1));
        // Build two versions of one message by hand: the second write reuses the first's
        // message number because Hist numbers messages by event, so craft via the DAG.
        let mut h = Hist::with(&[CheckSpec::Duplicates]);
        let v1 = h.write(0, 0, VersionId::ROOT, super::super::testing::OK);
        let mut again = *h.h.dag().get(v1);
        again.created_event += 10;
        let v2 = h.h.dag_mut().create(again, &[v1]);
        let r = h.finish_one(&[v2]);
        assert_eq!((r.verdict, r.violations), (Verdict::Violated, 1));
        assert!(r.story[2].text.contains("applied twice"), "{:?}", r.story);
    }
}
