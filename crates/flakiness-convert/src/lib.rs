//! # flakiness-convert
//!
//! Turns test-runner output into Flakiness reports. This first part reads JUnit XML; pytest and
//! cargo outputs come next (see the issue tracker). Every converter fills the
//! [`flakiness_report`] model; nothing here prints.

mod junit;
mod libtest;
mod times;

use std::path::{Path, PathBuf};

use flakiness_report::{
    DurationMs, Environment, NamedVersion, Report, SystemData, UnixTimestampMs,
};

pub use junit::{JunitCollector, MAX_SUITE_DEPTH, MAX_XML_DEPTH};
pub use libtest::{binary_from_cargo_line, parse_panic, LibtestCollector};
pub use times::{parse_duration_secs, parse_timestamp_ms};

/// Bounds on what one input may make us keep.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest output (system-out, stack…) kept per piece; longer is truncated with a marker.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output_bytes: 8 << 20,
        }
    }
}

/// A conversion failed: which input, where, what.
#[derive(Debug, thiserror::Error)]
#[error("{input}:{line}:{column}: {message}")]
pub struct ConvertError {
    /// The input (path or `-`).
    pub input: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// Byte offset in the input.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
}

impl ConvertError {
    pub(crate) fn at(input: &str, offset: u64, message: String) -> Self {
        ConvertError {
            input: input.to_string(),
            line: 0,
            column: 0,
            offset,
            message,
        }
    }

    /// An error about the input as a whole (line 1, column 1).
    pub fn at_start(input: &str, message: &str) -> Self {
        ConvertError {
            input: input.to_string(),
            line: 1,
            column: 1,
            offset: 0,
            message: message.to_string(),
        }
    }

    /// Fills line and column from the input's bytes.
    pub fn locate(mut self, data: &[u8]) -> Self {
        let end = usize::try_from(self.offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let before = &data[..end];
        self.line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.column = 1 + String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count();
        self
    }
}

/// Appends `text` to `buf` without letting it grow past `limit` bytes; what is cut is replaced
/// by a marker saying so.
pub(crate) fn push_bounded(buf: &mut String, text: &str, limit: usize) {
    const MARKER: &str = "\n[… truncated by flakiness: output limit reached]";
    if buf.len() >= limit {
        return;
    }
    if buf.len() + text.len() <= limit {
        buf.push_str(text);
    } else {
        let mut cut = limit - buf.len();
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        buf.push_str(&text[..cut]);
        buf.push_str(MARKER);
    }
}

/// Report-level facts the inputs do not carry.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// 40-hex commit id.
    pub commit_id: String,
    /// Report category (`junit`, `pytest`, `cargo`…).
    pub category: String,
    /// Environment name.
    pub env_name: String,
    /// Report title.
    pub title: Option<String>,
    /// Flakiness.io project.
    pub flakiness_project: Option<String>,
    /// CI run URL.
    pub url: Option<String>,
    /// `FK_ENV_*` values, keys lower-cased without the prefix.
    pub env_metadata: Vec<(String, String)>,
}

/// Builds the report from JUnit files already read into a collector.
pub fn junit_report(mut collector: JunitCollector, meta: &Metadata, fallback_ms: f64) -> Report {
    let start = collector.earliest_ms.unwrap_or(fallback_ms);
    let total = collector.total_ms;
    let unattributed = std::mem::take(&mut collector.unattributed);
    let (suites, tests) = collector.into_parts();
    build_report(suites, tests, unattributed, start, total, meta)
}

/// Builds the report from libtest JSON streams already read into a collector.
pub fn libtest_report(collector: LibtestCollector, meta: &Metadata, fallback_ms: f64) -> Report {
    let (suites, elapsed) = collector.into_parts();
    let mut report = build_report(suites, Vec::new(), Vec::new(), fallback_ms, elapsed, meta);
    report.test_runner = Some(NamedVersion {
        name: "libtest".into(),
        version: "unknown".into(),
        ..Default::default()
    });
    report
}

fn build_report(
    suites: Vec<flakiness_report::Suite>,
    tests: Vec<flakiness_report::Test>,
    unattributed: Vec<flakiness_report::ReportError>,
    start: f64,
    total: f64,
    meta: &Metadata,
) -> Report {
    let mut report = Report::new(meta.category.clone(), meta.commit_id.clone());
    report.title = meta.title.clone();
    report.flakiness_project = meta.flakiness_project.clone();
    report.url = meta.url.clone();
    let mut env = Environment::new(meta.env_name.clone());
    env.system_data = Some(SystemData {
        os_name: Some(std::env::consts::OS.to_string()),
        os_arch: Some(std::env::consts::ARCH.to_string()),
        ..Default::default()
    });
    if !meta.env_metadata.is_empty() {
        let map: serde_json::Map<String, serde_json::Value> = meta
            .env_metadata
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        env.metadata = Some(serde_json::Value::Object(map));
    }
    report.environments.push(env);
    report.suites = (!suites.is_empty()).then_some(suites);
    report.tests = (!tests.is_empty()).then_some(tests);
    report.unattributed_errors = (!unattributed.is_empty()).then_some(unattributed);
    report.start_timestamp = UnixTimestampMs(start.max(0.0));
    report.duration = DurationMs(total);
    report.generated_by = Some(NamedVersion {
        name: "flakiness".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    });
    report
}

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JUnit XML.
    Junit,
    /// libtest JSON events, one a line (cargo's own lines may be interleaved).
    LibtestJson,
}

/// Detects the format from the first bytes of an input.
pub fn detect(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'<' {
        return Some(Format::Junit);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .filter(|l| l.contains("\"type\""))
        .map(|_| Format::LibtestJson)
}

/// Every file an input argument names: the file itself, or the files of a directory (walked,
/// sorted), keeping those whose name ends in `.xml`, `.json` or `.jsonl`.
pub fn expand_input(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let p = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| {
                ["xml", "json", "jsonl"]
                    .iter()
                    .any(|x| e.eq_ignore_ascii_case(x))
            }) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The URL of the CI run, from the variables of GitHub Actions, GitLab, Azure Pipelines,
/// Jenkins, Buildkite or CircleCI. `var` looks a variable up (the environment, or a test's map).
pub fn ci_run_url(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let get = |k: &str| var(k).filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(run)) = (
        get("GITHUB_SERVER_URL"),
        get("GITHUB_REPOSITORY"),
        get("GITHUB_RUN_ID"),
    ) {
        let mut url = format!("{}/{repo}/actions/runs/{run}", server.trim_end_matches('/'));
        if let Some(attempt) = get("GITHUB_RUN_ATTEMPT") {
            url.push_str(&format!("/attempts/{attempt}"));
        }
        return Some(url);
    }
    if let Some(url) = get("CI_JOB_URL") {
        return Some(url);
    }
    if let (Some(collection), Some(project), Some(build)) = (
        get("SYSTEM_COLLECTIONURI"),
        get("SYSTEM_TEAMPROJECT"),
        get("BUILD_BUILDID"),
    ) {
        return Some(format!(
            "{}/{project}/_build/results?buildId={build}",
            collection.trim_end_matches('/')
        ));
    }
    ["BUILD_URL", "BUILDKITE_BUILD_URL", "CIRCLE_BUILD_URL"]
        .iter()
        .find_map(|k| get(k))
}

/// `FK_ENV_FOO=bar` → `("foo", "bar")`, sorted by key.
pub fn fk_env_metadata(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vars
        .into_iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("FK_ENV_")
                .filter(|rest| !rest.is_empty())
                .map(|rest| (rest.to_ascii_lowercase(), v))
        })
        .collect();
    out.sort();
    out
}
