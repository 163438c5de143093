//! What every command shares: exit codes, writing to stdout and stderr without
//! panicking when either is closed, errors without a place in a file, the worker pool,
//! the progress bar, and the files a finished sweep writes (`sweep` and `merge`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::Format;
use crate::html::SweepReport;
use crate::report::write_atomically;
use crate::schema::source::Place;
use crate::schema::{Diagnostic, LoadError};
use crate::sweep::{RunResult, outputs};

/// Exit code: everything as expected.
pub const EXIT_OK: i32 = 0;
/// Exit code: a verdict differs from what the scenario expects.
pub const EXIT_VERDICT_DIFFERS: i32 = 1;
/// Exit code: bad input or usage.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Prints `msg` as an error that has no place in a file; returns the bad-input code.
pub fn error(msg: &str) -> i32 {
    to_stderr(&format!("error: {msg}\n"));
    EXIT_BAD_INPUT
}

/// Writes `text` to stderr. A closed stderr (`archsim ... 2>&1 | head -1`) must not
/// turn a clean refusal into a panic, as `eprint!` would.
fn to_stderr(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// A rayon pool of `threads` workers (default: one per core).
pub fn worker_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))
}

/// Prints `err` for people (`Text`) or tools (`Json`); returns the bad-input code.
pub fn report_errors(format: Format, err: &LoadError) -> i32 {
    match format {
        Format::Text => to_stderr(&err.to_string()),
        Format::Json => {
            let value = serde_json::json!({ "errors": err.diagnostics });
            let text = serde_json::to_string_pretty(&value).expect("errors serialise") + "\n";
            // A closed stdout must not turn a clean refusal into a panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    EXIT_BAD_INPUT
}

/// Writes a rendered HTML page to `path`, all or nothing.
pub fn write_html(path: &Path, page: Result<String, String>) -> std::io::Result<()> {
    let page = page.map_err(std::io::Error::other)?;
    write_atomically(path, |out| out.write_all(page.as_bytes()))
}

/// Writes a whole sweep's files and, given its path and title, its HTML report; returns
/// the files written.
pub fn write_outputs(
    out: &Path,
    spec: &crate::sweep::SweepSpec,
    results: &[RunResult],
    html: Option<(&Path, &str)>,
) -> Result<(Vec<PathBuf>, String), String> {
    let mut written = outputs::write(out, spec, results)?;
    let headline = crate::sweep::headline::headline(spec, &written.stats);
    if let Some((path, title)) = html {
        let stats = &written.stats;
        let figures = &written.figures;
        let report =
            SweepReport { title, spec, runs: results.len(), stats, figures, headline: &headline };
        let page = report.render();
        write_html(path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.files.push(path.to_path_buf());
    }
    Ok((written.files, headline_text(&headline)))
}

/// The headline's lines for the terminal, the first marked `headline`.
fn headline_text(lines: &[String]) -> String {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        let mark = if i == 0 { "headline" } else { "" };
        text.push_str(&format!("{mark:<10} {line}\n"));
    }
    text
}

/// Prints to stdout; a closed stdout (`| head`) must not turn finished work into a panic.
pub fn print(text: &str) -> Result<(), i32> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `archsim run s.ron | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(EXIT_OK),
        Err(e) => Err(error(&format!("cannot write to stdout: {e}"))),
    }
}

/// Reports `msg` about `path` as bad input.
pub fn fail(path: &Path, msg: &str) -> i32 {
    let place = Place::file_start(&path.display().to_string());
    report_errors(Format::Text, &LoadError::one(Diagnostic::at(place, msg.to_string())))
}

/// A progress bar with runs done, runs per second and time left, drawn only on a
/// terminal and without `--quiet`.
pub fn progress(total: u64, quiet: bool) -> ProgressBar {
    styled(
        ProgressBar::new(total),
        "{bar:40} {pos}/{len} runs, {rate} runs/s, {elapsed} elapsed, {eta} left",
        quiet,
    )
}

/// A counter of runs whose number is not known ahead (a shrink tries until nothing
/// smaller fails), on standard error when it is a terminal and not `quiet`.
pub fn progress_open(quiet: bool, what: &str) -> ProgressBar {
    let template = format!("{{spinner}} {{pos}} runs {what}, {{rate}} runs/s, {{elapsed}} elapsed");
    styled(ProgressBar::no_length(), &template, quiet)
}

/// `bar` drawn with `template`, where `{rate}` is runs per second to one decimal.
fn styled(bar: ProgressBar, template: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
        return bar;
    }
    let rate = |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.1}", state.per_sec());
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.with_key("rate", rate));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
