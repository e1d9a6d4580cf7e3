//! Go's test2json reader on real recordings (testdata/inputs/go/, RECORD.md there): Go 1.19
//! and Go 1.27 streams of the same sample project, gotestsum's reruns and `-count=2`.

use std::collections::BTreeMap;

use flakiness_convert::{detect, Format, GoTestCollector, Limits, Metadata, Reader};
use flakiness_report::{Report, TestStatus};
use flakiness_validate::{Options, Validator};

mod common;

fn input(name: &str) -> Vec<u8> {
    common::input("go", name)
}

fn convert(names: &[&str]) -> Report {
    common::report_of_inputs(Box::<GoTestCollector>::default(), "go", names, "go", 0.0)
}

/// (package's last part, test title) → statuses of its attempts.
fn statuses(r: &Report) -> BTreeMap<(String, String), Vec<TestStatus>> {
    r.all_tests()
        .map(|t| {
            let pkg = t.file().unwrap_or_default();
            let pkg = pkg.rsplit('/').next().unwrap_or_default().to_string();
            (
                (pkg, t.test.title.clone()),
                t.test.attempts.iter().map(|a| a.status()).collect(),
            )
        })
        .collect()
}

fn message(r: &Report, title: &str) -> String {
    let t = r
        .all_tests()
        .find(|t| t.test.title == title)
        .unwrap_or_else(|| panic!("{title}"));
    t.test.attempts[0].errors.as_ref().expect("errors")[0]
        .message
        .clone()
        .unwrap_or_default()
}

fn key(pkg: &str, title: &str) -> (String, String) {
    (pkg.to_string(), title.to_string())
}

/// Both Go versions: packages as file suites, subtests by their whole name, results and
/// messages from the `file_test.go:NN:` lines, a panic, a test cut short by it, a package that
/// did not build and two that failed outside their tests (a panic in init, TestMain).
#[test]
fn go_test_json_of_go_1_19_and_1_27() {
    use TestStatus::*;
    for name in ["go-test.json", "go1.27/go-test.json"] {
        assert_eq!(detect(&input(name)), Some(Format::GoTestJson), "{name}");
        let r = convert(&[name]);
        let s = statuses(&r);
        let want = [
            (key("calc", "TestAdd"), vec![Passed]),
            (key("calc", "TestAddFails"), vec![Failed]),
            (key("calc", "TestSubtests/with/slash"), vec![Passed]),
            (key("calc", "TestSubtests/dup#01"), vec![Passed]),
            (
                key("calc", "TestSubtests/nested/level_two/fails_deep"),
                vec![Failed],
            ),
            (key("calc", "TestSubtests/skipped"), vec![Skipped]),
            (key("calc", "TestFlaky"), vec![Failed]),
            (key("crash", "TestPanics"), vec![Failed]),
            (key("crash", "TestParallelPaused"), vec![Interrupted]),
            (key("worker", "TestNoNewline"), vec![Passed]),
            (key("broken", "[build failed]"), vec![Failed]),
            (key("initpanic", "[package failed]"), vec![Failed]),
            (key("mainexit", "[package failed]"), vec![Failed]),
        ];
        for (k, v) in want {
            assert_eq!(s.get(&k), Some(&v), "{name}: {k:?}");
        }
        assert_eq!(
            message(&r, "TestAddFails"),
            "Add(2, 2) = 4, want 5",
            "{name}"
        );
        assert_eq!(
            message(&r, "TestSubtests/nested"),
            "subtest TestSubtests/nested/level_two failed",
            "{name}"
        );
        assert!(message(&r, "TestPanics").starts_with("panic: assignment to entry in nil map"));
        assert!(
            message(&r, "[package failed]").starts_with("panic: initpanic")
                || message(&r, "[package failed]").starts_with("TestMain")
        );
        // The failure's output is its stack (where the location is found) and its stdout.
        let t = r
            .all_tests()
            .find(|t| t.test.title == "TestAddFails")
            .expect("test");
        let a = &t.test.attempts[0];
        assert!(a.errors.as_ref().expect("errors")[0]
            .stack
            .as_deref()
            .is_some_and(|s| s.contains("calc_test.go:19: Add(2, 2) = 4, want 5")));
        assert!(a.stdio.is_some() && a.duration.is_some());
        // A skip says why.
        let skip = r
            .all_tests()
            .find(|t| t.test.title == "TestSkipped")
            .expect("skip");
        assert!(skip.test.attempts[0].annotations.as_ref().expect("skip")[0]
            .description
            .is_some());
    }
    // Go 1.27 says what did not compile.
    let r = convert(&["go1.27/go-test.json"]);
    assert!(message(&r, "[build failed]").contains("cannot use"));
}

/// gotestsum's reruns and `go test -count=2` append whole runs: every run of a test is an
/// attempt, so the flaky test is flaky and the one that always fails fails every attempt.
#[test]
fn reruns_and_repeats_are_attempts() {
    use TestStatus::*;
    let r = convert(&["gotestsum-rerun.json"]);
    let s = statuses(&r);
    assert_eq!(s[&key("calc", "TestFlaky")], [Failed, Passed]);
    assert_eq!(s[&key("calc", "TestAddFails")], [Failed, Failed, Failed]);
    assert_eq!(s[&key("worker", "TestNoNewline")], [Passed, Passed, Passed]);
    let r = convert(&["go-test-count2.json"]);
    let s = statuses(&r);
    assert_eq!(s[&key("calc", "TestFlaky")], [Failed, Passed]);
    assert_eq!(s[&key("calc", "TestAdd")], [Passed, Passed]);
}

/// Not a test2json stream: refused with a message, never a panic.
#[test]
fn other_input_is_refused() {
    let mut c = GoTestCollector::default();
    let e = c
        .read(
            b"ok  \texample.com/x\t0.01s\n",
            "x.json",
            0.0,
            &Limits::default(),
        )
        .expect_err("no event");
    assert!(e.to_string().contains("no test2json event"), "{e}");
    let e = GoTestCollector::default()
        .read(
            b"{\"Action\":5,\"Package\":\"p\"}\n",
            "y.json",
            0.0,
            &Limits::default(),
        )
        .expect_err("bad event");
    assert!(e.to_string().contains("not a test2json event"), "{e}");
}

/// Found by the fuzz target `readers`: a time before 1970 in a package's failure gave a
/// negative start; such a time is unknown, and every start stays >= 0.
#[test]
fn times_before_1970_are_unknown() {
    let stream =
        br#"{"Time":"1014-01-01T00:00:00Z","Action":"output","Package":"p","Output":"panic: x\n"}
{"Time":"1014-01-01T00:00:00Z","Action":"fail","Package":"p","Elapsed":0.1}
{"Time":"1014-01-01T00:00:00Z","Action":"run","Package":"q","Test":"TestA"}
{"Time":"1014-01-01T00:00:01Z","Action":"pass","Package":"q","Test":"TestA","Elapsed":5}
"#;
    let mut c = GoTestCollector::default();
    c.read(stream, "old.json", 1_000.0, &Limits::default())
        .expect("reads");
    let meta = Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "go".into(),
        env_name: "go".into(),
        ..Metadata::default()
    };
    let r = c.into_report(&meta, 1_000.0);
    let bytes = serde_json::to_vec(&r).expect("serialize");
    let o = Validator::new(Options::default())
        .expect("validator")
        .validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
    assert_eq!(r.all_tests().count(), 2);
}
