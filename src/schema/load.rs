//! Loading a scenario: read the files, apply overrides, parse, validate.
//!
//! Order matters for good errors: each file is first parsed as written (so syntax errors
//! point at the file), then overrides are spliced in and it is parsed again (so a bad
//! override points at the override), then the meaning is checked. The model path in a
//! scenario is relative to the scenario file.

use std::path::{Component as PathPart, Path, PathBuf};

use serde::de::DeserializeOwned;

use super::error::{Diagnostic, LoadError, did_you_mean};
use super::overrides::{Override, apply};
use super::raw::{RawComponent, RawModel, RawScenario};
use super::ron_tree::{Node, NodeKind, scan};
use super::source::{Origin, Place, SourceText};
use super::validate::{self, Locator};
use crate::components::Registry;
use crate::components::registry::CustomSpec;
use crate::model::{Model, Scenario};

/// Largest input file accepted, in bytes.
pub const FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// Top-level scenario fields an override path may start with (others go to the model).
pub const SCENARIO_FIELDS: [&str; 19] = [
    "name",
    "seed",
    "seeds",
    "duration",
    "clients",
    "faults",
    "swarm",
    "check",
    "staleness_bound",
    "propagation_bound",
    "revocation_bound",
    "coherence_bound",
    "at_least_once",
    "processing_bound",
    "expect",
    "objectives",
    "timeline",
    "timeline_interval",
    "sweep",
];

/// Top-level model fields an override path may start with (others name a component).
pub const MODEL_FIELDS: [&str; 2] = ["regions", "region_latency"];

type Loaded<T> = Result<T, LoadError>;

fn fail<T>(d: Diagnostic) -> Loaded<T> {
    Err(LoadError::one(d))
}

/// Reads `path` as text; problems are reported at `blame` (or the file's start).
fn read_source(file: &str, path: &Path, blame: Option<Place>) -> Loaded<SourceText> {
    let place = || blame.clone().unwrap_or_else(|| Place::file_start(file));
    let size = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return fail(Diagnostic::at(place(), format!("`{file}` is a directory, not a file")));
        }
        // A device or FIFO has no size to check: `/dev/zero` never ends, and a FIFO
        // without a writer blocks the open forever.
        Ok(m) if !m.is_file() => {
            let msg = format!("`{file}` is not a regular file (a device, FIFO or socket)");
            return fail(Diagnostic::at(place(), msg));
        }
        Ok(m) => m.len(),
        Err(e) => return fail(Diagnostic::at(place(), format!("cannot read `{file}`: {e}"))),
    };
    let too_big = |size: u64| {
        let msg = format!("`{file}` is {size} bytes; input files are limited to {FILE_BYTES_MAX}");
        Diagnostic::at(place(), msg)
    };
    if size > FILE_BYTES_MAX {
        return fail(too_big(size));
    }
    super::source::protect_input(path);
    let bytes = read_at_most(path, FILE_BYTES_MAX).map_err(|e| {
        LoadError::one(Diagnostic::at(place(), format!("cannot read `{file}`: {e}")))
    })?;
    if bytes.len() as u64 > FILE_BYTES_MAX {
        return fail(too_big(bytes.len() as u64)); // It grew while being read.
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceText::new(file, &text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&e.into_bytes()[..at]).into_owned();
            let src = SourceText::new(file, &text);
            fail(Diagnostic::at(src.place(at), "expected UTF-8 text, found invalid bytes"))
        }
    }
}

/// Reads `path`, stopping one byte past `limit` so a file that grows while it is read
/// cannot exhaust memory.
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Parses `src` as `T`, turning ron's error into a located diagnostic.
pub fn parse<T: DeserializeOwned>(src: &SourceText) -> Result<T, Diagnostic> {
    use ron::extensions::Extensions;
    let options = ron::Options::default()
        .with_default_extension(Extensions::UNWRAP_VARIANT_NEWTYPES | Extensions::IMPLICIT_SOME);
    options.from_str::<T>(&src.text).map_err(|e| {
        let at = super::source::byte_offset(&src.text, e.span.start.line, e.span.start.col);
        if matches!(e.code, ron::Error::IntegerOutOfBounds) && src.text[..at].ends_with('-') {
            // ron points past the sign; the sign is the problem.
            let token = token_at(&src.text, at - 1).unwrap_or_default();
            let msg = format!("expected a non-negative integer, found `{token}`");
            return Diagnostic::at(src.place(at - 1), msg);
        }
        let place = src.place(at);
        let hint = match &e.code {
            ron::Error::NoSuchStructField { expected, found, outer } => {
                did_you_mean(found, expected.iter().copied())
                    .or_else(|| field_of_another_kind(found, outer.as_deref()))
            }
            ron::Error::NoSuchEnumVariant { expected, found, .. } => {
                did_you_mean(found, expected.iter().copied())
            }
            ron::Error::MissingStructField { field, outer: Some(outer) } => {
                Some(format!("`{outer}` needs `{field}`: add `{field}: ...` inside its brackets"))
            }
            ron::Error::ExpectedString => Some(expected_string_hint(token_at(&src.text, at))),
            ron::Error::SuggestRawIdentifier(_) if src.text[..at].trim_end().ends_with("acks:") => {
                Some("acks is `none` (Kafka's acks=0), `leader` (acks=1) or `all`".into())
            }
            _ => None,
        };
        // The reference shows a field left out as `absent`; RON's word for it is `None`.
        let hint = match token_at(&src.text, at).as_deref() {
            Some("absent") => Some("to leave an optional field out, write `None`".into()),
            _ => hint,
        };
        let mut message = e.code.to_string();
        if let ron::Error::SuggestRawIdentifier(found) = &e.code {
            message = format!("expected a name, found `{found}`");
        }
        if message.starts_with("Expected") && !message.contains("found") {
            if let Some(token) = token_at(&src.text, at) {
                message = format!("{message}, found `{token}`");
            }
        }
        Diagnostic::at(place, message).with_hint(hint)
    })
}

/// Where a string was expected: a bare name wants quotes; anything else is most
/// likely a duration written without its unit or quotes.
fn expected_string_hint(found: Option<String>) -> String {
    match found {
        Some(name) if name.starts_with(|c: char| c.is_alphabetic() || c == '_') => {
            format!(r#"names and durations are quoted strings: "{name}""#)
        }
        _ => r#"durations are strings with a unit, e.g. "500ms""#.into(),
    }
}

/// For a field a component kind does not have: the kinds that have it.
fn field_of_another_kind(field: &str, outer: Option<&str>) -> Option<String> {
    let outer = outer?;
    let kinds = crate::components::kinds::kinds_with_field(field);
    let is_kind = crate::components::kinds::KIND_NAMES.contains(&outer);
    if kinds.is_empty() || kinds.contains(&outer) || !is_kind {
        return None;
    }
    let names: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
    Some(format!("`{field}` is a setting of {}, not of `{outer}`", names.join(" and ")))
}

/// The token starting at (or just after) byte `at`, shortened for messages.
fn token_at(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at..)?.trim_start();
    let end = if let Some(inner) = rest.strip_prefix('"') {
        inner.find('"').map_or(rest.len(), |i| i + 2)
    } else {
        rest.find(|c: char| c.is_whitespace() || ",:()[]{}".contains(c)).unwrap_or(rest.len())
    };
    let token: String = rest[..end].chars().take(40).collect();
    (!token.is_empty()).then_some(token)
}

fn index(src: &SourceText) -> Loaded<Node> {
    scan(&src.text).map_err(|e| LoadError::one(Diagnostic::at(src.place(e.at), e.message)))
}

/// Rejects a map that names the same key twice (ron would keep the last silently).
fn check_duplicate_keys(src: &SourceText, node: &Node, out: &mut Vec<Diagnostic>) {
    let children: Vec<&Node> = match &node.kind {
        NodeKind::Struct { fields, .. } => fields.iter().map(|f| &f.value).collect(),
        NodeKind::Tuple(items) | NodeKind::List(items) => items.iter().collect(),
        NodeKind::Map(entries) => {
            for (i, (k, _)) in entries.iter().enumerate() {
                let Some(key) = k.key_text(&src.text) else { continue };
                if let Some((first, _)) =
                    entries[..i].iter().find(|(p, _)| p.key_text(&src.text) == Some(key))
                {
                    let first = src.place(first.span.start);
                    let msg = format!("duplicate key {key:?} (first at line {})", first.line);
                    let d = Diagnostic::at(src.place(k.span.start), msg);
                    out.push(d.also(first, "first given here"));
                }
            }
            entries.iter().flat_map(|(k, v)| [k, v]).collect()
        }
        _ => Vec::new(),
    };
    children.into_iter().for_each(|c| check_duplicate_keys(src, c, out));
}

/// The `set` entries of a scenario file as overrides, in file order.
fn file_overrides(src: &SourceText, tree: &Node) -> Vec<Override> {
    let Some(set) = tree.field("set") else { return Vec::new() };
    let NodeKind::Map(entries) = &set.value.kind else { return Vec::new() };
    let origin = |value_at| Origin { file: src.file.clone(), text: src.text.clone(), value_at };
    entries
        .iter()
        .filter_map(|(k, v)| {
            let path = k.as_str()?.to_string();
            let value = src.text[v.span.clone()].to_string();
            Some(Override { path, value, origin: origin(v.span.start), path_at: k.span.start })
        })
        .collect()
}

/// Applies overrides to `src` and re-parses it as `T`.
fn apply_all<T: DeserializeOwned>(
    src: &mut SourceText,
    base: &[&str],
    overrides: &[&Override],
) -> Loaded<Option<T>> {
    if overrides.is_empty() {
        return Ok(None);
    }
    let mut errors = Vec::new();
    for o in overrides {
        let mut trial = src.clone();
        match apply(&mut trial, base, o).and_then(|()| parse::<T>(&trial).map(|_| ())) {
            Ok(()) => *src = trial,
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(LoadError { diagnostics: errors });
    }
    parse::<T>(src).map(Some).map_err(LoadError::one)
}

/// Joins `rel` to the scenario's folder and removes `.` and `..` parts lexically.
fn resolve(scenario: &Path, rel: &str) -> PathBuf {
    let joined = scenario.parent().unwrap_or(Path::new("")).join(rel);
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            PathPart::CurDir => {}
            PathPart::ParentDir
                if matches!(out.components().next_back(), Some(PathPart::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A file read, parsed as `T` and indexed, with duplicate map keys refused.
fn open<T: DeserializeOwned>(path: &Path, blame: Option<Place>) -> Loaded<(SourceText, T, Node)> {
    let file = path.display().to_string();
    let src = read_source(&file, path, blame)?;
    let raw: T = parse(&src).map_err(LoadError::one)?;
    let tree = index(&src)?;
    let mut errors = Vec::new();
    check_duplicate_keys(&src, &tree, &mut errors);
    if !errors.is_empty() {
        return Err(LoadError { diagnostics: errors });
    }
    Ok((src, raw, tree))
}

/// Loads and validates the scenario at `path`, with `--set` arguments applied last.
pub fn load_scenario(path: &Path, cli_sets: &[String], registry: &Registry) -> Loaded<Scenario> {
    let file = path.display().to_string();
    let (mut src, mut raw, mut tree) = open::<RawScenario>(path, None)?;
    let mut errors = Vec::new();
    let mut overrides = file_overrides(&src, &tree);
    for arg in cli_sets {
        match Override::from_cli(arg) {
            Ok(o) => overrides.push(o),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(LoadError { diagnostics: errors });
    }
    let (to_scenario, to_model): (Vec<&Override>, Vec<&Override>) = overrides
        .iter()
        .partition(|o| SCENARIO_FIELDS.contains(&o.path.split('.').next().unwrap_or("")));
    if let Some(r) = apply_all::<RawScenario>(&mut src, &[], &to_scenario)? {
        raw = r;
        tree = index(&src)?;
    }
    let scenario_at = || Locator { src: &src, tree: &tree };
    let settings_errors = validate::scenario_settings(&raw, scenario_at());
    if !settings_errors.is_empty() {
        return Err(LoadError { diagnostics: settings_errors });
    }
    let model_path = resolve(path, &raw.model);
    let blame = scenario_at().place(&["model"]);
    let model = load_model(&model_path, Some(blame), &to_model, registry)?;
    let clients = validate::clients(&raw.clients, &model, scenario_at())
        .map_err(|diagnostics| LoadError { diagnostics })?;
    let experiment = super::experiment::experiment(&raw, &model, &clients, scenario_at())
        .map_err(|diagnostics| LoadError { diagnostics })?;
    Ok(Scenario {
        name: raw.name.clone().unwrap_or_else(|| file.clone()),
        path: file,
        model,
        seed: raw.seed,
        seeds: raw.seeds.unwrap_or(1),
        duration: raw.duration.0,
        clients,
        cli_overrides: cli_sets.to_vec(),
        overrides: overrides.iter().map(|o| format!("{}={}", o.path, o.value.trim())).collect(),
        faults: experiment.faults,
        swarm: experiment.swarm,
        checks: experiment.checks,
        expect: experiment.expect,
        objectives: experiment.objectives,
        timeline: raw.timeline,
        timeline_interval: raw.timeline_interval.map_or(crate::check::timeline::INTERVAL, |d| d.0),
        limits: crate::engine::Limits::default(),
    })
}

/// Where `field` (a path of names) is in the scenario file at `path`, for errors found
/// after loading, such as a run forecast never to finish.
pub fn field_place(path: &Path, field: &[&str]) -> Option<Place> {
    let (src, _, tree) = open::<RawScenario>(path, None).ok()?;
    Some(Locator { src: &src, tree: &tree }.place(field))
}

/// Reads the `sweep` block of the scenario at `path`, with the `--set` arguments that
/// change it (`sweep.seeds=1`) applied, refusing more than `runs_max` runs (the
/// scenario itself is loaded per grid point, with the point's overrides).
pub fn load_sweep(
    path: &Path,
    cli_sets: &[String],
    runs_max: usize,
) -> Loaded<crate::model::sweep::SweepSpec> {
    let (mut src, mut raw, mut tree) = open::<RawScenario>(path, None)?;
    let mut overrides = Vec::new();
    let mut errors = Vec::new();
    for arg in cli_sets {
        match Override::from_cli(arg) {
            Ok(o) if o.path.split('.').next() == Some("sweep") => overrides.push(o),
            Ok(_) => {}
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(LoadError { diagnostics: errors });
    }
    let to_sweep: Vec<&Override> = overrides.iter().collect();
    if let Some(r) = apply_all::<RawScenario>(&mut src, &[], &to_sweep)? {
        raw = r;
        tree = index(&src)?;
    }
    let at = Locator { src: &src, tree: &tree };
    let Some(sweep) = &raw.sweep else {
        let msg = "the scenario has no `sweep` block";
        let hint = r#"add e.g. `sweep: (grid: [(param: "db.replication.lag", values: linear(from: 0, to: 5, steps: 11), format: "exp(\"{}s\")")], seeds: 5, metrics: [(name: "stale reads (%)", of: "reads.stale", per: "reads.count", scale: 100)])`"#;
        return fail(Diagnostic::at(at.place(&[]), msg).with_hint(Some(hint.into())));
    };
    super::sweep::sweep(sweep, &at, runs_max).map_err(|diagnostics| LoadError { diagnostics })
}

/// Loads and validates a model file, with `overrides` spliced in.
pub fn load_model(
    path: &Path,
    blame: Option<Place>,
    overrides: &[&Override],
    registry: &Registry,
) -> Loaded<Model> {
    let (mut src, mut raw, mut tree) = open::<RawModel>(path, blame)?;
    let (top, below): (Vec<&Override>, Vec<&Override>) = overrides
        .iter()
        .partition(|o| MODEL_FIELDS.contains(&o.path.split('.').next().unwrap_or("")));
    for (base, group) in [(&[][..], top), (&["components"][..], below)] {
        if let Some(r) = apply_all::<RawModel>(&mut src, base, &group)? {
            raw = r;
            tree = index(&src)?;
        }
    }
    let at = Locator { src: &src, tree: &tree };
    let model = validate::model(&raw, at).map_err(|diagnostics| LoadError { diagnostics })?;
    check_custom_kinds(&raw, &model, &Locator { src: &src, tree: &tree }, registry)?;
    Ok(model)
}

fn check_custom_kinds(
    raw: &RawModel,
    model: &Model,
    at: &Locator<'_>,
    registry: &Registry,
) -> Loaded<()> {
    let mut errors = Vec::new();
    for spec in &model.components {
        let Some(c) = spec.spec::<CustomSpec>() else { continue };
        if registry.get(&c.kind).is_none() {
            debug_assert!(matches!(raw.components[&spec.name], RawComponent::Custom(_)));
            let kinds = registry.kinds();
            let msg = format!(
                "no custom component kind `{}` is registered (registered: {})",
                c.kind,
                if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") }
            );
            let place = at.place(&["components", &spec.name, "kind"]);
            errors.push(Diagnostic::at(place, msg).with_hint(did_you_mean(&c.kind, kinds)));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(LoadError { diagnostics: errors }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_says_where_it_goes() {
        let src = SourceText::new("m.ron", "failover(\n)");
        let d = parse::<crate::components::failure_detector::RawFailover>(&src).unwrap_err();
        assert!(d.message.contains("missing field named `heartbeat`"), "{d}");
        let hint = d.hint.unwrap_or_default().to_string();
        assert_eq!(hint, "`failover` needs `heartbeat`: add `heartbeat: ...` inside its brackets");
    }

    #[test]
    fn a_setting_of_another_kind_is_named_as_such() {
        let hint = field_of_another_kind("hinted_handoff", Some("Store")).unwrap();
        assert_eq!(hint, "`hinted_handoff` is a setting of `QuorumStore`, not of `Store`");
        assert_eq!(field_of_another_kind("replicas", Some("Store")), None, "its own field");
        assert_eq!(field_of_another_kind("no_such_field", Some("Store")), None);
        assert_eq!(field_of_another_kind("n", Some("clients")), None, "not a kind");
    }

    #[test]
    fn model_paths_resolve_against_the_scenario_folder() {
        let p = resolve(Path::new("scenarios/x.ron"), "../models/m.ron");
        assert_eq!(p, PathBuf::from("models/m.ron"));
        let p = resolve(Path::new("/a/b/x.ron"), "./m.ron");
        assert_eq!(p, PathBuf::from("/a/b/m.ron"));
        let p = resolve(Path::new("x.ron"), "../m.ron");
        assert_eq!(p, PathBuf::from("../m.ron"));
    }
}
