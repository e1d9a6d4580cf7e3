//! The upload protocol spoken by hand over real HTTP on loopback.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;

use flakiness_server::{Limits, Server, ServerConfig};
use flakiness_upload::protocol::{PresignedAttachment, StartResponse};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn report_bytes() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reports/valid/all-statuses.json");
    std::fs::read(path).expect("test report")
}

struct Env {
    _dir: tempfile::TempDir,
    _db: Option<common::PgDb>,
    data: PathBuf,
    server: Server,
    base: String,
    http: reqwest::Client,
    token: String,
}

/// A server on `store` (see [`common::stores`]).
async fn spawn_on(store: &str, limits: Limits) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (db, database_url) = common::database(store);
    let (server, base, token) = common::serve(ServerConfig {
        data_dir: data.clone(),
        database_url,
        blob_url: common::blob_url(store),
        limits,
        ..ServerConfig::default()
    })
    .await;
    Env {
        _dir: dir,
        _db: db,
        data,
        server,
        base,
        http: reqwest::Client::new(),
        token,
    }
}

impl Env {
    /// `f` on the server, off the async runtime (the PostgreSQL client blocks).
    async fn admin<T: Send + 'static>(&self, f: impl FnOnce(Server) -> T + Send + 'static) -> T {
        let s = self.server.clone();
        tokio::task::spawn_blocking(move || f(s))
            .await
            .expect("join")
    }

    async fn start(&self) -> StartResponse {
        let resp = self
            .http
            .post(format!("{}/api/upload/start", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("start");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("start json")
    }

    async fn put(&self, url: &str, encoding: Option<&str>, body: Vec<u8>) -> reqwest::Response {
        let mut req = self.http.put(url).body(body);
        if let Some(e) = encoding {
            req = req.header("content-encoding", e);
        }
        req.send().await.expect("put")
    }

    async fn finish(&self, upload_token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/upload/finish", self.base))
            .bearer_auth(upload_token)
            .send()
            .await
            .expect("finish")
    }

    async fn get_json(&self, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        resp.json().await.expect("json")
    }

    /// Every file under the temporary directory (data dir and around it).
    fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(self._dir.path(), &mut out);
        out.retain(|p| {
            // SQLite's own side files come and go.
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.ends_with("-wal") && !name.ends_with("-shm") && !name.ends_with("-journal")
        });
        out.sort();
        out
    }
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(bytes).expect("brotli");
    }
    out
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("zstd")
}

async fn error_of(resp: reqwest::Response) -> String {
    let v: Value = resp.json().await.expect("error json");
    v["error"].as_str().expect("error field").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn full_flow() {
    for store in common::stores() {
        full_flow_on(store).await;
    }
}

async fn full_flow_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let start = env.start().await;
    assert_eq!(start.accept_encodings, vec!["zstd", "br"]);
    assert!(
        start.web_url.starts_with("/acme/web/runs/"),
        "{}",
        start.web_url
    );
    assert!(start
        .presigned_report_url
        .starts_with(&format!("{}/blobs/", env.base)));

    let resp = env
        .http
        .post(format!("{}/api/upload/attachments", env.base))
        .bearer_auth(&start.upload_token)
        .json(&json!({"attachmentIds": ["log.txt", "shot one.png"]}))
        .send()
        .await
        .expect("attachments");
    assert_eq!(resp.status(), StatusCode::OK);
    let presigned: Vec<PresignedAttachment> = resp.json().await.expect("list");
    assert_eq!(presigned.len(), 2);
    assert_eq!(presigned[1].attachment_id, "shot one.png");

    // No run before finish.
    let runs = env.get_json("/api/projects/acme/web/runs").await;
    assert_eq!(runs, json!([]));

    let report = report_bytes();
    let resp = env
        .put(&start.presigned_report_url, Some("br"), brotli(&report))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // A retried PUT of the same content is fine.
    let resp = env
        .put(&start.presigned_report_url, Some("br"), brotli(&report))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let log = b"line one\nline two\n".repeat(100);
    let resp = env
        .http
        .put(&presigned[0].presigned_url)
        .header("content-encoding", "zstd")
        .header("content-type", "text/plain")
        .body(zstd(&log))
        .send()
        .await
        .expect("put log");
    assert_eq!(resp.status(), StatusCode::OK);
    let png = vec![0x89u8, b'P', b'N', b'G', 1, 2, 3];
    let resp = env
        .put(&presigned[1].presigned_url, None, png.clone())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = env.finish(&start.upload_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let answer: Value = resp.json().await.expect("finish json");
    assert_eq!(answer["webUrl"], json!(start.web_url), "{answer}");
    assert_eq!(answer["alreadyUploaded"], json!(false), "{answer}");
    assert!(answer["runId"].is_i64(), "{answer}");
    // A retried finish answers the same.
    let resp = env.finish(&start.upload_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.expect("json"), answer);
    // The same report again is the same run: its finish names the run's page, not the new
    // upload's (which answered 404; issue 17).
    let again = env.start().await;
    let resp = env
        .put(&again.presigned_report_url, None, report.clone())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = env.finish(&again.upload_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let dup: Value = resp.json().await.expect("finish json");
    assert_ne!(again.web_url, start.web_url);
    assert_eq!(dup["webUrl"], json!(start.web_url), "{dup}");
    assert_eq!(dup["runId"], answer["runId"], "{dup}");
    assert_eq!(dup["alreadyUploaded"], json!(true), "{dup}");

    // Blobs, content-addressed.
    for bytes in [&report[..], &log[..], &png[..]] {
        let blob = common::blob(&env.server, &flakiness_analyze::content_hash(bytes)).await;
        assert_eq!(blob.expect("blob"), bytes);
    }

    let projects = env.get_json("/api/projects").await;
    assert_eq!(projects, json!([{"org": "acme", "project": "web"}]));
    let runs = env.get_json("/api/projects/acme/web/runs").await;
    let runs = runs.as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0]["commitId"],
        "4c9cfa13305e694b1f02528394f1a7a843a360b6"
    );
    assert_eq!(runs[0]["webUrl"], start.web_url.as_str());
    assert!(runs[0]["counts"]["ran"].as_u64().expect("ran") > 0);
    let id = runs[0]["id"].as_i64().expect("id");
    for key in [
        id.to_string(),
        runs[0]["uploadId"].as_str().expect("uid").to_string(),
    ] {
        let resp = env
            .http
            .get(format!(
                "{}/api/projects/acme/web/runs/{key}/report",
                env.base
            ))
            .send()
            .await
            .expect("report");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.bytes().await.expect("bytes"), report);
    }
    let tests = env.get_json("/api/projects/acme/web/tests").await;
    assert_eq!(tests["runs"], 1);
    assert!(!tests["tests"].as_array().expect("tests").is_empty());

    // Unknown project, unknown run.
    let resp = env
        .http
        .get(format!("{}/api/projects/acme/nope/runs", env.base))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = env
        .http
        .get(format!(
            "{}/api/projects/acme/web/runs/999/report",
            env.base
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // A finished upload takes no more blobs.
    let resp = env
        .put(&start.presigned_report_url, None, report.clone())
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

/// A refused token is 401 with why: none, unknown, revoked (it was a bare "unauthorized";
/// issue 17).
#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_are_401_saying_why() {
    for store in common::stores() {
        bad_tokens_are_401_saying_why_on(store).await;
    }
}

async fn bad_tokens_are_401_saying_why_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let url = format!("{}/api/upload/start", env.base);
    let revoked = env
        .admin(|s| s.create_token("acme/web"))
        .await
        .expect("token");
    let id = env
        .admin(|s| s.tokens())
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.id)
        .find(|id| common::sha256_hex(revoked.as_bytes()).starts_with(id.as_str()))
        .expect("its id");
    env.admin(move |s| s.revoke_token(&id))
        .await
        .expect("revoke");
    let cases = [
        (env.http.post(&url), "no_token", "no token"),
        (
            env.http.post(&url).bearer_auth("flk_nope"),
            "unknown_token",
            "unknown access token",
        ),
        (
            env.http.post(&url).bearer_auth(&revoked),
            "revoked_token",
            "revoked",
        ),
        (
            env.http
                .post(&url)
                .header("authorization", "Basic Zm9vOmJhcg=="),
            "no_token",
            "no token",
        ),
        (
            env.http
                .post(format!("{}/api/upload/finish", env.base))
                .bearer_auth(&env.token),
            "unknown_upload_token",
            "unknown upload token",
        ),
        (
            env.http
                .post(format!("{}/api/upload/attachments", env.base))
                .bearer_auth("flu_nope")
                .json(&json!({"attachmentIds": []})),
            "unknown_upload_token",
            "unknown upload token",
        ),
    ];
    for (req, reason, words) in cases {
        let resp = req.send().await.expect("send");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let v: Value = resp.json().await.expect("error json");
        assert_eq!(v["reason"], reason, "{v}");
        let error = v["error"].as_str().expect("error field");
        assert!(error.contains(words), "{v}");
        assert!(
            !error.contains(&revoked) && !error.contains(&env.token),
            "{v}"
        );
    }
    // A token for another project than the body names.
    let resp = env
        .http
        .post(&url)
        .bearer_auth(&env.token)
        .json(&json!({"orgSlug": "acme", "projectSlug": "other"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The right one, named.
    let resp = env
        .http
        .post(&url)
        .bearer_auth(&env.token)
        .json(&json!({"orgSlug": "acme", "projectSlug": "web"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_and_tampered_urls_are_403() {
    for store in common::stores() {
        expired_and_tampered_urls_are_403_on(store).await;
    }
}

async fn expired_and_tampered_urls_are_403_on(store: &str) {
    let env = spawn_on(
        store,
        Limits {
            presign_ttl: Duration::ZERO,
            ..Limits::default()
        },
    )
    .await;
    let start = env.start().await;
    let resp = env
        .put(&start.presigned_report_url, None, report_bytes())
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let env = spawn_on(store, Limits::default()).await;
    let start = env.start().await;
    let url = &start.presigned_report_url;
    let mut tampered_sig = url.clone();
    let last = tampered_sig.pop().expect("char");
    tampered_sig.push(if last == '0' { '1' } else { '0' });
    let (head, tail) = url.split_once("expires=").expect("expires");
    let tampered_expiry = format!("{head}expires=9{tail}");
    let other_upload = url.replacen("/blobs/", "/blobs/0", 1);
    let no_query = url.split('?').next().expect("path").to_string();
    for bad in [tampered_sig, tampered_expiry, other_upload, no_query] {
        let resp = env.put(&bad, None, report_bytes()).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{bad}");
    }
    let sent = flakiness_analyze::content_hash(&report_bytes());
    assert!(
        common::blob(&env.server, &sent).await.is_none(),
        "nothing stored"
    );
    let resp = env.put(url, None, report_bytes()).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsafe_attachment_ids_are_400_and_touch_nothing() {
    for store in common::stores() {
        unsafe_attachment_ids_are_400_and_touch_nothing_on(store).await;
    }
}

async fn unsafe_attachment_ids_are_400_and_touch_nothing_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let start = env.start().await;
    let before = env.files();
    for id in ["../x", "a/b", "..", "", "a\\b"] {
        let resp = env
            .http
            .post(format!("{}/api/upload/attachments", env.base))
            .bearer_auth(&start.upload_token)
            .json(&json!({"attachmentIds": ["fine.txt", id]}))
            .send()
            .await
            .expect("attachments");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{id:?}");
    }
    // A PUT naming one directly.
    let upload_id = start
        .presigned_report_url
        .split("/blobs/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("upload id");
    let resp = env
        .put(
            &format!(
                "{}/blobs/{upload_id}/attachments/..%2Fx?expires=99999999999&sig=00",
                env.base
            ),
            None,
            b"evil".to_vec(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(env.files(), before);
    assert!(!env.data.join("x").exists());
    assert!(!env.data.parent().expect("parent").join("x").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_attachments_and_oversize_json_are_refused() {
    for store in common::stores() {
        too_many_attachments_and_oversize_json_are_refused_on(store).await;
    }
}

async fn too_many_attachments_and_oversize_json_are_refused_on(store: &str) {
    let env = spawn_on(
        store,
        Limits {
            max_attachments: 3,
            ..Limits::default()
        },
    )
    .await;
    let start = env.start().await;
    let post = |ids: Vec<String>| {
        env.http
            .post(format!("{}/api/upload/attachments", env.base))
            .bearer_auth(&start.upload_token)
            .json(&json!({ "attachmentIds": ids }))
            .send()
    };
    let resp = post(vec!["a".into(), "b".into()]).await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    // Asking again for the same ids is fine.
    let resp = post(vec!["a".into(), "b".into(), "c".into()])
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = post(vec!["d".into()]).await.expect("send");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(resp).await.contains("too many attachments"));
    let huge: Vec<String> = (0..200_000).map(|i| format!("attachment-{i}")).collect();
    // The server answers 413 as soon as it sees the length, without reading the body: the
    // client may then still be writing it and see the connection closed instead of the answer.
    match post(huge).await {
        Ok(resp) => assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(e.is_request(), "{e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_bodies_and_bombs_are_413_and_odd_encodings_415() {
    for store in common::stores() {
        oversize_bodies_and_bombs_are_413_and_odd_encodings_415_on(store).await;
    }
}

async fn oversize_bodies_and_bombs_are_413_and_odd_encodings_415_on(store: &str) {
    let env = spawn_on(
        store,
        Limits {
            max_report_bytes: 64 * 1024,
            max_attachment_bytes: 16 * 1024,
            ..Limits::default()
        },
    )
    .await;
    let start = env.start().await;
    let url = &start.presigned_report_url;

    let resp = env.put(url, None, vec![b' '; 64 * 1024 + 1]).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Exactly the limit passes.
    let resp = env.put(url, None, vec![b' '; 64 * 1024]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let zeros = vec![0u8; 16 << 20];
    let bomb = brotli(&zeros);
    assert!(bomb.len() < 64 * 1024);
    let resp = env.put(url, Some("br"), bomb).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bomb = zstd(&vec![0u8; 64 << 20]);
    let resp = env.put(url, Some("zstd"), bomb).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let resp = env.put(url, Some("gzip"), b"x".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let resp = env.put(url, Some("br, zstd"), b"x".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Not brotli at all.
    let resp = env
        .put(url, Some("br"), b"not brotli at all".to_vec())
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Attachments have their own limit.
    let resp = env
        .http
        .post(format!("{}/api/upload/attachments", env.base))
        .bearer_auth(&start.upload_token)
        .json(&json!({"attachmentIds": ["big.bin"]}))
        .send()
        .await
        .expect("attachments");
    let presigned: Vec<PresignedAttachment> = resp.json().await.expect("list");
    let resp = env
        .put(
            &presigned[0].presigned_url,
            Some("zstd"),
            zstd(&vec![7u8; 16 * 1024 + 1]),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Nothing half written is left behind.
    // Temporary files are next to the blobs (local storage) or in `tmp/` (object storage).
    let temps = ["blobs", "tmp"]
        .iter()
        .filter_map(|d| std::fs::read_dir(env.data.join(d)).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(temps, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_report_twice_is_one_run() {
    for store in common::stores() {
        the_same_report_twice_is_one_run_on(store).await;
    }
}

async fn the_same_report_twice_is_one_run_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let report = report_bytes();
    let mut web_urls = Vec::new();
    for encoding in ["br", "zstd"] {
        let start = env.start().await;
        let body = if encoding == "br" {
            brotli(&report)
        } else {
            zstd(&report)
        };
        let resp = env
            .put(&start.presigned_report_url, Some(encoding), body)
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let resp = env.finish(&start.upload_token).await;
        assert_eq!(resp.status(), StatusCode::OK);
        web_urls.push(start.web_url);
    }
    assert_ne!(web_urls[0], web_urls[1]);
    let runs = env.get_json("/api/projects/acme/web/runs").await;
    assert_eq!(runs.as_array().expect("runs").len(), 1);
    let tests = env.get_json("/api/projects/acme/web/tests").await;
    assert_eq!(tests["runs"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn finish_needs_a_valid_report() {
    for store in common::stores() {
        finish_needs_a_valid_report_on(store).await;
    }
}

async fn finish_needs_a_valid_report_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let start = env.start().await;
    let resp = env.finish(&start.upload_token).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(resp).await.contains("no report was uploaded"));

    let resp = env
        .put(
            &start.presigned_report_url,
            None,
            br#"{"category": "junit", "environments": "nope"}"#.to_vec(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = env.finish(&start.upload_token).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(resp).await.starts_with("invalid report"));
    let resp = env
        .put(&start.presigned_report_url, None, b"{not json".to_vec())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = env.finish(&start.upload_token).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let runs = env.get_json("/api/projects/acme/web/runs").await;
    assert_eq!(runs, json!([]));

    let not_json = flakiness_analyze::content_hash(b"{not json");
    assert!(common::blob(&env.server, &not_json).await.is_some());

    // A valid report afterwards finishes the same upload; the blob it replaces goes.
    let resp = env
        .put(&start.presigned_report_url, None, report_bytes())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(common::blob(&env.server, &not_json).await.is_none());
    let resp = env.finish(&start.upload_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_removes_expired_pending_uploads() {
    for store in common::stores() {
        cleanup_removes_expired_pending_uploads_on(store).await;
    }
}

async fn cleanup_removes_expired_pending_uploads_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let report = report_bytes();
    let hash = flakiness_analyze::content_hash(&report);

    // A finished upload of one report, a pending one of another.
    let done = env.start().await;
    let resp = env
        .put(&done.presigned_report_url, None, report.clone())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        env.finish(&done.upload_token).await.status(),
        StatusCode::OK
    );

    let pending = env.start().await;
    let other = b"{\"pending\": true}".to_vec();
    let resp = env
        .put(&pending.presigned_report_url, None, other.clone())
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let other_hash = flakiness_analyze::content_hash(&other);
    assert!(common::blob(&env.server, &other_hash).await.is_some());

    // Nothing is old enough yet.
    assert_eq!(
        env.admin(|s| s.cleanup_expired(Duration::from_secs(3600)))
            .await
            .expect("cleanup"),
        0
    );
    assert_eq!(
        env.admin(|s| s.cleanup_expired(Duration::ZERO))
            .await
            .expect("cleanup"),
        1
    );
    assert!(common::blob(&env.server, &other_hash).await.is_none());
    assert!(common::blob(&env.server, &hash).await.is_some());
    // The pending upload is gone; the finished one stays.
    assert_eq!(
        env.finish(&pending.upload_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let resp = env.put(&pending.presigned_report_url, None, other).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        env.finish(&done.upload_token).await.status(),
        StatusCode::OK
    );
    let runs = env.get_json("/api/projects/acme/web/runs").await;
    assert_eq!(runs.as_array().expect("runs").len(), 1);
}

#[test]
fn tokens_and_projects_are_checked_and_data_persists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServerConfig::default()
    };
    let server = Server::open(config.clone()).expect("open");
    for bad in ["acme", "acme/", "/web", "a/b/c", "../web", "acme/w eb"] {
        assert!(server.create_token(bad).is_err(), "{bad}");
    }
    let a = server.create_token("acme/web").expect("token");
    let b = server.create_token("acme/web").expect("token");
    assert_ne!(a, b);
    assert!(a.starts_with("flk_"));
    let secret = std::fs::read(dir.path().join("secret")).expect("secret");
    assert_eq!(secret.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The metadata database is in WAL mode.
    assert!(dir.path().join("server.db-wal").exists());
    drop(server);
    // Reopening keeps the secret; the database holds no token in clear.
    let _server = Server::open(config).expect("reopen");
    assert_eq!(
        std::fs::read(dir.path().join("secret")).expect("secret"),
        secret
    );
    let db = std::fs::read(dir.path().join("server.db")).expect("db");
    let needle = a.as_bytes();
    assert!(!db.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test(flavor = "multi_thread")]
async fn projects_see_only_their_runs_and_public_url_is_used() {
    for store in common::stores() {
        projects_see_only_their_runs_and_public_url_is_used_on(store).await;
    }
}

async fn projects_see_only_their_runs_and_public_url_is_used_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let other_token = env
        .admin(|s| s.create_token("acme/api"))
        .await
        .expect("token");
    let minimal = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reports/valid/minimal.json"),
    )
    .expect("minimal");
    for (token, body) in [(&env.token, report_bytes()), (&other_token, minimal)] {
        let resp = env
            .http
            .post(format!("{}/api/upload/start", env.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("start");
        let start: StartResponse = resp.json().await.expect("json");
        let resp = env.put(&start.presigned_report_url, None, body).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            env.finish(&start.upload_token).await.status(),
            StatusCode::OK
        );
    }
    for (project, commit) in [
        ("web", "4c9cfa13305e694b1f02528394f1a7a843a360b6"),
        ("api", "5c4821749cf6a260dc8210598dd97db4e58d1a1a"),
    ] {
        let runs = env
            .get_json(&format!("/api/projects/acme/{project}/runs"))
            .await;
        let runs = runs.as_array().expect("runs");
        assert_eq!(runs.len(), 1, "{project}");
        assert_eq!(runs[0]["commitId"], commit);
        let tests = env
            .get_json(&format!("/api/projects/acme/{project}/tests"))
            .await;
        assert_eq!(tests["runs"], 1, "{project}");
    }
    // A run of one project is not reachable through another.
    let runs = env.get_json("/api/projects/acme/web/runs").await;
    let upload_id = runs[0]["uploadId"].as_str().expect("uid").to_string();
    let resp = env
        .http
        .get(format!(
            "{}/api/projects/acme/api/runs/{upload_id}/report",
            env.base
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    // With a public URL, presigned URLs are built on it.
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, base, token) = common::serve(ServerConfig {
        data_dir: dir.path().to_path_buf(),
        public_url: Some("https://flakiness.example.com/".into()),
        ..ServerConfig::default()
    })
    .await;
    let resp = env
        .http
        .post(format!("{base}/api/upload/start"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("start");
    let start: StartResponse = resp.json().await.expect("json");
    assert!(start
        .presigned_report_url
        .starts_with("https://flakiness.example.com/blobs/"));
    assert!(Server::open(ServerConfig {
        data_dir: dir.path().join("other"),
        public_url: Some("ftp://x".into()),
        ..ServerConfig::default()
    })
    .is_err());
}

/// Access tokens are listed by id (their hash's first digits, never the token) and revoked by
/// a unique prefix of it: a revoked token starts no upload; others still do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_listed_and_revoked() {
    for store in common::stores() {
        tokens_are_listed_and_revoked_on(store).await;
    }
}

async fn tokens_are_listed_and_revoked_on(store: &str) {
    let env = spawn_on(store, Limits::default()).await;
    let other = env
        .admin(|s| s.create_token("acme/web"))
        .await
        .expect("second token");
    let list = env.admin(|s| s.tokens()).await.expect("list");
    assert_eq!(list.len(), 2);
    for t in &list {
        assert_eq!(t.id.len(), 12);
        assert!(t.id.bytes().all(|b| b.is_ascii_hexdigit()), "{}", t.id);
        assert_eq!(t.project, "acme/web");
        assert!(!env.token.contains(&t.id) && !other.contains(&t.id));
        assert!(t.created_ms > 0);
    }
    let first = common::sha256_hex(env.token.as_bytes());
    let start = |token: String| {
        let req = env
            .http
            .post(format!("{}/api/upload/start", env.base))
            .bearer_auth(token)
            .json(&json!({"orgSlug": "acme", "projectSlug": "web"}));
        async move { req.send().await.expect("start").status() }
    };
    assert_eq!(start(env.token.clone()).await, StatusCode::OK);
    let prefix = first[..6].to_string();
    let revoked = env
        .admin(move |s| s.revoke_token(&prefix))
        .await
        .expect("revoke");
    assert_eq!(revoked.id, first[..12]);
    assert_eq!(start(env.token.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(start(other.clone()).await, StatusCode::OK);
    assert_eq!(env.admin(|s| s.tokens()).await.expect("list").len(), 1);
    for bad in ["abc".to_string(), "zzzzzz".into(), first[..8].into()] {
        let b = bad.clone();
        let e = env
            .admin(move |s| s.revoke_token(&b))
            .await
            .expect_err(&bad);
        assert!(e.to_string().contains("no access token"), "{e}");
    }
}

/// The temporary file of a blob PUT killed with the server is gone at the next start, not a
/// day later; a blob and other files stay (issue 14, item 10).
#[test]
fn a_killed_puts_temporary_file_is_removed_at_the_next_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServerConfig::default()
    };
    drop(Server::open(config.clone()).expect("open"));
    let blobs = dir.path().join("blobs");
    let tmp = blobs.join(".tmpAbC123");
    std::fs::write(&tmp, b"half a blob").expect("write");
    let blob = blobs.join("0".repeat(64));
    std::fs::write(&blob, b"a blob").expect("write");
    let _server = Server::open(config).expect("reopen");
    assert!(!tmp.exists(), "the temporary file is removed");
    assert!(blob.exists(), "blobs stay");
}
