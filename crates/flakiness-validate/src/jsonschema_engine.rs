//! The `jsonschema` crate as the schema engine: materialises a `serde_json::Value` and runs the
//! generated schema over it. Slower and heavier than the stream engine; kept as the reference
//! the stream engine is checked against.

use jiter::{Jiter, Peek};
use serde_json::Value;

use crate::compile::CompileError;
use crate::problem::{rules, Severity, Sink};

pub(crate) struct SchemaEngine {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for SchemaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaEngine")
    }
}

impl SchemaEngine {
    pub fn new(schema: &Value) -> Result<Self, CompileError> {
        let validator =
            jsonschema::validator_for(schema).map_err(|e| CompileError::new("$", e.to_string()))?;
        Ok(SchemaEngine { validator })
    }

    /// Drops the schema problems the stream walk found and puts the jsonschema crate's instead.
    /// `body` is well-formed JSON (the stream walk finished).
    pub fn replace_schema_problems(&self, body: &[u8], base: usize, sink: &mut Sink) {
        sink.errors.retain(|p| p.rule != rules::SCHEMA);
        sink.error_count -= sink.schema_errors;
        sink.schema_errors = 0;
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                sink.push(
                    Severity::Error,
                    rules::JSON,
                    base,
                    || "$".into(),
                    || format!("invalid JSON: {e}"),
                );
                return;
            }
        };
        for error in self.validator.iter_errors(&value) {
            let pointer = error.instance_path().as_str().to_string();
            let mut message = error.to_string();
            if message.chars().count() > 200 {
                message = message.chars().take(197).collect::<String>() + "...";
            }
            let (path, offset) = if sink.errors.len() < sink.limit {
                locate(body, &pointer)
            } else {
                (String::new(), 0)
            };
            sink.push(
                Severity::Error,
                rules::SCHEMA,
                base + offset,
                || path,
                || message,
            );
        }
    }
}

/// Finds the value a JSON pointer names: its path in our notation and its byte offset.
pub(crate) fn locate(body: &[u8], pointer: &str) -> (String, usize) {
    let mut jiter = Jiter::new(body);
    let mut path = String::new();
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut offset = 0;
    let found = (|| -> Option<()> {
        let mut peek = jiter.peek().ok()?;
        offset = jiter.current_index();
        for seg in &segments {
            if peek == Peek::Array {
                let want: usize = seg.parse().ok()?;
                let mut next = jiter.known_array().ok()?;
                let mut i = 0;
                loop {
                    let p = next?;
                    if i == want {
                        peek = p;
                        break;
                    }
                    jiter.known_skip(p).ok()?;
                    next = jiter.array_step().ok()?;
                    i += 1;
                }
                path.push_str(&format!("[{want}]"));
            } else if peek == Peek::Object {
                let mut key = jiter.known_object().ok()?.map(|k| k == seg);
                loop {
                    if key? {
                        peek = jiter.peek().ok()?;
                        break;
                    }
                    jiter.next_skip().ok()?;
                    key = jiter.next_key().ok()?.map(|k| k == seg);
                }
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(seg);
            } else {
                return None;
            }
            offset = jiter.current_index();
        }
        Some(())
    })();
    let _ = found;
    if path.is_empty() {
        path.push('$');
    }
    (path, offset)
}
