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
use crate::typed::Typed;
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
        self.next_suite(|compiled, node, sink, semantic, path| {
            let mut walker = Walker::new(json.as_bytes(), 0, compiled, sink, Some(semantic));
            let ok = walker.run_part(node, path, 2);
            (ok, walker.sink, walker.semantic.unwrap_or_default())
        });
    }

    /// Checks the next element of the report's `suites` as the typed value the writer is about
    /// to serialise with `serde_json`, without its JSON text: the same checks as
    /// [`suite`](Self::suite) on that text (the data model read as serde_json writes it),
    /// except that whatever this walk cannot follow makes the report never clean here.
    pub fn suite_value<T: serde::Serialize + ?Sized>(&mut self, suite: &T) {
        self.next_suite(|compiled, node, sink, semantic, path| {
            let mut walker = Typed::new(compiled, sink, Some(semantic));
            let ok = walker.run_part(node, suite, path, 2);
            (ok, walker.sink, walker.semantic.unwrap_or_default())
        });
    }

    /// Counts the next element of `suites` and has `walk` check it (the suites' node, at
    /// `$.suites[i]`, two levels below the root), unless nothing can be clean any more.
    fn next_suite(
        &mut self,
        walk: impl FnOnce(&Compiled, NodeId, Sink, Semantic, &[Seg<'static>]) -> (bool, Sink, Semantic),
    ) {
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
        let path = [Seg::Prop("suites"), Seg::Index(index)];
        let (ok, sink, semantic) = walk(self.compiled, node, sink, semantic, &path);
        self.stopped |= !ok;
        self.sink = sink;
        self.semantic = semantic;
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
        clean_with(&Validator::new(Options::default()).expect("schema"), report)
    }

    fn clean_with(v: &Validator, report: &str) -> bool {
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
                clean_typed(&text),
                whole_clean,
                "typed, {what}: {outcome:?}"
            );
            assert_eq!(
                whole_clean,
                what.ends_with("(clean)"),
                "{what}: {outcome:?}"
            );
        }
    }

    /// `clean`, with each root suite checked as a typed value (`suite_value`).
    fn clean_typed(report: &str) -> bool {
        clean_typed_with(&Validator::new(Options::default()).expect("schema"), report)
    }

    fn clean_typed_with(v: &Validator, report: &str) -> bool {
        let (suites, rest) = parts(report);
        let mut inc = v.incremental();
        for s in &suites {
            let value: serde_json::Value = serde_json::from_str(s).expect("json");
            inc.suite_value(&value);
        }
        inc.finish(&rest, None)
    }

    /// Every report of testdata/ (fixtures and converters' expected outputs).
    fn testdata_reports() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry.expect("walk testdata");
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let is_report = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.contains_key("suites")))
                .unwrap_or(false);
            if is_report {
                out.push((path.display().to_string(), text));
            }
        }
        out
    }

    /// Replaces, one at a time, each value inside the report's suites (at most `limit`
    /// places) with each of a few others, and calls `f` with each report made.
    fn mutations(report: &str, limit: usize, f: &mut dyn FnMut(&str, String)) {
        let value: serde_json::Value = serde_json::from_str(report).expect("json");
        let mut places = Vec::new();
        fn walk(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
            out.push(at.clone());
            match v {
                serde_json::Value::Object(o) => {
                    for (k, x) in o {
                        walk(
                            x,
                            format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                            out,
                        );
                    }
                }
                serde_json::Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        walk(x, format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        if let Some(suites) = value.get("suites") {
            walk(suites, "/suites".into(), &mut places);
        }
        let step = places.len().div_ceil(limit.max(1)).max(1);
        let replacements = [
            serde_json::json!(null),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!(7),
            serde_json::json!(""),
            serde_json::json!("passed"),
            serde_json::json!("../x"),
            serde_json::json!("x".repeat(1100)),
            serde_json::json!(true),
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({"text": "t", "buffer": "!!"}),
            serde_json::json!({"buffer": "aGk="}),
        ];
        for place in places.iter().step_by(step) {
            for r in &replacements {
                let mut changed = value.clone();
                if let Some(slot) = changed.pointer_mut(place) {
                    *slot = r.clone();
                    f(&format!("{place} = {r}"), changed.to_string());
                }
            }
            // The place removed from its object.
            let (parent, key) = place.rsplit_once('/').unwrap_or(("", ""));
            let mut changed = value.clone();
            if let Some(serde_json::Value::Object(o)) = changed.pointer_mut(parent) {
                o.remove(&key.replace("~1", "/").replace("~0", "~"));
                f(&format!("{place} removed"), changed.to_string());
            }
        }
    }

    /// The typed walk of each suite gives the verdict the walk of its JSON text gives, on
    /// every report of testdata/ and on thousands of reports changed from them in one place.
    #[test]
    fn the_typed_walk_agrees_with_the_text_walk() {
        let v = Validator::new(Options::default()).expect("schema");
        let reports = testdata_reports();
        assert!(reports.len() > 40, "testdata reports: {}", reports.len());
        let (mut clean_seen, mut dirty_seen, mut compared) = (0, 0, 0);
        for (name, text) in &reports {
            let mut compare = |what: &str, report: String| {
                let expected = clean_with(&v, &report);
                assert_eq!(clean_typed_with(&v, &report), expected, "{name}: {what}");
                if expected {
                    clean_seen += 1;
                } else {
                    dirty_seen += 1;
                }
                compared += 1;
            };
            compare("as it is", text.clone());
            mutations(text, 40, &mut compare);
        }
        assert!(compared > 10_000, "{compared} reports compared");
        assert!(
            clean_seen > 100 && dirty_seen > 1_000,
            "{clean_seen} clean, {dirty_seen} not"
        );
    }

    /// The model's own types walk as their JSON does.
    #[test]
    fn the_models_suites_walk_as_their_json() {
        let v = Validator::new(Options::default()).expect("schema");
        let mut walked = 0;
        for (name, text) in testdata_reports() {
            let Ok(report) = serde_json::from_str::<flakiness_report::Report>(&text) else {
                continue;
            };
            let suites = report.suites.clone().unwrap_or_default();
            let mut rest = report.clone();
            rest.suites = None;
            let rest = serde_json::to_string(&rest).expect("rest");
            let (mut a, mut b) = (v.incremental(), v.incremental());
            for s in &suites {
                a.suite(&serde_json::to_string(s).expect("suite"));
                b.suite_value(s);
            }
            assert_eq!(b.finish(&rest, None), a.finish(&rest, None), "{name}");
            walked += 1;
        }
        assert!(walked > 30, "{walked} reports read as the model");
    }

    #[test]
    fn the_typed_walk_follows_serde_jsons_mapping() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Attempt {
            environment_idx: f64,
            status: Status,
            start_timestamp: Option<f64>,
            duration: f64,
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "lowercase")]
        enum Status {
            Passed,
        }
        #[derive(serde::Serialize)]
        struct Test {
            title: String,
            attempts: Vec<Attempt>,
        }
        #[derive(serde::Serialize)]
        struct Suite {
            #[serde(rename = "type")]
            kind: &'static str,
            title: String,
            tests: Vec<Test>,
        }
        let v = Validator::new(Options::default()).expect("schema");
        let (_, rest) = parts(&report(&[], 1));
        let check = |start: Option<f64>, duration: f64| {
            let suite = Suite {
                kind: "file",
                title: "a".into(),
                tests: vec![Test {
                    title: "t".into(),
                    attempts: vec![Attempt {
                        environment_idx: 0.0,
                        status: Status::Passed,
                        start_timestamp: start,
                        duration,
                    }],
                }],
            };
            let mut typed = v.incremental();
            typed.suite_value(&suite);
            let mut text = v.incremental();
            text.suite(&serde_json::to_string(&suite).expect("json"));
            let (typed, text) = (typed.finish(&rest, None), text.finish(&rest, None));
            assert_eq!(typed, text, "{start:?} {duration}");
            typed
        };
        assert!(check(Some(1.0), 2.0));
        // `null` where a number goes, as serde_json writes `None` and NaN.
        assert!(!check(None, 2.0));
        assert!(!check(Some(1.0), f64::NAN));
        assert!(!check(Some(1.0), f64::INFINITY));
        assert!(!check(Some(1.0), -2.0));
    }

    /// A JSON value whose objects write their members in any order, repeats included, by
    /// `serialize_entry` or by `serialize_key` then `serialize_value` (`split`).
    enum Tree {
        Leaf(serde_json::Value),
        Array(Vec<Tree>),
        Object { members: Members, split: bool },
    }

    impl serde::Serialize for Tree {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{SerializeMap, SerializeSeq};
            match self {
                Tree::Leaf(v) => v.serialize(s),
                Tree::Array(items) => {
                    let mut seq = s.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(item)?;
                    }
                    seq.end()
                }
                Tree::Object { members, split } => {
                    let mut map = s.serialize_map(None)?;
                    for (k, v) in members {
                        if *split {
                            map.serialize_key(k)?;
                            map.serialize_value(v)?;
                        } else {
                            map.serialize_entry(k, v)?;
                        }
                    }
                    map.end()
                }
            }
        }
    }

    /// The members of an object of a [`Tree`].
    type Members = Vec<(String, Tree)>;

    /// A change made to the members of every object of a [`Tree`].
    type Change<'c> = &'c dyn Fn(&mut Members);

    /// `value` as a [`Tree`], each object's members changed by `members`.
    fn tree(value: &serde_json::Value, split: bool, members: Change<'_>) -> Tree {
        match value {
            serde_json::Value::Array(items) => Tree::Array(
                items
                    .iter()
                    .map(|item| tree(item, split, members))
                    .collect(),
            ),
            serde_json::Value::Object(o) => {
                let mut list: Members = o
                    .iter()
                    .map(|(k, v)| (k.clone(), tree(v, split, members)))
                    .collect();
                members(&mut list);
                Tree::Object {
                    members: list,
                    split,
                }
            }
            leaf => Tree::Leaf(leaf.clone()),
        }
    }

    /// The typed walk finds object members by name wherever they are: in the schema's order
    /// or another, among unknown ones, given twice (a JSON error), each given as one entry or
    /// as a key then a value; its verdicts are the text walk's, on every report of testdata/.
    #[test]
    fn members_are_found_in_any_order() {
        let v = Validator::new(Options::default()).expect("schema");
        let reverse = |m: &mut Members| m.reverse();
        let unknown = |m: &mut Members| {
            m.insert(0, ("zzz".into(), Tree::Leaf(serde_json::json!(1))));
            m.insert(
                m.len() / 2,
                ("tex".into(), Tree::Leaf(serde_json::json!([]))),
            );
        };
        let rotate = |m: &mut Members| {
            let half = m.len() / 2;
            m.rotate_left(half);
        };
        let repeat = |m: &mut Members| {
            if let Some((k, Tree::Leaf(v))) = m.last() {
                let again = (k.clone(), Tree::Leaf(v.clone()));
                m.insert(0, again);
            }
        };
        let changes: [(&str, Change<'_>); 5] = [
            ("as it is", &|_| {}),
            ("reversed", &reverse),
            ("with unknown members", &unknown),
            ("rotated", &rotate),
            ("a member repeated", &repeat),
        ];
        let (mut clean_seen, mut dirty_seen) = (0, 0);
        for (name, text) in testdata_reports() {
            let (suites, rest) = parts(&text);
            for (what, change) in &changes {
                for split in [false, true] {
                    let (mut typed, mut written) = (v.incremental(), v.incremental());
                    for s in &suites {
                        let value: serde_json::Value = serde_json::from_str(s).expect("json");
                        let t = tree(&value, split, *change);
                        typed.suite_value(&t);
                        written.suite(&serde_json::to_string(&t).expect("json"));
                    }
                    let expected = written.finish(&rest, None);
                    assert_eq!(typed.finish(&rest, None), expected, "{name}: {what}");
                    if expected {
                        clean_seen += 1;
                    } else {
                        dirty_seen += 1;
                    }
                }
            }
        }
        assert!(
            clean_seen > 50 && dirty_seen > 50,
            "{clean_seen} {dirty_seen}"
        );
    }

    /// Keys that serde_json reads as strings (a char, a unit variant, a newtype or an option
    /// around a string) are looked up as those strings; any other makes the walk unsure.
    #[test]
    fn keys_that_are_no_strings() {
        #[derive(serde::Serialize)]
        enum Key {
            #[serde(rename = "type")]
            Type,
        }
        #[derive(serde::Serialize)]
        struct Named(&'static str);
        /// SUITE_B with the key of its `type` given as `K`.
        struct Suite<K>(K);
        impl<K: serde::Serialize> serde::Serialize for Suite<K> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry(&self.0, "file")?;
                map.serialize_entry("title", "b.spec.ts")?;
                map.serialize_entry("tests", &[0u8; 0])?;
                map.end()
            }
        }
        fn verdicts<K: serde::Serialize>(key: K) -> (bool, Option<bool>) {
            let v = Validator::new(Options::default()).expect("schema");
            let (_, rest) = parts(&report(&[], 1));
            let suite = Suite(key);
            let mut typed = v.incremental();
            typed.suite_value(&suite);
            let written = serde_json::to_string(&suite).ok().map(|json| {
                let mut text = v.incremental();
                text.suite(&json);
                text.finish(&rest, None)
            });
            (typed.finish(&rest, None), written)
        }
        assert_eq!(verdicts("type"), (true, Some(true)));
        assert_eq!(verdicts(Key::Type), (true, Some(true)));
        assert_eq!(verdicts(Named("type")), (true, Some(true)));
        assert_eq!(verdicts(Some("type")), (true, Some(true)));
        // A key that is not in the schema: `type` is missing.
        assert_eq!(verdicts('t'), (false, Some(false)));
        assert_eq!(verdicts("typ"), (false, Some(false)));
        // Not followed: never clean.
        assert!(!verdicts(7u8).0);
        assert!(!verdicts(true).0);
        assert!(!verdicts(("type", 1)).0);
        assert!(!verdicts(Option::<&str>::None).0);
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
