//! Every input format `flakiness convert` reads, in one table: its `--from` name, its default
//! category, how it is told from the others, and its reader. A new format is a new module with
//! a [`Reader`] and one row of [`FORMATS`] (and a [`Format`] variant).
//!
//! JUnit XML and the pytest sources have readers of their own shape (JUnit streams root
//! suites out while it reads; pytest resolves attachments after reading) that the CLI drives
//! itself; every other format goes through [`Reader`].

use flakiness_report::Report;

use crate::{
    CargoTextCollector, ConvertError, Format, GoTestCollector, JestJsonCollector, JsRunner,
    LibtestCollector, Limits, Metadata,
};

/// A reader of one input format: documents in, one report out.
pub trait Reader: Send {
    /// Reads one document (a file's whole content). `input` names it in errors; `fallback_ms`
    /// is the start time used when the document has none (the file's modification time).
    fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError>;

    /// The report of every document read.
    fn into_report(self: Box<Self>, meta: &Metadata, fallback_ms: f64) -> Report;

    /// The runner whose official reporter names the environment (`jest`, `vitest`), when the
    /// environment is to be named after it rather than after the category.
    fn runner(&self) -> Option<String> {
        None
    }
}

/// The first bytes of an input, as detection sees them.
#[derive(Debug)]
pub struct Head<'a> {
    /// The bytes, a UTF-8 byte order mark removed.
    pub bytes: &'a [u8],
    /// The same as text (lossy), at most 64 KiB.
    pub text: &'a str,
    /// The first byte that is not whitespace.
    pub first: u8,
}

impl Head<'_> {
    /// The lines of the head that start a JSON object, trimmed.
    pub fn json_lines(&self) -> impl Iterator<Item = &str> {
        self.text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('{'))
    }

    /// True when the head holds `"key"`.
    pub fn has_key(&self, key: &str) -> bool {
        self.text.contains(&format!("\"{key}\""))
    }
}

/// One row of [`FORMATS`].
pub struct FormatSpec {
    /// The format.
    pub format: Format,
    /// Its `--from` names (the first is the one shown).
    pub names: &'static [&'static str],
    /// What writes it, for help texts.
    pub what: &'static str,
    /// The report category it defaults to.
    pub category: &'static str,
    /// Formats of one family may be inputs of one run together.
    pub family: u8,
    /// Whether the head is this format; the rows are tried in order.
    pub detect: fn(&Head<'_>) -> bool,
    /// Its reader, for the formats read through [`Reader`].
    pub reader: Option<fn() -> Box<dyn Reader>>,
}

impl std::fmt::Debug for FormatSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormatSpec")
            .field("format", &self.format)
            .field("names", &self.names)
            .finish()
    }
}

fn junit(h: &Head<'_>) -> bool {
    h.first == b'<'
}

fn pytest_reportlog(h: &Head<'_>) -> bool {
    h.json_lines()
        .next()
        .is_some_and(|l| l.contains("\"$report_type\""))
}

fn libtest_json(h: &Head<'_>) -> bool {
    h.json_lines().next().is_some_and(|l| {
        l.contains("\"type\"") && (l.contains("\"event\"") || l.contains("\"suite\""))
    })
}

fn pytest_json_report(h: &Head<'_>) -> bool {
    h.first == b'{'
        && h.has_key("exitcode")
        && h.has_key("root")
        && (h.has_key("tests") || h.has_key("summary"))
}

fn go_test_json(h: &Head<'_>) -> bool {
    h.json_lines().take(8).any(crate::gotest::is_event_line)
}

/// Jest's JSON shape: one document with `testResults` (Jest's and Vitest's alike).
fn jest_shaped(h: &Head<'_>) -> bool {
    h.first == b'{'
        && h.has_key("testResults")
        && (h.has_key("numTotalTests") || h.has_key("assertionResults"))
}

/// Vitest writes Jest's shape without the fields only Jest has (`numRuntimeErrorTestSuites`,
/// the first of them, `openHandles`, `wasInterrupted`).
fn vitest_json(h: &Head<'_>) -> bool {
    jest_shaped(h)
        && !h.has_key("numRuntimeErrorTestSuites")
        && !h.has_key("openHandles")
        && !h.has_key("wasInterrupted")
}

fn cargo_text(h: &Head<'_>) -> bool {
    h.text.lines().map(str::trim).any(|l| {
        l.starts_with("running ") && l.ends_with(" tests") && l.split(' ').count() == 3
            || l.starts_with("running 1 test")
            || l.starts_with("test result: ")
            || l.starts_with("Running ")
            || l.starts_with("Doc-tests ")
    })
}

/// Every format, in the order detection tries them.
pub const FORMATS: &[FormatSpec] = &[
    FormatSpec {
        format: Format::Junit,
        names: &["junit"],
        what: "JUnit XML (every common dialect)",
        category: flakiness_report::CATEGORY_JUNIT,
        family: 0,
        detect: junit,
        reader: None,
    },
    FormatSpec {
        format: Format::PytestReportlog,
        names: &["pytest-reportlog"],
        what: "pytest-reportlog (`pytest --report-log`)",
        category: flakiness_report::CATEGORY_PYTEST,
        family: 2,
        detect: pytest_reportlog,
        reader: None,
    },
    FormatSpec {
        format: Format::LibtestJson,
        names: &["libtest-json", "nextest-libtest-json"],
        what: "libtest JSON (cargo test, nextest)",
        category: flakiness_report::CATEGORY_CARGO,
        family: 1,
        detect: libtest_json,
        reader: Some(|| Box::<LibtestCollector>::default()),
    },
    FormatSpec {
        format: Format::GoTestJson,
        names: &["go-test-json"],
        what: "Go's test2json stream (`go test -json`, `gotestsum --jsonfile`)",
        category: "go",
        family: 3,
        detect: go_test_json,
        reader: Some(|| Box::<GoTestCollector>::default()),
    },
    FormatSpec {
        format: Format::PytestJsonReport,
        names: &["pytest-json-report"],
        what: "pytest-json-report (`pytest --json-report`)",
        category: flakiness_report::CATEGORY_PYTEST,
        family: 2,
        detect: pytest_json_report,
        reader: None,
    },
    FormatSpec {
        format: Format::VitestJson,
        names: &["vitest-json"],
        what: "Vitest's JSON (`vitest --reporter=json`)",
        category: "vitest",
        family: 5,
        detect: vitest_json,
        reader: Some(|| Box::new(JestJsonCollector::new(JsRunner::Vitest))),
    },
    FormatSpec {
        format: Format::JestJson,
        names: &["jest-json"],
        what: "Jest's JSON (`jest --json`)",
        category: "jest",
        family: 4,
        detect: jest_shaped,
        reader: Some(|| Box::new(JestJsonCollector::new(JsRunner::Jest))),
    },
    FormatSpec {
        format: Format::CargoText,
        names: &["cargo-text"],
        what: "plain `cargo test` output",
        category: flakiness_report::CATEGORY_CARGO,
        family: 1,
        detect: cargo_text,
        reader: Some(|| Box::<CargoTextCollector>::default()),
    },
];

/// The row of a format.
pub fn spec(format: Format) -> &'static FormatSpec {
    FORMATS
        .iter()
        .find(|s| s.format == format)
        .unwrap_or(&FORMATS[0])
}

/// The format a `--from` name names.
pub fn by_name(name: &str) -> Option<Format> {
    FORMATS
        .iter()
        .find(|s| s.names.contains(&name))
        .map(|s| s.format)
}

/// Every `--from` name, `auto` first.
pub fn names() -> Vec<&'static str> {
    std::iter::once("auto")
        .chain(FORMATS.iter().flat_map(|s| s.names.iter().copied()))
        .collect()
}

/// Detects the format from the first bytes of an input (64 KiB are plenty).
pub fn detect(head: &[u8]) -> Option<Format> {
    let bytes = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = *bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let h = Head {
        bytes,
        text: &text,
        first,
    };
    FORMATS.iter().find(|s| (s.detect)(&h)).map(|s| s.format)
}

/// Implements [`Reader`] for a collector with an inherent `read` of the same signature, and
/// the function that makes its report.
macro_rules! reader {
    ($collector:ty, $report:path) => {
        impl $crate::formats::Reader for $collector {
            fn read(
                &mut self,
                data: &[u8],
                input: &str,
                fallback_ms: f64,
                limits: &$crate::Limits,
            ) -> Result<(), $crate::ConvertError> {
                <$collector>::read(self, data, input, fallback_ms, limits)
            }

            fn into_report(
                self: Box<Self>,
                meta: &$crate::Metadata,
                fallback_ms: f64,
            ) -> flakiness_report::Report {
                $report(*self, meta, fallback_ms)
            }
        }
    };
}
pub(crate) use reader;

reader!(LibtestCollector, crate::libtest_report);
reader!(CargoTextCollector, CargoTextCollector::into_report);
