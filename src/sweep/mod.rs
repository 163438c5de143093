//! Sweeps: one scenario run over a grid of parameter values, variants and seeds, in
//! parallel, with a journal of every run, a CSV of every run, a CSV of per-point
//! statistics and charts.
//!
//! The plan (the grid and its runs, each seeded from the scenario's seed, its point
//! and its replicate) is data, in `model::sweep`; `shard.rs` (a deterministic slice of the runs), `runner.rs`
//! (rayon over the runs, metrics from each summary), `sample.rs` (the distributions
//! kept from runs), `journal.rs` (`runs.jsonl`: resume and merge), `stats.rs` (mean and
//! 95% confidence interval), `tables.rs` (the CSV files), `chart.rs` (plotters line
//! charts, SVG and PNG), `distribution_chart.rs` (CDFs and histograms), `outputs.rs`
//! (every file of a finished sweep).

pub mod chart;
pub mod distribution_chart;
pub mod headline;
pub mod journal;
pub mod outputs;
pub mod runner;
pub mod sample;
pub mod shard;
pub mod stats;
pub mod tables;

pub use crate::model::sweep::{
    Axis, Distribution, DistributionChart, Metric, RunPlan, SweepSpec, Variant,
};
pub use runner::RunResult;
pub use shard::Shard;
