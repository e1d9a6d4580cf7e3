//! The GitHub Action of this repository (`action.yml`, whose work is `action/run.sh` with
//! `flakiness github-summary`) run without GitHub: its script, with the variables GitHub gives
//! a step set to files of a temporary folder, the inputs as action.yml passes them, and the
//! binary this crate builds. Needs bash.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flakiness_report::{Report, TestOutcome};

use super::repo;

/// What one run of the script left.
struct Run {
    out: Output,
    /// `$GITHUB_STEP_SUMMARY`.
    summary: String,
    /// `$GITHUB_OUTPUT`, parsed.
    outputs: BTreeMap<String, String>,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    fn stdout(&self) -> String {
        String::from_utf8(self.out.stdout.clone()).expect("utf-8 stdout")
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output {name}: {:?}", self.outputs))
    }
}

/// `name<<DELIM\nvalue\nDELIM` blocks (and `name=value` lines) of a `$GITHUB_OUTPUT` file.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

/// Runs `action/run.sh` in the repository (a git checkout, as in a job) as run `n` of a
/// workflow: its step files under `job/run-N/`, the history shared by the runs in `job/`.
fn run_action(job: &Path, n: u32, inputs: &[(&str, &str)]) -> Run {
    let dir = job.join(format!("run-{n}"));
    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&temp).expect("runner temp");
    let summary = dir.join("step-summary.md");
    let output = dir.join("output");
    let env_file = dir.join("env");
    for f in [&summary, &output, &env_file] {
        std::fs::write(f, "").expect("step file");
    }
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("action/run.sh"))
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", job)
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_ENV", &env_file)
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_RUN_ID", format!("{}", 1000 + n))
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("INPUT_FLAKINESS_BIN", env!("CARGO_BIN_EXE_flakiness"))
        .env("INPUT_REPORT_DIR", dir.join("flakiness-report"))
        .env("INPUT_HISTORY", job.join("history/history.db"));
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run bash action/run.sh");
    Run {
        out,
        summary: std::fs::read_to_string(&summary).expect("summary"),
        outputs: parse_outputs(&std::fs::read_to_string(&output).expect("output")),
    }
}

/// (tests, passed, failed, flaky, skipped) of a report, by the report model's own outcome.
fn counts(report_dir: &Path) -> [usize; 5] {
    let text = std::fs::read_to_string(report_dir.join("report.json")).expect("report.json");
    let report: Report = serde_json::from_str(&text).expect("a report");
    let mut c = [0; 5];
    for t in report.all_tests().filter(|t| !t.test.attempts.is_empty()) {
        c[0] += 1;
        c[match t.test.outcome() {
            TestOutcome::Expected => 1,
            TestOutcome::Unexpected => 2,
            TestOutcome::Flaky => 3,
            TestOutcome::Skipped => 4,
        }] += 1;
    }
    c
}

/// JUnit inputs with a failure, a test that failed then passed on a rerun, a skip.
const SUREFIRE: &str = "testdata/junit/surefire-reruns.xml";

/// gotestsum's JUnit XML of a rerun: one test failed, then passed; none failed.
const GOTESTSUM: &str = "testdata/junit/gotestsum-reruns.xml";

fn analysis_runs(run: &Run) -> serde_json::Value {
    let text = std::fs::read_to_string(run.output("analysis")).expect("analysis");
    let analysis: serde_json::Value = serde_json::from_str(&text).expect("json");
    analysis["runs"].clone()
}

#[test]
fn action_script_end_to_end_with_history() {
    let job = tempfile::tempdir().expect("tmp");
    let job = job.path();
    let quarantine = job.join("history/quarantine.json");
    let q = quarantine.to_str().expect("utf-8");

    // Run 1: a file by name and a glob that crosses directories (to pytest's JUnit XML: tests
    // with file and line, failures, a test passed on a rerun, skips), lines padded as YAML
    // block scalars leave them; the failures fail the step.
    let results = format!("  {SUREFIRE}\n\ntestdata/**/pytest/junit-xunit1.xml  \n");
    let r1 = run_action(
        job,
        1,
        &[("INPUT_RESULTS", &results), ("INPUT_QUARANTINE", q)],
    );
    assert_eq!(r1.code(), Some(1), "fail-on failed: {}", r1.stderr());
    assert!(
        r1.stderr()
            .contains("::error title=flakiness::7 test(s) failed (fail-on: failed)"),
        "{}",
        r1.stderr()
    );
    let report_dir = PathBuf::from(r1.output("report-dir"));
    let [tests, passed, failed, flaky, skipped] = counts(&report_dir);
    assert_eq!([tests, passed, failed, flaky, skipped], [21, 9, 7, 2, 3]);
    for (name, n) in [
        ("tests", tests),
        ("passed", passed),
        ("failed", failed),
        ("flaky", flaky),
        ("skipped", skipped),
    ] {
        assert_eq!(r1.output(name), n.to_string(), "output {name}");
    }
    let summary = &r1.summary;
    for part in [
        "| Tests | Passed | Failed | Flaky | Skipped |\n|---|---|---|---|---|\n| 21 | 9 | 7 | 2 | 3 |\n",
        "### Failed (7)",
        "| com.acme.CartTest › checkout | pytest |  | java.util.concurrent.TimeoutException: timed out after 5s |",
        "| tests/test_basic.py › test_fails | pytest | tests/test_basic.py:10 | AssertionError: arithmetic is broken |",
        "### Flaky in this run (2)",
        "1 run(s) of this history: 1 flaky, 0 broken",
        "### Quarantined (1)\n\n| Test | Environment | Clean runs | Why |\n|---|---|---|---|\n| com.acme.CartTest › addsItem | pytest | 0 | flaky",
    ] {
        assert!(summary.contains(part), "{part:?} missing in\n{summary}");
    }

    // Annotations: an error per failed test at its file and line, a warning per flaky one.
    let stdout = r1.stdout();
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 7, "{stdout}");
    assert!(
        errors.contains(&"::error file=tests/test_basic.py,line=10,col=1,title=Failed%3A test_fails [pytest]::AssertionError: arithmetic is broken"),
        "{stdout}"
    );
    assert!(
        errors.contains(&"::error title=Failed%3A com.acme.CartTest › checkout [pytest]::java.util.concurrent.TimeoutException: timed out after 5s"),
        "{stdout}"
    );
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(warnings.len(), 2, "one warning per flaky test: {stdout}");
    assert!(
        warnings.iter().any(|l| l.starts_with(
            "::warning file=tests/test_outcomes.py,line=37,col=1,title=Flaky in this run%3A test_flaky [pytest]::failed, then passed: "
        )),
        "{stdout}"
    );

    // The flaky list, the analysis, the history and the quarantine.
    let list = std::fs::read_to_string(r1.output("flaky-list")).expect("flaky list");
    assert_eq!(
        list,
        "tests/test_outcomes.py › test_flaky [pytest]\ncom.acme.CartTest › addsItem [pytest]\n"
    );
    assert_eq!(analysis_runs(&r1), 1);
    let history = job.join("history/history.db");
    assert_eq!(r1.output("history"), history.to_str().expect("utf-8"));
    assert!(history.is_file());
    assert!(quarantine.is_file(), "the quarantine file is created");

    // Run 2, the next workflow run: other results, the same history; nothing fails the step.
    let r2 = run_action(
        job,
        2,
        &[
            ("INPUT_RESULTS", GOTESTSUM),
            ("INPUT_QUARANTINE", q),
            ("INPUT_FAIL_ON", "nothing"),
            ("INPUT_ANNOTATIONS", "false"),
        ],
    );
    assert_eq!(r2.code(), Some(0), "{}", r2.stderr());
    assert_eq!(
        analysis_runs(&r2),
        2,
        "the second run adds to the first's history"
    );
    assert!(
        r2.summary.contains("2 run(s) of this history"),
        "{}",
        r2.summary
    );
    assert!(
        r2.summary.contains("| 2 | 1 | 0 | 1 | 0 |"),
        "{}",
        r2.summary
    );
    assert!(r2.summary.contains("### Quarantined (2)"), "{}", r2.summary);
    assert!(
        !r2.stdout().contains("::"),
        "no annotations: {}",
        r2.stdout()
    );
}

#[test]
fn action_fail_on_and_bad_inputs() {
    let job = tempfile::tempdir().expect("tmp");
    let job = job.path();
    let inputs = |results: &'static str, fail_on: &'static str| {
        vec![
            ("INPUT_RESULTS", results),
            ("INPUT_ANALYZE", "false"),
            ("INPUT_FAIL_ON", fail_on),
        ]
    };

    // Without analysis: no history; the step fails on what fail-on names.
    for (n, (results, fail_on, code)) in [
        (SUREFIRE, "nothing", 0),
        (SUREFIRE, "failed", 1),
        (SUREFIRE, "broken", 1),
        (GOTESTSUM, "failed", 0),
        (GOTESTSUM, "broken", 0),
        (GOTESTSUM, "flaky", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let r = run_action(job, n as u32, &inputs(results, fail_on));
        assert_eq!(r.code(), Some(code), "{results} {fail_on}: {}", r.stderr());
        assert_eq!(r.output("analysis"), "");
        assert_eq!(r.output("history"), "");
        assert!(!r.summary.contains("Over the history"), "{}", r.summary);
    }
    assert!(!job.join("history").exists(), "no history without analysis");

    // Bad inputs: errors before anything is written.
    for (n, (inputs, message)) in [
        (inputs(SUREFIRE, "sometimes"), "input fail-on must be"),
        (
            vec![("INPUT_RESULTS", SUREFIRE), ("INPUT_ANALYZE", "yes")],
            "input analyze must be true or false",
        ),
        (
            vec![("INPUT_RESULTS", "testdata/junit/no-such-*.xml")],
            "no test results match 'testdata/junit/no-such-*.xml'",
        ),
        (
            vec![("INPUT_RESULTS", "testdata/junit/absent.xml")],
            "no test results match",
        ),
        (
            vec![("INPUT_RESULTS", " \n ")],
            "input results names no file",
        ),
        (
            vec![
                ("INPUT_RESULTS", SUREFIRE),
                ("INPUT_FLAKINESS_BIN", "/nonexistent/flakiness"),
            ],
            "was not found",
        ),
        (
            vec![("INPUT_RESULTS", "testdata/junit/truncated.xml")],
            "flakiness convert failed (exit 4)",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let r = run_action(job, 10 + n as u32, &inputs);
        assert!(
            matches!(r.code(), Some(2 | 4)),
            "{message}: {:?} {}",
            r.code(),
            r.stderr()
        );
        assert!(r.stderr().contains(message), "{message}: {}", r.stderr());
        assert!(
            r.stderr().contains("::error title=flakiness::"),
            "{}",
            r.stderr()
        );
        assert!(
            r.summary.is_empty() && r.outputs.is_empty(),
            "nothing written on {message}"
        );
    }
}

/// The inputs action.yml declares, in order.
fn declared_inputs(action: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in action.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            inside = line == "inputs:";
            continue;
        }
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if inside && !name.starts_with(' ') {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Every input action.yml declares reaches the script as `INPUT_NAME`, and the script reads no
/// other; every output it declares is one the script writes.
#[test]
fn action_yml_inputs_and_outputs_match_the_script() {
    let action = std::fs::read_to_string(repo().join("action.yml")).expect("action.yml");
    let script = std::fs::read_to_string(repo().join("action/run.sh")).expect("run.sh");
    let summary = std::fs::read_to_string(repo().join("crates/flakiness-cli/src/summary.rs"))
        .expect("summary.rs");
    assert!(
        action.contains("\nruns:\n  using: composite\n"),
        "a composite action"
    );
    assert!(!action.contains('\t'), "YAML takes no tabs");

    let inputs: Vec<String> = declared_inputs(&action)
        .into_iter()
        // Read by action.yml's cache steps alone.
        .filter(|name| name != "history-cache")
        .collect();
    assert!(action.contains("inputs.history-cache == 'true'"));
    assert!(
        inputs.len() >= 10 && inputs.contains(&"fail-on".to_string()),
        "{inputs:?}"
    );
    let env_of = |name: &str| format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
    let passed: BTreeSet<String> = inputs
        .iter()
        .filter(|name| {
            let line = format!("        {}: ${{{{ inputs.{name}", env_of(name));
            action.contains(&line)
        })
        .map(|name| env_of(name))
        .collect();
    let expected: BTreeSet<String> = inputs.iter().map(|n| env_of(n)).collect();
    assert_eq!(
        passed, expected,
        "an input action.yml does not pass to run.sh"
    );

    let mut read = BTreeSet::new();
    for (i, _) in script.match_indices("INPUT_") {
        let name: String = script[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        if name.len() > "INPUT_".len() {
            read.insert(name);
        }
    }
    assert_eq!(
        read, expected,
        "run.sh reads an undeclared input, or leaves a declared one unread"
    );

    for (i, _) in action.match_indices("steps.run.outputs.") {
        let name: String = action[i + "steps.run.outputs.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(
            summary.contains(&format!("(\"{name}\", ")),
            "github-summary writes no output {name}"
        );
    }
}
