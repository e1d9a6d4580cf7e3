//! Records shared by the store tests.

#![allow(dead_code)]

use flakiness_store::{FailureKind, FailureRecord, Outcome, RunMeta, RunRecord, TestResult};

/// A result with `failed` failures (assertion messages naming the test).
pub fn result(title: &str, env: &str, outcome: Outcome, attempts: u32, failed: u32) -> TestResult {
    TestResult {
        file: "tests/a.rs".into(),
        title_path: vec!["suite".into(), title.into()],
        environment: env.into(),
        outcome,
        attempts,
        failed_attempts: failed,
        duration_ms: Some(10 * attempts as i64),
        failed_duration_ms: Some(10 * failed as i64),
        expected_failures: 0,
        unexpected_passes: 0,
        failures: (0..failed)
            .map(|i| FailureRecord {
                attempt: i,
                kind: FailureKind::Timeout,
                message: Some(format!("{title} failed #{i} — ünïcode")),
                stack: Some("at tests/a.rs:3".into()),
            })
            .collect(),
    }
}

pub fn run(hash: &str, start_ms: i64, results: Vec<TestResult>) -> RunRecord {
    RunRecord {
        meta: RunMeta {
            content_hash: hash.into(),
            source: format!("reports/{hash}"),
            commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
            start_ms,
            duration_ms: 1000,
            title: Some(format!("run {hash}")),
            url: Some("https://ci.example/1".into()),
            category: "junit".into(),
        },
        results,
    }
}

/// A result of the test with this key that ran once.
pub fn keyed(file: &str, title_path: &[&str], env: &str, outcome: Outcome) -> TestResult {
    let failed = u32::from(outcome == Outcome::Failed);
    TestResult {
        file: file.into(),
        title_path: title_path.iter().map(|s| s.to_string()).collect(),
        environment: env.into(),
        outcome,
        attempts: 1,
        failed_attempts: failed,
        duration_ms: Some(5),
        failed_duration_ms: Some(5 * failed as i64),
        expected_failures: 0,
        unexpected_passes: 0,
        failures: (0..failed)
            .map(|i| FailureRecord {
                attempt: i,
                kind: FailureKind::Assertion,
                message: Some(format!("{} failed", title_path.join(" "))),
                stack: None,
            })
            .collect(),
    }
}
