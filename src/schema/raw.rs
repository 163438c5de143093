//! The file formats as serde structs: exactly what a model or scenario file may say.
//!
//! Every struct denies unknown fields so a typo is an error, not a silently ignored
//! setting. Durations are human strings; distributions are written like function calls
//! (`exp("2s")`, `uniform("0s", "5s")`, `lognormal(median: "10ms", p99: "80ms")`).
//! Struct names below are what error messages show, so they are named as users write them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

pub use crate::components::kinds::RawComponent;
pub use crate::model::shape::{Dur, RawCapacity, RawDist};

/// `Model(...)`: an architecture file.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Model")]
pub struct RawModel {
    /// Human name.
    #[serde(default)]
    pub name: Option<String>,
    /// Components by name.
    pub components: BTreeMap<String, RawComponent>,
    /// Links between components; `"client"` stands for the client population.
    #[serde(default)]
    pub links: Vec<RawLink>,
    /// Regions by name, each with the components that sit in it:
    /// `{"us": ["lb_us", "api_us"], "eu": ["lb_eu", "api_eu"]}`.
    #[serde(default)]
    pub regions: BTreeMap<String, Vec<String>>,
    /// One-way latency between each pair of regions: `[("us", "eu", const("40ms"))]`.
    #[serde(default)]
    pub region_latency: Vec<(String, String, RawDist)>,
}

/// `(from: "client", to: "lb", latency: exp("1ms"), loss: 0.0)`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "link")]
pub struct RawLink {
    /// Initiator: a component name, or `"client"`.
    pub from: String,
    /// Acceptor: a component name.
    pub to: String,
    /// One-way latency.
    pub latency: RawDist,
    /// Probability that a message is lost.
    #[serde(default)]
    pub loss: f64,
}

/// `Scenario(...)`: an experiment file.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    /// Human name.
    #[serde(default)]
    pub name: Option<String>,
    /// Path of the model file, relative to this file.
    pub model: String,
    /// Overrides by dotted path; values are RON of the overridden field's type.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    #[serde(skip_serializing)]
    pub set: BTreeMap<String, IgnoredAny>,
    /// Seed of every random stream.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How many seeds `run` and `diff` judge the expectations over, from `seed` on.
    #[serde(default)]
    pub seeds: Option<u64>,
    /// Simulated time to run.
    pub duration: Dur,
    /// The clients (absent: none, when the model's load comes from its producers).
    #[serde(default)]
    pub clients: RawClients,
    /// Faults to inject.
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// Faults each seed may draw: which of them, when and how strong.
    #[serde(default)]
    pub swarm: Vec<RawSwarmFault>,
    /// Checkers to run (all when absent).
    #[serde(default)]
    pub check: Option<Vec<RawCheck>>,
    /// Bound for `bounded_staleness`.
    #[serde(default)]
    pub staleness_bound: Option<Dur>,
    /// Bound for `propagation`.
    #[serde(default)]
    pub propagation_bound: Option<Dur>,
    /// How long after a user's access is revoked `authorization` still accepts answers.
    #[serde(default)]
    pub revocation_bound: Option<Dur>,
    /// How long `cache_coherence` lets a cached value be older than its store's.
    #[serde(default)]
    pub coherence_bound: Option<Dur>,
    /// Events are delivered at least once: `delivery` and `processing` count duplicates
    /// but allow them.
    #[serde(default)]
    pub at_least_once: bool,
    /// How long after its append `processing` lets a message wait to be processed.
    #[serde(default)]
    pub processing_bound: Option<Dur>,
    /// Expected verdicts by checker name.
    #[serde(default)]
    pub expect: BTreeMap<RawCheck, RawExpect>,
    /// Figures the run must meet: `[goodput(after: "40s", at_least: 0.9)]`.
    #[serde(default)]
    pub objectives: Vec<RawObjective>,
    /// The JSON summary carries the run per second (offered load, goodput, latency).
    #[serde(default)]
    pub timeline: bool,
    /// The timeline's interval (default "1s").
    #[serde(default)]
    pub timeline_interval: Option<Dur>,
    /// The grid `archsim sweep` runs (ignored by `archsim run`).
    #[serde(default)]
    pub sweep: Option<RawSweep>,
}

/// `sweep: (grid: [...], variants: [...], seeds: 5, metrics: [...])`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "sweep")]
pub struct RawSweep {
    /// Axes of the grid (every combination runs); the first is the charts' x axis.
    pub grid: Vec<RawAxis>,
    /// Variants run at every point (one line each in the charts); none: the scenario.
    #[serde(default)]
    pub variants: Vec<RawVariant>,
    /// Runs per point and variant, each with its own seed.
    #[serde(default = "one_seed")]
    pub seeds: u32,
    /// Figures collected from every run.
    pub metrics: Vec<RawMetric>,
    /// Distributions kept from the runs at some values of the first axis and drawn as
    /// CDFs or histograms.
    #[serde(default)]
    pub distributions: Vec<RawDistribution>,
}

fn one_seed() -> u32 {
    1
}

/// One axis: a parameter and the values it takes.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "axis")]
pub struct RawAxis {
    /// The dotted path of the parameter (as `--set` takes it).
    pub param: String,
    /// The values.
    pub values: RawValues,
    /// How a value becomes the parameter's RON text: `{}` stands for the number
    /// (`"exp(\"{}s\")"`); the number itself when absent.
    #[serde(default)]
    pub format: Option<String>,
    /// Axis title in charts (the path when absent).
    #[serde(default)]
    pub label: Option<String>,
}

/// The values of an axis.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", rename = "values")]
pub enum RawValues {
    /// `list([0.5, 1, 2])`.
    List(Vec<f64>),
    /// `linear(from: 0, to: 5, steps: 11)`: evenly spaced, both ends included.
    Linear {
        /// First value.
        from: f64,
        /// Last value.
        to: f64,
        /// Number of values.
        steps: u32,
    },
    /// `log(from: 0.01, to: 10, steps: 7)`: evenly spaced in log scale, not rounded (a
    /// duration axis in ms needs `list([...])` of whole values: `"316.2277ms"` is refused).
    Log {
        /// First value (above 0).
        from: f64,
        /// Last value (above 0).
        to: f64,
        /// Number of values.
        steps: u32,
    },
}

/// A variant: a name and the overrides that make it.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "variant")]
pub struct RawVariant {
    /// Legend text.
    pub name: String,
    /// Overrides as `--set` takes them: `["clients.session_tokens=true"]`.
    #[serde(default)]
    pub set: Vec<String>,
}

/// A metric: a figure of the run's JSON summary, optionally divided by another.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "metric")]
pub struct RawMetric {
    /// Column and chart title.
    pub name: String,
    /// Dotted path in the summary JSON: `checks.lost_acknowledged_write.violations`.
    pub of: String,
    /// Divided by this figure (a path too), when given.
    #[serde(default)]
    pub per: Option<String>,
    /// Then multiplied by this (1000 for "per 1 000", 100 for a percentage).
    #[serde(default = "unit_scale")]
    pub scale: f64,
    /// The value when a run's summary lacks the figure `of` (an operation row that
    /// never happened is left out): `absent: 0`. Without it, such a run is left out.
    #[serde(default)]
    pub absent: Option<f64>,
}

/// `(name: "read latency", of: "latency.read", chart: cdf, at: [0, 5])`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "distribution")]
#[schemars(rename = "sweep_distribution")]
pub struct RawDistribution {
    /// Chart title.
    pub name: String,
    /// Which distribution: `latency.<operation>`, `staleness`, `replication_lag`, ...
    pub of: String,
    /// `cdf` or `histogram`.
    pub chart: crate::model::sweep::DistributionChart,
    /// Values of the first axis to draw it at (default: its first, middle and last).
    #[serde(default)]
    pub at: Option<Vec<f64>>,
}

fn unit_scale() -> f64 {
    1.0
}

/// Checker names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "check")]
pub enum RawCheck {
    /// An acknowledged write missing from the final state.
    LostAcknowledgedWrite,
    /// A read lacking the reader's own last write.
    ReadYourWrites,
    /// A read older than an earlier read.
    MonotonicReads,
    /// A write not descending from the session's previous write.
    MonotonicWrites,
    /// A write not descending from the session's last read.
    WritesFollowReads,
    /// Replicas that differ after quiescence.
    Convergence,
    /// One message applied twice.
    Duplicates,
    /// How far behind reads are.
    BoundedStaleness,
    /// A persisted response its client never saw whole.
    StreamCompleteness,
    /// How long edits take to reach the other editors.
    Propagation,
    /// Reconnects that lose the editor's login session.
    SessionContinuity,
    /// Answers served to someone not allowed to see them.
    Authorization,
    /// Writes acknowledged by a primary whose term was over.
    SplitBrain,
    /// Cached values older than the store's for longer than a bound.
    CacheCoherence,
    /// Published changes that never reach a subscriber, or reach it twice.
    Delivery,
    /// An acknowledged message missing from its partition's log at the end.
    LostAcknowledgedMessage,
    /// A producer's messages in a partition out of the order it sent them.
    PartitionOrder,
    /// A log message a consumer group never processed, or processed twice.
    Processing,
    /// Figures the scenario's `objectives` bound.
    Objectives,
}

/// An objective: a figure of the run and the bound it must meet.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "objective")]
pub enum RawObjective {
    /// `goodput(after: "40s", at_least: 0.9)`: successes over first attempts offered.
    Goodput {
        /// Start of the window (the start of the run when absent).
        #[serde(default)]
        after: Option<Dur>,
        /// The share.
        at_least: f64,
    },
    /// `p99(operation: "read", below: "200ms")`.
    P99 {
        /// The operation's report row.
        operation: String,
        /// The bound.
        below: Dur,
    },
    /// `utilisation(component: "api", below: 0.8)`.
    Utilisation {
        /// The component (with `capacity`).
        component: String,
        /// The share.
        below: f64,
    },
    /// `stale_share(below: 0.01)`.
    StaleShare {
        /// The share.
        below: f64,
    },
}

/// An expected verdict.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "verdict")]
pub enum RawExpect {
    /// No violation.
    Holds,
    /// At least one violation.
    Violated,
    /// `count(1, 100)`: this many violations, inclusive.
    Count(u64, u64),
}

/// A fault of the swarm: `(chance: 0.5, from: crash(...), to: crash(...))`. Each seed
/// draws whether it strikes, and every timing and strength between `from` and `to`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "swarm_fault")]
pub struct RawSwarmFault {
    /// Chance that a seed's mix has this fault.
    #[serde(default = "one")]
    pub chance: f64,
    /// The fault at the low end of every range.
    pub from: RawFault,
    /// The fault at the high end (the same as `from` when absent).
    #[serde(default)]
    pub to: Option<RawFault>,
}

/// A fault.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[serde(rename = "fault")]
pub enum RawFault {
    /// `crash(target: "db", at: "2m", restart_after: "10s")`.
    Crash {
        /// The store.
        target: String,
        /// `replica: 0`: crash this replica of the store, not its primary.
        #[serde(default)]
        replica: Option<u32>,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Downtime.
        #[serde(default)]
        restart_after: Option<Dur>,
    },
    /// `failover(target: "db", at: "2m", promote: freshest)`.
    Failover {
        /// The store.
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// `freshest`, `random` or `replica(1)`.
        #[serde(default)]
        promote: RawPromote,
    },
    /// `partition(from: "lb", to: "db", at: "1m", heal_after: "30s")`.
    Partition {
        /// Initiator side.
        from: String,
        /// Acceptor side.
        to: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Time until healed.
        #[serde(default)]
        heal_after: Option<Dur>,
    },
    /// `isolate(target: "db", at: "1m", heal_after: "30s")`.
    Isolate {
        /// The store.
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Time until the primary reaches its replicas again.
        #[serde(default)]
        heal_after: Option<Dur>,
    },
    /// `pause(target: "api", at: "1m", for: "2s")`: a stop-the-world pause.
    Pause {
        /// A component, or one instance of it (`"api/1"`).
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// How long.
        #[serde(rename = "for")]
        lasting: Dur,
    },
    /// `packet_loss(from: "lb", to: "api", at: "1m", share: 0.3, for: "20s")`.
    PacketLoss {
        /// Initiator side.
        from: String,
        /// Acceptor side.
        to: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Share of messages lost each way.
        share: f64,
        /// How long.
        #[serde(rename = "for")]
        lasting: Dur,
    },
    /// `slowdown(target: "api", at: "1m", factor: 3.0, for: "10s")`.
    Slowdown {
        /// A component with `capacity`.
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Service time multiplier.
        factor: f64,
        /// How long.
        #[serde(rename = "for")]
        lasting: Dur,
    },
    /// `lag_spike(target: "db", at: "1m", factor: 10.0, for: "20s")`.
    LagSpike {
        /// The store.
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Lag multiplier.
        factor: f64,
        /// How long.
        #[serde(rename = "for")]
        lasting: Dur,
    },
    /// `clock_jump(target: "client", at: "1m", by: "-5s")`.
    ClockJump {
        /// A store, or `client` for every client.
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// The jump, signed: `"-5s"`.
        by: String,
    },
    /// `clock_drift(target: "client/3", at: "0s", ppm: 200)`: a client's clock runs fast
    /// (or slow, below 0) from then on.
    ClockDrift {
        /// `client` for every client, or `client/N` for one.
        target: String,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// Parts per million, signed.
        ppm: f64,
    },
    /// `disconnect_mid_stream(chance: 0.2, within: "4s", for: "10s")`.
    DisconnectMidStream {
        /// Chance per stream.
        chance: f64,
        /// From this time on (the start when absent).
        #[serde(default)]
        at: Option<Dur>,
        /// The disconnect strikes within this long of the stream's start.
        #[serde(default)]
        within: Option<Dur>,
        /// How long.
        #[serde(rename = "for")]
        lasting: Dur,
    },
    /// `revoke(share: 0.1, at: "2m")`.
    Revoke {
        /// Share of clients hit.
        #[serde(default = "one")]
        share: f64,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
    },
    /// `steal_tokens(share: 0.05, at: "1m")`.
    StealTokens {
        /// Share of clients hit.
        #[serde(default = "one")]
        share: f64,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
    },
    /// `disconnect(share: 0.1, at: "1m", for: "20s")`.
    Disconnect {
        /// Share of clients hit.
        #[serde(default = "one")]
        share: f64,
        /// Once at this time.
        #[serde(default)]
        at: Option<Dur>,
        /// Or at this rate.
        #[serde(default)]
        rate: Option<String>,
        /// How long.
        #[serde(rename = "for")]
        lasting: Dur,
    },
}

fn one() -> f64 {
    1.0
}

/// Which replica a failover promotes.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "promote")]
pub enum RawPromote {
    /// The one that applied the most.
    #[default]
    Freshest,
    /// One at random.
    Random,
    /// `replica(1)`.
    Replica(u32),
}

fn default_seed() -> u64 {
    1
}

/// The client population.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "clients")]
pub struct RawClients {
    /// Number of clients (without `populations`).
    #[serde(default)]
    pub count: Option<u32>,
    /// The region the clients sit in (without `populations`).
    #[serde(default)]
    pub region: Option<String>,
    /// The component the clients enter at, when the model has several client links
    /// (without `populations`).
    #[serde(default)]
    pub entry: Option<String>,
    /// Open arrivals for the one population of `count`: users who arrive at a rate
    /// rather than `count` clients looping (without `populations`).
    #[serde(default)]
    pub arrivals: Option<RawArrivals>,
    /// Groups of clients, each with its own count, region, entry, workflow and
    /// arrivals; the other settings here apply to all of them.
    #[serde(default)]
    pub populations: BTreeMap<String, RawPopulation>,
    /// `own` (client i uses key i) or `shared` (all use key 0).
    #[serde(default)]
    pub key: RawKey,
    /// Pause between rounds of the workflow.
    #[serde(default)]
    pub think: Option<RawDist>,
    /// Give up on a request after this long.
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Steps of one round (every population's that brings none of its own).
    #[serde(default)]
    pub workflow: Vec<RawStep>,
    /// `retry: (attempts: 3, backoff: exp("200ms"))`.
    #[serde(default)]
    pub retry: Option<RawRetry>,
    /// `breaker: (threshold: 0.5, window: 10, open_for: "5s")`: each client's circuit
    /// breaker.
    #[serde(default)]
    pub breaker: Option<RawBreaker>,
    /// `hedge: "50ms"`: send a second copy of a read unanswered after this long.
    #[serde(default)]
    pub hedge: Option<Dur>,
    /// `deadlines: true`: requests carry the client's timeout as a deadline.
    #[serde(default)]
    pub deadlines: bool,
    /// Writes carry an idempotency key.
    #[serde(default)]
    pub idempotency_key: bool,
    /// Reads carry the session's token.
    #[serde(default)]
    pub session_tokens: bool,
    /// `clock: (skew: "2s", drift_ppm: 50)`.
    #[serde(default)]
    pub clock: Option<RawClock>,
    /// `(count: 50, skew: 1.1)`: documents belong to organisations of Zipf sizes.
    #[serde(default)]
    pub orgs: Option<RawOrgs>,
    /// `(token_ttl: "24h", storage: local_storage)`: access tokens.
    #[serde(default)]
    pub auth: Option<RawAuth>,
}

/// `(count: 500, region: "eu", entry: "db", workflow: [write])`: one population.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "population")]
pub struct RawPopulation {
    /// Number of clients.
    pub count: u32,
    /// The region its clients sit in.
    #[serde(default)]
    pub region: Option<String>,
    /// The component its clients enter at (needed when the model has several client
    /// links).
    #[serde(default)]
    pub entry: Option<String>,
    /// Its own workflow (default: the clients' `workflow`).
    #[serde(default)]
    pub workflow: Option<Vec<RawStep>>,
    /// Open arrivals: `poisson("800/s")`, `steps([...])`, `ramp(...)`, `sine(...)`,
    /// `bursts(...)`.
    #[serde(default)]
    pub arrivals: Option<RawArrivals>,
}

/// How the users of an open population arrive.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "arrivals")]
pub enum RawArrivals {
    /// `poisson("800/s")`: at a constant rate.
    Poisson(String),
    /// `steps([("0s", "200/s"), ("30s", "900/s")])`: from each time on, its rate.
    Steps(Vec<(Dur, String)>),
    /// `ramp(from: "100/s", to: "1000/s", over: "60s")`.
    Ramp {
        /// Rate at the start.
        from: String,
        /// Rate at the end and after.
        to: String,
        /// How long.
        over: Dur,
    },
    /// `sine(mean: "500/s", amplitude: "300/s", period: "24h")`.
    Sine {
        /// Mean rate.
        mean: String,
        /// Swing either side.
        amplitude: String,
        /// One cycle.
        period: Dur,
    },
    /// `bursts(base: "100/s", peak: "2000/s", every: "60s", for: "5s")`.
    Bursts {
        /// Rate between bursts.
        base: String,
        /// Rate within one.
        peak: String,
        /// From one burst to the next.
        every: Dur,
        /// How long a burst lasts.
        #[serde(rename = "for")]
        lasting: Dur,
    },
}

/// Access tokens.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "auth")]
pub struct RawAuth {
    /// How long a token is valid.
    pub token_ttl: Dur,
    /// `local_storage` (the default) or `http_only_cookie`.
    #[serde(default)]
    pub storage: RawTokenStorage,
}

/// Where the browser keeps its token.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "storage")]
pub enum RawTokenStorage {
    /// Readable by any script in the page.
    #[default]
    LocalStorage,
    /// Out of scripts' reach.
    HttpOnlyCookie,
}

/// Organisations owning the documents.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "orgs")]
pub struct RawOrgs {
    /// How many.
    pub count: u32,
    /// Zipf exponent of their sizes: 0 all equal, 1 the classic, above 1 steeper.
    #[serde(default)]
    pub skew: f64,
}

/// Retry policy.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "retry")]
pub struct RawRetry {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Wait before each retry (before the first, when it grows).
    pub backoff: RawDist,
    /// Each retry waits this many times longer than the one before (exponential backoff).
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// Longest wait a growing backoff reaches.
    #[serde(default)]
    pub cap: Option<Dur>,
    /// How the wait is randomised: `none`, `full` or `equal`.
    #[serde(default)]
    pub jitter: RawJitter,
    /// A retry budget: `(tokens: 10, per_success: 0.1)`.
    #[serde(default)]
    pub budget: Option<RawRetryBudget>,
}

/// A client's circuit breaker.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "breaker")]
pub struct RawBreaker {
    /// Share of failed tries among the last `window` that opens it, in (0, 1].
    pub threshold: f64,
    /// How many of the latest tries it judges (1 to 32).
    pub window: u32,
    /// How long it stays open before letting one try through.
    pub open_for: Dur,
}

/// Jitter on a retry's wait `w`.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "jitter")]
pub enum RawJitter {
    /// Wait `w`.
    #[default]
    None,
    /// Wait uniformly in `[0, w]`.
    Full,
    /// Wait `w/2` plus uniformly in `[0, w/2]`.
    Equal,
}

/// Each client's retry budget, a token bucket as gRPC's retry throttling keeps per
/// channel: it starts full; a failed attempt takes a token, a success gives back
/// `per_success`; a client retries only while more than half its tokens are left.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "budget")]
pub struct RawRetryBudget {
    /// The bucket's size.
    pub tokens: f64,
    /// Tokens a success gives back.
    pub per_success: f64,
}

/// Client clock error.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename = "clock")]
pub struct RawClock {
    /// Offsets uniform in [-skew, +skew].
    #[serde(default)]
    pub skew: Option<Dur>,
    /// Drift uniform in [-drift_ppm, +drift_ppm] parts per million.
    #[serde(default)]
    pub drift_ppm: f64,
}

/// Key choice.
#[derive(Debug, Clone, Copy, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "key")]
pub enum RawKey {
    /// Client i uses key i.
    #[default]
    Own,
    /// Every client uses key 0.
    Shared,
    /// `tabs(2)`: clients in groups of two share a key (one user, two tabs).
    Tabs(u32),
    /// `editors(5)`: clients in groups of five share a key (five people editing one
    /// document).
    Editors(u32),
}

/// A workflow step.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "step")]
pub enum RawStep {
    /// Write a new version.
    Write,
    /// Read the current version.
    Read,
    /// `sleep(uniform("0s", "5s"))`.
    Sleep(RawDist),
    /// Read what the UI shows.
    Refresh,
    /// Fetch the caller's document list (`GET /api/documents`).
    List,
    /// Send the last message again if the last read lacks it.
    ResubmitIfMissing,
    /// Continue in a new session.
    OpenTab,
    /// Create the conversation (the first time only).
    Create,
    /// Send a message and receive its streamed response.
    Complete,
    /// Send a message, then reload before its response streams.
    Submit,
    /// After a broken stream, poll `/stream_status` and fetch the conversation.
    Recover,
    /// Ask for a title (`202 Accepted`).
    Title,
    /// Send a change over the editor's WebSocket.
    Edit,
    /// `repeat(3, [write, read])`.
    Repeat(u32, Vec<RawStep>),
    /// `maybe(0.3, [refresh, resubmit_if_missing])`.
    Maybe(f64, Vec<RawStep>),
}
