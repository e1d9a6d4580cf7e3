//! Our client through a server that, like some proxies, answers 411 to a POST without a
//! `Content-Length`: the upload goes through, because every POST says its length and its JSON
//! type, as the official SDK's do (issue 15, item 5).

mod common;

use std::sync::{Arc, Mutex};

use axum::http::{header, Method, StatusCode};
use axum::response::IntoResponse;
use flakiness_server::{Limits, Server, ServerConfig};
use flakiness_upload::{upload, Secret, UploadOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_pass_a_proxy_that_requires_content_length() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = ServerConfig {
        data_dir: dir.path().join("data"),
        ..ServerConfig::default()
    };
    let server = tokio::task::spawn_blocking(move || Server::open(config))
        .await
        .expect("join")
        .expect("open");
    let token = server.create_token("acme/web").expect("token");
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let router = server.router().layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let log = log.clone();
            async move {
                if req.method() == Method::POST {
                    let length = req.headers().get(header::CONTENT_LENGTH).cloned();
                    let kind = req.headers().get(header::CONTENT_TYPE).cloned();
                    log.lock().expect("log").push(format!(
                        "{} length={:?} type={:?}",
                        req.uri().path(),
                        length,
                        kind
                    ));
                    if length.is_none() {
                        return (StatusCode::LENGTH_REQUIRED, "411 Length Required")
                            .into_response();
                    }
                }
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(flakiness_server::serve_bounded(
        listener,
        router,
        Limits::default(),
        std::future::pending(),
    ));
    let report = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reports/valid/nested-steps");
    let mut opts = UploadOptions::new(&base);
    opts.access_token = Some(Secret::new(&token));
    opts.project = Some("acme/web".into());
    opts.retries = 0;
    let done = upload(&report, &opts, None).await;
    let seen = seen.lock().expect("log").clone();
    assert!(done.is_ok(), "{done:?}: {seen:?}");
    let finish = seen
        .iter()
        .find(|l| l.starts_with("/api/upload/finish"))
        .expect("finish was posted");
    assert!(
        finish.contains("length=Some(\"0\")") && finish.contains("application/json"),
        "{finish}"
    );
}
