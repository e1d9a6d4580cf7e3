//! pytest outputs recorded from one real run of testdata/projects/pytest-sample
//! (testdata/inputs/RECORD.md): reportlog, json-report and junitxml (xunit1, xunit2).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata, PytestCollector};
use flakiness_report::{Report, Stream, SuiteType, TestOutcome, TestStatus};
use flakiness_validate::{Options, Validator};

const FALLBACK_MS: f64 = 1_700_000_000_000.0;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn input(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("testdata/inputs/pytest").join(name)).expect("input")
}

fn meta() -> Metadata {
    Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "pytest".into(),
        env_name: "ci".into(),
        ..Metadata::default()
    }
}

fn assert_valid(r: &Report) {
    let bytes = serde_json::to_vec(r).expect("serialize");
    let o = Validator::new(Options::default())
        .expect("validator")
        .validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
}

fn reportlog_with(data: &[u8], limits: &Limits) -> Result<Report, flakiness_convert::ConvertError> {
    let mut c = PytestCollector::default();
    c.read_reportlog(data, "reportlog.jsonl", FALLBACK_MS, limits)
        .map_err(|e| e.locate(data))?;
    let r = c.into_report(&meta(), FALLBACK_MS);
    assert_valid(&r);
    Ok(r)
}

fn reportlog(data: &[u8]) -> Result<Report, flakiness_convert::ConvertError> {
    reportlog_with(data, &Limits::default())
}

fn json_report(data: &[u8]) -> Result<Report, flakiness_convert::ConvertError> {
    let mut c = PytestCollector::default();
    c.read_json_report(data, "json-report.json", FALLBACK_MS, &Limits::default())
        .map_err(|e| e.locate(data))?;
    let r = c.into_report(&meta(), FALLBACK_MS);
    assert_valid(&r);
    Ok(r)
}

fn junit(data: &[u8]) -> Report {
    let mut c = JunitCollector::default();
    c.read(data, "junit.xml", FALLBACK_MS, &Limits::default())
        .expect("junit");
    let r = junit_report(c, &meta(), FALLBACK_MS);
    assert_valid(&r);
    r
}

fn snapshot(mut r: Report) -> String {
    for e in &mut r.environments {
        e.system_data = None;
    }
    serde_json::to_string_pretty(&r).expect("json")
}

/// (file, suite path, title) of every test.
type Key = (String, Vec<String>, String);

/// Outcome and attempt count of every test, by identity.
fn outcomes(r: &Report) -> BTreeMap<Key, (TestOutcome, usize)> {
    let mut m = BTreeMap::new();
    for t in r.all_tests() {
        let key = (
            t.file().unwrap_or("").to_string(),
            t.suite_path().iter().map(|s| s.to_string()).collect(),
            t.test.title.clone(),
        );
        let prev = m.insert(key.clone(), (t.test.outcome(), t.test.attempts.len()));
        assert!(prev.is_none(), "duplicate {key:?}");
    }
    m
}

fn key(file: &str, suites: &[&str], title: &str) -> Key {
    (
        file.to_string(),
        suites.iter().map(|s| s.to_string()).collect(),
        title.to_string(),
    )
}

/// What RECORD.md says every source should give: outcome and attempt count.
fn intended() -> BTreeMap<Key, (TestOutcome, usize)> {
    use TestOutcome::*;
    let b = "tests/test_basic.py";
    let o = "tests/test_outcomes.py";
    [
        (key(b, &[], "test_passes"), (Expected, 1)),
        (key(b, &[], "test_fails"), (Unexpected, 3)),
        (key(b, &[], "test_output"), (Expected, 1)),
        (key(b, &[], "test_record_property"), (Expected, 1)),
        (key(b, &[], "test_long_diff"), (Unexpected, 3)),
        (key(b, &[], "TestMath::test_add"), (Expected, 1)),
        (key(b, &[], "TestMath::test_sub"), (Expected, 1)),
        (key(b, &[], "TestMath::test_param[1-2-3]"), (Expected, 1)),
        (key(b, &[], "TestMath::test_param[2-2-4]"), (Expected, 1)),
        (key(b, &[], "TestMath::test_param[3-3-7]"), (Unexpected, 3)),
        (key(o, &[], "test_setup_error"), (Unexpected, 3)),
        (key(o, &[], "test_teardown_error"), (Unexpected, 3)),
        (key(o, &[], "test_skipped"), (Skipped, 1)),
        (key(o, &[], "test_skipif"), (Skipped, 1)),
        (key(o, &[], "test_xfail"), (Expected, 1)),
        (key(o, &[], "test_xpass_strict"), (Unexpected, 3)),
        (key(o, &[], "test_flaky"), (Flaky, 2)),
    ]
    .into_iter()
    .collect()
}

#[test]
fn reportlog_converts_every_outcome() {
    let r = reportlog(&input("reportlog.jsonl")).expect("converts");
    assert_eq!(outcomes(&r), intended());
    let runner = r.test_runner.as_ref().expect("testRunner");
    assert_eq!(
        (runner.name.as_str(), runner.version.as_str()),
        ("pytest", "9.2.0")
    );
    let roots: Vec<_> = r
        .suites
        .iter()
        .flatten()
        .map(|s| (s.kind, s.title.as_str()))
        .collect();
    assert_eq!(
        roots,
        [
            (SuiteType::File, "tests/test_basic.py"),
            (SuiteType::File, "tests/test_outcomes.py")
        ]
    );
    let t = |title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"))
            .test
    };
    // Every attempt has a start time, taken from the reports.
    for test in r.all_tests() {
        for a in &test.test.attempts {
            assert!(a.start_timestamp.is_some_and(|s| s.0 > 1.7e12));
        }
    }
    // Location: reportlog's line is 0-based, the report's 1-based.
    let passes = t("test_passes");
    let loc = passes.location.as_ref().expect("location");
    assert_eq!((loc.file.as_str(), loc.line), ("tests/test_basic.py", 6));
    // Failure: message from the crash, stack from the traceback, crash location 1-based.
    let fails = &t("test_fails").attempts[2];
    let e = &fails.errors.as_ref().expect("errors")[0];
    assert_eq!(
        e.message.as_deref(),
        Some("AssertionError: arithmetic is broken\nassert (2 * 2) == 5")
    );
    let stack = e.stack.as_deref().expect("stack");
    assert!(stack.starts_with("def test_fails():"), "{stack}");
    assert!(
        stack.ends_with("tests/test_basic.py:11: AssertionError"),
        "{stack}"
    );
    let loc = e.location.as_ref().expect("crash location");
    assert_eq!((loc.file.as_str(), loc.line), ("tests/test_basic.py", 11));
    // Setup and teardown errors count against the test.
    let setup = &t("test_setup_error").attempts[0];
    assert_eq!(setup.status(), TestStatus::Failed);
    let m = setup.errors.as_ref().expect("errors")[0].message.clone();
    assert_eq!(
        m.as_deref(),
        Some("error in setup: RuntimeError: fixture setup exploded")
    );
    let teardown = &t("test_teardown_error").attempts[2];
    assert_eq!(teardown.status(), TestStatus::Failed);
    // Skips: reason and where.
    let skip = &t("test_skipped").attempts[0];
    assert_eq!(skip.status(), TestStatus::Skipped);
    let an = &skip.annotations.as_ref().expect("annotations")[0];
    assert_eq!(
        (an.kind.as_str(), an.description.as_deref()),
        ("skip", Some("not implemented yet"))
    );
    // xfail: an expected failure, with its reason.
    let xfail = &t("test_xfail").attempts[0];
    assert_eq!(
        (xfail.status(), xfail.expected_status()),
        (TestStatus::Failed, TestStatus::Failed)
    );
    let an = &xfail.annotations.as_ref().expect("annotations")[0];
    assert_eq!(
        (an.kind.as_str(), an.description.as_deref()),
        ("fail", Some("known bug #12"))
    );
    // Strict XPASS: a failure.
    let xpass = &t("test_xpass_strict").attempts[0];
    assert_eq!(xpass.expected_status(), TestStatus::Passed);
    assert_eq!(
        xpass.errors.as_ref().expect("errors")[0].message.as_deref(),
        Some("[XPASS(strict)] expected to fail, strict")
    );
    // Captured sections, with their streams.
    let out = t("test_output").attempts[0].stdio.clone().expect("stdio");
    let got: Vec<_> = out
        .iter()
        .map(|e| (e.stream, e.text.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            (Some(Stream::Stdout), "hello from stdout\n"),
            (Some(Stream::Stderr), "hello from stderr\n")
        ]
    );
    // The rerun's reports repeat the first attempt's output: each attempt keeps its own.
    let flaky = t("test_flaky");
    let texts: Vec<Vec<String>> = flaky
        .attempts
        .iter()
        .map(|a| {
            a.stdio
                .iter()
                .flatten()
                .filter_map(|e| e.text.clone())
                .collect()
        })
        .collect();
    assert_eq!(texts, [["flaky attempt 1\n"], ["flaky attempt 2\n"]]);
    assert!(flaky.is_flaky());
    // user_properties → annotations.
    let props = t("test_record_property").attempts[0]
        .annotations
        .clone()
        .expect("annotations");
    let props: Vec<_> = props
        .iter()
        .map(|a| (a.kind.as_str(), a.description.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(props, [("build_id", "1234"), ("browser", "firefox")]);
    insta::assert_snapshot!("pytest_reportlog", snapshot(r));
}

#[test]
fn json_report_converts_the_last_attempts() {
    let r = json_report(&input("json-report.json")).expect("converts");
    // json-report keeps only the last attempt: failures show one attempt; a test it marks
    // `rerun` gets one failed attempt before its last.
    let expected: BTreeMap<_, _> = intended()
        .into_iter()
        .map(|(k, (o, n))| {
            let n = if o == TestOutcome::Flaky { n } else { 1 };
            (k, (o, n))
        })
        .collect();
    assert_eq!(outcomes(&r), expected);
    let runner = r.test_runner.as_ref().expect("testRunner");
    // The recorded file's `environment` is empty: no version to read.
    assert_eq!(runner.version, "unknown");
    let t = |title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"))
            .test
    };
    let xfail = &t("test_xfail").attempts[0];
    assert_eq!(xfail.expected_status(), TestStatus::Failed);
    let skip = &t("test_skipif").attempts[0];
    assert_eq!(
        skip.annotations.as_ref().expect("skip")[0]
            .description
            .as_deref(),
        Some("only runs on windows")
    );
    // The failed attempt json-report dropped: failed, with no invented error, and an
    // annotation saying why.
    let dropped = &t("test_flaky").attempts[0];
    assert_eq!(dropped.status(), TestStatus::Failed);
    assert!(dropped.errors.is_none(), "{:?}", dropped.errors);
    let kinds: Vec<_> = dropped
        .annotations
        .iter()
        .flatten()
        .map(|a| &a.kind)
        .collect();
    assert_eq!(kinds, [flakiness_convert::INFERRED_ANNOTATION]);
    let e = &t("test_fails").attempts[0].errors.as_ref().expect("errors")[0];
    let loc = e.location.as_ref().expect("location");
    // The absolute crash path is made relative to the traceback's (or the root).
    assert_eq!((loc.file.as_str(), loc.line), ("tests/test_basic.py", 11));
    let start = r.start_timestamp.0;
    for test in r.all_tests() {
        for a in &test.test.attempts {
            assert!(a.start_timestamp.is_some_and(|s| s.0 >= start));
        }
    }
    insta::assert_snapshot!("pytest_json_report", snapshot(r));
}

#[test]
fn junit_xunit1_and_xunit2_are_regrouped_by_file_and_class() {
    for (name, snap) in [
        ("junit-xunit1.xml", "pytest_junit_xunit1"),
        ("junit-xunit2.xml", "pytest_junit_xunit2"),
    ] {
        let r = junit(&input(name));
        // junitxml writes xfail as a skip of type `pytest.xfail`: an expected failure.
        assert_eq!(outcomes(&r), intended(), "{name}");
        let passes = r
            .all_tests()
            .find(|t| t.test.title == "test_passes")
            .expect("test_passes");
        let line = passes.test.location.as_ref().map(|l| l.line);
        if name.contains("xunit1") {
            assert_eq!(line, Some(6), "xunit1's line is 0-based");
        } else {
            assert_eq!(line, None);
        }
        insta::assert_snapshot!(snap, snapshot(r));
    }
}

/// The same run from every source: the same tests, the same outcomes wherever the source
/// carries them; the losses are the ones spec/convert-pytest.md lists.
#[test]
fn every_source_agrees_on_tests_and_outcomes() {
    let from_log = outcomes(&reportlog(&input("reportlog.jsonl")).expect("reportlog"));
    let from_json = outcomes(&json_report(&input("json-report.json")).expect("json"));
    let from_x1 = outcomes(&junit(&input("junit-xunit1.xml")));
    let from_x2 = outcomes(&junit(&input("junit-xunit2.xml")));
    let keys = |m: &BTreeMap<Key, (TestOutcome, usize)>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&from_log), keys(&from_json));
    assert_eq!(keys(&from_log), keys(&from_x1));
    assert_eq!(keys(&from_log), keys(&from_x2));
    for (k, (outcome, attempts)) in &from_log {
        // json-report: outcomes agree; attempts only where it marks a rerun (flaky).
        let (o, n) = from_json[k];
        assert_eq!(o, *outcome, "json-report {k:?}");
        if *outcome == TestOutcome::Flaky {
            assert_eq!(n, *attempts, "json-report {k:?}");
        } else {
            assert_eq!(n, 1, "json-report {k:?}");
        }
        // junitxml: attempts and outcomes agree.
        for (name, from) in [("xunit1", &from_x1), ("xunit2", &from_x2)] {
            let (o, n) = from[k];
            assert_eq!(n, *attempts, "{name} {k:?}");
            assert_eq!(o, *outcome, "{name} {k:?}");
        }
    }
}

#[test]
fn bad_reportlogs_get_located_errors() {
    let data = b"{\"pytest_version\": \"9\", \"$report_type\": \"SessionStart\"}\n{not json\n";
    let err = reportlog(data).expect_err("malformed line");
    assert_eq!(err.line, 2, "{err}");
    assert!(err.offset >= 57, "{err:?}");
    assert!(err.message.contains("malformed JSON"), "{err}");
    let err = reportlog(b"").expect_err("empty");
    assert!(err.message.contains("no $report_type"), "{err}");
    let err = reportlog(b"\n  \n").expect_err("blank");
    assert!(err.message.contains("no $report_type"), "{err}");
    let err = reportlog(b"{\"$report_type\":\"SessionStart\"}\n[1,2]\n").expect_err("array");
    assert_eq!(err.line, 2, "{err}");
    let err = reportlog(b"{\"a\": 1}\n").expect_err("no report type");
    assert!(err.message.contains("$report_type"), "{err}");
    let err = reportlog(
        b"{\"$report_type\":\"TestReport\",\"nodeid\":\"a.py::t\",\"when\":\"call\",\"outcome\":\"weird\"}\n",
    )
    .expect_err("outcome");
    assert!(err.message.contains("weird"), "{err}");
    let err = json_report(b"{\"tests\": [}").expect_err("json");
    assert_eq!((err.line, err.column), (1, 12), "{err}");
    let err = json_report(b"").expect_err("empty json");
    assert!(err.message.contains("malformed JSON"), "{err}");
    let err = json_report(b"{\"exitcode\": 0, \"root\": \"/r\", \"summary\": {}}")
        .expect_err("summary only");
    assert!(err.message.contains("--json-report-summary"), "{err}");
}

fn report_line(nodeid: &str, when: &str, outcome: &str, extra: &str) -> String {
    format!(
        "{{\"$report_type\": \"TestReport\", \"nodeid\": \"{nodeid}\", \"location\": [\"a.py\", 3, \"t\"], \"when\": \"{when}\", \"outcome\": \"{outcome}\", \"longrepr\": null, \"sections\": [], \"user_properties\": [], \"duration\": 0.5{extra}}}\n"
    )
}

#[test]
fn unknown_report_types_are_ignored() {
    let mut data = String::from("{\"$report_type\": \"WarningMessage\", \"message\": \"x\"}\n");
    data.push_str("{\"$report_type\": \"SomethingNew\"}\n");
    for when in ["setup", "call", "teardown"] {
        data.push_str(&report_line("a.py::t", when, "passed", ""));
    }
    let r = reportlog(data.as_bytes()).expect("converts");
    let tests: Vec<_> = r.all_tests().collect();
    assert_eq!(tests.len(), 1);
    let a = &tests[0].test.attempts[0];
    assert_eq!(a.status(), TestStatus::Passed);
    // No `start` in the reports: derived from the fallback time.
    assert_eq!(a.start_timestamp.map(|s| s.0), Some(FALLBACK_MS));
    assert_eq!(a.duration.map(|d| d.0), Some(1500.0));
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.version.as_str()),
        Some("unknown")
    );
}

#[test]
fn huge_captured_sections_are_truncated() {
    let big = "x".repeat(100_000);
    let mut data = report_line("a.py::t", "setup", "passed", "");
    data.push_str(&report_line(
        "a.py::t",
        "call",
        "passed",
        &format!(", \"sections\": [[\"Captured stdout call\", \"{big}\"]]"),
    ));
    data.push_str(&report_line("a.py::t", "teardown", "passed", ""));
    // The teardown report above has no sections: the call's are kept.
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    let r = reportlog_with(data.as_bytes(), &limits).expect("converts");
    let t = r.all_tests().next().expect("test");
    let stdio = t.test.attempts[0].stdio.as_ref().expect("stdio");
    let text = stdio[0].text.as_deref().expect("text");
    assert!(text.len() < 1100, "{}", text.len());
    assert!(text.contains("truncated"), "{text}");
}

#[test]
fn xpass_skip_in_test_and_interrupted_runs() {
    let mut data = String::new();
    // Non-strict XPASS: a pass (pytest's and junitxml's verdict), marked `xpass`.
    data.push_str(&report_line("a.py::xp", "setup", "passed", ""));
    data.push_str(&report_line(
        "a.py::xp",
        "call",
        "passed",
        ", \"wasxfail\": \"flaky upstream\"",
    ));
    data.push_str(&report_line("a.py::xp", "teardown", "passed", ""));
    // pytest.skip() inside the test: the call is skipped.
    data.push_str(&report_line("a.py::sk", "setup", "passed", ""));
    data.push_str(&report_line("a.py::sk", "call", "skipped", "").replace(
        "\"longrepr\": null",
        "\"longrepr\": [\"a.py\", 9, \"Skipped: no db\"]",
    ));
    data.push_str(&report_line("a.py::sk", "teardown", "passed", ""));
    // A run that stopped inside a test.
    data.push_str(&report_line("a.py::cut", "setup", "passed", ""));
    let r = reportlog(data.as_bytes()).expect("converts");
    let t = |title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"))
            .test
            .clone()
    };
    let xp = &t("xp").attempts[0];
    assert_eq!(
        (xp.status(), xp.expected_status()),
        (TestStatus::Passed, TestStatus::Passed)
    );
    assert_eq!(t("xp").outcome(), TestOutcome::Expected);
    let marked = &xp.annotations.as_ref().expect("xpass annotation")[0];
    assert_eq!(
        (marked.kind.as_str(), marked.description.as_deref()),
        ("xpass", Some("flaky upstream"))
    );
    let sk = &t("sk").attempts[0];
    assert_eq!(sk.status(), TestStatus::Skipped);
    let an = &sk.annotations.as_ref().expect("skip")[0];
    assert_eq!(an.description.as_deref(), Some("no db"));
    assert_eq!(an.location.as_ref().map(|l| l.line), Some(9));
    assert_eq!(t("cut").attempts[0].status(), TestStatus::Interrupted);
}

#[test]
fn collection_errors_are_unattributed() {
    let data = b"{\"$report_type\": \"CollectReport\", \"nodeid\": \"tests/test_bad.py\", \"outcome\": \"failed\", \"longrepr\": \"ImportError while importing test module '/p/tests/test_bad.py'.\\nTraceback:\\nE   ModuleNotFoundError: No module named 'nope'\", \"result\": [], \"sections\": []}\n";
    let r = reportlog(data).expect("converts");
    let errors = r.unattributed_errors.as_ref().expect("errors");
    assert_eq!(
        errors[0].message.as_deref(),
        Some("ERROR collecting tests/test_bad.py: ModuleNotFoundError: No module named 'nope'")
    );
    assert!(errors[0]
        .stack
        .as_deref()
        .is_some_and(|s| s.contains("Traceback")));
}

/// extra-*: the outcomes the main run lacks (recorded without reruns; RECORD.md), from every
/// source, with the losses of each source encoded.
#[test]
fn extra_outcomes_agree_across_sources() {
    use TestOutcome::*;
    let f = "extra/test_extra.py";
    let expected: BTreeMap<Key, (TestOutcome, usize)> = [
        (key(f, &[], "test_xpass_non_strict"), (Expected, 1)),
        (key(f, &[], "test_skip_inside"), (Skipped, 1)),
        (key(f, &[], "test_xfail_imperative"), (Expected, 1)),
        (key(f, &[], "test_xfail_not_run"), (Skipped, 1)),
        (key(f, &[], "test_log_and_setup_output"), (Expected, 1)),
        (key(f, &[], "test_attachment_property"), (Expected, 1)),
        (
            key(f, &[], "test_fails_and_teardown_fails"),
            (Unexpected, 1),
        ),
        (
            key(f, &[], "TestOuter::TestInner::test_nested"),
            (Expected, 1),
        ),
        (key(f, &[], "test_odd_ids[a.b]"), (Expected, 1)),
        (key(f, &[], "test_odd_ids[c::d]"), (Expected, 1)),
    ]
    .into_iter()
    .collect();
    let log = reportlog(&input("extra-reportlog.jsonl")).expect("reportlog");
    assert_eq!(outcomes(&log), expected);
    let json = json_report(&input("extra-json-report.json")).expect("json-report");
    assert_eq!(outcomes(&json), expected);
    // junitxml: a non-strict XPASS is an empty testcase, a pass: the same outcome.
    for name in ["extra-junit-xunit1.xml", "extra-junit-xunit2.xml"] {
        assert_eq!(outcomes(&junit(&input(name))), expected, "{name}");
    }

    let t = |r: &Report, title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"))
            .test
            .attempts[0]
            .clone()
    };
    for r in [&log, &json] {
        // A call failure and a teardown error: one failed attempt with both errors.
        let both = t(r, "test_fails_and_teardown_fails");
        let messages: Vec<_> = both
            .errors
            .iter()
            .flatten()
            .filter_map(|e| e.message.as_deref())
            .collect();
        assert_eq!(
            messages,
            [
                "assert 1 == 2",
                "error in teardown: RuntimeError: teardown exploded too"
            ]
        );
        let xfail = t(r, "test_xfail_imperative");
        let an = &xfail.annotations.as_ref().expect("fail")[0];
        assert_eq!(
            (an.kind.as_str(), an.description.as_deref()),
            ("fail", Some("not ready yet"))
        );
        // `attachment` properties stay annotations (attachments are read elsewhere).
        let props = t(r, "test_attachment_property").annotations.expect("props");
        assert_eq!(props[0].kind, "attachment");
        assert_eq!(
            props[0].description.as_deref(),
            Some("extra/artifacts/log.txt")
        );
        assert_eq!(props[1].description.as_deref(), Some("1"));
    }
    // Captured sections of every phase, log on stderr.
    let out = t(&log, "test_log_and_setup_output").stdio.expect("stdio");
    let got: Vec<_> = out
        .iter()
        .map(|e| (e.stream, e.text.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        got,
        [
            (Some(Stream::Stdout), "setting up\n"),
            (Some(Stream::Stdout), "call output\n"),
            (
                Some(Stream::Stderr),
                "WARNING  extra:test_extra.py:41 a warning from the test\n"
            ),
            (Some(Stream::Stdout), "tearing down\n"),
        ]
    );
    let x1 = junit(&input("extra-junit-xunit1.xml"));
    let both = t(&x1, "test_fails_and_teardown_fails");
    assert_eq!(both.errors.as_ref().map(Vec::len), Some(2));
    insta::assert_snapshot!("pytest_extra_reportlog", snapshot(log));
    insta::assert_snapshot!("pytest_extra_json_report", snapshot(json));
}

/// Issue 16, "pytest-rerunfailures in xunit1": with `junit_logging` on, junitxml writes each
/// rerun as a `<testcase>` carrying its captured `<system-out>` (xunit1 and xunit2 alike),
/// not as an empty one. A rerun is a failed attempt all the same: a test that failed every
/// attempt is a failure, not a flake; every source of the run agrees (recorded in
/// `rerun-output-*`, RECORD.md "pytest reruns that print").
#[test]
fn pytest_rerunfailures_reruns_that_print_are_failures() {
    use TestOutcome::*;
    let f = "rerun_output/test_rerun_output.py";
    let expected: BTreeMap<Key, (TestOutcome, usize)> = [
        (key(f, &[], "test_prints_and_always_fails"), (Unexpected, 3)),
        (key(f, &[], "test_prints_and_fails_once"), (Flaky, 2)),
        (key(f, &[], "test_prints_and_passes"), (Expected, 1)),
    ]
    .into_iter()
    .collect();
    let log = reportlog(&input("rerun-output-reportlog.jsonl")).expect("reportlog");
    assert_eq!(outcomes(&log), expected);
    for name in [
        "rerun-output-junit-xunit1.xml",
        "rerun-output-junit-xunit2.xml",
    ] {
        let r = junit(&input(name));
        assert_eq!(outcomes(&r), expected, "{name}");
        // The captured output of every attempt is kept.
        let t = r
            .all_tests()
            .find(|t| t.test.title == "test_prints_and_always_fails")
            .expect("test");
        assert!(
            t.test.attempts.iter().all(|a| a.stdio.is_some()),
            "{name}: {:?}",
            t.test.attempts
        );
    }
}
