//! The file formats as serde structs: exactly what a model or scenario file may say.
//!
//! Every struct denies unknown fields so a typo is an error, not a silently ignored
//! setting. Durations are human strings; distributions are written like function calls
//! (`exp("2s")`, `uniform("0s", "5s")`, `lognormal(median: "10ms", p99: "80ms")`).
//! Struct names below are what error messages show, so they are named as users write them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::engine::SimDuration;

/// A duration written as a string with a unit: `"150ms"`, `"2s"`, `"1.5s"`, `"5m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub SimDuration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SimDuration::parse(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// A distribution of durations, as written in files.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename = "distribution")]
pub enum RawDist {
    /// `const("5ms")` (or `constant("5ms")`).
    #[serde(rename = "const", alias = "constant")]
    Const(Dur),
    /// `uniform("0s", "5s")`.
    #[serde(rename = "uniform")]
    Uniform(Dur, Dur),
    /// `exp("2s")`: exponential with this mean.
    #[serde(rename = "exp")]
    Exp(Dur),
    /// `normal(mean: "10ms", sd: "2ms")`, truncated at 0.
    #[serde(rename = "normal")]
    Normal {
        /// Mean.
        mean: Dur,
        /// Standard deviation.
        sd: Dur,
    },
    /// `lognormal(median: "10ms", p99: "80ms")`.
    #[serde(rename = "lognormal")]
    LogNormal {
        /// Median (50th percentile).
        median: Dur,
        /// 99th percentile.
        p99: Dur,
    },
    /// `pareto(scale: "1ms", shape: 1.5)`: minimum `scale`, tail index `shape`.
    #[serde(rename = "pareto")]
    Pareto {
        /// The minimum value.
        scale: Dur,
        /// Tail index; smaller is heavier.
        shape: f64,
    },
    /// `empirical([(0, "1ms"), (50, "4ms"), (99, "30ms"), (100, "90ms")])`: a percentile
    /// table, interpolated linearly.
    #[serde(rename = "empirical")]
    Empirical(Vec<(f64, Dur)>),
}

/// `Model(...)`: an architecture file.
#[derive(Debug, Clone, Deserialize)]
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
}

/// A component declaration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename = "component")]
pub enum RawComponent {
    /// `LoadBalancer(policy: round_robin)`.
    LoadBalancer(RawLoadBalancer),
    /// `Store(replicas: 2, replication: (lag: exp("2s")), reads: any_replica)`.
    Store(RawStore),
    /// `Custom(kind: "my_cache", params: {"ttl": "5m"})`.
    Custom(RawCustom),
}

/// Load balancer parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct RawLoadBalancer {
    /// How to pick a downstream.
    #[serde(default)]
    pub policy: RawPolicy,
}

/// Load balancer policies.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "policy")]
pub enum RawPolicy {
    /// Each downstream in turn.
    #[default]
    RoundRobin,
}

/// Store parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Store")]
pub struct RawStore {
    /// Number of read replicas.
    #[serde(default)]
    pub replicas: u32,
    /// Replication settings.
    #[serde(default)]
    pub replication: RawReplication,
    /// Where reads are served: `primary` or `any_replica`.
    #[serde(default)]
    pub reads: RawReads,
}

/// Replication settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "replication")]
pub struct RawReplication {
    /// Delay from the primary's write to its arrival at a replica.
    pub lag: RawDist,
}

impl Default for RawReplication {
    fn default() -> Self {
        RawReplication { lag: RawDist::Const(Dur(SimDuration::ZERO)) }
    }
}

/// Read consistency settings.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "reads")]
pub enum RawReads {
    /// Read from the primary.
    #[default]
    Primary,
    /// Read from a random replica.
    AnyReplica,
}

/// A user-defined component.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Custom")]
pub struct RawCustom {
    /// The registered kind.
    pub kind: String,
    /// Free-form parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// `(from: "client", to: "lb", latency: exp("1ms"), loss: 0.0)`.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct RawScenario {
    /// Human name.
    #[serde(default)]
    pub name: Option<String>,
    /// Path of the model file, relative to this file.
    pub model: String,
    /// Overrides by dotted path; values are RON of the overridden field's type.
    #[serde(default)]
    pub set: BTreeMap<String, IgnoredAny>,
    /// Seed of every random stream.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time to run.
    pub duration: Dur,
    /// The client population.
    pub clients: RawClients,
}

fn default_seed() -> u64 {
    1
}

/// The client population.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "clients")]
pub struct RawClients {
    /// Number of clients.
    pub count: u32,
    /// `own` (client i uses key i) or `shared` (all use key 0).
    #[serde(default)]
    pub key: RawKey,
    /// Pause between rounds of the workflow.
    #[serde(default)]
    pub think: Option<RawDist>,
    /// Give up on a request after this long.
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Steps of one round.
    pub workflow: Vec<RawStep>,
}

/// Key choice.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "key")]
pub enum RawKey {
    /// Client i uses key i.
    #[default]
    Own,
    /// Every client uses key 0.
    Shared,
}

/// A workflow step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
#[serde(rename = "step")]
pub enum RawStep {
    /// Write a new version.
    Write,
    /// Read the current version.
    Read,
    /// `sleep(uniform("0s", "5s"))`.
    Sleep(RawDist),
}
