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

/// The results of a migrated store whose run 1 is [`FORMAT_1_RUN_1`] (tests 10 and 40 named
/// `t1` and `t4` in file `f`, environment `e`) read as before, with no expected failure nor
/// unexpected pass; a run stored after the migration keeps them.
pub(crate) fn assert_format_1_results_read_as_before(store: &mut dyn HistoryStore) {
    use crate::{FailureKind, FailureRecord, Ingested, Outcome, RunMeta, RunRecord, TestResult};
    type Row = (i64, crate::packed::Unpacked);
    let rows = |store: &mut dyn HistoryStore| -> Vec<Row> {
        let mut rows = Vec::new();
        store
            .for_each_result(&mut |r| rows.push((r.run_id, crate::packed::of_row(&r))))
            .expect("results");
        rows
    };
    let totals = |store: &mut dyn HistoryStore| -> Vec<(i64, u64, u64, u64, u64, u64)> {
        store
            .run_totals()
            .expect("totals")
            .into_iter()
            .map(|t| {
                let marks = (t.expected_failures, t.unexpected_passes);
                (t.run_id, t.ran, t.failed, t.flaky, marks.0, marks.1)
            })
            .collect()
    };
    assert_eq!(
        rows(store),
        [
            (1, (10, Outcome::Passed, 1, 0, Some(5), 0, 0)),
            (1, (40, Outcome::Failed, 2, 2, None, 0, 0))
        ]
    );
    assert_eq!(totals(store), [(1, 2, 1, 0, 0, 0)]);
    let old_failure = FailureRecord {
        attempt: 0,
        kind: FailureKind::Unknown,
        message: None,
        stack: None,
    };
    assert_eq!(store.failures(1, 40).expect("failures"), [old_failure]);

    // A run stored since keeps an expected failure (t1) and an unexpected pass (t4).
    let xpass = FailureRecord {
        attempt: 0,
        kind: FailureKind::UnexpectedPass,
        message: Some("passed, but was expected to fail".into()),
        stack: None,
    };
    let result = |title: &str| TestResult {
        file: "f".into(),
        title_path: vec![title.into()],
        environment: "e".into(),
        attempts: 1,
        ..TestResult::default()
    };
    let run = RunRecord {
        meta: RunMeta {
            content_hash: "h-new".into(),
            source: "new".into(),
            commit_id: "c".into(),
            start_ms: 100,
            category: "pytest".into(),
            ..RunMeta::default()
        },
        results: vec![
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
    };
    let Ingested::New { run_id } = store.ingest(&run).expect("ingest") else {
        panic!("the new run is stored");
    };
    let new: Vec<Row> = rows(store).into_iter().filter(|r| r.0 == run_id).collect();
    assert_eq!(
        new,
        [
            (run_id, (10, Outcome::Passed, 1, 0, None, 1, 0)),
            (run_id, (40, Outcome::Failed, 1, 1, None, 0, 1))
        ]
    );
    assert_eq!(totals(store), [(1, 2, 1, 0, 0, 0), (run_id, 2, 1, 0, 1, 1)]);
    assert_eq!(store.failures(run_id, 40).expect("failures"), [xpass]);
}
