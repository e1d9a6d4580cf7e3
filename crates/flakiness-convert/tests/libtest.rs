//! libtest JSON recorded from a real `cargo test` run (testdata/inputs/RECORD.md).

use std::path::{Path, PathBuf};

use flakiness_convert::{libtest_report, LibtestCollector, Limits, Metadata};
use flakiness_report::{Report, TestStatus};
use flakiness_validate::{Options, Validator};

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

fn convert(data: &[u8]) -> Result<Report, flakiness_convert::ConvertError> {
    let mut c = LibtestCollector::default();
    c.read(data, "input", 1_700_000_000_000.0, &Limits::default())
        .map_err(|e| e.locate(data))?;
    let r = libtest_report(c, &meta(), 1_700_000_000_000.0);
    let bytes = serde_json::to_vec(&r).expect("json");
    let o = Validator::new(Options::default())
        .expect("validator")
        .validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
    Ok(r)
}

/// The JSON events with cargo's stderr lines put back where `2>&1` puts them: each `Running`
/// or `Doc-tests` line just before the events of its binary.
fn interleaved() -> String {
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

#[test]
fn cargo_test_json_with_binaries_panics_and_doctests() {
    let r = convert(interleaved().as_bytes()).expect("converts");
    let suites: Vec<_> = r
        .suites
        .as_ref()
        .expect("suites")
        .iter()
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(
        suites,
        [
            "src/lib.rs",
            "tests/integration.rs",
            "doc-tests cargo_sample"
        ]
    );
    let t = |name: &str| {
        r.all_tests()
            .find(|t| t.test.title == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let failed = &t("tests::assert_eq_fails").test.attempts[0];
    assert_eq!(failed.status(), TestStatus::Failed);
    let e = &failed.errors.as_ref().expect("errors")[0];
    assert!(e
        .message
        .as_deref()
        .expect("message")
        .starts_with("assertion `left == right` failed"));
    let loc = e.location.as_ref().expect("panic location");
    assert_eq!(
        (loc.file.as_str(), loc.line, loc.column),
        ("src/lib.rs", 41, 9)
    );
    let ignored = &t("tests::ignored_with_reason").test.attempts[0];
    assert_eq!(ignored.status(), TestStatus::Skipped);
    assert_eq!(
        ignored.annotations.as_ref().expect("skip")[0]
            .description
            .as_deref(),
        Some("needs a database")
    );
    let doc = t("src/lib.rs - add (line 6)");
    assert_eq!(doc.test.location.as_ref().map(|l| l.line), Some(6));
    assert_eq!(r.all_tests().count(), 16);
    let mut r = r;
    r.environments[0].system_data = None;
    insta::assert_snapshot!(
        "cargo_libtest",
        serde_json::to_string_pretty(&r).expect("json")
    );
}

#[test]
fn without_cargo_lines_binaries_are_numbered() {
    let data = std::fs::read(repo().join("testdata/inputs/cargo/libtest.json")).expect("json");
    let r = convert(&data).expect("converts");
    let suites: Vec<_> = r
        .suites
        .as_ref()
        .expect("suites")
        .iter()
        .map(|s| s.title.clone())
        .collect();
    assert_eq!(suites, ["test binary 1", "test binary 2", "test binary 3"]);
}

#[test]
fn bad_streams_get_located_errors() {
    let err = convert(b"   Compiling x\n{\"type\": \"test\", \"event\": \"ok\"\n")
        .expect_err("truncated JSON");
    assert_eq!(err.line, 2);
    assert!(err.message.contains("not a libtest JSON event"), "{err}");
    let err = convert(b"just text\n").expect_err("no event");
    assert!(err.message.contains("no libtest JSON event"), "{err}");
    let err = convert(b"{\"type\":\"test\",\"name\":\"\xff\"}\n").expect_err("utf-8");
    assert!(err.message.contains("UTF-8"), "{err}");
}

/// Real libtest JSON streams of other projects (timeouts, float times, edition-2024
/// doc-tests, thread ids), when the shared corpus is present.
#[test]
fn shared_corpus_libtest_streams_convert() {
    let dir = repo().join("../shared/corpus/cargo2junit/src/test_inputs");
    if !dir.is_dir() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let p = entry.expect("entry").path();
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let data = std::fs::read(&p).expect("read");
        // A build that failed before any test ran holds no event: refused, with a reason.
        let compile_failure = p.file_name().is_some_and(|f| f == "compile_fail.json");
        match convert(&data) {
            Ok(_) => {
                assert!(!compile_failure, "{}", p.display());
                n += 1;
            }
            Err(e) => assert!(compile_failure, "{}: {e}", p.display()),
        }
    }
    assert!(n >= 10, "{n} streams");
}

/// The same nextest run (retries = 2) through libtest-json-plus and through JUnit: same tests,
/// same attempts and outcomes.
#[test]
fn nextest_libtest_json_agrees_with_nextest_junit() {
    let data = std::fs::read(repo().join("testdata/inputs/cargo/nextest-libtest-json.jsonl"))
        .expect("jsonl");
    let from_json = convert(&data).expect("converts");
    let mut junit = flakiness_convert::JunitCollector::default();
    let xml = std::fs::read(repo().join("testdata/inputs/cargo/nextest-junit.xml")).expect("xml");
    junit
        .read(xml.as_slice(), "junit", 0.0, &Limits::default())
        .expect("junit");
    let from_junit = flakiness_convert::junit_report(junit, &meta(), 0.0);
    let outcomes = |r: &Report| {
        let mut v: Vec<(String, Vec<TestStatus>)> = r
            .all_tests()
            .map(|t| {
                (
                    t.test.title.clone(),
                    t.test.attempts.iter().map(|a| a.status()).collect(),
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let json_outcomes = outcomes(&from_json);
    // nextest leaves ignored tests out of its JUnit: compare the tests that ran.
    let ran: Vec<_> = json_outcomes
        .iter()
        .filter(|(_, s)| s != &vec![TestStatus::Skipped])
        .cloned()
        .collect();
    assert_eq!(ran, outcomes(&from_junit));
    let flaky = from_json
        .all_tests()
        .find(|t| t.test.title == "tests::flaky")
        .expect("flaky");
    assert!(flaky.test.is_flaky());
}
