//! Compiles the generated JSON Schema into a compact tree the streaming engine walks.
//!
//! Only the keywords the generated schema uses are understood; any other keyword is an error
//! here (and fails a test), so the streaming engine can never silently ignore a rule that the
//! schema gained.

use std::collections::HashMap;

use serde_json::{Map, Value};

pub(crate) type NodeId = usize;

/// What the semantic layer wants to hear about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    None,
    /// `commitId`, `relatedCommitIds[i]`: 40 hex characters.
    CommitId,
    /// `environments`: its length bounds every `environmentIdx`.
    Environments,
    /// `RunAttempt.environmentIdx`.
    EnvironmentIdx,
    /// `Attachment.id`.
    AttachmentId,
    /// `TimedStdioEntry` / `StdioEntry` objects.
    StdioObject,
    /// `buffer` of an stdio entry: base64.
    StdioBuffer,
    /// `Environment.metadata`, `Environment.userSuppliedData`: flat objects of scalars.
    Metadata,
    /// A `Test` object.
    Test,
    /// A `Suite` object.
    Suite,
    /// `Test.title` / `Suite.title`.
    Title,
    /// `Suite.type`.
    SuiteType,
    /// `Location.file`.
    LocationFile,
    /// A `Location` object.
    Location,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Any,
    Object {
        /// False for the branches of `anyOf` that do not say `"type": "object"`: they constrain
        /// objects only.
        typed: bool,
        props: Vec<(String, NodeId)>,
        required: Vec<usize>,
    },
    Array {
        prefix: Vec<NodeId>,
        items: Option<NodeId>,
        min: Option<usize>,
        max: Option<usize>,
    },
    String {
        min: Option<usize>,
        max: Option<usize>,
        allowed: Vec<String>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    /// `enum` without `type` (for example the stream numbers `[1, 2]`).
    Enum(Vec<Value>),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub any_of: Vec<NodeId>,
    pub role: Role,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub nodes: Vec<Node>,
    pub root: NodeId,
}

#[derive(Debug, thiserror::Error)]
#[error("schema not understood by the streaming engine at {at}: {what}")]
pub struct CompileError {
    at: String,
    what: String,
}

impl CompileError {
    pub(crate) fn new(at: &str, what: impl Into<String>) -> Self {
        err(at, what)
    }
}

fn err(at: &str, what: impl Into<String>) -> CompileError {
    CompileError {
        at: at.to_string(),
        what: what.into(),
    }
}

const ANNOTATIONS: &[&str] = &["description", "title", "$schema", "$id", "$defs", "format"];

struct Compiler<'s> {
    defs: &'s Map<String, Value>,
    nodes: Vec<Node>,
    by_def: HashMap<String, NodeId>,
}

impl Compiler<'_> {
    fn def(&mut self, name: &str) -> Result<NodeId, CompileError> {
        if let Some(&id) = self.by_def.get(name) {
            return Ok(id);
        }
        let schema = self
            .defs
            .get(name)
            .ok_or_else(|| err(name, "unknown $ref"))?;
        // Reserve the id first: definitions are recursive (Suite holds suites).
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind: Kind::Any,
            any_of: Vec::new(),
            role: Role::None,
        });
        self.by_def.insert(name.to_string(), id);
        let node = self.build(schema, name)?;
        self.nodes[id] = node;
        Ok(id)
    }

    fn node(&mut self, schema: &Value, at: &str) -> Result<NodeId, CompileError> {
        if let Some(obj) = schema.as_object() {
            if let Some(r) = obj.get("$ref") {
                for k in obj.keys() {
                    if k != "$ref" && !ANNOTATIONS.contains(&k.as_str()) {
                        return Err(err(at, format!("keyword {k:?} beside $ref")));
                    }
                }
                let r = r.as_str().ok_or_else(|| err(at, "$ref is not a string"))?;
                let name = r
                    .strip_prefix("#/$defs/")
                    .ok_or_else(|| err(at, format!("unsupported $ref {r}")))?;
                return self.def(name);
            }
        }
        let node = self.build(schema, at)?;
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    fn build(&mut self, schema: &Value, at: &str) -> Result<Node, CompileError> {
        let obj = match schema {
            Value::Bool(true) => {
                return Ok(Node {
                    kind: Kind::Any,
                    any_of: Vec::new(),
                    role: Role::None,
                })
            }
            Value::Object(o) => o,
            _ => return Err(err(at, "schema is neither an object nor `true`")),
        };
        for k in obj.keys() {
            let known = ANNOTATIONS.contains(&k.as_str())
                || matches!(
                    k.as_str(),
                    "type"
                        | "properties"
                        | "required"
                        | "items"
                        | "prefixItems"
                        | "minItems"
                        | "maxItems"
                        | "minLength"
                        | "maxLength"
                        | "minimum"
                        | "maximum"
                        | "enum"
                        | "anyOf"
                        | flakiness_report::INTEGER_KEYWORD
                );
            if !known {
                return Err(err(at, format!("unsupported keyword {k:?}")));
            }
        }
        let usize_of = |k: &str| -> Result<Option<usize>, CompileError> {
            match obj.get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| err(at, format!("{k} is not a whole number"))),
            }
        };
        let f64_of = |k: &str| -> Result<Option<f64>, CompileError> {
            match obj.get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| err(at, format!("{k} is not a number"))),
            }
        };
        let ty = match obj.get("type") {
            None => None,
            Some(Value::String(t)) => Some(t.as_str()),
            Some(_) => return Err(err(at, "`type` must be a single string")),
        };
        let kind = match ty {
            Some("object") | None if obj.contains_key("properties") || ty == Some("object") => {
                let mut props = Vec::new();
                if let Some(p) = obj.get("properties") {
                    let p = p
                        .as_object()
                        .ok_or_else(|| err(at, "properties is not an object"))?;
                    for (name, sub) in p {
                        let id = self.node(sub, &format!("{at}.{name}"))?;
                        props.push((name.clone(), id));
                    }
                }
                let mut required = Vec::new();
                if let Some(r) = obj.get("required") {
                    for name in r.as_array().into_iter().flatten() {
                        let name = name
                            .as_str()
                            .ok_or_else(|| err(at, "required entry is not a string"))?;
                        let idx = props.iter().position(|(n, _)| n == name).ok_or_else(|| {
                            err(at, format!("required {name:?} has no property schema"))
                        })?;
                        required.push(idx);
                    }
                }
                if props.len() > 64 {
                    return Err(err(at, "more than 64 properties"));
                }
                Kind::Object {
                    typed: ty == Some("object"),
                    props,
                    required,
                }
            }
            Some("array") => {
                let mut prefix = Vec::new();
                if let Some(p) = obj.get("prefixItems") {
                    for (i, sub) in p.as_array().into_iter().flatten().enumerate() {
                        prefix.push(self.node(sub, &format!("{at}[{i}]"))?);
                    }
                }
                let items = match obj.get("items") {
                    Some(sub) => Some(self.node(sub, &format!("{at}[]"))?),
                    None => None,
                };
                Kind::Array {
                    prefix,
                    items,
                    min: usize_of("minItems")?,
                    max: usize_of("maxItems")?,
                }
            }
            Some("string") => Kind::String {
                min: usize_of("minLength")?,
                max: usize_of("maxLength")?,
                allowed: match obj.get("enum") {
                    Some(Value::Array(values)) => values
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| err(at, "string enum with a non-string"))
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(err(at, "enum is not an array")),
                    None => Vec::new(),
                },
            },
            Some("number") => Kind::Number {
                min: f64_of("minimum")?,
                max: f64_of("maximum")?,
                integer: obj
                    .get(flakiness_report::INTEGER_KEYWORD)
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            None if obj.contains_key("enum") => match obj.get("enum") {
                Some(Value::Array(values)) => Kind::Enum(values.clone()),
                _ => return Err(err(at, "enum is not an array")),
            },
            None => Kind::Any,
            Some(other) => return Err(err(at, format!("unsupported type {other:?}"))),
        };
        let mut any_of = Vec::new();
        if let Some(branches) = obj.get("anyOf") {
            for (i, b) in branches.as_array().into_iter().flatten().enumerate() {
                any_of.push(self.node(b, &format!("{at}.anyOf[{i}]"))?);
            }
        }
        Ok(Node {
            kind,
            any_of,
            role: Role::None,
        })
    }
}

/// Where the semantic roles go: `(definition, property, role)`; an empty property names the
/// definition's own node; `[]` after a property names its array items.
const ROLES: &[(&str, &str, Role)] = &[
    ("Report", "commitId", Role::CommitId),
    ("Report", "relatedCommitIds[]", Role::CommitId),
    ("Report", "environments", Role::Environments),
    ("RunAttempt", "environmentIdx", Role::EnvironmentIdx),
    ("Attachment", "id", Role::AttachmentId),
    ("TimedStdioEntry", "", Role::StdioObject),
    ("TimedStdioEntry", "buffer", Role::StdioBuffer),
    ("StdioEntry", "", Role::StdioObject),
    ("StdioEntry", "buffer", Role::StdioBuffer),
    ("Environment", "metadata", Role::Metadata),
    ("Environment", "userSuppliedData", Role::Metadata),
    ("Test", "", Role::Test),
    ("Test", "title", Role::Title),
    ("Suite", "", Role::Suite),
    ("Suite", "title", Role::Title),
    ("Suite", "type", Role::SuiteType),
    ("Location", "", Role::Location),
    ("Location", "file", Role::LocationFile),
];

pub(crate) fn compile(schema: &Value) -> Result<Compiled, CompileError> {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut c = Compiler {
        defs,
        nodes: Vec::new(),
        by_def: HashMap::new(),
    };
    let root = c.node(schema, "$")?;
    c.by_def.insert("Report".into(), root);
    for &(def, prop, role) in ROLES {
        let owner = *c
            .by_def
            .get(def)
            .ok_or_else(|| err(def, "definition named by a semantic role is missing"))?;
        let target = if prop.is_empty() {
            owner
        } else {
            let (name, items) = match prop.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (prop, false),
            };
            let Kind::Object { props, .. } = &c.nodes[owner].kind else {
                return Err(err(
                    def,
                    "semantic role on a definition that is not an object",
                ));
            };
            let id = props
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, id)| *id)
                .ok_or_else(|| err(def, format!("semantic role names missing property {name}")))?;
            if items {
                match &c.nodes[id].kind {
                    Kind::Array { items: Some(i), .. } => *i,
                    _ => return Err(err(def, format!("{name} is not an array"))),
                }
            } else {
                id
            }
        };
        if c.nodes[target].role != Role::None {
            return Err(err(
                def,
                format!("node of {prop} has two roles (shared $ref?)"),
            ));
        }
        c.nodes[target].role = role;
    }
    Ok(Compiled {
        nodes: c.nodes,
        root,
    })
}
