//! The pages over HTTP: an axum router for any [`Catalog`].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use flakiness_analyze::diff::{diff, parse_pct, DiffOptions};
use flakiness_analyze::summarize;
use flakiness_report::Attachment;
use maud::Markup;

use crate::pages::{self, Assets, AttachmentView, RunFilter, TestQuery};
use crate::{AttachmentBody, AttachmentFile, Catalog, Project, WebError};

/// The Content-Security-Policy of every page: nothing from another origin, no inline script
/// or style, no plugin, no framing.
pub const CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'self'; \
                       script-src 'self'; form-action 'self'; base-uri 'none'; \
                       frame-ancestors 'none'";

/// The policy of attachments: shown, never run (a sandbox without scripts).
const ATTACHMENT_CSP: &str =
    "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

/// Bytes of one text attachment shown in a run page.
pub const TEXT_INLINE_MAX: u64 = 64 << 10;
/// Bytes of text attachments shown in one run page in all; the others are links.
pub const TEXT_INLINE_BUDGET: u64 = 4 << 20;

type Shared = Arc<dyn Catalog>;

/// The pages of `catalog`: `/` (projects), `/{org}/{project}` (runs),
/// `/{org}/{project}/runs/{run}` and its attachments, the comparison of two runs
/// `/{org}/{project}/runs/{run}/compare/{other}`, `/{org}/{project}/flaky`,
/// `/{org}/{project}/tests/{id}`, and `/static/`.
pub fn router(catalog: Arc<dyn Catalog>) -> Router {
    Router::new()
        .route("/", get(projects))
        .route("/static/site.css", get(css))
        .route("/static/site.js", get(js))
        .route("/{org}/{project}", get(overview))
        .route("/{org}/{project}/runs", get(runs))
        .route("/{org}/{project}/flaky", get(flaky))
        .route("/{org}/{project}/runs/{run}", get(run))
        .route(
            "/{org}/{project}/runs/{run}/attachments/{id}",
            get(attachment),
        )
        .route("/{org}/{project}/runs/{run}/compare/{other}", get(compare))
        .route("/{org}/{project}/tests/{test}", get(test))
        .with_state(catalog)
}

/// A page's response: HTML with the policy headers.
fn page(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(h, CSP);
    r
}

fn secure(h: &mut axum::http::HeaderMap, csp: &'static str) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn missing(what: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        pages::not_found(what, Assets::Linked),
    )
}

fn failed(e: &WebError) -> Response {
    if let WebError::TooBig { bytes } = e {
        return page(
            StatusCode::PAYLOAD_TOO_LARGE,
            pages::layout(
                "too big to show",
                &[("/".into(), "projects".into())],
                Assets::Linked,
                maud::html! {
                    h1 { "This run is too big to show" }
                    p { "Its report is " (bytes >> 20) " MiB; run pages show reports up to "
                        (crate::PAGE_REPORT_MAX >> 20) " MiB. Its tests are in the project's "
                        "run list and flaky tests, and its report can be downloaded from the JSON API." }
                },
            ),
        );
    }
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::layout(
            "error",
            &[("/".into(), "projects".into())],
            Assets::Linked,
            maud::html! { h1 { "Something went wrong" } p { (e.to_string()) } },
        ),
    )
}

/// Runs `f` off the async runtime; its error becomes a 500 page.
async fn blocking(f: impl FnOnce() -> Result<Response, WebError> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => failed(&e),
        Err(e) => failed(&WebError::Other(e.to_string())),
    }
}

fn open(catalog: &Shared, org: &str, project: &str) -> Result<Option<Arc<dyn Project>>, WebError> {
    catalog.project(org, project)
}

async fn css() -> Response {
    static_file("text/css; charset=utf-8", pages::STYLE)
}

async fn js() -> Response {
    static_file("text/javascript; charset=utf-8", pages::SCRIPT)
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    secure(h, CSP);
    r
}

async fn projects(State(catalog): State<Shared>) -> Response {
    blocking(move || {
        let mut list = Vec::new();
        for (org, project) in catalog.projects()? {
            let (runs, last) = match catalog.project(&org, &project)? {
                Some(p) => {
                    let h = p.history()?;
                    (h.runs.len(), h.runs.last().cloned())
                }
                None => (0, None),
            };
            list.push(pages::ProjectSummary {
                org,
                project,
                runs,
                last,
            });
        }
        Ok(page(
            StatusCode::OK,
            pages::projects_page(&list, Assets::Linked),
        ))
    })
    .await
}

async fn overview(
    State(catalog): State<Shared>,
    Path((org, project)): Path<(String, String)>,
) -> Response {
    project_page(catalog, org, project, |p, org, project| {
        let (history, analysis) = (p.history()?, p.analysis()?);
        Ok(pages::overview_page(
            org,
            project,
            &analysis,
            &history,
            Assets::Linked,
        ))
    })
    .await
}

/// A page of a project (a 404 page when there is no such project), rendered off the runtime.
async fn project_page(
    catalog: Shared,
    org: String,
    project: String,
    render: impl FnOnce(&dyn Project, &str, &str) -> Result<Markup, WebError> + Send + 'static,
) -> Response {
    blocking(move || {
        let Some(p) = open(&catalog, &org, &project)? else {
            return Ok(missing("No such project."));
        };
        Ok(page(StatusCode::OK, render(&*p, &org, &project)?))
    })
    .await
}

async fn runs(
    State(catalog): State<Shared>,
    Path((org, project)): Path<(String, String)>,
    Query(filter): Query<RunFilter>,
) -> Response {
    project_page(catalog, org, project, move |p, org, project| {
        let rows = p.runs()?;
        Ok(pages::runs_page(
            org,
            project,
            &rows,
            &filter,
            Assets::Linked,
        ))
    })
    .await
}

/// Whether a browser shows this content type as an image without risk (SVG can hold script:
/// it is downloaded instead).
pub fn is_shown_image(content_type: &str) -> bool {
    matches!(
        content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .as_str(),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp"
    )
}

/// Whether an attachment is text to show in the page.
pub fn is_shown_text(content_type: &str) -> bool {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct == "application/json"
        || ct == "application/xml"
        || ct.ends_with("+json")
        || ct.ends_with("+xml")
        || ct.ends_with("+text")
}

/// The start of a text file, at most `max` bytes (cut at a character boundary).
pub fn read_text_head(file: &AttachmentFile, max: u64) -> Option<String> {
    let (buf, len) = file.head(max)?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if len > max {
        text.push_str(&format!(
            "\n… ({len} bytes in all: download it to see the rest)"
        ));
    }
    Some(text)
}

async fn run(
    State(catalog): State<Shared>,
    Path((org, project, key)): Path<(String, String, String)>,
    Query(query): Query<TestQuery>,
) -> Response {
    blocking(move || {
        let Some(p) = open(&catalog, &org, &project)? else {
            return Ok(missing("No such project."));
        };
        let Some(report) = p.report(&key)? else {
            return Ok(missing("No such run."));
        };
        let history = p.history()?;
        let budget = std::cell::Cell::new(TEXT_INLINE_BUDGET);
        let view = |a: &Attachment| -> AttachmentView {
            let Ok(Some(file)) = p.attachment(&key, &a.id) else {
                return AttachmentView::default();
            };
            let href = format!(
                "/{org}/{project}/runs/{key}/attachments/{}",
                pages::percent(&a.id)
            );
            let mut v = AttachmentView {
                href: Some(href.clone()),
                ..AttachmentView::default()
            };
            if is_shown_image(&a.content_type) {
                v.image = Some(href);
            } else if is_shown_text(&a.content_type) && budget.get() > 0 {
                let max = TEXT_INLINE_MAX.min(budget.get());
                v.text = read_text_head(&file, max);
                budget.set(budget.get().saturating_sub(max));
            }
            v
        };
        // The run just before it by start time.
        let previous = history.previous(&key).map(|r| r.key.as_str());
        Ok(page(
            StatusCode::OK,
            pages::run_page(
                &org,
                &project,
                &key,
                previous,
                &report,
                &query,
                &view,
                &|file, title_path, env| {
                    let id = history.test_id(file, title_path, env)?;
                    Some(format!("/{org}/{project}/tests/{id}"))
                },
                Assets::Linked,
            ),
        ))
    })
    .await
}

/// The query of the comparison page.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct CompareQuery {
    /// The percentage past which a test is slower or faster ([`DiffOptions::slower_pct`]).
    slower: Option<String>,
}

/// Run `key` (A) compared with run `other` (B): both summarised as the analyzer stores them,
/// then [`diff`].
async fn compare(
    State(catalog): State<Shared>,
    Path((org, project, key, other)): Path<(String, String, String, String)>,
    Query(query): Query<CompareQuery>,
) -> Response {
    blocking(move || {
        let mut opts = DiffOptions::default();
        if let Some(given) = query.slower.as_deref().filter(|s| !s.trim().is_empty()) {
            match parse_pct(given) {
                Ok(pct) => opts.slower_pct = pct,
                Err(e) => {
                    return Ok(page(
                        StatusCode::BAD_REQUEST,
                        pages::layout(
                            "bad request",
                            &[("/".into(), "projects".into())],
                            Assets::Linked,
                            maud::html! { h1 { "Bad request" } p { "?slower=" (e) } },
                        ),
                    ))
                }
            }
        }
        let Some(p) = open(&catalog, &org, &project)? else {
            return Ok(missing("No such project."));
        };
        let (Some(a), Some(b)) = (p.report(&key)?, p.report(&other)?) else {
            return Ok(missing("No such run."));
        };
        let (a, b) = (summarize(&a, &key, ""), summarize(&b, &other, ""));
        Ok(page(
            StatusCode::OK,
            pages::compare_page(
                &org,
                &project,
                &key,
                &other,
                &diff(&a, &b, &opts),
                Assets::Linked,
            ),
        ))
    })
    .await
}

async fn attachment(
    State(catalog): State<Shared>,
    Path((org, project, key, id)): Path<(String, String, String, String)>,
) -> Response {
    let found = tokio::task::spawn_blocking(move || -> Result<_, WebError> {
        let Some(p) = open(&catalog, &org, &project)? else {
            return Ok(None);
        };
        p.attachment(&key, &id)
    })
    .await;
    let file = match found {
        Ok(Ok(Some(f))) => f,
        Ok(Ok(None)) => return missing("No such attachment."),
        Ok(Err(e)) => return failed(&e),
        Err(e) => return failed(&WebError::Other(e.to_string())),
    };
    let (body, len) = match &file.body {
        AttachmentBody::File(path) => {
            // Never through a symbolic link, only a regular file.
            let path = path.clone();
            let opened =
                tokio::task::spawn_blocking(move || flakiness_report::files::open_no_follow(&path))
                    .await;
            let Ok(Ok(handle)) = opened else {
                return missing("The attachment's file is gone.");
            };
            let handle = tokio::fs::File::from_std(handle);
            let len = handle.metadata().await.map(|m| m.len()).ok();
            (
                Body::from_stream(tokio_util::io::ReaderStream::new(handle)),
                len,
            )
        }
        AttachmentBody::Stored(blob) => match blob.open().await {
            Ok(Some((stream, len))) => (Body::from_stream(stream), Some(len)),
            Ok(None) => return missing("The attachment's file is gone."),
            Err(e) => return failed(&WebError::Other(e.to_string())),
        },
    };
    let mut r = Response::new(body);
    let h = r.headers_mut();
    let (content_type, inline) = if is_shown_image(&file.content_type) {
        (file.content_type.clone(), true)
    } else if is_shown_text(&file.content_type) {
        ("text/plain; charset=utf-8".to_string(), true)
    } else {
        (file.content_type.clone(), false)
    };
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    if !inline {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    secure(h, ATTACHMENT_CSP);
    r
}

async fn flaky(
    State(catalog): State<Shared>,
    Path((org, project)): Path<(String, String)>,
) -> Response {
    project_page(catalog, org, project, |p, org, project| {
        let analysis = p.analysis()?;
        let keys = p
            .history()?
            .runs
            .iter()
            .map(|r| (r.run_id, r.key.clone()))
            .collect();
        Ok(pages::flaky_page(
            org,
            project,
            &analysis,
            &keys,
            Assets::Linked,
        ))
    })
    .await
}

/// The page of a list (`?page=N`, 1-based).
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn test(
    State(catalog): State<Shared>,
    Path((org, project, test)): Path<(String, String, String)>,
    Query(query): Query<PageQuery>,
) -> Response {
    blocking(move || {
        let Some(p) = open(&catalog, &org, &project)? else {
            return Ok(missing("No such project."));
        };
        let Ok(test_id) = test.parse::<i64>() else {
            return Ok(missing("No such test."));
        };
        let analysis = p.analysis()?;
        if !analysis.tests.iter().any(|t| t.test_id == test_id) {
            return Ok(missing("No such test."));
        }
        let history = p.history()?;
        let failures = p.test_failures(test_id, usize::MAX)?;
        Ok(
            match pages::test_page(
                &org,
                &project,
                &analysis,
                &history,
                test_id,
                &failures,
                query.page.unwrap_or(1),
                Assets::Linked,
            ) {
                Some(m) => page(StatusCode::OK, m),
                None => missing("No such test."),
            },
        )
    })
    .await
}

/// The cookie `flakiness show` keeps its token in.
pub const SHOW_COOKIE: &str = "flakiness_show";

/// `router` behind a token (`flakiness show`): a request with `?token=TOKEN` gets the token
/// as an HTTP-only, same-site cookie and is sent on to the same page without it (`landing`
/// for `/`); every other request needs that cookie or an `Authorization: Bearer TOKEN` header
/// (compared in constant time), or gets 403.
pub fn gated(router: Router, token: String, landing: String) -> Router {
    let token = Arc::new(token);
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let (token, landing) = (token.clone(), landing.clone());
            async move {
                let from_query = req.uri().query().and_then(|q| {
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("token="))
                        .map(str::to_string)
                });
                if let Some(given) = from_query {
                    if same(&given, &token) {
                        // On to the page asked for, without the token; `/` is the landing.
                        // Always a path of ours: one leading slash, never `//host` (another
                        // site) or a backslash a browser reads as one.
                        let asked = req.uri().path();
                        let path = format!("/{}", asked.trim_start_matches(['/', '\\']));
                        let path = path.as_str();
                        let rest: Vec<&str> = req
                            .uri()
                            .query()
                            .unwrap_or_default()
                            .split('&')
                            .filter(|kv| !kv.is_empty() && !kv.starts_with("token="))
                            .collect();
                        let target = match (path, rest.is_empty()) {
                            ("/", true) => landing.clone(),
                            (_, true) => path.to_string(),
                            (_, false) => format!("{path}?{}", rest.join("&")),
                        };
                        let mut r = Response::new(Body::empty());
                        *r.status_mut() = StatusCode::SEE_OTHER;
                        let h = r.headers_mut();
                        if let Ok(v) = HeaderValue::from_str(&target) {
                            h.insert(header::LOCATION, v);
                        }
                        if let Ok(v) = HeaderValue::from_str(&format!(
                            "{SHOW_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
                        )) {
                            h.insert(header::SET_COOKIE, v);
                        }
                        return r;
                    }
                }
                let cookie_ok = req
                    .headers()
                    .get_all(header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(';'))
                    .filter_map(|kv| kv.trim().strip_prefix(SHOW_COOKIE)?.strip_prefix('='))
                    .any(|v| same(v, &token));
                let bearer_ok = req
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .is_some_and(|(_, v)| same(v.trim(), &token));
                if cookie_ok || bearer_ok {
                    next.run(req).await
                } else {
                    let mut r = Response::new(Body::from(
                        "forbidden: open a page with ?token=TOKEN, or send Authorization: Bearer TOKEN\n",
                    ));
                    *r.status_mut() = StatusCode::FORBIDDEN;
                    r
                }
            }
        },
    ))
}

/// `router` with the pages' security headers on every answer that lacks them: errors too
/// (axum's 400s, the 404 of an unknown path, the gate's 403), with a policy that allows
/// nothing where the answer set none.
pub fn hardened(router: Router) -> Router {
    router.layer(axum::middleware::map_response(
        |mut r: Response| async move {
            let h = r.headers_mut();
            if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
                );
            }
            for (name, value) in [
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::X_FRAME_OPTIONS, "DENY"),
            ] {
                if !h.contains_key(&name) {
                    h.insert(name, HeaderValue::from_static(value));
                }
            }
            r
        },
    ))
}

fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A random token for [`gated`]: 32 hex digits.
pub fn random_token() -> String {
    let mut buf = [0u8; 16];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
