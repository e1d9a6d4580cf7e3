//! `flakiness diff A B`: what changed from run A to run B (spec/diff.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use flakiness_analyze::diff::{diff, parse_pct, DiffOptions, DiffRun, RunDiff, TestChange};
use flakiness_analyze::{discover, load_run, short_commit, LoadError, LoadLimits};
use flakiness_store::RunRecord;
use flakiness_validate::Validator;
use flakiness_web::pages::{duration_change, when};

use crate::exit_codes;
use crate::terminal::safe;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Run A, the one to compare with (the last green run): a report directory, a report file
    /// (*.json, *.json.zst) or a JUnit XML file.
    #[arg(value_name = "A")]
    a: PathBuf,
    /// Run B (this run), the same way.
    #[arg(value_name = "B")]
    b: PathBuf,
    /// A test is slower when it took more than PCT percent longer in B than in A (faster:
    /// more than PCT percent longer in A than in B).
    #[arg(long, value_name = "PCT", default_value_t = DiffOptions::default().slower_pct,
          allow_negative_numbers = true, value_parser = parse_slower)]
    slower: f64,
    /// Tests under MS milliseconds in both runs are never slower nor faster.
    #[arg(long, value_name = "MS", default_value_t = DiffOptions::default().min_duration_ms,
          allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(0..))]
    min_duration: i64,
    /// `text` (sections of at most 50 tests) or `json` (everything).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with status 6 when this list is not empty (may be given twice).
    #[arg(long, value_enum, value_name = "LIST")]
    fail_on: Vec<FailOn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    NewFailures,
    NewlyFlaky,
}

/// Tests listed per section in text; the JSON has them all.
pub const TEXT_LIMIT: usize = 50;

/// `--slower`: [`parse_pct`].
fn parse_slower(s: &str) -> Result<f64, String> {
    parse_pct(s).map_err(|e| e.to_string())
}

/// The one run at `path`, or the exit code to leave with (its reason printed).
fn read_run(path: &Path, validator: &Validator) -> Result<RunRecord, u8> {
    let sources = discover(&[path.to_path_buf()]).map_err(|e| {
        eprintln!("flakiness: {e}");
        exit_codes::IO
    })?;
    let source = match sources.as_slice() {
        [one] => one,
        [] => {
            eprintln!(
                "flakiness: {}: no report in it: give a report directory, a *.json, *.json.zst or JUnit *.xml file",
                path.display()
            );
            return Err(exit_codes::IO);
        }
        many => {
            eprintln!(
                "flakiness: {}: holds {} reports: give one run's report directory or file",
                path.display(),
                many.len()
            );
            return Err(exit_codes::USAGE);
        }
    };
    load_run(source, &LoadLimits::default(), validator).map_err(|e| {
        eprintln!("flakiness: {e}");
        match e {
            LoadError::Unreadable(_) => exit_codes::IO,
            LoadError::Invalid(_) => exit_codes::INVALID,
        }
    })
}

pub fn run(args: Args) -> u8 {
    let validator = match Validator::new(flakiness_validate::Options::default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("flakiness: the report schema does not compile: {e}");
            return exit_codes::INVALID_OUTPUT;
        }
    };
    // Both are read before either is refused: each problem is said once.
    let (a, b) = (read_run(&args.a, &validator), read_run(&args.b, &validator));
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(x), Err(y)) => return x.max(y),
        (Err(x), _) | (_, Err(x)) => return x,
    };
    if a.meta.start_ms > b.meta.start_ms {
        eprintln!("flakiness: note: A started after B; A is the run compared with");
    }
    let opts = DiffOptions {
        slower_pct: args.slower,
        min_duration_ms: args.min_duration,
    };
    let d = diff(&a, &b, &opts);
    let printed = match args.format {
        Format::Text => {
            let mut out = anstream::stdout().lock();
            out.write_all(text(&d).as_bytes())
                .and_then(|()| out.flush())
        }
        Format::Json => serde_json::to_vec_pretty(&d)
            .map_err(std::io::Error::other)
            .and_then(|mut json| {
                json.push(b'\n');
                let mut out = std::io::stdout().lock();
                out.write_all(&json).and_then(|()| out.flush())
            }),
    };
    if let Err(e) = printed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("flakiness: stdout: {e}");
            return exit_codes::IO;
        }
    }
    let found = args.fail_on.iter().any(|f| match f {
        FailOn::NewFailures => !d.new_failures.is_empty(),
        FailOn::NewlyFlaky => !d.newly_flaky.is_empty(),
    });
    if found {
        exit_codes::FOUND
    } else {
        exit_codes::SUCCESS
    }
}

/// `A: nightly · commit 0123456789ab · started 2026-01-02 10:00 UTC · 3 passed, …`.
fn run_line(label: &str, r: &DiffRun) -> String {
    let title = r
        .title
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("run");
    let t = &r.totals;
    format!(
        "{label}: {} · commit {} · started {} · {} passed, {} failed, {} flaky, {} skipped\n",
        safe(title),
        safe(&short_commit(&r.commit_id)),
        when(r.start_ms),
        t.passed,
        t.failed,
        t.flaky,
        t.skipped
    )
}

fn outcome(o: Option<flakiness_store::Outcome>) -> &'static str {
    o.map_or("absent", |o| o.as_str())
}

/// What a line says of a change, after the test's name, per section.
fn detail(section: &str, c: &TestChange) -> String {
    match section {
        "slower" | "faster" => duration_change(c),
        "added" => outcome(c.outcome_b).to_string(),
        "removed" => outcome(c.outcome_a).to_string(),
        _ => {
            let mut s = format!("{} → {}", outcome(c.outcome_a), outcome(c.outcome_b));
            if let (Some(n), Some(failed)) = (c.attempts_b, c.failed_attempts_b) {
                if n > 1 {
                    s.push_str(&format!(" ({n} attempts, {failed} failed)"));
                }
            }
            s
        }
    }
}

/// The text report: both runs, then each non-empty section (at most [`TEXT_LIMIT`] tests),
/// then one line of counts.
pub fn text(d: &RunDiff) -> String {
    let mut s = run_line("A", &d.a);
    s.push_str(&run_line("B", &d.b));
    for (name, list) in d.sections() {
        if list.is_empty() {
            continue;
        }
        s.push_str(&format!("\n{} ({})\n", d.heading(name), list.len()));
        for c in list.iter().take(TEXT_LIMIT) {
            s.push_str(&format!(
                "  {} [{}]: {}\n",
                safe(&c.display_name()),
                safe(&c.environment),
                detail(name, c)
            ));
            if let Some(e) = c
                .error
                .as_deref()
                .filter(|_| name != "slower" && name != "faster")
            {
                s.push_str(&format!("      {}\n", safe(e)));
            }
        }
        if list.len() > TEXT_LIMIT {
            s.push_str(&format!("  … and {} more\n", list.len() - TEXT_LIMIT));
        }
    }
    s.push_str(&format!(
        "\n{} new failure(s), {} fixed, {} newly flaky, {} no longer flaky, {} slower, {} faster, {} added, {} removed; {} still failing\n",
        d.new_failures.len(),
        d.fixed.len(),
        d.newly_flaky.len(),
        d.no_longer_flaky.len(),
        d.slower.len(),
        d.faster.len(),
        d.added.len(),
        d.removed.len(),
        d.still_failing
    ));
    s
}
