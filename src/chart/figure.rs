//! A chart drawn with plotters in SVG (and rasterised to PNG). A `Figure` is a list of
//! series (a line, an optional shaded band, optional point markers) on a linear or log
//! x axis; a sweep's metric charts, CDFs and histograms and a run report's charts are
//! all figures. Text uses the DejaVu Sans font shipped in `assets/fonts`, so drawing
//! needs no system font library.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::raster::{self, DEJAVU_SANS};

/// Series colours (Tableau 10 without its yellow, which fades on white).
const PALETTE: [(u8, u8, u8); 9] = [
    (0x4e, 0x79, 0xa7),
    (0xf2, 0x8e, 0x2b),
    (0xe1, 0x57, 0x59),
    (0x76, 0xb7, 0xb2),
    (0x59, 0xa1, 0x4f),
    (0xb0, 0x7a, 0xa1),
    (0x9c, 0x75, 0x5f),
    (0xff, 0x9d, 0xa7),
    (0x79, 0x70, 0x6e),
];

/// The colour of series `i`.
fn color(i: usize) -> RGBAColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b).to_rgba()
}

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

/// One series: a line through `points`, a shaded polygon `band` behind it (empty for
/// none) and, optionally, a marker on each point.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// The line, in x order.
    pub points: Vec<(f64, f64)>,
    /// A closed polygon drawn lightly behind the line.
    pub band: Vec<(f64, f64)>,
    /// Whether each point gets a dot.
    pub markers: bool,
    /// Whether the points are dots alone, not joined by a line (a dot plot).
    pub dots_only: bool,
}

/// A chart: title, axis titles, scale and series.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Caption.
    pub title: String,
    /// X axis title.
    pub x_label: String,
    /// Y axis title.
    pub y_label: String,
    /// Whether x is drawn on a log scale (only positive x values are then shown).
    pub log_x: bool,
    /// Where the legend goes.
    pub legend: SeriesLabelPosition,
    /// The series, each in its own colour.
    pub series: Vec<Series>,
    /// Spans of x shaded behind the series (a fault's window), each with its label.
    pub shaded: Vec<(f64, f64, String)>,
    /// The x axis's span when it is fixed (a run's whole duration), else the data's.
    pub x_span: Option<(f64, f64)>,
    /// Room above the highest value, as a share of the y range (room for the legend);
    /// at least what an upper legend of this many entries takes.
    pub headroom: f64,
    /// When x is a duration: nanoseconds per x unit, so that a log axis's ticks read
    /// `10µs`, `1ms`, `2.5s` rather than bare numbers.
    pub x_unit_ns: Option<f64>,
    /// Whether y counts things: its ticks are whole numbers only.
    pub y_counts: bool,
}

/// Height of a figure's caption, margins and x labels: the rest is the plotting area.
const FRAME_HEIGHT: f64 = 24.0 + 40.0 + 55.0;
/// Most points a series may have for its twin to be marked with squares (a sweep's
/// metric line; a CDF or histogram has many, and is told apart by its legend alone).
const TWIN_MARKERS_MAX: usize = 25;
/// Height of one legend entry, and the legend box's own margins, in pixels.
const LEGEND_ENTRY: f64 = 21.0;
const LEGEND_MARGINS: f64 = 16.0;

/// A duration tick: three significant digits, trailing zeros dropped, with its unit.
pub fn duration_tick(ns: f64) -> String {
    let (value, unit) = match ns.abs() {
        n if n < 1e3 => (ns, "ns"),
        n if n < 1e6 => (ns / 1e3, "µs"),
        n if n < 1e9 => (ns / 1e6, "ms"),
        _ => (ns / 1e9, "s"),
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{unit}")
}

/// A plain number tick: at most three decimals, trailing zeros dropped (`0.5`, `1`,
/// `1200`, never `1200.0`); a tiny one in scientific notation.
pub fn number_tick(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        return format!("{v:.1e}");
    }
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.into() }
}

/// The smallest and largest of `values`, widened when they are equal.
fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return None;
    }
    Some(if lo < hi { (lo, hi) } else { (lo - 1.0, hi + 1.0) })
}

impl Figure {
    /// A chart of `series` against simulated seconds, titled `name` over time.
    pub fn over_time(name: &str, y_label: &str, series: Vec<Series>) -> Figure {
        Figure {
            title: format!("{name} over time"),
            x_label: "simulated time (s)".into(),
            y_label: y_label.into(),
            log_x: false,
            legend: SeriesLabelPosition::UpperLeft,
            series,
            shaded: Vec::new(),
            x_span: None,
            headroom: 0.45,
            x_unit_ns: None,
            y_counts: false,
        }
    }

    /// The series worth drawing: those with a point to show, each with its legend
    /// text, which says when its values are another's (drawn on top of each other, the
    /// lines would show as one).
    fn drawn_series(&self) -> Vec<(usize, &Series, String)> {
        let shown = |s: &Series| s.points.iter().any(|p| !self.log_x || p.0 > 0.0);
        let mut drawn: Vec<(usize, &Series, String)> = Vec::new();
        for (i, s) in self.series.iter().enumerate().filter(|(_, s)| shown(s)) {
            let twin = drawn.iter().position(|(_, earlier, _)| earlier.points == s.points);
            let label = match twin {
                Some(k) => format!("{} (same values as line {})", s.name, k + 1),
                None => s.name.clone(),
            };
            drawn.push((i, s, label));
        }
        drawn
    }

    /// Legend entries: the drawn series and the distinct shaded labels.
    fn legend_entries(&self) -> usize {
        let mut labels: Vec<&str> = self.shaded.iter().map(|s| s.2.as_str()).collect();
        labels.dedup();
        self.drawn_series().len() + labels.len()
    }

    /// The headroom asked for, or more when an upper legend would cover the data: the
    /// legend's height over what is left below it of a plot `height` pixels high.
    fn headroom_for_legend(&self, height: f64) -> f64 {
        let upper = matches!(
            self.legend,
            SeriesLabelPosition::UpperLeft
                | SeriesLabelPosition::UpperRight
                | SeriesLabelPosition::UpperMiddle
        );
        if !upper {
            return self.headroom;
        }
        let legend = LEGEND_ENTRY * self.legend_entries() as f64 + LEGEND_MARGINS;
        let needed = legend / (height - FRAME_HEIGHT - legend).max(1.0);
        self.headroom.max(needed)
    }

    fn all_points(&self) -> impl Iterator<Item = &(f64, f64)> + Clone {
        self.series.iter().flat_map(|s| s.points.iter().chain(&s.band))
    }

    /// The y range: every point and band, from 0 when all are ≥ 0, with a margin (and
    /// room for the legend in a figure `height` pixels high).
    fn y_range(&self, height: f64) -> (f64, f64) {
        let Some((lo, hi)) = span(self.all_points().map(|p| p.1)) else { return (0.0, 1.0) };
        let lo = if lo >= 0.0 { 0.0 } else { lo };
        (lo, hi + (hi - lo) * self.headroom_for_legend(height))
    }

    /// The x range (positive values only on a log scale).
    fn x_range(&self) -> (f64, f64) {
        if let Some(span) = self.x_span {
            return span;
        }
        let xs = self.all_points().map(|p| p.0).filter(|&x| !self.log_x || x > 0.0);
        match span(xs) {
            Some((lo, hi)) if self.log_x && lo <= 0.0 => (hi / 10.0, hi),
            Some(r) => r,
            None => (if self.log_x { 0.1 } else { 0.0 }, 1.0),
        }
    }

    /// Draws the figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (x_lo, x_hi) = self.x_range();
        let (y_lo, y_hi) = self.y_range(f64::from(root.dim_in_pixel().1));
        if self.log_x {
            self.plot(root, (x_lo..x_hi).log_scale(), y_lo..y_hi)
        } else {
            self.plot(root, x_lo..x_hi, y_lo..y_hi)
        }
    }

    fn plot<DB, X>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x: X,
        y: std::ops::Range<f64>,
    ) -> Result<(), String>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (y_lo, y_hi) = (y.start, y.end);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 24))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(75)
            .build_cartesian_2d(x, y)
            .map_err(err)?;
        let duration_ticks = |x: &f64| duration_tick(x * self.x_unit_ns.unwrap_or(1.0));
        let number_ticks = |v: &f64| number_tick(*v);
        let count_ticks = |v: &f64| if v.fract() == 0.0 { number_tick(*v) } else { String::new() };
        let mut mesh = chart.configure_mesh();
        if self.y_counts {
            // One label per whole number, and no light lines between them.
            let labels = (y_hi - y_lo).ceil().clamp(1.0, 10.0) as usize + 1;
            mesh.y_label_formatter(&count_ticks).y_labels(labels).y_max_light_lines(1);
        } else {
            mesh.y_label_formatter(&number_ticks);
        }
        if self.x_unit_ns.is_some() && self.log_x {
            mesh.x_label_formatter(&duration_ticks);
        } else {
            mesh.x_label_formatter(&number_ticks);
        }
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 14))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        let shown = |p: &&(f64, f64)| !self.log_x || p.0 > 0.0;
        let shade = RGBColor(250, 204, 160);
        for (i, (from, to, label)) in self.shaded.iter().enumerate() {
            let rect = Rectangle::new([(*from, y_lo), (*to, y_hi)], shade.mix(0.45).filled());
            let drawn = chart.draw_series(std::iter::once(rect)).map_err(err)?;
            // A fault that strikes again is listed once.
            if !self.shaded[..i].iter().any(|s| &s.2 == label) {
                drawn.label(label.clone()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 24, y + 6)], shade.filled())
                });
            }
        }
        let drawn = self.drawn_series();
        for &(i, s, ref label) in &drawn {
            let color = color(i);
            let twin = label != &s.name;
            if !s.band.is_empty() {
                let band: Vec<(f64, f64)> = s.band.iter().filter(shown).copied().collect();
                let band = Polygon::new(band, color.mix(0.18).filled());
                chart.draw_series(std::iter::once(band)).map_err(err)?;
            }
            let points: Vec<(f64, f64)> = s.points.iter().filter(shown).copied().collect();
            if s.dots_only {
                let dots = points.iter().map(|&p| Circle::new(p, 5, color.filled()));
                chart
                    .draw_series(dots)
                    .map_err(err)?
                    .label(label.clone())
                    .legend(move |(x, y)| Circle::new((x + 12, y), 5, color.filled()));
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                });
            if twin && points.len() <= TWIN_MARKERS_MAX {
                // Under the twin's line: hollow squares keep it visible.
                let squares = points.iter().map(|&p| {
                    EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], color.stroke_width(2))
                });
                chart.draw_series(squares).map_err(err)?;
            } else if s.markers {
                let dots = points.into_iter().map(|p| Circle::new(p, 3, color.filled()));
                chart.draw_series(dots).map_err(err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(self.legend.clone())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    }

    /// The figure as SVG text, `SIZE` pixels.
    pub fn svg(&self) -> Result<String, String> {
        self.svg_sized(SIZE)
    }

    /// The figure as SVG text, `size` pixels.
    pub fn svg_sized(&self, size: (u32, u32)) -> Result<String, String> {
        ensure_fonts();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
            self.draw(&root)?;
        }
        Ok(out)
    }

    /// Writes the figure as a PNG at `path` (its SVG rasterised), all or nothing.
    pub fn png(&self, path: &Path) -> Result<(), String> {
        raster::write_png(&self.svg()?, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, points: &[(f64, f64)]) -> Series {
        Series { name: name.into(), points: points.to_vec(), ..Series::default() }
    }

    #[test]
    fn number_ticks_drop_trailing_zeros() {
        let ticks = [0.0, 0.5, 1.0, 1200.0, 0.25, -0.0, 2.5e-5, 12.345_6];
        let text: Vec<String> = ticks.into_iter().map(number_tick).collect();
        assert_eq!(text, ["0", "0.5", "1", "1200", "0.25", "0", "2.5e-5", "12.346"]);
    }

    #[test]
    fn duration_ticks_read_in_units() {
        assert_eq!(duration_tick(10_000.0), "10µs");
        assert_eq!(duration_tick(1e6), "1ms");
        assert_eq!(duration_tick(2.5e9), "2.5s");
        assert_eq!(duration_tick(8e6), "8ms");
        assert_eq!(duration_tick(500.0), "500ns");
    }

    #[test]
    fn empty_series_are_left_out_and_twins_say_so() {
        let mut fig = Figure::over_time(
            "x",
            "y",
            vec![
                line("a", &[(1.0, 2.0), (2.0, 3.0)]),
                line("empty", &[]),
                line("b", &[(1.0, 2.0), (2.0, 3.0)]),
                line("c", &[(1.0, 2.0), (2.0, 4.0)]),
            ],
        );
        let labels: Vec<String> = fig.drawn_series().into_iter().map(|d| d.2).collect();
        assert_eq!(labels, ["a", "b (same values as line 1)", "c"]);
        // Only positive x on a log axis: a series at x = 0 alone has nothing to show.
        fig.log_x = true;
        fig.series = vec![line("zero", &[(0.0, 1.0)]), line("one", &[(1.0, 1.0)])];
        assert_eq!(fig.drawn_series().len(), 1);
    }

    #[test]
    fn an_upper_legend_gets_room_above_the_data() {
        let series =
            |n: usize| (0..n).map(|i| line(&format!("s{i}"), &[(0.0, i as f64)])).collect();
        let mut fig = Figure::over_time("x", "y", series(2));
        fig.headroom = 0.0;
        let two = fig.headroom_for_legend(f64::from(SIZE.1));
        fig.series = series(8);
        let eight = fig.headroom_for_legend(f64::from(SIZE.1));
        assert!(two > 0.05 && eight > 3.0 * two, "{two} {eight}");
        fig.legend = SeriesLabelPosition::LowerRight;
        assert_eq!(fig.headroom_for_legend(f64::from(SIZE.1)), 0.0);
    }
}
