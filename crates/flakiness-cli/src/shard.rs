//! `flakiness shard`: the tests of one CI shard, balanced on the durations the history
//! remembers (spec/shard.md).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use flakiness_analyze::shard::{self, Plan, PlanInput, TestDuration, DEFAULT_RECENT};
use flakiness_store::{HistoryStore, PgStore, SqliteStore};

use crate::exit_codes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many shards the suite is split into.
    #[arg(long, value_name = "N")]
    total: usize,
    /// The shard to print, 0-based (0 to N-1).
    #[arg(long, value_name = "I")]
    index: usize,
    /// `list` (one test a line: file › suite › title), `pytest` (node ids, one a line),
    /// `nextest` (a filterset for `cargo nextest run -E`) or `json` (the whole plan).
    #[arg(long, value_enum, default_value_t = Format::List)]
    format: Format,
    /// The history store (SQLite) to read durations from.
    #[arg(
        long,
        env = "FLAKINESS_DB",
        value_name = "FILE",
        default_value = ".flakiness/history.db"
    )]
    db: PathBuf,
    /// Read the history from PostgreSQL instead.
    #[arg(
        long,
        env = "FLAKINESS_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Read the durations from a `flakiness serve` instead (with --project).
    #[arg(long, value_name = "URL", conflicts_with = "database_url")]
    endpoint: Option<String>,
    /// The project on the server (`org/project`).
    #[arg(long, value_name = "ORG/PROJECT", requires = "endpoint")]
    project: Option<String>,
    /// The server's read token, when it has one.
    #[arg(
        long,
        env = "FLAKINESS_READ_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    read_token: Option<String>,
    /// Only the durations measured in this environment (all environments by default: a test's
    /// slowest).
    #[arg(long, value_name = "NAME")]
    environment: Option<String>,
    /// Latest results of a test whose median is its expected duration.
    #[arg(long, default_value_t = DEFAULT_RECENT, value_name = "N")]
    recent: usize,
    /// The tests to plan, one a line in the form of --format (`-`: stdin): tests the history
    /// does not know are new, tests it knows but the file does not list are left out.
    #[arg(long, value_name = "FILE")]
    tests: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    List,
    Pytest,
    Nextest,
    Json,
}

/// The id of a test in the form of `format`: what the plan is made of.
fn unit_id(format: Format, file: &str, title_path: &[String]) -> String {
    match format {
        Format::Nextest => title_path.last().cloned().unwrap_or_default(),
        Format::Pytest => parts(file, title_path).join("::"),
        Format::List | Format::Json => parts(file, title_path).join(" \u{203A} "),
    }
}

fn parts<'a>(file: &'a str, title_path: &'a [String]) -> Vec<&'a str> {
    let mut parts: Vec<&str> = Vec::with_capacity(title_path.len() + 1);
    if !file.is_empty() {
        parts.push(file);
    }
    parts.extend(title_path.iter().map(String::as_str));
    parts
}

/// The ids of a `--tests` file: one a line; blank lines left out; for `nextest`, the last
/// word of a line (`cargo nextest list` writes `BINARY-ID NAME`); for `pytest`, only lines
/// with `::` (`pytest --collect-only -q` ends with a count).
fn read_ids(format: Format, text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| match format {
            Format::Nextest => l.split_whitespace().last().map(str::to_string),
            Format::Pytest => l.contains("::").then(|| l.to_string()),
            Format::List | Format::Json => Some(l.to_string()),
        })
        .collect()
}

/// The planning input: each test's slowest expected duration over the environments kept, by
/// its id in the form of `format`; with `listed`, only those ids, the others new.
fn inputs(
    durations: &[TestDuration],
    environment: Option<&str>,
    format: Format,
    listed: Option<&[String]>,
) -> Vec<PlanInput> {
    let mut slowest: HashMap<(&str, &[String]), u64> = HashMap::new();
    for d in durations {
        if environment.is_some_and(|e| e != d.environment) {
            continue;
        }
        let ms = slowest
            .entry((d.file.as_str(), d.title_path.as_slice()))
            .or_insert(0);
        *ms = (*ms).max(d.expected_ms);
    }
    let known = slowest.into_iter().map(|((file, path), ms)| PlanInput {
        id: unit_id(format, file, path),
        expected_ms: Some(ms),
    });
    let Some(listed) = listed else {
        return known.collect();
    };
    let wanted: HashSet<&str> = listed.iter().map(String::as_str).collect();
    let mut out: Vec<PlanInput> = known.filter(|t| wanted.contains(t.id.as_str())).collect();
    let planned: HashSet<String> = out.iter().map(|t| t.id.clone()).collect();
    out.extend(
        wanted
            .into_iter()
            .filter(|id| !planned.contains(*id))
            .map(|id| PlanInput {
                id: id.to_string(),
                expected_ms: None,
            }),
    );
    out
}

/// A nextest filterset matching these test names exactly (`none()` for none): `\`, `,` and
/// `)` escaped.
fn nextest_filter(names: &[String]) -> String {
    if names.is_empty() {
        return "none()".into();
    }
    let parts: Vec<String> = names
        .iter()
        .map(|n| {
            let escaped = n
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace(')', "\\)");
            format!("test(={escaped})")
        })
        .collect();
    parts.join(" | ")
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// What is printed on stdout for shard `index` of `plan`.
fn render(plan: &Plan, index: usize, format: Format) -> String {
    let shard = &plan.shards[index];
    match format {
        Format::List | Format::Pytest => shard.tests.iter().map(|t| format!("{t}\n")).collect(),
        Format::Nextest => nextest_filter(&shard.tests) + "\n",
        Format::Json => {
            let shards: Vec<serde_json::Value> = plan
                .shards
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "index": s.index,
                        "expectedMs": s.expected_ms,
                        "tests": s.tests.len(),
                        "newTests": s.new_tests,
                    })
                })
                .collect();
            let v = serde_json::json!({
                "shard": index,
                "total": plan.shards.len(),
                "expectedMs": shard.expected_ms,
                "newTestMs": plan.new_test_ms,
                "shards": shards,
                "tests": shard.tests,
            });
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
    }
}

/// Why the durations could not be read, with the exit code it means.
struct Failed(u8, String);

/// The durations from the store, or `None` when the SQLite file does not exist.
fn from_store(args: &Args) -> Result<Option<Vec<TestDuration>>, Failed> {
    let store = |e: flakiness_store::StoreError| Failed(exit_codes::STORE, e.to_string());
    let mut opened: Box<dyn HistoryStore> = match &args.database_url {
        Some(url) => Box::new(PgStore::connect(url).map_err(store)?),
        None => {
            if !args.db.exists() {
                return Ok(None);
            }
            Box::new(SqliteStore::open(&args.db).map_err(store)?)
        }
    };
    shard::expected_durations(opened.as_mut(), args.recent)
        .map(Some)
        .map_err(store)
}

/// The durations from `flakiness serve`'s `GET /api/projects/{org}/{project}/durations`,
/// through the read-API client of `download` (token, timeouts, retries, size cap).
fn from_endpoint(args: &Args, endpoint: &str) -> Result<Vec<TestDuration>, Failed> {
    use flakiness_upload::download::{DownloadError, DownloadOptions, Downloader};
    let Some(project) = args.project.as_deref() else {
        return Err(Failed(
            exit_codes::USAGE,
            "--endpoint needs --project ORG/PROJECT".into(),
        ));
    };
    let mut opts = DownloadOptions::new(endpoint, project);
    opts.read_token = args
        .read_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| flakiness_upload::Secret::new(t.to_string()));
    let fail = |e: DownloadError| match e {
        DownloadError::BadProject(_) => Failed(
            exit_codes::USAGE,
            format!("--project {project:?}: expected ORG/PROJECT"),
        ),
        DownloadError::BadEndpoint { .. } => Failed(exit_codes::USAGE, e.to_string()),
        DownloadError::NotFound { .. } => Failed(
            exit_codes::STORE,
            format!("{endpoint}: no project {project} on this server"),
        ),
        e => Failed(exit_codes::STORE, format!("{endpoint}: {e}")),
    };
    #[derive(serde::Deserialize)]
    struct Answer {
        tests: Vec<TestDuration>,
    }
    let answer: Answer = Downloader::new(opts)
        .and_then(|d| d.project_json(&["durations"], &[("recent", args.recent.to_string())]))
        .map_err(fail)?;
    Ok(answer.tests)
}

pub fn run(args: Args) -> u8 {
    if let Err(e) = shard::check_index(args.index, args.total) {
        eprintln!("flakiness: {e}");
        return exit_codes::USAGE;
    }
    let listed = match &args.tests {
        None => None,
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(path)
            };
            match text {
                Ok(t) => Some(read_ids(args.format, &t)),
                Err(e) => {
                    eprintln!("flakiness: {}: {e}", path.display());
                    return exit_codes::IO;
                }
            }
        }
    };
    let durations = match &args.endpoint {
        Some(endpoint) => from_endpoint(&args, endpoint).map(Some),
        None => from_store(&args),
    };
    let durations = match durations {
        Ok(Some(d)) => d,
        Ok(None) if listed.is_some() => {
            eprintln!(
                "flakiness: {}: no history store; every test is new (planned round-robin)",
                args.db.display()
            );
            Vec::new()
        }
        Ok(None) => {
            eprintln!(
                "flakiness: {}: no history store: run `flakiness analyze` on reports first, or give --tests",
                args.db.display()
            );
            return exit_codes::NO_RUNS;
        }
        Err(Failed(code, message)) => {
            eprintln!("flakiness: {message}");
            return code;
        }
    };
    let tests = inputs(
        &durations,
        args.environment.as_deref(),
        args.format,
        listed.as_deref(),
    );
    if tests.is_empty() {
        eprintln!("flakiness: no test to plan: the history holds no test with a duration, and --tests listed none");
        return exit_codes::NO_RUNS;
    }
    let plan = match shard::plan(tests, args.total) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::USAGE;
        }
    };
    if args.format != Format::Json {
        for s in &plan.shards {
            eprintln!(
                "flakiness: shard {}/{}: {} test(s) ({} new), expected {}{}",
                s.index,
                args.total,
                s.tests.len(),
                s.new_tests,
                seconds(s.expected_ms),
                if s.index == args.index {
                    "  <- this one"
                } else {
                    ""
                }
            );
        }
    }
    let text = render(&plan, args.index, args.format);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_each_form() {
        let path = vec!["TestC".to_string(), "test_x[a]".to_string()];
        assert_eq!(
            unit_id(Format::Pytest, "t/a.py", &path),
            "t/a.py::TestC::test_x[a]"
        );
        assert_eq!(
            unit_id(Format::List, "t/a.py", &path),
            "t/a.py › TestC › test_x[a]"
        );
        assert_eq!(unit_id(Format::List, "", &path), "TestC › test_x[a]");
        assert_eq!(unit_id(Format::Nextest, "", &path), "test_x[a]");
    }

    #[test]
    fn test_files_in_each_form() {
        let nextest = "my-crate::cli tests::a\nmy-crate tests::b\n\n";
        assert_eq!(read_ids(Format::Nextest, nextest), ["tests::a", "tests::b"]);
        let pytest = "t/a.py::test_x\nt/b.py::C::t\n\n2 tests collected in 0.01s\n";
        assert_eq!(
            read_ids(Format::Pytest, pytest),
            ["t/a.py::test_x", "t/b.py::C::t"]
        );
    }

    #[test]
    fn filtersets() {
        assert_eq!(nextest_filter(&[]), "none()");
        assert_eq!(
            nextest_filter(&["a::b".into(), "c(1,2)".into()]),
            "test(=a::b) | test(=c(1\\,2\\))"
        );
    }
}
