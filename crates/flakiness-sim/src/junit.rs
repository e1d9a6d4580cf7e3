//! A simulated report as JUnit XML, the way Maven Surefire writes reruns: one document per
//! environment, so that `flakiness analyze` and JUnit-reading tools can be run on the same
//! history.

use std::fmt::Write as _;

use flakiness_report::{Report, RunAttempt, TestStatus};
use quick_xml::escape::escape;

/// Names of the suite-level properties the documents carry (`flakiness analyze` reads them).
pub const COMMIT_PROPERTY: &str = "commit";
pub const ENVIRONMENT_PROPERTY: &str = "environment";

/// One JUnit document per environment of `report`, as `(environment name, XML)`.
///
/// Each class of each file is a `<testsuite>` named after the class; each test a `<testcase>`
/// with `classname`, `name` and `file`. A test's attempts in the environment become, after
/// Surefire: nothing (passed first time), `<flakyFailure>` per failed attempt before a pass,
/// `<failure>` then `<rerunFailure>` per further attempt when every attempt failed, or
/// `<skipped/>`. Suites carry the run's start as `timestamp`, and the commit and the environment as
/// properties: every suite, as Surefire writes them, or only the first one when `compact`.
pub fn junit_documents(report: &Report, compact: bool) -> Vec<(String, String)> {
    let timestamp = chrono::DateTime::from_timestamp_millis(report.start_timestamp.0 as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(report.environments.len());
    for (env_ix, env) in report.environments.iter().enumerate() {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        let mut first = true;
        for file_suite in report.suites.iter().flatten() {
            for class in file_suite.suites.iter().flatten() {
                let tests = class.tests.as_deref().unwrap_or_default();
                let in_env = |a: &&RunAttempt| a.environment_idx() as usize == env_ix;
                let suite_ms: f64 = tests
                    .iter()
                    .flat_map(|t| t.attempts.iter().filter(in_env))
                    .map(|a| a.duration_ms())
                    .sum();
                let _ = writeln!(
                    xml,
                    "<testsuite name=\"{}\" timestamp=\"{timestamp}\" time=\"{:.3}\" tests=\"{}\">",
                    escape(class.title.as_str()),
                    suite_ms / 1000.0,
                    tests.len(),
                );
                if first || !compact {
                    // The run's facts: in every suite's properties, as Surefire writes them, or
                    // once per document when compact.
                    let _ = writeln!(
                        xml,
                        "<properties><property name=\"{COMMIT_PROPERTY}\" value=\"{}\"/><property name=\"{ENVIRONMENT_PROPERTY}\" value=\"{}\"/></properties>",
                        escape(report.commit_id.as_str()),
                        escape(env.name.as_str()),
                    );
                    first = false;
                }
                for test in tests {
                    let attempts: Vec<&RunAttempt> = test.attempts.iter().filter(in_env).collect();
                    if attempts.is_empty() {
                        continue;
                    }
                    let time: f64 = attempts.iter().map(|a| a.duration_ms()).sum::<f64>() / 1000.0;
                    let _ = write!(
                        xml,
                        "<testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{time:.3}\">",
                        escape(class.title.as_str()),
                        escape(test.title.as_str()),
                        escape(file_suite.title.as_str()),
                    );
                    let passed = attempts.iter().any(|a| a.status() == TestStatus::Passed);
                    if attempts.iter().all(|a| a.status() == TestStatus::Skipped) {
                        xml.push_str("<skipped/>");
                    }
                    let failed = attempts.iter().filter(|a| a.status() == TestStatus::Failed);
                    for (i, a) in failed.enumerate() {
                        let tag = match (passed, i) {
                            (true, _) => "flakyFailure",
                            (false, 0) => "failure",
                            (false, _) => "rerunFailure",
                        };
                        let message = a
                            .errors
                            .iter()
                            .flatten()
                            .find_map(|e| e.message.as_deref())
                            .unwrap_or_default();
                        let kind = message.split_once(':').map_or("Error", |(k, _)| k);
                        let _ = write!(
                            xml,
                            "<{tag} message=\"{m}\" type=\"{k}\">{m}</{tag}>",
                            m = escape(message),
                            k = escape(kind),
                        );
                    }
                    xml.push_str("</testcase>\n");
                }
                xml.push_str("</testsuite>\n");
            }
        }
        xml.push_str("</testsuites>\n");
        out.push((env.name.clone(), xml));
    }
    out
}
