//! Bodies of presigned `PUT`s: decoded as they stream, bounded after decompression, written to
//! a temporary file next to the blobs, fsynced and renamed to their SHA-256 (hex).

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The encodings a `PUT` body may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Brotli,
    Zstd,
}

impl Encoding {
    /// From a `Content-Encoding` header (absent: identity); `None` for others.
    pub(crate) fn parse(header: Option<&str>) -> Option<Encoding> {
        match header.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("identity") => Some(Encoding::Identity),
            Some("br") => Some(Encoding::Brotli),
            Some("zstd") => Some(Encoding::Zstd),
            Some(_) => None,
        }
    }
}

/// Why a body was not stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BlobError {
    #[error("the body is larger than {limit} bytes once decompressed")]
    TooLarge { limit: u64 },
    #[error("the body cannot be decoded: {0}")]
    Corrupt(io::Error),
    #[error("the body could not be read: {0}")]
    Read(io::Error),
    #[error("the blob could not be written: {0}")]
    Write(io::Error),
}

/// Counts the raw bytes read and stops (with an error, noted in `tripped`) beyond `limit`.
struct Bounded<R> {
    inner: R,
    left: u64,
    tripped: Arc<AtomicBool>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.tripped.store(true, Ordering::Relaxed);
            return Err(io::Error::other("raw body too large"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Marks read errors of the raw body (the client went away) apart from decoding errors.
struct Noting<R> {
    inner: R,
    failed: Arc<AtomicBool>,
}

impl<R: Read> Read for Noting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| {
            self.failed.store(true, Ordering::Relaxed);
        })
    }
}

/// A received blob, in its temporary file: its SHA-256 (hex).
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) temp: tempfile::NamedTempFile,
    pub(crate) sha256: String,
}

/// Decodes `raw` into a temporary file in `dir`, hashing it, refusing more than `limit`
/// decoded bytes (and a raw body much larger than that), then fsyncs it.
pub(crate) fn receive(
    raw: impl Read,
    encoding: Encoding,
    limit: u64,
    dir: &Path,
) -> Result<Written, BlobError> {
    let tripped = Arc::new(AtomicBool::new(false));
    let read_failed = Arc::new(AtomicBool::new(false));
    // Compressed data is rarely larger than the original; allow some slack.
    let raw_limit = limit.saturating_add(limit / 8).saturating_add(1 << 20);
    let raw = Bounded {
        inner: Noting {
            inner: raw,
            failed: read_failed.clone(),
        },
        left: raw_limit,
        tripped: tripped.clone(),
    };
    let mut reader: Box<dyn Read> = match encoding {
        Encoding::Identity => Box::new(raw),
        Encoding::Brotli => Box::new(brotli::Decompressor::new(raw, 64 * 1024)),
        Encoding::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(raw).map_err(BlobError::Corrupt)?)
        }
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp")
        .tempfile_in(dir)
        .map_err(BlobError::Write)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(if tripped.load(Ordering::Relaxed) {
                    BlobError::TooLarge { limit }
                } else if read_failed.load(Ordering::Relaxed) {
                    BlobError::Read(e)
                } else {
                    BlobError::Corrupt(e)
                });
            }
        };
        size += n as u64;
        if size > limit {
            return Err(BlobError::TooLarge { limit });
        }
        hasher.update(&buf[..n]);
        temp.write_all(&buf[..n]).map_err(BlobError::Write)?;
    }
    temp.as_file().sync_all().map_err(BlobError::Write)?;
    Ok(Written {
        temp,
        sha256: crate::hex(&hasher.finalize()),
    })
}

/// Renames the temporary file to `<dir>/<sha256>` (atomic; the same content twice is the same
/// file) and syncs the directory.
pub(crate) fn persist(written: Written, dir: &Path) -> io::Result<()> {
    let target = dir.join(&written.sha256);
    written.temp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
