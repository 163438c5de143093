//! The run summary: per operation the count and latency percentiles, the stale-read
//! fraction, engine figures and the trace hash.
//!
//! The JSON form has sorted keys and no wall-clock figures unless asked for, so it can be
//! kept as a snapshot. Latencies are nanoseconds in JSON and human units in text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::over_seeds::{OverSeeds, SeedVerdicts};
use super::queues::{LoadSummary, write_loads};
use crate::check::fault_coverage::Touched;
use crate::check::{
    CheckReport, CheckSpec, ClientFigures, Histogram, OpStats, Verdict, VisibilityPoint,
};
use crate::components::GateCounts;
use crate::components::sentinel::SentinelSpec;
use crate::engine::time::{format_exact, format_nanos, format_span};
use crate::model::{Expectation, Scenario};
use crate::run::RunOutcome;

/// Latency percentiles of one operation kind, in nanoseconds.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

impl LatencySummary {
    /// The percentiles of `h`.
    pub fn of(h: &Histogram) -> LatencySummary {
        LatencySummary {
            p50: h.quantile(0.50),
            p95: h.quantile(0.95),
            p99: h.quantile(0.99),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// Streamed responses as their clients received them.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StreamSummary {
    /// Streams started (the user's message acknowledged).
    pub started: u64,
    /// Streams whose `message_stop` arrived.
    pub whole: u64,
    /// Streams that broke first.
    pub broken: u64,
    /// From the completion request to the first chunk.
    pub first_byte_ns: LatencySummary,
    /// From the completion request to `message_stop`, for whole streams.
    pub whole_ns: LatencySummary,
}

/// Actions (writes of any kind) end to end, with what a gate added.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ActionSummary {
    /// Actions finished (refused ones excluded).
    pub count: u64,
    /// From the first request to the last answer (the gate's `finalize`, if any).
    pub end_to_end_ns: LatencySummary,
    /// Time in `prepare` plus `finalize`, per gated action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate_overhead_ns: Option<LatencySummary>,
}

/// What one sentinel gate did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GateSummary {
    /// `prepare` calls.
    pub prepares: u64,
    /// `finalize` calls.
    pub finalizes: u64,
    /// Actions refused by policy.
    pub refused_by_policy: u64,
    /// Actions refused per usage window, each a `message_limit` to the client.
    pub message_limit: Vec<WindowSummary>,
}

/// One usage window of a gate and the actions it refused.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WindowSummary {
    /// The window, as written (`"5h"`).
    pub window: String,
    /// Actions allowed within it.
    pub messages: u32,
    /// Actions it refused.
    pub refused: u64,
}

/// Figures for one operation kind.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReadSummary {
    /// Reads that completed `Ok`.
    pub count: u64,
    /// Of those, reads older than the newest acknowledged write at invocation.
    pub stale: u64,
    /// `stale / count` (0 when there were no reads).
    pub stale_fraction: f64,
    /// Of the `Ok` reads, those a primary served.
    pub from_primary: u64,
    /// Of the `Ok` reads, those a cache answered (the rest the primary or a replica
    /// served).
    #[serde(skip_serializing_if = "is_zero")]
    pub from_cache: u64,
    /// Reads with a session token that a replica could not honour, sent to the primary.
    pub token_fallbacks: u64,
    /// k-staleness, when some read was stale: how many acknowledged versions of its key
    /// each stale read missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions_behind: Option<LatencySummary>,
    /// t-visibility, when some read was stale: per bin of the time t since the key's
    /// newest acknowledged write was acknowledged, the reads and how many returned it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub visibility: Vec<VisibilityPoint>,
}

/// One checker's verdict, with what the scenario expected of it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WallSummary {
    /// Seconds the run took.
    pub seconds: f64,
    /// Events per wall-clock second.
    pub events_per_second: f64,
}

/// One fault and what it touched.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FaultTouch {
    /// The fault, as a scenario file writes it.
    pub fault: String,
    /// Strikes and the operations in flight while it was active.
    #[serde(flatten)]
    pub touched: Touched,
}

/// Fault coverage: what the faults touched, and per invariant how many operations in
/// flight under a fault could have violated it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CoverageSummary {
    /// Each fault of the run (fixed, then drawn from the swarm).
    pub faults: Vec<FaultTouch>,
    /// Operations in flight while any fault was active.
    pub under_fault: UnderFault,
    /// Per checked invariant: the operations under a fault of the kind it judges.
    pub exposed: BTreeMap<&'static str, u64>,
    /// Said when every verdict holds and no fault touched an operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Operations in flight while any fault was active.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct UnderFault {
    /// All of them.
    pub operations: u64,
    /// Writes.
    pub writes: u64,
    /// Reads.
    pub reads: u64,
}

/// The operations under fault an invariant judges: writes, reads, or any.
fn exposed(check: &str, under: &Touched) -> u64 {
    match check {
        "lost_acknowledged_write"
        | "duplicates"
        | "monotonic_writes"
        | "writes_follow_reads"
        | "convergence" => under.writes,
        "read_your_writes" | "monotonic_reads" | "bounded_staleness" => under.reads,
        _ => under.operations,
    }
}

fn coverage(scenario: &Scenario, outcome: &RunOutcome) -> Option<CoverageSummary> {
    let faults = scenario.faults_of_run();
    if faults.is_empty() {
        return None;
    }
    let cov = &outcome.history.coverage;
    let touched = cov.touched(faults.len());
    let faults: Vec<FaultTouch> = faults
        .iter()
        .zip(touched)
        .map(|(f, touched)| FaultTouch { fault: crate::model::swarm::to_ron(f), touched })
        .collect();
    let under = cov.under_fault;
    let green = outcome.checks.iter().all(|c| c.verdict != Verdict::Violated);
    let rolled_back: u64 = faults.iter().map(|f| f.touched.rolled_back).sum();
    let warning = (green && under.operations == 0 && rolled_back == 0).then(|| {
        "no fault touched an operation: this green run says nothing about the faults".into()
    });
    Some(CoverageSummary {
        faults,
        under_fault: UnderFault {
            operations: under.operations,
            writes: under.writes,
            reads: under.reads,
        },
        exposed: outcome.checks.iter().map(|c| (c.name, exposed(c.name, &under))).collect(),
        warning,
    })
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Model name.
    pub model: String,
    /// The overrides applied to the model and scenario (`PATH=VALUE`): the text header
    /// lists them under the model's name, which no longer says all it is.
    #[serde(skip)]
    pub overrides: Vec<String>,
    /// Seed used.
    pub seed: u64,
    /// Clients simulated.
    pub clients: u32,
    /// Figures per operation kind.
    pub operations: BTreeMap<&'static str, OpSummary>,
    /// The operation rows' names in report order.
    #[serde(skip)]
    pub operation_order: Vec<&'static str>,
    /// Clients' operations per population and row (absent with one population).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub populations: BTreeMap<String, BTreeMap<&'static str, OpSummary>>,
    /// Read staleness.
    pub reads: ReadSummary,
    /// Replication lag the stores drew (absent without replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_lag_ns: Option<LatencySummary>,
    /// Streamed responses (absent without streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streams: Option<StreamSummary>,
    /// Actions end to end (absent when no action was timed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<ActionSummary>,
    /// Sentinel gates by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub gates: BTreeMap<String, GateSummary>,
    /// Each edit reaching each other editor's live page, from its write to the page
    /// showing it (absent without pushes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_ns: Option<LatencySummary>,
    /// Server queues by name (absent without capacity).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub load: BTreeMap<String, LoadSummary>,
    /// What components counted, by instance name: a store's durable writes, ...
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, BTreeMap<&'static str, u64>>,
    /// Each consumer group's lag, sampled every second: [seconds, messages] (absent
    /// without consumer groups).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consumer_lag: BTreeMap<String, Vec<[u64; 2]>>,
    /// The run per second, when the scenario asks for it (`timeline: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<super::timeline::TimelineSummary>,
    /// `message_limit` answers that reached their clients.
    #[serde(skip_serializing_if = "is_zero")]
    pub message_limits_seen: u64,
    /// Retries the clients' retry budgets held back.
    #[serde(skip_serializing_if = "is_zero")]
    pub retries_withheld: u64,
    /// Times the clients' circuit breakers opened.
    #[serde(skip_serializing_if = "is_zero")]
    pub breaker_opens: u64,
    /// Tries open breakers failed at once, without a request.
    #[serde(skip_serializing_if = "is_zero")]
    pub failed_fast: u64,
    /// Second copies of reads sent after the hedging delay.
    #[serde(skip_serializing_if = "is_zero")]
    pub hedges: u64,
    /// Hedged reads whose second copy answered first.
    #[serde(skip_serializing_if = "is_zero")]
    pub hedges_won: u64,
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
    /// What each fault touched, and what that exposed each invariant to (absent
    /// without faults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_coverage: Option<CoverageSummary>,
    /// The faults this seed drew from the scenario's swarm (absent without a swarm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_mix: Option<Vec<String>>,
    /// The verdicts over the scenario's seeds, when it judges more than one; the
    /// checks' `expected` and `as_expected` are then these seeds'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_seeds: Option<OverSeeds>,
    /// Trace hash (16 hex digits).
    pub trace_hash: String,
    /// The command that replays this run.
    pub replay: String,
    /// Wall-clock figures, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wall: Option<WallSummary>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn op_summary(s: &OpStats) -> OpSummary {
    OpSummary {
        count: s.latency.count(),
        unknown: s.unknown,
        rejected: s.rejected,
        refused: s.refused,
        retries: s.retries,
        latency_ns: LatencySummary::of(&s.latency),
    }
}

fn stream_summary(f: &ClientFigures) -> Option<StreamSummary> {
    (f.streams > 0).then(|| StreamSummary {
        started: f.streams,
        whole: f.whole_stream.count(),
        broken: f.broken_streams,
        first_byte_ns: LatencySummary::of(&f.first_byte),
        whole_ns: LatencySummary::of(&f.whole_stream),
    })
}

/// Actions end to end, when they are more than one write's latency: gated or streamed.
fn action_summary(f: &ClientFigures) -> Option<ActionSummary> {
    (f.gate.count() > 0 || f.streams > 0).then(|| ActionSummary {
        count: f.action.count(),
        end_to_end_ns: LatencySummary::of(&f.action),
        gate_overhead_ns: (f.gate.count() > 0).then(|| LatencySummary::of(&f.gate)),
    })
}

fn gate_summaries(
    scenario: &Scenario,
    gates: &[(String, GateCounts)],
) -> BTreeMap<String, GateSummary> {
    let windows = |name: &str| {
        let gate = scenario.model.component(name).and_then(|c| c.spec::<SentinelSpec>());
        gate.map_or_else(Vec::new, |g| g.limits.clone())
    };
    gates
        .iter()
        .map(|(name, c)| {
            let limits = windows(name)
                .iter()
                .zip(&c.limited)
                .map(|(l, &refused)| WindowSummary {
                    window: format_span(l.window.as_nanos()),
                    messages: l.messages,
                    refused,
                })
                .collect();
            let summary = GateSummary {
                prepares: c.prepares,
                finalizes: c.finalizes,
                refused_by_policy: c.refused,
                message_limit: limits,
            };
            (name.clone(), summary)
        })
        .collect()
}

/// The operation table's column titles.
pub const OPERATION_HEADER: [&str; 9] =
    ["operation", "ok", "unknown", "rejected", "retries", "p50", "p95", "p99", "max"];

impl Summary {
    /// Summarises `outcome`; `wall_seconds` adds wall-clock figures.
    pub fn new(scenario: &Scenario, outcome: &RunOutcome, wall_seconds: Option<f64>) -> Summary {
        let history = &outcome.history;
        let operations: Vec<_> = history
            .rows()
            .map(|(row, stats)| (row, op_summary(stats)))
            .filter(|(row, op)| {
                row.always_shown || op.count + op.unknown + op.rejected + op.refused > 0
            })
            .map(|(row, op)| (row.name, op))
            .collect();
        let operation_order = operations.iter().map(|(name, _)| *name).collect();
        let mut populations: BTreeMap<String, BTreeMap<&'static str, OpSummary>> = BTreeMap::new();
        for (&(p, row), stats) in history.population_rows() {
            let Some(population) = scenario.clients.populations.get(p as usize) else { continue };
            populations.entry(population.name.clone()).or_default().insert(row, op_summary(stats));
        }
        let read_rows: Vec<&OpStats> =
            history.rows().filter(|(row, _)| row.reads).map(|(_, stats)| stats).collect();
        let reads = read_rows.iter().map(|s| s.latency.count()).sum::<u64>();
        let from_primary = read_rows.iter().map(|s| s.from_primary).sum();
        let from_cache = read_rows.iter().map(|s| s.from_cache).sum();
        let stale = history.stale_reads();
        let wall = wall_seconds.map(|seconds| WallSummary {
            seconds,
            events_per_second: outcome.stats.events as f64 / seconds.max(1e-9),
        });
        Summary {
            scenario: scenario.name.clone(),
            model: scenario.model.name.clone(),
            overrides: scenario.overrides.clone(),
            seed: outcome.seed,
            clients: scenario.clients.count,
            operations: operations.into_iter().collect(),
            operation_order,
            populations,
            reads: ReadSummary {
                count: reads,
                stale,
                stale_fraction: if reads == 0 { 0.0 } else { stale as f64 / reads as f64 },
                from_primary,
                from_cache,
                token_fallbacks: outcome.token_fallbacks,
                versions_behind: (stale > 0).then(|| LatencySummary::of(history.versions_behind())),
                visibility: match stale {
                    0 => Vec::new(),
                    _ => history.visibility().points(),
                },
            },
            replication_lag_ns: (outcome.replication_lag.count() > 0)
                .then(|| LatencySummary::of(&outcome.replication_lag)),
            streams: stream_summary(&history.figures),
            actions: action_summary(&history.figures),
            gates: gate_summaries(scenario, &outcome.gates),
            propagation_ns: (history.figures.propagation.count() > 0)
                .then(|| LatencySummary::of(&history.figures.propagation)),
            load: outcome.loads.iter().map(|(n, l)| (n.clone(), LoadSummary::of(l))).collect(),
            counts: outcome
                .counts
                .iter()
                .map(|(name, counts)| (name.clone(), counts.iter().copied().collect()))
                .collect(),
            consumer_lag: outcome
                .consumer_lag
                .iter()
                .map(|(name, s)| {
                    (name.clone(), s.iter().map(|&(ns, lag)| [ns / 1_000_000_000, lag]).collect())
                })
                .collect(),
            timeline: scenario
                .timeline
                .then(|| super::timeline::TimelineSummary::of(outcome, scenario.duration)),
            message_limits_seen: history.figures.message_limits,
            retries_withheld: history.figures.retries_withheld,
            breaker_opens: history.figures.breaker_opens,
            failed_fast: history.figures.failed_fast,
            hedges: history.figures.hedges,
            hedges_won: history.figures.hedges_won,
            events: outcome.stats.events,
            events_pending_max: outcome.stats.pending_max,
            simulated_ns: scenario.duration.as_nanos(),
            drain_ns: outcome.drain_ns,
            checks: check_summaries(scenario, &outcome.checks),
            fault_coverage: coverage(scenario, outcome),
            fault_mix: (!scenario.swarm.is_empty()).then(|| {
                crate::model::swarm::draw(&scenario.swarm, outcome.seed)
                    .iter()
                    .map(crate::model::swarm::to_ron)
                    .collect()
            }),
            over_seeds: None,
            trace_hash: outcome.stats.trace_hash.hex(),
            replay: replay_command(scenario, outcome.seed),
            wall,
        }
    }

    /// The operation table's rows in report order, each cell as people read it. A row
    /// is refused by a store (version check) or by a gate, never both, so one column
    /// holds either.
    pub fn operation_rows(&self) -> Vec<[String; 9]> {
        self.operation_rows_of(&self.operations, "")
    }

    /// The rows of `operations` in report order, each name prefixed with `prefix`.
    fn operation_rows_of(
        &self,
        operations: &BTreeMap<&'static str, OpSummary>,
        prefix: &str,
    ) -> Vec<[String; 9]> {
        self.operation_order
            .iter()
            .filter_map(|&name| Some((name, operations.get(name)?)))
            // Reads and writes stay in the JSON for tools; a table row of zeros says
            // nothing a reader needs.
            .filter(|(_, op)| op.count + op.unknown + op.rejected + op.refused + op.retries > 0)
            .map(|(name, op)| {
                let l = &op.latency_ns;
                [
                    format!("{prefix}{name}"),
                    group(op.count),
                    group(op.unknown),
                    group(op.rejected + op.refused),
                    group(op.retries),
                    format_nanos(l.p50),
                    format_nanos(l.p95),
                    format_nanos(l.p99),
                    format_nanos(l.max),
                ]
            })
            .collect()
    }

    /// Each population's rows (`eu write`, `eu read`, ...), populations in name order.
    pub fn population_rows(&self) -> Vec<[String; 9]> {
        (self.populations.iter())
            .flat_map(|(name, ops)| self.operation_rows_of(ops, &format!("{name} ")))
            .collect()
    }

    /// This run's summary, with its expectations judged over `over` instead of this
    /// one seed.
    pub fn judged_over(mut self, mut over: OverSeeds, scenario: &Scenario) -> Summary {
        for c in over.checks.values_mut() {
            c.replay_first = c.violated_on.first().map(|&seed| replay_command(scenario, seed));
        }
        for (name, check) in &mut self.checks {
            let judged = over.checks.get(name);
            check.expected = judged.and_then(|c| c.expected.clone());
            check.as_expected = judged.and_then(|c| c.as_expected);
        }
        self.over_seeds = Some(over);
        self
    }

    /// The seed's verdicts, as judged over many seeds.
    pub fn seed_verdicts(&self) -> SeedVerdicts {
        let verdicts =
            self.checks.iter().map(|(&n, c)| (n, c.report.verdict, c.report.violations)).collect();
        SeedVerdicts { seed: self.seed, verdicts }
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
        let _ = write!(t, "scenario   {} (seed {}", self.scenario, self.seed);
        if let Some(o) = &self.over_seeds {
            let _ = write!(t, "; verdicts over {}", o.range());
        }
        let _ = writeln!(t, ")");
        let _ = writeln!(t, "model      {}", self.model);
        if !self.overrides.is_empty() {
            let _ = writeln!(t, "set        {}", self.overrides.join(", "));
        }
        let clients = match self.clients {
            0 => "none (its producers make the load)".to_string(),
            n => group(n as u64),
        };
        let _ = writeln!(t, "clients    {clients}, simulated {}", format_nanos(self.simulated_ns));
        if self.clients > 0 {
            self.write_client_tables(&mut t);
        }
        self.write_figures(&mut t);
        write_loads(&mut t, &self.load);
        if let Some(timeline) = &self.timeline {
            timeline.write_text(&mut t);
        }
        write_counts(&mut t, &self.counts);
        write_consumer_lag(&mut t, &self.consumer_lag);
        if let Some(c) = &self.fault_coverage {
            write_coverage(&mut t, c, self.clients > 0);
        }
        if let Some(mix) = &self.fault_mix {
            let _ = writeln!(t, "fault mix{}", if mix.is_empty() { "    none" } else { "" });
            for fault in mix {
                let _ = writeln!(t, "  {fault},");
            }
        }
        write_checks(&mut t, &self.checks, self.over_seeds.as_ref());
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

    /// What the clients saw: operations by row and population, and where reads came
    /// from (shown only when the run has clients).
    fn write_client_tables(&self, t: &mut String) {
        let _ = writeln!(t);
        let header = OPERATION_HEADER.map(String::from);
        let by_population = self.population_rows();
        let width = by_population.iter().map(|r| r[0].chars().count()).max().unwrap_or(0).max(13);
        let mut row = |[name, ok, unknown, rejected, retries, p50, p95, p99, max]: [String; 9]| {
            let line = format!(
                "{name:<width$} {ok:>9} {unknown:>8} {rejected:>8} {retries:>8} {p50:>9} \
                 {p95:>9} {p99:>9} {max:>9}"
            );
            let _ = writeln!(t, "{}", line.trim_end());
        };
        let gap = (!by_population.is_empty()).then(|| [(); 9].map(|_| String::new()));
        let rows = self.operation_rows();
        if rows.is_empty() && by_population.is_empty() {
            let _ = writeln!(t, "operations   none: no client operation ran");
        } else {
            std::iter::once(header).chain(rows).chain(gap).chain(by_population).for_each(&mut row);
        }
        let _ = writeln!(t);
        if self.retries_withheld > 0 {
            let n = group(self.retries_withheld);
            let _ = writeln!(t, "retries      {n} held back by the clients' retry budgets");
        }
        if self.hedges > 0 {
            let (n, won) = (group(self.hedges), group(self.hedges_won));
            let _ = writeln!(t, "hedges       {n} second copies sent; {won} answered first");
        }
        if self.breaker_opens > 0 {
            let (n, fast) = (group(self.breaker_opens), group(self.failed_fast));
            let _ = writeln!(t, "breakers     opened {n} times; {fast} tries failed fast");
        }
        let r = &self.reads;
        let _ = write!(
            t,
            "stale reads  {} of {} ({:.2}%)",
            group(r.stale),
            group(r.count),
            100.0 * r.stale_fraction
        );
        if let Some(k) = &r.versions_behind {
            let _ = write!(t, ", versions behind p50 {}, p99 {}, max {}", k.p50, k.p99, k.max);
        }
        let _ = writeln!(t);
        let _ = write!(t, "reads from   primary {}", group(r.from_primary));
        let _ = write!(t, ", replicas {}", group(r.count - r.from_primary - r.from_cache));
        if r.from_cache > 0 {
            let _ = write!(t, ", cache {}", group(r.from_cache));
        }
        if r.token_fallbacks > 0 {
            let fallbacks = group(r.token_fallbacks);
            let _ = write!(t, " ({fallbacks} sent on to the primary for a session token)");
        }
        let _ = writeln!(t);
        write_visibility(t, &r.visibility);
    }
}

impl Summary {
    /// Replication, streams, actions and gates, each a line when the run had them.
    fn write_figures(&self, t: &mut String) {
        let f = format_nanos;
        if let Some(l) = &self.replication_lag_ns {
            let _ = writeln!(
                t,
                "replication  lag mean {}, p50 {}, p99 {}",
                f(l.mean),
                f(l.p50),
                f(l.p99)
            );
        }
        if let Some(s) = &self.streams {
            let _ = write!(
                t,
                "streams      {} started, {} whole, {} broken",
                group(s.started),
                group(s.whole),
                group(s.broken)
            );
            // Streams cut right at their start (a reload) have no timings to show.
            if s.whole > 0 {
                let (b, w) = (&s.first_byte_ns, &s.whole_ns);
                let _ = write!(
                    t,
                    "; first byte p50 {}, p99 {}; whole response p50 {}, p99 {}",
                    f(b.p50),
                    f(b.p99),
                    f(w.p50),
                    f(w.p99)
                );
            }
            let _ = writeln!(t);
        }
        if let Some(a) = &self.actions {
            let e = &a.end_to_end_ns;
            let _ = write!(
                t,
                "actions      {}, end to end p50 {}, p99 {}",
                group(a.count),
                f(e.p50),
                f(e.p99)
            );
            if let Some(g) = &a.gate_overhead_ns {
                let _ = write!(t, "; gate overhead p50 {}, p99 {}", f(g.p50), f(g.p99));
            }
            let _ = writeln!(t);
        }
        if let Some(p) = &self.propagation_ns {
            let arrivals = self.checks.get("propagation").map_or(0, |c| c.report.checked);
            let _ = writeln!(
                t,
                "propagation  others' edits reach an editor p50 {}, p99 {}, max {}{}",
                f(p.p50),
                f(p.p99),
                f(p.max),
                if arrivals > 0 {
                    format!(" ({} edit arrivals)", group(arrivals))
                } else {
                    String::new()
                }
            );
        }
        if let Some(c) = self.checks.get("lost_acknowledged_message") {
            // How long producers waited for acknowledgements: acks=all's price, which
            // the loss counts alone do not show.
            let figure = |name: &str| c.report.figures.get(name).copied().unwrap_or(0);
            if figure("acknowledged") > 0 {
                let _ = writeln!(
                    t,
                    "produced     {} messages acknowledged, p50 {}, p99 {} after sending",
                    group(figure("acknowledged")),
                    f(figure("ack_latency_p50_ns")),
                    f(figure("ack_latency_p99_ns"))
                );
            }
        }
        for (name, g) in &self.gates {
            let limits: Vec<String> = g
                .message_limit
                .iter()
                .map(|w| format!("{} per {}: {}", w.messages, w.window, group(w.refused)))
                .collect();
            let hit: u64 = g.message_limit.iter().map(|w| w.refused).sum();
            let _ = writeln!(
                t,
                "gate         {name}: {} prepares, {} finalizes; refused {} by policy, {} at \
                 message_limit ({}); {} message_limit answers reached clients",
                group(g.prepares),
                group(g.finalizes),
                group(g.refused_by_policy),
                group(hit),
                if limits.is_empty() { "no windows".to_string() } else { limits.join(", ") },
                group(self.message_limits_seen)
            );
        }
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
                expected: e.map(Expectation::words),
                as_expected: e.map(|e| e.met_by(r.verdict, r.violations)),
            };
            (r.name, summary)
        })
        .collect()
}

/// For each invariant some other seed violated and this one did not, the command
/// that replays the first such seed.
fn write_first_violations(t: &mut String, order: &[&CheckSummary], over: &OverSeeds) {
    for c in order {
        let Some(o) = over.checks.get(c.report.name) else { continue };
        if c.report.verdict == Verdict::Violated {
            continue;
        }
        if let (Some(seed), Some(replay)) = (o.violated_on.first(), &o.replay_first) {
            let _ = writeln!(t, "{} first violated on seed {seed}: {replay}", c.report.name);
        }
    }
}

/// The verdict table, then the story of each violation.
fn write_checks(
    t: &mut String,
    checks: &BTreeMap<&'static str, CheckSummary>,
    over: Option<&OverSeeds>,
) {
    if checks.is_empty() {
        return;
    }
    let mut order: Vec<&CheckSummary> = checks.values().collect();
    order.sort_by_key(|c| CheckSpec::ALL.iter().position(|s| s.name() == c.report.name));
    let over_width = over.and_then(|o| {
        order.iter().filter_map(|c| o.describe(c.report.name)).map(|d| d.chars().count()).max()
    });
    let over_width = over_width.unwrap_or(0).max(9);
    let _ = write!(t, "{:<25} {:<14} {:>21}  ", "check", "verdict", "violations");
    if let Some(o) = over {
        let _ = write!(t, "{:<over_width$}  ", format!("{} seeds", o.count));
    }
    let _ = writeln!(t, "expected");
    for c in &order {
        let r = &c.report;
        let counts = match r.verdict {
            Verdict::NotConfigured => "no bound set".to_string(),
            _ => format!("{} of {}", group(r.violations), group(r.checked)),
        };
        let expected = match (&c.expected, c.as_expected) {
            (Some(e), Some(true)) => format!("{e} (as expected)"),
            (Some(e), _) => console::style(format!("{e} (DIFFERS)")).red().bold().to_string(),
            (None, _) => "-".to_string(),
        };
        // Padded first, then coloured: escape codes take no columns.
        let verdict = format!("{:<14}", r.verdict.name());
        let verdict = match r.verdict {
            crate::check::Verdict::Holds => console::style(verdict).green(),
            crate::check::Verdict::Violated => console::style(verdict).red(),
            _ => console::style(verdict).dim(),
        };
        let _ = write!(t, "{:<25} {verdict} {counts:>21}  ", r.name);
        if let Some(o) = over {
            let _ = write!(t, "{:<over_width$}  ", o.describe(r.name).unwrap_or_default());
        }
        let _ = writeln!(t, "{expected}");
    }
    if let Some(o) = over {
        write_first_violations(t, &order, o);
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
        if r.name == "cache_coherence" && r.figures.get("stale_entries").is_some_and(|&n| n > 0) {
            let n = |k| r.figures.get(k).copied().unwrap_or(0);
            let _ = writeln!(
                t,
                "stale cache entries: {}, stale for p50 {}, p99 {}, max {}; {} still stale at the end",
                group(n("stale_entries")),
                format_nanos(n("p50_ns")),
                format_nanos(n("p99_ns")),
                format_nanos(n("max_ns")),
                group(n("stale_at_end"))
            );
        }
        if let Some(&n) = r.figures.get("after_revocation") {
            let f = |k| format_nanos(r.figures.get(k).copied().unwrap_or(0));
            let _ = writeln!(
                t,
                "revoked users ({}) answered {} times after revocation, the last {} after (bound {})",
                group(r.figures.get("revoked_users").copied().unwrap_or(0)),
                group(n),
                f("after_revocation_max_ns"),
                f("bound_ns")
            );
        }
        if let Some(&n) = r.figures.get("stolen_token_answers") {
            let age = r.figures.get("stolen_token_max_age_ns").copied().unwrap_or(0);
            let _ = writeln!(
                t,
                "answers to stolen tokens: {}, on tokens up to {} old",
                group(n),
                format_nanos(age)
            );
        }
    }
    for c in &order {
        let r = &c.report;
        if let Some(&p50) = r.figures.get("recovery_p50_ns") {
            let p99 = r.figures.get("recovery_p99_ns").copied().unwrap_or(0);
            let n = r.figures.get("recovered").copied().unwrap_or(0);
            let _ = writeln!(
                t,
                "time to recovery after a broken stream: p50 {}, p99 {} ({} recovered)",
                format_nanos(p50),
                format_nanos(p99),
                group(n)
            );
        }
    }
    for c in &order {
        let r = &c.report;
        if r.story.is_empty() {
            continue;
        }
        let article = if r.name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        let (name, n) = (r.name, group(r.violations));
        let _ = writeln!(t, "\nstory of {article} {name} violation ({n} in all):");
        for line in &r.story {
            let _ = writeln!(t, "{}", line.to_text());
        }
    }
    let _ = writeln!(t);
}

/// The command line that replays this run exactly.
fn replay_command(scenario: &Scenario, seed: u64) -> String {
    let seed = seed.to_string();
    let mut words = vec!["archsim", "run", &scenario.path, "--seed", &seed];
    // One seed is one run: a scenario that judges many is replayed on this one alone.
    if scenario.seeds > 1 {
        words.extend(["--seeds", "1"]);
    }
    for set in &scenario.cli_overrides {
        words.extend(["--set", set.as_str()]);
    }
    super::command_line::shell_line(&words)
}

/// What the faults touched: one line in all, then one per fault.
/// The faults and what they touched; without clients there are no operations to
/// count, only strikes (what a fault did to a log is its checkers' to tell).
fn write_coverage(t: &mut String, c: &CoverageSummary, clients: bool) {
    let u = &c.under_fault;
    if !clients {
        let _ = writeln!(t, "faults");
        for f in &c.faults {
            let _ = writeln!(t, "  {}: struck {}×", f.fault, f.touched.strikes);
        }
        return;
    }
    let _ = writeln!(
        t,
        "coverage     {} in flight under a fault ({}, {})",
        counted(u.operations, "operation"),
        counted(u.writes, "write"),
        counted(u.reads, "read")
    );
    for f in &c.faults {
        let k = &f.touched;
        let mut what = if k.operations == 0 && k.rolled_back == 0 {
            // A fault on a relay, a log or a consumer touches no client operation; what
            // it did there is its checkers' to tell.
            "touched no client operation".to_string()
        } else {
            format!(
                "{} ({}, {})",
                counted(k.operations, "operation"),
                counted(k.writes, "write"),
                counted(k.reads, "read")
            )
        };
        if k.rolled_back > 0 {
            what.push_str(&format!(", {} keys rolled back", group(k.rolled_back)));
        }
        let _ = writeln!(t, "  {}: struck {}×, {what}", f.fault, k.strikes);
    }
    if let Some(w) = &c.warning {
        let _ = writeln!(t, "  warning: {w}");
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
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

/// `counts       db: snapshots 10, documents saved 400`, one line per instance, in the
/// components' own order of counts.
/// The t-visibility curve in one line, by decade of t: `visibility  a read t after ...:
/// <1ms 34%, <10ms 61%, <100ms 98%, <1s 100%`.
fn write_visibility(t: &mut String, points: &[VisibilityPoint]) {
    if points.is_empty() {
        return;
    }
    // Decades end at the bins whose upper edge is a power of ten (every third).
    let mut decades: Vec<(u64, u64, u64)> = Vec::new();
    for p in points {
        let mut end = 1_000;
        while end < p.to_ns && end < u64::MAX / 10 {
            end *= 10;
        }
        match decades.last_mut() {
            Some((to, reads, fresh)) if *to == end => {
                (*reads, *fresh) = (*reads + p.reads, *fresh + p.fresh)
            }
            _ => decades.push((end, p.reads, p.fresh)),
        }
    }
    let shown: Vec<String> = decades
        .iter()
        .map(|&(to, reads, fresh)| {
            let share = 100.0 * fresh as f64 / reads as f64;
            // Decade edges from a millisecond up read as files write them: 1ms, 10s.
            let edge = if to >= 1_000_000 { format_exact(to) } else { format_nanos(to) };
            format!("<{edge} {share:.0}%")
        })
        .collect();
    let _ = writeln!(
        t,
        "visibility   a read t after its key's newest acknowledged write returns it: {}",
        shown.join(", ")
    );
}

/// Each group's lag: its peak, when, and at the end of the run.
fn write_consumer_lag(t: &mut String, lag: &BTreeMap<String, Vec<[u64; 2]>>) {
    for (name, series) in lag {
        let Some(&[peak_at, peak]) =
            series.iter().max_by_key(|&&[at, lag]| (lag, std::cmp::Reverse(at)))
        else {
            continue;
        };
        let last = series.last().map_or(0, |&[_, lag]| lag);
        let _ = writeln!(
            t,
            "lag          {name}: peak {} messages at {peak_at} s, {} at the end (sampled each second)",
            group(peak),
            group(last)
        );
    }
}

fn write_counts(t: &mut String, counts: &BTreeMap<String, BTreeMap<&'static str, u64>>) {
    for (name, counts) in counts {
        let list: Vec<String> =
            counts.iter().map(|(k, v)| format!("{} {}", k.replace('_', " "), group(*v))).collect();
        let _ = writeln!(t, "counts       {name}: {}", list.join(", "));
    }
}

/// `1 write`, `2,461 writes`.
fn counted(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", group(n), if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_plural_only_when_not_one() {
        assert_eq!(counted(1, "write"), "1 write");
        assert_eq!(counted(0, "read"), "0 reads");
        assert_eq!(counted(2461, "write"), "2,461 writes");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
