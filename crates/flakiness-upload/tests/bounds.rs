//! The client's bounds against a hostile or broken server (issue 14, items 7 and 8): answer
//! bodies are read up to a cap whatever they announce, a server that never answers is given
//! up after the idle timeout, `Retry-After` is honoured in both its forms. A test binary of
//! its own: the memory check reads this process's peak (VmHWM).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use flakiness_upload::{retry_after, upload_blocking, Secret, UploadError, UploadOptions};

fn report() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reports/valid/nested-steps")
}

/// Reads a request's head (up to the blank line).
fn read_head(stream: &mut std::net::TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 << 10 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
}

fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs `f` on a thread; fails the test if it takes longer than `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("still running after {secs} s"))
}

#[test]
fn retry_after_takes_seconds_and_http_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00
    assert_eq!(retry_after("5", now), Some(Duration::from_secs(5)));
    assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
    assert_eq!(
        retry_after("86400", now),
        Some(Duration::from_secs(120)),
        "capped"
    );
    assert_eq!(
        retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO),
        "a date past is no wait"
    );
    assert_eq!(retry_after("soon", now), None);
}

#[test]
fn an_answer_announcing_gigabytes_is_read_only_to_its_cap() {
    if peak_rss() == 0 {
        eprintln!("skipped: no /proc/self/status here");
        return;
    }
    const SENT: usize = 160 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            read_head(&mut s);
            let _ = s.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 2147483648\r\n\r\n",
            );
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..SENT >> 20 {
                if s.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    });
    let mut opts = UploadOptions::new(format!("http://127.0.0.1:{port}"));
    opts.access_token = Some(Secret::new("flk_bounds_token"));
    opts.retries = 0;
    let before = peak_rss();
    let e = within(60, move || upload_blocking(&report(), &opts, None)).expect_err("refused");
    let grew = peak_rss().saturating_sub(before);
    assert!(matches!(e, UploadError::Status { status: 500, .. }), "{e}");
    assert!(
        e.to_string().contains("xxxx"),
        "the start of the body is shown: {e}"
    );
    assert!(
        grew < (SENT as u64) / 4,
        "peak memory grew by {} MiB for an answer of {} MiB",
        grew >> 20,
        SENT >> 20
    );
}

#[test]
fn a_server_that_never_answers_is_given_up_after_the_idle_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // Accepts, reads the request, and says nothing, ever.
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            read_head(&mut s);
            held.push(s);
        }
    });
    let mut opts = UploadOptions::new(format!("http://127.0.0.1:{port}"));
    opts.access_token = Some(Secret::new("flk_bounds_token"));
    opts.retries = 1;
    opts.backoff = Duration::from_millis(10);
    opts.idle_timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let e = within(60, move || upload_blocking(&report(), &opts, None)).expect_err("silent");
    assert!(matches!(e, UploadError::Network { .. }), "{e}");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "two attempts of a 1 s idle timeout took {took:?}"
    );
}
