//! The store into decisions: per test and environment, the signals of spec/analyze.md §5 and
//! a classification (`flaky`, `broken`, `stable`, `skipped`) with a score, a confidence and
//! the evidence; runs where much fails at once with one error (incidents); failure patterns.

use std::collections::{BTreeSet, HashMap, HashSet};

use flakiness_store::{
    FailureKind, HistoryStore, Outcome, ResultRow, RunInfo, RunTotals, StoreError, TestKey,
};
use serde::{Deserialize, Serialize};

use crate::signature::signature;

/// The knobs of [`analyze`], with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOptions {
    /// Latest runs of a test (that ran it) over which flip rates are computed.
    pub window: usize,
    /// Weight lost per step back in the weighted flip rate: the newest transition weighs 1,
    /// the one before `1 - decay`, and so on.
    pub decay: f64,
    /// Latest runs that must all fail for a test to be `broken`.
    pub broken_streak: usize,
    /// Latest runs of the history that make the recent window of new failures.
    pub recent_window: usize,
    /// Runs before the recent window that make the prior window.
    pub prior_window: usize,
    /// Share of the tests that ran which must fail for a run to be an incident...
    pub incident_share: f64,
    /// ...with at least this many failing tests...
    pub incident_min_failures: u64,
    /// ...and one error signature shared by at least this share of them.
    pub incident_signature_share: f64,
    /// Isolated failures (a failed run between two passing ones, on other commits) that make a
    /// test flaky without stronger evidence.
    pub isolated_min: usize,
    /// Example errors kept per flaky or broken test.
    pub examples: usize,
    /// Latest runs shown in each test's history strip.
    pub strip_runs: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            window: 50,
            decay: 0.1,
            broken_streak: 3,
            recent_window: 10,
            prior_window: 50,
            incident_share: 0.3,
            incident_min_failures: 10,
            incident_signature_share: 0.5,
            isolated_min: 2,
            examples: 3,
            strip_runs: 60,
        }
    }
}

/// What a test is, in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    /// Passes and fails on the same code.
    Flaky,
    /// Fails every time in the latest runs.
    Broken,
    /// Neither.
    Stable,
    /// Never ran.
    Skipped,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Flaky => "flaky",
            Classification::Broken => "broken",
            Classification::Stable => "stable",
            Classification::Skipped => "skipped",
        }
    }
}

/// Where a test started failing for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenSince {
    pub commit_id: String,
    pub start_ms: i64,
    /// Consecutive failed runs up to the latest.
    pub runs: usize,
}

/// The signals behind a classification.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Runs with a result for the test (skipped ones included).
    pub runs: usize,
    /// Runs where it ran, outside incidents.
    pub ran: usize,
    /// Runs where it failed (no attempt passed), outside incidents.
    pub failed_runs: usize,
    /// Runs where a failed attempt and a passed one happened (retry flakes), outside incidents.
    pub retry_flakes: usize,
    /// Commits on which it both passed and failed in different runs, outside incidents.
    pub same_commit_flips: usize,
    /// Failed runs between two passing ones, outside incidents.
    pub isolated_failures: usize,
    /// Its runs in incidents (left out of everything above).
    pub incident_runs: usize,
    /// Transitions between pass and fail over the latest `window` runs, per transition slot.
    pub flip_rate: f64,
    /// The same, recent transitions weighing more.
    pub weighted_flip_rate: f64,
    /// Failed runs per run that ran.
    pub failure_rate: f64,
    /// Failing in the recent window, never in the prior one (where it ran).
    pub new_failure: bool,
    /// Kinds of its failures in the recent window, when a new failure.
    pub new_failure_kinds: Vec<&'static str>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub broken_since: Option<BrokenSince>,
    /// Commits where it both passed and failed (up to 5).
    pub flip_commits: Vec<String>,
    /// Start of the latest run showing nondeterminism: a retry flake, a failure on a commit
    /// it also passed on, or an isolated failure.
    pub last_flake_ms: Option<i64>,
    /// Latest consecutive runs that passed at the first attempt (outside incidents).
    pub clean_streak: usize,
}

/// One error signature and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCount {
    pub signature: String,
    pub count: usize,
}

/// The analysis of one test in one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestAnalysis {
    pub file: String,
    /// Suite titles, then the test's title.
    pub title_path: Vec<String>,
    pub environment: String,
    pub classification: Classification,
    /// How flaky (flip and retry evidence, 0 to 1) or how broken (recent failure rate).
    pub score: f64,
    /// How sure the classification is (0 to 1), from the amount of evidence.
    pub confidence: f64,
    pub evidence: Evidence,
    /// Its error signatures outside incidents, most frequent first (up to 5).
    pub signatures: Vec<SignatureCount>,
    /// Example error messages (flaky and broken tests).
    pub examples: Vec<String>,
    /// Its result in each of the latest `strip_runs` runs of the history, oldest first:
    /// `P` passed, `F` failed, `K` flaky (retry flake), `S` skipped, `I` in an incident, `.`
    /// no result.
    pub history: String,
    #[serde(skip)]
    pub test_id: i64,
}

/// The first 12 characters of a commit id, for display.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(12).collect()
}

impl TestAnalysis {
    /// `file › suite › test`.
    pub fn display_name(&self) -> String {
        let t = self;
        let mut parts: Vec<&str> = Vec::with_capacity(t.title_path.len() + 1);
        if !t.file.is_empty() {
            parts.push(&t.file);
        }
        parts.extend(t.title_path.iter().map(String::as_str));
        parts.join(" › ")
    }

    /// One line of evidence.
    pub fn evidence_line(&self) -> String {
        let t = self;
        let e = &t.evidence;
        match t.classification {
            Classification::Broken => match &e.broken_since {
                Some(b) if b.commit_id.is_empty() => {
                    format!("failing for the last {} runs", b.runs)
                }
                Some(b) => format!(
                    "failing for the last {} runs, since commit {}",
                    b.runs,
                    short_commit(&b.commit_id)
                ),
                None => String::new(),
            },
            Classification::Flaky => {
                let mut parts = Vec::new();
                if e.retry_flakes > 0 {
                    parts.push(format!("{} retry flake(s)", e.retry_flakes));
                }
                if e.same_commit_flips > 0 {
                    parts.push(format!("{} same-commit flip(s)", e.same_commit_flips));
                }
                if e.isolated_failures > 0 {
                    parts.push(format!("{} isolated failure(s)", e.isolated_failures));
                }
                parts.push(format!(
                    "{} failed of {} runs, flip rate {:.2}",
                    e.failed_runs, e.ran, e.flip_rate
                ));
                parts.join(", ")
            }
            Classification::Stable | Classification::Skipped => {
                format!("{} failed of {} runs", e.failed_runs, e.ran)
            }
        }
    }
}

impl Analysis {
    /// Tests (and environments) of this classification.
    pub fn count(&self, c: Classification) -> usize {
        self.tests.iter().filter(|t| t.classification == c).count()
    }

    /// `N runs, N tests × environments: N flaky, N broken, N stable, N skipped; N incident(s)`.
    pub fn counts_line(&self) -> String {
        format!(
            "{} runs, {} tests × environments: {} flaky, {} broken, {} stable, {} skipped; {} incident(s)",
            self.runs,
            self.tests.len(),
            self.count(Classification::Flaky),
            self.count(Classification::Broken),
            self.count(Classification::Stable),
            self.count(Classification::Skipped),
            self.incidents.len()
        )
    }

    /// The tests worth showing, in rank order: flaky, broken, and new failures.
    pub fn listed(&self) -> impl Iterator<Item = &TestAnalysis> {
        self.tests.iter().filter(|t| {
            matches!(
                t.classification,
                Classification::Flaky | Classification::Broken
            ) || t.evidence.new_failure
        })
    }
}

/// One run of the history, counted: the flake-rate trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    pub start_ms: i64,
    pub commit_id: String,
    pub ran: u64,
    pub failed: u64,
    pub flaky: u64,
    pub incident: bool,
}

/// A run where a large share of the tests failed at once with one error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    pub source: String,
    pub commit_id: String,
    pub start_ms: i64,
    pub ran: u64,
    pub failed: u64,
    pub signature: String,
    /// Failing tests with that signature, per failing test.
    pub signature_share: f64,
    #[serde(skip)]
    pub run_id: i64,
}

/// An error signature across tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pattern {
    pub signature: String,
    /// Failed attempts with it, outside incidents.
    pub failures: usize,
    /// Tests (and environments) that had it.
    pub tests: usize,
    pub kind: &'static str,
    /// Up to 3 of those tests: titles joined by ` › `.
    pub example_tests: Vec<String>,
}

/// Everything [`analyze`] decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    /// Runs in the store.
    pub runs: usize,
    /// Flaky first, then broken, stable, skipped; by score within each.
    pub tests: Vec<TestAnalysis>,
    pub incidents: Vec<Incident>,
    /// Signatures shared by more than one test, or seen more than once, most failures first.
    pub patterns: Vec<Pattern>,
    /// Every run, oldest first, with its counts.
    pub trend: Vec<TrendPoint>,
}

/// One run, as the analysis sees it.
struct RunCtx {
    rank: usize,
    commit: String,
    /// The commit's index among the distinct commits of the history.
    commit_ix: u32,
    start_ms: i64,
    incident: bool,
}

/// One result of a test, in run order.
#[derive(Clone, Copy)]
struct Point {
    /// Rank of the run (its index in start order).
    run: u32,
    outcome: Outcome,
}

impl Point {
    fn at(&self) -> usize {
        self.run as usize
    }
}

/// Runs where a large share of the tests failed at once with one shared signature.
fn incidents(
    store: &mut dyn HistoryStore,
    runs: &[RunInfo],
    totals: &[RunTotals],
    opts: &AnalysisOptions,
) -> Result<Vec<Incident>, StoreError> {
    let by_id: HashMap<i64, &RunInfo> = runs.iter().map(|r| (r.id, r)).collect();
    let mut out = Vec::new();
    for t in totals {
        let (run_id, ran, failed) = (t.run_id, t.ran, t.failed);
        if failed < opts.incident_min_failures
            || ran == 0
            || (failed as f64) < opts.incident_share * ran as f64
        {
            continue;
        }
        // The signature of each failing test's first failure.
        let mut first: HashMap<i64, String> = HashMap::new();
        for (test, f) in store.run_failures(run_id)? {
            first
                .entry(test)
                .or_insert_with(|| signature(f.message.as_deref(), f.stack.as_deref()));
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for s in first.values() {
            *counts.entry(s.as_str()).or_default() += 1;
        }
        let Some((sig, n)) = counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        else {
            continue;
        };
        let share = n as f64 / failed as f64;
        if share < opts.incident_signature_share {
            continue;
        }
        if let Some(run) = by_id.get(&run_id) {
            out.push(Incident {
                source: run.meta.source.clone(),
                commit_id: run.meta.commit_id.clone(),
                start_ms: run.meta.start_ms,
                ran,
                failed,
                signature: sig.to_string(),
                signature_share: share,
                run_id,
            });
        }
    }
    // In history order (runs are already in it).
    let rank: HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    out.sort_by_key(|i| rank.get(&i.run_id).copied());
    Ok(out)
}

/// A failure message and where it was last seen: (history rank, attempt).
type Example = ((usize, u32), String);

/// Keeps in `kept` the `max` distinct messages seen latest (`at`: history rank, attempt),
/// each with its latest position.
fn keep_latest(
    kept: &mut Vec<((usize, u32), String)>,
    at: (usize, u32),
    message: &str,
    max: usize,
) {
    if let Some(k) = kept.iter_mut().find(|(_, m)| m == message) {
        k.0 = k.0.max(at);
        return;
    }
    if kept.len() < max {
        kept.push((at, message.to_string()));
    } else if let Some(oldest) = kept.iter_mut().min_by_key(|(a, _)| *a) {
        if oldest.0 < at {
            *oldest = (at, message.to_string());
        }
    }
}

fn is_pass(o: Outcome) -> bool {
    matches!(o, Outcome::Passed | Outcome::Flaky)
}

/// Transitions between pass and fail (a flaky run is a fail then a pass) over `points`:
/// (flip rate, weighted flip rate).
fn flip_rates(points: &[Point], decay: f64) -> (f64, f64) {
    let mut states: Vec<bool> = Vec::with_capacity(points.len() + 4);
    for p in points {
        match p.outcome {
            Outcome::Passed => states.push(true),
            Outcome::Failed => states.push(false),
            Outcome::Flaky => {
                states.push(false);
                states.push(true);
            }
            Outcome::Skipped => {}
        }
    }
    if states.len() < 2 {
        return (0.0, 0.0);
    }
    let flips: Vec<bool> = states.windows(2).map(|w| w[0] != w[1]).collect();
    let rate = flips.iter().filter(|&&f| f).count() as f64 / flips.len() as f64;
    let (mut num, mut den, mut w) = (0.0, 0.0, 1.0);
    for &f in flips.iter().rev() {
        if f {
            num += w;
        }
        den += w;
        w *= 1.0 - decay;
    }
    (rate, if den > 0.0 { num / den } else { 0.0 })
}

/// Classifies one test from its points (in run order).
fn classify(
    key: &TestKey,
    points: &[Point],
    runs: &[RunCtx],
    total_runs: usize,
    opts: &AnalysisOptions,
) -> TestAnalysis {
    let mut ev = Evidence {
        runs: points.len(),
        first_seen_ms: points.first().map_or(0, |p| runs[p.at()].start_ms),
        last_seen_ms: points.last().map_or(0, |p| runs[p.at()].start_ms),
        ..Evidence::default()
    };
    let clean: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| {
            if runs[p.at()].incident && p.outcome != Outcome::Skipped {
                ev.incident_runs += 1;
                false
            } else {
                p.outcome != Outcome::Skipped
            }
        })
        .collect();
    ev.ran = clean.len();
    ev.failed_runs = clean
        .iter()
        .filter(|p| p.outcome == Outcome::Failed)
        .count();
    ev.retry_flakes = clean.iter().filter(|p| p.outcome == Outcome::Flaky).count();
    ev.failure_rate = if ev.ran > 0 {
        ev.failed_runs as f64 / ev.ran as f64
    } else {
        0.0
    };

    // The trailing streak of failed runs.
    let streak = clean
        .iter()
        .rev()
        .take_while(|p| p.outcome == Outcome::Failed)
        .count();
    let broken = streak >= opts.broken_streak && streak > 0;
    if broken {
        let first = &clean[clean.len() - streak];
        ev.broken_since = Some(BrokenSince {
            commit_id: runs[first.at()].commit.clone(),
            start_ms: runs[first.at()].start_ms,
            runs: streak,
        });
    }
    // Evidence of nondeterminism is looked for before the broken streak only: a test that
    // broke for good is not flaky for having passed before on the same commit.
    let before = &clean[..clean.len() - if broken { streak } else { 0 }];
    let mut by_commit: HashMap<u32, (bool, bool)> = HashMap::with_capacity(before.len());
    for p in before {
        let e = by_commit.entry(runs[p.at()].commit_ix).or_default();
        if is_pass(p.outcome) {
            e.0 = true;
        }
        if p.outcome == Outcome::Failed {
            e.1 = true;
        }
    }
    let flip_set: HashSet<u32> = by_commit
        .iter()
        .filter(|(_, (pass, fail))| *pass && *fail)
        .map(|(c, _)| *c)
        .collect();
    ev.same_commit_flips = flip_set.len();
    if !flip_set.is_empty() {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for p in before {
            if flip_set.contains(&runs[p.at()].commit_ix) {
                names.insert(runs[p.at()].commit.as_str());
            }
        }
        ev.flip_commits = names.iter().take(5).map(|c| c.to_string()).collect();
    }
    let isolated: Vec<usize> = before
        .windows(3)
        .filter(|w| {
            w[1].outcome == Outcome::Failed && is_pass(w[0].outcome) && is_pass(w[2].outcome)
        })
        .map(|w| w[1].at())
        .collect();
    ev.isolated_failures = isolated.len();
    ev.last_flake_ms = before
        .iter()
        .filter(|p| {
            p.outcome == Outcome::Flaky
                || (p.outcome == Outcome::Failed && flip_set.contains(&runs[p.at()].commit_ix))
                || isolated.contains(&p.at())
        })
        .map(|p| runs[p.at()].start_ms)
        .max();
    ev.clean_streak = clean
        .iter()
        .rev()
        .take_while(|p| p.outcome == Outcome::Passed)
        .count();
    let window_start = clean.len().saturating_sub(opts.window);
    (ev.flip_rate, ev.weighted_flip_rate) = flip_rates(&clean[window_start..], opts.decay);

    // New failures: in the recent window of the history, never in the prior one.
    let recent_from = total_runs.saturating_sub(opts.recent_window);
    let prior_from = recent_from.saturating_sub(opts.prior_window);
    let failed = |p: &&Point| p.outcome == Outcome::Failed || p.outcome == Outcome::Flaky;
    let recent_fail = clean
        .iter()
        .filter(|p| p.at() >= recent_from)
        .any(|p| failed(&p));
    let prior: Vec<&Point> = clean
        .iter()
        .filter(|p| p.at() >= prior_from && p.at() < recent_from)
        .collect();
    ev.new_failure = recent_fail && !prior.is_empty() && !prior.iter().any(failed);

    let strong = ev.retry_flakes + ev.same_commit_flips;
    let (classification, score, confidence) = if ev.ran == 0 {
        let c = if ev.incident_runs > 0 {
            Classification::Stable
        } else {
            Classification::Skipped
        };
        (c, 0.0, if ev.incident_runs > 0 { 0.0 } else { 1.0 })
    } else if broken {
        // How sure: each failed run beyond the streak's minimum halves the doubt.
        let extra = (streak - opts.broken_streak) as i32;
        (Classification::Broken, 1.0, 1.0 - 0.5f64.powi(extra + 2))
    } else if strong > 0 || ev.isolated_failures >= opts.isolated_min {
        let evidence = strong as f64 + ev.isolated_failures as f64 / 2.0;
        let flake_share = (ev.retry_flakes + ev.failed_runs) as f64 / ev.ran as f64;
        (
            Classification::Flaky,
            ev.weighted_flip_rate.max(flake_share).min(1.0),
            1.0 - 0.5f64.powf(evidence),
        )
    } else {
        // Stable: the more clean runs, the surer.
        (
            Classification::Stable,
            ev.failure_rate,
            1.0 - 0.5f64.powf(ev.ran as f64 / 10.0),
        )
    };
    let strip_from = total_runs.saturating_sub(opts.strip_runs);
    let mut history = vec![b'.'; total_runs - strip_from];
    for p in points.iter().filter(|p| p.at() >= strip_from) {
        history[p.at() - strip_from] = match p.outcome {
            Outcome::Skipped => b'S',
            _ if runs[p.at()].incident => b'I',
            Outcome::Passed => b'P',
            Outcome::Failed => b'F',
            Outcome::Flaky => b'K',
        };
    }
    TestAnalysis {
        file: key.file.clone(),
        title_path: key.title_path.clone(),
        environment: key.environment.clone(),
        classification,
        score,
        confidence,
        evidence: ev,
        signatures: Vec::new(),
        examples: Vec::new(),
        history: String::from_utf8(history).unwrap_or_default(),
        test_id: key.id,
    }
}

/// Reads the store and decides. Memory holds the runs, the tests' keys and one test's history
/// at a time (plus the signature counts), never all results.
pub fn analyze(
    store: &mut dyn HistoryStore,
    opts: &AnalysisOptions,
) -> Result<Analysis, StoreError> {
    let mut runs = store.runs()?;
    // History order: by start time, runs that started together by content hash, so that the
    // analysis does not depend on the order runs were stored in (their ids).
    runs.sort_by(|a, b| {
        (a.meta.start_ms, &a.meta.content_hash).cmp(&(b.meta.start_ms, &b.meta.content_hash))
    });
    let totals = store.run_totals()?;
    let incidents = incidents(store, &runs, &totals, opts)?;
    let incident_ids: HashSet<i64> = incidents.iter().map(|i| i.run_id).collect();
    let rank: HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    // A run whose commit is unknown (empty: a JUnit file without one) shares it with no other.
    let mut commits: HashMap<&str, u32> = HashMap::new();
    let mut next_ix = 0u32;
    let ctx: Vec<RunCtx> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let commit = r.meta.commit_id.as_str();
            let commit_ix = if commit.is_empty() {
                next_ix += 1;
                next_ix - 1
            } else {
                *commits.entry(commit).or_insert_with(|| {
                    next_ix += 1;
                    next_ix - 1
                })
            };
            RunCtx {
                rank: i,
                commit: r.meta.commit_id.clone(),
                commit_ix,
                start_ms: r.meta.start_ms,
                incident: incident_ids.contains(&r.id),
            }
        })
        .collect();
    debug_assert!(ctx.iter().enumerate().all(|(i, c)| c.rank == i));
    let keys: HashMap<i64, TestKey> = store.tests()?.into_iter().map(|k| (k.id, k)).collect();

    let mut tests = Vec::with_capacity(keys.len());
    // Results come in storage order (by run): each test's history is gathered, compactly
    // (8 bytes a result), then ordered by run start and classified.
    // Store ids are small positive integers: dense tables instead of hash maps (ids out of
    // that shape fall back to the map).
    let dense = |max: i64| (0..1 << 26).contains(&max);
    let max_run = runs.iter().map(|r| r.id).max().unwrap_or(0);
    let rank_of: Vec<u32> = if dense(max_run) {
        let mut v = vec![u32::MAX; max_run as usize + 1];
        for (i, r) in runs.iter().enumerate() {
            v[r.id as usize] = i as u32;
        }
        v
    } else {
        Vec::new()
    };
    let max_test = keys.keys().copied().max().unwrap_or(0);
    let mut dense_histories: Vec<Vec<Point>> = if dense(max_test) {
        vec![Vec::new(); max_test as usize + 1]
    } else {
        Vec::new()
    };
    let mut histories: HashMap<i64, Vec<Point>> = HashMap::new();
    store.for_each_result(&mut |row: ResultRow| {
        let run = match rank_of.get(row.run_id as usize) {
            Some(&r) if r != u32::MAX && row.run_id >= 0 => Some(r),
            _ => rank.get(&row.run_id).map(|&r| r as u32),
        };
        let Some(run) = run else { return };
        let point = Point {
            run,
            outcome: row.outcome,
        };
        match dense_histories.get_mut(row.test_id as usize) {
            Some(h) if row.test_id >= 0 => h.push(point),
            _ => histories.entry(row.test_id).or_default().push(point),
        }
    })?;
    let mut ids: Vec<i64> = keys.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let mut points = match dense_histories.get_mut(id as usize) {
            Some(h) if id >= 0 => std::mem::take(h),
            _ => histories.remove(&id).unwrap_or_default(),
        };
        points.sort_by_key(|p| p.run);
        if let Some(key) = keys.get(&id) {
            tests.push(classify(key, &points, &ctx, runs.len(), opts));
        }
    }

    // Signatures: per test, and across tests for the patterns (outside incidents).
    let mut per_test: HashMap<i64, HashMap<String, usize>> = HashMap::new();
    let mut across: HashMap<String, (usize, HashSet<i64>, FailureKind)> = HashMap::new();
    let mut recent_kinds: HashMap<i64, Vec<&'static str>> = HashMap::new();
    let recent_from = runs.len().saturating_sub(opts.recent_window);
    // Example messages of flaky and broken tests: the latest distinct ones.
    let wants_examples: HashSet<i64> = tests
        .iter()
        .filter(|t| {
            matches!(
                t.classification,
                Classification::Flaky | Classification::Broken
            )
        })
        .map(|t| t.test_id)
        .collect();
    let mut examples: HashMap<i64, Vec<Example>> = HashMap::new();
    store.for_each_failure(&mut |run, test, f| {
        if incident_ids.contains(&run) {
            return;
        }
        if let (true, Some(m), Some(&r)) = (
            wants_examples.contains(&test),
            f.message.as_deref(),
            rank.get(&run),
        ) {
            keep_latest(
                examples.entry(test).or_default(),
                (r, f.attempt),
                m,
                opts.examples,
            );
        }
        let sig = signature(f.message.as_deref(), f.stack.as_deref());
        *per_test
            .entry(test)
            .or_default()
            .entry(sig.clone())
            .or_default() += 1;
        let e = across.entry(sig).or_insert((0, HashSet::new(), f.kind));
        e.0 += 1;
        e.1.insert(test);
        if rank.get(&run).is_some_and(|&r| r >= recent_from) {
            let kinds = recent_kinds.entry(test).or_default();
            if !kinds.contains(&f.kind.as_str()) {
                kinds.push(f.kind.as_str());
            }
        }
    })?;
    let name = |id: i64| {
        keys.get(&id)
            .map(|k| format!("{} [{}]", k.title_path.join(" › "), k.environment))
            .unwrap_or_default()
    };
    for t in &mut tests {
        if let Some(sigs) = per_test.remove(&t.test_id) {
            let mut sigs: Vec<SignatureCount> = sigs
                .into_iter()
                .map(|(signature, count)| SignatureCount { signature, count })
                .collect();
            sigs.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
            sigs.truncate(5);
            t.signatures = sigs;
        }
        if t.evidence.new_failure {
            t.evidence.new_failure_kinds = recent_kinds.remove(&t.test_id).unwrap_or_default();
        }
        if let Some(mut latest) = examples.remove(&t.test_id) {
            latest.sort_by_key(|e| std::cmp::Reverse(e.0));
            t.examples = latest.into_iter().map(|(_, m)| m).collect();
        }
    }
    let mut patterns: Vec<Pattern> = across
        .into_iter()
        .filter(|(_, (n, tests, _))| *n > 1 || tests.len() > 1)
        .map(|(signature, (failures, tests, kind))| {
            let mut names: Vec<String> = tests.iter().map(|&i| name(i)).collect();
            names.sort_unstable();
            names.truncate(3);
            Pattern {
                signature,
                failures,
                tests: tests.len(),
                kind: kind.as_str(),
                example_tests: names,
            }
        })
        .collect();
    patterns.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then(b.tests.cmp(&a.tests))
            .then(a.signature.cmp(&b.signature))
    });

    tests.sort_by(|a, b| {
        a.classification
            .cmp(&b.classification)
            .then(b.score.total_cmp(&a.score))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.file.cmp(&b.file))
            .then(a.title_path.cmp(&b.title_path))
            .then(a.environment.cmp(&b.environment))
    });
    let by_run: HashMap<i64, &RunTotals> = totals.iter().map(|t| (t.run_id, t)).collect();
    let trend = runs
        .iter()
        .map(|r| {
            let t = by_run.get(&r.id);
            TrendPoint {
                start_ms: r.meta.start_ms,
                commit_id: r.meta.commit_id.clone(),
                ran: t.map_or(0, |t| t.ran),
                failed: t.map_or(0, |t| t.failed),
                flaky: t.map_or(0, |t| t.flaky),
                incident: incident_ids.contains(&r.id),
            }
        })
        .collect();
    Ok(Analysis {
        runs: runs.len(),
        tests,
        incidents,
        patterns,
        trend,
    })
}
