//! Deterministic generator of large, realistic Flakiness reports.
//!
//! The report looks like the output of a Playwright run on CI: three environments, file suites
//! holding nested `describe` suites, tests with tags, retries (flaky and consistently failing
//! tests), every status, errors with multi-line messages, stack traces and code snippets, steps,
//! stdio, annotations and attachments, plus embedded sources, CPU/RAM telemetry and unattributed
//! errors.
//!
//! Every file suite is drawn from its own generator derived from `(seed, index)`, so the output
//! depends only on the options: the same options give byte-identical `report.json` and
//! `attachments/`. The size is reached by adding file suites: the first [`SAMPLED_SUITES`] and then
//! one in [`SAMPLE_EVERY`] are measured exactly (serialized to a byte counter), the others are
//! counted at the running average, so the big report is never serialized whole before it is
//! written.

use std::fs;
use std::io;
use std::path::Path;

use flakiness_report::{
    Annotation, Attachment, DurationMs, Environment, Location, NamedVersion, Report,
    ReportDirWriter, ReportError, RunAttempt, Source, Stream, Suite, SuiteType, SystemData,
    TelemetrySample, Test, TestStatus, TestStep, TimedStdioEntry, UnixTimestampMs,
    CATEGORY_PLAYWRIGHT, REPORT_FILE,
};
use serde::Serialize;
use serde_json::json;

use crate::rng::Rng;

/// One megabyte as used by `--size-mb`: 10^6 bytes.
pub const MB: u64 = 1_000_000;

/// The first file suites are all serialized (to a byte counter) to measure their size.
pub const SAMPLED_SUITES: usize = 200;
/// After the first [`SAMPLED_SUITES`], one file suite in `SAMPLE_EVERY` is measured; the others
/// are counted at the running average (suite sizes vary a lot: sampling keeps the estimate
/// within about 2% while serializing only a quarter of a big report).
pub const SAMPLE_EVERY: u64 = 4;

/// Options of [`generate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenOptions {
    /// Wanted size of `report.json`, in bytes.
    pub target_bytes: u64,
    /// Seed of the generator.
    pub seed: u64,
    /// Distinct attachment files (at least 6; [`DEFAULT_ATTACHMENTS`] by default), shared out
    /// over the kinds in the default's proportions.
    pub attachments: usize,
}

/// The default number of distinct attachment files.
pub const DEFAULT_ATTACHMENTS: usize = 60;

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Size of `report.json` as written, in bytes.
    pub report_bytes: u64,
    /// Size the generator estimated while growing the report, in bytes.
    pub estimated_bytes: u64,
    /// Number of file suites.
    pub file_suites: usize,
    /// Number of tests.
    pub tests: usize,
    /// Number of run attempts.
    pub attempts: usize,
    /// Number of attachment references in the report.
    pub attachment_refs: usize,
    /// Number of distinct attachment files in `attachments/`.
    pub attachment_files: usize,
}

/// Writes a report directory of about `opts.target_bytes` bytes of `report.json` to `out`.
pub fn generate(out: &Path, opts: GenOptions) -> Result<GenSummary, flakiness_report::Error> {
    let mut writer = ReportDirWriter::create(out)?;
    let pool = AttachmentPool::create_sized(&mut writer, opts.seed, opts.attachments)?;
    let (report, mut summary) = build_report(&pool, opts);
    let dir = writer.finish(&report)?;
    drop(report);
    let path = dir.join(REPORT_FILE);
    summary.report_bytes = fs::metadata(&path)
        .map_err(|source| flakiness_report::Error::Io { path, source })?
        .len();
    Ok(summary)
}

/// Builds the report in memory (attachments must already be in `pool`).
pub fn build_report(pool: &AttachmentPool, opts: GenOptions) -> (Report, GenSummary) {
    let seed = opts.seed;
    let mut rng = Rng::derive(seed, STREAM_ROOT, 0);
    let run_start = 1_735_000_000_000 + rng.below(90 * 86_400_000);
    let mut ctx = Ctx {
        pool,
        clocks: vec![vec![run_start; WORKERS]; ENVS.len()],
        tests: 0,
        attempts: 0,
        attachment_refs: 0,
    };

    let mut report = Report::new(CATEGORY_PLAYWRIGHT, rng.hex(40));
    report.related_commit_ids = Some(vec![rng.hex(40)]);
    report.flakiness_project = Some("acme/storefront".into());
    let run_id = rng.range(10_000_000_000, 19_999_999_999);
    report.title = Some(format!("e2e (main) #{}", run_id % 100_000));
    report.config_path = Some("playwright.config.ts".into());
    report.url = Some(format!(
        "https://github.com/acme/storefront/actions/runs/{run_id}/job/{}",
        rng.range(30_000_000_000, 39_999_999_999)
    ));
    report.generated_by = Some(named("@flakiness/playwright", "0.150.0"));
    report.test_runner = Some(named("playwright", "1.49.1"));
    report.runtime = Some(named("node", "22.11.0"));
    report.environments = environments();
    report.sources = Some(sources(&mut rng));
    report.unattributed_errors = Some(unattributed_errors(&mut rng));
    report.start_timestamp = UnixTimestampMs::from_millis(run_start);
    report.cpu_count = Some(4);
    report.ram_bytes = Some(16 * 1024 * 1024 * 1024);

    // A few tests outside any suite, one per interesting outcome, so that every report (even a
    // tiny one) holds every status.
    let mut root_rng = Rng::derive(seed, STREAM_ROOT_TESTS, 0);
    let root_kinds = [
        Kind::Flaky,
        Kind::Failed,
        Kind::TimedOut,
        Kind::Skipped,
        Kind::Xfail,
        Kind::Interrupted,
    ];
    let mut line = 4;
    report.tests = Some(
        root_kinds
            .iter()
            .map(|&kind| {
                let file = TestFile {
                    path: "tests/smoke.spec.ts".into(),
                    area: "smoke",
                    feature: "home",
                };
                ctx.test(&mut root_rng, &file, &mut line, 0, Some(kind))
            })
            .collect(),
    );

    // Telemetry is rebuilt once the run's duration is known; the placeholder has the same shape.
    set_telemetry(&mut report, run_start, 3_600_000, seed);
    report.suites = Some(Vec::new());
    let base = json_len(&report);

    let target = opts.target_bytes;
    let mut suites: Vec<Suite> = Vec::new();
    let mut estimated = base;
    let (mut sampled_bytes, mut sampled) = (0u64, 0u64);
    let mut index = 0u64;
    loop {
        let before = ctx.snapshot();
        let suite = ctx.file_suite(seed, index);
        let len = if (index as usize) < SAMPLED_SUITES || index.is_multiple_of(SAMPLE_EVERY) {
            let len = json_len(&suite);
            sampled_bytes += len;
            sampled += 1;
            len
        } else {
            sampled_bytes / sampled
        };
        let with_comma = len + u64::from(!suites.is_empty());
        // Stop when this suite would take us further from the target than we are.
        if !suites.is_empty() && estimated + with_comma / 2 > target {
            ctx.restore(before);
            break;
        }
        estimated += with_comma;
        suites.push(suite);
        index += 1;
    }

    let end = ctx
        .clocks
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(run_start);
    let duration = end - run_start + 1_500;
    report.duration = DurationMs::from_millis(duration);
    set_telemetry(&mut report, run_start, duration, seed);
    let summary = GenSummary {
        report_bytes: 0,
        estimated_bytes: estimated,
        file_suites: suites.len(),
        tests: ctx.tests,
        attempts: ctx.attempts,
        attachment_refs: ctx.attachment_refs,
        attachment_files: pool.distinct_files(),
    };
    report.suites = Some(suites);
    (report, summary)
}

/// Size of the compact JSON of `value`, without keeping it.
pub fn json_len<T: Serialize>(value: &T) -> u64 {
    struct Counter(u64);
    impl io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // The model only has string keys: serializing it to a counter cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

// Independent random streams.
const STREAM_ROOT: u64 = 1;
const STREAM_ROOT_TESTS: u64 = 2;
const STREAM_FILE: u64 = 3;
const STREAM_ATTACHMENT: u64 = 4;
const STREAM_TELEMETRY: u64 = 5;

const WORKERS: usize = 4;
const TIMEOUT_MS: u64 = 30_000;
const RETRIES: usize = 2;

struct EnvSpec {
    project: &'static str,
    os_name: &'static str,
    os_version: &'static str,
    os_arch: &'static str,
    browser_version: &'static str,
    root: &'static str,
    windows: bool,
}

const ENVS: [EnvSpec; 3] = [
    EnvSpec {
        project: "chromium",
        os_name: "linux",
        os_version: "Ubuntu 22.04.5 LTS",
        os_arch: "x64",
        browser_version: "131.0.6778.33",
        root: "/home/runner/work/storefront/storefront",
        windows: false,
    },
    EnvSpec {
        project: "webkit",
        os_name: "darwin",
        os_version: "14.7.1",
        os_arch: "arm64",
        browser_version: "18.2",
        root: "/Users/runner/work/storefront/storefront",
        windows: false,
    },
    EnvSpec {
        project: "firefox",
        os_name: "win32",
        os_version: "10.0.20348",
        os_arch: "x64",
        browser_version: "132.0",
        root: "D:\\a\\storefront\\storefront",
        windows: true,
    },
];

const AREAS: &[&str] = &[
    "auth",
    "checkout",
    "search",
    "profile",
    "settings",
    "dashboard",
    "admin",
    "api",
    "editor",
    "billing",
    "notifications",
    "onboarding",
    "catalog",
    "orders",
    "reports",
    "i18n",
];
const FEATURES: &[&str] = &[
    "login",
    "logout",
    "signup",
    "password-reset",
    "cart",
    "payment",
    "shipping",
    "filters",
    "sorting",
    "pagination",
    "avatar",
    "preferences",
    "widgets",
    "permissions",
    "webhooks",
    "rich-text",
    "invoices",
    "coupons",
    "emails",
    "tour",
    "locale",
    "export",
    "import",
    "audit-log",
];
const DESCRIBES: &[&str] = &[
    "happy path",
    "error handling",
    "validation",
    "keyboard navigation",
    "mobile viewport",
    "with feature flag new-checkout",
    "as admin",
    "as guest",
    "with slow network",
    "accessibility",
    "regressions",
    "edge cases",
    "when logged in",
    "empty state",
    "large datasets",
    "Ünïcödé & RTL — עברית",
];
const VERBS: &[&str] = &[
    "should show",
    "should hide",
    "displays",
    "updates",
    "persists",
    "validates",
    "rejects",
    "redirects to",
    "renders",
    "loads",
    "submits",
    "filters",
    "sorts",
    "paginates",
    "restores",
    "exports",
];
const OBJECTS: &[&str] = &[
    "the cart total",
    "an error toast",
    "the user menu",
    "the empty state",
    "the results list",
    "the invoice PDF",
    "the confirmation dialog",
    "the search suggestions",
    "the profile form",
    "the billing address",
    "the order history",
    "the dashboard widgets",
    "the settings page",
    "the audit entries",
    "the coupon banner",
    "the locale switcher",
];
const CONDITIONS: &[&str] = &[
    "",
    "",
    "",
    " after reload",
    " on submit",
    " when offline",
    " for a new user",
    " with 1000 items",
    " after session timeout",
    " in dark mode",
    " with ünïcödé input",
    " (regression #4821)",
    " with emoji 🛒",
    " on second visit",
];
const TAGS: &[&str] = &[
    "@smoke",
    "@regression",
    "@slow",
    "@critical",
    "@a11y",
    "@visual",
    "@api",
    "@mobile",
    "@quarantine",
];
const OWNERS: &[&str] = &[
    "team-checkout",
    "team-growth",
    "team-platform",
    "team-search",
    "team-identity",
];
const BUTTONS: &[&str] = &[
    "Submit",
    "Save changes",
    "Pay now",
    "Add to cart",
    "Continue",
    "Sign in",
    "Apply coupon",
    "Export CSV",
    "Delete",
    "Next page",
];
const FIELDS: &[&str] = &[
    "Email",
    "Password",
    "Card number",
    "Search",
    "Display name",
    "Street address",
    "Coupon code",
    "Company",
];
const TEST_IDS: &[&str] = &[
    "cart-total",
    "order-status",
    "result-count",
    "user-name",
    "toast",
    "invoice-amount",
    "page-title",
    "badge-count",
];

fn named(name: &str, version: &str) -> NamedVersion {
    NamedVersion {
        name: name.into(),
        version: version.into(),
        ..Default::default()
    }
}

fn environments() -> Vec<Environment> {
    ENVS.iter()
        .enumerate()
        .map(|(i, e)| Environment {
            name: e.project.into(),
            system_data: Some(SystemData {
                os_name: Some(e.os_name.into()),
                os_version: Some(e.os_version.into()),
                os_arch: Some(e.os_arch.into()),
                ..Default::default()
            }),
            metadata: Some(json!({
                "browser": e.project,
                "browserVersion": e.browser_version,
                "headless": true,
                "workers": WORKERS,
                "ci": "github-actions",
                "shard": format!("{}/{}", i + 1, ENVS.len()),
                "branch": "main",
                "viewport": "1280x720",
            })),
            ..Default::default()
        })
        .collect()
}

fn sources(rng: &mut Rng) -> Vec<Source> {
    let mut out = Vec::new();
    for (path, lines, offset) in [
        ("playwright.config.ts", 60, None),
        ("tests/fixtures.ts", 140, None),
        ("tests/pages/cart-page.ts", 80, Some(20)),
    ] {
        let mut text = String::from("import { test as base, expect } from '@playwright/test';\n");
        for i in 0..lines {
            let line = match rng.below(6) {
                0 => format!(
                    "  await page.getByRole('button', {{ name: '{}' }}).click();\n",
                    rng.pick(BUTTONS)
                ),
                1 => format!(
                    "  await page.getByLabel('{}').fill('value-{i}');\n",
                    rng.pick(FIELDS)
                ),
                2 => format!(
                    "  await expect(page.getByTestId('{}')).toBeVisible();\n",
                    rng.pick(TEST_IDS)
                ),
                3 => format!("  // {}: {}\n", rng.pick(OWNERS), rng.pick(OBJECTS)),
                4 => "  });\n".to_string(),
                _ => format!(
                    "  const step{i} = await api.get('/api/{}');\n",
                    rng.pick(FEATURES)
                ),
            };
            text.push_str(&line);
        }
        out.push(Source {
            file_path: path.into(),
            text,
            line_offset: offset,
            content_type: Some("text/typescript".into()),
            ..Default::default()
        });
    }
    out
}

fn unattributed_errors(rng: &mut Rng) -> Vec<ReportError> {
    let root = ENVS[0].root;
    vec![
        ReportError {
            message: Some("Error: No tests found in tests/legacy/old-checkout.spec.ts".into()),
            ..Default::default()
        },
        ReportError {
            location: Some(Location::new("tests/global-teardown.ts", 17, 11)),
            message: Some("Error: read ECONNRESET".into()),
            stack: Some(format!(
                "Error: read ECONNRESET\n    at TLSWrap.onStreamRead (node:internal/stream_base_commons:218:20)\n    at globalTeardown ({root}/tests/global-teardown.ts:17:11)\n    at async Promise.all (index {})",
                rng.below(4)
            )),
            ..Default::default()
        },
    ]
}

fn set_telemetry(report: &mut Report, run_start: u64, duration: u64, seed: u64) {
    const SAMPLES: u64 = 720;
    let mut rng = Rng::derive(seed, STREAM_TELEMETRY, 0);
    let step = (duration / SAMPLES).max(1);
    let (mut avg, mut max, mut ram) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu, mut mem) = (40.0f64, 35.0f64);
    for i in 0..SAMPLES {
        cpu = (cpu + (rng.below(201) as f64 - 100.0) / 10.0).clamp(2.0, 96.0);
        mem = (mem + (rng.below(41) as f64 - 20.0) / 10.0).clamp(20.0, 90.0);
        let busiest = (cpu + rng.below(300) as f64 / 10.0).min(100.0);
        let t = if i == 0 {
            run_start
        } else {
            step + rng.below(40)
        };
        let round = |x: f64| (x * 10.0).round() / 10.0;
        avg.push(TelemetrySample(DurationMs::from_millis(t), round(cpu)));
        max.push(TelemetrySample(DurationMs::from_millis(t), round(busiest)));
        ram.push(TelemetrySample(DurationMs::from_millis(t), round(mem)));
    }
    report.cpu_avg = Some(avg);
    report.cpu_max = Some(max);
    report.ram = Some(ram);
}

/// Attachment contents written once to `attachments/` and referenced many times.
#[derive(Debug)]
pub struct AttachmentPool {
    screenshots: Vec<Attachment>,
    videos: Vec<Attachment>,
    traces: Vec<Attachment>,
    logs: Vec<Attachment>,
    contexts: Vec<Attachment>,
    payloads: Vec<Attachment>,
}

impl AttachmentPool {
    /// Writes the pool's 60 contents through `writer`.
    pub fn create(
        writer: &mut ReportDirWriter,
        seed: u64,
    ) -> Result<Self, flakiness_report::Error> {
        Self::create_sized(writer, seed, DEFAULT_ATTACHMENTS)
    }

    /// Writes `total` contents (at least one of each kind) through `writer`.
    pub fn create_sized(
        writer: &mut ReportDirWriter,
        seed: u64,
        total: usize,
    ) -> Result<Self, flakiness_report::Error> {
        let scaled = |n: usize| (n * total).div_ceil(DEFAULT_ATTACHMENTS).max(1);
        let mut k = 0u64;
        let mut next = || {
            k += 1;
            Rng::derive(seed, STREAM_ATTACHMENT, k)
        };
        let mut make = |count: usize,
                        name: &str,
                        content_type: &str,
                        content: &mut dyn FnMut(&mut Rng, usize) -> Vec<u8>|
         -> Result<Vec<Attachment>, flakiness_report::Error> {
            (0..count)
                .map(|i| {
                    let mut rng = next();
                    let bytes = content(&mut rng, i);
                    writer.add_attachment(name, content_type, &bytes)
                })
                .collect()
        };
        let screenshots = make(scaled(16), "screenshot", "image/png", &mut |rng, _| {
            let mut b =
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x05\0\0\0\x02\xd0\x08\x06\0\0\0".to_vec();
            let n = rng.range(600, 2_500) as usize;
            b.extend(rng.bytes(n));
            b
        })?;
        let videos = make(scaled(6), "video", "video/webm", &mut |rng, _| {
            let mut b = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm".to_vec();
            let n = rng.range(2_000, 4_000) as usize;
            b.extend(rng.bytes(n));
            b
        })?;
        let traces = make(scaled(6), "trace", "application/zip", &mut |rng, _| {
            let mut b = b"PK\x03\x04\x14\0\0\0\x08\0trace.trace".to_vec();
            let n = rng.range(1_000, 3_000) as usize;
            b.extend(rng.bytes(n));
            b
        })?;
        let logs = make(scaled(12), "server.log", "text/plain", &mut |rng, i| {
            let mut s = String::new();
            for l in 0..rng.range(10, 40) {
                s.push_str(&format!(
                    "2025-01-0{}T10:{:02}:{:02}.{:03}Z INFO [{}] GET /api/{} {} {}ms\n",
                    1 + i % 9,
                    l % 60,
                    rng.below(60),
                    rng.below(1000),
                    rng.pick(OWNERS),
                    rng.pick(FEATURES),
                    rng.pick(&[200, 200, 200, 304, 404, 500]),
                    rng.below(400)
                ));
            }
            s.into_bytes()
        })?;
        let contexts = make(
            scaled(12),
            "error-context",
            "text/markdown",
            &mut |rng, _| {
                let mut s = String::from("# Page snapshot\n\n```yaml\n");
                for _ in 0..rng.range(5, 25) {
                    s.push_str(&format!(
                        "- button \"{}\" [ref=e{}]\n- textbox \"{}\": value-{}\n",
                        rng.pick(BUTTONS),
                        rng.below(200),
                        rng.pick(FIELDS),
                        rng.below(1000)
                    ));
                }
                s.push_str("```\n");
                s.into_bytes()
            },
        )?;
        let payloads = make(
            scaled(8),
            "response.json",
            "application/json",
            &mut |rng, _| {
                let items: Vec<_> = (0..rng.range(2, 12))
                .map(|i| json!({"id": i, "sku": rng.hex(8), "qty": rng.range(1, 5), "price": rng.range(100, 9_999)}))
                .collect();
                serde_json::to_vec_pretty(&json!({"items": items, "currency": "EUR"}))
                    .unwrap_or_default()
            },
        )?;
        Ok(AttachmentPool {
            screenshots,
            videos,
            traces,
            logs,
            contexts,
            payloads,
        })
    }

    fn distinct_files(&self) -> usize {
        let mut ids: Vec<&str> = [
            &self.screenshots,
            &self.videos,
            &self.traces,
            &self.logs,
            &self.contexts,
            &self.payloads,
        ]
        .iter()
        .flat_map(|v| v.iter().map(|a| a.id.as_str()))
        .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}

/// How a test behaves in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Passed,
    Flaky,
    Failed,
    TimedOut,
    Skipped,
    Xfail,
    Interrupted,
}

const KINDS: [Kind; 7] = [
    Kind::Passed,
    Kind::Flaky,
    Kind::Failed,
    Kind::TimedOut,
    Kind::Skipped,
    Kind::Xfail,
    Kind::Interrupted,
];
const KIND_WEIGHTS: [u64; 7] = [800, 40, 25, 10, 80, 25, 3];

struct TestFile {
    path: String,
    area: &'static str,
    feature: &'static str,
}

struct Ctx<'a> {
    pool: &'a AttachmentPool,
    /// Per environment, per worker: when the worker is free again.
    clocks: Vec<Vec<u64>>,
    tests: usize,
    attempts: usize,
    attachment_refs: usize,
}

/// The counters and clocks of a [`Ctx`], to drop a suite that is generated but not kept.
type CtxState = (Vec<Vec<u64>>, usize, usize, usize);

impl Ctx<'_> {
    fn snapshot(&self) -> CtxState {
        (
            self.clocks.clone(),
            self.tests,
            self.attempts,
            self.attachment_refs,
        )
    }

    fn restore(&mut self, (clocks, tests, attempts, attachment_refs): CtxState) {
        self.clocks = clocks;
        self.tests = tests;
        self.attempts = attempts;
        self.attachment_refs = attachment_refs;
    }

    fn file_suite(&mut self, seed: u64, index: u64) -> Suite {
        let mut rng = Rng::derive(seed, STREAM_FILE, index);
        let area = AREAS[(index % AREAS.len() as u64) as usize];
        let feature = *rng.pick(FEATURES);
        let file = TestFile {
            path: format!("tests/{area}/{feature}-{index}.spec.ts"),
            area,
            feature,
        };
        let worker = (index % WORKERS as u64) as usize;
        let mut suite = Suite::new(SuiteType::File, file.path.clone());
        suite.location = Some(Location::new(file.path.clone(), 0, 0));
        let mut line = rng.range(3, 12) as i64;
        let direct: Vec<Test> = (0..rng.below(3))
            .map(|_| self.test(&mut rng, &file, &mut line, worker, None))
            .collect();
        let describes: Vec<Suite> = (0..rng.range(1, 2))
            .map(|_| self.describe(&mut rng, &file, &mut line, worker, 2))
            .collect();
        suite.tests = (!direct.is_empty()).then_some(direct);
        suite.suites = Some(describes);
        suite
    }

    fn describe(
        &mut self,
        rng: &mut Rng,
        file: &TestFile,
        line: &mut i64,
        worker: usize,
        depth: u32,
    ) -> Suite {
        let anonymous = depth > 2 && rng.chance(100);
        let mut suite = if anonymous {
            Suite::new(SuiteType::AnonymousSuite, "")
        } else {
            Suite::new(SuiteType::Suite, *rng.pick(DESCRIBES))
        };
        suite.location = Some(Location::new(file.path.clone(), *line, 6));
        *line += rng.range(1, 4) as i64;
        let count = if depth == 2 {
            rng.range(1, 5)
        } else {
            rng.range(1, 3)
        };
        let tests: Vec<Test> = (0..count)
            .map(|_| self.test(rng, file, line, worker, None))
            .collect();
        suite.tests = Some(tests);
        let nest = match depth {
            2 => rng.chance(500),
            3 => rng.chance(300),
            _ => false,
        };
        if nest {
            let nested: Vec<Suite> = (0..rng.range(1, 2))
                .map(|_| self.describe(rng, file, line, worker, depth + 1))
                .collect();
            suite.suites = Some(nested);
        }
        *line += rng.range(1, 3) as i64;
        suite
    }

    fn test(
        &mut self,
        rng: &mut Rng,
        file: &TestFile,
        line: &mut i64,
        worker: usize,
        kind: Option<Kind>,
    ) -> Test {
        self.tests += 1;
        // The counter keeps titles unique, as runners require within one suite.
        let title = format!(
            "{} {}{} #{}",
            rng.pick(VERBS),
            rng.pick(OBJECTS),
            rng.pick(CONDITIONS),
            self.tests
        );
        let mut test = Test::new(title);
        let test_line = *line;
        test.location = Some(Location::new(file.path.clone(), test_line, 7));
        *line += rng.range(8, 35) as i64;
        let n_tags = rng.weighted(&[50, 30, 15, 5]);
        if n_tags > 0 {
            let mut tags: Vec<String> = Vec::new();
            for _ in 0..n_tags {
                let tag = rng.pick(TAGS).to_string();
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            test.tags = Some(tags);
        }
        let base_kind = kind.unwrap_or_else(|| KINDS[rng.weighted(&KIND_WEIGHTS)]);
        let owner = rng.chance(80).then(|| *rng.pick(OWNERS));
        let slow = rng.chance(40);
        let mut attempts = Vec::new();
        for env in 0..ENVS.len() {
            // Some tests do not run in every browser.
            if env > 0 && kind.is_none() && rng.chance(60) {
                continue;
            }
            let mut env_kind = base_kind;
            if base_kind == Kind::Passed && rng.chance(15) {
                env_kind = Kind::Flaky;
            }
            if kind.is_some() && env > 0 {
                env_kind = Kind::Passed;
            }
            let plan: Vec<(TestStatus, TestStatus)> = match env_kind {
                Kind::Passed => vec![(TestStatus::Passed, TestStatus::Passed)],
                Kind::Flaky => {
                    let fails = rng.range(1, RETRIES as u64) as usize;
                    let mut v: Vec<_> = (0..fails)
                        .map(|_| {
                            let s = if rng.chance(200) {
                                TestStatus::TimedOut
                            } else {
                                TestStatus::Failed
                            };
                            (TestStatus::Passed, s)
                        })
                        .collect();
                    v.push((TestStatus::Passed, TestStatus::Passed));
                    v
                }
                Kind::Failed => vec![(TestStatus::Passed, TestStatus::Failed); RETRIES + 1],
                Kind::TimedOut => vec![(TestStatus::Passed, TestStatus::TimedOut); RETRIES + 1],
                Kind::Skipped => vec![(TestStatus::Skipped, TestStatus::Skipped)],
                Kind::Xfail => vec![(TestStatus::Failed, TestStatus::Failed)],
                Kind::Interrupted => vec![(TestStatus::Passed, TestStatus::Interrupted)],
            };
            let info = TestInfo {
                file,
                line: test_line,
                env,
                owner,
                slow,
                kind: env_kind,
            };
            for (retry, (expected, status)) in plan.into_iter().enumerate() {
                let attempt = self.attempt(rng, &info, worker, retry, expected, status);
                attempts.push(attempt);
            }
        }
        test.attempts = attempts;
        test
    }

    fn attempt(
        &mut self,
        rng: &mut Rng,
        info: &TestInfo<'_>,
        worker: usize,
        retry: usize,
        expected: TestStatus,
        status: TestStatus,
    ) -> RunAttempt {
        self.attempts += 1;
        let duration = match status {
            TestStatus::Passed => rng.range(250, 8_000),
            TestStatus::Failed => rng.range(800, 15_000),
            TestStatus::TimedOut => TIMEOUT_MS + rng.range(1, 400),
            TestStatus::Skipped => rng.below(4),
            TestStatus::Interrupted => rng.range(100, 20_000),
        };
        let clock = &mut self.clocks[info.env][worker];
        let start = *clock;
        *clock += duration + rng.range(5, 120);

        let mut a = RunAttempt {
            environment_idx: Some(info.env as u32),
            expected_status: (expected != TestStatus::Passed || !rng.chance(300))
                .then_some(expected),
            status: (status != TestStatus::Passed || !rng.chance(100)).then_some(status),
            start_timestamp: Some(UnixTimestampMs::from_millis(start)),
            duration: Some(DurationMs::from_millis(duration)),
            timeout: Some(DurationMs::from_millis(TIMEOUT_MS)),
            parallel_index: Some(worker as i64),
            ..Default::default()
        };

        // Annotations.
        let mut annotations = Vec::new();
        if info.kind == Kind::Skipped {
            let (kind, description) = if rng.chance(500) {
                (
                    "skip",
                    format!("not supported on {}", ENVS[info.env].project),
                )
            } else {
                (
                    "fixme",
                    format!(
                        "https://github.com/acme/storefront/issues/{}",
                        rng.range(1000, 9999)
                    ),
                )
            };
            annotations.push(annotation(
                kind,
                Some(description),
                Some(Location::new(info.file.path.clone(), info.line + 1, 10)),
            ));
        }
        if info.kind == Kind::Xfail {
            annotations.push(annotation(
                "fail",
                Some(format!(
                    "known bug: https://github.com/acme/storefront/issues/{}",
                    rng.range(1000, 9999)
                )),
                Some(Location::new(info.file.path.clone(), info.line + 1, 10)),
            ));
        }
        if info.slow {
            annotations.push(annotation("slow", None, None));
        }
        if let Some(owner) = info.owner {
            annotations.push(annotation("owner", Some(owner.to_string()), None));
        }
        a.annotations = (!annotations.is_empty()).then_some(annotations);

        if status == TestStatus::Skipped {
            return a;
        }

        // Errors.
        let failing = matches!(
            status,
            TestStatus::Failed | TestStatus::TimedOut | TestStatus::Interrupted
        );
        let mut errors = Vec::new();
        if failing {
            errors.push(make_error(rng, info, status));
            if status == TestStatus::Failed && rng.chance(150) {
                errors.push(make_error(rng, info, status));
            }
        }

        // Steps.
        a.steps = Some(self.steps(rng, info, retry, errors.first()));

        // Output.
        if rng.chance(600) || failing {
            let n = rng.range(1, 6);
            a.stdio = Some((0..n).map(|_| stdio_entry(rng, info)).collect());
        }

        // Attachments.
        let mut attachments = Vec::new();
        if failing {
            attachments.push(rng.pick(&self.pool.screenshots).clone());
            attachments.push(rng.pick(&self.pool.contexts).clone());
            if retry > 0 {
                attachments.push(rng.pick(&self.pool.traces).clone());
                if rng.chance(300) {
                    attachments.push(rng.pick(&self.pool.videos).clone());
                }
            }
        } else if rng.chance(60) {
            attachments.push(rng.pick(&self.pool.logs).clone());
            if rng.chance(300) {
                let mut payload = rng.pick(&self.pool.payloads).clone();
                payload.name = format!("{}-response.json", info.file.feature);
                attachments.push(payload);
            }
        }
        self.attachment_refs += attachments.len();
        a.attachments = (!attachments.is_empty()).then_some(attachments);
        a.errors = (!errors.is_empty()).then_some(errors);
        a
    }

    fn steps(
        &mut self,
        rng: &mut Rng,
        info: &TestInfo<'_>,
        retry: usize,
        error: Option<&ReportError>,
    ) -> Vec<TestStep> {
        let fixtures = Location::new("tests/fixtures.ts", 0, 0);
        let fixture = |rng: &mut Rng, name: &str, line: i64| TestStep {
            title: format!("fixture: {name}"),
            duration: Some(DurationMs::from_millis(rng.range(1, 900))),
            location: Some(Location {
                line,
                column: 3,
                ..fixtures.clone()
            }),
            ..Default::default()
        };
        let mut before = vec![fixture(rng, "context", 24), fixture(rng, "page", 31)];
        if retry > 0 || rng.chance(100) {
            before.insert(0, fixture(rng, "browser", 12));
        }
        let mut out = vec![TestStep {
            title: "Before Hooks".into(),
            duration: Some(DurationMs::from_millis(rng.range(20, 1_500))),
            steps: Some(before),
            ..Default::default()
        }];

        let n = rng.range(2, 7);
        let mut line = info.line + 1;
        for i in 0..n {
            line += rng.range(1, 3) as i64;
            let last = i + 1 == n;
            let step_error = if last { error.cloned() } else { None };
            if rng.chance(250) {
                // A `test.step` group with nested actions.
                let children: Vec<TestStep> = (0..rng.range(2, 3))
                    .map(|j| {
                        let mut s = api_step(rng, info, line + j as i64 + 1);
                        if last && j == 1 {
                            s.error = step_error.clone();
                        }
                        s
                    })
                    .collect();
                let children_len = children.len() as i64;
                let mut group = TestStep {
                    title: format!(
                        "{} {}",
                        rng.pick(&["Fill", "Open", "Verify", "Prepare"]),
                        rng.pick(OBJECTS)
                    ),
                    duration: Some(DurationMs::from_millis(rng.range(50, 3_000))),
                    location: Some(Location::new(info.file.path.clone(), line, 16)),
                    steps: Some(children),
                    error: step_error,
                    ..Default::default()
                };
                if rng.chance(100) {
                    let shot = rng.pick(&self.pool.screenshots).clone();
                    self.attachment_refs += 1;
                    group.attachments = Some(vec![shot]);
                }
                out.push(group);
                line += children_len + 1;
            } else {
                let mut s = api_step(rng, info, line);
                s.error = step_error;
                out.push(s);
            }
        }

        let mut after = vec![fixture(rng, "page", 31), fixture(rng, "context", 24)];
        if error.is_some() {
            let shot = rng.pick(&self.pool.screenshots).clone();
            self.attachment_refs += 1;
            after.insert(
                0,
                TestStep {
                    title: "attach \"screenshot\"".into(),
                    duration: Some(DurationMs::from_millis(rng.range(20, 300))),
                    attachments: Some(vec![shot]),
                    ..Default::default()
                },
            );
        }
        out.push(TestStep {
            title: "After Hooks".into(),
            duration: Some(DurationMs::from_millis(rng.range(10, 2_000))),
            steps: Some(after),
            ..Default::default()
        });
        out
    }
}

struct TestInfo<'a> {
    file: &'a TestFile,
    line: i64,
    env: usize,
    owner: Option<&'static str>,
    slow: bool,
    kind: Kind,
}

fn annotation(kind: &str, description: Option<String>, location: Option<Location>) -> Annotation {
    Annotation {
        kind: kind.into(),
        description,
        location,
        ..Default::default()
    }
}

fn api_step(rng: &mut Rng, info: &TestInfo<'_>, line: i64) -> TestStep {
    let title = match rng.below(6) {
        0 => format!("page.goto(/{}/{})", info.file.area, info.file.feature),
        1 => format!(
            "locator.click(getByRole('button', {{ name: '{}' }}))",
            rng.pick(BUTTONS)
        ),
        2 => format!("locator.fill(getByLabel('{}'))", rng.pick(FIELDS)),
        3 => format!("expect(getByTestId('{}')).toHaveText()", rng.pick(TEST_IDS)),
        4 => "expect(locator).toBeVisible()".to_string(),
        _ => format!("apiRequestContext.get(/api/{})", info.file.feature),
    };
    TestStep {
        title,
        duration: Some(DurationMs::from_millis(rng.range(1, 2_500))),
        location: Some(Location::new(
            info.file.path.clone(),
            line,
            rng.range(5, 20) as i64,
        )),
        ..Default::default()
    }
}

fn abs_path(env: usize, rel: &str) -> String {
    let e = &ENVS[env];
    if e.windows {
        format!("{}\\{}", e.root, rel.replace('/', "\\"))
    } else {
        format!("{}/{}", e.root, rel)
    }
}

fn money(rng: &mut Rng) -> String {
    format!("${}.{:02}", rng.range(1, 500), rng.below(100))
}

fn make_error(rng: &mut Rng, info: &TestInfo<'_>, status: TestStatus) -> ReportError {
    let line = info.line + rng.range(2, 20) as i64;
    let column = rng.range(5, 40) as i64;
    let ansi = rng.chance(400);
    let (red, green, dim, reset) = if ansi {
        (
            "\u{1b}[31m",
            "\u{1b}[32m",
            "\u{1b}[2m",
            "\u{1b}[39m\u{1b}[22m",
        )
    } else {
        ("", "", "", "")
    };
    let (message, code) = match status {
        TestStatus::TimedOut => (
            format!("Test timeout of {TIMEOUT_MS}ms exceeded."),
            format!("await page.getByRole('button', {{ name: '{}' }}).click();", rng.pick(BUTTONS)),
        ),
        TestStatus::Interrupted => (
            "Error: Test was interrupted: worker process exited unexpectedly (code=null, signal=SIGTERM)".to_string(),
            format!("await page.goto('/{}');", info.file.area),
        ),
        _ => match rng.below(5) {
            0 => {
                let id = rng.pick(TEST_IDS);
                let (expected, received) = (money(rng), money(rng));
                (
                    format!(
                        "Error: {dim}expect({reset}{red}locator{reset}{dim}).{reset}toHaveText{dim}({reset}{green}expected{reset}{dim}){reset} failed\n\nLocator:  getByTestId('{id}')\nExpected: {green}\"{expected}\"{reset}\nReceived: {red}\"{received}\"{reset}\nTimeout:  5000ms\n\nCall log:\n{dim}  - Expect \"toHaveText\" with timeout 5000ms\n  - waiting for getByTestId('{id}')\n    {} × locator resolved to <span data-testid=\"{id}\">{received}</span>\n      - unexpected value \"{received}\"{reset}\n",
                        rng.range(2, 9)
                    ),
                    format!("await expect(page.getByTestId('{id}')).toHaveText('{expected}');"),
                )
            }
            1 => {
                let button = rng.pick(BUTTONS);
                (
                    format!(
                        "Error: {dim}expect({reset}{red}locator{reset}{dim}).{reset}toBeVisible{dim}(){reset} failed\n\nLocator: getByRole('dialog', {{ name: '{button}' }})\nExpected: visible\nReceived: <element(s) not found>\nTimeout: 5000ms\n\nCall log:\n{dim}  - Expect \"toBeVisible\" with timeout 5000ms\n  - waiting for getByRole('dialog', {{ name: '{button}' }}){reset}\n"
                    ),
                    format!("await expect(page.getByRole('dialog', {{ name: '{button}' }})).toBeVisible();"),
                )
            }
            2 => {
                let (a, b) = (rng.range(1000, 9999), rng.range(1000, 9999));
                (
                    format!(
                        "Error: {dim}expect({reset}{red}received{reset}{dim}).{reset}toEqual{dim}({reset}{green}expected{reset}{dim}) // deep equality{reset}\n\n{green}- Expected  - 2{reset}\n{red}+ Received  + 2{reset}\n\n  Object {{\n{green}-   \"status\": \"paid\",{reset}\n{green}-   \"total\": {a},{reset}\n{red}+   \"status\": \"pending\",{reset}\n{red}+   \"total\": {b},{reset}\n  }}"
                    ),
                    "expect(await order.json()).toEqual({ status: 'paid', total });".to_string(),
                )
            }
            3 => (
                format!("TypeError: Cannot read properties of undefined (reading '{}')", rng.pick(&["id", "items", "total", "user", "length"])),
                "const id = (await cart.items())[0].id;".to_string(),
            ),
            _ => {
                let url = format!("http://localhost:3000/{}/{}", info.file.area, info.file.feature);
                (
                    format!(
                        "Error: page.goto: net::ERR_CONNECTION_REFUSED at {url}\nCall log:\n{dim}  - navigating to \"{url}\", waiting until \"load\"{reset}\n"
                    ),
                    format!("await page.goto('/{}/{}');", info.file.area, info.file.feature),
                )
            }
        },
    };

    let test_file = abs_path(info.env, &info.file.path);
    let mut stack = message.clone();
    if status != TestStatus::TimedOut || rng.chance(500) {
        stack.push_str(&format!("\n    at {test_file}:{line}:{column}"));
        if rng.chance(500) {
            stack.push_str(&format!(
                "\n    at CartPage.addItem ({}:{}:{})",
                abs_path(info.env, "tests/pages/cart-page.ts"),
                rng.range(20, 99),
                rng.range(5, 30)
            ));
        }
        stack.push_str(&format!(
            "\n    at {}:{}:{}",
            abs_path(info.env, "tests/fixtures.ts"),
            rng.range(20, 140),
            rng.range(3, 12)
        ));
        if rng.chance(300) {
            stack.push_str(&format!(
                "\n    at {}:{}:{}",
                abs_path(info.env, "node_modules/playwright/lib/worker/workerMain.js"),
                rng.range(300, 700),
                rng.range(5, 60)
            ));
        }
    }

    let marker = format!("{red}>{reset}");
    let width = line.to_string().len() + 1;
    let snippet = format!(
        "  {:>w$} |   const {} = page.getByTestId('{}');\n{marker} {:>w$} |   {code}\n  {:>w$} |   {}^\n  {:>w$} | }});",
        line - 1,
        info.file.feature.replace('-', "_"),
        rng.pick(TEST_IDS),
        line,
        "",
        " ".repeat(column.saturating_sub(1) as usize),
        line + 1,
        w = width
    );

    ReportError {
        location: Some(Location::new(info.file.path.clone(), line, column)),
        message: Some(message),
        stack: Some(stack),
        snippet: Some(snippet),
        ..Default::default()
    }
}

fn stdio_entry(rng: &mut Rng, info: &TestInfo<'_>) -> TimedStdioEntry {
    let dts = Some(DurationMs::from_millis(rng.range(0, 2_000)));
    let stream = if rng.chance(300) {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    if rng.chance(120) {
        // Raw bytes, some not UTF-8.
        let mut bytes = b"\x1b[33mwarn\x1b[0m binary chunk: ".to_vec();
        let n = rng.range(16, 120) as usize;
        bytes.extend(rng.bytes(n));
        return TimedStdioEntry {
            stream: Some(stream),
            dts,
            buffer: Some(base64(&bytes)),
            ..Default::default()
        };
    }
    let text = match (stream, rng.below(4)) {
        (Stream::Stdout, 0) => format!(
            "[webServer] GET /api/{}?page={} {} in {}ms\n",
            info.file.feature,
            rng.range(1, 9),
            rng.pick(&[200, 200, 304, 404]),
            rng.range(2, 400)
        ),
        (Stream::Stdout, 1) => format!(
            "console.log: cart updated {{\"items\":{},\"total\":\"{}\"}}\n",
            rng.range(0, 12),
            money(rng)
        ),
        (Stream::Stdout, 2) => format!("seeded {} fixtures for {} in {}ms\n", rng.range(1, 500), info.file.area, rng.range(5, 900)),
        (Stream::Stdout, _) => format!("✓ step {} passed — {}\n", rng.range(1, 9), rng.pick(OBJECTS)),
        (Stream::Stderr, 0) => format!(
            "[browser] Failed to load resource: the server responded with a status of {} ()\n",
            rng.pick(&[404, 500, 503])
        ),
        (Stream::Stderr, 1) => "(node:2231) Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes TLS connections and HTTPS requests insecure by disabling certificate verification.\n(Use `node --trace-warnings ...` to show where the warning was created)\n".to_string(),
        (Stream::Stderr, 2) => format!("[webServer] Error: ECONNRESET while proxying /api/{}\n    at Socket.socketOnEnd (node:_http_client:524:23)\n", info.file.feature),
        (Stream::Stderr, _) => format!("DeprecationWarning: {} is deprecated, use {} instead\n", rng.pick(FIELDS), rng.pick(BUTTONS)),
    };
    TimedStdioEntry {
        stream: Some(stream),
        dts,
        text: Some(text),
        ..Default::default()
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use flakiness_report::{attachment_id_for, read_report_dir, ATTACHMENTS_DIR};

    use super::*;

    fn dir_contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        out.insert(
            PathBuf::from(REPORT_FILE),
            fs::read(dir.join(REPORT_FILE)).expect("report.json"),
        );
        for entry in fs::read_dir(dir.join(ATTACHMENTS_DIR)).expect("attachments/") {
            let entry = entry.expect("entry");
            let name = PathBuf::from(ATTACHMENTS_DIR).join(entry.file_name());
            out.insert(name, fs::read(entry.path()).expect("attachment"));
        }
        out
    }

    fn step_attachments<'a>(steps: &'a [TestStep], out: &mut Vec<&'a Attachment>) {
        for s in steps {
            out.extend(s.attachments.iter().flatten());
            step_attachments(s.steps.as_deref().unwrap_or_default(), out);
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn generator_is_deterministic_and_valid() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let opts = GenOptions {
            target_bytes: 400_000,
            seed: 7,
            attachments: DEFAULT_ATTACHMENTS,
        };
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let summary_a = generate(&a, opts).expect("generate a");
        let summary_b = generate(&b, opts).expect("generate b");
        assert_eq!(summary_a, summary_b);
        let contents = dir_contents(&a);
        assert!(
            contents == dir_contents(&b),
            "same seed must give the same bytes"
        );

        // Another seed gives another report.
        let c = tmp.path().join("c");
        generate(&c, GenOptions { seed: 8, ..opts }).expect("generate c");
        assert!(contents[Path::new(REPORT_FILE)] != fs::read(c.join(REPORT_FILE)).expect("read c"));

        // Size within 10% of the target.
        let size = summary_a.report_bytes as f64;
        assert!(
            (size / opts.target_bytes as f64 - 1.0).abs() < 0.10,
            "size {size}"
        );
        assert_eq!(
            summary_a.report_bytes,
            contents[Path::new(REPORT_FILE)].len() as u64
        );
        assert!(summary_a.attachment_files <= 64);

        // It parses back into the model, and every referenced attachment is there.
        let read = read_report_dir(&a).expect("report parses");
        let report = read.report;
        assert_eq!(report.environments.len(), 3);
        assert!(report.cpu_avg.is_some() && report.cpu_max.is_some() && report.ram.is_some());
        assert!(report.sources.is_some() && report.unattributed_errors.is_some());
        let mut statuses = Vec::new();
        let mut refs = Vec::new();
        let mut tests = 0;
        for t in report.all_tests() {
            tests += 1;
            for attempt in &t.test.attempts {
                assert!(
                    attempt.start_timestamp.is_some(),
                    "every attempt has startTimestamp"
                );
                assert!((attempt.environment_idx() as usize) < report.environments.len());
                statuses.push((attempt.expected_status(), attempt.status()));
                refs.extend(attempt.attachments.iter().flatten());
                step_attachments(attempt.steps.as_deref().unwrap_or_default(), &mut refs);
            }
        }
        assert_eq!(tests, summary_a.tests);
        assert_eq!(refs.len(), summary_a.attachment_refs);
        assert!(
            refs.len() > summary_a.attachment_files,
            "attachments are shared"
        );
        for att in refs {
            let path = read.root.join(ATTACHMENTS_DIR).join(&att.id);
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(attachment_id_for(&bytes), att.id);
        }
        for status in [
            TestStatus::Passed,
            TestStatus::Failed,
            TestStatus::TimedOut,
            TestStatus::Skipped,
            TestStatus::Interrupted,
        ] {
            assert!(
                statuses.iter().any(|(_, s)| *s == status),
                "{status:?} present"
            );
        }
        assert!(
            statuses.contains(&(TestStatus::Failed, TestStatus::Failed)),
            "xfail present"
        );
        let flaky = report.all_tests().filter(|t| t.test.is_flaky()).count();
        assert!(flaky > 0);
    }

    #[test]
    fn size_tracks_the_target() {
        let pool_dir = tempfile::tempdir().expect("temp dir");
        let mut writer = ReportDirWriter::create(pool_dir.path().join("r")).expect("writer");
        let pool = AttachmentPool::create(&mut writer, 1).expect("pool");
        for target in [1_000_000u64, 3_000_000] {
            let (report, summary) = build_report(
                &pool,
                GenOptions {
                    target_bytes: target,
                    seed: 1,
                    attachments: DEFAULT_ATTACHMENTS,
                },
            );
            let real = json_len(&report);
            assert!(
                (real as f64 / target as f64 - 1.0).abs() < 0.10,
                "{real} for {target}"
            );
            assert!((summary.estimated_bytes as f64 / real as f64 - 1.0).abs() < 0.05);
        }
    }
}
