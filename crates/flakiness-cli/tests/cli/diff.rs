//! `flakiness diff A B` (spec/diff.md): two report directories built here, one test per
//! category in two environments; the text (a snapshot), the JSON, `--fail-on` and the exit
//! codes.

use std::path::Path;

use serde_json::{json, Value};

use super::{flakiness, stdout};

fn attempt(env: u32, status: &str, ms: u64, error: Option<&str>) -> Value {
    let mut a = json!({ "environmentIdx": env, "status": status, "duration": ms });
    if let Some(message) = error {
        a["errors"] = json!([{ "message": message }]);
    }
    a
}

fn test(title: &str, attempts: Vec<Value>) -> Value {
    json!({ "title": title, "attempts": attempts })
}

fn report(title: &str, commit: char, start: u64, tests: Vec<Value>) -> Value {
    json!({
        "category": "playwright",
        "commitId": commit.to_string().repeat(40),
        "title": title,
        "environments": [{ "name": "linux" }, { "name": "windows" }],
        "suites": [{
            "type": "file",
            "title": "tests/shop.spec.ts",
            "suites": [{ "type": "suite", "title": "cart", "tests": tests }],
        }],
        "startTimestamp": start,
        "duration": 60_000,
    })
}

fn write(dir: &Path, report: &Value) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_vec_pretty(report).expect("json"),
    )
    .expect("write");
}

/// A (the last green run, but for one failure) and B (this run) under `tmp`: in B, `adds an
/// item` fails on linux only, `removes an item` is fixed on linux (and 30 s → 0.2 s),
/// `applies a coupon` is flaky on linux (2 attempts), `pays by card` takes 300 ms → 900 ms on
/// linux (310 ms on windows), `old test` is gone, `new test` is new on windows, `broken`
/// still fails.
fn two_runs(tmp: &Path) -> (String, String) {
    let both = |t: &str, linux: Vec<Value>, windows_ms: u64| {
        let mut attempts = linux;
        attempts.push(attempt(1, "passed", windows_ms, None));
        test(t, attempts)
    };
    let a = report(
        "main #41",
        'a',
        1_718_640_000_000,
        vec![
            both("adds an item", vec![attempt(0, "passed", 120, None)], 130),
            both(
                "removes an item",
                vec![attempt(
                    0,
                    "timedOut",
                    30_000,
                    Some("TimeoutError: locator.click: Timeout 30000ms exceeded.\n  at cart.ts:4"),
                )],
                200,
            ),
            both(
                "applies a coupon",
                vec![attempt(0, "passed", 150, None)],
                150,
            ),
            both("pays by card", vec![attempt(0, "passed", 300, None)], 300),
            both("old test", vec![attempt(0, "passed", 50, None)], 50),
            test(
                "broken",
                vec![attempt(0, "failed", 10, Some("Error: broken since #40"))],
            ),
        ],
    );
    let b = report(
        "main #42",
        'b',
        1_718_726_400_000,
        vec![
            both(
                "adds an item",
                vec![attempt(
                    0,
                    "failed",
                    120,
                    Some("expect(received).toBe(expected)\n\nExpected: 2\nReceived: 1"),
                )],
                130,
            ),
            both(
                "removes an item",
                vec![attempt(0, "passed", 200, None)],
                200,
            ),
            both(
                "applies a coupon",
                vec![
                    attempt(0, "failed", 80, Some("Error: coupon service answered 503")),
                    attempt(0, "passed", 70, None),
                ],
                150,
            ),
            both("pays by card", vec![attempt(0, "passed", 900, None)], 310),
            test("new test", vec![attempt(1, "passed", 20, None)]),
            test(
                "broken",
                vec![attempt(0, "failed", 10, Some("Error: broken since #40"))],
            ),
        ],
    );
    let (da, db) = (tmp.join("a"), tmp.join("b"));
    write(&da, &a);
    write(&db, &b);
    (da.display().to_string(), db.display().to_string())
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|c| {
            format!(
                "{} [{}]",
                c["titlePath"]
                    .as_array()
                    .expect("titlePath")
                    .iter()
                    .map(|t| t.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" › "),
                c["environment"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn diff_prints_each_change_as_text_and_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = two_runs(tmp.path());

    let o = flakiness(&["diff", &a, &b]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = stdout(&o);
    for line in [
        "A: main #41 · commit aaaaaaaaaaaa · started 2024-06-17 16:00 UTC · 9 passed, 2 failed, 0 flaky, 0 skipped",
        "B: main #42 · commit bbbbbbbbbbbb · started 2024-06-18 16:00 UTC · 7 passed, 2 failed, 1 flaky, 0 skipped",
        "New failures (1)",
        "  tests/shop.spec.ts › cart › adds an item [linux]: passed → failed",
        "      expect(received).toBe(expected)",
        "Fixed (1)",
        "  tests/shop.spec.ts › cart › removes an item [linux]: failed → passed",
        "      TimeoutError: locator.click: Timeout 30000ms exceeded.",
        "Newly flaky (1)",
        "  tests/shop.spec.ts › cart › applies a coupon [linux]: passed → flaky (2 attempts, 1 failed)",
        "      Error: coupon service answered 503",
        "Slower by more than 20 % (1)",
        "  tests/shop.spec.ts › cart › pays by card [linux]: 300 ms → 900 ms (+200 %)",
        "Faster by more than 20 % (1)",
        "  tests/shop.spec.ts › cart › removes an item [linux]: 30.0 s → 200 ms (-99 %)",
        "Added (1)",
        "  tests/shop.spec.ts › cart › new test [windows]: passed",
        "Removed (2)",
        "  tests/shop.spec.ts › cart › old test [linux]: passed",
        "  tests/shop.spec.ts › cart › old test [windows]: passed",
        "1 new failure(s), 1 fixed, 1 newly flaky, 0 no longer flaky, 1 slower, 1 faster, 1 added, 2 removed; 1 still failing",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    // No empty section, and nothing else in the 20 % window: 300 → 310 ms on windows.
    assert!(!text.contains("No longer flaky"), "{text}");
    assert!(!text.contains("[windows]: 300 ms"), "{text}");
    // Beside the other snapshots of this test binary.
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!("diff_text", text);
    });

    let o = flakiness(&["diff", "--format", "json", &a, &b]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON");
    assert_eq!(names(&v["newFailures"]), ["cart › adds an item [linux]"]);
    assert_eq!(names(&v["fixed"]), ["cart › removes an item [linux]"]);
    assert_eq!(names(&v["newlyFlaky"]), ["cart › applies a coupon [linux]"]);
    assert_eq!(names(&v["noLongerFlaky"]), Vec::<String>::new());
    assert_eq!(names(&v["slower"]), ["cart › pays by card [linux]"]);
    assert_eq!(names(&v["faster"]), ["cart › removes an item [linux]"]);
    assert_eq!(names(&v["added"]), ["cart › new test [windows]"]);
    assert_eq!(
        names(&v["removed"]),
        ["cart › old test [linux]", "cart › old test [windows]"]
    );
    assert_eq!(v["stillFailing"], 1);
    let slower = &v["slower"][0];
    assert_eq!(slower["file"], "tests/shop.spec.ts");
    assert_eq!(slower["durationMsA"], 300);
    assert_eq!(slower["durationMsB"], 900);
    assert_eq!(slower["ratio"], 3.0);
    let flaky = &v["newlyFlaky"][0];
    assert_eq!(flaky["outcomeA"], "passed");
    assert_eq!(flaky["outcomeB"], "flaky");
    assert_eq!(flaky["attemptsB"], 2);
    assert_eq!(flaky["failedAttemptsB"], 1);
    assert_eq!(
        v["newFailures"][0]["error"],
        "expect(received).toBe(expected)"
    );
    assert!(v["added"][0]["outcomeA"].is_null());
    assert_eq!(v["a"]["title"], "main #41");
    assert_eq!(v["a"]["commitId"], "a".repeat(40));
    assert_eq!(v["b"]["startMs"], 1_718_726_400_000_i64);
    assert_eq!(
        v["b"]["totals"],
        json!({ "passed": 7, "failed": 2, "flaky": 1, "skipped": 0 })
    );
    assert_eq!(
        v["options"],
        json!({ "slowerPct": 20.0, "minDurationMs": 100 })
    );

    // Another threshold: 300 → 310 ms is more than 3 % slower; 30 s → 0.2 s is no longer
    // faster once 30 s is under the minimum duration.
    let o = flakiness(&["diff", "--format", "json", "--slower", "3", &a, &b]);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(
        names(&v["slower"]),
        [
            "cart › pays by card [linux]",
            "cart › pays by card [windows]"
        ]
    );
    let o = flakiness(&[
        "diff",
        "--format",
        "json",
        "--min-duration",
        "40000",
        &a,
        &b,
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["slower"], json!([]));
    assert_eq!(v["faster"], json!([]));
    let o = flakiness(&["diff", "--slower", "150", &a, &b]);
    assert!(
        stdout(&o).contains("Slower by more than 150 % (1)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn diff_fails_on_the_lists_asked_for() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = two_runs(tmp.path());
    for list in ["new-failures", "newly-flaky"] {
        let o = flakiness(&["diff", "--fail-on", list, &a, &b]);
        assert_eq!(o.status.code(), Some(6), "{list}");
        assert!(stdout(&o).contains("New failures (1)"), "still printed");
        // The same run twice: nothing new.
        let o = flakiness(&["diff", "--fail-on", list, &b, &b]);
        assert_eq!(o.status.code(), Some(0), "{list}");
    }
    // B to A: `adds an item` is fixed, `applies a coupon` no longer flaky, nothing new
    // fails but `removes an item`.
    let o = flakiness(&["diff", "--fail-on", "newly-flaky", &b, &a]);
    assert_eq!(o.status.code(), Some(0));
    let o = flakiness(&["diff", "--fail-on", "new-failures", &b, &a]);
    assert_eq!(o.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&o.stderr).contains("A started after B"));
}

#[test]
fn diff_caps_text_sections_not_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tests: Vec<Value> = (0..60)
        .map(|i| test(&format!("t{i:02}"), vec![attempt(0, "passed", 1, None)]))
        .collect();
    write(&tmp.path().join("a"), &report("a", 'a', 1, vec![]));
    write(&tmp.path().join("b"), &report("b", 'b', 2, tests));
    let (a, b) = (
        tmp.path().join("a").display().to_string(),
        tmp.path().join("b").display().to_string(),
    );
    let text = stdout(&flakiness(&["diff", &a, &b]));
    assert!(text.contains("Added (60)"), "{text}");
    assert_eq!(text.matches("[linux]: passed").count(), 50, "{text}");
    assert!(text.contains("  … and 10 more\n"), "{text}");
    assert!(text.contains("cart › t49 [linux]") && !text.contains("cart › t50 "));
    let v: Value = serde_json::from_str(&stdout(&flakiness(&["diff", "--format", "json", &a, &b])))
        .expect("JSON");
    assert_eq!(v["added"].as_array().map(Vec::len), Some(60));
}

#[test]
fn diff_reads_report_files_and_junit() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, _) = two_runs(tmp.path());
    // A bare report file, against itself: nothing changed.
    let file = format!("{a}/report.json");
    let o = flakiness(&["diff", &a, &file]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("0 new failure(s), 0 fixed"),
        "{}",
        stdout(&o)
    );
    // JUnit files: one run each.
    let junit = |name: &str, failure: &str| {
        let path = tmp.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"<testsuites><testsuite name="math" tests="2">
<testcase classname="math" name="adds" time="0.5"/>
<testcase classname="math" name="divides" time="0.2">{failure}</testcase>
</testsuite></testsuites>"#
            ),
        )
        .expect("write");
        path.display().to_string()
    };
    let green = junit("green.xml", "");
    let red = junit("red.xml", r#"<failure message="division by zero"/>"#);
    let o = flakiness(&["diff", "--format", "json", &green, &red]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["newFailures"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["newFailures"][0]["error"], "division by zero");
}

#[test]
fn diff_exit_codes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = two_runs(tmp.path());
    let code = |args: &[&str]| flakiness(args).status.code();
    // A path that cannot be read: 3.
    let missing = tmp.path().join("missing").display().to_string();
    assert_eq!(code(&["diff", &a, &missing]), Some(3));
    assert_eq!(code(&["diff", &missing, &b]), Some(3));
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    assert_eq!(code(&["diff", &a, &empty.display().to_string()]), Some(3));
    // An invalid report: 1, with its first problem on stderr.
    let bad = tmp.path().join("bad");
    let mut invalid = report("bad", 'c', 3, vec![]);
    invalid["commitId"] = json!(7);
    write(&bad, &invalid);
    let o = flakiness(&["diff", &a, &bad.display().to_string()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid report") && err.contains("commitId"),
        "{err}"
    );
    // Unreadable wins over invalid (the highest code).
    assert_eq!(
        code(&["diff", &bad.display().to_string(), &missing]),
        Some(3)
    );
    // Bad flags: 2.
    for args in [
        &["diff", "--slower=-5", &a, &b][..],
        &["diff", "--slower", "-5", &a, &b],
        &["diff", "--slower", "NaN", &a, &b],
        &["diff", "--slower", "fast", &a, &b],
        &["diff", "--min-duration", "-1", &a, &b],
        &["diff", "--format", "xml", &a, &b],
        &["diff", "--fail-on", "slower", &a, &b],
        &["diff", &a],
    ] {
        assert_eq!(code(args), Some(2), "{args:?}");
    }
    // A folder of two runs is not one run: 2.
    assert_eq!(
        code(&["diff", &tmp.path().display().to_string(), &b]),
        Some(2)
    );
}
