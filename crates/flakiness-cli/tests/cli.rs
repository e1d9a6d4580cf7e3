//! The `flakiness` binary end to end: output snapshots, exit codes, bad paths.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
        ("testdata/junit/latin1.xml", 4),
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
