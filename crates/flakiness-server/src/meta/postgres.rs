//! The metadata store in PostgreSQL, for several replicas of the server: tables prefixed
//! `flakiness_server_` (beside the history store's `flakiness_` ones, in the same database or
//! another), a pool of connections, and advisory locks where replicas could race: migrations,
//! and each blob between a `PUT`'s record and a cleanup's collection.

use std::collections::HashMap;
use std::time::Duration;

use postgres::{NoTls, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

use super::{
    AttachmentRow, BlobSlot, Claim, Meta, MetaError, Recorded, RefreshState, TokenRow, UploadRow,
};

type Manager = PostgresConnectionManager<NoTls>;

/// Class of the advisory locks of this store (two-key form: `(CLASS, key)`), apart from the
/// history store's one-key locks ("FL").
const LOCK_CLASS: i32 = 0x464C;
/// Key of the migration lock in [`LOCK_CLASS`]; blob locks use `hashtext(sha)`.
const MIGRATION_KEY: i32 = 0;

/// Migrations by version (`flakiness_server_schema.version`), applied in one transaction
/// under the migration lock.
const MIGRATIONS: &[&str] = &["CREATE TABLE flakiness_server_secret (
        id SMALLINT PRIMARY KEY CHECK (id = 1),
        key BYTEA NOT NULL
    );
    CREATE TABLE flakiness_server_projects (
        id BIGSERIAL PRIMARY KEY,
        org TEXT NOT NULL,
        project TEXT NOT NULL,
        UNIQUE (org, project)
    );
    CREATE TABLE flakiness_server_tokens (
        hash TEXT PRIMARY KEY,
        project_id BIGINT NOT NULL REFERENCES flakiness_server_projects (id),
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE flakiness_server_revoked_tokens (
        hash TEXT PRIMARY KEY,
        project_id BIGINT NOT NULL REFERENCES flakiness_server_projects (id),
        revoked_ms BIGINT NOT NULL
    );
    CREATE TABLE flakiness_server_uploads (
        id TEXT PRIMARY KEY,
        project_id BIGINT NOT NULL REFERENCES flakiness_server_projects (id),
        token_hash TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('pending', 'finished')),
        created_ms BIGINT NOT NULL,
        finished_ms BIGINT,
        report_blob TEXT,
        run_id BIGINT,
        content_hash TEXT
    );
    CREATE INDEX flakiness_server_uploads_by_project
        ON flakiness_server_uploads (project_id, state);
    CREATE INDEX flakiness_server_uploads_by_report ON flakiness_server_uploads (report_blob);
    CREATE INDEX flakiness_server_uploads_pending
        ON flakiness_server_uploads (created_ms) WHERE state = 'pending';
    CREATE TABLE flakiness_server_attachments (
        upload_id TEXT NOT NULL REFERENCES flakiness_server_uploads (id) ON DELETE CASCADE,
        attachment_id TEXT NOT NULL,
        blob TEXT,
        content_type TEXT,
        PRIMARY KEY (upload_id, attachment_id)
    );
    CREATE INDEX flakiness_server_attachments_by_blob ON flakiness_server_attachments (blob);
    CREATE TABLE flakiness_server_refresh_jobs (
        project_id BIGINT PRIMARY KEY REFERENCES flakiness_server_projects (id),
        wanted BIGINT NOT NULL DEFAULT 0,
        done BIGINT NOT NULL DEFAULT 0,
        refreshes BIGINT NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until_ms BIGINT
    );"];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connections of one replica's pool, at most.
const POOL_SIZE: u32 = 16;

pub(crate) struct PgMeta {
    /// Always `Some` but while dropped (see `Drop`).
    pool: Option<Pool<Manager>>,
    target: String,
}

impl std::fmt::Debug for PgMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgMeta")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Drop for PgMeta {
    /// A synchronous PostgreSQL client runs a runtime of its own, which may not be dropped on
    /// a thread of an async runtime: there, the pool is closed on a plain thread.
    fn drop(&mut self) {
        let pool = self.pool.take();
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn pg(target: &str) -> impl Fn(postgres::Error) -> MetaError + '_ {
    move |source| MetaError::Postgres {
        target: target.to_string(),
        source,
    }
}

fn upload_row(r: &postgres::Row, at: usize) -> UploadRow {
    UploadRow {
        id: r.get(at),
        org: r.get(at + 1),
        project: r.get(at + 2),
        finished: r.get::<_, String>(at + 3) == "finished",
        report_blob: r.get(at + 4),
    }
}

fn token_row(r: &postgres::Row) -> TokenRow {
    TokenRow {
        hash: r.get(0),
        project_id: r.get(1),
        org: r.get(2),
        project: r.get(3),
        created_ms: r.get(4),
    }
}

/// Takes the lock of a blob until the transaction ends.
fn lock_blob(tx: &mut Transaction<'_>, sha: &str) -> Result<(), postgres::Error> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &sha],
    )
    .map(|_| ())
}

/// Takes the migration lock until the transaction ends: replicas migrate (and import) one at
/// a time.
fn lock_migrations(tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_CLASS, &MIGRATION_KEY],
    )
    .map(|_| ())
}

/// Whether an upload (report) or an attachment refers to this blob.
fn referenced(tx: &mut Transaction<'_>, blob: &str) -> Result<bool, postgres::Error> {
    tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM flakiness_server_uploads WHERE report_blob = $1)
             OR EXISTS (SELECT 1 FROM flakiness_server_attachments WHERE blob = $1)",
        &[&blob],
    )
    .map(|r| r.get(0))
}

impl PgMeta {
    /// Connects to `url` and brings the schema up to date (under an advisory lock: replicas
    /// starting together migrate once). TLS is not used: run it on loopback or a private
    /// network.
    pub(crate) fn connect(url: &str) -> Result<Self, MetaError> {
        let target = flakiness_store::redact_url(url);
        let config: postgres::Config = url.parse().map_err(pg(&target))?;
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(PostgresConnectionManager::new(config, NoTls))
            .map_err(|source| MetaError::Pool {
                target: target.clone(),
                source,
            })?;
        let meta = PgMeta {
            pool: Some(pool),
            target,
        };
        meta.migrate()?;
        Ok(meta)
    }

    /// Takes in the state of a server that kept its metadata in SQLite (`server.db`: before
    /// `--database-url` held everything, it held only the history), when the database has no
    /// project yet: projects, tokens, revoked tokens, uploads and attachments, with their ids,
    /// in one transaction (under the migration lock: replicas starting together import once).
    /// Answers how many projects, tokens and uploads came in; nothing when it has projects.
    pub(crate) fn import_sqlite(&self, path: &std::path::Path) -> Result<[usize; 3], MetaError> {
        let err = self.err();
        let lite = |source| MetaError::Sqlite {
            target: path.display().to_string(),
            source,
        };
        let old = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(lite)?;
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        lock_migrations(&mut tx).map_err(&err)?;
        let has: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM flakiness_server_projects)",
                &[],
            )
            .map_err(&err)?
            .get(0);
        if has {
            return Ok([0; 3]);
        }
        let mut counts = [0usize; 3];
        {
            let mut q = old
                .prepare("SELECT id, org, project FROM projects")
                .map_err(lite)?;
            let rows = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(lite)?;
            for row in rows {
                let (id, org, project) = row.map_err(lite)?;
                tx.execute(
                    "INSERT INTO flakiness_server_projects (id, org, project) VALUES ($1, $2, $3)",
                    &[&id, &org, &project],
                )
                .map_err(&err)?;
                counts[0] += 1;
            }
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('flakiness_server_projects', 'id'),
                     GREATEST((SELECT MAX(id) FROM flakiness_server_projects), 1))",
                &[],
            )
            .map_err(&err)?;
        }
        for (table, when) in [("tokens", "created_ms"), ("revoked_tokens", "revoked_ms")] {
            let mut q = old
                .prepare(&format!("SELECT hash, project_id, {when} FROM {table}"))
                .map_err(lite)?;
            let rows = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(lite)?;
            for row in rows {
                let (hash, project, ms) = row.map_err(lite)?;
                tx.execute(
                    &format!(
                        "INSERT INTO flakiness_server_{table} (hash, project_id, {when})
                         VALUES ($1, $2, $3)"
                    ),
                    &[&hash, &project, &ms],
                )
                .map_err(&err)?;
                if table == "tokens" {
                    counts[1] += 1;
                }
            }
        }
        {
            let mut q = old
                .prepare(
                    "SELECT id, project_id, token_hash, state, created_ms, finished_ms,
                         report_blob, run_id, content_hash FROM uploads",
                )
                .map_err(lite)?;
            let rows = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                })
                .map_err(lite)?;
            for row in rows {
                let (id, project, token, state, created, finished, blob, run, hash) =
                    row.map_err(lite)?;
                tx.execute(
                    "INSERT INTO flakiness_server_uploads (id, project_id, token_hash, state,
                         created_ms, finished_ms, report_blob, run_id, content_hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &id, &project, &token, &state, &created, &finished, &blob, &run, &hash,
                    ],
                )
                .map_err(&err)?;
                counts[2] += 1;
            }
            let mut q = old
                .prepare("SELECT upload_id, attachment_id, blob, content_type FROM attachments")
                .map_err(lite)?;
            let rows = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(lite)?;
            for row in rows {
                let (upload, att, blob, content_type) = row.map_err(lite)?;
                tx.execute(
                    "INSERT INTO flakiness_server_attachments
                         (upload_id, attachment_id, blob, content_type)
                     VALUES ($1, $2, $3, $4)",
                    &[&upload, &att, &blob, &content_type],
                )
                .map_err(&err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(counts)
    }

    fn conn(&self) -> Result<PooledConnection<Manager>, MetaError> {
        let pool = match &self.pool {
            Some(p) => p,
            None => unreachable!("the pool is taken only when dropped"),
        };
        pool.get().map_err(|source| MetaError::Pool {
            target: self.target.clone(),
            source,
        })
    }

    fn err(&self) -> impl Fn(postgres::Error) -> MetaError + '_ {
        pg(&self.target)
    }

    fn migrate(&self) -> Result<(), MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        lock_migrations(&mut tx).map_err(&err)?;
        let exists: bool = tx
            .query_one(
                "SELECT to_regclass('flakiness_server_schema') IS NOT NULL",
                &[],
            )
            .map_err(&err)?
            .get(0);
        let version: i64 = if exists {
            tx.query_one("SELECT version FROM flakiness_server_schema", &[])
                .map_err(&err)?
                .get(0)
        } else {
            tx.batch_execute(
                "CREATE TABLE flakiness_server_schema (version BIGINT NOT NULL);
                 INSERT INTO flakiness_server_schema VALUES (0);",
            )
            .map_err(&err)?;
            0
        };
        if version > SCHEMA_VERSION {
            return Err(MetaError::Schema {
                target: self.target.clone(),
                what: format!(
                    "the server's tables have schema version {version}; this flakiness knows up to {SCHEMA_VERSION}: upgrade flakiness"
                ),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let v = i as i64 + 1;
            if v > version {
                tx.batch_execute(sql).map_err(&err)?;
                tx.execute("UPDATE flakiness_server_schema SET version = $1", &[&v])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

impl Meta for PgMeta {
    fn describe(&self) -> String {
        self.target.clone()
    }

    fn ping(&self) -> Result<(), MetaError> {
        self.conn()?
            .simple_query("SELECT 1")
            .map(|_| ())
            .map_err(self.err())
    }

    fn shared_secret(&self, fresh: [u8; 32]) -> Result<Option<[u8; 32]>, MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        conn.execute(
            "INSERT INTO flakiness_server_secret (id, key) VALUES (1, $1) ON CONFLICT DO NOTHING",
            &[&&fresh[..]],
        )
        .map_err(&err)?;
        let key: Vec<u8> = conn
            .query_one("SELECT key FROM flakiness_server_secret WHERE id = 1", &[])
            .map_err(&err)?
            .get(0);
        key.try_into().map(Some).map_err(|_| MetaError::Schema {
            target: self.target.clone(),
            what: "the stored server secret is not 32 bytes".into(),
        })
    }

    fn create_token(
        &self,
        org: &str,
        project: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO flakiness_server_projects (org, project) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[&org, &project],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO flakiness_server_tokens (hash, project_id, created_ms)
             SELECT $1, id, $2 FROM flakiness_server_projects WHERE org = $3 AND project = $4",
            &[&hash, &now, &org, &project],
        )
        .map_err(&err)?;
        tx.commit().map_err(err)
    }

    fn tokens(&self) -> Result<Vec<TokenRow>, MetaError> {
        Ok(self
            .conn()?
            .query(
                "SELECT t.hash, p.id, p.org, p.project, t.created_ms
                 FROM flakiness_server_tokens t
                 JOIN flakiness_server_projects p ON p.id = t.project_id
                 ORDER BY p.org, p.project, t.created_ms, t.hash",
                &[],
            )
            .map_err(self.err())?
            .iter()
            .map(token_row)
            .collect())
    }

    fn revoke_token(&self, id: &str, now: i64) -> Result<(), MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        let len = id.len() as i32;
        tx.execute(
            "INSERT INTO flakiness_server_revoked_tokens (hash, project_id, revoked_ms)
             SELECT hash, project_id, $3 FROM flakiness_server_tokens
             WHERE substr(hash, 1, $1) = $2
             ON CONFLICT DO NOTHING",
            &[&len, &id, &now],
        )
        .map_err(&err)?;
        tx.execute(
            "DELETE FROM flakiness_server_tokens WHERE substr(hash, 1, $1) = $2",
            &[&len, &id],
        )
        .map_err(&err)?;
        tx.commit().map_err(err)
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRow>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT t.hash, p.id, p.org, p.project, t.created_ms
                 FROM flakiness_server_tokens t
                 JOIN flakiness_server_projects p ON p.id = t.project_id WHERE t.hash = $1",
                &[&hash],
            )
            .map_err(self.err())?
            .as_ref()
            .map(token_row))
    }

    fn revoked(&self, hash: &str) -> Result<Option<String>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT hash FROM flakiness_server_revoked_tokens WHERE hash = $1",
                &[&hash],
            )
            .map_err(self.err())?
            .map(|r| r.get(0)))
    }

    fn create_upload(
        &self,
        id: &str,
        project_id: i64,
        token_hash: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        self.conn()?
            .execute(
                "INSERT INTO flakiness_server_uploads (id, project_id, token_hash, state, created_ms)
                 VALUES ($1, $2, $3, 'pending', $4)",
                &[&id, &project_id, &token_hash, &now],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    fn upload_by_token(&self, hash: &str) -> Result<Option<(String, UploadRow)>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT u.token_hash, u.id, p.org, p.project, u.state, u.report_blob
                 FROM flakiness_server_uploads u
                 JOIN flakiness_server_projects p ON p.id = u.project_id
                 WHERE u.token_hash = $1",
                &[&hash],
            )
            .map_err(self.err())?
            .map(|r| (r.get(0), upload_row(&r, 1))))
    }

    fn upload(&self, id: &str) -> Result<Option<UploadRow>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT u.id, p.org, p.project, u.state, u.report_blob
                 FROM flakiness_server_uploads u
                 JOIN flakiness_server_projects p ON p.id = u.project_id WHERE u.id = $1",
                &[&id],
            )
            .map_err(self.err())?
            .map(|r| upload_row(&r, 0)))
    }

    fn declare_attachments(
        &self,
        upload_id: &str,
        ids: &[String],
        max: usize,
    ) -> Result<bool, MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        // One statement for the whole list; the upload's row lock orders concurrent calls.
        tx.execute(
            "SELECT 1 FROM flakiness_server_uploads WHERE id = $1 FOR UPDATE",
            &[&upload_id],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO flakiness_server_attachments (upload_id, attachment_id)
             SELECT $1, unnest($2::TEXT[]) ON CONFLICT DO NOTHING",
            &[&upload_id, &ids],
        )
        .map_err(&err)?;
        let count: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM flakiness_server_attachments WHERE upload_id = $1",
                &[&upload_id],
            )
            .map_err(&err)?
            .get(0);
        if count as usize > max {
            return Ok(false);
        }
        tx.commit().map_err(err)?;
        Ok(true)
    }

    fn record_blob(
        &self,
        upload_id: &str,
        slot: BlobSlot<'_>,
        sha: &str,
        present: &dyn Fn() -> Result<bool, String>,
    ) -> Result<Recorded, MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        lock_blob(&mut tx, sha).map_err(&err)?;
        let row = tx
            .query_opt(
                "SELECT state, report_blob FROM flakiness_server_uploads WHERE id = $1 FOR UPDATE",
                &[&upload_id],
            )
            .map_err(&err)?;
        let Some(row) = row else {
            return Ok(Recorded::NoUpload);
        };
        if row.get::<_, String>(0) != "pending" {
            return Ok(Recorded::Finished);
        }
        if !present().map_err(MetaError::Blob)? {
            return Ok(Recorded::BlobGone);
        }
        let replaced: Option<String> = match slot {
            BlobSlot::Report => {
                tx.execute(
                    "UPDATE flakiness_server_uploads SET report_blob = $1 WHERE id = $2",
                    &[&sha, &upload_id],
                )
                .map_err(&err)?;
                row.get(1)
            }
            BlobSlot::Attachment { id, content_type } => {
                let old: Option<String> = tx
                    .query_opt(
                        "SELECT blob FROM flakiness_server_attachments
                         WHERE upload_id = $1 AND attachment_id = $2",
                        &[&upload_id, &id],
                    )
                    .map_err(&err)?
                    .and_then(|r| r.get(0));
                tx.execute(
                    "INSERT INTO flakiness_server_attachments
                         (upload_id, attachment_id, blob, content_type)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (upload_id, attachment_id)
                     DO UPDATE SET blob = excluded.blob, content_type = excluded.content_type",
                    &[&upload_id, &id, &sha, &content_type],
                )
                .map_err(&err)?;
                old
            }
        };
        tx.commit().map_err(err)?;
        Ok(Recorded::Done {
            replaced: replaced.filter(|old| old != sha),
        })
    }

    fn collect_blob(
        &self,
        sha: &str,
        remove: &dyn Fn() -> Result<(), String>,
    ) -> Result<bool, MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        lock_blob(&mut tx, sha).map_err(&err)?;
        if referenced(&mut tx, sha).map_err(&err)? {
            return Ok(false);
        }
        remove().map_err(MetaError::Blob)?;
        tx.commit().map_err(err)?;
        Ok(true)
    }

    fn finish(
        &self,
        upload_id: &str,
        run_id: i64,
        content_hash: &str,
        now: i64,
    ) -> Result<bool, MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        let changed = tx
            .execute(
                "UPDATE flakiness_server_uploads
                 SET state = 'finished', run_id = $1, content_hash = $2, finished_ms = $3
                 WHERE id = $4 AND state = 'pending'",
                &[&run_id, &content_hash, &now, &upload_id],
            )
            .map_err(&err)?;
        if changed > 0 {
            tx.execute(
                "INSERT INTO flakiness_server_refresh_jobs (project_id, wanted)
                 SELECT project_id, 1 FROM flakiness_server_uploads WHERE id = $1
                 ON CONFLICT (project_id)
                 DO UPDATE SET wanted = flakiness_server_refresh_jobs.wanted + 1",
                &[&upload_id],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(err)?;
        Ok(changed > 0)
    }

    fn run_page_of(&self, upload_id: &str) -> Result<Option<(i64, String)>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT u.run_id, (SELECT f.id FROM flakiness_server_uploads f
                     WHERE f.project_id = u.project_id AND f.run_id = u.run_id
                       AND f.state = 'finished'
                     ORDER BY f.created_ms, f.id LIMIT 1)
                 FROM flakiness_server_uploads u
                 WHERE u.id = $1 AND u.state = 'finished' AND u.run_id IS NOT NULL",
                &[&upload_id],
            )
            .map_err(self.err())?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn expire_pending(&self, cutoff: i64) -> Result<(usize, Vec<String>), MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(&err)?;
        // The rows are locked first (another replica's cleanup skips them), so that a
        // concurrent `PUT` either records before (its blob is listed here) or finds no upload.
        let ids: Vec<String> = tx
            .query(
                "SELECT id FROM flakiness_server_uploads
                 WHERE state = 'pending' AND created_ms <= $1
                 FOR UPDATE SKIP LOCKED",
                &[&cutoff],
            )
            .map_err(&err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if ids.is_empty() {
            return Ok((0, Vec::new()));
        }
        let mut blobs: Vec<String> = tx
            .query(
                "SELECT report_blob FROM flakiness_server_uploads
                 WHERE id = ANY($1) AND report_blob IS NOT NULL
                 UNION
                 SELECT blob FROM flakiness_server_attachments
                 WHERE upload_id = ANY($1) AND blob IS NOT NULL",
                &[&ids],
            )
            .map_err(&err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        tx.execute(
            "DELETE FROM flakiness_server_uploads WHERE id = ANY($1)",
            &[&ids],
        )
        .map_err(&err)?;
        tx.commit().map_err(err)?;
        blobs.sort();
        blobs.dedup();
        Ok((ids.len(), blobs))
    }

    fn projects(&self) -> Result<Vec<(String, String)>, MetaError> {
        Ok(self
            .conn()?
            .query(
                "SELECT org, project FROM flakiness_server_projects ORDER BY org, project",
                &[],
            )
            .map_err(self.err())?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn project_runs(
        &self,
        org: &str,
        project: &str,
    ) -> Result<Option<HashMap<i64, String>>, MetaError> {
        let err = self.err();
        let mut conn = self.conn()?;
        let Some(id) = conn
            .query_opt(
                "SELECT id FROM flakiness_server_projects WHERE org = $1 AND project = $2",
                &[&org, &project],
            )
            .map_err(&err)?
            .map(|r| r.get::<_, i64>(0))
        else {
            return Ok(None);
        };
        let rows = conn
            .query(
                "SELECT run_id, id FROM flakiness_server_uploads
                 WHERE project_id = $1 AND state = 'finished' AND run_id IS NOT NULL
                 ORDER BY created_ms DESC, id DESC",
                &[&id],
            )
            .map_err(&err)?;
        let mut runs = HashMap::new();
        for row in rows {
            // The oldest upload of the run wins (rows come newest first).
            runs.insert(row.get::<_, i64>(0), row.get::<_, String>(1));
        }
        Ok(Some(runs))
    }

    fn report_blob(&self, upload_id: &str) -> Result<Option<String>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT report_blob FROM flakiness_server_uploads
                 WHERE id = $1 AND state = 'finished'",
                &[&upload_id],
            )
            .map_err(self.err())?
            .and_then(|r| r.get(0)))
    }

    fn attachment(
        &self,
        upload_id: &str,
        attachment_id: &str,
    ) -> Result<Option<AttachmentRow>, MetaError> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT blob, content_type FROM flakiness_server_attachments
                 WHERE upload_id = $1 AND attachment_id = $2",
                &[&upload_id, &attachment_id],
            )
            .map_err(self.err())?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn run_blob(
        &self,
        org: &str,
        project: &str,
        upload_id: &str,
        attachment: Option<&str>,
    ) -> Result<Option<String>, MetaError> {
        let mut conn = self.conn()?;
        let row = match attachment {
            None => conn.query_opt(
                "SELECT u.report_blob FROM flakiness_server_uploads u
                 JOIN flakiness_server_projects p ON p.id = u.project_id
                 WHERE u.id = $1 AND p.org = $2 AND p.project = $3 AND u.state = 'finished'",
                &[&upload_id, &org, &project],
            ),
            Some(att) => conn.query_opt(
                "SELECT a.blob FROM flakiness_server_attachments a
                 JOIN flakiness_server_uploads u ON u.id = a.upload_id
                 JOIN flakiness_server_projects p ON p.id = u.project_id
                 WHERE a.upload_id = $1 AND a.attachment_id = $2 AND p.org = $3
                   AND p.project = $4 AND u.state = 'finished'",
                &[&upload_id, &att, &org, &project],
            ),
        }
        .map_err(self.err())?;
        Ok(row.and_then(|r| r.get(0)))
    }

    fn claim_refresh(
        &self,
        project: Option<(&str, &str)>,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Claim>, MetaError> {
        let (org, name) = project.unwrap_or(("", ""));
        let until = now.saturating_add(lease_ms);
        // `SKIP LOCKED`: two replicas claiming at once take different jobs, or one takes it
        // and the other none.
        Ok(self
            .conn()?
            .query_opt(
                "UPDATE flakiness_server_refresh_jobs j SET owner = $1, lease_until_ms = $2
                 FROM flakiness_server_projects p
                 WHERE p.id = j.project_id AND j.project_id = (
                     SELECT k.project_id FROM flakiness_server_refresh_jobs k
                     JOIN flakiness_server_projects q ON q.id = k.project_id
                     WHERE k.wanted > k.done
                       AND (k.lease_until_ms IS NULL OR k.lease_until_ms < $3)
                       AND ($4 = '' OR (q.org = $4 AND q.project = $5))
                     ORDER BY k.project_id LIMIT 1
                     FOR UPDATE OF k SKIP LOCKED)
                 RETURNING p.org, p.project, j.wanted",
                &[&owner, &until, &now, &org, &name],
            )
            .map_err(self.err())?
            .map(|r| Claim {
                org: r.get(0),
                project: r.get(1),
                upto: r.get(2),
            }))
    }

    fn complete_refresh(&self, claim: &Claim, owner: &str) -> Result<(), MetaError> {
        self.conn()?
            .execute(
                "UPDATE flakiness_server_refresh_jobs j
                 SET done = GREATEST(j.done, $1), refreshes = j.refreshes + 1,
                     owner = NULL, lease_until_ms = NULL
                 FROM flakiness_server_projects p
                 WHERE p.id = j.project_id AND j.owner = $2 AND p.org = $3 AND p.project = $4",
                &[&claim.upto, &owner, &claim.org, &claim.project],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    fn refresh_states(&self) -> Result<Vec<RefreshState>, MetaError> {
        Ok(self
            .conn()?
            .query(
                "SELECT p.org, p.project, j.wanted, j.done, j.refreshes
                 FROM flakiness_server_refresh_jobs j
                 JOIN flakiness_server_projects p ON p.id = j.project_id
                 ORDER BY p.org, p.project",
                &[],
            )
            .map_err(self.err())?
            .iter()
            .map(|r| RefreshState {
                org: r.get(0),
                project: r.get(1),
                wanted: r.get(2),
                done: r.get(3),
                refreshes: r.get(4),
            })
            .collect())
    }
}
