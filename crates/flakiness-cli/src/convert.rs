//! `flakiness convert`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use flakiness_convert::{
    ci_run_url, detect, expand_input, fk_env_metadata, junit_report, libtest_report, ConvertError,
    Format, JunitCollector, LibtestCollector, Limits, Metadata,
};
use flakiness_report::{ReportDirWriter, CATEGORY_CARGO, CATEGORY_JUNIT};
use flakiness_validate::{Options, Validator};

use crate::exit_codes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files or directories (walked for *.xml and *.json); `-` reads stdin.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// The report directory to write (report.json + attachments/).
    #[arg(short, long, value_name = "OUTDIR")]
    output: PathBuf,
    /// Input format; `auto` detects it from the content.
    #[arg(long, value_enum, default_value_t = From::Auto)]
    from: From,
    /// Commit the tests ran on (default: `git rev-parse HEAD`).
    #[arg(long, value_name = "SHA")]
    commit_id: Option<String>,
    /// Name of the environment.
    #[arg(long, default_value = "default")]
    env_name: String,
    /// Report title.
    #[arg(long, env = "FLAKINESS_TITLE")]
    title: Option<String>,
    /// Report category (default: junit, or cargo for libtest JSON).
    #[arg(long)]
    category: Option<String>,
    /// Flakiness.io project, `org/project`.
    #[arg(long, env = "FLAKINESS_PROJECT")]
    flakiness_project: Option<String>,
    /// Longest output or stack kept per piece, in bytes; longer is truncated with a marker.
    #[arg(long, default_value_t = Limits::default().max_output_bytes)]
    max_output_bytes: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum From {
    Auto,
    Junit,
    LibtestJson,
}

fn git_head() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && sha.len() == 40).then_some(sha)
}

fn mtime_ms(path: &Path) -> f64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_millis() as f64)
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}

pub fn run(args: Args) -> u8 {
    let commit_id = match args.commit_id.clone().or_else(git_head) {
        Some(c) => c,
        None => {
            eprintln!("flakiness: no commit id: pass --commit-id SHA (not in a git checkout)");
            return exit_codes::USAGE;
        }
    };
    if commit_id.len() != 40 || !commit_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        eprintln!("flakiness: --commit-id {commit_id:?} is not 40 hexadecimal characters");
        return exit_codes::USAGE;
    }
    let limits = Limits {
        max_output_bytes: args.max_output_bytes,
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for input in &args.inputs {
        if input.as_os_str() == "-" {
            files.push(input.clone());
            continue;
        }
        match expand_input(input) {
            Ok(found) if found.is_empty() => {
                eprintln!(
                    "flakiness: {}: no .xml file in this directory",
                    input.display()
                );
                return exit_codes::IO;
            }
            Ok(found) => files.extend(found),
            Err(e) => {
                eprintln!("flakiness: {}: {e}", input.display());
                return exit_codes::IO;
            }
        }
    }
    let mut collector = JunitCollector::default();
    let mut libtest = LibtestCollector::default();
    let mut run_format: Option<Format> = None;
    let mut fallback = f64::MAX;
    for file in &files {
        let (name, data, when) = if file.as_os_str() == "-" {
            let mut data = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut data) {
                eprintln!("flakiness: stdin: {e}");
                return exit_codes::IO;
            }
            ("-".to_string(), data, now_ms())
        } else {
            match std::fs::read(file) {
                Ok(d) => (file.display().to_string(), d, mtime_ms(file)),
                Err(e) => {
                    eprintln!("flakiness: {}: {e}", file.display());
                    return exit_codes::IO;
                }
            }
        };
        fallback = fallback.min(when);
        let format = match args.from {
            From::Junit => Format::Junit,
            From::LibtestJson => Format::LibtestJson,
            From::Auto => match detect(&data) {
                Some(f) => f,
                None => {
                    let e = ConvertError::at_start(
                        &name,
                        "format not recognised: not JUnit XML (pass --from to force one)",
                    );
                    eprintln!("flakiness: {e}");
                    return exit_codes::BAD_INPUT;
                }
            },
        };
        if run_format.is_some_and(|f| f != format) {
            eprintln!("flakiness: {name}: the inputs of one run must share one format (found {format:?} after {:?})", run_format.unwrap_or(format));
            return exit_codes::USAGE;
        }
        run_format = Some(format);
        let read = match format {
            Format::Junit => collector.read(data.as_slice(), &name, when, &limits),
            Format::LibtestJson => libtest.read(&data, &name, when, &limits),
        };
        if let Err(e) = read {
            eprintln!("flakiness: {}", e.locate(&data));
            return exit_codes::BAD_INPUT;
        }
    }
    let meta = Metadata {
        commit_id,
        category: args.category.clone().unwrap_or_else(|| {
            match run_format {
                Some(Format::LibtestJson) => CATEGORY_CARGO,
                _ => CATEGORY_JUNIT,
            }
            .to_string()
        }),
        env_name: args.env_name.clone(),
        title: args.title.clone(),
        flakiness_project: args.flakiness_project.clone(),
        url: ci_run_url(|k| std::env::var(k).ok()),
        env_metadata: fk_env_metadata(std::env::vars()),
    };
    let fallback = if fallback == f64::MAX {
        now_ms()
    } else {
        fallback
    };
    let report = match run_format {
        Some(Format::LibtestJson) => libtest_report(libtest, &meta, fallback),
        _ => junit_report(collector, &meta, fallback),
    };

    // An invalid result is a bug of ours: it is reported, never written.
    let bytes = match serde_json::to_vec(&report) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("flakiness: internal error: {e}");
            return exit_codes::INVALID_OUTPUT;
        }
    };
    let outcome = match Validator::new(Options::default()) {
        Ok(v) => v.validate_bytes(&bytes),
        Err(e) => {
            eprintln!("flakiness: internal error: {e}");
            return exit_codes::INVALID_OUTPUT;
        }
    };
    if !outcome.valid() {
        eprintln!(
            "flakiness: internal error: the converted report is invalid (please report this bug):"
        );
        for p in &outcome.errors {
            eprintln!("  {}: {} [{}]", p.path, p.message, p.rule);
        }
        return exit_codes::INVALID_OUTPUT;
    }
    let written = ReportDirWriter::create(&args.output).and_then(|w| w.finish(&report));
    match written {
        Ok(dir) => {
            let tests = report.all_tests().count();
            eprintln!(
                "flakiness: wrote {} ({} tests from {} file(s))",
                dir.display(),
                tests,
                files.len()
            );
            exit_codes::SUCCESS
        }
        Err(e) => {
            eprintln!("flakiness: {e}");
            exit_codes::IO
        }
    }
}
