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
    pub hint: Option<Box<str>>,
    /// The offending line, for the caret display.
    #[serde(skip)]
    pub line_text: String,
    /// Other places the problem concerns, each with what it is.
    /// (Boxed: a diagnostic travels in `Result`s, and most have none.)
    #[serde(skip_serializing_if = "<[Related]>::is_empty")]
    pub related: Box<[Related]>,
}

/// Another place a diagnostic concerns, such as the first of two duplicates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Related {
    /// The file (or `--set`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    #[serde(rename = "column")]
    pub col: usize,
    /// What is at that place.
    #[serde(rename = "message")]
    pub label: String,
    /// That line's text.
    #[serde(skip)]
    pub line_text: String,
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
            related: Box::default(),
        }
    }

    /// The same diagnostic with another place it concerns, labelled (such as where a
    /// duplicated name was first given).
    pub fn also(mut self, place: Place, label: impl Into<String>) -> Diagnostic {
        let Place { file, line, col, line_text } = place;
        let related = Related { file, line, col, label: label.into(), line_text };
        self.related = self.related.iter().cloned().chain([related]).collect();
        self
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: Option<String>) -> Diagnostic {
        self.hint = hint.map(String::into_boxed_str);
        self
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    nearest(found, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate a few edits from `found`, the nearest one, if any.
pub fn nearest<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(found, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3) && d < c.len().max(found.len()))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("sede", ["seed", "name"]), Some("did you mean `seed`?".into()));
        assert_eq!(did_you_mean("zzzzzz", ["seed", "name"]), None);
    }
}
