//! `flakiness convert`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;

use flakiness_convert::{
    attachments_from_annotations, ci_run_url, detect, expand_input, fk_env_metadata, junit_report,
    locate_suite_errors, relativize_paths, relativize_suite_paths, AttachmentSource, ConvertError,
    ConvertWarning, Format, JunitCollector, Limits, Metadata, PytestCollector, Reader, RepoFiles,
    RootSink,
};
use flakiness_report::{
    Report, ReportDirWriter, ReportStream, StreamObserver, Suite, ATTACHMENTS_DIR,
};
use flakiness_validate::{Incremental, Options, Validator};

use crate::exit_codes;
use crate::prefetch::{self, Prefetch};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files or directories (walked for *.xml, *.json, *.jsonl, *.txt and *.log); `-`
    /// reads stdin. Several inputs of one run merge into one report.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// The report directory to write (report.json + attachments/).
    #[arg(short, long, value_name = "OUTDIR")]
    output: PathBuf,
    /// Input format; `auto` detects it from the content (spec/convert.md lists them).
    #[arg(long, default_value = "auto",
          value_parser = clap::builder::PossibleValuesParser::new(flakiness_convert::formats::names()))]
    from: String,
    /// Commit the tests ran on (default: `git rev-parse HEAD` at the git root).
    #[arg(long, value_name = "SHA")]
    commit_id: Option<String>,
    /// Name of the environment (default: the name the official reporter of the input's runner
    /// gives it, so that histories join: `pytest`, `jest`, `vitest`, `playwright`, `bun`…
    /// when the input names its runner, else the category)
    #[arg(long)]
    env_name: Option<String>,
    /// Report title.
    #[arg(long, env = "FLAKINESS_TITLE")]
    title: Option<String>,
    /// Report category (default: after the input format: junit, pytest, cargo, go, gtest,
    /// catch2).
    #[arg(long)]
    category: Option<String>,
    /// Flakiness.io project, `org/project`.
    #[arg(long, env = "FLAKINESS_PROJECT")]
    flakiness_project: Option<String>,
    /// The directory the test runner ran in: relative paths of the input are taken from there
    /// (default: the current directory).
    #[arg(long, value_name = "DIR")]
    base_dir: Option<PathBuf>,
    /// Longest output or stack kept per piece, in bytes; longer is truncated with a marker.
    #[arg(long, default_value_t = Limits::default().max_output_bytes)]
    max_output_bytes: usize,
    /// Accept attachment files outside the folder of the input that names them.
    #[arg(long)]
    allow_outside_attachments: bool,
    /// Print how long each phase took (read, build, write, validate) to stderr.
    #[arg(long)]
    timings: bool,
}

/// Phase timings for `--timings`.
struct Timer {
    on: bool,
    last: std::time::Instant,
}

impl Timer {
    fn lap(&mut self, phase: &str) {
        if self.on {
            let now = std::time::Instant::now();
            eprintln!(
                "flakiness: timing: {phase}: {:.3} s{}",
                (now - self.last).as_secs_f64(),
                memory().unwrap_or_default()
            );
            self.last = now;
        }
    }
}

/// The process's resident memory now and at its peak, where the OS tells (Linux).
fn memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some(format!(
        " (RSS {} MB, peak {} MB)",
        field("VmRSS:")? / 1024,
        field("VmHWM:")? / 1024
    ))
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
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

/// The version of the operating system we run on.
fn os_version() -> Option<String> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let v = match std::env::consts::OS {
        "linux" => read("/proc/sys/kernel/osrelease"),
        "macos" => Command::new("sw_vers")
            .arg("-productVersion")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()),
        "windows" => Command::new("cmd")
            .args(["/C", "ver"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| {
                s.split("Version ")
                    .nth(1)
                    .map(|v| v.trim_end_matches([']', '\r', '\n']).to_string())
            }),
        _ => None,
    }?;
    let v = v.trim().to_string();
    (!v.is_empty()).then_some(v)
}

/// Fills in line and column of an error in a file without holding the file: reads it up to the
/// error's offset.
fn locate_in_file(e: ConvertError, path: &Path) -> ConvertError {
    let Ok(file) = File::open(path) else {
        return e;
    };
    // Streamed: constant memory, wherever the error is.
    e.locate_in(std::io::BufReader::new(file))
}

/// One input's converter state.
enum Run {
    Junit(Box<JunitCollector>),
    Pytest(PytestCollector),
    /// Every other format, through its row of `flakiness_convert::FORMATS`.
    Reader(Box<dyn Reader>),
}

fn forced(from: &str) -> Option<Format> {
    flakiness_convert::formats::by_name(from)
}

fn same_family(a: Format, b: Format) -> bool {
    use flakiness_convert::formats::spec;
    a == b || spec(a).family == spec(b).family && spec(a).reader.is_none()
}

pub fn run(args: Args) -> u8 {
    let mut timer = Timer {
        on: args.timings,
        last: std::time::Instant::now(),
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let base = args.base_dir.clone().unwrap_or_else(|| cwd.clone());
    let base = base.canonicalize().unwrap_or(base);
    let limits = Limits {
        max_output_bytes: args.max_output_bytes,
        allow_outside_attachments: args.allow_outside_attachments,
    };
    // The inputs first: a missing one is the first thing said. Files found by walking a
    // directory may be something else than test results (notes, logs): those are skipped with
    // a warning; a file given by name is read or refused.
    let mut files: Vec<PathBuf> = Vec::new();
    let mut walked: std::collections::HashSet<PathBuf> = Default::default();
    for input in &args.inputs {
        if input.as_os_str() == "-" {
            files.push(input.clone());
            continue;
        }
        match expand_input(input) {
            Ok(found) if found.is_empty() => {
                eprintln!(
                    "flakiness: {}: no input file (*.xml, *.json, *.jsonl, *.txt, *.log, *.trx) in this directory",
                    input.display()
                );
                return exit_codes::IO;
            }
            Ok(found) => {
                if input.is_dir() {
                    walked.extend(found.iter().cloned());
                }
                files.extend(found)
            }
            Err(e) => {
                eprintln!("flakiness: {}: {e}", input.display());
                return exit_codes::IO;
            }
        }
    }

    if !walked.is_empty() {
        files.retain(|f| {
            if !walked.contains(f) {
                return true;
            }
            let known = sniff(f, &args.from);
            if !known {
                eprintln!(
                    "flakiness: {}: warning: skipped, not a test result file (found by walking its directory)",
                    f.display()
                );
            }
            known
        });
        if files.is_empty() {
            eprintln!("flakiness: no test result file among the inputs");
            return exit_codes::BAD_INPUT;
        }
    }
    let git_root = git(&base, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let commit_id = match args.commit_id.clone().or_else(|| {
        git_root
            .as_deref()
            .and_then(|root| git(root, &["rev-parse", "HEAD"]))
    }) {
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
    // stdin is read whole: it cannot be read twice, and an error in it is placed from memory.
    let mut stdin_data: Option<Vec<u8>> = None;
    if files.iter().any(|f| f.as_os_str() == "-") {
        let mut data = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut data) {
            eprintln!("flakiness: stdin: {e}");
            return exit_codes::IO;
        }
        stdin_data = Some(data);
    }
    let root = git_root.clone().unwrap_or_else(|| base.clone());
    // The repository's files are listed while the inputs are read: they are needed only once
    // the first errors are located.
    let repo = LazyRepo::start(git_root.clone(), base.clone(), root.clone());
    // The output is checked as it is written (the validator walks each root suite's typed value,
    // then the JSON of the rest); the file is validated whole only when that check found
    // something.
    let validator = match Validator::new(Options::default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("flakiness: internal error: {e}");
            return exit_codes::INVALID_OUTPUT;
        }
    };
    let writer = match ReportDirWriter::create(&args.output) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    // Stopped by a signal, the process removes what it had written so far.
    let _staging = crate::signals::remove_on_signal(writer.staging_path().to_path_buf());
    // JUnit root suites go to report.json as soon as they are read (the converter then holds
    // a few at a time), through a second thread that resolves their paths and error locations
    // and writes them while the reading goes on. When a later input needs one of them back,
    // the output starts again and everything is read again, whole.
    let stream = match writer.stream_report() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    let attachments_dir = writer.staging_path().join(ATTACHMENTS_DIR);
    let out = SuiteWriter {
        stream,
        check: Check::new(&validator, &attachments_dir),
        tests: 0,
    };
    let (read, written) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Suite>>(4);
        let worker = scope.spawn(move || {
            let mut out = out;
            for batch in rx {
                for suite in batch {
                    if let Err(e) = out.write(suite) {
                        return (out, Err(e));
                    }
                }
            }
            (out, Ok(()))
        });
        let mut sink = Output::new(tx, &base, &root, &repo);
        let read = read_inputs(
            &args,
            &files,
            stdin_data.as_deref(),
            &limits,
            Some(&mut sink),
        );
        // What is left is written before the reading is judged: a failed hand-over means the
        // writing thread stopped on an error of its own, reported below.
        let _ = sink.flush();
        drop(sink);
        let written = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, written)
    });
    let mut out = match written {
        (out, Ok(())) => out,
        (_, Err(e)) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    let read = match read {
        Ok(read) => read,
        Err(code) => return code,
    };
    let read = if read.rereading {
        drop(read);
        out.tests = 0;
        out.check = Check::new(&validator, &attachments_dir);
        out.stream = match writer.stream_report() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("flakiness: {e}");
                return exit_codes::IO;
            }
        };
        match read_inputs(&args, &files, stdin_data.as_deref(), &limits, None) {
            Ok(read) => read,
            Err(code) => return code,
        }
    } else {
        read
    };
    timer.lap("read");
    let finish = Finish {
        args: &args,
        files: &files,
        base: &base,
        root: &root,
        repo: repo.get(),
        commit_id: &commit_id,
        validator: &validator,
        out,
    };
    finish.run(writer, read, &mut timer)
}

/// What [`read_inputs`] read.
struct ReadInputs {
    format: Format,
    state: Run,
    /// Start time to use when the inputs give none (the earliest modification time).
    fallback_ms: f64,
    /// Suites were streamed out that a later input needed back: read again without streaming.
    rereading: bool,
}

/// True when the start of `file` is a format this command reads (or UTF-16, refused later
/// with its own message); false for any other file, or one that cannot be read.
fn sniff(file: &Path, from: &str) -> bool {
    let Ok(f) = File::open(file) else {
        return false;
    };
    let mut head = Vec::with_capacity(256 * 1024);
    if std::io::Read::read_to_end(&mut std::io::Read::take(f, 256 * 1024), &mut head).is_err() {
        return false;
    }
    flakiness_convert::is_utf16(&head) || forced(from).or_else(|| detect(&head)).is_some()
}

/// Reads every input into one converter state; JUnit root suites go to `out` when given.
fn read_inputs(
    args: &Args,
    files: &[PathBuf],
    stdin_data: Option<&[u8]>,
    limits: &Limits,
    mut out: Option<&mut Output>,
) -> Result<ReadInputs, u8> {
    let mut run: Option<(Format, Run)> = None;
    let mut fallback = f64::MAX;
    for file in files {
        let stdin = file.as_os_str() == "-";
        let name = if stdin {
            "-".to_string()
        } else {
            file.display().to_string()
        };
        let mut reader: Box<dyn BufRead + '_> = if stdin {
            Box::new(std::io::Cursor::new(stdin_data.unwrap_or_default()))
        } else {
            let large = |f: &File| f.metadata().is_ok_and(|m| m.len() >= prefetch::MIN_FILE);
            match File::open(file) {
                // A large file is read ahead on a thread of its own.
                Ok(f) if large(&f) => match Prefetch::new(f) {
                    Ok(p) => Box::new(p),
                    Err(e) => {
                        eprintln!("flakiness: {name}: {e}");
                        return Err(exit_codes::IO);
                    }
                },
                Ok(f) => Box::new(BufReader::with_capacity(256 * 1024, f)),
                Err(e) => {
                    eprintln!("flakiness: {name}: {e}");
                    return Err(exit_codes::IO);
                }
            }
        };
        let when = if stdin { now_ms() } else { mtime_ms(file) };
        fallback = fallback.min(when);
        let head = match reader.fill_buf() {
            Ok(h) => h.to_vec(),
            Err(e) => {
                eprintln!("flakiness: {name}: {e}");
                return Err(exit_codes::IO);
            }
        };
        // UTF-16 is said as such, whatever the format would have been.
        if flakiness_convert::is_utf16(&head) {
            eprintln!(
                "flakiness: {}",
                ConvertError::at_start(&name, flakiness_convert::UTF16_MESSAGE)
            );
            return Err(exit_codes::BAD_INPUT);
        }
        let format = match forced(&args.from).or_else(|| detect(&head)) {
            Some(f) => f,
            None => {
                let what = if head.iter().all(|b| b.is_ascii_whitespace()) {
                    "the input is empty".to_string()
                } else {
                    let names = flakiness_convert::formats::names();
                    format!(
                        "format not recognised: none of {} (pass --from to force one)",
                        names[1..].join(", ")
                    )
                };
                eprintln!("flakiness: {}", ConvertError::at_start(&name, &what));
                return Err(exit_codes::BAD_INPUT);
            }
        };
        if let Some((first, _)) = &run {
            if !same_family(*first, format) {
                eprintln!(
                    "flakiness: {name}: the inputs of one run must share one format (found {format:?} after {first:?})"
                );
                return Err(exit_codes::USAGE);
            }
        }
        let (_, state) = run.get_or_insert_with(|| {
            (
                format,
                match format {
                    Format::Junit => {
                        let mut c = Box::<JunitCollector>::default();
                        // Without --env-name, Playwright's projects are environments, as the
                        // official Playwright reporter makes them.
                        c.set_environment_per_project(args.env_name.is_none());
                        Run::Junit(c)
                    }
                    Format::PytestReportlog | Format::PytestJsonReport => {
                        Run::Pytest(PytestCollector::default())
                    }
                    other => match flakiness_convert::formats::spec(other).reader {
                        Some(reader) => Run::Reader(reader()),
                        None => Run::Pytest(PytestCollector::default()),
                    },
                },
            )
        });
        let result = match state {
            Run::Junit(c) => match out.as_deref_mut() {
                Some(out) => c.read_streaming(&mut reader, &name, when, limits, out),
                None => c.read(&mut reader, &name, when, limits),
            },
            // A reader that takes the input as it comes never holds it whole.
            Run::Reader(c) if c.streams() => c.read_stream(&mut reader, &name, when, limits),
            other => {
                let mut data = Vec::new();
                if let Err(e) = reader.read_to_end(&mut data) {
                    eprintln!("flakiness: {name}: {e}");
                    return Err(exit_codes::IO);
                }
                let r = match (other, format) {
                    (Run::Reader(c), _) => c.read(&data, &name, when, limits),
                    (Run::Pytest(c), Format::PytestJsonReport) => {
                        c.read_json_report(&data, &name, when, limits)
                    }
                    (Run::Pytest(c), _) => c.read_reportlog(&data, &name, when, limits),
                    (Run::Junit(_), _) => Ok(()),
                };
                r.map_err(|e| e.locate(&data))
            }
        };
        if out.as_deref().is_some_and(|o| o.failed) {
            // The writing thread failed: the caller reports why.
            return Err(exit_codes::IO);
        }
        if let Err(e) = result {
            let e = if stdin || e.line > 0 {
                e
            } else {
                locate_in_file(e, file)
            };
            eprintln!("flakiness: {e}");
            return Err(exit_codes::BAD_INPUT);
        }
    }
    let Some((format, state)) = run else {
        eprintln!("flakiness: no input");
        return Err(exit_codes::USAGE);
    };
    let rereading = matches!(&state, Run::Junit(c) if c.needs_rereading());
    Ok(ReadInputs {
        format,
        state,
        fallback_ms: if fallback == f64::MAX {
            now_ms()
        } else {
            fallback
        },
        rereading,
    })
}

/// Hands JUnit root suites to the writing thread as they are read, a batch at a time (one
/// hand-over per suite woke the writing thread tens of thousands of times for a file of small
/// suites). Their paths are made relative to the repository and their errors located first,
/// here: on the thread that builds the suites, which has time to spare, not on the writing
/// thread, which has none.
struct Output<'a> {
    tx: std::sync::mpsc::SyncSender<Vec<Suite>>,
    base: &'a Path,
    root: &'a Path,
    repo: &'a LazyRepo,
    batch: Vec<Suite>,
    /// Tests in `batch`.
    tests: usize,
    /// The writing thread stopped (on an error it reports).
    failed: bool,
}

/// A batch of root suites is handed over once it holds this many tests (or
/// [`BATCH_SUITES`] suites): a few MB of model at most.
const BATCH_TESTS: usize = 2048;
const BATCH_SUITES: usize = 256;

impl<'a> Output<'a> {
    fn new(
        tx: std::sync::mpsc::SyncSender<Vec<Suite>>,
        base: &'a Path,
        root: &'a Path,
        repo: &'a LazyRepo,
    ) -> Self {
        Output {
            tx,
            base,
            root,
            repo,
            batch: Vec::new(),
            tests: 0,
            failed: false,
        }
    }

    /// Hands over the suites held.
    fn flush(&mut self) -> ControlFlow<()> {
        if self.batch.is_empty() || self.failed {
            return ControlFlow::Continue(());
        }
        self.tests = 0;
        if self.tx.send(std::mem::take(&mut self.batch)).is_err() {
            self.failed = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

impl RootSink for Output<'_> {
    fn root_suite(&mut self, mut suite: Suite) -> ControlFlow<()> {
        if self.failed {
            return ControlFlow::Break(());
        }
        relativize_suite_paths(&mut suite, self.base, self.root);
        if let Some(repo) = self.repo.get() {
            locate_suite_errors(&mut suite, |frame| repo.resolve(frame));
        }
        self.tests += count_tests(&suite);
        self.batch.push(suite);
        if self.tests >= BATCH_TESTS || self.batch.len() >= BATCH_SUITES {
            return self.flush();
        }
        ControlFlow::Continue(())
    }
}

/// `report.json` being written: root suites (their paths already relative to the repository
/// and their errors located, by [`Output`]) are written out and checked.
struct SuiteWriter<'a> {
    stream: ReportStream,
    check: Check<'a>,
    /// Tests written so far.
    tests: usize,
}

impl SuiteWriter<'_> {
    fn write(&mut self, suite: Suite) -> Result<(), flakiness_report::Error> {
        self.tests += count_tests(&suite);
        self.stream.suite_observed(&suite, &mut self.check)
    }
}

/// Checks `report.json` as it is written: each root suite, then the rest and the attachments
/// folder (see [`flakiness_validate::incremental`]).
struct Check<'a> {
    incremental: Option<Incremental<'a>>,
    attachments: &'a Path,
    /// Whether nothing at all was found, once the rest has been seen.
    clean: Option<bool>,
}

impl<'a> Check<'a> {
    fn new(validator: &'a Validator, attachments: &'a Path) -> Self {
        Check {
            incremental: Some(validator.incremental()),
            attachments,
            clean: None,
        }
    }
}

impl StreamObserver for Check<'_> {
    fn suite(&mut self, suite: &Suite) {
        if let Some(i) = &mut self.incremental {
            i.suite_value(suite);
        }
    }

    fn rest(&mut self, json: &str) {
        self.clean = self
            .incremental
            .take()
            .map(|i| i.finish(json, Some(self.attachments)));
    }
}

/// Tests in a suite and its descendants.
fn count_tests(suite: &Suite) -> usize {
    let mut n = 0;
    let mut stack = vec![suite];
    while let Some(s) = stack.pop() {
        n += s.tests.as_ref().map_or(0, Vec::len);
        stack.extend(s.suites.iter().flatten());
    }
    n
}

/// The tracked files of the repository, listed on a thread of their own from the start (`git
/// ls-files` takes milliseconds, which a small input should not wait for); the first
/// [`get`](Self::get) waits for them.
struct LazyRepo {
    listing: std::sync::Mutex<Option<std::thread::JoinHandle<Option<RepoFiles>>>>,
    files: std::sync::OnceLock<Option<RepoFiles>>,
}

impl LazyRepo {
    /// Lists the files of the checkout at `git_root` (none outside one); relative frame paths
    /// are taken from `base` (where the runner ran) first.
    fn start(git_root: Option<PathBuf>, base: PathBuf, root: PathBuf) -> Self {
        let listing = git_root.map(|git_root| {
            std::thread::spawn(move || {
                repo_files(&git_root).map(|r| {
                    let base_in_root = flakiness_convert::relative_to_root(".", &base, &root);
                    r.with_base(if base_in_root == "." {
                        ""
                    } else {
                        &base_in_root
                    })
                })
            })
        });
        LazyRepo {
            listing: std::sync::Mutex::new(listing),
            files: std::sync::OnceLock::new(),
        }
    }

    fn get(&self) -> Option<&RepoFiles> {
        self.files
            .get_or_init(|| {
                let listing = self
                    .listing
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                listing.and_then(|t| {
                    t.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
            })
            .as_ref()
    }
}

/// The tracked files of the repository at `root`, to locate errors from their stacks.
fn repo_files(root: &Path) -> Option<RepoFiles> {
    let listing = git(root, &["ls-files", "-z"])?;
    Some(RepoFiles::new(
        listing.split('\0').filter(|f| !f.is_empty()),
    ))
}

/// Everything after the reading: the report's other parts, then the output.
struct Finish<'a> {
    args: &'a Args,
    files: &'a [PathBuf],
    base: &'a Path,
    root: &'a Path,
    repo: Option<&'a RepoFiles>,
    commit_id: &'a str,
    validator: &'a Validator,
    out: SuiteWriter<'a>,
}

impl Finish<'_> {
    fn run(self, writer: ReportDirWriter, read: ReadInputs, timer: &mut Timer) -> u8 {
        let Finish {
            args,
            files,
            base,
            root,
            repo,
            commit_id,
            validator,
            out,
        } = self;
        let ReadInputs {
            format,
            state,
            fallback_ms: fallback,
            ..
        } = read;
        let category = args
            .category
            .clone()
            .unwrap_or_else(|| format.category().to_string());
        // The official reporters name their one environment after the runner (pytest-flakiness
        // `pytest`, the Jest and Vitest reporters `jest`, `vitest`), the JUnit converter after
        // the category: the same names, so that a test's history joins whichever tool wrote it.
        let runner = match &state {
            Run::Junit(c) => c.runner.clone(),
            Run::Pytest(_) => Some("pytest".to_string()),
            Run::Reader(c) => c.runner(),
        };
        let meta = Metadata {
            commit_id: commit_id.to_string(),
            env_name: args
                .env_name
                .clone()
                .or(runner)
                .unwrap_or_else(|| category.clone()),
            category,
            title: args.title.clone(),
            flakiness_project: args.flakiness_project.clone(),
            url: ci_run_url(|k| std::env::var(k).ok()),
            env_metadata: fk_env_metadata(std::env::vars()),
            os_version: os_version(),
        };
        let mut warnings: Vec<ConvertWarning> = Vec::new();
        let mut attachments: Vec<AttachmentSource> = Vec::new();
        let mut report = match state {
            Run::Junit(mut c) => {
                warnings.append(&mut c.warnings);
                attachments.append(&mut c.attachments);
                junit_report(*c, &meta, fallback)
            }
            Run::Reader(mut c) => {
                attachments.append(&mut c.attachments());
                warnings.append(&mut c.warnings());
                c.into_report(&meta, fallback)
            }
            Run::Pytest(c) => {
                let mut report = c.into_report(&meta, fallback);
                // pytest's paths are relative to the directory it ran in.
                let inputs = files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                match attachments_from_annotations(
                    &mut report,
                    &inputs,
                    base,
                    args.allow_outside_attachments,
                ) {
                    Ok((mut found, mut warned)) => {
                        attachments.append(&mut found);
                        warnings.append(&mut warned);
                    }
                    Err(e) => {
                        eprintln!("flakiness: {e}");
                        return exit_codes::BAD_INPUT;
                    }
                }
                report
            }
        };
        for w in &warnings {
            eprintln!("flakiness: warning: {w}");
        }
        timer.lap("build");
        relativize_paths(&mut report, base, root);
        timer.lap("paths");
        if let Some(repo) = repo {
            flakiness_convert::locate_errors(&mut report, |frame| repo.resolve(frame));
        }
        timer.lap("locations");
        write(
            validator,
            writer,
            out,
            report,
            &attachments,
            files.len(),
            timer,
        )
    }
}

/// Writes the report directory: attachments, then the rest of report.json into the staging
/// directory, which is validated before it is moved into place. An invalid result is a bug of
/// ours, reported and never written.
fn write(
    validator: &Validator,
    mut writer: ReportDirWriter,
    out: SuiteWriter<'_>,
    report: Report,
    attachments: &[AttachmentSource],
    inputs: usize,
    timer: &mut Timer,
) -> u8 {
    let tests = out.tests + report.all_tests().count();
    for a in attachments {
        match writer.add_attachment_file("", "", &a.path) {
            Ok(added) if added.id == a.id => {}
            Ok(_) => {
                eprintln!(
                    "flakiness: {}: the attachment changed while it was being converted",
                    a.path.display()
                );
                return exit_codes::IO;
            }
            Err(e) => {
                eprintln!("flakiness: {e}");
                return exit_codes::IO;
            }
        }
    }
    // The rest of report.json, checked as it is written; then, only when the check found
    // something, the whole file is validated (while it is synced to disk) for the problems'
    // lines and paths.
    let SuiteWriter {
        stream, mut check, ..
    } = out;
    let written = match stream.finish_observed(report, &mut check) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    let clean = check.clean == Some(true);
    let checked = written.sync_with(|staged| {
        (!clean).then(|| {
            crate::release_freed_memory();
            validator.validate_file(staged)
        })
    });
    let outcome = match checked {
        Ok(None) => None,
        Ok(Some(Ok(o))) => Some(o),
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
        Ok(Some(Err(e))) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    if let Some(outcome) = outcome.filter(|o| !o.valid()) {
        eprintln!(
            "flakiness: internal error: the converted report is invalid (please report this bug):"
        );
        for p in &outcome.errors {
            eprintln!("  {}: {} [{}]", p.path, p.message, p.rule);
        }
        return exit_codes::INVALID_OUTPUT;
    }
    timer.lap("write and validate");
    match writer.commit() {
        Ok(dir) => {
            eprintln!(
                "flakiness: wrote {} ({tests} tests from {inputs} file(s))",
                dir.display(),
            );
            exit_codes::SUCCESS
        }
        Err(e) => {
            eprintln!("flakiness: {e}");
            exit_codes::IO
        }
    }
}
