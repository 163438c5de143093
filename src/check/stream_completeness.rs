//! **Stream completeness**: a response the server finished and persisted becomes fully
//! visible to the client that asked for it — its stream arrives whole, or the client
//! later reads a version of the conversation that includes it (recovery). A response
//! persisted but never seen whole by its client is a violation: the user believes the
//! answer was cut off although the server has it.
//!
//! Time to recovery is measured from the moment the stream broke to the read that
//! showed the response. A response is a violation once its client moves on: sends a
//! message or any other operation that is not a read, without having seen it. A
//! client that only read after the persist (the run ended while it was still looking)
//! is counted as open, not as a violation: its next look was cut off by the end.

use std::collections::BTreeMap;

use super::checks::{Check, End, SessionState, slot};
use super::histogram::Histogram;
use super::history::{OpKind, OpRecord, Outcome};
use super::story;
use super::verdict::{CheckReport, StoryLine};
use super::versions::{Sighting, VersionDag, VersionId};
use crate::engine::SimTime;

/// One response the checker follows, from the first sign of it until it is seen whole.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    /// The persisted response (`ROOT` until the server persisted it).
    response: VersionId,
    /// The client's stream broke: when, and the event.
    broke: Option<(SimTime, u64)>,
    /// The client's last read after the response was persisted that lacked it.
    missed: Option<Sighting>,
}

/// The stream completeness checker.
#[derive(Debug, Default)]
pub struct StreamCompleteness {
    /// Responses not yet seen whole, by (client, message).
    pending: BTreeMap<(u32, u32), Pending>,
    persisted: u64,
    recovered: u64,
    recovery: Histogram,
    /// Per client, when it last sent an operation of its own other than a read.
    last_moved_on: Vec<SimTime>,
}

impl StreamCompleteness {
    fn on_response(&mut self, op: &OpRecord) {
        self.persisted += 1;
        let entry = self.pending.entry((op.client(), op.inv.message)).or_default();
        entry.response = op.version;
    }

    fn on_stream(&mut self, op: &OpRecord) {
        let key = (op.client(), op.inv.message);
        match op.outcome {
            // Whole: delivered, nothing to follow.
            Outcome::Ok => {
                self.pending.remove(&key);
            }
            _ => {
                let entry = self.pending.entry(key).or_default();
                entry.broke = Some((op.completed, op.complete_event));
            }
        }
    }

    fn on_read(&mut self, op: &OpRecord, dag: &mut VersionDag) {
        let range = (op.client(), 0)..=(op.client(), u32::MAX);
        let mut seen = Vec::new();
        for (&key, p) in self.pending.range_mut(range) {
            if p.response == VersionId::ROOT {
                continue; // Not persisted yet: no read can show it.
            }
            if dag.includes(op.version, p.response) {
                seen.push(key);
                if let Some((at, _)) = p.broke {
                    self.recovery.record(op.completed.since(at).as_nanos());
                }
            } else {
                p.missed = Some(op.sighting());
            }
        }
        self.recovered += seen.len() as u64;
        for key in seen {
            self.pending.remove(&key);
        }
    }

    /// Whether a pending response counts against its client: persisted, and the client
    /// moved on (sent something other than a read) without ever seeing it whole.
    fn unseen(&self, dag: &VersionDag, client: u32, p: &Pending) -> bool {
        let last = self.last_moved_on.get(client as usize).copied().unwrap_or_default();
        p.response != VersionId::ROOT && last > dag.get(p.response).created
    }

    fn story(&self, end: &End<'_>) -> Vec<StoryLine> {
        let first = self
            .pending
            .iter()
            .filter(|&(&(client, _), p)| self.unseen(end.dag, client, p))
            .min_by_key(|(_, p)| end.dag.get(p.response).created_event);
        let Some((&(client, message), p)) = first else { return Vec::new() };
        let mut lines = Vec::with_capacity(4);
        if let Some((at, event)) = p.broke {
            let text = format!(
                "{}'s stream of the response to its message {message} breaks",
                end.names.client(client)
            );
            lines.push(StoryLine::at(at.as_nanos(), event, text));
        }
        lines.push(story::created(end.dag, p.response, end.names));
        let key = end.dag.get(p.response).key;
        let last = match &p.missed {
            Some(s) => {
                lines.push(story::sighting(
                    s,
                    client,
                    key,
                    end.names,
                    &format!(", which lacks {}", p.response),
                ));
                "its last read lacks it"
            }
            None => "it never reads the conversation again",
        };
        lines.push(StoryLine::end(format!(
            "{} moves on and never sees {} whole: {last}",
            end.names.client(client),
            p.response
        )));
        lines
    }
}

impl Check for StreamCompleteness {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        for p in self.pending.values() {
            held(p.response);
            p.missed.iter().for_each(|s| held(s.version));
        }
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, dag: &mut VersionDag) {
        if !op.inv.purpose.by_server() && op.kind() != OpKind::Read {
            let last = slot(&mut self.last_moved_on, op.client());
            *last = (*last).max(op.inv.invoked);
        }
        let persists = op.inv.purpose.info().persists_stream;
        match (op.kind(), op.outcome) {
            (_, Outcome::Ok) if persists => self.on_response(op),
            (OpKind::Stream, _) => self.on_stream(op),
            (OpKind::Read, Outcome::Ok) if !self.pending.is_empty() => self.on_read(op, dag),
            _ => {}
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let persisted = self.pending.values().filter(|p| p.response != VersionId::ROOT).count();
        let unseen = self.pending.iter().filter(|&(&(c, _), p)| self.unseen(end.dag, c, p)).count();
        let open = (persisted - unseen) as u64;
        let mut r = CheckReport::new(
            "stream_completeness",
            unseen as u64,
            self.persisted - open,
            "persisted responses",
        );
        r.figures.insert("recovered", self.recovered);
        r.figures.insert("open_at_end", open);
        if self.recovery.count() > 0 {
            r.figures.insert("recovery_p50_ns", self.recovery.quantile(0.5));
            r.figures.insert("recovery_p99_ns", self.recovery.quantile(0.99));
        }
        r.story = self.story(end);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::verdict::Verdict;

    fn checker() -> Hist {
        Hist::new(vec![Box::<StreamCompleteness>::default()])
    }

    #[test]
    fn a_whole_stream_or_a_later_read_makes_the_response_visible() {
        let mut h = checker();
        let m = h.write(0, 0, VersionId::ROOT, OK);
        let r = h.response(0, 0, 1, m);
        h.stream(0, 0, 1, OK, r);
        // Client 1's stream breaks; a read that includes the response recovers it.
        let m1 = h.write(1, 1, VersionId::ROOT, OK);
        h.stream(1, 1, 7, Outcome::Unknown, VersionId::ROOT);
        let r1 = h.response(1, 1, 7, m1);
        h.read(1, 1, r1, 1);
        let report = h.finish_one(&[r, r1]);
        assert_eq!((report.verdict, report.checked), (Verdict::Holds, 2));
        assert_eq!(report.figures["recovered"], 1);
        assert!(report.figures["recovery_p50_ns"] > 0);
    }

    #[test]
    fn a_broken_stream_never_read_again_is_a_violation_unless_the_run_ended() {
        let mut h = checker();
        let m = h.write(0, 0, VersionId::ROOT, OK);
        h.stream(0, 0, 1, Outcome::Unknown, VersionId::ROOT);
        let r = h.response(0, 0, 1, m);
        // A read that lacks the response, then the client moves on with a new message.
        h.read(0, 0, m, 1);
        let next = h.write(0, 0, m, OK);
        // Client 1's response is persisted after its last operation: open, not violated.
        let m1 = h.write(1, 1, VersionId::ROOT, OK);
        h.stream(1, 1, 5, Outcome::Unknown, VersionId::ROOT);
        let r1 = h.response(1, 1, 5, m1);
        let report = h.finish_one(&[next, r1]);
        assert_eq!((report.verdict, report.violations), (Verdict::Violated, 1));
        assert_eq!(report.figures["open_at_end"], 1);
        let story: Vec<&str> = report.story.iter().map(|l| l.text.as_str()).collect();
        assert!(story[0].contains("breaks"), "{story:?}");
        assert!(story.iter().any(|t| t.contains(&format!("lacks {r}"))), "{story:?}");
        assert!(story.last().unwrap().contains("never sees"), "{story:?}");
    }

    #[test]
    fn a_client_that_only_looked_before_the_end_is_open_not_violated() {
        let mut h = checker();
        let m = h.write(0, 0, VersionId::ROOT, OK);
        h.stream(0, 0, 1, Outcome::Unknown, VersionId::ROOT);
        let r = h.response(0, 0, 1, m);
        // Its refresh lacks the response (the replica lags), and then the run ends.
        h.read(0, 0, m, 1);
        let report = h.finish_one(&[r]);
        assert_eq!((report.verdict, report.checked), (Verdict::Holds, 0));
        assert_eq!(report.figures["open_at_end"], 1);
    }
}
