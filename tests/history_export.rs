//! `archsim run --history`: the exported history is well formed the way Jepsen's
//! checkers require (Elle's rw-register transactions, Knossos's single-threaded
//! processes), and says what the summary says.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

fn export(ext: &str, sets: &[&str]) -> (String, Value) {
    let path = std::env::temp_dir().join(format!("archsim-history-{}.{ext}", std::process::id()));
    let mut args = vec!["run", "scenarios/refresh_resubmit_overwrite.ron", "--format", "json"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let p = path.to_str().unwrap().to_string();
    args.extend(["--history", &p]);
    let out = common::archsim(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    (text, serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn a_lost_write_runs_history_is_well_formed_for_jepsens_checkers() {
    let sets = ["clients.count=20", "duration=2m"];
    let (text, summary) = export("jsonl", &sets);
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut open: BTreeMap<u64, (String, u64, Value)> = BTreeMap::new();
    let mut retired = BTreeSet::new();
    let (mut written, mut reads_seen) = (BTreeSet::new(), Vec::new());
    let (mut ok_writes, mut last_time) = (0, 0);
    for (i, l) in lines.iter().enumerate() {
        let fields: BTreeSet<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, BTreeSet::from(["f", "index", "process", "time", "type", "value"]));
        assert_eq!(l["index"].as_u64(), Some(i as u64), "indices count lines");
        assert_eq!(l["f"], "txn");
        let time = l["time"].as_u64().unwrap();
        assert!(time >= last_time, "line {i} goes back in time");
        last_time = time;
        let process = l["process"].as_u64().unwrap();
        let mop = l["value"].as_array().unwrap();
        assert_eq!(mop.len(), 1, "one micro-op per transaction");
        let [op, key, value] = mop[0].as_array().unwrap().as_slice() else { panic!("{l}") };
        let (op, key) = (op.as_str().unwrap().to_string(), key.as_u64().unwrap());
        match l["type"].as_str().unwrap() {
            "invoke" => {
                assert!(!retired.contains(&process), "process {process} invoked after an info");
                let prev = open.insert(process, (op.clone(), key, value.clone()));
                assert!(prev.is_none(), "process {process} has two operations open");
                if op == "w" {
                    assert!(written.insert(value.as_u64().unwrap()), "written values are unique");
                } else {
                    assert!(value.is_null(), "a read is invoked with nil");
                }
            }
            kind => {
                let (iop, ikey, ivalue) = open.remove(&process).expect("completes an invocation");
                assert_eq!((iop.as_str(), ikey), (op.as_str(), key), "line {i}");
                if op == "w" {
                    assert_eq!(&ivalue, value, "a write completes with the value it invoked");
                    ok_writes += u64::from(kind == "ok");
                } else if kind == "ok" && !value.is_null() {
                    reads_seen.push(value.as_u64().unwrap());
                }
                if kind == "info" {
                    retired.insert(process);
                }
                assert!(["ok", "fail", "info"].contains(&kind), "{kind}");
            }
        }
    }
    assert!(open.is_empty(), "every invocation completes");
    // No read returns a value nobody wrote.
    assert!(reads_seen.iter().all(|v| written.contains(v)));
    // The history holds what the summary counts: every acknowledged write, every read
    // (refreshes included), and the run lost writes.
    let ops = &summary["operations"];
    let acked =
        ops["write"]["count"].as_u64().unwrap() + ops["resubmit"]["count"].as_u64().unwrap_or(0);
    assert_eq!(ok_writes, acked, "ok writes");
    assert_eq!(summary["checks"]["lost_acknowledged_write"]["verdict"], "violated");

    // The EDN form is the same history, line for line.
    let (edn, _) = export("edn", &sets);
    assert_eq!(edn.lines().count(), lines.len());
    let first = edn.lines().next().unwrap();
    assert!(
        first.starts_with("{:index 0, :time ") && first.contains(":f :txn, :value [[:w "),
        "{first}"
    );
}
