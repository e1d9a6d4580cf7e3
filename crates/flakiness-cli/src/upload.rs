//! `flakiness upload DIR...`: report directories to Flakiness.io or `flakiness serve`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args as ClapArgs;
use flakiness_upload::{
    upload_blocking, GithubOidc, Secret, UploadError, UploadOptions, DEFAULT_ENDPOINT,
};

use crate::exit_codes;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Report directories (each holds report.json and attachments/); each uploads on its own.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Server root.
    #[arg(long, env = "FLAKINESS_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    pub endpoint: String,
    /// Access token (else GitHub Actions OIDC, when the job may request an id token).
    #[arg(long, env = "FLAKINESS_ACCESS_TOKEN", hide_env_values = true)]
    pub access_token: Option<String>,
    /// Flakiness.io project, `org/project` (default: the report's flakinessProject).
    #[arg(long, env = "FLAKINESS_PROJECT")]
    pub project: Option<String>,
    /// Read, validate and compress, but send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Upload a report that fails validation.
    #[arg(long)]
    pub force: bool,
    /// Always send brotli, even to a server that takes zstd.
    #[arg(long)]
    pub no_zstd: bool,
    #[command(flatten)]
    pub transfer: Transfer,
}

/// How `upload` and `download` use the network.
#[derive(Debug, ClapArgs)]
pub struct Transfer {
    /// Attachments sent (or fetched) at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Attempts after the first, for failures a retry can help with.
    #[arg(long, default_value_t = 4)]
    pub retries: u32,
    /// Seconds of silence from the server (no byte of its answer) after which an attempt is
    /// given up (and retried).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Seconds to connect, per attempt.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout: u64,
    /// Seconds one whole request may take, per attempt (the outer bound for large transfers).
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
}

impl Transfer {
    /// (idle, connect, request) timeouts.
    pub fn timeouts(&self) -> (Duration, Duration, Duration) {
        (
            Duration::from_secs(self.timeout),
            Duration::from_secs(self.connect_timeout),
            Duration::from_secs(self.request_timeout),
        )
    }
}

/// `FLAKINESS_DISABLE_UPLOAD` set to anything but empty, `0` or `false`.
fn disabled() -> bool {
    std::env::var("FLAKINESS_DISABLE_UPLOAD")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

pub fn run(args: Args) -> u8 {
    if disabled() {
        eprintln!("flakiness: FLAKINESS_DISABLE_UPLOAD is set: nothing uploaded");
        return exit_codes::SUCCESS;
    }
    let mut opts = UploadOptions::new(args.endpoint.trim_end_matches('/'));
    opts.access_token = args.access_token.filter(|t| !t.is_empty()).map(Secret::new);
    opts.project = args.project;
    opts.dry_run = args.dry_run;
    opts.force = args.force;
    opts.concurrency = usize::from(args.transfer.concurrency);
    opts.retries = args.transfer.retries;
    opts.allow_zstd = !args.no_zstd;
    (
        opts.idle_timeout,
        opts.connect_timeout,
        opts.request_timeout,
    ) = args.transfer.timeouts();
    if let (Ok(url), Ok(token)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        opts.github_oidc = Some(GithubOidc {
            request_url: url,
            request_token: Secret::new(token),
        });
    }
    let mut worst = exit_codes::SUCCESS;
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for dir in &args.dirs {
        let bar = byte_bar(dir.display().to_string());
        let progress = {
            let bar = bar.clone();
            Arc::new(move |sent: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(sent);
            })
        };
        let started = std::time::Instant::now();
        match upload_blocking(dir, &opts, Some(progress)) {
            Ok(up) => {
                bar.finish_and_clear();
                let secs = started.elapsed().as_secs_f64();
                match &up.web_url {
                    Some(url) => {
                        eprintln!(
                            "flakiness: {}: {} ({} attachment(s), report {} -> {} bytes {}, {secs:.2} s{})",
                            dir.display(),
                            if up.already_uploaded {
                                "already uploaded: the server has this report as a run, whose page follows"
                            } else {
                                "uploaded"
                            },
                            up.attachments,
                            up.report_bytes,
                            up.report_compressed_bytes,
                            up.encoding.header(),
                            if up.retries > 0 {
                                format!(", {} retried request(s)", up.retries)
                            } else {
                                String::new()
                            }
                        );
                        println!("{url}");
                    }
                    None => eprintln!(
                        "flakiness: {}: dry run: valid, {} attachment(s), report {} -> {} bytes br; nothing sent",
                        dir.display(),
                        up.attachments,
                        up.report_bytes,
                        up.report_compressed_bytes
                    ),
                }
                done.push(dir);
            }
            Err(e) => {
                bar.finish_and_clear();
                eprintln!("flakiness: {}: upload failed: {e}", dir.display());
                worst = worst.max(code_of(&e));
                failed.push(dir);
            }
        }
    }
    if args.dirs.len() > 1 {
        eprintln!(
            "flakiness: {} of {} report(s) uploaded{}",
            done.len(),
            args.dirs.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(
                    "; failed: {}",
                    failed
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    worst
}

/// A progress bar of bytes on stderr (drawn only on a terminal), named `message`.
pub(crate) fn byte_bar(message: String) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn code_of(e: &UploadError) -> u8 {
    match e {
        UploadError::Io { .. } => exit_codes::IO,
        UploadError::NotAReport { .. } | UploadError::Invalid { .. } => exit_codes::INVALID,
        UploadError::NoToken | UploadError::BadEndpoint { .. } => exit_codes::USAGE,
        _ => exit_codes::UPLOAD,
    }
}
