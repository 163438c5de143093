//! A store: one primary and `replicas` asynchronous replicas of a key-value table.
//!
//! Every write goes to the primary, which gives the key its next version (a counter per
//! key), acknowledges at once and ships the version to each replica after a lag drawn
//! from that replica's own stream. A replica applies a version only if it is newer than
//! what it holds, so reordered replication never moves it backwards. Reads are served by
//! the primary or by a replica chosen at random, as the read consistency says.
//! Service time, capacity, crashes and conflict policies are left to later issues.

use super::Component;
use super::env::Env;
use super::message::{Msg, RETURN_LOST, Reply, Request};
use crate::check::OpKind;
use crate::engine::{Dist, SimDuration, Stream};
use crate::model::{ReadConsistency, StoreSpec};

/// One replica's copy of the table and its replication stream.
#[derive(Debug)]
struct Replica {
    versions: Vec<u64>,
    /// Draws this replica's lag; named after the replica so other components never shift it.
    rng: Stream,
}

/// A primary/replica key-value store.
#[derive(Debug)]
pub struct Store {
    primary: Vec<u64>,
    replicas: Vec<Replica>,
    lag: Dist,
    reads: ReadConsistency,
}

impl Store {
    /// A store named `name` holding `key_count` keys, all at version 0.
    pub fn new(name: &str, spec: &StoreSpec, key_count: u32, seed: u64) -> Store {
        let replicas = (0..spec.replicas)
            .map(|i| Replica {
                versions: vec![0; key_count as usize],
                rng: Stream::new(seed, &format!("{name}/replica/{i}")),
            })
            .collect();
        if spec.reads == ReadConsistency::AnyReplica {
            assert!(spec.replicas > 0, "replica reads need a replica");
        }
        Store {
            primary: vec![0; key_count as usize],
            replicas,
            lag: spec.replication_lag.clone(),
            reads: spec.reads,
        }
    }

    /// The version of `key` held by replica `replica` (for tests and reports).
    pub fn replica_version(&self, replica: usize, key: u32) -> u64 {
        self.replicas[replica].versions[key as usize]
    }

    /// The version of `key` on the primary.
    pub fn primary_version(&self, key: u32) -> u64 {
        self.primary[key as usize]
    }

    /// Draws the next lag of replica `replica` (exposed so tests can pin its stream).
    pub fn draw_lag(&mut self, replica: usize) -> u64 {
        self.lag.sample(&mut self.replicas[replica].rng)
    }

    fn write(&mut self, key: u32, env: &mut Env<'_>) -> u64 {
        let version = self.primary[key as usize] + 1;
        self.primary[key as usize] = version;
        for i in 0..self.replicas.len() {
            let lag = self.draw_lag(i);
            let msg = Msg::Replicate { replica: i as u32, key, version };
            env.timer(SimDuration(lag), msg);
        }
        version
    }

    fn read(&mut self, key: u32, env: &mut Env<'_>) -> u64 {
        match self.reads {
            ReadConsistency::Primary => self.primary[key as usize],
            ReadConsistency::AnyReplica => {
                let i = env.rng.below(self.replicas.len() as u64) as usize;
                self.replicas[i].versions[key as usize]
            }
        }
    }

    fn on_request(&mut self, request: Request, env: &mut Env<'_>) {
        let version = match request.kind {
            OpKind::Write => self.write(request.key, env),
            OpKind::Read => self.read(request.key, env),
        };
        let return_ns = env.add_return_hop(request.return_ns, request.via);
        if return_ns == RETURN_LOST {
            return; // Served, but the client never hears of it.
        }
        let reply = Reply { op_seq: request.op_seq, kind: request.kind, key: request.key, version };
        env.deliver(SimDuration(return_ns), request.origin, Msg::Reply(reply));
    }

    fn on_replicate(&mut self, replica: u32, key: u32, version: u64) {
        assert!(version <= self.primary[key as usize], "replica ahead of primary");
        let held = &mut self.replicas[replica as usize].versions[key as usize];
        *held = (*held).max(version);
    }
}

impl Component for Store {
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Request(request) => self.on_request(request, env),
            Msg::Replicate { replica, key, version } => self.on_replicate(replica, key, version),
            other => panic!("store got unexpected {}", other.kind_name()),
        }
    }
}
