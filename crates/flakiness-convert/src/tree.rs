//! The suites of a report built from where each test belongs (its file, the titles of its
//! groups, its title): what the readers of formats without a suite tree of their own share
//! (pytest, Jest/Vitest, RSpec, Mocha).

use std::collections::HashMap;
use std::hash::BuildHasher;

use flakiness_report::{Location, Suite, SuiteType, Test};
use hashbrown::{DefaultHashBuilder, HashTable};

/// Where a test belongs: its file, the titles of its group suites (outermost first), its
/// title.
pub(crate) type Key = (Option<String>, Vec<String>, String);

/// Tests by [`Key`], in the order they first came: the same key again is the same test (more
/// attempts), and tests that share a file and groups share those suites.
#[derive(Default)]
pub(crate) struct TestTree {
    /// Each test with its place (an index into `places`; its title is the test's).
    tests: Vec<(u32, Test)>,
    /// Indexes into `tests` by place and title: a key is kept once, its place once for all
    /// the tests there (a place is some hundred bytes, a test of a 200 MB TRX file about a
    /// kilobyte in all).
    by_key: HashTable<usize>,
    /// The file and groups of tests, each once.
    places: Vec<(Option<String>, Vec<String>)>,
    place_index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// For each test, the last document that had it and how many times it had it.
    seen: Vec<(u32, u32)>,
    /// The document being read (see [`next_document`](Self::next_document)).
    document: u32,
}

impl std::fmt::Debug for TestTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTree")
            .field("tests", &self.tests.len())
            .finish()
    }
}

/// A suite being built.
#[derive(Default)]
struct Node {
    suite: Suite,
    children: Vec<usize>,
    by_title: HashMap<String, usize>,
}

impl TestTree {
    /// Starts a new document: the keys met again in it are the same tests again (another run),
    /// while [`distinct`](Self::distinct) makes a repeat within one document a test of its own.
    pub(crate) fn next_document(&mut self) {
        self.document = self.document.wrapping_add(1);
    }

    /// The test of a key, made (with no attempts) when it is new.
    pub(crate) fn test(&mut self, key: Key) -> &mut Test {
        let i = self.index(key);
        &mut self.tests[i].1
    }

    /// The index of a place, if it has one.
    fn find_place(&self, file: Option<&str>, groups: &[String]) -> Option<u32> {
        let hash = self.hasher.hash_one((file, groups));
        self.place_index
            .find(hash, |&p| {
                let (f, g) = &self.places[p as usize];
                f.as_deref() == file && g.as_slice() == groups
            })
            .copied()
    }

    /// The index of a place, given one when new.
    fn place(&mut self, file: Option<String>, groups: Vec<String>) -> u32 {
        if let Some(p) = self.find_place(file.as_deref(), &groups) {
            return p;
        }
        let hash = self.hasher.hash_one((file.as_deref(), groups.as_slice()));
        let p = u32::try_from(self.places.len()).unwrap_or(u32::MAX);
        self.places.push((file, groups));
        let (places, hasher) = (&self.places, &self.hasher);
        self.place_index.insert_unique(hash, p, |&q| {
            let (f, g) = &places[q as usize];
            hasher.hash_one((f.as_deref(), g.as_slice()))
        });
        p
    }

    /// The index of the test of a key.
    fn find(&self, key: &Key) -> Option<usize> {
        let place = self.find_place(key.0.as_deref(), &key.1)?;
        let hash = self.hasher.hash_one((place, key.2.as_str()));
        self.by_key
            .find(hash, |&i| {
                let (p, t) = &self.tests[i];
                *p == place && t.title == key.2
            })
            .copied()
    }

    /// Adds a test new to the tree.
    fn push(&mut self, file: Option<String>, groups: Vec<String>, test: Test, seen: u32) -> usize {
        let place = self.place(file, groups);
        let hash = self.hasher.hash_one((place, test.title.as_str()));
        let i = self.tests.len();
        self.tests.push((place, test));
        self.seen.push((self.document, seen));
        let (tests, hasher) = (&self.tests, &self.hasher);
        self.by_key.insert_unique(hash, i, |&j| {
            let (p, t) = &tests[j];
            hasher.hash_one((*p, t.title.as_str()))
        });
        i
    }

    /// The test of a key in the formats whose documents never hold a rerun as another entry
    /// (Mocha, RSpec, Jest's JSON): the key's `n`th entry in one document is a test of its own,
    /// titled `TITLE #n` (spec/convert-junit.md, "Repeated testcases"), and a key of another
    /// document is the same test again. Made with no attempts when new.
    pub(crate) fn distinct(&mut self, key: Key) -> &mut Test {
        let document = self.document;
        let i = match self.find(&key) {
            Some(i) if self.seen[i].0 == document => {
                self.seen[i].1 += 1;
                let n = self.seen[i].1;
                let (file, groups, title) = key;
                let j = self.index((file, groups, format!("{title} #{n}")));
                if self.seen[j].0 != document {
                    self.seen[j] = (document, 1);
                }
                let (location, tags) = (
                    self.tests[i].1.location.clone(),
                    self.tests[i].1.tags.clone(),
                );
                let t = &mut self.tests[j].1;
                if t.location.is_none() {
                    t.location = location;
                }
                if t.tags.is_none() {
                    t.tags = tags;
                }
                j
            }
            _ => {
                let i = self.index(key);
                self.seen[i] = (document, 1);
                i
            }
        };
        &mut self.tests[i].1
    }

    fn index(&mut self, key: Key) -> usize {
        match self.find(&key) {
            Some(i) => i,
            None => {
                let (file, groups, title) = key;
                self.push(file, groups, Test::new(title), 0)
            }
        }
    }

    /// Adds a test, or, when its key is there already, its attempts (in order), the location
    /// the first lacked and the tags it had not.
    pub(crate) fn add(&mut self, key: Key, test: Test) {
        match self.find(&key) {
            Some(i) => merge(&mut self.tests[i].1, test),
            None => {
                let (file, groups, _) = key;
                self.push(file, groups, test, 1);
            }
        }
    }

    /// [`add`](Self::add) by the rule of [`distinct`](Self::distinct).
    pub(crate) fn add_distinct(&mut self, key: Key, test: Test) {
        merge(self.distinct(key), test);
    }

    /// The suites (a `file` suite per file, holding the group suites) and the tests that have
    /// neither file nor group.
    pub(crate) fn into_suites(self) -> (Vec<Suite>, Vec<Test>) {
        // Node 0 is the report's root.
        let mut nodes: Vec<Node> = vec![Node::default()];
        let mut files: HashMap<String, usize> = HashMap::new();
        let mut root_tests = Vec::new();
        // The node of each place, made when its first test comes (in the order of the tests).
        let mut place_node: Vec<Option<usize>> = vec![None; self.places.len()];
        for (place, test) in self.tests {
            let p = place as usize;
            let (file, groups) = &self.places[p];
            if file.is_none() && groups.is_empty() {
                root_tests.push(test);
                continue;
            }
            let at = match place_node[p] {
                Some(at) => at,
                None => {
                    let mut at = match file {
                        Some(f) => *files.entry(f.clone()).or_insert_with(|| {
                            let mut s = Suite::new(SuiteType::File, f.clone());
                            s.location = Some(Location::new(f.clone(), 0, 0));
                            nodes.push(Node {
                                suite: s,
                                ..Node::default()
                            });
                            let i = nodes.len() - 1;
                            nodes[0].children.push(i);
                            i
                        }),
                        None => 0,
                    };
                    for g in groups {
                        at = match nodes[at].by_title.get(g) {
                            Some(&c) => c,
                            None => {
                                nodes.push(Node {
                                    suite: Suite::new(SuiteType::Suite, g.clone()),
                                    ..Node::default()
                                });
                                let c = nodes.len() - 1;
                                nodes[at].children.push(c);
                                nodes[at].by_title.insert(g.clone(), c);
                                c
                            }
                        };
                    }
                    place_node[p] = Some(at);
                    at
                }
            };
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

/// Adds `test`'s attempts to `t`, and the location `t` lacked and the tags it had not.
fn merge(t: &mut Test, test: Test) {
    crate::extend_attempts(&mut t.attempts, test.attempts);
    if t.location.is_none() {
        t.location = test.location;
    }
    if let Some(tags) = test.tags {
        let mine = t.tags.get_or_insert_with(Vec::new);
        for tag in tags {
            if !mine.contains(&tag) {
                mine.push(tag);
            }
        }
    }
}
