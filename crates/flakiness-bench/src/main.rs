//! `flakiness-bench`: generate benchmark reports and measure the bare serde_json baseline.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use flakiness_bench::{generate, parse_ignored_any, GenOptions, MB};

#[derive(Debug, Parser)]
#[command(
    name = "flakiness-bench",
    version,
    about = "Benchmark helpers of the flakiness toolkit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a deterministic, realistic report directory of about N MB (10^6 bytes) of report.json.
    Gen {
        /// Wanted size of report.json in MB (10^6 bytes); fractions allowed.
        #[arg(long, value_name = "N")]
        size_mb: f64,
        /// Report directory to write (replaced if it is a report directory).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Seed: the same size and seed give byte-identical output.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
    /// Parse FILE with serde_json into IgnoredAny (the bare parsing baseline).
    IgnoredAny {
        /// A JSON file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Gen { size_mb, out, seed } => {
            if !(size_mb.is_finite() && size_mb > 0.0) {
                eprintln!("error: --size-mb must be a positive number");
                return ExitCode::from(2);
            }
            let target_bytes = (size_mb * MB as f64).round() as u64;
            let started = Instant::now();
            match generate(&out, GenOptions { target_bytes, seed }) {
                Ok(s) => {
                    println!(
                        "{}: report.json {} bytes ({:.2} MB, target {size_mb} MB), {} file suites, {} tests, {} attempts, {} attachment refs to {} files, in {:.2} s",
                        out.display(),
                        s.report_bytes,
                        s.report_bytes as f64 / MB as f64,
                        s.file_suites,
                        s.tests,
                        s.attempts,
                        s.attachment_refs,
                        s.attachment_files,
                        started.elapsed().as_secs_f64()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::IgnoredAny { file } => {
            let result = std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|bytes| parse_ignored_any(&bytes).map_err(|e| e.to_string()));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    ExitCode::FAILURE
                }
            }
        }
    }
}
