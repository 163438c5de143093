//! Every file of a finished sweep, each written to a temporary name and renamed:
//! `results.csv`, `summary.csv`, `distributions.csv` (when the sweep keeps any), and an
//! SVG and a PNG chart per metric and per distribution.

use std::path::{Path, PathBuf};

use super::chart::metric_figure;
use super::distribution_chart::{self, Pooled};
use super::runner::RunResult;
use super::stats::PointStats;
use super::tables::{distributions_csv, point_stats, results_csv, summary_csv};
use crate::chart::Figure;
use crate::model::sweep::{SweepSpec, slug};
use crate::report::write_atomically;

fn text(path: &Path, body: &str) -> Result<(), String> {
    write_atomically(path, |w| w.write_all(body.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes the figure as `<base>.svg` and `<base>.png`; returns both paths.
fn charts(base: &Path, figure: &Figure) -> Result<[PathBuf; 2], String> {
    let svg = base.with_extension("svg");
    text(&svg, &figure.svg()?)?;
    let png = base.with_extension("png");
    figure.png(&png)?;
    Ok([svg, png])
}

/// What a finished sweep wrote, and what its reports are drawn from.
#[derive(Debug)]
pub struct Outputs {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Statistics by variant, point and metric.
    pub stats: Vec<Vec<Vec<Option<PointStats>>>>,
    /// The metric charts, then the distribution charts.
    pub figures: Vec<Figure>,
}

/// Writes every output of a sweep whose `results` are complete and in run order.
pub fn write(out: &Path, spec: &SweepSpec, results: &[RunResult]) -> Result<Outputs, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create the output directory: {e}"))?;
    let mut files = Vec::new();
    let pooled: Vec<Vec<Pooled>> = (0..spec.distributions.len())
        .map(|d| distribution_chart::pooled(spec, results, d))
        .collect();
    let stats = point_stats(spec, results);
    let mut tables = vec![
        ("results.csv", results_csv(spec, results)),
        ("summary.csv", summary_csv(spec, &stats)),
    ];
    if !spec.distributions.is_empty() {
        tables.push(("distributions.csv", distributions_csv(spec, &pooled)));
    }
    for (name, body) in tables {
        let path = out.join(name);
        text(&path, &body)?;
        files.push(path);
    }
    let mut figures = Vec::new();
    for (m, metric) in spec.metrics.iter().enumerate() {
        let figure = metric_figure(spec, &stats, m);
        files.extend(charts(&out.join(slug(&metric.name)), &figure)?);
        figures.push(figure);
    }
    for (d, dist) in spec.distributions.iter().enumerate() {
        let figure = distribution_chart::figure(spec, d, &pooled[d]);
        files.extend(charts(&out.join(slug(&dist.name)), &figure)?);
        figures.push(figure);
    }
    Ok(Outputs { files, stats, figures })
}
