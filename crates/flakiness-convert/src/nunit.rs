//! NUnit's result XML: NUnit 3's `<test-run>` (`nunit3-console --result`, NUnit3TestAdapter,
//! NunitXml.TestLogger, pytest-nunit) and NUnit 2.x's `<test-results>`. The whole mapping is
//! in spec/convert-nunit.md; in short:
//!
//! | Input | Report |
//! |---|---|
//! | `test-suite` `Assembly` (its file name), `TestSuite`/`Namespace` (one per namespace part), `TestFixture`, `ParameterizedFixture`, `GenericFixture` | nested `suite`s titled with `name` |
//! | `test-suite` `ParameterizedMethod`, `Theory`, `GenericMethod`, `ParameterizedTest` (2.x), `SetUpFixture`, `Test Project` (2.x) | no suite of their own: their cases are tests of the enclosing suite |
//! | `test-case name` (2.x and pytest-nunit write the full name: the enclosing fixture's full name is cut off) | a test |
//! | `result` / `label` | the status (see `outcome`) |
//! | `failure` (`message`, `stack-trace`), `assertions/assertion` | errors: one per failed assertion, else the failure |
//! | `reason/message` | the `skip`, `inconclusive` or `warning` annotation's text |
//! | `output` | stdout |
//! | `properties` (`Category` → tags, `Description`, others), 2.x `categories` and `description` | tags and annotations |
//! | `attachments/attachment` (`filePath`, `description`) | attachments |
//! | a suite's own `failure` (`site="SetUp"` / `"TearDown"`; 2.x: any suite `failure`) | its failed children's error; a test [`SETUP_FAILED_TITLE`] / [`TEARDOWN_FAILED_TITLE`] when no child took it |
//! | the same suites and test again (another document, another run) | another attempt, ordered by start |

use std::collections::HashMap;
use std::path::PathBuf;

use flakiness_report::{
    Annotation, Attachment, DurationMs, NamedVersion, Report, ReportError, RunAttempt, Stream,
    Suite, Test, TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use quick_xml::events::{BytesStart, Event};

use crate::attachments::{AttachmentFolder, Resolved};
use crate::junit::attrs;
use crate::tree::TestTree;
use crate::xmldoc::xml_body;
use crate::{
    inferred_annotation, push_bounded, AttachmentSource, ConvertError, ConvertWarning, Limits,
    Metadata, MAX_XML_DEPTH,
};

/// The default category of NUnit reports (and so the environment's name).
pub(crate) const CATEGORY: &str = "nunit";

/// Title of the test standing for a fixture's `OneTimeSetUp` (2.x `TestFixtureSetUp`) failure
/// that no test of the fixture carries.
pub const SETUP_FAILED_TITLE: &str = "[OneTimeSetUp]";
/// Title of the test standing for a fixture's `OneTimeTearDown` (2.x `TestFixtureTearDown`)
/// failure.
pub const TEARDOWN_FAILED_TITLE: &str = "[OneTimeTearDown]";

/// Durations past this (three centuries) are not believed: sums of them stay finite.
const MAX_DURATION_MS: f64 = 1e13;

/// Suite types that are no level of the report: their cases belong to the enclosing suite.
const TRANSPARENT: &[&str] = &[
    "ParameterizedMethod",
    "Theory",
    "GenericMethod",
    "ParameterizedTest",
    "SetUpFixture",
    "Test Project",
];

/// Properties that are not the test's own facts: NUnit's internal ones start with `_`;
/// pytest-nunit writes these two on every test.
const DROPPED_PROPERTIES: &[&str] = &["python-version", "fspath"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// NUnit 3's `<test-run>`.
    V3,
    /// NUnit 2.x's `<test-results>`.
    V2,
}

/// An element whose text is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Message,
    StackTrace,
    Output,
    FilePath,
    Description,
}

impl Piece {
    fn of(tag: &[u8]) -> Option<Self> {
        Some(match tag {
            b"message" => Piece::Message,
            b"stack-trace" => Piece::StackTrace,
            b"output" => Piece::Output,
            b"filePath" => Piece::FilePath,
            b"description" => Piece::Description,
            _ => return None,
        })
    }
}

/// The element a `message` or `stack-trace` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Failure,
    Reason,
    Assertion,
    Attachment,
}

/// A `message` and a `stack-trace`.
#[derive(Debug, Clone, Default)]
struct Failure {
    message: String,
    stack: String,
}

impl Failure {
    fn is_empty(&self) -> bool {
        self.message.trim().is_empty() && self.stack.trim().is_empty()
    }

    fn error(&self) -> ReportError {
        let message = self.message.trim_end();
        let stack = self.stack.trim_end();
        ReportError {
            message: (!message.trim().is_empty()).then(|| message.to_string()),
            stack: (!stack.trim().is_empty() && stack != "None").then(|| stack.to_string()),
            ..Default::default()
        }
    }
}

/// What a suite and a test case both hold.
#[derive(Debug, Default)]
struct Body {
    failure: Option<Failure>,
    reason: Option<String>,
    output: String,
    tags: Vec<String>,
    properties: Vec<(String, String)>,
}

/// An open `test-suite`.
#[derive(Debug, Default)]
struct OpenSuite {
    kind: String,
    name: String,
    /// The title of its report suite; `None` for the transparent types.
    title: Option<String>,
    /// Its full name (`fullname`, or made of the names of the suites around it for 2.x).
    full: String,
    site: Option<String>,
    result: String,
    body: Body,
    /// Whether a test case took its own failure.
    failure_used: bool,
}

/// An open `test-case`.
#[derive(Debug, Default)]
struct Case {
    name: String,
    result: String,
    label: String,
    site: Option<String>,
    description: Option<String>,
    start_ms: Option<f64>,
    duration_ms: Option<f64>,
    body: Body,
    /// (result, message and stack) of each `assertion`.
    assertions: Vec<(String, Failure)>,
    /// (`filePath`, `description`, byte offset) of each `attachment`.
    attachments: Vec<(String, String, u64)>,
}

/// The annotation `kind` with `text`, if any.
fn note(kind: &str, text: Option<&str>) -> Annotation {
    Annotation {
        kind: kind.into(),
        description: text
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        ..Default::default()
    }
}

fn seconds_ms(value: Option<&str>) -> Option<f64> {
    crate::parse_duration_secs(value?.trim())
        .map(|s| s * 1000.0)
        .filter(|ms| ms.is_finite() && *ms >= 0.0 && *ms < MAX_DURATION_MS)
}

fn time_ms(value: Option<&str>) -> Option<f64> {
    value
        .and_then(crate::parse_timestamp_ms)
        .filter(|ms| *ms > 0.0)
}

/// The status and annotations of a test case's `result` and `label`.
fn outcome(case: &Case) -> (TestStatus, Vec<Annotation>) {
    let label = case.label.trim();
    let reason = case
        .body
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| {
            case.body
                .properties
                .iter()
                .find(|(k, _)| k == "_SKIPREASON")
                .map(|(_, v)| v.as_str())
                .filter(|r| !r.trim().is_empty())
        });
    match case.result.trim() {
        "Passed" | "Success" => (TestStatus::Passed, Vec::new()),
        "Warning" => {
            let mut notes: Vec<Annotation> = case
                .assertions
                .iter()
                .filter(|(r, _)| r == "Warning")
                .map(|(_, f)| note("warning", Some(&f.message)))
                .collect();
            if notes.is_empty() {
                notes.push(note("warning", reason));
            }
            (TestStatus::Passed, notes)
        }
        "Inconclusive" => (TestStatus::Skipped, vec![note("inconclusive", reason)]),
        "Skipped" | "Ignored" => {
            // pytest-nunit writes a skip's reason as a failure message.
            let reason = reason.or_else(|| {
                case.body
                    .failure
                    .as_ref()
                    .map(|f| f.message.as_str())
                    .filter(|m| !m.trim().is_empty())
            });
            let text = match (label, reason) {
                ("Explicit" | "Invalid", Some(r)) => Some(format!("{label}: {}", r.trim())),
                ("" | "Ignored", Some(r)) => Some(r.to_string()),
                (_, Some(r)) => Some(r.to_string()),
                ("", None) => None,
                (l, None) => Some(l.to_string()),
            };
            (TestStatus::Skipped, vec![note("skip", text.as_deref())])
        }
        "Cancelled" => (TestStatus::Interrupted, Vec::new()),
        "Failed" if label.eq_ignore_ascii_case("Cancelled") => {
            (TestStatus::Interrupted, Vec::new())
        }
        "Failed" if label.to_ascii_lowercase().contains("timeout") => {
            (TestStatus::TimedOut, Vec::new())
        }
        "Failed" | "Failure" | "Error" | "NotRunnable" => (TestStatus::Failed, Vec::new()),
        other => (
            TestStatus::Failed,
            vec![inferred_annotation(&format!(
                "NUnit's result {other:?} is not one this converter knows: read as a failure"
            ))],
        ),
    }
}

/// The errors of a failed (or timed out, or interrupted) test case.
fn errors(case: &Case, inherited: Option<&Failure>, limits: &Limits) -> Vec<ReportError> {
    let bound = |mut e: ReportError| {
        for text in [&mut e.message, &mut e.stack].into_iter().flatten() {
            let mut out = String::new();
            push_bounded(&mut out, text, limits.max_output_bytes);
            *text = out;
        }
        e
    };
    if let Some(f) = inherited {
        return vec![bound(f.error())];
    }
    let failed: Vec<ReportError> = case
        .assertions
        .iter()
        .filter(|(r, f)| matches!(r.as_str(), "Failed" | "Error") && !f.is_empty())
        .map(|(_, f)| bound(f.error()))
        .collect();
    if !failed.is_empty() {
        return failed;
    }
    if let Some(f) = case.body.failure.as_ref().filter(|f| !f.is_empty()) {
        let mut e = f.error();
        if e.message.is_none() && !case.label.trim().is_empty() {
            e.message = Some(case.label.trim().to_string());
        }
        return vec![bound(e)];
    }
    // NUnit 3 writes a timeout with an empty `<failure/>` and says it in the label; an invalid
    // test (`Failed`/`Invalid`) says why in its reason.
    let text = case
        .body
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .or(Some(case.label.trim()).filter(|l| !l.is_empty() && *l != "Error"));
    text.map(|t| vec![bound(ReportError::message(t.trim_end()))])
        .unwrap_or_default()
}

/// The cases' name without the full name of the fixture around it (2.x and pytest-nunit write
/// `Ns.Class.Method`, `tests/x.py::Class::test`).
fn short_title(name: &str, suites: &[OpenSuite]) -> String {
    for s in suites.iter().rev() {
        if s.full.is_empty() {
            continue;
        }
        if let Some(rest) = name.strip_prefix(s.full.as_str()) {
            let rest = rest
                .strip_prefix("::")
                .or_else(|| rest.strip_prefix('.'))
                .unwrap_or("");
            if !rest.is_empty() {
                return rest.to_string();
            }
        }
    }
    name.to_string()
}

/// An assembly's name as a title: its file name when NUnit wrote a path.
fn file_name(name: &str) -> String {
    let absolute = name.starts_with(['/', '\\'])
        || (name.len() > 2 && name.as_bytes()[1] == b':' && name.as_bytes()[2] == b'\\');
    if absolute {
        name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
    } else {
        name.to_string()
    }
}

/// A test read from a document: its suite titles, title, the test with one attempt.
type Read = (Vec<String>, Test);

/// One document being read.
struct Doc<'a> {
    limits: &'a Limits,
    dialect: Dialect,
    suites: Vec<OpenSuite>,
    case: Option<Case>,
    holder: Option<Holder>,
    piece: Option<Piece>,
    text: String,
    /// Where the open attachment starts.
    attachment_at: u64,
    /// The attachment being read: (`filePath`, `description`).
    attachment: (String, String),
    assertion: Failure,
    assertion_result: String,
    /// Start of the next test without a start time of its own (2.x).
    clock: f64,
    tests: Vec<Read>,
    version: Option<String>,
    os_version: Option<String>,
}

impl Doc<'_> {
    fn body(&mut self) -> Option<&mut Body> {
        match self.case.as_mut() {
            Some(c) => Some(&mut c.body),
            None => self.suites.last_mut().map(|s| &mut s.body),
        }
    }

    fn bounded(&self, text: &str) -> String {
        let mut out = String::new();
        push_bounded(&mut out, text, self.limits.max_output_bytes);
        out
    }

    fn start(&mut self, e: &BytesStart<'_>, at: u64) -> Result<(), String> {
        let bad = |err: quick_xml::Error| format!("bad attribute: {err}");
        let tag = e.local_name();
        match tag.as_ref() {
            b"test-suite" => {
                if self.case.is_some() {
                    return Err("a <test-suite> inside a <test-case>".into());
                }
                let [kind, name, fullname, site, result] =
                    attrs(e, [b"type", b"name", b"fullname", b"site", b"result"]).map_err(bad)?;
                let kind = kind.unwrap_or_default().trim().to_string();
                let name = self.bounded(name.as_deref().unwrap_or(""));
                let title = match kind.as_str() {
                    k if TRANSPARENT.contains(&k) => None,
                    "Assembly" => Some(file_name(&name)),
                    _ => Some(name.clone()),
                };
                let full = match fullname {
                    Some(f) => self.bounded(&f),
                    None if matches!(kind.as_str(), "Namespace" | "TestFixture" | "TestSuite") => {
                        match self.suites.last().map(|s| s.full.as_str()) {
                            Some(p) if !p.is_empty() => format!("{p}.{name}"),
                            _ => name.clone(),
                        }
                    }
                    None => self
                        .suites
                        .last()
                        .map(|s| s.full.clone())
                        .unwrap_or_default(),
                };
                self.suites.push(OpenSuite {
                    kind,
                    name,
                    title,
                    full,
                    site: site.map(|s| s.trim().to_string()),
                    result: result.unwrap_or_default().trim().to_string(),
                    ..OpenSuite::default()
                });
            }
            b"test-case" => {
                if self.case.is_some() {
                    return Err("a <test-case> inside a <test-case>".into());
                }
                let [name, result, label, site, start, duration, time, description] = attrs(
                    e,
                    [
                        b"name",
                        b"result",
                        b"label",
                        b"site",
                        b"start-time",
                        b"duration",
                        b"time",
                        b"description",
                    ],
                )
                .map_err(bad)?;
                self.case = Some(Case {
                    name: self.bounded(name.as_deref().unwrap_or("")),
                    result: result.unwrap_or_default().trim().to_string(),
                    label: label.unwrap_or_default().to_string(),
                    site: site.map(|s| s.trim().to_string()),
                    description: description.map(|d| self.bounded(&d)),
                    start_ms: time_ms(start.as_deref()),
                    duration_ms: seconds_ms(duration.as_deref().or(time.as_deref())),
                    ..Case::default()
                });
            }
            b"environment" => {
                let [framework, nunit, os] =
                    attrs(e, [b"framework-version", b"nunit-version", b"os-version"])
                        .map_err(bad)?;
                if self.version.is_none() {
                    self.version = framework.or(nunit).map(|v| v.trim().to_string());
                }
                if self.os_version.is_none() {
                    self.os_version = os.map(|v| v.trim().to_string());
                }
            }
            b"failure" => {
                self.holder = Some(Holder::Failure);
                if let Some(b) = self.body() {
                    b.failure.get_or_insert_with(Failure::default);
                }
            }
            b"reason" => self.holder = Some(Holder::Reason),
            b"assertion" => {
                let [result] = attrs(e, [b"result"]).map_err(bad)?;
                self.holder = Some(Holder::Assertion);
                self.assertion = Failure::default();
                self.assertion_result = result.unwrap_or_default().trim().to_string();
            }
            b"attachment" => {
                self.holder = Some(Holder::Attachment);
                self.attachment = Default::default();
                self.attachment_at = at;
            }
            b"property" => {
                let [name, value] = attrs(e, [b"name", b"value"]).map_err(bad)?;
                let name = name.unwrap_or_default().trim().to_string();
                let value = self.bounded(value.as_deref().unwrap_or(""));
                if let Some(b) = self.body() {
                    if name == "Category" {
                        b.tags.push(value);
                    } else {
                        b.properties.push((name, value));
                    }
                }
            }
            b"category" => {
                let [name] = attrs(e, [b"name"]).map_err(bad)?;
                let name = self.bounded(name.as_deref().unwrap_or(""));
                if let Some(b) = self.body() {
                    b.tags.push(name);
                }
            }
            t => {
                if let Some(p) = Piece::of(t) {
                    self.piece = Some(p);
                    self.text.clear();
                }
            }
        }
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if self.piece.is_some() {
            push_bounded(&mut self.text, text, self.limits.max_output_bytes);
        }
    }

    fn end(&mut self, tag: &[u8], folder: &mut Attach<'_>) {
        if let Some(piece) = self.piece.take_if(|p| Piece::of(tag) == Some(*p)) {
            let text = std::mem::take(&mut self.text);
            match (self.holder, piece) {
                (Some(Holder::Assertion), Piece::Message) => self.assertion.message = text,
                (Some(Holder::Assertion), Piece::StackTrace) => self.assertion.stack = text,
                (Some(Holder::Attachment), Piece::FilePath) => self.attachment.0 = text,
                (Some(Holder::Attachment), Piece::Description) => self.attachment.1 = text,
                (Some(Holder::Failure), Piece::Message | Piece::StackTrace) => {
                    if let Some(f) = self.body().and_then(|b| b.failure.as_mut()) {
                        match piece {
                            Piece::Message => f.message = text,
                            _ => f.stack = text,
                        }
                    }
                }
                (Some(Holder::Reason), Piece::Message) => {
                    if let Some(b) = self.body() {
                        b.reason = Some(text);
                    }
                }
                (_, Piece::Output) => {
                    if let Some(b) = self.body() {
                        b.output = text;
                    }
                }
                _ => {}
            }
            return;
        }
        match tag {
            b"failure" | b"reason" => self.holder = None,
            b"assertion" => {
                self.holder = None;
                if let Some(c) = self.case.as_mut() {
                    c.assertions.push((
                        std::mem::take(&mut self.assertion_result),
                        std::mem::take(&mut self.assertion),
                    ));
                }
            }
            b"attachment" => {
                self.holder = None;
                let (path, description) = std::mem::take(&mut self.attachment);
                if let Some(c) = self.case.as_mut() {
                    c.attachments.push((path, description, self.attachment_at));
                }
            }
            b"test-case" => {
                if let Some(case) = self.case.take() {
                    let read = self.finish_case(case, folder);
                    self.tests.push(read);
                }
            }
            b"test-suite" => {
                if let Some(s) = self.suites.pop() {
                    self.finish_suite(s);
                }
            }
            _ => {}
        }
    }

    /// The titles of the open suites that are levels of the report.
    fn groups(&self) -> Vec<String> {
        self.suites.iter().filter_map(|s| s.title.clone()).collect()
    }

    /// Whether a suite's `failure` is its own (a `OneTimeSetUp`/`OneTimeTearDown` failure), not
    /// the summary of its children's ("One or more child tests had errors").
    fn own_failure(&self, s: &OpenSuite) -> bool {
        let Some(f) = s.body.failure.as_ref() else {
            return false;
        };
        match self.dialect {
            Dialect::V3 => matches!(s.site.as_deref(), Some("SetUp" | "TearDown")),
            // 2.x writes a suite's failure only for the suite's own set-up or tear-down.
            Dialect::V2 => !f.is_empty(),
        }
    }

    fn is_teardown(&self, s: &OpenSuite) -> bool {
        match self.dialect {
            Dialect::V3 => s.site.as_deref() == Some("TearDown"),
            Dialect::V2 => s
                .body
                .failure
                .as_ref()
                .is_some_and(|f| f.message.trim_start().starts_with("TearDown")),
        }
    }

    fn finish_case(&mut self, mut case: Case, folder: &mut Attach<'_>) -> Read {
        let (status, mut annotations) = outcome(&case);
        // A test failed by its fixture's set-up: NUnit 3 says `site="Parent"`, 2.x gives it a
        // failure without a stack.
        let parent = match self.dialect {
            Dialect::V3 => case.site.as_deref() == Some("Parent"),
            Dialect::V2 => case
                .body
                .failure
                .as_ref()
                .is_some_and(|f| f.stack.trim().is_empty()),
        };
        let mut inherited = None;
        if parent && status == TestStatus::Failed {
            let found = (0..self.suites.len()).rev().find(|&i| {
                let s = &self.suites[i];
                self.own_failure(s) && !self.is_teardown(s)
            });
            if let Some(i) = found {
                self.suites[i].failure_used = true;
                inherited = self.suites[i].body.failure.clone();
            }
        }
        let mut a = RunAttempt::with_status(status);
        if matches!(
            status,
            TestStatus::Failed | TestStatus::TimedOut | TestStatus::Interrupted
        ) {
            let errs = errors(&case, inherited.as_ref(), self.limits);
            if errs.is_empty() && status == TestStatus::Failed {
                annotations.push(inferred_annotation(
                    "NUnit says the test failed, but gives no message",
                ));
            }
            a.errors = (!errs.is_empty()).then_some(errs);
        }
        let mut tags: Vec<String> = Vec::new();
        for t in self
            .suites
            .iter()
            .flat_map(|s| &s.body.tags)
            .chain(&case.body.tags)
        {
            let t = t.trim();
            if !t.is_empty() && !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }
        let description = case.description.take().or_else(|| {
            case.body
                .properties
                .iter()
                .find(|(k, _)| k == "Description")
                .map(|(_, v)| v.clone())
        });
        if let Some(d) = description.filter(|d| !d.trim().is_empty()) {
            annotations.push(note("description", Some(&d)));
        }
        for (k, v) in &case.body.properties {
            if k.is_empty()
                || k.starts_with('_')
                || k == "Description"
                || DROPPED_PROPERTIES.contains(&k.as_str())
            {
                continue;
            }
            annotations.push(Annotation {
                kind: k.clone(),
                description: Some(v.clone()),
                ..Default::default()
            });
        }
        let mut attachments = Vec::new();
        for (path, description, at) in &case.attachments {
            if let Some(mut found) = folder.resolve(path, *at) {
                if !description.trim().is_empty() {
                    found.name = description.trim().to_string();
                }
                attachments.push(found);
            }
        }
        let start = case.start_ms.unwrap_or(self.clock);
        let duration = case.duration_ms;
        self.clock = start + duration.unwrap_or(0.0);
        a.start_timestamp = Some(UnixTimestampMs(start.max(0.0)));
        a.duration = duration.map(DurationMs);
        a.annotations = (!annotations.is_empty()).then_some(annotations);
        a.attachments = (!attachments.is_empty()).then_some(attachments);
        if !case.body.output.trim().is_empty() {
            a.stdio = Some(vec![TimedStdioEntry::text(
                Stream::Stdout,
                std::mem::take(&mut case.body.output),
            )]);
        }
        let title = short_title(&case.name, &self.suites);
        let mut test = Test::new(title);
        test.tags = (!tags.is_empty()).then_some(tags);
        crate::push_attempt(&mut test.attempts, a);
        (self.groups(), test)
    }

    /// A suite's own failure no test took becomes a failed test of its own.
    fn finish_suite(&mut self, s: OpenSuite) {
        if !self.own_failure(&s) || (s.failure_used && !self.is_teardown(&s)) {
            return;
        }
        let teardown = self.is_teardown(&s);
        let Some(f) = s.body.failure.as_ref() else {
            return;
        };
        let mut groups = self.groups();
        groups.extend(s.title.clone());
        let mut a = RunAttempt::with_status(TestStatus::Failed);
        let mut e = f.error();
        if e.message.is_none() {
            e.message = Some(format!("the {} {:?} failed ({})", s.kind, s.name, s.result));
        }
        a.errors = Some(vec![e]);
        a.start_timestamp = Some(UnixTimestampMs(self.clock.max(0.0)));
        let title = if teardown {
            TEARDOWN_FAILED_TITLE
        } else {
            SETUP_FAILED_TITLE
        };
        let mut test = Test::new(title);
        crate::push_attempt(&mut test.attempts, a);
        self.tests.push((groups, test));
    }
}

/// Attachments of one input: resolved against its folder, the files remembered, the missing
/// ones warned about.
struct Attach<'a> {
    folder: AttachmentFolder,
    input: &'a str,
    data: &'a [u8],
    /// Lines counted so far: (offset, line).
    counted: (usize, usize),
    hashed: &'a mut HashMap<PathBuf, String>,
    found: Vec<AttachmentSource>,
    warnings: Vec<ConvertWarning>,
    refused: Option<ConvertError>,
}

impl Attach<'_> {
    fn line_of(&mut self, offset: u64) -> usize {
        let to = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        let (from, line) = self.counted;
        let (from, line) = if to < from { (0, 1) } else { (from, line) };
        let line = line + self.data[from..to].iter().filter(|&&b| b == b'\n').count();
        self.counted = (to, line);
        line
    }

    fn resolve(&mut self, raw: &str, offset: u64) -> Option<Attachment> {
        match self.folder.resolve(raw, self.hashed) {
            Resolved::Found(a, path) => {
                self.found.push(AttachmentSource {
                    id: a.id.clone(),
                    path,
                });
                Some(a)
            }
            Resolved::Missing(message) => {
                let line = self.line_of(offset);
                self.warnings.push(ConvertWarning {
                    input: self.input.to_string(),
                    line,
                    message,
                });
                None
            }
            Resolved::Outside(message) => {
                if self.refused.is_none() {
                    self.refused = Some(ConvertError::at(self.input, offset, message));
                }
                None
            }
        }
    }
}

/// Reads NUnit XML documents (NUnit 3 and 2.x).
#[derive(Debug, Default)]
pub struct NunitCollector {
    tree: TestTree,
    span: Option<(f64, f64)>,
    version: Option<String>,
    os_version: Option<String>,
    hashed: HashMap<PathBuf, String>,
    attachments: Vec<AttachmentSource>,
    /// Missing attachment files.
    pub warnings: Vec<ConvertWarning>,
}

impl NunitCollector {
    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let (body, skipped) = xml_body(data, input)?;
        let fail =
            |offset: u64, message: String| ConvertError::at(input, skipped + offset, message);
        let mut reader = quick_xml::Reader::from_reader(body);
        reader.config_mut().expand_empty_elements = true;
        let mut attach = Attach {
            folder: AttachmentFolder::of_input(input, limits.allow_outside_attachments),
            input,
            data: body,
            counted: (0, 1),
            hashed: &mut self.hashed,
            found: Vec::new(),
            warnings: Vec::new(),
            refused: None,
        };
        let mut doc: Option<Doc<'_>> = None;
        let mut run_span: (Option<f64>, Option<f64>) = (None, None);
        let mut depth = 0usize;
        loop {
            let at = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| fail(reader.error_position(), format!("malformed XML: {e}")))?;
            match event {
                Event::Start(e) => {
                    depth += 1;
                    if depth > MAX_XML_DEPTH {
                        return Err(fail(
                            at,
                            format!("elements nested deeper than {MAX_XML_DEPTH} levels"),
                        ));
                    }
                    match doc.as_mut() {
                        Some(d) => d.start(&e, at).map_err(|m| fail(at, m))?,
                        None => {
                            let root = e.local_name();
                            let dialect = match root.as_ref() {
                                b"test-run" => Dialect::V3,
                                b"test-results" => Dialect::V2,
                                other => {
                                    let root = String::from_utf8_lossy(other).into_owned();
                                    return Err(fail(at, format!("not an NUnit XML file: the root element is <{root}>, not <test-run> (NUnit 3) or <test-results> (NUnit 2)")));
                                }
                            };
                            let [start, end, duration] =
                                attrs(&e, [b"start-time", b"end-time", b"duration"])
                                    .map_err(|err| fail(at, format!("bad attribute: {err}")))?;
                            let start = time_ms(start.as_deref());
                            let end = time_ms(end.as_deref())
                                .or_else(|| Some(start? + seconds_ms(duration.as_deref())?));
                            run_span = (start, end);
                            doc = Some(Doc {
                                limits,
                                dialect,
                                suites: Vec::new(),
                                case: None,
                                holder: None,
                                piece: None,
                                text: String::new(),
                                attachment_at: 0,
                                attachment: Default::default(),
                                assertion: Failure::default(),
                                assertion_result: String::new(),
                                clock: start.unwrap_or(fallback_ms),
                                tests: Vec::new(),
                                version: None,
                                os_version: None,
                            });
                        }
                    }
                }
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    if let Some(d) = doc.as_mut() {
                        d.end(e.local_name().as_ref(), &mut attach);
                    }
                }
                Event::Text(t) => {
                    if let Some(d) = doc.as_mut() {
                        let text = t.xml_content().unwrap_or_else(|_| {
                            String::from_utf8_lossy(&t).replace("\r\n", "\n").into()
                        });
                        d.text(&text);
                    }
                }
                Event::CData(t) => {
                    if let Some(d) = doc.as_mut() {
                        d.text(&String::from_utf8_lossy(&t));
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(d) = doc.as_mut() {
                        d.text(&crate::junit::ref_text(&r));
                    }
                }
                Event::DocType(_) => {
                    return Err(fail(
                        at,
                        "a DOCTYPE is refused: NUnit never writes one, and its entities are never expanded".into(),
                    ));
                }
                Event::Decl(d) => {
                    crate::xmldoc::check_encoding(&d, "NUnit").map_err(|m| fail(at, m))?;
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let Some(doc) = doc else {
            return Err(fail(0, "not an NUnit XML file: no element found".into()));
        };
        if let Some(e) = attach.refused.take() {
            return Err(ConvertError {
                offset: e.offset + skipped,
                ..e
            });
        }
        self.attachments.append(&mut attach.found);
        self.warnings.append(&mut attach.warnings);
        if self.version.is_none() {
            self.version = doc.version.clone().filter(|v| !v.is_empty());
        }
        if self.os_version.is_none() {
            self.os_version = doc.os_version.clone().filter(|v| !v.is_empty());
        }
        let mut first = run_span.0;
        let mut last = run_span.1;
        for (groups, test) in doc.tests {
            for a in &test.attempts {
                let s = a.start_timestamp.map_or(fallback_ms, |t| t.0);
                let e = s + a.duration.map_or(0.0, |d| d.0);
                first = Some(first.map_or(s, |f: f64| f.min(s)));
                last = Some(last.map_or(e, |l: f64| l.max(e)));
            }
            self.tree.add((None, groups, test.title.clone()), test);
        }
        let (first, last) = (first.unwrap_or(fallback_ms), last.unwrap_or(fallback_ms));
        self.span = Some(match self.span {
            Some((a, b)) => (a.min(first), b.max(last)),
            None => (first, last.max(first)),
        });
        Ok(())
    }

    /// The files of the attachments found.
    pub fn attachments(&mut self) -> Vec<AttachmentSource> {
        std::mem::take(&mut self.attachments)
    }

    /// The missing attachments.
    pub fn warnings(&mut self) -> Vec<ConvertWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, end) = self.span.unwrap_or((fallback_ms, fallback_ms));
        let (mut suites, mut tests) = self.tree.into_suites();
        fn order(tests: &mut [Test]) {
            for t in tests {
                t.attempts.sort_by(|a, b| {
                    let at = |x: &RunAttempt| x.start_timestamp.map_or(0.0, |t| t.0);
                    at(a).total_cmp(&at(b))
                });
            }
        }
        fn walk(s: &mut Suite) {
            order(s.tests.as_deref_mut().unwrap_or_default());
            for c in s.suites.iter_mut().flatten() {
                walk(c);
            }
        }
        order(&mut tests);
        suites.iter_mut().for_each(walk);
        let mut report = crate::build_report(
            suites,
            tests,
            Vec::new(),
            start,
            (end - start).max(0.0),
            meta,
        );
        report.test_runner = Some(NamedVersion {
            name: "nunit".into(),
            version: self.version.unwrap_or_else(|| "unknown".into()),
            ..Default::default()
        });
        if let (Some(os), Some(sys)) = (
            self.os_version,
            report
                .environments
                .first_mut()
                .and_then(|e| e.system_data.as_mut()),
        ) {
            sys.os_version = Some(os);
        }
        report
    }
}

crate::formats::reader!(NunitCollector, NunitCollector::into_report, attachments; warnings warnings);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_name_is_cut_off_full_names() {
        let suite = |full: &str| OpenSuite {
            full: full.into(),
            ..OpenSuite::default()
        };
        let suites = [suite("Ns.Sub"), suite("Ns.Sub.Fixture")];
        assert_eq!(short_title("Ns.Sub.Fixture.Add(1,2)", &suites), "Add(1,2)");
        assert_eq!(
            short_title("Ns.Sub.Fixture.Named case", &suites),
            "Named case"
        );
        assert_eq!(short_title("Test1", &suites), "Test1");
        let py = [suite("tests/x.py::Group")];
        assert_eq!(short_title("tests/x.py::Group::test_a", &py), "test_a");
        assert_eq!(file_name("/home/u/bin/T.dll"), "T.dll");
        assert_eq!(file_name("C:\\w\\bin\\T.dll"), "T.dll");
        assert_eq!(file_name("tests/x.py::Group"), "tests/x.py::Group");
    }
}
