//! The server's projects as a [`flakiness_web::Catalog`]: the pages read the finished
//! uploads, their blobs and the history store. A project's run list and analysis are kept
//! until its set of runs changes (a finish), so pages of a big history stay fast.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use flakiness_analyze::{Analysis, AnalysisOptions};
use flakiness_report::Report;
use flakiness_store::FailureRecord;
use flakiness_web::{AttachmentFile, Catalog, History, Project, WebError};
use rusqlite::OptionalExtension;

use crate::view::ProjectView;
use crate::Server;

/// What is kept of a project between requests, for one set of runs.
#[derive(Debug, Default)]
pub(crate) struct Cached {
    /// Run id → upload id (the run's key in URLs).
    runs: HashMap<i64, String>,
    history: Option<Arc<History>>,
    analysis: Option<Arc<Analysis>>,
}

/// How long a refresh waits after a finish, for more finishes to share it.
const REFRESH_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// Per `(org, project)`.
pub(crate) type PageCache = Mutex<HashMap<(String, String), Cached>>;

fn err(e: impl std::fmt::Display) -> WebError {
    WebError::Other(e.to_string())
}

impl Catalog for Server {
    fn projects(&self) -> Result<Vec<(String, String)>, WebError> {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT org, project FROM projects ORDER BY org, project")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn project(&self, org: &str, project: &str) -> Result<Option<Arc<dyn Project>>, WebError> {
        let Some(runs) = project_runs(self, org, project).map_err(err)? else {
            return Ok(None);
        };
        Ok(Some(Arc::new(ServerProject {
            server: self.clone(),
            org: org.to_string(),
            project: project.to_string(),
            runs,
        })))
    }
}

/// The finished runs of a project: run id → the id of its oldest upload; `None` when there
/// is no such project.
pub(crate) fn project_runs(
    server: &Server,
    org: &str,
    project: &str,
) -> Result<Option<HashMap<i64, String>>, rusqlite::Error> {
    let db = server.db();
    let id: Option<i64> = db
        .query_row(
            "SELECT id FROM projects WHERE org = ?1 AND project = ?2",
            [org, project],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    let mut stmt = db.prepare(
        "SELECT run_id, id FROM uploads
         WHERE project_id = ?1 AND state = 'finished' AND run_id IS NOT NULL
         ORDER BY created_ms DESC, id DESC",
    )?;
    let rows = stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut runs = HashMap::new();
    for row in rows {
        let (run, upload) = row?;
        // The oldest upload of the run wins (rows come newest first).
        runs.insert(run, upload);
    }
    Ok(Some(runs))
}

impl Server {
    /// The project's analysis, computed again only when its runs changed.
    pub(crate) fn project_analysis(
        &self,
        org: &str,
        project: &str,
        runs: &HashMap<i64, String>,
    ) -> Result<Arc<Analysis>, WebError> {
        if let Some(a) = self.cached(org, project, runs, |c| c.analysis.clone()) {
            return Ok(a);
        }
        let analysis = {
            let mut history = self.history();
            let mut view = ProjectView {
                inner: &mut **history,
                runs: runs.keys().copied().collect::<HashSet<i64>>(),
            };
            Arc::new(flakiness_analyze::analyze(
                &mut view,
                &AnalysisOptions::default(),
            )?)
        };
        self.store_cached(org, project, runs, |c| c.analysis = Some(analysis.clone()));
        Ok(analysis)
    }

    /// Computes the project's run list and analysis ahead of the next page view (after a
    /// finish); errors wait for that view to be reported.
    /// One refresh per project at a time: a finish during a refresh asks for one more after
    /// it, instead of a second one at once.
    pub(crate) fn refresh_pages(&self, org: &str, project: &str) {
        let key = (org.to_string(), project.to_string());
        {
            let mut busy = self
                .inner
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(again) = busy.get_mut(&key) {
                *again = true;
                return;
            }
            busy.insert(key.clone(), false);
        }
        loop {
            // Finishes that come in a burst share one refresh.
            std::thread::sleep(REFRESH_DELAY);
            if let Ok(Some(p)) = Catalog::project(self, org, project) {
                let _ = p.history();
                let _ = p.analysis();
            }
            let mut busy = self
                .inner
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if busy.get(&key).copied().unwrap_or(false) {
                busy.insert(key.clone(), false);
            } else {
                busy.remove(&key);
                return;
            }
        }
    }

    fn cached<T>(
        &self,
        org: &str,
        project: &str,
        runs: &HashMap<i64, String>,
        get: impl FnOnce(&Cached) -> Option<T>,
    ) -> Option<T> {
        let cache = self.inner.pages.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&(org.to_string(), project.to_string()))
            .filter(|c| c.runs == *runs)
            .and_then(get)
    }

    fn store_cached(
        &self,
        org: &str,
        project: &str,
        runs: &HashMap<i64, String>,
        set: impl FnOnce(&mut Cached),
    ) {
        let mut cache = self.inner.pages.lock().unwrap_or_else(|e| e.into_inner());
        let entry = cache
            .entry((org.to_string(), project.to_string()))
            .or_default();
        if entry.runs != *runs {
            *entry = Cached {
                runs: runs.clone(),
                ..Cached::default()
            };
        }
        set(entry);
    }
}

/// One project of the server.
struct ServerProject {
    server: Server,
    org: String,
    project: String,
    runs: HashMap<i64, String>,
}

impl ServerProject {
    /// The upload `key` of this project, finished: its report blob.
    fn report_blob(&self, key: &str) -> Result<Option<String>, WebError> {
        if !self.runs.values().any(|u| u == key) {
            return Ok(None);
        }
        let db = self.server.db();
        db.query_row(
            "SELECT report_blob FROM uploads WHERE id = ?1 AND state = 'finished'",
            [key],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()
        .map(Option::flatten)
        .map_err(err)
    }
}

impl Project for ServerProject {
    fn history(&self) -> Result<Arc<History>, WebError> {
        let (org, project) = (&self.org, &self.project);
        if let Some(h) = self
            .server
            .cached(org, project, &self.runs, |c| c.history.clone())
        {
            return Ok(h);
        }
        let history = {
            let mut store = self.server.history();
            Arc::new(History::load(&mut **store, &|info| {
                self.runs.get(&info.id).cloned()
            })?)
        };
        self.server.store_cached(org, project, &self.runs, |c| {
            c.history = Some(history.clone())
        });
        Ok(history)
    }

    fn report(&self, run: &str) -> Result<Option<Report>, WebError> {
        let Some(blob) = self.report_blob(run)? else {
            return Ok(None);
        };
        let path = self.server.blob_path(&blob);
        let io = |source| WebError::Io {
            path: path.clone(),
            source,
        };
        let len = std::fs::metadata(&path).map_err(io)?.len();
        if len > flakiness_web::PAGE_REPORT_MAX {
            return Err(WebError::TooBig { bytes: len });
        }
        let bytes = flakiness_validate::FileBytes::open(&path, len).map_err(io)?;
        flakiness_report::json_text::from_slice(bytes.bytes())
            .map(Some)
            .map_err(|e| WebError::Report {
                path,
                message: e.to_string(),
            })
    }

    fn attachment(&self, run: &str, id: &str) -> Result<Option<AttachmentFile>, WebError> {
        if !self.runs.values().any(|u| u == run) {
            return Ok(None);
        }
        let db = self.server.db();
        let found: Option<(Option<String>, Option<String>)> = db
            .query_row(
                "SELECT blob, content_type FROM attachments
                 WHERE upload_id = ?1 AND attachment_id = ?2",
                [run, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err)?;
        Ok(match found {
            Some((Some(blob), content_type)) => Some(AttachmentFile {
                path: self.server.blob_path(&blob),
                content_type: content_type.unwrap_or_else(|| "application/octet-stream".into()),
            }),
            _ => None,
        })
    }

    fn analysis(&self) -> Result<Arc<Analysis>, WebError> {
        self.server
            .project_analysis(&self.org, &self.project, &self.runs)
    }

    fn test_failures(
        &self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(String, FailureRecord)>, WebError> {
        let mut history = self.server.history();
        let mut list: Vec<(String, FailureRecord)> = history
            .test_failures(test_id, usize::MAX)?
            .into_iter()
            .filter_map(|(run, f)| Some((self.runs.get(&run)?.clone(), f)))
            .collect();
        list.reverse();
        list.truncate(limit);
        Ok(list)
    }
}
