//! Charts of a sweep, drawn with plotters in SVG and PNG: per metric, one line per
//! variant (and per value of the other axes) over the first axis, each point the mean
//! of its replicates inside a shaded 95% confidence band. Text uses the DejaVu Sans
//! font shipped in `assets/fonts`, so drawing needs no system font library.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::plan::{SweepSpec, number};
use super::stats::PointStats;

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Chart size in pixels.
pub const SIZE: (u32, u32) = (960, 600);

/// Registers the shipped font as plotters' `sans-serif` (once per process).
pub fn ensure_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // `InvalidFont` is not `Debug`; the font is compiled in, so this cannot fail
        // unless the file in the repository is not a font.
        register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| "assets/fonts/DejaVuSans.ttf is not a valid font")
            .expect("the shipped font loads");
    });
}

/// One line of a chart: its legend and its points `(x, stats)`.
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, PointStats)>,
}

/// The lines of metric `metric`: one per variant and combination of the other axes.
pub fn lines(spec: &SweepSpec, stats: &[Vec<Vec<Option<PointStats>>>], metric: usize) -> Vec<Line> {
    let x_axis = &spec.axes[0];
    let rest: usize = spec.axes[1..].iter().map(|a| a.values.len()).product();
    let mut out = Vec::new();
    for (v, variant) in spec.variants.iter().enumerate() {
        for other in 0..rest {
            let mut name = variant.name.clone();
            let mut k = other;
            let mut parts = Vec::new();
            for axis in spec.axes[1..].iter().rev() {
                parts.push(format!(
                    "{} {}",
                    axis.label,
                    number(axis.values[k % axis.values.len()])
                ));
                k /= axis.values.len();
            }
            parts.reverse();
            if !parts.is_empty() {
                name = format!("{name}, {}", parts.join(", "));
            }
            let points = (0..x_axis.values.len())
                .filter_map(|i| {
                    let s = stats[v][i * rest + other][metric]?;
                    Some((x_axis.values[i], s))
                })
                .collect();
            out.push(Line { name, points });
        }
    }
    out
}

/// The y range that holds every band, with a margin, from 0 when all values are ≥ 0.
fn y_range(lines: &[Line]) -> (f64, f64) {
    let all = lines.iter().flat_map(|l| &l.points);
    let lo = all.clone().map(|(_, s)| s.mean - s.ci95).fold(f64::INFINITY, f64::min);
    let hi = all.map(|(_, s)| s.mean + s.ci95).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let lo = if lo >= 0.0 { 0.0 } else { lo };
    let span = if hi > lo { hi - lo } else { 1.0 };
    (lo, hi + span * 0.08)
}

/// Draws the chart of `lines` on `root`.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    lines: &[Line],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let (x_lo, x_hi) =
        xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (x_lo, x_hi) = if x_lo < x_hi { (x_lo, x_hi) } else { (x_lo - 1.0, x_lo + 1.0) };
    let (y_lo, y_hi) = y_range(lines);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(75)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let upper = line.points.iter().map(|(x, s)| (*x, s.mean + s.ci95));
        let lower = line.points.iter().rev().map(|(x, s)| (*x, s.mean - s.ci95));
        let band: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, color.mix(0.18).filled())))
            .map_err(err)?;
        let means: Vec<(f64, f64)> = line.points.iter().map(|(x, s)| (*x, s.mean)).collect();
        chart
            .draw_series(LineSeries::new(means.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(line.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
            });
        chart
            .draw_series(means.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// The chart as SVG text.
pub fn svg(title: &str, labels: (&str, &str), lines: &[Line]) -> Result<String, String> {
    ensure_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, title, labels, lines)?;
    }
    Ok(out)
}

/// Writes the chart as a PNG at `path`, all or nothing.
pub fn png(path: &Path, title: &str, labels: (&str, &str), lines: &[Line]) -> Result<(), String> {
    ensure_fonts();
    // The encoder picks the format from the extension, so the temporary file keeps it.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = path.with_file_name(format!(".tmp-{}-{name}", std::process::id()));
    let drawn = {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw(&root, title, labels, lines)
    };
    let result = drawn.and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
