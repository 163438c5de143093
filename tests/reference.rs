//! The book's reference pages (`docs/src/reference/`) are what the code generates: a
//! field, default, doc comment, checker, JSON path or flag changed without the pages is
//! a failure that names the page. `UPDATE_REFERENCE=1 cargo test --test reference`
//! rewrites them.

use std::path::Path;

#[test]
fn the_reference_pages_are_what_the_code_generates() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src");
    let update = std::env::var_os("UPDATE_REFERENCE").is_some();
    let mut stale = Vec::new();
    for page in archsim::reference::pages() {
        let path = book.join(page.path);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk == page.markdown {
            continue;
        }
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &page.markdown).unwrap();
        } else {
            let line = first_difference(&on_disk, &page.markdown);
            stale.push(format!("{} (first difference at line {line})", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "stale reference pages; run `UPDATE_REFERENCE=1 cargo test --test reference`:\n{}",
        stale.join("\n")
    );
}

/// The first line (from 1) where two texts differ.
fn first_difference(a: &str, b: &str) -> usize {
    let same = a.lines().zip(b.lines()).take_while(|(x, y)| x == y).count();
    same + 1
}

#[test]
fn every_kind_checker_and_fault_is_in_the_reference() {
    let pages = archsim::reference::pages();
    let text = |name: &str| &pages.iter().find(|p| p.path.ends_with(name)).unwrap().markdown;
    for kind in archsim::components::kinds::KIND_NAMES {
        assert!(
            text("model.md").contains(&format!("\n## {kind} {{#")),
            "kind {kind} has no section"
        );
    }
    for checker in ["lost_acknowledged_write", "read_your_writes", "objectives", "split_brain"] {
        assert!(text("scenario.md").contains(&format!("- `{checker}`: ")), "checker {checker}");
    }
    for fault in ["crash(", "partition(", "slowdown(", "clock_drift("] {
        assert!(text("scenario.md").contains(&format!("- `{fault}")), "fault {fault}");
    }
    assert!(text("json.md").contains("| `operations.<name>.count` |"));
    assert!(text("commands.md").contains("## archsim sweep"));
}
