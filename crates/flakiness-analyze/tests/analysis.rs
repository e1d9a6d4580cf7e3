//! Classifications on a small history written into a real store: one test per behaviour.

use flakiness_analyze::{analyze, AnalysisOptions, Classification, TestAnalysis};
use flakiness_store::{
    FailureKind, FailureRecord, Outcome, RunMeta, RunRecord, SqliteStore, TestResult,
};

const RUNS: usize = 30;

fn result(title: &str, outcome: Outcome, message: &str) -> TestResult {
    let failed = match outcome {
        Outcome::Failed | Outcome::Flaky => 1,
        _ => 0,
    };
    let attempts = match outcome {
        Outcome::Skipped => 0,
        Outcome::Flaky => 2,
        _ => 1,
    };
    TestResult {
        file: "tests/t.rs".into(),
        title_path: vec!["suite".into(), title.into()],
        environment: "linux".into(),
        outcome,
        attempts,
        failed_attempts: failed,
        duration_ms: Some(5),
        failed_duration_ms: Some(5 * i64::from(failed) / i64::from(attempts.max(1))),
        expected_failures: 0,
        unexpected_passes: 0,
        failures: (0..failed)
            .map(|_| FailureRecord {
                attempt: 0,
                kind: FailureKind::Assertion,
                message: Some(message.to_string()),
                stack: None,
            })
            .collect(),
    }
}

/// Run `i` of the history: which outcome each test has.
fn history_run(i: usize) -> Vec<TestResult> {
    use Outcome::*;
    // Two runs per commit (a CI re-run of each commit).
    let mut r = vec![
        result("stable", Passed, ""),
        result("skipped", Skipped, ""),
        // Retries hide its failures: a retry flake every fifth run.
        result(
            "flaky with retries",
            if i % 5 == 2 { Flaky } else { Passed },
            &format!("expected 200 got 503 after {i} ms"),
        ),
        // No retries: fails in one of the two runs of some commits.
        result(
            "flaky on the same commit",
            if i % 6 == 1 { Failed } else { Passed },
            "race: counter was 3",
        ),
        // Broken from run 24 on (commit 12) and never fixed.
        result(
            "broken",
            if i >= 24 { Failed } else { Passed },
            "expected `ok` got `err`",
        ),
        // Broken at run 6 (commit 3), fixed at run 12 (commit 6): a code change, not a flake.
        result(
            "fixed regression",
            if (6..12).contains(&i) { Failed } else { Passed },
            "wrong total",
        ),
        // New: failed only in the last two runs (the same commit).
        result(
            "new failure",
            if i >= RUNS - 2 { Failed } else { Passed },
            "assertion failed: x > 0",
        ),
    ];
    // An outage in run 15: twelve more tests fail at once with the same error, and so does
    // the stable test.
    for k in 0..12 {
        r.push(result(
            &format!("bystander {k}"),
            if i == 15 { Failed } else { Passed },
            "connect ECONNREFUSED 10.0.0.7:5432",
        ));
    }
    if i == 15 {
        r[0] = result("stable", Failed, "connect ECONNREFUSED 10.0.0.7:5432");
    }
    r
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    // Ingested out of order: start times decide.
    let mut order: Vec<usize> = (0..RUNS).collect();
    order.reverse();
    order.swap(3, 17);
    for i in order {
        store
            .ingest(&RunRecord {
                meta: RunMeta {
                    content_hash: format!("run-{i}"),
                    source: format!("reports/{i}"),
                    commit_id: format!("{:040x}", i / 2),
                    start_ms: 1_000_000 + i as i64 * 60_000,
                    duration_ms: 1000,
                    category: "junit".into(),
                    ..RunMeta::default()
                },
                results: history_run(i),
            })
            .expect("ingest");
    }
    (dir, store)
}

fn find<'a>(tests: &'a [TestAnalysis], title: &str) -> &'a TestAnalysis {
    tests
        .iter()
        .find(|t| t.title_path[1] == title)
        .unwrap_or_else(|| panic!("{title}"))
}

#[test]
fn each_behaviour_gets_its_classification_and_evidence() {
    let (_dir, mut store) = store();
    let a = analyze(&mut store, &AnalysisOptions::default()).expect("analyze");
    assert_eq!(a.runs, RUNS);
    let class = |t: &str| find(&a.tests, t).classification;
    use Classification::*;
    assert_eq!(class("stable"), Stable);
    assert_eq!(class("skipped"), Skipped);
    assert_eq!(class("flaky with retries"), Flaky);
    assert_eq!(class("flaky on the same commit"), Flaky);
    assert_eq!(class("broken"), Broken);
    assert_eq!(class("fixed regression"), Stable, "a fix is not a flake");
    assert_eq!(
        class("new failure"),
        Stable,
        "two failures are not yet broken"
    );
    for k in 0..12 {
        assert_eq!(
            class(&format!("bystander {k}")),
            Stable,
            "the outage is no flake"
        );
    }

    let retries = &find(&a.tests, "flaky with retries").evidence;
    assert_eq!(
        (retries.retry_flakes, retries.failed_runs, retries.ran),
        (6, 0, 30),
        "only the tests an incident hit have that run set aside"
    );
    let same = &find(&a.tests, "flaky on the same commit").evidence;
    assert_eq!(same.same_commit_flips, 5, "{same:?}");
    assert_eq!(same.retry_flakes, 0);
    assert!(
        same.flip_rate > 0.2 && same.weighted_flip_rate > 0.0,
        "{same:?}"
    );

    let broken = find(&a.tests, "broken");
    let since = broken.evidence.broken_since.as_ref().expect("since");
    assert_eq!(since.commit_id, format!("{:040x}", 12));
    assert_eq!(since.runs, 6);
    assert_eq!(broken.examples, ["expected `ok` got `err`"]);
    assert!(broken.confidence > 0.9);

    let new = &find(&a.tests, "new failure").evidence;
    assert!(new.new_failure);
    assert_eq!(new.new_failure_kinds, ["assertion"]);
    assert!(!find(&a.tests, "fixed regression").evidence.new_failure);

    // The outage: one incident, its run left out of every test's evidence.
    assert_eq!(a.incidents.len(), 1, "{:?}", a.incidents);
    let inc = &a.incidents[0];
    assert_eq!(inc.source, "reports/15");
    assert_eq!(inc.failed, 13);
    assert_eq!(inc.signature, "connect ECONNREFUSED <ip>:<n>");
    let stable = &find(&a.tests, "stable").evidence;
    assert_eq!(
        (stable.incident_runs, stable.ran, stable.failed_runs),
        (1, 29, 0)
    );

    // Flaky tests come first, then broken, stable, skipped.
    let order: Vec<Classification> = a.tests.iter().map(|t| t.classification).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);

    // Failure patterns: the retried test's messages differ by a number only: one signature.
    let retried = find(&a.tests, "flaky with retries");
    assert_eq!(retried.signatures.len(), 1);
    assert_eq!(
        retried.signatures[0].signature,
        "expected <n> got <n> after <n> ms"
    );
    assert_eq!(retried.signatures[0].count, 6);
    assert!(a
        .patterns
        .iter()
        .any(|p| p.signature == "expected <n> got <n> after <n> ms" && p.failures == 6));
    assert!(
        !a.patterns
            .iter()
            .any(|p| p.signature.contains("ECONNREFUSED")),
        "incident failures are not patterns"
    );
}

#[test]
fn thresholds_are_options() {
    let (_dir, mut store) = store();
    let opts = AnalysisOptions {
        broken_streak: 2,
        incident_min_tests: 100,
        ..AnalysisOptions::default()
    };
    let a = analyze(&mut store, &opts).expect("analyze");
    assert_eq!(
        find(&a.tests, "new failure").classification,
        Classification::Broken
    );
    assert!(a.incidents.is_empty());
    let stable = &find(&a.tests, "stable").evidence;
    assert_eq!((stable.incident_runs, stable.failed_runs), (0, 1));
}

#[test]
fn the_json_shape_has_what_the_issue_names() {
    let (_dir, mut store) = store();
    let a = analyze(&mut store, &AnalysisOptions::default()).expect("analyze");
    let v = serde_json::to_value(&a).expect("json");
    let t = &v["tests"][0];
    for field in [
        "file",
        "titlePath",
        "environment",
        "classification",
        "score",
        "confidence",
        "evidence",
    ] {
        assert!(t.get(field).is_some(), "{field}: {t}");
    }
    assert_eq!(t["classification"], "flaky");
    assert!(v["incidents"].is_array());
    assert_eq!(t["titlePath"][0], "suite");
}

fn ingest(store: &mut SqliteStore, i: usize, results: Vec<TestResult>) {
    store
        .ingest(&RunRecord {
            meta: RunMeta {
                content_hash: format!("extra-{i}"),
                source: format!("reports/{i}"),
                commit_id: format!("{:040x}", 1000 + i),
                start_ms: 1_000_000 + i as i64 * 60_000,
                duration_ms: 1000,
                category: "junit".into(),
                ..RunMeta::default()
            },
            results,
        })
        .expect("ingest");
}

/// Flaky tests enter with their reason, leave after enough clean runs, do not come back for
/// old evidence, and come back for a new flake.
#[test]
fn quarantine_enters_releases_and_does_not_oscillate() {
    use flakiness_analyze::Quarantine;
    let (dir, mut store) = store();
    let opts = AnalysisOptions::default();
    let mut q = Quarantine::default();
    let changes = q.update(&analyze(&mut store, &opts).expect("analyze"), 10);
    let names: Vec<&str> = q.tests.iter().map(|e| e.title_path[1].as_str()).collect();
    assert_eq!(names, ["flaky on the same commit", "flaky with retries"]);
    assert_eq!(changes.entered.len(), 2);
    let retried = q
        .tests
        .iter()
        .find(|e| e.title_path[1] == "flaky with retries")
        .expect("in");
    assert!(
        retried.reason.contains("6 retry flake(s)"),
        "{}",
        retried.reason
    );
    assert_eq!(
        retried.since_ms,
        1_000_000 + 27 * 60_000,
        "the latest flake"
    );

    // Runner forms.
    assert_eq!(
        q.nextest_filter(),
        "not (test(=flaky on the same commit) | test(=flaky with retries))"
    );
    assert_eq!(
        q.pytest_args(),
        [
            "--deselect",
            "tests/t.rs::suite::flaky on the same commit",
            "--deselect",
            "tests/t.rs::suite::flaky with retries"
        ]
    );
    assert_eq!(
        q.plain_list()[1],
        "tests/t.rs › suite › flaky with retries [linux]"
    );

    // The printed forms (`flakiness quarantine`, the server's API), and the list of a
    // server: what an update of an empty list would take in.
    use flakiness_analyze::QuarantineFormat;
    let render = |f: QuarantineFormat| q.render(f).expect("render");
    assert_eq!(
        render(QuarantineFormat::Nextest),
        format!("{}\n", q.nextest_filter())
    );
    assert_eq!(
        render(QuarantineFormat::Pytest),
        "--deselect\ntests/t.rs::suite::flaky on the same commit\n\
         --deselect\ntests/t.rs::suite::flaky with retries\n"
    );
    assert_eq!(render(QuarantineFormat::List).lines().count(), 2);
    let json = render(QuarantineFormat::Json);
    assert!(json.ends_with("}\n"), "{json}");
    assert_eq!(serde_json::from_str::<Quarantine>(&json).expect("json"), q);
    assert_eq!(
        Quarantine::of_analysis(&analyze(&mut store, &opts).expect("analyze")),
        q
    );
    assert_eq!(
        Quarantine::default()
            .render(QuarantineFormat::List)
            .expect("empty"),
        ""
    );
    for f in QuarantineFormat::ALL {
        assert_eq!(f.as_str().parse::<QuarantineFormat>(), Ok(f));
    }
    let unknown = "xml".parse::<QuarantineFormat>().expect_err("unknown");
    assert_eq!(
        unknown.to_string(),
        "unknown quarantine format \"xml\": one of json, nextest, pytest, list"
    );

    // Saved whole, read back the same.
    let file = dir.path().join("quarantine.json");
    q.save(&file).expect("save");
    assert_eq!(Quarantine::load(&file).expect("load"), q);

    // Clean runs so far: 2 after the last retry flake, 4 after the last same-commit failure.
    let streak = |q: &Quarantine, t: &str| {
        q.tests
            .iter()
            .find(|e| e.title_path[1] == t)
            .map(|e| e.clean_runs)
    };
    assert_eq!(streak(&q, "flaky with retries"), Some(2));
    assert_eq!(streak(&q, "flaky on the same commit"), Some(4));
    let clean = |title: &str| result(title, Outcome::Passed, "");
    let everyone = || {
        [
            "stable",
            "flaky with retries",
            "flaky on the same commit",
            "broken",
            "fixed regression",
            "new failure",
        ]
        .map(clean)
        .to_vec()
    };
    // Seven clean runs: the second reaches 11 and leaves, the first (9) stays.
    for i in 0..7 {
        ingest(&mut store, RUNS + i, everyone());
    }
    let changes = q.update(&analyze(&mut store, &opts).expect("analyze"), 10);
    assert_eq!(
        changes.left,
        ["tests/t.rs › suite › flaky on the same commit [linux]"]
    );
    assert!(changes.entered.is_empty(), "no oscillation: {changes:?}");
    assert_eq!(streak(&q, "flaky with retries"), Some(9));
    // One more: the first leaves too. Both are still flaky by their history, and stay out.
    ingest(&mut store, RUNS + 7, everyone());
    let a = analyze(&mut store, &opts).expect("analyze");
    assert_eq!(
        a.tests
            .iter()
            .filter(|t| t.classification == Classification::Flaky)
            .count(),
        2,
        "still flaky by their history"
    );
    let changes = q.update(&a, 10);
    assert_eq!(
        changes.left,
        ["tests/t.rs › suite › flaky with retries [linux]"]
    );
    assert!(changes.entered.is_empty(), "no oscillation: {changes:?}");
    assert!(q.tests.is_empty());
    assert_eq!(q.released.len(), 2);
    let again = q.update(&a, 10);
    assert!(again.entered.is_empty() && again.left.is_empty());

    // A new flake: it comes back.
    let mut run = everyone();
    run[1] = result(
        "flaky with retries",
        Outcome::Flaky,
        "expected 200 got 503 after 7 ms",
    );
    ingest(&mut store, RUNS + 8, run);
    let changes = q.update(&analyze(&mut store, &opts).expect("analyze"), 10);
    assert_eq!(
        changes.entered,
        ["tests/t.rs › suite › flaky with retries [linux]"]
    );
    assert_eq!(q.released.len(), 1);
}

#[test]
fn quarantine_files_are_checked() {
    use flakiness_analyze::{Quarantine, QuarantineError};
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("none.json");
    assert_eq!(
        Quarantine::load(&missing).expect("missing is empty"),
        Quarantine::default()
    );
    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"hello": 1}"#).expect("write");
    assert!(matches!(
        Quarantine::load(&other),
        Err(QuarantineError::Format { .. })
    ));
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, r#"{"version": 9, "tests": []}"#).expect("write");
    let e = Quarantine::load(&newer).expect_err("newer");
    assert!(e.to_string().contains("version 9"), "{e}");
}

/// The HTML page: self-contained, every text escaped, a strip per listed test, the trend.
#[test]
fn the_html_page_escapes_everything_and_shows_the_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    let evil = "<script>alert(1)</script>";
    for i in 0..8usize {
        let outcome = if i % 3 == 1 {
            Outcome::Flaky
        } else {
            Outcome::Passed
        };
        ingest(
            &mut store,
            i,
            vec![
                result(evil, outcome, "expected \"a\" & got <b>"),
                result("plain", Outcome::Passed, ""),
            ],
        );
    }
    let a = analyze(&mut store, &AnalysisOptions::default()).expect("analyze");
    let t = find(&a.tests, evil);
    assert_eq!(t.classification, Classification::Flaky);
    assert_eq!(t.history, "PKPPKPPK");
    assert_eq!(a.trend.len(), 8);
    assert_eq!(a.trend[1].flaky, 1);

    let html = flakiness_analyze::render_html(&a);
    assert!(
        !html.contains("<script"),
        "no script, and the name is escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("expected &quot;a&quot; &amp; got &lt;b&gt;"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external request"
    );
    assert_eq!(
        html.matches("<tr class=\"test\">").count(),
        1,
        "only the flaky test is listed"
    );
    let strip = html.split("class=\"strip\">").nth(1).expect("strip");
    let cells: String = strip
        .split("</td>")
        .next()
        .expect("cells")
        .match_indices("<i class=\"")
        .map(|(i, _)| strip.as_bytes()[i + 10] as char)
        .collect();
    assert_eq!(cells, "PKPPKPPK");
    assert_eq!(html.matches("<polyline").count(), 2);
}
