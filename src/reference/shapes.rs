//! A file format's page: its top-level struct's fields, then every shape it reaches, in
//! the order a reader meets them, each with the places that use it. A struct is a table
//! of fields (type, default, meaning); a choice is a list of its forms.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;

use serde_json::Value;

use super::schema_text::{
    Defs, anchor, cell, description, is_optional, ref_name, ron_text, strip_links, type_text,
};

/// The page of a schema rooted at a file's top-level struct, written `form`.
pub fn file_page(title: &str, intro: &str, form: &str, root: &Value) -> String {
    let empty = Defs::new();
    let defs = root.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let (order, users) = reachable(root, defs);
    let wrapped_by = wrapper_descriptions(defs);
    let mut page = format!("# {title}\n\n{intro}\n\n## `{form}`\n\n{}\n\n", description(root));
    page.push_str(&fields_table(root, defs));
    for name in order {
        let schema = &defs[&name];
        let _ = write!(page, "\n## {name} {{#{}}}\n\n", anchor(&name));
        if let Some(places) = users.get(&name) {
            let _ = writeln!(page, "*Used by {}.*\n", places.join(", "));
        }
        if let Some(what) = wrapped_by.get(&name) {
            let _ = writeln!(page, "{what}\n");
        }
        if !description(schema).is_empty() {
            let _ = writeln!(page, "{}\n", description(schema));
        }
        page.push_str(&shape_body(schema, defs));
    }
    page
}

/// For each shape a choice wraps whole (`Store(...)` wraps the store's struct), the
/// choice's words for it: what it is, and an example.
fn wrapper_descriptions(defs: &Defs) -> BTreeMap<String, String> {
    let mut words = BTreeMap::new();
    for def in defs.values() {
        for variant in def.get("oneOf").and_then(Value::as_array).into_iter().flatten() {
            let inner = variant
                .get("properties")
                .and_then(Value::as_object)
                .and_then(|p| p.values().next());
            if let Some(target) = inner.and_then(ref_name) {
                if !description(variant).is_empty() {
                    words.insert(target.to_string(), description(variant).to_string());
                }
            }
        }
    }
    words
}

/// A shape's table of fields, list of forms, or type.
fn shape_body(schema: &Value, defs: &Defs) -> String {
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        return variants.iter().map(variant_item).collect();
    }
    if schema.get("properties").is_some() {
        return fields_table(schema, defs);
    }
    format!("Written as {}.\n", type_text(schema))
}

/// A struct's fields: name, type, default (or "required") and meaning.
fn fields_table(schema: &Value, defs: &Defs) -> String {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut table = String::from("| Field | Type | Default | Meaning |\n|---|---|---|---|\n");
    for (name, field) in properties {
        let default = match field.get("default") {
            _ if required.contains(&name.as_str()) => "required".to_string(),
            Some(Value::Null) => "absent".to_string(),
            // A struct's default is its fields' defaults, listed with its shape.
            Some(Value::Object(f)) if f.len() > 3 => "each field's default".to_string(),
            Some(value) => format!("`{}`", ron_text(value, field, defs)),
            None if is_optional(field) => "absent".to_string(),
            None => "see meaning".to_string(),
        };
        let _ = writeln!(
            table,
            "| `{name}` | {} | {default} | {} |",
            type_text(field),
            cell(description(field))
        );
    }
    table
}

/// One form of a choice, as a list item: `name`, `name(type)`, `name(field: type, ...)`
/// with its fields below, or a link to the shape it wraps.
fn variant_item(variant: &Value) -> String {
    let meaning = cell(description(variant));
    if let Some(name) = variant.get("const").and_then(Value::as_str) {
        return format!("- `{name}`: {meaning}\n");
    }
    let Some((name, inner)) =
        variant.get("properties").and_then(Value::as_object).and_then(|p| p.iter().next())
    else {
        return format!("- {}: {meaning}\n", type_text(variant));
    };
    if let Some(target) = ref_name(inner) {
        return format!("- [`{name}(...)`](#{}): {meaning}\n", anchor(target));
    }
    let Some(fields) = inner.get("properties").and_then(Value::as_object) else {
        let args = strip_links(&type_text(inner));
        let args = match inner.get("prefixItems") {
            Some(_) => args.strip_prefix('(').and_then(|a| a.strip_suffix(')')).unwrap_or(&args),
            None => &args,
        };
        return format!("- `{name}({})`: {meaning}\n", args.replace('`', ""));
    };
    let required: Vec<&str> = inner
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let signature: Vec<&str> = fields.keys().map(String::as_str).collect();
    let mut item = format!("- `{name}({})`: {meaning}\n", signature.join(", "));
    for (field, schema) in fields {
        let optional = if required.contains(&field.as_str()) { "" } else { ", optional" };
        let kind = type_text(schema);
        let _ = writeln!(item, "  - `{field}` ({kind}{optional}): {}", cell(description(schema)));
    }
    item
}

/// The definitions reachable from `root`, breadth first in the order fields name them,
/// and for each the places (`shape.field`) that use it.
fn reachable(root: &Value, defs: &Defs) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut order = Vec::new();
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut todo: VecDeque<(String, &Value)> = VecDeque::from([("".to_string(), root)]);
    while let Some((owner, schema)) = todo.pop_front() {
        let mut found = Vec::new();
        collect_refs(schema, &owner, None, &mut found);
        for (place, name) in found {
            let list = users.entry(name.clone()).or_default();
            if !list.contains(&place) {
                list.push(place);
            }
            if !order.contains(&name) && defs.contains_key(&name) {
                order.push(name.clone());
                todo.push_back((name.clone(), &defs[&name]));
            }
        }
    }
    (order, users)
}

/// Every `$ref` under `schema` (not through other definitions), with the field it sits in.
fn collect_refs(
    schema: &Value,
    owner: &str,
    field: Option<&str>,
    found: &mut Vec<(String, String)>,
) {
    let place = || match (owner, field) {
        ("", Some(f)) => format!("`{f}`"),
        (o, Some(f)) => format!("[`{o}.{f}`](#{})", anchor(o)),
        (o, None) => format!("[`{o}`](#{})", anchor(o)),
    };
    match schema {
        Value::Object(map) => {
            if let Some(name) = ref_name(schema) {
                found.push((place(), name.to_string()));
            }
            for (key, value) in map {
                match key.as_str() {
                    "$defs" => {}
                    "properties" => {
                        for (f, s) in value.as_object().into_iter().flatten() {
                            collect_refs(s, owner, Some(f), found);
                        }
                    }
                    _ => collect_refs(value, owner, field, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, owner, field, found)),
        _ => {}
    }
}
