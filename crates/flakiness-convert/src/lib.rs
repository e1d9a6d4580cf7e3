//! # flakiness-convert
//!
//! Turns test-runner output into Flakiness reports: JUnit XML (every common dialect), pytest's
//! reportlog and json-report files, libtest and nextest JSON, plain `cargo test` output, Go's
//! test2json, Dart's and Flutter's JSON, Jest's and Vitest's JSON, RSpec's JSON, Mocha's JSON,
//! mochawesome, GoogleTest JSON, Catch2 XML, NUnit XML, .NET's TRX and Flakiness reports (the
//! table of formats is [`FORMATS`]).
//! Every converter fills the [`flakiness_report`] model; nothing here prints.

mod attachments;
mod cargotext;
mod catch2;
mod dart;
pub mod formats;
mod gotest;
mod gtest;
mod jestjson;
mod jsondoc;
mod junit;
mod libtest;
mod mochajson;
mod mochawesome;
mod nunit;
mod pytest;
mod reports;
mod rspec;
mod stack;
mod times;
mod tree;
mod trx;
mod xmldoc;

use std::path::{Path, PathBuf};

use flakiness_report::{
    Annotation, DurationMs, Environment, NamedVersion, Report, SystemData, UnixTimestampMs,
};

pub use attachments::{attachments_from_annotations, AttachmentSource, ConvertWarning};
pub use cargotext::CargoTextCollector;
pub use catch2::{Catch2Collector, MAX_SECTION_DEPTH};
pub use dart::{DartJsonCollector, ERROR_ANNOTATION as DART_ERROR_ANNOTATION, LOAD_FAILED_TITLE};
pub use formats::{Reader, FORMATS};
pub use gotest::GoTestCollector;
pub use gtest::{GtestCollector, ENVIRONMENT_FAILED_TITLE, SUITE_FAILED_TITLE};
pub use jestjson::{JestJsonCollector, JsRunner, SUITE_FAILED_TITLE as JEST_SUITE_FAILED_TITLE};
pub use junit::{JunitCollector, RootSink, MAX_SUITE_DEPTH, MAX_SUITE_PROPERTIES, MAX_XML_DEPTH};
pub use libtest::{binary_from_cargo_line, parse_panic, LibtestCollector};
pub use mochajson::MochaJsonCollector;
pub use mochawesome::MochawesomeCollector;
pub use nunit::{
    NunitCollector, SETUP_FAILED_TITLE as NUNIT_SETUP_FAILED_TITLE,
    TEARDOWN_FAILED_TITLE as NUNIT_TEARDOWN_FAILED_TITLE,
};
pub use pytest::PytestCollector;
pub use reports::ReportsCollector;
pub use rspec::RspecCollector;
pub use stack::{locate_errors, locate_suite_errors, stack_frames};
pub use times::{parse_duration_secs, parse_timestamp_ms};
pub use trx::{TrxCollector, MAX_INNER_DEPTH as MAX_TRX_INNER_DEPTH};

/// The type of the annotation on a failed attempt whose failure the converter inferred: the
/// input shows that the test failed there but not how, so the attempt has no error (an
/// invented message would read as a real one, and group failures that have nothing in
/// common). The annotation's description says why the attempt is failed.
pub const INFERRED_ANNOTATION: &str = "flakiness-inferred";

/// The [`INFERRED_ANNOTATION`] of an attempt, saying why it is failed.
pub(crate) fn inferred_annotation(why: &str) -> Annotation {
    Annotation {
        kind: INFERRED_ANNOTATION.into(),
        description: Some(why.into()),
        ..Default::default()
    }
}

/// Bounds on what one input may make us keep.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest output (system-out, stack…) kept per piece; longer is truncated with a marker.
    pub max_output_bytes: usize,
    /// Accept attachment paths that lead outside the folder of the input naming them (after
    /// `..` and symbolic links are resolved); refused by default.
    pub allow_outside_attachments: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output_bytes: 8 << 20,
            allow_outside_attachments: false,
        }
    }
}

/// A conversion failed: which input, where, what.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
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
    fn describe(&self) -> String {
        match (self.line, self.column) {
            (0, _) => format!("{}: {}", self.input, self.message),
            (l, 0) => format!("{}:{l}: {}", self.input, self.message),
            (l, c) => format!("{}:{l}:{c}: {}", self.input, self.message),
        }
    }

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

    /// [`locate`](Self::locate) reading the input from `reader` (from its start) in constant
    /// memory: lines are counted as the bytes stream by, and the column as the characters
    /// (UTF-8 lead bytes) since the last newline. A late error in a 1 GB file costs 64 KiB, not
    /// the file up to it. Left as it is when the input cannot be read.
    pub fn locate_in<R: std::io::Read>(mut self, mut reader: R) -> Self {
        let mut left = self.offset;
        let (mut line, mut column) = (1usize, 1usize);
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let n = match reader.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return self,
            };
            for &b in &buf[..n] {
                if b == b'\n' {
                    line += 1;
                    column = 1;
                } else if b & 0xC0 != 0x80 {
                    column += 1;
                }
            }
            left -= n as u64;
        }
        self.line = line;
        self.column = column;
        self
    }
}

/// Appends `text` to `buf` without letting it grow past `limit` bytes; what is cut is replaced
/// by a marker saying so.
pub(crate) fn push_bounded(buf: &mut String, text: &str, limit: usize) {
    const MARKER: &str = "\n[… truncated by flakiness: output limit reached]";
    if buf.len() >= limit {
        // Full: more text means some is lost, which the marker says (once).
        if !text.is_empty() && !buf.ends_with(MARKER) {
            buf.push_str(MARKER);
        }
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

/// The longest line the readers of line streams (Go's test2json, Dart's JSON) take: a longer
/// one is refused rather than held (an event carries one line of output; Go's test2json cuts
/// longer output lines itself).
pub const MAX_LINE_BYTES: u64 = 64 << 20;

/// Calls `f` with the byte offset and text of each line of a stream (its newline kept), read one
/// at a time; invalid UTF-8 is an error at its byte.
pub(crate) fn for_each_line(
    r: &mut dyn std::io::BufRead,
    input: &str,
    mut f: impl FnMut(u64, &str) -> Result<(), ConvertError>,
) -> Result<(), ConvertError> {
    use std::io::BufRead as _;
    let mut offset = 0u64;
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let n = std::io::Read::take(&mut *r, MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| ConvertError::at(input, offset, format!("cannot read: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        if n as u64 > MAX_LINE_BYTES {
            return Err(ConvertError::at(
                input,
                offset,
                format!(
                    "a line longer than {} MiB: no event of a test runner's stream is that long",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        let here = offset;
        offset += n as u64;
        let raw = std::str::from_utf8(&buf).map_err(|e| {
            ConvertError::at(input, here + e.valid_up_to() as u64, "invalid UTF-8".into())
        })?;
        f(here, raw)?;
    }
}

/// The byte offset of a 1-based line and column (serde_json's error position) in `data`.
pub(crate) fn offset_of(data: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match data[start..].iter().position(|&b| b == b'\n') {
            Some(i) => start += i + 1,
            None => return data.len(),
        }
    }
    (start + column.saturating_sub(1)).min(data.len())
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
    /// Version of the operating system the tests ran on (the converter's, by default).
    pub os_version: Option<String>,
}

/// Builds the report from JUnit files already read into a collector.
pub fn junit_report(mut collector: JunitCollector, meta: &Metadata, fallback_ms: f64) -> Report {
    let start = collector.earliest_ms().unwrap_or(fallback_ms);
    let total = collector.total_ms();
    let unattributed = std::mem::take(&mut collector.unattributed);
    let pytest = collector.is_pytest();
    let runner = collector.runner.take();
    let projects = collector.projects().to_vec();
    let (mut suites, tests) = collector.into_parts();
    if pytest {
        suites = pytest::regroup_junit(suites);
    }
    let mut report = build_report(suites, tests, unattributed, start, total, meta);
    // One environment per Playwright project (attempts name them by index), each like the
    // one the metadata describes, named after the project.
    if !projects.is_empty() {
        let template = report.environments.remove(0);
        report.environments = projects
            .into_iter()
            .map(|name| {
                let mut env = template.clone();
                env.name = name;
                env
            })
            .collect();
    }
    report.test_runner = runner.map(|name| NamedVersion {
        name,
        version: "unknown".into(),
        ..Default::default()
    });
    report
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

pub(crate) fn build_report(
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
        os_version: meta.os_version.clone(),
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
    /// libtest JSON events, one a line (cargo's own lines may be interleaved); nextest's
    /// libtest-json and libtest-json-plus are read by the same reader.
    LibtestJson,
    /// pytest-reportlog JSON lines (`--report-log`).
    PytestReportlog,
    /// pytest-json-report's single JSON document (`--json-report`).
    PytestJsonReport,
    /// Plain `cargo test` output, stdout and stderr interleaved.
    CargoText,
    /// Go's test2json stream (`go test -json`).
    GoTestJson,
    /// Flakiness reports, merged into one.
    FlakinessReport,
    /// RSpec's JSON formatter (`rspec --format json`).
    RspecJson,
    /// Mocha's `json` reporter (`mocha --reporter json`).
    MochaJson,
    /// mochawesome's JSON (`mocha --reporter mochawesome`).
    Mochawesome,
    /// GoogleTest's JSON (`--gtest_output=json`).
    GtestJson,
    /// Catch2's XML reporter (`--reporter xml`), v2 and v3.
    Catch2Xml,
    /// Jest's JSON (`jest --json`).
    JestJson,
    /// Vitest's JSON (`vitest --reporter=json`), Jest's shape.
    VitestJson,
    /// NUnit's result XML: NUnit 3's `<test-run>` and NUnit 2.x's `<test-results>`.
    NunitXml,
    /// Dart's `package:test` JSON reporter (`dart test --reporter json`) and
    /// `flutter test --machine`: one event a line.
    DartJson,
    /// .NET's TRX (`dotnet test --logger trx`).
    Trx,
}

impl Format {
    /// The report category this format defaults to.
    pub fn category(self) -> &'static str {
        formats::spec(self).category
    }
}

/// Adds an attempt without the room for four that `Vec::push` makes first: most tests have
/// one, and an attempt is 320 bytes (that room made a Go stream's reading take 2.2 times the
/// input at 200 MB, 1.2 times without it).
pub(crate) fn push_attempt(
    attempts: &mut Vec<flakiness_report::RunAttempt>,
    a: flakiness_report::RunAttempt,
) {
    attempts.reserve_exact(1);
    attempts.push(a);
}

/// Adds attempts as [`push_attempt`] does: room for no more than they are.
pub(crate) fn extend_attempts(
    attempts: &mut Vec<flakiness_report::RunAttempt>,
    more: Vec<flakiness_report::RunAttempt>,
) {
    if attempts.is_empty() {
        *attempts = more;
    } else {
        attempts.reserve_exact(more.len());
        attempts.extend(more);
    }
}

/// Whether an input's first bytes are UTF-16 (a byte order mark, or ASCII interleaved with
/// zero bytes), which no reader supports: said before any format is detected.
pub fn is_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || (head.len() >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0)
        || (head.len() >= 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0)
}

/// The message for UTF-16 input.
pub const UTF16_MESSAGE: &str =
    "the input is UTF-16, which is not supported: convert the file to UTF-8";

/// Detects the format from the first bytes of an input (64 KiB are plenty): the first row of
/// [`FORMATS`] that recognises them.
pub fn detect(head: &[u8]) -> Option<Format> {
    formats::detect(head)
}

/// Every file an input argument names: the file itself, or the files of a directory (walked,
/// sorted), keeping those whose name ends in `.xml`, `.json`, `.jsonl`, `.txt` or `.log`.
pub fn expand_input(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    // A missing input is said as such (not found), before anything else is looked at.
    if !std::fs::metadata(path)?.is_dir() {
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
                ["xml", "json", "jsonl", "txt", "log", "trx"]
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

/// Lexically normalises a `/`-separated path: drops `.` and empty parts, folds `..`.
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Turns one file path written by a runner into a POSIX path relative to `root` (the git root)
/// when it lies inside it. Relative paths are taken relative to `base` (the directory the
/// runner ran in). Paths outside the root are only normalised.
pub fn relative_to_root(file: &str, base: &Path, root: &Path) -> String {
    let mut f = file.replace('\\', "/");
    if let Some(rest) = f.strip_prefix("file://") {
        f = rest.to_string();
    }
    let posix = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let windows_abs = f.len() > 2 && f.as_bytes()[1] == b':' && f.as_bytes()[2] == b'/';
    let absolute = if f.starts_with('/') || windows_abs {
        normalize(&f)
    } else {
        normalize(&format!("{}/{f}", posix(base)))
    };
    let root = normalize(&posix(root));
    let inside = if root == "/" {
        absolute.strip_prefix('/')
    } else {
        absolute
            .strip_prefix(root.as_str())
            .and_then(|r| r.strip_prefix('/'))
    };
    match inside {
        Some(r) if !r.is_empty() => r.to_string(),
        _ if f.starts_with('/') || windows_abs => absolute,
        _ => normalize(&f),
    }
}

/// Makes every location of the report a POSIX path relative to `root`; see
/// [`relative_to_root`]. A `file` suite titled with the absolute path of its own location
/// (Jest's and Vitest's JSON name files so) gets the relative path as its title too.
pub fn relativize_paths(report: &mut Report, base: &Path, root: &Path) {
    for s in report.suites.iter_mut().flatten() {
        retitle_file_suites(s, base, root);
    }
    let mut last = None;
    report.for_each_location_mut(|l| relativize_location(l, base, root, &mut last));
}

/// [`relativize_paths`] for one suite (a root suite streamed out on its own).
pub fn relativize_suite_paths(suite: &mut flakiness_report::Suite, base: &Path, root: &Path) {
    retitle_file_suites(suite, base, root);
    let mut last = None;
    suite.for_each_location_mut(|l| relativize_location(l, base, root, &mut last));
}

fn retitle_file_suites(suite: &mut flakiness_report::Suite, base: &Path, root: &Path) {
    let mut stack = vec![suite];
    while let Some(s) = stack.pop() {
        if s.kind == flakiness_report::SuiteType::File
            && s.location.as_ref().is_some_and(|l| l.file == s.title)
        {
            let t = s.title.replace('\\', "/");
            let windows_abs = t.len() > 2 && t.as_bytes()[1] == b':' && t.as_bytes()[2] == b'/';
            if t.starts_with('/') || windows_abs {
                let relative = relative_to_root(&s.title, base, root);
                if !relative.is_empty() {
                    s.title = relative;
                }
            }
        }
        stack.extend(s.suites.iter_mut().flatten());
    }
}

/// `last`: the previous location's file and what it became (consecutive locations mostly name
/// the same file).
fn relativize_location(
    l: &mut flakiness_report::Location,
    base: &Path,
    root: &Path,
    last: &mut Option<(String, String)>,
) {
    let to = match last {
        Some((from, to)) if *from == l.file => to,
        _ => {
            let to = relative_to_root(&l.file, base, root);
            &mut last.insert((l.file.clone(), to)).1
        }
    };
    // Most locations already are what they become: nothing to copy then.
    if !to.is_empty() && *to != l.file {
        l.file.clone_from(to);
    }
}

/// The files of a repository (as `git ls-files` lists them), to tell which file a stack frame
/// names: `com/acme/FooTest.java` or `/home/ci/work/repo/src/foo.js` → the tracked file whose
/// path ends the same way.
#[derive(Debug, Default)]
pub struct RepoFiles {
    by_name: hashbrown::HashMap<String, Vec<String>>,
    /// Where the runner ran, relative to the root (`""`: the root): a relative frame path that
    /// names a tracked file from there is that file.
    base: Option<String>,
}

impl RepoFiles {
    /// Indexes root-relative POSIX paths.
    pub fn new<'a>(files: impl IntoIterator<Item = &'a str>) -> Self {
        let mut by_name: hashbrown::HashMap<String, Vec<String>> = Default::default();
        for f in files {
            let name = f.rsplit('/').next().unwrap_or(f);
            by_name
                .entry(name.to_string())
                .or_default()
                .push(f.to_string());
        }
        RepoFiles {
            by_name,
            base: None,
        }
    }

    /// Sets the directory the runner ran in, relative to the root (POSIX): a relative frame
    /// path that names a tracked file from there (`tests/t.py` in `python/`) is that file, even
    /// when other tracked files end the same way.
    pub fn with_base(mut self, base: &str) -> Self {
        self.base = Some(base.trim_matches('/').to_string());
        self
    }

    /// The tracked file a frame's path names: the one sharing the longest run of trailing path
    /// parts with it (at least the file name); `None` when there is none or two tie.
    pub fn resolve(&self, frame_file: &str) -> Option<String> {
        // Most frames name no file of the repository: their file name alone tells.
        let base = frame_file.rsplit(['/', '\\']).next().unwrap_or(frame_file);
        if !self.by_name.contains_key(base) {
            return None;
        }
        let frame = frame_file.replace('\\', "/");
        let frame = frame.strip_prefix("file://").unwrap_or(&frame);
        let frame_parts: Vec<&str> = frame
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let name = frame_parts.last()?;
        let candidates = self.by_name.get(*name)?;
        if let Some(base) = self.base.as_deref() {
            let relative = !frame.starts_with('/') && !frame.contains(':');
            if relative {
                let joined = if base.is_empty() {
                    normalize(frame)
                } else {
                    normalize(&format!("{base}/{frame}"))
                };
                if let Some(c) = candidates.iter().find(|c| **c == joined) {
                    return Some(c.clone());
                }
            }
        }
        let mut best: Option<(usize, &String)> = None;
        let mut tie = false;
        for c in candidates {
            let shared = c
                .split('/')
                .rev()
                .zip(frame_parts.iter().rev())
                .take_while(|(a, b)| a == *b)
                .count();
            let whole = shared == c.split('/').count() || shared == frame_parts.len();
            if !whole {
                continue;
            }
            match best {
                Some((n, _)) if n > shared => {}
                Some((n, _)) if n == shared => tie = true,
                _ => {
                    best = Some((shared, c));
                    tie = false;
                }
            }
        }
        if tie {
            return None;
        }
        best.map(|(_, c)| c.clone())
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn a_relative_frame_is_taken_from_where_the_runner_ran() {
        let files = ["a/tests/t.py", "b/tests/t.py"];
        // Two tracked files end the same way: nothing, unless the base tells.
        assert_eq!(RepoFiles::new(files).resolve("tests/t.py"), None);
        let from_a = RepoFiles::new(files).with_base("a");
        assert_eq!(
            from_a.resolve("tests/t.py").as_deref(),
            Some("a/tests/t.py")
        );
        assert_eq!(
            from_a.resolve("./tests/../tests/t.py").as_deref(),
            Some("a/tests/t.py")
        );
        // An absolute frame, or one the base does not lead to, matches as before.
        assert_eq!(
            from_a.resolve("/ci/b/tests/t.py").as_deref(),
            Some("b/tests/t.py")
        );
        assert_eq!(RepoFiles::new(files).with_base("").resolve("t.py"), None);
    }

    #[test]
    fn paths_become_root_relative() {
        let root = Path::new("/repo");
        let base = Path::new("/repo/python");
        assert_eq!(
            relative_to_root("tests/t.py", base, root),
            "python/tests/t.py"
        );
        assert_eq!(
            relative_to_root("./tests/../t.py", base, root),
            "python/t.py"
        );
        assert_eq!(
            relative_to_root("/repo/src/lib.rs", base, root),
            "src/lib.rs"
        );
        assert_eq!(relative_to_root("file:///repo/a.js", base, root), "a.js");
        assert_eq!(
            relative_to_root("src\\main.rs", base, root),
            "python/src/main.rs"
        );
        assert_eq!(
            relative_to_root("/usr/lib/x.py", base, root),
            "/usr/lib/x.py"
        );
        assert_eq!(relative_to_root("../../x.py", base, root), "../../x.py");
        assert_eq!(
            relative_to_root("/repository/a", base, root),
            "/repository/a"
        );
        assert_eq!(relative_to_root("C:\\w\\a.cs", base, root), "C:/w/a.cs");
    }
}

#[cfg(test)]
mod repo_files_tests {
    use super::RepoFiles;

    #[test]
    fn frames_resolve_to_tracked_files() {
        let repo = RepoFiles::new([
            "src/test/java/com/acme/FooTest.java",
            "a/util.js",
            "b/util.js",
            "tests/test_x.py",
            "Makefile",
        ]);
        assert_eq!(
            repo.resolve("com/acme/FooTest.java").as_deref(),
            Some("src/test/java/com/acme/FooTest.java")
        );
        assert_eq!(
            repo.resolve("/home/ci/work/r/a/util.js").as_deref(),
            Some("a/util.js")
        );
        assert_eq!(repo.resolve("util.js"), None, "two files tie");
        assert_eq!(
            repo.resolve("./tests/test_x.py").as_deref(),
            Some("tests/test_x.py")
        );
        assert_eq!(repo.resolve("other/FooTest.java"), None);
        assert_eq!(repo.resolve("/usr/lib/python3/unittest/case.py"), None);
    }
}

#[cfg(test)]
mod locate_tests {
    use super::ConvertError;

    #[test]
    fn streaming_and_in_memory_location_agree() {
        let texts = [
            "",
            "abc",
            "<a>\n<b>\n</c>",
            "ligne été\n  émoji 🎉 here\n\n\tend",
            "\n\n\n",
            "x\r\ny\r\nzz",
        ];
        for text in texts {
            for offset in 0..=text.len() as u64 + 2 {
                let e = || ConvertError {
                    input: "in.xml".into(),
                    line: 0,
                    column: 0,
                    offset,
                    message: "m".into(),
                };
                let a = e().locate(text.as_bytes());
                // One byte at a time: chunk edges anywhere.
                struct Trickle<'a>(&'a [u8]);
                impl std::io::Read for Trickle<'_> {
                    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                        match (self.0.split_first(), buf.is_empty()) {
                            (Some((b, rest)), false) => {
                                buf[0] = *b;
                                self.0 = rest;
                                Ok(1)
                            }
                            _ => Ok(0),
                        }
                    }
                }
                let b = e().locate_in(Trickle(text.as_bytes()));
                assert_eq!(
                    (a.line, a.column),
                    (b.line, b.column),
                    "{text:?} at {offset}"
                );
            }
        }
    }
}
