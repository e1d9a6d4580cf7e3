//! The pages as HTML: escaping, ANSI, filters and pagination, the self-contained policy.

use flakiness_report::{
    Attachment, Environment, Report, ReportError, RunAttempt, Suite, SuiteType, Test, TestStatus,
};
use flakiness_web::pages::{
    inline_csp, run_page, runs_page, Assets, AttachmentView, RunFilter, TestQuery, RUNS_PER_PAGE,
    SCRIPT, STYLE,
};
use flakiness_web::{Counts, RunRow};

const XSS: &str = "<script>alert(1)</script>";

fn hostile_report() -> Report {
    let mut r = Report::new("junit", "a".repeat(40));
    r.environments = vec![Environment::new("linux\"><b>env</b>")];
    r.title = Some(format!("nightly {XSS}"));
    r.url = Some("javascript:alert(2)".into());
    let mut failed = RunAttempt::with_status(TestStatus::Failed);
    failed.errors = Some(vec![ReportError {
        message: Some(format!("\u{1b}[31mexpected\u{1b}[0m 1 {XSS}")),
        stack: Some("at <anonymous> (x.js:1:1)".into()),
        ..ReportError::default()
    }]);
    failed.attachments = Some(vec![
        Attachment {
            name: "shot.png".into(),
            content_type: "image/png".into(),
            id: "img1".into(),
            ..Attachment::default()
        },
        Attachment {
            name: "log.txt".into(),
            content_type: "text/plain".into(),
            id: "log1".into(),
            ..Attachment::default()
        },
        Attachment {
            name: "trace.zip".into(),
            content_type: "application/zip".into(),
            id: "zip1".into(),
            ..Attachment::default()
        },
    ]);
    let mut suite = Suite::new(SuiteType::File, format!("tests/{XSS}.spec.ts"));
    suite.tests = Some(vec![
        Test::new(XSS).with_attempts([failed, RunAttempt::with_status(TestStatus::Passed)]),
        Test::new("adds numbers").with_attempts([RunAttempt::with_status(TestStatus::Passed)]),
    ]);
    r.suites = Some(vec![suite]);
    r
}

fn views(a: &Attachment) -> AttachmentView {
    let href = Some(format!("/att/{}", a.id));
    match a.id.as_str() {
        "img1" => AttachmentView {
            image: href.clone(),
            href,
            text: None,
        },
        "log1" => AttachmentView {
            href,
            image: None,
            text: Some(format!("\u{1b}[1mbold\u{1b}[0m log {XSS}")),
        },
        _ => AttachmentView {
            href,
            ..AttachmentView::default()
        },
    }
}

#[test]
fn untrusted_text_is_escaped_and_ansi_stripped() {
    let html = run_page(
        "acme",
        "shop",
        "7",
        None,
        &hostile_report(),
        &TestQuery::default(),
        &views,
        &|_, _, _| None,
        Assets::Linked,
    )
    .into_string();
    assert!(!html.contains(XSS), "raw script in the page");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains('\u{1b}'), "ANSI escape left in the page");
    assert!(html.contains("expected 1 &lt;script&gt;"));
    assert!(html.contains("bold log"));
    assert!(!html.contains("<b>env</b>"));
    // A javascript: URL is shown, never a link.
    assert!(!html.contains("href=\"javascript:"));
    // The image, the shown text and the download.
    assert!(html.contains("<img class=\"attachment\" src=\"/att/img1\""));
    assert!(html.contains("class=\"attachment-text\""));
    assert!(html.contains("href=\"/att/zip1\" download=\"trace.zip\""));
    // One flaky test (failed then passed), one passed.
    assert!(html.contains("data-status=\"flaky\""));
    assert!(html.contains("1 flaky"));
    assert!(html.contains("1 passed"));
}

#[test]
fn the_search_query_keeps_matching_tests_only() {
    let r = hostile_report();
    let page = |q: &str| {
        run_page(
            "acme",
            "shop",
            "7",
            None,
            &r,
            &TestQuery { q: Some(q.into()) },
            &views,
            &|_, _, _| None,
            Assets::Linked,
        )
        .into_string()
    };
    let html = page("ADDS");
    assert_eq!(html.matches("<li class=\"test\"").count(), 1);
    assert!(html.contains("adds numbers"));
    let none = page("no such test");
    assert_eq!(none.matches("<li class=\"test\"").count(), 0);
    assert!(none.contains("No test matches."));
    assert_eq!(page("").matches("<li class=\"test\"").count(), 2);
}

fn row(i: usize) -> RunRow {
    let failed = i.is_multiple_of(3) as u64;
    let flaky = (i.is_multiple_of(5) && failed == 0) as u64;
    RunRow {
        key: format!("u{i}"),
        run_id: i as i64,
        number: 120 - i,
        title: Some(format!("run {i}")),
        commit_id: format!("{i:040}"),
        url: Some(format!("https://ci.example/{i}")),
        start_ms: 1_700_000_000_000 - i as i64 * 60_000,
        duration_ms: 1000,
        counts: Counts {
            passed: 10,
            failed,
            flaky,
            skipped: 1,
            ..Counts::default()
        },
        lost_ms: 0,
        environments: vec![if i.is_multiple_of(2) {
            "linux"
        } else {
            "windows"
        }
        .into()],
    }
}

#[test]
fn runs_are_filtered_and_paginated() {
    let rows: Vec<RunRow> = (0..120).map(row).collect();
    let page = |f: RunFilter| runs_page("acme", "shop", &rows, &f, Assets::Linked).into_string();
    let first = page(RunFilter::default());
    assert_eq!(first.matches("<tr class=\"run\"").count(), RUNS_PER_PAGE);
    assert!(first.contains("120 of 120 runs"));
    assert!(first.contains("href=\"/acme/shop/runs/u0\""));
    assert!(first.contains("page 1 of 3"));
    let last = page(RunFilter {
        page: Some(3),
        ..RunFilter::default()
    });
    assert_eq!(last.matches("<tr class=\"run\"").count(), 20);
    assert!(last.contains("href=\"/acme/shop/runs/u119\""));
    // Past the end: the last page.
    assert_eq!(
        page(RunFilter {
            page: Some(99),
            ..RunFilter::default()
        }),
        last
    );
    let failed = page(RunFilter {
        status: Some("failed".into()),
        ..RunFilter::default()
    });
    assert!(failed.contains("40 of 120 runs"));
    assert_eq!(failed.matches("data-status=\"failed\"").count(), 40);
    let flaky_linux = page(RunFilter {
        status: Some("flaky".into()),
        env: Some("linux".into()),
        ..RunFilter::default()
    });
    // i % 5 == 0, i % 3 != 0, i even: 10, 20, 40, 50, 70, 80, 100, 110.
    assert!(flaky_linux.contains("8 of 120 runs"), "{flaky_linux}");
    // The filter is kept in the page links.
    let two = page(RunFilter {
        status: Some("passed".into()),
        ..RunFilter::default()
    });
    assert!(two.contains("href=\"?status=passed&amp;page=2\""), "{two}");
}

#[test]
fn a_self_contained_page_allows_exactly_its_own_style_and_script() {
    let html = run_page(
        "",
        "",
        "1",
        None,
        &hostile_report(),
        &TestQuery::default(),
        &views,
        &|_, _, _| None,
        Assets::Inline,
    )
    .into_string();
    assert!(html.contains(&format!("<style>{STYLE}</style>")));
    assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
    let csp = inline_csp();
    assert!(html.contains(&csp.replace('\'', "&#39;")) || html.contains(&csp));
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
    assert!(csp.contains(&format!("style-src 'sha256-{}'", hash(STYLE))));
    assert!(csp.contains(&format!("script-src 'sha256-{}'", hash(SCRIPT))));
    assert!(!html.contains("/static/"));
    assert!(!html.contains(XSS));
}

/// The `<li class="test">` of the test titled `title`, up to the next test.
fn test_item<'a>(html: &'a str, title: &str) -> &'a str {
    let start = html
        .find(&format!("<li class=\"test\" data-name=\"{title}\""))
        .unwrap_or_else(|| panic!("no test {title}"));
    let rest = &html[start + 1..];
    &html[start..start + 1 + rest.find("<li class=\"test\"").unwrap_or(rest.len())]
}

/// An expected failure (failed, expected to fail) is marked as one, not as a plain pass, and an
/// unexpected pass (passed, expected to fail) as a failure: on the test, its attempt and the
/// counts, which count them as the format does (issue 17).
#[test]
fn expected_failures_and_unexpected_passes_are_marked() {
    let mut r = Report::new("pytest", "a".repeat(40));
    let expecting_failure = |status| {
        let mut a = RunAttempt::with_status(status);
        a.expected_status = Some(TestStatus::Failed);
        a
    };
    r.tests = Some(vec![
        Test::new("xfail").with_attempts([expecting_failure(TestStatus::Failed)]),
        Test::new("xpass").with_attempts([expecting_failure(TestStatus::Passed)]),
        Test::new("plain").with_attempts([RunAttempt::with_status(TestStatus::Passed)]),
    ]);
    for assets in [Assets::Linked, Assets::Inline] {
        let html = run_page(
            "acme",
            "shop",
            "7",
            None,
            &r,
            &TestQuery::default(),
            &views,
            &|_, _, _| None,
            assets,
        )
        .into_string();
        for (title, status, badge) in [
            (
                "xfail",
                "passed",
                "<span class=\"badge xfail\">expected failure</span>",
            ),
            (
                "xpass",
                "failed",
                "<span class=\"badge failed xpass\">unexpected pass</span>",
            ),
        ] {
            let item = test_item(&html, title);
            assert!(
                item.contains(&format!("data-status=\"{status}\"")),
                "{item}"
            );
            assert_eq!(
                item.matches(badge).count(),
                2,
                "the test and its attempt: {item}"
            );
            assert!(!item.contains(">passed<"), "{item}");
        }
        let plain = test_item(&html, "plain");
        assert!(plain.contains("<span class=\"badge passed\">passed</span>"));
        let counts = &html[html.find("id=\"test-counts\"").expect("counts")..];
        let counts = &counts[..counts.find("</dd>").expect("end")];
        assert!(
            counts.contains("2 passed")
                && counts.contains("1 expected failure")
                && counts.contains("1 failed")
                && counts.contains("1 unexpected pass"),
            "{counts}"
        );
    }
}

/// Pages built from the history store mark expected failures and unexpected passes as the run
/// page does: the runs list counts them, the test page's row of the run says "expected
/// failure" / "unexpected pass" (and its failure's kind is "unexpected pass"). Before, the
/// store did not keep them: a plain "passed", and a failure of kind "unknown".
#[test]
fn the_test_page_and_the_runs_list_mark_expected_failures_and_unexpected_passes() {
    use flakiness_web::folder::FolderProject;
    use flakiness_web::pages::test_page;
    use flakiness_web::Project;

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reports/valid/all-statuses.json");
    let p = FolderProject::open(&[path]).expect("opens");
    let runs = p.runs().expect("runs");
    assert_eq!(runs.len(), 1);
    let c = runs[0].counts;
    assert_eq!((c.expected_failures, c.unexpected_passes), (3, 1), "{c:?}");
    let list = runs_page("local", "x", &runs, &RunFilter::default(), Assets::Linked).into_string();
    assert!(list.contains("(3 expected failures)"), "{list}");
    assert!(list.contains("(1 unexpected pass)"), "{list}");

    let analysis = p.analysis().expect("analysis");
    let page_of = |title: &str| {
        let t = analysis
            .tests
            .iter()
            .find(|t| t.title_path.last().is_some_and(|x| x == title))
            .unwrap_or_else(|| panic!("{title}"));
        let history = p.history().expect("history");
        let failures = p.test_failures(t.test_id, 20).expect("failures");
        test_page(
            "local",
            "x",
            &analysis,
            &history,
            t.test_id,
            &failures,
            1,
            Assets::Linked,
        )
        .expect("a page")
        .into_string()
    };
    let xfail = page_of("rounds negative durations (known bug #812)");
    assert!(
        xfail.contains("<span class=\"badge xfail\">expected failure</span>"),
        "{xfail}"
    );
    let xpass = page_of("handles the 2038 overflow (known bug #790)");
    assert!(
        xpass.contains("<span class=\"badge failed xpass\">unexpected pass</span>"),
        "{xpass}"
    );
    assert!(!xpass.contains(">unknown<"), "{xpass}");
    let plain = page_of("formats an ISO date");
    assert!(
        plain.contains("<span class=\"badge passed\">passed</span>"),
        "{plain}"
    );
    assert!(
        !plain.contains("xfail") && !plain.contains("xpass"),
        "{plain}"
    );
}

/// The overview's "newly flaky this week": the flaky tests whose first flaky or failed result
/// came in the 7 days up to the newest run, read again here from the reports themselves. Tests
/// that turn flaky late in the history are in it; tests flaky from the start are not.
#[test]
fn newly_flaky_tests_are_the_flaky_ones_whose_first_flake_is_this_week() {
    use flakiness_store::Outcome;
    use flakiness_web::folder::FolderProject;
    use flakiness_web::pages::{newly_flaky, overview_page, WEEK_MS};
    use flakiness_web::Project;

    let s = flakiness_sim::Scenario {
        runs: 250,
        tests: 12,
        mix: flakiness_sim::Mix {
            flaky: 2,
            env_flaky: 0,
            late_flaky: 4,
            broken: 0,
            fixed: 0,
            skipped: 0,
        },
        outages: 0,
        incident_rate: 0.0,
        seed: 5,
        ..flakiness_sim::Scenario::named("mixed").expect("mixed")
    };
    let sim = flakiness_sim::simulate(&s);
    let dir = tempfile::tempdir().expect("tmp");
    for (i, report) in sim.reports.iter().enumerate() {
        let d = dir.path().join(format!("run-{i:04}"));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(
            d.join("report.json"),
            serde_json::to_vec(report).expect("json"),
        )
        .expect("write");
    }
    let p = FolderProject::open(&[dir.path().to_path_buf()]).expect("opens");
    let (analysis, history) = (
        p.analysis().expect("analysis"),
        p.history().expect("history"),
    );
    // From the reports: each test's first flaky or failed run.
    let mut first: std::collections::HashMap<(String, Vec<String>, String), i64> =
        std::collections::HashMap::new();
    for report in &sim.reports {
        let record = flakiness_analyze::summarize(report, "r", "h");
        for r in record.results {
            if matches!(r.outcome, Outcome::Flaky | Outcome::Failed) {
                first
                    .entry((r.file, r.title_path, r.environment))
                    .or_insert(record.meta.start_ms);
            }
        }
    }
    let newest = sim
        .reports
        .iter()
        .map(|r| r.start_timestamp.0 as i64)
        .max()
        .expect("runs");
    let mut expected: Vec<(String, String)> = analysis
        .tests
        .iter()
        .filter(|t| t.classification == flakiness_analyze::Classification::Flaky)
        .filter(|t| {
            first
                .get(&(t.file.clone(), t.title_path.clone(), t.environment.clone()))
                .is_some_and(|ms| *ms > newest - WEEK_MS)
        })
        .map(|t| (t.display_name(), t.environment.clone()))
        .collect();
    expected.sort();
    let mut got: Vec<(String, String)> = newly_flaky(&analysis, &history)
        .iter()
        .map(|n| (n.test.display_name(), n.test.environment.clone()))
        .collect();
    got.sort();
    assert!(
        !expected.is_empty(),
        "late-flaky tests turn flaky this week"
    );
    assert!(
        expected.len()
            < analysis
                .tests
                .iter()
                .filter(|t| t.classification == flakiness_analyze::Classification::Flaky)
                .count(),
        "tests flaky from the start are not new"
    );
    assert_eq!(got, expected);
    let html = overview_page("local", "x", &analysis, &history, Assets::Linked).into_string();
    assert!(
        html.contains(&format!("id=\"newly-flaky-count\">{}<", expected.len())),
        "{html}"
    );
    assert_eq!(html.matches("<tr class=\"test\"").count(), expected.len());
}

/// The `<table id="{id}">` of a page, whole.
fn table<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<table class=\"compare\" id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no table {id}"));
    let end = start + html[start..].find("</table>").expect("table end");
    &html[start..end]
}

/// Two runs as the analyzer summarises them: in B, a test named like a script fails (with an
/// error like a script), one is fixed, one is flaky, one takes 300 ms → 900 ms, one is new,
/// two are gone (in two environments), one still fails.
fn compared() -> flakiness_analyze::diff::RunDiff {
    use flakiness_store::{FailureRecord, Outcome, RunMeta, RunRecord, TestResult};
    let result = |title: &str, env: &str, outcome: Outcome, ms: i64| TestResult {
        file: "tests/shop.spec.ts".into(),
        title_path: vec!["cart".into(), title.into()],
        environment: env.into(),
        outcome,
        attempts: if outcome == Outcome::Flaky { 2 } else { 1 },
        failed_attempts: u32::from(matches!(outcome, Outcome::Failed | Outcome::Flaky)),
        duration_ms: Some(ms),
        failures: match outcome {
            Outcome::Failed | Outcome::Flaky => vec![FailureRecord {
                message: Some(format!("\u{1b}[31mError\u{1b}[0m: {XSS}\nat x.js:1")),
                ..FailureRecord::default()
            }],
            _ => Vec::new(),
        },
        ..TestResult::default()
    };
    let run = |title: &str, results| RunRecord {
        meta: RunMeta {
            title: Some(format!("{title} {XSS}")),
            commit_id: "c".repeat(40),
            start_ms: 1_718_640_000_000,
            ..RunMeta::default()
        },
        results,
    };
    use Outcome::{Failed, Flaky, Passed};
    // Each test: its outcome and duration in A, then in B.
    type Side = Option<(Outcome, i64)>;
    let tests: [(&str, &str, Side, Side); 7] = [
        (XSS, "linux", Some((Passed, 10)), Some((Failed, 10))),
        ("removes", "linux", Some((Failed, 10)), Some((Passed, 10))),
        ("coupon", "linux", Some((Passed, 10)), Some((Flaky, 10))),
        ("pays", "linux", Some((Passed, 300)), Some((Passed, 900))),
        ("old", "linux", Some((Passed, 10)), None),
        ("old", "windows", Some((Passed, 10)), None),
        ("new", "windows", None, Some((Passed, 10))),
    ];
    let side = |b: bool| {
        let mut results: Vec<TestResult> = tests
            .iter()
            .filter_map(|(t, env, a_, b_)| {
                let (o, ms) = if b { (*b_)? } else { (*a_)? };
                Some(result(t, env, o, ms))
            })
            .collect();
        results.push(result("broken", "linux", Failed, 10));
        results
    };
    let (a, b) = (run("main #41", side(false)), run("main #42", side(true)));
    flakiness_analyze::diff::diff(&a, &b, &flakiness_analyze::diff::DiffOptions::default())
}

#[test]
fn the_compare_page_has_a_table_per_change_with_its_count() {
    use flakiness_web::pages::compare_page;
    let d = compared();
    let html = compare_page("acme", "shop", "a1", "b2", &d, Assets::Linked).into_string();
    // Names, titles and errors from reports are text, ANSI stripped.
    assert!(!html.contains(XSS), "a raw script in the page");
    assert!(html.contains("tests/shop.spec.ts › cart › &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("main #41 &lt;script&gt;"));
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains("<code>Error: &lt;script&gt;alert(1)&lt;/script&gt;</code>"));
    // Test names are not links; the runs are, to their pages.
    assert!(!html.contains("/tests/"));
    assert!(html.contains("href=\"/acme/shop/runs/a1\""));
    assert!(html.contains("href=\"/acme/shop/runs/b2\""));
    for (id, heading, n) in [
        ("new-failures", "New failures", 1),
        ("fixed", "Fixed", 1),
        ("newly-flaky", "Newly flaky", 1),
        ("no-longer-flaky", "No longer flaky", 0),
        ("slower", "Slower by more than 20 %", 1),
        ("faster", "Faster by more than 20 %", 0),
        ("added", "Added", 1),
        ("removed", "Removed", 2),
    ] {
        let t = table(&html, id);
        assert_eq!(t.matches("<tr class=\"test\"").count(), n, "{id}: {t}");
        assert_eq!(t.contains("None."), n == 0, "{id}: {t}");
        assert!(
            html.contains(&format!(
                "<h2>{heading} <span class=\"count\">({n})</span></h2>"
            )),
            "{id}: {html}"
        );
    }
    assert!(table(&html, "slower").contains("300 ms → 900 ms (+200 %)"));
    assert!(table(&html, "newly-flaky").contains("2 attempts, 1 failed"));
    assert!(table(&html, "added").contains("<span class=\"absent\""));
    assert!(html.contains("id=\"still-failing\">1<"), "{html}");
    // The percentage can be changed (a form of this page, no script).
    assert!(html.contains("<form id=\"slower-form\" method=\"get\">"));

    // A self-contained file keeps its links inside it.
    let inline = compare_page("acme", "shop", "a1", "b2", &d, Assets::Inline).into_string();
    assert!(!inline.contains("href="), "{inline}");
    assert!(!inline.contains("<form"));
}

#[test]
fn the_run_page_links_to_its_comparison_with_the_previous_run() {
    let r = hostile_report();
    let page = |previous: Option<&str>, assets| {
        run_page(
            "acme",
            "shop",
            "7",
            previous,
            &r,
            &TestQuery::default(),
            &views,
            &|_, _, _| None,
            assets,
        )
        .into_string()
    };
    let html = page(Some("6"), Assets::Linked);
    assert!(
        html.contains("<a id=\"compare-previous\" href=\"/acme/shop/runs/6/compare/7\">"),
        "{html}"
    );
    assert!(!page(None, Assets::Linked).contains("compare-previous"));
    assert!(!page(Some("6"), Assets::Inline).contains("compare-previous"));
}
