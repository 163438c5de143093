//! **Delivery**: every change the design says is published reaches every subscriber,
//! once. A write is to be published when the service that made it publishes after the
//! write (`publish` later in its handler) or commits an event with it (`call(...,
//! outbox: true)`); its version, once the store commits it, is *expected*. Each consumer
//! subscribed to the topic must then process it: an expected version a consumer never
//! processed is a lost event (the service crashed between the write and the publish,
//! a relay never sent it); one processed twice is a duplicate, a violation unless the
//! scenario declares at-least-once delivery (`at_least_once: true`), and counted either
//! way. A consumer that deduplicates (`idempotent: true`) processes a redelivery as
//! nothing. The time from a change's commit to each consumer's first processing of it
//! is reported (`latency_*`): the cost of a relay's polling.

use std::collections::{BTreeMap, BTreeSet};

use super::checks::{Check, End};
use super::histogram::Histogram;
use super::story;
use super::verdict::{CheckReport, Names, StoryLine, seconds};
use super::versions::VersionId;
use crate::engine::SimTime;

/// A consumer processing an event, as it reports it.
#[derive(Debug, Clone, Copy)]
pub struct Processed {
    /// The consumer (component id).
    pub consumer: u32,
    /// The key.
    pub key: u32,
    /// The version the event carries.
    pub version: VersionId,
    /// When.
    pub at: SimTime,
    /// The event.
    pub event: u64,
}

/// The delivery checker.
#[derive(Debug, Default)]
pub struct Delivery {
    at_least_once: bool,
    subscribers: BTreeSet<u32>,
    /// Versions to be published, and when each was committed.
    expected: BTreeMap<VersionId, SimTime>,
    /// Time from a change's commit to each consumer's first processing of it.
    latency: Histogram,
    /// Times each (version, consumer) was processed, and the first two times.
    processed: BTreeMap<(VersionId, u32), (u32, [Processed; 2])>,
}

impl Delivery {
    /// A checker; `at_least_once` allows duplicates (they are still counted).
    pub fn new(at_least_once: bool) -> Self {
        Delivery { at_least_once, ..Delivery::default() }
    }
}

impl Check for Delivery {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        self.expected.keys().copied().for_each(&mut *held);
        for (&(v, _), (_, processed)) in &self.processed {
            held(v);
            processed.iter().for_each(|p| held(p.version));
        }
        true
    }

    fn uses_sessions(&self) -> bool {
        false
    }

    fn sees_ops(&self) -> bool {
        false
    }

    fn sees_heads(&self) -> bool {
        false
    }

    fn on_subscriber(&mut self, consumer: u32) {
        self.subscribers.insert(consumer);
    }

    fn on_publishable(&mut self, version: VersionId, at: SimTime) {
        self.expected.insert(version, at);
    }

    fn on_processed(&mut self, p: &Processed) {
        let first = !self.processed.contains_key(&(p.version, p.consumer));
        if let (true, Some(&committed)) = (first, self.expected.get(&p.version)) {
            self.latency.record(p.at.since(committed).as_nanos());
        }
        let entry = self.processed.entry((p.version, p.consumer)).or_insert((0, [*p; 2]));
        if entry.0 < 2 {
            entry.1[entry.0 as usize] = *p;
        }
        entry.0 += 1;
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let mut lost = 0u64;
        let mut first_lost = None;
        for &v in self.expected.keys() {
            for &c in &self.subscribers {
                if !self.processed.contains_key(&(v, c)) {
                    lost += 1;
                    first_lost.get_or_insert((v, c));
                }
            }
        }
        let twice = self.processed.values().filter(|(n, _)| *n > 1);
        let duplicates: u64 = twice.clone().map(|(n, _)| u64::from(n - 1)).sum();
        let first_twice = twice.min_by_key(|(_, p)| (p[1].at, p[1].event)).map(|(_, p)| *p);
        let phantom = self.processed.keys().filter(|(v, _)| !self.expected.contains_key(v)).count();
        let violations = lost + if self.at_least_once { 0 } else { duplicates };
        let checked = self.expected.len() as u64 * self.subscribers.len() as u64;
        let mut r = CheckReport::new("delivery", violations, checked, "events × subscribers");
        r.figures.insert("expected", self.expected.len() as u64);
        r.figures.insert("subscribers", self.subscribers.len() as u64);
        r.figures.insert("lost", lost);
        r.figures.insert("duplicates", duplicates);
        r.figures.insert("unexpected", phantom as u64);
        r.figures.insert("latency_p50_ns", self.latency.quantile(0.50));
        r.figures.insert("latency_p99_ns", self.latency.quantile(0.99));
        r.figures.insert("latency_max_ns", self.latency.max());
        r.distribution = Some(self.latency.clone());
        if let Some((v, c)) = first_lost {
            r.story = tell_lost(v, c, lost, end);
        } else if let (Some(p), false) = (first_twice, self.at_least_once) {
            r.story = tell_twice(&p, duplicates, end.names);
        }
        r
    }
}

/// The story of an expected event a consumer never processed.
fn tell_lost(v: VersionId, consumer: u32, lost: u64, end: &End<'_>) -> Vec<StoryLine> {
    let mut lines = vec![story::created(end.dag, v, end.names)];
    let text = format!(
        "{} never processes {v}: the change was committed, and its event never reached \
         the consumer ({lost} lost in all)",
        end.names.component(consumer)
    );
    lines.push(StoryLine::end(text));
    lines
}

/// The story of an event processed twice.
fn tell_twice(p: &[Processed; 2], duplicates: u64, names: &Names) -> Vec<StoryLine> {
    let consumer = names.component(p[0].consumer);
    let line = |x: &Processed, what: &str| {
        let text = format!("{consumer} processes {} of key {}{what}", x.version, x.key);
        StoryLine::at(x.at.as_nanos(), x.event, text)
    };
    let again = format!(" again, first processed at {}", seconds(p[0].at.as_nanos()));
    let text = format!(
        "{} processed twice ({duplicates} duplicates in all): delivery was at least once and \
         the consumer does not deduplicate",
        p[0].version
    );
    vec![line(&p[0], ""), line(&p[1], &again), StoryLine::end(text)]
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Hist, OK};
    use super::*;
    use crate::check::verdict::Verdict;

    fn processed(h: &Hist, consumer: u32, version: VersionId) -> Processed {
        Processed { consumer, key: 0, version, at: h.now(), event: 0 }
    }

    #[test]
    fn an_expected_event_a_subscriber_never_processed_is_lost() {
        let mut h = Hist::new(vec![Box::new(Delivery::new(false))]);
        h.h.subscribe(1);
        h.h.subscribe(2);
        let v1 = h.write(0, 0, VersionId::ROOT, OK);
        h.h.publishable(v1, h.now());
        h.h.processed(processed(&h, 1, v1));
        let r = h.finish_one(&[v1]);
        assert_eq!((r.verdict, r.violations, r.checked), (Verdict::Violated, 1, 2));
        assert_eq!(r.figures["lost"], 1);
        assert!(r.story.last().unwrap().text.contains("never processes v1"), "{:?}", r.story);
    }

    #[test]
    fn duplicates_violate_unless_at_least_once_is_declared() {
        for (allowed, verdict) in [(false, Verdict::Violated), (true, Verdict::Holds)] {
            let mut h = Hist::new(vec![Box::new(Delivery::new(allowed))]);
            h.h.subscribe(1);
            let v1 = h.write(0, 0, VersionId::ROOT, OK);
            h.h.publishable(v1, h.now());
            h.h.processed(processed(&h, 1, v1));
            h.h.processed(processed(&h, 1, v1));
            let r = h.finish_one(&[v1]);
            assert_eq!((r.verdict, r.figures["duplicates"]), (verdict, 1), "{allowed}");
        }
    }
}
