//! A sequence diagram as terminal text: a time column, one column per lane, arrows
//! between lanes with their labels, and the story's sentence to the right of its row
//! (or under it when the terminal is too narrow). Box-drawing characters by default,
//! plain ASCII on request.

use super::sequence::{Row, Sequence, Style};
use crate::check::verdict::seconds;

/// The characters a diagram is drawn with.
struct Glyphs {
    lane: char,
    line: char,
    dashed: char,
    right: char,
    left: char,
    mark: &'static str,
    folded: &'static str,
    /// Ends a name or label cut short.
    more: char,
}

const UNICODE: Glyphs = Glyphs {
    lane: '│',
    line: '─',
    dashed: '╌',
    right: '▶',
    left: '◀',
    mark: "✗",
    folded: "⋮",
    more: '…',
};
const ASCII: Glyphs = Glyphs {
    lane: '|',
    line: '-',
    dashed: '.',
    right: '>',
    left: '<',
    mark: "X",
    folded: ":",
    more: '~',
};

/// Width of the time column.
const TIME_W: usize = 11;
/// Narrowest a note may be before it moves under its row.
const NOTE_MIN: usize = 30;

/// Narrowest a lane gets when the diagram shrinks to fit the terminal.
const LANE_MIN: usize = 8;
/// Widest a lane gets: room for the longest label, or for the widest name.
const LANE_MAX: usize = 40;

/// The width of each lane: room for every label and name, shrunk (to `LANE_MIN` at
/// least) so that the lanes fit `width` columns beside the time column.
fn lane_width(seq: &Sequence, width: usize) -> usize {
    let labels =
        seq.rows.iter().filter_map(|r| r.arrow.as_ref()).map(|a| a.label.chars().count() + 6);
    let names = seq.lanes.iter().map(|l| l.chars().count() + 2);
    let wanted = labels.chain(names).max().unwrap_or(12).clamp(12, LANE_MAX);
    let room = width.saturating_sub(TIME_W + 2) / seq.lanes.len().max(1);
    wanted.min(room).max(LANE_MIN)
}

/// A lane's name in at most `max` characters: replicas and clients abbreviated
/// (`db replica 0` as `db r0`, `client/129` as `c/129`), then cut with `…`.
fn short_name(name: &str, max: usize, more: char) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let short =
        name.replace(" replica ", " r").replace(" primary", " pri").replace("client/", "c/");
    cut(&short, max, more)
}

/// `text` in at most `max` characters, ending in `more` when cut.
fn cut(text: &str, max: usize, more: char) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}{more}")
}

/// Renders `seq` for a terminal `width` columns wide.
pub fn render(seq: &Sequence, width: usize, ascii: bool) -> String {
    let g = if ascii { &ASCII } else { &UNICODE };
    let text = |s: &str| if ascii { to_ascii(s) } else { s.to_string() };
    let lane_w = lane_width(seq, width);
    let diagram_w = TIME_W + 2 + lane_w * seq.lanes.len();
    let note_w = width.saturating_sub(diagram_w + 2);
    let center = |i: usize| TIME_W + 2 + lane_w * i + lane_w / 2;
    let mut out = String::new();
    let mut head = vec![' '; diagram_w];
    for (i, lane) in seq.lanes.iter().enumerate() {
        let name: Vec<char> = text(&short_name(lane, lane_w - 1, g.more)).chars().collect();
        let start = center(i).saturating_sub(name.len() / 2);
        head.splice(start..start + name.len(), name);
    }
    out.push_str(head.iter().collect::<String>().trim_end());
    out.push('\n');
    if seq.rows.iter().all(|r| r.arrow.is_none()) {
        // Requests relayed by app servers (WebSockets, pools) are not matched yet.
        out.push_str(&format!(
            "{:w$}(no request between the story's clients and stores to draw)\n",
            "",
            w = TIME_W + 2
        ));
    }
    for row in &seq.rows {
        let mut cells: Vec<char> = vec![' '; diagram_w];
        let time = match row.at {
            _ if row.folded > 0 => g.folded.to_string(),
            Some(at) => seconds(at),
            None => "end".to_string(),
        };
        cells.splice(0..TIME_W, format!("{time:>TIME_W$}").chars());
        for i in 0..seq.lanes.len() {
            cells[center(i)] = g.lane;
        }
        if let Some(a) = &row.arrow {
            draw_arrow(&mut cells, center(a.from), center(a.to), &text(&a.label), a.style, g);
        }
        let line: String = cells.into_iter().collect();
        let note = note_text(row, g, &text);
        match note {
            Some(n) if note_w >= NOTE_MIN => {
                // A long note goes on in its column, beside the lanes carried down.
                let mut blank: Vec<char> = vec![' '; diagram_w];
                for i in 0..seq.lanes.len() {
                    blank[center(i)] = g.lane;
                }
                let blank: String = blank.into_iter().collect();
                for (k, part) in wrap(&n, note_w).iter().enumerate() {
                    let left = if k == 0 { &line } else { &blank };
                    out.push_str(&format!("{left}  {part}\n"));
                }
            }
            Some(n) => {
                out.push_str(line.trim_end());
                out.push('\n');
                for part in wrap(&n, width.saturating_sub(TIME_W + 4).max(NOTE_MIN)) {
                    out.push_str(&format!("{:w$}  {part}\n", "", w = TIME_W + 2));
                }
            }
            None => {
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
    }
    out
}

fn note_text(row: &Row, g: &Glyphs, text: &dyn Fn(&str) -> String) -> Option<String> {
    let note = text(row.note.as_deref()?);
    Some(if row.decisive { format!("{} {note}", g.mark) } else { note })
}

/// Draws an arrow from column `a` to column `b` with `label` centred on it.
fn draw_arrow(cells: &mut [char], a: usize, b: usize, label: &str, style: Style, g: &Glyphs) {
    let (lo, hi) = (a.min(b), a.max(b));
    if hi - lo < 4 {
        return; // lanes are at least 8 columns apart; nothing to draw within one lane
    }
    let fill = if style == Style::Async { g.dashed } else { g.line };
    for c in &mut cells[lo + 1..hi] {
        *c = fill;
    }
    if b > a {
        cells[hi - 1] = g.right;
    } else {
        cells[lo + 1] = g.left;
    }
    let room = hi - lo - 3;
    let label: Vec<char> = fit_label(label, room, g.more).chars().collect();
    if label.len() <= room && label.len() > 1 {
        let start = lo + 2 + (room - label.len()) / 2;
        cells[start..start + label.len()].copy_from_slice(&label);
    }
}

/// An arrow's label for `room` columns: with a space either side when it fits, else
/// bare, else with `replicated` shortened, else cut.
fn fit_label(label: &str, room: usize, more: char) -> String {
    let width = label.chars().count();
    if width + 2 <= room {
        return format!(" {label} ");
    }
    if width <= room {
        return label.to_string();
    }
    cut(&label.replace("replicated", "repl."), room, more)
}

/// Words of `text` in lines of at most `width` characters.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(last) if last.chars().count() + 1 + word.chars().count() <= width => {
                last.push(' ');
                last.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The text with the few non-ASCII characters stories use spelled out.
fn to_ascii(s: &str) -> String {
    s.replace('∅', "(empty)")
        .replace('→', "->")
        .replace('—', "-")
        .replace('×', "x")
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sequence::Arrow;

    fn row(at: u64, arrow: Option<(usize, usize, &str)>, note: Option<&str>) -> Row {
        Row {
            at: Some(at),
            seq: at,
            arrow: arrow.map(|(from, to, label)| Arrow {
                from,
                to,
                label: label.into(),
                style: Style::Call,
            }),
            note: note.map(String::from),
            decisive: note.is_some(),
            folded: 0,
        }
    }

    #[test]
    fn arrows_point_the_right_way_and_notes_wrap_when_narrow() {
        let seq = Sequence {
            lanes: vec!["client/1".into(), "db".into()],
            rows: vec![
                row(30_000_000, Some((0, 1, "write k1")), None),
                row(35_000_000, Some((1, 0, "ok v1")), Some("client/1 is told v1 is written")),
            ],
        };
        let wide = render(&seq, 120, false);
        let lines: Vec<&str> = wide.lines().collect();
        assert_eq!(lines.len(), 3, "{wide}");
        assert!(lines[1].contains("write k1") && lines[1].contains("▶"), "{wide}");
        assert!(
            lines[2].contains("◀") && lines[2].ends_with("✗ client/1 is told v1 is written"),
            "{wide}"
        );
        let narrow = render(&seq, 50, true);
        assert!(narrow.lines().count() >= 4, "{narrow}");
        assert!(narrow.contains("<") && narrow.contains("X client/1 is told"), "{narrow}");
        assert!(narrow.is_ascii());
    }

    #[test]
    fn lanes_shrink_and_names_shorten_to_fit_the_width() {
        let lanes: Vec<String> =
            ["client/129", "api/0", "cdn", "db primary", "db replica 0", "db replica 1"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let seq = Sequence {
            lanes,
            rows: vec![
                row(1_000_000, Some((0, 1, "edit k25")), None),
                row(2_000_000, Some((3, 5, "v39 replicated")), Some("a note long enough to wrap")),
                row(3_000_000, Some((0, 2, "read k25")), None),
            ],
        };
        let narrow = render(&seq, 80, false);
        for line in narrow.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} columns: {line}\n{narrow}",
                line.chars().count()
            );
        }
        let head = narrow.lines().next().unwrap();
        assert!(
            head.contains("client/129") && head.contains("db r0") && head.contains("db r1"),
            "{head}"
        );
        assert!(narrow.contains("edit k25") && narrow.contains("read k25"), "{narrow}");
        // Wide enough, nothing is shortened.
        let wide = render(&seq, 200, false);
        assert!(wide.lines().next().unwrap().contains("db replica 0"), "{wide}");
    }

    #[test]
    fn cut_keeps_what_fits_and_marks_the_rest() {
        assert_eq!(cut("v39 replicated", 20, '…'), "v39 replicated");
        assert_eq!(cut("v39 replicated", 6, '…'), "v39 r…");
        assert_eq!(fit_label("edit k25", 10, '…'), " edit k25 ");
        assert_eq!(fit_label("edit k25", 8, '…'), "edit k25");
        assert_eq!(fit_label("v39 replicated", 9, '…'), "v39 repl.");
        assert_eq!(fit_label("v39 replicated", 7, '~'), "v39 re~");
        assert_eq!(short_name("db replica 12", 8, '…'), "db r12");
        assert_eq!(short_name("client/1234567", 8, '…'), "c/12345…");
    }
}
