//! A span index over RON text: where each struct field, map entry and value sits.
//!
//! serde tells us *that* a value is wrong but, after deserialisation, not *where* it was.
//! This small second parser walks the same text and records byte spans, so semantic
//! errors (a dangling link, a zero-replica store read from replicas) and overrides
//! (`db.replication.lag`) can point at a line and column. It accepts the RON that `ron`
//! accepts for archsim files; it does not build values, only their shape and spans.

use std::ops::Range;

/// A value's shape and span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range of the whole value.
    pub span: Range<usize>,
    /// Its shape.
    pub kind: NodeKind,
}

/// The shape of a RON value.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `Name(field: value, ...)` or `(field: value, ...)`; `close` is the `)` offset and
    /// `trailing_comma` says whether the last field is followed by a comma.
    Struct { fields: Vec<Field>, close: usize, trailing_comma: bool },
    /// `Name(a, b)` or `(a, b)`.
    Tuple(Vec<Node>),
    /// `[a, b]`.
    List(Vec<Node>),
    /// `{k: v, ...}`.
    Map(Vec<(Node, Node)>),
    /// A string literal; `text` is its content with simple escapes resolved.
    Str { text: String },
    /// Anything else: a number, `true`, an enum unit variant, `None`.
    Atom,
}

/// A named field of a struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field name.
    pub name: String,
    /// Byte range of the name.
    pub name_span: Range<usize>,
    /// The value.
    pub value: Node,
}

/// A scan error: the byte offset where the text stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// Byte offset.
    pub at: usize,
    /// What was expected.
    pub message: String,
}

const MAX_DEPTH: usize = 128;

struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

/// Indexes a whole RON document (optional `#![enable(...)]` lines, one value).
pub fn scan(src: &str) -> Result<Node, ScanError> {
    let mut s = Scanner { src, pos: 0, depth: 0 };
    s.skip_trivia();
    while s.rest().starts_with("#!") {
        s.pos += s.rest().find('\n').unwrap_or(s.rest().len());
        s.skip_trivia();
    }
    let node = s.value()?;
    s.skip_trivia();
    if s.pos < src.len() {
        return Err(s.error("end of file"));
    }
    Ok(node)
}

impl Node {
    /// The field `name` of a struct node.
    pub fn field(&self, name: &str) -> Option<&Field> {
        match &self.kind {
            NodeKind::Struct { fields, .. } => fields.iter().find(|f| f.name == name),
            _ => None,
        }
    }

    /// The value for string key `key` of a map node.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, NodeKind::Str { text } if text == key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The key text of a map key: a string's content, or an identifier as written.
    pub fn key_text<'t>(&'t self, src: &'t str) -> Option<&'t str> {
        match &self.kind {
            NodeKind::Str { text } => Some(text),
            NodeKind::Atom => src.get(self.span.clone()),
            _ => None,
        }
    }

    /// The entry whose key (a string or an identifier) is `key`.
    pub fn entry_in(&self, key: &str, src: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => {
                entries.iter().find(|(k, _)| k.key_text(src) == Some(key)).map(|(k, v)| (k, v))
            }
            _ => None,
        }
    }

    /// The string content, for string nodes.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str { text } => Some(text),
            _ => None,
        }
    }
}

impl<'a> Scanner<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, expected: &str) -> ScanError {
        ScanError { at: self.pos, message: format!("expected {expected}") }
    }

    fn skip_trivia(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("/*") {
                self.skip_block_comment();
            } else {
                return;
            }
        }
    }

    fn skip_block_comment(&mut self) {
        // RON block comments nest.
        let mut level = 0usize;
        while self.pos < self.src.len() {
            let rest = self.rest();
            if rest.starts_with("/*") {
                level += 1;
                self.pos += 2;
            } else if rest.starts_with("*/") {
                level -= 1;
                self.pos += 2;
                if level == 0 {
                    return;
                }
            } else {
                self.pos += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_trivia();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<Range<usize>> {
        let start = self.pos;
        let rest = self.rest();
        let rest = rest.strip_prefix("r#").unwrap_or(rest);
        let skipped = self.rest().len() - rest.len();
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
            .map_or(rest.len(), |(i, _)| i);
        let first = rest.chars().next()?;
        if len == 0 || !(first.is_alphabetic() || first == '_') {
            return None;
        }
        self.pos += skipped + len;
        Some(start..self.pos)
    }

    fn value(&mut self) -> Result<Node, ScanError> {
        self.skip_trivia();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("less nesting"));
        }
        let start = self.pos;
        let kind = match self.peek() {
            Some('(') => self.parens()?,
            Some('[') => NodeKind::List(self.seq('[', ']')?),
            Some('{') => self.map()?,
            Some('"') => self.string()?,
            Some('r') if self.rest()[1..].trim_start_matches('#').starts_with('"') => {
                self.raw_string()?
            }
            Some('\'') => self.char_literal()?,
            Some(c) if c.is_alphabetic() || c == '_' => {
                self.ident();
                self.skip_trivia();
                if self.peek() == Some('(') { self.parens()? } else { NodeKind::Atom }
            }
            Some(_) => self.atom()?,
            None => return Err(self.error("a value")),
        };
        self.depth -= 1;
        Ok(Node { span: start..self.pos, kind })
    }

    fn atom(&mut self) -> Result<NodeKind, ScanError> {
        let len = self
            .rest()
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || ",:()[]{}".contains(c))
            .map_or(self.rest().len(), |(i, _)| i);
        if len == 0 {
            return Err(self.error("a value"));
        }
        self.pos += len;
        Ok(NodeKind::Atom)
    }

    /// `( ... )`: a struct when the first item is `name:`, else a tuple.
    fn parens(&mut self) -> Result<NodeKind, ScanError> {
        assert!(self.eat('('), "parens called at `(`");
        let save = self.pos;
        self.skip_trivia();
        let is_struct = match self.ident() {
            Some(_) => {
                self.skip_trivia();
                self.peek() == Some(':') && !self.rest().starts_with("::")
            }
            None => false,
        };
        self.pos = save;
        if !is_struct {
            self.skip_trivia();
            if self.eat(')') {
                let close = self.pos - 1;
                return Ok(NodeKind::Struct { fields: Vec::new(), close, trailing_comma: false });
            }
            self.pos = save;
            return Ok(NodeKind::Tuple(self.items(')')?));
        }
        let mut fields = Vec::new();
        loop {
            self.skip_trivia();
            if self.eat(')') {
                let (close, trailing_comma) = (self.pos - 1, !fields.is_empty());
                return Ok(NodeKind::Struct { fields, close, trailing_comma });
            }
            let name_span = self.ident().ok_or_else(|| self.error("a field name or `)`"))?;
            if !self.eat(':') {
                return Err(self.error("`:` after the field name"));
            }
            let value = self.value()?;
            let name = self.src[name_span.clone()].trim_start_matches("r#").to_string();
            fields.push(Field { name, name_span, value });
            if !self.eat(',') {
                return if self.eat(')') {
                    Ok(NodeKind::Struct { fields, close: self.pos - 1, trailing_comma: false })
                } else {
                    Err(self.error("`,` or `)`"))
                };
            }
        }
    }

    fn seq(&mut self, open: char, close: char) -> Result<Vec<Node>, ScanError> {
        assert!(self.eat(open), "seq called at its opening bracket");
        self.items(close)
    }

    fn items(&mut self, close: char) -> Result<Vec<Node>, ScanError> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
            if !self.eat(',') {
                return if self.eat(close) {
                    Ok(items)
                } else {
                    Err(self.error(&format!("`,` or `{close}`")))
                };
            }
        }
    }

    fn map(&mut self) -> Result<NodeKind, ScanError> {
        assert!(self.eat('{'), "map called at `{{`");
        let mut entries = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(NodeKind::Map(entries));
            }
            let key = self.value()?;
            if !self.eat(':') {
                return Err(self.error("`:` after the map key"));
            }
            let value = self.value()?;
            entries.push((key, value));
            if !self.eat(',') {
                return if self.eat('}') {
                    Ok(NodeKind::Map(entries))
                } else {
                    Err(self.error("`,` or `}`"))
                };
            }
        }
    }

    fn string(&mut self) -> Result<NodeKind, ScanError> {
        self.pos += 1;
        let mut text = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(NodeKind::Str { text });
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => text.push('\n'),
                    Some((_, 't')) => text.push('\t'),
                    Some((_, 'r')) => text.push('\r'),
                    Some((_, 'u')) => text.push(unicode_escape(&mut chars)),
                    Some((_, other)) => text.push(other),
                    None => break,
                },
                c => text.push(c),
            }
        }
        self.pos = self.src.len();
        Err(self.error("a closing `\"`"))
    }

    fn raw_string(&mut self) -> Result<NodeKind, ScanError> {
        self.pos += 1; // r
        let hashes = self.rest().chars().take_while(|&c| c == '#').count();
        self.pos += hashes + 1; // hashes and the quote
        let terminator = format!("\"{}", "#".repeat(hashes));
        match self.rest().find(&terminator) {
            Some(end) => {
                let text = self.rest()[..end].to_string();
                self.pos += end + terminator.len();
                Ok(NodeKind::Str { text })
            }
            None => Err(self.error("the end of the raw string")),
        }
    }

    fn char_literal(&mut self) -> Result<NodeKind, ScanError> {
        self.pos += 1;
        let escaped = self.rest().starts_with('\\');
        let skip = if escaped { 1 } else { 0 };
        let c = self.rest()[skip..].chars().next().ok_or_else(|| self.error("a character"))?;
        self.pos += skip + c.len_utf8();
        if !self.rest().starts_with('\'') {
            return Err(self.error("a closing `'`"));
        }
        self.pos += 1;
        Ok(NodeKind::Atom)
    }
}

/// Decodes the `{XXXX}` of a `\u{XXXX}` escape; anything malformed becomes U+FFFD.
fn unicode_escape(chars: &mut std::str::CharIndices<'_>) -> char {
    let mut rest = chars.clone();
    if rest.next().map(|(_, c)| c) != Some('{') {
        return char::REPLACEMENT_CHARACTER;
    }
    let mut hex = String::new();
    for (_, c) in rest.by_ref() {
        if c == '}' {
            *chars = rest;
            return u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or(char::REPLACEMENT_CHARACTER);
        }
        if hex.len() > 6 {
            break;
        }
        hex.push(c);
    }
    char::REPLACEMENT_CHARACTER
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, path: &[&str], expected: &str) {
        let root = scan(src).unwrap();
        let mut node = &root;
        for seg in path {
            node = match node.field(seg) {
                Some(f) => &f.value,
                None => node.entry(seg).expect("path exists").1,
            };
        }
        assert_eq!(&src[node.span.clone()], expected);
    }

    #[test]
    fn finds_nested_values() {
        let src = r#"Model( // comment
            components: {
                "db": Store(replicas: 2, replication: (lag: exp("2s"))),
                "lb": LoadBalancer(),
            },
            /* block /* nested */ */ links: [(from: "client", to: "lb", latency: const("1ms"))],
        )"#;
        check(src, &["components", "db", "replication", "lag"], r#"exp("2s")"#);
        check(src, &["components", "db", "replicas"], "2");
        check(src, &["components", "lb"], "LoadBalancer()");
    }

    #[test]
    fn tuples_lists_and_strings() {
        let src = r##"(a: [1, 2.5, -3], b: ("x\"y", 'c'), c: r#"raw"#, d: {"k": None})"##;
        check(src, &["a"], "[1, 2.5, -3]");
        check(src, &["b"], r#"("x\"y", 'c')"#);
        check(src, &["d", "k"], "None");
        let root = scan(src).unwrap();
        let NodeKind::Tuple(items) = &root.field("b").unwrap().value.kind else { panic!() };
        assert_eq!(items[0].as_str(), Some("x\"y"));
    }

    #[test]
    fn raw_strings_escapes_and_trailing_commas() {
        let src = r###"{"d\u{62}": r##"a"#b"##, "x": (a: 1, /* c */), "y": (a: 1 /* c */)}"###;
        check(src, &["db"], r###"r##"a"#b"##"###);
        let root = scan(src).unwrap();
        let trailing = |k| match &root.entry(k).unwrap().1.kind {
            NodeKind::Struct { trailing_comma, .. } => *trailing_comma,
            _ => panic!("struct"),
        };
        assert!(trailing("x"));
        assert!(!trailing("y"));
    }

    #[test]
    fn reports_where_it_stopped() {
        assert_eq!(scan("(a: 1").unwrap_err().at, 5);
        assert_eq!(scan("(a: 1) x").unwrap_err().at, 7);
        assert!(scan(&"[".repeat(500)).is_err());
    }
}
