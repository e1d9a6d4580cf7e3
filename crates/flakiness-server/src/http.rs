//! The routes and their handlers.

use std::collections::HashMap;
use std::fmt::Display;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use flakiness_analyze::{Quarantine, QuarantineFormat};
use flakiness_store::Ingested;
use flakiness_upload::protocol::{
    is_safe_attachment_id, AttachmentsRequest, FinishResponse, PresignedAttachment, StartRequest,
    StartResponse, ATTACHMENTS_PATH, FINISH_PATH, START_PATH,
};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::blobs::{self, BlobError, Encoding};
use crate::meta::{BlobSlot, Recorded};
use crate::{AccessToken, Server, ServerError, Target};

/// The read side of the JSON API: projects, runs, a run's report, the analysis, the
/// quarantine list.
pub(crate) fn read_router(server: Server) -> Router {
    let limits = server.inner.limits.clone();
    Router::new()
        .route("/api/projects", get(projects))
        .route("/api/projects/{org}/{project}/runs", get(runs))
        .route(
            "/api/projects/{org}/{project}/runs/{id}/report",
            get(run_report),
        )
        .route(
            "/api/projects/{org}/{project}/runs/{id}/attachments/{attachment_id}",
            get(run_attachment),
        )
        .route("/api/projects/{org}/{project}/tests", get(tests))
        .route("/api/projects/{org}/{project}/quarantine", get(quarantine))
        .route("/api/projects/{org}/{project}/durations", get(durations))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .with_state(server)
}

/// The upload protocol: its JSON endpoints and the presigned blob URLs.
pub(crate) fn router(server: Server) -> Router {
    let limits = server.inner.limits.clone();
    let api = Router::new()
        .route(START_PATH, post(start))
        .route(ATTACHMENTS_PATH, post(attachments))
        .route(FINISH_PATH, post(finish))
        .layer(DefaultBodyLimit::max(limits.max_json_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    let blob_routes = Router::new()
        .route("/blobs/{upload_id}/report", put(put_report))
        .route(
            "/blobs/{upload_id}/attachments/{attachment_id}",
            put(put_attachment),
        )
        // Bodies stream to disk, bounded after decompression by the handlers.
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.blob_timeout,
        ));
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            HEALTH_TIMEOUT,
        ));
    api.merge(blob_routes).merge(health).with_state(server)
}

/// How long readiness may take before it answers 503.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// Bound of the health routes' requests (readiness answers within [`READY_TIMEOUT`]).
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Liveness, for load balancers: 200 while the process answers HTTP; it checks nothing else
/// (a replica whose database is down is alive, and not ready).
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness, for load balancers: 200 when the metadata store, the history store and the blob
/// storage answer; otherwise (or once the server is stopping) 503, saying which failed.
async fn readyz(State(server): State<Server>) -> Response {
    let s = server.clone();
    let checks = tokio::time::timeout(
        READY_TIMEOUT,
        tokio::task::spawn_blocking(move || s.readiness()),
    )
    .await;
    let checks = match checks {
        Ok(Ok(c)) => c,
        Ok(Err(_)) => vec![("server", Err("the check failed".to_string()))],
        Err(_) => vec![(
            "server",
            Err(format!(
                "the storage did not answer within {} s",
                READY_TIMEOUT.as_secs()
            )),
        )],
    };
    let ready = checks.iter().all(|(_, r)| r.is_ok());
    let draining = server
        .inner
        .draining
        .load(std::sync::atomic::Ordering::Relaxed);
    let ready = ready && !draining;
    let checks: serde_json::Map<String, serde_json::Value> = checks
        .into_iter()
        .map(|(name, r)| {
            (
                name.to_string(),
                match r {
                    Ok(()) => json!("ok"),
                    Err(e) => json!(e),
                },
            )
        })
        .collect();
    let body = json!({
        "status": if ready { "ready" } else if draining { "draining" } else { "unavailable" },
        "replica": server.inner.replica,
        "refreshes": server.inner.refreshes.load(std::sync::atomic::Ordering::Relaxed),
        "checks": checks,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// An error answer: `{"error": "..."}`, and for a refused token `"reason"` too.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    reason: Option<&'static str>,
}

/// Why a token was refused (401): `reason` of the answer, for machines, and its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Missing,
    Unknown,
    Revoked,
    UnknownUpload,
}

impl Refused {
    fn reason(self) -> &'static str {
        match self {
            Refused::Missing => "no_token",
            Refused::Unknown => "unknown_token",
            Refused::Revoked => "revoked_token",
            Refused::UnknownUpload => "unknown_upload_token",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Refused::Missing => "no token: send `Authorization: Bearer <token>`",
            Refused::Unknown => "unknown access token: this server did not make it",
            Refused::Revoked => "the access token was revoked",
            Refused::UnknownUpload => {
                "unknown upload token: not one this server gave, or its upload expired"
            }
        }
    }
}

impl ApiError {
    fn new(status: StatusCode, message: impl Display) -> Self {
        ApiError {
            status,
            message: message.to_string(),
            reason: None,
        }
    }

    /// 401, saying why: no token, an unknown one, a revoked one.
    fn unauthorized(why: Refused) -> Self {
        ApiError {
            reason: Some(why.reason()),
            ..Self::new(StatusCode::UNAUTHORIZED, why.message())
        }
    }

    fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }

    fn bad_request(message: impl Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }
}

impl From<ServerError> for ApiError {
    fn from(_: ServerError) -> Self {
        // Details (paths, SQL) stay on the server.
        ApiError::internal()
    }
}

impl From<crate::MetaError> for ApiError {
    fn from(_: crate::MetaError) -> Self {
        ApiError::internal()
    }
}

impl From<flakiness_store::StoreError> for ApiError {
    fn from(_: flakiness_store::StoreError) -> Self {
        ApiError::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.reason {
            Some(reason) => json!({ "error": self.message, "reason": reason }),
            None => json!({ "error": self.message }),
        };
        (self.status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal())?
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The base of absolute URLs: the configured public URL, or `http://{Host}`.
fn base_url(server: &Server, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = &server.inner.public_url {
        return Ok(url.clone());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .ok_or_else(|| ApiError::bad_request("missing or invalid Host header"))?;
    Ok(format!("http://{host}"))
}

fn web_url(org: &str, project: &str, upload_id: &str) -> String {
    format!("/{org}/{project}/runs/{upload_id}")
}

async fn start(
    State(server): State<Server>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<StartResponse>> {
    let token = bearer(&headers).ok_or_else(|| ApiError::unauthorized(Refused::Missing))?;
    let s = server.clone();
    let (project_id, org, name) = match blocking(move || Ok(s.project_of_token(&token)?)).await? {
        AccessToken::Valid(id, org, name) => (id, org, name),
        AccessToken::Revoked => return Err(ApiError::unauthorized(Refused::Revoked)),
        AccessToken::Unknown => return Err(ApiError::unauthorized(Refused::Unknown)),
    };
    let request: StartRequest = if body.iter().all(u8::is_ascii_whitespace) {
        StartRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid upload/start body: {e}")))?
    };
    let names_other =
        |given: &Option<String>, ours: &str| given.as_deref().is_some_and(|g| g != ours);
    if names_other(&request.org_slug, &org) || names_other(&request.project_slug, &name) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the access token is not for this project",
        ));
    }
    let base = base_url(&server, &headers)?;
    let s = server.clone();
    let (upload_id, upload_token) = blocking(move || Ok(s.create_upload(project_id)?)).await?;
    Ok(Json(StartResponse {
        upload_token,
        presigned_report_url: server.presign(&base, &upload_id, &Target::Report),
        web_url: web_url(&org, &name, &upload_id),
        accept_encodings: vec!["zstd".into(), "br".into()],
    }))
}

async fn upload_of(server: &Server, headers: &HeaderMap) -> ApiResult<crate::UploadRow> {
    let token = bearer(headers).ok_or_else(|| ApiError::unauthorized(Refused::Missing))?;
    let s = server.clone();
    blocking(move || Ok(s.upload_of_token(&token)?))
        .await?
        .ok_or_else(|| ApiError::unauthorized(Refused::UnknownUpload))
}

fn finished_conflict() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "the upload is already finished")
}

async fn attachments(
    State(server): State<Server>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Vec<PresignedAttachment>>> {
    let upload = upload_of(&server, &headers).await?;
    let request: AttachmentsRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid upload/attachments body: {e}")))?;
    if let Some(bad) = request
        .attachment_ids
        .iter()
        .find(|id| !is_safe_attachment_id(id))
    {
        let shown: String = bad.chars().take(100).collect();
        return Err(ApiError::bad_request(format!(
            "invalid attachment id {shown:?}: not a file name"
        )));
    }
    if upload.finished {
        return Err(finished_conflict());
    }
    let max = server.inner.limits.max_attachments;
    if request.attachment_ids.len() > max {
        return Err(too_many_attachments(max));
    }
    let s = server.clone();
    let upload_id = upload.id.clone();
    let ids = request.attachment_ids.clone();
    let declared =
        blocking(move || Ok(s.meta().declare_attachments(&upload_id, &ids, max)?)).await?;
    if !declared {
        return Err(too_many_attachments(max));
    }
    let base = base_url(&server, &headers)?;
    Ok(Json(
        request
            .attachment_ids
            .iter()
            .map(|id| PresignedAttachment {
                attachment_id: id.clone(),
                presigned_url: server.presign(&base, &upload.id, &Target::Attachment(id)),
            })
            .collect(),
    ))
}

fn too_many_attachments(max: usize) -> ApiError {
    ApiError::bad_request(format!("too many attachments: at most {max} per upload"))
}

/// `expires` and `sig` of a presigned URL's query.
fn signature_of(query: Option<&str>) -> Option<(u64, &str)> {
    let mut expires = None;
    let mut sig = None;
    for pair in query?.split('&') {
        match pair.split_once('=') {
            Some(("expires", v)) => expires = v.parse::<u64>().ok(),
            Some(("sig", v)) => sig = Some(v),
            _ => {}
        }
    }
    Some((expires?, sig?))
}

async fn put_report(
    State(server): State<Server>,
    Path(upload_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    put_blob(server, upload_id, None, query, headers, body).await
}

async fn put_attachment(
    State(server): State<Server>,
    Path((upload_id, attachment_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    if !is_safe_attachment_id(&attachment_id) {
        return Err(ApiError::bad_request("invalid attachment id"));
    }
    put_blob(server, upload_id, Some(attachment_id), query, headers, body).await
}

async fn put_blob(
    server: Server,
    upload_id: String,
    attachment_id: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let target = match &attachment_id {
        None => Target::Report,
        Some(id) => Target::Attachment(id),
    };
    // Upload ids are 32 lowercase hex digits: anything else was never signed.
    let well_formed = upload_id.len() == 32
        && upload_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(ApiError::forbidden());
    }
    let (expires, sig) = signature_of(query.as_deref()).ok_or_else(ApiError::forbidden)?;
    if !server.check_signature(&upload_id, &target, expires, sig) {
        return Err(ApiError::forbidden());
    }
    let encoding = Encoding::parse(
        headers
            .get(header::CONTENT_ENCODING)
            .map(|h| h.to_str().unwrap_or("?")),
    )
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported Content-Encoding: send br, zstd or identity",
        )
    })?;
    let content_type: String = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/octet-stream")
        .chars()
        .take(255)
        .collect();
    let limits = &server.inner.limits;
    let limit = match target {
        Target::Report => limits.max_report_bytes,
        Target::Attachment(_) => limits.max_attachment_bytes,
    };
    let s = server.clone();
    let id = upload_id.clone();
    let upload = blocking(move || Ok(s.upload(&id)?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    if upload.finished {
        return Err(finished_conflict());
    }
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let raw = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
    let dir = server.inner.blobs.temp_dir().to_path_buf();
    let written = blocking(move || {
        blobs::receive(raw, encoding, limit, &dir).map_err(|e| match e {
            BlobError::TooLarge { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e),
            BlobError::Corrupt(_) | BlobError::Read(_) => ApiError::bad_request(e),
            BlobError::Write(_) => ApiError::internal(),
        })
    })
    .await?;
    let sha = written.sha256.clone();
    // Into storage first (S3: streamed from the temporary file), recorded after.
    server
        .inner
        .blobs
        .persist(written)
        .await
        .map_err(|_| ApiError::internal())?;
    let s = server.clone();
    blocking(move || {
        let slot = match &attachment_id {
            None => BlobSlot::Report,
            Some(id) => BlobSlot::Attachment {
                id,
                content_type: &content_type,
            },
        };
        // Recorded once the blob is known to be in storage, under its lock (see
        // `Server::collect_blob`).
        let recorded = s.meta().record_blob(&upload_id, slot, &sha, &|| {
            s.has_blob(&sha).map_err(|e| e.to_string())
        })?;
        match recorded {
            Recorded::Done { replaced } => {
                if let Some(old) = replaced {
                    s.collect_blob(&old)?;
                }
                Ok(())
            }
            // Finished or expired since it was looked up: the blob may be nobody's.
            Recorded::NoUpload => {
                s.collect_blob(&sha)?;
                Err(ApiError::not_found())
            }
            Recorded::Finished => {
                s.collect_blob(&sha)?;
                Err(finished_conflict())
            }
            Recorded::BlobGone => {
                // The blob was collected by a cleanup between its write and its record.
                Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the blob was removed while it was recorded: send it again",
                ))
            }
        }
    })
    .await?;
    Ok(StatusCode::OK)
}

async fn finish(
    State(server): State<Server>,
    headers: HeaderMap,
) -> ApiResult<Json<FinishResponse>> {
    let upload = upload_of(&server, &headers).await?;
    if upload.finished {
        return finished_answer(&server, &upload).await;
    }
    let blob = upload.report_blob.clone().ok_or_else(|| {
        ApiError::bad_request("no report was uploaded: PUT it to presignedReportUrl first")
    })?;
    // A local file of the report: the blob's own (local storage), or a copy (S3).
    let local = server
        .inner
        .blobs
        .local_copy(&blob, server.inner.limits.max_report_bytes)
        .await
        .map_err(|_| ApiError::internal())?
        .ok_or_else(ApiError::internal)?;
    let (s, finishing) = (server.clone(), upload.clone());
    blocking(move || {
        let upload = finishing;
        // Blobs are never changed once written (content-addressed, renamed into place), so
        // the report can be mapped rather than copied.
        let bytes = flakiness_validate::FileBytes::open(local.path(), local.len())
            .map_err(|_| ApiError::internal())?;
        // Validated and summarised at once, without the report's model in memory.
        let record = flakiness_analyze::check_and_summarize(
            bytes.bytes(),
            &s.inner.validator,
            &format!("upload:{}", upload.id),
        )
        .map_err(|rejected| {
            let message = match &rejected {
                flakiness_analyze::Rejected::Invalid(outcome) => outcome
                    .errors
                    .first()
                    .map(|p| format!("invalid report: {}: {}", p.path, p.message))
                    .unwrap_or_else(|| "invalid report".into()),
                flakiness_analyze::Rejected::Unreadable(e) => format!("invalid report: {e}"),
            };
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
        })?;
        drop(bytes);
        let hash = record.meta.content_hash.clone();
        let run_id = {
            let mut history = s.history_writer();
            match history.ingest(&record)? {
                Ingested::New { run_id } => run_id,
                Ingested::AlreadyPresent => history
                    .runs()?
                    .into_iter()
                    .find(|r| r.meta.content_hash == hash)
                    .map(|r| r.id)
                    .ok_or_else(ApiError::internal)?,
            }
        };
        s.meta()
            .finish(&upload.id, run_id, &hash, crate::now_ms())?;
        Ok(())
    })
    .await?;
    // The project's pages are brought up to date in the background, so that the next view
    // of its runs or flaky tests finds them ready.
    let (s, org, project) = (server.clone(), upload.org.clone(), upload.project.clone());
    tokio::task::spawn_blocking(move || s.refresh_pages(&org, &project));
    finished_answer(&server, &upload).await
}

/// The answer of a finished upload: the page of its run, which is the page of the project's
/// first upload of that run when the same report was uploaded before (`alreadyUploaded`).
async fn finished_answer(
    server: &Server,
    upload: &crate::UploadRow,
) -> ApiResult<Json<FinishResponse>> {
    let (s, id) = (server.clone(), upload.id.clone());
    let (run_id, first) = blocking(move || Ok(s.run_page_of(&id)?))
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Json(FinishResponse {
        web_url: Some(web_url(&upload.org, &upload.project, &first)),
        run_id: Some(run_id),
        already_uploaded: first != upload.id,
    }))
}

#[derive(Serialize)]
struct ProjectItem {
    org: String,
    project: String,
}

async fn projects(State(server): State<Server>) -> ApiResult<Json<Vec<ProjectItem>>> {
    let list = blocking(move || {
        Ok(server
            .meta()
            .projects()?
            .into_iter()
            .map(|(org, project)| ProjectItem { org, project })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(list))
}

/// The finished uploads of a project: run id → first upload id; `None` for an unknown project.
fn project_runs(
    server: &Server,
    org: &str,
    project: &str,
) -> ApiResult<Option<HashMap<i64, String>>> {
    Ok(crate::pages::project_runs(server, org, project)?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    ran: u64,
    failed: u64,
    flaky: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunItem {
    id: i64,
    upload_id: String,
    web_url: String,
    commit_id: String,
    start_timestamp: i64,
    duration: i64,
    title: Option<String>,
    url: Option<String>,
    category: String,
    counts: Counts,
    /// Time its failed attempts took (ms): 0 for runs stored before the store kept it.
    lost_ms: i64,
}

/// `?limit=N` of the runs endpoint: the newest N only.
#[derive(serde::Deserialize)]
struct RunsQuery {
    limit: Option<usize>,
}

async fn runs(
    State(server): State<Server>,
    Path((org, project)): Path<(String, String)>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<RunItem>>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let list = blocking(move || {
        let runs = project_runs(&server, &org, &project)?.ok_or_else(ApiError::not_found)?;
        let mut history = server.history();
        let totals: HashMap<i64, flakiness_store::RunTotals> = history
            .run_totals()?
            .into_iter()
            .map(|t| (t.run_id, t))
            .collect();
        let mut items: Vec<RunItem> = history
            .runs()?
            .into_iter()
            .filter_map(|r| {
                let upload_id = runs.get(&r.id)?.clone();
                let t = totals.get(&r.id);
                Some(RunItem {
                    id: r.id,
                    web_url: web_url(&org, &project, &upload_id),
                    upload_id,
                    commit_id: r.meta.commit_id,
                    start_timestamp: r.meta.start_ms,
                    duration: r.meta.duration_ms,
                    title: r.meta.title,
                    url: r.meta.url,
                    category: r.meta.category,
                    counts: Counts {
                        ran: t.map_or(0, |t| t.ran),
                        failed: t.map_or(0, |t| t.failed),
                        flaky: t.map_or(0, |t| t.flaky),
                    },
                    lost_ms: t.map_or(0, |t| t.failed_duration_ms),
                })
            })
            .collect();
        items.sort_by_key(|r| std::cmp::Reverse((r.start_timestamp, r.id)));
        items.truncate(query.limit.unwrap_or(usize::MAX));
        Ok(items)
    })
    .await?;
    Ok(Json(list))
}

/// The finished upload that holds a project's run: `id` is a run id, or the id of one of the
/// project's finished uploads; `None` (404) for an unknown project or run.
fn upload_of_run(server: &Server, org: &str, project: &str, id: String) -> ApiResult<String> {
    let runs = project_runs(server, org, project)?.ok_or_else(ApiError::not_found)?;
    match id.parse::<i64>() {
        Ok(run) => runs.get(&run).cloned().ok_or_else(ApiError::not_found),
        Err(_) => Ok(id),
    }
}

/// The blob of a finished run's report, or (`attachment`) of one of its attachments; 404 when
/// there is none.
async fn run_blob(
    server: &Server,
    (org, project, id): (String, String, String),
    attachment: Option<String>,
) -> ApiResult<String> {
    let s = server.clone();
    blocking(move || {
        let upload_id = upload_of_run(&s, &org, &project, id)?;
        s.meta()
            .run_blob(&org, &project, &upload_id, attachment.as_deref())?
            .ok_or_else(ApiError::not_found)
    })
    .await
}

async fn run_report(
    State(server): State<Server>,
    Path(run): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let blob = run_blob(&server, run, None).await?;
    let (body, _) = blob_body(&server, &blob).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A stored blob as a streamed body, and its length.
async fn blob_body(server: &Server, blob: &str) -> ApiResult<(Body, Option<u64>)> {
    let (stream, len) = server
        .inner
        .blobs
        .get(blob)
        .await
        .map_err(|_| ApiError::internal())?
        .ok_or_else(ApiError::not_found)?;
    Ok((Body::from_stream(stream), Some(len)))
}

/// One attachment of a run, as it was uploaded (the bytes, decompressed), for `flakiness
/// download`: always `application/octet-stream`, to be saved, never shown (the pages show
/// attachments at `/{org}/{project}/runs/{run}/attachments/{id}`). 400 for an id that is not
/// a file name, 404 for an attachment the run's upload did not send.
async fn run_attachment(
    State(server): State<Server>,
    Path((org, project, id, attachment_id)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    if let Err(why) = flakiness_report::check_attachment_id(&attachment_id) {
        return Err(ApiError::bad_request(format!(
            "invalid attachment id: {why}"
        )));
    }
    let blob = run_blob(&server, (org, project, id), Some(attachment_id)).await?;
    let (body, len) = blob_body(&server, &blob).await?;
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CONTENT_DISPOSITION, "attachment"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response();
    if let Some(len) = len {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, len.into());
    }
    Ok(response)
}

/// The project's current analysis (computed again only when its runs changed); 404 for an
/// unknown project.
fn analysis_of(
    server: &Server,
    org: &str,
    project: &str,
) -> ApiResult<std::sync::Arc<flakiness_analyze::Analysis>> {
    let runs = project_runs(server, org, project)?.ok_or_else(ApiError::not_found)?;
    server
        .project_analysis(org, project, &runs)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn tests(
    State(server): State<Server>,
    Path((org, project)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let analysis = blocking(move || {
        let analysis = analysis_of(&server, &org, &project)?;
        serde_json::to_value(&*analysis).map_err(|_| ApiError::internal())
    })
    .await?;
    Ok(Json(analysis))
}

/// `?format=` of the quarantine endpoint: `list` when absent.
#[derive(serde::Deserialize)]
struct QuarantineQuery {
    format: Option<String>,
}

/// The project's quarantine list now (the flaky tests of its current analysis, as
/// `flakiness analyze --quarantine` would take them in), in a runner's form: the bytes
/// `flakiness quarantine --format FORMAT` prints for that list.
async fn quarantine(
    State(server): State<Server>,
    Path((org, project)): Path<(String, String)>,
    query: Result<Query<QuarantineQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let format: QuarantineFormat = match query.format.as_deref() {
        None => QuarantineFormat::List,
        Some(name) => name.parse().map_err(ApiError::bad_request)?,
    };
    let text = blocking(move || {
        let analysis = analysis_of(&server, &org, &project)?;
        Quarantine::of_analysis(&analysis)
            .render(format)
            .map_err(|_| ApiError::internal())
    })
    .await?;
    let content_type = match format {
        QuarantineFormat::Json => "application/json",
        _ => "text/plain; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

/// `?recent=` of the durations endpoint: [`flakiness_analyze::shard::DEFAULT_RECENT`] when
/// absent.
#[derive(serde::Deserialize)]
struct DurationsQuery {
    recent: Option<usize>,
}

/// The expected duration of each test of the project (and environment) that ran with a known
/// duration, as `flakiness shard` plans from (spec/shard.md): `{"tests": [{"file",
/// "titlePath", "environment", "expectedMs", "samples"}]}`, by file, title path, environment.
async fn durations(
    State(server): State<Server>,
    Path((org, project)): Path<(String, String)>,
    query: Result<Query<DurationsQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let recent = query
        .recent
        .unwrap_or(flakiness_analyze::shard::DEFAULT_RECENT);
    let tests = blocking(move || {
        let runs = project_runs(&server, &org, &project)?.ok_or_else(ApiError::not_found)?;
        let mut history = server.history();
        let mut view = crate::view::ProjectView {
            inner: &mut **history,
            runs: runs.keys().copied().collect(),
        };
        Ok(flakiness_analyze::shard::expected_durations(
            &mut view, recent,
        )?)
    })
    .await?;
    Ok(Json(json!({ "tests": tests })))
}
