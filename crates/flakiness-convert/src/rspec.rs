//! RSpec's JSON formatter (`rspec --format json`): one document, its examples flat.
//!
//! | Input | Report |
//! |---|---|
//! | the file of an example's `id` (`./spec/x_spec.rb[1:2]`) | a `file` suite `spec/x_spec.rb` |
//! | `full_description` before `description` | one suite of that title (the groups' descriptions as RSpec joined them) |
//! | an example | a test titled with its `description`, at `file_path`:`line_number` (unless that is another file: a shared example) |
//! | `passed` / `failed` / `pending` | passed / failed (error from `exception`) / skipped (`skip` annotation: `pending_message`) |
//! | rspec-retry's `N Try error in file:line` / `RSpec::Retry: Nth try` messages | the failed attempts before the example's own |
//! | messages `An error occurred …` (`errors_outside_of_examples_count`) | unattributed errors |
//! | the same example in another file (`--only-failures` reruns) | another attempt |

use std::collections::{BTreeMap, HashMap};

use flakiness_report::{
    Annotation, DurationMs, Location, NamedVersion, Report, ReportError, RunAttempt, TestStatus,
    UnixTimestampMs,
};
use serde::Deserialize;

use crate::jsondoc::{bounded, json_document, offset_of_string, seconds_ms, Key, TestTree};
use crate::{inferred_annotation, ConvertError, Limits, Metadata};

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Option<String>>>,
    examples: Vec<Example>,
    #[serde(default)]
    summary: Option<Summary>,
}

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    errors_outside_of_examples_count: Option<u64>,
}

#[derive(Deserialize)]
struct Example {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    full_description: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    file_path: Option<String>,
    #[serde(default)]
    line_number: Option<i64>,
    #[serde(default)]
    run_time: Option<f64>,
    #[serde(default)]
    pending_message: Option<String>,
    #[serde(default)]
    exception: Option<Exception>,
}

#[derive(Deserialize)]
struct Exception {
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    backtrace: Option<Vec<Option<String>>>,
}

/// Reads RSpec JSON documents.
#[derive(Debug, Default)]
pub struct RspecCollector {
    tests: TestTree,
    errors: Vec<ReportError>,
    span: Option<(f64, f64)>,
    version: Option<String>,
}

/// What rspec-retry's messages say of one example's earlier attempts: attempt number → the
/// failure's message when it is given.
#[derive(Debug, Default)]
struct Retries {
    failed: BTreeMap<u32, Option<String>>,
    /// Messages naming the example: a claim of more attempts than one more than these is
    /// not believed (`4000000000th try` makes no four billion attempts).
    said: u32,
}

impl RspecCollector {
    /// Reads one document.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        fallback_ms: f64,
        limits: &Limits,
    ) -> Result<(), ConvertError> {
        let doc: Doc = json_document(data, input, "not an RSpec JSON report")?;
        self.tests.next_document();
        if self.version.is_none() {
            self.version = doc.version.clone().filter(|v| !v.trim().is_empty());
        }
        // The document has no time: it was written when the run ended (its file's
        // modification time), and the run took the summary's duration.
        let total =
            seconds_ms(doc.summary.as_ref().and_then(|s| s.duration)).unwrap_or_else(|| {
                doc.examples
                    .iter()
                    .filter_map(|e| seconds_ms(e.run_time))
                    .sum()
            });
        let start = (fallback_ms - total).max(0.0);
        crate::times::widen(&mut self.span, start, start + total);
        let messages: Vec<&str> = doc
            .messages
            .iter()
            .flatten()
            .flatten()
            .map(String::as_str)
            .collect();
        let retries = retries(&messages, &doc.examples);
        let mut outside = 0u64;
        for m in &messages {
            if let Some(e) = error_outside(m, limits) {
                self.errors.push(e);
                outside += 1;
            }
        }
        let counted = doc
            .summary
            .as_ref()
            .and_then(|s| s.errors_outside_of_examples_count)
            .unwrap_or(0);
        if counted > outside {
            let n = counted - outside;
            self.errors.push(ReportError::message(format!(
                "RSpec counted {n} more error(s) outside of examples than its messages describe"
            )));
        }
        let mut at = start;
        for (i, e) in doc.examples.iter().enumerate() {
            let status = match e.status.as_deref() {
                Some("passed") => TestStatus::Passed,
                Some("failed") => TestStatus::Failed,
                Some("pending") => TestStatus::Skipped,
                other => {
                    let id = e.id.as_deref().or(e.full_description.as_deref());
                    return Err(ConvertError::at(
                        input,
                        id.map_or(0, |id| offset_of_string(data, id)),
                        format!(
                            "example {} has the status {:?} (expected \"passed\", \"failed\" or \"pending\")",
                            id.unwrap_or("?"),
                            other.unwrap_or("")
                        ),
                    )
                    .locate(data));
                }
            };
            let key = key_of(e);
            let duration = seconds_ms(e.run_time);
            let mut attempts = Vec::new();
            if let Some(r) = retries.get(&i) {
                let last = r
                    .failed
                    .keys()
                    .copied()
                    .max()
                    .unwrap_or(0)
                    .min(r.said.saturating_add(1));
                for n in 1..=last {
                    let mut a = RunAttempt::with_status(TestStatus::Failed);
                    a.start_timestamp = Some(UnixTimestampMs(at));
                    match r.failed.get(&n).cloned().flatten() {
                        Some(message) => {
                            a.errors = Some(vec![ReportError::message(bounded(&message, limits))]);
                        }
                        None => {
                            a.annotations = Some(vec![inferred_annotation(
                                "rspec-retry retried this example after this attempt, so it failed; its message was not printed (display_try_failure_messages is off)",
                            )]);
                        }
                    }
                    attempts.push(a);
                }
            }
            let mut a = RunAttempt::with_status(status);
            a.start_timestamp = Some(UnixTimestampMs(at));
            a.duration = duration.map(DurationMs);
            at += duration.unwrap_or(0.0);
            match status {
                TestStatus::Skipped => {
                    a.annotations = Some(vec![Annotation {
                        kind: "skip".into(),
                        description: e.pending_message.clone().filter(|m| !m.is_empty()),
                        ..Default::default()
                    }]);
                }
                TestStatus::Failed => {
                    a.errors = Some(vec![error_of(e.exception.as_ref(), limits)]);
                    if let Some(p) = e.pending_message.clone().filter(|m| !m.is_empty()) {
                        // A pending example whose body passed: RSpec fails it.
                        a.annotations = Some(vec![Annotation {
                            kind: "pending".into(),
                            description: Some(p),
                            ..Default::default()
                        }]);
                    }
                }
                _ => {}
            }
            attempts.push(a);
            let location = location_of(e, &key);
            let test = self.tests.distinct(key);
            if test.attempts.is_empty() {
                test.location = location;
            }
            crate::extend_attempts(&mut test.attempts, attempts);
        }
        Ok(())
    }

    /// The report.
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let (start, total) = match self.span {
            Some((a, b)) => (a, b - a),
            None => (fallback_ms, 0.0),
        };
        let (suites, root_tests) = self.tests.into_suites();
        let mut report = crate::build_report(suites, root_tests, self.errors, start, total, meta);
        report.test_runner = Some(NamedVersion {
            name: "rspec".into(),
            version: self.version.unwrap_or_else(|| "unknown".into()),
            ..Default::default()
        });
        report
    }
}

/// `./spec/x_spec.rb` → `spec/x_spec.rb`.
fn clean_path(path: &str) -> Option<String> {
    let f = path.replace('\\', "/");
    let f = f.strip_prefix("./").unwrap_or(&f).to_string();
    (!f.is_empty()).then_some(f)
}

/// The file an example's own code is in (`file_path`: for a shared example, the shared
/// group's file).
fn own_file(e: &Example) -> Option<String> {
    clean_path(e.file_path.as_deref()?)
}

/// The spec file that ran an example: the file of its id (`./spec/x_spec.rb[1:2]`), which
/// RSpec's rerun command and the JUnit formatter name too; else `file_path`.
fn file_of(e: &Example) -> Option<String> {
    e.id.as_deref()
        .and_then(|id| id.rsplit_once('[').map(|(f, _)| f))
        .and_then(clean_path)
        .or_else(|| own_file(e))
}

/// The file, the group and the title of an example. RSpec's JSON lists no groups: the
/// `full_description` is their descriptions and the example's joined with a space (none before
/// `#`, `.` or `::`), which cannot be split back into groups; what comes before the
/// `description` is one group, titled as RSpec wrote it.
fn key_of(e: &Example) -> Key {
    let file = file_of(e);
    let full = e.full_description.as_deref().unwrap_or("").trim();
    let description = e.description.as_deref().unwrap_or("").trim();
    let (group, title) = if description.is_empty() {
        (Vec::new(), full.to_string())
    } else if let Some(before) = full.strip_suffix(description) {
        let group = before.trim_end();
        (
            (!group.is_empty())
                .then(|| group.to_string())
                .into_iter()
                .collect(),
            description.to_string(),
        )
    } else {
        (Vec::new(), full.to_string())
    };
    let title = if title.is_empty() {
        e.id.clone().unwrap_or_default()
    } else {
        title
    };
    (file, group, title)
}

/// The example's own place: its file and line, when that file is the spec file that ran it
/// (a shared example's code is in the shared group's file: the test's file is the spec file
/// that included it, so its line there is unknown).
fn location_of(e: &Example, key: &Key) -> Option<Location> {
    let file = key.0.clone()?;
    let line = e.line_number.filter(|l| *l > 0)?;
    (own_file(e).as_deref() == Some(file.as_str())).then(|| Location::new(file, line, 1))
}

/// The error of a failed example: the exception's class (RSpec's own classes left out, as
/// RSpec prints them) and message, its backtrace as the stack.
fn error_of(x: Option<&Exception>, limits: &Limits) -> ReportError {
    let Some(x) = x else {
        return ReportError::message("the example failed (RSpec's JSON gives no exception)");
    };
    let message = x
        .message
        .as_deref()
        .unwrap_or("")
        .trim_start_matches(['\n', '\r'])
        .trim_end();
    let message = match x.class.as_deref().filter(|c| !c.is_empty()) {
        Some(c) if !c.contains("RSpec") => {
            if message.is_empty() {
                c.to_string()
            } else {
                format!("{c}: {message}")
            }
        }
        _ if message.is_empty() => "the example failed".to_string(),
        _ => message.to_string(),
    };
    let stack: Vec<&str> = x
        .backtrace
        .iter()
        .flatten()
        .flatten()
        .map(String::as_str)
        .collect();
    ReportError {
        message: Some(bounded(&message, limits)),
        stack: (!stack.is_empty()).then(|| bounded(&stack.join("\n"), limits)),
        ..Default::default()
    }
}

/// A message about an error outside of examples (`An error occurred in a before(:suite)
/// hook.`, `An error occurred while loading ./spec/x_spec.rb.`): its text as the message, its
/// `# ./spec/x.rb:N:in …` lines as the stack.
fn error_outside(m: &str, limits: &Limits) -> Option<ReportError> {
    let text = m.trim_start();
    if !text.starts_with("An error occurred") {
        return None;
    }
    let (frames, said): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|l| l.trim_start().starts_with("# "));
    let message = said.join("\n");
    let stack: Vec<&str> = frames
        .iter()
        .map(|l| l.trim_start().trim_start_matches("# "))
        .collect();
    Some(ReportError {
        message: Some(bounded(message.trim(), limits)),
        stack: (!stack.is_empty()).then(|| bounded(&stack.join("\n"), limits)),
        ..Default::default()
    })
}

/// `2nd` → 2.
fn ordinal(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    (digits.len() + 2 == word.len())
        .then(|| digits.parse().ok())
        .flatten()
}

/// `./spec/x_spec.rb:36` → (`spec/x_spec.rb`, 36).
fn place(text: &str) -> Option<(String, i64)> {
    let (file, line) = text.trim().rsplit_once(':')?;
    let file = file.replace('\\', "/");
    let file = file.strip_prefix("./").unwrap_or(&file).to_string();
    Some((file, line.parse().ok()?))
}

/// What rspec-retry says in the messages (with `verbose_retry`, and with
/// `display_try_failure_messages` the failures): `1st Try error in ./spec/x_spec.rb:36:\n…` is
/// attempt 1's failure, `RSpec::Retry: 2nd try ./spec/x_spec.rb:36` says attempt 1 failed. An
/// example is named by `file:line`: a place two examples share names neither.
fn retries(messages: &[&str], examples: &[Example]) -> HashMap<usize, Retries> {
    let mut at: HashMap<(String, i64), Vec<usize>> = HashMap::new();
    for (i, e) in examples.iter().enumerate() {
        if let (Some(f), Some(l)) = (own_file(e), e.line_number) {
            at.entry((f, l)).or_default().push(i);
        }
    }
    let mut out: HashMap<usize, Retries> = HashMap::new();
    for m in messages {
        let text = m.trim_start();
        let (attempt, where_, message) = if let Some(rest) = text.strip_prefix("RSpec::Retry: ") {
            // `2nd try <place>`: the attempt before it failed.
            let Some((word, rest)) = rest.split_once(' ') else {
                continue;
            };
            let Some(rest) = rest.strip_prefix("try ") else {
                continue;
            };
            let Some(n) = ordinal(word).filter(|n| *n >= 2) else {
                continue;
            };
            (n - 1, rest.lines().next().unwrap_or(""), None)
        } else {
            let Some((word, rest)) = text.split_once(' ') else {
                continue;
            };
            let Some(rest) = rest.strip_prefix("Try error in ") else {
                continue;
            };
            let Some(n) = ordinal(word).filter(|n| *n >= 1) else {
                continue;
            };
            let (head, body) = rest.split_once('\n').unwrap_or((rest, ""));
            let body = body.trim_start_matches(['\n', '\r']).trim_end();
            (
                n,
                head.strip_suffix(':').unwrap_or(head),
                Some(body.to_string()).filter(|b| !b.is_empty()),
            )
        };
        let Some(key) = place(where_) else {
            continue;
        };
        let Some([i]) = at.get(&key).map(Vec::as_slice) else {
            continue;
        };
        let r = out.entry(*i).or_default();
        r.said = r.said.saturating_add(1);
        let slot = r.failed.entry(attempt).or_default();
        if message.is_some() {
            *slot = message;
        }
    }
    out
}

crate::formats::reader!(RspecCollector, RspecCollector::into_report);

#[cfg(test)]
mod tests {
    use super::{ordinal, place};

    #[test]
    fn ordinals_and_places() {
        assert_eq!(ordinal("1st"), Some(1));
        assert_eq!(ordinal("22nd"), Some(22));
        assert_eq!(ordinal("3"), None);
        assert_eq!(ordinal("try"), None);
        assert_eq!(
            place("./spec/a_spec.rb:36"),
            Some(("spec/a_spec.rb".to_string(), 36))
        );
        assert_eq!(place("spec/a_spec.rb"), None);
    }
}
