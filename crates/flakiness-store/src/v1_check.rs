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
