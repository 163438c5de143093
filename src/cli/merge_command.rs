//! `archsim merge`: joins the journals of a sweep's shards, checks that they record the
//! same sweep and together hold every run once, and writes the files one machine
//! running the whole sweep would have written, byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::args::{Format, MergeArgs};
use super::output::report_errors;
use super::output::{fail, print, write_outputs};
use crate::sweep::RunResult;
use crate::sweep::journal::{self, Header, same_result};

/// `archsim merge`.
pub fn merge_command(args: &MergeArgs) -> i32 {
    let mut first: Option<(PathBuf, Header)> = None;
    let mut runs: BTreeMap<usize, (RunResult, PathBuf)> = BTreeMap::new();
    for shard in &args.shards {
        let path = journal_path(shard);
        let (header, results) = match journal::read(&path) {
            Ok(j) => j,
            Err(e) => return report_errors(Format::Text, &e),
        };
        match &first {
            Some((p, h)) if !h.same_sweep(&header) => {
                let msg = format!(
                    "records another sweep than {} (scenario, model or overrides differ)",
                    p.display()
                );
                return fail(&path, &msg);
            }
            Some(_) => {}
            None => first = Some((path.clone(), header)),
        }
        for r in results {
            match runs.get(&r.plan.index) {
                Some((other, p)) if !same_result(other, &r) => {
                    let msg = format!(
                        "run {} differs from the same run in {}",
                        r.plan.index,
                        p.display()
                    );
                    return fail(&path, &msg);
                }
                Some(_) => {}
                None => {
                    runs.insert(r.plan.index, (r, path.clone()));
                }
            }
        }
    }
    let Some((_, header)) = first else { return fail(Path::new("."), "no shard given") };
    let missing: Vec<usize> = (0..header.runs).filter(|i| !runs.contains_key(i)).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(usize::to_string).collect();
        let msg = format!(
            "{} of the sweep's {} runs are in no journal (runs {}{}); finish the shards \
             that hold them with `archsim sweep --shard K/N --resume`",
            missing.len(),
            header.runs,
            shown.join(", "),
            if missing.len() > shown.len() { ", ..." } else { "" }
        );
        return fail(&args.out, &msg);
    }
    let results: Vec<RunResult> = runs.into_values().map(|(r, _)| r).collect();
    let header = Header { shard: crate::sweep::Shard::WHOLE.to_string(), ..header };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return fail(&args.out, &format!("cannot create the output directory: {e}"));
    }
    let merged = args.out.join(journal::FILE);
    if let Err(e) = journal::write(&merged, &header, &results) {
        return report_errors(Format::Text, &e);
    }
    // The scenario's name; a journal from before it was kept has only its folder's.
    let folder = || args.out.file_name().map(|n| n.to_string_lossy().into_owned());
    let title = if header.scenario.is_empty() {
        folder().unwrap_or_default()
    } else {
        header.scenario.clone()
    };
    let html = args.html.as_deref().map(|path| (path, title.as_str()));
    let (files, headline) = match write_outputs(&args.out, &header.spec, &results, html) {
        Ok(f) => f,
        Err(msg) => return fail(&args.out, &msg),
    };
    let mut text = format!("merged {} runs from {} journals\n", results.len(), args.shards.len());
    text.push_str(&headline);
    for f in std::iter::once(&merged).chain(&files).filter(|_| !args.quiet) {
        text.push_str(&format!("wrote {}\n", f.display()));
    }
    if let Err(code) = print(&text) {
        return code;
    }
    super::output::EXIT_OK
}

/// A shard's journal: the directory's `runs.jsonl`, or the file itself.
fn journal_path(shard: &Path) -> PathBuf {
    if shard.is_dir() { shard.join(journal::FILE) } else { shard.to_path_buf() }
}
