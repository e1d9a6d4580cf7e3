//! The embedded store on real SQLite files: schema, ingest, reads, pruning, and what goes
//! wrong (files that are not ours, newer schemas, locks, failures mid-ingest, two writers).

use std::path::Path;
use std::time::Duration;

use flakiness_store::{
    FailureKind, FailureRecord, Ingested, Outcome, RunMeta, RunRecord, SqliteStore, StoreError,
    TestResult, APPLICATION_ID, SCHEMA_VERSION,
};
use rusqlite::Connection;

fn result(title: &str, env: &str, outcome: Outcome, attempts: u32, failed: u32) -> TestResult {
    TestResult {
        file: "tests/a.rs".into(),
        title_path: vec!["suite".into(), title.into()],
        environment: env.into(),
        outcome,
        attempts,
        failed_attempts: failed,
        duration_ms: Some(10 * attempts as i64),
        failures: (0..failed)
            .map(|i| FailureRecord {
                attempt: i,
                kind: FailureKind::Assertion,
                message: Some(format!("{title} failed #{i}")),
                stack: Some("at tests/a.rs:3".into()),
            })
            .collect(),
    }
}

fn run(hash: &str, start_ms: i64, results: Vec<TestResult>) -> RunRecord {
    RunRecord {
        meta: RunMeta {
            content_hash: hash.into(),
            source: format!("reports/{hash}"),
            commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
            start_ms,
            duration_ms: 1000,
            title: Some(format!("run {hash}")),
            url: None,
            category: "junit".into(),
        },
        results,
    }
}

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
fn runs_are_stored_once_and_read_back_in_start_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = open(dir.path());
    let late = run(
        "bbb",
        2_000,
        vec![
            result("t1", "linux", Outcome::Passed, 1, 0),
            result("t2", "linux", Outcome::Flaky, 2, 1),
        ],
    );
    let early = run(
        "aaa",
        1_000,
        vec![
            result("t1", "linux", Outcome::Failed, 1, 1),
            result("t1", "mac", Outcome::Skipped, 0, 0),
        ],
    );
    let Ingested::New { run_id: late_id } = store.ingest(&late).expect("ingest") else {
        panic!("new run")
    };
    assert!(matches!(
        store.ingest(&early).expect("ingest"),
        Ingested::New { .. }
    ));
    assert_eq!(
        store.ingest(&late).expect("again"),
        Ingested::AlreadyPresent
    );
    assert!(store.contains("aaa").expect("contains"));
    assert!(!store.contains("zzz").expect("contains"));

    let runs = store.runs().expect("runs");
    let hashes: Vec<&str> = runs.iter().map(|r| r.meta.content_hash.as_str()).collect();
    assert_eq!(hashes, ["aaa", "bbb"], "by start time, not by ingest order");
    assert_eq!(runs[1].id, late_id);
    assert_eq!(runs[0].meta.title.as_deref(), Some("run aaa"));

    let tests = store.tests().expect("tests");
    let keys: Vec<(Vec<String>, &str)> = tests
        .iter()
        .map(|t| (t.title_path.clone(), t.environment.as_str()))
        .collect();
    let path = |t: &str| vec!["suite".to_string(), t.to_string()];
    assert_eq!(
        keys,
        [
            (path("t1"), "linux"),
            (path("t2"), "linux"),
            (path("t1"), "mac")
        ]
    );

    let mut rows = Vec::new();
    store
        .for_each_result(|r| rows.push((r.test_id, r.run_id, r.outcome, r.attempts)))
        .expect("results");
    assert_eq!(rows.len(), 4);
    assert!(
        rows.windows(2).all(|w| w[0].0 <= w[1].0),
        "grouped by test: {rows:?}"
    );
    let t2 = tests[1].id;
    assert_eq!(
        rows.iter().filter(|r| r.0 == t2).collect::<Vec<_>>(),
        [&(t2, late_id, Outcome::Flaky, 2)]
    );
    let failures = store.failures(late_id, t2).expect("failures");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].message.as_deref(), Some("t2 failed #0"));
    assert_eq!(failures[0].kind, FailureKind::Assertion);
    assert_eq!(store.counts().expect("counts").failures, 2);
}

#[test]
fn results_of_one_test_in_one_run_are_merged() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = open(dir.path());
    // The same test twice in one report (a duplicate the validator warns about): its
    // attempts add up; a failed run and a passed run of it make it flaky.
    let r = run(
        "dup",
        1,
        vec![
            result("t", "linux", Outcome::Failed, 1, 1),
            result("t", "linux", Outcome::Passed, 2, 0),
            result("t", "linux", Outcome::Failed, 1, 1),
        ],
    );
    let Ingested::New { run_id } = store.ingest(&r).expect("ingest") else {
        panic!("new")
    };
    let mut rows = Vec::new();
    store
        .for_each_result(|r| rows.push((r.outcome, r.attempts, r.failed_attempts, r.duration_ms)))
        .expect("rows");
    assert_eq!(rows, [(Outcome::Flaky, 4, 2, Some(40))]);
    let test = store.tests().expect("tests")[0].id;
    let attempts: Vec<u32> = store
        .failures(run_id, test)
        .expect("failures")
        .iter()
        .map(|f| f.attempt)
        .collect();
    assert_eq!(
        attempts,
        [0, 3],
        "attempt numbers continue across the merged results"
    );
}

#[test]
fn pruning_removes_old_runs_and_tests_left_without_results() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = open(dir.path());
    store
        .ingest(&run(
            "old",
            100,
            vec![result("gone", "linux", Outcome::Failed, 1, 1)],
        ))
        .expect("old");
    store
        .ingest(&run(
            "new",
            200,
            vec![result("kept", "linux", Outcome::Passed, 1, 0)],
        ))
        .expect("new");
    assert_eq!(store.prune_before(150).expect("prune"), 1);
    let c = store.counts().expect("counts");
    assert_eq!((c.runs, c.tests, c.results, c.failures), (1, 1, 1, 0));
    assert_eq!(store.tests().expect("tests")[0].title_path[1], "kept");
    // A pruned run can come back (same hash): it is new again.
    assert!(matches!(
        store
            .ingest(&run(
                "old",
                100,
                vec![result("gone", "linux", Outcome::Failed, 1, 1)]
            ))
            .expect("again"),
        Ingested::New { .. }
    ));
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
            "CREATE TRIGGER refuse BEFORE INSERT ON failures WHEN NEW.message = 'boom failed #0'
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

/// Two writers (each with its own connection, as two processes would) create the store at the
/// same time and ingest into it: nothing is lost.
#[test]
fn two_writers_share_one_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.db");
    std::thread::scope(|scope| {
        for w in 0..2 {
            let path = path.clone();
            scope.spawn(move || {
                let mut store = SqliteStore::open(&path).expect("open");
                for i in 0..50 {
                    let hash = format!("w{w}-{i}");
                    let r = run(
                        &hash,
                        i,
                        (0..20)
                            .map(|t| result(&format!("t{t}"), "linux", Outcome::Passed, 1, 0))
                            .collect(),
                    );
                    assert!(matches!(
                        store.ingest(&r).expect("ingest"),
                        Ingested::New { .. }
                    ));
                }
            });
        }
    });
    let store = SqliteStore::open(&path).expect("open");
    let c = store.counts().expect("counts");
    assert_eq!((c.runs, c.tests, c.results), (100, 20, 2000));
}
