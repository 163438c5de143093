//! `archsim shrink SCENARIO --seed S`: the smallest failing scenario found, written
//! (atomically) beside the original with a comment saying what was removed, then
//! loaded and run from that file alone to show it still fails.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::args::{Format, ShrinkArgs};
use super::output::print;
use super::output::{EXIT_OK, error, report_errors};
use crate::check::Verdict;
use crate::components::Registry;
use crate::report::write_atomically;
use crate::run::execute;
use crate::schema::load_scenario;
use crate::shrink::{Outcome, shrink, violations_of, write_scenario};

/// `archsim shrink`.
pub fn shrink_command(args: &ShrinkArgs) -> i32 {
    let registry = Registry::new();
    let mut scenario = match load_scenario(&args.scenario, &[], &registry) {
        Ok(s) => s,
        Err(e) => return report_errors(Format::Text, &e),
    };
    let seed = args.seed.unwrap_or(scenario.seed);
    scenario.seed = seed;
    let check = match &args.check {
        Some(c) => match crate::hunt::checked_by(&scenario, c) {
            Ok(()) => c.clone(),
            Err(msg) => return error(&msg),
        },
        None => match first_violated(&scenario, &registry) {
            Ok(c) => c,
            Err(msg) => return error(&msg),
        },
    };
    let bar = super::output::progress_open(args.quiet, "tried");
    let found = shrink(&args.scenario, &scenario, (seed, &check), &|| bar.inc(1));
    bar.finish_and_clear();
    let found = match found {
        Ok(o) => o,
        Err(msg) => return error(&msg),
    };
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.scenario));
    let (path, seed_text) = (args.scenario.display().to_string(), seed.to_string());
    let words = ["archsim", "shrink", &path, "--seed", &seed_text, "--check", &check];
    let command = crate::report::command_line::shell_line(&words);
    let header = header(&found, &command, &check, seed, &out);
    let text = match write_scenario(&args.scenario, &out, &found.shrunk, seed, &check, &header) {
        Ok(t) => t,
        Err(msg) => return error(&format!("cannot write the shrunk scenario: {msg}")),
    };
    if let Err(e) = write_atomically(&out, |w| w.write_all(text.as_bytes())) {
        return error(&format!("cannot write {}: {e}", out.display()));
    }
    // The file alone must replay the violation.
    let replayed = load_scenario(&out, &[], &registry)
        .map_err(|e| e.to_string())
        .map(|s| violations_of(&s, &check, &registry));
    match replayed {
        Ok(v) if v == found.violations => {}
        Ok(v) => {
            return error(&format!(
                "{} gives {v} violations, not {}",
                out.display(),
                found.violations
            ));
        }
        Err(msg) => return error(&format!("{} does not load: {msg}", out.display())),
    }
    if let Err(code) = print(&report(&found, &args.scenario, &out, (&check, seed), args.quiet)) {
        return code;
    }
    EXIT_OK
}

/// The first invariant (in the scenario's order) the run violates.
fn first_violated(
    scenario: &crate::model::Scenario,
    registry: &Registry,
) -> Result<String, String> {
    let outcome = execute(scenario, registry, false)?;
    outcome
        .checks
        .iter()
        .find(|c| c.verdict == Verdict::Violated)
        .map(|c| c.name.to_string())
        .ok_or_else(|| {
            format!(
                "seed {} violates no invariant, so there is nothing to shrink; `archsim hunt` \
                 finds a seed that does",
                scenario.seed
            )
        })
}

/// `scenarios/x.ron` -> `scenarios/x.shrunk.ron`.
fn default_out(scenario: &Path) -> PathBuf {
    let stem = scenario.file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    scenario.with_file_name(format!("{stem}.shrunk.ron"))
}

/// The comment block the shrunk file starts with.
fn header(found: &Outcome, command: &str, check: &str, seed: u64, out: &Path) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "// Shrunk by `{command}`");
    let _ = writeln!(
        t,
        "// in {} runs: seed {seed} still violates {check} ({} {}) after",
        found.runs,
        found.violations,
        if found.violations == 1 { "violation" } else { "violations" }
    );
    for change in found.changes() {
        let _ = writeln!(t, "//   {change}");
    }
    let _ = writeln!(t, "// Replay: archsim run {}", out.display());
    let _ =
        writeln!(t, "// The original file's own notes follow; the figures above are this file's.");
    t
}

fn report(
    found: &Outcome,
    scenario: &Path,
    out: &Path,
    (check, seed): (&str, u64),
    quiet: bool,
) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "shrink     {} on seed {seed}: {check}", scenario.display());
    let _ = writeln!(t, "runs       {}", found.runs);
    for change in found.changes() {
        let _ = writeln!(t, "           {change}");
    }
    let _ = writeln!(t, "violations {} in the shrunk run", found.violations);
    if !quiet {
        let _ = writeln!(t, "wrote      {}", out.display());
    }
    let _ = writeln!(t, "replay     archsim run {}", out.display());
    t
}
