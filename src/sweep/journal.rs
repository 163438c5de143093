//! The journal of a sweep, `runs.jsonl`: a header line (the sweep, its fingerprint,
//! the shard), then one JSON line per finished run, appended the moment the run ends.
//! A killed sweep keeps every line it wrote (a torn last line is dropped), `--resume`
//! runs only what is missing, and `archsim merge` joins the journals of shards.
//!
//! Once a journal holds all its runs it is rewritten in run order, so the file is the
//! same whatever the thread count, the shards or the interruptions were. Numbers go
//! through serde_json's exact float round trip, so a run read back from a journal
//! writes the same CSV as the run itself.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::runner::RunResult;
use super::sample::{Sample, StoredSample};
use super::shard::Shard;
use crate::model::sweep::{RunPlan, SweepSpec};
use crate::report::write_atomically;
use crate::schema::source::Place;
use crate::schema::sweep::{AXIS_VALUES_MAX, RUNS_CEILING};
use crate::schema::{Diagnostic, LoadError};

/// A problem at `line` of the journal at `path` (0: the file as a whole).
fn problem(path: &Path, line: usize, msg: String) -> LoadError {
    let mut place = Place::file_start(&path.display().to_string());
    (place.line, place.col) = (line, usize::from(line > 0));
    LoadError::one(Diagnostic::at(place, msg))
}

fn io(path: &Path, e: &std::io::Error) -> LoadError {
    problem(path, 0, e.to_string())
}

/// The journal format's version.
const VERSION: u32 = 1;

/// The journal's file name in a sweep's directory.
pub const FILE: &str = "runs.jsonl";

/// The first line: what sweep the runs belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Format version.
    pub archsim_sweep_journal: u32,
    /// A hash of every point's scenario, as loaded (model and overrides included).
    pub fingerprint: String,
    /// The scenario's seed, which every run's seed derives from.
    pub scenario_seed: u64,
    /// The scenario's name, which titles the merged report (empty in journals written
    /// before it was kept).
    #[serde(default)]
    pub scenario: String,
    /// Runs in the whole sweep.
    pub runs: usize,
    /// The shard whose runs this journal holds (`1/1` for the whole sweep).
    pub shard: String,
    /// The sweep.
    pub spec: SweepSpec,
}

impl Header {
    /// The header of shard `shard` of `spec`, swept over scenario `scenario` (its name
    /// and seed).
    pub fn new(spec: &SweepSpec, fingerprint: u64, scenario: (&str, u64), shard: Shard) -> Header {
        Header {
            archsim_sweep_journal: VERSION,
            fingerprint: format!("{fingerprint:016x}"),
            scenario_seed: scenario.1,
            scenario: scenario.0.to_string(),
            runs: spec.runs(scenario.1).len(),
            shard: shard.to_string(),
            spec: spec.clone(),
        }
    }

    /// Whether two journals record the same sweep (their shards may differ).
    pub fn same_sweep(&self, other: &Header) -> bool {
        Header { shard: String::new(), ..self.clone() }
            == Header { shard: String::new(), ..other.clone() }
    }
}

/// One finished run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    run: usize,
    seed: u64,
    trace_hash: String,
    metrics: Vec<Option<f64>>,
    samples: Vec<Option<StoredSample>>,
}

fn entry(r: &RunResult) -> Entry {
    Entry {
        run: r.plan.index,
        seed: r.plan.seed,
        trace_hash: r.trace_hash.clone(),
        metrics: r.metrics.iter().map(|&x| (!x.is_nan()).then_some(x)).collect(),
        samples: r.samples.iter().map(|s| s.as_ref().map(StoredSample::from)).collect(),
    }
}

fn line<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string(value).expect("journal entries serialise");
    text.push('\n');
    text
}

/// A journal open for appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens the journal at `path` for `header`'s runs. Fresh, it starts empty (any
    /// earlier journal is replaced); resumed, it keeps the runs an earlier start of the
    /// same sweep and shard finished, and returns them.
    pub fn open(
        path: &Path,
        header: &Header,
        resume: bool,
    ) -> Result<(Journal, Vec<RunResult>), LoadError> {
        let mut kept = Vec::new();
        let existing = resume && path.exists();
        if existing {
            let (old, runs, valid_len) = read_prefix(path)?;
            if old.shard != header.shard || !old.same_sweep(header) {
                let msg = "the journal holds runs of another sweep (its scenario, model, \
                           overrides or shard changed); run without --resume to start over";
                return Err(problem(path, 1, msg.into()));
            }
            kept = runs;
            // Drop a line torn by a kill, so the next line starts on its own.
            let file = OpenOptions::new().write(true).open(path).map_err(|e| io(path, &e))?;
            file.set_len(valid_len).map_err(|e| io(path, &e))?;
        } else {
            write_atomically(path, |w| w.write_all(line(header).as_bytes()))
                .map_err(|e| io(path, &e))?;
        }
        let file = OpenOptions::new().append(true).open(path).map_err(|e| io(path, &e))?;
        Ok((Journal { path: path.to_path_buf(), file: Mutex::new(file) }, kept))
    }

    /// Appends a finished run (one write, so a kill tears at most this line).
    pub fn append(&self, result: &RunResult) -> Result<(), String> {
        let text = line(&entry(result));
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(text.as_bytes()).map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// Rewrites the journal with `results` in run order.
    pub fn finish(self, header: &Header, results: &[RunResult]) -> Result<(), LoadError> {
        drop(self.file);
        write(&self.path, header, results)
    }
}

/// Writes a journal of `results` (in run order) atomically.
pub fn write(path: &Path, header: &Header, results: &[RunResult]) -> Result<(), LoadError> {
    write_atomically(path, |w| {
        w.write_all(line(header).as_bytes())?;
        results.iter().try_for_each(|r| w.write_all(line(&entry(r)).as_bytes()))
    })
    .map_err(|e| io(path, &e))
}

/// Reads a journal: its header and its runs (a torn last line is left out).
pub fn read(path: &Path) -> Result<(Header, Vec<RunResult>), LoadError> {
    read_prefix(path).map(|(h, runs, _)| (h, runs))
}

/// The header, the runs, and the length of the file's whole lines.
fn read_prefix(path: &Path) -> Result<(Header, Vec<RunResult>, u64), LoadError> {
    // `/dev/zero` never ends and a FIFO without a writer never opens: only files.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(problem(
            path,
            0,
            "not a regular file (a directory, device, FIFO or socket)".into(),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io(path, &e))?;
    let at = |n: usize, msg: &str| problem(path, n, msg.to_string());
    let mut lines = text.split_inclusive('\n').enumerate();
    let header: Header = match lines.next() {
        Some((_, l)) if l.ends_with('\n') => serde_json::from_str(l)
            .map_err(|e| at(1, &format!("not an archsim sweep journal header: {e}")))?,
        _ => return Err(at(1, "not an archsim sweep journal (no header line)")),
    };
    if header.archsim_sweep_journal != VERSION {
        return Err(at(
            1,
            &format!("journal version {}, expected {VERSION}", header.archsim_sweep_journal),
        ));
    }
    if let Some(msg) = header.spec.shape_error(RUNS_CEILING, AXIS_VALUES_MAX as usize) {
        return Err(at(1, &format!("the journal's sweep cannot be run: {msg}")));
    }
    let plans = header.spec.runs(header.scenario_seed);
    if plans.len() != header.runs {
        return Err(at(
            1,
            &format!("the header says {} runs, its sweep makes {}", header.runs, plans.len()),
        ));
    }
    let mut runs = BTreeMap::new();
    let mut valid_len = text.lines().next().map_or(0, |l| l.len() + 1) as u64;
    for (i, l) in lines {
        if !l.ends_with('\n') {
            break; // torn by a kill: the run is simply not done
        }
        let e: Entry = serde_json::from_str(l).map_err(|e| at(i + 1, &e.to_string()))?;
        let r = result(&header.spec, &plans, e).map_err(|msg| at(i + 1, &msg))?;
        runs.insert(r.plan.index, r);
        valid_len += l.len() as u64;
    }
    Ok((header, runs.into_values().collect(), valid_len))
}

/// A journal entry as a run result, checked against the plan.
fn result(spec: &SweepSpec, plans: &[RunPlan], e: Entry) -> Result<RunResult, String> {
    let plan = plans.get(e.run).ok_or_else(|| format!("run {} is not in the sweep", e.run))?;
    if plan.seed != e.seed {
        return Err(format!("run {} has seed {}, the sweep gives it {}", e.run, e.seed, plan.seed));
    }
    if e.metrics.len() != spec.metrics.len() || e.samples.len() != spec.distributions.len() {
        return Err(format!("run {} has the wrong number of metrics or distributions", e.run));
    }
    let samples = e.samples.iter().map(|s| s.as_ref().map(Sample::try_from).transpose());
    Ok(RunResult {
        plan: plan.clone(),
        metrics: e.metrics.iter().map(|m| m.unwrap_or(f64::NAN)).collect(),
        trace_hash: e.trace_hash,
        samples: samples.collect::<Result<_, _>>()?,
    })
}

/// FNV-1a over `bytes`: the journal's fingerprint of a sweep's scenarios.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(&[0xff]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Whether two runs recorded the same result (a run journalled by two shards).
pub fn same_result(a: &RunResult, b: &RunResult) -> bool {
    line(&entry(a)) == line(&entry(b))
}
