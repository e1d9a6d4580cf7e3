//! `flakiness`: convert, validate, analyze, diff, upload, serve and show Flakiness reports (see
//! [`ABOUT`]).

/// Every line this binary prints to stderr goes through [`terminal::eprint_line`]: control
/// characters from inputs or the network are escaped (this shadows the standard macro in
/// every module below).
macro_rules! eprintln {
    () => {
        $crate::terminal::eprint_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::terminal::eprint_line(format_args!($($arg)*))
    };
}

mod terminal;

mod analyze;
mod convert;
mod diff;
mod download;
mod exit_codes;
mod help;
mod prefetch;
mod serve;
mod shard;
mod show;
mod signals;
mod summary;
mod upload;
mod validate;

use std::process::ExitCode;

/// mimalloc: converting a large file makes millions of small strings, where it is markedly
/// faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns the memory this thread has freed to the operating system now rather than after
/// mimalloc's purge delay: called once a large report is dropped, so that what comes next (the
/// validator's map of the written file) does not add to a peak that memory no longer needs.
#[allow(unsafe_code)]
pub(crate) fn release_freed_memory() {
    // SAFETY: mi_collect takes no pointer and may be called at any time, from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// mimalloc v3's `mi_option_allow_thp` (its position in `mi_option_t`, which libmimalloc-sys
/// 0.1.49 does not name; Cargo.lock pins that version, and a test checks the option is there
/// with its default).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// No large (2 MiB) OS pages for the heap, explicit or transparent: on virtual machines each
/// one is faulted in and cleared whole, at a cost that doubled the time of a 200 MB report's
/// analysis (3.9 s -> 2.2 s, almost all of the difference in the kernel) and made the kernel's
/// share of `validate` on a 200 MB report vary from 0 to 0.2 s from run to run. Called first
/// thing in `main`, before the heap grows.
///
/// mimalloc turns transparent huge pages off for the process (`PR_SET_THP_DISABLE`) only when
/// `allow_thp` is off as it starts, before `main`; set later, the option only stops its own
/// `madvise(MADV_HUGEPAGE)` calls, and the arena reserved at start-up has had one already
/// (with THP in `madvise` mode, 11% of a cold `analyze` of 2,000 JUnit files went to clearing
/// huge pages). So the process asks the kernel itself.
#[allow(unsafe_code)]
fn configure_allocator() {
    // SAFETY: mi_option_set takes no pointer; options may be set at any time, and this runs on
    // the main thread before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set(libmimalloc_sys::mi_option_large_os_pages, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
    }
    // SAFETY: prctl(PR_SET_THP_DISABLE) takes no pointer and changes only this process's
    // memory policy; an error (an old kernel) leaves things as they were.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod allocator_tests {
    /// The option set as `allow_thp` is mimalloc's: on by default (unless the environment
    /// says otherwise), off once configured.
    #[test]
    #[allow(unsafe_code)]
    fn allow_thp_is_the_option_configured() {
        // SAFETY: mi_option_get/mi_option_set take no pointer.
        unsafe {
            if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
                assert_eq!(
                    libmimalloc_sys::mi_option_get(super::MI_OPTION_ALLOW_THP),
                    1
                );
            }
            super::configure_allocator();
            assert_eq!(
                libmimalloc_sys::mi_option_get(super::MI_OPTION_ALLOW_THP),
                0
            );
        }
    }
}

use clap::{Parser, Subcommand};

/// What `flakiness --help` says first: every subcommand by name and purpose (a test holds it
/// to the list of subcommands).
const ABOUT: &str = "Flakiness reports from the command line: `convert` test-runner output \
into reports, `validate` them (`schema` prints their JSON Schema), `analyze` a history of runs \
for flaky and broken tests and keep a `quarantine` list, `diff` two runs (new failures, \
fixed, newly flaky, slower tests), `upload` reports to Flakiness.io or to \
`serve` (a self-hosted upload server with web pages) and `download` them from it, `show` \
reports in the browser, and `shard` a suite over CI jobs by the durations of its history; \
`github-summary` writes a run's GitHub job summary, annotations and outputs (the GitHub \
Action's); `completions` and `man` print shell completions and the manual page.";

/// `flakiness --version`: the crate's version and the commit it was built from (`build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("FLAKINESS_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(name = "flakiness", version = VERSION, about = ABOUT, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check reports: report directories, report.json files, or folders holding many reports.
    #[command(after_help = help::VALIDATE)]
    Validate(validate::Args),
    /// Convert test-runner output (JUnit XML, pytest, libtest/nextest JSON, cargo test text, Go
    /// test2json, Dart/Flutter/Jest/Vitest/Mocha/RSpec/GoogleTest JSON, Catch2, .NET TRX and
    /// NUnit XML) or the report directories of one run's shards into a report directory.
    #[command(after_help = help::CONVERT)]
    Convert(convert::Args),
    /// Find flaky and broken tests in a history of reports (one per CI run), kept in a store.
    #[command(after_help = help::ANALYZE)]
    Analyze(analyze::Args),
    /// Print a quarantine list (kept by `analyze --quarantine`) for a test runner.
    #[command(after_help = help::QUARANTINE)]
    Quarantine(analyze::QuarantineArgs),
    /// Compare two runs: new failures, fixed tests, newly flaky tests, slower tests, tests
    /// added and removed.
    #[command(after_help = help::DIFF)]
    Diff(diff::Args),
    /// Upload report directories to Flakiness.io or to `flakiness serve`.
    #[command(after_help = help::UPLOAD)]
    Upload(upload::Args),
    /// Download runs' reports, with their attachments, from `flakiness serve` into report
    /// directories (the read token from FLAKINESS_READ_TOKEN).
    #[command(after_help = help::DOWNLOAD)]
    Download(download::Args),
    /// Serve the upload protocol (and a JSON API) from this machine; `serve token create`
    /// makes access tokens.
    #[command(after_help = help::SERVE)]
    Serve(serve::Args),
    /// Print the tests of one CI shard, balanced on the durations the history remembers.
    #[command(after_help = help::SHARD)]
    Shard(shard::Args),
    /// Show reports in the browser (a local server on 127.0.0.1), or write one HTML file.
    #[command(after_help = help::SHOW)]
    Show(show::Args),
    /// Write a run's GitHub job summary (appended to $GITHUB_STEP_SUMMARY), print `::error` and
    /// `::warning` annotations for its failed and flaky tests, append the step's outputs to
    /// $GITHUB_OUTPUT, write the flaky list and the verdict of `--fail-on` (the GitHub Action's
    /// work after `analyze`).
    #[command(after_help = help::GITHUB_SUMMARY)]
    GithubSummary(summary::Args),
    /// Print the JSON Schema of report.json (draft 2020-12), generated from the report model.
    #[command(after_help = help::SCHEMA)]
    Schema,
    /// Print the completion script of a shell (bash, zsh, fish, powershell, elvish).
    #[command(after_help = help::COMPLETIONS)]
    Completions(help::CompletionsArgs),
    /// Print the manual page (roff), or write one per subcommand into a folder.
    #[command(after_help = help::MAN)]
    Man(help::ManArgs),
}

fn main() -> ExitCode {
    configure_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit_codes::USAGE
            } else {
                exit_codes::SUCCESS
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Quarantine(args) => analyze::quarantine(args),
        Command::Diff(args) => diff::run(args),
        Command::Upload(args) => upload::run(args),
        Command::Download(args) => download::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Shard(args) => shard::run(args),
        Command::Show(args) => show::run(args),
        Command::GithubSummary(args) => summary::run(args),
        Command::Completions(args) => help::completions(args),
        Command::Man(args) => help::man(args),
        Command::Schema => {
            print!("{}", flakiness_report::report_schema_pretty());
            exit_codes::SUCCESS
        }
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The first lines of `--help` name every subcommand, so that none is left out when one
    /// is added (they left out `serve` and `show`; issue 17).
    #[test]
    fn the_about_names_every_subcommand() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        let about = cli.get_about().map(|a| a.to_string()).unwrap_or_default();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            assert!(
                about.contains(&format!("`{name}`")),
                "{name} is missing: {about}"
            );
        }
    }
}
