//! Our counts against those of EnricoMi/publish-unit-test-result-action, for the JUnit files of
//! its test suite kept in the shared corpus (`../shared/corpus/enricomi`): every `X.xml` there
//! has an `X.results.json` whose `stats` hold that action's counts. Each count must match ours,
//! or the difference is listed in [`EXPECTED_DIFFERENCES`] and explained in
//! spec/enricomi-counts.md. Skips when the corpus is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata};
use flakiness_report::{Report, RunAttempt, TestStatus};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder of that action's JUnit test files inside the corpus.
fn corpus() -> PathBuf {
    repo().join("../shared/corpus/enricomi/python/test/files/junit-xml")
}

const FALLBACK_MS: f64 = 1_700_000_000_000.0;

/// The counted fields, in the order of their `stats`. `errors` is the number of files refused
/// (their `stats.errors` is the list of files they could not read).
const FIELDS: [&str; 11] = [
    "errors",
    "tests",
    "tests_succ",
    "tests_skip",
    "tests_fail",
    "tests_error",
    "runs",
    "runs_succ",
    "runs_skip",
    "runs_fail",
    "runs_error",
];

type Counts = [i64; 11];

/// Every count of ours that differs from theirs: (file below the folder, field, theirs, ours,
/// reason). The reasons are explained in spec/enricomi-counts.md.
#[rustfmt::skip]
const EXPECTED_DIFFERENCES: &[(&str, &str, i64, i64, &str)] = &[
    // Several result elements in one testcase: their runs count each element (6 elements in 4
    // testcases, so -2 passed runs); ours are the 4 testcases, each one attempt whose status is
    // the most severe of its elements (error, failure, skip).
    ("junit.multiresult.xml", "runs_succ", -2, 1, "runs-from-result-elements"),
    ("junit.multiresult.xml", "runs_fail", 2, 1, "runs-from-result-elements"),
    ("junit.multiresult.xml", "runs_skip", 3, 1, "runs-from-result-elements"),
    // A suite that declares tests="6" and lists none: we count testcases, not declarations.
    ("no-cases-but-tests.xml", "tests", 6, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "tests_succ", 3, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "tests_skip", 2, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "tests_fail", 1, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "runs", 6, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "runs_succ", 3, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "runs_skip", 2, 0, "declared-counts-without-testcases"),
    ("no-cases-but-tests.xml", "runs_fail", 1, 0, "declared-counts-without-testcases"),
    // Eight repeated (classname, name) testcases that all passed: they merge them into
    // earlier tests; for us repeats after a pass are not reruns but tests of their own.
    ("mocha/latex-utensils.xml", "tests", 101, 109, "repeats-that-are-not-reruns"),
    ("mocha/latex-utensils.xml", "tests_succ", 101, 109, "repeats-that-are-not-reruns"),
    // tst: disabled tests, declared as disabled="5" skipped="0", are runs that passed for them.
    ("tst/disabled.xml", "runs_succ", 11, 6, "runs-from-suite-attributes"),
    ("tst/disabled.xml", "runs_skip", 0, 5, "runs-from-suite-attributes"),
];

/// The reasons [`EXPECTED_DIFFERENCES`] may give, each a section of spec/enricomi-counts.md.
const REASONS: [&str; 4] = [
    "repeats-that-are-not-reruns",
    "runs-from-result-elements",
    "runs-from-suite-attributes",
    "declared-counts-without-testcases",
];

fn meta() -> Metadata {
    Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "junit".into(),
        env_name: "ci".into(),
        ..Metadata::default()
    }
}

fn convert(path: &Path) -> Result<Report, flakiness_convert::ConvertError> {
    let data = std::fs::read(path).expect("input");
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mut c = JunitCollector::default();
    c.read(data.as_slice(), &name, FALLBACK_MS, &Limits::default())
        .map_err(|e| e.locate(&data))?;
    Ok(junit_report(c, &meta(), FALLBACK_MS))
}

/// How one attempt counts in their terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Skipped,
    Success,
    Failure,
    /// A failed attempt that our converter marks with a `junit-error` annotation.
    Error,
}

fn state(a: &RunAttempt) -> State {
    let (status, expected) = (a.status(), a.expected_status());
    let errored = a
        .annotations
        .iter()
        .flatten()
        .any(|an| an.kind == "junit-error");
    if status == TestStatus::Skipped {
        State::Skipped
    } else if status != expected && errored {
        State::Error
    } else if status == expected {
        State::Success
    } else {
        // failed, timedOut, interrupted, or a pass that was expected to fail.
        State::Failure
    }
}

/// Their counts for our report: a test is one of our tests, a run one of its attempts; a test
/// takes the worst state of its attempts (error, failure, success, skipped: their order).
fn our_counts(r: &Report) -> Counts {
    let mut c = [0i64; 11];
    for t in r.all_tests() {
        let states: Vec<State> = t.test.attempts.iter().map(state).collect();
        let worst = states.iter().copied().max().unwrap_or(State::Skipped);
        c[1] += 1;
        c[tests_slot(worst)] += 1;
        for s in states {
            c[6] += 1;
            c[tests_slot(s) + 5] += 1;
        }
    }
    c
}

/// The `tests_*` index of a state; the `runs_*` one is 5 further.
fn tests_slot(s: State) -> usize {
    match s {
        State::Success => 2,
        State::Skipped => 3,
        State::Failure => 4,
        State::Error => 5,
    }
}

fn their_counts(path: &Path) -> Counts {
    let text = std::fs::read_to_string(path).expect("results.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let stats = &v["stats"];
    let mut c = [0i64; 11];
    for (i, f) in FIELDS.iter().enumerate() {
        c[i] = if *f == "errors" {
            stats[f].as_array().expect("errors").len() as i64
        } else {
            stats[f]
                .as_i64()
                .unwrap_or_else(|| panic!("{}: {f}", path.display()))
        };
    }
    c
}

/// Every `X.xml` of the folder that has an `X.results.json`, as (relative name, xml, json).
fn pairs(root: &Path) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out: Vec<_> = flakiness_convert::expand_input(root)
        .expect("walk")
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "xml"))
        .filter_map(|xml| {
            let json = xml.with_extension("results.json");
            json.is_file().then(|| {
                let rel = xml
                    .strip_prefix(root)
                    .expect("below root")
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, xml, json)
            })
        })
        .collect();
    out.sort();
    out
}

#[test]
fn counts_match_publish_unit_test_result_action() {
    let root = corpus();
    if !root.is_dir() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let pairs = pairs(&root);
    assert!(pairs.len() >= 28, "only {} pairs found", pairs.len());

    // (file, field) → (theirs, ours), for every count that differs.
    let mut got: BTreeMap<(String, &str), (i64, i64)> = BTreeMap::new();
    let mut table = String::new();
    for (rel, xml, json) in &pairs {
        let theirs = their_counts(json);
        let ours = match convert(xml) {
            Ok(r) => our_counts(&r),
            Err(e) => {
                eprintln!("{rel}: refused: {e}");
                let mut c = [0i64; 11];
                c[0] = 1;
                c
            }
        };
        table.push_str(&format!("{rel}\n  theirs {theirs:?}\n  ours   {ours:?}\n"));
        for (i, f) in FIELDS.iter().enumerate() {
            if theirs[i] != ours[i] {
                got.insert((rel.clone(), f), (theirs[i], ours[i]));
            }
        }
    }
    eprintln!("fields: {FIELDS:?}\n{table}");

    let mut problems = Vec::new();
    let mut expected: BTreeMap<(String, &str), (i64, i64)> = BTreeMap::new();
    for &(file, field, theirs, ours, reason) in EXPECTED_DIFFERENCES {
        assert!(REASONS.contains(&reason), "unknown reason {reason}");
        assert!(FIELDS.contains(&field), "unknown field {field}");
        let dup = expected.insert((file.to_string(), field), (theirs, ours));
        assert!(dup.is_none(), "listed twice: {file} {field}");
    }
    for ((file, field), (theirs, ours)) in &got {
        match expected.get(&(file.clone(), *field)) {
            Some(&want) if want == (*theirs, *ours) => {}
            Some(want) => problems.push(format!(
                "{file} {field}: theirs {theirs}, ours {ours}; the table says {want:?}"
            )),
            None => problems.push(format!(
                "{file} {field}: theirs {theirs}, ours {ours}; not in the table"
            )),
        }
    }
    for ((file, field), want) in &expected {
        if !got.contains_key(&(file.clone(), *field)) {
            problems.push(format!(
                "{file} {field}: listed as {want:?}, but the counts now agree (or the file is gone)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every reason the table may give has its section in the spec page, and the page names no
/// `bug-pending` entry the table no longer has.
#[test]
fn every_reason_is_explained() {
    let page = std::fs::read_to_string(repo().join("spec/enricomi-counts.md")).expect("spec page");
    for reason in REASONS {
        assert!(
            page.contains(&format!("`{reason}`")),
            "{reason} not in the spec page"
        );
    }
    for &(file, _, _, _, reason) in EXPECTED_DIFFERENCES {
        assert!(
            page.contains(file),
            "{file} ({reason}) not in the spec page"
        );
    }
}
