//! Overrides by dotted path: `db.replication.lag = exp("500ms")`.
//!
//! An override is spliced into the text of the file it targets before that file is
//! parsed, so the value is checked by the same serde types as if it had been written in
//! the file, and every error maps back to where the override was written. A path that
//! names a field the file leaves out (a default) inserts it; a path through a missing
//! group inserts the group (`replication: (lag: ...)`).

use super::error::{Diagnostic, did_you_mean};
use super::ron_tree::{Node, NodeKind, scan};
use super::source::{Origin, Place, SourceText, line_col};

/// One override: a dotted path, a RON value, and where it was written.
#[derive(Debug, Clone)]
pub struct Override {
    /// Dotted path, e.g. `db.replication.lag`.
    pub path: String,
    /// RON text of the new value.
    pub value: String,
    /// Where the value text sits (for error positions inside it).
    pub origin: Origin,
    /// Byte offset of the path in the origin text.
    pub path_at: usize,
}

impl Override {
    /// Where the path was written, for errors about the path itself.
    pub fn path_place(&self) -> Place {
        let (line, col, line_text) = line_col(&self.origin.text, self.path_at);
        Place { file: self.origin.file.clone(), line, col, line_text }
    }

    /// An override from a `--set PATH=VALUE` argument.
    pub fn from_cli(arg: &str) -> Result<Override, Diagnostic> {
        let Some(eq) = arg.find('=') else {
            let place = Place { file: "--set".into(), line: 1, col: 1, line_text: arg.into() };
            return Err(Diagnostic::at(place, format!("expected PATH=VALUE, found `{arg}`"))
                .with_hint(Some("e.g. --set db.replication.lag=exp(500ms)".into())));
        };
        let path = arg[..eq].trim().to_string();
        let path_at = arg[..eq].len() - arg[..eq].trim_start().len();
        let text = format!("{}={}", &arg[..eq], quote_bare_durations(&arg[eq + 1..]));
        let origin = Origin { file: "--set".into(), value_at: eq + 1, text };
        let value = origin.text[eq + 1..].to_string();
        one_value(&origin, &path, &value)?;
        Ok(Override { path, value, origin, path_at })
    }
}

/// Refuses a `--set` value that is not exactly one RON value (`2, capacity: (...)`
/// would splice a second field into the file; `exp("1s"` would be blamed on a line of
/// the file), with the place in the argument.
fn one_value(origin: &Origin, path: &str, value: &str) -> Result<(), Diagnostic> {
    let Err(e) = scan(value) else { return Ok(()) };
    let (line, col, line_text) = line_col(&origin.text, origin.value_at + e.at);
    let place = Place { file: origin.file.clone(), line, col, line_text };
    let msg = format!("the value of `{path}` must be exactly one value: {}", e.message);
    let hint = "quote the whole argument for the shell; a struct goes in parentheses, \
                e.g. --set 'db.capacity=(workers: 4, service: exp(2ms))'";
    Err(Diagnostic::at(place, msg).with_hint(Some(hint.into())))
}

/// Wraps bare durations such as `500ms` in quotes, so `exp(500ms)` works on a shell line.
pub fn quote_bare_durations(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut in_string = false;
    let mut chars = value.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            in_string = !in_string;
        }
        let starts_token =
            i == 0 || !value[..i].ends_with(|p: char| p.is_alphanumeric() || p == '_' || p == '.');
        if in_string || !c.is_ascii_digit() || !starts_token {
            out.push(c);
            continue;
        }
        let end = value[i..]
            .find(|p: char| !(p.is_alphanumeric() || p == '.' || p == 'µ'))
            .map_or(value.len(), |n| i + n);
        let token = &value[i..end];
        if token.chars().any(char::is_alphabetic) {
            out.push('"');
            out.push_str(token);
            out.push('"');
        } else {
            out.push_str(token);
        }
        while chars.peek().is_some_and(|&(j, _)| j < end) {
            chars.next();
        }
    }
    out
}

/// What a path segment found in the current node.
enum Step<'a> {
    Found(&'a Node),
    Missing,
}

fn child<'a>(node: &'a Node, seg: &str) -> Step<'a> {
    let found = match &node.kind {
        NodeKind::Struct { .. } => node.field(seg).map(|f| &f.value),
        NodeKind::Map(_) => node.entry(seg).map(|(_, v)| v),
        _ => None,
    };
    found.map_or(Step::Missing, Step::Found)
}

fn names_in(node: &Node) -> Vec<String> {
    match &node.kind {
        NodeKind::Struct { fields, .. } => fields.iter().map(|f| f.name.clone()).collect(),
        NodeKind::Map(entries) => {
            entries.iter().filter_map(|(k, _)| k.as_str().map(str::to_string)).collect()
        }
        _ => Vec::new(),
    }
}

/// Applies `ovr` to `src`, starting the path at `base` (e.g. the model's `components` map).
pub fn apply(src: &mut SourceText, base: &[&str], ovr: &Override) -> Result<(), Diagnostic> {
    let segs: Vec<&str> = ovr.path.split('.').collect();
    if segs.iter().any(|s| s.is_empty()) {
        let msg = format!("override path `{}` has an empty segment", ovr.path);
        return Err(Diagnostic::at(ovr.path_place(), msg));
    }
    let tree = scan(&src.text).map_err(|e| {
        Diagnostic::at(src.place(e.at), format!("cannot index file for overrides: {}", e.message))
    })?;
    let mut node = &tree;
    for seg in base {
        node = match child(node, seg) {
            Step::Found(n) => n,
            Step::Missing => panic!("override base `{seg}` must exist after parsing"),
        };
    }
    for (i, seg) in segs.iter().enumerate() {
        match child(node, seg) {
            Step::Found(n) => node = n,
            Step::Missing => return insert(src, node, &segs, i, ovr),
        }
    }
    src.splice(node.span.clone(), &ovr.value, 0, ovr.origin.clone());
    Ok(())
}

/// Inserts `segs[i..] = value` into the struct `node`, or explains why it cannot.
fn insert(
    src: &mut SourceText,
    node: &Node,
    segs: &[&str],
    i: usize,
    ovr: &Override,
) -> Result<(), Diagnostic> {
    let prefix = segs[..i].join(".");
    match &node.kind {
        NodeKind::Struct { fields, close, trailing_comma } => {
            let mut text = String::new();
            if !fields.is_empty() && !trailing_comma {
                text.push_str(", ");
            }
            // Each name spliced in points back at its segment of the written path.
            let path_text =
                ovr.path_at + usize::from(ovr.origin.text[ovr.path_at..].starts_with('"'));
            let mut names = Vec::new();
            for (k, seg) in segs.iter().enumerate().skip(i) {
                let segment_at = path_text + segs[..k].iter().map(|s| s.len() + 1).sum::<usize>();
                names.push((text.len()..text.len() + seg.len(), segment_at));
                text.push_str(seg);
                text.push_str(if k + 1 < segs.len() { ": (" } else { ": " });
            }
            let value_offset = text.len();
            text.push_str(&ovr.value);
            text.push_str(&")".repeat(segs.len() - 1 - i));
            let origin = Origin { value_at: ovr.origin.value_at, ..ovr.origin.clone() };
            src.splice_named(*close..*close, &text, (value_offset, names), origin);
            Ok(())
        }
        NodeKind::Map(_) => {
            let names = names_in(node);
            let what = if i == 0 { "component".to_string() } else { format!("key in `{prefix}`") };
            let msg = format!(
                "override `{}`: no {what} `{}` (there are: {})",
                ovr.path,
                segs[i],
                names.join(", ")
            );
            let hint = did_you_mean(segs[i], names.iter().map(String::as_str));
            Err(Diagnostic::at(ovr.path_place(), msg).with_hint(hint))
        }
        _ => {
            let msg = format!(
                "override `{}`: `{prefix}` is a single value, so it has no field `{}`",
                ovr.path, segs[i]
            );
            let hint = Some(format!("override `{prefix}` itself"));
            Err(Diagnostic::at(ovr.path_place(), msg).with_hint(hint))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"Model(components: {
    "db": Store(replicas: 2, replication: (lag: exp("2s"))),
    "lb": LoadBalancer(),
})"#;

    fn check(path: &str, value: &str, expected: Result<&str, &str>) {
        let mut src = SourceText::new("m.ron", MODEL);
        let ovr = Override::from_cli(&format!("{path}={value}")).unwrap();
        match (apply(&mut src, &["components"], &ovr), expected) {
            (Ok(()), Ok(fragment)) => assert!(src.text.contains(fragment), "{}", src.text),
            (Err(d), Err(part)) => assert!(d.message.contains(part), "{}", d.message),
            (got, _) => panic!("{path}: unexpected {got:?} -> {}", src.text),
        }
    }

    #[test]
    fn replaces_existing_values() {
        check("db.replication.lag", "exp(500ms)", Ok(r#"(lag: exp("500ms"))"#));
        check("db.replicas", "5", Ok("Store(replicas: 5,"));
    }

    #[test]
    fn inserts_missing_fields_and_groups() {
        check("db.reads", "any_replica", Ok(r#"exp("2s")), reads: any_replica)"#));
        check("lb.policy", "round_robin", Ok("LoadBalancer(policy: round_robin)"));
    }

    #[test]
    fn inserts_after_a_trailing_comment() {
        let model = "Model(components: {\"db\": Store(replicas: 2, // two\n)})";
        let mut src = SourceText::new("m.ron", model);
        let ovr = Override::from_cli("db.reads=any_replica").unwrap();
        apply(&mut src, &["components"], &ovr).unwrap();
        assert_eq!(
            src.text,
            "Model(components: {\"db\": Store(replicas: 2, // two\nreads: any_replica)})"
        );
    }

    #[test]
    fn rejects_unknown_components_and_scalar_paths() {
        check("dbx.replicas", "1", Err("no component `dbx`"));
        check("db.replicas.count", "1", Err("is a single value"));
    }

    #[test]
    fn quotes_bare_durations_only() {
        assert_eq!(quote_bare_durations("exp(500ms)"), r#"exp("500ms")"#);
        assert_eq!(quote_bare_durations("uniform(0s, 1.5s)"), r#"uniform("0s", "1.5s")"#);
        assert_eq!(quote_bare_durations(r#"exp("2s")"#), r#"exp("2s")"#);
        assert_eq!(quote_bare_durations("0.25"), "0.25");
        assert_eq!(quote_bare_durations("x2s"), "x2s");
    }

    #[test]
    fn errors_inside_values_point_into_the_argument() {
        let mut src = SourceText::new("m.ron", MODEL);
        let ovr = Override::from_cli("db.replicas=7").unwrap();
        apply(&mut src, &["components"], &ovr).unwrap();
        let at = src.text.find('7').unwrap();
        let place = src.place(at);
        assert_eq!((place.file.as_str(), place.line, place.col), ("--set", 1, 13));
    }

    #[test]
    fn a_field_name_spliced_in_points_at_its_path_segment() {
        // `db.replication.ack` inserts `ack: ...` into `replication`; `db.failover.x`
        // inserts `failover: (x: ...)`: each name's bytes map to its segment of the path.
        for (arg, name, col) in [
            ("db.replication.ack=exp(1ms)", "ack", 16),
            ("db.failover.x=1", "failover", 4),
            ("db.failover.x=1", "x: ", 13),
        ] {
            let mut src = SourceText::new("m.ron", MODEL);
            let ovr = Override::from_cli(arg).unwrap();
            apply(&mut src, &["components"], &ovr).unwrap();
            let place = src.place(src.text.find(name).unwrap());
            assert_eq!((place.file.as_str(), place.line, place.col), ("--set", 1, col), "{arg}");
        }
    }
}
