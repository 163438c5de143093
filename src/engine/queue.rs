//! The event queue: pending events ordered by `(time, sequence)`.
//!
//! `RadixQueue` is a radix heap keyed on the integer time. It relies on simulated time
//! being monotone (nothing is scheduled before the last popped instant), which the engine
//! asserts. Each bucket holds events in insertion order and a bucket is only refilled
//! from a higher one while it is empty, so events with equal time leave in insertion
//! (sequence) order: ties never depend on heap internals. Push is O(1) and an event is
//! moved at most 64 times over its life, so the cost does not grow with queue depth the
//! way a binary heap's `log n` sift does (measured in `benches/engine.rs`).
//!
//! `HeapQueue` is the textbook binary heap on `(time, seq)`; it is the reference the
//! radix heap is tested against and the baseline in the benchmark.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One pending event: when it fires, its insertion number, and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<T> {
    /// Firing time in nanoseconds.
    pub at: u64,
    /// Insertion counter; breaks ties between equal times in FIFO order.
    pub seq: u64,
    /// The payload (the engine stores target and message here).
    pub item: T,
}

/// A priority queue of events ordered by `(at, seq)`.
pub trait EventQueue<T: Copy> {
    /// Adds an event at time `at`; returns its sequence number.
    fn push(&mut self, at: u64, item: T) -> u64;
    /// Removes and returns the earliest event, or `None` when empty.
    fn pop(&mut self) -> Option<Entry<T>>;
    /// Removes the earliest event if it fires at or before `deadline`.
    fn pop_until(&mut self, deadline: u64) -> Option<Entry<T>>;
    /// Number of pending events.
    fn len(&self) -> usize;
    /// True when nothing is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Bits of the time each level of slots tells apart, and so slots per level.
const DIGIT_BITS: u32 = 8;
const FAN: usize = 1 << DIGIT_BITS;
/// Levels of slots: enough digits for a 64-bit time.
const LEVELS: usize = 64 / DIGIT_BITS as usize;

/// Largest slot buffer (in entries) kept after the slot is emptied.
const RETAINED_CAPACITY_MAX: usize = 1 << 10;

/// Radix heap over monotone `u64` times, 256 ways a digit, with exact FIFO order among
/// equal times.
///
/// An event at time `at` sits in the slot named by the highest byte in which `at`
/// differs from the floor (its level) and by that byte of `at` (its digit); an event
/// at the floor itself sits in `current`. Slots in level then digit order hold ever
/// later times, so the earliest events are in the first occupied slot (two bitmaps'
/// scan away). When that slot is taken, the floor rises to its earliest time and its
/// events spread to lower levels, which are all empty then: so an event moves at most
/// once a level (a one-second delay is three moves), and events of one time always
/// share one slot, in the order they were pushed.
#[derive(Debug)]
pub struct RadixQueue<T> {
    /// The smallest time still allowed in the queue: the last extracted minimum.
    floor: u64,
    len: usize,
    next_seq: u64,
    /// The events at the floor, consumed front to back from `head`.
    current: Vec<Entry<T>>,
    head: usize,
    /// `LEVELS * FAN` slots, level by level.
    slots: Vec<Vec<Entry<T>>>,
    /// Which slots hold events, a bit each.
    occupied: [[u64; FAN / 64]; LEVELS],
}

impl<T: Copy> Default for RadixQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> RadixQueue<T> {
    /// An empty queue whose floor is time zero.
    pub fn new() -> Self {
        RadixQueue {
            floor: 0,
            len: 0,
            next_seq: 0,
            current: Vec::new(),
            head: 0,
            slots: (0..LEVELS * FAN).map(|_| Vec::new()).collect(),
            occupied: [[0; FAN / 64]; LEVELS],
        }
    }

    /// The earliest time that may still be pushed.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// Every pending item, in no particular order (for a census of what the queue
    /// holds, never for dispatch).
    pub fn pending(&self) -> impl Iterator<Item = &T> {
        let due = self.current[self.head..].iter();
        due.chain(self.slots.iter().flatten()).map(|e| &e.item)
    }

    /// Files `entry` (at or after the floor) where it belongs.
    #[inline]
    fn file(&mut self, entry: Entry<T>) {
        let differ = entry.at ^ self.floor;
        if differ == 0 {
            self.current.push(entry);
            return;
        }
        let level = ((63 - differ.leading_zeros()) / DIGIT_BITS) as usize;
        let digit = (entry.at >> (level as u32 * DIGIT_BITS)) as usize & (FAN - 1);
        self.occupied[level][digit / 64] |= 1 << (digit % 64);
        self.slots[level * FAN + digit].push(entry);
    }

    /// The first occupied slot: its level and digit.
    fn first_occupied(&self) -> Option<(usize, usize)> {
        self.occupied.iter().enumerate().find_map(|(level, words)| {
            let (w, word) = words.iter().enumerate().find(|(_, word)| **word != 0)?;
            Some((level, w * 64 + word.trailing_zeros() as usize))
        })
    }

    /// Makes `current` hold the earliest events, if they fire at or before `deadline`,
    /// by raising the floor to the smallest pending time and spreading the first
    /// occupied slot. Returns false (changing nothing) when no event fires by
    /// `deadline`, so events may still be pushed at any time from the current floor on.
    fn refill(&mut self, deadline: u64) -> bool {
        if self.head < self.current.len() {
            return self.floor <= deadline;
        }
        let Some((level, digit)) = self.first_occupied() else {
            return false;
        };
        let index = level * FAN + digit;
        let min = self.slots[index].iter().map(|e| e.at).min().expect("slot is occupied");
        if min > deadline {
            return false;
        }
        assert!(min > self.floor, "radix heap floor must rise");
        self.occupied[level][digit / 64] &= !(1 << (digit % 64));
        self.floor = min;
        self.current.clear();
        self.head = 0;
        if level == 0 {
            // A level-0 slot holds one time: it becomes the current events as it is.
            std::mem::swap(&mut self.current, &mut self.slots[index]);
            return true;
        }
        // Draining in order keeps each slot's events in push order.
        let mut spread = std::mem::take(&mut self.slots[index]);
        for entry in spread.drain(..) {
            self.file(entry);
        }
        // Keep small buffers for reuse; a large one is returned to the allocator, since a
        // high slot refills slowly and its old capacity would sit idle.
        if spread.capacity() <= RETAINED_CAPACITY_MAX {
            self.slots[index] = spread;
        }
        true
    }
}

impl<T: Copy> EventQueue<T> for RadixQueue<T> {
    fn push(&mut self, at: u64, item: T) -> u64 {
        assert!(at >= self.floor, "event at {at} scheduled before queue floor {}", self.floor);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.file(Entry { at, seq, item });
        self.len += 1;
        seq
    }

    fn pop(&mut self) -> Option<Entry<T>> {
        self.pop_until(u64::MAX)
    }

    fn pop_until(&mut self, deadline: u64) -> Option<Entry<T>> {
        if self.len == 0 || !self.refill(deadline) {
            return None;
        }
        let entry = self.current[self.head];
        assert!(entry.at <= deadline, "refill only succeeds for due events");
        assert_eq!(entry.at, self.floor, "current holds only the floor time");
        self.head += 1;
        self.len -= 1;
        Some(entry)
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[derive(Debug, Clone, Copy)]
struct HeapSlot<T>(Entry<T>);

impl<T> PartialEq for HeapSlot<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.0.at, self.0.seq) == (other.0.at, other.0.seq)
    }
}
impl<T> Eq for HeapSlot<T> {}
impl<T> PartialOrd for HeapSlot<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for HeapSlot<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.at, self.0.seq).cmp(&(other.0.at, other.0.seq))
    }
}

/// Binary heap on `(at, seq)`: the reference implementation and benchmark baseline.
#[derive(Debug)]
pub struct HeapQueue<T> {
    heap: BinaryHeap<Reverse<HeapSlot<T>>>,
    next_seq: u64,
}

impl<T: Copy> Default for HeapQueue<T> {
    fn default() -> Self {
        HeapQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }
}

impl<T: Copy> EventQueue<T> for HeapQueue<T> {
    fn push(&mut self, at: u64, item: T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(HeapSlot(Entry { at, seq, item })));
        seq
    }

    fn pop(&mut self) -> Option<Entry<T>> {
        self.heap.pop().map(|Reverse(HeapSlot(e))| e)
    }

    fn pop_until(&mut self, deadline: u64) -> Option<Entry<T>> {
        match self.heap.peek() {
            Some(Reverse(HeapSlot(e))) if e.at <= deadline => self.pop(),
            _ => None,
        }
    }

    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Runs the same random hold-model workload through both queues and compares every pop.
    fn check(seed: u64, pending: usize, spread: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut radix = RadixQueue::<u32>::new();
        let mut heap = HeapQueue::<u32>::default();
        for i in 0..pending as u32 {
            let at = rng.next_u64() % spread;
            assert_eq!(radix.push(at, i), heap.push(at, i));
        }
        for i in 0..20_000u32 {
            let (a, b) = (radix.pop().unwrap(), heap.pop().unwrap());
            assert_eq!(a, b, "pop {i}");
            // Zero delays exercise same-time FIFO order; small spreads make many ties.
            let at = a.at + rng.next_u64() % spread.clamp(1, 4) * (rng.next_u64() % 2);
            assert_eq!(radix.push(at, i), heap.push(at, i));
        }
        while let Some(b) = heap.pop() {
            assert_eq!(radix.pop(), Some(b));
        }
        assert!(radix.is_empty());
    }

    #[test]
    fn radix_matches_binary_heap_order() {
        check(1, 1, 10);
        check(2, 100, 3);
        check(3, 1000, 1_000_000);
        check(4, 5000, u64::MAX / 2);
    }

    #[test]
    fn equal_times_leave_in_insertion_order() {
        let mut q = RadixQueue::new();
        for i in 0..10u32 {
            q.push(5, i);
        }
        q.push(3, 99);
        assert_eq!(q.pop().unwrap().item, 99);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|e| e.item)).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn pop_until_stops_at_the_deadline_without_moving_the_floor() {
        let mut q = RadixQueue::new();
        q.push(10, 1u8);
        q.push(100, 2u8);
        assert_eq!(q.pop_until(50).unwrap().item, 1);
        assert_eq!(q.pop_until(50), None);
        assert_eq!(q.len(), 1);
        // A paused run may still schedule before the next pending event.
        q.push(60, 3u8);
        assert_eq!(q.pop_until(60).unwrap().item, 3);
        assert_eq!(q.pop_until(99), None);
        assert_eq!(q.pop_until(100).unwrap().item, 2);
    }

    #[test]
    fn pending_lists_exactly_what_is_still_queued() {
        let mut q = RadixQueue::new();
        for (at, item) in [(5, 1u8), (5, 2), (9, 3), (300, 4), (70_000, 5)] {
            q.push(at, item);
        }
        assert_eq!(q.pop().unwrap().item, 1);
        let mut left: Vec<u8> = q.pending().copied().collect();
        left.sort_unstable();
        assert_eq!(left, [2, 3, 4, 5]);
        while q.pop().is_some() {}
        assert_eq!(q.pending().count(), 0);
    }
}
