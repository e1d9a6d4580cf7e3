//! A compression bomb is refused without being held (issue 14, item 5): the peak memory of
//! this process (its own test binary, one test) grows by far less than the limit while a
//! `*.json.zst` that inflates to four times the limit is read.

use std::io::Write;

use flakiness_analyze::{read_bytes, LoadLimits, ReportSource, SourceKind};

/// The process's peak resident memory (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn a_zstd_bomb_is_refused_without_holding_what_it_inflates() {
    if peak_rss() == 0 {
        eprintln!("skipped: no /proc/self/status here");
        return;
    }
    const LIMIT: u64 = 96 << 20;
    let dir = tempfile::tempdir().expect("tmp");
    let bomb = dir.path().join("bomb.json.zst");
    {
        let file = std::fs::File::create(&bomb).expect("create");
        let mut enc = zstd::stream::Encoder::new(file, 3).expect("encoder");
        enc.write_all(b"[").expect("write");
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..((4 * LIMIT) >> 20) {
            enc.write_all(&zeros).expect("write");
        }
        enc.finish().expect("finish");
    }
    assert!(std::fs::metadata(&bomb).expect("meta").len() < (1 << 20));
    let limits = LoadLimits {
        max_report_bytes: LIMIT,
    };
    let source = ReportSource {
        path: bomb.clone(),
        kind: SourceKind::JsonZst,
    };
    let before = peak_rss();
    let skipped = read_bytes(&source, &limits).expect_err("refused");
    let grew = peak_rss().saturating_sub(before);
    assert!(
        skipped.reason.contains("larger than") && skipped.reason.contains("decompressed"),
        "{}",
        skipped.reason
    );
    assert!(
        grew < LIMIT / 3,
        "peak memory grew by {} MiB reading a bomb (limit {} MiB)",
        grew >> 20,
        LIMIT >> 20
    );
    // Within the limit, the report is read whole.
    let small = dir.path().join("small.json.zst");
    std::fs::write(
        &small,
        zstd::encode_all(&b"{\"a\": 1}"[..], 3).expect("encode"),
    )
    .expect("write");
    let bytes = read_bytes(
        &ReportSource {
            path: small,
            kind: SourceKind::JsonZst,
        },
        &limits,
    )
    .expect("read");
    assert_eq!(bytes, b"{\"a\": 1}");
}
