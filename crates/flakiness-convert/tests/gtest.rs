//! GoogleTest's JSON reader on real recordings (testdata/inputs/gtest/, RECORD.md there):
//! GoogleTest 1.12.1, one run and a `--gtest_repeat=2` run of the sample in
//! testdata/projects/cpp-sample/. The expectations are RECORD.md's tables.

use std::collections::BTreeMap;

use flakiness_convert::{detect, Format, GtestCollector, Limits, Metadata};
use flakiness_report::{Location, Report, TestOutcome, TestStatus};

mod common;

fn input(name: &str) -> Vec<u8> {
    common::input("gtest", name)
}

fn convert(names: &[&str]) -> Report {
    common::report_of_inputs(
        Box::<GtestCollector>::default(),
        "gtest",
        names,
        "gtest",
        0.0,
    )
}

/// `Suite.Name` (as the console names it) → statuses of its attempts.
fn statuses(r: &Report) -> BTreeMap<String, Vec<TestStatus>> {
    r.all_tests()
        .map(|t| {
            (
                format!("{}.{}", t.suite_path().join("/"), t.test.title),
                t.test.attempts.iter().map(|a| a.status()).collect(),
            )
        })
        .collect()
}

fn find<'r>(r: &'r Report, id: &str) -> &'r flakiness_report::Test {
    let (suite, name) = id.split_once('.').expect("Suite.Name");
    r.all_tests()
        .find(|t| t.test.title == name && t.suite_path().join("/") == suite)
        .unwrap_or_else(|| panic!("{id}"))
        .test
}

const PASSED: &[&str] = &[
    "Math.Passes",
    "Output.PrintsAndRecordsProperty",
    "FixtureTest.UsesFixture",
    "Numbers/ParamTest.IsEven/0",
    "Numbers/ParamTest.IsEven/1",
    "Named/ParamTest.IsEven/value_6",
    "TypedTest/0.DefaultIsZero",
    "TypedTest/0.HalfOfSevenIsThree",
    "TypedTest/1.DefaultIsZero",
];
const FAILED: &[&str] = &[
    "Math.ExpectEqFails",
    "Math.AssertStops",
    "Errors.ThrowsException",
    "Errors.ScopedTrace",
    "Numbers/ParamTest.IsEven/2",
    "Named/ParamTest.IsEven/value_7",
    "TypedTest/1.HalfOfSevenIsThree",
];
const SKIPPED: &[&str] = &["Skips.GtestSkip", "SkippingFixture.SkippedBySetUp"];
const DISABLED: &[&str] = &["Math.DISABLED_NotRun", "DISABLED_Suite.NotRunEither"];
const FLAKY: &str = "Flaky.FailsFirstAttempt";

/// The outcome of every test of RECORD.md's table: in one run the flaky test fails; the
/// repeat's file holds only its second iteration, where it passed.
#[test]
fn every_test_has_the_outcome_the_run_gave_it() {
    use TestStatus::*;
    for (name, flaky) in [("gtest.json", Failed), ("gtest-repeat.json", Passed)] {
        assert_eq!(detect(&input(name)), Some(Format::GtestJson), "{name}");
        let r = convert(&[name]);
        let s = statuses(&r);
        assert_eq!(s.len(), 21, "{name}: 19 run and 2 disabled: {s:?}");
        let want = PASSED
            .iter()
            .map(|t| (*t, Passed))
            .chain(FAILED.iter().map(|t| (*t, Failed)))
            .chain(SKIPPED.iter().chain(DISABLED).map(|t| (*t, Skipped)))
            .chain([(FLAKY, flaky)]);
        for (id, status) in want {
            assert_eq!(s.get(id), Some(&vec![status]), "{name}: {id}");
        }
        for id in DISABLED {
            let a = &find(&r, id).attempts[0];
            let skip = &a.annotations.as_ref().expect("annotations")[0];
            assert_eq!(
                (skip.kind.as_str(), skip.description.as_deref()),
                ("skip", Some("disabled")),
                "{id}"
            );
        }
        for id in SKIPPED {
            let a = &find(&r, id).attempts[0];
            assert_eq!(a.annotations.as_ref().expect("skip")[0].kind, "skip");
        }
        let r2 = r.test_runner.as_ref().expect("runner");
        assert_eq!(r2.name, "gtest");
    }
}

/// Failures: one error per failed assertion, the message after the `file:line` line, the
/// whole text as the stack (where the location is found later).
#[test]
fn failures_are_errors_with_their_location_in_the_stack() {
    let r = convert(&["gtest.json"]);
    let errors = |id: &str| find(&r, id).attempts[0].errors.clone().expect("errors");
    let e = errors("Math.ExpectEqFails");
    assert_eq!(e.len(), 2, "two failed EXPECTs");
    assert!(e[0]
        .stack
        .as_deref()
        .expect("stack")
        .starts_with("gtest_sample.cpp:15\n"));
    assert!(e[1]
        .stack
        .as_deref()
        .expect("stack")
        .starts_with("gtest_sample.cpp:16\n"));
    assert!(e[0]
        .message
        .as_deref()
        .expect("message")
        .starts_with("Expected equality of these values:"));
    assert!(e[1]
        .message
        .as_deref()
        .expect("message")
        .ends_with("custom message: one plus one"));
    let e = errors("Math.AssertStops");
    assert_eq!(e.len(), 1);
    assert!(e[0].message.as_deref().expect("m").ends_with("stops here"));
    let e = errors("Errors.ThrowsException");
    assert!(e[0]
        .stack
        .as_deref()
        .expect("s")
        .starts_with("unknown file\n"));
    assert!(e[0]
        .message
        .as_deref()
        .expect("m")
        .contains("C++ exception with description \"unexpected exception from the test\""));
    let e = errors("Errors.ScopedTrace");
    assert!(e[0]
        .stack
        .as_deref()
        .expect("s")
        .starts_with("gtest_sample.cpp:45\n"));
    assert!(e[0]
        .message
        .as_deref()
        .expect("m")
        .contains("Google Test trace:\ngtest_sample.cpp:44: iteration 1"));
    let e = errors("Numbers/ParamTest.IsEven/2");
    assert!(e[0]
        .stack
        .as_deref()
        .expect("s")
        .starts_with("gtest_sample.cpp:66\n"));
    assert!(e[0].message.as_deref().expect("m").ends_with("value 5"));
    let e = errors("TypedTest/1.HalfOfSevenIsThree");
    assert!(e[0]
        .stack
        .as_deref()
        .expect("s")
        .starts_with("gtest_sample.cpp:82\n"));
    let e = errors(FLAKY);
    assert!(e[0]
        .stack
        .as_deref()
        .expect("s")
        .starts_with("gtest_sample.cpp:87\n"));
    // Tests that did not fail have no error.
    for id in PASSED.iter().chain(SKIPPED).chain(DISABLED) {
        assert!(find(&r, id).attempts[0].errors.is_none(), "{id}");
    }
}

/// Locations, parameters and RecordProperty values, durations and starts.
#[test]
fn locations_properties_and_times() {
    let r = convert(&["gtest.json"]);
    for (id, line) in [
        ("Math.Passes", 12),
        ("Math.DISABLED_NotRun", 24),
        ("DISABLED_Suite.NotRunEither", 26),
        ("Output.PrintsAndRecordsProperty", 33),
        ("Numbers/ParamTest.IsEven/2", 66),
        ("TypedTest/1.HalfOfSevenIsThree", 82),
        (FLAKY, 84),
    ] {
        assert_eq!(
            find(&r, id).location,
            Some(Location::new("gtest_sample.cpp", line, 1)),
            "{id}"
        );
    }
    let notes = |id: &str| -> Vec<(String, String)> {
        find(&r, id).attempts[0]
            .annotations
            .iter()
            .flatten()
            .map(|a| (a.kind.clone(), a.description.clone().unwrap_or_default()))
            .collect()
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        notes("Output.PrintsAndRecordsProperty"),
        [pair("build_id", "1234"), pair("attempt_count", "1")]
    );
    assert_eq!(
        notes("Numbers/ParamTest.IsEven/2"),
        [pair("value_param", "5")]
    );
    assert_eq!(
        notes("TypedTest/1.HalfOfSevenIsThree"),
        [pair("type_param", "double")]
    );
    // 2026-12-07T00:33:54Z: every attempt that ran starts there; the disabled ones (written
    // at the epoch) get their suite's or the run's start.
    let start = 1_796_603_634_000.0;
    assert_eq!(r.start_timestamp.0, start);
    for t in r.all_tests() {
        let a = &t.test.attempts[0];
        assert_eq!(
            a.start_timestamp.map(|s| s.0),
            Some(start),
            "{}",
            t.test.title
        );
        assert_eq!(a.duration.map(|d| d.0), Some(0.0), "{}", t.test.title);
    }
}

/// Two runs converted together (the recordings of one run and of the repeat's last
/// iteration): every test has two attempts, and the flaky test is flaky.
#[test]
fn runs_converted_together_are_attempts() {
    use TestStatus::*;
    let r = convert(&["gtest.json", "gtest-repeat.json"]);
    let s = statuses(&r);
    assert_eq!(s.len(), 21);
    assert_eq!(s[FLAKY], [Failed, Passed]);
    assert!(find(&r, FLAKY).is_flaky());
    assert_eq!(find(&r, FLAKY).outcome(), TestOutcome::Flaky);
    assert_eq!(s["Math.ExpectEqFails"], [Failed, Failed]);
    assert_eq!(s["Math.Passes"], [Passed, Passed]);
}

/// Failures outside tests (SetUpTestSuite, a global environment), GoogleTest 1.15's skip
/// messages, and GoogleTest 1.8's testcases without `result`.
#[test]
fn other_versions_and_failures_outside_tests() {
    let doc = br#"{"tests": 3, "failures": 1, "disabled": 0, "errors": 0,
      "timestamp": "2024-05-01T10:00:00Z", "time": "1.5s", "name": "AllTests",
      "testsuites": [
        {"name": "Db", "tests": 2, "failures": 0, "disabled": 0, "errors": 0, "time": "0.5s",
         "testsuite": [
          {"name": "Reads", "file": "db_test.cc", "line": 7, "status": "RUN", "time": "0.25s", "classname": "Db"},
          {"name": "NeedsNet", "file": "db_test.cc", "line": 9, "status": "RUN", "result": "SKIPPED",
           "timestamp": "2024-05-01T10:00:01Z", "time": "0s", "classname": "Db",
           "skipped": [{"message": "db_test.cc:10\nno network"}]},
          {"name": "", "status": "RUN", "result": "COMPLETED", "time": "0s", "classname": "",
           "failures": [{"failure": "db_test.cc:3\nSetUpTestSuite failed", "type": ""}]}
         ]},
        {"name": "NonTestSuiteFailure", "tests": 1, "failures": 1, "testsuite": [
          {"name": "", "status": "RUN", "result": "COMPLETED", "classname": "",
           "failures": [{"failure": "env.cc:5\nenvironment broke", "type": ""}]}]}
      ]}"#;
    assert_eq!(detect(doc), Some(Format::GtestJson));
    let mut c = GtestCollector::default();
    c.read(doc, "g.json", 0.0, &Limits::default())
        .expect("reads");
    let r = c.into_report(&Metadata::default(), 0.0);
    let s = statuses(&r);
    use TestStatus::*;
    assert_eq!(s["Db.Reads"], [Passed]);
    assert_eq!(s["Db.NeedsNet"], [Skipped]);
    assert_eq!(s["Db.[SetUpTestSuite or TearDownTestSuite]"], [Failed]);
    assert_eq!(s["NonTestSuiteFailure.[global test environment]"], [Failed]);
    let skip = &find(&r, "Db.NeedsNet").attempts[0]
        .annotations
        .clone()
        .expect("a")[0];
    assert_eq!(skip.description.as_deref(), Some("no network"));
    assert_eq!(skip.location, Some(Location::new("db_test.cc", 10, 1)));
    let reads = &find(&r, "Db.Reads").attempts[0];
    assert_eq!(reads.duration.map(|d| d.0), Some(250.0));
    assert_eq!(r.duration.0, 1500.0);
}

/// Not GoogleTest JSON, or a test listing: refused with a located message, never a panic.
#[test]
fn other_input_is_refused() {
    for (doc, want) in [
        (&b"{\"tests\": 1,"[..], "malformed JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{\"tests\": 0}", "no \"testsuites\" list"),
        (
            b"{\"testsuites\": [{\"name\": \"S\", \"testsuite\": [{\"name\": \"t\", \"file\": \"a.cc\", \"line\": 1}]}]}",
            "a test listing",
        ),
    ] {
        let e = GtestCollector::default()
            .read(doc, "x.json", 0.0, &Limits::default())
            .expect_err(want)
            .locate(doc);
        assert!(e.to_string().contains(want), "{e}");
        assert!(e.line >= 1, "{e}");
    }
}
