//! # flakiness-validate
//!
//! Validates Flakiness reports: the JSON Schema generated from the
//! [`flakiness_report`] model, plus the semantic rules the official schema lacks (see
//! `spec/validation.md`). Every problem names its JSON path and its line:column in the file.
//!
//! Two engines apply the schema: [`Engine::Stream`] (default) walks the file with a pull parser
//! along the compiled schema and never builds a tree; [`Engine::JsonSchema`] runs the
//! `jsonschema` crate over a `serde_json::Value`. Both give the same verdict.
//!
//! ```
//! use flakiness_validate::{Options, Validator};
//!
//! let validator = Validator::new(Options::default()).expect("schema compiles");
//! let report = br#"{"category":"junit","commitId":"0123456789abcdef0123456789abcdef0123456x",
//!   "environments":[{"name":"ci"}],"startTimestamp":0,"duration":-1}"#;
//! let outcome = validator.validate_bytes(report);
//! assert!(!outcome.valid());
//! let paths: Vec<_> = outcome.errors.iter().map(|p| (p.path.as_str(), p.rule)).collect();
//! assert_eq!(paths, [("commitId", "commit-id-hex"), ("duration", "schema")]);
//! assert_eq!((outcome.errors[1].line, outcome.errors[1].column), (2, 64));
//! ```

mod compile;
pub mod incremental;
mod jsonschema_engine;
mod problem;
mod semantic;
mod stream;
mod typed;

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use compile::CompileError;
pub use incremental::Incremental;
pub use problem::{rules, Problem, Severity};
pub use stream::MAX_DEPTH;

use flakiness_report::{ATTACHMENTS_DIR, REPORT_FILE};
use problem::Sink;

/// Problems listed per report and severity; the rest are counted.
pub const DEFAULT_MAX_PROBLEMS: usize = 100;

/// Which implementation applies the JSON Schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// Streaming validator driven by the compiled schema (fast, memory about the file size).
    #[default]
    Stream,
    /// The `jsonschema` crate over a materialised `serde_json::Value`.
    JsonSchema,
}

/// How to validate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Schema engine.
    pub engine: Engine,
    /// Warnings count as errors.
    pub strict: bool,
    /// Problems kept per severity; the others are only counted.
    pub max_problems: usize,
    /// Whether [`Validator::validate_file`] checks that the attachments the report references
    /// are in `attachments/` beside it (rule `attachment-missing`).
    pub check_attachments: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            engine: Engine::Stream,
            strict: false,
            max_problems: DEFAULT_MAX_PROBLEMS,
            check_attachments: true,
        }
    }
}

/// The verdict on one report.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Errors (with `--strict`, warnings too), in file order.
    pub errors: Vec<Problem>,
    /// Warnings, in file order.
    pub warnings: Vec<Problem>,
    /// Errors found beyond those listed.
    pub errors_omitted: usize,
    /// Warnings found beyond those listed.
    pub warnings_omitted: usize,
    /// True when the schema layer alone (rules `schema` and `json`) found nothing: the verdict
    /// the official schema gives.
    pub schema_valid: bool,
}

impl Outcome {
    /// True when there is no error.
    pub fn valid(&self) -> bool {
        self.errors.is_empty() && self.errors_omitted == 0
    }
}

/// I/O errors: the report could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a path failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// The path is not a report, a report directory or a folder of reports.
    #[error("{}: {what}", path.display())]
    NotAReport {
        /// The path.
        path: PathBuf,
        /// Why.
        what: String,
    },
}

/// A compiled validator; build it once, use it for many reports.
#[derive(Debug)]
pub struct Validator {
    compiled: compile::Compiled,
    jsonschema: Option<jsonschema_engine::SchemaEngine>,
    options: Options,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Validator {
    /// Compiles the generated schema for the chosen engine.
    pub fn new(options: Options) -> Result<Self, CompileError> {
        let schema = flakiness_report::report_schema();
        let compiled = compile::compile(&schema)?;
        let jsonschema = match options.engine {
            Engine::Stream => None,
            Engine::JsonSchema => Some(jsonschema_engine::SchemaEngine::new(&schema)?),
        };
        Ok(Validator {
            compiled,
            jsonschema,
            options,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Validates the bytes of a `report.json` (attachments are not checked).
    pub fn validate_bytes(&self, data: &[u8]) -> Outcome {
        self.validate_impl(data, None)
    }

    /// Validates a report file; attachments are looked for in `attachments/` beside it
    /// (unless [`Options::check_attachments`] is off).
    pub fn validate_file(&self, path: &Path) -> Result<Outcome, Error> {
        let meta = fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Err(Error::NotAReport {
                path: path.to_path_buf(),
                what: "is a directory, not a report file".into(),
            });
        }
        if !meta.is_file() {
            return Err(Error::NotAReport {
                path: path.to_path_buf(),
                what: flakiness_report::files::not_regular(meta.file_type()).to_string(),
            });
        }
        let data = FileBytes::open(path, meta.len()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path
            .parent()
            .map(|p| p.join(ATTACHMENTS_DIR))
            .unwrap_or_else(|| PathBuf::from(ATTACHMENTS_DIR));
        let dir = self.options.check_attachments.then_some(dir.as_path());
        Ok(self.validate_impl(data.bytes(), dir))
    }

    fn validate_impl(&self, data: &[u8], attachments_dir: Option<&Path>) -> Outcome {
        let mut sink = Sink::new(self.options.max_problems);
        let (body, base) = if data.starts_with(BOM) {
            sink.push(
                Severity::Error,
                rules::JSON,
                0,
                || "$".into(),
                || {
                    "file starts with a UTF-8 byte order mark (BOM), which JSON does not allow"
                        .into()
                },
            );
            (&data[BOM.len()..], BOM.len())
        } else {
            (data, 0)
        };
        // Lone surrogate escapes are read as U+FFFD (same length: offsets stay), each named in a
        // warning whose path is filled in after the walk.
        let fixed = flakiness_report::json_text::replace_lone_surrogates(body);
        let lone: Vec<usize> = match &fixed {
            std::borrow::Cow::Borrowed(_) => Vec::new(),
            std::borrow::Cow::Owned(_) => {
                flakiness_report::json_text::lone_surrogates(body).collect()
            }
        };
        let body: &[u8] = &fixed;
        for &at in &lone {
            let original = String::from_utf8_lossy(&data[base + at..base + at + 6]).into_owned();
            sink.push(
                Severity::Warning,
                rules::LONE_SURROGATE,
                base + at,
                String::new,
                || {
                    format!(
                        "{original} is a lone UTF-16 surrogate: JavaScript keeps it, our tools read it as U+FFFD"
                    )
                },
            );
        }
        // The UTF-8 check of the whole file (the walk skips strings it does not need without
        // decoding them) runs beside the walk on large files; on invalid UTF-8 the walk's
        // findings are dropped and only that error is reported.
        let utf8_error = |body: &[u8]| std::str::from_utf8(body).err().map(|e| e.valid_up_to());
        let walk = |sink: Sink| {
            let mut walker = stream::Walker::new(
                body,
                base,
                &self.compiled,
                sink,
                Some(semantic::Semantic::default()),
            );
            let ok = walker.run();
            (ok, walker.sink, walker.semantic)
        };
        let before = sink.clone();
        let (bad_utf8, (walked_ok, walked_sink, walked_semantic)) = if body.len() >= PARALLEL_UTF8 {
            std::thread::scope(|scope| {
                let check = scope.spawn(|| utf8_error(body));
                let walked = walk(sink);
                (check.join().unwrap_or(Some(0)), walked)
            })
        } else {
            match utf8_error(body) {
                Some(at) => (Some(at), (false, sink, None)),
                None => (None, walk(sink)),
            }
        };
        let (mut json_ok, mut sink, semantic) = (walked_ok, walked_sink, walked_semantic);
        if let Some(at) = bad_utf8 {
            sink = before;
            sink.push(
                Severity::Error,
                rules::JSON,
                base + at,
                || "$".into(),
                || "invalid UTF-8".into(),
            );
            json_ok = false;
        }
        if !lone.is_empty() {
            let mut kept: Vec<&mut Problem> = sink
                .warnings
                .iter_mut()
                .filter(|p| p.rule == rules::LONE_SURROGATE)
                .collect();
            let offsets: Vec<usize> = kept.iter().map(|p| p.offset - base).collect();
            let paths = if json_ok {
                jsonschema_engine::paths_at(body, &offsets)
            } else {
                Vec::new()
            };
            for (i, p) in kept.iter_mut().enumerate() {
                p.path = paths.get(i).cloned().unwrap_or_else(|| "$".into());
            }
        }
        if json_ok {
            if let Some(engine) = &self.jsonschema {
                engine.replace_schema_problems(body, base, &mut sink);
            }
            if let (Some(dir), Some(sem)) = (attachments_dir, &semantic) {
                let paths = |offsets: &[usize]| {
                    let local: Vec<usize> = offsets.iter().map(|o| o - base).collect();
                    jsonschema_engine::paths_at(body, &local)
                };
                check_attachments(dir, sem, &mut sink, &paths);
            }
        }
        finish(data, sink, self.options.strict)
    }
}

/// Inputs at least this large get their UTF-8 checked on a second thread during the walk.
const PARALLEL_UTF8: usize = 1 << 20;

/// Files at least this large are memory-mapped instead of copied into memory.
const MMAP_THRESHOLD: u64 = 16 << 20;

/// The bytes of a report file: read into memory, or mapped when large (no copy, and the kernel
/// pages it in as it is read). Map only files nothing truncates while they are read: a file
/// cut short by another process makes reads past its new end fault (SIGBUS).
#[derive(Debug)]
pub enum FileBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl FileBytes {
    /// Reads `path`, or maps it when it is 16 MiB or more (`len` is its size). Only a regular
    /// file is opened (a FIFO or a device is refused, never waited on).
    pub fn open(path: &Path, len: u64) -> io::Result<Self> {
        let mut file = flakiness_report::files::open_regular(path)?;
        if len < MMAP_THRESHOLD {
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            io::Read::read_to_end(&mut file, &mut bytes)?;
            return Ok(FileBytes::Read(bytes));
        }
        Self::map(&file)
    }

    #[allow(unsafe_code)]
    fn map(file: &fs::File) -> io::Result<Self> {
        // SAFETY: the map is only read. A file truncated by another process while it is being
        // read makes reads past the new end fault (SIGBUS), as in every tool that maps files;
        // spec/validation.md says so. Nothing in this process writes to it.
        let map = unsafe { memmap2::MmapOptions::new().map(file)? };
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(FileBytes::Mapped(map))
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            FileBytes::Read(v) => v,
            FileBytes::Mapped(m) => m,
        }
    }
}

/// `paths` gives the JSON paths of values at file offsets (sorted), for the messages.
fn check_attachments(
    dir: &Path,
    sem: &semantic::Semantic,
    sink: &mut Sink,
    paths: &dyn Fn(&[usize]) -> Vec<String>,
) {
    let present: Option<BTreeSet<String>> = fs::read_dir(dir).ok().map(|rd| {
        rd.filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    });
    let missing: Vec<(&String, usize)> = sem
        .attachments
        .iter()
        .filter(|(id, _)| present.as_ref().is_none_or(|p| !p.contains(*id)))
        .map(|(id, reference)| (id, reference.offset))
        .collect();
    // Paths for the problems the sink keeps (the first ones, in id order), found in one walk.
    let shown = missing
        .len()
        .min(sink.limit.saturating_sub(sink.errors.len()));
    let mut offsets: Vec<usize> = missing[..shown].iter().map(|&(_, o)| o).collect();
    offsets.sort_unstable();
    offsets.dedup();
    let found = paths(&offsets);
    let path_of = |offset: usize| {
        offsets
            .binary_search(&offset)
            .ok()
            .and_then(|i| found.get(i).cloned())
            .unwrap_or_else(|| "$".into())
    };
    for (id, offset) in missing {
        let why = if present.is_none() {
            format!("there is no {ATTACHMENTS_DIR}/ folder beside the report")
        } else {
            format!("{ATTACHMENTS_DIR}/{id} does not exist")
        };
        sink.push(
            Severity::Error,
            rules::ATTACHMENT_MISSING,
            offset,
            || path_of(offset),
            || format!("attachment {id:?} is missing: {why}"),
        );
    }
    for name in present.iter().flatten() {
        if !sem.attachments.contains_key(name) {
            sink.push(
                Severity::Warning,
                rules::ATTACHMENT_UNREFERENCED,
                0,
                || "$".into(),
                || format!("{ATTACHMENTS_DIR}/{name} is not referenced by the report"),
            );
        }
    }
}

fn finish(data: &[u8], sink: Sink, strict: bool) -> Outcome {
    let Sink {
        mut errors,
        mut warnings,
        error_count,
        warning_count,
        schema_errors,
        ..
    } = sink;
    let json_errors = errors.iter().filter(|p| p.rule == rules::JSON).count();
    {
        let mut all: Vec<&mut Problem> = errors.iter_mut().chain(warnings.iter_mut()).collect();
        problem::locate_all(data, &mut all);
    }
    errors.sort_by_key(|p| p.offset);
    warnings.sort_by_key(|p| p.offset);
    let mut out = Outcome {
        errors_omitted: error_count - errors.len(),
        warnings_omitted: warning_count - warnings.len(),
        errors,
        warnings,
        schema_valid: schema_errors == 0 && json_errors == 0,
    };
    if strict {
        out.errors.append(&mut out.warnings);
        out.errors.sort_by_key(|p| p.offset);
        out.errors_omitted += out.warnings_omitted;
        out.warnings_omitted = 0;
    }
    out
}

/// Finds the report files a PATH names: a report file; a directory with `report.json`; or a
/// folder walked for `report.json` files and, in folders without one, other `*.json` files
/// (never inside `attachments/`). Sorted by path.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !meta.is_dir() {
        return Err(Error::NotAReport {
            path: path.to_path_buf(),
            what: flakiness_report::files::not_regular(meta.file_type()).to_string(),
        });
    }
    let direct = path.join(REPORT_FILE);
    if let Ok(direct_meta) = fs::metadata(&direct) {
        if !direct_meta.is_file() {
            return Err(Error::NotAReport {
                path: direct,
                what: flakiness_report::files::not_regular(direct_meta.file_type()).to_string(),
            });
        }
        return Ok(vec![direct]);
    }
    let mut found = Vec::new();
    let walk = walkdir::WalkDir::new(path)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && e.file_name() == ATTACHMENTS_DIR));
    for entry in walk {
        let entry = entry.map_err(|e| Error::Io {
            path: e
                .path()
                .map_or_else(|| path.to_path_buf(), Path::to_path_buf),
            source: e
                .into_io_error()
                .unwrap_or_else(|| io::Error::other("file system loop")),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let p = entry.path();
        let is_json = p.extension().is_some_and(|e| e == "json");
        let is_report = p.file_name().is_some_and(|n| n == REPORT_FILE);
        let dir_has_report = p.parent().is_some_and(|d| d.join(REPORT_FILE).is_file());
        if is_report || (is_json && !dir_has_report) {
            found.push(p.to_path_buf());
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::NotAReport {
            path: path.to_path_buf(),
            what: "holds no report.json or other .json file".into(),
        });
    }
    Ok(found)
}
