//! Detection (`--from auto`) on every recorded input: each format's files are told apart from
//! every other format's by the table of formats (`flakiness_convert::FORMATS`).

use std::path::PathBuf;

use flakiness_convert::{detect, formats, Format, FORMATS};

mod common;
use common::repo;

fn files(dir: &str, ends: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(ends))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{dir}/*{ends}");
    out
}

#[test]
fn every_recorded_input_is_detected_as_its_format() {
    let cases: Vec<(Vec<PathBuf>, Format)> = vec![
        (files("testdata/inputs/pytest", ".xml"), Format::Junit),
        (
            files("testdata/inputs/go", "gotestsum-junit.xml"),
            Format::Junit,
        ),
        (files("testdata/inputs/go", ".json"), Format::GoTestJson),
        (files("testdata/inputs/dart", ".json"), Format::DartJson),
        (
            files("testdata/inputs/go/go1.27", ".json"),
            Format::GoTestJson,
        ),
        (
            files("testdata/inputs/pytest", "reportlog.jsonl"),
            Format::PytestReportlog,
        ),
        (
            files("testdata/inputs/pytest", "json-report.json"),
            Format::PytestJsonReport,
        ),
        (
            files("testdata/inputs/cargo", "libtest.json"),
            Format::LibtestJson,
        ),
        (
            files("testdata/inputs/cargo", "libtest-json.jsonl"),
            Format::LibtestJson,
        ),
        (
            files("testdata/inputs/cargo", "cargo-test.txt"),
            Format::CargoText,
        ),
        (
            files("testdata/inputs/gtest", "gtest.json"),
            Format::GtestJson,
        ),
        (
            files("testdata/identity/jest/out", "jest.json"),
            Format::JestJson,
        ),
        (
            files("testdata/identity/vitest/out", "vitest.json"),
            Format::VitestJson,
        ),
        (files("testdata/inputs/gtest", "gtest.xml"), Format::Junit),
        (
            files("testdata/inputs/catch2", "-v2.xml"),
            Format::Catch2Xml,
        ),
        (
            files("testdata/inputs/catch2", "-v3.xml"),
            Format::Catch2Xml,
        ),
        (files("testdata/inputs/catch2", "-junit.xml"), Format::Junit),
        (files("testdata/inputs/nunit", ".xml"), Format::NunitXml),
        (files("testdata/inputs/trx", ".trx"), Format::Trx),
        (
            files("testdata/inputs/rspec", "rspec.json"),
            Format::RspecJson,
        ),
        (
            files("testdata/inputs/mocha", "mocha.json"),
            Format::MochaJson,
        ),
        (
            files("testdata/inputs/mocha", "mochawesome.json"),
            Format::Mochawesome,
        ),
        (
            files("testdata/reports/valid", ".json"),
            Format::FlakinessReport,
        ),
        (
            files("testdata/reports/warnings", ".json"),
            Format::FlakinessReport,
        ),
    ];
    for (paths, want) in cases {
        for p in paths {
            let head = std::fs::read(&p).expect("read");
            let head = &head[..head.len().min(256 * 1024)];
            assert_eq!(detect(head), Some(want), "{}", p.display());
        }
    }
}

#[test]
fn every_format_has_a_name_and_a_row() {
    for spec in FORMATS {
        assert!(!spec.names.is_empty());
        for name in spec.names {
            assert_eq!(formats::by_name(name), Some(spec.format), "{name}");
        }
    }
    assert_eq!(formats::names()[0], "auto");
    assert_eq!(detect(b"   \n"), None);
    assert_eq!(detect(b"just some notes\n"), None);
}

/// The readers of line streams (Go's test2json, Dart's JSON) refuse a line longer than
/// `MAX_LINE_BYTES` with an error at its start, without holding it, and take JSON nested past
/// serde_json's depth limit without a panic (an error, or a line skipped).
#[test]
fn stream_readers_refuse_huge_lines_and_survive_deep_nesting() {
    use flakiness_convert::{Limits, MAX_LINE_BYTES};
    let streaming: Vec<_> = FORMATS
        .iter()
        .filter(|f| matches!(f.format, Format::GoTestJson | Format::DartJson))
        .filter_map(|f| f.reader.map(|r| (f.names[0], r)))
        .collect();
    assert_eq!(streaming.len(), 2);
    let first = b"{\"Time\":\"2026-12-07T00:00:00Z\",\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"T\"}\n";
    let mut huge = first.to_vec();
    huge.resize(first.len() + MAX_LINE_BYTES as usize + 10, b'a');
    let deep = format!(
        "{{\"type\":\"testStart\",\"time\":1,\"test\":{}1{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for (name, make) in streaming {
        let mut reader = make();
        let mut r: &[u8] = &huge;
        let e = reader
            .read_stream(&mut r, "huge", 0.0, &Limits::default())
            .expect_err(name);
        assert!(e.message.contains("longer than 64 MiB"), "{name}: {e}");
        assert_eq!(e.offset, first.len() as u64, "{name}");
        let mut reader = make();
        let mut r: &[u8] = deep.as_bytes();
        let _ = reader.read_stream(&mut r, "deep", 0.0, &Limits::default());
    }
}
