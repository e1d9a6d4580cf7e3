//! A file read ahead on a thread of its own.
//!
//! Reading a large input with `read(2)` copies it from the page cache on the reading thread,
//! which is the busier of `convert`'s two (it parses); here a second thread does the reads, a
//! few blocks ahead, and the parser takes whole blocks. Blocks go back to the reading thread to
//! be filled again: at most [`BLOCKS`] blocks of [`BLOCK`] bytes exist.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes read at a time.
pub const BLOCK: usize = 1 << 20;
/// Blocks in flight (being filled, waiting, being parsed).
const BLOCKS: usize = 4;

/// Files smaller than this are read on the caller's thread: a thread of its own costs more
/// than it saves.
pub const MIN_FILE: u64 = 8 << 20;

/// A [`BufRead`] over a file read ahead by another thread.
pub struct Prefetch {
    /// Filled blocks (an error ends the stream).
    full: Option<Receiver<io::Result<Vec<u8>>>>,
    /// Blocks handed back to be filled again.
    empty: Option<SyncSender<Vec<u8>>>,
    block: Vec<u8>,
    pos: usize,
    done: bool,
    thread: Option<JoinHandle<()>>,
}

impl Prefetch {
    /// Starts reading `file` ahead.
    pub fn new(mut file: File) -> io::Result<Self> {
        let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(BLOCKS);
        let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BLOCKS);
        let thread = std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || {
                let mut spare = 1;
                loop {
                    // A block handed back, or a new one while fewer than BLOCKS exist.
                    let mut block = match empty_rx.try_recv() {
                        Ok(b) => b,
                        Err(_) if spare < BLOCKS => {
                            spare += 1;
                            Vec::with_capacity(BLOCK)
                        }
                        Err(_) => match empty_rx.recv() {
                            Ok(b) => b,
                            // The reader is gone.
                            Err(_) => return,
                        },
                    };
                    block.clear();
                    let filled = fill(&mut file, &mut block);
                    let end = matches!(&filled, Ok(0) | Err(_));
                    let sent = match filled {
                        Ok(0) => Ok(Vec::new()),
                        Ok(_) => Ok(block),
                        Err(e) => Err(e),
                    };
                    if full_tx.send(sent).is_err() || end {
                        return;
                    }
                }
            })?;
        Ok(Prefetch {
            full: Some(full_rx),
            empty: Some(empty_tx),
            block: Vec::new(),
            pos: 0,
            done: false,
            thread: Some(thread),
        })
    }
}

/// Reads into `block` up to its capacity ([`BLOCK`]) or the end of the file; the bytes read.
fn fill(file: &mut File, block: &mut Vec<u8>) -> io::Result<usize> {
    let mut limited = file.take(BLOCK as u64);
    loop {
        match limited.read_to_end(block) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.block.len() && !self.done {
            let next = match self.full.as_ref().map(Receiver::recv) {
                Some(Ok(next)) => next,
                // The reading thread ended without a word: only after the end.
                Some(Err(_)) | None => Ok(Vec::new()),
            };
            let block = match next {
                Ok(b) => b,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            let old = std::mem::replace(&mut self.block, block);
            self.pos = 0;
            if self.block.is_empty() {
                self.done = true;
            }
            if let (true, Some(empty)) = (old.capacity() > 0, &self.empty) {
                // The reading thread may have ended: the block is then dropped here.
                let _ = empty.try_send(old);
            }
        }
        Ok(self.block.get(self.pos..).unwrap_or(&[]))
    }

    fn consume(&mut self, amount: usize) {
        self.pos = self.pos.saturating_add(amount).min(self.block.len());
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // Closing both channels stops the reading thread: at its next send, or while it waits
        // for a block.
        self.full = None;
        self.empty = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_file_whole_in_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(&path, &data).expect("write");
            let mut p = Prefetch::new(File::open(&path).expect("open")).expect("start");
            let mut back = Vec::new();
            // Small reads across block boundaries, then the rest.
            let mut small = [0u8; 1000];
            let n = p.read(&mut small).expect("read");
            back.extend_from_slice(&small[..n]);
            p.read_to_end(&mut back).expect("read");
            assert_eq!(back.len(), data.len(), "{len}");
            assert!(back == data, "{len}: same bytes");
            assert!(p.fill_buf().expect("at the end").is_empty());
        }
    }

    #[test]
    fn dropped_early_it_stops_reading() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 20 * BLOCK]).expect("write");
        let mut p = Prefetch::new(File::open(&path).expect("open")).expect("start");
        assert_eq!(p.fill_buf().expect("first").len(), BLOCK);
        // Drop joins the reading thread: this returns only once it stopped.
        drop(p);
    }
}
