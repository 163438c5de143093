//! `archsim sweep`: every run of a scenario's grid on a rayon pool, then
//! `results.csv`, `summary.csv` and one chart per metric (SVG and PNG) in the output
//! directory, each written atomically.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{Format, SweepArgs};
use super::commands::{EXIT_OK, report_errors};
use crate::report::write_atomically;
use crate::schema::source::Place;
use crate::schema::{Diagnostic, LoadError, load_sweep};
use crate::sweep::runner::{load_points, missing_metrics, run_all, run_one};
use crate::sweep::tables::{point_stats, results_csv, summary_csv};
use crate::sweep::{RunResult, SweepSpec, chart};

/// `archsim sweep`.
pub fn sweep_command(args: &SweepArgs) -> i32 {
    let spec = match load_sweep(&args.scenario) {
        Ok(s) => s,
        Err(e) => return report_errors(Format::Text, &e),
    };
    let scenarios = match load_points(&args.scenario, &spec, &args.set) {
        Ok(s) => s,
        Err(e) => return report_errors(Format::Text, &e),
    };
    let plans = spec.runs(scenarios[0].seed);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads.unwrap_or(0)).build();
    let pool = match pool {
        Ok(p) => p,
        Err(e) => return fail(&args.scenario, &format!("cannot start worker threads: {e}")),
    };
    let started = Instant::now();
    // The first run alone: a metric the summary lacks is refused before the rest run.
    let (first, json) = match run_one(&spec, &scenarios, &plans[0]) {
        Ok(r) => r,
        Err(msg) => return fail(&args.scenario, &msg),
    };
    let missing = missing_metrics(&json, &spec.metrics);
    if !missing.is_empty() {
        return fail(&args.scenario, &missing.join("; "));
    }
    let bar = progress(plans.len() as u64, args.quiet);
    bar.inc(1);
    let rest = pool.install(|| run_all(&spec, &scenarios, &plans[1..], &|| bar.inc(1)));
    bar.finish_and_clear();
    let mut results = vec![first];
    match rest {
        Ok(r) => results.extend(r),
        Err(msg) => return fail(&args.scenario, &msg),
    }
    let wall = started.elapsed().as_secs_f64();
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.scenario));
    match write_outputs(&out, &spec, &results) {
        Ok(files) => {
            let rate = results.len() as f64 / wall.max(1e-9);
            let threads = pool.current_num_threads();
            let mut text = format!(
                "{} runs in {wall:.1} s wall ({rate:.1} runs/s, {threads} threads)\n",
                results.len()
            );
            files.iter().for_each(|f| text.push_str(&format!("wrote {}\n", f.display())));
            // A closed stdout (`| head`) must not turn a finished sweep into a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
            EXIT_OK
        }
        Err(msg) => fail(&out, &msg),
    }
}

fn fail(path: &Path, msg: &str) -> i32 {
    let place = Place::file_start(&path.display().to_string());
    report_errors(Format::Text, &LoadError::one(Diagnostic::at(place, msg.to_string())))
}

/// `sweeps/<file stem>`.
fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario.file_stem().map(|s| s.to_string_lossy().into_owned());
    Path::new("sweeps").join(stem.unwrap_or_else(|| "sweep".into()))
}

/// A progress bar with runs done, runs per second and time left, drawn only on a
/// terminal and without `--quiet`.
fn progress(total: u64, quiet: bool) -> ProgressBar {
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

/// A file name for a metric: lower-case letters and digits, `_` between words.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// Writes the CSVs and one chart per metric; returns the files written.
fn write_outputs(
    out: &Path,
    spec: &SweepSpec,
    results: &[RunResult],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create the output directory: {e}"))?;
    let mut files = Vec::new();
    let text = |path: &Path, body: String| {
        write_atomically(path, |w| w.write_all(body.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    for (name, body) in
        [("results.csv", results_csv(spec, results)), ("summary.csv", summary_csv(spec, results))]
    {
        let path = out.join(name);
        text(&path, body)?;
        files.push(path);
    }
    let stats = point_stats(spec, results);
    for (m, metric) in spec.metrics.iter().enumerate() {
        let lines = chart::lines(spec, &stats, m);
        let title = format!("{} vs {}", metric.name, spec.axes[0].label);
        let labels = (spec.axes[0].label.as_str(), metric.name.as_str());
        let base = out.join(slug(&metric.name));
        let svg_path = base.with_extension("svg");
        text(&svg_path, chart::svg(&title, labels, &lines)?)?;
        let png_path = base.with_extension("png");
        chart::png(&png_path, &title, labels, &lines)?;
        files.extend([svg_path, png_path]);
    }
    Ok(files)
}
