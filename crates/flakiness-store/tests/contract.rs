//! One contract, both stores: every test here runs against a fresh SQLite file and, when
//! `FLAKINESS_TEST_DATABASE_URL` names a PostgreSQL server (`.ci/run` starts one), against a
//! fresh PostgreSQL database created for it (and dropped after).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::{keyed, result, run};

use flakiness_store::{HistoryStore, Ingested, Outcome, PgStore, SqliteStore, StoreError};

/// Where a store lives; opening it again gives another connection to the same store.
enum Location {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        admin: String,
        name: String,
        url: String,
    },
}

impl Location {
    fn open(&self) -> Box<dyn HistoryStore + Send> {
        match self {
            Location::Sqlite { path, .. } => Box::new(SqliteStore::open(path).expect("sqlite")),
            Location::Postgres { url, .. } => Box::new(PgStore::connect(url).expect("postgres")),
        }
    }
}

impl Drop for Location {
    fn drop(&mut self) {
        if let Location::Postgres { admin, name, .. } = self {
            if let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh store of each kind available.
fn locations() -> Vec<(&'static str, Location)> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.db");
    let mut out = vec![("sqlite", Location::Sqlite { _dir: dir, path })];
    match std::env::var("FLAKINESS_TEST_DATABASE_URL") {
        Ok(admin) => {
            let name = format!(
                "flakiness_test_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            );
            let mut c = postgres::Client::connect(&admin, postgres::NoTls)
                .expect("FLAKINESS_TEST_DATABASE_URL is set but the server cannot be reached");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create a test database");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            out.push(("postgres", Location::Postgres { admin, name, url }));
        }
        Err(_) => eprintln!("PostgreSQL skipped: FLAKINESS_TEST_DATABASE_URL is not set"),
    }
    out
}

#[test]
fn runs_are_stored_once_and_read_back_in_start_order() {
    for (kind, loc) in locations() {
        let mut s = loc.open();
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
        let Ingested::New { run_id: late_id } = s.ingest(&late).expect("ingest") else {
            panic!("{kind}: new run")
        };
        assert!(matches!(
            s.ingest(&early).expect("ingest"),
            Ingested::New { .. }
        ));
        assert_eq!(
            s.ingest(&late).expect("again"),
            Ingested::AlreadyPresent,
            "{kind}"
        );
        assert!(s.contains("aaa").expect("contains"));
        assert!(!s.contains("zzz").expect("contains"));

        let runs = s.runs().expect("runs");
        let hashes: Vec<&str> = runs.iter().map(|r| r.meta.content_hash.as_str()).collect();
        assert_eq!(hashes, ["aaa", "bbb"], "{kind}");
        assert_eq!(runs[1].id, late_id);
        assert_eq!(runs[1].meta, late.meta, "{kind}");

        let tests = s.tests().expect("tests");
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
            ],
            "{kind}"
        );
        let mut rows = Vec::new();
        s.for_each_result(&mut |r| rows.push((r.test_id, r.run_id, r.outcome, r.attempts)))
            .expect("results");
        assert_eq!(rows.len(), 4, "{kind}");
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| (r.1, r.0));
        assert_eq!(rows, sorted, "{kind}: by run, then test");
        let t2 = tests[1].id;
        let failures = s.failures(late_id, t2).expect("failures");
        assert_eq!(failures, late.results[1].failures, "{kind}");
        assert_eq!(s.test_failures(t2, 10).expect("by test")[0].0, late_id);
        // No limit: every one of them (PostgreSQL's LIMIT takes no more than i64::MAX).
        assert_eq!(
            s.test_failures(t2, usize::MAX).expect("unlimited"),
            s.test_failures(t2, 10).expect("by test"),
            "{kind}"
        );
        assert_eq!(s.run_failures(late_id).expect("by run").len(), 1);
        let mut all = 0;
        s.for_each_failure(&mut |_, _, _| all += 1).expect("all");
        assert_eq!(all, 2, "{kind}");
        let totals: Vec<(i64, u64, u64, u64)> = s
            .run_totals()
            .expect("totals")
            .iter()
            .map(|t| (t.run_id, t.ran, t.failed, t.flaky))
            .collect();
        let early_id = runs[0].id;
        let mut want = vec![(early_id, 1, 1, 0), (late_id, 2, 0, 1)];
        want.sort_unstable();
        assert_eq!(totals, want, "{kind}: by run; ran excludes skipped");
    }
}

#[test]
fn results_of_one_test_in_one_run_are_merged() {
    for (kind, loc) in locations() {
        let mut s = loc.open();
        let r = run(
            "dup",
            1,
            vec![
                result("t", "linux", Outcome::Failed, 1, 1),
                result("t", "linux", Outcome::Passed, 2, 0),
                result("t", "linux", Outcome::Failed, 1, 1),
            ],
        );
        let Ingested::New { run_id } = s.ingest(&r).expect("ingest") else {
            panic!("new")
        };
        let mut rows = Vec::new();
        s.for_each_result(&mut |r| {
            rows.push((
                r.outcome,
                r.attempts,
                r.failed_attempts,
                r.duration_ms,
                r.failed_duration_ms,
            ))
        })
        .expect("rows");
        assert_eq!(
            rows,
            [(Outcome::Flaky, 4, 2, Some(40), Some(20))],
            "{kind}: durations add up, the failed ones too"
        );
        let totals = s.run_totals().expect("totals");
        assert_eq!(totals[0].failed_duration_ms, 20, "{kind}");
        let test = s.tests().expect("tests")[0].id;
        let attempts: Vec<u32> = s
            .failures(run_id, test)
            .expect("failures")
            .iter()
            .map(|f| f.attempt)
            .collect();
        assert_eq!(attempts, [0, 3], "{kind}");
    }
}

#[test]
fn pruning_removes_old_runs_and_tests_left_without_results() {
    for (kind, loc) in locations() {
        let mut s = loc.open();
        s.ingest(&run(
            "old",
            100,
            vec![result("gone", "linux", Outcome::Failed, 1, 1)],
        ))
        .expect("old");
        s.ingest(&run(
            "new",
            200,
            vec![result("kept", "linux", Outcome::Passed, 1, 0)],
        ))
        .expect("new");
        assert_eq!(s.prune_before(150).expect("prune"), 1, "{kind}");
        let c = s.counts().expect("counts");
        assert_eq!(
            (c.runs, c.tests, c.results, c.failures),
            (1, 1, 1, 0),
            "{kind}"
        );
        // The same run again is new again, and its test comes back.
        assert!(matches!(
            s.ingest(&run(
                "old",
                100,
                vec![result("gone", "linux", Outcome::Failed, 1, 1)]
            ))
            .expect("again"),
            Ingested::New { .. }
        ));
        assert_eq!(s.counts().expect("counts").tests, 2, "{kind}");
    }
}

/// Two writers, each with its own connection, open the store at once and ingest into it:
/// nothing is lost, tests shared by both are stored once.
#[test]
fn two_writers_share_one_store() {
    for (kind, loc) in locations() {
        std::thread::scope(|scope| {
            for w in 0..2 {
                let loc = &loc;
                scope.spawn(move || {
                    let mut s = loc.open();
                    for i in 0..30 {
                        let r = run(
                            &format!("w{w}-{i}"),
                            i,
                            (0..20)
                                .map(|t| result(&format!("t{t}"), "linux", Outcome::Passed, 1, 0))
                                .collect(),
                        );
                        assert!(matches!(
                            s.ingest(&r).expect("ingest"),
                            Ingested::New { .. }
                        ));
                    }
                });
            }
        });
        let c = loc.open().counts().expect("counts");
        assert_eq!((c.runs, c.tests, c.results), (60, 20, 1200), "{kind}");
    }
}

/// The schema is created once and found again; a store reopened reads the same.
#[test]
fn reopening_keeps_everything() {
    for (kind, loc) in locations() {
        loc.open()
            .ingest(&run(
                "x",
                1,
                vec![result("t", "linux", Outcome::Passed, 1, 0)],
            ))
            .expect("ingest");
        let mut again = loc.open();
        assert!(again.contains("x").expect("contains"), "{kind}");
        assert_eq!(again.counts().expect("counts").results, 1);
        assert!(!again.describe().is_empty());
    }
}

/// A server that is not there: a clear error, and the password never in it.
#[test]
fn an_unreachable_server_is_reported_without_the_password() {
    let e = PgStore::connect("postgres://ci:s3cret-pw@127.0.0.1:1/history").expect_err("down");
    assert!(matches!(e, StoreError::Unreachable { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("postgres://ci:***@127.0.0.1:1/history"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(!format!("{e:?}").contains("s3cret"));
}

/// The PostgreSQL connection killed in the middle of ingesting (the server side closes it,
/// as when the server goes away): the call fails with a clear error, and every run that was
/// stored is whole; a new connection carries on.
#[test]
fn a_connection_lost_mid_ingest_leaves_only_whole_runs() {
    for (kind, loc) in locations() {
        let Location::Postgres { url, admin, name } = &loc else {
            continue;
        };
        let mut s = PgStore::connect(url).expect("connect");
        let mut killer = postgres::Client::connect(admin, postgres::NoTls).expect("admin");
        let per_run = 300;
        let record = |i: usize| {
            run(
                &format!("r{i}"),
                i as i64,
                (0..per_run)
                    .map(|t| result(&format!("t{t}"), "linux", Outcome::Failed, 1, 1))
                    .collect(),
            )
        };
        let outcome = std::thread::scope(|scope| {
            let ingest = scope.spawn(move || {
                for i in 0..10_000 {
                    s.ingest(&record(i))?;
                }
                Ok(())
            });
            std::thread::sleep(std::time::Duration::from_millis(300));
            killer
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[name],
                )
                .expect("terminate");
            ingest.join().expect("thread")
        });
        let e = outcome.expect_err("the connection was killed");
        assert!(
            matches!(
                e,
                StoreError::Unreachable { .. } | StoreError::Postgres { .. }
            ),
            "{kind}: {e}"
        );
        let mut again = loc.open();
        let runs = again.runs().expect("runs");
        assert!(!runs.is_empty(), "some runs were stored before");
        let mut per = std::collections::HashMap::new();
        again
            .for_each_result(&mut |r| *per.entry(r.run_id).or_insert(0usize) += 1)
            .expect("results");
        for r in &runs {
            assert_eq!(
                per.get(&r.id),
                Some(&per_run),
                "{kind}: run {} is whole",
                r.id
            );
        }
        let c = again.counts().expect("counts");
        assert_eq!(c.failures as usize, runs.len() * per_run);
        // And it carries on.
        assert!(matches!(
            again.ingest(&record(99_999)).expect("ingest after"),
            Ingested::New { .. }
        ));
    }
}

/// Several runs stored together: each new one once, a repeat (even within the batch) found
/// present, and the remembered sources read back.
#[test]
fn runs_stored_in_a_batch_are_each_stored_once() {
    for (kind, loc) in locations() {
        let mut store = loc.open();
        let a = run("a", 1, vec![result("t", "linux", Outcome::Passed, 1, 0)]);
        let b = run(
            "b",
            2,
            vec![
                result("t", "linux", Outcome::Failed, 2, 2),
                result("u", "linux", Outcome::Passed, 1, 0),
            ],
        );
        let done = store.ingest_many(&[&a, &b, &a]).expect("batch");
        assert!(matches!(done[0], Ingested::New { .. }), "{kind}");
        assert!(matches!(done[1], Ingested::New { .. }), "{kind}");
        assert_eq!(done[2], Ingested::AlreadyPresent, "{kind}");
        let again = store.ingest_many(&[&b]).expect("again");
        assert_eq!(again, [Ingested::AlreadyPresent], "{kind}");
        let c = store.counts().expect("counts");
        assert_eq!((c.runs, c.tests, c.results), (2, 2, 3), "{kind}");
        let mut rows = Vec::new();
        store
            .for_each_result(&mut |r| rows.push((r.run_id, r.outcome)))
            .expect("results");
        assert_eq!(rows.len(), 3, "{kind}");

        store
            .remember_sources(&[
                ("/r/a.xml".into(), 10, 100, "a".into()),
                ("/r/b.xml".into(), 20, 200, "b".into()),
            ])
            .expect("remember");
        assert_eq!(
            store
                .source_hash("/r/b.xml", 20, 200)
                .expect("hash")
                .as_deref(),
            Some("b"),
            "{kind}"
        );
        assert_eq!(store.source_hash("/r/b.xml", 21, 200).expect("hash"), None);
        assert_eq!(
            store
                .source_hashes(&[
                    ("/r/b.xml", 20, 200),
                    ("/r/c.xml", 10, 100),
                    ("/r/a.xml", 10, 101),
                    ("/r/a.xml", 10, 100),
                ])
                .expect("hashes"),
            [Some("b".to_string()), None, None, Some("a".to_string())],
            "{kind}"
        );
        assert!(store.source_hashes(&[]).expect("none").is_empty(), "{kind}");
    }
}

/// A connection that cached a test's id while another one pruned that test away stores the
/// test again: no result names a test that is gone.
#[test]
fn a_prune_by_another_connection_leaves_no_result_of_a_deleted_test() {
    for (kind, loc) in locations() {
        let mut writer = loc.open();
        writer
            .ingest(&run(
                "old",
                1,
                vec![result("t", "linux", Outcome::Failed, 1, 1)],
            ))
            .expect("old");
        let mut pruner = loc.open();
        assert_eq!(pruner.prune_before(10).expect("prune"), 1, "{kind}");
        assert!(pruner.tests().expect("tests").is_empty(), "{kind}");
        let Ingested::New { run_id } = writer
            .ingest(&run(
                "new",
                100,
                vec![result("t", "linux", Outcome::Failed, 1, 1)],
            ))
            .expect("new")
        else {
            panic!("{kind}: not stored");
        };
        let tests = writer.tests().expect("tests");
        assert_eq!(tests.len(), 1, "{kind}");
        let mut ids = Vec::new();
        writer
            .for_each_result(&mut |r| ids.push(r.test_id))
            .expect("results");
        assert_eq!(ids, [tests[0].id], "{kind}");
        assert_eq!(
            writer
                .failures(run_id, tests[0].id)
                .expect("failures")
                .len(),
            1,
            "{kind}"
        );
    }
}

/// The ids of the stored tests by key.
fn ids_by_key(
    s: &mut Box<dyn HistoryStore + Send>,
) -> std::collections::HashMap<(String, Vec<String>, String), i64> {
    s.tests()
        .expect("tests")
        .into_iter()
        .map(|t| ((t.file, t.title_path, t.environment), t.id))
        .collect()
}

/// How many results each test has.
fn results_per_test(
    s: &mut Box<dyn HistoryStore + Send>,
) -> std::collections::BTreeMap<i64, usize> {
    let mut per = std::collections::BTreeMap::new();
    s.for_each_result(&mut |r| *per.entry(r.test_id).or_insert(0) += 1)
        .expect("results");
    per
}

fn key(file: &str, path: &[&str], env: &str) -> (String, Vec<String>, String) {
    (
        file.to_string(),
        path.iter().map(|p| p.to_string()).collect(),
        env.to_string(),
    )
}

/// Histories stored under the keys older versions of `flakiness convert` gave go on under the
/// new keys: the stored test is re-keyed and keeps its id, results and failures. A key with
/// no older one stored is a new test.
#[test]
fn tests_keyed_by_an_older_converter_go_on_under_the_new_keys() {
    use Outcome::{Failed, Passed};
    for (kind, loc) in locations() {
        let mut s = loc.open();
        // pytest classes as suites, in the old default environment; Vitest's nested titles as
        // one, under the file as a plain suite; a JUnit file suite named on Windows.
        let old = run(
            "old",
            1_000,
            vec![
                keyed("tests/a.py", &["TestC", "test_x"], "default", Failed),
                keyed(
                    "",
                    &["tests/a.test.js", "outer > inner > t"],
                    "default",
                    Passed,
                ),
                keyed("", &["tests\\unit\\cli.test.ts", "t"], "junit", Passed),
                keyed("tests/keep.rs", &["k"], "linux", Passed),
            ],
        );
        let Ingested::New { run_id: old_id } = s.ingest(&old).expect("old") else {
            panic!("{kind}: old run not stored")
        };
        let before = ids_by_key(&mut s);
        let id = |k: (String, Vec<String>, String)| before[&k];
        let pytest = id(key("tests/a.py", &["TestC", "test_x"], "default"));
        let vitest = id(key(
            "",
            &["tests/a.test.js", "outer > inner > t"],
            "default",
        ));
        let junit = id(key("", &["tests\\unit\\cli.test.ts", "t"], "junit"));
        let kept = id(key("tests/keep.rs", &["k"], "linux"));

        let new = run(
            "new",
            2_000,
            vec![
                keyed("tests/a.py", &["TestC::test_x"], "pytest", Passed),
                keyed(
                    "tests/a.test.js",
                    &["outer", "inner", "t"],
                    "vitest",
                    Failed,
                ),
                keyed("tests/unit/cli.test.ts", &["t"], "junit", Passed),
                keyed("tests/keep.rs", &["k"], "linux", Passed),
                keyed("tests/b.py", &["test_y"], "pytest", Passed),
            ],
        );
        assert!(matches!(s.ingest(&new).expect("new"), Ingested::New { .. }));
        let after = ids_by_key(&mut s);
        let fresh = after[&key("tests/b.py", &["test_y"], "pytest")];
        let want: std::collections::HashMap<_, _> = [
            (key("tests/a.py", &["TestC::test_x"], "pytest"), pytest),
            (
                key("tests/a.test.js", &["outer", "inner", "t"], "vitest"),
                vitest,
            ),
            (key("tests/unit/cli.test.ts", &["t"], "junit"), junit),
            (key("tests/keep.rs", &["k"], "linux"), kept),
            (key("tests/b.py", &["test_y"], "pytest"), fresh),
        ]
        .into_iter()
        .collect();
        assert_eq!(after, want, "{kind}: re-keyed, old keys gone");
        assert!(
            !before.values().any(|&old| old == fresh),
            "{kind}: b.py is new"
        );
        let per = results_per_test(&mut s);
        let want: std::collections::BTreeMap<i64, usize> =
            [(pytest, 2), (vitest, 2), (junit, 2), (kept, 2), (fresh, 1)]
                .into_iter()
                .collect();
        assert_eq!(per, want, "{kind}: each history under one id");
        // The old run's failure is the re-keyed test's.
        let failures = s.test_failures(pytest, 10).expect("failures");
        assert_eq!(failures.len(), 1, "{kind}");
        assert_eq!(failures[0].0, old_id, "{kind}");

        // The old run again is stored already, and brings no test back.
        assert_eq!(s.ingest(&old).expect("again"), Ingested::AlreadyPresent);
        assert_eq!(s.counts().expect("counts").tests, 5, "{kind}");
    }
}

/// A run that brings both the old and the new key of a test (whatever their order) keeps them
/// apart: the old test keeps its key, the new key is a new test.
#[test]
fn a_run_with_the_old_and_the_new_key_of_a_test_keeps_them_apart() {
    use Outcome::Passed;
    for (kind, loc) in locations() {
        let mut s = loc.open();
        // Two tests, stored under their old keys.
        let old_a = key("", &["tests/a.test.js", "outer > t"], "default");
        let old_b = key("", &["tests\\b.test.ts", "u"], "default");
        let new_a = key("tests/a.test.js", &["outer", "t"], "vitest");
        let new_b = key("tests/b.test.ts", &["u"], "default");
        let result = |k: &(String, Vec<String>, String)| {
            let path: Vec<&str> = k.1.iter().map(String::as_str).collect();
            keyed(&k.0, &path, &k.2, Passed)
        };
        s.ingest(&run("r1", 1, vec![result(&old_a), result(&old_b)]))
            .expect("r1");
        let before = ids_by_key(&mut s);
        // The new key of `a` before its old one, the new key of `b` after.
        s.ingest(&run(
            "r2",
            2,
            vec![
                result(&new_a),
                result(&old_a),
                result(&old_b),
                result(&new_b),
            ],
        ))
        .expect("r2");
        let ids = ids_by_key(&mut s);
        assert_eq!(ids.len(), 4, "{kind}: {ids:?}");
        assert_eq!(ids[&old_a], before[&old_a], "{kind}");
        assert_eq!(ids[&old_b], before[&old_b], "{kind}");
        let per = results_per_test(&mut s);
        for (k, n) in [(&old_a, 2), (&old_b, 2), (&new_a, 1), (&new_b, 1)] {
            assert_eq!(per[&ids[k]], n, "{kind}: {k:?}");
        }
    }
}

/// Two new keys whose older key is the same stored test: the first result takes it, the
/// second is a new test.
#[test]
fn two_new_keys_with_one_older_test_the_first_takes_it() {
    use Outcome::Passed;
    for (kind, loc) in locations() {
        let mut s = loc.open();
        s.ingest(&run(
            "r1",
            1,
            vec![keyed("", &["tests/a.test.js", "s > t"], "default", Passed)],
        ))
        .expect("r1");
        let old_id = s.tests().expect("tests")[0].id;
        // Both have ("", ["tests/a.test.js", "s > t"], "default") among their older keys.
        s.ingest(&run(
            "r2",
            2,
            vec![
                keyed("tests/a.test.js", &["s", "t"], "default", Passed),
                keyed("tests/a.test.js", &["s > t"], "default", Passed),
            ],
        ))
        .expect("r2");
        let ids = ids_by_key(&mut s);
        assert_eq!(ids.len(), 2, "{kind}: {ids:?}");
        assert_eq!(
            ids[&key("tests/a.test.js", &["s", "t"], "default")],
            old_id,
            "{kind}"
        );
        let second = ids[&key("tests/a.test.js", &["s > t"], "default")];
        let per = results_per_test(&mut s);
        assert_eq!((per[&old_id], per[&second]), (2, 1), "{kind}");
    }
}

/// Old and new runs stored in one batch join as when stored one by one; a repeat of the old
/// run in the batch brings its old key back no more than a repeat stored later does.
#[test]
fn an_old_and_a_new_run_in_one_batch_join() {
    use Outcome::{Failed, Passed};
    for (kind, loc) in locations() {
        let mut s = loc.open();
        let old = run(
            "old",
            1,
            vec![keyed("tests/a.py", &["C", "test_x[1]"], "default", Failed)],
        );
        let new = run(
            "new",
            2,
            vec![keyed("tests/a.py", &["C::test_x[1]"], "pytest", Passed)],
        );
        let done = s.ingest_many(&[&old, &new, &old]).expect("batch");
        assert!(
            matches!(
                done[..],
                [
                    Ingested::New { .. },
                    Ingested::New { .. },
                    Ingested::AlreadyPresent
                ]
            ),
            "{kind}: {done:?}"
        );
        let tests = s.tests().expect("tests");
        assert_eq!(tests.len(), 1, "{kind}: {tests:?}");
        assert_eq!(
            (
                tests[0].file.as_str(),
                &tests[0].title_path[..],
                tests[0].environment.as_str()
            ),
            ("tests/a.py", &["C::test_x[1]".to_string()][..], "pytest"),
            "{kind}"
        );
        assert_eq!(results_per_test(&mut s)[&tests[0].id], 2, "{kind}");
    }
}

/// Once a test is re-keyed, its old key is no test's: a later run that brings the old key
/// stores a new test, whether its connection saw the re-key or had the old key's id cached.
#[test]
fn an_old_key_after_its_test_was_re_keyed_is_a_new_test() {
    use Outcome::Passed;
    for (kind, loc) in locations() {
        let mut s = loc.open();
        let old_key = key("", &["tests/a.test.js", "s > t"], "default");
        let old = || keyed("", &["tests/a.test.js", "s > t"], "default", Passed);
        s.ingest(&run("r1", 1, vec![old()])).expect("r1");
        // Another connection caches the old key's id.
        let mut other = loc.open();
        other.ingest(&run("r2", 2, vec![old()])).expect("r2");
        let id = ids_by_key(&mut s)[&old_key];
        s.ingest(&run(
            "r3",
            3,
            vec![keyed("tests/a.test.js", &["s", "t"], "vitest", Passed)],
        ))
        .expect("r3");
        assert!(
            !ids_by_key(&mut s).contains_key(&old_key),
            "{kind}: re-keyed"
        );
        other.ingest(&run("r4", 4, vec![old()])).expect("r4");
        let again = ids_by_key(&mut s)[&old_key];
        assert_ne!(again, id, "{kind}: a new test");
        s.ingest(&run("r5", 5, vec![old()])).expect("r5");
        assert_eq!(ids_by_key(&mut s)[&old_key], again, "{kind}");
        let per = results_per_test(&mut s);
        assert_eq!((per[&id], per[&again]), (3, 2), "{kind}");
    }
}

/// Everything a store holds that ingest decides, ids included: runs, tests, results, failures.
type Dump = (
    Vec<flakiness_store::RunInfo>,
    Vec<flakiness_store::TestKey>,
    Vec<flakiness_store::ResultRow>,
    Vec<(i64, i64, flakiness_store::FailureRecord)>,
);

fn dump(s: &mut Box<dyn HistoryStore + Send>) -> Dump {
    let mut results = Vec::new();
    s.for_each_result(&mut |r| results.push(r))
        .expect("results");
    let mut failures = Vec::new();
    s.for_each_failure(&mut |run, test, f| failures.push((run, test, f)))
        .expect("failures");
    (
        s.runs().expect("runs"),
        s.tests().expect("tests"),
        results,
        failures,
    )
}

/// Runs stored with their keys numbered ([`HistoryStore::ingest_keyed`], one [`TestKeys`] for
/// all the batches) leave the store as the same runs stored with their keys: ids, re-keyed
/// tests, merged results and failures, through prunes and re-keys by another connection.
#[test]
fn runs_with_numbered_keys_are_stored_as_with_their_keys() {
    use flakiness_store::{KeyedRun, TestKeys};
    use Outcome::{Failed, Flaky, Passed};
    let batches: Vec<Vec<flakiness_store::RunRecord>> = vec![
        vec![
            run(
                "old",
                1_000,
                vec![
                    keyed("tests/a.py", &["TestC", "test_x"], "default", Failed),
                    keyed("", &["tests/a.test.js", "outer > t"], "default", Passed),
                    keyed("tests/keep.rs", &["k"], "linux", Passed),
                ],
            ),
            run(
                "dup",
                1_500,
                vec![
                    result("t1", "linux", Failed, 1, 1),
                    result("t2", "linux", Passed, 1, 0),
                    result("t1", "linux", Flaky, 2, 1),
                ],
            ),
        ],
        vec![
            run(
                "new",
                2_000,
                vec![
                    keyed("tests/a.py", &["TestC::test_x"], "pytest", Passed),
                    keyed("tests/a.test.js", &["outer", "t"], "vitest", Failed),
                    keyed("tests/keep.rs", &["k"], "linux", Failed),
                    result("t1", "linux", Passed, 1, 0),
                ],
            ),
            run(
                "old",
                1_000,
                vec![keyed("tests/a.py", &["TestC", "test_x"], "default", Failed)],
            ),
            run(
                "later",
                3_000,
                vec![
                    keyed("tests/keep.rs", &["k"], "linux", Passed),
                    result("t1", "linux", Failed, 2, 2),
                    result("t2", "linux", Passed, 1, 0),
                ],
            ),
        ],
        // Every key known (by its number, once this connection learnt them again after
        // the re-keys of the batch before); then the key a test was re-keyed away from.
        vec![run(
            "steady-1",
            3_100,
            vec![
                result("t2", "linux", Passed, 1, 0),
                result("t1", "linux", Passed, 1, 0),
                keyed("tests/keep.rs", &["k"], "linux", Passed),
            ],
        )],
        vec![
            run(
                "steady-2",
                3_200,
                vec![
                    result("t1", "linux", Flaky, 3, 2),
                    keyed("tests/keep.rs", &["k"], "linux", Passed),
                    result("t2", "linux", Passed, 1, 0),
                    result("t1", "linux", Passed, 1, 0),
                ],
            ),
            run(
                "old-again",
                3_300,
                vec![
                    keyed("tests/a.py", &["TestC", "test_x"], "default", Passed),
                    keyed("tests/keep.rs", &["k"], "linux", Passed),
                ],
            ),
            run(
                "steady-3",
                3_400,
                vec![
                    result("t1", "linux", Passed, 1, 0),
                    keyed("tests/a.py", &["TestC", "test_x"], "default", Failed),
                ],
            ),
        ],
        // After another connection pruned the runs before 1,800.
        vec![
            run(
                "after-prune",
                4_000,
                vec![
                    result("t1", "linux", Passed, 1, 0),
                    result("t2", "linux", Failed, 1, 1),
                    keyed("tests/keep.rs", &["k"], "linux", Passed),
                ],
            ),
            run(
                "old-key",
                4_500,
                vec![keyed("", &["tests/b.test.js", "s > u"], "default", Passed)],
            ),
        ],
        // After another connection re-keyed `s > u`.
        vec![run(
            "old-key-again",
            6_000,
            vec![
                keyed("", &["tests/b.test.js", "s > u"], "default", Failed),
                keyed("tests/keep.rs", &["k"], "linux", Passed),
                result("t1", "linux", Passed, 1, 0),
            ],
        )],
    ];
    for (kind, plain) in locations() {
        let (_, numbered) = locations()
            .into_iter()
            .find(|(k, _)| *k == kind)
            .expect("a second store of the same kind");
        let keys = TestKeys::new();
        let mut stores = [plain.open(), numbered.open()];
        for (i, batch) in batches.iter().enumerate() {
            if i == 4 {
                for loc in [&plain, &numbered] {
                    loc.open().prune_before(1_800).expect("prune");
                }
            }
            if i == 5 {
                for loc in [&plain, &numbered] {
                    loc.open()
                        .ingest(&run(
                            "re-key",
                            5_000,
                            vec![keyed("tests/b.test.js", &["s", "u"], "vitest", Passed)],
                        ))
                        .expect("re-key");
                }
            }
            let records: Vec<&flakiness_store::RunRecord> = batch.iter().collect();
            let a = stores[0].ingest_many(&records).expect("plain");
            let runs: Vec<KeyedRun> = batch.iter().map(|r| keys.key_run(r.clone())).collect();
            let runs: Vec<&KeyedRun> = runs.iter().collect();
            let b = stores[1].ingest_keyed(&runs, &keys).expect("numbered");
            assert_eq!(a, b, "{kind}: batch {i}");
            let [p, n] = &mut stores;
            assert_eq!(dump(p), dump(n), "{kind}: after batch {i}");
        }
    }
}
