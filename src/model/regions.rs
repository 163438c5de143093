//! Regions: named places, the one-way latency between each pair of them, and the region
//! each component sits in. A link whose ends sit in two regions takes the pair's latency
//! on top of its own; a link within one region takes only its own.

use std::collections::BTreeMap;

use crate::engine::Dist;

/// The model's regions (none: every link takes only its own latency).
#[derive(Debug, Clone, Default)]
pub struct Regions {
    /// Region names, in name order.
    pub names: Vec<String>,
    /// One-way latency from region `i` to region `j` at `i * n + j`; `None` on the
    /// diagonal.
    latency: Vec<Option<Dist>>,
    /// The region of each placed component, by name.
    placement: BTreeMap<String, usize>,
}

impl Regions {
    /// Regions called `names`, with no latency between them yet and nothing placed.
    pub fn new(names: Vec<String>) -> Regions {
        let n = names.len();
        Regions { names, latency: vec![None; n * n], placement: BTreeMap::new() }
    }

    /// True when the model declares no region.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The index of the region called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Sets the one-way latency between regions `a` and `b`, both ways.
    pub fn set_latency(&mut self, a: usize, b: usize, latency: Dist) {
        let n = self.names.len();
        self.latency[a * n + b] = Some(latency.clone());
        self.latency[b * n + a] = Some(latency);
    }

    /// The one-way latency from region `a` to region `b`; `None` within one region (or
    /// for a pair not set, which validation refuses).
    pub fn between(&self, a: usize, b: usize) -> Option<&Dist> {
        self.latency.get(a * self.names.len() + b)?.as_ref()
    }

    /// Places component `name` in region `region`.
    pub fn place(&mut self, name: &str, region: usize) {
        self.placement.insert(name.to_string(), region);
    }

    /// The region component `name` sits in, if placed.
    pub fn of(&self, name: &str) -> Option<usize> {
        self.placement.get(name).copied()
    }

    /// The extra latency a link from region `from` to region `to` takes; `None` when it
    /// takes none (the same region, or either end placed nowhere).
    pub fn extra(&self, from: Option<usize>, to: Option<usize>) -> Option<&Dist> {
        match (from, to) {
            (Some(a), Some(b)) if a != b => self.between(a, b),
            _ => None,
        }
    }

    /// Of `among`, the region nearest to `from` by mean latency: `from` itself when it is
    /// one of them, else the first of the nearest.
    pub fn nearest(&self, from: usize, among: &[usize]) -> Option<usize> {
        if among.contains(&from) {
            return Some(from);
        }
        let mean = |r: usize| self.between(from, r).map_or(f64::INFINITY, Dist::mean_ns);
        among.iter().copied().min_by(|&a, &b| mean(a).total_cmp(&mean(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Regions {
        let mut r = Regions::new(vec!["us".into(), "eu".into(), "ap".into()]);
        r.set_latency(0, 1, Dist::constant(40));
        r.set_latency(0, 2, Dist::constant(80));
        r.set_latency(1, 2, Dist::constant(120));
        r
    }

    #[test]
    fn latency_is_symmetric_and_absent_within_a_region() {
        let r = three();
        assert_eq!(r.between(1, 0).map(Dist::mean_ns), Some(40.0));
        assert!(r.between(2, 2).is_none());
        assert!(r.extra(Some(0), None).is_none());
        assert_eq!(r.extra(Some(2), Some(1)).map(Dist::mean_ns), Some(120.0));
    }

    #[test]
    fn the_nearest_region_is_the_own_one_or_the_lowest_mean_latency() {
        let r = three();
        assert_eq!(r.nearest(1, &[0, 1]), Some(1));
        assert_eq!(r.nearest(2, &[1, 0]), Some(0));
        assert_eq!(r.nearest(2, &[]), None);
    }
}
