//! Mocha's JSON and mochawesome readers on real recordings (testdata/inputs/mocha/, RECORD.md
//! there: one run of the sample project by each reporter), and dorny/test-reporter's fixtures
//! when /work/shared is there.

use std::collections::BTreeMap;
use std::path::Path;

use flakiness_convert::{
    detect, Format, Limits, MochaJsonCollector, MochawesomeCollector, Reader, INFERRED_ANNOTATION,
};
use flakiness_report::{Report, RunAttempt, TestStatus};

mod common;

fn input(name: &str) -> Vec<u8> {
    common::input("mocha", name)
}

fn convert_with(c: Box<dyn Reader>, docs: &[(&str, Vec<u8>)]) -> Report {
    let docs: Vec<(&str, &[u8], f64)> = docs
        .iter()
        .map(|(n, d)| (*n, d.as_slice(), 1_800_000_000_000.0))
        .collect();
    common::report_of(c, &docs, "mocha", 1_800_000_000_000.0).unwrap_or_else(|e| panic!("{e}"))
}

fn mocha(name: &str) -> Report {
    convert_with(Box::<MochaJsonCollector>::default(), &[(name, input(name))])
}

/// (suite path joined with " / ", title) → statuses; every file is the sample's.
fn tests(r: &Report) -> BTreeMap<(String, String), Vec<TestStatus>> {
    r.all_tests()
        .map(|t| {
            let file = t.file().unwrap_or_default();
            assert!(file.starts_with("/home/user/mocha-sample/test/"), "{file}");
            (
                (t.suite_path().join(" / "), t.test.title.clone()),
                t.test.attempts.iter().map(|a| a.status()).collect(),
            )
        })
        .collect()
}

fn key(suite: &str, title: &str) -> (String, String) {
    (suite.to_string(), title.to_string())
}

use common::attempts;

fn message(a: &RunAttempt) -> String {
    a.errors.as_ref().expect("errors")[0]
        .message
        .clone()
        .unwrap_or_default()
}

const BEFORE_EACH: &str = "\"before each\" hook for \"never runs its body (1)\"";
const BEFORE_ALL: &str = "\"before all\" hook: namedSetup for \"never runs either\"";

/// mocha.json and the same document after the tests' console output
/// (`mocha --reporter json > file`): every test as RECORD.md says Mocha ran it, retries as
/// attempts, the hook failures as failed tests.
#[test]
fn mocha_json_of_the_sample_run() {
    use TestStatus::*;
    for name in ["mocha.json", "mocha-json-stdout.txt"] {
        assert_eq!(detect(&input(name)), Some(Format::MochaJson), "{name}");
        let r = mocha(name);
        assert_eq!(
            r.test_runner.as_ref().map(|t| t.name.as_str()),
            Some("mocha")
        );
        let t = tests(&r);
        let want: &[(&str, &str, &[TestStatus])] = &[
            (
                "Calculator",
                "throws an error that is not an assertion",
                &[Failed],
            ),
            ("Calculator", "prints to stdout and stderr", &[Passed]),
            ("Calculator", "times out", &[TimedOut]),
            ("Calculator #add", "adds two numbers", &[Passed]),
            ("Calculator #add", "fails with a custom message", &[Failed]),
            (
                "Calculator #add with negative numbers",
                "handles a negative operand",
                &[Passed],
            ),
            (
                "Calculator #add with negative numbers",
                "compares objects with a diff",
                &[Failed],
            ),
            (
                "Outcomes pending and skipped",
                "has no function",
                &[Skipped],
            ),
            (
                "Outcomes pending and skipped",
                "is skipped with it.skip",
                &[Skipped],
            ),
            (
                "Outcomes pending and skipped",
                "skips itself at run time",
                &[Skipped],
            ),
            (
                "Outcomes pending and skipped a skipped suite",
                "is inside describe.skip",
                &[Skipped],
            ),
            ("Outcomes retries", "is flaky", &[Failed, Passed]),
            (
                "Outcomes retries",
                "always fails, even when retried",
                &[Failed, Failed, Failed],
            ),
            ("Outcomes with a failing beforeEach", BEFORE_EACH, &[Failed]),
            (
                "Outcomes with a failing before (all)",
                BEFORE_ALL,
                &[Failed],
            ),
        ];
        assert_eq!(t.len(), want.len(), "{name}: {t:?}");
        for (suite, title, statuses) in want {
            assert_eq!(
                t.get(&key(suite, title)).map(Vec::as_slice),
                Some(*statuses),
                "{name}: {suite} / {title}"
            );
        }
        assert_eq!(
            message(&attempts(&r, "throws an error that is not an assertion")[0]),
            "Cannot read properties of null (reading 'add')"
        );
        assert_eq!(
            message(&attempts(&r, "fails with a custom message")[0]),
            "arithmetic is broken: expected 2 + 2 to be 5\n\n4 !== 5"
        );
        let timeout = &attempts(&r, "times out")[0];
        assert!(message(timeout).starts_with("Timeout of 50ms exceeded."));
        assert_eq!(timeout.timeout.map(|t| t.0), Some(50.0));
        assert_eq!(
            message(&attempts(&r, BEFORE_EACH)[0]),
            "beforeEach exploded"
        );
        assert_eq!(message(&attempts(&r, BEFORE_ALL)[0]), "before all exploded");
        // The stack is Mocha's (where the location is found later).
        let stack = attempts(&r, "throws an error that is not an assertion")[0]
            .errors
            .as_ref()
            .expect("errors")[0]
            .stack
            .clone()
            .expect("stack");
        assert!(stack.contains("(test/calculator.spec.js:31:10)"), "{stack}");
        // Retries: the earlier attempts failed, why is not known.
        for (title, earlier) in [("is flaky", 1), ("always fails, even when retried", 2)] {
            let a = attempts(&r, title);
            for e in &a[..earlier] {
                assert!(e.errors.is_none(), "{title}");
                assert_eq!(
                    e.annotations.as_ref().expect("inferred")[0].kind,
                    INFERRED_ANNOTATION
                );
            }
        }
        assert_eq!(
            message(&attempts(&r, "always fails, even when retried")[2]),
            "Expected values to be strictly equal:\n+ actual - expected\n\n+ 'retried'\n- 'passed'"
        );
        assert!(r
            .all_tests()
            .find(|t| t.test.title == "is flaky")
            .is_some_and(|t| t.test.is_flaky()));
        // The run's times are the stats' (the two files come from two runs).
        let want = if name == "mocha.json" { 63.0 } else { 59.0 };
        assert_eq!(r.duration.0, want, "{name}");
    }
}

/// mochawesome: the suite tree with every declared test; the tests a failed hook kept from
/// running are skipped, the hook a failed test; no retries.
#[test]
fn mochawesome_of_the_sample_run() {
    use TestStatus::*;
    let data = input("mochawesome.json");
    assert_eq!(detect(&data), Some(Format::Mochawesome));
    let r = convert_with(
        Box::<MochawesomeCollector>::default(),
        &[("mochawesome.json", data)],
    );
    let runner = r.test_runner.as_ref().expect("runner");
    assert_eq!(
        (runner.name.as_str(), runner.version.as_str()),
        ("mocha", "11.8.0")
    );
    let t = tests(&r);
    let want: &[(&str, &str, &[TestStatus])] = &[
        (
            "Calculator",
            "throws an error that is not an assertion",
            &[Failed],
        ),
        ("Calculator", "prints to stdout and stderr", &[Passed]),
        ("Calculator", "times out", &[TimedOut]),
        ("Calculator / #add", "adds two numbers", &[Passed]),
        (
            "Calculator / #add",
            "fails with a custom message",
            &[Failed],
        ),
        (
            "Calculator / #add / with negative numbers",
            "handles a negative operand",
            &[Passed],
        ),
        (
            "Calculator / #add / with negative numbers",
            "compares objects with a diff",
            &[Failed],
        ),
        (
            "Outcomes / pending and skipped",
            "has no function",
            &[Skipped],
        ),
        (
            "Outcomes / pending and skipped",
            "is skipped with it.skip",
            &[Skipped],
        ),
        (
            "Outcomes / pending and skipped",
            "skips itself at run time",
            &[Skipped],
        ),
        (
            "Outcomes / pending and skipped / a skipped suite",
            "is inside describe.skip",
            &[Skipped],
        ),
        ("Outcomes / retries", "is flaky", &[Passed]),
        (
            "Outcomes / retries",
            "always fails, even when retried",
            &[Failed],
        ),
        (
            "Outcomes / with a failing beforeEach",
            BEFORE_EACH,
            &[Failed],
        ),
        (
            "Outcomes / with a failing beforeEach",
            "never runs its body (1)",
            &[Skipped],
        ),
        (
            "Outcomes / with a failing beforeEach",
            "never runs its body (2)",
            &[Skipped],
        ),
        (
            "Outcomes / with a failing before (all)",
            BEFORE_ALL,
            &[Failed],
        ),
        (
            "Outcomes / with a failing before (all)",
            "never runs either",
            &[Skipped],
        ),
    ];
    assert_eq!(t.len(), want.len(), "{t:?}");
    for (suite, title, statuses) in want {
        assert_eq!(
            t.get(&key(suite, title)).map(Vec::as_slice),
            Some(*statuses),
            "{suite} / {title}"
        );
    }
    let not_run = &attempts(&r, "never runs its body (2)")[0];
    let ann = &not_run.annotations.as_ref().expect("skip")[0];
    assert_eq!(
        (ann.kind.as_str(), ann.description.as_deref()),
        ("skip", Some("not run: a hook of its suite failed"))
    );
    let pending = &attempts(&r, "has no function")[0];
    assert_eq!(
        pending.annotations.as_ref().expect("skip")[0].description,
        None
    );
    assert_eq!(
        message(&attempts(&r, "throws an error that is not an assertion")[0]),
        "TypeError: Cannot read properties of null (reading 'add')"
    );
    assert_eq!(
        message(&attempts(&r, BEFORE_EACH)[0]),
        "Error: beforeEach exploded"
    );
    assert!(attempts(&r, BEFORE_EACH)[0]
        .errors
        .as_ref()
        .expect("errors")[0]
        .stack
        .as_deref()
        .is_some_and(|s| s.contains("(test/outcomes.spec.js:45:13)")));
    assert_eq!(r.duration.0, 70.0);
}

/// Not Mocha's JSON, or broken: refused with a located message, never a panic.
#[test]
fn other_input_is_refused() {
    let read = |c: &mut dyn Reader, data: &str| {
        c.read(data.as_bytes(), "x.json", 0.0, &Limits::default())
            .expect_err("refused")
    };
    let e = read(
        &mut MochaJsonCollector::default(),
        "{\n  \"stats\": {},\n  \"tests\": [\n    {\"title\": 5}\n",
    );
    assert!(e.to_string().contains("not a Mocha JSON report"), "{e}");
    assert_eq!(e.line, 4, "{e}");
    let e = read(&mut MochaJsonCollector::default(), "{\"name\": \"app\"}");
    assert!(e.to_string().contains("missing field"), "{e}");
    let e = read(&mut MochawesomeCollector::default(), "console only\n");
    assert!(e.to_string().contains("no JSON object"), "{e}");
    // A package.json, Playwright's JSON and pytest-json-report are none of these.
    for other in [
        r#"{"name": "app", "version": "1.0.0", "scripts": {"test": "mocha"}}"#,
        r#"{"config": {}, "suites": [], "errors": [], "stats": {"startTime": "2024-01-01T00:00:00Z", "duration": 1, "expected": 1, "skipped": 0, "unexpected": 0, "flaky": 0}}"#,
    ] {
        assert_eq!(detect(other.as_bytes()), None, "{other}");
    }
}

/// What a document claims is bounded: `currentRetry: 4000000000` makes 100 earlier attempts,
/// not four billion; a test of no file, or whose full title is its title, has no suite.
#[test]
fn claims_are_bounded_and_loose_tests_kept() {
    let doc = r#"{"stats": {"start": "2024-01-01T00:00:00.000Z", "end": "2024-01-01T00:00:01.000Z"},
      "tests": [
        {"title": "t", "fullTitle": "S t", "file": "/w/a.spec.js", "duration": 1, "currentRetry": 4000000000, "err": {}},
        {"title": "root", "fullTitle": "root", "duration": 2, "currentRetry": 0, "err": {}},
        {"title": "u", "fullTitle": "G u", "duration": 2, "currentRetry": 0, "err": {"message": "boom"}}],
      "pending": [], "failures": [{"title": "u", "fullTitle": "G u", "duration": 2, "currentRetry": 0, "err": {"message": "boom"}}], "passes": []}"#;
    assert_eq!(detect(doc.as_bytes()), Some(Format::MochaJson));
    let r = convert_with(
        Box::<MochaJsonCollector>::default(),
        &[("claims.json", doc.as_bytes().to_vec())],
    );
    assert_eq!(attempts(&r, "t").len(), 101);
    assert_eq!(r.tests.as_ref().map(|t| t[0].title.as_str()), Some("root"));
    let u = r.all_tests().find(|t| t.test.title == "u").expect("u");
    assert_eq!((u.file(), u.suite_path()), (None, vec!["G"]));
    assert_eq!(
        u.test.attempts.len(),
        1,
        "the failure is the test's, not a hook"
    );
    assert_eq!(r.duration.0, 1000.0);
}

/// Counts per attempt status.
fn counts(r: &Report) -> (usize, usize, usize) {
    let all: Vec<TestStatus> = r
        .all_tests()
        .flat_map(|t| t.test.attempts.iter().map(|a| a.status()))
        .collect();
    let n = |f: fn(&TestStatus) -> bool| all.iter().filter(|s| f(s)).count();
    (
        n(|s| *s == TestStatus::Passed),
        n(|s| matches!(s, TestStatus::Failed | TestStatus::TimedOut)),
        n(|s| *s == TestStatus::Skipped),
    )
}

/// dorny/test-reporter's fixtures (when /work/shared is there): its expected counts are 1
/// passed, 4 failed, 1 skipped (mocha-json.json) and 833 passed, 6 skipped
/// (mocha-test-results.json, where two pairs of tests share their file and full title: two
/// tests each for us, the second titled `… #2`); its empty run has no test.
#[test]
fn dorny_fixture_counts() {
    let dir = Path::new("/work/shared/dorny/fixtures");
    let Ok(small) = std::fs::read(dir.join("mocha-json.json")) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    assert_eq!(detect(&small), Some(Format::MochaJson));
    let r = convert_with(
        Box::<MochaJsonCollector>::default(),
        &[("mocha-json.json", small)],
    );
    assert_eq!(counts(&r), (1, 4, 1));
    assert_eq!(r.all_tests().count(), 6);
    // Windows paths, with `/`.
    assert!(r
        .all_tests()
        .filter_map(|t| t.file())
        .all(|f| f.starts_with("C:/Users/") && !f.contains('\\')));
    let empty = std::fs::read(dir.join("empty/mocha-json.json")).expect("empty");
    assert_eq!(detect(&empty), Some(Format::MochaJson));
    let r = convert_with(
        Box::<MochaJsonCollector>::default(),
        &[("empty/mocha-json.json", empty)],
    );
    assert_eq!(r.all_tests().count(), 0);
    let big = std::fs::read(dir.join("external/mocha/mocha-test-results.json")).expect("read");
    assert_eq!(detect(&big), Some(Format::MochaJson));
    // The two pairs of entries that share an identity are two tests each (the second titled
    // `… #2`), which the validator does not warn about.
    let r = convert_with(
        Box::<MochaJsonCollector>::default(),
        &[("mocha-test-results.json", big)],
    );
    assert_eq!(counts(&r), (833, 0, 6));
    assert_eq!(r.all_tests().count(), 839);
    assert_eq!(
        r.all_tests()
            .filter(|t| t.test.title.ends_with(" #2"))
            .count(),
        2
    );
    assert!(r.all_tests().all(|t| t.test.attempts.len() == 1));
}
