//! A consumer group reading a replicated log: `members` share its partitions (each
//! partition read by one member), fetch below the high watermark, and process one
//! message at a time. Where the group resumes after a crash is its committed offset:
//! `commit: before` commits what a fetch returned before processing it (a crash loses
//! what was fetched and not yet processed: at most once), `after` commits what was
//! processed every `commit_every` (a crash processes again what came after the last
//! commit: at least once), and `transactional` commits each message's offset with its
//! output (exactly-once effect). `idempotent: true` remembers the messages processed,
//! in the output's store, and skips them when they come again. A crashed member's
//! partitions move to the others after `session_timeout`; a member that joins or
//! restarts takes its share at once. What the group processes goes to the log book.

use std::collections::{BTreeSet, VecDeque};

use serde::Deserialize;

use super::Component;
use super::change_capture::ChangeCaptureSpec;
use super::env::Env;
use super::kind::{BuildContext, KindFile};
use super::log::{LogMsg, LogSpec};
use super::message::{Fault, Msg};
use super::outbox_relay::OutboxRelaySpec;
use crate::check::{Processed, Processing, VersionId};
use crate::engine::{Dist, LinkId, SimDuration, SimTime};
use crate::model::contract::{Contract, FaultKind, KindSpec, Role, Serves, Target};
use crate::model::shape::{Dur, Problems, RawDist};

// The kind: its file shape, validation, contract and build.

/// Most members a group may have.
pub const MEMBERS_MAX: u32 = 10_000;

/// When a group commits the offsets it has read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Commit {
    /// Before processing: at most once.
    Before,
    /// After processing, every `commit_every`: at least once.
    #[default]
    After,
    /// With the output, in one transaction: exactly-once effect.
    Transactional,
}

/// `ConsumerGroup(members: 2, processing: exp("5ms"), commit: after)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "ConsumerGroup")]
pub struct RawConsumerGroup {
    /// Members sharing the partitions.
    #[serde(default = "crate::model::shape::one")]
    pub members: u32,
    /// Time to process one message (1 ms when absent).
    #[serde(default)]
    pub processing: Option<RawDist>,
    /// `before`, `after` (when absent) or `transactional`.
    #[serde(default)]
    pub commit: Commit,
    /// How often `commit: after` commits (5 s when absent, as Kafka's auto-commit).
    #[serde(default)]
    pub commit_every: Option<Dur>,
    /// Remember what was processed and skip it when it comes again.
    #[serde(default)]
    pub idempotent: bool,
    /// How long a crashed member keeps its partitions (10 s when absent).
    #[serde(default)]
    pub session_timeout: Option<Dur>,
    /// Wait after a fetch that found nothing new (100 ms when absent).
    #[serde(default)]
    pub poll: Option<Dur>,
}

/// Consumer group parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerGroupSpec {
    /// Members.
    pub members: u16,
    /// Processing time.
    pub processing: Dist,
    /// When offsets are committed.
    pub commit: Commit,
    /// How often `after` commits.
    pub commit_every: SimDuration,
    /// Whether processing skips what was processed before.
    pub idempotent: bool,
    /// Crash to rebalance.
    pub session_timeout: SimDuration,
    /// Wait after an empty fetch.
    pub poll: SimDuration,
}

impl KindFile for RawConsumerGroup {
    type Spec = ConsumerGroupSpec;
    type Actor = Box<ConsumerGroup>;

    fn validate(&self, problems: &mut Problems) -> ConsumerGroupSpec {
        problems.count(&["members"], self.members, MEMBERS_MAX);
        if self.commit_every.is_some() && self.commit != Commit::After {
            let text = "`commit_every` is how often `commit: after` commits; with \
                        `before` or `transactional` it would do nothing"
                .to_string();
            let commit = ("commit", "the group commits this way");
            problems.conflict(&["commit_every"], text, "remove it, or commit: after", commit);
        }
        if self.idempotent && self.commit == Commit::Transactional {
            let text = "a transactional group processes each message once already; \
                        `idempotent` would do nothing"
                .to_string();
            let commit = ("commit", "the group commits this way");
            problems.conflict(&["idempotent"], text, "remove it, or commit: after", commit);
        }
        let ms = SimDuration::from_millis;
        let positive = |problems: &mut Problems, field: &str, d: Option<&Dur>, default: u64| {
            let d = d.map_or(ms(default), |d| d.0);
            if d == SimDuration::ZERO {
                problems.error(&[field], format!("`{field}` must be above 0"), None);
            }
            d.max(SimDuration(1))
        };
        let processing = self.processing.as_ref();
        ConsumerGroupSpec {
            members: self.members.clamp(1, MEMBERS_MAX) as u16,
            processing: processing
                .map_or(Dist::constant(ms(1).0), |d| problems.dist(&["processing"], d)),
            commit: self.commit,
            commit_every: positive(problems, "commit_every", self.commit_every.as_ref(), 5_000),
            idempotent: self.idempotent,
            session_timeout: positive(
                problems,
                "session_timeout",
                self.session_timeout.as_ref(),
                10_000,
            ),
            poll: positive(problems, "poll", self.poll.as_ref(), 100),
        }
    }

    fn build(spec: &ConsumerGroupSpec, ctx: &BuildContext<'_>) -> Result<Self::Actor, String> {
        let link = ctx.link("log").ok_or("a consumer group needs a link to its log")?;
        let (name, log) = ctx.linked::<LogSpec>().ok_or("a consumer group's link goes to a log")?;
        let mut group = ConsumerGroup::new(spec, link, log.partitions);
        group.relayed =
            ctx.linked_from::<OutboxRelaySpec>(name) || ctx.linked_from::<ChangeCaptureSpec>(name);
        Ok(Box::new(group))
    }
}

impl KindSpec for ConsumerGroupSpec {
    /// A group reads exactly one log; a crash names a member.
    fn contract(&self) -> Contract {
        let mut c = Contract::new("consumer group", Serves::Worker);
        let log = Role::new("log", Target::Only(Serves::Log), 1, 1);
        c.roles.push(log.wanting("exactly one link to the log it reads", "events"));
        c.faults.push(FaultKind::Crash);
        c.replicas = u32::from(self.members);
        c
    }
}

// The component.

/// One member of the group.
#[derive(Debug, Clone, Default)]
struct Member {
    up: bool,
    /// Bumped by every rebalance and crash: answers and timers of an earlier one are void.
    generation: u32,
    /// Fetched messages waiting: (partition, offset, message).
    queue: VecDeque<(u16, u32, u32)>,
    busy: bool,
}

/// One partition as the group sees it.
#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    owner: Option<u16>,
    /// The next offset to fetch.
    position: u32,
    /// The offset after the last one processed.
    processed: u32,
    /// Where the group resumes after a crash or rebalance.
    committed: u32,
    /// The high watermark its latest fetch answer gave.
    high_watermark: u32,
    fetching: bool,
}

/// What a group counted.
#[derive(Debug, Default, Clone, Copy)]
struct GroupCounts {
    processed: u64,
    skipped: u64,
    rebalances: u64,
    max_lag: u64,
    offset_resets: u64,
}

/// A consumer group.
#[derive(Debug)]
pub struct ConsumerGroup {
    spec: ConsumerGroupSpec,
    log: LinkId,
    members: Vec<Member>,
    partitions: Vec<Reading>,
    /// What was processed, kept with the output (idempotent groups): a relayed change
    /// by its version, any other message by its id.
    seen: BTreeSet<u64>,
    /// When a fetch last returned messages.
    last_data: SimTime,
    /// Whether an outbox relay publishes to its log: then it reports each change it
    /// processes, for `delivery`, and deduplicates by the change.
    relayed: bool,
    crashes: u32,
    counts: GroupCounts,
}

impl ConsumerGroup {
    /// A group reading a log of `partitions` over `log`.
    pub fn new(spec: &ConsumerGroupSpec, log: LinkId, partitions: u16) -> ConsumerGroup {
        let member = Member { up: true, ..Member::default() };
        ConsumerGroup {
            spec: spec.clone(),
            log,
            members: vec![member; usize::from(spec.members)],
            partitions: vec![Reading::default(); usize::from(partitions.max(1))],
            seen: BTreeSet::new(),
            relayed: false,
            last_data: SimTime::ZERO,
            crashes: 0,
            counts: GroupCounts::default(),
        }
    }

    /// Hands the partitions out again among live members, each resuming where the
    /// group committed. A live member commits what it processed first.
    fn rebalance(&mut self, env: &mut Env<'_>) {
        self.counts.rebalances += 1;
        let live: Vec<u16> =
            (0..self.members.len() as u16).filter(|&m| self.members[usize::from(m)].up).collect();
        for (i, r) in self.partitions.iter_mut().enumerate() {
            if r.owner.is_some_and(|m| self.members[usize::from(m)].up) {
                r.committed = r.processed;
            }
            r.owner = (!live.is_empty()).then(|| live[i % live.len()]);
            r.position = r.committed;
            r.processed = r.committed;
            r.fetching = false;
        }
        for m in self.members.iter_mut().filter(|m| m.up) {
            m.generation += 1;
            m.queue.clear();
            m.busy = false;
        }
        (0..self.partitions.len()).for_each(|p| self.fetch(p as u16, env));
    }

    fn fetch(&mut self, partition: u16, env: &mut Env<'_>) {
        let r = &mut self.partitions[usize::from(partition)];
        let Some(member) = r.owner.filter(|_| !r.fetching) else { return };
        let m = &self.members[usize::from(member)];
        if !m.up {
            return;
        }
        r.fetching = true;
        let msg = LogMsg::Fetch {
            origin: env.id,
            member,
            partition,
            offset: r.position,
            generation: m.generation,
        };
        env.send(self.log, Msg::Log(msg));
    }

    #[allow(clippy::too_many_arguments)]
    fn fetched(
        &mut self,
        member: u16,
        partition: u16,
        offset: u32,
        count: u32,
        hw: u32,
        generation: u32,
        env: &mut Env<'_>,
    ) {
        let m = &self.members[usize::from(member)];
        let r = &mut self.partitions[usize::from(partition)];
        if !m.up || m.generation != generation || r.owner != Some(member) || r.position != offset {
            return;
        }
        r.fetching = false;
        r.high_watermark = r.high_watermark.max(hw);
        self.counts.max_lag = self.counts.max_lag.max(u64::from(hw.saturating_sub(offset)));
        if offset > hw {
            // An unclean election cut the log below where the group was: it starts
            // again at the end (Kafka's auto.offset.reset=latest).
            self.counts.offset_resets += 1;
            (r.position, r.processed, r.committed) = (hw, hw, hw);
        }
        if count == 0 {
            if polling(self.last_data, env) {
                env.timer(self.spec.poll, Msg::Log(LogMsg::Poll { member, partition, generation }));
            }
            return;
        }
        self.last_data = env.now();
        let log = env.peer(self.log).0;
        let entries = env.log_book().log(log, partition);
        let end = (offset as usize + count as usize).min(entries.len());
        let got: Vec<u32> = entries.get(offset as usize..end).unwrap_or(&[]).to_vec();
        let m = &mut self.members[usize::from(member)];
        for (i, &message) in got.iter().enumerate() {
            m.queue.push_back((partition, offset + i as u32, message));
        }
        r.position = offset + got.len() as u32;
        if self.spec.commit == Commit::Before {
            r.committed = r.position;
        }
        self.process_next(member, env);
    }

    fn process_next(&mut self, member: u16, env: &mut Env<'_>) {
        let m = &mut self.members[usize::from(member)];
        if m.busy || m.queue.is_empty() || !m.up {
            return;
        }
        m.busy = true;
        let generation = m.generation;
        let took = SimDuration(self.spec.processing.sample(env.rng()));
        env.timer(took, Msg::Log(LogMsg::ProcessingDone { member, generation }));
    }

    fn processing_done(&mut self, member: u16, generation: u32, env: &mut Env<'_>) {
        let m = &mut self.members[usize::from(member)];
        if !m.up || m.generation != generation {
            return;
        }
        m.busy = false;
        let Some((partition, offset, message)) = m.queue.pop_front() else { return };
        let more = m.queue.iter().any(|&(p, ..)| p == partition);
        let record = *env.log_book().message(message);
        let change = record.version != VersionId::ROOT;
        let key = if change { u64::from(record.version.0) } else { 1 << 32 | u64::from(message) };
        let (group, when) = (env.id.0, env.stamp());
        let done = Processing { member, partition, offset, when };
        if self.spec.idempotent && !self.seen.insert(key) {
            self.counts.skipped += 1;
            env.log_book().skipped(group, message, done);
        } else {
            self.counts.processed += 1;
            env.log_book().processed(group, message, done);
            if self.relayed && change {
                let (key, version, at, event) = (record.key, record.version, when.at, when.event);
                env.processed(Processed { consumer: group, key, version, at, event });
            }
        }
        let r = &mut self.partitions[usize::from(partition)];
        r.processed = offset + 1;
        if self.spec.commit == Commit::Transactional {
            r.committed = r.processed;
        }
        if !more {
            self.fetch(partition, env);
        }
        self.process_next(member, env);
    }

    fn commit_due(&mut self, env: &mut Env<'_>) {
        let mut behind = false;
        for r in &mut self.partitions {
            if r.owner.is_some_and(|m| self.members[usize::from(m)].up) {
                r.committed = r.committed.max(r.processed);
            }
            behind |= r.committed < r.position;
        }
        if !env.stopping() || behind {
            env.timer(self.spec.commit_every, Msg::Log(LogMsg::CommitDue));
        }
    }

    /// Records the lag: over the partitions, the log's high watermark now less what the
    /// group has processed (not its committed offset, which trails by up to
    /// `commit_every`); once a second through the run. The watermark is the log's own,
    /// from the log book: a partition whose member crashed is fetched by no one until
    /// the rebalance, and the watermark its last fetch saw would hide the backlog.
    fn sample_lag(&mut self, env: &mut Env<'_>) {
        let (group, log, now) = (env.id.0, env.peer(self.log).0, env.now());
        let book = env.log_book();
        let behind = |(p, r): (usize, &Reading)| {
            u64::from(book.high_watermark(log, p as u16).saturating_sub(r.processed))
        };
        let lag = self.partitions.iter().enumerate().map(behind).sum();
        env.log_book().lag_sample(group, now, lag);
        if !env.stopping() {
            env.timer(LAG_EVERY, Msg::Log(LogMsg::SampleLag));
        }
    }

    fn crash(&mut self, member: usize, env: &mut Env<'_>) {
        let m = &mut self.members[member];
        if !m.up {
            return;
        }
        m.up = false;
        m.generation += 1;
        m.queue.clear();
        m.busy = false;
        // What it processed since its last commit is known to nobody now: the group
        // resumes its partitions from the committed offsets.
        let theirs = self.partitions.iter_mut().filter(|r| r.owner == Some(member as u16));
        for r in theirs {
            (r.position, r.processed, r.fetching) = (r.committed, r.committed, false);
        }
        self.crashes += 1;
        env.timer(self.spec.session_timeout, Msg::Log(LogMsg::Rebalance { crash: self.crashes }));
    }

    fn restart(&mut self, member: usize, env: &mut Env<'_>) {
        if self.members[member].up {
            return;
        }
        self.members[member].up = true;
        self.crashes += 1; // The rebalance now makes the pending one void.
        self.rebalance(env);
    }

    fn on_fault(&mut self, fault: Fault, env: &mut Env<'_>) {
        let all = 0..self.members.len();
        match fault {
            Fault::Crash => all.for_each(|m| self.crash(m, env)),
            Fault::Restart => {
                all.for_each(|m| self.members[m].up = true);
                self.crashes += 1;
                self.rebalance(env);
            }
            Fault::CrashReplica(m) => self.crash(m as usize, env),
            Fault::RestartReplica(m) => self.restart(m as usize, env),
            _ => {}
        }
    }

    fn on_log(&mut self, msg: LogMsg, env: &mut Env<'_>) {
        match msg {
            LogMsg::Fetched { member, partition, offset, count, high_watermark, generation } => {
                self.fetched(member, partition, offset, count, high_watermark, generation, env);
            }
            LogMsg::ProcessingDone { member, generation } => {
                self.processing_done(member, generation, env)
            }
            LogMsg::Poll { member, partition, generation } => {
                if self.members[usize::from(member)].generation == generation {
                    self.fetch(partition, env);
                }
            }
            LogMsg::CommitDue => self.commit_due(env),
            LogMsg::SampleLag => self.sample_lag(env),
            LogMsg::Rebalance { crash } if crash == self.crashes => self.rebalance(env),
            LogMsg::Rebalance { .. } => {}
            other => panic!("consumer group got unexpected {}", other.kind_name()),
        }
    }
}

/// How often a group's lag is sampled.
pub const LAG_EVERY: SimDuration = SimDuration::from_secs(1);

/// How long after the run's duration a reader keeps polling once nothing new comes:
/// what producers and relays still send in the drain reaches it.
pub const QUIET: SimDuration = SimDuration::from_secs(10);

/// Whether a reader whose last data came at `last_data` polls again: always during the
/// run, and in the drain until `QUIET` has passed since the later of its last data and
/// the end of the run's duration.
pub fn polling(last_data: SimTime, env: &Env<'_>) -> bool {
    !env.stopping() || env.now().since(last_data.max(env.stop_at)) < QUIET
}

impl Component for ConsumerGroup {
    fn versions_held(&self, held: &mut dyn FnMut(VersionId)) -> bool {
        // A relayed change is seen by its version (below 2^32); its queued messages'
        // versions are in the outbox, which the history reports.
        self.seen.iter().filter_map(|&k| u32::try_from(k).ok()).map(VersionId).for_each(held);
        true
    }

    fn start(&mut self, env: &mut Env<'_>) {
        let (group, log) = (env.id.0, env.peer(self.log).0);
        env.log_book().subscribed(group, log);
        if self.relayed {
            env.subscribe(); // Every published change must reach it (`delivery`).
        }
        self.rebalance(env);
        self.counts.rebalances = 0; // The first assignment is no rebalance.
        if self.spec.commit == Commit::After {
            env.timer(self.spec.commit_every, Msg::Log(LogMsg::CommitDue));
        }
        env.timer(LAG_EVERY, Msg::Log(LogMsg::SampleLag));
    }

    /// Messages processed and skipped, rebalances, the largest lag a fetch saw, and
    /// what was left unread at the end.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        let c = self.counts;
        vec![
            ("processed", c.processed),
            ("skipped_as_seen", c.skipped),
            ("rebalances", c.rebalances),
            ("max_lag_messages", c.max_lag),
            ("offset_resets", c.offset_resets),
        ]
    }

    fn is_up(&self) -> bool {
        self.members.iter().any(|m| m.up)
    }

    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>) {
        match msg {
            Msg::Log(m) => self.on_log(m, env),
            Msg::Fault(f) => self.on_fault(f, env),
            other => panic!("consumer group got unexpected {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{MessageRecord, Stamp};
    use crate::components::BuiltIn;
    use crate::components::testing::{BenchWorld, bench, deliver, ms, run};
    use crate::engine::{ComponentId, Sim, SimTime};

    const LOG: u32 = 1;

    /// A one-member group reading one partition of probe 1's log, which holds `n`
    /// messages.
    fn group(commit: Commit, n: u32) -> Sim<BenchWorld> {
        let spec = ConsumerGroupSpec {
            members: 1,
            processing: Dist::constant(ms(1).0),
            commit,
            commit_every: SimDuration::from_millis(1_000),
            idempotent: false,
            session_timeout: SimDuration::from_millis(100),
            poll: SimDuration::from_millis(50),
        };
        let (mut sim, _) = bench(1, 1, |l| {
            BuiltIn::ConsumerGroup(Box::new(ConsumerGroup::new(&spec, l.callees[0], 1)))
        });
        let book = &mut sim.actor.history.logs;
        for seq in 0..n {
            let sent = Stamp::default();
            let record = MessageRecord {
                producer: 9,
                log: LOG,
                key: 0,
                partition: 0,
                seq,
                sent,
                acked: None,
                appended: None,
                version: crate::check::VersionId::ROOT,
            };
            let id = book.sent(record);
            book.appended(LOG, 0, id, 0, sent);
        }
        sim
    }

    /// The offsets of the fetches the log received, in order.
    fn fetches(sim: &Sim<BenchWorld>) -> Vec<u32> {
        let offsets = sim.actor.received.iter().filter_map(|r| match r.msg {
            Msg::Log(LogMsg::Fetch { offset, .. }) => Some(offset),
            _ => None,
        });
        offsets.collect()
    }

    fn fetched(sim: &mut Sim<BenchWorld>, at: SimTime, offset: u32, count: u32, generation: u32) {
        let msg = LogMsg::Fetched {
            member: 0,
            partition: 0,
            offset,
            count,
            high_watermark: offset + count,
            generation,
        };
        deliver(sim, at, Msg::Log(msg));
    }

    fn processed(sim: &Sim<BenchWorld>) -> u32 {
        sim.actor.history.logs.processed_times().values().map(|p| p.times).sum()
    }

    /// Processes two messages, then the member crashes and restarts; returns where the
    /// group fetched from after the restart, and how many processings there were.
    fn crash_after_processing(commit: Commit) -> (u32, u32) {
        let mut sim = group(commit, 2);
        fetched(&mut sim, ms(1), 0, 2, 1);
        run(&mut sim, ms(10));
        assert_eq!(processed(&sim), 2, "both processed");
        deliver(&mut sim, ms(20), Msg::Fault(Fault::CrashReplica(0)));
        deliver(&mut sim, ms(30), Msg::Fault(Fault::RestartReplica(0)));
        run(&mut sim, ms(40));
        (*fetches(&sim).last().unwrap(), processed(&sim))
    }

    #[test]
    fn a_crash_before_the_periodic_commit_resumes_from_the_last_commit() {
        assert_eq!(crash_after_processing(Commit::After).0, 0, "processed again from 0");
    }

    #[test]
    fn a_transactional_group_resumes_after_what_it_processed() {
        assert_eq!(crash_after_processing(Commit::Transactional).0, 2);
    }

    #[test]
    fn committing_before_processing_skips_what_a_crash_interrupted() {
        let mut sim = group(Commit::Before, 3);
        fetched(&mut sim, ms(1), 0, 3, 1);
        deliver(&mut sim, SimTime(ms(1).0 + 500_000), Msg::Fault(Fault::CrashReplica(0)));
        deliver(&mut sim, ms(5), Msg::Fault(Fault::RestartReplica(0)));
        run(&mut sim, ms(10));
        assert_eq!((processed(&sim), *fetches(&sim).last().unwrap()), (0, 3), "all three skipped");
    }

    #[test]
    fn a_crashed_member_s_partitions_move_after_the_session_timeout() {
        let spec_members = 2;
        let spec = ConsumerGroupSpec {
            members: spec_members,
            processing: Dist::constant(ms(1).0),
            commit: Commit::Transactional,
            commit_every: SimDuration::from_millis(1_000),
            idempotent: false,
            session_timeout: SimDuration::from_millis(100),
            poll: SimDuration::from_millis(50),
        };
        let (mut sim, _) = bench(1, 1, |l| {
            BuiltIn::ConsumerGroup(Box::new(ConsumerGroup::new(&spec, l.callees[0], 2)))
        });
        let owner = |sim: &Sim<BenchWorld>| match &sim.actor.component {
            BuiltIn::ConsumerGroup(g) => g.partitions[1].owner,
            _ => unreachable!(),
        };
        assert_eq!(owner(&sim), Some(1));
        deliver(&mut sim, ms(10), Msg::Fault(Fault::CrashReplica(1)));
        run(&mut sim, ms(50));
        assert_eq!(owner(&sim), Some(1), "still its until the session times out");
        run(&mut sim, ms(120));
        assert_eq!(owner(&sim), Some(0));
        assert!(sim.actor.received.iter().any(|r| r.probe == ComponentId(1)), "it fetched");
    }
}
