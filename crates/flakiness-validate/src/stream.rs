//! The streaming engine: a pull parser (jiter) walked along the compiled schema.
//!
//! Nothing is materialised: strings are borrowed from the input, only the few facts the semantic
//! rules need (environment count, attachment ids, test identities) are kept.

use jiter::{Jiter, JiterError, Peek};

use crate::compile::{Compiled, Kind, Node, NodeId, Role};
use crate::problem::{rules, Severity, Sink};
use crate::semantic::Semantic;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 512;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'s> {
    Prop(&'s str),
    Index(usize),
}

pub(crate) fn path_string(segs: &[Seg<'_>]) -> String {
    if segs.is_empty() {
        return "$".to_string();
    }
    let mut s = String::with_capacity(segs.len() * 12);
    for (i, seg) in segs.iter().enumerate() {
        match seg {
            Seg::Prop(p) => {
                if i > 0 {
                    s.push('.');
                }
                s.push_str(p);
            }
            Seg::Index(n) => {
                s.push('[');
                s.push_str(&n.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// Whether a key is a property's name; shared by both walks, which compare millions of keys.
/// Keys are short: up to 16 bytes they are compared as two words that may overlap (the first
/// and the last 8 or 4 bytes), which beats a call to memcmp or a loop over the bytes.
#[inline]
pub(crate) fn same_key(name: &[u8], key: &[u8]) -> bool {
    if name.len() != key.len() {
        return false;
    }
    match name.len() {
        8..=16 => {
            name.first_chunk::<8>() == key.first_chunk::<8>()
                && name.last_chunk::<8>() == key.last_chunk::<8>()
        }
        4..=7 => {
            name.first_chunk::<4>() == key.first_chunk::<4>()
                && name.last_chunk::<4>() == key.last_chunk::<4>()
        }
        0..=3 => name.iter().zip(key).all(|(a, b)| a == b),
        _ => name == key,
    }
}

/// Whether an object at `node` is an stdio entry with both `text` and `buffer` among the
/// properties `seen` (by index in `props`); shared by both walks.
pub(crate) fn text_and_buffer(node: &Node, props: &[(String, NodeId)], seen: u64) -> bool {
    let has = |name: &str| {
        props
            .iter()
            .position(|(n, _)| same_key(n.as_bytes(), name.as_bytes()))
            .is_some_and(|i| seen & (1 << i) != 0)
    };
    node.role == Role::StdioObject && has("text") && has("buffer")
}

/// A fatal problem: the walk cannot go on. (Also the error of the typed walk's serializer.)
#[derive(Debug)]
pub(crate) struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the walk stopped")
    }
}

impl std::error::Error for Stop {}

impl serde::ser::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

/// One level deeper (`depth`): past [`MAX_DEPTH`] the problem is recorded and the walk stops;
/// shared by both walks (inlined: it is met at every array and object).
#[inline]
pub(crate) fn enter_level(
    depth: &mut usize,
    offset: usize,
    path: &[Seg<'_>],
    sink: &mut Sink,
) -> Result<(), Stop> {
    *depth += 1;
    if *depth > MAX_DEPTH {
        sink.push(
            Severity::Error,
            rules::JSON,
            offset,
            || path_string(path),
            || format!("nesting deeper than {MAX_DEPTH} levels"),
        );
        return Err(Stop);
    }
    Ok(())
}

pub(crate) struct Walker<'a> {
    data: &'a [u8],
    /// Offset of `data` in the file (non-zero when a sub-slice is checked against a branch).
    base: usize,
    jiter: Jiter<'a>,
    schema: &'a Compiled,
    pub sink: Sink,
    pub path: Vec<Seg<'a>>,
    depth: usize,
    pub semantic: Option<Semantic>,
    scratch: Vec<u8>,
}

fn type_name(peek: Peek) -> &'static str {
    match peek {
        Peek::Null => "null",
        Peek::True | Peek::False => "boolean",
        Peek::String => "string",
        Peek::Array => "array",
        Peek::Object => "object",
        p if p.is_num() => "number",
        _ => "an invalid value",
    }
}

impl<'a> Walker<'a> {
    pub fn new(
        data: &'a [u8],
        base: usize,
        schema: &'a Compiled,
        sink: Sink,
        semantic: Option<Semantic>,
    ) -> Self {
        Walker {
            data,
            base,
            jiter: Jiter::new(data),
            schema,
            sink,
            path: Vec::with_capacity(32),
            depth: 0,
            semantic,
            scratch: Vec::new(),
        }
    }

    /// Walks the whole document against the schema's root.
    pub fn run(&mut self) -> bool {
        let root = self.schema.root;
        let result = self
            .jiter
            .peek()
            .map_err(|e| self.json_error(e))
            .and_then(|peek| self.value(root, peek))
            .and_then(|()| self.jiter.finish().map_err(|e| self.json_error(e)));
        if result.is_ok() {
            if let Some(sem) = &mut self.semantic {
                sem.finish(&mut self.sink);
            }
        }
        result.is_ok()
    }

    /// Walks the whole input as one value of the document: `node` at `path`, `depth` levels
    /// below its root. The checks that need the whole document (`Semantic::finish`) are left
    /// to the caller.
    pub fn run_part(&mut self, node: NodeId, path: &[Seg<'a>], depth: usize) -> bool {
        self.path.clear();
        self.path.extend_from_slice(path);
        self.depth = depth;
        self.jiter
            .peek()
            .map_err(|e| self.json_error(e))
            .and_then(|peek| self.value(node, peek))
            .and_then(|()| self.jiter.finish().map_err(|e| self.json_error(e)))
            .is_ok()
    }

    fn json_error(&mut self, e: JiterError) -> Stop {
        let offset = self.base + e.index;
        let path = path_string(&self.path);
        let mut message = match &e.error_type {
            jiter::JiterErrorType::JsonError(t) => format!("invalid JSON: {t}"),
            other => format!("invalid JSON: {other}"),
        };
        let rest = self.data.get(e.index..).unwrap_or_default();
        if [&b"NaN"[..], b"Infinity", b"-Infinity"]
            .iter()
            .any(|lit| rest.starts_with(lit))
        {
            message.push_str(" (NaN and Infinity are not JSON numbers)");
        }
        self.sink
            .push(Severity::Error, rules::JSON, offset, || path, || message);
        Stop
    }

    pub fn error(&mut self, rule: &'static str, offset: usize, message: impl FnOnce() -> String) {
        let path = &self.path;
        self.sink
            .push(Severity::Error, rule, offset, || path_string(path), message);
    }

    fn skip(&mut self, peek: Peek) -> Result<(), Stop> {
        self.jiter.known_skip(peek).map_err(|e| self.json_error(e))
    }

    fn enter(&mut self, offset: usize) -> Result<(), Stop> {
        enter_level(&mut self.depth, offset, &self.path, &mut self.sink)
    }

    fn value(&mut self, id: NodeId, peek: Peek) -> Result<(), Stop> {
        let schema = self.schema;
        let node = &schema.nodes[id];
        let start = self.base + self.jiter.current_index();
        match &node.kind {
            Kind::Any => {
                if node.role == Role::Metadata && self.semantic.is_some() {
                    self.metadata(peek, start)?;
                } else {
                    self.skip(peek)?;
                }
            }
            Kind::Object { typed, .. } => {
                if peek == Peek::Object {
                    return self.object(node, start);
                }
                if *typed {
                    self.error(rules::SCHEMA, start, || {
                        format!("expected object, found {}", type_name(peek))
                    });
                }
                self.skip(peek)?;
            }
            Kind::Array {
                prefix,
                items,
                min,
                max,
            } => {
                if peek != Peek::Array {
                    self.error(rules::SCHEMA, start, || {
                        format!("expected array, found {}", type_name(peek))
                    });
                    return self.skip(peek);
                }
                self.enter(start)?;
                let mut next = self.jiter.known_array().map_err(|e| self.json_error(e))?;
                let mut n = 0usize;
                while let Some(p) = next {
                    let child = prefix.get(n).copied().or(*items);
                    self.path.push(Seg::Index(n));
                    match child {
                        Some(c) => self.value(c, p)?,
                        None => self.skip(p)?,
                    }
                    self.path.pop();
                    n += 1;
                    next = self.jiter.array_step().map_err(|e| self.json_error(e))?;
                }
                self.depth -= 1;
                if let Some(min) = *min {
                    if n < min {
                        self.error(rules::SCHEMA, start, || {
                            format!("expected at least {min} items, found {n}")
                        });
                    }
                }
                if let Some(max) = *max {
                    if n > max {
                        self.error(rules::SCHEMA, start, || {
                            format!("expected at most {max} items, found {n}")
                        });
                    }
                }
                if node.role == Role::Environments {
                    if let Some(sem) = &mut self.semantic {
                        sem.environments(n, start, &self.path, &mut self.sink);
                    }
                }
            }
            Kind::String { min, max, allowed } => {
                if peek != Peek::String {
                    self.error(rules::SCHEMA, start, || {
                        format!("expected string, found {}", type_name(peek))
                    });
                    return self.skip(peek);
                }
                let needs_value = min.is_some()
                    || max.is_some()
                    || !allowed.is_empty()
                    || self
                        .semantic
                        .as_ref()
                        .is_some_and(|sem| sem.wants(node.role));
                if !needs_value {
                    // Only its type matters: scan past it without decoding (UTF-8 was checked
                    // for the whole file up front).
                    return self.skip(peek);
                }
                let s = match self.jiter.known_str() {
                    Ok(s) => s,
                    Err(e) => return Err(self.json_error(e)),
                };
                check_string(
                    (node, min, max, allowed),
                    s,
                    start,
                    &self.path,
                    &mut self.sink,
                    (self.semantic.as_mut(), &mut self.scratch),
                );
            }
            Kind::Number { min, max, integer } => {
                if !peek.is_num() {
                    self.error(rules::SCHEMA, start, || {
                        format!("expected number, found {}", type_name(peek))
                    });
                    return self.skip(peek);
                }
                let n = self.number(peek, start)?;
                check_number(
                    (node, *min, *max, *integer),
                    n,
                    start,
                    &self.path,
                    &mut self.sink,
                    self.semantic.as_mut(),
                );
            }
            Kind::Enum(values) => {
                let ok = if peek.is_num() {
                    let n = self.number(peek, start)?;
                    values.iter().any(|v| v.as_f64() == Some(n))
                } else if peek == Peek::String {
                    let s = match self.jiter.known_str() {
                        Ok(s) => s,
                        Err(e) => return Err(self.json_error(e)),
                    };
                    values.iter().any(|v| v.as_str() == Some(s))
                } else {
                    self.skip(peek)?;
                    false
                };
                if !ok {
                    self.error(rules::SCHEMA, start, || enum_message(values));
                }
            }
        }
        if !node.any_of.is_empty() {
            let end = self.base + self.jiter.current_index();
            if !node.any_of.iter().any(|&b| self.check_slice(b, start, end)) {
                self.any_of_error(node, start);
            }
        }
        Ok(())
    }

    fn number(&mut self, peek: Peek, start: usize) -> Result<f64, Stop> {
        let n = self
            .jiter
            .known_float(peek)
            .map_err(|e| self.json_error(e))?;
        if !n.is_finite() {
            self.error(rules::JSON, start, || "number out of range".to_string());
            return Err(Stop);
        }
        Ok(n)
    }

    fn object(&mut self, node: &'a Node, start: usize) -> Result<(), Stop> {
        let Kind::Object {
            props, required, ..
        } = &node.kind
        else {
            return Ok(());
        };
        self.enter(start)?;
        if let Some(sem) = &mut self.semantic {
            sem.object_start(node.role, start, &self.path);
        }
        // Keys usually come in the schema's order: try the one after the last match first.
        // Keys are compared raw (undecoded); one with an escape is decoded first.
        let mut hint = 0usize;
        let mut lookup = |raw: &[u8]| {
            let decoded;
            let k = if raw.contains(&b'\\') {
                let mut quoted = Vec::with_capacity(raw.len() + 2);
                quoted.push(b'"');
                quoted.extend_from_slice(raw);
                quoted.push(b'"');
                decoded = serde_json::from_slice::<String>(&quoted).unwrap_or_default();
                decoded.as_bytes()
            } else {
                raw
            };
            let hit = |n: &String| same_key(n.as_bytes(), k);
            let found = match props.get(hint) {
                Some((n, _)) if hit(n) => Some(hint),
                _ => props.iter().position(|(n, _)| hit(n)),
            };
            if let Some(i) = found {
                hint = i + 1;
            }
            found
        };
        let track = !node.any_of.is_empty();
        // For `anyOf`: (property index, valid?, start, end) of every known property.
        let mut seen_values: Vec<(usize, bool, usize, usize)> = Vec::new();
        let mut seen: u64 = 0;
        let mut key = match self.jiter.next_object_bytes() {
            Ok(k) => k.map(&mut lookup),
            Err(e) => return Err(self.json_error(e)),
        };
        while let Some(k) = key {
            match k {
                Some(idx) => {
                    let (name, child) = &props[idx];
                    if seen & (1 << idx) != 0 {
                        // JSON.parse would keep the last silently; the model refuses it.
                        let at = self.base + self.jiter.current_index();
                        self.error(rules::JSON, at, || {
                            format!("duplicate key `{name}`: a key may appear once per object")
                        });
                    }
                    seen |= 1 << idx;
                    let peek = self.jiter.peek().map_err(|e| self.json_error(e))?;
                    let vstart = self.base + self.jiter.current_index();
                    let before = self.sink.schema_errors;
                    self.path.push(Seg::Prop(name));
                    self.value(*child, peek)?;
                    self.path.pop();
                    if track {
                        let vend = self.base + self.jiter.current_index();
                        seen_values.push((idx, self.sink.schema_errors == before, vstart, vend));
                    }
                }
                None => self.jiter.next_skip().map_err(|e| self.json_error(e))?,
            }
            key = match self.jiter.next_key_bytes() {
                Ok(k) => k.map(&mut lookup),
                Err(e) => return Err(self.json_error(e)),
            };
        }
        self.depth -= 1;
        for &r in required {
            if seen & (1 << r) == 0 {
                let name = &props[r].0;
                self.error(rules::SCHEMA, start, || {
                    format!("missing required property `{name}`")
                });
            }
        }
        if track {
            let end = self.base + self.jiter.current_index();
            let ok = node
                .any_of
                .iter()
                .any(|&b| self.branch_matches_object(b, props, &seen_values, start, end));
            if !ok {
                self.any_of_error(node, start);
            }
        }
        if let Some(sem) = &mut self.semantic {
            let both = text_and_buffer(node, props, seen);
            sem.object_end(node.role, both, start, &self.path, &mut self.sink);
        }
        Ok(())
    }

    /// Whether an object already walked matches an `anyOf` branch, re-using the results of the
    /// walk where the branch's property schema is the same as the main one.
    fn branch_matches_object(
        &self,
        branch: NodeId,
        main_props: &[(String, NodeId)],
        seen_values: &[(usize, bool, usize, usize)],
        start: usize,
        end: usize,
    ) -> bool {
        let nodes = &self.schema.nodes;
        let Kind::Object {
            props, required, ..
        } = &nodes[branch].kind
        else {
            return self.check_slice(branch, start, end);
        };
        if !nodes[branch].any_of.is_empty() {
            return self.check_slice(branch, start, end);
        }
        let find = |name: &str| main_props.iter().position(|(n, _)| n == name);
        for (i, (name, sub)) in props.iter().enumerate() {
            let Some(main_idx) = find(name) else {
                // A property the main schema does not know: walk the whole object again.
                return self.check_slice(branch, start, end);
            };
            match seen_values.iter().find(|v| v.0 == main_idx) {
                None => {
                    if required.contains(&i) {
                        return false;
                    }
                }
                Some(&(_, valid, vstart, vend)) => {
                    let same = nodes[*sub].kind == nodes[main_props[main_idx].1].kind
                        && nodes[*sub].any_of.is_empty();
                    let ok = if same {
                        valid
                    } else {
                        self.check_slice(*sub, vstart, vend)
                    };
                    if !ok {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Checks the value at `data[start..end]` (file offsets) against a node, schema rules only.
    fn check_slice(&self, node: NodeId, start: usize, end: usize) -> bool {
        let (Some(lo), Some(hi)) = (start.checked_sub(self.base), end.checked_sub(self.base))
        else {
            return false;
        };
        let Some(slice) = self.data.get(lo..hi) else {
            return false;
        };
        let mut w = Walker::new(slice, start, self.schema, Sink::new(0), None);
        w.depth = self.depth;
        let Ok(peek) = w.jiter.peek() else {
            return false;
        };
        w.value(node, peek).is_ok() && w.sink.schema_errors == 0
    }

    fn any_of_error(&mut self, node: &Node, start: usize) {
        let message = any_of_message(self.schema, node);
        self.error(rules::SCHEMA, start, || message);
    }

    /// Environment metadata: any JSON is schema-valid; a flat object of scalars is expected.
    fn metadata(&mut self, peek: Peek, start: usize) -> Result<(), Stop> {
        if peek != Peek::Object {
            self.metadata_warning(start, type_name(peek));
            return self.skip(peek);
        }
        let mut key = match self.jiter.known_object() {
            Ok(k) => k.map(str::to_owned),
            Err(e) => return Err(self.json_error(e)),
        };
        let mut flagged = false;
        while let Some(name) = key {
            let p = self.jiter.peek().map_err(|e| self.json_error(e))?;
            if !flagged && matches!(p, Peek::Object | Peek::Array | Peek::Null) {
                let at = self.base + self.jiter.current_index();
                let path = format!("{}{}", path_string(&self.path), key_segment(&name));
                self.sink.push(
                    Severity::Warning,
                    rules::METADATA_SHAPE,
                    at,
                    || path,
                    || metadata_message(type_name(p)),
                );
                flagged = true;
            }
            self.skip(p)?;
            key = match self.jiter.next_key() {
                Ok(k) => k.map(str::to_owned),
                Err(e) => return Err(self.json_error(e)),
            };
        }
        Ok(())
    }

    fn metadata_warning(&mut self, offset: usize, found: &'static str) {
        let path = &self.path;
        self.sink.push(
            Severity::Warning,
            rules::METADATA_SHAPE,
            offset,
            || path_string(path),
            || metadata_message(found),
        );
    }
}

fn metadata_message(found: &str) -> String {
    format!("metadata should be a flat object of strings, numbers and booleans (found {found})")
}

/// `.key` for identifier-like keys, `["key"]` (a JSON string) for any other.
pub(crate) fn key_segment(key: &str) -> String {
    let ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        format!(".{key}")
    } else {
        format!("[{}]", serde_json::Value::String(key.to_string()))
    }
}

/// Length of `s` in UTF-16 code units, the length JavaScript (and so the official schema) gives
/// a string: characters outside the Basic Multilingual Plane (4 bytes in UTF-8) count twice.
pub(crate) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    // Every character starts with a non-continuation byte; 4-byte ones (>= 0xF0) are the astral
    // characters, two code units each.
    s.bytes()
        .map(|b| usize::from((b & 0xC0) != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

/// What is wrong with string `s` under a string node's `min`, `max` (UTF-16 code units, as the
/// official schema counts them) and `allowed` values; shared by both walks.
pub(crate) fn string_problem(
    min: Option<usize>,
    max: Option<usize>,
    allowed: &[String],
    s: &str,
) -> Option<String> {
    let mut problem = None;
    if min.is_some() || max.is_some() {
        // Lengths in UTF-16 code units, as the official schema counts them (JavaScript
        // strings): a character outside the BMP counts twice.
        let len = utf16_len(s);
        if let Some(min) = min {
            if len < min {
                problem = Some(format!(
                    "expected a string of at least {min} UTF-16 code units, found {len}"
                ));
            }
        }
        if let Some(max) = max {
            if len > max {
                problem = Some(format!(
                    "expected a string of at most {max} UTF-16 code units, found {len}"
                ));
            }
        }
    }
    if !allowed.is_empty() && !allowed.iter().any(|a| same_key(a.as_bytes(), s.as_bytes())) {
        problem = Some(format!(
            "expected one of {}, found {s:?}",
            allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    problem
}

/// Checks string `s` of a string node (`min`, `max`, `allowed`): its problem, then what the
/// semantic layer wants to hear of it; shared by both walks.
pub(crate) fn check_string(
    (node, min, max, allowed): (&Node, &Option<usize>, &Option<usize>, &[String]),
    s: &str,
    start: usize,
    path: &[Seg<'_>],
    sink: &mut Sink,
    (semantic, scratch): (Option<&mut Semantic>, &mut Vec<u8>),
) {
    let problem = string_problem(*min, *max, allowed, s);
    if node.role != Role::None {
        if let Some(sem) = semantic {
            sem.string(node.role, s, start, path, sink, scratch);
        }
    }
    if let Some(message) = problem {
        sink.push(
            Severity::Error,
            rules::SCHEMA,
            start,
            || path_string(path),
            || message,
        );
    }
}

/// Checks number `n` of a number node (`min`, `max`, `integer`), then tells the semantic
/// layer of an environment index; shared by both walks.
pub(crate) fn check_number(
    (node, min, max, integer): (&Node, Option<f64>, Option<f64>, bool),
    n: f64,
    start: usize,
    path: &[Seg<'_>],
    sink: &mut Sink,
    semantic: Option<&mut Semantic>,
) {
    let mut problem = |rule: &'static str, message: String| {
        sink.push(
            Severity::Error,
            rule,
            start,
            || path_string(path),
            || message,
        );
    };
    if let Some(min) = min {
        if n < min {
            problem(
                rules::SCHEMA,
                format!("expected a number >= {min}, found {n}"),
            );
        }
    }
    if let Some(max) = max {
        if n > max {
            problem(
                rules::SCHEMA,
                format!("expected a number <= {max}, found {n}"),
            );
        }
    }
    if integer && !is_whole(n) {
        problem(
            rules::INTEGER,
            format!("expected a whole number, found {n}"),
        );
    }
    if node.role == Role::EnvironmentIdx {
        if let Some(sem) = semantic {
            sem.environment_idx(n, start, path, sink);
        }
    }
}

/// Whether `n` is a whole number, as `n.fract() == 0.0` says, without `fract`'s call to
/// `trunc` (a function on a CPU without SSE4.1, and every number of a report is checked):
/// below 2^63 a conversion to `i64` and back is exact for whole numbers only, and every finite
/// float from 2^52 up is whole.
fn is_whole(n: f64) -> bool {
    if n.abs() < 9_223_372_036_854_775_808.0 {
        (n as i64) as f64 == n
    } else {
        n.is_finite()
    }
}

/// The message for a value outside an `enum`.
pub(crate) fn enum_message(values: &[serde_json::Value]) -> String {
    let list = values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    format!("expected one of {list}")
}

/// The message for a value matching none of a node's `anyOf` branches.
pub(crate) fn any_of_message(schema: &Compiled, node: &Node) -> String {
    let forms: Vec<String> = node
        .any_of
        .iter()
        .map(|&b| match &schema.nodes[b].kind {
            Kind::Object {
                props, required, ..
            } if !required.is_empty() => required
                .iter()
                .map(|&r| format!("`{}`", props[r].0))
                .collect::<Vec<_>>()
                .join(" and "),
            _ => "another form".to_string(),
        })
        .collect();
    format!("must have a valid {}", forms.join(" or a valid "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_whole_is_fract_without_trunc() {
        let two = |e: i32| 2f64.powi(e);
        let mut values = vec![
            0.0,
            0.5,
            1.0,
            1.5,
            1e15 + 0.5,
            two(52) - 0.5,
            two(52),
            two(52) + 1.0,
            two(53),
            two(63) - 1024.0,
            two(63),
            two(64),
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 4.0,
            f64::EPSILON,
            f64::INFINITY,
            f64::NAN,
        ];
        values.extend(values.clone().iter().map(|v| -v));
        for v in values {
            assert_eq!(is_whole(v), v.fract() == 0.0, "{v:e}");
        }
    }

    #[test]
    fn same_key_is_byte_equality() {
        let base: Vec<u8> = (b'a'..=b'z').collect();
        for len in 0..=base.len() {
            let name = &base[..len];
            assert!(same_key(name, name));
            if len > 0 {
                assert!(!same_key(name, &name[..len - 1]));
            }
            for at in 0..len {
                let mut other = name.to_vec();
                other[at] = b'_';
                assert!(!same_key(name, &other), "{len} {at}");
                assert!(!same_key(&other, name), "{len} {at}");
            }
        }
    }
}
