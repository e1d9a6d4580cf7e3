//! The upload client: one report directory to Flakiness.io or to `flakiness serve`, as the
//! official clients do it (see [`crate::protocol`]), with retries where they can help.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flakiness_report::{ATTACHMENTS_DIR, REPORT_FILE};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Client, StatusCode, Url};

use crate::protocol::{
    is_text_like, AttachmentsRequest, FinishResponse, PresignedAttachment, StartRequest,
    StartResponse, ATTACHMENTS_PATH, FINISH_PATH, START_PATH,
};

/// The default endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://flakiness.io";

/// A token: shown as `***` in `Debug`, never in an error or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The token itself, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// GitHub Actions' OIDC token request (`ACTIONS_ID_TOKEN_REQUEST_URL` and `…_TOKEN`), used
/// when no access token is given: exchanged for a JWT whose audience is the project.
#[derive(Debug, Clone)]
pub struct GithubOidc {
    pub request_url: String,
    pub request_token: Secret,
}

/// Compression of the report and of text-like attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `br`, which every server takes.
    Brotli,
    /// `zstd`, when the server lists it in `acceptEncodings`.
    Zstd,
}

impl Encoding {
    /// The `Content-Encoding` value.
    pub fn header(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }

    /// `data` compressed (brotli quality 6, text mode, 4 MiB window; zstd level 3).
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Encoding::Brotli => {
                let mut out = Vec::with_capacity(data.len() / 4 + 64);
                // Quality 6 in text mode, as the official clients send it: most of quality
                // 9's ratio at several times its speed.
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 6,
                    lgwin: 22,
                    mode: brotli::enc::backward_references::BrotliEncoderMode::BROTLI_MODE_TEXT,
                    ..Default::default()
                };
                let mut input = data;
                // Writing into a Vec cannot fail.
                let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
                out
            }
            Encoding::Zstd => zstd::bulk::compress(data, 3).unwrap_or_default(),
        }
    }
}

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Server root, e.g. `https://flakiness.io` or `http://127.0.0.1:3000`.
    pub endpoint: String,
    /// `FLAKINESS_ACCESS_TOKEN`.
    pub access_token: Option<Secret>,
    /// `org/project`; default: the report's `flakinessProject`.
    pub project: Option<String>,
    /// Used when there is no access token.
    pub github_oidc: Option<GithubOidc>,
    /// Everything but the requests: read, validate, compress.
    pub dry_run: bool,
    /// Upload a report that fails validation.
    pub force: bool,
    /// Attachments sent at once.
    pub concurrency: usize,
    /// Connecting, per attempt.
    pub connect_timeout: Duration,
    /// Silence while reading an answer (no byte for this long), per attempt: a server that
    /// never answers is given up on after this, not after `request_timeout`.
    pub idle_timeout: Duration,
    /// One whole request, per attempt (large uploads take long; this is the outer bound).
    pub request_timeout: Duration,
    /// Attempts after the first, for failures a retry can help with.
    pub retries: u32,
    /// The first pause between attempts (doubled each time, with jitter).
    pub backoff: Duration,
    /// Let the server ask for zstd (set false to always send brotli).
    pub allow_zstd: bool,
}

impl UploadOptions {
    /// Defaults for `endpoint`: 8 attachments at once, 10 s to connect, 60 s of silence,
    /// 300 s a request, 4 retries from 500 ms.
    pub fn new(endpoint: impl Into<String>) -> Self {
        UploadOptions {
            endpoint: endpoint.into(),
            access_token: None,
            project: None,
            github_oidc: None,
            dry_run: false,
            force: false,
            concurrency: 8,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(300),
            retries: 4,
            backoff: Duration::from_millis(500),
            allow_zstd: true,
        }
    }
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    /// The report's page (absolute); `None` for a dry run.
    pub web_url: Option<String>,
    /// The server had the same report already: `web_url` is the page of that run.
    pub already_uploaded: bool,
    /// The report's encoding.
    pub encoding: Encoding,
    /// `report.json`, before and after compression.
    pub report_bytes: u64,
    pub report_compressed_bytes: u64,
    /// Attachments sent (or, for a dry run, that would be).
    pub attachments: usize,
    /// Bytes put on the wire by the `PUT`s.
    pub sent_bytes: u64,
    /// Attempts that were retried.
    pub retries: u32,
}

/// Why an upload failed. Tokens never appear in these messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a report: {message}")]
    NotAReport { path: PathBuf, message: String },
    #[error(
        "{path}: invalid report: {first} ({count} problem(s) in all); --force uploads it anyway"
    )]
    Invalid {
        path: PathBuf,
        first: String,
        count: usize,
    },
    #[error("no access token: set FLAKINESS_ACCESS_TOKEN, or run in GitHub Actions with `id-token: write` and a flakinessProject")]
    NoToken,
    #[error("GitHub OIDC: {message}")]
    Oidc { message: String },
    #[error("{endpoint}: not a URL: {message}")]
    BadEndpoint { endpoint: String, message: String },
    /// 401: the server refused the token; `message` is its reason (our server says whether
    /// the token is missing, unknown or revoked).
    #[error("the server refused the token: {message} ({step} answered 401)")]
    Unauthorized { step: String, message: String },
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
}

/// Bytes sent so far and in all, for a progress bar.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// A report directory read for upload.
struct Prepared {
    report_json: Vec<u8>,
    /// `flakinessProject`.
    project: Option<String>,
    /// id → (file, content type), for the attachments present.
    attachments: BTreeMap<String, (PathBuf, String)>,
    /// The report compressed with zstd while it was validated, for a server that takes it.
    zstd: Option<Vec<u8>>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads `report.json`, validates it (unless `force`) while its attachment references are read
/// (without building the report in memory), and finds the attachment files.
fn prepare(dir: &Path, force: bool, zstd: bool) -> Result<Prepared, UploadError> {
    let file = dir.join(REPORT_FILE);
    let report_json = std::fs::read(&file).map_err(io(&file))?;
    let not_a_report = |message: String| UploadError::NotAReport {
        path: file.clone(),
        message,
    };
    let (checked, refs) = std::thread::scope(|scope| {
        let check = scope.spawn(|| -> Result<(), UploadError> {
            if force {
                return Ok(());
            }
            let validator =
                flakiness_validate::Validator::new(flakiness_validate::Options::default())
                    .map_err(|e| not_a_report(format!("the schema does not compile: {e}")))?;
            let outcome = validator
                .validate_file(&file)
                .map_err(|e| not_a_report(e.to_string()))?;
            match outcome.errors.first() {
                Some(p) => Err(UploadError::Invalid {
                    path: file.clone(),
                    first: format!("{}:{}: {}", p.line, p.column, p.message),
                    count: outcome.errors.len() + outcome.errors_omitted,
                }),
                None => Ok(()),
            }
        });
        let packed = zstd.then(|| scope.spawn(|| Encoding::Zstd.compress(&report_json)));
        let refs = flakiness_report::attachment_refs(&report_json);
        let checked = check
            .join()
            .unwrap_or_else(|_| Err(not_a_report("the validator stopped".into())));
        let packed = packed.and_then(|p| p.join().ok());
        (checked, (refs, packed))
    });
    let (refs, packed) = refs;
    checked?;
    let refs = refs.map_err(|e| not_a_report(e.to_string()))?;
    let mut attachments = BTreeMap::new();
    for (id, content_type) in refs.attachments {
        if !crate::protocol::is_safe_attachment_id(&id) {
            continue;
        }
        // Only a regular file inside the report's attachments/ folder, never through a
        // symbolic link: a link to /etc/passwd is treated as missing, as `validate` does.
        if flakiness_report::files::open_attachment(dir, &id).is_ok() {
            let path = dir.join(ATTACHMENTS_DIR).join(&id);
            attachments.insert(id, (path, content_type));
        }
    }
    Ok(Prepared {
        report_json,
        project: refs.flakiness_project,
        attachments,
        zstd: packed,
    })
}

/// Longest protocol message read (the protocol's answers are a few hundred bytes).
pub const MESSAGE_MAX: usize = 1 << 20;
/// Longest part of an error answer's body read (300 characters of it are shown).
pub const ERROR_BODY_MAX: usize = 64 << 10;
/// Longest wait a `Retry-After` may ask for.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(120);

/// Why [`read_capped`] stopped.
pub(crate) enum Capped {
    TooLong,
    Network(reqwest::Error),
}

/// An answer's body, chunk by chunk, never more than `max` bytes: a server that announces
/// (or sends) gigabytes costs at most `max`. Past it: the first `max` bytes when `truncate`
/// (an error answer, read only to show its start), else [`Capped::TooLong`].
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    max: usize,
    truncate: bool,
) -> Result<Vec<u8>, Capped> {
    let mut out = Vec::with_capacity(
        resp.content_length()
            .map_or(0, |n| usize::try_from(n).unwrap_or(max).min(max)),
    );
    while let Some(chunk) = resp.chunk().await.map_err(Capped::Network)? {
        if out.len() + chunk.len() > max {
            let room = max - out.len();
            out.extend_from_slice(&chunk[..room]);
            return if truncate {
                Ok(out)
            } else {
                Err(Capped::TooLong)
            };
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The wait a `Retry-After` value asks for at `now`: seconds (`120`) or an HTTP date (`Wed,
/// 21 Oct 2015 07:28:00 GMT`; a date past is no wait), at most [`RETRY_AFTER_MAX`]; `None`
/// when it is neither.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(RETRY_AFTER_MAX))
}

/// Whether an error or an answer is worth another attempt, and how long to wait first.
enum Verdict {
    Done(reqwest::Response),
    Retry(Option<Duration>, UploadError),
    Fail(UploadError),
}

/// The server's words, cut to 300 characters, without the tokens.
fn message_of(body: &str, secrets: &[&str]) -> String {
    let mut m: String = body.chars().take(300).collect();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        m = m.replace(*s, "***");
    }
    let m = m.trim().to_string();
    if m.is_empty() {
        "(no message)".into()
    } else {
        m
    }
}

/// The `error` of a JSON error answer (`{"error": "..."}`), else the body as it is.
fn error_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Answer {
        error: String,
    }
    serde_json::from_str::<Answer>(body)
        .map(|a| a.error)
        .unwrap_or_else(|_| body.to_string())
}

/// A client and what its requests share: how often to retry, the tokens to keep out of
/// messages (also the download's, see [`crate::download`]).
pub(crate) struct Session {
    pub(crate) client: Client,
    /// Attempts after the first, and the first pause between them.
    pub(crate) max_retries: u32,
    pub(crate) backoff: Duration,
    /// Attempts retried so far.
    pub(crate) retries: AtomicU64,
    pub(crate) secrets: Vec<String>,
}

impl Session {
    async fn verdict(
        &self,
        step: &str,
        result: Result<reqwest::Response, reqwest::Error>,
    ) -> Verdict {
        let step = step.to_string();
        {
            let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
            match result {
                Err(e) => {
                    // Without the URL: a presigned URL's query is a credential too.
                    let e = e.without_url();
                    let retry = e.is_connect() || e.is_timeout() || e.is_request();
                    let err = UploadError::Network {
                        step,
                        message: message_of(&error_chain(&e), &secrets),
                    };
                    if retry {
                        Verdict::Retry(None, err)
                    } else {
                        Verdict::Fail(err)
                    }
                }
                Ok(resp) if resp.status().is_success() => Verdict::Done(resp),
                Ok(resp) => {
                    let status = resp.status();
                    let after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after(v, std::time::SystemTime::now()));
                    // Only the start of an error's body is shown: that is all that is read.
                    let body = read_capped(resp, ERROR_BODY_MAX, true)
                        .await
                        .unwrap_or_default();
                    let body = String::from_utf8_lossy(&body);
                    let err = if status == StatusCode::UNAUTHORIZED {
                        UploadError::Unauthorized {
                            step,
                            message: message_of(&error_message(&body), &secrets),
                        }
                    } else {
                        UploadError::Status {
                            step,
                            status: status.as_u16(),
                            message: message_of(&body, &secrets),
                        }
                    };
                    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                        Verdict::Retry(after, err)
                    } else {
                        Verdict::Fail(err)
                    }
                }
            }
        }
    }

    /// Sends what `make` builds, again while a retry can help (connection errors, timeouts,
    /// 5xx, 429 after its `Retry-After`), with exponential backoff and jitter.
    pub(crate) async fn send(
        &self,
        step: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, UploadError> {
        let mut attempt = 0u32;
        loop {
            let result = make().send().await;
            match self.verdict(step, result).await {
                Verdict::Done(resp) => return Ok(resp),
                Verdict::Fail(e) => return Err(e),
                Verdict::Retry(after, e) => {
                    if attempt >= self.max_retries {
                        return Err(e);
                    }
                    let base = self.backoff.saturating_mul(1 << attempt.min(10));
                    let jitter = rand::random_range(0.5..1.5);
                    let wait = after.unwrap_or_else(|| base.mul_f64(jitter));
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        token: &Secret,
        body: Option<Vec<u8>>,
        step: &str,
    ) -> Result<T, UploadError> {
        let resp = self
            .send(step, || {
                let r = self
                    .client
                    .post(url.clone())
                    .header(AUTHORIZATION, format!("Bearer {}", token.expose()));
                // A JSON body always, as the official SDK sends: an empty request (`finish`)
                // goes with `Content-Length: 0`, which some proxies require (else 411).
                let bytes = body.clone().unwrap_or_default();
                r.header(CONTENT_TYPE, "application/json")
                    .header(reqwest::header::CONTENT_LENGTH, bytes.len())
                    .body(bytes)
            })
            .await?;
        let text = read_capped(resp, MESSAGE_MAX, false)
            .await
            .map_err(|e| match e {
                Capped::TooLong => UploadError::Protocol {
                    step: step.to_string(),
                    message: format!("the answer is longer than {MESSAGE_MAX} bytes"),
                },
                Capped::Network(e) => UploadError::Network {
                    step: step.to_string(),
                    message: error_chain(&e.without_url()),
                },
            })?;
        serde_json::from_slice(&text).map_err(|e| UploadError::Protocol {
            step: step.to_string(),
            message: e.to_string(),
        })
    }

    async fn put(
        &self,
        url: &str,
        body: Vec<u8>,
        content_type: &str,
        encoding: Option<Encoding>,
        step: &str,
    ) -> Result<u64, UploadError> {
        let url = Url::parse(url).map_err(|e| UploadError::Protocol {
            step: step.to_string(),
            message: format!("not a URL: {e}"),
        })?;
        let len = body.len() as u64;
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, v);
        }
        if let Some(e) = encoding {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(e.header()));
        }
        let body = bytes::Bytes::from(body);
        self.send(step, || {
            self.client
                .put(url.clone())
                .headers(headers.clone())
                .body(body.clone())
        })
        .await?;
        Ok(len)
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The HTTP client (rustls): `connect` to connect, `idle` of silence while reading an answer,
/// `request` for one whole request; the error's words when it cannot be built.
pub(crate) fn http_client(
    connect: Duration,
    idle: Duration,
    request: Duration,
) -> Result<Client, String> {
    Client::builder()
        .connect_timeout(connect)
        .read_timeout(idle)
        .timeout(request)
        .user_agent(concat!("flakiness/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| error_chain(&e))
}

/// The access token: the one given, else one from GitHub OIDC for the project.
async fn access_token(
    client: &Client,
    opts: &UploadOptions,
    project: Option<&str>,
) -> Result<Secret, UploadError> {
    if let Some(t) = &opts.access_token {
        return Ok(t.clone());
    }
    let (Some(oidc), Some(project)) = (&opts.github_oidc, project) else {
        return Err(UploadError::NoToken);
    };
    let mut url = Url::parse(&oidc.request_url).map_err(|e| UploadError::Oidc {
        message: format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"),
    })?;
    url.query_pairs_mut().append_pair("audience", project);
    let resp = client
        .get(url)
        .header(
            AUTHORIZATION,
            format!("bearer {}", oidc.request_token.expose()),
        )
        .header("Accept", "application/json; api-version=2.0")
        .send()
        .await
        .map_err(|e| UploadError::Oidc {
            message: error_chain(&e.without_url()),
        })?;
    if !resp.status().is_success() {
        return Err(UploadError::Oidc {
            message: format!("the token request was answered {}", resp.status()),
        });
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        value: Option<String>,
    }
    let body = read_capped(resp, MESSAGE_MAX, false)
        .await
        .map_err(|e| UploadError::Oidc {
            message: match e {
                Capped::TooLong => format!("the answer is longer than {MESSAGE_MAX} bytes"),
                Capped::Network(e) => error_chain(&e.without_url()),
            },
        })?;
    let a: Answer = serde_json::from_slice(&body).map_err(|e| UploadError::Oidc {
        message: e.to_string(),
    })?;
    a.value
        .filter(|v| !v.is_empty())
        .map(Secret)
        .ok_or_else(|| UploadError::Oidc {
            message: "the answer holds no token".into(),
        })
}

/// Uploads the report directory `dir`: validates it (unless `force`), then speaks the
/// protocol. `progress` hears bytes sent and bytes in all.
pub async fn upload(
    dir: &Path,
    opts: &UploadOptions,
    progress: Option<Progress>,
) -> Result<Uploaded, UploadError> {
    let endpoint = Url::parse(&opts.endpoint).map_err(|e| UploadError::BadEndpoint {
        endpoint: opts.endpoint.clone(),
        message: e.to_string(),
    })?;
    let prepared = {
        let (owned, force) = (dir.to_path_buf(), opts.force);
        let zstd = opts.allow_zstd && !opts.dry_run;
        tokio::task::spawn_blocking(move || prepare(&owned, force, zstd))
            .await
            .map_err(|e| UploadError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other(e),
            })??
    };
    let project = opts.project.clone().or_else(|| prepared.project.clone());
    let client = http_client(
        opts.connect_timeout,
        opts.idle_timeout,
        opts.request_timeout,
    )
    .map_err(|message| UploadError::Network {
        step: "client".into(),
        message,
    })?;
    let report_bytes = prepared.report_json.len() as u64;
    if opts.dry_run {
        let compressed = compress_blocking(Encoding::Brotli, prepared.report_json).await;
        return Ok(Uploaded {
            web_url: None,
            already_uploaded: false,
            encoding: Encoding::Brotli,
            report_bytes,
            report_compressed_bytes: compressed.len() as u64,
            attachments: prepared.attachments.len(),
            sent_bytes: 0,
            retries: 0,
        });
    }
    let token = access_token(&client, opts, project.as_deref()).await?;
    let session = Session {
        client,
        max_retries: opts.retries,
        backoff: opts.backoff,
        retries: AtomicU64::new(0),
        secrets: vec![token.expose().to_string()],
    };
    let join = |path: &str| {
        endpoint.join(path).map_err(|e| UploadError::BadEndpoint {
            endpoint: opts.endpoint.clone(),
            message: e.to_string(),
        })
    };

    // 1. start
    let (org_slug, project_slug) = match project.as_deref().and_then(|p| p.split_once('/')) {
        Some((o, p)) => (Some(o.to_string()), Some(p.to_string())),
        None => (None, None),
    };
    let start_body = serde_json::to_vec(&StartRequest {
        org_slug,
        project_slug,
    })
    .unwrap_or_default();
    let start: StartResponse = session
        .post_json(&join(START_PATH)?, &token, Some(start_body), "upload/start")
        .await?;
    let upload_token = Secret(start.upload_token.clone());
    let mut session = session;
    session.secrets.push(start.upload_token.clone());
    let session = Arc::new(session);
    let encoding = if opts.allow_zstd && start.accept_encodings.iter().any(|e| e == "zstd") {
        Encoding::Zstd
    } else {
        Encoding::Brotli
    };

    // 2. attachment URLs
    let ids: Vec<String> = prepared.attachments.keys().cloned().collect();
    let body = serde_json::to_vec(&AttachmentsRequest {
        attachment_ids: ids.clone(),
    })
    .unwrap_or_default();
    let urls: Vec<PresignedAttachment> = session
        .post_json(
            &join(ATTACHMENTS_PATH)?,
            &upload_token,
            Some(body),
            "upload/attachments",
        )
        .await?;
    let urls: BTreeMap<String, String> = urls
        .into_iter()
        .map(|a| (a.attachment_id, a.presigned_url))
        .collect();
    for id in &ids {
        if !urls.contains_key(id) {
            return Err(UploadError::Protocol {
                step: "upload/attachments".into(),
                message: format!("no URL for attachment {id:?}"),
            });
        }
    }

    // 3. the report and the attachments, at most `concurrency` at once
    let total: u64 = report_bytes
        + prepared
            .attachments
            .values()
            .map(|(p, _)| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum::<u64>();
    let sent = Arc::new(AtomicU64::new(0));
    let tick = {
        let (sent, progress) = (sent.clone(), progress.clone());
        move |n: u64| {
            let now = sent.fetch_add(n, Ordering::Relaxed) + n;
            if let Some(p) = &progress {
                p(now, total);
            }
        }
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let report_compressed = match (encoding, prepared.zstd) {
        (Encoding::Zstd, Some(packed)) => packed,
        _ => compress_blocking(encoding, prepared.report_json).await,
    };
    let report_compressed_bytes = report_compressed.len() as u64;
    {
        let (session, url, tick) = (
            session.clone(),
            start.presigned_report_url.clone(),
            tick.clone(),
        );
        tasks.spawn(async move {
            let n = session
                .put(
                    &url,
                    report_compressed,
                    "application/json",
                    Some(encoding),
                    "report",
                )
                .await?;
            tick(report_bytes);
            Ok::<u64, UploadError>(n)
        });
    }
    for (id, (path, content_type)) in prepared.attachments {
        let permit = limit.clone();
        let (session, tick) = (session.clone(), tick.clone());
        let url = urls.get(&id).cloned().unwrap_or_default();
        tasks.spawn(async move {
            let _permit = permit.acquire_owned().await.ok();
            // Opened again the same way: a file swapped for a link since is not followed.
            let read_path = path.clone();
            let data = tokio::task::spawn_blocking(move || {
                flakiness_report::files::open_no_follow(&read_path).and_then(|mut f| {
                    let mut data = Vec::new();
                    std::io::Read::read_to_end(&mut f, &mut data).map(|_| data)
                })
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(io(&path))?;
            let raw = data.len() as u64;
            let text = is_text_like(&content_type);
            let (body, enc) = if text {
                (compress_blocking(encoding, data).await, Some(encoding))
            } else {
                (data, None)
            };
            let n = session
                .put(&url, body, &content_type, enc, &format!("attachment {id}"))
                .await?;
            tick(raw);
            Ok(n)
        });
    }
    let mut sent_bytes = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(n)) => sent_bytes += n,
            Ok(Err(e)) => {
                tasks.abort_all();
                return Err(e);
            }
            Err(e) => {
                tasks.abort_all();
                return Err(UploadError::Network {
                    step: "upload".into(),
                    message: e.to_string(),
                });
            }
        }
    }

    // 4. finish: any JSON; ours names the run's page, which for a report uploaded before is
    // not the one `start` announced.
    let finished: serde_json::Value = session
        .post_json(&join(FINISH_PATH)?, &upload_token, None, "upload/finish")
        .await?;
    let finished: FinishResponse = serde_json::from_value(finished).unwrap_or_default();
    let page = finished.web_url.unwrap_or(start.web_url);
    let web_url = endpoint.join(&page).map(|u| u.to_string()).unwrap_or(page);
    Ok(Uploaded {
        web_url: Some(web_url),
        already_uploaded: finished.already_uploaded,
        encoding,
        report_bytes,
        report_compressed_bytes,
        attachments: ids.len(),
        sent_bytes,
        retries: session.retries.load(Ordering::Relaxed) as u32,
    })
}

async fn compress_blocking(encoding: Encoding, data: Vec<u8>) -> Vec<u8> {
    tokio::task::spawn_blocking(move || encoding.compress(&data))
        .await
        .unwrap_or_default()
}

/// [`upload`] for callers without an async runtime: runs one of its own.
pub fn upload_blocking(
    dir: &Path,
    opts: &UploadOptions,
    progress: Option<Progress>,
) -> Result<Uploaded, UploadError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io(dir))?;
    rt.block_on(upload(dir, opts, progress))
}
