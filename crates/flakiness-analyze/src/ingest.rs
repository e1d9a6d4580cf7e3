//! Reports into the history store: finding them, reading them (bounded), checking them, and
//! summarising each into a [`RunRecord`].

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flakiness_report::{Report, RunAttempt, TestOutcome, TestStatus, REPORT_FILE};
use flakiness_store::{FailureKind, FailureRecord, Outcome, RunMeta, RunRecord, TestResult};
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
    let file = source.file();
    let skip = |reason: String| Skipped {
        path: file.clone(),
        reason,
    };
    let f = fs::File::open(&file).map_err(|e| skip(e.to_string()))?;
    let limit = limits.max_report_bytes;
    // Sized once for a plain file (read_to_end through `take` would grow it step by step).
    let size = f.metadata().map_or(0, |m| m.len());
    let mut bytes = match source.kind {
        SourceKind::JsonZst => Vec::new(),
        _ => Vec::with_capacity(usize::try_from(size.min(limit) + 1).unwrap_or(0)),
    };
    let read = match source.kind {
        SourceKind::Dir | SourceKind::Json | SourceKind::Junit => {
            f.take(limit + 1).read_to_end(&mut bytes)
        }
        SourceKind::JsonZst => {
            zstd::stream::Decoder::new(f).and_then(|d| d.take(limit + 1).read_to_end(&mut bytes))
        }
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
    Ok(bytes)
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
    use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata};
    let file = source.file();
    let name = file.display().to_string();
    let fallback_ms = fs::metadata(&file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_millis() as f64);
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
    Ok(Loaded {
        report: junit_report(collector, &meta, fallback_ms),
        content_hash: content_hash(bytes),
    })
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
    if let Some(p) = outcome.errors.first() {
        let more = outcome.errors.len() - 1 + outcome.errors_omitted;
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        return Err(skip(format!(
            "invalid report: {}:{}: {} [{}]{more}",
            p.line, p.column, p.message, p.rule
        )));
    }
    let report: Report =
        serde_json::from_slice(bytes).map_err(|e| skip(format!("cannot read the report: {e}")))?;
    Ok(Loaded {
        report,
        content_hash: content_hash(bytes),
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
    for t in report.all_tests() {
        let file = t.file().unwrap_or_default().to_string();
        let mut title_path: Vec<String> = t.suite_path().into_iter().map(str::to_string).collect();
        title_path.push(t.test.title.clone());
        // Attempts by environment, in order.
        // (A test runs in a few environments: a linear search beats a map.)
        let mut by_env: Vec<(u32, Vec<&RunAttempt>)> = Vec::new();
        for a in &t.test.attempts {
            let e = a.environment_idx();
            match by_env.iter_mut().find(|(x, _)| *x == e) {
                Some((_, list)) => list.push(a),
                None => by_env.push((e, vec![a])),
            }
        }
        for (env, attempts) in by_env {
            let environment = report
                .environments
                .get(env as usize)
                .map_or_else(|| format!("#{env}"), |e| e.name.clone());
            let ran: Vec<(usize, &RunAttempt)> = attempts
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, a)| a.status() != TestStatus::Skipped)
                .collect();
            let failures: Vec<FailureRecord> = ran
                .iter()
                .filter(|(_, a)| !a.is_expected())
                .map(|&(i, a)| {
                    let e = a.errors.iter().flatten().next();
                    FailureRecord {
                        attempt: i as u32,
                        kind: failure_kind(a),
                        message: e
                            .and_then(|e| e.message.as_deref())
                            .map(|m| bounded(m, MAX_MESSAGE)),
                        stack: e
                            .and_then(|e| e.stack.as_deref())
                            .map(|s| bounded(s, MAX_STACK)),
                    }
                })
                .collect();
            let outcome = match t.test.outcome_in(env) {
                TestOutcome::Expected => Outcome::Passed,
                TestOutcome::Unexpected => Outcome::Failed,
                TestOutcome::Flaky => Outcome::Flaky,
                TestOutcome::Skipped => Outcome::Skipped,
            };
            let duration: f64 = ran.iter().map(|(_, a)| a.duration_ms()).sum();
            let timed = ran.iter().any(|(_, a)| a.duration.is_some());
            results.push(TestResult {
                file: file.clone(),
                title_path: title_path.clone(),
                environment,
                outcome,
                attempts: ran.len() as u32,
                failed_attempts: failures.len() as u32,
                duration_ms: timed.then_some(duration.round() as i64),
                failures,
            });
        }
    }
    RunRecord {
        meta: RunMeta {
            content_hash: content_hash.to_string(),
            source: source.to_string(),
            commit_id: report.commit_id.clone(),
            start_ms: report.start_timestamp.0.round() as i64,
            duration_ms: report.duration.0.round() as i64,
            title: report.title.clone(),
            url: report.url.clone(),
            category: report.category.clone(),
        },
        results,
    }
}
