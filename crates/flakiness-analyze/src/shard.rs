//! Shard plans from history: the tests of a suite split over N CI jobs so that each job takes
//! about as long, from the durations the history store remembers (spec/shard.md).
//!
//! [`expected_durations`] reads a store into one expected duration per test and environment
//! (the median of its latest attempts' durations); [`plan`] balances tests over shards:
//! tests with a known duration longest first onto the least loaded shard (LPT, within 4/3 of
//! the best split), then the tests without one ("new") dealt round-robin, least loaded shard
//! first. Both are pure and deterministic: the same input gives the same plan.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use flakiness_store::{HistoryStore, Outcome, StoreError};

/// Latest results of a test whose durations make its expected duration, by default.
pub const DEFAULT_RECENT: usize = 10;

/// A test to plan: its id (in the runner's form) and its expected duration, `None` when the
/// history does not know it (a new test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    pub id: String,
    pub expected_ms: Option<u64>,
}

/// One shard of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    /// Sum of the expected durations of its tests with a known one, plus its new tests counted
    /// at [`Plan::new_test_ms`] each.
    pub expected_ms: u64,
    /// Its tests: known ones in the order they were assigned (longest first), then its new
    /// ones (by id).
    pub tests: Vec<String>,
    /// How many of `tests` are new (no duration in the history).
    pub new_tests: usize,
}

/// The tests split over shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub shards: Vec<Shard>,
    /// What a new test is counted as in [`Shard::expected_ms`]: the median of the known
    /// expected durations (0 when none is known).
    pub new_test_ms: u64,
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--total 0`.
    #[error("the number of shards must be at least 1 (got 0)")]
    NoShards,
    /// An index past the last shard.
    #[error("shard index {index} is out of range: with {total} shard(s), the index is 0 to {}", total - 1)]
    IndexOutOfRange { index: usize, total: usize },
}

/// Checks a shard index against a number of shards.
pub fn check_index(index: usize, total: usize) -> Result<(), ShardError> {
    if total == 0 {
        return Err(ShardError::NoShards);
    }
    if index >= total {
        return Err(ShardError::IndexOutOfRange { index, total });
    }
    Ok(())
}

/// Splits `tests` over `total` shards.
///
/// Tests of the same id are one test (their known durations added up). Known tests are sorted
/// by expected duration, longest first, then by id, and each goes to the shard with the least
/// expected time so far (ties: fewer tests, then the lower index): the longest-processing-time
/// rule, whose longest shard is at most 4/3 of the best possible one. New tests follow, by id,
/// dealt round-robin over the shards ordered by expected time after the known ones (least
/// first, ties by index), so that each shard gets the same number of them, give or take one.
pub fn plan(tests: Vec<PlanInput>, total: usize) -> Result<Plan, ShardError> {
    if total == 0 {
        return Err(ShardError::NoShards);
    }
    // One entry per id: durations of the same id added up, known wins over unknown.
    let mut tests = tests;
    tests.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let mut merged: Vec<PlanInput> = Vec::with_capacity(tests.len());
    for t in tests {
        match merged.last_mut() {
            Some(last) if last.id == t.id => {
                last.expected_ms = match (last.expected_ms, t.expected_ms) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                }
            }
            _ => merged.push(t),
        }
    }
    let (mut known, new): (Vec<PlanInput>, Vec<PlanInput>) =
        merged.into_iter().partition(|t| t.expected_ms.is_some());
    // Ids are unique: this order is total.
    known.sort_by(|a, b| {
        b.expected_ms
            .cmp(&a.expected_ms)
            .then_with(|| a.id.cmp(&b.id))
    });
    let new_test_ms = median(known.iter().filter_map(|t| t.expected_ms));

    let mut shards: Vec<Shard> = (0..total)
        .map(|index| Shard {
            index,
            expected_ms: 0,
            tests: Vec::new(),
            new_tests: 0,
        })
        .collect();
    // The least loaded shard on top: (time, tests, index), smallest first.
    let mut heap: BinaryHeap<Reverse<(u64, usize, usize)>> =
        (0..total).map(|i| Reverse((0, 0, i))).collect();
    for t in known {
        let ms = t.expected_ms.unwrap_or(0);
        if let Some(Reverse((load, count, i))) = heap.pop() {
            let shard = &mut shards[i];
            shard.expected_ms = load.saturating_add(ms);
            shard.tests.push(t.id);
            heap.push(Reverse((shard.expected_ms, count + 1, i)));
        }
    }
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_key(|&i| (shards[i].expected_ms, i));
    for (n, t) in new.into_iter().enumerate() {
        let shard = &mut shards[order[n % total]];
        shard.tests.push(t.id);
        shard.new_tests += 1;
        shard.expected_ms = shard.expected_ms.saturating_add(new_test_ms);
    }
    Ok(Plan {
        shards,
        new_test_ms,
    })
}

/// The median of some durations (the lower of the two middle ones for an even count; 0 for
/// none).
fn median(values: impl Iterator<Item = u64>) -> u64 {
    let mut v: Vec<u64> = values.collect();
    if v.is_empty() {
        return 0;
    }
    let mid = (v.len() - 1) / 2;
    *v.select_nth_unstable(mid).1
}

/// The expected duration of one test in one environment, from the history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestDuration {
    pub file: String,
    /// The suite titles, then the test's title.
    pub title_path: Vec<String>,
    pub environment: String,
    /// The median duration of one attempt over its latest results.
    pub expected_ms: u64,
    /// How many results it is the median of.
    pub samples: u32,
}

/// The expected duration of every stored test (and environment) that ran with a known
/// duration: the median of `duration / attempts` over its latest `recent` results that ran
/// (passed, failed or flaky; skipped results and results without a duration are left out),
/// latest by the start of their run (then by run id). By file, title path, environment.
pub fn expected_durations(
    store: &mut dyn HistoryStore,
    recent: usize,
) -> Result<Vec<TestDuration>, StoreError> {
    let recent = recent.max(1);
    let mut runs = store.runs()?;
    runs.sort_by_key(|r| (r.meta.start_ms, r.id));
    // A run's place in time: the higher, the later.
    let rank: HashMap<i64, u32> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i as u32))
        .collect();
    let tests = store.tests()?;
    let index: HashMap<i64, usize> = tests.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut samples: Vec<Vec<(u32, u64)>> = vec![Vec::new(); tests.len()];
    store.for_each_result(&mut |row| {
        let (Some(ms), Some(&i), Some(&when)) = (
            row.duration_ms,
            index.get(&row.test_id),
            rank.get(&row.run_id),
        ) else {
            return;
        };
        if row.outcome == Outcome::Skipped || row.attempts == 0 || ms < 0 {
            return;
        }
        let s = &mut samples[i];
        s.push((when, ms as u64 / u64::from(row.attempts)));
        // Bounded memory: keep the latest `recent` once twice as many are held.
        if s.len() >= 2 * recent {
            latest(s, recent);
        }
    })?;
    let mut out: Vec<TestDuration> = tests
        .into_iter()
        .zip(samples)
        .filter(|(_, s)| !s.is_empty())
        .map(|(t, mut s)| {
            latest(&mut s, recent);
            TestDuration {
                file: t.file,
                title_path: t.title_path,
                environment: t.environment,
                expected_ms: median(s.iter().map(|&(_, ms)| ms)),
                samples: s.len() as u32,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.file, &a.title_path, &a.environment).cmp(&(&b.file, &b.title_path, &b.environment))
    });
    Ok(out)
}

/// Keeps the `n` latest samples.
fn latest(s: &mut Vec<(u32, u64)>, n: usize) {
    s.sort_unstable_by_key(|&(when, ms)| Reverse((when, ms)));
    s.truncate(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(known: &[(&str, u64)], new: &[&str]) -> Vec<PlanInput> {
        let mut v: Vec<PlanInput> = known
            .iter()
            .map(|&(id, ms)| PlanInput {
                id: id.into(),
                expected_ms: Some(ms),
            })
            .collect();
        v.extend(new.iter().map(|&id| PlanInput {
            id: id.into(),
            expected_ms: None,
        }));
        v
    }

    /// A pseudo-random suite: `n` tests of 0 to 5 s, a few long ones.
    fn suite(n: usize, seed: u64) -> Vec<PlanInput> {
        let mut x = seed;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let ms = if i.is_multiple_of(97) {
                    20_000 + (x >> 40) % 10_000
                } else {
                    (x >> 33) % 5_000
                };
                PlanInput {
                    id: format!("tests/t{:03}.py::test_{i}", i % 200),
                    expected_ms: Some(ms),
                }
            })
            .collect()
    }

    #[test]
    fn within_the_lpt_bound_and_every_test_once() {
        for (n, total) in [(1, 1), (10, 3), (1000, 7), (5000, 16), (40, 40), (3, 8)] {
            let tests = suite(n, n as u64 * 31 + total as u64);
            let sum: u64 = tests.iter().filter_map(|t| t.expected_ms).sum();
            let longest = tests
                .iter()
                .filter_map(|t| t.expected_ms)
                .max()
                .unwrap_or(0);
            let p = plan(tests.clone(), total).expect("plan");
            assert_eq!(p.shards.len(), total);
            // A lower bound of the best split: 4/3 of it bounds LPT.
            let lower = (sum.div_ceil(total as u64)).max(longest);
            let max = p.shards.iter().map(|s| s.expected_ms).max().unwrap_or(0);
            assert!(
                3 * max <= 4 * lower,
                "{n} tests / {total}: {max} vs {lower}"
            );
            assert_eq!(p.shards.iter().map(|s| s.expected_ms).sum::<u64>(), sum);
            let mut all: Vec<&String> = p.shards.iter().flat_map(|s| &s.tests).collect();
            all.sort();
            let mut ids: Vec<&String> = tests.iter().map(|t| &t.id).collect();
            ids.sort();
            assert_eq!(all, ids);
        }
    }

    #[test]
    fn deterministic_whatever_the_input_order() {
        let tests = suite(3000, 7);
        let mut reversed = tests.clone();
        reversed.reverse();
        assert_eq!(plan(tests.clone(), 5), plan(reversed, 5));
        assert_eq!(plan(tests.clone(), 5), plan(tests, 5));
    }

    #[test]
    fn ties_by_id_and_by_index() {
        let p = plan(input(&[("b", 5), ("a", 5), ("c", 5)], &[]), 2).expect("plan");
        assert_eq!(p.shards[0].tests, ["a", "c"]);
        assert_eq!(p.shards[1].tests, ["b"]);
        assert_eq!((p.shards[0].expected_ms, p.shards[1].expected_ms), (10, 5));
    }

    /// Tests of 0 ms (fast unit tests) spread by count, not all on shard 0.
    #[test]
    fn zero_durations_spread_by_count() {
        let known: Vec<(String, u64)> = (0..10).map(|i| (format!("t{i}"), 0)).collect();
        let known: Vec<(&str, u64)> = known.iter().map(|(s, m)| (s.as_str(), *m)).collect();
        let p = plan(input(&known, &[]), 3).expect("plan");
        let counts: Vec<usize> = p.shards.iter().map(|s| s.tests.len()).collect();
        assert_eq!(counts, [4, 3, 3]);
    }

    #[test]
    fn new_tests_round_robin_from_the_least_loaded() {
        let p = plan(
            input(
                &[("slow", 100), ("mid", 60), ("fast", 10)],
                &["n3", "n1", "n2", "n4"],
            ),
            3,
        )
        .expect("plan");
        // After LPT: shard 0 = slow (100), 1 = mid (60), 2 = fast (10): the new ones go to
        // 2, 1, 0, 2 by id; each counted at the median of the known (60).
        assert_eq!(p.new_test_ms, 60);
        assert_eq!(p.shards[2].tests, ["fast", "n1", "n4"]);
        assert_eq!(p.shards[1].tests, ["mid", "n2"]);
        assert_eq!(p.shards[0].tests, ["slow", "n3"]);
        assert_eq!(
            p.shards.iter().map(|s| s.new_tests).collect::<Vec<_>>(),
            [1, 1, 2]
        );
        assert_eq!(p.shards[2].expected_ms, 10 + 2 * 60);
    }

    #[test]
    fn duplicates_are_one_test() {
        let p = plan(input(&[("a", 5), ("a", 7)], &["a", "b"]), 2).expect("plan");
        assert_eq!(p.shards[0].tests, ["a"]);
        assert_eq!(p.shards[0].expected_ms, 12);
        assert_eq!(p.shards[1].tests, ["b"]);
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(plan(Vec::new(), 0), Err(ShardError::NoShards));
        assert_eq!(check_index(0, 0), Err(ShardError::NoShards));
        assert_eq!(
            check_index(3, 3),
            Err(ShardError::IndexOutOfRange { index: 3, total: 3 })
        );
        assert!(check_index(2, 3).is_ok());
        assert_eq!(
            ShardError::IndexOutOfRange { index: 3, total: 3 }.to_string(),
            "shard index 3 is out of range: with 3 shard(s), the index is 0 to 2"
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median([].into_iter()), 0);
        assert_eq!(median([5].into_iter()), 5);
        assert_eq!(median([9, 1, 5, 7].into_iter()), 5);
    }
}
