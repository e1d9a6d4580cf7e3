//! The server's projects as a [`flakiness_web::Catalog`]: the pages read the finished
//! uploads, their blobs and the history store. A project's run list and analysis are kept
//! until its set of runs changes (a finish), so pages of a big history stay fast.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use flakiness_analyze::{Analysis, AnalysisOptions};
use flakiness_report::Report;
use flakiness_store::FailureRecord;
use flakiness_web::{AttachmentBody, AttachmentFile, Catalog, History, Project, WebError};

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
        self.meta().projects().map_err(err)
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
) -> Result<Option<HashMap<i64, String>>, crate::MetaError> {
    server.meta().project_runs(org, project)
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

    /// Computes the project's run list and analysis ahead of the next page view, after a
    /// finish; errors wait for that view to be reported.
    ///
    /// Once per change across replicas: a refresh is claimed in the job table first (see
    /// [`crate::meta::Meta::claim_refresh`]). A finish while another refresh of the project
    /// runs, here or on another replica, finds it claimed; that refresh claims again when it
    /// ends, since changes came that it did not cover. Finishes that come in a burst share one
    /// refresh: each waits [`REFRESH_DELAY`], or twice as long as the last refresh took, so
    /// that refreshes (each reads the project's whole history) take at most about a third of
    /// a core while uploads keep coming.
    pub(crate) fn refresh_pages(&self, org: &str, project: &str) {
        loop {
            let last = self
                .inner
                .last_refresh_ms
                .load(std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(
                REFRESH_DELAY.max(std::time::Duration::from_millis(last.saturating_mul(2))),
            );
            if !self.refresh_one(Some((org, project))) {
                return;
            }
        }
    }

    /// Claims one refresh due (of `project`, or of any project) and runs it; answers whether
    /// one was claimed. The periodic sweep of [`crate::serve`] takes the ones a replica that
    /// died claimed, once their lease lapses.
    pub(crate) fn refresh_one(&self, project: Option<(&str, &str)>) -> bool {
        let owner = &self.inner.replica;
        let lease = self.inner.limits.refresh_lease.as_millis() as i64;
        let claim = match self
            .meta()
            .claim_refresh(project, owner, crate::now_ms(), lease)
        {
            Ok(Some(c)) => c,
            Ok(None) | Err(_) => return false,
        };
        let started = std::time::Instant::now();
        if let Ok(Some(p)) = Catalog::project(self, &claim.org, &claim.project) {
            let _ = p.history();
            let _ = p.analysis();
        }
        self.inner.last_refresh_ms.store(
            started.elapsed().as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.inner
            .refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.meta().complete_refresh(&claim, owner).is_ok()
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
        self.server.meta().report_blob(key).map_err(err)
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
        let local = match crate::block_on(
            self.server
                .inner
                .blobs
                .local_copy(&blob, flakiness_web::PAGE_REPORT_MAX),
        ) {
            Ok(Some(local)) => local,
            Ok(None) => return Err(WebError::Other(format!("the report's blob {blob} is gone"))),
            Err(crate::blob_store::BlobStoreError::TooLarge { len, .. }) => {
                return Err(WebError::TooBig { bytes: len })
            }
            Err(e) => return Err(err(e)),
        };
        let path = local.path().to_path_buf();
        let bytes = flakiness_validate::FileBytes::open(&path, local.len()).map_err(|source| {
            WebError::Io {
                path: path.clone(),
                source,
            }
        })?;
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
        let found = self.server.meta().attachment(run, id).map_err(err)?;
        Ok(match found {
            Some((Some(blob), content_type)) => Some(AttachmentFile {
                body: AttachmentBody::Stored(Arc::new(ServerBlob {
                    store: self.server.inner.blobs.clone(),
                    sha: blob,
                })),
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

/// A blob as the pages read it: a head to show, or the whole of it streamed.
struct ServerBlob {
    store: crate::blob_store::BlobStore,
    sha: String,
}

impl flakiness_web::StoredBlob for ServerBlob {
    fn head(&self, max: u64) -> std::io::Result<Option<(Vec<u8>, u64)>> {
        crate::block_on(self.store.get_head(&self.sha, max))
    }

    fn open(&self) -> flakiness_web::OpenFuture {
        let (store, sha) = (self.store.clone(), self.sha.clone());
        Box::pin(async move {
            Ok(store.get(&sha).await?.map(|(stream, len)| {
                let stream: flakiness_web::ByteStream = Box::pin(stream);
                (stream, len)
            }))
        })
    }
}
