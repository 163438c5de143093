//! A run's history in the shape Jepsen's checkers read, so archsim's verdicts can be
//! cross-checked with Elle (and Knossos, key by key).
//!
//! Every read and write becomes an invocation and a completion, one map per line, in
//! the order the events happened: `index`, `time` (simulated ns), `type` (`invoke`,
//! `ok`, `fail`, `info`), `process`, `f` and `value`. Operations are Elle's
//! read-write-register transactions of one micro-op: `[[:w key value]]` or
//! `[[:r key value]]`. A written value is the version id the store gave the write (ids
//! are unique, as Elle requires); a read of nothing is `nil`.
//!
//! Jepsen's processes are single-threaded, and one that ends with `info` (outcome
//! unknown) may still be acting, so it never invokes again: each concurrent actor of a
//! client session is a process until an operation of it ends unknown, and then takes a
//! fresh process id.

use std::collections::BTreeMap;
use std::io::Write;

use crate::check::{History, OpKind, OpRecord, Outcome, VersionId};

/// EDN lines (`history.edn`) or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFormat {
    /// `{:index 0, :time 5, :type :invoke, ...}`, as Jepsen writes `history.edn`.
    Edn,
    /// `{"index":0,"time":5,"type":"invoke",...}`.
    Json,
}

impl HistoryFormat {
    /// EDN for a `.edn` file name, else JSON lines.
    pub fn for_path(path: &std::path::Path) -> HistoryFormat {
        if path.extension().is_some_and(|e| e == "edn") {
            HistoryFormat::Edn
        } else {
            HistoryFormat::Json
        }
    }
}

/// One line of the exported history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// When it happened.
    pub time: u64,
    /// The sequence number of the event it happened at (ties in time fire in its order).
    pub event: u64,
    /// `invoke`, `ok`, `fail` or `info`.
    pub kind: &'static str,
    /// The Jepsen process.
    pub process: u32,
    /// `r` or `w`.
    pub op: char,
    /// The key.
    pub key: u32,
    /// The value written or read (`None`: nil).
    pub value: Option<u64>,
}

/// The value an unknown write stands for when no version of it exists: above every
/// version id (they stay below 2^30) and unique per operation.
const UNWRITTEN: u64 = 1 << 32;

/// The history's reads and writes as invocation and completion lines, in event order.
/// Needs a history that kept its operations (`keep_ops`).
pub fn lines(history: &History) -> Option<Vec<Line>> {
    let ops = history.ops()?;
    let unknown_versions = unclaimed_versions(history, ops);
    let mut processes = Processes::default();
    let mut lines = Vec::with_capacity(ops.len() * 2);
    let mut ranked: Vec<(Line, u8)> = Vec::with_capacity(ops.len() * 2);
    let mut by_invoke: Vec<(usize, &OpRecord)> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o.kind(), OpKind::Read | OpKind::Write))
        // A document list answers about many keys: no register read of the one it names.
        .filter(|(_, o)| o.inv.purpose.one_key())
        .collect();
    // Processes are handed out in invocation order, so ids read in time order.
    by_invoke.sort_by_key(|(_, o)| o.inv.invoke_event);
    for (i, op) in by_invoke {
        let info = matches!(op.outcome, Outcome::Unknown | Outcome::Accepted);
        let process = processes.of(op, info);
        let write = op.kind() == OpKind::Write;
        let value = if write {
            let version = if op.version == VersionId::ROOT {
                unknown_versions.get(&i).copied().unwrap_or(VersionId::ROOT)
            } else {
                op.version
            };
            Some(if version == VersionId::ROOT {
                UNWRITTEN + i as u64
            } else {
                u64::from(version.0)
            })
        } else {
            None
        };
        let read = (!write && op.outcome == Outcome::Ok && op.version != VersionId::ROOT)
            .then(|| u64::from(op.version.0));
        let (opc, key) = (if write { 'w' } else { 'r' }, op.key());
        let invoke = Line {
            time: op.inv.invoked.0,
            event: op.inv.invoke_event,
            kind: "invoke",
            process,
            op: opc,
            key,
            value,
        };
        let kind = match op.outcome {
            Outcome::Ok => "ok",
            Outcome::Rejected | Outcome::Refused => "fail",
            Outcome::Unknown | Outcome::Accepted => "info",
        };
        let value = if write { value } else { read };
        let done = Line {
            time: op.completed.0,
            event: op.complete_event,
            kind,
            process,
            op: opc,
            key,
            value,
        };
        // Within one event: what ended of earlier events' operations (0), then what
        // was invoked (1), then what ended of those (2): an operation an open circuit
        // breaker fails at once ends in the event that invoked it.
        let done_rank = if op.complete_event == op.inv.invoke_event { 2 } else { 0 };
        ranked.push((invoke, 1));
        ranked.push((done, done_rank));
    }
    // Events fire in (time, sequence) order. A client that learns of one result and
    // sends its next request in the same event did so in that order.
    ranked.sort_by_key(|(l, rank)| (l.time, l.event, *rank));
    lines.extend(ranked.into_iter().map(|(l, _)| l));
    Some(lines)
}

/// For each write that ended unknown: a version its message created that no
/// acknowledged write claims, created after the write was sent (the store wrote it and
/// the reply was lost).
fn unclaimed_versions(history: &History, ops: &[OpRecord]) -> BTreeMap<usize, VersionId> {
    let dag = history.dag();
    let claimed: std::collections::BTreeSet<VersionId> =
        ops.iter().filter(|o| o.kind() == OpKind::Write).map(|o| o.version).collect();
    let mut free: BTreeMap<(u32, u32), Vec<VersionId>> = BTreeMap::new();
    for id in 1..dag.len() as u32 {
        let v = VersionId(id);
        if !claimed.contains(&v) {
            let r = dag.get(v);
            free.entry((r.client, r.message)).or_default().push(v);
        }
    }
    let mut found = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if op.kind() != OpKind::Write || op.version != VersionId::ROOT {
            continue;
        }
        let Some(candidates) = free.get_mut(&(op.client(), op.inv.message)) else { continue };
        let after = |v: &VersionId| dag.get(*v).created_event > op.inv.invoke_event;
        if let Some(at) = candidates.iter().position(after) {
            found.insert(i, candidates.remove(at));
        }
    }
    found
}

/// A moment of the run: (time, event).
type Moment = (u64, u64);

/// Jepsen process ids. A process is single-threaded: a session with two operations
/// open at once (a streamed response and the next message, a push-fed editor's edit
/// and its reload) is two concurrent actors, each its own process. An operation takes
/// the lowest process of its session that is free when it is invoked, or a new one;
/// a process whose operation ended unknown (`info`) may still be acting, so it never
/// invokes again.
#[derive(Default)]
struct Processes {
    /// Per (client, session): its processes, each with when it is busy until.
    ids: BTreeMap<(u32, u32), Vec<(u32, Moment)>>,
    next: u32,
}

impl Processes {
    /// The process `op` runs in; `info` retires it.
    fn of(&mut self, op: &OpRecord, info: bool) -> u32 {
        let invoked = (op.inv.invoked.0, op.inv.invoke_event);
        let done = (op.completed.0, op.complete_event);
        let own = self.ids.entry((op.client(), op.inv.session)).or_default();
        let free = own.iter().position(|&(_, until)| until <= invoked);
        match free {
            Some(i) if info => own.remove(i).0,
            Some(i) => {
                own[i].1 = done;
                own[i].0
            }
            None => {
                self.next += 1;
                if !info {
                    own.push((self.next - 1, done));
                    own.sort_unstable();
                }
                self.next - 1
            }
        }
    }
}

/// Writes `lines` to `out` in `format`.
pub fn write(lines: &[Line], format: HistoryFormat, out: &mut dyn Write) -> std::io::Result<()> {
    for (index, l) in lines.iter().enumerate() {
        let value = l.value.map_or("nil".to_string(), |v| v.to_string());
        match format {
            HistoryFormat::Edn => writeln!(
                out,
                "{{:index {index}, :time {}, :type :{}, :process {}, :f :txn, :value [[:{} {} {value}]]}}",
                l.time, l.kind, l.process, l.op, l.key
            )?,
            HistoryFormat::Json => {
                let value = if value == "nil" { "null".to_string() } else { value };
                writeln!(
                    out,
                    "{{\"index\":{index},\"time\":{},\"type\":\"{}\",\"process\":{},\"f\":\"txn\",\"value\":[[\"{}\",{},{value}]]}}",
                    l.time, l.kind, l.process, l.op, l.key
                )?
            }
        }
    }
    Ok(())
}
