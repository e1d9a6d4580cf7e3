//! The PostgreSQL store: the same tables as the embedded one (prefixed `flakiness_`, so that
//! they can live in a database with others), for teams whose history outgrows one machine.

use std::collections::HashMap;

use postgres::{Client, NoTls, Transaction};

use crate::{
    merged, Counts, FailureKind, FailureRecord, HistoryStore, Ingested, Outcome, ResultRow,
    RunInfo, RunMeta, RunRecord, RunTotals, StoreError, TestIds, TestKey, SCHEMA_VERSION,
};

/// Advisory lock taken while migrating ("FLKY").
const MIGRATION_LOCK: i64 = 0x464C_4B59;

/// Migrations by version, as in the embedded store.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "
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
    ",
)];

/// The history store in a PostgreSQL database.
pub struct PgStore {
    client: Client,
    /// The URL without its password.
    target: String,
    test_ids: TestIds,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `url` with its password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
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
    /// up to [`SCHEMA_VERSION`]. TLS is not used: run it on loopback or a private network.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let target = redact(url);
        let client = Client::connect(url, NoTls).map_err(|source| StoreError::Unreachable {
            target: target.clone(),
            source,
        })?;
        let mut store = PgStore {
            client,
            target,
            test_ids: TestIds::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self) -> impl Fn(postgres::Error) -> StoreError + '_ {
        pg_err(&self.target)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let target = self.target.clone();
        let err = pg_err(&target);
        let mut tx = self.client.transaction().map_err(&err)?;
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
                target: target.clone(),
                what: "the database has a flakiness_runs table that flakiness did not create"
                    .into(),
            });
        } else {
            tx.batch_execute(
                "CREATE TABLE flakiness_schema (version BIGINT NOT NULL);
                 INSERT INTO flakiness_schema VALUES (0);",
            )
            .map_err(&err)?;
            0
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::PostgresSchema {
                target: target.clone(),
                what: format!(
                    "the store has schema version {version}; this flakiness knows up to {SCHEMA_VERSION}: upgrade flakiness"
                ),
            });
        }
        for &(v, sql) in MIGRATIONS {
            if v > version {
                tx.batch_execute(sql).map_err(&err)?;
                tx.execute("UPDATE flakiness_schema SET version = $1", &[&v])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
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
    Outcome::from_code(code.into()).ok_or_else(|| StoreError::PostgresSchema {
        target: target.to_string(),
        what: format!("damaged store: unknown outcome code {code}"),
    })
}

impl HistoryStore for PgStore {
    fn describe(&self) -> String {
        self.target.clone()
    }

    fn contains(&mut self, content_hash: &str) -> Result<bool, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT 1 FROM flakiness_runs WHERE content_hash = $1",
                &[&content_hash],
            )
            .map_err(self.err())?;
        Ok(!rows.is_empty())
    }

    fn ingest(&mut self, run: &RunRecord) -> Result<Ingested, StoreError> {
        let results = merged(&run.results);
        let target = self.target.clone();
        let err = pg_err(&target);
        let mut tx = self.client.transaction().map_err(&err)?;
        let m = &run.meta;
        let inserted = tx
            .query(
                "INSERT INTO flakiness_runs (content_hash, source, commit_id, start_ms, duration_ms,
                                             title, url, category, ingested_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (content_hash) DO NOTHING RETURNING id",
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
                ],
            )
            .map_err(&err)?;
        let Some(row) = inserted.first() else {
            return Ok(Ingested::AlreadyPresent);
        };
        let run_id: i64 = row.get(0);
        // Tests, results and failures go in one statement each (arrays unnested by the
        // server): a round trip per table, not per row.
        let keys: Vec<(&str, &str, &str)> = results
            .iter()
            .map(|(r, path)| (r.file.as_str(), path.as_str(), r.environment.as_str()))
            .collect();
        let missing: Vec<&(&str, &str, &str)> = keys
            .iter()
            .filter(|k| self.test_ids.get(k.0, k.1, k.2).is_none())
            .collect();
        let mut new_ids: Vec<((String, String, String), i64)> = Vec::new();
        if !missing.is_empty() {
            let files: Vec<&str> = missing.iter().map(|k| k.0).collect();
            let paths: Vec<&str> = missing.iter().map(|k| k.1).collect();
            let envs: Vec<&str> = missing.iter().map(|k| k.2).collect();
            tx.execute(
                "INSERT INTO flakiness_tests (file, title_path, environment, key_md5)
                 SELECT f, p, e, md5(f || chr(31) || p || chr(31) || e)
                 FROM unnest($1::text[], $2::text[], $3::text[]) AS u (f, p, e)
                 ON CONFLICT (key_md5) DO NOTHING",
                &[&files, &paths, &envs],
            )
            .map_err(&err)?;
            let rows = tx
                .query(
                    "SELECT t.id, t.file, t.title_path, t.environment
                     FROM unnest($1::text[], $2::text[], $3::text[]) AS u (f, p, e)
                     JOIN flakiness_tests t
                       ON t.key_md5 = md5(u.f || chr(31) || u.p || chr(31) || u.e)
                      AND t.file = u.f AND t.title_path = u.p AND t.environment = u.e",
                    &[&files, &paths, &envs],
                )
                .map_err(&err)?;
            for r in rows {
                new_ids.push(((r.get(1), r.get(2), r.get(3)), r.get(0)));
            }
        }
        let fresh: HashMap<(&str, &str, &str), i64> = new_ids
            .iter()
            .map(|(k, id)| ((k.0.as_str(), k.1.as_str(), k.2.as_str()), *id))
            .collect();
        let mut test_ids: Vec<i64> = Vec::with_capacity(keys.len());
        for k in &keys {
            let id = self
                .test_ids
                .get(k.0, k.1, k.2)
                .or_else(|| fresh.get(k).copied())
                .ok_or_else(|| StoreError::PostgresSchema {
                    target: target.clone(),
                    what: format!("test {k:?} was stored but cannot be read back"),
                })?;
            test_ids.push(id);
        }
        let outcomes: Vec<i16> = results
            .iter()
            .map(|(r, _)| r.outcome.code() as i16)
            .collect();
        let attempts: Vec<i32> = results.iter().map(|(r, _)| r.attempts as i32).collect();
        let failed: Vec<i32> = results
            .iter()
            .map(|(r, _)| r.failed_attempts as i32)
            .collect();
        let durations: Vec<Option<i64>> = results.iter().map(|(r, _)| r.duration_ms).collect();
        tx.execute(
            "INSERT INTO flakiness_results (run_id, test_id, outcome, attempts, failed_attempts,
                                            duration_ms)
             SELECT $1, t, o, a, f, d
             FROM unnest($2::bigint[], $3::smallint[], $4::int[], $5::int[], $6::bigint[])
                  AS u (t, o, a, f, d)",
            &[
                &run_id, &test_ids, &outcomes, &attempts, &failed, &durations,
            ],
        )
        .map_err(&err)?;
        let mut f_tests: Vec<i64> = Vec::new();
        let mut f_attempts: Vec<i32> = Vec::new();
        let mut f_kinds: Vec<&str> = Vec::new();
        let mut f_messages: Vec<Option<&str>> = Vec::new();
        let mut f_stacks: Vec<Option<&str>> = Vec::new();
        for ((r, _), &test_id) in results.iter().zip(&test_ids) {
            for f in &r.failures {
                f_tests.push(test_id);
                f_attempts.push(f.attempt as i32);
                f_kinds.push(f.kind.as_str());
                f_messages.push(f.message.as_deref());
                f_stacks.push(f.stack.as_deref());
            }
        }
        if !f_tests.is_empty() {
            tx.execute(
                "INSERT INTO flakiness_failures (run_id, test_id, attempt, kind, message, stack)
                 SELECT $1, t, a, k, m, s
                 FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[])
                      AS u (t, a, k, m, s)
                 ON CONFLICT DO NOTHING",
                &[
                    &run_id,
                    &f_tests,
                    &f_attempts,
                    &f_kinds,
                    &f_messages,
                    &f_stacks,
                ],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        self.test_ids.extend(new_ids);
        Ok(Ingested::New { run_id })
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
                let title_path =
                    serde_json::from_str(path).map_err(|e| StoreError::PostgresSchema {
                        target: self.target.clone(),
                        what: format!("damaged store: test {id}: title path {path:?}: {e}"),
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

    fn for_each_result(&mut self, f: &mut dyn FnMut(ResultRow)) -> Result<(), StoreError> {
        let target = self.target.clone();
        let err = pg_err(&target);
        let params: [&(dyn postgres::types::ToSql + Sync); 0] = [];
        let mut rows = self
            .client
            .query_raw(
                "SELECT test_id, run_id, outcome, attempts, failed_attempts, duration_ms
                 FROM flakiness_results ORDER BY run_id, test_id",
                params,
            )
            .map_err(&err)?;
        while let Some(r) =
            postgres::fallible_iterator::FallibleIterator::next(&mut rows).map_err(&err)?
        {
            f(ResultRow {
                test_id: r.get(0),
                run_id: r.get(1),
                outcome: outcome(r.get(2), &target)?,
                attempts: r.get::<_, i32>(3) as u32,
                failed_attempts: r.get::<_, i32>(4) as u32,
                duration_ms: r.get(5),
            });
        }
        Ok(())
    }

    fn run_totals(&mut self) -> Result<Vec<RunTotals>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT run_id,
                        count(*) FILTER (WHERE outcome <> 3),
                        count(*) FILTER (WHERE outcome = 1),
                        count(*) FILTER (WHERE outcome = 2)
                 FROM flakiness_results GROUP BY run_id ORDER BY run_id",
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
            })
            .collect())
    }

    fn run_failures(&mut self, run_id: i64) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT test_id, attempt, kind, message, stack FROM flakiness_failures
                 WHERE run_id = $1 ORDER BY test_id, attempt",
                &[&run_id],
            )
            .map_err(self.err())?;
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
                "SELECT run_id, attempt, kind, message, stack FROM flakiness_failures
                 WHERE test_id = $1 ORDER BY run_id, attempt LIMIT $2",
                &[&test_id, &(limit as i64)],
            )
            .map_err(self.err())?;
        Ok(rows.iter().map(|r| (r.get(0), failure_of(r, 1))).collect())
    }

    fn for_each_failure(
        &mut self,
        f: &mut dyn FnMut(i64, i64, FailureRecord),
    ) -> Result<(), StoreError> {
        let target = self.target.clone();
        let err = pg_err(&target);
        let params: [&(dyn postgres::types::ToSql + Sync); 0] = [];
        let mut rows = self
            .client
            .query_raw(
                "SELECT run_id, test_id, attempt, kind, message, stack FROM flakiness_failures",
                params,
            )
            .map_err(&err)?;
        while let Some(r) =
            postgres::fallible_iterator::FallibleIterator::next(&mut rows).map_err(&err)?
        {
            f(r.get(0), r.get(1), failure_of(&r, 2));
        }
        Ok(())
    }

    fn failures(&mut self, run_id: i64, test_id: i64) -> Result<Vec<FailureRecord>, StoreError> {
        let rows = self
            .client
            .query(
                "SELECT attempt, kind, message, stack FROM flakiness_failures
                 WHERE run_id = $1 AND test_id = $2 ORDER BY attempt",
                &[&run_id, &test_id],
            )
            .map_err(self.err())?;
        Ok(rows.iter().map(|r| failure_of(r, 0)).collect())
    }

    fn prune_before(&mut self, cutoff_ms: i64) -> Result<u64, StoreError> {
        let target = self.target.clone();
        let err = pg_err(&target);
        let mut tx = self.client.transaction().map_err(&err)?;
        let runs = tx
            .execute(
                "DELETE FROM flakiness_runs WHERE start_ms < $1",
                &[&cutoff_ms],
            )
            .map_err(&err)?;
        tx.execute(
            "DELETE FROM flakiness_tests WHERE id NOT IN
               (SELECT DISTINCT test_id FROM flakiness_results)",
            &[],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        self.test_ids.clear();
        Ok(runs)
    }

    fn counts(&mut self) -> Result<Counts, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT count(*) FROM flakiness_runs),
                        (SELECT count(*) FROM flakiness_tests),
                        (SELECT count(*) FROM flakiness_results),
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
            .query(
                "SELECT content_hash FROM flakiness_sources
                 WHERE path = $1 AND size = $2 AND mtime_ns = $3",
                &[&path, &size, &mtime_ns],
            )
            .map_err(self.err())?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    fn remember_source(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        self.client
            .execute(
                "INSERT INTO flakiness_sources (path, size, mtime_ns, content_hash)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (path) DO UPDATE SET size = excluded.size,
                     mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash",
                &[&path, &size, &mtime_ns, &content_hash],
            )
            .map(|_| ())
            .map_err(self.err())
    }
}
