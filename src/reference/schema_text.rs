//! A JSON Schema (as schemars derives it from the file formats' serde structs and their
//! doc comments) read back as the words the reference prints: a field's type as a file
//! writes it, its default in RON, a variant's form.

use serde_json::{Map, Value};

/// The definitions a schema's `$ref`s point into.
pub type Defs = Map<String, Value>;

/// The definition name a `$ref` points at.
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.rsplit('/').next()
}

/// The schema a reference points at, or the schema itself.
pub fn resolve<'a>(schema: &'a Value, defs: &'a Defs) -> &'a Value {
    ref_name(schema).and_then(|name| defs.get(name)).unwrap_or(schema)
}

/// The schema inside an optional (`anyOf [X, null]`), or the schema itself.
pub fn unwrap_optional(schema: &Value) -> &Value {
    match schema.get("anyOf").and_then(Value::as_array) {
        Some(parts) if parts.len() == 2 && parts[1].get("type") == Some(&"null".into()) => {
            &parts[0]
        }
        _ => schema,
    }
}

/// Whether a value may be absent (`null` among its types).
pub fn is_optional(schema: &Value) -> bool {
    let nullable = |t: &Value| t.as_array().is_some_and(|ts| ts.iter().any(|t| t == "null"));
    schema.get("type").is_some_and(nullable) || !std::ptr::eq(unwrap_optional(schema), schema)
}

/// The anchor of definition `name` on its page.
pub fn anchor(name: &str) -> String {
    format!("shape-{}", name.to_lowercase().replace('_', "-"))
}

/// A type as a file writes it: `duration`, `integer`, `[string]`, `(number, duration)`,
/// `{string: integer}`, a link to a shape, or a choice of constants.
pub fn type_text(schema: &Value) -> String {
    let schema = unwrap_optional(schema);
    if let Some(name) = ref_name(schema) {
        return format!("[{name}](#{})", anchor(name));
    }
    if let Some(c) = schema.get("const") {
        return format!("`{}`", c.as_str().map(str::to_string).unwrap_or_else(|| c.to_string()));
    }
    if let Some(parts) = schema.get("oneOf").or(schema.get("anyOf")).and_then(Value::as_array) {
        return parts.iter().map(type_text).collect::<Vec<_>>().join(" \\| ");
    }
    if let Some(items) = schema.get("prefixItems").and_then(Value::as_array) {
        return format!("({})", items.iter().map(type_text).collect::<Vec<_>>().join(", "));
    }
    match base_type(schema) {
        "string" if schema.get("format") == Some(&"duration".into()) => "duration".into(),
        "array" => format!("[{}]", schema.get("items").map(type_text).unwrap_or_default()),
        "object" => match schema.get("additionalProperties") {
            Some(v) if v.is_object() => format!("{{string: {}}}", type_text(v)),
            Some(Value::Bool(true)) => "{string: any}".into(),
            _ => "struct".into(),
        },
        "boolean" => "bool".into(),
        "" => "any".into(),
        other => other.into(),
    }
}

/// The JSON type of a schema, ignoring `null`.
fn base_type(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("")
        }
        _ => "",
    }
}

/// A default value written as RON: durations and names quoted, a choice's variant bare,
/// a struct as `(a: 1, b: "2s")`, `None` as "absent".
pub fn ron_text(value: &Value, schema: &Value, defs: &Defs) -> String {
    let schema = resolve(unwrap_optional(schema), defs);
    let variants = schema.get("oneOf").and_then(Value::as_array);
    match (value, variants) {
        (Value::Null, _) => "absent".into(),
        (Value::String(s), Some(_)) => s.clone(),
        (Value::String(s), None) => format!("{s:?}"),
        (Value::Object(fields), Some(variants)) if fields.len() == 1 => {
            let (name, inner) = fields.iter().next().expect("one field");
            let inner_schema = variants
                .iter()
                .find_map(|v| v.get("properties")?.get(name))
                .unwrap_or(&Value::Null);
            let text = ron_text(inner, inner_schema, defs);
            match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                Some(fields) if inner.is_object() => format!("{name}({fields})"),
                _ => format!("{name}({text})"),
            }
        }
        (Value::Object(fields), _) if schema.get("additionalProperties").is_some() => {
            let values = schema.get("additionalProperties").unwrap_or(&Value::Null);
            let entry = |(k, v): (&String, &Value)| format!("{k:?}: {}", ron_text(v, values, defs));
            format!("{{{}}}", fields.iter().map(entry).collect::<Vec<_>>().join(", "))
        }
        (Value::Object(fields), _) => {
            let field = |(k, v): (&String, &Value)| {
                let field_schema = schema.get("properties").and_then(|p| p.get(k));
                format!("{k}: {}", ron_text(v, field_schema.unwrap_or(&Value::Null), defs))
            };
            format!("({})", fields.iter().map(field).collect::<Vec<_>>().join(", "))
        }
        (Value::Array(items), _) => {
            let item_schema = schema.get("items").unwrap_or(&Value::Null);
            let items: Vec<String> = items.iter().map(|v| ron_text(v, item_schema, defs)).collect();
            format!("[{}]", items.join(", "))
        }
        (other, _) => other.to_string(),
    }
}

/// `[name](#anchor)` as `name`: a form inside a code span cannot hold a link.
pub fn strip_links(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(close) = rest.find("](#") {
        let Some(open) = rest[..close].rfind('[') else { break };
        let Some(end) = rest[close..].find(')').map(|e| e + close) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A doc comment as one table cell: lines joined, pipes escaped.
pub fn cell(text: &str) -> String {
    text.split('\n').map(str::trim).collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// A schema's description, or nothing.
pub fn description(schema: &Value) -> &str {
    schema.get("description").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_read_as_a_file_writes_them() {
        assert_eq!(
            type_text(&json!({"type": ["string", "null"], "format": "duration"})),
            "duration"
        );
        assert_eq!(type_text(&json!({"type": "array", "items": {"type": "integer"}})), "[integer]");
        let tuple =
            json!({"type": "array", "prefixItems": [{"type": "number"}, {"$ref": "#/$defs/x"}]});
        assert_eq!(type_text(&tuple), "(number, [x](#shape-x))");
        let map = json!({"type": "object", "additionalProperties": {"type": "boolean"}});
        assert_eq!(type_text(&map), "{string: bool}");
        let optional = json!({"anyOf": [{"$ref": "#/$defs/capacity"}, {"type": "null"}]});
        assert_eq!(type_text(&optional), "[capacity](#shape-capacity)");
        assert!(is_optional(&optional));
        assert!(!is_optional(&json!({"type": "integer"})));
    }

    #[test]
    fn defaults_read_as_ron() {
        let mut defs = Defs::new();
        defs.insert("reads".into(), json!({"oneOf": [{"const": "primary"}]}));
        let reads = json!({"$ref": "#/$defs/reads"});
        assert_eq!(ron_text(&json!("primary"), &reads, &defs), "primary");
        assert_eq!(ron_text(&json!("2s"), &json!({"type": "string"}), &defs), "\"2s\"");
        assert_eq!(ron_text(&json!(null), &json!({}), &defs), "absent");
        let clock = json!({"overwrite": {"clock": "server"}});
        defs.insert(
            "conflict".into(),
            json!({"oneOf": [{"properties": {"overwrite": {"properties": {"clock": {"$ref": "#/$defs/reads"}}}}}]}),
        );
        let conflict = json!({"$ref": "#/$defs/conflict"});
        assert_eq!(ron_text(&clock, &conflict, &defs), "overwrite(clock: server)");
        let capacity = json!({"workers": 1, "service": "2ms"});
        assert_eq!(ron_text(&capacity, &json!({}), &defs), "(service: \"2ms\", workers: 1)");
        assert_eq!(ron_text(&json!(3), &json!({}), &defs), "3");
        let map = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        assert_eq!(ron_text(&json!({"a": 1}), &map, &defs), "{\"a\": 1}");
        assert_eq!(ron_text(&json!({}), &map, &defs), "{}");
    }

    #[test]
    fn links_are_stripped() {
        assert_eq!(strip_links("[a](#x) \\| ([b](#y))"), "a \\| (b)");
        assert_eq!(strip_links("[(number, [d](#shape-d))]"), "[(number, d)]");
    }
}
