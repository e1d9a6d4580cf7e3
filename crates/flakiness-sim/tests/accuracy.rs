//! The analyzer against simulated histories with ground truth: every named scenario with three
//! seeds, the analyzer and the naive flip-rate baseline, through real report files and a real
//! store; and the simulator itself: deterministic, the first scenarios unchanged, every shape
//! present, every report valid, JUnit files equivalent to the reports.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use flakiness_analyze::{analyze, discover, ingest_all, AnalysisOptions, LoadLimits};
use flakiness_report::{Report, RunAttempt, TestStatus};
use flakiness_sim::{
    baseline, score, score_predictions, simulate, Behaviour, History, Scenario, Score,
};
use flakiness_store::SqliteStore;

/// The seeds every scenario is played with.
const SEEDS: [u64; 3] = [1, 2, 3];

/// Writes the history's reports as files under `dir`, one per run.
fn write_reports(history: &History, dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (i, r) in history.reports.iter().enumerate() {
        std::fs::write(
            dir.join(format!("run-{i:04}.json")),
            serde_json::to_vec(r).expect("json"),
        )
        .expect("write");
    }
}

/// Writes the history as report files, ingests them (every one valid), analyzes: (analyzer,
/// baseline) scores.
fn run(s: &Scenario) -> (Score, Score) {
    let dir = tempfile::tempdir().expect("tmp");
    let reports = dir.path().join("reports");
    let history = simulate(s);
    write_reports(&history, &reports);
    drop(history.reports);
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    let sources = discover(&[reports]).expect("discover");
    let ingested =
        ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert!(
        ingested.skipped.is_empty(),
        "{} seed {}: {:?}",
        s.name,
        s.seed,
        ingested.skipped
    );
    assert_eq!(ingested.new_runs, s.runs);
    let analysis = analyze(&mut store, &AnalysisOptions::default()).expect("analyze");
    let ours = score(&history.truth, &analysis);
    let naive = score_predictions(
        &history.truth,
        &baseline(&mut store, 0.05).expect("baseline"),
    );
    (ours, naive)
}

#[test]
fn the_analyzer_finds_what_the_simulator_planted() {
    // Every scenario and seed, largest first, on as many threads as there are cores (the
    // ingest has workers of its own, the rest is one thread per history).
    let mut jobs: Vec<(usize, u64)> = (0..Scenario::NAMES.len())
        .flat_map(|i| SEEDS.iter().map(move |&seed| (i, seed)))
        .collect();
    let size = |&(i, _): &(usize, u64)| {
        let s = Scenario::named(Scenario::NAMES[i]).expect("named");
        s.runs * s.tests * s.environments.len()
    };
    // Smallest first: each thread takes the largest left.
    jobs.sort_by_key(size);
    let jobs = Mutex::new(jobs);
    let rows: Mutex<Vec<(usize, u64, Score, Score)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let Some((i, seed)) = jobs.lock().expect("jobs").pop() else {
                    return;
                };
                let s = Scenario {
                    seed,
                    ..Scenario::named(Scenario::NAMES[i]).expect("named")
                };
                let (ours, naive) = run(&s);
                rows.lock().expect("rows").push((i, seed, ours, naive));
            });
        }
    });
    let mut rows = rows.into_inner().expect("rows");
    rows.sort_by_key(|&(i, seed, ..)| (i, seed));

    let mut table = String::from(
        "| scenario | seed | flaky P | flaky R | flaky F1 | broken P | broken R | broken→flaky | stable hit by incident→flaky | stable→flaky | baseline flaky P | baseline flaky R |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut failures = Vec::new();
    for (i, seed, ours, naive) in &rows {
        let name = Scenario::NAMES[*i];
        table.push_str(&format!(
            "| {name} | {seed} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {:.3} | {:.3} |\n",
            ours.flaky.precision,
            ours.flaky.recall,
            ours.flaky.f1,
            ours.broken.precision,
            ours.broken.recall,
            ours.broken_called_flaky,
            ours.stable_called_flaky_after_outage,
            ours.stable_called_flaky,
            naive.flaky.precision,
            naive.flaky.recall,
        ));
        let mut fail = |what: String| failures.push(format!("{name} seed {seed}: {what}"));
        if ours.flaky.precision < 0.95 {
            fail(format!(
                "flaky precision {:.3} < 0.95",
                ours.flaky.precision
            ));
        }
        if ours.flaky.recall < 0.90 {
            fail(format!("flaky recall {:.3} < 0.90", ours.flaky.recall));
        }
        if ours.broken_called_flaky != 0 {
            fail(format!(
                "{} broken tests called flaky",
                ours.broken_called_flaky
            ));
        }
        if ours.stable_called_flaky_after_outage != 0 {
            fail(format!(
                "{} stable tests hit by an outage or incident called flaky",
                ours.stable_called_flaky_after_outage
            ));
        }
    }
    eprintln!("{table}");
    assert!(
        failures.is_empty(),
        "{} targets missed:\n{}\n\n{table}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_simulation_is_deterministic() {
    for name in ["mixed", "real"] {
        let s = Scenario {
            runs: 40,
            tests: 60,
            ..Scenario::named(name).expect("named")
        };
        let a = simulate(&s);
        let b = simulate(&s);
        assert_eq!(a.truth, b.truth);
        assert_eq!(
            serde_json::to_string(&a.reports).expect("json"),
            serde_json::to_string(&b.reports).expect("json")
        );
    }
}

/// The SHA-256 of what `flakiness-sim gen` writes for a scenario: every report
/// (`reports/run-NNNN.json`, compact JSON), then `truth.json` (pretty JSON).
fn gen_hash(s: &Scenario) -> String {
    let h = simulate(s);
    let mut bytes = Vec::new();
    for r in &h.reports {
        bytes.extend(serde_json::to_vec(r).expect("json"));
    }
    bytes.extend(serde_json::to_vec_pretty(&h.truth).expect("json"));
    flakiness_analyze::content_hash(&bytes)
}

/// The first seven scenarios write the same bytes as before the shapes beyond them were added
/// (the benchmark's histories depend on it): hashes of `flakiness-sim gen` output made before.
#[test]
fn the_first_scenarios_write_what_they_always_wrote() {
    let expected = [
        ("mixed", EXPECTED_MIXED_FULL),
        ("mixed", EXPECTED[0]),
        ("flaky", EXPECTED[1]),
        ("env-flaky", EXPECTED[2]),
        ("late-flaky", EXPECTED[3]),
        ("regressions", EXPECTED[4]),
        ("outages", EXPECTED[5]),
        ("mixed-no-retries", EXPECTED[6]),
    ];
    for (k, (name, want)) in expected.iter().enumerate() {
        let mut s = Scenario::named(name).expect("named");
        if k > 0 {
            s.runs = 60;
            s.tests = 80;
            s.seed = 7;
        }
        assert_eq!(
            gen_hash(&s),
            *want,
            "{name} (runs {}, tests {})",
            s.runs,
            s.tests
        );
    }
}

/// `gen --scenario mixed --seed 1`.
const EXPECTED_MIXED_FULL: &str =
    "88d61515033541534126449ff2488e7090d0d5ef289f185d480a7b73d797845c";
/// `gen --scenario NAME --seed 7 --runs 60 --tests 80`, for the first seven of
/// `Scenario::NAMES` in order.
const EXPECTED: [&str; 7] = [
    "187a5da9ea4a134dcea2a19ad29faefe5c7d4ed14ef69eed719a0301b0f8635c",
    "78bfabc903ed7d69d821f636482908f2494eeb436cb8dffe69ea736b01a811ef",
    "3f13d6f8933b7cc61b811d988e3cbbadf5552673f536d73fde31d6ad87d11fe2",
    "1407adf34d9d14fba878c90729ef11fc11e110ddb839f8f45ba8465687485a25",
    "3be6063ae45a29f8a5c53c555ab13350d6bc49129d62d71e6b2ece81378379be",
    "d3a352376b15eb23e054e01cb54237b35e21bbc273e1d45ac82367b41aa25f5d",
    "a102b4d4843bd4ee9bbbd0a9aa198f86bfc0dc1755658c0f40bb320e7dd5fdb0",
];

/// A test's identity in a report: (file, class, title, environment name).
type Key = (String, String, String, String);

/// Every (test, environment) of a report with its attempts there.
fn results(r: &Report) -> HashMap<Key, Vec<&RunAttempt>> {
    let mut out: HashMap<Key, Vec<&RunAttempt>> = HashMap::new();
    for file in r.suites.iter().flatten() {
        for class in file.suites.iter().flatten() {
            for t in class.tests.iter().flatten() {
                for a in &t.attempts {
                    let env = r.environments[a.environment_idx() as usize].name.clone();
                    out.entry((
                        file.title.clone(),
                        class.title.clone(),
                        t.title.clone(),
                        env,
                    ))
                    .or_default()
                    .push(a);
                }
            }
        }
    }
    out
}

fn first_message(a: &RunAttempt) -> Option<&str> {
    a.errors.iter().flatten().find_map(|e| e.message.as_deref())
}

/// A history of `real` has every shape the simulator knows, and every report is valid.
#[test]
fn every_shape_appears_in_a_real_history() {
    let s = Scenario::named("real").expect("real");
    let h = simulate(&s);
    let runs: Vec<HashMap<Key, Vec<&RunAttempt>>> = h.reports.iter().map(results).collect();
    let all = || runs.iter().flat_map(|r| r.values());

    // Cancelled runs: interrupted attempts without errors, and tests absent from a report
    // that ran before and after it.
    assert!(all()
        .flatten()
        .any(|a| a.status() == TestStatus::Interrupted && a.errors.is_none()));
    let absent = (1..runs.len() - 1).any(|r| {
        runs[r - 1]
            .keys()
            .any(|k| !runs[r].contains_key(k) && runs[r + 1].contains_key(k))
    });
    assert!(absent, "a cancelled run leaves tests out");
    assert!(h.truth.cancelled.iter().any(|c| c.absent));
    assert!(h.truth.cancelled.iter().any(|c| !c.absent));

    // Incidents: in one environment and in all, a random share and the tail, transient (a
    // retry passing) and persistent.
    let n_env = s.environments.len();
    let incidents = &h.truth.incidents;
    assert!(incidents.iter().any(|i| i.environments.len() == 1));
    assert!(incidents.iter().any(|i| i.environments.len() == n_env));
    assert!(incidents.iter().any(|i| i.tail) && incidents.iter().any(|i| !i.tail));
    assert!(incidents.iter().any(|i| i.transient) && incidents.iter().any(|i| !i.transient));
    for i in incidents {
        let failed_with = |a: &&RunAttempt| first_message(a) == Some(i.message.as_str());
        let hit: Vec<&Key> = runs[i.run]
            .iter()
            .filter(|(_, att)| att.first().is_some_and(failed_with))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(hit.len(), i.hits, "run {}: {}", i.run, i.message);
        assert!(
            hit.iter().all(|k| i.environments.contains(&k.3)),
            "an incident stays in its environments"
        );
        if i.transient {
            assert!(runs[i.run]
                .values()
                .any(|att| att.first().is_some_and(failed_with)
                    && att.iter().any(|a| a.status() == TestStatus::Passed)));
        } else {
            assert!(runs[i.run]
                .values()
                .filter(|att| att.first().is_some_and(failed_with))
                .all(|att| att.iter().all(failed_with)));
        }
        if i.tail {
            // The last tests that ran in the environment (in report order) were all hit.
            let env = &i.environments[0];
            let report = &h.reports[i.run];
            let order: Vec<Key> = report
                .suites
                .iter()
                .flatten()
                .flat_map(|f| f.suites.iter().flatten().map(move |c| (f, c)))
                .flat_map(|(f, c)| {
                    c.tests.iter().flatten().map(move |t| {
                        (
                            f.title.clone(),
                            c.title.clone(),
                            t.title.clone(),
                            env.clone(),
                        )
                    })
                })
                .filter(|k| {
                    runs[i.run].get(k).is_some_and(|att| {
                        att.iter().all(|a| {
                            !matches!(a.status(), TestStatus::Skipped | TestStatus::Interrupted)
                        })
                    })
                })
                .collect();
            let last = &order[order.len() - order.len() / 4..];
            assert!(last.iter().all(|k| hit.contains(&k)), "a tail incident");
        }
    }
    // Stable tests hit by every incident of their environment.
    let per_env = |env: &str| {
        incidents
            .iter()
            .filter(|i| i.environments.iter().any(|e| e == env))
            .count()
    };
    assert!(h
        .truth
        .entries
        .iter()
        .any(|e| e.label == flakiness_analyze::Classification::Stable
            && e.incident_hits >= 3
            && e.incident_hits == per_env(&e.environment)));
    // Hit tests' stacks name the test.
    let i = &incidents[0];
    for (k, att) in &runs[i.run] {
        if first_message(att[0]) == Some(i.message.as_str()) {
            let stack = att[0].errors.as_ref().expect("errors")[0]
                .stack
                .as_deref()
                .expect("stack");
            assert!(stack.contains(&k.0) && stack.contains(&k.2), "{stack}");
        }
    }

    // Fixed regressions failing with timeouts, a retry sometimes passing.
    assert!(all().any(|att| att[0].status() == TestStatus::Failed
        && first_message(att[0]).is_some_and(|m| m.starts_with("TimeoutError: test exceeded"))
        && att.last().is_some_and(|a| a.status() == TestStatus::Passed)));

    // Flaky tests' generic messages shared by several tests.
    let mut shared: HashMap<&str, HashSet<&Key>> = HashMap::new();
    for r in &runs {
        for (k, att) in r {
            for a in att {
                if let Some(m) = first_message(a) {
                    if m.starts_with("TimeoutError: page.waitForSelector")
                        || m == "AssertionError: assert False"
                        || m.starts_with("ConnectionResetError")
                        || m.starts_with("requests.exceptions.ReadTimeout")
                        || m.starts_with("selenium.common.exceptions.StaleElement")
                    {
                        shared.entry(m).or_default().insert(k);
                    }
                }
            }
        }
    }
    assert!(shared.values().any(|tests| tests.len() >= 2), "{shared:?}");

    // Tests added mid-history.
    let mut first: HashMap<&Key, usize> = HashMap::new();
    for (r, results) in runs.iter().enumerate() {
        for k in results.keys() {
            first.entry(k).or_insert(r);
        }
    }
    assert!(first.values().any(|&r| r >= s.runs / 4));
    let added = h
        .truth
        .entries
        .iter()
        .filter(|e| e.first_run.is_some())
        .count();
    assert_eq!(
        added,
        (s.tests as f64 * s.added_share).round() as usize * n_env
    );
    // Added flaky tests still have at least 100 runs.
    for (t, b) in h.truth.behaviours.iter().enumerate() {
        let e = &h.truth.entries[t * n_env];
        if let (Some(from), Behaviour::Flaky { .. }) = (e.first_run, b) {
            assert!(s.runs - from >= 100);
        }
    }

    // Environment orders that differ between reports.
    let orders: BTreeSet<Vec<&str>> = h
        .reports
        .iter()
        .map(|r| r.environments.iter().map(|e| e.name.as_str()).collect())
        .collect();
    assert!(orders.len() > 1, "{orders:?}");

    // Omitted fields: status (passed), environmentIdx (0), duration; never expectedStatus.
    let json: Vec<serde_json::Value> = h
        .reports
        .iter()
        .map(|r| serde_json::to_value(r).expect("json"))
        .collect();
    let mut attempts = Vec::new();
    fn collect<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        if let Some(a) = v.get("attempts").and_then(|a| a.as_array()) {
            out.extend(a);
        }
        for key in ["suites", "tests"] {
            for c in v.get(key).and_then(|c| c.as_array()).into_iter().flatten() {
                collect(c, out);
            }
        }
    }
    for v in &json {
        collect(v, &mut attempts);
    }
    assert!(attempts.iter().any(|a| a.get("status").is_none()));
    assert!(attempts.iter().any(|a| a.get("environmentIdx").is_none()));
    assert!(attempts.iter().any(|a| a.get("duration").is_none()));
    assert!(attempts.iter().any(|a| a.get("duration").is_some()));
    assert!(attempts.iter().all(|a| a.get("expectedStatus").is_none()));
    assert!(attempts
        .iter()
        .all(|a| a.get("environmentIdx").and_then(|i| i.as_u64()) != Some(0)));
    assert!(attempts
        .iter()
        .all(|a| a.get("status").and_then(|i| i.as_str()) != Some("passed")));

    // Every report valid, without a warning.
    let validator = flakiness_validate::Validator::new(flakiness_validate::Options::default())
        .expect("validator");
    for (i, r) in h.reports.iter().enumerate() {
        let outcome = validator.validate_bytes(&serde_json::to_vec(r).expect("json"));
        assert!(
            outcome.errors.is_empty() && outcome.warnings.is_empty(),
            "run {i}: {:?} {:?}",
            outcome.errors,
            outcome.warnings
        );
    }

    // JUnit: interrupted attempts are left out, the rest is written.
    let c = h
        .truth
        .cancelled
        .iter()
        .find(|c| !c.absent)
        .expect("an interrupted run");
    let written: usize = flakiness_sim::junit_documents(&h.reports[c.run], false)
        .iter()
        .map(|(_, xml)| xml.matches("<testcase ").count())
        .sum();
    let ran = runs[c.run]
        .values()
        .filter(|att| att.iter().any(|a| a.status() != TestStatus::Interrupted))
        .count();
    assert_eq!(written, ran);
    assert!(ran < runs[c.run].len());
}

/// Ingests every report under `dir` into a new store and analyzes it.
fn analyze_dir(
    dir: &std::path::Path,
    db: &std::path::Path,
) -> (usize, flakiness_analyze::Analysis) {
    let mut store = SqliteStore::open(db).expect("store");
    let sources = discover(&[dir.to_path_buf()]).expect("discover");
    let ingested =
        ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert!(ingested.skipped.is_empty(), "{:?}", ingested.skipped);
    let analysis = analyze(&mut store, &AnalysisOptions::default()).expect("analyze");
    (ingested.new_runs, analysis)
}

/// The JUnit files of a history (Surefire-style, one per run and environment) give the same
/// classifications, scores and evidence as its reports.
fn junit_equivalence(s: &Scenario) {
    let dir = tempfile::tempdir().expect("tmp");
    let (reports, junit) = (dir.path().join("reports"), dir.path().join("junit"));
    std::fs::create_dir(&junit).expect("mkdir");
    let history = simulate(s);
    write_reports(&history, &reports);
    for (i, r) in history.reports.iter().enumerate() {
        // Odd runs in the compact form (the run's properties once per file).
        for (env, xml) in flakiness_sim::junit_documents(r, i % 2 == 1) {
            std::fs::write(junit.join(format!("run-{i:04}-{env}.xml")), xml).expect("write");
        }
    }
    let (json_runs, from_json) = analyze_dir(&reports, &dir.path().join("a.db"));
    let (xml_runs, from_xml) = analyze_dir(&junit, &dir.path().join("b.db"));
    assert_eq!(json_runs, s.runs);
    // One JUnit file per environment and run: each is a run of its own.
    assert_eq!(xml_runs, s.runs * s.environments.len());
    let view = |a: &flakiness_analyze::Analysis| {
        let mut v: Vec<_> = a
            .tests
            .iter()
            .map(|t| {
                (
                    t.file.clone(),
                    t.title_path.clone(),
                    t.environment.clone(),
                    t.classification,
                    format!("{:.6}", t.score),
                    t.evidence.retry_flakes,
                    t.evidence.same_commit_flips,
                )
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
        v
    };
    assert_eq!(view(&from_json).len(), s.tests * s.environments.len());
    assert_eq!(view(&from_json), view(&from_xml), "{}", s.name);
    assert!(
        from_xml.tests.iter().any(
            |t| t.classification == flakiness_analyze::Classification::Flaky
                && t.evidence.same_commit_flips > 0
        ),
        "the commit reached the analysis from the JUnit properties"
    );
    assert_eq!(
        score(&history.truth, &from_json),
        score(&history.truth, &from_xml)
    );
}

#[test]
fn junit_files_of_a_history_give_the_same_classifications_as_its_reports() {
    junit_equivalence(&Scenario {
        runs: 120,
        tests: 150,
        ..Scenario::named("mixed").expect("mixed")
    });
}

/// The same with the shapes of `real` (incidents, mid-history tests, shuffled environments,
/// compact reports, timeouts, varied messages and stacks), without its cancelled runs (JUnit
/// has no interrupted test). An incident in one environment is a large share of a JUnit file
/// (one environment) and a smaller one of the report (all of them): the two agree because
/// incidents are found per run and environment.
#[test]
fn junit_files_of_a_real_history_give_the_same_classifications_as_its_reports() {
    junit_equivalence(&Scenario {
        runs: 120,
        tests: 150,
        cancel_rate: 0.0,
        ..Scenario::named("real").expect("real")
    });
}
