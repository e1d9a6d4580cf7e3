//! `flakiness-bench`: generate benchmark reports and JUnit files, measure the bare serde_json
//! and quick-xml baselines, and put an upload load on `flakiness serve`.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use flakiness_bench::{
    generate, generate_junit, parse_ignored_any, xml_loop_file, GenOptions, JunitGenOptions,
    DEFAULT_OUTPUT_PER_MILLE, MB,
};

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
        /// Distinct attachment files in attachments/.
        #[arg(long, value_name = "N", default_value_t = flakiness_bench::gen::DEFAULT_ATTACHMENTS)]
        attachments: usize,
    },
    /// Parse FILE with serde_json into IgnoredAny (the bare parsing baseline).
    IgnoredAny {
        /// A JSON file.
        file: PathBuf,
    },
    /// Write a deterministic, Surefire-style JUnit XML file of about N MB (10^6 bytes).
    GenJunit {
        /// Wanted size of the file in MB (10^6 bytes); fractions allowed.
        #[arg(long, value_name = "N")]
        size_mb: f64,
        /// The XML file to write (replaced if it exists).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Seed: the same size and seed give byte-identical output.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// Test cases with their own output, per thousand (0 to 1000): lower values give more
        /// test cases per MB.
        #[arg(long, value_name = "P", default_value_t = DEFAULT_OUTPUT_PER_MILLE,
              value_parser = clap::value_parser!(u64).range(0..=1000))]
        output_per_mille: u64,
    },
    /// Compress FILE as `flakiness upload` does (brotli, then zstd) and print size, ratio and
    /// time of each.
    Compress {
        /// Any file (a report.json).
        file: PathBuf,
    },
    /// Run a bare quick-xml event loop over FILE (64 KiB buffer) and print the counts (the XML
    /// parsing baseline).
    XmlLoop {
        /// An XML file.
        file: PathBuf,
    },
    /// Upload distinct copies of the report directory DIR (its commitId replaced by a unique id
    /// each time), C at a time, spread round-robin over the endpoints (upload i goes to
    /// endpoint i % n: client-side balancing, no balancer in between), and print one JSON object
    /// on stdout: {"uploads", "failed", "concurrency", "endpoints", "seconds",
    /// "uploadsPerSecond", "p50Ms", "p95Ms", "maxMs", "bytesPerUpload", "retries",
    /// "alreadyUploaded", "tenthsPerSecond"}. Exit status 1 when an upload failed.
    UploadLoad {
        /// The base report directory (e.g. from `flakiness-bench gen --size-mb 1 --attachments
        /// 10 --out DIR`).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// A server root, e.g. http://127.0.0.1:8080; repeat it to spread the uploads.
        #[arg(long, value_name = "URL", required = true)]
        endpoint: Vec<String>,
        /// The project's access token.
        #[arg(
            long,
            value_name = "T",
            env = "FLAKINESS_ACCESS_TOKEN",
            hide_env_values = true
        )]
        token: String,
        /// `org/name`, the token's project.
        #[arg(long, value_name = "ORG/NAME")]
        project: String,
        /// Uploads in all.
        #[arg(long, value_name = "N", default_value_t = 2000,
              value_parser = clap::value_parser!(u64).range(1..))]
        uploads: u64,
        /// Uploads at once.
        #[arg(long, value_name = "C", default_value_t = 16,
              value_parser = clap::value_parser!(u64).range(1..=4096))]
        concurrency: u64,
        /// Seed of the unique commit ids.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
    /// Read FILE with quick-xml and decode every attribute value, text and CDATA section (the
    /// bare decoding baseline of a converter: no model, no output); print the counts.
    XmlDecode {
        /// An XML file.
        file: PathBuf,
    },
}

/// `size_mb` in bytes, or `None` when it is not a positive number.
fn target_bytes(size_mb: f64) -> Option<u64> {
    (size_mb.is_finite() && size_mb > 0.0).then(|| (size_mb * MB as f64).round() as u64)
}

/// Runs a generator for `--size-mb size_mb` (exit status 2 when that is not a positive number):
/// prints `describe(summary, seconds taken)`, or `error_prefix: error` on failure.
fn run_generator<S, E: Display>(
    size_mb: f64,
    error_prefix: &dyn Display,
    generate: impl FnOnce(u64) -> Result<S, E>,
    describe: impl FnOnce(S, f64) -> String,
) -> ExitCode {
    let Some(target_bytes) = target_bytes(size_mb) else {
        eprintln!("error: --size-mb must be a positive number");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    match generate(target_bytes) {
        Ok(s) => {
            println!("{}", describe(s, started.elapsed().as_secs_f64()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{error_prefix}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn compress(file: &std::path::Path) -> ExitCode {
    let data = match std::fs::read(file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    for enc in [
        flakiness_upload::Encoding::Brotli,
        flakiness_upload::Encoding::Zstd,
    ] {
        let started = Instant::now();
        let out = enc.compress(&data);
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{}\t{}\t{}\t{:.2}\t{secs:.3}",
            enc.header(),
            data.len(),
            out.len(),
            data.len() as f64 / out.len().max(1) as f64
        );
    }
    ExitCode::SUCCESS
}

fn upload_load(opts: &flakiness_bench::load::LoadOptions) -> ExitCode {
    match flakiness_bench::load::run(opts) {
        Ok(summary) => {
            match serde_json::to_string(&summary) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            }
            if summary.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::UploadLoad {
            dir,
            endpoint,
            token,
            project,
            uploads,
            concurrency,
            seed,
        } => upload_load(&flakiness_bench::load::LoadOptions {
            base: dir,
            endpoints: endpoint,
            token,
            project,
            uploads: usize::try_from(uploads).unwrap_or(usize::MAX),
            concurrency: usize::try_from(concurrency).unwrap_or(usize::MAX),
            seed,
        }),
        Command::Compress { file } => compress(&file),
        Command::Gen {
            size_mb,
            out,
            seed,
            attachments,
        } => run_generator(
            size_mb,
            &"error",
            |target_bytes| {
                generate(
                    &out,
                    GenOptions {
                        target_bytes,
                        seed,
                        attachments,
                    },
                )
            },
            |s, secs| {
                format!(
                    "{}: report.json {} bytes ({:.2} MB, target {size_mb} MB), {} file suites, {} tests, {} attempts, {} attachment refs to {} files, in {secs:.2} s",
                    out.display(),
                    s.report_bytes,
                    s.report_bytes as f64 / MB as f64,
                    s.file_suites,
                    s.tests,
                    s.attempts,
                    s.attachment_refs,
                    s.attachment_files,
                )
            },
        ),
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
        Command::GenJunit {
            size_mb,
            out,
            seed,
            output_per_mille,
        } => run_generator(
            size_mb,
            &out.display(),
            |target_bytes| {
                generate_junit(
                    &out,
                    JunitGenOptions {
                        target_bytes,
                        seed,
                        output_per_mille,
                    },
                )
            },
            |s, secs| {
                format!(
                    "{}: {} bytes ({:.2} MB, target {size_mb} MB), {} suites ({} top-level, depth {}), {} testcases: {} passed, {} failed, {} errors, {} skipped, {} flaky, {} failed all reruns, {} with output, {} CDATA sections, in {secs:.2} s",
                    out.display(),
                    s.bytes,
                    s.bytes as f64 / MB as f64,
                    s.suites,
                    s.top_suites,
                    s.max_depth,
                    s.testcases,
                    s.passed,
                    s.failed,
                    s.errored,
                    s.skipped,
                    s.flaky,
                    s.rerun_failed,
                    s.with_output,
                    s.cdata,
                )
            },
        ),
        Command::XmlDecode { file } => match flakiness_bench::junit::xml_decode_file(&file) {
            Ok(c) => {
                println!(
                    "events {} testcase {} attributes {} decoded bytes {}",
                    c.events.events, c.events.testcases, c.attributes, c.decoded_bytes
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
        Command::XmlLoop { file } => match xml_loop_file(&file) {
            Ok(c) => {
                println!(
                    "events {} start {} testcase {} text {}",
                    c.events, c.starts, c.testcases, c.texts
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
    }
}
