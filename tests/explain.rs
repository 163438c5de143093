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
    let (submit, ack, empty) = (find("write k161 ──▶"), find("◀──── ok v1"), find("ok ∅"));
    let resubmit = find("✗ db creates v5");
    let late = find("v1 replicated ╌▶│");
    assert!(submit < ack && ack < empty && empty < resubmit && resubmit < late, "{text}");
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
    assert!(text.contains("gets (empty)") && text.contains("<--"), "{text}");
    // Narrow: the notes go under their rows, each line within the diagram's width.
    assert!(text.lines().all(|l| l.chars().count() <= 90), "{text}");
}
