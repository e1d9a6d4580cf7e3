//! A CI history simulator with ground truth, and the scorer of the analyzer.
//!
//! [`simulate`] plays a [`Scenario`]: commits land one after another, each is run by CI once or
//! twice, every run executes every test in every environment with retries, and writes one
//! report. Each test has a [`Behaviour`]: stable, flaky with a failure probability per attempt
//! (in every environment, in one environment, or from some run on), a regression broken at
//! one commit and fixed at a later one (or never), or skipped. Some runs are infrastructure
//! outages, where most tests fail at once with the same error. The [`Truth`] says what each
//! test is in each environment.
//!
//! [`score`] compares the analyzer's [`Analysis`] with the truth: precision, recall and F1 of
//! `flaky` and `broken`, broken tests called flaky, stable tests called flaky, and among them
//! those that failed in an outage. [`baseline`] is the naive classifier to compare with: flaky when the flip rate
//! of a test's run results is above a threshold, broken when its last run failed.

mod junit;

pub use junit::{junit_documents, COMMIT_PROPERTY, ENVIRONMENT_PROPERTY};

use std::collections::{BTreeMap, HashMap};

use flakiness_analyze::{Analysis, Classification};
use flakiness_report::{
    DurationMs, Environment, Report, ReportError, RunAttempt, Suite, SuiteType, Test, TestStatus,
    UnixTimestampMs,
};
use flakiness_store::{HistoryStore, Outcome, StoreError};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What a test does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Behaviour {
    Stable,
    /// Each attempt fails with probability `p`, in every environment.
    Flaky {
        p: f64,
    },
    /// Flaky in one environment only, stable in the others.
    EnvFlaky {
        p: f64,
        environment: usize,
    },
    /// Stable until run `from`, flaky from then on.
    LateFlaky {
        p: f64,
        from: usize,
    },
    /// Every attempt fails from run `from` (the first run of a commit) until run `to` (the
    /// fix), or to the end.
    Regression {
        from: usize,
        to: Option<usize>,
    },
    /// Never runs.
    Skipped,
}

/// How many tests of each kind (the rest are stable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mix {
    pub flaky: usize,
    pub env_flaky: usize,
    pub late_flaky: usize,
    /// Regressions still broken at the end.
    pub broken: usize,
    /// Regressions fixed later.
    pub fixed: usize,
    pub skipped: usize,
}

/// A history to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scenario {
    pub name: String,
    pub tests: usize,
    pub environments: Vec<String>,
    pub runs: usize,
    /// Retries after a failed attempt (so up to `1 + retries` attempts).
    pub retries: u32,
    /// Probability that a commit is run a second time (a CI re-run).
    pub rerun_probability: f64,
    pub mix: Mix,
    /// Failure probabilities of flaky tests are drawn from this range (per attempt).
    pub flaky_p: (f64, f64),
    /// Runs that are outages.
    pub outages: usize,
    /// Share of the tests failing in an outage.
    pub outage_share: f64,
    pub seed: u64,
}

impl Scenario {
    /// The named scenarios: `mixed` (everything at once), `flaky`, `env-flaky`, `late-flaky`,
    /// `regressions`, `outages`, and `mixed-no-retries` (the mix without retries).
    pub fn named(name: &str) -> Option<Scenario> {
        let base = Scenario {
            name: name.to_string(),
            tests: 400,
            environments: vec!["linux".into(), "windows".into()],
            runs: 200,
            retries: 2,
            rerun_probability: 0.3,
            mix: Mix {
                flaky: 0,
                env_flaky: 0,
                late_flaky: 0,
                broken: 0,
                fixed: 0,
                skipped: 0,
            },
            flaky_p: (0.01, 0.40),
            outages: 0,
            outage_share: 0.6,
            seed: 1,
        };
        let mix = |flaky, env_flaky, late_flaky, broken, fixed, skipped| Mix {
            flaky,
            env_flaky,
            late_flaky,
            broken,
            fixed,
            skipped,
        };
        Some(match name {
            "mixed" => Scenario {
                mix: mix(20, 10, 10, 8, 12, 10),
                outages: 3,
                ..base
            },
            "flaky" => Scenario {
                mix: mix(40, 0, 0, 0, 0, 0),
                ..base
            },
            "env-flaky" => Scenario {
                mix: mix(0, 30, 0, 0, 0, 0),
                ..base
            },
            "late-flaky" => Scenario {
                mix: mix(0, 0, 30, 0, 0, 0),
                ..base
            },
            "regressions" => Scenario {
                mix: mix(0, 0, 0, 15, 25, 0),
                ..base
            },
            "outages" => Scenario {
                mix: mix(10, 0, 0, 0, 0, 0),
                outages: 8,
                ..base
            },
            // No retries: flakiness shows only as results that differ between runs.
            "mixed-no-retries" => Scenario {
                mix: mix(20, 10, 10, 8, 12, 10),
                outages: 3,
                retries: 0,
                ..base
            },
            _ => return None,
        })
    }

    /// The names [`named`](Self::named) knows.
    pub const NAMES: &'static [&'static str] = &[
        "mixed",
        "flaky",
        "env-flaky",
        "late-flaky",
        "regressions",
        "outages",
        "mixed-no-retries",
    ];
}

/// What a test is in an environment, for the scorer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruthEntry {
    pub file: String,
    pub title_path: Vec<String>,
    pub environment: String,
    pub label: Classification,
    /// It failed in an outage run (a trap for the analyzer).
    pub hit_by_outage: bool,
}

/// The ground truth of a simulated history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    pub scenario: Scenario,
    pub behaviours: Vec<Behaviour>,
    pub entries: Vec<TruthEntry>,
}

/// A simulated history: one report per run, oldest first, and the truth.
#[derive(Debug, Clone)]
pub struct History {
    pub reports: Vec<Report>,
    pub truth: Truth,
}

const OUTAGE_MESSAGE: &str = "connect ECONNREFUSED 10.0.0.7:5432";

fn file_of(test: usize) -> String {
    format!("tests/module_{:02}/test_{:03}.py", test % 17, test / 17)
}

fn title_of(test: usize) -> Vec<String> {
    vec![format!("Test{}", test % 7), format!("test_case_{test}")]
}

/// Plays the scenario.
pub fn simulate(s: &Scenario) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let n_env = s.environments.len().max(1);
    // Behaviours: the first tests get the special kinds, then a shuffle of who is who.
    let mut behaviours: Vec<Behaviour> = Vec::with_capacity(s.tests);
    let p = |rng: &mut ChaCha8Rng| rng.random_range(s.flaky_p.0..=s.flaky_p.1);
    let runs = s.runs.max(1);
    for _ in 0..s.mix.flaky {
        behaviours.push(Behaviour::Flaky { p: p(&mut rng) });
    }
    for _ in 0..s.mix.env_flaky {
        behaviours.push(Behaviour::EnvFlaky {
            p: p(&mut rng),
            environment: rng.random_range(0..n_env),
        });
    }
    for _ in 0..s.mix.late_flaky {
        behaviours.push(Behaviour::LateFlaky {
            p: p(&mut rng),
            from: rng.random_range(runs / 4..=runs / 2),
        });
    }
    for _ in 0..s.mix.broken {
        behaviours.push(Behaviour::Regression {
            from: rng.random_range(runs / 2..=runs.saturating_sub(10).max(runs / 2)),
            to: None,
        });
    }
    for _ in 0..s.mix.fixed {
        let from = rng.random_range(runs / 10..=runs / 2);
        let to = from + rng.random_range(2..=20);
        behaviours.push(Behaviour::Regression {
            from,
            to: Some(to.min(runs.saturating_sub(10))),
        });
    }
    for _ in 0..s.mix.skipped {
        behaviours.push(Behaviour::Skipped);
    }
    while behaviours.len() < s.tests {
        behaviours.push(Behaviour::Stable);
    }
    behaviours.truncate(s.tests);
    // Fisher-Yates, so that kinds are spread over files.
    for i in (1..behaviours.len()).rev() {
        let j = rng.random_range(0..=i);
        behaviours.swap(i, j);
    }

    // Commits: a run is a re-run of the previous run's commit with some probability. A
    // regression starts and ends on the first run of a commit.
    let mut commit_of_run = Vec::with_capacity(runs);
    let mut commit = 0usize;
    for r in 0..runs {
        if r > 0 && !rng.random_bool(s.rerun_probability) {
            commit += 1;
        }
        commit_of_run.push(commit);
    }
    let first_run_of = |run: usize| -> usize {
        let c = commit_of_run[run.min(runs - 1)];
        commit_of_run.iter().position(|&x| x == c).unwrap_or(run)
    };
    // The first run of the first commit after the one of `run`, at or after `at`.
    let next_commit_from = |run: usize, at: usize| -> Option<usize> {
        (at..runs).find(|&r| commit_of_run[r] > commit_of_run[run] && first_run_of(r) == r)
    };
    for b in &mut behaviours {
        if let Behaviour::Regression { from, to } = b {
            *from = first_run_of(*from);
            if let Some(t) = to {
                // A fix lands with a commit of its own.
                *to = next_commit_from(*from, *t);
            }
        }
    }
    let mut outage_runs: Vec<usize> = Vec::new();
    while outage_runs.len() < s.outages.min(runs) {
        let r = rng.random_range(0..runs);
        if !outage_runs.contains(&r) {
            outage_runs.push(r);
        }
    }

    let mut hit: HashMap<(usize, usize), bool> = HashMap::new();
    let mut reports = Vec::with_capacity(runs);
    let base_ms = 1_735_000_000_000.0;
    for (run, &commit) in commit_of_run.iter().enumerate() {
        let outage = outage_runs.contains(&run);
        let mut report = Report::new("pytest", format!("{:040x}", commit + 1));
        report.environments = s.environments.iter().map(Environment::new).collect();
        report.start_timestamp = UnixTimestampMs(base_ms + run as f64 * 3_600_000.0);
        report.duration = DurationMs(600_000.0);
        report.title = Some(format!("{} run {run}", s.name));
        let mut files: BTreeMap<String, BTreeMap<String, Vec<Test>>> = BTreeMap::new();
        for (t, b) in behaviours.iter().enumerate() {
            let mut test = Test::new(title_of(t)[1].clone());
            for env in 0..n_env {
                let attempts = attempts_of(
                    b,
                    run,
                    env as u32,
                    s.retries,
                    outage && rng.random_bool(s.outage_share),
                    &mut rng,
                );
                if outage && attempts.iter().any(|a| a.status() == TestStatus::Failed) {
                    hit.insert((t, env), true);
                }
                test.attempts.extend(attempts);
            }
            let path = title_of(t);
            files
                .entry(file_of(t))
                .or_default()
                .entry(path[0].clone())
                .or_default()
                .push(test);
        }
        report.suites = Some(
            files
                .into_iter()
                .map(|(file, classes)| {
                    let mut f = Suite::new(SuiteType::File, file);
                    f.suites = Some(
                        classes
                            .into_iter()
                            .map(|(class, tests)| {
                                let mut c = Suite::new(SuiteType::Suite, class);
                                c.tests = Some(tests);
                                c
                            })
                            .collect(),
                    );
                    f
                })
                .collect(),
        );
        reports.push(report);
    }

    let mut entries = Vec::new();
    for (t, b) in behaviours.iter().enumerate() {
        for (env, name) in s.environments.iter().enumerate() {
            let label = match b {
                Behaviour::Stable => Classification::Stable,
                Behaviour::Flaky { .. } | Behaviour::LateFlaky { .. } => Classification::Flaky,
                Behaviour::EnvFlaky { environment, .. } if *environment == env => {
                    Classification::Flaky
                }
                Behaviour::EnvFlaky { .. } => Classification::Stable,
                Behaviour::Regression { to: None, .. } => Classification::Broken,
                Behaviour::Regression { .. } => Classification::Stable,
                Behaviour::Skipped => Classification::Skipped,
            };
            entries.push(TruthEntry {
                file: file_of(t),
                title_path: title_of(t),
                environment: name.clone(),
                label,
                hit_by_outage: hit.contains_key(&(t, env)),
            });
        }
    }
    History {
        reports,
        truth: Truth {
            scenario: s.clone(),
            behaviours,
            entries,
        },
    }
}

/// The attempts of one test in one environment in one run.
fn attempts_of(
    b: &Behaviour,
    run: usize,
    env: u32,
    retries: u32,
    outage: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<RunAttempt> {
    let attempt = |status: TestStatus, message: Option<String>| {
        let mut a = RunAttempt::with_status(status);
        a.environment_idx = Some(env);
        a.duration = Some(DurationMs(120.0));
        a.errors = message.map(|m| vec![ReportError::message(m)]);
        a
    };
    if matches!(b, Behaviour::Skipped) {
        return vec![attempt(TestStatus::Skipped, None)];
    }
    let broken = matches!(b, Behaviour::Regression { from, to } if run >= *from && to.is_none_or(|t| run < t));
    let p = match b {
        Behaviour::Flaky { p } => *p,
        Behaviour::EnvFlaky { p, environment } if *environment as u32 == env => *p,
        Behaviour::LateFlaky { p, from } if run >= *from => *p,
        _ => 0.0,
    };
    let mut out = Vec::new();
    for i in 0..=retries {
        let (fails, message) = if outage {
            (true, OUTAGE_MESSAGE.to_string())
        } else if broken {
            (
                true,
                "AssertionError: expected total 42 but was 41".to_string(),
            )
        } else if p > 0.0 && rng.random_bool(p) {
            let ms = rng.random_range(1_000..30_000u32);
            (
                true,
                format!("TimeoutError: request to /api/orders took {ms} ms (attempt {i})"),
            )
        } else {
            (false, String::new())
        };
        if fails {
            out.push(attempt(TestStatus::Failed, Some(message)));
        } else {
            out.push(attempt(TestStatus::Passed, None));
            break;
        }
    }
    out
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassScore {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub precision: f64,
    pub recall: f64,
    /// The harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl ClassScore {
    fn finish(mut self) -> Self {
        let p = self.true_positives + self.false_positives;
        let r = self.true_positives + self.false_negatives;
        self.precision = if p == 0 {
            1.0
        } else {
            self.true_positives as f64 / p as f64
        };
        self.recall = if r == 0 {
            1.0
        } else {
            self.true_positives as f64 / r as f64
        };
        let sum = self.precision + self.recall;
        self.f1 = if sum == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / sum
        };
        self
    }
}

/// How a classifier did on a history.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    pub flaky: ClassScore,
    pub broken: ClassScore,
    /// Broken tests called flaky.
    pub broken_called_flaky: usize,
    /// Stable tests that failed in an outage and were called flaky.
    pub stable_called_flaky_after_outage: usize,
    /// Stable tests called flaky (those above included).
    pub stable_called_flaky: usize,
}

/// Classifications by test identity: (file, title path, environment).
pub type Predictions = HashMap<(String, Vec<String>, String), Classification>;

/// Scores predictions (file, title path, environment → class) against the truth. A truth entry
/// without a prediction counts as predicted `stable`.
pub fn score_predictions(truth: &Truth, predicted: &Predictions) -> Score {
    let mut s = Score::default();
    for e in &truth.entries {
        let p = predicted
            .get(&(e.file.clone(), e.title_path.clone(), e.environment.clone()))
            .copied()
            .unwrap_or(Classification::Stable);
        for (class, score) in [
            (Classification::Flaky, &mut s.flaky),
            (Classification::Broken, &mut s.broken),
        ] {
            match (e.label == class, p == class) {
                (true, true) => score.true_positives += 1,
                (false, true) => score.false_positives += 1,
                (true, false) => score.false_negatives += 1,
                (false, false) => {}
            }
        }
        if e.label == Classification::Broken && p == Classification::Flaky {
            s.broken_called_flaky += 1;
        }
        if e.label == Classification::Stable && p == Classification::Flaky {
            s.stable_called_flaky += 1;
            if e.hit_by_outage {
                s.stable_called_flaky_after_outage += 1;
            }
        }
    }
    s.flaky = s.flaky.finish();
    s.broken = s.broken.finish();
    s
}

/// Scores the analyzer's analysis.
pub fn score(truth: &Truth, analysis: &Analysis) -> Score {
    let predicted = analysis
        .tests
        .iter()
        .map(|t| {
            (
                (t.file.clone(), t.title_path.clone(), t.environment.clone()),
                t.classification,
            )
        })
        .collect();
    score_predictions(truth, &predicted)
}

/// The naive classifier: per test and environment, the run results in run order (a run with a
/// passing attempt is a pass, retries unseen); flaky when the share of consecutive results
/// that differ is above `threshold`, broken when the last run failed.
pub fn baseline(store: &mut dyn HistoryStore, threshold: f64) -> Result<Predictions, StoreError> {
    let rank: HashMap<i64, usize> = store
        .runs()?
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    let keys: HashMap<i64, flakiness_store::TestKey> =
        store.tests()?.into_iter().map(|k| (k.id, k)).collect();
    let mut by_test: HashMap<i64, Vec<(usize, bool)>> = HashMap::new();
    store.for_each_result(&mut |r| {
        if r.outcome != Outcome::Skipped {
            if let Some(&at) = rank.get(&r.run_id) {
                by_test
                    .entry(r.test_id)
                    .or_default()
                    .push((at, r.outcome != Outcome::Failed));
            }
        }
    })?;
    let mut out = HashMap::new();
    for (id, key) in keys {
        let mut seq = by_test.remove(&id).unwrap_or_default();
        seq.sort_unstable();
        let class = if seq.is_empty() {
            Classification::Skipped
        } else if !seq[seq.len() - 1].1 {
            Classification::Broken
        } else {
            let flips = seq.windows(2).filter(|w| w[0].1 != w[1].1).count();
            let rate = flips as f64 / (seq.len().max(2) - 1) as f64;
            if rate > threshold {
                Classification::Flaky
            } else {
                Classification::Stable
            }
        };
        out.insert((key.file, key.title_path, key.environment), class);
    }
    Ok(out)
}
