//! JUnit inputs we wrote (testdata/junit) and, when present, the shared corpus of real files.

use std::path::{Path, PathBuf};

use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata, RootSink};
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

/// The titles of a report's tests (with their suites) and the statuses of their attempts.
fn statuses_by_title(r: &Report) -> Vec<(String, Vec<TestStatus>)> {
    r.all_tests()
        .map(|t| {
            let mut path: Vec<&str> = t.suites.iter().map(|s| s.title.as_str()).collect();
            path.push(&t.test.title);
            let statuses = t.test.attempts.iter().map(|a| a.status()).collect();
            (path.join("/"), statuses)
        })
        .collect()
}

fn recorded(path: &str) -> PathBuf {
    repo().join("testdata/inputs").join(path)
}

/// TestNG's JUnit report (recorded: testdata/inputs/testng) repeats a name for each row of a
/// data provider, and writes an attempt its retry analyzer reruns as a bare `<skipped/>`
/// followed by the rerun. Rows are tests of their own (`addition #3`: the one wrong row fails
/// alone, no flake), a retried test is one test whose skipped attempt was a failure.
#[test]
fn repeated_testcases_testng_data_provider_rows_and_retries() {
    let path = recorded("testng/testng-junitreports.xml");
    let r = convert(std::slice::from_ref(&path)).expect("converts");
    assert_valid(&r);
    use TestStatus::*;
    let c = "sample.CalculatorTest";
    let want: Vec<(String, Vec<TestStatus>)> = [
        ("broken", vec![Failed, Failed]),
        ("skipped", vec![Skipped]),
        ("passes", vec![Passed]),
        ("flaky", vec![Failed, Passed]),
        ("addition", vec![Passed]),
        ("nonEmpty", vec![Passed]),
        ("addition #2", vec![Failed]),
        ("nonEmpty #2", vec![Passed]),
        ("addition #3", vec![Passed]),
        ("nonEmpty #3", vec![Passed]),
        ("addition #4", vec![Passed]),
    ]
    .into_iter()
    .map(|(t, v)| (format!("{c}/{t}"), v))
    .collect();
    assert_eq!(statuses_by_title(&r), want);
    let flaky = r
        .all_tests()
        .find(|t| t.test.title == "flaky")
        .expect("flaky");
    assert!(flaky.test.is_flaky());
    let first = &flaky.test.attempts[0];
    assert!(first.errors.is_none(), "no reason is invented");
    assert!(first
        .annotations
        .iter()
        .flatten()
        .any(|a| a.kind == "flakiness-inferred"));
    // The real skip keeps its annotation and status.
    let skipped = r
        .all_tests()
        .find(|t| t.test.title == "skipped")
        .expect("skip");
    assert!(skipped.test.attempts[0]
        .annotations
        .iter()
        .flatten()
        .all(|a| a.kind == "skip"));
    // The same file twice (two runs): each row gathers its attempts, never reruns.
    let r = convert(&[path.clone(), path]).expect("converts");
    let twice = statuses_by_title(&r);
    assert_eq!(twice.len(), 11);
    assert!(twice.contains(&(format!("{c}/addition #3"), vec![Passed, Passed])));
    assert!(twice.contains(&(format!("{c}/addition #2"), vec![Failed, Failed])));
    assert!(twice.contains(&(format!("{c}/flaky"), vec![Failed, Passed, Failed, Passed])));
}

/// Testcases of one identity in one file that cannot be reruns (one passed and another
/// followed) are tests of their own; when they are found to be so late, what was read as a
/// retried bare skip is a skip again. Runners whose JUnit never holds reruns (Jest's, here)
/// make every repeat a test of its own, even after a failure.
#[test]
fn repeated_testcases_that_cannot_be_reruns_are_tests() {
    use TestStatus::*;
    let read = |xml: &str| {
        let mut c = JunitCollector::default();
        c.read(xml.as_bytes(), "r.xml", FALLBACK_MS, &Limits::default())
            .expect("reads");
        let r = junit_report(c, &meta(), FALLBACK_MS);
        assert_valid(&r);
        r
    };
    let generic = read(
        r#"<testsuite name="S">
        <testcase name="a"><skipped/></testcase>
        <testcase name="a"/>
        <testcase name="a"><skipped/></testcase>
        <testcase name="b"><failure/></testcase>
        <testcase name="b"><failure/></testcase>
        <testcase name="b"/>
    </testsuite>"#,
    );
    assert_eq!(
        statuses_by_title(&generic),
        [
            ("S/a".to_string(), vec![Skipped]),
            ("S/a #2".to_string(), vec![Passed]),
            ("S/a #3".to_string(), vec![Skipped]),
            ("S/b".to_string(), vec![Failed, Failed, Passed]),
        ]
    );
    let a = generic
        .all_tests()
        .find(|t| t.test.title == "a")
        .expect("a");
    assert!(a.test.attempts[0]
        .annotations
        .iter()
        .flatten()
        .all(|x| x.kind == "skip"));
    // jest-junit with its default `{title}` names: two describe blocks' `works`.
    let jest = read(
        r#"<testsuites name="jest tests"><testsuite name="x.test.js">
        <testcase classname="works" name="works"><failure>boom</failure></testcase>
        <testcase classname="works" name="works"/>
    </testsuite></testsuites>"#,
    );
    assert_eq!(
        statuses_by_title(&jest),
        [
            ("x.test.js/works".to_string(), vec![Failed]),
            ("x.test.js/works #2".to_string(), vec![Passed]),
        ]
    );
}

/// nextest's stress runs (recorded: `--stress-count 3`) write each iteration as suites
/// `BINARY@stress-N`: the iterations are attempts of one test in the binary's suite, so that
/// a test failing in one iteration only is flaky. Streaming gives the same report, without
/// reading again.
#[test]
fn repeated_testcases_nextest_stress_iterations_are_attempts() {
    let path = recorded("cargo/nextest-stress-junit.xml");
    let r = convert(std::slice::from_ref(&path)).expect("converts");
    assert_valid(&r);
    let got = statuses_by_title(&r);
    assert_eq!(got.len(), 12, "{got:?}");
    assert!(r
        .suites
        .iter()
        .flatten()
        .map(|s| s.title.as_str())
        .eq(["cargo-sample", "cargo-sample::integration"]));
    use TestStatus::*;
    let of = |t: &str| &got.iter().find(|(p, _)| p == t).expect(t).1;
    assert_eq!(
        of("cargo-sample/tests::flaky"),
        &[Failed, Passed, Passed, Passed]
    );
    assert_eq!(of("cargo-sample/tests::add_works"), &[Passed; 3]);
    assert_eq!(
        of("cargo-sample::integration/integration_fails"),
        &[Failed; 9],
        "3 iterations of 3 attempts"
    );
    let data = std::fs::read(&path).expect("read");
    let one = [(path.display().to_string(), data)];
    let (streamed, n, again) = convert_streaming(&one);
    assert!(!again && n == 2, "streamed {n}, again {again}");
    assert_eq!(streamed, convert_whole(&one));
}

/// Identity within one suite: a testcase with the suite's own name as classname and one with no
/// classname are different tests, even with the same name; each repeats as its own reruns, and
/// the same name in another class is another test again.
#[test]
fn identity_within_a_suite_is_the_class_and_the_name() {
    let xml = r#"<testsuite name="pkg.S">
        <testcase classname="pkg.S" name="t"><failure message="a"/></testcase>
        <testcase name="t"/>
        <testcase classname="pkg.S" name="t"/>
        <testcase classname="pkg.Other" name="t"><skipped/></testcase>
        <testcase name="t"><failure message="b"/></testcase>
    </testsuite>"#;
    let mut c = JunitCollector::default();
    c.read(xml.as_bytes(), "ids.xml", FALLBACK_MS, &Limits::default())
        .expect("reads");
    let r = junit_report(c, &meta(), FALLBACK_MS);
    assert_valid(&r);
    let mut seen: Vec<(Vec<String>, Vec<TestStatus>)> = r
        .all_tests()
        .map(|t| {
            let mut path: Vec<String> = t.suites.iter().map(|s| s.title.clone()).collect();
            path.push(t.test.title.clone());
            (path, t.test.attempts.iter().map(|a| a.status()).collect())
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    use TestStatus::*;
    // A classname that repeats its suite's name adds nothing: one identity, as without it.
    // Its four testcases are not reruns (the second passed and more followed): four tests.
    assert_eq!(
        seen,
        [
            (s(&["pkg.S", "pkg.Other", "t"]), vec![Skipped]),
            (s(&["pkg.S", "t"]), vec![Failed]),
            (s(&["pkg.S", "t #2"]), vec![Passed]),
            (s(&["pkg.S", "t #3"]), vec![Passed]),
            (s(&["pkg.S", "t #4"]), vec![Failed]),
        ]
    );
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
        ("html.xml", "root element is <html>"),
        ("empty.xml", "no element found"),
    ] {
        let err = convert(&[input(name)]).expect_err(name);
        assert!(err.message.contains(want), "{name}: {err}");
        assert!(err.line >= 1 && err.column >= 1, "{name}: {err}");
        assert!(err.to_string().starts_with(name), "{err}");
    }
    // Encodings other than UTF-8 and the single-byte sets: a clear error at the declaration.
    let sjis = b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<testsuite name=\"\x83e\"/>";
    let mut c = JunitCollector::default();
    let err = c
        .read(&sjis[..], "sjis.xml", 0.0, &Limits::default())
        .expect_err("shift_jis")
        .locate(sjis);
    assert!(
        err.message
            .contains("encoding \"shift_jis\" is not supported"),
        "{err}"
    );
    assert_eq!(err.line, 1, "{err}");
    for utf16 in [&b"\xFF\xFE<\0?\0x\0"[..], b"\xFE\xFF\0<\0?\0x", b"<\0t\0"] {
        let err = JunitCollector::default()
            .read(utf16, "u16.xml", 0.0, &Limits::default())
            .expect_err("utf-16");
        assert!(err.message.contains("UTF-16"), "{err}");
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
            ..Limits::default()
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

/// Collects the root suites handed out while streaming.
#[derive(Default)]
struct Collect(Vec<flakiness_report::Suite>);

impl RootSink for Collect {
    fn root_suite(&mut self, suite: flakiness_report::Suite) -> std::ops::ControlFlow<()> {
        self.0.push(suite);
        std::ops::ControlFlow::Continue(())
    }
}

/// Reads `inputs` (name, content) streaming; the report with the streamed suites put back in
/// front, and whether the collector asked to read again.
fn convert_streaming(inputs: &[(String, Vec<u8>)]) -> (Report, usize, bool) {
    let mut c = JunitCollector::default();
    let mut out = Collect::default();
    for (name, data) in inputs {
        c.read_streaming(
            data.as_slice(),
            name,
            FALLBACK_MS,
            &Limits::default(),
            &mut out,
        )
        .expect("reads");
    }
    let again = c.needs_rereading();
    let mut r = junit_report(c, &meta(), FALLBACK_MS);
    let streamed = out.0.len();
    let mut suites = out.0;
    suites.extend(r.suites.take().into_iter().flatten());
    r.suites = (!suites.is_empty()).then_some(suites);
    (r, streamed, again)
}

/// Takes `left` root suites, then stops (an output that cannot be written).
struct StopAfter {
    left: usize,
    taken: usize,
}

impl RootSink for StopAfter {
    fn root_suite(&mut self, _suite: flakiness_report::Suite) -> std::ops::ControlFlow<()> {
        if self.left == 0 {
            return std::ops::ControlFlow::Break(());
        }
        self.left -= 1;
        self.taken += 1;
        std::ops::ControlFlow::Continue(())
    }
}

/// Many root suites of `cases` testcases each (enough for several batches of the thread that
/// builds them while streaming).
fn many_roots(roots: usize, cases: usize) -> String {
    let mut xml = String::from("<testsuites>");
    for r in 0..roots {
        xml.push_str(&format!("<testsuite name=\"S{r}\">"));
        for c in 0..cases {
            xml.push_str(&format!(
                "<testcase classname=\"S{r}\" name=\"t{c}\" time=\"0.1\"/>"
            ));
        }
        xml.push_str("</testsuite>");
    }
    xml.push_str("</testsuites>");
    xml
}

/// Reads the document `xml` streaming into `sink`.
fn stream_into(
    c: &mut JunitCollector,
    xml: &str,
    sink: &mut (dyn RootSink + Send),
) -> Result<(), flakiness_convert::ConvertError> {
    c.read_streaming(
        xml.as_bytes(),
        "j.xml",
        FALLBACK_MS,
        &Limits::default(),
        sink,
    )
}

/// A sink that stops while the suites are built on their own thread stops the reading with
/// an error (early, late or at the very last suite), and nothing hangs.
#[test]
fn streaming_stops_when_the_sink_stops() {
    let xml = many_roots(300, 20);
    for left in [0, 1, 150, 299] {
        let mut c = JunitCollector::default();
        let mut sink = StopAfter { left, taken: 0 };
        let err = stream_into(&mut c, &xml, &mut sink).expect_err("the sink stopped");
        assert!(err.message.contains("could not be written"), "{err}");
        assert_eq!(sink.taken, left);
    }
    // All taken: no error.
    let mut c = JunitCollector::default();
    let mut sink = StopAfter {
        left: 300,
        taken: 0,
    };
    stream_into(&mut c, &xml, &mut sink).expect("reads");
    assert_eq!(sink.taken, 300);
    assert_eq!(c.testcases, 6000);
}

/// Malformed XML after many suites were handed to the building thread is still reported
/// where it is, and the suites before it were handed out in order.
#[test]
fn streaming_reports_a_late_parse_error() {
    let mut xml = many_roots(200, 20);
    xml.truncate(xml.len() - "</testsuites>".len());
    xml.push_str("<testsuite name=\"bad\"><testcase name=\"x\"></testsuite></testsuites>");
    let mut c = JunitCollector::default();
    let mut out = Collect::default();
    let err = stream_into(&mut c, &xml, &mut out).expect_err("malformed");
    assert!(err.message.contains("malformed XML"), "{err}");
    let titles: Vec<String> = out.0.iter().map(|s| s.title.clone()).collect();
    let expected: Vec<String> = (0..200).map(|r| format!("S{r}")).collect();
    assert_eq!(titles, expected);
}

fn convert_whole(inputs: &[(String, Vec<u8>)]) -> Report {
    let mut c = JunitCollector::default();
    for (name, data) in inputs {
        c.read(data.as_slice(), name, FALLBACK_MS, &Limits::default())
            .expect("reads");
    }
    junit_report(c, &meta(), FALLBACK_MS)
}

/// Streaming root suites out as they end gives the same report as reading everything, for
/// every valid JUnit input we have (and the shared corpus when present), one file at a time
/// and all of one folder together.
#[test]
fn streaming_gives_the_same_report() {
    let mut folders = vec![
        repo().join("testdata/junit"),
        repo().join("testdata/inputs/pytest"),
    ];
    let corpus = repo().join("../shared/corpus");
    if corpus.is_dir() {
        folders.push(corpus);
    }
    let mut streamed_total = 0;
    for folder in folders {
        let mut good = Vec::new();
        for f in flakiness_convert::expand_input(&folder).expect("walk") {
            if f.extension().is_none_or(|e| e != "xml") {
                continue;
            }
            let data = std::fs::read(&f).expect("read");
            let name = f.display().to_string();
            let mut c = JunitCollector::default();
            if c.read(data.as_slice(), &name, FALLBACK_MS, &Limits::default())
                .is_err()
            {
                continue; // broken on purpose
            }
            let one = [(name, data)];
            let (r, streamed, again) = convert_streaming(&one);
            assert!(!again, "{}", f.display());
            assert_eq!(r, convert_whole(&one), "{}", f.display());
            streamed_total += streamed;
            good.extend(one);
        }
        let (r, _, again) = convert_streaming(&good);
        if !again {
            assert_eq!(r, convert_whole(&good), "{}", folder.display());
        }
    }
    assert!(streamed_total > 5, "suites were streamed: {streamed_total}");
}

/// What streaming cannot do alone: a second root of the same name (its tests merge into the
/// first, already handed out) or a pytest document after others (its suites are regrouped)
/// asks for a whole reading; a root held back behind an open one keeps the order.
#[test]
fn streaming_asks_to_read_again_when_a_suite_comes_back() {
    let doc = |suite: &str, test: &str, fail: bool| {
        let body = if fail { "<failure message=\"x\"/>" } else { "" };
        format!(
            r#"<testsuites><testsuite name="{suite}"><testcase classname="{suite}" name="{test}">{body}</testcase></testsuite></testsuites>"#
        )
        .into_bytes()
    };
    let inputs = [
        ("a.xml".to_string(), doc("pkg.A", "t", true)),
        ("b.xml".to_string(), doc("pkg.B", "t", false)),
        ("a2.xml".to_string(), doc("pkg.A", "t", false)),
    ];
    let (_, streamed, again) = convert_streaming(&inputs);
    assert!(again);
    assert_eq!(streamed, 2);
    let whole = convert_whole(&inputs);
    let a = whole
        .all_tests()
        .find(|t| t.suites[0].title == "pkg.A")
        .expect("pkg.A");
    let statuses: Vec<_> = a.test.attempts.iter().map(|x| x.status()).collect();
    assert_eq!(statuses, [TestStatus::Failed, TestStatus::Passed]);

    let pytest = br#"<testsuites name="pytest tests"><testsuite name="pytest"><testcase classname="tests.test_x" name="test_y" file="tests/test_x.py" line="3"/></testsuite></testsuites>"#;
    let (_, _, again) = convert_streaming(&[
        ("a.xml".to_string(), doc("pkg.A", "t", true)),
        ("p.xml".to_string(), pytest.to_vec()),
    ]);
    assert!(again, "pytest after a streamed suite");
    let (r, streamed, again) = convert_streaming(&[("p.xml".to_string(), pytest.to_vec())]);
    assert!(!again);
    assert_eq!(streamed, 0, "pytest suites are regrouped at the end");
    assert_eq!(r.all_tests().count(), 1);

    // A testcase outside any suite opens a root of its class, complete only at the end: the
    // suites after it wait, so the order is the document's.
    let loose = br#"<testsuites><testcase classname="pkg.Loose" name="t"/><testsuite name="pkg.S"><testcase classname="pkg.S" name="u"/></testsuite></testsuites>"#;
    let one = [("l.xml".to_string(), loose.to_vec())];
    let (r, streamed, again) = convert_streaming(&one);
    assert!(!again);
    assert_eq!(streamed, 0);
    assert_eq!(r, convert_whole(&one));
    let titles: Vec<_> = r
        .suites
        .iter()
        .flatten()
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(titles, ["pkg.Loose", "pkg.S"]);
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
        assert_eq!(
            want("test_basic.py::test_passes"),
            Some(vec![P]),
            "{family}"
        );
        assert_eq!(
            want("test_basic.py::test_fails"),
            Some(vec![F, F, F]),
            "{family}"
        );
        assert_eq!(
            want("test_outcomes.py::test_flaky"),
            Some(vec![F, P]),
            "{family}"
        );
        assert_eq!(
            want("test_outcomes.py::test_skipped"),
            Some(vec![S]),
            "{family}"
        );
        assert_eq!(
            want("test_outcomes.py::test_xpass_strict"),
            Some(vec![F, F, F]),
            "{family}"
        );
        assert_eq!(got.len(), 17, "{family}: {got:?}");
    }
}

/// The attempts of `title` (the first test whose `Class::title` ends so).
fn attempts_of<'a>(r: &'a Report, title: &str) -> &'a [flakiness_report::RunAttempt] {
    r.all_tests()
        .find(|t| {
            let class = t.suites.last().map(|s| s.title.as_str()).unwrap_or("");
            format!("{class}::{}", t.test.title).ends_with(title)
        })
        .map(|t| t.test.attempts.as_slice())
        .unwrap_or_else(|| panic!("no test {title}"))
}

/// The messages of an attempt's errors.
fn messages(a: &flakiness_report::RunAttempt) -> Vec<&str> {
    a.errors
        .iter()
        .flatten()
        .filter_map(|e| e.message.as_deref())
        .collect()
}

/// A failed attempt the converter inferred: no error of its own (nothing invented), only the
/// annotation saying why it is failed.
fn assert_inferred(a: &flakiness_report::RunAttempt) {
    assert_eq!(a.status(), TestStatus::Failed);
    assert!(a.errors.is_none(), "{:?}", a.errors);
    let kinds: Vec<_> = a.annotations.iter().flatten().map(|x| &x.kind).collect();
    assert_eq!(kinds, ["flakiness-inferred"]);
}

/// pytest-rerunfailures' empty testcases are failed attempts without an invented message.
#[test]
fn pytest_rerunfailures_junit_reruns_invent_no_message() {
    for family in ["junit-xunit1.xml", "junit-xunit2.xml"] {
        let r = convert(&[repo().join("testdata/inputs/pytest").join(family)]).expect("converts");
        let fails = attempts_of(&r, "test_basic.py::test_fails");
        assert_inferred(&fails[0]);
        assert_inferred(&fails[1]);
        assert_eq!(
            messages(&fails[2]),
            ["AssertionError: arithmetic is broken\nassert (2 * 2) == 5"],
            "{family}"
        );
        let flaky = attempts_of(&r, "test_outcomes.py::test_flaky");
        assert_inferred(&flaky[0]);
        assert_eq!(flaky[1].status(), TestStatus::Passed);
        let invented = r
            .all_tests()
            .flat_map(|t| t.test.attempts.iter())
            .flat_map(messages)
            .find(|m| m.contains("does not record why"));
        assert_eq!(invented, None, "{family}");
    }
}

/// A pytest junitxml document of tests `(name, failure message)`.
fn pytest_doc(tests: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut xml = String::from(r#"<testsuites name="pytest tests"><testsuite name="pytest">"#);
    for (name, failure) in tests {
        xml.push_str(&format!(
            r#"<testcase classname="tests.test_x" name="{name}" file="tests/test_x.py" line="1" time="0.01">"#
        ));
        if let Some(m) = failure {
            xml.push_str(&format!(r#"<failure message="{m}">trace of {m}</failure>"#));
        }
        xml.push_str("</testcase>");
    }
    xml.push_str("</testsuite></testsuites>");
    xml.into_bytes()
}

/// Two pytest junitxml files of the same tests (two runs, or overlapping shards) are not
/// reruns of each other: their attempts add up, and nothing is invented.
#[test]
fn pytest_junit_files_of_the_same_passing_tests_stay_passed() {
    use TestStatus::Passed as P;
    let passing = [("test_a", None), ("test_b", None), ("test_c", None)];
    let r = convert_whole(&[
        ("a.xml".to_string(), pytest_doc(&passing)),
        ("b.xml".to_string(), pytest_doc(&passing)),
    ]);
    assert_valid(&r);
    assert_eq!(r.all_tests().count(), 3);
    for t in r.all_tests() {
        let statuses: Vec<_> = t.test.attempts.iter().map(|a| a.status()).collect();
        assert_eq!(statuses, [P, P], "{}", t.test.title);
        assert_eq!(t.test.outcome(), flakiness_report::TestOutcome::Expected);
    }
    let json = serde_json::to_string(&r).expect("json");
    assert!(!json.contains("rerun"), "{json}");
    assert!(!json.contains("flakiness-inferred"), "{json}");
}

/// A test that failed in one file and passed in the other keeps both results as written: a
/// real disagreement, in file order, with nothing invented.
#[test]
fn pytest_junit_files_that_disagree_keep_both_results() {
    use TestStatus::{Failed as F, Passed as P};
    let first = [("test_a", Some("boom")), ("test_b", None), ("test_c", None)];
    let second = [("test_a", None), ("test_b", Some("bang")), ("test_c", None)];
    let r = convert_whole(&[
        ("a.xml".to_string(), pytest_doc(&first)),
        ("b.xml".to_string(), pytest_doc(&second)),
    ]);
    assert_valid(&r);
    let statuses = |t: &str| -> Vec<_> { attempts_of(&r, t).iter().map(|a| a.status()).collect() };
    assert_eq!(statuses("test_a"), [F, P]);
    assert_eq!(statuses("test_b"), [P, F]);
    assert_eq!(statuses("test_c"), [P, P]);
    let a = attempts_of(&r, "test_a");
    assert_eq!(messages(&a[0]), ["boom"]);
    let b = attempts_of(&r, "test_b");
    assert_eq!(messages(&b[1]), ["bang"]);
    for t in r.all_tests() {
        for (i, x) in t.test.attempts.iter().enumerate() {
            assert!(x.annotations.is_none(), "{} #{i}", t.test.title);
            assert_eq!(x.errors.is_some(), x.status() == F, "{} #{i}", t.test.title);
        }
    }
}

/// The real recording (with pytest-rerunfailures' reruns) read twice: each file's attempts
/// are the ones that file alone gives, one file after the other.
#[test]
fn pytest_junit_recording_read_twice_doubles_its_attempts() {
    for family in ["junit-xunit1.xml", "junit-xunit2.xml"] {
        let path = repo().join("testdata/inputs/pytest").join(family);
        let alone = outcomes(&convert(std::slice::from_ref(&path)).expect("converts"));
        let twice = convert(&[path.clone(), path]).expect("converts");
        assert_valid(&twice);
        let doubled: Vec<_> = alone
            .into_iter()
            .map(|(n, s)| (n, [s.clone(), s].concat()))
            .collect();
        assert_eq!(outcomes(&twice), doubled, "{family}");
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

/// ISO-8859-1 and windows-1252 documents are transcoded while they stream.
#[test]
fn single_byte_encodings_are_transcoded() {
    let r = convert(&[input("latin1.xml"), input("windows-1252.xml")]).expect("converts");
    assert_valid(&r);
    let titles: Vec<_> = r.all_tests().map(|t| t.full_name()).collect();
    assert_eq!(titles, ["t › café", "CaféTests › prices"]);
    let prices = r.all_tests().nth(1).expect("prices");
    let e = &prices.test.attempts[0].errors.as_ref().expect("errors")[0];
    assert_eq!(
        e.message.as_deref(),
        Some("AssertionError: expected \u{201C}€12\u{201D}, got \u{201C}€13\u{201D}")
    );
    assert_eq!(
        e.stack.as_deref(),
        Some("expected \u{201C}€12\u{201D} \u{2013} got \u{201C}€13\u{201D}")
    );
    insta::assert_snapshot!("single_byte_encodings", snapshot(r));
    // True ISO-8859-1 keeps 0x80-0x9F as C1 controls; US-ASCII reads as windows-1252.
    for (enc, want) in [
        ("ISO-8859-1", "\u{93}x\u{94}"),
        ("us-ascii", "\u{201C}x\u{201D}"),
    ] {
        let mut xml =
            format!("<?xml version='1.0' encoding='{enc}'?><testcase name='").into_bytes();
        xml.extend_from_slice(b"\x93x\x94'/>");
        let mut c = JunitCollector::default();
        c.read(xml.as_slice(), "x.xml", 0.0, &Limits::default())
            .expect(enc);
        let r = junit_report(c, &meta(), 0.0);
        assert_eq!(r.all_tests().next().expect("t").test.title, want, "{enc}");
    }
}

/// Errors in a transcoded document point at the input's own lines and columns.
#[test]
fn errors_in_latin1_documents_are_located_in_the_input() {
    let xml: &[u8] = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<testsuite name=\"\xe9\xe9\xe9\xe9\xe9\xe9\">\n<testcase name=\"\xe9\xe9\"></wrong></testsuite>\n";
    let err = JunitCollector::default()
        .read(xml, "l1.xml", 0.0, &Limits::default())
        .expect_err("mismatched end tag")
        .locate(xml);
    assert_eq!((err.line, err.column), (3, 21), "{err}");
    // Past several 64 KiB chunks of accented text.
    let mut big = b"<?xml version=\"1.0\" encoding=\"latin1\"?>\n<testsuite name=\"s\">\n<testcase name=\"t\"><system-out>".to_vec();
    for _ in 0..3_000 {
        big.extend_from_slice(&[0xE9; 99]);
        big.push(b'\n');
    }
    big.extend_from_slice(b"\xe9\xe9</system-out></testcase>\n<bad attr></testsuite>\n");
    let err = JunitCollector::default()
        .read(big.as_slice(), "big.xml", 0.0, &Limits::default())
        .expect_err("mismatched end tag")
        .locate(&big);
    assert_eq!((err.line, err.column), (3004, 11), "{err}");
}

fn convert_at_path(
    path: &Path,
    limits: &Limits,
) -> Result<JunitCollector, flakiness_convert::ConvertError> {
    let data = std::fs::read(path).expect("input");
    let mut c = JunitCollector::default();
    c.read(
        data.as_slice(),
        &path.display().to_string(),
        FALLBACK_MS,
        limits,
    )?;
    Ok(c)
}

/// `[[ATTACHMENT|path]]` lines and `attachment*` properties become attachments with MD5 ids;
/// a missing file is a warning naming the file and line.
#[test]
fn attachments_from_output_lines_and_properties() {
    let dir = input("attachments");
    let c = convert_at_path(&dir.join("junit.xml"), &Limits::default()).expect("converts");
    let png = std::fs::read(dir.join("screenshots/cart-failed.png")).expect("png");
    let log = std::fs::read(dir.join("logs/server.log")).expect("log");
    let (png_id, log_id) = (
        flakiness_report::attachment_id_for(&png),
        flakiness_report::attachment_id_for(&log),
    );
    // One source per distinct file, each the file itself.
    let sources: Vec<_> = c
        .attachments
        .iter()
        .map(|a| (a.id.clone(), a.path.clone()))
        .collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    assert_eq!(sources[0].0, log_id);
    assert_eq!(std::fs::read(&sources[0].1).expect("copy source"), log);
    assert_eq!(sources[1].0, png_id);
    assert_eq!(std::fs::read(&sources[1].1).expect("copy source"), png);
    let warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("junit.xml:19: attachment \"screenshots/missing.png\" not found"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("junit.xml:31: attachment \"screenshots/gone.png\" not found"),
        "{}",
        warnings[1]
    );

    let r = junit_report(c, &meta(), FALLBACK_MS);
    assert_valid(&r);
    let tests: Vec<_> = r.all_tests().collect();
    let names = |a: &flakiness_report::RunAttempt| -> Vec<(String, String, String)> {
        a.attachments
            .iter()
            .flatten()
            .map(|x| (x.name.clone(), x.content_type.clone(), x.id.clone()))
            .collect()
    };
    let checkout = &tests[0].test.attempts[0];
    assert_eq!(
        names(checkout),
        [
            ("server.log".into(), "text/plain".into(), log_id.clone()),
            ("cart-failed.png".into(), "image/png".into(), png_id.clone()),
        ]
    );
    let kinds: Vec<_> = checkout
        .annotations
        .iter()
        .flatten()
        .map(|a| a.kind.as_str())
        .collect();
    assert_eq!(kinds, ["owner"], "attachment properties are no annotations");
    // The lines stay in the output.
    let out = checkout.stdio.as_ref().expect("stdio")[0]
        .text
        .clone()
        .expect("text");
    assert!(
        out.contains("[[ATTACHMENT|screenshots/missing.png]]"),
        "{out}"
    );
    // A flaky attempt's own output attaches to that attempt; a marker inside a line is text.
    let adds = &tests[1].test.attempts;
    assert_eq!(
        names(&adds[0]),
        [("server.log".into(), "text/plain".into(), log_id)]
    );
    assert!(adds[1].attachments.is_none());
    assert!(tests[2].test.attempts[0].attachments.is_none());
    assert!(tests[2].test.attempts[0].annotations.is_none());
    insta::assert_snapshot!("attachments", snapshot(r));
}

/// Paths leading outside the input's folder are refused with the file and line, unless allowed.
#[test]
fn attachments_outside_the_input_folder_are_refused() {
    let dir = input("attachments");
    for (file, line, raw) in [
        (
            "outside-relative.xml",
            6,
            "../../../../../../../../../../etc/passwd",
        ),
        ("outside-absolute.xml", 5, "/etc/hostname"),
        ("outside-sibling.xml", 4, "../latin1.xml"),
    ] {
        let path = dir.join(file);
        let err = convert_at_path(&path, &Limits::default()).expect_err(file);
        assert_eq!(err.line, line, "{err}");
        assert!(
            err.message
                .contains(&format!("attachment {raw:?} is outside the folder")),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("{}:{line}:1: ", path.display())),
            "{err}"
        );
        // Its offset is near: where the element naming the file starts or ends.
        let data = std::fs::read(&path).expect("input");
        let relocated = err.locate(&data);
        assert!(
            relocated.line >= line && relocated.line <= line + 2,
            "{relocated}"
        );
    }
    // Allowed: the sibling is attached; missing files stay warnings.
    let allow = Limits {
        allow_outside_attachments: true,
        ..Limits::default()
    };
    let c = convert_at_path(&dir.join("outside-sibling.xml"), &allow).expect("allowed");
    assert_eq!(c.attachments.len(), 1);
    assert!(c.warnings.is_empty());
}

/// A link inside the folder that leads outside it is refused like the path it leads to.
#[cfg(unix)]
#[test]
fn attachment_links_leading_outside_are_refused() {
    let root = std::env::temp_dir().join(format!("flakiness-junit-links-{}", std::process::id()));
    let inner = root.join("reports");
    std::fs::create_dir_all(&inner).expect("dirs");
    std::fs::write(root.join("secret.txt"), "secret").expect("secret");
    let link = inner.join("innocent.txt");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(root.join("secret.txt"), &link).expect("symlink");
    let xml = inner.join("junit.xml");
    std::fs::write(
        &xml,
        "<testsuite name='s'>\n<testcase name='t'>\n<system-out>\n[[ATTACHMENT|innocent.txt]]\n</system-out></testcase></testsuite>",
    )
    .expect("xml");
    let err = convert_at_path(&xml, &Limits::default()).expect_err("link");
    assert_eq!(err.line, 4, "{err}");
    assert!(err.message.contains("outside the folder"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}

/// Errors without a location get the first stack frame naming a file of the repository.
#[test]
fn error_locations_come_from_stacks() {
    let mut r = convert(&[input("surefire-reruns.xml")]).expect("converts");
    let repo = ["src/test/java/com/acme/CartTest.java", "pom.xml"];
    flakiness_convert::locate_errors(&mut r, |frame| {
        repo.iter()
            .find(|f| f.ends_with(&format!("/{frame}")))
            .map(|f| f.to_string())
    });
    let adds = r
        .all_tests()
        .find(|t| t.test.title == "addsItem")
        .expect("addsItem");
    let located: Vec<_> = adds
        .test
        .attempts
        .iter()
        .flat_map(|a| a.errors.iter().flatten())
        .filter_map(|e| e.location.clone())
        .map(|l| (l.file, l.line, l.column))
        .collect();
    assert_eq!(
        located,
        [("src/test/java/com/acme/CartTest.java".to_string(), 42, 1)]
    );
    assert_valid(&r);
}

/// A failure outranks a skip whatever their order; `<error>` is marked; nameless testcases are
/// tests of their own, never one test with many attempts.
#[test]
fn result_elements_in_any_order_errors_and_nameless_testcases() {
    let r = convert(&[input("result-elements.xml")]).expect("converts");
    assert_valid(&r);
    let t = |title: &str| {
        r.all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"))
            .test
            .clone()
    };
    for title in ["skip then failure", "failure then skip"] {
        let a = &t(title).attempts;
        assert_eq!(a.len(), 1, "{title}");
        assert_eq!(a[0].status(), TestStatus::Failed, "{title}");
        assert_eq!(a[0].errors.as_ref().map(Vec::len), Some(1), "{title}");
    }
    let marked = |a: &flakiness_report::RunAttempt| {
        a.annotations
            .iter()
            .flatten()
            .any(|an| an.kind == "junit-error")
    };
    let errors = &t("errors").attempts[0];
    assert_eq!(errors.status(), TestStatus::Failed);
    assert!(marked(errors));
    assert_eq!(
        errors.errors.as_ref().expect("error")[0].message.as_deref(),
        Some("java.lang.NullPointerException")
    );
    let bare = &t("bare failure").attempts[0];
    assert!(!marked(bare), "a <failure> is no error");
    assert!(bare.errors.as_ref().expect("error")[0].message.is_some());
    let unnamed: Vec<_> = r
        .all_tests()
        .filter(|t| t.test.title.starts_with("(unnamed testcase"))
        .collect();
    assert_eq!(unnamed.len(), 2);
    assert!(unnamed.iter().all(|t| t.test.attempts.len() == 1));
    assert_ne!(unnamed[0].test.title, unnamed[1].test.title);
}

/// The marker ending output cut short.
const TRUNCATED: &str = "\n[… truncated by flakiness: output limit reached]";

/// `data` read with these limits; a failure comes located.
fn read_bytes(
    data: &[u8],
    limits: &Limits,
) -> Result<JunitCollector, flakiness_convert::ConvertError> {
    let mut c = JunitCollector::default();
    c.read(data, "big.xml", FALLBACK_MS, limits)
        .map_err(|e| e.locate(data))?;
    Ok(c)
}

/// Line and column (1-based) of byte `at`.
fn line_col(data: &[u8], at: usize) -> (usize, usize) {
    let before = &data[..at];
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    (
        line,
        1 + String::from_utf8_lossy(&before[start..]).chars().count(),
    )
}

fn find(data: &[u8], what: &str) -> usize {
    data.windows(what.len())
        .position(|w| w == what.as_bytes())
        .unwrap_or_else(|| panic!("{what}"))
}

/// A document whose first testcase's `<system-out>` holds `output`, followed by a testcase
/// that failed and whose output names a missing attachment.
fn big_output_doc(output: &[u8]) -> Vec<u8> {
    let mut doc = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"s\">\n<testcase classname=\"c\" name=\"big\">\n<system-out>".to_vec();
    doc.extend_from_slice(output);
    doc.extend_from_slice(
        b"</system-out>\n</testcase>\n<testcase classname=\"c\" name=\"after\" time=\"1.5\">\n<failure message=\"boom\">at x</failure>\n<system-out>\n[[ATTACHMENT|missing-after-the-cut.png]]\n</system-out>\n</testcase>\n</testsuite>\n",
    );
    doc
}

/// Checks what was kept of a long output (`whole`, as decoded), that the testcase after it
/// is read, and that a warning and an error after it are located exactly.
fn check_cut_output(doc: &[u8], whole: &str, limit: usize) {
    let limits = Limits {
        max_output_bytes: limit,
        ..Limits::default()
    };
    let c = read_bytes(doc, &limits).expect("reads");
    let warnings: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    let (attachment_line, _) = line_col(doc, find(doc, "[[ATTACHMENT|"));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!("big.xml:{attachment_line}: attachment")),
        "{warnings:?}"
    );
    let r = junit_report(c, &meta(), FALLBACK_MS);
    assert_valid(&r);
    let tests: Vec<_> = r.all_tests().collect();
    assert_eq!(tests.len(), 2);
    let out = tests[0].test.attempts[0].stdio.as_ref().expect("stdio")[0]
        .text
        .clone()
        .expect("text");
    assert!(out.len() <= limit + TRUNCATED.len(), "{}", out.len());
    assert!(out.ends_with(TRUNCATED), "{}", &out[out.len() - 100..]);
    let kept = &out[..out.len() - TRUNCATED.len()];
    assert!(whole.starts_with(kept));
    assert!(kept.len() + 100 > limit.min(whole.len()), "{}", kept.len());
    let after = &tests[1].test.attempts[0];
    assert_eq!(tests[1].test.title, "after");
    assert_eq!(after.status(), TestStatus::Failed);
    assert_eq!(
        after.errors.as_ref().expect("error")[0].message.as_deref(),
        Some("boom")
    );
    assert_eq!(after.duration.map(|d| d.0), Some(1500.0));

    // An error after the output: its line and column, as when nothing is cut.
    let wrong = find(doc, "</failure>");
    let mut bad = doc.to_vec();
    bad.splice(
        wrong..wrong + "</failure>".len(),
        b"</wrong>".iter().copied(),
    );
    let err = read_bytes(&bad, &limits).expect_err("mismatched end tag");
    assert!(err.message.contains("malformed XML"), "{err}");
    assert_eq!((err.line, err.column), line_col(&bad, wrong), "{err}");
    let uncut = Limits {
        max_output_bytes: usize::MAX,
        ..Limits::default()
    };
    let err_uncut = read_bytes(&bad, &uncut).expect_err("mismatched end tag");
    assert_eq!(err.offset, err_uncut.offset, "{err} / {err_uncut}");
}

/// A 40 MB `<system-out>` is not held whole: what is kept is the limit and the marker, and
/// everything after it is read and located as usual.
#[test]
fn huge_text_output_is_cut_short_while_reading() {
    let mut output = Vec::new();
    let mut whole = String::new();
    let mut i = 0;
    while output.len() < 40 << 20 {
        // References first (the parser stops at each), then 40 MB without any.
        if i < 1000 {
            let line = format!("{i:08} output &amp; é € &lt;tag&gt; &#233; line\n");
            output.extend_from_slice(line.as_bytes());
            whole.push_str(&format!("{i:08} output & é € <tag> é line\n"));
        } else {
            let line = format!("{i:08} output é € line\n");
            output.extend_from_slice(line.as_bytes());
            whole.push_str(&line);
        }
        i += 1;
    }
    check_cut_output(&big_output_doc(&output), &whole, 1 << 20);

    // What is dropped is not read: a bare `&` 5 MB into the text is an error only when the
    // text is short enough to be read whole.
    let mut output = "x".repeat(5 << 20);
    output.push_str(" & ");
    let doc = big_output_doc(output.as_bytes());
    let small = Limits {
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    read_bytes(&doc, &small).expect("dropped unread");
    let err = read_bytes(&doc, &Limits::default()).expect_err("bare &");
    assert!(err.message.contains("malformed XML"), "{err}");
}

/// The same with a 40 MB CDATA section holding HTML (`<`, `]]`, `]`), ending with `]`.
#[test]
fn huge_cdata_output_is_cut_short_while_reading() {
    let mut content = String::new();
    let mut i = 0;
    while content.len() < 40 << 20 {
        content.push_str(&format!(
            "<div id=\"{i}\">a[i]] = b[c[i]]; é € <br/> ]] > ]</div>\n"
        ));
        i += 1;
    }
    content.push(']');
    let output = format!("<![CDATA[{content}]]>");
    check_cut_output(&big_output_doc(output.as_bytes()), &content, 1 << 20);
}

/// Output made of references only is never held whole by the parser (it stops at each): it is
/// read to the end, not cut short, and kept up to the limit.
#[test]
fn output_of_references_is_read_whole_and_kept_to_the_limit() {
    let output = "&amp;".repeat(2 << 20);
    let doc = big_output_doc(output.as_bytes());
    let limits = Limits {
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    let r = junit_report(read_bytes(&doc, &limits).expect("reads"), &meta(), 0.0);
    let out = r.all_tests().next().expect("t").test.attempts[0]
        .stdio
        .as_ref()
        .expect("stdio")[0]
        .text
        .clone()
        .expect("text");
    let kept = out.strip_suffix(TRUNCATED).unwrap_or(&out);
    assert_eq!(kept.len(), 1 << 20);
    assert!(kept.bytes().all(|b| b == b'&'));
}

/// In a transcoded document, errors after a long output cut short are located in the input.
#[test]
fn latin1_output_cut_short_keeps_locations() {
    let mut doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<testsuite name=\"s\">\n<testcase name=\"t\"><system-out>".to_vec();
    for _ in 0..30_000 {
        doc.extend_from_slice(&[0xE9; 99]);
        doc.push(b'\n');
    }
    doc.extend_from_slice(b"\xe9\xe9</system-out></testcase>\n<testcase name=\"\xe9\"><bad attr></testcase></testsuite>\n");
    let limits = Limits {
        max_output_bytes: 100_000,
        ..Limits::default()
    };
    let err = read_bytes(&doc, &limits).expect_err("mismatched end tag");
    assert_eq!((err.line, err.column), (30_004, 30), "{err}");
    let uncut = read_bytes(&doc, &Limits::default()).expect_err("mismatched end tag");
    assert_eq!(err.offset, uncut.offset);
}

#[test]
fn suite_level_properties_are_kept_in_document_order_and_bounded() {
    let mut xml = String::from(
        r#"<testsuites><properties><property name="commit" value="abc"/></properties>
<testsuite name="s"><properties><property name="env" value="linux &amp; x"/><property name="novalue"/><property name="commit" value="later"/></properties>
<testcase classname="C" name="t"><properties><property name="case-level" value="not here"/></properties></testcase>
"#,
    );
    for i in 0..300 {
        xml.push_str(&format!(
            r#"<properties><property name="p{i}" value="{}"/></properties>"#,
            "v".repeat(2000)
        ));
    }
    xml.push_str("</testsuite></testsuites>");
    let mut c = JunitCollector::default();
    c.read(xml.as_bytes(), "props.xml", FALLBACK_MS, &Limits::default())
        .expect("reads");
    let props = &c.suite_properties;
    assert_eq!(
        props[0],
        ("commit".to_string(), "abc".to_string()),
        "the first value"
    );
    assert_eq!(props.iter().filter(|(k, _)| k == "commit").count(), 1);
    assert_eq!(props[1], ("env".to_string(), "linux & x".to_string()));
    assert_eq!(props[2].0, "p0", "a property without a value is left out");
    assert!(!props.iter().any(|(k, _)| k == "case-level"));
    assert_eq!(props.len(), flakiness_convert::MAX_SUITE_PROPERTIES);
    assert!(props.iter().all(|(_, v)| v.len() <= 1024));
    // The testcase's own property still reaches the test.
    let r = junit_report(c, &meta(), FALLBACK_MS);
    assert_eq!(r.all_tests().count(), 1);
}

/// Issue 16, "a `<failure>`/`<error>` directly under `<testsuite>`": a class that could not
/// start leaves its error in the suite, outside any testcase. It is a failed test named after
/// the suite (so the report is not green and the analyzer sees it), with the error's message,
/// type and stack; the suite's `<system-err>` stays an unattributed error.
#[test]
fn suite_level_failure_is_a_failed_test() {
    let r = convert(&[input("suite-level-error.xml")]).expect("converts");
    assert_valid(&r);
    let failed: Vec<(String, Vec<String>, Option<String>)> = r
        .all_tests()
        .filter(|t| t.test.outcome() == flakiness_report::TestOutcome::Unexpected)
        .map(|t| {
            let e = t.test.attempts[0].errors.as_ref().and_then(|e| e.first());
            (
                t.test.title.clone(),
                t.suite_path().iter().map(|s| s.to_string()).collect(),
                e.and_then(|e| e.message.clone()),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                "com.acme.DatabaseTest".to_string(),
                vec!["com.acme.DatabaseTest".to_string()],
                Some(
                    "java.lang.NoClassDefFoundError: Could not initialize class com.acme.Database"
                        .to_string()
                )
            ),
            (
                "com.acme.CacheTest".to_string(),
                vec!["com.acme.CacheTest".to_string()],
                Some("the test failed (the report gives no message)".to_string())
            ),
        ]
    );
    let db = r
        .all_tests()
        .find(|t| t.test.title == "com.acme.DatabaseTest")
        .expect("test");
    let e = &db.test.attempts[0].errors.as_ref().expect("errors")[0];
    assert!(e
        .stack
        .as_deref()
        .is_some_and(|s| s.contains("DatabaseTest.java:21")));
    assert_eq!(r.all_tests().count(), 3);
    assert!(r
        .unattributed_errors
        .iter()
        .flatten()
        .any(|e| e.message.as_deref() == Some("connection refused: localhost:5432")));
}

/// Issue 16, "attribute values are whitespace-normalised as XML requires": a literal line
/// break (`\r\n` counts once) or tab in an attribute reads as a blank, so that a name written
/// over two lines is one title on every platform; a break written as a reference stays.
#[test]
fn attribute_values_are_whitespace_normalised() {
    let xml = "<testsuite name=\"s\">\r\n  <testcase classname=\"s\" name=\"line one\r\nline\ttwo\nthree&#10;kept\" time=\"0.5\"/>\r\n</testsuite>";
    let mut c = JunitCollector::default();
    c.read(xml.as_bytes(), "crlf.xml", FALLBACK_MS, &Limits::default())
        .expect("reads");
    let r = junit_report(c, &meta(), FALLBACK_MS);
    let titles: Vec<String> = r.all_tests().map(|t| t.test.title.clone()).collect();
    assert_eq!(titles, ["line one line two three\nkept"]);
}
