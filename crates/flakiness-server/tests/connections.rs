//! The server's connection bounds (issue 14, item 9): a request's head must come within the
//! header-read timeout (a partial request line, trickled headers, an idle kept-alive
//! connection are closed), and connections past the per-client cap are closed at once.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use flakiness_server::{Limits, ServerConfig};

/// A server with a 1 s header-read timeout and 3 connections per client.
async fn bounded() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let (_server, base, _token) = common::serve(ServerConfig {
        data_dir: dir.path().join("data"),
        limits: Limits {
            header_read_timeout: Duration::from_secs(1),
            max_connections_per_client: 3,
            ..Limits::default()
        },
        ..ServerConfig::default()
    })
    .await;
    (dir, base.trim_start_matches("http://").to_string())
}

/// Seconds until the server closes `s` (reads until EOF or an error), at most `max`.
fn closed_after(mut s: TcpStream, max: u64) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(max) {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_or_idle_clients_are_closed_and_capped() {
    let (_dir, addr) = bounded().await;
    let addr2 = addr.clone();
    tokio::task::spawn_blocking(move || {
        let addr = addr2;
        // A partial request line, then nothing.
        let mut s = TcpStream::connect(&addr).expect("connect");
        s.write_all(b"GET /static/site.css HT").expect("write");
        let t = closed_after(s, 10).expect("a partial request line is closed");
        assert!(t < Duration::from_secs(4), "{t:?}");

        // Headers trickled a byte every 200 ms: the timeout counts from the start.
        let s = TcpStream::connect(&addr).expect("connect");
        let trickle = s.try_clone().expect("clone");
        let writer = std::thread::spawn(move || {
            let mut t = trickle;
            for b in b"GET /static/site.css HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                if t.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let t = closed_after(s.try_clone().expect("clone"), 15).expect("trickled headers are closed");
        assert!(t < Duration::from_secs(5), "{t:?}");
        let _ = s.shutdown(std::net::Shutdown::Both);
        let _ = writer.join();

        // A kept-alive connection that asks nothing more.
        let mut s = TcpStream::connect(&addr).expect("connect");
        s.write_all(b"GET /static/site.css HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let t = closed_after(s, 10).expect("an idle kept-alive connection is closed");
        assert!(t < Duration::from_secs(4), "{t:?}");

        // Three connections from this address are held; a fourth is closed at once.
        let held: Vec<TcpStream> = (0..3)
            .map(|_| TcpStream::connect(&addr).expect("connect"))
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let fourth = TcpStream::connect(&addr).expect("connect");
        let t = closed_after(fourth, 10).expect("the fourth is closed");
        assert!(t < Duration::from_millis(700), "closed only after {t:?}");
        drop(held);
        // Once they are gone, a new connection is served.
        std::thread::sleep(Duration::from_millis(300));
        let mut s = TcpStream::connect(&addr).expect("connect");
        s.write_all(b"GET /static/site.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    })
    .await
    .expect("join");
}
