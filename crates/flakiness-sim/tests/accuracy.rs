//! The analyzer against simulated histories with ground truth: every named scenario, the
//! analyzer and the naive flip-rate baseline, through real report files and a real store.

use flakiness_analyze::{analyze, discover, ingest_all, AnalysisOptions, LoadLimits};
use flakiness_sim::{baseline, score, score_predictions, simulate, Scenario, Score};
use flakiness_store::SqliteStore;

/// Writes the history as report files, ingests them, analyzes: (analyzer, baseline) scores.
fn run(s: &Scenario) -> (Score, Score) {
    let dir = tempfile::tempdir().expect("tmp");
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).expect("mkdir");
    let history = simulate(s);
    for (i, r) in history.reports.iter().enumerate() {
        std::fs::write(
            reports.join(format!("run-{i:04}.json")),
            serde_json::to_vec(r).expect("json"),
        )
        .expect("write");
    }
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    let sources = discover(&[reports]).expect("discover");
    let ingested =
        ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert!(ingested.skipped.is_empty(), "{:?}", ingested.skipped);
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
    let mut table = String::from(
        "| scenario | flaky P | flaky R | broken P | broken R | broken→flaky | outage→flaky | baseline flaky P | baseline flaky R | baseline broken P | baseline broken R |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut mixed = None;
    for name in Scenario::NAMES {
        let s = Scenario::named(name).expect("named");
        let (ours, naive) = run(&s);
        table.push_str(&format!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            ours.flaky.precision,
            ours.flaky.recall,
            ours.broken.precision,
            ours.broken.recall,
            ours.broken_called_flaky,
            ours.stable_called_flaky_after_outage,
            naive.flaky.precision,
            naive.flaky.recall,
            naive.broken.precision,
            naive.broken.recall,
        ));
        if *name == "mixed" {
            mixed = Some(ours);
        }
    }
    eprintln!("{table}");
    let m = mixed.expect("mixed");
    assert!(m.flaky.precision >= 0.95, "mixed flaky precision: {table}");
    assert!(m.flaky.recall >= 0.90, "mixed flaky recall: {table}");
    assert_eq!(m.broken_called_flaky, 0, "{table}");
    assert_eq!(m.stable_called_flaky_after_outage, 0, "{table}");
}

#[test]
fn the_simulation_is_deterministic() {
    let s = Scenario {
        runs: 20,
        tests: 30,
        ..Scenario::named("mixed").expect("mixed")
    };
    let a = simulate(&s);
    let b = simulate(&s);
    assert_eq!(a.truth, b.truth);
    assert_eq!(
        serde_json::to_string(&a.reports).expect("json"),
        serde_json::to_string(&b.reports).expect("json")
    );
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

#[test]
fn junit_files_of_a_history_give_the_same_classifications_as_its_reports() {
    let s = Scenario {
        runs: 120,
        tests: 150,
        ..Scenario::named("mixed").expect("mixed")
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (reports, junit) = (dir.path().join("reports"), dir.path().join("junit"));
    std::fs::create_dir(&reports).expect("mkdir");
    std::fs::create_dir(&junit).expect("mkdir");
    let history = simulate(&s);
    for (i, r) in history.reports.iter().enumerate() {
        std::fs::write(
            reports.join(format!("run-{i:04}.json")),
            serde_json::to_vec(r).expect("json"),
        )
        .expect("write");
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
    assert_eq!(view(&from_json), view(&from_xml));
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
