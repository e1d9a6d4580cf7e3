//! The serde types of the Flakiness Report format (version 0.36).
//!
//! Every struct keeps the fields it does not know in `extra`, so that a report written by a newer
//! reporter survives a read → write through this crate without losing data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::numbers::{
    any_json, integer, non_negative_integer, percent, DurationMs, UnixTimestampMs,
};

/// Fields this model does not know, kept as they were read.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Category of reports written by Playwright reporters.
pub const CATEGORY_PLAYWRIGHT: &str = "playwright";
/// Category of reports converted from pytest.
pub const CATEGORY_PYTEST: &str = "pytest";
/// Category of reports converted from JUnit XML.
pub const CATEGORY_JUNIT: &str = "junit";
/// Category of reports converted from cargo test / cargo-nextest output.
pub const CATEGORY_CARGO: &str = "cargo";

/// The root of a Flakiness Report (`report.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "FlakinessReport")]
pub struct Report {
    /// Source files embedded in the report, referenced by `Location.file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Source>>,
    /// Flakiness.io project as `org/project`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flakiness_project: Option<String>,
    /// Human readable title of the run (CI job, shard…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Report category, such as [`CATEGORY_JUNIT`]; 1 to 100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub category: String,
    /// Commit of the repository holding the tests: 40 characters (hex, checked by the validator).
    #[schemars(length(min = 40, max = 40))]
    pub commit_id: String,
    /// Commits of other repositories under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(length(min = 40, max = 40)))]
    pub related_commit_ids: Option<Vec<String>>,
    /// Root configuration file of the run, relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// URL of the CI job that produced the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The tool that wrote this report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<NamedVersion>,
    /// The test runner whose run the report describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_runner: Option<NamedVersion>,
    /// The language runtime that ran the tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<NamedVersion>,
    /// Every environment the tests ran in; attempts point here by index.
    pub environments: Vec<Environment>,
    /// Root suites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suites: Option<Vec<Suite>>,
    /// Tests outside any suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<Test>>,
    /// Errors that belong to no test (set-up, infrastructure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unattributed_errors: Option<Vec<ReportError>>,
    /// When the run started (Unix milliseconds).
    pub start_timestamp: UnixTimestampMs,
    /// How long the run took (milliseconds).
    pub duration: DurationMs,
    /// Deprecated: use `cpu_avg`, `cpu_max` and `ram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_utilization: Option<SystemUtilization>,
    /// Number of CPUs of the machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "non_negative_integer")]
    #[serde(deserialize_with = "crate::numbers::whole_opt")]
    pub cpu_count: Option<u32>,
    /// Average CPU utilisation over all cores, as delta-encoded samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_avg: Option<Vec<TelemetrySample>>,
    /// CPU utilisation of the busiest core, as delta-encoded samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_max: Option<Vec<TelemetrySample>>,
    /// RAM utilisation in percent of `ram_bytes`, as delta-encoded samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram: Option<Vec<TelemetrySample>>,
    /// Total memory of the machine in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "non_negative_integer")]
    #[serde(deserialize_with = "crate::numbers::whole_opt")]
    pub ram_bytes: Option<u64>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// A `{name, version}` pair: `generatedBy`, `testRunner` and `runtime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamedVersion {
    /// Name (non-empty).
    #[schemars(length(min = 1))]
    pub name: String,
    /// Version (non-empty).
    #[schemars(length(min = 1))]
    pub version: String,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// A source file (or a part of one) embedded in the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// POSIX path relative to the repository root.
    pub file_path: String,
    /// The text.
    pub text: String,
    /// Line number of the first line of `text` (1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "integer")]
    #[serde(deserialize_with = "crate::numbers::whole_opt")]
    pub line_offset: Option<i64>,
    /// MIME type used for highlighting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// One configuration the tests ran in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// Name of the configuration (1 to 512 characters).
    #[schemars(length(min = 1, max = 512))]
    pub name: String,
    /// Operating system facts collected by the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_data: Option<SystemData>,
    /// User metadata; by convention a flat object of strings, numbers and booleans
    /// (`FK_ENV_FOO=bar` becomes `"foo": "bar"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_json")]
    pub metadata: Option<serde_json::Value>,
    /// Deprecated: use `metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_json")]
    pub user_supplied_data: Option<serde_json::Value>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Operating system facts of an environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemData {
    /// OS name, e.g. `linux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// OS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// CPU architecture, e.g. `x86_64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_arch: Option<String>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Kind of a suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SuiteType {
    /// A test file.
    #[serde(rename = "file")]
    File,
    /// A named group defined in the source (`describe`, a class…).
    #[default]
    #[serde(rename = "suite")]
    Suite,
    /// A group with no definition in the source.
    #[serde(rename = "anonymous suite")]
    AnonymousSuite,
}

/// A suite: a file, a named group or an anonymous group of tests and suites.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Suite {
    /// What kind of suite this is.
    #[serde(rename = "type")]
    pub kind: SuiteType,
    /// Title (for a file suite, usually the file path).
    pub title: String,
    /// Where the suite is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Nested suites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suites: Option<Vec<Suite>>,
    /// Tests directly in this suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<Test>>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// A test and every attempt at running it, in every environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Test {
    /// Title of the test.
    pub title: String,
    /// Where the test is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Every run of the test, retries included, in order.
    pub attempts: Vec<RunAttempt>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Outcome of a test run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TestStatus {
    /// The test passed (the default).
    #[default]
    Passed,
    /// The test failed.
    Failed,
    /// The test ran out of time.
    TimedOut,
    /// The test was not run.
    Skipped,
    /// The run was interrupted.
    Interrupted,
}

impl TestStatus {
    /// The status as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Passed => "passed",
            TestStatus::Failed => "failed",
            TestStatus::TimedOut => "timedOut",
            TestStatus::Skipped => "skipped",
            TestStatus::Interrupted => "interrupted",
        }
    }
}

/// One run of a test in one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunAttempt {
    /// Index into `Report.environments` (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "non_negative_integer")]
    #[serde(deserialize_with = "crate::numbers::whole_opt")]
    pub environment_idx: Option<u32>,
    /// The status the test was expected to have (`passed` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<TestStatus>,
    /// The status it had (`passed` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TestStatus>,
    /// When the attempt started (optional since format 0.36).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<UnixTimestampMs>,
    /// How long it took (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationMs>,
    /// Time limit of the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationMs>,
    /// Annotations (`skip`, `fixme`, `fail`, `slow`, `owner`, or custom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Annotation>>,
    /// Every error of the attempt (soft assertions may add several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ReportError>>,
    /// Index of the parallel worker that ran the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "integer")]
    #[serde(deserialize_with = "crate::numbers::whole_opt")]
    pub parallel_index: Option<i64>,
    /// Steps of the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<TestStep>>,
    /// Output, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdio: Option<Vec<TimedStdioEntry>>,
    /// Deprecated: use `stdio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<Vec<StdioEntry>>,
    /// Deprecated: use `stdio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<Vec<StdioEntry>>,
    /// Attachments made during the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// A step of an attempt; steps nest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestStep {
    /// What the step does.
    pub title: String,
    /// How long it took (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationMs>,
    /// Where the step is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Deprecated: embed the file in `Report.sources`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// Error of the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
    /// Attachments made in the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    /// Nested steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<TestStep>>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Extra information on an attempt (`skip`, `fixme`, `fail`, `slow`, `owner`, or custom).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Annotation {
    /// Type of the annotation.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the annotation was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Reference to a file stored in the report's `attachments/` folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// Display name (often the original file name).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Id, also the file name under `attachments/`; recommended: MD5 of the content, in hex.
    #[schemars(length(min = 1, max = 1024))]
    pub id: String,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// An error of a test, a step, or the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportError {
    /// Where the error happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Message of a thrown error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Stack trace of a thrown error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Code around the error, possibly with ANSI colors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// What was thrown, when it was not an error object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// A place in a file of the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// POSIX path relative to the repository root.
    pub file: String,
    /// Line, 1-based (0 for a whole-file suite).
    #[schemars(schema_with = "integer")]
    #[serde(deserialize_with = "crate::numbers::whole")]
    pub line: i64,
    /// Column, 1-based (0 for a whole-file suite).
    #[schemars(schema_with = "integer")]
    #[serde(deserialize_with = "crate::numbers::whole")]
    pub column: i64,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Output stream of a [`TimedStdioEntry`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output (`1`, the default).
    #[default]
    Stdout,
    /// Standard error (`2`).
    Stderr,
}

/// A chunk of output, timed and ordered. Exactly one of `text` and `buffer` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("anyOf" = [
    {"properties": {"text": {"type": "string"}}, "required": ["text"]},
    {"properties": {"buffer": {"type": "string"}}, "required": ["buffer"]}
]))]
pub struct TimedStdioEntry {
    /// Stream (stdout when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<Stream>,
    /// Milliseconds since the previous entry (the first: since the attempt's start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dts: Option<DurationMs>,
    /// Text output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Binary output, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<String>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Deprecated untimed output chunk (`stdout`/`stderr` arrays). Exactly one of `text` and `buffer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("anyOf" = [
    {"properties": {"text": {"type": "string"}}, "required": ["text"]},
    {"properties": {"buffer": {"type": "string"}}, "required": ["buffer"]}
]))]
pub struct StdioEntry {
    /// Text output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Binary output, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<String>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// Deprecated sampled utilisation of the machine (use `cpuAvg`, `cpuMax`, `ram`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUtilization {
    /// Memory of the machine in bytes.
    #[schemars(schema_with = "non_negative_integer")]
    #[serde(deserialize_with = "crate::numbers::whole")]
    pub total_memory_bytes: u64,
    /// When sampling started.
    pub start_timestamp: UnixTimestampMs,
    /// The samples.
    pub samples: Vec<SystemUtilizationSample>,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// One sample of [`SystemUtilization`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUtilizationSample {
    /// Milliseconds since the previous sample (the first: since `startTimestamp`).
    pub dts: DurationMs,
    /// CPU use, percent (0 to 100).
    #[schemars(schema_with = "percent")]
    pub cpu_utilization: f64,
    /// Memory use, percent (0 to 100).
    #[schemars(schema_with = "percent")]
    pub memory_utilization: f64,
    /// Fields unknown to this model.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: Extra,
}

/// One `[time, percent]` pair of a telemetry series. The first pair of a series holds a Unix
/// timestamp in milliseconds, the following ones the milliseconds since the previous pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TelemetrySample(pub DurationMs, #[schemars(schema_with = "percent")] pub f64);
