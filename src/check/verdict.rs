//! What a checker concludes: a verdict, counts, figures, and the story of one violation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::histogram::Histogram;
pub use crate::model::Verdict;

use crate::engine::NO_EVENT;
use crate::engine::time::format_nanos;

/// One line of a story: when, which event, what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StoryLine {
    /// Simulated time in ns (absent for the end-of-run line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_ns: Option<u64>,
    /// The event id (its `seq` in the trace), when one event made it happen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<u64>,
    /// What happened, in words.
    pub text: String,
}

impl StoryLine {
    /// A line at `at_ns`, made by `event` (`NO_EVENT` for none).
    pub fn at(at_ns: u64, event: u64, text: String) -> StoryLine {
        StoryLine { at_ns: Some(at_ns), event: (event != NO_EVENT).then_some(event), text }
    }

    /// The closing line, after the run.
    pub fn end(text: String) -> StoryLine {
        StoryLine { at_ns: None, event: None, text }
    }

    /// `  12.003 s  #1234  text`.
    pub fn to_text(&self) -> String {
        let at = self.at_ns.map_or_else(|| "end".to_string(), seconds);
        let event = self.event.map_or_else(String::new, |e| format!("#{e}"));
        format!("{at:>11}  {event:<10} {}", self.text)
    }
}

/// `12.003 s`: story times are simulated seconds with millisecond precision.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:03} s", ns / 1_000_000_000, ns / 1_000_000 % 1000)
}

/// A duration in human units, for story text.
pub fn duration(ns: u64) -> String {
    format_nanos(ns)
}

/// The report of one checker over one run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// The checker's name, as scenarios write it.
    pub name: &'static str,
    /// Holds or violated.
    pub verdict: Verdict,
    /// How many violations.
    pub violations: u64,
    /// How many things were checked.
    pub checked: u64,
    /// What was checked (`"acknowledged writes"`, `"reads"`, ...).
    pub of: &'static str,
    /// Extra figures (staleness percentiles, bounds), by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub figures: BTreeMap<&'static str, u64>,
    /// The shortest story of a violation, in order (empty when it holds).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub story: Vec<StoryLine>,
    /// The distribution the checker measured, for sweeps' charts (staleness of stale
    /// reads); summaries show its percentiles in `figures`.
    #[serde(skip)]
    pub distribution: Option<Histogram>,
}

impl CheckReport {
    /// A report from counts; the verdict follows from `violations`.
    pub fn new(name: &'static str, violations: u64, checked: u64, of: &'static str) -> Self {
        let verdict = if violations == 0 { Verdict::Holds } else { Verdict::Violated };
        CheckReport {
            name,
            verdict,
            violations,
            checked,
            of,
            figures: BTreeMap::new(),
            story: Vec::new(),
            distribution: None,
        }
    }

    /// This report, judged `NotConfigured` when there is no `bound` to judge against
    /// (its figures still stand).
    pub fn bounded_by<T>(mut self, bound: Option<T>) -> Self {
        if bound.is_none() {
            self.verdict = Verdict::NotConfigured;
        }
        self
    }
}

/// Instance names for story text.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Model components by id (clients follow them and are named `client/i`).
    pub components: Vec<String>,
}

impl Names {
    /// A component's name.
    pub fn component(&self, id: u32) -> &str {
        self.components.get(id as usize).map_or("?", String::as_str)
    }

    /// A client's name.
    pub fn client(&self, index: u32) -> String {
        format!("client/{index}")
    }

    /// Who served a read of store `store`: `db primary` or `db replica 1`, or `api/2`
    /// for a server's push.
    pub fn source(&self, store: u32, source: u8) -> String {
        match source {
            super::Sighting::SERVER => self.component(store).to_string(),
            0 => format!("{} primary", self.component(store)),
            i => format!("{} replica {}", self.component(store), i - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_lines_show_time_event_and_text() {
        let l = StoryLine::at(12_003_400_000, 1234, "client/3 writes".into());
        assert_eq!(l.to_text(), "   12.003 s  #1234      client/3 writes");
        assert!(StoryLine::end("lost".into()).to_text().starts_with("        end"));
        assert_eq!(CheckReport::new("x", 0, 5, "reads").verdict, Verdict::Holds);
    }
}
