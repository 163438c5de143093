//! **t-visibility**, the curve the quorum literature draws: of the reads made a time t
//! after the newest acknowledged write of their key was acknowledged, the share that
//! returned it (or a version that includes it).
//!
//! Reads are binned by t on a 1-2-5 scale from 1 µs to 1 000 s, in integer nanoseconds,
//! so the bins are the same on every machine.

use serde::Serialize;

/// Upper edges of the bins, in ns: 1 µs, 2 µs, 5 µs, 10 µs, ... 1 000 s; a last bin
/// takes everything beyond.
const EDGES: [u64; 28] = {
    let mut edges = [0u64; 28];
    let mut i = 0;
    let mut decade = 1_000u64;
    while i < 28 {
        let step = [1, 2, 5][i % 3];
        edges[i] = decade * step;
        if i % 3 == 2 {
            decade *= 10;
        }
        i += 1;
    }
    edges
};

/// Reads and the fresh among them, per bin of t.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// Per bin: (reads, reads that returned the write).
    bins: Vec<(u64, u64)>,
}

/// One point of the curve.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VisibilityPoint {
    /// The bin's lower edge of t, in ns.
    pub from_ns: u64,
    /// Its upper edge (exclusive), in ns; `u64::MAX` for the last bin.
    pub to_ns: u64,
    /// Reads made with t in the bin.
    pub reads: u64,
    /// Of those, the reads that returned the write.
    pub fresh: u64,
}

impl Visibility {
    /// Counts a read made `t_ns` after its key's newest acknowledged write was
    /// acknowledged, `fresh` when it returned it.
    pub fn record(&mut self, t_ns: u64, fresh: bool) {
        let bin = EDGES.partition_point(|&edge| edge <= t_ns);
        if self.bins.len() <= bin {
            self.bins.resize(bin + 1, (0, 0));
        }
        let (reads, fresh_reads) = &mut self.bins[bin];
        *reads += 1;
        *fresh_reads += u64::from(fresh);
    }

    /// The curve: every bin that holds a read, in order of t.
    pub fn points(&self) -> Vec<VisibilityPoint> {
        let edge =
            |i: usize| if i == 0 { 0 } else { EDGES.get(i - 1).copied().unwrap_or(u64::MAX) };
        let points = self.bins.iter().enumerate().filter(|(_, (reads, _))| *reads > 0);
        points
            .map(|(i, &(reads, fresh))| VisibilityPoint {
                from_ns: edge(i),
                to_ns: EDGES.get(i).copied().unwrap_or(u64::MAX),
                reads,
                fresh,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bins_run_one_two_five_from_a_microsecond_to_a_thousand_seconds() {
        assert_eq!(&EDGES[..4], &[1_000, 2_000, 5_000, 10_000]);
        assert_eq!(EDGES[27], 1_000_000_000_000);
    }

    #[test]
    fn reads_fall_in_the_bin_of_their_t_and_count_fresh_apart() {
        let mut v = Visibility::default();
        v.record(500, false); // under 1 µs
        v.record(1_500_000, true); // 1 ms to 2 ms
        v.record(1_999_999, false);
        v.record(2_000_000, true); // 2 ms to 5 ms
        let points = v.points();
        assert_eq!(points.len(), 3);
        assert_eq!(points[0], VisibilityPoint { from_ns: 0, to_ns: 1_000, reads: 1, fresh: 0 });
        let ms = VisibilityPoint { from_ns: 1_000_000, to_ns: 2_000_000, reads: 2, fresh: 1 };
        assert_eq!(points[1], ms);
        assert_eq!((points[2].from_ns, points[2].reads, points[2].fresh), (2_000_000, 1, 1));
    }
}
