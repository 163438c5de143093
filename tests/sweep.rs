//! `archsim sweep` and `archsim merge`: the same files for any thread count, for any
//! split into shards, and after an interruption; bad sweeps and bad merges refused.

mod common;

use std::path::{Path, PathBuf};

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archsim-sweep-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs archsim with `args`; asserts the exit code; returns stdout and stderr.
fn archsim(args: &[&str], code: i32) -> (String, String) {
    let run = common::archsim(args);
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(code), "{args:?}\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// Runs the shipped lag sweep, shortened, on `threads` threads into `out`, with any
/// `extra` arguments.
fn sweep_into(out: &Path, threads: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "sweep",
        "scenarios/sweep_lag_vs_loss.ron",
        "--threads",
        threads,
        "--set",
        "duration=\"1m\"",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    archsim(&args, 0).0
}

fn sweep(tag: &str, threads: &str) -> PathBuf {
    let out = out_dir(tag);
    sweep_into(&out, threads, &[]);
    out
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// Every file of `dir`, by name, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts that two sweep directories hold the same files, byte for byte.
fn assert_same_dirs(a: &Path, b: &Path, what: &str) {
    assert_eq!(files(a), files(b), "{what}: different files");
    for name in files(a) {
        assert!(read(a, &name) == read(b, &name), "{what}: {name} differs");
    }
}

#[test]
fn one_thread_and_two_write_the_same_files() {
    let (one, two) = (sweep("t1", "1"), sweep("t2", "2"));
    assert_same_dirs(&one, &two, "1 vs 2 threads");
    for name in
        ["runs.jsonl", "distributions.csv", "read_latency.svg", "staleness_of_stale_reads.png"]
    {
        assert!(one.join(name).exists(), "{name} missing");
    }
    let results = String::from_utf8(read(&one, "results.csv")).unwrap();
    // 2 variants × 11 lags × 5 seeds, plus the header.
    assert_eq!(results.lines().count(), 1 + 2 * 11 * 5);
    // The fix loses nothing at any lag; without it, 5 s of lag loses writes.
    let summary = String::from_utf8(read(&one, "summary.csv")).unwrap();
    let mean = |variant: &str, lag: &str| -> f64 {
        let prefix = format!("{variant},{lag},lost writes per 1000 acknowledged,");
        let row = summary.lines().find(|l| l.starts_with(&prefix)).expect("row");
        row[prefix.len()..].split(',').nth(1).unwrap().parse().unwrap()
    };
    assert!(mean("no fix", "5") > 100.0 && mean("no fix", "0") == 0.0);
    assert_eq!(mean("read-your-writes (session tokens)", "5"), 0.0);
    let png = read(&one, "lost_writes_per_1000_acknowledged.png");
    assert!(png.starts_with(b"\x89PNG"));
    // Stale reads exist without the fix and not with it, at the kept lags only.
    let dists = String::from_utf8(read(&one, "distributions.csv")).unwrap();
    let staleness = |prefix: &str| dists.lines().filter(|l| l.starts_with(prefix)).count();
    assert!(staleness("staleness of stale reads,no fix,5,") > 0);
    assert_eq!(staleness("staleness of stale reads,read-your-writes (session tokens),"), 0);
    assert_eq!(staleness("read latency,no fix,1,"), 0, "kept only at 0.5, 2 and 5 s");
}

#[test]
fn shards_merge_into_the_files_of_one_machine() {
    let whole = sweep("whole", "2");
    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| {
            let out = out_dir(&format!("shard{k}"));
            let text = sweep_into(&out, "1", &["--shard", &format!("{k}/3")]);
            assert!(text.contains(&format!("shard {k}/3:")), "{text}");
            assert_eq!(files(&out), vec!["runs.jsonl"], "a shard writes only its journal");
            out
        })
        .collect();
    let merged = out_dir("merged");
    let m = merged.to_str().unwrap();
    // Two of three shards are not the whole sweep.
    let (_, err) = archsim(
        &["merge", "--out", m, shards[0].to_str().unwrap(), shards[2].to_str().unwrap()],
        2,
    );
    assert!(err.contains("37 of the sweep's 110 runs are in no journal (runs 1, 4, 7"), "{err}");
    assert!(!merged.join("results.csv").exists());
    let mut args = vec!["merge", "--out", m];
    // Any order, and a shard given twice, merge the same.
    args.extend(shards.iter().rev().map(|s| s.to_str().unwrap()));
    args.push(shards[1].to_str().unwrap());
    let (text, _) = archsim(&args, 0);
    assert!(text.starts_with("merged 110 runs from 4 journals"), "{text}");
    assert_same_dirs(&whole, &merged, "merged shards vs one machine");
    // The merged report is titled after the scenario, not the output folder.
    let html_dir = out_dir("merged-html");
    std::fs::create_dir_all(&html_dir).unwrap();
    let html = html_dir.join("report.html");
    let mut with_html = args.clone();
    let html_arg = html.to_str().unwrap();
    with_html.extend(["--html", html_arg]);
    archsim(&with_html, 0);
    let page = std::fs::read_to_string(&html).unwrap();
    let title = "refresh and resubmit: replication lag vs lost writes</title>";
    assert!(page.contains(title), "{}", &page[..page.len().min(400)]);
    // A shard of another sweep (other overrides) is refused.
    let other = out_dir("other");
    sweep_into(&other, "2", &["--shard", "2/3", "--set", "clients.count=20"]);
    let args = ["merge", "--out", m, shards[0].to_str().unwrap(), other.to_str().unwrap()];
    let (_, err) = archsim(&args, 2);
    assert!(err.contains("records another sweep"), "{err}");
}

#[test]
fn an_interrupted_sweep_resumes_where_it_stopped() {
    let whole = sweep("complete", "2");
    let journal = String::from_utf8(read(&whole, "runs.jsonl")).unwrap();
    // As a kill leaves it: the header, 40 finished runs, and half of the next line.
    let lines: Vec<&str> = journal.split_inclusive('\n').collect();
    let torn = &lines[41][..lines[41].len() / 2];
    let cut: String = lines[..41].concat() + torn;
    let resumed = out_dir("resumed");
    std::fs::create_dir_all(&resumed).unwrap();
    std::fs::write(resumed.join("runs.jsonl"), &cut).unwrap();
    // A `kill -9` mid-write also leaves a half-written output behind: resuming clears it.
    std::fs::write(resumed.join(".summary.csv.tmp-4194304"), "half a summary").unwrap();
    let text = sweep_into(&resumed, "2", &["--resume"]);
    assert!(!resumed.join(".summary.csv.tmp-4194304").exists(), "a stale temporary file stays");
    assert!(text.starts_with("70 runs in"), "{text}");
    assert!(text.contains("40 runs kept from an earlier start"), "{text}");
    assert_same_dirs(&whole, &resumed, "resumed vs uninterrupted");
    // Resuming a finished sweep runs nothing; resuming with other overrides is refused.
    let text = sweep_into(&resumed, "2", &["--resume"]);
    assert!(text.starts_with("0 runs in"), "{text}");
    let args = [
        "sweep",
        "scenarios/sweep_lag_vs_loss.ron",
        "--quiet",
        "--resume",
        "--out",
        resumed.to_str().unwrap(),
    ];
    let (_, err) = archsim(&args, 2);
    assert!(
        err.contains("runs.jsonl:1:1: error: the journal holds runs of another sweep"),
        "{err}"
    );
}

#[test]
fn a_scenario_without_a_sweep_or_with_a_bad_metric_is_refused() {
    let out = out_dir("bad");
    let o = out.to_str().unwrap();
    let (_, stderr) = archsim(&["sweep", "scenarios/crash_wal.ron", "--out", o, "--quiet"], 2);
    assert!(stderr.starts_with("scenarios/crash_wal.ron:"), "{stderr}");
    assert!(stderr.contains("no `sweep` block"), "{stderr}");
    let args = ["sweep", "tests/sweep_input/bad_metric.ron", "--out", o, "--quiet"];
    let (_, stderr) = archsim(&args, 2);
    assert!(stderr.contains("the summary has no number at `checks.nope.violations`"), "{stderr}");
    assert!(!out.join("results.csv").exists(), "a refused sweep wrote results");
    assert!(!out.join("runs.jsonl").exists(), "a refused sweep left a journal");
    assert!(!out.exists(), "a refused sweep left the folder it made");
    let args = ["sweep", "tests/sweep_input/staleness_unchecked.ron", "--out", o, "--quiet"];
    let (_, stderr) = archsim(&args, 2);
    assert!(stderr.contains("add it to `check`"), "{stderr}");
    let args = ["sweep", "tests/sweep_input/bad_distributions.ron", "--out", o, "--quiet"];
    let (_, stderr) = archsim(&args, 2);
    assert!(stderr.contains(":38:40:"), "the bad name's line: {stderr}");
    assert!(
        stderr.contains("no distribution `latency.raed`; did you mean `latency.read`?"),
        "{stderr}"
    );
    assert!(stderr.contains("0.7 is not a value of the first axis (0, 0.5, 1,"), "{stderr}");
    assert!(
        stderr.contains(
            ":40:20: error: `Read  latency!` and `read latency` would write the same chart file"
        ),
        "{stderr}"
    );
    let args = ["sweep", "tests/sweep_input/bad_format.ron", "--out", o, "--quiet"];
    let (_, stderr) = archsim(&args, 2);
    assert!(stderr.starts_with("--set:1:25: error: invalid duration \"0q\""), "{stderr}");
    assert!(stderr.contains("help: the sweep made this override (variant `no fix`)"), "{stderr}");
    let args = ["sweep", "scenarios/sweep_lag_vs_loss.ron", "--shard", "0/2", "--out", o];
    let (_, stderr) = archsim(&args, 2);
    assert!(stderr.contains("expected K/N with 1 ≤ K ≤ N"), "{stderr}");
    // The grid's cap and each run's limits are the user's to set.
    let args = ["sweep", "scenarios/sweep_lag_vs_loss.ron", "--max-runs", "100", "--out", o];
    let (_, stderr) = archsim(&args, 2);
    assert!(stderr.contains("110 runs: at most 100"), "{stderr}");
    assert!(stderr.contains("help: fewer seeds or values, or --max-runs"), "{stderr}");
    let args = ["sweep", "scenarios/sweep_lag_vs_loss.ron", "--max-events", "1000", "--out", o];
    let (_, stderr) = archsim(&[&args[..], &["--quiet"]].concat(), 2);
    assert!(stderr.contains("after 1000 events, its limit of 1000"), "{stderr}");
    assert!(!out.join("runs.jsonl").exists(), "a stopped sweep left a journal");
}

#[test]
fn a_damaged_journal_is_refused_not_panicked_on() {
    let shard = out_dir("damaged");
    // Run 5: the first at 0.5 s of lag, where the distributions are kept.
    sweep_into(&shard, "1", &["--shard", "6/110"]);
    let journal = String::from_utf8(read(&shard, "runs.jsonl")).unwrap();
    let (head, runs) = journal.split_once('\n').unwrap();
    let header: serde_json::Value = serde_json::from_str(head).unwrap();
    let damaged = |edit: &dyn Fn(&mut serde_json::Value), body: &str| {
        let mut h = header.clone();
        edit(&mut h);
        std::fs::write(shard.join("runs.jsonl"), format!("{h}\n{body}")).unwrap();
        let out = out_dir("damaged-merge");
        let args = ["merge", "--out", out.to_str().unwrap(), shard.to_str().unwrap()];
        archsim(&args, 2).1
    };
    let err = damaged(&|h| h["spec"]["axes"] = serde_json::json!([]), runs);
    assert!(
        err.contains(
            "runs.jsonl:1:1: error: the journal's sweep cannot be run: the sweep has no axis"
        ),
        "{err}"
    );
    let err = damaged(&|h| h["spec"]["axes"][0]["values"] = serde_json::json!([]), runs);
    assert!(err.contains("an axis has no value"), "{err}");
    let err = damaged(&|h| h["runs"] = serde_json::json!(7), runs);
    assert!(err.contains("the header says 7 runs, its sweep makes 110"), "{err}");
    let bad_bucket = runs.replacen("\"buckets\":[[", "\"buckets\":[[99999999,1],[", 1);
    let err = damaged(&|_| {}, &bad_bucket);
    assert!(err.contains("runs.jsonl:2:1: error: no histogram bucket 99999999"), "{err}");
}

#[test]
fn a_set_on_the_sweep_block_changes_the_sweep() {
    let out = out_dir("seeds1");
    sweep_into(&out, "2", &["--set", "sweep.seeds=1"]);
    let results = String::from_utf8(read(&out, "results.csv")).unwrap();
    // 2 variants × 11 lags × 1 seed (the file says 5), plus the header.
    assert_eq!(results.lines().count(), 1 + 2 * 11);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn quiet_anywhere_on_the_line_leaves_out_the_wrote_lines() {
    let out = out_dir("quiet");
    let o = out.to_str().unwrap();
    let base = ["sweep", "scenarios/sweep_lag_vs_loss.ron", "--set", "duration=\"5s\"", "--out", o];
    let (loud, _) = archsim(&base, 0);
    assert!(loud.lines().any(|l| l.starts_with("wrote ")), "{loud}");
    for quiet in [&["-q"][..], &["--quiet"][..]] {
        let (before, _) = archsim(&[quiet, &base[..]].concat(), 0);
        let (after, _) = archsim(&[&base[..], quiet].concat(), 0);
        for text in [before, after] {
            assert!(!text.lines().any(|l| l.starts_with("wrote ")), "{text}");
            assert!(!text.is_empty(), "the results still print");
        }
    }
}

#[test]
fn a_whole_sweep_prints_its_headline() {
    let out = out_dir("headline");
    let mut args = vec!["sweep", "scenarios/sweep_lag_vs_loss.ron", "--threads", "2"];
    args.extend(["--set", "duration=\"1m\"", "--out", out.to_str().unwrap()]);
    let (stdout, _) = archsim(&args, 0);
    let lines: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("headline")).collect();
    assert!(lines[0].starts_with("headline   at mean replication lag (s) = 5:"), "{stdout}");
    // One line per metric, each variant with its interval, the fix against the first.
    assert!(
        lines[1].trim_start().starts_with("lost writes per 1000 acknowledged: no fix "),
        "{stdout}"
    );
    assert!(lines[1].contains("95% CI") && lines[1].contains("against no fix"), "{stdout}");
    assert!(lines[3].trim_start().starts_with("reads sent to the primary (%):"), "{stdout}");
}
