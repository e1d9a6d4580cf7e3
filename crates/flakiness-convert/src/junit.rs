//! JUnit XML (all the common dialects) into the report model, in one streaming pass of
//! quick-xml events. No DOM of the file is built; text is collected only where it is kept
//! (messages, stacks, output), each piece bounded.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::ops::ControlFlow;
use std::path::PathBuf;

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use flakiness_report::{
    Annotation, Attachment, DurationMs, Location, ReportError, RunAttempt, Stream, Suite,
    SuiteType, Test, TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::attachments::{AttachmentFolder, Resolved};
use crate::times::{parse_duration_secs, parse_timestamp_ms};
use crate::{
    inferred_annotation, push_bounded, AttachmentSource, ConvertError, ConvertWarning, Limits,
};

/// Deepest element nesting accepted.
pub const MAX_XML_DEPTH: usize = 1024;
/// Deepest nesting of `<testsuite>` elements accepted.
pub const MAX_SUITE_DEPTH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultKind {
    Failure,
    Error,
    Skipped,
    FlakyFailure,
    FlakyError,
    RerunFailure,
    RerunError,
}

impl ResultKind {
    fn of(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"failure" => ResultKind::Failure,
            b"error" => ResultKind::Error,
            b"skipped" => ResultKind::Skipped,
            b"flakyFailure" => ResultKind::FlakyFailure,
            b"flakyError" => ResultKind::FlakyError,
            b"rerunFailure" => ResultKind::RerunFailure,
            b"rerunError" => ResultKind::RerunError,
            _ => return None,
        })
    }
}

#[derive(Debug, Default)]
struct ResultRec {
    message: Option<String>,
    kind_attr: Option<String>,
    text: String,
    stack: String,
    out: String,
    err: String,
    time: Option<f64>,
    attachments: Vec<Attachment>,
}

#[derive(Debug, Default)]
struct Case {
    name: String,
    classname: String,
    time: Option<f64>,
    file: Option<String>,
    line: Option<i64>,
    timestamp: Option<f64>,
    /// gtest `status`/`result`, CTest `status`.
    not_run: bool,
    results: Vec<(ResultKind, ResultRec)>,
    out: String,
    err: String,
    properties: Vec<(String, String)>,
    attachments: Vec<Attachment>,
}

/// Where collected text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    None,
    CaseOut,
    CaseErr,
    ResultText,
    ResultStack,
    ResultOut,
    ResultErr,
    Property,
}

/// The tests of one suite by identity, without a copy of it: a testcase's identity is its
/// `classname` and its name, and every test of a suite has either no classname or the suite's
/// title as classname (a testcase naming another class goes to that class's own suite), so the
/// identity within a suite is (whether a classname was given, the test's title).
#[derive(Default)]
struct TestIndex {
    /// The tests read with a classname and without one.
    with_class: HashTable<Slot>,
    without_class: HashTable<Slot>,
    hasher: DefaultHashBuilder,
}

/// A test of a [`TestIndex`], and which of its attempts the latest document that has it added.
#[derive(Debug, Clone)]
struct Slot {
    /// Index into the suite's tests.
    test: usize,
    /// The hash of the test's title (set by [`TestIndex::insert`]): growing the table does not
    /// visit the tests.
    hash: u64,
    /// The latest document (a count of [`JunitCollector::read`]s) that has the test.
    document: u32,
    /// The test's first attempt from that document.
    first_attempt: u32,
    /// The testcases of this identity in that document, as far as they are known
    /// (spec/convert-junit.md, "Repeated testcases").
    repeats: Repeats,
}

/// The testcases of one identity in one document: reruns of one test, or distinct tests.
#[derive(Debug, Clone, Default)]
struct Repeats {
    /// One of them ended in a pass (a runner reruns only what did not pass).
    passed: bool,
    /// They were found to be distinct tests: the later ones are tests of their own.
    distinct: bool,
    /// How many there are.
    count: u32,
    /// Where in the test's attempts each one after the first starts, while they are reruns
    /// (allocates only for an identity that repeats).
    starts: Vec<u32>,
}

impl Repeats {
    fn first(attempts: &[RunAttempt]) -> Self {
        Repeats {
            passed: ended_in_pass(attempts),
            count: 1,
            ..Repeats::default()
        }
    }
}

/// True when the last of a testcase's attempts passed.
fn ended_in_pass(attempts: &[RunAttempt]) -> bool {
    attempts
        .last()
        .is_some_and(|a| a.status() == TestStatus::Passed)
}

impl std::fmt::Debug for TestIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIndex")
            .field("with_class", &self.with_class.len())
            .field("without_class", &self.without_class.len())
            .finish()
    }
}

impl TestIndex {
    fn table(&mut self, with_class: bool) -> &mut HashTable<Slot> {
        if with_class {
            &mut self.with_class
        } else {
            &mut self.without_class
        }
    }

    /// The slot of the test titled `title` (read with a classname or not) in `tests`.
    fn find(&mut self, tests: &[Test], with_class: bool, title: &str) -> Option<&mut Slot> {
        let hash = self.hasher.hash_one(title);
        self.table(with_class)
            .find_mut(hash, |s| s.hash == hash && tests[s.test].title == title)
    }

    /// Records `slot` (a test not yet in the index).
    fn insert(&mut self, tests: &[Test], with_class: bool, mut slot: Slot) {
        slot.hash = self.hasher.hash_one(tests[slot.test].title.as_str());
        let hash = slot.hash;
        self.table(with_class).insert_unique(hash, slot, |s| s.hash);
    }
}

/// Suites by kind and title, looked up without copying the title (once per testcase).
type TitleMap = hashbrown::HashMap<(SuiteType, String), usize>;

/// A borrowed key of [`TitleMap`]; hashes as the owned tuple does.
#[derive(Hash)]
struct TitleRef<'a>(SuiteType, &'a str);

impl hashbrown::Equivalent<(SuiteType, String)> for TitleRef<'_> {
    fn equivalent(&self, key: &(SuiteType, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

#[derive(Debug)]
struct Node {
    suite: Suite,
    children: Vec<usize>,
    /// Children by type and title: a file suite and a suite of the same title are two.
    /// (Node indexes: each child's own kind and title are its key, never copied. A child's
    /// title never changes while it is in the table; the table is emptied when it is taken.)
    /// Each entry keeps its hash: growing the table or passing over a colliding entry does
    /// not visit the child.
    child_by_title: HashTable<(usize, u64)>,
    tests: Vec<Test>,
    test_index: TestIndex,
    /// Start of the suite (Unix ms) and the time used so far by its cases: derives attempt
    /// start times when the cases carry none.
    start_ms: Option<f64>,
    elapsed_ms: f64,
    /// A root whose `<testsuite>` element has ended: nothing more can be added to it, unless
    /// a later root element has the same name.
    closed: bool,
    /// A root already handed to a [`RootSink`].
    taken: bool,
    /// A nextest stress run's iteration (`BINARY@stress-N`, the suffix dropped from the
    /// title): its testcases repeat those of the other iterations.
    stress: bool,
}

impl Node {
    fn new(kind: SuiteType, title: String) -> Self {
        Node {
            suite: Suite::new(kind, title),
            children: Vec::new(),
            child_by_title: HashTable::new(),
            tests: Vec::new(),
            test_index: TestIndex::default(),
            start_ms: None,
            elapsed_ms: 0.0,
            closed: false,
            taken: false,
            stress: false,
        }
    }
}

/// Most suite-level properties a collector keeps.
pub const MAX_SUITE_PROPERTIES: usize = 256;

/// Suites and tests gathered from one or more JUnit files of one run.
///
/// Reading a document is two jobs: parsing it (XML events, attributes, texts, attachments),
/// which makes whole testcases and suite boundaries ([`Op`]s), and building the suite tree
/// from them (the [`Tree`]). [`read_streaming`](Self::read_streaming) runs the building on a
/// thread of its own, fed in batches, so that it overlaps the parsing;
/// [`read`](Self::read) runs both on the caller's thread. The ops are the same either way.
#[derive(Debug, Default)]
pub struct JunitCollector {
    /// The suites and tests built so far.
    tree: Tree,
    /// Output of suites that belongs to no test.
    pub unattributed: Vec<ReportError>,
    /// Number of `<testcase>` elements read.
    pub testcases: usize,
    /// The runner the documents name (from the root element's `name`).
    pub runner: Option<String>,
    /// Files the inputs attach (`[[ATTACHMENT|path]]` lines, `attachment*` properties), one
    /// per id, to copy into the report's `attachments/` folder.
    pub attachments: Vec<AttachmentSource>,
    /// Things wrong with the inputs that did not stop the conversion (missing attachments…).
    pub warnings: Vec<ConvertWarning>,
    /// `<property name value>` pairs outside any testcase (suite and document properties, in
    /// document order, the first value of each name; at most [`MAX_SUITE_PROPERTIES`], values
    /// cut to 1 KiB). The report has
    /// no place for them; callers read run facts such as a commit id from them.
    pub suite_properties: Vec<(String, String)>,
    /// Ids of the files hashed so far, by resolved path.
    hashed: HashMap<PathBuf, String>,
    /// Ids already in `attachments`.
    attached: HashSet<String>,
    /// The last timestamp attribute read and its value: suites and testcases of one document
    /// mostly repeat it.
    last_timestamp: Option<(String, Option<f64>)>,
}

/// The suite tree of a [`JunitCollector`]: what the [`Op`]s of its documents build.
#[derive(Debug, Default)]
struct Tree {
    /// Boxed: a node is large, and the list grows with every suite of the run (growing it
    /// then copies pointers, not nodes).
    #[allow(clippy::vec_box)]
    nodes: Vec<Box<Node>>,
    roots: Vec<usize>,
    /// Roots by kind and title: keyed by the title a root was made with, which stays its key
    /// when a root suite named after its tests' file becomes that file's suite, and after the
    /// root is handed out (to tell when one comes back).
    root_by_title: TitleMap,
    /// Hashes the keys of the nodes' `child_by_title`.
    hasher: DefaultHashBuilder,
    /// Tests outside any `<testsuite>`.
    loose: Vec<Test>,
    loose_index: TestIndex,
    /// The current document is from a runner whose JUnit never writes a rerun as another
    /// testcase (Jest, Vitest, Playwright, Bun, Mocha): its repeated identities are distinct
    /// tests.
    never_reruns: bool,
    /// Earliest timestamp seen (Unix ms).
    earliest_ms: Option<f64>,
    /// Sum of the durations of the top-level suites (ms).
    total_ms: f64,
    /// The document being read was written by pytest (its suites are named `pytest`).
    pytest: bool,
    /// Whose JUnit the current document is: how its names carry suites (spec/identity.md §3).
    dialect: Dialect,
    /// Give each Playwright project (the `hostname` of its `<testsuite>`s) an environment of
    /// its own, as the official Playwright reporter does; set before reading.
    environment_per_project: bool,
    /// The Playwright projects seen, in order: environment `i` is project `i`.
    projects: Vec<String>,
    /// The environment of the testcases being read.
    current_environment: Option<u32>,
    /// Roots handed to a [`RootSink`] so far (a prefix of `roots`).
    emitted: usize,
    /// Something read after roots were handed out needed them back: see
    /// [`JunitCollector::needs_rereading`].
    conflict: bool,
    /// Documents read so far, the one being read included: tells a rerun (the same test
    /// again in one document) from another run or shard of it (in another document).
    documents: u32,
}

/// What parsing a document gives the building of its suite tree, in document order.
#[derive(Debug)]
enum Op {
    /// The root element: whose JUnit the document is.
    Root {
        dialect: Dialect,
        pytest: bool,
        never_reruns: bool,
    },
    /// A `<testsuite>` element begins (`empty`: and ends, `<testsuite/>`). `ts` and `time`
    /// are parsed (Unix ms, seconds).
    SuiteStart {
        title: Option<String>,
        file: Option<String>,
        ts: Option<f64>,
        time: Option<f64>,
        host: Option<String>,
        empty: bool,
    },
    /// A `<testsuite>` element ends.
    SuiteEnd,
    /// A testcase, whole; `suite_case`: the test made for a `<failure>`/`<error>` right in a
    /// `<testsuite>`, named after that suite.
    Case { case: Case, suite_case: bool },
    /// The document ends.
    End,
}

/// Where the parsing of a document sends its [`Op`]s. `Break`: the output could not be
/// written (a [`RootSink`] stopped), the reading stops.
trait Ops {
    fn push(&mut self, op: Op) -> ControlFlow<()>;
    /// Every op pushed has been applied (and what they completed handed out).
    fn finish(&mut self) -> ControlFlow<()>;
}

/// Applies ops to a tree as they come, on the parsing thread.
struct Build<'t, 's> {
    tree: &'t mut Tree,
    /// The nodes of the open `<testsuite>` elements.
    suites: Vec<usize>,
    fallback_ms: f64,
    sink: Option<&'s mut (dyn RootSink + Send)>,
}

impl<'t, 's> Build<'t, 's> {
    fn new(
        tree: &'t mut Tree,
        fallback_ms: f64,
        sink: Option<&'s mut (dyn RootSink + Send)>,
    ) -> Self {
        Build {
            tree,
            suites: Vec::new(),
            fallback_ms,
            sink,
        }
    }

    fn emit(&mut self) -> ControlFlow<()> {
        match self.sink.as_deref_mut() {
            Some(sink) => self.tree.emit_closed(sink),
            None => ControlFlow::Continue(()),
        }
    }

    fn apply(&mut self, op: Op) -> ControlFlow<()> {
        match op {
            Op::Root {
                dialect,
                pytest,
                never_reruns,
            } => {
                let t = &mut *self.tree;
                t.dialect = dialect;
                t.pytest = pytest;
                t.never_reruns = never_reruns;
                if t.pytest && t.emitted > 0 {
                    t.conflict = true;
                }
            }
            Op::SuiteStart {
                title,
                file,
                ts,
                time,
                host,
                empty,
            } => {
                let idx = self
                    .tree
                    .suite_start(&self.suites, title, file, ts, time, host);
                if !empty {
                    self.suites.push(idx);
                }
            }
            Op::SuiteEnd => {
                if let (Some(i), true) = (self.suites.pop(), self.suites.is_empty()) {
                    // A stress iteration's suite stays open: the next iteration adds to it,
                    // until the document ends.
                    let node = &mut self.tree.nodes[i];
                    node.closed = !node.stress;
                    return self.emit();
                }
            }
            Op::Case {
                mut case,
                suite_case,
            } => {
                let suite = self.suites.last().copied();
                if suite_case {
                    if let Some(s) = suite {
                        case.name = self.tree.nodes[s].suite.title.clone();
                    }
                }
                self.tree.finish_case(case, suite, self.fallback_ms);
            }
            Op::End => {
                let t = &mut *self.tree;
                let mut stress = false;
                for &root in &t.roots[t.emitted..] {
                    let node = &mut t.nodes[root];
                    if node.stress && !node.closed {
                        node.closed = true;
                        stress = true;
                    }
                }
                if stress {
                    return self.emit();
                }
            }
        }
        ControlFlow::Continue(())
    }
}

impl Ops for Build<'_, '_> {
    fn push(&mut self, op: Op) -> ControlFlow<()> {
        self.apply(op)
    }

    fn finish(&mut self) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// Ops handed to a [`Build`] on a thread of its own, in batches of this many.
const OPS_BATCH: usize = 512;

/// Sends ops in batches to the thread building the tree.
struct Pipe<'scope> {
    batch: Vec<Op>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<Op>>>,
    thread: Option<std::thread::ScopedJoinHandle<'scope, ControlFlow<()>>>,
}

impl<'scope> Pipe<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        mut build: Build<'env, 'env>,
    ) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Op>>(4);
        let thread = scope.spawn(move || {
            for batch in rx {
                for op in batch {
                    build.apply(op)?;
                }
            }
            ControlFlow::Continue(())
        });
        Pipe {
            batch: Vec::with_capacity(OPS_BATCH),
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    fn send(&mut self) -> ControlFlow<()> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(OPS_BATCH));
        match &self.tx {
            // A closed channel: the building thread stopped on a sink that could not go on.
            Some(tx) if tx.send(batch).is_ok() => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    }
}

impl Ops for Pipe<'_> {
    fn push(&mut self, op: Op) -> ControlFlow<()> {
        self.batch.push(op);
        if self.batch.len() >= OPS_BATCH {
            return self.send();
        }
        ControlFlow::Continue(())
    }

    fn finish(&mut self) -> ControlFlow<()> {
        let sent = if self.batch.is_empty() {
            ControlFlow::Continue(())
        } else {
            self.send()
        };
        self.tx = None;
        let built = match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => ControlFlow::Continue(()),
        };
        if sent.is_break() || built.is_break() {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// Receives the root suites of [`JunitCollector::read_streaming`] as soon as they are complete.
pub trait RootSink {
    /// Takes one finished root suite (a top-level `<testsuite>` with everything in it).
    /// `Break` stops the reading: [`JunitCollector::read_streaming`] then returns an error
    /// whose message says the output failed; the sink keeps its own account of why.
    fn root_suite(&mut self, suite: Suite) -> ControlFlow<()>;
}

/// The text an entity or character reference stands for: character references and the five
/// predefined entities are resolved; any other entity is kept as written, never expanded (no
/// DTD is read).
/// (The five predefined entities, the references met most, are answered without allocating.)
pub(crate) fn ref_text(r: &quick_xml::events::BytesRef<'_>) -> Cow<'static, str> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Cow::Owned(c.to_string()),
        _ => {
            let raw = String::from_utf8_lossy(r);
            match quick_xml::escape::resolve_predefined_entity(&raw) {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(format!("&{raw};")),
            }
        }
    }
}

/// The values of the attributes `names` (the first of each name), in one pass over the
/// element's attributes; borrowed from the element unless something had to be replaced.
pub(crate) fn attrs<'a, const N: usize>(
    e: &'a BytesStart<'_>,
    names: [&[u8]; N],
) -> Result<[Option<Cow<'a, str>>; N], quick_xml::Error> {
    let mut out: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(quick_xml::Error::from)?;
        let Some(i) = names.iter().position(|n| *n == a.key.as_ref()) else {
            continue;
        };
        if out[i].is_some() {
            continue;
        }
        // Most values hold no reference, line break or tab: read as written, without
        // going through the unescaping (the same value; invalid UTF-8 takes the long way, to
        // its error).
        if let Cow::Borrowed(v) = a.value {
            if !v.iter().any(|b| matches!(b, b'&' | b'\r' | b'\n' | b'\t')) {
                if let Ok(v) = std::str::from_utf8(v) {
                    out[i] = Some(Cow::Borrowed(v));
                    continue;
                }
            }
        }
        // Attribute-value normalisation (XML 1.0 §3.3.3): a literal line break or tab in the
        // value reads as a blank (`\r\n` as one); one written as a reference (`&#10;`) stays.
        if memchr::memchr3(b'\r', b'\n', b'\t', &a.value).is_some() {
            let raw = String::from_utf8_lossy(&a.value);
            let blanks = raw.replace("\r\n", " ").replace(['\r', '\n', '\t'], " ");
            out[i] = Some(Cow::Owned(match quick_xml::escape::unescape(&blanks) {
                Ok(v) => v.into_owned(),
                Err(_) => blanks,
            }));
            continue;
        }
        out[i] = Some(match a.unescape_value() {
            Ok(v) => v,
            // An entity the document declares itself: kept as written, never expanded.
            Err(quick_xml::Error::Escape(_)) => {
                Cow::Owned(String::from_utf8_lossy(&a.value).into_owned())
            }
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

impl JunitCollector {
    /// [`parse_timestamp_ms`], remembering the last answer.
    fn timestamp_ms(&mut self, text: &str) -> Option<f64> {
        match &self.last_timestamp {
            Some((t, ms)) if t == text => *ms,
            _ => {
                let ms = parse_timestamp_ms(text);
                self.last_timestamp = Some((text.to_string(), ms));
                ms
            }
        }
    }

    /// Reads one JUnit XML document. `name` is the input's path (`-` for standard input):
    /// attachment paths are relative to its folder. `fallback_ms` is the start time used when
    /// the file has none (the input file's modification time).
    ///
    /// Documents declaring ISO-8859-1, windows-1252 or US-ASCII are transcoded to UTF-8 as they
    /// stream; any other encoding than UTF-8 is an error.
    pub fn read<R: BufRead>(
        &mut self,
        input: R,
        name: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        self.read_with(input, name, fallback_ms, limits, None)
    }

    /// Like [`read`](Self::read), but hands each root suite to `sink` as soon as its
    /// `<testsuite>` element ends (in document order), so that the collector holds one root
    /// suite at a time instead of the whole run. The suites handed out are not in
    /// [`into_parts`](Self::into_parts) (nor in [`junit_report`](crate::junit_report)).
    ///
    /// A root is held back while an earlier one may still grow (testcases outside any
    /// `<testsuite>` make roots of their classes, complete only at the end), and nothing is
    /// handed out for pytest's documents, whose suites are regrouped at the end. When a later
    /// element needs a suite already handed out (a second root element of the same name, or a
    /// pytest document after others), [`needs_rereading`](Self::needs_rereading) turns true:
    /// the caller must then discard what it received and read every input again with
    /// [`read`](Self::read).
    ///
    /// The suites are built (and handed to `sink`) on a second thread while this one parses.
    pub fn read_streaming<R: BufRead>(
        &mut self,
        input: R,
        name: &str,
        fallback_ms: f64,
        limits: &Limits,
        sink: &mut (dyn RootSink + Send),
    ) -> Result<(), ConvertError> {
        self.read_with(input, name, fallback_ms, limits, Some(sink))
    }

    /// Whether suites handed out by [`read_streaming`](Self::read_streaming) were needed
    /// again (see there): the inputs must then be read again without streaming.
    pub fn needs_rereading(&self) -> bool {
        self.tree.conflict
    }

    /// Earliest timestamp seen (Unix ms).
    pub fn earliest_ms(&self) -> Option<f64> {
        self.tree.earliest_ms
    }

    /// Sum of the durations of the top-level suites (ms).
    pub fn total_ms(&self) -> f64 {
        self.tree.total_ms
    }

    /// The Playwright projects seen, in order: environment `i` is project `i` (when
    /// [`set_environment_per_project`](Self::set_environment_per_project) is on).
    pub fn projects(&self) -> &[String] {
        &self.tree.projects
    }

    /// Gives each Playwright project (the `hostname` of its `<testsuite>`s) an environment of
    /// its own, as the official Playwright reporter does; set before reading.
    pub fn set_environment_per_project(&mut self, on: bool) {
        self.tree.environment_per_project = on;
    }

    /// Parses the document on this thread; builds its suites here too without a sink, on a
    /// second thread with one. The tree is moved out for the reading (the parsing never
    /// touches it: it only sends ops), and back.
    fn read_with<R: BufRead>(
        &mut self,
        input: R,
        name: &str,
        fallback_ms: f64,
        limits: &Limits,
        sink: Option<&mut (dyn RootSink + Send)>,
    ) -> Result<(), ConvertError> {
        let mut tree = std::mem::take(&mut self.tree);
        tree.documents = tree.documents.wrapping_add(1);
        let read = match sink {
            Some(sink) => std::thread::scope(|scope| {
                let mut pipe = Pipe::start(scope, Build::new(&mut tree, fallback_ms, Some(sink)));
                let read = self.read_impl(input, name, limits, &mut pipe);
                // After an error, what was sent is still built (and the thread joined).
                let _ = pipe.finish();
                read
            }),
            None => {
                let mut build = Build::new(&mut tree, fallback_ms, None);
                self.read_impl(input, name, limits, &mut build)
            }
        };
        self.tree = tree;
        read
    }

    fn read_impl<R: BufRead>(
        &mut self,
        input: R,
        name: &str,
        limits: &Limits,
        ops: &mut dyn Ops,
    ) -> Result<(), ConvertError> {
        // Text runs, CDATA sections and comments longer than this are cut short before the
        // parser buffers them (it holds a whole event in memory): what is kept of them is
        // bounded by the limit anyway.
        let cap = u64::try_from(limits.max_output_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(RUN_MARGIN);
        let mut reader = Reader::from_reader(Source::new(input, cap));
        reader.config_mut().trim_text(false);
        let utf8_bom = {
            let head = reader
                .get_mut()
                .fill_buf()
                .map_err(|e| ConvertError::at(name, 0, format!("cannot read the input: {e}")))?;
            if crate::is_utf16(head)
                || head.starts_with(&[0, b'<', 0])
                || head.starts_with(&[b'<', 0])
            {
                return Err(ConvertError::at(name, 0, crate::UTF16_MESSAGE.into()));
            }
            head.starts_with(b"\xEF\xBB\xBF")
        };
        let mut folder = AttachmentFolder::of_input(name, limits.allow_outside_attachments);
        // The output element being read, where its text starts in its buffer, and its line.
        let mut stdio_mark: Option<(Sink, usize, usize)> = None;
        let mut first_event = true;
        let mut buf = Vec::new();
        // `<testsuite>` elements open.
        let mut open_suites = 0usize;
        let mut depth = 0usize;
        let mut case: Option<Case> = None;
        let mut result: Option<(ResultKind, ResultRec)> = None;
        // A `<failure>`/`<error>` right in a `<testsuite>` (a class that could not start):
        // a test of its own, named after the suite, ended with the element.
        let mut suite_case = false;
        let mut sink = Sink::None;
        let mut sink_stack: Vec<Sink> = Vec::new();
        let mut prop: Option<(String, String)> = None;
        let mut prop_at = (0usize, 0u64);
        let mut suite_text = String::new();
        let mut in_suite_text = false;
        let mut saw_root = false;

        let fail = |reader: &Reader<Source<R>>, message: String| {
            let source = reader.get_ref();
            ConvertError::at(name, source.input_offset(source.consumed), message)
        };
        let stopped = |reader: &Reader<Source<R>>| {
            fail(reader, "stopped: the output could not be written".into())
        };

        loop {
            // The line the event starts on (1-based).
            let event_line = reader.get_ref().newlines + 1;
            let event_at = {
                let source = reader.get_ref();
                (event_line, source.input_offset(source.consumed))
            };
            let event = match reader.read_event_into(&mut buf) {
                Ok(e) => e,
                Err(e) => {
                    return Err(ConvertError::at(
                        name,
                        reader.get_ref().input_offset(reader.error_position()),
                        format!("malformed XML: {e}"),
                    ))
                }
            };
            let is_first = std::mem::replace(&mut first_event, false);
            let (start, empty) = match &event {
                Event::Start(e) => (Some(e.clone()), false),
                Event::Empty(e) => (Some(e.clone()), true),
                _ => (None, false),
            };
            if let Some(e) = start {
                let root = e.local_name();
                if !saw_root {
                    if !matches!(root.as_ref(), b"testsuites" | b"testsuite" | b"testcase") {
                        let root = String::from_utf8_lossy(root.as_ref()).into_owned();
                        return Err(fail(&reader, format!("not a JUnit XML file: the root element is <{root}>, not <testsuites> or <testsuite>")));
                    }
                    // A root attribute that cannot be read names no dialect (the element's
                    // other attributes are checked where they are used).
                    let [root_name, root_id] = attrs(&e, [b"name", b"id"]).unwrap_or_default();
                    let root_name = root_name.unwrap_or_default();
                    let dialect = Dialect::of(
                        root.as_ref() == b"testsuites",
                        &root_name,
                        root_id.is_some(),
                    );
                    let never_reruns = dialect != Dialect::Generic
                        || matches!(
                            runner_of(&root_name),
                            Some("jest" | "vitest" | "playwright" | "bun" | "mocha")
                        );
                    if let Some(r) = runner_of(&root_name)
                        .or((dialect == Dialect::Playwright).then_some("playwright"))
                    {
                        self.runner.get_or_insert_with(|| r.to_string());
                    }
                    let pytest = root_name == "pytest tests" || root_name == "pytest";
                    let root = Op::Root {
                        dialect,
                        pytest,
                        never_reruns,
                    };
                    if ops.push(root).is_break() {
                        return Err(stopped(&reader));
                    }
                }
                saw_root = true;
                if !empty {
                    depth += 1;
                    if depth > MAX_XML_DEPTH {
                        return Err(fail(
                            &reader,
                            format!("elements nested deeper than {MAX_XML_DEPTH} levels"),
                        ));
                    }
                }
                let tag = e.local_name();
                let tag = tag.as_ref();
                let at = |r: &Reader<Source<R>>, err: quick_xml::Error| {
                    fail(r, format!("bad attribute: {err}"))
                };
                let mut new_sink = Sink::None;
                if case.is_none()
                    && result.is_none()
                    && open_suites > 0
                    && matches!(
                        ResultKind::of(tag),
                        Some(ResultKind::Failure | ResultKind::Error)
                    )
                {
                    // Named after the suite when it ends (see `Op::Case`).
                    suite_case = true;
                    case = Some(Case::default());
                }
                match tag {
                    b"testsuite" => {
                        if open_suites >= MAX_SUITE_DEPTH {
                            return Err(fail(
                                &reader,
                                format!("<testsuite> nested deeper than {MAX_SUITE_DEPTH} levels"),
                            ));
                        }
                        let [title, file, ts, time, host] =
                            attrs(&e, [b"name", b"file", b"timestamp", b"time", b"hostname"])
                                .map_err(|x| at(&reader, x))?;
                        let start = Op::SuiteStart {
                            title: title.map(Cow::into_owned),
                            file: file.map(Cow::into_owned),
                            ts: ts.and_then(|t| self.timestamp_ms(&t)),
                            time: time.and_then(|t| parse_duration_secs(&t)),
                            host: host.map(Cow::into_owned),
                            empty,
                        };
                        if ops.push(start).is_break() {
                            return Err(stopped(&reader));
                        }
                        if !empty {
                            open_suites += 1;
                        }
                    }
                    b"testcase" if case.is_none() => {
                        self.testcases += 1;
                        let [status, result_attr, name, classname, class, time, file, line, ts] =
                            attrs(
                                &e,
                                [
                                    b"status",
                                    b"result",
                                    b"name",
                                    b"classname",
                                    b"class",
                                    b"time",
                                    b"file",
                                    b"line",
                                    b"timestamp",
                                ],
                            )
                            .map_err(|x| at(&reader, x))?;
                        let is = |v: &Option<Cow<'_, str>>, words: &[&str]| {
                            v.as_deref()
                                .is_some_and(|v| words.iter().any(|w| v.eq_ignore_ascii_case(w)))
                        };
                        let c = Case {
                            name: name.map(Cow::into_owned).unwrap_or_default(),
                            classname: classname.or(class).map(Cow::into_owned).unwrap_or_default(),
                            time: time.and_then(|t| parse_duration_secs(&t)),
                            file: file.map(Cow::into_owned),
                            line: line.and_then(|l| l.trim().parse().ok()),
                            timestamp: ts.and_then(|t| self.timestamp_ms(&t)),
                            not_run: is(&status, &["notrun", "disabled", "skipped"])
                                || is(&result_attr, &["skipped", "suppressed"]),
                            ..Case::default()
                        };
                        if empty {
                            let op = Op::Case {
                                case: c,
                                suite_case: false,
                            };
                            if ops.push(op).is_break() {
                                return Err(stopped(&reader));
                            }
                        } else {
                            case = Some(c);
                        }
                    }
                    _ if case.is_some() && result.is_none() && ResultKind::of(tag).is_some() => {
                        let kind = ResultKind::of(tag).unwrap_or(ResultKind::Failure);
                        let [message, kind_attr, time] = attrs(&e, [b"message", b"type", b"time"])
                            .map_err(|x| at(&reader, x))?;
                        let rec = ResultRec {
                            message: message.map(Cow::into_owned),
                            kind_attr: kind_attr.map(Cow::into_owned),
                            time: time.and_then(|t| parse_duration_secs(&t)),
                            ..ResultRec::default()
                        };
                        if empty {
                            if let Some(c) = case.as_mut() {
                                c.results.push((kind, rec));
                            }
                            if end_suite_case(&mut suite_case, &mut case, ops).is_break() {
                                return Err(stopped(&reader));
                            }
                        } else {
                            result = Some((kind, rec));
                            new_sink = Sink::ResultText;
                        }
                    }
                    b"stackTrace" if result.is_some() => new_sink = Sink::ResultStack,
                    b"system-out" | b"system-err" => {
                        let out = tag == b"system-out";
                        new_sink = match (result.is_some(), case.is_some()) {
                            (true, _) => {
                                if out {
                                    Sink::ResultOut
                                } else {
                                    Sink::ResultErr
                                }
                            }
                            (false, true) => {
                                if out {
                                    Sink::CaseOut
                                } else {
                                    Sink::CaseErr
                                }
                            }
                            (false, false) => {
                                in_suite_text = !empty;
                                Sink::None
                            }
                        };
                        if !empty && new_sink != Sink::None {
                            let from = match (new_sink, &case, &result) {
                                (Sink::CaseOut, Some(c), _) => c.out.len(),
                                (Sink::CaseErr, Some(c), _) => c.err.len(),
                                (Sink::ResultOut, _, Some((_, r))) => r.out.len(),
                                (Sink::ResultErr, _, Some((_, r))) => r.err.len(),
                                _ => 0,
                            };
                            stdio_mark = Some((new_sink, from, reader.get_ref().newlines + 1));
                        }
                    }
                    b"property"
                        if case.is_none() && self.suite_properties.len() < MAX_SUITE_PROPERTIES =>
                    {
                        let [pname, value] =
                            attrs(&e, [b"name", b"value"]).map_err(|x| at(&reader, x))?;
                        // The first value of each name is kept (Surefire repeats the same
                        // properties in every suite).
                        let known = |k: &str| self.suite_properties.iter().any(|(n, _)| n == k);
                        if let (Some(k), Some(v), false) =
                            (pname.as_deref(), value, pname.as_deref().is_some_and(known))
                        {
                            let mut v = v.into_owned();
                            if v.len() > 1024 {
                                let mut cut = 1024;
                                while !v.is_char_boundary(cut) {
                                    cut -= 1;
                                }
                                v.truncate(cut);
                            }
                            self.suite_properties.push((k.to_string(), v));
                        }
                    }
                    b"property" if case.is_some() => {
                        let [pname, value] =
                            attrs(&e, [b"name", b"value"]).map_err(|x| at(&reader, x))?;
                        let pname = pname.map(Cow::into_owned).unwrap_or_default();
                        let value = value.map(Cow::into_owned);
                        match (empty, value) {
                            (true, v) => {
                                if let Some(c) = case.as_mut() {
                                    let p = (pname, v.unwrap_or_default());
                                    self.property(c, p, &mut folder, name, event_at)?;
                                }
                            }
                            (false, v) => {
                                prop = Some((pname, v.unwrap_or_default()));
                                prop_at = event_at;
                                new_sink = Sink::Property;
                            }
                        }
                    }
                    _ => {}
                }
                if !empty {
                    sink_stack.push(sink);
                    if new_sink != Sink::None {
                        sink = new_sink;
                    }
                }
                buf.clear();
                continue;
            }
            match event {
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    let tag = e.local_name();
                    if matches!(tag.as_ref(), b"system-out" | b"system-err") {
                        if let Some((sink, from, line)) = stdio_mark.take() {
                            let (c, r) = (case.as_mut(), result.as_mut().map(|(_, r)| r));
                            let at = (line, event_at.1);
                            self.stdio_attachments(sink, from, at, c, r, &mut folder, name)?;
                        }
                    }
                    match tag.as_ref() {
                        b"testsuite" => {
                            open_suites = open_suites.saturating_sub(1);
                            if ops.push(Op::SuiteEnd).is_break() {
                                return Err(stopped(&reader));
                            }
                        }
                        b"testcase" => {
                            if let Some(c) = case.take() {
                                let op = Op::Case {
                                    case: c,
                                    suite_case: false,
                                };
                                if ops.push(op).is_break() {
                                    return Err(stopped(&reader));
                                }
                            }
                        }
                        b"property" => {
                            if let (Some(p), Some(c)) = (prop.take(), case.as_mut()) {
                                self.property(c, p, &mut folder, name, prop_at)?;
                            }
                        }
                        b"system-out" | b"system-err" if in_suite_text && case.is_none() => {
                            let text = std::mem::take(&mut suite_text);
                            if !text.trim().is_empty() && tag.as_ref() == b"system-err" {
                                self.unattributed.push(ReportError {
                                    message: Some(text),
                                    ..Default::default()
                                });
                            }
                            in_suite_text = false;
                        }
                        t if ResultKind::of(t).is_some() => {
                            if let (Some(r), Some(c)) = (result.take(), case.as_mut()) {
                                c.results.push(r);
                            }
                            if end_suite_case(&mut suite_case, &mut case, ops).is_break() {
                                return Err(stopped(&reader));
                            }
                        }
                        _ => {}
                    }
                    sink = sink_stack.pop().unwrap_or(Sink::None);
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    // Borrowed from the parser's buffer unless something had to be replaced.
                    let text: Cow<'_, str> = match &event {
                        Event::Text(t) => t
                            .xml_content()
                            .map_err(|e| fail(&reader, format!("text is not valid UTF-8: {e}")))?,
                        Event::CData(t) => t
                            .decode()
                            .map_err(|e| fail(&reader, format!("CDATA is not valid UTF-8: {e}")))?,
                        // Character references and the five predefined entities are resolved;
                        // any other entity is kept as written: never expanded (no DTD is read).
                        Event::GeneralRef(r) => ref_text(r),
                        _ => Cow::Borrowed(""),
                    };
                    self.collect(&text, sink, &mut case, &mut result, &mut prop, limits);
                    if in_suite_text {
                        push_bounded(&mut suite_text, &text, limits.max_output_bytes);
                    }
                }
                // Only a declaration opening the document names its encoding.
                Event::Decl(d) if is_first => {
                    if let Some(Ok(enc)) = d.encoding() {
                        let enc = String::from_utf8_lossy(&enc).trim().to_ascii_lowercase();
                        match Charset::of_label(&enc) {
                            // A UTF-8 byte order mark outweighs the declaration.
                            Some(_) if utf8_bom => {}
                            Some(charset) => reader.get_mut().set_charset(charset),
                            None => {
                                return Err(fail(
                                    &reader,
                                    format!(
                                        "encoding {enc:?} is not supported: convert the file to UTF-8 (UTF-8, US-ASCII, ISO-8859-1 and windows-1252 are read)"
                                    ),
                                ));
                            }
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        if !saw_root {
            return Err(ConvertError::at(
                name,
                0,
                "not a JUnit XML file: no element found".into(),
            ));
        }
        if depth != 0 || case.is_some() {
            return Err(ConvertError::at(
                name,
                reader.get_ref().input_offset(reader.buffer_position()),
                "truncated XML: the document ends inside an element".into(),
            ));
        }
        if ops.push(Op::End).is_break() || ops.finish().is_break() {
            return Err(stopped(&reader));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn collect(
        &mut self,
        text: &str,
        sink: Sink,
        case: &mut Option<Case>,
        result: &mut Option<(ResultKind, ResultRec)>,
        prop: &mut Option<(String, String)>,
        limits: &Limits,
    ) {
        let limit = limits.max_output_bytes;
        match sink {
            Sink::None => {}
            Sink::CaseOut => {
                if let Some(c) = case {
                    push_bounded(&mut c.out, text, limit);
                }
            }
            Sink::CaseErr => {
                if let Some(c) = case {
                    push_bounded(&mut c.err, text, limit);
                }
            }
            Sink::ResultText | Sink::ResultStack | Sink::ResultOut | Sink::ResultErr => {
                if let Some((_, r)) = result {
                    let target = match sink {
                        Sink::ResultText => &mut r.text,
                        Sink::ResultStack => &mut r.stack,
                        Sink::ResultOut => &mut r.out,
                        _ => &mut r.err,
                    };
                    push_bounded(target, text, limit);
                }
            }
            Sink::Property => {
                if let Some((_, v)) = prop {
                    push_bounded(v, text, limit);
                }
            }
        }
    }
}

impl Tree {
    /// A `<testsuite>` begins, in the suites `suites` (their nodes, outermost first): its node.
    fn suite_start(
        &mut self,
        suites: &[usize],
        title: Option<String>,
        file: Option<String>,
        ts: Option<f64>,
        time: Option<f64>,
        host: Option<String>,
    ) -> usize {
        if suites.is_empty() {
            self.current_environment = match host {
                Some(h)
                    if self.environment_per_project
                        && self.dialect == Dialect::Playwright
                        && !h.is_empty() =>
                {
                    let i = match self.projects.iter().position(|p| *p == h) {
                        Some(i) => i,
                        None => {
                            self.projects.push(h);
                            self.projects.len() - 1
                        }
                    };
                    u32::try_from(i).ok()
                }
                _ => None,
            };
        }
        let title = title.as_deref().unwrap_or_default();
        let (title, stress) = match stress_iteration(title) {
            Some(binary) if suites.is_empty() => (binary, true),
            _ => (title, false),
        };
        let (kind, title) = suite_identity(title, file.as_deref(), self.dialect, suites.is_empty());
        let parent = suites.last().copied();
        let idx = self.child(parent, kind, &title);
        let node = &mut self.nodes[idx];
        node.stress |= stress;
        // A file suite is at its file (taken from the base directory, then made relative to
        // the git root, as every location).
        let file = file.or_else(|| (kind == SuiteType::File).then(|| title.clone()));
        if let Some(file) = file {
            node.suite
                .location
                .get_or_insert_with(|| Location::new(file, 0, 0));
        }
        if node.start_ms.is_none() {
            node.start_ms = ts;
        }
        if let Some(ts) = ts {
            self.earliest_ms = Some(self.earliest_ms.map_or(ts, |e| e.min(ts)));
        }
        if parent.is_none() {
            self.total_ms += time.unwrap_or(0.0) * 1000.0;
        }
        idx
    }

    fn child(&mut self, parent: Option<usize>, kind: SuiteType, title: &str) -> usize {
        let hash = self.hasher.hash_one(TitleRef(kind, title));
        let nodes = &self.nodes;
        let existing = match parent {
            Some(p) => nodes[p]
                .child_by_title
                .find(hash, |&(c, h)| {
                    h == hash && {
                        let s = &nodes[c].suite;
                        s.kind == kind && s.title == title
                    }
                })
                .map(|&(c, _)| c),
            None => self.root_by_title.get(&TitleRef(kind, title)).copied(),
        };
        if let Some(i) = existing {
            if self.nodes[i].taken {
                // A root already handed out gets more content: only a whole reading can merge it.
                self.conflict = true;
            }
            return i;
        }
        let i = self.nodes.len();
        self.nodes
            .push(Box::new(Node::new(kind, title.to_string())));
        match parent {
            Some(p) => {
                self.nodes[p].children.push(i);
                self.nodes[p]
                    .child_by_title
                    .insert_unique(hash, (i, hash), |&(_, h)| h);
            }
            None => {
                self.roots.push(i);
                self.root_by_title.insert((kind, title.to_string()), i);
            }
        }
        i
    }

    /// Hands the completed roots, in order, to `sink` (none while an earlier root is open, and
    /// none for pytest's documents).
    fn emit_closed(&mut self, sink: &mut dyn RootSink) -> ControlFlow<()> {
        if self.pytest || self.conflict {
            return ControlFlow::Continue(());
        }
        while let Some(&root) = self.roots.get(self.emitted) {
            if !self.nodes[root].closed {
                break;
            }
            let suite = self.take_subtree(root);
            self.emitted += 1;
            sink.root_suite(suite)?;
        }
        ControlFlow::Continue(())
    }

    /// Moves the suite tree rooted at node `root` out of the collector.
    fn take_subtree(&mut self, root: usize) -> Suite {
        let mut order = vec![root];
        let mut k = 0;
        while let Some(&i) = order.get(k) {
            order.extend(self.nodes[i].children.iter().copied());
            k += 1;
        }
        // A node's index is always above its parent's: children are assembled first.
        order.sort_unstable();
        let mut built: HashMap<usize, Suite> = HashMap::with_capacity(order.len());
        for &i in order.iter().rev() {
            let node = &mut self.nodes[i];
            let mut suite = std::mem::take(&mut node.suite);
            let children: Vec<Suite> = std::mem::take(&mut node.children)
                .iter()
                .filter_map(|c| built.remove(c))
                .collect();
            let tests = std::mem::take(&mut node.tests);
            node.test_index = TestIndex::default();
            node.child_by_title = HashTable::new();
            node.taken = true;
            suite.suites = (!children.is_empty()).then_some(children);
            suite.tests = (!tests.is_empty()).then_some(tests);
            built.insert(i, suite);
        }
        built.remove(&root).unwrap_or_default()
    }

    fn finish_case(&mut self, case: Case, suite: Option<usize>, fallback_ms: f64) {
        let Case {
            name,
            classname,
            time,
            file,
            line,
            timestamp,
            not_run,
            results,
            out,
            err,
            properties,
            attachments,
        } = case;
        // Where the case goes (spec/identity.md §3): the suites its classname names, unless the
        // classname only repeats the suite, the file or the test's own name; then the describe
        // blocks its name carries, in the dialects that join them into it.
        // A top-level suite named after its tests' file (jest-junit's `{filepath}` suite name)
        // is that file's suite.
        if let (Some(s), Some(f)) = (suite, file.as_deref()) {
            let top_level = self
                .root_by_title
                .get(&TitleRef(SuiteType::Suite, &self.nodes[s].suite.title))
                == Some(&s);
            let node = &mut self.nodes[s];
            if top_level
                && node.suite.kind == SuiteType::Suite
                && !f.is_empty()
                && posix_path(&node.suite.title) == posix_path(f)
            {
                node.suite.kind = SuiteType::File;
                node.suite.title = posix_path(f).into_owned();
                node.suite
                    .location
                    .get_or_insert_with(|| Location::new(f.to_string(), 0, 0));
            }
        }
        let suite_title = suite.map(|s| self.nodes[s].suite.title.as_str());
        let class_suites = class_suites(
            &classname,
            suite_title,
            &name,
            file.as_deref(),
            self.dialect,
        );
        let with_class = !class_suites.is_empty();
        let (describes, name) = self.dialect.split_name(name);
        let (name, tags) = self.dialect.title_tags(
            name,
            class_suites
                .iter()
                .copied()
                .chain(describes.iter().map(String::as_str)),
        );
        let mut chain: Vec<usize> = suite.into_iter().collect();
        for title in class_suites
            .iter()
            .copied()
            .chain(describes.iter().map(String::as_str))
        {
            let parent = chain.last().copied();
            let c = self.child(parent, SuiteType::Suite, title);
            // A suite made up here starts when its parent started, after the tests the parent
            // ran before it.
            if let Some(p) = parent {
                if self.nodes[c].start_ms.is_none() {
                    let parent = &self.nodes[p];
                    self.nodes[c].start_ms = parent.start_ms.map(|t| t + parent.elapsed_ms);
                }
            }
            chain.push(c);
        }
        let suite = chain.last().copied();
        let start = |me: &mut Self, duration: f64| -> f64 {
            match suite {
                Some(s) => {
                    let node = &me.nodes[s];
                    let base = node.start_ms.unwrap_or(fallback_ms) + node.elapsed_ms;
                    for &n in &chain {
                        me.nodes[n].elapsed_ms += duration;
                    }
                    base
                }
                None => fallback_ms,
            }
        };

        let mut main_status = if not_run {
            TestStatus::Skipped
        } else {
            TestStatus::Passed
        };
        let mut main_errors = Vec::new();
        let mut expected_failure = false;
        let mut main_attachments = attachments;
        let mut annotations: Vec<Annotation> = properties
            .into_iter()
            .map(|(k, v)| Annotation {
                kind: k,
                description: (!v.is_empty()).then_some(v),
                ..Default::default()
            })
            .collect();
        let mut flaky = Vec::new();
        let mut reruns = Vec::new();
        for (kind, rec) in results {
            match kind {
                ResultKind::Failure | ResultKind::Error => {
                    // A failure outranks a skip, whichever element comes first.
                    main_status = status_of(&rec);
                    if kind == ResultKind::Error
                        && !annotations.iter().any(|a| a.kind == "junit-error")
                    {
                        annotations.push(error_annotation());
                    }
                    main_errors.push(error_of(&rec));
                    for a in rec.attachments {
                        push_unique(&mut main_attachments, a);
                    }
                }
                // pytest's junitxml writes an xfail that ran as a skip of type `pytest.xfail`:
                // it is an expected failure (one that did not run, `[NOTRUN]`, stays a skip).
                ResultKind::Skipped
                    if rec.kind_attr.as_deref() == Some("pytest.xfail")
                        && !rec
                            .message
                            .as_deref()
                            .is_some_and(|m| m.starts_with("[NOTRUN]")) =>
                {
                    if main_errors.is_empty() {
                        main_status = TestStatus::Failed;
                        expected_failure = true;
                    }
                    annotations.push(Annotation {
                        kind: "fail".into(),
                        description: rec.message.clone().filter(|m| !m.is_empty()),
                        ..Default::default()
                    });
                }
                ResultKind::Skipped => {
                    if main_errors.is_empty() {
                        main_status = TestStatus::Skipped;
                    }
                    let description = rec.message.clone().or_else(|| {
                        (!rec.text.trim().is_empty()).then(|| rec.text.trim().to_string())
                    });
                    annotations.push(Annotation {
                        kind: "skip".into(),
                        description,
                        ..Default::default()
                    });
                }
                ResultKind::FlakyFailure | ResultKind::FlakyError => flaky.push((kind, rec)),
                ResultKind::RerunFailure | ResultKind::RerunError => reruns.push((kind, rec)),
            }
        }
        // Sized once: a Vec grown by push holds room for four attempts, most tests have one.
        let mut attempts = Vec::with_capacity(flaky.len() + 1 + reruns.len());
        let rec_attempt = |me: &mut Self, (kind, rec): (ResultKind, ResultRec)| {
            let duration = rec.time.map(|t| t * 1000.0);
            let start_ms = start(me, duration.unwrap_or(0.0));
            let mut a = RunAttempt::with_status(status_of(&rec));
            if matches!(kind, ResultKind::FlakyError | ResultKind::RerunError) {
                a.annotations = Some(vec![error_annotation()]);
            }
            a.errors = Some(vec![error_of(&rec)]);
            a.duration = duration.map(DurationMs);
            a.start_timestamp = Some(UnixTimestampMs(start_ms.max(0.0)));
            a.stdio = stdio(rec.out, rec.err);
            a.attachments = (!rec.attachments.is_empty()).then_some(rec.attachments);
            a
        };
        for rec in flaky {
            let a = rec_attempt(self, rec);
            attempts.push(a);
        }
        let duration = time.map(|t| t * 1000.0);
        let start_ms = match timestamp {
            Some(ts) => {
                let _ = start(self, duration.unwrap_or(0.0));
                ts
            }
            None => start(self, duration.unwrap_or(0.0)),
        };
        let mut main = RunAttempt::with_status(main_status);
        if expected_failure && main_errors.is_empty() {
            main.expected_status = Some(TestStatus::Failed);
        }
        main.duration = duration.map(DurationMs);
        main.start_timestamp = Some(UnixTimestampMs(start_ms.max(0.0)));
        main.errors = (!main_errors.is_empty()).then_some(main_errors);
        main.annotations = (!annotations.is_empty()).then_some(annotations);
        main.stdio = stdio(out, err);
        main.attachments = (!main_attachments.is_empty()).then_some(main_attachments);
        attempts.push(main);
        for rec in reruns {
            let a = rec_attempt(self, rec);
            attempts.push(a);
        }
        if let Some(env) = self.current_environment {
            for a in &mut attempts {
                a.environment_idx = Some(env);
            }
        }

        let pytest = self.pytest;
        let document = self.documents;
        // Reruns, unless the testcases of one identity are distinct tests (see `Repeats`).
        // (In Playwright's JUnit with an environment per project, a test's testcases are its
        // runs in each project: attempts in their environments.)
        let reruns_only = pytest
            || suite.is_some_and(|s| self.nodes[s].stress)
            || self.current_environment.is_some();
        let never_reruns = self.never_reruns && !reruns_only;
        // A testcase without a name is a test of its own: never merged as a rerun of another.
        let name = if name.is_empty() {
            let n = match suite {
                Some(s) => self.nodes[s].tests.len(),
                None => self.loose.len(),
            } + 1;
            format!("(unnamed testcase {n})")
        } else {
            name
        };
        let (tests, index) = match suite {
            Some(s) => {
                let node = &mut self.nodes[s];
                (&mut node.tests, &mut node.test_index)
            }
            None => (&mut self.loose, &mut self.loose_index),
        };
        match index.find(tests, with_class, &name) {
            // The same test in another document (another run, or a shard that overlaps): more
            // attempts of the same test, as written. Nothing makes them reruns of each other.
            Some(slot) if slot.document != document => {
                let earlier = &mut tests[slot.test].attempts;
                slot.document = document;
                slot.first_attempt = u32::try_from(earlier.len()).unwrap_or(u32::MAX);
                slot.repeats = Repeats::first(&attempts);
                earlier.extend(attempts);
            }
            // The same identity again in one document: a rerun (more attempts, in order)
            // while none of its testcases so far passed, else a test of its own.
            Some(slot) => {
                let distinct =
                    !reruns_only && (never_reruns || slot.repeats.distinct || slot.repeats.passed);
                if distinct {
                    let slot = slot.clone();
                    let (test, count) = (slot.test, slot.repeats.count);
                    if !slot.repeats.distinct {
                        split_repeats(tests, index, with_class, &slot);
                    }
                    if let Some(slot) = index.find(tests, with_class, &name) {
                        slot.repeats.distinct = true;
                        slot.repeats.count = count + 1;
                        slot.repeats.starts = Vec::new();
                    }
                    let title = repeat_title(&name, count + 1);
                    add_repeat(tests, index, with_class, test, title, attempts, document);
                    return;
                }
                let from = usize::try_from(slot.first_attempt).unwrap_or(usize::MAX);
                let earlier = &mut tests[slot.test].attempts;
                if pytest {
                    // pytest-rerunfailures makes junitxml write each rerun as a testcase
                    // without its failure (empty, or holding only the captured output when
                    // `junit_logging` is on), which reads like a pass: a passing attempt of this
                    // document followed by another run of the same test was a failed run whose
                    // details pytest dropped (only failures are rerun). It is failed, with no
                    // error (none is known); its output is kept.
                    for a in earlier.iter_mut().skip(from).filter(|a| is_rerun_pass(a)) {
                        a.status = Some(TestStatus::Failed);
                        a.annotations.get_or_insert_with(Vec::new).push(inferred_annotation(
                            "pytest-rerunfailures reran this test: this attempt failed; pytest's junitxml does not record why",
                        ));
                    }
                } else if !reruns_only && attempts.iter().any(|a| a.status() != TestStatus::Skipped)
                {
                    // TestNG writes an attempt its retry analyzer reruns as a bare
                    // `<skipped/>`: followed by the rerun, it was a failure.
                    for a in earlier.iter_mut().skip(from).filter(|a| is_retry_skip(a)) {
                        a.status = Some(TestStatus::Failed);
                        a.annotations = Some(vec![inferred_annotation(RETRIED_SKIP)]);
                    }
                }
                let start = u32::try_from(earlier.len()).unwrap_or(u32::MAX);
                slot.repeats.starts.push(start);
                slot.repeats.count += 1;
                slot.repeats.passed |= ended_in_pass(&attempts);
                earlier.extend(attempts);
            }
            None => {
                let mut test = Test::new(name);
                test.tags = (!tags.is_empty()).then_some(tags);
                if let Some(file) = file {
                    test.location = Some(Location::new(
                        file,
                        line.unwrap_or(0),
                        if line.is_some() { 1 } else { 0 },
                    ));
                }
                push_test(tests, index, with_class, test, attempts, document);
            }
        }
    }
}

impl JunitCollector {
    /// A testcase property: an attachment when its name starts with `attachment` (any case),
    /// else kept for an annotation.
    fn property(
        &mut self,
        case: &mut Case,
        (key, value): (String, String),
        folder: &mut AttachmentFolder,
        input: &str,
        at: (usize, u64),
    ) -> Result<(), ConvertError> {
        if key.to_ascii_lowercase().starts_with("attachment") {
            if let Some(a) = self.attachment(folder, &value, input, at)? {
                push_unique(&mut case.attachments, a);
            }
        } else {
            case.properties.push((key, value));
        }
        Ok(())
    }

    /// Attaches the files named by `[[ATTACHMENT|path]]` lines of the output just read (the
    /// text from byte `from` of the buffer `sink` fills, starting on line `at.0`; `at.1` is the
    /// input offset of the element's end).
    #[allow(clippy::too_many_arguments)]
    fn stdio_attachments(
        &mut self,
        sink: Sink,
        from: usize,
        (line, offset): (usize, u64),
        case: Option<&mut Case>,
        result: Option<&mut ResultRec>,
        folder: &mut AttachmentFolder,
        input: &str,
    ) -> Result<(), ConvertError> {
        let text = match (sink, &case, &result) {
            (Sink::CaseOut, Some(c), _) => &c.out,
            (Sink::CaseErr, Some(c), _) => &c.err,
            (Sink::ResultOut, _, Some(r)) => &r.out,
            (Sink::ResultErr, _, Some(r)) => &r.err,
            _ => return Ok(()),
        };
        let refs = attachment_lines(text.get(from..).unwrap_or(""), line);
        let target = match (sink, case, result) {
            (Sink::CaseOut | Sink::CaseErr, Some(c), _) => &mut c.attachments,
            (_, _, Some(r)) => &mut r.attachments,
            _ => return Ok(()),
        };
        for (path, line) in refs {
            if let Some(a) = self.attachment(folder, &path, input, (line, offset))? {
                push_unique(target, a);
            }
        }
        Ok(())
    }

    /// The attachment a path names: a warning (and `None`) when the file is missing, an
    /// error when it lies outside the input's folder and that is not allowed. `at` is the
    /// line naming it and an input offset close to it (the line is exact; the offset is where
    /// the element naming it starts, or for output lines where it ends).
    fn attachment(
        &mut self,
        folder: &mut AttachmentFolder,
        raw: &str,
        input: &str,
        (line, offset): (usize, u64),
    ) -> Result<Option<Attachment>, ConvertError> {
        match folder.resolve(raw, &mut self.hashed) {
            Resolved::Found(a, path) => {
                if self.attached.insert(a.id.clone()) {
                    self.attachments.push(AttachmentSource {
                        id: a.id.clone(),
                        path,
                    });
                }
                Ok(Some(a))
            }
            Resolved::Missing(message) => {
                self.warnings.push(ConvertWarning {
                    input: input.to_string(),
                    line,
                    message,
                });
                Ok(None)
            }
            Resolved::Outside(message) => Err(ConvertError {
                input: input.to_string(),
                line,
                column: 1,
                offset,
                message,
            }),
        }
    }

    /// True when the documents read were written by pytest's junitxml.
    pub fn is_pytest(&self) -> bool {
        self.tree.pytest
    }

    /// Shows `f` what [`into_parts`](Self::into_parts) gives, in its order, without building
    /// the suites: first the tests outside any suite (with `None`), then each suite (its
    /// `suites` and `tests` left empty) with its tests and its depth (0 for a root), before
    /// the suites in it. Shows nothing and returns `false` for pytest's documents, whose
    /// suites [`junit_report`](crate::junit_report) regroups.
    pub fn visit<'a>(&'a self, f: &mut dyn FnMut(usize, Option<&'a Suite>, &'a [Test])) -> bool {
        if self.tree.pytest {
            return false;
        }
        f(0, None, &self.tree.loose);
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for &root in &self.tree.roots[self.tree.emitted..] {
            if !self.tree.nodes[root].taken {
                stack.push((root, 0));
            }
            while let Some((node, depth)) = stack.pop() {
                let n = &self.tree.nodes[node];
                f(depth, Some(&n.suite), &n.tests);
                stack.extend(n.children.iter().rev().map(|&c| (c, depth + 1)));
            }
        }
        true
    }

    /// The collected suites and root tests, in input order.
    pub fn into_parts(mut self) -> (Vec<Suite>, Vec<Test>) {
        let roots: Vec<usize> = self.tree.roots[self.tree.emitted..]
            .iter()
            .copied()
            .filter(|&r| !self.tree.nodes[r].taken)
            .collect();
        let suites = roots
            .into_iter()
            .map(|r| self.tree.take_subtree(r))
            .collect();
        (suites, self.tree.loose)
    }
}

/// Whose JUnit a document is, as far as it changes where tests go (spec/identity.md §3).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    #[default]
    Generic,
    /// Playwright's reporter: a `<testsuite>` per file (its path from the test directory), the
    /// describe blocks joined to the title with ` › ` (`outer › inner › test`).
    Playwright,
    /// Vitest's: a `<testsuite>` per file, describe blocks joined with ` > `.
    Vitest,
    /// jest-junit: describe blocks joined in the classname with the configured separator
    /// (` › ` splits them; the default, a space, cannot be split).
    Jest,
}

impl Dialect {
    /// The dialect a root element gives away: `<testsuites name="vitest tests">`,
    /// `name="jest tests"`, and Playwright's `<testsuites id="…" name="…">` (only it writes an
    /// `id` there).
    fn of(is_testsuites: bool, root_name: &str, has_id: bool) -> Self {
        match root_name {
            "vitest tests" => Dialect::Vitest,
            "jest tests" => Dialect::Jest,
            _ if is_testsuites && has_id => Dialect::Playwright,
            _ => Dialect::Generic,
        }
    }

    /// The title without the tags the runner's official reporter takes out of it, and the tags:
    /// the Jest reporter reads trailing `@word`s of a test title as tags (and those of the
    /// describe blocks, which keep their titles).
    fn title_tags<'a>(
        self,
        title: String,
        describes: impl Iterator<Item = &'a str>,
    ) -> (String, Vec<String>) {
        if self != Dialect::Jest {
            return (title, Vec::new());
        }
        let (title, mut tags) = trailing_tags(&title);
        for d in describes {
            for tag in trailing_tags(d).1 {
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        (title, tags)
    }

    /// The describe blocks a test's name carries, and its own title.
    fn split_name(self, name: String) -> (Vec<String>, String) {
        let sep = match self {
            Dialect::Playwright => " › ",
            Dialect::Vitest => " > ",
            Dialect::Generic | Dialect::Jest => return (Vec::new(), name),
        };
        if !name.contains(sep) {
            return (Vec::new(), name);
        }
        let mut parts: Vec<String> = name.split(sep).map(str::to_string).collect();
        let title = parts.pop().unwrap_or_default();
        (parts, title)
    }
}

/// Trailing `@word`s of a title, as tags (`login works @smoke @fast` → `login works`,
/// `[smoke, fast]`); a title made of tags only stays whole.
pub(crate) fn trailing_tags(title: &str) -> (String, Vec<String>) {
    let mut rest = title.trim_end();
    let mut tags = Vec::new();
    while let Some((head, last)) = rest.rsplit_once(char::is_whitespace) {
        match last.strip_prefix('@') {
            Some(tag) if !tag.is_empty() && !head.trim().is_empty() => {
                tags.push(tag.to_string());
                rest = head.trim_end();
            }
            _ => break,
        }
    }
    if tags.is_empty() {
        return (title.to_string(), tags);
    }
    tags.reverse();
    (rest.to_string(), tags)
}

/// `\` as a path separator: `tests\unit\cli.test.ts` (a Windows runner's file) → `tests/unit/cli.test.ts`.
fn posix_path(path: &str) -> Cow<'_, str> {
    if path.contains('\\') {
        Cow::Owned(path.replace('\\', "/"))
    } else {
        Cow::Borrowed(path)
    }
}

/// True for a name written as a Windows relative path to a file: backslashes, no `/`, no
/// blank, and a file extension on its last part (`tests\unit\cli.test.ts`).
fn is_windows_file_path(name: &str) -> bool {
    name.contains('\\')
        && !name.contains('/')
        && !name.contains(char::is_whitespace)
        && name
            .rsplit('\\')
            .next()
            .and_then(|last| last.rsplit_once('.'))
            .is_some_and(|(stem, ext)| {
                !stem.is_empty()
                    && (1..=5).contains(&ext.len())
                    && ext.chars().all(|c| c.is_ascii_alphanumeric())
            })
}

/// The type and title of a `<testsuite>`: a `file` suite when it has a `file` and no name, when
/// a top-level suite names its own `file` (Bun, many others), or when it is a top-level suite
/// of a reporter that writes one per file (Playwright, Vitest). A name written as a Windows
/// path to a file gets `/`, whatever its type, so that the Windows and the Linux run of a test
/// are one test.
fn suite_identity(
    name: &str,
    file: Option<&str>,
    dialect: Dialect,
    top_level: bool,
) -> (SuiteType, String) {
    let file = file.filter(|f| !f.is_empty());
    if let Some(f) = file {
        if name.is_empty() || (top_level && posix_path(name) == posix_path(f)) {
            return (SuiteType::File, posix_path(f).into_owned());
        }
    }
    let name = if is_windows_file_path(name) {
        posix_path(name).into_owned()
    } else {
        name.to_string()
    };
    if top_level && !name.is_empty() && matches!(dialect, Dialect::Playwright | Dialect::Vitest) {
        return (SuiteType::File, name);
    }
    (SuiteType::Suite, name)
}

/// The suites a testcase's `classname` puts it in, inside its `<testsuite>`: none when the
/// classname is empty or only repeats what is known (the suite's name, the file, the test's
/// own name at its end as in `example.spec.ts > test 1`, or the enclosing describe blocks
/// listed innermost first as Bun writes them); jest-junit's describe blocks split on ` › `;
/// else one suite, the class.
fn class_suites<'a>(
    classname: &'a str,
    suite_title: Option<&str>,
    name: &str,
    file: Option<&str>,
    dialect: Dialect,
) -> Vec<&'a str> {
    if classname.is_empty() || Some(classname) == suite_title {
        return Vec::new();
    }
    let posix = posix_path(classname);
    if file.is_some_and(|f| posix_path(f) == posix) || suite_title == Some(&*posix) {
        return Vec::new();
    }
    // The name at the end, after a blank (` `, ` > `, ` › `): a classname made from the title.
    if !name.is_empty()
        && (classname == name
            || classname
                .strip_suffix(name)
                .is_some_and(|head| head.ends_with(' ')))
    {
        return Vec::new();
    }
    // (Most classnames hold neither separator: a byte search rules them out first.)
    let maybe_separated = memchr::memchr2(b'>', 0xBA, classname.as_bytes()).is_some();
    for sep in [" > ", " › "] {
        if maybe_separated
            && classname.contains(sep)
            && suite_title.is_some_and(|t| classname.split(sep).any(|part| part == t))
        {
            return Vec::new();
        }
    }
    if dialect == Dialect::Jest {
        return classname.split(" › ").collect();
    }
    vec![classname]
}

/// A pass without an error or an inferred mark: what pytest's junitxml writes for a rerun
/// (with the captured output when `junit_logging` is on, and the user properties).
fn is_rerun_pass(a: &RunAttempt) -> bool {
    a.status() == TestStatus::Passed
        && a.errors.is_none()
        && a.expected_status.is_none()
        && !a
            .annotations
            .iter()
            .flatten()
            .any(|an| an.kind == crate::INFERRED_ANNOTATION)
}

/// Why an attempt written as a bare skip is failed: a rerun of it followed.
const RETRIED_SKIP: &str = "rerun after this attempt, which the JUnit file writes as a skip without a reason (as TestNG does for the attempts its retry analyzer reruns): it failed; the file does not record why";

/// A skip without a reason or an inferred mark: what TestNG's JUnit reports write for an
/// attempt that its retry analyzer reruns.
fn is_retry_skip(a: &RunAttempt) -> bool {
    a.status() == TestStatus::Skipped
        && a.errors.is_none()
        && a.annotations
            .iter()
            .flatten()
            .all(|an| an.kind == "skip" && an.description.as_deref().is_none_or(str::is_empty))
}

/// The title of the `n`th testcase of an identity in a document when its testcases are
/// distinct tests (the first keeps the name).
fn repeat_title(name: &str, n: u32) -> String {
    format!("{name} #{n}")
}

/// The binary of a nextest stress run's suite title (`BINARY@stress-N`).
fn stress_iteration(title: &str) -> Option<&str> {
    let (binary, n) = title.rsplit_once("@stress-")?;
    (!binary.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(binary)
}

/// Makes the testcases of `slot`'s test read so far in its document as reruns tests of their
/// own: the first keeps the test, the `n`th becomes `NAME #n`.
fn split_repeats(tests: &mut Vec<Test>, index: &mut TestIndex, with_class: bool, slot: &Slot) {
    let starts = &slot.repeats.starts;
    if starts.is_empty() {
        return;
    }
    let test = slot.test;
    // Not reruns after all: the bare skips read as retried failures are skips again.
    let from = usize::try_from(slot.first_attempt).unwrap_or(usize::MAX);
    for a in tests[test].attempts.iter_mut().skip(from) {
        let retried = a
            .annotations
            .as_deref()
            .is_some_and(|an| an.len() == 1 && an[0].description.as_deref() == Some(RETRIED_SKIP));
        if retried {
            a.status = Some(TestStatus::Skipped);
            a.annotations = Some(vec![Annotation {
                kind: "skip".into(),
                ..Default::default()
            }]);
        }
    }
    let mut later = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate().rev() {
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let all = &mut tests[test].attempts;
        let attempts = all.split_off(start.min(all.len()));
        later.push((k as u32 + 2, attempts));
    }
    let name = tests[test].title.clone();
    for (n, attempts) in later.into_iter().rev() {
        add_repeat(
            tests,
            index,
            with_class,
            test,
            repeat_title(&name, n),
            attempts,
            slot.document,
        );
    }
}

/// Adds `attempts` to the test titled `title` (a later testcase of `like`'s identity): to
/// the one an earlier document made, else to a new test with `like`'s tags and location.
fn add_repeat(
    tests: &mut Vec<Test>,
    index: &mut TestIndex,
    with_class: bool,
    like: usize,
    title: String,
    attempts: Vec<RunAttempt>,
    document: u32,
) {
    if let Some(slot) = index.find(tests, with_class, &title) {
        let earlier = &mut tests[slot.test].attempts;
        if slot.document != document {
            slot.document = document;
            slot.first_attempt = u32::try_from(earlier.len()).unwrap_or(u32::MAX);
            slot.repeats = Repeats::first(&attempts);
        }
        earlier.extend(attempts);
        return;
    }
    let mut test = Test::new(title);
    test.tags.clone_from(&tests[like].tags);
    test.location.clone_from(&tests[like].location);
    push_test(tests, index, with_class, test, attempts, document);
}

/// Ends the test made for a `<failure>`/`<error>` right in a `<testsuite>`, if one is open.
fn end_suite_case(
    suite_case: &mut bool,
    case: &mut Option<Case>,
    ops: &mut dyn Ops,
) -> ControlFlow<()> {
    if std::mem::take(suite_case) {
        if let Some(case) = case.take() {
            return ops.push(Op::Case {
                case,
                suite_case: true,
            });
        }
    }
    ControlFlow::Continue(())
}

/// Adds a test new to `index` with its first testcase's attempts (read from `document`).
fn push_test(
    tests: &mut Vec<Test>,
    index: &mut TestIndex,
    with_class: bool,
    mut test: Test,
    attempts: Vec<RunAttempt>,
    document: u32,
) {
    let slot = Slot {
        test: tests.len(),
        hash: 0,
        document,
        first_attempt: 0,
        repeats: Repeats::first(&attempts),
    };
    test.attempts = attempts;
    tests.push(test);
    index.insert(tests, with_class, slot);
}

/// The runner a root element's `name` gives away: the defaults of the reporters that set one.
fn runner_of(root_name: &str) -> Option<&'static str> {
    Some(match root_name {
        "pytest" | "pytest tests" => "pytest",
        "jest tests" => "jest",
        "vitest tests" => "vitest",
        "Mocha Tests" => "mocha",
        "bun test" => "bun",
        "nextest-run" => "nextest",
        "playwright" => "playwright",
        _ => return None,
    })
}

/// The annotation that marks an attempt ended by an `<error>` (an unexpected exception) rather
/// than a `<failure>` (a failed assertion); both make the attempt `failed`.
fn error_annotation() -> Annotation {
    Annotation {
        kind: "junit-error".into(),
        description: Some(
            "ended by an <error> (an unexpected exception), not a failed assertion".into(),
        ),
        ..Default::default()
    }
}

fn status_of(rec: &ResultRec) -> TestStatus {
    let hay = format!(
        "{} {}",
        rec.kind_attr.as_deref().unwrap_or(""),
        rec.message.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    if hay.contains("timeout") || hay.contains("timed out") {
        TestStatus::TimedOut
    } else {
        TestStatus::Failed
    }
}

fn error_of(rec: &ResultRec) -> ReportError {
    let stack = if rec.stack.trim().is_empty() {
        rec.text.trim()
    } else {
        rec.stack.trim()
    };
    let message = match (&rec.kind_attr, &rec.message) {
        (Some(t), Some(m)) if !m.starts_with(t.as_str()) && !t.is_empty() => {
            Some(format!("{t}: {}", m.trim()))
        }
        (_, Some(m)) => Some(m.trim().to_string()),
        (Some(t), None) => Some(t.clone()),
        (None, None) => stack
            .lines()
            .next()
            .map(str::to_string)
            .or_else(|| Some("the test failed (the report gives no message)".into())),
    };
    ReportError {
        message,
        stack: (!stack.is_empty()).then(|| stack.to_string()),
        ..Default::default()
    }
}

/// The output entries of an attempt; the texts are moved in, not copied (most of a JUnit
/// file's bytes are output).
fn stdio(out: String, err: String) -> Option<Vec<flakiness_report::TimedStdioEntry>> {
    let mut v = Vec::new();
    if !out.is_empty() {
        v.push(TimedStdioEntry::text(Stream::Stdout, out));
    }
    if !err.is_empty() {
        v.push(TimedStdioEntry::text(Stream::Stderr, err));
    }
    (!v.is_empty()).then_some(v)
}

/// Adds an attachment unless the list already refers to the same content.
fn push_unique(list: &mut Vec<Attachment>, a: Attachment) {
    if !list.iter().any(|x| x.id == a.id) {
        list.push(a);
    }
}

/// The paths of the `[[ATTACHMENT|path]]` lines of `text` (each alone on its line, blanks
/// around it allowed), with their line numbers; `text` starts on line `first_line`.
fn attachment_lines(text: &str, first_line: usize) -> Vec<(String, usize)> {
    // Most output names no attachment: one search of the whole text, not one per line (with
    // a searcher built once, not per text).
    static MARK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("[[ATTACHMENT|"));
    if MARK.find(text.as_bytes()).is_none() {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let path = l.trim().strip_prefix("[[ATTACHMENT|")?.strip_suffix("]]")?;
            Some((path.to_string(), first_line + i))
        })
        .collect()
}

/// The character sets read besides UTF-8: each byte is one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    /// ISO-8859-1: byte `n` is U+00nn.
    Latin1,
    /// windows-1252: ISO-8859-1 but for 0x80-0x9F (also read for US-ASCII, whose files with
    /// bytes above 0x7F are nearly always windows-1252, as browsers assume).
    Windows1252,
}

/// windows-1252 0x80-0x9F; the five unassigned bytes stay C1 controls, as in the WHATWG
/// encoding standard.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

impl Charset {
    /// The set an `encoding` declaration names (lower case), `None` when it is not read.
    fn of_label(label: &str) -> Option<Self> {
        Some(match label {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" => Charset::Utf8,
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "iso88591" | "iso_8859-1:1987"
            | "latin1" | "latin-1" | "l1" | "cp819" | "ibm819" | "iso-ir-100" | "csisolatin1" => {
                Charset::Latin1
            }
            "windows-1252" | "cp1252" | "x-cp1252" | "us-ascii" | "ascii" | "ansi_x3.4-1968"
            | "iso646-us" | "csascii" => Charset::Windows1252,
            _ => return None,
        })
    }

    fn decode(self, input: &[u8], out: &mut Vec<u8>) {
        if self == Charset::Utf8 {
            out.extend_from_slice(input);
            return;
        }
        out.reserve(input.len());
        let mut tmp = [0u8; 4];
        for &b in input {
            if b < 0x80 {
                out.push(b);
                continue;
            }
            let c = match (self, WINDOWS_1252_HIGH.get(usize::from(b) - 0x80)) {
                (Charset::Windows1252, Some(&c)) => c,
                _ => char::from(b),
            };
            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
    }
}

/// Bytes read at once from the input.
const CHUNK: usize = 64 * 1024;

/// How much longer than the output limit a text run, CDATA section or comment may be before
/// the parser stops being given it (so that text cut short is still longer than the limit, and
/// truncated with its marker).
const RUN_MARGIN: u64 = 64 * 1024;

/// The bytes the parser reads in a given place: the states quick-xml's reader goes through
/// between events, told apart with the same byte searches it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Character data between markup.
    Text,
    /// Just after `<`.
    Lt,
    /// Just after `<!`.
    Bang,
    /// A start or end tag, in the attribute value quoted with this byte (0: outside any).
    Tag(u8),
    /// A processing instruction or the XML declaration (`<?` to `?>`).
    Pi,
    /// A CDATA section (`<![` to `]]>`).
    CData,
    /// A comment (`<!-` to `-->`, at least `<!---->`).
    Comment,
    /// A DOCTYPE (`<!D` to the `>` that balances the `<` inside).
    DocType(u32),
}

/// A run of bytes the parser would buffer whole, cut short at the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Text, up to the next `<`.
    Text,
    /// A CDATA section, up to its `]]>`.
    CData,
    /// A comment, up to its `-->`.
    Comment,
}

impl Run {
    /// Where the parser is to be given the bytes `b` (inside the run) again: at the `<`
    /// ending text; at the `]]>` or `-->` ending the others (the parser needs it whole to
    /// close the section), or at what is left of it when it begins in `before`, the two bytes
    /// just before `b` (when the parser was given them).
    fn end(self, b: &[u8], before: Option<[u8; 2]>) -> Option<usize> {
        let twice = match self {
            Run::Text => return memchr::memchr(b'<', b),
            Run::CData => b']',
            Run::Comment => b'-',
        };
        let at = |k: usize, n: usize| match k.checked_sub(n) {
            Some(i) => b.get(i).copied(),
            None => before.and_then(|t| t.get(2 + k - n).copied()),
        };
        memchr::memchr_iter(b'>', b)
            .find(|&k| at(k, 1) == Some(twice) && at(k, 2) == Some(twice))
            .map(|k| k.saturating_sub(2))
    }

    /// How many bytes at the end of `b` (inside the run) may begin its end: kept for the next
    /// chunk to complete.
    fn carry(self, b: &[u8]) -> usize {
        let twice = match self {
            Run::Text => return 0,
            Run::CData => b']',
            Run::Comment => b'-',
        };
        b.iter().rev().take(2).take_while(|&&x| x == twice).count()
    }
}

/// Follows the parser's state through the input, chunk by chunk, and finds where a run goes
/// past the cap.
#[derive(Debug, Clone)]
struct Scanner {
    mode: Mode,
    /// Bytes scanned so far of the current CDATA section or comment, or of the current
    /// stretch of text: from the markup or the `&` beginning it (the parser stops at each
    /// reference: it never holds more than a stretch at once).
    run: u64,
    /// The last two bytes the parser is given before the chunk being scanned.
    tail: [u8; 2],
    /// Longest run given to the parser.
    cap: u64,
}

/// Whether `b[k]` continues a UTF-8 character.
fn continues(b: &[u8], k: usize) -> bool {
    b.get(k).is_some_and(|&x| x & 0xC0 == 0x80)
}

/// A character boundary near `c` in `b[lo..hi]`: back from `c`, else (when `b[lo]` continues a
/// character begun before `b`) forward; `None` when there is none before `hi`.
fn boundary(b: &[u8], lo: usize, c: usize, hi: usize) -> Option<usize> {
    let mut c = c;
    while c > lo && continues(b, c) {
        c -= 1;
    }
    while c < hi && continues(b, c) {
        c += 1;
    }
    (c < hi).then_some(c)
}

impl Scanner {
    /// `cap`: never below 16, so that `<![CDATA[` is never cut.
    fn new(cap: u64) -> Self {
        Scanner {
            mode: Mode::Text,
            run: 0,
            tail: [0; 2],
            cap: cap.max(16),
        }
    }

    /// The byte `n` (1 or 2) places before `b[k]`, in `tail` before `b[0]`.
    fn back(&self, b: &[u8], k: usize, n: usize) -> u8 {
        match k.checked_sub(n) {
            Some(i) => b.get(i).copied().unwrap_or(0),
            None => self.tail.get(2 + k - n).copied().unwrap_or(0),
        }
    }

    fn push_tail(&mut self, b: &[u8]) {
        match b {
            [.., x, y] => self.tail = [*x, *y],
            [y] => self.tail = [self.tail[1], *y],
            [] => {}
        }
    }

    /// Where the parser's offset `cap - run` bytes after `b[i]` is, in `b`.
    fn cap_at(&self, i: usize) -> usize {
        let left = usize::try_from(self.cap.saturating_sub(self.run)).unwrap_or(usize::MAX);
        i.saturating_add(left)
    }

    /// Scans `b`, the next bytes for the parser. `None`: all of them are for the parser.
    /// `Some((c, run))`: only `b[..c]`; `run` goes past the cap from `b[c]` on, up to its end.
    fn scan(&mut self, b: &[u8]) -> Option<(usize, Run)> {
        let mut i = 0;
        while i < b.len() {
            match self.mode {
                Mode::Text => {
                    let rest = b.get(i..).unwrap_or(&[]);
                    let stop = memchr::memchr(b'<', rest).map(|k| i + k);
                    let end = stop.unwrap_or(b.len());
                    let len = (end - i) as u64;
                    if self.run.saturating_add(len) > self.cap {
                        // Is there a stretch longer than the cap? Cut it at a character
                        // boundary (which is at least the cap past any reference).
                        let mut from = i;
                        let amps = memchr::memchr_iter(b'&', b.get(i..end).unwrap_or(&[]));
                        for a in amps.map(|k| i + k).chain(std::iter::once(end)) {
                            if self.run.saturating_add((a - from) as u64) > self.cap {
                                if let Some(c) = boundary(b, from, self.cap_at(from), a) {
                                    return Some(self.cut(b, c, Run::Text));
                                }
                            }
                            if a < end {
                                self.run = 0;
                                from = a;
                            }
                        }
                        self.run = self.run.saturating_add((end - from) as u64);
                    } else if stop.is_none() {
                        self.run = match memchr::memrchr(b'&', rest) {
                            Some(k) => (rest.len() - k) as u64,
                            None => self.run.saturating_add(len),
                        };
                    }
                    match stop {
                        Some(k) => {
                            self.mode = Mode::Lt;
                            i = k + 1;
                        }
                        None => i = b.len(),
                    }
                }
                Mode::Lt => {
                    self.mode = match b.get(i) {
                        Some(b'!') => {
                            i += 1;
                            Mode::Bang
                        }
                        // From the `?`: it may be the one of `?>`.
                        Some(b'?') => Mode::Pi,
                        _ => Mode::Tag(0),
                    };
                }
                Mode::Bang => {
                    self.run = 0;
                    self.mode = match b.get(i) {
                        Some(b'[') => Mode::CData,
                        Some(b'-') => Mode::Comment,
                        Some(b'D' | b'd') => Mode::DocType(0),
                        // An error for the parser.
                        _ => Mode::Tag(0),
                    };
                    if self.mode != Mode::Tag(0) {
                        i += 1;
                    }
                }
                Mode::Tag(quote) => {
                    let mut quote = quote;
                    let mut close = None;
                    let rest = b.get(i..).unwrap_or(&[]);
                    for k in memchr::memchr3_iter(b'>', b'\'', b'"', rest) {
                        let x = rest.get(k).copied().unwrap_or(0);
                        match (quote, x) {
                            (0, b'>') => {
                                close = Some(i + k);
                                break;
                            }
                            (0, _) => quote = x,
                            (q, _) if q == x => quote = 0,
                            _ => {}
                        }
                    }
                    match close {
                        Some(k) => {
                            self.text_after();
                            i = k + 1;
                        }
                        None => {
                            self.mode = Mode::Tag(quote);
                            i = b.len();
                        }
                    }
                }
                Mode::Pi => {
                    let rest = b.get(i..).unwrap_or(&[]);
                    let close = memchr::memchr_iter(b'>', rest)
                        .map(|k| i + k)
                        .find(|&k| self.back(b, k, 1) == b'?');
                    match close {
                        Some(k) => {
                            self.text_after();
                            i = k + 1;
                        }
                        None => i = b.len(),
                    }
                }
                Mode::DocType(depth) => {
                    let mut depth = depth;
                    let mut close = None;
                    let rest = b.get(i..).unwrap_or(&[]);
                    for k in memchr::memchr2_iter(b'<', b'>', rest) {
                        if rest.get(k) == Some(&b'<') {
                            depth = depth.saturating_add(1);
                        } else if depth == 0 {
                            close = Some(i + k);
                            break;
                        } else {
                            depth -= 1;
                        }
                    }
                    match close {
                        Some(k) => {
                            self.text_after();
                            i = k + 1;
                        }
                        None => {
                            self.mode = Mode::DocType(depth);
                            i = b.len();
                        }
                    }
                }
                Mode::CData | Mode::Comment => {
                    let (run, twice, least) = if self.mode == Mode::CData {
                        (Run::CData, b']', 0)
                    } else {
                        // `<!-->` and `<!--->` do not close the comment they open.
                        (Run::Comment, b'-', 3)
                    };
                    let rest = b.get(i..).unwrap_or(&[]);
                    let close = memchr::memchr_iter(b'>', rest).map(|k| i + k).find(|&k| {
                        self.back(b, k, 1) == twice
                            && self.back(b, k, 2) == twice
                            && self.run.saturating_add((k - i) as u64) >= least
                    });
                    let c = self.cap_at(i);
                    let over = match close {
                        Some(k) => k > c.saturating_add(2),
                        None => c < b.len(),
                    };
                    if over {
                        let hi = close.map_or(b.len(), |k| k - 2);
                        if let Some(c) = boundary(b, i, c, hi) {
                            return Some(self.cut(b, c, run));
                        }
                    }
                    match close {
                        Some(k) => {
                            self.text_after();
                            i = k + 1;
                        }
                        None => {
                            self.run = self.run.saturating_add((b.len() - i) as u64);
                            i = b.len();
                        }
                    }
                }
            }
        }
        self.push_tail(b);
        None
    }

    /// Markup closed: text follows.
    fn text_after(&mut self) {
        self.mode = Mode::Text;
        self.run = 0;
    }

    fn cut(&mut self, b: &[u8], c: usize, run: Run) -> (usize, Run) {
        self.push_tail(b.get(..c).unwrap_or(&[]));
        (c, run)
    }

    /// The bytes of `run` past the cut were dropped: what follows is its end (`<`, `]]>`,
    /// `-->`) or the end of the input.
    fn resume(&mut self, run: Run) {
        (self.mode, self.run) = match run {
            Run::Text => (Mode::Text, 0),
            Run::CData => (Mode::CData, 0),
            Run::Comment => (Mode::Comment, 3),
        };
    }
}

/// How many input bytes `bytes` of the parser's input came from: each character one when the
/// input is in a single-byte character set, else each byte.
fn input_width(bytes: &[u8], single: bool) -> u64 {
    let n = if single {
        bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
    } else {
        bytes.len()
    };
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The input as the parser reads it: UTF-8 (transcoded when the document declares a
/// single-byte character set), with the lines it has read counted, and the offsets it reports
/// mapped back to offsets in the input.
///
/// The parser holds a whole event in memory: all of a CDATA section or comment, or of the text
/// up to the next reference or markup, however long. So when one of these goes past the cap,
/// the parser is given it up to the cap (cut at a character boundary: text never in a
/// reference, which the stretch begins with) and the rest of the run, up to the markup that
/// ends it, is dropped unread: its lines and bytes still counted, so that what comes after is
/// located exactly. What is kept is still longer than the output limit, so it is truncated
/// with the usual marker.
struct Source<R> {
    inner: R,
    charset: Charset,
    /// Bytes for the parser, how many it has taken, the parser offset of `buf[0]`, and whether
    /// each character of `buf` is one input byte (else each byte is).
    buf: Vec<u8>,
    pos: usize,
    buf_start: u64,
    buf_single: bool,
    /// How much of `buf` the parser is given; when a run is cut, `drop` is that run, and what
    /// follows in `buf` is dropped up to its end.
    end: usize,
    drop: Option<Run>,
    scanner: Scanner,
    /// The last two bytes given to the parser, while the bytes after them are not dropped
    /// (the end of a section cut short may begin in them).
    before: Option<[u8; 2]>,
    /// The chunk before `buf`, all taken (to map offsets just behind the current one), and the
    /// input bytes dropped between it and `buf`.
    prev: Vec<u8>,
    prev_start: u64,
    prev_single: bool,
    gap: u64,
    /// Bytes the parser has taken, the input bytes they came from (with those dropped), the
    /// newlines among them.
    consumed: u64,
    input_consumed: u64,
    newlines: usize,
}

impl<R: BufRead> Source<R> {
    /// `cap`: the longest text run, CDATA section or comment given to the parser.
    fn new(inner: R, cap: u64) -> Self {
        Source {
            inner,
            charset: Charset::Utf8,
            buf: Vec::new(),
            pos: 0,
            buf_start: 0,
            buf_single: false,
            end: 0,
            drop: None,
            scanner: Scanner::new(cap),
            before: None,
            prev: Vec::new(),
            prev_start: 0,
            prev_single: false,
            gap: 0,
            consumed: 0,
            input_consumed: 0,
            newlines: 0,
        }
    }

    /// Reads what follows as `charset` (the parser has taken the declaration naming it, and
    /// nothing more).
    fn set_charset(&mut self, charset: Charset) {
        if charset == self.charset || charset == Charset::Utf8 {
            return;
        }
        let rest = self.buf.split_off(self.pos.min(self.buf.len()));
        self.prev = std::mem::take(&mut self.buf);
        self.prev_start = self.buf_start;
        self.prev_single = self.buf_single;
        self.gap = 0;
        charset.decode(&rest, &mut self.buf);
        self.pos = 0;
        self.buf_start = self.consumed;
        self.buf_single = true;
        self.charset = charset;
        // Text follows the declaration: scan again from there.
        self.scanner.resume(Run::Text);
        self.scanner.tail = [0; 2];
        self.scanner.push_tail(&self.prev);
        self.scan_buf();
    }

    fn scan_buf(&mut self) {
        (self.end, self.drop) = match self.scanner.scan(&self.buf) {
            Some((c, run)) => (c.min(self.buf.len()), Some(run)),
            None => (self.buf.len(), None),
        };
        self.before = Some(self.scanner.tail);
    }

    /// Counts `buf[..n]` (input the parser will not see) as read, and removes it.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        if n > 0 {
            self.before = None;
        }
        let dropped = &self.buf[..n];
        self.newlines += dropped.iter().filter(|&&b| b == b'\n').count();
        let width = input_width(dropped, self.buf_single);
        self.input_consumed = self.input_consumed.saturating_add(width);
        self.gap = self.gap.saturating_add(width);
        self.buf.drain(..n);
    }

    /// The parser has taken all it was given of a run cut short: drops the rest of the run,
    /// up to its end. On an error it can be called again.
    fn skip(&mut self, run: Run) -> std::io::Result<()> {
        if self.end > 0 {
            // What the parser took becomes `prev`.
            let rest = self.buf.split_off(self.end.min(self.buf.len()));
            self.prev = std::mem::replace(&mut self.buf, rest);
            self.prev_start = self.buf_start;
            self.prev_single = self.buf_single;
            self.gap = 0;
            self.buf_start = self.consumed;
            self.pos = 0;
            self.end = 0;
        }
        loop {
            if let Some(s) = run.end(&self.buf, self.before) {
                self.drop_front(s);
                break;
            }
            self.drop_front(self.buf.len() - run.carry(&self.buf));
            let data = self.inner.fill_buf()?;
            if data.is_empty() {
                break;
            }
            let n = data.len().min(CHUNK);
            self.charset.decode(&data[..n], &mut self.buf);
            self.inner.consume(n);
        }
        self.scanner.resume(run);
        self.scan_buf();
        Ok(())
    }

    /// The input offset of parser offset `at` (exact within the last two chunks; further
    /// back, counted as if every byte in between were ASCII).
    fn input_offset(&self, at: u64) -> u64 {
        if at >= self.consumed {
            return self.input_consumed + (at - self.consumed);
        }
        let index = |from: u64, start: u64| usize::try_from(from - start).unwrap_or(usize::MAX);
        if at >= self.buf_start {
            let taken = self
                .buf
                .get(index(at, self.buf_start)..self.pos)
                .unwrap_or(&[]);
            return self
                .input_consumed
                .saturating_sub(input_width(taken, self.buf_single));
        }
        let in_buf = input_width(self.buf.get(..self.pos).unwrap_or(&[]), self.buf_single);
        if at >= self.prev_start {
            let taken = self.prev.get(index(at, self.prev_start)..).unwrap_or(&[]);
            return self.input_consumed.saturating_sub(
                in_buf
                    .saturating_add(self.gap)
                    .saturating_add(input_width(taken, self.prev_single)),
            );
        }
        self.input_consumed.saturating_sub(self.consumed - at)
    }
}

impl<R: BufRead> std::io::Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos >= self.end {
            if let Some(run) = self.drop {
                self.skip(run)?;
                continue;
            }
            let data = self.inner.fill_buf()?;
            if data.is_empty() {
                break;
            }
            let n = data.len().min(CHUNK);
            std::mem::swap(&mut self.prev, &mut self.buf);
            self.prev_start = self.buf_start;
            self.prev_single = self.buf_single;
            self.gap = 0;
            self.buf.clear();
            self.pos = 0;
            self.buf_start = self.consumed;
            self.buf_single = self.charset != Charset::Utf8;
            self.charset.decode(&data[..n], &mut self.buf);
            self.inner.consume(n);
            self.scan_buf();
        }
        Ok(self.buf.get(self.pos..self.end).unwrap_or(&[]))
    }

    fn consume(&mut self, amount: usize) {
        let end = self.pos.saturating_add(amount).min(self.end);
        let taken = self.buf.get(self.pos..end).unwrap_or(&[]);
        self.newlines += bytecount::count(taken, b'\n');
        self.input_consumed += input_width(taken, self.buf_single);
        self.consumed += end.saturating_sub(self.pos) as u64;
        self.pos = end;
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use quick_xml::events::Event;
    use quick_xml::Reader;

    use super::Source;

    /// What a parser is given of `doc` through a `Source` cutting runs at `cap`, from an input
    /// read `chunk` bytes at a time; every input byte and line is counted all the same.
    fn given(doc: &[u8], cap: u64, chunk: usize) -> Vec<u8> {
        let mut source = Source::new(BufReader::with_capacity(chunk, doc), cap);
        let mut out = Vec::new();
        source.read_to_end(&mut out).expect("read");
        assert_eq!(source.input_consumed, doc.len() as u64);
        let lines = doc.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(source.newlines, lines);
        assert_eq!(source.consumed, out.len() as u64);
        assert_eq!(source.input_offset(source.consumed), doc.len() as u64);
        out
    }

    #[derive(Debug, PartialEq)]
    enum Piece {
        /// Start, end, empty tags, PIs, declarations, DOCTYPEs: exact.
        Markup(Vec<u8>),
        /// Text (raw, references as written), CDATA, comments: may be cut.
        Run(u8, Vec<u8>),
    }

    /// The events of `xml`, text runs merged with the references in them.
    fn pieces(xml: &[u8]) -> Result<Vec<Piece>, String> {
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().trim_text(false);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| e.to_string())?;
            let (kind, bytes) = match &event {
                Event::Eof => break,
                Event::Text(t) => (b't', t.to_vec()),
                Event::GeneralRef(r) => (b't', [&b"&"[..], r, b";"].concat()),
                Event::CData(t) => (b'c', t.to_vec()),
                Event::Comment(t) => (b'-', t.to_vec()),
                Event::Start(e) => (b's', e.to_vec()),
                Event::Empty(e) => (b'e', e.to_vec()),
                Event::End(e) => (b'/', e.to_vec()),
                Event::PI(e) => (b'?', e.to_vec()),
                Event::Decl(e) => (b'x', e.to_vec()),
                Event::DocType(e) => (b'd', e.to_vec()),
            };
            match (kind, out.last_mut()) {
                (b't', Some(Piece::Run(b't', text))) => text.extend_from_slice(&bytes),
                (b't' | b'c' | b'-', _) => out.push(Piece::Run(kind, bytes)),
                _ => out.push(Piece::Markup([&[kind][..], &bytes].concat())),
            }
            buf.clear();
        }
        Ok(out)
    }

    /// `cut` is `whole` with runs longer than `cap` cut short: the same markup, each run a
    /// prefix of the original, cut at a character boundary about `cap` bytes after its
    /// start, or for text, after its last reference.
    fn assert_cut(whole: &[Piece], cut: &[Piece], cap: usize, what: &str) {
        assert_eq!(whole.len(), cut.len(), "{what}: {whole:?}\n{cut:?}");
        for (w, c) in whole.iter().zip(cut) {
            match (w, c) {
                (Piece::Run(k, w), Piece::Run(l, c)) if k == l => {
                    assert!(w.starts_with(c), "{what}: {c:?} is not a prefix of {w:?}");
                    let from = match k {
                        b't' => c.iter().rposition(|&x| x == b'&').unwrap_or(0),
                        _ => 0,
                    };
                    let stretch = c.len() - from;
                    assert!(
                        c == w || (stretch + 16 >= cap && stretch <= cap + 3),
                        "{what}: {} of {} bytes kept (cap {cap})",
                        c.len(),
                        w.len()
                    );
                    assert!(std::str::from_utf8(c).is_ok(), "{what}: {c:?}");
                }
                _ => assert_eq!(w, c, "{what}"),
            }
        }
    }

    #[test]
    fn runs_under_the_cap_are_given_whole() {
        let doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e \"v\">]><x a='>' b=\"'\"><!-- c -- > --><?p ? > ?>t &amp; é€<![CDATA[ ] ]] > <b> ]]></x>\n";
        for chunk in [1, 2, 3, 5, 7, 64, 4096] {
            assert_eq!(
                given(doc.as_bytes(), doc.len() as u64, chunk),
                doc.as_bytes()
            );
        }
    }

    #[test]
    fn text_is_cut_at_characters_and_never_in_a_reference() {
        for (doc, want) in [
            // A stretch of 16 bytes is given whole; past that, cut at the 16th byte (the
            // stretch begins with the markup or with the reference).
            ("<a>0123456789abcdef</a>", "<a>0123456789abcdef</a>"),
            (
                "<a>0123456789abcdefgh</a><b>x</b>",
                "<a>0123456789abcdef</a><b>x</b>",
            ),
            ("<a>&amp;0123456789abcdefgh</a>", "<a>&amp;0123456789a</a>"),
            (
                "<a>xyz&lt;&#233;0123456789abcdefgh</a>",
                "<a>xyz&lt;&#233;0123456789</a>",
            ),
            // Not inside a character: before it (or, when the input came in pieces and the
            // parser was given its first byte already, after it).
            (
                "<a>0123456789abcd€fg</a>",
                "<a>0123456789abcd</a>|<a>0123456789abcd€</a>",
            ),
            (
                "<a>0123456789abcde€g</a>",
                "<a>0123456789abcde</a>|<a>0123456789abcde€</a>",
            ),
            (
                "<a>0123456789abc€€€</a>",
                "<a>0123456789abc€</a>|<a>0123456789abc€€</a>",
            ),
            // Text full of references is never held whole: it is not cut.
            (
                "<a>&amp;xxxxxxxxxx&amp;xxxxxxxxxx&amp;xxxxxxxxxx&amp;</a>",
                "",
            ),
            (
                "<a>&#233;&#233;&#233;&#233;&#233;&#233;&#233;&#233;</a>",
                "",
            ),
        ] {
            let want: Vec<&str> = match want {
                "" => vec![doc],
                _ => want.split('|').collect(),
            };
            for chunk in [4096, 1, 2, 3, 4, 5, 7] {
                let got = given(doc.as_bytes(), 16, chunk);
                let got = String::from_utf8_lossy(&got);
                assert!(want.contains(&&*got), "{doc} chunk {chunk}: {got}");
                if chunk == 4096 {
                    assert_eq!(got, want[0], "{doc}");
                }
                pieces(got.as_bytes()).expect("parses");
            }
        }
        // A "reference" longer than the cap is cut in: the parser reports it unclosed.
        let doc = format!("<a>&{};</a>", "x".repeat(40));
        let got = given(doc.as_bytes(), 16, 4096);
        assert_eq!(String::from_utf8_lossy(&got), "<a>&xxxxxxxxxxxxxxx</a>");
        assert!(pieces(&got).is_err());
    }

    #[test]
    fn cdata_and_comments_keep_their_end() {
        for content in [
            "0123456789abcdefghijklmnop",
            "0123456789abcd]]]]]]]]]]]]]]]]]]]]",
            "0123456789abc]]é]]€]]] ]] > <b>]]",
            "0123456789abcdef]",
            "0123456789abcdef]]",
            "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        ] {
            for (open, close, body) in [
                ("<![CDATA[", "]]>", content.to_string()),
                (
                    "<!--",
                    "-->",
                    content.replace(']', "-").replace("-->", "- >"),
                ),
            ] {
                let doc = format!("<a>{open}{body}{close}<b/>\n</a>");
                let whole = pieces(doc.as_bytes()).expect("parses");
                for cap in 16..40 {
                    for chunk in [1, 2, 3, 4, 5, 7, 4096] {
                        let got = given(doc.as_bytes(), cap, chunk);
                        let what = format!("{doc} cap {cap} chunk {chunk}");
                        let cut = pieces(&got).map_err(|e| format!("{what}: {e}"));
                        let cut = cut.expect("still parses");
                        assert_cut(&whole, &cut, cap as usize, &what);
                    }
                }
            }
        }
    }

    /// Random documents, cut at random caps and read in random chunks: what parses whole
    /// parses cut, with the same markup and runs cut short; nothing panics.
    #[test]
    fn random_documents_cut_anywhere() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let text = [
            "a",
            " ",
            "\n",
            "é",
            "€",
            "&amp;",
            "&#233;",
            "]",
            ">",
            "-",
            ";",
            "'",
            "\"",
            "0123456789",
        ];
        let inner = ["a", "\n", "é", "€", "]", ">", "-", "<", "&", ";", "?"];
        for round in 0..3000 {
            let mut doc = String::from("<r>");
            let mut open = Vec::new();
            for _ in 0..next(12) + 1 {
                let run = |next: &mut dyn FnMut(usize) -> usize, set: &[&str]| {
                    let n = next(4) * next(20) + next(3);
                    (0..n).map(|_| set[next(set.len())]).collect::<String>()
                };
                match next(9) {
                    0..=2 => doc.push_str(&run(&mut next, &text)),
                    3 => {
                        let body = run(&mut next, &inner).replace("]]>", "]] >");
                        doc.push_str(&format!("<![CDATA[{body}]]>"));
                    }
                    4 => {
                        let body = run(&mut next, &inner).replace('<', "").replace("--", "- ");
                        doc.push_str(&format!("<!--{}-->", body.trim_end_matches('-')));
                    }
                    5 => doc.push_str("<?p a > b ?>"),
                    6 if open.len() < 4 => {
                        let name = ["x", "y", "z"][next(3)];
                        doc.push_str(&format!("<{name} a=\">'\" b='\">'>"));
                        open.push(name);
                    }
                    7 => match open.pop() {
                        Some(name) => doc.push_str(&format!("</{name}>")),
                        None => doc.push_str("<e q='/>'/>"),
                    },
                    _ => doc.push_str("<e/>"),
                }
            }
            while let Some(name) = open.pop() {
                doc.push_str(&format!("</{name}>"));
            }
            doc.push_str("</r>\n");
            if round % 7 == 0 {
                // Now and then not well-formed.
                let at = doc.len() / 2;
                let at = (at..doc.len())
                    .find(|&i| doc.is_char_boundary(i))
                    .unwrap_or(0);
                doc.insert_str(
                    at,
                    ["<", "&", "]]>", "<!", "<![CDATA[", "<!--", "<?"][next(7)],
                );
            }
            let cap = 16 + next(40) as u64;
            let chunk = [1, 2, 3, 5, 8, 13, 64, 4096][next(8)];
            let got = given(doc.as_bytes(), cap, chunk);
            let what = format!("{doc:?} cap {cap} chunk {chunk}");
            let Ok(whole) = pieces(doc.as_bytes()) else {
                continue;
            };
            // A bare `&` far from the next `;` makes a "reference" longer than the cap: cut in.
            let long_reference = whole.iter().any(|p| match p {
                Piece::Run(b't', t) => t.iter().enumerate().any(|(i, &x)| {
                    let end = t[i..].iter().position(|&y| y == b';');
                    x == b'&' && end.is_none_or(|n| n + 4 >= cap as usize)
                }),
                _ => false,
            });
            match pieces(&got) {
                Ok(cut) => assert_cut(&whole, &cut, cap as usize, &what),
                Err(e) => assert!(long_reference, "{what}: {e}"),
            }
        }
    }
}
