//! Every instance's random stream, in memory that does not grow with a stream's state.
//!
//! A ChaCha8 generator keeps a 256-byte block buffer; a million clients would hold
//! 300 MB of them, most of it idle. Since a ChaCha stream's output is a pure function of
//! (key, stream number, word position), an instance needs only its stream number and
//! how far it has read. `Streams` keeps those two words per instance and lends a full
//! generator from a direct-mapped set of slots, rebuilding it at the saved position when
//! the slot last served someone else. Draws are bit-identical to one generator per
//! instance read in order (`lending_changes_no_draw` below).
//!
//! The first `pinned` instances (the architecture's own: stores, balancers, servers,
//! which handle most events) have a slot each and never lose it; the rest share
//! `WAYS` slots by id. With fewer instances than slots, no slot is ever rebuilt.

use super::rng::{Stream, stable_hash};

/// Slots the unpinned instances share. 4 096 full generators take 1.2 MB.
const WAYS: usize = 4096;

/// No instance: a slot not yet lent.
const NOBODY: u32 = u32::MAX;

/// Where an instance's stream stands while its generator is not lent out.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// The ChaCha stream number (the stable hash of the instance's name).
    number: u64,
    /// Words read so far. A u64 of words outlasts any run (2^66 bytes of draws).
    word: u64,
}

/// One generator, and the instance it currently serves.
#[derive(Debug, Clone)]
struct Slot {
    owner: u32,
    stream: Stream,
}

/// The random streams of every instance of a world.
#[derive(Debug, Clone)]
pub struct Streams {
    places: Vec<Place>,
    slots: Vec<Slot>,
    pinned: usize,
    /// The count of shared slots (a power of two) less one: an unpinned instance's
    /// slot is its offset past the pinned ones, masked by it.
    mask: usize,
}

impl Streams {
    /// The streams of instances `names` under `seed`; the first `pinned` keep their
    /// generator for the whole run.
    pub fn new<'a>(seed: u64, names: impl Iterator<Item = &'a str>, pinned: usize) -> Streams {
        let places: Vec<Place> = names.map(|n| Place { number: stable_hash(n), word: 0 }).collect();
        let pinned = pinned.min(places.len());
        let shared = (places.len() - pinned).min(WAYS).next_power_of_two();
        let blank = Stream::new(seed, "");
        let slots = (0..pinned + shared).map(|_| Slot { owner: NOBODY, stream: blank.clone() });
        Streams { places, slots: slots.collect(), pinned, mask: shared - 1 }
    }

    /// The stream of instance `id`, positioned where its last draw left it.
    #[inline]
    pub fn of(&mut self, id: usize) -> &mut Stream {
        let slot =
            if id < self.pinned { id } else { self.pinned + ((id - self.pinned) & self.mask) };
        if self.slots[slot].owner != id as u32 {
            self.lend(slot, id);
        }
        &mut self.slots[slot].stream
    }

    /// Saves where the slot's current owner stands and sets the slot at `id`'s place.
    #[cold]
    fn lend(&mut self, slot: usize, id: usize) {
        let Slot { owner, stream } = &mut self.slots[slot];
        if *owner != NOBODY {
            self.places[*owner as usize].word = stream.word_pos();
        }
        let place = self.places[id];
        stream.seek(place.number, place.word);
        *owner = id as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Stream;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("client/{i}")).collect()
    }

    /// Draws `script` (instance, how many draws) from lent and from dedicated streams;
    /// every third draw is a u32, so u64 reads start at odd words and straddle blocks.
    fn compare(n: usize, pinned: usize, script: &[(usize, usize)]) {
        let names = names(n);
        let mut lent = Streams::new(9, names.iter().map(String::as_str), pinned);
        let mut own: Vec<Stream> = names.iter().map(|n| Stream::new(9, n)).collect();
        for &(id, draws) in script {
            for d in 0..draws {
                let (a, b) = if d % 3 == 2 {
                    (lent.of(id).next_u32(), own[id].next_u32())
                } else {
                    (lent.of(id).next_u64() as u32, own[id].next_u64() as u32)
                };
                assert_eq!(a, b, "instance {id}, draw {d}");
            }
        }
    }

    #[test]
    fn lending_changes_no_draw() {
        // More instances than slots, so slots are rebuilt at every word offset.
        let n = WAYS * 2 + 37;
        let mut script = Vec::new();
        let mut x: u64 = 1;
        for _ in 0..60_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let id = (x >> 33) as usize % n;
            let id = if x & 7 == 0 { id % 4 } else { id };
            script.push((id, 1 + (x >> 20) as usize % 40));
        }
        compare(n, 4, &script);
    }

    #[test]
    fn few_instances_keep_their_slots() {
        let names = names(10);
        let mut s = Streams::new(1, names.iter().map(String::as_str), 3);
        for id in 0..10 {
            s.of(id).next_u64();
        }
        for id in 0..10 {
            let slot = if id < 3 { id } else { 3 + ((id - 3) & s.mask) };
            assert_eq!(s.slots[slot].owner, id as u32, "instance {id} lost its slot");
        }
        assert_eq!(s.slots.len(), 3 + 8);
    }

    #[test]
    fn a_world_of_pinned_instances_only_has_no_shared_slots() {
        let mut s = Streams::new(1, ["client/0", "client/1"].into_iter(), 5);
        assert_eq!(s.of(1).next_u64(), Stream::new(1, "client/1").next_u64());
    }
}
