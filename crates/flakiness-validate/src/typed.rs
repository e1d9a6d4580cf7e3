//! The streaming walk over a value's serde data model instead of its JSON text.
//!
//! A writer that holds the typed value it is about to serialise (a converter's root suite) can
//! have it checked without the JSON being parsed again: the value's `Serialize` implementation
//! drives this walk as it would drive `serde_json`, and every value meets the same compiled
//! schema node and the same semantic hooks as the text walk ([`crate::stream`]) gives it. The
//! walk maps the data model to JSON as `serde_json` writes it (options and units as `null`,
//! non-finite floats as `null`, unit variants as strings, a newtype variant as a one-member
//! object).
//!
//! It answers only "was anything found?": it has no text, so its offsets are stand-ins (one
//! per value walked) and no message of it is ever shown; a caller that hears of a problem
//! validates the written file, which gives the messages. Whatever it cannot check the way the
//! text walk would (a tuple or struct variant, bytes, an environment's metadata) makes it
//! unsure, and an unsure walk is never clean.

use serde::ser::{self, Serialize};

use crate::compile::{Compiled, Kind, Node, NodeId, Role};
use crate::problem::{rules, Severity, Sink};
use crate::semantic::Semantic;
use crate::stream::{
    any_of_message, check_number, check_string, enter_level, enum_message, path_string, same_key,
    text_and_buffer, Seg, Stop,
};

/// The JSON type a serde value is written as, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Json {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Json {
    fn name(self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "boolean",
            Json::Number => "number",
            Json::String => "string",
            Json::Array => "array",
            Json::Object => "object",
        }
    }
}

pub(crate) struct Typed<'a> {
    schema: &'a Compiled,
    pub sink: Sink,
    pub path: Vec<Seg<'a>>,
    pub depth: usize,
    pub semantic: Option<Semantic>,
    scratch: Vec<u8>,
    /// Stand-in offsets: the number of values walked so far.
    count: usize,
    /// Met something it checks differently from the text walk: never clean.
    pub unsure: bool,
    /// The path buffer of the walks that check a value against an `anyOf` branch, kept between
    /// them.
    spare: Vec<Seg<'a>>,
    /// Whether the object walked last matched one of its node's `anyOf` branches, as its
    /// members tell (see [`MapSer::any_of`]), with the stand-in offset of the object: the value
    /// need not be walked again for each branch (every stdio entry has them).
    any_of: Option<(usize, bool)>,
}

impl<'a> Typed<'a> {
    pub fn new(schema: &'a Compiled, sink: Sink, semantic: Option<Semantic>) -> Self {
        Self::with_path(schema, sink, semantic, Vec::with_capacity(32))
    }

    /// A walk that keeps its path in `path` (emptied).
    fn with_path(
        schema: &'a Compiled,
        sink: Sink,
        semantic: Option<Semantic>,
        mut path: Vec<Seg<'a>>,
    ) -> Self {
        path.clear();
        Typed {
            schema,
            sink,
            path,
            depth: 0,
            semantic,
            scratch: Vec::new(),
            count: 0,
            unsure: false,
            spare: Vec::new(),
            any_of: None,
        }
    }

    /// Walks `value` as one value of the document: `node` at `path`, `depth` levels below its
    /// root. False when the walk stopped or was unsure.
    pub fn run_part<T: Serialize + ?Sized>(
        &mut self,
        node: NodeId,
        value: &T,
        path: &[Seg<'a>],
        depth: usize,
    ) -> bool {
        self.path.clear();
        self.path.extend_from_slice(path);
        self.depth = depth;
        self.value(node, value).is_ok() && !self.unsure
    }

    /// Records a problem; cold, as problems are rare, to keep it out of the walk's code.
    #[cold]
    fn error(&mut self, rule: &'static str, offset: usize, message: impl FnOnce() -> String) {
        let path = &self.path;
        self.sink
            .push(Severity::Error, rule, offset, || path_string(path), message);
    }

    fn type_error(&mut self, offset: usize, expected: &'static str, found: Json) {
        self.error(rules::SCHEMA, offset, || {
            format!("expected {expected}, found {}", found.name())
        });
    }

    fn enter(&mut self, offset: usize) -> Result<(), Stop> {
        enter_level(&mut self.depth, offset, &self.path, &mut self.sink)
    }

    /// Walks one value against `node`, then the node's `anyOf`.
    fn value<T: Serialize + ?Sized>(&mut self, node: NodeId, v: &T) -> Result<(), Stop> {
        let schema = self.schema;
        let n = &schema.nodes[node];
        self.count += 1;
        let start = self.count;
        // The node goes down by reference: a walk meets millions of values, each looked up
        // once.
        v.serialize(ValueSer {
            w: self,
            node: n,
            start,
        })?;
        if !n.any_of.is_empty() {
            self.any_of(n, start, v);
        }
        Ok(())
    }

    /// Checks `v`, walked at `n`, against the node's `anyOf`; apart from the walk of every
    /// value (few nodes have one), which it would make larger.
    #[inline(never)]
    fn any_of<T: Serialize + ?Sized>(&mut self, n: &Node, start: usize, v: &T) {
        let matched = match self.any_of.take() {
            Some((at, matched)) if at == start => matched,
            _ => n.any_of.iter().any(|&b| self.check_value(b, v)),
        };
        if !matched {
            let message = any_of_message(self.schema, n);
            self.error(rules::SCHEMA, start, || message);
        }
    }

    /// Whether `v` matches `node`, schema rules only.
    fn check_value<T: Serialize + ?Sized>(&mut self, node: NodeId, v: &T) -> bool {
        // No path is ever shown (no message is kept): the spare buffer only spares the
        // allocation of one.
        let path = std::mem::take(&mut self.spare);
        let mut w = Typed::with_path(self.schema, Sink::new(0), None, path);
        w.depth = self.depth;
        let ok = w.value(node, v).is_ok() && w.sink.schema_errors == 0 && !w.unsure;
        self.spare = w.path;
        ok
    }

    /// A scalar or null that is no string or number, at `n`.
    fn other(&mut self, n: &Node, start: usize, found: Json) {
        match &n.kind {
            Kind::Any => {
                if n.role == Role::Metadata && self.semantic.is_some() {
                    self.metadata_warning(start, found);
                }
            }
            Kind::Object { typed, .. } => {
                if *typed {
                    self.type_error(start, "object", found);
                }
            }
            Kind::Array { .. } => self.type_error(start, "array", found),
            Kind::String { .. } => self.type_error(start, "string", found),
            Kind::Number { .. } => self.type_error(start, "number", found),
            Kind::Enum(values) => self.enum_error(start, values),
        }
    }

    fn enum_error(&mut self, start: usize, values: &[serde_json::Value]) {
        self.error(rules::SCHEMA, start, || enum_message(values));
    }

    fn metadata_warning(&mut self, offset: usize, found: Json) {
        let path = &self.path;
        self.sink.push(
            Severity::Warning,
            rules::METADATA_SHAPE,
            offset,
            || path_string(path),
            || {
                format!(
                    "metadata should be a flat object of strings, numbers and booleans (found {})",
                    found.name()
                )
            },
        );
    }

    fn number(&mut self, node: &Node, start: usize, n: f64) {
        // serde_json writes a float that is not finite as `null`.
        if !n.is_finite() {
            return self.other(node, start, Json::Null);
        }
        match &node.kind {
            Kind::Number { min, max, integer } => {
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
                if !values.iter().any(|v| v.as_f64() == Some(n)) {
                    self.enum_error(start, values);
                }
            }
            _ => self.other(node, start, Json::Number),
        }
    }

    fn string(&mut self, node: &Node, start: usize, s: &str) {
        match &node.kind {
            Kind::String { min, max, allowed } => {
                let needs_value = min.is_some()
                    || max.is_some()
                    || !allowed.is_empty()
                    || self
                        .semantic
                        .as_ref()
                        .is_some_and(|sem| sem.wants(node.role));
                if !needs_value {
                    return;
                }
                check_string(
                    (node, min, max, allowed),
                    s,
                    start,
                    &self.path,
                    &mut self.sink,
                    (self.semantic.as_mut(), &mut self.scratch),
                );
            }
            Kind::Enum(values) => {
                if !values.iter().any(|v| v.as_str() == Some(s)) {
                    self.enum_error(start, values);
                }
            }
            _ => self.other(node, start, Json::String),
        }
    }
}

/// Serialises one value into the walk, at `node`.
struct ValueSer<'w, 'a> {
    w: &'w mut Typed<'a>,
    node: &'a Node,
    start: usize,
}

/// An array being walked.
struct SeqSer<'w, 'a> {
    w: &'w mut Typed<'a>,
    node: &'a Node,
    start: usize,
    /// The node is an array (else the elements are not walked).
    walk: bool,
    n: usize,
}

/// An object being walked.
struct MapSer<'w, 'a> {
    w: &'w mut Typed<'a>,
    node: &'a Node,
    /// The node's properties (none when it is no object).
    props: &'a [(String, NodeId)],
    start: usize,
    /// The node is an object (else the members are not walked).
    walk: bool,
    /// Properties seen (by index in the node's `props`).
    seen: u64,
    /// Properties of which a value broke a schema rule.
    invalid: u64,
    /// The property after the last one found: keys usually come in the schema's order.
    hint: usize,
    /// The property of the key given to `serialize_key` (`None`: not in the schema).
    key: Option<usize>,
}

/// Ignores what it is given (the walk is already unsure).
struct Ignore;

impl<'w, 'a> ValueSer<'w, 'a> {
    fn seq(self) -> Result<SeqSer<'w, 'a>, Stop> {
        let walk = matches!(self.node.kind, Kind::Array { .. });
        if walk {
            self.w.enter(self.start)?;
        } else {
            self.w.other_compound(self.node, self.start, Json::Array);
        }
        Ok(SeqSer {
            w: self.w,
            node: self.node,
            start: self.start,
            walk,
            n: 0,
        })
    }

    fn map(self) -> Result<MapSer<'w, 'a>, Stop> {
        let node = self.node;
        let (walk, props) = match &node.kind {
            Kind::Object { props, .. } => (true, props.as_slice()),
            _ => (false, &[][..]),
        };
        if walk {
            self.w.enter(self.start)?;
            if let Some(sem) = &mut self.w.semantic {
                sem.object_start(node.role, self.start, &self.w.path);
            }
        } else {
            self.w.other_compound(self.node, self.start, Json::Object);
        }
        Ok(MapSer {
            w: self.w,
            node,
            props,
            start: self.start,
            walk,
            seen: 0,
            invalid: 0,
            hint: 0,
            key: None,
        })
    }
}

impl Typed<'_> {
    /// An array or object at a node that is not of its type.
    fn other_compound(&mut self, n: &Node, start: usize, found: Json) {
        match (&n.kind, found) {
            (Kind::Any, Json::Object) if n.role == Role::Metadata && self.semantic.is_some() => {
                // A flat object of scalars is expected: its members' types are not followed
                // here.
                self.unsure = true;
            }
            _ => self.other(n, start, found),
        }
    }
}

/// Has macro `$m` write the `Serializer` methods of the numeric types, given as `method: type`.
macro_rules! with_numbers {
    ($m:ident) => {
        $m! {
            serialize_i8: i8,
            serialize_i16: i16,
            serialize_i32: i32,
            serialize_i64: i64,
            serialize_i128: i128,
            serialize_u8: u8,
            serialize_u16: u16,
            serialize_u32: u32,
            serialize_u64: u64,
            serialize_u128: u128,
            serialize_f32: f32,
            serialize_f64: f64,
        }
    };
}

/// The `Serializer` methods of the numeric types: each value walked as an `f64`, as the text
/// walk reads every JSON number.
macro_rules! numbers {
    ($($method:ident: $t:ty,)*) => {
        $(
            fn $method(self, v: $t) -> Result<(), Stop> {
                self.w.number(self.node, self.start, v as f64);
                Ok(())
            }
        )*
    };
}

impl<'w, 'a> ser::Serializer for ValueSer<'w, 'a> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = SeqSer<'w, 'a>;
    type SerializeTuple = SeqSer<'w, 'a>;
    type SerializeTupleStruct = SeqSer<'w, 'a>;
    type SerializeTupleVariant = Ignore;
    type SerializeMap = MapSer<'w, 'a>;
    type SerializeStruct = MapSer<'w, 'a>;
    type SerializeStructVariant = Ignore;

    fn serialize_bool(self, _: bool) -> Result<(), Stop> {
        self.w.other(self.node, self.start, Json::Bool);
        Ok(())
    }

    with_numbers!(numbers);

    fn serialize_char(self, v: char) -> Result<(), Stop> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }

    fn serialize_str(self, v: &str) -> Result<(), Stop> {
        self.w.string(self.node, self.start, v);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        // An array of numbers in JSON: not walked.
        self.w.unsure = true;
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Stop> {
        self.w.other(self.node, self.start, Json::Null);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Stop> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        use ser::SerializeMap;
        let mut map = self.map()?;
        map.serialize_entry(variant, value)?;
        map.end()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<SeqSer<'w, 'a>, Stop> {
        self.seq()
    }

    fn serialize_tuple(self, _: usize) -> Result<SeqSer<'w, 'a>, Stop> {
        self.seq()
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<SeqSer<'w, 'a>, Stop> {
        self.seq()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, Stop> {
        self.w.unsure = true;
        Ok(Ignore)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<MapSer<'w, 'a>, Stop> {
        self.map()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapSer<'w, 'a>, Stop> {
        self.map()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, Stop> {
        self.w.unsure = true;
        Ok(Ignore)
    }
}

impl SeqSer<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        let Kind::Array { prefix, items, .. } = &self.node.kind else {
            return Ok(());
        };
        let child = prefix.get(self.n).copied().or(*items);
        if let Some(c) = child {
            self.w.path.push(Seg::Index(self.n));
            let walked = self.w.value(c, value);
            self.w.path.pop();
            walked?;
        }
        self.n += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        let node = self.node;
        let Kind::Array { min, max, .. } = &node.kind else {
            return Ok(());
        };
        self.w.depth -= 1;
        let (n, start) = (self.n, self.start);
        if let Some(min) = *min {
            if n < min {
                self.w.error(rules::SCHEMA, start, || {
                    format!("expected at least {min} items, found {n}")
                });
            }
        }
        if let Some(max) = *max {
            if n > max {
                self.w.error(rules::SCHEMA, start, || {
                    format!("expected at most {max} items, found {n}")
                });
            }
        }
        if node.role == Role::Environments {
            if let Some(sem) = &mut self.w.semantic {
                sem.environments(n, start, &self.w.path, &mut self.w.sink);
            }
        }
        Ok(())
    }
}

/// `SerializeSeq`, `SerializeTuple` and `SerializeTupleStruct` alike: each element walked.
macro_rules! seq_impls {
    ($($tr:ident :: $method:ident),*) => {
        $(
            impl ser::$tr for SeqSer<'_, '_> {
                type Ok = ();
                type Error = Stop;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                    self.element(value)
                }

                fn end(self) -> Result<(), Stop> {
                    self.finish()
                }
            }
        )*
    };
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl MapSer<'_, '_> {
    /// The property named `key` in the node's `props`.
    #[inline]
    fn lookup(&mut self, key: &str) -> Option<usize> {
        // Keys usually come in the schema's order (a struct's fields): the property after the
        // last one found first, inlined; the others (an optional one left out before it) in
        // a call.
        let i = self.hint;
        match self.props.get(i) {
            Some((n, _)) if same_key(n.as_bytes(), key.as_bytes()) => {
                self.hint = i + 1;
                Some(i)
            }
            _ => self.search(key),
        }
    }

    /// [`lookup`](Self::lookup) past the hint: on from the property after the last one found,
    /// then before it (a key out of order, or given twice).
    #[inline(never)]
    fn search(&mut self, key: &str) -> Option<usize> {
        let props = self.props;
        let hit = |(n, _): &(String, NodeId)| same_key(n.as_bytes(), key.as_bytes());
        let (before, after) = props.split_at(self.hint.min(props.len()));
        let found = match after.iter().position(hit) {
            Some(i) => Some(self.hint + i),
            None => before.iter().position(hit),
        };
        if let Some(i) = found {
            self.hint = i + 1;
        }
        found
    }

    /// Whether the object matches one of its node's `anyOf` branches, told from its members
    /// as the walk found them; `None` when a branch is not that simple (then the object is
    /// walked again against each branch). A branch that is an object whose properties the
    /// node has too, with the same schema, matches when its required ones were seen and none
    /// seen broke a rule: what walking the object against it would find.
    fn any_of(&self) -> Option<bool> {
        let nodes = &self.w.schema.nodes;
        for &b in &self.node.any_of {
            let branch = &nodes[b];
            let Kind::Object {
                props, required, ..
            } = &branch.kind
            else {
                return None;
            };
            if !branch.any_of.is_empty() {
                return None;
            }
            let mut matched = true;
            for (i, (name, sub)) in props.iter().enumerate() {
                let main = (self.props.iter())
                    .position(|(n, _)| same_key(n.as_bytes(), name.as_bytes()))?;
                let (sub, own) = (&nodes[*sub], &nodes[self.props[main].1]);
                if sub.kind != own.kind || !sub.any_of.is_empty() || !own.any_of.is_empty() {
                    return None;
                }
                let bit = 1 << main;
                let missing = self.seen & bit == 0 && required.contains(&i);
                if missing || self.invalid & bit != 0 {
                    matched = false;
                }
            }
            if matched {
                return Some(true);
            }
        }
        Some(false)
    }

    fn member<T: Serialize + ?Sized>(&mut self, idx: Option<usize>, value: &T) -> Result<(), Stop> {
        let Some((idx, (name, child))) = idx.and_then(|i| Some((i, self.props.get(i)?))) else {
            return Ok(());
        };
        if self.seen & (1 << idx) != 0 {
            let start = self.start;
            self.w.error(rules::JSON, start, || {
                format!("duplicate key `{name}`: a key may appear once per object")
            });
        }
        self.seen |= 1 << idx;
        let before = self.w.sink.schema_errors;
        self.w.path.push(Seg::Prop(name));
        let walked = self.w.value(*child, value);
        self.w.path.pop();
        if self.w.sink.schema_errors != before {
            self.invalid |= 1 << idx;
        }
        walked
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        let idx = self.lookup(key);
        self.member(idx, value)
    }

    fn finish(self) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        let (node, props) = (self.node, self.props);
        let Kind::Object { required, .. } = &node.kind else {
            return Ok(());
        };
        if !node.any_of.is_empty() {
            self.w.any_of = self.any_of().map(|matched| (self.start, matched));
        }
        self.w.depth -= 1;
        let (seen, start) = (self.seen, self.start);
        for &r in required {
            if seen & (1 << r) == 0 {
                let name = &props[r].0;
                self.w.error(rules::SCHEMA, start, || {
                    format!("missing required property `{name}`")
                });
            }
        }
        if let Some(sem) = &mut self.w.semantic {
            let both = text_and_buffer(node, props, seen);
            sem.object_end(node.role, both, start, &self.w.path, &mut self.w.sink);
        }
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_, '_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        self.key = key.serialize(KeySer { map: self })?;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        let idx = self.key.take();
        self.member(idx, value)
    }

    /// Every member of the model's structs comes here (they keep unknown fields in a flattened
    /// `extra`, which makes serde write them as maps): the key is looked up in place.
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Stop> {
        if !self.walk {
            return Ok(());
        }
        let idx = key.serialize(KeySer { map: self })?;
        self.member(idx, value)
    }

    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapSer<'_, '_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

/// Serialises a map key into its object's property lookup: the index of the property it names
/// (`None`: not in the schema), with no string made. Keys are strings in the model; what
/// `serde_json` would read as a string (a `char`, a unit variant, a newtype or option around
/// one) is looked up as that string. Any other key, which serde_json writes as a string in a
/// form of its own or refuses, is not followed here: a scalar makes the walk unsure, a compound
/// stops it (never clean either way).
struct KeySer<'m, 'w, 'a> {
    map: &'m mut MapSer<'w, 'a>,
}

impl KeySer<'_, '_, '_> {
    fn other(self) -> Result<Option<usize>, Stop> {
        self.map.w.unsure = true;
        Ok(None)
    }

    fn compound<T>(self) -> Result<T, Stop> {
        self.map.w.unsure = true;
        Err(Stop)
    }
}

/// The `Serializer` methods of the scalar keys that are no string.
macro_rules! other_keys {
    ($($method:ident: $t:ty,)*) => {
        $(
            fn $method(self, _: $t) -> Result<Option<usize>, Stop> {
                self.other()
            }
        )*
    };
}

impl ser::Serializer for KeySer<'_, '_, '_> {
    type Ok = Option<usize>;
    type Error = Stop;
    type SerializeSeq = ser::Impossible<Option<usize>, Stop>;
    type SerializeTuple = ser::Impossible<Option<usize>, Stop>;
    type SerializeTupleStruct = ser::Impossible<Option<usize>, Stop>;
    type SerializeTupleVariant = ser::Impossible<Option<usize>, Stop>;
    type SerializeMap = ser::Impossible<Option<usize>, Stop>;
    type SerializeStruct = ser::Impossible<Option<usize>, Stop>;
    type SerializeStructVariant = ser::Impossible<Option<usize>, Stop>;

    #[inline]
    fn serialize_str(self, v: &str) -> Result<Option<usize>, Stop> {
        Ok(self.map.lookup(v))
    }

    fn serialize_char(self, v: char) -> Result<Option<usize>, Stop> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Option<usize>, Stop> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Option<usize>, Stop> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Option<usize>, Stop> {
        value.serialize(self)
    }

    with_numbers!(other_keys);

    other_keys! {
        serialize_bool: bool,
        serialize_bytes: &[u8],
        serialize_unit_struct: &'static str,
    }

    fn serialize_none(self) -> Result<Option<usize>, Stop> {
        self.other()
    }

    fn serialize_unit(self) -> Result<Option<usize>, Stop> {
        self.other()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Option<usize>, Stop> {
        self.other()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        self.compound()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        self.compound()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        self.compound()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        self.compound()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        self.compound()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        self.compound()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        self.compound()
    }
}

impl ser::SerializeTupleVariant for Ignore {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Stop> {
        Ok(())
    }

    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Ignore {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Stop> {
        Ok(())
    }

    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}
