//! JUnit XML (all the common dialects) into the report model, in one streaming pass of
//! quick-xml events. No DOM of the file is built; text is collected only where it is kept
//! (messages, stacks, output), each piece bounded.

use std::collections::HashMap;
use std::io::BufRead;

use flakiness_report::{
    Annotation, DurationMs, Location, ReportError, RunAttempt, Stream, Suite, SuiteType, Test,
    TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::times::{parse_duration_secs, parse_timestamp_ms};
use crate::{push_bounded, ConvertError, Limits};

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

#[derive(Debug)]
struct Node {
    suite: Suite,
    children: Vec<usize>,
    child_by_title: HashMap<String, usize>,
    tests: Vec<Test>,
    test_by_key: HashMap<(String, String), usize>,
    /// Start of the suite (Unix ms) and the time used so far by its cases: derives attempt
    /// start times when the cases carry none.
    start_ms: Option<f64>,
    elapsed_ms: f64,
}

impl Node {
    fn new(kind: SuiteType, title: String) -> Self {
        Node {
            suite: Suite::new(kind, title),
            children: Vec::new(),
            child_by_title: HashMap::new(),
            tests: Vec::new(),
            test_by_key: HashMap::new(),
            start_ms: None,
            elapsed_ms: 0.0,
        }
    }
}

/// Suites and tests gathered from one or more JUnit files of one run.
#[derive(Debug, Default)]
pub struct JunitCollector {
    nodes: Vec<Node>,
    roots: Vec<usize>,
    root_by_title: HashMap<String, usize>,
    /// Tests outside any `<testsuite>`.
    loose: Vec<Test>,
    loose_by_key: HashMap<(String, String), usize>,
    /// Output of suites that belongs to no test.
    pub unattributed: Vec<ReportError>,
    /// Earliest timestamp seen (Unix ms).
    pub earliest_ms: Option<f64>,
    /// Sum of the durations of the top-level suites (ms).
    pub total_ms: f64,
    /// Number of `<testcase>` elements read.
    pub testcases: usize,
    /// The document being read was written by pytest (its suites are named `pytest`).
    pytest: bool,
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, quick_xml::Error> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(quick_xml::Error::from)?;
        if a.key.as_ref() == name {
            return Ok(Some(match a.unescape_value() {
                Ok(v) => v.into_owned(),
                // An entity the document declares itself: kept as written, never expanded.
                Err(quick_xml::Error::Escape(_)) => String::from_utf8_lossy(&a.value).into_owned(),
                Err(e) => return Err(e),
            }));
        }
    }
    Ok(None)
}

impl JunitCollector {
    fn child(&mut self, parent: Option<usize>, kind: SuiteType, title: &str) -> usize {
        let existing = match parent {
            Some(p) => self.nodes[p].child_by_title.get(title).copied(),
            None => self.root_by_title.get(title).copied(),
        };
        if let Some(i) = existing {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(Node::new(kind, title.to_string()));
        match parent {
            Some(p) => {
                self.nodes[p].children.push(i);
                self.nodes[p].child_by_title.insert(title.to_string(), i);
            }
            None => {
                self.roots.push(i);
                self.root_by_title.insert(title.to_string(), i);
            }
        }
        i
    }

    /// Reads one JUnit XML document. `fallback_ms` is the start time used when the file has
    /// none (the input file's modification time).
    pub fn read<R: BufRead>(
        &mut self,
        input: R,
        name: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut reader = Reader::from_reader(input);
        reader.config_mut().trim_text(false);
        let mut buf = Vec::new();
        let mut suites: Vec<usize> = Vec::new();
        let mut depth = 0usize;
        let mut case: Option<Case> = None;
        let mut result: Option<(ResultKind, ResultRec)> = None;
        let mut sink = Sink::None;
        let mut sink_stack: Vec<Sink> = Vec::new();
        let mut prop: Option<(String, String)> = None;
        let mut suite_text = String::new();
        let mut in_suite_text = false;
        let mut saw_root = false;

        let fail = |reader: &Reader<R>, message: String| {
            ConvertError::at(name, reader.buffer_position(), message)
        };

        loop {
            let event = match reader.read_event_into(&mut buf) {
                Ok(e) => e,
                Err(e) => {
                    return Err(ConvertError::at(
                        name,
                        reader.error_position(),
                        format!("malformed XML: {e}"),
                    ))
                }
            };
            let (start, empty) = match &event {
                Event::Start(e) => (Some(e.clone()), false),
                Event::Empty(e) => (Some(e.clone()), true),
                _ => (None, false),
            };
            if let Some(e) = start {
                if !saw_root {
                    let root = e.local_name();
                    if !matches!(root.as_ref(), b"testsuites" | b"testsuite" | b"testcase") {
                        let root = String::from_utf8_lossy(root.as_ref()).into_owned();
                        return Err(fail(&reader, format!("not a JUnit XML file: the root element is <{root}>, not <testsuites> or <testsuite>")));
                    }
                }
                if !saw_root {
                    let root_name = attr(&e, b"name").ok().flatten().unwrap_or_default();
                    self.pytest = root_name == "pytest tests" || root_name == "pytest";
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
                let at = |r: &Reader<R>, err: quick_xml::Error| {
                    ConvertError::at(name, r.buffer_position(), format!("bad attribute: {err}"))
                };
                let mut new_sink = Sink::None;
                match tag {
                    b"testsuite" => {
                        if suites.len() >= MAX_SUITE_DEPTH {
                            return Err(fail(
                                &reader,
                                format!("<testsuite> nested deeper than {MAX_SUITE_DEPTH} levels"),
                            ));
                        }
                        let title = attr(&e, b"name")
                            .map_err(|x| at(&reader, x))?
                            .unwrap_or_default();
                        let file = attr(&e, b"file").map_err(|x| at(&reader, x))?;
                        let ts = attr(&e, b"timestamp")
                            .map_err(|x| at(&reader, x))?
                            .and_then(|t| parse_timestamp_ms(&t));
                        let time = attr(&e, b"time")
                            .map_err(|x| at(&reader, x))?
                            .and_then(|t| parse_duration_secs(&t));
                        let parent = suites.last().copied();
                        let idx = self.child(parent, SuiteType::Suite, &title);
                        let node = &mut self.nodes[idx];
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
                        if !empty {
                            suites.push(idx);
                        }
                    }
                    b"testcase" if case.is_none() => {
                        self.testcases += 1;
                        let get = |k: &[u8]| attr(&e, k).map_err(|x| at(&reader, x));
                        let status = get(b"status")?.unwrap_or_default().to_ascii_lowercase();
                        let result_attr = get(b"result")?.unwrap_or_default().to_ascii_lowercase();
                        let c = Case {
                            name: get(b"name")?.unwrap_or_default(),
                            classname: get(b"classname")?.or(get(b"class")?).unwrap_or_default(),
                            time: get(b"time")?.and_then(|t| parse_duration_secs(&t)),
                            file: get(b"file")?,
                            line: get(b"line")?.and_then(|l| l.trim().parse().ok()),
                            timestamp: get(b"timestamp")?.and_then(|t| parse_timestamp_ms(&t)),
                            not_run: matches!(status.as_str(), "notrun" | "disabled" | "skipped")
                                || matches!(result_attr.as_str(), "skipped" | "suppressed"),
                            ..Case::default()
                        };
                        if empty {
                            self.finish_case(c, suites.last().copied(), fallback_ms, limits);
                        } else {
                            case = Some(c);
                        }
                    }
                    _ if case.is_some() && result.is_none() && ResultKind::of(tag).is_some() => {
                        let kind = ResultKind::of(tag).unwrap_or(ResultKind::Failure);
                        let rec = ResultRec {
                            message: attr(&e, b"message").map_err(|x| at(&reader, x))?,
                            kind_attr: attr(&e, b"type").map_err(|x| at(&reader, x))?,
                            time: attr(&e, b"time")
                                .map_err(|x| at(&reader, x))?
                                .and_then(|t| parse_duration_secs(&t)),
                            ..ResultRec::default()
                        };
                        if empty {
                            if let Some(c) = case.as_mut() {
                                c.results.push((kind, rec));
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
                    }
                    b"property" if case.is_some() => {
                        let pname = attr(&e, b"name")
                            .map_err(|x| at(&reader, x))?
                            .unwrap_or_default();
                        let value = attr(&e, b"value").map_err(|x| at(&reader, x))?;
                        match (empty, value) {
                            (true, v) => {
                                if let Some(c) = case.as_mut() {
                                    c.properties.push((pname, v.unwrap_or_default()));
                                }
                            }
                            (false, v) => {
                                prop = Some((pname, v.unwrap_or_default()));
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
                    match tag.as_ref() {
                        b"testsuite" => {
                            suites.pop();
                        }
                        b"testcase" => {
                            if let Some(c) = case.take() {
                                self.finish_case(c, suites.last().copied(), fallback_ms, limits);
                            }
                        }
                        b"property" => {
                            if let (Some(p), Some(c)) = (prop.take(), case.as_mut()) {
                                c.properties.push(p);
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
                        }
                        _ => {}
                    }
                    sink = sink_stack.pop().unwrap_or(Sink::None);
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    let text: String = match &event {
                        Event::Text(t) => t
                            .xml_content()
                            .map_err(|e| fail(&reader, format!("text is not valid UTF-8: {e}")))?
                            .into_owned(),
                        Event::CData(t) => t
                            .decode()
                            .map_err(|e| fail(&reader, format!("CDATA is not valid UTF-8: {e}")))?
                            .into_owned(),
                        // Character references and the five predefined entities are resolved;
                        // any other entity is kept as written: never expanded (no DTD is read).
                        Event::GeneralRef(r) => match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            _ => {
                                let raw = r.decode().map(|s| s.into_owned()).unwrap_or_default();
                                match quick_xml::escape::resolve_predefined_entity(&raw) {
                                    Some(s) => s.to_string(),
                                    None => format!("&{raw};"),
                                }
                            }
                        },
                        _ => String::new(),
                    };
                    self.collect(&text, sink, &mut case, &mut result, &mut prop, limits);
                    if in_suite_text {
                        push_bounded(&mut suite_text, &text, limits.max_output_bytes);
                    }
                }
                Event::Decl(d) => {
                    if let Some(Ok(enc)) = d.encoding() {
                        let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                        if enc != "utf-8" && enc != "utf8" && enc != "us-ascii" && enc != "ascii" {
                            return Err(fail(
                                &reader,
                                format!(
                                    "encoding {enc:?} is not supported: convert the file to UTF-8"
                                ),
                            ));
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
                reader.buffer_position(),
                "truncated XML: the document ends inside an element".into(),
            ));
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

    fn finish_case(
        &mut self,
        case: Case,
        suite: Option<usize>,
        fallback_ms: f64,
        _limits: &Limits,
    ) {
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
        } = case;
        // Where the case goes: its class gets a suite of its own unless it names the suite.
        let suite = match suite {
            Some(s) if !classname.is_empty() && self.nodes[s].suite.title != classname => {
                Some(self.child(Some(s), SuiteType::Suite, &classname))
            }
            Some(s) => Some(s),
            None if !classname.is_empty() => Some(self.child(None, SuiteType::Suite, &classname)),
            None => None,
        };
        let start = |me: &mut Self, duration: f64| -> f64 {
            match suite {
                Some(s) => {
                    let node = &mut me.nodes[s];
                    let base = node.start_ms.unwrap_or(fallback_ms) + node.elapsed_ms;
                    node.elapsed_ms += duration;
                    base
                }
                None => fallback_ms,
            }
        };

        let mut attempts = Vec::new();
        let mut main_status = if not_run {
            TestStatus::Skipped
        } else {
            TestStatus::Passed
        };
        let mut main_errors = Vec::new();
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
                    main_status = status_of(&rec);
                    main_errors.push(error_of(&rec));
                }
                ResultKind::Skipped => {
                    main_status = TestStatus::Skipped;
                    let description = rec.message.clone().or_else(|| {
                        (!rec.text.trim().is_empty()).then(|| rec.text.trim().to_string())
                    });
                    annotations.push(Annotation {
                        kind: "skip".into(),
                        description,
                        ..Default::default()
                    });
                }
                ResultKind::FlakyFailure | ResultKind::FlakyError => flaky.push(rec),
                ResultKind::RerunFailure | ResultKind::RerunError => reruns.push(rec),
            }
        }
        let rec_attempt = |me: &mut Self, rec: ResultRec| {
            let duration = rec.time.map(|t| t * 1000.0);
            let start_ms = start(me, duration.unwrap_or(0.0));
            let mut a = RunAttempt::with_status(status_of(&rec));
            a.errors = Some(vec![error_of(&rec)]);
            a.duration = duration.map(DurationMs);
            a.start_timestamp = Some(UnixTimestampMs(start_ms.max(0.0)));
            a.stdio = stdio(&rec.out, &rec.err);
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
        main.duration = duration.map(DurationMs);
        main.start_timestamp = Some(UnixTimestampMs(start_ms.max(0.0)));
        main.errors = (!main_errors.is_empty()).then_some(main_errors);
        main.annotations = (!annotations.is_empty()).then_some(annotations);
        main.stdio = stdio(&out, &err);
        attempts.push(main);
        for rec in reruns {
            let a = rec_attempt(self, rec);
            attempts.push(a);
        }

        let key = (classname, name.clone());
        let pytest = self.pytest;
        let (tests, by_key) = match suite {
            Some(s) => {
                let node = &mut self.nodes[s];
                (&mut node.tests, &mut node.test_by_key)
            }
            None => (&mut self.loose, &mut self.loose_by_key),
        };
        match by_key.get(&key) {
            // The same test again in one run: a rerun, kept as more attempts, in order.
            Some(&i) => {
                let earlier = &mut tests[i].attempts;
                if pytest {
                    // pytest-rerunfailures makes junitxml write each rerun as an empty
                    // testcase, which reads like a pass: an empty attempt followed by another
                    // run of the same test was a failed run whose details pytest dropped.
                    for a in earlier.iter_mut().filter(|a| is_bare_pass(a)) {
                        a.status = Some(TestStatus::Failed);
                        a.errors = Some(vec![ReportError::message(
                            "rerun: this run failed; pytest's junitxml does not record why",
                        )]);
                    }
                }
                earlier.extend(attempts);
            }
            None => {
                let mut test = Test::new(name);
                if let Some(file) = file {
                    test.location = Some(Location::new(
                        file,
                        line.unwrap_or(0),
                        if line.is_some() { 1 } else { 0 },
                    ));
                }
                test.attempts = attempts;
                by_key.insert(key, tests.len());
                tests.push(test);
            }
        }
    }

    /// The collected suites and root tests, in input order.
    pub fn into_parts(mut self) -> (Vec<Suite>, Vec<Test>) {
        // Children are assembled before parents: a node's index is always above its parent's.
        let mut built: Vec<Option<Suite>> = (0..self.nodes.len()).map(|_| None).collect();
        for i in (0..self.nodes.len()).rev() {
            let node = &mut self.nodes[i];
            let mut suite = std::mem::take(&mut node.suite);
            let children: Vec<Suite> = node
                .children
                .iter()
                .filter_map(|&c| built[c].take())
                .collect();
            let tests = std::mem::take(&mut node.tests);
            suite.suites = (!children.is_empty()).then_some(children);
            suite.tests = (!tests.is_empty()).then_some(tests);
            built[i] = Some(suite);
        }
        let roots = self.roots.iter().filter_map(|&r| built[r].take()).collect();
        (roots, self.loose)
    }
}

/// An attempt with nothing but a pass: what pytest writes for a rerun.
fn is_bare_pass(a: &RunAttempt) -> bool {
    a.status() == TestStatus::Passed
        && a.errors.is_none()
        && a.stdio.is_none()
        && a.annotations.is_none()
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
        (None, None) => stack.lines().next().map(str::to_string),
    };
    ReportError {
        message,
        stack: (!stack.is_empty()).then(|| stack.to_string()),
        ..Default::default()
    }
}

fn stdio(out: &str, err: &str) -> Option<Vec<flakiness_report::TimedStdioEntry>> {
    let mut v = Vec::new();
    if !out.is_empty() {
        v.push(TimedStdioEntry::text(Stream::Stdout, out));
    }
    if !err.is_empty() {
        v.push(TimedStdioEntry::text(Stream::Stderr, err));
    }
    (!v.is_empty()).then_some(v)
}
