//! Analytic cross-checks of the consistency core: where probability gives the answer,
//! the simulated figure must match it.

use archsim::check::{Check, CheckReport, Checks, End, HeadCause, HeadMove, OpKind, OpRecord};
use archsim::check::{Outcome, SessionState, VersionDag};
use archsim::components::store::{
    ClockSource, ConflictPolicy, Durability, Partition, ReadConsistency, ReplicationMode, StoreSpec,
};
use archsim::components::{BuiltIn, Registry, World};
use archsim::engine::{Dist, SimDuration};
use archsim::model::{
    ClientsSpec, ComponentSpec, Endpoint, KeyChoice, LinkSpec, Model, Scenario, Step,
};
use archsim::run::{execute, run_world};

const SECOND: u64 = 1_000_000_000;

/// One store `db` behind a zero-latency link from the clients.
fn model(replicas: u32, lag: Dist, reads: ReadConsistency, conflict: ConflictPolicy) -> Model {
    let store = StoreSpec {
        replicas,
        replication_lag: lag,
        replication_mode: ReplicationMode::Independent,
        replica_ack: Dist::constant(0),
        reads,
        conflict,
        durability: Durability::Wal,
        capacity: None,
        shards: 1,
        partition: Partition::ByOrg,
        idempotency_retention: None,
        failover: None,
    };
    let link = LinkSpec {
        from: Endpoint::Clients,
        to: "db".into(),
        latency: Dist::constant(0),
        loss: 0.0,
    };
    let db = ComponentSpec::new("db", store);
    Model {
        name: "formula".into(),
        components: vec![db],
        links: vec![link],
        regions: Default::default(),
    }
}

/// Replication lag `exp(L)`, a read at a fixed delay `t` after the acknowledgement (the
/// links take no time, so the read reaches a replica exactly `t` after the write):
/// the read is stale when that replica's lag exceeds `t`, so
/// `P(stale) = P(lag > t) = exp(-t / L)`.
#[test]
fn stale_fraction_at_a_fixed_delay_is_exp_minus_t_over_l() {
    let lag = 2.0;
    for t in [0.5, 2.0, 4.0] {
        let m = model(
            2,
            Dist::Exp { mean_ns: lag * SECOND as f64 },
            ReadConsistency::AnyReplica,
            ConflictPolicy::Overwrite(ClockSource::Server),
        );
        let delay = Dist::constant((t * SECOND as f64) as u64);
        let clients = ClientsSpec::new(
            200,
            Dist::Exp { mean_ns: SECOND as f64 },
            vec![Step::Write, Step::Sleep(delay), Step::Read],
        );
        let scenario = Scenario::new("stale", m, clients, 7, SimDuration::from_secs(600));
        let outcome = execute(&scenario, &Registry::new(), false).unwrap();
        let reads = outcome.history.stats("read").expect("a read row").latency.count();
        let measured = outcome.history.stale_reads() as f64 / reads as f64;
        let expected = (-t / lag).exp();
        eprintln!("t = {t} s: stale {measured:.4} of {reads} reads, exp(-t/L) = {expected:.4}");
        assert!(reads > 20_000, "{reads} reads");
        assert!(
            (measured - expected).abs() < 0.02,
            "t = {t} s: stale {measured:.4}, exp(-t/L) = {expected:.4}"
        );
    }
}

/// Counts, per writer, acknowledged writes and writes that lost the timestamp race.
#[derive(Default)]
struct RaceCounter {
    writes: [u64; 2],
    lost_race: [u64; 2],
}

impl Check for RaceCounter {
    fn on_op(&mut self, op: &OpRecord, _session: &SessionState<'_>, _dag: &mut VersionDag) {
        if op.kind() == OpKind::Write && op.outcome == Outcome::Ok {
            self.writes[op.client() as usize] += 1;
        }
    }

    fn on_head(&mut self, mv: &HeadMove, dag: &mut VersionDag) {
        if mv.cause == HeadCause::LostRace {
            self.lost_race[dag.get(mv.to).client as usize] += 1;
        }
    }

    fn finish(&mut self, _end: &mut End<'_>) -> CheckReport {
        let mut r = CheckReport::new("races", self.lost_race[1], self.writes[1], "writes of B");
        r.figures.insert("lost_race_a", self.lost_race[0]);
        r.figures.insert("writes_a", self.writes[0]);
        r
    }
}

/// Two writers on one key under last-write-wins on client clocks; A's clock runs `s`
/// ahead of B's. B's write at true time `u` carries stamp `u` and loses to any A write
/// made in `(u - s, u]`, stamped later than `u`. A writes as a Poisson process of rate
/// `1/T` (think `exp(T)`, operations take no time), so B loses the share
/// `1 - exp(-s / T)` of its writes, and A loses none.
#[test]
fn skewed_writers_lose_the_expected_share_under_client_clock_lww() {
    let (s, t) = (1.0, 2.0);
    let m = model(
        0,
        Dist::constant(0),
        ReadConsistency::Primary,
        ConflictPolicy::Overwrite(ClockSource::Client),
    );
    let mut clients =
        ClientsSpec::new(2, Dist::Exp { mean_ns: t * SECOND as f64 }, vec![Step::Write]);
    clients.key = KeyChoice::Shared;
    let scenario = Scenario::new("race", m, clients, 11, SimDuration::from_secs(4 * 3600));
    let mut checks = Checks::new(&[]);
    checks.push(Box::<RaceCounter>::default());
    let mut sim = World::build_with(&scenario, &Registry::new(), checks, false).unwrap();
    let BuiltIn::Client(a) = &mut sim.actor.components[1] else { panic!("client 0 follows db") };
    a.set_clock((s * SECOND as f64) as i64, 0);
    let outcome = run_world(sim, &scenario, |_, _| {}).expect("the run stays within its limits");
    let r = &outcome.checks[0];
    assert_eq!(r.figures["lost_race_a"], 0, "the fast clock never loses");
    let measured = r.violations as f64 / r.checked as f64;
    let expected = 1.0 - (-s / t).exp();
    eprintln!("B lost {measured:.4} of {} writes, 1 - exp(-s/T) = {expected:.4}", r.checked);
    assert!(r.checked > 6_000, "{} writes of B", r.checked);
    assert!(
        (measured - expected).abs() < 0.02,
        "B lost {measured:.4}, 1 - exp(-s/T) = {expected:.4}"
    );
}
