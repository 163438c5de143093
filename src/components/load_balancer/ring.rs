//! Consistent hashing: each downstream owns many points on a ring of 64-bit hashes, and
//! a key goes to the owner of the first point at or after the key's hash. Adding or
//! losing a downstream moves only the keys of its own arcs; a downstream marked down is
//! skipped, its keys going to the next live owner along the ring.

/// Points each downstream puts on the ring: enough that shares stay within a few
/// percent of even.
const POINTS: u64 = 128;

/// SplitMix64's finaliser: a fixed, platform-independent mix of 64 bits.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The ring of `n` downstreams.
#[derive(Debug, Clone)]
pub struct Ring {
    /// (point, downstream), sorted by point.
    points: Vec<(u64, u32)>,
}

impl Ring {
    /// A ring over downstreams `0..n`.
    pub fn new(n: u32) -> Ring {
        let mut points: Vec<(u64, u32)> = (0..n)
            .flat_map(|d| (0..POINTS).map(move |p| (mix(u64::from(d) << 32 | p), d)))
            .collect();
        points.sort_unstable();
        Ring { points }
    }

    /// The downstream that owns `key`, skipping those `up` says are down (the owner
    /// itself when every one is).
    pub fn owner(&self, key: u32, up: impl Fn(usize) -> bool) -> usize {
        let h = mix(u64::from(key) ^ 0x005E_ED0F_CAFE);
        let start = self.points.partition_point(|&(p, _)| p < h);
        let n = self.points.len();
        let first = self.points[start % n].1 as usize;
        (0..n).map(|k| self.points[(start + k) % n].1 as usize).find(|&d| up(d)).unwrap_or(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_evenly_and_a_lost_downstream_moves_only_its_own() {
        let ring = Ring::new(4);
        let owners: Vec<usize> = (0..40_000).map(|k| ring.owner(k, |_| true)).collect();
        for d in 0..4 {
            let share = owners.iter().filter(|&&o| o == d).count() as f64 / 40_000.0;
            assert!((share - 0.25).abs() < 0.05, "downstream {d} owns {share}");
        }
        let without_2: Vec<usize> = (0..40_000).map(|k| ring.owner(k, |d| d != 2)).collect();
        for (a, b) in owners.iter().zip(&without_2) {
            assert!(a == b || *a == 2, "a key of a live downstream moved");
            assert_ne!(*b, 2);
        }
    }
}
