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
/// `<skipped/>`; a failure's text is the error's stack, else its message. Interrupted attempts
/// (a cancelled run) are left out, and so is a test with no other attempt in the environment.
/// The documents follow the report's list of environments, whatever its order (attempts are
/// matched by `environmentIdx`); omitted fields read as their defaults (`passed`, index 0, no
/// duration). Suites carry the run's start as `timestamp`, and the commit and the environment
/// as properties: every suite, as Surefire writes them, or only the first one when `compact`.
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
                // An interrupted attempt (a cancelled run) has no JUnit form: left out.
                let in_env = |a: &&RunAttempt| {
                    a.environment_idx() as usize == env_ix && a.status() != TestStatus::Interrupted
                };
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
                    tests
                        .iter()
                        .filter(|t| t.attempts.iter().any(|a| in_env(&a)))
                        .count(),
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
                    let failed = attempts.iter().filter(|a| {
                        matches!(a.status(), TestStatus::Failed | TestStatus::TimedOut)
                    });
                    for (i, a) in failed.enumerate() {
                        let tag = match (passed, i) {
                            (true, _) => "flakyFailure",
                            (false, 0) => "failure",
                            (false, _) => "rerunFailure",
                        };
                        let error = a.errors.iter().flatten().find(|e| e.message.is_some());
                        let message = error.and_then(|e| e.message.as_deref()).unwrap_or_default();
                        // The element's text: the stack trace when there is one, as Surefire
                        // writes it, else the message.
                        let text = error.and_then(|e| e.stack.as_deref()).unwrap_or(message);
                        let kind = message.split_once(':').map_or("Error", |(k, _)| k);
                        let _ = write!(
                            xml,
                            "<{tag} message=\"{m}\" type=\"{k}\">{t}</{tag}>",
                            m = escape(message),
                            k = escape(kind),
                            t = escape(text),
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
