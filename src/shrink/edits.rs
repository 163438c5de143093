//! Text edits of a scenario file for the shrinker: its faults as RON texts, shorter
//! timings inside one fault, and the shrunk file written out with its overrides.

use std::path::{Component, Path, PathBuf};

use super::Shrunk;
use crate::engine::SimDuration;
use crate::schema::overrides::{Override, apply};
use crate::schema::ron_tree::{NodeKind, scan};
use crate::schema::source::SourceText;

/// A fault's timing fields the shrinker makes shorter (or earlier).
pub const FAULT_TIMES: [&str; 4] = ["at", "restart_after", "heal_after", "for"];

/// The RON text of each fault in the scenario file at `path`, in order.
pub fn fault_texts(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let tree = scan(text).map_err(|e| e.message)?;
    let Some(faults) = tree.field("faults") else { return Ok(Vec::new()) };
    match &faults.value.kind {
        NodeKind::List(items) => {
            Ok(items.iter().map(|n| text[n.span.clone()].to_string()).collect())
        }
        _ => Err("`faults` is not a list".into()),
    }
}

/// `d` exactly, as a file would say it: `7m`, `45s`, or `2643ms`.
pub fn exact(d: SimDuration) -> String {
    crate::engine::time::format_exact(d.as_nanos())
}

/// Shorter versions of `d`, shortest first: 1/64 of it up to 3/4, in whole milliseconds.
pub fn shorter_durations(d: SimDuration) -> Vec<SimDuration> {
    let ms = d.as_nanos() / 1_000_000;
    let mut out: Vec<u64> = [64, 32, 16, 8, 4, 2]
        .iter()
        .map(|k| ms / k)
        .chain([ms * 3 / 4])
        .filter(|&m| m > 0 && m < ms)
        .collect();
    out.dedup();
    out.into_iter().map(SimDuration::from_millis).collect()
}

/// The scenario's timing parameters a shrink may make smaller, as (path, value text):
/// every `set` entry whose value holds durations (a replication lag, a poll interval),
/// and the clients' clock skew.
pub fn parameters(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let tree = scan(text).map_err(|e| e.message)?;
    let mut out = Vec::new();
    if let Some(NodeKind::Map(entries)) = tree.field("set").map(|f| &f.value.kind) {
        for (k, v) in entries {
            let value = &text[v.span.clone()];
            if let (Some(key), true) = (k.as_str(), !scaled(value, 1, 2).is_empty()) {
                out.push((key.to_string(), value.to_string()));
            }
        }
    }
    let skew = tree
        .field("clients")
        .and_then(|c| c.value.field("clock"))
        .and_then(|c| c.value.field("skew"));
    if let Some(skew) = skew {
        out.push(("clients.clock.skew".into(), text[skew.value.span.clone()].to_string()));
    }
    Ok(out)
}

/// `value` with every duration literal in it times `num / den`, in whole
/// milliseconds; empty when it holds none (or none that scaling changes).
pub fn scaled(value: &str, num: u64, den: u64) -> String {
    let mut out = String::new();
    let mut changed = false;
    let mut rest = value;
    while let Some(open) = rest.find('"') {
        let Some(len) = rest[open + 1..].find('"') else { break };
        let literal = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        match SimDuration::parse(literal) {
            Ok(d) if d.as_nanos() >= 1_000_000 => {
                let ms = (d.as_nanos() / 1_000_000 * num / den).max(1);
                changed |= ms * 1_000_000 != d.as_nanos();
                out.push_str(&format!("\"{}\"", exact(SimDuration::from_millis(ms))));
            }
            _ => out.push_str(&rest[open..open + len + 2]),
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    if changed { out } else { String::new() }
}

/// `fault` with its `field` set to each shorter value, shortest first; `None` when the
/// fault has no such duration field.
pub fn fault_time_candidates(fault: &str, field: &str) -> Option<Vec<String>> {
    let tree = scan(fault).ok()?;
    let value = &tree.field(field)?.value;
    let current = SimDuration::parse(value.as_str()?).ok()?;
    let texts = shorter_durations(current)
        .into_iter()
        .map(|d| {
            let mut text = fault.to_string();
            text.replace_range(value.span.clone(), &format!("\"{}\"", exact(d)));
            text
        })
        .collect();
    Some(texts)
}

/// The shrunk scenario as a file at `out`: the original at `path` with the shrunk
/// faults, clients and duration, the seed, an `expect` of just the violated
/// invariant, and the model path as seen from `out`; `header` (comment lines) first.
pub fn write_scenario(
    path: &Path,
    out: &Path,
    shrunk: &Shrunk,
    seed: u64,
    check: &str,
    header: &str,
) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = with_parameters(&text, &shrunk.parameters)?;
    let mut src = SourceText::new(&path.display().to_string(), &text);
    let tree = scan(&src.text).map_err(|e| e.message)?;
    let model = tree.field("model").and_then(|f| f.value.as_str()).ok_or("no `model` field")?;
    let model = model_from(path, out, model)?;
    // Model parameters were spliced into `set` above; the rest are scenario fields.
    let scenario_field = |arg: &String| {
        let first = arg.split(['.', '=']).next().unwrap_or_default();
        crate::schema::load::SCENARIO_FIELDS.contains(&first)
    };
    let mut sets: Vec<String> = shrunk.sets().into_iter().filter(scenario_field).collect();
    sets.push(format!("seed={seed}"));
    sets.push(format!("expect={{ {check}: violated }}"));
    sets.push(format!("model={:?}", model));
    for arg in &sets {
        let ovr = Override::from_cli(arg).map_err(|d| d.message)?;
        apply(&mut src, &[], &ovr).map_err(|d| d.message)?;
    }
    Ok(format!("{header}{}", src.text))
}

/// `text` with each shrunk `set` entry's value replaced (the clients' parameters go
/// through the ordinary overrides).
fn with_parameters(text: &str, parameters: &[(String, String)]) -> Result<String, String> {
    let mut text = text.strip_prefix('\u{feff}').unwrap_or(text).to_string();
    for (key, value) in parameters.iter().filter(|(k, _)| !k.starts_with("clients.")) {
        let tree = scan(&text).map_err(|e| e.message)?;
        let set = tree.field("set").ok_or("no `set` block")?;
        let (_, v) = set.value.entry(key).ok_or_else(|| format!("no `{key}` in `set`"))?;
        text.replace_range(v.span.clone(), value);
    }
    Ok(text)
}

/// The model path `rel` (relative to the scenario at `path`) as seen from `out`'s folder.
fn model_from(path: &Path, out: &Path, rel: &str) -> Result<String, String> {
    let folder = |p: &Path| {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        parent.canonicalize().map_err(|e| format!("{}: {e}", parent.display()))
    };
    let model = folder(path)?.join(rel);
    let model = model.canonicalize().map_err(|e| format!("{}: {e}", model.display()))?;
    let from = folder(out)?;
    Ok(relative(&from, &model).to_string_lossy().into_owned())
}

/// `to` relative to the folder `from` (both absolute).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (a, b): (Vec<Component>, Vec<Component>) =
        (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for part in &b[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorter_durations_are_shorter_and_in_order() {
        let d = shorter_durations(SimDuration::from_secs(64));
        let secs: Vec<u64> = d.iter().map(|d| d.as_nanos() / 1_000_000_000).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 48]);
        assert!(shorter_durations(SimDuration::from_millis(1)).is_empty());
    }

    #[test]
    fn a_faults_timing_is_replaced_in_place() {
        let fault = r#"crash(target: "db", at: "2m", restart_after: "8s")"#;
        let c = fault_time_candidates(fault, "restart_after").unwrap();
        assert_eq!(c[0], r#"crash(target: "db", at: "2m", restart_after: "125ms")"#);
        assert_eq!(exact(SimDuration::from_millis(2_643)), "2643ms");
        assert_eq!(exact(SimDuration::from_secs(420)), "7m");
        assert_eq!(c.last().unwrap(), r#"crash(target: "db", at: "2m", restart_after: "6s")"#);
        assert!(fault_time_candidates(fault, "heal_after").is_none());
    }

    #[test]
    fn durations_in_a_value_scale_and_the_rest_stays() {
        assert_eq!(scaled(r#"exp("2s")"#, 1, 4), r#"exp("500ms")"#);
        assert_eq!(scaled(r#"uniform("0s", "3s")"#, 1, 2), r#"uniform("0s", "1500ms")"#);
        assert_eq!(scaled("primary", 1, 2), "");
        assert_eq!(scaled(r#"poll(every: "2s")"#, 1, 2), r#"poll(every: "1s")"#);
    }

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        let p = relative(Path::new("/a/b/c"), Path::new("/a/models/m.ron"));
        assert_eq!(p, Path::new("../../models/m.ron"));
    }
}
