//! The rules the official schema lacks, fed by the streaming walk.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::compile::Role;
use crate::problem::{rules, Severity, Sink};
use crate::stream::{path_string, Seg};

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug)]
struct SuiteInfo {
    parent: Option<usize>,
    title: String,
    is_file: bool,
    file: Option<String>,
    /// Path of the suite's `tests` array (`suites[0].tests`), set with its first test.
    tests_path: Option<String>,
}

/// A string kept in [`Texts`]: `len` bytes from `start` in chunk `chunk`.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    chunk: u32,
    start: u32,
    len: u32,
}

/// The titles and files of the tests: a report can hold millions of tests, so they share a few
/// large buffers instead of an allocation each. The buffers are chunks that are never moved
/// (a string that does not fit in the last one starts another): one buffer would be copied
/// to a new allocation, and its memory faulted in again, at each doubling.
#[derive(Debug, Default)]
struct Texts {
    chunks: Vec<String>,
}

/// The size of a chunk of [`Texts`] (a longer string has a chunk of its own).
const TEXT_CHUNK: usize = 1 << 20;

impl Texts {
    /// Keeps `s`; longer strings (over 4 GiB) keep their first 4 GiB: more than any title.
    fn keep(&mut self, s: &str) -> Span {
        let mut end = s.len().min(u32::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let s = &s[..end];
        let fits = self
            .chunks
            .last()
            .is_some_and(|last| last.capacity() - last.len() >= s.len());
        if !fits {
            self.chunks
                .push(String::with_capacity(s.len().max(TEXT_CHUNK)));
        }
        let chunk = self.chunks.len() - 1;
        let buf = &mut self.chunks[chunk];
        // A chunk holds at most 4 GiB: `TEXT_CHUNK`, or one string of at most 4 GiB.
        let start = buf.len() as u32;
        buf.push_str(s);
        Span {
            chunk: chunk as u32,
            start,
            len: s.len() as u32,
        }
    }

    fn get(&self, span: Span) -> &str {
        let (start, len) = (span.start as usize, span.len as usize);
        self.chunks
            .get(span.chunk as usize)
            .and_then(|c| c.get(start..start + len))
            .unwrap_or_default()
    }
}

/// A list that grows a chunk of [`CHUNK`] items at a time (the first by doubling, as a `Vec`):
/// it holds an item for each test of a report, millions of them, that one `Vec` would copy to
/// a new allocation, its memory faulted in again, at each doubling.
#[derive(Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

const CHUNK: usize = 1 << 14;

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(if self.chunks.is_empty() { 0 } else { CHUNK });
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// What the duplicate-test check needs of a test: kept for every test of the report, so small
/// (48 bytes).
#[derive(Debug)]
struct TestInfo {
    /// Title, in [`Semantic::text`].
    title: Span,
    offset: usize,
    /// Position in its `tests` array.
    index: u32,
    suite: Option<u32>,
    /// Its location's file, in [`Semantic::files`].
    file: Option<u32>,
    /// The environment of its first attempt; more in [`Semantic::more_envs`].
    env: Option<u32>,
}

impl TestInfo {
    fn suite(&self) -> Option<usize> {
        self.suite.map(|s| s as usize)
    }
}

#[derive(Debug)]
enum Frame {
    Suite(usize),
    Test(usize),
    Attempt { env: Option<u32> },
    Location,
    Other,
}

/// First place an attachment id is referenced: the offset of the id's value (its JSON path is
/// found again from the offset, for the rare message that needs it).
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub offset: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Semantic {
    env_count: Option<usize>,
    /// `environmentIdx` values seen before `environments`: (value, offset, path).
    pending_env: Vec<(f64, usize, String)>,
    /// Referenced attachment ids, sorted, with their first reference.
    pub attachments: BTreeMap<String, Reference>,
    suites: Vec<SuiteInfo>,
    tests: Chunked<TestInfo>,
    /// Titles and files of the tests.
    text: Texts,
    /// Files of the tests' locations (consecutive tests naming the same file share one).
    files: Vec<Span>,
    /// Path of the report's own `tests` array, set with its first test.
    root_tests_path: Option<String>,
    /// (test, environment) of the attempts of a test in another environment than its first
    /// attempt's, in the order they end (a test's repeats next to each other are kept once).
    more_envs: Vec<(u32, u32)>,
    frames: Vec<Frame>,
    dups: Dups,
}

fn err(sink: &mut Sink, rule: &'static str, offset: usize, path: &[Seg<'_>], msg: String) {
    sink.push(Severity::Error, rule, offset, || path_string(path), || msg);
}

impl Semantic {
    pub fn environments(&mut self, n: usize, offset: usize, path: &[Seg<'_>], sink: &mut Sink) {
        self.env_count = Some(n);
        if n == 0 {
            sink.push(
                Severity::Warning,
                rules::ENVIRONMENTS_EMPTY,
                offset,
                || path_string(path),
                || {
                    "the report lists no environment (allowed since format 0.33): its attempts \
                     cannot say where they ran"
                        .into()
                },
            );
        }
        for (idx, offset, path) in std::mem::take(&mut self.pending_env) {
            Self::check_env(idx, n, offset, sink, || path);
        }
    }

    fn check_env(
        idx: f64,
        n: usize,
        offset: usize,
        sink: &mut Sink,
        path: impl FnOnce() -> String,
    ) {
        // With no environment at all, index 0 (the default) is what `environments-empty` warns
        // about; any other index points nowhere.
        if idx.fract() == 0.0 && idx >= 0.0 && idx >= n.max(1) as f64 {
            sink.push(
                Severity::Error,
                rules::ENVIRONMENT_IDX_RANGE,
                offset,
                path,
                || {
                    format!(
                        "environmentIdx {idx} is out of range: the report has {n} environment(s)"
                    )
                },
            );
        }
    }

    pub fn environment_idx(&mut self, idx: f64, offset: usize, path: &[Seg<'_>], sink: &mut Sink) {
        match self.env_count {
            Some(n) => Self::check_env(idx, n, offset, sink, || path_string(path)),
            None => self.pending_env.push((idx, offset, path_string(path))),
        }
        if let Some(Frame::Attempt { env }) = self.frames.last_mut() {
            if idx.fract() == 0.0 && idx >= 0.0 && idx <= u32::MAX as f64 {
                *env = Some(idx as u32);
            }
        }
    }

    fn nearest_suite(&self) -> Option<usize> {
        self.frames.iter().rev().find_map(|f| match f {
            Frame::Suite(i) => Some(*i),
            _ => None,
        })
    }

    pub fn object_start(&mut self, role: Role, offset: usize, path: &[Seg<'_>]) {
        let frame = match role {
            Role::Suite => {
                self.suites.push(SuiteInfo {
                    parent: self.nearest_suite(),
                    title: String::new(),
                    is_file: false,
                    file: None,
                    tests_path: None,
                });
                Frame::Suite(self.suites.len() - 1)
            }
            Role::Test => {
                let suite = self.nearest_suite();
                // The path of the array holding the test, once per array.
                let holder = match suite {
                    Some(i) => &mut self.suites[i].tests_path,
                    None => &mut self.root_tests_path,
                };
                if holder.is_none() {
                    *holder = Some(path_string(&path[..path.len().saturating_sub(1)]));
                }
                let index = match path.last() {
                    Some(Seg::Index(i)) => u32::try_from(*i).unwrap_or(u32::MAX),
                    _ => 0,
                };
                self.tests.push(TestInfo {
                    title: Span::default(),
                    offset,
                    index,
                    suite: suite.and_then(|s| u32::try_from(s).ok()),
                    file: None,
                    env: None,
                });
                Frame::Test(self.tests.len() - 1)
            }
            Role::Location => Frame::Location,
            _ if self
                .frames
                .last()
                .is_some_and(|f| matches!(f, Frame::Test(_))) =>
            {
                // Objects directly inside a test are its attempts (or its location, above).
                Frame::Attempt { env: None }
            }
            _ => Frame::Other,
        };
        self.frames.push(frame);
    }

    pub fn object_end(
        &mut self,
        role: Role,
        text_and_buffer: bool,
        offset: usize,
        path: &[Seg<'_>],
        sink: &mut Sink,
    ) {
        if text_and_buffer {
            err(
                sink,
                rules::STDIO_TEXT_AND_BUFFER,
                offset,
                path,
                "an output entry must have exactly one of `text` and `buffer`, not both".into(),
            );
        }
        let _ = role;
        // Of the frames, only an attempt's tells something when it ends (a location's file is
        // taken as it is read).
        let frame = self.frames.pop();
        if let Some(Frame::Suite(i)) = frame {
            // A root suite ended: nothing in it or before it changes any more.
            if self.suites[i].parent.is_none() {
                self.find_duplicates(sink);
            }
        }
        if let Some(Frame::Attempt { env }) = frame {
            if let Some(&Frame::Test(i)) = self.frames.last() {
                let e = env.unwrap_or(0);
                let test = &mut self.tests[i];
                match test.env {
                    None => test.env = Some(e),
                    Some(first) if first == e => {}
                    Some(_) => {
                        let pair = (u32::try_from(i).unwrap_or(u32::MAX), e);
                        if self.more_envs.last() != Some(&pair) {
                            self.more_envs.push(pair);
                        }
                    }
                }
            }
        }
    }

    /// Whether [`string`](Self::string) needs the value of a string with this role now.
    pub fn wants(&self, role: Role) -> bool {
        match role {
            Role::None => false,
            // Only the file of a test's or a suite's own location identifies the test.
            Role::LocationFile => matches!(
                self.frames
                    .len()
                    .checked_sub(2)
                    .and_then(|i| self.frames.get(i)),
                Some(Frame::Test(_) | Frame::Suite(_))
            ),
            _ => true,
        }
    }

    pub fn string(
        &mut self,
        role: Role,
        s: &str,
        offset: usize,
        path: &[Seg<'_>],
        sink: &mut Sink,
        scratch: &mut Vec<u8>,
    ) {
        match role {
            Role::CommitId
                if crate::stream::utf16_len(s) == 40
                    && !s.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                err(
                    sink,
                    rules::COMMIT_ID_HEX,
                    offset,
                    path,
                    format!(
                        "commit id {:?} is not 40 hexadecimal characters",
                        shorten(s)
                    ),
                );
            }
            Role::AttachmentId => match flakiness_report::check_attachment_id(s) {
                Err(reason) => err(
                    sink,
                    rules::ATTACHMENT_ID_UNSAFE,
                    offset,
                    path,
                    format!(
                        "attachment id {:?} is not safe as a file name: it {reason}",
                        shorten(s)
                    ),
                ),
                Ok(()) => {
                    if !self.attachments.contains_key(s) {
                        self.attachments.insert(s.to_string(), Reference { offset });
                    }
                }
            },
            Role::StdioBuffer => {
                scratch.clear();
                if BASE64.decode_vec(s, scratch).is_err() {
                    let shown = shorten(s);
                    err(
                        sink,
                        rules::STDIO_BASE64,
                        offset,
                        path,
                        format!("buffer is not valid base64: {shown:?}"),
                    );
                }
            }
            Role::Title => match self.frames.last() {
                Some(&Frame::Test(i)) => {
                    self.tests[i].title = self.text.keep(s);
                }
                Some(Frame::Suite(i)) => self.suites[*i].title = s.to_string(),
                _ => {}
            },
            Role::SuiteType => {
                if let Some(Frame::Suite(i)) = self.frames.last() {
                    self.suites[*i].is_file = s == "file";
                }
            }
            // The file of a test's or a suite's own location, kept as it is read (a test's is
            // compared with the last one kept instead of being copied first).
            Role::LocationFile => match self.frames.as_slice() {
                [.., Frame::Test(i), Frame::Location] => {
                    let i = *i;
                    let same = self.files.last().is_some_and(|&f| self.text.get(f) == s);
                    if !same {
                        let span = self.text.keep(s);
                        self.files.push(span);
                    }
                    self.tests[i].file = u32::try_from(self.files.len() - 1).ok();
                }
                [.., Frame::Suite(i), Frame::Location] => {
                    self.suites[*i].file = Some(s.to_string())
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// The path of a test (`suites[0].tests[3]`), rebuilt for a message.
    fn test_path(&self, test: usize) -> String {
        let t = &self.tests[test];
        let holder = match t.suite() {
            Some(s) => self.suites[s].tests_path.as_deref(),
            None => self.root_tests_path.as_deref(),
        };
        match holder {
            Some("$") | None => format!("[{}]", t.index),
            Some(p) => format!("{p}[{}]", t.index),
        }
    }

    /// Checks that need the whole report: pending environment indexes, duplicate tests.
    ///
    /// A test is identified by its file (its location's, else the nearest file suite's), the
    /// titles of the suites it is in (file suites excepted) and its title.
    pub fn finish(&mut self, sink: &mut Sink) {
        // environmentIdx seen but `environments` never was: the schema already reports it.
        self.pending_env.clear();
        self.find_duplicates(sink);
        self.more_envs.clear();
    }

    /// Checks the tests not checked yet for duplicates (see [`finish`](Self::finish)): run
    /// as each root suite ends, when nothing before it can change any more, so that a large
    /// report is not checked all at once after its last byte.
    fn find_duplicates(&mut self, sink: &mut Sink) {
        let mut d = std::mem::take(&mut self.dups);
        // Suite paths interned: (parent path, title) → id; 0 is the empty path. Parents come
        // before their children in `suites`.
        for i in d.suite_path.len()..self.suites.len() {
            let s = &self.suites[i];
            let (parent_path, parent_file) = match s.parent {
                Some(p) => (d.suite_path[p], d.suite_file[p]),
                None => (0, None),
            };
            // File suites and anonymous suites (empty title) are not part of the suite path.
            if s.is_file {
                d.suite_path.push(parent_path);
                d.suite_file.push(u32::try_from(i).ok());
            } else if s.title.is_empty() {
                d.suite_path.push(parent_path);
                d.suite_file.push(parent_file);
            } else {
                let hash = d.hasher.hash_one((parent_path, s.title.as_str()));
                let suites = &self.suites;
                let id = match d.path_ids.find(hash, |&(p, j, _, h)| {
                    h == hash && p == parent_path && suites[j as usize].title == s.title
                }) {
                    Some(&(_, _, id, _)) => id,
                    None => {
                        let id = d.path_ids.len() as u32 + 1;
                        let entry = (parent_path, i as u32, id, hash);
                        d.path_ids.insert_unique(hash, entry, |&(_, _, _, h)| h);
                        id
                    }
                };
                d.suite_path.push(id);
                d.suite_file.push(parent_file);
            }
        }
        let key = |i: usize| {
            let t = &self.tests[i];
            let file = t
                .file
                .map(|f| self.text.get(self.files[f as usize]))
                .or_else(|| {
                    t.suite().and_then(|s| d.suite_file[s]).map(|f| {
                        let f = &self.suites[f as usize];
                        f.file.as_deref().unwrap_or(&f.title)
                    })
                });
            let path = t.suite().map_or(0, |s| d.suite_path[s]);
            (file, path, self.text.get(t.title))
        };
        // One entry per test and environment it ran in: the first test seen with that identity
        // in that environment, with its hash (never recomputed when the table grows). The
        // other environments of each test come in `more_envs` in the order its attempts
        // ended: tests do not nest, so they are in the order of the tests.
        let mut seen = std::mem::take(&mut d.seen);
        let mut more = &self.more_envs[d.more_done.min(self.more_envs.len())..];
        let mut envs: Vec<u32> = Vec::new();
        for i in d.tests_done..self.tests.len() {
            let k = key(i);
            envs.clear();
            envs.extend(self.tests[i].env);
            let n = more.iter().take_while(|&&(t, _)| t as usize == i).count();
            for &(_, e) in &more[..n] {
                if !envs.contains(&e) {
                    envs.push(e);
                }
            }
            more = &more[n..];
            let mut duplicate: Option<(usize, u32)> = None;
            for &env in &envs {
                let hash = d.hasher.hash_one((k, env));
                match seen.find(hash, |&(j, e, h)| h == hash && e == env && key(j) == k) {
                    Some(&(first, e, _)) => {
                        duplicate.get_or_insert((first, e));
                    }
                    None => {
                        seen.insert_unique(hash, (i, env, hash), |&(_, _, h)| h);
                    }
                }
            }
            if let Some((first, env)) = duplicate {
                let message = format!(
                    "duplicate test: same file, suite path and title as {} in environment {env}",
                    self.test_path(first)
                );
                let path = self.test_path(i);
                sink.push(
                    Severity::Warning,
                    rules::DUPLICATE_TEST,
                    self.tests[i].offset,
                    || path,
                    || message,
                );
            }
        }
        d.more_done = self.more_envs.len() - more.len();
        d.tests_done = self.tests.len();
        d.seen = seen;
        self.dups = d;
    }
}

/// The state of the duplicate check between root suites (see [`Semantic::find_duplicates`]).
#[derive(Debug, Default)]
struct Dups {
    /// The suite path of each suite checked so far.
    suite_path: Vec<u32>,
    /// The file suite whose file (its title when it names none) is the file of the tests
    /// under each suite.
    suite_file: Vec<Option<u32>>,
    /// (parent path, a suite with that title, the path's id, hash).
    path_ids: hashbrown::HashTable<(u32, u32, u32, u64)>,
    /// (first test, environment, hash) of each identity seen.
    seen: hashbrown::HashTable<(usize, u32, u64)>,
    tests_done: usize,
    /// Entries of `more_envs` used.
    more_done: usize,
    hasher: hashbrown::DefaultHashBuilder,
}

/// At most 60 characters of a value, for messages.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(57).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_give_back_what_they_keep_across_chunks() {
        let mut texts = Texts::default();
        let long = "é".repeat(TEXT_CHUNK);
        let strings: Vec<String> = (0..3 * TEXT_CHUNK / 1000)
            .map(|i| format!("{i}:{}", "x".repeat(i % 1000)))
            .chain([String::new(), long, "after".to_string()])
            .collect();
        let spans: Vec<Span> = strings.iter().map(|s| texts.keep(s)).collect();
        assert!(texts.chunks.len() > 3, "{} chunks", texts.chunks.len());
        for (s, span) in strings.iter().zip(spans) {
            assert_eq!(texts.get(span), s);
        }
        assert_eq!(Texts::default().get(Span::default()), "");
    }

    /// The duplicate-test warnings of a report that is otherwise valid.
    fn duplicate_warnings(report: &str) -> Vec<crate::Problem> {
        let v = crate::Validator::new(crate::Options::default()).expect("schema");
        let outcome = v.validate_bytes(report.as_bytes());
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome
            .warnings
            .into_iter()
            .filter(|w| w.rule == rules::DUPLICATE_TEST)
            .collect()
    }

    /// A test of the last chunk of [`Semantic::tests`] that repeats one of the first.
    #[test]
    fn duplicates_are_found_across_chunks() {
        let n = CHUNK + 10;
        let tests: Vec<String> = (0..n)
            .map(|i| {
                let title = if i == n - 1 { 0 } else { i };
                format!(
                    r#"{{"title":"t{title}","location":{{"file":"a.spec.ts","line":1,"column":1}},"attempts":[{{"status":"passed","startTimestamp":1,"duration":2}}]}}"#
                )
            })
            .collect();
        let report = format!(
            r#"{{"category":"junit","commitId":"0123456789abcdef0123456789abcdef01234567","environments":[{{"name":"e"}}],"suites":[{{"type":"file","title":"a.spec.ts","tests":[{}]}}],"startTimestamp":1,"duration":2}}"#,
            tests.join(",")
        );
        let found = duplicate_warnings(&report);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, format!("suites[0].tests[{}]", n - 1));
        assert!(found[0].message.contains("suites[0].tests[0]"), "{found:?}");
    }

    /// The duplicate check runs as each root suite ends: a test repeating one of an earlier
    /// root suite is found, in the report as written and in its typed walk alike, and a test
    /// only looking like one (another file, another suite path) is not.
    #[test]
    fn duplicates_are_found_across_root_suites() {
        let t = |title: &str| {
            format!(
                r#"{{"title":"{title}","attempts":[{{"status":"passed","startTimestamp":1,"duration":2}}]}}"#
            )
        };
        let file = |name: &str, body: &str| format!(r#"{{"type":"file","title":"{name}",{body}}}"#);
        let describe =
            |tests: &str| format!(r#""suites":[{{"type":"suite","title":"d","tests":[{tests}]}}]"#);
        let suites = [
            file("a.spec.ts", &describe(&t("x"))),
            file("b.spec.ts", &describe(&t("x"))),
            file("a.spec.ts", &format!(r#""tests":[{}]"#, t("x"))),
            file("a.spec.ts", &describe(&format!("{},{}", t("y"), t("x")))),
        ];
        let report = format!(
            r#"{{"category":"junit","commitId":"0123456789abcdef0123456789abcdef01234567","environments":[{{"name":"e"}}],"tests":[{}],"suites":[{}],"startTimestamp":1,"duration":2}}"#,
            t("x"),
            suites.join(",")
        );
        let found = duplicate_warnings(&report);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "suites[3].suites[0].tests[1]");
        assert!(
            found[0].message.contains("suites[0].suites[0].tests[0]"),
            "{found:?}"
        );
        // The typed walk of the same report, one root suite at a time.
        let v = crate::Validator::new(crate::Options::default()).expect("schema");
        let parsed: flakiness_report::Report = serde_json::from_str(&report).expect("report");
        let mut incremental = v.incremental();
        for s in parsed.suites.iter().flatten() {
            incremental.suite_value(s);
        }
        let mut rest = parsed.clone();
        rest.suites = None;
        let rest = serde_json::to_string(&rest).expect("rest");
        assert!(!incremental.finish(&rest, None), "the duplicate is found");
    }

    #[test]
    fn chunked_lists_index_across_chunks() {
        let mut list = Chunked::default();
        let n = 3 * CHUNK + 5;
        for i in 0..n {
            list.push(i);
        }
        assert_eq!(list.len(), n);
        assert_eq!(list.chunks.len(), 4);
        list[CHUNK] += n;
        for i in 0..n {
            let expected = if i == CHUNK { i + n } else { i };
            assert_eq!(list[i], expected);
        }
    }
}
