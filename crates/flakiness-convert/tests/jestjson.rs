//! Jest's and Vitest's JSON on real recordings: the identity samples (testdata/identity/jest and
//! vitest, the same runs as the official reporters' reports beside them) and the edge cases of
//! testdata/inputs/jsjson/ (RECORD.md there).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use flakiness_convert::{
    detect, locate_errors, relativize_paths, Format, JestJsonCollector, JsRunner, Limits, Metadata,
    RepoFiles, INFERRED_ANNOTATION, JEST_SUITE_FAILED_TITLE as SUITE_FAILED_TITLE,
};
use flakiness_report::{Report, TestStatus};

mod common;
use common::repo;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Converts `paths` as the CLI does with its root and base directory at `root` (where the
/// recording's project was: the JSON names files by absolute path).
fn convert(runner: JsRunner, paths: &[&str], root: &str) -> Report {
    let mut c = JestJsonCollector::new(runner);
    for p in paths {
        c.read(&read(p), p, 0.0, &Limits::default())
            .unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    let mut r = c.into_report(&common::meta(runner.name()), 0.0);
    relativize_paths(&mut r, Path::new(root), Path::new(root));
    // The samples' test files, as a checkout of the project tracks them.
    let files: Vec<String> = r.suites.iter().flatten().map(|s| s.title.clone()).collect();
    let repo = RepoFiles::new(files.iter().map(String::as_str));
    locate_errors(&mut r, |frame| repo.resolve(frame));
    common::assert_valid(&r);
    r
}

type Identity = (String, Vec<String>, String);

/// (file, suite path, title) → (statuses, expected statuses) of its attempts.
type Outcomes = BTreeMap<Identity, Vec<(TestStatus, TestStatus)>>;

fn outcomes(r: &Report) -> Outcomes {
    r.all_tests()
        .map(|t| {
            (
                (
                    t.file().unwrap_or_default().to_string(),
                    t.suite_path().iter().map(|s| s.to_string()).collect(),
                    t.test.title.clone(),
                ),
                t.test
                    .attempts
                    .iter()
                    .map(|a| (a.status(), a.expected_status.unwrap_or_default()))
                    .collect(),
            )
        })
        .collect()
}

/// The same of an official report, read as JSON (file from the test's location, else its file
/// suite's; suite path from the other suites' titles).
fn official_outcomes(path: &str) -> (Outcomes, BTreeMap<Identity, Vec<String>>) {
    let v: serde_json::Value = serde_json::from_slice(&read(path)).expect("JSON");
    let status = |s: &serde_json::Value| -> TestStatus {
        serde_json::from_value(s.clone()).unwrap_or_default()
    };
    let mut out = Outcomes::new();
    let mut tags = BTreeMap::new();
    let mut stack: Vec<(&serde_json::Value, Option<String>, Vec<String>)> = v["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s, None, Vec::new()))
        .collect();
    while let Some((s, file, path)) = stack.pop() {
        let title = s["title"].as_str().unwrap_or_default().to_string();
        let (file, path) = if s["type"] == "file" {
            let f = s["location"]["file"].as_str().unwrap_or(&title).to_string();
            (Some(f), path)
        } else {
            let mut p = path;
            p.push(title);
            (file, p)
        };
        for t in s["tests"].as_array().into_iter().flatten() {
            let f = t["location"]["file"]
                .as_str()
                .map(str::to_string)
                .or(file.clone())
                .unwrap_or_default();
            let id = (
                f,
                path.clone(),
                t["title"].as_str().unwrap_or_default().to_string(),
            );
            let attempts = t["attempts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| (status(&a["status"]), status(&a["expectedStatus"])))
                .collect();
            let mut tt: Vec<String> = t["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            tt.sort();
            tags.insert(id.clone(), tt);
            out.insert(id, attempts);
        }
        for c in s["suites"].as_array().into_iter().flatten() {
            stack.push((c, file.clone(), path.clone()));
        }
    }
    (out, tags)
}

fn tags(r: &Report) -> BTreeMap<Identity, Vec<String>> {
    r.all_tests()
        .map(|t| {
            let mut tags = t.test.tags.clone().unwrap_or_default();
            tags.sort();
            (
                (
                    t.file().unwrap_or_default().to_string(),
                    t.suite_path().iter().map(|s| s.to_string()).collect(),
                    t.test.title.clone(),
                ),
                tags,
            )
        })
        .collect()
}

fn id(file: &str, path: &[&str], title: &str) -> Identity {
    (
        file.to_string(),
        path.iter().map(|s| s.to_string()).collect(),
        title.to_string(),
    )
}

/// Jest: the same identities, tags, statuses and attempts as @flakiness/jest on the same run
/// (retries from `invocations` and `retryReasons`: the flaky test failed then passed, the
/// failing one failed three times; `test.failing` an expected failure; skip and todo skipped).
#[test]
fn jest_json_is_the_jest_reporters_report() {
    let input = "testdata/identity/jest/out/jest.json";
    assert_eq!(detect(&read(input)), Some(Format::JestJson));
    let r = convert(JsRunner::Jest, &[input], "/home/user/jest-sample");
    let (official, official_tags) =
        official_outcomes("testdata/identity/jest/out/official/report.json");
    assert_eq!(official.len(), 22);
    assert_eq!(outcomes(&r), official);
    let ours_tags: BTreeMap<_, _> = tags(&r)
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let official_tags: BTreeMap<_, _> = official_tags
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .collect();
    assert_eq!(ours_tags, official_tags);
    assert_eq!(
        ours_tags.keys().collect::<Vec<_>>(),
        [&id("tests/special.test.js", &[], "tagged test")]
    );
    assert_eq!(
        r.test_runner.as_ref().map(|t| t.name.as_str()),
        Some("jest")
    );
    // File suites are titled with the relative path, as the reporter titles them.
    let files: Vec<&str> = r
        .suites
        .iter()
        .flatten()
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(
        files,
        [
            "tests/status.test.js",
            "tests/basic.test.js",
            "tests/special.test.js",
            "tests/sub/deep.test.js"
        ]
    );
    // Errors: message the first line without `Error: `, the stack whole; each retry's reason.
    let always = r
        .all_tests()
        .find(|t| t.test.title == "always fails")
        .expect("always fails");
    for a in &always.test.attempts {
        let e = &a.errors.as_ref().expect("errors")[0];
        assert_eq!(
            e.message.as_deref(),
            Some("expect(received).toBe(expected) // Object.is equality")
        );
        assert!(e.stack.as_deref().is_some_and(
            |s| s.starts_with("Error: expect(received)") && s.contains("status.test.js:14:13")
        ));
    }
    let todo = r
        .all_tests()
        .find(|t| t.test.title == "todo test")
        .expect("todo");
    let a = &todo.test.attempts[0]
        .annotations
        .as_ref()
        .expect("annotations")[0];
    assert_eq!(a.kind, "fixme");
    assert_eq!(
        a.location.as_ref().map(|l| (l.file.as_str(), l.line)),
        Some(("tests/status.test.js", 27))
    );
}

/// Vitest: the same identities and tags as @flakiness/vitest on the same run; the attempts
/// too, but for `test.fails`, whose retries Vitest's JSON does not show (spec/convert-jest.md).
#[test]
fn vitest_json_is_the_vitest_reporters_report() {
    use TestStatus::*;
    let input = "testdata/identity/vitest/out/vitest.json";
    assert_eq!(detect(&read(input)), Some(Format::VitestJson));
    let r = convert(JsRunner::Vitest, &[input], "/home/user/vitest-sample");
    let (mut official, official_tags) =
        official_outcomes("testdata/identity/vitest/out/official/report.json");
    assert_eq!(official.len(), 23);
    // The official reporter writes `expectedStatus: skipped` on skipped attempts (ours: none).
    for v in official.values_mut() {
        for (s, e) in v.iter_mut() {
            if *s == Skipped {
                *e = Passed;
            }
        }
    }
    let fails = id("tests/status.test.js", &[], "expected to fail");
    assert_eq!(
        official.insert(fails.clone(), vec![(Passed, Passed)]),
        Some(vec![(Passed, Failed), (Passed, Failed), (Failed, Failed)])
    );
    assert_eq!(outcomes(&r), official);
    assert_eq!(
        outcomes(&r)[&id("tests/status.test.js", &[], "flaky passes on retry")],
        [(Failed, Passed), (Passed, Passed)]
    );
    assert_eq!(tags(&r), official_tags);
    assert_eq!(
        tags(&r)[&id("tests/special.test.js", &[], "tagged via option")],
        ["smoke"]
    );
    let todo = r
        .all_tests()
        .find(|t| t.test.title == "todo test")
        .expect("todo");
    assert_eq!(
        todo.test.attempts[0]
            .annotations
            .as_ref()
            .expect("annotations")[0]
            .kind,
        "todo"
    );
    let always = r
        .all_tests()
        .find(|t| t.test.title == "always fails")
        .expect("always fails");
    assert_eq!(always.test.attempts.len(), 3);
    let e = &always.test.attempts[0].errors.as_ref().expect("errors")[0];
    assert_eq!(
        e.location
            .as_ref()
            .map(|l| (l.file.as_str(), l.line, l.column)),
        Some(("tests/status.test.js", 15, 13))
    );
    assert_eq!(
        always.test.attempts[2].errors.as_ref().expect("errors")[0]
            .message
            .as_deref(),
        Some("expected 1 to be 2 // Object.is equality")
    );
}

fn attempts_of(r: &Report, path: &[&str], title: &str) -> Vec<flakiness_report::RunAttempt> {
    r.all_tests()
        .find(|t| t.test.title == title && t.suite_path() == path)
        .unwrap_or_else(|| panic!("{path:?} {title}"))
        .test
        .attempts
        .clone()
}

fn messages(a: &flakiness_report::RunAttempt) -> Vec<String> {
    a.errors
        .iter()
        .flatten()
        .map(|e| e.message.clone().unwrap_or_default())
        .collect()
}

fn is_inferred(a: &flakiness_report::RunAttempt) -> bool {
    a.annotations
        .iter()
        .flatten()
        .any(|x| x.kind == INFERRED_ANNOTATION)
}

/// Jest's edge cases: retries without logErrorsBeforeRetry (failed attempts without an error,
/// said inferred), a test title twice (one test, two attempts), `test.failing` that passed,
/// ANSI colours, two errors of one invocation, a file that did not run and one whose afterAll
/// broke (a failed test [`SUITE_FAILED_TITLE`] each).
#[test]
fn jest_edge_cases() {
    use TestStatus::*;
    let input = "testdata/inputs/jsjson/jest-edge.json";
    assert_eq!(detect(&read(input)), Some(Format::JestJson));
    let root = "/home/user/repo/testdata/projects/jsjson-sample/jest";
    let r = convert(JsRunner::Jest, &[input], root);
    let status = |path: &[&str], title: &str| -> Vec<TestStatus> {
        attempts_of(&r, path, title)
            .iter()
            .map(|a| a.status())
            .collect()
    };
    let flaky = attempts_of(&r, &[], "flaky without reasons");
    assert_eq!(
        status(&[], "flaky without reasons"),
        [Failed, Failed, Passed]
    );
    assert!(flaky[..2]
        .iter()
        .all(|a| a.errors.is_none() && is_inferred(a)));
    assert!(!is_inferred(&flaky[2]));
    // A title used twice in one file: two tests (Jest never writes a rerun as an entry).
    assert_eq!(status(&[], "same title"), [Passed]);
    assert_eq!(status(&[], "same title #2"), [Passed]);
    let failing = attempts_of(&r, &[], "failing that passes");
    assert_eq!(status(&[], "failing that passes"), [Passed, Passed, Passed]);
    assert!(failing
        .iter()
        .all(|a| a.expected_status == Some(Failed) && !a.is_expected()));
    assert!(messages(&failing[2])[0].starts_with("Failing test passed even though"));
    let coloured = attempts_of(&r, &[], "coloured error");
    assert_eq!(messages(&coloured[2]), ["red text"]);
    assert!(!coloured[2].errors.iter().flatten().any(|e| e
        .stack
        .as_deref()
        .unwrap_or_default()
        .contains('\x1b')));
    let hooks = attempts_of(&r, &["hooks"], "fails twice in one run");
    assert_eq!(hooks.len(), 3);
    assert_eq!(
        messages(&hooks[2]),
        [
            "expect(received).toBe(expected) // Object.is equality",
            "afterEach broke"
        ]
    );
    assert_eq!(
        status(&["setup fails"], "under a broken beforeAll"),
        [Failed]
    );
    // Files that failed without a failed test.
    let broken: Vec<_> = r
        .all_tests()
        .filter(|t| t.test.title == SUITE_FAILED_TITLE)
        .map(|t| {
            (
                t.file().unwrap_or_default().to_string(),
                messages(&t.test.attempts[0]),
            )
        })
        .collect();
    assert_eq!(
        broken,
        [
            (
                "tests/afterall.test.js".to_string(),
                vec!["afterAll broke".to_string()]
            ),
            (
                "tests/broken.test.js".to_string(),
                vec!["Jest encountered an unexpected token".to_string()]
            ),
        ]
    );
    assert_eq!(
        status(&[], "passes before a broken afterAll"),
        [Passed],
        "the test itself passed"
    );
    // No location without testLocationInResults: the file is the file suite's.
    assert!(r.all_tests().all(|t| t.test.location.is_none()));
}

/// Vitest's edge cases: two soft failures of one run stay one attempt, a test title twice,
/// `test.fails` (invisible in the JSON: an ordinary pass, or a failure when the body passed),
/// a describe whose beforeAll broke (its test skipped), files that did not load or whose
/// beforeAll broke (a failed test [`SUITE_FAILED_TITLE`] each).
#[test]
fn vitest_edge_cases() {
    use TestStatus::*;
    let input = "testdata/inputs/jsjson/vitest-edge.json";
    assert_eq!(detect(&read(input)), Some(Format::VitestJson));
    let root = "/home/user/repo/testdata/projects/jsjson-sample/vitest";
    let r = convert(JsRunner::Vitest, &[input], root);
    let status = |path: &[&str], title: &str| -> Vec<TestStatus> {
        attempts_of(&r, path, title)
            .iter()
            .map(|a| a.status())
            .collect()
    };
    // A title used twice in one file: two tests (Jest never writes a rerun as an entry).
    assert_eq!(status(&[], "same title"), [Passed]);
    assert_eq!(status(&[], "same title #2"), [Passed]);
    assert_eq!(status(&[], "fails that passes"), [Failed]);
    assert_eq!(status(&[], "fails that fails"), [Passed]);
    let soft = attempts_of(&r, &[], "two soft failures in one run");
    assert_eq!(soft.len(), 1);
    assert_eq!(
        messages(&soft[0]),
        [
            "expected 1 to be 2 // Object.is equality",
            "expected 3 to be 4 // Object.is equality"
        ]
    );
    assert_eq!(
        messages(&attempts_of(&r, &[], "coloured error")[0]),
        ["red text"]
    );
    assert_eq!(
        attempts_of(&r, &["hooks"], "fails twice in one run").len(),
        1
    );
    assert_eq!(
        status(&["setup fails"], "under a broken beforeAll"),
        [Skipped]
    );
    assert_eq!(status(&[], "skipped"), [Skipped]);
    assert_eq!(status(&[], "to do"), [Skipped]);
    let broken: BTreeSet<(String, Vec<String>)> = r
        .all_tests()
        .filter(|t| t.test.title == SUITE_FAILED_TITLE)
        .map(|t| {
            (
                t.file().unwrap_or_default().to_string(),
                messages(&t.test.attempts[0]),
            )
        })
        .collect();
    assert_eq!(
        broken,
        BTreeSet::from([
            (
                "tests/broken.test.js".to_string(),
                vec!["Failed to parse source for import analysis because the content contains invalid JS syntax. If you are using JSX, make sure to name the file with the .jsx or .tsx extension.".to_string()]
            ),
            (
                "tests/setup.test.js".to_string(),
                vec!["file beforeAll broke".to_string()]
            ),
            (
                "tests/throws.test.js".to_string(),
                vec!["thrown while collecting".to_string()]
            ),
        ])
    );
}

/// Paths relative to a `rootDir` the document gives; reruns of one test in two documents are
/// its attempts; a file marked failed without a word is a failed test said inferred.
#[test]
fn root_dir_reruns_and_a_silent_failed_file() {
    let doc = |status: &str| {
        format!(
            r#"{{"rootDir":"/ci/app","numTotalTests":1,"startTime":1700000000000,"testResults":[
              {{"name":"/ci/app/src/a.test.ts","status":"{status}","message":"","startTime":1700000000000,"endTime":1700000000100,
                "assertionResults":[{{"ancestorTitles":["outer @slow"],"title":"works @smoke","status":"{status}","duration":3,"failureMessages":[]}}]}},
              {{"name":"/ci/app/src/b.test.ts","status":"failed","message":"","assertionResults":[]}}]}}"#
        )
    };
    let mut c = JestJsonCollector::new(JsRunner::Jest);
    for (i, s) in ["failed", "passed"].iter().enumerate() {
        c.read(
            doc(s).as_bytes(),
            &format!("{i}.json"),
            0.0,
            &Limits::default(),
        )
        .expect("reads");
    }
    let meta = Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "jest".into(),
        env_name: "jest".into(),
        ..Metadata::default()
    };
    let r = c.into_report(&meta, 0.0);
    let o = outcomes(&r);
    use TestStatus::*;
    assert_eq!(
        o[&id("src/a.test.ts", &["outer @slow"], "works")],
        [(Failed, Passed), (Passed, Passed)]
    );
    let t = r
        .all_tests()
        .find(|t| t.test.title == "works")
        .expect("works");
    assert_eq!(
        t.test.tags.as_deref(),
        Some(&["slow".to_string(), "smoke".to_string()][..])
    );
    let silent = r
        .all_tests()
        .find(|t| t.test.title == SUITE_FAILED_TITLE)
        .expect("b");
    assert_eq!(silent.file(), Some("src/b.test.ts"));
    assert_eq!(silent.test.attempts.len(), 2, "one per document");
    assert!(silent
        .test
        .attempts
        .iter()
        .all(|a| a.errors.is_none() && is_inferred(a)));
}

/// What is not Jest's JSON is refused with a place.
#[test]
fn malformed_documents_are_refused_with_a_place() {
    let mut c = JestJsonCollector::new(JsRunner::Jest);
    let e = c
        .read(
            b"{\"testResults\": [\n  {\"name\": 3}\n]}",
            "x.json",
            0.0,
            &Limits::default(),
        )
        .expect_err("refused");
    assert_eq!((e.line, e.input.as_str()), (2, "x.json"), "{e}");
    let e = c
        .read(b"{\"numTotalTests\": 0}", "y.json", 0.0, &Limits::default())
        .expect_err("refused");
    assert!(e.message.contains("testResults"), "{e}");
    assert!(c
        .read(b"[1, 2]", "z.json", 0.0, &Limits::default())
        .is_err());
}

/// Detection: the other JSON formats are not taken for Jest's.
#[test]
fn other_json_is_not_jest_json() {
    for (path, format) in [
        (
            "testdata/inputs/pytest/json-report.json",
            Some(Format::PytestJsonReport),
        ),
        ("testdata/inputs/go/go-test.json", Some(Format::GoTestJson)),
        (
            "testdata/inputs/cargo/libtest.json",
            Some(Format::LibtestJson),
        ),
    ] {
        assert_eq!(detect(&read(path)), format, "{path}");
    }
    for path in [
        "testdata/inputs/mocha/mocha.json",
        "testdata/inputs/mocha/mochawesome.json",
    ] {
        assert!(
            !matches!(
                detect(&read(path)),
                Some(Format::JestJson | Format::VitestJson)
            ),
            "{path}"
        );
    }
}
