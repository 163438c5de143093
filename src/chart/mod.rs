//! Charts: `figure.rs` (a titled set of series drawn with plotters as SVG),
//! `distribution.rs` (the CDF or histogram figure of labelled histograms) and
//! `raster.rs` (an SVG as PNG, through resvg). Sweeps and the HTML report both draw
//! with them.

pub mod distribution;
pub mod figure;
pub mod raster;

pub use figure::{Figure, Series, ensure_fonts};
