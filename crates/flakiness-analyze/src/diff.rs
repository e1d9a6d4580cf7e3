//! Two runs compared: what changed between run A (say, the last green one) and run B (this
//! one), test by test (spec/diff.md).
//!
//! Both runs are [`RunRecord`]s, as [`summarize`](crate::summarize) makes them: one result per
//! test and environment. A test is the same in both runs when its file, title path and
//! environment are the same (spec/identity.md); results of one test repeated in a run are
//! merged first, as the store merges them ([`flakiness_store::merged`]).
//!
//! ```
//! use flakiness_analyze::diff::{diff, DiffOptions};
//! use flakiness_store::{Outcome, RunRecord, TestResult};
//!
//! let test = |outcome| TestResult {
//!     file: "tests/a.rs".into(),
//!     title_path: vec!["adds".into()],
//!     environment: "linux".into(),
//!     outcome,
//!     attempts: 1,
//!     ..TestResult::default()
//! };
//! let a = RunRecord { results: vec![test(Outcome::Passed)], ..RunRecord::default() };
//! let b = RunRecord { results: vec![test(Outcome::Failed)], ..RunRecord::default() };
//! let d = diff(&a, &b, &DiffOptions::default());
//! assert_eq!(d.new_failures.len(), 1);
//! assert_eq!(d.new_failures[0].outcome_a, Some(Outcome::Passed));
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;

use flakiness_store::{Outcome, RunRecord, TestResult};
use serde::{Serialize, Serializer};

/// How [`diff`] tells a slower or faster test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffOptions {
    /// A test is slower when its duration in B is more than A's × (1 + `slower_pct` / 100)
    /// (faster: A's more than B's × the same). Negative or NaN counts as 0.
    pub slower_pct: f64,
    /// A test whose durations are both below this (ms) is never slower nor faster: short
    /// tests vary by more than any percentage.
    pub min_duration_ms: i64,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            slower_pct: 20.0,
            min_duration_ms: 100,
        }
    }
}

/// Results of one run by outcome (one per test and environment, after merging).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub passed: u64,
    pub failed: u64,
    pub flaky: u64,
    pub skipped: u64,
}

/// One side of a comparison: the run's own facts and its totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffRun {
    pub title: Option<String>,
    pub commit_id: String,
    /// Start of the run (Unix ms).
    pub start_ms: i64,
    pub duration_ms: i64,
    /// The CI job's URL.
    pub url: Option<String>,
    /// Where the report was read from.
    pub source: String,
    pub totals: Totals,
}

/// One test (in one environment) that changed, as it was in each run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestChange {
    /// The test's file, empty when unknown.
    pub file: String,
    /// Suite titles (file suites excepted), then the test's title.
    pub title_path: Vec<String>,
    pub environment: String,
    /// Its outcome in A; `None` when A has no result for it.
    #[serde(serialize_with = "outcome_name")]
    pub outcome_a: Option<Outcome>,
    /// Its outcome in B; `None` when B has no result for it.
    #[serde(serialize_with = "outcome_name")]
    pub outcome_b: Option<Outcome>,
    /// Attempts that ran in A (absent: `None`).
    pub attempts_a: Option<u32>,
    pub attempts_b: Option<u32>,
    /// Attempts that ended otherwise than expected in A.
    pub failed_attempts_a: Option<u32>,
    pub failed_attempts_b: Option<u32>,
    /// Sum of its attempts' durations in A, when known.
    pub duration_ms_a: Option<i64>,
    pub duration_ms_b: Option<i64>,
    /// B's duration over A's (`slower` and `faster`; `None` elsewhere and when A's is 0).
    pub ratio: Option<f64>,
    /// The first line of its first error in B (in A for `fixed` and `removed`).
    pub error: Option<String>,
}

impl TestChange {
    /// `file › suite › title` (the file left out when unknown).
    pub fn display_name(&self) -> String {
        crate::analysis::display_name(&self.file, &self.title_path)
    }

    /// The change of duration in percent (`+142` for 1.2 s → 2.9 s), when there is a ratio.
    pub fn change_pct(&self) -> Option<f64> {
        self.ratio.map(|r| (r - 1.0) * 100.0)
    }
}

fn outcome_name<S: Serializer>(o: &Option<Outcome>, s: S) -> Result<S::Ok, S::Error> {
    match o {
        Some(o) => s.serialize_str(o.as_str()),
        None => s.serialize_none(),
    }
}

/// What changed from run A to run B. Every list is sorted by file, title path, then
/// environment. A test may be in several lists (failed in A, flaky in B: `fixed` and
/// `newly_flaky`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDiff {
    pub a: DiffRun,
    pub b: DiffRun,
    /// The options it was made with.
    pub options: DiffOptions,
    /// Failed in B, not in A (tests new in B that fail included).
    pub new_failures: Vec<TestChange>,
    /// Failed in A, passed or flaky in B.
    pub fixed: Vec<TestChange>,
    /// Flaky in B, not in A (tests new in B that are flaky included).
    pub newly_flaky: Vec<TestChange>,
    /// Flaky in A, in B and not flaky there.
    pub no_longer_flaky: Vec<TestChange>,
    /// Slower in B by more than the options' percentage.
    pub slower: Vec<TestChange>,
    /// Faster in B by as much (A slower than B by more than the percentage).
    pub faster: Vec<TestChange>,
    /// Only in B.
    pub added: Vec<TestChange>,
    /// Only in A.
    pub removed: Vec<TestChange>,
    /// Failed in both.
    pub still_failing: usize,
}

impl RunDiff {
    /// The lists by name (the JSON's), in the order they are shown.
    pub fn sections(&self) -> [(&'static str, &[TestChange]); 8] {
        [
            ("newFailures", &self.new_failures),
            ("fixed", &self.fixed),
            ("newlyFlaky", &self.newly_flaky),
            ("noLongerFlaky", &self.no_longer_flaky),
            ("slower", &self.slower),
            ("faster", &self.faster),
            ("added", &self.added),
            ("removed", &self.removed),
        ]
    }

    /// The heading of a section of [`sections`](Self::sections) (`Slower by more than 20 %`),
    /// as `flakiness diff` and the compare page write it.
    pub fn heading(&self, section: &str) -> String {
        let pct = self.options.slower_pct;
        match section {
            "newFailures" => "New failures".into(),
            "fixed" => "Fixed".into(),
            "newlyFlaky" => "Newly flaky".into(),
            "noLongerFlaky" => "No longer flaky".into(),
            "slower" => format!("Slower by more than {pct} %"),
            "faster" => format!("Faster by more than {pct} %"),
            "added" => "Added".into(),
            "removed" => "Removed".into(),
            other => other.into(),
        }
    }
}

/// Why [`parse_pct`] refused a percentage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?}: expected a percentage, 0 or more (like 20)")]
pub struct InvalidPct {
    pub given: String,
}

/// A percentage for [`DiffOptions::slower_pct`] as a user writes it (`20`, `12.5`, `20%`): a
/// finite number, 0 or more.
pub fn parse_pct(s: &str) -> Result<f64, InvalidPct> {
    s.trim()
        .trim_end_matches('%')
        .trim_end()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| InvalidPct {
            given: s.to_string(),
        })
}

/// A test's identity: file, title path, environment (ordered so).
type Key<'a> = (&'a str, &'a [String], &'a str);

fn by_key<'a>(results: &'a [Cow<'_, TestResult>]) -> BTreeMap<Key<'a>, &'a TestResult> {
    results
        .iter()
        .map(|r| {
            let r: &TestResult = r;
            (
                (
                    r.file.as_str(),
                    r.title_path.as_slice(),
                    r.environment.as_str(),
                ),
                r,
            )
        })
        .collect()
}

fn side(run: &RunRecord, results: &BTreeMap<Key<'_>, &TestResult>) -> DiffRun {
    let mut totals = Totals::default();
    for r in results.values() {
        match r.outcome {
            Outcome::Passed => totals.passed += 1,
            Outcome::Failed => totals.failed += 1,
            Outcome::Flaky => totals.flaky += 1,
            Outcome::Skipped => totals.skipped += 1,
        }
    }
    let m = &run.meta;
    DiffRun {
        title: m.title.clone(),
        commit_id: m.commit_id.clone(),
        start_ms: m.start_ms,
        duration_ms: m.duration_ms,
        url: m.url.clone(),
        source: m.source.clone(),
        totals,
    }
}

/// Longest error line kept (characters).
pub const MAX_ERROR_LINE: usize = 300;

/// The first line with something on it of the first failure's message (else its stack),
/// trimmed and cut to [`MAX_ERROR_LINE`] characters.
fn first_error_line(r: &TestResult) -> Option<String> {
    r.failures.iter().find_map(|f| {
        [f.message.as_deref(), f.stack.as_deref()]
            .into_iter()
            .flatten()
            .flat_map(str::lines)
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(MAX_ERROR_LINE).collect())
    })
}

/// Whether a test that took `from` ms then `to` ms got slower by more than `pct` percent,
/// one of them taking `min_ms` or more. Exact for whole-number percentages (no rounding at
/// the threshold).
fn grew(from: i64, to: i64, pct: f64, min_ms: i64) -> bool {
    from.max(to) >= min_ms && (to as f64) * 100.0 > (from as f64) * (100.0 + pct)
}

/// Compares run A with run B (spec/diff.md).
pub fn diff(a: &RunRecord, b: &RunRecord, opts: &DiffOptions) -> RunDiff {
    let (merged_a, merged_b) = (
        flakiness_store::merged(&a.results),
        flakiness_store::merged(&b.results),
    );
    let (in_a, in_b) = (by_key(&merged_a), by_key(&merged_b));
    let pct = opts.slower_pct.max(0.0);
    let mut d = RunDiff {
        a: side(a, &in_a),
        b: side(b, &in_b),
        options: DiffOptions {
            slower_pct: pct,
            min_duration_ms: opts.min_duration_ms,
        },
        new_failures: Vec::new(),
        fixed: Vec::new(),
        newly_flaky: Vec::new(),
        no_longer_flaky: Vec::new(),
        slower: Vec::new(),
        faster: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        still_failing: 0,
    };
    let mut keys: Vec<Key<'_>> = in_a.keys().chain(in_b.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let (ra, rb) = (in_a.get(&key).copied(), in_b.get(&key).copied());
        let (oa, ob) = (ra.map(|r| r.outcome), rb.map(|r| r.outcome));
        let change = |error_from: Option<&TestResult>, ratio: Option<f64>| TestChange {
            file: key.0.to_string(),
            title_path: key.1.to_vec(),
            environment: key.2.to_string(),
            outcome_a: oa,
            outcome_b: ob,
            attempts_a: ra.map(|r| r.attempts),
            attempts_b: rb.map(|r| r.attempts),
            failed_attempts_a: ra.map(|r| r.failed_attempts),
            failed_attempts_b: rb.map(|r| r.failed_attempts),
            duration_ms_a: ra.and_then(|r| r.duration_ms),
            duration_ms_b: rb.and_then(|r| r.duration_ms),
            ratio,
            error: error_from.and_then(first_error_line),
        };
        match (oa, ob) {
            (_, Some(Outcome::Failed)) if oa != Some(Outcome::Failed) => {
                d.new_failures.push(change(rb, None));
            }
            (Some(Outcome::Failed), Some(Outcome::Failed)) => d.still_failing += 1,
            (Some(Outcome::Failed), Some(Outcome::Passed | Outcome::Flaky)) => {
                d.fixed.push(change(ra, None));
            }
            _ => {}
        }
        match (oa, ob) {
            (_, Some(Outcome::Flaky)) if oa != Some(Outcome::Flaky) => {
                d.newly_flaky.push(change(rb, None));
            }
            (Some(Outcome::Flaky), Some(o)) if o != Outcome::Flaky => {
                d.no_longer_flaky.push(change(rb, None));
            }
            _ => {}
        }
        match (ra, rb) {
            (None, Some(r)) => d.added.push(change(Some(r), None)),
            (Some(r), None) => d.removed.push(change(Some(r), None)),
            _ => {}
        }
        if let (Some(da), Some(db)) = (
            ra.and_then(|r| r.duration_ms),
            rb.and_then(|r| r.duration_ms),
        ) {
            let ratio = (da > 0).then(|| db as f64 / da as f64);
            if grew(da, db, pct, opts.min_duration_ms) {
                d.slower.push(change(rb, ratio));
            } else if grew(db, da, pct, opts.min_duration_ms) {
                d.faster.push(change(rb, ratio));
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use flakiness_store::{FailureKind, FailureRecord, RunMeta};

    fn result(name: &str, env: &str, outcome: Outcome, ms: Option<i64>) -> TestResult {
        let (attempts, failed_attempts) = match outcome {
            Outcome::Passed => (1, 0),
            Outcome::Failed => (1, 1),
            Outcome::Flaky => (2, 1),
            Outcome::Skipped => (0, 0),
        };
        TestResult {
            file: "tests/a.spec.ts".into(),
            title_path: vec!["suite".into(), name.into()],
            environment: env.into(),
            outcome,
            attempts,
            failed_attempts,
            duration_ms: ms,
            failures: (0..failed_attempts)
                .map(|i| FailureRecord {
                    attempt: i,
                    kind: FailureKind::Assertion,
                    message: Some(format!("\n  {name} failed in {env}\nat line 2")),
                    stack: None,
                })
                .collect(),
            ..TestResult::default()
        }
    }

    fn run(title: &str, results: Vec<TestResult>) -> RunRecord {
        RunRecord {
            meta: RunMeta {
                title: Some(title.into()),
                commit_id: format!("{title}-commit"),
                start_ms: 1_000,
                ..RunMeta::default()
            },
            results,
        }
    }

    fn names(list: &[TestChange]) -> Vec<String> {
        list.iter()
            .map(|c| format!("{}@{}", c.title_path.join("/"), c.environment))
            .collect()
    }

    fn one(a: TestResult, b: TestResult) -> RunDiff {
        diff(
            &run("a", vec![a]),
            &run("b", vec![b]),
            &DiffOptions::default(),
        )
    }

    use Outcome::{Failed, Flaky, Passed, Skipped};

    #[test]
    fn a_test_failing_only_in_b_is_a_new_failure_with_bs_error() {
        let d = one(
            result("t", "linux", Passed, None),
            result("t", "linux", Failed, None),
        );
        assert_eq!(names(&d.new_failures), ["suite/t@linux"]);
        let c = &d.new_failures[0];
        assert_eq!((c.outcome_a, c.outcome_b), (Some(Passed), Some(Failed)));
        assert_eq!(c.error.as_deref(), Some("t failed in linux"));
        assert!(d.fixed.is_empty() && d.added.is_empty() && d.removed.is_empty());
        assert_eq!(d.still_failing, 0);
        // Flaky then failed: a new failure, and no longer flaky.
        let d = one(
            result("t", "linux", Flaky, None),
            result("t", "linux", Failed, None),
        );
        assert_eq!(d.new_failures.len(), 1);
        assert_eq!(d.no_longer_flaky.len(), 1);
    }

    #[test]
    fn a_test_new_in_b_that_fails_is_added_and_a_new_failure() {
        let d = diff(
            &run("a", vec![]),
            &run("b", vec![result("n", "linux", Failed, Some(5))]),
            &DiffOptions::default(),
        );
        assert_eq!(names(&d.new_failures), ["suite/n@linux"]);
        assert_eq!(names(&d.added), names(&d.new_failures));
        assert_eq!(d.new_failures[0].outcome_a, None);
        assert_eq!(d.b.totals.failed, 1);
        assert_eq!(d.a.totals, Totals::default());
    }

    #[test]
    fn failed_in_both_is_only_counted() {
        let d = one(
            result("t", "linux", Failed, None),
            result("t", "linux", Failed, None),
        );
        assert_eq!(d.still_failing, 1);
        for (name, list) in d.sections() {
            assert!(list.is_empty(), "{name}");
        }
    }

    #[test]
    fn fixed_is_failed_in_a_then_passed_or_flaky_with_as_error() {
        for (b, flaky) in [(Passed, false), (Flaky, true)] {
            let d = one(
                result("t", "mac", Failed, None),
                result("t", "mac", b, None),
            );
            assert_eq!(names(&d.fixed), ["suite/t@mac"], "{b:?}");
            assert_eq!(d.fixed[0].error.as_deref(), Some("t failed in mac"));
            assert_eq!(d.newly_flaky.len(), usize::from(flaky), "{b:?}");
        }
        // Failed then skipped: neither fixed nor a failure.
        let d = one(
            result("t", "mac", Failed, None),
            result("t", "mac", Skipped, None),
        );
        assert!(d.fixed.is_empty() && d.new_failures.is_empty());
    }

    #[test]
    fn flaky_changes_both_ways() {
        let d = one(
            result("t", "linux", Passed, None),
            result("t", "linux", Flaky, None),
        );
        assert_eq!(names(&d.newly_flaky), ["suite/t@linux"]);
        assert_eq!(d.newly_flaky[0].attempts_b, Some(2));
        assert_eq!(d.newly_flaky[0].failed_attempts_b, Some(1));
        assert!(d.new_failures.is_empty());
        let d = one(
            result("t", "linux", Flaky, None),
            result("t", "linux", Passed, None),
        );
        assert_eq!(names(&d.no_longer_flaky), ["suite/t@linux"]);
        assert!(d.newly_flaky.is_empty());
        // Flaky in both: nothing.
        let d = one(
            result("t", "linux", Flaky, None),
            result("t", "linux", Flaky, None),
        );
        assert!(d.newly_flaky.is_empty() && d.no_longer_flaky.is_empty());
        // Removed while flaky: removed only.
        let d = diff(
            &run("a", vec![result("t", "linux", Flaky, None)]),
            &run("b", vec![]),
            &DiffOptions::default(),
        );
        assert!(d.no_longer_flaky.is_empty());
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].error.as_deref(), Some("t failed in linux"));
    }

    #[test]
    fn identity_is_file_title_path_and_environment() {
        let mut other_file = result("t", "linux", Passed, None);
        other_file.file = "tests/b.spec.ts".into();
        let d = diff(
            &run(
                "a",
                vec![
                    result("t", "linux", Passed, None),
                    result("t", "windows", Passed, None),
                ],
            ),
            &run(
                "b",
                vec![
                    result("t", "windows", Passed, None),
                    other_file,
                    result("t", "mac", Passed, None),
                ],
            ),
            &DiffOptions::default(),
        );
        assert_eq!(names(&d.removed), ["suite/t@linux"]);
        // Sorted by file, then title path, then environment.
        assert_eq!(
            d.added
                .iter()
                .map(|c| format!("{}:{}", c.file, c.environment))
                .collect::<Vec<_>>(),
            ["tests/a.spec.ts:mac", "tests/b.spec.ts:linux"]
        );
        assert_eq!(d.added[0].display_name(), "tests/a.spec.ts › suite › t");
    }

    #[test]
    fn a_test_repeated_in_a_run_is_merged_first() {
        // Passed, then failed, in two entries of B: one flaky result.
        let d = diff(
            &run("a", vec![result("t", "linux", Passed, Some(100))]),
            &run(
                "b",
                vec![
                    result("t", "linux", Passed, Some(100)),
                    result("t", "linux", Failed, Some(100)),
                ],
            ),
            &DiffOptions::default(),
        );
        assert_eq!(names(&d.newly_flaky), ["suite/t@linux"]);
        assert!(d.new_failures.is_empty() && d.added.is_empty());
        assert_eq!(d.b.totals.flaky, 1);
        assert_eq!(d.b.totals.passed + d.b.totals.failed, 0);
        // Their durations add up: 100 → 200 ms is slower.
        assert_eq!(d.slower.len(), 1);
        assert_eq!(d.slower[0].duration_ms_b, Some(200));
    }

    fn timed(a: i64, b: i64, opts: &DiffOptions) -> RunDiff {
        diff(
            &run("a", vec![result("t", "linux", Passed, Some(a))]),
            &run("b", vec![result("t", "linux", Passed, Some(b))]),
            opts,
        )
    }

    #[test]
    fn slower_is_strictly_past_the_percentage() {
        let opts = DiffOptions::default();
        // 20 %: 1000 → 1200 is not more than 20 % slower, 1201 is.
        assert!(timed(1000, 1200, &opts).slower.is_empty());
        let d = timed(1000, 1201, &opts);
        assert_eq!(d.slower.len(), 1);
        let c = &d.slower[0];
        assert_eq!((c.duration_ms_a, c.duration_ms_b), (Some(1000), Some(1201)));
        assert_eq!(c.ratio, Some(1.201));
        assert!(d.faster.is_empty());
        // 300 → 900: three times as long, +200 %.
        let d = timed(300, 900, &opts);
        assert_eq!(d.slower[0].ratio, Some(3.0));
        assert_eq!(d.slower[0].change_pct().map(f64::round), Some(200.0));
        // Another percentage: 150 %.
        let opts = DiffOptions {
            slower_pct: 150.0,
            ..DiffOptions::default()
        };
        assert!(timed(400, 1000, &opts).slower.is_empty());
        assert_eq!(timed(400, 1001, &opts).slower.len(), 1);
        // 0 %: any growth.
        let opts = DiffOptions {
            slower_pct: 0.0,
            ..DiffOptions::default()
        };
        assert!(timed(500, 500, &opts).slower.is_empty());
        assert_eq!(timed(500, 501, &opts).slower.len(), 1);
        // Negative or NaN count as 0.
        for pct in [-50.0, f64::NAN] {
            let opts = DiffOptions {
                slower_pct: pct,
                ..DiffOptions::default()
            };
            let d = timed(500, 501, &opts);
            assert_eq!(d.slower.len(), 1, "{pct}");
            assert!(timed(500, 500, &opts).faster.is_empty(), "{pct}");
            assert_eq!(d.options.slower_pct, 0.0);
        }
    }

    #[test]
    fn short_tests_are_never_slower_below_the_minimum() {
        let opts = DiffOptions::default();
        // Both below 100 ms: never, whatever the ratio.
        assert!(timed(10, 99, &opts).slower.is_empty());
        // One at the minimum is enough.
        assert_eq!(timed(10, 100, &opts).slower.len(), 1);
        assert_eq!(timed(100, 10, &opts).faster.len(), 1);
        let opts = DiffOptions {
            min_duration_ms: 0,
            ..DiffOptions::default()
        };
        assert_eq!(timed(10, 13, &opts).slower.len(), 1);
        // From 0 ms: slower, without a ratio.
        let d = timed(0, 13, &opts);
        assert_eq!(d.slower.len(), 1);
        assert_eq!(d.slower[0].ratio, None);
        assert_eq!(d.slower[0].change_pct(), None);
    }

    #[test]
    fn faster_mirrors_slower() {
        let opts = DiffOptions::default();
        // A is more than 20 % slower than B: 1201 → 1000, not 1200 → 1000.
        assert!(timed(1200, 1000, &opts).faster.is_empty());
        let d = timed(1201, 1000, &opts);
        assert_eq!(d.faster.len(), 1);
        assert!(d.slower.is_empty());
        let d = timed(900, 300, &opts);
        assert_eq!(d.faster[0].change_pct().map(f64::round), Some(-67.0));
    }

    #[test]
    fn without_both_durations_nothing_is_slower() {
        let d = diff(
            &run("a", vec![result("t", "linux", Passed, None)]),
            &run("b", vec![result("t", "linux", Passed, Some(10_000))]),
            &DiffOptions::default(),
        );
        assert!(d.slower.is_empty() && d.faster.is_empty());
        // Added and removed tests have one duration only.
        let d = diff(
            &run("a", vec![result("x", "linux", Passed, Some(1))]),
            &run("b", vec![result("y", "linux", Passed, Some(10_000))]),
            &DiffOptions::default(),
        );
        assert!(d.slower.is_empty());
        assert_eq!((d.added.len(), d.removed.len()), (1, 1));
    }

    #[test]
    fn totals_and_runs_are_kept() {
        let d = diff(
            &run(
                "a",
                vec![
                    result("p", "linux", Passed, None),
                    result("f", "linux", Failed, None),
                    result("s", "linux", Skipped, None),
                ],
            ),
            &run("b", vec![result("k", "linux", Flaky, None)]),
            &DiffOptions::default(),
        );
        assert_eq!(
            d.a.totals,
            Totals {
                passed: 1,
                failed: 1,
                flaky: 0,
                skipped: 1
            }
        );
        assert_eq!(d.b.totals.flaky, 1);
        assert_eq!(d.a.title.as_deref(), Some("a"));
        assert_eq!(d.b.commit_id, "b-commit");
        assert_eq!(d.b.start_ms, 1_000);
    }

    #[test]
    fn the_error_line_is_the_first_non_empty_one_bounded() {
        let mut r = result("t", "linux", Failed, None);
        r.failures = vec![
            FailureRecord {
                attempt: 0,
                kind: FailureKind::Interrupted,
                ..FailureRecord::default()
            },
            FailureRecord {
                attempt: 1,
                message: Some("   \n".into()),
                stack: Some(format!("\n{}\nsecond", "x".repeat(500))),
                ..FailureRecord::default()
            },
        ];
        let line = first_error_line(&r).expect("a line");
        assert_eq!(line, "x".repeat(MAX_ERROR_LINE));
        r.failures.clear();
        assert_eq!(first_error_line(&r), None);
    }

    #[test]
    fn percentages_are_finite_and_zero_or_more() {
        assert_eq!(parse_pct("20"), Ok(20.0));
        assert_eq!(parse_pct(" 12.5 % "), Ok(12.5));
        assert_eq!(parse_pct("0"), Ok(0.0));
        for bad in ["-1", "NaN", "inf", "x", "", "%"] {
            assert_eq!(
                parse_pct(bad),
                Err(InvalidPct { given: bad.into() }),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_is_camel_case_with_outcome_names() {
        let d = one(
            result("t", "linux", Passed, Some(300)),
            result("t", "linux", Failed, Some(900)),
        );
        let v = serde_json::to_value(&d).expect("json");
        let c = &v["newFailures"][0];
        assert_eq!(c["titlePath"], serde_json::json!(["suite", "t"]));
        assert_eq!(c["outcomeA"], "passed");
        assert_eq!(c["outcomeB"], "failed");
        assert_eq!(c["durationMsA"], 300);
        assert_eq!(c["durationMsB"], 900);
        assert_eq!(v["slower"][0]["ratio"], 3.0);
        assert_eq!(v["stillFailing"], 0);
        assert_eq!(v["options"]["slowerPct"], 20.0);
        assert_eq!(v["a"]["totals"]["passed"], 1);
        for (name, _) in d.sections() {
            assert!(v[name].is_array(), "{name}");
        }
        let added = serde_json::to_value(
            diff(
                &run("a", vec![]),
                &run("b", vec![result("t", "linux", Passed, None)]),
                &DiffOptions::default(),
            )
            .added,
        )
        .expect("json");
        assert!(added[0]["outcomeA"].is_null());
    }
}
