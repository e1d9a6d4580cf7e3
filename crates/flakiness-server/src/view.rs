//! A history store seen through one project: only the runs of its finished uploads (the store
//! itself knows nothing of projects).

use std::collections::HashSet;

use flakiness_store::{
    Counts, FailureRecord, HistoryStore, Ingested, ResultRow, RunInfo, RunRecord, RunTotals,
    StoreError, TestKey,
};

pub(crate) struct ProjectView<'a> {
    pub(crate) inner: &'a mut dyn HistoryStore,
    pub(crate) runs: HashSet<i64>,
}

impl HistoryStore for ProjectView<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn contains(&mut self, content_hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .runs()?
            .iter()
            .any(|r| r.meta.content_hash == content_hash))
    }

    fn ingest(&mut self, run: &RunRecord) -> Result<Ingested, StoreError> {
        self.inner.ingest(run)
    }

    fn runs(&mut self) -> Result<Vec<RunInfo>, StoreError> {
        let mut runs = self.inner.runs()?;
        runs.retain(|r| self.runs.contains(&r.id));
        Ok(runs)
    }

    fn tests(&mut self) -> Result<Vec<TestKey>, StoreError> {
        let mut ids = HashSet::new();
        let runs = &self.runs;
        self.inner.for_each_result(&mut |row| {
            if runs.contains(&row.run_id) {
                ids.insert(row.test_id);
            }
        })?;
        let mut tests = self.inner.tests()?;
        tests.retain(|t| ids.contains(&t.id));
        Ok(tests)
    }

    fn for_each_result(&mut self, f: &mut dyn FnMut(ResultRow)) -> Result<(), StoreError> {
        let runs = &self.runs;
        self.inner.for_each_result(&mut |row| {
            if runs.contains(&row.run_id) {
                f(row);
            }
        })
    }

    fn run_totals(&mut self) -> Result<Vec<RunTotals>, StoreError> {
        let mut totals = self.inner.run_totals()?;
        totals.retain(|t| self.runs.contains(&t.run_id));
        Ok(totals)
    }

    fn run_failures(&mut self, run_id: i64) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        if self.runs.contains(&run_id) {
            self.inner.run_failures(run_id)
        } else {
            Ok(Vec::new())
        }
    }

    fn test_failures(
        &mut self,
        test_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, FailureRecord)>, StoreError> {
        // Read them all, keep this project's, then bound.
        let mut failures = self.inner.test_failures(test_id, usize::MAX)?;
        failures.retain(|(run, _)| self.runs.contains(run));
        failures.truncate(limit);
        Ok(failures)
    }

    fn for_each_failure(
        &mut self,
        f: &mut dyn FnMut(i64, i64, FailureRecord),
    ) -> Result<(), StoreError> {
        let runs = &self.runs;
        self.inner.for_each_failure(&mut |run, test, failure| {
            if runs.contains(&run) {
                f(run, test, failure);
            }
        })
    }

    fn failures(&mut self, run_id: i64, test_id: i64) -> Result<Vec<FailureRecord>, StoreError> {
        if self.runs.contains(&run_id) {
            self.inner.failures(run_id, test_id)
        } else {
            Ok(Vec::new())
        }
    }

    fn prune_before(&mut self, _cutoff_ms: i64) -> Result<u64, StoreError> {
        // A view never deletes.
        Ok(0)
    }

    fn counts(&mut self) -> Result<Counts, StoreError> {
        self.inner.counts()
    }

    fn source_hash(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<Option<String>, StoreError> {
        self.inner.source_hash(path, size, mtime_ns)
    }

    fn remember_source(
        &mut self,
        path: &str,
        size: i64,
        mtime_ns: i64,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        self.inner
            .remember_source(path, size, mtime_ns, content_hash)
    }
}
