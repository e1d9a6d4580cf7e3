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
        // `minLength` and `maxLength` count UTF-16 code units, as the official schema does
        // (JSON Schema itself counts code points).
        let validator = jsonschema::options()
            .with_keyword("minLength", |_, value, _| length_keyword(value, Bound::Min))
            .with_keyword("maxLength", |_, value, _| length_keyword(value, Bound::Max))
            .build(schema)
            .map_err(|e| CompileError::new("$", e.to_string()))?;
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

#[derive(Clone, Copy)]
enum Bound {
    Min,
    Max,
}

/// `minLength` / `maxLength` in UTF-16 code units.
struct Utf16Length {
    bound: Bound,
    limit: u64,
}

fn length_keyword<'a>(
    value: &'a Value,
    bound: Bound,
) -> Result<Box<dyn for<'i> jsonschema::Keyword<'i>>, jsonschema::ValidationError<'a>> {
    let limit = value.as_u64().ok_or_else(|| {
        jsonschema::ValidationError::custom("a length limit must be a whole number")
    })?;
    Ok(Box::new(Utf16Length { bound, limit }))
}

impl<'i> jsonschema::Keyword<'i> for Utf16Length {
    fn validate(&self, instance: &'i Value) -> Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        let len = instance.as_str().map_or(0, crate::stream::utf16_len);
        let (word, limit) = match self.bound {
            Bound::Min => ("least", self.limit),
            Bound::Max => ("most", self.limit),
        };
        Err(jsonschema::ValidationError::custom(format!(
            "expected a string of at {word} {limit} UTF-16 code units, found {len}"
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        let Some(s) = instance.as_str() else {
            return true;
        };
        let len = crate::stream::utf16_len(s) as u64;
        match self.bound {
            Bound::Min => len >= self.limit,
            Bound::Max => len <= self.limit,
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

enum PathSeg {
    Key(String),
    Index(usize),
}

fn render(path: &[PathSeg], key: Option<&str>) -> String {
    let mut s = String::new();
    for seg in path.iter().map(Some).chain([None]) {
        let seg = match (seg, key) {
            (Some(PathSeg::Key(k)), _) => crate::stream::key_segment(k),
            (Some(PathSeg::Index(i)), _) => format!("[{i}]"),
            (None, Some(k)) => crate::stream::key_segment(k),
            (None, None) => continue,
        };
        s.push_str(&seg);
    }
    match s.strip_prefix('.') {
        Some(rest) => rest.to_string(),
        None if s.is_empty() => "$".to_string(),
        None => s,
    }
}

/// The path (our notation) of the string or key that holds each byte offset of `targets`
/// (ascending), in one walk of well-formed JSON `body`. Offsets past the last value get no path.
pub(crate) fn paths_at(body: &[u8], targets: &[usize]) -> Vec<String> {
    struct Walk<'j, 't> {
        jiter: Jiter<'j>,
        targets: &'t [usize],
        out: Vec<String>,
        path: Vec<PathSeg>,
    }
    impl Walk<'_, '_> {
        /// Gives every pending target before `end` the current path; false when all have one.
        fn claim(&mut self, end: usize, key: Option<&str>) -> bool {
            while let Some(&t) = self.targets.get(self.out.len()) {
                if t >= end {
                    return true;
                }
                self.out.push(render(&self.path, key));
            }
            false
        }
        fn value(&mut self, peek: Peek, depth: usize) -> Option<()> {
            if depth > crate::stream::MAX_DEPTH {
                return None;
            }
            match peek {
                Peek::Array => {
                    let mut next = self.jiter.known_array().ok()?;
                    let mut i = 0;
                    while let Some(p) = next {
                        self.path.push(PathSeg::Index(i));
                        self.value(p, depth + 1)?;
                        self.path.pop();
                        next = self.jiter.array_step().ok()?;
                        i += 1;
                    }
                }
                Peek::Object => {
                    let mut key = self.jiter.known_object().ok()?.map(str::to_owned);
                    while let Some(k) = key {
                        let after_key = self.jiter.current_index();
                        if !self.claim(after_key, Some(&k)) {
                            return None;
                        }
                        self.path.push(PathSeg::Key(k));
                        let p = self.jiter.peek().ok()?;
                        self.value(p, depth + 1)?;
                        self.path.pop();
                        key = self.jiter.next_key().ok()?.map(str::to_owned);
                    }
                }
                _ => {
                    self.jiter.known_skip(peek).ok()?;
                    if !self.claim(self.jiter.current_index(), None) {
                        return None;
                    }
                }
            }
            Some(())
        }
    }
    let mut walk = Walk {
        jiter: Jiter::new(body),
        targets,
        out: Vec::with_capacity(targets.len()),
        path: Vec::new(),
    };
    if let Ok(peek) = walk.jiter.peek() {
        let _ = walk.value(peek, 0);
    }
    walk.out
}

#[cfg(test)]
mod tests {
    use super::paths_at;

    #[test]
    fn paths_of_offsets_in_keys_and_values() {
        let body =
            br#"{"tests":[{"title":"a\ufffd"},{"t\ufffd":1,"x":["\ufffd"]}],"m":{"a b":"\ufffd"}}"#;
        let at = |needle: usize| {
            body.windows(6)
                .enumerate()
                .filter(|(_, w)| w == b"\\ufffd")
                .nth(needle)
                .map(|(i, _)| i)
                .expect("present")
        };
        let targets = [at(0), at(1), at(2), at(3)];
        assert_eq!(
            paths_at(body, &targets),
            [
                "tests[0].title",
                "tests[1][\"t\u{fffd}\"]",
                "tests[1].x[0]",
                "m[\"a b\"]"
            ]
        );
    }
}
