//! Dart's and Flutter's JSON reader on the streams of testdata/inputs/dart/ (written by hand from
//! the protocol, RECORD.md there) and on dorny/test-reporter's fixtures when /work/shared is
//! there.

use std::collections::BTreeMap;

use flakiness_convert::{
    detect, locate_errors, DartJsonCollector, Format, Limits, Reader, DART_ERROR_ANNOTATION,
    LOAD_FAILED_TITLE,
};
use flakiness_report::{Report, RunAttempt, TestStatus};

mod common;

/// The file time of the inputs: the end of the run.
const MTIME: f64 = 1_800_000_000_000.0;

fn convert(names: &[&str]) -> Report {
    common::report_of_inputs(
        Box::<DartJsonCollector>::default(),
        "dart",
        names,
        "dart",
        MTIME,
    )
}

/// "file > group > title" → statuses.
fn statuses(r: &Report) -> BTreeMap<String, Vec<TestStatus>> {
    r.all_tests()
        .map(|t| {
            let mut path = vec![t.file().unwrap_or_default().to_string()];
            path.extend(t.suite_path().iter().map(|s| s.to_string()));
            path.push(t.test.title.clone());
            (
                path.join(" > "),
                t.test.attempts.iter().map(|a| a.status()).collect(),
            )
        })
        .collect()
}

use common::attempts;

use common::messages;

fn annotations(a: &RunAttempt) -> Vec<(String, Option<String>)> {
    a.annotations
        .iter()
        .flatten()
        .map(|n| (n.kind.clone(), n.description.clone()))
        .collect()
}

#[test]
fn dart_test_json() {
    use TestStatus::*;
    let data = common::input("dart", "dart-test.json");
    assert_eq!(detect(&data), Some(Format::DartJson));
    let r = convert(&["dart-test.json"]);
    let c = "test/calc_test.dart";
    let h = "test/hooks_test.dart";
    let want: BTreeMap<String, Vec<TestStatus>> = [
        (format!("{c} > calc > adds"), vec![Passed]),
        (format!("{c} > calc > adds wrongly"), vec![Failed]),
        (
            format!("{c} > calc > divide > by zero throws"),
            vec![Failed],
        ),
        (format!("{c} > calc > divide > is skipped"), vec![Skipped]),
        (format!("{c} > calc > is flaky"), vec![Failed, Passed]),
        (format!("{c} > fails twice"), vec![Failed]),
        (format!("{c} > times out"), vec![TimedOut]),
        (
            format!("{h} > with a broken setUpAll > (setUpAll)"),
            vec![Failed],
        ),
        (format!("{h} > fails after it completed"), vec![Failed]),
        (
            format!("test/broken_test.dart > {LOAD_FAILED_TITLE}"),
            vec![Failed],
        ),
    ]
    .into_iter()
    .collect();
    // The passing `loading` tests and `(tearDownAll)` are left out.
    assert_eq!(statuses(&r), want);
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.name.as_str()),
        Some("dart")
    );
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.version.as_str()),
        Some("1.25.8")
    );

    // The compile error is the failed load's error.
    let load = &attempts(&r, LOAD_FAILED_TITLE)[0];
    assert!(messages(load)[0].starts_with("Failed to load \"test/broken_test.dart\""));
    // A failed expectation, an exception (annotated), a timeout.
    let wrong = &attempts(&r, "adds wrongly")[0];
    assert_eq!(messages(wrong), ["Expected: <5>\n  Actual: <4>"]);
    assert!(annotations(wrong).is_empty());
    let thrown = &attempts(&r, "by zero throws")[0];
    assert_eq!(annotations(thrown)[0].0, DART_ERROR_ANNOTATION);
    assert_eq!(
        messages(thrown),
        ["Invalid argument (b): must not be zero: 0"]
    );
    assert!(messages(&attempts(&r, "times out")[0])[0].contains("Test timed out"));
    // Two errors; errors after the test completed fail it.
    assert_eq!(
        messages(&attempts(&r, "fails twice")[0]),
        ["Bad state: first", "Bad state: second"]
    );
    let late = &attempts(&r, "fails after it completed")[0];
    assert_eq!(messages(late).len(), 2);
    assert_eq!(messages(late)[0], "Exception: late");
    // The skip's reason.
    assert_eq!(
        annotations(&attempts(&r, "is skipped")[0]),
        [("skip".to_string(), Some("not on CI".to_string()))]
    );
    // The retried test: its first try failed with its own error, up to the `Retry:` line.
    let flaky = attempts(&r, "is flaky");
    assert_eq!(messages(&flaky[0]), ["Expected: <3>\n  Actual: <2>"]);
    assert!(flaky[1].errors.is_none());
    assert!(flaky.iter().all(|a| a.stdio.is_none()));
    // Times: the run ended at the file's time (its last event, 2121 ms); durations from
    // testStart to testDone, a retry splitting them.
    let start = MTIME - 2121.0;
    assert_eq!(r.start_timestamp.0, start);
    assert_eq!(r.duration.0, 2121.0);
    assert_eq!(flaky[0].start_timestamp.map(|t| t.0), Some(start + 1944.0));
    assert_eq!(flaky[0].duration.map(|d| d.0), Some(7.0));
    assert_eq!(flaky[1].start_timestamp.map(|t| t.0), Some(start + 1951.0));
    assert_eq!(flaky[1].duration.map(|d| d.0), Some(6.0));
    // What the test printed, timed from its start.
    let adds = &attempts(&r, "adds")[0];
    let out = adds.stdio.as_ref().expect("stdio");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].text.as_deref(), Some("adding 2 and 2\n"));
    assert_eq!(out[0].dts.map(|d| d.0), Some(7.0));
    assert_eq!(adds.duration.map(|d| d.0), Some(9.0));
    // Locations: where test() was called, in the suite's file.
    let t = r
        .all_tests()
        .find(|t| t.test.title == "adds")
        .expect("adds");
    let l = t.test.location.as_ref().expect("location");
    assert_eq!((l.file.as_str(), l.line, l.column), (c, 9, 5));
    // Errors are located from their stacks (terse frames) in the repository's files.
    let mut r = r;
    locate_errors(&mut r, |f| {
        (f.starts_with("test/") || f.starts_with("lib/")).then(|| f.to_string())
    });
    let located = |title: &str| {
        attempts(&r, title)[0].errors.as_ref().expect("errors")[0]
            .location
            .as_ref()
            .map(|l| (l.file.clone(), l.line, l.column))
    };
    assert_eq!(located("adds wrongly"), Some((c.to_string(), 15, 7)));
    assert_eq!(located("by zero throws"), Some((c.to_string(), 20, 9)));
    assert_eq!(located("(setUpAll)"), Some((h.to_string(), 8, 7)));
}

/// A second run of the same tests (another document): attempts of the same tests.
#[test]
fn reruns_are_attempts() {
    use TestStatus::*;
    let r = convert(&["dart-test.json", "dart-test-rerun.json"]);
    let s = statuses(&r);
    assert_eq!(
        s["test/calc_test.dart > calc > is flaky"],
        [Failed, Passed, Passed]
    );
    assert_eq!(s["test/calc_test.dart > calc > adds"], [Passed, Passed]);
    assert_eq!(
        s["test/calc_test.dart > calc > adds wrongly"],
        [Failed, Failed]
    );
    assert_eq!(r.all_tests().count(), 10);
}

/// A stream cut off while a test ran: that test is interrupted, the rest kept.
#[test]
fn a_cut_stream_interrupts_the_running_test() {
    use TestStatus::*;
    let r = convert(&["dart-test-interrupted.json"]);
    let s = statuses(&r);
    assert_eq!(s["test/calc_test.dart > times out"], [Interrupted]);
    assert_eq!(s["test/calc_test.dart > fails twice"], [Failed]);
    assert_eq!(s["test/calc_test.dart > calc > adds"], [Passed]);
    assert_eq!(s.len(), 10);
    let a = &attempts(&r, "times out")[0];
    assert!(messages(a)[0].contains("interrupted"));
}

/// `flutter test --machine`: flutter's lines skipped, tests located at their root (the test
/// file, not flutter_test's `testWidgets`), the exception taken from flutter_test's log.
#[test]
fn flutter_machine() {
    let data = common::input("dart", "flutter-machine.json");
    assert_eq!(detect(&data), Some(Format::DartJson));
    let mut c = DartJsonCollector::default();
    Reader::read(&mut c, &data, "f.json", MTIME, &Limits::default()).expect("read");
    assert_eq!(Reader::runner(&c).as_deref(), Some("flutter"));
    let r = convert(&["flutter-machine.json"]);
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.name.as_str()),
        Some("flutter")
    );
    let file = "/home/user/flutter-sample/test/counter_test.dart";
    let s = statuses(&r);
    assert_eq!(
        s[&format!("{file} > counter > shows zero")],
        [TestStatus::Passed]
    );
    assert_eq!(
        s[&format!("{file} > counter > shows one")],
        [TestStatus::Failed]
    );
    let t = r
        .all_tests()
        .find(|t| t.test.title == "shows one")
        .expect("t");
    let l = t.test.location.as_ref().expect("location");
    assert_eq!((l.file.as_str(), l.line, l.column), (file, 11, 5));
    let a = &t.test.attempts[0];
    let e = &a.errors.as_ref().expect("errors")[0];
    assert!(
        e.message
            .as_deref()
            .is_some_and(|m| m.starts_with("Expected: exactly one matching candidate")),
        "{e:?}"
    );
    assert!(e
        .stack
        .as_deref()
        .is_some_and(|s| s.contains("counter_test.dart:13:7")));
}

/// Not Dart's JSON, or a broken event: refused with a message and a place, never a panic.
#[test]
fn other_input_is_refused() {
    let e = DartJsonCollector::default()
        .read(
            b"00:01 +1: All tests passed!\n",
            "x.json",
            0.0,
            &Limits::default(),
        )
        .expect_err("no event");
    assert!(e.to_string().contains("no Dart test event"), "{e}");
    let e = DartJsonCollector::default()
        .read(
            b"{\"protocolVersion\":\"0.1.1\",\"type\":\"start\",\"time\":0}\n{\"testID\":1,\"type\":\"testDone\",\"time\":\n",
            "x.json",
            0.0,
            &Limits::default(),
        )
        .expect_err("broken");
    assert!(e.to_string().starts_with("x.json:2:"), "{e}");
}

/// (file name, passed, failed, skipped) per file; a timeout counts as a failure.
fn counts(r: &Report) -> BTreeMap<String, (usize, usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for t in r.all_tests() {
        let file = t.file().unwrap_or_default();
        let name = file.rsplit('/').next().unwrap_or(file).to_string();
        let c = out.entry(name).or_default();
        match t.test.attempts.last().map(|a| a.status()) {
            Some(TestStatus::Passed) => c.0 += 1,
            Some(TestStatus::Failed | TestStatus::TimedOut) => c.1 += 1,
            Some(TestStatus::Skipped) => c.2 += 1,
            _ => {}
        }
    }
    out
}

/// dorny/test-reporter's fixtures (when /work/shared is there): its counts per file
/// (expected/dart-json.md, expected/provider-test-results.md).
#[test]
fn dorny_fixture_counts() {
    let Some(data) = common::dorny_fixture("dart-json.json") else {
        return;
    };
    assert_eq!(detect(&data), Some(Format::DartJson));
    let read = |name: &str, data: &[u8]| {
        common::report_of(
            Box::<DartJsonCollector>::default(),
            &[(name, data, MTIME)],
            "dart",
            MTIME,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let r = read("dart-json.json", &data);
    let c = counts(&r);
    assert_eq!(c["main_test.dart"], (1, 3, 0));
    assert_eq!(c["second_test.dart"], (0, 1, 1));
    assert_eq!(c.len(), 2);
    // Windows paths: `\` read as `/`; the timeout is `timedOut` (dorny: failed).
    assert!(r
        .all_tests()
        .all(|t| t.file().is_some_and(|f| f.starts_with("test/"))));
    assert_eq!(
        attempts(&r, "Timeout test")[0].status(),
        TestStatus::TimedOut
    );
    let t = statuses(&r);
    assert!(t.contains_key("test/main_test.dart > Test 1 > Test 1.1 > Failing test"));
    // Its empty run: no test, no error.
    let empty = common::dorny_fixture("empty/dart-json.json").expect("empty");
    assert_eq!(detect(&empty), Some(Format::DartJson));
    let r = read("empty/dart-json.json", &empty);
    assert_eq!(r.all_tests().count(), 0);
    assert!(r.unattributed_errors.is_none());
    // Flutter (provider's CI): dorny counts 268 passed and 1 failed in 16 files. Two files
    // declare a test twice under one name in one group: two tests for us too (the second
    // titled `… #2`), since package:test never writes a retry as another `testStart`.
    let data =
        common::dorny_fixture("external/flutter/provider-test-results.json").expect("provider");
    assert_eq!(detect(&data), Some(Format::DartJson));
    let r = read("provider-test-results.json", &data);
    let c = counts(&r);
    assert_eq!(c.len(), 16);
    let total = c
        .values()
        .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    assert_eq!(total, (268, 1, 0));
    assert_eq!(c["value_listenable_provider_test.dart"], (4, 1, 0));
    assert_eq!(c["inherited_provider_test.dart"], (81, 0, 0));
    assert_eq!(c["reassemble_test.dart"], (3, 0, 0));
    assert_eq!(attempts(&r, "unevaluated create").len(), 1);
    assert_eq!(attempts(&r, "unevaluated create #2").len(), 1);
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.name.as_str()),
        Some("flutter")
    );
    let failed = &attempts(&r, "pass updateShouldNotify")[0];
    assert!(messages(failed)[0].starts_with("Expected: <2>"));
}
