//! A folder of reports as a project (`flakiness show`): its reports are ingested into a
//! history store of their own in a temporary folder, analysed once, and read back from the
//! folder for their pages. Nothing outside the given paths is ever read: attachments are
//! looked up by validated id inside a report directory's `attachments/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use flakiness_analyze::{
    analyze, discover, ingest_all, read_bytes, Analysis, AnalysisOptions, LoadLimits, ReportSource,
    SourceKind,
};
use flakiness_report::{Report, ATTACHMENTS_DIR};
use flakiness_store::{FailureRecord, SqliteStore};

use crate::pages::{self, Assets, AttachmentView, TestQuery};
use crate::serve::{
    is_shown_image, is_shown_text, read_text_head, TEXT_INLINE_BUDGET, TEXT_INLINE_MAX,
};
use crate::{AttachmentBody, AttachmentFile, Catalog, History, Project, WebError};

/// Bytes of one image embedded in a self-contained page; bigger ones are left out.
pub const EMBED_IMAGE_MAX: u64 = 4 << 20;

/// Reports under some paths, as one project.
#[derive(Debug)]
pub struct FolderProject {
    /// The org and project names the pages use.
    pub org: String,
    pub name: String,
    /// Run key → its report.
    runs: HashMap<String, ReportSource>,
    history: Arc<History>,
    /// Reports that could not be read, with why.
    pub skipped: Vec<String>,
    analysis: Arc<Analysis>,
    store: Mutex<SqliteStore>,
    /// Content types of each run's attachments, read when first needed.
    attachment_types: Mutex<HashMap<String, Arc<HashMap<String, String>>>>,
    _dir: tempfile::TempDir,
}

impl FolderProject {
    /// Finds the reports under `paths` (report directories, JSON files, JUnit XML files),
    /// stores and analyses them.
    pub fn open(paths: &[PathBuf]) -> Result<Self, WebError> {
        let sources = discover(paths)?;
        let dir = tempfile::tempdir().map_err(|source| WebError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut store = SqliteStore::open(&dir.path().join("history.db"))?;
        let summary = ingest_all(&mut store, &sources, &LoadLimits::default(), |_| {})?;
        let skipped = summary.skipped.iter().map(|s| s.to_string()).collect();
        let by_source: HashMap<String, ReportSource> = sources
            .iter()
            .map(|s| (s.path.display().to_string(), s.clone()))
            .collect();
        let mut runs: HashMap<String, ReportSource> = HashMap::new();
        for info in store.runs()? {
            if let Some(source) = by_source.get(&info.meta.source) {
                runs.insert(info.id.to_string(), source.clone());
            }
        }
        let history = Arc::new(History::load(&mut store, &|info| {
            let key = info.id.to_string();
            runs.contains_key(&key).then_some(key)
        })?);
        let analysis = Arc::new(analyze(&mut store, &AnalysisOptions::default())?);
        let name = paths
            .first()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .map(|n| slug(&n))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "reports".into());
        Ok(FolderProject {
            org: "local".into(),
            name,
            runs,
            history,
            skipped,
            analysis,
            store: Mutex::new(store),
            attachment_types: Mutex::new(HashMap::new()),
            _dir: dir,
        })
    }

    /// How many runs it holds.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether it holds no run.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    fn run(&self, key: &str) -> Option<&ReportSource> {
        self.runs.get(key)
    }

    fn types_of(&self, key: &str) -> Result<Arc<HashMap<String, String>>, WebError> {
        let Some(source) = self.run(key) else {
            return Ok(Arc::default());
        };
        let mut cache = self
            .attachment_types
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(t) = cache.get(key) {
            return Ok(t.clone());
        }
        let types = match source.kind {
            SourceKind::Junit => HashMap::new(),
            _ => {
                let bytes = read_bytes(source, &LoadLimits::default())
                    .map_err(|e| WebError::Other(e.to_string()))?;
                flakiness_report::attachment_refs(&bytes)
                    .map(|r| r.attachments.into_iter().collect())
                    .unwrap_or_default()
            }
        };
        let types = Arc::new(types);
        cache.insert(key.to_string(), types.clone());
        Ok(types)
    }

    /// One self-contained HTML page: the run page when the folder holds one run, else the
    /// flaky tests page. Images (up to [`EMBED_IMAGE_MAX`]) and text attachments are embedded.
    pub fn standalone_html(&self) -> Result<String, WebError> {
        if self.runs.len() == 1 {
            let key = &self.history.runs[0].key;
            let report = self
                .report(key)?
                .ok_or_else(|| WebError::Other("the report is gone".into()))?;
            let budget = std::cell::Cell::new(TEXT_INLINE_BUDGET);
            let view = |a: &flakiness_report::Attachment| -> AttachmentView {
                let Ok(Some(file)) = self.attachment(key, &a.id) else {
                    return AttachmentView::default();
                };
                let mut v = AttachmentView::default();
                let AttachmentBody::File(path) = &file.body else {
                    return v;
                };
                let len = std::fs::metadata(path).map_or(u64::MAX, |m| m.len());
                if is_shown_image(&a.content_type) && len <= EMBED_IMAGE_MAX {
                    let read = flakiness_report::files::open_no_follow(path).and_then(|mut f| {
                        let mut bytes = Vec::new();
                        std::io::Read::read_to_end(&mut f, &mut bytes).map(|_| bytes)
                    });
                    if let Ok(bytes) = read {
                        v.image = Some(format!(
                            "data:{};base64,{}",
                            a.content_type,
                            base64::engine::general_purpose::STANDARD.encode(bytes)
                        ));
                    }
                } else if is_shown_text(&a.content_type) && budget.get() > 0 {
                    let max = TEXT_INLINE_MAX.min(budget.get());
                    v.text = read_text_head(&file, max);
                    budget.set(budget.get().saturating_sub(max));
                }
                v
            };
            return Ok(pages::run_page(
                "",
                "",
                key,
                None,
                &report,
                &TestQuery::default(),
                &view,
                &|_, _, _| None,
                Assets::Inline,
            )
            .into_string());
        }
        Ok(pages::flaky_page(
            &self.org,
            &self.name,
            &self.analysis,
            &HashMap::new(),
            Assets::Inline,
        )
        .into_string())
    }
}

/// A name for URLs: letters, digits, `.`, `_` and `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl Project for FolderProject {
    fn history(&self) -> Result<Arc<History>, WebError> {
        Ok(self.history.clone())
    }

    fn report(&self, run: &str) -> Result<Option<Report>, WebError> {
        let Some(run) = self.run(run) else {
            return Ok(None);
        };
        load_report(run).map(Some)
    }

    fn attachment(&self, key: &str, id: &str) -> Result<Option<AttachmentFile>, WebError> {
        let Some(run) = self.run(key) else {
            return Ok(None);
        };
        if run.kind != SourceKind::Dir || flakiness_report::check_attachment_id(id).is_err() {
            return Ok(None);
        }
        let types = self.types_of(key)?;
        let Some(content_type) = types.get(id) else {
            return Ok(None);
        };
        // Only a regular file inside the run's own attachments/ folder: never through a
        // symbolic link (flakiness_report::files::open_attachment).
        if flakiness_report::files::open_attachment(&run.path, id).is_err() {
            return Ok(None);
        }
        Ok(Some(AttachmentFile {
            body: AttachmentBody::File(run.path.join(ATTACHMENTS_DIR).join(id)),
            content_type: content_type.clone(),
        }))
    }

    fn analysis(&self) -> Result<Arc<Analysis>, WebError> {
        Ok(self.analysis.clone())
    }

    fn test_failures(
        &self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(String, FailureRecord)>, WebError> {
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let mut list = store.test_failures(test_id, usize::MAX)?;
        list.reverse();
        list.truncate(limit);
        Ok(list
            .into_iter()
            .map(|(run_id, f)| (run_id.to_string(), f))
            .collect())
    }
}

/// Reads a report of the folder into the model (already validated when it was ingested).
fn load_report(source: &ReportSource) -> Result<Report, WebError> {
    let path = source.file();
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    if source.kind != SourceKind::JsonZst && bytes > crate::PAGE_REPORT_MAX {
        return Err(WebError::TooBig { bytes });
    }
    read_report(source).map_err(|message| WebError::Report { path, message })
}

fn read_report(source: &ReportSource) -> Result<Report, String> {
    let limits = LoadLimits {
        max_report_bytes: crate::PAGE_REPORT_MAX,
    };
    let bytes = read_bytes(source, &limits).map_err(|e| e.reason)?;
    match source.kind {
        SourceKind::Junit => flakiness_analyze::check_junit(source, &bytes)
            .map(|l| l.report)
            .map_err(|e| e.reason),
        _ => flakiness_report::json_text::from_slice(&bytes).map_err(|e| e.to_string()),
    }
}

/// A catalog of one folder project.
#[derive(Debug, Clone)]
pub struct FolderCatalog(pub Arc<FolderProject>);

impl Catalog for FolderCatalog {
    fn projects(&self) -> Result<Vec<(String, String)>, WebError> {
        Ok(vec![(self.0.org.clone(), self.0.name.clone())])
    }

    fn project(&self, org: &str, project: &str) -> Result<Option<Arc<dyn Project>>, WebError> {
        Ok((org == self.0.org && project == self.0.name)
            .then(|| self.0.clone() as Arc<dyn Project>))
    }
}
