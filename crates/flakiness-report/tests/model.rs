//! The model against the committed schema, the fixtures in testdata/, and the file system.

use std::fs;
use std::path::{Path, PathBuf};

use flakiness_report::*;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn committed_schema_matches_the_model() {
    let committed = fs::read_to_string(repo().join("schemas/report.schema.json"))
        .expect("schemas/report.schema.json is committed");
    assert!(
        committed == report_schema_pretty(),
        "schemas/report.schema.json is stale: run `cargo run -p flakiness-cli -- schema > schemas/report.schema.json`"
    );
}

fn fixtures(folder: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(repo().join("testdata/reports").join(folder)).expect("fixtures") {
        let p = entry.expect("entry").path();
        if p.is_dir() {
            out.push(p.join(REPORT_FILE));
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    out.sort();
    assert!(!out.is_empty());
    out
}

/// Equal as JSON values, numbers compared by value (`25` and `25.0` are the same number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn valid_fixtures_survive_read_write_without_loss() {
    let mut checked = 0;
    for folder in ["valid", "warnings"] {
        for path in fixtures(folder) {
            let text = fs::read(&path).expect("read");
            // Lone surrogate escapes (warnings/lone-surrogates.json) read as U+FFFD on both sides.
            let original: Value = flakiness_report::json_text::from_slice(&text).expect("json");
            let report: Report = flakiness_report::json_text::from_slice(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let written = serde_json::to_value(&report).expect("serialize");
            assert!(
                same(&original, &written),
                "{} changed on read → write:\n{}\n---\n{}",
                path.display(),
                original,
                written
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} fixtures");
}

#[test]
fn unknown_fields_are_kept_at_every_level() {
    let path = repo().join("testdata/reports/valid/unknown-fields/report.json");
    let report = read_report_file(&path).expect("read");
    assert!(!report.extra.is_empty(), "root extra fields");
    let test = report.all_tests().next().expect("a test");
    let attempt = &test.test.attempts[0];
    let nested_extra = !test.test.extra.is_empty()
        || !attempt.extra.is_empty()
        || test.suites.iter().any(|s| !s.extra.is_empty());
    assert!(nested_extra, "nested extra fields");
}

#[test]
fn writer_writes_a_readable_report_directory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let target = tmp.path().join("out");
    let mut w = ReportDirWriter::create(&target).expect("create");
    let a = w
        .add_attachment("hello.txt", "text/plain", b"hello")
        .expect("add");
    assert_eq!(
        a.id, "5d41402abc4b2a76b9719d911017c592",
        "MD5 of the content"
    );
    let again = w
        .add_attachment("other-name.txt", "text/plain", b"hello")
        .expect("add");
    assert_eq!(again.id, a.id, "same content, same id");
    let src = tmp.path().join("big.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&src, &content).expect("write src");
    let f = w
        .add_attachment_file("big.bin", "application/octet-stream", &src)
        .expect("file");
    assert_eq!(f.id, attachment_id_for(&content));

    let mut report = Report::new(CATEGORY_JUNIT, "a".repeat(40));
    report.environments.push(Environment::new("ci"));
    let mut attempt = RunAttempt::with_status(TestStatus::Passed);
    attempt.attachments = Some(vec![a.clone(), f.clone()]);
    report.tests = Some(vec![Test::new("t").with_attempts([attempt])]);
    w.finish(&report).expect("finish");

    let read = read_report_dir(&target).expect("read back");
    assert_eq!(read.report, report);
    assert_eq!(
        fs::read(read.attachment_path(&a.id).expect("safe")).expect("att"),
        b"hello"
    );
    assert_eq!(
        fs::read(read.attachment_path(&f.id).expect("safe")).expect("att"),
        content
    );
    assert!(read.attachment_path("../etc/passwd").is_err());
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .expect("ls")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temp dirs left: {leftovers:?}");
}

/// A report streamed a root suite at a time reads back as the same report, suites in order,
/// whether suites were streamed or not; the first suite opens the object.
#[test]
fn streamed_report_reads_back_the_same() {
    let suite = |title: &str, test: &str| {
        let mut s = Suite::new(SuiteType::Suite, title);
        s.tests = Some(vec![
            Test::new(test).with_attempts([RunAttempt::with_status(TestStatus::Passed)])
        ]);
        s
    };
    let mut whole = Report::new(CATEGORY_JUNIT, "c".repeat(40));
    whole.environments.push(Environment::new("ci"));
    whole.title = Some("streamed".into());
    whole.tests = Some(vec![Test::new("loose")]);
    whole.suites = Some(vec![suite("a", "t1"), suite("b", "t2"), suite("c", "t3")]);

    for streamed in 0..=3 {
        let tmp = tempfile::tempdir().expect("tmp");
        let target = tmp.path().join("out");
        let w = ReportDirWriter::create(&target).expect("create");
        let mut stream = w.stream_report().expect("stream");
        let mut rest = whole.clone();
        let all = rest.suites.take().expect("suites");
        for s in &all[..streamed] {
            stream.suite(s).expect("suite");
        }
        assert_eq!(stream.suites_written(), streamed);
        rest.suites = Some(all[streamed..].to_vec());
        // `finish_with` runs its check on the complete file (while it is synced).
        let (path, checked) = stream
            .finish_with(rest, |p| {
                let r: Report = serde_json::from_slice(&fs::read(p).expect("read")).expect("json");
                (p.to_path_buf(), r)
            })
            .expect("finish");
        assert_eq!(checked, whole);
        let text = fs::read_to_string(&path).expect("staged");
        assert!(text.starts_with("{\"suites\":[{"), "{text}");
        w.commit().expect("commit");
        let read = read_report_dir(&target).expect("read back");
        assert_eq!(read.report, whole, "{streamed} streamed");
    }

    // No suites at all: the usual object.
    let tmp = tempfile::tempdir().expect("tmp");
    let w = ReportDirWriter::create(tmp.path().join("out")).expect("create");
    let mut bare = whole.clone();
    bare.suites = None;
    let path = w
        .stream_report()
        .expect("stream")
        .finish(bare.clone())
        .expect("finish");
    let read: Report = serde_json::from_slice(&fs::read(path).expect("read")).expect("json");
    assert_eq!(read, bare);
}

/// Keeps what a [`StreamObserver`] is shown (each suite as the JSON it is written as).
#[derive(Default)]
struct Seen {
    suites: Vec<String>,
    rest: Option<String>,
}

impl StreamObserver for Seen {
    fn suite(&mut self, suite: &Suite) {
        self.suites
            .push(serde_json::to_string(suite).expect("suite json"));
    }
    fn rest(&mut self, json: &str) {
        self.rest = Some(json.to_string());
    }
}

#[test]
fn an_observed_stream_shows_each_part_and_writes_the_same_file() {
    let mut whole = Report::new("0123456789abcdef0123456789abcdef01234567", "junit");
    whole.environments.push(Environment::new("ci"));
    whole.tests = Some(vec![Test::new("loose")]);
    let suite = |title: &str| {
        let mut s = Suite::new(SuiteType::Suite, title);
        s.tests = Some(vec![Test::new(format!("{title} test"))]);
        s
    };
    whole.suites = Some(vec![suite("a"), suite("b \"quoted\" ✓"), suite("c")]);
    for streamed in 0..=3 {
        let tmp = tempfile::tempdir().expect("tmp");
        let w = ReportDirWriter::create(tmp.path().join("out")).expect("create");
        let mut stream = w.stream_report().expect("stream");
        let mut seen = Seen::default();
        let mut rest = whole.clone();
        let all = rest.suites.take().expect("suites");
        for s in &all[..streamed] {
            stream.suite_observed(s, &mut seen).expect("suite");
        }
        rest.suites = Some(all[streamed..].to_vec());
        let written = stream.finish_observed(rest, &mut seen).expect("finish");
        let path = written.sync_with(Path::to_path_buf).expect("sync");
        let text = fs::read_to_string(&path).expect("staged");
        let read: Report = serde_json::from_str(&text).expect("json");
        assert_eq!(read, whole, "{streamed} streamed");
        // The parts shown make the file's own text: its suites, then the rest as one object.
        assert_eq!(seen.suites.len(), 3);
        let rest = seen.rest.expect("rest");
        let rebuilt = format!("{{\"suites\":[{}],{}", seen.suites.join(","), &rest[1..]);
        assert_eq!(rebuilt, text);
        let rest: serde_json::Value = serde_json::from_str(&rest).expect("rest json");
        assert!(rest.get("suites").is_none() && rest.get("tests").is_some());
    }
    // No suites: the rest is the whole file.
    let tmp = tempfile::tempdir().expect("tmp");
    let w = ReportDirWriter::create(tmp.path().join("out")).expect("create");
    let mut bare = whole.clone();
    bare.suites = None;
    let mut seen = Seen::default();
    let written = w
        .stream_report()
        .expect("stream")
        .finish_observed(bare, &mut seen)
        .expect("finish");
    let text = fs::read_to_string(written.path()).expect("read");
    assert_eq!(Some(text), seen.rest);
    assert!(seen.suites.is_empty());
}

#[test]
fn writer_replaces_a_report_directory_but_nothing_else() {
    let tmp = tempfile::tempdir().expect("tmp");
    let target = tmp.path().join("out");
    let report = |title: &str| {
        let mut r = Report::new(CATEGORY_JUNIT, "b".repeat(40));
        r.title = Some(title.into());
        r.environments.push(Environment::new("ci"));
        r
    };
    let mut w = ReportDirWriter::create(&target).expect("create");
    w.add_attachment("old", "text/plain", b"old").expect("add");
    w.finish(&report("first")).expect("finish");
    ReportDirWriter::create(&target)
        .expect("an existing report dir may be replaced")
        .finish(&report("second"))
        .expect("finish");
    let read = read_report_dir(&target).expect("read");
    assert_eq!(read.report.title.as_deref(), Some("second"));
    assert_eq!(
        fs::read_dir(target.join(ATTACHMENTS_DIR))
            .expect("ls")
            .count(),
        0,
        "old attachments replaced"
    );

    // A directory holding anything else is never replaced, and stays as it was.
    let precious = tmp.path().join("precious");
    fs::create_dir(&precious).expect("mkdir");
    fs::write(precious.join("thesis.tex"), "years of work").expect("write");
    let err = ReportDirWriter::create(&precious).expect_err("must refuse");
    assert!(matches!(err, Error::NotAReportDirectory { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(precious.join("thesis.tex")).expect("kept"),
        "years of work"
    );

    // Issue 16: a folder holding only `attachments/` (the user's files, no report.json) is not
    // a report directory we wrote: refused, its files kept.
    let only_attachments = tmp.path().join("screenshots");
    fs::create_dir_all(only_attachments.join(ATTACHMENTS_DIR)).expect("mkdir");
    fs::write(
        only_attachments.join(ATTACHMENTS_DIR).join("shot.png"),
        "png",
    )
    .expect("write");
    let err = ReportDirWriter::create(&only_attachments).expect_err("must refuse");
    assert!(matches!(err, Error::NotAReportDirectory { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(only_attachments.join(ATTACHMENTS_DIR).join("shot.png")).expect("kept"),
        "png"
    );
    // An empty folder may be written into.
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    ReportDirWriter::create(&empty)
        .expect("an empty folder is fine")
        .finish(&report("third"))
        .expect("finish");

    // Changed between create and finish: still refused.
    let racy = tmp.path().join("racy");
    let w = ReportDirWriter::create(&racy).expect("create");
    fs::create_dir(&racy).expect("mkdir");
    fs::write(racy.join("notes.txt"), "mine").expect("write");
    assert!(matches!(
        w.finish(&report("x")),
        Err(Error::NotAReportDirectory { .. })
    ));
    assert_eq!(
        fs::read_to_string(racy.join("notes.txt")).expect("kept"),
        "mine"
    );
}

#[test]
fn unfinished_writer_leaves_no_trace() {
    let tmp = tempfile::tempdir().expect("tmp");
    let target = tmp.path().join("out");
    {
        let mut w = ReportDirWriter::create(&target).expect("create");
        w.add_attachment("a", "text/plain", b"a").expect("add");
    }
    assert_eq!(fs::read_dir(tmp.path()).expect("ls").count(), 0);
}

#[test]
fn attachment_ids_that_are_not_safe_file_names_are_refused() {
    for ok in ["5d41402abc4b2a76b9719d911017c592", "trace.zip", "a.b-c_d"] {
        assert_eq!(check_attachment_id(ok), Ok(()), "{ok}");
    }
    let long = "x".repeat(MAX_ATTACHMENT_ID_LEN + 1);
    for (bad, why) in [
        ("", AttachmentIdError::Empty),
        (long.as_str(), AttachmentIdError::TooLong),
        ("a/b", AttachmentIdError::Separator),
        ("a\\b", AttachmentIdError::Separator),
        ("..", AttachmentIdError::DotDot),
        ("a..b", AttachmentIdError::DotDot),
        (".", AttachmentIdError::Dot),
        ("a\0b", AttachmentIdError::Control),
        ("a\nb", AttachmentIdError::Control),
    ] {
        assert_eq!(check_attachment_id(bad), Err(why), "{bad:?}");
    }
}

#[test]
fn outcomes_flakiness_and_full_names() {
    let failed = RunAttempt::with_status(TestStatus::Failed);
    let passed = RunAttempt::with_status(TestStatus::Passed);
    let skipped = RunAttempt::with_status(TestStatus::Skipped);
    let mut xfail = RunAttempt::with_status(TestStatus::Failed);
    xfail.expected_status = Some(TestStatus::Failed);
    assert!(xfail.is_expected());
    assert!(!failed.is_expected());

    let flaky = Test::new("t").with_attempts([failed.clone(), passed.clone()]);
    assert_eq!(flaky.outcome(), TestOutcome::Flaky);
    assert!(flaky.is_flaky());
    assert_eq!(
        Test::new("t").with_attempts([failed.clone()]).outcome(),
        TestOutcome::Unexpected
    );
    assert_eq!(
        Test::new("t").with_attempts([skipped]).outcome(),
        TestOutcome::Skipped
    );
    assert_eq!(
        Test::new("t").with_attempts([xfail]).outcome(),
        TestOutcome::Expected
    );

    // Failing in one environment and passing in another is not flaky.
    let mut other_env = passed.clone();
    other_env.environment_idx = Some(1);
    let split = Test::new("t").with_attempts([failed, other_env]);
    assert!(!split.is_flaky());

    let mut file = Suite::new(SuiteType::File, "tests/a.spec.ts");
    let mut describe = Suite::new(SuiteType::Suite, "login");
    let mut anon = Suite::new(SuiteType::AnonymousSuite, "");
    anon.tests = Some(vec![Test::new("works").with_attempts([passed])]);
    describe.suites = Some(vec![anon]);
    file.suites = Some(vec![describe]);
    let mut report = Report::new(CATEGORY_PLAYWRIGHT, "c".repeat(40));
    report.suites = Some(vec![file]);
    let t = report.all_tests().next().expect("test");
    assert_eq!(t.full_name(), "login › works");
    assert_eq!(t.file(), Some("tests/a.spec.ts"));
    // The anonymous suite is no part of the identity (as in Playwright's full title).
    assert_eq!(t.suite_path(), vec!["login"]);
}

/// Whole numbers written as `3.0` in integer fields read as integers, as JavaScript and our
/// validator read them, in every reader of the model (issue 15, item 4); fractions, negative
/// counts and numbers out of range do not.
#[test]
fn whole_numbers_written_with_a_fraction_read_as_integers() {
    let report = |attempt: &str, location: &str| {
        format!(
            r#"{{"category":"pytest","commitId":"0123456789abcdef0123456789abcdef01234567",
            "environments":[{{"name":"linux","systemData":{{"cpuCount":8.0,"ramBytes":1024.0}}}},{{"name":"mac"}}],
            "tests":[{{"title":"t","location":{location},"attempts":[{attempt}]}}],
            "startTimestamp":1700000000000,"duration":1.5}}"#
        )
    };
    let good = report(
        r#"{"environmentIdx":1.0,"parallelIndex":2.0,"status":"passed"}"#,
        r#"{"file":"a.py","line":3.0,"column":7.0}"#,
    );
    let r: flakiness_report::Report = serde_json::from_str(&good).expect("whole numbers read");
    let t = &r.tests.as_ref().expect("tests")[0];
    let loc = t.location.as_ref().expect("location");
    assert_eq!((loc.line, loc.column), (3, 7));
    assert_eq!(t.attempts[0].environment_idx, Some(1));
    assert_eq!(t.attempts[0].parallel_index, Some(2));
    // Written back as integers.
    let again = serde_json::to_string(&r).expect("json");
    assert!(
        again.contains("\"line\":3,") && again.contains("\"environmentIdx\":1"),
        "{again}"
    );
    for (attempt, location) in [
        (
            r#"{"environmentIdx":1.5}"#,
            r#"{"file":"a.py","line":3,"column":1}"#,
        ),
        (
            r#"{"environmentIdx":-1.0}"#,
            r#"{"file":"a.py","line":3,"column":1}"#,
        ),
        (
            r#"{"environmentIdx":1e30}"#,
            r#"{"file":"a.py","line":3,"column":1}"#,
        ),
        (r#"{}"#, r#"{"file":"a.py","line":3.25,"column":1}"#),
    ] {
        let bad = report(attempt, location);
        assert!(
            serde_json::from_str::<flakiness_report::Report>(&bad).is_err(),
            "{attempt} {location}"
        );
    }
}
