//! Source text with its edits: maps any byte of the text that was finally parsed back to
//! the file, line and column a person should look at.
//!
//! Overrides are spliced into a model's text before it is parsed, so serde sees one
//! document. Each splice is remembered as a region; a position inside a region belongs
//! to the override (the scenario's `set` entry or the `--set` argument), a position
//! outside it to the original file, shifted back over the edits before it.

use std::ops::Range;

/// A place a person can go to: file, 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// File name as given, or `--set` for the command line.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
    /// The text of that line, for the caret display.
    pub line_text: String,
}

impl Place {
    /// The file as a whole, with no line or column: for problems such as a missing,
    /// unreadable or oversized file (line and column 0 say so).
    pub fn file_start(file: &str) -> Place {
        Place { file: file.to_string(), line: 0, col: 0, line_text: String::new() }
    }
}

/// Where an override's value text came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// File (or `--set`).
    pub file: String,
    /// The whole text of that file (or argument), for positions inside the value.
    pub text: String,
    /// Byte offset of the value in `text`.
    pub value_at: usize,
}

#[derive(Debug, Clone)]
struct Region {
    /// Range in the edited text.
    span: Range<usize>,
    /// Length of the original text it replaced.
    replaced_len: usize,
    /// Offset of the override's value within the region.
    value_offset: usize,
    origin: Origin,
    /// Field names the override spliced in before its value: each one's range within
    /// the region and where its path segment sits in the origin text.
    names: Vec<(Range<usize>, usize)>,
}

/// A file's text, possibly edited by overrides.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The file name as given.
    pub file: String,
    original: String,
    /// The text after edits: what is parsed.
    pub text: String,
    regions: Vec<Region>,
}

/// 1-based line and char column of byte `at` in `text`, plus the line's text.
pub fn line_col(text: &str, at: usize) -> (usize, usize, String) {
    let at = floor_char_boundary(text, at.min(text.len()));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..line_start].matches('\n').count() + 1;
    let col = text[line_start..at].chars().count() + 1;
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    (line, col, text[line_start..line_end].trim_end_matches('\r').to_string())
}

/// Byte offset of 1-based `line` and char `col` in `text` (clamped to the text).
pub fn byte_offset(text: &str, line: usize, col: usize) -> usize {
    let line_start: usize =
        text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = &text[line_start.min(text.len())..];
    line_start + rest.char_indices().nth(col.saturating_sub(1)).map_or(rest.len(), |(i, _)| i)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl SourceText {
    /// Unedited text of `file`. A UTF-8 byte-order mark is dropped.
    pub fn new(file: &str, text: &str) -> SourceText {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).to_string();
        SourceText { file: file.to_string(), original: text.clone(), text, regions: Vec::new() }
    }

    /// Replaces `range` of the current text with `replacement`, whose bytes from
    /// `value_offset` on are the override value taken from `origin`.
    pub fn splice(
        &mut self,
        range: Range<usize>,
        replacement: &str,
        value_offset: usize,
        origin: Origin,
    ) {
        self.splice_named(range, replacement, (value_offset, Vec::new()), origin);
    }

    /// `splice`, where `names` are the field names the replacement holds before its
    /// value: each one's range within the replacement and the offset in `origin`'s text
    /// of the path segment it was made from, so an error about a name points there.
    pub fn splice_named(
        &mut self,
        range: Range<usize>,
        replacement: &str,
        (value_offset, names): (usize, Vec<(Range<usize>, usize)>),
        origin: Origin,
    ) {
        assert!(range.start <= range.end, "splice range is reversed");
        assert!(range.end <= self.text.len(), "splice past the end");
        let delta = replacement.len() as isize - range.len() as isize;
        // An edit that touches an earlier region supersedes it; the original text it
        // covers is the edited range minus what the older edits had added.
        let mut replaced_len = range.len() as isize;
        self.regions.retain(|r| {
            let overlaps = r.span.start < range.end && range.start < r.span.end;
            if overlaps {
                replaced_len -= r.span.len() as isize - r.replaced_len as isize;
            }
            !overlaps
        });
        let replaced_len = replaced_len.max(0) as usize;
        for r in &mut self.regions {
            if r.span.start >= range.end {
                r.span = shift(r.span.start, delta)..shift(r.span.end, delta);
            }
        }
        self.text.replace_range(range.clone(), replacement);
        let span = range.start..range.start + replacement.len();
        self.regions.push(Region { span, replaced_len, value_offset, origin, names });
        self.regions.sort_by_key(|r| r.span.start);
    }

    /// The place a person should look at for byte `at` of the edited text.
    ///
    /// Whitespace after `at` is skipped first: parsers often stop just before the token
    /// they reject, and the caret belongs under that token.
    pub fn place(&self, at: usize) -> Place {
        let at = at.min(self.text.len());
        let at = at + (self.text[at..].len() - self.text[at..].trim_start().len());
        let mut shift_back: isize = 0;
        for r in &self.regions {
            if at >= r.span.end && !(r.span.is_empty() && at == r.span.start) {
                shift_back += r.span.len() as isize - r.replaced_len as isize;
            } else if at >= r.span.start {
                let within = at - r.span.start;
                let o = &r.origin;
                let name = r.names.iter().find(|(span, _)| span.contains(&within));
                let at = match name {
                    Some((span, segment_at)) => segment_at + (within - span.start),
                    None => o.value_at + within.saturating_sub(r.value_offset),
                };
                let (line, col, line_text) = line_col(&o.text, at.min(o.text.len()));
                return Place { file: o.file.clone(), line, col, line_text };
            } else {
                break;
            }
        }
        let at = shift(at, -shift_back).min(self.original.len());
        let (line, col, line_text) = line_col(&self.original, at);
        Place { file: self.file.clone(), line, col, line_text }
    }

    /// The place for a 1-based line and column of the edited text (as `ron` reports).
    pub fn place_line_col(&self, line: usize, col: usize) -> Place {
        self.place(byte_offset(&self.text, line, col))
    }

    /// True when some override was spliced in.
    pub fn is_edited(&self) -> bool {
        !self.regions.is_empty()
    }
}

fn shift(at: usize, delta: isize) -> usize {
    (at as isize + delta).max(0) as usize
}

/// The files this process read as input, canonical: no output may replace one.
static INPUTS: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Records that `path` is an input of this process.
pub fn protect_input(path: &std::path::Path) {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        let mut inputs = INPUTS.lock().unwrap_or_else(|e| e.into_inner());
        if !inputs.contains(&canonical) {
            inputs.push(canonical);
        }
    }
}

/// Whether `path` is (or links to) a file this process read as input.
pub fn is_input(path: &std::path::Path) -> bool {
    let Ok(canonical) = std::fs::canonicalize(path) else { return false }; // A new file.
    INPUTS.lock().unwrap_or_else(|e| e.into_inner()).contains(&canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str, value_at: usize) -> Origin {
        Origin { file: "s.ron".into(), text: text.into(), value_at }
    }

    fn check(place: Place, file: &str, line: usize, col: usize) {
        assert_eq!((place.file.as_str(), place.line, place.col), (file, line, col));
    }

    #[test]
    fn positions_outside_edits_map_to_the_original() {
        let mut s = SourceText::new("m.ron", "(a: 1,\n b: 2,\n c: 3)");
        let b = s.text.find('2').unwrap();
        s.splice(b..b + 1, "12345", 0, origin("set: {\"b\": 12345}", 11));
        assert_eq!(s.text, "(a: 1,\n b: 12345,\n c: 3)");
        check(s.place(s.text.find('c').unwrap()), "m.ron", 3, 2);
        check(s.place(s.text.find("345").unwrap()), "s.ron", 1, 14);
        check(s.place(1), "m.ron", 1, 2);
    }

    #[test]
    fn line_and_column_round_trip_with_unicode() {
        let text = "ab\n·x = 1\nz";
        let at = text.find('x').unwrap();
        let (line, col, line_text) = line_col(text, at);
        assert_eq!((line, col, line_text.as_str()), (2, 2, "·x = 1"));
        assert_eq!(byte_offset(text, line, col), at);
    }

    #[test]
    fn byte_order_mark_is_dropped() {
        let s = SourceText::new("m.ron", "\u{feff}(a: 1)");
        assert_eq!(s.text, "(a: 1)");
    }
}
