//! The server's state on both metadata stores: versioned migrations (once, under a lock, with
//! replicas starting together), files of older servers, a newer schema refused, the secret
//! shared by replicas, and the health and readiness endpoints.

use std::time::Duration;

mod common;

use flakiness_server::{Server, ServerConfig};

fn open_on(data: &std::path::Path, database_url: Option<String>) -> Server {
    Server::open(ServerConfig {
        data_dir: data.to_path_buf(),
        database_url,
        ..ServerConfig::default()
    })
    .expect("open")
}

/// A `server.db` of the first servers (schema made without a version, `user_version` 0)
/// opens with its tokens and uploads, and gains the tables of later versions.
#[test]
fn a_server_db_of_an_older_server_is_migrated_in_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let old = rusqlite::Connection::open(dir.path().join("server.db")).expect("db");
    old.execute_batch(
        "CREATE TABLE projects (id INTEGER PRIMARY KEY, org TEXT NOT NULL,
             project TEXT NOT NULL, UNIQUE (org, project));
         CREATE TABLE tokens (hash TEXT PRIMARY KEY,
             project_id INTEGER NOT NULL REFERENCES projects(id), created_ms INTEGER NOT NULL);
         CREATE TABLE revoked_tokens (hash TEXT PRIMARY KEY,
             project_id INTEGER NOT NULL REFERENCES projects(id), revoked_ms INTEGER NOT NULL);
         CREATE TABLE uploads (id TEXT PRIMARY KEY,
             project_id INTEGER NOT NULL REFERENCES projects(id),
             token_hash TEXT NOT NULL UNIQUE,
             state TEXT NOT NULL CHECK (state IN ('pending', 'finished')),
             created_ms INTEGER NOT NULL, finished_ms INTEGER, report_blob TEXT,
             run_id INTEGER, content_hash TEXT);
         CREATE TABLE attachments (upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
             attachment_id TEXT NOT NULL, blob TEXT, content_type TEXT,
             PRIMARY KEY (upload_id, attachment_id));
         INSERT INTO projects VALUES (1, 'acme', 'web');
         INSERT INTO tokens VALUES ('abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789', 1, 1700000000000);",
    )
    .expect("old schema");
    drop(old);
    let server = open_on(dir.path(), None);
    let tokens = server.tokens().expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].id, "abcdef012345");
    assert_eq!(tokens[0].project, "acme/web");
    drop(server);
    let db = rusqlite::Connection::open(dir.path().join("server.db")).expect("db");
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert!(version >= 2, "{version}");
    let jobs: i64 = db
        .query_row("SELECT COUNT(*) FROM refresh_jobs", [], |r| r.get(0))
        .expect("refresh_jobs exists");
    assert_eq!(jobs, 0);
}

/// A `server.db` that a newer flakiness wrote is refused, saying so.
#[test]
fn a_newer_server_db_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = rusqlite::Connection::open(dir.path().join("server.db")).expect("db");
    db.pragma_update(None, "user_version", 999)
        .expect("version");
    drop(db);
    let e = Server::open(ServerConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServerConfig::default()
    })
    .expect_err("newer");
    assert!(e.to_string().contains("upgrade flakiness"), "{e}");
}

/// Eight replicas starting at once on an empty PostgreSQL database migrate it once (the
/// others wait for the lock, then find it done), share one secret, and each sees the tokens
/// the others made.
#[test]
fn replicas_starting_together_migrate_once_and_share_state() {
    if !common::stores().contains(&"postgres") {
        eprintln!("skipped: FLAKINESS_TEST_DATABASE_URL is not set");
        return;
    }
    let (_db, url) = common::database("postgres");
    let url = url.expect("url");
    let dirs: Vec<tempfile::TempDir> = (0..8).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let servers: Vec<Server> = std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|d| {
                let url = url.clone();
                scope.spawn(move || open_on(d.path(), Some(url)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let version: i64 = client
        .query_one("SELECT version FROM flakiness_server_schema", &[])
        .expect("schema")
        .get(0);
    assert!(version >= 1);
    let rows: i64 = client
        .query_one("SELECT COUNT(*) FROM flakiness_server_schema", &[])
        .expect("rows")
        .get(0);
    assert_eq!(rows, 1);
    let secrets: i64 = client
        .query_one("SELECT COUNT(*) FROM flakiness_server_secret", &[])
        .expect("secret")
        .get(0);
    assert_eq!(secrets, 1);
    // No secret file: the key is the database's.
    assert!(dirs.iter().all(|d| !d.path().join("secret").exists()));
    let token = servers[3].create_token("acme/web").expect("token");
    for s in &servers {
        assert_eq!(s.tokens().expect("tokens").len(), 1);
    }
    assert!(token.starts_with("flk_"));
    drop(servers);
}

/// `/healthz` answers while the process runs; `/readyz` answers 200 with its checks while the
/// database and blob storage answer, and 503 naming the database once it is gone.
#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness() {
    for store in common::stores() {
        let r = common::start(store).await;
        let health = common::get_json(&format!("{}/healthz", r.base)).await;
        assert_eq!(health["status"], "ok");
        let ready = common::get_json(&format!("{}/readyz", r.base)).await;
        assert_eq!(ready["status"], "ready", "{ready}");
        assert_eq!(ready["checks"]["database"], "ok", "{ready}");
        assert_eq!(ready["checks"]["blobs"], "ok", "{ready}");
        assert!(ready["replica"].as_str().is_some_and(|s| s.len() == 16));
        if store.starts_with("postgres") {
            // The database goes away under the running server.
            drop(r._db);
            let resp = reqwest::get(format!("{}/readyz", r.base))
                .await
                .expect("readyz");
            assert_eq!(resp.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
            let body: serde_json::Value = resp.json().await.expect("json");
            assert_eq!(body["status"], "unavailable", "{body}");
            let checks = body["checks"].as_object().expect("checks");
            assert!(
                checks.values().any(|v| v != "ok"),
                "a failed check is named: {body}"
            );
            let health = reqwest::get(format!("{}/healthz", r.base))
                .await
                .expect("healthz");
            assert_eq!(health.status(), reqwest::StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A server that kept its metadata in `server.db` and moves to `--database-url` goes on with
/// its projects, tokens, uploads and signing key; the file is kept as `server.db.imported`, and
/// a second replica imports nothing again.
#[test]
fn a_server_moving_to_postgres_keeps_its_tokens_and_uploads() {
    if !common::stores().contains(&"postgres") {
        eprintln!("skipped: FLAKINESS_TEST_DATABASE_URL is not set");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let alone = open_on(dir.path(), None);
    let token = alone.create_token("acme/web").expect("token");
    alone.create_token("acme/api").expect("token");
    let before = alone.tokens().expect("tokens");
    drop(alone);
    let key = std::fs::read(dir.path().join("secret")).expect("secret");
    let old = rusqlite::Connection::open(dir.path().join("server.db")).expect("db");
    old.execute(
        "INSERT INTO uploads (id, project_id, token_hash, state, created_ms, finished_ms,
             report_blob, run_id, content_hash)
         SELECT 'u1', id, 'h1', 'finished', 1, 2, 'b1', 7, 'c1' FROM projects WHERE project = 'web'",
        [],
    )
    .expect("upload");
    old.execute(
        "INSERT INTO attachments VALUES ('u1', 'a1', 'b2', 'text/plain')",
        [],
    )
    .expect("attachment");
    drop(old);

    let (_db, url) = common::database("postgres");
    let url = url.expect("url");
    let moved = open_on(dir.path(), Some(url.clone()));
    assert_eq!(moved.tokens().expect("tokens"), before);
    assert!(!dir.path().join("server.db").exists());
    assert!(dir.path().join("server.db.imported").exists());
    // A new token takes a new project id past the imported ones.
    moved.create_token("acme/new").expect("token");
    let other_dir = tempfile::tempdir().expect("tmp");
    let other = open_on(other_dir.path(), Some(url.clone()));
    assert_eq!(other.tokens().expect("tokens").len(), 3);
    drop((moved, other));

    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let stored: Vec<u8> = c
        .query_one("SELECT key FROM flakiness_server_secret", &[])
        .expect("secret")
        .get(0);
    assert_eq!(stored, key, "the file's key signs on");
    let row = c
        .query_one(
            "SELECT u.state, u.run_id, a.blob FROM flakiness_server_uploads u
             JOIN flakiness_server_attachments a ON a.upload_id = u.id WHERE u.id = 'u1'",
            &[],
        )
        .expect("upload");
    assert_eq!(row.get::<_, String>(0), "finished");
    assert_eq!(row.get::<_, Option<i64>>(1), Some(7));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("b2"));
    let projects: i64 = c
        .query_one("SELECT COUNT(*) FROM flakiness_server_projects", &[])
        .expect("count")
        .get(0);
    assert_eq!(projects, 3);
    assert!(token.starts_with("flk_"));
}
