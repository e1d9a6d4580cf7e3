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
