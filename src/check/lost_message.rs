//! **Lost acknowledged message**: every message a producer was told is written is in
//! its partition's log at the end. A leader that acknowledges before its followers hold
//! a message (acks=1), or an election that hands leadership to a replica lacking it (an
//! unclean election), cuts acknowledged messages away; with acks=all, enough in-sync
//! replicas and clean elections, none is lost. The log is append-only: a message is
//! kept only if it is itself in the log, never because a later one is.
//!
//! Figures: messages sent, acknowledged, lost, failed for good (never acknowledged),
//! cut away by elections in all, and the time from a message's first send to its
//! acknowledgement (`ack_latency_*`).

use std::collections::BTreeSet;

use super::checks::{End, EndCheck};
use super::histogram::Histogram;
use super::log_book::{LogBook, MessageRecord, Truncation};
use super::verdict::{CheckReport, StoryLine};

/// The lost-acknowledged-message checker.
#[derive(Debug, Default)]
pub struct LostMessages;

impl EndCheck for LostMessages {
    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let book = end.logs;
        let kept: BTreeSet<u32> = book.logs().flat_map(|(_, log)| log.iter().copied()).collect();
        let messages = book.messages();
        let acked = || messages.iter().enumerate().filter(|(_, m)| m.acked.is_some());
        let lost: Vec<u32> = acked()
            .filter(|(id, _)| !kept.contains(&(*id as u32)))
            .map(|(id, _)| id as u32)
            .collect();
        let mut latency = Histogram::default();
        for acked_at in messages.iter().filter_map(|m| m.acked.map(|a| a.at.since(m.sent.at))) {
            latency.record(acked_at.as_nanos());
        }
        let checked = acked().count() as u64;
        let mut r = CheckReport::new(
            "lost_acknowledged_message",
            lost.len() as u64,
            checked,
            "acknowledged messages",
        );
        let cut: usize = book.truncations().iter().map(|t| t.removed.len()).sum();
        r.figures.insert("sent", messages.len() as u64);
        r.figures.insert("acknowledged", checked);
        r.figures.insert("lost", lost.len() as u64);
        r.figures.insert("never_acknowledged", messages.len() as u64 - checked);
        r.figures.insert("cut_by_elections", cut as u64);
        r.figures.insert("ack_latency_p50_ns", latency.quantile(0.50));
        r.figures.insert("ack_latency_p99_ns", latency.quantile(0.99));
        r.distribution = Some(latency);
        let first =
            lost.iter().copied().min_by_key(|&id| book.message(id).acked.map(|a| (a.at, a.event)));
        if let Some(id) = first {
            r.story = tell(id, lost.len(), book, end);
        }
        r
    }
}

/// The story of a lost message: sent, appended, acknowledged, cut away.
fn tell(id: u32, lost: usize, book: &LogBook, end: &End<'_>) -> Vec<StoryLine> {
    let m: &MessageRecord = book.message(id);
    let names = end.names;
    let (producer, log) = (names.component(m.producer), names.component(m.log));
    let what = format!("message m{id} (key {}, partition {})", m.key, m.partition);
    let mut lines =
        vec![StoryLine::at(m.sent.at.as_nanos(), m.sent.event, format!("{producer} sends {what}"))];
    if let Some((when, broker, offset)) = m.appended {
        let text =
            format!("{log} broker {broker}, the partition's leader, appends it at offset {offset}");
        lines.push(StoryLine::at(when.at.as_nanos(), when.event, text));
    }
    if let Some(a) = m.acked {
        let text = match m.appended {
            Some((w, ..)) if w.at <= a.at => format!("{producer} is told m{id} is written"),
            _ => format!("{producer} counts m{id} written as it sends it (acks=0)"),
        };
        lines.push(StoryLine::at(a.at.as_nanos(), a.event, text));
    }
    let cut: Option<&Truncation> = book.truncations().iter().find(|t| t.removed.contains(&id));
    let ending = match cut {
        Some(t) => {
            let how = if t.unclean {
                "an out-of-sync replica (unclean election)"
            } else {
                "the in-sync replica"
            };
            let text = format!(
                "broker {} becomes the leader of partition {}: {how}, which holds {} messages; \
                 the {} after them, m{id} among them, are cut from the log",
                t.leader,
                t.partition,
                t.keep,
                t.removed.len()
            );
            lines.push(StoryLine::at(t.when.at.as_nanos(), t.when.event, text));
            format!(
                "m{id} was acknowledged and is not in the log ({lost} acknowledged messages lost in all)"
            )
        }
        None => format!(
            "m{id} was counted written and never reached the log ({lost} acknowledged messages lost in all)"
        ),
    };
    lines.push(StoryLine::end(ending));
    lines
}
