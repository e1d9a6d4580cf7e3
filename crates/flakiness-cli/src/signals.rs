//! Temporary output removed when the process is stopped by a signal (SIGINT, SIGTERM,
//! SIGHUP): an interrupted `convert` leaves no `.OUT.tmp-…` directory behind. (A `kill -9`
//! cannot be caught: the next writer of the same output removes what it left.)

use std::path::PathBuf;
use std::sync::{Mutex, Once};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALLED: Once = Once::new();

/// A directory removed if a signal stops the process while this lives.
#[derive(Debug)]
pub struct RemovedOnSignal(PathBuf);

impl Drop for RemovedOnSignal {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|p| p != &self.0);
    }
}

/// Registers `dir` for removal on SIGINT, SIGTERM or SIGHUP (the process then exits with 128 +
/// the signal's number, as a shell reports it).
pub fn remove_on_signal(dir: PathBuf) -> RemovedOnSignal {
    #[cfg(unix)]
    INSTALLED.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
                    for dir in pending.iter() {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                    std::process::exit(128 + signal);
                }
            });
        }
    });
    #[cfg(not(unix))]
    INSTALLED.call_once(|| {});
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.clone());
    RemovedOnSignal(dir)
}
