//! .NET's TRX (Visual Studio test results): `dotnet test --logger trx`, `vstest.console
//! /logger:trx`, Microsoft.Testing.Platform's `--report-trx`; MSTest, xUnit v2/v3 and the NUnit
//! adapter alike. spec/convert-trx.md is the mapping in full.
//!
//! | Input | Report |
//! |---|---|
//! | `TestMethod@codeBase` (else `UnitTest@storage`): the assembly's file name, `.dll`/`.exe` dropped | a `suite` |
//! | `TestMethod@className` (an assembly-qualified suffix `, Asm, Version=…` dropped) | a `suite` under it, the fully qualified class name |
//! | `UnitTestResult@testName` (else `UnitTest@name`), the class prefix dropped, `Method (args)` → `Method(args)` | the test's title |
//! | `UnitTestResult` | one attempt; the same test in another result or document is another attempt, ordered by start |
//! | a `DataDrivenTest` result's `InnerResults` | one test per row (its own title; `Method [data row N]` when the row has no name of its own) |
//! | `outcome` | the status (see [`Outcome::status`]) |
//! | `startTime`, `duration` (`[d.]hh:mm:ss.fffffff`; else `endTime` − `startTime`) | the attempt's start and duration |
//! | `Output/StdOut`, `DebugTrace`, `StdErr` | the attempt's `stdio` |
//! | `Output/ErrorInfo/Message`, `StackTrace` | the attempt's error |
//! | `Output/TextMessages/Message` | annotations `message` |
//! | `ResultFiles/ResultFile@path` (under `<runDeploymentRoot>/In/<executionId>/`) | attachments |
//! | `TestCategory/TestCategoryItem@TestCategory` | tags |
//! | `ResultSummary/RunInfos/RunInfo` of an error (not xUnit's `[FAIL]` echo lines) | unattributed errors |

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::rc::Rc;

use flakiness_report::{
    Annotation, DurationMs, NamedVersion, Report, ReportError, RunAttempt, Stream, Suite, Test,
    TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use quick_xml::events::BytesStart;

use crate::attachments::{AttachmentFolder, Resolved};
use crate::junit::attrs;
use crate::tree::TestTree;
use crate::{
    inferred_annotation, push_bounded, AttachmentSource, ConvertError, ConvertWarning, Limits,
    Metadata,
};

/// The default category of TRX reports (and so the environment's name): `dotnet test` runs
/// them, as `go test` and `cargo test` name theirs.
pub(crate) const CATEGORY: &str = "dotnet";

/// `InnerResults` nested deeper than this are refused.
pub const MAX_INNER_DEPTH: usize = 64;

/// Durations past this (three centuries) are not believed: sums of them stay finite.
const MAX_DURATION_MS: f64 = 1e13;

/// A result's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Outcome {
    #[default]
    Passed,
    Completed,
    PassedButRunAborted,
    Warning,
    Failed,
    Error,
    NotRunnable,
    Timeout,
    Aborted,
    Disconnected,
    InProgress,
    NotExecuted,
    Inconclusive,
    Pending,
    /// A value TRX does not define.
    Other,
}

impl Outcome {
    fn of(s: &str) -> Self {
        use Outcome::*;
        const ALL: &[(&str, Outcome)] = &[
            ("Passed", Passed),
            ("Completed", Completed),
            ("PassedButRunAborted", PassedButRunAborted),
            ("Warning", Warning),
            ("Failed", Failed),
            ("Error", Error),
            ("NotRunnable", NotRunnable),
            ("Timeout", Timeout),
            ("Aborted", Aborted),
            ("Disconnected", Disconnected),
            ("InProgress", InProgress),
            ("NotExecuted", NotExecuted),
            ("Inconclusive", Inconclusive),
            ("Pending", Pending),
        ];
        let s = s.trim();
        ALL.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map_or(Other, |(_, o)| *o)
    }

    /// The status, and the annotation saying what TRX said when the status alone does not.
    fn status(self, raw: &str) -> (TestStatus, Option<Annotation>) {
        use Outcome::*;
        let note = |kind: &str, text: &str| {
            Some(Annotation {
                kind: kind.into(),
                description: Some(text.into()),
                ..Default::default()
            })
        };
        match self {
            Passed | Completed => (TestStatus::Passed, None),
            PassedButRunAborted => (
                TestStatus::Passed,
                note(
                    "warning",
                    "PassedButRunAborted: the test passed, then the run was aborted",
                ),
            ),
            Warning => (
                TestStatus::Passed,
                note("warning", "Warning: the test passed with a warning"),
            ),
            Failed | Error => (TestStatus::Failed, None),
            NotRunnable => (
                TestStatus::Failed,
                note(
                    "not-runnable",
                    "NotRunnable: the test method cannot run (an invalid test)",
                ),
            ),
            Timeout => (TestStatus::TimedOut, None),
            Aborted => (TestStatus::Interrupted, note("aborted", "Aborted")),
            Disconnected => (
                TestStatus::Interrupted,
                note(
                    "aborted",
                    "Disconnected: the test host went away while the test ran",
                ),
            ),
            InProgress => (
                TestStatus::Interrupted,
                note("aborted", "InProgress: the run ended while the test ran"),
            ),
            NotExecuted => (TestStatus::Skipped, note("skip", "NotExecuted")),
            Inconclusive => (TestStatus::Skipped, note("skip", "Inconclusive")),
            Pending => (TestStatus::Skipped, note("skip", "Pending: never run")),
            Other => (
                TestStatus::Failed,
                Some(inferred_annotation(&format!(
                    "the TRX outcome {raw:?} is none TRX defines: taken as a failure"
                ))),
            ),
        }
    }
}

/// One `UnitTestResult`, held until the definitions (after the results) name its test.
#[derive(Debug, Default)]
struct Res {
    test_id: String,
    execution_id: String,
    name: String,
    outcome: Outcome,
    raw_outcome: String,
    duration_ms: Option<f64>,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
    data_row: Option<i64>,
    /// A row of a data-driven result (inside `InnerResults`).
    inner: bool,
    /// Has rows of its own: the rows are the tests.
    has_inner: bool,
    stdout: String,
    stderr: String,
    debug: String,
    messages: Vec<String>,
    error_message: Option<String>,
    error_stack: Option<String>,
    files: Vec<String>,
}

impl Doc {
    /// The one copy of a name.
    fn shared(&mut self, name: &str) -> Rc<str> {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Rc<str> = Rc::from(name);
        self.names.insert(n.clone());
        n
    }
}

impl Res {
    /// The result as it is held until the definitions come (after every result in a TRX):
    /// no room to spare in its texts, and no execution id when no file needs it.
    fn held(mut self) -> Self {
        if self.files.is_empty() {
            self.execution_id = String::new();
        }
        for s in [
            &mut self.test_id,
            &mut self.execution_id,
            &mut self.name,
            &mut self.stdout,
            &mut self.stderr,
            &mut self.debug,
        ] {
            s.shrink_to_fit();
        }
        self.messages.shrink_to_fit();
        self.files.shrink_to_fit();
        self
    }
}

/// A `UnitTest` definition. The assembly, class and adapter are shared by many: one copy each
/// ([`Doc::shared`]).
#[derive(Debug, Default, Clone)]
struct Def {
    name: String,
    class: Rc<str>,
    method: String,
    assembly: Rc<str>,
    adapter: Rc<str>,
    tags: Vec<String>,
}

/// The element whose text is being kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    StdOut,
    StdErr,
    DebugTrace,
    TextMessage,
    ErrorMessage,
    ErrorStack,
    RunInfo,
}

/// TRX, as the messages of [`crate::xmldoc::read`] name it.
const FORMAT: crate::xmldoc::XmlFormat = crate::xmldoc::XmlFormat {
    what: "a TRX file",
    roots: &["TestRun"],
    writer: "the TRX logger",
};

/// One document being read.
#[derive(Default)]
struct Doc {
    limits: Limits,
    deploy_root: Option<String>,
    times: (Option<f64>, Option<f64>),
    /// The open results, innermost last.
    open: Vec<Res>,
    /// The results read, each boxed: freed one by one as the report takes them, while the
    /// tests they make grow (a result is some 340 bytes, 200,000 of them in a 200 MB file).
    #[allow(clippy::vec_box)] // boxed on purpose: see above
    done: Vec<Box<Res>>,
    /// One copy of each assembly, class and adapter name.
    names: HashSet<Rc<str>>,
    defs: HashMap<String, Def>,
    def: Option<Def>,
    def_id: Option<String>,
    in_error_info: bool,
    in_text_messages: bool,
    in_run_info: Option<String>,
    summary_outcome: Option<String>,
    piece: Option<Piece>,
    text: String,
    run_errors: Vec<String>,
}

/// `[d.]hh:mm:ss[.fffffff]` (.NET's `TimeSpan`) in ms.
fn timespan_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.starts_with('-') {
        return None;
    }
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if !d.contains(':') => (d.parse::<f64>().ok()?, r),
        _ => (0.0, s),
    };
    let mut parts = rest.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let h: f64 = h.parse().ok()?;
    let m: f64 = m.parse().ok()?;
    let sec = crate::parse_duration_secs(sec)?;
    let ms = (((days * 24.0 + h) * 60.0 + m) * 60.0 + sec) * 1000.0;
    (0.0..MAX_DURATION_MS).contains(&ms).then_some(ms)
}

fn timestamp_ms(s: Option<&str>) -> Option<f64> {
    s.and_then(crate::parse_timestamp_ms).filter(|ms| *ms > 0.0)
}

/// `Ns.Class, Asm, Version=1.0.0.0, …` → `Ns.Class`.
fn class_name(s: &str) -> String {
    s.split(',').next().unwrap_or(s).trim().to_string()
}

/// `C:\b\Tests.dll`, `/b/Tests.dll` → `Tests`: the assembly's name (the extension differs
/// between a library, a Windows executable and a Linux app host of one test project).
fn assembly_name(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path).trim();
    let lower = file.to_ascii_lowercase();
    match [".dll", ".exe"].iter().find(|x| lower.ends_with(*x)) {
        Some(x) => file[..file.len() - x.len()].to_string(),
        None => file.to_string(),
    }
}

/// The kind of adapter an `adapterTypeName` names.
fn adapter_kind(adapter: &str) -> Option<&'static str> {
    let a = adapter.to_ascii_lowercase();
    [("xunit", "xunit"), ("mstest", "mstest"), ("nunit", "nunit")]
        .iter()
        .find(|(k, _)| a.contains(k))
        .map(|(_, n)| *n)
}

/// The test's title: the result's name without the class prefix (xUnit's `Ns.Class.Method(x:
/// 1)`), and MSTest's `Method (data)` spelled as the others spell rows, `Method(data)`.
fn title_of(name: &str, class: &str, method: &str) -> String {
    let strip = |s: &'_ str| -> String {
        match s.strip_prefix(class).and_then(|r| r.strip_prefix('.')) {
            Some(r) if !class.is_empty() && !r.is_empty() => r.to_string(),
            _ => s.to_string(),
        }
    };
    let title = strip(name.trim());
    let method = strip(method.trim());
    let method = method.split('(').next().unwrap_or("").trim_end();
    if method.is_empty() {
        return title;
    }
    match title
        .strip_prefix(method)
        .and_then(|r| r.strip_prefix(" ("))
    {
        Some(rest) => format!("{method}({rest}"),
        None => title,
    }
}

impl Doc {
    fn begin(&mut self, piece: Piece) {
        // Output outside a result (the run's own, in ResultSummary) is not kept.
        if piece == Piece::RunInfo || !self.open.is_empty() {
            self.piece = Some(piece);
            self.text.clear();
        }
    }
}

impl crate::xmldoc::XmlDoc for Doc {
    fn root(&mut self, _: &BytesStart<'_>) -> Result<(), String> {
        Ok(())
    }

    fn wants_text(&self) -> bool {
        self.piece.is_some()
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let limits = &self.limits.clone();
        let bad = |err: quick_xml::Error| format!("bad attribute: {err}");
        let bounded = |s: &str| {
            let mut out = String::new();
            push_bounded(&mut out, s, limits.max_output_bytes);
            out
        };
        let tag = e.local_name();
        match tag.as_ref() {
            b"Times" => {
                let [start, finish] = attrs(e, [b"start", b"finish"]).map_err(bad)?;
                self.times = (
                    timestamp_ms(start.as_deref()),
                    timestamp_ms(finish.as_deref()),
                );
            }
            b"Deployment" => {
                let [root] = attrs(e, [b"runDeploymentRoot"]).map_err(bad)?;
                self.deploy_root = root.map(|r| r.into_owned());
            }
            b"UnitTestResult" | b"TestResultAggregation" => {
                if self.open.len() >= MAX_INNER_DEPTH {
                    return Err(format!(
                        "results nested deeper than {MAX_INNER_DEPTH} levels"
                    ));
                }
                let [test_id, exec, name, outcome, duration, start, end, row] = attrs(
                    e,
                    [
                        b"testId",
                        b"executionId",
                        b"testName",
                        b"outcome",
                        b"duration",
                        b"startTime",
                        b"endTime",
                        b"dataRowInfo",
                    ],
                )
                .map_err(bad)?;
                let raw_outcome = outcome.as_deref().unwrap_or("").to_string();
                let inner = match self.open.last_mut() {
                    Some(parent) => {
                        parent.has_inner = true;
                        true
                    }
                    None => false,
                };
                self.open.push(Res {
                    test_id: test_id
                        .map(|s| s.trim().to_ascii_lowercase())
                        .unwrap_or_default(),
                    execution_id: exec.map(|s| s.trim().to_string()).unwrap_or_default(),
                    name: bounded(name.as_deref().unwrap_or("")),
                    outcome: match raw_outcome.trim() {
                        // A result without an outcome: TRX's default, `NotExecuted`? vstest
                        // always writes one; a missing one reads as the element's default.
                        "" => Outcome::NotExecuted,
                        o => Outcome::of(o),
                    },
                    // Only what is not a pass needs its words (most results pass).
                    raw_outcome: if raw_outcome.trim() == "Passed" {
                        String::new()
                    } else {
                        bounded(&raw_outcome)
                    },
                    duration_ms: duration.as_deref().and_then(timespan_ms),
                    start_ms: timestamp_ms(start.as_deref()),
                    end_ms: timestamp_ms(end.as_deref()),
                    data_row: row.and_then(|r| r.trim().parse().ok()),
                    inner,
                    ..Res::default()
                });
            }
            b"ErrorInfo" => self.in_error_info = true,
            b"TextMessages" => self.in_text_messages = true,
            b"ResultFile" => {
                if let Some(r) = self.open.last_mut() {
                    let [path] = attrs(e, [b"path"]).map_err(bad)?;
                    if let Some(p) = path.filter(|p| !p.trim().is_empty()) {
                        r.files.push(p.into_owned());
                    }
                }
            }
            b"UnitTest" | b"OrderedTest" | b"GenericTest" => {
                let [id, name, storage] = attrs(e, [b"id", b"name", b"storage"]).map_err(bad)?;
                let assembly = storage.as_deref().map(assembly_name).unwrap_or_default();
                let def = Def {
                    name: bounded(name.as_deref().unwrap_or("")),
                    assembly: self.shared(&assembly),
                    ..Def::default()
                };
                self.def = Some(def);
                self.def_id = id.map(|i| i.trim().to_ascii_lowercase());
            }
            b"TestMethod" if self.def.is_some() => {
                let [code_base, class, name, adapter] =
                    attrs(e, [b"codeBase", b"className", b"name", b"adapterTypeName"])
                        .map_err(bad)?;
                let assembly = code_base
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| self.shared(&assembly_name(&c)));
                let class = self.shared(&bounded(&class_name(class.as_deref().unwrap_or(""))));
                let adapter = self.shared(adapter.as_deref().unwrap_or(""));
                if let Some(def) = self.def.as_mut() {
                    if let Some(a) = assembly {
                        def.assembly = a;
                    }
                    def.class = class;
                    def.method = bounded(name.as_deref().unwrap_or(""));
                    def.adapter = adapter;
                }
            }
            b"TestCategoryItem" => {
                if let Some(def) = self.def.as_mut() {
                    let [cat] = attrs(e, [b"TestCategory"]).map_err(bad)?;
                    if let Some(c) = cat.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()) {
                        if !def.tags.contains(&c) {
                            def.tags.push(bounded(&c));
                        }
                    }
                }
            }
            b"ResultSummary" => {
                let [outcome] = attrs(e, [b"outcome"]).map_err(bad)?;
                self.summary_outcome = outcome.map(|o| o.trim().to_string());
            }
            b"RunInfo" => {
                let [outcome] = attrs(e, [b"outcome"]).map_err(bad)?;
                self.in_run_info = Some(outcome.map(|o| o.into_owned()).unwrap_or_default());
            }
            b"Text" if self.in_run_info.is_some() => self.begin(Piece::RunInfo),
            b"StdOut" => self.begin(Piece::StdOut),
            b"StdErr" => self.begin(Piece::StdErr),
            b"DebugTrace" => self.begin(Piece::DebugTrace),
            b"Message" if self.in_error_info => self.begin(Piece::ErrorMessage),
            b"Message" if self.in_text_messages => self.begin(Piece::TextMessage),
            b"StackTrace" if self.in_error_info => self.begin(Piece::ErrorStack),
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if self.piece.is_some() {
            push_bounded(&mut self.text, text, self.limits.max_output_bytes);
        }
    }

    fn end(&mut self, tag: &[u8]) {
        if let Some(piece) = self.piece {
            let closes = matches!(
                (piece, tag),
                (Piece::StdOut, b"StdOut")
                    | (Piece::StdErr, b"StdErr")
                    | (Piece::DebugTrace, b"DebugTrace")
                    | (Piece::TextMessage | Piece::ErrorMessage, b"Message")
                    | (Piece::ErrorStack, b"StackTrace")
                    | (Piece::RunInfo, b"Text")
            );
            if closes {
                self.piece = None;
                let text = std::mem::take(&mut self.text).replace("\r\n", "\n");
                if piece == Piece::RunInfo {
                    let outcome = self.in_run_info.as_deref().unwrap_or("");
                    if run_info_is_error(outcome, &text) {
                        self.run_errors.push(text.trim().to_string());
                    }
                    return;
                }
                let Some(r) = self.open.last_mut() else {
                    return;
                };
                match piece {
                    Piece::StdOut => r.stdout = text,
                    Piece::StdErr => r.stderr = text,
                    Piece::DebugTrace => r.debug = text,
                    Piece::TextMessage => {
                        if !text.trim().is_empty() {
                            r.messages.push(text.trim_end().to_string());
                        }
                    }
                    Piece::ErrorMessage => r.error_message = Some(text.trim_end().to_string()),
                    Piece::ErrorStack => r.error_stack = Some(text.trim_end().to_string()),
                    Piece::RunInfo => {}
                }
                return;
            }
        }
        match tag {
            b"UnitTestResult" | b"TestResultAggregation" => {
                if let Some(r) = self.open.pop() {
                    self.done.push(Box::new(r.held()));
                }
            }
            b"ErrorInfo" => self.in_error_info = false,
            b"TextMessages" => self.in_text_messages = false,
            b"RunInfo" => self.in_run_info = None,
            b"UnitTest" | b"OrderedTest" | b"GenericTest" => {
                if let (Some(def), Some(id)) = (self.def.take(), self.def_id.take()) {
                    self.defs.insert(id, def);
                }
            }
            _ => {}
        }
    }
}

/// A `RunInfo` the report keeps: an error (a crashed test host, an adapter that failed), not a
/// warning, and not one of xUnit v2's console lines that echo a test's failure
/// (`[xUnit.net 00:00:00.51]     Ns.Class.Test [FAIL]`), which the test's result already says.
fn run_info_is_error(outcome: &str, text: &str) -> bool {
    let echo = ["[FAIL]", "[SKIP]", "[PASS]"]
        .iter()
        .any(|m| text.trim_end().ends_with(m));
    let outcome = Outcome::of(outcome);
    !text.trim().is_empty()
        && !echo
        && matches!(
            outcome,
            Outcome::Error
                | Outcome::Failed
                | Outcome::Aborted
                | Outcome::Timeout
                | Outcome::Disconnected
                | Outcome::Other
        )
}

/// Reads TRX documents.
#[derive(Debug, Default)]
pub struct TrxCollector {
    tree: TestTree,
    unattributed: Vec<ReportError>,
    span: Option<(f64, f64)>,
    adapters: Vec<&'static str>,
    attachments: Vec<AttachmentSource>,
    attached: std::collections::HashSet<String>,
    hashed: HashMap<std::path::PathBuf, String>,
    warnings: Vec<ConvertWarning>,
}

impl TrxCollector {
    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut r = data;
        self.read_stream(&mut r, input, fallback_ms, limits)
    }

    /// Reads one document from a stream: the results are held (their text bounded by the
    /// limits) until the definitions after them are read, never the document.
    pub fn read_stream(
        &mut self,
        r: &mut dyn BufRead,
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut doc = Doc {
            limits: limits.clone(),
            ..Doc::default()
        };
        crate::xmldoc::read(r, input, &FORMAT, &mut doc)?;
        // Results the document ends inside of (a cut copy) are kept as they are.
        while let Some(r) = doc.open.pop() {
            doc.done.push(Box::new(r));
        }
        self.finish(doc, input, fallback_ms, limits)
    }

    fn finish(
        &mut self,
        mut doc: Doc,
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut folder = AttachmentFolder::of_input(input, limits.allow_outside_attachments);
        let (mut first, mut last) = (doc.times.0, doc.times.1);
        let no_def = Def::default();
        for res in std::mem::take(&mut doc.done) {
            if res.has_inner {
                continue;
            }
            let def = doc.defs.get(&res.test_id).unwrap_or(&no_def);
            if let Some(kind) = adapter_kind(&def.adapter) {
                if !self.adapters.contains(&kind) {
                    self.adapters.push(kind);
                }
            }
            let name = if res.name.trim().is_empty() {
                &def.name
            } else {
                &res.name
            };
            let mut title = title_of(name, &def.class, &def.method);
            if res.inner && title == title_of(&def.method, &def.class, "") {
                title = format!("{title} [data row {}]", res.data_row.unwrap_or(0));
            }
            let start = res.start_ms.unwrap_or(fallback_ms);
            let duration = res.duration_ms.or_else(|| {
                res.end_ms
                    .zip(res.start_ms)
                    .map(|(e, s)| e - s)
                    .filter(|d| *d >= 0.0 && *d < MAX_DURATION_MS)
            });
            first = Some(first.map_or(start, |f| f.min(start)));
            let end = start + duration.unwrap_or(0.0);
            last = Some(last.map_or(end, |l| l.max(end)));
            let mut a = attempt(&res, start, duration);
            for path in &res.files {
                let joined = match doc.deploy_root.as_deref().filter(|d| !d.trim().is_empty()) {
                    Some(root) => format!("{root}/In/{}/{path}", res.execution_id),
                    None => format!("In/{}/{path}", res.execution_id),
                };
                match folder.resolve(&joined.replace('\\', "/"), &mut self.hashed) {
                    Resolved::Found(att, file) => {
                        if self.attached.insert(att.id.clone()) {
                            self.attachments.push(AttachmentSource {
                                id: att.id.clone(),
                                path: file,
                            });
                        }
                        let list = a.attachments.get_or_insert_with(Vec::new);
                        if !list.iter().any(|x| x.id == att.id) {
                            list.push(att);
                        }
                    }
                    Resolved::Missing(message) => self.warnings.push(ConvertWarning {
                        input: input.to_string(),
                        line: 0,
                        message: format!("test {title:?}: {message}"),
                    }),
                    Resolved::Outside(message) => {
                        return Err(ConvertError::at_start(
                            input,
                            &format!("test {title:?}: {message}"),
                        ))
                    }
                }
            }
            let groups: Vec<String> = [&def.assembly, &def.class]
                .into_iter()
                .filter(|g| !g.is_empty())
                .map(|g| g.to_string())
                .collect();
            let mut test = Test::new(title.clone());
            test.tags = (!def.tags.is_empty()).then(|| def.tags.clone());
            crate::push_attempt(&mut test.attempts, a);
            self.tree.add((None, groups, title), test);
        }
        let errors = doc.run_errors.len();
        self.unattributed
            .extend(doc.run_errors.into_iter().map(ReportError::message));
        if let Some(o) = doc.summary_outcome.filter(|_| errors == 0) {
            if matches!(
                Outcome::of(&o),
                Outcome::Aborted | Outcome::Error | Outcome::Timeout | Outcome::Disconnected
            ) {
                self.unattributed.push(ReportError::message(format!(
                    "the test run's outcome is {o} (the TRX says no more)"
                )));
            }
        }
        let start = first.unwrap_or(fallback_ms);
        let end = last.unwrap_or(start).max(start);
        crate::times::widen(&mut self.span, start, end);
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, end) = self.span.unwrap_or((fallback_ms, fallback_ms));
        let (mut suites, mut tests) = self.tree.into_suites();
        // Attempts of one test from several results or documents: in the order they ran.
        let mut stack: Vec<&mut Suite> = suites.iter_mut().collect();
        let by_start = |t: &mut Test| {
            t.attempts.sort_by(|a, b| {
                let s = |x: &RunAttempt| x.start_timestamp.map_or(0.0, |t| t.0);
                s(a).total_cmp(&s(b))
            })
        };
        tests.iter_mut().for_each(by_start);
        while let Some(s) = stack.pop() {
            s.tests.iter_mut().flatten().for_each(by_start);
            stack.extend(s.suites.iter_mut().flatten());
        }
        let mut report =
            crate::build_report(suites, tests, self.unattributed, start, end - start, meta);
        let name = match self.adapters.as_slice() {
            [one] => *one,
            _ => "dotnet",
        };
        report.test_runner = Some(NamedVersion {
            name: name.into(),
            version: "unknown".into(),
            ..Default::default()
        });
        report
    }

    /// The files of the `ResultFile`s found (asked before [`into_report`](Self::into_report)).
    pub fn attachments(&mut self) -> Vec<AttachmentSource> {
        std::mem::take(&mut self.attachments)
    }

    /// `ResultFile`s whose files are missing.
    pub fn warnings(&mut self) -> Vec<ConvertWarning> {
        std::mem::take(&mut self.warnings)
    }
}

/// The attempt of one result.
fn attempt(res: &Res, start: f64, duration: Option<f64>) -> RunAttempt {
    let (status, note) = res.outcome.status(&res.raw_outcome);
    let mut a = RunAttempt::with_status(status);
    a.start_timestamp = Some(UnixTimestampMs(start.max(0.0)));
    a.duration = duration.map(DurationMs);
    let mut annotations: Vec<Annotation> = note.into_iter().collect();
    let message = res.error_message.clone().filter(|m| !m.trim().is_empty());
    let stack = res.error_stack.clone().filter(|s| !s.trim().is_empty());
    if status == TestStatus::Skipped {
        // A skipped test's ErrorInfo is why it was skipped (`[Ignore("…")]`, Inconclusive).
        if let (Some(skip), Some(m)) = (annotations.first_mut(), message) {
            skip.description = Some(m);
        }
    } else if message.is_some() || stack.is_some() {
        a.errors = Some(vec![ReportError {
            message,
            stack,
            ..Default::default()
        }]);
    } else if status == TestStatus::Failed && res.outcome != Outcome::Other {
        annotations.push(inferred_annotation(&format!(
            "the TRX outcome is {} with no ErrorInfo",
            res.raw_outcome.trim()
        )));
    }
    annotations.extend(res.messages.iter().map(|m| Annotation {
        kind: "message".into(),
        description: Some(m.clone()),
        ..Default::default()
    }));
    a.annotations = (!annotations.is_empty()).then_some(annotations);
    let stdio: Vec<TimedStdioEntry> = [
        (Stream::Stdout, &res.stdout),
        (Stream::Stdout, &res.debug),
        (Stream::Stderr, &res.stderr),
    ]
    .into_iter()
    .filter(|(_, t)| !t.is_empty())
    .map(|(s, t)| {
        let mut t = t.clone();
        if !t.ends_with('\n') {
            t.push('\n');
        }
        TimedStdioEntry::text(s, t)
    })
    .collect();
    a.stdio = (!stdio.is_empty()).then_some(stdio);
    a
}

crate::formats::reader!(TrxCollector, TrxCollector::into_report; streams read_stream;
    attachments attachments, warnings warnings);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        assert!(timespan_ms("00:00:00.0170545").is_some_and(|ms| (ms - 17.0545).abs() < 1e-9));
        assert_eq!(timespan_ms("00:01:02"), Some(62_000.0));
        assert_eq!(timespan_ms("1.00:00:00"), Some(86_400_000.0));
        assert_eq!(timespan_ms("bad"), None);
        assert_eq!(timespan_ms("-00:00:01"), None);
    }

    #[test]
    fn titles_take_one_shape() {
        let c = "Ns.CalcTests";
        // xUnit: fully qualified, arguments named.
        assert_eq!(title_of("Ns.CalcTests.Even(i: 2)", c, "Even"), "Even(i: 2)");
        assert_eq!(
            title_of("Should be even(i: 3)", c, "Even"),
            "Should be even(i: 3)"
        );
        // xUnit v3 under Microsoft.Testing.Platform: the method named fully too.
        assert_eq!(
            title_of("Ns.CalcTests.Fails", c, "Ns.CalcTests.Fails"),
            "Fails"
        );
        // MSTest: `Method (data)`.
        assert_eq!(title_of("Add (1,2,3)", c, "Add"), "Add(1,2,3)");
        assert_eq!(title_of("Add", c, "Add"), "Add");
        // NUnit's adapter.
        assert_eq!(title_of("Add(1,2,3)", c, "Add(1,2,3)"), "Add(1,2,3)");
        assert_eq!(
            class_name("Ns.CalcTests, Tests, Version=1.0.0.0, Culture=neutral"),
            c
        );
        assert_eq!(assembly_name("C:\\b\\Tests.DLL"), "Tests");
        assert_eq!(assembly_name("/b/Tests"), "Tests");
    }

    #[test]
    fn run_infos_kept_are_errors() {
        assert!(run_info_is_error("Error", "Test host process crashed"));
        assert!(!run_info_is_error(
            "Warning",
            "No test is available in x.dll"
        ));
        assert!(!run_info_is_error(
            "Error",
            "[xUnit.net 00:00:00.51]     Ns.C.T [FAIL]"
        ));
    }
}
