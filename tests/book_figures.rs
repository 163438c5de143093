//! The book's seed tables quote figures from runs; none is typed in. The tables are
//! written in `docs/seed_tables.md` with each figure as a placeholder, and this test
//! renders them from the runs and fails when the book's copy (`docs/src/seeds.md`)
//! differs. Regenerate the book's copy with:
//!
//! ```sh
//! UPDATE_BOOK=1 cargo test --test book_figures
//! ```
//!
//! A placeholder is `{{SCENARIO:PATH}}` or `{{SCENARIO:PATH|FORMAT}}`: `SCENARIO` is a
//! file stem of `scenarios/` (seed 1; its summary is the snapshot in `snapshots/`,
//! which `tests/scenarios.rs` keeps equal to the run), optionally with overrides,
//! `editor_failover[db.conflict=merge]`, which runs it; `PATH` is a dotted path into
//! the JSON summary (`checks.propagation.violations`); `FORMAT` is `n` (a count with
//! thousands separators, the default), `ns` (a duration), `pct` (a share as a
//! percentage), `pct1` (the same to one decimal, for shares near 0 or 100%), `x1` (one
//! decimal) or `per_s` (a count per second: a count divided by nanoseconds, as in
//! `{{editor_polling_load:operations.poll.count / editor_polling_load:simulated_ns|per_s}}`).
//! `{{A / B|pct}}` divides two figures.

mod common;

use std::collections::BTreeMap;

use archsim::engine::time::format_nanos;
use archsim::report::Summary;
use archsim::report::summary::group;
use serde_json::Value;

const TEMPLATE: &str = "docs/seed_tables.md";
/// The book page the tables are rendered into.
const PAGE: &str = "docs/src/seeds.md";
const BEGIN: &str =
    "<!-- seed tables: generated from docs/seed_tables.md by tests/book_figures.rs -->";
const END: &str = "<!-- end of seed tables -->";

/// Summaries by scenario (with its overrides), loaded or run once each.
#[derive(Default)]
struct Runs {
    summaries: BTreeMap<String, Value>,
}

impl Runs {
    fn summary(&mut self, scenario: &str) -> &Value {
        if !self.summaries.contains_key(scenario) {
            let value = load_or_run(scenario);
            self.summaries.insert(scenario.to_string(), value);
        }
        &self.summaries[scenario]
    }

    fn figure(&mut self, reference: &str) -> f64 {
        let (scenario, path) = reference
            .trim()
            .split_once(':')
            .unwrap_or_else(|| panic!("`{reference}`: a figure is SCENARIO:PATH"));
        let mut v = self.summary(scenario.trim());
        for part in path.trim().split('.') {
            v = v.get(part).unwrap_or_else(|| panic!("`{reference}`: no `{part}`"));
        }
        v.as_f64().unwrap_or_else(|| panic!("`{reference}` is {v}, not a number"))
    }
}

/// The summary of seed 1: the snapshot when the scenario has no overrides, else a run.
fn load_or_run(scenario: &str) -> Value {
    let (stem, sets) = match scenario.split_once('[') {
        Some((stem, rest)) => {
            let sets = rest.strip_suffix(']').expect("overrides end with `]`");
            (stem, sets.split(';').map(str::trim).collect::<Vec<_>>())
        }
        None => (scenario, Vec::new()),
    };
    if sets.is_empty() {
        let snap = common::root().join("snapshots").join(format!("{stem}.snap"));
        let text = std::fs::read_to_string(&snap).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let json = text.splitn(3, "---").nth(2).expect("a snapshot body");
        return serde_json::from_str(json).expect("a snapshot holds a JSON summary");
    }
    let path = std::path::PathBuf::from(format!("scenarios/{stem}.ron"));
    let scenario = common::load(&path, &sets);
    let summary = Summary::new(&scenario, &common::run(&scenario), None);
    serde_json::from_str(&summary.to_json()).expect("a JSON summary")
}

/// One placeholder's text.
fn render_one(runs: &mut Runs, placeholder: &str) -> String {
    let (expr, format) = placeholder.split_once('|').unwrap_or((placeholder, "n"));
    let value = match expr.split_once(" / ") {
        Some((a, b)) => runs.figure(a) / runs.figure(b),
        None => runs.figure(expr),
    };
    match format.trim() {
        "n" => group(value.round() as u64),
        "ns" => format_nanos(value.round() as u64),
        "pct" => format!("{:.0}%", 100.0 * value),
        "pct1" => format!("{:.1}%", 100.0 * value),
        "x1" => format!("{value:.1}"),
        "per_s" => group((value * 1e9).round() as u64),
        other => panic!("`{placeholder}`: unknown format `{other}`"),
    }
}

/// The template with every placeholder replaced by its figure.
fn render(template: &str) -> String {
    let mut runs = Runs::default();
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").expect("a placeholder ends with }}") + at;
        out.push_str(&render_one(&mut runs, &rest[at + 2..end]));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_book_seed_tables_are_the_rendered_template() {
    let root = common::root();
    let template = std::fs::read_to_string(root.join(TEMPLATE)).expect("the template");
    let rendered = render(&template);
    let readme_path = root.join(PAGE);
    let readme = std::fs::read_to_string(&readme_path).expect(PAGE);
    let begin =
        readme.find(BEGIN).expect("the seeds page marks where the seed tables begin") + BEGIN.len();
    let end = readme.find(END).expect("the seeds page marks where the seed tables end");
    let current = readme[begin..end].trim_matches('\n');
    let rendered = rendered.trim_matches('\n');
    if current == rendered {
        return;
    }
    if std::env::var_os("UPDATE_BOOK").is_some() {
        let updated = format!("{}\n{rendered}\n{}", &readme[..begin], &readme[end..]);
        std::fs::write(&readme_path, updated).expect("the seeds page written");
        return;
    }
    let first = current.lines().zip(rendered.lines()).find(|(a, b)| a != b);
    panic!(
        "the book's seed tables are stale; run `UPDATE_BOOK=1 cargo test --test \
         book_figures`.\nfirst differing line:\n  book:     {:?}\n  rendered: {:?}",
        first.map(|f| f.0),
        first.map(|f| f.1)
    );
}

#[test]
fn placeholders_render_counts_durations_and_shares() {
    let mut runs = Runs::default();
    let stale = "stale_read_refresh:reads.stale";
    assert_eq!(render_one(&mut runs, stale), group(runs.figure(stale) as u64));
    let share = render_one(
        &mut runs,
        "stale_read_refresh:reads.stale / stale_read_refresh:reads.count|pct",
    );
    assert!(share.ends_with('%'), "{share}");
    let p99 = render_one(&mut runs, "stale_read_refresh:operations.read.latency_ns.p99|ns");
    assert!(p99.ends_with("ms"), "{p99}");
    let precise = render_one(
        &mut runs,
        "stale_read_refresh:reads.stale / stale_read_refresh:reads.count|pct1",
    );
    let fraction = runs.figure("stale_read_refresh:reads.stale_fraction");
    assert_eq!(precise, format!("{:.1}%", 100.0 * fraction));
    let rate = render_one(
        &mut runs,
        "stale_read_refresh:reads.count / stale_read_refresh:simulated_ns|per_s",
    );
    let per_s = runs.figure("stale_read_refresh:reads.count")
        / (runs.figure("stale_read_refresh:simulated_ns") / 1e9);
    assert_eq!(rate, group(per_s.round() as u64));
}
