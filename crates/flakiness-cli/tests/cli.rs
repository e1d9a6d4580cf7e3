//! The `flakiness` binary end to end: output snapshots, exit codes, bad paths.

use flakiness_report::TestStatus;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "cli/action.rs"]
mod action;
#[path = "cli/diff.rs"]
mod diff;
#[path = "cli/dorny.rs"]
mod dorny;
#[path = "cli/download.rs"]
mod download;
#[path = "cli/help.rs"]
mod help;
#[path = "cli/identity.rs"]
mod identity;
#[path = "cli/outputs.rs"]
mod outputs;
#[path = "cli/replicas.rs"]
mod replicas;
#[path = "cli/shard.rs"]
mod shard;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn flakiness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run flakiness")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let o = flakiness(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let committed = fs::read_to_string(repo().join("schemas/report.schema.json")).expect("schema");
    assert!(
        stdout(&o) == committed,
        "`flakiness schema` differs from schemas/report.schema.json"
    );
}

#[test]
fn json_output_over_all_fixtures() {
    let o = flakiness(&[
        "validate",
        "--format",
        "json",
        "testdata/reports",
        "testdata/malformed",
    ]);
    assert_eq!(o.status.code(), Some(1), "some fixtures are invalid");
    let out = stdout(&o);
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is JSON");
    let reports = v["reports"].as_array().expect("reports");
    assert!(reports.len() >= 60);
    for r in reports {
        for key in ["path", "valid", "schemaValid", "errors", "warnings"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        for p in r["errors"].as_array().expect("errors") {
            for key in ["path", "line", "column", "message", "rule"] {
                assert!(p.get(key).is_some(), "{key} missing in {p}");
            }
        }
    }
    insta::assert_snapshot!("validate_json_all_fixtures", out);
}

#[test]
fn jsonschema_engine_gives_the_same_verdicts() {
    let verdicts = |engine: &str| {
        let o = flakiness(&[
            "validate",
            "--format",
            "json",
            "--engine",
            engine,
            "testdata/reports",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        v["reports"]
            .as_array()
            .expect("reports")
            .iter()
            .map(|r| {
                (
                    r["path"].to_string(),
                    r["valid"].clone(),
                    r["schemaValid"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts("stream"), verdicts("jsonschema"));
}

#[test]
fn human_output() {
    let o = flakiness(&[
        "validate",
        "testdata/reports/valid/minimal.json",
        "testdata/reports/invalid-schema/status-unknown-value.json",
        "testdata/reports/warnings/several-warnings",
    ]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("validate_human", stdout(&o));
}

#[test]
fn exit_codes() {
    let valid = flakiness(&["validate", "testdata/reports/valid"]);
    assert_eq!(valid.status.code(), Some(0), "{}", stdout(&valid));
    let warnings = flakiness(&["validate", "testdata/reports/warnings"]);
    assert_eq!(warnings.status.code(), Some(0));
    let strict = flakiness(&["validate", "--strict", "testdata/reports/warnings"]);
    assert_eq!(strict.status.code(), Some(1));
    let invalid = flakiness(&["validate", "testdata/reports/invalid-semantic"]);
    assert_eq!(invalid.status.code(), Some(1));
    let usage = flakiness(&["validate", "--format", "yaml", "x"]);
    assert_eq!(usage.status.code(), Some(2));
    let no_path = flakiness(&["validate"]);
    assert_eq!(no_path.status.code(), Some(2));
    let missing = flakiness(&["validate", "does/not/exist"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does/not/exist"));
    // I/O beats invalid when both happen.
    let both = flakiness(&[
        "validate",
        "testdata/reports/invalid-semantic",
        "does/not/exist",
    ]);
    assert_eq!(both.status.code(), Some(3));
}

#[test]
fn unreadable_paths_are_io_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    // report.json that is a directory.
    let dir_report = tmp.path().join("a");
    fs::create_dir_all(dir_report.join("report.json")).expect("mkdir");
    // A report.json that is a dangling symlink: exists in the listing, cannot be read.
    let dangling = tmp.path().join("b");
    fs::create_dir_all(&dangling).expect("mkdir");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), dangling.join("report.json"))
        .expect("symlink");
    // A folder with no report at all.
    let empty = tmp.path().join("c");
    fs::create_dir_all(&empty).expect("mkdir");
    for path in [&dir_report, &dangling.join("report.json"), &empty] {
        let o = flakiness(&[
            "validate",
            "--format",
            "json",
            path.to_str().expect("utf-8"),
        ]);
        assert_eq!(o.status.code(), Some(3), "{}", path.display());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert!(v["reports"][0]["ioError"].is_string(), "{v}");
        assert!(!o.stderr.is_empty());
    }
}

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn convert_writes_a_valid_report_directory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    let o = flakiness(&[
        "convert",
        "testdata/junit/surefire-reruns.xml",
        "testdata/junit/gotestsum-reruns.xml",
        "--commit-id",
        SHA,
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.stdout.is_empty(), "logs go to stderr");
    let v = flakiness(&["validate", "--strict", out.to_str().expect("utf-8")]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let report = flakiness_report::read_report_dir(&out).expect("readable");
    assert_eq!(report.report.commit_id, SHA);
    assert_eq!(
        report.report.all_tests().count(),
        6,
        "both inputs merged into one report"
    );
}

#[test]
fn convert_refuses_bad_input_without_writing_anything() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    for (input, code) in [
        ("testdata/junit/truncated.xml", 4),
        ("testdata/junit/html.xml", 4),
        ("testdata/junit/empty.xml", 4),
        ("testdata/junit/attachments/outside-relative.xml", 4),
        ("testdata/junit/attachments/outside-absolute.xml", 4),
        ("testdata/junit/missing.xml", 3),
    ] {
        let o = flakiness(&[
            "convert",
            input,
            "--commit-id",
            SHA,
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        assert_eq!(o.status.code(), Some(code), "{input}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(input.rsplit('/').next().expect("name")),
            "{input}: {err}"
        );
        assert!(!out.exists(), "{input}: partial output");
        assert_eq!(
            fs::read_dir(tmp.path()).expect("ls").count(),
            0,
            "{input}: temp dirs left"
        );
    }
    let bad_sha = flakiness(&[
        "convert",
        "testdata/junit/gotestsum-reruns.xml",
        "--commit-id",
        "abc",
        "-o",
        "x",
    ]);
    assert_eq!(bad_sha.status.code(), Some(2));

    // A directory that is not a report directory is never replaced.
    let precious = tmp.path().join("precious");
    fs::create_dir(&precious).expect("mkdir");
    fs::write(precious.join("notes.txt"), "mine").expect("write");
    let o = flakiness(&[
        "convert",
        "testdata/junit/gotestsum-reruns.xml",
        "--commit-id",
        SHA,
        "-o",
        precious.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        fs::read_to_string(precious.join("notes.txt")).expect("kept"),
        "mine"
    );
}

fn convert_ok(args: &[&str], out: &Path) -> (flakiness_report::ReportDir, String) {
    let mut all = vec![
        "convert",
        "--commit-id",
        SHA,
        "-o",
        out.to_str().expect("utf-8"),
    ];
    all.extend_from_slice(args);
    let o = flakiness(&all);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    let v = flakiness(&["validate", "--strict", out.to_str().expect("utf-8")]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    (
        flakiness_report::read_report_dir(out).expect("readable"),
        err,
    )
}

#[test]
fn convert_copies_attachments_and_warns_about_missing_ones() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    let (dir, err) = convert_ok(&["testdata/junit/attachments/junit.xml"], &out);
    let ids: Vec<String> = dir
        .report
        .all_tests()
        .flat_map(|t| t.test.attempts.iter())
        .flat_map(|a| a.attachments.iter().flatten())
        .map(|a| a.id.clone())
        .collect();
    assert!(ids.len() >= 2, "{ids:?}");
    let png = fs::read(repo().join("testdata/junit/attachments/screenshots/cart-failed.png"))
        .expect("png");
    let png_id = flakiness_report::attachment_id_for(&png);
    assert!(ids.contains(&png_id), "{ids:?}");
    for id in &ids {
        let copied = fs::read(out.join("attachments").join(id)).expect("copied");
        assert_eq!(&flakiness_report::attachment_id_for(&copied), id);
    }
    for missing in ["missing.png", "gone.png"] {
        assert!(
            err.contains("warning") && err.contains(missing),
            "{missing}: {err}"
        );
    }
    assert!(
        err.contains("junit.xml:"),
        "warnings name the file and line: {err}"
    );
}

/// TRX (issue 16): a `ResultFile` is copied into `attachments/`, a missing one is a warning;
/// a rerun's two documents are one run whose flaky test has two attempts.
#[test]
fn convert_reads_trx_result_files_and_reruns() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("mstest");
    let (dir, err) = convert_ok(&["testdata/inputs/trx/mstest.trx"], &out);
    assert!(
        err.contains("warning") && err.contains("missing.log"),
        "{err}"
    );
    let t = dir
        .report
        .all_tests()
        .find(|t| t.test.title == "WritesOutput")
        .expect("test");
    let id = &t.test.attempts[0]
        .attachments
        .as_ref()
        .expect("attachments")[0]
        .id;
    assert!(out.join("attachments").join(id).is_file());
    let out = tmp.path().join("rerun");
    let (dir, _) = convert_ok(
        &[
            "testdata/inputs/trx/rerun-1.trx",
            "testdata/inputs/trx/rerun-2.trx",
        ],
        &out,
    );
    let flaky: Vec<_> = dir
        .report
        .all_tests()
        .filter(|t| t.test.is_flaky())
        .collect();
    assert_eq!(flaky.len(), 1);
    assert_eq!(flaky[0].test.title, "SavesOrder");
    assert_eq!(
        dir.report.unattributed_errors.as_ref().map(Vec::len),
        Some(1)
    );
}

#[test]
fn convert_reads_every_format_and_names_the_runner() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (input, category, runner) in [
        ("testdata/inputs/pytest/reportlog.jsonl", "pytest", "pytest"),
        (
            "testdata/inputs/pytest/json-report.json",
            "pytest",
            "pytest",
        ),
        ("testdata/inputs/pytest/junit-xunit2.xml", "junit", "pytest"),
        ("testdata/inputs/cargo/cargo-test.txt", "cargo", "libtest"),
        ("testdata/inputs/cargo/libtest.json", "cargo", "libtest"),
        (
            "testdata/inputs/cargo/nextest-junit.xml",
            "junit",
            "nextest",
        ),
        ("testdata/inputs/gtest/gtest.json", "gtest", "gtest"),
        ("testdata/inputs/dart/dart-test.json", "dart", "dart"),
        (
            "testdata/inputs/dart/dart-test-interrupted.json",
            "dart",
            "dart",
        ),
        ("testdata/inputs/catch2/catch2-v2.xml", "catch2", "catch2"),
        ("testdata/inputs/catch2/catch2-v3.xml", "catch2", "catch2"),
        ("testdata/inputs/nunit/nunit2-run1.xml", "nunit", "nunit"),
        (
            "testdata/inputs/nunit/nunit3-handwritten.xml",
            "nunit",
            "nunit",
        ),
        ("testdata/inputs/trx/mstest.trx", "dotnet", "mstest"),
        ("testdata/inputs/trx/jest-trx.trx", "dotnet", "dotnet"),
        ("testdata/identity/jest/out/jest.json", "jest", "jest"),
        (
            "testdata/identity/vitest/out/vitest.json",
            "vitest",
            "vitest",
        ),
    ] {
        let out = tmp.path().join(input.replace('/', "_"));
        let (dir, _) = convert_ok(&[input], &out);
        let r = &dir.report;
        assert_eq!(r.category, category, "{input}");
        assert_eq!(
            r.test_runner.as_ref().map(|t| t.name.as_str()),
            Some(runner),
            "{input}"
        );
        if category == "dotnet" {
            // No official .NET reporter: the environment is named after the category.
            assert_eq!(r.environments[0].name, "dotnet", "{input}");
        }
        assert!(r.all_tests().count() >= 5, "{input}");
        let sys = r.environments[0].system_data.as_ref().expect("systemData");
        assert!(sys.os_name.is_some() && sys.os_arch.is_some(), "{input}");
        if cfg!(target_os = "linux") {
            assert!(sys.os_version.is_some(), "{input}");
        }
    }
}

/// Dart's and Flutter's JSON (issue 16): category `dart`; flutter's stream names its
/// environment and runner `flutter`; `--from flutter-json` is the same reader.
#[test]
fn convert_reads_dart_and_flutter_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (args, env, tests) in [
        (&["testdata/inputs/dart/dart-test.json"][..], "dart", 10),
        (
            &[
                "testdata/inputs/dart/flutter-machine.json",
                "--from",
                "flutter-json",
            ][..],
            "flutter",
            2,
        ),
    ] {
        let out = tmp.path().join(args[0].replace('/', "_"));
        let (dir, _) = convert_ok(args, &out);
        let r = &dir.report;
        assert_eq!(r.category, "dart", "{args:?}");
        assert_eq!(r.environments[0].name, env, "{args:?}");
        assert_eq!(
            r.test_runner.as_ref().map(|t| t.name.as_str()),
            Some(env),
            "{args:?}"
        );
        assert_eq!(r.all_tests().count(), tests, "{args:?}");
    }
}

/// RSpec's and Mocha's JSON (issue 16): detected, their category and environment named after
/// the runner, RSpec's `--only-failures` pair one run of two attempts, paths from the base
/// directory and errors located from their stacks.
#[test]
fn convert_reads_rspec_and_mocha_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    let in_git = repo_in_git();
    for (inputs, base, category, tests) in [
        (
            &[
                "testdata/inputs/rspec/rspec-only-failures-run1.json",
                "testdata/inputs/rspec/rspec-only-failures-run2.json",
            ][..],
            "testdata/projects/rspec-sample",
            "rspec",
            22,
        ),
        (
            &["testdata/inputs/mocha/mocha-json-stdout.txt"][..],
            "testdata/projects/mocha-sample",
            "mocha",
            15,
        ),
        (
            &["testdata/inputs/mocha/mochawesome.json"][..],
            "testdata/projects/mocha-sample",
            "mocha",
            18,
        ),
    ] {
        let out = tmp.path().join(inputs[0].replace('/', "_"));
        let mut args = inputs.to_vec();
        args.extend(["--base-dir", base]);
        let (dir, _) = convert_ok(&args, &out);
        let r = &dir.report;
        assert_eq!(r.category, category, "{inputs:?}");
        assert_eq!(r.environments[0].name, category, "{inputs:?}");
        assert_eq!(
            r.test_runner.as_ref().map(|t| t.name.as_str()),
            Some(category)
        );
        assert_eq!(r.all_tests().count(), tests, "{inputs:?}");
        if category == "rspec" {
            let flaky = r
                .all_tests()
                .find(|t| t.test.title == "is flaky")
                .expect("flaky");
            assert!(flaky.test.is_flaky());
            let want = if in_git {
                "testdata/projects/rspec-sample/spec/outcomes_spec.rb"
            } else {
                "spec/outcomes_spec.rb"
            };
            assert_eq!(flaky.file(), Some(want));
        }
        if in_git {
            let located = r
                .all_tests()
                .flat_map(|t| t.test.attempts.iter())
                .flat_map(|a| a.errors.iter().flatten())
                .filter_map(|e| e.location.as_ref())
                .filter(|l| l.file.starts_with(base))
                .count();
            assert!(located > 0, "{inputs:?}");
        }
    }
}

/// Whether the repository is a git checkout (stack frames are then matched to tracked files).
fn repo_in_git() -> bool {
    Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(repo())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Relative paths are taken from --base-dir and made relative to the git root; errors get the
/// first stack frame that names a tracked file.
#[test]
fn convert_makes_paths_relative_to_the_git_root() {
    let tmp = tempfile::tempdir().expect("tmp");
    let in_git = repo_in_git();
    let want = if in_git {
        "testdata/projects/pytest-sample/tests/test_basic.py"
    } else {
        "tests/test_basic.py"
    };
    for input in [
        "testdata/inputs/pytest/reportlog.jsonl",
        "testdata/inputs/pytest/junit-xunit1.xml",
    ] {
        let out = tmp.path().join(input.replace('/', "_"));
        let (dir, _) = convert_ok(
            &[input, "--base-dir", "testdata/projects/pytest-sample"],
            &out,
        );
        let files: Vec<String> = dir
            .report
            .all_tests()
            .filter_map(|t| t.file().map(str::to_string))
            .collect();
        assert!(files.iter().any(|f| f == want), "{input}: {files:?}");
        assert!(
            files
                .iter()
                .all(|f| !f.starts_with('/') && !f.contains('\\')),
            "{input}: {files:?}"
        );
        if in_git {
            let located: Vec<String> = dir
                .report
                .all_tests()
                .flat_map(|t| t.test.attempts.iter())
                .flat_map(|a| a.errors.iter().flatten())
                .filter_map(|e| e.location.as_ref().map(|l| l.file.clone()))
                .collect();
            assert!(
                located
                    .iter()
                    .any(|f| f.starts_with("testdata/projects/pytest-sample/tests/")),
                "{input}: {located:?}"
            );
        }
    }
}

/// GoogleTest and Catch2 give test locations and `file:line` stacks: from where the binary
/// ran, both become paths of the repository, and each failure is located at its assertion.
#[test]
fn convert_locates_cpp_failures_at_their_assertions() {
    let tmp = tempfile::tempdir().expect("tmp");
    let in_git = repo_in_git();
    let source = |name: &str| {
        if in_git {
            format!("testdata/projects/cpp-sample/{name}")
        } else {
            name.to_string()
        }
    };
    for (input, source, test, lines) in [
        (
            "testdata/inputs/gtest/gtest.json",
            source("gtest_sample.cpp"),
            "ExpectEqFails",
            vec![15, 16],
        ),
        (
            "testdata/inputs/gtest/gtest-repeat.json",
            source("gtest_sample.cpp"),
            "AssertStops",
            vec![20],
        ),
        (
            "testdata/inputs/catch2/catch2-v3.xml",
            source("catch2_sample.cpp"),
            "check failures continue",
            vec![29, 30],
        ),
        (
            "testdata/inputs/catch2/catch2-v2.xml",
            source("catch2_sample.cpp"),
            "nested sections",
            vec![38],
        ),
    ] {
        let out = tmp.path().join(input.replace('/', "_"));
        let (dir, err) = convert_ok(&[input, "--base-dir", "testdata/projects/cpp-sample"], &out);
        assert!(!err.contains("warning"), "{input}: {err}");
        assert_eq!(dir.report.environments[0].name, dir.report.category);
        let t = dir
            .report
            .all_tests()
            .find(|t| t.test.title == test)
            .unwrap_or_else(|| panic!("{input}: {test}"));
        assert_eq!(t.file(), Some(source.as_str()), "{input}");
        if in_git {
            let located: Vec<(String, i64)> = t.test.attempts[0]
                .errors
                .iter()
                .flatten()
                .filter_map(|e| e.location.as_ref().map(|l| (l.file.clone(), l.line)))
                .collect();
            let want: Vec<(String, i64)> = lines.iter().map(|l| (source.clone(), *l)).collect();
            assert_eq!(located, want, "{input}");
        }
    }
}

/// A Catch2 XML with a DOCTYPE (external entity, billion laughs) is refused with exit 4 and
/// no output; XML that is neither Catch2's nor JUnit's is still refused by the JUnit reader;
/// GoogleTest and Catch2 inputs are not one run.
#[test]
fn convert_refuses_catch2_entities_and_mixed_cpp_formats() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    let xxe = tmp.path().join("xxe.xml");
    fs::write(
        &xxe,
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Catch2TestRun [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<Catch2TestRun name=\"t\"><TestCase name=\"&x;\"><OverallResult success=\"true\"/></TestCase></Catch2TestRun>\n",
    )
    .expect("write");
    let html = tmp.path().join("page.xml");
    fs::write(
        &html,
        "<!-- saved --><!DOCTYPE html>\n<html><body/></html>\n",
    )
    .expect("write");
    for (input, want) in [
        (&xxe, "xxe.xml:2:1: a DOCTYPE is refused"),
        (&html, "root element is <html>"),
    ] {
        let o = flakiness(&[
            "convert",
            input.to_str().expect("utf-8"),
            "--commit-id",
            SHA,
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{err}");
        assert!(err.contains(want), "{err}");
        assert!(!out.exists());
    }
    let o = flakiness(&[
        "convert",
        "testdata/inputs/gtest/gtest.json",
        "testdata/inputs/catch2/catch2-v2.xml",
        "--commit-id",
        SHA,
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}

/// JUnit root suites are written as they are read, with their paths and error locations
/// resolved like the rest; a root suite that comes back in a later file makes the command read
/// everything again, so that its tests still merge.
#[test]
fn convert_streams_junit_suites_and_merges_a_suite_that_comes_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let in_git = repo_in_git();
    let doc = |suite: &str, fail: bool| {
        let body = if fail {
            "<failure message=\"boom\">Traceback (most recent call last):\n  File \"/ci/work/testdata/projects/pytest-sample/tests/test_basic.py\", line 7, in test_t\nAssertionError</failure>"
        } else {
            ""
        };
        format!(
            r#"<testsuites><testsuite name="{suite}" file="/ci/elsewhere/{suite}.py"><testcase classname="{suite}" name="t">{body}</testcase></testsuite></testsuites>"#
        )
    };
    let write = |name: &str, text: String| {
        let p = tmp.path().join(name);
        fs::write(&p, text).expect("write");
        p.to_str().expect("utf-8").to_string()
    };
    let a = write("a.xml", doc("pkg.A", true));
    let b = write("b.xml", doc("pkg.B", false));
    let a2 = write("a2.xml", doc("pkg.A", false));

    for (inputs, want_attempts) in [
        (vec![a.clone(), b.clone()], vec![TestStatus::Failed]),
        (vec![a, b, a2], vec![TestStatus::Failed, TestStatus::Passed]),
    ] {
        let out = tmp.path().join(format!("out{}", inputs.len()));
        let args: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let (dir, err) = convert_ok(&args, &out);
        assert!(err.contains("(2 tests from"), "{err}");
        let r = &dir.report;
        let titles: Vec<&str> = r
            .suites
            .iter()
            .flatten()
            .map(|s| s.title.as_str())
            .collect();
        assert_eq!(titles, ["pkg.A", "pkg.B"]);
        let t = r
            .all_tests()
            .find(|t| t.suites[0].title == "pkg.A")
            .expect("pkg.A");
        let statuses: Vec<_> = t.test.attempts.iter().map(|a| a.status()).collect();
        assert_eq!(statuses, want_attempts);
        if in_git {
            let e = &t.test.attempts[0].errors.as_ref().expect("errors")[0];
            let l = e.location.as_ref().expect("located from the stack");
            assert_eq!(
                (l.file.as_str(), l.line),
                ("testdata/projects/pytest-sample/tests/test_basic.py", 7)
            );
        }
    }
}

/// `flakiness convert a.xml b.xml` of two pytest junitxml files of the same tests (two runs,
/// or shards that overlap): the files are not reruns of each other. A test that passed in both
/// passed; each file's own reruns (pytest-rerunfailures' empty testcases) stay in that file.
#[test]
fn convert_pytest_junit_files_of_the_same_tests_invents_no_flakes() {
    use TestStatus::{Failed as F, Passed as P};
    let tmp = tempfile::tempdir().expect("tmp");
    let recording =
        fs::read(repo().join("testdata/inputs/pytest/junit-xunit1.xml")).expect("input");
    let mut args = Vec::new();
    for name in ["a.xml", "b.xml"] {
        let p = tmp.path().join(name);
        fs::write(&p, &recording).expect("write");
        args.push(p.to_str().expect("utf-8").to_string());
    }
    let out = tmp.path().join("report");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (dir, _) = convert_ok(&args, &out);
    let statuses = |title: &str| -> Vec<TestStatus> {
        let t = dir
            .report
            .all_tests()
            .find(|t| t.test.title == title)
            .unwrap_or_else(|| panic!("{title}"));
        t.test.attempts.iter().map(|a| a.status()).collect()
    };
    assert_eq!(statuses("test_passes"), [P, P]);
    assert_eq!(statuses("TestMath::test_add"), [P, P]);
    assert_eq!(statuses("test_flaky"), [F, P, F, P]);
    assert_eq!(statuses("test_fails"), [F, F, F, F, F, F]);
    // Their failures are not known: no message stands for them.
    let invented = dir
        .report
        .all_tests()
        .flat_map(|t| {
            t.test
                .attempts
                .iter()
                .flat_map(|a| a.errors.iter().flatten())
        })
        .filter_map(|e| e.message.as_deref())
        .find(|m| m.contains("does not record why"));
    assert_eq!(invented, None);

    // Analyzed, the attempts whose failure nobody recorded give no signature and no pattern.
    let db = tmp.path().join("history.db");
    let o = flakiness(&[
        "analyze",
        out.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let flaky = v["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .find(|t| t["titlePath"].as_array().and_then(|p| p.last()) == Some(&"test_flaky".into()))
        .expect("test_flaky");
    assert_eq!(flaky["signatures"], serde_json::json!([]), "{flaky}");
    let text = v["patterns"].to_string() + &v["tests"].to_string();
    assert!(
        !text.contains("(no message)") && !text.contains("rerun:"),
        "{text}"
    );
}

#[test]
fn convert_reads_stdin() {
    use std::io::Write;
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["convert", "-", "--commit-id", SHA, "-o"])
        .arg(&out)
        .current_dir(repo())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let text = fs::read(repo().join("testdata/inputs/cargo/cargo-test.txt")).expect("input");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&text)
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = flakiness_report::read_report_dir(&out)
        .expect("report")
        .report;
    assert_eq!(r.category, "cargo");
    assert!(r.all_tests().count() >= 5);
}

/// pytest's `record_property("attachment", path)`: the path is relative to the directory pytest
/// ran in (--base-dir), and the file is copied.
#[test]
fn convert_copies_pytest_property_attachments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    let (dir, _) = convert_ok(
        &[
            "testdata/inputs/pytest/extra-reportlog.jsonl",
            "--base-dir",
            "testdata/projects/pytest-sample",
        ],
        &out,
    );
    let log = fs::read(repo().join("testdata/projects/pytest-sample/extra/artifacts/log.txt"))
        .expect("artifact");
    let id = flakiness_report::attachment_id_for(&log);
    let test = dir
        .report
        .all_tests()
        .find(|t| t.test.title == "test_attachment_property")
        .expect("test");
    let attached = test.test.attempts[0]
        .attachments
        .as_ref()
        .expect("attachments");
    assert!(
        attached.iter().any(|a| a.id == id && a.name == "log.txt"),
        "{attached:?}"
    );
    assert_eq!(
        fs::read(out.join("attachments").join(&id)).expect("copied"),
        log
    );

    // From another directory the relative path names no file: a warning, no attachment.
    let out2 = tmp.path().join("report2");
    let (dir2, err) = convert_ok(&["testdata/inputs/pytest/extra-reportlog.jsonl"], &out2);
    assert!(err.contains("warning") && err.contains("log.txt"), "{err}");
    assert!(dir2
        .report
        .all_tests()
        .flat_map(|t| t.test.attempts.iter())
        .all(|a| a.attachments.is_none()));
}

/// `analyze` over the report fixtures: ingest once, every output format, `--fail-on`, a store
/// that is not ours, invalid reports listed and skipped.
#[test]
fn analyze_ingests_once_and_prints_every_format() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("store/history.db");
    let db_arg = db.to_str().expect("utf-8");
    let run = |extra: &[&str]| {
        let mut args = vec!["analyze", "testdata/reports/valid", "--db", db_arg];
        args.extend_from_slice(extra);
        flakiness(&args)
    };
    let first = run(&["--format", "json"]);
    assert_eq!(first.status.code(), Some(0));
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(
        err.contains("21 new run(s), 0 already stored, 0 skipped"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json");
    assert_eq!(v["runs"], 21);
    let flaky: Vec<&serde_json::Value> = v["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter(|t| t["classification"] == "flaky")
        .collect();
    assert_eq!(flaky.len(), 3, "{v}");
    assert!(flaky.iter().all(|t| t["evidence"]["retryFlakes"] == 1));

    let again = run(&["--fail-on", "flaky"]);
    assert_eq!(again.status.code(), Some(6), "--fail-on flaky finds them");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("0 new run(s), 21 already stored"), "{err}");
    let human = stdout(&again);
    assert!(human.starts_with("21 runs, "), "{human}");
    assert!(human.contains("retry flake"), "{human}");
    assert_eq!(run(&["--fail-on", "broken"]).status.code(), Some(0));

    let md = stdout(&run(&["--format", "markdown"]));
    assert!(md.starts_with("## Flaky test analysis"), "{md}");
    assert!(md.contains("| flaky |"), "{md}");

    let gh = stdout(&run(&["--format", "github"]));
    let warnings: Vec<&str> = gh.lines().filter(|l| l.starts_with("::warning ")).collect();
    assert_eq!(warnings.len(), 3, "{gh}");
    assert!(warnings.iter().any(|w| w
        .starts_with("::warning file=tests/checkout/cart.spec.ts,title=Flaky test [firefox]::")));

    // Invalid reports are listed and skipped; the analysis goes on with the valid ones.
    let bad = flakiness(&[
        "analyze",
        "testdata/reports/invalid-schema",
        "testdata/reports/valid",
        "--db",
        db_arg,
    ]);
    assert_eq!(bad.status.code(), Some(0));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("skipped ") && err.contains("invalid report: "),
        "{err}"
    );
    // When every input is skipped there is nothing to analyze: exit 9, even over a store that
    // holds runs from before.
    let all_bad = flakiness(&["analyze", "testdata/reports/invalid-schema", "--db", db_arg]);
    assert_eq!(all_bad.status.code(), Some(9));
    let err = String::from_utf8_lossy(&all_bad.stderr);
    assert!(
        err.contains("nothing to analyze: every one of the") && err.contains("was skipped"),
        "{err}"
    );
    assert!(all_bad.stdout.is_empty());

    // Not our file: refused, untouched.
    let other = tmp.path().join("notes.db");
    fs::write(&other, "plain text, not a database at all, long enough").expect("write");
    let o = flakiness(&["analyze", "--db", other.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a flakiness history store"));
    assert_eq!(
        fs::read_to_string(&other).expect("read"),
        "plain text, not a database at all, long enough"
    );
}

/// `analyze` on nothing fails (exit 9, a message saying what), never "0 runs" and exit 0.
#[test]
fn analyze_on_nothing_fails() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("history.db");
    let db = db.to_str().expect("utf-8");
    // A folder with no report in it (an artifact path that matched nothing useful).
    let empty = tmp.path().join("artifacts");
    fs::create_dir_all(empty.join("logs")).expect("mkdir");
    fs::write(empty.join("logs/build.txt"), "compiling...").expect("write");
    let o = flakiness(&["analyze", empty.to_str().expect("utf-8"), "--db", db]);
    assert_eq!(o.status.code(), Some(9));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no report found in "), "{err}");
    assert!(o.stdout.is_empty());
    // A typo in the path: it does not exist (an I/O error, exit 3).
    let o = flakiness(&["analyze", "testdata/reprots", "--db", db]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("testdata/reprots"));
    // No path and an empty store.
    let o = flakiness(&["analyze", "--db", db, "--format", "json"]);
    assert_eq!(o.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds no runs"));
    // --min-runs: with 20 runs of history, a test needs 25 of its own to be called.
    let o = flakiness(&[
        "analyze",
        "testdata/reports/valid",
        "--db",
        db,
        "--format",
        "json",
        "--min-runs",
        "25",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let classes: Vec<&str> = v["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| t["classification"].as_str().expect("class"))
        .collect();
    assert!(classes.contains(&"not-enough-data"), "{classes:?}");
    assert!(
        !classes.contains(&"flaky") && !classes.contains(&"stable"),
        "{classes:?}"
    );
}

/// `analyze --quarantine FILE` keeps the list; `quarantine FILE` prints it for runners.
#[test]
fn analyze_keeps_a_quarantine_list_for_runners() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("history.db");
    let q = tmp.path().join("quarantine.json");
    let (db, q_arg) = (db.to_str().expect("utf-8"), q.to_str().expect("utf-8"));
    let o = flakiness(&[
        "analyze",
        "testdata/reports/valid",
        "--db",
        db,
        "--quarantine",
        q_arg,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("flakiness: quarantined tests/checkout/cart.spec.ts › cart › adds an item to the cart [firefox]"), "{err}");
    assert!(err.contains("3 test(s) in quarantine"), "{err}");

    let list = stdout(&flakiness(&["quarantine", q_arg]));
    assert_eq!(list.lines().count(), 3, "{list}");
    let nextest = stdout(&flakiness(&["quarantine", q_arg, "--format", "nextest"]));
    assert!(nextest.starts_with("not (test(="), "{nextest}");
    assert!(
        nextest.contains("test(=adds an item to the cart)"),
        "{nextest}"
    );
    let pytest = stdout(&flakiness(&["quarantine", q_arg, "--format", "pytest"]));
    assert!(
        pytest
            .lines()
            .any(|l| l == "tests/checkout/cart.spec.ts::cart::adds an item to the cart"),
        "{pytest}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&flakiness(&[
        "quarantine",
        q_arg,
        "--format",
        "json",
    ])))
    .expect("json");
    assert_eq!(json["version"], 1);
    assert_eq!(json["tests"].as_array().map(Vec::len), Some(3));

    // Analyzing again changes nothing.
    let again = flakiness(&["analyze", "--db", db, "--quarantine", q_arg]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !err.contains("quarantined ") && err.contains("3 test(s) in quarantine"),
        "{err}"
    );

    // A file that is not a quarantine list is refused, untouched.
    fs::write(&q, "{}").expect("write");
    let bad = flakiness(&["analyze", "--db", db, "--quarantine", q_arg]);
    assert_eq!(bad.status.code(), Some(4));
    assert_eq!(fs::read_to_string(&q).expect("read"), "{}");
    assert_eq!(
        flakiness(&["quarantine", "no/such.json"]).status.code(),
        Some(3)
    );
}

/// `analyze --database-url`: the same analysis from PostgreSQL as from SQLite (when
/// FLAKINESS_TEST_DATABASE_URL names a server; `.ci/run` starts one).
#[test]
fn analyze_on_postgres_matches_sqlite() {
    let Ok(admin) = std::env::var("FLAKINESS_TEST_DATABASE_URL") else {
        eprintln!("skipped: FLAKINESS_TEST_DATABASE_URL is not set");
        return;
    };
    let name = format!("flakiness_cli_{}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("server");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .expect("drop");
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("url").0);
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("h.db");
    let pg = flakiness(&[
        "analyze",
        "testdata/reports/valid",
        "--database-url",
        &url,
        "--format",
        "json",
    ]);
    let sqlite = flakiness(&[
        "analyze",
        "testdata/reports/valid",
        "--db",
        db.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert_eq!(
        pg.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&pg.stderr)
    );
    assert_eq!(stdout(&pg), stdout(&sqlite));
    // A bad password: refused, and never printed.
    let bad = url.replacen(":flakiness@", ":wrong-secret@", 1);
    let o = flakiness(&["analyze", "--database-url", &bad]);
    assert_eq!(o.status.code(), Some(7));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("wrong-secret"));
}

/// "N new run(s), M already stored" from an analyze's stderr.
fn ingest_counts(o: &Output) -> (usize, usize) {
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains(" new run(s), "))
        .unwrap_or_else(|| panic!("no summary in {err}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[1], numbers[2])
}

/// Two `analyze` processes on one SQLite store at the same time, over the same reports (one
/// of them also over JUnit files of other runs): every run stored once, neither fails, and the
/// analysis is the one a single process gives.
#[test]
fn two_analyze_processes_share_one_store() {
    let s = flakiness_sim::Scenario {
        runs: 240,
        tests: 60,
        ..flakiness_sim::Scenario::named("mixed").expect("mixed")
    };
    let history = flakiness_sim::simulate(&s);
    let tmp = tempfile::tempdir().expect("tmp");
    let (reports, junit) = (tmp.path().join("reports"), tmp.path().join("junit"));
    fs::create_dir(&reports).expect("mkdir");
    fs::create_dir(&junit).expect("mkdir");
    for (i, r) in history.reports.iter().enumerate() {
        fs::write(
            reports.join(format!("run-{i:04}.json")),
            serde_json::to_vec(r).expect("json"),
        )
        .expect("write");
        // The JUnit runs are another project's: their own environment names.
        let mut other = r.clone();
        for e in &mut other.environments {
            e.name = format!("junit-{}", e.name);
        }
        for (env, xml) in flakiness_sim::junit_documents(&other, false) {
            fs::write(junit.join(format!("run-{i:04}-{env}.xml")), xml).expect("write");
        }
    }
    let shared = tmp.path().join("shared.db");
    let spawn = |paths: &[&Path]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flakiness"));
        c.arg("analyze").args(paths).arg("--db").arg(&shared);
        c.args(["--format", "json"]);
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let a = spawn(&[&reports]);
    let b = spawn(&[&reports, &junit]);
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert_eq!(
        b.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    let ((a_new, a_old), (b_new, b_old)) = (ingest_counts(&a), ingest_counts(&b));
    let junit_runs = s.runs * s.environments.len();
    assert_eq!(a_new + b_new, s.runs + junit_runs, "each run stored once");
    assert_eq!(
        (a_new + a_old, b_new + b_old),
        (s.runs, s.runs + junit_runs)
    );

    // The shared store holds what one process alone stores.
    let alone = tmp.path().join("alone.db");
    let one = |db: &Path| {
        let o = flakiness(&[
            "analyze",
            reports.to_str().expect("utf-8"),
            junit.to_str().expect("utf-8"),
            "--db",
            db.to_str().expect("utf-8"),
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")
    };
    let (together, separately) = (one(&shared), one(&alone));
    assert_eq!(together["runs"], s.runs + junit_runs);
    if together != separately {
        let (t, a) = (
            together.as_object().expect("o"),
            separately.as_object().expect("o"),
        );
        let differ: Vec<&String> = t.keys().filter(|k| t.get(*k) != a.get(*k)).collect();
        panic!("the shared store analyses differently: {differ:?}");
    }
}

/// `flakiness serve --data DATA token create --project acme/web`.
fn create_token(data: &Path) -> Output {
    flakiness(&[
        "serve",
        "--data",
        data.to_str().expect("utf-8"),
        "token",
        "create",
        "--project",
        "acme/web",
    ])
}

/// `flakiness upload testdata/reports/valid/nested-steps` to `endpoint` with `token`.
fn upload_nested_steps(endpoint: &str, token: &str, retries: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args([
            "upload",
            "testdata/reports/valid/nested-steps",
            "--endpoint",
            endpoint,
        ])
        .args(["--retries", retries])
        .env("FLAKINESS_ACCESS_TOKEN", token)
        .env_remove("FLAKINESS_DISABLE_UPLOAD")
        .current_dir(repo())
        .output()
        .expect("upload")
}

/// `serve token create`, `serve` on a free port, then `upload` to it: the page URL on stdout,
/// the token nowhere in the output; a wrong token is exit 8.
#[test]
fn upload_to_a_server_of_our_own() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (token, mut server, endpoint) = token_and_server(&tmp.path().join("server"));
    assert!(token.starts_with("flk_"), "{token}");

    let up = |token: &str, retries: &str| upload_nested_steps(&endpoint, token, retries);
    let ok = up(&token, "4");
    let err = String::from_utf8_lossy(&ok.stderr).to_string();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(ok.status.code(), Some(0), "{err}");
    let url = stdout(&ok).trim().to_string();
    assert!(
        url.starts_with(&format!("{endpoint}/acme/web/runs/")),
        "{url}"
    );
    assert!(
        err.contains("3 attachment(s)") && err.contains("zstd"),
        "{err}"
    );
    assert!(!err.contains(&token) && !url.contains(&token));

    // The server is gone: the retries fail, exit 8, no token in the message.
    let gone = up("flk_0123456789abcdef0123456789abcdef", "1");
    let err = String::from_utf8_lossy(&gone.stderr);
    assert_eq!(gone.status.code(), Some(8), "{err}");
    assert!(!err.contains("flk_0123456789abcdef"), "{err}");
}

/// The same report uploaded twice to a real `flakiness serve`: the second upload says on
/// stderr that it was uploaded already and prints the page of the run the server has, which
/// answers 200 (it printed the URL of a new upload, which answered 404; issue 17).
#[test]
fn uploading_the_same_report_again_prints_the_page_of_its_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (token, mut server, endpoint) = token_and_server(&tmp.path().join("server"));
    let first = upload_nested_steps(&endpoint, &token, "0");
    let again = upload_nested_steps(&endpoint, &token, "0");
    let http = reqwest::blocking::Client::new();
    let status = |o: &Output| {
        http.get(stdout(o).trim())
            .send()
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    let (first_status, again_status) = (status(&first), status(&again));
    let _ = server.kill();
    let _ = server.wait();
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(again.status.code(), Some(0), "{err}");
    assert_eq!(first_status, 200);
    assert_eq!(again_status, 200, "{}", stdout(&again));
    assert_eq!(stdout(&again), stdout(&first), "the same run's page");
    assert!(err.contains("already uploaded"), "{err}");
    assert!(!String::from_utf8_lossy(&first.stderr).contains("already uploaded"));
}

/// A token made by `serve token create` over `data`, then `serve` on a free port: (token,
/// server, endpoint).
fn token_and_server(data: &Path) -> (String, std::process::Child, String) {
    let created = create_token(data);
    assert_eq!(created.status.code(), Some(0));
    let token = stdout(&created).trim().to_string();
    let (server, endpoint) = serve_on_a_free_port(data);
    (token, server, endpoint)
}

/// A `flakiness serve` on `port` over `data`, until killed; waits until it listens.
fn serve_on(data: &Path, port: u16) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// The server killed with SIGKILL in the middle of an upload and started again on the same
/// data: no partial run is visible, what was committed is intact, the interrupted upload
/// finishes, and a client retrying while the server is down gets through once it is back.
#[test]
fn a_server_killed_mid_upload_restarts_consistent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("server");
    let created = create_token(&data);
    let token = stdout(&created).trim().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::new();
    let runs = || -> Vec<serde_json::Value> {
        http.get(format!("{endpoint}/api/projects/acme/web/runs"))
            .send()
            .and_then(|r| r.json())
            .expect("runs")
    };
    let upload = |retries: &str| upload_nested_steps(&endpoint, &token, retries);

    // One run committed.
    let mut server = serve_on(&data, port);
    assert_eq!(upload("0").status.code(), Some(0));
    // A second upload stops after its report is in: the server is killed before finish.
    let start: serde_json::Value = http
        .post(format!("{endpoint}/api/upload/start"))
        .bearer_auth(&token)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("start");
    let second = fs::read(repo().join("testdata/reports/valid/all-statuses.json")).expect("read");
    let put = http
        .put(start["presignedReportUrl"].as_str().expect("url"))
        .header("content-type", "application/json")
        .body(second.clone())
        .send()
        .expect("put");
    assert!(put.status().is_success(), "{}", put.status());
    server.kill().expect("SIGKILL");
    server.wait().expect("wait");

    // Back on the same data: only the committed run, intact.
    let mut server = serve_on(&data, port);
    let listed = runs();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let first = http
        .get(format!(
            "{endpoint}/api/projects/acme/web/runs/{}/report",
            listed[0]["id"]
        ))
        .send()
        .and_then(|r| r.bytes())
        .expect("report");
    let original =
        fs::read(repo().join("testdata/reports/valid/nested-steps/report.json")).expect("read");
    assert_eq!(first.as_ref(), original.as_slice());
    // The interrupted upload finishes now.
    let finished = http
        .post(format!("{endpoint}/api/upload/finish"))
        .bearer_auth(start["uploadToken"].as_str().expect("token"))
        .send()
        .expect("finish");
    assert!(finished.status().is_success(), "{}", finished.status());
    assert_eq!(runs().len(), 2);

    // Down again; a client retrying meanwhile gets through once the server is back.
    server.kill().expect("SIGKILL");
    server.wait().expect("wait");
    let (out, mut server) = std::thread::scope(|s| {
        let client = s.spawn(|| upload("6"));
        std::thread::sleep(std::time::Duration::from_millis(600));
        let server = serve_on(&data, port);
        (client.join().expect("client"), server)
    });
    let _ = server.kill();
    let _ = server.wait();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("retried request(s)"), "{err}");
}

/// `flakiness show --no-open PATH` running, and the URL it printed.
fn spawn_show(path: &Path) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["show", "--no-open"])
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("url");
    (child, line.trim().to_string())
}

/// `flakiness show`: a local server on 127.0.0.1 behind a token that lands on the run (one
/// report) or the project (several); `--html` writes one self-contained file; no report is an
/// I/O error.
#[test]
fn show_serves_reports_behind_a_token_or_writes_one_file() {
    let full = repo().join("testdata/reports/valid/playwright-full");
    let (mut child, url) = spawn_show(&full);
    let (base, token) = url.split_once("/?token=").expect("a token in the URL");
    assert!(base.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(token.len(), 32, "{url}");
    let plain = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in ["/", "/local/playwright-full", "/static/site.css"] {
        let r = plain.get(format!("{base}{path}")).send().expect("get");
        assert_eq!(r.status(), 403, "{path} without the token");
    }
    let wrong = plain
        .get(format!("{base}/?token={}", "0".repeat(32)))
        .send()
        .expect("get");
    assert_eq!(wrong.status(), 403);
    let first = plain.get(&url).send().expect("get");
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["location"], "/local/playwright-full/runs/1");
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let deep = plain
        .get(format!(
            "{base}/local/playwright-full/flaky?token={token}&x=1"
        ))
        .send()
        .expect("get");
    assert_eq!(deep.status(), 303);
    assert_eq!(
        deep.headers()["location"],
        "/local/playwright-full/flaky?x=1"
    );
    let pair = cookie.split(';').next().expect("pair").to_string();
    let page = plain
        .get(format!("{base}/local/playwright-full/runs/1"))
        .header("cookie", &pair)
        .send()
        .expect("get");
    assert_eq!(page.status(), 200);
    let html = page.text().expect("html");
    assert!(html.contains("<img class=\"attachment\""), "{html}");
    let _ = child.kill();
    let _ = child.wait();

    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report.html");
    let o = flakiness(&["show", "--html", out.to_str().expect("utf-8")])
        .status
        .code();
    assert_eq!(o, Some(2), "a path is required");
    let html = show_html(&out, &full);
    assert!(html.contains("http-equiv=\"Content-Security-Policy\""));
    assert!(html.contains("src=\"data:image/png;base64,"));
    assert!(!html.contains("/static/"), "self-contained");
    let missing = flakiness(&["show", "--no-open", "no/such/folder"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(!stdout(&missing).contains("http://"));
}

/// The file `flakiness show --html` writes, in headless Chromium: its inline style and script
/// are allowed by their hashes (the search box filters), its image loads from its `data:` URL,
/// nothing is fetched.
#[test]
fn show_html_works_offline_in_a_browser() {
    use flakiness_browser_test::{browse, skip_unless_available, Page};
    if skip_unless_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("run.html");
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["show", "--html"])
        .arg(&out)
        .arg(repo().join("testdata/reports/valid/playwright-full"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0));
    let statuses = tmp.path().join("statuses.html");
    show_html(
        &statuses,
        &repo().join("testdata/reports/valid/all-statuses.json"),
    );
    let url = format!("file://{}", out.display());
    let visited = browse(&[
        Page::new(url)
            .count("li.test")
            .images_loaded("img.attachment")
            .type_into("#search", "adds an item")
            .after_type_count("li.test"),
        Page::new(format!("file://{}", statuses.display()))
            .count("li.test > details > summary > .badge.xfail")
            .count("li.test > details > summary > .badge.xpass")
            .text("li.test[data-name*=\"known bug #812\"] > details > summary > .badge")
            .text("li.test[data-name*=\"known bug #790\"] > details > summary > .badge")
            .text("#test-counts"),
    ])
    .expect("browse");
    // The expected failures and the unexpected pass are labelled as such (issue 17).
    let labels = &visited[1];
    assert_eq!(labels.error, None);
    assert!(labels.csp.is_empty() && labels.external.is_empty());
    let text = |selector: &str| labels.text.get(selector).cloned().flatten();
    assert_eq!(
        labels
            .count
            .get("li.test > details > summary > .badge.xfail"),
        Some(&3)
    );
    assert_eq!(
        labels
            .count
            .get("li.test > details > summary > .badge.xpass"),
        Some(&1)
    );
    assert_eq!(
        text("li.test[data-name*=\"known bug #812\"] > details > summary > .badge").as_deref(),
        Some("expected failure")
    );
    assert_eq!(
        text("li.test[data-name*=\"known bug #790\"] > details > summary > .badge").as_deref(),
        Some("unexpected pass")
    );
    let counts = text("#test-counts").unwrap_or_default();
    assert!(
        counts.contains("(3 expected failures)") && counts.contains("(1 unexpected pass)"),
        "{counts}"
    );
    let v = &visited[0];
    assert_eq!(v.error, None);
    assert!(v.csp.is_empty(), "{:?}", v.csp);
    assert!(v.external.is_empty(), "{:?}", v.external);
    assert!(v.console_errors.is_empty(), "{:?}", v.console_errors);
    assert_eq!(v.count.get("li.test"), Some(&2));
    assert_eq!(v.images, Some((1, 1)));
    assert_eq!(
        v.after_type.get("li.test"),
        Some(&1),
        "the inline script ran"
    );
}

/// A run page never reads a report past the page limit into memory: it says the run is too big
/// (413) instead.
#[test]
fn show_refuses_to_render_a_report_past_the_page_limit() {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("big");
    fs::create_dir(&dir).expect("mkdir");
    fs::copy(
        repo().join("testdata/reports/valid/minimal.json"),
        dir.join("report.json"),
    )
    .expect("copy");
    let (mut child, url) = spawn_show(&dir);
    // Still the same JSON, now past the limit.
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(dir.join("report.json"))
        .expect("open");
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..65 {
        f.write_all(&spaces).expect("write");
    }
    drop(f);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let first = client.get(url.trim()).send().expect("token");
    let landing = first.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    let base = url.trim().split("/?").next().expect("base").to_string();
    let page = client
        .get(format!("{base}{landing}"))
        .header("cookie", cookie.split(';').next().expect("pair"))
        .send()
        .expect("get");
    let status = page.status();
    let body = page.text().expect("body");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("too big to show"), "{body}");
}

/// A read token that could not travel in a cookie or a header is refused before the server
/// starts.
#[test]
fn serve_refuses_a_read_token_that_cannot_be_sent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    for bad in ["short", "sixteen chars but; spaces"] {
        let o = flakiness(&[
            "serve",
            "--data",
            data.to_str().expect("utf-8"),
            "--bind",
            "127.0.0.1:0",
            "--read-token",
            bad,
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--read-token"));
    }
}

/// `serve token list` shows ids, never tokens; `serve token revoke ID` removes one.
#[test]
fn serve_tokens_are_listed_and_revoked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let data = data.to_str().expect("utf-8");
    let token = |project: &str| {
        let o = flakiness(&[
            "serve",
            "--data",
            data,
            "token",
            "create",
            "--project",
            project,
        ]);
        assert_eq!(o.status.code(), Some(0));
        stdout(&o).trim().to_string()
    };
    let (a, b) = (token("acme/web"), token("acme/api"));
    let list = || stdout(&flakiness(&["serve", "--data", data, "token", "list"]));
    let listed = list();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        !listed.contains(&a) && !listed.contains(&b),
        "tokens never shown"
    );
    let web = listed
        .lines()
        .find(|l| l.contains("acme/web"))
        .and_then(|l| l.split_whitespace().next())
        .expect("acme/web's id")
        .to_string();
    let o = flakiness(&["serve", "--data", data, "token", "revoke", &web]);
    assert_eq!(o.status.code(), Some(0));
    let left = list();
    assert_eq!(left.lines().count(), 1, "{left}");
    assert!(left.contains("acme/api"));
    let o = flakiness(&["serve", "--data", data, "token", "revoke", &web]);
    assert_eq!(o.status.code(), Some(2), "already revoked");
}

/// `serve`'s options work after its subcommands (`--data` was "unexpected"), `token create`
/// says where it stored the token, and an upload with an unknown or a revoked token is told
/// so (it was a bare `401 {"error":"unauthorized"}`), exit 8 (issue 17).
#[test]
fn serve_options_follow_subcommands_and_refused_tokens_say_why() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("srv");
    let data_arg = data.to_str().expect("utf-8");
    let created = flakiness(&[
        "serve",
        "token",
        "create",
        "--project",
        "acme/web",
        "--data",
        data_arg,
    ]);
    let err = String::from_utf8_lossy(&created.stderr);
    assert_eq!(created.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&data.join("server.db").display().to_string()),
        "where the token was stored: {err}"
    );
    let token = stdout(&created).trim().to_string();
    let listed = stdout(&flakiness(&["serve", "token", "list", "--data", data_arg]));
    let id = listed.split_whitespace().next().expect("an id").to_string();
    let revoked = flakiness(&["serve", "token", "revoke", &id, "--data", data_arg]);
    assert_eq!(revoked.status.code(), Some(0));

    let (mut server, endpoint) = serve_on_a_free_port(&data);
    let with_revoked = upload_nested_steps(&endpoint, &token, "0");
    let with_unknown = upload_nested_steps(&endpoint, "flk_0123456789abcdef0123", "0");
    let _ = server.kill();
    let _ = server.wait();
    for (o, why) in [
        (&with_revoked, "revoked"),
        (&with_unknown, "unknown access token"),
    ] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(8), "{err}");
        assert!(err.contains("the server refused the token"), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(
            !err.contains(&token) && !err.contains("flk_0123456789"),
            "{err}"
        );
    }
}

/// `--bind localhost:PORT` is a host name, resolved (it was refused: "invalid socket address
/// syntax"; issue 17); a page answers there.
#[test]
fn serve_binds_a_host_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut server, endpoint) = serve_bound(&tmp.path().join("srv"), "localhost:0");
    let status = reqwest::blocking::get(format!("{endpoint}/")).map(|r| r.status().as_u16());
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(status.expect("get"), 200, "{endpoint}");
    let data = tmp.path().join("other");
    let bad = flakiness(&[
        "serve",
        "--bind",
        "localhost",
        "--data",
        data.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "no port: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// `flakiness --help` names every subcommand in its first lines, not only in the list (it said
/// "validate, convert, analyze and upload"; issue 17).
#[test]
fn help_names_every_subcommand() {
    let o = flakiness(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    let (about, rest) = help.split_once("Usage:").expect("usage");
    let commands: Vec<&str> = rest
        .split_once("Commands:")
        .expect("commands")
        .1
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() >= 8, "{help}");
    for name in commands {
        assert!(about.contains(name), "{name} is not in {about:?}");
    }
}

/// Runs flakiness with a deadline: a command that hangs fails the test instead of the suite.
fn flakiness_within(args: &[&str], secs: u64) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run flakiness");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("flakiness {args:?} still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A FIFO named like a report is refused at once by `validate` and `analyze`, never waited on
/// (issue 14, item 11).
#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_report_is_refused_not_waited_on() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mkfifo = |p: &std::path::Path| {
        assert!(Command::new("mkfifo")
            .arg(p)
            .status()
            .expect("mkfifo")
            .success());
    };
    // A report directory whose report.json is a FIFO.
    let dir = tmp.path().join("run-1");
    fs::create_dir(&dir).expect("mkdir");
    mkfifo(&dir.join("report.json"));
    let o = flakiness_within(&["validate", dir.to_str().expect("utf-8")], 20);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is a FIFO, not a regular file"), "{err}");
    // A FIFO given by name.
    let lone = tmp.path().join("lone.json");
    mkfifo(&lone);
    let o = flakiness_within(&["validate", lone.to_str().expect("utf-8")], 20);
    assert_eq!(o.status.code(), Some(3));
    // analyze: a folder holding a FIFO `*.json` beside a real report reads the report only.
    let folder = tmp.path().join("reports");
    fs::create_dir(&folder).expect("mkdir");
    mkfifo(&folder.join("stuck.json"));
    fs::copy(
        repo().join("testdata/reports/valid/minimal.json"),
        folder.join("real.json"),
    )
    .expect("copy");
    let db = tmp.path().join("h.db");
    let db = db.to_str().expect("utf-8");
    let o = flakiness_within(
        &["analyze", folder.to_str().expect("utf-8"), "--db", db],
        20,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 report(s): 1 new run(s)"));
    let o = flakiness_within(&["analyze", lone.to_str().expect("utf-8"), "--db", db], 20);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is a FIFO"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The report directory with a FIFO report.json is not a run.
    let o = flakiness_within(&["analyze", dir.to_str().expect("utf-8"), "--db", db], 20);
    assert_eq!(
        o.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// UTF-16 input is said to be UTF-16 (exit 4) before any format is detected, with or without
/// a byte order mark (issue 14, item 12).
#[test]
fn utf16_input_is_named_as_such() {
    let tmp = tempfile::tempdir().expect("tmp");
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<testsuite name=\"s\"><testcase name=\"t\"/></testsuite>\n";
    for (name, bom) in [("with-bom.xml", true), ("without-bom.xml", false)] {
        let mut bytes: Vec<u8> = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let input = tmp.path().join(name);
        fs::write(&input, bytes).expect("write");
        let out = tmp.path().join(format!("out-{name}"));
        let o = flakiness(&[
            "convert",
            input.to_str().expect("utf-8"),
            "--commit-id",
            SHA,
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        assert_eq!(o.status.code(), Some(4), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("the input is UTF-16"), "{name}: {err}");
        assert!(!err.contains("format not recognised"), "{err}");
        assert!(!out.exists(), "nothing written");
    }
}

/// Text from inputs reaches stderr with its control characters escaped: a report file named
/// with a terminal escape and a bell is listed as skipped without driving the terminal
/// (issue 14, item 3).
#[test]
fn terminal_escapes_from_inputs_are_shown_not_obeyed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let folder = tmp.path().join("reports");
    fs::create_dir(&folder).expect("mkdir");
    fs::write(
        folder.join("evil\u{1b}]0;pwned\u{7}\u{1b}[31m.json"),
        "{ not json",
    )
    .expect("write");
    fs::copy(
        repo().join("testdata/reports/valid/minimal.json"),
        folder.join("fine.json"),
    )
    .expect("copy");
    let db = tmp.path().join("h.db");
    let o = flakiness(&[
        "analyze",
        folder.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("skipped "), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "raw control characters on stderr: {err:?}"
    );
    assert!(
        err.contains("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[31m.json"),
        "{err}"
    );
}

/// Every file under `dir`, read whole.
fn all_bytes_under(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = fs::read(&p) {
                out.push(b);
            }
        }
    }
    out
}

/// An attachment file that is a symbolic link to a file elsewhere is never read: `show`
/// neither embeds nor serves it, `upload --force` does not send it (issue 14, item 1).
#[cfg(unix)]
#[test]
fn attachments_linked_outside_the_report_are_never_read() {
    const SECRET: &str = "TOP-SECRET-4242 root:x:0:0";
    let tmp = tempfile::tempdir().expect("tmp");
    let secret = tmp.path().join("passwd");
    fs::write(&secret, SECRET).expect("write");
    // playwright-full, with its markdown and its screenshot attachments replaced by links.
    let run = tmp.path().join("run");
    let src = repo().join("testdata/reports/valid/playwright-full");
    fs::create_dir_all(run.join("attachments")).expect("mkdir");
    fs::copy(src.join("report.json"), run.join("report.json")).expect("copy");
    for e in fs::read_dir(src.join("attachments"))
        .expect("dir")
        .flatten()
    {
        let to = run.join("attachments").join(e.file_name());
        if e.file_name() == "8a601ebfe571d48b35c92b168cbe83ac"
            || e.file_name() == "c4d8a16bd4bfd4163fb259be3136c691"
        {
            std::os::unix::fs::symlink(&secret, &to).expect("link");
        } else {
            fs::copy(e.path(), &to).expect("copy");
        }
    }
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(SECRET)
    };
    // show --html: nothing of the file.
    let out = tmp.path().join("o.html");
    let html = show_html(&out, &run);
    assert!(
        !html.contains("TOP-SECRET") && !html.contains(&b64[..16]),
        "embedded"
    );
    // show: the attachment is not served.
    let (mut child, url) = spawn_show(&run);
    let (base, token) = url.split_once("/?token=").expect("token");
    let client = reqwest::blocking::Client::new();
    let r = client
        .get(format!(
            "{base}/local/run/runs/1/attachments/8a601ebfe571d48b35c92b168cbe83ac"
        ))
        .bearer_auth(token)
        .send()
        .expect("get");
    let status = r.status();
    let body = r.text().unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 404);
    assert!(!body.contains("TOP-SECRET"));
    // upload --force: the server never gets the file.
    let data = tmp.path().join("server");
    let created = create_token(&data);
    assert_eq!(created.status.code(), Some(0));
    let access = stdout(&created).trim().to_string();
    let (mut server, endpoint) = serve_on_a_free_port(&data);
    let up = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args([
            "upload",
            "--force",
            "--project",
            "acme/web",
            "--endpoint",
            &endpoint,
        ])
        .arg(&run)
        .env("FLAKINESS_ACCESS_TOKEN", &access)
        .env_remove("FLAKINESS_DISABLE_UPLOAD")
        .output()
        .expect("upload");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    for bytes in all_bytes_under(&data) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("TOP-SECRET"),
            "the server holds the linked file"
        );
    }
}

/// `flakiness show --html OUT PATH`, which must succeed: the page written.
fn show_html(out: &Path, path: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["show", "--html"])
        .arg(out)
        .arg(path)
        .output()
        .expect("show");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    fs::read_to_string(out).expect("html")
}

/// The `.OUT.tmp-PID-…` directories beside an output.
fn staging_dirs(parent: &Path, name: &str) -> Vec<String> {
    fs::read_dir(parent)
        .expect("dir")
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with(&format!(".{name}.tmp-")))
        .collect()
}

/// `convert` stopped by SIGTERM removes its temporary output; the next `convert` removes what
/// a killed one left, and never a directory of a process still running (issue 14, item 10).
#[cfg(unix)]
#[test]
fn an_interrupted_convert_leaves_no_temporary_output() {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    // A conversion blocked reading a FIFO, stopped by SIGTERM while it writes.
    let input = tmp.path().join("slow.xml");
    assert!(Command::new("mkfifo")
        .arg(&input)
        .status()
        .expect("mkfifo")
        .success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["convert", "--commit-id", SHA])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("convert");
    let mut writer = fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .expect("open the FIFO");
    writer
        .write_all(b"<testsuites><testsuite name=\"s\"><testcase name=\"a\"/>\n")
        .expect("write");
    writer.flush().expect("flush");
    let started = std::time::Instant::now();
    while staging_dirs(tmp.path(), "out").is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no temporary output appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success());
    let status = child.wait().expect("wait");
    drop(writer);
    assert_eq!(status.code(), Some(143), "{status:?}");
    assert!(
        staging_dirs(tmp.path(), "out").is_empty(),
        "removed on SIGTERM"
    );
    assert!(!out.exists(), "no partial output");

    // What a killed process left (its pid is gone) is removed by the next convert; a
    // directory of a running process (this test's) stays.
    let dead = tmp.path().join(".out.tmp-4000000000-AbCdEf");
    let alive = tmp
        .path()
        .join(format!(".out.tmp-{}-XyZ", std::process::id()));
    fs::create_dir_all(dead.join("attachments")).expect("mkdir");
    fs::create_dir_all(&alive).expect("mkdir");
    let (_dir, _) = convert_ok(&["testdata/junit/surefire-reruns.xml"], &out);
    assert!(!dead.exists(), "the killed process's leftovers are removed");
    assert!(
        alive.exists(),
        "a running process's directory is left alone"
    );
}

/// A report whose integer fields are written `3.0` validates, and `show` renders it (it failed
/// with "floating point `3.0`, expected i64"; issue 15, item 4).
#[test]
fn whole_numbers_with_a_fraction_are_read_by_every_command() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run = tmp.path().join("run");
    fs::create_dir_all(&run).expect("mkdir");
    fs::write(
        run.join("report.json"),
        r#"{"category":"pytest","commitId":"0123456789abcdef0123456789abcdef01234567",
        "environments":[{"name":"linux"},{"name":"mac"}],
        "tests":[{"title":"t","location":{"file":"a.py","line":3.0,"column":1.0},
        "attempts":[{"environmentIdx":1.0,"status":"passed","startTimestamp":1700000000000,"duration":5}]}],
        "startTimestamp":1700000000000,"duration":5}"#,
    )
    .expect("write");
    let v = flakiness(&["validate", run.to_str().expect("utf-8")]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let html = show_html(&tmp.path().join("o.html"), &run);
    assert!(html.contains("a.py"), "the test is shown");
}

/// `flakiness serve --data DATA` on a free port of 127.0.0.1, until killed: (the child, its
/// URL, read from the line it prints first).
fn serve_on_a_free_port(data: &Path) -> (std::process::Child, String) {
    serve_bound(data, "127.0.0.1:0")
}

/// `flakiness serve --data DATA --bind BIND`, until killed: (the child, its URL, read from the
/// line it prints first).
fn serve_bound(data: &Path, bind: &str) -> (std::process::Child, String) {
    serve_bound_with(data, bind, &[])
}

/// [`serve_bound`] with more arguments (`--read-token T`).
fn serve_bound_with(data: &Path, bind: &str, more: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead as _;
    let mut server = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--bind", bind])
        .args(more)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = std::io::BufReader::new(server.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let endpoint = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    (server, endpoint)
}

/// Reports the official tools accept (format 0.36): `environments: []` and lone surrogate
/// escapes. Each is a warning for `validate`; `upload` sends it without `--force` (to a server
/// of our own, which stores it); `analyze` and `show --html` read it (issue 15, items 1 and 3).
#[test]
fn reports_the_official_tools_accept_pass_through_every_command() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (token, mut server, endpoint) = token_and_server(&tmp.path().join("server"));
    let mut failures = Vec::new();
    for (fixture, rule) in [
        (
            "environments-empty-with-attempts.json",
            "environments-empty",
        ),
        ("lone-surrogates.json", "lone-surrogate"),
    ] {
        let dir = tmp.path().join(fixture.trim_end_matches(".json"));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::copy(
            repo().join("testdata/reports/warnings").join(fixture),
            dir.join("report.json"),
        )
        .expect("copy");
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_flakiness"))
                .args(args)
                .env("FLAKINESS_ACCESS_TOKEN", &token)
                .env_remove("FLAKINESS_DISABLE_UPLOAD")
                .output()
                .expect("runs")
        };
        let d = dir.to_str().expect("utf-8 path");
        let validated = run(&["validate", "--format", "json", d]);
        let out: serde_json::Value = serde_json::from_slice(&validated.stdout).expect("json");
        let report = &out["reports"][0];
        if validated.status.code() != Some(0)
            || report["valid"] != true
            || report["warnings"][0]["rule"] != rule
        {
            failures.push(format!("validate {fixture}: {report}"));
        }
        let uploaded = run(&["upload", d, "--endpoint", &endpoint]);
        if uploaded.status.code() != Some(0) {
            failures.push(format!(
                "upload {fixture}: {:?} {}",
                uploaded.status.code(),
                String::from_utf8_lossy(&uploaded.stderr)
            ));
        }
        let html = tmp.path().join(format!("{fixture}.html"));
        let shown = run(&["show", d, "--html", html.to_str().expect("utf-8")]);
        let page = std::fs::read_to_string(&html).unwrap_or_default();
        if shown.status.code() != Some(0) || !page.contains("test_") {
            failures.push(format!(
                "show {fixture}: {:?} {}",
                shown.status.code(),
                String::from_utf8_lossy(&shown.stderr)
            ));
        }
        let store = tmp.path().join(format!("{fixture}.db"));
        let analyzed = run(&[
            "analyze",
            d,
            "--db",
            store.to_str().expect("utf-8"),
            "--format",
            "json",
        ]);
        let analysis: serde_json::Value =
            serde_json::from_slice(&analyzed.stdout).unwrap_or_default();
        if analyzed.status.code() != Some(0) || analysis["runs"] != 1 {
            failures.push(format!(
                "analyze {fixture}: {:?} {} {}",
                analyzed.status.code(),
                String::from_utf8_lossy(&analyzed.stderr),
                analysis["runs"]
            ));
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Issue 16: a directory input holds other files than test results (notes, logs, a
/// package.json): they are skipped with a warning naming each, and the results in it are
/// converted; the same file given by name is refused (exit 4).
#[test]
fn convert_skips_files_of_a_directory_that_are_not_test_results() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("results");
    fs::create_dir_all(dir.join("nested")).expect("mkdir");
    fs::copy(
        repo().join("testdata/junit/gotestsum-reruns.xml"),
        dir.join("nested/junit.xml"),
    )
    .expect("copy");
    fs::write(dir.join("files.txt"), "a list of files\nb.xml\n").expect("write");
    fs::write(
        dir.join("build.log"),
        "Compiling…\nwarning: unused variable\n",
    )
    .expect("write");
    fs::write(
        dir.join("package.json"),
        r#"{"name": "app", "version": "1.0.0"}"#,
    )
    .expect("write");
    let out = tmp.path().join("report");
    let (report, err) = convert_ok(&[dir.to_str().expect("utf-8")], &out);
    assert_eq!(report.report.all_tests().count(), 2, "{err}");
    for skipped in ["files.txt", "build.log", "package.json"] {
        assert!(
            err.lines()
                .any(|l| l.contains(skipped) && l.contains("skipped, not a test result file")),
            "{skipped}: {err}"
        );
    }
    let named = flakiness(&[
        "convert",
        "--commit-id",
        SHA,
        "-o",
        tmp.path().join("other").to_str().expect("utf-8"),
        dir.join("files.txt").to_str().expect("utf-8"),
    ]);
    assert_eq!(named.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&named.stderr).contains("format not recognised"));
}

/// Issue 16: outside a git checkout, a missing input is said first (exit 3), not "no commit
/// id".
#[test]
fn convert_reports_a_missing_input_before_the_commit_id() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["convert", "-o", "out", "no-such-results.xml"])
        .current_dir(tmp.path())
        .env("GIT_CEILING_DIRECTORIES", tmp.path())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("no-such-results.xml"), "{err}");
    assert!(!err.contains("commit"), "{err}");
}

/// Issue 16, "Flakiness reports": the report directories of CI shards of one run merge into
/// one: environments once each, a test's attempts from every shard (in its shard's
/// environment), attachments carried over; reports of another commit are refused (exit 4).
#[test]
fn convert_merges_report_directories_of_one_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let shard = |name: &str, env: &str, input: &str| {
        let out = tmp.path().join(name);
        let o = flakiness(&[
            "convert",
            "--commit-id",
            SHA,
            "--env-name",
            env,
            "-o",
            out.to_str().expect("utf-8"),
            input,
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    // Two shards of the same tests on two machines, one with attachments.
    let a = shard("shard-a", "linux", "testdata/junit/attachments/junit.xml");
    let b = shard("shard-b", "macos", "testdata/junit/attachments/junit.xml");
    let c = shard("shard-c", "linux", "testdata/junit/gotestsum-reruns.xml");
    let merged = tmp.path().join("merged");
    let (dir, err) = convert_ok(
        &[
            a.to_str().expect("utf-8"),
            b.to_str().expect("utf-8"),
            c.to_str().expect("utf-8"),
        ],
        &merged,
    );
    let r = &dir.report;
    let envs: Vec<&str> = r.environments.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(envs, ["linux", "macos"], "{err}");
    let one = flakiness_report::read_report_dir(&a).expect("shard a");
    assert_eq!(
        r.all_tests().count(),
        one.report.all_tests().count() + 2,
        "the tests of a and b are the same tests; c adds two"
    );
    for t in one.report.all_tests() {
        let m = r
            .all_tests()
            .find(|m| m.test.title == t.test.title && m.suite_path() == t.suite_path())
            .expect("merged");
        let per_env: Vec<u32> = m
            .test
            .attempts
            .iter()
            .map(|x| x.environment_idx())
            .collect();
        assert_eq!(per_env.len(), 2 * t.test.attempts.len());
        assert!(per_env.contains(&0) && per_env.contains(&1), "{per_env:?}");
    }
    // Every attachment of the shards is in the merged directory.
    for id in flakiness_report::attachment_refs(&fs::read(a.join("report.json")).expect("read"))
        .expect("refs")
        .attachments
        .iter()
        .map(|(id, _)| id)
    {
        assert!(merged.join("attachments").join(id).is_file(), "{id}");
    }
    // A report of another commit is no shard of this run.
    let other = tmp.path().join("other");
    let o = flakiness(&[
        "convert",
        "--commit-id",
        &"f".repeat(40),
        "-o",
        other.to_str().expect("utf-8"),
        "testdata/junit/gotestsum-reruns.xml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let refused = flakiness(&[
        "convert",
        "--commit-id",
        SHA,
        "-o",
        tmp.path().join("bad").to_str().expect("utf-8"),
        a.to_str().expect("utf-8"),
        other.to_str().expect("utf-8"),
    ]);
    assert_eq!(refused.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only reports of one run merge"));
}

/// The tags' attributes of an HTML page, as `(tag, attribute, value)` (entities of values
/// decoded); the raw text of `<script>` and `<style>` is skipped.
fn html_attributes(html: &str) -> Vec<(String, String, String)> {
    fn decode(v: &str) -> String {
        v.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
    // The lower-cased name at the start of `rest`, up to a space or one of `stops`.
    fn name(rest: &mut &str, stops: &[char]) -> String {
        let end = rest
            .find(|c: char| c.is_whitespace() || stops.contains(&c))
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        *rest = &rest[end..];
        name
    }
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with('/') || rest.starts_with('!') {
            rest = &rest[rest.find('>').map_or(rest.len(), |e| e + 1)..];
            continue;
        }
        let tag = name(&mut rest, &['>', '/']);
        // Attributes up to the tag's end, values quoted.
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                rest = rest.get(1..).unwrap_or_default();
                break;
            }
            let attr = name(&mut rest, &['=', '>']);
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix('=') {
                let q = after.chars().next().unwrap_or('"');
                assert!(q == '"' || q == '\'', "unquoted value of {attr} in <{tag}>");
                let close = after[1..].find(q).expect("closed value") + 1;
                value = decode(&after[1..close]);
                rest = &after[close + 1..];
            }
            out.push((tag.clone(), attr, value));
        }
        if tag == "script" || tag == "style" {
            let close = format!("</{tag}");
            rest = &rest[rest.find(&close).unwrap_or(rest.len())..];
        }
    }
    out
}

/// Every link and source of a self-contained page stays inside it: `#id` of an element of the
/// file, a `data:` URL, or none; nothing is fetched from anywhere (issue 17).
fn assert_self_contained(html: &str, what: &str) {
    let attrs = html_attributes(html);
    let ids: std::collections::HashSet<&str> = attrs
        .iter()
        .filter(|(_, a, _)| a == "id")
        .map(|(_, _, v)| v.as_str())
        .collect();
    let mut seen = 0;
    for (tag, attr, value) in &attrs {
        if ![
            "href",
            "src",
            "action",
            "xlink:href",
            "srcset",
            "poster",
            "formaction",
        ]
        .contains(&attr.as_str())
        {
            continue;
        }
        seen += 1;
        if let Some(id) = value.strip_prefix('#') {
            assert!(
                ids.contains(id),
                "{what}: <{tag} {attr}=\"{value}\"> has no target"
            );
        } else {
            assert!(
                value.starts_with("data:"),
                "{what}: <{tag} {attr}=\"{value}\"> leads out of the file"
            );
        }
    }
    assert!(
        seen > 0 || !html.contains("href="),
        "{what}: the scan found the links"
    );
}

/// `flakiness show --html` writes a file whose links lead nowhere outside it: the run page
/// (one report, with a CI URL and an image) and the flaky tests page (several reports, with
/// tests that have pages of their own when served) (issue 17).
#[test]
fn show_html_links_stay_inside_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (name, path) in [
        ("one", repo().join("testdata/reports/valid/playwright-full")),
        ("several", repo().join("testdata/reports/valid")),
    ] {
        let html = show_html(&tmp.path().join(format!("{name}.html")), &path);
        assert!(html.contains("<h1>"), "{name}: a page");
        assert_self_contained(&html, name);
    }
}

/// `flakiness show --html` marks an expected failure (failed, expected to fail) as one, not as
/// a plain pass, and an unexpected pass (passed, expected to fail) as a failure; the counts
/// say how many of each (issue 17).
#[test]
fn show_html_marks_expected_failures_and_unexpected_passes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let html = show_html(
        &tmp.path().join("o.html"),
        &repo().join("testdata/reports/valid/all-statuses.json"),
    );
    let item = |title: &str| {
        let start = html
            .find(&format!("<span class=\"title\">{title}</span>"))
            .unwrap_or_else(|| panic!("no test {title}"));
        let head = &html[..start];
        &html[head.rfind("<li class=\"test\"").expect("its item")..start]
    };
    let xfail = item("rounds negative durations (known bug #812)");
    assert!(
        xfail.contains("data-status=\"passed\"")
            && xfail.contains("<span class=\"badge xfail\">expected failure</span>"),
        "{xfail}"
    );
    let xpass = item("handles the 2038 overflow (known bug #790)");
    assert!(
        xpass.contains("data-status=\"failed\"")
            && xpass.contains("<span class=\"badge failed xpass\">unexpected pass</span>"),
        "{xpass}"
    );
    // Failed, timed out and interrupted as expected: passed as the format counts them.
    assert!(
        html.contains("5 passed</span> <span class=\"xfail\">(3 expected failures)</span>"),
        "the passed count says so"
    );
    assert!(
        html.contains("4 failed</span> <span class=\"xpass\">(1 unexpected pass)</span>"),
        "the failed count says so"
    );
}

/// CI fetches the quarantine list from `flakiness serve` (`GET /api/…/quarantine`): after the
/// same reports are uploaded with `flakiness upload`, each format answers byte for byte what
/// `flakiness analyze --quarantine FILE` then `flakiness quarantine FILE --format F` print
/// locally for those reports.
#[test]
fn the_server_quarantine_is_what_analyze_quarantines_locally() {
    let tmp = tempfile::tempdir().expect("tmp");
    let reports = tmp.path().join("reports");
    let s = flakiness_sim::Scenario {
        runs: 80,
        tests: 30,
        mix: flakiness_sim::Mix {
            flaky: 4,
            env_flaky: 2,
            late_flaky: 1,
            broken: 1,
            fixed: 1,
            skipped: 1,
        },
        incident_rate: 0.0,
        ..flakiness_sim::Scenario::named("mixed").expect("mixed")
    };
    let mut dirs = Vec::new();
    for (i, report) in flakiness_sim::simulate(&s).reports.iter().enumerate() {
        let dir = reports.join(format!("run-{i:03}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_vec(report).expect("json"),
        )
        .expect("write");
        dirs.push(dir.to_str().expect("utf-8").to_string());
    }
    let (token, mut server, endpoint) = token_and_server(&tmp.path().join("server"));
    let mut args = vec!["upload", "--endpoint", &endpoint, "--access-token", &token];
    args.extend(dirs.iter().map(String::as_str));
    let up = flakiness(&args);
    let up_err = String::from_utf8_lossy(&up.stderr).to_string();

    let q = tmp.path().join("quarantine.json");
    let db = tmp.path().join("history.db");
    let (q_arg, db_arg) = (q.to_str().expect("utf-8"), db.to_str().expect("utf-8"));
    let reports_arg = reports.to_str().expect("utf-8");
    let analyzed = flakiness(&[
        "analyze",
        reports_arg,
        "--db",
        db_arg,
        "--quarantine",
        q_arg,
    ]);
    let http = reqwest::blocking::Client::new();
    let mut compared = Vec::new();
    for format in ["list", "nextest", "pytest"] {
        let local = stdout(&flakiness(&["quarantine", q_arg, "--format", format]));
        let served = http
            .get(format!(
                "{endpoint}/api/projects/acme/web/quarantine?format={format}"
            ))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default();
        compared.push((format, local, served));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(up.status.code(), Some(0), "{up_err}");
    assert_eq!(analyzed.status.code(), Some(0));
    let (_, list, _) = &compared[0];
    assert!(
        !list.trim().is_empty(),
        "flaky tests to quarantine: {}",
        String::from_utf8_lossy(&analyzed.stderr)
    );
    for (format, local, served) in &compared {
        assert_eq!(served, local, "{format}");
    }
}

/// `validate --no-attachments` checks report.json alone: a report whose attachment file is
/// missing is invalid by default (attachment-missing, exit 1) and valid without the check.
#[test]
fn validate_can_leave_attachments_unchecked() {
    let path = "testdata/reports/invalid-semantic/attachment-missing";
    let checked = flakiness(&["validate", path]);
    assert_eq!(checked.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("attachment-missing")
            || String::from_utf8_lossy(&checked.stderr).contains("attachment-missing")
    );
    let unchecked = flakiness(&["validate", "--no-attachments", path]);
    assert_eq!(
        unchecked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&unchecked.stderr)
    );
}
