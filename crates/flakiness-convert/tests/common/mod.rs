//! What the readers' tests share: the repository, its recorded inputs, the metadata of a
//! conversion, and the check that a report is valid without a warning.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use flakiness_convert::{ConvertError, Limits, Metadata, Reader};
use flakiness_report::{Report, RunAttempt};
use flakiness_validate::{Options, Validator};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testdata/inputs/<dir>/<name>`.
pub fn input(dir: &str, name: &str) -> Vec<u8> {
    let path = repo().join("testdata/inputs").join(dir).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A conversion's metadata: a fixed commit, the category also naming the environment.
pub fn meta(category: &str) -> Metadata {
    Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: category.into(),
        env_name: category.into(),
        ..Metadata::default()
    }
}

/// Our validator accepts the report, with no warning.
pub fn assert_valid(r: &Report) {
    let bytes = serde_json::to_vec(r).expect("serialize");
    let o = Validator::new(Options::default())
        .expect("validator")
        .validate_bytes(&bytes);
    assert!(
        o.valid() && o.warnings.is_empty(),
        "{:?} {:?}",
        o.errors,
        o.warnings
    );
}

/// Reads every `(name, bytes, file time)` document into the reader and makes its report,
/// checked with [`assert_valid`]; an error is placed at its line and column.
pub fn report_of(
    mut reader: Box<dyn Reader>,
    docs: &[(&str, &[u8], f64)],
    category: &str,
    fallback_ms: f64,
) -> Result<Report, ConvertError> {
    for (name, data, mtime) in docs {
        reader
            .read(data, name, *mtime, &Limits::default())
            .map_err(|e| e.locate(data))?;
    }
    let r = reader.into_report(&meta(category), fallback_ms);
    assert_valid(&r);
    Ok(r)
}

/// [`report_of`] the recorded inputs `names` of `testdata/inputs/<dir>/`, all read at `time`.
pub fn report_of_inputs(
    reader: Box<dyn Reader>,
    dir: &str,
    names: &[&str],
    category: &str,
    time: f64,
) -> Report {
    let data: Vec<Vec<u8>> = names.iter().map(|n| input(dir, n)).collect();
    let docs: Vec<(&str, &[u8], f64)> = names
        .iter()
        .zip(&data)
        .map(|(n, d)| (*n, d.as_slice(), time))
        .collect();
    report_of(reader, &docs, category, time).unwrap_or_else(|e| panic!("{e}"))
}

/// The messages of an attempt's errors, in order.
pub fn messages(a: &RunAttempt) -> Vec<String> {
    a.errors
        .iter()
        .flatten()
        .map(|e| e.message.clone().unwrap_or_default())
        .collect()
}

/// A fixture of dorny/test-reporter under /work/shared/dorny/fixtures/, `None` (said on
/// stderr) when that folder is absent: the tests that read them skip.
pub fn dorny_fixture(name: &str) -> Option<Vec<u8>> {
    let path = Path::new("/work/shared/dorny/fixtures").join(name);
    match std::fs::read(&path) {
        Ok(data) => Some(data),
        Err(_) => {
            eprintln!("skipped: {} is absent", path.display());
            None
        }
    }
}

/// The attempts of the test titled `title` (the first of that title).
pub fn attempts<'a>(r: &'a Report, title: &str) -> &'a [flakiness_report::RunAttempt] {
    &r.all_tests()
        .find(|t| t.test.title == title)
        .unwrap_or_else(|| panic!("{title}"))
        .test
        .attempts
}
