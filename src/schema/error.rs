//! Load errors: each one names a file, line and column, what was expected and what was
//! found, and a hint when one helps. All errors of a file are reported, not just the first.

use std::fmt;

use super::source::Place;

/// One problem in an input file or argument.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file (or `--set`).
    pub file: String,
    /// 1-based line (0, and absent from JSON: the file as a whole).
    #[serde(skip_serializing_if = "is_zero")]
    pub line: usize,
    /// 1-based column in characters (0, and absent from JSON: no column).
    #[serde(rename = "column", skip_serializing_if = "is_zero")]
    pub col: usize,
    /// What is wrong: what was expected and what was found.
    pub message: String,
    /// A suggestion, such as the closest valid name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The offending line, for the caret display.
    #[serde(skip)]
    pub line_text: String,
}

/// `error:`, in bold red where standard error takes colours (`--color`).
fn error_label() -> console::StyledObject<&'static str> {
    console::style("error:").red().bold().for_stderr()
}

impl Diagnostic {
    /// A diagnostic at `place`.
    pub fn at(place: Place, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: place.file,
            line: place.line,
            col: place.col,
            message: message.into(),
            hint: None,
            line_text: place.line_text,
        }
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: Option<String>) -> Diagnostic {
        self.hint = hint;
        self
    }
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
        if !self.line_text.is_empty() {
            let gutter = self.line.to_string().len();
            let (shown, col) = excerpt(&self.line_text, self.col);
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, shown)?;
            writeln!(f, "{:gutter$} | {:>col$}", "", "^", col = col)?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  = help: {hint}")?;
        }
        Ok(())
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Most characters of a line shown under a diagnostic.
const EXCERPT_MAX: usize = 100;

/// The part of `line` shown under a diagnostic, tabs as spaces, and the caret's column
/// in it: the whole line when it is short, else a window around `col` with `…` where
/// it was cut (a minified or generated file can have one enormous line).
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

/// Every problem found while loading a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// A load error with a single diagnostic.
    pub fn one(d: Diagnostic) -> LoadError {
        LoadError { diagnostics: vec![d] }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The closest of `candidates` to `found`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(found, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3) && d < c.len().max(found.len()))
        .min()
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("sede", ["seed", "name"]), Some("did you mean `seed`?".into()));
        assert_eq!(did_you_mean("zzzzzz", ["seed", "name"]), None);
    }

    #[test]
    fn renders_a_caret_under_the_column() {
        let place =
            Place { file: "a.ron".into(), line: 3, col: 5, line_text: "    sede: 1,".into() };
        let text = Diagnostic::at(place, "unknown field").to_string();
        assert!(text.starts_with("a.ron:3:5: error: unknown field\n"), "{text}");
        assert!(text.contains("\n  |     ^\n"), "{text}");
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
