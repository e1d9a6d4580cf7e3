//! The examples at the end of each subcommand's `--help` (the README's, one place), and the
//! `completions` and `man` subcommands generated from the clap definitions.

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;

use crate::exit_codes;

pub const VALIDATE: &str = "\
Examples:
  flakiness validate flakiness-report/                 # a report directory
  flakiness validate reports/                          # every report below a folder
  flakiness validate --format json out/                # machine output on stdout
  flakiness validate --strict out/                     # warnings become errors
  flakiness validate --no-attachments r/report.json    # report.json alone";

pub const CONVERT: &str = "\
Examples:
  flakiness convert target/surefire-reports -o flakiness-report   # JUnit XML
  flakiness convert report-log.jsonl -o out                       # pytest --report-log
  cargo test --no-fail-fast 2>&1 | flakiness convert - -o out     # cargo test output
  go test -json ./... | flakiness convert - -o out                # Go's test2json
  flakiness convert TestResults/ -o out                           # .NET TRX files below
  flakiness convert shard-1/ shard-2/ -o merged                   # one run's shards merged
  flakiness convert --from nextest-libtest-json run.jsonl -o out  # force a format";

pub const ANALYZE: &str = "\
Examples:
  flakiness analyze reports/                        # ingest new runs, rank flaky and broken tests
  flakiness analyze ci-runs/*/junit.xml             # JUnit files: one file is one run
  flakiness analyze reports/ --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  flakiness analyze reports/ --html flaky.html      # one self-contained page
  flakiness analyze --fail-on broken                # exit 6 when a test is broken
  flakiness analyze reports/ --quarantine quarantine.json
  flakiness analyze reports/ --database-url postgres://ci:pw@db/flakiness";

pub const QUARANTINE: &str = "\
Examples:
  cargo nextest run -E \"$(flakiness quarantine quarantine.json --format nextest)\"
  pytest $(flakiness quarantine quarantine.json --format pytest)
  flakiness quarantine quarantine.json --format json";

pub const DIFF: &str = "\
Examples:
  flakiness diff last-green/ flakiness-report/     # new failures, fixed, newly flaky, slower
  flakiness diff a/ b/ --format json               # machine output on stdout
  flakiness diff a/ b/ --fail-on new-failures      # a non-zero exit on a new failure";

pub const UPLOAD: &str = "\
Examples:
  flakiness upload flakiness-report/               # to Flakiness.io (FLAKINESS_ACCESS_TOKEN)
  flakiness upload --endpoint http://host:8080 out/   # to `flakiness serve`
  flakiness upload --dry-run out/                  # validate, read and compress; send nothing";

pub const DOWNLOAD: &str = "\
Examples:
  flakiness download --endpoint http://host:8080 --project acme/web --latest 3 -o runs/
  flakiness download --endpoint http://host:8080 --project acme/web --run 42 -o runs/
  flakiness download --endpoint http://host:8080 --project acme/web --latest 1 --format json";

pub const SERVE: &str = "\
Examples:
  flakiness serve token create --project acme/web --data /srv/flakiness   # printed once
  flakiness serve token list --data /srv/flakiness
  flakiness serve --bind localhost:8080 --data /srv/flakiness
  flakiness serve --bind 0.0.0.0:8080 --data /var/tmp/flakiness --database-url postgres://flakiness@db/flakiness --blob-url s3://ci-reports/flakiness   # one of several replicas";

pub const SHARD: &str = "\
Examples:
  cargo nextest run -E \"$(flakiness shard --total 4 --index 0 --format nextest)\"
  pytest $(flakiness shard --total 4 --index 1 --format pytest)
  flakiness shard --total 8 --index 3 --tests all-tests.txt --format list
  flakiness shard --total 4 --index 0 --endpoint http://host:8080 --project acme/web --format json";

pub const SHOW: &str = "\
Examples:
  flakiness show flakiness-report/                 # open in the browser (127.0.0.1)
  flakiness show --html report.html reports/       # or write one self-contained HTML file";

pub const GITHUB_SUMMARY: &str = "\
Examples:
  flakiness github-summary flakiness-report/ --fail-on nothing    # GITHUB_STEP_SUMMARY, GITHUB_OUTPUT set
  flakiness analyze --format json flakiness-report/ > analysis.json
  flakiness github-summary flakiness-report/ --analysis analysis.json --quarantine q.json
  flakiness github-summary out/ --flaky-list flaky.txt --verdict verdict.txt   # exit 0; why it fails in verdict.txt
  flakiness github-summary out/ --step-summary s.md --output o.txt --no-annotations";

pub const SCHEMA: &str = "\
Examples:
  flakiness schema > report.schema.json";

pub const COMPLETIONS: &str = "\
Examples:
  source <(flakiness completions bash)                         # bash, this shell
  flakiness completions bash > /etc/bash_completion.d/flakiness
  flakiness completions zsh > \"${fpath[1]}/_flakiness\"
  flakiness completions fish > ~/.config/fish/completions/flakiness.fish
  flakiness completions powershell >> $PROFILE";

pub const MAN: &str = "\
Examples:
  flakiness man | man -l -                           # read the page
  flakiness man --dir /usr/local/share/man/man1      # flakiness.1 and one page per subcommand";

/// `flakiness completions SHELL`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `flakiness man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `flakiness.1` and a page per subcommand (`flakiness-convert.1`…) into this
    /// folder instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script for a shell.
pub fn completions(args: CompletionsArgs) -> u8 {
    let mut cmd = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "flakiness", &mut out);
    write_stdout(&out)
}

/// Prints the man page, or writes every page into a folder.
pub fn man(args: ManArgs) -> u8 {
    let cmd = crate::Cli::command();
    match args.dir {
        None => {
            let mut out = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
                eprintln!("flakiness: cannot render the man page: {e}");
                return exit_codes::IO;
            }
            write_stdout(&out)
        }
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("flakiness: {}: {e}", dir.display());
                return exit_codes::IO;
            }
            match clap_mangen::generate_to(cmd, &dir) {
                Ok(()) => {
                    eprintln!("flakiness: wrote the man pages into {}", dir.display());
                    exit_codes::SUCCESS
                }
                Err(e) => {
                    eprintln!("flakiness: {}: {e}", dir.display());
                    exit_codes::IO
                }
            }
        }
    }
}

fn write_stdout(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit_codes::SUCCESS,
        // A closed pipe (`| head`) is the reader's choice, not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit_codes::SUCCESS,
        Err(e) => {
            eprintln!("flakiness: cannot write to stdout: {e}");
            exit_codes::IO
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    /// The `flakiness …` invocations of an example line: from each `flakiness ` that starts a
    /// word up to the shell's next operator, comment or closing quote.
    fn invocations(line: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        // A comment is `#` after a blank.
        let mut rest = line.find(" #").map_or(line, |at| &line[..at]);
        while let Some(at) = rest.find("flakiness ") {
            let starts_word =
                at == 0 || matches!(rest.as_bytes()[at - 1], b' ' | b'(' | b'"' | b'$' | b'`');
            let tail = &rest[at..];
            let end = tail
                .find(['|', '>', ';', '#', ')', '"', '<'])
                .unwrap_or(tail.len());
            if starts_word {
                out.push(tail[..end].split_whitespace().map(String::from).collect());
            }
            rest = &tail["flakiness ".len()..];
        }
        out
    }

    /// Every subcommand's `--help` ends with examples, and every example parses: a renamed
    /// or removed option fails here, not in a user's terminal.
    #[test]
    fn every_subcommand_has_examples_that_parse() {
        let cli = crate::Cli::command();
        let mut checked = 0;
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                after.starts_with("Examples:\n"),
                "`flakiness {name} --help` has no examples"
            );
            let mut own = 0;
            for line in after.lines().skip(1) {
                for words in invocations(line) {
                    if let Err(e) = crate::Cli::try_parse_from(&words) {
                        panic!("{line}\n{words:?}: {e}");
                    }
                    if words.get(1).map(String::as_str) == Some(name) {
                        own += 1;
                    }
                    checked += 1;
                }
            }
            assert!(own > 0, "no example of `flakiness {name}` itself");
        }
        assert!(checked > 30, "{checked} examples");
    }

    #[test]
    fn examples_are_found_in_shell_lines() {
        assert_eq!(
            invocations("cargo nextest run -E \"$(flakiness quarantine q.json --format nextest)\""),
            vec![vec![
                "flakiness",
                "quarantine",
                "q.json",
                "--format",
                "nextest"
            ]]
        );
        assert_eq!(
            invocations("go test -json | flakiness convert - -o out   # Go"),
            vec![vec!["flakiness", "convert", "-", "-o", "out"]]
        );
        assert!(invocations("pip install flakiness-tools").is_empty());
    }
}
