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
    let (_dir, store) = store();
    let a = analyze(&store, &AnalysisOptions::default()).expect("analyze");
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
        (6, 0, 29)
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
    let (_dir, store) = store();
    let opts = AnalysisOptions {
        broken_streak: 2,
        incident_min_failures: 100,
        ..AnalysisOptions::default()
    };
    let a = analyze(&store, &opts).expect("analyze");
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
    let (_dir, store) = store();
    let a = analyze(&store, &AnalysisOptions::default()).expect("analyze");
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
