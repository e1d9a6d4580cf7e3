//! Go's test2json stream (`go test -json`, `gotestsum --jsonfile`): one JSON event a line.
//!
//! | Event | Report |
//! |---|---|
//! | a package (`Package`) | a `file` suite titled with its import path |
//! | a test (`Test`, subtests as `TestX/case_1`) | a test of its package's suite, titled with the whole name |
//! | `run` … `pass` / `fail` / `skip` | one attempt; another `run` of a test that ended is another attempt (gotestsum's reruns, `-count=N`) |
//! | `output` of a test | the attempt's stdout; for a failure, its `file_test.go:NN: message` lines (or the `panic:` line) make the error, the output its stack |
//! | `Elapsed` | the attempt's duration; `Time` its start (the end minus the duration) |
//! | a package that failed without a failed test (build failure, a panic in `init`, `TestMain` exiting with an error) | a failed test `[build failed]` or `[package failed]` in its suite, the package's output as the error |
//! | a test still running when its package ended (the binary crashed in another test) | an `interrupted` attempt |
//!
//! Lines that are not JSON (what `go test` prints beside the stream, such as
//! `FAIL\tpkg [build failed]`) are read for build failures and otherwise ignored.

use std::collections::HashMap;

use flakiness_report::{
    Annotation, DurationMs, Report, ReportError, RunAttempt, Stream, Suite, SuiteType, Test,
    TestStatus, TimedStdioEntry, UnixTimestampMs,
};
use serde::Deserialize;

use crate::{push_bounded, ConvertError, Limits, Metadata};

/// The message of a failure whose output says nothing (a parent whose subtest failed gets the
/// name of that subtest instead).
const NO_MESSAGE: &str = "the test failed (its output gives no message)";

/// Title of the test standing for a package that did not build.
pub const BUILD_FAILED_TITLE: &str = "[build failed]";
/// Title of the test standing for a package that failed outside its tests.
pub const PACKAGE_FAILED_TITLE: &str = "[package failed]";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    #[serde(default)]
    time: Option<String>,
    action: String,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    elapsed: Option<f64>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    import_path: Option<String>,
    #[serde(default)]
    failed_build: Option<String>,
}

/// True for a line that is a test2json event (`{"Time":…,"Action":…,"Package":…}`).
pub(crate) fn is_event_line(line: &str) -> bool {
    line.contains("\"Action\"") && (line.contains("\"Package\"") || line.contains("\"ImportPath\""))
}

#[derive(Debug, Default)]
struct Attempt {
    start_ms: Option<f64>,
    output: String,
}

#[derive(Debug, Default)]
struct GoTest {
    name: String,
    attempts: Vec<RunAttempt>,
    open: Option<Attempt>,
}

#[derive(Debug, Default)]
struct Package {
    path: String,
    tests: Vec<GoTest>,
    by_name: HashMap<String, usize>,
    output: String,
    build_output: String,
    build_failed: bool,
    failed: bool,
    ended: bool,
    end_ms: Option<f64>,
}

/// Reads test2json streams.
#[derive(Debug, Default)]
pub struct GoTestCollector {
    packages: Vec<Package>,
    by_path: HashMap<String, usize>,
    span: Option<(f64, f64)>,
    saw_event: bool,
}

impl GoTestCollector {
    fn package(&mut self, path: &str) -> &mut Package {
        let i = match self.by_path.get(path) {
            Some(&i) => i,
            None => {
                self.packages.push(Package {
                    path: path.to_string(),
                    ..Package::default()
                });
                self.by_path
                    .insert(path.to_string(), self.packages.len() - 1);
                self.packages.len() - 1
            }
        };
        &mut self.packages[i]
    }

    fn widen(&mut self, ms: f64) {
        crate::times::widen(&mut self.span, ms, ms);
    }

    fn event(&mut self, e: Event, limits: &Limits) {
        // A time before 1970 is no time the format can hold: taken as unknown.
        let at = e
            .time
            .as_deref()
            .and_then(crate::parse_timestamp_ms)
            .filter(|ms| *ms >= 0.0);
        if let Some(ms) = at {
            self.widen(ms);
        }
        // Newer Go reports a build by import path (`pkg [pkg.test]`).
        if let Some(ip) = &e.import_path {
            let path = ip.split(' ').next().unwrap_or(ip).to_string();
            let p = self.package(&path);
            match e.action.as_str() {
                "build-output" => {
                    push_bounded(
                        &mut p.build_output,
                        e.output.as_deref().unwrap_or(""),
                        limits.max_output_bytes,
                    );
                }
                "build-fail" => p.build_failed = true,
                _ => {}
            }
            return;
        }
        let Some(path) = e.package.clone() else {
            return;
        };
        let max = limits.max_output_bytes;
        let p = self.package(&path);
        let Some(name) = e.test.clone() else {
            // The package's own events.
            match e.action.as_str() {
                "output" => push_bounded(&mut p.output, e.output.as_deref().unwrap_or(""), max),
                "fail" => {
                    p.failed = true;
                    p.ended = true;
                    p.build_failed |= e.failed_build.is_some();
                    p.end_ms = at;
                }
                "pass" | "skip" => {
                    p.ended = true;
                    p.end_ms = at;
                }
                _ => {}
            }
            return;
        };
        let t = match p.by_name.get(&name) {
            Some(&i) => i,
            None => {
                p.tests.push(GoTest {
                    name: name.clone(),
                    ..GoTest::default()
                });
                p.by_name.insert(name, p.tests.len() - 1);
                p.tests.len() - 1
            }
        };
        let test = &mut p.tests[t];
        match e.action.as_str() {
            "run" => {
                if let Some(open) = test.open.take() {
                    // A result the stream lost (see `result_line`), else a run cut short.
                    let status =
                        result_line(&open.output, &test.name).unwrap_or(TestStatus::Interrupted);
                    crate::push_attempt(&mut test.attempts, finish(open, status, None, at));
                }
                test.open = Some(Attempt {
                    start_ms: at,
                    output: String::new(),
                });
            }
            "output" => {
                let open = test.open.get_or_insert_with(|| Attempt {
                    start_ms: at,
                    output: String::new(),
                });
                push_bounded(&mut open.output, e.output.as_deref().unwrap_or(""), max);
            }
            "pass" | "fail" | "skip" => {
                let status = match e.action.as_str() {
                    "pass" => TestStatus::Passed,
                    "fail" => TestStatus::Failed,
                    _ => TestStatus::Skipped,
                };
                let open = test.open.take().unwrap_or(Attempt {
                    start_ms: None,
                    output: String::new(),
                });
                crate::push_attempt(&mut test.attempts, finish(open, status, e.elapsed, at));
            }
            _ => {}
        }
    }

    /// Reads one stream line by line (never held whole: memory is what the report keeps).
    /// Errors carry the byte offset; the caller places them at a line and column.
    pub fn read_stream(
        &mut self,
        r: &mut dyn std::io::BufRead,
        input: &str,
        _fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        crate::for_each_line(r, input, |here, raw| {
            let line = raw.trim();
            if line.starts_with('{') {
                match serde_json::from_str::<Event>(line) {
                    Ok(e) => {
                        self.saw_event = true;
                        self.event(e, limits);
                    }
                    Err(err) if is_event_line(line) => {
                        return Err(ConvertError::at(
                            input,
                            here,
                            format!("not a test2json event: {err}"),
                        ));
                    }
                    Err(_) => {}
                }
            } else if let Some(rest) = line.strip_prefix("FAIL\t") {
                // `go test` prints `FAIL\tpkg [build failed]` beside older streams.
                if let Some(pkg) = rest.strip_suffix(" [build failed]") {
                    let p = self.package(pkg.trim());
                    p.build_failed = true;
                    p.failed = true;
                    p.ended = true;
                }
            }
            Ok(())
        })?;
        if !self.saw_event {
            return Err(ConvertError::at_start(
                input,
                "no test2json event found (expected lines like {\"Action\":\"run\",\"Package\":…})",
            ));
        }
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, total) = match self.span {
            Some((a, b)) => (a, b - a),
            None => (fallback_ms, 0.0),
        };
        // Every attempt carries a start (format 0.34 requires one).
        let started = |mut a: RunAttempt| {
            a.start_timestamp.get_or_insert(UnixTimestampMs(start));
            a
        };
        let mut suites = Vec::new();
        for p in self.packages {
            let mut tests: Vec<Test> = Vec::with_capacity(p.tests.len() + 1);
            let mut a_test_failed = false;
            for mut t in p.tests {
                // Go 1.19 loses the result event of a test whose output did not end its line;
                // its `--- PASS: Name (…)` is still in the output.
                if let Some(status) = t
                    .open
                    .as_ref()
                    .and_then(|o| result_line(&o.output, &t.name))
                {
                    if let Some(open) = t.open.take() {
                        crate::push_attempt(&mut t.attempts, finish(open, status, None, p.end_ms));
                    }
                }
                if let Some(open) = t.open.take() {
                    let mut a = finish(open, TestStatus::Interrupted, None, p.end_ms);
                    a.errors = Some(vec![ReportError::message(if p.ended {
                        "the test binary ended before this test did (another test crashed it, or it timed out)"
                    } else {
                        "the stream ends before this test did: the run was interrupted"
                    })]);
                    crate::push_attempt(&mut t.attempts, a);
                }
                a_test_failed |= t.attempts.iter().any(|a| a.status() == TestStatus::Failed);
                let mut test = Test::new(t.name);
                test.attempts = t.attempts.into_iter().map(started).collect();
                tests.push(test);
            }
            // A parent test fails because a subtest did: say which.
            let failed: Vec<String> = tests
                .iter()
                .filter(|t| t.attempts.iter().any(|a| a.status() == TestStatus::Failed))
                .map(|t| t.title.clone())
                .collect();
            for t in &mut tests {
                let prefix = format!("{}/", t.title);
                let Some(child) = failed.iter().find(|f| f.starts_with(&prefix)) else {
                    continue;
                };
                for e in t
                    .attempts
                    .iter_mut()
                    .flat_map(|a| a.errors.iter_mut().flatten())
                {
                    if e.message.as_deref() == Some(NO_MESSAGE) {
                        e.message = Some(format!("subtest {child} failed"));
                    }
                }
            }
            if p.failed && !a_test_failed {
                let (title, output) = if p.build_failed {
                    (BUILD_FAILED_TITLE, p.build_output.clone() + &p.output)
                } else {
                    (PACKAGE_FAILED_TITLE, p.output.clone())
                };
                let mut a = RunAttempt::with_status(TestStatus::Failed);
                a.start_timestamp = p.end_ms.map(UnixTimestampMs);
                let message = output
                    .lines()
                    .map(str::trim)
                    .find(|l| {
                        !l.is_empty()
                            && !l.starts_with("FAIL")
                            && *l != "PASS"
                            && !l.starts_with("ok ")
                            && !l.starts_with('#')
                    })
                    .unwrap_or(if p.build_failed {
                        "the package did not build"
                    } else {
                        "the package failed outside its tests"
                    });
                a.errors = Some(vec![ReportError {
                    message: Some(message.to_string()),
                    stack: (!output.trim().is_empty()).then(|| output.clone()),
                    ..Default::default()
                }]);
                let mut test = Test::new(title);
                test.attempts = vec![started(a)];
                tests.push(test);
            }
            if tests.is_empty() {
                continue;
            }
            let mut suite = Suite::new(SuiteType::File, p.path);
            suite.tests = Some(tests);
            suites.push(suite);
        }
        let mut report = crate::build_report(suites, Vec::new(), Vec::new(), start, total, meta);
        report.test_runner = Some(flakiness_report::NamedVersion {
            name: "go".into(),
            version: "unknown".into(),
            ..Default::default()
        });
        report
    }
}

/// The attempt a `run` … end made: its status, duration, output, and for a failure its error.
fn finish(
    open: Attempt,
    status: TestStatus,
    elapsed: Option<f64>,
    end_ms: Option<f64>,
) -> RunAttempt {
    let mut a = RunAttempt::with_status(status);
    let duration = elapsed
        .filter(|e| e.is_finite() && *e >= 0.0)
        .map(|e| e * 1000.0);
    a.duration = duration.map(DurationMs);
    let start = match (end_ms, duration) {
        (Some(end), Some(d)) => Some(end - d),
        _ => open.start_ms.or(end_ms),
    };
    a.start_timestamp = start.map(|s| UnixTimestampMs(s.max(0.0)));
    if !open.output.is_empty() {
        a.stdio = Some(vec![TimedStdioEntry::text(
            Stream::Stdout,
            open.output.clone(),
        )]);
    }
    let said: Vec<&str> = open
        .output
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("=== ") || t.starts_with("--- "))
        })
        .collect();
    match status {
        TestStatus::Failed => {
            let message = said
                .iter()
                .find_map(|l| located_message(l))
                .or_else(|| {
                    said.iter()
                        .map(|l| l.trim())
                        .find(|l| l.starts_with("panic: "))
                        .map(str::to_string)
                })
                .or_else(|| {
                    // An example's `got:` / `want:`, or whatever the test printed.
                    let words: Vec<&str> = said
                        .iter()
                        .map(|l| l.trim())
                        .filter(|l| !l.is_empty())
                        .take(4)
                        .collect();
                    (!words.is_empty()).then(|| words.join(" "))
                })
                .unwrap_or_else(|| NO_MESSAGE.into());
            let stack = said.join("\n");
            a.errors = Some(vec![ReportError {
                message: Some(message),
                stack: (!stack.trim().is_empty()).then_some(stack),
                ..Default::default()
            }]);
        }
        TestStatus::Skipped => {
            let reason = said.iter().find_map(|l| located_message(l));
            a.annotations = Some(vec![Annotation {
                kind: "skip".into(),
                description: reason,
                ..Default::default()
            }]);
        }
        _ => {}
    }
    a
}

/// The status a `--- PASS: Name (0.00s)` line of the output gives the test `name`.
fn result_line(output: &str, name: &str) -> Option<TestStatus> {
    let leaf = name.rsplit('/').next().unwrap_or(name);
    [
        ("--- PASS: ", TestStatus::Passed),
        ("--- FAIL: ", TestStatus::Failed),
        ("--- SKIP: ", TestStatus::Skipped),
    ]
    .into_iter()
    .find(|(mark, _)| {
        output.lines().any(|l| {
            l.split(mark).nth(1).is_some_and(|rest| {
                rest.starts_with(&format!("{name} (")) || rest.starts_with(&format!("{leaf} ("))
            })
        })
    })
    .map(|(_, status)| status)
}

/// `    calc_test.go:19: Add(2, 2) = 4, want 5` → `Add(2, 2) = 4, want 5`.
fn located_message(line: &str) -> Option<String> {
    let t = line.trim_start();
    let (file, rest) = t.split_once(".go:")?;
    if file.is_empty() || file.contains(char::is_whitespace) {
        return None;
    }
    let (num, msg) = rest.split_once(": ")?;
    num.parse::<u32>().ok()?;
    Some(msg.trim_end().to_string())
}

crate::formats::reader!(GoTestCollector, GoTestCollector::into_report; streams read_stream);

#[cfg(test)]
mod tests {
    use super::located_message;

    #[test]
    fn messages_of_located_lines() {
        assert_eq!(
            located_message("    calc_test.go:19: Add(2, 2) = 4, want 5").as_deref(),
            Some("Add(2, 2) = 4, want 5")
        );
        assert_eq!(located_message("=== RUN   TestX"), None);
        assert_eq!(located_message("    a b.go:3: x"), None);
        assert_eq!(located_message("x.go:notanumber: y"), None);
    }
}
