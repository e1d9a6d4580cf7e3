//! Catch2's XML reporter (`--reporter xml`): v2's `<Catch>` (with a `<Group>`) and v3's
//! `<Catch2TestRun>`. Catch2 writes it while the tests run.
//!
//! | Input | Report |
//! |---|---|
//! | the root's `name` (the test binary; a trailing `.exe` dropped) | a `suite` holding the run's tests |
//! | `<TestCase name tags filename line>` | one test: the title is the name, the tags those of `tags` without brackets (`[!shouldfail]` → `!shouldfail`), the location `filename:line` |
//! | `<Section>`s (each run of the test case writes its path again) | steps of the attempt, nested as written, with their duration; a step's error is the first failure right in it |
//! | a failed `<Expression>` (`Original`, `Expanded`, a nested `<Exception>`), an `<Exception>`, a `<FatalErrorCondition>`, a `<Failure>` (`FAIL`) | one error each: the message as Catch2's console writes it (`REQUIRE( a == b )` / `with expansion:` / …), with the `<Info>` and `<Warning>` messages written before it; the stack `file:line` of the assertion, then the enclosing sections and the test case |
//! | `<OverallResult success skips durationInSeconds>` | the status (below), the duration; `<StdOut>`/`<StdErr>` in it the attempt's `stdio` |
//! | `<Skip>` (v3) | `skipped`, annotation `skip` with the message |
//! | `[!shouldfail]` | `expectedStatus: failed`: a failing test is an expected failure, a passing one an unexpected pass |
//! | `[!mayfail]` | a failing test is `failed` with `expectedStatus: failed` (failures allowed); a passing one passes |
//! | a `<Warning>` no failure follows | an annotation `warning` |
//! | the document ends inside a `<TestCase>` (the binary was killed while writing) | that test `interrupted`; the tests before it are kept |

use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, Stream, Suite,
    SuiteType, Test, TestStatus, TestStep, TimedStdioEntry, UnixTimestampMs,
};
use quick_xml::events::BytesStart;

use crate::junit::attrs;
use crate::{inferred_annotation, push_bounded, ConvertError, Limits, Metadata};

/// The default category of Catch2 reports (and so the environment's name).
pub(crate) const CATEGORY: &str = "catch2";

/// Sections nested deeper than this are refused (each is a step: the report would nest past
/// what the validator reads).
pub const MAX_SECTION_DEPTH: usize = 128;

/// Where an element says it is: `filename`, `line`.
type At = Option<(String, i64)>;

/// An element whose text is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Original,
    Expanded,
    Info,
    Warning,
    Exception,
    Fatal,
    Failure,
    Skip,
    StdOut,
    StdErr,
}

impl Piece {
    fn of(tag: &[u8]) -> Option<Self> {
        Some(match tag {
            b"Original" => Piece::Original,
            b"Expanded" => Piece::Expanded,
            b"Info" => Piece::Info,
            b"Warning" => Piece::Warning,
            b"Exception" => Piece::Exception,
            b"FatalErrorCondition" => Piece::Fatal,
            b"Failure" => Piece::Failure,
            b"Skip" => Piece::Skip,
            b"StdOut" => Piece::StdOut,
            b"StdErr" => Piece::StdErr,
            _ => return None,
        })
    }
}

/// An `<Expression>` being read.
#[derive(Debug, Default)]
struct Expr {
    success: bool,
    macro_name: String,
    at: At,
    original: String,
    expanded: Option<String>,
    /// An `<Exception>`, `<FatalErrorCondition>` or `<Failure>` inside it.
    thrown: Option<(Piece, String)>,
}

/// What `<OverallResult>` says.
#[derive(Debug, Default)]
struct Outcome {
    success: Option<bool>,
    skips: u64,
    duration_ms: Option<f64>,
}

/// A `<TestCase>` being read.
#[derive(Debug, Default)]
struct Case {
    name: String,
    tags: Vec<String>,
    at: At,
    errors: Vec<ReportError>,
    /// `<Info>` messages waiting for the assertion they describe.
    infos: Vec<String>,
    /// `<Warning>`s not yet part of a failure.
    warnings: Vec<(String, At)>,
    skip: Option<(String, At)>,
    /// The open sections, innermost last.
    sections: Vec<TestStep>,
    /// The finished top-level sections.
    steps: Vec<TestStep>,
    outcome: Option<Outcome>,
    stdout: String,
    stderr: String,
}

fn location((file, line): &(String, i64)) -> Location {
    Location::new(file.clone(), *line, 1)
}

/// Every line of `text` indented by two blanks, as Catch2's console writes messages.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn bounded(text: &str, limits: &Limits) -> String {
    let mut out = String::new();
    push_bounded(&mut out, text, limits.max_output_bytes);
    out
}

/// `[failing][math]` → `failing`, `math`.
fn tags_of(tags: &str) -> Vec<String> {
    tags.split('[')
        .filter_map(|p| p.split_once(']'))
        .map(|(t, _)| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The text of what an assertion threw, as Catch2's console says it.
fn thrown_text(piece: Piece, text: &str) -> String {
    match piece {
        Piece::Exception => format!(
            "due to unexpected exception with message:\n{}",
            indent(text)
        ),
        Piece::Fatal => format!("due to a fatal error condition:\n{}", indent(text)),
        _ if text.is_empty() => "explicit failure (FAIL without a message)".into(),
        _ => text.to_string(),
    }
}

impl Expr {
    fn text(&self) -> String {
        let mut s = if self.macro_name.is_empty() {
            self.original.clone()
        } else {
            format!("{}( {} )", self.macro_name, self.original)
        };
        if let Some(e) = self.expanded.as_deref() {
            if !e.is_empty() && e != self.original {
                s.push_str("\nwith expansion:\n");
                s.push_str(&indent(e));
            }
        }
        if let Some((piece, text)) = &self.thrown {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(&thrown_text(*piece, text));
        }
        s
    }
}

impl Case {
    /// Records a failed assertion: its text with the messages written before it, the
    /// assertion's place, the sections it is in and the test case as the stack.
    fn fail(&mut self, text: String, at: &At, limits: &Limits) {
        let mut message = text;
        match self.infos.len() {
            0 => {}
            1 => message.push_str("\nwith message:"),
            _ => message.push_str("\nwith messages:"),
        }
        for info in self.infos.drain(..) {
            message.push('\n');
            message.push_str(&indent(&info));
        }
        for (warning, _) in self.warnings.drain(..) {
            message.push_str("\nwith warning:\n");
            message.push_str(&indent(&warning));
        }
        let mut stack = Vec::new();
        if let Some((file, line)) = at {
            stack.push(format!("{file}:{line}"));
        }
        for s in self.sections.iter().rev() {
            stack.push(match &s.location {
                Some(l) => format!("{}:{}: in section \"{}\"", l.file, l.line, s.title),
                None => format!("in section \"{}\"", s.title),
            });
        }
        if let Some((file, line)) = &self.at {
            stack.push(format!("{file}:{line}: in test case \"{}\"", self.name));
        }
        let error = ReportError {
            message: Some(bounded(&message, limits)),
            stack: (!stack.is_empty()).then(|| bounded(&stack.join("\n"), limits)),
            ..Default::default()
        };
        if let Some(s) = self.sections.last_mut() {
            s.error.get_or_insert_with(|| error.clone());
        }
        self.errors.push(error);
    }

    fn close_section(&mut self) {
        if let Some(step) = self.sections.pop() {
            match self.sections.last_mut() {
                Some(parent) => parent.steps.get_or_insert_with(Vec::new).push(step),
                None => self.steps.push(step),
            }
        }
    }

    /// The attempt, `interrupted` when the document ended inside the test case.
    fn attempt(mut self, start_ms: f64, limits: &Limits) -> (Test, f64) {
        let truncated = self.outcome.is_none();
        if truncated {
            self.errors.push(ReportError::message(
                "the XML ends inside this test case: the test binary stopped before it ended (killed, or out of time)",
            ));
        }
        while !self.sections.is_empty() {
            self.close_section();
        }
        let outcome = self.outcome.take().unwrap_or_default();
        let has = |tag: &str| self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag));
        let (should_fail, may_fail) = (has("!shouldfail"), has("!mayfail"));
        let failed = !self.errors.is_empty();
        let skipped = self.skip.is_some() || outcome.skips > 0;
        let mut annotations = Vec::new();
        let (status, expected) = if truncated {
            (TestStatus::Interrupted, None)
        } else if failed && (should_fail || may_fail) {
            annotations.push(Annotation {
                kind: "fail".into(),
                description: Some(if should_fail {
                    "[!shouldfail]: expected to fail".into()
                } else {
                    "[!mayfail]: allowed to fail".into()
                }),
                ..Default::default()
            });
            (TestStatus::Failed, Some(TestStatus::Failed))
        } else if failed {
            (TestStatus::Failed, None)
        } else if skipped {
            (TestStatus::Skipped, None)
        } else if should_fail {
            annotations.push(Annotation {
                kind: "fail".into(),
                description: Some("[!shouldfail]: expected to fail, but passed".into()),
                ..Default::default()
            });
            (TestStatus::Passed, Some(TestStatus::Failed))
        } else if outcome.success == Some(false) {
            annotations.push(inferred_annotation(
                "Catch2's OverallResult says the test case failed, but the XML records no failed assertion (with --warn NoAssertions, a test case without assertions fails)",
            ));
            (TestStatus::Failed, None)
        } else {
            (TestStatus::Passed, None)
        };
        if status == TestStatus::Skipped {
            let (reason, at) = self.skip.take().unwrap_or_default();
            annotations.push(Annotation {
                kind: "skip".into(),
                description: (!reason.is_empty()).then_some(reason),
                location: at.as_ref().map(location),
                ..Default::default()
            });
        }
        for (warning, at) in self.warnings.drain(..) {
            annotations.push(Annotation {
                kind: "warning".into(),
                description: Some(warning),
                location: at.as_ref().map(location),
                ..Default::default()
            });
        }
        let mut a = RunAttempt::with_status(status);
        a.expected_status = expected;
        a.start_timestamp = Some(UnixTimestampMs(start_ms.max(0.0)));
        a.duration = outcome.duration_ms.map(DurationMs);
        a.annotations = (!annotations.is_empty()).then_some(annotations);
        a.errors = (!self.errors.is_empty()).then_some(self.errors);
        a.steps = (!self.steps.is_empty()).then_some(self.steps);
        let stdio: Vec<TimedStdioEntry> =
            [(Stream::Stdout, self.stdout), (Stream::Stderr, self.stderr)]
                .into_iter()
                .filter(|(_, t)| !t.is_empty())
                .map(|(s, t)| TimedStdioEntry::text(s, bounded(&(t + "\n"), limits)))
                .collect();
        a.stdio = (!stdio.is_empty()).then_some(stdio);
        let mut test = Test::new(self.name);
        test.location = self.at.as_ref().map(location);
        test.tags = (!self.tags.is_empty()).then_some(self.tags);
        crate::push_attempt(&mut test.attempts, a);
        (test, outcome.duration_ms.unwrap_or(0.0))
    }
}

/// One document being read.
struct Doc<'l> {
    limits: &'l Limits,
    run: Option<String>,
    version: Option<String>,
    case: Option<Case>,
    expr: Option<Expr>,
    piece: Option<(Piece, At)>,
    text: String,
    done: Vec<Case>,
}

/// Catch2's XML, as the messages of [`crate::xmldoc::read`] name it.
const FORMAT: crate::xmldoc::XmlFormat = crate::xmldoc::XmlFormat {
    what: "a Catch2 XML file",
    roots: &["Catch", "Catch2TestRun"],
    writer: "Catch2",
};

impl crate::xmldoc::XmlDoc for Doc<'_> {
    fn root(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let [name, version] = attrs(e, [b"name", b"catch2-version"])
            .map_err(|err| format!("bad attribute: {err}"))?;
        self.run = name.map(|n| n.into_owned());
        self.version = version.map(|v| v.into_owned());
        Ok(())
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        Doc::start(self, e)
    }

    fn end(&mut self, tag: &[u8]) {
        Doc::end(self, tag)
    }

    fn wants_text(&self) -> bool {
        self.piece.is_some()
    }

    fn text(&mut self, text: &str) {
        Doc::text(self, text)
    }
}

/// `durationInSeconds` in ms; past three centuries it is not believed (sums of durations
/// stay finite).
fn duration_ms(value: Option<&str>) -> Option<f64> {
    crate::parse_duration_secs(value?)
        .map(|s| s * 1000.0)
        .filter(|ms| *ms < 1e13)
}

fn flag(value: Option<&str>) -> Option<bool> {
    value.map(|v| v.trim().eq_ignore_ascii_case("true"))
}

impl Doc<'_> {
    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let bad = |err: quick_xml::Error| format!("bad attribute: {err}");
        let tag = e.local_name();
        let tag = tag.as_ref();
        let at_of = |file: Option<&str>, line: Option<&str>| {
            file.filter(|f| !f.is_empty()).map(|f| {
                let line = line.and_then(|l| l.trim().parse::<i64>().ok()).unwrap_or(0);
                (f.to_string(), line.max(0))
            })
        };
        match tag {
            b"Group" => {
                if self.run.is_none() {
                    let [name] = attrs(e, [b"name"]).map_err(bad)?;
                    self.run = name.map(|n| n.into_owned());
                }
                return Ok(());
            }
            b"TestCase" => {
                if self.case.is_some() {
                    return Err("a <TestCase> inside a <TestCase>".into());
                }
                let [name, tags, file, line] =
                    attrs(e, [b"name", b"tags", b"filename", b"line"]).map_err(bad)?;
                self.case = Some(Case {
                    name: bounded(name.as_deref().unwrap_or(""), self.limits),
                    tags: tags.as_deref().map(tags_of).unwrap_or_default(),
                    at: at_of(file.as_deref(), line.as_deref()),
                    ..Case::default()
                });
                return Ok(());
            }
            _ => {}
        }
        let Some(case) = self.case.as_mut() else {
            return Ok(());
        };
        match tag {
            b"Section" => {
                if case.sections.len() >= MAX_SECTION_DEPTH {
                    return Err(format!(
                        "<Section> nested deeper than {MAX_SECTION_DEPTH} levels"
                    ));
                }
                let [name, file, line] = attrs(e, [b"name", b"filename", b"line"]).map_err(bad)?;
                let mut step = TestStep {
                    title: bounded(name.as_deref().unwrap_or(""), self.limits),
                    ..TestStep::default()
                };
                step.location = at_of(file.as_deref(), line.as_deref())
                    .as_ref()
                    .map(location);
                case.sections.push(step);
            }
            b"OverallResults" => {
                let [duration] = attrs(e, [b"durationInSeconds"]).map_err(bad)?;
                if let (Some(s), Some(d)) =
                    (case.sections.last_mut(), duration_ms(duration.as_deref()))
                {
                    s.duration = Some(DurationMs(d));
                }
            }
            b"Expression" => {
                let [success, kind, file, line] =
                    attrs(e, [b"success", b"type", b"filename", b"line"]).map_err(bad)?;
                self.expr = Some(Expr {
                    success: flag(success.as_deref()) != Some(false),
                    macro_name: kind.map(|k| k.into_owned()).unwrap_or_default(),
                    at: at_of(file.as_deref(), line.as_deref()),
                    ..Expr::default()
                });
            }
            b"OverallResult" => {
                let [success, skips, duration] =
                    attrs(e, [b"success", b"skips", b"durationInSeconds"]).map_err(bad)?;
                case.outcome = Some(Outcome {
                    success: flag(success.as_deref()),
                    skips: skips.and_then(|s| s.trim().parse().ok()).unwrap_or(0),
                    duration_ms: duration_ms(duration.as_deref()),
                });
            }
            t => {
                if let Some(piece) = Piece::of(t) {
                    let [file, line] = attrs(e, [b"filename", b"line"]).map_err(bad)?;
                    self.piece = Some((piece, at_of(file.as_deref(), line.as_deref())));
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

    fn end(&mut self, tag: &[u8]) {
        let limits = self.limits;
        if let Some((piece, at)) = self.piece.take_if(|(p, _)| Piece::of(tag) == Some(*p)) {
            let text = self.text.trim().to_string();
            self.text.clear();
            let Some(case) = self.case.as_mut() else {
                return;
            };
            match (piece, self.expr.as_mut()) {
                (Piece::Original, Some(x)) => x.original = text,
                (Piece::Expanded, Some(x)) => x.expanded = Some(text),
                (Piece::Exception | Piece::Fatal | Piece::Failure, Some(x)) => {
                    x.thrown = Some((piece, text));
                }
                (Piece::Exception | Piece::Fatal | Piece::Failure, None) => {
                    case.fail(thrown_text(piece, &text), &at, limits);
                }
                (Piece::Info, _) => case.infos.push(text),
                (Piece::Warning, _) => case.warnings.push((text, at)),
                (Piece::Skip, _) => {
                    case.infos.clear();
                    case.skip.get_or_insert((text, at));
                }
                (Piece::StdOut, _) => case.stdout = text,
                (Piece::StdErr, _) => case.stderr = text,
                _ => {}
            }
            return;
        }
        match tag {
            b"Expression" => {
                if let (Some(x), Some(case)) = (self.expr.take(), self.case.as_mut()) {
                    if !x.success {
                        case.fail(x.text(), &x.at, limits);
                    }
                    case.infos.clear();
                }
            }
            b"Section" => {
                if let Some(case) = self.case.as_mut() {
                    case.close_section();
                }
            }
            b"TestCase" => {
                self.expr = None;
                if let Some(mut case) = self.case.take() {
                    // Ended, even without an `<OverallResult>`: its failures say how.
                    case.outcome.get_or_insert_with(Outcome::default);
                    self.done.push(case);
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, Default)]
struct CSuite {
    tests: Vec<Test>,
    /// (title, file) → index in `tests`.
    by_key: HashMap<(String, Option<String>), usize>,
}

/// Reads Catch2 XML documents.
#[derive(Debug, Default)]
pub struct Catch2Collector {
    /// One suite per test binary, by name (`""`: tests outside any suite).
    suites: Vec<(String, CSuite)>,
    version: Option<String>,
    span: Option<(f64, f64)>,
}

impl Catch2Collector {
    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut doc = Doc {
            limits,
            run: None,
            version: None,
            case: None,
            expr: None,
            piece: None,
            text: String::new(),
            done: Vec::new(),
        };
        let mut r = data;
        crate::xmldoc::read(&mut r, input, &FORMAT, &mut doc)?;
        // A test case the document ends in: the binary stopped while it ran.
        if let Some(case) = doc.case.take() {
            doc.done.push(case);
        }
        let run = doc.run.unwrap_or_default();
        let run = run
            .strip_suffix(".exe")
            .or_else(|| run.strip_suffix(".EXE"))
            .unwrap_or(&run)
            .to_string();
        if self.version.is_none() {
            self.version = doc
                .version
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
        }
        let i = match self.suites.iter().position(|(t, _)| *t == run) {
            Some(i) => i,
            None => {
                self.suites.push((run, CSuite::default()));
                self.suites.len() - 1
            }
        };
        let suite = &mut self.suites[i].1;
        let mut clock = fallback_ms;
        for case in doc.done {
            let (test, took) = case.attempt(clock, limits);
            clock += took;
            let key = (
                test.title.clone(),
                test.location.as_ref().map(|l| l.file.clone()),
            );
            match suite.by_key.get(&key) {
                Some(&k) => suite.tests[k].attempts.extend(test.attempts),
                None => {
                    suite.by_key.insert(key, suite.tests.len());
                    suite.tests.push(test);
                }
            }
        }
        crate::times::widen(&mut self.span, fallback_ms, clock);
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, end) = self.span.unwrap_or((fallback_ms, fallback_ms));
        let mut suites = Vec::new();
        let mut root_tests = Vec::new();
        for (title, s) in self.suites {
            if s.tests.is_empty() {
                continue;
            }
            if title.is_empty() {
                root_tests.extend(s.tests);
                continue;
            }
            let mut suite = Suite::new(SuiteType::Suite, title);
            suite.tests = Some(s.tests);
            suites.push(suite);
        }
        let mut report =
            crate::build_report(suites, root_tests, Vec::new(), start, end - start, meta);
        report.test_runner = Some(NamedVersion {
            name: "catch2".into(),
            version: self.version.unwrap_or_else(|| "unknown".into()),
            ..Default::default()
        });
        report
    }
}

crate::formats::reader!(Catch2Collector, Catch2Collector::into_report);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_lose_their_brackets() {
        assert_eq!(tags_of("[failing][math]"), ["failing", "math"]);
        assert_eq!(tags_of("[!shouldfail]"), ["!shouldfail"]);
        assert_eq!(tags_of("[.][slow]"), [".", "slow"]);
        assert!(tags_of("").is_empty());
    }

    #[test]
    fn assertions_read_as_catch2_prints_them() {
        let x = Expr {
            macro_name: "REQUIRE".into(),
            original: "a == b".into(),
            expanded: Some("1 == 2".into()),
            ..Expr::default()
        };
        assert_eq!(x.text(), "REQUIRE( a == b )\nwith expansion:\n  1 == 2");
        let x = Expr {
            macro_name: "REQUIRE".into(),
            original: "f()".into(),
            expanded: Some("f()".into()),
            thrown: Some((Piece::Exception, "boom".into())),
            ..Expr::default()
        };
        assert_eq!(
            x.text(),
            "REQUIRE( f() )\ndue to unexpected exception with message:\n  boom"
        );
    }
}
