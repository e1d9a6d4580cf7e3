//! The store into decisions, per test and environment (spec/analyze.md §5–§8):
//!
//! 1. every failure gets a signature and, when it names one, an infrastructure cause;
//! 2. **incidents** are found per run *and environment*: one error shared by many of the tests
//!    that ran there (many in number and in share);
//! 3. each failed result is **attributed**: to an incident, to a cancelled run (interrupted
//!    attempts), to a regression that was later fixed, or to the test itself;
//! 4. the test is **classified** on its own failures alone, in a recent window, and the
//!    evidence says what the call rests on and what was set aside.

use std::collections::{BTreeSet, HashMap, HashSet};

use flakiness_store::{FailureKind, HistoryStore, Outcome, ResultRow, StoreError, TestKey};
use serde::{Deserialize, Serialize};

use crate::signature::{infra_class, says_something, signature};

/// The knobs of [`analyze`], with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOptions {
    /// Latest runs of a test (that ran it) over which flip rates are computed.
    pub window: usize,
    /// Weight lost per step back in the weighted flip rate: the newest transition weighs 1,
    /// the one before `1 - decay`, and so on.
    pub decay: f64,
    /// Latest results of a test (its own: outside incidents, cancellations and fixed
    /// regressions) in which evidence of flakiness counts: older flakes are not held against
    /// it.
    pub evidence_window: usize,
    /// Latest runs that must all fail for a test to be `broken`...
    pub broken_streak: usize,
    /// ...and the odds of such a streak at the test's own flake rate must be at most this.
    pub broken_odds: f64,
    /// Latest runs of the history that make the recent window of new failures.
    pub recent_window: usize,
    /// Runs before the recent window that make the prior window.
    pub prior_window: usize,
    /// Share of the tests that ran in a run and environment which must fail with one error for
    /// an incident...
    pub incident_share: f64,
    /// ...and at least this many of them.
    pub incident_min_tests: usize,
    /// Failures with one signature in a block of the test's runs that make a regression (when
    /// the test passed after it)...
    pub regression_min_failures: usize,
    /// ...where at least this share of the block's runs failed with it.
    pub regression_density: f64,
    /// Isolated failures (a failed run between two passing ones, on other commits) that make a
    /// test flaky without stronger evidence.
    pub isolated_min: usize,
    /// Lowest score of a flaky test: below it, the evidence is too thin to call.
    pub min_flaky_score: f64,
    /// Below this many runs of its own, a test is `not-enough-data` (unless broken).
    pub min_runs: usize,
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
            evidence_window: 300,
            broken_streak: 3,
            broken_odds: 1e-3,
            recent_window: 10,
            prior_window: 50,
            incident_share: 0.1,
            incident_min_tests: 5,
            regression_min_failures: 2,
            regression_density: 0.75,
            isolated_min: 2,
            min_flaky_score: 0.005,
            min_runs: 1,
            examples: 3,
            strip_runs: 60,
        }
    }
}

/// What a test is, in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Classification {
    /// Passes and fails on the same code.
    Flaky,
    /// Fails every time in the latest runs, more than its flake rate explains.
    Broken,
    /// Neither.
    Stable,
    /// Fewer runs of its own than `min_runs`: no call either way.
    NotEnoughData,
    /// Never ran.
    Skipped,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Flaky => "flaky",
            Classification::Broken => "broken",
            Classification::Stable => "stable",
            Classification::NotEnoughData => "not-enough-data",
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

/// A block of failures with one signature that ended with a fix: set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixedRegression {
    pub signature: String,
    /// Failed runs in the block.
    pub failures: usize,
    pub from_ms: i64,
    pub to_ms: i64,
    /// The commit of the first run that passed after it.
    pub fixed_commit: String,
}

/// The signals behind a classification. Counts are of the test's own results (outside
/// incidents, cancelled runs and fixed regressions) in its evidence window unless said.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Runs with a result for the test (skipped ones included).
    pub runs: usize,
    /// Its own results in the evidence window: the runs the call rests on.
    pub ran: usize,
    /// Of them, runs where no attempt passed.
    pub failed_runs: usize,
    /// Of them, runs where a failed attempt and a passed one happened (retry flakes).
    pub retry_flakes: usize,
    /// Commits on which it both passed and failed in different runs.
    pub same_commit_flips: usize,
    /// Failed runs between two passing ones.
    pub isolated_failures: usize,
    /// Evidence of flakiness: retry flakes + same-commit flips + isolated failures / 2 (these
    /// only from `isolated_min` on).
    pub strength: f64,
    /// Its evidence is one signal whose error other tests failed with too: not enough.
    pub weak_signal: bool,
    /// Its own failures older than the evidence window (not counted).
    pub older_failures: usize,
    /// Its results in incidents (set aside).
    pub incident_runs: usize,
    /// Distinct incidents that touched it.
    pub incident_count: usize,
    /// Failed results whose error is a cause of incidents (`connection refused`…) without an
    /// incident in that run: set aside too.
    pub infra_failures: usize,
    /// Its results in cancelled runs (only interrupted attempts failed): set aside.
    pub cancelled_runs: usize,
    /// Regressions that ended with a fix: their failures are set aside.
    pub fixed_regressions: Vec<FixedRegression>,
    /// Transitions between pass and fail over the latest `window` runs, per transition slot.
    pub flip_rate: f64,
    /// The same, recent transitions weighing more.
    pub weighted_flip_rate: f64,
    /// Failed runs per run that ran.
    pub failure_rate: f64,
    /// Its rate of failed runs before its trailing streak of failures (the flake rate the
    /// streak is weighed against).
    pub flake_rate: f64,
    /// Consecutive failed runs up to the latest (own results).
    pub failure_streak: usize,
    /// The odds of that streak at its flake rate (`flake_rate ^ failure_streak`), when the
    /// streak is at least `broken_streak` long.
    pub streak_odds: Option<f64>,
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
    /// Latest consecutive runs that passed at the first attempt (own results).
    pub clean_streak: usize,
    /// The most frequent error of the incidents that touched it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_signature: Option<String>,
    /// The most frequent error of its set-aside infrastructure failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infra_signature: Option<String>,
}

/// One error signature and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCount {
    pub signature: String,
    pub count: usize,
}

/// An incident that touched a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestIncident {
    /// Its index in [`Analysis::incidents`].
    pub incident: usize,
    pub start_ms: i64,
    /// Whether a retry of the test passed in it (a transient incident).
    pub retry_passed: bool,
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
    /// How flaky (flip and retry evidence, 0 to 1) or how broken (1).
    pub score: f64,
    /// How sure the classification is (0 to 1), from the amount of evidence.
    pub confidence: f64,
    /// Why, in words: what the call rests on and what was set aside.
    pub why: String,
    pub evidence: Evidence,
    /// The incidents that touched it, oldest first.
    pub incidents: Vec<TestIncident>,
    /// Its error signatures outside incidents, most frequent first (up to 5).
    pub signatures: Vec<SignatureCount>,
    /// Example error messages (flaky and broken tests).
    pub examples: Vec<String>,
    /// Its result in each of the latest `strip_runs` runs of the history, oldest first:
    /// `P` passed, `F` failed, `K` flaky (retry flake), `S` skipped, `I` in an incident, `C`
    /// cancelled, `R` failed in a regression fixed later, `.` no result.
    pub history: String,
    #[serde(skip)]
    pub test_id: i64,
}

/// `file › suite › title`: a test's file (left out when unknown), then its title path.
pub(crate) fn display_name(file: &str, title_path: &[String]) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(title_path.len() + 1);
    if !file.is_empty() {
        parts.push(file);
    }
    parts.extend(title_path.iter().map(String::as_str));
    parts.join(" › ")
}

/// The first 12 characters of a commit id, for display.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(12).collect()
}

/// A signature cut to about 60 characters for a sentence: its start and its end, at word
/// boundaries where there are some, around `…`.
fn abbreviate(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 60 {
        return s.to_string();
    }
    let head: String = chars[..30].iter().collect();
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i >= 12 => &head[..i],
        _ => head.as_str(),
    };
    let tail: String = chars[chars.len() - 30..].iter().collect();
    let tail = match tail.find(char::is_whitespace) {
        Some(i) if tail.len() - i >= 12 => &tail[i..],
        _ => tail.as_str(),
    };
    format!("{} … {}", head.trim_end(), tail.trim_start())
}

/// `1 in 16`, `1 in 310,000`: the odds `p` as one chance in a rounded number.
fn one_in(p: f64) -> String {
    if p <= 0.0 {
        return "none".into();
    }
    let n = 1.0 / p;
    if !n.is_finite() || n >= 1e12 {
        return "less than 1 in a trillion".into();
    }
    // Two significant digits.
    let digits = n.log10().floor() as i32;
    let unit = 10f64.powi((digits - 1).max(0));
    let rounded = ((n / unit).round() * unit) as u64;
    let s = rounded.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("1 in {out}")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl TestAnalysis {
    /// `file › suite › test`.
    pub fn display_name(&self) -> String {
        display_name(&self.file, &self.title_path)
    }

    /// The evidence in one line: what the call rests on, then what was set aside.
    pub fn evidence_line(&self) -> String {
        self.why.clone()
    }

    /// What was set aside, as a clause (empty when nothing was).
    pub fn set_aside_line(&self) -> String {
        let e = &self.evidence;
        let mut parts = Vec::new();
        if e.incident_runs > 0 {
            let sig = e
                .incident_signature
                .as_deref()
                .map(|s| format!(": `{}`", abbreviate(s)))
                .unwrap_or_default();
            parts.push(format!(
                "{} in {} set aside{sig}",
                plural(e.incident_runs, "failure", "failures"),
                plural(e.incident_count, "incident", "incidents"),
            ));
        }
        if e.infra_failures > 0 {
            let sig = e
                .infra_signature
                .as_deref()
                .map(|s| format!(" (`{}`)", abbreviate(s)))
                .unwrap_or_default();
            parts.push(format!(
                "{} with an incident's error set aside{sig}",
                plural(e.infra_failures, "failure", "failures"),
            ));
        }
        if e.cancelled_runs > 0 {
            parts.push(format!(
                "{} set aside",
                plural(e.cancelled_runs, "cancelled run", "cancelled runs")
            ));
        }
        for r in &e.fixed_regressions {
            let fixed = if r.fixed_commit.is_empty() {
                String::new()
            } else {
                format!(" at commit {}", short_commit(&r.fixed_commit))
            };
            parts.push(format!(
                "{} of a regression fixed{fixed} set aside (`{}`)",
                plural(r.failures, "failure", "failures"),
                abbreviate(&r.signature)
            ));
        }
        if e.older_failures > 0 {
            parts.push(format!(
                "{} older than its last {} runs not counted",
                plural(e.older_failures, "failure", "failures"),
                e.ran
            ));
        }
        parts.join("; ")
    }

    /// What the call rests on, as a clause.
    fn rests_on(&self, opts_broken_streak: usize) -> String {
        let e = &self.evidence;
        match self.classification {
            Classification::Skipped => "never ran".into(),
            Classification::NotEnoughData => format!(
                "{} of its own: not enough to call",
                plural(e.ran, "run", "runs")
            ),
            Classification::Broken => {
                let since = match &e.broken_since {
                    Some(b) if !b.commit_id.is_empty() => {
                        format!(" since commit {}", short_commit(&b.commit_id))
                    }
                    _ => String::new(),
                };
                let odds = if e.ran == e.failure_streak {
                    "it never passed".to_string()
                } else if e.flake_rate == 0.0 {
                    format!(
                        "it had not failed in its {} before",
                        plural(e.ran - e.failure_streak, "run", "runs")
                    )
                } else {
                    format!(
                        "at its flake rate of {:.2} that has odds of {}",
                        e.flake_rate,
                        one_in(e.streak_odds.unwrap_or(0.0))
                    )
                };
                format!("{} failures in a row{since}; {odds}", e.failure_streak)
            }
            Classification::Flaky | Classification::Stable => {
                let mut parts = Vec::new();
                if e.retry_flakes > 0 {
                    parts.push(plural(e.retry_flakes, "retry flake", "retry flakes"));
                }
                if e.same_commit_flips > 0 {
                    parts.push(plural(
                        e.same_commit_flips,
                        "same-commit flip",
                        "same-commit flips",
                    ));
                }
                if e.isolated_failures > 0 {
                    parts.push(plural(
                        e.isolated_failures,
                        "isolated failure",
                        "isolated failures",
                    ));
                }
                let mut s = if parts.is_empty() {
                    format!("{} failed of its last {} runs", e.failed_runs, e.ran)
                } else {
                    format!(
                        "{} in its last {} runs ({} failed, flip rate {:.2})",
                        parts.join(", "),
                        e.ran,
                        e.failed_runs,
                        e.flip_rate
                    )
                };
                if self.classification == Classification::Stable && e.strength > 0.0 {
                    s.push_str(if e.strength < 1.0 {
                        ": too little to call it flaky"
                    } else if e.weak_signal {
                        ": one signal, with an error other tests had too: not enough to call it flaky"
                    } else {
                        ": its flake rate is too low to call it flaky"
                    });
                }
                if let (Some(odds), true) = (e.streak_odds, e.broken_since.is_none()) {
                    if e.failure_streak >= opts_broken_streak {
                        s.push_str(&format!(
                            "; its last {} runs failed, which its flake rate of {:.2} explains (odds {})",
                            e.failure_streak,
                            e.flake_rate,
                            one_in(odds)
                        ));
                    }
                }
                s
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
        let thin = self.count(Classification::NotEnoughData);
        format!(
            "{} runs, {} tests × environments: {} flaky, {} broken, {} stable, {}{} skipped; {} incident(s), {} cancelled run(s)",
            self.runs,
            self.tests.len(),
            self.count(Classification::Flaky),
            self.count(Classification::Broken),
            self.count(Classification::Stable),
            if thin > 0 {
                format!("{thin} not enough data, ")
            } else {
                String::new()
            },
            self.count(Classification::Skipped),
            self.incidents.len(),
            self.cancelled_runs,
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

/// One run of the history, counted the way the classification counts: the flake-rate trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    pub start_ms: i64,
    pub commit_id: String,
    /// Results that ran (not skipped, not cancelled).
    pub ran: u64,
    /// Failed results of tests that are not flaky (broken, regressions, stable tests' odd
    /// failures).
    pub failed: u64,
    /// Results that showed flakiness: retry flakes, and failures of tests classified flaky.
    pub flaky: u64,
    /// Results set aside in incidents (or failing with an incident's error).
    pub incident_results: u64,
    /// Results of cancelled attempts.
    pub cancelled: u64,
    /// Whether an incident happened in this run.
    pub incident: bool,
}

/// Many tests of one run and environment failing with one error at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Incident {
    /// Its index in [`Analysis::incidents`].
    pub id: usize,
    pub source: String,
    pub commit_id: String,
    pub start_ms: i64,
    pub environment: String,
    /// Tests that ran in that run and environment.
    pub ran: u64,
    /// Of them, tests with a failed attempt.
    pub failed: u64,
    /// Of them, tests that failed with the incident's error.
    pub hit: u64,
    /// Of the hit tests, those whose retry passed (a transient incident).
    pub retry_passed: u64,
    /// The most frequent signature of the hit tests' failures.
    pub signature: String,
    /// The infrastructure cause the errors name, when one does (`connection refused`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    /// Hit tests per test that ran.
    pub share: f64,
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
    /// Runs with cancelled (interrupted) attempts.
    pub cancelled_runs: usize,
    /// Flaky first, then broken, stable, not enough data, skipped; by score within each.
    pub tests: Vec<TestAnalysis>,
    pub incidents: Vec<Incident>,
    /// Signatures shared by more than one test, or seen more than once, most failures first
    /// (the tests' own failures: incidents and cancellations left out).
    pub patterns: Vec<Pattern>,
    /// Every run, oldest first, with its counts.
    pub trend: Vec<TrendPoint>,
}

/// One run, as the analysis sees it.
struct RunCtx {
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

/// No signature: the error says nothing (a cancelled attempt, a placeholder).
const NONE: u32 = u32::MAX;
/// The key of a failure naming an infrastructure cause: this bit and the cause's index.
const INFRA_BIT: u32 = 1 << 31;

/// Errors (message and stack) up to this many bytes are cached with their signature and key...
const CACHED_TEXT: usize = 1024;
/// ...up to this many bytes of them in all.
const CACHE_BYTES: usize = 16 << 20;

/// One failed attempt, as the analysis keeps it.
#[derive(Clone, Copy)]
struct Fail {
    test: i64,
    rank: u32,
    attempt: u32,
    /// Its signature's index ([`NONE`] when it says nothing).
    sig: u32,
    /// What groups it with other tests' failures into an incident: its infrastructure cause
    /// when it names one, else its signature.
    key: u32,
    kind: FailureKind,
}

/// Strings by index.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: String) -> u32 {
        if let Some(&i) = self.ids.get(&s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.clone());
        self.ids.insert(s, i);
        i
    }

    fn name(&self, id: u32) -> &str {
        self.names
            .get(id as usize)
            .map_or("(no message)", |s| s.as_str())
    }
}

/// How a result of a test is counted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Its own result: evidence.
    Own,
    /// Failed in this incident (by index): set aside.
    Incident(usize),
    /// Failed with an error that is an incident's cause elsewhere: set aside.
    Infra,
    /// Only interrupted attempts failed: set aside.
    Cancelled,
    /// A failure of a regression fixed later: set aside.
    Regression,
    /// No attempt ran.
    Skipped,
}

/// A result with how it counts.
#[derive(Clone, Copy)]
struct Marked {
    rank: u32,
    outcome: Outcome,
    mark: Mark,
    /// The signature of its first own failure ([`NONE`] when none).
    sig: u32,
}

/// A failure message and where it was last seen: (history rank, attempt).
type Example = ((usize, u32), String);

/// Keeps in `kept` the `max` distinct messages seen latest (`at`: history rank, attempt),
/// each with its latest position.
fn keep_latest(kept: &mut Vec<Example>, at: (usize, u32), message: &str, max: usize) {
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
fn flip_rates(points: &[Marked], decay: f64) -> (f64, f64) {
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

/// An incident before it has an id: a run, an environment, a key and the tests it hit.
struct Candidate {
    rank: u32,
    env: u16,
    key: u32,
    tests: Vec<i64>,
}

/// How many of the sorted `a` are in the sorted `b`.
fn common(a: &[i64], b: &[i64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The incidents of the history (spec/analyze.md §6): per run and environment, the keys that
/// at least `incident_min_tests` tests, and `incident_share` of the tests that ran there,
/// failed with. A key that hits mostly the same tests in `broken_streak` or more consecutive
/// runs of an environment is a breakage, not an incident: those are left to the tests.
fn find_incidents(
    fails: &[Fail],
    env_of: &dyn Fn(i64) -> Option<u16>,
    ran_at: &[u32],
    n_env: usize,
    n_runs: usize,
    opts: &AnalysisOptions,
) -> (Vec<Candidate>, Vec<(u32, u16, u32)>) {
    let mut hits: Vec<(u32, u16, u32, i64)> = fails
        .iter()
        // An error that says nothing shares nothing with another: no incident is made of them
        // (pytest-rerunfailures' inferred failures, bare `<failure/>` elements).
        .filter(|f| f.kind != FailureKind::Interrupted && f.key != NONE)
        .filter_map(|f| Some((f.rank, env_of(f.test)?, f.key, f.test)))
        .collect();
    hits.sort_unstable();
    hits.dedup();
    let mut out: Vec<Candidate> = Vec::new();
    let mut shared: Vec<(u32, u16, u32)> = Vec::new();
    let mut i = 0;
    while i < hits.len() {
        let (rank, env, key, _) = hits[i];
        let mut j = i;
        while j < hits.len() && (hits[j].0, hits[j].1, hits[j].2) == (rank, env, key) {
            j += 1;
        }
        let n = j - i;
        if n >= 2 {
            shared.push((rank, env, key));
        }
        let ran = ran_at[rank as usize * n_env + env as usize] as usize;
        if n >= opts.incident_min_tests.max(1) && n as f64 >= opts.incident_share * ran as f64 {
            out.push(Candidate {
                rank,
                env,
                key,
                tests: hits[i..j].iter().map(|h| h.3).collect(),
            });
        }
        i = j;
    }
    // Persistent keys: chains of consecutive runs of one environment.
    let streak = opts.broken_streak.max(2);
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|&c| (out[c].env, out[c].key, out[c].rank));
    // Position of a run among the runs where the environment ran.
    let mut positions: Vec<Vec<u32>> = vec![Vec::new(); n_env];
    for (env, list) in positions.iter_mut().enumerate() {
        for rank in 0..n_runs {
            if ran_at[rank * n_env + env] > 0 {
                list.push(rank as u32);
            }
        }
    }
    let pos = |env: u16, rank: u32| positions[env as usize].binary_search(&rank).unwrap_or(0);
    let mut drop = vec![false; out.len()];
    let mut k = 0;
    while k < order.len() {
        let mut end = k + 1;
        while end < order.len() {
            let (a, b) = (&out[order[end - 1]], &out[order[end]]);
            let linked = (a.env, a.key) == (b.env, b.key)
                && pos(b.env, b.rank) == pos(a.env, a.rank) + 1
                && 2 * common(&a.tests, &b.tests) >= a.tests.len().min(b.tests.len());
            if !linked {
                break;
            }
            end += 1;
        }
        if end - k >= streak {
            for &c in &order[k..end] {
                drop[c] = true;
            }
        }
        k = end;
    }
    let mut kept: Vec<Candidate> = out
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(c, _)| c)
        .collect();
    kept.sort_by_key(|c| (c.rank, c.env, c.key));
    (kept, shared)
}

/// What the classification of every test shares.
struct Ctx<'a> {
    runs: &'a [RunCtx],
    opts: &'a AnalysisOptions,
    /// Incident ids by (run rank, environment, key).
    incident_at: &'a HashMap<(u32, u16, u32), usize>,
    /// Groups (run rank, environment, key) of two or more tests failing with an incident's
    /// key where it made no incident.
    infra_at: &'a HashSet<(u32, u16, u32)>,
    sigs: &'a Interner,
    /// Signatures that only one test failed with (outside incidents): a test's own errors.
    own_sigs: &'a HashSet<u32>,
    total_runs: usize,
}

/// Per-run counts as the classification counts (the trend).
#[derive(Clone, Copy, Default)]
struct RunCounts {
    ran: u64,
    failed: u64,
    flaky: u64,
    incident_results: u64,
    cancelled: u64,
}

/// One of a test's own failed attempts: (signature, kind, run rank).
type OwnFail = (u32, FailureKind, u32);

/// What classifying one test gives besides its analysis.
struct Classified {
    analysis: TestAnalysis,
    /// Ranks of its results set aside (incidents, infrastructure errors, cancellations).
    set_aside: Vec<u32>,
    /// Its own failures, for signatures and patterns.
    own_fails: Vec<OwnFail>,
    /// (incident id, retry passed) of the incidents that touched it.
    incidents: Vec<(usize, bool)>,
}

impl Ctx<'_> {
    /// Attributes and classifies one test from its results (in run order) and its failed
    /// attempts (by run, then attempt); counts its results into `counts`.
    fn classify(
        &self,
        key: &TestKey,
        env: u16,
        points: &[Point],
        fails: &[Fail],
        counts: &mut [RunCounts],
    ) -> Classified {
        let (runs, opts) = (self.runs, self.opts);
        let mut ev = Evidence {
            runs: points.len(),
            first_seen_ms: points.first().map_or(0, |p| runs[p.run as usize].start_ms),
            last_seen_ms: points.last().map_or(0, |p| runs[p.run as usize].start_ms),
            ..Evidence::default()
        };
        // 1. Attribution.
        let mut marked: Vec<Marked> = Vec::with_capacity(points.len());
        let mut own_fails: Vec<OwnFail> = Vec::new();
        let mut incidents: Vec<(usize, bool)> = Vec::new();
        let mut infra_sigs: HashMap<u32, usize> = HashMap::new();
        let mut j = 0;
        for p in points {
            while j < fails.len() && fails[j].rank < p.run {
                j += 1;
            }
            let from = j;
            while j < fails.len() && fails[j].rank == p.run {
                j += 1;
            }
            let mut m = Marked {
                rank: p.run,
                outcome: p.outcome,
                mark: Mark::Own,
                sig: NONE,
            };
            match p.outcome {
                Outcome::Skipped => m.mark = Mark::Skipped,
                Outcome::Passed => {}
                Outcome::Failed | Outcome::Flaky => {
                    let (mut own, mut incident, mut infra) = (None, None, None);
                    for f in &fails[from..j] {
                        if f.kind == FailureKind::Interrupted {
                            continue;
                        }
                        if let Some(&id) = self.incident_at.get(&(p.run, env, f.key)) {
                            incident.get_or_insert(id);
                        } else if self.infra_at.contains(&(p.run, env, f.key)) {
                            infra.get_or_insert(f.sig);
                        } else {
                            own.get_or_insert(f.sig);
                            own_fails.push((f.sig, f.kind, p.run));
                        }
                    }
                    if let Some(sig) = own {
                        m.sig = sig;
                    } else if from == j {
                        // Failed without a recorded error: its own.
                    } else if let Some(id) = incident {
                        m.mark = Mark::Incident(id);
                        incidents.push((id, p.outcome == Outcome::Flaky));
                    } else if let Some(sig) = infra {
                        m.mark = Mark::Infra;
                        *infra_sigs.entry(sig).or_default() += 1;
                    } else if p.outcome == Outcome::Flaky {
                        // Interrupted after a pass: a pass.
                        m.outcome = Outcome::Passed;
                    } else {
                        m.mark = Mark::Cancelled;
                    }
                }
            }
            marked.push(m);
        }

        // 2. Regressions fixed later: a block of failures with one signature, dense, followed
        //    by passes.
        let own_ix = |marked: &[Marked]| -> Vec<usize> {
            (0..marked.len())
                .filter(|&i| marked[i].mark == Mark::Own)
                .collect()
        };
        let own = own_ix(&marked);
        let mut by_sig: HashMap<u32, Vec<usize>> = HashMap::new();
        for (k, &i) in own.iter().enumerate() {
            if marked[i].outcome != Outcome::Passed {
                by_sig.entry(marked[i].sig).or_default().push(k);
            }
        }
        let mut sig_order: Vec<u32> = by_sig.keys().copied().collect();
        sig_order.sort_unstable();
        let after = opts.broken_streak.max(1);
        for sig in sig_order {
            let ks = &by_sig[&sig];
            if ks.len() < opts.regression_min_failures.max(2) {
                continue;
            }
            let (first, last) = (ks[0], ks[ks.len() - 1]);
            let density = ks.len() as f64 / (last - first + 1) as f64;
            let fixed = own.len() > last + after
                && own[last + 1..=last + after]
                    .iter()
                    .all(|&i| marked[i].outcome == Outcome::Passed);
            if density < opts.regression_density || !fixed {
                continue;
            }
            for &k in ks {
                marked[own[k]].mark = Mark::Regression;
            }
            let fix = &runs[marked[own[last + 1]].rank as usize];
            ev.fixed_regressions.push(FixedRegression {
                signature: self.sigs.name(sig).to_string(),
                failures: ks.len(),
                from_ms: runs[marked[own[first]].rank as usize].start_ms,
                to_ms: runs[marked[own[last]].rank as usize].start_ms,
                fixed_commit: fix.commit.clone(),
            });
        }
        ev.fixed_regressions.sort_by_key(|r| r.from_ms);

        // 3. The evidence window of its own results.
        let own: Vec<Marked> = marked
            .iter()
            .copied()
            .filter(|m| m.mark == Mark::Own)
            .collect();
        let win = &own[own.len().saturating_sub(opts.evidence_window.max(1))..];
        ev.older_failures = own[..own.len() - win.len()]
            .iter()
            .filter(|m| m.outcome != Outcome::Passed)
            .count();
        for m in &marked {
            match m.mark {
                Mark::Incident(_) => ev.incident_runs += 1,
                Mark::Infra => ev.infra_failures += 1,
                Mark::Cancelled => ev.cancelled_runs += 1,
                _ => {}
            }
        }
        let distinct: BTreeSet<usize> = incidents.iter().map(|i| i.0).collect();
        ev.incident_count = distinct.len();
        // The most frequent; on a tie the first by text (never by id: ids follow the store's
        // order).
        if let Some((&sig, _)) = infra_sigs.iter().max_by(|a, b| {
            a.1.cmp(b.1)
                .then_with(|| self.sigs.name(*b.0).cmp(self.sigs.name(*a.0)))
        }) {
            ev.infra_signature = Some(self.sigs.name(sig).to_string());
        }
        ev.ran = win.len();
        ev.failed_runs = win.iter().filter(|m| m.outcome == Outcome::Failed).count();
        ev.failure_rate = if ev.ran > 0 {
            ev.failed_runs as f64 / ev.ran as f64
        } else {
            0.0
        };

        // 4. Broken: a trailing streak its flake rate does not explain.
        let streak = win
            .iter()
            .rev()
            .take_while(|m| m.outcome == Outcome::Failed)
            .count();
        let before = &win[..win.len() - streak];
        ev.failure_streak = streak;
        ev.flake_rate = if before.is_empty() {
            0.0
        } else {
            before
                .iter()
                .filter(|m| m.outcome == Outcome::Failed)
                .count() as f64
                / before.len() as f64
        };
        let streak_long = streak >= opts.broken_streak.max(1);
        if streak_long {
            ev.streak_odds = Some(ev.flake_rate.powi(streak as i32));
        }
        let broken = streak_long && ev.streak_odds.unwrap_or(1.0) <= opts.broken_odds;
        if broken {
            let first = &win[win.len() - streak];
            ev.broken_since = Some(BrokenSince {
                commit_id: runs[first.rank as usize].commit.clone(),
                start_ms: runs[first.rank as usize].start_ms,
                runs: streak,
            });
        }

        // 5. Flaky: nondeterminism in its own results (before a broken streak).
        let evid = if broken { before } else { win };
        let mut by_commit: HashMap<u32, (bool, bool)> = HashMap::with_capacity(evid.len());
        for m in evid {
            let e = by_commit
                .entry(runs[m.rank as usize].commit_ix)
                .or_default();
            if is_pass(m.outcome) {
                e.0 = true;
            }
            if m.outcome == Outcome::Failed {
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
            for m in evid {
                if flip_set.contains(&runs[m.rank as usize].commit_ix) {
                    names.insert(runs[m.rank as usize].commit.as_str());
                }
            }
            ev.flip_commits = names.iter().take(5).map(|c| c.to_string()).collect();
        }
        let isolated: Vec<u32> = evid
            .windows(3)
            .filter(|w| {
                w[1].outcome == Outcome::Failed && is_pass(w[0].outcome) && is_pass(w[2].outcome)
            })
            .map(|w| w[1].rank)
            .collect();
        ev.isolated_failures = isolated.len();
        ev.retry_flakes = evid.iter().filter(|m| m.outcome == Outcome::Flaky).count();
        ev.last_flake_ms = evid
            .iter()
            .filter(|m| {
                m.outcome == Outcome::Flaky
                    || (m.outcome == Outcome::Failed
                        && flip_set.contains(&runs[m.rank as usize].commit_ix))
                    || isolated.contains(&m.rank)
            })
            .map(|m| runs[m.rank as usize].start_ms)
            .max();
        ev.clean_streak = own
            .iter()
            .rev()
            .take_while(|m| m.outcome == Outcome::Passed)
            .count();
        let flip_from = win.len().saturating_sub(opts.window);
        (ev.flip_rate, ev.weighted_flip_rate) = flip_rates(&win[flip_from..], opts.decay);
        ev.strength = (ev.retry_flakes + ev.same_commit_flips) as f64
            + if ev.isolated_failures >= opts.isolated_min {
                ev.isolated_failures as f64 / 2.0
            } else {
                0.0
            };
        // One signal alone (a retry flake, or a flip) counts only when its error is the
        // test's own: an error no other test failed with.
        if ev.strength > 0.0 && ev.strength < 2.0 {
            let own_error = evid.iter().any(|m| {
                let event = m.outcome == Outcome::Flaky
                    || (m.outcome == Outcome::Failed
                        && flip_set.contains(&runs[m.rank as usize].commit_ix));
                event && self.own_sigs.contains(&m.sig)
            });
            if !own_error {
                ev.weak_signal = true;
            }
        }

        // New failures: in the recent window of the history, never in the prior one.
        let recent_from = self.total_runs.saturating_sub(opts.recent_window) as u32;
        let prior_from = (recent_from as usize).saturating_sub(opts.prior_window) as u32;
        let counted = |m: &&Marked| matches!(m.mark, Mark::Own | Mark::Regression);
        let recent_fail = marked
            .iter()
            .filter(counted)
            .any(|m| m.rank >= recent_from && m.outcome != Outcome::Passed);
        let mut prior = marked
            .iter()
            .filter(counted)
            .filter(|m| m.rank >= prior_from && m.rank < recent_from)
            .peekable();
        let had_prior = prior.peek().is_some();
        let prior_fail = prior.any(|m| m.outcome != Outcome::Passed);
        ev.new_failure = recent_fail && had_prior && !prior_fail;

        let flake_share = if ev.ran > 0 {
            (ev.retry_flakes + ev.failed_runs) as f64 / ev.ran as f64
        } else {
            0.0
        };
        let flaky_score = ev.weighted_flip_rate.max(flake_share).min(1.0);
        let set_aside_any = marked
            .iter()
            .any(|m| !matches!(m.mark, Mark::Own | Mark::Skipped));
        let (classification, score, confidence) = if own.is_empty() {
            if set_aside_any {
                (Classification::NotEnoughData, 0.0, 0.0)
            } else {
                (Classification::Skipped, 0.0, 1.0)
            }
        } else if broken {
            // How sure: each failed run beyond the streak's minimum halves the doubt.
            let extra = (streak - opts.broken_streak.max(1)) as i32;
            (Classification::Broken, 1.0, 1.0 - 0.5f64.powi(extra + 2))
        } else if ev.ran < opts.min_runs {
            (Classification::NotEnoughData, flaky_score, 0.0)
        } else if ev.strength >= 1.0 && !ev.weak_signal && flaky_score >= opts.min_flaky_score {
            (
                Classification::Flaky,
                flaky_score,
                1.0 - 0.5f64.powf(ev.strength),
            )
        } else {
            // Stable: the more clean runs, the surer.
            (
                Classification::Stable,
                ev.failure_rate,
                1.0 - 0.5f64.powf(ev.ran as f64 / 10.0),
            )
        };

        // The trend and the strip.
        for m in &marked {
            let c = &mut counts[m.rank as usize];
            match (m.mark, m.outcome) {
                (Mark::Skipped, _) => {}
                (Mark::Cancelled, _) => c.cancelled += 1,
                (Mark::Incident(_) | Mark::Infra, _) => {
                    c.ran += 1;
                    c.incident_results += 1;
                }
                (Mark::Regression, _) => {
                    c.ran += 1;
                    c.failed += 1;
                }
                (Mark::Own, Outcome::Passed) => c.ran += 1,
                (Mark::Own, Outcome::Flaky) => {
                    c.ran += 1;
                    c.flaky += 1;
                }
                (Mark::Own, _) => {
                    c.ran += 1;
                    if classification == Classification::Flaky {
                        c.flaky += 1;
                    } else {
                        c.failed += 1;
                    }
                }
            }
        }
        let strip_from = self.total_runs.saturating_sub(opts.strip_runs);
        let mut history = vec![b'.'; self.total_runs - strip_from];
        for m in marked.iter().filter(|m| m.rank as usize >= strip_from) {
            history[m.rank as usize - strip_from] = match (m.mark, m.outcome) {
                (Mark::Skipped, _) => b'S',
                (Mark::Incident(_) | Mark::Infra, _) => b'I',
                (Mark::Cancelled, _) => b'C',
                (Mark::Regression, _) => b'R',
                (Mark::Own, Outcome::Passed) => b'P',
                (Mark::Own, Outcome::Flaky) => b'K',
                (Mark::Own, _) => b'F',
            };
        }
        let set_aside = marked
            .iter()
            .filter(|m| matches!(m.mark, Mark::Incident(_) | Mark::Infra | Mark::Cancelled))
            .map(|m| m.rank)
            .collect();
        Classified {
            analysis: TestAnalysis {
                file: key.file.clone(),
                title_path: key.title_path.clone(),
                environment: key.environment.clone(),
                classification,
                score,
                confidence,
                why: String::new(),
                evidence: ev,
                incidents: Vec::new(),
                signatures: Vec::new(),
                examples: Vec::new(),
                history: String::from_utf8(history).unwrap_or_default(),
                test_id: key.id,
            },
            set_aside,
            own_fails,
            incidents,
        }
    }
}

/// Reads the store and decides. Memory holds the runs, the tests' keys, every result (8 bytes
/// each) and every failed attempt (32 bytes each, without its text), never the reports.
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
    let n_runs = runs.len();
    let rank: HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let keys: HashMap<i64, TestKey> = store.tests()?.into_iter().map(|k| (k.id, k)).collect();
    // Environments by index.
    let mut env_names: Vec<String> = keys.values().map(|k| k.environment.clone()).collect();
    env_names.sort_unstable();
    env_names.dedup();
    let n_env = env_names.len().max(1);
    let env_ix: HashMap<&str, u16> = env_names
        .iter()
        .enumerate()
        .map(|(i, e)| (e.as_str(), i as u16))
        .collect();
    // Each test's environment: a dense table by id (ids are small positive integers), else a
    // map.
    let env_code = |k: &TestKey| env_ix.get(k.environment.as_str()).copied().unwrap_or(0);
    let max_id = keys.keys().copied().max().unwrap_or(0);
    let dense_env: Vec<u16> = if (0..1 << 26).contains(&max_id) {
        let mut v = vec![u16::MAX; max_id as usize + 1];
        for (&id, k) in &keys {
            v[id as usize] = env_code(k);
        }
        v
    } else {
        Vec::new()
    };
    let sparse_env: HashMap<i64, u16> = if dense_env.is_empty() {
        keys.iter().map(|(&id, k)| (id, env_code(k))).collect()
    } else {
        HashMap::new()
    };
    let env_of = |test: i64| -> Option<u16> {
        if dense_env.is_empty() {
            sparse_env.get(&test).copied()
        } else {
            usize::try_from(test)
                .ok()
                .and_then(|i| dense_env.get(i))
                .copied()
                .filter(|&e| e != u16::MAX)
        }
    };

    // Results: each test's history (8 bytes a result), and per run and environment how many
    // ran and failed. Store ids are small positive integers: dense tables instead of hash maps
    // (ids out of that shape fall back to the maps).
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
    let to_rank = |run_id: i64| -> Option<u32> {
        match rank_of.get(run_id as usize) {
            Some(&r) if r != u32::MAX && run_id >= 0 => Some(r),
            _ => rank.get(&run_id).map(|&r| r as u32),
        }
    };
    let max_test = keys.keys().copied().max().unwrap_or(0);
    let mut dense_histories: Vec<Vec<Point>> = if dense(max_test) {
        vec![Vec::new(); max_test as usize + 1]
    } else {
        Vec::new()
    };
    let mut histories: HashMap<i64, Vec<Point>> = HashMap::new();
    let mut ran_at = vec![0u32; n_runs * n_env];
    let mut failed_at = vec![0u32; n_runs * n_env];
    store.for_each_result(&mut |row: ResultRow| {
        let Some(run) = to_rank(row.run_id) else {
            return;
        };
        if let Some(env) = env_of(row.test_id) {
            let at = run as usize * n_env + env as usize;
            if row.outcome != Outcome::Skipped {
                ran_at[at] += 1;
            }
            if matches!(row.outcome, Outcome::Failed | Outcome::Flaky) {
                failed_at[at] += 1;
            }
        }
        let point = Point {
            run,
            outcome: row.outcome,
        };
        match dense_histories.get_mut(row.test_id as usize) {
            Some(h) if row.test_id >= 0 => h.push(point),
            _ => histories.entry(row.test_id).or_default().push(point),
        }
    })?;

    // Failed attempts: a signature and a key each (the text is not kept).
    let mut sigs = Interner::default();
    let mut causes: Vec<&'static str> = Vec::new();
    let mut fails: Vec<Fail> = Vec::new();
    let mut cache: HashMap<String, (u32, u32)> = HashMap::new();
    let mut cached = 0usize;
    store.for_each_failure(&mut |run, test, f| {
        let Some(rank) = to_rank(run) else {
            return;
        };
        let (message, stack) = (f.message.as_deref(), f.stack.as_deref());
        // An unexpected pass has no error of its own (its message is ours, the same for every
        // test): no signature, no key, so never an incident's; the test's own failure, as
        // before it had a kind.
        let (sig, key) = if matches!(
            f.kind,
            FailureKind::Interrupted | FailureKind::UnexpectedPass
        ) || !says_something(message, stack)
        {
            (NONE, NONE)
        } else {
            // Errors repeat: short ones are looked up before the expressions run.
            let text = (message.map_or(0, str::len) + stack.map_or(0, str::len) <= CACHED_TEXT)
                .then(|| {
                    format!(
                        "{}\u{0}{}",
                        message.unwrap_or_default(),
                        stack.unwrap_or_default()
                    )
                });
            match text.as_ref().and_then(|t| cache.get(t)) {
                Some(&known) => known,
                None => {
                    let sig = sigs.id(signature(message, stack));
                    let key = match infra_class(message, stack) {
                        Some(cause) => {
                            let i = causes.iter().position(|c| *c == cause).unwrap_or_else(|| {
                                causes.push(cause);
                                causes.len() - 1
                            });
                            INFRA_BIT | i as u32
                        }
                        None => sig,
                    };
                    if let Some(t) = text.filter(|t| cached + t.len() <= CACHE_BYTES) {
                        cached += t.len();
                        cache.insert(t, (sig, key));
                    }
                    (sig, key)
                }
            }
        };
        fails.push(Fail {
            test,
            rank,
            attempt: f.attempt,
            sig,
            key,
            kind: f.kind,
        });
    })?;

    // Incidents.
    let (mut candidates, shared) = find_incidents(&fails, &env_of, &ran_at, n_env, n_runs, opts);
    // Incidents of one run and environment in the order of their keys' text (ids follow the
    // store's order, which must not matter).
    let key_name = |key: u32| -> &str {
        if key != NONE && key & INFRA_BIT != 0 {
            causes
                .get((key & !INFRA_BIT) as usize)
                .copied()
                .unwrap_or_default()
        } else {
            sigs.name(key)
        }
    };
    candidates.sort_by(|a, b| {
        (a.rank, a.env)
            .cmp(&(b.rank, b.env))
            .then_with(|| key_name(a.key).cmp(key_name(b.key)))
    });
    let mut incident_at: HashMap<(u32, u16, u32), usize> = HashMap::new();
    let mut incident_keys: HashSet<u32> = HashSet::new();
    for (id, c) in candidates.iter().enumerate() {
        incident_at.insert((c.rank, c.env, c.key), id);
        incident_keys.insert(c.key);
    }
    // Smaller groups of tests failing together with an incident's error elsewhere: the same
    // outage, too small here to be an incident (a lone failure stays the test's own).
    let infra_at: HashSet<(u32, u16, u32)> = shared
        .into_iter()
        .filter(|g| incident_keys.contains(&g.2) && !incident_at.contains_key(g))
        .collect();
    // Each incident's most frequent signature.
    let mut sig_counts: Vec<HashMap<u32, usize>> = vec![HashMap::new(); candidates.len()];
    for f in &fails {
        if f.kind == FailureKind::Interrupted {
            continue;
        }
        if let Some(env) = env_of(f.test) {
            if let Some(&id) = incident_at.get(&(f.rank, env, f.key)) {
                *sig_counts[id].entry(f.sig).or_default() += 1;
            }
        }
    }
    let mut incidents: Vec<Incident> = candidates
        .iter()
        .enumerate()
        .map(|(id, c)| {
            let run = &runs[c.rank as usize];
            let at = c.rank as usize * n_env + c.env as usize;
            let sig = sig_counts[id]
                .iter()
                .max_by(|a, b| {
                    a.1.cmp(b.1)
                        .then_with(|| sigs.name(*b.0).cmp(sigs.name(*a.0)))
                })
                .map_or(NONE, |(s, _)| *s);
            Incident {
                id,
                source: run.meta.source.clone(),
                commit_id: run.meta.commit_id.clone(),
                start_ms: run.meta.start_ms,
                environment: env_names.get(c.env as usize).cloned().unwrap_or_default(),
                ran: u64::from(ran_at[at]),
                failed: u64::from(failed_at[at]),
                hit: c.tests.len() as u64,
                retry_passed: 0,
                signature: sigs.name(sig).to_string(),
                cause: (c.key != NONE && c.key & INFRA_BIT != 0)
                    .then(|| causes.get((c.key & !INFRA_BIT) as usize).copied())
                    .flatten(),
                share: if ran_at[at] > 0 {
                    c.tests.len() as f64 / f64::from(ran_at[at])
                } else {
                    0.0
                },
                run_id: run.id,
            }
        })
        .collect();
    drop(candidates);

    // A run whose commit is unknown (empty: a JUnit file without one) shares it with no other.
    let incident_ranks: HashSet<u32> = incident_at.keys().map(|k| k.0).collect();
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
                commit: r.meta.commit_id.clone(),
                commit_ix,
                start_ms: r.meta.start_ms,
                incident: incident_ranks.contains(&(i as u32)),
            }
        })
        .collect();

    // Signatures that one test alone failed with, outside incidents.
    let mut sig_tests: HashMap<u32, (i64, bool)> = HashMap::new();
    for f in &fails {
        if f.sig == NONE || f.kind == FailureKind::Interrupted {
            continue;
        }
        if let Some(g) = env_of(f.test).map(|env| (f.rank, env, f.key)) {
            if incident_at.contains_key(&g) || infra_at.contains(&g) {
                continue;
            }
        }
        let e = sig_tests.entry(f.sig).or_insert((f.test, false));
        if e.0 != f.test {
            e.1 = true;
        }
    }
    let own_sigs: HashSet<u32> = sig_tests
        .into_iter()
        .filter(|(_, (_, shared))| !shared)
        .map(|(s, _)| s)
        .collect();

    // Every test, attributed and classified.
    fails.sort_unstable_by_key(|f| (f.test, f.rank, f.attempt));
    let c = Ctx {
        runs: &ctx,
        opts,
        incident_at: &incident_at,
        infra_at: &infra_at,
        sigs: &sigs,
        own_sigs: &own_sigs,
        total_runs: n_runs,
    };
    let mut counts = vec![RunCounts::default(); n_runs];
    let mut ids: Vec<i64> = keys.keys().copied().collect();
    ids.sort_unstable();
    let mut tests = Vec::with_capacity(keys.len());
    let mut set_asides: HashMap<i64, HashSet<u32>> = HashMap::new();
    let mut per_test: Vec<(usize, Vec<OwnFail>)> = Vec::new();
    let mut f = 0;
    for id in ids {
        let mut points = match dense_histories.get_mut(id as usize) {
            Some(h) if id >= 0 => std::mem::take(h),
            _ => histories.remove(&id).unwrap_or_default(),
        };
        points.sort_by_key(|p| p.run);
        while f < fails.len() && fails[f].test < id {
            f += 1;
        }
        let from = f;
        while f < fails.len() && fails[f].test == id {
            f += 1;
        }
        let Some(key) = keys.get(&id) else { continue };
        let env = env_of(id).unwrap_or(0);
        let mut out = c.classify(key, env, &points, &fails[from..f], &mut counts);
        for &(inc, retry_passed) in &out.incidents {
            if let Some(i) = incidents.get_mut(inc) {
                i.retry_passed += u64::from(retry_passed);
            }
        }
        out.analysis.incidents = out
            .incidents
            .iter()
            .map(|&(incident, retry_passed)| TestIncident {
                incident,
                start_ms: incidents.get(incident).map_or(0, |i| i.start_ms),
                retry_passed,
            })
            .collect();
        // The incident error that touched it most.
        let mut by_sig: HashMap<&str, usize> = HashMap::new();
        for &(inc, _) in &out.incidents {
            if let Some(i) = incidents.get(inc) {
                *by_sig.entry(i.signature.as_str()).or_default() += 1;
            }
        }
        out.analysis.evidence.incident_signature = by_sig
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(s, _)| s.to_string());
        if matches!(
            out.analysis.classification,
            Classification::Flaky | Classification::Broken
        ) {
            set_asides.insert(id, out.set_aside.into_iter().collect());
        }
        per_test.push((tests.len(), out.own_fails));
        tests.push(out.analysis);
    }
    drop(fails);

    // Signatures (per test) and patterns (across tests), of the tests' own failures.
    let mut across: HashMap<u32, (usize, Vec<usize>, FailureKind)> = HashMap::new();
    let recent_from = n_runs.saturating_sub(opts.recent_window) as u32;
    for (t, own_fails) in per_test {
        let mut counts_by_sig: HashMap<u32, usize> = HashMap::new();
        let mut kinds: Vec<&'static str> = Vec::new();
        for &(sig, kind, rank) in &own_fails {
            if rank >= recent_from && !kinds.contains(&kind.as_str()) {
                kinds.push(kind.as_str());
            }
            if sig == NONE {
                continue;
            }
            *counts_by_sig.entry(sig).or_default() += 1;
            let e = across.entry(sig).or_insert((0, Vec::new(), kind));
            e.0 += 1;
            if e.1.last() != Some(&t) {
                e.1.push(t);
            }
        }
        let test = &mut tests[t];
        let mut list: Vec<SignatureCount> = counts_by_sig
            .into_iter()
            .map(|(s, count)| SignatureCount {
                signature: sigs.name(s).to_string(),
                count,
            })
            .collect();
        list.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
        list.truncate(5);
        test.signatures = list;
        if test.evidence.new_failure {
            test.evidence.new_failure_kinds = kinds;
        }
    }
    let mut patterns: Vec<Pattern> = across
        .into_iter()
        .filter(|(_, (n, tests, _))| *n > 1 || tests.len() > 1)
        .map(|(sig, (failures, in_tests, kind))| {
            let mut names: Vec<String> = in_tests
                .iter()
                .map(|&i| {
                    let k = &tests[i];
                    format!("{} [{}]", k.title_path.join(" › "), k.environment)
                })
                .collect();
            names.sort_unstable();
            names.truncate(3);
            Pattern {
                signature: sigs.name(sig).to_string(),
                failures,
                tests: in_tests.len(),
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

    // Example messages of flaky and broken tests: the latest distinct ones of their own.
    for t in &mut tests {
        let Some(aside) = set_asides.get(&t.test_id) else {
            continue;
        };
        let mut latest: Vec<Example> = Vec::new();
        for (run, f) in store.test_failures(t.test_id, usize::MAX)? {
            let (Some(m), Some(r)) = (f.message.as_deref(), to_rank(run)) else {
                continue;
            };
            if f.kind == FailureKind::Interrupted || aside.contains(&r) || m.trim().is_empty() {
                continue;
            }
            keep_latest(&mut latest, (r as usize, f.attempt), m, opts.examples);
        }
        latest.sort_by_key(|e| std::cmp::Reverse(e.0));
        t.examples = latest.into_iter().map(|(_, m)| m).collect();
    }

    for t in &mut tests {
        let rests = t.rests_on(opts.broken_streak.max(1));
        let aside = t.set_aside_line();
        t.why = if aside.is_empty() {
            rests
        } else {
            format!("{rests}; {aside}")
        };
    }
    tests.sort_by(|a, b| {
        a.classification
            .cmp(&b.classification)
            .then(b.score.total_cmp(&a.score))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.file.cmp(&b.file))
            .then(a.title_path.cmp(&b.title_path))
            .then(a.environment.cmp(&b.environment))
    });
    let trend: Vec<TrendPoint> = runs
        .iter()
        .zip(&counts)
        .zip(&ctx)
        .map(|((r, c), x)| TrendPoint {
            start_ms: r.meta.start_ms,
            commit_id: r.meta.commit_id.clone(),
            ran: c.ran,
            failed: c.failed,
            flaky: c.flaky,
            incident_results: c.incident_results,
            cancelled: c.cancelled,
            incident: x.incident,
        })
        .collect();
    let cancelled_runs = counts.iter().filter(|c| c.cancelled > 0).count();
    Ok(Analysis {
        runs: n_runs,
        cancelled_runs,
        tests,
        incidents,
        patterns,
        trend,
    })
}
