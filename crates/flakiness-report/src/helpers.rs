//! Constructors and questions reporter authors and readers ask of the model.

use crate::model::*;
use crate::numbers::UnixTimestampMs;

impl Report {
    /// A report with the required fields set, no environments and no tests yet.
    pub fn new(category: impl Into<String>, commit_id: impl Into<String>) -> Self {
        Report {
            category: category.into(),
            commit_id: commit_id.into(),
            ..Default::default()
        }
    }

    /// Every test of the report, depth first in file order, with the suites it is in.
    pub fn all_tests(&self) -> impl Iterator<Item = TestRef<'_>> {
        let mut out = Vec::new();
        if let Some(tests) = &self.tests {
            out.extend(tests.iter().map(|test| TestRef {
                suites: Vec::new(),
                test,
            }));
        }
        let mut stack: Vec<(Vec<&Suite>, &Suite)> = Vec::new();
        if let Some(suites) = &self.suites {
            stack.extend(suites.iter().rev().map(|s| (Vec::new(), s)));
        }
        while let Some((mut path, suite)) = stack.pop() {
            path.push(suite);
            if let Some(tests) = &suite.tests {
                out.extend(tests.iter().map(|test| TestRef {
                    suites: path.clone(),
                    test,
                }));
            }
            if let Some(children) = &suite.suites {
                stack.extend(children.iter().rev().map(|s| (path.clone(), s)));
            }
        }
        out.into_iter()
    }

    /// Calls `f` on every location of the report: of suites, tests, steps, annotations and
    /// errors (attempt, step and unattributed errors).
    pub fn for_each_location_mut(&mut self, mut f: impl FnMut(&mut Location)) {
        let f: &mut dyn FnMut(&mut Location) = &mut f;
        for t in self.tests.iter_mut().flatten() {
            locations::test(t, f);
        }
        for s in self.suites.iter_mut().flatten() {
            locations::suite(s, f);
        }
        for e in self.unattributed_errors.iter_mut().flatten() {
            locations::error(e, f);
        }
    }

    /// The environment an attempt ran in, if its index is in range.
    pub fn environment_of(&self, attempt: &RunAttempt) -> Option<&Environment> {
        self.environments.get(attempt.environment_idx() as usize)
    }
}

impl Suite {
    /// Calls `f` on every location of the suite and of what it holds: its own, its tests',
    /// steps', annotations' and errors', and those of its child suites.
    pub fn for_each_location_mut(&mut self, mut f: impl FnMut(&mut Location)) {
        locations::suite(self, &mut f);
    }
}

/// The walk of [`Report::for_each_location_mut`] and [`Suite::for_each_location_mut`].
mod locations {
    use crate::model::*;

    pub(super) fn error(e: &mut ReportError, f: &mut dyn FnMut(&mut Location)) {
        if let Some(l) = &mut e.location {
            f(l);
        }
    }

    fn steps(list: &mut [TestStep], f: &mut dyn FnMut(&mut Location)) {
        for s in list {
            if let Some(l) = &mut s.location {
                f(l);
            }
            if let Some(e) = &mut s.error {
                error(e, f);
            }
            if let Some(children) = &mut s.steps {
                steps(children, f);
            }
        }
    }

    pub(super) fn test(t: &mut Test, f: &mut dyn FnMut(&mut Location)) {
        if let Some(l) = &mut t.location {
            f(l);
        }
        for a in &mut t.attempts {
            for e in a.errors.iter_mut().flatten() {
                error(e, f);
            }
            for an in a.annotations.iter_mut().flatten() {
                if let Some(l) = &mut an.location {
                    f(l);
                }
            }
            if let Some(s) = &mut a.steps {
                steps(s, f);
            }
        }
    }

    pub(super) fn suite(s: &mut Suite, f: &mut dyn FnMut(&mut Location)) {
        if let Some(l) = &mut s.location {
            f(l);
        }
        for t in s.tests.iter_mut().flatten() {
            test(t, f);
        }
        for c in s.suites.iter_mut().flatten() {
            suite(c, f);
        }
    }
}

impl Environment {
    /// An environment with a name and nothing else.
    pub fn new(name: impl Into<String>) -> Self {
        Environment {
            name: name.into(),
            ..Default::default()
        }
    }
}

impl Suite {
    /// A suite with no tests yet.
    pub fn new(kind: SuiteType, title: impl Into<String>) -> Self {
        Suite {
            kind,
            title: title.into(),
            ..Default::default()
        }
    }
}

impl Test {
    /// A test with no attempts yet.
    pub fn new(title: impl Into<String>) -> Self {
        Test {
            title: title.into(),
            ..Default::default()
        }
    }

    /// Adds attempts, in order.
    pub fn with_attempts(mut self, attempts: impl IntoIterator<Item = RunAttempt>) -> Self {
        self.attempts.extend(attempts);
        self
    }

    /// Outcome over all attempts (all environments together); see [`TestOutcome`].
    pub fn outcome(&self) -> TestOutcome {
        TestOutcome::of(self.attempts.iter())
    }

    /// Outcome over the attempts made in one environment.
    pub fn outcome_in(&self, environment_idx: u32) -> TestOutcome {
        TestOutcome::of(
            self.attempts
                .iter()
                .filter(|a| a.environment_idx() == environment_idx),
        )
    }

    /// True when an unexpected attempt was followed by an expected one in the same environment.
    pub fn is_flaky(&self) -> bool {
        let mut envs: Vec<u32> = self.attempts.iter().map(|a| a.environment_idx()).collect();
        envs.sort_unstable();
        envs.dedup();
        envs.into_iter()
            .any(|e| self.outcome_in(e) == TestOutcome::Flaky)
    }
}

impl RunAttempt {
    /// An attempt with the given status (expected status left at its default, `passed`).
    pub fn with_status(status: TestStatus) -> Self {
        RunAttempt {
            status: Some(status),
            ..Default::default()
        }
    }

    /// The environment index, `0` when absent.
    pub fn environment_idx(&self) -> u32 {
        self.environment_idx.unwrap_or(0)
    }

    /// The status, `passed` when absent.
    pub fn status(&self) -> TestStatus {
        self.status.unwrap_or_default()
    }

    /// The expected status, `passed` when absent.
    pub fn expected_status(&self) -> TestStatus {
        self.expected_status.unwrap_or_default()
    }

    /// The duration in milliseconds, `0` when absent.
    pub fn duration_ms(&self) -> f64 {
        self.duration.map(|d| d.0).unwrap_or(0.0)
    }

    /// The start time, if the attempt has one.
    pub fn start(&self) -> Option<UnixTimestampMs> {
        self.start_timestamp
    }

    /// True when the attempt ended as expected: its status equals its expected status, or it
    /// was skipped (a skipped test is neither a pass nor a failure).
    pub fn is_expected(&self) -> bool {
        self.status() == self.expected_status() || self.status() == TestStatus::Skipped
    }
}

impl ReportError {
    /// An error with only a message.
    pub fn message(message: impl Into<String>) -> Self {
        ReportError {
            message: Some(message.into()),
            ..Default::default()
        }
    }
}

impl Location {
    /// A location; `line` and `column` are 1-based.
    pub fn new(file: impl Into<String>, line: i64, column: i64) -> Self {
        Location {
            file: file.into(),
            line,
            column,
            ..Default::default()
        }
    }
}

impl TimedStdioEntry {
    /// A text entry on a stream.
    pub fn text(stream: Stream, text: impl Into<String>) -> Self {
        TimedStdioEntry {
            stream: Some(stream),
            text: Some(text.into()),
            ..Default::default()
        }
    }
}

/// What a set of attempts says about a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestOutcome {
    /// Every attempt that ran was as expected.
    Expected,
    /// Every attempt that ran was unexpected.
    Unexpected,
    /// Unexpected attempts followed by an expected one: the test is flaky.
    Flaky,
    /// Nothing ran: every attempt was skipped, or there are none.
    Skipped,
}

impl TestOutcome {
    fn of<'a>(attempts: impl Iterator<Item = &'a RunAttempt>) -> Self {
        let (mut expected, mut unexpected) = (0usize, 0usize);
        for a in attempts {
            if a.status() == TestStatus::Skipped {
                continue;
            }
            if a.is_expected() {
                expected += 1;
            } else {
                unexpected += 1;
            }
        }
        match (expected, unexpected) {
            (0, 0) => TestOutcome::Skipped,
            (_, 0) => TestOutcome::Expected,
            (0, _) => TestOutcome::Unexpected,
            // Expected and unexpected runs of the same code: flaky, whatever their order.
            _ => TestOutcome::Flaky,
        }
    }
}

/// A test with the suites that hold it, outermost first.
#[derive(Debug, Clone)]
pub struct TestRef<'a> {
    /// Enclosing suites, outermost first.
    pub suites: Vec<&'a Suite>,
    /// The test.
    pub test: &'a Test,
}

impl<'a> TestRef<'a> {
    /// The file of the test: its own location's file, else the nearest enclosing file suite's
    /// location file, else that suite's title.
    pub fn file(&self) -> Option<&'a str> {
        if let Some(loc) = &self.test.location {
            return Some(loc.file.as_str());
        }
        self.suites
            .iter()
            .rev()
            .find(|s| s.kind == SuiteType::File)
            .map(|s| {
                s.location
                    .as_ref()
                    .map_or(s.title.as_str(), |l| l.file.as_str())
            })
    }

    /// Titles of the enclosing suites that are neither file suites nor anonymous (an empty
    /// title), outermost first.
    pub fn suite_path(&self) -> Vec<&'a str> {
        self.suites
            .iter()
            .filter(|s| s.kind != SuiteType::File && !s.title.is_empty())
            .map(|s| s.title.as_str())
            .collect()
    }

    /// The full name: non-empty suite titles (file suites left out) and the test title, joined
    /// by ` › `.
    pub fn full_name(&self) -> String {
        let mut parts: Vec<&str> = self
            .suite_path()
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect();
        parts.push(self.test.title.as_str());
        parts.join(" › ")
    }
}
