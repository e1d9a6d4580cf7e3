//! Report directories: `report.json` plus `attachments/`, read and written safely.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::model::{Attachment, Report, Suite};

/// Name of the report file in a report directory.
pub const REPORT_FILE: &str = "report.json";
/// Name of the attachments folder in a report directory.
pub const ATTACHMENTS_DIR: &str = "attachments";
/// Longest attachment id accepted, in bytes: the common file-name limit of file systems.
pub const MAX_ATTACHMENT_ID_LEN: usize = 255;

/// Errors of reading and writing reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `report.json` is not a report this model can read.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// Refused to replace a directory that is not a report directory.
    #[error("{path}: exists and is not a report directory (it holds more than report.json and attachments/); refusing to replace it")]
    NotAReportDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// An attachment id cannot be used as a file name.
    #[error("attachment id {id:?}: {reason}")]
    UnsafeAttachmentId {
        /// The id.
        id: String,
        /// Why it is refused.
        reason: AttachmentIdError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why an attachment id is not safe as a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentIdError {
    /// The id is empty.
    #[error("is empty")]
    Empty,
    /// The id is longer than [`MAX_ATTACHMENT_ID_LEN`] bytes.
    #[error("is longer than 255 bytes")]
    TooLong,
    /// The id holds a path separator.
    #[error("contains a path separator ('/' or '\\')")]
    Separator,
    /// The id holds `..`.
    #[error("contains '..'")]
    DotDot,
    /// The id is `.`.
    #[error("is '.'")]
    Dot,
    /// The id holds NUL or another control character.
    #[error("contains a control character")]
    Control,
}

/// Checks that an attachment id is safe to use as a file name under `attachments/`.
pub fn check_attachment_id(id: &str) -> Result<(), AttachmentIdError> {
    if id.is_empty() {
        return Err(AttachmentIdError::Empty);
    }
    if id.len() > MAX_ATTACHMENT_ID_LEN {
        return Err(AttachmentIdError::TooLong);
    }
    if id.contains(['/', '\\']) {
        return Err(AttachmentIdError::Separator);
    }
    if id.contains("..") {
        return Err(AttachmentIdError::DotDot);
    }
    if id == "." {
        return Err(AttachmentIdError::Dot);
    }
    if id.chars().any(char::is_control) {
        return Err(AttachmentIdError::Control);
    }
    Ok(())
}

/// The id the format recommends for an attachment: the MD5 of its content, in lowercase hex.
pub fn attachment_id_for(content: &[u8]) -> String {
    hex(&Md5::digest(content))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A report read from disk.
#[derive(Debug, Clone)]
pub struct ReportDir {
    /// The report.
    pub report: Report,
    /// The directory holding `report.json`.
    pub root: PathBuf,
}

impl ReportDir {
    /// Where the content of an attachment is, after checking its id is a safe file name.
    pub fn attachment_path(&self, id: &str) -> Result<PathBuf, Error> {
        check_attachment_id(id).map_err(|reason| Error::UnsafeAttachmentId {
            id: id.to_string(),
            reason,
        })?;
        Ok(self.root.join(ATTACHMENTS_DIR).join(id))
    }
}

/// Reads a `report.json` file.
pub fn read_report_file(path: &Path) -> Result<Report, Error> {
    let bytes = crate::files::read_regular(path).map_err(io_err(path))?;
    crate::json_text::from_slice(&bytes).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a report directory (`DIR/report.json`; attachments are read on demand with
/// [`ReportDir::attachment_path`]).
pub fn read_report_dir(dir: &Path) -> Result<ReportDir, Error> {
    let report = read_report_file(&dir.join(REPORT_FILE))?;
    Ok(ReportDir {
        report,
        root: dir.to_path_buf(),
    })
}

/// True when `dir` is an empty directory, or a report directory a writer made: `report.json`
/// and, beside it, nothing but `attachments/`. The only kind of directory
/// [`ReportDirWriter::finish`] will replace: a folder holding only `attachments/` (a user's
/// files, no report) is not one.
pub fn is_report_dir(dir: &Path) -> io::Result<bool> {
    let mut report = false;
    let mut empty = true;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        empty = false;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        if name == REPORT_FILE && kind.is_file() {
            report = true;
        } else if !(name == ATTACHMENTS_DIR && kind.is_dir()) {
            return Ok(false);
        }
    }
    Ok(empty || report)
}

/// Writes a report directory atomically.
///
/// Everything is written into a temporary directory beside the target (same parent, so the
/// final rename stays on one file system); [`finish`](Self::finish) then renames it into place.
/// Dropping the writer without finishing removes the temporary directory and leaves the target
/// untouched. An existing target is replaced only if it is a report directory (see
/// [`is_report_dir`]).
#[derive(Debug)]
pub struct ReportDirWriter {
    target: PathBuf,
    staging: tempfile::TempDir,
}

/// Removes the temporary directories a writer of `parent/name` left when its process was
/// killed (`.NAME.tmp-PID-XXXXXX` whose process is gone, on Linux; elsewhere, or without a
/// process id, those untouched for a day).
fn remove_stale_staging(parent: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let pid = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        let gone = match pid {
            Some(pid) if pid == std::process::id() => false,
            Some(pid) if Path::new("/proc/self").exists() => {
                !Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= std::time::Duration::from_secs(24 * 3600)),
        };
        if gone {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

impl ReportDirWriter {
    /// Starts writing the report directory `target`.
    pub fn create(target: impl AsRef<Path>) -> Result<Self, Error> {
        let target = target.as_ref().to_path_buf();
        if target.exists()
            && (!target.is_dir() || !is_report_dir(&target).map_err(io_err(&target))?)
        {
            return Err(Error::NotAReportDirectory { path: target });
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        remove_stale_staging(&parent, &name);
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-{}-", std::process::id()))
            .tempdir_in(&parent)
            .map_err(io_err(&parent))?;
        let att = staging.path().join(ATTACHMENTS_DIR);
        fs::create_dir(&att).map_err(io_err(&att))?;
        Ok(ReportDirWriter { target, staging })
    }

    /// The temporary directory being written (`.NAME.tmp-PID-XXXXXX` beside the target): a
    /// program that stops on a signal removes it (a later writer of the same target removes
    /// it too, once its process is gone).
    pub fn staging_path(&self) -> &Path {
        self.staging.path()
    }

    /// Adds an attachment from memory; its id is the MD5 of the content, so identical content
    /// is stored once.
    pub fn add_attachment(
        &mut self,
        name: impl Into<String>,
        content_type: impl Into<String>,
        content: &[u8],
    ) -> Result<Attachment, Error> {
        let id = attachment_id_for(content);
        let path = self.staging.path().join(ATTACHMENTS_DIR).join(&id);
        if !path.exists() {
            fs::write(&path, content).map_err(io_err(&path))?;
        }
        Ok(Attachment {
            name: name.into(),
            content_type: content_type.into(),
            id,
            ..Default::default()
        })
    }

    /// Adds an attachment by copying a file, hashing it as it streams (the file is never held
    /// in memory whole).
    pub fn add_attachment_file(
        &mut self,
        name: impl Into<String>,
        content_type: impl Into<String>,
        source: &Path,
    ) -> Result<Attachment, Error> {
        let mut input = fs::File::open(source).map_err(io_err(source))?;
        let att_dir = self.staging.path().join(ATTACHMENTS_DIR);
        let mut tmp = tempfile::NamedTempFile::new_in(&att_dir).map_err(io_err(&att_dir))?;
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = input.read(&mut buf).map_err(io_err(source))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
        }
        let id = hex(&hasher.finalize());
        let path = att_dir.join(&id);
        tmp.persist(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(Attachment {
            name: name.into(),
            content_type: content_type.into(),
            id,
            ..Default::default()
        })
    }

    /// Writes `report.json` and moves the directory into place.
    pub fn finish(mut self, report: &Report) -> Result<PathBuf, Error> {
        self.write_report(report)?;
        self.commit()
    }

    /// Writes `report.json` into the staging directory (not yet in place) and returns its path,
    /// so that the caller can check the file before [`commit`](Self::commit) moves it in.
    pub fn write_report(&mut self, report: &Report) -> Result<PathBuf, Error> {
        let report_path = self.staging.path().join(REPORT_FILE);
        let file = fs::File::create(&report_path).map_err(io_err(&report_path))?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        crate::json_out::to_writer(&mut w, report).map_err(|source| Error::Json {
            path: report_path.clone(),
            source,
        })?;
        let file = w.into_inner().map_err(|e| Error::Io {
            path: report_path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err(&report_path))?;
        Ok(report_path)
    }

    /// Starts writing `report.json` into the staging directory a root suite at a time, so that
    /// a converter never needs the whole report in memory: see [`ReportStream`]. Finish it
    /// with [`ReportStream::finish`], then [`commit`](Self::commit).
    pub fn stream_report(&self) -> Result<ReportStream, Error> {
        let path = self.staging.path().join(REPORT_FILE);
        let file = fs::File::create(&path).map_err(io_err(&path))?;
        Ok(ReportStream {
            out: io::BufWriter::with_capacity(1 << 20, Writeback::new(file)),
            path,
            suites: 0,
            json: crate::json_out::JsonWriter::default(),
        })
    }

    /// Moves the staged directory into place; `report.json` must have been written with
    /// [`write_report`](Self::write_report).
    pub fn commit(self) -> Result<PathBuf, Error> {
        let report_path = self.staging.path().join(REPORT_FILE);
        if !report_path.is_file() {
            return Err(Error::Io {
                path: report_path,
                source: io::Error::new(io::ErrorKind::NotFound, "report.json was not written"),
            });
        }
        let target = self.target;
        let staging = self.staging.keep();
        let mut old = None;
        if target.exists() {
            // Checked again: the directory may have changed since `create`.
            if !target.is_dir() || !is_report_dir(&target).map_err(io_err(&target))? {
                let _ = fs::remove_dir_all(&staging);
                return Err(Error::NotAReportDirectory { path: target });
            }
            let aside = staging.with_extension("old");
            fs::rename(&target, &aside).map_err(io_err(&target))?;
            old = Some(aside);
        }
        if let Err(e) = fs::rename(&staging, &target) {
            if let Some(aside) = &old {
                let _ = fs::rename(aside, &target);
            }
            let _ = fs::remove_dir_all(&staging);
            return Err(Error::Io {
                path: target,
                source: e,
            });
        }
        if let Some(aside) = old {
            fs::remove_dir_all(&aside).map_err(io_err(&aside))?;
        }
        Ok(target)
    }
}

/// `report.json` written one root suite at a time (from [`ReportDirWriter::stream_report`]).
///
/// The file starts with the report's `suites` array: [`suite`](Self::suite) writes one element
/// as soon as the caller has it; [`finish`](Self::finish) writes the suites the report still
/// holds, closes the array and writes every other field. The result is the same JSON object as
/// [`ReportDirWriter::write_report`] writes (members in another order), and like it, it is in
/// the staging directory until [`ReportDirWriter::commit`].
#[derive(Debug)]
pub struct ReportStream {
    path: PathBuf,
    out: io::BufWriter<Writeback>,
    suites: usize,
    /// Writes the suites' JSON (its buffer kept from one suite to the next).
    json: crate::json_out::JsonWriter,
}

/// Sees `report.json` as a [`ReportStream`] writes it: each root suite as the typed value about
/// to be serialised, then the rest of the report (the report object without `suites`) as the
/// JSON text that goes into the file. A validator that checks the report while it is written is
/// one.
pub trait StreamObserver {
    /// One element of the report's `suites`, before its JSON is written (serde_json's
    /// serialisation of it, as [`ReportStream::suite`] writes it).
    fn suite(&mut self, suite: &Suite);
    /// The report object without `suites` (every other member), after the last suite.
    fn rest(&mut self, json: &str);
}

/// A file being written that has the kernel start writing each [`WRITEBACK_STEP`] bytes of it
/// to disk as they come (Linux's `sync_file_range(SYNC_FILE_RANGE_WRITE)`, which waits for
/// nothing), so that the `fsync` that ends the file has little left to wait for: a 200 MB
/// report's final `fsync` took 80 ms, all of it on the command's critical path. Elsewhere it is
/// the file alone.
#[derive(Debug)]
struct Writeback {
    file: fs::File,
    /// Bytes written, and the first byte whose writeback has not been started.
    written: u64,
    started: u64,
}

/// See [`Writeback`].
const WRITEBACK_STEP: u64 = 8 << 20;

impl Writeback {
    fn new(file: fs::File) -> Self {
        Writeback {
            file,
            written: 0,
            started: 0,
        }
    }

    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (
            libc::off64_t::try_from(self.started),
            libc::off64_t::try_from(self.written - self.started),
        ) else {
            return;
        };
        // SAFETY: sync_file_range takes no pointer; the descriptor is this open file's. A
        // failure (a file system without it) only leaves the work to the final fsync.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                offset,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {
        self.started = self.written;
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_STEP {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// `report.json` written whole and flushed, not yet synced to disk: see
/// [`ReportStream::finish_observed`].
#[derive(Debug)]
pub struct WrittenReport {
    path: PathBuf,
    file: fs::File,
}

impl WrittenReport {
    /// The file's path (in the staging directory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file to disk on another thread while `check` runs (on the written file, say);
    /// returns what `check` returned once both are done.
    pub fn sync_with<T>(self, check: impl FnOnce(&Path) -> T) -> Result<T, Error> {
        let WrittenReport { path, file } = self;
        let (synced, checked) = std::thread::scope(|scope| {
            let sync = scope.spawn(|| file.sync_all());
            let checked = check(&path);
            let synced = sync
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the sync thread panicked")));
            (synced, checked)
        });
        synced.map_err(io_err(&path))?;
        Ok(checked)
    }
}

impl ReportStream {
    /// Appends one root suite to the report's `suites`.
    pub fn suite(&mut self, suite: &Suite) -> Result<(), Error> {
        let separator: &[u8] = if self.suites == 0 {
            b"{\"suites\":["
        } else {
            b","
        };
        self.out.write_all(separator).map_err(io_err(&self.path))?;
        self.json
            .write(&mut self.out, suite)
            .map_err(|source| Error::Json {
                path: self.path.clone(),
                source,
            })?;
        self.suites += 1;
        Ok(())
    }

    /// [`suite`](Self::suite), showing the suite to `observer` before it is written.
    pub fn suite_observed(
        &mut self,
        suite: &Suite,
        observer: &mut dyn StreamObserver,
    ) -> Result<(), Error> {
        observer.suite(suite);
        self.suite(suite)
    }

    /// Root suites written so far.
    pub fn suites_written(&self) -> usize {
        self.suites
    }

    /// Writes the rest of the report: its own root suites after the ones already written,
    /// then every other field. Flushes and syncs the file and returns its path.
    pub fn finish(self, report: Report) -> Result<PathBuf, Error> {
        self.finish_with(report, |path| path.to_path_buf())
    }

    /// [`finish`](Self::finish), running `check` on the written file (a validation, say)
    /// while the file is synced to disk on another thread; returns what `check` returned once
    /// both are done.
    pub fn finish_with<T>(
        self,
        report: Report,
        check: impl FnOnce(&Path) -> T,
    ) -> Result<T, Error> {
        self.write_rest(report, None)?.sync_with(check)
    }

    /// [`finish`](Self::finish), showing `observer` the report's own suites and then the rest
    /// of the report before they are written; the file is flushed, and synced by
    /// [`WrittenReport::sync_with`].
    pub fn finish_observed(
        self,
        report: Report,
        observer: &mut dyn StreamObserver,
    ) -> Result<WrittenReport, Error> {
        self.write_rest(report, Some(observer))
    }

    /// Writes the report's own suites and every other member, and flushes the file.
    fn write_rest(
        mut self,
        mut report: Report,
        mut observer: Option<&mut dyn StreamObserver>,
    ) -> Result<WrittenReport, Error> {
        for suite in report.suites.take().into_iter().flatten() {
            match observer.as_deref_mut() {
                Some(o) => self.suite_observed(&suite, o)?,
                None => self.suite(&suite)?,
            }
        }
        let json = |source| Error::Json {
            path: self.path.clone(),
            source,
        };
        if let Some(o) = observer {
            // The whole rest, as one object, for the observer; the file gets it without its
            // opening brace when the suites have opened the object already.
            let mut part = Vec::new();
            serde_json::to_writer(&mut part, &report).map_err(json)?;
            o.rest(json_text(&part));
            let bytes = if self.suites == 0 {
                &part[..]
            } else {
                self.out.write_all(b"],").map_err(io_err(&self.path))?;
                &part[1..]
            };
            self.out.write_all(bytes).map_err(io_err(&self.path))?;
        } else if self.suites == 0 {
            serde_json::to_writer(&mut self.out, &report).map_err(json)?;
        } else {
            self.out.write_all(b"],").map_err(io_err(&self.path))?;
            // The other members, without the opening brace the object already has.
            let rest = SkipFirstByte {
                inner: &mut self.out,
                skipped: false,
            };
            serde_json::to_writer(rest, &report).map_err(json)?;
        }
        drop(report);
        let file = self.out.into_inner().map_err(|e| Error::Io {
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        Ok(WrittenReport {
            path: self.path,
            file: file.file,
        })
    }
}

/// The text of what serde_json wrote.
#[allow(unsafe_code)]
fn json_text(bytes: &[u8]) -> &str {
    // SAFETY: `bytes` is only ever what `serde_json::to_writer` wrote into an empty buffer, and
    // serde_json writes valid UTF-8 only (its own `to_string` relies on this the same way):
    // strings are Rust strings, copied whole or escaped with ASCII.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// A writer that drops the first byte written through it.
struct SkipFirstByte<W> {
    inner: W,
    skipped: bool,
}

impl<W: Write> Write for SkipFirstByte<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.skipped && !buf.is_empty() {
            self.skipped = true;
            return Ok(1 + self.inner.write(&buf[1..])?);
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writing through [`Writeback`] writes the same bytes, and starts the writeback of each
    /// step as it is passed.
    #[test]
    fn writeback_writes_the_same_bytes() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        let mut w = Writeback::new(fs::File::create(&path).expect("create"));
        let data: Vec<u8> = (0..(2 * WRITEBACK_STEP + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        for chunk in data.chunks(100_003) {
            w.write_all(chunk).expect("write");
        }
        assert_eq!(w.written, data.len() as u64);
        assert!(w.started >= 2 * WRITEBACK_STEP && w.started <= w.written);
        w.flush().expect("flush");
        w.file.sync_all().expect("sync");
        assert!(fs::read(&path).expect("read") == data);
    }
}
