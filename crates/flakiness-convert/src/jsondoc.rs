//! Helpers of the readers of single-document JSON reports (RSpec, Mocha, mochawesome).

use std::collections::HashMap;

use flakiness_report::{Location, Suite, SuiteType, Test};
use serde::de::DeserializeOwned;

use crate::{push_bounded, ConvertError, Limits};

/// Where a test belongs: its file, the titles of its group suites (outermost first), its
/// title.
pub(crate) type Key = (Option<String>, Vec<String>, String);

/// Tests by [`Key`], in the order they first came: the same key again is the same test (more
/// attempts), and tests that share a file and groups share those suites.
#[derive(Debug, Default)]
pub(crate) struct TestTree {
    tests: Vec<(Key, Test)>,
    by_key: HashMap<Key, usize>,
}

/// A suite being built.
#[derive(Default)]
struct Node {
    suite: Suite,
    children: Vec<usize>,
    by_title: HashMap<String, usize>,
}

impl TestTree {
    /// The test of a key, made (with no attempts) when it is new.
    pub(crate) fn test(&mut self, key: Key) -> &mut Test {
        let i = match self.by_key.get(&key) {
            Some(&i) => i,
            None => {
                self.tests.push((key.clone(), Test::new(key.2.clone())));
                self.by_key.insert(key, self.tests.len() - 1);
                self.tests.len() - 1
            }
        };
        &mut self.tests[i].1
    }

    /// The suites (a `file` suite per file, holding the group suites) and the tests that have
    /// neither file nor group.
    pub(crate) fn into_suites(self) -> (Vec<Suite>, Vec<Test>) {
        // Node 0 is the report's root.
        let mut nodes: Vec<Node> = vec![Node::default()];
        let mut files: HashMap<String, usize> = HashMap::new();
        let mut root_tests = Vec::new();
        for ((file, groups, _), test) in self.tests {
            let mut at = match file {
                Some(f) => *files.entry(f.clone()).or_insert_with(|| {
                    let mut s = Suite::new(SuiteType::File, f.clone());
                    s.location = Some(Location::new(f, 0, 0));
                    nodes.push(Node {
                        suite: s,
                        ..Node::default()
                    });
                    let i = nodes.len() - 1;
                    nodes[0].children.push(i);
                    i
                }),
                None if groups.is_empty() => {
                    root_tests.push(test);
                    continue;
                }
                None => 0,
            };
            for g in groups {
                at = match nodes[at].by_title.get(&g) {
                    Some(&c) => c,
                    None => {
                        nodes.push(Node {
                            suite: Suite::new(SuiteType::Suite, g.clone()),
                            ..Node::default()
                        });
                        let c = nodes.len() - 1;
                        nodes[at].children.push(c);
                        nodes[at].by_title.insert(g, c);
                        c
                    }
                };
            }
            nodes[at]
                .suite
                .tests
                .get_or_insert_with(Vec::new)
                .push(test);
        }
        // Children come after their parents: build from the last node back.
        let mut built: Vec<Option<Suite>> = vec![None; nodes.len()];
        for i in (1..nodes.len()).rev() {
            let node = std::mem::take(&mut nodes[i]);
            let mut suite = node.suite;
            let children: Vec<Suite> = node
                .children
                .iter()
                .filter_map(|&c| built[c].take())
                .collect();
            if !children.is_empty() {
                suite.suites = Some(children);
            }
            built[i] = Some(suite);
        }
        let suites = nodes[0]
            .children
            .iter()
            .filter_map(|&c| built[c].take())
            .collect();
        (suites, root_tests)
    }
}

/// The one JSON document of an input, read as `T`.
///
/// Runners that write their report to standard output share it with the tests' own output
/// (`mocha --reporter json > out.json`, `rspec --format json > out.json` with `puts` in the
/// tests, SimpleCov's summary after RSpec's): the document is the object that starts a line,
/// text before it and after it is skipped. Every line that starts with `{` is tried, in order;
/// the first that reads as `T` is the document. When none does, the error is the one that got
/// furthest into the input (the document that is there, broken), said with `what` (`not an
/// RSpec JSON report`).
pub(crate) fn json_document<T: DeserializeOwned>(
    data: &[u8],
    input: &str,
    what: &str,
) -> Result<T, ConvertError> {
    let bom = if data.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut candidates = Vec::new();
    if let Some(first) = data[bom..].iter().position(|b| !b.is_ascii_whitespace()) {
        if data[bom + first] == b'{' {
            candidates.push(bom + first);
        }
    }
    let mut furthest: Option<(usize, String)> = None;
    let mut tried = 0usize;
    let mut next_line = 0usize;
    loop {
        // The candidates are found lazily: most inputs are the document alone.
        let at = if tried < candidates.len() {
            candidates[tried]
        } else {
            let mut found = None;
            while let Some(nl) = memchr::memchr(b'\n', &data[next_line..]) {
                let start = next_line + nl + 1;
                next_line = start;
                if data.get(start) == Some(&b'{') && !candidates.contains(&start) {
                    found = Some(start);
                    break;
                }
            }
            match found {
                Some(s) => {
                    candidates.push(s);
                    s
                }
                None => break,
            }
        };
        tried += 1;
        let slice = &data[at..];
        let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<T>();
        match stream.next() {
            Some(Ok(doc)) => return Ok(doc),
            Some(Err(e)) => {
                let offset = at + offset_of(slice, e.line(), e.column());
                if furthest.as_ref().is_none_or(|(o, _)| offset > *o) {
                    furthest = Some((offset, e.to_string()));
                }
            }
            None => {}
        }
    }
    Err(match furthest {
        Some((offset, e)) => {
            ConvertError::at(input, offset as u64, format!("{what} ({e})")).locate(data)
        }
        None => ConvertError::at_start(input, &format!("{what}: no JSON object found")),
    })
}

/// The byte offset of a 1-based line and column (as serde_json gives them).
fn offset_of(data: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &data[start..]) {
            Some(i) => start += i + 1,
            None => return data.len(),
        }
    }
    (start + column.saturating_sub(1)).min(data.len())
}

/// `text` cut to the output limit.
pub(crate) fn bounded(text: &str, limits: &Limits) -> String {
    let mut s = String::new();
    push_bounded(&mut s, text, limits.max_output_bytes);
    s
}

/// The offset of the first occurrence of `needle` (as a JSON string) in `data`, 0 when absent:
/// where an error about a value read from the document is said.
pub(crate) fn offset_of_string(data: &[u8], needle: &str) -> u64 {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    memchr::memmem::find(data, quoted.as_bytes()).unwrap_or(0) as u64
}

/// A duration in seconds, as milliseconds, when it is one.
pub(crate) fn seconds_ms(s: Option<f64>) -> Option<f64> {
    s.filter(|s| s.is_finite() && *s >= 0.0).map(|s| s * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::json_document;

    #[derive(serde::Deserialize, Debug)]
    struct Doc {
        stats: u32,
    }

    #[test]
    fn the_document_is_found_among_other_output() {
        let d: Doc = json_document(b"{\"stats\": 1}", "x", "not it").expect("alone");
        assert_eq!(d.stats, 1);
        let text = b"hello\n{\"logged\": true}\n{\n  \"stats\": 2\n}\nCoverage: 90%\n";
        let d: Doc = json_document(text, "x", "not it").expect("among output");
        assert_eq!(d.stats, 2);
        let e = json_document::<Doc>(b"log\n{\"a\": 1}\n{\n  \"stats\": [\n", "x", "not it")
            .expect_err("broken");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with("x:4:"), "{e}");
        let e = json_document::<Doc>(b"plain text\n", "x", "not it").expect_err("none");
        assert!(e.to_string().contains("no JSON object"), "{e}");
    }
}
