//! What a run's text summary says of itself: the overrides that changed what the
//! model's name describes, and checkers that had nothing to judge against.

mod common;

#[test]
fn the_header_lists_every_override_under_the_model() {
    let args = ["run", "scenarios/stale_read_primary.ron", "--set", "clients.count=20"];
    let out = common::archsim(&[&args[..], &["--set", "duration=30s"]].concat());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().take(4).collect();
    assert!(lines[1].starts_with("model      chat back end, replica reads"), "{text}");
    // The file's `set` first (it makes the replica-read model read the primary), then
    // the command line's, in order.
    assert_eq!(lines[2], r#"set        db.reads=primary, clients.count=20, duration="30s""#);
}

#[test]
fn a_checker_without_its_bound_is_not_configured_rather_than_holding() {
    let args = ["run", "scenarios/stale_read_refresh.ron", "--set", "duration=30s"];
    let out = common::archsim(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("bounded_staleness")).expect("a line");
    assert!(line.contains("not configured") && line.contains("no bound set"), "{line}");
    assert!(text.contains("staleness of stale reads: p50"), "it still measures: {text}");
    let bounded = common::archsim(&[&args[..], &["--set", "staleness_bound=10s"]].concat());
    let text = String::from_utf8_lossy(&bounded.stdout);
    let line = text.lines().find(|l| l.starts_with("bounded_staleness")).expect("a line");
    assert!(line.contains("holds") || line.contains("violated"), "{line}");
}

#[test]
fn producers_see_what_acks_all_costs_them_in_acknowledgement_latency() {
    let p50_ms = |acks: &str| {
        let set = format!("orders.acks={acks}");
        let args = ["run", "scenarios/log_acks_leader.ron", "--seeds", "1", "--set", &set];
        let out = common::archsim(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text.lines().find(|l| l.starts_with("produced")).expect("a produced line");
        let p50 = line.split("p50 ").nth(1).and_then(|r| r.split(',').next()).expect("p50");
        let ms = archsim::engine::SimDuration::parse(p50).expect("a duration").as_nanos();
        ms as f64 / 1e6
    };
    // acks=1 waits for the leader's append; acks=all for every in-sync follower's copy
    // (fetch lag exp(20 ms)), so its median is tens of milliseconds more.
    let (leader, all) = (p50_ms("leader"), p50_ms("all"));
    assert!(leader < 10.0 && all > leader + 10.0, "acks=1 p50 {leader} ms, acks=all {all} ms");
}
