//! The analyzer on a history it was not built with: the shared benchmark generator
//! (`../shared/bench/gen_history.py`, beside the repository), whose model is simpler than ours
//! and unlike it: every failure says `boom`, stable tests fail once in a thousand runs, some
//! tests break for a block of runs and are fixed. Its truth is read from the generator itself.
//! Skips (saying so) when the generator or python3 is not there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use flakiness_analyze::{
    analyze, discover, ingest_all, AnalysisOptions, Classification, LoadLimits,
};
use flakiness_store::SqliteStore;

const RUNS: usize = 2000;
const TESTS: usize = 500;

fn generator() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/gen_history.py");
    p.is_file().then_some(p)
}

/// The generator's own labels: test name → `stable`, `flaky`, `broken` (still failing at the
/// end) or `skipped`; a block of failures that ended is `stable` (fixed).
fn truth(gen: &Path) -> Option<HashMap<String, String>> {
    let script = format!(
        r#"
import importlib.util, json
spec = importlib.util.spec_from_file_location("g", {gen:?})
g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)
class A: pass
a = A(); a.seed = 7; a.runs = {RUNS}; a.tests = {TESTS}
_, tests = g.model(a)
out = {{}}
for ident, kind, p, span in tests:
    if kind == "broken":
        kind = "broken" if span[1] >= a.runs else "stable"
    out[ident[1]] = kind
print(json.dumps(out))
"#,
        gen = gen.display().to_string()
    );
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    if !o.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&o.stderr));
        return None;
    }
    serde_json::from_slice(&o.stdout).ok()
}

#[test]
fn the_shared_generators_history_is_classified_right() {
    let Some(gen) = generator() else {
        eprintln!("skipped: ../shared/bench/gen_history.py is not there");
        return;
    };
    let Some(truth) = truth(&gen) else {
        eprintln!("skipped: python3 cannot run the shared generator");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let junit = dir.path().join("junit");
    let made = Command::new("python3")
        .arg(&gen)
        .args(["--format", "junit-dir", "--seed", "7"])
        .args(["--runs", &RUNS.to_string(), "--tests", &TESTS.to_string()])
        .arg("--out")
        .arg(&junit)
        .output()
        .expect("python3");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("store");
    let sources = discover(&[junit]).expect("discover");
    let ingested =
        ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {}).expect("ingest");
    assert!(ingested.skipped.is_empty(), "{:?}", ingested.skipped);
    assert_eq!(ingested.new_runs, RUNS);
    let a = analyze(&mut store, &AnalysisOptions::default()).expect("analyze");
    assert_eq!(a.tests.len(), TESTS);
    let (mut tp, mut fp, mut fn_, mut broken_right, mut broken_wrong) = (0, 0, 0, 0, 0);
    for t in &a.tests {
        let name = t.title_path.last().expect("title");
        let label = truth.get(name).unwrap_or_else(|| panic!("{name}"));
        match (label.as_str(), t.classification) {
            ("flaky", Classification::Flaky) => tp += 1,
            ("flaky", _) => fn_ += 1,
            (_, Classification::Flaky) => {
                fp += 1;
                eprintln!("{label} called flaky: {name}: {}", t.why);
            }
            _ => {}
        }
        match (label.as_str(), t.classification) {
            ("broken", Classification::Broken) => broken_right += 1,
            ("broken", _) | (_, Classification::Broken) => {
                broken_wrong += 1;
                eprintln!("{label} called {:?}: {name}: {}", t.classification, t.why);
            }
            _ => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    eprintln!(
        "shared generator: flaky P {precision:.3} R {recall:.3} ({tp} right, {fp} wrong, {fn_} missed); broken {broken_right} right, {broken_wrong} wrong"
    );
    assert!(tp > 0, "the history has flaky tests");
    assert!(precision >= 0.95, "flaky precision {precision}");
    assert!(recall >= 0.90, "flaky recall {recall}");
    assert_eq!(broken_wrong, 0);
}
