//! Deterministic generator of large, realistic JUnit XML files (Maven Surefire style), and the
//! bare quick-xml event loop used as the parsing baseline of `flakiness convert`.
//!
//! The file is one `<testsuites>` holding top-level `<testsuite>` elements (one per test class,
//! with a timestamp, a hostname and Surefire's `<properties>`), some of them holding nested suites
//! (JUnit 5 `@Nested` classes, `Outer$Inner`) two or three levels deep. Test cases have a
//! classname, a name and a time; most pass, some fail (`<failure>`/`<error>` with multi-line Java
//! stack traces, sometimes in CDATA), some are skipped, some are flaky (`<flakyFailure>` /
//! `<flakyError>` children with `<stackTrace>`, `<system-out>` and `<system-err>`) and some failed
//! every rerun (`<rerunFailure>` / `<rerunError>`). About 30% of the test cases have a few KB of
//! `<system-out>`/`<system-err>` with escaped characters (`&lt;`, `&amp;`, ...) or CDATA.
//! `classname` + `name` is unique over the file.
//!
//! Every top-level suite is drawn from its own generator derived from `(seed, index)` and rendered
//! alone (a few hundred KB at most) before being written: the output depends only on the options,
//! and the whole document is never held in memory.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::rng::Rng;

/// Options of [`generate_junit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JunitGenOptions {
    /// Wanted size of the file, in bytes.
    pub target_bytes: u64,
    /// Seed of the generator.
    pub seed: u64,
    /// Test cases with their own `<system-out>`/`<system-err>`, per thousand: 300 by default
    /// ([`DEFAULT_OUTPUT_PER_MILLE`]); lower values make files with more test cases per MB.
    pub output_per_mille: u64,
}

/// The share of test cases with output (per thousand) of the default profile.
pub const DEFAULT_OUTPUT_PER_MILLE: u64 = 300;

/// What [`generate_junit`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JunitGenSummary {
    /// Size of the file, in bytes.
    pub bytes: u64,
    /// Top-level `<testsuite>` elements (test classes).
    pub top_suites: usize,
    /// All `<testsuite>` elements, nested ones included.
    pub suites: usize,
    /// Deepest `<testsuite>` nesting (1: no nested suite).
    pub max_depth: usize,
    /// `<testcase>` elements.
    pub testcases: usize,
    /// Test cases that passed at the first attempt.
    pub passed: usize,
    /// Test cases with a `<failure>` (no rerun).
    pub failed: usize,
    /// Test cases with an `<error>` (no rerun).
    pub errored: usize,
    /// Test cases with `<skipped>`.
    pub skipped: usize,
    /// Test cases that passed after `<flakyFailure>`/`<flakyError>` attempts.
    pub flaky: usize,
    /// Test cases that failed every rerun (`<rerunFailure>`/`<rerunError>`).
    pub rerun_failed: usize,
    /// Test cases with their own `<system-out>` or `<system-err>`.
    pub with_output: usize,
    /// CDATA sections.
    pub cdata: usize,
}

/// Writes a JUnit XML file of about `opts.target_bytes` bytes to `path`.
pub fn generate_junit(path: &Path, opts: JunitGenOptions) -> io::Result<JunitGenSummary> {
    let file = File::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let summary = write_junit(&mut out, opts)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(summary)
}

/// Streams a JUnit XML document of about `opts.target_bytes` bytes to `out`.
///
/// Top-level suites are added while the size stays closer to the target than without them.
pub fn write_junit<W: Write>(mut out: W, opts: JunitGenOptions) -> io::Result<JunitGenSummary> {
    let mut summary = JunitGenSummary::default();
    let mut root = Rng::derive(opts.seed, STREAM_ROOT, 0);
    let run_start = 1_735_000_000_000 + root.below(90 * 86_400_000);
    let header = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acme-platform (mvn -B verify, build #{})\">\n",
        root.range(1_000, 99_999)
    );
    const FOOTER: &str = "</testsuites>\n";
    out.write_all(header.as_bytes())?;
    let mut written = header.len() as u64;

    let mut clock = run_start;
    let mut buf = String::new();
    for index in 0u64.. {
        buf.clear();
        let mut gen = SuiteGen {
            rng: Rng::derive(opts.seed, STREAM_SUITE, index),
            clock,
            summary: JunitGenSummary::default(),
            output_per_mille: opts.output_per_mille,
        };
        gen.top_suite(&mut buf, index);
        let len = buf.len() as u64;
        // Stop when this suite would take us further from the target than we are.
        if summary.top_suites > 0 && written + FOOTER.len() as u64 + len / 2 > opts.target_bytes {
            break;
        }
        out.write_all(buf.as_bytes())?;
        written += len;
        clock = gen.clock + gen.rng.range(5, 400);
        summary.add(&gen.summary);
        summary.top_suites += 1;
    }
    out.write_all(FOOTER.as_bytes())?;
    out.flush()?;
    summary.bytes = written + FOOTER.len() as u64;
    Ok(summary)
}

impl JunitGenSummary {
    fn add(&mut self, o: &JunitGenSummary) {
        self.suites += o.suites;
        self.max_depth = self.max_depth.max(o.max_depth);
        self.testcases += o.testcases;
        self.passed += o.passed;
        self.failed += o.failed;
        self.errored += o.errored;
        self.skipped += o.skipped;
        self.flaky += o.flaky;
        self.rerun_failed += o.rerun_failed;
        self.with_output += o.with_output;
        self.cdata += o.cdata;
    }
}

/// What the bare event loop saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XmlLoopCounts {
    /// Events before `Eof`.
    pub events: u64,
    /// `Start` events.
    pub starts: u64,
    /// `Start` and `Empty` events of `testcase` elements.
    pub testcases: u64,
    /// `Text` and `CData` events.
    pub texts: u64,
}

/// Size of the read buffer of [`xml_loop_file`].
pub const XML_LOOP_BUFFER: usize = 64 * 1024;

/// The bare quick-xml baseline: `read_event_into` over a 64 KiB `BufReader` of `path`, counting
/// events, nothing unescaped or decoded.
pub fn xml_loop_file(path: &Path) -> Result<XmlLoopCounts, quick_xml::Error> {
    let file = File::open(path).map_err(quick_xml::Error::from)?;
    xml_loop(BufReader::with_capacity(XML_LOOP_BUFFER, file))
}

/// The event loop of [`xml_loop_file`] over any buffered reader.
pub fn xml_loop<R: BufRead>(input: R) -> Result<XmlLoopCounts, quick_xml::Error> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::with_capacity(XML_LOOP_BUFFER);
    let mut counts = XmlLoopCounts::default();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Eof => break,
            Event::Start(e) => {
                counts.starts += 1;
                if e.name().as_ref() == b"testcase" {
                    counts.testcases += 1;
                }
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => counts.testcases += 1,
            Event::Text(_) | Event::CData(_) => counts.texts += 1,
            _ => {}
        }
        counts.events += 1;
        buf.clear();
    }
    Ok(counts)
}

/// What [`xml_decode_file`] decoded: the counts of [`xml_loop`], and the bytes of attribute
/// values and texts it decoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XmlDecodeCounts {
    pub events: XmlLoopCounts,
    /// Attributes decoded (name checked, value unescaped).
    pub attributes: u64,
    /// Bytes of unescaped attribute values, texts and CDATA sections.
    pub decoded_bytes: u64,
}

/// The bare minimum a converter does with the XML: every event read, every attribute's value
/// unescaped, every text unescaped and every CDATA section decoded as UTF-8 (the "bare Rust"
/// baseline of converting JUnit XML: no model, no output).
pub fn xml_decode_file(path: &Path) -> Result<XmlDecodeCounts, quick_xml::Error> {
    let file = File::open(path).map_err(quick_xml::Error::from)?;
    let mut reader = Reader::from_reader(BufReader::with_capacity(XML_LOOP_BUFFER, file));
    let mut buf = Vec::with_capacity(XML_LOOP_BUFFER);
    let mut c = XmlDecodeCounts::default();
    let attrs = |e: &quick_xml::events::BytesStart<'_>,
                 c: &mut XmlDecodeCounts|
     -> Result<(), quick_xml::Error> {
        for a in e.attributes() {
            let a = a.map_err(quick_xml::Error::from)?;
            let v = a.unescape_value()?;
            c.attributes += 1;
            c.decoded_bytes += v.len() as u64;
        }
        Ok(())
    };
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Eof => break,
            Event::Start(e) => {
                c.events.starts += 1;
                if e.name().as_ref() == b"testcase" {
                    c.events.testcases += 1;
                }
                attrs(&e, &mut c)?;
            }
            Event::Empty(e) => {
                if e.name().as_ref() == b"testcase" {
                    c.events.testcases += 1;
                }
                attrs(&e, &mut c)?;
            }
            Event::Text(t) => {
                c.events.texts += 1;
                c.decoded_bytes += t.decode()?.len() as u64;
            }
            Event::CData(t) => {
                c.events.texts += 1;
                c.decoded_bytes += t.decode()?.len() as u64;
            }
            Event::GeneralRef(r) => {
                c.decoded_bytes += r.decode()?.len() as u64;
            }
            _ => {}
        }
        c.events.events += 1;
        buf.clear();
    }
    Ok(c)
}

/// Reads `input` to the end in 64 KiB chunks (to compare with [`xml_loop`]: the I/O alone).
pub fn drain<R: Read>(mut input: R) -> io::Result<u64> {
    let mut buf = vec![0u8; XML_LOOP_BUFFER];
    let mut total = 0u64;
    loop {
        match input.read(&mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

// Independent random streams.
const STREAM_ROOT: u64 = 101;
const STREAM_SUITE: u64 = 102;

const MODULES: &[&str] = &[
    "billing",
    "checkout",
    "catalog",
    "identity",
    "inventory",
    "notifications",
    "orders",
    "payments",
    "search",
    "shipping",
    "reporting",
    "gateway",
];
const LAYERS: &[&str] = &[
    "api",
    "service",
    "repository",
    "domain",
    "web",
    "events",
    "config",
    "util",
];
const NOUNS: &[&str] = &[
    "Cart", "Invoice", "Order", "Payment", "Customer", "Product", "Shipment", "Coupon", "Account",
    "Session", "Token", "Price", "Stock", "Refund", "Address", "Report",
];
const ROLES: &[&str] = &[
    "Service",
    "Controller",
    "Repository",
    "Mapper",
    "Validator",
    "Client",
    "Handler",
    "Factory",
    "Resolver",
    "Scheduler",
    "Listener",
    "Serializer",
];
const NESTED: &[&str] = &[
    "WhenEmpty",
    "WhenLoggedIn",
    "WithDiscount",
    "GivenExpiredToken",
    "OnRetry",
    "ForAdmin",
    "WithInvalidInput",
    "AfterMigration",
    "InDryRunMode",
    "WithFeatureFlag",
];
const VERBS: &[&str] = &[
    "should",
    "returns",
    "rejects",
    "creates",
    "updates",
    "deletes",
    "computes",
    "parses",
    "serializes",
    "validates",
    "retries",
    "publishes",
];
const OBJECTS: &[&str] = &[
    "Total",
    "EmptyList",
    "NullInput",
    "ExpiredCoupon",
    "DuplicateOrder",
    "NegativeAmount",
    "Unicode",
    "LargePayload",
    "MissingHeader",
    "ConcurrentUpdate",
    "Timeout",
    "Rounding",
];
const CONDITIONS: &[&str] = &[
    "",
    "",
    "",
    "WhenCacheIsCold",
    "OnSecondCall",
    "ForGuestUser",
    "WithEuroCurrency",
    "AfterRollback",
];
const PARAMS: &[&str] = &[
    "String",
    "int",
    "BigDecimal",
    "String, String",
    "Locale",
    "ArgumentsAccessor",
];
const SKIP_MESSAGES: &[&str] = &[
    "Disabled until ACME-4821 is fixed",
    "Assumption failed: assumption is not true",
    "Requires Docker & a running Postgres",
    "public void com.acme.Fixtures.requiresSandbox() is @Disabled",
];
const USERS: &[&str] = &["alice", "bob", "zoë", "müller", "o'brien", "renée"];

/// The system properties of a Surefire `<properties>`: `name=value` lines, `\n` standing for a
/// line break and `{java}`, `{module}`, `{booter}` and `{build}` filled in for each suite.
const SYSTEM_PROPERTIES: &str = include_str!("surefire.properties");

/// Outcome of one test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Errored,
    Skipped,
    Flaky,
    RerunFailed,
    RerunErrored,
}

const OUTCOMES: [Outcome; 7] = [
    Outcome::Passed,
    Outcome::Failed,
    Outcome::Errored,
    Outcome::Skipped,
    Outcome::Flaky,
    Outcome::RerunFailed,
    Outcome::RerunErrored,
];
const OUTCOME_WEIGHTS: [u64; 7] = [800, 40, 15, 55, 55, 25, 10];

/// Counts written in a `<testsuite>` start tag.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time_ms: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tests += o.tests;
        self.failures += o.failures;
        self.errors += o.errors;
        self.skipped += o.skipped;
        self.time_ms += o.time_ms;
    }
}

/// A Java exception of a generated stack trace.
struct Throwable {
    type_: String,
    message: String,
}

/// Where a test method stands in its source, for its stack traces.
#[derive(Clone, Copy)]
struct Site<'a> {
    class: &'a str,
    file: &'a str,
    method: &'a str,
    line: u64,
}

struct SuiteGen {
    rng: Rng,
    clock: u64,
    summary: JunitGenSummary,
    output_per_mille: u64,
}

impl SuiteGen {
    /// One test class: `<testsuite>` with properties, test cases and maybe nested classes.
    fn top_suite(&mut self, out: &mut String, index: u64) {
        let module = *self.rng.pick(MODULES);
        let layer = *self.rng.pick(LAYERS);
        let class = format!(
            "com.acme.{module}.{layer}.{}{}{index}Test",
            self.rng.pick(NOUNS),
            self.rng.pick(ROLES)
        );
        let depth = if self.rng.chance(300) { 3 } else { 1 };
        self.suite(out, &class, module, 1, depth);
    }

    /// A `<testsuite>` at nesting `level` (1: top), holding nested suites down to `max_level`.
    fn suite(
        &mut self,
        out: &mut String,
        class: &str,
        module: &str,
        level: usize,
        max_level: usize,
    ) -> Counts {
        self.summary.suites += 1;
        self.summary.max_depth = self.summary.max_depth.max(level);
        let indent = "  ".repeat(level);
        let timestamp = iso_seconds(self.clock);
        let host = format!("runner-{}", self.rng.range(1, 24));

        let mut body = String::new();
        if level == 1 {
            self.properties(&mut body, &indent, module);
        }
        let mut counts = Counts::default();
        let mut names = HashSet::new();
        let cases = if level == 1 {
            self.rng.range(3, 24)
        } else {
            self.rng.range(2, 9)
        };
        let file = class
            .split('$')
            .next()
            .unwrap_or(class)
            .rsplit('.')
            .next()
            .unwrap_or(class)
            .to_string();
        for _ in 0..cases {
            let name = self.method_name(&mut names);
            counts.add(self.testcase(&mut body, &indent, class, &file, &name));
        }
        if level < max_level {
            let nested = if level == 1 {
                self.rng.range(1, 3)
            } else {
                self.rng.range(1, 2)
            };
            let mut used = HashSet::new();
            for _ in 0..nested {
                let inner = *self.rng.pick(NESTED);
                if !used.insert(inner) {
                    continue;
                }
                let deeper = if level + 1 < max_level && self.rng.chance(500) {
                    max_level
                } else {
                    level + 1
                };
                counts.add(self.suite(
                    &mut body,
                    &format!("{class}${inner}"),
                    module,
                    level + 1,
                    deeper,
                ));
            }
        }
        // Suite-level output, as Surefire writes it when the class logs outside its tests.
        if level == 1 && self.rng.chance(150) {
            body.push_str(&indent);
            body.push_str("  <system-err>");
            let text = format!(
                "SLF4J: Class path contains multiple SLF4J bindings.\nSLF4J: Found binding in [jar:file:/home/runner/.m2/repository/ch/qos/logback/logback-classic/1.4.14/logback-classic-1.4.14.jar!/org/slf4j/impl/StaticLoggerBinder.class]\n{} WARN  [main] o.h.e.j.e.i.JdbcEnvironmentInitiator - HHH000342: Could not obtain connection to query metadata & falling back\n",
                hms(self.clock)
            );
            push_text(&mut body, &text);
            body.push_str("</system-err>\n");
        }

        let _ = write!(
            out,
            "{indent}<testsuite xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd\" version=\"3.0\" name=\"{class}\" time=\"{}\" tests=\"{}\" errors=\"{}\" skipped=\"{}\" failures=\"{}\" timestamp=\"{timestamp}\" hostname=\"{host}\"",
            seconds(counts.time_ms),
            counts.tests,
            counts.errors,
            counts.skipped,
            counts.failures,
        );
        out.push_str(">\n");
        out.push_str(&body);
        out.push_str(&indent);
        out.push_str("</testsuite>\n");
        counts
    }

    /// Surefire's `<properties>`: the JVM's system properties, from [`SYSTEM_PROPERTIES`].
    fn properties(&mut self, out: &mut String, indent: &str, module: &str) {
        let java = *self.rng.pick(&["17.0.13", "21.0.5", "21.0.6"]);
        let booter = self.rng.range(100, 999).to_string();
        let build = self.rng.range(1000, 9999).to_string();
        let _ = writeln!(out, "{indent}  <properties>");
        for line in SYSTEM_PROPERTIES.lines() {
            let (name, value) = line.split_once('=').unwrap_or((line, ""));
            let value = value
                .replace("\\n", "\n")
                .replace("{java}", java)
                .replace("{module}", module)
                .replace("{booter}", &booter)
                .replace("{build}", &build);
            let _ = write!(out, "{indent}    <property name=\"{name}\" value=\"");
            push_attr(out, &value);
            out.push_str("\"/>\n");
        }
        let _ = writeln!(out, "{indent}  </properties>");
    }

    /// A method name unique in its class.
    fn method_name(&mut self, names: &mut HashSet<String>) -> String {
        let base = format!(
            "{}{}{}",
            self.rng.pick(VERBS),
            self.rng.pick(OBJECTS),
            self.rng.pick(CONDITIONS)
        );
        if names.insert(base.clone()) {
            return base;
        }
        // Parameterized invocations, as JUnit 5 names them.
        let params = self.rng.pick(PARAMS);
        let mut n = 1;
        loop {
            let name = format!("{base}({params})[{n}]");
            if names.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }

    fn testcase(
        &mut self,
        out: &mut String,
        indent: &str,
        class: &str,
        file: &str,
        name: &str,
    ) -> Counts {
        self.summary.testcases += 1;
        let outcome = OUTCOMES[self.rng.weighted(&OUTCOME_WEIGHTS)];
        let time_ms = match outcome {
            Outcome::Skipped => 0,
            _ if self.rng.chance(50) => self.rng.range(1_000, 30_000),
            _ => self.rng.range(0, 400),
        };
        self.clock += time_ms;
        let mut counts = Counts {
            tests: 1,
            time_ms,
            ..Default::default()
        };
        let site = Site {
            class,
            file,
            method: name,
            line: self.rng.range(20, 900),
        };
        let with_output = self.rng.chance(self.output_per_mille);

        let _ = write!(out, "{indent}  <testcase name=\"");
        push_attr(out, name);
        let _ = write!(
            out,
            "\" classname=\"{class}\" time=\"{}\"",
            seconds(time_ms)
        );
        if outcome == Outcome::Passed && !with_output {
            out.push_str("/>\n");
            self.summary.passed += 1;
            return counts;
        }
        out.push_str(">\n");
        let inner = format!("{indent}    ");
        match outcome {
            Outcome::Passed => self.summary.passed += 1,
            Outcome::Skipped => {
                self.summary.skipped += 1;
                counts.skipped = 1;
                if self.rng.chance(800) {
                    let _ = write!(out, "{inner}<skipped message=\"");
                    let message = *self.rng.pick(SKIP_MESSAGES);
                    push_attr(out, message);
                    out.push_str("\"/>\n");
                } else {
                    let _ = writeln!(out, "{inner}<skipped/>");
                }
            }
            Outcome::Failed | Outcome::Errored => {
                let error = outcome == Outcome::Errored;
                if error {
                    self.summary.errored += 1;
                    counts.errors = 1;
                } else {
                    self.summary.failed += 1;
                    counts.failures = 1;
                }
                self.failure(out, &inner, if error { "error" } else { "failure" }, &site);
            }
            Outcome::RerunFailed | Outcome::RerunErrored => {
                let error = outcome == Outcome::RerunErrored;
                self.summary.rerun_failed += 1;
                if error {
                    counts.errors = 1;
                } else {
                    counts.failures = 1;
                }
                let (first, rerun) = if error {
                    ("error", "rerunError")
                } else {
                    ("failure", "rerunFailure")
                };
                self.failure(out, &inner, first, &site);
                for _ in 0..self.rng.range(1, 2) {
                    self.rerun(out, &inner, rerun, &site);
                }
            }
            Outcome::Flaky => {
                self.summary.flaky += 1;
                for _ in 0..self.rng.range(1, 2) {
                    let tag = if self.rng.chance(700) {
                        "flakyFailure"
                    } else {
                        "flakyError"
                    };
                    self.rerun(out, &inner, tag, &site);
                }
            }
        }
        if with_output {
            self.summary.with_output += 1;
            let size = self.rng.range(800, 6_000) as usize;
            self.stdio(out, &inner, "system-out", class, size);
            if self.rng.chance(350) {
                let size = self.rng.range(300, 3_000) as usize;
                self.stdio(out, &inner, "system-err", class, size);
            }
        }
        let _ = writeln!(out, "{indent}  </testcase>");
        counts
    }

    /// `<failure>`/`<error>` with the stack trace as its text.
    fn failure(&mut self, out: &mut String, indent: &str, tag: &str, site: &Site<'_>) {
        let t = self.throwable(tag != "failure");
        let _ = write!(out, "{indent}<{tag} message=\"");
        push_attr(out, &t.message);
        let _ = write!(out, "\" type=\"{}\">", t.type_);
        let trace = self.stack_trace(&t, site);
        self.push_body(out, &trace);
        let _ = writeln!(out, "</{tag}>");
    }

    /// A Surefire rerun element (`flakyFailure`, `rerunError`, ...) with its own trace and output.
    fn rerun(&mut self, out: &mut String, indent: &str, tag: &str, site: &Site<'_>) {
        let t = self.throwable(tag.ends_with("Error"));
        let time_ms = self.rng.range(5, 3_000);
        self.clock += time_ms;
        let _ = write!(out, "{indent}<{tag} message=\"");
        push_attr(out, &t.message);
        let _ = writeln!(
            out,
            "\" type=\"{}\" time=\"{}\">",
            t.type_,
            seconds(time_ms)
        );
        let inner = format!("{indent}  ");
        let trace = self.stack_trace(&t, site);
        let _ = write!(out, "{inner}<stackTrace>");
        push_text(out, &trace);
        out.push_str("</stackTrace>\n");
        let size = self.rng.range(200, 2_000) as usize;
        self.stdio(out, &inner, "system-out", site.class, size);
        let size = self.rng.range(100, 1_200) as usize;
        self.stdio(out, &inner, "system-err", site.class, size);
        let _ = writeln!(out, "{indent}</{tag}>");
    }

    /// Escaped text, or (sometimes) a CDATA section.
    fn push_body(&mut self, out: &mut String, text: &str) {
        if self.rng.chance(200) && !text.contains("]]>") {
            self.summary.cdata += 1;
            out.push_str("<![CDATA[");
            out.push_str(text);
            out.push_str("]]>");
        } else {
            push_text(out, text);
        }
    }

    fn throwable(&mut self, error: bool) -> Throwable {
        let user = *self.rng.pick(USERS);
        let (type_, message) = if error {
            match self.rng.below(5) {
                0 => (
                    "java.lang.NullPointerException",
                    format!(
                        "Cannot invoke \"com.acme.{}.domain.{}.getTotal()\" because \"cart\" is null",
                        self.rng.pick(MODULES),
                        self.rng.pick(NOUNS)
                    ),
                ),
                1 => (
                    "java.lang.IllegalStateException",
                    format!(
                        "Connection pool exhausted (active={}, idle=0) & no fallback for <{user}>",
                        self.rng.range(10, 64)
                    ),
                ),
                2 => (
                    "java.net.ConnectException",
                    format!(
                        "Connection refused: localhost/127.0.0.1:{}",
                        self.rng.pick(&[5432, 6379, 8080, 9092])
                    ),
                ),
                3 => (
                    "org.springframework.dao.DataIntegrityViolationException",
                    format!(
                        "could not execute statement [ERROR: duplicate key value violates unique constraint \"orders_pkey\"\n  Detail: Key (id)=({}) already exists.] [insert into orders (total,user_id,id) values (?,?,?)]",
                        self.rng.range(1, 99_999)
                    ),
                ),
                _ => (
                    "java.util.concurrent.TimeoutException",
                    format!(
                        "Timed out after {} ms waiting for <OrderCreated id={}>",
                        self.rng.pick(&[1000, 5000, 30000]),
                        self.rng.hex(8)
                    ),
                ),
            }
        } else {
            match self.rng.below(3) {
                0 => (
                    "org.opentest4j.AssertionFailedError",
                    format!(
                        "expected: <{}> but was: <{}>",
                        self.rng.range(0, 500),
                        self.rng.range(0, 500)
                    ),
                ),
                1 => (
                    "java.lang.AssertionError",
                    format!(
                        "\nExpecting actual:\n  [\"{}-{}\", \"{}-{}\"]\nto contain exactly (and in same order):\n  [\"{}-{}\"]\nbut some elements were not expected:\n  [\"{}-{}\"]\n",
                        self.rng.pick(NOUNS), self.rng.range(1, 99),
                        self.rng.pick(NOUNS), self.rng.range(1, 99),
                        self.rng.pick(NOUNS), self.rng.range(1, 99),
                        self.rng.pick(NOUNS), self.rng.range(1, 99),
                    ),
                ),
                _ => (
                    "org.opentest4j.AssertionFailedError",
                    format!(
                        "[total for {user}] expected: \"{}.{:02} € & tax\" but was: \"{}.{:02} €\"",
                        self.rng.range(1, 999),
                        self.rng.below(100),
                        self.rng.range(1, 999),
                        self.rng.below(100)
                    ),
                ),
            }
        };
        Throwable {
            type_: type_.to_string(),
            message,
        }
    }

    fn stack_trace(&mut self, t: &Throwable, site: &Site<'_>) -> String {
        let mut s = format!("{}: {}\n", t.type_, t.message);
        let Site {
            class,
            file,
            method,
            line,
        } = *site;
        let method = method.split('(').next().unwrap_or(method);
        if t.type_.contains("Assertion") {
            for frame in [
                "org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:151)",
                "org.junit.jupiter.api.AssertionFailureBuilder.buildAndThrow(AssertionFailureBuilder.java:132)",
                "org.junit.jupiter.api.AssertEquals.failNotEqual(AssertEquals.java:197)",
                "org.junit.jupiter.api.AssertEquals.assertEquals(AssertEquals.java:182)",
                "org.junit.jupiter.api.Assertions.assertEquals(Assertions.java:1156)",
            ] {
                let _ = writeln!(s, "\tat {frame}");
            }
        } else {
            for _ in 0..self.rng.range(1, 5) {
                let noun = self.rng.pick(NOUNS);
                let role = self.rng.pick(ROLES);
                let _ = writeln!(
                    s,
                    "\tat com.acme.{}.{}.{noun}{role}.{}{}({noun}{role}.java:{})",
                    self.rng.pick(MODULES),
                    self.rng.pick(LAYERS),
                    self.rng.pick(VERBS),
                    self.rng.pick(OBJECTS),
                    self.rng.range(10, 600)
                );
            }
        }
        let _ = writeln!(s, "\tat {class}.{method}({file}.java:{line})");
        for frame in [
            "java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
            "java.base/java.lang.reflect.Method.invoke(Method.java:580)",
            "org.junit.platform.commons.util.ReflectionUtils.invokeMethod(ReflectionUtils.java:767)",
            "org.junit.jupiter.engine.execution.MethodInvocation.proceed(MethodInvocation.java:60)",
            "org.junit.jupiter.engine.execution.InvocationInterceptorChain$ValidatingInvocation.proceed(InvocationInterceptorChain.java:131)",
            "org.junit.jupiter.engine.extension.TimeoutExtension.intercept(TimeoutExtension.java:156)",
            "org.junit.jupiter.engine.descriptor.TestMethodTestDescriptor.invokeTestMethod(TestMethodTestDescriptor.java:217)",
            "org.junit.platform.engine.support.hierarchical.ThrowableCollector.execute(ThrowableCollector.java:73)",
            "org.junit.jupiter.engine.descriptor.TestMethodTestDescriptor.execute(TestMethodTestDescriptor.java:156)",
            "org.junit.platform.engine.support.hierarchical.NodeTestTask.lambda$executeRecursively$6(NodeTestTask.java:151)",
            "java.base/java.util.ArrayList.forEach(ArrayList.java:1596)",
            "org.apache.maven.surefire.junitplatform.JUnitPlatformProvider.invokeAllTests(JUnitPlatformProvider.java:154)",
            "org.apache.maven.surefire.booter.ForkedBooter.main(ForkedBooter.java:495)",
        ] {
            let _ = writeln!(s, "\tat {frame}");
        }
        if self.rng.chance(300) {
            let _ = writeln!(
                s,
                "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after {}ms (total=10, active=10, idle=0, waiting=3)",
                self.rng.range(1000, 30_000)
            );
            let _ = writeln!(
                s,
                "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686)"
            );
            let _ = writeln!(
                s,
                "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179)"
            );
            let _ = writeln!(s, "\t... {} more", self.rng.range(20, 80));
        }
        s
    }

    /// `<system-out>`/`<system-err>` of about `size` bytes of log lines.
    fn stdio(&mut self, out: &mut String, indent: &str, tag: &str, class: &str, size: usize) {
        let mut text = String::with_capacity(size + 256);
        let logger = class.rsplit('.').next().unwrap_or(class);
        while text.len() < size {
            let time = hms(self.clock + self.rng.below(5_000));
            let user = self.rng.pick(USERS);
            let _ = match self.rng.below(8) {
                0 => writeln!(
                    text,
                    "{time} INFO  [main] c.a.{logger} - Loaded {} items for cart <id={}> & user \"{user}\"",
                    self.rng.range(0, 40),
                    self.rng.hex(12)
                ),
                1 => writeln!(
                    text,
                    "{time} DEBUG [main] org.hibernate.SQL - select o1_0.id,o1_0.total from orders o1_0 where o1_0.user_id=? and o1_0.total>{} and o1_0.status<>'CANCELLED'",
                    self.rng.range(0, 500)
                ),
                2 => writeln!(
                    text,
                    "{time} DEBUG [http-nio-auto-1-exec-{}] o.s.web.client.RestTemplate - HTTP GET http://localhost:{}/api/orders?page={}&size=50&sort=createdAt,desc",
                    self.rng.range(1, 8),
                    self.rng.range(30_000, 60_000),
                    self.rng.below(20)
                ),
                3 => writeln!(
                    text,
                    "{time} DEBUG [main] c.a.gateway.PayloadLogger - <<< 200 OK {{\"total\":\"{}.{:02}\",\"currency\":\"EUR\",\"items\":[{{\"sku\":\"{}\",\"qty\":{}}}],\"note\":\"gift & wrap <fragile>\"}}",
                    self.rng.range(1, 999),
                    self.rng.below(100),
                    self.rng.hex(6),
                    self.rng.range(1, 5)
                ),
                4 => writeln!(
                    text,
                    "{time} WARN  [pool-{}-thread-1] c.a.{logger} - Retrying after {} ms: status <503> & Retry-After={}",
                    self.rng.range(1, 4),
                    self.rng.range(10, 500),
                    self.rng.range(1, 5)
                ),
                5 => writeln!(
                    text,
                    "{time} INFO  [main] o.s.t.c.transaction.TransactionContext - Rolled back transaction for test: [DefaultTestContext@{} testClass = {logger}, locale = 'de_CH' (Zürich)]",
                    self.rng.hex(8)
                ),
                6 => writeln!(
                    text,
                    "<?xml version=\"1.0\"?><invoice id=\"{}\"><total currency=\"EUR\">{}.00</total></invoice>",
                    self.rng.range(1, 99_999),
                    self.rng.range(1, 999)
                ),
                _ => writeln!(
                    text,
                    "{time} TRACE [main] c.a.{logger} - state: a={} && b={} -> {}",
                    self.rng.below(10),
                    self.rng.below(10),
                    self.rng.pick(&["OK", "RETRY", "FAIL"])
                ),
            };
        }
        let _ = write!(out, "{indent}<{tag}>");
        self.push_body(out, &text);
        let _ = writeln!(out, "</{tag}>");
    }
}

/// `text` escaped for XML character data.
fn push_text(out: &mut String, text: &str) {
    push_escaped(out, text, false);
}

/// `text` escaped for a double-quoted XML attribute (line breaks and tabs as character references,
/// as Surefire writes them).
fn push_attr(out: &mut String, text: &str) {
    push_escaped(out, text, true);
}

/// `text` with `&`, `<` and `>` escaped, and with `attr` also `"`, line breaks and tabs.
fn push_escaped(out: &mut String, text: &str, attr: bool) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' if attr => "&quot;",
            b'\n' if attr => "&#10;",
            b'\r' if attr => "&#13;",
            b'\t' if attr => "&#9;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Milliseconds as Surefire's seconds (`0.012`).
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Unix milliseconds as `YYYY-MM-DDThh:mm:ss` (UTC, no zone, as Surefire writes timestamps).
fn iso_seconds(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// Unix milliseconds as `hh:mm:ss.mmm` (log lines).
fn hms(ms: u64) -> String {
    let t = ms / 1000 % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        t / 3600,
        t / 60 % 60,
        t % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use quick_xml::events::BytesStart;

    use super::*;

    fn generate(target_bytes: u64, seed: u64) -> (Vec<u8>, JunitGenSummary) {
        let mut bytes = Vec::new();
        let summary = write_junit(
            &mut bytes,
            JunitGenOptions {
                target_bytes,
                seed,
                output_per_mille: DEFAULT_OUTPUT_PER_MILLE,
            },
        )
        .expect("writing to a Vec");
        (bytes, summary)
    }

    fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
        e.attributes()
            .filter_map(Result::ok)
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.unescape_value().expect("attribute").into_owned())
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(iso_seconds(1_735_000_000_000), "2024-12-24T00:26:40");
        assert_eq!(hms(1_735_000_000_123), "00:26:40.123");
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        push_text(&mut s, "a<b>&\"c\"\n");
        assert_eq!(s, "a&lt;b&gt;&amp;\"c\"\n");
        s.clear();
        push_attr(&mut s, "a<b>&\"c\"\n\t");
        assert_eq!(s, "a&lt;b&gt;&amp;&quot;c&quot;&#10;&#9;");
    }

    #[test]
    fn generator_is_deterministic_and_sized() {
        let (a, sa) = generate(1_000_000, 7);
        let (b, sb) = generate(1_000_000, 7);
        assert_eq!(sa, sb);
        assert!(a == b, "same seed must give the same bytes");
        let (c, _) = generate(1_000_000, 8);
        assert!(a != c, "another seed gives another file");
        assert_eq!(sa.bytes, a.len() as u64);
        let ratio = sa.bytes as f64 / 1_000_000.0;
        assert!((ratio - 1.0).abs() < 0.05, "size {}", sa.bytes);
        // A bigger file starts with the smaller one's suites.
        let (big, sbig) = generate(3_000_000, 7);
        assert!(sbig.top_suites > sa.top_suites);
        let head = a.len() - "</testsuites>\n".len();
        assert!(big[..head] == a[..head]);
    }

    #[test]
    fn output_is_well_formed_and_has_every_feature() {
        let (bytes, summary) = generate(2_000_000, 1);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        for needle in [
            "<flakyFailure ",
            "<flakyError ",
            "<rerunFailure ",
            "<rerunError ",
            "<failure ",
            "<error ",
            "<skipped message=",
            "<skipped/>",
            "<stackTrace>",
            "<system-out>",
            "<system-err>",
            "<![CDATA[",
            "&lt;",
            "&amp;",
            "&#10;",
            "<properties>",
            "timestamp=\"",
            "\tat org.junit.",
        ] {
            assert!(text.contains(needle), "{needle} missing");
        }
        assert!(summary.max_depth == 3, "depth {}", summary.max_depth);
        assert!(summary.suites > summary.top_suites);
        for n in [
            summary.passed,
            summary.failed,
            summary.errored,
            summary.skipped,
            summary.flaky,
            summary.rerun_failed,
            summary.cdata,
        ] {
            assert!(n > 0, "{summary:?}");
        }
        assert_eq!(
            summary.passed
                + summary.failed
                + summary.errored
                + summary.skipped
                + summary.flaky
                + summary.rerun_failed,
            summary.testcases
        );
        let share = summary.with_output as f64 / summary.testcases as f64;
        assert!((0.25..0.35).contains(&share), "output share {share}");

        // Parse it back: well-formed, suite counts right, classname + name unique.
        let mut reader = Reader::from_reader(bytes.as_slice());
        let mut buf = Vec::new();
        let mut ids = HashSet::new();
        let mut stack: Vec<(usize, usize)> = Vec::new(); // (declared tests, seen tests)
        let mut cases = 0;
        let mut all: HashMap<String, usize> = HashMap::new();
        loop {
            let event = reader.read_event_into(&mut buf).expect("well-formed XML");
            match &event {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name().as_ref().to_vec();
                    *all.entry(String::from_utf8_lossy(&name).into_owned())
                        .or_default() += 1;
                    if name == b"testsuite" {
                        let tests = attr(e, b"tests").expect("tests").parse().expect("n");
                        assert!(attr(e, b"timestamp").is_some());
                        stack.push((tests, 0));
                    } else if name == b"testcase" {
                        cases += 1;
                        for s in &mut stack {
                            s.1 += 1;
                        }
                        let id = (
                            attr(e, b"classname").expect("classname"),
                            attr(e, b"name").expect("name"),
                        );
                        assert!(attr(e, b"time").is_some());
                        assert!(ids.insert(id.clone()), "duplicate {id:?}");
                    }
                }
                Event::End(e) if e.name().as_ref() == b"testsuite" => {
                    let (declared, seen) = stack.pop().expect("open suite");
                    assert_eq!(declared, seen);
                }
                _ => {}
            }
            buf.clear();
        }
        assert_eq!(cases, summary.testcases);
        assert_eq!(all["testsuite"], summary.suites);

        let counts = xml_loop(bytes.as_slice()).expect("loop");
        assert_eq!(counts.testcases as usize, summary.testcases);
        assert!(counts.events > counts.starts && counts.texts > 0);
        assert_eq!(drain(bytes.as_slice()).expect("drain"), bytes.len() as u64);
    }
}
