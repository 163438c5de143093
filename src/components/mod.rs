//! Components: the actors an architecture is made of, and the world that holds them.
//!
//! Built-in components are variants of `BuiltIn` and are dispatched with a `match`; a
//! library user adds a component by implementing the `Component` trait and registering
//! a factory in a `Registry` (it then runs inside `BuiltIn::Custom`). Components talk
//! only through `Msg` values scheduled on the engine, and touch only their own state plus
//! what `Env` hands them: their random stream, the topology and the history.

pub mod app_cache;
pub mod app_server;
pub mod arrival_source;
pub mod async_jobs;
pub mod attacker;
pub mod capacity;
pub mod cdn;
pub mod change_capture;
pub mod circuit_breaker;
pub mod client;
pub mod consumer;
pub mod consumer_group;
pub mod env;
pub mod failure_detector;
pub mod fault_driver;
pub mod kind;
pub mod kinds;
pub mod load_balancer;
pub mod log;
pub mod message;
pub mod multi_leader_store;
pub mod outbox_relay;
pub mod pool;
pub mod producer;
pub mod pubsub;
pub mod purposes;
pub mod queue;
pub mod queue_workers;
pub mod quorum_store;
pub mod rate_limiter;
pub mod registry;
pub mod sentinel;
pub mod service;
pub mod session_cache;
pub mod store;
pub mod stream_server;
pub mod stream_status;
#[cfg(test)]
pub mod testing;
pub mod topic;
pub mod workflow;
pub mod world;

pub use app_server::AppServer;
pub use async_jobs::AsyncJobs;
pub use attacker::Attacker;
pub use capacity::{Capacity, Load};
pub use cdn::Cdn;
pub use client::Client;
pub use env::Env;
pub use fault_driver::FaultDriver;
pub use kinds::BuiltIn;
pub use load_balancer::LoadBalancer;
pub use message::{Fault, Msg, Reply, Request, Status};
pub use pubsub::PubSub;
pub use registry::{CustomSpec, Factory, Registry, Wiring};
pub use sentinel::{GateCounts, Sentinel};
pub use session_cache::SessionCache;
pub use store::Store;
pub use stream_server::StreamServer;
pub use world::World;

/// An actor in the simulated architecture.
///
/// `on_message` is called for every event addressed to the component, at `env.now()`.
/// Implementations must be deterministic: all randomness comes from `env.rng()`, and no
/// iteration over hash maps may influence what is scheduled.
pub trait Component {
    /// Schedules the component's first events; called once before the run starts.
    fn start(&mut self, _env: &mut Env<'_>) {}
    /// Handles one message.
    fn on_message(&mut self, msg: Msg, env: &mut Env<'_>);
    /// A store's tables at the end of the run (`id` is its component id), so the
    /// checkers can see its final versions; `None` for components that hold no data.
    fn end_state(&self, _id: u32) -> Option<crate::check::StoreEnd> {
        None
    }
    /// Reports every version it holds or may still hand on (its tables, snapshots,
    /// requests it keeps, what its clients last saw) to `held`, and returns true; a
    /// kind that cannot say returns false. What no holder reports can never be asked
    /// about again, which is what lets a run forget it.
    fn versions_held(&self, _held: &mut dyn FnMut(crate::check::VersionId)) -> bool {
        false
    }
    /// Whether it answers a health probe (a crashed component answers nothing).
    fn is_up(&self) -> bool {
        true
    }
    /// What it counted of its own work, for the summary (empty: it shows nothing).
    fn counts(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
    /// What its queues did up to `now`, each under a suffix of its name (`""` for the
    /// component itself, `" replicas"` for a store's replicas), for the summary.
    fn loads(&self, _now: crate::engine::SimTime) -> Vec<(String, Load)> {
        Vec::new()
    }
}
