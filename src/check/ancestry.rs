//! Skip pointers over the single-parent chains of the version DAG, so "is `w` an
//! ancestor of `r`?" costs O(log n) steps however long a key's history grows.
//!
//! The DAG is cut into segments: a segment starts at the root or at a merge (a version
//! with two parents) and holds every version reachable from its start through
//! single-parent links. Within a segment the versions form a tree, and each version
//! keeps its depth in it and a skip pointer to an ancestor further down, chosen as in
//! Bitcoin Core's block index (`GetSkipHeight`), so an ancestor at any depth is found
//! in a logarithmic number of jumps. Without this, a check against an old version
//! walked every version written since: a 10-hour run spent 58% of its time there and
//! slowed to a tenth of its speed.

use super::versions::VersionId;
use super::window::{Window, permute};

/// Where one kept version sits in its segment; the pointers are version ids. The four
/// share a record, so a step of a walk, which reads a depth, a start and a pointer,
/// costs one cache line, not one per column.
#[derive(Debug, Clone, Copy)]
struct Node {
    depth: u32,
    start: u32,
    parent: u32,
    skip: u32,
}

/// The node of every kept version, by slot (see `window.rs`).
#[derive(Debug, Clone)]
pub struct Ancestry {
    nodes: Vec<Node>,
    /// The id the next version pushed gets.
    next: u32,
}

impl Default for Ancestry {
    /// The root alone: a segment of its own at depth 0.
    fn default() -> Self {
        Ancestry { nodes: vec![Node { depth: 0, start: 0, parent: 0, skip: 0 }], next: 1 }
    }
}

/// The depth the skip pointer of a version at `depth` points to: below it, and spread
/// so that any depth is reached in O(log depth) jumps.
fn skip_depth(depth: u32) -> u32 {
    let lowest_one_cleared = |n: u32| n & n.wrapping_sub(1);
    if depth < 2 {
        0
    } else if depth & 1 == 1 {
        lowest_one_cleared(lowest_one_cleared(depth - 1)) + 1
    } else {
        lowest_one_cleared(depth)
    }
}

impl Ancestry {
    /// Adds the next version: `Some(parent)` for a single parent (the root for a first
    /// write), `None` for a merge, which starts a segment. Its data goes in the next
    /// slot, which `window` must give it.
    pub fn push(&mut self, parent: Option<VersionId>, window: &Window) {
        let id = self.next;
        self.next += 1;
        let Some(p) = parent else {
            self.nodes.push(Node { depth: 0, start: id, parent: id, skip: id });
            return;
        };
        let below = self.nodes[window.kept(p.0)];
        let depth = below.depth + 1;
        // A skip into what the run forgot keeps the forgotten id it stopped at: it is
        // never taken towards a version still asked about, which lies above it.
        let skip = self.ancestor_at(p, skip_depth(depth), window).unwrap_or_else(|at| at);
        self.nodes.push(Node { depth, start: below.start, parent: p.0, skip: skip.0 });
    }

    /// Keeps the slots `order` names, in that order (see `window::permute`).
    pub fn permute(&mut self, order: &[usize]) {
        permute(&mut self.nodes, order);
    }

    /// The start of `v`'s segment: the root or a merge.
    #[inline]
    pub fn segment(&self, v: VersionId, window: &Window) -> VersionId {
        VersionId(self.nodes[window.kept(v.0)].start)
    }

    /// The ancestor of `v` at `depth` of its segment (`depth` at most `v`'s), or the
    /// forgotten version the way there passes (`Err`): then the ancestor is one every
    /// held version descends from.
    pub fn ancestor_at(
        &self,
        v: VersionId,
        depth: u32,
        window: &Window,
    ) -> Result<VersionId, VersionId> {
        let (mut at, mut at_depth) = (v.0, self.nodes[window.kept(v.0)].depth);
        debug_assert!(depth <= at_depth);
        while at_depth > depth {
            let skip_to = skip_depth(at_depth);
            let skip_prev = skip_depth(at_depth - 1);
            // Bitcoin Core's rule: take the skip unless the parent's skip gets closer.
            let take = skip_to == depth
                || (skip_to > depth && !(skip_prev + 2 < skip_to && skip_prev >= depth));
            let Some(slot) = window.slot(at) else { return Err(VersionId(at)) };
            let node = &self.nodes[slot];
            if take {
                at = node.skip;
                at_depth = skip_to;
            } else {
                at = node.parent;
                at_depth -= 1;
            }
        }
        Ok(VersionId(at))
    }

    /// Whether `w` is `v` or an ancestor of it, when `v`'s segment answers that: `None`
    /// when the answer lies below the merge that starts `v`'s segment.
    pub fn within_segment(&self, v: VersionId, w: VersionId, window: &Window) -> Option<bool> {
        let (sv, sw) = (window.kept(v.0), window.kept(w.0));
        let (nv, nw) = (self.nodes[sv], self.nodes[sw]);
        let start = nv.start;
        if start == nw.start {
            let depth = nw.depth;
            // A way through forgotten versions cannot end at `w`, which is kept and
            // not settled safe (the caller asks of those by their fate).
            return Some(depth <= nv.depth && self.ancestor_at(v, depth, window) == Ok(w));
        }
        // The root's segment has nothing below it.
        if start == 0 { Some(false) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_depths_are_below_and_reach_any_depth_in_few_jumps() {
        for d in 1..5_000 {
            assert!(skip_depth(d) < d, "skip of {d}");
        }
        // One chain of 100,000 versions: every ancestor found, each in under 100 jumps.
        let (mut a, w) = (Ancestry::default(), Window::default());
        for i in 0..100_000u32 {
            a.push(Some(VersionId(i)), &w);
        }
        let top = VersionId(100_000);
        for d in (0..=100_000).step_by(997) {
            assert_eq!(a.ancestor_at(top, d, &w), Ok(VersionId(d)));
        }
        let mut jumps = 0;
        let (mut at, mut depth) = (100_000u32, 100_000u32);
        while depth > 3 {
            let s = skip_depth(depth);
            (at, depth) = if s >= 3 { (a.nodes[at as usize].skip, s) } else { (at - 1, depth - 1) };
            jumps += 1;
        }
        assert!(at == 3 && jumps < 100, "{jumps} jumps");
    }

    #[test]
    fn segments_start_at_merges() {
        let (mut a, w) = (Ancestry::default(), Window::default());
        a.push(Some(VersionId(0)), &w); // v1
        a.push(Some(VersionId(1)), &w); // v2
        a.push(Some(VersionId(1)), &w); // v3, a branch beside v2
        a.push(None, &w); // v4, a merge
        a.push(Some(VersionId(4)), &w); // v5
        let v = VersionId;
        assert_eq!(a.within_segment(v(2), v(1), &w), Some(true));
        assert_eq!(a.within_segment(v(3), v(2), &w), Some(false), "a sibling branch");
        assert_eq!(a.within_segment(v(5), v(4), &w), Some(true));
        assert_eq!(a.within_segment(v(5), v(1), &w), None, "below the merge");
        assert_eq!(a.segment(v(5), &w), v(4));
    }
}
