//! `flakiness analyze`.

use std::io::Write;
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;

use flakiness_analyze::{
    analyze, discover, ingest_all, render_html, short_commit, write_file_whole, Analysis,
    AnalysisOptions, Classification, Incident, LoadLimits, Quarantine, QuarantineFormat,
    TestAnalysis,
};
use flakiness_store::{HistoryStore, PgStore, SqliteStore};

use crate::exit_codes;
use crate::terminal::safe;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report directories, report.json / *.json / *.json.zst files, or folders holding them
    /// (one report per CI run). With none, only what the store holds is analyzed.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The history store (SQLite); created when missing.
    #[arg(
        long,
        env = "FLAKINESS_DB",
        value_name = "FILE",
        default_value = ".flakiness/history.db"
    )]
    db: PathBuf,
    /// Keep the history in PostgreSQL instead (`postgres://user:password@host/db`; the
    /// tables are created when missing).
    #[arg(
        long,
        env = "FLAKINESS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Output: `human` (a table ranked by impact), `json`, `markdown` (for
    /// $GITHUB_STEP_SUMMARY) or `github` (`::warning` annotations, and the markdown summary
    /// appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit with status 6 when a test has this classification (or worse: `flaky` also fails on
    /// `broken`).
    #[arg(long, value_enum, value_name = "CLASS")]
    fail_on: Option<FailOn>,
    /// Delete runs that started longer ago than this (`90d`, `12h`, `2w`) before analyzing.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    prune_older_than: Option<i64>,
    /// Latest runs of a test over which flip rates are computed.
    #[arg(long, default_value_t = AnalysisOptions::default().window, value_name = "N")]
    window: usize,
    /// Latest runs that must all fail for a test to be `broken`.
    #[arg(long, default_value_t = AnalysisOptions::default().broken_streak, value_name = "N")]
    broken_streak: usize,
    /// Runs in the recent window (new failures: failing there, never in the prior window).
    #[arg(long, default_value_t = AnalysisOptions::default().recent_window, value_name = "N")]
    recent_window: usize,
    /// Runs in the prior window.
    #[arg(long, default_value_t = AnalysisOptions::default().prior_window, value_name = "N")]
    prior_window: usize,
    /// Share of the tests that ran in a run and environment which, failing with one error,
    /// make an incident (with at least --incident-min-tests of them).
    #[arg(long, default_value_t = AnalysisOptions::default().incident_share, value_name = "SHARE")]
    incident_share: f64,
    /// Tests of one run and environment that must fail with one error for an incident.
    #[arg(long, default_value_t = AnalysisOptions::default().incident_min_tests, value_name = "N")]
    incident_min_tests: usize,
    /// Latest runs of a test (its own results) in which evidence of flakiness counts.
    #[arg(long, default_value_t = AnalysisOptions::default().evidence_window, value_name = "N")]
    evidence_window: usize,
    /// Below this many runs of its own, a test is "not enough data": never flaky or stable
    /// (a test failing every run can still be broken).
    #[arg(long, default_value_t = AnalysisOptions::default().min_runs, value_name = "N")]
    min_runs: usize,
    /// Keep a quarantine list in FILE (JSON, created when missing): flaky tests enter with
    /// their reason and leave after `--release-after` consecutive clean runs. Print it for a
    /// runner with `flakiness quarantine FILE`.
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
    /// Also write one self-contained HTML page (ranked list, history strips, trend chart).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Consecutive clean runs after which a quarantined test leaves.
    #[arg(long, default_value_t = 10, value_name = "N")]
    release_after: usize,
}

#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    /// A quarantine file kept by `flakiness analyze --quarantine FILE`.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// `json` (the file), `nextest` (a filterset leaving the tests out, for `-E`), `pytest`
    /// (`--deselect` arguments, one a line) or `list` (one test a line).
    #[arg(
        long,
        default_value = "list",
        value_parser = clap::builder::PossibleValuesParser::new(QuarantineFormat::ALL.map(QuarantineFormat::as_str))
            .try_map(|s| s.parse::<QuarantineFormat>())
    )]
    format: QuarantineFormat,
}

/// `flakiness quarantine FILE`.
pub fn quarantine(args: QuarantineArgs) -> u8 {
    if !args.file.exists() {
        eprintln!(
            "flakiness: {}: no such quarantine file",
            args.file.display()
        );
        return exit_codes::IO;
    }
    let q = match Quarantine::load(&args.file) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    let text = match q.render(args.format) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("flakiness: {}: {e}", args.file.display());
            return exit_codes::BAD_INPUT;
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => exit_codes::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit_codes::SUCCESS,
        Err(e) => {
            eprintln!("flakiness: stdout: {e}");
            exit_codes::IO
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Markdown,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Flaky,
    Broken,
}

/// `90d`, `12h`, `2w`, `30m` in milliseconds.
fn parse_age(s: &str) -> Result<i64, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and a unit, like 90d"))?;
    let ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(format!("{s:?}: the unit must be m, h, d or w")),
    };
    n.checked_mul(ms).ok_or_else(|| format!("{s:?}: too long"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn run(args: Args) -> u8 {
    let sources = match discover(&args.paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    if !args.paths.is_empty() && sources.is_empty() {
        eprintln!(
            "flakiness: no report found in {}: give report directories, *.json, *.json.zst or JUnit *.xml files, or folders holding them",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return exit_codes::NO_RUNS;
    }
    let opened: Result<Box<dyn HistoryStore>, _> = match &args.database_url {
        Some(url) => PgStore::connect(url).map(|s| Box::new(s) as Box<dyn HistoryStore>),
        None => {
            if let Some(parent) = args.db.parent().filter(|p| !p.as_os_str().is_empty()) {
                if let Err(e) = std::fs::create_dir_all(parent) {
                    eprintln!("flakiness: {}: {e}", parent.display());
                    return exit_codes::IO;
                }
            }
            SqliteStore::open(&args.db).map(|s| Box::new(s) as Box<dyn HistoryStore>)
        }
    };
    let mut store = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::STORE;
        }
    };
    let bar = indicatif::ProgressBar::new(sources.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} reports ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix("ingesting");
    let ingested = ingest_all(store.as_mut(), &sources, &LoadLimits::default(), |n| {
        bar.set_position(n as u64)
    });
    bar.finish_and_clear();
    let summary = match ingested {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::STORE;
        }
    };
    for s in &summary.skipped {
        eprintln!("flakiness: skipped {s}");
    }
    eprintln!(
        "flakiness: {} report(s): {} new run(s), {} already stored, {} skipped",
        sources.len(),
        summary.new_runs,
        summary.already_stored,
        summary.skipped.len()
    );
    if !sources.is_empty() && summary.skipped.len() == sources.len() {
        eprintln!(
            "flakiness: nothing to analyze: every one of the {} report(s) given was skipped (see above)",
            sources.len()
        );
        return exit_codes::NO_RUNS;
    }
    if let Some(age) = args.prune_older_than {
        match store.prune_before(now_ms() - age) {
            Ok(n) => eprintln!("flakiness: pruned {n} run(s) older than the cutoff"),
            Err(e) => {
                eprintln!("flakiness: {e}");
                return exit_codes::STORE;
            }
        }
    }
    let opts = AnalysisOptions {
        window: args.window.max(2),
        broken_streak: args.broken_streak.max(1),
        recent_window: args.recent_window,
        prior_window: args.prior_window,
        incident_share: args.incident_share,
        incident_min_tests: args.incident_min_tests.max(1),
        evidence_window: args.evidence_window.max(1),
        min_runs: args.min_runs,
        ..AnalysisOptions::default()
    };
    let analysis = match analyze(store.as_mut(), &opts) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::STORE;
        }
    };
    if analysis.runs == 0 {
        eprintln!(
            "flakiness: nothing to analyze: the store {} holds no runs; give report paths",
            store.describe()
        );
        return exit_codes::NO_RUNS;
    }
    if let Some(path) = &args.quarantine {
        let mut q = match Quarantine::load(path) {
            Ok(q) => q,
            Err(e) => {
                eprintln!("flakiness: {e}");
                return exit_codes::BAD_INPUT;
            }
        };
        let changes = q.update(&analysis, args.release_after.max(1));
        if let Err(e) = q.save(path) {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
        for t in &changes.entered {
            eprintln!("flakiness: quarantined {t}");
        }
        for t in &changes.left {
            eprintln!("flakiness: released {t}");
        }
        eprintln!(
            "flakiness: {} test(s) in quarantine ({})",
            q.tests.len(),
            path.display()
        );
    }
    if let Some(path) = &args.html {
        if let Err(e) = write_file_whole(path, render_html(&analysis).as_bytes()) {
            eprintln!("flakiness: {}: {e}", path.display());
            return exit_codes::IO;
        }
        eprintln!("flakiness: wrote {}", path.display());
    }
    let printed = match args.format {
        Format::Human => print_human(&analysis),
        Format::Json => print_json(&analysis),
        Format::Markdown => {
            let mut out = std::io::stdout().lock();
            out.write_all(markdown(&analysis).as_bytes())
                .and_then(|()| out.flush())
        }
        Format::Github => print_github(&analysis),
    };
    if let Err(e) = printed {
        // A closed pipe (`| head`) is not an error of the analysis.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("flakiness: stdout: {e}");
            return exit_codes::IO;
        }
    }
    let hit = |c: Classification| analysis.tests.iter().any(|t| t.classification == c);
    match args.fail_on {
        Some(FailOn::Flaky) if hit(Classification::Flaky) || hit(Classification::Broken) => {
            exit_codes::FOUND
        }
        Some(FailOn::Broken) if hit(Classification::Broken) => exit_codes::FOUND,
        _ => exit_codes::SUCCESS,
    }
}

fn print_human(a: &Analysis) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    writeln!(out, "{}", a.counts_line())?;
    let rows: Vec<&TestAnalysis> = a.listed().collect();
    if !rows.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{:<7} {:>5} {:>5}  {:<12} TEST",
            "CLASS", "SCORE", "CONF", "ENVIRONMENT"
        )?;
    }
    for t in rows {
        let class = if t.evidence.new_failure && t.classification == Classification::Stable {
            "new"
        } else {
            t.classification.as_str()
        };
        // Names, evidence and messages come from the reports: control characters escaped.
        writeln!(
            out,
            "{:<7} {:>5.2} {:>5.2}  {:<12} {}",
            class,
            t.score,
            t.confidence,
            safe(&t.environment),
            safe(&t.display_name())
        )?;
        writeln!(out, "{:<34}{}", "", safe(&t.evidence_line()))?;
        if let Some(m) = t.examples.first() {
            let first = m.lines().next().unwrap_or_default();
            writeln!(
                out,
                "{:<34}e.g. {}",
                "",
                safe(&first.chars().take(120).collect::<String>())
            )?;
        }
    }
    if !a.incidents.is_empty() {
        writeln!(out)?;
    }
    for i in &a.incidents {
        writeln!(out, "incident #{}: {}", i.id, safe(&incident_line(i)))?;
    }
    out.flush()
}

/// An incident in words: where, how many, with what error.
fn incident_line(i: &Incident) -> String {
    let transient = if i.retry_passed > 0 {
        format!(", {} passed on retry", i.retry_passed)
    } else {
        String::new()
    };
    let cause = i.cause.map(|c| format!(" ({c})")).unwrap_or_default();
    format!(
        "{} ({}) [{}]: {} of {} tests failed with `{}`{cause}{transient}",
        i.source,
        short_commit(&i.commit_id),
        i.environment,
        i.hit,
        i.ran,
        i.signature
    )
}

fn print_json(a: &Analysis) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(a).map_err(std::io::Error::other)?;
    text.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&text)?;
    out.flush()
}

/// Text safe in a Markdown table cell.
pub(crate) fn cell(s: &str) -> String {
    safe(&s.replace(['\n', '\r'], " "))
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn markdown(a: &Analysis) -> String {
    let mut s = format!("## Flaky test analysis\n\n{}\n", a.counts_line());
    let rows: Vec<&TestAnalysis> = a.listed().collect();
    if !rows.is_empty() {
        s.push_str("\n| Class | Score | Test | Environment | Evidence |\n|---|---:|---|---|---|\n");
        for t in rows {
            s.push_str(&format!(
                "| {} | {:.2} | {} | {} | {} |\n",
                t.classification.as_str(),
                t.score,
                cell(&t.display_name()),
                cell(&t.environment),
                cell(&t.evidence_line())
            ));
        }
    }
    if !a.incidents.is_empty() {
        s.push_str("\n### Incidents\n\nRuns where many tests of one environment failed with one error: their failures are set aside.\n\n| # | Run | Commit | Environment | Hit | Passed on retry | Error |\n|---:|---|---|---|---:|---:|---|\n");
        for i in &a.incidents {
            s.push_str(&format!(
                "| {} | {} | `{}` | {} | {} of {} | {} | {}{} |\n",
                i.id,
                cell(&i.source),
                short_commit(&i.commit_id),
                cell(&i.environment),
                i.hit,
                i.ran,
                i.retry_passed,
                cell(&i.signature),
                i.cause.map(|c| format!(" ({c})")).unwrap_or_default()
            ));
        }
    }
    s
}

/// GitHub workflow command data: `%`, CR and LF escaped.
pub(crate) fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow command property: data escapes plus `:` and `,`.
pub(crate) fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn print_github(a: &Analysis) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for t in a.listed() {
        let title = match t.classification {
            Classification::Broken => "Broken test",
            Classification::Flaky => "Flaky test",
            _ => "New failure",
        };
        let file = if t.file.is_empty() {
            String::new()
        } else {
            format!("file={},", gh_property(&t.file))
        };
        writeln!(
            out,
            "::warning {file}title={}::{}",
            gh_property(&format!("{title} [{}]", t.environment)),
            gh_data(&format!(
                "{}: {}",
                t.title_path.join(" › "),
                t.evidence_line()
            ))
        )?;
    }
    let summary = markdown(a);
    match std::env::var_os("GITHUB_STEP_SUMMARY") {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?
            .write_all(summary.as_bytes())?,
        None => out.write_all(summary.as_bytes())?,
    }
    out.flush()
}
