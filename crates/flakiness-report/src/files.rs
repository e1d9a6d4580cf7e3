//! Opening the files reports are read from: regular files only. A FIFO, a socket or a device
//! named `report.json` (or `*.json`) would make a reader wait forever or read without end; it
//! is refused, never waited on.

use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What a file that is not a regular file is, for messages: `a FIFO`, `a socket`, `a device`,
/// `a directory`.
pub fn kind_name(kind: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// The error for a path that is not a regular file.
pub fn not_regular(kind: FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "is {}, not a regular file: only regular files are read",
            kind_name(kind)
        ),
    )
}

/// Opens `path` (following symbolic links) for reading when it is a regular file. The type is
/// checked on the opened file, and on Unix the open itself does not wait (`O_NONBLOCK`: a FIFO
/// with no writer would block it), so nothing swapped in between can make it read something
/// else.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind));
    }
    Ok(file)
}

/// Opens `path` for reading when it is a regular file and its last component is not a
/// symbolic link (`O_NOFOLLOW`, checked on the opened file): what an attachment's file may be.
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    {
        let meta = std::fs::symlink_metadata(path)?;
        if meta.file_type().is_symlink() {
            return Err(symlink_refused());
        }
    }
    let file = match options.open(path) {
        Ok(f) => f,
        // O_NOFOLLOW on a symbolic link.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(symlink_refused()),
        Err(e) => return Err(e),
    };
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind));
    }
    Ok(file)
}

fn symlink_refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "is a symbolic link: attachments are read only from regular files inside attachments/",
    )
}

/// Opens the file of attachment `id` of the report directory `root`: `root/attachments/ID`,
/// where the id is a safe file name (one component), `attachments/` is a real directory (not a
/// symbolic link) and the file is a regular file that is not a symbolic link either. So no
/// reader ever opens a path that resolves outside the report's `attachments/` folder (a link
/// to `/etc/passwd` is refused, as `validate` treats it as missing). Every reader of
/// attachments (`show`, `upload`) opens them through this.
pub fn open_attachment(root: &Path, id: &str) -> io::Result<File> {
    crate::check_attachment_id(id)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let dir = root.join(crate::ATTACHMENTS_DIR);
    let meta = std::fs::symlink_metadata(&dir)?;
    if meta.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "attachments/ is a symbolic link: attachments are read only from inside the report's folder",
        ));
    }
    if !meta.is_dir() {
        return Err(not_regular(meta.file_type()));
    }
    open_no_follow(&dir.join(id))
}

/// Reads the whole of `path` when it is a regular file ([`open_regular`]).
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let size = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_and_directories_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("report.json");
        std::fs::write(&f, b"{}").expect("write");
        assert_eq!(read_regular(&f).expect("read"), b"{}");
        let e = read_regular(dir.path()).expect_err("a directory");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn attachments_open_only_inside_their_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("report");
        let att = root.join("attachments");
        std::fs::create_dir_all(&att).expect("mkdir");
        std::fs::write(att.join("log.txt"), b"ok").expect("write");
        let outside = dir.path().join("secret");
        std::fs::write(&outside, b"secret").expect("write");
        std::os::unix::fs::symlink(&outside, att.join("passwd")).expect("link");
        let mut s = String::new();
        open_attachment(&root, "log.txt")
            .expect("open")
            .read_to_string(&mut s)
            .expect("read");
        assert_eq!(s, "ok");
        let e = open_attachment(&root, "passwd").expect_err("a link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(open_attachment(&root, "../secret").is_err());
        assert!(open_attachment(&root, "missing").is_err());
        // attachments/ itself a link to elsewhere.
        let other = dir.path().join("other");
        std::fs::create_dir_all(other.join("attachments")).expect("mkdir");
        std::os::unix::fs::symlink(dir.path(), other.join("attachments/x")).expect("link");
        let linked = dir.path().join("linked");
        std::fs::create_dir(&linked).expect("mkdir");
        std::os::unix::fs::symlink(dir.path(), linked.join("attachments")).expect("link");
        let e = open_attachment(&linked, "secret").expect_err("linked folder");
        assert!(
            e.to_string().contains("attachments/ is a symbolic link"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("report.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        // No writer: a plain open would wait forever.
        let e = open_regular(&f).expect_err("a FIFO");
        assert!(e.to_string().contains("is a FIFO"), "{e}");
    }
}
