//! `archsim sweep`: every run of a scenario's grid (or of one shard of it) on a rayon
//! pool, each appended to the journal `runs.jsonl` as it ends; then, for the whole
//! sweep, `results.csv`, `summary.csv`, `distributions.csv` and the charts, each written
//! atomically.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{Format, SweepArgs};
use super::commands::write_html;
use super::commands::{EXIT_OK, report_errors};
use crate::html::SweepReport;
use crate::schema::source::Place;
use crate::schema::{Diagnostic, LoadError, load_sweep};
use crate::sweep::journal::{self, Header, Journal};
use crate::sweep::runner::{fingerprint, load_points, run_all};
use crate::sweep::{RunResult, Shard, outputs};

/// `archsim sweep`.
pub fn sweep_command(args: &SweepArgs) -> i32 {
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s.unwrap_or(Shard::WHOLE),
        Err(msg) => return fail(&args.scenario, &msg),
    };
    let spec = match load_sweep(&args.scenario, args.max_runs as usize) {
        Ok(s) => s,
        Err(e) => return report_errors(Format::Text, &e),
    };
    let mut scenarios = match load_points(&args.scenario, &spec, &args.set) {
        Ok(s) => s,
        Err(e) => return report_errors(Format::Text, &e),
    };
    let limits = args.limits.limits();
    scenarios.iter_mut().for_each(|s| s.limits = limits);
    let seed = scenarios[0].seed;
    let header = Header::new(&spec, fingerprint(&scenarios), seed, shard);
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.scenario, shard));
    if let Err(e) = std::fs::create_dir_all(&out) {
        return fail(&out, &format!("cannot create the output directory: {e}"));
    }
    let path = out.join(journal::FILE);
    let (journal, kept) = match Journal::open(&path, &header, args.resume) {
        Ok(j) => j,
        Err(e) => return report_errors(Format::Text, &e),
    };
    let done: BTreeSet<usize> = kept.iter().map(|r| r.plan.index).collect();
    let selected: Vec<_> = spec.runs(seed).into_iter().filter(|p| shard.selects(p.index)).collect();
    let plans: Vec<_> = selected.iter().filter(|p| !done.contains(&p.index)).cloned().collect();
    // A fresh sweep checks its metrics on its first run and stops early if one is missing.
    let check = if kept.is_empty() { plans.first().map(|p| p.index) } else { None };
    let pool = match super::commands::worker_pool(args.threads) {
        Ok(p) => p,
        Err(msg) => return fail(&args.scenario, &msg),
    };
    let bar = progress(selected.len() as u64, args.quiet);
    bar.set_position(kept.len() as u64);
    let started = Instant::now();
    let new = pool.install(|| run_all(&spec, &scenarios, &plans, check, &journal, &|| bar.inc(1)));
    bar.finish_and_clear();
    let new = match new {
        Ok(r) => r,
        Err(msg) => {
            if kept.is_empty() {
                // Nothing of an earlier start is at stake, and a rerun needs a fix first.
                let _ = std::fs::remove_file(&path);
            }
            return fail(&args.scenario, &msg);
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let (ran, resumed) = (new.len(), kept.len());
    let mut results = kept;
    results.extend(new);
    results.sort_by_key(|r| r.plan.index);
    if let Err(e) = journal.finish(&header, &results) {
        return report_errors(Format::Text, &e);
    }
    let mut text = format!(
        "{ran} runs in {wall:.1} s wall ({:.1} runs/s, {} threads)\n",
        ran as f64 / wall.max(1e-9),
        pool.current_num_threads()
    );
    if resumed > 0 {
        text.push_str(&format!("{resumed} runs kept from an earlier start\n"));
    }
    let html = args.html.as_deref().map(|path| (path, scenarios[0].name.as_str()));
    finish(&out, &spec, &results, (shard, header.runs), html, text)
}

/// Writes the outputs of a whole sweep, or says how to merge a shard; prints `text` and
/// the files.
fn finish(
    out: &Path,
    spec: &crate::sweep::SweepSpec,
    results: &[RunResult],
    (shard, total): (Shard, usize),
    html: Option<(&Path, &str)>,
    mut text: String,
) -> i32 {
    let files = if shard.is_whole() {
        match write_outputs(out, spec, results, html) {
            Ok(f) => f,
            Err(msg) => return fail(out, &msg),
        }
    } else {
        text.push_str(&format!(
            "shard {shard}: {} of the sweep's {total} runs; join the shards with \
             `archsim merge --out DIR SHARD_DIR...`\n",
            results.len()
        ));
        if html.is_some() {
            text.push_str("the HTML report is written by `archsim merge --html FILE`\n");
        }
        Vec::new()
    };
    let journal = out.join(journal::FILE);
    for f in std::iter::once(&journal).chain(&files) {
        text.push_str(&format!("wrote {}\n", f.display()));
    }
    print(&text);
    EXIT_OK
}

/// Writes a whole sweep's files and, given its path and title, its HTML report; returns
/// the files written.
pub fn write_outputs(
    out: &Path,
    spec: &crate::sweep::SweepSpec,
    results: &[RunResult],
    html: Option<(&Path, &str)>,
) -> Result<Vec<PathBuf>, String> {
    let mut written = outputs::write(out, spec, results)?;
    if let Some((path, title)) = html {
        let stats = &written.stats;
        let figures = &written.figures;
        let report = SweepReport { title, spec, runs: results.len(), stats, figures };
        let page = report.render();
        write_html(path, page).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.files.push(path.to_path_buf());
    }
    Ok(written.files)
}

/// Prints to stdout; a closed stdout (`| head`) must not turn finished work into a panic.
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Reports `msg` about `path` as bad input.
pub fn fail(path: &Path, msg: &str) -> i32 {
    let place = Place::file_start(&path.display().to_string());
    report_errors(Format::Text, &LoadError::one(Diagnostic::at(place, msg.to_string())))
}

/// `sweeps/<file stem>`, and `shard-K-of-N` inside it for a shard.
fn default_out(scenario: &Path, shard: Shard) -> PathBuf {
    let stem = scenario.file_stem().map(|s| s.to_string_lossy().into_owned());
    let dir = Path::new("sweeps").join(stem.unwrap_or_else(|| "sweep".into()));
    if shard.is_whole() { dir } else { dir.join(format!("shard-{}-of-{}", shard.k, shard.n)) }
}

/// A progress bar with runs done, runs per second and time left, drawn only on a
/// terminal and without `--quiet`.
pub fn progress(total: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {per_sec}, {eta} left");
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}
