//! **Partition order**: within a partition, each producer's messages are in the log in
//! the order it sent them. A producer with several requests in flight whose earlier
//! request fails and is retried lands that message behind later ones, unless it is
//! idempotent (the log then writes each producer's messages only in sequence). A
//! message in the log twice (a retry of one already written) is counted as a duplicate
//! here; whether a consumer processed it twice is `processing`'s to judge.

use std::collections::{BTreeMap, BTreeSet};

use super::checks::{End, EndCheck};
use super::log_book::LogBook;
use super::verdict::{CheckReport, StoryLine};

/// The partition-order checker.
#[derive(Debug, Default)]
pub struct PartitionOrder;

/// A message found behind a later one of its producer: (log, partition), its offset
/// and id, and the later message's offset and id.
type Overtaken = ((u32, u16), (u32, u32), (u32, u32));

impl EndCheck for PartitionOrder {
    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let book = end.logs;
        let (mut checked, mut duplicates, mut out_of_order) = (0u64, 0u64, 0u64);
        let mut first: Option<Overtaken> = None;
        for (&at, log) in book.logs() {
            let mut newest: BTreeMap<u32, (u32, u32, u32)> = BTreeMap::new(); // producer → (seq, offset, id)
            let mut seen = BTreeSet::new();
            for (offset, &id) in log.iter().enumerate() {
                checked += 1;
                if !seen.insert(id) {
                    duplicates += 1;
                    continue;
                }
                let m = book.message(id);
                let top = newest.entry(m.producer).or_insert((m.seq, offset as u32, id));
                if m.seq < top.0 {
                    out_of_order += 1;
                    first.get_or_insert((at, (offset as u32, id), (top.1, top.2)));
                } else {
                    *top = (m.seq, offset as u32, id);
                }
            }
        }
        let mut r = CheckReport::new("partition_order", out_of_order, checked, "messages in logs");
        r.figures.insert("out_of_order", out_of_order);
        r.figures.insert("duplicates_in_log", duplicates);
        if let Some(o) = first {
            r.story = tell(o, out_of_order, book, end);
        }
        r
    }
}

/// The story of a message overtaken by a later one of its producer.
fn tell(o: Overtaken, n: u64, book: &LogBook, end: &End<'_>) -> Vec<StoryLine> {
    let ((_, partition), (offset, id), (later_offset, later)) = o;
    let (m, l) = (book.message(id), book.message(later));
    let producer = end.names.component(m.producer);
    let sent = |x: u32, seq: u32, at: &super::log_book::Stamp| {
        StoryLine::at(
            at.at.as_nanos(),
            at.event,
            format!("{producer} sends m{x}, its message {seq} to partition {partition}"),
        )
    };
    let mut lines = vec![sent(id, m.seq, &m.sent), sent(later, l.seq, &l.sent)];
    let text = format!(
        "partition {partition} holds m{later} at offset {later_offset} and m{id} behind it at \
         offset {offset}: m{id}'s first attempt failed, and its retry landed after the later \
         message ({n} out of order in all; an idempotent producer writes in sequence)"
    );
    lines.push(StoryLine::end(text));
    lines
}
