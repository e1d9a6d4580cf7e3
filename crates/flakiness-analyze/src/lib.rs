//! The flakiness analyzer: folders of reports (one per CI run) into a history store, and the
//! store into flake classifications, quarantine lists and failure patterns.
//!
//! This part reads reports into the store: [`discover`] finds them, [`load`] reads (bounded,
//! zstd-decompressed when needed) and validates one, [`summarize`] makes it a
//! [`RunRecord`](flakiness_store::RunRecord), and [`ingest_all`] does all of it for a list of
//! sources, skipping (and listing) invalid reports and reports already stored.

mod analysis;
mod html;
mod ingest;
mod quarantine;
mod signature;

use std::path::{Path, PathBuf};

pub use analysis::{
    analyze, short_commit, Analysis, AnalysisOptions, BrokenSince, Classification, Evidence,
    Incident, Pattern, SignatureCount, TestAnalysis, TrendPoint,
};
pub use html::{escape, render_html};
pub use quarantine::{
    Quarantine, QuarantineChanges, QuarantineEntry, QuarantineError, Released, QUARANTINE_VERSION,
};
pub use signature::{signature, MAX_SIGNATURE};

pub use ingest::{
    check, content_hash, discover, failure_kind, load, read_bytes, summarize, LoadLimits, Loaded,
    ReportSource, Skipped, SourceKind, MAX_MESSAGE, MAX_STACK,
};

use flakiness_store::{HistoryStore, Ingested, StoreError};
use flakiness_validate::Validator;

/// Errors that stop an analysis (a bad report never does: it is [`Skipped`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// A path given cannot be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file given by name is not a report (`*.json`, `*.json.zst`) nor a folder.
    #[error("{path}: not a report: give report directories, *.json or *.json.zst files, or folders holding them")]
    NotAReport { path: PathBuf },
    /// The history store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AnalyzeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        AnalyzeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The identity of a file for the source cache: (absolute path, size, modification time in
/// ns); `None` when the file cannot be looked at (it is then always read).
fn file_stamp(path: &Path) -> Option<(String, i64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let abs = std::fs::canonicalize(path).ok()?;
    Some((
        abs.to_str()?.to_string(),
        i64::try_from(meta.len()).ok()?,
        i64::try_from(mtime).ok()?,
    ))
}

/// What [`ingest_all`] did.
#[derive(Debug, Default)]
pub struct IngestSummary {
    /// Runs stored by this call.
    pub new_runs: usize,
    /// Reports whose content was already stored.
    pub already_stored: usize,
    /// Reports that could not be used, with why.
    pub skipped: Vec<Skipped>,
}

/// Reads every source into `store`, in order. A file whose path, size and modification time
/// match one ingested before is not read again; a report whose content hash is stored already
/// is not validated again; an unreadable or invalid report is skipped and listed (every time). `progress` is
/// called after each source with how many are done.
pub fn ingest_all(
    store: &mut dyn HistoryStore,
    sources: &[ReportSource],
    limits: &LoadLimits,
    mut progress: impl FnMut(usize),
) -> Result<IngestSummary, AnalyzeError> {
    let validator = Validator::new(flakiness_validate::Options::default()).map_err(|e| {
        AnalyzeError::io(
            Path::new("(schema)"),
            std::io::Error::other(format!("the report schema does not compile: {e}")),
        )
    })?;
    let mut summary = IngestSummary::default();
    for (i, source) in sources.iter().enumerate() {
        // A file seen before with the same size and modification time is not read again.
        let file = source.file();
        let stamp = file_stamp(&file);
        if let Some((key, size, mtime)) = &stamp {
            if let Some(hash) = store.source_hash(key, *size, *mtime)? {
                if store.contains(&hash)? {
                    summary.already_stored += 1;
                    progress(i + 1);
                    continue;
                }
            }
        }
        match read_bytes(source, limits) {
            Err(skip) => summary.skipped.push(skip),
            Ok(bytes) => {
                let hash = content_hash(&bytes);
                let stored = if store.contains(&hash)? {
                    summary.already_stored += 1;
                    true
                } else {
                    match check(source, &bytes, &validator) {
                        Err(skip) => {
                            summary.skipped.push(skip);
                            false
                        }
                        Ok(loaded) => {
                            let record = summarize(
                                &loaded.report,
                                &source.path.display().to_string(),
                                &hash,
                            );
                            match store.ingest(&record)? {
                                Ingested::New { .. } => summary.new_runs += 1,
                                Ingested::AlreadyPresent => summary.already_stored += 1,
                            }
                            true
                        }
                    }
                };
                if let (true, Some((key, size, mtime))) = (stored, &stamp) {
                    store.remember_source(key, *size, *mtime, &hash)?;
                }
            }
        }
        progress(i + 1);
    }
    Ok(summary)
}
