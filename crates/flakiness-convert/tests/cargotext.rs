//! Plain `cargo test` output, recorded from a real run (testdata/inputs/RECORD.md) and pasted
//! in the shapes people paste it.

use std::path::{Path, PathBuf};

use flakiness_convert::{libtest_report, CargoTextCollector, LibtestCollector, Limits, Metadata};
use flakiness_report::{Report, TestStatus};
use flakiness_validate::{Options, Validator};

const T0: f64 = 1_700_000_000_000.0;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn meta() -> Metadata {
    Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "cargo".into(),
        env_name: "ci".into(),
        ..Metadata::default()
    }
}

fn validate(r: &Report) {
    let bytes = serde_json::to_vec(r).expect("json");
    let o = Validator::new(Options::default())
        .expect("validator")
        .validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
}

fn convert_all(inputs: &[&[u8]]) -> Result<Report, flakiness_convert::ConvertError> {
    let mut c = CargoTextCollector::default();
    for data in inputs {
        c.read(data, "input", T0, &Limits::default())
            .map_err(|e| e.locate(data))?;
    }
    let r = c.into_report(&meta(), T0);
    validate(&r);
    Ok(r)
}

fn convert(data: &[u8]) -> Result<Report, flakiness_convert::ConvertError> {
    convert_all(&[data])
}

fn recorded() -> Vec<u8> {
    std::fs::read(repo().join("testdata/inputs/cargo/cargo-test.txt")).expect("cargo-test.txt")
}

/// Suite titles, in order.
fn suites(r: &Report) -> Vec<String> {
    r.suites.iter().flatten().map(|s| s.title.clone()).collect()
}

/// The statuses of every attempt of `name`.
fn statuses(r: &Report, name: &str) -> Vec<TestStatus> {
    test(r, name).attempts.iter().map(|a| a.status()).collect()
}

fn test<'a>(r: &'a Report, name: &str) -> &'a flakiness_report::Test {
    r.all_tests()
        .find(|t| t.test.title == name)
        .unwrap_or_else(|| panic!("no test {name}"))
        .test
}

fn error(r: &Report, name: &str, attempt: usize) -> flakiness_report::ReportError {
    test(r, name).attempts[attempt]
        .errors
        .as_ref()
        .unwrap_or_else(|| panic!("{name} has no error"))[0]
        .clone()
}

fn loc(e: &flakiness_report::ReportError) -> Option<(String, i64, i64)> {
    e.location
        .as_ref()
        .map(|l| (l.file.clone(), l.line, l.column))
}

/// `thread 'x' (5728) panicked` → `thread 'x' panicked`: thread ids differ between runs.
fn without_thread_ids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("' (") {
        out.push_str(&rest[..i + 1]);
        let after = &rest[i + 3..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(") panicked") {
            rest = &after[digits + 1..];
        } else {
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn recorded_cargo_test_output() {
    let r = convert(&recorded()).expect("converts");
    assert_eq!(
        suites(&r),
        [
            "src/lib.rs",
            "tests/integration.rs",
            "doc-tests cargo_sample"
        ]
    );
    assert_eq!(r.all_tests().count(), 16);
    let expected = [
        ("tests::add_works", TestStatus::Passed),
        ("tests::assert_eq_fails", TestStatus::Failed),
        ("tests::plain_panic", TestStatus::Failed),
        ("tests::panic_with_message", TestStatus::Failed),
        ("tests::ignored", TestStatus::Skipped),
        ("tests::ignored_with_reason", TestStatus::Skipped),
        ("tests::should_panic_passes", TestStatus::Passed),
        ("tests::should_panic_but_does_not", TestStatus::Failed),
        ("tests::prints_output", TestStatus::Passed),
        ("tests::flaky", TestStatus::Failed),
        ("tests::nested::nested_passes", TestStatus::Passed),
        ("integration_passes", TestStatus::Passed),
        ("integration_fails", TestStatus::Failed),
        ("integration_result_err", TestStatus::Failed),
        ("src/lib.rs - add (line 6)", TestStatus::Passed),
        ("src/lib.rs - mul (line 15)", TestStatus::Failed),
    ];
    for (name, status) in expected {
        assert_eq!(statuses(&r, name), [status], "{name}");
        assert!(test(&r, name).attempts[0].start_timestamp.is_some());
    }
    let e = error(&r, "tests::assert_eq_fails", 0);
    assert_eq!(
        e.message.as_deref(),
        Some("assertion `left == right` failed\n  left: 4\n right: 5")
    );
    assert_eq!(loc(&e), Some(("src/lib.rs".into(), 41, 9)));
    assert_eq!(
        error(&r, "tests::plain_panic", 0).message.as_deref(),
        Some("explicit panic")
    );
    assert_eq!(
        error(&r, "tests::should_panic_but_does_not", 0)
            .message
            .as_deref(),
        Some("test did not panic as expected at src/lib.rs:76:8")
    );
    let out = test(&r, "tests::panic_with_message").attempts[0]
        .stdio
        .as_ref()
        .expect("captured output");
    assert!(out[0]
        .text
        .as_deref()
        .expect("text")
        .starts_with("about to fail (stdout)\nabout to fail (stderr)\n"));
    let ignored = &test(&r, "tests::ignored_with_reason").attempts[0];
    assert_eq!(
        ignored.annotations.as_ref().expect("skip")[0]
            .description
            .as_deref(),
        Some("needs a database")
    );
    assert_eq!(
        test(&r, "src/lib.rs - mul (line 15)")
            .location
            .as_ref()
            .map(|l| (l.file.as_str(), l.line)),
        Some(("src/lib.rs", 15))
    );
    // The `finished in` times of the three binaries: 0.00 s, 0.00 s, 0.13 s.
    assert!((r.duration.0 - 130.0).abs() < 1e-6, "{}", r.duration.0);
    let mut r = r;
    r.environments[0].system_data = None;
    insta::assert_snapshot!(
        "cargo_text",
        serde_json::to_string_pretty(&r).expect("json")
    );
}

/// The JSON events of the same run with cargo's stderr lines put back where `2>&1` puts them
/// (as tests/libtest.rs does).
fn libtest_interleaved() -> String {
    let json =
        std::fs::read_to_string(repo().join("testdata/inputs/cargo/libtest.json")).expect("json");
    let stderr = std::fs::read_to_string(repo().join("testdata/inputs/cargo/libtest-stderr.txt"))
        .expect("stderr");
    let mut announce = stderr.lines().filter(|l| {
        l.trim_start().starts_with("Running ") || l.trim_start().starts_with("Doc-tests ")
    });
    let mut out = String::new();
    for line in json.lines() {
        if line.contains("\"suite\"") && line.contains("\"started\"") {
            if let Some(a) = announce.next() {
                out.push_str(a);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// What both converters must agree on, per test: suite, title, location, and per attempt the
/// status, the error (message, location, stack without thread ids), the skip reason and the
/// output (without thread ids).
fn comparable(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .all_tests()
        .map(|t| {
            let attempts: Vec<String> = t
                .test
                .attempts
                .iter()
                .map(|a| {
                    let errors: Vec<String> = a
                        .errors
                        .iter()
                        .flatten()
                        .map(|e| {
                            format!(
                                "{:?} at {:?}; stack {:?}",
                                e.message,
                                loc(e),
                                e.stack.as_deref().map(without_thread_ids)
                            )
                        })
                        .collect();
                    let skips: Vec<_> = a
                        .annotations
                        .iter()
                        .flatten()
                        .map(|n| (n.kind.clone(), n.description.clone()))
                        .collect();
                    let out: Vec<_> = a
                        .stdio
                        .iter()
                        .flatten()
                        .map(|s| (s.stream, s.text.as_deref().map(without_thread_ids)))
                        .collect();
                    format!("{:?} {errors:?} {skips:?} {out:?}", a.status())
                })
                .collect();
            format!(
                "{} / {} @ {:?}: {attempts:?}",
                t.suites
                    .iter()
                    .map(|s| s.title.as_str())
                    .collect::<Vec<_>>()
                    .join(" > "),
                t.test.title,
                t.test
                    .location
                    .as_ref()
                    .map(|l| (&l.file, l.line, l.column)),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn agrees_with_libtest_json_of_the_same_run() {
    let from_text = convert(&recorded()).expect("text converts");
    let mut c = LibtestCollector::default();
    c.read(
        libtest_interleaved().as_bytes(),
        "json",
        T0,
        &Limits::default(),
    )
    .expect("json converts");
    let from_json = libtest_report(c, &meta(), T0);
    assert_eq!(suites(&from_text), suites(&from_json));
    let (a, b) = (comparable(&from_text), comparable(&from_json));
    assert_eq!(a.len(), 16);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert_eq!(a, b);
    assert_eq!(from_text.test_runner, from_json.test_runner);
    // What the text cannot carry: per-test durations (no `--report-time`).
    assert!(from_text
        .all_tests()
        .all(|t| t.test.attempts[0].duration.is_none()));
    assert!(from_json
        .all_tests()
        .any(|t| t.test.attempts[0].duration.is_some()));
}

#[test]
fn crlf_and_ansi_colours_as_pasted_from_a_terminal() {
    let plain = String::from_utf8(recorded()).expect("utf-8");
    let coloured = plain
        .replace("     Running", "     \x1b[1m\x1b[92mRunning\x1b[0m")
        .replace("   Doc-tests", "   \x1b[1m\x1b[92mDoc-tests\x1b[0m")
        .replace("... ok", "... \x1b[32mok\x1b(B\x1b[m")
        .replace("... FAILED", "... \x1b[31mFAILED\x1b(B\x1b[m")
        .replace("... ignored", "... \x1b[33mignored\x1b(B\x1b[m")
        .replace(
            "test result: FAILED",
            "test result: \x1b[31mFAILED\x1b(B\x1b[m",
        )
        .replace('\n', "\r\n");
    assert!(coloured.contains("\x1b[32mok"));
    let a = convert(coloured.as_bytes()).expect("converts");
    let b = convert(plain.as_bytes()).expect("converts");
    assert_eq!(comparable(&a), comparable(&b));
    assert_eq!(a.duration, b.duration);
}

#[test]
fn interleaved_output_and_late_result_words() {
    // `--test-threads=1 --nocapture`, stderr in the same stream: a test's output lands after
    // `test NAME ... ` and its result word comes alone on a later line.
    let text = "\
running 4 tests
test tests::should_panic ... thread 'tests::should_panic' (77) panicked at src/lib.rs:9:5:
divide by zero
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
ok
test tests::noisy ... some output of the test
more output
FAILED
test tests::quiet ... ok
test tests::boom ... thread 'tests::boom' panicked at 'old style', src\\lib.rs:20:9
FAILED

failures:

failures:
    tests::boom
    tests::noisy

test result: FAILED. 2 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.50s
";
    let r = convert(text.as_bytes()).expect("converts");
    assert_eq!(suites(&r), ["test binary 1"]);
    assert_eq!(statuses(&r, "tests::should_panic"), [TestStatus::Passed]);
    assert!(test(&r, "tests::should_panic").attempts[0].errors.is_none());
    assert_eq!(statuses(&r, "tests::quiet"), [TestStatus::Passed]);
    assert_eq!(statuses(&r, "tests::noisy"), [TestStatus::Failed]);
    assert_eq!(
        error(&r, "tests::noisy", 0).message.as_deref(),
        Some("test failed")
    );
    // The panic printed outside a `---- stdout ----` section, found by its thread's name.
    let e = error(&r, "tests::boom", 0);
    assert_eq!(e.message.as_deref(), Some("old style"));
    assert_eq!(loc(&e), Some(("src/lib.rs".into(), 20, 9)));
    assert!((r.duration.0 - 500.0).abs() < 1e-6);
}

#[test]
fn report_time_suffixes_give_durations() {
    let text = "\
running 3 tests
test a ... ok <0.250s>
test b ... FAILED <1.500s>
test c ... FAILED (time limit exceeded) <61.000s>

failures:

---- b stdout ----
thread 'b' panicked at src/b.rs:1:1:
nope


failures:
    b
    c

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 61.01s
";
    let r = convert(text.as_bytes()).expect("converts");
    let d = |n: &str| test(&r, n).attempts[0].duration.map(|d| d.0);
    assert_eq!(d("a"), Some(250.0));
    assert_eq!(d("b"), Some(1500.0));
    assert_eq!(d("c"), Some(61000.0));
    // Attempts start one after the other from the fallback time, as for libtest JSON.
    let start = |n: &str| test(&r, n).attempts[0].start_timestamp.map(|t| t.0);
    assert_eq!(start("a"), Some(T0));
    assert_eq!(start("b"), Some(T0 + 250.0));
    assert_eq!(start("c"), Some(T0 + 1750.0));
    assert_eq!(
        error(&r, "c", 0).message.as_deref(),
        Some("time limit exceeded")
    );
    assert_eq!(error(&r, "b", 0).message.as_deref(), Some("nope"));
    assert!((r.duration.0 - 62750.0).abs() < 1e-6, "{}", r.duration.0);
}

#[test]
fn ignore_reasons_and_should_panic_messages() {
    let text = "\
running 4 tests
test slow ... ignored, takes an hour, really
test plain ... ignored
test wrong_message - should panic ... FAILED
test right_message - should panic ... ok

failures:

---- wrong_message stdout ----

thread 'wrong_message' (5) panicked at src/lib.rs:30:5:
other
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
note: panic did not contain expected string
      panic message: \"other\"
 expected substring: \"zero\"

failures:
    wrong_message

test result: FAILED. 1 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
    let r = convert(text.as_bytes()).expect("converts");
    let reason = |n: &str| {
        test(&r, n).attempts[0].annotations.as_ref().expect("skip")[0]
            .description
            .clone()
    };
    assert_eq!(reason("slow").as_deref(), Some("takes an hour, really"));
    assert_eq!(reason("plain"), None);
    assert_eq!(statuses(&r, "right_message"), [TestStatus::Passed]);
    // As the libtest JSON converter: the panic is the error; libtest's note is not output.
    let e = error(&r, "wrong_message", 0);
    assert_eq!(e.message.as_deref(), Some("other"));
    assert_eq!(loc(&e), Some(("src/lib.rs".into(), 30, 5)));
    let out = test(&r, "wrong_message").attempts[0]
        .stdio
        .as_ref()
        .expect("out")[0]
        .text
        .clone()
        .expect("text");
    assert!(!out.contains("expected substring"), "{out}");
}

#[test]
fn several_binaries_doctests_and_two_pasted_runs() {
    let run = |result: &str| {
        format!(
            "\
   Compiling demo v0.1.0 (/w/demo)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.50s
     Running unittests src/lib.rs (target/debug/deps/demo-abc)

running 1 test
test unit ... {result}

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

     Running unittests src/main.rs (target/debug/deps/demo-def)

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests demo

running 2 tests
test src/lib.rs - Thing::new (line 12) ... ok
test src\\lib.rs - f (line 40) - compile fail ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
"
        )
    };
    let text = format!("{}{}", run("FAILED"), run("ok"));
    let r = convert(text.as_bytes()).expect("converts");
    assert_eq!(suites(&r), ["src/lib.rs", "src/main.rs", "doc-tests demo"]);
    assert_eq!(
        statuses(&r, "unit"),
        [TestStatus::Failed, TestStatus::Passed]
    );
    let starts: Vec<_> = test(&r, "unit")
        .attempts
        .iter()
        .map(|a| a.start_timestamp.map(|t| t.0))
        .collect();
    assert_eq!(starts, [Some(T0), Some(T0 + 300.0)]);
    let doc = test(&r, "src\\lib.rs - f (line 40)");
    let l = doc.location.as_ref().expect("location");
    assert_eq!((l.file.as_str(), l.line), ("src/lib.rs", 40));
    assert_eq!(
        test(&r, "src/lib.rs - Thing::new (line 12)")
            .location
            .as_ref()
            .map(|l| l.line),
        Some(12)
    );
    assert!((r.duration.0 - 600.0).abs() < 1e-6);
    // Two files of one run merge the same way.
    let r2 = convert_all(&[run("FAILED").as_bytes(), run("ok").as_bytes()]).expect("converts");
    assert_eq!(comparable(&r), comparable(&r2));
}

#[test]
fn show_output_and_quiet_mode() {
    // `cargo test -q -- --show-output`: no `test` lines; names come from the sections.
    let text = "\
running 3 tests
.F.
successes:

---- talks stdout ----
hello


successes:
    talks

failures:

---- breaks stdout ----
thread 'breaks' panicked at tests/t.rs:5:5:
bad


failures:
    breaks
    silent_failure

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
    let r = convert(text.as_bytes()).expect("converts");
    assert_eq!(statuses(&r, "talks"), [TestStatus::Passed]);
    assert_eq!(
        test(&r, "talks").attempts[0].stdio.as_ref().expect("out")[0]
            .text
            .as_deref(),
        Some("hello\n")
    );
    assert_eq!(error(&r, "breaks", 0).message.as_deref(), Some("bad"));
    assert_eq!(statuses(&r, "silent_failure"), [TestStatus::Failed]);
}

#[test]
fn backtraces_go_to_the_stack() {
    let text = "\
running 1 test
test deep ... FAILED

failures:

---- deep stdout ----

thread 'deep' (9) panicked at src/lib.rs:3:5:
boom
stack backtrace:
   0: rust_begin_unwind
             at /rustc/x/library/std/src/panicking.rs:665:5
   1: demo::deep
             at ./src/lib.rs:3:5
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.


failures:
    deep

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
    let r = convert(text.as_bytes()).expect("converts");
    let e = error(&r, "deep", 0);
    assert_eq!(e.message.as_deref(), Some("boom"));
    let stack = e.stack.expect("stack");
    assert!(stack.starts_with("thread 'deep' (9) panicked at src/lib.rs:3:5:\nboom\nstack backtrace:\n   0: rust_begin_unwind"));
    assert!(stack.ends_with("verbose backtrace."), "{stack}");
}

#[test]
fn a_crashed_test_binary() {
    let text = "\
     Running unittests src/lib.rs (target/debug/deps/demo-abc)

running 3 tests
test fine ... ok
test overflow ... 
thread 'overflow' has overflowed its stack
fatal runtime error: stack overflow
error: test failed, to rerun pass `--lib`

Caused by:
  process didn't exit successfully: `/w/target/debug/deps/demo-abc --test-threads=1` (signal: 6, SIGABRT: process abort signal)
";
    let r = convert(text.as_bytes()).expect("converts");
    assert_eq!(statuses(&r, "fine"), [TestStatus::Passed]);
    assert_eq!(statuses(&r, "overflow"), [TestStatus::Failed]);
    let m = error(&r, "overflow", 0).message.expect("message");
    assert!(m.starts_with("no result: the output ends"), "{m}");
    assert!(m.contains("\nfatal runtime error: stack overflow"), "{m}");
    assert!(
        m.ends_with("(signal: 6, SIGABRT: process abort signal)"),
        "{m}"
    );
    let un = r.unattributed_errors.as_ref().expect("unattributed");
    let m = un[0].message.as_deref().expect("message");
    assert!(
        m.starts_with("src/lib.rs: the output has results for 2 of 3 tests"),
        "{m}"
    );
}

#[test]
fn no_tests_is_an_error() {
    let compile_error = b"   Compiling demo v0.1.0 (/w/demo)\nerror[E0425]: cannot find value `x` in this scope\n --> src/lib.rs:3:5\n\nerror: could not compile `demo` (lib test) due to 1 previous error\n";
    let err = convert(compile_error).expect_err("build failed");
    assert_eq!(err.line, 2);
    assert!(err.message.starts_with("no test results found"), "{err}");
    assert!(err.message.contains("error[E0425]"), "{err}");
    let err = convert(b"").expect_err("empty");
    assert_eq!(err.message, "no test results found");
    let err = convert(b"running 1 test\ntest \xff ... ok\n").expect_err("utf-8");
    assert!(err.message.contains("UTF-8"), "{err}");
    assert_eq!((err.line, err.column), (2, 6));
}

#[test]
fn output_is_bounded() {
    let mut text =
        String::from("running 1 test\ntest big ... FAILED\n\nfailures:\n\n---- big stdout ----\n");
    for _ in 0..2000 {
        text.push_str("0123456789012345678901234567890123456789\n");
    }
    text.push_str("\nfailures:\n    big\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n");
    let mut c = CargoTextCollector::default();
    let limits = Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    };
    c.read(text.as_bytes(), "input", T0, &limits)
        .expect("reads");
    let r = c.into_report(&meta(), T0);
    validate(&r);
    let out = test(&r, "big").attempts[0].stdio.as_ref().expect("out")[0]
        .text
        .clone()
        .expect("text");
    assert!(out.len() < 1100, "{}", out.len());
    assert!(out.contains("truncated by flakiness"));
}
