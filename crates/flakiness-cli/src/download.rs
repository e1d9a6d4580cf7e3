//! `flakiness download`: runs' reports, with their attachments, from `flakiness serve` into
//! report directories `DIR/<run id>/`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args as ClapArgs;
use flakiness_report::ReportDirWriter;
use flakiness_upload::download::{DownloadError, DownloadOptions, Downloaded, Downloader};
use flakiness_upload::Secret;
use serde_json::json;

use crate::exit_codes;

#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["run", "latest"])))]
pub struct Args {
    /// The server root (`flakiness serve`), e.g. http://localhost:8080.
    #[arg(long, env = "FLAKINESS_ENDPOINT")]
    pub endpoint: String,
    /// The project, `org/project`.
    #[arg(long, env = "FLAKINESS_PROJECT")]
    pub project: String,
    /// Runs by id (as `…/runs` lists them); repeat for more.
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub run: Vec<i64>,
    /// The newest N runs of the project.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub latest: Option<u64>,
    /// Where the report directories go: DIR/<run id>/ (replaced when it is a report
    /// directory, else refused).
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    /// The server's read token (`serve --read-token`), when it has one.
    #[arg(long, env = "FLAKINESS_READ_TOKEN", hide_env_values = true)]
    pub read_token: Option<String>,
    /// Output: `human` (the directories on stdout, progress on stderr) or `json` (what was
    /// written, on stdout).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub transfer: crate::upload::Transfer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub fn run(args: Args) -> u8 {
    let mut opts = DownloadOptions::new(args.endpoint.trim_end_matches('/'), &args.project);
    opts.read_token = args.read_token.filter(|t| !t.is_empty()).map(Secret::new);
    opts.concurrency = usize::from(args.transfer.concurrency);
    opts.retries = args.transfer.retries;
    (
        opts.idle_timeout,
        opts.connect_timeout,
        opts.request_timeout,
    ) = args.transfer.timeouts();
    let downloader = match Downloader::new(opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return code_of(&e);
        }
    };
    let runs: Vec<i64> = match args.latest {
        Some(n) => match downloader.latest(usize::try_from(n).unwrap_or(usize::MAX)) {
            Ok(runs) => runs,
            Err(e) => {
                eprintln!("flakiness: {e}");
                return code_of(&e);
            }
        },
        None => {
            let mut seen = std::collections::HashSet::new();
            args.run
                .iter()
                .copied()
                .filter(|r| seen.insert(*r))
                .collect()
        }
    };
    if runs.is_empty() {
        eprintln!("flakiness: {}: no run to download", args.project);
    }
    let mut worst = exit_codes::SUCCESS;
    let mut done: Vec<Downloaded> = Vec::new();
    let mut failed: Vec<(i64, String)> = Vec::new();
    for run in &runs {
        match download_one(&downloader, *run, &args.output) {
            Ok(d) => {
                let verified = if d.unverified > 0 {
                    format!(", {} not checked (id not an MD5)", d.unverified)
                } else {
                    String::new()
                };
                let missing = if d.missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} missing on the server: {}",
                        d.missing.len(),
                        d.missing.join(", ")
                    )
                };
                eprintln!(
                    "flakiness: run {run}: {} (report {} bytes, {} attachment(s) of {} bytes{verified}{missing})",
                    d.path.display(),
                    d.report_bytes,
                    d.attachments,
                    d.attachment_bytes
                );
                if args.format == Format::Human {
                    println!("{}", d.path.display());
                }
                done.push(d);
            }
            Err((code, message)) => {
                eprintln!("flakiness: run {run}: download failed: {message}");
                worst = worst.max(code);
                failed.push((*run, message));
            }
        }
    }
    if runs.len() > 1 {
        eprintln!(
            "flakiness: {} of {} run(s) downloaded",
            done.len(),
            runs.len()
        );
    }
    if args.format == Format::Json {
        let out = json!({
            "runs": done.iter().map(|d| json!({
                "run": d.run,
                "path": d.path.display().to_string(),
                "reportBytes": d.report_bytes,
                "attachments": d.attachments,
                "attachmentBytes": d.attachment_bytes,
                "missingAttachments": d.missing,
                "unverifiedAttachments": d.unverified,
                "warnings": d.warnings,
                "retries": d.retries,
            })).collect::<Vec<_>>(),
            "failed": failed.iter().map(|(run, error)| json!({
                "run": run,
                "error": error,
            })).collect::<Vec<_>>(),
        });
        println!("{out}");
    }
    worst
}

/// One run into `output/<run>/`, with a progress bar on stderr; the staging directory goes if
/// a signal stops the process.
fn download_one(
    downloader: &Downloader,
    run: i64,
    output: &std::path::Path,
) -> Result<Downloaded, (u8, String)> {
    let fail = |e: DownloadError| (code_of(&e), e.to_string());
    let writer = ReportDirWriter::create(output.join(run.to_string()))
        .map_err(|e| fail(DownloadError::Report(e)))?;
    let _staging = crate::signals::remove_on_signal(writer.staging_path().to_path_buf());
    let bar = crate::upload::byte_bar(format!("run {run}"));
    let progress = {
        let bar = bar.clone();
        Arc::new(move |received: u64, total: u64| {
            bar.set_length(total.max(received));
            bar.set_position(received);
        })
    };
    let result = downloader.download(run, writer, Some(progress));
    bar.finish_and_clear();
    result.map_err(fail)
}

fn code_of(e: &DownloadError) -> u8 {
    match e {
        DownloadError::BadEndpoint { .. } | DownloadError::BadProject(_) => exit_codes::USAGE,
        DownloadError::Refused { .. } => exit_codes::REFUSED,
        DownloadError::Invalid { .. } | DownloadError::Mismatch { .. } => exit_codes::INVALID,
        DownloadError::Io { .. } | DownloadError::Report(_) => exit_codes::IO,
        _ => exit_codes::UPLOAD,
    }
}
