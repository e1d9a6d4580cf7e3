//! What is particular to the embedded store, on real SQLite files: its schema pragmas, files
//! that are not ours, newer schemas, locks, a failure mid-ingest. What both stores do is in
//! contract.rs.

use std::path::Path;
use std::time::Duration;

mod common;
use common::{result, run};
use flakiness_store::{Ingested, Outcome, SqliteStore, StoreError, APPLICATION_ID, SCHEMA_VERSION};
use rusqlite::Connection;

fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("history.db")).expect("open")
}

#[test]
fn a_new_store_gets_the_schema_and_reopens_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open(dir.path());
    assert_eq!(store.counts().expect("counts"), Default::default());
    drop(store);
    let store = open(dir.path()); // migrations are idempotent
    drop(store);
    let c = Connection::open(dir.path().join("history.db")).expect("sqlite");
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    let app: i32 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("app");
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(
        (version, app, mode.as_str()),
        (SCHEMA_VERSION, APPLICATION_ID, "wal")
    );
}

#[test]
fn files_that_are_not_ours_are_refused_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    // Another program's SQLite database.
    let other = dir.path().join("other.db");
    Connection::open(&other)
        .expect("sqlite")
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .expect("create");
    let e = SqliteStore::open(&other).expect_err("not ours");
    assert!(matches!(e, StoreError::NotOurs { .. }), "{e}");
    assert!(
        e.to_string().contains("not a flakiness history store"),
        "{e}"
    );
    let body: String = Connection::open(&other)
        .expect("sqlite")
        .query_row("SELECT body FROM notes", [], |r| r.get(0))
        .expect("intact");
    assert_eq!(body, "mine");

    // Not SQLite at all.
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "just some text, long enough to be read as a header ........",
    )
    .expect("w");
    let e = SqliteStore::open(&text).expect_err("not a database");
    assert!(matches!(e, StoreError::NotOurs { .. }), "{e}");
    assert_eq!(
        std::fs::read_to_string(&text).expect("read"),
        "just some text, long enough to be read as a header ........"
    );

    // Ours, from a newer version.
    let newer = dir.path().join("newer.db");
    drop(SqliteStore::open(&newer).expect("create"));
    Connection::open(&newer)
        .expect("sqlite")
        .execute_batch("PRAGMA user_version = 99")
        .expect("bump");
    let e = SqliteStore::open(&newer).expect_err("newer");
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
}

#[test]
fn a_store_held_by_another_writer_is_reported_as_locked() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.db");
    let mut store =
        SqliteStore::open_with_timeout(&path, Duration::from_millis(200)).expect("open");
    let other = Connection::open(&path).expect("sqlite");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("hold the write lock");
    let e = store
        .ingest(&run(
            "x",
            1,
            vec![result("t", "linux", Outcome::Passed, 1, 0)],
        ))
        .expect_err("locked");
    assert!(
        matches!(e, StoreError::Locked { waited_ms: 200, .. }),
        "{e}"
    );
    other.execute_batch("ROLLBACK").expect("release");
    assert!(matches!(
        store
            .ingest(&run(
                "x",
                1,
                vec![result("t", "linux", Outcome::Passed, 1, 0)]
            ))
            .expect("then it works"),
        Ingested::New { .. }
    ));
}

#[test]
fn a_failure_mid_ingest_leaves_nothing_of_the_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.db");
    let mut store = SqliteStore::open(&path).expect("open");
    store
        .ingest(&run(
            "before",
            1,
            vec![result("t", "linux", Outcome::Passed, 1, 0)],
        ))
        .expect("first");
    // A failure the store cannot write, after the run, its tests and some results are in.
    Connection::open(&path)
        .expect("sqlite")
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON failures WHEN NEW.message LIKE 'boom failed #0%'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .expect("trigger");
    let bad = run(
        "bad",
        2,
        vec![
            result("new test", "linux", Outcome::Passed, 1, 0),
            result("boom", "linux", Outcome::Failed, 1, 1),
        ],
    );
    let e = store.ingest(&bad).expect_err("refused");
    assert!(e.to_string().contains("refused"), "{e}");
    let c = store.counts().expect("counts");
    assert_eq!((c.runs, c.tests, c.results, c.failures), (1, 1, 1, 0));
    assert!(!store.contains("bad").expect("contains"));
    // The test ids of the rolled-back transaction were not kept: a later ingest works.
    Connection::open(&path)
        .expect("sqlite")
        .execute_batch("DROP TRIGGER refuse")
        .expect("drop");
    assert!(matches!(
        store.ingest(&bad).expect("now"),
        Ingested::New { .. }
    ));
    assert_eq!(store.counts().expect("counts").tests, 3);
}
