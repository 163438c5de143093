//! Sweeps: one scenario run over a grid of parameter values, variants and seeds, in
//! parallel, with a CSV of every run, a CSV of per-point statistics and charts.
//!
//! `plan.rs` (the grid and its runs, each seeded from the scenario's seed, its point
//! and its replicate), `runner.rs` (rayon over the runs, metrics from each summary),
//! `stats.rs` (mean and 95% confidence interval), `tables.rs` (the CSV files),
//! `chart.rs` (plotters, SVG and PNG).

pub mod chart;
pub mod plan;
pub mod runner;
pub mod stats;
pub mod tables;

pub use plan::{Axis, Metric, RunPlan, SweepSpec, Variant};
pub use runner::RunResult;
