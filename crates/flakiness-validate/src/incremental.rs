//! A report checked while it is written, one root suite at a time.
//!
//! A writer that streams `report.json` (its `suites` first, then every other member) hands each
//! root suite's JSON text here as it writes it, then the rest of the report: the same walk as
//! [`Validator::validate_file`] makes, on text that is still in memory, on the writer's thread,
//! instead of reading the whole file back afterwards. It answers one question: was anything at
//! all found? When something was, the writer validates the written file the usual way, which
//! gives the problems with their lines and paths.

use std::path::Path;

use crate::compile::{Compiled, Kind, NodeId};
use crate::problem::Sink;
use crate::semantic::Semantic;
use crate::stream::{Seg, Walker};
use crate::Validator;

/// Checks a report as it is written: see [`Validator::incremental`].
#[derive(Debug)]
pub struct Incremental<'v> {
    compiled: &'v Compiled,
    /// The schema of an element of the report's `suites`; `None` when the validator cannot
    /// check parts (then nothing is ever clean).
    suite_node: Option<NodeId>,
    semantic: Semantic,
    sink: Sink,
    suites: usize,
    /// The walk stopped on a fatal problem (invalid JSON, too deep), or a suite was not seen.
    stopped: bool,
}

impl Validator {
    /// Starts checking a report written a root suite at a time (see the module
    /// [`incremental`](crate::incremental)): give it each element of `suites` with
    /// [`Incremental::suite`], then the rest with [`Incremental::finish`]. With the
    /// `jsonschema` engine nothing is checked here and [`Incremental::finish`] answers false
    /// (validate the file).
    pub fn incremental(&self) -> Incremental<'_> {
        let compiled = &self.compiled;
        let suite_node = (self.jsonschema.is_none())
            .then(|| suites_item(compiled))
            .flatten();
        Incremental {
            compiled,
            suite_node,
            semantic: Semantic::default(),
            sink: Sink::new(0),
            suites: 0,
            stopped: false,
        }
    }
}

/// The node of the items of the root's `suites` array.
fn suites_item(compiled: &Compiled) -> Option<NodeId> {
    let root = &compiled.nodes[compiled.root];
    let Kind::Object { props, .. } = &root.kind else {
        return None;
    };
    let (_, array) = props.iter().find(|(name, _)| name == "suites")?;
    let node = &compiled.nodes[*array];
    match &node.kind {
        Kind::Array {
            prefix,
            items: Some(items),
            ..
        } if prefix.is_empty() && node.any_of.is_empty() && root.any_of.is_empty() => Some(*items),
        _ => None,
    }
}

impl Incremental<'_> {
    /// Checks the next element of the report's `suites`: one root suite as JSON text.
    pub fn suite(&mut self, json: &str) {
        let index = self.suites;
        self.suites += 1;
        let Some(node) = self.suite_node else {
            return;
        };
        if self.stopped {
            return;
        }
        let sink = std::mem::replace(&mut self.sink, Sink::new(0));
        let semantic = std::mem::take(&mut self.semantic);
        let mut walker = Walker::new(json.as_bytes(), 0, self.compiled, sink, Some(semantic));
        // `$.suites[i]`: two levels below the root.
        let ok = walker.run_part(node, &[Seg::Prop("suites"), Seg::Index(index)], 2);
        self.stopped |= !ok;
        self.sink = walker.sink;
        self.semantic = walker.semantic.unwrap_or_default();
    }

    /// Counts the next element of `suites` as one not seen (too long to be held): the check
    /// can then never answer clean.
    pub fn suite_not_seen(&mut self) {
        self.suites += 1;
        self.stopped = true;
    }

    /// Root suites given so far.
    pub fn suites(&self) -> usize {
        self.suites
    }

    /// Checks the rest of the report, `rest`: the report object without its `suites` (as JSON
    /// text), then what needs the whole report (environment indexes, duplicate tests) and,
    /// when `attachments` names the folder beside the report, that every referenced
    /// attachment is there and nothing else is. True when nothing at all was found: no error
    /// and no warning.
    pub fn finish(mut self, rest: &str, attachments: Option<&Path>) -> bool {
        if self.suite_node.is_none() || self.stopped {
            return false;
        }
        let semantic = std::mem::take(&mut self.semantic);
        let mut walker = Walker::new(rest.as_bytes(), 0, self.compiled, self.sink, Some(semantic));
        if !walker.run_part(self.compiled.root, &[], 0) {
            return false;
        }
        let (mut sink, Some(mut semantic)) = (walker.sink, walker.semantic) else {
            return false;
        };
        semantic.finish(&mut sink);
        if let Some(dir) = attachments {
            // No message is kept here (the sink keeps none): paths are never asked for.
            crate::check_attachments(dir, &semantic, &mut sink, &|_| Vec::new());
        }
        sink.error_count == 0 && sink.warning_count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;

    /// Splits a report into the JSON of its root suites and of the rest, as a streaming
    /// writer writes them.
    fn parts(report: &str) -> (Vec<String>, String) {
        let mut value: serde_json::Value = serde_json::from_str(report).expect("json");
        let suites = value
            .as_object_mut()
            .and_then(|o| o.remove("suites"))
            .and_then(|s| s.as_array().cloned())
            .unwrap_or_default();
        (
            suites.iter().map(|s| s.to_string()).collect(),
            value.to_string(),
        )
    }

    fn clean(report: &str) -> bool {
        let v = Validator::new(Options::default()).expect("schema");
        let (suites, rest) = parts(report);
        let mut inc = v.incremental();
        for s in &suites {
            inc.suite(s);
        }
        inc.finish(&rest, None)
    }

    const SUITE: &str = r#"{"type":"file","title":"a.spec.ts","location":{"file":"a.spec.ts","line":0,"column":0},"tests":[{"title":"works","attempts":[{"environmentIdx":0,"status":"passed","startTimestamp":1,"duration":2}]}]}"#;

    const SUITE_B: &str = r#"{"type":"file","title":"b.spec.ts","tests":[]}"#;

    fn report(suites: &[&str], envs: usize) -> String {
        let envs = vec![r#"{"name":"e"}"#; envs].join(",");
        format!(
            r#"{{"category":"junit","commitId":"0123456789abcdef0123456789abcdef01234567","environments":[{envs}],"suites":[{}],"startTimestamp":1,"duration":2}}"#,
            suites.join(",")
        )
    }

    #[test]
    fn agrees_with_the_whole_file_walk() {
        let v = Validator::new(Options::default()).expect("schema");
        let bad_status = SUITE.replace("\"passed\"", "\"fine\"");
        let bad_env = SUITE.replace("\"environmentIdx\":0", "\"environmentIdx\":3");
        let unsafe_id = SUITE.replace(
            "\"duration\":2}",
            "\"duration\":2,\"attachments\":[{\"name\":\"a\",\"contentType\":\"text/plain\",\"id\":\"../x\"}]}",
        );
        let cases = [
            (report(&[SUITE], 1), "valid (clean)"),
            (
                report(&[SUITE, &SUITE.replace("a.spec", "b.spec")], 1),
                "two suites (clean)",
            ),
            (
                report(&[SUITE, SUITE], 1),
                "the same test twice (a warning)",
            ),
            (report(&[&bad_status], 1), "a status not in the enum"),
            (report(&[&bad_env], 1), "an environment index out of range"),
            (report(&[SUITE], 0), "no environment (a warning)"),
            (report(&[&unsafe_id], 1), "an unsafe attachment id"),
            (
                report(&[], 1).replace("\"commitId\"", "\"commit\""),
                "a missing commit id",
            ),
        ];
        for (text, what) in cases {
            let outcome = v.validate_bytes(text.as_bytes());
            let whole_clean = outcome.errors.is_empty()
                && outcome.warnings.is_empty()
                && outcome.errors_omitted == 0
                && outcome.warnings_omitted == 0;
            assert_eq!(clean(&text), whole_clean, "{what}: {outcome:?}");
            assert_eq!(
                whole_clean,
                what.ends_with("(clean)"),
                "{what}: {outcome:?}"
            );
        }
    }

    #[test]
    fn a_broken_suite_is_never_clean() {
        let text = report(&[SUITE], 1);
        let (_, rest) = parts(&text);
        let v = Validator::new(Options::default()).expect("schema");
        let mut inc = v.incremental();
        inc.suite(&SUITE[..SUITE.len() - 1]);
        assert!(!inc.finish(&rest, None));
        let mut inc = v.incremental();
        inc.suite(&format!("{SUITE} {{}}"));
        assert!(!inc.finish(&rest, None));
    }

    #[test]
    fn attachments_are_checked_against_the_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let with = SUITE.replace(
            "\"duration\":2}",
            "\"duration\":2,\"attachments\":[{\"name\":\"a\",\"contentType\":\"text/plain\",\"id\":\"abc\"}]}",
        );
        let text = report(&[&with], 1);
        let (suites, rest) = parts(&text);
        let v = Validator::new(Options::default()).expect("schema");
        let run = |v: &Validator| {
            let mut inc = v.incremental();
            inc.suite(&suites[0]);
            inc.finish(&rest, Some(dir.path()))
        };
        assert!(!run(&v), "abc is missing");
        std::fs::write(dir.path().join("abc"), "x").expect("write");
        assert!(run(&v));
        std::fs::write(dir.path().join("other"), "x").expect("write");
        assert!(!run(&v), "an unreferenced file is a warning");
    }

    #[test]
    fn a_suite_not_seen_is_never_clean() {
        let (suites, rest) = parts(&report(&[SUITE, SUITE_B], 1));
        let v = Validator::new(Options::default()).expect("schema");
        let mut inc = v.incremental();
        inc.suite(&suites[0]);
        inc.suite_not_seen();
        assert_eq!(inc.suites(), 2);
        assert!(!inc.finish(&rest, None));
    }

    #[test]
    fn the_jsonschema_engine_never_answers_clean() {
        let v = Validator::new(Options {
            engine: crate::Engine::JsonSchema,
            ..Options::default()
        })
        .expect("schema");
        let (suites, rest) = parts(&report(&[SUITE], 1));
        let mut inc = v.incremental();
        inc.suite(&suites[0]);
        assert!(!inc.finish(&rest, None));
    }
}
