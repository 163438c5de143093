//! **Propagation**: how long each edit takes to reach the other editors of its
//! document, from the moment the store wrote it to the moment each other editor's page
//! shows it. This is the real-time promise of a collaborative editor; servers that
//! learn of each other's edits by polling the database keep it only to within the
//! polling interval. A page shows a version and everything under it, so a poll that
//! bundles ten edits into one push times all ten, each from its own write, and an
//! editor's own edit, answered with the merged document, shows the edits merged into
//! it. Reports the distribution; with `propagation_bound`, every edit that reached an
//! editor later than the bound is a violation, and so is every edit that never reached
//! an editor that was there for it (its page still lacks it at the end, although its
//! server reached the page more than the bound after the edit was written).
//!
//! Only pages that receive pushes are timed (an editor's, from its first push on): a
//! chat tab that reads its conversation has no real-time promise to keep. Edits
//! written before an editor opened the document are its history, not news, and edits
//! a (re)load brings are caught up, not propagated: the editor was away (disconnected,
//! or reconnecting after a server or database outage) when they were written.

use std::collections::BTreeSet;

use super::checks::{Check, End, Push};
use super::histogram::Histogram;
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::{CheckReport, StoryLine, duration};
use super::versions::{VersionDag, VersionId};
use crate::engine::{SimDuration, SimTime};

/// What one editor's page shows.
#[derive(Debug, Clone, Default)]
struct Page {
    /// The document.
    key: u32,
    /// What the page shows: every edit under it has been accounted for.
    shown: VersionId,
    /// Others' edits the page showed and then lost, when a push or an own write's
    /// answer replaced it with a version of another branch (last-write-wins): timed
    /// once, they are not timed again if the page regains them.
    hidden: BTreeSet<VersionId>,
    /// When the editor first asked for the document.
    opened: SimTime,
    /// Whether pushes reach it: only then are arrivals timed.
    live: bool,
    /// When a push or an own write's answer last reached it: the page was connected.
    heard: SimTime,
}

/// How an edit reached a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivedBy {
    /// A server pushed a version that includes it (the server's component id).
    Push(u32),
    /// The editor's own write was answered with a version that includes it.
    OwnWrite,
}

/// An edit that reached another editor's page.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// The editor (client index).
    pub editor: u32,
    /// The edit.
    pub edit: VersionId,
    /// The version the page showed, which includes the edit.
    pub shown: VersionId,
    /// How it arrived.
    pub by: ArrivedBy,
    /// When, and the event.
    pub at: SimTime,
    /// The event that showed it.
    pub event: u64,
    /// From its write (or the page's opening, if later) to the page showing it (ns).
    pub delay: u64,
}

/// An edit an editor's page never showed.
#[derive(Debug, Clone, Copy)]
pub struct Missed {
    /// The editor (client index).
    pub editor: u32,
    /// The edit.
    pub edit: VersionId,
    /// What the page showed at the end.
    pub shown: VersionId,
}

/// When each edit reaches each other editor's page: the pages editors show, kept from
/// their reads, own writes and pushes.
#[derive(Debug, Default)]
pub struct EditArrivals {
    /// By client index.
    pages: Vec<Page>,
    /// The edits a sighting brought, reused.
    brought: Vec<VersionId>,
}

impl EditArrivals {
    /// Reports what every page shows and what it showed and lost.
    pub fn versions_held(&self, held: &mut dyn FnMut(VersionId)) {
        for page in &self.pages {
            held(page.shown);
            page.hidden.iter().copied().for_each(&mut *held);
        }
        self.brought.iter().copied().for_each(held);
    }

    /// A client's completed operation: a read (re)loads the page, an own write's
    /// answer shows on it. Edits it shows for the first time go to `out`.
    pub fn observe(&mut self, op: &OpRecord, dag: &mut VersionDag, out: &mut Vec<Arrival>) {
        let kind = op.kind();
        if op.outcome != Outcome::Ok
            || !op.inv.purpose.in_session()
            || !op.inv.purpose.one_key()
            || !matches!(kind, OpKind::Read | OpKind::Write)
        {
            return;
        }
        let client = op.client() as usize;
        if client >= self.pages.len() {
            self.pages.resize(client + 1, Page::default());
        }
        let page = &mut self.pages[client];
        if page.key != op.inv.key || page.opened == SimTime::ZERO {
            *page = Page { key: op.inv.key, opened: op.inv.invoked, ..Page::default() };
        }
        // A (re)load catches the page up: what it brings did not propagate, the editor
        // was away or had just opened the document.
        let by = (kind == OpKind::Write).then_some(ArrivedBy::OwnWrite);
        self.show(op.client(), op.version, by, (op.completed, op.complete_event), dag, out);
    }

    /// A push reached an editor: its page is live from now on.
    pub fn push(&mut self, push: &Push, dag: &mut VersionDag, out: &mut Vec<Arrival>) {
        let Some(page) = self.pages.get_mut(push.client as usize).filter(|p| p.key == push.key)
        else {
            return; // The editor never loaded the document: nothing to time from.
        };
        page.live = true;
        let by = ArrivedBy::Push(push.server);
        self.show(push.client, push.version, Some(by), (push.at, push.event), dag, out);
    }

    /// Editor `client`'s page shows `version`: the other editors' edits under it that
    /// it had not shown, timed when the page is live and they came `by` a push or an
    /// own write (`None`: a load).
    fn show(
        &mut self,
        client: u32,
        version: VersionId,
        by: Option<ArrivedBy>,
        (at, event): (SimTime, u64),
        dag: &mut VersionDag,
        out: &mut Vec<Arrival>,
    ) {
        let page = &mut self.pages[client as usize];
        if by.is_some() {
            page.heard = at;
        }
        if let (true, Some(by)) = (page.live, by) {
            self.brought.clear();
            dag.displaced(version, page.shown, &mut self.brought);
            for &edit in self.brought.iter().rev() {
                let v = dag.record(edit);
                let news = v.client != client && v.purpose.in_session() && v.created >= page.opened;
                if news && !page.hidden.remove(&edit) {
                    let delay = at.since(v.created).as_nanos();
                    out.push(Arrival {
                        editor: client,
                        edit,
                        shown: version,
                        by,
                        at,
                        event,
                        delay,
                    });
                }
            }
        }
        if dag.includes(version, page.shown) {
            page.shown = version;
        } else if by.is_some() {
            // The server replaced the page with another branch: what it showed and this
            // version lacks is hidden, not unseen. (A stale load keeps the page as is.)
            self.brought.clear();
            dag.displaced(page.shown, version, &mut self.brought);
            let others = |e: &VersionId| dag.record(*e).client != client;
            page.hidden.extend(self.brought.iter().filter(|e| others(e)));
            page.shown = version;
        }
    }

    /// The other editors' acknowledged edits a live page never showed, although the
    /// page heard from its server (a push, an own write's answer) more than `bound`
    /// after the edit was written: the server reached the editor, the edit did not. An
    /// editor gone quiet (disconnected, or the run ended) is not held to edits written
    /// after it last heard.
    pub fn never_shown(&self, dag: &mut VersionDag, bound: SimDuration) -> Vec<Missed> {
        let mut missed = Vec::new();
        let ids: Vec<VersionId> = dag.ids().collect();
        for id in ids {
            let v = dag.get(id);
            if !v.purpose.in_session() || !v.is_acked() {
                continue;
            }
            let (key, author, created) = (v.key, v.client, v.created);
            let due = created.after(bound);
            for (editor, page) in self.pages.iter().enumerate() {
                let editor = editor as u32;
                let held =
                    page.live && page.key == key && page.opened <= created && page.heard > due;
                if held
                    && editor != author
                    && !page.hidden.contains(&id)
                    && !dag.includes(page.shown, id)
                {
                    missed.push(Missed { editor, edit: id, shown: page.shown });
                }
            }
        }
        missed
    }
}

/// The propagation checker.
#[derive(Debug)]
pub struct Propagation {
    bound: Option<SimDuration>,
    delays: Histogram,
    violations: u64,
    /// The latest arrival.
    worst: Option<Arrival>,
}

impl Propagation {
    /// A checker with an optional bound.
    pub fn new(bound: Option<SimDuration>) -> Self {
        Propagation { bound, delays: Histogram::default(), violations: 0, worst: None }
    }

    fn arrival_story(end: &End<'_>, a: &Arrival) -> Vec<StoryLine> {
        let (editor, edit, shown) = (end.names.client(a.editor), a.edit, a.shown);
        let within = if edit == shown { String::new() } else { format!(" in {shown}") };
        let how = match a.by {
            ArrivedBy::Push(server) => {
                format!(
                    "{} pushes {edit}{within} to {editor}'s open document",
                    end.names.component(server)
                )
            }
            ArrivedBy::OwnWrite => {
                format!("{editor}'s own edit is answered with {shown}, which includes {edit}")
            }
        };
        let text = format!("{how}: {} after it was written", duration(a.delay));
        vec![
            story::created(end.dag, edit, end.names),
            StoryLine::at(a.at.as_nanos(), a.event, text),
        ]
    }

    fn missed_story(end: &End<'_>, m: &Missed) -> Vec<StoryLine> {
        let text = format!(
            "{}'s page never shows {}: it ends at {}, which lacks it",
            end.names.client(m.editor),
            m.edit,
            m.shown
        );
        vec![story::created(end.dag, m.edit, end.names), StoryLine::end(text)]
    }
}

impl Check for Propagation {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.worst.iter().flat_map(|a| [a.edit, a.shown]).for_each(held);
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_arrival(&mut self, arrival: &Arrival) {
        let delay = arrival.delay;
        self.delays.record(delay);
        if self.bound.is_some_and(|b| delay > b.as_nanos()) {
            self.violations += 1;
        }
        if self.worst.is_none_or(|w| delay > w.delay) {
            self.worst = Some(*arrival);
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let missed = match self.bound {
            Some(b) => end.arrivals.never_shown(end.dag, b),
            None => Vec::new(),
        };
        let h = &self.delays;
        let (violations, checked) =
            (self.violations + missed.len() as u64, h.count() + missed.len() as u64);
        let mut r = CheckReport::new("propagation", violations, checked, "edit arrivals")
            .bounded_by(self.bound);
        r.figures.insert("p50_ns", h.quantile(0.50));
        r.figures.insert("p99_ns", h.quantile(0.99));
        r.figures.insert("max_ns", h.max());
        if let Some(b) = self.bound {
            r.figures.insert("bound_ns", b.as_nanos());
            r.figures.insert("never_shown", missed.len() as u64);
        }
        // The latest arrival tells the story when one was late; else an edit never shown.
        r.story = match (&self.worst, missed.first()) {
            (Some(a), _) if self.violations > 0 => Self::arrival_story(end, a),
            (_, Some(m)) => Self::missed_story(end, m),
            _ => Vec::new(),
        };
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{Hist, OK};
    use crate::check::{CheckSpec, VersionId};
    use crate::engine::SimTime;

    fn push(client: u32, version: VersionId, at_ms: u64) -> Push {
        Push { client, key: 0, version, server: 0, at: SimTime(at_ms * 1_000_000), event: at_ms }
    }

    #[test]
    fn every_edit_a_push_brings_is_timed_from_its_own_write() {
        let bound = Some(SimDuration::from_millis(500));
        let mut h = Hist::with(&[CheckSpec::Propagation(bound)]);
        h.read(1, 0, VersionId::ROOT, 1); // Editors 1 and 2 open the empty document.
        h.read(2, 0, VersionId::ROOT, 1);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        let v2 = h.write(0, 0, v1, OK);
        let v3 = h.write(0, 0, v2, OK);
        // A poll bundles the three edits into one push: each is timed, not only v3.
        h.h.pushed(push(1, v3, 100));
        h.h.pushed(push(2, v3, 2_000));
        h.h.pushed(push(0, v3, 2_000)); // The author's own edits: nothing to time.
        let report = h.finish_one(&[v3]);
        assert_eq!((report.violations, report.checked), (3, 6));
        assert!(report.figures["max_ns"] > 1_990_000_000, "{report:?}");
        let story = &report.story[1].text;
        let told = format!("db pushes {v1} in {v3} to client/2's open document: 1.99s after");
        assert!(story.starts_with(&told), "{story}");
    }

    #[test]
    fn an_own_edit_answered_with_a_merge_shows_the_edits_under_it() {
        let mut h = Hist::with(&[CheckSpec::Propagation(None)]);
        h.read(1, 0, VersionId::ROOT, 1); // Editor 1 opens the document at 1 ms.
        h.h.pushed(push(1, VersionId::ROOT, 3)); // Its connection is live.
        let v1 = h.write(0, 0, VersionId::ROOT, OK); // Editor 0's edit, written at 5 ms.
        let v2 = h.write(1, 0, v1, OK); // Editor 1's edit, merged on top of it.
        let report = h.finish_one(&[v2]);
        assert_eq!(report.checked, 1, "v1 arrives with the answer to v2, v2 is its own");
        assert!(report.figures["max_ns"] < 10_000_000, "{report:?}");
    }

    #[test]
    fn a_live_page_that_never_shows_an_edit_is_a_violation_under_a_bound() {
        let bound = Some(SimDuration::from_millis(500));
        let mut h = Hist::with(&[CheckSpec::Propagation(bound)]);
        for editor in [1, 2] {
            h.read(editor, 0, VersionId::ROOT, 1);
            h.h.pushed(push(editor, VersionId::ROOT, 10)); // Both pages are live.
        }
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        // Editor 1's server reaches it 2 s later, without v1; editor 2's never again
        // (it went away), so editor 2 is not held to v1.
        h.h.pushed(push(1, VersionId::ROOT, 2_000));
        let report = h.finish_one(&[v1]);
        assert_eq!((report.violations, report.checked), (1, 1));
        assert_eq!(report.figures["never_shown"], 1);
        let story: Vec<&str> = report.story.iter().map(|l| l.text.as_str()).collect();
        assert!(story[1].contains(&format!("client/1's page never shows {v1}")), "{story:?}");
    }

    #[test]
    fn a_page_moved_to_another_branch_times_each_edit_once() {
        let mut h = Hist::with(&[CheckSpec::Propagation(None)]);
        h.read(1, 0, VersionId::ROOT, 1);
        h.h.pushed(push(1, VersionId::ROOT, 10));
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.h.pushed(push(1, v1, 20)); // Timed.
        let v2 = h.write(2, 0, VersionId::ROOT, OK); // Last write wins: another branch.
        h.h.pushed(push(1, v2, 30)); // v2 timed; v1 hidden, not unseen.
        let v3 = h.write(2, 0, v2, OK);
        h.h.pushed(push(1, v3, 40));
        let report = h.finish_one(&[v3]);
        assert_eq!(report.checked, 3, "v1, v2 and v3 once each: {report:?}");
    }
}
