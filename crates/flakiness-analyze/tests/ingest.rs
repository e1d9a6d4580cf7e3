//! Reports into the store: discovery, bounded reading, validation, summaries, idempotence.

use std::fs;
use std::path::{Path, PathBuf};

use flakiness_analyze::{
    check_and_summarize, discover, failure_kind, ingest_all, load_keyed, load_run, summarize,
    summarize_json, summarize_keyed, AnalyzeError, LoadLimits, Rejected, SourceKind,
};
use flakiness_report::{
    Annotation, Environment, Report, ReportError, RunAttempt, Suite, SuiteType, Test, TestStatus,
};
use flakiness_store::{FailureKind, Outcome, SqliteStore};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn attempt(env: u32, status: TestStatus) -> RunAttempt {
    let mut a = RunAttempt::with_status(status);
    a.environment_idx = Some(env);
    a.duration = Some(flakiness_report::DurationMs(5.0));
    if status != TestStatus::Passed && status != TestStatus::Skipped {
        a.errors = Some(vec![ReportError::message("expected 1 to equal 2")]);
    }
    a
}

/// A report with two environments: a file suite, a nested suite, retries, an expected failure,
/// a skipped test, a timeout and an unexpected exception.
fn report(commit: &str, start: f64) -> Report {
    let mut r = Report::new("junit", commit);
    r.environments = vec![Environment::new("linux"), Environment::new("mac")];
    r.start_timestamp = flakiness_report::UnixTimestampMs(start);
    let mut expected_failure = attempt(0, TestStatus::Failed);
    expected_failure.expected_status = Some(TestStatus::Failed);
    let mut thrown = attempt(0, TestStatus::Failed);
    thrown.errors = Some(vec![ReportError::message("NullPointerException")]);
    thrown.annotations = Some(vec![Annotation {
        kind: "junit-error".into(),
        ..Default::default()
    }]);
    let mut inner = Suite::new(SuiteType::Suite, "login");
    inner.tests = Some(vec![
        Test::new("retried").with_attempts([
            attempt(0, TestStatus::Failed),
            attempt(0, TestStatus::Passed),
            attempt(1, TestStatus::Passed),
        ]),
        Test::new("xfail").with_attempts([expected_failure]),
        Test::new("skipped").with_attempts([attempt(0, TestStatus::Skipped)]),
        Test::new("slow").with_attempts([attempt(1, TestStatus::TimedOut)]),
        Test::new("thrown").with_attempts([thrown]),
    ]);
    let mut file = Suite::new(SuiteType::File, "tests/login.spec.ts");
    file.suites = Some(vec![inner]);
    r.suites = Some(vec![file]);
    r
}

#[test]
fn a_report_becomes_one_result_per_test_and_environment() {
    let r = report(&"a".repeat(40), 1_000.0);
    let run = summarize(&r, "reports/1", "hash");
    assert_eq!(
        (run.meta.commit_id.as_str(), run.meta.start_ms),
        ("a".repeat(40).as_str(), 1_000)
    );
    let got: Vec<(String, &str, Outcome, u32, u32)> = run
        .results
        .iter()
        .map(|t| {
            (
                t.title_path.join(" › "),
                t.environment.as_str(),
                t.outcome,
                t.attempts,
                t.failed_attempts,
            )
        })
        .collect();
    let row = |t: &str, env, o, a, f| (format!("login › {t}"), env, o, a, f);
    assert_eq!(
        got,
        [
            row("retried", "linux", Outcome::Flaky, 2, 1),
            row("retried", "mac", Outcome::Passed, 1, 0),
            row("xfail", "linux", Outcome::Passed, 1, 0),
            row("skipped", "linux", Outcome::Skipped, 0, 0),
            row("slow", "mac", Outcome::Failed, 1, 1),
            row("thrown", "linux", Outcome::Failed, 1, 1),
        ]
    );
    assert!(run.results.iter().all(|t| t.file == "tests/login.spec.ts"));
    let kinds: Vec<FailureKind> = run
        .results
        .iter()
        .flat_map(|t| t.failures.iter().map(|f| f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            FailureKind::Assertion,
            FailureKind::Timeout,
            FailureKind::Uncaught
        ]
    );
    assert_eq!(run.results[0].failures[0].attempt, 0);
    assert_eq!(
        run.results[0].failures[0].message.as_deref(),
        Some("expected 1 to equal 2")
    );
    assert_eq!(run.results[0].duration_ms, Some(10));
}

#[test]
fn failure_kinds_come_from_status_annotation_and_text() {
    let with = |status, message: &str| {
        let mut a = RunAttempt::with_status(status);
        a.errors = Some(vec![ReportError::message(message)]);
        failure_kind(&a)
    };
    assert_eq!(
        with(TestStatus::Failed, "Test timed out after 30000ms"),
        FailureKind::Timeout
    );
    assert_eq!(
        with(TestStatus::Failed, "assertion `left == right` failed"),
        FailureKind::Assertion
    );
    assert_eq!(
        with(
            TestStatus::Failed,
            "thread 'main' panicked at src/lib.rs:3:5: called `Option::unwrap()` on a `None` value"
        ),
        FailureKind::Uncaught
    );
    assert_eq!(
        with(TestStatus::Failed, "TypeError: x is undefined"),
        FailureKind::Uncaught
    );
    assert_eq!(with(TestStatus::Failed, "it broke"), FailureKind::Unknown);
    assert_eq!(
        failure_kind(&RunAttempt::with_status(TestStatus::TimedOut)),
        FailureKind::Timeout
    );
}

fn write_json(path: &Path, r: &Report) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, serde_json::to_vec(r).expect("json")).expect("write");
}

#[test]
fn folders_of_reports_are_ingested_once_and_bad_reports_listed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reports = tmp.path().join("reports");
    // A report directory (its attachments are not reports), a bare file, a compressed one.
    let dir = reports.join("run-1");
    write_json(&dir.join("report.json"), &report(&"1".repeat(40), 1_000.0));
    write_json(
        &dir.join("attachments/trace.json"),
        &report(&"9".repeat(40), 9.0),
    );
    write_json(
        &reports.join("run-2.json"),
        &report(&"2".repeat(40), 2_000.0),
    );
    let zst = reports.join("nested/run-3.json.zst");
    fs::create_dir_all(zst.parent().expect("parent")).expect("mkdir");
    let json = serde_json::to_vec(&report(&"3".repeat(40), 3_000.0)).expect("json");
    fs::write(&zst, zstd::encode_all(json.as_slice(), 3).expect("zstd")).expect("write");
    // Broken on purpose: truncated, and invalid against the schema.
    fs::write(reports.join("truncated.json"), &json[..json.len() / 2]).expect("write");
    fs::write(reports.join("invalid.json"), br#"{"category": "junit"}"#).expect("write");
    fs::write(reports.join("notes.txt"), "not a report").expect("write");

    let sources = discover(std::slice::from_ref(&reports)).expect("discover");
    let found: Vec<(String, SourceKind)> = sources
        .iter()
        .map(|s| {
            (
                s.path
                    .strip_prefix(&reports)
                    .expect("inside")
                    .display()
                    .to_string(),
                s.kind,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("invalid.json".to_string(), SourceKind::Json),
            ("nested/run-3.json.zst".to_string(), SourceKind::JsonZst),
            ("run-1".to_string(), SourceKind::Dir),
            ("run-2.json".to_string(), SourceKind::Json),
            ("truncated.json".to_string(), SourceKind::Json),
        ]
    );

    let mut store = SqliteStore::open(&tmp.path().join("history.db")).expect("store");
    let mut ticks = 0;
    let first =
        ingest_all(&mut store, &sources, &LoadLimits::default(), |n| ticks = n).expect("ingest");
    assert_eq!(ticks, 5);
    assert_eq!((first.new_runs, first.already_stored), (3, 0));
    let reasons: Vec<String> = first.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].contains("invalid.json: invalid report: 1:"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("truncated.json: invalid report:"),
        "{reasons:?}"
    );
    let counts = store.counts().expect("counts");
    assert_eq!((counts.runs, counts.tests, counts.results), (3, 6, 18));

    // The same folder again: nothing new, the same reports skipped.
    let again = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("again");
    assert_eq!(
        (again.new_runs, again.already_stored, again.skipped.len()),
        (0, 3, 2)
    );
    assert_eq!(store.counts().expect("counts"), counts);
}

#[test]
fn decompression_is_bounded() {
    let tmp = tempfile::tempdir().expect("tmp");
    // 64 MiB of zeros compress to a few KB.
    let bomb = tmp.path().join("bomb.json.zst");
    let zeros = vec![0u8; 64 << 20];
    fs::write(&bomb, zstd::encode_all(zeros.as_slice(), 19).expect("zstd")).expect("write");
    assert!(fs::metadata(&bomb).expect("meta").len() < 100_000);
    let sources = discover(std::slice::from_ref(&bomb)).expect("discover");
    let mut store = SqliteStore::open(&tmp.path().join("history.db")).expect("store");
    let limits = LoadLimits {
        max_report_bytes: 1 << 20,
    };
    let s = ingest_all(&mut store, &sources, &limits, |_| {}).expect("ingest");
    assert_eq!(s.skipped.len(), 1);
    assert!(
        s.skipped[0]
            .reason
            .contains("larger than 1048576 bytes once decompressed"),
        "{}",
        s.skipped[0]
    );
}

#[test]
fn paths_that_are_not_reports_stop_with_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let txt = tmp.path().join("notes.txt");
    fs::write(&txt, "x").expect("write");
    let e = discover(std::slice::from_ref(&txt)).expect_err("not a report");
    assert!(matches!(e, AnalyzeError::NotAReport { .. }), "{e}");
    let e = discover(&[tmp.path().join("missing")]).expect_err("missing");
    assert!(e.to_string().contains("missing"), "{e}");
}

/// Every valid fixture of testdata/reports summarises without losing a test.
#[test]
fn fixture_reports_summarise_every_test() {
    let sources = discover(&[repo().join("testdata/reports/valid")]).expect("discover");
    assert!(!sources.is_empty());
    let validator =
        flakiness_validate::Validator::new(flakiness_validate::Options::default()).expect("v");
    for s in &sources {
        let loaded = flakiness_analyze::load(s, &validator, &LoadLimits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let run = summarize(&loaded.report, "x", &loaded.content_hash);
        let with_attempts = loaded
            .report
            .all_tests()
            .filter(|t| !t.test.attempts.is_empty())
            .count();
        assert!(
            run.results.len() >= with_attempts,
            "{}: {} results for {with_attempts} tests",
            s.path.display(),
            run.results.len()
        );
        assert_eq!(loaded.content_hash.len(), 64);
        let bytes = fs::read(s.file()).expect("read");
        let streamed = check_and_summarize(&bytes, &validator, "x").expect("valid");
        assert_eq!(streamed, run, "{}", s.path.display());
    }
}

/// A file is remembered under its canonical path, whether it was given through a link to it,
/// through a linked folder, or through `..`: the names are one file, read once (its bytes
/// garbled since, size and time kept, it is not read again under any of them).
#[cfg(unix)]
#[test]
fn files_are_remembered_by_their_canonical_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let real = tmp.path().join("real");
    fs::create_dir_all(real.join("sub")).expect("mkdir");
    let file = real.join("run.json");
    write_json(&file, &report(&"5".repeat(40), 5_000.0));
    std::os::unix::fs::symlink(&file, tmp.path().join("link.json")).expect("file link");
    std::os::unix::fs::symlink(&real, tmp.path().join("folder")).expect("folder link");
    let mut store = SqliteStore::open(&tmp.path().join("history.db")).expect("store");
    let ingest = |store: &mut SqliteStore, name: PathBuf| {
        let sources = vec![flakiness_analyze::ReportSource {
            path: name,
            kind: SourceKind::Json,
        }];
        let done = ingest_all(store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
        (done.new_runs, done.already_stored, done.skipped.len())
    };
    assert_eq!(ingest(&mut store, file.clone()), (1, 0, 0));
    let meta = fs::metadata(&file).expect("meta");
    fs::write(&file, vec![b'x'; meta.len() as usize]).expect("garble");
    let f = fs::File::options().write(true).open(&file).expect("open");
    f.set_modified(meta.modified().expect("mtime"))
        .expect("set mtime");
    drop(f);
    for name in [
        tmp.path().join("link.json"),
        tmp.path().join("folder/run.json"),
        real.join("sub/../run.json"),
        file,
    ] {
        assert_eq!(
            ingest(&mut store, name.clone()),
            (0, 1, 0),
            "{}",
            name.display()
        );
    }
}

/// With its keys numbered as it is read, every fixture (reports and JUnit files, one table of
/// numbers for all) gives the record it gives with its keys, once they are put back.
#[test]
fn runs_with_numbered_keys_are_the_same_runs() {
    let mut sources = discover(&[repo().join("testdata/reports/valid")]).expect("discover");
    sources.extend(
        discover(&[repo().join("testdata")])
            .expect("discover")
            .into_iter()
            .filter(|s| s.kind == SourceKind::Junit),
    );
    assert!(
        sources
            .iter()
            .filter(|s| s.kind == SourceKind::Junit)
            .count()
            > 10
    );
    let validator =
        flakiness_validate::Validator::new(flakiness_validate::Options::default()).expect("v");
    let keys = flakiness_store::TestKeys::new();
    let limits = LoadLimits::default();
    let mut compared = 0;
    for s in &sources {
        let Ok(plain) = load_run(s, &limits, &validator) else {
            assert!(load_keyed(s, &limits, &validator, &keys).is_err());
            continue;
        };
        let numbered = load_keyed(s, &limits, &validator, &keys).expect("read again");
        assert_eq!(numbered.keys.len(), numbered.results.len());
        assert_eq!(keys.record(&numbered), plain, "{}", s.path.display());
        compared += 1;
    }
    assert!(compared > 20, "{compared}");
    // An attempt in an environment the report does not list (`#2`).
    let mut r = report("c1", 1000.0);
    r.tests = Some(vec![
        Test::new("lost").with_attempts([attempt(2, TestStatus::Failed)])
    ]);
    let numbered = summarize_keyed(&r, "s", "h", &keys);
    assert_eq!(keys.record(&numbered), summarize(&r, "s", "h"));
}

/// Read one test at a time, a report gives the record the model gives, whatever the order of
/// its keys: tests before their suite's header, suites before top-level tests, tests with and
/// without locations, file suites nested under other suites, several environments.
#[test]
fn reports_summarised_while_read_match_the_model() {
    let mut r = report("c1", 1000.0);
    let mut located = Test::new("located").with_attempts([attempt(1, TestStatus::Failed)]);
    located.location = Some(flakiness_report::Location {
        file: "src/own.rs".into(),
        line: 3,
        column: 1,
        ..Default::default()
    });
    let mut deep_file = Suite::new(SuiteType::File, "tests/deep.rs");
    deep_file.tests = Some(vec![
        Test::new("in a file under a suite").with_attempts([attempt(0, TestStatus::Passed)])
    ]);
    let mut outer = Suite::new(SuiteType::Suite, "outer");
    outer.suites = Some(vec![deep_file]);
    outer.tests = Some(vec![located]);
    r.suites.get_or_insert_with(Vec::new).push(outer);
    r.tests = Some(vec![Test::new("top").with_attempts([
        attempt(0, TestStatus::Passed),
        attempt(1, TestStatus::Failed),
    ])]);
    let model = summarize(&r, "s", "h");
    assert!(model.results.len() >= 8, "{}", model.results.len());
    // The model's own serialization, and one with every object's keys reversed.
    let json = serde_json::to_value(&r).expect("json");
    fn reverse(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.into_iter().collect();
                entries.reverse();
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    out.insert(k, reverse(v));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(reverse).collect())
            }
            v => v,
        }
    }
    let reversed = reverse(json.clone());
    assert_ne!(
        serde_json::to_string(&reversed).expect("s"),
        serde_json::to_string(&json).expect("s")
    );
    for v in [json, reversed] {
        let bytes = serde_json::to_vec(&v).expect("bytes");
        assert_eq!(summarize_json(&bytes, "s", "h").expect("stream"), model);
    }
}

/// A report the validator refuses is refused with its first problem; bytes the model cannot
/// read are refused with serde's error, never a panic.
#[test]
fn check_and_summarize_refuses_bad_reports() {
    let validator =
        flakiness_validate::Validator::new(flakiness_validate::Options::default()).expect("v");
    let mut bad = serde_json::to_value(report(&"a".repeat(40), 0.0)).expect("json");
    bad["environments"] = serde_json::json!("linux");
    let bytes = serde_json::to_vec(&bad).expect("bytes");
    let e = check_and_summarize(&bytes, &validator, "x").expect_err("invalid");
    assert!(matches!(e, Rejected::Invalid(_)), "{e:?}");
    assert!(e.reason().contains("environments"), "{}", e.reason());
    // Big enough to be checked on two threads.
    let mut big = report(&"b".repeat(40), 0.0);
    let many: Vec<Test> = (0..60_000)
        .map(|i| Test::new(format!("t{i}")).with_attempts([attempt(0, TestStatus::Passed)]))
        .collect();
    big.tests = Some(many);
    let mut bytes = serde_json::to_vec(&big).expect("bytes");
    assert!(bytes.len() > 4 << 20, "{}", bytes.len());
    let ok = check_and_summarize(&bytes, &validator, "x").expect("valid");
    assert_eq!(
        ok,
        summarize(&big, "x", &flakiness_analyze::content_hash(&bytes))
    );
    bytes.truncate(bytes.len() / 2);
    let e = check_and_summarize(&bytes, &validator, "x").expect_err("truncated");
    assert!(e.reason().contains("invalid report"), "{}", e.reason());
}

/// A file seen before (same path, size and modification time) is not read again; touched, it
/// is read again.
#[test]
fn files_already_ingested_are_not_read_again() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("run.json");
    write_json(&path, &report(&"4".repeat(40), 4_000.0));
    let mtime = fs::metadata(&path)
        .expect("meta")
        .modified()
        .expect("mtime");
    let sources = discover(std::slice::from_ref(&path)).expect("discover");
    let mut store = SqliteStore::open(&tmp.path().join("history.db")).expect("store");
    let first = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("first");
    assert_eq!(first.new_runs, 1);

    // Same size, same modification time, other bytes: not read, so still "already stored".
    let len = fs::metadata(&path).expect("meta").len() as usize;
    fs::write(&path, vec![b'x'; len]).expect("garble");
    let f = fs::File::options().write(true).open(&path).expect("open");
    f.set_modified(mtime).expect("set mtime");
    drop(f);
    let again = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("again");
    assert_eq!((again.already_stored, again.skipped.len()), (1, 0));

    // Touched: read again, and now it is garbage.
    let f = fs::File::options().write(true).open(&path).expect("open");
    f.set_modified(mtime + std::time::Duration::from_secs(5))
        .expect("set mtime");
    drop(f);
    let touched =
        ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("touched");
    assert_eq!((touched.already_stored, touched.skipped.len()), (0, 1));
}

/// Many reports read on worker threads: stored in source order, and a store that fails
/// half-way stops everything with its error (no hang, nothing half-stored).
#[test]
fn parallel_ingest_keeps_order_and_stops_on_a_store_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reports = tmp.path().join("reports");
    for i in 0..30 {
        write_json(
            &reports.join(format!("run-{i:02}.json")),
            // Same start time: the store id (ingest order) decides the order of runs.
            &report(&format!("{i:040x}"), 1_000.0),
        );
    }
    let sources = discover(std::slice::from_ref(&reports)).expect("discover");
    let db = tmp.path().join("history.db");
    let mut store = SqliteStore::open(&db).expect("store");
    let s = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert_eq!(s.new_runs, 30);
    let commits: Vec<String> = store
        .runs()
        .expect("runs")
        .iter()
        .map(|r| r.meta.commit_id.clone())
        .collect();
    let want: Vec<String> = (0..30).map(|i| format!("{i:040x}")).collect();
    assert_eq!(commits, want, "stored in source order");

    // Another writer holds the store: the first ingest fails, and the call returns.
    let other = tmp.path().join("other.db");
    let mut store = SqliteStore::open_with_timeout(&other, std::time::Duration::from_millis(100))
        .expect("store");
    let lock = rusqlite::Connection::open(&other).expect("sqlite");
    lock.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let e = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect_err("locked");
    assert!(e.to_string().contains("locked"), "{e}");
    lock.execute_batch("ROLLBACK").expect("unlock");
    assert_eq!(store.counts().expect("counts").runs, 0);
}

#[test]
fn junit_files_are_runs_with_commit_and_environment_from_their_properties() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("junit");
    fs::create_dir(&dir).expect("mkdir");
    let doc = |props: &str, body: &str| {
        format!(
            r#"<?xml version="1.0"?>
<testsuites><testsuite name="Login" timestamp="2026-01-02T03:04:05" time="1.5">{props}
<testcase classname="Login" name="works" file="src/login.test.js" time="0.5">{body}</testcase>
<testcase classname="Login" name="skipped" time="0"><skipped/></testcase>
</testsuite></testsuites>"#
        )
    };
    fs::write(
        dir.join("a.xml"),
        doc(
            r#"<properties><property name="GIT.Commit" value=" abc123 "/><property name="Environment" value="linux"/></properties>"#,
            r#"<flakyFailure message="timed out after 5000 ms">stack</flakyFailure>"#,
        ),
    )
    .expect("write");
    fs::write(dir.join("b.xml"), doc("", r#"<failure message="expected 1 to equal 2">at x</failure><rerunFailure message="expected 1 to equal 2"/>"#)).expect("write");
    fs::write(
        dir.join("pom.xml"),
        "<project><modelVersion>4.0.0</modelVersion></project>",
    )
    .expect("write");
    fs::write(
        dir.join("cut.xml"),
        "<testsuites><testsuite name=\"x\">\n<testcase name=\"y\">",
    )
    .expect("write");
    let sources = discover(std::slice::from_ref(&dir)).expect("discover");
    assert!(sources.iter().all(|s| s.kind == SourceKind::Junit));
    assert_eq!(sources.len(), 4);
    let mut store = SqliteStore::open(&tmp.path().join("h.db")).expect("store");
    let s = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert_eq!(s.new_runs, 2, "{:?}", s.skipped);
    let reasons: Vec<String> = s.skipped.iter().map(|s| s.to_string()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].contains("cut.xml: not a usable JUnit file: "),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("pom.xml: not a usable JUnit file: 1:"),
        "{reasons:?}"
    );

    let runs = store.runs().expect("runs");
    let commits: Vec<&str> = runs.iter().map(|r| r.meta.commit_id.as_str()).collect();
    assert_eq!(
        commits,
        ["abc123", ""],
        "the property's value, trimmed; none"
    );
    assert_eq!(runs[0].meta.category, "junit");
    assert_eq!(runs[0].meta.start_ms, 1_767_323_045_000);
    let tests = store.tests().expect("tests");
    let envs: std::collections::BTreeSet<(&str, &str)> = tests
        .iter()
        .map(|t| {
            (
                t.title_path.last().map_or("", |s| s.as_str()),
                t.environment.as_str(),
            )
        })
        .collect();
    assert!(envs.contains(&("works", "linux")), "{envs:?}");
    assert!(envs.contains(&("works", "default")), "{envs:?}");
    let mut outcomes = Vec::new();
    store
        .for_each_result(&mut |r: flakiness_store::ResultRow| {
            outcomes.push((r.run_id, r.test_id, r.outcome, r.attempts))
        })
        .expect("results");
    outcomes.sort();
    let by_title = |title: &str, env: &str| {
        let id = tests
            .iter()
            .find(|t| {
                t.title_path.last().map(String::as_str) == Some(title) && t.environment == env
            })
            .expect("test")
            .id;
        outcomes
            .iter()
            .filter(|o| o.1 == id)
            .map(|o| (o.2, o.3))
            .collect::<Vec<_>>()
    };
    assert_eq!(by_title("works", "linux"), [(Outcome::Flaky, 2)]);
    assert_eq!(by_title("works", "default"), [(Outcome::Failed, 2)]);
    assert_eq!(by_title("skipped", "linux"), [(Outcome::Skipped, 0)]);
    let failures = store
        .failures(
            runs[0].id,
            tests
                .iter()
                .find(|t| {
                    t.environment == "linux"
                        && t.title_path.last().map(String::as_str) == Some("works")
                })
                .expect("t")
                .id,
        )
        .expect("failures");
    assert_eq!(failures[0].kind, FailureKind::Timeout);

    // The same files again: nothing new.
    let again = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("again");
    assert_eq!((again.new_runs, again.already_stored), (0, 2));
}

#[test]
fn reports_with_fields_we_do_not_know_are_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut v = serde_json::to_value(report(&"4".repeat(40), 4_000.0)).expect("value");
    v["someFutureField"] = serde_json::json!({"nested": [1, 2, 3]});
    v["suites"][0]["suites"][0]["tests"][0]["fromANewerReporter"] = serde_json::json!(true);
    v["suites"][0]["suites"][0]["tests"][0]["attempts"][0]["extra"] = serde_json::json!("x");
    let path = tmp.path().join("future.json");
    fs::write(&path, serde_json::to_vec(&v).expect("json")).expect("write");
    let sources = discover(std::slice::from_ref(&path)).expect("discover");
    let mut store = SqliteStore::open(&tmp.path().join("h.db")).expect("store");
    let s = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    assert_eq!(s.new_runs, 1);
    let plain = summarize(&report(&"4".repeat(40), 4_000.0), "x", "h");
    assert_eq!(
        store.counts().expect("counts").results as usize,
        plain.results.len()
    );
}

#[cfg(unix)]
#[test]
fn files_written_whole_are_readable_by_others_or_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tmp");
    let page = tmp.path().join("flaky.html");
    flakiness_analyze::write_file_whole(&page, b"<html></html>").expect("write");
    let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&page), 0o644);
    fs::set_permissions(&page, fs::Permissions::from_mode(0o600)).expect("chmod");
    flakiness_analyze::write_file_whole(&page, b"<html>2</html>").expect("again");
    assert_eq!(mode(&page), 0o600, "the mode of the file replaced");
    assert_eq!(fs::read(&page).expect("read"), b"<html>2</html>");
}

/// `run` stored in a new store, and its results read back as (title path, `f` of the row),
/// sorted; with the store (and its folder) to read more.
fn stored<T: Ord>(
    run: &flakiness_store::RunRecord,
    f: impl Fn(&flakiness_store::ResultRow) -> T,
) -> (tempfile::TempDir, SqliteStore, Vec<(String, T)>) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    store.ingest(run).expect("ingest");
    let titles: std::collections::HashMap<i64, String> = store
        .tests()
        .expect("tests")
        .into_iter()
        .map(|t| (t.id, t.title_path.join(" ")))
        .collect();
    let mut rows = Vec::new();
    store
        .for_each_result(&mut |row: flakiness_store::ResultRow| {
            rows.push((titles[&row.test_id].clone(), f(&row)))
        })
        .expect("results");
    rows.sort();
    (dir, store, rows)
}

/// An expected failure (pytest's xfail) is stored as a pass that failed as expected; an
/// unexpected pass (xpass) as a failure of kind `unexpected-pass` with a message saying so.
/// Before, the xfail was a plain pass and the xpass a failure of kind `unknown` without a
/// message.
#[test]
fn expected_failures_and_unexpected_passes_are_stored_as_such() {
    let mut r = Report::new("pytest", "c0ffee");
    r.environments = vec![Environment::new("linux")];
    let mut xfail = attempt(0, TestStatus::Failed);
    xfail.expected_status = Some(TestStatus::Failed);
    let mut xpass = attempt(0, TestStatus::Passed);
    xpass.expected_status = Some(TestStatus::Failed);
    let mut file = Suite::new(SuiteType::File, "tests/test_x.py");
    file.tests = Some(vec![
        Test::new("test_xfail").with_attempts([xfail]),
        Test::new("test_xpass").with_attempts([xpass.clone()]),
        Test::new("test_plain").with_attempts([attempt(0, TestStatus::Passed)]),
    ]);
    r.suites = Some(vec![file]);
    assert_eq!(failure_kind(&xpass), FailureKind::UnexpectedPass);

    let run = summarize(&r, "reports/x", "hash-x");
    let by_title = |t: &str| {
        run.results
            .iter()
            .find(|x| x.title_path == [t])
            .unwrap_or_else(|| panic!("{t}"))
    };
    let x = by_title("test_xfail");
    assert_eq!(
        (
            x.outcome,
            x.failed_attempts,
            x.expected_failures,
            x.unexpected_passes
        ),
        (Outcome::Passed, 0, 1, 0)
    );
    assert!(x.failures.is_empty());
    let p = by_title("test_xpass");
    assert_eq!(
        (
            p.outcome,
            p.failed_attempts,
            p.expected_failures,
            p.unexpected_passes
        ),
        (Outcome::Failed, 1, 0, 1)
    );
    assert_eq!(p.failures.len(), 1);
    assert_eq!(p.failures[0].kind, FailureKind::UnexpectedPass);
    assert_eq!(
        p.failures[0].message.as_deref(),
        Some("passed, but was expected to fail")
    );
    let plain = by_title("test_plain");
    assert_eq!((plain.expected_failures, plain.unexpected_passes), (0, 0));

    // Stored and read back: the rows keep them.
    let (_dir, store, rows) = stored(&run, |row| {
        (row.outcome, row.expected_failures, row.unexpected_passes)
    });
    assert_eq!(
        rows,
        [
            ("test_plain".to_string(), (Outcome::Passed, 0, 0)),
            ("test_xfail".to_string(), (Outcome::Passed, 1, 0)),
            ("test_xpass".to_string(), (Outcome::Failed, 0, 1)),
        ]
    );
    let totals = store.run_totals().expect("totals");
    assert_eq!(
        (
            totals[0].failed,
            totals[0].expected_failures,
            totals[0].unexpected_passes
        ),
        (1, 1, 1)
    );
    let failures = store.run_failures(totals[0].run_id).expect("failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].1.kind, FailureKind::UnexpectedPass);
}

/// The time lost to retries and failures: the durations of the attempts counted as failed
/// (an unexpected pass among them), not of an expected failure; unknown when no attempt was
/// timed. Stored and read back per result, and summed per run in the run's totals. Before,
/// only the sum of all attempts (duration_ms) was kept.
#[test]
fn failed_attempts_durations_are_stored_as_time_lost() {
    let timed = |status: TestStatus, ms: f64| {
        let mut a = attempt(0, status);
        a.duration = Some(flakiness_report::DurationMs(ms));
        a
    };
    let mut r = Report::new("pytest", "c0ffee");
    r.environments = vec![Environment::new("linux")];
    let mut xfail = timed(TestStatus::Failed, 800.0);
    xfail.expected_status = Some(TestStatus::Failed);
    let mut xpass = timed(TestStatus::Passed, 50.0);
    xpass.expected_status = Some(TestStatus::Failed);
    let mut untimed = attempt(0, TestStatus::Passed);
    untimed.duration = None;
    let mut file = Suite::new(SuiteType::File, "tests/test_t.py");
    file.tests = Some(vec![
        Test::new("test_retried").with_attempts([
            timed(TestStatus::Failed, 1200.0),
            timed(TestStatus::Passed, 300.0),
        ]),
        Test::new("test_xfail").with_attempts([xfail]),
        Test::new("test_xpass").with_attempts([xpass]),
        Test::new("test_untimed").with_attempts([untimed]),
    ]);
    r.suites = Some(vec![file]);

    let run = summarize(&r, "reports/t", "hash-t");
    let by_title = |t: &str| {
        let x = run
            .results
            .iter()
            .find(|x| x.title_path == [t])
            .unwrap_or_else(|| panic!("{t}"));
        (x.failed_attempts, x.duration_ms, x.failed_duration_ms)
    };
    assert_eq!(by_title("test_retried"), (1, Some(1500), Some(1200)));
    assert_eq!(by_title("test_xfail"), (0, Some(800), Some(0)));
    assert_eq!(by_title("test_xpass"), (1, Some(50), Some(50)));
    assert_eq!(by_title("test_untimed"), (0, None, None));

    // Stored and read back: the rows keep them, the run's totals sum them.
    let (_dir, store, rows) = stored(&run, |row| (row.duration_ms, row.failed_duration_ms));
    let row = |t: &str, d: Option<i64>, f: Option<i64>| (t.to_string(), (d, f));
    assert_eq!(
        rows,
        [
            row("test_retried", Some(1500), Some(1200)),
            row("test_untimed", None, None),
            row("test_xfail", Some(800), Some(0)),
            row("test_xpass", Some(50), Some(50)),
        ]
    );
    let totals = store.run_totals().expect("totals");
    assert_eq!(totals[0].failed_duration_ms, 1250);
}
