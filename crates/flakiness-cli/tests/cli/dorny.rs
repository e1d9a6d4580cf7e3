//! Our counts against dorny/test-reporter's (issue 16): every fixture of its test suite kept
//! in `../shared/dorny` (`fixtures/`) has its rendering in `expected/*.md`, whose first table
//! row gives passed, failed and skipped for the file. `flakiness convert` (format detected,
//! as a user runs it) must give the same counts, or the difference is listed in
//! [`EXPECTED_DIFFERENCES`] and explained in spec/dorny-counts.md. Skips when the folder is
//! absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use flakiness_report::{Report, RunAttempt, TestStatus};

use super::repo;

fn dorny() -> PathBuf {
    repo().join("../shared/dorny")
}

/// (passed, failed, skipped).
type Counts = (u64, u64, u64);

/// Every fixture whose counts differ from theirs: (fixture below `fixtures/`, theirs, ours,
/// reason, a section of spec/dorny-counts.md).
#[rustfmt::skip]
const EXPECTED_DIFFERENCES: &[(&str, Counts, Counts, &str)] = &[
    // An xfail that failed is an expected failure: a pass for us, a skip for them.
    ("python-xunit-pytest.xml", (6, 2, 2), (7, 2, 1), "xfail-is-an-expected-failure"),
    // TestNG writes an attempt its retry analyzer reruns as a bare <skipped/>: a failed
    // attempt for us (a rerun followed it), a skip for them.
    ("external/java/pulsar-test-report.xml", (793, 1, 14), (793, 3, 12), "testng-retried-attempts"),
    ("external/java/TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml", (0, 1, 1), (0, 2, 0), "testng-retried-attempts"),
];

/// The reasons [`EXPECTED_DIFFERENCES`] may give, each a section of spec/dorny-counts.md.
const REASONS: [&str; 2] = ["xfail-is-an-expected-failure", "testng-retried-attempts"];

/// Their counts: (fixture, counts) of each `expected/*.md`, from the rows of its first
/// table that link a fixture (`|[fixtures/x.xml](#…)|5 ✅|1 ❌|1 ⚪|12s|`).
fn expected() -> BTreeMap<String, Counts> {
    let mut out = BTreeMap::new();
    let dir = dorny().join("expected");
    for e in std::fs::read_dir(&dir).expect("expected/") {
        let path = e.expect("entry").path();
        if path.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for line in text.lines().filter(|l| l.starts_with("|[fixtures/")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            let fixture = cells[0]
                .trim_start_matches("[fixtures/")
                .split(']')
                .next()
                .expect("link")
                .to_string();
            let n = |c: &str| -> u64 {
                let digits: String = c.chars().filter(char::is_ascii_digit).collect();
                digits.parse().unwrap_or(0)
            };
            let counts = (n(cells[1]), n(cells[2]), n(cells[3]));
            if let Some(before) = out.insert(fixture.clone(), counts) {
                assert_eq!(before, counts, "{fixture}: two expected files disagree");
            }
        }
    }
    out
}

/// How an attempt counts in their terms: skipped, passed (as expected, an expected failure
/// included), or failed.
fn bucket(a: &RunAttempt) -> usize {
    if a.status() == TestStatus::Skipped {
        2
    } else if a.status() == a.expected_status() {
        0
    } else {
        1
    }
}

/// Our counts: each attempt counts once, as each of their testcases (a rerun is a testcase
/// of its own in their files).
fn ours(r: &Report) -> Counts {
    let mut c = [0u64; 3];
    for t in r.all_tests() {
        for a in &t.test.attempts {
            c[bucket(a)] += 1;
        }
    }
    (c[0], c[1], c[2])
}

fn convert(fixture: &Path, out: &Path) -> Result<Report, String> {
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["convert", "--commit-id", &"0".repeat(40)])
        .arg(fixture)
        .arg("-o")
        .arg(out)
        .env("NO_COLOR", "1")
        .output()
        .expect("run flakiness");
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    flakiness_report::read_report_file(&out.join("report.json")).map_err(|e| e.to_string())
}

#[test]
fn counts_match_dorny_test_reporter() {
    if !dorny().join("expected").is_dir() {
        eprintln!("skipped: {} is absent", dorny().display());
        return;
    }
    let expected = expected();
    assert!(
        expected.len() >= 25,
        "only {} fixtures found",
        expected.len()
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let mut problems = Vec::new();
    let mut table = String::new();
    for (i, (fixture, theirs)) in expected.iter().enumerate() {
        let path = dorny().join("fixtures").join(fixture);
        let got = convert(&path, &tmp.path().join(i.to_string()));
        let ours = match got {
            Ok(r) => ours(&r),
            Err(e) => {
                problems.push(format!("{fixture}: refused: {e}"));
                continue;
            }
        };
        table.push_str(&format!("{fixture}: theirs {theirs:?}, ours {ours:?}\n"));
        let listed = EXPECTED_DIFFERENCES.iter().find(|d| d.0 == fixture);
        match listed {
            Some(&(_, t, o, reason)) => {
                assert!(REASONS.contains(&reason), "unknown reason {reason}");
                if (t, o) != (*theirs, ours) {
                    problems.push(format!(
                        "{fixture}: theirs {theirs:?}, ours {ours:?}; the table says {t:?} {o:?}"
                    ));
                }
            }
            None if ours != *theirs => {
                problems.push(format!(
                    "{fixture}: theirs {theirs:?}, ours {ours:?}; not in the table"
                ));
            }
            None => {}
        }
    }
    eprintln!("{table}");
    for d in EXPECTED_DIFFERENCES {
        assert!(expected.contains_key(d.0), "{} is not a fixture", d.0);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every reason has its section in the spec page, which names every fixture of the table.
#[test]
fn every_dorny_difference_is_explained() {
    let page = std::fs::read_to_string(repo().join("spec/dorny-counts.md")).expect("spec page");
    for reason in REASONS {
        assert!(page.contains(&format!("`{reason}`")), "{reason}");
    }
    for d in EXPECTED_DIFFERENCES {
        assert!(page.contains(d.0), "{} not in the spec page", d.0);
    }
}
