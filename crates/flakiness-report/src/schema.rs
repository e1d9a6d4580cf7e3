//! The JSON Schema of the format, generated from the model's types.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::Schema;

use crate::Report;

/// `$id` of the generated schema.
pub const SCHEMA_ID: &str = "https://flakiness.io/schemas/report.schema.json";

/// The JSON Schema (draft 2020-12) of a `report.json`, generated from [`Report`].
///
/// Optional fields are optional, never nullable: the format has no `null` values.
/// Unknown properties are allowed everywhere, as in the official schema.
pub fn report_schema() -> serde_json::Value {
    let settings = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with_transform(RecursiveTransform(strip_null));
    let generator = settings.into_generator();
    let mut schema = generator.into_root_schema_for::<Report>();
    schema.insert("$id".into(), SCHEMA_ID.into());
    schema.to_value()
}

/// The schema as pretty JSON with a trailing newline, as committed in `schemas/`.
pub fn report_schema_pretty() -> String {
    let mut s = serde_json::to_string_pretty(&report_schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// Drops `null` from the types schemars gives `Option<T>`: in the format an optional field is
/// absent, never `null`.
fn strip_null(schema: &mut Schema) {
    if let Some(serde_json::Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            schema.insert("type".into(), only);
        }
    }
    if let Some(serde_json::Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    // An enum of plain strings becomes `enum`, the form every validator handles the same way.
    let consts: Option<Vec<serde_json::Value>> = match schema.get("oneOf") {
        Some(serde_json::Value::Array(variants)) => variants
            .iter()
            .map(|v| v.get("const").filter(|c| c.is_string()).cloned())
            .collect(),
        _ => None,
    };
    if let Some(values) = consts {
        schema.remove("oneOf");
        schema.insert("type".into(), "string".into());
        schema.insert("enum".into(), values.into());
    }
    let mut replace = None;
    if let Some(serde_json::Value::Array(any_of)) = schema.get_mut("anyOf") {
        let before = any_of.len();
        any_of.retain(|s| s.get("type").and_then(|t| t.as_str()) != Some("null"));
        if before != any_of.len() && any_of.len() == 1 {
            replace = Some(any_of.remove(0));
        }
    }
    if let Some(only) = replace {
        schema.remove("anyOf");
        if let serde_json::Value::Object(map) = only {
            for (k, v) in map {
                schema.insert(k, v);
            }
        }
    }
}
