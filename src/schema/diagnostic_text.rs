//! A diagnostic as a person reads it: a `file:line:col: error:` line editors can jump
//! to, then the line itself with the offending token underlined, any related places
//! labelled, and the hint, rendered the way rustc and cargo render theirs.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::error::{Diagnostic, Related};

/// `error:`, in bold red where standard error takes colours (`--color`).
fn error_label() -> console::StyledObject<&'static str> {
    console::style("error:").red().bold().for_stderr()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => writeln!(f, "{}: {} {}", self.file, error_label(), self.message)?,
            line => writeln!(
                f,
                "{}:{line}:{}: {} {}",
                self.file,
                self.col,
                error_label(),
                self.message
            )?,
        }
        let primary = (!self.line_text.is_empty()).then(|| self.primary_snippet());
        let related = self.related.iter().filter(|r| !self.shares_line(r));
        let mut group = Group::with_level(Level::ERROR)
            .elements(primary)
            .elements(related.map(related_snippet));
        if let Some(hint) = &self.hint {
            group = group.element(Level::HELP.message(&**hint));
        }
        if group.is_empty() {
            return Ok(());
        }
        writeln!(f, "{}", renderer().render(&[group]))
    }
}

impl Diagnostic {
    /// True when `r` is on the line the diagnostic itself shows.
    fn shares_line(&self, r: &Related) -> bool {
        r.file == self.file && r.line == self.line && !self.line_text.is_empty()
    }

    /// The offending line with its token underlined, and any related place on the
    /// same line labelled.
    fn primary_snippet(&self) -> Snippet<'_, annotate_snippets::Annotation<'_>> {
        let (shown, col) = excerpt(&self.line_text, self.col);
        let mut snippet = Snippet::source(shown.clone())
            .line_start(self.line)
            .annotation(AnnotationKind::Primary.span(token_span(&shown, col)));
        for r in self.related.iter().filter(|r| self.shares_line(r)) {
            let (_, col) = excerpt(&self.line_text, r.col);
            let span = token_span(&shown, col.min(shown.chars().count()));
            snippet =
                snippet.annotation(AnnotationKind::Context.span(span).label(r.label.as_str()));
        }
        snippet
    }
}

/// A related place's line, headed by its `file:line:col`, its token underlined with
/// dashes and labelled.
fn related_snippet(r: &Related) -> Snippet<'_, annotate_snippets::Annotation<'_>> {
    let (shown, col) = excerpt(&r.line_text, r.col);
    let span = token_span(&shown, col);
    Snippet::source(shown)
        .line_start(r.line)
        .path(r.file.as_str())
        .annotation(AnnotationKind::Context.span(span).label(r.label.as_str()))
}

/// Plain text, or colours where standard error takes them (`--color`, `NO_COLOR`).
fn renderer() -> Renderer {
    let renderer = match console::colors_enabled_stderr() {
        true => Renderer::styled(),
        false => Renderer::plain(),
    };
    // The excerpt is already cut to fit; the renderer must not cut it again.
    renderer.term_width(EXCERPT_MAX + 40)
}

/// Most characters of a line shown under a diagnostic.
const EXCERPT_MAX: usize = 100;

/// The part of `line` shown under a diagnostic, tabs as spaces, and the column of
/// `col` in it: the whole line when it is short, else a window around `col` with `…`
/// where it was cut (a minified or generated file can have one enormous line).
fn excerpt(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    if chars.len() <= EXCERPT_MAX {
        return (chars.into_iter().collect(), col);
    }
    let half = EXCERPT_MAX / 2;
    let start = col.saturating_sub(1).saturating_sub(half).min(chars.len() - EXCERPT_MAX);
    let end = start + EXCERPT_MAX;
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, col - start + usize::from(start > 0))
}

/// The byte range of the token at 1-based char column `col` of `text`: a quoted
/// string with its quotes, a name or number (with its sign and any dots, as in a
/// `--set` path), a bracketed value that closes on the same line, else the single
/// character. Past the end of the line (a file that ends too soon), the line's end,
/// so the underline still shows where.
fn token_span(text: &str, col: usize) -> Range<usize> {
    let start = text.char_indices().nth(col.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
    let rest = &text[start..];
    let Some(first) = rest.chars().next() else { return start..start };
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let len = if first == '"' {
        closing_quote(rest).unwrap_or(rest.len())
    } else if let Some(len) = closing_bracket(rest) {
        len
    } else if word(first) || (matches!(first, '-' | '+') && rest[1..].starts_with(word)) {
        1 + rest[1..].find(|c: char| !word(c)).unwrap_or(rest.len() - 1)
    } else {
        first.len_utf8()
    };
    start..start + len
}

/// The length of the bracketed value that opens `text`, through the bracket that
/// closes it, if that is in `text`.
fn closing_bracket(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            '"' => {
                let len = closing_quote(&text[i..])?;
                chars.nth(text[i..i + len].chars().count() - 2);
            }
            _ if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// The length of the string that opens `text`, through its closing quote.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i + 1),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::source::Place;

    fn place(line: usize, col: usize, text: &str) -> Place {
        Place { file: "a.ron".into(), line, col, line_text: text.into() }
    }

    #[test]
    fn underlines_the_token_at_the_column() {
        let text = Diagnostic::at(place(3, 5, "    sede: 1,"), "unknown field").to_string();
        assert!(text.starts_with("a.ron:3:5: error: unknown field\n"), "{text}");
        assert!(text.contains("3 |     sede: 1,\n  |     ^^^^\n"), "{text}");
    }

    #[test]
    fn tokens_are_strings_names_numbers_or_one_character() {
        let cases = [
            (r#"  lag: "2s", x"#, 8, r#""2s""#),
            (r#"  a: "x\"y" "#, 6, r#""x\"y""#),
            ("db.replicas=-1", 13, "-1"),
            ("dbx.replicas=1", 1, "dbx.replicas"),
            ("  (a: 1)", 3, "(a: 1)"),
            ("  (a: \")\", b: [1, 2]), x", 3, "(a: \")\", b: [1, 2])"),
            ("  (a: 1,", 3, "("),
            ("  ) x", 3, ")"),
            ("  seed: 1.5e", 9, "1.5e"),
            ("  ok", 9, ""),
        ];
        for (line, col, token) in cases {
            assert_eq!(&line[token_span(line, col)], token, "{line:?} at {col}");
        }
    }

    #[test]
    fn related_places_are_labelled_on_their_own_line_or_beside() {
        let d = Diagnostic::at(place(7, 5, r#"    "db": Store(),"#), "duplicate key \"db\"")
            .also(place(4, 5, r#"    "db": Cache(),"#), "first given here");
        let text = d.to_string();
        assert!(text.contains("7 |     \"db\": Store(),\n  |     ^^^^\n"), "{text}");
        assert!(text.contains(" ::: a.ron:4:5\n"), "{text}");
        assert!(text.contains("4 |     \"db\": Cache(),\n  |     ---- first given here"), "{text}");
        let same = Diagnostic::at(place(2, 12, "(a: 1, b: 1, a: 2)"), "twice")
            .also(place(2, 2, "(a: 1, b: 1, a: 2)"), "first");
        assert!(same.to_string().contains("  |  - first   ^\n"), "{same}");
    }

    #[test]
    fn the_hint_follows_as_help() {
        let d = Diagnostic::at(place(1, 1, "x"), "bad").with_hint(Some("try y".into()));
        assert!(d.to_string().ends_with("= help: try y\n"), "{d}");
        let whole = Diagnostic::at(Place::file_start("f.ron"), "cannot read").to_string();
        assert_eq!(whole, "f.ron: error: cannot read\n");
    }

    #[test]
    fn long_lines_are_cut_to_a_window_around_the_column() {
        let line = format!("{}x{}", "(".repeat(5_000), ")".repeat(5_000));
        let (shown, col) = excerpt(&line, 5_001);
        assert_eq!(shown.chars().count(), EXCERPT_MAX + 2);
        assert_eq!(shown.chars().nth(col - 1), Some('x'));
        let (shown, col) = excerpt(&line, 3);
        assert_eq!((shown.chars().nth(col - 1), shown.starts_with('(')), (Some('('), true));
        assert!(shown.ends_with('…'));
        let (shown, col) = excerpt(&line, 10_001);
        assert_eq!((shown.chars().nth(col - 1), shown.ends_with(')')), (Some(')'), true));
    }
}
