//! The commands behind the arguments, and exit codes: 0 all as expected, 1 a verdict
//! differs, 2 bad input or usage.

use std::io::Write;
use std::time::Instant;

use clap::Parser;

use super::args::{Args, Command, Format, RunArgs};
use crate::components::Registry;
use crate::report::{Summary, TraceWriter, write_atomically};
use crate::run::{execute, execute_traced};
use crate::schema::{Diagnostic, LoadError, load_scenario};

/// Exit code: everything as expected.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad input or usage.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Parses the process arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    };
    match args.command {
        Command::Run(run) => run_command(&run, &Registry::new()),
    }
}

fn report_errors(format: Format, err: &LoadError) -> i32 {
    match format {
        Format::Text => eprint!("{err}"),
        Format::Json => {
            let value = serde_json::json!({ "errors": err.diagnostics });
            let text = serde_json::to_string_pretty(&value).expect("errors serialise") + "\n";
            // A closed stdout must not turn a clean refusal into a panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    EXIT_BAD_INPUT
}

fn output_error(path: &std::path::Path, e: &std::io::Error) -> LoadError {
    let place = crate::schema::source::Place {
        file: path.display().to_string(),
        line: 1,
        col: 1,
        line_text: String::new(),
    };
    LoadError::one(Diagnostic::at(place, format!("cannot write output: {e}")))
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
    let started = Instant::now();
    let outcome = match &args.trace {
        None => execute(&scenario, registry, false),
        Some(path) => {
            let mut result = None;
            let written = write_atomically(path, |out| {
                let mut writer = TraceWriter::new(out);
                let run = execute_traced(&scenario, registry, |d, names| writer.event(d, names));
                let failed = run.as_ref().err().cloned();
                result = Some(run);
                writer.finish()?;
                // A run that could not start leaves no trace file behind.
                failed.map_or(Ok(()), |msg| Err(std::io::Error::other(msg)))
            });
            // A failed run is reported below; any other failure is the file's.
            if let (Err(e), None | Some(Ok(_))) = (&written, &result) {
                return report_errors(args.format, &output_error(path, e));
            }
            result.expect("the trace closure ran")
        }
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("error: {msg}");
            return EXIT_BAD_INPUT;
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let show_wall = args.format == Format::Text || args.wall;
    let summary = Summary::new(&scenario, &outcome, show_wall.then_some(wall));
    let text = match args.format {
        Format::Text => summary.to_text(),
        Format::Json => summary.to_json() + "\n",
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        eprintln!("error: cannot write the summary to stdout: {e}");
        return EXIT_BAD_INPUT;
    }
    EXIT_OK
}
