//! **Processing**: every consumer group processes every message in the log it reads,
//! once. A message the group read past without processing is lost (a member committed
//! it before processing and crashed, or an unclean election moved the log under the
//! group); one processed twice is a duplicate (a member processed it and crashed before
//! committing, or the log holds it twice), a violation unless the scenario declares
//! at-least-once processing (`at_least_once: true`), and counted either way. Messages
//! beyond the last one a group processed in a partition are its backlog at the end, not
//! losses. The time from a message's append to its processing is reported
//! (`latency_*`): the group's lag. Queue workers take a queue's messages in any
//! order: a message they never processed is lost only if the queue dead-lettered it
//! (`dead_lettered`), and otherwise left at the end. With `processing_bound` set, a message processed
//! later than the bound after its append is a violation, and so is one still waiting at
//! the end of the run's duration for longer than the bound (a group that cannot keep
//! up).

use super::checks::{End, EndCheck};
use super::histogram::Histogram;
use super::log_book::{LogBook, ProcessedTimes};
use super::verdict::{CheckReport, StoryLine, duration};
use crate::engine::{SimDuration, SimTime};

/// The processing checker.
#[derive(Debug, Default)]
pub struct GroupProcessing {
    at_least_once: bool,
    bound: Option<SimDuration>,
}

impl GroupProcessing {
    /// A checker; `at_least_once` allows duplicates (they are still counted); `bound`
    /// is the longest a message may wait to be processed.
    pub fn new(at_least_once: bool, bound: Option<SimDuration>) -> Self {
        GroupProcessing { at_least_once, bound }
    }
}

/// What one group did with its log.
#[derive(Debug, Default)]
struct GroupTally {
    expected: u64,
    lost: Vec<(u16, u32, u32)>,
    backlog: u64,
    /// Messages processed later than the bound, or waiting past it at the end, and the
    /// first of them: (message, how long it waited).
    late: u64,
    first_late: Option<(u32, SimDuration)>,
}

/// Group `group`'s reading of `log`: what it lost, what is left, what came late.
fn tally(
    group: u32,
    log: u32,
    book: &LogBook,
    bound: Option<SimDuration>,
    ended: SimTime,
) -> GroupTally {
    let times = book.processed_times();
    let mut t = GroupTally::default();
    for (&(_, partition), entries) in book.logs().filter(|((l, _), _)| *l == log) {
        let done = |id: u32| times.get(&(group, id));
        // A queue's workers take messages in any order: only a dead letter is lost.
        let queue = book.is_queue(log);
        let last = book.reached(group, partition).map(|o| o as usize).filter(|_| !queue);
        for (offset, &id) in entries.iter().enumerate() {
            t.expected += 1;
            let skipped =
                |last: Option<usize>| last.is_some_and(|l| offset < l) || book.is_dead(id);
            let handled = done(id).map(|p| p.first[0].when).or(book.skipped_at(group, id));
            let finished = match handled {
                Some(when) => when.at,
                None if skipped(last) => {
                    t.lost.push((partition, offset as u32, id));
                    continue;
                }
                None => {
                    t.backlog += 1;
                    ended
                }
            };
            let (Some(bound), Some((appended, ..))) = (bound, book.message(id).appended) else {
                continue;
            };
            if appended.at >= ended {
                continue; // Appended in the drain: nothing to hold it to.
            }
            let waited = finished.since(appended.at);
            if waited > bound {
                t.late += 1;
                t.first_late.get_or_insert((id, waited));
            }
        }
    }
    t
}

impl EndCheck for GroupProcessing {
    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let book = end.logs;
        let times = book.processed_times();
        let (mut expected, mut backlog, mut late) = (0u64, 0u64, 0u64);
        let (mut lost, mut first_late) = (Vec::new(), None);
        for (&group, &log) in book.groups() {
            let t = tally(group, log, book, self.bound, end.ended);
            expected += t.expected;
            backlog += t.backlog;
            late += t.late;
            lost.extend(t.lost.into_iter().map(|l| (group, l)));
            first_late = first_late.or(t.first_late.map(|(id, w)| (group, id, w)));
        }
        let mut latency = Histogram::default();
        let mut duplicates = 0u64;
        let mut first_twice: Option<(u32, u32, ProcessedTimes)> = None;
        for (&(group, id), p) in times {
            if let Some((appended, ..)) = book.message(id).appended {
                latency.record(p.first[0].when.at.since(appended.at).as_nanos());
            }
            if p.times > 1 {
                duplicates += u64::from(p.times - 1);
                let earlier =
                    first_twice.is_none_or(|(_, _, f)| p.first[1].when.at < f.first[1].when.at);
                if earlier {
                    first_twice = Some((group, id, *p));
                }
            }
        }
        let violations = lost.len() as u64 + late + if self.at_least_once { 0 } else { duplicates };
        let mut r = CheckReport::new("processing", violations, expected, "messages × groups");
        r.figures.insert("groups", book.groups().len() as u64);
        r.figures.insert("expected", expected);
        r.figures.insert("lost", lost.len() as u64);
        r.figures.insert("duplicates", duplicates);
        r.figures.insert("backlog_at_end", backlog);
        let dead = lost.iter().filter(|(_, (_, _, id))| book.is_dead(*id)).count();
        r.figures.insert("dead_lettered", dead as u64);
        if self.bound.is_some() {
            r.figures.insert("late", late);
        }
        r.figures.insert("latency_p50_ns", latency.quantile(0.50));
        r.figures.insert("latency_p99_ns", latency.quantile(0.99));
        r.figures.insert("latency_max_ns", latency.max());
        r.distribution = Some(latency);
        if let Some(&(group, (partition, offset, id))) = lost.first() {
            r.story = tell_lost(group, partition, offset, id, lost.len(), end);
        } else if let (Some((group, id, p)), false) = (first_twice, self.at_least_once) {
            r.story = tell_twice(group, id, &p, duplicates, end);
        } else if let (Some((group, id, waited)), Some(bound)) = (first_late, self.bound) {
            r.story = tell_late(group, id, waited, (bound, late), end);
        }
        r
    }
}

fn tell_lost(
    group: u32,
    partition: u16,
    offset: u32,
    id: u32,
    lost: usize,
    end: &End<'_>,
) -> Vec<StoryLine> {
    let m = end.logs.message(id);
    let (queue, group) = (end.logs.is_queue(m.log), end.names.component(group));
    let mut lines = Vec::new();
    if let Some((when, broker, _)) = m.appended {
        let text = match queue {
            true => format!("{} accepts m{id}", end.names.component(m.log)),
            false => format!("broker {broker} appends m{id} to partition {partition}"),
        };
        lines.push(StoryLine::at(when.at.as_nanos(), when.event, text));
    }
    if queue {
        let text = format!(
            "{group} never processes m{id}: received again and again, it was never deleted \
             within its visibility timeout, and the queue moved it to its dead-letter queue \
             ({lost} lost in all)"
        );
        lines.push(StoryLine::end(text));
        return lines;
    }
    let text = format!(
        "{group} never processes m{id} at offset {offset} of partition {partition}, though it \
         processed later offsets: the offset was committed before the message was processed, \
         and the member processing it crashed ({lost} lost in all)"
    );
    lines.push(StoryLine::end(text));
    lines
}

fn tell_late(
    group: u32,
    id: u32,
    waited: SimDuration,
    (bound, late): (SimDuration, u64),
    end: &End<'_>,
) -> Vec<StoryLine> {
    let m = end.logs.message(id);
    let group = end.names.component(group);
    let mut lines = Vec::new();
    if let Some((when, broker, offset)) = m.appended {
        let text = format!(
            "broker {broker} appends m{id} to partition {} at offset {offset}",
            m.partition
        );
        lines.push(StoryLine::at(when.at.as_nanos(), when.event, text));
    }
    let text = format!(
        "{group} takes {} to process m{id}, past the bound of {} ({late} messages late in all): \
         the group processes more slowly than messages arrive, and its lag grows",
        duration(waited.as_nanos()),
        duration(bound.as_nanos())
    );
    lines.push(StoryLine::end(text));
    lines
}

fn tell_twice(
    group: u32,
    id: u32,
    p: &ProcessedTimes,
    duplicates: u64,
    end: &End<'_>,
) -> Vec<StoryLine> {
    let group = end.names.component(group);
    let line = |i: usize, what: &str| {
        let x = p.first[i];
        let text =
            format!("{group} member {} processes m{id} (offset {}){what}", x.member, x.offset);
        StoryLine::at(x.when.at.as_nanos(), x.when.event, text)
    };
    let text = format!(
        "m{id} processed twice ({duplicates} duplicates in all): the group resumed from an \
         offset committed before it processed m{id}, or the log holds m{id} twice, and it \
         does not skip what it processed"
    );
    vec![line(0, ""), line(1, " again"), StoryLine::end(text)]
}
