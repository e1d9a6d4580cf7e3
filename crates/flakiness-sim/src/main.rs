//! `flakiness-sim`: write a simulated CI history (reports + ground truth), and score an
//! analysis of it.
//!
//! ```sh
//! flakiness-sim gen --scenario mixed --out sim/
//! flakiness analyze sim/reports --db sim/history.db --format json > sim/analysis.json
//! flakiness-sim score --truth sim/truth.json --analysis sim/analysis.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use flakiness_sim::{junit_documents, score_predictions, simulate, Predictions, Scenario, Truth};

#[derive(Debug, Parser)]
#[command(
    name = "flakiness-sim",
    version,
    about = "Simulated CI histories with ground truth"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write OUT/reports/run-NNNN.json (one report per run) and OUT/truth.json; with
    /// `--junit`, also OUT/junit/run-NNNN.xml (one JUnit file per run and environment,
    /// `run-NNNN-ENV.xml` when there are several environments).
    Gen {
        /// mixed, flaky, env-flaky, late-flaky, regressions, outages, mixed-no-retries,
        /// incidents, incidents-no-retries, cancelled, fixed-regressions, real, real-no-retries.
        #[arg(long, default_value = "mixed")]
        scenario: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        seed: Option<u64>,
        /// Runs (default: the scenario's).
        #[arg(long)]
        runs: Option<usize>,
        /// Tests (default: the scenario's).
        #[arg(long)]
        tests: Option<usize>,
        /// Environment names, comma-separated (default: the scenario's, linux,windows).
        #[arg(long, value_delimiter = ',')]
        environments: Option<Vec<String>>,
        /// Also write the history as JUnit XML files (Surefire-style reruns).
        #[arg(long)]
        junit: bool,
        /// With --junit: the run's properties once per file instead of in every suite.
        #[arg(long, requires = "junit")]
        compact_junit: bool,
    },
    /// Compare `flakiness analyze --format json` output with the truth; prints the score as
    /// JSON.
    Score {
        #[arg(long, value_name = "FILE")]
        truth: PathBuf,
        #[arg(long, value_name = "FILE")]
        analysis: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flakiness-sim: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Gen {
            scenario,
            out,
            seed,
            runs,
            tests,
            environments,
            junit,
            compact_junit,
        } => {
            let mut s = Scenario::named(&scenario).ok_or_else(|| {
                format!(
                    "unknown scenario {scenario:?}: one of {}",
                    Scenario::NAMES.join(", ")
                )
            })?;
            s.seed = seed.unwrap_or(s.seed);
            s.runs = runs.unwrap_or(s.runs);
            s.tests = tests.unwrap_or(s.tests);
            if let Some(envs) = environments {
                if envs.is_empty() || envs.iter().any(|e| e.trim().is_empty()) {
                    return Err("--environments needs one or more names".into());
                }
                s.environments = envs;
            }
            let history = simulate(&s);
            let reports = out.join("reports");
            std::fs::create_dir_all(&reports).map_err(|e| format!("{}: {e}", reports.display()))?;
            for (i, r) in history.reports.iter().enumerate() {
                let path = reports.join(format!("run-{i:04}.json"));
                let json = serde_json::to_vec(r).map_err(|e| e.to_string())?;
                std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if junit {
                let dir = out.join("junit");
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let several = s.environments.len() > 1;
                for (i, r) in history.reports.iter().enumerate() {
                    for (env, xml) in junit_documents(r, compact_junit) {
                        let name = if several {
                            let env: String = env
                                .chars()
                                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                                .collect();
                            format!("run-{i:04}-{env}.xml")
                        } else {
                            format!("run-{i:04}.xml")
                        };
                        let path = dir.join(name);
                        std::fs::write(&path, xml)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                }
            }
            let truth = out.join("truth.json");
            let json = serde_json::to_vec_pretty(&history.truth).map_err(|e| e.to_string())?;
            std::fs::write(&truth, json).map_err(|e| format!("{}: {e}", truth.display()))?;
            eprintln!(
                "flakiness-sim: {} runs of {} tests in {} environment(s) into {}",
                s.runs,
                s.tests,
                s.environments.len(),
                out.display()
            );
            Ok(())
        }
        Command::Score { truth, analysis } => {
            let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
            let truth: Truth = serde_json::from_slice(&read(&truth)?)
                .map_err(|e| format!("{}: {e}", truth.display()))?;
            let analysis: serde_json::Value = serde_json::from_slice(&read(&analysis)?)
                .map_err(|e| format!("{}: {e}", analysis.display()))?;
            let predicted = predictions(&analysis)?;
            let score = score_predictions(&truth, &predicted);
            println!(
                "{}",
                serde_json::to_string_pretty(&score).map_err(|e| e.to_string())?
            );
            Ok(())
        }
    }
}

/// The classifications of an analysis JSON (`tests[].file/titlePath/environment/classification`).
fn predictions(v: &serde_json::Value) -> Result<Predictions, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        file: String,
        title_path: Vec<String>,
        environment: String,
        classification: flakiness_analyze::Classification,
    }
    let rows: Vec<Row> = serde_json::from_value(v.get("tests").cloned().unwrap_or_default())
        .map_err(|e| format!("not an analysis (flakiness analyze --format json): {e}"))?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.file, r.title_path, r.environment), r.classification))
        .collect())
}
