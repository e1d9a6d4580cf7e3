//! The rules the official schema lacks, fed by the streaming walk.

use std::collections::{BTreeMap, HashMap};
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

/// A string kept in [`Semantic::text`]: a report can hold millions of tests, so their titles
/// and files share one buffer instead of an allocation each.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: usize,
    len: u32,
}

/// What the duplicate-test check needs of a test: kept for every test of the report, so small
/// (48 bytes).
#[derive(Debug)]
struct TestInfo {
    /// Title: `text[title_start..title_start + title_len]`.
    title_start: usize,
    offset: usize,
    title_len: u32,
    /// Position in its `tests` array.
    index: u32,
    suite: Option<u32>,
    /// Its location's file, in [`Semantic::files`].
    file: Option<u32>,
    /// The environment of its first attempt; more in [`Semantic::more_envs`].
    env: Option<u32>,
}

impl TestInfo {
    fn title(&self) -> Span {
        Span {
            start: self.title_start,
            len: self.title_len,
        }
    }

    fn suite(&self) -> Option<usize> {
        self.suite.map(|s| s as usize)
    }
}

#[derive(Debug)]
enum Frame {
    Suite(usize),
    Test(usize),
    Attempt { env: Option<u32> },
    Location { file: Option<String> },
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
    tests: Vec<TestInfo>,
    /// Titles and files of the tests.
    text: String,
    /// Files of the tests' locations (consecutive tests naming the same file share one).
    files: Vec<Span>,
    /// Path of the report's own `tests` array, set with its first test.
    root_tests_path: Option<String>,
    /// (test, environment) of the attempts of a test in another environment than its first
    /// attempt's, in the order they end (a test's repeats next to each other are kept once).
    more_envs: Vec<(u32, u32)>,
    frames: Vec<Frame>,
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
                    title_start: 0,
                    offset,
                    title_len: 0,
                    index,
                    suite: suite.and_then(|s| u32::try_from(s).ok()),
                    file: None,
                    env: None,
                });
                Frame::Test(self.tests.len() - 1)
            }
            Role::Location => Frame::Location { file: None },
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
        match self.frames.pop() {
            Some(Frame::Location { file: Some(file) }) => match self.frames.last() {
                Some(&Frame::Test(i)) => {
                    let same = self.files.last().is_some_and(|&f| self.get(f) == file);
                    if !same {
                        let span = Self::keep(&mut self.text, &file);
                        self.files.push(span);
                    }
                    self.tests[i].file = u32::try_from(self.files.len() - 1).ok();
                }
                Some(Frame::Suite(i)) => self.suites[*i].file = Some(file),
                _ => {}
            },
            Some(Frame::Attempt { env }) => {
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
            _ => {}
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
                    let span = Self::keep(&mut self.text, s);
                    let t = &mut self.tests[i];
                    (t.title_start, t.title_len) = (span.start, span.len);
                }
                Some(Frame::Suite(i)) => self.suites[*i].title = s.to_string(),
                _ => {}
            },
            Role::SuiteType => {
                if let Some(Frame::Suite(i)) = self.frames.last() {
                    self.suites[*i].is_file = s == "file";
                }
            }
            Role::LocationFile => {
                if let Some(Frame::Location { file }) = self.frames.last_mut() {
                    *file = Some(s.to_string());
                }
            }
            _ => {}
        }
    }

    /// Appends `s` to `text`.
    fn keep(text: &mut String, s: &str) -> Span {
        let start = text.len();
        // Longer strings (over 4 GiB) keep their first 4 GiB: more than any title.
        let mut end = start + s.len().min(u32::MAX as usize);
        text.push_str(s);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Span {
            start,
            len: (end - start) as u32,
        }
    }

    fn get(&self, span: Span) -> &str {
        &self.text[span.start..span.start + span.len as usize]
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
        // The other environments of each test, in the order its attempts ended, each once.
        let mut more_envs = std::mem::take(&mut self.more_envs);
        more_envs.sort_by_key(|&(test, _)| test);
        // Suite paths interned: (parent path, title) → id; 0 is the empty path. Parents come
        // before their children in `suites`.
        let mut path_ids: HashMap<(u32, &str), u32> = HashMap::new();
        let mut suite_path: Vec<u32> = Vec::with_capacity(self.suites.len());
        let mut suite_file: Vec<Option<&str>> = Vec::with_capacity(self.suites.len());
        for s in &self.suites {
            let (parent_path, parent_file) = match s.parent {
                Some(p) => (suite_path[p], suite_file[p]),
                None => (0, None),
            };
            // File suites and anonymous suites (empty title) are not part of the suite path.
            if s.is_file {
                suite_path.push(parent_path);
                suite_file.push(Some(s.file.as_deref().unwrap_or(&s.title)));
            } else if s.title.is_empty() {
                suite_path.push(parent_path);
                suite_file.push(parent_file);
            } else {
                let next = path_ids.len() as u32 + 1;
                suite_path.push(
                    *path_ids
                        .entry((parent_path, s.title.as_str()))
                        .or_insert(next),
                );
                suite_file.push(parent_file);
            }
        }
        let key = |i: usize| {
            let t = &self.tests[i];
            let file = t
                .file
                .map(|f| self.get(self.files[f as usize]))
                .or_else(|| t.suite().and_then(|s| suite_file[s]));
            let path = t.suite().map_or(0, |s| suite_path[s]);
            (file, path, self.get(t.title()))
        };
        // One entry per test and environment it ran in: the first test seen with that identity
        // in that environment, with its hash (never recomputed when the table grows).
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut seen: hashbrown::HashTable<(usize, u32, u64)> =
            hashbrown::HashTable::with_capacity(self.tests.len());
        let mut more = more_envs.as_slice();
        let mut envs: Vec<u32> = Vec::new();
        for i in 0..self.tests.len() {
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
                let hash = hasher.hash_one((k, env));
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
    }
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
