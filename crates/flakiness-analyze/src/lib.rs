//! The flakiness analyzer: folders of reports (one per CI run) into a history store, and the
//! store into flake classifications, quarantine lists and failure patterns.
//!
//! This part reads reports into the store: [`discover`] finds them, [`load`] reads (bounded,
//! zstd-decompressed when needed) and validates one, [`summarize`] makes it a
//! [`RunRecord`](flakiness_store::RunRecord), and [`ingest_all`] does all of it for a list of
//! sources, skipping (and listing) invalid reports and reports already stored.

mod analysis;
pub mod diff;
mod html;
mod ingest;
mod quarantine;
pub mod shard;
mod signature;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

pub use analysis::{
    analyze, short_commit, Analysis, AnalysisOptions, BrokenSince, Classification, Evidence,
    FixedRegression, Incident, Pattern, SignatureCount, TestAnalysis, TestIncident, TrendPoint,
};
pub use html::{escape, render_html, trend_svg};
pub use quarantine::{
    Quarantine, QuarantineChanges, QuarantineEntry, QuarantineError, QuarantineFormat, Released,
    UnknownQuarantineFormat, QUARANTINE_VERSION,
};
pub use signature::{infra_class, says_something, signature, MAX_SIGNATURE};

pub use ingest::{
    check, check_and_summarize, check_junit, content_hash, discover, failure_kind, load,
    load_keyed, load_run, read_bytes, summarize, summarize_json, summarize_keyed, LoadError,
    LoadLimits, Loaded, Rejected, ReportSource, Skipped, SourceKind, JUNIT_COMMIT_PROPERTIES,
    JUNIT_ENVIRONMENT_PROPERTIES, MAX_MESSAGE, MAX_STACK,
};

use flakiness_store::{HistoryStore, Ingested, KeyedRun, RunMeta, RunRecord, StoreError, TestKeys};
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
    /// A file given by name is not a report (`*.json`, `*.json.zst`, JUnit `*.xml`) nor a
    /// folder.
    #[error("{path}: not a report: give report directories, *.json, *.json.zst or JUnit *.xml files, or folders holding them")]
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

/// The identity of a file for the source cache: (absolute path, size, modification time in ns).
type Stamp = (String, i64, i64);

/// The [`Stamp`] of a file; `None` when the file cannot be looked at (it is then always read).
/// `folders` keeps the canonical path of each folder met: a file that is no symbolic link is
/// in its folder's canonical path, looked up once for all its files (one system call a file
/// instead of one a path component).
fn file_stamp(path: &Path, folders: &mut HashMap<PathBuf, Option<PathBuf>>) -> Option<Stamp> {
    let link = std::fs::symlink_metadata(path).ok()?;
    let (meta, abs) = match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) if !link.is_symlink() && !folder.as_os_str().is_empty() => {
            let folder = folders
                .entry(folder.to_path_buf())
                .or_insert_with(|| std::fs::canonicalize(folder).ok())
                .as_ref()?;
            (link, folder.join(name))
        }
        _ => (
            std::fs::metadata(path).ok()?,
            std::fs::canonicalize(path).ok()?,
        ),
    };
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((
        abs.to_str()?.to_string(),
        i64::try_from(meta.len()).ok()?,
        i64::try_from(mtime).ok()?,
    ))
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, synced, then
/// renamed over it.
pub fn write_file_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    // A page or a list to share: the permissions of the file it replaces, else rw-r--r--
    // (a temporary file would be rw-------).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
/// match one ingested before is not read again; an unreadable or invalid report is skipped and
/// listed (every time). Reports are read, checked and summarised on worker threads (one per
/// core, at most [`LOOKAHEAD`] reports ahead of the store, up to [`MAX_LOOKAHEAD`] while the
/// runs are small), and stored in source order by the calling thread, about [`BATCH_RESULTS`]
/// results per transaction. When the store prefers it ([`HistoryStore::prefers_keyed`]), the
/// workers also number the results' test keys ([`TestKeys`]), so that the store finds their
/// tests by number. Once runs were stored, the store may tidy up in the background
/// ([`HistoryStore::tidy_in_background`]). `progress` is called after each source with how
/// many are done.
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
    let mut done = 0;
    // Files seen before, unchanged, are not read again.
    let mut todo: Vec<(&ReportSource, Option<Stamp>)> = Vec::new();
    let mut folders = HashMap::new();
    let stamps: Vec<Option<Stamp>> = sources
        .iter()
        .map(|source| file_stamp(&source.file(), &mut folders))
        .collect();
    // The hashes remembered for the stamped files, looked up together.
    let asked: Vec<(&str, i64, i64)> = stamps
        .iter()
        .flatten()
        .map(|(key, size, mtime)| (key.as_str(), *size, *mtime))
        .collect();
    let mut remembered = store.source_hashes(&asked)?.into_iter();
    for (source, stamp) in sources.iter().zip(stamps) {
        if stamp.is_some() {
            if let Some(hash) = remembered.next().flatten() {
                if store.contains(&hash)? {
                    summary.already_stored += 1;
                    done += 1;
                    progress(done);
                    continue;
                }
            }
        }
        todo.push((source, stamp));
    }

    let keys = store.prefers_keyed().then(TestKeys::new);
    let keys = keys.as_ref();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    // How many reports the store has taken, and how far ahead of it the workers may read.
    let window = (Mutex::new(0usize), Condvar::new());
    let ahead = AtomicUsize::new(LOOKAHEAD);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| -> Result<(), AnalyzeError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Prepared)>(LOOKAHEAD);
        for _ in 0..workers.min(todo.len()) {
            let tx = tx.clone();
            let (todo, next, window, ahead, stop, validator) =
                (&todo, &next, &window, &ahead, &stop, &validator);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((source, _)) = todo.get(i) else {
                    return;
                };
                // Wait until the store is close enough behind.
                {
                    let (consumed, cv) = window;
                    let mut c = consumed.lock().unwrap_or_else(|e| e.into_inner());
                    while i >= *c + ahead.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
                        c = cv.wait(c).unwrap_or_else(|e| e.into_inner());
                    }
                }
                if stop.load(Ordering::SeqCst)
                    || tx
                        .send((i, prepare(source, limits, validator, keys)))
                        .is_err()
                {
                    return;
                }
            });
        }
        drop(tx);
        let release = |consumed: usize| {
            let (c, cv) = &window;
            *c.lock().unwrap_or_else(|e| e.into_inner()) = consumed;
            cv.notify_all();
        };
        let mut pending: BTreeMap<usize, Prepared> = BTreeMap::new();
        // Files whose runs are stored, remembered in batches (a file not remembered is only
        // read again next time, and found stored).
        let mut remember: Vec<(String, i64, i64, String)> = Vec::new();
        let mut want = 0;
        // Results stored so far: how big the runs are.
        let mut stored_results = 0;
        let result = (|| -> Result<(), AnalyzeError> {
            for (i, prepared) in rx.iter() {
                pending.insert(i, prepared);
                // What is ready, in order, is stored together (one transaction), once it holds
                // BATCH_RESULTS results, or as many runs as the workers may read ahead but
                // theirs, or the last ones.
                let (mut ready, mut results) = (0, 0);
                while let Some(p) = pending.get(&(want + ready)) {
                    ready += 1;
                    results += p.results();
                }
                let most = ahead.load(Ordering::SeqCst).saturating_sub(workers).max(1);
                if ready < most.min(todo.len() - want) && results < BATCH_RESULTS {
                    continue;
                }
                let mut batch = Vec::new();
                while let Some(prepared) = pending.remove(&want) {
                    batch.push((prepared, &todo[want].1));
                    want += 1;
                }
                if batch.is_empty() {
                    continue;
                }
                let n = batch.len();
                stored_results += batch.iter().map(|(p, _)| p.results()).sum::<usize>();
                store_prepared(store, batch, keys, &mut summary, &mut remember)?;
                // Small runs may be read further ahead (bigger transactions, fewer of them);
                // big ones hold more memory each.
                let per_run = stored_results / (want.max(1));
                ahead.store(
                    (2 * BATCH_RESULTS / per_run.max(1)).clamp(LOOKAHEAD, MAX_LOOKAHEAD),
                    Ordering::SeqCst,
                );
                if remember.len() >= REMEMBER_BATCH {
                    store.remember_sources(&remember)?;
                    remember.clear();
                }
                release(want);
                done += n;
                progress(done);
            }
            store.remember_sources(&remember)?;
            Ok(())
        })();
        if result.is_err() {
            // Workers waiting for room, or blocked sending, stop.
            stop.store(true, Ordering::SeqCst);
            release(usize::MAX / 2);
        }
        drop(rx);
        result
    })?;
    if summary.new_runs > 0 {
        // The analysis reads next, on one core.
        store.tidy_in_background();
    }
    Ok(summary)
}

/// Reports read ahead of the store, at most, until the runs are known to be small.
pub const LOOKAHEAD: usize = 16;
/// Reports read ahead of the store, at most, when [`BATCH_RESULTS`] results are that many runs
/// or more (runs of 600 results or fewer).
pub const MAX_LOOKAHEAD: usize = 64;

/// Results stored per transaction (at least one run; at most as many runs as the workers may
/// read ahead, less one per worker): big runs are stored one by one, small ones dozens at a
/// time (a commit costs about as much as storing a run of 500 results).
pub const BATCH_RESULTS: usize = 20_000;

/// Files remembered per transaction of the source cache.
const REMEMBER_BATCH: usize = 256;

/// A report read, checked and summarised by a worker: a run with its keys, or with their
/// numbers (when the store prefers them).
enum Prepared {
    Skipped(Skipped),
    Run(RunRecord),
    Keyed(KeyedRun),
}

impl Prepared {
    /// How many results the run has.
    fn results(&self) -> usize {
        match self {
            Prepared::Skipped(_) => 0,
            Prepared::Run(r) => r.results.len(),
            Prepared::Keyed(r) => r.results.len(),
        }
    }
}

fn prepare(
    source: &ReportSource,
    limits: &LoadLimits,
    validator: &Validator,
    keys: Option<&TestKeys>,
) -> Prepared {
    let prepared = match keys {
        Some(keys) => load_keyed(source, limits, validator, keys).map(Prepared::Keyed),
        None => load_run(source, limits, validator).map(Prepared::Run),
    };
    prepared.unwrap_or_else(|e| Prepared::Skipped(e.into_skipped()))
}

/// Stores a batch of prepared reports in one call of the store (keyed runs when `keys` is
/// given: then every run of the batch is).
fn store_prepared(
    store: &mut dyn HistoryStore,
    batch: Vec<(Prepared, &Option<Stamp>)>,
    keys: Option<&TestKeys>,
    summary: &mut IngestSummary,
    remember: &mut Vec<(String, i64, i64, String)>,
) -> Result<(), AnalyzeError> {
    let mut records: Vec<&RunRecord> = Vec::new();
    let mut keyed: Vec<&KeyedRun> = Vec::new();
    let mut stamps: Vec<(&RunMeta, &Option<Stamp>)> = Vec::with_capacity(batch.len());
    for (prepared, stamp) in &batch {
        match prepared {
            Prepared::Skipped(skip) => summary.skipped.push(skip.clone()),
            Prepared::Run(record) => {
                records.push(record);
                stamps.push((&record.meta, stamp));
            }
            Prepared::Keyed(run) => {
                keyed.push(run);
                stamps.push((&run.meta, stamp));
            }
        }
    }
    let outcomes = match keys {
        Some(keys) => store.ingest_keyed(&keyed, keys)?,
        None => store.ingest_many(&records)?,
    };
    for (outcome, (meta, stamp)) in outcomes.into_iter().zip(stamps) {
        match outcome {
            Ingested::New { .. } => summary.new_runs += 1,
            Ingested::AlreadyPresent => summary.already_stored += 1,
        }
        if let Some((key, size, mtime)) = stamp {
            remember.push((key.clone(), *size, *mtime, meta.content_hash.clone()));
        }
    }
    Ok(())
}
