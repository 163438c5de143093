//! The HTML report of one run: what ran, whether every verdict is as expected, the
//! operations (when the run had clients), each violation's story as text and as a
//! sequence diagram, latency and staleness charts (and a log's acknowledgement and
//! processing latency and its consumer groups' lag over time), and a timeline of
//! faults and violations.

use super::timeline_charts;
use crate::report::timeline::TimelineSummary;
use std::fmt::Write as _;

use super::page::{Page, escape, figure, table};
use super::sequence_svg;
use super::timeline_svg::{self, Track};
use crate::chart::distribution::{self, Line};
use crate::chart::figure::{Figure, Series};
use crate::check::verdict::seconds;
use crate::check::{CheckReport, Verdict};
use crate::engine::time::{format_nanos, format_span};
use crate::model::Scenario;
use crate::report::explain::Replay;
use crate::report::summary::{CheckSummary, OPERATION_HEADER, Summary, group};
use crate::run::RunOutcome;

/// Size of the charts, in pixels before the page scales them: about what a card of the
/// two-column grid shows at the page's full width, so their text reads at its own size.
const CHART_SIZE: (u32, u32) = (560, 360);

/// Fault colours: the same fault keeps its colour in every report.
const FAULT_COLORS: [&str; 5] = ["#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1", "#9c755f"];
const VIOLATION_COLOR: &str = "#e15759";

/// What the report is made of.
pub struct RunReport<'a> {
    /// The scenario as run.
    pub scenario: &'a Scenario,
    /// The run's summary (its verdict table).
    pub summary: &'a Summary,
    /// The run itself (histograms, stories).
    pub outcome: &'a RunOutcome,
    /// The replay's diagrams and fault firings.
    pub replay: &'a Replay,
}

impl RunReport<'_> {
    /// The whole HTML document.
    pub fn render(&self) -> Result<String, String> {
        let s = self.summary;
        let mut page = Page::new(&format!("archsim: {}", s.scenario));
        page.push(&self.header());
        page.section("verdicts", "Verdicts", &verdict_table(s));
        if s.clients > 0 {
            page.section("operations", "Operations", &operations(s));
        }
        let stories = self.stories();
        if !stories.is_empty() {
            page.section("stories", "Violations, as stories", &stories);
        }
        page.section("charts", "Latency and staleness", &self.charts()?);
        page.section("timeline", "Faults and violations over time", &self.timeline());
        Ok(page.finish())
    }

    fn header(&self) -> String {
        let s = self.summary;
        let differs = s.checks.values().filter(|c| c.as_expected == Some(false)).count();
        let banner = match differs {
            0 => "<div class=\"banner ok\">Every verdict is as the scenario expects.</div>".into(),
            n => format!(
                "<div class=\"banner bad\">{n} verdict{} differ{} from what the scenario \
                 expects.</div>",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ),
        };
        // The overrides change what the model's name describes, so they sit under it.
        let set = match s.overrides.is_empty() {
            true => None,
            false => Some(("set", format!("<code>{}</code>", escape(&s.overrides.join(", "))))),
        };
        let facts = [
            Some(("model", escape(&s.model))),
            set,
            Some(("seed", s.seed.to_string())),
            Some(("clients", group(u64::from(s.clients)))),
            Some((
                "simulated",
                format!(
                    "{} (then {} to drain)",
                    format_span(s.simulated_ns),
                    format_nanos(s.drain_ns)
                ),
            )),
            Some(("events", group(s.events))),
            Some(("trace hash", format!("<code>{}</code>", s.trace_hash))),
            Some(("replay", format!("<code>{}</code>", escape(&s.replay)))),
        ];
        let mut h = format!("<h1>{}</h1>\n{banner}\n<dl class=\"facts\">\n", escape(&s.scenario));
        for (k, v) in facts.into_iter().flatten() {
            let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
        }
        h.push_str("</dl>\n");
        h
    }

    fn stories(&self) -> String {
        let mut h = String::new();
        for (i, report) in self.outcome.checks.iter().filter(|c| !c.story.is_empty()).enumerate() {
            let _ = writeln!(
                h,
                "<h3 id=\"story-{}\">{}: {} of {} {}</h3>",
                report.name,
                report.name,
                group(report.violations),
                group(report.checked),
                escape(report.of)
            );
            h.push_str(&story_list(report));
            let diagram = self.replay.diagrams.iter().find(|(name, _)| *name == report.name);
            match diagram {
                Some((_, seq)) if seq.rows.iter().any(|r| r.arrow.is_some()) => {
                    let svg = sequence_svg::render(seq, &format!("seq{i}"));
                    let caption = format!(
                        "The {} story as a sequence diagram: requests and replies solid, \
                         replication dashed, the decisive event in red.",
                        report.name
                    );
                    h.push_str(&figure(&svg, &caption));
                }
                // A run without clients (a log's) has its story in the lines alone.
                _ if self.summary.clients == 0
                    || report.story.iter().all(|l| l.at_ns.is_none()) => {}
                _ => h.push_str(
                    "<p class=\"muted\">No request between this story's clients and stores \
                     to draw.</p>\n",
                ),
            }
        }
        h
    }

    /// Each fault strike's window in seconds, with the fault's words; an instant fault
    /// gets a sliver of the run so it shows.
    fn fault_windows(&self) -> Vec<(f64, f64, String)> {
        let faults = self.scenario.faults_of_run();
        let sliver = self.scenario.duration.as_nanos() / 200;
        (self.replay.strikes.iter())
            .filter_map(|s| {
                let f = faults.get(s.fault)?;
                let lasting = f.action.lasting().map_or(sliver, |d| d.as_nanos().max(sliver));
                let end = s.at.saturating_add(lasting).min(self.scenario.duration.as_nanos());
                Some((s.at as f64 / 1e9, end as f64 / 1e9, f.action.describe()))
            })
            .collect()
    }

    fn charts(&self) -> Result<String, String> {
        let history = &self.outcome.history;
        let timeline = TimelineSummary::of(self.outcome, self.scenario.duration);
        let mut figures = timeline_charts::figures(&timeline, &self.fault_windows());
        let latencies: Vec<(&str, &crate::check::Histogram)> = history
            .rows()
            .map(|(row, stats)| (row.name, &stats.latency))
            .filter(|(_, h)| h.count() > 0)
            .collect();
        let lines: Vec<Line<'_>> = latencies
            .iter()
            .map(|&(name, hist)| Line { name, hist, total: hist.count() })
            .collect();
        if !lines.is_empty() {
            let caption = "Latency of the operations that completed, by kind.";
            figures.push((distribution::cdf("latency", &lines), caption));
        }
        let checker = |name: &str| {
            let report = self.outcome.checks.iter().find(|c| c.name == name);
            report.and_then(|c| c.distribution.as_ref()).filter(|h| h.count() > 0)
        };
        let staleness = checker("bounded_staleness");
        if let Some(hist) = staleness.filter(|h| h.count() > 0) {
            let line = Line { name: "stale reads", hist, total: self.summary.reads.count };
            let caption = match distribution::few(&[line]) {
                true => {
                    "How far behind the newest acknowledged write each stale read was: \
                         a dot each, stacked where equal."
                }
                false => {
                    "How far behind the newest acknowledged write each stale read was, \
                          as a share of all reads."
                }
            };
            figures.push((distribution::histogram("staleness", &[line]), caption));
        }
        let lag = &self.outcome.replication_lag;
        if lag.count() > 0 {
            let line = Line { name: "replication lag", hist: lag, total: lag.count() };
            let caption = "The replication lag the stores drew, per replicated write.";
            figures.push((distribution::cdf("replication lag", &[line]), caption));
        }
        let logs = [
            (
                "acknowledgement",
                "lost_acknowledged_message",
                "From a message's first send to its producer learning it was written.",
            ),
            (
                "append to processing",
                "processing",
                "From a message's append to a consumer group's first processing of it.",
            ),
        ];
        for (name, check, caption) in logs {
            if let Some(hist) = checker(check) {
                let line = Line { name, hist, total: hist.count() };
                figures.push((distribution::cdf(name, &[line]), caption));
            }
        }
        if !self.summary.consumer_lag.is_empty() {
            let caption = "Each consumer group's lag, sampled every second: messages below the \
                           high watermark it had not processed yet.";
            figures.push((lag_figure(&self.summary.consumer_lag), caption));
        }
        let figs = &history.figures;
        let more = [
            (
                "propagation",
                &figs.propagation,
                "From an edit's write to each other editor's page showing it.",
            ),
            ("first byte", &figs.first_byte, "From a completion request to its first chunk."),
            ("whole stream", &figs.whole_stream, "From a completion request to message_stop."),
        ];
        for (name, hist, caption) in more.into_iter().filter(|m| m.1.count() > 0) {
            let line = Line { name, hist, total: hist.count() };
            figures.push((distribution::cdf(name, &[line]), caption));
        }
        if figures.is_empty() {
            return Ok("<p class=\"muted\">No operation completed.</p>\n".into());
        }
        let mut h = String::from("<div class=\"charts\">\n");
        for (fig, caption) in figures {
            h.push_str(&figure(&fig.svg_sized(CHART_SIZE)?, caption));
        }
        h.push_str("</div>\n");
        Ok(h)
    }

    fn timeline(&self) -> String {
        // The fixed faults and the seed's draw from the swarm, as the run had them.
        let faults = self.scenario.faults_of_run();
        let mut tracks: Vec<Track> = faults
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let lasting = f.action.lasting().map(|d| d.as_nanos());
                let marks = self
                    .replay
                    .strikes
                    .iter()
                    .filter(|s| s.fault == i)
                    .map(|s| (s.at, lasting.map(|l| s.at.saturating_add(l))))
                    .collect();
                let color = FAULT_COLORS[i % FAULT_COLORS.len()];
                Track { label: f.action.describe(), marks, color }
            })
            .collect();
        for report in self.outcome.checks.iter().filter(|c| c.verdict == Verdict::Violated) {
            let times: Vec<u64> = report.story.iter().filter_map(|l| l.at_ns).collect();
            let marks = match (times.iter().min(), times.iter().max()) {
                (Some(&a), Some(&b)) if b > a => vec![(a, Some(b))],
                (Some(&a), _) => vec![(a, None)],
                _ => Vec::new(),
            };
            tracks.push(Track {
                label: format!("{} story", report.name),
                marks,
                color: VIOLATION_COLOR,
            });
        }
        if tracks.is_empty() {
            return "<p class=\"muted\">No faults were injected and no checker was violated.</p>\n"
                .into();
        }
        let end = self.summary.simulated_ns;
        let window = timeline_svg::window(&tracks, end);
        let svg = timeline_svg::render(&tracks, window);
        figure(
            &svg,
            &timeline_caption(&tracks[..faults.len()], tracks.len() > faults.len(), window, end),
        )
    }
}

/// What the timeline shows, as this run has it: faults as bars or diamonds (whichever
/// it drew), stories if any, and the span shown when it is not the whole run.
fn timeline_caption(faults: &[Track], stories: bool, (lo, hi): (u64, u64), end: u64) -> String {
    let marks = faults.iter().flat_map(|t| &t.marks);
    let shapes = match (marks.clone().any(|m| m.1.is_some()), marks.clone().any(|m| m.1.is_none()))
    {
        (true, true) => " (a bar lasts as long as its fault; a diamond is an instant)",
        (true, false) => " (each bar lasts as long as its fault)",
        (false, true) => " (each diamond is an instant)",
        (false, false) => " (none fired)",
    };
    let story = "each violated checker's shortest story, from its first to its decisive event";
    let mut caption = match (faults.is_empty(), stories) {
        (false, true) => format!("Each fault's firings{shapes} and {story}."),
        (false, false) => format!("Each fault's firings{shapes}; no checker was violated."),
        _ => format!("No fault was injected: {story}."),
    };
    caption.push_str(&match (lo, hi) == (0, end) {
        true => format!(" Over the whole run ({}).", format_span(end)),
        false => format!(
            " Shown from {} to {} of the run's {}: nothing else is marked.",
            format_span(lo),
            format_span(hi),
            format_span(end)
        ),
    });
    caption
}

/// Each consumer group's lag over the run.
fn lag_figure(lag: &std::collections::BTreeMap<String, Vec<[u64; 2]>>) -> Figure {
    let series = lag
        .iter()
        .map(|(name, samples)| Series {
            name: name.clone(),
            points: samples.iter().map(|&[s, n]| (s as f64, n as f64)).collect(),
            ..Series::default()
        })
        .collect();
    Figure::over_time("consumer lag", "messages not yet processed", series)
}

/// The verdict of every checker, what was expected and whether it matched.
fn verdict_table(s: &Summary) -> String {
    let rows: Vec<(Option<&str>, Vec<String>)> = s
        .checks
        .iter()
        .map(|(name, c)| {
            let r = &c.report;
            let class = (c.as_expected == Some(false)).then_some("differs");
            let link = if r.story.is_empty() {
                escape(name)
            } else {
                format!("<a href=\"#story-{0}\">{0}</a>", escape(name))
            };
            (
                class,
                vec![
                    link,
                    badge(r.verdict),
                    group(r.violations),
                    format!("{} {}", group(r.checked), escape(r.of)),
                    c.expected.as_deref().map_or("—".into(), escape),
                    expectation(c),
                ],
            )
        })
        .collect();
    let header = ["checker", "verdict", "violations", "checked", "expected", "as expected"];
    table(&header, &rows)
}

fn badge(v: Verdict) -> String {
    let class = v.name().replace(' ', "-");
    format!("<span class=\"badge {class}\">{}</span>", v.name())
}

fn expectation(c: &CheckSummary) -> String {
    match c.as_expected {
        Some(true) => "<span class=\"ok\">✓ yes</span>".into(),
        Some(false) => "<span class=\"bad\">✗ no</span>".into(),
        None => "<span class=\"muted\">nothing expected</span>".into(),
    }
}

/// The operation table (then each population's rows, when there are several) and the
/// read figures.
fn operations(s: &Summary) -> String {
    let rows: Vec<(Option<&str>, Vec<String>)> = (s.operation_rows().into_iter())
        .chain(s.population_rows())
        .map(|cells| (None, cells.to_vec()))
        .collect();
    let header = OPERATION_HEADER;
    let r = &s.reads;
    format!(
        "{}<p>Stale reads: <b>{}</b> of {} ({:.2}%); from the primary {}, from a cache {}.</p>\n",
        table(&header, &rows),
        group(r.stale),
        group(r.count),
        100.0 * r.stale_fraction,
        group(r.from_primary),
        group(r.from_cache)
    )
}

/// A checker's story as a numbered list, the decisive line marked.
fn story_list(report: &CheckReport) -> String {
    let decisive = report.story.iter().rposition(|l| l.event.is_some());
    let mut h = String::from("<ol class=\"story\">\n");
    for (i, line) in report.story.iter().enumerate() {
        let class = if Some(i) == decisive { " class=\"decisive\"" } else { "" };
        let at = line.at_ns.map_or("end".into(), seconds);
        let _ =
            writeln!(h, "<li{class}><span class=\"mono\">{at}</span> {}</li>", escape(&line.text));
    }
    h.push_str("</ol>\n");
    h
}
