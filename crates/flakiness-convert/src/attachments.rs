//! Files an input refers to that become attachments, and warnings converters raise without
//! failing.

use std::path::PathBuf;

/// A file to copy into the report's `attachments/` folder under `id` (the MD5 of its content,
/// computed while the converter read the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentSource {
    /// The attachment id the report refers to.
    pub id: String,
    /// The file to copy.
    pub path: PathBuf,
}

/// Something odd in an input that did not stop the conversion (a missing attachment file…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertWarning {
    /// The input (path or `-`).
    pub input: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// What is odd.
    pub message: String,
}

impl std::fmt::Display for ConvertWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.input, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.input, self.message)
        }
    }
}

/// What became of a path an input gives as an attachment.
#[derive(Debug)]
pub(crate) enum Resolved {
    /// The file exists inside the allowed folder: the attachment to refer to, and the file.
    Found(flakiness_report::Attachment, PathBuf),
    /// No such file (or not a readable regular file): why.
    Missing(String),
    /// The path leads outside the input's folder: why.
    Outside(String),
}

/// The folder attachment paths of one input are relative to (the input's own folder; the
/// current directory for standard input), and where they may lead.
#[derive(Debug)]
pub(crate) struct AttachmentFolder {
    base: PathBuf,
    /// The base with links resolved, computed on first use (`None` when it cannot be).
    canonical: Option<Option<PathBuf>>,
    allow_outside: bool,
}

impl AttachmentFolder {
    /// The folder of the input `name` (a path, or `-` for standard input).
    pub(crate) fn of_input(name: &str, allow_outside: bool) -> Self {
        let base = match std::path::Path::new(name).parent() {
            Some(p) if name != "-" && !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        AttachmentFolder {
            base,
            canonical: None,
            allow_outside,
        }
    }

    /// The folder `base`, for inputs whose paths are relative to a directory other than their
    /// own (pytest's: the directory pytest ran in).
    pub(crate) fn at(base: PathBuf, allow_outside: bool) -> Self {
        AttachmentFolder {
            base,
            canonical: None,
            allow_outside,
        }
    }

    /// Resolves `raw` (absolute, or relative to the folder), refusing paths outside the folder
    /// unless allowed, and hashes the file (streamed, never held whole). `hashed` caches ids
    /// by resolved path across inputs.
    pub(crate) fn resolve(
        &mut self,
        raw: &str,
        hashed: &mut std::collections::HashMap<PathBuf, String>,
    ) -> Resolved {
        use std::path::Path;
        let raw = raw.trim();
        if raw.is_empty() {
            return Resolved::Missing("attachment with an empty path".into());
        }
        let given = Path::new(raw);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.base.join(given)
        };
        if !self.allow_outside {
            let base =
                lexical(&std::path::absolute(&self.base).unwrap_or_else(|_| self.base.clone()));
            let target = lexical(&std::path::absolute(&joined).unwrap_or_else(|_| joined.clone()));
            if !target.starts_with(&base) {
                return Resolved::Outside(self.outside_message(raw));
            }
        }
        let canonical = match std::fs::canonicalize(&joined) {
            Ok(c) => c,
            Err(e) => {
                return Resolved::Missing(format!(
                    "attachment {raw:?} not found ({}: {e})",
                    joined.display()
                ))
            }
        };
        if !self.allow_outside {
            let base = self
                .canonical
                .get_or_insert_with(|| std::fs::canonicalize(&self.base).ok());
            if !base.as_ref().is_some_and(|b| canonical.starts_with(b)) {
                return Resolved::Outside(self.outside_message(raw));
            }
        }
        match std::fs::metadata(&canonical) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Resolved::Missing(format!(
                    "attachment {raw:?} is not a regular file ({})",
                    canonical.display()
                ))
            }
            Err(e) => {
                return Resolved::Missing(format!(
                    "attachment {raw:?} cannot be read ({}: {e})",
                    canonical.display()
                ))
            }
        }
        let id = match hashed.get(&canonical) {
            Some(id) => id.clone(),
            None => match md5_of_file(&canonical) {
                Ok(id) => {
                    hashed.insert(canonical.clone(), id.clone());
                    id
                }
                Err(e) => {
                    return Resolved::Missing(format!(
                        "attachment {raw:?} cannot be read ({}: {e})",
                        canonical.display()
                    ))
                }
            },
        };
        let name = given
            .file_name()
            .map_or_else(|| raw.to_string(), |n| n.to_string_lossy().into_owned());
        let attachment = flakiness_report::Attachment {
            content_type: content_type_for(&name).to_string(),
            name,
            id,
            ..Default::default()
        };
        Resolved::Found(attachment, canonical)
    }

    fn outside_message(&self, raw: &str) -> String {
        format!(
            "attachment {raw:?} is outside the folder of the input ({}): refused (allow it with --allow-outside-attachments)",
            self.base.display()
        )
    }
}

/// `.` and `..` folded without touching the file system.
fn lexical(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The MD5 of a file's content in lowercase hex, read in pieces.
fn md5_of_file(path: &std::path::Path) -> std::io::Result<String> {
    use md5::{Digest, Md5};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The MIME type of a file, from its extension.
pub(crate) fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "txt" | "log" => "text/plain",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "webm" => "video/webm",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// Turns the annotations whose type starts with `attachment` (any case; pytest's
/// `record_property("attachment", path)` and `user_properties`) into attachments of their
/// attempt. Paths are relative to `base` (the directory the runner ran in) and may not lead
/// outside it unless `allow_outside`; a missing file is a warning and its annotation stays.
/// Returns the files to copy and the warnings.
pub fn attachments_from_annotations(
    report: &mut flakiness_report::Report,
    input: &str,
    base: &std::path::Path,
    allow_outside: bool,
) -> Result<(Vec<AttachmentSource>, Vec<ConvertWarning>), crate::ConvertError> {
    let mut folder = AttachmentFolder::at(base.to_path_buf(), allow_outside);
    let mut hashed = std::collections::HashMap::new();
    let mut sources: Vec<AttachmentSource> = Vec::new();
    let mut warnings = Vec::new();
    let mut failure: Option<crate::ConvertError> = None;
    let mut visit = |test: &mut flakiness_report::Test| {
        for attempt in &mut test.attempts {
            let Some(annotations) = attempt.annotations.take() else {
                continue;
            };
            let mut kept = Vec::with_capacity(annotations.len());
            for an in annotations {
                let path = an
                    .description
                    .as_deref()
                    .filter(|_| an.kind.to_ascii_lowercase().starts_with("attachment"));
                let Some(path) = path else {
                    kept.push(an);
                    continue;
                };
                match folder.resolve(path, &mut hashed) {
                    Resolved::Found(a, file) => {
                        if !sources.iter().any(|s| s.id == a.id) {
                            sources.push(AttachmentSource {
                                id: a.id.clone(),
                                path: file,
                            });
                        }
                        let list = attempt.attachments.get_or_insert_with(Vec::new);
                        if !list.iter().any(|x| x.id == a.id) {
                            list.push(a);
                        }
                    }
                    Resolved::Missing(message) => {
                        warnings.push(ConvertWarning {
                            input: input.to_string(),
                            line: 0,
                            message: format!("test {:?}: {message}", test.title),
                        });
                        kept.push(an);
                    }
                    Resolved::Outside(message) => {
                        failure.get_or_insert_with(|| crate::ConvertError {
                            input: input.to_string(),
                            line: 0,
                            column: 0,
                            offset: 0,
                            message: format!("test {:?}: {message}", test.title),
                        });
                        kept.push(an);
                    }
                }
            }
            attempt.annotations = (!kept.is_empty()).then_some(kept);
        }
    };
    fn walk(
        suites: &mut [flakiness_report::Suite],
        f: &mut dyn FnMut(&mut flakiness_report::Test),
    ) {
        for s in suites {
            for t in s.tests.iter_mut().flatten() {
                f(t);
            }
            if let Some(children) = &mut s.suites {
                walk(children, f);
            }
        }
    }
    for t in report.tests.iter_mut().flatten() {
        visit(t);
    }
    if let Some(suites) = &mut report.suites {
        walk(suites, &mut visit);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok((sources, warnings)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type_for("shot.PNG"), "image/png");
        assert_eq!(content_type_for("a.b.log"), "text/plain");
        assert_eq!(content_type_for("trace.zip"), "application/zip");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
    }

    #[test]
    fn folders_of_inputs() {
        assert_eq!(
            AttachmentFolder::of_input("-", false).base,
            PathBuf::from(".")
        );
        assert_eq!(
            AttachmentFolder::of_input("x.xml", false).base,
            PathBuf::from(".")
        );
        assert_eq!(
            AttachmentFolder::of_input("out/junit/x.xml", false).base,
            PathBuf::from("out/junit")
        );
    }

    #[test]
    fn paths_fold_lexically() {
        assert_eq!(
            lexical(std::path::Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(
            lexical(std::path::Path::new("/a/../../x")),
            PathBuf::from("/x")
        );
        assert_eq!(
            lexical(std::path::Path::new("a/../../b/./c")),
            PathBuf::from("../b/c")
        );
    }
}
