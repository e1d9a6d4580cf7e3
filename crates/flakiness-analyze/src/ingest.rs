//! Reports into the history store: finding them, reading them (bounded), checking them, and
//! summarising each into a [`RunRecord`].

use std::collections::HashMap;
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
            SourceKind::Json | SourceKind::JsonZst => self.path.clone(),
        }
    }
}

/// Finds the reports under `paths`: a path is a report directory (it holds `report.json`), a
/// `*.json` or `*.json.zst` file, or a folder walked for those (report directories are not
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
    let mut bytes = Vec::new();
    let read = match source.kind {
        SourceKind::Dir | SourceKind::Json => f.take(limit + 1).read_to_end(&mut bytes),
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
    check(source, &bytes, validator)
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
        let mut by_env: Vec<(u32, Vec<&RunAttempt>)> = Vec::new();
        let mut slot: HashMap<u32, usize> = HashMap::new();
        for a in &t.test.attempts {
            let e = a.environment_idx();
            let i = *slot.entry(e).or_insert_with(|| {
                by_env.push((e, Vec::new()));
                by_env.len() - 1
            });
            by_env[i].1.push(a);
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
