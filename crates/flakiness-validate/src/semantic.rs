//! The rules the official schema lacks, fed by the streaming walk.

use std::collections::{BTreeMap, HashMap};

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
}

#[derive(Debug)]
struct TestInfo {
    suite: Option<usize>,
    title: String,
    file: Option<String>,
    envs: Vec<u32>,
    offset: usize,
    path: String,
}

#[derive(Debug)]
enum Frame {
    Suite(usize),
    Test(usize),
    Attempt { env: Option<u32> },
    Location { file: Option<String> },
    Other,
}

/// First place an attachment id is referenced.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub offset: usize,
    pub path: String,
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
    frames: Vec<Frame>,
}

fn err(sink: &mut Sink, rule: &'static str, offset: usize, path: &[Seg<'_>], msg: String) {
    sink.push(Severity::Error, rule, offset, || path_string(path), || msg);
}

impl Semantic {
    pub fn environments(&mut self, n: usize, offset: usize, path: &[Seg<'_>], sink: &mut Sink) {
        self.env_count = Some(n);
        if n == 0 {
            err(
                sink,
                rules::ENVIRONMENTS_EMPTY,
                offset,
                path,
                "a report needs at least one environment".into(),
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
        if idx.fract() == 0.0 && idx >= 0.0 && idx >= n as f64 {
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
                });
                Frame::Suite(self.suites.len() - 1)
            }
            Role::Test => {
                self.tests.push(TestInfo {
                    suite: self.nearest_suite(),
                    title: String::new(),
                    file: None,
                    envs: Vec::new(),
                    offset,
                    path: path_string(path),
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
                Some(Frame::Test(i)) => self.tests[*i].file = Some(file),
                Some(Frame::Suite(i)) => self.suites[*i].file = Some(file),
                _ => {}
            },
            Some(Frame::Attempt { env }) => {
                if let Some(Frame::Test(i)) = self.frames.last() {
                    let envs = &mut self.tests[*i].envs;
                    let e = env.unwrap_or(0);
                    if !envs.contains(&e) {
                        envs.push(e);
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
            Role::CommitId if s.len() == 40 && !s.bytes().all(|b| b.is_ascii_hexdigit()) => {
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
                        self.attachments.insert(
                            s.to_string(),
                            Reference {
                                offset,
                                path: path_string(path),
                            },
                        );
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
                Some(Frame::Test(i)) => self.tests[*i].title = s.to_string(),
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

    /// Checks that need the whole report: pending environment indexes, duplicate tests.
    pub fn finish(&mut self, sink: &mut Sink) {
        // environmentIdx seen but `environments` never was: the schema already reports it.
        self.pending_env.clear();
        let mut seen: HashMap<(Option<&str>, Vec<&str>, &str), usize> = HashMap::new();
        for (i, t) in self.tests.iter().enumerate() {
            let mut suite_path = Vec::new();
            let mut file = t.file.as_deref();
            let mut cur = t.suite;
            while let Some(s) = cur {
                let suite = &self.suites[s];
                if suite.is_file {
                    if file.is_none() {
                        file = Some(suite.file.as_deref().unwrap_or(&suite.title));
                    }
                } else {
                    suite_path.push(suite.title.as_str());
                }
                cur = suite.parent;
            }
            suite_path.reverse();
            let key = (file, suite_path, t.title.as_str());
            match seen.get(&key) {
                None => {
                    seen.insert(key, i);
                }
                Some(&first) => {
                    let other = &self.tests[first];
                    if let Some(env) = t.envs.iter().find(|e| other.envs.contains(e)) {
                        let message = format!(
                            "duplicate test: same file, suite path and title as {} in environment {env}",
                            other.path
                        );
                        sink.push(
                            Severity::Warning,
                            rules::DUPLICATE_TEST,
                            t.offset,
                            || t.path.clone(),
                            || message,
                        );
                    }
                }
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
