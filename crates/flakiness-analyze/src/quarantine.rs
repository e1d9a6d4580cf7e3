//! The quarantine list: flaky tests enter with their reason and leave only after a number of
//! consecutive clean runs; a test that left comes back only on new evidence (a flake after it
//! left), so that it does not go in and out with every analysis.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Analysis, Classification, TestAnalysis};

/// Version of the quarantine file format.
pub const QUARANTINE_VERSION: u32 = 1;

/// A quarantined test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuarantineEntry {
    pub file: String,
    pub title_path: Vec<String>,
    pub environment: String,
    /// Why it entered (the evidence when it did).
    pub reason: String,
    /// When it entered: the start of the run with the flake that put it there (Unix ms).
    pub since_ms: i64,
    /// Its score when last analyzed.
    pub score: f64,
    /// Consecutive clean runs so far (it leaves at the release threshold).
    pub clean_runs: usize,
}

/// A test that left, and when: it comes back only for a flake after that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    pub file: String,
    pub title_path: Vec<String>,
    pub environment: String,
    /// The start of the latest run analyzed when it left (Unix ms).
    pub released_ms: i64,
}

/// The quarantine file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    pub version: u32,
    /// Quarantined tests, by file, title path, environment.
    pub tests: Vec<QuarantineEntry>,
    /// Tests that left, by file, title path, environment.
    #[serde(default)]
    pub released: Vec<Released>,
}

impl Default for Quarantine {
    fn default() -> Self {
        Quarantine {
            version: QUARANTINE_VERSION,
            tests: Vec::new(),
            released: Vec::new(),
        }
    }
}

/// What [`Quarantine::update`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuarantineChanges {
    /// Tests that entered: `file › title path [environment]`.
    pub entered: Vec<String>,
    /// Tests that left.
    pub left: Vec<String>,
}

type Key = (String, Vec<String>, String);

fn key_of(t: &TestAnalysis) -> Key {
    (t.file.clone(), t.title_path.clone(), t.environment.clone())
}

fn label((file, path, env): &Key) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !file.is_empty() {
        parts.push(file);
    }
    parts.extend(path.iter().map(String::as_str));
    format!("{} [{env}]", parts.join(" › "))
}

/// Errors of reading or writing a quarantine file.
#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a quarantine file: {source}")]
    Format {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: quarantine file version {found}; this flakiness knows {QUARANTINE_VERSION}")]
    Version {
        path: std::path::PathBuf,
        found: u32,
    },
}

/// The forms a quarantine list is printed in (`flakiness quarantine --format`, and the server's
/// `GET /api/projects/{org}/{project}/quarantine?format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineFormat {
    /// The quarantine file's own JSON (pretty, with a final newline).
    Json,
    /// A nextest filterset leaving the tests out, for `-E`.
    Nextest,
    /// pytest `--deselect` arguments, one a line.
    Pytest,
    /// One test a line: `file › suite › test [environment]`.
    List,
}

impl QuarantineFormat {
    /// Every format, in the order their names are listed.
    pub const ALL: [QuarantineFormat; 4] = [
        QuarantineFormat::Json,
        QuarantineFormat::Nextest,
        QuarantineFormat::Pytest,
        QuarantineFormat::List,
    ];

    /// Its name (`json`, `nextest`, `pytest`, `list`).
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineFormat::Json => "json",
            QuarantineFormat::Nextest => "nextest",
            QuarantineFormat::Pytest => "pytest",
            QuarantineFormat::List => "list",
        }
    }

    /// The names of every format, `json, nextest, pytest, list`.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl std::fmt::Display for QuarantineFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is none of [`QuarantineFormat::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown quarantine format {given:?}: one of {}",
    QuarantineFormat::names()
)]
pub struct UnknownQuarantineFormat {
    /// The name given (its first 100 characters).
    pub given: String,
}

impl std::str::FromStr for QuarantineFormat {
    type Err = UnknownQuarantineFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownQuarantineFormat {
                given: s.chars().take(100).collect(),
            })
    }
}

impl Quarantine {
    /// The flaky tests of `analysis` that `flakiness analyze --quarantine` would put into an
    /// empty list now: the list of a server that keeps no file (its pages and its API).
    pub fn of_analysis(analysis: &Analysis) -> Self {
        let mut q = Quarantine::default();
        // Nothing is inside yet, so nothing can leave: the release threshold plays no part.
        q.update(analysis, usize::MAX);
        q
    }

    /// The list in `format`, as `flakiness quarantine` prints it (every line ends with a
    /// newline; an empty pytest or plain list is empty).
    pub fn render(&self, format: QuarantineFormat) -> Result<String, serde_json::Error> {
        Ok(match format {
            QuarantineFormat::Json => serde_json::to_string_pretty(self)? + "\n",
            QuarantineFormat::Nextest => self.nextest_filter() + "\n",
            QuarantineFormat::Pytest => lines(self.pytest_args()),
            QuarantineFormat::List => lines(self.plain_list()),
        })
    }

    /// Reads a quarantine file; a missing file is an empty quarantine.
    pub fn load(path: &Path) -> Result<Self, QuarantineError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(QuarantineError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let q: Quarantine =
            serde_json::from_slice(&bytes).map_err(|source| QuarantineError::Format {
                path: path.to_path_buf(),
                source,
            })?;
        if q.version != QUARANTINE_VERSION {
            return Err(QuarantineError::Version {
                path: path.to_path_buf(),
                found: q.version,
            });
        }
        Ok(q)
    }

    /// Writes the file whole or not at all (a temporary file beside it, then renamed).
    pub fn save(&self, path: &Path) -> Result<(), QuarantineError> {
        let mut json =
            serde_json::to_vec_pretty(self).map_err(|source| QuarantineError::Format {
                path: path.to_path_buf(),
                source,
            })?;
        json.push(b'\n');
        crate::write_file_whole(path, &json).map_err(|source| QuarantineError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Brings the list up to date with an analysis: quarantined tests with at least `release`
    /// consecutive clean runs leave; flaky tests enter unless they left before and have not
    /// flaked since. Tests the analysis no longer knows stay as they are.
    pub fn update(&mut self, analysis: &Analysis, release: usize) -> QuarantineChanges {
        let mut changes = QuarantineChanges::default();
        let by_key: std::collections::HashMap<Key, &TestAnalysis> =
            analysis.tests.iter().map(|t| (key_of(t), t)).collect();
        let latest_ms = analysis
            .tests
            .iter()
            .map(|t| t.evidence.last_seen_ms)
            .max()
            .unwrap_or(0);
        let mut kept = Vec::with_capacity(self.tests.len());
        for mut e in std::mem::take(&mut self.tests) {
            let key = (e.file.clone(), e.title_path.clone(), e.environment.clone());
            match by_key.get(&key) {
                Some(t) if t.evidence.clean_streak >= release => {
                    changes.left.push(label(&key));
                    self.released.retain(|r| {
                        (&r.file, &r.title_path, &r.environment) != (&key.0, &key.1, &key.2)
                    });
                    self.released.push(Released {
                        file: key.0,
                        title_path: key.1,
                        environment: key.2,
                        released_ms: latest_ms,
                    });
                }
                Some(t) => {
                    e.clean_runs = t.evidence.clean_streak;
                    e.score = t.score;
                    kept.push(e);
                }
                None => kept.push(e),
            }
        }
        self.tests = kept;
        let inside: BTreeSet<Key> = self
            .tests
            .iter()
            .map(|e| (e.file.clone(), e.title_path.clone(), e.environment.clone()))
            .collect();
        for t in &analysis.tests {
            if t.classification != Classification::Flaky || inside.contains(&key_of(t)) {
                continue;
            }
            let Some(flake_ms) = t.evidence.last_flake_ms else {
                continue;
            };
            let released_after = self.released.iter().any(|r| {
                (&r.file, &r.title_path, &r.environment) == (&t.file, &t.title_path, &t.environment)
                    && r.released_ms >= flake_ms
            });
            if released_after {
                continue;
            }
            self.released.retain(|r| {
                (&r.file, &r.title_path, &r.environment) != (&t.file, &t.title_path, &t.environment)
            });
            changes.entered.push(label(&key_of(t)));
            self.tests.push(QuarantineEntry {
                file: t.file.clone(),
                title_path: t.title_path.clone(),
                environment: t.environment.clone(),
                reason: reason(t),
                since_ms: flake_ms,
                score: t.score,
                clean_runs: t.evidence.clean_streak,
            });
        }
        self.tests.sort_by(|a, b| {
            (&a.file, &a.title_path, &a.environment).cmp(&(&b.file, &b.title_path, &b.environment))
        });
        self.released.sort_by(|a, b| {
            (&a.file, &a.title_path, &a.environment).cmp(&(&b.file, &b.title_path, &b.environment))
        });
        changes
    }

    /// A nextest filterset that leaves the quarantined tests out (by test name, any binary):
    /// `not (test(=a) | test(=b))`, or `all()` when the list is empty.
    pub fn nextest_filter(&self) -> String {
        let names: BTreeSet<&str> = self
            .tests
            .iter()
            .filter_map(|e| e.title_path.last().map(String::as_str))
            .collect();
        if names.is_empty() {
            return "all()".to_string();
        }
        let parts: Vec<String> = names.iter().map(|n| format!("test(={n})")).collect();
        format!("not ({})", parts.join(" | "))
    }

    /// pytest arguments that leave the quarantined tests out: `--deselect FILE::SUITE::TEST`.
    pub fn pytest_args(&self) -> Vec<String> {
        let ids: BTreeSet<String> = self
            .tests
            .iter()
            .map(|e| {
                let mut parts = vec![e.file.as_str()];
                parts.extend(e.title_path.iter().map(String::as_str));
                parts.join("::")
            })
            .collect();
        ids.into_iter()
            .flat_map(|id| ["--deselect".to_string(), id])
            .collect()
    }

    /// One line per quarantined test: `file › suite › test [environment]`.
    pub fn plain_list(&self) -> Vec<String> {
        self.tests
            .iter()
            .map(|e| label(&(e.file.clone(), e.title_path.clone(), e.environment.clone())))
            .collect()
    }
}

fn lines(items: Vec<String>) -> String {
    items.into_iter().map(|l| l + "\n").collect()
}

/// Why a flaky test enters.
fn reason(t: &TestAnalysis) -> String {
    let e = &t.evidence;
    let mut parts = Vec::new();
    if e.retry_flakes > 0 {
        parts.push(format!("{} retry flake(s)", e.retry_flakes));
    }
    if e.same_commit_flips > 0 {
        parts.push(format!(
            "passed and failed on {} commit(s)",
            e.same_commit_flips
        ));
    }
    if e.isolated_failures > 0 {
        parts.push(format!("{} isolated failure(s)", e.isolated_failures));
    }
    format!(
        "flaky (score {:.2}): {} in {} runs",
        t.score,
        parts.join(", "),
        e.ran
    )
}
