//! Runs' reports, with their attachments, from `flakiness serve`'s read API into report
//! directories: what the official CLI's `download` does, for a server of our own.
//!
//! `GET /api/projects/{org}/{project}/runs?limit=N` names the newest runs,
//! `…/runs/{run}/report` is a run's `report.json` as it was uploaded and
//! `…/runs/{run}/attachments/{id}` each attachment it references. Every answer is read with a
//! bound, every attachment checked against its id (an MD5 of the content), the report
//! validated, and the directory written through [`ReportDirWriter`]: a download that fails
//! leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flakiness_report::{ReportDirWriter, ATTACHMENTS_DIR, REPORT_FILE};
use md5::{Digest, Md5};
use reqwest::header::AUTHORIZATION;
use reqwest::Url;
use tokio::io::AsyncWriteExt;

use crate::client::{error_chain, http_client, read_capped, Capped, Session};
use crate::{Progress, Secret, UploadError};

/// How to download.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Server root, e.g. `http://127.0.0.1:8080` (a path after the host is kept).
    pub endpoint: String,
    /// `org/project`.
    pub project: String,
    /// The server's read token (`FLAKINESS_READ_TOKEN`), when it has one.
    pub read_token: Option<Secret>,
    /// Attachments fetched at once.
    pub concurrency: usize,
    /// Connecting, per attempt.
    pub connect_timeout: Duration,
    /// Silence while reading an answer, per attempt.
    pub idle_timeout: Duration,
    /// One whole request, per attempt.
    pub request_timeout: Duration,
    /// Attempts after the first, for failures a retry can help with (as for uploads:
    /// connection errors, timeouts, 5xx, 429).
    pub retries: u32,
    /// The first pause between attempts (doubled each time, with jitter).
    pub backoff: Duration,
    /// Largest `report.json` read (default 1 GiB, the server's own limit).
    pub max_report_bytes: u64,
    /// Largest attachment read (default 256 MiB, the server's own limit).
    pub max_attachment_bytes: u64,
}

impl DownloadOptions {
    /// Defaults for `endpoint` and `project`: no token, 8 attachments at once, 10 s to connect,
    /// 60 s of silence, 300 s a request, 4 retries from 500 ms.
    pub fn new(endpoint: impl Into<String>, project: impl Into<String>) -> Self {
        DownloadOptions {
            endpoint: endpoint.into(),
            project: project.into(),
            read_token: None,
            concurrency: 8,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(300),
            retries: 4,
            backoff: Duration::from_millis(500),
            max_report_bytes: 1 << 30,
            max_attachment_bytes: 256 << 20,
        }
    }
}

/// Longest run list read.
pub const RUN_LIST_MAX: usize = 16 << 20;

/// What one run's download wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The run id.
    pub run: i64,
    /// The report directory.
    pub path: PathBuf,
    /// Bytes of `report.json`.
    pub report_bytes: u64,
    /// Attachments written, and their bytes.
    pub attachments: usize,
    pub attachment_bytes: u64,
    /// Attachments the report references that the server does not have (the upload did not
    /// send them): `validate` warns about them.
    pub missing: Vec<String>,
    /// Attachments whose id is not an MD5, so their content could not be checked against it.
    pub unverified: usize,
    /// Warnings of the report's validation.
    pub warnings: usize,
    /// Requests retried.
    pub retries: u32,
}

/// Why a download failed. Tokens never appear in these messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    #[error("{endpoint}: not a URL: {message}")]
    BadEndpoint { endpoint: String, message: String },
    #[error("{0:?}: a project is `org/project`")]
    BadProject(String),
    /// 401 or 403: no read token where the server needs one, or not its token.
    #[error("the server refused to read ({step} answered {status}: {message}): {hint}")]
    Refused {
        step: String,
        status: u16,
        message: String,
        hint: &'static str,
    },
    /// 404: no such project or run.
    #[error("{what}: not on the server ({step} answered 404)")]
    NotFound { what: String, step: String },
    #[error("{step}: the server answered {status}: {message}")]
    Status {
        step: String,
        status: u16,
        message: String,
    },
    #[error("{step}: {message}")]
    Network { step: String, message: String },
    #[error("{step}: unexpected answer: {message}")]
    Protocol { step: String, message: String },
    #[error("{step}: the answer is larger than {limit} bytes")]
    TooLarge { step: String, limit: u64 },
    /// An attachment whose content is not what its id (an MD5) says.
    #[error("attachment {id}: the content the server sent has MD5 {actual}, not its id")]
    Mismatch { id: String, actual: String },
    #[error("{path}: the downloaded report is invalid: {first} ({count} problem(s) in all)")]
    Invalid {
        path: PathBuf,
        first: String,
        count: usize,
    },
    #[error(transparent)]
    Report(#[from] flakiness_report::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the `Refused` error says to do.
const HINT_NO_TOKEN: &str = "the server needs its read token: set FLAKINESS_READ_TOKEN";
const HINT_WRONG_TOKEN: &str = "FLAKINESS_READ_TOKEN is not this server's read token";

/// Downloads from one server and project (a client and a runtime of its own: call it from
/// code without an async runtime).
pub struct Downloader {
    rt: tokio::runtime::Runtime,
    session: Arc<Session>,
    /// The endpoint with the project's path: `…/api/projects/{org}/{project}`.
    project_url: Url,
    opts: DownloadOptions,
    validator: flakiness_validate::Validator,
}

impl std::fmt::Debug for Downloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloader")
            .field("project_url", &self.project_url.as_str())
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DownloadError + '_ {
    move |source| DownloadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `url` with more path segments (each percent-encoded).
fn with_segments(url: &Url, segments: &[&str]) -> Url {
    let mut url = url.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

impl Downloader {
    /// Checks the endpoint and the project, builds the client and the report validator.
    pub fn new(opts: DownloadOptions) -> Result<Self, DownloadError> {
        let bad_endpoint = |message: String| DownloadError::BadEndpoint {
            endpoint: opts.endpoint.clone(),
            message,
        };
        let endpoint = Url::parse(&opts.endpoint).map_err(|e| bad_endpoint(e.to_string()))?;
        if endpoint.cannot_be_a_base() || !matches!(endpoint.scheme(), "http" | "https") {
            return Err(bad_endpoint("expected http:// or https://".into()));
        }
        let (org, project) = opts
            .project
            .split_once('/')
            .filter(|(o, p)| !o.is_empty() && !p.is_empty() && !p.contains('/'))
            .ok_or_else(|| DownloadError::BadProject(opts.project.clone()))?;
        let project_url = with_segments(&endpoint, &["api", "projects", org, project]);
        let client = http_client(
            opts.connect_timeout,
            opts.idle_timeout,
            opts.request_timeout,
        )
        .map_err(|message| DownloadError::Network {
            step: "client".into(),
            message,
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| DownloadError::Network {
                step: "runtime".into(),
                message: e.to_string(),
            })?;
        let validator = flakiness_validate::Validator::new(flakiness_validate::Options::default())
            .map_err(|e| DownloadError::Protocol {
                step: "validator".into(),
                message: e.to_string(),
            })?;
        let session = Session {
            client,
            max_retries: opts.retries,
            backoff: opts.backoff,
            retries: AtomicU64::new(0),
            secrets: opts
                .read_token
                .iter()
                .map(|t| t.expose().to_string())
                .collect(),
        };
        Ok(Downloader {
            rt,
            session: Arc::new(session),
            project_url,
            opts,
            validator,
        })
    }

    /// The ids of the project's newest `n` runs, newest first.
    pub fn latest(&self, n: usize) -> Result<Vec<i64>, DownloadError> {
        #[derive(serde::Deserialize)]
        struct Run {
            id: i64,
        }
        let runs: Vec<Run> = self.project_json(&["runs"], &[("limit", n.to_string())])?;
        Ok(runs.into_iter().take(n).map(|r| r.id).collect())
    }

    /// `GET` of a JSON document of the project's read API (`segments` after
    /// `/api/projects/{org}/{project}/`, with `query`), with the read token, retried as uploads
    /// are, at most [`RUN_LIST_MAX`] bytes: the run list, `flakiness shard`'s durations.
    pub fn project_json<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, DownloadError> {
        let mut url = with_segments(&self.project_url, segments);
        for (k, v) in query {
            url.query_pairs_mut().append_pair(k, v);
        }
        let project = format!("project {}", self.opts.project);
        let step = segments.last().copied().unwrap_or("project");
        self.rt.block_on(async {
            let resp = self.get(&url, step, &project).await?;
            let body = read_capped(resp, RUN_LIST_MAX, false)
                .await
                .map_err(|e| capped(e, step, RUN_LIST_MAX as u64))?;
            serde_json::from_slice(&body).map_err(|e| DownloadError::Protocol {
                step: step.into(),
                message: e.to_string(),
            })
        })
    }

    /// Downloads run `run` into `writer` (see [`ReportDirWriter`]): `report.json`, then the
    /// attachments it references, each checked against its id; validates the report and
    /// moves the directory into place. `progress` hears bytes received and the bytes known
    /// so far in all.
    pub fn download(
        &self,
        run: i64,
        writer: ReportDirWriter,
        progress: Option<Progress>,
    ) -> Result<Downloaded, DownloadError> {
        let staging = writer.staging_path().to_path_buf();
        let run_text = run.to_string();
        let run_url = with_segments(&self.project_url, &["runs", &run_text]);
        let what = format!("run {run} of {}", self.opts.project);
        let received = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let tick = {
            let (received, total) = (received.clone(), total.clone());
            Arc::new(move |n: u64, more: u64| {
                let t = total.fetch_add(more, Ordering::Relaxed) + more;
                let now = received.fetch_add(n, Ordering::Relaxed) + n;
                if let Some(p) = &progress {
                    p(now, t);
                }
            })
        };
        let retries_before = self.session.retries.load(Ordering::Relaxed);

        // report.json, as it was uploaded.
        let report_path = staging.join(REPORT_FILE);
        let report_bytes = self.rt.block_on(async {
            let url = with_segments(&run_url, &["report"]);
            let resp = self.get(&url, "report", &what).await?;
            let saved = save(
                resp,
                &report_path,
                self.opts.max_report_bytes,
                "report",
                &*tick,
            )
            .await?;
            Ok::<u64, DownloadError>(saved.bytes)
        })?;
        let json = std::fs::read(&report_path).map_err(io(&report_path))?;
        let refs =
            flakiness_report::attachment_refs(&json).map_err(|e| DownloadError::Invalid {
                path: report_path.clone(),
                first: e.to_string(),
                count: 1,
            })?;
        drop(json);

        // Its attachments, at most `concurrency` at once; an id that is not a file name is
        // never asked for (validation refuses the report).
        let ids: Vec<String> = refs
            .attachments
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| flakiness_report::check_attachment_id(id).is_ok())
            .collect();
        let fetched = self.rt.block_on(async {
            let limit = Arc::new(tokio::sync::Semaphore::new(self.opts.concurrency.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            for id in ids {
                let permit = limit.clone();
                let session = self.session.clone();
                let url = with_segments(&run_url, &["attachments", &id]);
                let path = staging.join(ATTACHMENTS_DIR).join(&id);
                let (max, tick, token) = (
                    self.opts.max_attachment_bytes,
                    tick.clone(),
                    self.opts.read_token.clone(),
                );
                tasks.spawn(async move {
                    let _permit = permit.acquire_owned().await.ok();
                    let step = format!("attachment {id}");
                    let resp = match get(&session, token.as_ref(), &url, &step, &id).await {
                        Ok(resp) => resp,
                        Err(DownloadError::NotFound { .. }) => return Ok((id, None)),
                        Err(e) => return Err(e),
                    };
                    let saved = save(resp, &path, max, &step, &*tick).await?;
                    Ok((id, Some(saved)))
                });
            }
            let mut fetched = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok(Ok(one)) => fetched.push(one),
                    Ok(Err(e)) => {
                        tasks.abort_all();
                        return Err(e);
                    }
                    Err(e) => {
                        tasks.abort_all();
                        return Err(DownloadError::Network {
                            step: "attachments".into(),
                            message: e.to_string(),
                        });
                    }
                }
            }
            Ok(fetched)
        })?;
        let mut done = Downloaded {
            run,
            path: PathBuf::new(),
            report_bytes,
            attachments: 0,
            attachment_bytes: 0,
            missing: Vec::new(),
            unverified: 0,
            warnings: 0,
            retries: 0,
        };
        for (id, saved) in fetched {
            let Some(saved) = saved else {
                done.missing.push(id);
                continue;
            };
            if is_md5_id(&id) {
                if saved.md5 != id {
                    return Err(DownloadError::Mismatch {
                        id,
                        actual: saved.md5,
                    });
                }
            } else {
                done.unverified += 1;
            }
            done.attachments += 1;
            done.attachment_bytes += saved.bytes;
        }
        done.missing.sort();

        let outcome =
            self.validator
                .validate_file(&report_path)
                .map_err(|e| DownloadError::Invalid {
                    path: report_path.clone(),
                    first: e.to_string(),
                    count: 1,
                })?;
        if let Some(p) = outcome.errors.first() {
            return Err(DownloadError::Invalid {
                path: report_path,
                first: format!("{}:{}: {}", p.line, p.column, p.message),
                count: outcome.errors.len() + outcome.errors_omitted,
            });
        }
        done.warnings = outcome.warnings.len() + outcome.warnings_omitted;
        done.path = writer.commit()?;
        done.retries = (self.session.retries.load(Ordering::Relaxed) - retries_before) as u32;
        Ok(done)
    }

    async fn get(
        &self,
        url: &Url,
        step: &str,
        what: &str,
    ) -> Result<reqwest::Response, DownloadError> {
        get(
            &self.session,
            self.opts.read_token.as_ref(),
            url,
            step,
            what,
        )
        .await
    }
}

/// Whether an id is an MD5 in lowercase hex, as the format recommends (and every writer of
/// ours makes): then the content must hash to it.
fn is_md5_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `GET url` with the read token, retried as uploads are; `what` names what a 404 is about.
async fn get(
    session: &Session,
    token: Option<&Secret>,
    url: &Url,
    step: &str,
    what: &str,
) -> Result<reqwest::Response, DownloadError> {
    session
        .send(step, || {
            let r = session.client.get(url.clone());
            match token {
                Some(t) => r.header(AUTHORIZATION, format!("Bearer {}", t.expose())),
                None => r,
            }
        })
        .await
        .map_err(|e| refusal(e, token.is_some(), what))
}

/// An upload client's error as a download's: 401 and 403 are a refused token, 404 `what`
/// not found.
fn refusal(e: UploadError, token_sent: bool, what: &str) -> DownloadError {
    let hint = if token_sent {
        HINT_WRONG_TOKEN
    } else {
        HINT_NO_TOKEN
    };
    match e {
        UploadError::Unauthorized { step, message } => DownloadError::Refused {
            step,
            status: 401,
            message,
            hint,
        },
        UploadError::Status {
            step,
            status: 403,
            message,
        } => DownloadError::Refused {
            step,
            status: 403,
            message,
            hint,
        },
        UploadError::Status {
            step, status: 404, ..
        } => DownloadError::NotFound {
            what: what.to_string(),
            step,
        },
        UploadError::Status {
            step,
            status,
            message,
        } => DownloadError::Status {
            step,
            status,
            message,
        },
        UploadError::Network { step, message } => DownloadError::Network { step, message },
        other => DownloadError::Protocol {
            step: "request".into(),
            message: other.to_string(),
        },
    }
}

fn capped(e: Capped, step: &str, limit: u64) -> DownloadError {
    match e {
        Capped::TooLong => DownloadError::TooLarge {
            step: step.into(),
            limit,
        },
        Capped::Network(e) => DownloadError::Network {
            step: step.into(),
            message: error_chain(&e.without_url()),
        },
    }
}

/// A body saved to a file: its bytes and MD5 (hex).
struct Saved {
    bytes: u64,
    md5: String,
}

/// Streams an answer's body into `path`, hashing it, never more than `max` bytes (an announced
/// length beyond it is refused before a byte is read); the file is synced.
async fn save(
    mut resp: reqwest::Response,
    path: &Path,
    max: u64,
    step: &str,
    tick: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<Saved, DownloadError> {
    let too_large = || DownloadError::TooLarge {
        step: step.into(),
        limit: max,
    };
    let announced = resp.content_length();
    if announced.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    tick(0, announced.unwrap_or(0));
    let mut file = tokio::fs::File::create(path).await.map_err(io(path))?;
    let mut md5 = Md5::new();
    let mut bytes = 0u64;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| capped(Capped::Network(e), step, max))?
    {
        bytes += chunk.len() as u64;
        if bytes > max {
            return Err(too_large());
        }
        md5.update(&chunk);
        file.write_all(&chunk).await.map_err(io(path))?;
        tick(chunk.len() as u64, 0);
    }
    file.sync_all().await.map_err(io(path))?;
    Ok(Saved {
        bytes,
        md5: md5.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    })
}
