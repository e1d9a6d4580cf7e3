//! The client without a server: reading, validating, compressing, refusing; the end-to-end
//! tests against `flakiness serve` are in the server's crate.

use std::path::{Path, PathBuf};

use flakiness_upload::{upload_blocking, Encoding, Secret, UploadError, UploadOptions};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_dry_run_reads_validates_and_compresses_without_sending() {
    let dir = repo().join("testdata/reports/valid/nested-steps");
    let mut opts = UploadOptions::new("http://127.0.0.1:9"); // nothing listens there
    opts.dry_run = true;
    let done = upload_blocking(&dir, &opts, None).expect("dry run");
    assert_eq!(done.web_url, None);
    assert_eq!(
        done.attachments, 3,
        "the three attachments the report references"
    );
    let size = std::fs::metadata(dir.join("report.json"))
        .expect("meta")
        .len();
    assert_eq!(done.report_bytes, size);
    assert!(done.report_compressed_bytes > 0 && done.report_compressed_bytes < size);
    assert_eq!(done.sent_bytes, 0);
}

#[test]
fn an_invalid_report_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("report.json"), br#"{"category": "junit"}"#).expect("write");
    let mut opts = UploadOptions::new("http://127.0.0.1:9");
    opts.dry_run = true;
    let e = upload_blocking(tmp.path(), &opts, None).expect_err("invalid");
    assert!(matches!(e, UploadError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("--force"), "{e}");
    // Forced: it goes (this is a dry run) ...
    opts.force = true;
    let done = upload_blocking(tmp.path(), &opts, None).expect("forced");
    assert_eq!(done.report_bytes, 21);
    // ... but it has to be JSON.
    std::fs::write(tmp.path().join("report.json"), b"<xml/>").expect("write");
    let e = upload_blocking(tmp.path(), &opts, None).expect_err("not a report");
    assert!(matches!(e, UploadError::NotAReport { .. }), "{e}");
}

#[test]
fn no_token_and_bad_endpoints_are_clear_errors() {
    let dir = repo().join("testdata/reports/valid/nested-steps");
    let opts = UploadOptions::new("http://127.0.0.1:9");
    let e = upload_blocking(&dir, &opts, None).expect_err("no token");
    assert!(matches!(e, UploadError::NoToken), "{e}");
    let e = upload_blocking(&dir, &UploadOptions::new("not a url"), None).expect_err("url");
    assert!(matches!(e, UploadError::BadEndpoint { .. }), "{e}");
    let missing = repo().join("testdata/reports/valid/no-such-dir");
    let e = upload_blocking(&missing, &opts, None).expect_err("missing");
    assert!(matches!(e, UploadError::Io { .. }), "{e}");
}

#[test]
fn a_server_that_is_not_there_is_retried_then_reported_without_the_token() {
    let dir = repo().join("testdata/reports/valid/nested-steps");
    // A port nobody listens on: connection refused, a failure a retry can help with.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut opts = UploadOptions::new(format!("http://127.0.0.1:{port}"));
    opts.access_token = Some(Secret::new("flk_secret_token_value"));
    opts.retries = 2;
    opts.backoff = std::time::Duration::from_millis(10);
    let started = std::time::Instant::now();
    let e = upload_blocking(&dir, &opts, None).expect_err("refused");
    assert!(matches!(e, UploadError::Network { .. }), "{e}");
    assert!(e.to_string().starts_with("upload/start: "), "{e}");
    assert!(!format!("{e} {e:?} {opts:?}").contains("flk_secret_token_value"));
    assert!(started.elapsed() >= std::time::Duration::from_millis(10));
}

#[test]
fn both_encodings_round_trip() {
    let text = "a line of test output\n".repeat(10_000);
    for enc in [Encoding::Brotli, Encoding::Zstd] {
        let packed = enc.compress(text.as_bytes());
        assert!(packed.len() < text.len() / 20, "{enc:?}: {}", packed.len());
        let back = match enc {
            Encoding::Brotli => {
                let mut out = Vec::new();
                brotli_decompress(&packed, &mut out);
                out
            }
            Encoding::Zstd => zstd::decode_all(packed.as_slice()).expect("zstd"),
        };
        assert_eq!(back, text.as_bytes(), "{enc:?}");
    }
    assert_eq!(Encoding::Brotli.header(), "br");
    assert_eq!(Encoding::Zstd.header(), "zstd");
}

fn brotli_decompress(data: &[u8], out: &mut Vec<u8>) {
    let mut input = data;
    brotli::BrotliDecompress(&mut input, out).expect("brotli");
}
