//! Memory bounds of `convert` that only a whole process shows (issue 14, item 6): in a test
//! binary of its own, so that the peak resident memory of the children it waited for
//! (`getrusage(RUSAGE_CHILDREN)`) is that of its own `flakiness` runs.

use std::io::Write as _;
use std::process::Command;

/// Peak resident memory of the largest child waited for so far, in bytes.
#[allow(unsafe_code)]
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage writes into the struct it is given, which lives for the call.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// A late XML error is located by streaming the file: the 96 MiB before a bad closing tag at
/// the end are not held to count lines (they were: peak RSS grew by the whole prefix).
#[test]
fn a_late_xml_error_is_located_in_constant_memory() {
    const PAD: usize = 96 << 20;
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("late.xml");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
        f.write_all(b"<?xml version=\"1.0\"?>\n<testsuites>\n<!--")
            .expect("write");
        let line = [b' '; 1023];
        for _ in 0..PAD / 1024 {
            f.write_all(&line).expect("write");
            f.write_all(b"\n").expect("write");
        }
        f.write_all(b"-->\n<testsuite name=\"s\"><testcase name=\"t\"/></testsuit>\n")
            .expect("write");
    }
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .args([
            "convert",
            "--commit-id",
            "0123456789abcdef0123456789abcdef01234567",
        ])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("convert");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    // Two lines of header, the padding's lines, the comment's end, then the suite's line.
    let want_line = 2 + PAD / 1024 + 2;
    assert!(err.contains(&format!("late.xml:{want_line}:")), "{err}");
    let peak = children_peak_rss();
    if peak == 0 {
        eprintln!("skipped the memory check: no getrusage here");
        return;
    }
    assert!(
        peak < (PAD as u64) * 2 / 3,
        "peak RSS {} MiB to locate an error after {} MiB",
        peak >> 20,
        PAD >> 20
    );
}
