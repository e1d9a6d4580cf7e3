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
//! Real histories have more shapes, each a [`Scenario`] field, off by default (the first seven
//! named scenarios write the same reports as before these existed, byte for byte):
//!
//! - **incidents** (`incident_rate`, per run): in one environment (70%) or all of them, an
//!   incident hits 30–100% of the tests that run there, a random share or the tail of the run
//!   (every test from a cut point in execution order on); transient (the first attempt fails,
//!   each retry passes with probability 0.4) or persistent (every attempt fails); every hit
//!   test fails with the same message line (a database, a cache or DNS gone, a full disk, a
//!   lost runner, a missing browser...) with a stack naming the test. `incident_prone` stable
//!   tests are hit by every incident (network-dependent tests);
//! - **cancelled runs** (`cancel_rate`): from a cut point in each environment on, tests get one
//!   `interrupted` attempt without an error, or are absent from the report (drawn per run);
//! - **timeouts of fixed regressions** (`fixed_timeouts`): a regression fixed later fails with a
//!   timeout, each retry passing with the given probability (a slow code path);
//! - **varied messages** (`varied_messages`): flaky tests fail with messages of their own
//!   (assertions naming values, timeouts after varying times, elements not found), some
//!   generic ones shared by several tests that still fail independently; regressions with
//!   test-specific errors;
//! - **tests added mid-history** (`added_share`): from a run drawn in `[runs/4, runs/2]` on;
//! - **shuffled environments** (`shuffle_environments`): each report lists its environments in
//!   its own order;
//! - **compact reports** (`compact`): `status` left out when passed, `environmentIdx` when 0,
//!   every `duration` in a quarter of the runs.
//!
//! Incidents, cancellations and fixed regressions never make a test flaky or broken in the
//! truth; a test added mid-history is what its behaviour says.
//!
//! [`score`] compares the analyzer's [`Analysis`] with the truth: precision, recall and F1 of
//! `flaky` and `broken`, broken tests called flaky, stable tests called flaky, and among them
//! those that failed in an outage or an incident. [`baseline`] is the naive classifier to
//! compare with: flaky when the flip rate of a test's run results is above a threshold, broken
//! when its last run failed.

mod junit;
mod messages;

pub use junit::{junit_documents, COMMIT_PROPERTY, ENVIRONMENT_PROPERTY};

use std::collections::{BTreeMap, HashMap};

use flakiness_analyze::{Analysis, Classification};
use flakiness_report::{
    DurationMs, Environment, Report, ReportError, RunAttempt, Suite, SuiteType, Test, TestStatus,
    UnixTimestampMs,
};
use flakiness_store::{HistoryStore, Outcome, StoreError};
use messages::{Cause, FlakyMessages, INCIDENT_MESSAGES};
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
    /// fix), or to the end. With [`Scenario::fixed_timeouts`], a regression that gets fixed
    /// fails with a timeout instead, and each retry passes with the given probability.
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
    /// Probability that a run has an infrastructure incident (in one environment or all of
    /// them; a random share or the tail of the tests; transient or persistent). 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub incident_rate: f64,
    /// Stable tests that every incident hits (network-dependent tests).
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub incident_prone: usize,
    /// Probability that a run is cancelled midway (tests from a cut point on interrupted or
    /// absent). 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cancel_rate: f64,
    /// When set, regressions fixed later fail with a timeout, and each retry passes with this
    /// probability (the slow code path sometimes makes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_timeouts: Option<f64>,
    /// Flaky tests fail with messages of their own (some shared with other tests), and
    /// regressions with test-specific errors, all with stacks naming the test.
    #[serde(default, skip_serializing_if = "is_false")]
    pub varied_messages: bool,
    /// Share of the tests that exist only from a run drawn in `[runs/4, runs/2]` on.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub added_share: f64,
    /// Each report lists its environments in a random order.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shuffle_environments: bool,
    /// Reports leave out what defaults: `status` when passed, `environmentIdx` when 0, and
    /// every `duration` in a quarter of the runs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub compact: bool,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_zero_usize(x: &usize) -> bool {
    *x == 0
}

fn is_false(x: &bool) -> bool {
    !*x
}

impl Scenario {
    /// The named scenarios: `mixed` (the first kinds at once), `flaky`, `env-flaky`,
    /// `late-flaky`, `regressions`, `outages`, and `mixed-no-retries` (the mix without retries),
    /// 400 tests × 200 runs × 2 environments; then the shapes of real histories: `incidents`
    /// (700 tests × 450 runs × 2 environments, an incident in 4% of the runs),
    /// `incidents-no-retries`, `cancelled` (5% of the runs cancelled), `fixed-regressions`
    /// (regressions fixed later failing with timeouts, retries sometimes passing) and `real`
    /// (every shape at once, 500 tests × 300 runs × 3 environments).
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
            incident_rate: 0.0,
            incident_prone: 0,
            cancel_rate: 0.0,
            fixed_timeouts: None,
            varied_messages: false,
            added_share: 0.0,
            shuffle_environments: false,
            compact: false,
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
            // The shape a user reported: a large suite, infrastructure incidents (one
            // environment or all, a share of the tests or the tail of the run, transient or
            // persistent), a few stable tests hit by every incident, modest flakiness.
            "incidents" => Scenario {
                tests: 700,
                runs: 450,
                mix: mix(15, 8, 5, 3, 4, 10),
                incident_rate: 0.04,
                incident_prone: 4,
                varied_messages: true,
                ..base
            },
            "incidents-no-retries" => Scenario {
                name: name.to_string(),
                retries: 0,
                ..Scenario::named("incidents")?
            },
            "cancelled" => Scenario {
                mix: mix(20, 10, 10, 8, 12, 10),
                cancel_rate: 0.05,
                varied_messages: true,
                ..base
            },
            // Regressions fixed later that failed with timeouts, retries sometimes passing.
            "fixed-regressions" => Scenario {
                mix: mix(10, 0, 0, 10, 40, 0),
                fixed_timeouts: Some(0.25),
                varied_messages: true,
                ..base
            },
            // Everything at once.
            "real" => Scenario {
                tests: 500,
                runs: 300,
                environments: vec!["linux".into(), "windows".into(), "macos".into()],
                mix: mix(15, 10, 5, 4, 12, 10),
                incident_rate: 0.04,
                incident_prone: 4,
                cancel_rate: 0.04,
                fixed_timeouts: Some(0.25),
                varied_messages: true,
                added_share: 0.1,
                shuffle_environments: true,
                compact: true,
                ..base
            },
            // Everything at once, without retries: flakes show only across runs, and
            // transient incidents never pass on a retry.
            "real-no-retries" => Scenario {
                name: name.to_string(),
                retries: 0,
                ..Scenario::named("real")?
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
        "incidents",
        "incidents-no-retries",
        "cancelled",
        "fixed-regressions",
        "real",
        "real-no-retries",
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
    /// It failed in an outage run or in an infrastructure incident (a trap for the analyzer).
    pub hit_by_outage: bool,
    /// How many infrastructure incidents hit it (outages not counted).
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub incident_hits: usize,
    /// The run it first ran in, when it was added mid-history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_run: Option<usize>,
}

/// An infrastructure incident of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentTruth {
    pub run: usize,
    /// The environments it hit (one, or all of the run's).
    pub environments: Vec<String>,
    /// It hit every test from a cut point in execution order on (else a random share).
    pub tail: bool,
    /// Only the first attempt surely failed; each retry passed with probability 0.4.
    pub transient: bool,
    /// The share of the tests that ran that it hit (drawn; the cut point's for a tail).
    pub share: f64,
    /// The message line every hit test failed with.
    pub message: String,
    /// How many (test, environment) results it failed.
    pub hits: usize,
}

/// A cancelled run of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTruth {
    pub run: usize,
    /// Tests past the cut point are absent from the report (else one `interrupted` attempt).
    pub absent: bool,
    /// How many (test, environment) results were cut.
    pub cut: usize,
}

/// The ground truth of a simulated history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    pub scenario: Scenario,
    pub behaviours: Vec<Behaviour>,
    pub entries: Vec<TruthEntry>,
    /// The infrastructure incidents (outages not included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<IncidentTruth>,
    /// The cancelled runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelled: Vec<CancelTruth>,
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

    // What the first scenarios did not have draws from a second generator, and only when it is
    // turned on: their histories stay the same, report for report and byte for byte.
    let mut xrng = ChaCha8Rng::seed_from_u64(s.seed ^ EXTRA_STREAM);
    let setup = Setup::draw(s, &behaviours, runs, &mut xrng);

    let mut hit: HashMap<(usize, usize), bool> = HashMap::new();
    let mut incident_hits: HashMap<(usize, usize), usize> = HashMap::new();
    let mut incidents = Vec::new();
    let mut cancelled = Vec::new();
    let mut reports = Vec::with_capacity(runs);
    let base_ms = 1_735_000_000_000.0;
    for (run, &commit) in commit_of_run.iter().enumerate() {
        let outage = outage_runs.contains(&run);
        let mut incident = (s.incident_rate > 0.0
            && xrng.random_bool(s.incident_rate.clamp(0.0, 1.0)))
        .then(|| IncidentPlan::draw(&setup, &behaviours, run, n_env, &mut xrng));
        let cancel = (s.cancel_rate > 0.0 && xrng.random_bool(s.cancel_rate.clamp(0.0, 1.0)))
            .then(|| CancelPlan::draw(&setup, run, n_env, &mut xrng));
        // Where each environment is listed in this report.
        let mut env_order: Vec<usize> = (0..s.environments.len()).collect();
        if s.shuffle_environments {
            for i in (1..env_order.len()).rev() {
                let j = xrng.random_range(0..=i);
                env_order.swap(i, j);
            }
        }
        let mut position = vec![0u32; n_env];
        for (pos, &env) in env_order.iter().enumerate() {
            position[env] = pos as u32;
        }
        let omit_durations = s.compact && xrng.random_bool(0.25);

        let mut report = Report::new("pytest", format!("{:040x}", commit + 1));
        report.environments = env_order
            .iter()
            .map(|&e| Environment::new(&s.environments[e]))
            .collect();
        report.start_timestamp = UnixTimestampMs(base_ms + run as f64 * 3_600_000.0);
        report.duration = DurationMs(600_000.0);
        report.title = Some(format!("{} run {run}", s.name));
        let mut files: BTreeMap<String, BTreeMap<String, Vec<Test>>> = BTreeMap::new();
        let mut cut = 0;
        for (t, b) in behaviours.iter().enumerate() {
            if setup.added_at[t] > run {
                // Not written yet.
                continue;
            }
            let path = title_of(t);
            let file = file_of(t);
            let mut test = Test::new(path[1].clone());
            for env in 0..n_env {
                if let Some(c) = &cancel {
                    if c.cut[env][t] {
                        cut += 1;
                        if !c.absent {
                            let mut a = RunAttempt::with_status(TestStatus::Interrupted);
                            a.environment_idx = Some(env as u32);
                            test.attempts.push(a);
                        }
                        continue;
                    }
                }
                let hit_here = incident.as_ref().filter(|i| i.hits[env][t]);
                let extra = Extra {
                    test: t,
                    file: &file,
                    function: &path[1],
                    incident: hit_here.map(|i| (i.cause, i.transient)),
                    fixed_timeouts: s.fixed_timeouts,
                    flaky: setup.flaky_messages.get(t).and_then(Option::as_ref),
                    varied: s.varied_messages,
                };
                let (attempts, incident_failed) = attempts_of(
                    b,
                    run,
                    env as u32,
                    s.retries,
                    outage && rng.random_bool(s.outage_share),
                    &mut rng,
                    &extra,
                    &mut xrng,
                );
                if outage && attempts.iter().any(|a| a.status() == TestStatus::Failed) {
                    hit.insert((t, env), true);
                }
                if incident_failed {
                    hit.insert((t, env), true);
                    *incident_hits.entry((t, env)).or_default() += 1;
                    if let Some(i) = incident.as_mut() {
                        i.truth.hits += 1;
                    }
                }
                test.attempts.extend(attempts);
            }
            if test.attempts.is_empty() {
                // Cancelled before it ran, everywhere.
                continue;
            }
            if s.shuffle_environments || s.compact {
                for a in &mut test.attempts {
                    a.environment_idx = Some(position[a.environment_idx() as usize]);
                    if s.compact {
                        if a.status == Some(TestStatus::Passed) {
                            a.status = None;
                        }
                        if a.environment_idx == Some(0) {
                            a.environment_idx = None;
                        }
                        if omit_durations {
                            a.duration = None;
                        }
                    }
                }
            }
            files
                .entry(file)
                .or_default()
                .entry(path[0].clone())
                .or_default()
                .push(test);
        }
        if let Some(mut i) = incident {
            i.truth.environments = i
                .envs
                .iter()
                .map(|&e| s.environments.get(e).cloned().unwrap_or_default())
                .collect();
            incidents.push(i.truth);
        }
        if let Some(c) = cancel {
            cancelled.push(CancelTruth {
                run,
                absent: c.absent,
                cut,
            });
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
                incident_hits: incident_hits.get(&(t, env)).copied().unwrap_or(0),
                first_run: (setup.added_at[t] > 0).then_some(setup.added_at[t]),
            });
        }
    }
    History {
        reports,
        truth: Truth {
            scenario: s.clone(),
            behaviours,
            entries,
            incidents,
            cancelled,
        },
    }
}

/// Seeds the second generator (with the scenario's seed).
const EXTRA_STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// In a transient incident, the probability that a retry is past it.
const TRANSIENT_RETRY_PASS: f64 = 0.4;

/// What is drawn once per history for the shapes beyond the first scenarios.
struct Setup {
    /// The run each test first runs in (0 for most).
    added_at: Vec<usize>,
    /// Stable tests that every incident hits.
    prone: Vec<bool>,
    /// How each flaky test fails, with `varied_messages`.
    flaky_messages: Vec<Option<FlakyMessages>>,
    /// The tests in execution order: the order of the report (file, class, test).
    order: Vec<usize>,
}

impl Setup {
    fn draw(s: &Scenario, behaviours: &[Behaviour], runs: usize, rng: &mut ChaCha8Rng) -> Setup {
        let n = behaviours.len();
        let mut added_at = vec![0; n];
        if s.added_share > 0.0 {
            let count = ((s.added_share * n as f64).round() as usize).min(n);
            let mut ix: Vec<usize> = (0..n).collect();
            for i in 0..count {
                let j = rng.random_range(i..n);
                ix.swap(i, j);
                added_at[ix[i]] = rng.random_range(runs / 4..=runs / 2).max(1);
            }
        }
        let mut prone = vec![false; n];
        if s.incident_rate > 0.0 && s.incident_prone > 0 {
            let mut candidates: Vec<usize> = (0..n)
                .filter(|&t| behaviours[t] == Behaviour::Stable && added_at[t] == 0)
                .collect();
            for i in 0..s.incident_prone.min(candidates.len()) {
                let j = rng.random_range(i..candidates.len());
                candidates.swap(i, j);
                prone[candidates[i]] = true;
            }
        }
        let flaky_messages = if s.varied_messages {
            behaviours
                .iter()
                .map(|b| {
                    matches!(
                        b,
                        Behaviour::Flaky { .. }
                            | Behaviour::EnvFlaky { .. }
                            | Behaviour::LateFlaky { .. }
                    )
                    .then(|| FlakyMessages::draw(rng))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_cached_key(|&t| (file_of(t), title_of(t).swap_remove(0), t));
        Setup {
            added_at,
            prone,
            flaky_messages,
            order,
        }
    }
}

/// An infrastructure incident, drawn for one run.
struct IncidentPlan {
    cause: Cause,
    transient: bool,
    /// The environments it hits.
    envs: Vec<usize>,
    /// By environment, by test: hit.
    hits: Vec<Vec<bool>>,
    /// Its environments are filled in by [`simulate`].
    truth: IncidentTruth,
}

impl IncidentPlan {
    fn draw(
        setup: &Setup,
        behaviours: &[Behaviour],
        run: usize,
        n_env: usize,
        rng: &mut ChaCha8Rng,
    ) -> IncidentPlan {
        // Most incidents are one runner's (its network, its disk), the others everyone's.
        let one = rng.random_bool(0.7);
        let envs: Vec<usize> = if one {
            vec![rng.random_range(0..n_env)]
        } else {
            (0..n_env).collect()
        };
        let tail = rng.random_bool(0.5);
        let transient = rng.random_bool(0.5);
        let share = rng.random_range(0.3..=1.0);
        let cause = INCIDENT_MESSAGES[rng.random_range(0..INCIDENT_MESSAGES.len())];
        let mut hits = vec![vec![false; behaviours.len()]; n_env];
        for &env in &envs {
            let running: Vec<usize> = setup
                .order
                .iter()
                .copied()
                .filter(|&t| setup.added_at[t] <= run && behaviours[t] != Behaviour::Skipped)
                .collect();
            if tail {
                let from = ((running.len() as f64) * (1.0 - share)).floor() as usize;
                for &t in &running[from.min(running.len())..] {
                    hits[env][t] = true;
                }
            } else {
                for &t in &running {
                    if rng.random_bool(share) {
                        hits[env][t] = true;
                    }
                }
            }
            for &t in &running {
                if setup.prone[t] {
                    hits[env][t] = true;
                }
            }
        }
        IncidentPlan {
            cause,
            transient,
            envs,
            hits,
            truth: IncidentTruth {
                run,
                environments: Vec::new(),
                tail,
                transient,
                share,
                message: cause.1.to_string(),
                hits: 0,
            },
        }
    }
}

/// A cancelled run: by environment, by test, whether it was cut.
struct CancelPlan {
    absent: bool,
    cut: Vec<Vec<bool>>,
}

impl CancelPlan {
    fn draw(setup: &Setup, run: usize, n_env: usize, rng: &mut ChaCha8Rng) -> CancelPlan {
        let absent = rng.random_bool(0.5);
        let present: Vec<usize> = setup
            .order
            .iter()
            .copied()
            .filter(|&t| setup.added_at[t] <= run)
            .collect();
        let mut cut = vec![vec![false; setup.order.len()]; n_env];
        // Each environment's job was at its own point when the run was cancelled.
        for row in &mut cut {
            let at = (present.len() as f64 * rng.random_range(0.1..0.9)).floor() as usize;
            for &t in &present[at.min(present.len())..] {
                row[t] = true;
            }
        }
        CancelPlan { absent, cut }
    }
}

/// What the attempts of a test depend on beyond its behaviour.
struct Extra<'a> {
    test: usize,
    file: &'a str,
    function: &'a str,
    /// The incident hitting it, and whether it is transient.
    incident: Option<(Cause, bool)>,
    fixed_timeouts: Option<f64>,
    flaky: Option<&'a FlakyMessages>,
    varied: bool,
}

/// The attempts of one test in one environment in one run, and whether an incident failed
/// one of them.
#[allow(clippy::too_many_arguments)]
fn attempts_of(
    b: &Behaviour,
    run: usize,
    env: u32,
    retries: u32,
    outage: bool,
    rng: &mut ChaCha8Rng,
    x: &Extra<'_>,
    xrng: &mut ChaCha8Rng,
) -> (Vec<RunAttempt>, bool) {
    let attempt = |status: TestStatus, error: Option<ReportError>, ms: f64| {
        let mut a = RunAttempt::with_status(status);
        a.environment_idx = Some(env);
        a.duration = Some(DurationMs(ms));
        a.errors = error.map(|e| vec![e]);
        a
    };
    if matches!(b, Behaviour::Skipped) {
        return (vec![attempt(TestStatus::Skipped, None, 120.0)], false);
    }
    let broken = matches!(b, Behaviour::Regression { from, to } if run >= *from && to.is_none_or(|t| run < t));
    let fixed = matches!(b, Behaviour::Regression { to: Some(_), .. });
    let p = match b {
        Behaviour::Flaky { p } => *p,
        Behaviour::EnvFlaky { p, environment } if *environment as u32 == env => *p,
        Behaviour::LateFlaky { p, from } if run >= *from => *p,
        _ => 0.0,
    };
    let mut incident = x.incident;
    let mut incident_failed = false;
    let mut out = Vec::new();
    for i in 0..=retries {
        if let Some(((eco, line, frames), transient)) = incident {
            if i == 0 || !transient || !xrng.random_bool(TRANSIENT_RETRY_PASS) {
                let stack = messages::stack(eco, x.file, x.function, x.test, frames, line);
                out.push(attempt(
                    TestStatus::Failed,
                    Some(messages::error(line.to_string(), stack)),
                    120.0,
                ));
                incident_failed = true;
                continue;
            }
            // Past the incident: the test is itself again.
            incident = None;
        }
        let (fails, error, ms) = if outage {
            (true, Some(ReportError::message(OUTAGE_MESSAGE)), 120.0)
        } else if broken {
            match x.fixed_timeouts {
                Some(pass) if fixed => {
                    if i > 0 && xrng.random_bool(pass.clamp(0.0, 1.0)) {
                        (false, None, 120.0)
                    } else {
                        (
                            true,
                            Some(messages::timeout_error(x.file, x.function, x.test)),
                            f64::from(messages::timeout_limit(x.test)),
                        )
                    }
                }
                _ if x.varied => (
                    true,
                    Some(messages::regression_error(x.file, x.function, x.test)),
                    120.0,
                ),
                _ => (
                    true,
                    Some(ReportError::message(
                        "AssertionError: expected total 42 but was 41",
                    )),
                    120.0,
                ),
            }
        } else if p > 0.0 && rng.random_bool(p) {
            match x.flaky {
                Some(m) => (true, Some(m.error(x.file, x.function, x.test, xrng)), 120.0),
                None => {
                    let ms = rng.random_range(1_000..30_000u32);
                    (
                        true,
                        Some(ReportError::message(format!(
                            "TimeoutError: request to /api/orders took {ms} ms (attempt {i})"
                        ))),
                        120.0,
                    )
                }
            }
        } else {
            (false, None, 120.0)
        };
        if fails {
            out.push(attempt(TestStatus::Failed, error, ms));
        } else {
            out.push(attempt(TestStatus::Passed, None, ms));
            break;
        }
    }
    (out, incident_failed)
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
    /// Stable tests that failed in an outage or an incident and were called flaky.
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
