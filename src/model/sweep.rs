//! A sweep's plan: the grid, the variants, the seeds and the metrics, and the list of
//! runs they make. Every run's seed comes from the scenario's seed, the grid point and
//! the replicate, not from the variant: variants at one point run on the same seeds,
//! so a fix is compared with its absence on the same draws.

use serde::{Deserialize, Serialize};

/// One axis of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Axis {
    /// Dotted path of the parameter.
    pub param: String,
    /// Chart title of the axis.
    pub label: String,
    /// The values, in order.
    pub values: Vec<f64>,
    /// RON text with `{}` where the value goes.
    pub format: String,
    /// Whether the values were spaced on a log scale (charts then use one).
    pub log: bool,
}

impl Axis {
    /// The override that sets this axis to value `i`.
    pub fn set(&self, i: usize) -> String {
        let text = self.format.replace("{}", &number(self.values[i]));
        format!("{}={text}", self.param)
    }
}

/// A number as parameter text: at most 9 decimals, no trailing zeros (`2`, `0.5`),
/// so a step computed as `0.1 * 3` reads `0.3`, as the user would have written it.
pub fn number(x: f64) -> String {
    let text = format!("{x:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// A file name for a metric: lower-case letters and digits, `_` between words.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// A variant: its legend text and its overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Variant {
    /// Legend text.
    pub name: String,
    /// `path=value` overrides.
    pub set: Vec<String>,
}

/// A figure taken from each run's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Metric {
    /// Column and chart title.
    pub name: String,
    /// Dotted path in the summary JSON.
    pub of: String,
    /// Divisor's path.
    pub per: Option<String>,
    /// Factor.
    pub scale: f64,
    /// The value when a summary lacks `of`.
    pub absent: Option<f64>,
}

/// How a distribution is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "distribution_chart")]
pub enum DistributionChart {
    /// Cumulative share of values up to x.
    Cdf,
    /// Share of the total in each of a few equal bins.
    Histogram,
}

/// A distribution kept from the runs at some values of the first axis, pooled over
/// replicates and drawn once per variant and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Distribution {
    /// Chart title and CSV column.
    pub name: String,
    /// Which distribution of a run (`latency.write`, `staleness`, ...).
    pub of: String,
    /// How it is drawn.
    pub chart: DistributionChart,
    /// The first axis's value indices it is kept at.
    pub at: Vec<usize>,
}

/// A validated sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepSpec {
    /// Axes; the first is the charts' x axis.
    pub axes: Vec<Axis>,
    /// Variants (at least one).
    pub variants: Vec<Variant>,
    /// Runs per point and variant.
    pub seeds: u32,
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// Distributions drawn as CDFs or histograms.
    pub distributions: Vec<Distribution>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// Index in the sweep's run list (results are written in this order).
    pub index: usize,
    /// Variant index.
    pub variant: usize,
    /// Grid point index (axes in order, the last varying fastest).
    pub point: usize,
    /// Value index on each axis.
    pub values: Vec<usize>,
    /// Replicate number, from 0.
    pub replicate: u32,
    /// The run's seed.
    pub seed: u64,
}

impl SweepSpec {
    /// Grid points: the product of the axes' value counts (saturating, so a grid too
    /// big to run is refused by its size rather than overflowing).
    pub fn points(&self) -> usize {
        self.axes.iter().fold(1usize, |n, a| n.saturating_mul(a.values.len()))
    }

    /// Every run, variants outermost, then points, then replicates.
    pub fn runs(&self, scenario_seed: u64) -> Vec<RunPlan> {
        let mut runs = Vec::new();
        for variant in 0..self.variants.len() {
            for point in 0..self.points() {
                for replicate in 0..self.seeds {
                    runs.push(RunPlan {
                        index: runs.len(),
                        variant,
                        point,
                        values: self.value_indices(point),
                        replicate,
                        seed: run_seed(scenario_seed, point, replicate),
                    });
                }
            }
        }
        runs
    }

    /// Why this sweep could not be run or drawn, if it could not: what a sweep read
    /// back from a journal must pass (a scenario's sweep is validated when loaded).
    pub fn shape_error(&self, runs_max: usize, values_max: usize) -> Option<String> {
        let Some(x) = self.axes.first() else { return Some("the sweep has no axis".into()) };
        if self.axes.iter().any(|a| a.values.is_empty() || a.values.len() > values_max) {
            return Some(format!("an axis has no value or more than {values_max}"));
        }
        if self.variants.is_empty() || self.seeds == 0 {
            return Some("the sweep has no variant or no seed".into());
        }
        let runs =
            self.points().saturating_mul(self.variants.len()).saturating_mul(self.seeds as usize);
        if runs > runs_max {
            return Some(format!("{runs} runs: at most {runs_max}"));
        }
        if self.distributions.iter().any(|d| d.at.iter().any(|&i| i >= x.values.len())) {
            return Some("a distribution is kept at a value the first axis lacks".into());
        }
        None
    }

    /// The value index on each axis of grid point `point`.
    pub fn value_indices(&self, mut point: usize) -> Vec<usize> {
        let mut out = vec![0; self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            out[i] = point % axis.values.len();
            point /= axis.values.len();
        }
        out
    }

    /// The overrides of `run`: its grid values, then its variant's (a variant that sets
    /// a swept parameter, such as pub/sub against a polling interval, wins).
    pub fn sets(&self, run: &RunPlan) -> Vec<String> {
        let mut sets: Vec<String> =
            self.axes.iter().zip(&run.values).map(|(a, &i)| a.set(i)).collect();
        sets.extend(self.variants[run.variant].set.iter().cloned());
        sets
    }
}

impl Distribution {
    /// Whether `run` keeps this distribution.
    pub fn kept_by(&self, run: &RunPlan) -> bool {
        self.at.contains(&run.values[0])
    }
}

/// SplitMix64: a well-mixed seed from the scenario's seed, the point and the replicate.
pub fn run_seed(seed: u64, point: usize, replicate: u32) -> u64 {
    let mut z = seed
        ^ (point as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ u64::from(replicate).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SweepSpec {
        let axis = |param: &str, values: Vec<f64>| Axis {
            param: param.into(),
            label: param.into(),
            values,
            format: "exp(\"{}s\")".into(),
            log: false,
        };
        SweepSpec {
            axes: vec![axis("db.lag", vec![0.5, 2.0]), axis("x", vec![1.0, 2.0, 3.0])],
            variants: vec![
                Variant { name: "off".into(), set: vec![] },
                Variant { name: "on".into(), set: vec!["a=true".into()] },
            ],
            seeds: 2,
            metrics: vec![],
            distributions: vec![],
        }
    }

    #[test]
    fn runs_cover_the_grid_and_variants_share_seeds() {
        let s = spec();
        let runs = s.runs(7);
        assert_eq!(runs.len(), 2 * 6 * 2);
        assert_eq!(runs[5].values, vec![0, 2]);
        assert_eq!(runs[6].values, vec![1, 0]);
        // Same point and replicate: the same seed, whatever the variant.
        assert_eq!(runs[3].seed, runs[12 + 3].seed);
        let mut seeds: Vec<u64> = runs[..12].iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), 12);
        let sets = s.sets(&runs[12 + 7]);
        assert_eq!(sets, vec!["db.lag=exp(\"2s\")", "x=exp(\"1s\")", "a=true"]);
    }

    #[test]
    fn numbers_read_back_as_written() {
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(1e-3), "0.001");
    }
}
