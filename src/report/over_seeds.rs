//! Verdicts over many seeds. One seed is one run, and a design that holds on seed 1
//! may break on seed 4; a scenario's `seeds` (or `run --seeds`) judges its expectations
//! over a range of seeds instead.
//!
//! An invariant is violated over the seeds when any seed violates it, and holds when
//! every seed holds: `holds` is a claim about every run, `violated` a claim that a run
//! exists. A `count(lo, hi)` describes each run, so every seed's count must lie in it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::check::Verdict;
use crate::model::Expectation;

/// One seed's verdicts: per checker, the verdict and its violations.
#[derive(Debug, Clone)]
pub struct SeedVerdicts {
    /// The seed.
    pub seed: u64,
    /// `(checker, verdict, violations)`.
    pub verdicts: Vec<(&'static str, Verdict, u64)>,
}

/// One checker over the seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CheckOverSeeds {
    /// Violated when any seed violated it, else the seeds' verdict.
    pub verdict: Verdict,
    /// How many seeds it held on.
    pub holds_on: u64,
    /// The seeds that violated it, in order.
    pub violated_on: Vec<u64>,
    /// Violations over all the seeds.
    pub violations: u64,
    /// What the scenario expects, in its words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Whether the seeds meet it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_expected: Option<bool>,
    /// The command that replays the first seed that violated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_first: Option<String>,
}

/// Every checker over a range of seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OverSeeds {
    /// The first seed.
    pub from: u64,
    /// How many seeds, `from` and the ones after it.
    pub count: u64,
    /// Per checker.
    pub checks: BTreeMap<&'static str, CheckOverSeeds>,
}

impl OverSeeds {
    /// Judges `expect` over `seeds` (each seed's verdicts, in seed order).
    pub fn judge(expect: &[Expectation], seeds: &[SeedVerdicts]) -> OverSeeds {
        let mut checks: BTreeMap<&'static str, CheckOverSeeds> = BTreeMap::new();
        for run in seeds {
            for &(check, verdict, violations) in &run.verdicts {
                let c = checks.entry(check).or_insert_with(|| CheckOverSeeds {
                    verdict,
                    holds_on: 0,
                    violated_on: Vec::new(),
                    violations: 0,
                    expected: None,
                    as_expected: None,
                    replay_first: None,
                });
                c.violations += violations;
                match verdict {
                    Verdict::Violated => {
                        c.violated_on.push(run.seed);
                        c.verdict = Verdict::Violated;
                    }
                    Verdict::Holds => c.holds_on += 1,
                    Verdict::NotConfigured => {}
                }
            }
        }
        for (check, c) in &mut checks {
            let Some(e) = expect.iter().find(|e| e.check == *check) else { continue };
            c.expected = Some(e.words());
            c.as_expected = Some(met(e, check, seeds));
        }
        let from = seeds.first().map_or(0, |s| s.seed);
        OverSeeds { from, count: seeds.len() as u64, checks }
    }

    /// "holds on 20 of 20 seeds", "violated on 7 of 20 seeds (4, 6, 9, …)"; the seeds
    /// are listed when some held.
    pub fn describe(&self, check: &str) -> Option<String> {
        let c = self.checks.get(check)?;
        let n = self.count;
        Some(match c.verdict {
            Verdict::Violated if c.violated_on.len() as u64 == n => {
                format!("violated on {n} of {n} seeds")
            }
            Verdict::Violated => {
                format!("violated on {} of {n} seeds ({})", c.violated_on.len(), seeds_list(c))
            }
            Verdict::Holds => format!("holds on {} of {n} seeds", c.holds_on),
            Verdict::NotConfigured => format!("not configured on {n} seeds"),
        })
    }

    /// The seeds, as people read them: "seeds 1 to 20".
    pub fn range(&self) -> String {
        match self.count {
            1 => format!("seed {}", self.from),
            n => format!("seeds {} to {}", self.from, self.from.wrapping_add(n - 1)),
        }
    }
}

/// Whether every seed meets `e` (for `holds` and counts), or some seed violates the
/// invariant (for `violated`).
fn met(e: &Expectation, check: &str, seeds: &[SeedVerdicts]) -> bool {
    let mut each = seeds.iter().filter_map(|s| s.verdicts.iter().find(|v| v.0 == check));
    match (e.verdict, e.count) {
        (Verdict::Violated, None) => each.any(|&(_, v, _)| v == Verdict::Violated),
        _ => each.all(|&(_, v, n)| e.met_by(v, n)),
    }
}

/// The first few seeds that violated, with an ellipsis for the rest.
fn seeds_list(c: &CheckOverSeeds) -> String {
    const SHOWN: usize = 8;
    let mut text = String::new();
    for (i, seed) in c.violated_on.iter().take(SHOWN).enumerate() {
        let _ = write!(text, "{}{seed}", if i == 0 { "" } else { ", " });
    }
    if c.violated_on.len() > SHOWN {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(seed: u64, verdict: Verdict, violations: u64) -> SeedVerdicts {
        SeedVerdicts { seed, verdicts: vec![("lost_acknowledged_write", verdict, violations)] }
    }

    fn expect(verdict: Verdict, count: Option<(u64, u64)>) -> Vec<Expectation> {
        vec![Expectation { check: "lost_acknowledged_write".into(), verdict, count }]
    }

    fn seeds(violated: &[u64]) -> Vec<SeedVerdicts> {
        (1..=20)
            .map(|s| {
                if violated.contains(&s) {
                    seed(s, Verdict::Violated, 3)
                } else {
                    seed(s, Verdict::Holds, 0)
                }
            })
            .collect()
    }

    #[test]
    fn one_violating_seed_of_twenty_breaks_holds() {
        let over = OverSeeds::judge(&expect(Verdict::Holds, None), &seeds(&[7]));
        let c = &over.checks["lost_acknowledged_write"];
        assert_eq!((c.verdict, c.holds_on, c.violations), (Verdict::Violated, 19, 3));
        assert_eq!(c.violated_on, [7]);
        assert_eq!(c.as_expected, Some(false));
        let words = over.describe("lost_acknowledged_write").unwrap();
        assert_eq!(words, "violated on 1 of 20 seeds (7)");
        assert_eq!(over.range(), "seeds 1 to 20");
    }

    #[test]
    fn violated_needs_one_seed_and_holds_needs_all() {
        let held = OverSeeds::judge(&expect(Verdict::Violated, None), &seeds(&[]));
        assert_eq!(held.checks["lost_acknowledged_write"].as_expected, Some(false));
        assert_eq!(held.describe("lost_acknowledged_write").unwrap(), "holds on 20 of 20 seeds");
        let some = OverSeeds::judge(&expect(Verdict::Violated, None), &seeds(&[3, 9]));
        assert_eq!(some.checks["lost_acknowledged_write"].as_expected, Some(true));
        let all = OverSeeds::judge(&expect(Verdict::Holds, None), &seeds(&[]));
        assert_eq!(all.checks["lost_acknowledged_write"].as_expected, Some(true));
    }

    #[test]
    fn a_count_describes_every_seed() {
        let every: Vec<u64> = (1..=20).collect();
        let met = OverSeeds::judge(&expect(Verdict::Violated, Some((1, 5))), &seeds(&every));
        assert_eq!(met.checks["lost_acknowledged_write"].as_expected, Some(true));
        let short = OverSeeds::judge(&expect(Verdict::Violated, Some((1, 5))), &seeds(&[1, 2]));
        assert_eq!(short.checks["lost_acknowledged_write"].as_expected, Some(false));
        let over = OverSeeds::judge(&expect(Verdict::Violated, Some((1, 2))), &seeds(&every));
        assert_eq!(over.checks["lost_acknowledged_write"].as_expected, Some(false));
    }

    #[test]
    fn a_long_list_of_seeds_is_cut_and_every_seed_needs_no_list() {
        let most: Vec<u64> = (1..=19).collect();
        let over = OverSeeds::judge(&[], &seeds(&most));
        let words = over.describe("lost_acknowledged_write").unwrap();
        assert_eq!(words, "violated on 19 of 20 seeds (1, 2, 3, 4, 5, 6, 7, 8, …)");
        assert_eq!(over.checks["lost_acknowledged_write"].as_expected, None);
        let every: Vec<u64> = (1..=20).collect();
        let over = OverSeeds::judge(&[], &seeds(&every));
        assert_eq!(over.describe("lost_acknowledged_write").unwrap(), "violated on 20 of 20 seeds");
    }
}
