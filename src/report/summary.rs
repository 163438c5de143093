//! The run summary: per operation the count and latency percentiles, the stale-read
//! fraction, engine figures and the trace hash.
//!
//! The JSON form has sorted keys and no wall-clock figures unless asked for, so it can be
//! kept as a snapshot. Latencies are nanoseconds in JSON and human units in text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::check::{CheckReport, CheckSpec, History, OpRow};
use crate::engine::time::format_nanos;
use crate::model::Scenario;
use crate::run::RunOutcome;

/// Latency percentiles of one operation kind, in nanoseconds.
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    /// Median.
    pub p50: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: u64,
}

/// Figures for one operation kind.
#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    /// Operations that completed `Ok`.
    pub count: u64,
    /// Operations that timed out (outcome unknown).
    pub unknown: u64,
    /// Operations a store refused (version check).
    pub rejected: u64,
    /// Operations a gate refused (policy or usage limit).
    pub refused: u64,
    /// Operations that were retries.
    pub retries: u64,
    /// Latency of the `Ok` ones.
    pub latency_ns: LatencySummary,
}

/// Staleness of reads.
#[derive(Debug, Clone, Serialize)]
pub struct ReadSummary {
    /// Reads that completed `Ok`.
    pub count: u64,
    /// Of those, reads older than the newest acknowledged write at invocation.
    pub stale: u64,
    /// `stale / count` (0 when there were no reads).
    pub stale_fraction: f64,
    /// Of the `Ok` reads, those a primary served (the rest a replica served).
    pub from_primary: u64,
    /// Reads with a session token that a replica could not honour, sent to the primary.
    pub token_fallbacks: u64,
}

/// One checker's verdict, with what the scenario expected of it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSummary {
    /// The checker's report.
    #[serde(flatten)]
    pub report: CheckReport,
    /// What the scenario expected (`holds`, `violated`, `count(1, 5)`), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Whether the verdict is as expected (absent when nothing was expected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_expected: Option<bool>,
}

/// Wall-clock figures: shown to people, kept out of snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct WallSummary {
    /// Seconds the run took.
    pub seconds: f64,
    /// Events per wall-clock second.
    pub events_per_second: f64,
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Model name.
    pub model: String,
    /// Seed used.
    pub seed: u64,
    /// Clients simulated.
    pub clients: u32,
    /// Figures per operation kind.
    pub operations: BTreeMap<&'static str, OpSummary>,
    /// Read staleness.
    pub reads: ReadSummary,
    /// Events dispatched.
    pub events: u64,
    /// Most events pending at once.
    pub events_pending_max: usize,
    /// Simulated time, nanoseconds (the scenario's duration).
    pub simulated_ns: u64,
    /// Simulated time after the duration until in-flight work finished.
    pub drain_ns: u64,
    /// Checker verdicts by name.
    pub checks: BTreeMap<&'static str, CheckSummary>,
    /// Trace hash (16 hex digits).
    pub trace_hash: String,
    /// The command that replays this run.
    pub replay: String,
    /// Wall-clock figures, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallSummary>,
}

fn op_summary(history: &History, row: OpRow) -> OpSummary {
    let s = history.stats(row);
    let h = &s.latency;
    OpSummary {
        count: h.count(),
        unknown: s.unknown,
        rejected: s.rejected,
        refused: s.refused,
        retries: s.retries,
        latency_ns: LatencySummary {
            p50: h.quantile(0.50),
            p95: h.quantile(0.95),
            p99: h.quantile(0.99),
            max: h.max(),
            mean: h.mean(),
        },
    }
}

impl Summary {
    /// Summarises `outcome`; `wall_seconds` adds wall-clock figures.
    pub fn new(scenario: &Scenario, outcome: &RunOutcome, wall_seconds: Option<f64>) -> Summary {
        let history = &outcome.history;
        let operations = OpRow::ALL
            .iter()
            .map(|&row| (row.name(), op_summary(history, row)))
            .filter(|(name, op)| {
                let shown = [OpRow::Write.name(), OpRow::Read.name()].contains(name);
                shown || op.count + op.unknown + op.rejected + op.refused > 0
            })
            .collect();
        let reads = history.stats(OpRow::Read).latency.count();
        let stale = history.stale_reads();
        let wall = wall_seconds.map(|seconds| WallSummary {
            seconds,
            events_per_second: outcome.stats.events as f64 / seconds.max(1e-9),
        });
        Summary {
            scenario: scenario.name.clone(),
            model: scenario.model.name.clone(),
            seed: outcome.seed,
            clients: scenario.clients.count,
            operations,
            reads: ReadSummary {
                count: reads,
                stale,
                stale_fraction: if reads == 0 { 0.0 } else { stale as f64 / reads as f64 },
                from_primary: history.stats(OpRow::Read).from_primary,
                token_fallbacks: outcome.token_fallbacks,
            },
            events: outcome.stats.events,
            events_pending_max: outcome.stats.pending_max,
            simulated_ns: scenario.duration.as_nanos(),
            drain_ns: outcome.drain_ns,
            checks: check_summaries(scenario, &outcome.checks),
            trace_hash: outcome.stats.trace_hash.hex(),
            replay: replay_command(scenario, outcome.seed),
            wall,
        }
    }

    /// Whether every expected verdict was met.
    pub fn as_expected(&self) -> bool {
        self.checks.values().all(|c| c.as_expected != Some(false))
    }

    /// Pretty JSON with sorted keys.
    pub fn to_json(&self) -> String {
        // Going through `Value` sorts every object's keys.
        let value = serde_json::to_value(self).expect("summary serialises");
        serde_json::to_string_pretty(&value).expect("value serialises")
    }

    /// The summary as people read it.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "scenario   {} (seed {})", self.scenario, self.seed);
        let _ = writeln!(t, "model      {}", self.model);
        let _ = writeln!(
            t,
            "clients    {}, simulated {}",
            group(self.clients as u64),
            format_nanos(self.simulated_ns)
        );
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "{:<13} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
            "operation", "ok", "unknown", "rejected", "retries", "p50", "p95", "p99", "max"
        );
        for row in OpRow::ALL {
            let Some(op) = self.operations.get(row.name()) else { continue };
            let l = &op.latency_ns;
            // A row is refused by a store (version check) or by a gate, never both.
            let _ = writeln!(
                t,
                "{:<13} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
                row.name(),
                group(op.count),
                group(op.unknown),
                group(op.rejected + op.refused),
                group(op.retries),
                format_nanos(l.p50),
                format_nanos(l.p95),
                format_nanos(l.p99),
                format_nanos(l.max)
            );
        }
        let _ = writeln!(t);
        let r = &self.reads;
        let _ = writeln!(
            t,
            "stale reads  {} of {} ({:.2}%)",
            group(r.stale),
            group(r.count),
            100.0 * r.stale_fraction
        );
        let _ = write!(t, "reads from   primary {}", group(r.from_primary));
        if r.token_fallbacks > 0 {
            let _ = write!(t, " ({} of them session-token fallbacks)", group(r.token_fallbacks));
        }
        let _ = writeln!(t, ", replicas {}", group(r.count - r.from_primary));
        write_checks(&mut t, &self.checks);
        let _ = write!(t, "events       {}", group(self.events));
        if let Some(w) = &self.wall {
            let _ = write!(
                t,
                " in {:.3} s wall ({:.2} M events/s)",
                w.seconds,
                w.events_per_second / 1e6
            );
        }
        let _ = writeln!(t, "; peak pending {}", group(self.events_pending_max as u64));
        let _ = writeln!(t, "trace hash   {}", self.trace_hash);
        let _ = writeln!(t, "replay       {}", self.replay);
        t
    }
}

fn check_summaries(
    scenario: &Scenario,
    reports: &[CheckReport],
) -> BTreeMap<&'static str, CheckSummary> {
    reports
        .iter()
        .map(|r| {
            let e = scenario.expect.iter().find(|e| e.check == r.name);
            let summary = CheckSummary {
                report: r.clone(),
                expected: e.map(|e| match e.count {
                    Some((lo, hi)) => format!("count({lo}, {hi})"),
                    None => e.verdict.name().to_string(),
                }),
                as_expected: e.map(|e| e.met_by(r.verdict, r.violations)),
            };
            (r.name, summary)
        })
        .collect()
}

/// The verdict table, then the story of each violation.
fn write_checks(t: &mut String, checks: &BTreeMap<&'static str, CheckSummary>) {
    if checks.is_empty() {
        return;
    }
    let _ = writeln!(t, "{:<25} {:<9} {:>21}  expected", "check", "verdict", "violations");
    let mut order: Vec<&CheckSummary> = checks.values().collect();
    order.sort_by_key(|c| CheckSpec::ALL.iter().position(|s| s.name() == c.report.name));
    for c in &order {
        let r = &c.report;
        let counts = format!("{} of {}", group(r.violations), group(r.checked));
        let expected = match (&c.expected, c.as_expected) {
            (Some(e), Some(true)) => format!("{e} (as expected)"),
            (Some(e), _) => format!("{e} (DIFFERS)"),
            (None, _) => "-".to_string(),
        };
        let _ = writeln!(t, "{:<25} {:<9} {counts:>21}  {expected}", r.name, r.verdict.name());
    }
    for c in &order {
        let r = &c.report;
        if r.name == "bounded_staleness" && r.figures.get("stale_reads").is_some_and(|&n| n > 0) {
            let f = |k| format_nanos(r.figures.get(k).copied().unwrap_or(0));
            let _ = writeln!(
                t,
                "staleness of stale reads: p50 {}, p99 {}, max {}",
                f("p50_ns"),
                f("p99_ns"),
                f("max_ns")
            );
        }
    }
    for c in &order {
        let r = &c.report;
        if r.story.is_empty() {
            continue;
        }
        let _ = writeln!(t, "\nstory of a {} violation ({} in all):", r.name, group(r.violations));
        for line in &r.story {
            let _ = writeln!(t, "{}", line.to_text());
        }
    }
    let _ = writeln!(t);
}

/// The command line that replays this run exactly.
fn replay_command(scenario: &Scenario, seed: u64) -> String {
    let mut cmd = format!("archsim run {} --seed {seed}", scenario.path);
    for set in &scenario.cli_overrides {
        let _ = write!(cmd, " --set '{set}'");
    }
    cmd
}

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
