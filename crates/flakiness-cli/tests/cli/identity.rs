//! Test identities across tools (issue 15, item 6; spec/identity.md §3): `flakiness convert` on
//! a runner's own output against the official reporter's report of the same run, both recorded
//! in testdata/identity/ (see each RECORD.md). The identity is (file, suite path, title) as
//! `TestRef` computes it; the environments are compared too, since a history is kept per
//! environment.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use flakiness_report::{Report, TestStatus};

use super::repo;

type Identity = (String, Vec<String>, String);

fn identities(report: &Report) -> BTreeSet<Identity> {
    report
        .all_tests()
        .map(|t| {
            (
                t.file().unwrap_or_default().to_string(),
                t.suite_path().iter().map(|s| s.to_string()).collect(),
                t.test.title.clone(),
            )
        })
        .collect()
}

fn read(path: &Path) -> Report {
    flakiness_report::read_report_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An official report, which our model may refuse: pytest-flakiness 1.2 writes the status
/// `rerun`, and @flakiness/junit-xml 1.4 a suite without a title for a `<testsuite>` with
/// neither name nor file (both break the official schema). Only what identities need is read,
/// by the rules of [`identities`] (`TestRef`), which [`value_identities`] repeats.
struct Official {
    identities: BTreeSet<Identity>,
    tags: BTreeSet<(String, String, Vec<String>)>,
    environments: Vec<String>,
}

fn read_official(path: &Path) -> Official {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    let mut tags = BTreeSet::new();
    let identities = value_identities(&v, &mut tags);
    let environments = v["environments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["name"].as_str().unwrap_or_default().to_string())
        .collect();
    Official {
        identities,
        tags,
        environments,
    }
}

/// Identities (and sorted, deduplicated tags by file and title) of a report read as JSON.
fn value_identities(
    v: &serde_json::Value,
    tags: &mut BTreeSet<(String, String, Vec<String>)>,
) -> BTreeSet<Identity> {
    fn walk(
        suites: &serde_json::Value,
        file: Option<&str>,
        path: &[String],
        out: &mut BTreeSet<Identity>,
        tags: &mut BTreeSet<(String, String, Vec<String>)>,
    ) {
        for s in suites.as_array().into_iter().flatten() {
            let title = s["title"].as_str().unwrap_or_default();
            let mut p = path.to_vec();
            let mut f = file;
            if s["type"] == "file" {
                f = s["location"]["file"].as_str().or(Some(title));
            } else if !title.is_empty() {
                p.push(title.to_string());
            }
            tests(&s["tests"], f, &p, out, tags);
            walk(&s["suites"], f, &p, out, tags);
        }
    }
    fn tests(
        list: &serde_json::Value,
        file: Option<&str>,
        path: &[String],
        out: &mut BTreeSet<Identity>,
        tags: &mut BTreeSet<(String, String, Vec<String>)>,
    ) {
        for t in list.as_array().into_iter().flatten() {
            let f = t["location"]["file"].as_str().or(file).unwrap_or_default();
            let title = t["title"].as_str().unwrap_or_default().to_string();
            let mut tt: Vec<String> = t["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            tt.sort();
            tt.dedup();
            tags.insert((f.to_string(), title.clone(), tt));
            out.insert((f.to_string(), path.to_vec(), title));
        }
    }
    let mut out = BTreeSet::new();
    tests(&v["tests"], None, &[], &mut out, tags);
    walk(&v["suites"], None, &[], &mut out, tags);
    out
}

/// Our report's identities, by `TestRef`, checked against [`value_identities`] of its JSON.
fn checked_identities(report: &Report) -> BTreeSet<Identity> {
    let ours = identities(report);
    let v = serde_json::to_value(report).expect("serialises");
    assert_eq!(ours, value_identities(&v, &mut BTreeSet::new()));
    ours
}

fn identity_dir() -> PathBuf {
    repo().join("testdata/identity")
}

/// `flakiness convert INPUTS` as a user runs it in the runner's project: the project is a git
/// checkout (a fresh one, in a temporary folder, so that paths are relative to it as the
/// official reporters made them) and `--base-dir` is where the runner ran (`base`, inside it).
fn convert(inputs: &[&str], base: &str) -> Report {
    convert_moved(inputs, base, None)
}

/// [`convert`], the inputs first copied into the checkout with the absolute project directory
/// they name (`moved`: the recording's, such as `/home/user/jest-sample`) replaced by the
/// checkout's: as if the runner had run there, as Jest and Vitest name test files by absolute
/// path.
fn convert_moved(inputs: &[&str], base: &str, moved: Option<&str>) -> Report {
    let tmp = tempfile::tempdir().expect("tmp");
    let git = Command::new("git")
        .args(["init", "-q"])
        .arg(tmp.path())
        .status()
        .expect("git is installed");
    assert!(git.success());
    let base_dir = tmp.path().join(base);
    std::fs::create_dir_all(&base_dir).expect("base dir");
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["convert", "--allow-outside-attachments", "--base-dir"])
        .arg(&base_dir)
        .args(["--commit-id", &"0".repeat(40), "-o"])
        .arg(&out)
        .args(inputs.iter().map(|i| {
            let path = identity_dir().join(i);
            let Some(from) = moved else {
                return path;
            };
            let text = std::fs::read_to_string(&path).expect("input");
            let to = tmp.path().to_string_lossy().replace('\\', "/");
            let copy = tmp.path().join(path.file_name().expect("a file"));
            std::fs::write(&copy, text.replace(from, &to)).expect("copy");
            copy
        }))
        .env_remove("FLAKINESS_TITLE")
        .output()
        .expect("convert runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    read(&out.join("report.json"))
}

fn env_names(r: &Report) -> Vec<&str> {
    r.environments.iter().map(|e| e.name.as_str()).collect()
}

fn id(file: &str, path: &[&str], title: &str) -> Identity {
    (
        file.to_string(),
        path.iter().map(|s| s.to_string()).collect(),
        title.to_string(),
    )
}

/// Ours and the official reporter's identities are equal, but for `only_ours` and
/// `only_official`: the cases the runner's output cannot tell (listed in spec/identity.md §3).
fn assert_same_identities(
    what: &str,
    ours: &Report,
    official: &Official,
    only_ours: &[Identity],
    only_official: &[Identity],
) {
    let a = checked_identities(ours);
    let b = &official.identities;
    assert!(a.len() >= 15, "{what}: {} tests", a.len());
    let got_ours: Vec<&Identity> = a.difference(b).collect();
    let got_official: Vec<&Identity> = b.difference(&a).collect();
    assert_eq!(
        (got_ours, got_official),
        (only_ours.iter().collect(), only_official.iter().collect()),
        "{what}: identities that differ (ours, official)"
    );
}

/// pytest: every source pytest writes (reportlog, json-report, junitxml xunit1 and xunit2)
/// gives the identities pytest-flakiness gives (file, no suite, `Class::test[params]`), and
/// its environment name; json-report and reportlog give the markers as tags.
#[test]
fn pytest_identities_are_pytest_flakiness_ones() {
    let official = read_official(&identity_dir().join("pytest/out/official/report.json"));
    for input in [
        "pytest/out/reportlog.jsonl",
        "pytest/out/json-report.json",
        "pytest/out/junit-xunit1.xml",
        "pytest/out/junit-xunit2.xml",
    ] {
        let ours = convert(&[input], "");
        assert_same_identities(input, &ours, &official, &[], &[]);
        assert_eq!(env_names(&ours), official.environments, "{input}");
    }
}

/// Item 8: the markers json-report and reportlog carry are the test's tags. The official
/// reporter makes a marker with positional arguments (`owner("alice")`, `issue("BUG-42")`) an
/// annotation of that type; our inputs keep only the marker's name, which becomes a tag (the
/// argument is lost: spec/convert-pytest.md). Otherwise the tags are the official ones.
#[test]
fn pytest_markers_are_tags() {
    let official = read_official(&identity_dir().join("pytest/out/official/report.json"));
    let tags = |r: &Report| -> BTreeSet<(String, String, Vec<String>)> {
        r.all_tests()
            .map(|t| {
                let mut tags = t.test.tags.clone().unwrap_or_default();
                tags.sort();
                tags.dedup();
                let file = t.file().unwrap_or_default().to_string();
                (file, t.test.title.clone(), tags)
            })
            .collect()
    };
    // The markers given with arguments in the sample project, by file and title.
    let with_arguments = |file: &str, title: &str| -> Vec<String> {
        let names: &[&str] = match (file, title) {
            ("tests/test_basic.py", "test_fail") => &["issue"],
            ("tests/test_basic.py", "test_owner_marker" | "TestClass::TestNested::test_nested") => {
                &["owner"]
            }
            ("tests/sub/test_deep.py", _) => &["owner"],
            _ => &[],
        };
        names.iter().map(|s| s.to_string()).collect()
    };
    let expected: BTreeSet<(String, String, Vec<String>)> = official
        .tags
        .into_iter()
        .map(|(file, title, mut t)| {
            t.extend(with_arguments(&file, &title));
            t.sort();
            t.dedup();
            (file, title, t)
        })
        .collect();
    for input in ["pytest/out/reportlog.jsonl", "pytest/out/json-report.json"] {
        let ours = tags(&convert(&[input], ""));
        assert_eq!(ours, expected, "{input}");
        assert!(
            ours.iter()
                .any(|(_, t, tags)| t == "test_tagged" && tags == &["slow", "smoke"]),
            "{input}"
        );
    }
}

/// Jest: jest-junit with the options spec/identity.md recommends (suite named by file, file
/// attribute, describe blocks in the classname joined with ` › `, title alone) gives the Jest
/// reporter's identities, trailing `@tags` out of the title. The one it cannot give: a describe
/// whose own title holds ` › `.
#[test]
fn jest_identities_are_the_jest_reporters() {
    let official = read_official(&identity_dir().join("jest/out/official/report.json"));
    let ours = convert(&["jest/out/junit-recommended.xml"], "");
    assert_same_identities(
        "jest",
        &ours,
        &official,
        &[id("tests/special.test.js", &["a", "b"], "c › d")],
        &[id("tests/special.test.js", &["a › b"], "c › d")],
    );
    assert_eq!(env_names(&ours), official.environments);
    let tagged = ours
        .all_tests()
        .find(|t| t.test.title == "tagged test")
        .expect("the @tags leave the title");
    assert_eq!(
        tagged.test.tags.as_deref(),
        Some(&["smoke".to_string(), "fast".to_string()][..])
    );
}

/// Vitest: its JUnit gives the Vitest reporter's identities (describe blocks split on ` > `),
/// but for a title that holds ` > ` itself.
#[test]
fn vitest_identities_are_the_vitest_reporters() {
    let official = read_official(&identity_dir().join("vitest/out/official/report.json"));
    let ours = convert(&["vitest/out/junit.xml"], "");
    assert_same_identities(
        "vitest",
        &ours,
        &official,
        &[id("tests/special.test.js", &["x"], "y >= z")],
        &[id("tests/special.test.js", &[], "x > y >= z")],
    );
    assert_eq!(env_names(&ours), official.environments);
}

/// Jest's own JSON (`jest --json`) gives every identity of the Jest reporter, the describe
/// whose title holds ` › ` included (the JUnit above cannot), its tags, its environment and
/// file suites titled as it titles them; the flaky test failed then passed.
#[test]
fn jest_json_identities_are_the_jest_reporters() {
    let official = read_official(&identity_dir().join("jest/out/official/report.json"));
    let ours = convert_moved(&["jest/out/jest.json"], "", Some("/home/user/jest-sample"));
    assert_same_identities("jest.json", &ours, &official, &[], &[]);
    assert_eq!(env_names(&ours), official.environments);
    assert_eq!(env_names(&ours), ["jest"]);
    assert_eq!(ours.category, "jest");
    let tags: BTreeSet<(String, String, Vec<String>)> = ours
        .all_tests()
        .map(|t| {
            let mut tags = t.test.tags.clone().unwrap_or_default();
            tags.sort();
            (
                t.file().unwrap_or_default().to_string(),
                t.test.title.clone(),
                tags,
            )
        })
        .collect();
    assert_eq!(tags, official.tags);
    let titles: BTreeSet<&str> = ours
        .suites
        .iter()
        .flatten()
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(
        titles,
        BTreeSet::from([
            "tests/basic.test.js",
            "tests/special.test.js",
            "tests/status.test.js",
            "tests/sub/deep.test.js"
        ])
    );
    let flaky = ours
        .all_tests()
        .find(|t| t.test.title == "flaky passes on retry")
        .expect("flaky");
    let statuses: Vec<TestStatus> = flaky.test.attempts.iter().map(|a| a.status()).collect();
    assert_eq!(statuses, [TestStatus::Failed, TestStatus::Passed]);
}

/// Vitest's JSON (`--reporter=json`) gives every identity of the Vitest reporter, the title
/// holding ` > ` included (its JUnit cannot), its tags and its environment.
#[test]
fn vitest_json_identities_are_the_vitest_reporters() {
    let official = read_official(&identity_dir().join("vitest/out/official/report.json"));
    let ours = convert_moved(
        &["vitest/out/vitest.json"],
        "",
        Some("/home/user/vitest-sample"),
    );
    assert_same_identities("vitest.json", &ours, &official, &[], &[]);
    assert_eq!(env_names(&ours), official.environments);
    assert_eq!(env_names(&ours), ["vitest"]);
    assert_eq!(ours.category, "vitest");
    let flaky = ours
        .all_tests()
        .find(|t| t.test.title == "flaky passes on retry")
        .expect("flaky");
    let statuses: Vec<TestStatus> = flaky.test.attempts.iter().map(|a| a.status()).collect();
    assert_eq!(statuses, [TestStatus::Failed, TestStatus::Passed]);
}

/// Playwright: its JUnit, converted with `--base-dir` at the test directory, gives the
/// Playwright reporter's identities (file suites, describe blocks split on ` › `, anonymous
/// describes out of the path) and one environment per project, each test's attempts in its
/// project's environment.
#[test]
fn playwright_identities_are_the_playwright_reporters() {
    let official = read_official(&identity_dir().join("playwright/out/official/report.json"));
    let ours = convert(&["playwright/out/junit.xml"], "tests");
    assert_same_identities("playwright", &ours, &official, &[], &[]);
    assert_eq!(env_names(&ours), ["alpha", "beta"]);
    assert_eq!(env_names(&ours), official.environments);
    let flaky = ours
        .all_tests()
        .find(|t| t.test.title == "root passes" && t.suite_path().is_empty())
        .expect("root passes");
    let envs: BTreeSet<u32> = flaky
        .test
        .attempts
        .iter()
        .map(|a| a.environment_idx())
        .collect();
    assert_eq!(envs, BTreeSet::from([0, 1]));
}

/// Generic JUnit against the official JUnit converter (@flakiness/junit-xml 1.4.0) on the same
/// files: equal suite paths and titles, Bun's Windows paths included; the deliberate
/// differences are the ones spec/identity.md §3 lists (a classname naming another class is a
/// suite; a suite named as a Windows path gets `/` even without a `file`).
#[test]
fn generic_junit_identities_are_the_official_converters() {
    /// Suite path and title, for what only one side has.
    type Only<'a> = &'a [(&'a [&'a str], &'a str)];
    let cases: &[(&str, &str, Only, Only)] = &[
        ("bun/out/junit.xml", "identity-bun-junit", &[], &[]),
        (
            "bun/out/junit-windows.xml",
            "identity-bun-junit-windows",
            &[],
            &[],
        ),
        (
            "../inputs/cargo/nextest-junit.xml",
            "inputs-cargo-nextest-junit",
            &[],
            &[],
        ),
        (
            "../junit/gotestsum-reruns.xml",
            "junit-gotestsum-reruns",
            &[],
            &[],
        ),
        ("junit-xml/probes/reruns.xml", "probe-reruns", &[], &[]),
        (
            "junit-xml/probes/paths.xml",
            "probe-paths",
            &[(
                &["tests/windows/c.spec.ts"],
                "in suite named like a windows path",
            )],
            &[(
                &["tests\\windows\\c.spec.ts"],
                "in suite named like a windows path",
            )],
        ),
        (
            "../junit/surefire-reruns.xml",
            "junit-surefire-reruns",
            &[(&["com.acme.CartTest", "com.acme.OtherTest"], "addsItem")],
            &[],
        ),
    ];
    for (input, official, only_ours, only_official) in cases {
        let ours = convert(&[input], "");
        let official = read_official(
            &identity_dir()
                .join("junit-xml/out")
                .join(official)
                .join("report.json"),
        );
        let paths = |ids: BTreeSet<Identity>| -> BTreeSet<(Vec<String>, String)> {
            ids.into_iter().map(|(_, p, t)| (p, t)).collect()
        };
        let (a, b) = (paths(checked_identities(&ours)), paths(official.identities));
        let list = |l: Only| -> Vec<(Vec<String>, String)> {
            l.iter()
                .map(|(p, t)| (p.iter().map(|s| s.to_string()).collect(), t.to_string()))
                .collect()
        };
        assert_eq!(
            (
                a.difference(&b).cloned().collect::<Vec<_>>(),
                b.difference(&a).cloned().collect::<Vec<_>>()
            ),
            (list(only_ours), list(only_official)),
            "{input}"
        );
        assert!(!a.is_empty(), "{input}");
    }
}

/// Item 6's migration: histories stored from reports of an older `flakiness convert` (recorded
/// with it in testdata/identity/legacy/: pytest classes as suites, a Vitest name as one title,
/// Bun's Windows paths, all in the environment `default`) go on under the new identities: after
/// `analyze` of the old report then of the new one, the store holds each test once, under its
/// new key, with both results (spec/analyze.md, "Test keys from older versions").
#[test]
fn older_histories_join_the_new_identities() {
    for (legacy, input, base) in [
        ("pytest-reportlog", "pytest/out/reportlog.jsonl", ""),
        ("pytest-junit-xunit2", "pytest/out/junit-xunit2.xml", ""),
        ("vitest-junit", "vitest/out/junit.xml", ""),
        ("bun-junit-windows", "bun/out/junit-windows.xml", ""),
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let db = tmp.path().join("history.db");
        let new = tmp.path().join("new");
        std::fs::create_dir_all(&new).expect("dir");
        let ours = convert(&[input], base);
        std::fs::write(
            new.join("report.json"),
            serde_json::to_vec(&ours).expect("serialises"),
        )
        .expect("write");
        let old = identity_dir()
            .join("legacy")
            .join(legacy)
            .join("report.json");
        for report in [old.as_path(), new.as_path()] {
            let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
                .args(["analyze", "--format", "json", "--db"])
                .arg(&db)
                .arg(report)
                .output()
                .expect("analyze runs");
            assert_eq!(
                o.status.code(),
                Some(0),
                "{legacy}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let store = flakiness_store::SqliteStore::open(&db).expect("store");
        let stored: BTreeSet<(String, Vec<String>, String)> = store
            .tests()
            .expect("tests")
            .into_iter()
            .map(|t| (t.file, t.title_path, t.environment))
            .collect();
        // The new report's keys: file, suite path and title, environment.
        let env = ours.environments[0].name.clone();
        let expected: BTreeSet<(String, Vec<String>, String)> = identities(&ours)
            .into_iter()
            .map(|(file, mut path, title)| {
                path.push(title);
                (file, path, env.clone())
            })
            .collect();
        assert_eq!(
            stored, expected,
            "{legacy}: the store holds the new keys only"
        );
        let mut results: std::collections::BTreeMap<i64, usize> = Default::default();
        store
            .for_each_result(&mut |r: flakiness_store::ResultRow| {
                *results.entry(r.test_id).or_default() += 1
            })
            .expect("results");
        let once: Vec<_> = results.iter().filter(|(_, n)| **n != 2).collect();
        assert!(
            once.is_empty() && results.len() == expected.len(),
            "{legacy}: tests without both results: {once:?} of {}",
            results.len()
        );
    }
}
