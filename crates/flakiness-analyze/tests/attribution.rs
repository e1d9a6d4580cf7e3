//! Attribution before classification (spec/analyze.md §6–§7): incidents per run and
//! environment, cancelled runs, regressions fixed later, the broken rule's odds, the evidence
//! window, and the evidence text. Small histories written into a real store.

use flakiness_analyze::{analyze, Analysis, AnalysisOptions, Classification, TestAnalysis};
use flakiness_store::{
    FailureKind, FailureRecord, HistoryStore, Outcome, RunMeta, RunRecord, SqliteStore, TestResult,
};

/// What a test did in one run and environment.
#[derive(Clone)]
enum Did {
    Pass,
    /// Every attempt failed with this message (and a stack naming the test).
    Fail(String),
    /// The first attempt failed with this message, the retry passed.
    Flake(String),
    /// One interrupted attempt, no message.
    Interrupted,
    Skip,
}

fn result(test: &str, env: &str, did: &Did) -> TestResult {
    let failure = |attempt: u32, m: &str| FailureRecord {
        attempt,
        kind: FailureKind::Unknown,
        message: Some(m.to_string()),
        stack: (!m.is_empty())
            .then(|| format!("  at {test} (tests/{test}.spec.ts:{}:7)", test.len() * 3)),
    };
    let (outcome, attempts, failures) = match did {
        Did::Pass => (Outcome::Passed, 1, vec![]),
        Did::Fail(m) => (Outcome::Failed, 2, vec![failure(0, m), failure(1, m)]),
        Did::Flake(m) => (Outcome::Flaky, 2, vec![failure(0, m)]),
        Did::Interrupted => (
            Outcome::Failed,
            1,
            vec![FailureRecord {
                attempt: 0,
                kind: FailureKind::Interrupted,
                message: None,
                stack: None,
            }],
        ),
        Did::Skip => (Outcome::Skipped, 0, vec![]),
    };
    TestResult {
        file: format!("tests/{test}.spec.ts"),
        title_path: vec![test.to_string()],
        environment: env.to_string(),
        outcome,
        attempts,
        failed_attempts: failures.len() as u32,
        duration_ms: Some(10),
        failed_duration_ms: Some(10 * failures.len() as i64 / i64::from(attempts.max(1))),
        expected_failures: 0,
        unexpected_passes: 0,
        failures,
    }
}

/// A history: `runs` runs (commit = run / 2: each commit run twice), each test's outcome in
/// each run and environment from `plan(run, test, env)`.
fn history(
    runs: usize,
    tests: &[&str],
    envs: &[&str],
    plan: impl Fn(usize, &str, &str) -> Did,
) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    for run in 0..runs {
        let mut results = Vec::new();
        for env in envs {
            for t in tests {
                results.push(result(t, env, &plan(run, t, env)));
            }
        }
        store
            .ingest(&RunRecord {
                meta: RunMeta {
                    content_hash: format!("run-{run}"),
                    source: format!("reports/run-{run}"),
                    commit_id: format!("{:040x}", run / 2 + 1),
                    start_ms: 1_700_000_000_000 + run as i64 * 3_600_000,
                    duration_ms: 1000,
                    category: "playwright".into(),
                    ..RunMeta::default()
                },
                results,
            })
            .expect("ingest");
    }
    (dir, store)
}

/// The same history as [`history`], stored in reverse order.
fn history_reversed(
    runs: usize,
    tests: &[&str],
    envs: &[&str],
    plan: impl Fn(usize, &str, &str) -> Did,
) -> (tempfile::TempDir, SqliteStore) {
    let (dir, forward) = history(runs, tests, envs, &plan);
    let mut store = SqliteStore::open(&dir.path().join("reversed.db")).expect("store");
    let mut records: Vec<(i64, RunRecord)> = Vec::new();
    let ids: std::collections::HashMap<i64, (Vec<String>, String, String)> = forward
        .tests()
        .expect("tests")
        .into_iter()
        .map(|k| (k.id, (k.title_path, k.environment, k.file)))
        .collect();
    for info in forward.runs().expect("runs") {
        let mut results: Vec<TestResult> = Vec::new();
        forward
            .for_each_result(&mut |row: flakiness_store::ResultRow| {
                if row.run_id == info.id {
                    let (title_path, environment, file) = ids[&row.test_id].clone();
                    results.push(TestResult {
                        file,
                        title_path,
                        environment,
                        outcome: row.outcome,
                        attempts: row.attempts,
                        failed_attempts: row.failed_attempts,
                        duration_ms: row.duration_ms,
                        failed_duration_ms: row.failed_duration_ms,
                        expected_failures: row.expected_failures,
                        unexpected_passes: row.unexpected_passes,
                        failures: Vec::new(),
                    });
                }
            })
            .expect("results");
        for (test, f) in forward.run_failures(info.id).expect("failures") {
            let (title_path, environment, _) = &ids[&test];
            if let Some(r) = results
                .iter_mut()
                .find(|r| &r.title_path == title_path && &r.environment == environment)
            {
                r.failures.push(f);
            }
        }
        results.reverse();
        records.push((
            info.id,
            RunRecord {
                meta: info.meta,
                results,
            },
        ));
    }
    for (_, r) in records.iter().rev() {
        store.ingest(r).expect("ingest");
    }
    (dir, store)
}

fn run(store: &mut dyn HistoryStore) -> Analysis {
    analyze(store, &AnalysisOptions::default()).expect("analyze")
}

fn find<'a>(a: &'a Analysis, test: &str, env: &str) -> &'a TestAnalysis {
    a.tests
        .iter()
        .find(|t| t.title_path == [test] && t.environment == env)
        .unwrap_or_else(|| panic!("{test} [{env}]"))
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i:02}")).collect()
}

/// Deterministic noise: true for about `per_mille` of (a, b).
fn chance(a: usize, b: usize, per_mille: usize) -> bool {
    let mut x = (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x % 1000) < per_mille as u64
}

#[test]
fn an_incident_in_one_environment_is_found_and_its_failures_set_aside() {
    // 40 tests, 2 environments; in runs 10 and 30 the windows runner lost its network: 16 of
    // its 40 tests (40%) fail with one error; in run 10 a retry passes (transient), in run 30
    // every attempt fails (persistent). Linux is fine. t00 is hit both times.
    let all = names(40);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(60, &tests, &["linux", "windows"], |run, t, env| {
        let i: usize = t[1..].parse().expect("n");
        let hit = env == "windows" && (run == 10 || run == 30) && i < 16;
        let msg = "Error: getaddrinfo ENOTFOUND api.internal.example";
        match (hit, run) {
            (true, 10) => Did::Flake(msg.into()),
            (true, _) => Did::Fail(msg.into()),
            _ => Did::Pass,
        }
    });
    let a = run(&mut store);
    assert_eq!(a.incidents.len(), 2, "{:#?}", a.incidents);
    for (inc, retry_passed) in a.incidents.iter().zip([16, 0]) {
        assert_eq!(inc.environment, "windows");
        assert_eq!((inc.hit, inc.ran, inc.retry_passed), (16, 40, retry_passed));
        assert_eq!(inc.cause, Some("name resolution failed"));
        assert_eq!(
            inc.signature,
            "Error: getaddrinfo ENOTFOUND api.internal.example"
        );
    }
    assert_eq!(a.count(Classification::Flaky), 0, "{}", a.counts_line());
    let t = find(&a, "t00", "windows");
    assert_eq!(t.classification, Classification::Stable);
    assert_eq!(t.evidence.incident_runs, 2);
    assert_eq!(t.evidence.incident_count, 2);
    assert_eq!(t.incidents.len(), 2);
    assert!(t.incidents[0].retry_passed && !t.incidents[1].retry_passed);
    assert!(
        t.why
            .contains("2 failures in 2 incidents set aside: `Error: getaddrinfo ENOTFOUND"),
        "{}",
        t.why
    );
    assert_eq!(&t.history[10..11], "I");
    // Incident failures are no pattern, and no signature of the test.
    assert!(t.signatures.is_empty());
    assert!(a.patterns.is_empty(), "{:?}", a.patterns);
    // The JSON names the incidents per test.
    let v = serde_json::to_value(t).expect("json");
    assert_eq!(v["incidents"][0]["incident"], 0);
    assert_eq!(v["incidents"][1]["incident"], 1);
}

#[test]
fn an_incident_is_found_by_its_cause_when_the_first_lines_differ() {
    // Redis down: each test words it differently, all say "connection refused".
    let all = names(30);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(40, &tests, &["linux"], |run, t, _| {
        let i: usize = t[1..].parse().expect("n");
        if run == 20 && !i.is_multiple_of(3) {
            Did::Flake(match i % 3 {
                1 => format!("redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused. ({t})"),
                _ => format!("ConnectionRefusedError: [Errno 111] Connection refused while loading fixture {t}_data"),
            })
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    assert_eq!(a.incidents[0].hit, 20);
    assert_eq!(a.incidents[0].cause, Some("connection refused"));
    assert_eq!(a.count(Classification::Flaky), 0, "{}", a.counts_line());
}

#[test]
fn a_stable_test_hit_by_two_transient_incidents_is_stable_and_a_real_flake_is_not_hidden() {
    let all = names(20);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(80, &tests, &["linux"], |run, t, _| {
        let i: usize = t[1..].parse().expect("n");
        if (run == 15 || run == 50) && i < 12 {
            return Did::Flake("psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused".into());
        }
        // t19 is flaky on its own, with its own error, also in an incident run.
        if t == "t19" && (run % 9 == 4 || run == 15) {
            return Did::Flake(format!("AssertionError: expected 3 rows, got {}", run % 3));
        }
        Did::Pass
    });
    let a = run(&mut store);
    assert_eq!(a.incidents.len(), 2);
    for i in 0..12 {
        let t = find(&a, &format!("t{i:02}"), "linux");
        assert_eq!(t.classification, Classification::Stable, "{}", t.why);
        assert_eq!(t.evidence.retry_flakes, 0);
    }
    let f = find(&a, "t19", "linux");
    assert_eq!(f.classification, Classification::Flaky, "{}", f.why);
    // Its own failure in the incident run is kept as evidence.
    assert_eq!(f.evidence.retry_flakes, 10, "{}", f.why);
    assert_eq!(f.evidence.incident_runs, 0);
}

#[test]
fn cancelled_runs_are_not_failures_and_say_nothing() {
    let all = names(10);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(30, &tests, &["linux"], |run, t, _| {
        let i: usize = t[1..].parse().expect("n");
        if (run == 7 || run == 21) && i >= 4 {
            Did::Interrupted
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    assert_eq!(a.cancelled_runs, 2);
    assert!(a.incidents.is_empty());
    assert!(a.patterns.is_empty(), "{:?}", a.patterns);
    let t = find(&a, "t09", "linux");
    assert_eq!(t.classification, Classification::Stable, "{}", t.why);
    assert_eq!((t.evidence.cancelled_runs, t.evidence.failed_runs), (2, 0));
    assert!(t.signatures.is_empty());
    assert!(t.why.contains("2 cancelled runs set aside"), "{}", t.why);
    assert_eq!(a.trend[7].cancelled, 6);
    assert_eq!(a.trend[7].failed, 0);
}

#[test]
fn a_regression_fixed_later_is_not_flaky_even_when_retries_sometimes_passed() {
    // Broken from run 20 (commit 11) to run 32 (commit 17): timeouts, and one retry in three
    // got through; green since.
    let (_d, mut store) = history(60, &["slow", "other"], &["linux"], |run, t, _| {
        if t == "slow" && (20..32).contains(&run) {
            let m = format!("TimeoutError: test exceeded 30000 ms ({} ms)", 30000 + run);
            if run % 3 == 0 {
                Did::Flake(m)
            } else {
                Did::Fail(m)
            }
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    let t = find(&a, "slow", "linux");
    assert_eq!(t.classification, Classification::Stable, "{}", t.why);
    assert_eq!(t.evidence.fixed_regressions.len(), 1);
    let r = &t.evidence.fixed_regressions[0];
    assert_eq!(r.failures, 12);
    assert_eq!(r.fixed_commit, format!("{:040x}", 32 / 2 + 1));
    assert!(
        t.why
            .contains("12 failures of a regression fixed at commit 000000000000 set aside"),
        "{}",
        t.why
    );
    assert!(t.history.contains('R'));
    // Its failures are still its signatures: they happened.
    assert_eq!(t.signatures[0].count, 12 + 8);
}

#[test]
fn a_flaky_test_whose_last_runs_failed_is_flaky_not_broken() {
    // No retries, fails in 40% of its runs; by bad luck its last 3 runs failed.
    let (_d, mut store) = history(120, &["coin"], &["linux"], |run, _, _| {
        if run >= 117 || chance(run, 7, 400) {
            Did::Fail(format!("AssertionError: queue drained in {} ms", run * 7))
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    let t = find(&a, "coin", "linux");
    assert_eq!(t.classification, Classification::Flaky, "{}", t.why);
    assert!(t.evidence.broken_since.is_none());
    assert_eq!(t.evidence.failure_streak, 3);
    let odds = t.evidence.streak_odds.expect("odds");
    assert!(odds > 0.01 && odds < 0.2, "{odds}");
    assert!(
        t.why
            .contains("its last 3 runs failed, which its flake rate of 0."),
        "{}",
        t.why
    );
}

#[test]
fn broken_needs_a_streak_its_flake_rate_does_not_explain() {
    // Flaky at 8% before, then 6 failures in a row: broken, and the odds are given.
    let (_d, mut store) = history(200, &["api"], &["linux"], |run, _, _| {
        if run >= 194 || chance(run, 3, 80) {
            Did::Fail("AssertionError: expected 200, got 500".into())
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    let t = find(&a, "api", "linux");
    assert_eq!(t.classification, Classification::Broken, "{}", t.why);
    assert!(
        t.why.starts_with("6 failures in a row since commit"),
        "{}",
        t.why
    );
    assert!(t.why.contains("that has odds of 1 in"), "{}", t.why);
    // A test that never failed before: three failures are enough.
    let (_d, mut store) = history(50, &["new"], &["linux"], |run, _, _| {
        if run >= 47 {
            Did::Fail("boom".into())
        } else {
            Did::Pass
        }
    });
    let t = run(&mut store).tests.remove(0);
    assert_eq!(t.classification, Classification::Broken, "{}", t.why);
    assert!(
        t.why.contains("it had not failed in its 47 runs before"),
        "{}",
        t.why
    );
}

#[test]
fn old_flakes_leave_the_window_and_thin_evidence_is_not_enough() {
    let tests = ["old", "shared-once", "own-once", "twice", "own-long-ago"];
    let (_d, mut store) = history(400, &tests, &["linux"], |run, t, _| match t {
        // Two retry flakes 350 runs ago, none since.
        "old" if run == 20 || run == 40 => Did::Flake("Error: element not found".into()),
        // One retry flake with an error other tests have too.
        "shared-once" if run == 390 => Did::Flake("Error: element not found".into()),
        // One retry flake with an error of its own.
        "own-once" if run == 390 => Did::Flake("AssertionError: cart total 41 != 42".into()),
        "twice" if run == 350 || run == 390 => Did::Flake("Error: element not found".into()),
        // One flake of its own, long ago inside the window: a score that would round to 0.00.
        "own-long-ago" if run == 120 => Did::Flake("KeyError: 'session'".into()),
        _ => Did::Pass,
    });
    let a = run(&mut store);
    let class = |t: &str| find(&a, t, "linux").classification;
    let old = find(&a, "old", "linux");
    assert_eq!(old.classification, Classification::Stable, "{}", old.why);
    assert_eq!(old.evidence.older_failures, 2);
    assert!(
        old.why
            .contains("2 failures older than its last 300 runs not counted"),
        "{}",
        old.why
    );
    let shared = find(&a, "shared-once", "linux");
    assert_eq!(
        shared.classification,
        Classification::Stable,
        "{}",
        shared.why
    );
    assert!(shared.evidence.weak_signal);
    assert!(
        shared
            .why
            .contains("one signal, with an error other tests had too"),
        "{}",
        shared.why
    );
    assert_eq!(class("own-once"), Classification::Flaky);
    assert_eq!(class("twice"), Classification::Flaky);
    let long_ago = find(&a, "own-long-ago", "linux");
    assert_eq!(
        long_ago.classification,
        Classification::Stable,
        "{}",
        long_ago.why
    );
    assert!(
        long_ago.why.contains("its flake rate is too low"),
        "{}",
        long_ago.why
    );
    for t in &a.tests {
        if t.classification == Classification::Flaky {
            assert!(format!("{:.2}", t.score) != "0.00", "{t:?}");
        }
    }
    // A shorter window forgets more.
    let opts = AnalysisOptions {
        evidence_window: 30,
        ..AnalysisOptions::default()
    };
    let a = analyze(&mut store, &opts).expect("analyze");
    assert_eq!(
        find(&a, "twice", "linux").classification,
        Classification::Stable
    );
}

#[test]
fn a_breakage_across_consecutive_runs_is_not_an_incident() {
    // A commit breaks 10 of 40 tests with one error for the last 5 runs: broken tests, no
    // incident.
    let all = names(40);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(50, &tests, &["linux"], |run, t, _| {
        let i: usize = t[1..].parse().expect("n");
        if run >= 45 && i < 10 {
            Did::Fail("ImportError: cannot import name 'Client' from 'app.api'".into())
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    assert_eq!(a.count(Classification::Broken), 10, "{}", a.counts_line());
}

#[test]
fn below_min_runs_there_is_not_enough_data() {
    let (_d, mut store) = history(40, &["old", "new"], &["linux"], |run, t, _| match t {
        "new" if run < 38 => Did::Skip,
        "new" if run == 38 => Did::Flake("Error: flaky".into()),
        _ => Did::Pass,
    });
    let opts = AnalysisOptions {
        min_runs: 5,
        ..AnalysisOptions::default()
    };
    let a = analyze(&mut store, &opts).expect("analyze");
    let new = find(&a, "new", "linux");
    assert_eq!(new.classification, Classification::NotEnoughData);
    assert!(
        new.why.contains("2 runs of its own: not enough to call"),
        "{}",
        new.why
    );
    assert_eq!(
        find(&a, "old", "linux").classification,
        Classification::Stable
    );
    assert_eq!(
        serde_json::to_value(new).expect("json")["classification"],
        "not-enough-data"
    );
    // With the default, the same test is flaky.
    let a = run(&mut store);
    assert_eq!(
        find(&a, "new", "linux").classification,
        Classification::Flaky
    );
}

#[test]
fn the_trend_counts_flaky_tests_failures_as_flaky() {
    // No retries: a flaky test's failures are cross-run flakes; a broken one's are failures.
    let (_d, mut store) = history(
        40,
        &["flaky", "broken", "ok"],
        &["linux"],
        |run, t, _| match t {
            "flaky" if run % 4 == 1 => Did::Fail(format!("race {run}")),
            "broken" if run >= 30 => Did::Fail("boom".into()),
            _ => Did::Pass,
        },
    );
    let a = run(&mut store);
    assert_eq!(
        find(&a, "flaky", "linux").classification,
        Classification::Flaky
    );
    assert_eq!(
        find(&a, "broken", "linux").classification,
        Classification::Broken
    );
    let p = &a.trend[33];
    assert_eq!((p.ran, p.failed, p.flaky), (3, 1, 1));
    let p = &a.trend[5];
    assert_eq!((p.ran, p.failed, p.flaky), (3, 0, 1));
    let total_flaky: u64 = a.trend.iter().map(|p| p.flaky).sum();
    assert_eq!(total_flaky, 10);
    // The chart has axes: percentages up the side, the runs' dates along the bottom.
    let svg = flakiness_analyze::trend_svg(&a);
    assert_eq!(svg.matches("class=\"ylabel\"").count(), 5, "{svg}");
    assert!(svg.contains(">0%<") || svg.contains(">0.0%<"), "{svg}");
    assert!(
        svg.contains(">2023-11-14<") && svg.contains(">2023-11-16<"),
        "{svg}"
    );
    assert_eq!(svg.matches("<polyline").count(), 2);
}

#[test]
fn failures_that_say_nothing_have_no_signature() {
    let (_d, mut store) = history(20, &["a", "b"], &["linux"], |run, _, _| {
        if run % 5 == 2 {
            Did::Flake(String::new())
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    assert!(a.patterns.is_empty(), "{:?}", a.patterns);
    assert!(a.tests.iter().all(|t| t.signatures.is_empty()));
}

#[test]
fn an_incident_error_sets_aside_small_groups_but_not_a_lone_failure() {
    // Run 40: an outage (20 of 30 tests, connection refused). Run 60: the same outage reaches
    // two tests only (too few for an incident): set aside. t29 flakes alone, every eighth
    // run, with a connection refused of its own (its mock server): still flaky.
    let all = names(30);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(80, &tests, &["linux"], |run, t, _| {
        let i: usize = t[1..].parse().expect("n");
        let outage = "Error: connect ECONNREFUSED 127.0.0.1:5432";
        match (run, i) {
            (40, 0..=19) | (60, 0..=1) => Did::Flake(outage.into()),
            (r, 29) if r % 8 == 3 => {
                Did::Flake("Error: connect ECONNREFUSED 127.0.0.1:8080 (mock server)".into())
            }
            _ => Did::Pass,
        }
    });
    let a = run(&mut store);
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    for t in ["t00", "t01"] {
        let t = find(&a, t, "linux");
        assert_eq!(t.classification, Classification::Stable, "{}", t.why);
        assert_eq!(
            (t.evidence.incident_runs, t.evidence.infra_failures),
            (1, 1)
        );
        assert!(
            t.why
                .contains("1 failure with an incident's error set aside"),
            "{}",
            t.why
        );
    }
    let lone = find(&a, "t29", "linux");
    assert_eq!(lone.classification, Classification::Flaky, "{}", lone.why);
    assert_eq!(lone.evidence.retry_flakes, 10);
    assert_eq!(lone.evidence.infra_failures, 0);
}

#[test]
fn failures_that_say_nothing_make_no_incident() {
    // Every failing test of a run with an attempt that recorded no error (as pytest-rerunfailures'
    // inferred attempts): nothing is shared, so no incident; the failures stay the tests' own.
    let all = names(12);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let (_d, mut store) = history(30, &tests, &["linux"], |run, t, _| {
        let i: usize = t[1..].parse().expect("n");
        if run % 10 == 5 && i < 8 {
            Did::Flake(String::new())
        } else {
            Did::Pass
        }
    });
    let a = run(&mut store);
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    let t = find(&a, "t00", "linux");
    assert_eq!((t.evidence.retry_flakes, t.evidence.incident_runs), (3, 0));
}

#[test]
fn the_analysis_does_not_depend_on_the_order_runs_were_stored_in() {
    // Two incidents whose tests word the error differently (ties between signatures), a
    // regression fixed later, a flaky test: stored forward and backward, the same analysis.
    let all = names(24);
    let tests: Vec<&str> = all.iter().map(String::as_str).collect();
    let plan = |run: usize, t: &str, env: &str| {
        let i: usize = t[1..].parse().expect("n");
        match (run, i) {
            (12 | 33, 0..=13) if env == "windows" => Did::Flake(if i.is_multiple_of(2) {
                format!("ConnectionRefusedError: [Errno 111] Connection refused ({t})")
            } else {
                "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.".into()
            }),
            (20..=24, 20) => Did::Fail("TimeoutError: test exceeded 30000 ms".into()),
            (r, 23) if r % 5 == 1 => Did::Flake(format!("AssertionError: {} != 3", r % 4)),
            _ => Did::Pass,
        }
    };
    let (_a, mut forward) = history(40, &tests, &["linux", "windows"], plan);
    let (_b, mut backward) = history_reversed(40, &tests, &["linux", "windows"], plan);
    let (x, y) = (run(&mut forward), run(&mut backward));
    assert_eq!(x.incidents.len(), 2);
    assert_eq!(
        serde_json::to_value(&x).expect("json"),
        serde_json::to_value(&y).expect("json")
    );
}
