//! Reports into the history store: finding them, reading them (bounded), checking them, and
//! summarising each into a [`RunRecord`].

use std::fs;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use flakiness_report::{
    Report, RunAttempt, Suite, SuiteType, Test, TestOutcome, TestStatus, REPORT_FILE,
};
use flakiness_store::{
    FailureKind, FailureRecord, KeyedRun, Outcome, RunKeys, RunMeta, RunRecord, TestKeys,
    TestResult,
};
use flakiness_validate::Validator;
use sha2::{Digest, Sha256};

use crate::AnalyzeError;

/// How a report is stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A report directory: `report.json` (plus `attachments/`).
    Dir,
    /// A bare JSON report file.
    Json,
    /// A zstd-compressed JSON report (`*.json.zst`).
    JsonZst,
    /// A JUnit XML file (`*.xml`): one file is one run, converted in memory (spec/analyze.md).
    Junit,
}

/// A report found by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSource {
    /// The directory or file, as found.
    pub path: PathBuf,
    pub kind: SourceKind,
}

impl ReportSource {
    /// The file holding the JSON.
    pub fn file(&self) -> PathBuf {
        match self.kind {
            SourceKind::Dir => self.path.join(REPORT_FILE),
            SourceKind::Json | SourceKind::JsonZst | SourceKind::Junit => self.path.clone(),
        }
    }
}

/// Finds the reports under `paths`: a path is a report directory (it holds `report.json`), a
/// `*.json`, `*.json.zst` or JUnit `*.xml` file, or a folder walked for those (report directories are not
/// entered: their `attachments/` are not reports). Sorted by path, each found once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<ReportSource>, AnalyzeError> {
    let mut out = Vec::new();
    for root in paths {
        let meta = fs::metadata(root).map_err(|e| AnalyzeError::io(root, e))?;
        if !meta.is_file() && !meta.is_dir() {
            return Err(AnalyzeError::io(
                root,
                flakiness_report::files::not_regular(meta.file_type()),
            ));
        }
        if meta.is_file() {
            match kind_of_file(root) {
                Some(kind) => out.push(ReportSource {
                    path: root.clone(),
                    kind,
                }),
                None => return Err(AnalyzeError::NotAReport { path: root.clone() }),
            }
            continue;
        }
        let mut walk = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(root).to_path_buf();
                AnalyzeError::io(&path, e.into())
            })?;
            let path = entry.path();
            if entry.file_type().is_dir() {
                if path.join(REPORT_FILE).is_file() {
                    out.push(ReportSource {
                        path: path.to_path_buf(),
                        kind: SourceKind::Dir,
                    });
                    walk.skip_current_dir();
                }
                continue;
            }
            // Regular files only: a FIFO named `*.json` would be waited on forever.
            if !entry.file_type().is_file() {
                continue;
            }
            if let Some(kind) = kind_of_file(path) {
                out.push(ReportSource {
                    path: path.to_path_buf(),
                    kind,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup();
    Ok(out)
}

fn kind_of_file(path: &Path) -> Option<SourceKind> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".json.zst") {
        Some(SourceKind::JsonZst)
    } else if name.ends_with(".json") {
        Some(SourceKind::Json)
    } else if name.ends_with(".xml") {
        Some(SourceKind::Junit)
    } else {
        None
    }
}

/// Limits on what [`load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// Largest report JSON accepted, after decompression (bytes).
    pub max_report_bytes: u64,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_report_bytes: 2 << 30,
        }
    }
}

/// A report read and checked by [`load`].
#[derive(Debug)]
pub struct Loaded {
    pub report: Report,
    /// SHA-256 of the report's JSON (decompressed), hex: the run's identity in the store.
    pub content_hash: String,
}

/// Why [`load`] skipped a report: it never stops an analysis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// The report's JSON bytes, decompressed, refused beyond the limit.
pub fn read_bytes(source: &ReportSource, limits: &LoadLimits) -> Result<Vec<u8>, Skipped> {
    read_file(source, limits).map(|(bytes, _)| bytes)
}

/// [`read_bytes`], with the file's modification time as Unix ms (`None` when unknown), from
/// the metadata the reading takes anyway (no second look-up of the path).
fn read_file(
    source: &ReportSource,
    limits: &LoadLimits,
) -> Result<(Vec<u8>, Option<f64>), Skipped> {
    let file = source.file();
    let skip = |reason: String| Skipped {
        path: file.clone(),
        reason,
    };
    let f = flakiness_report::files::open_regular(&file).map_err(|e| skip(e.to_string()))?;
    let limit = limits.max_report_bytes;
    let meta = f.metadata().ok();
    let modified_ms = meta.as_ref().and_then(modified_ms);
    // Sized once (read_to_end through `take` would grow it step by step). A compressed report
    // is first inflated into nothing, only counted: one past the limit (a compression bomb)
    // is refused without ever holding what it inflated; within it, it is inflated again into
    // a buffer of its exact size.
    let size = match source.kind {
        SourceKind::JsonZst => {
            let mut counted = zstd::stream::Decoder::new(&f)
                .map_err(|e| skip(format!("cannot read: {e}")))?
                .take(limit + 1);
            let n = std::io::copy(&mut counted, &mut std::io::sink())
                .map_err(|e| skip(format!("cannot read: {e}")))?;
            if n > limit {
                return Err(skip(format!(
                    "the report is larger than {limit} bytes once decompressed"
                )));
            }
            (&f).seek(std::io::SeekFrom::Start(0))
                .map_err(|e| skip(format!("cannot read: {e}")))?;
            n
        }
        _ => meta.as_ref().map_or(0, |m| m.len()),
    };
    let mut bytes = Vec::with_capacity(usize::try_from(size.min(limit) + 1).unwrap_or(0));
    let read = match source.kind {
        SourceKind::Dir | SourceKind::Json | SourceKind::Junit => {
            f.take(limit + 1).read_to_end(&mut bytes)
        }
        SourceKind::JsonZst => zstd::stream::Decoder::new(f)
            .and_then(|d| d.take(size.min(limit) + 1).read_to_end(&mut bytes)),
    };
    read.map_err(|e| skip(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(skip(format!(
            "the report is larger than {limit} bytes{}",
            if source.kind == SourceKind::JsonZst {
                " once decompressed"
            } else {
                ""
            }
        )));
    }
    Ok((bytes, modified_ms))
}

/// A file's modification time as Unix ms.
fn modified_ms(meta: &fs::Metadata) -> Option<f64> {
    let t = meta.modified().ok()?;
    let since = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(since.as_millis() as f64)
}

/// Hex SHA-256 of `bytes`.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a report, checks it with `validator` and parses it. An invalid report is skipped
/// with its first error (JSON path and line).
pub fn load(
    source: &ReportSource,
    validator: &Validator,
    limits: &LoadLimits,
) -> Result<Loaded, Skipped> {
    let bytes = read_bytes(source, limits)?;
    match source.kind {
        SourceKind::Junit => check_junit(source, &bytes),
        _ => check(source, &bytes, validator),
    }
}

/// Names of the suite-level JUnit properties read as the run's commit, compared without case
/// and with `-` and `.` read as `_`; the first one present wins.
pub const JUNIT_COMMIT_PROPERTIES: &[&str] = &[
    "commit_id",
    "commit",
    "git_commit",
    "git_sha",
    "github_sha",
    "ci_commit_sha",
    "build_vcs_number",
    "vcs_revision",
    "revision",
    "sha",
];
/// Names of the suite-level JUnit properties read as the run's environment (as
/// [`JUNIT_COMMIT_PROPERTIES`]); without one, the environment is `default`.
pub const JUNIT_ENVIRONMENT_PROPERTIES: &[&str] = &["flakiness_environment", "environment", "env"];

fn property<'a>(props: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    let norm = |k: &str| -> String {
        k.trim()
            .chars()
            .map(|c| match c {
                '-' | '.' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    };
    names.iter().find_map(|n| {
        props
            .iter()
            .find(|(k, v)| norm(k) == *n && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    })
}

/// Converts a JUnit XML file (bytes read by [`read_bytes`]) into a report, as `flakiness
/// convert` would, with the run's commit and environment taken from suite-level properties
/// ([`JUNIT_COMMIT_PROPERTIES`], [`JUNIT_ENVIRONMENT_PROPERTIES`]). A run without a commit
/// has an empty `commitId`: the analysis then never pairs it with another run as "the same
/// commit". A file that is not JUnit, or is malformed, is skipped with the converter's error
/// (file:line:column). The content hash is the XML's.
pub fn check_junit(source: &ReportSource, bytes: &[u8]) -> Result<Loaded, Skipped> {
    let modified = fs::metadata(source.file())
        .ok()
        .as_ref()
        .and_then(modified_ms);
    let read = read_junit(source, bytes, modified)?;
    Ok(Loaded {
        report: flakiness_convert::junit_report(read.collector, &read.meta, read.fallback_ms),
        content_hash: content_hash(bytes),
    })
}

/// A JUnit file read by the converter's reader, with what [`check_junit`] makes the report of.
struct ReadJunit {
    collector: flakiness_convert::JunitCollector,
    meta: flakiness_convert::Metadata,
    /// The file's modification time (Unix ms): the run's start when the file has none.
    fallback_ms: f64,
}

/// `modified_ms`: the file's modification time (Unix ms), the run's start when the file has
/// none.
fn read_junit(
    source: &ReportSource,
    bytes: &[u8],
    modified_ms: Option<f64>,
) -> Result<ReadJunit, Skipped> {
    use flakiness_convert::{JunitCollector, Limits, Metadata};
    let file = source.file();
    let name = file.display().to_string();
    let fallback_ms = modified_ms.unwrap_or(0.0);
    let mut collector = JunitCollector::default();
    collector
        .read(bytes, &name, fallback_ms, &Limits::default())
        .map_err(|e| {
            let e = e.locate(bytes);
            Skipped {
                path: file.clone(),
                reason: format!(
                    "not a usable JUnit file: {}:{}: {}",
                    e.line, e.column, e.message
                ),
            }
        })?;
    let props = &collector.suite_properties;
    let meta = Metadata {
        commit_id: property(props, JUNIT_COMMIT_PROPERTIES)
            .unwrap_or_default()
            .to_string(),
        category: "junit".into(),
        env_name: property(props, JUNIT_ENVIRONMENT_PROPERTIES)
            .unwrap_or("default")
            .to_string(),
        ..Metadata::default()
    };
    Ok(ReadJunit {
        collector,
        meta,
        fallback_ms,
    })
}

/// [`summarize_keyed`] of the report [`check_junit`] makes, read off the converter's collector
/// ([`JunitCollector::visit`](flakiness_convert::JunitCollector::visit)) without building the
/// report; through the report for pytest's documents, whose suites the report regroups.
fn summarize_junit_keyed(read: ReadJunit, source: &str, hash: &str, keys: &TestKeys) -> KeyedRun {
    let ReadJunit {
        collector,
        meta,
        fallback_ms,
    } = read;
    // The report's environments and facts, as junit_report gives them.
    let env_names: Vec<&str> = if collector.projects().is_empty() {
        vec![meta.env_name.as_str()]
    } else {
        collector.projects().iter().map(String::as_str).collect()
    };
    let run = RunMeta {
        content_hash: hash.to_string(),
        source: source.to_string(),
        commit_id: meta.commit_id.clone(),
        start_ms: collector
            .earliest_ms()
            .unwrap_or(fallback_ms)
            .max(0.0)
            .round() as i64,
        duration_ms: collector.total_ms().round() as i64,
        title: meta.title.clone(),
        url: meta.url.clone(),
        category: meta.category.clone(),
    };
    // About one result per testcase: sized once.
    let mut run_keys = RunKeys::with_capacity(collector.testcases);
    let mut results = Vec::with_capacity(collector.testcases);
    let mut f = |file: &str, path: &[&str], title: &str, env: &str, r: TestResult| {
        run_keys.push(file, path.iter().copied().chain([title]), env);
        results.push(r);
    };
    // The suites entered: each one's file so far and whether it is on the path.
    let mut open: Vec<(Option<&str>, bool)> = Vec::new();
    let mut path: Vec<&str> = Vec::new();
    let visited = collector.visit(&mut |depth, suite, tests| {
        let Some(suite) = suite else {
            for t in tests {
                summarize_test(t, None, &[], &env_names, &mut f);
            }
            return;
        };
        while open.len() > depth {
            if let Some((_, true)) = open.pop() {
                path.pop();
            }
        }
        let (file, title) = suite_scope(suite);
        let file = file.or_else(|| open.last().and_then(|o| o.0));
        if let Some(title) = title {
            path.push(title);
        }
        open.push((file, title.is_some()));
        for t in tests {
            summarize_test(t, file, &path, &env_names, &mut f);
        }
    });
    if !visited {
        let report = flakiness_convert::junit_report(collector, &meta, fallback_ms);
        return summarize_keyed(&report, source, hash, keys);
    }
    KeyedRun {
        meta: run,
        keys: keys.number(&run_keys),
        results,
    }
}

/// [`load`] for bytes already read.
pub fn check(
    source: &ReportSource,
    bytes: &[u8],
    validator: &Validator,
) -> Result<Loaded, Skipped> {
    let skip = |reason: String| Skipped {
        path: source.file(),
        reason,
    };
    let outcome = validator.validate_bytes(bytes);
    if !outcome.errors.is_empty() {
        return Err(skip(Rejected::Invalid(outcome).reason()));
    }
    let report: Report = flakiness_report::json_text::from_slice(bytes)
        .map_err(|e| skip(format!("cannot read the report: {e}")))?;
    Ok(Loaded {
        report,
        content_hash: content_hash(bytes),
    })
}

/// Why [`check_and_summarize`] refused a report.
#[derive(Debug)]
pub enum Rejected {
    /// The validator found problems (at least one in `errors`).
    Invalid(flakiness_validate::Outcome),
    /// Valid by the schema, yet not readable into the model.
    Unreadable(serde_json::Error),
}

impl Rejected {
    /// One line: the first problem with its line and column, and how many more there are.
    pub fn reason(&self) -> String {
        match self {
            Rejected::Invalid(outcome) => match outcome.errors.first() {
                Some(p) => {
                    let more = outcome.errors.len() - 1 + outcome.errors_omitted;
                    let more = if more > 0 {
                        format!(" (and {more} more)")
                    } else {
                        String::new()
                    };
                    format!(
                        "invalid report: {}:{}: {}: {} [{}]{more}",
                        p.line, p.column, p.path, p.message, p.rule
                    )
                }
                None => "invalid report".into(),
            },
            Rejected::Unreadable(e) => format!("cannot read the report: {e}"),
        }
    }
}

/// Reports at least this big are validated on a thread of their own while they are
/// summarised.
const PARALLEL_CHECK_BYTES: usize = 4 << 20;

/// Validates `report.json` bytes and summarises them ([`summarize_json`], the content hash
/// included) without building the report in memory; big reports are validated and summarised
/// at once on two threads. `source` names the run's origin in the store.
pub fn check_and_summarize(
    bytes: &[u8],
    validator: &Validator,
    source: &str,
) -> Result<RunRecord, Rejected> {
    // The summary is the longer half: the hash goes with the validation.
    let check = || (validator.validate_bytes(bytes), content_hash(bytes));
    let ((outcome, hash), summary) = if bytes.len() >= PARALLEL_CHECK_BYTES {
        std::thread::scope(|scope| {
            let checking = scope.spawn(check);
            let summary = summarize_json(bytes, source, "");
            let checked = checking
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (checked, summary)
        })
    } else {
        (check(), summarize_json(bytes, source, ""))
    };
    if !outcome.errors.is_empty() {
        return Err(Rejected::Invalid(outcome));
    }
    let mut record = summary.map_err(Rejected::Unreadable)?;
    record.meta.content_hash = hash;
    Ok(record)
}

/// Why [`load_run`] gave no run: its bytes could not be read, or they are not a usable report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read: missing, not a regular file, unreadable, or past the size
    /// limit ([`read_bytes`]).
    #[error("{0}")]
    Unreadable(Skipped),
    /// Read, but invalid by the validator, not readable into the model, or not a usable JUnit
    /// file.
    #[error("{0}")]
    Invalid(Skipped),
}

impl LoadError {
    /// The skipped report, whatever the reason.
    pub fn into_skipped(self) -> Skipped {
        match self {
            LoadError::Unreadable(s) | LoadError::Invalid(s) => s,
        }
    }
}

/// One report read ([`read_bytes`]), checked and summarised, as [`ingest_all`](crate::ingest_all)
/// does for each source: a report file by [`check_and_summarize`], a JUnit file by
/// [`check_junit`] then [`summarize`]. The run's source is the path as given.
pub fn load_run(
    source: &ReportSource,
    limits: &LoadLimits,
    validator: &Validator,
) -> Result<RunRecord, LoadError> {
    load_with(
        source,
        limits,
        validator,
        |read, name, hash| {
            let report =
                flakiness_convert::junit_report(read.collector, &read.meta, read.fallback_ms);
            summarize(&report, name, hash)
        },
        |record| record,
    )
}

/// [`load_run`] with the results' keys numbered in `keys`, on the calling thread: a JUnit
/// file's by [`summarize_keyed`], a report's summary's by [`TestKeys::key_run`].
pub fn load_keyed(
    source: &ReportSource,
    limits: &LoadLimits,
    validator: &Validator,
    keys: &TestKeys,
) -> Result<KeyedRun, LoadError> {
    load_with(
        source,
        limits,
        validator,
        |read, name, hash| summarize_junit_keyed(read, name, hash, keys),
        |record| keys.key_run(record),
    )
}

/// Reads a source and summarises it: a JUnit file with `junit` (the file read, the source's
/// name, the content hash), a report file's summary ([`check_and_summarize`]) with `json`.
fn load_with<T>(
    source: &ReportSource,
    limits: &LoadLimits,
    validator: &Validator,
    junit: impl FnOnce(ReadJunit, &str, &str) -> T,
    json: impl FnOnce(RunRecord) -> T,
) -> Result<T, LoadError> {
    let (bytes, modified) = read_file(source, limits).map_err(LoadError::Unreadable)?;
    let name = source.path.display().to_string();
    if source.kind == SourceKind::Junit {
        let read = read_junit(source, &bytes, modified).map_err(LoadError::Invalid)?;
        return Ok(junit(read, &name, &content_hash(&bytes)));
    }
    check_and_summarize(&bytes, validator, &name)
        .map(json)
        .map_err(|rejected| {
            LoadError::Invalid(Skipped {
                path: source.file(),
                reason: rejected.reason(),
            })
        })
}

/// Longest error message kept (bytes).
pub const MAX_MESSAGE: usize = 4 << 10;
/// Longest stack kept (bytes).
pub const MAX_STACK: usize = 16 << 10;

/// `s` cut to at most `max` bytes at a character boundary.
fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// What ended a failed attempt, from its status, annotations and error text.
pub fn failure_kind(attempt: &RunAttempt) -> FailureKind {
    if attempt.status() == TestStatus::Passed && attempt.expected_status() != TestStatus::Passed {
        return FailureKind::UnexpectedPass;
    }
    if attempt.status() == TestStatus::Interrupted {
        return FailureKind::Interrupted;
    }
    if attempt.status() == TestStatus::TimedOut {
        return FailureKind::Timeout;
    }
    let error = attempt.errors.iter().flatten().next();
    let text = error
        .map(|e| {
            format!(
                "{}\n{}",
                e.message.as_deref().unwrap_or_default(),
                e.stack.as_deref().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let lower = text.to_ascii_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") || lower.contains("time out") {
        return FailureKind::Timeout;
    }
    let junit_error = attempt
        .annotations
        .iter()
        .flatten()
        .any(|a| a.kind == "junit-error");
    if !junit_error
        && (lower.contains("assert") || lower.contains("expected") || lower.contains("expect("))
    {
        return FailureKind::Assertion;
    }
    if junit_error
        || lower.contains("panicked at")
        || lower.contains("exception")
        || lower.contains("error:")
        || lower.contains("traceback")
        || lower.contains("uncaught")
    {
        return FailureKind::Uncaught;
    }
    FailureKind::Unknown
}

/// Summarises a report for the store: one [`TestResult`] per test and environment, identified
/// by file, suite path (file suites left out) and title (spec/identity.md); the outcome counts
/// skipped attempts out and respects expected statuses.
pub fn summarize(report: &Report, source: &str, content_hash: &str) -> RunRecord {
    let mut results = Vec::new();
    walk_results(report, |file, path, title, env, mut r| {
        r.file = file.to_string();
        let mut title_path = Vec::with_capacity(path.len() + 1);
        title_path.extend(path.iter().map(|s| s.to_string()));
        title_path.push(title.to_string());
        r.title_path = title_path;
        r.environment = env.to_string();
        results.push(r);
    });
    RunRecord {
        meta: run_meta(report, source, content_hash),
        results,
    }
}

/// [`summarize`] with the results' keys numbered in `keys` as they are found (no string is
/// made for them): what [`HistoryStore::ingest_keyed`](flakiness_store::HistoryStore::ingest_keyed)
/// stores, for the same run.
pub fn summarize_keyed(
    report: &Report,
    source: &str,
    content_hash: &str,
    keys: &TestKeys,
) -> KeyedRun {
    let mut run_keys = RunKeys::default();
    let mut results = Vec::new();
    walk_results(report, |file, path, title, env, r| {
        run_keys.push(file, path.iter().copied().chain([title]), env);
        results.push(r);
    });
    KeyedRun {
        meta: run_meta(report, source, content_hash),
        keys: keys.number(&run_keys),
        results,
    }
}

/// Calls `f` with each result of the report, in the model's order (top-level tests, then
/// suites in pre-order, a suite's tests first): its file, suite path and title (its key, as
/// spec/identity.md has it), its environment's name, and the result without its key.
fn walk_results(report: &Report, mut f: impl FnMut(&str, &[&str], &str, &str, TestResult)) {
    let env_names: Vec<&str> = report
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let mut path: Vec<&str> = Vec::new();
    for t in report.tests.iter().flatten() {
        summarize_test(t, None, &path, &env_names, &mut f);
    }
    for suite in report.suites.iter().flatten() {
        summarize_suite(suite, None, &mut path, &env_names, &mut f);
    }
}

/// [`summarize`] for `report.json` bytes, read one test at a time
/// ([`flakiness_report::for_each_test`]): the same record without the report in memory.
pub fn summarize_json(
    json: &[u8],
    source: &str,
    content_hash: &str,
) -> Result<RunRecord, serde_json::Error> {
    /// A test's results before its suites are known: its own file when it has a location.
    struct Pending {
        suite: Option<usize>,
        own_file: Option<String>,
        title: String,
        results: Vec<(u32, TestResult)>,
    }
    let mut pending: Vec<Pending> = Vec::new();
    let streamed = flakiness_report::for_each_test(json, |suite, test| {
        let mut results = Vec::new();
        test_results(&test, |env, r| results.push((env, r)));
        pending.push(Pending {
            suite,
            own_file: test.location.map(|l| l.file),
            title: test.title,
            results,
        });
    })?;
    // Each suite's innermost file and its path of non-file titles; parents come first.
    let mut context: Vec<(Option<String>, Vec<String>)> = Vec::with_capacity(streamed.suites.len());
    for header in &streamed.suites {
        let (mut file, mut path) = header
            .parent
            .and_then(|p| context.get(p).cloned())
            .unwrap_or_default();
        let suite = &header.suite;
        if suite.kind == SuiteType::File {
            file = Some(
                suite
                    .location
                    .as_ref()
                    .map_or(&suite.title, |l| &l.file)
                    .clone(),
            );
        } else if !suite.title.is_empty() {
            // An anonymous suite (empty title) is no part of the identity (spec/identity.md).
            path.push(suite.title.clone());
        }
        context.push((file, path));
    }
    let env_names: Vec<&str> = streamed
        .report
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    // The model's order: top-level tests, then suites in pre-order (a suite's tests first).
    pending.sort_by_key(|p| p.suite.map_or(0, |i| i + 1));
    let mut results = Vec::with_capacity(pending.iter().map(|p| p.results.len()).sum());
    for p in pending {
        let (file, path) = match p.suite.and_then(|i| context.get(i)) {
            Some((file, path)) => (file.as_deref(), path.as_slice()),
            None => (None, &[][..]),
        };
        for (env, mut r) in p.results {
            r.file = p
                .own_file
                .as_deref()
                .or(file)
                .unwrap_or_default()
                .to_string();
            let mut title_path = Vec::with_capacity(path.len() + 1);
            title_path.extend(path.iter().cloned());
            title_path.push(p.title.clone());
            r.title_path = title_path;
            r.environment = env_name(&env_names, env).into_owned();
            results.push(r);
        }
    }
    Ok(RunRecord {
        meta: run_meta(&streamed.report, source, content_hash),
        results,
    })
}

fn run_meta(report: &Report, source: &str, content_hash: &str) -> RunMeta {
    RunMeta {
        content_hash: content_hash.to_string(),
        source: source.to_string(),
        commit_id: report.commit_id.clone(),
        start_ms: report.start_timestamp.0.round() as i64,
        duration_ms: report.duration.0.round() as i64,
        title: report.title.clone(),
        url: report.url.clone(),
        category: report.category.clone(),
    }
}

/// Walks a suite: `file` is the innermost file suite's file so far, `path` the titles of the
/// enclosing suites that are not file suites (the identity of spec/identity.md).
fn summarize_suite<'a>(
    suite: &'a Suite,
    file: Option<&'a str>,
    path: &mut Vec<&'a str>,
    env_names: &[&str],
    f: &mut impl FnMut(&str, &[&str], &str, &str, TestResult),
) {
    let (own_file, title) = suite_scope(suite);
    let file = own_file.or(file);
    if let Some(title) = title {
        path.push(title);
    }
    for t in suite.tests.iter().flatten() {
        summarize_test(t, file, path, env_names, f);
    }
    for child in suite.suites.iter().flatten() {
        summarize_suite(child, file, path, env_names, f);
    }
    if title.is_some() {
        path.pop();
    }
}

/// What a suite gives the identity of the tests in it: a file suite its file (its location's,
/// else its title); another suite its title on the suite path, unless it is anonymous (an empty
/// title).
fn suite_scope(suite: &Suite) -> (Option<&str>, Option<&str>) {
    if suite.kind == SuiteType::File {
        let file = suite
            .location
            .as_ref()
            .map_or(suite.title.as_str(), |l| l.file.as_str());
        (Some(file), None)
    } else {
        (
            None,
            (!suite.title.is_empty()).then_some(suite.title.as_str()),
        )
    }
}

/// The test's results placed under its suites (`file` when the test has no location of its
/// own), handed to `f` as they are made (a result is moved once, into `f`).
fn summarize_test(
    test: &Test,
    file: Option<&str>,
    path: &[&str],
    env_names: &[&str],
    f: &mut impl FnMut(&str, &[&str], &str, &str, TestResult),
) {
    let file = match &test.location {
        Some(l) => l.file.as_str(),
        None => file.unwrap_or_default(),
    };
    test_results(test, |env, r| {
        f(file, path, &test.title, &env_name(env_names, env), r)
    });
}

/// One [`TestResult`] per environment index the test ran in, in the order of first attempts,
/// without its key (file, title path and environment left empty), handed to `out` with its
/// environment index.
fn test_results(test: &Test, mut out: impl FnMut(u32, TestResult)) {
    let attempts = test.attempts.as_slice();
    let Some(first_env) = attempts.first().map(|a| a.environment_idx()) else {
        return;
    };
    if attempts.iter().all(|a| a.environment_idx() == first_env) {
        // The common case: one environment.
        out(
            first_env,
            summarize_attempts(attempts.iter(), test.outcome_in(first_env)),
        );
        return;
    }
    let mut envs: Vec<u32> = Vec::new();
    for a in attempts {
        if !envs.contains(&a.environment_idx()) {
            envs.push(a.environment_idx());
        }
    }
    for env in envs {
        out(
            env,
            summarize_attempts(
                attempts.iter().filter(|a| a.environment_idx() == env),
                test.outcome_in(env),
            ),
        );
    }
}

/// The name of environment `env`, `#env` when the report has no such environment.
fn env_name<'a>(names: &[&'a str], env: u32) -> std::borrow::Cow<'a, str> {
    match names.get(env as usize) {
        Some(name) => std::borrow::Cow::Borrowed(name),
        None => std::borrow::Cow::Owned(format!("#{env}")),
    }
}

/// The result of one test's attempts in one environment, without its key.
fn summarize_attempts<'a>(
    attempts: impl Iterator<Item = &'a RunAttempt>,
    outcome: TestOutcome,
) -> TestResult {
    let mut ran = 0u32;
    let mut failures = Vec::new();
    let (mut expected_failures, mut unexpected_passes) = (0u32, 0u32);
    // The attempts' durations, and those of the failed ones (the time lost to failures).
    let (mut duration, mut failed_duration) = (0.0, 0.0);
    let mut timed = false;
    for a in attempts.filter(|a| a.status() != TestStatus::Skipped) {
        if !a.is_expected() {
            failed_duration += a.duration_ms();
            let e = a.errors.iter().flatten().next();
            let kind = failure_kind(a);
            let message = e
                .and_then(|e| e.message.as_deref())
                .map(|m| bounded(m, MAX_MESSAGE));
            let message = match kind {
                FailureKind::UnexpectedPass => {
                    unexpected_passes += 1;
                    message.or_else(|| Some(unexpected_pass_message(a.expected_status())))
                }
                _ => message,
            };
            failures.push(FailureRecord {
                attempt: ran,
                kind,
                message,
                stack: e
                    .and_then(|e| e.stack.as_deref())
                    .map(|s| bounded(s, MAX_STACK)),
            });
        } else if a.status() != TestStatus::Passed {
            expected_failures += 1;
        }
        ran += 1;
        duration += a.duration_ms();
        timed |= a.duration.is_some();
    }
    TestResult {
        outcome: match outcome {
            TestOutcome::Expected => Outcome::Passed,
            TestOutcome::Unexpected => Outcome::Failed,
            TestOutcome::Flaky => Outcome::Flaky,
            TestOutcome::Skipped => Outcome::Skipped,
        },
        attempts: ran,
        failed_attempts: failures.len() as u32,
        duration_ms: timed.then_some(duration.round() as i64),
        failed_duration_ms: timed.then_some(failed_duration.round() as i64),
        expected_failures,
        unexpected_passes,
        failures,
        ..TestResult::default()
    }
}

/// The message of an unexpected pass without an error of its own: `passed, but was expected to
/// fail` (or `... expected timedOut`, `... expected interrupted`).
fn unexpected_pass_message(expected: TestStatus) -> String {
    match expected {
        TestStatus::Failed => "passed, but was expected to fail".to_string(),
        other => format!("passed, but was expected {}", other.as_str()),
    }
}
