//! Every input format `flakiness convert` reads, in one table: its `--from` name, its default
//! category, how it is told from the others, and its reader. A new format is a new module with
//! a [`Reader`] and one row of [`FORMATS`] (and a [`Format`] variant).
//!
//! JUnit XML and the pytest sources have readers of their own shape (JUnit streams root
//! suites out while it reads; pytest resolves attachments after reading) that the CLI drives
//! itself; every other format goes through [`Reader`].

use flakiness_report::Report;

use crate::{
    CargoTextCollector, Catch2Collector, ConvertError, DartJsonCollector, Format, GoTestCollector,
    GtestCollector, JestJsonCollector, JsRunner, LibtestCollector, Limits, Metadata,
    MochaJsonCollector, MochawesomeCollector, NunitCollector, ReportsCollector, RspecCollector,
    TrxCollector,
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

    /// Reads one document from a stream, for the readers that never need it whole
    /// ([`streams`](Self::streams)); errors carry byte offsets, placed by the caller.
    fn read_stream(
        &mut self,
        r: &mut dyn std::io::BufRead,
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut data = Vec::new();
        r.read_to_end(&mut data)
            .map_err(|e| ConvertError::at(input, 0, format!("cannot read: {e}")))?;
        self.read(&data, input, fallback_ms, limits)
    }

    /// True for a reader that reads a stream as it comes ([`read_stream`](Self::read_stream)):
    /// its input is never held whole.
    fn streams(&self) -> bool {
        false
    }

    /// Files the report refers to as attachments, to copy into `attachments/` (asked before
    /// [`into_report`](Self::into_report)).
    fn attachments(&mut self) -> Vec<crate::AttachmentSource> {
        Vec::new()
    }

    /// Odd things met while reading that did not stop it (a missing attachment file), asked
    /// before [`into_report`](Self::into_report).
    fn warnings(&mut self) -> Vec<crate::ConvertWarning> {
        Vec::new()
    }

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
    /// The name of the root element when the head is XML (see [`xml_root`]).
    pub root: Option<&'a str>,
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

    /// The XML format whose root element the head starts with (see [`XML_ROOTS`]).
    pub fn xml_format(&self) -> Option<Format> {
        let root = self.root?;
        XML_ROOTS
            .iter()
            .find(|(name, _)| *name == root)
            .map(|(_, f)| *f)
    }
}

/// The root elements that name an XML format. XML whose root is none of these is JUnit's (whose
/// reader then says what the root is: `<html>`…).
pub const XML_ROOTS: &[(&str, Format)] = &[
    ("testsuites", Format::Junit),
    ("testsuite", Format::Junit),
    ("testcase", Format::Junit),
    ("Catch", Format::Catch2Xml),
    ("Catch2TestRun", Format::Catch2Xml),
    ("test-run", Format::NunitXml),
    ("test-results", Format::NunitXml),
    ("TestRun", Format::Trx),
];

/// The local name (without a namespace prefix) of the root element of an XML document's first
/// bytes: the XML declaration, processing instructions, comments, a DOCTYPE (with its internal
/// subset) and blanks before it are skipped. `None` when the bytes do not start so, or end
/// before the name does. A byte order mark must be removed first.
pub fn xml_root(bytes: &[u8]) -> Option<&str> {
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let rest = &bytes[i..];
        if rest.starts_with(b"<?") {
            i += find(rest, b"?>")? + 2;
        } else if rest.starts_with(b"<!--") {
            i += 4 + find(&rest[4..], b"-->")? + 3;
        } else if rest.starts_with(b"<!") {
            i += declaration_end(rest)?;
        } else if rest.first() == Some(&b'<') {
            let name = &rest[1..];
            let end = name
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))?;
            let name = std::str::from_utf8(&name[..end]).ok()?;
            return Some(name.rsplit(':').next().unwrap_or(name)).filter(|n| !n.is_empty());
        } else {
            return None;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The length of a `<!DOCTYPE …>` at the start of `b`: to the `>` outside quotes, the internal
/// subset's brackets and its comments.
fn declaration_end(b: &[u8]) -> Option<usize> {
    let (mut i, mut depth, mut quote) = (2, 0usize, None::<u8>);
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if b[i..].starts_with(b"<!--") => {
                i += 4 + find(&b[i + 4..], b"-->")? + 3;
                continue;
            }
            None => match c {
                b'"' | b'\'' => quote = Some(c),
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 => return Some(i + 1),
                _ => {}
            },
        }
        i += 1;
    }
    None
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

/// XML with a JUnit root, or a root no other XML format claims (the JUnit reader refuses it,
/// saying what the root is).
fn junit(h: &Head<'_>) -> bool {
    h.first == b'<' && h.xml_format().is_none_or(|f| f == Format::Junit)
}

fn catch2_xml(h: &Head<'_>) -> bool {
    h.xml_format() == Some(Format::Catch2Xml)
}

fn nunit_xml(h: &Head<'_>) -> bool {
    h.xml_format() == Some(Format::NunitXml)
}

fn trx(h: &Head<'_>) -> bool {
    h.xml_format() == Some(Format::Trx)
}

/// GoogleTest's `--gtest_output=json`: `{"tests": …, "failures": …, "disabled": …, "testsuites": [`.
fn gtest_json(h: &Head<'_>) -> bool {
    h.first == b'{' && h.has_key("testsuites") && h.has_key("disabled") && h.has_key("failures")
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

/// `dart test --reporter json`, `flutter test --machine`: one of the first JSON lines is an
/// event of the protocol (`"protocolVersion"`, `"testID"`, `"groupIDs"`…).
fn dart_json(h: &Head<'_>) -> bool {
    h.json_lines().take(8).any(crate::dart::is_event_line)
}

fn go_test_json(h: &Head<'_>) -> bool {
    h.json_lines().take(8).any(crate::gotest::is_event_line)
}

fn flakiness_report(h: &Head<'_>) -> bool {
    h.first == b'{' && crate::reports::is_report(h.text)
}

/// True when a line of the head starts (in its first column) with `{`: a JSON document,
/// alone or after other output.
fn json_object_line(h: &Head<'_>) -> bool {
    h.first == b'{' || h.text.lines().any(|l| l.starts_with('{'))
}

fn rspec_json(h: &Head<'_>) -> bool {
    json_object_line(h)
        && h.has_key("examples")
        && ((h.has_key("full_description") && h.has_key("file_path"))
            || (h.has_key("summary_line") && h.has_key("errors_outside_of_examples_count")))
}

fn mochawesome(h: &Head<'_>) -> bool {
    json_object_line(h)
        && h.has_key("stats")
        && h.has_key("results")
        && (h.has_key("testsRegistered") || h.has_key("passPercent"))
}

fn mocha_json(h: &Head<'_>) -> bool {
    json_object_line(h)
        && h.has_key("stats")
        && h.has_key("tests")
        && h.has_key("passes")
        && h.has_key("pending")
        && h.has_key("failures")
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
        format: Format::FlakinessReport,
        names: &["flakiness-report"],
        what: "Flakiness reports (`report.json`: CI shards of one run, ours or the official reporters')",
        category: flakiness_report::CATEGORY_JUNIT,
        family: 4,
        detect: flakiness_report,
        reader: Some(|| Box::<ReportsCollector>::default()),
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
        format: Format::DartJson,
        names: &["dart-json", "flutter-json"],
        what: "Dart's and Flutter's JSON (`dart test --reporter json`, `flutter test --machine`)",
        category: crate::dart::CATEGORY,
        family: 6,
        detect: dart_json,
        reader: Some(|| Box::<DartJsonCollector>::default()),
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
        format: Format::GtestJson,
        names: &["gtest-json"],
        what: "GoogleTest JSON (`--gtest_output=json`)",
        category: crate::gtest::CATEGORY,
        family: 4,
        detect: gtest_json,
        reader: Some(|| Box::<GtestCollector>::default()),
    },
    FormatSpec {
        format: Format::Catch2Xml,
        names: &["catch2-xml"],
        what: "Catch2's XML reporter (`--reporter xml`, v2 and v3)",
        category: crate::catch2::CATEGORY,
        family: 5,
        detect: catch2_xml,
        reader: Some(|| Box::<Catch2Collector>::default()),
    },
    FormatSpec {
        format: Format::NunitXml,
        names: &["nunit", "nunit3", "nunit-xml"],
        what: "NUnit XML (NUnit 3 `<test-run>`: nunit3-console, NUnit3TestAdapter, pytest-nunit; NUnit 2 `<test-results>`)",
        category: crate::nunit::CATEGORY,
        family: 6,
        detect: nunit_xml,
        reader: Some(|| Box::<NunitCollector>::default()),
    },
    FormatSpec {
        format: Format::Trx,
        names: &["trx"],
        what: ".NET's TRX (`dotnet test --logger trx`: MSTest, xUnit, NUnit)",
        category: crate::trx::CATEGORY,
        family: 7,
        detect: trx,
        reader: Some(|| Box::<TrxCollector>::default()),
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
        format: Format::RspecJson,
        names: &["rspec-json"],
        what: "RSpec's JSON formatter (`rspec --format json`)",
        category: "rspec",
        family: 4,
        detect: rspec_json,
        reader: Some(|| Box::<RspecCollector>::default()),
    },
    FormatSpec {
        format: Format::Mochawesome,
        names: &["mochawesome"],
        what: "mochawesome's JSON (`mocha --reporter mochawesome`)",
        category: "mocha",
        family: 5,
        detect: mochawesome,
        reader: Some(|| Box::<MochawesomeCollector>::default()),
    },
    FormatSpec {
        format: Format::MochaJson,
        names: &["mocha-json"],
        what: "Mocha's JSON reporter (`mocha --reporter json`)",
        category: "mocha",
        family: 5,
        detect: mocha_json,
        reader: Some(|| Box::<MochaJsonCollector>::default()),
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
        root: (first == b'<').then(|| xml_root(bytes)).flatten(),
    };
    FORMATS.iter().find(|s| (s.detect)(&h)).map(|s| s.format)
}

/// Implements [`Reader`] for a collector with an inherent `read` of the same signature, and
/// the function that makes its report; a collector that streams (`; streams read_stream`) has
/// an inherent `read_stream` instead, which also reads whole documents (errors placed in
/// them), and may name its runner (`; runner name`).
macro_rules! reader {
    ($collector:ty, $report:path; streams $stream:ident $(; runner $runner:ident)?
        $(; attachments $attachments:ident, warnings $warnings:ident)?) => {
        $crate::formats::reader!(@impl $collector, $report,
            |this, data, input, fallback_ms, limits| {
                <$collector>::$stream(this, &mut &data[..], input, fallback_ms, limits)
                    .map_err(|e| e.locate(data))
            },
            {
                fn read_stream(
                    &mut self,
                    r: &mut dyn std::io::BufRead,
                    input: &str,
                    fallback_ms: f64,
                    limits: &$crate::Limits,
                ) -> Result<(), $crate::ConvertError> {
                    <$collector>::$stream(self, r, input, fallback_ms, limits)
                }

                fn streams(&self) -> bool {
                    true
                }

                $(
                    fn runner(&self) -> Option<String> {
                        <$collector>::$runner(self)
                    }
                )?
                $(
                    fn attachments(&mut self) -> Vec<$crate::AttachmentSource> {
                        <$collector>::$attachments(self)
                    }

                    fn warnings(&mut self) -> Vec<$crate::ConvertWarning> {
                        <$collector>::$warnings(self)
                    }
                )?
            });
    };
    ($collector:ty, $report:path $(, $attachments:ident)? $(; warnings $warnings:ident)?) => {
        $crate::formats::reader!(@impl $collector, $report,
            |this, data, input, fallback_ms, limits| {
                <$collector>::read(this, data, input, fallback_ms, limits)
            },
            {
                $(
                    fn attachments(&mut self) -> Vec<$crate::AttachmentSource> {
                        <$collector>::$attachments(self)
                    }
                )?
                $(
                    fn warnings(&mut self) -> Vec<$crate::ConvertWarning> {
                        <$collector>::$warnings(self)
                    }
                )?
            });
    };
    (@impl $collector:ty, $report:path,
        |$this:ident, $data:ident, $input:ident, $fallback:ident, $limits:ident| $read:block,
        { $($more:tt)* }) => {
        impl $crate::formats::Reader for $collector {
            fn read(
                &mut self,
                $data: &[u8],
                $input: &str,
                $fallback: f64,
                $limits: &$crate::Limits,
            ) -> Result<(), $crate::ConvertError> {
                let $this = self;
                $read
            }

            fn into_report(
                self: Box<Self>,
                meta: &$crate::Metadata,
                fallback_ms: f64,
            ) -> flakiness_report::Report {
                $report(*self, meta, fallback_ms)
            }

            $($more)*
        }
    };
}
pub(crate) use reader;

reader!(LibtestCollector, crate::libtest_report);
reader!(CargoTextCollector, CargoTextCollector::into_report);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_element_is_found_behind_the_prolog() {
        assert_eq!(xml_root(b"<testsuites>"), Some("testsuites"));
        assert_eq!(xml_root(b"<Catch name=\"x\">"), Some("Catch"));
        assert_eq!(xml_root(b"<Catch2TestRun/>"), Some("Catch2TestRun"));
        assert_eq!(
            xml_root(b"<?xml version=\"1.0\"?>\n<!-- a <comment> -->\n<?pi x?>\n<ns:TestRun xmlns:ns=\"u\">"),
            Some("TestRun")
        );
        assert_eq!(
            xml_root(b"<!DOCTYPE x [\n<!ENTITY a \"<b>]>\">\n<!-- ] > -->\n<!ENTITY c '>'>\n]>\n<test-run>"),
            Some("test-run")
        );
        assert_eq!(xml_root(b"<!DOCTYPE html>\n<html>"), Some("html"));
        // Cut before the name ends, or not XML.
        assert_eq!(xml_root(b"<?xml version=\"1.0\"?><testsu"), None);
        assert_eq!(xml_root(b"<!-- never closed"), None);
        assert_eq!(xml_root(b"{\"a\": 1}"), None);
        assert_eq!(xml_root(b"< x>"), None);
    }

    #[test]
    fn xml_is_told_by_its_root_and_junit_takes_the_rest() {
        for (head, want) in [
            (&b"<?xml version=\"1.0\"?><testsuites/>"[..], Format::Junit),
            (b"<testcase name=\"t\"/>", Format::Junit),
            (
                b"<?xml version=\"1.0\"?>\n<Catch name=\"t\">",
                Format::Catch2Xml,
            ),
            (b"\xEF\xBB\xBF<Catch2TestRun name=\"t\">", Format::Catch2Xml),
            (b"\xEF\xBB\xBF<testsuite name=\"t\">", Format::Junit),
            (
                b"<?xml version=\"1.0\"?>\n<test-run id=\"2\">",
                Format::NunitXml,
            ),
            (b"<!--c-->\n<test-results name=\"x.dll\">", Format::NunitXml),
            // Nobody's root: JUnit's reader says what it is.
            (b"<!DOCTYPE html><html>", Format::Junit),
            (b"<unknown", Format::Junit),
            (
                b"{\"tests\": 1, \"failures\": 0, \"disabled\": 0, \"testsuites\": []}",
                Format::GtestJson,
            ),
        ] {
            assert_eq!(
                detect(head),
                Some(want),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }
}
