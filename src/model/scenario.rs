//! A scenario: an architecture, a client workload, a seed and a duration.

use super::architecture::Model;
use super::judgement::{CheckSpec, Verdict};
use crate::engine::{Dist, Limits, SimDuration};

/// A validated experiment.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Human name of the scenario.
    pub name: String,
    /// The scenario file, as given (for repro lines).
    pub path: String,
    /// The architecture, with overrides applied.
    pub model: Model,
    /// The seed every random stream derives from.
    pub seed: u64,
    /// How many seeds, from `seed` on, the expectations are judged over (`run`, `diff`).
    pub seeds: u64,
    /// Simulated time to run.
    pub duration: SimDuration,
    /// The client population.
    pub clients: ClientsSpec,
    /// Command-line overrides applied (`PATH=VALUE`), for the replay line.
    pub cli_overrides: Vec<String>,
    /// Every override applied, the file's `set` then the command line's, as
    /// `PATH=VALUE`: what the model's name no longer says.
    pub overrides: Vec<String>,
    /// Faults injected during the run.
    pub faults: Vec<FaultSpec>,
    /// Faults each seed may draw (`swarm.rs`); the drawn ones join `faults` when the
    /// world is built.
    pub swarm: Vec<super::swarm::SwarmFault>,
    /// The checkers to run.
    pub checks: Vec<CheckSpec>,
    /// Verdicts the scenario expects, by checker name.
    pub expect: Vec<Expectation>,
    /// Figures the run must meet, judged by the `objectives` checker.
    pub objectives: Vec<super::Objective>,
    /// Whether the JSON summary carries the run's timeline.
    pub timeline: bool,
    /// The length of the timeline's intervals (1 s unless set).
    pub timeline_interval: SimDuration,
    /// Bounds the run stops at (`--max-events`, `--max-pending`).
    pub limits: Limits,
}

/// A verdict a scenario expects from one checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The checker's name.
    pub check: String,
    /// Holds or violated.
    pub verdict: Verdict,
    /// Optionally, the violation count must lie in this range (inclusive).
    pub count: Option<(u64, u64)>,
}

impl Expectation {
    /// Whether a checker's result meets this expectation. A count is met by its
    /// range alone: `count(0, 30)` allows a run that holds and one with 30 violations.
    pub fn met_by(&self, verdict: Verdict, violations: u64) -> bool {
        match self.count {
            Some((lo, hi)) => verdict != Verdict::NotConfigured && (lo..=hi).contains(&violations),
            None => verdict == self.verdict,
        }
    }

    /// The expectation as the scenario writes it: `holds`, `violated`, `count(1, 100)`.
    pub fn words(&self) -> String {
        match self.count {
            Some((lo, hi)) => format!("count({lo}, {hi})"),
            None => self.verdict.name().to_string(),
        }
    }
}

/// How a failover picks the replica to promote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promote {
    /// This replica.
    Chosen(u32),
    /// The replica that has applied the most.
    Freshest,
    /// A replica drawn at random.
    Random,
}

/// When a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTime {
    /// Once, at this time from the start.
    At(SimDuration),
    /// Again and again, with exponential gaps of this mean.
    Every(SimDuration),
}

/// A fault of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// When.
    pub when: FaultTime,
    /// What.
    pub action: FaultAction,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Crash a store's primary, or one of its replicas; restart it after a while (or
    /// never).
    Crash {
        /// The store.
        target: String,
        /// The replica to crash (`None`: the primary).
        replica: Option<u32>,
        /// Downtime before the restart.
        restart_after: Option<SimDuration>,
    },
    /// Promote a replica of a store.
    Failover {
        /// The store.
        target: String,
        /// Which replica.
        promote: Promote,
    },
    /// Cut the links from `from` to `to`; heal them after a while (or never).
    Partition {
        /// Initiator side (`client` for every client link).
        from: String,
        /// Acceptor side.
        to: String,
        /// Time until the links heal.
        heal_after: Option<SimDuration>,
    },
    /// Cut a store's primary off from its replicas and its failure detector (its clients
    /// still reach it); heal after a while (or never).
    Isolate {
        /// The store.
        target: String,
        /// Time until it heals.
        heal_after: Option<SimDuration>,
    },
    /// Stop a component for a while: it handles nothing, and what reaches it waits.
    Pause {
        /// A component or one instance.
        target: String,
        /// How long.
        lasting: SimDuration,
    },
    /// Lose a share of the messages on a model link for a while.
    PacketLoss {
        /// Initiator side.
        from: String,
        /// Acceptor side.
        to: String,
        /// Share lost each way, in (0, 1].
        share: f64,
        /// How long.
        lasting: SimDuration,
    },
    /// Multiply a component's service times for a while.
    Slowdown {
        /// A component with capacity.
        target: String,
        /// The factor.
        factor: f64,
        /// How long.
        lasting: SimDuration,
    },
    /// Multiply a store's replication lag for a while.
    LagSpike {
        /// The store.
        target: String,
        /// The factor.
        factor: f64,
        /// How long.
        lasting: SimDuration,
    },
    /// Jump a clock: a store's, or every client's.
    ClockJump {
        /// A store, or `client` for every client.
        target: String,
        /// Signed jump in ns.
        by_ns: i64,
    },
    /// Set a client's clock drift (every client's with `client`).
    ClockDrift {
        /// `client` or `client/N`.
        target: String,
        /// Parts per million, signed.
        ppm: f64,
    },
    /// Revoke the access of a share of the clients (removed from their organisation):
    /// the tokens they hold must stop working.
    Revoke {
        /// Share of clients hit, in [0, 1].
        share: f64,
    },
    /// A script injected into the page (XSS) reads the tokens of a share of the clients
    /// from `localStorage` and an attacker uses them; tokens in HttpOnly cookies are out
    /// of its reach.
    StealTokens {
        /// Share of clients hit, in [0, 1].
        share: f64,
    },
    /// Disconnect a share of the clients for a while.
    Disconnect {
        /// Share of clients hit, in [0, 1].
        share: f64,
        /// How long.
        lasting: SimDuration,
    },
    /// From the fault's time on, each streamed response loses its client's network with
    /// this chance, at a uniform time within `within` of the stream's start.
    DisconnectMidStream {
        /// Chance per stream, in [0, 1].
        chance: f64,
        /// The disconnect strikes this long after the stream starts, at most.
        within: SimDuration,
        /// How long the network stays down.
        lasting: SimDuration,
    },
}

impl FaultAction {
    /// How long the fault lasts once it strikes (`None`: an instant, or for good).
    pub fn lasting(&self) -> Option<SimDuration> {
        match *self {
            FaultAction::Crash { restart_after, .. } => restart_after,
            FaultAction::Partition { heal_after, .. } | FaultAction::Isolate { heal_after, .. } => {
                heal_after
            }
            FaultAction::LagSpike { lasting, .. }
            | FaultAction::Slowdown { lasting, .. }
            | FaultAction::Pause { lasting, .. }
            | FaultAction::PacketLoss { lasting, .. }
            | FaultAction::Disconnect { lasting, .. } => Some(lasting),
            _ => None,
        }
    }

    /// A short description for people: `crash db (restart after 10s)`.
    pub fn describe(&self) -> String {
        let span = |d: SimDuration| crate::engine::time::format_span(d.as_nanos());
        let share = |s: f64| format!("{}% of clients", libm::round(s * 1000.0) / 10.0);
        match self {
            FaultAction::Crash { target, replica, restart_after } => {
                let who = match replica {
                    Some(r) => format!("{target} replica {r}"),
                    None => target.clone(),
                };
                match restart_after {
                    Some(d) => format!("crash {who} (restart after {})", span(*d)),
                    None => format!("crash {who}"),
                }
            }
            FaultAction::Failover { target, promote } => {
                let which = match promote {
                    Promote::Chosen(i) => format!("replica {i}"),
                    Promote::Freshest => "the freshest replica".into(),
                    Promote::Random => "a random replica".into(),
                };
                format!("failover of {target} to {which}")
            }
            FaultAction::Partition { from, to, heal_after: Some(d) } => {
                format!("partition {from} → {to} (heals after {})", span(*d))
            }
            FaultAction::Partition { from, to, heal_after: None } => {
                format!("partition {from} → {to}")
            }
            FaultAction::Isolate { target, heal_after: Some(d) } => {
                format!("isolate {target}'s primary (heals after {})", span(*d))
            }
            FaultAction::Isolate { target, heal_after: None } => {
                format!("isolate {target}'s primary")
            }
            FaultAction::LagSpike { target, factor, lasting } => {
                format!("{target} replication lag ×{factor} for {}", span(*lasting))
            }
            FaultAction::Slowdown { target, factor, lasting } => {
                format!("{target} service times ×{factor} for {}", span(*lasting))
            }
            FaultAction::Pause { target, lasting } => {
                format!("{target} pauses for {}", span(*lasting))
            }
            FaultAction::PacketLoss { from, to, share: s, lasting } => {
                let pct = libm::round(s * 1000.0) / 10.0;
                format!("{from} → {to} loses {pct}% of messages for {}", span(*lasting))
            }
            FaultAction::ClockJump { target, by_ns } => {
                let sign = if *by_ns < 0 { "-" } else { "+" };
                format!("{target} clock jumps {sign}{}", span(SimDuration(by_ns.unsigned_abs())))
            }
            FaultAction::ClockDrift { target, ppm } => format!("{target} clock drifts {ppm} ppm"),
            FaultAction::Revoke { share: s } => format!("revoke access of {}", share(*s)),
            FaultAction::StealTokens { share: s } => format!("XSS steals tokens of {}", share(*s)),
            FaultAction::Disconnect { share: s, lasting } => {
                format!("disconnect {} for {}", share(*s), span(*lasting))
            }
            FaultAction::DisconnectMidStream { chance, within, lasting } => format!(
                "streams lose the network ({}% each, within {}, for {})",
                libm::round(chance * 1000.0) / 10.0,
                span(*within),
                span(*lasting)
            ),
        }
    }
}

/// The client population and the workflow each client repeats.
#[derive(Debug, Clone)]
pub struct ClientsSpec {
    /// Number of clients.
    pub count: u32,
    /// Which key each client works on.
    pub key: KeyChoice,
    /// Pause between two rounds of the workflow.
    pub think: Dist,
    /// Give up on a request after this long (needed when links lose messages).
    pub timeout: Option<SimDuration>,
    /// The steps of one round.
    pub workflow: Vec<Step>,
    /// Retrying writes and reads that time out or are refused.
    pub retry: Option<RetrySpec>,
    /// Each client's circuit breaker.
    pub breaker: Option<BreakerSpec>,
    /// Send a second copy of a read unanswered after this long (hedged requests).
    pub hedge: Option<SimDuration>,
    /// Requests carry the client's timeout as a deadline, which services honour.
    pub deadlines: bool,
    /// Writes carry an idempotency key, so a store applies one message once.
    pub idempotency_key: bool,
    /// Reads carry the session's token, so a store never answers with anything older.
    pub session_tokens: bool,
    /// Each client's clock error.
    pub clock: ClockSpec,
    /// Organisations owning the documents (`None`: one organisation).
    pub orgs: Option<OrgSpec>,
    /// Access tokens the app servers check (`None`: not modelled).
    pub auth: Option<AuthSpec>,
    /// The populations the clients fall into, in client order (at least one).
    pub populations: Vec<Population>,
}

/// A group of clients with its own size, region, way in and workflow; the rest of the
/// clients' settings they share.
#[derive(Debug, Clone)]
pub struct Population {
    /// Its name (`client` for the clients of a scenario that names none).
    pub name: String,
    /// The index of its first client among all clients.
    pub first: u32,
    /// Its clients.
    pub count: u32,
    /// The region its clients sit in (an index into the model's regions).
    pub region: Option<usize>,
    /// The component its entry link goes to; `None`: the model's only entry.
    pub entry: Option<String>,
    /// Its own workflow; `None`: the clients' one.
    pub workflow: Option<Vec<Step>>,
    /// Open arrivals: its users arrive at this rate, each running one round; `None`:
    /// its users think between rounds (a closed population).
    pub arrivals: Option<super::arrivals::RateSchedule>,
}

impl ClientsSpec {
    /// No clients: the model's producers make its load.
    pub fn none() -> ClientsSpec {
        ClientsSpec {
            populations: Vec::new(),
            ..ClientsSpec::new(0, Dist::constant(0), Vec::new())
        }
    }
}

impl Population {
    /// One population of `count` clients, with no region, the model's only entry and the
    /// clients' workflow.
    pub fn all(count: u32) -> Population {
        Population {
            name: super::CLIENTS.to_string(),
            first: 0,
            count,
            region: None,
            entry: None,
            workflow: None,
            arrivals: None,
        }
    }

    /// Whether client `index` (among all clients) belongs to it.
    pub fn holds(&self, index: u32) -> bool {
        (self.first..self.first + self.count).contains(&index)
    }
}

/// Access tokens: each client logs in at its start and gets a token valid for
/// `token_ttl`; an app server refuses an expired token, and the client then asks for a
/// new one, which the auth service refuses once the client's access is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSpec {
    /// How long a token is valid (a JWT's `exp`).
    pub token_ttl: SimDuration,
    /// Where the browser keeps it.
    pub storage: TokenStorage,
}

/// Where the browser keeps its access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStorage {
    /// `localStorage`: any script in the page can read it.
    LocalStorage,
    /// An HttpOnly, Secure cookie: scripts cannot read it.
    HttpOnlyCookie,
}

/// Organisations with Zipf-distributed sizes: organisation `i` (from 0) owns a share
/// of the documents proportional to `1 / (i + 1)^skew`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrgSpec {
    /// How many.
    pub count: u32,
    /// The Zipf exponent.
    pub skew: f64,
}

/// How a client retries.
#[derive(Debug, Clone)]
pub struct RetrySpec {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Wait before each retry (before the first, when it grows).
    pub backoff: Dist,
    /// Each retry waits this many times longer than the one before (1: no growth).
    pub multiplier: f64,
    /// Longest wait a growing backoff reaches.
    pub cap: Option<SimDuration>,
    /// How the wait is randomised.
    pub jitter: Jitter,
    /// Each client's retry budget.
    pub budget: Option<RetryBudget>,
}

impl RetrySpec {
    /// Retries after a drawn `backoff`, at most `attempts` tries, no growth, jitter or
    /// budget.
    pub fn plain(attempts: u32, backoff: Dist) -> RetrySpec {
        RetrySpec {
            attempts,
            backoff,
            multiplier: 1.0,
            cap: None,
            jitter: Jitter::None,
            budget: None,
        }
    }

    /// The wait before try `attempt` (2 for the first retry), from a drawn base `base_ns`
    /// and a uniform draw `unit` in [0, 1) for the jitter.
    pub fn wait(&self, attempt: u32, base_ns: u64, unit: f64) -> u64 {
        let grown =
            base_ns as f64 * libm::pow(self.multiplier, f64::from(attempt.saturating_sub(2)));
        let capped = self.cap.map_or(grown, |c| grown.min(c.as_nanos() as f64));
        let w = match self.jitter {
            Jitter::None => capped,
            Jitter::Full => capped * unit,
            Jitter::Equal => capped / 2.0 + capped / 2.0 * unit,
        };
        w.min(u64::MAX as f64) as u64
    }
}

/// The timeline's interval unless a scenario sets `timeline_interval`.
pub const TIMELINE_INTERVAL: SimDuration = SimDuration(1_000_000_000);

/// A client's circuit breaker: closed, it judges the latest `window` tries and opens
/// when at least `threshold` of them failed; open, every try fails at once without a
/// request; after `open_for` it lets one try through (half-open), which closes it on
/// success and opens it again on failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSpec {
    /// Share of failures that opens it, in (0, 1].
    pub threshold: f64,
    /// Tries judged, 1 to 32.
    pub window: u32,
    /// How long it stays open.
    pub open_for: SimDuration,
}

/// How a retry's wait `w` is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Wait `w`.
    None,
    /// Uniformly in `[0, w]`.
    Full,
    /// `w/2` plus uniformly in `[0, w/2]`.
    Equal,
}

/// A client's retry budget (a token bucket, as gRPC's retry throttling): it starts full,
/// a failed attempt takes one token, a success gives `per_success` back, and the client
/// retries only while it holds more than half of `tokens`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// The bucket's size.
    pub tokens: f64,
    /// Tokens a success gives back.
    pub per_success: f64,
}

/// Client clock error: each client draws its own offset and drift once.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClockSpec {
    /// Offsets are uniform in `[-skew, +skew]`.
    pub skew: SimDuration,
    /// Drift rates are uniform in `[-drift_ppm, +drift_ppm]` parts per million.
    pub drift_ppm: f64,
}

/// Which key a client's reads and writes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice {
    /// Client `i` uses key `i`.
    Own,
    /// Every client uses key 0.
    Shared,
    /// Clients `n·k .. n·k + n - 1` share key `k`: one user with `n` tabs open.
    Tabs(u32),
}

/// One step of a client workflow.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write a new message to the key, based on what the client last saw.
    Write,
    /// Read the key and wait for the answer.
    Read,
    /// Read what the UI would show (a read, worded as a refresh in stories).
    Refresh,
    /// Fetch the caller's document list: one URL for every caller, answered with what
    /// the caller's organisation holds (here, the caller's document).
    List,
    /// Wait for a drawn duration.
    Sleep(Dist),
    /// If the last thing read lacks the client's last acknowledged write, send that
    /// message again.
    ResubmitIfMissing,
    /// Continue in a new tab: a new session that has seen nothing yet.
    OpenTab,
    /// Create the conversation (a write), the first time only.
    Create,
    /// Send a message and receive the streamed response to it.
    Complete,
    /// Send a message as `complete` does, then reload the page before the response
    /// streams: the stream is cut and the next step runs at once.
    Submit,
    /// After a broken stream: poll `/stream_status` with backoff until it says
    /// `complete`, then fetch the conversation. Nothing when the last stream was whole.
    Recover,
    /// Ask for the conversation's title: answered `202 Accepted`, written later by a job.
    Title,
    /// Send a change over the editor's WebSocket, opening it first (which loads the
    /// document) when it is not open.
    Edit,
    /// Run the steps this many times.
    Repeat(u32, Vec<Step>),
    /// Run the steps with this probability.
    Maybe(f64, Vec<Step>),
}

impl Scenario {
    /// Whether a fault steals tokens (the world then has an attacker).
    pub fn steals_tokens(&self) -> bool {
        self.faults.iter().any(|f| matches!(f.action, FaultAction::StealTokens { .. }))
    }

    /// The faults of this seed's run: the fixed ones, then the swarm's draw.
    pub fn faults_of_run(&self) -> Vec<FaultSpec> {
        let mut all = self.faults.clone();
        all.extend(super::swarm::draw(&self.swarm, self.seed));
        all
    }

    /// A scenario with every checker, no faults and no expectations (for library users
    /// and tests; files go through the loader).
    pub fn new(
        name: &str,
        model: Model,
        clients: ClientsSpec,
        seed: u64,
        duration: SimDuration,
    ) -> Self {
        Scenario {
            name: name.into(),
            path: format!("{name}.ron"),
            model,
            seed,
            seeds: 1,
            duration,
            clients,
            cli_overrides: Vec::new(),
            overrides: Vec::new(),
            faults: Vec::new(),
            swarm: Vec::new(),
            checks: CheckSpec::ALL.to_vec(),
            expect: Vec::new(),
            objectives: Vec::new(),
            timeline: false,
            timeline_interval: TIMELINE_INTERVAL,
            limits: Limits::default(),
        }
    }
}

impl ClientsSpec {
    /// `count` clients on their own keys running `workflow`, thinking `think` between
    /// rounds, with no timeout, retries, idempotency keys, tokens or clock error.
    pub fn new(count: u32, think: Dist, workflow: Vec<Step>) -> Self {
        ClientsSpec {
            count,
            key: KeyChoice::Own,
            think,
            timeout: None,
            workflow,
            retry: None,
            breaker: None,
            hedge: None,
            deadlines: false,
            idempotency_key: false,
            session_tokens: false,
            clock: ClockSpec::default(),
            orgs: None,
            auth: None,
            populations: vec![Population::all(count)],
        }
    }

    /// The population client `index` belongs to.
    pub fn population_of(&self, index: u32) -> &Population {
        let after = self.populations.partition_point(|p| p.first <= index);
        &self.populations[after.saturating_sub(1)]
    }

    /// The workflow population `p` runs.
    pub fn workflow_of<'a>(&'a self, p: &'a Population) -> &'a [Step] {
        p.workflow.as_deref().unwrap_or(&self.workflow)
    }

    /// The organisation of each key. Keys are dealt out in order by the Zipf shares,
    /// each key going to the organisation whose share of the key range its middle falls
    /// in: the biggest organisation owns the first keys. No randomness, so every run
    /// and seed has the same organisations.
    pub fn key_orgs(&self) -> Vec<u32> {
        let keys = self.key_count();
        let Some(orgs) = self.orgs else { return vec![0; keys as usize] };
        let weights: Vec<f64> =
            (0..orgs.count).map(|i| 1.0 / libm::pow(f64::from(i + 1), orgs.skew)).collect();
        let total: f64 = weights.iter().sum();
        let mut bounds = Vec::with_capacity(weights.len());
        let mut acc = 0.0;
        for w in &weights {
            acc += w / total;
            bounds.push(acc);
        }
        (0..keys)
            .map(|k| {
                let middle = (f64::from(k) + 0.5) / f64::from(keys);
                let org = bounds.iter().position(|&b| middle < b);
                org.unwrap_or(bounds.len().saturating_sub(1)) as u32
            })
            .collect()
    }

    /// Number of distinct keys the workload touches: keys are numbered within each
    /// population, so populations share keys (client `i` of each works on the same one
    /// with `key: own`).
    pub fn key_count(&self) -> u32 {
        let keys = |count: u32| match self.key {
            KeyChoice::Own => count,
            KeyChoice::Shared => 1,
            KeyChoice::Tabs(n) => count.div_ceil(n.max(1)),
        };
        self.populations.iter().map(|p| keys(p.count)).max().unwrap_or(0)
    }

    /// The key client `index` (among all clients) works on.
    pub fn key_of(&self, index: u32) -> u32 {
        let within = index - self.population_of(index).first;
        match self.key {
            KeyChoice::Own => within,
            KeyChoice::Shared => 0,
            KeyChoice::Tabs(n) => within / n.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editors(keys: u32, orgs: Option<OrgSpec>) -> ClientsSpec {
        let mut c = ClientsSpec::new(keys, Dist::constant(1), vec![Step::Edit]);
        c.orgs = orgs;
        c
    }

    #[test]
    fn a_growing_backoff_doubles_up_to_its_cap_and_jitter_draws_below_it() {
        const MS: u64 = 1_000_000;
        let mut r = RetrySpec::plain(10, Dist::constant(100 * MS));
        assert_eq!(r.wait(2, 100 * MS, 0.5), 100 * MS, "no growth, no jitter");
        (r.multiplier, r.cap) = (2.0, Some(SimDuration::from_millis(500)));
        let waits: Vec<u64> = (2..=6).map(|k| r.wait(k, 100 * MS, 0.5) / MS).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        r.jitter = Jitter::Full;
        assert_eq!((r.wait(4, 100 * MS, 0.0), r.wait(4, 100 * MS, 0.25)), (0, 100 * MS));
        r.jitter = Jitter::Equal;
        assert_eq!((r.wait(4, 100 * MS, 0.0), r.wait(4, 100 * MS, 0.5)), (200 * MS, 300 * MS));
    }

    #[test]
    fn organisations_own_keys_in_proportion_to_their_zipf_weight() {
        let keys = editors(1000, Some(OrgSpec { count: 10, skew: 1.0 })).key_orgs();
        let owned = |org| keys.iter().filter(|&&o| o == org).count() as f64;
        let harmonic: f64 = (1..=10).map(|i| 1.0 / f64::from(i)).sum();
        for org in 0..10 {
            let share = 1000.0 / (f64::from(org + 1) * harmonic);
            assert!((owned(org) - share).abs() <= 1.0, "org {org}: {} vs {share}", owned(org));
        }
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "the biggest owns the first keys");
        let flat = editors(1000, Some(OrgSpec { count: 10, skew: 0.0 })).key_orgs();
        assert!((0..10).all(|o| flat.iter().filter(|&&x| x == o).count() == 100));
        assert!(editors(7, None).key_orgs().iter().all(|&o| o == 0));
    }
}
