//! Dart's `package:test` JSON reporter (`dart test --reporter json`, `--file-reporter
//! json:FILE`) and `flutter test --machine`, which writes the same events: one JSON object a
//! line, each with a `type` and a `time` (milliseconds since the runner started).
//!
//! | Event | Report |
//! |---|---|
//! | `suite` (`path`) | a `file` suite at that path (`\` read as `/`) |
//! | `group` (`name` holds its parents' names as a prefix) | a `suite` inside its parent, titled without that prefix; the root group (no name) is none |
//! | `testStart` | a test titled with its name less its innermost group's; located at `root_url`/`root_line` when given (the test file, not a helper like `testWidgets`), else at `url`/`line` |
//! | `testDone` `result` | `success` → `passed`, `skipped: true` → `skipped` (reason from the `skip` message, else `metadata.skipReason`), `failure` → `failed`, `error` → `failed` with a `dart-error` annotation; an error saying `Test timed out after` → `timedOut` |
//! | `error` | an error of the attempt (`error` the message, `stackTrace` the stack); one after `testDone` fails the test it belongs to |
//! | `print` | the attempt's stdout, one timed entry each |
//! | `print` `Retry: NAME` (package:test's retry of a failed test, in the same test) | the tries before it are failed attempts of their own |
//! | `loading FILE`, `(setUpAll)`, `(tearDownAll)` (hidden) | left out when they pass; a failed load is a failed test [`LOAD_FAILED_TITLE`] of the file |
//! | a test without `testDone` when the stream ends | an `interrupted` attempt |
//! | the same test in several documents (or after a second `start`) | attempts of one test |
//! | a test declared twice under one name in one run | two tests, the second titled `TITLE #2` |
//!
//! Lines that are not JSON objects (what `flutter` prints beside the events, its
//! `[{"event":"test.startedProcess",…}]` notifications) are skipped.

use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, Stream, Test,
    TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use serde_json::Value;

use crate::tree::{Key, TestTree};
use crate::{push_bounded, ConvertError, Limits, Metadata};

/// The report category of Dart's and Flutter's JSON.
pub const CATEGORY: &str = "dart";

/// Title of the failed test standing for a test file that did not load (a compile error, an
/// exception in `main`, a missing file).
pub const LOAD_FAILED_TITLE: &str = "[loading failed]";

/// The annotation on an attempt whose result is `error` (an exception) rather than `failure`
/// (a failed expectation).
pub const ERROR_ANNOTATION: &str = "dart-error";

/// What flutter_test's error says when the exception is in the printed log before it.
const FLUTTER_SEE_LOGS: &str = "Test failed. See exception logs above.";
/// The banner of that log.
const FLUTTER_BANNER: &str = "EXCEPTION CAUGHT BY FLUTTER TEST FRAMEWORK";

/// True for a line that is one of the reporter's events (its keys are the protocol's own).
pub(crate) fn is_event_line(line: &str) -> bool {
    line.contains("\"type\"")
        && (line.contains("\"protocolVersion\"")
            || line.contains("\"testID\"")
            || line.contains("\"groupIDs\"")
            || line.contains("\"testCount\"")
            || (line.contains("\"suite\"") && line.contains("\"platform\"")))
}

/// One try of a test: from its start (or a retry) to its end (or the next retry).
#[derive(Debug, Default)]
struct Try {
    start_ms: f64,
    end_ms: Option<f64>,
    status: Option<TestStatus>,
    exception: bool,
    errors: Vec<ReportError>,
    /// `(time, text)` of each print.
    out: Vec<(f64, String)>,
    out_bytes: usize,
    skip_reason: Option<String>,
}

/// A test as its events come.
#[derive(Debug)]
struct Running {
    file: Option<String>,
    groups: Vec<String>,
    title: String,
    name: String,
    location: Option<Location>,
    load: bool,
    tries: Vec<Try>,
    open: Option<Try>,
    hidden: bool,
}

#[derive(Debug)]
struct Group {
    name: String,
    titles: Vec<String>,
}

/// One run (a document, or the part of one after a `start`): its ids are its own.
#[derive(Debug, Default)]
struct Segment {
    suites: HashMap<i64, String>,
    groups: HashMap<i64, Group>,
    tests: Vec<Running>,
    by_id: HashMap<i64, usize>,
    last_ms: f64,
    events: usize,
}

/// Reads the JSON of `dart test --reporter json` and `flutter test --machine`.
#[derive(Debug, Default)]
pub struct DartJsonCollector {
    tree: TestTree,
    unattributed: Vec<ReportError>,
    span: Option<(f64, f64)>,
    runner_version: Option<String>,
    flutter: bool,
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A URL as a path: `file:///C:/x` → `C:/x`, `file:///x%20y` → `/x y`; other schemes
/// (`package:`, `dart:`) as they are.
fn url_path(url: &str) -> String {
    let Some(rest) = url.strip_prefix("file://") else {
        return url.to_string();
    };
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let b = rest.as_bytes();
    let rest = if b.len() > 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
        &rest[1..]
    } else {
        rest
    };
    percent_decode(rest)
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The location of a test: its root (the test file) when given, else where `test()` was
/// called. The file is the suite's path when the URL names it (`file:///ci/pkg/test/a.dart`
/// for `test/a.dart`); a URL of another scheme (`package:flutter_test/…`) gives none.
fn test_location(t: &Value, suite_path: Option<&str>) -> Option<Location> {
    let (url, line, column) = match text(t, "root_url") {
        Some(u) => (u, int(t, "root_line"), int(t, "root_column")),
        None => (text(t, "url")?, int(t, "line"), int(t, "column")),
    };
    let line = line.filter(|l| *l >= 1)?;
    let column = column.filter(|c| *c >= 1).unwrap_or(1);
    if !url.starts_with("file:") && url.contains(':') && !url.starts_with('/') {
        let windows = url.as_bytes().get(1) == Some(&b':');
        if !windows {
            return None;
        }
    }
    let path = url_path(url).replace('\\', "/");
    let file = match suite_path {
        Some(s) if path == s || path.ends_with(&format!("/{s}")) => s.to_string(),
        _ => path,
    };
    Some(Location::new(file, line, column))
}

/// flutter_test's log of an exception (`══╡ EXCEPTION CAUGHT BY FLUTTER TEST FRAMEWORK ╞══`):
/// what was thrown, the lines after `The following … was thrown …:`.
fn flutter_exception(log: &str) -> Option<String> {
    let mut lines = log
        .lines()
        .skip_while(|l| !(l.starts_with("The following ") && l.trim_end().ends_with(':')));
    lines.next()?;
    let what: Vec<&str> = lines
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("When the exception was thrown"))
        .map(str::trim)
        .collect();
    (!what.is_empty()).then(|| what.join("\n"))
}

impl Segment {
    fn test_mut(&mut self, id: Option<i64>) -> Option<&mut Running> {
        let i = *self.by_id.get(&id?)?;
        self.tests.get_mut(i)
    }
}

impl DartJsonCollector {
    fn widen(&mut self, a: f64, b: f64) {
        self.span = Some(match self.span {
            Some((x, y)) => (x.min(a), y.max(b)),
            None => (a, b),
        });
    }

    fn event(&mut self, seg: &mut Segment, e: &Value, limits: &Limits) {
        let Some(kind) = text(e, "type") else {
            return;
        };
        let at = e
            .get("time")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e15);
        if let Some(t) = at {
            seg.last_ms = seg.last_ms.max(t);
        }
        let now = at.unwrap_or(seg.last_ms);
        seg.events += 1;
        let max = limits.max_output_bytes;
        match kind {
            "start" => {
                if let Some(v) = text(e, "runnerVersion") {
                    self.runner_version = Some(v.to_string());
                }
            }
            "suite" => {
                let Some(s) = e.get("suite") else { return };
                if let (Some(id), Some(path)) = (int(s, "id"), text(s, "path")) {
                    seg.suites.insert(id, path.replace('\\', "/"));
                }
            }
            "group" => {
                let Some(g) = e.get("group") else { return };
                let Some(id) = int(g, "id") else { return };
                let name = text(g, "name").unwrap_or_default().to_string();
                let parent = int(g, "parentID").and_then(|p| seg.groups.get(&p));
                let mut titles = parent.map(|p| p.titles.clone()).unwrap_or_default();
                if !name.is_empty() {
                    let title = parent
                        .filter(|p| !p.name.is_empty())
                        .and_then(|p| name.strip_prefix(&format!("{} ", p.name)))
                        .filter(|t| !t.is_empty())
                        .unwrap_or(&name);
                    titles.push(title.to_string());
                }
                seg.groups.insert(id, Group { name, titles });
            }
            "testStart" => {
                let Some(t) = e.get("test") else { return };
                let Some(id) = int(t, "id") else { return };
                let name = text(t, "name").unwrap_or_default().to_string();
                let suite = int(t, "suiteID").and_then(|s| seg.suites.get(&s)).cloned();
                let group_ids: Vec<i64> = t
                    .get("groupIDs")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default();
                let inner = group_ids.iter().rev().find_map(|g| seg.groups.get(g));
                let load = group_ids.is_empty() && name.starts_with("loading ");
                if ["url", "root_url"]
                    .iter()
                    .any(|k| text(t, k).is_some_and(|u| u.starts_with("package:flutter_test/")))
                {
                    self.flutter = true;
                }
                let (file, groups, title, location) = if load {
                    let file = suite
                        .or_else(|| name.strip_prefix("loading ").map(|p| p.replace('\\', "/")));
                    (file, Vec::new(), LOAD_FAILED_TITLE.to_string(), None)
                } else {
                    let title = inner
                        .filter(|g| !g.name.is_empty())
                        .and_then(|g| name.strip_prefix(&format!("{} ", g.name)))
                        .filter(|t| !t.is_empty())
                        .unwrap_or(&name)
                        .to_string();
                    let location = test_location(t, suite.as_deref());
                    let groups = inner.map(|g| g.titles.clone()).unwrap_or_default();
                    (suite, groups, title, location)
                };
                let skip_reason = t
                    .get("metadata")
                    .and_then(|m| text(m, "skipReason"))
                    .map(str::to_string);
                seg.tests.push(Running {
                    file,
                    groups,
                    title,
                    name,
                    location,
                    load,
                    tries: Vec::new(),
                    open: Some(Try {
                        start_ms: now,
                        skip_reason,
                        ..Try::default()
                    }),
                    hidden: false,
                });
                seg.by_id.insert(id, seg.tests.len() - 1);
            }
            "print" => {
                let id = int(e, "testID");
                let message = text(e, "message").unwrap_or_default();
                let Some(t) = seg.test_mut(id) else { return };
                if text(e, "messageType") == Some("skip") {
                    if let Some(open) = t.open.as_mut() {
                        let reason = message.strip_prefix("Skip: ").unwrap_or(message).trim();
                        if !reason.is_empty() {
                            open.skip_reason = Some(bounded(reason, max));
                        }
                    }
                    return;
                }
                // package:test runs a failed test with retries left again in the same test,
                // saying `Retry: NAME` between the tries.
                if t.open.is_some() && message.strip_prefix("Retry: ") == Some(t.name.as_str()) {
                    if let Some(mut done) = t.open.take() {
                        done.end_ms = Some(now);
                        done.status = Some(failed_status(&done));
                        t.tries.push(done);
                    }
                    t.open = Some(Try {
                        start_ms: now,
                        ..Try::default()
                    });
                    return;
                }
                let target = match t.open.as_mut() {
                    Some(o) => o,
                    None => match t.tries.last_mut() {
                        Some(last) => last,
                        None => return,
                    },
                };
                if message.contains(FLUTTER_BANNER) {
                    self.flutter = true;
                }
                if target.out_bytes < max {
                    let mut s = String::new();
                    push_bounded(&mut s, message, max - target.out_bytes);
                    s.push('\n');
                    target.out_bytes += s.len();
                    target.out.push((now, s));
                }
            }
            "error" => {
                let id = int(e, "testID");
                let message = match e.get("error") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let stack = text(e, "stackTrace").unwrap_or_default();
                let exception = e.get("isFailure").and_then(Value::as_bool) == Some(false);
                let mut error = ReportError {
                    message: Some(bounded(message.trim_end(), max)),
                    stack: (!stack.trim().is_empty()).then(|| bounded(stack.trim_end(), max)),
                    ..Default::default()
                };
                let Some(t) = seg.test_mut(id) else {
                    self.unattributed.push(error);
                    return;
                };
                let (target, late) = match t.open.as_mut() {
                    Some(o) => (o, false),
                    None => match t.tries.last_mut() {
                        Some(last) => (last, true),
                        None => return,
                    },
                };
                if message.starts_with(FLUTTER_SEE_LOGS) {
                    self.flutter = true;
                    // The exception is in the log printed just before.
                    if let Some((_, log)) = target
                        .out
                        .iter()
                        .rev()
                        .find(|(_, o)| o.contains(FLUTTER_BANNER))
                    {
                        if let Some(what) = flutter_exception(log) {
                            error.message = Some(bounded(&what, max));
                        }
                        if error.stack.is_none() {
                            error.stack = Some(log.trim_end().to_string());
                        }
                    }
                }
                target.exception |= exception;
                target.errors.push(error);
                if late {
                    // An error after the test ended: it failed after all, and is shown.
                    if matches!(
                        target.status,
                        Some(TestStatus::Passed | TestStatus::Skipped) | None
                    ) {
                        target.status = Some(failed_status(target));
                    }
                    t.hidden = false;
                }
            }
            "testDone" => {
                let id = int(e, "testID");
                let Some(t) = seg.test_mut(id) else { return };
                let Some(mut done) = t.open.take() else {
                    return;
                };
                done.end_ms = Some(now);
                let skipped = e.get("skipped").and_then(Value::as_bool) == Some(true);
                let result = text(e, "result").unwrap_or("success");
                done.status = Some(match result {
                    _ if skipped => TestStatus::Skipped,
                    "success" => TestStatus::Passed,
                    "error" => {
                        done.exception = true;
                        failed_status(&done)
                    }
                    _ => failed_status(&done),
                });
                t.hidden = e.get("hidden").and_then(Value::as_bool) == Some(true);
                t.tries.push(done);
            }
            _ => {}
        }
    }

    /// Reads one document line by line (never held whole). Errors carry the byte offset; the
    /// caller places them at a line and column.
    pub fn read_stream(
        &mut self,
        r: &mut dyn std::io::BufRead,
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut segments: Vec<Segment> = vec![Segment::default()];
        let mut events = 0usize;
        crate::for_each_line(r, input, |here, raw| {
            let line = raw.trim();
            if line.starts_with("[{\"event\":\"test.") {
                // flutter's notifications beside the events (`test.startedProcess`).
                self.flutter = true;
                return Ok(());
            }
            if !line.starts_with('{') {
                return Ok(());
            }
            let value = match serde_json::from_str::<Value>(line) {
                Ok(v) => v,
                Err(err) if is_event_line(line) => {
                    let column = err.column().saturating_sub(1) as u64;
                    return Err(ConvertError::at(
                        input,
                        here + (raw.len() - raw.trim_start().len()) as u64 + column,
                        format!("not a Dart test event: {err}"),
                    ));
                }
                Err(_) => return Ok(()),
            };
            let Some(kind) = text(&value, "type") else {
                return Ok(());
            };
            // Another run appended to this one: its ids are new.
            if kind == "start" && segments.last().is_some_and(|s| s.events > 0) {
                segments.push(Segment::default());
            }
            events += 1;
            if let Some(seg) = segments.last_mut() {
                self.event(seg, &value, limits);
            }
            Ok(())
        })?;
        if events == 0 {
            return Err(ConvertError::at_start(
                input,
                "no Dart test event found (expected lines like {\"type\":\"testStart\",…} from dart test --reporter json)",
            ));
        }
        // The file was last written when its last run ended; each run before it ended where
        // the next began.
        let mut end = fallback_ms;
        let mut timed: Vec<(Segment, f64)> = Vec::with_capacity(segments.len());
        for seg in segments.into_iter().rev() {
            let base = end - seg.last_ms;
            end = base;
            timed.push((seg, base));
        }
        for (seg, base) in timed.into_iter().rev() {
            self.widen(base, base + seg.last_ms);
            self.finish(seg, base);
        }
        Ok(())
    }

    /// The tests of a run, into the tree: times made absolute from `base`.
    fn finish(&mut self, seg: Segment, base: f64) {
        // A run: a test declared twice under one name in it is two tests (package:test
        // retries a test inside its one `testStart`, never as another).
        self.tree.next_document();
        let last_ms = seg.last_ms;
        for mut t in seg.tests {
            if let Some(mut open) = t.open.take() {
                open.end_ms = Some(last_ms);
                open.status = Some(TestStatus::Interrupted);
                open.errors.push(ReportError::message(
                    "the stream ends before this test did: the run was interrupted",
                ));
                t.tries.push(open);
            }
            let all_passed = t.tries.iter().all(|a| a.status == Some(TestStatus::Passed));
            let virtual_test = t.load || t.title == "(setUpAll)" || t.title == "(tearDownAll)";
            if all_passed && (t.hidden || virtual_test) {
                continue;
            }
            let mut test = Test::new(t.title.clone());
            test.location = t.location.clone();
            test.attempts = t.tries.into_iter().map(|a| attempt(a, base)).collect();
            let key: Key = (t.file, t.groups, t.title);
            self.tree.add_distinct(key, test);
        }
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, total) = match self.span {
            Some((a, b)) => (a, (b - a).max(0.0)),
            None => (fallback_ms, 0.0),
        };
        let (suites, tests) = self.tree.into_suites();
        let mut report = crate::build_report(suites, tests, self.unattributed, start, total, meta);
        report.test_runner = Some(if self.flutter {
            NamedVersion {
                name: "flutter".into(),
                version: "unknown".into(),
                ..Default::default()
            }
        } else {
            NamedVersion {
                name: "dart".into(),
                version: self.runner_version.unwrap_or_else(|| "unknown".into()),
                ..Default::default()
            }
        });
        report
    }

    /// The runner that names the environment: `flutter` for flutter's stream.
    fn runner(&self) -> Option<String> {
        self.flutter.then(|| "flutter".to_string())
    }
}

crate::formats::reader!(DartJsonCollector, DartJsonCollector::into_report; streams read_stream; runner runner);

fn bounded(s: &str, max: usize) -> String {
    let mut out = String::new();
    push_bounded(&mut out, s, max);
    out
}

/// `failed`, or `timedOut` when an error says the test timed out.
fn failed_status(t: &Try) -> TestStatus {
    let timed_out = t.errors.iter().any(|e| {
        e.message
            .as_deref()
            .is_some_and(|m| m.contains("Test timed out after"))
    });
    if timed_out {
        TestStatus::TimedOut
    } else {
        TestStatus::Failed
    }
}

fn attempt(t: Try, base: f64) -> RunAttempt {
    let status = t.status.unwrap_or(TestStatus::Interrupted);
    let mut a = RunAttempt::with_status(status);
    let start = base + t.start_ms;
    a.start_timestamp = Some(UnixTimestampMs(start.max(0.0)));
    a.duration = t.end_ms.map(|e| DurationMs((e - t.start_ms).max(0.0)));
    let mut annotations = Vec::new();
    if status == TestStatus::Skipped {
        annotations.push(Annotation {
            kind: "skip".into(),
            description: t.skip_reason.clone(),
            ..Default::default()
        });
    }
    if t.exception && matches!(status, TestStatus::Failed | TestStatus::TimedOut) {
        annotations.push(Annotation {
            kind: ERROR_ANNOTATION.into(),
            description: Some(
                "ended by an exception (result error), not a failed expectation".into(),
            ),
            ..Default::default()
        });
    }
    a.annotations = (!annotations.is_empty()).then_some(annotations);
    a.errors = (!t.errors.is_empty()).then_some(t.errors);
    let mut prev = t.start_ms;
    let stdio: Vec<TimedStdioEntry> = t
        .out
        .into_iter()
        .map(|(at, text)| {
            let mut entry = TimedStdioEntry::text(Stream::Stdout, text);
            entry.dts = Some(DurationMs((at - prev).max(0.0)));
            prev = prev.max(at);
            entry
        })
        .collect();
    a.stdio = (!stdio.is_empty()).then_some(stdio);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_paths() {
        assert_eq!(url_path("file:///C:/w/a%20b/x.dart"), "C:/w/a b/x.dart");
        assert_eq!(
            url_path("file:///home/u/p/test/a.dart"),
            "/home/u/p/test/a.dart"
        );
        assert_eq!(url_path("package:x/y.dart"), "package:x/y.dart");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }

    #[test]
    fn flutter_logs_say_what_was_thrown() {
        let log = "══╡ EXCEPTION CAUGHT BY FLUTTER TEST FRAMEWORK ╞═══\nThe following TestFailure was thrown running a test:\n  Expected: <2>\n  Actual: <1>\n\nWhen the exception was thrown, this was the stack:\n#0 x";
        assert_eq!(
            flutter_exception(log).as_deref(),
            Some("Expected: <2>\nActual: <1>")
        );
        assert_eq!(flutter_exception("nothing"), None);
    }
}
