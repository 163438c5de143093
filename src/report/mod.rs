//! Reports: the run summary (text for people, JSON for tools), the event trace (JSON
//! lines) and violations' stories as sequence diagrams (`explain.rs` replays the run,
//! `sequence.rs` picks lanes and rows, `sequence_text.rs` draws them). Outputs are written to a temporary file and renamed into place, so a
//! failed or interrupted run never leaves a half-written file.

pub mod command_line;
pub mod explain;
pub mod history_export;
pub mod output;
pub mod over_seeds;
pub mod queues;
pub mod sequence;
pub mod sequence_text;
pub mod summary;
pub mod timeline;
pub mod trace;

pub use output::write_atomically;
pub use summary::Summary;
pub use trace::TraceWriter;
