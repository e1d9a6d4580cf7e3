//! End to end on loopback: our client and the official Node SDK upload to our server.

use std::path::{Path, PathBuf};

mod common;

use common::{get_json, sha256_hex, start, stores, Running};
use flakiness_upload::{upload, Encoding, Secret, UploadOptions};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo")
}

/// The runs of acme/web, newest first.
async fn runs(r: &Running) -> Vec<serde_json::Value> {
    get_json(&format!("{}/api/projects/acme/web/runs", r.base))
        .await
        .as_array()
        .cloned()
        .expect("list")
}

/// The attachment files of a report directory, by id.
fn attachment_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("attachments"))
        .expect("attachments")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_uploads_to_our_server_with_zstd_or_brotli() {
    for store in stores() {
        our_client_uploads(&start(store).await).await;
    }
}

async fn our_client_uploads(r: &Running) {
    let dir = repo().join("testdata/reports/valid/nested-steps");
    let mut opts = UploadOptions::new(&r.base);
    opts.access_token = Some(Secret::new(&r.token));
    let done = upload(&dir, &opts, None).await.expect("upload");
    assert_eq!(done.encoding, Encoding::Zstd, "our server takes zstd");
    assert_eq!(done.attachments, 3);
    let web = done.web_url.expect("url");
    assert!(
        web.starts_with(&format!("{}/acme/web/runs/", r.base)),
        "{web}"
    );

    let listed = runs(r).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_i64().expect("id");
    let report = reqwest::get(format!("{}/api/projects/acme/web/runs/{id}/report", r.base))
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    let original = std::fs::read(dir.join("report.json")).expect("read");
    assert_eq!(
        report.as_ref(),
        original.as_slice(),
        "the report arrived intact"
    );
    for (name, content) in attachment_files(&dir) {
        let blob = common::blob(&r.server, &sha256_hex(&content)).await;
        assert_eq!(blob.expect(&name), content, "{name}");
    }

    // The same report again, as brotli: one run still.
    opts.allow_zstd = false;
    let again = upload(&dir, &opts, None).await.expect("again");
    assert_eq!(again.encoding, Encoding::Brotli);
    assert_eq!(runs(r).await.len(), 1, "the same report is one run");
    let tests = get_json(&format!("{}/api/projects/acme/web/tests", r.base)).await;
    assert_eq!(tests["runs"], 1, "{tests}");

    // A wrong token: refused, and never echoed.
    opts.access_token = Some(Secret::new("flk_not_a_real_token_0123456789"));
    let e = upload(&dir, &opts, None).await.expect_err("bad token");
    let text = format!("{e}");
    assert!(text.contains("401"), "{text}");
    assert!(!text.contains("flk_not_a_real_token"), "{text}");
}

/// Where the official SDK is installed (`npm ci --prefix .ci/conformance`), if it is.
fn official_sdk() -> Option<PathBuf> {
    let script = repo().join(".ci/conformance/sdk-upload.mjs");
    let module = repo().join(".ci/conformance/node_modules/@flakiness/sdk/package.json");
    let node = std::process::Command::new("node").arg("--version").output();
    (script.is_file() && module.is_file() && node.is_ok_and(|o| o.status.success()))
        .then_some(script)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_node_sdk_uploads_to_our_server() {
    let Some(script) = official_sdk() else {
        eprintln!("skipped: node or .ci/conformance/node_modules/@flakiness/sdk is missing (npm ci --prefix .ci/conformance)");
        return;
    };
    for store in stores() {
        official_sdk_uploads(&script, &start(store).await).await;
    }
}

async fn official_sdk_uploads(script: &Path, r: &Running) {
    let dir = repo().join("testdata/reports/valid/nested-steps");
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(&dir)
        .env("FLAKINESS_ENDPOINT", &r.base)
        .env("FLAKINESS_ACCESS_TOKEN", &r.token)
        .output()
        .await
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        url.starts_with(&format!("{}/acme/web/runs/", r.base)),
        "{url}"
    );
    let listed = runs(r).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_i64().expect("id");
    // The SDK sends JSON.stringify of what it parsed: the same report, not the same bytes.
    let got = get_json(&format!(
        "{}/api/projects/acme/web/runs/{id}/report",
        r.base
    ))
    .await;
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).expect("read"))
            .expect("json");
    assert_eq!(got, original, "the report arrived intact");
    for (name, content) in attachment_files(&dir) {
        let blob = common::blob(&r.server, &sha256_hex(&content)).await;
        assert_eq!(blob.expect(&name), content, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_uploads_lose_nothing() {
    for store in stores() {
        fifty_uploads(&start(store).await).await;
    }
}

async fn fifty_uploads(r: &Running) {
    let src = repo().join("testdata/reports/valid/nested-steps");
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("report.json")).expect("read"))
            .expect("json");
    let work = tempfile::tempdir().expect("tmp");
    let mut dirs = Vec::new();
    for i in 0..50 {
        // Fifty different runs: the same report with another title.
        let dir = work.path().join(format!("run-{i}"));
        std::fs::create_dir_all(dir.join("attachments")).expect("mkdir");
        let mut report = original.clone();
        report["title"] = serde_json::json!(format!("run {i}"));
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_vec(&report).expect("json"),
        )
        .expect("write");
        for (name, content) in attachment_files(&src) {
            std::fs::write(dir.join("attachments").join(name), content).expect("write");
        }
        dirs.push(dir);
    }
    let mut opts = UploadOptions::new(&r.base);
    opts.access_token = Some(Secret::new(&r.token));
    let mut tasks = tokio::task::JoinSet::new();
    for dir in dirs {
        let opts = opts.clone();
        tasks.spawn(async move { upload(&dir, &opts, None).await });
    }
    let mut ok = 0;
    while let Some(done) = tasks.join_next().await {
        done.expect("join").expect("upload");
        ok += 1;
    }
    assert_eq!(ok, 50);
    let listed = runs(r).await;
    assert_eq!(listed.len(), 50, "every upload is a run");
    let mut titles: Vec<String> = listed
        .iter()
        .map(|run| run["title"].as_str().unwrap_or_default().to_string())
        .collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 50);
}

/// Without an access token, in GitHub Actions: the job's OIDC token for the project's audience
/// is what the client sends. GitHub's token service is stood in for on loopback; it hands out
/// a token our server knows only for the right audience and request token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_oidc_gets_the_token_when_none_is_set() {
    use axum::extract::Query;
    use axum::http::HeaderMap;
    let r = start("sqlite").await;
    let token = r.token.clone();
    let issuer = axum::Router::new().route(
        "/token",
        axum::routing::get(
            move |Query(q): Query<std::collections::HashMap<String, String>>,
                  headers: HeaderMap| {
                let token = token.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let ok = q.get("audience").map(String::as_str) == Some("acme/web")
                        && auth == "bearer request-token-123";
                    let value = if ok { token } else { "wrong".to_string() };
                    axum::Json(serde_json::json!({ "value": value }))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer_url = format!("http://{}/token", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, issuer).await });

    let dir = repo().join("testdata/reports/valid/nested-steps");
    let mut opts = UploadOptions::new(&r.base);
    opts.project = Some("acme/web".into());
    opts.github_oidc = Some(flakiness_upload::GithubOidc {
        request_url: issuer_url,
        request_token: Secret::new("request-token-123"),
    });
    let done = upload(&dir, &opts, None).await.expect("upload with OIDC");
    assert!(done.web_url.is_some());
    assert_eq!(runs(&r).await.len(), 1);

    // Without a project there is no audience to ask for: no token.
    opts.project = None;
    let e = upload(&dir, &opts, None).await.expect_err("no project");
    assert!(matches!(e, flakiness_upload::UploadError::NoToken), "{e}");
}
