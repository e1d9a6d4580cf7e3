//! The embedded store: one SQLite file (bundled SQLite, WAL mode).

use crate::TestIds;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use crate::{
    assign_tests, merged, CacheChanges, Counts, FailureKind, Ingested, KeyRef, KeyedRun, Outcome,
    ResultRow, RunInfo, RunMeta, RunRecord, RunTotals, StoreError, TestKey, TestKeyOwned, TestKeys,
    TestResult, TestTable,
};

/// `PRAGMA application_id` of our stores ("FLKY"): tells our files from other SQLite files.
pub const APPLICATION_ID: i32 = 0x464C_4B59;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 5;

/// How long a writer waits by default for another process's transaction before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Remembers a file's content hash (path, size, mtime_ns, content hash).
const REMEMBER_SOURCE: &str = "INSERT INTO sources (path, size, mtime_ns, content_hash)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
         content_hash = excluded.content_hash";

/// A file's remembered content hash, by path, size and mtime_ns.
const SOURCE_HASH: &str =
    "SELECT content_hash FROM sources WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3";

/// One step of the schema's history.
enum Migration {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>),
}

/// Migrations by version: each runs once, in its own transaction, in order.
const MIGRATIONS: &[(i64, Migration)] = &[
    (1, Migration::Sql(V1)),
    (2, Migration::Code(v2_pack_results)),
    // Version 3: `epochs.tests` counts the prunes that deleted tests (and, since, the ingests
    // that re-keyed tests), so that a connection's cache of test ids is dropped when another
    // connection changed them (results name tests by id, with no foreign key to catch a stale
    // one).
    (
        3,
        Migration::Sql(
            "CREATE TABLE epochs (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
             INSERT INTO epochs VALUES ('tests', 0);",
        ),
    ),
    (4, Migration::Sql(V4)),
    (5, Migration::Sql(V5)),
];

/// Version 4: results keep their expected failures and unexpected passes (packed format 2, see
/// `packed.rs`; format 1 values read with none), and `run_results` counts the results with
/// each. Runs stored before have none: they read as they did.
const V4: &str = "ALTER TABLE run_results ADD COLUMN expected_failures INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE run_results ADD COLUMN unexpected_passes INTEGER NOT NULL DEFAULT 0;";

/// Version 5: results keep the durations of their failed attempts, the time lost to retries
/// and failures (packed format 3; format 1 and 2 values read with none), and `run_results`
/// sums them per run. Runs stored before have none: they read as they did.
const V5: &str =
    "ALTER TABLE run_results ADD COLUMN failed_duration_ms INTEGER NOT NULL DEFAULT 0;";

/// Version 2: a run's results packed in one row of `run_results` (see `packed.rs`) instead of
/// one row each in `results`, with the run's totals beside them. Existing results are packed,
/// then `results` goes.
fn v2_pack_results(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE run_results (
            run_id  INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
            results INTEGER NOT NULL,
            ran     INTEGER NOT NULL,
            failed  INTEGER NOT NULL,
            flaky   INTEGER NOT NULL,
            packed  BLOB NOT NULL
        );",
    )?;
    {
        let mut read = tx.prepare(
            "SELECT run_id, test_id, outcome, attempts, failed_attempts, duration_ms
             FROM results ORDER BY run_id, test_id",
        )?;
        let mut rows = read.query([])?;
        let mut batch: Vec<crate::packed::Unpacked> = Vec::new();
        let mut current: Option<i64> = None;
        loop {
            let row = rows.next()?;
            let run_id = match row {
                Some(r) => Some(r.get::<_, i64>(0)?),
                None => None,
            };
            if let (Some(done), true) = (current, run_id != current) {
                insert_packed(tx, done, &mut batch, false)?;
                batch.clear();
            }
            let Some(r) = row else { break };
            current = run_id;
            let code: i64 = r.get(2)?;
            let outcome = Outcome::from_code(code)
                .ok_or(rusqlite::Error::IntegralValueOutOfRange(2, code))?;
            batch.push((
                r.get(1)?,
                outcome,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                0,
                0,
                None,
            ));
        }
    }
    tx.execute_batch("DROP TABLE results;")
}

/// Calls `f` on every packed result, by run id then test id.
fn unpack_all(
    conn: &Connection,
    path: &Path,
    waited: Duration,
    f: &mut dyn FnMut(ResultRow),
) -> Result<(), StoreError> {
    let err = sql_err_waited(path, waited);
    let damaged = |what: String| StoreError::Damaged {
        path: path.to_path_buf(),
        what,
    };
    let mut stmt = conn
        .prepare("SELECT run_id, packed FROM run_results ORDER BY run_id")
        .map_err(&err)?;
    let mut rows = stmt.query([]).map_err(&err)?;
    while let Some(r) = rows.next().map_err(&err)? {
        let run_id: i64 = r.get(0).map_err(&err)?;
        let bytes = r
            .get_ref(1)
            .map_err(&err)?
            .as_blob()
            .map_err(|e| damaged(format!("run {run_id}: results: {e}")))?;
        crate::packed::unpack(run_id, bytes, f).map_err(damaged)?;
    }
    Ok(())
}

/// Writes a run's packed results row, with its totals; without the expected failures,
/// unexpected passes and failed duration (`marks` false) in the migration to version 2, before
/// their columns exist (the results it packs have none).
fn insert_packed(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    rows: &mut [crate::packed::Unpacked],
    marks: bool,
) -> rusqlite::Result<()> {
    let (packed, t) = crate::packed::pack(run_id, rows);
    let (n, ran, failed, flaky) = (
        rows.len() as i64,
        t.ran as i64,
        t.failed as i64,
        t.flaky as i64,
    );
    if marks {
        tx.prepare_cached(
            "INSERT INTO run_results (run_id, results, ran, failed, flaky, packed,
                                      expected_failures, unexpected_passes, failed_duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            run_id,
            n,
            ran,
            failed,
            flaky,
            packed,
            t.expected_failures as i64,
            t.unexpected_passes as i64,
            t.failed_duration_ms
        ])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO run_results (run_id, results, ran, failed, flaky, packed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![run_id, n, ran, failed, flaky, packed])?;
    }
    Ok(())
}

/// The `tests` table inside an ingest transaction, for [`crate::assign_tests`]: the
/// connection's cache first (as this transaction changed it), then the table.
struct SqliteTests<'a, 'c> {
    tx: &'a rusqlite::Transaction<'c>,
    test_ids: &'a TestIds,
    changes: &'a mut CacheChanges,
    find_test: rusqlite::CachedStatement<'a>,
    err: &'a dyn Fn(rusqlite::Error) -> StoreError,
    /// First titles of tests without a file: whether the table has one (asked once each).
    fileless: hashbrown::HashMap<String, bool>,
}

impl SqliteTests<'_, '_> {
    /// Whether some test without a file has this first title: one look-up in the index on
    /// (file, title path, environment), for every key an older version gave with the file as a
    /// suite (most of [`crate::legacy_keys`]) at once.
    fn fileless_suite(&mut self, first: &str) -> Result<bool, StoreError> {
        if let Some(&known) = self.fileless.get(first) {
            return Ok(known);
        }
        // Title paths whose first title is `first` begin with `["first"` (as JSON, the first
        // `"` after the opening one ends the title) and then have `,` or `]`: all of them
        // sort between `["first"` and `["first#` (`#` follows `"`), and nothing else does.
        let json = crate::title_path_json(std::slice::from_ref(&first.to_string()));
        let start = &json[..json.len() - 1];
        let end = format!("{}#", &start[..start.len() - 1]);
        let found: bool = self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM tests
                                WHERE file = '' AND title_path >= ?1 AND title_path < ?2)",
            )
            .and_then(|mut st| st.query_row(params![start, end], |row| row.get(0)))
            .map_err(self.err)?;
        self.fileless.insert(first.to_string(), found);
        Ok(found)
    }

    /// A test is now stored under this key.
    fn stored(&mut self, file: &str, path: &[String], env: &str, id: i64) {
        if let (true, Some(first)) = (file.is_empty(), path.first()) {
            self.fileless.insert(first.clone(), true);
        }
        self.changes
            .found((file.to_string(), path.to_vec(), env.to_string()), id);
    }
}

impl TestTable for SqliteTests<'_, '_> {
    type Ref = i64;

    fn find(&mut self, file: &str, path: &[String], env: &str) -> Result<Option<i64>, StoreError> {
        if let Some(id) = self.changes.cached(self.test_ids, file, path, env) {
            return Ok(Some(id));
        }
        let found: Option<i64> = self
            .find_test
            .query_row(params![file, crate::title_path_json(path), env], |row| {
                row.get(0)
            })
            .optional()
            .map_err(self.err)?;
        if let Some(id) = found {
            self.changes
                .found((file.to_string(), path.to_vec(), env.to_string()), id);
        }
        Ok(found)
    }

    fn find_older(
        &mut self,
        file: &str,
        path: &[String],
        env: &str,
    ) -> Result<Option<i64>, StoreError> {
        match path.first() {
            Some(first) if file.is_empty() && !self.fileless_suite(first)? => Ok(None),
            _ => self.find(file, path, env),
        }
    }

    fn rekey(&mut self, id: i64, from: TestKeyOwned, to: KeyRef<'_>) -> Result<(), StoreError> {
        if !self.changes.rekeyed() {
            // Other connections' caches of test ids are stale now.
            self.tx
                .execute(
                    "UPDATE epochs SET value = value + 1 WHERE name = 'tests'",
                    [],
                )
                .map_err(self.err)?;
        }
        self.tx
            .prepare_cached(
                "UPDATE tests SET file = ?2, title_path = ?3, environment = ?4 WHERE id = ?1",
            )
            .and_then(|mut st| st.execute(params![id, to.0, crate::title_path_json(to.1), to.2]))
            .map_err(self.err)?;
        self.changes.gone(from);
        self.stored(to.0, to.1, to.2, id);
        Ok(())
    }

    fn insert(&mut self, file: &str, path: &[String], env: &str) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached("INSERT INTO tests (file, title_path, environment) VALUES (?1, ?2, ?3)")
            .and_then(|mut st| st.execute(params![file, crate::title_path_json(path), env]))
            .map_err(self.err)?;
        let id = self.tx.last_insert_rowid();
        self.stored(file, path, env, id);
        Ok(id)
    }
}

/// Stores one run inside `tx`; what it learnt or changed of test keys goes to `changes`.
/// `known` gives the test of each result when the caller knows them all (the results' keys
/// may then be empty); else each result's key finds its test ([`assign_tests`]). Returns what
/// was stored, and the test of each result when the run was new.
fn ingest_one(
    tx: &rusqlite::Transaction<'_>,
    test_ids: &TestIds,
    run: (&RunMeta, &[TestResult]),
    known: Option<Vec<i64>>,
    changes: &mut CacheChanges,
    err: &dyn Fn(rusqlite::Error) -> StoreError,
) -> Result<(Ingested, Vec<i64>), StoreError> {
    let (meta, results) = run;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO runs (content_hash, source, commit_id, start_ms, duration_ms, title,
                                   url, category, ingested_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (content_hash) DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                meta.content_hash,
                meta.source,
                meta.commit_id,
                meta.start_ms,
                meta.duration_ms,
                meta.title,
                meta.url,
                meta.category,
                now_ms()
            ])
        })
        .map_err(err)?;
    if inserted == 0 {
        return Ok((Ingested::AlreadyPresent, Vec::new()));
    }
    let run_id = tx.last_insert_rowid();
    let mut packed: Vec<crate::packed::Unpacked> = Vec::with_capacity(results.len());
    let ids = match known {
        Some(ids) => ids,
        None => {
            // Each result's test id: stored, re-keyed from a key of an older version, or new.
            let find_test = tx
                .prepare_cached(
                    "SELECT id FROM tests WHERE file = ?1 AND title_path = ?2 AND environment = ?3",
                )
                .map_err(err)?;
            let mut table = SqliteTests {
                tx,
                test_ids,
                changes,
                find_test,
                err,
                fileless: hashbrown::HashMap::new(),
            };
            assign_tests(&mut table, results)?
        }
    };
    {
        let mut add_failure = tx
            .prepare_cached(
                "INSERT INTO failures (run_id, test_id, attempt, kind, message, stack)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT DO NOTHING",
            )
            .map_err(err)?;
        let mut ided: Vec<(i64, &TestResult)> = ids.iter().copied().zip(results).collect();
        // Results of the same test (same id) are merged, in the order they came (a stable
        // sort keeps it).
        ided.sort_by_key(|(id, _)| *id);
        for group in ided.chunk_by(|a, b| a.0 == b.0) {
            let test_id = group[0].0;
            let merged_group;
            let r: &TestResult = if group.len() == 1 {
                group[0].1
            } else {
                let copies: Vec<TestResult> = group.iter().map(|(_, r)| (*r).clone()).collect();
                merged_group = merged(&copies)
                    .into_iter()
                    .next()
                    .map(|m| m.into_owned())
                    .unwrap_or_else(|| group[0].1.clone());
                &merged_group
            };
            packed.push(crate::packed::unpacked(test_id, r));
            for f in &r.failures {
                add_failure
                    .execute(params![
                        run_id,
                        test_id,
                        f.attempt,
                        f.kind.as_str(),
                        f.message,
                        f.stack
                    ])
                    .map_err(&err)?;
            }
        }
    }
    insert_packed(tx, run_id, &mut packed, true).map_err(err)?;
    Ok((Ingested::New { run_id }, ids))
}

const V1: &str = "
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        source       TEXT NOT NULL,
        commit_id    TEXT NOT NULL,
        start_ms     INTEGER NOT NULL,
        duration_ms  INTEGER NOT NULL,
        title        TEXT,
        url          TEXT,
        category     TEXT NOT NULL,
        ingested_ms  INTEGER NOT NULL
    );
    CREATE INDEX runs_by_start ON runs (start_ms, id);
    CREATE TABLE tests (
        id          INTEGER PRIMARY KEY,
        file        TEXT NOT NULL,
        title_path  TEXT NOT NULL,
        environment TEXT NOT NULL,
        UNIQUE (file, title_path, environment)
    );
    CREATE TABLE results (
        run_id          INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        test_id         INTEGER NOT NULL REFERENCES tests (id),
        outcome         INTEGER NOT NULL,
        attempts        INTEGER NOT NULL,
        failed_attempts INTEGER NOT NULL,
        duration_ms     INTEGER,
        PRIMARY KEY (run_id, test_id)
    ) WITHOUT ROWID;
    CREATE TABLE failures (
        run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        test_id INTEGER NOT NULL REFERENCES tests (id),
        attempt INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        message TEXT,
        stack   TEXT,
        PRIMARY KEY (run_id, test_id, attempt)
    ) WITHOUT ROWID;
    CREATE INDEX failures_by_test ON failures (test_id);
    CREATE TABLE sources (
        path         TEXT PRIMARY KEY,
        size         INTEGER NOT NULL,
        mtime_ns     INTEGER NOT NULL,
        content_hash TEXT NOT NULL
    );
    ";

/// The embedded history store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    /// Test ids by (file, title path as JSON, environment), filled as tests are seen; valid
    /// while `epochs.tests` is `tests_epoch`.
    test_ids: TestIds,
    tests_epoch: Option<i64>,
    /// Test ids by the numbers of one [`TestKeys`] (`keys_serial`): what `test_ids` would
    /// answer for the key of that number, learnt as [`ingest_keyed`](Self::ingest_keyed)
    /// finds them; cleared with `test_ids`, and when a transaction re-keys tests.
    key_ids: Vec<Option<i64>>,
    keys_serial: Option<u64>,
    /// A checkpoint running on a connection of its own
    /// ([`checkpoint_in_background`](Self::checkpoint_in_background)), joined before this
    /// connection closes.
    checkpoint: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some(running) = self.checkpoint.take() {
            let _ = running.join();
        }
    }
}

/// The error of a failed SQLite call, with the store's path; busy errors become
/// [`StoreError::Locked`] and "not a database" [`StoreError::NotOurs`].
fn sql_err_waited(path: &Path, waited: Duration) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            path: path.to_path_buf(),
            waited_ms: waited.as_millis() as u64,
        },
        Some(ErrorCode::NotADatabase) => StoreError::NotOurs {
            path: path.to_path_buf(),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// A failure from the columns `attempt, kind, message, stack` starting at column `at`.
fn failure_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<crate::FailureRecord> {
    Ok(crate::FailureRecord {
        attempt: r.get(at)?,
        kind: FailureKind::parse(&r.get::<_, String>(at + 1)?),
        message: r.get(at + 2)?,
        stack: r.get(at + 3)?,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl SqliteStore {
    /// Opens the store at `path`, creating it when missing, and brings its schema up to
    /// [`SCHEMA_VERSION`]. The parent folder must exist. A writer waits up to
    /// [`DEFAULT_BUSY_TIMEOUT`] for another process's transaction.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`open`](Self::open), waiting up to `busy_timeout` for other processes' transactions.
    pub fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let err = sql_err_waited(path, busy_timeout);
        let conn = Connection::open(path).map_err(&err)?;
        conn.busy_timeout(busy_timeout).map_err(&err)?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            busy_timeout,
            test_ids: TestIds::default(),
            tests_epoch: None,
            key_ids: Vec::new(),
            keys_serial: None,
            checkpoint: None,
        };
        // SQLite does not wait on its own for everything opening does (switching to WAL while
        // another connection does the same returns "busy" at once): retry until the timeout.
        let started = std::time::Instant::now();
        loop {
            let prepared = store
                .check_ours()
                .and_then(|()| store.configure())
                .and_then(|()| store.migrate());
            match prepared {
                Err(StoreError::Locked { .. }) if started.elapsed() < busy_timeout => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => return other.map(|()| store),
            }
        }
    }

    /// Refuses files that hold another program's tables. Both facts are read in one snapshot
    /// (another process may be creating our tables right now).
    fn check_ours(&mut self) -> Result<(), StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let tx = self.conn.transaction().map_err(&err)?;
        let app: i32 = tx
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(&err)?;
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(&err)?;
        tx.commit().map_err(&err)?;
        if app == APPLICATION_ID || (app == 0 && tables == 0) {
            return Ok(());
        }
        Err(StoreError::NotOurs {
            path: self.path.clone(),
        })
    }

    fn configure(&self) -> Result<(), StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        // WAL: readers never block the writer and a crash never leaves half a transaction.
        // synchronous=NORMAL: a power loss may drop the last runs ingested, never corrupt the
        // store; they are ingested again by the next `analyze` of the same folders.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(&err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Damaged {
                path: self.path.clone(),
                what: format!("cannot switch to WAL mode (journal mode is {mode})"),
            });
        }
        // A run's results are appended at the end of the results table (keyed by run): a page
        // cache of 64 MiB and memory-mapped reads keep ingest and analysis off the disk.
        self.conn
            .execute_batch(
                "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;
                 PRAGMA wal_autocheckpoint = 8192; PRAGMA temp_store = MEMORY;",
            )
            .map_err(&err)
    }

    /// Applies the missing migrations; another process doing the same at the same time waits
    /// for the first (the version is read again inside the write transaction).
    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = sql_err_waited(&path, self.busy_timeout);
        let timeout = self.busy_timeout;
        let version = |conn: &Connection| -> Result<i64, StoreError> {
            conn.query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(sql_err_waited(&path, timeout))
        };
        let current = version(&self.conn)?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.clone(),
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        if current == SCHEMA_VERSION {
            return Ok(());
        }
        for (v, step) in MIGRATIONS {
            let v = *v;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&err)?;
            if version(&tx)? >= v {
                continue;
            }
            match step {
                Migration::Sql(sql) => tx.execute_batch(sql),
                Migration::Code(f) => f(&tx),
            }
            .map_err(&err)?;
            tx.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {v};"
            ))
            .map_err(&err)?;
            tx.commit().map_err(&err)?;
        }
        Ok(())
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a run with this content hash is stored.
    pub fn contains(&self, content_hash: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM runs WHERE content_hash = ?1",
                [content_hash],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(sql_err_waited(&self.path, self.busy_timeout))
    }

    /// Stores a run and its results in one transaction (all or nothing). Results of the same
    /// test and environment are merged first. A key the store does not have may take a test
    /// stored under a key of an older version (see [`crate::HistoryStore::ingest`]).
    pub fn ingest(&mut self, run: &RunRecord) -> Result<Ingested, StoreError> {
        let mut done = self.ingest_many(&[run])?;
        Ok(done.pop().unwrap_or(Ingested::AlreadyPresent))
    }

    /// [`ingest`](Self::ingest) for several runs in one transaction: all of them or none.
    pub fn ingest_many(&mut self, runs: &[&RunRecord]) -> Result<Vec<Ingested>, StoreError> {
        self.ingest_batch(runs.len(), |tx, test_ids, _, changes, i, err| {
            let run = runs[i];
            let (done, _) =
                ingest_one(tx, test_ids, (&run.meta, &run.results), None, changes, err)?;
            Ok(done)
        })
        .map(|(out, _)| out)
    }

    /// [`ingest_many`](Self::ingest_many) for runs whose results' keys are numbered in `keys`
    /// (the same rows stored): a result whose number's test this store has learnt is not
    /// looked up by its key; a run with another result is stored with its keys read back
    /// from `keys`, and teaches the store the numbers of their tests.
    pub fn ingest_keyed(
        &mut self,
        runs: &[&KeyedRun],
        keys: &TestKeys,
    ) -> Result<Vec<Ingested>, StoreError> {
        if self.keys_serial != Some(keys.serial()) {
            self.key_ids.clear();
            self.keys_serial = Some(keys.serial());
        }
        self.ingest_batch(runs.len(), |tx, test_ids, key_ids, changes, i, err| {
            let run = runs[i];
            // Known only while nothing was re-keyed: a key re-keyed away has no test now.
            let known: Option<Vec<i64>> = if changes.rekeyed() {
                None
            } else {
                run.keys
                    .iter()
                    .map(|&k| key_ids.get(k as usize).copied().flatten())
                    .collect()
            };
            if known.is_some() {
                let (done, _) =
                    ingest_one(tx, test_ids, (&run.meta, &run.results), known, changes, err)?;
                return Ok(done);
            }
            let record = keys.record(run);
            let (done, ids) = ingest_one(
                tx,
                test_ids,
                (&record.meta, &record.results),
                None,
                changes,
                err,
            )?;
            if !changes.rekeyed() {
                // Good for the next runs of this transaction too (the numbers are forgotten
                // if it fails).
                for (&k, id) in run.keys.iter().zip(ids) {
                    let k = k as usize;
                    if key_ids.len() <= k {
                        key_ids.resize(k + 1, None);
                    }
                    key_ids[k] = Some(id);
                }
            }
            Ok(done)
        })
        .map(|(out, _)| out)
    }

    /// Stores `n` runs in one transaction, `one(…, i, …)` storing the `i`th (it may teach the
    /// numbers' tests, which are forgotten if the transaction fails or re-keys tests); then the
    /// cache learns what it found. Returns what each run did, and whether tests were re-keyed.
    fn ingest_batch(
        &mut self,
        n: usize,
        mut one: impl FnMut(
            &rusqlite::Transaction<'_>,
            &TestIds,
            &mut Vec<Option<i64>>,
            &mut CacheChanges,
            usize,
            &dyn Fn(rusqlite::Error) -> StoreError,
        ) -> Result<Ingested, StoreError>,
    ) -> Result<(Vec<Ingested>, bool), StoreError> {
        let path = self.path.clone();
        let err = sql_err_waited(&path, self.busy_timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let epoch: i64 = tx
            .query_row("SELECT value FROM epochs WHERE name = 'tests'", [], |r| {
                r.get(0)
            })
            .map_err(&err)?;
        if self.tests_epoch != Some(epoch) {
            // Another connection pruned or re-keyed tests since the cache was filled.
            self.test_ids.clear();
            self.key_ids.clear();
            self.tests_epoch = Some(epoch);
        }
        // Ids this transaction found or stored, and keys it re-keyed, join the cache only once
        // it commits.
        let mut changes = CacheChanges::default();
        let mut out = Vec::with_capacity(n);
        let stored = (|| {
            for i in 0..n {
                out.push(one(
                    &tx,
                    &self.test_ids,
                    &mut self.key_ids,
                    &mut changes,
                    i,
                    &err,
                )?);
            }
            tx.commit().map_err(&err)
        })();
        if stored.is_err() {
            // What the numbers learnt in the transaction is gone with it.
            self.key_ids.clear();
        }
        stored?;
        let rekeyed = changes.rekeyed();
        if rekeyed {
            // The epoch this transaction moved on: the cache, with its changes, is valid; the
            // numbers' tests are learnt again.
            self.tests_epoch = Some(epoch + 1);
            self.key_ids.clear();
        }
        self.test_ids.apply(changes);
        Ok((out, rekeyed))
    }

    /// Every stored run, oldest first (by start time, then by id).
    pub fn runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, content_hash, source, commit_id, start_ms, duration_ms, title, url,
                        category
                 FROM runs ORDER BY start_ms, id",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RunInfo {
                    id: r.get(0)?,
                    meta: RunMeta {
                        content_hash: r.get(1)?,
                        source: r.get(2)?,
                        commit_id: r.get(3)?,
                        start_ms: r.get(4)?,
                        duration_ms: r.get(5)?,
                        title: r.get(6)?,
                        url: r.get(7)?,
                        category: r.get(8)?,
                    },
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    /// Every stored test and environment, by id.
    pub fn tests(&self) -> Result<Vec<TestKey>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare("SELECT id, file, title_path, environment FROM tests ORDER BY id")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(&err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, file, path, environment) = row.map_err(&err)?;
            let title_path: Vec<String> =
                serde_json::from_str(&path).map_err(|e| StoreError::Damaged {
                    path: self.path.clone(),
                    what: format!("test {id}: title path {path:?}: {e}"),
                })?;
            out.push(TestKey {
                id,
                file,
                title_path,
                environment,
            });
        }
        Ok(out)
    }

    /// Calls `f` on every stored result, in the order they are stored (by run id, then test
    /// id): the caller groups them by test and orders them by [`runs`](Self::runs). The rows
    /// stream from the store; none is held.
    pub fn for_each_result(&self, mut f: impl FnMut(ResultRow)) -> Result<(), StoreError> {
        unpack_all(&self.conn, &self.path, self.busy_timeout, &mut f)
    }

    /// The failures of a test in a run, by attempt.
    pub fn failures(
        &self,
        run_id: i64,
        test_id: i64,
    ) -> Result<Vec<crate::FailureRecord>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT attempt, kind, message, stack FROM failures
                 WHERE run_id = ?1 AND test_id = ?2 ORDER BY attempt",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![run_id, test_id], |r| failure_at(r, 0))
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    /// For every run with results, by run id: results that ran (not skipped), failed, flaky.
    pub fn run_totals(&self) -> Result<Vec<RunTotals>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, ran, failed, flaky, expected_failures, unexpected_passes,
                        failed_duration_ms
                 FROM run_results WHERE results > 0 ORDER BY run_id",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RunTotals {
                    run_id: r.get(0)?,
                    ran: r.get::<_, i64>(1)? as u64,
                    failed: r.get::<_, i64>(2)? as u64,
                    flaky: r.get::<_, i64>(3)? as u64,
                    expected_failures: r.get::<_, i64>(4)? as u64,
                    unexpected_passes: r.get::<_, i64>(5)? as u64,
                    failed_duration_ms: r.get(6)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    /// The failures of a run: (test id, failure), by test then attempt.
    pub fn run_failures(
        &self,
        run_id: i64,
    ) -> Result<Vec<(i64, crate::FailureRecord)>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT test_id, attempt, kind, message, stack FROM failures
                 WHERE run_id = ?1 ORDER BY test_id, attempt",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([run_id], |r| Ok((r.get::<_, i64>(0)?, failure_at(r, 1)?)))
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    /// The failures of one test across runs: (run id, failure), by run then attempt; at most
    /// `limit` rows.
    pub fn test_failures(
        &self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, crate::FailureRecord)>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT run_id, attempt, kind, message, stack FROM failures
                 WHERE test_id = ?1 ORDER BY run_id, attempt LIMIT ?2",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(
                params![test_id, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| Ok((r.get::<_, i64>(0)?, failure_at(r, 1)?)),
            )
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    /// Calls `f` on every failure: (run id, test id, failure); the rows stream.
    pub fn for_each_failure(
        &self,
        mut f: impl FnMut(i64, i64, crate::FailureRecord),
    ) -> Result<(), StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let mut stmt = self
            .conn
            .prepare("SELECT run_id, test_id, attempt, kind, message, stack FROM failures")
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        while let Some(r) = rows.next().map_err(&err)? {
            let run: i64 = r.get(0).map_err(&err)?;
            let test: i64 = r.get(1).map_err(&err)?;
            f(run, test, failure_at(r, 2).map_err(&err)?);
        }
        Ok(())
    }

    /// Deletes the runs that started before `cutoff_ms` (with their results and failures) and
    /// the tests left without results; returns how many runs went.
    pub fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let path = self.path.clone();
        let err = sql_err_waited(&path, self.busy_timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let runs = tx
            .execute("DELETE FROM runs WHERE start_ms < ?1", [cutoff_ms])
            .map_err(&err)?;
        if runs > 0 {
            // Tests still in some run's results stay; the others go.
            let mut live = std::collections::HashSet::new();
            {
                unpack_all(&tx, &path, self.busy_timeout, &mut |row| {
                    live.insert(row.test_id);
                })?;
                let ids: Vec<i64> = tx
                    .prepare("SELECT id FROM tests")
                    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                    .map_err(&err)?;
                let mut delete = tx
                    .prepare("DELETE FROM tests WHERE id = ?1")
                    .map_err(&err)?;
                let mut deleted = 0;
                for id in ids.into_iter().filter(|id| !live.contains(id)) {
                    deleted += delete.execute([id]).map_err(&err)?;
                }
                if deleted > 0 {
                    tx.execute(
                        "UPDATE epochs SET value = value + 1 WHERE name = 'tests'",
                        [],
                    )
                    .map_err(&err)?;
                }
            }
        }
        tx.commit().map_err(&err)?;
        self.test_ids.clear();
        self.key_ids.clear();
        self.tests_epoch = None;
        Ok(runs as u64)
    }

    /// The content hash last remembered for this file, if its size and modification time are
    /// the same.
    pub fn source_hash(
        &self,
        path: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(SOURCE_HASH)
            .and_then(|mut st| {
                st.query_row(params![path, size, mtime_ns], |r| r.get(0))
                    .optional()
            })
            .map_err(sql_err_waited(&self.path, self.busy_timeout))
    }

    /// [`source_hash`](Self::source_hash) for many files, `(path, size, mtime_ns)`, in order,
    /// in one read transaction (one lock taken for all of them, not one per file).
    pub fn source_hashes(
        &mut self,
        files: &[(&str, i64, i64)],
    ) -> Result<Vec<Option<String>>, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let tx = self.conn.transaction().map_err(&err)?;
        let mut out = Vec::with_capacity(files.len());
        {
            let mut st = tx.prepare_cached(SOURCE_HASH).map_err(&err)?;
            for &(path, size, mtime_ns) in files {
                let hash = st
                    .query_row(params![path, size, mtime_ns], |r| r.get(0))
                    .optional()
                    .map_err(&err)?;
                out.push(hash);
            }
        }
        tx.commit().map_err(&err)?;
        Ok(out)
    }

    /// Remembers the content hash of a file with this size and modification time.
    pub fn remember_source(
        &self,
        path: &str,
        size: i64,
        mtime_ns: i64,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(REMEMBER_SOURCE, params![path, size, mtime_ns, content_hash])
            .map(|_| ())
            .map_err(sql_err_waited(&self.path, self.busy_timeout))
    }

    /// [`remember_source`](Self::remember_source) for many files, in one transaction.
    pub fn remember_sources(
        &mut self,
        sources: &[(String, i64, i64, String)],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = sql_err_waited(&path, self.busy_timeout);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        {
            let mut put = tx.prepare_cached(REMEMBER_SOURCE).map_err(&err)?;
            for (file, size, mtime_ns, hash) in sources {
                put.execute(params![file, size, mtime_ns, hash])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// Starts copying what the write-ahead log holds into the database file, on a thread and
    /// a connection of its own (a passive checkpoint: it waits for no reader or writer), so
    /// that closing the store has little left to do: the last connection to close copies the
    /// whole log, and after a large ingest (the log holding every page written) that is on the
    /// caller's time. For when the caller goes on reading (the analysis after an ingest) on
    /// one core while another is free. The store waits for it before it closes; a checkpoint
    /// that fails changes nothing (the closing one does the work).
    pub fn checkpoint_in_background(&mut self) {
        if self.checkpoint.as_ref().is_some_and(|c| !c.is_finished()) {
            return;
        }
        let (path, timeout) = (self.path.clone(), self.busy_timeout);
        let checkpoint = move || {
            if let Ok(conn) = Connection::open(&path) {
                let _ = conn.busy_timeout(timeout);
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        };
        self.checkpoint = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(checkpoint)
            .ok();
    }

    /// How many rows each table holds.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let err = sql_err_waited(&self.path, self.busy_timeout);
        let count = |table: &str| -> Result<u64, StoreError> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .map_err(&err)
        };
        Ok(Counts {
            runs: count("runs")?,
            tests: count("tests")?,
            results: self
                .conn
                .query_row(
                    "SELECT coalesce(sum(results), 0) FROM run_results",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n as u64)
                .map_err(&err)?,
            failures: count("failures")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The look-up of a first title among tests without a file finds exactly the title paths
    /// that begin with it (not a longer title, not one with an escaped quote after it), and
    /// what the transaction stores.
    #[test]
    fn a_fileless_suite_is_found_by_its_first_title_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("open");
        let tx = store.conn.transaction().expect("tx");
        for (file, path) in [
            ("", r#"["a.js","t"]"#),
            ("", r#"["b.js"]"#),
            ("", r#"["c.js.bak","t"]"#),
            ("", r#"["d\"q","t"]"#),
            ("e.js", r#"["e.js","t"]"#),
        ] {
            tx.execute(
                "INSERT INTO tests (file, title_path, environment) VALUES (?1, ?2, 'x')",
                params![file, path],
            )
            .expect("test");
        }
        let ids = TestIds::default();
        let mut changes = CacheChanges::default();
        let err = sql_err_waited(Path::new("h.db"), Duration::ZERO);
        let mut table = SqliteTests {
            tx: &tx,
            test_ids: &ids,
            changes: &mut changes,
            find_test: tx
                .prepare_cached(
                    "SELECT id FROM tests WHERE file = ?1 AND title_path = ?2 AND environment = ?3",
                )
                .expect("prepare"),
            err: &err,
            fileless: hashbrown::HashMap::new(),
        };
        let mut ask = |t: &str| table.fileless_suite(t).expect("look-up");
        assert!(ask("a.js"));
        assert!(ask("b.js"), "a path of one title");
        assert!(!ask("c.js"), "a longer title");
        assert!(ask("c.js.bak"));
        assert!(!ask("d"), "an escaped quote");
        assert!(ask("d\"q"));
        assert!(!ask("e.js"), "a test with a file");
        assert!(!ask(""));
        assert!(!ask("f.js"));
        table
            .insert("", &["f.js".into(), "t".into()], "x")
            .expect("insert");
        assert!(
            table.fileless_suite("f.js").expect("look-up"),
            "stored since"
        );
    }

    /// A store written by the first schema (one row per result) opens with its results packed,
    /// none lost.
    #[test]
    fn a_version_1_store_is_migrated_with_every_result() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("v1.db");
        {
            let c = Connection::open(&path).expect("sqlite");
            c.execute_batch(V1).expect("v1");
            c.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
            ))
            .expect("pragmas");
            for run in 1..=3i64 {
                c.execute(
                    "INSERT INTO runs (id, content_hash, source, commit_id, start_ms, duration_ms,
                                       category, ingested_ms)
                     VALUES (?1, ?2, 'src', 'c', ?1, 0, 'junit', 0)",
                    params![run, format!("h{run}")],
                )
                .expect("run");
            }
            for test in 1..=4i64 {
                c.execute(
                    "INSERT INTO tests (id, file, title_path, environment) VALUES (?1, 'f', ?2, 'e')",
                    params![test * 10, format!("[\"t{test}\"]")],
                )
                .expect("test");
            }
            // Run 3 has no results.
            for (run, test, outcome, attempts, failed, duration) in crate::v1_check::V1_RESULTS {
                c.execute(
                    "INSERT INTO results VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![run, test, outcome, attempts, failed, duration],
                )
                .expect("result");
            }
        }
        let mut store = SqliteStore::open(&path).expect("migrates");
        crate::v1_check::assert_v1_results_migrated(&mut store);
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let old: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'results'",
                [],
                |r| r.get(0),
            )
            .expect("tables");
        assert_eq!(old, 0, "the row-per-result table is gone");
    }

    /// A store written by schema `version` (the migrations up to it), with run 1 of tests 10
    /// and 40 (`t1` and `t4` in file `f`, environment `e`), test 40's attempt 0 failed with kind
    /// `unknown` and no message, and the run's results row inserted by `insert` (with the packed
    /// value as `?1`), then opened by this build: at the current version.
    fn migrated(version: i64, insert: &str, packed: &[u8]) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(format!("v{version}.db"));
        {
            let mut c = Connection::open(&path).expect("sqlite");
            let tx = c.transaction().expect("tx");
            for (v, step) in MIGRATIONS.iter().filter(|(v, _)| *v <= version) {
                match step {
                    Migration::Sql(sql) => tx.execute_batch(sql),
                    Migration::Code(f) => f(&tx),
                }
                .unwrap_or_else(|e| panic!("version {v}: {e}"));
            }
            tx.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};
                 INSERT INTO runs (id, content_hash, source, commit_id, start_ms, duration_ms,
                                   category, ingested_ms)
                 VALUES (1, 'h1', 'src', 'c', 1, 0, 'pytest', 0);
                 INSERT INTO tests (id, file, title_path, environment)
                 VALUES (10, 'f', '[\"t1\"]', 'e'), (40, 'f', '[\"t4\"]', 'e');
                 INSERT INTO failures VALUES (1, 40, 0, 'unknown', NULL, NULL);"
            ))
            .unwrap_or_else(|e| panic!("version {version} rows: {e}"));
            tx.execute(insert, [packed]).expect("packed");
            tx.commit().expect("commit");
        }
        let store = SqliteStore::open(&path).expect("migrates");
        let now: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(now, SCHEMA_VERSION);
        (dir, store)
    }

    /// A version 3 store (results packed in format 1, an unexpected pass stored as a failure of
    /// kind `unknown`) opens at the current version with every result as it was, none an
    /// expected failure or an unexpected pass; runs stored since keep them.
    #[test]
    fn a_version_3_store_reads_as_before_and_keeps_expected_statuses_since() {
        let (_dir, mut store) = migrated(
            3,
            "INSERT INTO run_results (run_id, results, ran, failed, flaky, packed)
             VALUES (1, 2, 2, 1, 0, ?1)",
            &crate::v1_check::FORMAT_1_RUN_1,
        );
        crate::v1_check::assert_format_1_results_read_as_before(&mut store);
    }

    /// A version 4 store (results packed in format 2, with expected failures and unexpected
    /// passes) opens at version 5 with every result as it was, without a failed duration (the
    /// run's total 0); runs stored since keep their failed durations and their sum.
    #[test]
    fn a_version_4_store_reads_as_before_and_keeps_failed_durations_since() {
        assert_eq!(SCHEMA_VERSION, 5);
        let (_dir, mut store) = migrated(
            4,
            "INSERT INTO run_results (run_id, results, ran, failed, flaky, packed,
                                      expected_failures, unexpected_passes)
             VALUES (1, 2, 2, 1, 0, ?1, 1, 1)",
            &crate::v1_check::FORMAT_2_RUN_1,
        );
        crate::v1_check::assert_format_2_results_read_as_before(&mut store);
    }
}

#[cfg(test)]
mod keyed_tests {
    use super::*;

    fn result(title: &str) -> TestResult {
        TestResult {
            file: "a.rs".into(),
            title_path: vec![title.into()],
            environment: "linux".into(),
            attempts: 1,
            ..TestResult::default()
        }
    }

    fn run(hash: &str, titles: &[&str]) -> RunRecord {
        RunRecord {
            meta: RunMeta {
                content_hash: hash.into(),
                ..RunMeta::default()
            },
            results: titles.iter().map(|t| result(t)).collect(),
        }
    }

    /// A checkpoint on another connection while this one reads: the store stays whole, and
    /// closing it leaves no write-ahead log behind.
    #[test]
    fn a_checkpoint_in_the_background_leaves_the_store_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("h.db");
        let mut store = SqliteStore::open(&path).expect("open");
        let titles: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let runs: Vec<RunRecord> = (0..50).map(|i| run(&format!("r{i}"), &titles)).collect();
        store
            .ingest_many(&runs.iter().collect::<Vec<_>>())
            .expect("ingest");
        store.checkpoint_in_background();
        store.checkpoint_in_background();
        assert_eq!(store.counts().expect("counts").results, 50 * 200);
        drop(store);
        assert!(!dir.path().join("h.db-wal").exists());
        let again = SqliteStore::open(&path).expect("reopen");
        assert_eq!(again.counts().expect("counts").results, 50 * 200);
    }

    /// The numbers' tests are learnt from committed transactions, and forgotten when tests
    /// are re-keyed or pruned, or numbers come from another table.
    #[test]
    fn numbers_are_learnt_and_forgotten() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store = SqliteStore::open(&dir.path().join("h.db")).expect("open");
        let keys = TestKeys::new();
        let first = keys.key_run(run("r1", &["a", "b"]));
        store.ingest_keyed(&[&first], &keys).expect("r1");
        let ids: Vec<i64> = store.tests().expect("tests").iter().map(|t| t.id).collect();
        assert_eq!(store.key_ids, vec![Some(ids[0]), Some(ids[1])]);
        let second = keys.key_run(run("r2", &["b", "c"]));
        store.ingest_keyed(&[&second], &keys).expect("r2");
        assert_eq!(store.key_ids.len(), 3);
        assert!(store.key_ids.iter().all(Option::is_some));
        // Known numbers: stored without a look-up by key.
        let third = keys.key_run(run("r3", &["a", "c"]));
        store.ingest_keyed(&[&third], &keys).expect("r3");
        assert_eq!(store.counts().expect("counts").results, 6);
        // Another table's numbers mean nothing here.
        let other = TestKeys::new();
        let fourth = other.key_run(run("r4", &["c"]));
        store.ingest_keyed(&[&fourth], &other).expect("r4");
        assert_eq!(store.key_ids.len(), 1);
        assert_eq!(store.counts().expect("counts").tests, 3);
        store.prune_before(i64::MIN).expect("prune");
        assert!(store.key_ids.is_empty());
    }
}
