//! Where each kept version's data sits in the version DAG's per-version columns, once a
//! run has started forgetting versions no one can ask about again.
//!
//! The columns hold, in this order, a few old versions still kept (`side`, in id
//! order) and then every version from `base` on, densely. A version from `base` on is
//! found by arithmetic; an older kept one by binary search; anything else is gone.
//! Versions are never renumbered: ids are printed in stories and carried in messages.

/// The layout of the per-version columns.
#[derive(Debug, Clone, Default)]
pub struct Window {
    base: u32,
    side: Vec<u32>,
}

impl Window {
    /// The slot of `v`, if its data is kept.
    #[inline]
    pub fn slot(&self, v: u32) -> Option<usize> {
        if v >= self.base {
            Some(self.side.len() + (v - self.base) as usize)
        } else {
            self.side.binary_search(&v).ok()
        }
    }

    /// The slot of `v`, whose data the caller knows is kept.
    #[inline]
    pub fn kept(&self, v: u32) -> usize {
        match self.slot(v) {
            Some(slot) => slot,
            None => panic!("v{v} was forgotten, yet it is asked about"),
        }
    }

    /// The kept ids below `base`, in order (their slots come first).
    pub fn side(&self) -> &[u32] {
        &self.side
    }

    /// The first id stored densely.
    pub fn base(&self) -> u32 {
        self.base
    }

    /// A layout for `kept` (sorted ids, each below `len`) and every id from the new base
    /// to `len`, chosen to cost the fewest bytes at `dense` bytes a dense slot and
    /// `sparse` a side one; and the old slot of each new slot, in order.
    pub fn relaid(&self, kept: &[u32], len: u32, dense: u64, sparse: u64) -> (Window, Vec<usize>) {
        // Putting the base at `kept[i]` keeps `i` side entries and `len - kept[i]` dense.
        let cost = |i: usize, base: u32| i as u64 * sparse + u64::from(len - base) * dense;
        let mut best = (cost(kept.len(), len), kept.len());
        for (i, &base) in kept.iter().enumerate() {
            let c = cost(i, base);
            if c < best.0 {
                best = (c, i);
            }
        }
        let i = best.1;
        let base = kept.get(i).copied().unwrap_or(len).max(self.base);
        let side: Vec<u32> = kept.iter().copied().filter(|&v| v < base).collect();
        let order = side.iter().copied().chain(base..len).map(|v| self.kept(v)).collect();
        (Window { base, side }, order)
    }
}

/// Keeps the slots `order` names, in that order. `order` rises (both layouts keep ids
/// in order), so each slot moves down or stays and the column is compacted in place:
/// its buffer, already faulted in, is reused by the versions made next instead of
/// being freed and grown again from nothing after every collection.
pub fn permute<T: Copy>(column: &mut Vec<T>, order: &[usize]) {
    for (to, &from) in order.iter().enumerate() {
        debug_assert!(to <= from && (to == 0 || order[to - 1] < from), "order must rise");
        column[to] = column[from];
    }
    column.truncate(order.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_window_keeps_exactly_the_kept_ids_and_the_tail() {
        let w = Window::default();
        let kept: Vec<u32> = [3, 4].into_iter().chain(90..100).collect();
        let (w2, order) = w.relaid(&kept, 100, 10, 12);
        // Cheapest: 3 and 4 aside, everything from 90 on dense.
        assert_eq!(w2.base(), 90);
        assert_eq!(order, [3, 4].into_iter().chain(90..100).collect::<Vec<_>>());
        for v in 0..100u32 {
            let held = v == 3 || v == 4 || v >= 90;
            assert_eq!(w2.slot(v).is_some(), held, "v{v}");
        }
        assert_eq!(w2.slot(4), Some(1));
        assert_eq!(w2.slot(92), Some(4));
        // Laid out again, old slots are found through the current window.
        let kept: Vec<u32> = [4].into_iter().chain(95..120).collect();
        let (w3, order) = w2.relaid(&kept, 120, 10, 12);
        assert_eq!(w3.base(), 95);
        assert_eq!(order[0], 1, "v4 was in slot 1");
        assert_eq!(order[1], w2.kept(95));
        assert_eq!(w3.slot(3), None);
    }

    #[test]
    fn a_few_scattered_ids_go_aside() {
        let (w, order) = Window::default().relaid(&[3, 4, 90, 91, 95], 100, 10, 12);
        assert_eq!((w.base(), w.side()), (100, &[3, 4, 90, 91, 95][..]));
        assert_eq!(order, [3, 4, 90, 91, 95]);
    }

    #[test]
    fn permute_compacts_in_place_and_keeps_the_buffer() {
        let mut column: Vec<u32> = (0..100).map(|v| v * 10).collect();
        let capacity = column.capacity();
        permute(&mut column, &[3, 4, 90, 99]);
        assert_eq!(column, [30, 40, 900, 990]);
        assert_eq!(column.capacity(), capacity);
    }

    #[test]
    fn nothing_kept_moves_the_base_to_the_end() {
        let (w, order) = Window::default().relaid(&[], 50, 10, 12);
        assert_eq!((w.base(), order.len()), (50, 0));
        assert_eq!(w.slot(50), Some(0));
    }
}
