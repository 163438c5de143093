//! A database connection pool: an app server holds at most `size` queries open on the
//! store at once, and a query that finds every connection taken waits for one, in
//! arrival order. A connection is held from the moment the query is sent until its
//! answer arrives (or the server gives the query up), so a slow store or a burst of
//! queries (a polling tick) makes later queries wait at the server, before the store
//! ever sees them.
//!
//! The figures are those of a queue (`Load`): connections in use and queries waiting,
//! integrated over time; each query's wait for a connection; and its time in the pool
//! (waiting plus the round trip to the store).

use std::collections::{BTreeMap, VecDeque};

use super::capacity::{Load, accrue};
use super::message::Request;
use crate::check::OpId;
use crate::engine::SimTime;

/// Connections and the queries waiting for one.
#[derive(Debug)]
pub struct Pool {
    size: u32,
    in_use: u32,
    waiting: VecDeque<(Request, SimTime)>,
    /// Queries holding a connection, by operation slot: when they reached the pool.
    held: BTreeMap<OpId, SimTime>,
    load: Load,
}

impl Pool {
    /// A pool of `size` connections.
    pub fn new(size: u32) -> Pool {
        assert!(size > 0, "a pool needs a connection");
        Pool {
            size,
            in_use: 0,
            waiting: VecDeque::new(),
            held: BTreeMap::new(),
            load: Load { workers: size, ..Load::default() },
        }
    }

    fn advance(&mut self, now: SimTime) {
        accrue(&mut self.load, now, self.in_use as usize, self.waiting.len());
    }

    /// Its per-interval figures use intervals `ns` long (the run's timeline's).
    pub fn set_interval(&mut self, ns: u64) {
        self.load.interval_ns = ns;
    }

    /// A query wants a connection: it gets one now (and is handed back to be sent) or
    /// waits.
    pub fn acquire(&mut self, query: Request, now: SimTime) -> Option<Request> {
        self.advance(now);
        if self.in_use < self.size {
            self.in_use += 1;
            self.held.insert(query.op, now);
            self.load.wait.record(0);
            return Some(query);
        }
        self.waiting.push_back((query, now));
        self.load.max_queue = self.load.max_queue.max(self.waiting.len() as u64);
        None
    }

    /// Query `op` is answered or given up: its connection goes to the next waiting
    /// query, which is handed back to be sent. Nothing happens for a query that holds
    /// no connection (already given up, or not a store query).
    pub fn release(&mut self, op: OpId, now: SimTime) -> Option<Request> {
        let arrived = self.held.remove(&op)?;
        self.advance(now);
        self.load.served += 1;
        self.load.sojourn.record(now.since(arrived).as_nanos());
        let Some((next, arrived)) = self.waiting.pop_front() else {
            self.in_use -= 1;
            return None;
        };
        self.held.insert(next.op, arrived);
        self.load.wait.record(now.since(arrived).as_nanos());
        Some(next)
    }

    /// The server crashed: every connection is closed and every waiting query dropped
    /// (handed back, in arrival order).
    pub fn clear(&mut self, now: SimTime, mut dropped: impl FnMut(Request)) {
        self.advance(now);
        for (query, _) in self.waiting.drain(..) {
            self.load.dropped += 1;
            dropped(query);
        }
        self.held.clear();
        self.in_use = 0;
    }

    /// The queries waiting for a connection (those holding one were sent on).
    pub fn held(&self) -> impl Iterator<Item = &Request> {
        self.waiting.iter().map(|(query, _)| query)
    }

    /// The figures so far, with the integrals run up to `now`.
    pub fn load(&self, now: SimTime) -> Load {
        let mut load = self.load.clone();
        accrue(&mut load, now, self.in_use as usize, self.waiting.len());
        load
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{OpKind, VersionId};
    use crate::engine::{ComponentId, LinkId};

    fn query(op: OpId) -> Request {
        Request {
            origin: ComponentId(0),
            op,
            key: 0,
            via: LinkId(0),
            seen: VersionId::ROOT,
            return_ns: 0,
            kind: OpKind::Read,
            flags: 0,
        }
    }

    #[test]
    fn queries_wait_in_order_for_a_free_connection() {
        let mut pool = Pool::new(2);
        let t = SimTime;
        assert_eq!(pool.acquire(query(1), t(0)).map(|q| q.op), Some(1));
        assert_eq!(pool.acquire(query(2), t(0)).map(|q| q.op), Some(2));
        assert!(pool.acquire(query(3), t(10)).is_none());
        assert!(pool.acquire(query(4), t(20)).is_none());
        // Releasing an unknown query frees nothing.
        assert!(pool.release(99, t(30)).is_none());
        // Query 2's connection goes to query 3, then 1's to 4.
        assert_eq!(pool.release(2, t(40)).map(|q| q.op), Some(3));
        assert_eq!(pool.release(1, t(50)).map(|q| q.op), Some(4));
        assert!(pool.release(3, t(60)).is_none());
        assert!(pool.release(4, t(100)).is_none());
        let load = pool.load(t(100));
        assert_eq!((load.served, load.max_queue), (4, 2));
        // Two connections busy from 0 to 60, one from 60 to 100: 160 of 200.
        assert!((load.utilisation() - 0.8).abs() < 1e-9, "{}", load.utilisation());
        // Waits 0, 0, 30, 30; mean queue (10..40 one, 20..40 two more, 40..50 one)
        // = (30 + 20 + 10) / 100.
        assert_eq!(load.wait.max(), 30);
        assert!((load.mean_queue() - 0.6).abs() < 1e-9, "{}", load.mean_queue());
    }

    #[test]
    fn a_crash_closes_every_connection_and_drops_the_waiting() {
        let mut pool = Pool::new(1);
        pool.acquire(query(1), SimTime(0));
        pool.acquire(query(2), SimTime(0));
        let mut dropped = Vec::new();
        pool.clear(SimTime(5), |q| dropped.push(q.op));
        assert_eq!(dropped, vec![2]);
        assert!(pool.release(1, SimTime(6)).is_none());
        assert_eq!(pool.acquire(query(3), SimTime(7)).map(|q| q.op), Some(3));
    }
}
