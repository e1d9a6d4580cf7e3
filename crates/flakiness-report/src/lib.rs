//! # flakiness-report
//!
//! Typed model of the [Flakiness Report](https://flakiness.io) format (version 0.36): serde
//! types for every field, the JSON Schema generated from them, and report directories
//! (`report.json` plus `attachments/`) read and written safely.
//!
//! This crate is the contract the rest of the `flakiness` toolkit and other reporters build on;
//! it stays small and stable.
//!
//! ## Writing a report
//!
//! ```
//! use flakiness_report::{
//!     Environment, Report, ReportDirWriter, ReportError, RunAttempt, Suite, SuiteType, Test,
//!     TestStatus, CATEGORY_JUNIT,
//! };
//!
//! # fn main() -> Result<(), flakiness_report::Error> {
//! let dir = tempfile::tempdir().expect("temp dir");
//! let out = dir.path().join("flakiness-report");
//!
//! let mut writer = ReportDirWriter::create(&out)?;
//! let log = writer.add_attachment("server.log", "text/plain", b"listening on :8080\n")?;
//!
//! let mut report = Report::new(CATEGORY_JUNIT, "0123456789abcdef0123456789abcdef01234567");
//! report.environments.push(Environment::new("linux"));
//! let mut attempt = RunAttempt::with_status(TestStatus::Failed);
//! attempt.errors = Some(vec![ReportError::message("expected 2, got 3")]);
//! attempt.attachments = Some(vec![log]);
//! let retry = RunAttempt::with_status(TestStatus::Passed);
//! let mut suite = Suite::new(SuiteType::File, "tests/math.rs");
//! suite.tests = Some(vec![Test::new("adds").with_attempts([attempt, retry])]);
//! report.suites = Some(vec![suite]);
//!
//! writer.finish(&report)?;
//!
//! let read = flakiness_report::read_report_dir(&out)?;
//! assert_eq!(read.report, report);
//! let test = read.report.all_tests().next().expect("one test");
//! assert!(test.test.is_flaky());
//! assert_eq!(test.full_name(), "adds");
//! # Ok(())
//! # }
//! ```

mod dir;
mod helpers;
mod model;
mod numbers;
mod refs;
mod schema;
mod stream;

pub use dir::{
    attachment_id_for, check_attachment_id, is_report_dir, read_report_dir, read_report_file,
    AttachmentIdError, Error, ReportDir, ReportDirWriter, ReportStream, StreamObserver,
    WrittenReport, ATTACHMENTS_DIR, MAX_ATTACHMENT_ID_LEN, REPORT_FILE,
};
pub use helpers::{TestOutcome, TestRef};
pub mod files;
pub mod json_out;
pub mod json_text;
pub use model::*;
pub use numbers::{DurationMs, UnixTimestampMs, INTEGER_KEYWORD};
pub use refs::{attachment_refs, AttachmentRefs};
pub use schema::{report_schema, report_schema_pretty, SCHEMA_ID};
pub use stream::{for_each_test, StreamedReport, SuiteHeader};

/// `(report.json path, bytes)` of every valid fixture under `testdata/reports/valid`.
#[cfg(test)]
pub(crate) fn valid_fixtures() -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reports/valid");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let file = if path.is_dir() {
            path.join("report.json")
        } else {
            path
        };
        if let Ok(bytes) = std::fs::read(&file) {
            out.push((file, bytes));
        }
    }
    out.sort();
    out
}
