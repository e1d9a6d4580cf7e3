//! `flakiness download` against a real `flakiness serve` on loopback (behind a read token):
//! reports uploaded with `flakiness upload` come back as the same report directories.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{create_token, repo, serve_bound_with, stdout};

const READ_TOKEN: &str = "read-token-0123456789abcdef";

/// Three fixtures with attachments, oldest run first (their `startTimestamp`s).
const FIXTURES: [&str; 3] = ["playwright-full", "nested-steps", "unknown-fields"];

/// A server over `data` behind [`READ_TOKEN`] with the three fixtures uploaded to acme/web:
/// (server, endpoint).
fn server_with_runs(data: &Path) -> (std::process::Child, String) {
    let created = create_token(data);
    assert_eq!(created.status.code(), Some(0));
    let token = stdout(&created).trim().to_string();
    let (server, endpoint) = serve_bound_with(data, "127.0.0.1:0", &["--read-token", READ_TOKEN]);
    for fixture in FIXTURES {
        let up = Command::new(env!("CARGO_BIN_EXE_flakiness"))
            .args(["upload", "--project", "acme/web", "--endpoint", &endpoint])
            .arg(repo().join("testdata/reports/valid").join(fixture))
            .env("FLAKINESS_ACCESS_TOKEN", &token)
            .env_remove("FLAKINESS_DISABLE_UPLOAD")
            .output()
            .expect("upload");
        assert_eq!(
            up.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&up.stderr)
        );
    }
    (server, endpoint)
}

/// `flakiness download --endpoint ENDPOINT --project acme/web ARGS`, the read token `token`.
fn download(endpoint: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flakiness"));
    cmd.args(["download", "--endpoint", endpoint, "--project", "acme/web"])
        .args(args)
        .env_remove("FLAKINESS_READ_TOKEN")
        .env("NO_COLOR", "1");
    if let Some(t) = token {
        cmd.env("FLAKINESS_READ_TOKEN", t);
    }
    cmd.output().expect("download")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A report directory: its parsed report.json and its attachment files' bytes by name.
fn read_dir(dir: &Path) -> (serde_json::Value, BTreeMap<String, Vec<u8>>) {
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("report.json")).expect("report.json"))
            .expect("JSON");
    let mut attachments = BTreeMap::new();
    if let Ok(entries) = fs::read_dir(dir.join("attachments")) {
        for e in entries {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            attachments.insert(name, fs::read(e.path()).expect("attachment"));
        }
    }
    (report, attachments)
}

fn fixture(name: &str) -> PathBuf {
    repo().join("testdata/reports/valid").join(name)
}

/// What is left in `dir` (names), to see that a failed download wrote nothing.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `--latest 2` brings back the two newest runs, `--run ID` the other, each the report and the
/// attachment bytes that were uploaded; again into the same directory replaces them; the JSON
/// output says what was written.
#[test]
fn download_brings_back_what_was_uploaded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut server, endpoint) = server_with_runs(&tmp.path().join("server"));
    let out = tmp.path().join("out");
    let out_s = out.to_str().expect("utf-8");
    let latest = download(
        &endpoint,
        Some(READ_TOKEN),
        &["--latest", "2", "-o", out_s, "--format", "json"],
    );
    let again = download(&endpoint, Some(READ_TOKEN), &["--latest", "2", "-o", out_s]);
    let runs = reqwest::blocking::Client::new()
        .get(format!("{endpoint}/api/projects/acme/web/runs"))
        .bearer_auth(READ_TOKEN)
        .send()
        .and_then(|r| r.json::<serde_json::Value>());
    let oldest = runs.as_ref().ok().and_then(|r| r[2]["id"].as_i64());
    let by_id = oldest.map(|id| {
        download(
            &endpoint,
            Some(READ_TOKEN),
            &["--run", &id.to_string(), "-o", out_s],
        )
    });
    let _ = server.kill();
    let _ = server.wait();

    assert_eq!(latest.status.code(), Some(0), "{}", stderr(&latest));
    let json: serde_json::Value = serde_json::from_slice(&latest.stdout).expect("JSON stdout");
    let listed = json["runs"].as_array().expect("runs");
    assert_eq!(listed.len(), 2, "{json}");
    assert_eq!(json["failed"], serde_json::json!([]));
    let runs = runs.expect("runs list");
    assert_eq!(runs.as_array().map(Vec::len), Some(3), "{runs}");
    // Newest first: the last two fixtures, by their start.
    for (i, item) in listed.iter().enumerate() {
        let run = runs[i]["id"].as_i64().expect("id");
        assert_eq!(item["run"].as_i64(), Some(run), "{json}");
        let path = PathBuf::from(item["path"].as_str().expect("path"));
        assert_eq!(path, out.join(run.to_string()));
        let name = FIXTURES[2 - i];
        assert_eq!(read_dir(&path), read_dir(&fixture(name)), "{name}");
        assert_eq!(
            item["attachments"].as_u64(),
            Some(read_dir(&fixture(name)).1.len() as u64)
        );
        assert_eq!(item["missingAttachments"], serde_json::json!([]));
    }
    assert!(stderr(&latest).contains("2 of 2 run(s) downloaded"));

    // Again: the same directories, replaced; the human output names them on stdout.
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stdout(&again).lines().count(), 2, "{}", stdout(&again));
    let by_id = by_id.expect("the oldest run's id");
    assert_eq!(by_id.status.code(), Some(0), "{}", stderr(&by_id));
    let oldest = oldest.expect("id").to_string();
    assert_eq!(
        stdout(&by_id).trim(),
        out.join(&oldest).display().to_string()
    );
    assert_eq!(
        read_dir(&out.join(&oldest)),
        read_dir(&fixture(FIXTURES[0]))
    );
    // Only the three report directories: no staging left.
    assert_eq!(names(&out).len(), 3, "{:?}", names(&out));
}

/// No read token, or another: refused with exit 10 and words that say what to set (never the
/// token); an unknown run or project is exit 8; nothing is written. A directory that is not a
/// report directory is not replaced (exit 3), as `convert` does.
#[test]
fn download_refuses_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut server, endpoint) = server_with_runs(&tmp.path().join("server"));
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).expect("out");
    let out_s = out.to_str().expect("utf-8");
    let no_token = download(&endpoint, None, &["--latest", "1", "-o", out_s]);
    let no_token_run = download(&endpoint, None, &["--run", "1", "-o", out_s]);
    let wrong = "wrong-token-0123456789abcdef";
    let wrong_token = download(&endpoint, Some(wrong), &["--run", "1", "-o", out_s]);
    let unknown_run = download(&endpoint, Some(READ_TOKEN), &["--run", "999", "-o", out_s]);
    let unknown_project = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args([
            "download",
            "--endpoint",
            &endpoint,
            "--project",
            "acme/nope",
        ])
        .args(["--latest", "1", "-o", out_s])
        .env("FLAKINESS_READ_TOKEN", READ_TOKEN)
        .output()
        .expect("download");
    // A user's folder where run 1 would go.
    let mine = out.join("1");
    fs::create_dir_all(&mine).expect("mine");
    fs::write(mine.join("notes.txt"), "mine").expect("notes");
    let over_mine = download(&endpoint, Some(READ_TOKEN), &["--run", "1", "-o", out_s]);
    let _ = server.kill();
    let _ = server.wait();

    for o in [&no_token, &no_token_run] {
        assert_eq!(o.status.code(), Some(10), "{}", stderr(o));
        assert!(
            stderr(o).contains("set FLAKINESS_READ_TOKEN"),
            "{}",
            stderr(o)
        );
    }
    assert_eq!(
        wrong_token.status.code(),
        Some(10),
        "{}",
        stderr(&wrong_token)
    );
    assert!(
        stderr(&wrong_token).contains("not this server's read token"),
        "{}",
        stderr(&wrong_token)
    );
    assert!(!stderr(&wrong_token).contains(wrong));
    assert_eq!(
        unknown_run.status.code(),
        Some(8),
        "{}",
        stderr(&unknown_run)
    );
    assert!(
        stderr(&unknown_run).contains("run 999 of acme/web: not on the server"),
        "{}",
        stderr(&unknown_run)
    );
    assert_eq!(
        unknown_project.status.code(),
        Some(8),
        "{}",
        stderr(&unknown_project)
    );
    assert_eq!(over_mine.status.code(), Some(3), "{}", stderr(&over_mine));
    assert!(
        stderr(&over_mine).contains("not a report directory"),
        "{}",
        stderr(&over_mine)
    );
    assert_eq!(fs::read(mine.join("notes.txt")).expect("kept"), b"mine");
    assert_eq!(names(&out), vec!["1".to_string()], "nothing else written");
    assert_eq!(names(&mine), vec!["notes.txt".to_string()]);
}

/// The server's attachment endpoint: an id that is not a file name is refused (400) before
/// the file system is touched; the runs list takes `?limit=N`.
#[test]
fn serve_refuses_attachment_ids_with_path_characters() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut server, endpoint) = server_with_runs(&tmp.path().join("server"));
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| {
        http.get(format!("{endpoint}/api/projects/acme/web/{path}"))
            .bearer_auth(READ_TOKEN)
            .send()
            .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
            .unwrap_or((0, String::new()))
    };
    let runs: serde_json::Value = serde_json::from_str(&get("runs?limit=1").1).unwrap_or_default();
    let bad_limit = get("runs?limit=many");
    let run = runs[0]["id"].as_i64().unwrap_or(0);
    let bad: Vec<(&str, (u16, String))> =
        ["..%2Fsecret", "a%5Cb", "x..y", "a%00b", "%2Fetc%2Fpasswd"]
            .into_iter()
            .map(|id| (id, get(&format!("runs/{run}/attachments/{id}"))))
            .collect();
    let absent = get(&format!(
        "runs/{run}/attachments/00000000000000000000000000000000"
    ));
    // The newest run is unknown-fields': its one attachment, as bytes to save.
    let id = "47bfa4ca52e8b6d9ac8916117e66aeca";
    let good = http
        .get(format!(
            "{endpoint}/api/projects/acme/web/runs/{run}/attachments/{id}"
        ))
        .bearer_auth(READ_TOKEN)
        .send()
        .map(|r| {
            let kind = r.headers().get("content-type").cloned();
            (r.status().as_u16(), kind, r.bytes().unwrap_or_default())
        });
    let _ = server.kill();
    let _ = server.wait();

    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(bad_limit.0, 400, "{}", bad_limit.1);
    for (id, (status, body)) in bad {
        assert_eq!(status, 400, "{id}: {body}");
        assert!(body.contains("invalid attachment id"), "{id}: {body}");
    }
    assert_eq!(absent.0, 404, "{}", absent.1);
    let (status, kind, bytes) = good.expect("answer");
    assert_eq!(status, 200);
    assert_eq!(
        kind.as_ref().and_then(|k| k.to_str().ok()),
        Some("application/octet-stream")
    );
    let expected =
        fs::read(fixture("unknown-fields").join("attachments").join(id)).expect("fixture");
    assert!(bytes[..] == expected[..]);
}
