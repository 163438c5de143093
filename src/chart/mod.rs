//! Charts: `figure.rs` (a titled set of series drawn with plotters as SVG or PNG) and
//! `distribution.rs` (the CDF or histogram figure of labelled histograms). Sweeps and
//! the HTML report both draw with them.

pub mod distribution;
pub mod figure;

pub use figure::{Figure, Series, ensure_fonts};
