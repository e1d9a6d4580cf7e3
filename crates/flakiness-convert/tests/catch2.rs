//! Catch2's XML reader on real recordings (testdata/inputs/catch2/, RECORD.md there): the
//! sample of testdata/projects/cpp-sample/ built against Catch2 2.13.10 and 3.7.1. The
//! expectations are RECORD.md's tables; then the XML dangers (entities, depth).

use std::collections::BTreeMap;

use flakiness_convert::{detect, Catch2Collector, Format, MAX_SECTION_DEPTH, MAX_XML_DEPTH};
use flakiness_report::{Location, Report, RunAttempt, Stream, TestOutcome, TestStatus, TestStep};

mod common;

fn input(name: &str) -> Vec<u8> {
    common::input("catch2", name)
}

fn read(docs: &[(&str, &[u8])]) -> Result<Report, flakiness_convert::ConvertError> {
    let docs: Vec<(&str, &[u8], f64)> = docs
        .iter()
        .map(|(n, d)| (*n, *d, 1_700_000_000_000.0))
        .collect();
    common::report_of(
        Box::<Catch2Collector>::default(),
        &docs,
        "catch2",
        1_700_000_000_000.0,
    )
}

fn convert(names: &[&str]) -> Report {
    let data: Vec<(&str, Vec<u8>)> = names.iter().map(|n| (*n, input(n))).collect();
    let docs: Vec<(&str, &[u8])> = data.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    read(&docs).unwrap_or_else(|e| panic!("{e}"))
}

fn test<'r>(r: &'r Report, title: &str) -> &'r flakiness_report::Test {
    r.all_tests()
        .find(|t| t.test.title == title)
        .unwrap_or_else(|| panic!("{title}"))
        .test
}

fn attempt<'r>(r: &'r Report, title: &str) -> &'r RunAttempt {
    &test(r, title).attempts[0]
}

use common::messages;

fn stacks(a: &RunAttempt) -> Vec<String> {
    a.errors
        .iter()
        .flatten()
        .map(|e| e.stack.clone().unwrap_or_default())
        .collect()
}

/// RECORD.md's "Outcome per test" table, XML column (v2 = v3): (test case, status,
/// expected status, outcome).
const OUTCOMES: &[(&str, TestStatus, TestStatus, TestOutcome)] = {
    use TestOutcome::{Expected, Unexpected};
    use TestStatus::{Failed, Passed};
    &[
        ("passes", Passed, Passed, Expected),
        ("require fails", Failed, Passed, Unexpected),
        ("check failures continue", Failed, Passed, Unexpected),
        ("nested sections", Failed, Passed, Unexpected),
        // Fails as expected: an expected failure.
        ("expected to fail", Failed, Failed, Expected),
        // Catch2 fails it: an unexpected pass.
        ("shouldfail but passes", Passed, Failed, Unexpected),
        // Failure allowed: Catch2 counts it as a success.
        ("may fail and does", Failed, Failed, Expected),
        ("may fail but passes", Passed, Passed, Expected),
        ("prints output", Passed, Passed, Expected),
        ("throws an exception", Failed, Passed, Unexpected),
        (
            "name with \"quotes\", <angle> & ampersand",
            Passed,
            Passed,
            Expected,
        ),
        ("Scenario: vectors can be resized", Passed, Passed, Expected),
        ("seven halves is three - int", Passed, Passed, Expected),
        ("seven halves is three - double", Failed, Passed, Unexpected),
        ("generated values", Failed, Passed, Unexpected),
        // No retry in Catch2: attempt 1 fails.
        ("flaky", Failed, Passed, Unexpected),
    ]
};

#[test]
fn every_test_case_has_the_outcome_catch2_gave_it() {
    for name in ["catch2-v2.xml", "catch2-v3.xml"] {
        assert_eq!(detect(&input(name)), Some(Format::Catch2Xml), "{name}");
        let r = convert(&[name]);
        let v3 = name.contains("v3");
        let mut got: BTreeMap<String, (TestStatus, TestStatus, TestOutcome)> = r
            .all_tests()
            .map(|t| {
                assert_eq!(t.test.attempts.len(), 1, "{name}: {}", t.test.title);
                let a = &t.test.attempts[0];
                (
                    t.test.title.clone(),
                    (a.status(), a.expected_status(), t.test.outcome()),
                )
            })
            .collect();
        for (title, status, expected, outcome) in OUTCOMES {
            assert_eq!(
                got.remove(*title),
                Some((*status, *expected, *outcome)),
                "{name}: {title}"
            );
        }
        if v3 {
            for title in ["skipped at runtime", "skip in one section"] {
                assert_eq!(
                    got.remove(title),
                    Some((
                        TestStatus::Skipped,
                        TestStatus::Passed,
                        TestOutcome::Skipped
                    )),
                    "{name}: {title}"
                );
            }
        }
        // The hidden test did not run: it is in no file.
        assert!(
            got.is_empty(),
            "{name}: more tests than Catch2 ran: {got:?}"
        );
        // The binary is the suite; tests are located and tagged.
        for t in r.all_tests() {
            assert_eq!(t.suite_path(), ["catch2_sample"], "{name}");
        }
        assert_eq!(
            test(&r, "passes").location,
            Some(Location::new("catch2_sample.cpp", 18, 1))
        );
        assert_eq!(
            test(&r, "require fails").tags.as_deref(),
            Some(&["failing".to_string(), "math".to_string()][..])
        );
        assert_eq!(
            test(&r, "expected to fail").tags.as_deref(),
            Some(&["!shouldfail".to_string()][..])
        );
        let runner = r.test_runner.as_ref().expect("runner");
        assert_eq!(runner.name, "catch2");
        assert_eq!(runner.version, if v3 { "3.7.1" } else { "unknown" });
    }
}

/// Each failed assertion is an error: Catch2's console text (the macro, the expansion, the
/// INFO/CAPTURE messages) as the message, `file:line` first in the stack.
#[test]
fn failed_assertions_are_errors() {
    for name in ["catch2-v2.xml", "catch2-v3.xml"] {
        let r = convert(&[name]);
        let a = attempt(&r, "require fails");
        assert_eq!(
            messages(a),
            ["REQUIRE( add(2, 2) == 5 )\nwith expansion:\n  4 == 5\nwith message:\n  info message before the REQUIRE"],
            "{name}"
        );
        assert_eq!(
            stacks(a),
            ["catch2_sample.cpp:22\ncatch2_sample.cpp:20: in test case \"require fails\""]
        );
        let a = attempt(&r, "check failures continue");
        let m = messages(a);
        assert_eq!(m.len(), 2, "{name}: two failed CHECKs");
        assert!(
            m[0].starts_with("CHECK( a == b )\nwith expansion:\n  1 == 2"),
            "{m:?}"
        );
        assert!(m[1].starts_with("CHECK( a + b == 4 )"), "{m:?}");
        for m in &m {
            assert!(m.ends_with("with messages:\n  a := 1\n  b := 2"), "{m}");
        }
        let s = stacks(a);
        assert!(
            s[0].starts_with("catch2_sample.cpp:29\n")
                && s[1].starts_with("catch2_sample.cpp:30\n")
        );
        let a = attempt(&r, "throws an exception");
        assert_eq!(
            messages(a),
            ["due to unexpected exception with message:\n  unexpected exception from the test"]
        );
        assert!(stacks(a)[0].starts_with("catch2_sample.cpp:59"));
        let a = attempt(&r, "seven halves is three - double");
        assert!(messages(a)[0].contains("with expansion:\n  3.5 == 3.0"));
        assert!(stacks(a)[0].starts_with("catch2_sample.cpp:76\n"));
        let a = attempt(&r, "generated values");
        assert_eq!(messages(a).len(), 1, "only v := 5 failed");
        assert!(messages(a)[0].ends_with("with message:\n  v := 5"));
        assert!(stacks(a)[0].starts_with("catch2_sample.cpp:82\n"));
        // The expected failures keep what failed.
        for title in ["expected to fail", "may fail and does"] {
            assert_eq!(
                messages(attempt(&r, title)),
                [
                    "REQUIRE( add(1, 1) == 3 )\nwith expansion:\n  2 == 3".replace(
                        "REQUIRE",
                        if title.starts_with("may") {
                            "CHECK"
                        } else {
                            "REQUIRE"
                        }
                    )
                ]
            );
            let fail = &attempt(&r, title).annotations.as_ref().expect("fail")[0];
            assert_eq!(fail.kind, "fail");
        }
        // Nothing failed in these.
        for title in [
            "passes",
            "shouldfail but passes",
            "may fail but passes",
            "prints output",
        ] {
            assert!(attempt(&r, title).errors.is_none(), "{name}: {title}");
        }
        let a = attempt(&r, "flaky");
        assert!(stacks(a)[0].starts_with("catch2_sample.cpp:88\n"));
    }
}

fn titles(steps: &[TestStep]) -> Vec<String> {
    steps
        .iter()
        .map(|s| {
            let inner = titles(s.steps.as_deref().unwrap_or_default());
            if inner.is_empty() {
                s.title.clone()
            } else {
                format!("{} [{}]", s.title, inner.join(", "))
            }
        })
        .collect()
}

/// Sections are steps, as Catch2 ran them: one run of the test case per leaf section, each
/// writing its path again. A failure inside a section is also that step's error.
#[test]
fn sections_are_steps_of_the_one_test() {
    for name in ["catch2-v2.xml", "catch2-v3.xml"] {
        let r = convert(&[name]);
        let a = attempt(&r, "nested sections");
        let steps = a.steps.as_deref().expect("steps");
        assert_eq!(
            titles(steps),
            ["outer A [inner 1]", "outer A [inner 2]", "outer B"],
            "{name}"
        );
        let inner2 = &steps[1].steps.as_ref().expect("inner")[0];
        assert_eq!(
            inner2.location,
            Some(Location::new("catch2_sample.cpp", 38, 1))
        );
        let e = inner2.error.as_ref().expect("the failure is the step's");
        assert_eq!(
            e.stack.as_deref(),
            Some("catch2_sample.cpp:38\ncatch2_sample.cpp:38: in section \"inner 2\"\ncatch2_sample.cpp:36: in section \"outer A\"\ncatch2_sample.cpp:34: in test case \"nested sections\"")
        );
        assert!(steps[0].steps.as_ref().expect("inner")[0].error.is_none());
        assert_eq!(messages(a), ["CHECK( x == 1 )\nwith expansion:\n  0 == 1"]);
        let bdd = attempt(&r, "Scenario: vectors can be resized");
        assert_eq!(
            titles(bdd.steps.as_deref().expect("steps")),
            ["Given: a vector with 5 items [When: it is resized to 10 [Then: the size is 10]]"]
        );
    }
}

/// Captured output, WARN, and v3's skips.
#[test]
fn output_warnings_and_skips() {
    for name in ["catch2-v2.xml", "catch2-v3.xml"] {
        let r = convert(&[name]);
        let a = attempt(&r, "prints output");
        let stdio: Vec<(Option<Stream>, String)> = a
            .stdio
            .iter()
            .flatten()
            .map(|e| (e.stream, e.text.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            stdio,
            [
                (Some(Stream::Stdout), "to stdout from a test\n".to_string()),
                (Some(Stream::Stderr), "to stderr from a test\n".to_string())
            ],
            "{name}"
        );
        let warning = &a.annotations.as_ref().expect("warning")[0];
        assert_eq!(
            (warning.kind.as_str(), warning.description.as_deref()),
            ("warning", Some("a WARN message"))
        );
        let flaky = attempt(&r, "flaky");
        assert_eq!(
            flaky.stdio.as_ref().expect("stdout")[0].text.as_deref(),
            Some("flaky attempt 1\n")
        );
    }
    let r = convert(&["catch2-v3.xml"]);
    for (title, reason, line) in [
        ("skipped at runtime", "needs a GPU", 93),
        ("skip in one section", "section skipped: no network", 99),
    ] {
        let a = attempt(&r, title);
        let skip = &a.annotations.as_ref().expect("skip")[0];
        assert_eq!(skip.kind, "skip");
        assert_eq!(skip.description.as_deref(), Some(reason));
        assert_eq!(
            skip.location,
            Some(Location::new("catch2_sample.cpp", line, 1))
        );
    }
    let a = attempt(&r, "skip in one section");
    assert_eq!(
        titles(a.steps.as_deref().expect("steps")),
        ["runs", "skipped"]
    );
}

/// v2 and v3 of one test binary converted together: two attempts of each test they share.
#[test]
fn documents_converted_together_are_attempts() {
    let r = convert(&["catch2-v2.xml", "catch2-v3.xml"]);
    assert_eq!(test(&r, "passes").attempts.len(), 2);
    assert_eq!(test(&r, "skipped at runtime").attempts.len(), 1);
    assert_eq!(r.all_tests().count(), 18);
}

/// `--durations yes` gives test cases and sections their durations; starts follow each other
/// from the input's time. A document that ends inside a test case (the binary was killed)
/// keeps the tests before it and makes that one interrupted.
#[test]
fn durations_and_a_document_cut_short() {
    let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<Catch name="app.exe">
  <Group name="app.exe">
    <TestCase name="one" filename="/src/t.cpp" line="3">
      <Section name="s" filename="/src/t.cpp" line="4">
        <OverallResults successes="1" failures="0" expectedFailures="0" durationInSeconds="0.25"/>
      </Section>
      <OverallResult success="true" durationInSeconds="0.5"/>
    </TestCase>
    <TestCase name="two" filename="/src/t.cpp" line="9">
      <Failure filename="/src/t.cpp" line="10">
        explicit
      </Failure>
      <OverallResult success="false" durationInSeconds="1.5"/>
    </TestCase>
    <TestCase name="no result" filename="/src/t.cpp" line="11"/>
    <TestCase name="hangs" filename="/src/t.cpp" line="12">
      <Expression success="false" type="CHECK" filename="/src/t.cpp" line="13">
        <Original>
          a
        </Original>
      </Expression>
      <Section name="loop" filena"#;
    let r = read(&[("cut.xml", &doc[..])]).expect("kept");
    assert_eq!(r.all_tests().next().expect("t").suite_path(), ["app"]);
    let one = attempt(&r, "one");
    assert_eq!(one.duration.map(|d| d.0), Some(500.0));
    assert_eq!(
        one.steps.as_ref().expect("s")[0].duration.map(|d| d.0),
        Some(250.0)
    );
    let two = attempt(&r, "two");
    assert_eq!(two.start_timestamp.map(|s| s.0), Some(1_700_000_000_500.0));
    assert_eq!(messages(two), ["explicit"]);
    // A test case that ended without an <OverallResult> is not cut short.
    assert_eq!(attempt(&r, "no result").status(), TestStatus::Passed);
    let hangs = attempt(&r, "hangs");
    assert_eq!(hangs.status(), TestStatus::Interrupted);
    let m = messages(hangs);
    assert_eq!(m[0], "CHECK( a )");
    assert!(m[1].contains("the XML ends inside this test case"), "{m:?}");
    assert_eq!(r.duration.0, 2000.0);
}

fn refused(doc: &[u8]) -> flakiness_convert::ConvertError {
    read(&[("bad.xml", doc)]).expect_err("refused")
}

/// Entities are never expanded nor fetched: a DOCTYPE (XXE, billion laughs) is refused, as
/// is nesting past the bound; other XML is not Catch2's.
#[test]
fn xml_dangers_are_refused() {
    let xxe = br#"<?xml version="1.0"?>
<!DOCTYPE Catch [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Catch name="x"><Group name="x"><TestCase name="t"><Failure>&xxe;</Failure><OverallResult success="false"/></TestCase></Group></Catch>"#;
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Catch2TestRun name="x"><TestCase name="&lol3;"><OverallResult success="true"/></TestCase></Catch2TestRun>"#;
    for doc in [&xxe[..], &laughs[..]] {
        // Detection still sees Catch2 behind the DOCTYPE.
        assert_eq!(detect(doc), Some(Format::Catch2Xml));
        let e = refused(doc);
        assert!(e.message.contains("a DOCTYPE is refused"), "{e}");
        assert_eq!(e.line, 2, "{e}");
    }
    let deep = format!(
        "<Catch2TestRun name=\"x\">{}{}</Catch2TestRun>",
        "<a>".repeat(MAX_XML_DEPTH + 10),
        "</a>".repeat(MAX_XML_DEPTH + 10)
    );
    let e = refused(deep.as_bytes());
    assert!(e.message.contains("nested deeper than"), "{e}");
    let sections = format!(
        "<Catch2TestRun name=\"x\"><TestCase name=\"t\">{}",
        "<Section name=\"s\">".repeat(MAX_SECTION_DEPTH + 1)
    );
    let e = refused(sections.as_bytes());
    assert!(
        e.message.contains("<Section> nested deeper than 128"),
        "{e}"
    );
    for (doc, want) in [
        (
            &b"<testsuites/>"[..],
            "not a Catch2 XML file: the root element is <testsuites>",
        ),
        (b"", "no element found"),
        (b"<Catch><Group></Catch>", "malformed XML"),
        (
            b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><Catch/>",
            "encoding \"shift_jis\" is not supported",
        ),
    ] {
        let e = refused(doc);
        assert!(e.message.contains(want), "{want}: {e}");
    }
}

/// Catch2 writes its XML while the tests run: a file cut anywhere (a killed binary) is read
/// up to the cut or refused with a message, never a panic, and what is read is a valid report.
#[test]
fn a_recording_cut_anywhere_reads_or_is_refused() {
    let whole = input("catch2-v3.xml");
    let mut kept = 0;
    for cut in (0..whole.len()).step_by(5) {
        if let Ok(r) = read(&[("cut.xml", &whole[..cut])]) {
            kept += 1;
            let interrupted = r
                .all_tests()
                .filter(|t| t.test.attempts[0].status() == TestStatus::Interrupted)
                .count();
            assert!(interrupted <= 1, "cut at {cut}");
        }
    }
    assert!(kept > whole.len() / 10, "{kept}");
}
