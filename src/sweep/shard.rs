//! A shard of a sweep: `--shard K/N` runs every N-th run, starting at run K - 1, so each
//! shard gets a mix of every variant and point (heavy and light runs alike), and the N
//! shards together run each run exactly once.

use std::fmt;

/// Shard `k` of `n`, from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub k: usize,
    /// How many shards.
    pub n: usize,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Shard = Shard { k: 1, n: 1 };

    /// Parses `K/N` (1 ≤ K ≤ N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`--shard {text}`: expected K/N with 1 ≤ K ≤ N, such as 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > n { Err(bad()) } else { Ok(Shard { k, n }) }
    }

    /// Whether this shard runs the run with plan index `index`.
    pub fn selects(&self, index: usize) -> bool {
        index % self.n == self.k - 1
    }

    /// Whether this is the whole sweep.
    pub fn is_whole(&self) -> bool {
        self.n == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> =
            (1..=3).map(|k| Shard::parse(&format!("{k}/3")).unwrap()).collect();
        for index in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.selects(index)).count(), 1);
        }
        assert!(Shard::WHOLE.selects(7));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse(" 2/ 8").unwrap().to_string(), "2/8");
    }
}
