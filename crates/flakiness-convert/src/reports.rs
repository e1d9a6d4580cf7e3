//! Flakiness reports as input: several `report.json` of one run (CI shards, one report per
//! runner or per machine, ours or the official reporters') merged into one report.
//!
//! | Inputs | Merged report |
//! |---|---|
//! | `commitId` | the same in every input, else refused (reports of different commits are not one run) |
//! | `category`, `title`, `url`, `flakinessProject`, `testRunner`, `runtime`, `configPath`… | the first input's; a field the first lacks is taken from the next that has it |
//! | `environments` | one per name and metadata (`metadata`, `userSuppliedData`), in order of appearance, the `systemData` of the first (shards of one configuration run on machines that differ in kernel release); each attempt's `environmentIdx` points at its environment in the merged list |
//! | suites and tests | merged by position: a suite of the same type, title and file under the same parent is one suite; a test of the same title and file in the same suite is one test, its attempts those of every input, in input order |
//! | `unattributedErrors`, `sources` | all of them (sources once per file path) |
//! | `startTimestamp`, `duration` | the earliest start, to the latest end |
//! | telemetry (`cpuCount`, `ramBytes`, samples, `systemUtilization`) | the first input's: samples of several machines do not add up |
//! | attachments | every attachment an input refers to, copied from its `attachments/` folder (ids are content hashes: the same id is the same file) |

use std::path::{Path, PathBuf};

use flakiness_report::{Report, Suite, Test, ATTACHMENTS_DIR};

use crate::{AttachmentSource, ConvertError, Limits, Metadata};

/// Reads and merges Flakiness reports.
#[derive(Debug, Default)]
pub struct ReportsCollector {
    merged: Option<Report>,
    attachments: Vec<AttachmentSource>,
    end_ms: f64,
}

/// True for the head of a Flakiness report (`report.json`).
pub(crate) fn is_report(text: &str) -> bool {
    let has = |k: &str| text.contains(&format!("\"{k}\""));
    has("commitId") && has("environments") && has("category")
}

fn merge_tests(into: &mut Vec<Test>, from: Vec<Test>, env_map: &[u32]) {
    for mut t in from {
        for a in &mut t.attempts {
            let old = a.environment_idx() as usize;
            a.environment_idx = Some(env_map.get(old).copied().unwrap_or(old as u32));
        }
        let file = |t: &Test| t.location.as_ref().map(|l| l.file.clone());
        match into
            .iter_mut()
            .find(|u| u.title == t.title && file(u) == file(&t))
        {
            Some(u) => {
                u.attempts.append(&mut t.attempts);
                if let Some(tags) = t.tags.take() {
                    let mine = u.tags.get_or_insert_with(Vec::new);
                    for tag in tags {
                        if !mine.contains(&tag) {
                            mine.push(tag);
                        }
                    }
                }
            }
            None => into.push(t),
        }
    }
}

fn merge_suites(into: &mut Vec<Suite>, from: Vec<Suite>, env_map: &[u32]) {
    for mut s in from {
        let file = |s: &Suite| s.location.as_ref().map(|l| l.file.clone());
        match into
            .iter_mut()
            .find(|u| u.kind == s.kind && u.title == s.title && file(u) == file(&s))
        {
            Some(u) => {
                if let Some(tests) = s.tests.take() {
                    merge_tests(u.tests.get_or_insert_with(Vec::new), tests, env_map);
                }
                if let Some(suites) = s.suites.take() {
                    merge_suites(u.suites.get_or_insert_with(Vec::new), suites, env_map);
                }
            }
            None => {
                let tests = s.tests.take();
                let suites = s.suites.take();
                if let Some(tests) = tests {
                    merge_tests(s.tests.get_or_insert_with(Vec::new), tests, env_map);
                }
                if let Some(suites) = suites {
                    merge_suites(s.suites.get_or_insert_with(Vec::new), suites, env_map);
                }
                into.push(s);
            }
        }
    }
}

impl ReportsCollector {
    /// Reads one report; its attachments are looked for in `attachments/` beside `input`.
    pub fn read(
        &mut self,
        data: &[u8],
        input: &str,
        _fallback_ms: f64,
        _limits: &Limits,
    ) -> Result<(), ConvertError> {
        let mut report: Report = flakiness_report::json_text::from_slice(data).map_err(|e| {
            ConvertError::at(
                input,
                0,
                format!("not a Flakiness report the model reads: {e}"),
            )
            .locate(data)
        })?;
        // Attachments: every id the report refers to, from the folder beside it.
        if input != "-" {
            let dir = Path::new(input).parent().map_or_else(
                || PathBuf::from(ATTACHMENTS_DIR),
                |p| p.join(ATTACHMENTS_DIR),
            );
            let refs = flakiness_report::attachment_refs(data).map_err(|e| {
                ConvertError::at_start(input, &format!("cannot read its attachments: {e}"))
            })?;
            for (id, _) in refs.attachments {
                if flakiness_report::check_attachment_id(&id).is_err()
                    || self.attachments.iter().any(|a| a.id == id)
                {
                    continue;
                }
                let path = dir.join(&id);
                if path.is_file() {
                    self.attachments.push(AttachmentSource { id, path });
                }
            }
        }
        let end = report.start_timestamp.0 + report.duration.0;
        self.end_ms = self.end_ms.max(end);
        let Some(merged) = self.merged.as_mut() else {
            self.merged = Some(report);
            return Ok(());
        };
        if merged.commit_id != report.commit_id {
            return Err(ConvertError::at_start(
                input,
                &format!(
                    "commit {} is not the commit of the reports before it ({}): only reports of one run merge",
                    report.commit_id, merged.commit_id
                ),
            ));
        }
        let mut env_map = Vec::with_capacity(report.environments.len());
        for env in std::mem::take(&mut report.environments) {
            // One environment per name and metadata: shards of one configuration on machines
            // that differ in kernel release or such (`systemData`) are one environment.
            let same = |e: &flakiness_report::Environment| {
                e.name == env.name
                    && e.metadata == env.metadata
                    && e.user_supplied_data == env.user_supplied_data
            };
            let i = match merged.environments.iter().position(same) {
                Some(i) => i,
                None => {
                    merged.environments.push(env);
                    merged.environments.len() - 1
                }
            };
            env_map.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        if let Some(suites) = report.suites.take() {
            merge_suites(merged.suites.get_or_insert_with(Vec::new), suites, &env_map);
        }
        if let Some(tests) = report.tests.take() {
            merge_tests(merged.tests.get_or_insert_with(Vec::new), tests, &env_map);
        }
        if let Some(mut errors) = report.unattributed_errors.take() {
            merged
                .unattributed_errors
                .get_or_insert_with(Vec::new)
                .append(&mut errors);
        }
        for source in report.sources.take().into_iter().flatten() {
            let list = merged.sources.get_or_insert_with(Vec::new);
            if !list.iter().any(|s| s.file_path == source.file_path) {
                list.push(source);
            }
        }
        merged.start_timestamp.0 = merged.start_timestamp.0.min(report.start_timestamp.0);
        macro_rules! fill {
            ($($field:ident),*) => {$(
                if merged.$field.is_none() {
                    merged.$field = report.$field.take();
                }
            )*};
        }
        fill!(
            title,
            url,
            flakiness_project,
            test_runner,
            runtime,
            config_path,
            related_commit_ids
        );
        Ok(())
    }

    /// The files of the attachments the merged report refers to.
    pub fn attachments(&mut self) -> Vec<AttachmentSource> {
        std::mem::take(&mut self.attachments)
    }

    /// The merged report: the inputs' own commit, category, environments and metadata are
    /// kept (the command's options describe a run it converts, not reports it merges).
    pub fn into_report(self, meta: &Metadata, fallback_ms: f64) -> Report {
        let Some(mut r) = self.merged else {
            return crate::build_report(Vec::new(), Vec::new(), Vec::new(), fallback_ms, 0.0, meta);
        };
        r.duration.0 = (self.end_ms - r.start_timestamp.0).max(0.0);
        r
    }
}

crate::formats::reader!(ReportsCollector, ReportsCollector::into_report, attachments);
