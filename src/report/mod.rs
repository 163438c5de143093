//! Reports: the run summary (text for people, JSON for tools) and the event trace
//! (JSON lines). Outputs are written to a temporary file and renamed into place, so a
//! failed or interrupted run never leaves a half-written file.

pub mod output;
pub mod queues;
pub mod summary;
pub mod trace;

pub use output::write_atomically;
pub use summary::Summary;
pub use trace::TraceWriter;
