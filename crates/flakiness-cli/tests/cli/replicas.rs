//! Two `flakiness serve` replicas over one PostgreSQL database and one blob storage (the
//! S3-compatible server `.ci/s3.sh` starts, or a shared folder without it), behind a
//! round-robin TCP balancer of the test's own: uploads started on one replica and finished on
//! the other, 50 concurrent uploads spread over both, one replica killed in the middle of a
//! `PUT`, and the refresh of the pages run once per change across them (issue 20).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{flakiness, repo, stdout};

/// A PostgreSQL database of the test's own, dropped after.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh database, or `None` (the test is skipped) when no PostgreSQL server is named;
/// with `FLAKINESS_REQUIRE_SERVICES=1` (CI), a missing server fails the test.
fn database() -> Option<Database> {
    let Ok(admin) = std::env::var("FLAKINESS_TEST_DATABASE_URL") else {
        assert_ne!(
            std::env::var("FLAKINESS_REQUIRE_SERVICES").as_deref(),
            Ok("1"),
            "FLAKINESS_REQUIRE_SERVICES=1 but FLAKINESS_TEST_DATABASE_URL is not set"
        );
        eprintln!("skipped: FLAKINESS_TEST_DATABASE_URL is not set");
        return None;
    };
    let name = format!(
        "flakiness_replicas_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("postgres");
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("url").0);
    Some(Database { admin, name, url })
}

/// The blob storage the replicas share: a prefix of its own in the S3 bucket that
/// `.ci/s3.sh` made (`FLAKINESS_TEST_S3_BUCKET`, with the `AWS_*` variables it exports), or a
/// shared folder without it.
fn blob_url(tmp: &Path) -> String {
    match std::env::var("FLAKINESS_TEST_S3_BUCKET") {
        Ok(bucket) => format!(
            "s3://{bucket}/replicas-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ),
        Err(_) => {
            assert_ne!(
                std::env::var("FLAKINESS_REQUIRE_SERVICES").as_deref(),
                Ok("1"),
                "FLAKINESS_REQUIRE_SERVICES=1 but FLAKINESS_TEST_S3_BUCKET is not set"
            );
            eprintln!("blobs in a shared folder: FLAKINESS_TEST_S3_BUCKET is not set");
            format!("file://{}", tmp.join("blobs").display())
        }
    }
}

/// One `flakiness serve` process.
struct Replica {
    child: Child,
    addr: SocketAddr,
    data: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a replica on `bind` (`127.0.0.1:0` for a free port) with its own data folder;
/// waits until it is ready.
fn replica(db: &str, blobs: &str, data: &Path, bind: &str) -> Replica {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--bind", bind, "--database-url", db, "--blob-url", blobs])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr: SocketAddr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .parse()
        .expect("address");
    // Keep draining stderr, so that the replica never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let r = Replica {
        child,
        addr,
        data: data.to_path_buf(),
    };
    let http = reqwest::blocking::Client::new();
    let started = Instant::now();
    loop {
        let ready = http
            .get(format!("http://{addr}/readyz"))
            .send()
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return r;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the balancer does with a connection's bytes to a backend.
type Hook = dyn Fn(SocketAddr, &[u8], u64) + Send + Sync;

/// A round-robin TCP balancer: each connection goes to the next backend that accepts it.
struct Balancer {
    addr: SocketAddr,
    /// Connections per backend.
    counts: Arc<Mutex<HashMap<SocketAddr, usize>>>,
}

impl Balancer {
    /// `hook(backend, head, forwarded)` sees the first bytes of each request stream (up to
    /// 64 KiB) and how many bytes went to the backend so far, after each chunk.
    fn start(backends: Vec<SocketAddr>, hook: Arc<Hook>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counts: Arc<Mutex<HashMap<SocketAddr, usize>>> = Arc::default();
        let next = Arc::new(AtomicUsize::new(0));
        let c = counts.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let n = next.fetch_add(1, Ordering::SeqCst);
                // The next backend that answers, as a load balancer's health check would.
                let Some((backend, server)) = (0..backends.len()).find_map(|i| {
                    let b = backends[(n + i) % backends.len()];
                    TcpStream::connect(b).ok().map(|s| (b, s))
                }) else {
                    continue;
                };
                *c.lock().expect("lock").entry(backend).or_default() += 1;
                let hook = hook.clone();
                pipe(client, server, backend, hook);
            }
        });
        Balancer { addr, counts }
    }
}

/// Copies both ways until either side closes.
fn pipe(client: TcpStream, server: TcpStream, backend: SocketAddr, hook: Arc<Hook>) {
    let (mut c_in, mut s_out) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut head = Vec::new();
        let mut sent = 0u64;
        loop {
            let n = match c_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if head.len() < 64 * 1024 {
                head.extend_from_slice(&buf[..n.min(64 * 1024 - head.len())]);
            }
            if s_out.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n as u64;
            hook(backend, &head, sent);
        }
        let _ = s_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut s_in, &mut c_out);
        let _ = c_out.shutdown(std::net::Shutdown::Both);
    });
}

/// A report directory: playwright-full's report made distinct by its commit and title, with
/// its three shared attachments plus `extra` of its own (`extra_size` bytes each, made of
/// `seed`: incompressible).
fn report_dir(dir: &Path, seed: u64, extra: usize, extra_size: usize) -> PathBuf {
    let src = repo().join("testdata/reports/valid/playwright-full");
    let mut report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(src.join("report.json")).expect("read"))
            .expect("json");
    report["commitId"] = format!("{seed:040x}").into();
    report["title"] = format!("replica run {seed}").into();
    report["flakinessProject"] = "acme/web".into();
    let atts = dir.join("attachments");
    std::fs::create_dir_all(&atts).expect("mkdir");
    for entry in std::fs::read_dir(src.join("attachments")).expect("attachments") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), atts.join(entry.file_name())).expect("copy");
    }
    let mut added = Vec::new();
    for k in 0..extra {
        let id = format!("extra-{seed}-{k}");
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (k as u64 + 1);
        let bytes: Vec<u8> = (0..extra_size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(atts.join(&id), bytes).expect("write");
        added.push(serde_json::json!({
            "name": format!("{id}.bin"),
            "contentType": "application/octet-stream",
            "id": id,
        }));
    }
    // On the first attempt of the first test that has attachments.
    fn first_attachments(v: &mut serde_json::Value) -> Option<&mut Vec<serde_json::Value>> {
        match v {
            serde_json::Value::Object(map) => {
                if map.contains_key("attachments") && map.contains_key("status") {
                    return map.get_mut("attachments")?.as_array_mut();
                }
                map.values_mut().find_map(first_attachments)
            }
            serde_json::Value::Array(items) => items.iter_mut().find_map(first_attachments),
            _ => None,
        }
    }
    first_attachments(&mut report)
        .expect("an attempt with attachments")
        .extend(added);
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_vec(&report).expect("json"),
    )
    .expect("write");
    dir.to_path_buf()
}

/// `flakiness upload DIR` to `endpoint`.
fn upload(dir: &Path, endpoint: &str, token: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .arg("upload")
        .arg(dir)
        .args(["--endpoint", endpoint, "--retries", "6"])
        .env("FLAKINESS_ACCESS_TOKEN", token)
        .env_remove("FLAKINESS_DISABLE_UPLOAD")
        .output()
        .expect("upload")
}

/// A token for acme/web, made through one replica's state (the database).
fn token(db: &str, blobs: &str, data: &Path) -> String {
    let out = flakiness(&[
        "serve",
        "--data",
        data.to_str().expect("utf-8"),
        "--database-url",
        db,
        "--blob-url",
        blobs,
        "token",
        "create",
        "--project",
        "acme/web",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).trim().to_string()
}

fn get_json(http: &reqwest::blocking::Client, url: &str) -> serde_json::Value {
    http.get(url)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn get_bytes(http: &reqwest::blocking::Client, url: &str) -> Vec<u8> {
    http.get(url)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.bytes())
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .to_vec()
}

/// The same URL on another replica.
fn on(url: &str, addr: SocketAddr) -> String {
    let rest = url
        .strip_prefix("http://")
        .and_then(|u| u.split_once('/'))
        .map(|(_, path)| path)
        .expect("an http URL");
    format!("http://{addr}/{rest}")
}

/// Start on A, report `PUT` on B, attachments asked of A and sent to B, finish on B: one run,
/// whose report and attachments both replicas serve, byte for byte.
#[test]
fn an_upload_started_on_one_replica_finishes_on_the_other() {
    let Some(db) = database() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let blobs = blob_url(tmp.path());
    let token = token(&db.url, &blobs, &tmp.path().join("admin"));
    let a = replica(&db.url, &blobs, &tmp.path().join("a"), "127.0.0.1:0");
    let b = replica(&db.url, &blobs, &tmp.path().join("b"), "127.0.0.1:0");
    let http = reqwest::blocking::Client::new();
    let dir = report_dir(&tmp.path().join("report"), 1, 2, 3000);
    let report = std::fs::read(dir.join("report.json")).expect("report");

    let start: serde_json::Value = http
        .post(format!("http://{}/api/upload/start", a.addr))
        .bearer_auth(&token)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("start on A");
    let upload_token = start["uploadToken"].as_str().expect("token").to_string();
    let put = http
        .put(on(
            start["presignedReportUrl"].as_str().expect("url"),
            b.addr,
        ))
        .body(report.clone())
        .send()
        .expect("put on B");
    assert!(put.status().is_success(), "{}", put.status());
    let ids: Vec<String> = std::fs::read_dir(dir.join("attachments"))
        .expect("attachments")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let presigned: Vec<serde_json::Value> = http
        .post(format!("http://{}/api/upload/attachments", a.addr))
        .bearer_auth(&upload_token)
        .json(&serde_json::json!({ "attachmentIds": ids }))
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("attachments on A");
    for p in &presigned {
        let id = p["attachmentId"].as_str().expect("id");
        let body = std::fs::read(dir.join("attachments").join(id)).expect("read");
        let put = http
            .put(on(p["presignedUrl"].as_str().expect("url"), b.addr))
            .body(body)
            .send()
            .expect("put on B");
        assert!(put.status().is_success(), "{id}: {}", put.status());
    }
    let finished: serde_json::Value = http
        .post(format!("http://{}/api/upload/finish", b.addr))
        .bearer_auth(&upload_token)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("finish on B");
    let run = finished["runId"].as_i64().expect("run id");
    // A second finish, on A, finds it done: the same run, nothing new.
    let again: serde_json::Value = http
        .post(format!("http://{}/api/upload/finish", a.addr))
        .bearer_auth(&upload_token)
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("finish on A");
    assert_eq!(again["runId"], finished["runId"]);
    for r in [&a, &b] {
        let base = format!("http://{}/api/projects/acme/web", r.addr);
        let runs = get_json(&http, &format!("{base}/runs"));
        assert_eq!(runs.as_array().expect("runs").len(), 1, "{runs}");
        assert_eq!(
            get_bytes(&http, &format!("{base}/runs/{run}/report")),
            report,
            "the report as sent, from {}",
            r.addr
        );
        for id in &ids {
            let want = std::fs::read(dir.join("attachments").join(id)).expect("read");
            let got = get_bytes(&http, &format!("{base}/runs/{run}/attachments/{id}"));
            assert_eq!(got, want, "{id} from {}", r.addr);
        }
    }
    // Nothing of the state is on a replica's disk: no metadata file, no blob, no secret.
    for r in [&a, &b] {
        for name in ["server.db", "history.db", "secret"] {
            assert!(
                !r.data.join(name).exists(),
                "{name} in {}",
                r.data.display()
            );
        }
    }
}

/// The folder that holds the blobs of `blobs` (an S3 URL's objects are files under
/// `FLAKINESS_TEST_S3_ROOT`, the folder of `.ci/s3.sh`'s server), or `None` when unknown.
fn blob_folder(blobs: &str) -> Option<PathBuf> {
    if let Some(path) = blobs.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    let rest = blobs.strip_prefix("s3://")?;
    let root = std::env::var("FLAKINESS_TEST_S3_ROOT").ok()?;
    Some(Path::new(&root).join(rest).join("blobs"))
}

/// Every blob in storage is whole (its content hashes to its name) and referenced by an
/// upload; every blob an upload refers to is in storage.
fn check_blobs(blobs: &str, c: &mut postgres::Client) {
    use sha2::Digest as _;
    let referenced: BTreeSet<String> = c
        .query(
            "SELECT report_blob FROM flakiness_server_uploads WHERE report_blob IS NOT NULL
             UNION SELECT blob FROM flakiness_server_attachments WHERE blob IS NOT NULL",
            &[],
        )
        .expect("blobs")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let Some(folder) = blob_folder(blobs) else {
        eprintln!("blob files not checked: FLAKINESS_TEST_S3_ROOT is not set");
        return;
    };
    let mut stored = BTreeSet::new();
    for e in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if name.len() != 64 {
            continue;
        }
        let digest = sha2::Sha256::digest(std::fs::read(e.path()).expect("read"));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, name, "a blob whose content is not its name (partial?)");
        stored.insert(name);
    }
    assert_eq!(
        stored, referenced,
        "stored blobs are exactly the referenced ones"
    );
}

/// 50 uploads at once through the balancer (plus one with a 24 MB attachment, whose `PUT`
/// kills the replica it lands on halfway): every upload succeeds, each run is stored once,
/// every report and attachment reads back byte for byte from the surviving replica and from
/// the killed one once restarted; every stored blob is whole; the pages' refresh ran at most
/// once per change and caught up with every change.
#[test]
fn fifty_uploads_over_two_replicas_survive_a_replica_killed_mid_upload() {
    let Some(db) = database() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let blobs = blob_url(tmp.path());
    let token = token(&db.url, &blobs, &tmp.path().join("admin"));
    let replicas: Arc<Mutex<Vec<Replica>>> = Arc::new(Mutex::new(vec![
        replica(&db.url, &blobs, &tmp.path().join("a"), "127.0.0.1:0"),
        replica(&db.url, &blobs, &tmp.path().join("b"), "127.0.0.1:0"),
    ]));
    let addrs: Vec<SocketAddr> = replicas
        .lock()
        .expect("lock")
        .iter()
        .map(|r| r.addr)
        .collect();
    let killed: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let armed = Arc::new(AtomicBool::new(true));
    let hook: Arc<Hook> = {
        // Weak: the balancer's threads outlive the test; the replicas must not.
        let (replicas, killed, armed) = (Arc::downgrade(&replicas), killed.clone(), armed.clone());
        Arc::new(move |backend, head, sent| {
            let big =
                head.starts_with(b"PUT /blobs/") && head.windows(10).any(|w| w == b"extra-999-");
            if big && sent > 12 << 20 && armed.swap(false, Ordering::SeqCst) {
                let Some(replicas) = replicas.upgrade() else {
                    return;
                };
                let mut rs = replicas.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(r) = rs.iter_mut().find(|r| r.addr == backend) {
                    r.child.kill().expect("SIGKILL");
                    r.child.wait().expect("wait");
                    *killed.lock().expect("lock") = Some(backend);
                }
            }
        })
    };
    let lb = Balancer::start(addrs.clone(), hook);
    let endpoint = format!("http://{}", lb.addr);

    let dirs: Vec<PathBuf> = (0..50)
        .map(|i| report_dir(&tmp.path().join(format!("r{i}")), i, 2, 2000 + i as usize))
        .chain(std::iter::once(report_dir(
            &tmp.path().join("big"),
            999,
            1,
            24 << 20,
        )))
        .collect();
    let results: Vec<(PathBuf, std::process::Output)> = std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|d| {
                let (endpoint, token) = (&endpoint, &token);
                scope.spawn(move || (d.clone(), upload(d, endpoint, token)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    for (dir, out) in &results {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let killed = killed
        .lock()
        .expect("lock")
        .expect("a replica was killed mid-PUT");
    let counts = lb.counts.lock().expect("lock").clone();
    assert!(
        addrs
            .iter()
            .all(|a| counts.get(a).copied().unwrap_or(0) > 0),
        "both replicas served: {counts:?}"
    );

    // The killed replica comes back on its port.
    {
        let mut rs = replicas.lock().expect("lock");
        let i = rs.iter().position(|r| r.addr == killed).expect("killed");
        let data = rs[i].data.clone();
        rs[i] = replica(&db.url, &blobs, &data, &killed.to_string());
    }
    let http = reqwest::blocking::Client::new();
    for addr in &addrs {
        let base = format!("http://{addr}/api/projects/acme/web");
        let runs = get_json(&http, &format!("{base}/runs"));
        let runs = runs.as_array().expect("runs");
        let titles: BTreeSet<String> = runs
            .iter()
            .map(|r| r["title"].as_str().expect("title").to_string())
            .collect();
        assert_eq!(runs.len(), 51, "each upload is one run, once: {titles:?}");
        assert_eq!(titles.len(), 51);
        let by_title: BTreeMap<String, i64> = runs
            .iter()
            .map(|r| {
                (
                    r["title"].as_str().expect("title").to_string(),
                    r["id"].as_i64().expect("id"),
                )
            })
            .collect();
        for dir in &dirs {
            let report = std::fs::read(dir.join("report.json")).expect("report");
            let v: serde_json::Value = serde_json::from_slice(&report).expect("json");
            let run = by_title[v["title"].as_str().expect("title")];
            assert_eq!(
                get_bytes(&http, &format!("{base}/runs/{run}/report")),
                report,
                "{} from {addr}",
                dir.display()
            );
            for e in std::fs::read_dir(dir.join("attachments")).expect("attachments") {
                let e = e.expect("entry");
                let id = e.file_name().to_string_lossy().into_owned();
                let want = std::fs::read(e.path()).expect("read");
                let got = get_bytes(&http, &format!("{base}/runs/{run}/attachments/{id}"));
                assert!(got == want, "{id} of {} from {addr}", dir.display());
            }
        }
    }

    // In the database: 51 finished uploads, one per run; the refresh jobs caught up, with at
    // most one refresh per change.
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let finished: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM flakiness_server_uploads WHERE state = 'finished'",
            &[],
        )
        .expect("count")
        .get(0);
    let distinct: i64 = c
        .query_one(
            "SELECT COUNT(DISTINCT run_id) FROM flakiness_server_uploads WHERE state = 'finished'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!((finished, distinct), (51, 51));
    let runs: i64 = c
        .query_one("SELECT COUNT(*) FROM flakiness_runs", &[])
        .expect("count")
        .get(0);
    assert_eq!(runs, 51, "no run stored twice");
    // Pending uploads may remain: a `start` whose answer was cut by the kill was sent again;
    // the first one expires like any abandoned upload.
    check_blobs(&blobs, &mut c);
    let started = Instant::now();
    loop {
        let row = c
            .query_one(
                "SELECT wanted, done, refreshes FROM flakiness_server_refresh_jobs",
                &[],
            )
            .expect("job");
        let (wanted, done, refreshes): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(wanted, 51, "one change per finished upload");
        assert!(
            refreshes <= wanted,
            "{refreshes} refreshes for {wanted} changes"
        );
        if done == wanted {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the refreshes did not catch up: {done} of {wanted}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Changes finished one at a time on alternate replicas: each is refreshed once, by one
/// replica; the replicas' own counts add up to the job table's.
#[test]
fn each_change_is_refreshed_once_across_replicas() {
    let Some(db) = database() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let blobs = blob_url(tmp.path());
    let token = token(&db.url, &blobs, &tmp.path().join("admin"));
    let rs = [
        replica(&db.url, &blobs, &tmp.path().join("a"), "127.0.0.1:0"),
        replica(&db.url, &blobs, &tmp.path().join("b"), "127.0.0.1:0"),
    ];
    let http = reqwest::blocking::Client::new();
    let changes = 6;
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let job = |c: &mut postgres::Client| -> (i64, i64, i64) {
        c.query_opt(
            "SELECT wanted, done, refreshes FROM flakiness_server_refresh_jobs",
            &[],
        )
        .expect("job")
        .map_or((0, 0, 0), |r| (r.get(0), r.get(1), r.get(2)))
    };
    for i in 0..changes {
        let r = &rs[i % 2];
        let dir = report_dir(&tmp.path().join(format!("r{i}")), i as u64, 1, 100);
        let out = upload(&dir, &format!("http://{}", r.addr), &token);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Each change is refreshed before the next one comes.
        let started = Instant::now();
        while job(&mut c).1 < i as i64 + 1 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no refresh of change {i}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let (wanted, done, refreshes) = job(&mut c);
    assert_eq!(
        (wanted, done, refreshes),
        (changes as i64, changes as i64, changes as i64)
    );
    let per_replica: i64 = rs
        .iter()
        .map(|r| {
            get_json(&http, &format!("http://{}/readyz", r.addr))["refreshes"]
                .as_i64()
                .expect("refreshes")
        })
        .sum();
    assert_eq!(
        per_replica, changes as i64,
        "no replica refreshed a change twice"
    );
}

/// SIGTERM (what an orchestrator sends to stop a replica) stops `serve` cleanly: exit 0,
/// within the grace period.
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args(["serve", "--data"])
        .arg(tmp.path().join("data"))
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    assert!(first.contains("SIGTERM"), "{first}");
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .expect("address")
        .to_string();
    std::thread::spawn(move || for _ in lines {});
    let health = get_json(
        &reqwest::blocking::Client::new(),
        &format!("http://{addr}/healthz"),
    );
    assert_eq!(health["status"], "ok");
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "a clean exit");
}
