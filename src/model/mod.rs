//! The validated model: architectures and scenarios as typed data.
//!
//! `schema` turns RON files into these types (and is the only place that knows about
//! files); `components` turns them into a runnable world. Every value here has already
//! been checked: names resolve, probabilities are in range, distributions are sound.

pub mod architecture;
pub mod arrivals;
pub mod contract;
pub mod judgement;
pub mod objectives;
pub mod regions;
pub mod scenario;
pub mod shape;
pub mod swarm;
pub mod sweep;

pub use architecture::{CLIENTS, CapacitySpec, ComponentSpec, Endpoint, LinkSpec, Model};
pub use contract::{Contract, KindSpec};
pub use judgement::{CheckSpec, Verdict};
pub use objectives::Objective;
pub use regions::Regions;
pub use scenario::{
    AuthSpec, BreakerSpec, ClientsSpec, ClockSpec, Expectation, FaultAction, FaultSpec, FaultTime,
    Jitter, KeyChoice, OrgSpec, Population, Promote, RetryBudget, RetrySpec, Scenario, Step,
    TokenStorage,
};
