//! `archsim sweep`: every run of a scenario's grid (or of one shard of it) on a rayon
//! pool, each appended to the journal `runs.jsonl` as it ends; then, for the whole
//! sweep, `results.csv`, `summary.csv`, `distributions.csv` and the charts, each written
//! atomically.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::args::{Format, SweepArgs};
use super::output::{EXIT_OK, report_errors};
use super::output::{fail, print, progress, write_outputs};
use crate::schema::load_sweep;
use crate::sweep::journal::{self, Header, Journal};
use crate::sweep::runner::{fingerprint, load_points, run_all};
use crate::sweep::{RunResult, Shard};

/// `archsim sweep`.
pub fn sweep_command(args: &SweepArgs) -> i32 {
    let shard = match args
        .shard
        .as_deref()
        .map(|s| Shard::parse_with(s, |v| std::env::var(v).ok()))
        .transpose()
    {
        Ok(s) => s.unwrap_or(Shard::WHOLE),
        Err(msg) => return fail(&args.scenario, &msg),
    };
    let spec = match load_sweep(&args.scenario, &args.set, args.max_runs as usize) {
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
    let header = Header::new(&spec, fingerprint(&scenarios), (&scenarios[0].name, seed), shard);
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.scenario, shard));
    let made_out = !out.exists();
    if let Err(e) = std::fs::create_dir_all(&out) {
        return fail(&out, &format!("cannot create the output directory: {e}"));
    }
    // A killed sweep's half-written outputs are of no use to this one.
    if let Err(e) = crate::report::output::remove_stale_temp_files(&out) {
        return fail(&out, &format!("cannot clear the output directory's temporary files: {e}"));
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
    let pool = match super::output::worker_pool(args.threads) {
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
                // Nothing of an earlier start is at stake, and a rerun needs a fix first;
                // a folder this start made is left only if something else is in it.
                let _ = std::fs::remove_file(&path);
                if made_out {
                    let _ = std::fs::remove_dir(&out);
                }
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
    finish(&out, &spec, &results, (shard, header.runs), html, (text, args.quiet))
}

/// Writes the outputs of a whole sweep, or says how to merge a shard; prints `text` and,
/// unless `quiet`, the files.
fn finish(
    out: &Path,
    spec: &crate::sweep::SweepSpec,
    results: &[RunResult],
    (shard, total): (Shard, usize),
    html: Option<(&Path, &str)>,
    (mut text, quiet): (String, bool),
) -> i32 {
    let files = if shard.is_whole() {
        match write_outputs(out, spec, results, html) {
            Ok((files, headline)) => {
                text.push_str(&headline);
                files
            }
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
    for f in std::iter::once(&journal).chain(&files).filter(|_| !quiet) {
        text.push_str(&format!("wrote {}\n", f.display()));
    }
    if let Err(code) = print(&text) {
        return code;
    }
    EXIT_OK
}

/// `sweeps/<file stem>`, and `shard-K-of-N` inside it for a shard.
fn default_out(scenario: &Path, shard: Shard) -> PathBuf {
    let stem = scenario.file_stem().map(|s| s.to_string_lossy().into_owned());
    let dir = Path::new("sweeps").join(stem.unwrap_or_else(|| "sweep".into()));
    if shard.is_whole() { dir } else { dir.join(format!("shard-{}-of-{}", shard.k, shard.n)) }
}
