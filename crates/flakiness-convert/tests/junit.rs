//! JUnit inputs we wrote (testdata/junit) and, when present, the shared corpus of real files.

use std::path::{Path, PathBuf};

use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata};
use flakiness_report::{Report, TestStatus};
use flakiness_validate::{Options, Validator};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const FALLBACK_MS: f64 = 1_700_000_000_000.0;

fn meta() -> Metadata {
    Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "junit".into(),
        env_name: "ci".into(),
        ..Metadata::default()
    }
}

fn convert(paths: &[PathBuf]) -> Result<Report, flakiness_convert::ConvertError> {
    let mut c = JunitCollector::default();
    for p in paths {
        let data = std::fs::read(p).expect("input");
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        c.read(data.as_slice(), &name, FALLBACK_MS, &Limits::default())
            .map_err(|e| e.locate(&data))?;
    }
    Ok(junit_report(c, &meta(), FALLBACK_MS))
}

fn input(name: &str) -> PathBuf {
    repo().join("testdata/junit").join(name)
}

fn assert_valid(r: &Report) {
    let bytes = serde_json::to_vec(r).expect("serialize");
    let o = Validator::new(Options::default())
        .expect("validator")
        .validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
}

/// The parts of a report that are not host facts, as a snapshot.
fn snapshot(mut r: Report) -> String {
    for e in &mut r.environments {
        e.system_data = None;
    }
    serde_json::to_string_pretty(&r).expect("json")
}

#[test]
fn surefire_flaky_and_rerun_failures_become_attempts() {
    let r = convert(&[input("surefire-reruns.xml")]).expect("converts");
    assert_valid(&r);
    let tests: Vec<_> = r.all_tests().collect();
    let find = |class: &str, title: &str| {
        tests
            .iter()
            .find(|t| t.test.title == title && t.suites.iter().any(|s| s.title == class))
            .unwrap_or_else(|| panic!("{class} {title}"))
    };
    let adds = find("com.acme.CartTest", "addsItem");
    let statuses: Vec<_> = adds.test.attempts.iter().map(|a| a.status()).collect();
    assert_eq!(statuses, [TestStatus::Failed, TestStatus::Passed]);
    assert!(adds.test.is_flaky());
    let checkout = find("com.acme.CartTest", "checkout");
    let statuses: Vec<_> = checkout.test.attempts.iter().map(|a| a.status()).collect();
    assert_eq!(statuses, [TestStatus::TimedOut, TestStatus::Failed]);
    // Same name in another class: another test, never merged.
    let other = find("com.acme.OtherTest", "addsItem");
    assert_eq!(other.test.attempts.len(), 1);
    // Skip reason, suite-level stderr, times.
    let refund = find("com.acme.CartTest", "refund");
    let a = &refund.test.attempts[0];
    assert_eq!(a.status(), TestStatus::Skipped);
    assert_eq!(a.duration, None, "an empty time is no duration");
    assert_eq!(r.unattributed_errors.as_ref().map(Vec::len), Some(1));
    assert_eq!(r.duration.0, 1_234_500.0);
    // 2024-05-02T10:00:00 MDT = 16:00Z.
    assert_eq!(r.start_timestamp.0, 1_714_665_600_000.0);
    insta::assert_snapshot!("surefire_reruns", snapshot(r));
}

#[test]
fn repeated_testcases_are_reruns_in_order() {
    let r = convert(&[input("gotestsum-reruns.xml")]).expect("converts");
    assert_valid(&r);
    let put = r
        .all_tests()
        .find(|t| t.test.title == "TestPut")
        .expect("TestPut");
    let statuses: Vec<_> = put.test.attempts.iter().map(|a| a.status()).collect();
    assert_eq!(statuses, [TestStatus::Failed, TestStatus::Passed]);
    assert_eq!(r.all_tests().count(), 2);
    insta::assert_snapshot!("gotestsum_reruns", snapshot(r));
}

#[test]
fn pytest_gtest_and_ctest_dialects() {
    let r = convert(&[input("pytest-xunit1-gtest-ctest.xml")]).expect("converts");
    assert_valid(&r);
    let t = |title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"))
    };
    let add = t("test_add[1-2]");
    let loc = add.test.location.as_ref().expect("location from file/line");
    assert_eq!((loc.file.as_str(), loc.line), ("tests/test_math.py", 9));
    let div = t("test_div");
    let a = &div.test.attempts[0];
    assert_eq!(a.status(), TestStatus::Skipped);
    let out = a.stdio.as_ref().expect("stdio")[0]
        .text
        .clone()
        .expect("text");
    assert_eq!(out, "captured <stdout> & more ©");
    assert_eq!(
        t("DISABLED_Overflow").test.attempts[0].status(),
        TestStatus::Skipped
    );
    assert_eq!(
        t("integration_db").test.attempts[0].status(),
        TestStatus::Skipped
    );
    let divides = &t("Divides").test.attempts[0];
    assert_eq!(divides.status(), TestStatus::Failed);
    assert!(divides.errors.as_ref().expect("errors")[0]
        .stack
        .as_deref()
        .expect("stack")
        .contains("Expected equality"));
    insta::assert_snapshot!("pytest_gtest_ctest", snapshot(r));
}

#[test]
fn entities_are_never_expanded() {
    let r = convert(&[input("doctype-entities.xml")]).expect("converts");
    assert_valid(&r);
    let t = r.all_tests().next().expect("test");
    let e = &t.test.attempts[0].errors.as_ref().expect("errors")[0];
    let text = format!("{:?}", e);
    assert!(!text.contains("lollol"), "entity expanded: {text}");
    assert!(!text.contains("root:"), "external entity read: {text}");
}

#[test]
fn bad_inputs_get_located_errors() {
    for (name, want) in [
        ("truncated.xml", "truncated XML"),
        ("latin1.xml", "encoding \"iso-8859-1\" is not supported"),
        ("html.xml", "root element is <html>"),
        ("empty.xml", "no element found"),
    ] {
        let err = convert(&[input(name)]).expect_err(name);
        assert!(err.message.contains(want), "{name}: {err}");
        assert!(err.line >= 1 && err.column >= 1, "{name}: {err}");
        assert!(err.to_string().starts_with(name), "{err}");
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!(
        "{}{}",
        "<testsuite name=\"x\">".repeat(50_000),
        "</testsuite>".repeat(50_000)
    );
    let mut c = JunitCollector::default();
    let err = c
        .read(deep.as_bytes(), "deep.xml", 0.0, &Limits::default())
        .expect_err("too deep");
    assert!(err.message.contains("nested deeper"), "{err}");
}

#[test]
fn long_output_is_truncated_with_a_marker() {
    let xml = format!(
        "<testsuite name=\"s\"><testcase name=\"t\" classname=\"s\"><system-out>{}</system-out></testcase></testsuite>",
        "x".repeat(10_000)
    );
    let mut c = JunitCollector::default();
    c.read(
        xml.as_bytes(),
        "big.xml",
        0.0,
        &Limits {
            max_output_bytes: 100,
        },
    )
    .expect("reads");
    let r = junit_report(c, &meta(), 0.0);
    let text = r.all_tests().next().expect("t").test.attempts[0]
        .stdio
        .as_ref()
        .expect("out")[0]
        .text
        .clone()
        .expect("text");
    assert!(text.starts_with(&"x".repeat(100)));
    assert!(text.contains("truncated"), "{text}");
    assert!(text.len() < 200);
}

/// Every real JUnit file of the shared corpus converts to a valid report, except the ones that
/// are corrupt on purpose, which get a located error. Skips when the corpus is absent.
#[test]
fn shared_corpus_converts() {
    let corpus = repo().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let files: Vec<PathBuf> = flakiness_convert::expand_input(&corpus)
        .expect("walk")
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "xml"))
        .collect();
    assert!(files.len() > 50);
    let mut converted = 0;
    for f in files {
        // Broken or not JUnit on purpose: these must fail, with a location.
        let corrupt = ["corrupt", "non-junit"]
            .iter()
            .any(|k| f.to_string_lossy().contains(k));
        match convert(std::slice::from_ref(&f)) {
            Ok(r) => {
                assert!(
                    !corrupt,
                    "{}: converted, but it is broken on purpose",
                    f.display()
                );
                assert_valid(&r);
                converted += 1;
            }
            Err(e) => {
                assert!(corrupt, "{}: {e}", f.display());
                assert!(e.line >= 1);
            }
        }
    }
    assert!(converted > 50);
}

fn outcomes(r: &Report) -> Vec<(String, Vec<TestStatus>)> {
    r.all_tests()
        .map(|t| {
            let class = t.suites.last().map(|s| s.title.clone()).unwrap_or_default();
            (
                format!("{class}::{}", t.test.title),
                t.test.attempts.iter().map(|a| a.status()).collect(),
            )
        })
        .collect()
}

/// Real output of pytest 9.2 + pytest-rerunfailures (`--reruns 2`, testdata/inputs/RECORD.md):
/// reruns are written as empty testcases, which must not read as passes.
#[test]
fn pytest_rerunfailures_junit_keeps_failed_reruns() {
    use TestStatus::{Failed as F, Passed as P, Skipped as S};
    for family in ["junit-xunit1.xml", "junit-xunit2.xml"] {
        let r = convert(&[repo().join("testdata/inputs/pytest").join(family)]).expect("converts");
        assert_valid(&r);
        let got = outcomes(&r);
        let want = |name: &str| {
            got.iter()
                .find(|(n, _)| n.ends_with(name))
                .map(|(_, s)| s.clone())
        };
        assert_eq!(want("test_basic::test_passes"), Some(vec![P]), "{family}");
        assert_eq!(
            want("test_basic::test_fails"),
            Some(vec![F, F, F]),
            "{family}"
        );
        assert_eq!(
            want("test_outcomes::test_flaky"),
            Some(vec![F, P]),
            "{family}"
        );
        assert_eq!(
            want("test_outcomes::test_skipped"),
            Some(vec![S]),
            "{family}"
        );
        assert_eq!(
            want("test_outcomes::test_xpass_strict"),
            Some(vec![F, F, F]),
            "{family}"
        );
        assert_eq!(got.len(), 17, "{family}: {got:?}");
    }
}

/// Real cargo-nextest JUnit with `retries = 2` (testdata/inputs/RECORD.md).
#[test]
fn nextest_junit_retries() {
    use TestStatus::{Failed as F, Passed as P};
    let r = convert(&[repo().join("testdata/inputs/cargo/nextest-junit.xml")]).expect("converts");
    assert_valid(&r);
    let got = outcomes(&r);
    let want = |name: &str| {
        got.iter()
            .find(|(n, _)| n.ends_with(name))
            .map(|(_, s)| s.clone())
    };
    assert_eq!(want("::tests::flaky"), Some(vec![F, P]));
    assert_eq!(want("::tests::add_works"), Some(vec![P]));
    assert_eq!(want("::tests::assert_eq_fails"), Some(vec![F, F, F]));
    insta::assert_snapshot!("nextest_junit", snapshot(r));
}
