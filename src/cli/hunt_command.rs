//! `archsim hunt`: many seeds of one scenario in parallel; the first failing seed, its
//! story and its replay command, and per invariant the seeds that violated it.
//! Exit code 1 when a seed failed, 0 when none did.

use std::fmt::Write as _;
use std::time::Instant;

use serde_json::json;

use super::args::{Format, HuntArgs, Until};
use super::output::{EXIT_OK, EXIT_VERDICT_DIFFERS, error, report_errors, worker_pool};
use super::output::{print, progress};
use crate::components::Registry;
use crate::hunt::{Failure, Hunt, HuntSpec, hunt};
use crate::model::Scenario;
use crate::report::Summary;
use crate::report::summary::group;
use crate::run::execute;
use crate::schema::load_scenario;

/// `archsim hunt`.
pub fn hunt_command(args: &HuntArgs) -> i32 {
    let mut scenario = match load_scenario(&args.scenario, &args.set, &Registry::new()) {
        Ok(s) => s,
        Err(e) => return report_errors(args.format, &e),
    };
    scenario.limits = args.limits.limits();
    let from = args.from.unwrap_or(scenario.seed);
    let spec = HuntSpec {
        seeds: (0..args.seeds).map(|i| from.wrapping_add(i)).collect(),
        failure: if args.until == Some(Until::Differs) {
            Failure::Differs
        } else {
            Failure::Violated
        },
        stop_at_first: args.until.is_some(),
        checks: args.checks.clone(),
    };
    let pool = match worker_pool(args.threads) {
        Ok(p) => p,
        Err(msg) => return error(&msg),
    };
    let bar = progress(args.seeds, args.quiet);
    let started = Instant::now();
    let found = pool.install(|| hunt(&scenario, &spec, &|| bar.inc(1)));
    bar.finish_and_clear();
    let found = match found {
        Ok(h) => h,
        Err(msg) => return error(&msg),
    };
    let wall = started.elapsed().as_secs_f64();
    // The first failing seed is run again for its summary: a run is cheap next to a
    // hunt, and the trace hash shows the replay is the same run.
    let failing = match found.first_failing().map(|r| summary_of(&scenario, r.seed)) {
        Some(Ok(summary)) => Some(summary),
        Some(Err(msg)) => return error(&msg),
        None => None,
    };
    if let (Some(s), Some(r)) = (&failing, found.first_failing()) {
        if s.trace_hash != r.trace_hash {
            return error("the first failing seed replayed differently: a determinism bug");
        }
    }
    let text = match args.format {
        Format::Text => text(&scenario, args, &spec, &found, failing.as_ref(), wall),
        Format::Json => json(&scenario, &spec, &found, failing.as_ref()),
    };
    if let Err(code) = print(&text) {
        return code;
    }
    if failing.is_some() { EXIT_VERDICT_DIFFERS } else { EXIT_OK }
}

fn summary_of(scenario: &Scenario, seed: u64) -> Result<Summary, String> {
    let mut scenario = scenario.clone();
    scenario.seed = seed;
    let outcome = execute(&scenario, &Registry::new(), false)?;
    Ok(Summary::new(&scenario, &outcome, None))
}

/// What the hunt looked for, in words.
fn looking_for(spec: &HuntSpec) -> &'static str {
    match (spec.stop_at_first, spec.failure) {
        (false, _) => "every seed",
        (true, Failure::Violated) => "until an invariant is violated",
        (true, Failure::Differs) => "until a verdict differs from the scenario's expectations",
    }
}

fn text(
    scenario: &Scenario,
    args: &HuntArgs,
    spec: &HuntSpec,
    found: &Hunt,
    failing: Option<&Summary>,
    wall: f64,
) -> String {
    let mut t = String::new();
    let (first, last) = (spec.seeds[0], spec.seeds[spec.seeds.len() - 1]);
    let _ =
        writeln!(t, "hunt       {}: seeds {first} to {last}, {}", scenario.name, looking_for(spec));
    let runs = found.runs.len() as u64;
    let plural = if runs == 1 { "" } else { "s" };
    let _ = writeln!(t, "ran        {} seed{plural} in {wall:.1} s wall", group(runs));
    match (found.first_failing(), failing) {
        (Some(run), Some(summary)) => {
            let failed: Vec<String> = run
                .verdicts
                .iter()
                .filter(|v| spec.failure.fails(v))
                .map(|v| format!("{} {} ({})", v.check, v.verdict.name(), group(v.violations)))
                .collect();
            let _ = writeln!(t, "first      seed {}: {}", run.seed, failed.join(", "));
            let _ = writeln!(t, "replay     {}", summary.replay);
        }
        _ => {
            let _ = writeln!(t, "first      no seed failed");
        }
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "{:<28} {:>12} {:>11}  seeds", "invariant", "violated on", "violations");
    let runs = found.runs.len();
    for (check, seeds, violations) in found.by_invariant() {
        let on = format!("{} of {runs}", seeds.len());
        let listed = seed_list(&seeds);
        let _ = writeln!(t, "{check:<28} {on:>12} {:>11}  {listed}", group(violations));
    }
    if let Some(summary) = failing {
        let _ = writeln!(t, "\nthe first failing seed's run ({}):\n", summary.replay);
        t.push_str(&summary.to_text());
    } else if !args.quiet {
        let _ = writeln!(t, "\nno failing seed: try more (--seeds) or other seeds (--from)");
    }
    t
}

/// Up to ten seeds, then how many more.
fn seed_list(seeds: &[u64]) -> String {
    let shown: Vec<String> = seeds.iter().take(10).map(u64::to_string).collect();
    match seeds.len() {
        0 => "-".into(),
        n if n > 10 => format!("{}, and {} more", shown.join(", "), n - 10),
        _ => shown.join(", "),
    }
}

fn json(scenario: &Scenario, spec: &HuntSpec, found: &Hunt, failing: Option<&Summary>) -> String {
    let invariants: serde_json::Map<String, serde_json::Value> = found
        .by_invariant()
        .into_iter()
        .map(|(check, seeds, violations)| {
            (check.to_string(), json!({ "violated_on": seeds, "violations": violations }))
        })
        .collect();
    let first = found.first_failing().zip(failing).map(|(run, summary)| {
        json!({
            "seed": run.seed,
            "trace_hash": run.trace_hash,
            "replay": summary.replay,
            "checks": summary.checks,
        })
    });
    let value = json!({
        "scenario": scenario.name,
        "seeds": { "from": spec.seeds[0], "count": spec.seeds.len(), "judged": found.runs.len() },
        "looking_for": looking_for(spec),
        "first_failing": first,
        "invariants": invariants,
    });
    serde_json::to_string_pretty(&value).expect("hunt result serialises") + "\n"
}
