//! GoogleTest's JSON (`--gtest_output=json[:FILE]`): one document a run of a test binary.
//!
//! | Input | Report |
//! |---|---|
//! | `testsuites[]` (`name`: `Math`, `Numbers/ParamTest`, `TypedTest/1`) | a `suite` with that title; the same name in several documents is one suite |
//! | `testsuite[]` of a suite (`name`: `Passes`, `IsEven/2`) | a test titled with the name, located at `file`:`line` |
//! | `status` `RUN`, `result` `COMPLETED`, with `failures[]` | `failed`: one error per failure (`"file:line\nmessage"`: the message after the first line, the whole as the stack) |
//! | `RUN` / `COMPLETED` without `failures` (GoogleTest before 1.10: no `result`) | `passed` |
//! | `RUN` / `SKIPPED` (`GTEST_SKIP`) | `skipped`, annotation `skip` (the message when `skipped[]` gives one: 1.15 and later) |
//! | `NOTRUN` / `SUPPRESSED` (`DISABLED_`) | `skipped`, annotation `skip` `disabled` |
//! | `time` (`"0.012s"`), `timestamp` | the attempt's duration and start |
//! | `value_param`, `type_param`, `RecordProperty` keys | annotations `{type: key, description: value}` |
//! | a testcase without a name (a failure in `SetUpTestSuite`/`TearDownTestSuite`, or in a global environment: suite `NonTestSuiteFailure`) | a failed test titled [`SUITE_FAILED_TITLE`] / [`ENVIRONMENT_FAILED_TITLE`] |
//! | the same suite and test in another document (another run) | another attempt |

use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, Suite,
    SuiteType, Test, TestStatus, UnixTimestampMs,
};
use serde_json::{Map, Value};

use crate::{offset_of, push_bounded, ConvertError, Limits, Metadata};

/// The default category of GoogleTest reports (and so the environment's name).
pub(crate) const CATEGORY: &str = "gtest";

/// Title of the test standing for a failure in a suite's `SetUpTestSuite` or
/// `TearDownTestSuite` (GoogleTest writes it as a testcase without a name).
pub const SUITE_FAILED_TITLE: &str = "[SetUpTestSuite or TearDownTestSuite]";
/// Title of the test standing for a failure outside every suite (a global environment's
/// `SetUp`/`TearDown`), in GoogleTest's suite `NonTestSuiteFailure`.
pub const ENVIRONMENT_FAILED_TITLE: &str = "[global test environment]";

/// The message of a failure whose text says nothing after its location.
const NO_MESSAGE: &str = "the test failed (GoogleTest gives no message)";

/// The keys of a testcase that are not `RecordProperty` values.
const TEST_KEYS: &[&str] = &[
    "name",
    "file",
    "line",
    "status",
    "result",
    "timestamp",
    "time",
    "classname",
    "failures",
    "skipped",
    "value_param",
    "type_param",
];

#[derive(Debug, Default)]
struct GSuite {
    title: String,
    tests: Vec<Test>,
    /// (title, file) → index in `tests`.
    by_key: HashMap<(String, Option<String>), usize>,
}

/// Reads GoogleTest JSON documents.
#[derive(Debug, Default)]
pub struct GtestCollector {
    suites: Vec<GSuite>,
    by_title: HashMap<String, usize>,
    span: Option<(f64, f64)>,
}

/// `"0.012s"` → 12 ms.
fn duration_ms(v: Option<&Value>) -> Option<f64> {
    let s = v?.as_str()?.trim();
    crate::parse_duration_secs(s.strip_suffix('s').unwrap_or(s))
        .map(|s| s * 1000.0)
        .filter(|ms| *ms < MAX_DURATION_MS)
}

/// Durations past this (three centuries) are not believed: sums of them stay finite.
const MAX_DURATION_MS: f64 = 1e13;

/// A timestamp after 1970 (GoogleTest writes the epoch itself for tests that did not run).
fn timestamp_ms(v: Option<&Value>) -> Option<f64> {
    v?.as_str()
        .and_then(crate::parse_timestamp_ms)
        .filter(|ms| *ms > 0.0)
}

/// A value as annotation text: strings as they are, anything else as JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn bounded(text: &str, limits: &Limits) -> String {
    let mut out = String::new();
    push_bounded(&mut out, text, limits.max_output_bytes);
    out
}

/// `gtest_sample.cpp:29` → its location (`unknown file` and the like give none).
fn location_of(first_line: &str) -> Option<Location> {
    let (file, line) = first_line.trim().rsplit_once(':')?;
    let line: i64 = line.parse().ok()?;
    (!file.is_empty() && !file.contains('\n')).then(|| Location::new(file, line, 1))
}

/// An error of a `"file:line\nmessage"` failure text.
fn error_of(text: &str) -> ReportError {
    let message = text
        .split_once('\n')
        .map(|(_, rest)| rest.trim_end())
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(NO_MESSAGE);
    ReportError {
        message: Some(message.to_string()),
        stack: (!text.trim().is_empty()).then(|| text.trim_end().to_string()),
        ..Default::default()
    }
}

/// The texts of the objects of `list` under `key` (`failures[].failure`, `skipped[].message`).
fn texts<'a>(t: &'a Map<String, Value>, list: &str, key: &str) -> Vec<&'a str> {
    t.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get(key).and_then(Value::as_str))
        .collect()
}

impl GtestCollector {
    fn suite(&mut self, title: &str) -> &mut GSuite {
        let i = match self.by_title.get(title) {
            Some(&i) => i,
            None => {
                self.suites.push(GSuite {
                    title: title.to_string(),
                    ..GSuite::default()
                });
                self.by_title
                    .insert(title.to_string(), self.suites.len() - 1);
                self.suites.len() - 1
            }
        };
        &mut self.suites[i]
    }

    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        if crate::is_utf16(data) {
            return Err(ConvertError::at_start(input, crate::UTF16_MESSAGE));
        }
        let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let skipped = data.len() - body.len();
        // GoogleTest copies the bytes of failure messages as they are: a message that is not
        // UTF-8 is read with replacement characters rather than refused.
        let text = String::from_utf8_lossy(body);
        let doc: Value = serde_json::from_str(&text).map_err(|e| {
            let offset = skipped + offset_of(body, e.line(), e.column());
            ConvertError::at(
                input,
                offset as u64,
                format!("not a GoogleTest JSON file (malformed JSON: {e})"),
            )
        })?;
        let not_gtest = |what: &str| {
            ConvertError::at_start(input, &format!("not a GoogleTest JSON file: {what}"))
        };
        let Some(obj) = doc.as_object() else {
            return Err(not_gtest("the document is not a JSON object"));
        };
        let Some(suites) = obj.get("testsuites").and_then(Value::as_array) else {
            return Err(not_gtest("no \"testsuites\" list"));
        };
        let run_start = timestamp_ms(obj.get("timestamp"));
        let run_ms = duration_ms(obj.get("time"));
        let mut clock = run_start.unwrap_or(fallback_ms);
        let mut end = clock;
        // (suite, title, location, attempt) of every testcase, kept once the whole document
        // is known to be good.
        let mut read = Vec::new();
        for (i, suite) in suites.iter().enumerate() {
            let Some(suite) = suite.as_object() else {
                return Err(not_gtest(&format!("testsuites[{i}] is not an object")));
            };
            let title = suite.get("name").and_then(Value::as_str).unwrap_or("");
            let suite_start = timestamp_ms(suite.get("timestamp"));
            if let Some(s) = suite_start {
                clock = s;
            }
            let tests = suite
                .get("testsuite")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (j, t) in tests.iter().enumerate() {
                let Some(t) = t.as_object() else {
                    return Err(not_gtest(&format!(
                        "testsuites[{i}].testsuite[{j}] is not an object"
                    )));
                };
                let Some(status) = t.get("status").and_then(Value::as_str) else {
                    return Err(not_gtest(&format!(
                        "testsuites[{i}].testsuite[{j}] has no \"status\": a test listing (--gtest_list_tests) holds no results"
                    )));
                };
                let mut a = attempt(t, status, limits);
                let duration = duration_ms(t.get("time"));
                let start = timestamp_ms(t.get("timestamp")).unwrap_or(clock);
                a.start_timestamp = Some(UnixTimestampMs(start));
                a.duration = duration.map(DurationMs);
                clock = start + duration.unwrap_or(0.0);
                end = end.max(clock);
                let name = t.get("name").and_then(Value::as_str).unwrap_or("");
                let name = match name {
                    "" if title == "NonTestSuiteFailure" => ENVIRONMENT_FAILED_TITLE,
                    "" => SUITE_FAILED_TITLE,
                    n => n,
                };
                let location = t
                    .get("file")
                    .and_then(Value::as_str)
                    .filter(|f| !f.is_empty())
                    .map(|f| {
                        let line = t.get("line").and_then(Value::as_i64).unwrap_or(0);
                        Location::new(f, line.max(0), 1)
                    });
                read.push((title, name, location, a));
            }
        }
        for (title, name, location, a) in read {
            let suite = self.suite(title);
            let key = (name.to_string(), location.as_ref().map(|l| l.file.clone()));
            let k = match suite.by_key.get(&key) {
                Some(&k) => k,
                None => {
                    let mut test = Test::new(name);
                    test.location = location;
                    suite.tests.push(test);
                    suite.by_key.insert(key, suite.tests.len() - 1);
                    suite.tests.len() - 1
                }
            };
            crate::push_attempt(&mut suite.tests[k].attempts, a);
        }
        let start = run_start.unwrap_or(fallback_ms);
        let end = run_ms.map_or(end, |d| end.max(start + d));
        crate::times::widen(&mut self.span, start, end);
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, end) = self.span.unwrap_or((fallback_ms, fallback_ms));
        let suites = self
            .suites
            .into_iter()
            .filter(|s| !s.tests.is_empty())
            .map(|s| {
                let mut suite = Suite::new(SuiteType::Suite, s.title);
                suite.tests = Some(s.tests);
                suite
            })
            .collect();
        let mut report =
            crate::build_report(suites, Vec::new(), Vec::new(), start, end - start, meta);
        report.test_runner = Some(NamedVersion {
            name: "gtest".into(),
            version: "unknown".into(),
            ..Default::default()
        });
        report
    }
}

/// The attempt of one testcase: its status, errors and annotations.
fn attempt(t: &Map<String, Value>, status: &str, limits: &Limits) -> RunAttempt {
    let failures = texts(t, "failures", "failure");
    let result = t.get("result").and_then(Value::as_str);
    let mut annotations = Vec::new();
    let mut a = if !failures.is_empty() {
        let mut a = RunAttempt::with_status(TestStatus::Failed);
        a.errors = Some(
            failures
                .iter()
                .map(|f| error_of(&bounded(f, limits)))
                .collect(),
        );
        a
    } else if status == "NOTRUN" || result == Some("SUPPRESSED") {
        annotations.push(Annotation {
            kind: "skip".into(),
            description: Some("disabled".into()),
            ..Default::default()
        });
        RunAttempt::with_status(TestStatus::Skipped)
    } else if result == Some("SKIPPED") {
        let said = texts(t, "skipped", "message");
        let first = said.first().copied().unwrap_or("");
        let (head, reason) = first.split_once('\n').unwrap_or((first, ""));
        annotations.push(Annotation {
            kind: "skip".into(),
            description: (!reason.trim().is_empty()).then(|| bounded(reason.trim_end(), limits)),
            location: location_of(head),
            ..Default::default()
        });
        RunAttempt::with_status(TestStatus::Skipped)
    } else {
        RunAttempt::with_status(TestStatus::Passed)
    };
    for key in ["value_param", "type_param"] {
        if let Some(v) = t.get(key) {
            annotations.push(Annotation {
                kind: key.into(),
                description: Some(bounded(&text_of(v), limits)),
                ..Default::default()
            });
        }
    }
    for (k, v) in t {
        if TEST_KEYS.contains(&k.as_str()) {
            continue;
        }
        annotations.push(Annotation {
            kind: bounded(k, limits),
            description: Some(bounded(&text_of(v), limits)),
            ..Default::default()
        });
    }
    a.annotations = (!annotations.is_empty()).then_some(annotations);
    a
}

crate::formats::reader!(GtestCollector, GtestCollector::into_report);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_split_into_message_and_stack() {
        let e = error_of("a_test.cpp:15\nExpected equality\n  5");
        assert_eq!(e.message.as_deref(), Some("Expected equality\n  5"));
        assert_eq!(
            e.stack.as_deref(),
            Some("a_test.cpp:15\nExpected equality\n  5")
        );
        let e = error_of("a_test.cpp:15\n");
        assert_eq!(e.message.as_deref(), Some(NO_MESSAGE));
        assert_eq!(
            location_of("a_test.cpp:29"),
            Some(Location::new("a_test.cpp", 29, 1))
        );
        assert_eq!(location_of("unknown file"), None);
        assert_eq!(duration_ms(Some(&Value::from("0.012s"))), Some(12.0));
        assert_eq!(duration_ms(Some(&Value::from("0s"))), Some(0.0));
        assert_eq!(
            timestamp_ms(Some(&Value::from("1970-01-01T00:00:00Z"))),
            None
        );
    }
}
