//! `archsim run --explain`: the refresh-and-resubmit lost write drawn as the seed draws
//! it (submit, 201, refresh from a replica that has not caught up, empty read,
//! resubmit, overwrite, replication arriving too late), pinned in
//! `snapshots/diagrams/`.

mod common;

/// The diagram of `check`'s story in the output of `archsim run ... --explain`.
fn diagram(args: &[&str], check: &str) -> String {
    let run = common::archsim(args);
    let out = String::from_utf8(run.stdout).unwrap();
    assert_eq!(run.status.code(), Some(0), "{out}");
    let title = format!("sequence of the {check} story:\n");
    let start = out.find(&title).unwrap_or_else(|| panic!("no {check} diagram in\n{out}"));
    let body = &out[start + title.len()..];
    body[..body.find("\nsequence of").unwrap_or(body.len())].to_string()
}

#[test]
fn the_lost_write_reads_like_the_seeds_diagram() {
    let args = ["run", "scenarios/refresh_resubmit_overwrite.ron", "--explain", "--width", "100"];
    let text = diagram(&args, "lost_acknowledged_write");
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].contains("client/161")
            && rows[0].contains("db primary")
            && rows[0].contains("db replica 0")
    );
    let find = |needle: &str| {
        rows.iter().position(|r| r.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{text}"))
    };
    let (submit, ack) = (find("write k161 ──▶"), find("◀──── ok v1"));
    let pending = find("replication pending: v1 reaches db");
    let (refresh, empty) = (find("refresh k161 ──"), find("ok ∅"));
    let (resubmit, overwrite) = (find("resubmit k161 ─▶"), find("✗ db creates v5"));
    let late = find("v1 replicated ╌▶│");
    let order = [submit, ack, pending, refresh, empty, resubmit, overwrite, late];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}\n{text}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(common::root().join("snapshots/diagrams"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("refresh_resubmit_lost_write", text));
}

#[test]
fn ascii_diagrams_have_no_other_characters() {
    let args = [
        "run",
        "scenarios/refresh_resubmit_overwrite.ron",
        "--explain",
        "--ascii",
        "--width",
        "60",
    ];
    let text = diagram(&args, "read_your_writes");
    assert!(text.is_ascii(), "{text}");
    assert!(text.contains("X client/161 refreshes key 161"), "{text}");
    assert!(text.contains("gets (empty)") && text.contains("|<"), "{text}");
    // Narrow: the notes go under their rows, each line within the diagram's width.
    assert!(text.lines().all(|l| l.chars().count() <= 90), "{text}");
}

#[test]
fn requests_relayed_by_app_servers_are_drawn_hop_by_hop() {
    // The editor's edit goes over its WebSocket to an app server, which writes it to
    // the store; the stale load goes the same way to a replica.
    let args = ["run", "scenarios/editor_replica_reads_stale.ron", "--explain", "--width", "200"];
    let text = diagram(&args, "read_your_writes");
    let rows: Vec<&str> = text.lines().collect();
    let find = |needle: &str| {
        rows.iter().position(|r| r.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{text}"))
    };
    assert!(rows[0].contains("client/27") && rows[0].contains("api/1"), "{text}");
    let edits: Vec<usize> =
        rows.iter().enumerate().filter(|(_, r)| r.contains("edit k5")).map(|(i, _)| i).collect();
    assert_eq!(edits.len(), 2, "client to server, server to store:\n{text}");
    let (written, acked) = (find("db creates v120"), find("ok v120"));
    let connects = rows.iter().filter(|r| r.contains("connect k5")).count();
    assert_eq!(connects, 2, "{text}");
    let stale = find("✗ client/27 opens key 5 from db replica 0");
    assert!(edits[1] < written && written < acked && acked < stale, "{text}");
    assert!(!text.contains("no request between"), "{text}");
}

#[test]
fn a_failover_is_drawn_and_no_voided_replication_is_drawn_as_delivered() {
    let args = ["run", "scenarios/editor_failover.ron", "--explain", "--width", "200"];
    let text = diagram(&args, "lost_acknowledged_write");
    let rows: Vec<&str> = text.lines().collect();
    let find = |needle: &str| {
        rows.iter().position(|r| r.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{text}"))
    };
    // The crash is drawn where it happened, and the story's failover after it, to the
    // replica with the highest replication position.
    let crash = find("⚡ db crashes");
    let failover = find("✗ db fails over to replica 0, 17 writes behind the old primary");
    assert!(crash < failover, "{text}");
    // The story says the lost version never reached replica 0: the crash voided its
    // replication, so no arrow may deliver it there (the replica is not even a lane).
    // Replica 1 had it, and is drawn receiving it; it was further behind overall.
    assert!(!rows[0].contains("db replica 0"), "{text}");
    assert!(rows[0].contains("db replica 1"), "{text}");
    assert_eq!(rows.iter().filter(|r| r.contains("fails over")).count(), 1, "told twice:\n{text}");
}

#[test]
fn a_leaderless_store_is_drawn_with_its_coordinator_not_a_primary() {
    let args = ["run", "scenarios/quorum_one_one.ron", "--explain", "--width", "200"];
    let text = diagram(&args, "read_your_writes");
    let header = text.lines().next().unwrap_or_default();
    assert!(header.contains("db coordinator") && header.contains("db replica"), "{text}");
    assert!(!text.contains("db primary"), "{text}");
    // The client talks to the coordinator only: its read and the answer are drawn between
    // the client's lane and the coordinator's, the replicas reached by replication alone.
    let lanes = |row: &str| row.chars().filter(|&c| c == '│').count();
    let read = text.lines().find(|l| l.contains("read k")).expect("a read arrow");
    let write = text.lines().find(|l| l.contains("write k")).expect("a write arrow");
    assert_eq!(
        lanes(read),
        lanes(write),
        "the read crosses a replica's lane:
{text}"
    );
}

#[test]
fn diagrams_fit_eighty_columns() {
    // Five and six lanes, long notes, long labels: all within 80 columns at --width 80.
    let scenarios = [
        "editor_cdn_stale_documents",
        "editor_replica_reads_stale",
        "chat_two_tabs_overwrite",
        "failover_async_stream",
        "editor_stolen_token_local_storage",
    ];
    for name in scenarios {
        let file = format!("scenarios/{name}.ron");
        let run = common::archsim(&["run", &file, "--seeds", "1", "--explain", "--width", "80"]);
        let out = String::from_utf8(run.stdout).unwrap();
        let mut in_diagram = false;
        let mut lanes_seen = 0;
        for line in out.lines() {
            if line.starts_with("sequence of") {
                in_diagram = true;
                continue;
            }
            if line.is_empty() {
                in_diagram = false;
            }
            if in_diagram {
                lanes_seen = lanes_seen.max(line.matches('│').count());
                let width = line.chars().count();
                assert!(width <= 80, "{name}: a diagram line of {width} columns:\n{line}");
            }
        }
        assert!(lanes_seen >= 2, "{name}: no diagram drawn:\n{out}");
    }
}

#[test]
fn a_service_is_one_lane_whether_it_relays_or_answers_itself() {
    // The tutorial's API instances relay the store's answers and also answer on their
    // own (a 503 when the store is gone): both are the instance's one lane.
    let args =
        ["run", "docs/tutorial/cart_crash.ron", "--seeds", "1", "--explain", "--width", "200"];
    let text = diagram(&args, "lost_acknowledged_write");
    let header = text.lines().next().unwrap_or_default();
    let header: Vec<&str> = header.split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut lanes = header.clone();
    lanes.sort_unstable();
    lanes.dedup();
    assert_eq!(lanes.len(), header.len(), "a lane is drawn twice:\n{text}");
}
