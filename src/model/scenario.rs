//! A scenario: an architecture, a client workload, a seed and a duration.

use super::architecture::Model;
use crate::engine::{Dist, SimDuration};

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
    /// Simulated time to run.
    pub duration: SimDuration,
    /// The client population.
    pub clients: ClientsSpec,
    /// Command-line overrides applied (`PATH=VALUE`), for the replay line.
    pub cli_overrides: Vec<String>,
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
}

/// Which key a client's reads and writes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice {
    /// Client `i` uses key `i`.
    Own,
    /// Every client uses key 0.
    Shared,
}

/// One step of a client workflow.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write a new version of the key and wait for the acknowledgement.
    Write,
    /// Read the key and wait for the answer.
    Read,
    /// Wait for a drawn duration.
    Sleep(Dist),
}

impl ClientsSpec {
    /// Number of distinct keys the workload touches.
    pub fn key_count(&self) -> u32 {
        match self.key {
            KeyChoice::Own => self.count,
            KeyChoice::Shared => 1,
        }
    }
}
