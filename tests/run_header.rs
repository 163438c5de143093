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
