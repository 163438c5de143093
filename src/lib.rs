//! archsim: a deterministic simulator of distributed architectures with data semantics.
//!
//! Modules in reading order: the `engine` (time, queue, randomness, event loop), the
//! validated `model` (architectures and scenarios as typed data), `check` (the history of
//! operations), `components` (the actors that make up a world), `schema` (RON files to a
//! model), `run` (one seeded run), `report` (summaries and traces) and `cli`.

pub mod chart;
pub mod check;
pub mod cli;
pub mod components;
pub mod diff;
pub mod engine;
pub mod html;
pub mod hunt;
pub mod model;
pub mod reference;
pub mod report;
pub mod run;
pub mod schema;
pub mod shrink;
pub mod sweep;
