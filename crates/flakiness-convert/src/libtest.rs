//! libtest JSON (`cargo test -- -Z unstable-options --format json --report-time`) into the
//! report model. Lines that are not JSON are cargo's own output: its `Running …` and
//! `Doc-tests …` lines name the test binary whose events follow; the others are ignored.

use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, Location, ReportError, RunAttempt, Stream, Suite, SuiteType, Test,
    TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use serde_json::Value;

use crate::{push_bounded, ConvertError, Limits};

/// A test binary: its suite, its tests, and their index by name.
#[derive(Debug)]
pub(crate) struct Binary {
    pub(crate) suite: Suite,
    pub(crate) tests: Vec<Test>,
    pub(crate) by_name: HashMap<String, usize>,
}

/// Test binaries and their tests gathered from libtest JSON streams of one run.
#[derive(Debug, Default)]
pub struct LibtestCollector {
    binaries: Vec<Binary>,
    by_title: HashMap<String, usize>,
    current: Option<usize>,
    /// Name for the next `suite started` event, from cargo's `Running` line.
    pending_name: Option<String>,
    unnamed: usize,
    elapsed_ms: f64,
    /// Number of test results read.
    pub results: usize,
}

/// The binary a cargo `Running`/`Doc-tests` line announces: `src/lib.rs`,
/// `tests/integration.rs`, `doc-tests cargo_sample`.
pub fn binary_from_cargo_line(line: &str) -> Option<String> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("Running ") {
        let rest = rest.strip_prefix("unittests ").unwrap_or(rest);
        let source = rest.split(" (").next().unwrap_or(rest).trim();
        // Old cargo names the executable (`target/debug/deps/app-1f2e…`), whose hash changes
        // between builds: the binary is named without it, so tests keep their identity.
        if source.contains("/deps/") || source.contains("\\deps\\") {
            let file = source.rsplit(['/', '\\']).next().unwrap_or(source);
            let file = file.strip_suffix(".exe").unwrap_or(file);
            let name = match file.rsplit_once('-') {
                Some((name, hash))
                    if hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    name
                }
                _ => file,
            };
            return (!name.is_empty()).then(|| name.to_string());
        }
        return (!source.is_empty()).then(|| source.to_string());
    }
    line.strip_prefix("Doc-tests ")
        .map(|krate| format!("doc-tests {}", krate.trim()))
}

/// A panic in libtest output: its message and where it happened. Handles the current format
/// (`thread 'x' (123) panicked at src/lib.rs:4:5:` then the message on the next lines) and the
/// old one (`thread 'x' panicked at 'message', src/lib.rs:4:5`).
pub fn parse_panic(output: &str) -> Option<(String, Option<Location>)> {
    let start = output.find("thread '")?;
    let block = &output[start..];
    let at = block.find(" panicked at ")?;
    let after = &block[at + " panicked at ".len()..];
    let first_line = after.lines().next().unwrap_or_default();
    let loc_of = |s: &str| -> Option<Location> {
        let mut parts = s.trim().rsplitn(3, ':');
        let col: i64 = parts.next()?.parse().ok()?;
        let line: i64 = parts.next()?.parse().ok()?;
        let file = parts.next()?;
        Some(Location::new(file.replace('\\', "/"), line, col))
    };
    if let Some(rest) = first_line.strip_prefix('\'') {
        // Old format: 'message', file:line:col
        let (message, loc) = rest.rsplit_once("', ")?;
        return Some((message.to_string(), loc_of(loc)));
    }
    let loc = loc_of(first_line.trim_end_matches(':'));
    let message: Vec<&str> = after
        .lines()
        .skip(1)
        .take_while(|l| {
            !l.starts_with("note: run with `RUST_BACKTRACE") && !l.starts_with("stack backtrace:")
        })
        .collect();
    Some((message.join("\n").trim().to_string(), loc))
}

/// `name#3` → (`name`, 3); a name without such a suffix ran once.
fn split_attempt(name: &str) -> (&str, u32) {
    match name.rsplit_once('#') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (base, n.parse().unwrap_or(1).clamp(1, 1000))
        }
        _ => (name, 1),
    }
}

/// Doubles every backslash that does not start a JSON escape.
fn repair_backslashes(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u') => {
                    out.push(c);
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                _ => out.push_str("\\\\"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `src/lib.rs - add (line 5)` → the doc-test's location.
fn doctest_location(name: &str) -> Option<Location> {
    let (file, rest) = name.split_once(" - ")?;
    let line = rest
        .rsplit_once("(line ")?
        .1
        .strip_suffix(')')?
        .parse()
        .ok()?;
    Some(Location::new(file.replace('\\', "/"), line, 1))
}

/// The suite of a test binary: a file suite when it is named after its source file
/// (`tests/integration.rs`), a plain suite otherwise (`doc-tests crate`).
pub(crate) fn binary_suite(title: &str) -> Suite {
    let kind = if title.ends_with(".rs") {
        SuiteType::File
    } else {
        SuiteType::Suite
    };
    let mut suite = Suite::new(kind, title);
    if kind == SuiteType::File {
        suite.location = Some(Location::new(title, 0, 0));
    }
    suite
}

/// A panic in a doc-test names a line of the program rustdoc generated around the example,
/// not of the source file: the error is placed at the doc-test itself instead.
pub(crate) fn doctest_error_locations(tests: &mut [Test]) {
    for t in tests {
        let Some(loc) = t.location.clone() else {
            continue;
        };
        for e in t
            .attempts
            .iter_mut()
            .flat_map(|a| a.errors.iter_mut().flatten())
        {
            if e.location.as_ref().is_some_and(|l| l.file == loc.file) {
                e.location = Some(loc.clone());
            }
        }
    }
}

impl LibtestCollector {
    fn binary(&mut self, title: String) -> usize {
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

    /// Reads one stream. `fallback_ms` starts the derived attempt times (libtest gives none).
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let text = std::str::from_utf8(data)
            .map_err(|e| ConvertError::at(input, e.valid_up_to() as u64, "invalid UTF-8".into()))?;
        let mut offset = 0u64;
        let mut saw_event = false;
        for line in text.split_inclusive('\n') {
            let here = offset;
            offset += line.len() as u64;
            let trimmed = line.trim();
            if !trimmed.starts_with('{') {
                if let Some(name) = binary_from_cargo_line(trimmed) {
                    self.pending_name = Some(name);
                }
                continue;
            }
            let event: Value = match serde_json::from_str(trimmed) {
                Ok(v) => v,
                // Older libtest on Windows wrote paths in names with bare backslashes.
                Err(e) => serde_json::from_str(&repair_backslashes(trimmed)).map_err(|_| {
                    ConvertError::at(input, here, format!("not a libtest JSON event: {e}"))
                })?,
            };
            saw_event = true;
            let kind = event
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let what = event
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match (kind, what) {
                ("suite", "started") => {
                    // nextest names the binary in the event itself.
                    let nextest = event.get("nextest").and_then(|n| {
                        let krate = n.get("crate")?.as_str()?;
                        let bin = n.get("test_binary")?.as_str()?;
                        Some(format!("{krate}::{bin}"))
                    });
                    let title = match nextest.or_else(|| self.pending_name.take()) {
                        Some(t) => t,
                        None => {
                            self.unnamed += 1;
                            format!("test binary {}", self.unnamed)
                        }
                    };
                    self.current = Some(self.binary(title));
                }
                ("test", "ok" | "failed" | "ignored") => {
                    let full = event
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    // nextest: `crate::binary$test#N` is the last of N attempts.
                    let (name, tries) = split_attempt(full);
                    let (binary_title, name) = match name.split_once('$') {
                        Some((bin, test)) => (Some(bin.to_string()), test),
                        None => (None, name),
                    };
                    let binary = match (binary_title, self.current) {
                        (Some(t), _) => self.binary(t),
                        (None, Some(b)) => b,
                        (None, None) => {
                            let title = self
                                .pending_name
                                .take()
                                .unwrap_or_else(|| "test binary".into());
                            let b = self.binary(title);
                            self.current = Some(b);
                            b
                        }
                    };
                    let start = UnixTimestampMs(fallback_ms.max(0.0) + self.elapsed_ms);
                    let mut attempts: Vec<RunAttempt> = (1..tries)
                        .map(|i| {
                            let mut a = RunAttempt::with_status(TestStatus::Failed);
                            a.start_timestamp = Some(start);
                            a.errors = Some(vec![ReportError::message(format!(
                                "attempt {i} of {tries} failed; nextest's libtest JSON keeps only the last attempt"
                            ))]);
                            a
                        })
                        .collect();
                    attempts.push(self.attempt(&event, what, fallback_ms, limits));
                    self.results += 1;
                    let bin = &mut self.binaries[binary];
                    match bin.by_name.get(name) {
                        Some(&i) => bin.tests[i].attempts.extend(attempts),
                        None => {
                            let mut test = Test::new(name);
                            test.location = doctest_location(name);
                            test.attempts = attempts;
                            bin.by_name.insert(name.to_string(), bin.tests.len());
                            bin.tests.push(test);
                        }
                    }
                }
                _ => {}
            }
        }
        if !saw_event {
            return Err(ConvertError::at(
                input,
                0,
                "no libtest JSON event found".into(),
            ));
        }
        Ok(())
    }

    fn attempt(
        &mut self,
        event: &Value,
        what: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> RunAttempt {
        let status = match what {
            "ok" => TestStatus::Passed,
            "ignored" => TestStatus::Skipped,
            _ => TestStatus::Failed,
        };
        let mut a = RunAttempt::with_status(status);
        let secs = event
            .get("exec_time")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t >= 0.0);
        a.duration = secs.map(|s| DurationMs(s * 1000.0));
        a.start_timestamp = Some(UnixTimestampMs(fallback_ms.max(0.0) + self.elapsed_ms));
        self.elapsed_ms += secs.unwrap_or(0.0) * 1000.0;
        let mut stdout = String::new();
        push_bounded(
            &mut stdout,
            event
                .get("stdout")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            limits.max_output_bytes,
        );
        let message = event.get("message").and_then(Value::as_str);
        if status == TestStatus::Skipped {
            a.annotations = Some(vec![Annotation {
                kind: "skip".into(),
                description: message.map(str::to_string),
                ..Default::default()
            }]);
        }
        if status == TestStatus::Failed {
            let error = match parse_panic(&stdout) {
                Some((msg, location)) => ReportError {
                    message: Some(msg),
                    location,
                    stack: stdout
                        .find("thread '")
                        .map(|i| stdout[i..].trim_end().to_string()),
                    ..Default::default()
                },
                None => ReportError {
                    message: Some(message.unwrap_or("test failed").to_string()),
                    ..Default::default()
                },
            };
            a.errors = Some(vec![error]);
        }
        if !stdout.is_empty() {
            a.stdio = Some(vec![TimedStdioEntry::text(Stream::Stdout, stdout)]);
        }
        a
    }

    /// The binaries as suites (in the order first seen) and the time the tests took.
    pub fn into_parts(self) -> (Vec<Suite>, f64) {
        let elapsed = self.elapsed_ms;
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
        (suites, elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_new_and_old_formats() {
        let new = "out\nthread 'tests::x' (6067) panicked at src/lib.rs:41:9:\nassertion `left == right` failed\n  left: 4\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        let (msg, loc) = parse_panic(new).expect("panic");
        assert_eq!(msg, "assertion `left == right` failed\n  left: 4");
        let loc = loc.expect("location");
        assert_eq!(
            (loc.file.as_str(), loc.line, loc.column),
            ("src/lib.rs", 41, 9)
        );
        let old = "thread 'main' panicked at 'boom, really', src\\main.rs:3:5\n";
        let (msg, loc) = parse_panic(old).expect("panic");
        assert_eq!(msg, "boom, really");
        assert_eq!(loc.expect("location").file, "src/main.rs");
        assert_eq!(parse_panic("no panic here"), None);
    }

    #[test]
    fn cargo_lines_and_doctests() {
        assert_eq!(
            binary_from_cargo_line("     Running unittests src/lib.rs (target/debug/deps/x-1)")
                .as_deref(),
            Some("src/lib.rs")
        );
        assert_eq!(
            binary_from_cargo_line("Running tests/integration.rs (target/debug/deps/i-2)")
                .as_deref(),
            Some("tests/integration.rs")
        );
        assert_eq!(
            binary_from_cargo_line("   Doc-tests cargo_sample").as_deref(),
            Some("doc-tests cargo_sample")
        );
        assert_eq!(binary_from_cargo_line("Compiling x v0.1.0"), None);
        assert_eq!(
            binary_from_cargo_line("     Running target/debug/deps/app-1f2e3d4c5b6a7988")
                .as_deref(),
            Some("app")
        );
        assert_eq!(
            binary_from_cargo_line(r"Running target\debug\deps\app_it-0123456789abcdef.exe")
                .as_deref(),
            Some("app_it")
        );
        let loc = doctest_location("src/lib.rs - add (line 5)").expect("loc");
        assert_eq!((loc.file.as_str(), loc.line), ("src/lib.rs", 5));
    }
}
