//! Upload load: many distinct uploads of one report directory, several at a time, spread over
//! one or more `flakiness serve` endpoints (`flakiness-bench upload-load`, used by
//! `bench/replicas.sh`).
//!
//! * **Distinct reports.** The server recognises a report it already has by its content, so
//!   every upload must differ: each worker has a working directory of its own whose
//!   `attachments/` holds hard links to the base directory's attachment files (copies where a
//!   link cannot be made, e.g. across file systems), and before each upload its `report.json`
//!   is written again from the base's bytes with the base's `commitId` value replaced, byte for
//!   byte, by a unique id of the same length (40 hex digits: 24 from the seed, then the upload's
//!   number in 16). Nothing else changes, so every upload sends the same number of bytes.
//! * **Client-side balancing.** Upload `i` (from 0) goes to endpoint `i % n` of the `n`
//!   endpoints given, round-robin; there is no balancer in between.
//! * **In-process clients.** Each upload is one call of [`flakiness_upload::upload`] (the
//!   library behind `flakiness upload`: validation, compression, the protocol with its
//!   retries, a new HTTP client and so new connections per upload, as separate CI jobs would
//!   have), `concurrency` at a time on a multi-threaded tokio runtime; a worker takes the next
//!   upload as soon as its last one finished.
//! * **What is measured.** The wall time from the first upload's start to the last one's end,
//!   and each upload's latency: one `upload()` call, start to finish (report.json written
//!   before the clock starts). Latency percentiles are over every call, failed ones included.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flakiness_report::{ATTACHMENTS_DIR, REPORT_FILE};
use flakiness_upload::{Secret, UploadOptions};

use crate::rng::Rng;

/// Length of a commit id (hex digits of a SHA-1).
pub const COMMIT_ID_LEN: usize = 40;

/// Failures shown one by one on stderr; the others are counted.
const SHOWN_FAILURES: usize = 5;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The base report directory (`report.json` and `attachments/`).
    pub base: PathBuf,
    /// Server roots; upload `i` goes to `endpoints[i % endpoints.len()]`.
    pub endpoints: Vec<String>,
    /// The access token (of `project`).
    pub token: String,
    /// `org/project`.
    pub project: String,
    /// Uploads in all.
    pub uploads: usize,
    /// Uploads at once.
    pub concurrency: usize,
    /// Seed of the commit ids.
    pub seed: u64,
}

/// What a load run did (printed as one JSON object, camelCase keys).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadSummary {
    /// Uploads attempted.
    pub uploads: usize,
    /// Uploads that failed (after the client's own retries).
    pub failed: usize,
    pub concurrency: usize,
    /// Number of endpoints the uploads were spread over.
    pub endpoints: usize,
    /// Wall time of all the uploads.
    pub seconds: f64,
    /// Successful uploads per second of wall time.
    pub uploads_per_second: f64,
    /// Latency of one upload, in milliseconds: median, 95th percentile, maximum.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// report.json plus the attachment files, in bytes, before compression.
    pub bytes_per_upload: u64,
    /// Requests the client retried, summed over the successful uploads.
    pub retries: u64,
    /// Successful uploads the server said it already had (0 when every report is distinct).
    pub already_uploaded: usize,
    /// Uploads per second in each tenth of the run: the successful uploads in the order they
    /// ended, cut into ten equal parts, each part's count over the time it took (a falling
    /// rate shows the server slowing down as its state grows).
    pub tenths_per_second: Vec<f64>,
}

/// Why a load run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a report.json: {message}")]
    NotAReport { path: PathBuf, message: String },
    #[error("{path}: the commitId {commit_id:?} is not {COMMIT_ID_LEN} hex digits")]
    BadCommitId { path: PathBuf, commit_id: String },
    #[error("{path}: the commitId {commit_id:?} does not occur as a JSON string in the file")]
    CommitIdNotFound { path: PathBuf, commit_id: String },
    #[error("{path}: not a regular file (attachments/ should hold files only)")]
    NotAFile { path: PathBuf },
    #[error("at least one endpoint is needed")]
    NoEndpoint,
    #[error("--uploads and --concurrency must be at least 1")]
    Zero,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The base report.json and where its commit id is.
#[derive(Debug, Clone)]
pub struct BaseReport {
    bytes: Vec<u8>,
    /// Offsets of the commit id's 40 digits (each occurrence of the quoted id).
    at: Vec<usize>,
}

impl BaseReport {
    /// Reads `dir/report.json` and finds its `commitId`.
    pub fn read(dir: &Path) -> Result<Self, LoadError> {
        let path = dir.join(REPORT_FILE);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        Self::from_bytes(bytes, &path)
    }

    /// `bytes` of a report.json (`path` for the messages).
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Self, LoadError> {
        #[derive(serde::Deserialize)]
        struct Head {
            #[serde(rename = "commitId")]
            commit_id: String,
        }
        let head: Head = serde_json::from_slice(&bytes).map_err(|e| LoadError::NotAReport {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let id = head.commit_id;
        if id.len() != COMMIT_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LoadError::BadCommitId {
                path: path.to_path_buf(),
                commit_id: id,
            });
        }
        let quoted = format!("\"{id}\"");
        let at: Vec<usize> = bytes
            .windows(quoted.len())
            .enumerate()
            .filter(|(_, w)| *w == quoted.as_bytes())
            .map(|(i, _)| i + 1)
            .collect();
        if at.is_empty() {
            return Err(LoadError::CommitIdNotFound {
                path: path.to_path_buf(),
                commit_id: id,
            });
        }
        Ok(BaseReport { bytes, at })
    }

    /// The base's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A distinct report.json: the base's bytes with `commit_id` (40 ASCII characters) in
    /// place of its commit id, written into `out` (cleared first).
    pub fn render_into(&self, commit_id: &str, out: &mut Vec<u8>) {
        debug_assert_eq!(commit_id.len(), COMMIT_ID_LEN);
        out.clear();
        out.extend_from_slice(&self.bytes);
        for &i in &self.at {
            out[i..i + COMMIT_ID_LEN].copy_from_slice(commit_id.as_bytes());
        }
    }
}

/// The unique commit id of upload `index` under `seed`: 24 hex digits of the seed, then
/// `index` in 16.
pub fn commit_id(seed: u64, index: usize) -> String {
    let prefix = Rng::derive(seed, 0x10AD, 0).hex(COMMIT_ID_LEN - 16);
    format!("{prefix}{:016x}", index as u64)
}

/// Makes `work/attachments/` with a hard link (else a copy) of each file of `base/attachments/`;
/// returns the bytes of those files.
pub fn link_attachments(base: &Path, work: &Path) -> Result<u64, LoadError> {
    let from = base.join(ATTACHMENTS_DIR);
    let to = work.join(ATTACHMENTS_DIR);
    std::fs::create_dir_all(&to).map_err(io(&to))?;
    let entries = match std::fs::read_dir(&from) {
        Ok(e) => e,
        // A report without attachments.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(&from)(e)),
    };
    let mut bytes = 0;
    for entry in entries {
        let entry = entry.map_err(io(&from))?;
        let src = entry.path();
        let meta = std::fs::metadata(&src).map_err(io(&src))?;
        if !meta.is_file() {
            return Err(LoadError::NotAFile { path: src });
        }
        let dst = to.join(entry.file_name());
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(io(&dst))?;
        }
        bytes += meta.len();
    }
    Ok(bytes)
}

/// One upload's outcome.
struct Outcome {
    latency: Duration,
    /// When it ended, from the start of the run.
    finished: Duration,
    result: Result<(u32, bool), String>,
}

/// Runs the load: `opts.uploads` distinct uploads, `opts.concurrency` at a time. Failed uploads
/// are counted (the first few printed on stderr); an error is returned only when the run cannot
/// start.
pub fn run(opts: &LoadOptions) -> Result<LoadSummary, LoadError> {
    if opts.endpoints.is_empty() {
        return Err(LoadError::NoEndpoint);
    }
    if opts.uploads == 0 || opts.concurrency == 0 {
        return Err(LoadError::Zero);
    }
    let base = Arc::new(BaseReport::read(&opts.base)?);
    let workers = opts.concurrency.min(opts.uploads);
    let scratch = tempfile::Builder::new()
        .prefix("flakiness-upload-load.")
        .tempdir()
        .map_err(io(&std::env::temp_dir()))?;
    let mut dirs = Vec::with_capacity(workers);
    let mut attachment_bytes = 0;
    for w in 0..workers {
        let dir = scratch.path().join(format!("w{w}"));
        attachment_bytes = link_attachments(&opts.base, &dir)?;
        dirs.push(dir);
    }
    let bytes_per_upload = base.bytes().len() as u64 + attachment_bytes;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io(&opts.base))?;
    let next = Arc::new(AtomicUsize::new(0));
    let shown = Arc::new(AtomicUsize::new(0));
    let endpoints: Arc<Vec<UploadOptions>> = Arc::new(
        opts.endpoints
            .iter()
            .map(|e| {
                let mut o = UploadOptions::new(e.clone());
                o.access_token = Some(Secret::new(opts.token.clone()));
                o.project = Some(opts.project.clone());
                o
            })
            .collect(),
    );
    let (total, seed) = (opts.uploads, opts.seed);
    let started = Instant::now();
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for dir in dirs {
            let (base, next, shown, endpoints) =
                (base.clone(), next.clone(), shown.clone(), endpoints.clone());
            tasks.spawn(async move {
                let mut done = Vec::new();
                let mut buf = Vec::with_capacity(base.bytes().len());
                let report = dir.join(REPORT_FILE);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    base.render_into(&commit_id(seed, i), &mut buf);
                    let result = match tokio::fs::write(&report, &buf).await {
                        Ok(()) => None,
                        Err(e) => Some(format!("{}: {e}", report.display())),
                    };
                    let endpoint = &endpoints[i % endpoints.len()];
                    let t0 = Instant::now();
                    let result = match result {
                        Some(e) => Err(e),
                        None => flakiness_upload::upload(&dir, endpoint, None)
                            .await
                            .map(|u| (u.retries, u.already_uploaded))
                            .map_err(|e| e.to_string()),
                    };
                    let latency = t0.elapsed();
                    let finished = started.elapsed();
                    if let Err(e) = &result {
                        if shown.fetch_add(1, Ordering::Relaxed) < SHOWN_FAILURES {
                            eprintln!(
                                "upload {i} to {} failed after {:.1} s: {e}",
                                endpoint.endpoint,
                                latency.as_secs_f64()
                            );
                        }
                    }
                    done.push(Outcome {
                        latency,
                        finished,
                        result,
                    });
                }
                done
            });
        }
        let mut all = Vec::with_capacity(total);
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(done) => all.extend(done),
                Err(e) => eprintln!("a worker stopped: {e}"),
            }
        }
        all
    });
    let seconds = started.elapsed().as_secs_f64();
    drop(runtime);

    let mut summary = summarize(&outcomes, seconds);
    // Uploads a stopped worker never reported count as failed.
    summary.failed += total.saturating_sub(outcomes.len());
    summary.uploads = total;
    summary.concurrency = opts.concurrency;
    summary.endpoints = opts.endpoints.len();
    summary.uploads_per_second =
        ((total - summary.failed) as f64 / seconds.max(1e-9) * 100.0).round() / 100.0;
    summary.bytes_per_upload = bytes_per_upload;
    if summary.failed > SHOWN_FAILURES {
        eprintln!(
            "{} failed uploads in all ({} shown)",
            summary.failed, SHOWN_FAILURES
        );
    }
    Ok(summary)
}

/// The counts and latency percentiles of `outcomes` (nearest-rank percentiles).
fn summarize(outcomes: &[Outcome], seconds: f64) -> LoadSummary {
    let mut ms: Vec<f64> = outcomes
        .iter()
        .map(|o| o.latency.as_secs_f64() * 1e3)
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if ms.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
        ms[rank.clamp(1, ms.len()) - 1]
    };
    let ok = outcomes.iter().filter_map(|o| o.result.as_ref().ok());
    let (retries, already) = ok.fold((0u64, 0usize), |(r, a), &(retries, dup)| {
        (r + u64::from(retries), a + usize::from(dup))
    });
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let mut ends: Vec<f64> = outcomes
        .iter()
        .filter(|o| o.result.is_ok())
        .map(|o| o.finished.as_secs_f64())
        .collect();
    ends.sort_by(f64::total_cmp);
    let tenths = if ends.len() >= 10 {
        (0..10)
            .map(|k| {
                let (from, to) = (k * ends.len() / 10, (k + 1) * ends.len() / 10);
                let since = if from == 0 { 0.0 } else { ends[from - 1] };
                round((to - from) as f64 / (ends[to - 1] - since).max(1e-9))
            })
            .collect()
    } else {
        Vec::new()
    };
    LoadSummary {
        uploads: outcomes.len(),
        failed: outcomes.iter().filter(|o| o.result.is_err()).count(),
        concurrency: 0,
        endpoints: 0,
        seconds: (seconds * 1e3).round() / 1e3,
        uploads_per_second: 0.0,
        p50_ms: round(pct(50.0)),
        p95_ms: round(pct(95.0)),
        max_ms: round(ms.last().copied().unwrap_or(0.0)),
        bytes_per_upload: 0,
        retries,
        already_uploaded: already,
        tenths_per_second: tenths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"{"category":"playwright","commitId":"0123456789abcdef0123456789abcdef01234567","relatedCommitIds":["fedcba9876543210fedcba9876543210fedcba98"],"tests":[]}"#;

    /// The bytes where `a` and `b` differ.
    fn differing(a: &[u8], b: &[u8]) -> Vec<usize> {
        assert_eq!(a.len(), b.len());
        (0..a.len()).filter(|&i| a[i] != b[i]).collect()
    }

    #[test]
    fn uploads_differ_only_in_the_commit_id() {
        let base = BaseReport::from_bytes(BASE.as_bytes().to_vec(), Path::new("report.json"))
            .expect("a base report");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        base.render_into(&commit_id(7, 0), &mut a);
        base.render_into(&commit_id(7, 1), &mut b);
        assert_ne!(a, b);
        let start = BASE.find("0123456789abcdef0123").expect("the id");
        for i in differing(&a, &b) {
            assert!((start..start + COMMIT_ID_LEN).contains(&i), "byte {i}");
        }
        for (bytes, index) in [(&a, 0), (&b, 1)] {
            let v: serde_json::Value = serde_json::from_slice(bytes).expect("JSON");
            assert_eq!(v["commitId"], commit_id(7, index));
            assert_eq!(
                v["relatedCommitIds"][0],
                "fedcba9876543210fedcba9876543210fedcba98"
            );
            let mut back = v.clone();
            back["commitId"] = "0123456789abcdef0123456789abcdef01234567".into();
            let orig: serde_json::Value = serde_json::from_str(BASE).expect("JSON");
            assert_eq!(back, orig);
        }
    }

    #[test]
    fn commit_ids_are_unique_hex_of_forty_digits() {
        let ids: std::collections::BTreeSet<String> = (0..1000).map(|i| commit_id(3, i)).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        assert_ne!(commit_id(3, 0), commit_id(4, 0));
    }

    #[test]
    fn a_generated_report_is_rewritten_and_its_attachments_linked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("base");
        crate::generate(
            &dir,
            crate::GenOptions {
                target_bytes: 50_000,
                seed: 1,
                attachments: 6,
            },
        )
        .expect("generate");
        let base = BaseReport::read(&dir).expect("base");
        let mut out = Vec::new();
        base.render_into(&commit_id(1, 42), &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(v["commitId"], commit_id(1, 42));
        let work = tmp.path().join("w0");
        let bytes = link_attachments(&dir, &work).expect("links");
        assert!(bytes > 0);
        let count = |d: &Path| {
            std::fs::read_dir(d.join(ATTACHMENTS_DIR))
                .expect("dir")
                .count()
        };
        assert!(count(&dir) > 0);
        assert_eq!(count(&work), count(&dir));
    }

    #[test]
    fn a_report_without_its_commit_id_string_is_refused() {
        let bad = br#"{"commitId":"abc"}"#.to_vec();
        assert!(matches!(
            BaseReport::from_bytes(bad, Path::new("r.json")),
            Err(LoadError::BadCommitId { .. })
        ));
        let escaped = br#"{"commitId":"\u0030123456789abcdef0123456789abcdef01234567"}"#.to_vec();
        assert!(matches!(
            BaseReport::from_bytes(escaped, Path::new("r.json")),
            Err(LoadError::CommitIdNotFound { .. })
        ));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let outcomes: Vec<Outcome> = (1..=100)
            .map(|ms| Outcome {
                latency: Duration::from_millis(ms),
                finished: Duration::from_millis(ms * 10),
                result: if ms == 100 {
                    Err("boom".into())
                } else {
                    Ok((1, false))
                },
            })
            .collect();
        let s = summarize(&outcomes, 2.0);
        assert_eq!((s.p50_ms, s.p95_ms, s.max_ms), (50.0, 95.0, 100.0));
        assert_eq!((s.failed, s.retries, s.already_uploaded), (1, 99, 0));
        // 99 successes ending every 10 ms: 9 or 10 per 0.09-0.1 s, 100 a second.
        assert_eq!(s.tenths_per_second, vec![100.0; 10]);
    }
}
