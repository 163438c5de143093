//! The HTML reports: one self-contained file per run or sweep that opens from disk with
//! no network. `page.rs` (the document, its styles, tables and figures), `run_report.rs`
//! (a run: verdicts, operations, stories, charts, timeline), `sweep_report.rs` (a sweep:
//! its grid and charts with confidence bands), `sequence_svg.rs` (a story's sequence
//! diagram) and `timeline_svg.rs` (faults and violations over simulated time).

pub mod page;
pub mod run_report;
pub mod sequence_svg;
pub mod sweep_report;
pub mod timeline_charts;
pub mod timeline_svg;

pub use run_report::RunReport;
pub use sweep_report::SweepReport;
