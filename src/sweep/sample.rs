//! Distributions a sweep keeps from its runs: a run's histogram by name, with the
//! total its shares are taken of, and the names a scenario may ask for.

use serde::{Deserialize, Serialize};

use crate::check::Histogram;
use crate::run::RunOutcome;

/// One run's distribution: a histogram of nanoseconds, and the total that shares are
/// taken of (the values themselves, but all reads for `staleness`, which counts only
/// the stale ones).
#[derive(Debug, Clone)]
pub struct Sample {
    /// The values.
    pub hist: Histogram,
    /// What a share is a share of.
    pub total: u64,
}

impl Sample {
    /// A sample whose shares are of its own values.
    fn of(hist: &Histogram) -> Sample {
        Sample { total: hist.count(), hist: hist.clone() }
    }

    /// Adds `other`'s values and total (pooling replicates).
    pub fn merge(&mut self, other: &Sample) {
        self.hist.merge(&other.hist);
        self.total += other.total;
    }
}

/// The distribution `of` of a run; `None` when the run did not measure it (staleness
/// without the `bounded_staleness` checker).
pub fn sample(outcome: &RunOutcome, of: &str) -> Option<Sample> {
    if let Some(row) = of.strip_prefix("latency.") {
        return Some(Sample::of(&outcome.history.stats(row)?.latency));
    }
    let f = &outcome.history.figures;
    match of {
        "staleness" => {
            let check = outcome.checks.iter().find(|c| c.name == "bounded_staleness")?;
            let hist = check.distribution.clone()?;
            Some(Sample { hist, total: check.checked })
        }
        "replication_lag" => Some(Sample::of(&outcome.replication_lag)),
        "propagation" => Some(Sample::of(&f.propagation)),
        "action" => Some(Sample::of(&f.action)),
        "gate" => Some(Sample::of(&f.gate)),
        "first_byte" => Some(Sample::of(&f.first_byte)),
        "whole_stream" => Some(Sample::of(&f.whole_stream)),
        _ => None,
    }
}

/// Why a run lacks a distribution a sweep asked for.
pub fn missing_reason(of: &str) -> String {
    if of == "staleness" {
        "`staleness` is measured by the `bounded_staleness` checker: add it to `check`".into()
    } else {
        format!("the run has no distribution `{of}`")
    }
}

/// A sample as the journal stores it: the non-empty buckets only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSample {
    /// What shares are of.
    pub total: u64,
    /// Smallest value.
    pub min: u64,
    /// Largest value.
    pub max: u64,
    /// Sum of the values, in decimal (it may pass 2^64).
    pub sum: String,
    /// (bucket, count) pairs.
    pub buckets: Vec<(usize, u64)>,
}

impl From<&Sample> for StoredSample {
    fn from(s: &Sample) -> Self {
        StoredSample {
            total: s.total,
            min: s.hist.min(),
            max: s.hist.max(),
            sum: s.hist.sum().to_string(),
            buckets: s.hist.buckets().collect(),
        }
    }
}

impl TryFrom<&StoredSample> for Sample {
    type Error = String;

    fn try_from(s: &StoredSample) -> Result<Self, String> {
        let sum = s.sum.parse::<u128>().map_err(|_| format!("bad sum `{}`", s.sum))?;
        let hist = Histogram::from_parts(&s.buckets, s.min, s.max, sum)?;
        Ok(Sample { hist, total: s.total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_samples_round_trip() {
        let mut hist = Histogram::default();
        [5, 1_000, 1_001, 4_000_000].iter().for_each(|&v| hist.record(v));
        let s = Sample { hist, total: 10 };
        let stored = StoredSample::from(&s);
        let back = Sample::try_from(&stored).unwrap();
        assert_eq!(StoredSample::from(&back), stored);
        assert_eq!(back.total, 10);
    }
}
