//! mochawesome's JSON (`mocha --reporter mochawesome`, and mochawesome-merge's): the suite
//! tree, every declared test in it.
//!
//! | Input | Report |
//! |---|---|
//! | a suite's `fullFile` (else `file`) | a `file` suite |
//! | `results[].suites[]…` | the suites, nested as they are (the root suite, untitled, is none) |
//! | a test (`state` `passed` / `failed` / `pending` / `null`) | passed / failed (timed out when `timedOut`) / skipped / skipped (not run) |
//! | a failed hook of `beforeHooks` / `afterHooks` | a failed test titled as Mocha titles the hook |
//!
//! mochawesome does not record retries: a test that passed on a retry is a pass.

use flakiness_report::{DurationMs, Report, RunAttempt, TestStatus, UnixTimestampMs};
use serde::Deserialize;
use serde_json::Value;

use crate::jsondoc::{json_document, Key, TestTree};
use crate::mochajson::{error_of, mocha_report, run_span, skip_annotation, Stats};
use crate::{ConvertError, Limits, Metadata};

#[derive(Deserialize)]
struct AwesomeDoc {
    #[serde(default)]
    stats: Option<Stats>,
    results: Vec<AwesomeSuite>,
    #[serde(default)]
    meta: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwesomeSuite {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    full_file: Option<String>,
    #[serde(default)]
    before_hooks: Vec<AwesomeTest>,
    #[serde(default)]
    after_hooks: Vec<AwesomeTest>,
    #[serde(default)]
    tests: Vec<AwesomeTest>,
    #[serde(default)]
    suites: Vec<AwesomeSuite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwesomeTest {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    timed_out: Option<bool>,
    #[serde(default)]
    pending: Option<bool>,
    #[serde(default)]
    skipped: Option<bool>,
    #[serde(default)]
    err: Option<Value>,
}

/// Reads mochawesome's JSON documents (and mochawesome-merge's, which hold several results).
#[derive(Debug, Default)]
pub struct MochawesomeCollector {
    tests: TestTree,
    span: Option<(f64, f64)>,
    version: Option<String>,
}

impl MochawesomeCollector {
    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let doc: AwesomeDoc = json_document(data, input, "not a mochawesome JSON report")?;
        self.tests.next_document();
        let (start, end) = run_span(doc.stats.as_ref(), fallback_ms);
        crate::times::widen(&mut self.span, start, end);
        if self.version.is_none() {
            self.version = doc
                .meta
                .as_ref()
                .and_then(|m| m.pointer("/mocha/version"))
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string);
        }
        let mut at = start;
        for root in &doc.results {
            self.suite(root, None, &mut Vec::new(), &mut at, limits);
        }
        Ok(())
    }

    fn suite(
        &mut self,
        s: &AwesomeSuite,
        file: Option<&str>,
        groups: &mut Vec<String>,
        at: &mut f64,
        limits: &Limits,
    ) {
        // `fullFile` is absolute, `file` relative to where Mocha ran (with a leading `/`).
        let own = s
            .full_file
            .as_deref()
            .filter(|f| !f.is_empty())
            .or_else(|| {
                s.file
                    .as_deref()
                    .map(|f| f.trim_start_matches(['/', '\\']))
                    .filter(|f| !f.is_empty())
            });
        let file = own.or(file);
        let title = s.title.as_deref().unwrap_or("");
        // The root suite has no title: it is no group.
        let pushed = !title.is_empty();
        if pushed {
            groups.push(title.to_string());
        }
        let hooks_failed = |hooks: &[AwesomeTest]| {
            hooks
                .iter()
                .filter(|h| h.state.as_deref() == Some("failed"))
                .map(|h| h.title.as_deref().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        let failed_before = hooks_failed(&s.before_hooks);
        for h in s
            .before_hooks
            .iter()
            .filter(|h| h.state.as_deref() == Some("failed"))
        {
            let a = attempt(h, TestStatus::Failed, at, limits);
            self.tests
                .test(key(file, groups, h.title.as_deref()))
                .attempts
                .push(a);
        }
        for t in &s.tests {
            let status = match t.state.as_deref() {
                Some("passed") => TestStatus::Passed,
                Some("failed") if t.timed_out == Some(true) => TestStatus::TimedOut,
                Some("failed") => TestStatus::Failed,
                _ => TestStatus::Skipped,
            };
            let mut a = attempt(t, status, at, limits);
            if status == TestStatus::Skipped {
                let why = (t.state.is_none() || t.skipped == Some(true))
                    .then_some(if failed_before.is_empty() {
                        "not run"
                    } else {
                        "not run: a hook of its suite failed"
                    })
                    .filter(|_| t.pending != Some(true));
                a.annotations = Some(vec![skip_annotation(why)]);
            }
            self.tests
                .distinct(key(file, groups, t.title.as_deref()))
                .attempts
                .push(a);
        }
        for c in &s.suites {
            self.suite(c, file, groups, at, limits);
        }
        for h in s
            .after_hooks
            .iter()
            .filter(|h| h.state.as_deref() == Some("failed"))
        {
            let a = attempt(h, TestStatus::Failed, at, limits);
            self.tests
                .test(key(file, groups, h.title.as_deref()))
                .attempts
                .push(a);
        }
        if pushed {
            groups.pop();
        }
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        mocha_report(self.tests, self.span, self.version, meta, fallback_ms)
    }
}

/// Where a test of a suite belongs.
fn key(file: Option<&str>, groups: &[String], title: Option<&str>) -> Key {
    (
        file.map(|f| f.replace('\\', "/")),
        groups.to_vec(),
        title.unwrap_or("").to_string(),
    )
}

/// One mochawesome test's (or failed hook's) attempt.
fn attempt(t: &AwesomeTest, status: TestStatus, at: &mut f64, limits: &Limits) -> RunAttempt {
    let mut a = RunAttempt::with_status(status);
    a.start_timestamp = Some(UnixTimestampMs(*at));
    let duration = t.duration.filter(|d| d.is_finite() && *d >= 0.0);
    if status != TestStatus::Skipped {
        a.duration = duration.map(DurationMs);
        *at += duration.unwrap_or(0.0);
    }
    if matches!(status, TestStatus::Failed | TestStatus::TimedOut) {
        a.errors = Some(vec![error_of(t.err.as_ref(), limits)]);
    }
    a
}

crate::formats::reader!(MochawesomeCollector, MochawesomeCollector::into_report);
