//! The PostgreSQL store: the same tables as the embedded one (prefixed `flakiness_`, so that
//! they can live in a database with others), for teams whose history outgrows one machine.
//!
//! Every call waits for the server, so the store keeps them few: a run's results are packed in
//! one row (as in SQLite), a run is stored by one statement (its row, packed results and
//! failures), a batch of runs is one transaction begun with the write lock in the same round
//! trip, and statements are prepared once per connection. Reading the results is one row per
//! run, unpacked here.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, NoTls, SimpleQueryMessage, Statement, Transaction};

use crate::packed::Unpacked;
use crate::{
    merged, CacheChanges, Counts, FailureKind, FailureRecord, HistoryStore, Ingested, KeyRef,
    Outcome, ResultRow, RunInfo, RunMeta, RunRecord, RunTotals, StoreError, TestIds, TestKey,
    TestKeyOwned, TestResult, TestTable,
};

/// No parameters, for `query_raw`.
const NO_PARAMS: [&(dyn ToSql + Sync); 0] = [];

/// Advisory lock taken while migrating ("FLKY").
const MIGRATION_LOCK: i64 = 0x464C_4B59;

/// Advisory lock taken by the transactions that store runs or prune them: they take turns, as
/// SQLite's writers do. Without it, two writers storing the same runs in another order
/// could deadlock, and a prune could delete a test that a concurrent ingest is storing results
/// of (packed results do not reference tests by foreign key) ("FLKZ").
const WRITE_LOCK: i64 = 0x464C_4B5A;

/// One step of the schema's history.
enum Migration {
    Sql(&'static str),
    Code(fn(&mut Transaction<'_>, &str) -> Result<(), StoreError>),
}

/// Migrations by version, as in the embedded store: each runs once, in order.
const MIGRATIONS: &[(i64, Migration)] = &[
    (1, Migration::Sql(V1)),
    (2, Migration::Code(v2_pack_results)),
    (3, Migration::Sql(V3)),
    (4, Migration::Sql(V4)),
];

/// Version 3, as the embedded store's version 4: results keep their expected failures and
/// unexpected passes (packed format 2, see `packed.rs`; format 1 values read with none), and
/// `flakiness_run_results` counts the results with each. Runs stored before have none: they
/// read as they did.
const V3: &str = "ALTER TABLE flakiness_run_results
        ADD COLUMN expected_failures BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN unexpected_passes BIGINT NOT NULL DEFAULT 0;";

/// Version 4, as the embedded store's version 5: results keep the durations of their failed
/// attempts, the time lost to retries and failures (packed format 3; format 1 and 2 values read
/// with none), and `flakiness_run_results` sums them per run. Runs stored before have none:
/// they read as they did.
const V4: &str = "ALTER TABLE flakiness_run_results
        ADD COLUMN failed_duration_ms BIGINT NOT NULL DEFAULT 0;";

/// The schema version this build writes (`flakiness_schema.version`).
const PG_SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

const V1: &str = "
    CREATE TABLE flakiness_runs (
        id           BIGSERIAL PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        source       TEXT NOT NULL,
        commit_id    TEXT NOT NULL,
        start_ms     BIGINT NOT NULL,
        duration_ms  BIGINT NOT NULL,
        title        TEXT,
        url          TEXT,
        category     TEXT NOT NULL,
        ingested_ms  BIGINT NOT NULL
    );
    CREATE INDEX flakiness_runs_by_start ON flakiness_runs (start_ms, id);
    CREATE TABLE flakiness_tests (
        id          BIGSERIAL PRIMARY KEY,
        file        TEXT NOT NULL,
        title_path  TEXT NOT NULL,
        environment TEXT NOT NULL,
        key_md5     TEXT NOT NULL UNIQUE
    );
    CREATE TABLE flakiness_results (
        run_id          BIGINT NOT NULL REFERENCES flakiness_runs (id) ON DELETE CASCADE,
        test_id         BIGINT NOT NULL REFERENCES flakiness_tests (id),
        outcome         SMALLINT NOT NULL,
        attempts        INTEGER NOT NULL,
        failed_attempts INTEGER NOT NULL,
        duration_ms     BIGINT,
        PRIMARY KEY (run_id, test_id)
    );
    CREATE TABLE flakiness_failures (
        run_id  BIGINT NOT NULL REFERENCES flakiness_runs (id) ON DELETE CASCADE,
        test_id BIGINT NOT NULL REFERENCES flakiness_tests (id),
        attempt INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        message TEXT,
        stack   TEXT,
        PRIMARY KEY (run_id, test_id, attempt)
    );
    CREATE INDEX flakiness_failures_by_test ON flakiness_failures (test_id);
    CREATE TABLE flakiness_sources (
        path         TEXT PRIMARY KEY,
        size         BIGINT NOT NULL,
        mtime_ns     BIGINT NOT NULL,
        content_hash TEXT NOT NULL
    );
    ";

/// Version 2, as in the embedded store: a run's results packed in one row of
/// `flakiness_run_results` (see `packed.rs`), with the run's totals beside them, instead of one
/// row each in `flakiness_results`. One row per result cost two foreign-key checks per row on
/// ingest and millions of rows to send on every analysis. Existing results are packed (read
/// through a cursor, a batch of rows at a time), then `flakiness_results` goes.
/// `flakiness_schema.tests_epoch` counts the prunes that deleted tests (and the ingests that
/// re-keyed tests): a connection's cache of test ids is only trusted while it is unchanged.
fn v2_pack_results(tx: &mut Transaction<'_>, target: &str) -> Result<(), StoreError> {
    let err = pg_err(target);
    tx.batch_execute(
        "CREATE TABLE flakiness_run_results (
            run_id  BIGINT PRIMARY KEY REFERENCES flakiness_runs (id) ON DELETE CASCADE,
            results BIGINT NOT NULL,
            ran     BIGINT NOT NULL,
            failed  BIGINT NOT NULL,
            flaky   BIGINT NOT NULL,
            packed  BYTEA NOT NULL
        );
        ALTER TABLE flakiness_schema ADD COLUMN tests_epoch BIGINT NOT NULL DEFAULT 0;",
    )
    .map_err(&err)?;
    let read = tx
        .prepare(
            "SELECT run_id, test_id, outcome, attempts, failed_attempts, duration_ms
             FROM flakiness_results ORDER BY run_id, test_id",
        )
        .map_err(&err)?;
    let insert = tx.prepare(INSERT_PACKED).map_err(&err)?;
    let cursor = tx.bind(&read, &[]).map_err(&err)?;
    let mut batch: Vec<Unpacked> = Vec::new();
    let mut current: Option<i64> = None;
    loop {
        let rows = tx.query_portal(&cursor, 100_000).map_err(&err)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let run_id: i64 = r.get(0);
            if let Some(done) = current.filter(|&c| c != run_id) {
                insert_packed(tx, &insert, done, &mut batch).map_err(&err)?;
                batch.clear();
            }
            current = Some(run_id);
            batch.push((
                r.get(1),
                outcome(r.get(2), target)?,
                r.get::<_, i32>(3) as u32,
                r.get::<_, i32>(4) as u32,
                r.get(5),
                0,
                0,
                None,
            ));
        }
    }
    if let Some(done) = current {
        insert_packed(tx, &insert, done, &mut batch).map_err(&err)?;
    }
    // The cursor is closed first: a table an open cursor reads cannot be dropped.
    drop(cursor);
    tx.batch_execute("DROP TABLE flakiness_results")
        .map_err(&err)
}

const INSERT_PACKED: &str =
    "INSERT INTO flakiness_run_results (run_id, results, ran, failed, flaky, packed)
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Writes a run's packed results row with `insert` ([`INSERT_PACKED`]).
fn insert_packed(
    tx: &mut Transaction<'_>,
    insert: &Statement,
    run_id: i64,
    rows: &mut [Unpacked],
) -> Result<(), postgres::Error> {
    let (packed, totals) = crate::packed::pack(run_id, rows);
    tx.execute(
        insert,
        &[
            &run_id,
            &(rows.len() as i64),
            &(totals.ran as i64),
            &(totals.failed as i64),
            &(totals.flaky as i64),
            &packed,
        ],
    )
    .map(|_| ())
}

/// Statements prepared once per connection: an unprepared one costs a round trip more per
/// call (the server parses it first).
struct Statements {
    contains: Statement,
    add_run: Statement,
    add_tests: Statement,
    find_tests: Statement,
    source_hash: Statement,
    remember_sources: Statement,
    run_failures: Statement,
    test_failures: Statement,
    failures: Statement,
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Self, postgres::Error> {
        Ok(Statements {
            contains: client.prepare("SELECT 1 FROM flakiness_runs WHERE content_hash = $1")?,
            // A run, its packed results and its failures in one statement (one round trip):
            // nothing is written when the run is stored already.
            add_run: client.prepare(
                "WITH run AS (
                    INSERT INTO flakiness_runs (content_hash, source, commit_id, start_ms,
                                                duration_ms, title, url, category, ingested_ms)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (content_hash) DO NOTHING RETURNING id
                 ), results AS (
                    INSERT INTO flakiness_run_results (run_id, results, ran, failed, flaky,
                                                       packed, expected_failures,
                                                       unexpected_passes, failed_duration_ms)
                    SELECT id, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::bytea,
                           $20::bigint, $21::bigint, $22::bigint
                    FROM run
                 ), failures AS (
                    INSERT INTO flakiness_failures (run_id, test_id, attempt, kind, message,
                                                    stack)
                    SELECT run.id, u.t, u.a, u.k, u.m, u.s
                    FROM run, unnest($15::bigint[], $16::int[], $17::text[], $18::text[],
                                     $19::text[]) AS u (t, a, k, m, s)
                    ON CONFLICT DO NOTHING
                 )
                 SELECT id FROM run",
            )?,
            // Only keys not stored yet take an id (`ON CONFLICT` alone would use one of the
            // sequence per key sent); `ON CONFLICT` is still there for a concurrent insert.
            add_tests: client.prepare(
                "INSERT INTO flakiness_tests (file, title_path, environment, key_md5)
                 SELECT f, p, e, k
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS u (f, p, e),
                      LATERAL (SELECT md5(f || chr(31) || p || chr(31) || e)) AS h (k)
                 WHERE NOT EXISTS (SELECT 1 FROM flakiness_tests t WHERE t.key_md5 = h.k)
                 ON CONFLICT (key_md5) DO NOTHING",
            )?,
            find_tests: client.prepare(
                "SELECT t.id, t.file, t.title_path, t.environment
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS u (f, p, e)
                 JOIN flakiness_tests t
                   ON t.key_md5 = md5(u.f || chr(31) || u.p || chr(31) || u.e)
                  AND t.file = u.f AND t.title_path = u.p AND t.environment = u.e",
            )?,
            source_hash: client.prepare(
                "SELECT content_hash FROM flakiness_sources
                 WHERE path = $1 AND size = $2 AND mtime_ns = $3",
            )?,
            remember_sources: client.prepare(
                "INSERT INTO flakiness_sources (path, size, mtime_ns, content_hash)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[])
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size,
                     mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash",
            )?,
            run_failures: client.prepare(
                "SELECT test_id, attempt, kind, message, stack FROM flakiness_failures
                 WHERE run_id = $1 ORDER BY test_id, attempt",
            )?,
            test_failures: client.prepare(
                "SELECT run_id, attempt, kind, message, stack FROM flakiness_failures
                 WHERE test_id = $1 ORDER BY run_id, attempt LIMIT $2",
            )?,
            failures: client.prepare(
                "SELECT attempt, kind, message, stack FROM flakiness_failures
                 WHERE run_id = $1 AND test_id = $2 ORDER BY attempt",
            )?,
        })
    }
}

/// The history store in a PostgreSQL database.
pub struct PgStore {
    client: Client,
    /// The URL without its password.
    target: String,
    statements: Statements,
    /// Test ids by key, filled as tests are seen; valid while `flakiness_schema.tests_epoch`
    /// is `tests_epoch` (a prune or a re-key elsewhere may have changed some of them).
    test_ids: TestIds,
    tests_epoch: Option<i64>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `url` with its password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://***".to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (Some(auth), host),
        None => (None, rest),
    };
    match auth {
        Some(auth) => {
            let user = auth.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => format!("{scheme}://{host}"),
    }
}

/// The error of a failed call: a closed connection is [`StoreError::Unreachable`].
fn pg_err(target: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |source| {
        if source.is_closed() || (source.as_db_error().is_none() && source.code().is_none()) {
            StoreError::Unreachable {
                target: target.to_string(),
                source,
            }
        } else {
            StoreError::Postgres {
                target: target.to_string(),
                source,
            }
        }
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the schema
    /// up to the latest version. TLS is not used: run it on loopback or a private network.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let target = redact(url);
        let mut client = Client::connect(url, NoTls).map_err(|source| StoreError::Unreachable {
            target: target.clone(),
            source,
        })?;
        migrate(&mut client, &target)?;
        let statements = Statements::prepare(&mut client).map_err(pg_err(&target))?;
        Ok(PgStore {
            client,
            target,
            statements,
            test_ids: TestIds::default(),
            tests_epoch: None,
        })
    }

    fn err(&self) -> impl Fn(postgres::Error) -> StoreError + '_ {
        pg_err(&self.target)
    }
}

/// Applies the missing migrations in one transaction, under an advisory lock (another process
/// doing the same waits, then finds the schema up to date).
fn migrate(client: &mut Client, target: &str) -> Result<(), StoreError> {
    let err = pg_err(target);
    let mut tx = client.transaction().map_err(&err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(&err)?;
    let has = |tx: &mut Transaction<'_>, table: &str| -> Result<bool, StoreError> {
        tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .map(|r| r.get::<_, bool>(0))
            .map_err(&err)
    };
    let version: i64 = if has(&mut tx, "flakiness_schema")? {
        tx.query_one("SELECT version FROM flakiness_schema", &[])
            .map(|r| r.get(0))
            .map_err(&err)?
    } else if has(&mut tx, "flakiness_runs")? {
        return Err(StoreError::PostgresSchema {
            target: target.to_string(),
            what: "the database has a flakiness_runs table that flakiness did not create".into(),
        });
    } else {
        tx.batch_execute(
            "CREATE TABLE flakiness_schema (version BIGINT NOT NULL);
             INSERT INTO flakiness_schema VALUES (0);",
        )
        .map_err(&err)?;
        0
    };
    if version > PG_SCHEMA_VERSION {
        return Err(StoreError::PostgresSchema {
            target: target.to_string(),
            what: format!(
                "the store has schema version {version}; this flakiness knows up to {PG_SCHEMA_VERSION}: upgrade flakiness"
            ),
        });
    }
    for (v, step) in MIGRATIONS {
        if *v > version {
            match step {
                Migration::Sql(sql) => tx.batch_execute(sql).map_err(&err)?,
                Migration::Code(f) => f(&mut tx, target)?,
            }
            tx.execute("UPDATE flakiness_schema SET version = $1", &[v])
                .map_err(&err)?;
        }
    }
    tx.commit().map_err(&err)
}

/// A write transaction, begun with the write lock taken; rolled back when dropped uncommitted
/// (as [`postgres::Transaction`] is, which cannot take the lock in the same round trip).
struct WriteTx<'a> {
    client: &'a mut Client,
    open: bool,
}

impl<'a> WriteTx<'a> {
    /// Begins, takes [`WRITE_LOCK`] and reads `flakiness_schema.tests_epoch`, in one round
    /// trip: the transaction and the epoch. In a multi-statement query each statement takes a
    /// snapshot of its own (read committed): the epoch is read once the lock is held.
    fn begin(client: &'a mut Client) -> Result<(Self, Option<i64>), postgres::Error> {
        let tx = WriteTx { client, open: true };
        let messages = tx.client.simple_query(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK});
             SELECT tests_epoch FROM flakiness_schema"
        ))?;
        let epoch = messages.iter().rev().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        });
        Ok((tx, epoch))
    }

    fn commit(mut self) -> Result<(), postgres::Error> {
        self.open = false;
        self.client.batch_execute("COMMIT")
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // The connection may be gone: nothing to roll back then.
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

/// A test as an ingest decides it: stored (its id), or the `i`th of the tests it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PgRef {
    Stored(i64),
    New(usize),
}

/// The tests of a batch decided before any is written (each statement costs a round trip):
/// what the store held when the transaction began (the connection's cache and the keys read),
/// and what the batch changes, for [`crate::assign_tests`].
struct PgTests<'a> {
    cache: &'a TestIds,
    client: &'a mut Client,
    find_tests: &'a Statement,
    target: &'a str,
    /// Keys read: the test stored under each when the transaction began, if any.
    stored: hashbrown::HashMap<TestKeyOwned, Option<i64>>,
    /// Keys the batch changes: the test under each now (none: it was re-keyed away).
    changed: hashbrown::HashMap<TestKeyOwned, Option<PgRef>>,
    /// Keys of the tests to store (as re-keyed since, if they were).
    inserts: Vec<TestKeyOwned>,
    /// New keys of stored tests.
    rekeys: BTreeMap<i64, TestKeyOwned>,
}

impl PgTests<'_> {
    /// Reads which of these keys are stored, in one statement.
    fn read(&mut self, keys: Vec<TestKeyOwned>) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let files: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let paths: Vec<String> = keys.iter().map(|k| crate::title_path_json(&k.1)).collect();
        let envs: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
        let rows = self
            .client
            .query(self.find_tests, &[&files, &paths, &envs])
            .map_err(pg_err(self.target))?;
        self.stored.extend(keys.into_iter().map(|k| (k, None)));
        for r in rows {
            let (id, file, path, env): (i64, String, &str, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let title_path: Vec<String> = serde_json::from_str(path).map_err(|e| {
                damaged(self.target, format!("test {id}: title path {path:?}: {e}"))
            })?;
            self.stored.insert((file, title_path, env), Some(id));
        }
        Ok(())
    }

    /// Forgets what the batch changed (not what was read).
    fn reset(&mut self) {
        self.changed.clear();
        self.inserts.clear();
        self.rekeys.clear();
    }
}

impl TestTable for PgTests<'_> {
    type Ref = PgRef;

    fn find(
        &mut self,
        file: &str,
        path: &[String],
        env: &str,
    ) -> Result<Option<PgRef>, StoreError> {
        let key = KeyRef(file, path, env);
        if let Some(&test) = self.changed.get(&key) {
            return Ok(test);
        }
        if let Some(id) = self.cache.get(file, path, env) {
            return Ok(Some(PgRef::Stored(id)));
        }
        if !self.stored.contains_key(&key) {
            // Not read beforehand (a key that a re-key of this batch freed, or an older key
            // of it): one statement more.
            self.read(vec![(file.to_string(), path.to_vec(), env.to_string())])?;
        }
        Ok(self.stored.get(&key).copied().flatten().map(PgRef::Stored))
    }

    fn rekey(&mut self, test: PgRef, from: TestKeyOwned, to: KeyRef<'_>) -> Result<(), StoreError> {
        let to = (to.0.to_string(), to.1.to_vec(), to.2.to_string());
        match test {
            PgRef::Stored(id) => {
                self.rekeys.insert(id, to.clone());
            }
            PgRef::New(i) => self.inserts[i] = to.clone(),
        }
        self.changed.insert(from, None);
        self.changed.insert(to, Some(test));
        Ok(())
    }

    fn insert(&mut self, file: &str, path: &[String], env: &str) -> Result<PgRef, StoreError> {
        let key = (file.to_string(), path.to_vec(), env.to_string());
        let test = PgRef::New(self.inserts.len());
        self.inserts.push(key.clone());
        self.changed.insert(key, Some(test));
        Ok(test)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn failure_of(row: &postgres::Row, at: usize) -> FailureRecord {
    FailureRecord {
        attempt: row.get::<_, i32>(at) as u32,
        kind: FailureKind::parse(row.get::<_, &str>(at + 1)),
        message: row.get(at + 2),
        stack: row.get(at + 3),
    }
}

fn outcome(code: i16, target: &str) -> Result<Outcome, StoreError> {
    Outcome::from_code(code.into())
        .ok_or_else(|| damaged(target, format!("unknown outcome code {code}")))
}

/// A damaged stored value.
fn damaged(target: &str, what: String) -> StoreError {
    StoreError::PostgresSchema {
        target: target.to_string(),
        what: format!("damaged store: {what}"),
    }
}

impl HistoryStore for PgStore {
    fn describe(&self) -> String {
        self.target.clone()
    }

    fn contains(&mut self, content_hash: &str) -> Result<bool, StoreError> {
        let rows = self
            .client
            .query(&self.statements.contains, &[&content_hash])
            .map_err(pg_err(&self.target))?;
        Ok(!rows.is_empty())
    }

    fn ingest(&mut self, run: &RunRecord) -> Result<Ingested, StoreError> {
        let mut done = self.ingest_many(&[run])?;
        Ok(done.pop().unwrap_or(Ingested::AlreadyPresent))
    }

    /// The runs in one transaction, in few round trips (each costs a wait for the server):
    /// one to begin, take the write lock and read the tests epoch, one to read the tests not
    /// in the cache (when there are any), one per run (its row, packed results and failures)
    /// and one to commit. Only a batch with tests the store does not have costs more: one to
    /// read the keys older versions gave them, one to read which of the batch's runs are
    /// stored already, two to store the new tests and, when tests are re-keyed, two
    /// statements more (the rarer statements are prepared when used).
    fn ingest_many(&mut self, runs: &[&RunRecord]) -> Result<Vec<Ingested>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let target = self.target.as_str();
        let err = pg_err(target);
        let st = &self.statements;
        let merged_runs: Vec<Vec<Cow<'_, TestResult>>> =
            runs.iter().map(|run| merged(&run.results)).collect();
        let (tx, epoch) = WriteTx::begin(&mut self.client).map_err(&err)?;
        let epoch = epoch.ok_or_else(|| damaged(target, "no tests epoch".into()))?;
        if self.tests_epoch != Some(epoch) {
            self.test_ids.clear();
            self.tests_epoch = Some(epoch);
        }

        // Each result's test: stored, re-keyed from a key of an older version, or new.
        // Decided here on what the store held when the transaction began (the keys not in the
        // cache read in one statement, then the older keys of those not stored in another),
        // then written in a few statements.
        let mut table = PgTests {
            cache: &self.test_ids,
            client: &mut *tx.client,
            find_tests: &st.find_tests,
            target,
            stored: hashbrown::HashMap::new(),
            changed: hashbrown::HashMap::new(),
            inserts: Vec::new(),
            rekeys: BTreeMap::new(),
        };
        let missing: BTreeSet<(&str, &[String], &str)> = merged_runs
            .iter()
            .flatten()
            .filter(|r| {
                self.test_ids
                    .get(&r.file, &r.title_path, &r.environment)
                    .is_none()
            })
            .map(|r| {
                (
                    r.file.as_str(),
                    r.title_path.as_slice(),
                    r.environment.as_str(),
                )
            })
            .collect();
        table.read(
            missing
                .iter()
                .map(|k| (k.0.to_string(), k.1.to_vec(), k.2.to_string()))
                .collect(),
        )?;
        let mut older: Vec<TestKeyOwned> = Vec::new();
        for k in &missing {
            if table.stored.get(&KeyRef(k.0, k.1, k.2)) != Some(&None) {
                continue;
            }
            let _ = crate::for_each_legacy_key::<()>(k.0, k.1, k.2, |f, p, e| {
                let key = KeyRef(f, p, e);
                if !table.stored.contains_key(&key) && self.test_ids.get(f, p, e).is_none() {
                    older.push((f.to_string(), p.to_vec(), e.to_string()));
                }
                ControlFlow::Continue(())
            });
        }
        table.read(older)?;
        // Runs not to store: a repeat of one before in the batch, and (looked up only when
        // the batch stores or re-keys tests) runs stored already. Their keys, which may have
        // been re-keyed since they were stored, must not take or store a test.
        let mut seen: HashSet<&str> = HashSet::with_capacity(runs.len());
        let mut skip: Vec<bool> = runs
            .iter()
            .map(|r| !seen.insert(r.meta.content_hash.as_str()))
            .collect();
        let assign = |table: &mut PgTests<'_>, skip: &[bool]| {
            merged_runs
                .iter()
                .zip(skip)
                .map(|(results, &skip)| match skip {
                    true => Ok(Vec::new()),
                    false => crate::assign_tests(table, results),
                })
                .collect::<Result<Vec<Vec<PgRef>>, StoreError>>()
        };
        let mut assigned = assign(&mut table, &skip)?;
        if !table.inserts.is_empty() || !table.rekeys.is_empty() {
            let hashes: Vec<&str> = runs
                .iter()
                .zip(&skip)
                .filter(|(_, &skip)| !skip)
                .map(|(r, _)| r.meta.content_hash.as_str())
                .collect();
            let present: HashSet<String> = table
                .client
                .query(
                    "SELECT content_hash FROM flakiness_runs WHERE content_hash = ANY($1)",
                    &[&hashes],
                )
                .map_err(&err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if !present.is_empty() {
                for (run, skip) in runs.iter().zip(skip.iter_mut()) {
                    *skip |= present.contains(&run.meta.content_hash);
                }
                table.reset();
                assigned = assign(&mut table, &skip)?;
            }
        }
        let PgTests {
            stored,
            changed,
            inserts,
            rekeys,
            ..
        } = table;
        // Whether this transaction moves the tests epoch on.
        let bumped = !rekeys.is_empty();
        if bumped {
            let ids: Vec<i64> = rekeys.keys().copied().collect();
            let files: Vec<&str> = rekeys.values().map(|k| k.0.as_str()).collect();
            let paths: Vec<String> = rekeys
                .values()
                .map(|k| crate::title_path_json(&k.1))
                .collect();
            let envs: Vec<&str> = rekeys.values().map(|k| k.2.as_str()).collect();
            // Two statements: a unique key is checked row by row, and one test may take the
            // key another one leaves. Other connections' caches of test ids are stale now.
            tx.client
                .execute(
                    "WITH epoch AS (
                        UPDATE flakiness_schema SET tests_epoch = tests_epoch + 1
                     )
                     UPDATE flakiness_tests t SET key_md5 = 'rekeyed ' || t.id
                     FROM unnest($1::bigint[]) AS u (id) WHERE t.id = u.id",
                    &[&ids],
                )
                .map_err(&err)?;
            tx.client
                .execute(
                    "UPDATE flakiness_tests t
                     SET file = u.f, title_path = u.p, environment = u.e,
                         key_md5 = md5(u.f || chr(31) || u.p || chr(31) || u.e)
                     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
                          AS u (id, f, p, e)
                     WHERE t.id = u.id",
                    &[&ids, &files, &paths, &envs],
                )
                .map_err(&err)?;
        }
        // The new tests' ids, by index in `inserts`.
        let mut new_ids: Vec<Option<i64>> = vec![None; inserts.len()];
        if !inserts.is_empty() {
            let mut order: Vec<usize> = (0..inserts.len()).collect();
            order.sort_unstable_by(|&a, &b| inserts[a].cmp(&inserts[b]));
            let files: Vec<&str> = order.iter().map(|&i| inserts[i].0.as_str()).collect();
            let paths: Vec<String> = order
                .iter()
                .map(|&i| crate::title_path_json(&inserts[i].1))
                .collect();
            let envs: Vec<&str> = order.iter().map(|&i| inserts[i].2.as_str()).collect();
            tx.client
                .execute(&st.add_tests, &[&files, &paths, &envs])
                .map_err(&err)?;
            let index: HashMap<(&str, &str, &str), usize> = order
                .iter()
                .enumerate()
                .map(|(at, &i)| ((files[at], paths[at].as_str(), envs[at]), i))
                .collect();
            for r in tx
                .client
                .query(&st.find_tests, &[&files, &paths, &envs])
                .map_err(&err)?
            {
                let (file, path, env): (&str, &str, &str) = (r.get(1), r.get(2), r.get(3));
                if let Some(&i) = index.get(&(file, path, env)) {
                    new_ids[i] = Some(r.get(0));
                }
            }
        }
        let id_of = |test: PgRef| -> Result<i64, StoreError> {
            match test {
                PgRef::Stored(id) => Ok(id),
                PgRef::New(i) => new_ids[i].ok_or_else(|| StoreError::PostgresSchema {
                    target: target.to_string(),
                    what: format!("test {:?} was stored but cannot be read back", inserts[i]),
                }),
            }
        };
        // What the cache learns once this commits: the keys read, as this transaction left
        // them.
        let mut learnt = CacheChanges::default();
        for (key, id) in stored {
            if let Some(id) = id.filter(|_| !changed.contains_key(&key)) {
                learnt.found(key, id);
            }
        }
        for (key, test) in changed {
            match test {
                Some(test) => learnt.found(key, id_of(test)?),
                None => learnt.gone(key),
            }
        }

        let mut out = Vec::with_capacity(runs.len());
        let mut rows: Vec<Unpacked> = Vec::new();
        for (((run, results), tests), &skip) in
            runs.iter().zip(&merged_runs).zip(&assigned).zip(&skip)
        {
            if skip {
                out.push(Ingested::AlreadyPresent);
                continue;
            }
            rows.clear();
            let mut f_tests: Vec<i64> = Vec::new();
            let mut f_attempts: Vec<i32> = Vec::new();
            let mut f_kinds: Vec<&str> = Vec::new();
            let mut f_messages: Vec<Option<&str>> = Vec::new();
            let mut f_stacks: Vec<Option<&str>> = Vec::new();
            for (r, &test) in results.iter().zip(tests) {
                let test_id = id_of(test)?;
                rows.push(crate::packed::unpacked(test_id, r));
                for f in &r.failures {
                    f_tests.push(test_id);
                    f_attempts.push(f.attempt as i32);
                    f_kinds.push(f.kind.as_str());
                    f_messages.push(f.message.as_deref());
                    f_stacks.push(f.stack.as_deref());
                }
            }
            // The run's id is not known yet; the packed value does not depend on it.
            let (packed, totals) = crate::packed::pack(0, &mut rows);
            let m = &run.meta;
            let row = tx
                .client
                .query_opt(
                    &st.add_run,
                    &[
                        &m.content_hash,
                        &m.source,
                        &m.commit_id,
                        &m.start_ms,
                        &m.duration_ms,
                        &m.title,
                        &m.url,
                        &m.category,
                        &now_ms(),
                        &(rows.len() as i64),
                        &(totals.ran as i64),
                        &(totals.failed as i64),
                        &(totals.flaky as i64),
                        &packed,
                        &f_tests,
                        &f_attempts,
                        &f_kinds,
                        &f_messages,
                        &f_stacks,
                        &(totals.expected_failures as i64),
                        &(totals.unexpected_passes as i64),
                        &totals.failed_duration_ms,
                    ],
                )
                .map_err(&err)?;
            out.push(match row {
                Some(row) => Ingested::New { run_id: row.get(0) },
                None => Ingested::AlreadyPresent,
            });
        }
        tx.commit().map_err(&err)?;
        if bumped {
            // The epoch this transaction moved on: the cache, with its changes, is valid.
            self.tests_epoch = Some(epoch + 1);
        }
        self.test_ids.apply(learnt);
        Ok(out)
    }

    fn runs(&mut self) -> Result<Vec<RunInfo>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT id, content_hash, source, commit_id, start_ms, duration_ms, title, url,
                        category
                 FROM flakiness_runs ORDER BY start_ms, id",
                &[],
            )
            .map_err(self.err())?;
        Ok(rows
            .iter()
            .map(|r| RunInfo {
                id: r.get(0),
                meta: RunMeta {
                    content_hash: r.get(1),
                    source: r.get(2),
                    commit_id: r.get(3),
                    start_ms: r.get(4),
                    duration_ms: r.get(5),
                    title: r.get(6),
                    url: r.get(7),
                    category: r.get(8),
                },
            })
            .collect())
    }

    fn tests(&mut self) -> Result<Vec<TestKey>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT id, file, title_path, environment FROM flakiness_tests ORDER BY id",
                &[],
            )
            .map_err(self.err())?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let path: &str = r.get(2);
                let title_path = serde_json::from_str(path).map_err(|e| {
                    damaged(&self.target, format!("test {id}: title path {path:?}: {e}"))
                })?;
                Ok(TestKey {
                    id,
                    file: r.get(1),
                    title_path,
                    environment: r.get(3),
                })
            })
            .collect()
    }

    /// One row per run, unpacked here: by run id, then test id.
    fn for_each_result(&mut self, f: &mut dyn FnMut(ResultRow)) -> Result<(), StoreError> {
        let target = self.target.as_str();
        let err = pg_err(target);
        let mut rows = self
            .client
            .query_raw(
                "SELECT run_id, packed FROM flakiness_run_results ORDER BY run_id",
                NO_PARAMS,
            )
            .map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            let run_id: i64 = r.get(0);
            crate::packed::unpack(run_id, r.get(1), f).map_err(|what| damaged(target, what))?;
        }
        Ok(())
    }

    fn run_totals(&mut self) -> Result<Vec<RunTotals>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT run_id, ran, failed, flaky, expected_failures, unexpected_passes,
                        failed_duration_ms
                 FROM flakiness_run_results WHERE results > 0 ORDER BY run_id",
                &[],
            )
            .map_err(self.err())?;
        Ok(rows
            .iter()
            .map(|r| RunTotals {
                run_id: r.get(0),
                ran: r.get::<_, i64>(1) as u64,
                failed: r.get::<_, i64>(2) as u64,
                flaky: r.get::<_, i64>(3) as u64,
                expected_failures: r.get::<_, i64>(4) as u64,
                unexpected_passes: r.get::<_, i64>(5) as u64,
                failed_duration_ms: r.get(6),
            })
            .collect())
    }

    fn run_failures(&mut self, run_id: i64) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        let rows = self
            .client
            .query(&self.statements.run_failures, &[&run_id])
            .map_err(pg_err(&self.target))?;
        Ok(rows.iter().map(|r| (r.get(0), failure_of(r, 1))).collect())
    }

    fn test_failures(
        &mut self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        let rows = self
            .client
            .query(
                &self.statements.test_failures,
                &[&test_id, &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .map_err(pg_err(&self.target))?;
        Ok(rows.iter().map(|r| (r.get(0), failure_of(r, 1))).collect())
    }

    fn for_each_failure(
        &mut self,
        f: &mut dyn FnMut(i64, i64, FailureRecord),
    ) -> Result<(), StoreError> {
        let err = pg_err(&self.target);
        let mut rows = self
            .client
            .query_raw(
                "SELECT run_id, test_id, attempt, kind, message, stack FROM flakiness_failures",
                NO_PARAMS,
            )
            .map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            f(r.get(0), r.get(1), failure_of(&r, 2));
        }
        Ok(())
    }

    fn failures(&mut self, run_id: i64, test_id: i64) -> Result<Vec<FailureRecord>, StoreError> {
        let rows = self
            .client
            .query(&self.statements.failures, &[&run_id, &test_id])
            .map_err(pg_err(&self.target))?;
        Ok(rows.iter().map(|r| failure_of(r, 0)).collect())
    }

    fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let target = self.target.as_str();
        let err = pg_err(target);
        let mut tx = self.client.transaction().map_err(&err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .map_err(&err)?;
        // Results and failures go with their runs (ON DELETE CASCADE).
        let runs = tx
            .execute(
                "DELETE FROM flakiness_runs WHERE start_ms < $1",
                &[&cutoff_ms],
            )
            .map_err(&err)?;
        if runs > 0 {
            // Tests still in some run's results stay; the others go.
            let mut live: HashSet<i64> = HashSet::new();
            {
                let mut rows = tx
                    .query_raw(
                        "SELECT run_id, packed FROM flakiness_run_results",
                        NO_PARAMS,
                    )
                    .map_err(&err)?;
                while let Some(r) = rows.next().map_err(&err)? {
                    crate::packed::unpack(r.get(0), r.get(1), &mut |row| {
                        live.insert(row.test_id);
                    })
                    .map_err(|what| damaged(target, what))?;
                }
            }
            let live: Vec<i64> = live.into_iter().collect();
            let tests = tx
                .execute(
                    "DELETE FROM flakiness_tests t WHERE NOT EXISTS
                       (SELECT 1 FROM unnest($1::bigint[]) AS l (id) WHERE l.id = t.id)",
                    &[&live],
                )
                .map_err(&err)?;
            if tests > 0 {
                // Other connections' caches of test ids are stale now.
                tx.execute(
                    "UPDATE flakiness_schema SET tests_epoch = tests_epoch + 1",
                    &[],
                )
                .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        self.test_ids.clear();
        self.tests_epoch = None;
        Ok(runs)
    }

    fn counts(&mut self) -> Result<Counts, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT count(*) FROM flakiness_runs),
                        (SELECT count(*) FROM flakiness_tests),
                        (SELECT coalesce(sum(results), 0)::bigint FROM flakiness_run_results),
                        (SELECT count(*) FROM flakiness_failures)",
                &[],
            )
            .map_err(self.err())?;
        Ok(Counts {
            runs: row.get::<_, i64>(0) as u64,
            tests: row.get::<_, i64>(1) as u64,
            results: row.get::<_, i64>(2) as u64,
            failures: row.get::<_, i64>(3) as u64,
        })
    }

    fn source_hash(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<Option<String>, StoreError> {
        let rows = self
            .client
            .query(&self.statements.source_hash, &[&path, &size, &mtime_ns])
            .map_err(pg_err(&self.target))?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    fn remember_source(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        self.remember_sources(&[(path.to_string(), size, mtime_ns, content_hash.to_string())])
    }

    /// One statement (the last stamp of a path wins).
    fn remember_sources(
        &mut self,
        sources: &[(String, i64, i64, String)],
    ) -> Result<(), StoreError> {
        // A statement may not update one row twice: the last of a path is kept.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            last.insert(s.0.as_str(), i);
        }
        let mut kept: Vec<usize> = last.into_values().collect();
        if kept.is_empty() {
            return Ok(());
        }
        // Rows locked in path order by every writer: two never wait for each other in a cycle.
        kept.sort_unstable_by_key(|&i| sources[i].0.as_str());
        let paths: Vec<&str> = kept.iter().map(|&i| sources[i].0.as_str()).collect();
        let sizes: Vec<i64> = kept.iter().map(|&i| sources[i].1).collect();
        let mtimes: Vec<i64> = kept.iter().map(|&i| sources[i].2).collect();
        let hashes: Vec<&str> = kept.iter().map(|&i| sources[i].3.as_str()).collect();
        self.client
            .execute(
                &self.statements.remember_sources,
                &[&paths, &sizes, &mtimes, &hashes],
            )
            .map(|_| ())
            .map_err(pg_err(&self.target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailureKind, TestResult};

    /// A database of its own on the server `FLAKINESS_TEST_DATABASE_URL` names, dropped after;
    /// `None` (the test is skipped) when the variable is not set.
    struct Db {
        admin: String,
        name: String,
        url: String,
    }

    impl Db {
        fn new(tag: &str) -> Option<Db> {
            let Ok(admin) = std::env::var("FLAKINESS_TEST_DATABASE_URL") else {
                eprintln!("PostgreSQL skipped: FLAKINESS_TEST_DATABASE_URL is not set");
                return None;
            };
            let name = format!("flakiness_unit_{tag}_{}", std::process::id());
            let mut c = Client::connect(&admin, NoTls).expect("server");
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .expect("drop a leftover test database");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create a test database");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            Some(Db { admin, name, url })
        }
    }

    impl Drop for Db {
        fn drop(&mut self) {
            if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
                let _ = c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ));
            }
        }
    }

    fn run(hash: &str, start_ms: i64, tests: &[(&str, Outcome)]) -> RunRecord {
        RunRecord {
            meta: RunMeta {
                content_hash: hash.into(),
                source: format!("reports/{hash}"),
                commit_id: "c".into(),
                start_ms,
                category: "junit".into(),
                ..RunMeta::default()
            },
            results: tests
                .iter()
                .map(|&(title, outcome)| {
                    let failed = u32::from(outcome == Outcome::Failed);
                    TestResult {
                        file: "a.rs".into(),
                        title_path: vec![title.into()],
                        environment: "linux".into(),
                        outcome,
                        attempts: 1,
                        failed_attempts: failed,
                        duration_ms: Some(3),
                        failed_duration_ms: Some(3 * i64::from(failed)),
                        expected_failures: 0,
                        unexpected_passes: 0,
                        failures: (0..failed)
                            .map(|attempt| FailureRecord {
                                attempt,
                                kind: FailureKind::Assertion,
                                message: Some(format!("{title} failed")),
                                stack: None,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// A database written by the first schema (one row per result) opens with its results
    /// packed, none lost, and `flakiness_results` gone.
    #[test]
    fn a_version_1_database_is_migrated_with_every_result() {
        let Some(db) = Db::new("v1") else { return };
        {
            let mut c = Client::connect(&db.url, NoTls).expect("connect");
            c.batch_execute(V1).expect("v1");
            c.batch_execute(
                "CREATE TABLE flakiness_schema (version BIGINT NOT NULL);
                 INSERT INTO flakiness_schema VALUES (1);
                 INSERT INTO flakiness_runs (id, content_hash, source, commit_id, start_ms,
                                             duration_ms, category, ingested_ms)
                 SELECT r, 'h' || r, 'src', 'c', r, 0, 'junit', 0 FROM generate_series(1, 3) r;
                 SELECT setval('flakiness_runs_id_seq', 3);
                 INSERT INTO flakiness_tests (id, file, title_path, environment, key_md5)
                 SELECT t * 10, 'f', '[\"t' || t || '\"]', 'e', md5(t::text)
                 FROM generate_series(1, 4) t;
                 SELECT setval('flakiness_tests_id_seq', 40);
                 -- Run 3 has no results.
                 INSERT INTO flakiness_results VALUES
                     (1, 10, 0, 1, 0, 5), (1, 40, 1, 2, 2, NULL), (2, 20, 2, 2, 1, 7),
                     (2, 30, 3, 0, 0, NULL), (2, 40, 0, 1, 0, 1);
                 INSERT INTO flakiness_failures VALUES (1, 40, 0, 'timeout', 'slow', NULL);",
            )
            .expect("v1 rows");
        }
        let mut store = PgStore::connect(&db.url).expect("migrates");
        crate::v1_check::assert_v1_results_migrated(&mut store);
        assert_eq!(store.counts().expect("counts").failures, 1);
        let row = store
            .client
            .query_one(
                "SELECT version, to_regclass('flakiness_results') IS NULL FROM flakiness_schema",
                &[],
            )
            .expect("schema");
        assert_eq!(
            (row.get::<_, i64>(0), row.get::<_, bool>(1)),
            (PG_SCHEMA_VERSION, true)
        );
        // New runs go on after the migrated ones.
        let next = store
            .ingest(&run("h4", 4, &[("t1", Outcome::Passed)]))
            .expect("ingest");
        assert_eq!(next, Ingested::New { run_id: 4 });
    }

    /// Makes `db` a database written by schema `version` (the migrations up to it), with run 1
    /// of tests 10 and 40 (`t1` and `t4` in file `f`, environment `e`), test 40's attempt 0
    /// failed with kind `unknown` and no message, and the run's results row inserted by `insert`
    /// (with the packed value as `$1`), then connects this build to it: at the current version.
    fn migrated(db: &Db, version: i64, insert: &str, packed: &[u8]) -> PgStore {
        {
            let mut c = Client::connect(&db.url, NoTls).expect("connect");
            let mut tx = c.transaction().expect("tx");
            tx.batch_execute(&format!(
                "CREATE TABLE flakiness_schema (version BIGINT NOT NULL);
                 INSERT INTO flakiness_schema VALUES ({version});"
            ))
            .expect("schema");
            for (v, step) in MIGRATIONS.iter().filter(|(v, _)| *v <= version) {
                match step {
                    Migration::Sql(sql) => tx.batch_execute(sql).map_err(pg_err("test")),
                    Migration::Code(f) => f(&mut tx, "test"),
                }
                .unwrap_or_else(|e| panic!("version {v}: {e}"));
            }
            tx.batch_execute(
                "INSERT INTO flakiness_runs (id, content_hash, source, commit_id, start_ms,
                                             duration_ms, category, ingested_ms)
                 VALUES (1, 'h1', 'src', 'c', 1, 0, 'pytest', 0);
                 SELECT setval('flakiness_runs_id_seq', 1);
                 INSERT INTO flakiness_tests (id, file, title_path, environment, key_md5)
                 VALUES (10, 'f', '[\"t1\"]', 'e', md5('f' || chr(31) || '[\"t1\"]' || chr(31) || 'e')),
                        (40, 'f', '[\"t4\"]', 'e', md5('f' || chr(31) || '[\"t4\"]' || chr(31) || 'e'));
                 SELECT setval('flakiness_tests_id_seq', 40);
                 INSERT INTO flakiness_failures VALUES (1, 40, 0, 'unknown', NULL, NULL);",
            )
            .unwrap_or_else(|e| panic!("version {version} rows: {e}"));
            tx.execute(insert, &[&packed]).expect("packed");
            tx.commit().expect("commit");
        }
        let mut store = PgStore::connect(&db.url).expect("migrates");
        let now: i64 = store
            .client
            .query_one("SELECT version FROM flakiness_schema", &[])
            .expect("schema")
            .get(0);
        assert_eq!(now, PG_SCHEMA_VERSION);
        store
    }

    /// A version 2 database (results packed in format 1, an unexpected pass stored as a failure
    /// of kind `unknown`) opens at the current version with every result as it was, none an
    /// expected failure or an unexpected pass; runs stored since keep them.
    #[test]
    fn a_version_2_database_reads_as_before_and_keeps_expected_statuses_since() {
        let Some(db) = Db::new("v2") else { return };
        let mut store = migrated(
            &db,
            2,
            "INSERT INTO flakiness_run_results (run_id, results, ran, failed, flaky, packed)
             VALUES (1, 2, 2, 1, 0, $1)",
            &crate::v1_check::FORMAT_1_RUN_1,
        );
        crate::v1_check::assert_format_1_results_read_as_before(&mut store);
    }

    /// A version 3 database (results packed in format 2, with expected failures and unexpected
    /// passes) opens at version 4 with every result as it was, without a failed duration (the
    /// run's total 0); runs stored since keep their failed durations and their sum.
    #[test]
    fn a_version_3_database_reads_as_before_and_keeps_failed_durations_since() {
        assert_eq!(PG_SCHEMA_VERSION, 4);
        let Some(db) = Db::new("v3") else { return };
        let mut store = migrated(
            &db,
            3,
            "INSERT INTO flakiness_run_results (run_id, results, ran, failed, flaky, packed,
                                                expected_failures, unexpected_passes)
             VALUES (1, 2, 2, 1, 0, $1, 1, 1)",
            &crate::v1_check::FORMAT_2_RUN_1,
        );
        crate::v1_check::assert_format_2_results_read_as_before(&mut store);
    }

    /// A connection that cached a test's id, while another one pruned that test away: its next
    /// run stores the test again rather than results of a test that is gone.
    #[test]
    fn a_prune_by_another_connection_is_seen_by_a_writer() {
        let Some(db) = Db::new("prune") else { return };
        let mut writer = PgStore::connect(&db.url).expect("writer");
        writer
            .ingest(&run("old", 100, &[("t", Outcome::Failed)]))
            .expect("old");
        let mut pruner = PgStore::connect(&db.url).expect("pruner");
        assert_eq!(pruner.prune_before(150).expect("prune"), 1);
        assert_eq!(pruner.counts().expect("counts").tests, 0);
        writer
            .ingest(&run("new", 200, &[("t", Outcome::Failed)]))
            .expect("new");
        let ids: Vec<i64> = writer
            .tests()
            .expect("tests")
            .iter()
            .map(|t| t.id)
            .collect();
        let mut used = Vec::new();
        writer
            .for_each_result(&mut |r| used.push(r.test_id))
            .expect("results");
        assert_eq!(ids.len(), 1);
        assert_eq!(used, ids);
        let run_id = writer.runs().expect("runs")[0].id;
        let failing: Vec<i64> = writer
            .run_failures(run_id)
            .expect("failures")
            .iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(failing, ids);
    }

    /// A batch whose second run the server refuses (a NUL byte in its text) stores nothing of
    /// the first either, and the connection carries on.
    #[test]
    fn a_batch_is_stored_whole_or_not_at_all() {
        let Some(db) = Db::new("batch") else { return };
        let mut store = PgStore::connect(&db.url).expect("connect");
        let good = run("good", 1, &[("t", Outcome::Failed)]);
        let bad = run("b\0d", 2, &[("u", Outcome::Passed)]);
        let e = store.ingest_many(&[&good, &bad]).expect_err("refused");
        assert!(matches!(e, StoreError::Postgres { .. }), "{e}");
        let c = store.counts().expect("counts");
        assert_eq!((c.runs, c.tests, c.results, c.failures), (0, 0, 0, 0));
        assert!(matches!(
            store.ingest_many(&[&good, &good]).expect("again")[..],
            [Ingested::New { .. }, Ingested::AlreadyPresent]
        ));
        let c = store.counts().expect("counts");
        assert_eq!((c.runs, c.tests, c.results, c.failures), (1, 1, 1, 1));
    }
}
