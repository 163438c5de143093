//! A sequence diagram as inline SVG: lane heads and dashed lifelines, one band per row
//! with its simulated time on the left, arrows between lanes (solid for requests and
//! replies, dashed for replication), the story's sentence in a column on the right, and
//! the decisive row in red.

use std::fmt::Write as _;

use super::page::escape;
use crate::check::verdict::seconds;
use crate::report::sequence::{Row, Sequence, Style};
use crate::report::sequence_text::wrap;

/// Width of the time column.
const TIME_W: f64 = 78.0;
/// Height of the lane heads.
const HEAD_H: f64 = 46.0;
/// Smallest row height.
const ROW_H: f64 = 30.0;
/// Line height of notes.
const LINE_H: f64 = 16.0;
/// Width of the notes column.
const NOTE_W: f64 = 450.0;
/// Characters per note line (12 px text, bold for the decisive row, in `NOTE_W`).
const NOTE_CHARS: usize = 56;
/// Average advance of a 12 px character, for sizing lanes to their labels.
const CHAR_W: f64 = 7.0;

const INK: &str = "#1d2433";
const ASYNC: &str = "#6b7a90";
const DECISIVE: &str = "#c0392b";

/// Lane width: room for every title and for every label over the lanes it spans.
fn lane_width(seq: &Sequence) -> f64 {
    let titles = seq.lanes.iter().map(|t| t.chars().count() as f64 * CHAR_W + 24.0);
    let labels = seq.rows.iter().filter_map(|r| r.arrow.as_ref()).map(|a| {
        let span = a.from.abs_diff(a.to).max(1) as f64;
        (a.label.chars().count() as f64 * CHAR_W + 28.0) / span
    });
    titles.chain(labels).fold(130.0, f64::max).min(280.0)
}

/// The note of a row, marked when decisive.
fn note_of(row: &Row) -> Option<String> {
    let note = row.note.as_deref()?;
    Some(if row.decisive { format!("✗ {note}") } else { note.to_string() })
}

/// Renders `seq` as an SVG element; `id` makes its marker ids unique on the page.
pub fn render(seq: &Sequence, id: &str) -> String {
    let lane_w = lane_width(seq);
    let lanes_w = lane_w * seq.lanes.len().max(1) as f64;
    let notes_x = TIME_W + lanes_w + 16.0;
    let width = notes_x + NOTE_W;
    let center = |i: usize| TIME_W + lane_w * (i as f64 + 0.5);
    let heights: Vec<f64> = seq
        .rows
        .iter()
        .map(|r| {
            let lines = note_of(r).map_or(0, |n| wrap(&n, NOTE_CHARS).len());
            ROW_H.max(lines as f64 * LINE_H + 12.0)
        })
        .collect();
    let height = HEAD_H + 12.0 + heights.iter().sum::<f64>() + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"system-ui, \
         sans-serif\" font-size=\"12\" role=\"img\">\n<defs>"
    );
    for (name, color) in [("call", INK), ("async", ASYNC), ("bad", DECISIVE)] {
        let _ = write!(
            s,
            "<marker id=\"{id}-{name}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>"
        );
    }
    s.push_str("</defs>\n");
    for (i, title) in seq.lanes.iter().enumerate() {
        let x = center(i);
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"{HEAD_H}\" x2=\"{x}\" y2=\"{height}\" stroke=\"#b8c0cc\" \
             stroke-dasharray=\"4 4\"/>\n<rect x=\"{}\" y=\"6\" width=\"{}\" height=\"32\" \
             rx=\"6\" fill=\"#eef1f5\" stroke=\"#b8c0cc\"/>\n<text x=\"{x}\" y=\"27\" \
             text-anchor=\"middle\" font-weight=\"600\">{}</text>\n",
            x - lane_w / 2.0 + 6.0,
            lane_w - 12.0,
            escape(title)
        );
    }
    let mut y = HEAD_H + 12.0;
    for (row, h) in seq.rows.iter().zip(heights) {
        draw_row(&mut s, row, y, h, (width, notes_x), &center, id);
        y += h;
    }
    s.push_str("</svg>");
    s
}

fn draw_row(
    s: &mut String,
    row: &Row,
    y: f64,
    h: f64,
    (width, notes_x): (f64, f64),
    center: &dyn Fn(usize) -> f64,
    id: &str,
) {
    if row.decisive {
        let _ = writeln!(
            s,
            "<rect x=\"0\" y=\"{y}\" width=\"{width}\" height=\"{h}\" fill=\"#fdecec\"/>"
        );
    }
    let mid = y + 17.0;
    let time = match row.at {
        _ if row.folded > 0 => "⋮".to_string(),
        Some(at) => seconds(at),
        None => "end".to_string(),
    };
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#5b6475\" \
         font-family=\"ui-monospace, monospace\">{}</text>",
        TIME_W - 10.0,
        mid + 4.0,
        escape(&time)
    );
    if let Some(a) = &row.arrow {
        let (color, marker) = match (row.decisive, a.style) {
            (true, _) => (DECISIVE, "bad"),
            (false, Style::Call) => (INK, "call"),
            (false, Style::Async) => (ASYNC, "async"),
        };
        let dash = if a.style == Style::Async { " stroke-dasharray=\"6 4\"" } else { "" };
        let (x1, x2) = (center(a.from), center(a.to));
        // Stop short of the lifeline so the head is not hidden behind it.
        let x2 = if x2 >= x1 { x2 - 2.0 } else { x2 + 2.0 };
        let _ = write!(
            s,
            "<line x1=\"{x1}\" y1=\"{mid}\" x2=\"{x2}\" y2=\"{mid}\" stroke=\"{color}\" \
             stroke-width=\"1.6\"{dash} marker-end=\"url(#{id}-{marker})\"/>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{color}\">{}</text>\n",
            (x1 + x2) / 2.0,
            mid - 5.0,
            escape(&a.label)
        );
    }
    if let Some(note) = note_of(row) {
        let (color, weight) = match (row.decisive, row.folded > 0) {
            (true, _) => (DECISIVE, " font-weight=\"600\""),
            (false, true) => ("#5b6475", " font-style=\"italic\""),
            (false, false) => (INK, ""),
        };
        let _ = write!(s, "<text x=\"{notes_x}\" y=\"{}\" fill=\"{color}\"{weight}>", y + 14.0);
        for (i, line) in wrap(&note, NOTE_CHARS).iter().enumerate() {
            let dy = if i == 0 { 0.0 } else { LINE_H };
            let _ = write!(s, "<tspan x=\"{notes_x}\" dy=\"{dy}\">{}</tspan>", escape(line));
        }
        s.push_str("</text>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sequence::Arrow;

    fn row(at: u64, arrow: Option<Arrow>, note: Option<&str>, decisive: bool) -> Row {
        Row { at: Some(at), seq: at, arrow, note: note.map(str::to_string), decisive, folded: 0 }
    }

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        let lines = wrap("the acknowledged write is lost for good", 16);
        assert_eq!(lines, ["the acknowledged", "write is lost", "for good"]);
        assert_eq!(wrap("", 10), [""]);
    }

    #[test]
    fn the_decisive_arrow_is_red_and_text_is_escaped() {
        let arrow = |label: &str| Arrow { from: 0, to: 1, label: label.into(), style: Style::Call };
        let seq = Sequence {
            lanes: vec!["client/1".into(), "db <primary>".into()],
            rows: vec![
                row(30_000_000, Some(arrow("write k1")), Some("creates v1"), false),
                row(40_000_000, Some(arrow("write k1")), Some("overwrites v1 & more"), true),
            ],
        };
        let svg = render(&seq, "s0");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("db &lt;primary&gt;"));
        assert!(svg.contains("✗ overwrites v1 &amp; more"));
        assert!(svg.contains("marker-end=\"url(#s0-bad)\""));
        assert_eq!(svg.matches("marker-end=\"url(#s0-call)\"").count(), 1);
        assert!(svg.contains(">0.030 s<"));
    }
}
