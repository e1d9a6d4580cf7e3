//! A project's results as the pages read them: one pass over the history store, kept in
//! memory while the project's runs stay the same (the server caches it beside the analysis).
//!
//! It holds every run (numbered, counted, with the time its failed attempts took) and every
//! test's results in run order, compactly (16 bytes a result: 2,000 runs of 800 tests are
//! about 26 MB), so the overview, the run list and a test's page never scan the store again.

use std::collections::{BTreeSet, HashMap};

use flakiness_store::{HistoryStore, Outcome, ResultRow, RunInfo};

use crate::{Counts, RunRow, WebError};

/// One result of a test, compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// The run's index in [`History::runs`] (oldest first).
    pub run: u32,
    /// Sum of the durations of the attempts that ran; `-1` when unknown.
    duration_ms: i32,
    pub attempts: u16,
    pub failed_attempts: u16,
    pub outcome: Outcome,
    /// Bit 0: an attempt failed as expected; bit 1: an attempt passed unexpectedly.
    flags: u8,
}

impl Cell {
    fn of(run: u32, row: &ResultRow) -> Self {
        Cell {
            run,
            duration_ms: row
                .duration_ms
                .map_or(-1, |d| d.clamp(0, i64::from(i32::MAX)) as i32),
            attempts: row.attempts.min(u32::from(u16::MAX)) as u16,
            failed_attempts: row.failed_attempts.min(u32::from(u16::MAX)) as u16,
            outcome: row.outcome,
            flags: u8::from(row.expected_failures > 0) | (u8::from(row.unexpected_passes > 0) << 1),
        }
    }

    /// Sum of the durations of the attempts that ran, when known.
    pub fn duration_ms(&self) -> Option<i64> {
        (self.duration_ms >= 0).then_some(i64::from(self.duration_ms))
    }

    /// A pass with an attempt that failed as expected (pytest's xfail).
    pub fn expected_failure(&self) -> bool {
        self.flags & 1 != 0 && self.outcome == Outcome::Passed
    }

    /// A result with an attempt that passed though expected not to.
    pub fn unexpected_pass(&self) -> bool {
        self.flags & 2 != 0 && self.outcome != Outcome::Passed
    }
}

/// A borrowed key of [`History`]'s test ids; hashes as the owned tuple does (a `Vec` hashes
/// as its slice), so a run page looks its tests up without copying their names.
#[derive(Hash)]
struct KeyRef<'a>(&'a str, &'a [String], &'a str);

impl hashbrown::Equivalent<(String, Vec<String>, String)> for KeyRef<'_> {
    fn equivalent(&self, key: &(String, Vec<String>, String)) -> bool {
        self.0 == key.0 && self.1 == key.1.as_slice() && self.2 == key.2
    }
}

/// A project's runs and results.
#[derive(Debug, Default)]
pub struct History {
    /// The runs, oldest first; `number` is the index plus one.
    pub runs: Vec<RunRow>,
    tests: HashMap<i64, Vec<Cell>>,
    /// `(file, title path, environment)` → the store's test id.
    ids: hashbrown::HashMap<(String, Vec<String>, String), i64>,
}

/// The time the failed attempts of a result took: as stored (schema version 5 on), else, for
/// older results, the failed share of its duration.
fn lost_ms(row: &ResultRow) -> i64 {
    if let Some(d) = row.failed_duration_ms {
        return d;
    }
    match row.duration_ms {
        Some(d) if row.attempts > 0 && row.failed_attempts > 0 => {
            d * i64::from(row.failed_attempts.min(row.attempts)) / i64::from(row.attempts)
        }
        _ => 0,
    }
}

impl History {
    /// Reads the store once: the runs `key_of` names (its key in URLs; others are left out)
    /// and their results.
    pub fn load(
        store: &mut dyn HistoryStore,
        key_of: &dyn Fn(&RunInfo) -> Option<String>,
    ) -> Result<Self, WebError> {
        let mut infos: Vec<(RunInfo, String)> = store
            .runs()?
            .into_iter()
            .filter_map(|i| {
                let key = key_of(&i)?;
                Some((i, key))
            })
            .collect();
        infos.sort_by_key(|(i, _)| (i.meta.start_ms, i.id));
        let index: HashMap<i64, u32> = infos
            .iter()
            .enumerate()
            .map(|(n, (i, _))| (i.id, n as u32))
            .collect();
        let keys = store.tests()?;
        // Environment names, sorted, and each test's index among them.
        let mut env_names: Vec<String> = keys.iter().map(|k| k.environment.clone()).collect();
        env_names.sort_unstable();
        env_names.dedup();
        let env_of: HashMap<i64, usize> = keys
            .iter()
            .map(|k| {
                let at = env_names.binary_search(&k.environment).unwrap_or_default();
                (k.id, at)
            })
            .collect();
        let mut counts = vec![Counts::default(); infos.len()];
        let mut lost = vec![0i64; infos.len()];
        let mut envs: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); infos.len()];
        let mut tests: HashMap<i64, Vec<Cell>> = HashMap::new();
        store.for_each_result(&mut |row| {
            let Some(&run) = index.get(&row.run_id) else {
                return;
            };
            let r = run as usize;
            counts[r].add(&row);
            lost[r] += lost_ms(&row);
            if let Some(&e) = env_of.get(&row.test_id) {
                envs[r].insert(e);
            }
            tests
                .entry(row.test_id)
                .or_default()
                .push(Cell::of(run, &row));
        })?;
        for cells in tests.values_mut() {
            cells.sort_by_key(|c| c.run);
            cells.shrink_to_fit();
        }
        let runs = infos
            .into_iter()
            .enumerate()
            .map(|(n, (info, key))| RunRow {
                key,
                run_id: info.id,
                number: n + 1,
                title: info.meta.title,
                commit_id: info.meta.commit_id,
                url: info.meta.url,
                start_ms: info.meta.start_ms,
                duration_ms: info.meta.duration_ms,
                counts: counts[n],
                lost_ms: lost[n],
                environments: envs[n].iter().map(|&e| env_names[e].clone()).collect(),
            })
            .collect();
        let ids = keys
            .into_iter()
            .filter(|k| tests.contains_key(&k.id))
            .map(|k| ((k.file, k.title_path, k.environment), k.id))
            .collect();
        Ok(History { runs, tests, ids })
    }

    /// The runs, newest first (the run list's order).
    pub fn newest_first(&self) -> Vec<RunRow> {
        self.runs.iter().rev().cloned().collect()
    }

    /// A test's results (by store test id), oldest first.
    pub fn results(&self, test_id: i64) -> &[Cell] {
        self.tests.get(&test_id).map_or(&[], Vec::as_slice)
    }

    /// The store's id of a test in an environment, when it has results in these runs.
    pub fn test_id(&self, file: &str, title_path: &[String], environment: &str) -> Option<i64> {
        self.ids
            .get(&KeyRef(file, title_path, environment))
            .copied()
    }

    /// The run with this key.
    pub fn run(&self, key: &str) -> Option<&RunRow> {
        self.runs.iter().find(|r| r.key == key)
    }

    /// The run just before `key` (by start), when there is one.
    pub fn previous(&self, key: &str) -> Option<&RunRow> {
        let at = self.runs.iter().position(|r| r.key == key)?;
        at.checked_sub(1).map(|i| &self.runs[i])
    }
}
