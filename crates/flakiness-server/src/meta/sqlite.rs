//! The embedded metadata store: `<data>/server.db`, one connection behind a mutex (one server
//! per data directory). Holding the mutex is the lock of every blob.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::{
    AttachmentRow, BlobSlot, Claim, Meta, MetaError, Recorded, RefreshState, TokenRow, UploadRow,
};

/// Migrations by version (`PRAGMA user_version`), each applied once, in order, in its own
/// transaction. Version 1 is the schema of the first servers (made with `IF NOT EXISTS`, so
/// their files, at version 0, take it as it is).
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS projects (
        id INTEGER PRIMARY KEY,
        org TEXT NOT NULL,
        project TEXT NOT NULL,
        UNIQUE (org, project)
    );
    CREATE TABLE IF NOT EXISTS tokens (
        hash TEXT PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS revoked_tokens (
        hash TEXT PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        revoked_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        token_hash TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('pending', 'finished')),
        created_ms INTEGER NOT NULL,
        finished_ms INTEGER,
        report_blob TEXT,
        run_id INTEGER,
        content_hash TEXT
    );
    CREATE INDEX IF NOT EXISTS uploads_by_project ON uploads (project_id, state);
    CREATE INDEX IF NOT EXISTS uploads_by_report ON uploads (report_blob);
    CREATE TABLE IF NOT EXISTS attachments (
        upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
        attachment_id TEXT NOT NULL,
        blob TEXT,
        content_type TEXT,
        PRIMARY KEY (upload_id, attachment_id)
    );
    CREATE INDEX IF NOT EXISTS attachments_by_blob ON attachments (blob);",
    // 2: refresh jobs of the pages (one row per project), as in PostgreSQL.
    "CREATE TABLE refresh_jobs (
        project_id INTEGER PRIMARY KEY REFERENCES projects(id),
        wanted INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        refreshes INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until_ms INTEGER
    );",
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) struct SqliteMeta {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteMeta")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteMeta {
    /// Opens (creating) `path` and applies the missing migrations; refuses a file a newer
    /// flakiness wrote.
    pub(crate) fn open(path: &Path) -> Result<Self, MetaError> {
        let target = path.display().to_string();
        let err = |source| MetaError::Sqlite {
            target: target.clone(),
            source,
        };
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(MetaError::Schema {
                target,
                what: format!(
                    "schema version {version}; this flakiness knows up to {SCHEMA_VERSION}: upgrade flakiness"
                ),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let v = i as i64 + 1;
            if v > version {
                let tx = conn.transaction().map_err(err)?;
                tx.execute_batch(sql).map_err(err)?;
                tx.pragma_update(None, "user_version", v).map_err(err)?;
                tx.commit().map_err(err)?;
            }
        }
        Ok(SqliteMeta {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> MetaError + '_ {
        |source| MetaError::Sqlite {
            target: self.path.display().to_string(),
            source,
        }
    }
}

fn upload_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<UploadRow> {
    Ok(UploadRow {
        id: r.get(at)?,
        org: r.get(at + 1)?,
        project: r.get(at + 2)?,
        finished: r.get::<_, String>(at + 3)? == "finished",
        report_blob: r.get(at + 4)?,
    })
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        hash: r.get(0)?,
        project_id: r.get(1)?,
        org: r.get(2)?,
        project: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

/// Whether an upload (report) or an attachment refers to this blob.
fn referenced(db: &Connection, blob: &str) -> rusqlite::Result<bool> {
    db.query_row(
        "SELECT EXISTS (SELECT 1 FROM uploads WHERE report_blob = ?1)
             OR EXISTS (SELECT 1 FROM attachments WHERE blob = ?1)",
        [blob],
        |r| r.get(0),
    )
}

impl Meta for SqliteMeta {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn ping(&self) -> Result<(), MetaError> {
        self.db()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(self.err())
    }

    fn shared_secret(&self, _fresh: [u8; 32]) -> Result<Option<[u8; 32]>, MetaError> {
        Ok(None)
    }

    fn create_token(
        &self,
        org: &str,
        project: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        tx.execute(
            "INSERT OR IGNORE INTO projects (org, project) VALUES (?1, ?2)",
            params![org, project],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO tokens (hash, project_id, created_ms)
             SELECT ?1, id, ?2 FROM projects WHERE org = ?3 AND project = ?4",
            params![hash, now, org, project],
        )
        .map_err(&err)?;
        tx.commit().map_err(err)
    }

    fn tokens(&self) -> Result<Vec<TokenRow>, MetaError> {
        let db = self.db();
        let err = self.err();
        let mut stmt = db
            .prepare(
                "SELECT t.hash, p.id, p.org, p.project, t.created_ms FROM tokens t
                 JOIN projects p ON p.id = t.project_id
                 ORDER BY p.org, p.project, t.created_ms, t.hash",
            )
            .map_err(&err)?;
        let rows = stmt.query_map([], token_row).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn revoke_token(&self, id: &str, now: i64) -> Result<(), MetaError> {
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        // Its hash is kept, so that an upload with it is told it was revoked.
        tx.execute(
            "INSERT OR IGNORE INTO revoked_tokens (hash, project_id, revoked_ms)
             SELECT hash, project_id, ?3 FROM tokens WHERE substr(hash, 1, ?1) = ?2",
            params![id.len() as i64, id, now],
        )
        .map_err(&err)?;
        tx.execute(
            "DELETE FROM tokens WHERE substr(hash, 1, ?1) = ?2",
            params![id.len() as i64, id],
        )
        .map_err(&err)?;
        tx.commit().map_err(err)
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRow>, MetaError> {
        self.db()
            .query_row(
                "SELECT t.hash, p.id, p.org, p.project, t.created_ms FROM tokens t
                 JOIN projects p ON p.id = t.project_id WHERE t.hash = ?1",
                [hash],
                token_row,
            )
            .optional()
            .map_err(self.err())
    }

    fn revoked(&self, hash: &str) -> Result<Option<String>, MetaError> {
        self.db()
            .query_row(
                "SELECT hash FROM revoked_tokens WHERE hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    fn create_upload(
        &self,
        id: &str,
        project_id: i64,
        token_hash: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        self.db()
            .execute(
                "INSERT INTO uploads (id, project_id, token_hash, state, created_ms)
                 VALUES (?1, ?2, ?3, 'pending', ?4)",
                params![id, project_id, token_hash, now],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    fn upload_by_token(&self, hash: &str) -> Result<Option<(String, UploadRow)>, MetaError> {
        self.db()
            .query_row(
                "SELECT u.token_hash, u.id, p.org, p.project, u.state, u.report_blob
                 FROM uploads u JOIN projects p ON p.id = u.project_id WHERE u.token_hash = ?1",
                [hash],
                |r| Ok((r.get(0)?, upload_row(r, 1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    fn upload(&self, id: &str) -> Result<Option<UploadRow>, MetaError> {
        self.db()
            .query_row(
                "SELECT u.id, p.org, p.project, u.state, u.report_blob
                 FROM uploads u JOIN projects p ON p.id = u.project_id WHERE u.id = ?1",
                [id],
                |r| upload_row(r, 0),
            )
            .optional()
            .map_err(self.err())
    }

    fn declare_attachments(
        &self,
        upload_id: &str,
        ids: &[String],
        max: usize,
    ) -> Result<bool, MetaError> {
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        for id in ids {
            tx.execute(
                "INSERT OR IGNORE INTO attachments (upload_id, attachment_id) VALUES (?1, ?2)",
                params![upload_id, id],
            )
            .map_err(&err)?;
        }
        let count: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM attachments WHERE upload_id = ?1",
                [upload_id],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if count as usize > max {
            // Dropping the transaction rolls it back.
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
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        let state: Option<String> = tx
            .query_row(
                "SELECT state FROM uploads WHERE id = ?1",
                [upload_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(&err)?;
        match state.as_deref() {
            Some("pending") => {}
            Some(_) => return Ok(Recorded::Finished),
            None => return Ok(Recorded::NoUpload),
        }
        if !present().map_err(MetaError::Blob)? {
            return Ok(Recorded::BlobGone);
        }
        let replaced: Option<String> = match slot {
            BlobSlot::Report => {
                let old: Option<String> = tx
                    .query_row(
                        "SELECT report_blob FROM uploads WHERE id = ?1",
                        [upload_id],
                        |r| r.get(0),
                    )
                    .map_err(&err)?;
                tx.execute(
                    "UPDATE uploads SET report_blob = ?1 WHERE id = ?2",
                    params![sha, upload_id],
                )
                .map_err(&err)?;
                old
            }
            BlobSlot::Attachment { id, content_type } => {
                let old: Option<String> = tx
                    .query_row(
                        "SELECT blob FROM attachments WHERE upload_id = ?1 AND attachment_id = ?2",
                        [upload_id, id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(&err)?
                    .flatten();
                tx.execute(
                    "INSERT INTO attachments (upload_id, attachment_id, blob, content_type)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (upload_id, attachment_id)
                     DO UPDATE SET blob = excluded.blob, content_type = excluded.content_type",
                    params![upload_id, id, sha, content_type],
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
        let db = self.db();
        if referenced(&db, sha).map_err(self.err())? {
            return Ok(false);
        }
        remove().map_err(MetaError::Blob)?;
        Ok(true)
    }

    fn finish(
        &self,
        upload_id: &str,
        run_id: i64,
        content_hash: &str,
        now: i64,
    ) -> Result<bool, MetaError> {
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        let changed = tx
            .execute(
                "UPDATE uploads SET state = 'finished', run_id = ?1, content_hash = ?2,
                     finished_ms = ?3
                 WHERE id = ?4 AND state = 'pending'",
                params![run_id, content_hash, now, upload_id],
            )
            .map_err(&err)?;
        if changed > 0 {
            tx.execute(
                "INSERT INTO refresh_jobs (project_id, wanted)
                 SELECT project_id, 1 FROM uploads WHERE id = ?1
                 ON CONFLICT (project_id) DO UPDATE SET wanted = wanted + 1",
                [upload_id],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(err)?;
        Ok(changed > 0)
    }

    fn run_page_of(&self, upload_id: &str) -> Result<Option<(i64, String)>, MetaError> {
        self.db()
            .query_row(
                "SELECT u.run_id, (SELECT f.id FROM uploads f
                     WHERE f.project_id = u.project_id AND f.run_id = u.run_id
                       AND f.state = 'finished'
                     ORDER BY f.created_ms, f.id LIMIT 1)
                 FROM uploads u
                 WHERE u.id = ?1 AND u.state = 'finished' AND u.run_id IS NOT NULL",
                [upload_id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    fn expire_pending(&self, cutoff: i64) -> Result<(usize, Vec<String>), MetaError> {
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        let mut blobs: Vec<String> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        {
            let mut stmt = tx
                .prepare(
                    "SELECT id, report_blob FROM uploads
                     WHERE state = 'pending' AND created_ms <= ?1",
                )
                .map_err(&err)?;
            let rows = stmt
                .query_map([cutoff], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .map_err(&err)?;
            for row in rows {
                let (id, blob) = row.map_err(&err)?;
                blobs.extend(blob);
                ids.push(id);
            }
            let mut atts = tx
                .prepare("SELECT blob FROM attachments WHERE upload_id = ?1 AND blob IS NOT NULL")
                .map_err(&err)?;
            for id in &ids {
                let rows = atts
                    .query_map([id], |r| r.get::<_, String>(0))
                    .map_err(&err)?;
                for row in rows {
                    blobs.push(row.map_err(&err)?);
                }
            }
        }
        for id in &ids {
            tx.execute("DELETE FROM attachments WHERE upload_id = ?1", [id])
                .map_err(&err)?;
            tx.execute("DELETE FROM uploads WHERE id = ?1", [id])
                .map_err(&err)?;
        }
        tx.commit().map_err(err)?;
        blobs.sort();
        blobs.dedup();
        Ok((ids.len(), blobs))
    }

    fn projects(&self) -> Result<Vec<(String, String)>, MetaError> {
        let db = self.db();
        let err = self.err();
        let mut stmt = db
            .prepare("SELECT org, project FROM projects ORDER BY org, project")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn project_runs(
        &self,
        org: &str,
        project: &str,
    ) -> Result<Option<HashMap<i64, String>>, MetaError> {
        let db = self.db();
        let err = self.err();
        let id: Option<i64> = db
            .query_row(
                "SELECT id FROM projects WHERE org = ?1 AND project = ?2",
                [org, project],
                |r| r.get(0),
            )
            .optional()
            .map_err(&err)?;
        let Some(id) = id else {
            return Ok(None);
        };
        let mut stmt = db
            .prepare(
                "SELECT run_id, id FROM uploads
                 WHERE project_id = ?1 AND state = 'finished' AND run_id IS NOT NULL
                 ORDER BY created_ms DESC, id DESC",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(&err)?;
        let mut runs = HashMap::new();
        for row in rows {
            let (run, upload) = row.map_err(&err)?;
            // The oldest upload of the run wins (rows come newest first).
            runs.insert(run, upload);
        }
        Ok(Some(runs))
    }

    fn report_blob(&self, upload_id: &str) -> Result<Option<String>, MetaError> {
        self.db()
            .query_row(
                "SELECT report_blob FROM uploads WHERE id = ?1 AND state = 'finished'",
                [upload_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(self.err())
    }

    fn attachment(
        &self,
        upload_id: &str,
        attachment_id: &str,
    ) -> Result<Option<AttachmentRow>, MetaError> {
        self.db()
            .query_row(
                "SELECT blob, content_type FROM attachments
                 WHERE upload_id = ?1 AND attachment_id = ?2",
                [upload_id, attachment_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())
    }

    fn run_blob(
        &self,
        org: &str,
        project: &str,
        upload_id: &str,
        attachment: Option<&str>,
    ) -> Result<Option<String>, MetaError> {
        let db = self.db();
        let blob: Option<Option<String>> = match attachment {
            None => db.query_row(
                "SELECT u.report_blob FROM uploads u JOIN projects p ON p.id = u.project_id
                 WHERE u.id = ?1 AND p.org = ?2 AND p.project = ?3 AND u.state = 'finished'",
                [upload_id, org, project],
                |r| r.get(0),
            ),
            Some(att) => db.query_row(
                "SELECT a.blob FROM attachments a
                 JOIN uploads u ON u.id = a.upload_id
                 JOIN projects p ON p.id = u.project_id
                 WHERE a.upload_id = ?1 AND a.attachment_id = ?2 AND p.org = ?3
                   AND p.project = ?4 AND u.state = 'finished'",
                [upload_id, att, org, project],
                |r| r.get(0),
            ),
        }
        .optional()
        .map_err(self.err())?;
        Ok(blob.flatten())
    }

    fn claim_refresh(
        &self,
        project: Option<(&str, &str)>,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Claim>, MetaError> {
        let mut db = self.db();
        let err = self.err();
        let tx = db.transaction().map_err(&err)?;
        let (org, name) = project.unwrap_or(("", ""));
        let found: Option<(i64, String, String, i64)> = tx
            .query_row(
                "SELECT j.project_id, p.org, p.project, j.wanted FROM refresh_jobs j
                 JOIN projects p ON p.id = j.project_id
                 WHERE j.wanted > j.done
                   AND (j.lease_until_ms IS NULL OR j.lease_until_ms < ?1)
                   AND (?2 = '' OR (p.org = ?2 AND p.project = ?3))
                 ORDER BY j.project_id LIMIT 1",
                params![now, org, name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(&err)?;
        let Some((id, org, project, wanted)) = found else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE refresh_jobs SET owner = ?1, lease_until_ms = ?2 WHERE project_id = ?3",
            params![owner, now.saturating_add(lease_ms), id],
        )
        .map_err(&err)?;
        tx.commit().map_err(err)?;
        Ok(Some(Claim {
            org,
            project,
            upto: wanted,
        }))
    }

    fn complete_refresh(&self, claim: &Claim, owner: &str) -> Result<(), MetaError> {
        self.db()
            .execute(
                "UPDATE refresh_jobs SET done = MAX(done, ?1), refreshes = refreshes + 1,
                     owner = NULL, lease_until_ms = NULL
                 WHERE owner = ?2 AND project_id =
                     (SELECT id FROM projects WHERE org = ?3 AND project = ?4)",
                params![claim.upto, owner, claim.org, claim.project],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    fn refresh_states(&self) -> Result<Vec<RefreshState>, MetaError> {
        let db = self.db();
        let err = self.err();
        let mut stmt = db
            .prepare(
                "SELECT p.org, p.project, j.wanted, j.done, j.refreshes FROM refresh_jobs j
                 JOIN projects p ON p.id = j.project_id ORDER BY p.org, p.project",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RefreshState {
                    org: r.get(0)?,
                    project: r.get(1)?,
                    wanted: r.get(2)?,
                    done: r.get(3)?,
                    refreshes: r.get(4)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
}
