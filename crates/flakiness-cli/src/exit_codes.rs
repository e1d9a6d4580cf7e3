//! Exit codes of `flakiness`, stable across versions.
//!
//! When several apply to one run (one report invalid, another unreadable), the highest wins.

/// Everything checked out.
pub const SUCCESS: u8 = 0;
/// At least one report is invalid (`validate`; `diff`: A or B).
pub const INVALID: u8 = 1;
/// The command line is wrong (unknown flag, missing argument, a negative `diff --slower`, a
/// `diff` path holding several reports).
pub const USAGE: u8 = 2;
/// A path could not be read: missing, unreadable, `report.json` that is a directory, a folder
/// with no report in it.
pub const IO: u8 = 3;
/// An input could not be converted: not a recognised format, malformed XML… (`convert`).
pub const BAD_INPUT: u8 = 4;
/// The converted report failed validation: a bug of ours; nothing was written (`convert`).
pub const INVALID_OUTPUT: u8 = 5;
/// `analyze --fail-on` found a test of that classification; `diff --fail-on` found that list
/// (`new-failures`, `newly-flaky`) not empty; `github-summary --fail-on` was met (without
/// `--verdict`).
pub const FOUND: u8 = 6;
/// The history store cannot be used: not ours, written by a newer version, locked by another
/// process past the timeout, damaged (`analyze`).
pub const STORE: u8 = 7;
/// An upload or a download failed: the server refused it (`download`: an unknown project or
/// run), or could not be reached after the retries (`upload`, `download`).
pub const UPLOAD: u8 = 8;
/// `analyze` had nothing to analyze: no report under the paths given, every input skipped as
/// unusable, or an empty store.
pub const NO_RUNS: u8 = 9;
/// The server refused to be read (`download`): it needs a read token and none was given, or
/// not its token (`FLAKINESS_READ_TOKEN`).
pub const REFUSED: u8 = 10;
