//! `--trace` writes one JSON object per event, identical across runs, and its line count
//! equals the summary's event count.

mod common;

fn traced(name: &str) -> (String, serde_json::Value) {
    let path =
        std::env::temp_dir().join(format!("archsim-trace-{}-{name}.jsonl", std::process::id()));
    let out = common::archsim(&[
        "run",
        "scenarios/stale_read_refresh.ron",
        "--set",
        "clients.count=5",
        "--set",
        "duration=20s",
        "--trace",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    (text, serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn trace_is_complete_ordered_and_replays_byte_for_byte() {
    let (a, summary) = traced("a");
    let (b, _) = traced("b");
    assert_eq!(a, b);
    let lines: Vec<serde_json::Value> =
        a.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as u64, summary["events"].as_u64().unwrap());
    let times: Vec<u64> = lines.iter().map(|l| l["at_ns"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "trace times are monotone");
    let writes = lines
        .iter()
        .filter(|l| l["kind"] == "request" && l["op"] == "write" && l["target"] == "db");
    assert_eq!(writes.count() as u64, summary["operations"]["write"]["count"].as_u64().unwrap());
    assert!(lines.iter().any(|l| l["kind"] == "replicate" && l["replica"].is_u64()));
}
