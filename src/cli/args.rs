//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::engine::Limits;
use crate::schema::sweep::{RUNS_CEILING, RUNS_MAX};

/// archsim: a deterministic simulator of distributed architectures.
#[derive(Debug, Parser)]
#[command(name = "archsim", version, about, long_about = None)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// No progress bar and no `wrote ...` lines (errors and results still print).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour verdicts and errors: `auto` where a terminal is and `NO_COLOR` is unset.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (to anything but the empty string).
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Turns colours on or off for standard output and standard error.
    pub fn apply(self) {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (out, err) = match self {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto if no_color => (false, false),
            ColorChoice::Auto => {
                use std::io::IsTerminal;
                (std::io::stdout().is_terminal(), std::io::stderr().is_terminal())
            }
        };
        console::set_colors_enabled(out);
        console::set_colors_enabled_stderr(err);
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario once and print its summary.
    Run(RunArgs),
    /// Run a scenario's `sweep` grid in parallel; write CSVs and charts.
    Sweep(SweepArgs),
    /// Join the journals of a sweep's shards into the files one machine would write.
    Merge(MergeArgs),
    /// Run a scenario on many seeds in parallel, looking for the first seed on which
    /// an invariant fails; print it, its story and the command that replays it.
    Hunt(HuntArgs),
    /// Run two designs on the same seeds and workload and compare them side by side:
    /// verdicts (and which flipped), latency, staleness, throughput, utilisation.
    Diff(DiffArgs),
    /// Make a failing run small: fewer faults, clients and seconds while the same
    /// invariant still fails on the same seed; write the result as a scenario file.
    Shrink(ShrinkArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), for `man -l -` or a `man1` folder.
    Man,
}

/// `archsim completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. `bash`: `archsim completions bash > ~/.local/share/bash-completion/completions/archsim`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `archsim shrink`.
#[derive(Debug, clap::Args)]
pub struct ShrinkArgs {
    /// The scenario file (RON) whose run fails.
    pub scenario: PathBuf,
    /// The seed it fails on (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The invariant that must keep failing (default: the first the run violates).
    #[arg(long = "check", value_name = "NAME")]
    pub check: Option<String>,
    /// Where to write the shrunk scenario (default: beside the scenario, as
    /// `NAME.shrunk.ron`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Set from the global `-q/--quiet`.
    #[arg(skip)]
    pub quiet: bool,
}

/// `archsim diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Design A, the "before" (a scenario file).
    pub a: PathBuf,
    /// Design B, the "after" (a scenario file).
    pub b: PathBuf,
    /// How many seeds each design runs (default: A's `seeds`, else 1); figures are
    /// means over them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub seeds: Option<u64>,
    /// The first seed (default: A's); the others follow it.
    #[arg(long, value_name = "SEED")]
    pub from: Option<u64>,
    /// Override a parameter in both designs.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Worker threads (default: one per core). The result does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the comparison as Markdown tables (for a README or a pull request).
    #[arg(long, conflicts_with = "format")]
    pub markdown: bool,
    /// Bounds on each run.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Set from the global `-q/--quiet`.
    #[arg(skip)]
    pub quiet: bool,
}

/// When `archsim hunt` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// At the first seed that violates a watched invariant.
    Violated,
    /// At the first seed whose verdicts differ from the scenario's `expect`.
    Differs,
}

/// `archsim hunt`.
#[derive(Debug, clap::Args)]
pub struct HuntArgs {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// How many seeds to try.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub seeds: u64,
    /// The first seed (default: the scenario's); the others follow it.
    #[arg(long, value_name = "SEED")]
    pub from: Option<u64>,
    /// Stop at the first failing seed; without it every seed runs and a seed fails
    /// when it violates a watched invariant.
    #[arg(long, value_enum)]
    pub until: Option<Until>,
    /// Watch only this invariant (repeatable; default: all the scenario checks).
    #[arg(long = "check", value_name = "NAME")]
    pub checks: Vec<String>,
    /// Override a parameter, e.g. `db.replication.lag=exp(500ms)`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Worker threads (default: one per core). The result does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Set from the global `-q/--quiet`.
    #[arg(skip)]
    pub quiet: bool,
    /// Bounds on each run.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `archsim merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' output directories (or their `runs.jsonl` files), in any order.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Directory for the merged journal, CSVs and charts.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write a self-contained HTML report of the sweep to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Set from the global `-q/--quiet`.
    #[arg(skip)]
    pub quiet: bool,
}

/// `archsim sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file (RON) with a `sweep` block.
    pub scenario: PathBuf,
    /// Directory for `results.csv`, `summary.csv` and the charts
    /// (default: `sweeps/<scenario file name>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: one per core). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override a parameter at every point, e.g. `clients.count=100`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Set from the global `-q/--quiet`.
    #[arg(skip)]
    pub quiet: bool,
    /// Keep the runs an interrupted sweep finished (in the output directory's
    /// `runs.jsonl`) and run only the rest.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard K of N (every N-th run); join the shards with `archsim merge`.
    /// `auto` reads K and N from a Slurm job array (SLURM_ARRAY_TASK_ID, _COUNT, _MIN);
    /// `auto/N` reads K from a Kubernetes indexed Job (JOB_COMPLETION_INDEX + 1).
    #[arg(long, value_name = "K/N|auto|auto/N")]
    pub shard: Option<String>,
    /// Also write a self-contained HTML report of the sweep (its charts with confidence
    /// bands) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Refuse a grid of more runs than this (variants × points × seeds; at most
    /// 100,000,000).
    #[arg(
        long,
        value_name = "N",
        default_value_t = RUNS_MAX as u64,
        value_parser = clap::value_parser!(u64).range(1..=RUNS_CEILING as u64),
    )]
    pub max_runs: u64,
    /// Bounds on each run.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Output format of a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For tools: stable, sorted keys, no wall-clock figures.
    Json,
}

/// `archsim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (RON).
    pub scenario: PathBuf,
    /// Seed to use instead of the scenario's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Judge the expectations over this many seeds, from the seed on, instead of the
    /// scenario's `seeds`; the summary's figures are the first seed's.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub seeds: Option<u64>,
    /// Worker threads for the other seeds (default: one per core). The result does not
    /// depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override a parameter by dotted path, e.g. `db.replication.lag=exp(500ms)`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Write every event as JSON lines to this file.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Summary format (JSON leaves out wall-clock figures unless `--wall`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Include wall-clock figures in JSON output (always shown in text).
    #[arg(long)]
    pub wall: bool,
    /// After the summary, draw each violation's story as a sequence diagram (the run is
    /// replayed to find its messages).
    #[arg(long)]
    pub explain: bool,
    /// Draw diagrams with ASCII characters only.
    #[arg(long)]
    pub ascii: bool,
    /// Diagram width in columns (default: the terminal's, else 120).
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<usize>,
    /// Write a self-contained HTML report (verdicts, stories as sequence diagrams,
    /// charts, fault timeline) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the run per second as CSV: offered load, attempts, goodput, errors,
    /// timeouts, each operation's p50 and p99, each queue's utilisation and length.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Write the run's reads and writes as a history Jepsen's Elle and Knossos read:
    /// EDN lines for a `.edn` file, else JSON lines.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Bounds on the run.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Set from the global `-q/--quiet`.
    #[arg(skip)]
    pub quiet: bool,
}

/// Bounds on every run, shared by `run` and `sweep`.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Stop a run with an error after this many events (default 5,000,000,000).
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Stop a run with an error when more than this many events are pending at once,
    /// which bounds its memory (default 50,000,000).
    #[arg(long, value_name = "N")]
    pub max_pending: Option<usize>,
    /// Run even when the events of the run's start (its first simulated second or
    /// hundredth of its duration, whichever is shorter) forecast more than the event
    /// limit; the event limit is lifted unless `--max-events` is given.
    #[arg(long)]
    pub force: bool,
}

impl LimitArgs {
    /// The engine's limits these arguments ask for.
    pub fn limits(&self) -> Limits {
        let mut limits = if self.force { Limits::unbounded() } else { Limits::default() };
        if let Some(events) = self.max_events {
            limits.events = events;
        }
        if let Some(pending) = self.max_pending {
            limits.pending = pending;
        }
        limits
    }
}
