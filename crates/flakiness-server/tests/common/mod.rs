//! A server on loopback for the tests: opened on a data folder, serving on a free port until
//! the test ends.

#![allow(dead_code)]

use flakiness_server::{serve_with_shutdown, Server, ServerConfig};

/// Opens a server with `config`, makes a token for acme/web and serves it on a free port of
/// 127.0.0.1: (server, base URL, token).
pub async fn serve(config: ServerConfig) -> (Server, String, String) {
    let server = tokio::task::spawn_blocking(move || Server::open(config))
        .await
        .expect("join")
        .expect("open");
    let token = server.create_token("acme/web").expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(serve_with_shutdown(
        listener,
        server.clone(),
        std::future::pending(),
    ));
    (server, base, token)
}
