//! `flakiness validate`.

use std::io::Write;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use flakiness_validate::{discover, Engine, Options, Outcome, Problem, Validator};
use serde_json::json;

use crate::exit_codes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report directories, report.json files, or folders holding many reports.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Output: `human` (colored on a terminal) or `json` (on stdout, for machines).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Schema engine: `stream` (fast, no tree) or `jsonschema` (the jsonschema crate).
    #[arg(long, value_enum, default_value_t = EngineArg::Stream)]
    engine: EngineArg,
    /// Problems listed per report and severity; the rest are counted.
    #[arg(long, default_value_t = flakiness_validate::DEFAULT_MAX_PROBLEMS, value_name = "N")]
    max_problems: usize,
    /// Check report.json alone: not whether the attachments it references are in attachments/.
    #[arg(long)]
    no_attachments: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EngineArg {
    Stream,
    Jsonschema,
}

enum Checked {
    Report(Outcome),
    Unreadable(String),
}

pub fn run(args: Args) -> u8 {
    let options = Options {
        engine: match args.engine {
            EngineArg::Stream => Engine::Stream,
            EngineArg::Jsonschema => Engine::JsonSchema,
        },
        strict: args.strict,
        max_problems: args.max_problems,
        check_attachments: !args.no_attachments,
    };
    let validator = match Validator::new(options) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("flakiness: internal error: {e}");
            return exit_codes::IO;
        }
    };
    let mut results: Vec<(PathBuf, Checked)> = Vec::new();
    for path in &args.paths {
        match discover(path) {
            Err(e) => results.push((path.clone(), Checked::Unreadable(e.to_string()))),
            Ok(files) => {
                for file in files {
                    let checked = match validator.validate_file(&file) {
                        Ok(outcome) => Checked::Report(outcome),
                        Err(e) => Checked::Unreadable(e.to_string()),
                    };
                    results.push((file, checked));
                }
            }
        }
    }
    let mut code = exit_codes::SUCCESS;
    for (_, checked) in &results {
        let c = match checked {
            Checked::Report(o) if o.valid() => exit_codes::SUCCESS,
            Checked::Report(_) => exit_codes::INVALID,
            Checked::Unreadable(_) => exit_codes::IO,
        };
        code = code.max(c);
    }
    let written = match args.format {
        Format::Json => print_json(&results),
        Format::Human => print_human(&results),
    };
    if written.is_err() {
        // stdout closed (a pipe into `head`): nothing more to say.
        return code.max(exit_codes::IO);
    }
    code
}

fn problem_json(p: &Problem) -> serde_json::Value {
    json!({
        "path": p.path,
        "line": p.line,
        "column": p.column,
        "message": p.message,
        "rule": p.rule,
    })
}

fn print_json(results: &[(PathBuf, Checked)]) -> std::io::Result<()> {
    let reports: Vec<serde_json::Value> = results
        .iter()
        .map(|(path, checked)| match checked {
            Checked::Report(o) => json!({
                "path": path.display().to_string(),
                "valid": o.valid(),
                "schemaValid": o.schema_valid,
                "errors": o.errors.iter().map(problem_json).collect::<Vec<_>>(),
                "warnings": o.warnings.iter().map(problem_json).collect::<Vec<_>>(),
                "errorsOmitted": o.errors_omitted,
                "warningsOmitted": o.warnings_omitted,
            }),
            Checked::Unreadable(message) => {
                eprintln!("flakiness: {message}");
                json!({
                    "path": path.display().to_string(),
                    "valid": false,
                    "schemaValid": false,
                    "errors": [],
                    "warnings": [],
                    "ioError": message,
                })
            }
        })
        .collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &json!({ "reports": reports }))?;
    writeln!(out)?;
    out.flush()
}

fn print_human(results: &[(PathBuf, Checked)]) -> std::io::Result<()> {
    let bold = Style::new().bold();
    let red = AnsiColor::Red.on_default().bold();
    let yellow = AnsiColor::Yellow.on_default().bold();
    let green = AnsiColor::Green.on_default().bold();
    let dim = Style::new().dimmed();
    let mut out = anstream::stdout().lock();
    let (mut valid, mut invalid, mut unreadable) = (0usize, 0usize, 0usize);
    for (path, checked) in results {
        // Paths and messages quote the input: shown with control characters escaped.
        let shown = crate::terminal::safe(&path.display().to_string()).into_owned();
        match checked {
            Checked::Unreadable(message) => {
                unreadable += 1;
                let mut err = anstream::stderr().lock();
                writeln!(err, "{red}error{red:#}: {}", crate::terminal::safe(message))?;
            }
            Checked::Report(o) => {
                if o.valid() {
                    valid += 1;
                } else {
                    invalid += 1;
                }
                let (word, style) = if o.valid() {
                    ("valid", green)
                } else {
                    ("invalid", red)
                };
                let mut counts = Vec::new();
                let errors = o.errors.len() + o.errors_omitted;
                let warnings = o.warnings.len() + o.warnings_omitted;
                if errors > 0 {
                    counts.push(format!(
                        "{errors} error{}",
                        if errors == 1 { "" } else { "s" }
                    ));
                }
                if warnings > 0 {
                    counts.push(format!(
                        "{warnings} warning{}",
                        if warnings == 1 { "" } else { "s" }
                    ));
                }
                let counts = if counts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", counts.join(", "))
                };
                writeln!(out, "{bold}{shown}{bold:#}: {style}{word}{style:#}{counts}")?;
                for (kind, style, list) in
                    [("error", red, &o.errors), ("warning", yellow, &o.warnings)]
                {
                    for p in list.iter() {
                        writeln!(
                            out,
                            "  {shown}:{}:{}: {style}{kind}{style:#}: {bold}{}{bold:#}: {} {dim}[{}]{dim:#}",
                            p.line,
                            p.column,
                            crate::terminal::safe(&p.path),
                            crate::terminal::safe(&p.message),
                            p.rule
                        )?;
                    }
                }
                if o.errors_omitted > 0 {
                    writeln!(out, "  … and {} more error(s)", o.errors_omitted)?;
                }
                if o.warnings_omitted > 0 {
                    writeln!(out, "  … and {} more warning(s)", o.warnings_omitted)?;
                }
            }
        }
    }
    if results.len() > 1 {
        writeln!(
            out,
            "{} report(s): {valid} valid, {invalid} invalid, {unreadable} unreadable",
            results.len()
        )?;
    }
    out.flush()
}
