//! One seeded run of a scenario: build the world, run it to the scenario's duration,
//! and hand back the history and engine figures. Deterministic: the outcome depends
//! only on the scenario (with overrides) and the seed.

pub mod execute;
pub mod objectives;

pub use execute::{RunError, RunOutcome, execute, execute_traced, run_world};
