//! Jest's JSON (`jest --json --outputFile=…`) and Vitest's, which copies its shape
//! (`vitest --reporter=json`): one JSON document per run.
//!
//! | Input | Report |
//! |---|---|
//! | `testResults[]` (one per test file, `name` its path) | a `file` suite at that path (relative to `rootDir` when the document has one) |
//! | `assertionResults[].ancestorTitles` | nested `suite`s, found again by title (two sibling describes of one title are one suite) |
//! | `title` | the test's title; Jest's trailing `@tags` (of the title and of the describe blocks) become its tags, as @flakiness/jest does; Vitest's `tags` are its tags |
//! | `location` (`testLocationInResults`, `includeTaskLocation`) | the test's location in its file |
//! | `status` | `passed`, `failed`; `pending`, `skipped`, `disabled` → `skipped` with a `skip` annotation; `todo` → `skipped` with `fixme` (Jest) or `todo` (Vitest) |
//! | `failing: true` (Jest's `test.failing`) | expected status `failed`, the status inverted, a `fail` annotation |
//! | `invocations`, `retryReasons` (Jest's `retryTimes`) | one attempt per invocation: the earlier ones failed, with their retry reasons as errors |
//! | Vitest's `failureMessages` of a test it retried | the errors of each try: a run of them repeated is one failed try each (see [`tries`]) |
//! | `failureMessages` | the attempt's errors: message the first line (without `Error: `), stack the whole text, ANSI colours removed |
//! | a test file that failed without a failed test (it did not run, or a hook or `afterAll` broke) | a failed test [`SUITE_FAILED_TITLE`] in its file suite, the file's `message` as its error |
//! | the same test again (same file, describe blocks and title), in one document or several | more attempts of one test |

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, Test,
    TestStatus, UnixTimestampMs,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::{push_bounded, ConvertError, Limits, Metadata};

/// Title of the failed test standing for a test file that failed outside its tests (Jest's own
/// words for it: `● Test suite failed to run`).
pub const SUITE_FAILED_TITLE: &str = "Test suite failed to run";

/// Most attempts made of one test's `invocations` (Jest's `retryTimes` is a handful).
const MAX_INVOCATIONS: u32 = 100;

/// Which runner wrote the document: their JSON is one shape, a few fields differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsRunner {
    /// Jest (`jest --json`).
    Jest,
    /// Vitest (`vitest --reporter=json`).
    Vitest,
}

impl JsRunner {
    /// The runner's name, which its official reporter gives the environment.
    pub fn name(self) -> &'static str {
        match self {
            JsRunner::Jest => "jest",
            JsRunner::Vitest => "vitest",
        }
    }
}

/// Any JSON values as strings: strings as they are, anything else as its JSON text (a runner
/// that put an object where a message goes loses nothing).
fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Option::<Vec<Value>>::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect())
}

/// A number, or nothing for `null` or any other value.
fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_f64()).filter(|n| n.is_finite()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    #[serde(default)]
    test_results: Option<Vec<FileResult>>,
    #[serde(default, deserialize_with = "lenient_number")]
    start_time: Option<f64>,
    #[serde(default)]
    root_dir: Option<String>,
    #[serde(default)]
    run_exec_error: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, deserialize_with = "lenient_number")]
    start_time: Option<f64>,
    #[serde(default, deserialize_with = "lenient_number")]
    end_time: Option<f64>,
    #[serde(default)]
    assertion_results: Option<Vec<Assertion>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assertion {
    #[serde(default, deserialize_with = "lenient_strings")]
    ancestor_titles: Vec<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient_number")]
    duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient_strings")]
    failure_messages: Vec<String>,
    #[serde(default)]
    location: Option<Value>,
    #[serde(default, deserialize_with = "lenient_number")]
    invocations: Option<f64>,
    #[serde(default, deserialize_with = "lenient_strings")]
    retry_reasons: Vec<String>,
    #[serde(default)]
    failing: Option<bool>,
    #[serde(default, deserialize_with = "lenient_number")]
    start_at: Option<f64>,
    #[serde(default, deserialize_with = "lenient_strings")]
    tags: Vec<String>,
}

/// Reads Jest's and Vitest's JSON.
#[derive(Debug)]
pub struct JestJsonCollector {
    runner: JsRunner,
    tree: crate::tree::TestTree,
    unattributed: Vec<ReportError>,
    span: Option<(f64, f64)>,
}

impl JestJsonCollector {
    /// A reader of the JSON of `runner`.
    pub fn new(runner: JsRunner) -> Self {
        JestJsonCollector {
            runner,
            tree: crate::tree::TestTree::default(),
            unattributed: Vec::new(),
            span: None,
        }
    }

    fn widen(&mut self, ms: f64) {
        if !ms.is_finite() || ms < 0.0 {
            return;
        }
        crate::times::widen(&mut self.span, ms, ms);
    }

    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let doc: Doc = serde_json::from_slice(data).map_err(|e| {
            ConvertError::at(input, offset_of(data, e.line(), e.column()), {
                format!("not a Jest or Vitest JSON report: {e}")
            })
            .locate(data)
        })?;
        self.tree.next_document();
        let Some(results) = doc.test_results else {
            return Err(ConvertError::at_start(
                input,
                "no testResults: not the JSON of jest --json or vitest --reporter=json",
            ));
        };
        if let Some(ms) = doc.start_time {
            self.widen(ms);
        }
        let root = doc
            .root_dir
            .as_deref()
            .map(|r| r.replace('\\', "/").trim_end_matches('/').to_string())
            .filter(|r| !r.is_empty());
        let run_start = doc.start_time.unwrap_or(fallback_ms);
        for file in results {
            self.read_file(file, root.as_deref(), run_start, limits);
        }
        if let Some(e) = doc.run_exec_error.filter(|e| !e.is_null()) {
            let text = match &e {
                Value::String(s) => s.clone(),
                other => other
                    .get("stack")
                    .and_then(Value::as_str)
                    .or_else(|| other.get("message").and_then(Value::as_str))
                    .map_or_else(|| other.to_string(), str::to_string),
            };
            self.unattributed.push(error_of(&text, limits));
        }
        Ok(())
    }

    fn read_file(&mut self, file: FileResult, root: Option<&str>, run_start: f64, limits: &Limits) {
        let runner = self.runner;
        if let Some(ms) = file.start_time {
            self.widen(ms);
        }
        if let Some(ms) = file.end_time {
            self.widen(ms);
        }
        let path = relative_path(file.name.as_deref().unwrap_or_default(), root);
        let start = file.start_time.unwrap_or(run_start);
        let mut a_test_failed = false;
        for a in file.assertion_results.unwrap_or_default() {
            let describes = a.ancestor_titles.clone();
            let test = test_of(a, runner, &path, start, limits);
            a_test_failed |= test
                .attempts
                .iter()
                .any(|a| !a.is_expected() && a.status() != TestStatus::Skipped);
            let key = (Some(path.clone()), describes, test.title.clone());
            self.tree.add_distinct(key, test);
        }
        // A file that failed without a failed test: it did not run, or broke outside its tests.
        let failed = matches!(file.status.as_deref(), Some("failed"));
        if failed && !a_test_failed {
            let mut a = RunAttempt::with_status(TestStatus::Failed);
            a.start_timestamp = Some(UnixTimestampMs(start.max(0.0)));
            if let (Some(s), Some(e)) = (file.start_time, file.end_time) {
                if e >= s {
                    a.duration = Some(DurationMs(e - s));
                }
            }
            let message = file.message.unwrap_or_default();
            if message.trim().is_empty() {
                a.annotations = Some(vec![crate::inferred_annotation(&format!(
                    "{} marked this test file failed without saying why (a failing hook of a describe block leaves no message in its JSON)",
                    runner.name()
                ))]);
            } else {
                a.errors = Some(vec![suite_error(&message, limits)]);
            }
            let mut t = Test::new(SUITE_FAILED_TITLE);
            t.attempts = vec![a];
            self.tree
                .add((Some(path.clone()), Vec::new(), t.title.clone()), t);
        }
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, total) = match self.span {
            Some((a, b)) => (a, b - a),
            None => (fallback_ms, 0.0),
        };
        let (suites, _) = self.tree.into_suites();
        let mut report =
            crate::build_report(suites, Vec::new(), self.unattributed, start, total, meta);
        report.test_runner = Some(NamedVersion {
            name: self.runner.name().into(),
            version: "unknown".into(),
            ..Default::default()
        });
        report
    }
}

impl crate::formats::Reader for JestJsonCollector {
    fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        JestJsonCollector::read(self, data, input, fallback_ms, limits)
    }

    fn into_report(self: Box<Self>, meta: &Metadata, fallback_ms: f64) -> Report {
        JestJsonCollector::into_report(*self, meta, fallback_ms)
    }

    fn runner(&self) -> Option<String> {
        Some(self.runner.name().to_string())
    }
}

/// The byte offset of serde_json's 1-based line and column.
fn offset_of(data: &[u8], line: usize, column: usize) -> u64 {
    let mut start = 0usize;
    for _ in 1..line {
        match memchr::memchr(b'\n', &data[start..]) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (start + column.saturating_sub(1)).min(data.len()) as u64
}

/// A test file's path: `\` read as `/`, relative to `root` when it lies inside it.
fn relative_path(name: &str, root: Option<&str>) -> String {
    let name = name.replace('\\', "/");
    if let Some(rest) = root.and_then(|r| name.strip_prefix(r)) {
        if let Some(rest) = rest.strip_prefix('/').filter(|r| !r.is_empty()) {
            return rest.to_string();
        }
    }
    name
}

/// The test of one assertion result, with its attempts.
fn test_of(a: Assertion, runner: JsRunner, file: &str, file_start: f64, limits: &Limits) -> Test {
    let raw_title = a.title.or(a.full_name).unwrap_or_default();
    // Jest's reporter takes trailing `@tags` out of the title, and adds those of the describe
    // blocks; Vitest's keeps the title whole and has tags of its own.
    let (title, mut tags) = match runner {
        JsRunner::Jest => {
            let (title, own) = crate::junit::trailing_tags(&raw_title);
            let mut tags: Vec<String> = Vec::new();
            for d in &a.ancestor_titles {
                tags.extend(crate::junit::trailing_tags(d).1);
            }
            tags.extend(own);
            (title, tags)
        }
        JsRunner::Vitest => (raw_title, Vec::new()),
    };
    tags.extend(a.tags.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| !t.is_empty() && seen.insert(t.clone()));

    let location = a.location.as_ref().and_then(|l| {
        let line = l.get("line")?.as_i64()?;
        let column = l.get("column").and_then(Value::as_i64).unwrap_or(0);
        (line >= 0 && column >= 0).then(|| Location::new(file, line, column))
    });
    let start = a.start_at.unwrap_or(file_start).max(0.0);
    let status_text = a.status.as_deref().unwrap_or("passed");
    let (mut status, skip): (TestStatus, Option<Annotation>) = match status_text {
        "passed" | "focused" => (TestStatus::Passed, None),
        "failed" => (TestStatus::Failed, None),
        "pending" | "skipped" | "disabled" => (TestStatus::Skipped, Some(annotation("skip"))),
        "todo" => (
            TestStatus::Skipped,
            Some(annotation(match runner {
                JsRunner::Jest => "fixme",
                JsRunner::Vitest => "todo",
            })),
        ),
        other => (
            TestStatus::Skipped,
            Some(Annotation {
                description: Some(format!("{} status `{other}`", runner.name())),
                ..annotation("skip")
            }),
        ),
    };
    let failing = a.failing == Some(true);
    let mut annotations: Vec<Annotation> = skip.into_iter().collect();
    if failing {
        annotations.push(annotation("fail"));
        // `test.failing`: the body is expected to throw; Jest's status is the test's verdict.
        status = match status {
            TestStatus::Passed => TestStatus::Failed,
            TestStatus::Failed => TestStatus::Passed,
            s => s,
        };
    }
    for an in &mut annotations {
        an.location = location.clone();
    }
    let expected = failing.then_some(TestStatus::Failed);
    let make = |status: TestStatus, errors: Vec<ReportError>, extra: Option<Annotation>| {
        let mut at = RunAttempt::with_status(status);
        at.expected_status = expected;
        at.start_timestamp = Some(UnixTimestampMs(start));
        at.errors = (!errors.is_empty()).then_some(errors);
        let mut ann = annotations.clone();
        ann.extend(extra);
        at.annotations = (!ann.is_empty()).then_some(ann);
        at
    };
    let errors: Vec<ReportError> = a
        .failure_messages
        .iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| error_of(m, limits))
        .collect();
    let mut attempts = Vec::new();
    if let Some(n) = a.invocations.filter(|_| status != TestStatus::Skipped) {
        // Jest's retryTimes: the invocations before the last one failed (a `test.failing`
        // one passed), each leaving its reasons when logErrorsBeforeRetry is on.
        let n = (n.max(1.0).min(f64::from(MAX_INVOCATIONS))) as usize;
        let earlier_status = if failing {
            TestStatus::Passed
        } else {
            TestStatus::Failed
        };
        let reasons: Vec<ReportError> = a
            .retry_reasons
            .iter()
            .filter(|m| !m.trim().is_empty())
            .map(|m| error_of(m, limits))
            .collect();
        for reasons in split_reasons(reasons, n - 1) {
            let inferred = reasons.is_empty().then(|| {
                crate::inferred_annotation(
                    "Jest ran this test again (jest.retryTimes): this invocation did not succeed; \
                     Jest keeps why only with logErrorsBeforeRetry",
                )
            });
            attempts.push(make(earlier_status, reasons, inferred));
        }
        let mut last = make(status, errors, None);
        last.duration = a.duration.filter(|d| *d >= 0.0).map(DurationMs);
        attempts.push(last);
    } else if runner == JsRunner::Vitest && status != TestStatus::Skipped && !errors.is_empty() {
        // Vitest keeps the errors of every try of a test it retried.
        let mut groups = tries(errors);
        let last = if status == TestStatus::Passed {
            Vec::new()
        } else {
            groups.pop().unwrap_or_default()
        };
        for g in groups {
            attempts.push(make(TestStatus::Failed, g, None));
        }
        let mut last = make(status, last, None);
        last.duration = a.duration.filter(|d| *d >= 0.0).map(DurationMs);
        attempts.push(last);
    } else {
        let mut last = make(status, errors, None);
        last.duration = a.duration.filter(|d| *d >= 0.0).map(DurationMs);
        attempts.push(last);
    }
    let mut test = Test::new(title);
    test.location = location;
    test.tags = (!tags.is_empty()).then_some(tags);
    test.attempts = attempts;
    test
}

fn annotation(kind: &str) -> Annotation {
    Annotation {
        kind: kind.into(),
        ..Default::default()
    }
}

/// The retry reasons of `tries` earlier invocations, in order: as many each when they divide
/// evenly (an invocation that failed with two errors left two), else one each and the rest on
/// the last.
fn split_reasons(mut reasons: Vec<ReportError>, tries: usize) -> Vec<Vec<ReportError>> {
    if tries == 0 {
        return Vec::new();
    }
    if reasons.is_empty() {
        return (0..tries).map(|_| Vec::new()).collect();
    }
    if reasons.len().is_multiple_of(tries) {
        let each = reasons.len() / tries;
        let mut out = Vec::with_capacity(tries);
        while !reasons.is_empty() {
            let rest = reasons.split_off(each);
            out.push(std::mem::replace(&mut reasons, rest));
        }
        return out;
    }
    let mut out: Vec<Vec<ReportError>> = Vec::with_capacity(tries);
    let mut it = reasons.into_iter();
    for _ in 0..tries - 1 {
        out.push(it.next().into_iter().collect());
    }
    out.push(it.collect());
    out
}

/// The tries a Vitest test's errors come from. Vitest keeps the errors of every try of a test
/// it retried, and says neither how many tries there were nor which error is whose: the
/// errors that repeat one run of messages (`A A A`, `A B A B`) are one try per run; any other
/// list is one try (soft assertions and a failing hook give several errors in one try).
fn tries(errors: Vec<ReportError>) -> Vec<Vec<ReportError>> {
    let k = errors.len();
    let key = |e: &ReportError| e.message.clone().unwrap_or_default();
    for period in 1..=k / 2 {
        if k.is_multiple_of(period)
            && (period..k).all(|i| key(&errors[i]) == key(&errors[i - period]))
        {
            let mut out = Vec::with_capacity(k / period);
            let mut it = errors.into_iter().peekable();
            while it.peek().is_some() {
                out.push(it.by_ref().take(period).collect());
            }
            return out;
        }
    }
    vec![errors]
}

/// An error from a failure message (an error's stack, `Error: message\n    at …`): the message
/// is its first line without the error's name, the stack the whole text (as a JavaScript
/// stack begins with its message), ANSI colours removed.
fn error_of(text: &str, limits: &Limits) -> ReportError {
    let clean = crate::cargotext::strip_ansi(text);
    let clean = clean.trim_end();
    let first = clean
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let message = strip_error_name(first);
    let message = if message.is_empty() { first } else { message };
    let mut stack = String::new();
    push_bounded(&mut stack, clean, limits.max_output_bytes);
    let multi_line = clean.trim().contains('\n');
    ReportError {
        message: Some(if message.is_empty() {
            "the test failed (its message is empty)".to_string()
        } else {
            bounded(message, limits)
        }),
        stack: multi_line.then_some(stack),
        ..Default::default()
    }
}

/// The error of a test file that failed outside its tests: Jest's `● Test suite failed to run`
/// block (the message its first line after that heading), or Vitest's message.
fn suite_error(text: &str, limits: &Limits) -> ReportError {
    let clean = crate::cargotext::strip_ansi(text);
    let clean = clean.trim_matches('\n').trim_end();
    let message = clean
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('●'))
        .map(strip_error_name)
        .unwrap_or(SUITE_FAILED_TITLE);
    let mut stack = String::new();
    push_bounded(&mut stack, clean, limits.max_output_bytes);
    ReportError {
        message: Some(bounded(message, limits)),
        stack: clean.contains('\n').then_some(stack),
        ..Default::default()
    }
}

fn bounded(text: &str, limits: &Limits) -> String {
    let mut s = String::new();
    push_bounded(&mut s, text, limits.max_output_bytes);
    s
}

/// `AssertionError: expected 1 to be 2` → `expected 1 to be 2`, as the official reporters
/// give a message (`Error`, `TypeError`, `chai.AssertionError`…: a word ending in `Error`).
fn strip_error_name(line: &str) -> &str {
    let Some((name, rest)) = line.split_once(':') else {
        return line;
    };
    let is_name = name.ends_with("Error")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$');
    if is_name {
        rest.trim()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(m: &str) -> ReportError {
        ReportError::message(m)
    }

    fn messages(groups: &[Vec<ReportError>]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|e| e.message.clone().unwrap_or_default())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn repeated_errors_are_tries() {
        let v = |l: &[&str]| l.iter().map(|m| err(m)).collect::<Vec<_>>();
        assert_eq!(messages(&tries(v(&["a", "a", "a"]))), [["a"], ["a"], ["a"]]);
        assert_eq!(
            messages(&tries(v(&["a", "b", "a", "b"]))),
            [["a", "b"], ["a", "b"]]
        );
        assert_eq!(messages(&tries(v(&["a", "b"]))), [["a", "b"]]);
        assert_eq!(messages(&tries(v(&["a"]))), [["a"]]);
        assert_eq!(messages(&tries(v(&["a", "a", "b"]))), [["a", "a", "b"]]);
    }

    #[test]
    fn retry_reasons_split_by_invocation() {
        let v = |l: &[&str]| l.iter().map(|m| err(m)).collect::<Vec<_>>();
        assert_eq!(messages(&split_reasons(v(&["a", "b"]), 2)), [["a"], ["b"]]);
        assert_eq!(
            messages(&split_reasons(v(&["a", "h", "a", "h"]), 2)),
            [["a", "h"], ["a", "h"]]
        );
        assert_eq!(
            messages(&split_reasons(v(&["a", "b", "c"]), 2)),
            [vec!["a"], vec!["b", "c"]]
        );
        assert_eq!(
            messages(&split_reasons(v(&[]), 2)),
            [Vec::<String>::new(), vec![]]
        );
        assert_eq!(messages(&split_reasons(v(&["a"]), 2)), [vec!["a"], vec![]]);
        assert!(split_reasons(v(&["a"]), 0).is_empty());
    }

    #[test]
    fn messages_lose_the_error_name() {
        assert_eq!(strip_error_name("Error: boom"), "boom");
        assert_eq!(strip_error_name("AssertionError: expected 1"), "expected 1");
        assert_eq!(strip_error_name("chai.AssertionError: x"), "x");
        assert_eq!(strip_error_name("expected: 1"), "expected: 1");
        assert_eq!(strip_error_name("Some Error: x"), "Some Error: x");
        let e = error_of(
            "Error: \u{1b}[31mred\u{1b}[39m text\n    at x (a.js:1:2)",
            &Limits::default(),
        );
        assert_eq!(e.message.as_deref(), Some("red text"));
        assert_eq!(
            e.stack.as_deref(),
            Some("Error: red text\n    at x (a.js:1:2)")
        );
    }

    #[test]
    fn paths_relative_to_the_root_dir() {
        assert_eq!(relative_path("/r/p/tests/a.js", Some("/r/p")), "tests/a.js");
        assert_eq!(relative_path("/r/px/a.js", Some("/r/p")), "/r/px/a.js");
        assert_eq!(relative_path("C:\\r\\a.js", Some("C:/r")), "a.js");
        assert_eq!(relative_path("/r/a.js", None), "/r/a.js");
    }
}
