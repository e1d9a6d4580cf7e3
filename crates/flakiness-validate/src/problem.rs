//! Problems found in a report, and where they are.

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The report is invalid.
    Error,
    /// Suspicious, but valid unless `--strict`.
    Warning,
}

/// Rule ids: `schema` for the schema layer, the others for the semantic layer.
pub mod rules {
    /// A rule of the JSON Schema (and so of the official Zod schema).
    pub const SCHEMA: &str = "schema";
    /// The file is not well-formed JSON (or has a BOM, invalid UTF-8, too deep nesting…).
    pub const JSON: &str = "json";
    /// The report has no environment.
    pub const ENVIRONMENTS_EMPTY: &str = "environments-empty";
    /// An `environmentIdx` does not point into `environments`.
    pub const ENVIRONMENT_IDX_RANGE: &str = "environment-idx-range";
    /// A field the model stores as an integer holds a fraction.
    pub const INTEGER: &str = "integer";
    /// A commit id is not 40 hex characters.
    pub const COMMIT_ID_HEX: &str = "commit-id-hex";
    /// An attachment id is not safe as a file name.
    pub const ATTACHMENT_ID_UNSAFE: &str = "attachment-id-unsafe";
    /// A referenced attachment is not in `attachments/`.
    pub const ATTACHMENT_MISSING: &str = "attachment-missing";
    /// A file in `attachments/` is referenced by nothing (warning).
    pub const ATTACHMENT_UNREFERENCED: &str = "attachment-unreferenced";
    /// An stdio entry has both `text` and `buffer`.
    pub const STDIO_TEXT_AND_BUFFER: &str = "stdio-text-and-buffer";
    /// An stdio `buffer` is not base64.
    pub const STDIO_BASE64: &str = "stdio-base64";
    /// Two tests share file, suite path and title in a common environment (warning).
    pub const DUPLICATE_TEST: &str = "duplicate-test";
    /// Environment metadata is not a flat object of scalars (warning).
    pub const METADATA_SHAPE: &str = "metadata-shape";
    /// A string escapes a lone UTF-16 surrogate (`\ud800`), read as U+FFFD (warning).
    pub const LONE_SURROGATE: &str = "lone-surrogate";
}

/// One problem: what, where (JSON path and line:column), which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSON path of the value, like `tests[3].attempts[0].status` (`$` is the root).
    pub path: String,
    /// 1-based line of the value in the file.
    pub line: usize,
    /// 1-based column (in characters) of the value in the file.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The rule id (see [`rules`]).
    pub rule: &'static str,
    #[serde(skip)]
    /// Byte offset of the value in the file.
    pub offset: usize,
}

/// Collects problems, keeping at most a bounded number of each severity and counting the rest.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    pub limit: usize,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub error_count: usize,
    pub warning_count: usize,
    pub schema_errors: usize,
}

impl Sink {
    pub fn new(limit: usize) -> Self {
        Sink {
            limit,
            errors: Vec::new(),
            warnings: Vec::new(),
            error_count: 0,
            warning_count: 0,
            schema_errors: 0,
        }
    }

    pub fn push(
        &mut self,
        severity: Severity,
        rule: &'static str,
        offset: usize,
        path: impl FnOnce() -> String,
        message: impl FnOnce() -> String,
    ) {
        let (list, count) = match severity {
            Severity::Error => (&mut self.errors, &mut self.error_count),
            Severity::Warning => (&mut self.warnings, &mut self.warning_count),
        };
        *count += 1;
        if rule == rules::SCHEMA {
            self.schema_errors += 1;
        }
        if list.len() < self.limit {
            list.push(Problem {
                path: path(),
                line: 0,
                column: 0,
                message: message(),
                rule,
                offset,
            });
        }
    }
}

/// Fills `line` and `column` of every problem from its byte offset, in one pass over `data`.
pub(crate) fn locate_all(data: &[u8], problems: &mut [&mut Problem]) {
    problems.sort_by_key(|p| p.offset);
    let chars = |bytes: &[u8]| {
        if bytes.is_ascii() {
            bytes.len()
        } else {
            bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
        }
    };
    let (mut pos, mut line, mut column) = (0usize, 1usize, 1usize);
    for p in problems.iter_mut() {
        let target = p.offset.clamp(pos, data.len());
        let segment = &data[pos..target];
        match memchr::memrchr(b'\n', segment) {
            Some(last) => {
                line += memchr::memchr_iter(b'\n', segment).count();
                column = 1 + chars(&segment[last + 1..]);
            }
            None => column += chars(segment),
        }
        pos = target;
        p.line = line;
        p.column = column;
    }
}
