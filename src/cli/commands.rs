//! The commands behind the arguments, and exit codes: 0 all as expected, 1 a verdict
//! differs, 2 bad input or usage.

use std::path::Path;
use std::time::Instant;

use clap::Parser;

use super::args::{Args, Command, Format, RunArgs};
use super::output::{
    EXIT_BAD_INPUT, EXIT_OK, EXIT_VERDICT_DIFFERS, error, report_errors, worker_pool, write_html,
};
use crate::components::Registry;
use crate::engine::Halt;
use crate::html::RunReport;
use crate::hunt::judged_over_seeds;
use crate::model::Scenario;
use crate::report::explain::replay;
use crate::report::sequence::Sequence;
use crate::report::{Summary, TraceWriter, history_export, sequence_text, write_atomically};
use crate::run::{RunError, RunOutcome, execute, execute_traced};
use crate::schema::source::Place;
use crate::schema::{Diagnostic, LoadError, Override, field_place, load_scenario};

/// Exit code after SIGINT or SIGTERM, as a shell reports a process killed by SIGINT.
const EXIT_INTERRUPTED: i32 = 130;

/// Parses the process arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    // Ctrl-C or a `kill`: remove the temporary files of outputs being written (their
    // targets stay as they were), then exit.
    let _ = ctrlc::set_handler(|| {
        crate::report::output::remove_temp_files();
        std::process::exit(EXIT_INTERRUPTED);
    });
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    let quiet = args.quiet;
    args.color.apply();
    match args.command {
        Command::Run(run) => run_command(&RunArgs { quiet, ..run }, &Registry::new()),
        Command::Sweep(sweep) => {
            super::sweep_command::sweep_command(&super::args::SweepArgs { quiet, ..sweep })
        }
        Command::Merge(merge) => {
            super::merge_command::merge_command(&super::args::MergeArgs { quiet, ..merge })
        }
        Command::Hunt(hunt) => {
            super::hunt_command::hunt_command(&super::args::HuntArgs { quiet, ..hunt })
        }
        Command::Diff(diff) => {
            super::diff_command::diff_command(&super::args::DiffArgs { quiet, ..diff })
        }
        Command::Shrink(shrink) => {
            super::shrink_command::shrink_command(&super::args::ShrinkArgs { quiet, ..shrink })
        }
        Command::Completions(c) => super::docs_command::completions_command(&c),
        Command::Man => super::docs_command::man_command(),
    }
}

fn output_error(path: &Path, e: &std::io::Error) -> LoadError {
    let place = Place::file_start(&path.display().to_string());
    LoadError::one(Diagnostic::at(place, format!("cannot write output: {e}")))
}

/// Runs with every event written to `path`; the outer error is the file's, the inner
/// one the run's. A run that fails leaves no trace file behind.
fn run_traced(
    scenario: &Scenario,
    registry: &Registry,
    path: &Path,
    keep_ops: bool,
) -> std::io::Result<Result<RunOutcome, RunError>> {
    let mut result = None;
    let written = write_atomically(path, |out| {
        let mut writer = TraceWriter::new(out);
        let run = execute_traced(scenario, registry, keep_ops, |d, names, _| {
            writer.event(d, names);
        });
        let failed = run.as_ref().err().cloned();
        result = Some(run);
        writer.finish()?;
        failed.map_or(Ok(()), |e| Err(std::io::Error::other(e)))
    });
    match (written, result) {
        (_, Some(Err(msg))) => Ok(Err(msg)),
        (Ok(()), Some(Ok(outcome))) => Ok(Ok(outcome)),
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(std::io::Error::other("the trace writer never ran")),
    }
}

/// Prints why a run gave no outcome. A forecast that the run could never finish is
/// the duration's fault, so it is reported where the duration was set.
fn report_run_error(args: &RunArgs, e: &RunError) -> i32 {
    let RunError::Halted { halt: Halt::Forecast { estimate, .. }, message } = e else {
        return error(&e.to_string());
    };
    let set = args.set.iter().rev().find_map(|arg| {
        let o = Override::from_cli(arg).ok()?;
        (o.path == "duration").then(|| o.path_place())
    });
    let Some(place) = set.or_else(|| field_place(&args.scenario, &["duration"])) else {
        return error(&e.to_string());
    };
    // A rough figure, only to say what --force would cost.
    let wall = std::time::Duration::from_secs(estimate / EVENTS_PER_SECOND);
    let hint = format!(
        "shorten `duration` or use fewer clients; --force runs it anyway (at about {} \
         million events a second, some {})",
        EVENTS_PER_SECOND / 1_000_000,
        humantime::format_duration(wall)
    );
    let d = Diagnostic::at(place, message.clone()).with_hint(Some(hint));
    report_errors(args.format, &LoadError::one(d))
}

/// What a run dispatches per second on one core, roughly (3–5 million on the shipped
/// scenarios); only for the forecast's hint.
const EVENTS_PER_SECOND: u64 = 4_000_000;

/// The diagrams, each under a title, for the terminal's width.
fn diagrams_text(diagrams: &[(&str, Sequence)], args: &RunArgs) -> String {
    let width = args.width.unwrap_or_else(|| {
        let term = console::Term::stdout();
        term.size_checked().map_or(120, |(_, cols)| usize::from(cols))
    });
    let mut text = String::new();
    for (check, seq) in diagrams {
        text.push_str(&format!("\nsequence of the {check} story:\n"));
        text.push_str(&sequence_text::render(seq, width, args.ascii));
    }
    text
}

/// Writes the run's reads and writes for Jepsen's checkers (EDN for `.edn`, else JSON
/// lines), all or nothing.
fn write_history(path: &Path, outcome: &RunOutcome) -> std::io::Result<()> {
    let lines = history_export::lines(&outcome.history)
        .ok_or_else(|| std::io::Error::other("the run kept no operations"))?;
    let format = history_export::HistoryFormat::for_path(path);
    write_atomically(path, |out| history_export::write(&lines, format, out))
}

/// `archsim run`: load, run once, print the summary.
pub fn run_command(args: &RunArgs, registry: &Registry) -> i32 {
    let mut scenario = match load_scenario(&args.scenario, &args.set, registry) {
        Ok(s) => s,
        Err(e) => return report_errors(args.format, &e),
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(seeds) = args.seeds {
        scenario.seeds = seeds;
    }
    scenario.limits = args.limits.limits();
    let keep_ops = args.history.is_some();
    let started = Instant::now();
    let outcome = match &args.trace {
        None => execute(&scenario, registry, keep_ops),
        Some(path) => match run_traced(&scenario, registry, path, keep_ops) {
            Ok(run) => run,
            Err(e) => return report_errors(args.format, &output_error(path, &e)),
        },
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return report_run_error(args, &e),
    };
    let wall = started.elapsed().as_secs_f64();
    if let Some(path) = &args.history {
        if let Err(e) = write_history(path, &outcome) {
            return report_errors(args.format, &output_error(path, &e));
        }
    }
    if let Some(path) = &args.timeline {
        let csv =
            crate::report::timeline::TimelineSummary::of(&outcome, scenario.duration).to_csv();
        if let Err(e) = write_atomically(path, |out| out.write_all(csv.as_bytes())) {
            return report_errors(args.format, &output_error(path, &e));
        }
    }
    let show_wall = args.format == Format::Text || args.wall;
    let summary = Summary::new(&scenario, &outcome, show_wall.then_some(wall));
    let summary = match worker_pool(args.threads)
        .and_then(|pool| pool.install(|| judged_over_seeds(&scenario, summary)))
    {
        Ok(s) => s,
        Err(msg) => return error(&msg),
    };
    let mut text = match args.format {
        Format::Text => summary.to_text(),
        Format::Json => summary.to_json() + "\n",
    };
    let explained = args.explain && args.format == Format::Text;
    if explained || args.html.is_some() {
        let replayed = replay(&scenario, registry, &outcome, args.html.is_some());
        let replayed = match replayed {
            Ok(r) => r,
            Err(msg) => {
                return error(&format!("cannot replay the run to explain it: {msg}"));
            }
        };
        if explained {
            text.push_str(&diagrams_text(&replayed.diagrams, args));
        }
        if let Some(path) = &args.html {
            let report = RunReport {
                scenario: &scenario,
                summary: &summary,
                outcome: &outcome,
                replay: &replayed,
            };
            if let Err(e) = write_html(path, report.render()) {
                return report_errors(args.format, &output_error(path, &e));
            }
        }
    }
    if args.format == Format::Text && !args.quiet {
        let written = [&args.trace, &args.history, &args.timeline, &args.html];
        for path in written.into_iter().flatten() {
            text.push_str(&format!("wrote {}\n", path.display()));
        }
    }
    if let Err(code) = super::output::print(&text) {
        return code;
    }
    if summary.as_expected() { EXIT_OK } else { EXIT_VERDICT_DIFFERS }
}
