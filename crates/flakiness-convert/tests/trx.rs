//! .NET's TRX reader (testdata/inputs/trx/, RECORD.md there): the hand-written MSTest, NUnit
//! adapter and xUnit rerun documents, the recordings of the npm TRX writers, the XML dangers,
//! and dorny/test-reporter's fixtures when /work/shared is there.

use std::path::Path;

use flakiness_convert::{detect, stack_frames, Format, TrxCollector};
use flakiness_report::{Location, Report, RunAttempt, Stream, TestStatus};

mod common;

const TIME: f64 = 1_700_000_000_000.0;

fn read(docs: &[(&str, &[u8])]) -> Result<Report, flakiness_convert::ConvertError> {
    let docs: Vec<(&str, &[u8], f64)> = docs.iter().map(|(n, d)| (*n, *d, TIME)).collect();
    common::report_of(Box::<TrxCollector>::default(), &docs, "dotnet", TIME)
}

fn convert(names: &[&str]) -> Report {
    common::report_of_inputs(Box::<TrxCollector>::default(), "trx", names, "dotnet", TIME)
}

/// (suite path, title, statuses) of every test.
fn tests(r: &Report) -> Vec<(String, String, Vec<TestStatus>)> {
    r.all_tests()
        .map(|t| {
            (
                t.suite_path().join(" / "),
                t.test.title.clone(),
                t.test.attempts.iter().map(|a| a.status()).collect(),
            )
        })
        .collect()
}

fn attempt<'r>(r: &'r Report, title: &str) -> &'r RunAttempt {
    &r.all_tests()
        .find(|t| t.test.title == title)
        .unwrap_or_else(|| panic!("{title}"))
        .test
        .attempts[0]
}

fn annotation(a: &RunAttempt, kind: &str) -> Option<String> {
    a.annotations
        .iter()
        .flatten()
        .find(|x| x.kind == kind)
        .map(|x| x.description.clone().unwrap_or_default())
}

#[test]
fn mstest_data_rows_outcomes_output_and_files() {
    use TestStatus::*;
    // The attachment is resolved from the input's folder: read it by its path.
    let path = common::repo().join("testdata/inputs/trx/mstest.trx");
    let data = std::fs::read(&path).expect("mstest.trx");
    let mut reader = TrxCollector::default();
    let input = path.to_string_lossy().into_owned();
    reader
        .read(&data, &input, TIME, &Default::default())
        .expect("read");
    let files = reader.attachments();
    let warnings = reader.warnings();
    let r = reader.into_report(&common::meta("dotnet"), TIME);
    common::assert_valid(&r);
    let class = "Acme.Tests / Acme.Tests.CalcTests";
    let want: Vec<(String, String, Vec<TestStatus>)> = [
        (class, "Add(1,2,3)", Passed),
        (class, "Add(2,2,4)", Passed),
        (class, "Add(3,3,7)", Failed),
        (class, "Add [data row 4]", Passed),
        (class, "Ignored", Skipped),
        (class, "CannotDecide", Skipped),
        (class, "TakesTooLong", TimedOut),
        (class, "PassesWithWarning", Passed),
        (
            "Acme.Tests / Acme.Tests.OutputTests",
            "WritesOutput",
            Passed,
        ),
    ]
    .iter()
    .map(|(s, t, st)| (s.to_string(), t.to_string(), vec![*st]))
    .collect();
    assert_eq!(tests(&r), want);
    // The failing row: its error, located from the .NET frame.
    let a = attempt(&r, "Add(3,3,7)");
    let e = &a.errors.as_ref().expect("errors")[0];
    assert_eq!(
        e.message.as_deref(),
        Some("Assert.AreEqual failed. Expected:<7>. Actual:<6>.")
    );
    assert_eq!(
        stack_frames(e.stack.as_deref().unwrap_or("")),
        [Location::new(
            "/home/ci/acme/tests/Acme.Tests/CalcTests.cs",
            21,
            1
        )]
    );
    assert_eq!(a.duration.map(|d| d.0), Some(10.0));
    assert_eq!(
        a.start_timestamp.map(|t| t.0),
        Some(1_796_634_001_020.0),
        "10:00:01.02 at +01:00"
    );
    let tagged = r
        .all_tests()
        .find(|t| t.test.title == "Add(1,2,3)")
        .expect("Add(1,2,3)");
    assert_eq!(tagged.test.tags.as_deref(), Some(&["math".to_string()][..]));
    // Skips say why; the timeout has its message; a warning outcome is a pass that says so.
    assert_eq!(
        annotation(attempt(&r, "Ignored"), "skip").as_deref(),
        Some("not implemented yet")
    );
    assert!(attempt(&r, "Ignored").errors.is_none());
    assert!(annotation(attempt(&r, "CannotDecide"), "skip")
        .is_some_and(|d| d.contains("needs a database")));
    assert!(attempt(&r, "TakesTooLong").errors.is_some());
    assert!(annotation(attempt(&r, "PassesWithWarning"), "warning").is_some());
    // Output: stdout (CRLF as LF), the debug trace, stderr; text messages as annotations.
    let a = attempt(&r, "WritesOutput");
    let stdio: Vec<(Option<Stream>, String)> = a
        .stdio
        .iter()
        .flatten()
        .map(|s| (s.stream, s.text.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        stdio,
        [
            (Some(Stream::Stdout), "line one\nline two\n".to_string()),
            (Some(Stream::Stdout), "Debug.WriteLine text\n".to_string()),
            (Some(Stream::Stderr), "to stderr\n".to_string()),
        ]
    );
    assert_eq!(
        annotation(a, "message").as_deref(),
        Some("TestContext says hello")
    );
    assert!(a.duration.is_some_and(|d| (d.0 - 123.4567).abs() < 1e-6));
    // The result file under <runDeploymentRoot>/In/<executionId>/; the missing one a warning.
    let att = &a.attachments.as_ref().expect("attachments")[0];
    assert_eq!(
        (att.name.as_str(), att.content_type.as_str()),
        ("screenshot.txt", "text/plain")
    );
    assert_eq!(files.len(), 1);
    assert!(files[0].path.ends_with("ci-host/screenshot.txt"));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("missing.log"), "{warnings:?}");
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.name.as_str()),
        Some("mstest")
    );
    // The run: <Times start finish>.
    assert_eq!(r.duration.0, 5000.0);
}

#[test]
fn nunit_adapter_titles_and_skips() {
    let r = convert(&["nunit-adapter.trx"]);
    let t = tests(&r);
    assert_eq!(
        t.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
        ["Add(1,2,3)", "Add(3,3,7)", "NeedsDatabase", "Ignored"]
    );
    assert!(t
        .iter()
        .all(|t| t.0 == "Acme.NUnitTests / Acme.NUnitTests.CalcTests"));
    assert_eq!(t[2].2, [TestStatus::Skipped]);
    assert_eq!(
        annotation(attempt(&r, "NeedsDatabase"), "skip").as_deref(),
        Some("Inconclusive")
    );
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.name.as_str()),
        Some("nunit")
    );
}

#[test]
fn a_rerun_is_attempts_and_a_crash_is_kept() {
    let r = convert(&["rerun-2.trx", "rerun-1.trx"]);
    let t = tests(&r);
    // Read out of order: the attempts are ordered by their start.
    assert_eq!(
        t,
        [
            (
                "Acme.XunitTests / Acme.XunitTests.StoreTests".to_string(),
                "SavesOrder".to_string(),
                vec![TestStatus::Failed, TestStatus::Passed]
            ),
            (
                "Acme.XunitTests / Acme.XunitTests.StoreTests".to_string(),
                "Even(n: 2)".to_string(),
                vec![TestStatus::Passed, TestStatus::Passed]
            ),
        ]
    );
    assert!(r
        .all_tests()
        .find(|t| t.test.title == "SavesOrder")
        .expect("SavesOrder")
        .test
        .is_flaky());
    // The crash is an unattributed error; xUnit's `[FAIL]` echo and the warning are not.
    let errors: Vec<&str> = r
        .unattributed_errors
        .iter()
        .flatten()
        .filter_map(|e| e.message.as_deref())
        .collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("Test host process crashed"));
    // The run spans both documents.
    assert_eq!(r.duration.0, 62_000.0);
}

#[test]
fn npm_writers_recordings() {
    for name in ["jest-trx.trx", "mocha-trx.trx"] {
        let data = common::input("trx", name);
        assert_eq!(detect(&data), Some(Format::Trx), "{name}");
        let r = convert(&[name]);
        let count = |s: TestStatus| {
            r.all_tests()
                .filter(|t| t.test.attempts.last().map(|a| a.status()) == Some(s))
                .count()
        };
        assert_eq!(
            (
                count(TestStatus::Passed),
                count(TestStatus::Failed),
                count(TestStatus::Skipped)
            ),
            (3, 1, 1),
            "{name}"
        );
        let failed = r
            .all_tests()
            .find(|t| t.test.title.ends_with("fails on purpose"))
            .expect("failed test");
        let e = &failed.test.attempts[0].errors.as_ref().expect("error")[0];
        assert!(e.message.is_some(), "{name}");
    }
}

#[test]
fn xml_dangers_and_bad_inputs_are_refused() {
    let doctype = br#"<?xml version="1.0"?><!DOCTYPE TestRun [<!ENTITY x "boom">]><TestRun><Results/></TestRun>"#;
    let e = read(&[("d.trx", doctype)]).expect_err("refused");
    assert!(e.message.contains("DOCTYPE"), "{e}");
    let e = read(&[("j.trx", b"<testsuites/>")]).expect_err("refused");
    assert!(
        e.message
            .contains("not a TRX file: the root element is <testsuites>"),
        "{e}"
    );
    let e = read(&[(
        "b.trx",
        b"<TestRun><Results><UnitTestResult outcome=\"Passed\" x='1' x='2'/></Results></TestRun>",
    )]);
    assert!(e.is_ok(), "duplicate attributes are not checked: {e:?}");
    let e = read(&[(
        "bad.trx",
        b"<TestRun>\n  <Results>\n  </Result>\n</TestRun>",
    )])
    .expect_err("refused");
    assert_eq!((e.line, e.column > 0), (3, true), "{e}");
    let deep = format!(
        "<TestRun><Results>{}{}</Results></TestRun>",
        "<UnitTestResult outcome=\"Passed\"><InnerResults>".repeat(70),
        "</InnerResults></UnitTestResult>".repeat(70)
    );
    let e = read(&[("deep.trx", deep.as_bytes())]).expect_err("refused");
    assert!(e.message.contains("nested deeper"), "{e}");
    // A result whose definition is missing (a cut file): kept, titled by its name, outside
    // any suite; an outcome TRX does not define: a failure that says so.
    let cut = br#"<TestRun><Results><UnitTestResult testId="1" testName="Ns.C.T" outcome="Weird"/><UnitTestResult testId="2" testName="Ns.C.U" outcome="Passed">"#;
    let r = read(&[("cut.trx", cut)]).expect("cut");
    let t = tests(&r);
    assert_eq!(t.len(), 2);
    assert_eq!(
        t[0],
        (String::new(), "Ns.C.T".into(), vec![TestStatus::Failed])
    );
    assert!(annotation(
        attempt(&r, "Ns.C.T"),
        flakiness_convert::INFERRED_ANNOTATION
    )
    .is_some());
}

/// dorny/test-reporter's TRX fixtures (when /work/shared is there): our passed, failed and
/// skipped counts per file equal those of its expected summaries (expected/*.md).
#[test]
fn dorny_fixture_counts() {
    let root = Path::new("/work/shared/dorny/fixtures");
    if !root.is_dir() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    for (file, want) in [
        ("dotnet-trx.trx", (5, 5, 1)),
        ("dotnet-xunitv3.trx", (1, 3, 0)),
        ("external/FluentValidation.Tests.trx", (803, 0, 1)),
        ("external/SilentNotes.trx", (67, 0, 12)),
        ("empty/dotnet-trx.trx", (0, 0, 0)),
        ("empty/dotnet-trx-empty-test-definitions.trx", (0, 0, 0)),
    ] {
        let data = std::fs::read(root.join(file)).expect(file);
        assert_eq!(detect(&data), Some(Format::Trx), "{file}");
        let r = read(&[(file, &data)]).unwrap_or_else(|e| panic!("{e}"));
        let count = |s: TestStatus| {
            r.all_tests()
                .flat_map(|t| t.test.attempts.iter())
                .filter(|a| a.status() == s)
                .count()
        };
        assert_eq!(
            (
                count(TestStatus::Passed),
                count(TestStatus::Failed),
                count(TestStatus::Skipped)
            ),
            want,
            "{file}"
        );
    }
}
