//! `flakiness github-summary`: the job summary, annotations and outputs of the GitHub Action
//! (`action/run.sh`), from a report directory and, when given, the analysis of
//! `flakiness analyze --format json` and the quarantine file.
//!
//! Appends Markdown to `$GITHUB_STEP_SUMMARY`, prints `::error` and `::warning` workflow
//! commands for failed and flaky tests on stdout, appends the outputs to `$GITHUB_OUTPUT`,
//! writes the flaky list and the verdict of `--fail-on`. Everything is computed before anything
//! is written; the files it replaces are written whole (a temporary file, then renamed).
//!
//! A test's identity and outcome are the report model's (spec/identity.md): its file
//! ([`TestRef::file`]), its suite path ([`TestRef::suite_path`]) and its title, per environment
//! ([`Test::outcome_in`]): skipped attempts count for nothing, expected and unexpected attempts
//! together make it flaky.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flakiness_analyze::{write_file_whole, Classification, Quarantine, QuarantineEntry};
use flakiness_report::{Location, Report, ReportError, Test, TestOutcome, TestRef, TestStatus};
use serde::Deserialize;

use crate::analyze::{cell, gh_data, gh_property};
use crate::exit_codes;

/// Annotations of each kind printed at most (GitHub shows 10 a step, 50 a job).
const MAX_ANNOTATIONS: usize = 50;
/// Rows of each table in the summary at most.
const MAX_ROWS: usize = 50;
/// Characters of an error's first line kept.
const MAX_ERROR_LINE: usize = 300;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report directory (or its report.json).
    #[arg(value_name = "REPORT_DIR")]
    report: PathBuf,
    /// The analysis of this run with its history: what `flakiness analyze --format json`
    /// printed. Its flaky and broken tests are summarized, annotated and listed.
    #[arg(long, value_name = "FILE")]
    analysis: Option<PathBuf>,
    /// The history store the analysis read, given back as the `history` output.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// A quarantine file kept by `analyze --quarantine`: its tests are listed (a missing file
    /// is an empty quarantine).
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
    /// What fails: `failed` (a test failed in this run), `flaky` (also a test flaky in this
    /// run, or one the analysis calls flaky or broken), `broken` (also one the analysis calls
    /// broken) or `nothing`.
    #[arg(long, value_enum, default_value_t = FailOn::Failed, value_name = "WHAT")]
    fail_on: FailOn,
    /// Print no `::error` and `::warning` annotations.
    #[arg(long)]
    no_annotations: bool,
    /// Write the flaky tests here, one a line (`file › suite › title [environment]`): those
    /// flaky in this run, then those the analysis calls flaky.
    #[arg(long, value_name = "FILE")]
    flaky_list: Option<PathBuf>,
    /// Write why `--fail-on` fails here (empty when it does not) and exit 0 either way;
    /// without it, a met `--fail-on` exits with status 6.
    #[arg(long, value_name = "FILE")]
    verdict: Option<PathBuf>,
    /// The Markdown file the summary is appended to.
    #[arg(long, env = "GITHUB_STEP_SUMMARY", value_name = "FILE")]
    step_summary: Option<PathBuf>,
    /// The file the outputs are appended to (`name<<DELIMITER` blocks).
    #[arg(long, env = "GITHUB_OUTPUT", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Failed,
    Flaky,
    Broken,
    Nothing,
}

impl FailOn {
    fn as_str(self) -> &'static str {
        match self {
            FailOn::Failed => "failed",
            FailOn::Flaky => "flaky",
            FailOn::Broken => "broken",
            FailOn::Nothing => "nothing",
        }
    }
}

/// The fields of `flakiness analyze --format json` read here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnalysisJson {
    #[serde(default)]
    runs: usize,
    tests: Vec<HistoryTest>,
    #[serde(default)]
    incidents: Vec<serde::de::IgnoredAny>,
}

/// One test of the analysis (`TestAnalysis`, the fields read here).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryTest {
    #[serde(default)]
    file: String,
    #[serde(default)]
    title_path: Vec<String>,
    #[serde(default)]
    environment: String,
    classification: Classification,
    #[serde(default)]
    why: String,
}

/// The first error of a test's unexpected attempts in one environment (reruns may record
/// only the last's), else the status of one that recorded none.
#[derive(Debug, Clone, Copy)]
enum FirstError<'a> {
    Error(&'a ReportError),
    Status(TestStatus),
}

impl<'a> FirstError<'a> {
    /// Its first line that is not blank, trimmed, at most [`MAX_ERROR_LINE`] characters.
    fn first_line(self) -> String {
        let text = match self {
            FirstError::Error(e) => [&e.message, &e.stack]
                .into_iter()
                .flatten()
                .find(|s| !s.is_empty())
                .map_or("", String::as_str),
            FirstError::Status(s) => s.as_str(),
        };
        text.split(is_line_break)
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
            .chars()
            .take(MAX_ERROR_LINE)
            .collect()
    }

    fn location(self) -> Option<&'a Location> {
        match self {
            FirstError::Error(e) => e.location.as_ref(),
            FirstError::Status(_) => None,
        }
    }
}

/// The line breaks of Python's `str.splitlines`, which the summary first split on.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// One test in one environment of this run.
#[derive(Debug)]
struct Row<'a> {
    test: TestRef<'a>,
    environment: String,
    outcome: TestOutcome,
    error: Option<FirstError<'a>>,
}

impl<'a> Row<'a> {
    fn file(&self) -> &'a str {
        self.test.file().unwrap_or_default()
    }

    /// Suite path, then the title.
    fn title_path(&self) -> Vec<&'a str> {
        let mut path = self.test.suite_path();
        path.push(self.test.test.title.as_str());
        path
    }

    /// `file › suite › title`.
    fn display_name(&self) -> String {
        display_name(self.file(), &self.title_path())
    }

    /// File, line and column: its first error's location, else the test's, else its file.
    fn place(&self) -> (&'a str, Option<i64>, Option<i64>) {
        let nonzero = |n: i64| (n != 0).then_some(n);
        [
            self.error.and_then(FirstError::location),
            self.test.test.location.as_ref(),
        ]
        .into_iter()
        .flatten()
        .find(|l| !l.file.is_empty())
        .map_or((self.file(), None, None), |l| {
            (l.file.as_str(), nonzero(l.line), nonzero(l.column))
        })
    }

    /// `file:line`, or the file.
    fn location_text(&self) -> String {
        match self.place() {
            (file, Some(line), _) if !file.is_empty() => format!("{file}:{line}"),
            (file, _, _) => file.to_string(),
        }
    }

    fn first_line(&self) -> String {
        self.error.map(FirstError::first_line).unwrap_or_default()
    }
}

/// One row per test and environment, tests in [`Report::all_tests`] order, environments in
/// the order of their first attempt.
fn rows(report: &Report) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    for test in report.all_tests() {
        let mut envs: Vec<u32> = Vec::new();
        for a in &test.test.attempts {
            if !envs.contains(&a.environment_idx()) {
                envs.push(a.environment_idx());
            }
        }
        for env in envs {
            out.push(Row {
                environment: report
                    .environments
                    .get(env as usize)
                    .map_or_else(|| format!("#{env}"), |e| e.name.clone()),
                outcome: test.test.outcome_in(env),
                error: first_error(test.test, env),
                test: test.clone(),
            });
        }
    }
    out
}

fn first_error(test: &Test, env: u32) -> Option<FirstError<'_>> {
    let mut error = None;
    for a in test.attempts.iter().filter(|a| a.environment_idx() == env) {
        if a.status() == TestStatus::Skipped || a.is_expected() {
            continue;
        }
        let said = a.errors.iter().flatten().find(|e| {
            e.message.as_deref().is_some_and(|m| !m.is_empty())
                || e.stack.as_deref().is_some_and(|s| !s.is_empty())
        });
        match (said, error) {
            (Some(e), None | Some(FirstError::Status(_))) => error = Some(FirstError::Error(e)),
            (None, None) => error = Some(FirstError::Status(a.status())),
            _ => {}
        }
    }
    error
}

/// `file › suite › title`: the file (left out when unknown), then the title path.
fn display_name<S: AsRef<str>>(file: &str, title_path: &[S]) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(title_path.len() + 1);
    if !file.is_empty() {
        parts.push(file);
    }
    parts.extend(title_path.iter().map(AsRef::as_ref));
    parts.join(" › ")
}

/// A Markdown table of at most [`MAX_ROWS`] rows, saying how many more `more` there are.
fn table(header: &[&str], rows: &[Vec<String>], more: &str) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows.iter().take(MAX_ROWS) {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if rows.len() > MAX_ROWS {
        out.push_str(&format!("\n…and {} more {more}.\n", rows.len() - MAX_ROWS));
    }
    out
}

/// A workflow command: `::KIND file=…,line=…,col=…,title=…::MESSAGE`.
fn annotation(
    kind: &str,
    title: &str,
    (file, line, col): (&str, Option<i64>, Option<i64>),
    message: &str,
) -> String {
    let mut props = Vec::new();
    if !file.is_empty() {
        props.push(format!("file={}", gh_property(file)));
        if let Some(line) = line {
            props.push(format!("line={line}"));
            if let Some(col) = col {
                props.push(format!("col={col}"));
            }
        }
    }
    props.push(format!("title={}", gh_property(title)));
    format!("::{kind} {}::{}", props.join(","), gh_data(message))
}

/// A delimiter of `name<<DELIMITER` blocks found in none of the values.
fn delimiter(values: &[&str]) -> String {
    use std::hash::BuildHasher as _;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut attempt = 0u32;
    loop {
        // RandomState is seeded from the operating system's randomness.
        let hash = std::collections::hash_map::RandomState::new().hash_one((
            nanos,
            std::process::id(),
            attempt,
        ));
        let d = format!("flakiness_{hash:016x}");
        if !values.iter().any(|v| v.contains(&d)) {
            return d;
        }
        attempt += 1;
    }
}

/// The report and the directory it is in (the `report-dir` output).
fn read_report(path: &Path) -> Result<(Report, PathBuf), (u8, String)> {
    let read = if path.is_file() {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        flakiness_report::read_report_file(path).map(|r| (r, dir))
    } else {
        flakiness_report::read_report_dir(path).map(|d| (d.report, path.to_path_buf()))
    };
    read.map_err(|e| {
        let code = match e {
            flakiness_report::Error::Json { .. } => exit_codes::BAD_INPUT,
            _ => exit_codes::IO,
        };
        (code, e.to_string())
    })
}

fn read_analysis(path: &Path) -> Result<AnalysisJson, (u8, String)> {
    let bytes =
        std::fs::read(path).map_err(|e| (exit_codes::IO, format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        (
            exit_codes::BAD_INPUT,
            format!(
                "{}: not the JSON of `flakiness analyze --format json`: {e}",
                path.display()
            ),
        )
    })
}

/// The report's title, else its directory's name.
fn title_of(report: &Report, dir: &Path) -> String {
    if let Some(t) = report.title.as_deref().filter(|t| !t.is_empty()) {
        return t.to_string();
    }
    // `out/..` has no name of its own: the directory it resolves to has.
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    std::path::absolute(dir)
        .ok()
        .as_deref()
        .and_then(name)
        .or_else(|| dir.canonicalize().ok().as_deref().and_then(name))
        .unwrap_or_else(|| dir.display().to_string())
}

/// `flakiness github-summary`.
pub fn run(args: Args) -> u8 {
    match summarize(&args) {
        Ok(code) => code,
        Err((code, message)) => {
            eprintln!("flakiness: {message}");
            code
        }
    }
}

fn summarize(args: &Args) -> Result<u8, (u8, String)> {
    let usage = |what: &str, flag: &str| {
        (
            exit_codes::USAGE,
            format!("{what} is not set: give {flag} FILE"),
        )
    };
    let step_summary = args
        .step_summary
        .as_deref()
        .ok_or_else(|| usage("GITHUB_STEP_SUMMARY", "--step-summary"))?;
    let output = args
        .output
        .as_deref()
        .ok_or_else(|| usage("GITHUB_OUTPUT", "--output"))?;

    let (report, report_dir) = read_report(&args.report)?;
    let rows = rows(&report);
    let of = |o: TestOutcome| rows.iter().filter(|r| r.outcome == o).collect::<Vec<_>>();
    let (passed, failed, flaky, skipped) = (
        of(TestOutcome::Expected),
        of(TestOutcome::Unexpected),
        of(TestOutcome::Flaky),
        of(TestOutcome::Skipped),
    );

    let analysis = args.analysis.as_deref().map(read_analysis).transpose()?;
    let history: &[HistoryTest] = analysis.as_ref().map_or(&[], |a| &a.tests);
    let classed = |c: Classification| {
        history
            .iter()
            .filter(|t| t.classification == c)
            .collect::<Vec<_>>()
    };
    let (hist_flaky, hist_broken) = (
        classed(Classification::Flaky),
        classed(Classification::Broken),
    );

    let quarantined: Vec<QuarantineEntry> = match &args.quarantine {
        Some(path) => {
            Quarantine::load(path)
                .map_err(|e| (exit_codes::BAD_INPUT, e.to_string()))?
                .tests
        }
        None => Vec::new(),
    };

    // The summary.
    let mut md = vec![format!(
        "## Flakiness: {}\n",
        cell(&title_of(&report, &report_dir))
    )];
    md.push(table(
        &["Tests", "Passed", "Failed", "Flaky", "Skipped"],
        &[[
            rows.len(),
            passed.len(),
            failed.len(),
            flaky.len(),
            skipped.len(),
        ]
        .map(|n| n.to_string())
        .to_vec()],
        "",
    ));
    let run_rows = |rs: &[&Row<'_>]| -> Vec<Vec<String>> {
        rs.iter()
            .map(|r| {
                vec![
                    r.display_name(),
                    r.environment.clone(),
                    r.location_text(),
                    r.first_line(),
                ]
            })
            .collect()
    };
    if !failed.is_empty() {
        md.push(format!("### Failed ({})\n", failed.len()));
        md.push(table(
            &["Test", "Environment", "Location", "Error"],
            &run_rows(&failed),
            "failed tests",
        ));
    }
    if !flaky.is_empty() {
        md.push(format!(
            "### Flaky in this run ({}): failed, then passed\n",
            flaky.len()
        ));
        md.push(table(
            &[
                "Test",
                "Environment",
                "Location",
                "Error of the failed attempt",
            ],
            &run_rows(&flaky),
            "flaky tests",
        ));
    }
    let listed: Vec<&HistoryTest> = hist_flaky.iter().chain(&hist_broken).copied().collect();
    if let Some(a) = &analysis {
        md.push("### Over the history\n".to_string());
        md.push(format!(
            "{} run(s) of this history: {} flaky, {} broken, {} incident(s).\n",
            a.runs,
            hist_flaky.len(),
            hist_broken.len(),
            a.incidents.len()
        ));
        if !listed.is_empty() {
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|t| {
                    vec![
                        t.classification.as_str().to_string(),
                        t.title_path.join(" › "),
                        t.file.clone(),
                        t.environment.clone(),
                        t.why.clone(),
                    ]
                })
                .collect();
            md.push(table(
                &["Class", "Test", "File", "Environment", "Why"],
                &rows,
                "tests",
            ));
        }
    }
    if args.quarantine.is_some() {
        md.push(format!("### Quarantined ({})\n", quarantined.len()));
        if quarantined.is_empty() {
            md.push("No test is in quarantine.\n".to_string());
        } else {
            let rows: Vec<Vec<String>> = quarantined
                .iter()
                .map(|q| {
                    vec![
                        display_name(&q.file, &q.title_path),
                        q.environment.clone(),
                        q.clean_runs.to_string(),
                        q.reason.clone(),
                    ]
                })
                .collect();
            md.push(table(
                &["Test", "Environment", "Clean runs", "Why"],
                &rows,
                "quarantined tests",
            ));
        }
    }
    let summary = md.join("\n") + "\n";

    // The annotations: an error per failed test, a warning per flaky one (of this run, then of
    // the history, those of this run not twice).
    let mut notes = Vec::new();
    if !args.no_annotations {
        for r in failed.iter().take(MAX_ANNOTATIONS) {
            let first = r.first_line();
            notes.push(annotation(
                "error",
                &format!("Failed: {} [{}]", r.title_path().join(" › "), r.environment),
                r.place(),
                if first.is_empty() { "failed" } else { &first },
            ));
        }
        let mut warnings = Vec::new();
        for r in &flaky {
            let first = r.first_line();
            warnings.push(annotation(
                "warning",
                &format!(
                    "Flaky in this run: {} [{}]",
                    r.title_path().join(" › "),
                    r.environment
                ),
                r.place(),
                &format!(
                    "failed, then passed: {}",
                    if first.is_empty() { "failed" } else { &first }
                ),
            ));
        }
        let warned: HashSet<(&str, Vec<&str>, &str)> = flaky
            .iter()
            .map(|r| (r.file(), r.title_path(), r.environment.as_str()))
            .collect();
        for t in &listed {
            let path: Vec<&str> = t.title_path.iter().map(String::as_str).collect();
            if warned.contains(&(t.file.as_str(), path, t.environment.as_str())) {
                continue;
            }
            let kind = if t.classification == Classification::Flaky {
                "Flaky"
            } else {
                "Broken"
            };
            warnings.push(annotation(
                "warning",
                &format!(
                    "{kind} test: {} [{}]",
                    t.title_path.join(" › "),
                    t.environment
                ),
                (&t.file, None, None),
                &t.why,
            ));
        }
        warnings.truncate(MAX_ANNOTATIONS);
        notes.extend(warnings);
    }

    // The flaky list: flaky in this run, then called flaky by the analysis.
    let mut flaky_lines: Vec<String> = Vec::new();
    let names = flaky
        .iter()
        .map(|r| format!("{} [{}]", r.display_name(), r.environment))
        .chain(hist_flaky.iter().map(|t| {
            format!(
                "{} [{}]",
                display_name(&t.file, &t.title_path),
                t.environment
            )
        }));
    for name in names {
        if !flaky_lines.contains(&name) {
            flaky_lines.push(name);
        }
    }

    let verdict = if args.fail_on != FailOn::Nothing && !failed.is_empty() {
        format!("{} test(s) failed", failed.len())
    } else if args.fail_on == FailOn::Flaky
        && !(flaky.is_empty() && hist_flaky.is_empty() && hist_broken.is_empty())
    {
        format!(
            "{} test(s) flaky in this run, {} flaky and {} broken over the history",
            flaky.len(),
            hist_flaky.len(),
            hist_broken.len()
        )
    } else if args.fail_on == FailOn::Broken && !hist_broken.is_empty() {
        format!("{} test(s) broken over the history", hist_broken.len())
    } else {
        String::new()
    };

    let text = |p: &Option<PathBuf>| {
        p.as_deref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let in_history = |n: usize| {
        if analysis.is_some() {
            n.to_string()
        } else {
            String::new()
        }
    };
    let outputs: Vec<(&str, String)> = vec![
        ("report-dir", report_dir.to_string_lossy().into_owned()),
        ("tests", rows.len().to_string()),
        ("passed", passed.len().to_string()),
        ("failed", failed.len().to_string()),
        ("flaky", flaky.len().to_string()),
        ("skipped", skipped.len().to_string()),
        ("flaky-history", in_history(hist_flaky.len())),
        ("broken-history", in_history(hist_broken.len())),
        ("flaky-list", text(&args.flaky_list)),
        ("analysis", text(&args.analysis)),
        ("history", text(&args.history)),
    ];
    let values: Vec<&str> = outputs.iter().map(|(_, v)| v.as_str()).collect();
    let delim = delimiter(&values);
    let output_text: String = outputs
        .iter()
        .map(|(k, v)| format!("{k}<<{delim}\n{v}\n{delim}\n"))
        .collect();

    // Now write: the files the outputs name first, then the outputs and the summary.
    if let Some(path) = &args.flaky_list {
        let list: String = flaky_lines.iter().map(|l| format!("{l}\n")).collect();
        write_file_whole(path, list.as_bytes()).map_err(io_error(path))?;
    }
    if let Some(path) = &args.verdict {
        write_file_whole(path, verdict.as_bytes()).map_err(io_error(path))?;
    }
    append(step_summary, &summary).map_err(io_error(step_summary))?;
    append(output, &output_text).map_err(io_error(output))?;
    let mut stdout = std::io::stdout().lock();
    let printed = notes
        .iter()
        .try_for_each(|n| writeln!(stdout, "{n}"))
        .and_then(|()| stdout.flush());
    match printed {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err((exit_codes::IO, format!("stdout: {e}")));
        }
        _ => {}
    }
    eprintln!(
        "flakiness: {} tests: {} passed, {} failed, {} flaky, {} skipped",
        rows.len(),
        passed.len(),
        failed.len(),
        flaky.len(),
        skipped.len()
    );
    if args.verdict.is_none() && !verdict.is_empty() {
        eprintln!("flakiness: {verdict} (fail-on: {})", args.fail_on.as_str());
        return Ok(exit_codes::FOUND);
    }
    Ok(exit_codes::SUCCESS)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> (u8, String) + '_ {
    move |e| (exit_codes::IO, format!("{}: {e}", path.display()))
}

/// Appends `text` to a file, creating it when missing, in one write.
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flakiness_report::{Environment, RunAttempt, Suite, SuiteType};

    fn attempt(status: TestStatus, env: u32, message: Option<&str>) -> RunAttempt {
        let mut a = RunAttempt::with_status(status);
        a.environment_idx = Some(env);
        a.errors = message.map(|m| vec![ReportError::message(m)]);
        a
    }

    /// Identity and outcome per environment, the first error that says something (a status
    /// when none does), its location before the test's.
    #[test]
    fn rows_follow_the_report_model() {
        let mut report = Report::new("junit", "0".repeat(40));
        report.environments.push(Environment::new("linux"));
        let mut located = ReportError::message("\n  boom\nat x");
        located.location = Some(Location::new("src/a.rs", 7, 3));
        let mut failed = attempt(TestStatus::Failed, 1, None);
        failed.errors = Some(vec![located]);
        let mut test = Test::new("adds").with_attempts([
            attempt(TestStatus::TimedOut, 0, None),
            attempt(TestStatus::Passed, 0, None),
            attempt(TestStatus::Failed, 1, None),
            failed,
            attempt(TestStatus::Skipped, 2, None),
        ]);
        test.location = Some(Location::new("tests/math.rs", 3, 0));
        let mut anonymous = Suite::new(SuiteType::Suite, "");
        anonymous.tests = Some(vec![test]);
        let mut math = Suite::new(SuiteType::Suite, "math");
        math.suites = Some(vec![anonymous]);
        let mut file = Suite::new(SuiteType::File, "tests/other.rs");
        file.suites = Some(vec![math]);
        report.suites = Some(vec![file]);

        let rows = rows(&report);
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.display_name(),
                    r.environment.as_str(),
                    r.outcome,
                    r.location_text(),
                    r.first_line(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "tests/math.rs › math › adds".to_string(),
                    "linux",
                    TestOutcome::Flaky,
                    "tests/math.rs:3".to_string(),
                    "timedOut".to_string()
                ),
                (
                    "tests/math.rs › math › adds".to_string(),
                    "#1",
                    TestOutcome::Unexpected,
                    "src/a.rs:7".to_string(),
                    "boom".to_string()
                ),
                (
                    "tests/math.rs › math › adds".to_string(),
                    "#2",
                    TestOutcome::Skipped,
                    "tests/math.rs:3".to_string(),
                    String::new()
                ),
            ]
        );
        assert_eq!(rows[1].place(), ("src/a.rs", Some(7), Some(3)));
        assert_eq!(rows[0].place(), ("tests/math.rs", Some(3), None));
    }

    #[test]
    fn annotations_and_tables_escape_what_they_hold() {
        assert_eq!(
            annotation(
                "error",
                "Failed: a, b: c",
                ("dir/x,y.py", Some(4), None),
                "50%\nmore"
            ),
            "::error file=dir/x%2Cy.py,line=4,title=Failed%3A a%2C b%3A c::50%25%0Amore"
        );
        assert_eq!(
            annotation("warning", "t", ("", Some(4), Some(1)), "m"),
            "::warning title=t::m"
        );
        let rows: Vec<Vec<String>> = (0..MAX_ROWS + 2)
            .map(|i| vec![format!("a|<{i}>")])
            .collect();
        let t = table(&["A"], &rows, "things");
        assert!(t.starts_with("| A |\n|---|\n| a\\|&lt;0&gt; |\n"), "{t}");
        assert!(t.ends_with("\n\n…and 2 more things.\n"), "{t}");
    }

    #[test]
    fn the_delimiter_is_in_no_value() {
        let d = delimiter(&["a", "b"]);
        assert!(d.starts_with("flakiness_") && d.len() == "flakiness_".len() + 16);
        assert_ne!(delimiter(&[]), delimiter(&[]));
    }
}
