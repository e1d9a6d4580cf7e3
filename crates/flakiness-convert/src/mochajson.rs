//! Mocha's own `json` reporter (`mocha --reporter json`): the tests as a flat list.
//!
//! | Input | Report |
//! |---|---|
//! | a test's `file` | a `file` suite |
//! | `fullTitle` without the ` title` at its end | one suite of that title (the describe blocks as Mocha joined them) |
//! | a test of `tests` | a test titled with its `title` |
//! | `err` / in `pending` / else | failed (timed out for Mocha's timeout) / skipped / passed |
//! | `currentRetry: N` | N failed attempts before the last one (their errors are not in the file) |
//! | an entry of `failures` that is no test (`"before each" hook for "x"`) | a failed test titled as Mocha titles the hook |

use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, NamedVersion, Report, ReportError, RunAttempt, TestStatus,
    UnixTimestampMs,
};
use serde::Deserialize;
use serde_json::Value;

use crate::jsondoc::{bounded, json_document, Key, TestTree};
use crate::{inferred_annotation, ConvertError, Limits, Metadata};

/// The most earlier attempts a `currentRetry` makes (a bound on what a document can make us
/// hold: `currentRetry: 4000000000` makes no four billion attempts).
pub(crate) const MAX_RETRIES: u32 = 100;

/// Mocha's code for a test that ran out of time.
const TIMEOUT_CODE: &str = "ERR_MOCHA_TIMEOUT";

#[derive(Deserialize)]
pub(crate) struct Stats {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
}

#[derive(Deserialize)]
struct Doc {
    stats: Stats,
    tests: Vec<MochaTest>,
    #[serde(default)]
    pending: Vec<MochaTest>,
    #[serde(default)]
    failures: Vec<MochaTest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MochaTest {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    full_title: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    current_retry: Option<u32>,
    #[serde(default)]
    err: Option<Value>,
}

impl MochaTest {
    fn title(&self) -> &str {
        self.title.as_deref().unwrap_or("")
    }

    fn full_title(&self) -> &str {
        self.full_title.as_deref().unwrap_or_else(|| self.title())
    }

    /// What tells it apart from the other entries of the lists: file and full title.
    fn id(&self) -> (Option<&str>, &str) {
        (self.file.as_deref(), self.full_title())
    }

    /// True when `err` holds anything: the test failed.
    fn failed(&self) -> bool {
        self.err
            .as_ref()
            .is_some_and(|e| e.as_object().is_none_or(|o| !o.is_empty()) && !e.is_null())
    }

    /// Its file, group and title: the group is the full title without ` title` at its end.
    fn key(&self) -> Key {
        let file = self
            .file
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(|f| f.replace('\\', "/"));
        let (title, full) = (self.title(), self.full_title());
        let group = full
            .strip_suffix(title)
            .filter(|_| !title.is_empty())
            .map(str::trim_end)
            .filter(|g| !g.is_empty());
        match group {
            Some(g) => (file, vec![g.to_string()], title.to_string()),
            None => (file, Vec::new(), full.to_string()),
        }
    }
}

/// Reads Mocha's `json` reporter documents.
#[derive(Debug, Default)]
pub struct MochaJsonCollector {
    tests: TestTree,
    span: Option<(f64, f64)>,
}

/// The start and end of a run from its stats, or from the file's time and the duration.
pub(crate) fn run_span(stats: Option<&Stats>, fallback_ms: f64) -> (f64, f64) {
    let start = stats
        .and_then(|s| s.start.as_deref())
        .and_then(crate::parse_timestamp_ms);
    let end = stats
        .and_then(|s| s.end.as_deref())
        .and_then(crate::parse_timestamp_ms);
    let duration = stats
        .and_then(|s| s.duration)
        .filter(|d| d.is_finite() && *d >= 0.0);
    match (start, end, duration) {
        (Some(s), Some(e), _) if e >= s => (s, e),
        (Some(s), _, d) => (s, s + d.unwrap_or(0.0)),
        (None, Some(e), d) => ((e - d.unwrap_or(0.0)).max(0.0), e),
        (None, None, d) => ((fallback_ms - d.unwrap_or(0.0)).max(0.0), fallback_ms),
    }
}

/// A string member of an object, or any other value as JSON.
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The error of a failed test: Mocha's `err` (`message`, `stack`; mochawesome's `estack`).
pub(crate) fn error_of(err: Option<&Value>, limits: &Limits) -> ReportError {
    let err = err.and_then(Value::as_object);
    let get = |k: &str| {
        err.and_then(|e| text_of(e.get(k)))
            .filter(|s| !s.is_empty())
    };
    let stack = get("stack").or_else(|| get("estack"));
    let message = get("message")
        .map(|m| m.trim_end().to_string())
        .or_else(|| {
            stack
                .as_deref()
                .and_then(|s| s.lines().next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "the test failed (Mocha gives no message)".into());
    ReportError {
        message: Some(bounded(&message, limits)),
        stack: stack.map(|s| bounded(&s, limits)),
        ..Default::default()
    }
}

/// Whether `err` is Mocha's timeout, and its limit in ms.
fn timeout_of(err: Option<&Value>) -> Option<Option<f64>> {
    let e = err?.as_object()?;
    (e.get("code").and_then(Value::as_str) == Some(TIMEOUT_CODE))
        .then(|| e.get("timeout").and_then(Value::as_f64))
}

pub(crate) fn skip_annotation(why: Option<&str>) -> Annotation {
    Annotation {
        kind: "skip".into(),
        description: why.map(str::to_string),
        ..Default::default()
    }
}

impl MochaJsonCollector {
    /// Reads one document (Mocha's JSON, alone or after the tests' output that shared its
    /// standard output).
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let doc: Doc = json_document(data, input, "not a Mocha JSON report")?;
        self.tests.next_document();
        let (start, end) = run_span(Some(&doc.stats), fallback_ms);
        crate::times::widen(&mut self.span, start, end);
        // The pending list tells a skipped test; what is in the failures but not among the
        // failed tests is a hook that failed.
        let mut pending: HashMap<(Option<&str>, &str), usize> = HashMap::new();
        for t in &doc.pending {
            *pending.entry(t.id()).or_default() += 1;
        }
        let mut failed: HashMap<(Option<&str>, &str), usize> = HashMap::new();
        let mut at = start;
        for t in &doc.tests {
            let duration = t
                .duration
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(DurationMs);
            let status = if t.failed() {
                *failed.entry(t.id()).or_default() += 1;
                if timeout_of(t.err.as_ref()).is_some() {
                    TestStatus::TimedOut
                } else {
                    TestStatus::Failed
                }
            } else if let Some(n) = pending.get_mut(&t.id()).filter(|n| **n > 0) {
                *n -= 1;
                TestStatus::Skipped
            } else if duration.is_none() {
                TestStatus::Skipped
            } else {
                TestStatus::Passed
            };
            let mut attempts = Vec::new();
            let retries = if status == TestStatus::Skipped {
                0
            } else {
                t.current_retry.unwrap_or(0).min(MAX_RETRIES)
            };
            for _ in 0..retries {
                let mut a = RunAttempt::with_status(TestStatus::Failed);
                a.start_timestamp = Some(UnixTimestampMs(at));
                a.annotations = Some(vec![inferred_annotation(
                    "Mocha retried this test (currentRetry), so this attempt failed; its JSON keeps only the last attempt, so why is not recorded",
                )]);
                attempts.push(a);
            }
            let mut a = RunAttempt::with_status(status);
            a.start_timestamp = Some(UnixTimestampMs(at));
            a.duration = duration;
            at += duration.map_or(0.0, |d| d.0);
            match status {
                TestStatus::Failed | TestStatus::TimedOut => {
                    a.errors = Some(vec![error_of(t.err.as_ref(), limits)]);
                    a.timeout = timeout_of(t.err.as_ref()).flatten().map(DurationMs);
                }
                TestStatus::Skipped => a.annotations = Some(vec![skip_annotation(None)]),
                _ => {}
            }
            attempts.push(a);
            crate::extend_attempts(&mut self.tests.distinct(t.key()).attempts, attempts);
        }
        for h in &doc.failures {
            if let Some(n) = failed.get_mut(&h.id()).filter(|n| **n > 0) {
                *n -= 1;
                continue;
            }
            // A hook: `"before each" hook for "x"`, titled as Mocha titles it.
            let mut a = RunAttempt::with_status(TestStatus::Failed);
            a.start_timestamp = Some(UnixTimestampMs(at));
            a.duration = h
                .duration
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(DurationMs);
            a.errors = Some(vec![error_of(h.err.as_ref(), limits)]);
            a.timeout = timeout_of(h.err.as_ref()).flatten().map(DurationMs);
            crate::push_attempt(&mut self.tests.test(h.key()).attempts, a);
        }
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        mocha_report(self.tests, self.span, None, meta, fallback_ms)
    }
}

pub(crate) fn mocha_report(
    tests: TestTree,
    span: Option<(f64, f64)>,
    version: Option<String>,
    meta: &Metadata,
    fallback_ms: f64,
) -> Report {
    let (start, total) = match span {
        Some((a, b)) => (a, b - a),
        None => (fallback_ms, 0.0),
    };
    let (suites, root_tests) = tests.into_suites();
    let mut report = crate::build_report(suites, root_tests, Vec::new(), start, total, meta);
    report.test_runner = Some(NamedVersion {
        name: "mocha".into(),
        version: version.unwrap_or_else(|| "unknown".into()),
        ..Default::default()
    });
    report
}

crate::formats::reader!(MochaJsonCollector, MochaJsonCollector::into_report);
