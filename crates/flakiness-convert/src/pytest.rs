//! pytest outputs: pytest-reportlog JSON lines and pytest-json-report documents; and the
//! regrouping of pytest's junitxml suites by file and class.
//!
//! Every source gives a test the same identity (spec/convert-pytest.md): a `file` suite named
//! after the path part of the node id, one `suite` per class (nested classes nest), and the
//! rest of the node id, parameters included, as the title. Outcomes are mapped the same way
//! from every source; what a source does not carry is listed in the spec.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, Stream, Suite,
    Test, TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use serde_json::Value;

use crate::{inferred_annotation, offset_of, push_bounded, ConvertError, Limits, Metadata};

/// Annotation type of an expected failure (`xfail`), as Playwright writes `test.fail()`.
const XFAIL_ANNOTATION: &str = "fail";

/// Annotation type of a non-strict XPASS: a test marked xfail that passed (a pass).
const XPASS_ANNOTATION: &str = "xpass";

/// Markers that say how pytest runs a test, not what the test is: never tags (the official
/// reporter leaves out the same ones, and `skipif`, which takes arguments).
const NOT_TAGS: &[&str] = &[
    "pytestmark",
    "parametrize",
    "usefixtures",
    "filterwarnings",
    "skip",
    "skipif",
    "xfail",
];

/// The title of a test: the node id after its file, classes joined with `::` as pytest and
/// the official reporter write them (`TestClass::Inner::test_x[p]`).
fn test_title(classes: &[String], title: String) -> String {
    if classes.is_empty() {
        return title;
    }
    let mut t = classes.join("::");
    t.push_str("::");
    t.push_str(&title);
    t
}

/// The markers among a test's pytest `keywords` (reportlog's object keys, json-report's list,
/// in pytest's order: the test's own, then its classes', module's, directories'): every keyword
/// but the names of the nodes (the test, its parameter ids, classes, module and directories), the
/// session's empty name and the rootdir's name before it (pytest 8 lists the rootdir as a
/// directory), `root`'s last part when known, and the markers of [`NOT_TAGS`]. Each marker once,
/// in that order.
fn marker_tags<'a>(
    nodeid: &str,
    keywords: impl Iterator<Item = &'a str>,
    root: Option<&str>,
) -> Vec<String> {
    let keywords: Vec<&str> = keywords.collect();
    let (file, rest) = nodeid.split_once("::").unwrap_or((nodeid, ""));
    let mut names: Vec<&str> = file.split('/').collect();
    let (path, params) = match rest.find('[') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    names.extend(path.split("::"));
    // The test's own keyword is its name with its parameters; each parameter id is one too.
    let with_params = format!("{}{params}", path.rsplit("::").next().unwrap_or_default());
    names.push(&with_params);
    names.extend(params.strip_prefix('[').and_then(|p| p.strip_suffix(']')));
    names.extend(root.and_then(|r| r.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next()));
    let rootdir = match keywords.as_slice() {
        [.., rootdir, ""] => Some(*rootdir),
        _ => None,
    };
    let mut tags: Vec<String> = Vec::new();
    for k in keywords {
        if k.is_empty()
            || Some(k) == rootdir
            || names.contains(&k)
            || NOT_TAGS.contains(&k)
            || tags.iter().any(|t| t == k)
        {
            continue;
        }
        tags.push(k.to_string());
    }
    tags
}

/// Tests gathered from pytest reportlog or json-report files of one run.
#[derive(Debug, Default)]
pub struct PytestCollector {
    tests: Vec<PyTest>,
    by_nodeid: HashMap<String, usize>,
    unattributed: Vec<ReportError>,
    /// Earliest start and latest end seen, Unix ms.
    span: Option<(f64, f64)>,
    pytest_version: Option<String>,
    python_version: Option<String>,
}

/// One test (node id) and its finished attempts.
#[derive(Debug)]
struct PyTest {
    nodeid: String,
    /// 1-based line of the test's definition, when it is in the node id's file.
    line: Option<i64>,
    /// The markers pytest applied to the test, as tags (`None` until an input named them).
    tags: Option<Vec<String>>,
    attempts: Vec<RunAttempt>,
    /// Hashes of the captured sections and user properties the previous attempt ended with:
    /// pytest-rerunfailures keeps them on the item, so the next attempt's reports repeat them.
    prev_sections: Vec<u64>,
    prev_props: Vec<u64>,
    /// The attempt whose reports are being read (reportlog).
    open: Option<OpenAttempt>,
}

/// What an input says about one phase (setup, call, teardown) of an attempt.
#[derive(Debug, Default)]
struct Phase {
    when: When,
    outcome: Outcome,
    /// `Some` when the phase carries pytest's xfail mark (`wasxfail`); empty when the reason
    /// is unknown.
    wasxfail: Option<String>,
    /// The error of a failing (or xfailed) phase.
    error: Option<ReportError>,
    /// The skip reason and where the skip was raised.
    skip: Option<(Option<String>, Option<Location>)>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum When {
    Setup,
    #[default]
    Call,
    Teardown,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    #[default]
    Passed,
    Failed,
    Skipped,
    /// pytest-rerunfailures: a failure that will be retried.
    Rerun,
}

impl Outcome {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "passed" => Outcome::Passed,
            "failed" | "error" => Outcome::Failed,
            "skipped" => Outcome::Skipped,
            "rerun" => Outcome::Rerun,
            _ => return None,
        })
    }
}

/// A captured section (`Captured stdout call`…), its content bounded.
#[derive(Debug)]
struct Section {
    hash: u64,
    stream: Stream,
    text: String,
}

#[derive(Debug)]
struct Prop {
    hash: u64,
    name: String,
    value: String,
}

/// An attempt whose reports are being read.
#[derive(Debug, Default)]
struct OpenAttempt {
    rerun: Option<i64>,
    phases: Vec<Phase>,
    /// The sections and properties of the latest report (pytest accumulates them over the
    /// phases, so the latest holds all), and how many of them the previous attempt left.
    sections: Vec<Section>,
    carried_sections: usize,
    props: Vec<Prop>,
    carried_props: usize,
    start_ms: Option<f64>,
    stop_ms: Option<f64>,
    duration_ms: f64,
    worker: Option<i64>,
}

fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Seconds (as pytest writes them) to milliseconds, when finite and not negative.
fn secs_to_ms(v: Option<&Value>) -> Option<f64> {
    let ms = v?.as_f64()? * 1000.0;
    (ms.is_finite() && ms >= 0.0).then_some(ms)
}

fn bounded(text: &str, limits: &Limits) -> String {
    let mut s = String::new();
    push_bounded(&mut s, text, limits.max_output_bytes);
    s
}

/// The parts of a node id: file, classes, title (`a/b.py::C::D::t[x::y]` →
/// `a/b.py`, `[C, D]`, `t[x::y]`). Parameters may hold `::`.
pub(crate) fn split_nodeid(nodeid: &str) -> (String, Vec<String>, String) {
    let Some((file, rest)) = nodeid.split_once("::") else {
        return (String::new(), Vec::new(), nodeid.to_string());
    };
    let (names, params) = match rest.find('[') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut parts: Vec<String> = names.split("::").map(str::to_string).collect();
    let name = parts.pop().unwrap_or_default();
    (file.to_string(), parts, format!("{name}{params}"))
}

impl PytestCollector {
    fn test_index(&mut self, nodeid: &str) -> usize {
        if let Some(&i) = self.by_nodeid.get(nodeid) {
            return i;
        }
        let i = self.tests.len();
        self.tests.push(PyTest {
            nodeid: nodeid.to_string(),
            line: None,
            tags: None,
            attempts: Vec::new(),
            prev_sections: Vec::new(),
            prev_props: Vec::new(),
            open: None,
        });
        self.by_nodeid.insert(nodeid.to_string(), i);
        i
    }

    fn widen_span(&mut self, start: f64, end: f64) {
        let end = end.max(start);
        crate::times::widen(&mut self.span, start, end);
    }

    /// Reads one pytest-reportlog file (`--report-log`).
    pub fn read_reportlog(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let bom = if data.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut offset = bom;
        let mut records = 0usize;
        // Time used by the attempts read so far: start times when the reports carry none.
        let mut elapsed = 0.0f64;
        let fail = |offset: usize, message: String| {
            ConvertError::at(input, offset as u64, message).locate(data)
        };
        while offset < data.len() {
            let end = data[offset..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |i| offset + i);
            let line = &data[offset..end];
            let line_start = offset;
            offset = end + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: Value = serde_json::from_slice(line).map_err(|e| {
                let col = e.column().saturating_sub(1).min(line.len());
                fail(
                    line_start + col,
                    format!("not a pytest-reportlog line (malformed JSON: {e})"),
                )
            })?;
            let Some(obj) = value.as_object() else {
                return Err(fail(
                    line_start,
                    "not a pytest-reportlog line: not a JSON object".into(),
                ));
            };
            let kind = obj
                .get("$report_type")
                .or_else(|| obj.get("_report_type"))
                .and_then(Value::as_str);
            let Some(kind) = kind else {
                return Err(fail(
                    line_start,
                    "not a pytest-reportlog line: no \"$report_type\"".into(),
                ));
            };
            match kind {
                "SessionStart" => {
                    records += 1;
                    if let Some(v) = obj.get("pytest_version").and_then(Value::as_str) {
                        if self.pytest_version.is_none() && !v.trim().is_empty() {
                            self.pytest_version = Some(bounded(v.trim(), limits));
                        }
                    }
                }
                "SessionFinish" => records += 1,
                "CollectReport" => {
                    records += 1;
                    self.collect_report(&value, limits);
                }
                "TestReport" => {
                    records += 1;
                    self.test_report(&value, fallback_ms, &mut elapsed, limits)
                        .map_err(|m| fail(line_start, m))?;
                }
                // WarningMessage, SubTestReport and whatever later versions add.
                _ => {}
            }
        }
        if records == 0 {
            return Err(ConvertError::at_start(
                input,
                "not a pytest-reportlog file: no $report_type record found",
            ));
        }
        // Attempts the file ends inside of (an interrupted run).
        for i in 0..self.tests.len() {
            if self.tests[i].open.is_some() {
                self.finish_attempt(i, fallback_ms, &mut elapsed, false);
            }
        }
        Ok(())
    }

    fn collect_report(&mut self, v: &Value, limits: &Limits) {
        if v.get("outcome").and_then(Value::as_str) != Some("failed") {
            return;
        }
        let nodeid = v.get("nodeid").and_then(Value::as_str).unwrap_or("");
        let mut e =
            longrepr_error(v.get("longrepr").unwrap_or(&Value::Null), limits).unwrap_or_default();
        let what = e.message.take().unwrap_or_default();
        let mut message = String::new();
        push_bounded(
            &mut message,
            &format!("ERROR collecting {nodeid}: {what}"),
            limits.max_output_bytes,
        );
        e.message = Some(message.trim_end_matches([':', ' ']).to_string());
        self.unattributed.push(e);
    }

    fn test_report(
        &mut self,
        v: &Value,
        fallback_ms: f64,
        elapsed: &mut f64,
        limits: &Limits,
    ) -> Result<(), String> {
        let nodeid = v
            .get("nodeid")
            .and_then(Value::as_str)
            .ok_or("TestReport without a \"nodeid\"")?;
        // Anything else (pytest-xdist's `???` for a crashed worker) is taken as the call.
        let when = match v.get("when").and_then(Value::as_str) {
            Some("setup") => When::Setup,
            Some("teardown") => When::Teardown,
            _ => When::Call,
        };
        let outcome_str = v.get("outcome").and_then(Value::as_str).unwrap_or("");
        let outcome = Outcome::parse(outcome_str)
            .ok_or_else(|| format!("TestReport with an unknown \"outcome\": {outcome_str:?}"))?;
        let rerun = v.get("rerun").and_then(Value::as_i64);
        let i = self.test_index(nodeid);
        if self.tests[i].tags.is_none() {
            if let Some(keywords) = v.get("keywords").and_then(Value::as_object) {
                self.tests[i].tags = Some(marker_tags(
                    nodeid,
                    keywords.keys().map(String::as_str),
                    None,
                ));
            }
        }
        if self.tests[i].attempts.is_empty() && self.tests[i].open.is_none() {
            // The definition's line, when it is in the node id's own file (0-based here).
            let loc = v.get("location").and_then(Value::as_array);
            let file = split_nodeid(nodeid).0;
            if let Some(loc) = loc {
                let same_file = loc.first().and_then(Value::as_str) == Some(file.as_str());
                let line = loc.get(1).and_then(Value::as_i64);
                if let (true, Some(line)) = (same_file, line) {
                    self.tests[i].line = line.checked_add(1).filter(|l| *l > 0);
                }
            }
        }
        // A new attempt: a new setup, or another rerun number.
        let starts_new = self.tests[i].open.as_ref().is_some_and(|o| {
            (when == When::Setup && !o.phases.is_empty())
                || matches!((o.rerun, rerun), (Some(a), Some(b)) if a != b)
        });
        if starts_new {
            self.finish_attempt(i, fallback_ms, elapsed, false);
        }
        let sections = sections_of(v, limits);
        let props = props_of(v.get("user_properties"), limits);
        let test = &mut self.tests[i];
        let open = test.open.get_or_insert_with(|| {
            let carried = |prev: &[u64], now: &[u64]| {
                if !prev.is_empty() && now.starts_with(prev) {
                    prev.len()
                } else {
                    0
                }
            };
            let now_s: Vec<u64> = sections.iter().map(|s| s.hash).collect();
            let now_p: Vec<u64> = props.iter().map(|p| p.hash).collect();
            OpenAttempt {
                rerun,
                carried_sections: carried(&test.prev_sections, &now_s),
                carried_props: carried(&test.prev_props, &now_p),
                ..OpenAttempt::default()
            }
        });
        if sections.len() >= open.sections.len() {
            open.sections = sections;
        }
        if props.len() >= open.props.len() {
            open.props = props;
        }
        let start = secs_to_ms(v.get("start"));
        let stop = secs_to_ms(v.get("stop"));
        if open.start_ms.is_none() {
            open.start_ms = start;
        }
        if let Some(stop) = stop {
            open.stop_ms = Some(open.stop_ms.map_or(stop, |s: f64| s.max(stop)));
        }
        open.duration_ms += secs_to_ms(v.get("duration")).unwrap_or(0.0);
        if open.worker.is_none() {
            open.worker = v
                .get("worker_id")
                .and_then(Value::as_str)
                .and_then(|w| w.strip_prefix("gw"))
                .and_then(|n| n.parse().ok());
        }
        let longrepr = v.get("longrepr").unwrap_or(&Value::Null);
        let wasxfail = v
            .get("wasxfail")
            .map(|w| w.as_str().map_or_else(|| w.to_string(), str::to_string));
        open.phases.push(phase_of(
            when,
            outcome,
            wasxfail.map(|w| bounded(&w, limits)),
            longrepr,
            limits,
        ));
        if when == When::Teardown {
            self.finish_attempt(i, fallback_ms, elapsed, true);
        }
        Ok(())
    }

    fn finish_attempt(&mut self, i: usize, fallback_ms: f64, elapsed: &mut f64, complete: bool) {
        let Some(open) = self.tests[i].open.take() else {
            return;
        };
        // pytest measures each phase's duration with a precise clock: their sum is the
        // attempt's length; `stop - start` only when the durations are missing.
        let duration = match (open.start_ms, open.stop_ms) {
            (Some(s), Some(e)) if e >= s && open.duration_ms == 0.0 => e - s,
            _ => open.duration_ms,
        };
        let start = open.start_ms.unwrap_or(fallback_ms + *elapsed);
        *elapsed += duration;
        self.widen_span(start, start + duration);
        let test = &mut self.tests[i];
        test.prev_sections = open.sections.iter().map(|s| s.hash).collect();
        test.prev_props = open.props.iter().map(|p| p.hash).collect();
        let carried_s = open.carried_sections.min(open.sections.len());
        let carried_p = open.carried_props.min(open.props.len());
        let stdio: Vec<TimedStdioEntry> = open
            .sections
            .into_iter()
            .skip(carried_s)
            .filter(|s| !s.text.is_empty())
            .map(|s| TimedStdioEntry::text(s.stream, s.text))
            .collect();
        let props: Vec<(String, String)> = open
            .props
            .into_iter()
            .skip(carried_p)
            .map(|p| (p.name, p.value))
            .collect();
        let mut a = attempt_of(&open.phases, props, complete);
        a.start_timestamp = Some(UnixTimestampMs(start.max(0.0)));
        a.duration = Some(DurationMs(duration));
        a.stdio = (!stdio.is_empty()).then_some(stdio);
        a.parallel_index = open.worker;
        crate::push_attempt(&mut test.attempts, a);
    }

    /// Reads one pytest-json-report file (`--json-report`).
    pub fn read_json_report(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let skipped = data.len() - body.len();
        let doc: Value = serde_json::from_slice(body).map_err(|e| {
            let offset = skipped + offset_of(body, e.line(), e.column());
            ConvertError::at(
                input,
                offset as u64,
                format!("not a pytest-json-report file (malformed JSON: {e})"),
            )
            .locate(data)
        })?;
        let not_json_report = |what: &str| {
            ConvertError::at_start(input, &format!("not a pytest-json-report file: {what}"))
        };
        let Some(obj) = doc.as_object() else {
            return Err(not_json_report("the document is not a JSON object"));
        };
        let Some(tests) = obj.get("tests").and_then(Value::as_array) else {
            return Err(not_json_report(
                "no \"tests\" list (a --json-report-summary file holds no tests)",
            ));
        };
        let env = obj.get("environment");
        if self.pytest_version.is_none() {
            self.pytest_version = env
                .and_then(|e| e.get("Packages"))
                .and_then(|p| p.get("pytest"))
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .map(|v| bounded(v.trim(), limits));
        }
        if self.python_version.is_none() {
            self.python_version = env
                .and_then(|e| e.get("Python"))
                .and_then(Value::as_str)
                .filter(|v| !v.trim().is_empty())
                .map(|v| bounded(v.trim(), limits));
        }
        // `created` is written when the session ends; `duration` is the session's length.
        let total = secs_to_ms(obj.get("duration"));
        let created = secs_to_ms(obj.get("created"));
        let session_start = match (created, total) {
            (Some(c), Some(d)) if c >= d => c - d,
            (Some(c), None) => c,
            _ => fallback_ms,
        };
        let root = obj.get("root").and_then(Value::as_str).unwrap_or("");
        for c in obj
            .get("collectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.collect_report(c, limits);
        }
        let mut elapsed = 0.0;
        for (n, t) in tests.iter().enumerate() {
            let nodeid = t
                .get("nodeid")
                .and_then(Value::as_str)
                .ok_or_else(|| not_json_report(&format!("tests[{n}] has no \"nodeid\"")))?;
            let outcome = t.get("outcome").and_then(Value::as_str).unwrap_or("");
            let i = self.test_index(nodeid);
            if self.tests[i].tags.is_none() {
                if let Some(keywords) = t.get("keywords").and_then(Value::as_array) {
                    self.tests[i].tags = Some(marker_tags(
                        nodeid,
                        keywords.iter().filter_map(Value::as_str),
                        Some(root),
                    ));
                }
            }
            if self.tests[i].line.is_none() {
                self.tests[i].line = t
                    .get("lineno")
                    .and_then(Value::as_i64)
                    .and_then(|l| l.checked_add(1))
                    .filter(|l| *l > 0);
            }
            let mut phases = Vec::new();
            let mut stdio = Vec::new();
            let mut duration = 0.0;
            for (key, when) in [
                ("setup", When::Setup),
                ("call", When::Call),
                ("teardown", When::Teardown),
            ] {
                let Some(stage) = t.get(key).filter(|s| s.is_object()) else {
                    continue;
                };
                duration += secs_to_ms(stage.get("duration")).unwrap_or(0.0);
                let phase_outcome = stage
                    .get("outcome")
                    .and_then(Value::as_str)
                    .and_then(Outcome::parse)
                    .unwrap_or(Outcome::Passed);
                // json-report keeps no `wasxfail`: only the test's outcome says xfailed. The
                // reason survives in two cases: `xfail(run=False)` (longrepr `[NOTRUN] why`)
                // and `pytest.xfail("why")` (crash `_pytest.outcomes.XFailed: why`).
                let wasxfail = match (outcome, phase_outcome) {
                    ("xfailed", Outcome::Skipped) => Some(json_xfail_reason(stage, limits)),
                    ("xpassed", Outcome::Passed) if when == When::Call => Some(String::new()),
                    _ => None,
                };
                phases.push(json_phase(
                    when,
                    phase_outcome,
                    wasxfail,
                    stage,
                    root,
                    limits,
                ));
                for (field, stream) in [("stdout", Stream::Stdout), ("stderr", Stream::Stderr)] {
                    if let Some(s) = stage.get(field).and_then(Value::as_str) {
                        if !s.is_empty() {
                            stdio.push(TimedStdioEntry::text(stream, bounded(s, limits)));
                        }
                    }
                }
                if let Some(log) = stage.get("log").and_then(Value::as_array) {
                    let mut text = String::new();
                    for r in log {
                        push_bounded(&mut text, &log_line(r), limits.max_output_bytes);
                    }
                    if !text.is_empty() {
                        stdio.push(TimedStdioEntry::text(Stream::Stderr, text));
                    }
                }
            }
            let props = t
                .get("user_properties")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|m| m.iter())
                .map(|(k, v)| (bounded(k, limits), bounded(&value_text(v), limits)))
                .collect();
            let start = session_start + elapsed;
            elapsed += duration;
            let mut a = attempt_of(&phases, props, true);
            if matches!(outcome, "failed" | "error") && a.status() != TestStatus::Failed {
                a.status = Some(TestStatus::Failed);
                a.expected_status = None;
                a.errors
                    .get_or_insert_with(Vec::new)
                    .push(ReportError::message(format!(
                        "pytest-json-report gives the outcome {outcome:?}"
                    )));
            }
            a.start_timestamp = Some(UnixTimestampMs(start.max(0.0)));
            a.duration = Some(DurationMs(duration));
            a.stdio = (!stdio.is_empty()).then_some(stdio);
            let test = &mut self.tests[i];
            if outcome == "rerun" {
                // The test needed a rerun; json-report keeps only its last attempt. The failed
                // one stands for the attempts it dropped, with no error: none is known.
                let mut earlier = RunAttempt::with_status(TestStatus::Failed);
                earlier.start_timestamp = a.start_timestamp;
                earlier.annotations = Some(vec![inferred_annotation(
                    "pytest-rerunfailures reran this test: an earlier attempt failed; pytest-json-report keeps only the last attempt, so how many failed, and why, is not recorded",
                )]);
                crate::push_attempt(&mut test.attempts, earlier);
            }
            crate::push_attempt(&mut test.attempts, a);
        }
        let end = match total {
            Some(d) => session_start + d,
            None => session_start + elapsed,
        };
        self.widen_span(session_start, end);
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let mut tree = crate::tree::TestTree::default();
        let mut loose = Vec::new();
        for t in self.tests {
            let (file, classes, title) = split_nodeid(&t.nodeid);
            let mut test = Test::new(test_title(&classes, title));
            test.attempts = t.attempts;
            test.tags = t.tags.filter(|tags| !tags.is_empty());
            if file.is_empty() {
                loose.push(test);
                continue;
            }
            if let Some(line) = t.line {
                test.location = Some(Location::new(file.clone(), line, 1));
            }
            tree.add((Some(file.clone()), Vec::new(), test.title.clone()), test);
        }
        let (start, total) = match self.span {
            Some((s, e)) => (s, e - s),
            None => (fallback_ms, 0.0),
        };
        let mut report = crate::build_report(
            tree.into_suites().0,
            loose,
            self.unattributed,
            start,
            total,
            meta,
        );
        report.test_runner = Some(NamedVersion {
            name: "pytest".into(),
            version: self.pytest_version.unwrap_or_else(|| "unknown".into()),
            ..Default::default()
        });
        report.runtime = self.python_version.map(|v| NamedVersion {
            name: "python".into(),
            version: v,
            ..Default::default()
        });
        report
    }
}

/// A JSON value as text: strings as they are, anything else as JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One logging record of json-report as pytest's default log format prints it.
fn log_line(r: &Value) -> String {
    let get = |k: &str| r.get(k).map(value_text).unwrap_or_default();
    format!(
        "{:<8} {}:{}:{} {}\n",
        get("levelname"),
        get("name"),
        get("filename"),
        get("lineno"),
        get("msg")
    )
}

/// The captured sections of a reportlog TestReport.
fn sections_of(v: &Value, limits: &Limits) -> Vec<Section> {
    let Some(list) = v.get("sections").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let pair = s.as_array()?;
            let name = pair.first()?.as_str()?;
            let content = pair.get(1).and_then(Value::as_str).unwrap_or("");
            // `Captured stdout call`, `Captured stderr setup`, `Captured log teardown`…
            let kind = name.split_whitespace().nth(1).unwrap_or("");
            let stream = if kind == "stderr" || kind == "log" {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            // Each section is a block of its own (log sections lack the final newline).
            let mut text = bounded(content, limits);
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            Some(Section {
                hash: hash_of(&(name, content)),
                stream,
                text,
            })
        })
        .collect()
}

/// reportlog `user_properties`: `[[name, value], …]`.
fn props_of(v: Option<&Value>, limits: &Limits) -> Vec<Prop> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let pair = p.as_array()?;
            let name = value_text(pair.first()?);
            let value = pair.get(1).map(value_text).unwrap_or_default();
            Some(Prop {
                hash: hash_of(&(name.as_str(), value.as_str())),
                name: bounded(&name, limits),
                value: bounded(&value, limits),
            })
        })
        .collect()
}

fn phase_of(
    when: When,
    outcome: Outcome,
    wasxfail: Option<String>,
    longrepr: &Value,
    limits: &Limits,
) -> Phase {
    let mut phase = Phase {
        when,
        outcome,
        wasxfail,
        ..Phase::default()
    };
    match (outcome, &phase.wasxfail) {
        (Outcome::Skipped, None) => phase.skip = Some(skip_of(longrepr, limits)),
        (Outcome::Failed | Outcome::Rerun, _) | (Outcome::Skipped, Some(_)) => {
            phase.error = longrepr_error(longrepr, limits);
        }
        _ => {}
    }
    phase
}

/// What json-report still tells of an xfail's reason (empty when nothing).
fn json_xfail_reason(stage: &Value, limits: &Limits) -> String {
    let longrepr = stage.get("longrepr").and_then(Value::as_str).unwrap_or("");
    if longrepr.starts_with("[NOTRUN]") {
        return bounded(longrepr, limits);
    }
    stage
        .get("crash")
        .and_then(|c| c.get("message"))
        .and_then(Value::as_str)
        .and_then(|m| m.strip_prefix("_pytest.outcomes.XFailed: "))
        .map(|r| bounded(r, limits))
        .unwrap_or_default()
}

/// A json-report stage as a phase.
fn json_phase(
    when: When,
    outcome: Outcome,
    wasxfail: Option<String>,
    stage: &Value,
    root: &str,
    limits: &Limits,
) -> Phase {
    let longrepr = stage.get("longrepr").and_then(Value::as_str).unwrap_or("");
    let mut phase = Phase {
        when,
        outcome,
        wasxfail,
        ..Phase::default()
    };
    match (outcome, &phase.wasxfail) {
        (Outcome::Skipped, None) => {
            phase.skip = Some(match parse_skip_tuple(longrepr) {
                Some((path, line, reason)) => skip_parts(&path, line, &reason, limits),
                None => (
                    (!longrepr.is_empty()).then(|| bounded(longrepr, limits)),
                    None,
                ),
            });
        }
        (Outcome::Failed | Outcome::Rerun, _) | (Outcome::Skipped, Some(_)) => {
            let mut e = text_error(longrepr, limits);
            if let Some(crash) = stage.get("crash") {
                if let Some(m) = crash.get("message").and_then(Value::as_str) {
                    e.message = Some(bounded(m, limits));
                }
                let last = stage
                    .get("traceback")
                    .and_then(Value::as_array)
                    .and_then(|t| t.last());
                e.location = crash_location(crash, last, root);
            }
            if e.message.is_none() && e.stack.is_none() {
                e.message = Some(format!("{} failed", when_name(when)));
            }
            phase.error = Some(e);
        }
        _ => {}
    }
    phase
}

fn when_name(when: When) -> &'static str {
    match when {
        When::Setup => "setup",
        When::Call => "call",
        When::Teardown => "teardown",
    }
}

/// The attempt the phases of one run of a test make (see the outcome table of the spec).
fn attempt_of(phases: &[Phase], props: Vec<(String, String)>, complete: bool) -> RunAttempt {
    let failed = phases
        .iter()
        .any(|p| matches!(p.outcome, Outcome::Failed | Outcome::Rerun));
    let xfail = phases
        .iter()
        .find(|p| p.wasxfail.is_some() && p.outcome != Outcome::Passed);
    let xpass = phases
        .iter()
        .find(|p| p.wasxfail.is_some() && p.outcome == Outcome::Passed);
    let skip = phases.iter().find_map(|p| p.skip.as_ref());
    let mut a = RunAttempt::default();
    let mut annotations = Vec::new();
    let mut errors: Vec<ReportError> = Vec::new();
    let reason = |p: &Phase| p.wasxfail.clone().filter(|r| !r.is_empty());
    let notrun = |p: &Phase| {
        p.wasxfail
            .as_deref()
            .is_some_and(|r| r.starts_with("[NOTRUN]"))
    };
    if failed {
        a.status = Some(TestStatus::Failed);
    } else if let Some(p) = xfail {
        annotations.push(Annotation {
            kind: XFAIL_ANNOTATION.into(),
            description: reason(p),
            ..Default::default()
        });
        if notrun(p) {
            // `xfail(run=False)`: never run.
            a.status = Some(TestStatus::Skipped);
            annotations.push(Annotation {
                kind: "skip".into(),
                description: reason(p),
                ..Default::default()
            });
        } else {
            a.status = Some(TestStatus::Failed);
            a.expected_status = Some(TestStatus::Failed);
        }
    } else if let Some(p) = xpass {
        // Non-strict XPASS: pytest counts it as a pass, and its junitxml writes it as one;
        // the annotation keeps that it was marked xfail (spec/convert-pytest.md §2).
        a.status = Some(TestStatus::Passed);
        annotations.push(Annotation {
            kind: XPASS_ANNOTATION.into(),
            description: reason(p),
            ..Default::default()
        });
    } else if let Some((reason, location)) = skip {
        a.status = Some(TestStatus::Skipped);
        annotations.push(Annotation {
            kind: "skip".into(),
            description: reason.clone(),
            location: location.clone(),
            ..Default::default()
        });
    } else if !complete {
        a.status = Some(TestStatus::Interrupted);
        errors.push(ReportError::message(
            "the input ends before this attempt's teardown: the run was interrupted",
        ));
    } else {
        a.status = Some(TestStatus::Passed);
    }
    for p in phases {
        let counts = matches!(p.outcome, Outcome::Failed | Outcome::Rerun)
            || (p.wasxfail.is_some() && p.outcome == Outcome::Skipped && !notrun(p));
        if counts {
            let mut e = p
                .error
                .clone()
                .unwrap_or_else(|| ReportError::message(format!("{} failed", when_name(p.when))));
            if p.when != When::Call {
                let prefix = format!("error in {}: ", when_name(p.when));
                e.message = Some(match e.message {
                    Some(m) => format!("{prefix}{m}"),
                    None => prefix.trim_end_matches([':', ' ']).to_string(),
                });
            }
            errors.push(e);
        }
    }
    annotations.extend(props.into_iter().map(|(k, v)| Annotation {
        kind: k,
        description: (!v.is_empty()).then_some(v),
        ..Default::default()
    }));
    a.annotations = (!annotations.is_empty()).then_some(annotations);
    a.errors = (!errors.is_empty()).then_some(errors);
    a
}

/// The skip reason and location of a skipped phase's longrepr `[path, line, "Skipped: why"]`.
fn skip_of(longrepr: &Value, limits: &Limits) -> (Option<String>, Option<Location>) {
    match longrepr {
        Value::Array(parts) => {
            let path = parts.first().and_then(Value::as_str).unwrap_or("");
            let line = parts.get(1).and_then(Value::as_i64);
            let reason = parts.get(2).map(value_text).unwrap_or_default();
            skip_parts(path, line, &reason, limits)
        }
        Value::String(s) => (Some(bounded(strip_skipped(s), limits)), None),
        _ => (None, None),
    }
}

fn strip_skipped(reason: &str) -> &str {
    reason.strip_prefix("Skipped: ").unwrap_or(reason)
}

fn skip_parts(
    path: &str,
    line: Option<i64>,
    reason: &str,
    limits: &Limits,
) -> (Option<String>, Option<Location>) {
    let reason = strip_skipped(reason);
    let location = match (path.is_empty(), line) {
        (false, Some(l)) => Some(Location::new(bounded(path, limits), l, 1)),
        _ => None,
    };
    (
        (!reason.is_empty()).then(|| bounded(reason, limits)),
        location,
    )
}

/// json-report writes a skip's longrepr as Python's repr of the tuple:
/// `('/path/t.py', 17, 'Skipped: why')`.
fn parse_skip_tuple(s: &str) -> Option<(String, Option<i64>, String)> {
    let s = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    let (path, rest) = py_str(s.trim_start())?;
    let rest = rest.trim_start().strip_prefix(',')?.trim_start();
    let comma = rest.find(',')?;
    let line = rest[..comma].trim().parse().ok();
    let (reason, tail) = py_str(rest[comma + 1..].trim_start())?;
    tail.trim().is_empty().then_some((path, line, reason))
}

/// A Python string literal (`'…'` or `"…"`) at the start of `s`: its value and what follows.
fn py_str(s: &str) -> Option<(String, &str)> {
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Some((out, &s[1 + i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        for _ in 0..n {
                            hex.push(chars.next()?.1);
                        }
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// The error a reportlog longrepr describes: the crash message, the rendered traceback as the
/// stack, and the crash location.
fn longrepr_error(v: &Value, limits: &Limits) -> Option<ReportError> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(text_error(s, limits)),
        Value::Array(parts) => {
            let reason = parts.get(2).map(value_text).unwrap_or_default();
            let (message, location) = skip_parts(
                parts.first().and_then(Value::as_str).unwrap_or(""),
                parts.get(1).and_then(Value::as_i64),
                &reason,
                limits,
            );
            Some(ReportError {
                message,
                location,
                ..Default::default()
            })
        }
        Value::Object(o) => {
            let mut stack = String::new();
            render_longrepr(v, &mut stack, limits.max_output_bytes);
            let stack = stack.trim();
            let crash = o.get("reprcrash").filter(|c| c.is_object());
            let last_entry = o
                .get("reprtraceback")
                .and_then(|t| t.get("reprentries"))
                .and_then(Value::as_array)
                .and_then(|e| e.last())
                .and_then(|e| e.get("data"))
                .and_then(|d| d.get("reprfileloc"));
            let mut e = text_error(stack, limits);
            if let Some(crash) = crash {
                if let Some(m) = crash.get("message").and_then(Value::as_str) {
                    e.message = Some(bounded(m, limits));
                }
                e.location = crash_location(crash, last_entry, "");
            }
            if e.message.is_none() && e.stack.is_none() {
                e.message = Some(bounded(&v.to_string(), limits));
            }
            Some(e)
        }
        other => Some(ReportError::message(bounded(&other.to_string(), limits))),
    }
}

/// An error from longrepr text: the message is the last `E   ` line (what pytest marks as the
/// exception) or the first line; the stack is the text when it has more than one line.
fn text_error(text: &str, limits: &Limits) -> ReportError {
    let text = text.trim();
    if text.is_empty() {
        return ReportError::default();
    }
    let marked = text
        .lines()
        .rev()
        .find(|l| l.starts_with("E "))
        .map(|l| l[1..].trim());
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let message = marked.or(first).unwrap_or(text);
    ReportError {
        message: Some(bounded(message, limits)),
        stack: text.contains('\n').then(|| bounded(text, limits)),
        ..Default::default()
    }
}

/// The crash location (`lineno` is 1-based). pytest writes the crash path absolute; when the
/// last traceback entry names the same file relative to where pytest ran, that relative path
/// is used (else the json-report `root` is stripped).
fn crash_location(crash: &Value, last: Option<&Value>, root: &str) -> Option<Location> {
    let path = crash.get("path").and_then(Value::as_str)?;
    let line = crash.get("lineno").and_then(Value::as_i64)?;
    let mut file = path.to_string();
    let rel = last
        .and_then(|l| l.get("path"))
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty() && !r.starts_with('/'));
    if let Some(rel) = rel {
        let rel_posix = rel.replace('\\', "/");
        let path_posix = path.replace('\\', "/");
        if path_posix.ends_with(&format!("/{rel_posix}")) {
            file = rel_posix;
        }
    }
    if file == path && !root.is_empty() {
        if let Some(r) = path
            .strip_prefix(root)
            .and_then(|r| r.strip_prefix(['/', '\\']))
        {
            file = r.replace('\\', "/");
        }
    }
    if file.len() > 4096 {
        return None;
    }
    Some(Location::new(file, line, 1))
}

/// Renders a serialized `ReprExceptionInfo` / `ExceptionChainRepr` the way pytest prints it
/// (`longreprtext`), bounded by `limit` bytes.
fn render_longrepr(v: &Value, out: &mut String, limit: usize) {
    let chain = v.get("chain").and_then(Value::as_array);
    match chain {
        Some(chain) if !chain.is_empty() => {
            for element in chain {
                let Some(parts) = element.as_array() else {
                    continue;
                };
                if let Some(tb) = parts.first() {
                    render_traceback(tb, out, limit);
                }
                if let Some(descr) = parts.get(2).and_then(Value::as_str) {
                    push_line(out, "", limit);
                    push_line(out, descr, limit);
                }
            }
        }
        _ => {
            if let Some(tb) = v.get("reprtraceback") {
                render_traceback(tb, out, limit);
            }
        }
    }
}

fn push_line(out: &mut String, line: &str, limit: usize) {
    push_bounded(out, line, limit);
    push_bounded(out, "\n", limit);
}

fn render_traceback(tb: &Value, out: &mut String, limit: usize) {
    let empty = Vec::new();
    let entries = tb
        .get("reprentries")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let style_of = |e: &Value| {
        e.get("data")
            .and_then(|d| d.get("style"))
            .or_else(|| tb.get("style"))
            .and_then(Value::as_str)
            .unwrap_or("long")
            .to_string()
    };
    for (i, entry) in entries.iter().enumerate() {
        let data = entry.get("data").unwrap_or(&Value::Null);
        let style = style_of(entry);
        let lines: Vec<&str> = data
            .get("lines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if entry.get("type").and_then(Value::as_str) == Some("ReprEntryNative") {
            for l in &lines {
                push_bounded(out, l, limit);
            }
            continue;
        }
        let fileloc = data.get("reprfileloc").filter(|f| f.is_object()).map(|f| {
            let msg = f.get("message").and_then(Value::as_str).unwrap_or("");
            format!(
                "{}:{}: {}",
                f.get("path").and_then(Value::as_str).unwrap_or(""),
                f.get("lineno").map(value_text).unwrap_or_default(),
                msg.lines().next().unwrap_or("")
            )
        });
        if style == "short" {
            if let Some(f) = &fileloc {
                push_line(out, f, limit);
            }
            for l in &lines {
                push_line(out, l, limit);
            }
        } else {
            if style == "long" {
                push_line(out, "", limit);
            }
            let args = data
                .get("reprfuncargs")
                .and_then(|a| a.get("args"))
                .and_then(Value::as_array);
            let args: Vec<String> = args
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    let a = a.as_array()?;
                    Some(format!(
                        "{} = {}",
                        a.first().map(value_text).unwrap_or_default(),
                        a.get(1).map(value_text).unwrap_or_default()
                    ))
                })
                .collect();
            if !args.is_empty() {
                for a in &args {
                    push_line(out, a, limit);
                }
                push_line(out, "", limit);
            }
            for l in &lines {
                push_line(out, l, limit);
            }
            let locals = data
                .get("reprlocals")
                .and_then(|l| l.get("lines"))
                .and_then(Value::as_array);
            if let Some(locals) = locals {
                push_line(out, "", limit);
                for l in locals.iter().filter_map(Value::as_str) {
                    push_line(out, l, limit);
                }
            }
            if let Some(f) = &fileloc {
                if !lines.is_empty() {
                    push_line(out, "", limit);
                }
                push_line(out, f, limit);
            }
        }
        let next_long = entries.get(i + 1).is_some_and(|n| style_of(n) == "long");
        if i + 1 < entries.len() && (style == "long" || style == "short" && next_long) {
            push_line(out, "_ ".repeat(40).trim_end(), limit);
        }
    }
    if let Some(extra) = tb.get("extraline").and_then(Value::as_str) {
        push_line(out, extra, limit);
    }
}

/// Where a junitxml `classname` puts a test: its file and classes.
///
/// pytest writes the classname as the node id's path with `/` turned into `.` and `.py`
/// dropped, followed by the classes. With a file (xunit1's `file` attribute) whose dotted form
/// starts the classname, the rest are the classes. Otherwise (xunit2) the classes are the
/// trailing parts that start with an upper-case letter (pytest collects classes named `Test*`),
/// and the file is the rest with `/` and `.py`.
fn junit_identity(classname: &str, file: Option<&str>) -> (String, Vec<String>, bool) {
    if let Some(file) = file.filter(|f| !f.is_empty()) {
        let posix = file.replace('\\', "/");
        let module = posix
            .strip_suffix(".py")
            .unwrap_or(&posix)
            .replace('/', ".");
        if classname == module {
            return (posix, Vec::new(), true);
        }
        if let Some(rest) = classname
            .strip_prefix(module.as_str())
            .and_then(|r| r.strip_prefix('.'))
        {
            return (posix, rest.split('.').map(str::to_string).collect(), true);
        }
    }
    let parts: Vec<&str> = classname.split('.').collect();
    let module_len = parts
        .iter()
        .rposition(|p| !p.starts_with(|c: char| c.is_ascii_uppercase()))
        .map_or(1, |i| i + 1)
        .min(parts.len());
    let file = format!("{}.py", parts[..module_len].join("/"));
    let classes = parts[module_len..].iter().map(|s| s.to_string()).collect();
    (file, classes, false)
}

/// junitxml writes a teardown error that follows a failure as a testcase of its own (with an
/// `<error message="failed on teardown with …">`): it belongs to the failed run before it.
fn merge_teardown_errors(attempts: &mut Vec<RunAttempt>) {
    let teardown_only = |a: &RunAttempt| {
        a.errors.as_ref().is_some_and(|e| {
            !e.is_empty()
                && e.iter().all(|e| {
                    e.message
                        .as_deref()
                        .is_some_and(|m| m.starts_with("failed on teardown with "))
                })
        })
    };
    // A failure with an error of its own: not one the JUnit reader inferred for a rerun (it
    // has none).
    let real_failure = |a: &RunAttempt| {
        matches!(a.status(), TestStatus::Failed | TestStatus::TimedOut)
            && a.errors.as_ref().is_some_and(|e| !e.is_empty())
    };
    let mut out: Vec<RunAttempt> = Vec::with_capacity(attempts.len());
    for a in attempts.drain(..) {
        match out.last_mut() {
            Some(prev) if teardown_only(&a) && real_failure(prev) && !teardown_only(prev) => {
                prev.errors
                    .get_or_insert_with(Vec::new)
                    .extend(a.errors.into_iter().flatten());
                for an in a.annotations.into_iter().flatten() {
                    let list = prev.annotations.get_or_insert_with(Vec::new);
                    if !list.contains(&an) {
                        list.push(an);
                    }
                }
                if let Some(d) = a.duration {
                    prev.duration = Some(DurationMs(prev.duration.map_or(0.0, |p| p.0) + d.0));
                }
            }
            _ => out.push(a),
        }
    }
    *attempts = out;
}

/// Regroups the suites of a pytest junitxml document so that its tests get the identity the
/// other pytest sources give them.
pub(crate) fn regroup_junit(suites: Vec<Suite>) -> Vec<Suite> {
    let mut tree = crate::tree::TestTree::default();
    let mut kept = Vec::new();
    for mut root in suites {
        // Tests right in the `<testsuite>` have no classname of their own: kept where they are.
        let direct = root.tests.take();
        let mut stack: Vec<Suite> = root.suites.take().unwrap_or_default();
        stack.reverse();
        while let Some(mut s) = stack.pop() {
            if let Some(children) = s.suites.take() {
                stack.extend(children.into_iter().rev());
            }
            for mut test in s.tests.take().unwrap_or_default() {
                let file = test.location.as_ref().map(|l| l.file.as_str());
                let (file, classes, located) = junit_identity(&s.title, file);
                // junitxml writes xunit1's `line` 0-based, as pytest's own location.
                test.location = match test.location.take() {
                    Some(l) if located && l.column > 0 => {
                        Some(Location::new(file.clone(), l.line.saturating_add(1), 1))
                    }
                    _ => None,
                };
                test.title = test_title(&classes, test.title);
                merge_teardown_errors(&mut test.attempts);
                tree.add((Some(file.clone()), Vec::new(), test.title.clone()), test);
            }
        }
        if direct.is_some() {
            root.tests = direct;
            kept.push(root);
        }
    }
    let mut out = tree.into_suites().0;
    out.extend(kept);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodeids_split_into_file_classes_title() {
        assert_eq!(
            split_nodeid("tests/a.py::TestA::TestB::test_x[1-a::b[c]]"),
            (
                "tests/a.py".to_string(),
                vec!["TestA".to_string(), "TestB".to_string()],
                "test_x[1-a::b[c]]".to_string()
            )
        );
        assert_eq!(
            split_nodeid("a.py::t"),
            ("a.py".to_string(), vec![], "t".to_string())
        );
        assert_eq!(split_nodeid("odd"), (String::new(), vec![], "odd".into()));
        let deep = format!("a.py::{}t", "C::".repeat(100));
        let (_, classes, title) = split_nodeid(&deep);
        assert_eq!(test_title(&classes, title), deep["a.py::".len()..]);
    }

    #[test]
    fn junit_classnames_map_to_files_and_classes() {
        assert_eq!(
            junit_identity("tests.test_basic.TestMath", Some("tests/test_basic.py")),
            ("tests/test_basic.py".into(), vec!["TestMath".into()], true)
        );
        assert_eq!(
            junit_identity("tests.test_basic.TestMath.TestIn", None),
            (
                "tests/test_basic.py".into(),
                vec!["TestMath".into(), "TestIn".into()],
                false
            )
        );
        assert_eq!(
            junit_identity("tests.test_basic", None),
            ("tests/test_basic.py".into(), vec![], false)
        );
        // A definition in another file than the node id's (an inherited test).
        assert_eq!(
            junit_identity("tests.test_b.TestB", Some("tests/base.py")),
            ("tests/test_b.py".into(), vec!["TestB".into()], false)
        );
        assert_eq!(junit_identity("", None), (".py".into(), vec![], false));
    }

    #[test]
    fn python_tuple_reprs_parse() {
        assert_eq!(
            parse_skip_tuple("('/p/t.py', 17, 'Skipped: it\\'s \"x\"\\n')"),
            Some(("/p/t.py".into(), Some(17), "Skipped: it's \"x\"\n".into()))
        );
        assert_eq!(
            parse_skip_tuple("(\"/p/it's.py\", None, 'Skipped: \\xe9')"),
            Some(("/p/it's.py".into(), None, "Skipped: é".into()))
        );
        assert_eq!(parse_skip_tuple("not a tuple"), None);
        assert_eq!(parse_skip_tuple("('unterminated"), None);
    }
}
