//! A server on loopback for the tests: opened on a data folder, serving on a free port until
//! the test ends.

#![allow(dead_code)]

use std::path::Path;

use flakiness_report::{Report, RunAttempt, Suite, SuiteType, Test, TestStatus};
use flakiness_server::{serve_with_shutdown, Server, ServerConfig};
use flakiness_upload::{upload, Secret, UploadOptions};

/// Opens a server with `config`, makes a token for acme/web and serves it on a free port of
/// 127.0.0.1: (server, base URL, token).
pub async fn serve(config: ServerConfig) -> (Server, String, String) {
    let server = tokio::task::spawn_blocking(move || Server::open(config))
        .await
        .expect("join")
        .expect("open");
    let s = server.clone();
    let token = tokio::task::spawn_blocking(move || s.create_token("acme/web"))
        .await
        .expect("join")
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(serve_with_shutdown(
        listener,
        server.clone(),
        std::future::pending(),
    ));
    (server, base, token)
}

#[derive(Debug)]
pub struct Running {
    pub _dir: tempfile::TempDir,
    pub _db: Option<PgDb>,
    pub server: Server,
    pub base: String,
    pub token: String,
}

/// A PostgreSQL database of its own for a test, dropped after.
#[derive(Debug)]
pub struct PgDb {
    admin: String,
    name: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // The synchronous client may not run on a thread of the test's runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .join();
    }
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether `FLAKINESS_REQUIRE_SERVICES=1` (CI): then a service the tests need must be there.
fn services_required() -> bool {
    std::env::var("FLAKINESS_REQUIRE_SERVICES").as_deref() == Ok("1")
}

/// The server states to run against: `sqlite` (embedded, blobs on disk); `postgres` (blobs on
/// disk) when `FLAKINESS_TEST_DATABASE_URL` names a server; `postgres-s3` (blobs in the S3
/// bucket `.ci/s3.sh` made) when `FLAKINESS_TEST_S3_BUCKET` is set too. With
/// `FLAKINESS_REQUIRE_SERVICES=1`, a missing one fails the test.
pub fn stores() -> Vec<&'static str> {
    let mut out = vec!["sqlite"];
    let pg = std::env::var("FLAKINESS_TEST_DATABASE_URL").is_ok();
    let s3 = std::env::var("FLAKINESS_TEST_S3_BUCKET").is_ok();
    assert!(
        (pg && s3) || !services_required(),
        "FLAKINESS_REQUIRE_SERVICES=1 but FLAKINESS_TEST_DATABASE_URL or FLAKINESS_TEST_S3_BUCKET is not set"
    );
    if pg {
        out.push("postgres");
        if s3 {
            out.push("postgres-s3");
        }
    }
    out
}

/// The blob URL of `store`: a prefix of its own in the test bucket for `postgres-s3`.
pub fn blob_url(store: &str) -> Option<String> {
    (store == "postgres-s3").then(|| {
        format!(
            "s3://{}/server-{}-{}",
            std::env::var("FLAKINESS_TEST_S3_BUCKET").expect("bucket"),
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        )
    })
}

/// A database of its own for `store` (`postgres`) and its URL; none for `sqlite`.
pub fn database(store: &str) -> (Option<PgDb>, Option<String>) {
    let db = store.starts_with("postgres").then(|| {
        let admin = std::env::var("FLAKINESS_TEST_DATABASE_URL").expect("url");
        let name = format!(
            "flakiness_server_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let (a, n) = (admin.clone(), name.clone());
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&a, postgres::NoTls).expect("postgres");
            c.batch_execute(&format!("CREATE DATABASE {n}"))
                .expect("create");
        })
        .join()
        .expect("join");
        PgDb { admin, name }
    });
    let url = db.as_ref().map(PgDb::url);
    (db, url)
}

impl PgDb {
    /// The URL of this database.
    pub fn url(&self) -> String {
        let base = self
            .admin
            .rsplit_once('/')
            .map_or(self.admin.as_str(), |(b, _)| b);
        format!("{base}/{}", self.name)
    }
}

pub async fn start(store: &str) -> Running {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, database_url) = database(store);
    let (server, base, token) = serve(ServerConfig {
        data_dir: dir.path().join("data"),
        database_url,
        blob_url: blob_url(store),
        ..ServerConfig::default()
    })
    .await;
    Running {
        _dir: dir,
        _db: db,
        server,
        base,
        token,
    }
}

/// The body of a page that answers 200.
pub async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("get")
        .error_for_status()
        .expect("status")
        .text()
        .await
        .expect("text")
}

pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url)
        .await
        .expect("get")
        .error_for_status()
        .expect("status")
        .json()
        .await
        .expect("json")
}

/// A test name that is a script: pages must show it as text.
pub const XSS: &str = "<script>alert(1)</script>";

pub async fn upload_dir(r: &Running, dir: &Path) -> String {
    let mut opts = UploadOptions::new(&r.base);
    opts.access_token = Some(Secret::new(&r.token));
    opts.project = Some("acme/web".into());
    upload(dir, &opts, None)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .web_url
        .expect("web url")
}

pub fn write_report(dir: &Path, report: &Report) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_vec(report).expect("json"),
    )
    .expect("write");
}

/// A simulated history of `runs` runs (the mixed scenario, 40 tests, two environments), a
/// report whose test is named like a script, and playwright-full (image and text attachments),
/// uploaded by our client. Returns the web URLs of the last two.
pub async fn seed(r: &Running, tmp: &Path, runs: usize) -> (String, String) {
    let s = flakiness_sim::Scenario {
        runs,
        tests: 40,
        ..flakiness_sim::Scenario::named("mixed").expect("mixed")
    };
    for (i, report) in flakiness_sim::simulate(&s).reports.iter().enumerate() {
        let dir = tmp.join(format!("run-{i:04}"));
        write_report(&dir, report);
        upload_dir(r, &dir).await;
    }
    let mut hostile = Report::new("junit", "f".repeat(40));
    hostile.environments = vec![flakiness_report::Environment::new("linux")];
    hostile.title = Some(format!("title {XSS}"));
    let mut suite = Suite::new(SuiteType::File, "tests/hostile.spec.ts");
    suite.tests = Some(vec![
        Test::new(XSS).with_attempts([RunAttempt::with_status(TestStatus::Failed)])
    ]);
    hostile.suites = Some(vec![suite]);
    let dir = tmp.join("hostile");
    write_report(&dir, &hostile);
    let hostile_url = upload_dir(r, &dir).await;
    let full = upload_dir(
        r,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reports/valid/playwright-full"),
    )
    .await;
    (hostile_url, full)
}

/// A blob's content, read off the async runtime; `None` when it is not in storage.
pub async fn blob(server: &Server, sha: &str) -> Option<Vec<u8>> {
    let (s, sha) = (server.clone(), sha.to_string());
    tokio::task::spawn_blocking(move || s.read_blob(&sha))
        .await
        .expect("join")
        .expect("read blob")
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
