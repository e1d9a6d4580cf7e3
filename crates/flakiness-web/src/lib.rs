//! # flakiness-web
//!
//! The web pages of `flakiness serve` and `flakiness show`: a project's runs, a run's suites,
//! tests, attempts and attachments, two runs compared, the project's flaky tests and a test's
//! history.
//!
//! Pages are rendered on the server as HTML ([`pages`]) from the report model and the
//! analyzer's [`Analysis`]; they make no request to another host, load one stylesheet and one
//! small script of their own (`/static/`), escape every text that came from a report, strip ANSI
//! escapes, and are served under a strict Content-Security-Policy ([`CSP`]). A page also
//! exists as one self-contained file ([`standalone`]), for `flakiness show --html`.
//!
//! Where the data comes from is the caller's: a [`Catalog`] of [`Project`]s. The server
//! implements it over its uploads and history store; `flakiness show` over a folder of reports
//! ([`folder::FolderProject`]). [`router`] serves the pages of any catalog.
//!
//! ```
//! use flakiness_web::pages::{runs_page, Assets, RunFilter};
//! use flakiness_web::{Counts, RunRow};
//!
//! let rows = vec![RunRow {
//!     key: "1".into(),
//!     run_id: 1,
//!     number: 1,
//!     title: Some("<nightly>".into()),
//!     commit_id: "0123456789abcdef".into(),
//!     url: None,
//!     start_ms: 0,
//!     duration_ms: 1500,
//!     counts: Counts { passed: 3, failed: 1, ..Counts::default() },
//!     lost_ms: 0,
//!     environments: vec!["linux".into()],
//! }];
//! let html = runs_page("acme", "shop", &rows, &RunFilter::default(), Assets::Linked).into_string();
//! assert!(html.contains("&lt;nightly&gt;"));
//! assert!(html.contains("class=\"run\""));
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use flakiness_analyze::Analysis;
use flakiness_report::Report;
use flakiness_store::{FailureRecord, Outcome, ResultRow, StoreError};

pub mod chart;
pub mod folder;
pub mod history;
pub mod pages;
mod serve;

pub use history::History;
pub use serve::{gated, hardened, random_token, router, CSP, SHOW_COOKIE};

/// What a page could not get.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot read the report: {message}")]
    Report { path: PathBuf, message: String },
    #[error(transparent)]
    Analyze(#[from] flakiness_analyze::AnalyzeError),
    /// The report is past [`PAGE_REPORT_MAX`]: its page would hold its whole model in memory.
    #[error("the report is {bytes} bytes, more than the {PAGE_REPORT_MAX} a page shows")]
    TooBig { bytes: u64 },
    #[error("{0}")]
    Other(String),
}

/// Largest `report.json` a run page reads (64 MiB): a page holds the whole report in memory
/// (several times its size), so bigger runs are listed, analysed and downloadable, but their
/// page says so instead.
pub const PAGE_REPORT_MAX: u64 = 64 << 20;

/// Results of a run, counted per test and environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub flaky: u64,
    pub skipped: u64,
    /// Of the passed (and flaky), results with an attempt that failed as expected.
    pub expected_failures: u64,
    /// Of the failed (and flaky), results with an attempt that passed unexpectedly.
    pub unexpected_passes: u64,
}

impl Counts {
    /// `failed` when a result failed, else `flaky` when one was flaky, else `passed`.
    pub fn status(&self) -> &'static str {
        if self.failed > 0 {
            "failed"
        } else if self.flaky > 0 {
            "flaky"
        } else {
            "passed"
        }
    }

    pub(crate) fn add(&mut self, row: &ResultRow) {
        self.expected_failures += u64::from(row.expected_failures > 0);
        self.unexpected_passes += u64::from(row.unexpected_passes > 0);
        match row.outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Flaky => self.flaky += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }
}

/// A run in a project's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    /// The run's segment in URLs (`runs/{key}`).
    pub key: String,
    /// The run's id in the history store.
    pub run_id: i64,
    /// Its number in the project: 1 for the oldest run.
    pub number: usize,
    pub title: Option<String>,
    pub commit_id: String,
    /// The CI job's URL.
    pub url: Option<String>,
    pub start_ms: i64,
    pub duration_ms: i64,
    pub counts: Counts,
    /// Time its failed attempts took (ms): the time lost to retries and failures.
    pub lost_ms: i64,
    /// Names of the environments it has results in, sorted.
    pub environments: Vec<String>,
}

impl RunRow {
    /// `#12 nightly`, or `#12` for a run without a title.
    pub fn name(&self) -> String {
        match self
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) => format!("#{} {t}", self.number),
            None => format!("#{}", self.number),
        }
    }
}

/// An attachment's bytes and its content type.
#[derive(Debug, Clone)]
pub struct AttachmentFile {
    pub body: AttachmentBody,
    pub content_type: String,
}

/// Where an attachment's bytes are.
#[derive(Clone)]
pub enum AttachmentBody {
    /// A regular file (read without following a symbolic link).
    File(PathBuf),
    /// A blob of a store the server reads (object storage): fetched in part or streamed,
    /// never copied whole to show a page.
    Stored(Arc<dyn StoredBlob>),
}

impl std::fmt::Debug for AttachmentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttachmentBody::File(p) => f.debug_tuple("File").field(p).finish(),
            AttachmentBody::Stored(_) => f.write_str("Stored(..)"),
        }
    }
}

/// A streamed body.
pub type ByteStream =
    std::pin::Pin<Box<dyn futures_core::Stream<Item = std::io::Result<axum::body::Bytes>> + Send>>;

/// A boxed future of [`StoredBlob::open`].
pub type OpenFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = std::io::Result<Option<(ByteStream, u64)>>> + Send>,
>;

/// A blob the pages read through its store.
pub trait StoredBlob: Send + Sync {
    /// Its first `max` bytes and its whole length; `None` when it is gone. Blocks (called off
    /// the async runtime).
    fn head(&self, max: u64) -> std::io::Result<Option<(Vec<u8>, u64)>>;
    /// Its bytes, streamed, and its length; `None` when it is gone.
    fn open(&self) -> OpenFuture;
}

impl AttachmentFile {
    /// Its first `max` bytes and its whole length; `None` when it cannot be read. Blocks.
    pub fn head(&self, max: u64) -> Option<(Vec<u8>, u64)> {
        use std::io::Read as _;
        match &self.body {
            AttachmentBody::File(path) => {
                let file = flakiness_report::files::open_no_follow(path).ok()?;
                let len = file.metadata().map_or(0, |m| m.len());
                let mut buf = Vec::new();
                file.take(max).read_to_end(&mut buf).ok()?;
                Some((buf, len))
            }
            AttachmentBody::Stored(blob) => blob.head(max).ok().flatten(),
        }
    }
}

/// One project's data, as the pages need it. Calls may block (they run off the async runtime).
pub trait Project: Send + Sync {
    /// The runs, newest first.
    fn runs(&self) -> Result<Vec<RunRow>, WebError> {
        Ok(self.history()?.newest_first())
    }
    /// A run's report, by its key; `None` when there is no such run.
    fn report(&self, run: &str) -> Result<Option<Report>, WebError>;
    /// An attachment of a run, by id; `None` when the run has none of that id.
    fn attachment(&self, run: &str, id: &str) -> Result<Option<AttachmentFile>, WebError>;
    /// The analyzer's view of the project's history.
    fn analysis(&self) -> Result<Arc<Analysis>, WebError>;
    /// The latest failures of a stored test (by store test id), newest first: the run's key
    /// and the failure.
    fn test_failures(
        &self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(String, FailureRecord)>, WebError>;
    /// The project's runs and every test's results, read once while its runs stay the same.
    fn history(&self) -> Result<Arc<History>, WebError>;
}

/// The projects a site shows.
pub trait Catalog: Send + Sync {
    /// `(org, project)` pairs, sorted.
    fn projects(&self) -> Result<Vec<(String, String)>, WebError>;
    /// One project; `None` when unknown.
    fn project(&self, org: &str, project: &str) -> Result<Option<Arc<dyn Project>>, WebError>;
}
