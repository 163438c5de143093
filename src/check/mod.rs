//! What happened in a run: the history of operations and the figures kept over it.
//! Invariant checkers will read the history; they never see components.

pub mod histogram;
pub mod history;

pub use histogram::Histogram;
pub use history::{History, OpKind, OpRecord, OpStats, Outcome};
