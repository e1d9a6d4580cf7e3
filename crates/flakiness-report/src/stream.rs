//! A report read one test at a time: [`for_each_test`] hands every [`Test`] to a callback as
//! soon as it is parsed and keeps only the report's own fields and its suites' headers, so a
//! 200 MB report is read in the memory of its largest test instead of many times its size.
//!
//! The values are the model's own types: the report and each suite are deserialized as
//! [`Report`] and [`Suite`] with `suites` and `tests` left out, each test as a whole [`Test`].

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::{Report, Suite, Test};

/// A suite met by [`for_each_test`], in document order (pre-order: a suite comes before the
/// suites it contains).
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteHeader {
    /// Index of the enclosing suite in [`StreamedReport::suites`]; `None` at the top level.
    pub parent: Option<usize>,
    /// The suite, with `suites` and `tests` left out (`None`).
    pub suite: Suite,
}

/// What [`for_each_test`] keeps of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedReport {
    /// The report, with `suites` and `tests` left out (`None`).
    pub report: Report,
    /// Every suite, in document order (pre-order).
    pub suites: Vec<SuiteHeader>,
}

/// Reads `report.json` bytes, calling `on_test(suite, test)` for every test in document order,
/// where `suite` is the index of its suite in [`StreamedReport::suites`] (`None` for the
/// report's top-level tests). The suite's header may not be complete yet when its tests are
/// seen (JSON keys come in any order); it is once this returns.
///
/// ```
/// let json = br#"{"category":"junit","commitId":"c","environments":[{"name":"linux"}],
///   "startTimestamp":0,"duration":5,
///   "suites":[{"type":"file","title":"a.rs","tests":[{"title":"t","attempts":[{"environmentIdx":0}]}]}]}"#;
/// let mut titles = Vec::new();
/// let streamed = flakiness_report::for_each_test(json, |suite, test| {
///     titles.push((suite, test.title));
/// })?;
/// assert_eq!(titles, [(Some(0), "t".to_string())]);
/// assert_eq!(streamed.suites[0].suite.title, "a.rs");
/// assert_eq!(streamed.report.environments[0].name, "linux");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn for_each_test(
    json: &[u8],
    mut on_test: impl FnMut(Option<usize>, Test),
) -> Result<StreamedReport, serde_json::Error> {
    let mut state = State {
        suites: Vec::new(),
        on_test: &mut on_test,
    };
    let json = crate::json_text::replace_lone_surrogates(json);
    let mut de = serde_json::Deserializer::from_slice(&json);
    let report = Node {
        state: &mut state,
        parent: None,
        is_report: true,
    }
    .deserialize(&mut de)?;
    de.end()?;
    let NodeOut::Report(report) = report else {
        return Err(de::Error::custom("the report is not an object"));
    };
    let suites = state
        .suites
        .into_iter()
        .map(|(parent, suite)| {
            suite
                .map(|suite| SuiteHeader { parent, suite })
                .ok_or_else(|| de::Error::custom("a suite was not read"))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(StreamedReport {
        report: *report,
        suites,
    })
}

struct State<'f> {
    /// `(parent, header)` per suite; the header is `None` until the suite's object ends.
    suites: Vec<(Option<usize>, Option<Suite>)>,
    on_test: &'f mut dyn FnMut(Option<usize>, Test),
}

/// The report object (`is_report`) or a suite object under `parent`.
struct Node<'s, 'f> {
    state: &'s mut State<'f>,
    parent: Option<usize>,
    is_report: bool,
}

enum NodeOut {
    Report(Box<Report>),
    Suite,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = NodeOut;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<NodeOut, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = NodeOut;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.is_report {
            "a report object"
        } else {
            "a suite object"
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeOut, A::Error> {
        // A suite's index is taken before its content, so that its tests can name it.
        let me = if self.is_report {
            None
        } else {
            self.state.suites.push((self.parent, None));
            Some(self.state.suites.len() - 1)
        };
        let mut rest = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "suites" => map.next_value_seed(List {
                    state: &mut *self.state,
                    at: me,
                    items: Items::Suites,
                })?,
                "tests" => map.next_value_seed(List {
                    state: &mut *self.state,
                    at: me,
                    items: Items::Tests,
                })?,
                _ => {
                    let value: Value = map.next_value()?;
                    rest.insert(key, value);
                }
            }
        }
        let rest = Value::Object(rest);
        match me {
            None => serde_json::from_value::<Report>(rest)
                .map(|r| NodeOut::Report(Box::new(r)))
                .map_err(de::Error::custom),
            Some(i) => {
                let suite = serde_json::from_value::<Suite>(rest).map_err(de::Error::custom)?;
                self.state.suites[i].1 = Some(suite);
                Ok(NodeOut::Suite)
            }
        }
    }
}

/// What a [`List`] holds.
#[derive(Clone, Copy)]
enum Items {
    /// Suites under the suite `at`.
    Suites,
    /// Tests of the suite `at`, each handed to the callback.
    Tests,
}

/// A `suites` or `tests` array (or `null`) of the suite `at` (`None`: the report).
struct List<'s, 'f> {
    state: &'s mut State<'f>,
    at: Option<usize>,
    items: Items,
}

impl<'de> DeserializeSeed<'de> for List<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self.items {
            Items::Suites => "an array of suites",
            Items::Tests => "an array of tests",
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.items {
            Items::Suites => {
                while seq
                    .next_element_seed(Node {
                        state: &mut *self.state,
                        parent: self.at,
                        is_report: false,
                    })?
                    .is_some()
                {}
            }
            Items::Tests => {
                while let Some(test) = seq.next_element::<Test>()? {
                    (self.state.on_test)(self.at, test);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuilds the report from what was streamed: the same as the model reads.
    fn rebuild(bytes: &[u8]) -> Report {
        let mut tests: Vec<(Option<usize>, Test)> = Vec::new();
        let streamed = for_each_test(bytes, |s, t| tests.push((s, t))).expect("stream");
        let mut report = streamed.report;
        let n = streamed.suites.len();
        let mut suites: Vec<Option<Suite>> = streamed
            .suites
            .iter()
            .map(|h| Some(h.suite.clone()))
            .collect();
        for (s, t) in tests {
            match s {
                None => report.tests.get_or_insert_with(Vec::new).push(t),
                Some(i) => suites[i]
                    .as_mut()
                    .expect("suite")
                    .tests
                    .get_or_insert_with(Vec::new)
                    .push(t),
            }
        }
        // Children after parents in pre-order: attach from the last one back.
        for i in (0..n).rev() {
            let suite = suites[i].take().expect("suite");
            match streamed.suites[i].parent {
                None => report.suites.get_or_insert_with(Vec::new).insert(0, suite),
                Some(p) => suites[p]
                    .as_mut()
                    .expect("parent")
                    .suites
                    .get_or_insert_with(Vec::new)
                    .insert(0, suite),
            }
        }
        report
    }

    #[test]
    fn every_valid_fixture_streams_to_the_model() {
        let mut checked = 0;
        for (file, bytes) in crate::valid_fixtures() {
            let mut model: Report = serde_json::from_slice(&bytes).expect("model");
            // Empty arrays are kept by the model and not rebuilt: compare without them.
            fn prune(suites: &mut Option<Vec<Suite>>) {
                if let Some(list) = suites {
                    for s in list.iter_mut() {
                        if s.tests.as_ref().is_some_and(|t| t.is_empty()) {
                            s.tests = None;
                        }
                        prune(&mut s.suites);
                    }
                    if list.is_empty() {
                        *suites = None;
                    }
                }
            }
            prune(&mut model.suites);
            if model.tests.as_ref().is_some_and(|t| t.is_empty()) {
                model.tests = None;
            }
            let mut rebuilt = rebuild(&bytes);
            prune(&mut rebuilt.suites);
            assert_eq!(rebuilt, model, "{}", file.display());
            checked += 1;
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn tests_before_the_suite_header_and_nulls() {
        let json = br#"{"tests":null,"suites":[{"tests":[{"title":"t","attempts":[]}],
            "suites":[{"type":"suite","title":"inner","suites":null}],"type":"file","title":"f"}],
            "category":"c","commitId":"x","environments":[],"startTimestamp":0,"duration":0,"x-extra":1}"#;
        let mut seen = Vec::new();
        let s = for_each_test(json, |i, t| seen.push((i, t.title))).expect("stream");
        assert_eq!(seen, [(Some(0), "t".to_string())]);
        assert_eq!(s.suites.len(), 2);
        assert_eq!(s.suites[0].suite.title, "f");
        assert_eq!(s.suites[1].parent, Some(0));
        assert_eq!(s.suites[1].suite.title, "inner");
        assert!(s.report.extra.contains_key("x-extra"));
    }

    #[test]
    fn bad_input_is_an_error_with_a_line() {
        for (json, what) in [
            (&br#"{"suites":[{"title":"no type"}]}"#[..], "type"),
            (br#"[1]"#, "report object"),
            (br#"{"suites":[{"type":"file","title":"f","tests":[{"attempts":[]}]}]}"#, "title"),
            (br#"{"category":"c","commitId":"x","environments":[],"startTimestamp":0,"duration":0} x"#, "trailing"),
            (br#"{"suites":[{"type":"file","#, "EOF"),
        ] {
            let e = for_each_test(json, |_, _| {}).expect_err(what);
            assert!(e.to_string().contains(what), "{what}: {e}");
            assert!(e.line() >= 1, "{e}");
        }
    }
}
