//! A timeline as inline SVG: one row per fault (each firing a bar for as long as it
//! lasts, or a diamond when it is an instant) and per violated checker (its story from
//! first to decisive event), over the part of the run they occupy.

use std::fmt::Write as _;

use super::page::escape;
use crate::engine::time::{format_nanos, format_span};

/// Width of the label column.
const LABEL_W: f64 = 300.0;
/// Width of the time axis.
const PLOT_W: f64 = 720.0;
/// Height of a row.
const ROW_H: f64 = 26.0;
/// Most characters of a label.
const LABEL_CHARS: usize = 44;

/// One row of the timeline.
#[derive(Debug, Clone)]
pub struct Track {
    /// Row title.
    pub label: String,
    /// Each mark: its start and, when it lasts, its end (ns).
    pub marks: Vec<(u64, Option<u64>)>,
    /// Fill colour.
    pub color: &'static str,
}

/// A round time step for about `target` ticks over `span` ns: 1, 2 or 5 times a power
/// of ten below a second, then steps that read well on a clock (15 s, 30 min, 6 h...).
pub fn tick_step(span: u64, target: u64) -> u64 {
    const S: u64 = 1_000_000_000;
    const CLOCK: [u64; 16] = [
        S,
        2 * S,
        5 * S,
        10 * S,
        15 * S,
        30 * S,
        60 * S,
        120 * S,
        300 * S,
        600 * S,
        900 * S,
        1800 * S,
        3600 * S,
        3 * 3600 * S,
        6 * 3600 * S,
        12 * 3600 * S,
    ];
    let raw = (span / target.max(1)).max(1);
    if raw > S / 2 {
        let day = 24 * 3600 * S;
        return CLOCK.iter().copied().find(|&s| s >= raw).unwrap_or(raw.div_ceil(day) * day);
    }
    let mut unit = 1u64;
    while unit * 10 <= raw {
        unit *= 10;
    }
    [1, 2, 5, 10].iter().map(|m| m * unit).find(|&s| s >= raw).unwrap_or(unit * 10)
}

/// A tick at `t` on an axis of `step`: minutes and hours where the steps are whole
/// minutes, else seconds throughout (`58s`, `60s`, `62s`, never `58s`, `1m`, `62s`).
fn tick_label(t: u64, step: u64) -> String {
    const S: u64 = 1_000_000_000;
    match t {
        0 => "0".into(),
        _ if step % (60 * S) == 0 => format_span(t),
        _ if step % 1_000_000 == 0 => format!("{}s", t as f64 / S as f64),
        _ => format_nanos(t),
    }
}

fn clip(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_string();
    }
    let head: String = label.chars().take(LABEL_CHARS - 1).collect();
    format!("{head}…")
}

/// The span of a run of `end_ns` to draw `tracks` over: where their marks are, with a
/// margin, on round ticks; the whole run when they spread over half of it or more.
pub fn window(tracks: &[Track], end_ns: u64) -> (u64, u64) {
    let end = end_ns.max(1);
    let times = tracks.iter().flat_map(|t| &t.marks).flat_map(|&(a, b)| [Some(a), b]).flatten();
    let (Some(lo), Some(hi)) = (times.clone().min(), times.max()) else { return (0, end) };
    let (lo, hi) = (lo.min(end), hi.min(end));
    // A margin of a tenth of the span each side, and of a fiftieth of the run at
    // least, so that a lone instant is not drawn on the frame.
    let margin = ((hi - lo) / 10).max(end / 50).max(1);
    let (lo, hi) = (lo.saturating_sub(margin), hi.saturating_add(margin).min(end));
    let step = tick_step(hi - lo, 8);
    let (lo, hi) = (lo / step * step, hi.div_ceil(step).saturating_mul(step).min(end));
    if hi - lo >= end / 2 { (0, end) } else { (lo, hi) }
}

/// Renders `tracks` over `lo..hi` ns of the run as an SVG element.
pub fn render(tracks: &[Track], (lo, hi): (u64, u64)) -> String {
    let hi = hi.max(lo + 1);
    let height = 16.0 + ROW_H * tracks.len() as f64 + 34.0;
    let width = LABEL_W + PLOT_W + 24.0;
    let x = |t: u64| LABEL_W + PLOT_W * ((t.clamp(lo, hi) - lo) as f64 / (hi - lo) as f64);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"system-ui, \
         sans-serif\" font-size=\"12\" role=\"img\">"
    );
    let axis_y = 16.0 + ROW_H * tracks.len() as f64;
    let step = tick_step(hi - lo, 8);
    for t in (lo.div_ceil(step) * step..=hi).step_by(usize::try_from(step).unwrap_or(usize::MAX)) {
        let _ = writeln!(
            s,
            "<line x1=\"{0}\" y1=\"10\" x2=\"{0}\" y2=\"{axis_y}\" stroke=\"#e4e7ed\"/>\
             <text x=\"{0}\" y=\"{1}\" text-anchor=\"middle\" fill=\"#5b6475\">{2}</text>",
            x(t),
            axis_y + 16.0,
            escape(&tick_label(t, step))
        );
    }
    let _ = writeln!(
        s,
        "<line x1=\"{LABEL_W}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#5b6475\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#5b6475\">simulated time</text>",
        LABEL_W + PLOT_W,
        LABEL_W + PLOT_W / 2.0,
        axis_y + 31.0
    );
    for (i, track) in tracks.iter().enumerate() {
        let top = 16.0 + ROW_H * i as f64;
        let mid = top + ROW_H / 2.0;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            LABEL_W - 10.0,
            mid + 4.0,
            escape(&track.label),
            escape(&clip(&track.label))
        );
        for &(from, to) in &track.marks {
            mark(&mut s, x(from), to.map(x), mid, track.color);
        }
    }
    s.push_str("</svg>");
    s
}

/// A bar from `x0` to `x1` (at least 3 px wide), or a diamond at `x0`.
fn mark(s: &mut String, x0: f64, x1: Option<f64>, mid: f64, color: &str) {
    match x1 {
        Some(x1) => {
            let _ = writeln!(
                s,
                "<rect x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"2\" fill=\"{color}\" \
                 fill-opacity=\"0.75\"/>",
                mid - 7.0,
                (x1 - x0).max(3.0)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "<path d=\"M{x0},{} l6,7 l-6,7 l-6,-7 z\" fill=\"{color}\"/>",
                mid - 7.0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        const S: u64 = 1_000_000_000;
        assert_eq!(tick_step(300 * S, 8), 60 * S);
        assert_eq!(tick_step(60 * S, 8), 10 * S);
        assert_eq!(tick_step(86_400 * S, 8), 3 * 3600 * S);
        assert_eq!(tick_step(30 * 86_400 * S, 8), 4 * 86_400 * S);
        assert_eq!(tick_step(S, 8), 200_000_000);
        assert_eq!(tick_step(5, 8), 1);
    }

    #[test]
    fn the_window_is_where_the_marks_are_unless_they_spread_over_half_the_run() {
        const S: u64 = 1_000_000_000;
        let track = |marks| Track { label: "x".into(), marks, color: "#000" };
        let story = track(vec![(60 * S + S / 2, Some(64 * S + 650_000_000))]);
        let crash = track(vec![(60 * S, None)]);
        assert_eq!(window(&[crash.clone(), story.clone()], 165 * S), (56 * S, 68 * S));
        assert_eq!(window(&[crash], 165 * S), (56 * S, 64 * S));
        let early = track(vec![(S, None), (90 * S, None)]);
        assert_eq!(window(&[story, early], 165 * S), (0, 165 * S));
        assert_eq!(window(&[], 165 * S), (0, 165 * S));
    }

    #[test]
    fn ticks_keep_one_unit_along_an_axis() {
        const S: u64 = 1_000_000_000;
        let labels = |lo: u64, step: u64| [0, 1, 2].map(|i| tick_label(lo + i * step, step));
        assert_eq!(labels(58 * S, 2 * S), ["58s", "60s", "62s"]);
        assert_eq!(labels(59 * S, S / 2), ["59s", "59.5s", "60s"]);
        assert_eq!(labels(0, 60 * S), ["0", "1m", "2m"]);
    }

    #[test]
    fn each_firing_is_drawn_in_its_row() {
        let tracks = [
            Track {
                label: "crash db".into(),
                marks: vec![(10, Some(20)), (50, None)],
                color: "#e15759",
            },
            Track { label: "x".repeat(60), marks: Vec::new(), color: "#4e79a7" },
        ];
        let svg = render(&tracks, (0, 100));
        assert_eq!(svg.matches("<rect").count(), 1);
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.contains(&format!("{}…", "x".repeat(43))));
    }
}
