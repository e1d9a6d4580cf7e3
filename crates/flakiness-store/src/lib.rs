//! The history store of `flakiness analyze`: one row per CI run (a report), one per test and
//! environment, and one per run, test and environment with what the test did in that run, plus
//! the errors of its failed attempts.
//!
//! The store keeps what the analysis needs, not the reports: a report is summarised into a
//! [`RunRecord`] by the analyzer and ingested in one transaction. A run is identified by the
//! hash of its report's content, so ingesting the same report twice stores it once.
//!
//! [`SqliteStore`] is the embedded default: one file, WAL mode, safe when two processes share
//! it (writers wait for each other up to a timeout, then fail with [`StoreError::Locked`]).
//! Its schema is versioned; [`SqliteStore::open`] applies the missing migrations, each in its
//! own transaction, and refuses files that are not ours or that a newer version wrote.
//!
//! ```
//! use flakiness_store::{Ingested, Outcome, RunMeta, RunRecord, SqliteStore, TestResult};
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = SqliteStore::open(&dir.path().join("history.db"))?;
//! let run = RunRecord {
//!     meta: RunMeta {
//!         content_hash: "9f86d081884c7d65".into(),
//!         source: "reports/run-1".into(),
//!         commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
//!         start_ms: 1_700_000_000_000,
//!         duration_ms: 1_200,
//!         category: "junit".into(),
//!         ..RunMeta::default()
//!     },
//!     results: vec![TestResult {
//!         file: "tests/login.spec.ts".into(),
//!         title_path: vec!["login".into(), "rejects a wrong password".into()],
//!         environment: "chromium".into(),
//!         outcome: Outcome::Flaky,
//!         attempts: 2,
//!         failed_attempts: 1,
//!         ..TestResult::default()
//!     }],
//! };
//! assert!(matches!(store.ingest(&run)?, Ingested::New { .. }));
//! assert_eq!(store.ingest(&run)?, Ingested::AlreadyPresent);
//! assert_eq!(store.counts()?.results, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod keys;
mod packed;
mod postgres;
mod sqlite;
#[cfg(test)]
mod v1_check;

pub use keys::{KeyId, KeyedRun, RunKeys, TestKeys};
pub use postgres::{redact as redact_url, PgStore};
pub use sqlite::{SqliteStore, APPLICATION_ID, DEFAULT_BUSY_TIMEOUT, SCHEMA_VERSION};

/// What the analyzer needs of a history store: [`SqliteStore`] (embedded) and [`PgStore`]
/// (PostgreSQL) behave the same; one contract test suite runs against both.
pub trait HistoryStore {
    /// Where the store is, for messages (a PostgreSQL URL without its password).
    fn describe(&self) -> String;
    /// Whether a run with this content hash is stored.
    fn contains(&mut self, content_hash: &str) -> Result<bool, StoreError>;
    /// Stores a run and its results in one transaction (all or nothing); results of the same
    /// test and environment are merged first. A key the store does not have takes the test
    /// stored under one of its [`legacy_keys`] when there is one (and no other result of the
    /// run has it): that test is re-keyed, its history goes on under the new key.
    fn ingest(&mut self, run: &RunRecord) -> Result<Ingested, StoreError>;
    /// [`ingest`](Self::ingest) for several runs, in order; a store may put them in one
    /// transaction (each run is still whole or absent, never half stored).
    fn ingest_many(&mut self, runs: &[&RunRecord]) -> Result<Vec<Ingested>, StoreError> {
        runs.iter().map(|r| self.ingest(r)).collect()
    }
    /// Whether [`ingest_keyed`](Self::ingest_keyed) is cheaper here than
    /// [`ingest_many`](Self::ingest_many): then the analyzer numbers the keys of the results
    /// as it reads the reports.
    fn prefers_keyed(&self) -> bool {
        false
    }
    /// [`ingest_many`](Self::ingest_many) for runs whose results' keys are numbered in `keys`
    /// ([`TestKeys::key_run`]): the same rows stored.
    fn ingest_keyed(
        &mut self,
        runs: &[&KeyedRun],
        keys: &TestKeys,
    ) -> Result<Vec<Ingested>, StoreError> {
        let records: Vec<RunRecord> = runs.iter().map(|r| keys.record(r)).collect();
        self.ingest_many(&records.iter().collect::<Vec<_>>())
    }
    /// After a large ingest, before reading: a store may start tidying up what the ingest
    /// left on another thread ([`SqliteStore::checkpoint_in_background`]); nothing by default.
    fn tidy_in_background(&mut self) {}
    /// Every stored run, oldest first (by start time, then by id).
    fn runs(&mut self) -> Result<Vec<RunInfo>, StoreError>;
    /// Every stored test and environment, by id.
    fn tests(&mut self) -> Result<Vec<TestKey>, StoreError>;
    /// Every stored result, by run id then test id (the order they are stored in); rows
    /// stream.
    fn for_each_result(&mut self, f: &mut dyn FnMut(ResultRow)) -> Result<(), StoreError>;
    /// For every run with results, by run id: how many ran, failed, were flaky.
    fn run_totals(&mut self) -> Result<Vec<RunTotals>, StoreError>;
    /// The failures of a run: (test id, failure), by test then attempt.
    fn run_failures(&mut self, run_id: i64) -> Result<Vec<(i64, FailureRecord)>, StoreError>;
    /// The failures of a test: (run id, failure), by run then attempt, at most `limit`.
    fn test_failures(
        &mut self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, FailureRecord)>, StoreError>;
    /// Every failure: (run id, test id, failure); rows stream.
    fn for_each_failure(
        &mut self,
        f: &mut dyn FnMut(i64, i64, FailureRecord),
    ) -> Result<(), StoreError>;
    /// The failures of a test in a run, by attempt.
    fn failures(&mut self, run_id: i64, test_id: i64) -> Result<Vec<FailureRecord>, StoreError>;
    /// Deletes the runs that started before `cutoff_ms` and the tests left without results.
    fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64, StoreError>;
    /// How many rows each table holds.
    fn counts(&mut self) -> Result<Counts, StoreError>;
    /// The content hash last seen for the file at `path` with this size and modification time
    /// (so that a file already ingested is not read again).
    fn source_hash(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<Option<String>, StoreError>;
    /// [`source_hash`](Self::source_hash) for many files, `(path, size, mtime_ns)`, in order
    /// (in one read transaction where the store can).
    fn source_hashes(
        &mut self,
        files: &[(&str, i64, i64)],
    ) -> Result<Vec<Option<String>>, StoreError> {
        files
            .iter()
            .map(|&(path, size, mtime_ns)| self.source_hash(path, size, mtime_ns))
            .collect()
    }
    /// Remembers the content hash of the file at `path` with this size and modification time.
    fn remember_source(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
        content_hash: &str,
    ) -> Result<(), StoreError>;
    /// [`remember_source`](Self::remember_source) for many files at once (in one transaction
    /// where the store can): `(path, size, mtime_ns, content_hash)`.
    fn remember_sources(
        &mut self,
        sources: &[(String, i64, i64, String)],
    ) -> Result<(), StoreError> {
        for (path, size, mtime_ns, hash) in sources {
            self.remember_source(path, *size, *mtime_ns, hash)?;
        }
        Ok(())
    }
}

impl HistoryStore for SqliteStore {
    fn describe(&self) -> String {
        self.path().display().to_string()
    }
    fn contains(&mut self, content_hash: &str) -> Result<bool, StoreError> {
        SqliteStore::contains(self, content_hash)
    }
    fn ingest(&mut self, run: &RunRecord) -> Result<Ingested, StoreError> {
        SqliteStore::ingest(self, run)
    }
    fn ingest_many(&mut self, runs: &[&RunRecord]) -> Result<Vec<Ingested>, StoreError> {
        SqliteStore::ingest_many(self, runs)
    }
    fn prefers_keyed(&self) -> bool {
        true
    }
    fn tidy_in_background(&mut self) {
        self.checkpoint_in_background()
    }
    fn ingest_keyed(
        &mut self,
        runs: &[&KeyedRun],
        keys: &TestKeys,
    ) -> Result<Vec<Ingested>, StoreError> {
        SqliteStore::ingest_keyed(self, runs, keys)
    }
    fn runs(&mut self) -> Result<Vec<RunInfo>, StoreError> {
        SqliteStore::runs(self)
    }
    fn tests(&mut self) -> Result<Vec<TestKey>, StoreError> {
        SqliteStore::tests(self)
    }
    fn for_each_result(&mut self, f: &mut dyn FnMut(ResultRow)) -> Result<(), StoreError> {
        SqliteStore::for_each_result(self, f)
    }
    fn run_totals(&mut self) -> Result<Vec<RunTotals>, StoreError> {
        SqliteStore::run_totals(self)
    }
    fn run_failures(&mut self, run_id: i64) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        SqliteStore::run_failures(self, run_id)
    }
    fn test_failures(
        &mut self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        SqliteStore::test_failures(self, test_id, limit)
    }
    fn for_each_failure(
        &mut self,
        f: &mut dyn FnMut(i64, i64, FailureRecord),
    ) -> Result<(), StoreError> {
        SqliteStore::for_each_failure(self, f)
    }
    fn failures(&mut self, run_id: i64, test_id: i64) -> Result<Vec<FailureRecord>, StoreError> {
        SqliteStore::failures(self, run_id, test_id)
    }
    fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64, StoreError> {
        SqliteStore::prune_before(self, cutoff_ms)
    }
    fn counts(&mut self) -> Result<Counts, StoreError> {
        SqliteStore::counts(self)
    }
    fn source_hash(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<Option<String>, StoreError> {
        SqliteStore::source_hash(self, path, size, mtime_ns)
    }
    fn source_hashes(
        &mut self,
        files: &[(&str, i64, i64)],
    ) -> Result<Vec<Option<String>>, StoreError> {
        SqliteStore::source_hashes(self, files)
    }
    fn remember_source(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        SqliteStore::remember_source(self, path, size, mtime_ns, content_hash)
    }
    fn remember_sources(
        &mut self,
        sources: &[(String, i64, i64, String)],
    ) -> Result<(), StoreError> {
        SqliteStore::remember_sources(self, sources)
    }
}

use std::ops::ControlFlow;
use std::path::PathBuf;

/// What a test did in one run and one environment, from its attempts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Outcome {
    /// Every attempt that ran ended as expected.
    #[default]
    Passed,
    /// Every attempt that ran ended otherwise than expected.
    Failed,
    /// Some attempts ended as expected and some did not (a retry flake).
    Flaky,
    /// No attempt ran.
    Skipped,
}

impl Outcome {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Flaky => 2,
            Outcome::Skipped => 3,
        }
    }

    /// The outcome of a stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Outcome::Passed,
            1 => Outcome::Failed,
            2 => Outcome::Flaky,
            3 => Outcome::Skipped,
            _ => return None,
        })
    }

    /// `passed`, `failed`, `flaky` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Flaky => "flaky",
            Outcome::Skipped => "skipped",
        }
    }
}

/// What ended a failed attempt, as far as its error tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailureKind {
    /// An assertion failed.
    Assertion,
    /// The attempt ran out of time.
    Timeout,
    /// An exception nobody expected (JUnit's `<error>`, a panic outside an assertion...).
    Uncaught,
    /// The attempt was interrupted (the run was cancelled, or its job timed out): not the
    /// test's failure.
    Interrupted,
    /// The attempt passed, but was expected not to (pytest's xpass, a Playwright `test.fail()`
    /// that passed): a failure, as the format counts it.
    UnexpectedPass,
    /// Nothing tells.
    #[default]
    Unknown,
}

impl FailureKind {
    /// `assertion`, `timeout`, `uncaught`, `interrupted`, `unexpected-pass` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Assertion => "assertion",
            FailureKind::Timeout => "timeout",
            FailureKind::Uncaught => "uncaught",
            FailureKind::Interrupted => "interrupted",
            FailureKind::UnexpectedPass => "unexpected-pass",
            FailureKind::Unknown => "unknown",
        }
    }

    /// The kind a stored name stands for (`unknown` for anything else).
    pub fn parse(s: &str) -> Self {
        match s {
            "assertion" => FailureKind::Assertion,
            "timeout" => FailureKind::Timeout,
            "uncaught" => FailureKind::Uncaught,
            "interrupted" => FailureKind::Interrupted,
            "unexpected-pass" => FailureKind::UnexpectedPass,
            _ => FailureKind::Unknown,
        }
    }
}

/// One failed attempt's error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailureRecord {
    /// Index of the attempt among the test's attempts in that environment (0-based).
    pub attempt: u32,
    pub kind: FailureKind,
    /// The error message (bounded by the analyzer).
    pub message: Option<String>,
    /// The error's stack (bounded by the analyzer).
    pub stack: Option<String>,
}

/// What one test did in one run and one environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestResult {
    /// The test's file (POSIX, relative to the repository), empty when unknown.
    pub file: String,
    /// Titles of the suites the test is in (file suites excepted), then the test's title.
    pub title_path: Vec<String>,
    /// The environment's name.
    pub environment: String,
    pub outcome: Outcome,
    /// Attempts that ran (skipped ones excepted).
    pub attempts: u32,
    /// Attempts that ended otherwise than expected.
    pub failed_attempts: u32,
    /// Sum of the durations of the attempts that ran, when known.
    pub duration_ms: Option<i64>,
    /// Sum of the durations of the failed attempts (those counted in `failed_attempts`): the
    /// time lost to retries and failures; known when `duration_ms` is (0 without a failed
    /// attempt).
    pub failed_duration_ms: Option<i64>,
    /// Attempts that ended as expected, otherwise than passed (pytest's xfail, Playwright's
    /// `test.fail()`): OK, not failed attempts, but not passes either.
    pub expected_failures: u32,
    /// Attempts that passed but were expected not to: among the failed attempts (each has a
    /// failure of kind [`FailureKind::UnexpectedPass`]).
    pub unexpected_passes: u32,
    /// The errors of the failed attempts.
    pub failures: Vec<FailureRecord>,
}

/// What the store keeps of a run itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunMeta {
    /// Hash of the report's content (hex): the run's identity.
    pub content_hash: String,
    /// Where the report was read from.
    pub source: String,
    pub commit_id: String,
    /// Start of the run (Unix ms).
    pub start_ms: i64,
    pub duration_ms: i64,
    pub title: Option<String>,
    pub url: Option<String>,
    pub category: String,
}

/// One CI run: a report summarised for the store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunRecord {
    pub meta: RunMeta,
    /// One per test and environment; duplicates are merged when stored (their attempts add
    /// up).
    pub results: Vec<TestResult>,
}

/// What [`SqliteStore::ingest`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// The run was stored, under this id.
    New { run_id: i64 },
    /// A run with the same content hash was already stored: nothing changed.
    AlreadyPresent,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub id: i64,
    pub meta: RunMeta,
}

/// A test in one environment, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestKey {
    pub id: i64,
    pub file: String,
    pub title_path: Vec<String>,
    pub environment: String,
}

/// One stored result, as the analysis reads them: grouped by test, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultRow {
    pub test_id: i64,
    pub run_id: i64,
    pub outcome: Outcome,
    pub attempts: u32,
    pub failed_attempts: u32,
    pub duration_ms: Option<i64>,
    /// Sum of the durations of the failed attempts (`None` in results stored before schema
    /// version 5).
    pub failed_duration_ms: Option<i64>,
    /// Attempts that failed as expected (0 in results stored before schema version 4).
    pub expected_failures: u32,
    /// Attempts that passed unexpectedly (0 in results stored before schema version 4).
    pub unexpected_passes: u32,
}

/// The results of one run, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunTotals {
    pub run_id: i64,
    /// Results that ran (not skipped).
    pub ran: u64,
    /// Results that failed (no attempt as expected).
    pub failed: u64,
    /// Results that were flaky (failed and passed attempts).
    pub flaky: u64,
    /// Results with an attempt that failed as expected (0 for runs stored before schema
    /// version 4).
    pub expected_failures: u64,
    /// Results with an attempt that passed unexpectedly (0 for runs stored before schema
    /// version 4).
    pub unexpected_passes: u64,
    /// Sum of the results' failed durations ([`ResultRow::failed_duration_ms`]): the time the
    /// run lost to failed attempts (0 for runs stored before schema version 5).
    pub failed_duration_ms: i64,
}

/// Rows in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub runs: u64,
    pub tests: u64,
    pub results: u64,
    pub failures: u64,
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file exists and is not a flakiness history store.
    #[error("{path}: not a flakiness history store (a SQLite file of another program, or not SQLite at all); pass another --db")]
    NotOurs { path: PathBuf },
    /// A newer version of flakiness wrote this store.
    #[error("{path}: the store has schema version {found}; this flakiness knows up to {supported}: upgrade flakiness")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// Another process held the store longer than the timeout.
    #[error("{path}: the store is locked by another process (waited {waited_ms} ms)")]
    Locked { path: PathBuf, waited_ms: u64 },
    /// A stored value the store cannot read back (a damaged or hand-edited store).
    #[error("{path}: damaged store: {what}")]
    Damaged { path: PathBuf, what: String },
    /// Any other SQLite error.
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The PostgreSQL server cannot be reached, or went away.
    #[error("{target}: cannot reach the PostgreSQL server: {source}")]
    Unreachable {
        /// The URL without its password.
        target: String,
        #[source]
        source: ::postgres::Error,
    },
    /// A PostgreSQL error.
    #[error("{target}: {source}")]
    Postgres {
        /// The URL without its password.
        target: String,
        #[source]
        source: ::postgres::Error,
    },
    /// The database holds flakiness tables that a newer version wrote, or that are not ours.
    #[error("{target}: {what}")]
    PostgresSchema { target: String, what: String },
}

/// Test ids by (file, title path as JSON, environment), looked up without copying the key:
/// ingest asks once per result.
#[derive(Debug, Default)]
pub(crate) struct TestIds(hashbrown::HashMap<TestKeyOwned, i64>);

/// A test's key: file, title path, environment.
pub(crate) type TestKeyOwned = (String, Vec<String>, String);

/// A borrowed key of [`TestIds`]; hashes as the owned tuple does (a `Vec` hashes as its slice).
#[derive(Hash)]
pub(crate) struct KeyRef<'a>(pub &'a str, pub &'a [String], pub &'a str);

impl hashbrown::Equivalent<TestKeyOwned> for KeyRef<'_> {
    fn equivalent(&self, key: &TestKeyOwned) -> bool {
        self.0 == key.0 && self.1 == key.1.as_slice() && self.2 == key.2
    }
}

impl TestIds {
    pub(crate) fn get(&self, file: &str, path: &[String], environment: &str) -> Option<i64> {
        self.0.get(&KeyRef(file, path, environment)).copied()
    }

    /// Applies what a committed transaction learnt or changed, in order: a key with an id is
    /// (now) that test's, a key without one is no test's any more (its test was re-keyed).
    pub(crate) fn apply(&mut self, changes: CacheChanges) {
        self.0.reserve(changes.log.len());
        for (key, id) in changes.log {
            match id {
                Some(id) => {
                    self.0.insert(key, id);
                }
                None => {
                    self.0.remove(&key);
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

/// What a write transaction did to the keys of stored tests, for [`TestIds`] once it commits:
/// keys it found or stored (with their ids) and keys it re-keyed away (without), in order.
#[derive(Debug, Default)]
pub(crate) struct CacheChanges {
    log: Vec<(TestKeyOwned, Option<i64>)>,
    /// Keys re-keyed away by this transaction: [`TestIds`] may not answer for them any more.
    gone: hashbrown::HashSet<TestKeyOwned>,
}

impl CacheChanges {
    /// The cached id of a key, unless this transaction re-keyed its test (then the table
    /// answers). As cheap as [`TestIds::get`] while nothing was re-keyed.
    pub(crate) fn cached(
        &self,
        ids: &TestIds,
        file: &str,
        path: &[String],
        environment: &str,
    ) -> Option<i64> {
        if !self.gone.is_empty() && self.gone.contains(&KeyRef(file, path, environment)) {
            return None;
        }
        ids.get(file, path, environment)
    }

    /// The test `id` is stored under `key`.
    pub(crate) fn found(&mut self, key: TestKeyOwned, id: i64) {
        self.log.push((key, Some(id)));
    }

    /// No test is stored under `key` any more.
    pub(crate) fn gone(&mut self, key: TestKeyOwned) {
        self.gone.insert(key.clone());
        self.log.push((key, None));
    }

    /// Whether some test was re-keyed.
    pub(crate) fn rekeyed(&self) -> bool {
        !self.gone.is_empty()
    }
}

/// The environment name older versions of `flakiness convert` gave when a report named none.
pub const LEGACY_DEFAULT_ENVIRONMENT: &str = "default";

/// The environment names this version of `flakiness convert` gives when `--env-name` is not
/// given (the official reporters' names, spec/convert.md): only a key in one of them may take
/// the history of a test stored in `default`. A test first seen in an environment of another
/// name (`--env-name windows`, a Playwright project) starts its own history, and never takes
/// the one of `default`.
pub const CURRENT_DEFAULT_ENVIRONMENTS: &[&str] = &[
    "pytest",
    "jest",
    "vitest",
    "playwright",
    "bun",
    "mocha",
    "nextest",
    "junit",
    "cargo",
];

/// The keys older versions of `flakiness convert` gave the test that this version keys as
/// (`file`, `title_path`, `environment`), most likely first, without duplicates and never the
/// key itself: the histories stored from reports of older versions are found under them
/// (see [`HistoryStore::ingest`]).
///
/// The older shapes, each tried with the given environment, then with `default` (the old
/// default name) when the given one is a [`CURRENT_DEFAULT_ENVIRONMENTS`] name; before them
/// all, the key itself in `default` (the same condition):
///
/// 1. **pytest classes as suites**: for a `.py` file and a single title whose part before its
///    first `[` holds `::` (`TestC::Inner::test_x[p::q]`), that part split on `::`, the last
///    piece keeping the parameters (`TestC`, `Inner`, `test_x[p::q]`), under the same file.
/// 2. **the file as a plain suite**: no file, the file as the first title (and again with
///    every `/` written `\`, as Windows runners named it, when the file has one); then the same
///    two with the file kept (a test located by its own `file` attribute, as Bun writes it);
///    then, with two describe blocks or more, Bun's classname (the describe blocks innermost
///    first, joined with ` > `) as one more suite before the title, the file kept.
/// 3. **nested titles as one title**: no file, the file, then the titles joined with ` > `
///    (and, as 2, with the file written with `\`), then the same joined with ` › `; only when
///    there are two titles or more.
///
/// ```
/// use flakiness_store::legacy_keys;
///
/// let old = legacy_keys("tests/a.test.js", &["outer".into(), "t".into()], "vitest");
/// assert_eq!(old[0], ("tests/a.test.js".into(), vec!["outer".into(), "t".into()], "default".into()));
/// assert!(old.contains(&("".into(), vec!["tests/a.test.js".into(), "outer > t".into()], "default".into())));
/// ```
pub fn legacy_keys(
    file: &str,
    title_path: &[String],
    environment: &str,
) -> Vec<(String, Vec<String>, String)> {
    let mut out = Vec::new();
    let _ = for_each_legacy_key::<()>(file, title_path, environment, |f, p, e| {
        out.push((f.to_string(), p.to_vec(), e.to_string()));
        ControlFlow::Continue(())
    });
    out
}

/// Calls `f` on each of the [`legacy_keys`], in order, until it breaks; each path is built
/// once, and only when the ones before did not break.
///
/// No key comes twice, and never the key itself, by construction: the key in `default`
/// differs from the key by its environment; the pytest path keeps the file and has two titles
/// or more where the key has one; the others have no file where the key has one; the
/// Windows spelling differs from the file by its `\` (the file has a `/`); the file as a
/// suite keeps every title, so it has three or more where a join has two; the two joins differ
/// where their separators are; each path comes in two different environments.
pub(crate) fn for_each_legacy_key<B>(
    file: &str,
    title_path: &[String],
    environment: &str,
    mut f: impl FnMut(&str, &[String], &str) -> ControlFlow<B>,
) -> ControlFlow<B> {
    let old_env = LEGACY_DEFAULT_ENVIRONMENT;
    let other_env = environment != old_env && CURRENT_DEFAULT_ENVIRONMENTS.contains(&environment);
    if other_env {
        f(file, title_path, old_env)?;
    }
    // Each path in the given environment, then in `default`.
    let mut both = |file: &str, path: &[String]| {
        f(file, path, environment)?;
        if other_env {
            f(file, path, old_env)?;
        }
        ControlFlow::Continue(())
    };
    // 1. pytest: classes (and nested classes) were suites.
    if let [title] = title_path {
        let (head, params) = title.split_at(title.find('[').unwrap_or(title.len()));
        if file.ends_with(".py") && head.contains("::") {
            let mut pieces: Vec<String> = head.split("::").map(str::to_string).collect();
            if let Some(last) = pieces.last_mut() {
                last.push_str(params);
            }
            both(file, &pieces)?;
        }
    }
    if file.is_empty() {
        return ControlFlow::Continue(());
    }
    let windows = file.contains('/').then(|| file.replace('/', "\\"));
    let files = || std::iter::once(file).chain(windows.as_deref());
    // 2. The file suite was a plain suite; tests with a location of their own (Bun writes a
    // `file` on each testcase) kept their file.
    for owner in ["", file] {
        for spelling in files() {
            let mut path = Vec::with_capacity(title_path.len() + 1);
            path.push(spelling.to_string());
            path.extend_from_slice(title_path);
            both(owner, &path)?;
        }
    }
    // Bun's classname, the describe blocks innermost first joined with ` > `, was one more
    // suite inside the innermost describe when it had two or more.
    if let [suites @ .., title] = title_path {
        if suites.len() >= 2 {
            let reversed: Vec<&str> = suites.iter().rev().map(String::as_str).collect();
            for spelling in files() {
                let mut path = Vec::with_capacity(title_path.len() + 2);
                path.push(spelling.to_string());
                path.extend_from_slice(suites);
                path.push(reversed.join(" > "));
                path.push(title.clone());
                both(file, &path)?;
            }
        }
    }
    // 3. Nested titles were one title.
    if title_path.len() >= 2 {
        for sep in [" > ", " \u{203A} "] {
            let joined = title_path.join(sep);
            for spelling in files() {
                both("", &[spelling.to_string(), joined.clone()])?;
            }
        }
    }
    ControlFlow::Continue(())
}

/// A write transaction's view of the stored tests, as it changes them: what
/// [`assign_tests`] needs of a store.
pub(crate) trait TestTable {
    /// A stored test (or one to be stored when the transaction ends).
    type Ref: Copy + Eq + std::hash::Hash;
    /// The test stored under this key now, in this transaction.
    fn find(
        &mut self,
        file: &str,
        path: &[String],
        environment: &str,
    ) -> Result<Option<Self::Ref>, StoreError>;
    /// [`find`](Self::find) for one of the [`legacy_keys`] of a key the store does not have;
    /// a store may answer `None` sooner when it knows that no such key is stored.
    fn find_older(
        &mut self,
        file: &str,
        path: &[String],
        environment: &str,
    ) -> Result<Option<Self::Ref>, StoreError> {
        self.find(file, path, environment)
    }
    /// Gives `test`, stored under `from`, the key `to` (which no test has).
    fn rekey(
        &mut self,
        test: Self::Ref,
        from: TestKeyOwned,
        to: KeyRef<'_>,
    ) -> Result<(), StoreError>;
    /// Stores a new test under this key (which no test has).
    fn insert(
        &mut self,
        file: &str,
        path: &[String],
        environment: &str,
    ) -> Result<Self::Ref, StoreError>;
}

/// The test of each of a run's results: the one stored under its key; else the first one
/// stored under one of its [`legacy_keys`] that no other result of this run has (it is
/// re-keyed: its history goes on under the new key); else a new one. Results are taken in
/// order, so when two new keys have the same legacy key the first one gets its test. A test
/// that has a result in this run under its own key is never re-keyed (a run that brings the
/// old and the new key of a test keeps them apart). When every key is stored, this costs one
/// [`TestTable::find`] per result, nothing more.
pub(crate) fn assign_tests<T: TestTable, R: std::borrow::Borrow<TestResult>>(
    table: &mut T,
    results: &[R],
) -> Result<Vec<T::Ref>, StoreError> {
    // Every key stored: the common case, one pass.
    let mut stored: Vec<T::Ref> = Vec::with_capacity(results.len());
    for r in results {
        let r = r.borrow();
        match table.find(&r.file, &r.title_path, &r.environment)? {
            Some(test) => stored.push(test),
            None => break,
        }
    }
    if stored.len() == results.len() {
        return Ok(stored);
    }
    let mut found: Vec<Option<T::Ref>> = Vec::with_capacity(results.len());
    found.extend(stored.into_iter().map(Some));
    found.push(None);
    for r in &results[found.len()..] {
        let r = r.borrow();
        found.push(table.find(&r.file, &r.title_path, &r.environment)?);
    }
    // Tests that have a result in this run already.
    let mut claimed: hashbrown::HashSet<T::Ref> = found.iter().flatten().copied().collect();
    // New keys given a test by this run.
    let mut given: hashbrown::HashMap<(&str, &[String], &str), T::Ref> = hashbrown::HashMap::new();
    let mut out = Vec::with_capacity(results.len());
    for (r, test) in results.iter().zip(found) {
        let r = r.borrow();
        if let Some(test) = test {
            out.push(test);
            continue;
        }
        let key = (
            r.file.as_str(),
            r.title_path.as_slice(),
            r.environment.as_str(),
        );
        if let Some(&test) = given.get(&key) {
            out.push(test);
            continue;
        }
        // The first older key stored whose test no result of this run has.
        let older = for_each_legacy_key(key.0, key.1, key.2, |f, p, e| {
            match table.find_older(f, p, e) {
                Err(e) => ControlFlow::Break(Err(e)),
                Ok(Some(t)) if !claimed.contains(&t) => {
                    ControlFlow::Break(Ok((t, (f.to_string(), p.to_vec(), e.to_string()))))
                }
                Ok(_) => ControlFlow::Continue(()),
            }
        });
        let mut test = None;
        if let ControlFlow::Break(found) = older {
            let (t, old) = found?;
            table.rekey(t, old, KeyRef(key.0, key.1, key.2))?;
            test = Some(t);
        }
        let test = match test {
            Some(t) => t,
            None => table.insert(key.0, key.1, key.2)?,
        };
        claimed.insert(test);
        given.insert(key, test);
        out.push(test);
    }
    Ok(out)
}

/// A title path as stored (a JSON array of strings).
pub(crate) fn title_path_json(path: &[String]) -> String {
    serde_json::to_string(path).unwrap_or_else(|_| "[]".into())
}

/// Results of one record merged per test and environment (attempts added up, failures
/// renumbered, outcome recomputed), in first-seen order; borrowed when nothing was merged into
/// them. What [`HistoryStore::ingest`] stores, and what a run's results are compared by.
pub fn merged(results: &[TestResult]) -> Vec<std::borrow::Cow<'_, TestResult>> {
    use std::borrow::Cow;
    let mut out: Vec<Cow<'_, TestResult>> = Vec::with_capacity(results.len());
    let mut index: hashbrown::HashMap<(&str, &[String], &str), usize> =
        hashbrown::HashMap::with_capacity(results.len());
    for r in results {
        let key = (
            r.file.as_str(),
            r.title_path.as_slice(),
            r.environment.as_str(),
        );
        match index.get(&key) {
            Some(&i) => {
                let m = out[i].to_mut();
                let offset = m.attempts;
                m.attempts += r.attempts;
                m.failed_attempts += r.failed_attempts;
                m.expected_failures += r.expected_failures;
                m.unexpected_passes += r.unexpected_passes;
                m.duration_ms = sum_known(m.duration_ms, r.duration_ms);
                m.failed_duration_ms = sum_known(m.failed_duration_ms, r.failed_duration_ms);
                m.failures.extend(r.failures.iter().cloned().map(|mut f| {
                    f.attempt += offset;
                    f
                }));
                m.outcome = outcome_of(m.attempts, m.failed_attempts, m.outcome, r.outcome);
            }
            None => {
                index.insert(key, out.len());
                out.push(Cow::Borrowed(r));
            }
        }
    }
    out
}

/// The sum of two durations, when either is known.
fn sum_known(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// The outcome of merged attempts.
fn outcome_of(attempts: u32, failed: u32, a: Outcome, b: Outcome) -> Outcome {
    if attempts == 0 {
        Outcome::Skipped
    } else if failed == 0 {
        Outcome::Passed
    } else if failed == attempts && a != Outcome::Flaky && b != Outcome::Flaky {
        Outcome::Failed
    } else {
        Outcome::Flaky
    }
}

#[cfg(test)]
mod test_ids_tests {
    use super::TestIds;

    #[test]
    fn a_borrowed_key_finds_the_owned_one() {
        let mut ids = TestIds::default();
        let path = vec!["suite".to_string(), "test".to_string()];
        ids.0
            .insert(("f.rs".to_string(), path.clone(), "linux".to_string()), 7);
        assert_eq!(ids.get("f.rs", &path, "linux"), Some(7));
        assert_eq!(ids.get("f.rs", &path[..1], "linux"), None);
        assert_eq!(ids.get("f.rs", &path, "mac"), None);
        // The same strings split differently are another key.
        let other = vec!["suitetest".to_string()];
        assert_eq!(ids.get("f.rs", &other, "linux"), None);
    }
}

#[cfg(test)]
mod legacy_keys_tests {
    use super::legacy_keys;

    fn k(file: &str, path: &[&str], env: &str) -> (String, Vec<String>, String) {
        (
            file.to_string(),
            path.iter().map(|s| s.to_string()).collect(),
            env.to_string(),
        )
    }

    fn keys(file: &str, path: &[&str], env: &str) -> Vec<(String, Vec<String>, String)> {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        legacy_keys(file, &path, env)
    }

    #[test]
    fn pytest_classes_were_suites() {
        assert_eq!(
            keys("tests/a.py", &["TestC::Inner::test_x[p::q]"], "default"),
            [
                k("tests/a.py", &["TestC", "Inner", "test_x[p::q]"], "default"),
                k("", &["tests/a.py", "TestC::Inner::test_x[p::q]"], "default"),
                k(
                    "",
                    &["tests\\a.py", "TestC::Inner::test_x[p::q]"],
                    "default"
                ),
                k(
                    "tests/a.py",
                    &["tests/a.py", "TestC::Inner::test_x[p::q]"],
                    "default"
                ),
                k(
                    "tests/a.py",
                    &["tests\\a.py", "TestC::Inner::test_x[p::q]"],
                    "default"
                ),
            ]
        );
        // `::` only in the parameters: no class.
        assert_eq!(
            keys("a.py", &["test_x[p::q]"], "default"),
            [
                k("", &["a.py", "test_x[p::q]"], "default"),
                k("a.py", &["a.py", "test_x[p::q]"], "default")
            ]
        );
        // Not a .py file, or more than one title: no class either.
        assert!(!keys("a.rs", &["C::t"], "default").contains(&k("a.rs", &["C", "t"], "default")));
        assert!(!keys("a.py", &["s", "C::t"], "default")
            .iter()
            .any(|(f, p, _)| f == "a.py" && p.len() > 2 && p[0] != "a.py"));
    }

    #[test]
    fn the_file_was_a_plain_suite() {
        assert_eq!(
            keys("tests/unit/cli.test.ts", &["t"], "default"),
            [
                k("", &["tests/unit/cli.test.ts", "t"], "default"),
                k("", &["tests\\unit\\cli.test.ts", "t"], "default"),
                // The test had a location of its own (Bun's testcases name their file).
                k(
                    "tests/unit/cli.test.ts",
                    &["tests/unit/cli.test.ts", "t"],
                    "default"
                ),
                k(
                    "tests/unit/cli.test.ts",
                    &["tests\\unit\\cli.test.ts", "t"],
                    "default"
                ),
            ]
        );
        // No `/`: no Windows spelling.
        assert_eq!(
            keys("cli.ts", &["t"], "default"),
            [
                k("", &["cli.ts", "t"], "default"),
                k("cli.ts", &["cli.ts", "t"], "default")
            ]
        );
        // No file: nothing to move.
        assert!(keys("", &["s", "t"], "default").is_empty());
    }

    #[test]
    fn nested_titles_were_one_title() {
        assert_eq!(
            keys("a/b.js", &["outer", "inner", "t"], "default"),
            [
                k("", &["a/b.js", "outer", "inner", "t"], "default"),
                k("", &["a\\b.js", "outer", "inner", "t"], "default"),
                k("a/b.js", &["a/b.js", "outer", "inner", "t"], "default"),
                k("a/b.js", &["a\\b.js", "outer", "inner", "t"], "default"),
                // Bun's classname: the describe blocks innermost first.
                k(
                    "a/b.js",
                    &["a/b.js", "outer", "inner", "inner > outer", "t"],
                    "default"
                ),
                k(
                    "a/b.js",
                    &["a\\b.js", "outer", "inner", "inner > outer", "t"],
                    "default"
                ),
                k("", &["a/b.js", "outer > inner > t"], "default"),
                k("", &["a\\b.js", "outer > inner > t"], "default"),
                k(
                    "",
                    &["a/b.js", "outer \u{203A} inner \u{203A} t"],
                    "default"
                ),
                k(
                    "",
                    &["a\\b.js", "outer \u{203A} inner \u{203A} t"],
                    "default"
                ),
            ]
        );
        // One title: nothing to join.
        assert!(!keys("b.js", &["t"], "default")
            .iter()
            .any(|(_, p, _)| p.len() == 2 && p[1].contains(" > ")));
    }

    /// The key in `default` first, then each path in the given environment, then in
    /// `default`.
    #[test]
    fn the_order_and_the_old_default_environment() {
        assert_eq!(
            keys("tests/a.py", &["C::t"], "pytest"),
            [
                k("tests/a.py", &["C::t"], "default"),
                k("tests/a.py", &["C", "t"], "pytest"),
                k("tests/a.py", &["C", "t"], "default"),
                k("", &["tests/a.py", "C::t"], "pytest"),
                k("", &["tests/a.py", "C::t"], "default"),
                k("", &["tests\\a.py", "C::t"], "pytest"),
                k("", &["tests\\a.py", "C::t"], "default"),
                k("tests/a.py", &["tests/a.py", "C::t"], "pytest"),
                k("tests/a.py", &["tests/a.py", "C::t"], "default"),
                k("tests/a.py", &["tests\\a.py", "C::t"], "pytest"),
                k("tests/a.py", &["tests\\a.py", "C::t"], "default"),
            ]
        );
    }

    /// Only the names this version gives by default take a `default` history: a test first seen
    /// in an environment the user named (a new machine, a Playwright project) starts its own.
    #[test]
    fn only_the_new_default_names_take_the_old_default() {
        let all = keys("tests/a.py", &["C::t"], "windows");
        assert!(all.iter().all(|(_, _, e)| e == "windows"), "{all:?}");
        assert_eq!(all[0], k("tests/a.py", &["C", "t"], "windows"));
        for env in super::CURRENT_DEFAULT_ENVIRONMENTS {
            assert_eq!(keys("a.rs", &["t"], env)[0], k("a.rs", &["t"], "default"));
        }
    }

    /// Never the key itself, never twice the same key.
    #[test]
    fn no_duplicates_and_never_the_key() {
        for (file, path, env) in [
            ("tests/a.py", vec!["C::t"], "default"),
            ("a/b.js", vec!["x > y", "z"], "vitest"),
            ("", vec!["t"], "junit"),
            ("x", vec![], ""),
            ("a.py", vec!["::"], "default"),
        ] {
            let out = keys(file, &path, env);
            assert!(!out.contains(&k(file, &path, env)), "{out:?}");
            let mut unique = out.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), out.len(), "{out:?}");
        }
        assert!(keys("", &["t"], "default").is_empty());
        assert_eq!(keys("", &["t"], "junit"), [k("", &["t"], "default")]);
    }
}

#[cfg(test)]
mod assign_tests_tests {
    use super::{assign_tests, KeyRef, StoreError, TestKeyOwned, TestResult, TestTable};

    /// A table in memory: keys to test numbers.
    #[derive(Default)]
    struct Table {
        keys: hashbrown::HashMap<TestKeyOwned, usize>,
        next: usize,
        rekeys: usize,
    }

    impl TestTable for Table {
        type Ref = usize;
        fn find(&mut self, f: &str, p: &[String], e: &str) -> Result<Option<usize>, StoreError> {
            Ok(self.keys.get(&KeyRef(f, p, e)).copied())
        }
        fn rekey(
            &mut self,
            t: usize,
            from: TestKeyOwned,
            to: KeyRef<'_>,
        ) -> Result<(), StoreError> {
            assert_eq!(self.keys.remove(&from), Some(t));
            let to = (to.0.to_string(), to.1.to_vec(), to.2.to_string());
            assert!(self.keys.insert(to, t).is_none());
            self.rekeys += 1;
            Ok(())
        }
        fn insert(&mut self, f: &str, p: &[String], e: &str) -> Result<usize, StoreError> {
            self.next += 1;
            let key = (f.to_string(), p.to_vec(), e.to_string());
            assert!(self.keys.insert(key, self.next).is_none());
            Ok(self.next)
        }
    }

    fn r(file: &str, path: &[&str], env: &str) -> TestResult {
        TestResult {
            file: file.into(),
            title_path: path.iter().map(|s| s.to_string()).collect(),
            environment: env.into(),
            ..TestResult::default()
        }
    }

    #[test]
    fn stored_keys_first_then_legacy_then_new() {
        let mut t = Table::default();
        let old = [
            r("", &["a.js", "s > t"], "default"),
            r("", &["b.js", "u"], "default"),
        ];
        assert_eq!(assign_tests(&mut t, &old).expect("old"), [1, 2]);
        let new = [
            r("a.js", &["s", "t"], "vitest"),
            r("a.js", &["s", "t"], "vitest"),
            r("c.js", &["v"], "vitest"),
        ];
        assert_eq!(assign_tests(&mut t, &new).expect("new"), [1, 1, 3]);
        assert_eq!(t.rekeys, 1);
        assert_eq!(t.keys.len(), 3);
    }

    #[test]
    fn a_test_with_a_result_under_its_own_key_is_not_taken() {
        let mut t = Table::default();
        assert_eq!(
            assign_tests(&mut t, &[r("", &["b.js", "u"], "default")]).expect("1"),
            [1]
        );
        // The new key first, the old one after: still apart.
        let both = [r("b.js", &["u"], "junit"), r("", &["b.js", "u"], "default")];
        assert_eq!(assign_tests(&mut t, &both).expect("2"), [2, 1]);
        assert_eq!(t.rekeys, 0);
    }

    #[test]
    fn two_new_keys_of_one_old_test_the_first_wins() {
        let mut t = Table::default();
        assert_eq!(
            assign_tests(&mut t, &[r("", &["a.js", "s > t"], "default")]).expect("1"),
            [1]
        );
        let two = [
            r("a.js", &["s", "t"], "default"),
            r("a.js", &["s > t"], "default"),
        ];
        assert_eq!(assign_tests(&mut t, &two).expect("2"), [1, 2]);
        assert_eq!(t.rekeys, 1);
    }

    /// An old key new to the store (stored by this very run) is not taken by a later new key
    /// of the same run either.
    #[test]
    fn a_test_stored_by_this_run_is_not_taken() {
        let mut t = Table::default();
        let both = [r("", &["b.js", "u"], "default"), r("b.js", &["u"], "junit")];
        assert_eq!(assign_tests(&mut t, &both).expect("run"), [1, 2]);
        assert_eq!(t.rekeys, 0);
    }
}
