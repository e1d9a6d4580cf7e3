//! RSpec's JSON reader on real recordings (testdata/inputs/rspec/, RECORD.md there): one run
//! with rspec-retry, the `--only-failures` pair, and dorny/test-reporter's fixture when
//! /work/shared is there.

use std::collections::BTreeMap;
use std::path::Path;

use flakiness_convert::{detect, Format, Limits, RspecCollector, INFERRED_ANNOTATION};
use flakiness_report::{Report, RunAttempt, TestStatus};

mod common;

fn input(name: &str) -> Vec<u8> {
    common::input("rspec", name)
}

fn convert_data(docs: &[(&str, Vec<u8>)]) -> Report {
    // Each file written a minute after the one before.
    let docs: Vec<(&str, &[u8], f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, (n, d))| (*n, d.as_slice(), 1_800_000_000_000.0 + 60_000.0 * i as f64))
        .collect();
    common::report_of(
        Box::<RspecCollector>::default(),
        &docs,
        "rspec",
        1_800_000_000_000.0,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn convert(names: &[&str]) -> Report {
    let docs: Vec<(&str, Vec<u8>)> = names.iter().map(|n| (*n, input(n))).collect();
    convert_data(&docs)
}

/// title → (file, suite path, statuses).
fn tests(r: &Report) -> BTreeMap<String, (String, Vec<String>, Vec<TestStatus>)> {
    r.all_tests()
        .map(|t| {
            (
                t.test.title.clone(),
                (
                    t.file().unwrap_or_default().to_string(),
                    t.suite_path().iter().map(|s| s.to_string()).collect(),
                    t.test.attempts.iter().map(|a| a.status()).collect(),
                ),
            )
        })
        .collect()
}

use common::attempts;

fn message(a: &RunAttempt) -> String {
    a.errors.as_ref().expect("errors")[0]
        .message
        .clone()
        .unwrap_or_default()
}

/// Every example of the rspec-retry run, as RECORD.md says RSpec ran it: files as file
/// suites, the groups as one suite, the description as the title, retries as attempts.
#[test]
fn rspec_json_of_a_run_with_retries() {
    use TestStatus::*;
    assert_eq!(detect(&input("rspec.json")), Some(Format::RspecJson));
    let r = convert(&["rspec.json"]);
    assert_eq!(r.category, "rspec");
    let runner = r.test_runner.as_ref().expect("runner");
    assert_eq!(
        (runner.name.as_str(), runner.version.as_str()),
        ("rspec", "3.12.0")
    );
    let t = tests(&r);
    assert_eq!(t.len(), 22);
    let calc = "spec/calculator_spec.rb";
    let out = "spec/outcomes_spec.rb";
    let want: &[(&str, &str, &str, &[TestStatus])] = &[
        ("prints to stdout and stderr", calc, "Calculator", &[Passed]),
        ("adds two numbers", calc, "Calculator#add", &[Passed]),
        (
            "fails with a custom message",
            calc,
            "Calculator#add",
            &[Failed],
        ),
        (
            "handles a negative operand",
            calc,
            "Calculator#add with negative numbers",
            &[Passed],
        ),
        (
            "compares with a matcher diff",
            calc,
            "Calculator#add with negative numbers",
            &[Failed],
        ),
        (
            "gives the same result in both orders",
            calc,
            "Calculator#add behaves like a commutative operation",
            &[Passed],
        ),
        (
            "returns an Integer for Integer inputs",
            calc,
            "Calculator#add behaves like a commutative operation",
            &[Failed],
        ),
        ("divides", calc, "Calculator#divide", &[Passed]),
        (
            "raises an error that is not an expectation",
            calc,
            "Calculator#divide",
            &[Failed],
        ),
        (
            "checks several things at once",
            calc,
            "Calculator#divide",
            &[Failed],
        ),
        (
            "is pending and fails as expected",
            out,
            "Outcomes pending and skipped",
            &[Skipped],
        ),
        (
            "is pending but passes",
            out,
            "Outcomes pending and skipped",
            &[Failed],
        ),
        (
            "is pending via metadata",
            out,
            "Outcomes pending and skipped",
            &[Skipped],
        ),
        (
            "skips itself",
            out,
            "Outcomes pending and skipped",
            &[Skipped],
        ),
        (
            "is disabled with xit",
            out,
            "Outcomes pending and skipped",
            &[Skipped],
        ),
        (
            "is skipped via metadata",
            out,
            "Outcomes pending and skipped",
            &[Skipped],
        ),
        (
            "has no body",
            out,
            "Outcomes pending and skipped",
            &[Skipped],
        ),
        ("is flaky", out, "Outcomes retries", &[Failed, Passed]),
        (
            "always fails, even when retried",
            out,
            "Outcomes retries",
            &[Failed, Failed, Failed],
        ),
        (
            "never runs its body (1)",
            out,
            "Outcomes with a failing before(:all)",
            &[Failed],
        ),
        (
            "never runs its body (2)",
            out,
            "Outcomes with a failing before(:all)",
            &[Failed],
        ),
        (
            "passes before the hook fails",
            out,
            "Outcomes with a failing after(:all)",
            &[Passed],
        ),
    ];
    for (title, file, suite, statuses) in want {
        assert_eq!(
            t.get(*title),
            Some(&(file.to_string(), vec![suite.to_string()], statuses.to_vec())),
            "{title}"
        );
    }
    // RSpec's own expectation failures are their message; other exceptions say their class.
    assert_eq!(
        message(&attempts(&r, "fails with a custom message")[0]),
        "arithmetic is broken: expected 2 + 2 to be 5"
    );
    assert_eq!(
        message(&attempts(&r, "compares with a matcher diff")[0]),
        "expected: [2, 5]\n     got: [2, 4]\n\n(compared using ==)"
    );
    assert_eq!(
        message(&attempts(&r, "raises an error that is not an expectation")[0]),
        "ZeroDivisionError: divided by 0"
    );
    assert!(message(&attempts(&r, "checks several things at once")[0])
        .starts_with("Got 2 failures from failure aggregation block"));
    assert_eq!(
        message(&attempts(&r, "never runs its body (1)")[0]),
        "RuntimeError: before(:all) exploded"
    );
    // The backtrace is the stack (the location is found in it later).
    let stack = attempts(&r, "raises an error that is not an expectation")[0]
        .errors
        .as_ref()
        .expect("errors")[0]
        .stack
        .clone()
        .expect("stack");
    assert!(stack.starts_with("/home/user/rspec-sample/lib/calculator.rb:8:in"));
    assert!(stack.contains("spec/calculator_spec.rb:32:in"));
    // Pending: skipped, the reason in the skip annotation; fixed pending: failed, says so.
    for (title, why) in [
        ("is pending and fails as expected", "known bug #12"),
        ("is pending via metadata", "waiting for the API"),
        ("skips itself", "no database here"),
        ("is disabled with xit", "Temporarily skipped with xit"),
        ("is skipped via metadata", "only runs on windows"),
        ("has no body", "Not yet implemented"),
    ] {
        let a = &attempts(&r, title)[0];
        let ann = &a.annotations.as_ref().expect("annotations")[0];
        assert_eq!(
            (ann.kind.as_str(), ann.description.as_deref()),
            ("skip", Some(why))
        );
    }
    let fixed = &attempts(&r, "is pending but passes")[0];
    assert_eq!(
        message(fixed),
        "Expected example to fail since it is pending, but it passed."
    );
    let ann = &fixed.annotations.as_ref().expect("annotation")[0];
    assert_eq!(
        (ann.kind.as_str(), ann.description.as_deref()),
        ("pending", Some("expected to fail"))
    );
    // rspec-retry's messages: the earlier attempts' failures, the last one's exception.
    let flaky = attempts(&r, "is flaky");
    assert_eq!(message(&flaky[0]), "first attempt fails (attempt 1)");
    assert!(flaky[1].errors.is_none() && flaky[1].duration.is_some());
    let always = attempts(&r, "always fails, even when retried");
    for a in always {
        assert_eq!(
            message(a),
            "expected: \"passed\"\n     got: \"retried\"\n\n(compared using ==)"
        );
    }
    // Locations: the example's line; none for a shared example, whose file_path and line are
    // the shared group's (spec/support/shared_examples.rb:7) while the id names the spec file
    // that included it.
    let loc = |title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .and_then(|t| t.test.location.clone())
            .map(|l| (l.file, l.line))
    };
    assert_eq!(
        loc("fails with a custom message"),
        Some(("spec/calculator_spec.rb".into(), 9))
    );
    assert_eq!(loc("is flaky"), Some(("spec/outcomes_spec.rb".into(), 36)));
    assert_eq!(loc("returns an Integer for Integer inputs"), None);
    // The after(:all) error is outside of examples.
    let errors = r.unattributed_errors.as_ref().expect("unattributed");
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert!(e.message.as_deref().is_some_and(|m| m
        .starts_with("An error occurred in an `after(:context)` hook.")
        && m.contains("after(:all) exploded")));
    assert_eq!(
        e.stack.as_deref(),
        Some("./spec/outcomes_spec.rb:66:in `block (3 levels) in <top (required)>'")
    );
    // No time in the input: the run ends at the file's time and lasts the summary's duration.
    assert!((r.duration.0 - 31.174065).abs() < 0.001, "{}", r.duration.0);
    assert!((r.start_timestamp.0 - (1_800_000_000_000.0 - 31.174065)).abs() < 0.001);
}

/// `--only-failures`: the second run's file holds the examples that failed; converted
/// together, every example run twice has two attempts, and the flaky one is flaky.
#[test]
fn only_failures_pair_makes_two_attempts() {
    use TestStatus::*;
    let names = [
        "rspec-only-failures-run1.json",
        "rspec-only-failures-run2.json",
    ];
    for n in names {
        assert_eq!(detect(&input(n)), Some(Format::RspecJson), "{n}");
    }
    let r = convert(&names);
    let t = tests(&r);
    assert_eq!(t.len(), 22);
    assert_eq!(t["is flaky"].2, [Failed, Passed]);
    assert!(r
        .all_tests()
        .find(|t| t.test.title == "is flaky")
        .is_some_and(|t| t.test.is_flaky()));
    assert_eq!(t["always fails, even when retried"].2, [Failed, Failed]);
    assert_eq!(t["is pending but passes"].2, [Failed, Failed]);
    assert_eq!(t["adds two numbers"].2, [Passed]);
    assert_eq!(t["has no body"].2, [Skipped]);
    let twice = t.values().filter(|v| v.2.len() == 2).count();
    assert_eq!(twice, 10);
    // Run 1's flaky failure is said (no retry: RSPEC_RETRY_RETRY_COUNT=1).
    assert_eq!(
        message(&attempts(&r, "is flaky")[0]),
        "first attempt fails (attempt 1)"
    );
    // The after(:all) error is in run 1 only; run 2 said its run options, which are no error.
    assert_eq!(r.unattributed_errors.as_ref().map(Vec::len), Some(1));
    // The run spans both files.
    assert!(r.duration.0 > 60_000.0 - 40.0, "{}", r.duration.0);
}

/// RSpec's JSON on standard output after the tests' own (`puts`), SimpleCov's lines after it.
#[test]
fn the_document_among_other_output() {
    let mut data = b"hello from stdout\nflaky attempt 1\n".to_vec();
    data.extend(input("rspec.json"));
    data.extend(b"\nCoverage report generated for RSpec to /x/coverage.\n");
    assert_eq!(detect(&data), Some(Format::RspecJson));
    let r = convert_data(&[("stdout.json", data)]);
    assert_eq!(r.all_tests().count(), 22);
}

/// rspec-retry without `display_try_failure_messages`: only `RSpec::Retry: 2nd try` lines,
/// so the earlier attempts failed without a known message; an example that shares its line
/// with another is not guessed at.
#[test]
fn retry_lines_alone_make_inferred_failures() {
    use TestStatus::*;
    let doc = r#"{"version":"3.13.0","messages":["\nRSpec::Retry: 2nd try ./spec/a_spec.rb:3","RSpec::Retry: 3rd try ./spec/a_spec.rb:3","\nRSpec::Retry: 2nd try ./spec/a_spec.rb:9"],
      "examples":[
        {"id":"./spec/a_spec.rb[1:1]","description":"works","full_description":"A works","status":"passed","file_path":"./spec/a_spec.rb","line_number":3,"run_time":0.5,"pending_message":null},
        {"id":"./spec/a_spec.rb[1:2:1]","description":"x","full_description":"A shared x","status":"passed","file_path":"./spec/a_spec.rb","line_number":9,"run_time":0.1,"pending_message":null},
        {"id":"./spec/a_spec.rb[1:3:1]","description":"x","full_description":"A other x","status":"passed","file_path":"./spec/a_spec.rb","line_number":9,"run_time":0.1,"pending_message":null}],
      "summary":{"duration":0.7,"example_count":3,"failure_count":0,"pending_count":0,"errors_outside_of_examples_count":0},"summary_line":"3 examples, 0 failures"}"#;
    assert_eq!(detect(doc.as_bytes()), Some(Format::RspecJson));
    let r = convert_data(&[("retry.json", doc.as_bytes().to_vec())]);
    let works = attempts(&r, "works");
    assert_eq!(
        works.iter().map(|a| a.status()).collect::<Vec<_>>(),
        [Failed, Failed, Passed]
    );
    for a in &works[..2] {
        assert!(a.errors.is_none());
        assert_eq!(
            a.annotations.as_ref().expect("inferred")[0].kind,
            INFERRED_ANNOTATION
        );
    }
    for t in r.all_tests().filter(|t| t.test.title == "x") {
        assert_eq!(t.test.attempts.len(), 1);
    }
    // A claim of four billion attempts is not believed: at most one failed attempt more than
    // the messages that name the example (2 here), then its own.
    let doc = doc.replace(
        "3rd try ./spec/a_spec.rb:3",
        "4000000000th try ./spec/a_spec.rb:3",
    );
    let r = convert_data(&[("claim.json", doc.into_bytes())]);
    assert_eq!(attempts(&r, "works").len(), 4);
}

/// A load error: no example ran, the error is outside of examples; an error RSpec counted but
/// did not describe is still said.
#[test]
fn errors_outside_of_examples() {
    let doc = r#"{"version":"3.13.0","messages":["\nAn error occurred while loading ./spec/broken_spec.rb.\nFailure/Error: require \"nope\"\n\nLoadError:\n  cannot load such file -- nope\n# ./spec/broken_spec.rb:1:in `<top (required)>'\n","Run options: include {:focus=>true}"],"examples":[],"summary":{"duration":0.01,"example_count":0,"failure_count":0,"pending_count":0,"errors_outside_of_examples_count":2},"summary_line":"0 examples, 0 failures, 2 errors occurred outside of examples"}"#;
    assert_eq!(detect(doc.as_bytes()), Some(Format::RspecJson));
    let r = convert_data(&[("load.json", doc.as_bytes().to_vec())]);
    let errors = r.unattributed_errors.as_ref().expect("errors");
    assert_eq!(errors.len(), 2);
    assert!(errors[0].message.as_deref().is_some_and(|m| m
        .starts_with("An error occurred while loading ./spec/broken_spec.rb.")
        && m.ends_with("cannot load such file -- nope")));
    assert_eq!(
        errors[0].stack.as_deref(),
        Some("./spec/broken_spec.rb:1:in `<top (required)>'")
    );
    assert!(errors[1]
        .message
        .as_deref()
        .is_some_and(|m| m.contains("1 more error")));
}

/// Not RSpec's JSON, or broken: refused with a located message, never a panic.
#[test]
fn other_input_is_refused() {
    let read = |data: &str| {
        RspecCollector::default()
            .read(data.as_bytes(), "x.json", 0.0, &Limits::default())
            .expect_err("refused")
    };
    let e = read("{\"version\": \"3.12.0\", \"examples\": [");
    assert!(e.to_string().contains("not an RSpec JSON report"), "{e}");
    assert_eq!(e.line, 1);
    let e = read("no json here\n");
    assert!(e.to_string().contains("no JSON object"), "{e}");
    let e = read(
        "{\"examples\": [{\"id\": \"./a_spec.rb[1:1]\", \"description\": \"d\", \"status\": \"weird\"}]}",
    );
    assert!(e.to_string().contains("\"weird\""), "{e}");
    assert!(e.column > 1, "{e}");
}

/// dorny/test-reporter's fixture (when /work/shared is there): its expected counts are
/// 1 passed, 1 failed, 1 skipped, in one file.
#[test]
fn dorny_fixture_counts() {
    let path = Path::new("/work/shared/dorny/fixtures/rspec-json.json");
    let Ok(data) = std::fs::read(path) else {
        eprintln!("skipped: {} is absent", path.display());
        return;
    };
    assert_eq!(detect(&data), Some(Format::RspecJson));
    let r = convert_data(&[("rspec-json.json", data)]);
    let t = tests(&r);
    let count = |s: TestStatus| t.values().filter(|v| v.2 == [s]).count();
    assert_eq!(
        (
            count(TestStatus::Passed),
            count(TestStatus::Failed),
            count(TestStatus::Skipped)
        ),
        (1, 1, 1)
    );
    assert!(t
        .values()
        .all(|v| v.0 == "spec/config/check_env_vars_spec.rb"));
    // Shared examples defined in the spec file itself: their lines are in it.
    assert!(r.all_tests().all(|t| t
        .test
        .location
        .as_ref()
        .is_some_and(|l| l.file == "spec/config/check_env_vars_spec.rb")));
    // Its empty run ("No examples found."): no test, no error.
    let empty = std::fs::read("/work/shared/dorny/fixtures/empty/rspec-json.json").expect("empty");
    assert_eq!(detect(&empty), Some(Format::RspecJson));
    let r = convert_data(&[("empty/rspec-json.json", empty)]);
    assert_eq!(r.all_tests().count(), 0);
    assert!(r.unattributed_errors.is_none());
    assert_eq!(
        t["fails in assertion"].1,
        ["CheckEnvVars#call when all env vars are defined behaves like success load"]
    );
}
