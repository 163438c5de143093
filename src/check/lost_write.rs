//! **Lost acknowledged write** (durability of acknowledged writes; "lost update" when an
//! overwrite causes it): a write a client was told succeeded whose version is not an
//! ancestor of (or equal to) its key's final head once the run has quiesced.
//!
//! A version stops being an ancestor when a head moves past it: an overwrite based on
//! an older version orphans what the writer did not see, a last-write-wins comparison
//! keeps an older-stamped head, a crash rolls the primary back to its snapshot, a
//! failover promotes a replica that never received it. The checker records the last
//! such move for every version it displaced, so the story can say which one did it,
//! and the report counts lost writes by cause (`by_overwrite`, `by_timestamp`,
//! `by_crash`, `by_failover`, `by_split_brain`: made by a deposed primary beside the
//! current term's; `by_concurrent_leader`: replaced where a multi-leader store's leaders
//! met by a concurrent write with a newer stamp).

use std::collections::BTreeMap;

use super::checks::{Check, End, HeadCause, HeadMove, Writing};
use super::story;
use super::verdict::{CheckReport, Names, StoryLine, duration};
use super::versions::{Settled, VersionDag, VersionId};

/// The lost-acknowledged-write checker. A write is decided when its fate settles (it is
/// in every held version's past, or in none), or at the end for those still open.
#[derive(Debug, Default)]
pub struct LostWrites {
    /// Versions displaced and not yet settled, and what displaced each, in the order
    /// of the moves (the last entry of a version counts; `latest` sorts them):
    /// `OVERWRITTEN` plus the version whose write did, or 1 + the index in `moves` of
    /// the move that did.
    displaced_by: Vec<(u32, u32)>,
    /// Acknowledged writes settled lost, by cause.
    settled_lost: BTreeMap<&'static str, u64>,
    /// The first settled-lost writes by id (at most `STORY_CANDIDATES`), with what
    /// displaced each: the stories are told of the first ones.
    candidates: Vec<(VersionId, u32)>,
    /// The head moves that displaced something other than by a write: a write's own
    /// record tells its story, so the common move is kept as its version alone.
    moves: Vec<HeadMove>,
    scratch: Vec<VersionId>,
}

/// The bit of a `displaced_by` entry that says a write displaced it (version ids are
/// below 2^30, see `VersionDag::create`).
const OVERWRITTEN: u32 = 1 << 31;

/// What last displaced a version.
#[derive(Debug, Clone, Copy)]
enum Displacer<'a> {
    /// This version's write, made on top of what its writer saw.
    Write(VersionId),
    /// Any other head move.
    Move(&'a HeadMove),
}

impl Displacer<'_> {
    fn cause(self) -> HeadCause {
        match self {
            Displacer::Write(_) => HeadCause::Write,
            Displacer::Move(mv) => mv.cause,
        }
    }
}

impl Check for LostWrites {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.moves.iter().flat_map(|mv| [mv.from, mv.to]).for_each(&mut *held);
        // A story tells of the version whose write displaced a candidate.
        let displaced = self.displaced_by.iter().map(|&(v, by)| (VersionId(v), by));
        for (v, by) in self.candidates.iter().copied().chain(displaced) {
            held(v);
            if let Some(Displacer::Write(to)) = self.decode(by) {
                held(to);
            }
        }
        true
    }

    fn on_settled(&mut self, settled: &Settled, _writing: &Writing, dag: &mut VersionDag) {
        self.latest();
        let mut by_cause = [0u64; CAUSES.len()];
        let mut pushed = false;
        for &v in &settled.lost {
            let by = self.displacer(v);
            if dag.record(v).is_acked() {
                by_cause[cause_of(self.decode(by))] += 1;
                // Once the first ones are known, only a lower id can still take a place.
                let full = self.candidates.len() >= STORY_CANDIDATES;
                if !full || self.candidates.last().is_some_and(|c| v < c.0) {
                    self.candidates.push((v, by));
                    pushed = true;
                }
            }
        }
        for (cause, n) in CAUSES.iter().zip(by_cause).filter(|c| c.1 > 0) {
            *self.settled_lost.entry(cause).or_insert(0) += n;
        }
        if pushed {
            self.candidates.sort_unstable_by_key(|c| c.0);
            self.candidates.truncate(STORY_CANDIDATES);
        }
        self.displaced_by.retain(|&(v, _)| !dag.is_settled(VersionId(v)));
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_head(&mut self, mv: &HeadMove, dag: &mut VersionDag) {
        self.scratch.clear();
        match mv.cause {
            HeadCause::LostRace | HeadCause::SplitBrain { .. } => self.scratch.push(mv.to),
            _ if dag.has_parent(mv.to, mv.from) => return,
            _ => dag.displaced(mv.from, mv.to, &mut self.scratch),
        }
        if self.scratch.is_empty() {
            return;
        }
        let index = if mv.cause == HeadCause::Write {
            OVERWRITTEN | mv.to.0
        } else {
            self.moves.push(*mv);
            self.moves.len() as u32
        };
        for v in &self.scratch {
            self.displaced_by.push((v.0, index));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        self.latest();
        let dag = &*end.dag;
        // Writes still open are decided by the final heads.
        let open: Vec<VersionId> = dag
            .ids()
            .filter(|&v| !dag.is_settled(v) && dag.is_acked(v) && !end.is_live(v))
            .collect();
        let mut by_cause = self.settled_lost.clone();
        for &v in &open {
            let by = self.displacer(v);
            *by_cause.entry(cause_name(self.decode(by))).or_insert(0) += 1;
        }
        let lost: u64 = by_cause.values().sum();
        let mut report = CheckReport::new(
            "lost_acknowledged_write",
            lost,
            dag.acked_count(),
            "acknowledged writes",
        );
        report.figures.extend(by_cause);
        let open = open.iter().map(|&v| (v, self.displacer(v)));
        let mut candidates: Vec<(VersionId, u32)> =
            self.candidates.iter().copied().chain(open).collect();
        candidates.sort_unstable_by_key(|c| c.0);
        let stories =
            candidates.iter().take(STORY_CANDIDATES).map(|&(v, by)| self.story(v, by, end));
        if let Some(best) = stories.min_by_key(Vec::len) {
            report.story = best;
        }
        report
    }
}

/// The report's figure for writes lost to what displaced them.
fn cause_name(by: Option<Displacer<'_>>) -> &'static str {
    CAUSES[cause_of(by)]
}

/// The figure names of the causes, by `cause_of`'s index.
const CAUSES: [&str; 7] = [
    "by_overwrite",
    "by_timestamp",
    "by_crash",
    "by_failover",
    "by_split_brain",
    "by_concurrent_leader",
    "by_unknown",
];

/// The index in `CAUSES` of what displaced a lost write.
fn cause_of(by: Option<Displacer<'_>>) -> usize {
    match by.map(Displacer::cause) {
        Some(HeadCause::Write) => 0,
        Some(HeadCause::LostRace) => 1,
        Some(HeadCause::Crash { .. }) => 2,
        Some(HeadCause::Failover { .. }) => 3,
        Some(HeadCause::SplitBrain { .. }) => 4,
        Some(HeadCause::LastWriteWins { .. }) => 5,
        None => 6,
    }
}

/// Stories compared to find the shortest (they differ by a line or two).
const STORY_CANDIDATES: usize = 64;

impl LostWrites {
    /// Keeps each version's last displacement only, in id order.
    fn latest(&mut self) {
        // A stable sort keeps each version's entries in the order of their moves.
        self.displaced_by.sort_by_key(|&(v, _)| v);
        let mut kept: Vec<(u32, u32)> = Vec::with_capacity(self.displaced_by.len());
        for &(v, by) in &self.displaced_by {
            match kept.last_mut() {
                Some(last) if last.0 == v => last.1 = by,
                _ => kept.push((v, by)),
            }
        }
        self.displaced_by = kept;
    }

    /// What last displaced `v` (0: nothing), once `latest` has sorted the entries.
    fn displacer(&self, v: VersionId) -> u32 {
        let i = self.displaced_by.binary_search_by_key(&v.0, |&(x, _)| x);
        i.map_or(0, |i| self.displaced_by[i].1)
    }

    /// What a `displaced_by` entry says displaced a version (0: nothing).
    fn decode(&self, by: u32) -> Option<Displacer<'_>> {
        match by {
            0 => None,
            i if i & OVERWRITTEN != 0 => Some(Displacer::Write(VersionId(i & !OVERWRITTEN))),
            i => Some(Displacer::Move(&self.moves[i as usize - 1])),
        }
    }

    fn story(&self, v: VersionId, by: u32, end: &End<'_>) -> Vec<StoryLine> {
        let (dag, names) = (&*end.dag, end.names);
        let x = *dag.get(v);
        let mut lines = Vec::new();
        if x.seen.by_read() {
            lines.push(story::sighting(&x.seen, x.client, x.key, names, ""));
        }
        lines.push(story::created(dag, v, names));
        lines.push(story::acknowledged(dag, v, names));
        match self.decode(by) {
            Some(Displacer::Write(to)) => lines.extend(overwrite(dag, names, to, v)),
            Some(Displacer::Move(mv)) => lines.extend(displacement(dag, names, mv, v)),
            None => {}
        }
        let head = end.stores.iter().find(|s| s.id == x.store).map(|s| s.primary[x.key as usize]);
        let head = head.map_or_else(|| "?".to_string(), |h| h.to_string());
        // A story reads in time order; the end line stays last.
        lines.sort_by_key(|l| (l.at_ns, l.event));
        lines.push(StoryLine::end(format!(
            "key {} ends at {head}, which does not descend from {v}: the acknowledged write is lost",
            x.key
        )));
        lines
    }
}

/// The lines telling how the write of `to`, made on what its writer saw, displaced `v`.
fn overwrite(dag: &VersionDag, names: &Names, to: VersionId, v: VersionId) -> Vec<StoryLine> {
    let h = dag.get(to);
    let mut lines = Vec::new();
    if h.seen.by_read() {
        let note = format!(", which lacks {v}");
        lines.push(story::sighting(&h.seen, h.client, h.key, names, &note));
    }
    let mut line = story::created(dag, to, names);
    let again = if h.client == dag.get(v).client && h.message == dag.get(v).message {
        " (the same message again)"
    } else {
        ""
    };
    line.text = format!(
        "{line}{again}; overwrite keeps only what {} saw, so {v} is orphaned",
        names.client(h.client),
        line = line.text
    );
    lines.push(line);
    lines
}

/// The lines telling how `mv` (any move but a write's) displaced `v`.
fn displacement(dag: &VersionDag, names: &Names, mv: &HeadMove, v: VersionId) -> Vec<StoryLine> {
    let store = names.component(mv.store);
    match mv.cause {
        HeadCause::Write => overwrite(dag, names, mv.to, v),
        HeadCause::LostRace => {
            let (lost, head) = (dag.get(mv.to), dag.get(mv.from));
            let text = format!(
                "{store} keeps {} as head: its timestamp is {} ahead of {v}'s, so last-write-wins \
                 discards {v}",
                mv.from,
                signed(head.stamp - lost.stamp)
            );
            vec![StoryLine::at(mv.at.as_nanos(), mv.event, text)]
        }
        HeadCause::Crash { snapshot_at } => {
            let text = format!(
                "{store} crashes; it restarts from its snapshot of {}, where key {} is at {}",
                super::verdict::seconds(snapshot_at.as_nanos()),
                dag.get(v).key,
                mv.to
            );
            vec![StoryLine::at(mv.at.as_nanos(), mv.event, text)]
        }
        HeadCause::Failover { replica, behind } => {
            let text = format!(
                "{store} fails over to replica {replica}, {behind} write{} behind the old \
                 primary; it holds {} for key {}: {v} never reached it",
                if behind == 1 { "" } else { "s" },
                mv.to,
                dag.get(v).key
            );
            vec![StoryLine::at(mv.at.as_nanos(), mv.event, text)]
        }
        HeadCause::SplitBrain { term, deposed_at, deposed_event } => {
            story::split_brain(store, term, (deposed_at, deposed_event))
        }
        HeadCause::LastWriteWins { from_leader, at_leader } => {
            let (held, took) = (dag.get(mv.from), dag.get(mv.to));
            let text = format!(
                "{store}'s leader {at_leader} receives {} from leader {from_leader}, written \
                 without {v}: its timestamp is {} ahead of {}'s, so last-write-wins between \
                 leaders replaces {} and {v} is discarded",
                mv.to,
                signed(took.stamp - held.stamp),
                mv.from,
                mv.from
            );
            vec![StoryLine::at(mv.at.as_nanos(), mv.event, text)]
        }
    }
}

fn signed(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    format!("{sign}{}", duration(ns.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::verdict::Verdict;

    #[test]
    fn an_overwrite_based_on_a_stale_read_loses_the_acknowledged_write() {
        let mut h = Hist::new(vec![Box::<LostWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let stale = h.read(0, 0, VersionId::ROOT, 1);
        let v2 = h.write_seen(0, 0, stale, OK);
        let report = h.finish_one(&[v2]);
        assert_eq!((report.verdict, report.violations, report.checked), (Verdict::Violated, 1, 2));
        let text: Vec<String> = report.story.iter().map(|l| l.text.clone()).collect();
        assert!(text.iter().any(|t| t.contains(&format!("{v1} is orphaned"))), "{text:#?}");
        assert!(text.last().unwrap().contains("lost"));
    }

    #[test]
    fn writes_on_top_of_the_head_lose_nothing() {
        let mut h = Hist::new(vec![Box::<LostWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let v2 = h.write(0, 0, v1, OK);
        let report = h.finish_one(&[v2]);
        assert_eq!((report.verdict, report.checked), (Verdict::Holds, 2));
        assert!(report.story.is_empty());
    }

    #[test]
    fn a_write_that_loses_the_timestamp_race_is_lost_and_says_why() {
        let mut h = Hist::new(vec![Box::<LostWrites>::default()]);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let v2 = h.write_losing_race(1, 0, v1);
        let report = h.finish_one(&[v1]);
        assert_eq!(report.violations, 1);
        assert!(report.story.iter().any(|l| l.text.contains(&format!("discards {v2}"))));
    }
}
