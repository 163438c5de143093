//! A replicated log (Kafka, Redpanda, Kinesis): partitions, each on `replication_factor`
//! of the `brokers`, led by one of them. Followers copy the leader's log after a fetch
//! lag and stay in the in-sync replica set (ISR) while they keep up within
//! `replica_lag_max`. Producers choose what a write waits for (`acks`); with acks=all
//! the leader answers once every in-sync replica holds it, and refuses it while fewer
//! than `min_insync_replicas` are in sync. A broker's crash is noticed after `election`;
//! each partition it led elects the first live in-sync replica (or, with
//! `unclean_election`, any live replica, losing what it lacks), and every replica is cut
//! back to what it shares with the new leader. Consumer groups read below the high
//! watermark. A `lag_spike` multiplies every follower's fetch lag for a while (a slow
//! disk, a long pause), so followers may drop out of the ISR. What happens goes to the history's log book.
//!
//! `partition.rs` is one partition's state; `message.rs` the protocol.

pub mod connection;
pub mod message;
pub mod partition;
pub mod sender;

use serde::Deserialize;

pub use message::{Acks, LogMsg, Produced, Sequence};
use partition::{Ack, Append, Entry, Partition};

use super::Component;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::message::{Fault, Msg};
use crate::check::MessageRecord;
use crate::engine::{ComponentId, Dist, LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, FaultKind, KindSpec, Serves};
use crate::model::shape::{Dur, Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// Most partitions, brokers or replicas a log may have.
pub const LOG_MAX: u32 = 10_000;
/// Most messages one fetch returns.
const FETCH_MAX: u32 = 500;

/// `Log(partitions: 3, replication_factor: 3, min_insync_replicas: 2)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Log")]
pub struct RawLog {
    /// Partitions; a message's key picks its partition (key mod partitions).
    #[serde(default = "crate::model::shape::one")]
    pub partitions: u32,
    /// Replicas of each partition, on as many brokers (3 when absent).
    #[serde(default)]
    pub replication_factor: Option<u32>,
    /// Brokers (the replication factor when absent); partition `p`'s replicas are on
    /// brokers `p`, `p+1`, ... (mod brokers), and `p` is its first leader.
    #[serde(default)]
    pub brokers: Option<u32>,
    /// In-sync replicas an acks=all write needs (1 when absent).
    #[serde(default = "crate::model::shape::one")]
    pub min_insync_replicas: u32,
    /// A follower's delay to copy what the leader appended (5 ms when absent).
    #[serde(default)]
    pub fetch_lag: Option<RawDist>,
    /// How long a follower may stay behind before it leaves the ISR (10 s when absent).
    #[serde(default)]
    pub replica_lag_max: Option<Dur>,
    /// Time from a broker's crash to the new leaders of its partitions (1 s when absent).
    #[serde(default)]
    pub election: Option<Dur>,
    /// Let an out-of-sync replica lead when no in-sync one is alive (losing what it
    /// lacks) rather than wait for one.
    #[serde(default)]
    pub unclean_election: bool,
}

/// Log parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSpec {
    /// Partitions.
    pub partitions: u16,
    /// Replicas per partition.
    pub replication_factor: u16,
    /// Brokers.
    pub brokers: u16,
    /// In-sync replicas an acks=all write needs.
    pub min_insync_replicas: u16,
    /// A follower's copy delay.
    pub fetch_lag: Dist,
    /// How long a follower may lag and stay in sync.
    pub replica_lag_max: SimDuration,
    /// Crash to new leader.
    pub election: SimDuration,
    /// Whether out-of-sync replicas may lead.
    pub unclean_election: bool,
}

impl KindFile for RawLog {
    type Spec = LogSpec;
    type Actor = Box<Log>;

    fn validate(&self, problems: &mut Problems) -> LogSpec {
        problems.count(&["partitions"], self.partitions, LOG_MAX);
        let factor = self.replication_factor.unwrap_or(3);
        problems.count(&["replication_factor"], factor, LOG_MAX);
        let brokers = self.brokers.unwrap_or(factor);
        problems.count(&["brokers"], brokers, LOG_MAX);
        if factor > brokers {
            let hint = Some(format!("at most `brokers` ({brokers}), or brokers: {factor}"));
            let text = format!(
                "`replication_factor` {factor} needs as many brokers, and there are {brokers}"
            );
            problems.error(&["replication_factor"], text, hint);
        }
        let min_isr = self.min_insync_replicas;
        problems.count(&["min_insync_replicas"], min_isr, LOG_MAX);
        if min_isr > factor {
            let text = format!(
                "`min_insync_replicas` {min_isr} is above the replication factor {factor}: \
                 no acks=all write could ever be acknowledged"
            );
            let hint =
                Some(format!("at most {factor}, e.g. min_insync_replicas: {}", factor.min(2)));
            problems.error(&["min_insync_replicas"], text, hint);
        }
        let ms = |n: u64| SimDuration::from_millis(n);
        let fetch_lag = self
            .fetch_lag
            .as_ref()
            .map_or(Dist::constant(ms(5).0), |d| problems.dist(&["fetch_lag"], d));
        let replica_lag_max = self.replica_lag_max.as_ref().map_or(ms(10_000), |d| d.0);
        if replica_lag_max == SimDuration::ZERO {
            let hint = Some(r#"e.g. replica_lag_max: "10s""#.into());
            problems.error(&["replica_lag_max"], "`replica_lag_max` must be above 0".into(), hint);
        }
        if factor == 1 {
            refuse_follower_settings(self, problems);
        }
        let small = |n: u32| n.clamp(1, LOG_MAX) as u16;
        LogSpec {
            partitions: small(self.partitions),
            replication_factor: small(factor),
            brokers: small(brokers.max(factor)),
            min_insync_replicas: small(min_isr).min(small(factor)),
            fetch_lag,
            replica_lag_max: replica_lag_max.max(SimDuration(1)),
            election: self.election.as_ref().map_or(ms(1_000), |d| d.0),
            unclean_election: self.unclean_election,
        }
    }

    fn build(spec: &LogSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        Ok(Box::new(Log::new(spec, ctx.incoming.iter().map(|&(link, _)| link).collect())))
    }
}

/// Settings about followers, which a log of one replica per partition does not have:
/// they would do nothing, so they are refused.
fn refuse_follower_settings(raw: &RawLog, problems: &mut Problems) {
    let given = [
        ("fetch_lag", raw.fetch_lag.is_some()),
        ("replica_lag_max", raw.replica_lag_max.is_some()),
        ("unclean_election", raw.unclean_election),
    ];
    for (field, _) in given.iter().filter(|(_, set)| *set) {
        let text = format!(
            "`{field}` is about followers, and with `replication_factor: 1` there are none: it would do nothing"
        );
        problems.error(&[field], text, Some("remove it, or replication_factor: 3".into()));
    }
}

impl KindSpec for LogSpec {
    /// A log answers producers and consumer groups; a crash names a broker.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("log", Serves::Log);
        c.alone = "answers producers and consumer groups itself";
        c.faults.push(FaultKind::Crash);
        if self.replication_factor > 1 {
            c.faults.push(FaultKind::LagSpike);
        } else {
            c.refusals.push((FaultKind::LagSpike, "its partitions have no followers".into()));
        }
        c.replicas = u32::from(self.brokers);
        c.callers = Some(("a producer or a consumer group", "orders"));
        c
    }
}

// The component.

/// What a log counted of its own work.
#[derive(Debug, Default, Clone, Copy)]
struct LogCounts {
    written: u64,
    duplicates_refused: u64,
    out_of_order: u64,
    not_enough_replicas: u64,
    no_leader: u64,
    dropped_while_down: u64,
    elections: u64,
    unclean_elections: u64,
    truncated: u64,
    fetches: u64,
}

/// A replicated log.
#[derive(Debug)]
pub struct Log {
    spec: LogSpec,
    partitions: Vec<Partition>,
    up: Vec<bool>,
    /// Each broker's crash count: a restart voids the detection of the crash before.
    crashes: Vec<u32>,
    /// The broker a plain `crash` took down, for its restart.
    plain_crash: Option<u16>,
    /// Fetch lag multiplier in thousandths (a `lag_spike`).
    lag_milli: u32,
    callers: Vec<LinkId>,
    counts: LogCounts,
    /// Each partition's high watermark as last written to the log book.
    announced: Vec<u32>,
}

impl Log {
    /// A log whose callers reach it over `callers`.
    pub fn new(spec: &LogSpec, callers: Vec<LinkId>) -> Log {
        let (b, f) = (spec.brokers, spec.replication_factor);
        let on = |p: u16| {
            (0..f)
                .map(|i| ((u32::from(p) + u32::from(i)) % u32::from(b)) as u16)
                .collect::<Vec<_>>()
        };
        Log {
            spec: spec.clone(),
            partitions: (0..spec.partitions).map(|p| Partition::new(&on(p))).collect(),
            up: vec![true; usize::from(b)],
            crashes: vec![0; usize::from(b)],
            plain_crash: None,
            lag_milli: 1000,
            callers,
            counts: LogCounts::default(),
            announced: vec![0; usize::from(spec.partitions)],
        }
    }

    fn answer(&self, to: ComponentId, msg: LogMsg, env: &mut Env<'_>) {
        if let Some(link) = self.callers.iter().copied().find(|&l| env.peer(l) == to) {
            env.answer_over(link, to, Msg::Log(msg));
        }
    }

    fn leader_up(&self, p: usize) -> Option<u16> {
        self.partitions[p].leader_broker().filter(|&b| self.up[usize::from(b)])
    }

    #[allow(clippy::too_many_arguments)]
    fn produce(
        &mut self,
        origin: ComponentId,
        entry: Entry,
        partition: u16,
        attempt: u16,
        acks: Acks,
        sequence: Sequence,
        env: &mut Env<'_>,
    ) {
        let p = usize::from(partition);
        let answer = |outcome| LogMsg::ProduceAnswer { message: entry.message, attempt, outcome };
        let Some(broker) = self.partitions[p].leader_broker() else {
            self.counts.no_leader += 1;
            return self.answer(origin, answer(Produced::NoLeader), env);
        };
        if !self.up[usize::from(broker)] {
            self.counts.dropped_while_down += 1;
            return; // A crashed leader answers nothing: the producer times out.
        }
        let min_isr = (acks == Acks::All).then_some(self.spec.min_insync_replicas);
        let ack = Ack { origin, message: entry.message, attempt };
        let offset = match self.partitions[p].append(entry, sequence, min_isr, env.now()) {
            Append::Written(offset) => {
                self.counts.written += 1;
                let (log, stamp) = (env.id.0, env.stamp());
                env.log_book().appended(log, partition, entry.message, broker, stamp);
                self.replicate(p, env);
                offset
            }
            Append::Duplicate(offset) => {
                self.counts.duplicates_refused += 1;
                offset
            }
            Append::OutOfOrder => {
                self.counts.out_of_order += 1;
                return self.answer(origin, answer(Produced::OutOfOrder), env);
            }
            Append::NotEnoughReplicas => {
                self.counts.not_enough_replicas += 1;
                return self.answer(origin, answer(Produced::NotEnoughReplicas), env);
            }
        };
        match acks {
            Acks::None => {}
            Acks::Leader => self.answer(origin, answer(Produced::Ok), env),
            Acks::All => {
                self.partitions[p].wait(offset, ack);
                self.settle(p, env);
            }
        }
    }

    /// Every live follower fetches what the leader now holds, after its fetch lag.
    fn replicate(&mut self, p: usize, env: &mut Env<'_>) {
        let now = env.now();
        let part = &mut self.partitions[p];
        let (upto, epoch, leader) = (part.end(), part.epoch, part.leader);
        for (i, r) in part.replicas.iter_mut().enumerate() {
            if Some(i) == leader || !self.up[usize::from(r.broker)] {
                continue;
            }
            let lag =
                self.spec.fetch_lag.sample(env.rng()).saturating_mul(u64::from(self.lag_milli))
                    / 1000;
            let drawn = now.after(SimDuration(lag));
            r.next_arrival = r.next_arrival.max(drawn);
            let msg = LogMsg::Replicated { partition: p as u16, replica: i as u16, upto, epoch };
            env.timer(r.next_arrival.since(now), Msg::Log(msg));
        }
    }

    /// Answers the acks=all writes the high watermark has passed.
    fn settle(&mut self, p: usize, env: &mut Env<'_>) {
        if self.leader_up(p).is_none() {
            return;
        }
        for (_, ack) in self.partitions[p].acked() {
            let msg = LogMsg::ProduceAnswer {
                message: ack.message,
                attempt: ack.attempt,
                outcome: Produced::Ok,
            };
            self.answer(ack.origin, msg, env);
        }
    }

    fn replicated(&mut self, p: usize, replica: usize, upto: u32, epoch: u32, env: &mut Env<'_>) {
        let part = &self.partitions[p];
        let broker = part.replicas[replica].broker;
        if part.epoch != epoch || !self.up[usize::from(broker)] || self.leader_up(p).is_none() {
            return;
        }
        self.partitions[p].fetched(replica, upto, env.now());
        self.settle(p, env);
    }

    fn fetch(
        &mut self,
        origin: ComponentId,
        member: u16,
        partition: u16,
        offset: u32,
        generation: u32,
        env: &mut Env<'_>,
    ) {
        self.counts.fetches += 1;
        let p = usize::from(partition);
        let (count, hw) = match self.leader_up(p) {
            Some(_) => {
                let hw = self.partitions[p].high_watermark();
                (hw.saturating_sub(offset).min(FETCH_MAX), hw)
            }
            None => (0, offset),
        };
        let msg =
            LogMsg::Fetched { member, partition, offset, count, high_watermark: hw, generation };
        self.answer(origin, msg, env);
    }

    fn tick(&mut self, env: &mut Env<'_>) {
        let mut waiting = false;
        for p in 0..self.partitions.len() {
            if self.leader_up(p).is_some() {
                self.partitions[p].shrink(env.now(), self.spec.replica_lag_max);
                self.settle(p, env);
            }
            waiting |= self.partitions[p].waiting() > 0;
        }
        if !env.stopping() || waiting {
            env.timer(self.tick_every(), Msg::Log(LogMsg::Tick));
        }
    }

    /// Writes every partition's high watermark that moved to the log book, where
    /// consumer groups measure their lag against it.
    fn announce(&mut self, env: &mut Env<'_>) {
        let log = env.id.0;
        for (p, part) in self.partitions.iter().enumerate() {
            let hw = part.high_watermark();
            if hw != self.announced[p] {
                self.announced[p] = hw;
                env.log_book().set_high_watermark(log, p as u16, hw);
            }
        }
    }

    fn tick_every(&self) -> SimDuration {
        SimDuration((self.spec.replica_lag_max.0 / 4).max(1_000_000))
    }

    fn crash(&mut self, broker: u16, env: &mut Env<'_>) {
        let b = usize::from(broker);
        if !self.up[b] {
            return;
        }
        self.up[b] = false;
        self.crashes[b] += 1;
        let msg = LogMsg::Detect { broker, crash: self.crashes[b] };
        env.timer(self.spec.election, Msg::Log(msg));
    }

    /// The controller noticed `broker` is down: its partitions elect new leaders.
    fn detect(&mut self, broker: u16, crash: u32, env: &mut Env<'_>) {
        let b = usize::from(broker);
        if self.up[b] || self.crashes[b] != crash {
            return;
        }
        for p in 0..self.partitions.len() {
            let part = &mut self.partitions[p];
            if !part.replicas.iter().any(|r| r.broker == broker) {
                continue;
            }
            part.broker_down(broker);
            if part.leader_broker() == Some(broker) {
                self.elect(p, env);
            }
        }
    }

    fn elect(&mut self, p: usize, env: &mut Env<'_>) {
        let up = self.up.clone();
        let live = move |b: u16| up[usize::from(b)];
        let Some(e) = self.partitions[p].elect(&live, self.spec.unclean_election) else {
            return; // Offline until an in-sync replica comes back.
        };
        self.counts.elections += 1;
        self.counts.unclean_elections += u64::from(e.unclean);
        let part = &self.partitions[p];
        let broker = part.replicas[e.replica].broker;
        let (log, stamp) = (env.id.0, env.stamp());
        let book = env.log_book();
        let before = book.log(log, p as u16).len() as u64;
        book.truncated(log, p as u16, e.common, broker, e.unclean, stamp);
        self.counts.truncated += before.saturating_sub(u64::from(e.common));
        for entry in &part.leader_log()[e.common as usize..] {
            book.appended(log, p as u16, entry.message, broker, stamp);
        }
        self.catch_up(p, env);
    }

    /// Every live follower of partition `p` fetches all the leader holds.
    fn catch_up(&mut self, p: usize, env: &mut Env<'_>) {
        if self.leader_up(p).is_some() {
            self.replicate(p, env);
        }
    }

    fn restart(&mut self, broker: u16, env: &mut Env<'_>) {
        let b = usize::from(broker);
        if self.up[b] {
            return;
        }
        self.up[b] = true;
        self.crashes[b] += 1;
        for p in 0..self.partitions.len() {
            let part = &mut self.partitions[p];
            let Some(i) = part.replicas.iter().position(|r| r.broker == broker) else { continue };
            match part.leader {
                None => self.elect(p, env),
                Some(l) if l != i => {
                    part.cut_back(i);
                    part.replicas[i].next_arrival = SimTime::ZERO;
                    self.catch_up(p, env);
                }
                Some(_) => {}
            }
        }
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        match fault {
            Fault::Crash => {
                // A plain crash takes down partition 0's leader: "crash the leader".
                if let Some(b) = self.leader_up(0) {
                    self.plain_crash = Some(b);
                    self.crash(b, env);
                }
            }
            Fault::Restart => {
                if let Some(b) = self.plain_crash.take() {
                    self.restart(b, env);
                }
            }
            Fault::CrashReplica(b) => self.crash(b as u16, env),
            Fault::RestartReplica(b) => self.restart(b as u16, env),
            Fault::LagFactor(milli) => self.lag_milli = milli,
            _ => {}
        }
    }

    fn on_log(&mut self, msg: LogMsg, env: &mut Env<'_>) {
        match msg {
            LogMsg::Produce { origin, message, seq, partition, attempt, acks, sequence } => {
                let producer = env.log_book().message(message).producer;
                let entry = Entry { message, producer, seq };
                self.produce(origin, entry, partition, attempt, acks, sequence, env);
            }
            LogMsg::Fetch { origin, member, partition, offset, generation } => {
                self.fetch(origin, member, partition, offset, generation, env);
            }
            LogMsg::Replicated { partition, replica, upto, epoch } => {
                self.replicated(usize::from(partition), usize::from(replica), upto, epoch, env);
            }
            LogMsg::Detect { broker, crash } => self.detect(broker, crash, env),
            LogMsg::Tick => self.tick(env),
            other => panic!("log got unexpected {}", other.kind_name()),
        }
    }
}

impl Component for Log {
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        true // Its entries are log-book message ids; a relayed one's version is in the outbox.
    }

    fn start(&mut self, env: &mut Env<'_>) {
        env.timer(self.tick_every(), Msg::Log(LogMsg::Tick));
    }

    /// What it wrote and refused, its elections, and what they cut away.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        let offline = self.partitions.iter().filter(|p| p.leader.is_none()).count() as u64;
        vec![
            ("written", c.written),
            ("duplicates_refused", c.duplicates_refused),
            ("out_of_order_refused", c.out_of_order),
            ("not_enough_replicas", c.not_enough_replicas),
            ("no_leader", c.no_leader),
            ("dropped_while_down", c.dropped_while_down),
            ("elections", c.elections),
            ("unclean_elections", c.unclean_elections),
            ("truncated", c.truncated),
            ("offline_partitions_at_end", offline),
            ("fetches", c.fetches),
        ]
    }

    fn is_up(&self) -> bool {
        self.up.iter().any(|&u| u)
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Log(m) => self.on_log(m, env),
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("log got unexpected {}", other.kind_name()),
        }
        self.announce(env);
    }
}

/// A message record for the log book, as a producer fills it in.
pub fn record(
    producer: u32,
    log: u32,
    key: u32,
    partition: u16,
    seq: u32,
    env: &Env<'_>,
) -> MessageRecord {
    MessageRecord {
        producer,
        log,
        key,
        partition,
        seq,
        sent: env.stamp(),
        acked: None,
        appended: None,
        version: crate::check::VersionId::ROOT,
    }
}
