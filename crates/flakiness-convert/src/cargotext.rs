//! Plain `cargo test` output as people paste it: stdout and stderr interleaved, several test
//! binaries, doc-tests.
//!
//! cargo's `Running …` / `Doc-tests …` lines name the binary whose `running N tests` block
//! follows. In a block, `test NAME ... RESULT` lines give the outcomes (the result word may come
//! on a later line when other output got in between), `---- NAME stdout ----` sections hold the
//! captured output of failed (and, with `--show-output`, passed) tests, and
//! `test result: … finished in Xs` closes the block. Everything else is ignored, except panics
//! printed outside those sections (`--nocapture`), which are kept for failed tests that have no
//! section of their own, and crash reasons of binaries that ended early.

use std::borrow::Cow;
use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, Stream, Test,
    TestStatus, TimedStdioEntry, UnixTimestampMs,
};

use crate::libtest::{binary_from_cargo_line, parse_panic};
use crate::libtest::{binary_suite, doctest_error_locations, Binary};
use crate::{push_bounded, ConvertError, Limits, Metadata};

/// Message of a test whose result the output never gives.
const NO_RESULT: &str =
    "no result: the output ends before this test finished (the test binary crashed or the output was cut)";

/// Messages libtest appends to a failed test's output as `note: MESSAGE`.
const FAILURE_NOTES: [&str; 7] = [
    "test did not panic as expected",
    "panic did not contain expected string",
    "panic did not include expected string",
    "expected panic with string value",
    "got unexpected return code",
    "child process exited with signal",
    "unknown return code",
];

/// Tests gathered from plain `cargo test` output of one run.
#[derive(Debug, Default)]
pub struct CargoTextCollector {
    binaries: Vec<Binary>,
    by_title: HashMap<String, usize>,
    unnamed: usize,
    elapsed_ms: f64,
    unattributed: Vec<ReportError>,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Passed,
    /// With the reason libtest gives (`time limit exceeded`), if any.
    Failed(Option<String>),
    /// With the ignore reason, if any.
    Skipped(Option<String>),
}

/// One attempt recorded in the current block; completed when the block ends.
#[derive(Debug)]
struct Entry {
    name: String,
    test: usize,
    attempt: usize,
    outcome: Option<Outcome>,
    captured: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// `test … ` lines.
    Tests,
    /// After a `failures:` / `successes:` header: `---- NAME stdout ----` sections.
    Section,
    /// After the second header: the list of names.
    List,
}

/// One `running N tests` block of a test binary.
#[derive(Debug)]
struct Block {
    binary: usize,
    expected: Option<u64>,
    start_ms: f64,
    fallback_ms: f64,
    limit: usize,
    entries: Vec<Entry>,
    /// The last entry of each name.
    last_by_name: HashMap<String, usize>,
    /// Entries whose `test NAME ... ` line had no result word yet (those resolved since by a
    /// section or the list are dropped when met).
    pending: Vec<usize>,
    phase: Phase,
    /// The section being read lists passes (`--show-output`).
    successes: bool,
    /// The `---- NAME stdout ----` section being read, and its text.
    capturing: Option<(String, String)>,
    listed_failures: Vec<String>,
    /// Panics printed outside the sections, by thread name (the first one of each).
    loose_panics: HashMap<String, String>,
    loose: Option<(String, String)>,
    fatal: Option<String>,
}

/// Errors made for a binary that ended early; cargo's reason (`process didn't exit
/// successfully: … (signal: 11, SIGSEGV …)`) is appended to them when it follows.
#[derive(Debug, Default)]
struct Crash {
    attempts: Vec<(usize, usize, usize)>,
    unattributed: Option<usize>,
}

#[derive(Debug, Default)]
struct ReadState {
    pending_name: Option<String>,
    block: Option<Block>,
    crash: Option<Crash>,
    saw_tests: bool,
    first_error: Option<(u64, String)>,
}

/// Removes ANSI escape sequences (colours, cursor moves, OSC titles, charset selection).
pub(crate) fn strip_ansi(s: &str) -> Cow<'_, str> {
    if !s.contains('\x1b') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(n) = chars.next() {
                    if n == '\x07' {
                        break;
                    }
                    if n == '\x1b' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            Some('(' | ')' | '*' | '+') => {
                chars.next();
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// Drops the timestamp GitHub Actions puts before every line of a downloaded log
/// (`2024-01-15T10:20:30.1234567Z `).
fn strip_ci_timestamp(s: &str) -> &str {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    if !shape {
        return s;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'Z') && b.get(i + 1) == Some(&b' ') {
        &s[i + 2..]
    } else {
        s
    }
}

/// One line as the terminal showed it: no line ending, no colours, no CI timestamp, and only
/// what follows the last carriage return (progress bars overwrite themselves).
fn clean(raw: &str) -> Cow<'_, str> {
    let line = raw.strip_suffix('\n').unwrap_or(raw);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let visible = |l: &str| -> std::ops::Range<usize> {
        let start = l.rfind('\r').map_or(0, |i| i + 1);
        let rest = &l[start..];
        start + (rest.len() - strip_ci_timestamp(rest).len())..l.len()
    };
    match strip_ansi(line) {
        Cow::Borrowed(l) => Cow::Borrowed(&l[visible(l)]),
        Cow::Owned(l) => {
            let r = visible(&l);
            if r.start == 0 {
                Cow::Owned(l)
            } else {
                Cow::Owned(l[r].to_string())
            }
        }
    }
}

/// A cargo line that starts a test binary: `Running unittests src/lib.rs (target/…)`,
/// `Running tests/x.rs (…)`, old cargo's `Running target/debug/deps/x-hash`,
/// `Doc-tests crate_name`. Stricter than [`binary_from_cargo_line`], since test output may say
/// "Running" too.
fn cargo_binary_line(trimmed: &str) -> Option<String> {
    if let Some(rest) = trimmed.strip_prefix("Running ") {
        let rest = rest.trim();
        let current = rest.ends_with(')') && rest.contains(" (");
        let old = !rest.contains(' ') && (rest.contains('/') || rest.contains('\\'));
        if !current && !old {
            return None;
        }
    } else if let Some(krate) = trimmed.strip_prefix("Doc-tests ") {
        let krate = krate.trim();
        if krate.is_empty() || krate.contains(char::is_whitespace) {
            return None;
        }
    } else {
        return None;
    }
    binary_from_cargo_line(trimmed)
}

/// `running 11 tests` / `running 1 test` → the count.
fn running_line(trimmed: &str) -> Option<u64> {
    let rest = trimmed.strip_prefix("running ")?;
    let (n, word) = rest.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    matches!(word, "tests" | "test").then_some(n)
}

/// `… finished in 0.13s` → seconds.
fn finished_in(summary: &str) -> Option<f64> {
    let (_, t) = summary.rsplit_once("finished in ")?;
    let secs: f64 = t.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

/// `test NAME ... REST` → (NAME without libtest's mode suffix, REST).
fn test_line(trimmed: &str) -> Option<(&str, &str)> {
    let rest = trimmed.strip_prefix("test ")?;
    for (i, _) in rest.match_indices(" ...") {
        let after = &rest[i + 4..];
        if !after.is_empty() && !after.starts_with(' ') {
            continue;
        }
        let mut name = rest[..i].trim();
        for mode in [" - should panic", " - compile fail", " - compile"] {
            if let Some(n) = name.strip_suffix(mode) {
                name = n.trim_end();
                break;
            }
        }
        return (!name.is_empty()).then_some((name, after.trim()));
    }
    None
}

/// A result as libtest prints it after `test NAME ... `, with the `--report-time` suffix
/// (`ok <0.001s>`) → the outcome and the seconds.
fn parse_result(text: &str) -> Option<(Outcome, Option<f64>)> {
    let text = text.trim();
    if text == "ignored" {
        return Some((Outcome::Skipped(None), None));
    }
    if let Some(reason) = text.strip_prefix("ignored, ") {
        return Some((Outcome::Skipped(Some(reason.trim().to_string())), None));
    }
    let (word, secs) = match text.rsplit_once(" <") {
        Some((w, t)) if t.ends_with("s>") => {
            let secs = t
                .strip_suffix("s>")
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0);
            match secs {
                Some(s) => (w.trim_end(), Some(s)),
                None => (text, None),
            }
        }
        _ => (text, None),
    };
    let outcome = match word {
        "ok" => Outcome::Passed,
        "FAILED" => Outcome::Failed(None),
        "FAILED (time limit exceeded)" => Outcome::Failed(Some("time limit exceeded".into())),
        w if w.starts_with("bench:") => Outcome::Passed,
        _ => return None,
    };
    Some((outcome, secs))
}

/// `---- NAME stdout ----` → NAME.
fn stdout_header(trimmed: &str) -> Option<&str> {
    let name = trimmed
        .strip_prefix("---- ")?
        .strip_suffix(" stdout ----")?
        .trim();
    (!name.is_empty()).then_some(name)
}

/// Splits the `note: MESSAGE` libtest appends to the output of a test that failed with a
/// message (a `should_panic` test that did not panic…) from the captured output.
fn split_note(text: &str) -> (&str, Option<&str>) {
    let at = FAILURE_NOTES
        .iter()
        .filter_map(|m| text.rfind(&format!("note: {m}")))
        .max();
    match at {
        Some(i) => (&text[..i], Some(text[i + "note: ".len()..].trim_end())),
        None => (text, None),
    }
}

/// The error of a panic in `output`, as the libtest JSON converter makes it.
fn panic_error(output: &str) -> Option<ReportError> {
    let (message, location) = parse_panic(output)?;
    Some(ReportError {
        message: Some(message),
        location,
        stack: output
            .find("thread '")
            .map(|i| output[i..].trim_end().to_string()),
        ..Default::default()
    })
}

/// `src/lib.rs - add (line 5)` → the doc-test's location.
fn doctest_location(name: &str) -> Option<Location> {
    let (file, rest) = name.split_once(" - ")?;
    let line: i64 = rest
        .rsplit_once("(line ")?
        .1
        .strip_suffix(')')?
        .parse()
        .ok()?;
    Some(Location::new(file.replace('\\', "/"), line, 1))
}

fn close_loose(block: &mut Block) {
    if let Some((name, text)) = block.loose.take() {
        block.loose_panics.entry(name).or_insert(text);
    }
}

/// A line of output outside the sections: panics are collected by thread name.
fn loose_line(block: &mut Block, text: &str) {
    if let Some(i) = text.find("thread '") {
        let from = &text[i..];
        if from.contains(" panicked at ") {
            close_loose(block);
            let name = from["thread '".len()..]
                .split('\'')
                .next()
                .unwrap_or_default()
                .to_string();
            let mut buf = String::new();
            push_bounded(&mut buf, from, block.limit);
            push_bounded(&mut buf, "\n", block.limit);
            block.loose = Some((name, buf));
            return;
        }
    }
    let trimmed = text.trim();
    if trimmed.starts_with("fatal runtime error:") {
        block.fatal = Some(trimmed.to_string());
    }
    if trimmed.is_empty() {
        close_loose(block);
        return;
    }
    let limit = block.limit;
    if let Some((_, buf)) = block.loose.as_mut() {
        push_bounded(buf, text, limit);
        push_bounded(buf, "\n", limit);
        if trimmed.starts_with("note: run with `RUST_BACKTRACE") {
            close_loose(block);
        }
    }
}

impl CargoTextCollector {
    fn binary(&mut self, title: Option<String>) -> usize {
        let title = title.unwrap_or_else(|| {
            self.unnamed += 1;
            format!("test binary {}", self.unnamed)
        });
        if let Some(&i) = self.by_title.get(&title) {
            return i;
        }
        self.binaries.push(Binary {
            suite: binary_suite(&title),
            tests: Vec::new(),
            by_name: HashMap::new(),
        });
        self.by_title.insert(title, self.binaries.len() - 1);
        self.binaries.len() - 1
    }

    fn open_block(
        &mut self,
        st: &mut ReadState,
        expected: Option<u64>,
        fallback_ms: f64,
        limit: usize,
    ) {
        let binary = self.binary(st.pending_name.take());
        st.block = Some(Block {
            binary,
            expected,
            start_ms: self.elapsed_ms,
            fallback_ms,
            limit,
            entries: Vec::new(),
            last_by_name: HashMap::new(),
            pending: Vec::new(),
            phase: Phase::Tests,
            successes: false,
            capturing: None,
            listed_failures: Vec::new(),
            loose_panics: HashMap::new(),
            loose: None,
            fatal: None,
        });
    }

    /// Adds an attempt of `name` to the block's binary; its status is settled when the block
    /// ends.
    fn record(
        &mut self,
        block: &mut Block,
        name: &str,
        outcome: Option<Outcome>,
        secs: Option<f64>,
    ) -> usize {
        let start = UnixTimestampMs(block.fallback_ms.max(0.0) + self.elapsed_ms);
        let bin = &mut self.binaries[block.binary];
        let test = match bin.by_name.get(name) {
            Some(&i) => i,
            None => {
                let mut t = Test::new(name);
                t.location = doctest_location(name);
                bin.by_name.insert(name.to_string(), bin.tests.len());
                bin.tests.push(t);
                bin.tests.len() - 1
            }
        };
        let mut a = RunAttempt::with_status(TestStatus::Passed);
        a.start_timestamp = Some(start);
        crate::push_attempt(&mut bin.tests[test].attempts, a);
        let attempt = bin.tests[test].attempts.len() - 1;
        block.entries.push(Entry {
            name: name.to_string(),
            test,
            attempt,
            outcome: None,
            captured: None,
        });
        let idx = block.entries.len() - 1;
        block.last_by_name.insert(name.to_string(), idx);
        if let Some(o) = outcome {
            self.resolve(block, idx, o, secs);
        }
        idx
    }

    fn resolve(&mut self, block: &mut Block, idx: usize, outcome: Outcome, secs: Option<f64>) {
        let Some(e) = block.entries.get_mut(idx) else {
            return;
        };
        e.outcome = Some(outcome);
        if let Some(s) = secs {
            let a = &mut self.binaries[block.binary].tests[e.test].attempts[e.attempt];
            a.duration = Some(DurationMs(s * 1000.0));
            self.elapsed_ms += s * 1000.0;
        }
    }

    /// Ends the `---- NAME stdout ----` section being read; `strip` is the number of newlines
    /// libtest wrote after the output (1 before the next section, 2 before the list).
    fn finish_capture(&mut self, block: &mut Block, strip: usize) {
        let Some((name, mut text)) = block.capturing.take() else {
            return;
        };
        for _ in 0..strip {
            if text.ends_with('\n') {
                text.pop();
            }
        }
        let outcome = if block.successes {
            Outcome::Passed
        } else {
            Outcome::Failed(None)
        };
        let idx = match block.last_by_name.get(&name).copied() {
            Some(i) => i,
            None => self.record(block, &name, None, None),
        };
        if block.entries[idx].outcome.is_none() {
            self.resolve(block, idx, outcome, None);
        }
        block.entries[idx].captured = Some(text);
    }

    /// Completes the attempts of the block. `finished_s` is `Some` when the block ended with
    /// its `test result:` line (with the time, if given), `None` when the binary stopped early
    /// or the output ends.
    fn end_block(&mut self, st: &mut ReadState, finished: Option<Option<f64>>) {
        let Some(mut block) = st.block.take() else {
            return;
        };
        self.finish_capture(&mut block, 2);
        close_loose(&mut block);
        let normal = finished.is_some();
        // `cargo test -q` prints no `test` lines: the failures are known from the list.
        for name in std::mem::take(&mut block.listed_failures) {
            match block.last_by_name.get(&name).copied() {
                Some(i) if block.entries[i].outcome.is_none() => {
                    self.resolve(&mut block, i, Outcome::Failed(None), None);
                }
                Some(_) => {}
                None => {
                    self.record(&mut block, &name, Some(Outcome::Failed(None)), None);
                }
            }
        }
        let fatal = block
            .fatal
            .as_deref()
            .map(|f| format!("\n{f}"))
            .unwrap_or_default();
        let mut crash = Crash::default();
        for e in &block.entries {
            let (outcome, unresolved) = match &e.outcome {
                Some(o) => (o.clone(), false),
                None if normal => (Outcome::Passed, false),
                None => (Outcome::Failed(None), true),
            };
            let a = &mut self.binaries[block.binary].tests[e.test].attempts[e.attempt];
            let captured = e.captured.as_deref().unwrap_or_default();
            let stdout = match outcome {
                Outcome::Passed => {
                    a.status = Some(TestStatus::Passed);
                    captured
                }
                Outcome::Skipped(reason) => {
                    a.status = Some(TestStatus::Skipped);
                    a.annotations = Some(vec![Annotation {
                        kind: "skip".into(),
                        description: reason,
                        ..Default::default()
                    }]);
                    captured
                }
                Outcome::Failed(reason) => {
                    a.status = Some(TestStatus::Failed);
                    let (stdout, note) = split_note(captured);
                    let error = panic_error(stdout)
                        .or_else(|| block.loose_panics.get(&e.name).and_then(|p| panic_error(p)))
                        .unwrap_or_else(|| {
                            let message = match (note, reason) {
                                (Some(n), _) => n.to_string(),
                                (None, Some(r)) => r,
                                (None, None) if unresolved => format!("{NO_RESULT}{fatal}"),
                                (None, None) => "test failed".into(),
                            };
                            ReportError::message(message)
                        });
                    a.errors = Some(vec![error]);
                    if unresolved {
                        crash.attempts.push((block.binary, e.test, e.attempt));
                    }
                    stdout
                }
            };
            if !stdout.is_empty() {
                a.stdio = Some(vec![TimedStdioEntry::text(Stream::Stdout, stdout)]);
            }
        }
        if !normal {
            let seen = block.entries.len() as u64;
            if let Some(n) = block.expected.filter(|&n| n > seen) {
                let title = &self.binaries[block.binary].suite.title;
                self.unattributed.push(ReportError::message(format!(
                    "{title}: the output has results for {seen} of {n} tests; the test binary crashed or the output was cut{fatal}"
                )));
                crash.unattributed = Some(self.unattributed.len() - 1);
            }
        }
        if let Some(Some(secs)) = finished {
            self.elapsed_ms = self.elapsed_ms.max(block.start_ms + secs * 1000.0);
        }
        st.crash = (!crash.attempts.is_empty() || crash.unattributed.is_some()).then_some(crash);
    }

    /// Appends cargo's reason for a binary that ended early to the errors made for it.
    fn add_reason(&mut self, crash: Crash, reason: &str) {
        let append = |e: &mut ReportError| {
            let m = e.message.get_or_insert_with(String::new);
            m.push('\n');
            m.push_str(reason);
        };
        for (b, t, a) in crash.attempts {
            let attempt = &mut self.binaries[b].tests[t].attempts[a];
            for e in attempt.errors.iter_mut().flatten() {
                append(e);
            }
        }
        if let Some(e) = crash
            .unattributed
            .and_then(|i| self.unattributed.get_mut(i))
        {
            append(e);
        }
    }

    fn line(
        &mut self,
        st: &mut ReadState,
        line: &str,
        offset: u64,
        fallback_ms: f64,
        limit: usize,
    ) {
        let trimmed = line.trim();
        if let Some(block) = st.block.as_mut() {
            if block.capturing.is_some() {
                if let Some(name) = stdout_header(trimmed) {
                    self.finish_capture(block, 1);
                    block.capturing = Some((name.to_string(), String::new()));
                    return;
                }
                if trimmed == "failures:" || trimmed == "successes:" {
                    self.finish_capture(block, 2);
                    block.phase = Phase::List;
                    return;
                }
                if !trimmed.starts_with("test result: ") {
                    if let Some((_, text)) = block.capturing.as_mut() {
                        push_bounded(text, line, limit);
                        push_bounded(text, "\n", limit);
                    }
                    return;
                }
                self.finish_capture(block, 2);
            }
        }
        if let Some(title) = cargo_binary_line(trimmed) {
            self.end_block(st, None);
            st.crash = None;
            st.pending_name = Some(title);
            return;
        }
        if let Some(n) = running_line(trimmed) {
            self.end_block(st, None);
            st.crash = None;
            st.saw_tests = true;
            self.open_block(st, Some(n), fallback_ms, limit);
            return;
        }
        if let Some(summary) = trimmed.strip_prefix("test result: ") {
            if st.block.is_some() {
                self.end_block(st, Some(finished_in(summary)));
            }
            return;
        }
        if trimmed.starts_with("error: test failed, to rerun pass")
            || trimmed.starts_with("error: doctest failed, to rerun pass")
        {
            self.end_block(st, None);
            return;
        }
        if trimmed.starts_with("process didn't exit successfully:") {
            if let Some(c) = st.crash.take() {
                self.add_reason(c, trimmed);
            }
            return;
        }
        if trimmed.starts_with("error") && st.first_error.is_none() {
            st.first_error = Some((offset, trimmed.to_string()));
        }
        if let Some((name, rest)) = test_line(trimmed) {
            st.saw_tests = true;
            if st.block.is_none() {
                self.open_block(st, None, fallback_ms, limit);
            }
            let Some(block) = st.block.as_mut() else {
                return;
            };
            close_loose(block);
            match parse_result(rest) {
                Some((outcome, secs)) => {
                    self.record(block, name, Some(outcome), secs);
                }
                None => {
                    let i = self.record(block, name, None, None);
                    block.pending.push(i);
                    loose_line(block, rest);
                }
            }
            return;
        }
        let Some(block) = st.block.as_mut() else {
            return;
        };
        while let Some(&last) = block.pending.last() {
            if block.entries.get(last).is_some_and(|e| e.outcome.is_none()) {
                break;
            }
            block.pending.pop();
        }
        if let Some(&last) = block.pending.last() {
            if let Some((outcome, secs)) = parse_result(trimmed) {
                close_loose(block);
                block.pending.pop();
                self.resolve(block, last, outcome, secs);
                return;
            }
        }
        if let Some(name) = stdout_header(trimmed) {
            close_loose(block);
            block.phase = Phase::Section;
            block.capturing = Some((name.to_string(), String::new()));
            return;
        }
        if trimmed == "failures:" || trimmed == "successes:" {
            close_loose(block);
            block.phase = if block.phase == Phase::Section {
                Phase::List
            } else {
                Phase::Section
            };
            block.successes = trimmed == "successes:";
            return;
        }
        if block.phase == Phase::List {
            let indented = line.starts_with(' ') || line.starts_with('\t');
            if indented && !trimmed.is_empty() && !block.successes {
                block.listed_failures.push(trimmed.to_string());
            }
            return;
        }
        loose_line(block, line);
    }

    /// Reads one `cargo test` transcript.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let text = std::str::from_utf8(data)
            .map_err(|e| ConvertError::at(input, e.valid_up_to() as u64, "invalid UTF-8".into()))?;
        let (text, mut offset) = match text.strip_prefix('\u{feff}') {
            Some(t) => (t, 3u64),
            None => (text, 0u64),
        };
        let mut st = ReadState::default();
        for raw in text.split_inclusive('\n') {
            let here = offset;
            offset += raw.len() as u64;
            let line = clean(raw);
            self.line(&mut st, &line, here, fallback_ms, limits.max_output_bytes);
        }
        self.end_block(&mut st, None);
        if !st.saw_tests {
            return Err(match st.first_error {
                Some((at, line)) => ConvertError::at(
                    input,
                    at,
                    format!("no test results found; the build failed: {line}"),
                ),
                None => ConvertError::at(input, 0, "no test results found".into()),
            });
        }
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let suites = self
            .binaries
            .into_iter()
            .map(|mut b| {
                if b.suite.title.starts_with("doc-tests ") {
                    doctest_error_locations(&mut b.tests);
                }
                let mut s = b.suite;
                s.tests = (!b.tests.is_empty()).then_some(b.tests);
                s
            })
            .collect();
        let mut report = crate::build_report(
            suites,
            Vec::new(),
            self.unattributed,
            fallback_ms,
            self.elapsed_ms,
            meta,
        );
        report.test_runner = Some(NamedVersion {
            name: "libtest".into(),
            version: "unknown".into(),
            ..Default::default()
        });
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cleaned() {
        assert_eq!(
            clean("test a ... \x1b[32mok\x1b(B\x1b[m\r\n"),
            "test a ... ok"
        );
        assert_eq!(
            clean("\x1b]0;title\x07   Building [==>  ] 1/3\r\x1b[K   Compiling x\n"),
            "   Compiling x"
        );
        assert_eq!(
            clean("2024-01-15T10:20:30.1234567Z test a ... ok\n"),
            "test a ... ok"
        );
        assert_eq!(clean("2024-01-15 not a stamp"), "2024-01-15 not a stamp");
    }

    #[test]
    fn results_and_names() {
        assert_eq!(
            test_line("test tests::x - should panic ... ok"),
            Some(("tests::x", "ok"))
        );
        assert_eq!(
            test_line("test src/lib.rs - f (line 3) - compile fail ..."),
            Some(("src/lib.rs - f (line 3)", ""))
        );
        assert_eq!(test_line("test result: ok. 1 passed"), None);
        assert_eq!(
            parse_result("ok <0.250s>"),
            Some((Outcome::Passed, Some(0.25)))
        );
        assert_eq!(
            parse_result("ignored, needs <db>s>"),
            Some((Outcome::Skipped(Some("needs <db>s>".into())), None))
        );
        assert_eq!(
            parse_result("FAILED (time limit exceeded) <61.000s>"),
            Some((
                Outcome::Failed(Some("time limit exceeded".into())),
                Some(61.0)
            ))
        );
        assert_eq!(parse_result("okay"), None);
        assert_eq!(running_line("running 1 test"), Some(1));
        assert_eq!(running_line("running late tests"), None);
        assert_eq!(finished_in("ok. 1 passed; finished in 0.13s"), Some(0.13));
        assert_eq!(cargo_binary_line("Running the migrations"), None);
        assert_eq!(
            cargo_binary_line("Running target/debug/deps/x-0123456789abcdef").as_deref(),
            Some("x")
        );
        assert_eq!(
            split_note("out\nnote: test did not panic as expected at a.rs:1:2"),
            ("out\n", Some("test did not panic as expected at a.rs:1:2"))
        );
    }
}
