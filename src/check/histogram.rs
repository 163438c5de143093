//! A log-linear latency histogram with bounded relative error.
//!
//! Values below 256 ns are counted exactly; above, each power of two is split into 128
//! buckets, so a reported percentile is within 0.8% of the true sample quantile. The
//! histogram has a fixed size (about 59 KiB) whatever the number of samples, which keeps
//! a run with hundreds of millions of operations in bounded memory. Min and max are exact.

const EXACT: u64 = 256;
const SUB_BITS: u32 = 7;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = EXACT as usize + (64 - 8) * SUB;

/// Counts of nanosecond values in log-linear buckets.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    min: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0, min: u64::MAX, max: 0, sum: 0 }
    }
}

fn index_of(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= 8
    let sub = (v >> (e - SUB_BITS)) as usize & (SUB - 1);
    EXACT as usize + (e as usize - 8) * SUB + sub
}

/// The largest value that falls in bucket `i`.
fn high_of(i: usize) -> u64 {
    if i < EXACT as usize {
        return i as u64;
    }
    let e = (i - EXACT as usize) / SUB + 8;
    let sub = ((i - EXACT as usize) % SUB) as u64;
    let width = 1u64 << (e - SUB_BITS as usize);
    let low = (1u64 << e) + sub * width;
    low + (width - 1)
}

impl Histogram {
    /// Counts one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.counts[index_of(v)] += 1;
        self.total += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    /// Number of values counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value counted (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The smallest value counted (0 when empty).
    pub fn min(&self) -> u64 {
        if self.total == 0 { 0 } else { self.min }
    }

    /// The mean, rounded down (0 when empty).
    pub fn mean(&self) -> u64 {
        if self.total == 0 { 0 } else { (self.sum / u128::from(self.total)) as u64 }
    }

    /// The `q` quantile (`q` in `[0, 1]`): the smallest bucket bound below which at least
    /// `ceil(q * n)` values lie, capped by the exact maximum.
    pub fn quantile(&self, q: f64) -> u64 {
        assert!((0.0..=1.0).contains(&q), "quantile {q} out of range");
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return high_of(i).min(self.max).max(self.min);
            }
        }
        self.max
    }

    /// The sum of every value counted.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The buckets that hold a value, as (bucket, count), in value order.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (i, *c))
    }

    /// The largest value that falls in bucket `i`.
    pub fn bucket_high(i: usize) -> u64 {
        high_of(i)
    }

    /// A histogram rebuilt from `buckets` (as `buckets` gives them), its exact min and
    /// max and its sum; refused when a bucket does not exist or the extremes disagree.
    pub fn from_parts(
        buckets: &[(usize, u64)],
        min: u64,
        max: u64,
        sum: u128,
    ) -> Result<Histogram, String> {
        let mut h = Histogram::default();
        for &(i, c) in buckets {
            let slot = h.counts.get_mut(i).ok_or_else(|| format!("no histogram bucket {i}"))?;
            *slot = slot.checked_add(c).ok_or("a histogram count overflows")?;
            h.total = h.total.checked_add(c).ok_or("a histogram count overflows")?;
        }
        if h.total > 0 {
            if min > max || index_of(min) > index_of(max) {
                return Err(format!("histogram min {min} above max {max}"));
            }
            (h.min, h.max, h.sum) = (min, max, sum);
        }
        Ok(h)
    }

    /// Adds every count of `other` into this histogram.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[u64], q: f64, expected: u64) {
        let mut h = Histogram::default();
        values.iter().for_each(|&v| h.record(v));
        let got = h.quantile(q);
        let tol = expected / 128 + 1;
        assert!(got.abs_diff(expected) <= tol, "q{q}: got {got}, want {expected}");
    }

    #[test]
    fn small_values_are_exact() {
        check(&[1, 2, 3, 4, 5], 0.5, 3);
        check(&[10, 20, 30, 40], 1.0, 40);
    }

    #[test]
    fn large_values_are_within_one_percent() {
        let values: Vec<u64> = (1..=100_000u64).map(|i| i * 12_345).collect();
        check(&values, 0.5, 50_000 * 12_345);
        check(&values, 0.99, 99_000 * 12_345);
        check(&values, 1.0, 100_000 * 12_345);
    }

    #[test]
    fn parts_rebuild_the_same_histogram() {
        let mut h = Histogram::default();
        [3, 300, 301, 90_000, 7_000_000].iter().for_each(|&v| h.record(v));
        let buckets: Vec<(usize, u64)> = h.buckets().collect();
        assert_eq!(buckets.len(), 4);
        let back = Histogram::from_parts(&buckets, h.min(), h.max(), h.sum()).unwrap();
        assert_eq!(
            (back.count(), back.min(), back.max(), back.mean()),
            (5, 3, 7_000_000, h.mean())
        );
        assert_eq!(back.quantile(0.5), h.quantile(0.5));
        assert!(Histogram::from_parts(&[(BUCKETS, 1)], 0, 0, 0).is_err());
    }

    #[test]
    fn buckets_cover_every_value() {
        for v in [0, 255, 256, 257, 1 << 20, (1 << 20) + 12_345, u64::MAX] {
            let i = index_of(v);
            assert!(i < BUCKETS);
            assert!(high_of(i) >= v, "{v}");
        }
    }
}
