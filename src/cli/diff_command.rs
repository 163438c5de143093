//! `archsim diff A.ron B.ron`: both designs on the same seeds, compared as text,
//! Markdown or JSON. Exit code 1 when either design's verdicts differ from what its
//! file expects, as `archsim run` would say.

use std::fmt::Write as _;

use serde_json::json;

use super::args::{DiffArgs, Format};
use super::output::print;
use super::output::{EXIT_OK, EXIT_VERDICT_DIFFERS, error, report_errors, worker_pool};
use crate::components::Registry;
use crate::diff::{Diff, Flip, Side, Tally, Unit, compare, headline, run_side};
use crate::engine::time::format_nanos;
use crate::report::over_seeds::{OverSeeds, SeedVerdicts};
use crate::report::summary::group;
use crate::schema::load_scenario;

/// `archsim diff`.
pub fn diff_command(args: &DiffArgs) -> i32 {
    let registry = Registry::new();
    let mut loaded = Vec::new();
    for path in [&args.a, &args.b] {
        match load_scenario(path, &args.set, &registry) {
            Ok(mut s) => {
                s.limits = args.limits.limits();
                loaded.push(s);
            }
            Err(e) => return report_errors(args.format, &e),
        }
    }
    let from = args.from.unwrap_or(loaded[0].seed);
    let count = args.seeds.unwrap_or(loaded[0].seeds);
    let seeds: Vec<u64> = (0..count).map(|i| from.wrapping_add(i)).collect();
    let pool = match worker_pool(args.threads) {
        Ok(p) => p,
        Err(msg) => return error(&msg),
    };
    let mut sides = Vec::new();
    let bar = super::output::progress(2 * seeds.len() as u64, args.quiet);
    for scenario in loaded {
        match pool.install(|| run_side(scenario, &seeds, &|| bar.inc(1))) {
            Ok(side) => sides.push(side),
            Err(msg) => return error(&msg),
        }
    }
    bar.finish_and_clear();
    let (a, b) = (&sides[0], &sides[1]);
    let diff = compare(a, b);
    let text = if args.markdown {
        markdown(a, b, &seeds, &diff)
    } else {
        match args.format {
            Format::Text => text(a, b, &seeds, &diff),
            Format::Json => json(a, b, &seeds, &diff),
        }
    };
    if let Err(code) = print(&text) {
        return code;
    }
    let missed: Vec<String> = sides.iter().flat_map(missed_expectations).collect();
    if missed.is_empty() {
        return EXIT_OK;
    }
    // The exit code alone would not say which file's expectation failed.
    for line in &missed {
        eprintln!("{line}");
    }
    EXIT_VERDICT_DIFFERS
}

/// The expectations a design's file states that its runs do not meet over the seeds,
/// as `archsim run` judges them (`holds` on every seed, `violated` on some), one line
/// each: `b.ron expects bounded_staleness violated: holds on 10 of 10 seeds`.
fn missed_expectations(side: &Side) -> Vec<String> {
    let seeds: Vec<SeedVerdicts> = side.runs.iter().map(|r| r.seed_verdicts()).collect();
    let over = OverSeeds::judge(&side.scenario.expect, &seeds);
    let file = &side.scenario.path;
    (over.checks.iter().filter(|(_, c)| c.as_expected == Some(false)))
        .map(|(name, c)| {
            let expected = c.expected.as_deref().unwrap_or("-");
            let n = seeds.len();
            let found = match c.violated_on.len() {
                0 => format!("holds on {} of {n} seeds", c.holds_on),
                k => format!("violated on {k} of {n} seeds ({} violations)", c.violations),
            };
            format!("{file} expects {name} {expected}: {found}")
        })
        .collect()
}

/// `violated on 3 of 3 seeds (2,461)`, or `violated (2,461)` for one seed.
fn tally(t: Option<Tally>) -> String {
    let Some(t) = t else { return "not checked".into() };
    if t.not_configured_on == t.seeds {
        return "not configured (no bound)".into();
    }
    match (t.violated_on, t.seeds) {
        (0, 1) => "holds".into(),
        (0, n) => format!("holds on all {n} seeds"),
        (_, 1) => format!("violated ({})", group(t.violations)),
        (k, n) => format!("violated on {k}/{n} seeds ({})", group(t.violations)),
    }
}

fn flip(f: Option<Flip>) -> &'static str {
    match f {
        Some(Flip::Fixed) => "fixed",
        Some(Flip::Broken) => "BROKEN",
        None => "",
    }
}

fn value(v: Option<f64>, unit: Unit) -> String {
    let Some(v) = v else { return "-".into() };
    match unit {
        Unit::Nanos => format_nanos(v.round() as u64),
        Unit::Share => format!("{:.1}%", 100.0 * v),
        Unit::PerSecond => format!("{v:.1}/s"),
        Unit::Count => group(v.round() as u64),
    }
}

fn change(c: Option<f64>) -> String {
    c.map_or(String::new(), |c| format!("{:+.0}%", 100.0 * c))
}

/// Which seeds, and whether the two workloads are the same.
fn preamble(a: &Side, b: &Side, seeds: &[u64]) -> Vec<String> {
    let (sa, sb) = (&a.scenario, &b.scenario);
    let mut lines = vec![
        format!("A  {} ({})", sa.name, sa.path),
        format!("B  {} ({})", sb.name, sb.path),
        format!("seeds {} to {}, the same for both", seeds[0], seeds[seeds.len() - 1]),
    ];
    let workload =
        |s: &crate::model::Scenario| (format!("{:?}", s.clients), s.duration, s.faults.len());
    if workload(sa) != workload(sb) {
        lines.push(
            "note: the two files differ in clients, duration or faults: not the same workload"
                .into(),
        );
    }
    lines
}

fn flipped_line(diff: &Diff) -> String {
    let names = |f: Flip| {
        let n: Vec<&str> = diff
            .invariants
            .iter()
            .filter(|r| r.flip == Some(f))
            .map(|r| r.check.as_str())
            .collect();
        if n.is_empty() { "none".to_string() } else { n.join(", ") }
    };
    format!("fixed by B: {}; broken by B: {}", names(Flip::Fixed), names(Flip::Broken))
}

/// A column as wide as its longest cell (a tally over many seeds, a long name), and
/// `least` at least.
fn width<'a>(cells: impl Iterator<Item = &'a str>, least: usize) -> usize {
    cells.map(|c| c.chars().count()).max().unwrap_or(0).max(least)
}

fn text(a: &Side, b: &Side, seeds: &[u64], diff: &Diff) -> String {
    let mut t = String::new();
    for line in preamble(a, b, seeds) {
        let _ = writeln!(t, "{line}");
    }
    let [verdicts, figures] = headline(diff, seeds.len());
    let _ = writeln!(t, "\nheadline   {verdicts}\n           {figures}");
    let rows: Vec<[String; 4]> = diff
        .invariants
        .iter()
        .map(|r| [r.check.clone(), tally(r.a), tally(r.b), flip(r.flip).to_string()])
        .collect();
    let name_w = width(rows.iter().map(|r| r[0].as_str()), 26);
    let cell_w = width(rows.iter().flat_map(|r| [r[1].as_str(), r[2].as_str()]), 30);
    let _ = writeln!(t, "\n{:<name_w$} {:<cell_w$} {:<cell_w$}", "invariant", "A", "B");
    for [check, a, b, flip] in &rows {
        let _ = writeln!(t, "{check:<name_w$} {a:<cell_w$} {b:<cell_w$} {flip}");
    }
    let header = "figure (mean over seeds)";
    let name_w = width(diff.figures.iter().map(|f| f.name.as_str()), header.len());
    let _ = writeln!(t, "\n{header:<name_w$} {:>12} {:>12} {:>8}", "A", "B", "change");
    for f in &diff.figures {
        let (x, y) = (value(f.a, f.unit), value(f.b, f.unit));
        let _ = writeln!(t, "{:<name_w$} {x:>12} {y:>12} {:>8}", f.name, change(f.change()));
    }
    let _ = writeln!(t, "\n{}", flipped_line(diff));
    t
}

fn markdown(a: &Side, b: &Side, seeds: &[u64], diff: &Diff) -> String {
    let mut t = String::new();
    for line in preamble(a, b, seeds) {
        let _ = writeln!(t, "{line}  ");
    }
    let [verdicts, figures] = headline(diff, seeds.len());
    let _ = writeln!(t, "\n**{verdicts}**; {figures}");
    let _ = writeln!(t, "\n| invariant | A | B | |\n|---|---|---|---|");
    for r in &diff.invariants {
        let _ =
            writeln!(t, "| `{}` | {} | {} | {} |", r.check, tally(r.a), tally(r.b), flip(r.flip));
    }
    let _ = writeln!(t, "\n| figure (mean over seeds) | A | B | change |\n|---|---:|---:|---:|");
    for f in &diff.figures {
        let (x, y) = (value(f.a, f.unit), value(f.b, f.unit));
        let _ = writeln!(t, "| {} | {x} | {y} | {} |", f.name, change(f.change()));
    }
    let _ = writeln!(t, "\n{}", flipped_line(diff));
    t
}

fn json(a: &Side, b: &Side, seeds: &[u64], diff: &Diff) -> String {
    let side = |s: &Side| {
        json!({
            "scenario": s.scenario.name,
            "path": s.scenario.path,
            "trace_hashes": s.runs.iter().map(|r| r.trace_hash.clone()).collect::<Vec<_>>(),
            "as_expected": s.runs.iter().all(|r| r.as_expected()),
        })
    };
    let value = json!({
        "a": side(a),
        "b": side(b),
        "seeds": seeds,
        "headline": headline(diff, seeds.len()),
        "invariants": diff.invariants,
        "figures": diff.figures,
    });
    serde_json::to_string_pretty(&value).expect("diff serialises") + "\n"
}
