//! **Duplicate application** (exactly-once / idempotence): one message of one client
//! applied as two versions that both survive in its key's final value — a retried or
//! resubmitted write the store did not recognise as the same write.

use std::collections::BTreeMap;

use super::checks::{Check, End, Writing};
use super::purpose::{self, Purpose};
use super::story;
use super::verdict::{CheckReport, StoryLine};
use super::versions::{Settled, Version, VersionDag, VersionId};

/// The duplicates checker. A version settled safe is in its key's final value: it is
/// counted then, and kept by author only while another version of the same message
/// may still come.
#[derive(Debug, Default)]
pub struct Duplicates {
    /// Live versions counted so far (settled safe).
    live: u64,
    /// Versions beyond the first of one message, among those settled safe.
    extra: u64,
    /// Per author with a settled-safe version: its two lowest such versions.
    authors: BTreeMap<Author, [VersionId; 2]>,
    /// The first duplicate of an author no longer kept, in author order.
    first: Option<(Author, VersionId, VersionId)>,
}

/// Who wrote a version: its key, client, message, and whether a server wrote it (and
/// for which purpose) or the client did.
type Author = (u32, u32, u32, bool, Purpose);

impl Check for Duplicates {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.authors.values().flatten().copied().for_each(&mut *held);
        self.first.iter().flat_map(|&(_, a, b)| [a, b]).for_each(held);
        true
    }

    fn on_settled(&mut self, settled: &Settled, writing: &Writing, dag: &mut VersionDag) {
        // An author no message in flight writes, with no version still open, is done.
        let mut open: Vec<Author> = dag
            .ids()
            .filter(|&v| !dag.is_settled(v))
            .map(|v| dag.record(v))
            .filter(|x| x.purpose.checked())
            .map(author)
            .collect();
        open.sort_unstable();
        open.dedup();
        let done = |a: &Author| !writing.contains(a.1, a.2) && open.binary_search(a).is_err();
        let mut safe: Vec<(Author, VersionId)> = settled
            .safe
            .iter()
            .map(|&v| (dag.record(v), v))
            .filter(|(x, _)| x.purpose.checked())
            .map(|(x, v)| (author(x), v))
            .collect();
        safe.sort_unstable();
        for group in safe.chunk_by(|a, b| a.0 == b.0) {
            let a = group[0].0;
            self.live += group.len() as u64;
            // Most authors settle one version and are done: nothing to pair it with.
            if group.len() == 1 && !self.authors.contains_key(&a) && done(&a) {
                continue;
            }
            for &(_, v) in group {
                self.add(a, v);
            }
        }
        let finished: Vec<Author> = self.authors.keys().filter(|a| done(a)).copied().collect();
        for a in finished {
            let Some([first, second]) = self.authors.remove(&a) else { continue };
            if second != VersionId::ROOT && self.first.is_none_or(|f| a < f.0) {
                self.first = Some((a, first, second));
            }
        }
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
            .filter(|&v| !dag.is_settled(v) && end.is_live(v))
            .map(|v| (dag.get(v), v))
            .filter(|(x, _)| x.purpose.checked())
            .map(|(x, v)| (author(x), v))
            .collect();
        live.sort_unstable();
        let mut all = std::mem::take(self);
        // As in `on_settled`: a lone version of an author not kept pairs with nothing.
        for group in live.chunk_by(|a, b| a.0 == b.0) {
            all.live += group.len() as u64;
            if group.len() == 1 && !all.authors.contains_key(&group[0].0) {
                continue;
            }
            group.iter().for_each(|&(a, v)| all.add(a, v));
        }
        let pairs = all.authors.iter().filter(|(_, [_, b])| *b != VersionId::ROOT);
        let first_kept = pairs.map(|(&a, &[x, y])| (a, x, y)).next();
        let first = [all.first, first_kept].into_iter().flatten().min_by_key(|f| f.0);
        let (extra, first) = (all.extra, first.map(|(_, a, b)| (a, b)));
        let mut report = CheckReport::new("duplicates", extra, all.live, "live versions");
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

impl Duplicates {
    /// Counts live version `v` of `author`, keeping its two lowest versions.
    fn add(&mut self, author: Author, v: VersionId) {
        match self.authors.get_mut(&author) {
            None => {
                self.authors.insert(author, [v, VersionId::ROOT]);
            }
            Some(pair) => {
                self.extra += 1;
                let mut three = [pair[0], pair[1], v];
                three.sort_unstable_by_key(|x| (*x == VersionId::ROOT, *x));
                *pair = [three[0], three[1]];
            }
        }
    }
}

/// Who wrote `x`, as duplicates are grouped.
fn author(x: &Version) -> Author {
    let server = x.purpose.by_server();
    let by = if server { x.purpose } else { purpose::WRITE };
    (x.key, x.client, x.message, server, by)
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
