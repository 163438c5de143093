//! The JSON a command writes, as paths: every field of the summary with its type and
//! meaning, maps shown as `<name>`, lists as `[]`.

use std::fmt::Write;

use serde_json::Value;

use super::schema_text::{
    Defs, cell, description, ref_name, resolve, strip_links, type_text, unwrap_optional,
};

/// Deepest nesting followed (the summary is about five deep).
const DEPTH_MAX: usize = 10;

/// A table of every path under the schema `root`.
pub fn paths_table(root: &Value) -> String {
    let empty = Defs::new();
    let defs = root.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let mut rows = Vec::new();
    walk(root, "", defs, &mut Vec::new(), &mut rows);
    let mut table = String::from("| Path | Type | Meaning |\n|---|---|---|\n");
    for (path, kind, meaning) in rows {
        let _ = writeln!(table, "| `{path}` | {kind} | {meaning} |");
    }
    table
}

/// Adds a row for each field under `schema` at `path`; `inside` holds the definitions
/// being walked, so a recursive shape stops.
fn walk(
    schema: &Value,
    path: &str,
    defs: &Defs,
    inside: &mut Vec<String>,
    rows: &mut Vec<(String, String, String)>,
) {
    let schema = unwrap_optional(schema);
    let name = ref_name(schema).map(str::to_string);
    if name.as_ref().is_some_and(|n| inside.contains(n)) || inside.len() > DEPTH_MAX {
        return;
    }
    inside.extend(name.clone());
    let target = resolve(schema, defs);
    if let Some(properties) = target.get("properties").and_then(Value::as_object) {
        for (field, child) in properties {
            let child_path =
                if path.is_empty() { field.clone() } else { format!("{path}.{field}") };
            rows.push((child_path.clone(), leaf_type(child, defs), cell(description(child))));
            walk(child, &child_path, defs, inside, rows);
        }
    } else if let Some(values) = target.get("additionalProperties").filter(|v| v.is_object()) {
        walk(values, &format!("{path}.<name>"), defs, inside, rows);
    } else if let Some(items) = target.get("items") {
        walk(items, &format!("{path}[]"), defs, inside, rows);
    }
    if name.is_some() {
        inside.pop();
    }
}

/// A field's type in the JSON: a struct's as `object`, otherwise as the file reference
/// writes it, without links (the paths below it say what it holds).
fn leaf_type(schema: &Value, defs: &Defs) -> String {
    let target = resolve(unwrap_optional(schema), defs);
    let text = match target.get("type").and_then(Value::as_str) {
        Some("object") if target.get("properties").is_some() => "object".to_string(),
        Some("object") => "map".to_string(),
        Some("array") => "list".to_string(),
        _ if target.get("oneOf").is_some() => type_text(target),
        _ => type_text(target),
    };
    let text = strip_links(&text);
    if unwrap_optional(schema) != schema { format!("{text} or absent") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_lists_and_structs_become_paths() {
        let root = json!({
            "properties": {
                "operations": {"type": "object", "additionalProperties": {"$ref": "#/$defs/op"}},
                "verdicts": {"type": "array", "items": {"$ref": "#/$defs/op"}},
            },
            "$defs": {"op": {"type": "object", "properties": {
                "count": {"type": "integer", "description": "How many."},
                "p99": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            }}},
        });
        let table = paths_table(&root);
        assert!(table.contains("| `operations.<name>.count` | integer | How many. |"), "{table}");
        assert!(table.contains("| `verdicts[].p99` | integer or absent |"), "{table}");
        assert!(table.contains("| `operations` | map |"), "{table}");
    }
}
