//! **Propagation**: how long an edit takes to reach the other editors of its document,
//! from the moment the store wrote it to the moment a server's push of it arrives at an
//! editor that had not seen it. This is the real-time promise of a collaborative editor;
//! servers that learn of each other's edits by polling the database keep it only to
//! within the polling interval. Reports the distribution; with `propagation_bound`,
//! every push later than the bound is a violation.

use super::checks::{Check, End, Push};
use super::histogram::Histogram;
use super::story;
use super::verdict::{CheckReport, StoryLine, duration};
use super::versions::VersionDag;
use crate::engine::SimDuration;

/// The propagation checker.
#[derive(Debug)]
pub struct Propagation {
    bound: Option<SimDuration>,
    delays: Histogram,
    violations: u64,
    /// The latest push, and how late it was.
    worst: Option<(Push, u64)>,
}

impl Propagation {
    /// A checker with an optional bound.
    pub fn new(bound: Option<SimDuration>) -> Self {
        Propagation { bound, delays: Histogram::default(), violations: 0, worst: None }
    }
}

impl Check for Propagation {
    fn uses_sessions(&self) -> bool {
        false
    }

    fn on_push(&mut self, push: &Push, dag: &mut VersionDag) {
        let delay = push.at.since(dag.get(push.version).created).as_nanos();
        self.delays.record(delay);
        if self.bound.is_some_and(|b| delay > b.as_nanos()) {
            self.violations += 1;
        }
        if self.worst.is_none_or(|(_, w)| delay > w) {
            self.worst = Some((*push, delay));
        }
    }

    fn finish(&mut self, end: &mut End<'_>) -> CheckReport {
        let h = &self.delays;
        let mut r = CheckReport::new("propagation", self.violations, h.count(), "pushes")
            .bounded_by(self.bound);
        r.figures.insert("p50_ns", h.quantile(0.50));
        r.figures.insert("p99_ns", h.quantile(0.99));
        r.figures.insert("max_ns", h.max());
        if let Some(b) = self.bound {
            r.figures.insert("bound_ns", b.as_nanos());
        }
        if let (Some((push, delay)), true) = (&self.worst, self.violations > 0) {
            let text = format!(
                "{} pushes {} to {}'s open document, {} after it was written",
                end.names.component(push.server),
                push.version,
                end.names.client(push.client),
                duration(*delay)
            );
            r.story = vec![
                story::created(end.dag, push.version, end.names),
                StoryLine::at(push.at.as_nanos(), push.event, text),
            ];
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{Hist, OK};
    use crate::check::{CheckSpec, VersionId};
    use crate::engine::SimTime;

    #[test]
    fn pushes_later_than_the_bound_are_violations_and_the_latest_tells_the_story() {
        let bound = Some(SimDuration::from_millis(500));
        let mut h = Hist::with(&[CheckSpec::Propagation(bound)]);
        let v = h.write(0, 0, VersionId::ROOT, OK); // Written at 2 ms.
        let push = |client, at_ms: u64| Push {
            client,
            key: 0,
            version: v,
            server: 0,
            at: SimTime(at_ms * 1_000_000),
            event: 100 + at_ms,
        };
        h.h.pushed(push(1, 102)); // 100 ms after the write.
        h.h.pushed(push(2, 2002)); // 2 s after.
        let report = h.finish_one(&[v]);
        assert_eq!((report.violations, report.checked), (1, 2));
        assert_eq!(report.figures["max_ns"], 2_000_000_000);
        assert!(
            report.story[1].text.contains("client/2's open document, 2.00s after"),
            "{report:?}"
        );
    }
}
