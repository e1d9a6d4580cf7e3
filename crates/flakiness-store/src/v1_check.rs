//! What both stores' migration tests check after migrating the same version 1 data (runs 1 to
//! 3, tests 10 to 40, run 3 without results).

use crate::HistoryStore;

/// The version 1 results: (run, test, outcome code, attempts, failed attempts, duration).
pub(crate) const V1_RESULTS: [(i64, i64, i64, u32, u32, Option<i64>); 5] = [
    (1, 10, 0, 1, 0, Some(5)),
    (1, 40, 1, 2, 2, None),
    (2, 20, 2, 2, 1, Some(7)),
    (2, 30, 3, 0, 0, None),
    (2, 40, 0, 1, 0, Some(1)),
];

/// Every version 1 result reads back, with the run totals and counts.
pub(crate) fn assert_v1_results_migrated(store: &mut dyn HistoryStore) {
    let mut rows = Vec::new();
    store
        .for_each_result(&mut |r| {
            rows.push((
                r.run_id,
                r.test_id,
                r.outcome.code(),
                r.attempts,
                r.failed_attempts,
                r.duration_ms,
            ))
        })
        .expect("results");
    assert_eq!(rows, V1_RESULTS);
    let totals: Vec<(i64, u64, u64, u64)> = store
        .run_totals()
        .expect("totals")
        .into_iter()
        .map(|t| (t.run_id, t.ran, t.failed, t.flaky))
        .collect();
    assert_eq!(totals, [(1, 2, 1, 0), (2, 2, 0, 1)]);
    let c = store.counts().expect("counts");
    assert_eq!((c.runs, c.tests, c.results), (3, 4, 5));
}

/// Run 1's results packed in format 1, as schema versions before the expected statuses wrote
/// them (SQLite 2 and 3, PostgreSQL 2): test 10 passed in 1 attempt (5 ms), test 40 failed in
/// 2 attempts. Its `failures` row: test 40's attempt 0, kind `unknown`, no message (how an
/// unexpected pass was stored).
pub(crate) const FORMAT_1_RUN_1: [u8; 12] = [1, 10, 0, 1, 0, 1, 10, 30, 1, 2, 2, 0];

/// A stored result with its run: (run, [`crate::packed::Unpacked`]).
type Row = (i64, crate::packed::Unpacked);

/// Every stored result, by run then test.
fn rows(store: &mut dyn HistoryStore) -> Vec<Row> {
    let mut rows = Vec::new();
    store
        .for_each_result(&mut |r| rows.push((r.run_id, crate::packed::of_row(&r))))
        .expect("results");
    rows
}

/// The results of the run `run_id`.
fn rows_of(store: &mut dyn HistoryStore, run_id: i64) -> Vec<Row> {
    rows(store).into_iter().filter(|r| r.0 == run_id).collect()
}

/// Every run's totals: (run, ran, failed, flaky, expected failures, unexpected passes, failed
/// duration).
fn totals(store: &mut dyn HistoryStore) -> Vec<(i64, u64, u64, u64, u64, u64, i64)> {
    store
        .run_totals()
        .expect("totals")
        .into_iter()
        .map(|t| {
            let marks = (t.expected_failures, t.unexpected_passes);
            let lost = t.failed_duration_ms;
            (t.run_id, t.ran, t.failed, t.flaky, marks.0, marks.1, lost)
        })
        .collect()
}

/// A result of the test `title` (file `f`, environment `e`) that ran once.
fn result(title: &str) -> crate::TestResult {
    crate::TestResult {
        file: "f".into(),
        title_path: vec![title.into()],
        environment: "e".into(),
        attempts: 1,
        ..crate::TestResult::default()
    }
}

/// Stores a new run (content hash `hash`) of `results`: its id.
fn ingest_new(store: &mut dyn HistoryStore, hash: &str, results: Vec<crate::TestResult>) -> i64 {
    let run = crate::RunRecord {
        meta: crate::RunMeta {
            content_hash: hash.into(),
            source: "new".into(),
            commit_id: "c".into(),
            start_ms: 100,
            category: "pytest".into(),
            ..crate::RunMeta::default()
        },
        results,
    };
    let crate::Ingested::New { run_id } = store.ingest(&run).expect("ingest") else {
        panic!("the new run is stored");
    };
    run_id
}

/// A failure of attempt 0, without a stack.
fn failure(kind: crate::FailureKind, message: Option<&str>) -> crate::FailureRecord {
    crate::FailureRecord {
        attempt: 0,
        kind,
        message: message.map(str::to_string),
        stack: None,
    }
}

/// The `failures` row of run 1 in [`FORMAT_1_RUN_1`] and [`FORMAT_2_RUN_1`] stores: test 40's
/// attempt 0, kind `unknown`, no message.
fn old_failure() -> crate::FailureRecord {
    failure(crate::FailureKind::Unknown, None)
}

/// The results of a migrated store whose run 1 is [`FORMAT_1_RUN_1`] (tests 10 and 40 named
/// `t1` and `t4` in file `f`, environment `e`) read as before, with no expected failure nor
/// unexpected pass nor failed duration; a run stored after the migration keeps the marks.
pub(crate) fn assert_format_1_results_read_as_before(store: &mut dyn HistoryStore) {
    use crate::{FailureKind, Outcome, TestResult};
    assert_eq!(
        rows(store),
        [
            (1, (10, Outcome::Passed, 1, 0, Some(5), 0, 0, None)),
            (1, (40, Outcome::Failed, 2, 2, None, 0, 0, None))
        ]
    );
    assert_eq!(totals(store), [(1, 2, 1, 0, 0, 0, 0)]);
    assert_eq!(store.failures(1, 40).expect("failures"), [old_failure()]);

    // A run stored since keeps an expected failure (t1) and an unexpected pass (t4).
    let xpass = failure(
        FailureKind::UnexpectedPass,
        Some("passed, but was expected to fail"),
    );
    let run_id = ingest_new(
        store,
        "h-new",
        vec![
            TestResult {
                outcome: Outcome::Passed,
                expected_failures: 1,
                ..result("t1")
            },
            TestResult {
                outcome: Outcome::Failed,
                failed_attempts: 1,
                unexpected_passes: 1,
                failures: vec![xpass.clone()],
                ..result("t4")
            },
        ],
    );
    assert_eq!(
        rows_of(store, run_id),
        [
            (run_id, (10, Outcome::Passed, 1, 0, None, 1, 0, None)),
            (run_id, (40, Outcome::Failed, 1, 1, None, 0, 1, None))
        ]
    );
    assert_eq!(
        totals(store),
        [(1, 2, 1, 0, 0, 0, 0), (run_id, 2, 1, 0, 1, 1, 0)]
    );
    assert_eq!(store.failures(run_id, 40).expect("failures"), [xpass]);
}

/// Run 1's results packed in format 2, as schema version 4 (PostgreSQL 3) wrote them: test 10
/// passed in 1 attempt (5 ms) with an expected failure, test 40 failed in 2 attempts (30 ms),
/// one an unexpected pass. Its `failures` row is [`FORMAT_1_RUN_1`]'s.
pub(crate) const FORMAT_2_RUN_1: [u8; 17] = [2, 10, 0, 1, 0, 1, 10, 1, 0, 30, 1, 2, 2, 1, 60, 0, 1];

/// The results of a migrated store whose run 1 is [`FORMAT_2_RUN_1`] (with its totals: 1
/// expected failure, 1 unexpected pass) read as before, with no failed duration (0 in the
/// totals); a run stored after the migration keeps its failed durations, and its totals their
/// sum.
pub(crate) fn assert_format_2_results_read_as_before(store: &mut dyn HistoryStore) {
    use crate::{FailureKind, Outcome, TestResult};
    assert_eq!(
        rows(store),
        [
            (1, (10, Outcome::Passed, 1, 0, Some(5), 1, 0, None)),
            (1, (40, Outcome::Failed, 2, 2, Some(30), 0, 1, None))
        ]
    );
    assert_eq!(totals(store), [(1, 2, 1, 0, 1, 1, 0)]);
    assert_eq!(store.failures(1, 40).expect("failures"), [old_failure()]);

    // A run stored since: t1 failed once (1200 ms) then passed (300 ms); t4 passed (300 ms).
    let timeout = failure(FailureKind::Timeout, Some("timed out"));
    let run_id = ingest_new(
        store,
        "h-lost",
        vec![
            TestResult {
                outcome: Outcome::Flaky,
                attempts: 2,
                failed_attempts: 1,
                duration_ms: Some(1_500),
                failed_duration_ms: Some(1_200),
                failures: vec![timeout.clone()],
                ..result("t1")
            },
            TestResult {
                outcome: Outcome::Passed,
                duration_ms: Some(300),
                failed_duration_ms: Some(0),
                ..result("t4")
            },
        ],
    );
    assert_eq!(
        rows_of(store, run_id),
        [
            (
                run_id,
                (10, Outcome::Flaky, 2, 1, Some(1_500), 0, 0, Some(1_200))
            ),
            (
                run_id,
                (40, Outcome::Passed, 1, 0, Some(300), 0, 0, Some(0))
            )
        ]
    );
    assert_eq!(
        totals(store),
        [(1, 2, 1, 0, 1, 1, 0), (run_id, 2, 0, 1, 0, 0, 1_200)]
    );
    assert_eq!(store.failures(run_id, 10).expect("failures"), [timeout]);
}
